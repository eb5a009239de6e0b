// SPDX-License-Identifier: GPL-2.0-only
/*
 * An image's run configuration: from the config document to the image's
 * record at import, from the record to the command, environment, working
 * directory and user of `container run` (see image-config.h).
 */
#include "image-config.h"
#include "oci-image.h"
#include "common/ctpool.h"
#include "volume/volume.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const array_keys[][2] = {
	{ "Env", "config.env" },
	{ "Entrypoint", "config.entrypoint" },
	{ "Cmd", "config.cmd" },
};

/* ------------------------------------------------------------ validation */

static int valid_string(struct json_object *v, const char *what, const char *key, int env)
{
	if (!json_object_is_type(v, json_type_string)) {
		err("%s: %s: want a string, found %s", what, key,
		    json_type_to_name(json_object_get_type(v)));
		return 0;
	}
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (strlen(s) != n || n > IMAGE_CONFIG_MAX_STRING) {
		err("%s: an entry of %s %s", what, key, n > IMAGE_CONFIG_MAX_STRING ? "is too long" : "holds a NUL character");
		return 0;
	}
	if (env && (s[0] == '=' || !strchr(s, '='))) {
		err("%s: Env entry '%.64s' is not NAME=VALUE", what, s);
		return 0;
	}
	return 1;
}

/* An array of at most IMAGE_CONFIG_MAX_ITEMS valid strings. */
static int valid_array(struct json_object *a, const char *what, const char *key, int env)
{
	if (!json_object_is_type(a, json_type_array)) {
		err("%s: %s: want an array of strings, found %s", what, key,
		    json_type_to_name(json_object_get_type(a)));
		return 0;
	}
	size_t n = json_object_array_length(a);
	if (n > IMAGE_CONFIG_MAX_ITEMS) {
		err("%s: %s has %zu entries, at most %d are taken", what, key, n, IMAGE_CONFIG_MAX_ITEMS);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!valid_string(json_object_array_get_idx(a, i), what, key, env))
			return 0;
	return 1;
}

static int valid_user(const char *u)
{
	if (strlen(u) > 256 || strchr(u, ':') != strrchr(u, ':'))
		return 0;
	for (const char *c = u; *c; c++)
		if ((unsigned char)*c < 0x21 || *c == 0x7f || *c == '/')
			return 0;
	return 1;
}

/* ------------------------------------------------------------ import */

