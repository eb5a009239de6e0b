/*
 * Host test of the confined extractor (tools/runtime/extract.c): hostile archives,
 * alone and as layers on top of each other, built here with libarchive's
 * writer and unpacked into a scratch root as the current user. Whatever they
 * do, nothing outside the root may change; ordinary archives (a busybox-like
 * tree) must come out exactly as they went in.
 */
#include "common/ctpool.h"
#include "runtime/extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check.h"

struct global G;

static char top[PATH_MAX / 4]; /* scratch dir: root*, outside, archives */
static char outside[PATH_MAX / 2]; /* what every attack aims at */
static char secret[PATH_MAX];  /* a file in it */
static int nr_roots, nr_archives;

/* ------------------------------------------------------------ archives */

/* An entry: f file (arg: data), d dir, l symlink, h hard link (arg: target), p fifo, c char dev */
struct ent {
	char type;
	const char *name;
	const char *arg;
	mode_t mode;
};

static void add_entry(struct archive *a, const struct ent *t)
{
	struct archive_entry *e = archive_entry_new();
	static const mode_t types[] = { ['f'] = AE_IFREG, ['d'] = AE_IFDIR, ['l'] = AE_IFLNK,
					['p'] = AE_IFIFO, ['c'] = AE_IFCHR, ['h'] = AE_IFREG };
	size_t len = t->type == 'f' && t->arg ? strlen(t->arg) : 0;
	archive_entry_set_pathname(e, t->name);
	archive_entry_set_filetype(e, types[(unsigned char)t->type]);
	archive_entry_set_perm(e, t->mode ? t->mode : (t->type == 'd' ? 0755 : 0644));
	archive_entry_set_uid(e, getuid());
	archive_entry_set_gid(e, getgid());
	archive_entry_set_mtime(e, 1000000000, 0);
	archive_entry_set_size(e, (la_int64_t)len);
	if (t->type == 'l')
		archive_entry_set_symlink(e, t->arg);
	if (t->type == 'h')
		archive_entry_set_hardlink(e, t->arg);
	if (t->type == 'c')
		archive_entry_set_rdev(e, makedev(1, 3));
	if (archive_write_header(a, e) != ARCHIVE_OK)
		fprintf(stderr, "write_header %s: %s\n", t->name, archive_error_string(a));
	if (len && archive_write_data(a, t->arg, len) != (la_ssize_t)len)
		fprintf(stderr, "write_data %s: %s\n", t->name, archive_error_string(a));
	archive_entry_free(e);
}

/* Write the n entries as a pax archive (gzip'ed if gz) named name in top; returns its path. */
static const char *make_archive_named(const char *name, const struct ent *ents, int n, int gz)
{
	static char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", top, name);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gz)
		archive_write_add_filter_gzip(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		fprintf(stderr, "cannot write %s: %s\n", path, archive_error_string(a));
		exit(2);
	}
	for (int i = 0; i < n; i++)
		add_entry(a, &ents[i]);
	archive_write_close(a);
	archive_write_free(a);
	return path;
}

static const char *make_archive(const struct ent *ents, int n)
{
	char name[32];
	snprintf(name, sizeof(name), "layer%d.tar", nr_archives++);
	return make_archive_named(name, ents, n, 0);
}

#define ARCHIVE(...) make_archive((const struct ent[]){ __VA_ARGS__ }, \
				  sizeof((const struct ent[]){ __VA_ARGS__ }) / sizeof(struct ent))

/* ------------------------------------------------------------ roots and the outside */

