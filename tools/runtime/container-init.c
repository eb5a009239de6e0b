// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool runtime: pid 1 of a container. It leaves the caller's session,
 * builds its root (rootfs.c), confines itself, then runs CMD as pid 2,
 * forwards signals to it and reaps orphans. Setup errors go back to the
 * runner on a pipe (child_fail).
 */
#include "confine.h"
#include "fds.h"
#include "image-config.h"
#include "runtime.h"

#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void lo_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
}

void child_fail(int errfd, const char *what)
{
	char m[512];
	int n = snprintf(m, sizeof(m), "%s: %s", what, strerror(errno));
	/* if even this write fails, the exit status alone tells the parent */
	ssize_t w = write(errfd, m, n);
	(void)w;
	_exit(127);
}

static pid_t g_main_child;

static void init_forward(int sig)
{
	if (g_main_child > 0)
		kill(g_main_child, sig);
}

/* Run CMD as pid 2, forward signals to it, reap orphans; exit with CMD's status. */
static void __attribute__((noreturn)) run_as_init(char **cmd, const struct image_config *cfg,
						   int tty)
{
	signal(SIGTERM, init_forward);
	signal(SIGINT, init_forward);
	signal(SIGHUP, init_forward);
	pid_t pid = fork();
	if (pid < 0)
		_exit(127);
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		/* a session of its own, under the init's; nothing inherited beyond 0-2 */
		if (console_session(tty) || close_fds_except(NULL, 0)) {
			fprintf(stderr, "ctpool: container: cannot set up CMD's session and descriptors: %s\n",
				strerror(errno));
			_exit(126);
		}
		if (cfg && image_config_apply(cfg))
			_exit(126);
		execvp(cmd[0], cmd);
		fprintf(stderr, "ctpool: container: cannot run %s: %s\n", cmd[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	g_main_child = pid;
	int status = 0;
	for (;;) {
		int st;
		pid_t w = wait(&st);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (w == pid) {
			status = st;
			break; /* leaving kills the rest of the pid namespace */
		}
	}
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	_exit(128 + WTERMSIG(status));
}

/* pid 1 of the container: build the root, confine, then run CMD and reap everything. */
void __attribute__((noreturn)) container_init(struct run_opts *o)
{
	char c;
	/*
	 * First out of the caller's session, its terminal and everything else
	 * the runner holds (libdevmapper's control node, the caller's fds):
	 * the init keeps only its stdio for CMD and the three setup pipes.
	 */
	int keep[] = { o->sync_fd, o->err_fd, o->ready_fd };
	if (setsid() < 0 || console_adopt(o->con) || close_fds_except(keep, 3))
		child_fail(o->err_fd, "leaving the caller's session and descriptors");
	if (read(o->sync_fd, &c, 1) != 1)
		_exit(127);
	int efd = o->err_fd;
	/* no ptrace, no /proc/1/exe (the host's ctpool binary) for the container */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		child_fail(efd, "making the init non-dumpable");
	int rootfd = mount_root(o, efd);
	mount_kernel_fs(rootfd, efd);
	if (!o->privileged)
		confine_mounts(rootfd, efd);
	const char *hn = o->hostname ? o->hostname : o->name;
	if (sethostname(hn, strlen(hn)))
		child_fail(efd, "setting the hostname");
	enter_root(rootfd, efd);
	lo_up();
	const char *what;
	if (!o->privileged && confine_process(&what))
		child_fail(efd, what); /* the init too: CMD's parent must not be a way out */

	clearenv();
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/root", 1);
	setenv("HOSTNAME", hn, 1);
	setenv("container", "ctpool", 1);
	setenv("TERM", "xterm", 0);
	close(efd); /* setup done: the parent stops waiting for errors */
	run_as_init(o->cmd, o->image_cfg, o->con->tty);
}