static int store_string(struct json_object *c, const char *key, const char *rkey, struct kv *rec,
			size_t *total)
{
	struct json_object *v;
	if (!json_object_object_get_ex(c, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!valid_string(v, "image config", key, 0))
		return -1;
	const char *s = json_object_get_string(v);
	if (!*s)
		return 0;
	if (!strcmp(key, "WorkingDir") && s[0] != '/') {
		err("image config: WorkingDir '%.64s' is not an absolute path", s);
		return -1;
	}
	if (!strcmp(key, "User") && !valid_user(s)) {
		err("image config: User '%.64s' is not NAME|UID[:GROUP|GID]", s);
		return -1;
	}
	*total += strlen(s);
	return kv_set(rec, rkey, s);
}

int image_config_from_json(const char *json, size_t len, struct kv *rec)
{
	struct json_object *o = oci_json_parse(json, len, "image config"), *c;
	size_t total = 0;
	int r = -1;
	if (!o)
		return -1;
	if (!json_object_is_type(o, json_type_object)) {
		err("image config: want a JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(o, "config", &c) || json_object_is_type(c, json_type_null)) {
		r = 0; /* no run configuration: container run needs a command */
		goto out;
	}
	if (!json_object_is_type(c, json_type_object)) {
		err("image config: \"config\" is a %s, want an object", json_type_to_name(json_object_get_type(c)));
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(array_keys); i++) {
		struct json_object *a;
		if (!json_object_object_get_ex(c, array_keys[i][0], &a) || json_object_is_type(a, json_type_null))
			continue;
		if (!valid_array(a, "image config", array_keys[i][0], i == 0))
			goto out;
		const char *enc = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN);
		total += strlen(enc);
		if (kv_set(rec, array_keys[i][1], enc))
			goto out;
	}
	if (store_string(c, "WorkingDir", "config.workdir", rec, &total) ||
	    store_string(c, "User", "config.user", rec, &total))
		goto out;
	if (total > IMAGE_CONFIG_MAX_TOTAL) {
		err("image config: Env, Entrypoint, Cmd, WorkingDir and User take %zu bytes, more than %d",
		    total, IMAGE_CONFIG_MAX_TOTAL);
		goto out;
	}
	r = 0;
out:
	json_object_put(o);
	return r;
}

/* ------------------------------------------------------------ the record */

static void free_vec(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* A record value back into a NULL-terminated vector, checked as at import. */
static int decode_array(const char *val, const char *key, char ***out)
{
	*out = NULL;
	if (!val)
		return 0;
	int r = -1;
	struct json_object *a = oci_json_parse(val, strlen(val), key);
	if (!a || !valid_array(a, "image record", key, !strcmp(key, "config.env")))
		goto out;
	size_t n = json_object_array_length(a);
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		goto out;
	for (size_t i = 0; i < n; i++) {
		v[i] = strdup(json_object_get_string(json_object_array_get_idx(a, i)));
		if (!v[i]) {
			free_vec(v);
			goto out;
		}
	}
	*out = v;
	r = 0;
out:
	json_object_put(a);
	return r;
}

int image_config_load(const struct kv *rec, struct image_config *ic)
{
	memset(ic, 0, sizeof(*ic));
	char ***vecs[] = { &ic->env, &ic->entrypoint, &ic->cmd };
	for (size_t i = 0; i < 3; i++)
		if (decode_array(kv_get(rec, array_keys[i][1]), array_keys[i][1], vecs[i]))
			goto bad;
	const char *wd = kv_get(rec, "config.workdir"), *user = kv_get(rec, "config.user");
	if ((wd && wd[0] != '/') || (user && !valid_user(user))) {
		err("image record: config.workdir or config.user is not valid");
		goto bad;
	}
	if (wd) {
		ic->workdir = strdup(wd);
		if (!ic->workdir)
			goto bad;
	}
	if (user) {
		ic->user = strdup(user);
		if (!ic->user)
			goto bad;
	}
	return 0;
bad:
	image_config_free(ic);
	return -1;
}

void image_config_free(struct image_config *ic)
{
	free_vec(ic->env);
	free_vec(ic->entrypoint);
	free_vec(ic->cmd);
	free(ic->workdir);
	free(ic->user);
	memset(ic, 0, sizeof(*ic));
}

static size_t vec_len(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

char **image_config_argv(const struct image_config *ic, char **user_cmd, const char *image)
{
	char **tail = user_cmd ? user_cmd : ic->cmd;
	size_t ne = vec_len(ic->entrypoint), nt = vec_len(tail);
	if (ne + nt == 0) {
		err("image %s has no Entrypoint or Cmd: give the command (container run NAME -- CMD...)",
		    image);
		return NULL;
	}
	char **argv = calloc(ne + nt + 1, sizeof(*argv));
	if (!argv) {
		err("out of memory");
		return NULL;
	}
	memcpy(argv, ic->entrypoint, ne * sizeof(*argv));
	memcpy(argv + ne, tail, nt * sizeof(*argv));
	return argv;
}

int image_config_command(const char *image, char ***cmd, struct image_config *ic)
{
	struct kv rec;
	memset(ic, 0, sizeof(*ic));
	if (!image || !valid_name(image) || vol_load(&rec, image)) {
		if (*cmd && (!image || errno == ENOENT))
			return 0; /* the container outlived its image record: run what was asked */
		err("container's image %s: cannot read its record%s", image ? image : "(none)",
		    *cmd ? "" : " (give the command: container run NAME -- CMD...)");
		return -1;
	}
	int r = image_config_load(&rec, ic);
	kv_free(&rec);
	if (r)
		return -1;
	char **argv = image_config_argv(ic, *cmd, image);
	if (!argv)
		return -1;
	*cmd = argv; /* lives as long as the run */
	return 0;
}

/* ------------------------------------------------------------ in the container */

/* Numeric id: digits only, below 2^32-1 (that one is (uid_t)-1, "no change"). */
static int parse_id(const char *s, size_t n, unsigned int *out)
{
	unsigned long long v = 0;
	if (!n || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (v >= 0xffffffffull)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/*
 * In a passwd or group file, the line whose field key_field (0: name, 2: id)
 * equals key (n bytes): its id (field 2) and, for passwd, its gid (field 3).
 */
static int lookup(const char *file, const char *key, size_t n, int key_field, unsigned int *id,
		  unsigned int *gid)
{
	for (const char *line = file; line && *line;) {
		const char *end = strchrnul(line, '\n');
		const char *f[4], *p = line;
		size_t fl[4];
		int nf = 0;
		while (nf < 4) {
			const char *c = memchr(p, ':', (size_t)(end - p));
			f[nf] = p;
			fl[nf++] = (size_t)((c ? c : end) - p);
			if (!c)
				break;
			p = c + 1;
		}
		if (nf >= 3 && fl[key_field] == n && !memcmp(f[key_field], key, n) &&
		    !parse_id(f[2], fl[2], id) && (!gid || (nf >= 4 && !parse_id(f[3], fl[3], gid))))
			return 0;
		line = *end ? end + 1 : NULL;
	}
	return -1;
}

int image_config_user(const char *user, const char *passwd, const char *group, uid_t *uid, gid_t *gid)
{
	const char *colon = strchr(user, ':');
	size_t un = colon ? (size_t)(colon - user) : strlen(user);
	unsigned int u, g = 0, pg;
	if (!parse_id(user, un, &u)) {
		/* a numeric uid: its passwd entry's group if it has one, else 0, as docker does */
		if (!lookup(passwd, user, un, 2, &u, &pg))
			g = pg;
	} else if (lookup(passwd, user, un, 0, &u, &g)) {
		err("user '%.*s' is not in the image's /etc/passwd", (int)un, user);
		return -1;
	}
	if (colon && parse_id(colon + 1, strlen(colon + 1), &g) &&
	    lookup(group, colon + 1, strlen(colon + 1), 0, &g, NULL)) {
		err("group '%s' is not in the image's /etc/group", colon + 1);
		return -1;
	}
	*uid = u;
	*gid = g;
	return 0;
}

/* The container's own file (we are inside its root), bounded; NULL if missing. */
static char *read_small(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	size_t max = 1 << 20, n = 0;
	char *buf = malloc(max + 1);
	ssize_t r = 0;
	while (buf && n < max && (r = read(fd, buf + n, max - n)) > 0)
		n += (size_t)r;
	close(fd);
	if (buf)
		buf[n] = 0;
	return buf;
}

static int apply_user(const char *user)
{
	uid_t uid;
	gid_t gid;
	char *pw = read_small("/etc/passwd"), *gr = read_small("/etc/group");
	int r = image_config_user(user, pw, gr, &uid, &gid);
	free(pw);
	free(gr);
	if (r)
		return -1;
	if (setgroups(1, &gid) || setgid(gid) || setuid(uid)) {
		err("cannot become user %s (%u:%u): %s", user, (unsigned int)uid, (unsigned int)gid, strerror(errno));
		return -1;
	}
	return 0;
}

int image_config_apply(const struct image_config *ic)
{
	for (char **e = ic->env; e && *e; e++) {
		char *eq = strchr(*e, '=');
		*eq = 0; /* validated: every entry has one */
		int r = setenv(*e, eq + 1, 1);
		*eq = '=';
		if (r) {
			err("cannot set %s: %s", *e, strerror(errno));
			return -1;
		}
	}
	if (ic->user && apply_user(ic->user))
		return -1;
	if (ic->workdir && chdir(ic->workdir)) {
		err("cannot enter the image's working directory %s: %s", ic->workdir, strerror(errno));
		return -1;
	}
	return 0;
}
