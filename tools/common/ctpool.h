/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctpool userspace, the common library (libctpool-common.a): global settings,
 * utilities, key=value records, libdevmapper, loop devices and the state
 * store's pool and volume records. What every command needs.
 */
#ifndef CTPOOL_TOOL_H
#define CTPOOL_TOOL_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define EXIT_OK    0
#define EXIT_ERR   1
#define EXIT_USAGE 2

#define CTPOOL_DEFAULT_STATE_DIR "/var/lib/ctpool"
#define CTPOOL_MAX_DEV_ID ((1u << 24) - 1)
#define NAME_MAX_LEN 64

/* as in the kernel; persistent-data's user-compat.h may have defined it */
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* ---- global settings (defined by the program: tools/main.c) ---- */
struct global {
	const char *state_dir;
	const char *pool_target;  /* NULL: use pool's stored value / default */
	const char *thin_target;
	int verbose;
	int quiet;
};
extern struct global G;

/* ---- util.c ---- */
void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int parse_size(const char *s, uint64_t *out);      /* bytes; k/m/g/t suffixes, binary */
int parse_u64(const char *s, uint64_t *out);
const char *fmt_size(uint64_t bytes, char *buf, size_t len);
int valid_name(const char *s);
int mkdir_p(const char *path, mode_t mode);
int write_file_atomic(const char *path, const char *data, size_t len);
int write_str(const char *path, const char *s); /* plain write (sysfs/cgroupfs) */
char *read_file(const char *path, size_t *len);  /* malloc'd, NUL terminated */
/* out of memory: a message and exit(EXIT_ERR); for what must be complete */
void *xrealloc(void *p, size_t size);
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
int run_cmd(const char *const argv[], int quiet); /* returns exit status, -1 on exec failure */
int run_capture(const char *const argv[], char **out);
int have_prog(const char *name);
void crash_point(const char *name);
void signal_point(const char *name);
int is_help(const char *a);

/* A subcommand of pool, image or container: its name, another it answers to. */
struct subcmd {
	const char *name, *alias;
	int (*fn)(int argc, char **argv);
};
/*
 * Run the subcommand of table t (ended by a NULL name) that argv[1] names,
 * with argv[0] = its name; help prints cmd's usage to stdout, no subcommand
 * or an unknown one ("unknown CMD command") to stderr.
 */
int run_subcmd(const char *cmd, const struct subcmd *t, int (*usage)(FILE *f), int argc,
	       char **argv);
/*
 * What a command does with what cli_next gave it and it does not take
 * (common/cli.h, CLI_STRICT): help ('h') prints its usage to stdout, all else
 * its usage to stderr, after "WHO: bad argument 'X'" if who is given.
 */
struct cli;
int cli_reject(const struct cli *c, int opt, const char *who, int (*usage)(FILE *f));

/*
 * ---- json-out.c: --json output with json-c; each returns 0 or -1 ----
 * Build with json_object_new_object/array, fill with these, jprint once.
 */
struct json_object;
int jadd(struct json_object *o, const char *key, struct json_object *v); /* v dropped on failure */
int jadd_str(struct json_object *o, const char *key, const char *s); /* NULL: "" */
int jadd_str_or_null(struct json_object *o, const char *key, const char *s); /* NULL, "": null */
int jadd_u64(struct json_object *o, const char *key, uint64_t n);
int jadd_bool(struct json_object *o, const char *key, int b);
int jadd_null(struct json_object *o, const char *key);
int jpush(struct json_object *array, struct json_object *v); /* v dropped on failure */
/* Print o (unless failed), drop it; -1 (reported) if anything failed. */
int jprint(struct json_object *o, int failed);

