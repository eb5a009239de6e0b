// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool container run: the runner. It creates the cgroup, clones the init
 * into it with new mount/pid/uts/ipc/net/cgroup namespaces, attaches the
 * device filter once the init has mounted its root, records the container as
 * running, relays the console, then waits and tears down.
 */
#include "image-config.h"
#include "common/cli.h"
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct ctp_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
		set_tid_size, cgroup;
};

/* the process the runner (and exec) forwards SIGTERM, SIGINT, SIGHUP to */
pid_t g_fwd_pid;

void parent_forward(int sig)
{
	if (g_fwd_pid > 0)
		kill(g_fwd_pid, sig);
}

/*
 * --cpus N: a finite number of CPUs from 0.01 (cpu.max's smallest quota,
 * 1ms per 100ms) to the CPUs this machine has, as docker bounds it; "nan",
 * "inf", "1e300" or "-1" would give no limit or an undefined conversion.
 */
static int parse_cpus(const char *s, double *out)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (ncpu < 1)
		ncpu = 1;
	if (end == s || *end || errno || !isfinite(v) || v < 0.01 || v > (double)ncpu) {
		err("--cpus '%s': want a number of CPUs from 0.01 to %ld (this machine's CPUs)", s, ncpu);
		return -1;
	}
	*out = v;
	return 0;
}

/* Returns -1 when the arguments are complete, else the exit status (usage). */
static int parse_run(int argc, char **argv, struct run_args *r)
{
	enum { OPT_MEMORY = 256, OPT_PIDS, OPT_IO_WEIGHT, OPT_IO_MAX, OPT_CPUS, OPT_HOSTNAME,
	       OPT_PRIVILEGED };
	static const struct option options[] = {
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "pids", required_argument, NULL, OPT_PIDS },
		{ "io-weight", required_argument, NULL, OPT_IO_WEIGHT },
		{ "io-max", required_argument, NULL, OPT_IO_MAX },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "hostname", required_argument, NULL, OPT_HOSTNAME },
		{ "privileged", no_argument, NULL, OPT_PRIVILEGED },
		{ "tty", no_argument, NULL, 't' },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	struct cli cl;
	int opt;
	memset(r, 0, sizeof(*r));
	/* what follows "--" is the command, untouched */
	cli_init(&cl, argc, argv, "-ht", options, CLI_STRICT | CLI_COMMAND);
	while ((opt = cli_next(&cl)) != -1) {
		/* a bad value is named itself, an unknown option or argument as given */
		const char *bad = NULL;
		switch (opt) {
		case 'h':
			return ctr_usage(stdout);
		case OPT_MEMORY:
			if (parse_size(optarg, &r->mem))
				bad = optarg;
			break;
		case OPT_PIDS:
			if (parse_u64(optarg, &r->pids))
				bad = optarg;
			break;
		case OPT_IO_WEIGHT:
			if (parse_u64(optarg, &r->ioweight) || r->ioweight < 1 || r->ioweight > 10000)
				bad = optarg;
			break;
		case OPT_IO_MAX:
			r->iomax = optarg;
			break;
		case OPT_CPUS:
			if (parse_cpus(optarg, &r->cpus))
				return EXIT_USAGE;
			break;
		case OPT_HOSTNAME:
			r->hostname = optarg;
			break;
		case OPT_PRIVILEGED:
			r->privileged = 1;
			break;
		case 't':
			r->tty = 1;
			break;
		case CLI_ARG:
			if (cli_take(&cl, &r->name, 1))
				bad = cl.arg;
			break;
		default:
			bad = cl.arg;
		}
		if (bad) {
			err("container run: bad argument '%s'", bad);
			return ctr_usage(stderr);
		}
	}
	if (!r->name) {
		err("container run needs NAME");
		return ctr_usage(stderr);
	}
	r->cmd = cl.rest; /* none: the image's */
	return -1;
}

/*
 * Let the init go; once it has mounted its root, attach the device filter
 * (it would have refused that mount) and let the init continue. Returns -1
 * if the filter could not be attached (the init is killed then).
 */
