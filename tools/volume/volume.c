// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool: thin volumes and the crash-safe transaction protocol.
 *
 * Protocol (the one docker's devicemapper driver used), per pool:
 *   1. write pools/<pool>.txn = {base_txid=T, open_txid=T+1, op, dev_id, name}
 *   2. send the message(s) (create_thin / create_snap / delete)
 *   3. write or remove the volume record
 *   4. set_transaction_id T T+1          <- the commit point (atomic in the pool)
 *   5. store txid=T+1 in pools/<pool>.conf, remove the .txn file
 * On every start (pool_recover): if a .txn exists and the pool's txid is
 *   T+1: the operation committed: finish steps 3 and 5;
 *   T:   it did not: a create is rolled back (delete the id, drop its record),
 *        a delete is rolled forward (delete is irreversible in the kernel).
 */
#include "commands.h"
#include "common/cli.h"
#include "volume.h"
#include "meta/meta-usage.h"

#include <errno.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int vol_dm_name(const char *name, char *buf, size_t len)
{
	struct kv v;
	if (vol_load(&v, name))
		return -1;
	const char *dm = kv_get(&v, "dm_name");
	if (dm)
		snprintf(buf, len, "%s", dm);
	else
		snprintf(buf, len, "%s-%s", kv_get(&v, "pool") ? kv_get(&v, "pool") : "ctpool", name);
	kv_free(&v);
	return 0;
}

int vol_open_pool(const char *name, struct kv *v, struct pool *p)
{
	if (vol_load(v, name)) {
		if (errno == ENOENT)
			err("no volume '%s' (see 'ctpool list')", name);
		return -1;
	}
	const char *pn = kv_get(v, "pool");
	if (!pn) {
		err("volume record %s has no pool", name);
		return -1;
	}
	if (pool_load(p, pn))
		return -1;
	return pool_ensure_active(p);
}

static const char *errno_hint(int e)
{
	switch (e) {
	case EBUSY:
		return " (the device is open: unmount it / stop its users)";
	case EEXIST:
		return " (the device id already exists in the pool)";
	case ENODATA:
		return " (no such device id in the pool)";
	case EOPNOTSUPP:
		return " (the pool is read-only or failed: check 'ctpool pool status')";
	case ENOSPC:
		return " (the pool's metadata is full)";
	}
	return "";
}

/* ---- transactions ---- */
static int txn_begin(struct pool *p, struct kv *t, const char *op, uint32_t id, const char *name)
{
	struct pool_status ps;
	if (pool_get_status(p, &ps))
		return -1;
	if (ps.mode[0] && strcmp(ps.mode, "rw") && strcmp(ps.mode, "out_of_data_space")) {
		err("pool %s is in %s mode: it cannot change; see 'ctpool pool status'", p->name, ps.mode);
		return -1;
	}
	kv_init(t);
	kv_setu(t, "base_txid", ps.txid);
	kv_setu(t, "open_txid", ps.txid + 1);
	kv_set(t, "op", op);
	kv_setu(t, "dev_id", id);
	kv_set(t, "name", name ? name : "");
	if (kv_save(t, p->txn_path)) {
		err("cannot write the transaction record %s: %s", p->txn_path, strerror(errno));
		kv_free(t);
		return -1;
	}
	crash_point("after-txn-record");
	return 0;
}

static int txn_commit(struct pool *p, struct kv *t)
{
	char msg[96];
	uint64_t base = kv_get_u64(t, "base_txid", 0), open = kv_get_u64(t, "open_txid", 0);
	snprintf(msg, sizeof(msg), "set_transaction_id %llu %llu", (unsigned long long)base,
		 (unsigned long long)open);
	int r = dm_message(p->name, msg);
	if (r) {
		err("cannot commit the transaction on pool %s: %s%s", p->name, strerror(-r),
		    r == -EINVAL ? " (transaction id changed behind our back: another tool uses this pool?)" : "");
		return -1;
	}
	crash_point("after-commit");
	kv_setu(&p->kv, "txid", open);
	uint64_t id = kv_get_u64(t, "dev_id", 0);
	if (!strcmp(kv_get(t, "op"), "create") && id + 1 > kv_get_u64(&p->kv, "next_id", 1))
		kv_setu(&p->kv, "next_id", id + 1 > CTPOOL_MAX_DEV_ID ? 1 : id + 1);
	if (pool_save(p))
		return -1;
	unlink(p->txn_path);
	kv_free(t);
	return 0;
}

static int delete_dev_id(struct pool *p, uint64_t id, int tolerate_missing)
{
	char msg[64];
	snprintf(msg, sizeof(msg), "delete %llu", (unsigned long long)id);
	int r = dm_message(p->name, msg);
	if (r == -ENODATA && tolerate_missing)
		return 0;
	if (r)
		err("cannot delete device %llu from pool %s: %s%s", (unsigned long long)id, p->name,
		    strerror(-r), errno_hint(-r));
	return r;
}

static int record_has_id(const char *name, const char *pool, uint64_t id)
{
	struct kv v;
	if (!name || !*name || vol_load(&v, name))
		return 0;
	int r = kv_get_u64(&v, "id", UINT64_MAX) == id && kv_get(&v, "pool") && !strcmp(kv_get(&v, "pool"), pool);
	kv_free(&v);
	return r;
}

static int recovering, stale_checked;

int pool_recover(struct pool *p)
{
	struct pool_status ps;
	struct kv t;
	if (pool_get_status(p, &ps))
		return -1;
	if (kv_load(&t, p->txn_path)) {
		if (errno != ENOENT)
			return -1; /* reported: guessing the open operation could lose data */
		uint64_t st = kv_get_u64(&p->kv, "txid", 0);
		if (st != ps.txid) {
			warnx_("pool %s has transaction id %llu but ctpool's store says %llu: the pool was "
			       "changed outside ctpool (run 'ctpool gc' to drop devices no record owns)",
			       p->name, (unsigned long long)ps.txid, (unsigned long long)st);
			kv_setu(&p->kv, "txid", ps.txid);
			pool_save(p);
		}
		goto stale_imports;
	}
	uint64_t base = kv_get_u64(&t, "base_txid", 0), open = kv_get_u64(&t, "open_txid", 0);
	uint64_t id = kv_get_u64(&t, "dev_id", 0);
	const char *op = kv_get(&t, "op") ? kv_get(&t, "op") : "";
	const char *name = kv_get(&t, "name") ? kv_get(&t, "name") : "";
	if (ps.txid == open) {
		info("recovery: %s of device %llu (%s) had committed: completing it", op,
		     (unsigned long long)id, name);
		if (!strcmp(op, "delete") && record_has_id(name, p->name, id))
			vol_remove_record(name);
		if (!strcmp(op, "create") && !record_has_id(name, p->name, id))
			warnx_("recovery: device %llu has no record; 'ctpool gc' will remove it",
			       (unsigned long long)id);
		kv_setu(&p->kv, "txid", open);
		if (!strcmp(op, "create") && id + 1 > kv_get_u64(&p->kv, "next_id", 1))
			kv_setu(&p->kv, "next_id", id + 1);
	} else if (ps.txid == base) {
		if (!strcmp(op, "create")) {
			info("recovery: rolling back the unfinished creation of device %llu (%s)",
			     (unsigned long long)id, name);
			if (*name && record_has_id(name, p->name, id)) {
				vol_deactivate(name);
				vol_remove_record(name);
			}
			if (delete_dev_id(p, id, 1)) {
				kv_free(&t);
				return -1;
			}
		} else if (!strcmp(op, "delete")) {
			info("recovery: finishing the interrupted deletion of device %llu (%s)",
			     (unsigned long long)id, name);
			if (*name && record_has_id(name, p->name, id))
				vol_deactivate(name);
			if (delete_dev_id(p, id, 1)) {
				kv_free(&t);
				return -1;
			}
			if (record_has_id(name, p->name, id))
				vol_remove_record(name);
			char msg[96];
			snprintf(msg, sizeof(msg), "set_transaction_id %llu %llu", (unsigned long long)base,
				 (unsigned long long)open);
			int r = dm_message(p->name, msg);
			if (r) {
				err("recovery: cannot commit: %s", strerror(-r));
				kv_free(&t);
				return -1;
			}
			ps.txid = open;
		}
		kv_setu(&p->kv, "txid", ps.txid);
	} else {
		warnx_("recovery: pool %s transaction id %llu matches neither side of the open "
		       "transaction (%llu -> %llu); dropping the record, run 'ctpool gc'",
		       p->name, (unsigned long long)ps.txid, (unsigned long long)base,
		       (unsigned long long)open);
		kv_setu(&p->kv, "txid", ps.txid);
	}
	if (pool_save(p)) {
		kv_free(&t);
		return -1;
	}
	unlink(p->txn_path);
	kv_free(&t);

stale_imports:
	/*
	 * We hold the state lock, and image import holds it for its whole
	 * duration: an image still marked "importing" was left by a crash.
	 */
	/* once per process: later calls would see this process's own import */
	if (recovering || stale_checked)
		return 0;
	recovering = 1;
	stale_checked = 1;
	int n;
	char **names = vol_list_names(&n);
	for (int i = 0; i < n; i++) {
		struct kv v;
		if (vol_load_where(&v, names[i], "pool", p->name, NULL))
			continue;
		const char *st = kv_get(&v, "state");
		char dmn[256];
		struct dm_dev_info di;
		/* a crash between suspend and resume (create_snap of an active origin) */
		if (vol_dm_name(names[i], dmn, sizeof(dmn)) == 0 && dm_info(dmn, &di) == 0 &&
		    di.exists && di.suspended) {
			info("recovery: resuming %s, left suspended", dmn);
			dm_resume_dev(dmn);
		}
		if (st && !strcmp(st, "importing")) {
			info("recovery: removing image %s whose import was interrupted", names[i]);
			vol_do_delete(p, names[i], 0);
		}
		kv_free(&v);
	}
	free_names(names, n);
	recovering = 0;
	return 0;
}

/* ---- id allocation ---- */
static uint32_t alloc_dev_id(struct pool *p, uint32_t after)
{
	int n;
	char **names = vol_list_names(&n);
	uint32_t *used = xcalloc(n + 1, sizeof(uint32_t));
	int nu = 0;
	for (int i = 0; i < n; i++) {
		struct kv v;
		if (vol_load_where(&v, names[i], "pool", p->name, NULL))
			continue;
		used[nu++] = (uint32_t)kv_get_u64(&v, "id", 0);
		kv_free(&v);
	}
	free_names(names, n);
	uint32_t id = after ? after + 1 : (uint32_t)kv_get_u64(&p->kv, "next_id", 1);
	for (uint32_t tries = 0; tries < CTPOOL_MAX_DEV_ID; tries++, id++) {
		if (id == 0 || id > CTPOOL_MAX_DEV_ID)
			id = 1;
		int clash = 0;
		for (int i = 0; i < nu; i++)
			if (used[i] == id)
				clash = 1;
		if (!clash)
			break;
	}
	free(used);
	return id;
}

static int thin_table_activate(struct pool *p, const char *dmname, uint64_t id, uint64_t size)
{
	struct dm_dev_info pdi;
	if (dm_info(p->name, &pdi) || !pdi.exists) {
		err("pool %s is not active", p->name);
		return -1;
	}
	char params[128];
	snprintf(params, sizeof(params), "%u:%u %llu", pdi.major, pdi.minor, (unsigned long long)id);
	if (dm_create_dev(dmname, pool_thin_target(p), (size + 511) / 512, params)) {
		err("cannot activate %s: %s", dmname, dm_last_error());
		return -1;
	}
	return 0;
}

int vol_do_create(struct pool *p, const char *name, uint64_t size, const char *origin, const char *kind,
		  struct kv *extra)
{
	struct kv o, t, v;
	uint64_t origin_id = 0;
	char odm[256] = "";
	if (!valid_name(name)) {
		err("invalid name '%s' (letters, digits, '.', '_', '-'; at most %d)", name, NAME_MAX_LEN);
		return -1;
	}
	if (vol_exists(name)) {
		err("'%s' already exists (see 'ctpool list')", name);
		return -1;
	}
	if (origin) {
		if (vol_load(&o, origin)) {
			if (errno == ENOENT)
				err("no volume '%s' to snapshot", origin);
			return -1;
		}
		if (strcmp(kv_get(&o, "pool") ? kv_get(&o, "pool") : "", p->name)) {
			err("'%s' is in pool %s, not %s", origin, kv_get(&o, "pool"), p->name);
			kv_free(&o);
			return -1;
		}
		origin_id = kv_get_u64(&o, "id", 0);
		if (!size)
			size = kv_get_u64(&o, "size", 0);
		kv_free(&o);
		vol_dm_name(origin, odm, sizeof(odm));
	}
	if (size == 0 || size % 512) {
		err("size must be a non-zero multiple of 512 bytes");
		return -1;
	}
	uint32_t id = alloc_dev_id(p, 0);
	if (txn_begin(p, &t, "create", id, name))
		return -1;
	int r;
	for (int attempt = 0;; attempt++) {
		char msg[96];
		if (origin) {
			struct dm_dev_info di;
			int active = dm_info(odm, &di) == 0 && di.exists;
			/* an active origin must be suspended around create_snap */
			if (active && !di.suspended && dm_suspend_dev(odm, 0)) {
				err("cannot suspend %s: %s", odm, dm_last_error());
				r = -EIO;
				break;
			}
			snprintf(msg, sizeof(msg), "create_snap %u %llu", id, (unsigned long long)origin_id);
			r = dm_message(p->name, msg);
			if (active && !di.suspended && dm_resume_dev(odm))
				err("cannot resume %s: %s (resume it with 'dmsetup resume %s')", odm,
				    dm_last_error(), odm);
		} else {
			snprintf(msg, sizeof(msg), "create_thin %u", id);
			r = dm_message(p->name, msg);
		}
		if (r == -EEXIST && attempt < 64) {
			warnx_("device id %u exists in pool %s but no record owns it (run 'ctpool gc'); "
			       "trying another",
			       id, p->name);
			id = alloc_dev_id(p, id);
			kv_setu(&t, "dev_id", id);
			if (kv_save(&t, p->txn_path))
				break;
			continue;
		}
		break;
	}
	if (r) {
		err("cannot create '%s' in pool %s: %s%s", name, p->name, strerror(-r), errno_hint(-r));
		unlink(p->txn_path);
		kv_free(&t);
		return -1;
	}
	crash_point("after-message");
	kv_init(&v);
	kv_set(&v, "name", name);
	kv_set(&v, "pool", p->name);
	kv_setu(&v, "id", id);
	kv_setu(&v, "size", size);
	kv_set(&v, "kind", kind ? kind : "volume");
	kv_set(&v, "origin", origin ? origin : "");
	kv_setu(&v, "txid", kv_get_u64(&t, "open_txid", 0));
	kv_setu(&v, "created", (uint64_t)time(NULL));
	char dmn[256];
	snprintf(dmn, sizeof(dmn), "%s-%s", p->name, name);
	kv_set(&v, "dm_name", dmn);
	if (extra)
		for (int i = 0; i < extra->n; i++)
			kv_set(&v, extra->k[i], extra->v[i]);
	if (!kv_get(&v, "state"))
		kv_set(&v, "state", "ready");
	if (vol_save(&v, name)) {
		kv_free(&v);
		delete_dev_id(p, id, 1);
		unlink(p->txn_path);
		return -1;
	}
	kv_free(&v);
	crash_point("after-record");
	if (txn_commit(p, &t)) {
		/* the id is deleted again by recovery on the next start */
		return -1;
	}
	dbg("created %s as device %u", name, id);
	return 0;
}

int vol_deactivate(const char *name)
{
	char dmn[256];
	struct dm_dev_info di;
	if (vol_dm_name(name, dmn, sizeof(dmn)))
		return -1;
	if (dm_info(dmn, &di) || !di.exists)
		return 0;
	if (di.open_count > 0) {
		err("'%s' is in use (%d opener(s): mounted or held open); unmount it or stop its "
		    "container first",
		    name, di.open_count);
		return -1;
	}
	for (int i = 0; i < 20; i++) {
		int r = dm_remove_dev(dmn);
		if (r == 0)
			return 0;
		usleep(100000);
	}
	err("cannot deactivate %s: %s", dmn, dm_last_error());
	return -1;
}

int vol_activate(const char *name, char *devpath, size_t len)
{
	struct kv v;
	struct pool p;
	char dmn[256];
	if (vol_open_pool(name, &v, &p))
		return -1;
	vol_dm_name(name, dmn, sizeof(dmn));
	struct dm_dev_info di;
	if (dm_info(dmn, &di) == 0 && di.exists) {
		if (di.suspended)
			dm_resume_dev(dmn);
	} else if (thin_table_activate(&p, dmn, kv_get_u64(&v, "id", 0), kv_get_u64(&v, "size", 0))) {
		kv_free(&v);
		return -1;
	}
	kv_free(&v);
	if (devpath)
		dm_dev_path(dmn, devpath, len);
	return 0;
}

static int discard_whole(const char *dev)
{
	int fd = open(dev, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	uint64_t size = 0;
	int r = ioctl(fd, BLKGETSIZE64, &size);
	if (r == 0 && size) {
		uint64_t range[2] = { 0, size };
		r = ioctl(fd, BLKDISCARD, range);
	}
	int e = errno;
	close(fd);
	sync();
	errno = e;
	return r;
}

int vol_do_delete(struct pool *p, const char *name, int discard)
{
	struct kv v, t;
	char dmn[256], dev[PATH_MAX];
	if (vol_load(&v, name)) {
		if (errno == ENOENT)
			err("no volume '%s' (see 'ctpool list')", name);
		return -1;
	}
	uint64_t id = kv_get_u64(&v, "id", 0);
	vol_dm_name(name, dmn, sizeof(dmn));
	kv_free(&v);
	struct dm_dev_info di;
	int active = dm_info(dmn, &di) == 0 && di.exists;
	if (active && di.open_count > 0) {
		err("'%s' is in use (mounted or open); unmount it or stop its container first", name);
		return -1;
	}
	/*
	 * Discard the whole thin before deleting it, so the pool passes the
	 * discards down and a sparse/loop-backed data device gets its space
	 * back (docker's dm.blkdiscard).
	 */
	if (active || discard) {
		if (!active && vol_activate(name, NULL, 0) == 0)
			active = 1;
		if (active) {
			dm_dev_path(dmn, dev, sizeof(dev));
			if (discard_whole(dev))
				dbg("discard of %s failed: %s (continuing)", dev, strerror(errno));
		}
	}
	if (vol_deactivate(name))
		return -1;
	if (txn_begin(p, &t, "delete", id, name))
		return -1;
	int r = delete_dev_id(p, id, 1);
	if (r && r != -ENODATA) {
		unlink(p->txn_path);
		kv_free(&t);
		return -1;
	}
	crash_point("after-message");
	vol_remove_record(name);
	crash_point("after-record");
	return txn_commit(p, &t);
}

/* ---- commands ---- */
static int resolve_pool(const char *name, struct pool *p)
{
	char def[NAME_MAX_LEN + 1];
	if (!name) {
		if (pool_default_name(def, sizeof(def)))
			return -1;
		name = def;
	}
	if (pool_load(p, name))
		return -1;
	return pool_ensure_active(p);
}

static int vol_usage(FILE *f)
{
	fputs("usage: ctpool create NAME --size SIZE [--pool POOL]\n"
	      "       ctpool snapshot ORIGIN NAME [--size SIZE]\n"
	      "       ctpool activate NAME          (prints the device path)\n"
	      "       ctpool deactivate NAME\n"
	      "       ctpool delete NAME [--no-discard]\n"
	      "       ctpool list [--pool POOL] [--usage] [--json]\n"
	      "       ctpool gc [--pool POOL] [--dry-run]\n"
	      "       ctpool recover [--pool POOL]\n",
	      f);
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

enum { OPT_SIZE = 256, OPT_POOL, OPT_DISCARD, OPT_NO_DISCARD, OPT_JSON, OPT_USAGE, OPT_DRY_RUN };

static const struct option create_options[] = {
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "pool", required_argument, NULL, OPT_POOL },
	CLI_HELP_OPTION,
	{ NULL, 0, NULL, 0 },
};

int cmd_create(int argc, char **argv)
{
	const char *name = NULL, *pool = NULL;
	uint64_t size = 0;
	struct cli cl;
	int opt;
	cli_init(&cl, argc, argv, "-h", create_options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == OPT_SIZE) {
			if (parse_size(optarg, &size)) {
				err("bad size '%s' (e.g. 512M, 10G)", optarg);
				return EXIT_USAGE;
			}
		} else if (opt == OPT_POOL)
			pool = optarg;
		else if (opt != CLI_ARG || cli_take(&cl, &name, 1))
			return cli_reject(&cl, opt, "create", vol_usage);
	}
	if (!name || !size) {
		err("create needs NAME and --size");
		return vol_usage(stderr);
	}
	if (lock_state() < 0)
		return EXIT_ERR;
	struct pool p;
	if (resolve_pool(pool, &p))
		return EXIT_ERR;
	size = (size + 511) / 512 * 512;
	if (vol_do_create(&p, name, size, NULL, "volume", NULL))
		return EXIT_ERR;
	info("created volume %s", name);
	return EXIT_OK;
}

static const struct option snapshot_options[] = {
	{ "size", required_argument, NULL, OPT_SIZE },
	CLI_HELP_OPTION,
	{ NULL, 0, NULL, 0 },
};

int cmd_snapshot(int argc, char **argv)
{
	const char *a[2] = { NULL, NULL };
	uint64_t size = 0;
	struct cli cl;
	int opt;
	cli_init(&cl, argc, argv, "-h", snapshot_options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == OPT_SIZE) {
			if (parse_size(optarg, &size))
				return EXIT_USAGE;
		} else if (opt != CLI_ARG || cli_take(&cl, a, 2)) {
			return cli_reject(&cl, opt, "snapshot", vol_usage);
		}
	}
	if (!a[1]) {
		err("snapshot needs ORIGIN and NAME");
		return vol_usage(stderr);
	}
	if (lock_state() < 0)
		return EXIT_ERR;
	struct kv v;
	struct pool p;
	if (vol_open_pool(a[0], &v, &p))
		return EXIT_ERR;
	if (size && size < kv_get_u64(&v, "size", 0)) {
		err("a snapshot cannot be smaller than its origin");
		return EXIT_USAGE;
	}
	if (vol_do_create(&p, a[1], size ? (size + 511) / 512 * 512 : 0, a[0], "volume", NULL))
		return EXIT_ERR;
	info("created snapshot %s of %s", a[1], a[0]);
	return EXIT_OK;
}

