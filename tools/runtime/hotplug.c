// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool container attach|detach: hot-plug a thin volume into a running
 * container, as a filesystem mounted at PATH or as a block node with the
 * device filter opened for it. Everything inside the container happens in a
 * child that joined its mount namespace, on paths resolved beneath its root.
 */
#include "common/cli.h"
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static int sys_open_tree(int dfd, const char *path, unsigned int flags)
{
	return (int)syscall(SYS_open_tree, dfd, path, flags);
}

static int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned int flags)
{
	return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}

/*
 * A PATH inside a container, as attach/detach take it: absolute, no "." or
 * ".." component, no empty component, not "/" itself. ".." is refused
 * rather than resolved: it can only mean a path the user did not intend.
 * Control characters are refused too: the path is shown in messages and
 * listings, where a newline or an escape sequence would forge output.
 */
static int valid_ctr_path(const char *path)
{
	size_t len = strlen(path);
	if (path[0] != '/' || len < 2 || len >= PATH_MAX || path[len - 1] == '/')
		return 0;
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return 0;
	for (const char *c = path; c; c = strchr(c + 1, '/')) {
		size_t n = strcspn(c + 1, "/");
		if (n == 0 || (n == 1 && c[1] == '.') || (n == 2 && !strncmp(c + 1, "..", 2)))
			return 0;
	}
	return 1;
}

typedef int (*at_fn)(int dirfd, const char *base, const void *arg);

/*
 * The part attach and detach share: in a child process, join container
 * name's mount namespace and root, open the parent directory of path beneath
 * that root (every component without following symlinks; created if
 * mkdirs), and run fn on it and path's last component. Returns 0 if fn
 * succeeded, -1 otherwise (the child reported why).
 */
static int in_container_dir(const char *name, pid_t ipid, const char *path, int mkdirs, at_fn fn,
			    const void *arg)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (join_container(name, ipid, 1))
			_exit(1);
		char parent[PATH_MAX];
		const char *base = split_parent(path, parent, sizeof(parent));
		int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		int dfd = rootfd < 0 ? -1 : open_beneath(rootfd, parent, mkdirs);
		if (dfd < 0) {
			err("cannot resolve %s inside container %s: %s (symlinks are refused)", path, name,
			    strerror(errno));
			_exit(1);
		}
		_exit(fn(dfd, base, arg) ? 1 : 0);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int make_block_node(int dfd, const char *base, const void *arg)
{
	const dev_t *dev = arg;
	if (mknodat(dfd, base, S_IFBLK | 0660, *dev)) {
		err("cannot create the block node %s: %s", base, strerror(errno));
		return -1;
	}
	return 0;
}

static int remove_node(int dfd, const char *base, const void *arg)
{
	if (unlinkat(dfd, base, 0)) {
		err("cannot remove the block node %s: %s", base, strerror(errno));
		return -1;
	}
	return 0;
}

