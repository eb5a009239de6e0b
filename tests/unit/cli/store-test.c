/*
 * Host test of the state store's record format (tools/common/kv.c): hostile values
 * round-trip, and a file ctpool did not write as a whole (duplicate key,
 * truncation, bad escape...) is an error naming the file, never a
 * different record.
 */
#include "common/ctpool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

struct global G;
static char dir[] = "/tmp/ctpool-store-test.XXXXXX";
static char path[256];

static void write_raw(const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && write(fd, data, len) == (ssize_t)len);
	close(fd);
}

/* kv_load of path with stderr captured into msg; returns kv_load's result. */
static int load_capture(struct kv *kv, char *msg, size_t len)
{
	char ef[300];
	snprintf(ef, sizeof(ef), "%s/stderr", dir);
	fflush(stderr);
	int saved = dup(2), fd = open(ef, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	int r = kv_load(kv, path);
	int e = errno;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(fd, msg, len - 1, 0);
	msg[n > 0 ? n : 0] = 0;
	close(fd);
	errno = e;
	return r;
}

/* A file that must not load: -1, EBADMSG, nothing in kv, the message names the file and why. */
static void expect_corrupt(const char *data, size_t len, const char *why)
{
	struct kv kv;
	char msg[1024];
	write_raw(data, len);
	int r = load_capture(&kv, msg, sizeof(msg));
	CHECK(r == -1 && errno == EBADMSG && kv.n == 0);
	CHECK(strstr(msg, path) && strstr(msg, why));
	if (r != -1 || !strstr(msg, why))
		fprintf(stderr, "  for %s: %s", why, msg);
}

static const char *const hostile[] = {
	"x.tar\ndm_name=vg-root",
	"/mnt/x\nprivileged=1",
	"\n#end\nprivileged=1\n",
	"back\\slash\\n not a newline \\x41",
	"trailing backslash\\",
	"=",
	"a=b=c",
	"#end",
	"",
	"tab\there cr\rthere esc\x1b[2J del\x7f",
	"utf-8 \xc3\xa9 and raw high bytes \xff\xfe",
};

static void test_round_trip(void)
{
	struct kv kv, back;
	kv_init(&kv);
	char key[32];
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		snprintf(key, sizeof(key), "v%zu", i);
		CHECK(kv_set(&kv, key, hostile[i]) == 0);
	}
	char all[256];
	for (int c = 1; c < 256; c++)
		all[c - 1] = (char)c;
	all[255] = 0;
	CHECK(kv_set(&kv, "every_byte", all) == 0);
	CHECK(kv_set(&kv, "dm_name", "tp-vol") == 0 && kv_set(&kv, "privileged", "0") == 0);
	CHECK(kv_save(&kv, path) == 0);
	CHECK(kv_load(&back, path) == 0);
	CHECK(back.n == kv.n);
	for (int i = 0; i < kv.n; i++) {
		const char *got = kv_get(&back, kv.k[i]);
		CHECK(got && !strcmp(got, kv.v[i]));
	}
	/* the injected lines stayed inside their values */
	CHECK(!strcmp(kv_get(&back, "dm_name"), "tp-vol"));
	CHECK(!strcmp(kv_get(&back, "privileged"), "0"));
	/* and the file has one line per key plus the end line */
	size_t len;
	char *raw = read_file(path, &len);
	int lines = 0;
	for (size_t i = 0; raw && i < len; i++)
		lines += raw[i] == '\n';
	CHECK(lines == kv.n + 1);
	free(raw);
	kv_free(&back);
	kv_free(&kv);
}

static void test_keys(void)
{
	struct kv kv;
	kv_init(&kv);
	G.quiet = 1;
	CHECK(kv_valid_key("attach.vol-1_x:y"));
	CHECK(!kv_valid_key("") && !kv_valid_key("a=b") && !kv_valid_key("a\nb") && !kv_valid_key("#end"));
	CHECK(!kv_valid_key("a b") && !kv_valid_key("a/b"));
	CHECK(kv_set(&kv, "ok", "1") == 0);
	fflush(stderr);
	int saved = dup(2), null = open("/dev/null", O_WRONLY);
	dup2(null, 2);
	CHECK(kv_set(&kv, "bad=key", "1") == -1 && errno == EINVAL);
	dup2(saved, 2);
	close(saved);
	close(null);
	CHECK(kv.n == 1 && kv_get(&kv, "bad=key") == NULL);
	/* a record that lost a key is never written */
	unlink(path);
	CHECK(kv_save(&kv, path) == -1 && errno == EINVAL && access(path, F_OK) == -1);
	kv_free(&kv);
}

