// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool container create|stop|rm, the `container` command's dispatch, and
 * the teardown after a container's init is gone. A container is a thin
 * snapshot of an image; run (container-run.c), exec (container-exec.c),
 * attach/detach (hotplug.c) and list (status.c) have files of their own.
 */
#include "commands.h"
#include "common/cli.h"
#include "runtime.h"

#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

int ctr_usage(FILE *f)
{
	fputs("usage: ctpool container create NAME --image IMG\n"
	      "       ctpool container run NAME [-t] [--memory SIZE] [--cpus N] [--pids N]\n"
	      "                 [--io-weight N] [--io-max 'rbps=N wbps=N riops=N wiops=N']\n"
	      "                 [--hostname H] [--privileged] [-- CMD [ARG...]]\n"
	      "       ctpool container exec NAME [-t] -- CMD [ARG...]\n"
	      "       ctpool container stop NAME [--timeout SECONDS]\n"
	      "       ctpool container rm NAME [--force]\n"
	      "       ctpool container attach NAME VOLUME PATH [--block] [--mkfs] [--ro]\n"
	      "       ctpool container detach NAME PATH\n"
	      "       ctpool container list [--json]\n"
	      "run exits with the command's exit status (128+N if killed by signal N). Without\n"
	      "CMD it runs the image's Entrypoint and Cmd (CMD replaces Cmd) with its Env,\n"
	      "WorkingDir and User.\n"
	      "A container is confined as docker's defaults confine one: capabilities dropped,\n"
	      "no_new_privs, a seccomp filter, a device filter, /proc and /sys paths masked or\n"
	      "read-only; exec joins with the same. --privileged runs it without all that.\n"
	      "attach/detach PATH: absolute, no '.' or '..', no symlinks on the way.\n"
	      "-t, --tty: CMD gets a new terminal of its own (relayed to ours). Without it\n"
	      "CMD never gets our terminal: its output is relayed, its input is empty.\n",
	      f);
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

static int ctr_create(int argc, char **argv)
{
	enum { OPT_IMAGE = 256 };
	static const struct option options[] = {
		{ "image", required_argument, NULL, OPT_IMAGE },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL, *image = NULL;
	struct cli cl;
	int opt;
	cli_init(&cl, argc, argv, "-h", options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == OPT_IMAGE)
			image = optarg;
		else if (opt != CLI_ARG || cli_take(&cl, &name, 1))
			return cli_reject(&cl, opt, "container create", ctr_usage);
	}
	if (!name || !image)
		return ctr_usage(stderr);
	struct kv iv;
	struct pool p;
	if (lock_load_kind(image, "image", &iv, &p))
		return EXIT_ERR;
	const char *st = kv_get(&iv, "state");
	if (st && strcmp(st, "ready")) {
		err("image %s is not ready (state %s)", image, st);
		return EXIT_ERR;
	}
	struct kv extra;
	kv_init(&extra);
	kv_set(&extra, "image", image);
	kv_set(&extra, "status", "created");
	if (vol_do_create(&p, name, 0, image, "container", &extra))
		return EXIT_ERR;
	info("created container %s from image %s", name, image);
	return EXIT_OK;
}

/* After the container's init is gone: drop its cgroup, volumes, record. */
void container_teardown(const char *name)
{
	struct kv c;
	cg_remove(name);
	if (vol_load(&c, name))
		return;
	/* hot-plugged volumes: their mounts died with the mount namespace */
	for (int i = 0; i < c.n; i++)
		if (!strncmp(c.k[i], "attach.", 7)) {
			const char *vol = c.k[i] + 7;
			wait_unused(vol, 5000);
			vol_deactivate(vol);
			struct kv v;
			if (vol_load(&v, vol) == 0) {
				kv_del(&v, "attached_to");
				vol_save(&v, vol);
				kv_free(&v);
			}
		}
	for (int i = c.n - 1; i >= 0; i--)
		if (!strncmp(c.k[i], "attach.", 7))
			kv_del(&c, c.k[i]);
	kv_set(&c, "init_pid", "0");
	kv_set(&c, "runner_pid", "0");
	kv_set(&c, "status", "stopped");
	vol_save(&c, name);
	kv_free(&c);
	if (wait_unused(name, 10000))
		warnx_("container %s's volume is still open after it stopped", name);
	vol_deactivate(name);
}

static int wait_gone(pid_t pid, uint64_t start, int ms)
{
	for (int i = 0; i < ms / 50; i++) {
		if (pid_starttime(pid) != start)
			return 0;
		usleep(50000);
	}
	return -1;
}

static int stop_container(const char *name, struct kv *c, int timeout)
{
	pid_t pid = (pid_t)kv_get_u64(c, "init_pid", 0);
	uint64_t start = kv_get_u64(c, "init_start", 0);
	info("stopping container %s (pid %d)", name, (int)pid);
	kill(pid, SIGTERM);
	if (wait_gone(pid, start, timeout * 1000)) {
		info("container %s did not stop within %ds: killing it", name, timeout);
		kill(pid, SIGKILL);
		if (wait_gone(pid, start, 5000)) {
			err("container %s (pid %d) does not die", name, (int)pid);
			return -1;
		}
	}
	return 0;
}

/* the runner (ctpool container run) tears down; if it is gone, we do */
static void teardown_if_orphaned(const char *name)
{
	for (int i = 0; i < 100; i++) {
		struct kv c;
		if (vol_load(&c, name))
			return;
		int runner = pid_alive(&c, "runner_pid", "runner_start");
		const char *st = kv_get(&c, "status");
		int stopped = st && strcmp(st, "running");
		kv_free(&c);
		if (stopped)
			return;
		if (!runner) {
			g_lock = lock_state();
			if (g_lock >= 0) {
				container_teardown(name);
				unlock_state(g_lock);
				g_lock = -1;
			}
			return;
		}
		usleep(100000);
	}
}

static int ctr_stop(int argc, char **argv)
{
	static const struct option options[] = {
		{ "timeout", required_argument, NULL, 't' },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	uint64_t timeout = 10;
	struct cli cl;
	int opt;
	cli_init(&cl, argc, argv, "-ht:", options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == 't') {
			if (parse_u64(optarg, &timeout))
				return ctr_usage(stderr);
		} else if (opt != CLI_ARG || cli_take(&cl, &name, 1)) {
			return cli_reject(&cl, opt, NULL, ctr_usage);
		}
	}
	if (!name)
		return ctr_usage(stderr);
	struct kv c;
	if (load_kind(name, "container", &c))
		return EXIT_ERR;
	if (!container_running(&c)) {
		const char *st = kv_get(&c, "status");
		int orphaned = st && !strcmp(st, "running"); /* crashed runner and init */
		kv_free(&c); /* st pointed into c */
		if (orphaned) /* clean up */
			teardown_if_orphaned(name);
		info("container %s is not running", name);
		return EXIT_OK;
	}
	int r = stop_container(name, &c, (int)timeout);
	kv_free(&c);
	if (r)
		return EXIT_ERR;
	teardown_if_orphaned(name);
	return EXIT_OK;
}

static int ctr_rm(int argc, char **argv)
{
	static const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	int force = 0;
	struct cli cl;
	int opt;
	cli_init(&cl, argc, argv, "-hf", options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == 'f')
			force = 1;
		else if (opt != CLI_ARG || cli_take(&cl, &name, 1))
			return cli_reject(&cl, opt, NULL, ctr_usage);
	}
	if (!name)
		return ctr_usage(stderr);
	struct kv c;
	if (load_kind(name, "container", &c))
		return EXIT_ERR;
	if (container_running(&c)) {
		if (!force) {
			err("container %s is running: stop it first, or use --force", name);
			return EXIT_ERR;
		}
		if (stop_container(name, &c, 5))
			return EXIT_ERR;
		teardown_if_orphaned(name);
	} else {
		const char *st = kv_get(&c, "status");
		if (st && !strcmp(st, "running"))
			teardown_if_orphaned(name);
	}
	kv_free(&c);
	g_lock = lock_state();
	if (g_lock < 0)
		return EXIT_ERR;
	struct pool p;
	if (vol_open_pool(name, &c, &p))
		return EXIT_ERR;
	cg_remove(name);
	char rdir[PATH_MAX], rootdir[PATH_MAX + 16];
	run_dir(name, rdir, sizeof(rdir));
	snprintf(rootdir, sizeof(rootdir), "%s/rootfs", rdir);
	rmdir(rootdir);
	rmdir(rdir);
	/* discard first so the data device gets its space back, then delete */
	if (vol_do_delete(&p, name, 1))
		return EXIT_ERR;
	info("removed container %s", name);
	return EXIT_OK;
}

static int ctr_list(int argc, char **argv)
{
	return list_kind_cmd("container", ctr_usage, argc, argv);
}

int cmd_container(int argc, char **argv)
{
	static const struct subcmd subs[] = {
		{ "create", NULL, ctr_create }, { "run", NULL, ctr_run },
		{ "exec", NULL, ctr_exec },	{ "stop", NULL, ctr_stop },
		{ "rm", "remove", ctr_rm },	{ "attach", NULL, ctr_attach },
		{ "detach", NULL, ctr_detach }, { "list", "ls", ctr_list },
		{ NULL, NULL, NULL },
	};
	return run_subcmd("container", subs, ctr_usage, argc, argv);
}
