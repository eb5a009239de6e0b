// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool runtime: the container's root and the mounts inside it, done by the
 * container's init in its own mount namespace: the thin volume mounted, /proc,
 * /sys, /dev, docker's masked and read-only paths, pivot_root. Every path
 * inside the root is resolved beneath it, never following a symlink.
 */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int sys_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = flags;
	how.resolve = resolve;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static int sys_pivot_root(const char *n, const char *o)
{
	return (int)syscall(SYS_pivot_root, n, o);
}

/*
 * Open directory PATH (relative to rootfd) refusing any symlink and any ".."
 * (EXDEV); create missing directories if mk.
 */
int open_beneath(int rootfd, const char *path, int mk)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	char *save = NULL;
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			close(cur);
			errno = EXDEV;
			return -1;
		}
		int fd = sys_openat2(cur, c, O_PATH | O_DIRECTORY | O_CLOEXEC,
				     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		if (fd < 0 && errno == ENOENT && mk) {
			if (mkdirat(cur, c, 0755) && errno != EEXIST) {
				close(cur);
				return -1;
			}
			fd = sys_openat2(cur, c, O_PATH | O_DIRECTORY | O_CLOEXEC,
					 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		}
		close(cur);
		if (fd < 0)
			return -1;
		cur = fd;
	}
	return cur;
}

static int mount_at(int rootfd, const char *path, const char *src, const char *fs, unsigned long fl,
		    const char *data)
{
	int fd = open_beneath(rootfd, path, 1);
	if (fd < 0) {
		fprintf(stderr, "ctpool: container: cannot open mount point %s: %s\n", path, strerror(errno));
		return -1;
	}
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	int r = mount(src, p, fs, fl, data);
	if (r)
		fprintf(stderr, "ctpool: container: cannot mount %s on %s: %s\n", fs, path, strerror(errno));
	close(fd);
	return r;
}

/* "a/b/c" -> buf "a/b", returns "c"; "c" -> buf "", returns "c" */
const char *split_parent(const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "%s", path);
	char *slash = strrchr(buf, '/');
	if (!slash) {
		buf[0] = 0;
		return path;
	}
	*slash = 0;
	return slash + 1;
}

