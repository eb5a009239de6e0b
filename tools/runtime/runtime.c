/*
 * ctpool: images and containers on thin snapshots.
 *
 * An image is a thin volume holding an ext4 filesystem unpacked from a
 * tarball, never written after import. A container is a thin snapshot of an
 * image, mounted only inside the container's own mount namespace (so the
 * mount can never leak into the host's namespaces and keep the device busy,
 * docker's "Device is Busy"), with pid/uts/ipc/net/cgroup namespaces and a
 * cgroup v2 leaf under /sys/fs/cgroup/ctpool/NAME.
 */
#include "confine.h"
#include "console.h"
#include "extract.h"
#include "commands.h"
#include "volume/volume.h"
#include "fds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

struct ctp_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
		set_tid_size, cgroup;
};

static int g_lock = -1;

/* ---------------------------------------------------------------- helpers */

static int sys_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = flags;
	how.resolve = resolve;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static int sys_open_tree(int dfd, const char *path, unsigned flags)
{
	return (int)syscall(SYS_open_tree, dfd, path, flags);
}

static int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned flags)
{
	return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}

static int sys_pivot_root(const char *n, const char *o)
{
	return (int)syscall(SYS_pivot_root, n, o);
}

static uint64_t pid_starttime(pid_t pid)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	char *s = read_file(p, NULL);
	if (!s)
		return 0;
	char *c = strrchr(s, ')');
	uint64_t st = 0;
	if (c) {
		/* fields after comm: state(3) ... starttime(22) */
		int field = 2;
		for (char *q = c + 1; *q; q++)
			if (*q == ' ' && ++field == 22) {
				st = strtoull(q + 1, NULL, 10);
				break;
			}
	}
	free(s);
	return st;
}

static int pid_alive(const struct kv *c, const char *pkey, const char *skey)
{
	pid_t pid = (pid_t)kv_get_u64(c, pkey, 0);
	if (pid <= 0)
		return 0;
	uint64_t st = pid_starttime(pid);
	return st && st == kv_get_u64(c, skey, 0);
}

static int container_running(const struct kv *c)
{
	return pid_alive(c, "init_pid", "init_start");
}

static void run_dir(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/run/%s", G.state_dir, name);
}

static int dev_of(const char *name, uint32_t *maj, uint32_t *min)
{
	char dmn[256];
	struct dm_dev_info di;
	if (vol_dm_name(name, dmn, sizeof(dmn)) || dm_info(dmn, &di) || !di.exists)
		return -1;
	*maj = di.major;
	*min = di.minor;
	return 0;
}

/* Wait until nobody holds the thin open (a dying mount namespace lets go lazily). */
static int wait_unused(const char *name, int ms)
{
	char dmn[256];
	struct dm_dev_info di;
	if (vol_dm_name(name, dmn, sizeof(dmn)))
		return -1;
	for (int i = 0; i < ms / 50; i++) {
		if (dm_info(dmn, &di) || !di.exists || di.open_count == 0)
			return 0;
		usleep(50000);
	}
	return -1;
}