static int start_handshake(const struct run_args *r, pid_t pid, int sync_fd, int ready_fd)
{
	char m;
	ssize_t n;
	if (write(sync_fd, "x", 1) != 1)
		return 0; /* the init is gone: its exit status says so */
	while ((n = read(ready_fd, &m, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return 0; /* failed before mounting: the error pipe says why */
	if (!r->privileged && cg_attach_devices(r->name, NULL, 0)) {
		kill(pid, SIGKILL);
		return -1;
	}
	if (write(sync_fd, "g", 1) != 1)
		return 0;
	return 0;
}

/* Everything the init writes on the error pipe until it closes it. */
static ssize_t read_setup_error(int fd, char *buf, size_t len)
{
	ssize_t en = 0, r;
	while ((r = read(fd, buf + en, len - 1 - en)) > 0 || (r < 0 && errno == EINTR))
		if (r > 0)
			en += r;
	buf[en] = 0;
	return en;
}

static pid_t clone_init(const char *cg, int *cgfd)
{
	*cgfd = open(cg, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*cgfd < 0) {
		err("cannot open cgroup %s: %s", cg, strerror(errno));
		return -1;
	}
	struct ctp_clone_args ca;
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
		   CLONE_NEWCGROUP | CLONE_INTO_CGROUP;
	ca.exit_signal = SIGCHLD;
	ca.cgroup = (uint64_t)*cgfd;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0)
		err("cannot start the container (clone3): %s", strerror(errno));
	return pid;
}

/* The container runs: its init, the runner (us), and how it was started. */
static void record_running(struct kv *c, const struct run_args *r, pid_t pid, const char *cg)
{
	kv_setu(c, "init_pid", pid);
	kv_setu(c, "init_start", pid_starttime(pid));
	kv_setu(c, "runner_pid", getpid());
	kv_setu(c, "runner_start", pid_starttime(getpid()));
	kv_set(c, "status", "running");
	kv_set(c, "cgroup", cg);
	kv_set(c, "privileged", r->privileged ? "1" : "0"); /* exec confines by it */
	if (vol_save(c, r->name))
		warnx_("cannot record container %s as running: 'container stop' may not find it", r->name);
	kv_free(c);
}

/* Wait for the init, tear down; CMD's exit status (128+N if killed by signal N). */
static int wait_and_teardown(const char *name, pid_t pid)
{
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	g_lock = lock_state();
	if (g_lock >= 0) {
		container_teardown(name);
		unlock_state(g_lock);
		g_lock = -1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int ctr_run(int argc, char **argv)
{
	struct run_args ra;
	int usage = parse_run(argc, argv, &ra);
	if (usage != -1)
		return usage;
	const char *name = ra.name;
	struct kv c;
	struct pool p;
	if (lock_load_kind(name, "container", &c, &p))
		return EXIT_ERR;
	if (container_running(&c)) {
		err("container %s is already running (pid %llu): use 'ctpool container exec'", name,
		    (unsigned long long)kv_get_u64(&c, "init_pid", 0));
		return EXIT_ERR;
	}
	struct image_config icfg;
	if (image_config_command(kv_get(&c, "image"), &ra.cmd, &icfg))
		return EXIT_ERR;
	char dev[PATH_MAX], rdir[PATH_MAX], rootdir[PATH_MAX + 16], cg[PATH_MAX];
	if (vol_activate(name, dev, sizeof(dev)))
		return EXIT_ERR;
	run_dir(name, rdir, sizeof(rdir));
	snprintf(rootdir, sizeof(rootdir), "%s/rootfs", rdir);
	mkdir_p(rootdir, 0755);
	if (cg_create(name, &ra, cg, sizeof(cg))) {
		vol_deactivate(name);
		return EXIT_ERR;
	}
	int cgfd, syncp[2], errp[2], readyp[2];
	struct console con;
	if (console_open(&con, ra.tty)) /* first: it makes sure 0-2 are taken */
		goto fail;
	if (pipe2(syncp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || pipe2(readyp, O_CLOEXEC)) {
		err("setup: %s", strerror(errno));
		goto fail;
	}
	pid_t pid = clone_init(cg, &cgfd);
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		close(syncp[1]);
		close(errp[0]);
		close(readyp[0]);
		close(g_lock);
		struct run_opts o = { .name = name, .hostname = ra.hostname, .dev = dev, .rootdir = rootdir,
				      .cmd = ra.cmd, .image_cfg = &icfg, .privileged = ra.privileged, .con = &con, .sync_fd = syncp[0],
				      .err_fd = errp[1], .ready_fd = readyp[1] };
		container_init(&o);
	}
	close(syncp[0]);
	close(errp[1]);
	close(readyp[1]);
	close(cgfd);
	console_child_started(&con);
	signal(SIGPIPE, SIG_IGN); /* an init that died early must not take us with it (the init has SIG_DFL) */
	record_running(&c, &ra, pid, cg);
	g_fwd_pid = pid;
	signal(SIGTERM, parent_forward);
	signal(SIGINT, parent_forward);
	signal(SIGHUP, parent_forward);
	int filter_failed = start_handshake(&ra, pid, syncp[1], readyp[0]);
	close(syncp[1]);
	close(readyp[0]);
	char emsg[512];
	ssize_t en = read_setup_error(errp[0], emsg, sizeof(emsg));
	close(errp[0]);
	unlock_state(g_lock);
	g_lock = -1;
	console_relay(&con, pid);
	int code = wait_and_teardown(name, pid);
	if (en)
		err("container %s failed to start: %s", name, emsg);
	return en || filter_failed ? EXIT_ERR : code;

fail:
	cg_remove(name);
	vol_deactivate(name);
	return EXIT_ERR;
}
