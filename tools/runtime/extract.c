// SPDX-License-Identifier: GPL-2.0-only
/*
 * Safe tar extraction into a root directory (see extract.h for the policy).
 *
 * libarchive reads the archive; nothing here lets it write: every change to
 * the root goes through a parent directory descriptor obtained with openat2()
 * confined to the root, and a last component that is created with O_EXCL or
 * mkdirat/symlinkat/linkat/mknodat, after whatever was there has been
 * unlinked. Directory owner, mode and times are applied at the end, like tar
 * does, so that a read-only directory can still be filled and its mtime is
 * not disturbed by its children.
 */
#include "extract.h"
#include "common/ctpool.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

/* Directory metadata applied once the archive is fully extracted. */
struct deferred_dir {
	char *path;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec times[2];
};

struct extraction {
	int rootfd;
	struct archive *a;
	const struct extract_opts *o;
	struct extract_stats st;
	struct deferred_dir *dirs;
	size_t nr_dirs, max_dirs;
};

/* ------------------------------------------------------------ path handling */

/* Open path (relative to the root) with its links resolved inside the root. */
static int open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.resolve = IN_ROOT;
	return (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
}

/*
 * Make an archive name relative to the root: drop a leading '/', empty and
 * "." components; refuse ".." (EINVAL) and over-long names (ENAMETOOLONG).
 */
static int normalise(const char *name, char *out, size_t len)
{
	size_t n = 0;
	const char *p = name;
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t clen = (size_t)(end - p);
		if (clen == 2 && !memcmp(p, "..", 2)) {
			errno = EINVAL;
			return -1;
		}
		if (clen && !(clen == 1 && *p == '.')) {
			if (n + !!n + clen >= len) {
				errno = ENAMETOOLONG;
				return -1;
			}
			if (n)
				out[n++] = '/';
			memcpy(out + n, p, clen);
			n += clen;
		}
		p = end;
	}
	out[n] = 0;
	return 0;
}

/* Split a normalised path in place: path keeps the directory, returns the last name. */
static char *split_last(char *path)
{
	char *slash = strrchr(path, '/');
	if (!slash) {
		memmove(path + 1, path, strlen(path) + 1);
		path[0] = 0;
		return path + 1;
	}
	*slash = 0;
	return slash + 1;
}

/*
 * O_PATH descriptor of directory dir inside the root; with create, missing
 * directories on the way are made (mode 0755, as tar does), each one below a
 * parent that was itself resolved inside the root.
 */
static int open_dir(int rootfd, char *dir, int create)
{
	int fd = open_in_root(rootfd, dir, O_PATH | O_DIRECTORY);
	if (fd >= 0 || errno != ENOENT || !create || !*dir)
		return fd;
	char *slash = strrchr(dir, '/');
	int pfd;
	const char *base;
	if (slash) {
		*slash = 0;
		pfd = open_dir(rootfd, dir, 1);
		*slash = '/';
		base = slash + 1;
	} else {
		pfd = open_in_root(rootfd, "", O_PATH | O_DIRECTORY);
		base = dir;
	}
	if (pfd < 0)
		return -1;
	int r = mkdirat(pfd, base, 0755);
	int e = errno;
	close(pfd);
	if (r && e != EEXIST) {
		errno = e;
		return -1;
	}
	/* EEXIST on a dangling symlink: the lookup below fails, nothing is followed out */
	return open_in_root(rootfd, dir, O_PATH | O_DIRECTORY);
}

/* ------------------------------------------------------------ removal */

static int remove_at(int dfd, const char *name);

static int remove_children(int fd)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int r = 0;
	struct dirent *de;
	errno = 0;
	while (!r && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			r = remove_at(dirfd(d), de->d_name);
		errno = 0;
	}
	if (!r && errno)
		r = -1;
	int e = errno;
	closedir(d);
	errno = e;
	return r;
}

/* Remove name in dfd, a directory with its contents; never follows a link. */
static int remove_at(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) && errno != ENOENT ? -1 : 0;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || remove_children(fd))
		return -1;
	return unlinkat(dfd, name, AT_REMOVEDIR) && errno != ENOENT ? -1 : 0;
}

int extract_remove(int rootfd, const char *path)
{
	char dir[PATH_MAX + 1];
	if (normalise(path, dir, sizeof(dir) - 1))
		return -1;
	if (!*dir) {
		errno = EINVAL; /* never the root itself */
		return -1;
	}
	char *base = split_last(dir);
	int pfd = open_dir(rootfd, dir, 0);
	if (pfd < 0)
		return errno == ENOENT ? 0 : -1;
	int r = remove_at(pfd, base);
	int e = errno;
	close(pfd);
	errno = e;
	return r;
}

