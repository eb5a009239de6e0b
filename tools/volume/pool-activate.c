// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool pool activate --all: bring up every recorded pool and its volumes,
 * as at boot (ctpool-activate.service).
 *
 * Order: a pool before any of its volumes (a thin needs its pool device).
 * Each pool is independent: one whose disk is missing is reported and
 * skipped, and the others still come up; the exit status says something was
 * left down. Active pools and volumes are left as they are, so running it
 * twice changes nothing. Only user volumes (kind "volume") are activated:
 * images and container roots are activated by the runtime when a container
 * needs them.
 */
#include "volume.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the recorded pools (pools/<name>.conf), sorted. */
static char **pool_names(int *np)
{
	char d[PATH_MAX];
	int n = 0, cap = 8;
	char **names = malloc(cap * sizeof(char *));
	snprintf(d, sizeof(d), "%s/pools", G.state_dir);
	DIR *dd = opendir(d);
	if (dd && names) {
		struct dirent *de;
		while ((de = readdir(dd))) {
			size_t l = strlen(de->d_name);
			if (l <= 5 || strcmp(de->d_name + l - 5, ".conf"))
				continue;
			char *name = strndup(de->d_name, l - 5);
			if (!name || !valid_name(name)) {
				free(name);
				continue;
			}
			if (n == cap) {
				char **bigger = realloc(names, (cap *= 2) * sizeof(char *));
				if (!bigger) {
					free(name);
					break;
				}
				names = bigger;
			}
			names[n++] = name;
		}
	}
	if (dd)
		closedir(dd);
	if (names)
		qsort(names, n, sizeof(char *), cmpstr);
	*np = names ? n : 0;
	return names;
}

/*
 * A recorded disk that is not there (not attached yet, renamed, a removed
 * file) would otherwise surface as an opaque device-mapper table error.
 */
static int pool_disks_present(struct pool *p)
{
	static const char *const keys[][2] = { { "metadata", "metadata_file" },
					       { "data", "data_file" } };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *path = kv_get(&p->kv, keys[i][0]);
		const char *what = kv_get_u64(&p->kv, keys[i][1], 0) ? "file" : "device";
		struct stat st;
		if (!path || !*path) {
			err("pool %s: no %s %s recorded in %s", p->name, keys[i][0], what,
			    p->conf_path);
			return -1;
		}
		if (stat(path, &st)) {
			err("pool %s: its %s %s %s is missing (%s): not activated", p->name,
			    keys[i][0], what, path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The module providing a target, for targets this tool knows. */
static const char *target_module(const char *target)
{
	if (!strcmp(target, "ctpool") || !strcmp(target, "ctthin"))
		return "dm-ctpool";
	if (!strcmp(target, "thin-pool") || !strcmp(target, "thin"))
		return "dm-thin-pool";
	return NULL;
}

/* At boot nothing has loaded the targets' module yet: load it on demand. */
static void load_target(const char *target)
{
	const char *mod = target_module(target);
	if (dm_target_exists(target) != 0 || !mod)
		return;
	const char *const argv[] = { "modprobe", "-q", mod, NULL };
	dbg("target %s not registered: modprobe %s", target, mod);
	if (run_cmd(argv, 1) != 0)
		warnx_("cannot load module %s for target %s", mod, target);
}

/* Activate the ready user volumes of pool P; returns how many failed. */
static int activate_volumes(struct pool *p)
{
	int n, failed = 0;
	char **names = vol_list_names(&n);
	for (int i = 0; i < n; i++) {
		struct kv v;
		if (vol_load_where(&v, names[i], "pool", p->name, NULL))
			continue;
		const char *kind = kv_get(&v, "kind"), *state = kv_get(&v, "state");
		int mine = (!kind || !strcmp(kind, "volume")) && (!state || !strcmp(state, "ready"));
		kv_free(&v);
		if (!mine)
			continue;
		if (vol_activate(names[i], NULL, 0)) {
			err("pool %s: cannot activate volume %s", p->name, names[i]);
			failed++;
		} else {
			info("volume %s is active", names[i]);
		}
	}
	free_names(names, n);
	return failed;
}

/* One pool and its volumes; returns 0 when all of it is up. */
static int activate_pool(const char *name)
{
	struct pool p;
	if (pool_load(&p, name))
		return -1;
	int r = -1;
	if (pool_disks_present(&p) == 0) {
		load_target(pool_pool_target(&p));
		load_target(pool_thin_target(&p));
		if (pool_ensure_active(&p) == 0) {
			info("pool %s is active", p.name);
			r = activate_volumes(&p) ? -1 : 0;
		}
	}
	if (r)
		err("pool %s: not (fully) activated", name);
	kv_free(&p.kv);
	return r;
}

int pool_activate_all(void)
{
	int lock = lock_state();
	if (lock < 0)
		return EXIT_ERR;
	int n, failed = 0;
	char **names = pool_names(&n);
	if (!names) {
		err("out of memory");
		unlock_state(lock);
		return EXIT_ERR;
	}
	if (n == 0)
		info("no pools recorded in %s", G.state_dir);
	for (int i = 0; i < n; i++)
		if (activate_pool(names[i]))
			failed++;
	free_names(names, n);
	unlock_state(lock);
	if (failed)
		err("%d of %d pool(s) could not be fully activated", failed, n);
	return failed ? EXIT_ERR : EXIT_OK;
}
