// SPDX-License-Identifier: GPL-2.0-only
/*
 * Keeping the host's ctpool binary out of containers' reach (the
 * CVE-2019-5736 class).
 *
 * Everything `container run` and `container exec` start in a container is a
 * child of this process, and until it execs the container's command, its
 * /proc/PID/exe is our executable. Were that the host's ctpool file, a
 * container could get at it: an image whose /bin/sh is "#!/proc/self/exe"
 * makes the kernel execute our binary again, inside the container, with the
 * container's dynamic loader and /etc/ld.so.preload; that code (or a
 * privileged container process opening /proc/1/exe) reaches the host file
 * through the magic link and can chmod, chown, or, once no ctpool runs,
 * rewrite it.
 *
 * So run and exec first copy /proc/self/exe into a memfd, seal it against
 * every change (write, grow, shrink, and further seal changes) and re-execute
 * themselves from it, with the same argv and environment. From then on the
 * executable of the runner, of the container's init and of an exec'd process
 * before its execve is that memfd: private to those processes, gone with
 * them, and immutable even to root. A chmod or chown through /proc/PID/exe
 * changes the memfd's inode only. This is runc's answer; a separate small
 * init binary would leave `exec` (which starts from the full tool) to solve
 * again.
 *
 * Whether the copy is in place is read from the executable itself (its
 * seals), never from anything the caller passes; the environment marker only
 * turns a would-be endless re-exec loop into an error.
 */
#include "common/ctpool.h"
#include "sealed-exe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define EXE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define REEXEC_MARKER "CTPOOL_SEALED_EXE"

/* 1 if our executable is a memfd with all of EXE_SEALS, 0 if not, -1 on error. */
static int exe_is_sealed(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int seals = fcntl(fd, F_GET_SEALS); /* EINVAL: not a memfd */
	close(fd);
	return seals >= 0 && (seals & EXE_SEALS) == EXE_SEALS;
}

static int copy_all(int to, int from, off_t size)
{
	off_t done = 0;
	while (done < size) {
		ssize_t n = sendfile(to, from, NULL, (size_t)(size - done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* the file shrank under us */
			return -1;
		}
		done += n;
	}
	return 0;
}

/* A sealed memfd holding a copy of /proc/self/exe, or -1 (reported). */
static int sealed_copy(void)
{
	struct stat st;
	int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (src < 0 || fstat(src, &st)) {
		err("cannot read our own executable (/proc/self/exe): %s", strerror(errno));
		if (src >= 0)
			close(src);
		return -1;
	}
	int mfd = memfd_create("ctpool", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0) {
		err("memfd_create: %s", strerror(errno));
		close(src);
		return -1;
	}
	int r = copy_all(mfd, src, st.st_size);
	if (r) {
		err("cannot copy our executable into a memfd: %s", strerror(errno));
	} else {
		r = fcntl(mfd, F_ADD_SEALS, EXE_SEALS);
		if (r)
			err("cannot seal the copy of our executable: %s", strerror(errno));
	}
	close(src);
	if (r) {
		close(mfd);
		return -1;
	}
	return mfd;
}

int sealed_exe_ensure(char **argv)
{
	int sealed = exe_is_sealed();
	if (sealed == 1) {
		unsetenv(REEXEC_MARKER);
		/* an exec by fd names the process after the fd number */
		prctl(PR_SET_NAME, "ctpool", 0, 0, 0);
		return 0;
	}
	if (getenv(REEXEC_MARKER)) {
		err("re-executed from a sealed copy, but /proc/self/exe is not sealed: refusing to go on");
		return -1;
	}
	int mfd = sealed_copy();
	if (mfd < 0)
		return -1;
	if (setenv(REEXEC_MARKER, "1", 1)) {
		err("setenv: %s", strerror(errno));
		close(mfd);
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
	err("cannot execute the sealed copy of our executable: %s", strerror(errno));
	close(mfd);
	unsetenv(REEXEC_MARKER);
	return -1;
}