int extract_empty_dir(int rootfd, const char *path)
{
	char rel[PATH_MAX + 1];
	if (normalise(path, rel, sizeof(rel) - 1))
		return -1;
	int fd = open_in_root(rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	return remove_children(fd); /* closes fd */
}

/*
 * Make room for a new entry base in pfd: a directory stays when a directory
 * is wanted (1 is returned), anything else goes (0). A symlink is removed,
 * never followed.
 */
static int make_room(int pfd, const char *base, int want_dir)
{
	struct stat st;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -1;
	if (want_dir && S_ISDIR(st.st_mode))
		return 1;
	return remove_at(pfd, base);
}

/* ------------------------------------------------------------ metadata */

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	}
	if (archive_entry_mtime_is_set(e)) {
		ts[1].tv_sec = archive_entry_mtime(e);
		ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	}
}

/* Extended attributes of the entry on fd; one that cannot be set is a warning, as in tar. */
static void set_xattrs(int fd, struct archive_entry *e, const char *path)
{
	const char *name;
	const void *value;
	size_t size;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
		if (fsetxattr(fd, name, value, size, 0))
			warnx_("%s: cannot set extended attribute %s: %s", path, name, strerror(errno));
}

/* Owner before mode: chown clears the setuid and setgid bits the mode restores. */
static int set_owner_mode_times(int fd, mode_t mode, uid_t uid, gid_t gid, const struct timespec ts[2],
				unsigned int flags)
{
	if ((flags & EXTRACT_OWNER) && fchown(fd, uid, gid))
		return -1;
	if (fchmod(fd, mode & 07777))
		return -1;
	return futimens(fd, ts);
}

static int set_meta(int fd, struct archive_entry *e, unsigned int flags)
{
	struct timespec ts[2];
	entry_times(e, ts);
	return set_owner_mode_times(fd, archive_entry_mode(e), (uid_t)archive_entry_uid(e),
				    (gid_t)archive_entry_gid(e), ts, flags);
}

/* ------------------------------------------------------------ entry kinds */

static int write_data(struct archive *a, int fd, const char *path)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;
	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		for (size_t done = 0; done < size;) {
			ssize_t w = pwrite(fd, (const char *)buf + done, size - done, off + (off_t)done);
			if (w < 0)
				return -1;
			done += (size_t)w;
		}
	}
	if (r != ARCHIVE_EOF) {
		err("%s: cannot read its data from the archive: %s", path, archive_error_string(a));
		errno = EIO;
		return -2; /* reported */
	}
	return 0;
}

static int make_file(struct extraction *x, int pfd, const char *base, struct archive_entry *e,
		     const char *path)
{
	if (make_room(pfd, base, 0))
		return -1;
	int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int r = write_data(x->a, fd, path);
	/* a sparse file's trailing hole */
	if (!r && archive_entry_size_is_set(e) && ftruncate(fd, archive_entry_size(e)))
		r = -1;
	if (!r && (x->o->flags & EXTRACT_OWNER) &&
	    fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)))
		r = -1;
	if (!r)
		set_xattrs(fd, e, path);
	if (!r)
		r = set_meta(fd, e, x->o->flags & ~EXTRACT_OWNER);
	int er = errno;
	close(fd);
	errno = er;
	return r;
}

static int defer_dir(struct extraction *x, const char *path, struct archive_entry *e)
{
	if (x->nr_dirs == x->max_dirs) {
		size_t n = x->max_dirs ? x->max_dirs * 2 : 64;
		struct deferred_dir *d = realloc(x->dirs, n * sizeof(*d));
		if (!d)
			return -1;
		x->dirs = d;
		x->max_dirs = n;
	}
	struct deferred_dir *d = &x->dirs[x->nr_dirs];
	d->path = strdup(path);
	if (!d->path)
		return -1;
	d->mode = archive_entry_mode(e);
	d->uid = (uid_t)archive_entry_uid(e);
	d->gid = (gid_t)archive_entry_gid(e);
	entry_times(e, d->times);
	x->nr_dirs++;
	return 0;
}