int cmd_activate(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return vol_usage(argc == 2 && is_help(argv[1]) ? stdout : stderr);
	if (lock_state() < 0)
		return EXIT_ERR;
	char dev[PATH_MAX];
	if (vol_activate(argv[1], dev, sizeof(dev)))
		return EXIT_ERR;
	printf("%s\n", dev);
	return EXIT_OK;
}

int cmd_deactivate(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return vol_usage(argc == 2 && is_help(argv[1]) ? stdout : stderr);
	if (lock_state() < 0)
		return EXIT_ERR;
	if (!vol_exists(argv[1])) {
		err("no volume '%s'", argv[1]);
		return EXIT_ERR;
	}
	return vol_deactivate(argv[1]) ? EXIT_ERR : EXIT_OK;
}

int cmd_delete(int argc, char **argv)
{
	static const struct option options[] = {
		{ "discard", no_argument, NULL, OPT_DISCARD },
		{ "no-discard", no_argument, NULL, OPT_NO_DISCARD },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	int discard = -1;
	struct cli cl;
	int opt;
	cli_init(&cl, argc, argv, "-h", options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == OPT_NO_DISCARD)
			discard = 0;
		else if (opt == OPT_DISCARD)
			discard = 1;
		else if (opt != CLI_ARG || cli_take(&cl, &name, 1))
			return cli_reject(&cl, opt, "delete", vol_usage);
	}
	if (!name)
		return vol_usage(stderr);
	if (lock_state() < 0)
		return EXIT_ERR;
	struct kv v;
	struct pool p;
	if (vol_open_pool(name, &v, &p))
		return EXIT_ERR;
	const char *kind = kv_get(&v, "kind");
	if (kind && !strcmp(kind, "layer")) {
		err("'%s' is an image layer: it goes with the last image using it ('ctpool image rm')", name);
		return EXIT_ERR;
	}
	if (kind && strcmp(kind, "volume")) {
		err("'%s' is a%s %s: use 'ctpool %s rm %s'", name, kind[0] == 'i' ? "n" : "", kind, kind, name);
		return EXIT_ERR;
	}
	/* default: discard when the data lives in a file (space goes back to the host fs) */
	if (discard < 0)
		discard = (int)kv_get_u64(&p.kv, "data_file", 0);
	if (vol_do_delete(&p, name, discard))
		return EXIT_ERR;
	info("deleted %s", name);
	return EXIT_OK;
}