static int move_tree_onto(int dfd, const char *base, const void *arg)
{
	const int *tree = arg;
	if (mkdirat(dfd, base, 0755) && errno != EEXIST) {
		err("cannot create the mount point %s: %s", base, strerror(errno));
		return -1;
	}
	int tfd = sys_openat2(dfd, base, O_PATH | O_DIRECTORY | O_CLOEXEC,
			      RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (tfd < 0 || sys_move_mount(*tree, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)) {
		err("cannot mount on %s (a directory, not a symlink?): %s", base, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * We are not in the container's pid namespace, so its /proc has no "self"
 * for us: from the (symlink-free) parent directory, unmount the last
 * component without following it.
 */
/*
 * Not MNT_DETACH: a lazy unmount would let a process in the container keep
 * writing through a file it holds open while the record says the volume is
 * gone, and the volume could not be deactivated. A busy filesystem is not
 * detached; the container closes its files (or stops) first.
 */
static int unmount_leaf(int dfd, const char *base, const void *arg)
{
	if (fchdir(dfd) == 0 && umount2(base, UMOUNT_NOFOLLOW) == 0)
		return 0;
	const char *path = arg;

	if (errno == EBUSY)
		err("%s is busy: a process in the container has a file or its working directory in it; close them and detach again",
		    path);
	else
		err("cannot unmount %s: %s", path, strerror(errno));
	return -1;
}

/*
 * Re-attach container name's device filter: the defaults, its attached
 * block volumes (record c) except drop, plus add. None if privileged.
 */
static int ctr_update_devices(const char *name, const struct kv *c, const char *add, const char *drop)
{
	if (kv_get_u64(c, "privileged", 0))
		return 0;
	struct dev_rule rules[64];
	int n = 0;
	for (int i = 0; i < c->n && n < 63; i++) {
		const char *vol = c->k[i] + 7;
		if (strncmp(c->k[i], "attach.", 7) || strncmp(c->v[i], "block:", 6) ||
		    (drop && !strcmp(vol, drop)))
			continue;
		if (dev_of(vol, &rules[n].major, &rules[n].minor) == 0)
			n++;
	}
	if (add && dev_of(add, &rules[n].major, &rules[n].minor) == 0)
		n++;
	return cg_attach_devices(name, rules, n);
}

struct attach_req {
	const char *name, *vol, *path, *fstype;
	int block, mkfs, ro;
};

/* Returns -1 when the request is complete, else the exit status (usage). */
static int parse_attach(int argc, char **argv, struct attach_req *a)
{
	enum { OPT_BLOCK = 256, OPT_MKFS, OPT_RO, OPT_FSTYPE };
	static const struct option options[] = {
		{ "block", no_argument, NULL, OPT_BLOCK },
		{ "mkfs", no_argument, NULL, OPT_MKFS },
		{ "ro", no_argument, NULL, OPT_RO },
		{ "fstype", required_argument, NULL, OPT_FSTYPE },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	const char *pos[3] = { NULL, NULL, NULL };
	struct cli cl;
	int opt;
	memset(a, 0, sizeof(*a));
	a->fstype = "ext4";
	cli_init(&cl, argc, argv, "-h", options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == OPT_BLOCK)
			a->block = 1;
		else if (opt == OPT_MKFS)
			a->mkfs = 1;
		else if (opt == OPT_RO)
			a->ro = 1;
		else if (opt == OPT_FSTYPE)
			a->fstype = optarg;
		else if (opt != CLI_ARG || cli_take(&cl, pos, 3))
			return cli_reject(&cl, opt, NULL, ctr_usage);
	}
	if (!pos[2]) {
		err("attach needs NAME VOLUME PATH");
		return ctr_usage(stderr);
	}
	a->name = pos[0];
	a->vol = pos[1];
	a->path = pos[2];
	if (!valid_ctr_path(a->path)) {
		err("PATH '%s' must be absolute inside the container, without '.' or '..' components, "
		    "control characters or a trailing '/'",
		    a->path);
		return EXIT_USAGE;
	}
	return -1;
}

static int attach_block(const struct attach_req *a, const struct kv *c, pid_t ipid)
{
	uint32_t maj, min;
	if (dev_of(a->vol, &maj, &min)) {
		err("volume %s has no active device", a->vol);
		return -1;
	}
	/* allowed first, so the node works as soon as it appears */
	if (ctr_update_devices(a->name, c, a->vol, NULL))
		return -1;
	dev_t dev = makedev(maj, min);
	if (in_container_dir(a->name, ipid, a->path, 1, make_block_node, &dev) == 0)
		return 0;
	ctr_update_devices(a->name, c, NULL, NULL);
	return -1;
}

/* mkfs if asked, mount in a private staging namespace, clone it as a detached tree */
static int staged_tree(const struct attach_req *a, const char *dev)
{
	if (a->mkfs) {
		info("making an %s filesystem on %s", a->fstype, dev);
		char prog[64];
		snprintf(prog, sizeof(prog), "mkfs.%s", a->fstype);
		const char *const mk[] = { prog, "-q", "-F", "-E", "nodiscard", dev, NULL };
		const char *const mk2[] = { prog, dev, NULL };
		if (run_cmd(strncmp(a->fstype, "ext", 3) ? mk2 : mk, 0)) {
			err("%s failed on %s", prog, dev);
			return -1;
		}
	}
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		err("cannot make a private mount namespace: %s", strerror(errno));
		return -1;
	}
	char stage[PATH_MAX];
	snprintf(stage, sizeof(stage), "%s/run/stage-%s", G.state_dir, a->vol);
	mkdir_p(stage, 0700);
	/* the volume's content is the container's: no setuid or device node on it may work */
	if (mount(dev, stage, a->fstype, MS_NOSUID | MS_NODEV | (a->ro ? MS_RDONLY : 0), NULL)) {
		err("cannot mount %s (%s): %s (no filesystem on it? use --mkfs, or --block)", a->vol,
		    a->fstype, strerror(errno));
		rmdir(stage);
		return -1;
	}
	int tree = sys_open_tree(AT_FDCWD, stage, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	int e = errno;
	umount2(stage, MNT_DETACH);
	rmdir(stage);
	if (tree < 0)
		err("open_tree(OPEN_TREE_CLONE): %s", strerror(e));
	return tree;
}

static int attach_fs(const struct attach_req *a, const char *dev, pid_t ipid)
{
	int tree = staged_tree(a, dev);
	if (tree < 0)
		return -1;
	int r = in_container_dir(a->name, ipid, a->path, 1, move_tree_onto, &tree);
	close(tree);
	return r;
}

int ctr_attach(int argc, char **argv)
{
	struct attach_req a;
	int usage = parse_attach(argc, argv, &a);
	if (usage != -1)
		return usage;
	g_lock = lock_state();
	if (g_lock < 0)
		return EXIT_ERR;
	struct kv c, v;
	if (load_running(a.name, &c) || load_kind(a.vol, "volume", &v))
		return EXIT_ERR;
	const char *to = kv_get(&v, "attached_to");
	if (to && *to) {
		err("volume %s is already attached to container %s", a.vol, to);
		return EXIT_ERR;
	}
	char dev[PATH_MAX], dmn[256];
	if (vol_activate(a.vol, dev, sizeof(dev)))
		return EXIT_ERR;
	struct dm_dev_info di;
	if (vol_dm_name(a.vol, dmn, sizeof(dmn)) == 0 && dm_info(dmn, &di) == 0 && di.open_count > 0) {
		err("volume %s is in use (mounted or open) on the host", a.vol);
		return EXIT_ERR;
	}
	pid_t ipid = (pid_t)kv_get_u64(&c, "init_pid", 0);
	if (a.block ? attach_block(&a, &c, ipid) : attach_fs(&a, dev, ipid)) {
		wait_unused(a.vol, 2000);
		vol_deactivate(a.vol);
		return EXIT_ERR;
	}
	char key[128], val[PATH_MAX + 16];
	snprintf(key, sizeof(key), "attach.%s", a.vol);
	snprintf(val, sizeof(val), "%s:%s", a.block ? "block" : "fs", a.path);
	kv_set(&c, key, val);
	kv_set(&v, "attached_to", a.name);
	if (vol_save(&c, a.name) || vol_save(&v, a.vol))
		return EXIT_ERR;
	info("attached %s to %s at %s (%s)", a.vol, a.name, a.path, a.block ? "block device" : "filesystem");
	return EXIT_OK;
}

/* the volume attached at path in container record c, and whether as a block node */
static const char *attached_at(const struct kv *c, const char *path, int *block)
{
	for (int i = 0; i < c->n; i++) {
		const char *colon = strchr(c->v[i], ':');
		if (!strncmp(c->k[i], "attach.", 7) && colon && !strcmp(colon + 1, path)) {
			*block = !strncmp(c->v[i], "block:", 6);
			return c->k[i] + 7;
		}
	}
	return NULL;
}

/*
 * With the device filter already denying new opens: is block volume vol
 * still held open (a process in the container has an fd)? Then detaching
 * would clear the record while the container keeps writing to the volume:
 * give the filter back and refuse. Nothing on the host holds an attached
 * volume (attach refuses one in use), so any opener is the container.
 */
static int block_still_open(const char *name, const struct kv *c, const char *vol)
{
	char dmn[256];
	struct dm_dev_info di;
	if (vol_dm_name(vol, dmn, sizeof(dmn)) || dm_info(dmn, &di))
		err("cannot tell whether volume %s is open: %s", vol, dm_last_error());
	else if (di.exists && di.open_count != 0)
		err("volume %s is still open in container %s (%d opener(s)): close it there, or stop "
		    "the container, then detach",
		    vol, name, di.open_count);
	else
		return 0;
	ctr_update_devices(name, c, NULL, NULL);
	return -1;
}

int ctr_detach(int argc, char **argv)
{
	if (argc >= 2 && is_help(argv[1]))
		return ctr_usage(stdout);
	if (argc != 3)
		return ctr_usage(stderr);
	const char *name = argv[1], *path = argv[2];
	g_lock = lock_state();
	if (g_lock < 0)
		return EXIT_ERR;
	struct kv c;
	if (load_running(name, &c))
		return EXIT_ERR;
	int block = 0;
	const char *found = attached_at(&c, path, &block);
	if (!found) {
		err("nothing is attached at %s in container %s (see 'ctpool container list')", path, name);
		return EXIT_ERR;
	}
	char vol[NAME_MAX_LEN + 1], key[128];
	snprintf(vol, sizeof(vol), "%s", found);
	pid_t ipid = (pid_t)kv_get_u64(&c, "init_pid", 0);
	/* the device filter first: once it is gone, the node cannot be reopened */
	if (block && ctr_update_devices(name, &c, NULL, vol))
		return EXIT_ERR;
	if (block && block_still_open(name, &c, vol))
		return EXIT_ERR;
	if (in_container_dir(name, ipid, path, 0, block ? remove_node : unmount_leaf, path))
		return EXIT_ERR;
	snprintf(key, sizeof(key), "attach.%s", vol);
	kv_del(&c, key);
	vol_save(&c, name);
	struct kv v;
	if (vol_load(&v, vol) == 0) {
		kv_del(&v, "attached_to");
		vol_save(&v, vol);
	}
	if (wait_unused(vol, 5000))
		warnx_("%s is still open (a process in the container holds it?); left active", vol);
	else
		vol_deactivate(vol);
	info("detached %s from %s", vol, name);
	return EXIT_OK;
}
