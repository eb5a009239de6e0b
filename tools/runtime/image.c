// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool image import|list|rm. An image is a thin volume holding an ext4
 * filesystem unpacked from a tarball, never written after import.
 */
#include "commands.h"
#include "common/cli.h"
#include "extract.h"
#include "oci-image.h"
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static int image_usage(FILE *f)
{
	fputs("usage: ctpool image import NAME ROOTFS.tar[.gz] [--size SIZE] [--parent IMG] [--pool P]\n"
	      "       ctpool image import NAME IMAGE.tar [--size SIZE] [--pool P]\n"
	      "       ctpool image list [--json]\n"
	      "       ctpool image rm NAME\n"
	      "An image is a thin volume with an ext4 filesystem holding the unpacked tarball\n"
	      "(ownership, modes and xattrs kept; device nodes skipped); it is read-only after\n"
	      "import. With --parent the image is a snapshot of IMG with the tarball unpacked on\n"
	      "top. Every name is resolved inside the image: links never lead out of it.\n"
	      "IMAGE.tar, an OCI image layout or a docker-save archive, imports each layer as a\n"
	      "snapshot of the one below (shared layers stored once), digests verified, and\n"
	      "keeps the image's Env, Entrypoint, Cmd, WorkingDir and User for container run.\n",
	      f);
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

int import_mount(const char *name, const char *dev, int fresh, char *mnt, size_t len)
{
	snprintf(mnt, len, "%s/run/import-%s", G.state_dir, name);
	mkdir_p(mnt, 0700);
	if (mount(dev, mnt, "ext4", MS_NOATIME, NULL)) {
		err("cannot mount %s on %s: %s", dev, mnt, strerror(errno));
		rmdir(mnt);
		return -1;
	}
	if (fresh) {
		char lf[PATH_MAX + 16];
		snprintf(lf, sizeof(lf), "%s/lost+found", mnt);
		rmdir(lf);
	}
	return 0;
}

void import_unmount(const char *mnt)
{
	sync();
	if (umount2(mnt, 0)) {
		err("cannot unmount %s: %s", mnt, strerror(errno));
		umount2(mnt, MNT_DETACH);
	}
	rmdir(mnt);
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
	enum { OPT_SIZE = 256, OPT_PARENT, OPT_POOL };
	static const struct option options[] = {
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "parent", required_argument, NULL, OPT_PARENT },
		{ "pool", required_argument, NULL, OPT_POOL },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	const char *args[2] = { NULL, NULL }, *parent = NULL, *pool = NULL;
	uint64_t size = 0;
	struct cli cl;
	int opt;
	cli_init(&cl, argc, argv, "-h", options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == OPT_SIZE) {
			if (parse_size(optarg, &size)) {
				err("bad size '%s'", optarg);
				return EXIT_USAGE;
			}
		} else if (opt == OPT_PARENT)
			parent = optarg;
		else if (opt == OPT_POOL)
			pool = optarg;
		else if (opt != CLI_ARG || cli_take(&cl, args, 2))
			return cli_reject(&cl, opt, "image import", image_usage);
	}
	const char *name = args[0], *tarball = args[1];
	if (!tarball)
		return image_usage(stderr);
	if (access(tarball, R_OK)) {
		err("cannot read %s: %s", tarball, strerror(errno));
		return EXIT_ERR;
	}
	enum image_format fmt;
	if (oci_archive_format(tarball, &fmt))
		return EXIT_ERR;
	if (fmt != IMAGE_FLAT && parent) {
		err("--parent takes a rootfs tarball: %s is an image archive with its own layers", tarball);
		return EXIT_USAGE;
	}
	if (fmt != IMAGE_FLAT)
		return oci_import(name, tarball, size, pool, fmt);
	if (!size && !parent)
		size = 256ull << 20;
	size = (size + 511) / 512 * 512;
	/* the lock is held for the whole import: recovery treats "importing" as a crash leftover */
	g_lock = lock_state();
	if (g_lock < 0)
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
		const char *const mk[] = { "mkfs.ext4", "-q", "-F", "-L", name, "-E",
					   "nodiscard,lazy_itable_init=0,lazy_journal_init=0", dev, NULL };
		if (run_cmd(mk, 0)) {
			err("mkfs.ext4 failed on %s", dev);
			goto fail;
		}
	}
	crash_point("import-after-mkfs");
	if (import_mount(name, dev, !parent, mnt, sizeof(mnt)))
		goto fail;
	info("unpacking %s into %s", tarball, name);
	int tr = unpack_into(mnt, tarball);
	crash_point("import-after-unpack");
	import_unmount(mnt);
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

static int image_rm(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return image_usage(argc == 2 && is_help(argv[1]) ? stdout : stderr);
	const char *name = argv[1];
	struct kv v;
	struct pool p;
	if (lock_load_kind(name, "image", &v, &p))
		return EXIT_ERR;
	char who[NAME_MAX_LEN + 1];
	static const char *const keys[] = { "image", "parent", NULL };
	int n = vol_count_users(name, keys, who, sizeof(who));
	if (n < 0) {
		err("image %s: a record cannot be read and may use it: not removed", name);
		return EXIT_ERR;
	}
	if (n) {
		err("image %s is used by %d container(s)/image(s), e.g. '%s': remove them first", name, n,
		    who);
		return EXIT_ERR;
	}
	char parent[NAME_MAX_LEN + 1];
	snprintf(parent, sizeof(parent), "%s", kv_get(&v, "parent") ? kv_get(&v, "parent") : "");
	if (vol_do_delete(&p, name, (int)kv_get_u64(&p.kv, "data_file", 0)))
		return EXIT_ERR;
	info("removed image %s", name);
	if (*parent && oci_layers_release(&p, parent)) /* its layers, once no image uses them */
		return EXIT_ERR;
	return EXIT_OK;
}

static int image_list(int argc, char **argv)
{
	return list_kind_cmd("image", image_usage, argc, argv);
}

int cmd_image(int argc, char **argv)
{
	static const struct subcmd subs[] = {
		{ "import", NULL, image_import },
		{ "rm", "remove", image_rm },
		{ "list", "ls", image_list },
		{ NULL, NULL, NULL },
	};
	return run_subcmd("image", subs, image_usage, argc, argv);
}