/* ---- list ---- */

/* One line of `ctpool list`: a volume record and what the pool says of it. */
struct vol_row {
	const char *name, *kind, *pool, *origin, *state;
	uint64_t id, size, block_bytes;
	int active;
	char dmn[256];
	int64_t mapped;				/* blocks; -1: unknown */
	int want_usage;				/* --usage */
	const struct meta_usage_dev *usage;	/* NULL: not known */
};

/*
 * Each pool's usage, read from one metadata snapshot when first needed:
 * for --usage, and for the mapped blocks of inactive volumes.
 */
struct usage_cache {
	int n;
	struct pool_usage {
		char pool[NAME_MAX_LEN + 1];
		int ok;
		struct meta_usage u;
	} *e;
};

/* NULL (reported, once a pool) if the pool's usage cannot be read. */
static const struct meta_usage *cached_usage(struct usage_cache *c, struct pool *p)
{
	struct pool_usage *e;
	int i;
	for (i = 0; i < c->n; i++)
		if (!strcmp(c->e[i].pool, p->name))
			return c->e[i].ok ? &c->e[i].u : NULL;
	e = realloc(c->e, (c->n + 1) * sizeof(*e));
	if (!e) {
		err("out of memory");
		return NULL;
	}
	c->e = e;
	i = c->n++;
	snprintf(c->e[i].pool, sizeof(c->e[i].pool), "%s", p->name);
	c->e[i].ok = pool_read_usage(p, &c->e[i].u) == 0;
	return c->e[i].ok ? &c->e[i].u : NULL;
}

