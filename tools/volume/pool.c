// SPDX-License-Identifier: GPL-2.0-only
/* ctpool: pool commands (create, status, resize, activate, deactivate, remove). */
#include "commands.h"
#include "common/cli.h"
#include "volume.h"

#include <dirent.h>
#include <json-c/json.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define THIN_MAGIC 27022010ull

static int dev_size_bytes(const char *path, uint64_t *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	int r = -1;
	if (fstat(fd, &st) == 0) {
		if (S_ISBLK(st.st_mode))
			r = ioctl(fd, BLKGETSIZE64, out);
		else {
			*out = st.st_size;
			r = 0;
		}
	}
	close(fd);
	return r;
}

static int open_pool_dev(struct pool *p, const char *key, const char *filekey, char *dev, size_t len)
{
	const char *path = kv_get(&p->kv, key);
	if (!path)
		return -1;
	if (kv_get_u64(&p->kv, filekey, 0)) {
		if (loop_find(path, dev, len) == 0)
			return 0;
		return loop_attach(path, dev, len);
	}
	snprintf(dev, len, "%s", path);
	return 0;
}

static void pool_table(struct pool *p, const char *meta, const char *data, char *buf, size_t len)
{
	const char *feat = kv_get(&p->kv, "features");
	int nf = 0;
	if (feat && *feat) {
		nf = 1;
		for (const char *c = feat; *c; c++)
			if (*c == ' ')
				nf++;
	}
	snprintf(buf, len, "%s %s %u %llu %d%s%s", meta, data, pool_block_sectors(p),
		 (unsigned long long)kv_get_u64(&p->kv, "low_water", 0), nf, nf ? " " : "",
		 nf ? feat : "");
}

static void target_hint(const char *target)
{
	if (dm_target_exists(target) == 0)
		err("the kernel has no '%s' target: load its module (modprobe %s), or choose the "
		    "target with --pool-target/--thin-target",
		    target, !strcmp(target, "thin-pool") || !strcmp(target, "thin") ? "dm-thin-pool" :
											 "dm-ctpool");
}

/* Bring the pool's dm device up if it is not (after a reboot), then recover. */
int pool_ensure_active(struct pool *p)
{
	struct dm_dev_info di;
	if (dm_info(p->name, &di)) {
		err("cannot talk to device-mapper: %s (is dm-mod loaded and /dev/mapper/control present?)",
		    dm_last_error());
		return -1;
	}
	if (!di.exists) {
		char meta[PATH_MAX], data[PATH_MAX], table[PATH_MAX * 2 + 128];
		info("activating pool %s", p->name);
		if (open_pool_dev(p, "metadata", "metadata_file", meta, sizeof(meta)) ||
		    open_pool_dev(p, "data", "data_file", data, sizeof(data))) {
			err("cannot open the devices of pool %s", p->name);
			return -1;
		}
		kv_set(&p->kv, "metadata_dev", meta);
		kv_set(&p->kv, "data_dev", data);
		pool_table(p, meta, data, table, sizeof(table));
		if (dm_create_dev(p->name, pool_pool_target(p), kv_get_u64(&p->kv, "data_sectors", 0),
				  table)) {
			err("cannot activate pool %s: %s", p->name, dm_last_error());
			target_hint(pool_pool_target(p));
			return -1;
		}
		pool_save(p);
	} else if (di.suspended) {
		warnx_("pool %s was left suspended; resuming it", p->name);
		dm_resume_dev(p->name);
	}
	return pool_recover(p);
}

int pool_get_status(struct pool *p, struct pool_status *ps)
{
	char type[64], params[1024];
	uint64_t len;
	if (dm_status(p->name, type, sizeof(type), &len, params, sizeof(params))) {
		err("cannot read the status of pool %s: %s", p->name, dm_last_error());
		return -1;
	}
	if (parse_pool_status(params, ps)) {
		err("cannot parse the status of pool %s ('%s %s'): is it a thin pool?", p->name, type,
		    params);
		return -1;
	}
	if (ps->fail) {
		err("pool %s is in %s mode: it needs offline repair: deactivate it, run 'ctpool meta check' on its metadata and, if that fails, 'ctpool meta repair -i METADATA -o NEW_METADATA'",
		    p->name, ps->mode);
		return -1;
	}
	return 0;
}

