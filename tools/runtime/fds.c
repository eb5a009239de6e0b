// SPDX-License-Identifier: GPL-2.0-only
/*
 * Closing what a container must not inherit (the CVE-2024-21626 class).
 *
 * Whatever descriptor a process entering a container holds, the container
 * holds after execve unless it is close-on-exec: a directory the caller
 * passed (`7</etc`) is a way out of the root through /proc/self/fd/7/..,
 * libdevmapper's /dev/mapper/control (opened without O_CLOEXEC, not ours to
 * change) is the host's device-mapper. ctpool opens its own descriptors
 * O_CLOEXEC, but that cannot cover a library's or an inherited one: so
 * whatever enters a container closes everything from 3 up first.
 */
#include "fds.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

/* Close [lo, ~0U] without close_range (an old kernel, or seccomp refused it). */
static int close_from_slow(unsigned int lo)
{
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		int self = dirfd(d), e = 0;
		for (struct dirent *de; (de = readdir(d));) {
			char *end;
			long fd = strtol(de->d_name, &end, 10);
			if (*end || fd < (long)lo || fd == self)
				continue;
			if (close((int)fd) && errno != EINTR)
				e = errno;
		}
		closedir(d);
		errno = e;
		return e ? -1 : 0;
	}
	/* no /proc: every possible descriptor number */
	struct rlimit rl;
	unsigned int hi = 1u << 20;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < hi)
		hi = (unsigned int)rl.rlim_max;
	for (unsigned int fd = lo; fd < hi; fd++)
		close((int)fd);
	return 0;
}

static int close_between(unsigned int lo, unsigned int hi)
{
	if (lo > hi)
		return 0;
	if (close_range(lo, hi, 0) == 0)
		return 0;
	if (hi != ~0U) {
		for (unsigned int fd = lo; fd <= hi; fd++)
			close((int)fd);
		return 0;
	}
	return close_from_slow(lo);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int close_fds_except(const int *keep, int n)
{
	int sorted[16];
	if (n < 0 || n > 16) {
		errno = EINVAL;
		return -1;
	}
	for (int i = 0; i < n; i++)
		sorted[i] = keep[i];
	qsort(sorted, (size_t)n, sizeof(int), cmp_int);
	unsigned int lo = 3;
	for (int i = 0; i < n; i++) {
		if (sorted[i] < (int)lo)
			continue;
		if (close_between(lo, (unsigned int)sorted[i] - 1))
			return -1;
		lo = (unsigned int)sorted[i] + 1;
	}
	return close_between(lo, ~0U);
}