static void free_usage_cache(struct usage_cache *c)
{
	for (int i = 0; i < c->n; i++)
		if (c->e[i].ok)
			meta_usage_free(&c->e[i].u);
	free(c->e);
}

static int add_blocks(struct json_object *o, const char *what, int known, uint64_t blocks,
		      uint64_t block_bytes)
{
	char k[32], kb[32];
	snprintf(k, sizeof(k), "%s_blocks", what);
	snprintf(kb, sizeof(kb), "%s_bytes", what);
	if (!known)
		return jadd_null(o, k) || jadd_null(o, kb);
	return jadd_u64(o, k, blocks) || jadd_u64(o, kb, blocks * block_bytes);
}

static int add_row_json(struct json_object *list, const struct vol_row *r)
{
	struct json_object *o = json_object_new_object();
	const struct meta_usage_dev *u = r->usage;
	char dev[300];
	/* the list owns o from here, filled or not */
	if (jpush(list, o) || jadd_str(o, "name", r->name) || jadd_str(o, "kind", r->kind) ||
	    jadd_str(o, "pool", r->pool) || jadd_u64(o, "dev_id", r->id) ||
	    jadd_u64(o, "size", r->size) ||
	    add_blocks(o, "mapped", r->mapped >= 0, (uint64_t)r->mapped, r->block_bytes))
		return -1;
	if (r->want_usage && (add_blocks(o, "exclusive", u != NULL, u ? u->exclusive_blocks : 0,
					 r->block_bytes) ||
			      add_blocks(o, "shared", u != NULL, u ? u->shared_blocks : 0,
					 r->block_bytes)))
		return -1;
	if (jadd_bool(o, "active", r->active) || jadd_str_or_null(o, "origin", r->origin) ||
	    jadd_str(o, "state", r->state))
		return -1;
	snprintf(dev, sizeof(dev), "/dev/mapper/%s", r->dmn);
	return r->active ? jadd_str(o, "device", dev) : 0;
}

