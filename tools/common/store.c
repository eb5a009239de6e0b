// SPDX-License-Identifier: GPL-2.0-only
/* ctpool: the state store (pool configs, volume records) and status parsers. */
#include "ctpool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Layout of the state directory:
 *   lock                 flock()ed by every command that changes anything
 *   pools/<pool>.conf    pool configuration + last committed transaction id
 *   pools/<pool>.txn     open transaction record (exists only mid-operation)
 *   volumes/<name>       one record per volume / image / container
 * Every file is a key=value record (kv.c), replaced atomically (write, fsync,
 * rename). A record that does not parse is an error, never skipped: a scan
 * that decides from the records it can read (gc, pool remove, image rm)
 * would act on a store missing the one it cannot.
 */

int lock_state(void)
{
	char p[PATH_MAX];
	if (mkdir_p(G.state_dir, 0700)) {
		err("cannot create state directory %s: %s", G.state_dir, strerror(errno));
		return -1;
	}
	snprintf(p, sizeof(p), "%s/pools", G.state_dir);
	mkdir_p(p, 0700);
	snprintf(p, sizeof(p), "%s/volumes", G.state_dir);
	mkdir_p(p, 0700);
	snprintf(p, sizeof(p), "%s/lock", G.state_dir);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err("cannot open %s: %s", p, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		info("waiting for another ctpool command to finish (lock %s)", p);
		if (flock(fd, LOCK_EX)) {
			err("cannot lock %s: %s", p, strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

void unlock_state(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

int pool_load(struct pool *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	if (!valid_name(name)) {
		err("invalid pool name '%s'", name);
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->conf_path, sizeof(p->conf_path), "%s/pools/%s.conf", G.state_dir, name);
	snprintf(p->txn_path, sizeof(p->txn_path), "%s/pools/%s.txn", G.state_dir, name);
	if (kv_load(&p->kv, p->conf_path)) {
		if (errno == ENOENT)
			err("no pool '%s' in %s (create it with 'ctpool pool create %s ...')", name,
			    G.state_dir, name);
		return -1;
	}
	return 0;
}

int pool_save(struct pool *p)
{
	if (kv_save(&p->kv, p->conf_path)) {
		err("cannot write %s: %s", p->conf_path, strerror(errno));
		return -1;
	}
	return 0;
}

int pool_default_name(char *out, size_t len)
{
	const char *env = getenv("CTPOOL_POOL");
	if (env && *env) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/pools", G.state_dir);
	DIR *d = opendir(p);
	int n = 0;
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			size_t l = strlen(de->d_name);
			if (l > 5 && !strcmp(de->d_name + l - 5, ".conf")) {
				if (n == 0)
					snprintf(out, len, "%.*s", (int)(l - 5), de->d_name);
				n++;
			}
		}
		closedir(d);
	}
	if (n == 1)
		return 0;
	if (n == 0)
		err("no pool exists yet: create one with 'ctpool pool create NAME --metadata M --data D'");
	else
		err("%d pools exist: say which with --pool NAME (or CTPOOL_POOL)", n);
	return -1;
}

const char *pool_pool_target(struct pool *p)
{
	const char *t = kv_get(&p->kv, "pool_target");
	return t ? t : "ctpool";
}

const char *pool_thin_target(struct pool *p)
{
	if (G.thin_target)
		return G.thin_target;
	const char *t = kv_get(&p->kv, "thin_target");
	return t ? t : "ctthin";
}

uint32_t pool_block_sectors(struct pool *p)
{
	return (uint32_t)kv_get_u64(&p->kv, "block_sectors", 128);
}

const char *pool_meta_dev(struct pool *p)
{
	return kv_get(&p->kv, "metadata_dev");
}

/* ---- volume records ---- */
int vol_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/volumes/%s", G.state_dir, name);
	return 0;
}

int vol_load(struct kv *kv, const char *name)
{
	char p[PATH_MAX];
	if (!valid_name(name)) {
		kv_init(kv);
		errno = EINVAL;
		return -1;
	}
	vol_path(name, p, sizeof(p));
	return kv_load(kv, p);
}

/*
 * Load record name, listed by vol_list_names, for a scan: 0 loaded, 1 gone
 * since it was listed (skip it), -1 unreadable or corrupt (reported): a scan
 * that decides anything from the records must stop then.
 */
int vol_load_listed(struct kv *kv, const char *name)
{
	if (vol_load(kv, name) == 0)
		return 0;
	return errno == ENOENT ? 1 : -1;
}

/*
 * For a scan of the records: load listed record name, if its key is set (to
 * want, if want is given); else 1, skip it. A record that cannot be read
 * (reported) is skipped too, and makes *rc EXIT_ERR if rc is given: a
 * listing goes on, but fails.
 */
int vol_load_where(struct kv *kv, const char *name, const char *key, const char *want, int *rc)
{
	int lr = vol_load_listed(kv, name);
	if (lr < 0 && rc)
		*rc = EXIT_ERR;
	if (lr)
		return 1;
	const char *val = kv_get(kv, key);
	if (val && (!want || !strcmp(val, want)))
		return 0;
	kv_free(kv);
	return 1;
}

int vol_save(const struct kv *kv, const char *name)
{
	char p[PATH_MAX];
	vol_path(name, p, sizeof(p));
	if (kv_save(kv, p)) {
		err("cannot write %s: %s", p, strerror(errno));
		return -1;
	}
	return 0;
}

int vol_remove_record(const char *name)
{
	char p[PATH_MAX];
	vol_path(name, p, sizeof(p));
	if (unlink(p) && errno != ENOENT)
		return -1;
	char d[PATH_MAX];
	snprintf(d, sizeof(d), "%s/volumes", G.state_dir);
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

int vol_exists(const char *name)
{
	char p[PATH_MAX];
	vol_path(name, p, sizeof(p));
	return access(p, F_OK) == 0;
}

/* -1 if any record cannot be read (each reported): then nothing may be decided from the store */
int vol_check_all(void)
{
	int n, bad = 0;
	char **names = vol_list_names(&n);
	for (int i = 0; i < n; i++) {
		struct kv v;
		int r = vol_load_listed(&v, names[i]);
		if (r == 0)
			kv_free(&v);
		bad |= r < 0;
	}
	free_names(names, n);
	return bad ? -1 : 0;
}

/*
 * How many records name `name` under one of keys (NULL-terminated), the
 * first of them into who (if who); -1 if a record cannot be read (each
 * reported): it may be one more.
 */
int vol_count_users(const char *name, const char *const *keys, char *who, size_t len)
{
	int n, count = 0;
	char **names = vol_list_names(&n);
	if (who)
		who[0] = 0;
	for (int i = 0; i < n; i++) {
		struct kv v;
		int lr = vol_load_listed(&v, names[i]);
		if (lr < 0)
			count = -1;
		if (lr)
			continue;
		for (int k = 0; keys[k] && count >= 0; k++) {
			const char *val = kv_get(&v, keys[k]);
			if (val && !strcmp(val, name)) {
				if (count++ == 0 && who)
					snprintf(who, len, "%s", names[i]);
				break;
			}
		}
		kv_free(&v);
	}
	free_names(names, n);
	return count;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **vol_list_names(int *np)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/volumes", G.state_dir);
	DIR *d = opendir(p);
	int n = 0, cap = 16;
	char **v = xrealloc(NULL, cap * sizeof(char *));
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' || strstr(de->d_name, ".tmp."))
				continue;
			if (!valid_name(de->d_name))
				continue;
			if (n == cap)
				v = xrealloc(v, (cap *= 2) * sizeof(char *));
			v[n++] = xstrdup(de->d_name);
		}
		closedir(d);
	}
	qsort(v, n, sizeof(char *), cmpstr);
	*np = n;
	return v;
}

void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ---- status parsers ---- */

/*
 * <transaction id> <used meta>/<total meta> <used data>/<total data> <held root|->
 * <rw|ro|out_of_data_space> <ignore_discard|discard_passdown|no_discard_passdown>
 * <error_if_no_space|queue_if_no_space> <needs_check|-> <metadata low watermark>
 * or "Fail" / "Error".
 */
int parse_pool_status(const char *line, struct pool_status *ps)
{
	memset(ps, 0, sizeof(*ps));
	while (*line == ' ')
		line++;
	if (!strncmp(line, "Fail", 4) || !strncmp(line, "Error", 5)) {
		ps->fail = 1;
		snprintf(ps->mode, sizeof(ps->mode), "%s", line[0] == 'F' ? "fail" : "error");
		return 0;
	}
	unsigned long long tx, um, tm, ud, td;
	char held[32] = "", mode[32] = "", disc[32] = "", nos[32] = "", nc[32] = "", lw[32] = "";
	int n = sscanf(line, "%llu %llu/%llu %llu/%llu %31s %31s %31s %31s %31s %31s", &tx, &um, &tm,
		       &ud, &td, held, mode, disc, nos, nc, lw);
	if (n < 7)
		return -1;
	ps->txid = tx;
	ps->meta_used = um;
	ps->meta_total = tm;
	ps->data_used = ud;
	ps->data_total = td;
	snprintf(ps->held_root, sizeof(ps->held_root), "%s", held);
	snprintf(ps->mode, sizeof(ps->mode), "%s", mode);
	snprintf(ps->discard, sizeof(ps->discard), "%s", disc);
	snprintf(ps->no_space, sizeof(ps->no_space), "%s", nos);
	ps->needs_check = !strcmp(nc, "needs_check");
	uint64_t v;
	if (n >= 11 && !parse_u64(lw, &v))
		ps->meta_low_water = v;
	return 0;
}

/* "<nr mapped sectors> <highest mapped sector|->", "Fail" or "-" */
int parse_thin_status(const char *line, uint64_t *mapped, int64_t *highest)
{
	unsigned long long m;
	char h[32] = "";
	if (sscanf(line, "%llu %31s", &m, h) < 1)
		return -1;
	*mapped = m;
	*highest = -1;
	uint64_t hv;
	if (!parse_u64(h, &hv))
		*highest = (int64_t)hv;
	return 0;
}
