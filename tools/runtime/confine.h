/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Confining a container the way runc/docker do by default: capabilities,
 * no_new_privs, a seccomp filter, and a cgroup v2 device filter.
 */
#ifndef CTPOOL_CONFINE_H
#define CTPOOL_CONFINE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Docker's default capability set: CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL,
 * SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD,
 * AUDIT_WRITE, SETFCAP ("CapEff: 00000000a80425fb" in /proc/self/status).
 * MKNOD stays, as in docker: the device filter decides which nodes open.
 */
#define CONFINE_CAPS 0x00000000a80425fbULL

/*
 * Confine the calling process for good: bounding set to CONFINE_CAPS,
 * ambient and inheritable empty, effective = permitted = CONFINE_CAPS,
 * no_new_privs, then the seccomp filter. Returns 0, or -1 with errno set and
 * *what naming the step that failed.
 */
int confine_process(const char **what);

/* One block device the container may read and write (a hot-plugged volume). */
struct dev_rule {
	uint32_t major, minor;
};

/*
 * Attach to the cgroup (directory fd cgfd) a BPF_CGROUP_DEVICE program that
 * allows what docker allows by default: mknod of any node; read/write of
 * null, zero, full, random, urandom, tty, console, ptmx and the pts; plus
 * the n block devices given. Attaching again replaces the program atomically.
 * Returns 0 or -1 with errno set.
 */
int confine_devices(int cgfd, const struct dev_rule *blocks, int n);

#endif