static void list_header(int usage)
{
	printf("%-20s %-9s %-10s %6s %10s %10s ", "NAME", "KIND", "POOL", "ID", "SIZE", "MAPPED");
	if (usage)
		printf("%10s %10s ", "EXCLUSIVE", "SHARED");
	printf("%-7s %s\n", "ACTIVE", "ORIGIN");
}

static const char *blocks_size(int known, uint64_t blocks, uint64_t block_bytes, char *buf,
			       size_t len)
{
	return known ? fmt_size(blocks * block_bytes, buf, len) : "?";
}

static void print_row(const struct vol_row *r)
{
	char sz[32], mp[32], ex[32], sh[32];
	const struct meta_usage_dev *u = r->usage;
	printf("%-20s %-9s %-10s %6llu %10s %10s ", r->name, r->kind, r->pool,
	       (unsigned long long)r->id, fmt_size(r->size, sz, sizeof(sz)),
	       blocks_size(r->mapped >= 0, (uint64_t)r->mapped, r->block_bytes, mp, sizeof(mp)));
	if (r->want_usage)
		printf("%10s %10s ",
		       blocks_size(u != NULL, u ? u->exclusive_blocks : 0, r->block_bytes, ex, sizeof(ex)),
		       blocks_size(u != NULL, u ? u->shared_blocks : 0, r->block_bytes, sh, sizeof(sh)));
	printf("%-7s %s\n", r->active ? "yes" : "no", *r->origin ? r->origin : "-");
}