/* key=value records (kv.c): values escaped on save, strict on load */
struct kv {
	int n, cap;
	char **k;
	char **v;
	int failed; /* errno of a kv_set that could not be done: kv_save refuses the record */
};
void kv_init(struct kv *kv);
void kv_free(struct kv *kv);
int kv_valid_key(const char *k);
const char *kv_get(const struct kv *kv, const char *k);
uint64_t kv_get_u64(const struct kv *kv, const char *k, uint64_t def);
int kv_set(struct kv *kv, const char *k, const char *v);
int kv_setu(struct kv *kv, const char *k, uint64_t v);
void kv_del(struct kv *kv, const char *k);
/* 0 ok; -1: errno ENOENT if missing, else the error (EBADMSG: corrupt) was reported */
int kv_load(struct kv *kv, const char *path);
int kv_save(const struct kv *kv, const char *path);

/* ---- dm.c (libdevmapper) ---- */
struct dm_dev_info {
	int exists;
	int suspended;
	int open_count;
	uint32_t major, minor;
	int target_count;
};
void dm_setup(void);
int dm_info(const char *name, struct dm_dev_info *di);
int dm_create_dev(const char *name, const char *target, uint64_t len, const char *params);
int dm_reload(const char *name, const char *target, uint64_t len, const char *params);
int dm_remove_dev(const char *name);
int dm_suspend_dev(const char *name, int noflush);
int dm_resume_dev(const char *name);
int dm_message(const char *name, const char *msg); /* returns 0 or -errno */
int dm_status(const char *name, char *target_type, size_t tlen, uint64_t *len, char *params, size_t plen);
int dm_status_noflush(const char *name, char *params, size_t plen);
const char *dm_last_error(void);
int dm_target_exists(const char *name);
const char *dm_dev_path(const char *name, char *buf, size_t len);

/* ---- loop.c ---- */
int loop_attach(const char *file, char *devpath, size_t len); /* 0 ok */
int loop_detach(const char *devpath);
int loop_find(const char *file, char *devpath, size_t len);     /* 0 found */

/* ---- pool records and status lines (store.c) ---- */
struct pool_status {
	uint64_t txid;
	uint64_t meta_used, meta_total;
	uint64_t data_used, data_total;
	char held_root[32];
	char mode[32];
	char discard[32];
	char no_space[32];
	int needs_check;
	uint64_t meta_low_water;
	int fail;
};
int parse_pool_status(const char *line, struct pool_status *ps);
int parse_thin_status(const char *line, uint64_t *mapped_sectors, int64_t *highest);

struct pool {
	char name[NAME_MAX_LEN + 1];
	struct kv kv;       /* pools/<name>.conf */
	char conf_path[4096];
	char txn_path[4096];
};
int lock_state(void);          /* exclusive flock on state dir, returns fd */
void unlock_state(int fd);
int pool_load(struct pool *p, const char *name);
int pool_default_name(char *out, size_t len); /* the only pool, or "default" */
int pool_save(struct pool *p);
const char *pool_thin_target(struct pool *p);
const char *pool_pool_target(struct pool *p);
uint32_t pool_block_sectors(struct pool *p);
const char *pool_meta_dev(struct pool *p);
/*
 * pool-usage.c: each device's mapped, exclusive and shared blocks, read from
 * a metadata snapshot of the live pool, released again; -1 (reported) if the
 * pool cannot give one (read-only, or someone else's snapshot is held).
 */
struct meta_usage;
int pool_read_usage(struct pool *p, struct meta_usage *u);

/* volume records: <state>/volumes/<name> */
int vol_path(const char *name, char *buf, size_t len);
int vol_load(struct kv *kv, const char *name);
int vol_load_listed(struct kv *kv, const char *name); /* 0 ok, 1 gone, -1 corrupt */
int vol_load_where(struct kv *kv, const char *name, const char *key, const char *want, int *rc);
int vol_save(const struct kv *kv, const char *name);
int vol_remove_record(const char *name);
int vol_exists(const char *name);
char **vol_list_names(int *n); /* sorted, malloc'd */
int vol_check_all(void);        /* -1 if a record is corrupt (reported) */
int vol_count_users(const char *name, const char *const *keys, char *who, size_t len);
void free_names(char **names, int n);

#endif