static int new_root(char *path, size_t len)
{
	snprintf(path, len, "%s/root%d", top, nr_roots++);
	if (mkdir(path, 0755)) {
		perror(path);
		exit(2);
	}
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int extract(int rootfd, const char *archive)
{
	struct extract_opts o = { .flags = geteuid() == 0 ? EXTRACT_OWNER : 0 };
	return extract_file(rootfd, archive, &o, NULL);
}

/* A digest of the outside tree: every path, type, mode, link count, size, mtime and content. */
static unsigned long long fp;

static int fp_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	unsigned long long h = fp * 1099511628211ull;
	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h ^= (unsigned long long)st->st_mode * 31 + st->st_nlink * 7 + (unsigned long long)st->st_size +
	     ((unsigned long long)st->st_mtim.tv_sec << 20) + (unsigned long long)st->st_mtim.tv_nsec;
	if (S_ISREG(st->st_mode)) {
		FILE *in = fopen(path, "r");
		int c;
		while (in && (c = fgetc(in)) != EOF)
			h = (h ^ (unsigned)c) * 1099511628211ull;
		if (in)
			fclose(in);
	}
	fp = h;
	return 0;
}

/* The outside tree and the names in top that are not roots or archives. */
static unsigned long long outside_fingerprint(void)
{
	fp = 14695981039346656037ull;
	nftw(outside, fp_one, 16, FTW_PHYS);
	DIR *d = opendir(top);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strncmp(de->d_name, "root", 4) && !strstr(de->d_name, ".tar"))
			for (const char *p = de->d_name; *p; p++)
				fp = (fp ^ (unsigned char)*p) * 1099511628211ull;
	if (d)
		closedir(d);
	return fp;
}

static void setup(void)
{
	snprintf(top, sizeof(top), "%s/extract-test.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(top)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(outside, sizeof(outside), "%s/outside", top);
	snprintf(secret, sizeof(secret), "%s/secret", outside);
	mkdir(outside, 0750);
	FILE *f = fopen(secret, "w");
	fputs("host secret\n", f);
	fclose(f);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	if (flag == FTW_DP)
		chmod(path, 0700);
	return remove(path);
}

static int chmod_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	if (flag == FTW_D)
		chmod(path, 0700);
	return 0;
}

static void cleanup(void)
{
	if (getenv("TEST_KEEP"))
		return;
	nftw(top, chmod_one, 16, FTW_PHYS);
	nftw(top, rm_one, 16, FTW_PHYS | FTW_DEPTH);
}

/* path relative to root dir r; fstatat without following */
static int lstat_in(const char *r, const char *rel, struct stat *st)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s", r, rel);
	return lstat(p, st);
}