/*
 * Mapped blocks: an active volume's from its status (unless --usage wants
 * all from one snapshot), an inactive one's from the pool's snapshot.
 * -1 (reported) if the snapshot cannot be read.
 */
static int fill_mapped(struct vol_row *r, struct pool *p, struct usage_cache *uc)
{
	char params[256];
	uint64_t ms;
	int64_t hi;
	r->mapped = -1;
	if (r->active && !r->want_usage) {
		if (dm_status_noflush(r->dmn, params, sizeof(params)) == 0 &&
		    parse_thin_status(params, &ms, &hi) == 0)
			r->mapped = (int64_t)(ms / pool_block_sectors(p));
		return 0;
	}
	const struct meta_usage *mu = cached_usage(uc, p);
	if (!mu)
		return -1;
	const struct meta_usage_dev *d = meta_usage_find(mu, r->id);
	if (d)
		r->mapped = (int64_t)d->mapped_blocks;
	if (r->want_usage)
		r->usage = d;
	return 0;
}

static int list_usage(FILE *f)
{
	fputs("usage: ctpool list [--pool POOL] [--usage] [--json]\n"
	      "--usage: each volume's mapped, exclusive and shared space, read from a\n"
	      "metadata snapshot of the live pool (what thin_ls reports)\n",
	      f);
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

int cmd_list(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "usage", no_argument, NULL, OPT_USAGE },
		{ "pool", required_argument, NULL, OPT_POOL },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	const char *pool = NULL;
	int json = 0, usage = 0;
	struct cli cl;
	int opt;
	cli_init(&cl, argc, argv, "-h", options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == OPT_JSON)
			json = 1;
		else if (opt == OPT_USAGE)
			usage = 1;
		else if (opt == OPT_POOL)
			pool = optarg;
		else
			return cli_reject(&cl, opt, "list", list_usage);
	}
	if (lock_state() < 0)
		return EXIT_ERR;
	int n;
	char **names = vol_list_names(&n);
	/* one metadata snapshot per pool with inactive volumes (or --usage) */
	struct pool cur;
	struct usage_cache *uc = calloc(1, sizeof(*uc));
	struct json_object *list = json ? json_object_new_array() : NULL;
	int have_cur = 0, bad = !uc, failed = 0;
	if (!json)
		list_header(usage);
	int rc = EXIT_OK;
	for (int i = 0; i < n && !bad; i++) {
		struct kv v;
		if (vol_load_where(&v, names[i], "pool", pool, &rc))
			continue;
		const char *vp = kv_get(&v, "pool");
		if (!have_cur || strcmp(cur.name, vp)) {
			if (have_cur)
				kv_free(&cur.kv);
			have_cur = pool_load(&cur, vp) == 0 && pool_ensure_active(&cur) == 0;
			if (!have_cur) {
				kv_free(&v);
				continue;
			}
			/* recovery may just have removed or changed this record */
			kv_free(&v);
			if (vol_load(&v, names[i]))
				continue;
			vp = kv_get(&v, "pool");	/* the old one was freed */
			if (!vp || strcmp(vp, cur.name)) {
				kv_free(&v);
				continue;
			}
		}
		struct vol_row r = {
			.name = names[i],
			.kind = kv_get(&v, "kind") ? kv_get(&v, "kind") : "volume",
			.pool = vp,
			.origin = kv_get(&v, "origin") ? kv_get(&v, "origin") : "",
			.state = kv_get(&v, "state") ? kv_get(&v, "state") : "ready",
			.id = kv_get_u64(&v, "id", 0),
			.size = kv_get_u64(&v, "size", 0),
			.block_bytes = (uint64_t)pool_block_sectors(&cur) * 512,
			.want_usage = usage,
		};
		struct dm_dev_info di;
		vol_dm_name(names[i], r.dmn, sizeof(r.dmn));
		r.active = dm_info(r.dmn, &di) == 0 && di.exists;
		/* without --usage, an unknown mapped count is no failure */
		if (fill_mapped(&r, &cur, uc) && usage)
			failed = 1;
		if (json)
			bad |= add_row_json(list, &r);
		else
			print_row(&r);
		kv_free(&v);
	}
	if (have_cur)
		kv_free(&cur.kv);
	if (json && jprint(list, bad))
		rc = EXIT_ERR;
	else if (bad)
		err("out of memory");
	if (failed)
		rc = EXIT_ERR;
	if (uc)
		free_usage_cache(uc);
	free(uc);
	free_names(names, n);
	return rc;
}

