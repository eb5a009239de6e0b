// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool container exec: join a running container's cgroup, namespaces and
 * root, confined as its init is, and run CMD there. join_container() is also
 * what hot-plug uses to reach the container's mount namespace.
 */
#include "confine.h"
#include "fds.h"
#include "common/cli.h"
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Join all namespaces of pid and its cgroup. Call in a child process. */
int join_container(const char *name, pid_t pid, int mnt_only)
{
	static const struct {
		const char *ns;
		int type;
	} order[] = { { "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
		      { "net", CLONE_NEWNET },	     { "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS } };
	int fds[6];
	for (int i = 0; i < 6; i++) {
		char p[64];
		fds[i] = -1;
		if (mnt_only && order[i].type != CLONE_NEWNS)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, order[i].ns);
		fds[i] = open(p, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			err("cannot open %s: %s", p, strerror(errno));
			return -1;
		}
	}
	/*
	 * setns(CLONE_NEWNS) puts us at the namespace's root mount, which is
	 * not the container's root when ctpool itself runs chrooted (as in the
	 * test VM): take the init's root explicitly, as nsenter --root does.
	 */
	char rp[64];
	snprintf(rp, sizeof(rp), "/proc/%d/root", (int)pid);
	int rootfd = open(rp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		err("cannot open %s: %s", rp, strerror(errno));
		return -1;
	}
	if (!mnt_only && cg_join(name))
		return -1;
	for (int i = 0; i < 6; i++) {
		if (fds[i] < 0)
			continue;
		if (setns(fds[i], order[i].type)) {
			err("cannot join the %s namespace of pid %d: %s", order[i].ns, (int)pid, strerror(errno));
			return -1;
		}
		close(fds[i]);
	}
	if (fchdir(rootfd) || chroot(".") || chdir("/")) {
		err("cannot enter the root of container %s: %s", name, strerror(errno));
		return -1;
	}
	close(rootfd);
	return 0;
}

int ctr_exec(int argc, char **argv)
{
	static const struct option options[] = {
		{ "tty", no_argument, NULL, 't' },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	int tty = 0;
	struct cli cl;
	int opt;
	/* what follows "--" is the command, untouched */
	cli_init(&cl, argc, argv, "-ht", options, CLI_STRICT | CLI_COMMAND);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == 't')
			tty = 1;
		else if (opt != CLI_ARG || cli_take(&cl, &name, 1))
			return cli_reject(&cl, opt, "container exec", ctr_usage);
	}
	if (!name || !cl.rest)
		return ctr_usage(stderr);
	char **cmd = cl.rest;
	struct kv c;
	if (load_running(name, &c))
		return EXIT_ERR;
	pid_t ipid = (pid_t)kv_get_u64(&c, "init_pid", 0);
	int privileged = kv_get_u64(&c, "privileged", 0) != 0;
	kv_free(&c);
	struct console con;
	if (console_open(&con, tty)) /* on the host: a pty from its /dev/ptmx */
		return EXIT_ERR;
	/* inherited by the child: the container cannot ptrace it before it execs */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) || join_container(name, ipid, 0))
		return EXIT_ERR;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork(); /* the pid namespace applies to children */
	if (pid < 0) {
		err("fork: %s", strerror(errno));
		return EXIT_ERR;
	}
	if (pid == 0) {
		if (console_adopt(&con) || console_session(tty)) {
			fprintf(stderr, "ctpool: container: cannot set up the session: %s\n", strerror(errno));
			_exit(126);
		}
		/* best effort: if it fails, the command starts where setns left it */
		int cwd_err = chdir("/");
		(void)cwd_err;
		clearenv();
		setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
		setenv("HOME", "/root", 1);
		setenv("container", "ctpool", 1);
		if (tty)
			setenv("TERM", "xterm", 1);
		const char *what;
		if (!privileged && confine_process(&what)) {
			fprintf(stderr, "ctpool: container: %s: %s\n", what, strerror(errno));
			_exit(126);
		}
		/* last thing before exec: nothing but 0-2 goes in (the caller's fds, libdevmapper's) */
		if (close_fds_except(NULL, 0)) {
			fprintf(stderr, "ctpool: container: closing inherited descriptors: %s\n", strerror(errno));
			_exit(126);
		}
		execvp(cmd[0], cmd);
		fprintf(stderr, "ctpool: container: cannot run %s: %s\n", cmd[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	console_child_started(&con);
	g_fwd_pid = pid;
	signal(SIGTERM, parent_forward);
	signal(SIGINT, parent_forward);
	console_relay(&con, pid);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