/* More keys than the old fixed table (64) held: none is lost. */
static void test_many_keys(void)
{
	struct kv kv, back;
	kv_init(&kv);
	char k[32], v[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "attach.vol%d", i);
		snprintf(v, sizeof(v), "fs:/mnt/%d", i);
		CHECK(kv_set(&kv, k, v) == 0);
	}
	CHECK(kv.n == 1000 && !strcmp(kv_get(&kv, "attach.vol999"), "fs:/mnt/999"));
	CHECK(kv_save(&kv, path) == 0 && kv_load(&back, path) == 0);
	CHECK(back.n == 1000);
	int same = 1;
	for (int i = 0; i < 1000; i++)
		same &= !strcmp(kv_get(&back, kv.k[i]), kv.v[i]);
	CHECK(same);
	kv_del(&back, "attach.vol500");
	CHECK(back.n == 999 && !kv_get(&back, "attach.vol500") && kv_get(&back, "attach.vol501"));
	kv_free(&back);
	kv_free(&kv);
}

/* Every proper prefix of a record (a truncated write) fails to load. */
static void test_truncation(void)
{
	struct kv kv;
	kv_init(&kv);
	kv_set(&kv, "kind", "container");
	kv_set(&kv, "attach.v1", "block:/dev/x");
	kv_set(&kv, "privileged", "0");
	CHECK(kv_save(&kv, path) == 0);
	kv_free(&kv);
	size_t len;
	char *full = read_file(path, &len);
	int all_fail = 1;
	for (size_t cut = 0; full && cut < len; cut++) {
		struct kv t;
		char msg[1024];
		write_raw(full, cut);
		if (load_capture(&t, msg, sizeof(msg)) != -1 || !strstr(msg, path)) {
			fprintf(stderr, "  a record cut at %zu of %zu bytes loaded\n", cut, len);
			all_fail = 0;
			kv_free(&t);
		}
	}
	CHECK(all_fail);
	write_raw(full, len);
	CHECK(kv_load(&kv, path) == 0 && kv.n == 3);
	kv_free(&kv);
	free(full);
}

static void test_corrupt(void)
{
#define CORRUPT(s, why) expect_corrupt(s, sizeof(s) - 1, why)
	CORRUPT("dm_name=tp-a\nsource=x.tar\ndm_name=vg-root\n#end\n", "duplicate key");
	CORRUPT("privileged=0\n#end\nprivileged=1\n", "after the end line");
	CORRUPT("kind=volume\njunk\n#end\n", "without '='");
	CORRUPT("=x\n#end\n", "invalid key");
	CORRUPT("a b=x\n#end\n", "invalid key");
	CORRUPT("a=x\\q\n#end\n", "bad escape");
	CORRUPT("a=x\\\n#end\n", "bad escape");
	CORRUPT("a=\\x4\n#end\n", "bad escape");
	CORRUPT("a=\\x00\n#end\n", "bad escape");
	CORRUPT("a=\\xzz\n#end\n", "bad escape");
	CORRUPT("a=tab\there\n#end\n", "control character");
	CORRUPT("a=cr\r\n#end\n", "control character");
	CORRUPT("a=x\0y\n#end\n", "NUL");
	CORRUPT("a=1\nb=2\n", "no end line");
	CORRUPT("a=1\n#end", "truncated");
	CORRUPT("", "truncated");
	CORRUPT("# a comment\na=1\n#end\n", "without '='");
#undef CORRUPT
	/* escapes that are fine */
	struct kv kv;
	const char *ok = "a=\\x41\\n\\\\\n#end\n";
	write_raw(ok, strlen(ok));
	CHECK(kv_load(&kv, path) == 0 && !strcmp(kv_get(&kv, "a"), "A\n\\"));
	kv_free(&kv);
	/* missing is not corrupt: ENOENT, nothing reported */
	unlink(path);
	CHECK(kv_load(&kv, path) == -1 && errno == ENOENT);
}

/* The store's scans stop at a corrupt record instead of skipping it. */
static void test_scans(void)
{
	G.state_dir = dir;
	int lock = lock_state();
	CHECK(lock >= 0);
	struct kv kv;
	kv_init(&kv);
	kv_set(&kv, "kind", "volume");
	CHECK(vol_save(&kv, "good") == 0 && vol_save(&kv, "bad") == 0);
	kv_free(&kv);
	CHECK(vol_check_all() == 0);
	CHECK(vol_load_listed(&kv, "good") == 0);
	kv_free(&kv);
	CHECK(vol_load_listed(&kv, "gone") == 1);
	snprintf(path, sizeof(path), "%s/volumes/bad", dir);
	const char *dupkey = "kind=volume\nkind=image\n#end\n";
	write_raw(dupkey, strlen(dupkey));
	char msg[1024];
	CHECK(load_capture(&kv, msg, sizeof(msg)) == -1);
	fflush(stderr);
	int saved = dup(2), null = open("/dev/null", O_WRONLY);
	dup2(null, 2);
	CHECK(vol_load_listed(&kv, "bad") == -1);
	CHECK(vol_check_all() == -1);
	dup2(saved, 2);
	close(saved);
	close(null);
	unlock_state(lock);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/record", dir);
	test_round_trip();
	test_keys();
	test_many_keys();
	test_truncation();
	test_corrupt();
	test_scans();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
