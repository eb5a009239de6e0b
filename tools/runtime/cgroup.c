// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool runtime: the cgroup v2 leaf of each container under
 * /sys/fs/cgroup/ctpool/NAME (or CTPOOL_CGROUP_ROOT): setting up the root,
 * creating the leaf with its limits, joining it, the device filter on it,
 * removing it.
 */
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static const char *cg_root(void)
{
	const char *r = getenv("CTPOOL_CGROUP_ROOT");
	return r && *r ? r : "/sys/fs/cgroup";
}

/* Is path a cgroup2 mount (or a directory in one)? */
static int is_cgroup2(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/*
 * The cgroup2 root, mounted if need be. Only where nothing is mounted yet
 * (the bare sysfs directory of a minimal system, as the test VM's init
 * leaves it) do we mount cgroup2, as an init system would. A cgroup v1 or
 * hybrid host has a tmpfs there, in use by its init: mounting over it
 * would change the host's /sys/fs/cgroup under every other program, so
 * that is refused, as is a CTPOOL_CGROUP_ROOT that is not cgroup2.
 */
static int cg_setup_root(void)
{
	struct statfs sf;
	const char *root = cg_root();
	if (is_cgroup2(root))
		goto enable;
	if (strcmp(root, "/sys/fs/cgroup")) {
		err("CTPOOL_CGROUP_ROOT=%s is not a cgroup2 mount", root);
		return -1;
	}
	if (statfs(root, &sf) || sf.f_type != SYSFS_MAGIC) {
		err("%s is not cgroup v2 (a cgroup v1 or hybrid host?): ctpool needs the unified "
		    "hierarchy (boot with systemd.unified_cgroup_hierarchy=1), or CTPOOL_CGROUP_ROOT "
		    "set to a cgroup2 mount with the memory, pids, cpu and io controllers; it does not "
		    "mount over the host's %s",
		    root, root);
		return -1;
	}
	if (mount("cgroup2", root, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		err("nothing is mounted at %s and mounting cgroup2 there failed: %s", root,
		    strerror(errno));
		return -1;
	}
	info("mounted cgroup2 at %s", root);
enable:;
	char p[PATH_MAX];
	static const char *const ctl[] = { "+memory", "+pids", "+cpu", "+io" };
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", root);
	for (int i = 0; i < 4; i++)
		if (write_str(p, ctl[i]))
			dbg("enabling %s in %s: %s", ctl[i], p, strerror(errno));
	snprintf(p, sizeof(p), "%s/ctpool", root);
	if (mkdir(p, 0755) && errno != EEXIST) {
		err("cannot create cgroup %s: %s", p, strerror(errno));
		return -1;
	}
	snprintf(p, sizeof(p), "%s/ctpool/cgroup.subtree_control", root);
	for (int i = 0; i < 4; i++)
		if (write_str(p, ctl[i]))
			dbg("enabling %s in %s: %s", ctl[i], p, strerror(errno));
	return 0;
}

void cg_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/ctpool/%s", cg_root(), name);
}

/*
 * Open container name's cgroup with flags (O_RDONLY, O_PATH), making sure
 * it is one: the root is cgroup2 and ctpool/NAME is a directory in that
 * same mount, reached without a symlink. Whatever else CTPOOL_CGROUP_ROOT
 * may point at (a plain file, a directory on another filesystem) would let
 * a process "join" it and run without the container's limits and device
 * filter.
 */
static int cg_open(const char *name, int flags)
{
	const char *root = cg_root();
	char rel[NAME_MAX_LEN + 16];
	struct statfs sf;
	int fd = -1, rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0 || fstatfs(rfd, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC) {
		err("cgroup root %s is not a cgroup2 mount (CTPOOL_CGROUP_ROOT?)", root);
		goto out;
	}
	snprintf(rel, sizeof(rel), "ctpool/%s", name);
	fd = sys_openat2(rfd, rel, flags | O_DIRECTORY | O_CLOEXEC,
			 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
	if (fd < 0)
		err("cannot open cgroup %s/%s: %s", root, rel, strerror(errno));
out:
	if (rfd >= 0)
		close(rfd);
	return fd;
}

/* Move the calling process into container name's cgroup. */
int cg_join(const char *name)
{
	char me[32];
	int cfd = cg_open(name, O_PATH);
	if (cfd < 0)
		return -1;
	int pfd = openat(cfd, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	int n = snprintf(me, sizeof(me), "%d", (int)getpid());
	if (pfd < 0 || write(pfd, me, n) != n) {
		err("cannot join the cgroup of container %s: %s (its limits and device filter would "
		    "not apply)",
		    name, strerror(errno));
		if (pfd >= 0)
			close(pfd);
		close(cfd);
		return -1;
	}
	close(pfd);
	close(cfd);
	return 0;
}

/* Write the printf-formatted value to cgroup cg's file: 0, or -1 (reported). */
static int __attribute__((format(printf, 3, 4))) cg_set(const char *cg, const char *file,
							const char *fmt, ...)
{
	char p[PATH_MAX], val[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(p, sizeof(p), "%s/%s", cg, file);
	if (write_str(p, val)) {
		err("cannot set %s to '%s': %s (is the controller enabled?)", p, val, strerror(errno));
		return -1;
	}
	dbg("cgroup %s = %s", p, val);
	return 0;
}

void cg_remove(const char *name)
{
	char cg[PATH_MAX], p[PATH_MAX + 32];
	cg_path(name, cg, sizeof(cg));
	if (access(cg, F_OK))
		return;
	if (!is_cgroup2(cg)) {
		warnx_("%s is not a cgroup (CTPOOL_CGROUP_ROOT?): not removed", cg);
		return;
	}
	snprintf(p, sizeof(p), "%s/cgroup.kill", cg);
	for (int i = 0; i < 100; i++) {
		if (rmdir(cg) == 0 || errno == ENOENT)
			return;
		if (errno == EBUSY)
			write_str(p, "1");
		usleep(20000);
	}
	warnx_("cannot remove cgroup %s: %s", cg, strerror(errno));
}

/* Attach the device filter (the defaults plus blocks) to container name's cgroup. */
int cg_attach_devices(const char *name, const struct dev_rule *blocks, int n)
{
	char cg[PATH_MAX];
	cg_path(name, cg, sizeof(cg));
	int fd = cg_open(name, O_RDONLY);
	if (fd < 0 || confine_devices(fd, blocks, n)) {
		err("cannot attach the device filter to %s: %s (a kernel without CONFIG_CGROUP_BPF? "
		    "'ctpool container run --privileged' runs without one)",
		    cg, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* memory.max, pids.max, cpu.max, io.weight, io.max (on the thin's maj:min) */
static int cg_apply_limits(const char *cg, const struct run_args *r, uint32_t maj, uint32_t min)
{
	if (r->mem) {
		if (cg_set(cg, "memory.max", "%llu", (unsigned long long)r->mem))
			return -1;
		char sw[PATH_MAX + 32];
		snprintf(sw, sizeof(sw), "%s/memory.swap.max", cg);
		if (access(sw, F_OK) == 0 && cg_set(cg, "memory.swap.max", "0"))
			return -1;
	}
	if (r->pids && cg_set(cg, "pids.max", "%llu", (unsigned long long)r->pids))
		return -1;
	if (r->cpus > 0 && cg_set(cg, "cpu.max", "%llu 100000", (unsigned long long)(r->cpus * 100000)))
		return -1;
	if (r->ioweight) {
		if (cg_set(cg, "io.weight", "default %llu", (unsigned long long)r->ioweight))
			return -1;
		/* per-device weight needs iocost enabled on the device: optional */
		char wp[PATH_MAX + 16], val[256];
		snprintf(wp, sizeof(wp), "%s/io.weight", cg);
		snprintf(val, sizeof(val), "%u:%u %llu", maj, min, (unsigned long long)r->ioweight);
		if (write_str(wp, val))
			dbg("per-device io.weight on %u:%u not supported: %s", maj, min, strerror(errno));
	}
	if (r->iomax && cg_set(cg, "io.max", "%u:%u %s", maj, min, r->iomax))
		return -1;
	return 0;
}

/* A fresh cgroup for the container (a leftover one could hold anything) with its limits. */
int cg_create(const char *name, const struct run_args *r, char *cg, size_t len)
{
	uint32_t maj = 0, min = 0;
	dev_of(name, &maj, &min);
	if (cg_setup_root())
		return -1;
	cg_remove(name);
	cg_path(name, cg, len);
	if (mkdir(cg, 0755) && errno != EEXIST) {
		err("cannot create cgroup %s: %s", cg, strerror(errno));
		return -1;
	}
	if (cg_apply_limits(cg, r, maj, min)) {
		cg_remove(name);
		return -1;
	}
	return 0;
}