static int file_is(const char *r, const char *rel, const char *want)
{
	char p[PATH_MAX * 2], buf[256] = "";
	snprintf(p, sizeof(p), "%s/%s", r, rel);
	FILE *f = fopen(p, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return !strcmp(buf, want);
}

/* ------------------------------------------------------------ attacks */

/*
 * Runs attack in a fresh root r (rootfd open on it; before, the outside's
 * fingerprint first): whatever the extractor refuses or confines, nothing
 * outside may have changed at the end.
 */
static void escape_test(const char *name, void (*attack)(int rootfd, const char *r, unsigned long long before))
{
	char r[PATH_MAX];
	unsigned long long before = outside_fingerprint();
	int rootfd = new_root(r, sizeof(r));
	attack(rootfd, r, before);
	int same = outside_fingerprint() == before;
	if (!same)
		fprintf(stderr, "%s changed the outside\n", name);
	CHECK(same);
	close(rootfd);
}
#define ESCAPE_TEST(fn) escape_test(#fn, fn)

/* The finding: layer 1 plants evil -> OUTSIDE, layer 2 writes evil/file. */
static void test_two_layer_symlink_escape(int rootfd, const char *r, unsigned long long before)
{
	char inside[PATH_MAX * 2];
	CHECK(extract(rootfd, ARCHIVE({ 'l', "evil", outside, 0 })) == 0);
	CHECK(extract(rootfd, ARCHIVE({ 'f', "evil/file", "pwned", 0 })) == -1);
	CHECK(access(outside, F_OK) == 0 && outside_fingerprint() == before);

	/* a relative link climbing out is clamped at the root: the write lands inside */
	CHECK(extract(rootfd, ARCHIVE({ 'l', "up", "../../../../../../../../..", 0 })) == 0);
	snprintf(inside, sizeof(inside), "up%s/file", outside);
	CHECK(extract(rootfd, ARCHIVE({ 'f', inside, "confined", 0 })) == 0);
	snprintf(inside, sizeof(inside), "%s/file", outside + 1);
	CHECK(file_is(r, inside, "confined"));
}

/* The same within one archive: an absolute symlink, then a file through it. */
static void test_absolute_symlink_then_file(int rootfd, const char *r, unsigned long long before)
{
	CHECK(extract(rootfd, ARCHIVE({ 'l', "abs", outside, 0 }, { 'f', "abs/secret", "overwritten", 0 })) == -1);
	CHECK(extract(rootfd, ARCHIVE({ 'l', "root", "/", 0 }, { 'd', "root/etc", NULL, 0 },
				      { 'f', "root/etc/passwd", "inside", 0 })) == 0);
	CHECK(file_is(r, "etc/passwd", "inside"));
	/* a file entry named like the host's file, absolute: the leading '/' is dropped */
	char abs_name[PATH_MAX];
	snprintf(abs_name, sizeof(abs_name), "%s", secret);
	CHECK(extract(rootfd, ARCHIVE({ 'f', abs_name, "confined", 0 })) == 0);
	CHECK(file_is(r, secret + 1, "confined"));
}

static void test_dotdot(int rootfd, const char *r, unsigned long long before)
{
	CHECK(extract(rootfd, ARCHIVE({ 'f', "../escape-dotdot", "x", 0 })) == -1);
	CHECK(extract(rootfd, ARCHIVE({ 'd', "a", NULL, 0 }, { 'f', "a/../../escape-dotdot", "x", 0 })) == -1);
	CHECK(extract(rootfd, ARCHIVE({ 'f', "a/b/../../../../outside/secret", "x", 0 })) == -1);
	CHECK(extract(rootfd, ARCHIVE({ 'l', "..", "/", 0 })) == -1);
}

static void test_hardlink_out(int rootfd, const char *r, unsigned long long before)
{
	struct stat st;
	CHECK(extract(rootfd, ARCHIVE({ 'h', "stolen1", "../outside/secret", 0 })) == -1);
	CHECK(extract(rootfd, ARCHIVE({ 'h', "stolen2", secret, 0 })) == -1);
	/* through a symlink an earlier layer left */
	CHECK(extract(rootfd, ARCHIVE({ 'l', "lnk", outside, 0 })) == 0);
	CHECK(extract(rootfd, ARCHIVE({ 'h', "stolen3", "lnk/secret", 0 })) == -1);
	/* a hard link to a symlink pointing out links the symlink, not what it points to */
	CHECK(extract(rootfd, ARCHIVE({ 'l', "s", secret, 0 }, { 'h', "hs", "s", 0 })) == 0);
	CHECK(lstat_in(r, "hs", &st) == 0 && S_ISLNK(st.st_mode));
	/* and a later file over it replaces the link */
	CHECK(extract(rootfd, ARCHIVE({ 'f', "hs", "new", 0 })) == 0);
	CHECK(file_is(r, "hs", "new"));
	CHECK(stat(secret, &st) == 0 && st.st_nlink == 1);
}

static void test_symlink_chains(int rootfd, const char *r, unsigned long long before)
{
	CHECK(extract(rootfd, ARCHIVE({ 'l', "a", "b", 0 }, { 'l', "b", "sub/../c", 0 }, { 'd', "sub", NULL, 0 },
				      { 'l', "c", outside, 0 })) == 0);
	CHECK(extract(rootfd, ARCHIVE({ 'f', "a/secret", "through a chain", 0 })) == -1);
	/* a relative climb, then the host path: resolved to the root's own (missing) copy */
	char via[PATH_MAX * 2];
	snprintf(via, sizeof(via), "d2%s", outside);
	CHECK(extract(rootfd, ARCHIVE({ 'l', "d2", "../../../../../../../..", 0 }, { 'l', "d1", via, 0 })) == 0);
	CHECK(extract(rootfd, ARCHIVE({ 'f', "d1/secret", "x", 0 })) == -1);
	/* a loop: an error, not a hang */
	CHECK(extract(rootfd, ARCHIVE({ 'l', "loop1", "loop2", 0 }, { 'l', "loop2", "loop1", 0 },
				      { 'f', "loop1/f", "x", 0 })) == -1);
}

/* A later layer turns a directory into a symlink pointing out; a third writes through it. */
static void test_dir_replaced_by_symlink(int rootfd, const char *r, unsigned long long before)
{
	struct stat st, ost;
	CHECK(stat(outside, &ost) == 0);
	CHECK(extract(rootfd, ARCHIVE({ 'd', "dir", NULL, 0 }, { 'f', "dir/keep", "k", 0 })) == 0);
	CHECK(extract(rootfd, ARCHIVE({ 'l', "dir", outside, 0 })) == 0);
	CHECK(lstat_in(r, "dir", &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(extract(rootfd, ARCHIVE({ 'f', "dir/secret", "x", 0 })) == -1);
	/* a directory entry over that symlink replaces it; its mode is not applied through it */
	CHECK(extract(rootfd, ARCHIVE({ 'd', "dir", NULL, 0700 }, { 'f', "dir/f", "in", 0 })) == 0);
	CHECK(lstat_in(r, "dir", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700);
	CHECK(file_is(r, "dir/f", "in"));
	/* a file over a symlink to the host's file replaces the symlink */
	CHECK(extract(rootfd, ARCHIVE({ 'l', "f", secret, 0 })) == 0);
	CHECK(extract(rootfd, ARCHIVE({ 'f', "f", "new", 04755 })) == 0);
	CHECK(lstat_in(r, "f", &st) == 0 && S_ISREG(st.st_mode) && file_is(r, "f", "new"));
	/* a directory with a symlink out inside, replaced by a file: removed without following */
	CHECK(extract(rootfd, ARCHIVE({ 'd', "tree", NULL, 0 }, { 'l', "tree/out", outside, 0 },
				      { 'd', "tree/sub", NULL, 0 }, { 'f', "tree/sub/x", "x", 0 })) == 0);
	CHECK(extract(rootfd, ARCHIVE({ 'f', "tree", "now a file", 0 })) == 0);
	CHECK(file_is(r, "tree", "now a file"));
	CHECK(stat(outside, &st) == 0 && st.st_mode == ost.st_mode && st.st_uid == ost.st_uid);
}

/* extract_remove() (for whiteouts): through a symlink pointing out it removes nothing outside */
static void test_remove_and_filter(int rootfd, const char *r, unsigned long long before)
{
	CHECK(extract(rootfd, ARCHIVE({ 'l', "evil", outside, 0 }, { 'd', "d", NULL, 0 },
				      { 'l', "d/out", outside, 0 }, { 'f', "d/f", "x", 0 })) == 0);
	CHECK(extract_remove(rootfd, "evil/secret") == 0);
	CHECK(extract_remove(rootfd, "/d") == 0);
	CHECK(extract_remove(rootfd, "../outside/secret") == -1 && errno == EINVAL);
	CHECK(extract_remove(rootfd, "/") == -1);
	struct stat st;
	CHECK(lstat_in(r, "d", &st) == -1 && lstat_in(r, "evil", &st) == 0);
	/* an opaque directory: emptied, kept; through a link it is not followed */
	CHECK(extract(rootfd, ARCHIVE({ 'd', "o", NULL, 0 }, { 'l', "o/out", outside, 0 },
				      { 'd', "o/sub", NULL, 0 }, { 'f', "o/sub/x", "x", 0 })) == 0);
	CHECK(extract_empty_dir(rootfd, "o") == 0);
	CHECK(lstat_in(r, "o", &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink == 2);
	CHECK(extract_empty_dir(rootfd, "evil") == -1 && (errno == ELOOP || errno == ENOTDIR));
	CHECK(extract_empty_dir(rootfd, "missing") == 0);
}

static int drop_wh(void *arg, int rootfd, const char *path, struct archive_entry *e)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (strncmp(base, ".wh.", 4))
		return EXTRACT_APPLY;
	char victim[PATH_MAX];
	snprintf(victim, sizeof(victim), "%.*s%s", (int)(base - path), path, base + 4);
	++*(int *)arg;
	return extract_remove(rootfd, victim) ? -1 : EXTRACT_SKIP;
}

static void test_filter_hook(void)
{
	char r[PATH_MAX];
	struct stat st;
	int seen = 0;
	struct extract_stats s;
	struct extract_opts o = { .filter = drop_wh, .arg = &seen };
	int rootfd = new_root(r, sizeof(r));
	CHECK(extract(rootfd, ARCHIVE({ 'd', "etc", NULL, 0 }, { 'f', "etc/old", "x", 0 })) == 0);
	CHECK(extract_file(rootfd, ARCHIVE({ 'f', "etc/.wh.old", "", 0 }, { 'f', "etc/new", "y", 0 }), &o, &s) == 0);
	CHECK(seen == 1 && s.filtered == 1 && s.entries == 1);
	CHECK(lstat_in(r, "etc/old", &st) == -1 && lstat_in(r, "etc/.wh.old", &st) == -1 && file_is(r, "etc/new", "y"));
	close(rootfd);
}

/* ------------------------------------------------------------ ordinary archives */

static void test_busybox_like_tree(void)
{
	char r[PATH_MAX], big[200001];
	struct stat st, st2;
	struct extract_stats s;
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	int rootfd = new_root(r, sizeof(r));
	const struct ent tree[] = {
		{ 'd', "./", NULL, 0755 },
		{ 'd', "./bin/", NULL, 0755 },
		{ 'f', "./bin/busybox", "#!busybox\n", 0755 },
		{ 'l', "./bin/sh", "/bin/busybox", 0 },
		{ 'l', "./bin/ls", "busybox", 0 },
		{ 'h', "./bin/su", "./bin/busybox", 0 },
		{ 'd', "./usr/bin", NULL, 0755 },
		{ 'l', "./usr/bin/env", "../../bin/busybox", 0 },
		{ 'd', "./tmp", NULL, 01777 },
		{ 'f', "./usr/bin/passwd", "setuid", 04755 },
		{ 'f', "./usr/bin/wall", "setgid", 02755 },
		{ 'd', "./etc", NULL, 0755 },
		{ 'f', "./etc/big", big, 0600 },
		{ 'f', "./etc/empty", "", 0640 },
		{ 'd', "./ro", NULL, 0555 },
		{ 'f', "./ro/inside", "ro", 0444 },
		{ 'p', "./run/fifo", NULL, 0620 }, /* parent made on the way */
		{ 'c', "./dev/null", NULL, 0666 },
	};
	const char *arch = make_archive_named("alpine:3.19.tar.gz", tree, sizeof(tree) / sizeof(tree[0]), 1);
	struct extract_opts o = { .flags = geteuid() == 0 ? EXTRACT_OWNER : 0 };
	CHECK(extract_file(rootfd, arch, &o, &s) == 0); /* a ':' in the name: still a local file */
	CHECK(s.skipped_devices == 1 && s.entries == sizeof(tree) / sizeof(tree[0]) - 1);
	CHECK(file_is(r, "bin/busybox", "#!busybox\n"));
	CHECK(lstat_in(r, "bin/busybox", &st) == 0 && (st.st_mode & 07777) == 0755 && st.st_nlink == 2);
	CHECK(lstat_in(r, "bin/su", &st2) == 0 && st2.st_ino == st.st_ino);
	CHECK(st.st_mtim.tv_sec == 1000000000);
	char target[64] = "";
	CHECK(readlinkat(rootfd, "bin/sh", target, sizeof(target) - 1) > 0 && !strcmp(target, "/bin/busybox"));
	CHECK(lstat_in(r, "usr/bin/env", &st) == 0 && S_ISLNK(st.st_mode) && st.st_mtim.tv_sec == 1000000000);
	CHECK(lstat_in(r, "tmp", &st) == 0 && (st.st_mode & 07777) == 01777);
	CHECK(lstat_in(r, "usr/bin/passwd", &st) == 0 && (st.st_mode & 07777) == 04755);
	CHECK(lstat_in(r, "usr/bin/wall", &st) == 0 && (st.st_mode & 07777) == 02755);
	CHECK(file_is(r, "etc/empty", "") && lstat_in(r, "etc/big", &st) == 0 && st.st_size == 200000);
	CHECK(lstat_in(r, "ro", &st) == 0 && (st.st_mode & 07777) == 0555 && st.st_mtim.tv_sec == 1000000000);
	CHECK(file_is(r, "ro/inside", "ro"));
	CHECK(lstat_in(r, "run/fifo", &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0620);
	CHECK(lstat_in(r, "dev/null", &st) == -1 && errno == ENOENT);
	CHECK(lstat_in(r, ".", &st) == 0 && (st.st_mode & 07777) == 0755 && st.st_mtim.tv_sec == 1000000000);
	close(rootfd);
}

static void test_owner_and_xattrs(void)
{
	char r[PATH_MAX], p[PATH_MAX * 2], v[16] = "";
	struct stat st;
	int rootfd = new_root(r, sizeof(r));
	struct archive_entry *e = archive_entry_new();
	snprintf(p, sizeof(p), "%s/owned.tar", top);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_open_filename(a, p);
	archive_entry_set_pathname(e, "suid");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 04750);
	archive_entry_set_uid(e, geteuid() == 0 ? 1234 : getuid());
	archive_entry_set_gid(e, geteuid() == 0 ? 5678 : getgid());
	archive_entry_xattr_add_entry(e, "user.test", "val", 3);
	archive_entry_set_size(e, 2);
	archive_write_header(a, e);
	archive_write_data(a, "ok", 2);
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
	CHECK(extract(rootfd, p) == 0);
	CHECK(lstat_in(r, "suid", &st) == 0 && (st.st_mode & 07777) == 04750);
	if (geteuid() == 0)
		CHECK(st.st_uid == 1234 && st.st_gid == 5678);
	else
		fprintf(stderr, "skip: numeric owner needs root\n");
	snprintf(p, sizeof(p), "%s/suid", r);
	ssize_t n = getxattr(p, "user.test", v, sizeof(v));
	if (n < 0 && errno == ENOTSUP)
		fprintf(stderr, "skip: no user xattrs on %s\n", top);
	else
		CHECK(n == 3 && !memcmp(v, "val", 3));
	close(rootfd);
}

static void test_bad_input(void)
{
	char r[PATH_MAX], p[PATH_MAX * 2];
	int rootfd = new_root(r, sizeof(r));
	snprintf(p, sizeof(p), "%s/garbage.tar", top);
	FILE *f = fopen(p, "w");
	for (int i = 0; i < 3000; i++)
		fputc(i * 7 % 251, f);
	fclose(f);
	CHECK(extract(rootfd, p) == -1);
	CHECK(extract(rootfd, "/nonexistent/host:file.tar") == -1);
	/* truncated in the middle of a file's data */
	char data[2001];
	memset(data, 'd', sizeof(data) - 1);
	data[sizeof(data) - 1] = 0;
	const char *good = ARCHIVE({ 'f', "f", data, 0 });
	snprintf(p, sizeof(p), "%s/truncated.tar", top);
	int in = open(good, O_RDONLY), out = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char buf[4096];
	ssize_t n = read(in, buf, sizeof(buf));
	CHECK(n > 1200 && write(out, buf, 1200) == 1200);
	close(in);
	close(out);
	CHECK(extract(rootfd, p) == -1);
	close(rootfd);
}

int main(void)
{
	G.quiet = 1;
	setup();
	ESCAPE_TEST(test_two_layer_symlink_escape);
	ESCAPE_TEST(test_absolute_symlink_then_file);
	ESCAPE_TEST(test_dotdot);
	ESCAPE_TEST(test_hardlink_out);
	ESCAPE_TEST(test_symlink_chains);
	ESCAPE_TEST(test_dir_replaced_by_symlink);
	ESCAPE_TEST(test_remove_and_filter);
	test_filter_hook();
	test_busybox_like_tree();
	test_owner_and_xattrs();
	test_bad_input();
	cleanup();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