static int pool_usage(FILE *f)
{
	fputs("usage: ctpool pool create NAME --metadata DEV|FILE --data DEV|FILE [--size SIZE]\n"
	      "                [--metadata-size SIZE] [--block-size 64k] [--low-water BLOCKS]\n"
	      "                [--skip-zeroing] [--no-discard-passdown] [--error-if-no-space]\n"
	      "                [--reuse|--wipe]\n"
	      "       ctpool pool status [NAME] [--json]\n"
	      "       ctpool pool list [--json]\n"
	      "       ctpool pool resize NAME --data-size SIZE\n"
	      "       ctpool pool activate|deactivate NAME\n"
	      "       ctpool pool activate --all    (every recorded pool and its volumes)\n"
	      "       ctpool pool remove NAME [--force]\n",
	      f);
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

/*
 * Both use O_DIRECT: the kernel target reads and writes the metadata device
 * with bios, bypassing the page cache, so a buffered read could return a
 * stale copy (e.g. our own earlier zeroing) and miss an existing pool.
 */
static int meta_block_io(const char *dev, int write, unsigned char *b)
{
	int fd = open(dev, (write ? O_WRONLY : O_RDONLY) | O_DIRECT | O_CLOEXEC);
	if (fd < 0 && errno == EINVAL) /* no O_DIRECT here: flush and go buffered */
		fd = open(dev, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ioctl(fd, BLKFLSBUF, 0);
	ssize_t r = write ? pwrite(fd, b, 4096, 0) : pread(fd, b, 4096, 0);
	int rc = r == 4096 ? 0 : -1;
	if (write && fsync(fd))
		rc = -1;
	close(fd);
	return rc;
}

static int check_superblock(const char *dev, int *has_magic)
{
	unsigned char *b = aligned_alloc(4096, 4096);
	if (!b || meta_block_io(dev, 0, b)) {
		free(b);
		return -1;
	}
	uint64_t magic = 0;
	for (int i = 7; i >= 0; i--)
		magic = (magic << 8) | b[32 + i];
	*has_magic = magic == THIN_MAGIC;
	free(b);
	return 0;
}

static int zero_first_block(const char *dev)
{
	unsigned char *b = aligned_alloc(4096, 4096);
	if (!b)
		return -1;
	memset(b, 0, 4096);
	int r = meta_block_io(dev, 1, b);
	free(b);
	return r;
}

static int make_file(const char *path, uint64_t size, int *created)
{
	struct stat st;
	*created = 0;
	if (stat(path, &st) == 0) {
		if (S_ISREG(st.st_mode) && size && (uint64_t)st.st_size < size)
			if (truncate(path, size))
				return -1;
		return 0;
	}
	if (!size) {
		err("%s does not exist; give --size (data) or --metadata-size to create a file", path);
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int r = ftruncate(fd, size);
	close(fd);
	*created = 1;
	return r;
}

static int is_regular(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

enum {
	OPT_METADATA = 256, OPT_DATA, OPT_BLOCK_SIZE, OPT_LOW_WATER, OPT_SIZE, OPT_METADATA_SIZE,
	OPT_SKIP_ZEROING, OPT_NO_DISCARD_PASSDOWN, OPT_ERROR_IF_NO_SPACE, OPT_REUSE, OPT_WIPE,
	OPT_JSON, OPT_FORCE,
};

static const struct option create_options[] = {
	{ "metadata", required_argument, NULL, OPT_METADATA },
	{ "data", required_argument, NULL, OPT_DATA },
	{ "block-size", required_argument, NULL, OPT_BLOCK_SIZE },
	{ "low-water", required_argument, NULL, OPT_LOW_WATER },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "data-size", required_argument, NULL, OPT_SIZE },
	{ "metadata-size", required_argument, NULL, OPT_METADATA_SIZE },
	{ "skip-zeroing", no_argument, NULL, OPT_SKIP_ZEROING },
	{ "no-discard-passdown", no_argument, NULL, OPT_NO_DISCARD_PASSDOWN },
	{ "error-if-no-space", no_argument, NULL, OPT_ERROR_IF_NO_SPACE },
	{ "reuse", no_argument, NULL, OPT_REUSE },
	{ "wipe", no_argument, NULL, OPT_WIPE },
	CLI_HELP_OPTION,
	{ NULL, 0, NULL, 0 },
};

static int pool_create(int argc, char **argv)
{
	const char *name = NULL, *meta = NULL, *data = NULL;
	uint64_t bs = 64 * 1024, lw = UINT64_MAX, size = 0, msize = 0;
	int skipz = 0, nopass = 0, eins = 0, reuse = 0, wipe = 0;
	struct cli cl;
	int opt, bad;
	cli_init(&cl, argc, argv, "-h", create_options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		bad = 0;
		switch (opt) {
		case OPT_METADATA:
			meta = optarg;
			break;
		case OPT_DATA:
			data = optarg;
			break;
		case OPT_BLOCK_SIZE:
			bad = parse_size(optarg, &bs);
			break;
		case OPT_LOW_WATER:
			bad = parse_u64(optarg, &lw);
			break;
		case OPT_SIZE:
			bad = parse_size(optarg, &size);
			break;
		case OPT_METADATA_SIZE:
			bad = parse_size(optarg, &msize);
			break;
		case OPT_SKIP_ZEROING:
			skipz = 1;
			break;
		case OPT_NO_DISCARD_PASSDOWN:
			nopass = 1;
			break;
		case OPT_ERROR_IF_NO_SPACE:
			eins = 1;
			break;
		case OPT_REUSE:
			reuse = 1;
			break;
		case OPT_WIPE:
			wipe = 1;
			break;
		case CLI_ARG:
			bad = cli_take(&cl, &name, 1);
			break;
		default:
			bad = 1;
		}
		if (bad)
			return cli_reject(&cl, opt, "pool create", pool_usage);
	}
	if (!name || !meta || !data) {
		err("pool create needs NAME, --metadata and --data");
		return pool_usage(stderr);
	}
	if (!valid_name(name)) {
		err("invalid pool name '%s' (letters, digits, '.', '_', '-')", name);
		return EXIT_USAGE;
	}
	if (bs < 65536 || bs % 65536 || bs > (1ull << 30)) {
		err("--block-size must be a multiple of 64KiB between 64KiB and 1GiB");
		return EXIT_USAGE;
	}
	if (reuse && wipe) {
		err("--reuse and --wipe exclude each other");
		return EXIT_USAGE;
	}
	int lock = lock_state();
	if (lock < 0)
		return EXIT_ERR;
	struct pool p;
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", name);
	snprintf(p.conf_path, sizeof(p.conf_path), "%s/pools/%s.conf", G.state_dir, name);
	snprintf(p.txn_path, sizeof(p.txn_path), "%s/pools/%s.txn", G.state_dir, name);
	if (access(p.conf_path, F_OK) == 0) {
		err("pool %s already exists (see 'ctpool pool status %s')", name, name);
		return EXIT_ERR;
	}
	const char *pt = G.pool_target ? G.pool_target : "ctpool";
	const char *tt = G.thin_target ? G.thin_target : "ctthin";
	struct dm_dev_info di;
	if (dm_info(name, &di)) {
		err("cannot talk to device-mapper: %s", dm_last_error());
		return EXIT_ERR;
	}
	if (di.exists) {
		err("a device-mapper device named %s already exists; choose another name", name);
		return EXIT_ERR;
	}
	int mcreated = 0, dcreated = 0;
	if (!msize && size) {
		msize = size / 64;
		if (msize < (8u << 20))
			msize = 8u << 20;
		if (msize > (16ull << 30))
			msize = 16ull << 30;
	}
	if (make_file(data, size, &dcreated) || make_file(meta, msize, &mcreated)) {
		err("cannot prepare %s / %s: %s", meta, data, strerror(errno));
		return EXIT_ERR;
	}
	kv_init(&p.kv);
	kv_set(&p.kv, "name", name);
	kv_set(&p.kv, "metadata", meta);
	kv_set(&p.kv, "data", data);
	kv_setu(&p.kv, "metadata_file", is_regular(meta));
	kv_setu(&p.kv, "data_file", is_regular(data));
	kv_setu(&p.kv, "block_sectors", bs / 512);
	kv_set(&p.kv, "pool_target", pt);
	kv_set(&p.kv, "thin_target", tt);
	char feats[128] = "";
	if (skipz)
		strcat(feats, " skip_block_zeroing");
	if (nopass)
		strcat(feats, " no_discard_passdown");
	if (eins)
		strcat(feats, " error_if_no_space");
	kv_set(&p.kv, "features", feats[0] ? feats + 1 : "");

	char mdev[PATH_MAX], ddev[PATH_MAX];
	if (open_pool_dev(&p, "metadata", "metadata_file", mdev, sizeof(mdev)) ||
	    open_pool_dev(&p, "data", "data_file", ddev, sizeof(ddev)))
		goto fail;
	uint64_t dsize;
	if (dev_size_bytes(ddev, &dsize)) {
		err("cannot get the size of %s: %s", ddev, strerror(errno));
		goto fail;
	}
	uint64_t dsect = (dsize / 512) / (bs / 512) * (bs / 512);
	if (dsect == 0) {
		err("data device %s is smaller than one block", data);
		goto fail;
	}
	kv_setu(&p.kv, "data_sectors", dsect);
	if (lw == UINT64_MAX) {
		uint64_t blocks = dsect / (bs / 512);
		lw = blocks / 10;
		if (lw > 32768)
			lw = 32768;
	}
	kv_setu(&p.kv, "low_water", lw);

	int magic = 0;
	if (!mcreated && check_superblock(mdev, &magic)) {
		err("cannot read %s: %s", mdev, strerror(errno));
		goto fail;
	}
	if (magic && !reuse && !wipe) {
		err("%s already holds thin-pool metadata: pass --reuse to adopt that pool, or --wipe "
		    "to start empty (destroys its volumes)",
		    meta);
		goto fail;
	}
	if (!(magic && reuse)) {
		info("formatting new pool metadata on %s", meta);
		if (zero_first_block(mdev)) {
			err("cannot zero the metadata superblock on %s: %s", mdev, strerror(errno));
			goto fail;
		}
	}
	kv_set(&p.kv, "metadata_dev", mdev);
	kv_set(&p.kv, "data_dev", ddev);
	char table[PATH_MAX * 2 + 128];
	pool_table(&p, mdev, ddev, table, sizeof(table));
	if (dm_create_dev(name, pt, dsect, table)) {
		err("cannot create pool %s: %s", name, dm_last_error());
		target_hint(pt);
		goto fail;
	}
	struct pool_status ps;
	if (pool_get_status(&p, &ps)) {
		dm_remove_dev(name);
		goto fail;
	}
	if (ps.txid && !reuse)
		warnx_("new pool has transaction id %llu", (unsigned long long)ps.txid);
	kv_setu(&p.kv, "txid", ps.txid);
	kv_setu(&p.kv, "next_id", 1);
	if (pool_save(&p)) {
		dm_remove_dev(name);
		goto fail;
	}
	char b1[32], b2[32];
	info("pool %s: %s data in %llu blocks of %s, target %s/%s", name,
	     fmt_size(dsect * 512, b1, sizeof(b1)), (unsigned long long)ps.data_total,
	     fmt_size(bs, b2, sizeof(b2)), pt, tt);
	return EXIT_OK;
fail:
	if (dcreated)
		unlink(data);
	if (mcreated)
		unlink(meta);
	return EXIT_ERR;
}

static int resolve_pool_arg(const char *name, struct pool *p)
{
	char def[NAME_MAX_LEN + 1];
	if (!name) {
		if (pool_default_name(def, sizeof(def)))
			return -1;
		name = def;
	}
	return pool_load(p, name);
}

static int print_status_json(struct pool *p, struct pool_status *ps)
{
	struct json_object *o = json_object_new_object();
	uint64_t held;
	int bad = jadd_str(o, "name", p->name) ||
		  jadd_str(o, "pool_target", pool_pool_target(p)) ||
		  jadd_str(o, "thin_target", pool_thin_target(p)) ||
		  jadd_u64(o, "block_size", (uint64_t)pool_block_sectors(p) * 512) ||
		  jadd_u64(o, "transaction_id", ps->txid) ||
		  jadd_u64(o, "metadata_used", ps->meta_used) ||
		  jadd_u64(o, "metadata_total", ps->meta_total) ||
		  jadd_u64(o, "data_used", ps->data_used) ||
		  jadd_u64(o, "data_total", ps->data_total) ||
		  (parse_u64(ps->held_root, &held) ? jadd_null(o, "held_root") :
						     jadd_u64(o, "held_root", held)) ||
		  jadd_str(o, "mode", ps->mode) ||
		  jadd_str(o, "discard", ps->discard) ||
		  jadd_str(o, "no_space_policy", ps->no_space) ||
		  jadd_bool(o, "needs_check", ps->needs_check) ||
		  jadd_u64(o, "metadata_low_watermark", ps->meta_low_water) ||
		  jadd_str(o, "metadata", kv_get(&p->kv, "metadata")) ||
		  jadd_str(o, "data", kv_get(&p->kv, "data"));
	return jprint(o, bad);
}

static const struct option status_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_HELP_OPTION,
	{ NULL, 0, NULL, 0 },
};

static int pool_status_cmd(int argc, char **argv)
{
	const char *name = NULL;
	int json = 0;
	struct cli cl;
	int opt;
	cli_init(&cl, argc, argv, "-h", status_options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == OPT_JSON)
			json = 1;
		else if (opt != CLI_ARG || cli_take(&cl, &name, 1))
			return cli_reject(&cl, opt, "pool status", pool_usage);
	}
	int lock = lock_state();
	if (lock < 0)
		return EXIT_ERR;
	struct pool p;
	struct pool_status ps;
	if (resolve_pool_arg(name, &p) || pool_ensure_active(&p) || pool_get_status(&p, &ps))
		return EXIT_ERR;
	if (json)
		return print_status_json(&p, &ps) ? EXIT_ERR : EXIT_OK;
	uint32_t bsz = pool_block_sectors(&p);
	char a[32], b[32];
	printf("pool:              %s (%s, thins %s)\n", p.name, pool_pool_target(&p), pool_thin_target(&p));
	printf("metadata:          %s\n", kv_get(&p.kv, "metadata"));
	printf("data:              %s\n", kv_get(&p.kv, "data"));
	printf("block size:        %s\n", fmt_size((uint64_t)bsz * 512, a, sizeof(a)));
	printf("transaction id:    %llu\n", (unsigned long long)ps.txid);
	printf("metadata used:     %llu/%llu blocks (%.1f%%)\n", (unsigned long long)ps.meta_used,
	       (unsigned long long)ps.meta_total, ps.meta_total ? 100.0 * ps.meta_used / ps.meta_total : 0);
	printf("data used:         %llu/%llu blocks (%.1f%%, %s of %s)\n", (unsigned long long)ps.data_used,
	       (unsigned long long)ps.data_total, ps.data_total ? 100.0 * ps.data_used / ps.data_total : 0,
	       fmt_size(ps.data_used * bsz * 512, a, sizeof(a)),
	       fmt_size(ps.data_total * bsz * 512, b, sizeof(b)));
	printf("held metadata root: %s\n", ps.held_root);
	printf("mode:              %s\n", ps.mode);
	printf("discard:           %s\n", ps.discard);
	printf("no space policy:   %s\n", ps.no_space);
	printf("needs check:       %s\n", ps.needs_check ? "yes" : "no");
	printf("metadata low water: %llu blocks\n", (unsigned long long)ps.meta_low_water);
	if (ps.needs_check)
		warnx_("pool %s needs a metadata check: deactivate it and run 'ctpool meta check --clear-needs-check' on its metadata",
		       p.name);
	return EXIT_OK;
}

static int pool_list_cmd(int argc, char **argv)
{
	int json = argc > 1 && !strcmp(argv[1], "--json");
	char d[PATH_MAX];
	snprintf(d, sizeof(d), "%s/pools", G.state_dir);
	char **names;
	int n = 0, cap = 8;
	struct json_object *list = json ? json_object_new_array() : NULL;
	int bad = 0;
	names = xrealloc(NULL, cap * sizeof(char *));
	DIR *dd = opendir(d);
	if (dd) {
		struct dirent *de;
		while ((de = readdir(dd))) {
			size_t l = strlen(de->d_name);
			if (l > 5 && !strcmp(de->d_name + l - 5, ".conf")) {
				if (n == cap)
					names = xrealloc(names, (cap *= 2) * sizeof(char *));
				names[n++] = xstrndup(de->d_name, l - 5);
			}
		}
		closedir(dd);
	}
	if (!json)
		printf("%-20s %-10s %-10s %s\n", "NAME", "TARGET", "ACTIVE", "DATA");
	int rc = EXIT_OK;
	for (int i = 0; i < n; i++) {
		struct pool p;
		if (pool_load(&p, names[i])) {
			rc = EXIT_ERR; /* reported; the others are still listed */
			continue;
		}
		struct dm_dev_info di;
		int act = dm_info(p.name, &di) == 0 && di.exists;
		if (json) {
			/* the list owns it from here, filled or not */
			struct json_object *o = json_object_new_object();
			bad |= jpush(list, o) || jadd_str(o, "name", p.name) ||
			       jadd_str(o, "pool_target", pool_pool_target(&p)) ||
			       jadd_bool(o, "active", act) || jadd_str(o, "data", kv_get(&p.kv, "data"));
		} else
			printf("%-20s %-10s %-10s %s\n", p.name, pool_pool_target(&p), act ? "yes" : "no",
			       kv_get(&p.kv, "data"));
		kv_free(&p.kv);
	}
	if (json && jprint(list, bad))
		rc = EXIT_ERR;
	free_names(names, n);
	return rc;
}

static const struct option resize_options[] = {
	{ "data-size", required_argument, NULL, OPT_SIZE },
	CLI_HELP_OPTION,
	{ NULL, 0, NULL, 0 },
};

static int pool_resize_cmd(int argc, char **argv)
{
	const char *name = NULL;
	uint64_t size = 0;
	struct cli cl;
	int opt;
	cli_init(&cl, argc, argv, "-h", resize_options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == OPT_SIZE) {
			if (parse_size(optarg, &size)) {
				err("bad size '%s'", optarg);
				return EXIT_USAGE;
			}
		} else if (opt != CLI_ARG || cli_take(&cl, &name, 1)) {
			return cli_reject(&cl, opt, "pool resize", pool_usage);
		}
	}
	if (!size) {
		err("pool resize needs --data-size SIZE");
		return EXIT_USAGE;
	}
	int lock = lock_state();
	if (lock < 0)
		return EXIT_ERR;
	struct pool p;
	if (resolve_pool_arg(name, &p) || pool_ensure_active(&p))
		return EXIT_ERR;
	uint32_t bs = pool_block_sectors(&p);
	uint64_t cur = kv_get_u64(&p.kv, "data_sectors", 0);
	uint64_t want = (size / 512) / bs * bs;
	if (want < cur) {
		err("pools cannot shrink (current %llu sectors, asked %llu)", (unsigned long long)cur,
		    (unsigned long long)want);
		return EXIT_ERR;
	}
	if (want == cur) {
		info("pool %s already has that size", p.name);
		return EXIT_OK;
	}
	const char *ddev = kv_get(&p.kv, "data_dev");
	if (kv_get_u64(&p.kv, "data_file", 0)) {
		if (truncate(kv_get(&p.kv, "data"), size)) {
			err("cannot grow %s: %s", kv_get(&p.kv, "data"), strerror(errno));
			return EXIT_ERR;
		}
		int fd = open(ddev, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || ioctl(fd, LOOP_SET_CAPACITY, 0)) {
			err("cannot update the size of %s: %s", ddev, strerror(errno));
			return EXIT_ERR;
		}
		close(fd);
	}
	uint64_t dsize;
	if (dev_size_bytes(ddev, &dsize) || dsize / 512 < want) {
		err("data device %s is only %llu bytes: grow it first", ddev, (unsigned long long)dsize);
		return EXIT_ERR;
	}
	char table[PATH_MAX * 2 + 128];
	kv_setu(&p.kv, "data_sectors", want);
	pool_table(&p, kv_get(&p.kv, "metadata_dev"), ddev, table, sizeof(table));
	if (dm_reload(p.name, pool_pool_target(&p), want, table)) {
		err("cannot load the new pool table: %s", dm_last_error());
		return EXIT_ERR;
	}
	if (dm_suspend_dev(p.name, 0) || dm_resume_dev(p.name)) {
		err("cannot switch to the new pool table: %s", dm_last_error());
		dm_resume_dev(p.name);
		return EXIT_ERR;
	}
	if (pool_save(&p))
		return EXIT_ERR;
	struct pool_status ps;
	if (pool_get_status(&p, &ps) == 0)
		info("pool %s now has %llu data blocks", p.name, (unsigned long long)ps.data_total);
	return EXIT_OK;
}

