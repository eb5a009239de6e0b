/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctpool runtime: images and containers on thin snapshots. What the files of
 * the runtime share; not used outside tools/runtime/.
 *
 * An image is a thin volume holding an ext4 filesystem unpacked from a
 * tarball, never written after import. A container is a thin snapshot of an
 * image, mounted only inside the container's own mount namespace (so the
 * mount can never leak into the host's namespaces and keep the device busy,
 * docker's "Device is Busy"), with pid/uts/ipc/net/cgroup namespaces and a
 * cgroup v2 leaf under /sys/fs/cgroup/ctpool/NAME.
 *
 *   image.c           image import|list|rm
 *   container.c       container create|stop|rm, dispatch, teardown
 *   container-run.c   container run: the runner
 *   container-init.c  the container's pid 1
 *   rootfs.c          the root and the mounts inside the container
 *   container-exec.c  container exec, joining a running container
 *   cgroup.c          the container's cgroup, limits, device filter
 *   hotplug.c         container attach|detach
 *   status.c          records, liveness, listing
 * and the confinement they apply: confine.c, seccomp-*.c, sealed-exe.c,
 * fds.c, console.c; extract.c unpacks image tarballs.
 */
#ifndef CTPOOL_RUNTIME_H
#define CTPOOL_RUNTIME_H

#include "common/ctpool.h"
#include "confine.h"
#include "console.h"
#include "volume/volume.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- how the runner (container-run.c) starts the init (container-init.c) */
struct run_opts {
	const char *name, *hostname, *dev, *rootdir;
	char **cmd;
	const struct image_config *image_cfg; /* Env, WorkingDir, User for cmd, or NULL */
	int privileged;
	const struct console *con; /* the container's 0-2; tty: a pty to make CMD's terminal */
	int sync_fd;  /* runner -> init: go; then: the device filter is on */
	int err_fd;   /* init -> runner: why setup failed; closed when done */
	int ready_fd; /* init -> runner: the root is mounted */
};

/* ---- container run's arguments (container-run.c, cgroup.c) */
struct run_args {
	const char *name, *hostname, *iomax;
	uint64_t mem, pids, ioweight;
	double cpus;
	int privileged, tty;
	char **cmd;
};

/* ---- status.c */
extern int g_lock; /* the state lock this command holds, -1 if none */
uint64_t pid_starttime(pid_t pid);
int pid_alive(const struct kv *c, const char *pkey, const char *skey);
int container_running(const struct kv *c);
void run_dir(const char *name, char *buf, size_t len);
int dev_of(const char *name, uint32_t *maj, uint32_t *min);
int wait_unused(const char *name, int ms);
int load_kind(const char *name, const char *kind, struct kv *v);
/* Under the state lock (g_lock): record name, of that kind, and its pool, active; -1 (reported) */
int lock_load_kind(const char *name, const char *kind, struct kv *v, struct pool *p);
int load_running(const char *name, struct kv *c);
int list_kind(const char *kind, int json);
/* image|container list [--json], under the state lock; help: usage(stdout) */
int list_kind_cmd(const char *kind, int (*usage)(FILE *f), int argc, char **argv);

/* ---- image.c */
/*
 * Mount image volume name's ext4 (on dev) at <state>/run/import-<name>, its
 * path into mnt, to unpack into; fresh: a new filesystem, lost+found removed.
 * 0, or -1 (reported).
 */
int import_mount(const char *name, const char *dev, int fresh, char *mnt, size_t len);
/* Sync what was unpacked, unmount it and remove the mount point. */
void import_unmount(const char *mnt);

/* ---- cgroup.c */
void cg_path(const char *name, char *buf, size_t len);
int cg_join(const char *name);
void cg_remove(const char *name);
int cg_attach_devices(const char *name, const struct dev_rule *blocks, int n);
int cg_create(const char *name, const struct run_args *r, char *cg, size_t len);

/* ---- rootfs.c */
int sys_openat2(int dirfd, const char *path, int flags, uint64_t resolve);
int open_beneath(int rootfd, const char *path, int mk);
const char *split_parent(const char *path, char *buf, size_t len);
int mount_root(const struct run_opts *o, int efd);
void mount_kernel_fs(int rootfd, int efd);
void confine_mounts(int rootfd, int errfd);
void enter_root(int rootfd, int efd);

/* ---- container-init.c */
void child_fail(int errfd, const char *what) __attribute__((noreturn));
void __attribute__((noreturn)) container_init(struct run_opts *o);

/* ---- container.c */
int ctr_usage(FILE *f);
void container_teardown(const char *name);

/* ---- container-run.c */
extern pid_t g_fwd_pid; /* where the runner's and exec's signals go */
void parent_forward(int sig);
int ctr_run(int argc, char **argv);

/* ---- container-exec.c */
int join_container(const char *name, pid_t pid, int mnt_only);
int ctr_exec(int argc, char **argv);

/* ---- hotplug.c */
int ctr_attach(int argc, char **argv);
int ctr_detach(int argc, char **argv);

#endif