static int make_dir(struct extraction *x, int pfd, const char *base, struct archive_entry *e,
		    const char *path)
{
	int fd;
	if (!*path) {
		fd = open_in_root(x->rootfd, "", O_RDONLY | O_DIRECTORY);
	} else {
		int kept = make_room(pfd, base, 1);
		if (kept < 0 || (!kept && mkdirat(pfd, base, 0700)))
			return -1;
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return -1;
	set_xattrs(fd, e, path);
	close(fd);
	return defer_dir(x, path, e);
}

static int make_symlink(struct extraction *x, int pfd, const char *base, struct archive_entry *e)
{
	const char *target = archive_entry_symlink(e);
	struct timespec ts[2];
	if (!target || !*target) {
		errno = EINVAL;
		return -1;
	}
	if (make_room(pfd, base, 0) || symlinkat(target, pfd, base))
		return -1;
	if ((x->o->flags & EXTRACT_OWNER) &&
	    fchownat(pfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
		     AT_SYMLINK_NOFOLLOW))
		return -1;
	entry_times(e, ts);
	return utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
}

/* A hard link's target is an archive name too: resolved inside the root, never ".." */
static int make_hardlink(struct extraction *x, int pfd, const char *base, const char *path,
			 const char *link)
{
	char target[PATH_MAX + 1];
	if (normalise(link, target, sizeof(target) - 1))
		return -1;
	if (!*target) {
		errno = EISDIR;
		return -1;
	}
	if (!strcmp(target, path))
		return 0; /* a link to itself: already there */
	char *tbase = split_last(target);
	int tfd = open_dir(x->rootfd, target, 0);
	if (tfd < 0)
		return -1;
	/* without AT_SYMLINK_FOLLOW, a symlink target is linked, not followed */
	int r = make_room(pfd, base, 0) ? -1 : linkat(tfd, tbase, pfd, base, 0);
	int e = errno;
	close(tfd);
	errno = e;
	return r;
}

static int make_fifo(struct extraction *x, int pfd, const char *base, struct archive_entry *e)
{
	if (make_room(pfd, base, 0) || mknodat(pfd, base, S_IFIFO | 0600, 0))
		return -1;
	/* read side, non-blocking: opens at once, and gives an fd for fchown/fchmod */
	int fd = openat(pfd, base, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = set_meta(fd, e, x->o->flags);
	int er = errno;
	close(fd);
	errno = er;
	return r;
}

/* ------------------------------------------------------------ one entry */

static int make_entry(struct extraction *x, int pfd, const char *base, const char *path,
		      struct archive_entry *e)
{
	const char *link = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	if (link)
		return make_hardlink(x, pfd, base, path, link);
	if (!*path && type != AE_IFDIR) {
		errno = EISDIR;
		return -1;
	}
	switch (type) {
	case AE_IFREG:
		return make_file(x, pfd, base, e, path);
	case AE_IFDIR:
		return make_dir(x, pfd, base, e, path);
	case AE_IFLNK:
		return make_symlink(x, pfd, base, e);
	case AE_IFIFO:
		return make_fifo(x, pfd, base, e);
	default:
		errno = EINVAL;
		return -1;
	}
}

/* Device nodes and sockets are not part of an image: say so and go on. */
static int skipped_kind(struct extraction *x, struct archive_entry *e, const char *path)
{
	mode_t type = archive_entry_filetype(e);
	if (archive_entry_hardlink(e) || (type != AE_IFCHR && type != AE_IFBLK && type != AE_IFSOCK))
		return 0;
	warnx_("skipping %s '%s': images may not carry device nodes or sockets "
	       "(a container's /dev comes from the runtime)",
	       type == AE_IFSOCK ? "socket" : "device node", path);
	x->st.skipped_devices++;
	return 1;
}

static int apply_entry(struct extraction *x, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);
	char path[PATH_MAX + 1], dir[PATH_MAX + 2];
	if (!name || normalise(name, path, sizeof(path) - 1)) {
		err("refusing archive entry '%s': %s", name ? name : "(no name)",
		    errno == EINVAL || !name ? "'..' in the name" : strerror(errno));
		return -1;
	}
	const char *link = archive_entry_hardlink(e);
	char tmp[PATH_MAX + 1];
	if (link && normalise(link, tmp, sizeof(tmp) - 1)) {
		err("refusing hard link '%s' to '%s': %s", name, link,
		    errno == EINVAL ? "'..' in the target" : strerror(errno));
		return -1;
	}
	if (x->o->filter) {
		int v = x->o->filter(x->o->arg, x->rootfd, path, e);
		if (v < 0)
			return -1;
		if (v == EXTRACT_SKIP) {
			x->st.filtered++;
			return archive_read_data_skip(x->a) == ARCHIVE_OK ? 0 : -1;
		}
	}
	if (skipped_kind(x, e, path))
		return 0;
	memcpy(dir, path, strlen(path) + 1);
	char *base = split_last(dir);
	int pfd = open_dir(x->rootfd, dir, 1);
	if (pfd < 0) {
		err("cannot extract '%s': its directory '%s' does not resolve inside the image: %s", name,
		    dir, strerror(errno));
		return -1;
	}
	int r = make_entry(x, pfd, base, path, e);
	int er = errno;
	close(pfd);
	if (r == -1)
		err("cannot extract '%s'%s%s: %s", name, link ? " as a hard link to " : "", link ? link : "",
		    strerror(er));
	if (!r)
		x->st.entries++;
	return r ? -1 : 0;
}

/* ------------------------------------------------------------ the archive */

/* Owner, mode and times of the directories, now that nothing more is created in them. */
static int finish_dirs(struct extraction *x)
{
	int r = 0;
	for (size_t i = 0; i < x->nr_dirs; i++) {
		struct deferred_dir *d = &x->dirs[i];
		int fd = open_in_root(x->rootfd, d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		/* gone, or replaced by a non-directory later in the archive: nothing to set */
		if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
			continue;
		if (fd < 0 || set_owner_mode_times(fd, d->mode, d->uid, d->gid, d->times, x->o->flags)) {
			err("cannot set owner, mode or time of directory '%s': %s", d->path, strerror(errno));
			r = -1;
		}
		if (fd >= 0)
			close(fd);
	}
	return r;
}

static int next_header(struct archive *a, struct archive_entry **e)
{
	int r = archive_read_next_header(a, e);
	if (r == ARCHIVE_WARN) {
		warnx_("archive: %s", archive_error_string(a));
		r = ARCHIVE_OK;
	}
	if (r != ARCHIVE_OK && r != ARCHIVE_EOF)
		err("cannot read the archive: %s", archive_error_string(a));
	return r;
}

int extract_archive(int rootfd, struct archive *a, const struct extract_opts *o,
		    struct extract_stats *stats)
{
	static const struct extract_opts none;
	struct extraction x = { .rootfd = rootfd, .a = a, .o = o ? o : &none };
	struct archive_entry *e;
	int r, failed = 0;
	while (!failed && (r = next_header(a, &e)) == ARCHIVE_OK)
		failed = apply_entry(&x, e);
	if (!failed && r != ARCHIVE_EOF)
		failed = -1;
	if (!failed)
		failed = finish_dirs(&x);
	for (size_t i = 0; i < x.nr_dirs; i++)
		free(x.dirs[i].path);
	free(x.dirs);
	if (stats)
		*stats = x.st;
	return failed ? -1 : 0;
}

/*
 * The decompressors libarchive runs in process. Not support_filter_all(): for
 * lrzip, lzop, grzip and any codec built without its library, libarchive
 * runs the host's decompressor program on the archive, and an image must not
 * choose which host program root runs. A codec that would need a program
 * (ARCHIVE_WARN on a probe archive) is left out: such archives are refused.
 */
void extract_support_filters(struct archive *a)
{
	static int (*const filters[])(struct archive *) = {
		archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
		archive_read_support_filter_xz,	  archive_read_support_filter_lzma,
		archive_read_support_filter_zstd, archive_read_support_filter_lz4,
		archive_read_support_filter_compress,
	};

	for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
		struct archive *probe = archive_read_new();
		int in_process = probe && filters[i](probe) == ARCHIVE_OK;

		archive_read_free(probe);
		if (in_process)
			filters[i](a);
	}
}

int extract_fd(int rootfd, int fd, const char *what, const struct extract_opts *o,
	       struct extract_stats *stats)
{
	struct archive *a = archive_read_new();
	if (!a) {
		err("out of memory");
		return -1;
	}
	int r = -1;
	extract_support_filters(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	if (lseek(fd, 0, SEEK_SET) < 0 || archive_read_open_fd(a, fd, 64 << 10) != ARCHIVE_OK) {
		err("cannot read %s: %s", what, archive_error_string(a) ? archive_error_string(a) : strerror(errno));
	} else {
		r = extract_archive(rootfd, a, o, stats);
		if (r)
			err("extracting %s failed", what);
	}
	archive_read_free(a);
	return r;
}

int extract_file(int rootfd, const char *archive_path, const struct extract_opts *o,
		 struct extract_stats *stats)
{
	/* a plain open(): a name such as "host:file" is a local file, never a remote one */
	int fd = open(archive_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err("cannot open %s: %s", archive_path, strerror(errno));
		return -1;
	}
	int r = extract_fd(rootfd, fd, archive_path, o, stats);
	close(fd);
	return r;
}