/* Deactivate every thin of the pool, then the pool; detach our loop devices. */
static int pool_down(struct pool *p)
{
	int n;
	char **names = vol_list_names(&n);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		struct kv v;
		if (vol_load_where(&v, names[i], "pool", p->name, NULL))
			continue;
		if (vol_deactivate(names[i]))
			rc = -1;
		kv_free(&v);
	}
	free_names(names, n);
	if (rc)
		return -1;
	struct dm_dev_info di;
	if (dm_info(p->name, &di) == 0 && di.exists) {
		int r = dm_remove_dev(p->name);
		if (r) {
			err("cannot remove pool device %s: %s (a thin of it may be active outside ctpool)",
			    p->name, dm_last_error());
			return -1;
		}
	}
	const char *keys[2][2] = { { "metadata_file", "metadata_dev" }, { "data_file", "data_dev" } };
	for (int i = 0; i < 2; i++)
		if (kv_get_u64(&p->kv, keys[i][0], 0) && kv_get(&p->kv, keys[i][1]))
			loop_detach(kv_get(&p->kv, keys[i][1]));
	return 0;
}

static const struct option simple_options[] = {
	{ "force", no_argument, NULL, OPT_FORCE },
	CLI_HELP_OPTION,
	{ NULL, 0, NULL, 0 },
};

