// SPDX-License-Identifier: GPL-2.0-only
/* ctpool: loop devices for file-backed pools, via loop ioctls. */
#include "ctpool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Find a loop device already backed by FILE (same dev/inode). */
int loop_find(const char *file, char *devpath, size_t len)
{
	struct stat fst;
	if (stat(file, &fst))
		return -1;
	DIR *d = opendir("/sys/block");
	if (!d)
		return -1;
	struct dirent *de;
	int found = -1;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "loop", 4))
			continue;
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "/dev/%s", de->d_name);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct loop_info64 li;
		if (ioctl(fd, LOOP_GET_STATUS64, &li) == 0 && li.lo_device == fst.st_dev &&
		    li.lo_inode == fst.st_ino) {
			snprintf(devpath, len, "%s", p);
			found = 0;
		}
		close(fd);
		if (!found)
			break;
	}
	closedir(d);
	return found;
}

int loop_attach(const char *file, char *devpath, size_t len)
{
	int ffd = open(file, O_RDWR | O_CLOEXEC);
	if (ffd < 0) {
		err("cannot open %s: %s", file, strerror(errno));
		return -1;
	}
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		err("cannot open /dev/loop-control: %s (is the 'loop' module loaded? try 'modprobe loop')",
		    strerror(errno));
		close(ffd);
		return -1;
	}
	for (int tries = 0; tries < 16; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			err("LOOP_CTL_GET_FREE: %s", strerror(errno));
			break;
		}
		char p[64];
		snprintf(p, sizeof(p), "/dev/loop%d", n);
		int lfd = -1;
		for (int w = 0; w < 50 && lfd < 0; w++) { /* node may appear late without udev */
			lfd = open(p, O_RDWR | O_CLOEXEC);
			if (lfd < 0 && errno == ENOENT) {
				mknod(p, S_IFBLK | 0660, makedev(7, n));
				usleep(10000);
			} else if (lfd < 0)
				break;
		}
		if (lfd < 0) {
			err("cannot open %s: %s", p, strerror(errno));
			break;
		}
		struct loop_config cfg;
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = ffd;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		snprintf((char *)cfg.info.lo_file_name, LO_NAME_SIZE, "%s", file);
		int r = ioctl(lfd, LOOP_CONFIGURE, &cfg);
		if (r && errno == EINVAL) {
			/* pre-5.8 kernels: LOOP_SET_FD + LOOP_SET_STATUS64 */
			r = ioctl(lfd, LOOP_SET_FD, ffd);
			if (r == 0)
				ioctl(lfd, LOOP_SET_STATUS64, &cfg.info);
		}
		if (r && errno == EBUSY) { /* raced with another user: try the next one */
			close(lfd);
			continue;
		}
		if (r) {
			err("cannot attach %s to %s: %s", file, p, strerror(errno));
			close(lfd);
			break;
		}
		/*
		 * AUTOCLEAR: the loop device goes away when its last user (the
		 * pool) closes it. We leak lfd on purpose until exit so the
		 * device stays until the pool table holds it.
		 */
		snprintf(devpath, len, "%s", p);
		close(ctl);
		close(ffd);
		dbg("attached %s to %s", file, p);
		return 0;
	}
	close(ctl);
	close(ffd);
	return -1;
}

int loop_detach(const char *devpath)
{
	int fd = open(devpath, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = ioctl(fd, LOOP_CLR_FD, 0);
	int e = errno;
	close(fd);
	if (r && e == ENXIO) /* already detached (autoclear) */
		return 0;
	errno = e;
	return r;
}