static int load_kind(const char *name, const char *kind, struct kv *v)
{
	if (!valid_name(name) || vol_load(v, name)) {
		if (!valid_name(name) || errno == ENOENT)
			err("no %s '%s' (see 'ctpool %s list')", kind, name, kind);
		return -1;
	}
	const char *k = kv_get(v, "kind");
	if (!k || strcmp(k, kind)) {
		err("'%s' is not a%s %s but a %s", name, kind[0] == 'i' ? "n" : "", kind, k ? k : "?");
		kv_free(v);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- images */

static int image_usage(FILE *f)
{
	fputs("usage: ctpool image import NAME ROOTFS.tar[.gz] [--size SIZE] [--parent IMG] [--pool P]\n"
	      "       ctpool image list [--json]\n"
	      "       ctpool image rm NAME\n"
	      "An image is a thin volume with an ext4 filesystem holding the unpacked tarball\n"
	      "(ownership, modes and xattrs kept; device nodes skipped); it is read-only after\n"
	      "import. With --parent the image is a snapshot of IMG with the tarball unpacked on\n"
	      "top. Every name is resolved inside the image: links never lead out of it.\n",
	      f);
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

/*
 * Unpack the tarball into the image's mounted filesystem. The extractor resolves
 * every name inside mnt: a parent image's symlinks cannot lead it to the host.
 */
static int unpack_into(const char *mnt, const char *tarball)
{
	int rootfd = open(mnt, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0) {
		err("cannot open %s: %s", mnt, strerror(errno));
		return -1;
	}
	struct extract_opts o = { .flags = EXTRACT_OWNER };
	int r = extract_file(rootfd, tarball, &o, NULL);
	close(rootfd);
	return r;
}

static int image_import(int argc, char **argv)
{
	const char *name = NULL, *tarball = NULL, *parent = NULL, *pool = NULL;
	uint64_t size = 0;
	for (int i = 0; i < argc; i++) {
		if (is_help(argv[i]))
			return image_usage(stdout);
		if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			if (parse_size(argv[++i], &size)) {
				err("bad size '%s'", argv[i]);
				return EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--parent") && i + 1 < argc)
			parent = argv[++i];
		else if (!strcmp(argv[i], "--pool") && i + 1 < argc)
			pool = argv[++i];
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else if (argv[i][0] != '-' && !tarball)
			tarball = argv[i];
		else {
			err("image import: bad argument '%s'", argv[i]);
			return image_usage(stderr);
		}
	}
	if (!name || !tarball)
		return image_usage(stderr);
	if (access(tarball, R_OK)) {
		err("cannot read %s: %s", tarball, strerror(errno));
		return EXIT_ERR;
	}
	if (!size && !parent)
		size = 256ull << 20;
	size = (size + 511) / 512 * 512;
	/* the lock is held for the whole import: recovery treats "importing" as a crash leftover */
	if ((g_lock = lock_state()) < 0)
		return EXIT_ERR;
	struct pool p;
	char def[NAME_MAX_LEN + 1];
	struct kv pv;
	if (parent) {
		if (load_kind(parent, "image", &pv))
			return EXIT_ERR;
		if (vol_open_pool(parent, &pv, &p))
			return EXIT_ERR;
		if (size && size != kv_get_u64(&pv, "size", 0)) {
			warnx_("--size ignored: a child image has its parent's size");
			size = 0;
		}
		kv_free(&pv);
	} else {
		if (!pool && pool_default_name(def, sizeof(def)))
			return EXIT_ERR;
		if (pool_load(&p, pool ? pool : def) || pool_ensure_active(&p))
			return EXIT_ERR;
	}
	struct kv extra;
	kv_init(&extra);
	kv_set(&extra, "state", "importing");
	kv_set(&extra, "source", tarball);
	if (parent)
		kv_set(&extra, "parent", parent);
	info("creating image volume %s", name);
	if (vol_do_create(&p, name, size, parent, "image", &extra))
		return EXIT_ERR;
	kv_free(&extra);
	char dev[PATH_MAX], mnt[PATH_MAX];
	if (vol_activate(name, dev, sizeof(dev)))
		goto fail;
	if (!parent) {
		info("making an ext4 filesystem on %s", dev);
		const char *mk[] = { "mkfs.ext4", "-q", "-F", "-L", name, "-E",
				     "nodiscard,lazy_itable_init=0,lazy_journal_init=0", dev, NULL };
		if (run_cmd(mk, 0)) {
			err("mkfs.ext4 failed on %s", dev);
			goto fail;
		}
	}
	crash_point("import-after-mkfs");
	snprintf(mnt, sizeof(mnt), "%s/run/import-%s", G.state_dir, name);
	mkdir_p(mnt, 0700);
	if (mount(dev, mnt, "ext4", MS_NOATIME, NULL)) {
		err("cannot mount %s on %s: %s", dev, mnt, strerror(errno));
		goto fail;
	}
	if (!parent) {
		char lf[PATH_MAX + 16];
		snprintf(lf, sizeof(lf), "%s/lost+found", mnt);
		rmdir(lf);
	}
	info("unpacking %s into %s", tarball, name);
	int tr = unpack_into(mnt, tarball);
	crash_point("import-after-unpack");
	sync();
	if (umount2(mnt, 0)) {
		err("cannot unmount %s: %s", mnt, strerror(errno));
		umount2(mnt, MNT_DETACH);
	}
	rmdir(mnt);
	if (tr)
		goto fail;
	wait_unused(name, 3000);
	if (vol_deactivate(name))
		goto fail;
	struct kv v;
	if (vol_load(&v, name))
		goto fail;
	kv_set(&v, "state", "ready");
	kv_set(&v, "readonly", "1");
	if (vol_save(&v, name))
		goto fail;
	kv_free(&v);
	info("imported image %s", name);
	return EXIT_OK;
fail:
	err("import of %s failed; removing the partial image", name);
	wait_unused(name, 3000);
	vol_do_delete(&p, name, 0);
	return EXIT_ERR;
}

/* How many records use image name (-1: a record cannot be read, it may be one) */
static int users_of(const char *name, char *who, size_t len)
{
	int n, count = 0;
	char **names = vol_list_names(&n);
	who[0] = 0;
	for (int i = 0; i < n; i++) {
		struct kv v;
		int lr = vol_load_listed(&v, names[i]);
		if (lr < 0)
			count = -1;
		if (lr)
			continue;
		const char *img = kv_get(&v, "image"), *par = kv_get(&v, "parent");
		if (count >= 0 && ((img && !strcmp(img, name)) || (par && !strcmp(par, name)))) {
			if (count++ == 0)
				snprintf(who, len, "%s", names[i]);
		}
		kv_free(&v);
	}
	free_names(names, n);
	return count;
}

static int list_kind(const char *kind, int json);

static int image_rm(int argc, char **argv)
{
	if (argc != 1 || argv[0][0] == '-')
		return image_usage(argc == 1 && is_help(argv[0]) ? stdout : stderr);
	const char *name = argv[0];
	if ((g_lock = lock_state()) < 0)
		return EXIT_ERR;
	struct kv v;
	struct pool p;
	if (load_kind(name, "image", &v) || vol_open_pool(name, &v, &p))
		return EXIT_ERR;
	char who[NAME_MAX_LEN + 1];
	int n = users_of(name, who, sizeof(who));
	if (n < 0) {
		err("image %s: a record cannot be read and may use it: not removed", name);
		return EXIT_ERR;
	}
	if (n) {
		err("image %s is used by %d container(s)/image(s), e.g. '%s': remove them first", name, n,
		    who);
		return EXIT_ERR;
	}
	if (vol_do_delete(&p, name, (int)kv_get_u64(&p.kv, "data_file", 0)))
		return EXIT_ERR;
	info("removed image %s", name);
	return EXIT_OK;
}

int cmd_image(int argc, char **argv)
{
	if (argc < 1)
		return image_usage(stderr);
	if (is_help(argv[0]))
		return image_usage(stdout);
	if (!strcmp(argv[0], "import"))
		return image_import(argc - 1, argv + 1);
	if (!strcmp(argv[0], "rm") || !strcmp(argv[0], "remove"))
		return image_rm(argc - 1, argv + 1);
	if (!strcmp(argv[0], "list") || !strcmp(argv[0], "ls")) {
		if (argc > 1 && is_help(argv[1]))
			return image_usage(stdout);
		if ((g_lock = lock_state()) < 0)
			return EXIT_ERR;
		return list_kind("image", argc > 1 && !strcmp(argv[1], "--json"));
	}
	err("unknown image command '%s'", argv[0]);
	return image_usage(stderr);
}

/* ---------------------------------------------------------------- cgroups */

static const char *cg_root(void)
{
	const char *r = getenv("CTPOOL_CGROUP_ROOT");
	return r && *r ? r : "/sys/fs/cgroup";
}

/* Is path a cgroup2 mount (or a directory in one)? */
static int is_cgroup2(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/*
 * The cgroup2 root, mounted if need be. Only where nothing is mounted yet
 * (the bare sysfs directory of a minimal system, as the test VM's init
 * leaves it) do we mount cgroup2, as an init system would. A cgroup v1 or
 * hybrid host has a tmpfs there, in use by its init: mounting over it
 * would change the host's /sys/fs/cgroup under every other program, so
 * that is refused, as is a CTPOOL_CGROUP_ROOT that is not cgroup2.
 */
static int cg_setup_root(void)
{
	struct statfs sf;
	const char *root = cg_root();
	if (is_cgroup2(root))
		goto enable;
	if (strcmp(root, "/sys/fs/cgroup")) {
		err("CTPOOL_CGROUP_ROOT=%s is not a cgroup2 mount", root);
		return -1;
	}
	if (statfs(root, &sf) || sf.f_type != SYSFS_MAGIC) {
		err("%s is not cgroup v2 (a cgroup v1 or hybrid host?): ctpool needs the unified "
		    "hierarchy (boot with systemd.unified_cgroup_hierarchy=1), or CTPOOL_CGROUP_ROOT "
		    "set to a cgroup2 mount with the memory, pids, cpu and io controllers; it does not "
		    "mount over the host's %s",
		    root, root);
		return -1;
	}
	if (mount("cgroup2", root, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		err("nothing is mounted at %s and mounting cgroup2 there failed: %s", root,
		    strerror(errno));
		return -1;
	}
	info("mounted cgroup2 at %s", root);
enable:;
	char p[PATH_MAX];
	const char *ctl[] = { "+memory", "+pids", "+cpu", "+io" };
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", root);
	for (int i = 0; i < 4; i++)
		if (write_str(p, ctl[i]))
			dbg("enabling %s in %s: %s", ctl[i], p, strerror(errno));
	snprintf(p, sizeof(p), "%s/ctpool", root);
	if (mkdir(p, 0755) && errno != EEXIST) {
		err("cannot create cgroup %s: %s", p, strerror(errno));
		return -1;
	}
	snprintf(p, sizeof(p), "%s/ctpool/cgroup.subtree_control", root);
	for (int i = 0; i < 4; i++)
		if (write_str(p, ctl[i]))
			dbg("enabling %s in %s: %s", ctl[i], p, strerror(errno));
	return 0;
}

static void cg_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/ctpool/%s", cg_root(), name);
}

/*
 * Open container name's cgroup with flags (O_RDONLY, O_PATH), making sure
 * it is one: the root is cgroup2 and ctpool/NAME is a directory in that
 * same mount, reached without a symlink. Whatever else CTPOOL_CGROUP_ROOT
 * may point at (a plain file, a directory on another filesystem) would let
 * a process "join" it and run without the container's limits and device
 * filter.
 */
static int cg_open(const char *name, int flags)
{
	const char *root = cg_root();
	char rel[NAME_MAX_LEN + 16];
	struct statfs sf;
	int fd = -1, rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0 || fstatfs(rfd, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC) {
		err("cgroup root %s is not a cgroup2 mount (CTPOOL_CGROUP_ROOT?)", root);
		goto out;
	}
	snprintf(rel, sizeof(rel), "ctpool/%s", name);
	fd = sys_openat2(rfd, rel, flags | O_DIRECTORY | O_CLOEXEC,
			 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
	if (fd < 0)
		err("cannot open cgroup %s/%s: %s", root, rel, strerror(errno));
out:
	if (rfd >= 0)
		close(rfd);
	return fd;
}

/* Move the calling process into container name's cgroup. */
static int cg_join(const char *name)
{
	char me[32];
	int cfd = cg_open(name, O_PATH);
	if (cfd < 0)
		return -1;
	int pfd = openat(cfd, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	int n = snprintf(me, sizeof(me), "%d", (int)getpid());
	if (pfd < 0 || write(pfd, me, n) != n) {
		err("cannot join the cgroup of container %s: %s (its limits and device filter would "
		    "not apply)",
		    name, strerror(errno));
		if (pfd >= 0)
			close(pfd);
		close(cfd);
		return -1;
	}
	close(pfd);
	close(cfd);
	return 0;
}

static int cg_set(const char *cg, const char *file, const char *val)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", cg, file);
	if (write_str(p, val)) {
		err("cannot set %s to '%s': %s (is the controller enabled?)", p, val, strerror(errno));
		return -1;
	}
	dbg("cgroup %s = %s", p, val);
	return 0;
}

static void cg_remove(const char *name)
{
	char cg[PATH_MAX], p[PATH_MAX + 32];
	cg_path(name, cg, sizeof(cg));
	if (access(cg, F_OK))
		return;
	if (!is_cgroup2(cg)) {
		warnx_("%s is not a cgroup (CTPOOL_CGROUP_ROOT?): not removed", cg);
		return;
	}
	snprintf(p, sizeof(p), "%s/cgroup.kill", cg);
	for (int i = 0; i < 100; i++) {
		if (rmdir(cg) == 0 || errno == ENOENT)
			return;
		if (errno == EBUSY)
			write_str(p, "1");
		usleep(20000);
	}
	warnx_("cannot remove cgroup %s: %s", cg, strerror(errno));
}

/* Attach the device filter (the defaults plus blocks) to container name's cgroup. */
static int cg_attach_devices(const char *name, const struct dev_rule *blocks, int n)
{
	char cg[PATH_MAX];
	cg_path(name, cg, sizeof(cg));
	int fd = cg_open(name, O_RDONLY);
	if (fd < 0 || confine_devices(fd, blocks, n)) {
		err("cannot attach the device filter to %s: %s (a kernel without CONFIG_CGROUP_BPF? "
		    "'ctpool container run --privileged' runs without one)",
		    cg, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* ---------------------------------------------------------------- containers */

static int ctr_usage(FILE *f)
{
	fputs("usage: ctpool container create NAME --image IMG\n"
	      "       ctpool container run NAME [-t] [--memory SIZE] [--cpus N] [--pids N]\n"
	      "                 [--io-weight N] [--io-max 'rbps=N wbps=N riops=N wiops=N']\n"
	      "                 [--hostname H] [--privileged] -- CMD [ARG...]\n"
	      "       ctpool container exec NAME [-t] -- CMD [ARG...]\n"
	      "       ctpool container stop NAME [--timeout SECONDS]\n"
	      "       ctpool container rm NAME [--force]\n"
	      "       ctpool container attach NAME VOLUME PATH [--block] [--mkfs] [--ro]\n"
	      "       ctpool container detach NAME PATH\n"
	      "       ctpool container list [--json]\n"
	      "run exits with the command's exit status (128+N if killed by signal N).\n"
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
	const char *name = NULL, *image = NULL;
	for (int i = 0; i < argc; i++) {
		if (is_help(argv[i]))
			return ctr_usage(stdout);
		if (!strcmp(argv[i], "--image") && i + 1 < argc)
			image = argv[++i];
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			err("container create: bad argument '%s'", argv[i]);
			return ctr_usage(stderr);
		}
	}
	if (!name || !image)
		return ctr_usage(stderr);
	if ((g_lock = lock_state()) < 0)
		return EXIT_ERR;
	struct kv iv;
	struct pool p;
	if (load_kind(image, "image", &iv) || vol_open_pool(image, &iv, &p))
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

/*
 * Open directory PATH (relative to rootfd) refusing any symlink and any ".."
 * (EXDEV); create missing directories if mk.
 */
static int open_beneath(int rootfd, const char *path, int mk)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	int cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	char *save = NULL;
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			close(cur);
			errno = EXDEV;
			return -1;
		}
		int fd = sys_openat2(cur, c, O_PATH | O_DIRECTORY | O_CLOEXEC,
				     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		if (fd < 0 && errno == ENOENT && mk) {
			if (mkdirat(cur, c, 0755) && errno != EEXIST) {
				close(cur);
				return -1;
			}
			fd = sys_openat2(cur, c, O_PATH | O_DIRECTORY | O_CLOEXEC,
					 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		}
		close(cur);
		if (fd < 0)
			return -1;
		cur = fd;
	}
	return cur;
}

static int mount_at(int rootfd, const char *path, const char *src, const char *fs, unsigned long fl,
		    const char *data)
{
	int fd = open_beneath(rootfd, path, 1);
	if (fd < 0) {
		fprintf(stderr, "ctpool: container: cannot open mount point %s: %s\n", path, strerror(errno));
		return -1;
	}
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	int r = mount(src, p, fs, fl, data);
	if (r)
		fprintf(stderr, "ctpool: container: cannot mount %s on %s: %s\n", fs, path, strerror(errno));
	close(fd);
	return r;
}

/* "a/b/c" -> buf "a/b", returns "c"; "c" -> buf "", returns "c" */
static const char *split_parent(const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "%s", path);
	char *slash = strrchr(buf, '/');
	if (!slash) {
		buf[0] = 0;
		return path;
	}
	*slash = 0;
	return slash + 1;
}

/* Open file or directory PATH beneath rootfd as O_PATH, no symlink anywhere. */
static int open_leaf(int rootfd, const char *path)
{
	char parent[PATH_MAX];
	const char *base = split_parent(path, parent, sizeof(parent));
	int dfd = open_beneath(rootfd, parent, 0);
	if (dfd < 0)
		return -1;
	int fd = sys_openat2(dfd, base, O_PATH | O_CLOEXEC,
			     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	int e = errno;
	close(dfd);
	errno = e;
	return fd;
}

/*
 * What runc masks and makes read-only in a container's /proc and /sys
 * (docker's defaults): kernel memory, keys, timers and hardware details
 * hidden; sysctls, sysrq, IRQ affinity, bus and fs settings unwritable, as
 * they are global to the host.
 */
static const char *const masked_paths[] = {
	"proc/acpi", "proc/asound", "proc/kcore", "proc/keys", "proc/latency_stats",
	"proc/timer_list", "proc/timer_stats", "proc/sched_debug", "proc/scsi",
	"sys/firmware", "sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
	"proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger",
};

/* A file gets the container's /dev/null (nullfd) bound over it, a directory an empty ro tmpfs. */
static int mask_path(int rootfd, const char *path, int nullfd)
{
	int fd = open_leaf(rootfd, path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1; /* not in this kernel: nothing to hide */
	struct stat st;
	char target[64], src[64];
	snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
	snprintf(src, sizeof(src), "/proc/self/fd/%d", nullfd);
	int r = fstat(fd, &st);
	if (r == 0 && S_ISDIR(st.st_mode))
		r = mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555");
	else if (r == 0)
		r = mount(src, target, NULL, MS_BIND, NULL);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* Bind PATH onto itself, then make that bind mount read-only. */
static int readonly_path(int rootfd, const char *path)
{
	int fd = open_leaf(rootfd, path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	int r = mount(p, p, NULL, MS_BIND | MS_REC, NULL);
	close(fd);
	if (r)
		return -1;
	fd = open_leaf(rootfd, path); /* now the new bind mount, on top */
	if (fd < 0)
		return -1;
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	r = mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static void child_fail(int errfd, const char *what) __attribute__((noreturn));

/* Masked and read-only paths; /proc, /sys and /dev are mounted. Reports via errfd. */
static void confine_mounts(int rootfd, int errfd)
{
	struct stat st;
	int nullfd = open_leaf(rootfd, "dev/null");
	if (nullfd < 0 || fstat(nullfd, &st))
		child_fail(errfd, "opening the container's /dev/null");
	/* the node we just created in a fresh tmpfs, but check before binding it everywhere */
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		errno = EINVAL;
		child_fail(errfd, "checking the container's /dev/null");
	}
	char what[128];
	for (size_t i = 0; i < sizeof(masked_paths) / sizeof(masked_paths[0]); i++)
		if (mask_path(rootfd, masked_paths[i], nullfd)) {
			snprintf(what, sizeof(what), "masking /%s", masked_paths[i]);
			child_fail(errfd, what);
		}
	for (size_t i = 0; i < sizeof(readonly_paths) / sizeof(readonly_paths[0]); i++)
		if (readonly_path(rootfd, readonly_paths[i])) {
			snprintf(what, sizeof(what), "making /%s read-only", readonly_paths[i]);
			child_fail(errfd, what);
		}
	close(nullfd);
}

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

struct run_opts {
	const char *name, *hostname, *dev, *rootdir;
	char **cmd;
	int privileged;
	const struct console *con; /* the container's 0-2; tty: a pty to make CMD's terminal */
	int sync_fd;  /* runner -> init: go; then: the device filter is on */
	int err_fd;   /* init -> runner: why setup failed; closed when done */
	int ready_fd; /* init -> runner: the root is mounted */
};

static void child_fail(int errfd, const char *what)
{
	char m[512];
	int n = snprintf(m, sizeof(m), "%s: %s", what, strerror(errno));
	if (write(errfd, m, n) < 0) {
	}
	_exit(127);
}

static pid_t g_main_child;
static void init_forward(int sig)
{
	if (g_main_child > 0)
		kill(g_main_child, sig);
}

/* Mount the thin volume; the runner attaches the device filter after (it would refuse this). */
static int mount_root(const struct run_opts *o, int efd)
{
	char c;
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL))
		child_fail(efd, "making / a slave mount");
	if (mount(o->dev, o->rootdir, "ext4", MS_NOATIME, NULL))
		child_fail(efd, "mounting the container's thin volume");
	errno = EPIPE;
	if (write(o->ready_fd, "m", 1) != 1 || read(o->sync_fd, &c, 1) != 1)
		child_fail(efd, "waiting for the device filter");
	close(o->ready_fd);
	close(o->sync_fd);
	int rootfd = open(o->rootdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		child_fail(efd, "opening the rootfs");
	return rootfd;
}

/* A tmpfs /dev with the usual nodes and links, devpts and shm. */
static void make_dev(int rootfd, int efd)
{
	static const struct {
		const char *n;
		int maj, min;
	} nodes[] = { { "null", 1, 3 },	   { "zero", 1, 5 },	{ "full", 1, 7 },
		      { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 } };
	if (mount_at(rootfd, "dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"))
		child_fail(efd, "mounting /dev");
	int devfd = open_beneath(rootfd, "dev", 0);
	if (devfd < 0)
		child_fail(efd, "opening /dev");
	mode_t um = umask(0);
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
		if (mknodat(devfd, nodes[i].n, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)))
			child_fail(efd, "creating /dev nodes");
	umask(um);
	mkdirat(devfd, "pts", 0755);
	mkdirat(devfd, "shm", 01777);
	symlinkat("pts/ptmx", devfd, "ptmx");
	symlinkat("/proc/self/fd", devfd, "fd");
	symlinkat("/proc/self/fd/0", devfd, "stdin");
	symlinkat("/proc/self/fd/1", devfd, "stdout");
	symlinkat("/proc/self/fd/2", devfd, "stderr");
	close(devfd);
	if (mount_at(rootfd, "dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
		     "newinstance,ptmxmode=0666,mode=0620"))
		child_fail(efd, "mounting /dev/pts");
	if (mount_at(rootfd, "dev/shm", "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		     "mode=1777,size=65536k"))
		child_fail(efd, "mounting /dev/shm");
}

/* /proc, /sys (read-only), the container's cgroup (its namespace root, read-only), /dev */
static void mount_kernel_fs(int rootfd, int efd)
{
	if (mount_at(rootfd, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		child_fail(efd, "mounting /proc");
	if (mount_at(rootfd, "sys", "sysfs", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL))
		child_fail(efd, "mounting /sys");
	mount_at(rootfd, "sys/fs/cgroup", "cgroup2", "cgroup2",
		 MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL);
	make_dev(rootfd, efd);
}

static void enter_root(int rootfd, int efd)
{
	if (fchdir(rootfd))
		child_fail(efd, "entering the rootfs");
	if (sys_pivot_root(".", "."))
		child_fail(efd, "pivot_root");
	/* MS_SLAVE, not MS_PRIVATE, before dropping the old root (runc 117c92745) */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL))
		child_fail(efd, "making the old root a slave");
	if (umount2(".", MNT_DETACH))
		child_fail(efd, "detaching the old root");
	if (chdir("/"))
		child_fail(efd, "chdir /");
	close(rootfd);
}

/* Run CMD as pid 2, forward signals to it, reap orphans; exit with CMD's status. */
static void __attribute__((noreturn)) run_as_init(char **cmd, int tty)
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
static void __attribute__((noreturn)) container_init(struct run_opts *o)
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
	run_as_init(o->cmd, o->con->tty);
}

static pid_t g_fwd_pid;
static void parent_forward(int sig)
{
	if (g_fwd_pid > 0)
		kill(g_fwd_pid, sig);
}

/* After the container's init is gone: drop its cgroup, volumes, record. */
static void container_teardown(const char *name)
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

struct run_args {
	const char *name, *hostname, *iomax;
	uint64_t mem, pids, ioweight;
	double cpus;
	int privileged, tty;
	char **cmd;
};

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
	int i;
	memset(r, 0, sizeof(*r));
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		int hv = i + 1 < argc;
		if (!strcmp(a, "--"))
			break;
		if (is_help(a))
			return ctr_usage(stdout);
		if (!strcmp(a, "--memory") && hv) {
			if (parse_size(argv[++i], &r->mem))
				goto bad;
		} else if (!strcmp(a, "--pids") && hv) {
			if (parse_u64(argv[++i], &r->pids))
				goto bad;
		} else if (!strcmp(a, "--io-weight") && hv) {
			if (parse_u64(argv[++i], &r->ioweight) || r->ioweight < 1 || r->ioweight > 10000)
				goto bad;
		} else if (!strcmp(a, "--io-max") && hv)
			r->iomax = argv[++i];
		else if (!strcmp(a, "--cpus") && hv) {
			if (parse_cpus(argv[++i], &r->cpus))
				return EXIT_USAGE;
		} else if (!strcmp(a, "--hostname") && hv)
			r->hostname = argv[++i];
		else if (!strcmp(a, "--privileged"))
			r->privileged = 1;
		else if (!strcmp(a, "-t") || !strcmp(a, "--tty"))
			r->tty = 1;
		else if (a[0] != '-' && !r->name)
			r->name = a;
		else {
		bad:
			err("container run: bad argument '%s'", argv[i]);
			return ctr_usage(stderr);
		}
	}
	if (!r->name || i + 1 >= argc) {
		err("container run needs NAME and '-- CMD...'");
		return ctr_usage(stderr);
	}
	r->cmd = argv + i + 1;
	return -1;
}

/* memory.max, pids.max, cpu.max, io.weight, io.max (on the thin's maj:min) */
static int cg_apply_limits(const char *cg, const struct run_args *r, uint32_t maj, uint32_t min)
{
	char val[256];
	if (r->mem) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)r->mem);
		if (cg_set(cg, "memory.max", val))
			return -1;
		char sw[PATH_MAX + 32];
		snprintf(sw, sizeof(sw), "%s/memory.swap.max", cg);
		if (access(sw, F_OK) == 0 && cg_set(cg, "memory.swap.max", "0"))
			return -1;
	}
	if (r->pids) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)r->pids);
		if (cg_set(cg, "pids.max", val))
			return -1;
	}
	if (r->cpus > 0) {
		snprintf(val, sizeof(val), "%llu 100000", (unsigned long long)(r->cpus * 100000));
		if (cg_set(cg, "cpu.max", val))
			return -1;
	}
	if (r->ioweight) {
		snprintf(val, sizeof(val), "default %llu", (unsigned long long)r->ioweight);
		if (cg_set(cg, "io.weight", val))
			return -1;
		/* per-device weight needs iocost enabled on the device: optional */
		char wp[PATH_MAX + 16];
		snprintf(wp, sizeof(wp), "%s/io.weight", cg);
		snprintf(val, sizeof(val), "%u:%u %llu", maj, min, (unsigned long long)r->ioweight);
		if (write_str(wp, val))
			dbg("per-device io.weight on %u:%u not supported: %s", maj, min, strerror(errno));
	}
	if (r->iomax) {
		snprintf(val, sizeof(val), "%u:%u %s", maj, min, r->iomax);
		if (cg_set(cg, "io.max", val))
			return -1;
	}
	return 0;
}

/* A fresh cgroup for the container (a leftover one could hold anything) with its limits. */
static int cg_create(const char *name, const struct run_args *r, char *cg, size_t len)
{
	uint32_t maj = 0, min = 0;
	dev_of(name, &maj, &min);
	if (cg_setup_root())
		return -1;
	cg_remove(name);
	cg_path(name, cg, len);
	if (mkdir(cg, 0755) && errno != EEXIST) {
		err("cannot create cgroup %s: %s", cg, strerror(errno));
		return -1;
	}
	if (cg_apply_limits(cg, r, maj, min)) {
		cg_remove(name);
		return -1;
	}
	return 0;
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
	if ((g_lock = lock_state()) >= 0) {
		container_teardown(name);
		unlock_state(g_lock);
		g_lock = -1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int ctr_run(int argc, char **argv)
{
	struct run_args ra;
	int usage = parse_run(argc, argv, &ra);
	if (usage != -1)
		return usage;
	const char *name = ra.name;
	if ((g_lock = lock_state()) < 0)
		return EXIT_ERR;
	struct kv c;
	struct pool p;
	if (load_kind(name, "container", &c) || vol_open_pool(name, &c, &p))
		return EXIT_ERR;
	if (container_running(&c)) {
		err("container %s is already running (pid %llu): use 'ctpool container exec'", name,
		    (unsigned long long)kv_get_u64(&c, "init_pid", 0));
		return EXIT_ERR;
	}
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
				      .cmd = ra.cmd, .privileged = ra.privileged, .con = &con, .sync_fd = syncp[0],
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

static int load_running(const char *name, struct kv *c)
{
	if (load_kind(name, "container", c))
		return -1;
	if (!container_running(c)) {
		err("container %s is not running (start it with 'ctpool container run %s -- CMD')", name, name);
		kv_free(c);
		return -1;
	}
	/* exec, attach and detach find the cgroup from CTPOOL_CGROUP_ROOT: the run's must match */
	char cg[PATH_MAX];
	const char *rec = kv_get(c, "cgroup");
	cg_path(name, cg, sizeof(cg));
	if (rec && strcmp(rec, cg)) {
		err("container %s runs in cgroup %s, not %s: set CTPOOL_CGROUP_ROOT as when it was "
		    "started",
		    name, rec, cg);
		kv_free(c);
		return -1;
	}
	return 0;
}

/* Join all namespaces of pid and its cgroup. Call in a child process. */
static int join_container(const char *name, pid_t pid, int mnt_only)
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

static int ctr_exec(int argc, char **argv)
{
	const char *name = NULL;
	int i, tty = 0;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (is_help(argv[i]))
			return ctr_usage(stdout);
		if (!strcmp(argv[i], "-t") || !strcmp(argv[i], "--tty"))
			tty = 1;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			err("container exec: bad argument '%s'", argv[i]);
			return ctr_usage(stderr);
		}
	}
	if (!name || i + 1 >= argc)
		return ctr_usage(stderr);
	char **cmd = argv + i + 1;
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
		if (chdir("/")) {
		}
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
			if ((g_lock = lock_state()) >= 0) {
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
	const char *name = NULL;
	uint64_t timeout = 10;
	for (int i = 0; i < argc; i++) {
		if (is_help(argv[i]))
			return ctr_usage(stdout);
		if ((!strcmp(argv[i], "--timeout") || !strcmp(argv[i], "-t")) && i + 1 < argc) {
			if (parse_u64(argv[++i], &timeout))
				return ctr_usage(stderr);
		} else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			return ctr_usage(stderr);
	}
	if (!name)
		return ctr_usage(stderr);
	struct kv c;
	if (load_kind(name, "container", &c))
		return EXIT_ERR;
	if (!container_running(&c)) {
		const char *st = kv_get(&c, "status");
		kv_free(&c);
		if (st && !strcmp(st, "running")) /* crashed runner and init: clean up */
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
	const char *name = NULL;
	int force = 0;
	for (int i = 0; i < argc; i++) {
		if (is_help(argv[i]))
			return ctr_usage(stdout);
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = 1;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else
			return ctr_usage(stderr);
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
	if ((g_lock = lock_state()) < 0)
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

/* ---------------------------------------------------------------- hot-plug */

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
	const char *pos[3] = { NULL, NULL, NULL };
	int npos = 0;
	memset(a, 0, sizeof(*a));
	a->fstype = "ext4";
	for (int i = 0; i < argc; i++) {
		if (is_help(argv[i]))
			return ctr_usage(stdout);
		if (!strcmp(argv[i], "--block"))
			a->block = 1;
		else if (!strcmp(argv[i], "--mkfs"))
			a->mkfs = 1;
		else if (!strcmp(argv[i], "--ro"))
			a->ro = 1;
		else if (!strcmp(argv[i], "--fstype") && i + 1 < argc)
			a->fstype = argv[++i];
		else if (argv[i][0] != '-' && npos < 3)
			pos[npos++] = argv[i];
		else
			return ctr_usage(stderr);
	}
	if (npos != 3) {
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
		const char *mk[] = { prog, "-q", "-F", "-E", "nodiscard", dev, NULL };
		const char *mk2[] = { prog, dev, NULL };
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

static int ctr_attach(int argc, char **argv)
{
	struct attach_req a;
	int usage = parse_attach(argc, argv, &a);
	if (usage != -1)
		return usage;
	if ((g_lock = lock_state()) < 0)
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
	if (vol_dm_name(vol, dmn, sizeof(dmn)) || dm_info(dmn, &di)) {
		err("cannot tell whether volume %s is open: %s", vol, dm_last_error());
	} else if (!di.exists || di.open_count == 0)
		return 0;
	else
		err("volume %s is still open in container %s (%d opener(s)): close it there, or stop "
		    "the container, then detach",
		    vol, name, di.open_count);
	ctr_update_devices(name, c, NULL, NULL);
	return -1;
}

static int ctr_detach(int argc, char **argv)
{
	if (argc >= 1 && is_help(argv[0]))
		return ctr_usage(stdout);
	if (argc != 2)
		return ctr_usage(stderr);
	const char *name = argv[0], *path = argv[1];
	if ((g_lock = lock_state()) < 0)
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

/* ---------------------------------------------------------------- listing */

static int list_kind(const char *kind, int json)
{
	int n, first = 1;
	char **names = vol_list_names(&n);
	if (json)
		printf("[");
	else if (!strcmp(kind, "image"))
		printf("%-20s %-10s %10s %-10s %s\n", "NAME", "POOL", "SIZE", "STATE", "PARENT");
	else
		printf("%-20s %-20s %-10s %8s\n", "NAME", "IMAGE", "STATUS", "PID");
	int rc = EXIT_OK;
	for (int i = 0; i < n; i++) {
		struct kv v;
		int lr = vol_load_listed(&v, names[i]);
		if (lr) {
			if (lr < 0)
				rc = EXIT_ERR; /* reported; the others are still listed */
			continue;
		}
		const char *k = kv_get(&v, "kind");
		if (!k || strcmp(k, kind)) {
			kv_free(&v);
			continue;
		}
		char sz[32];
		const char *pool = kv_get(&v, "pool") ? kv_get(&v, "pool") : "";
		if (!strcmp(kind, "image")) {
			const char *st = kv_get(&v, "state") ? kv_get(&v, "state") : "ready";
			const char *par = kv_get(&v, "parent") ? kv_get(&v, "parent") : "";
			if (json) {
				printf("%s{\"name\":", first ? "" : ",");
				json_str(stdout, names[i]);
				printf(",\"pool\":");
				json_str(stdout, pool);
				printf(",\"size\":%llu,\"state\":", (unsigned long long)kv_get_u64(&v, "size", 0));
				json_str(stdout, st);
				printf(",\"parent\":");
				if (*par)
					json_str(stdout, par);
				else
					printf("null");
				printf("}");
			} else
				printf("%-20s %-10s %10s %-10s %s\n", names[i], pool,
				       fmt_size(kv_get_u64(&v, "size", 0), sz, sizeof(sz)), st, *par ? par : "-");
		} else {
			int run = container_running(&v);
			const char *img = kv_get(&v, "image") ? kv_get(&v, "image") : "";
			unsigned long long pid = run ? kv_get_u64(&v, "init_pid", 0) : 0;
			if (json) {
				printf("%s{\"name\":", first ? "" : ",");
				json_str(stdout, names[i]);
				printf(",\"image\":");
				json_str(stdout, img);
				printf(",\"pool\":");
				json_str(stdout, pool);
				printf(",\"running\":%s,\"pid\":%llu", run ? "true" : "false", pid);
				printf(",\"attached\":[");
				int fa = 1;
				for (int j = 0; j < v.n; j++)
					if (!strncmp(v.k[j], "attach.", 7)) {
						printf("%s{\"volume\":", fa ? "" : ",");
						json_str(stdout, v.k[j] + 7);
						printf(",\"at\":");
						json_str(stdout, v.v[j]);
						printf("}");
						fa = 0;
					}
				printf("]}");
			} else
				printf("%-20s %-20s %-10s %8s\n", names[i], img, run ? "running" : "stopped",
				       run ? (snprintf(sz, sizeof(sz), "%llu", pid), sz) : "-");
		}
		first = 0;
		kv_free(&v);
	}
	if (json)
		printf("]\n");
	free_names(names, n);
	return rc;
}

int cmd_container(int argc, char **argv)
{
	if (argc < 1)
		return ctr_usage(stderr);
	const char *s = argv[0];
	if (is_help(s))
		return ctr_usage(stdout);
	argc--;
	argv++;
	if (!strcmp(s, "create"))
		return ctr_create(argc, argv);
	if (!strcmp(s, "run"))
		return ctr_run(argc, argv);
	if (!strcmp(s, "exec"))
		return ctr_exec(argc, argv);
	if (!strcmp(s, "stop"))
		return ctr_stop(argc, argv);
	if (!strcmp(s, "rm") || !strcmp(s, "remove"))
		return ctr_rm(argc, argv);
	if (!strcmp(s, "attach"))
		return ctr_attach(argc, argv);
	if (!strcmp(s, "detach"))
		return ctr_detach(argc, argv);
	if (!strcmp(s, "list") || !strcmp(s, "ls")) {
		if (argc > 0 && is_help(argv[0]))
			return ctr_usage(stdout);
		if ((g_lock = lock_state()) < 0)
			return EXIT_ERR;
		return list_kind("container", argc > 0 && !strcmp(argv[0], "--json"));
	}
	err("unknown container command '%s'", s);
	return ctr_usage(stderr);
}