/* activate, deactivate, remove: argv[0] says which */
static int pool_simple_cmd(int argc, char **argv)
{
	const char *what = argv[0], *name = NULL;
	char who[32];
	int force = 0;
	struct cli cl;
	int opt;
	snprintf(who, sizeof(who), "pool %s", what);
	cli_init(&cl, argc, argv, "-h", simple_options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == OPT_FORCE)
			force = 1;
		else if (opt != CLI_ARG || cli_take(&cl, &name, 1))
			return cli_reject(&cl, opt, who, pool_usage);
	}
	int lock = lock_state();
	if (lock < 0)
		return EXIT_ERR;
	struct pool p;
	if (resolve_pool_arg(name, &p))
		return EXIT_ERR;
	if (!strcmp(what, "activate")) {
		if (pool_ensure_active(&p))
			return EXIT_ERR;
		info("pool %s is active", p.name);
		return EXIT_OK;
	}
	if (!strcmp(what, "deactivate"))
		return pool_down(&p) ? EXIT_ERR : EXIT_OK;
	/* remove */
	if (!force && vol_check_all()) {
		err("pool %s: a record cannot be read and may be one of its volumes: repair it, or pass "
		    "--force",
		    p.name);
		return EXIT_ERR;
	}
	int n, owned = 0;
	char **names = vol_list_names(&n);
	for (int i = 0; i < n; i++) {
		struct kv v;
		if (vol_load_where(&v, names[i], "pool", p.name, NULL) == 0) {
			owned++;
			kv_free(&v);
		}
	}
	if (owned && !force) {
		err("pool %s still has %d volume(s): delete them first (ctpool list), or pass --force "
		    "to forget them",
		    p.name, owned);
		free_names(names, n);
		return EXIT_ERR;
	}
	if (pool_down(&p)) {
		free_names(names, n);
		return EXIT_ERR;
	}
	for (int i = 0; i < n; i++) {
		struct kv v;
		if (vol_load_where(&v, names[i], "pool", p.name, NULL) == 0) {
			vol_remove_record(names[i]);
			kv_free(&v);
		}
	}
	free_names(names, n);
	unlink(p.txn_path);
	if (unlink(p.conf_path)) {
		err("cannot remove %s: %s", p.conf_path, strerror(errno));
		return EXIT_ERR;
	}
	info("pool %s removed (its metadata and data devices/files were left in place)", p.name);
	return EXIT_OK;
}

static int pool_activate_cmd(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--all"))
		return pool_activate_all();
	return pool_simple_cmd(argc, argv);
}

int cmd_pool(int argc, char **argv)
{
	static const struct subcmd subs[] = {
		{ "create", NULL, pool_create },	{ "status", NULL, pool_status_cmd },
		{ "list", NULL, pool_list_cmd },	{ "resize", NULL, pool_resize_cmd },
		{ "activate", NULL, pool_activate_cmd }, { "deactivate", NULL, pool_simple_cmd },
		{ "remove", NULL, pool_simple_cmd },	{ NULL, NULL, NULL },
	};
	return run_subcmd("pool", subs, pool_usage, argc, argv);
}
