// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool runtime: what the records say about images and containers
 * (load_kind, load_running), and what the kernel says about them (is the
 * init alive, is the thin device still open); `image list` and `container
 * list`. Also the state lock this command holds (g_lock) and where a
 * container's run directory is.
 */
#include "runtime.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the state lock (lock_state()) this command holds, -1 if none */
int g_lock = -1;

uint64_t pid_starttime(pid_t pid)
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

int pid_alive(const struct kv *c, const char *pkey, const char *skey)
{
	pid_t pid = (pid_t)kv_get_u64(c, pkey, 0);
	if (pid <= 0)
		return 0;
	uint64_t st = pid_starttime(pid);
	return st && st == kv_get_u64(c, skey, 0);
}

int container_running(const struct kv *c)
{
	return pid_alive(c, "init_pid", "init_start");
}

void run_dir(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/run/%s", G.state_dir, name);
}

int dev_of(const char *name, uint32_t *maj, uint32_t *min)
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
int wait_unused(const char *name, int ms)
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

int load_kind(const char *name, const char *kind, struct kv *v)
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

int lock_load_kind(const char *name, const char *kind, struct kv *v, struct pool *p)
{
	g_lock = lock_state();
	if (g_lock < 0)
		return -1;
	return load_kind(name, kind, v) || vol_open_pool(name, v, p) ? -1 : 0;
}

int load_running(const char *name, struct kv *c)
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

int list_kind(const char *kind, int json)
{
	int n, bad = 0;
	char **names = vol_list_names(&n);
	struct json_object *list = json ? json_object_new_array() : NULL, *o = NULL;
	if (!json && !strcmp(kind, "image"))
		printf("%-20s %-10s %10s %-10s %s\n", "NAME", "POOL", "SIZE", "STATE", "PARENT");
	else if (!json)
		printf("%-20s %-20s %-10s %8s\n", "NAME", "IMAGE", "STATUS", "PID");
	int rc = EXIT_OK;
	for (int i = 0; i < n; i++) {
		struct kv v;
		if (vol_load_where(&v, names[i], "kind", kind, &rc))
			continue;
		char sz[32];
		const char *pool = kv_get(&v, "pool") ? kv_get(&v, "pool") : "";
		if (!strcmp(kind, "image")) {
			const char *st = kv_get(&v, "state") ? kv_get(&v, "state") : "ready";
			const char *par = kv_get(&v, "parent") ? kv_get(&v, "parent") : "";
			if (json)
				bad |= jpush(list, o = json_object_new_object()) ||
				       jadd_str(o, "name", names[i]) || jadd_str(o, "pool", pool) ||
				       jadd_u64(o, "size", kv_get_u64(&v, "size", 0)) ||
				       jadd_str(o, "state", st) || jadd_str_or_null(o, "parent", par);
			else
				printf("%-20s %-10s %10s %-10s %s\n", names[i], pool,
				       fmt_size(kv_get_u64(&v, "size", 0), sz, sizeof(sz)), st, *par ? par : "-");
		} else {
			int run = container_running(&v);
			const char *img = kv_get(&v, "image") ? kv_get(&v, "image") : "";
			unsigned long long pid = run ? kv_get_u64(&v, "init_pid", 0) : 0;
			if (json) {
				struct json_object *att = NULL, *a;
				bad |= jpush(list, o = json_object_new_object()) ||
				       jadd_str(o, "name", names[i]) || jadd_str(o, "image", img) ||
				       jadd_str(o, "pool", pool) || jadd_bool(o, "running", run) ||
				       jadd_u64(o, "pid", pid) ||
				       jadd(o, "attached", att = json_object_new_array());
				for (int j = 0; j < v.n && !bad; j++)
					if (!strncmp(v.k[j], "attach.", 7))
						bad |= jpush(att, a = json_object_new_object()) ||
						       jadd_str(a, "volume", v.k[j] + 7) ||
						       jadd_str(a, "at", v.v[j]);
			} else
				printf("%-20s %-20s %-10s %8s\n", names[i], img, run ? "running" : "stopped",
				       run ? (snprintf(sz, sizeof(sz), "%llu", pid), sz) : "-");
		}
		kv_free(&v);
	}
	if (json && jprint(list, bad))
		rc = EXIT_ERR;
	free_names(names, n);
	return rc;
}

int list_kind_cmd(const char *kind, int (*usage)(FILE *f), int argc, char **argv)
{
	if (argc > 1 && is_help(argv[1]))
		return usage(stdout);
	g_lock = lock_state();
	if (g_lock < 0)
		return EXIT_ERR;
	return list_kind(kind, argc > 1 && !strcmp(argv[1], "--json"));
}