int cmd_gc(int argc, char **argv)
{
	static const struct option options[] = {
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "pool", required_argument, NULL, OPT_POOL },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	const char *pool = NULL;
	int dry = 0;
	struct cli cl;
	int opt;
	cli_init(&cl, argc, argv, "-h", options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == 'h') {
			fputs("usage: ctpool gc [--pool POOL] [--dry-run]\n"
			      "Deletes thin devices in the pool that no ctpool record owns (leaks from\n"
			      "crashes or other tools), and images whose import was interrupted.\n",
			      stdout);
			return EXIT_OK;
		}
		if (opt == OPT_DRY_RUN)
			dry = 1;
		else if (opt == OPT_POOL)
			pool = optarg;
		else {
			err("gc: bad argument '%s'", cl.arg);
			return EXIT_USAGE;
		}
	}
	if (lock_state() < 0)
		return EXIT_ERR;
	struct pool p;
	if (resolve_pool(pool, &p))
		return EXIT_ERR;
	struct meta_usage u;
	if (pool_read_usage(&p, &u)) {
		err("gc: cannot enumerate the devices of pool %s", p.name);
		return EXIT_ERR;
	}
	int n, removed = 0, rc = EXIT_OK;
	if (vol_check_all()) {
		err("gc: a record cannot be read: it may own a device, so nothing is deleted");
		meta_usage_free(&u);
		return EXIT_ERR;
	}
	char **names = vol_list_names(&n);
	for (size_t k = 0; k < u.nr_devs; k++) {
		uint64_t id = u.devs[k].dev_id;
		int owned = 0;
		for (int i = 0; i < n && !owned; i++) {
			struct kv v;
			if (vol_load_where(&v, names[i], "pool", p.name, NULL))
				continue;
			owned = kv_get_u64(&v, "id", UINT64_MAX) == id;
			kv_free(&v);
		}
		if (owned)
			continue;
		info("%s device %llu (%llu mapped blocks): no record owns it", dry ? "would delete" : "deleting",
		     (unsigned long long)id, (unsigned long long)u.devs[k].mapped_blocks);
		if (dry) {
			removed++;
			continue;
		}
		struct kv t;
		if (txn_begin(&p, &t, "delete", (uint32_t)id, "")) {
			rc = EXIT_ERR;
			break;
		}
		if (delete_dev_id(&p, id, 1)) {
			unlink(p.txn_path);
			kv_free(&t);
			rc = EXIT_ERR;
			continue;
		}
		if (txn_commit(&p, &t)) {
			rc = EXIT_ERR;
			break;
		}
		removed++;
	}
	free_names(names, n);
	meta_usage_free(&u);
	info("gc: %d orphan device(s) %s", removed, dry ? "found" : "removed");
	return rc;
}

int cmd_recover(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pool", required_argument, NULL, OPT_POOL },
		CLI_HELP_OPTION,
		{ NULL, 0, NULL, 0 },
	};
	const char *pool = NULL;
	struct cli cl;
	int opt;
	/* anything else is ignored, as it always was */
	cli_init(&cl, argc, argv, "-h", options, CLI_STRICT);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == 'h')
			return vol_usage(stdout);
		if (opt == OPT_POOL)
			pool = optarg;
	}
	if (lock_state() < 0)
		return EXIT_ERR;
	struct pool p;
	if (resolve_pool(pool, &p)) /* pool_ensure_active runs the recovery */
		return EXIT_ERR;
	info("pool %s: state is consistent (transaction id %llu)", p.name,
	     (unsigned long long)kv_get_u64(&p.kv, "txid", 0));
	return EXIT_OK;
}