/* Open file or directory PATH beneath rootfd as O_PATH, no symlink anywhere. */
static int open_leaf(int rootfd, const char *path)
{
	char parent[PATH_MAX];
	const char *base = split_parent(path, parent, sizeof(parent));
	int dfd = open_beneath(rootfd, parent, 0);
	if (dfd < 0)
		return -1;
	int fd = sys_openat2(dfd, base, O_PATH | O_CLOEXEC,
			     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	int e = errno;
	close(dfd);
	errno = e;
	return fd;
}

/*
 * What runc masks and makes read-only in a container's /proc and /sys
 * (docker's defaults): kernel memory, keys, timers and hardware details
 * hidden; sysctls, sysrq, IRQ affinity, bus and fs settings unwritable, as
 * they are global to the host.
 */
static const char *const masked_paths[] = {
	"proc/acpi", "proc/asound", "proc/kcore", "proc/keys", "proc/latency_stats",
	"proc/timer_list", "proc/timer_stats", "proc/sched_debug", "proc/scsi",
	"sys/firmware", "sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
	"proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
};

/* A file gets the container's /dev/null (nullfd) bound over it, a directory an empty ro tmpfs. */
static int mask_path(int rootfd, const char *path, int nullfd)
{
	int fd = open_leaf(rootfd, path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1; /* not in this kernel: nothing to hide */
	struct stat st;
	char target[64], src[64];
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	snprintf(src, sizeof(src), "/proc/self/fd/%d", nullfd);
	int r = fstat(fd, &st);
	if (r == 0 && S_ISDIR(st.st_mode))
		r = mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555");
	else if (r == 0)
		r = mount(src, target, NULL, MS_BIND, NULL);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* Bind PATH onto itself, then make that bind mount read-only. */
static int readonly_path(int rootfd, const char *path)
{
	int fd = open_leaf(rootfd, path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	int r = mount(p, p, NULL, MS_BIND | MS_REC, NULL);
	close(fd);
	if (r)
		return -1;
	fd = open_leaf(rootfd, path); /* now the new bind mount, on top */
	if (fd < 0)
		return -1;
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	r = mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* Masked and read-only paths; /proc, /sys and /dev are mounted. Reports via errfd. */
void confine_mounts(int rootfd, int errfd)
{
	struct stat st;
	int nullfd = open_leaf(rootfd, "dev/null");
	if (nullfd < 0 || fstat(nullfd, &st))
		child_fail(errfd, "opening the container's /dev/null");
	/* the node we just created in a fresh tmpfs, but check before binding it everywhere */
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		errno = EINVAL;
		child_fail(errfd, "checking the container's /dev/null");
	}
	char what[128];
	for (size_t i = 0; i < ARRAY_SIZE(masked_paths); i++)
		if (mask_path(rootfd, masked_paths[i], nullfd)) {
			snprintf(what, sizeof(what), "masking /%s", masked_paths[i]);
			child_fail(errfd, what);
		}
	for (size_t i = 0; i < ARRAY_SIZE(readonly_paths); i++)
		if (readonly_path(rootfd, readonly_paths[i])) {
			snprintf(what, sizeof(what), "making /%s read-only", readonly_paths[i]);
			child_fail(errfd, what);
		}
	close(nullfd);
}

/* Mount the thin volume; the runner attaches the device filter after (it would refuse this). */
int mount_root(const struct run_opts *o, int efd)
{
	char c;
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL))
		child_fail(efd, "making / a slave mount");
	if (mount(o->dev, o->rootdir, "ext4", MS_NOATIME, NULL))
		child_fail(efd, "mounting the container's thin volume");
	errno = EPIPE;
	if (write(o->ready_fd, "m", 1) != 1 || read(o->sync_fd, &c, 1) != 1)
		child_fail(efd, "waiting for the device filter");
	close(o->ready_fd);
	close(o->sync_fd);
	int rootfd = open(o->rootdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		child_fail(efd, "opening the rootfs");
	return rootfd;
}

/* A tmpfs /dev with the usual nodes and links, devpts and shm. */
static void make_dev(int rootfd, int efd)
{
	static const struct {
		const char *n;
		int maj, min;
	} nodes[] = { { "null", 1, 3 },	   { "zero", 1, 5 },	{ "full", 1, 7 },
		      { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 } };
	if (mount_at(rootfd, "dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"))
		child_fail(efd, "mounting /dev");
	int devfd = open_beneath(rootfd, "dev", 0);
	if (devfd < 0)
		child_fail(efd, "opening /dev");
	mode_t um = umask(0);
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++)
		if (mknodat(devfd, nodes[i].n, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)))
			child_fail(efd, "creating /dev nodes");
	umask(um);
	mkdirat(devfd, "pts", 0755);
	mkdirat(devfd, "shm", 01777);
	symlinkat("pts/ptmx", devfd, "ptmx");
	symlinkat("/proc/self/fd", devfd, "fd");
	symlinkat("/proc/self/fd/0", devfd, "stdin");
	symlinkat("/proc/self/fd/1", devfd, "stdout");
	symlinkat("/proc/self/fd/2", devfd, "stderr");
	close(devfd);
	if (mount_at(rootfd, "dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
		     "newinstance,ptmxmode=0666,mode=0620"))
		child_fail(efd, "mounting /dev/pts");
	if (mount_at(rootfd, "dev/shm", "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     "mode=1777,size=65536k"))
		child_fail(efd, "mounting /dev/shm");
}

/* /proc, /sys (read-only), the container's cgroup (its namespace root, read-only), /dev */
void mount_kernel_fs(int rootfd, int efd)
{
	if (mount_at(rootfd, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		child_fail(efd, "mounting /proc");
	if (mount_at(rootfd, "sys", "sysfs", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL))
		child_fail(efd, "mounting /sys");
	mount_at(rootfd, "sys/fs/cgroup", "cgroup2", "cgroup2",
		 MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL);
	make_dev(rootfd, efd);
}

void enter_root(int rootfd, int efd)
{
	if (fchdir(rootfd))
		child_fail(efd, "entering the rootfs");
	if (sys_pivot_root(".", "."))
		child_fail(efd, "pivot_root");
	/* MS_SLAVE, not MS_PRIVATE, before dropping the old root (runc 117c92745) */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL))
		child_fail(efd, "making the old root a slave");
	if (umount2(".", MNT_DETACH))
		child_fail(efd, "detaching the old root");
	if (chdir("/"))
		child_fail(efd, "chdir /");
	close(rootfd);
}
