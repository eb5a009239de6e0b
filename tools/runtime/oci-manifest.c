// SPDX-License-Identifier: GPL-2.0-only
/*
 * From the archive's entry point (index.json of an OCI layout, manifest.json
 * of a docker-save archive) to the verified list of layers.
 *
 * Every document is parsed with json-c from a bounded buffer, with a depth
 * limit, and every field is type-checked: a value of the wrong type, a
 * missing field, an array longer than we take or a media type we do not
 * know is a clear error naming the document, never a guess.
 */
#include "oci-image.h"
#include "common/ctpool.h"
#include "volume/volume.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH 32

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

static const char *const config_types[] = {
	"application/vnd.oci.image.config.v1+json",
	"application/vnd.docker.container.image.v1+json",
};

/* tar layers, compressed with what libarchive decompresses in process */
static const char *const layer_types[] = {
	"application/vnd.oci.image.layer.v1.tar",
	"application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.v1.tar+zstd",
	"application/vnd.docker.image.rootfs.diff.tar",
	"application/vnd.docker.image.rootfs.diff.tar.gzip",
};

static int one_of(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, set[i]))
			return 1;
	return 0;
}

#define ONE_OF(s, set) one_of(s, set, ARRAY_SIZE(set))

/* ------------------------------------------------------------ json helpers */

struct json_object *oci_json_parse(const char *json, size_t len, const char *what)
{
	if (len > OCI_JSON_MAX) {
		err("%s: %zu bytes, more than %u", what, len, OCI_JSON_MAX);
		return NULL;
	}
	struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok) {
		err("out of memory");
		return NULL;
	}
	struct json_object *o = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error e = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!o || e != json_tokener_success) {
		err("%s: not valid JSON: %s", what,
		    e == json_tokener_continue ? "unexpected end" : json_tokener_error_desc(e));
		json_object_put(o);
		return NULL;
	}
	for (; end < len; end++)
		if (!strchr(" \t\r\n", json[end])) {
			err("%s: not valid JSON: data after the document", what);
			json_object_put(o);
			return NULL;
		}
	return o;
}

static const char *type_name(struct json_object *v)
{
	return v ? json_type_to_name(json_object_get_type(v)) : "missing";
}

/* The member key of object o with type t; NULL (after an error if required) otherwise. */
static struct json_object *member(struct json_object *o, const char *key, enum json_type t,
				  int required, const char *what)
{
	struct json_object *v = NULL;
	if (!json_object_is_type(o, json_type_object)) {
		err("%s: want a JSON object, found %s", what, type_name(o));
		return NULL;
	}
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			err("%s: \"%s\" is missing", what, key);
		return NULL;
	}
	if (!json_object_is_type(v, t)) {
		err("%s: \"%s\" is %s, want %s", what, key, type_name(v), json_type_to_name(t));
		return NULL;
	}
	return v;
}

/* A string without an embedded NUL, at most max bytes; NULL (reported) otherwise. */
static const char *str_of(struct json_object *v, size_t max, const char *what, const char *key)
{
	if (!json_object_is_type(v, json_type_string)) {
		err("%s: \"%s\" is %s, want a string", what, key, type_name(v));
		return NULL;
	}
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (strlen(s) != n || n > max) {
		err("%s: \"%s\" %s", what, key, n > max ? "is too long" : "holds a NUL character");
		return NULL;
	}
	return s;
}

static const char *str_member(struct json_object *o, const char *key, size_t max, int required,
			      const char *what)
{
	struct json_object *v = member(o, key, json_type_string, required, what);
	return v ? str_of(v, max, what, key) : NULL;
}

/* An array member with 1..max elements (0 allowed if min_zero). */
static struct json_object *array_member(struct json_object *o, const char *key, size_t max,
					int min_zero, const char *what)
{
	struct json_object *a = member(o, key, json_type_array, 1, what);
	if (!a)
		return NULL;
	size_t n = json_object_array_length(a);
	if ((!n && !min_zero) || n > max) {
		err("%s: \"%s\" has %zu entries, want %s1 to %zu", what, key, n, min_zero ? "0 or " : "",
		    max);
		return NULL;
	}
	return a;
}

/* A content descriptor: mediaType (if required), a sha256 digest, a size. */
static int descriptor(struct json_object *o, struct oci_descriptor *d, int need_type, const char *what)
{
	const char *mt = str_member(o, "mediaType", sizeof(d->media_type) - 1, need_type, what);
	const char *dg = str_member(o, "digest", 200, 1, what);
	struct json_object *sz = member(o, "size", json_type_int, 1, what);
	if ((need_type && !mt) || !dg || !sz)
		return -1;
	snprintf(d->media_type, sizeof(d->media_type), "%s", mt ? mt : "");
	if (oci_valid_digest(dg)) {
		err("%s: digest '%.80s' is not sha256:<64 lowercase hex digits> (the only algorithm "
		    "supported)",
		    what, dg);
		return -1;
	}
	snprintf(d->digest, sizeof(d->digest), "%s", dg);
	errno = 0;
	d->size = json_object_get_int64(sz);
	if (d->size < 0 || errno) {
		err("%s: size %s is not a byte count", what, json_object_to_json_string(sz));
		return -1;
	}
	return 0;
}

/* Both index.json and the manifest must say schemaVersion 2: 0, or -1 reported. */
static int check_schema_version(struct json_object *o, const char *what)
{
	struct json_object *sv = member(o, "schemaVersion", json_type_int, 1, what);
	if (!sv)
		return -1;
	if (json_object_get_int64(sv) != 2) {
		err("%s: schemaVersion %s, want 2", what, json_object_to_json_string(sv));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ index.json */

static const char *host_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#else
	return NULL;
#endif
}

/* Is descriptor m (an element of manifests) for this machine? No platform: yes. */
static int platform_matches(struct json_object *m, const char *what)
{
	struct json_object *pf = member(m, "platform", json_type_object, 0, what);
	if (!pf)
		return 1;
	const char *os = str_member(pf, "os", 64, 0, what);
	const char *arch = str_member(pf, "architecture", 64, 0, what);
	return (!os || !strcmp(os, "linux")) && (!arch || !host_arch() || !strcmp(arch, host_arch()));
}

int oci_parse_index(const char *json, size_t len, struct oci_descriptor *manifest)
{
	const char *what = "index.json";
	struct json_object *o = oci_json_parse(json, len, what), *ms;
	int found = 0, r = -1;
	if (!o)
		return -1;
	if (check_schema_version(o, what))
		goto out;
	const char *mt = str_member(o, "mediaType", 200, 0, what);
	if (mt && strcmp(mt, MT_OCI_INDEX)) {
		err("%s: media type '%s' is not an OCI image index", what, mt);
		goto out;
	}
	ms = array_member(o, "manifests", OCI_MAX_INDEX_ENTRIES, 0, what);
	if (!ms)
		goto out;
	for (size_t i = 0; i < json_object_array_length(ms); i++) {
		struct oci_descriptor d;
		struct json_object *m = json_object_array_get_idx(ms, i);
		if (descriptor(m, &d, 1, "index.json manifests[]"))
			goto out;
		if (!strcmp(d.media_type, MT_OCI_INDEX) || !strcmp(d.media_type, MT_DOCKER_LIST)) {
			err("%s: lists a nested image index (%s): not supported, export one platform's "
			    "image",
			    what, d.media_type);
			goto out;
		}
		if (strcmp(d.media_type, MT_OCI_MANIFEST) && strcmp(d.media_type, MT_DOCKER_MANIFEST)) {
			err("%s: manifest media type '%s' is not supported (want %s)", what, d.media_type,
			    MT_OCI_MANIFEST);
			goto out;
		}
		if (!platform_matches(m, what))
			continue; /* another platform, or docker's attestations (unknown/unknown) */
		if (found++) {
			err("%s lists more than one image for linux/%s: import takes an archive of one image",
			    what, host_arch() ? host_arch() : "?");
			goto out;
		}
		*manifest = d;
	}
	if (!found)
		err("%s lists no image for linux/%s", what, host_arch() ? host_arch() : "?");
	else
		r = 0;
out:
	json_object_put(o);
	return r;
}

/* ------------------------------------------------------------ the manifest */

int oci_parse_manifest(const char *json, size_t len, struct oci_descriptor *config,
		       struct oci_descriptor *layers, int *nr_layers)
{
	const char *what = "image manifest";
	struct json_object *o = oci_json_parse(json, len, what), *ls, *c;
	int r = -1;
	if (!o)
		return -1;
	if (check_schema_version(o, what))
		goto out;
	const char *mt = str_member(o, "mediaType", 200, 0, what);
	if (mt && strcmp(mt, MT_OCI_MANIFEST) && strcmp(mt, MT_DOCKER_MANIFEST)) {
		err("%s: media type '%s' is not an image manifest", what, mt);
		goto out;
	}
	c = member(o, "config", json_type_object, 1, what);
	if (!c || descriptor(c, config, 1, "manifest config"))
		goto out;
	if (!ONE_OF(config->media_type, config_types)) {
		err("%s: config media type '%s' is not supported (want %s)", what, config->media_type,
		    config_types[0]);
		goto out;
	}
	ls = array_member(o, "layers", OCI_MAX_LAYERS, 0, what);
	if (!ls)
		goto out;
	*nr_layers = (int)json_object_array_length(ls);
	for (int i = 0; i < *nr_layers; i++) {
		if (descriptor(json_object_array_get_idx(ls, i), &layers[i], 1, "manifest layers[]"))
			goto out;
		if (!ONE_OF(layers[i].media_type, layer_types)) {
			err("%s: layer %d has media type '%s', not supported (tar, tar+gzip or tar+zstd "
			    "layers; non-distributable layers are not fetched)",
			    what, i + 1, layers[i].media_type);
			goto out;
		}
	}
	r = 0;
out:
	json_object_put(o);
	return r;
}

/* ------------------------------------------------------------ docker's manifest.json */

int oci_parse_docker_manifest(const char *json, size_t len, char **config, char **layers,
			      int *nr_layers)
{
	const char *what = "manifest.json";
	struct json_object *o = oci_json_parse(json, len, what), *ls;
	int r = -1, n = 0;
	*config = NULL;
	if (!o)
		return -1;
	if (!json_object_is_type(o, json_type_array) || json_object_array_length(o) != 1) {
		if (json_object_is_type(o, json_type_array))
			err("%s holds %zu images: import takes an archive of one image", what,
			    json_object_array_length(o));
		else
			err("%s: want an array, found %s", what, type_name(o));
		goto out;
	}
	struct json_object *img = json_object_array_get_idx(o, 0);
	const char *c = str_member(img, "Config", PATH_MAX - 1, 1, what);
	if (!c)
		goto out;
	ls = array_member(img, "Layers", OCI_MAX_LAYERS, 0, what);
	if (!ls)
		goto out;
	for (n = 0; n < (int)json_object_array_length(ls); n++) {
		const char *l = str_of(json_object_array_get_idx(ls, n), PATH_MAX - 1, what, "Layers[]");
		if (!l)
			goto out;
		layers[n] = strdup(l);
		if (!layers[n])
			goto out;
	}
	*config = strdup(c);
	if (!*config)
		goto out;
	*nr_layers = n;
	r = 0;
out:
	if (r)
		while (n-- > 0)
			free(layers[n]);
	json_object_put(o);
	return r;
}

/* ------------------------------------------------------------ the config's rootfs */

int oci_parse_diff_ids(const char *json, size_t len, char diff_ids[][OCI_DIGEST_LEN + 1], int max,
		       int *nr)
{
	const char *what = "image config";
	struct json_object *o = oci_json_parse(json, len, what), *rootfs, *ids;
	int r = -1;
	if (!o)
		return -1;
	rootfs = member(o, "rootfs", json_type_object, 1, what);
	if (!rootfs)
		goto out;
	const char *type = str_member(rootfs, "type", 64, 1, what);
	if (!type || strcmp(type, "layers")) {
		if (type)
			err("%s: rootfs type '%s', want 'layers'", what, type);
		goto out;
	}
	ids = array_member(rootfs, "diff_ids", (size_t)max, 0, what);
	if (!ids)
		goto out;
	*nr = (int)json_object_array_length(ids);
	for (int i = 0; i < *nr; i++) {
		const char *d = str_of(json_object_array_get_idx(ids, i), 200, what, "diff_ids[]");
		if (!d)
			goto out;
		if (oci_valid_digest(d)) {
			err("%s: diff_id '%.80s' is not sha256:<64 lowercase hex digits>", what, d);
			goto out;
		}
		snprintf(diff_ids[i], OCI_DIGEST_LEN + 1, "%s", d);
	}
	r = 0;
out:
	json_object_put(o);
	return r;
}

void oci_chain_ids(struct oci_layer *layers, int n)
{
	for (int i = 0; i < n; i++) {
		if (!i) {
			memcpy(layers[0].chain_id, layers[0].diff_id, sizeof(layers[0].chain_id));
			continue;
		}
		char buf[2 * OCI_DIGEST_LEN + 2];
		snprintf(buf, sizeof(buf), "%s %s", layers[i - 1].chain_id, layers[i].diff_id);
		oci_sha256(buf, strlen(buf), layers[i].chain_id);
	}
}

/* ------------------------------------------------------------ resolving the archive */

/* The blob for digest in an OCI layout: blobs/sha256/<hex>, verified. */
static const struct oci_blob *verified_blob(const struct oci_archive *ar, const struct oci_descriptor *d,
					    const char *what)
{
	char name[32 + OCI_DIGEST_LEN];
	snprintf(name, sizeof(name), "blobs/sha256/%s", d->digest + 7);
	const struct oci_blob *b = oci_archive_find(ar, name);
	if (!b) {
		err("%s %s is not in the archive (no %s)", what, d->digest, name);
		return NULL;
	}
	return oci_blob_verify(b, d->digest, d->size, what) ? NULL : b;
}

/* A JSON blob read into memory after its digest was checked. */
static char *read_verified(const struct oci_blob *b, const char *digest, int64_t size,
			   const char *what, size_t *len)
{
	if (oci_blob_verify(b, digest, size, what))
		return NULL;
	return oci_blob_read(b, what, len);
}

static int resolve_oci(const struct oci_archive *ar, struct oci_image *img,
		       struct oci_descriptor *layers)
{
	struct oci_descriptor md, cd;
	size_t len;
	const struct oci_blob *ib = oci_archive_find(ar, "index.json"), *mb, *cb;
	char *index = ib ? oci_blob_read(ib, "index.json", &len) : NULL;
	if (!index)
		return -1;
	int r = oci_parse_index(index, len, &md);
	free(index);
	if (r)
		return -1;
	mb = verified_blob(ar, &md, "image manifest");
	if (!mb)
		return -1;
	char *manifest = oci_blob_read(mb, "image manifest", &len);
	if (!manifest)
		return -1;
	r = oci_parse_manifest(manifest, len, &cd, layers, &img->nr_layers);
	free(manifest);
	if (r)
		return -1;
	cb = verified_blob(ar, &cd, "image config");
	if (!cb)
		return -1;
	memcpy(img->manifest_digest, md.digest, sizeof(md.digest));
	memcpy(img->config_digest, cd.digest, sizeof(cd.digest));
	img->config = oci_blob_read(cb, "image config", &img->config_len);
	if (!img->config)
		return -1;
	for (int i = 0; i < img->nr_layers; i++) {
		img->layers[i].blob = verified_blob(ar, &layers[i], "layer");
		if (!img->layers[i].blob)
			return -1;
	}
	return 0;
}

/*
 * A docker archive names the config by its digest: "<hex>.json" (older
 * docker) or "blobs/sha256/<hex>" (newer); the digest is the image ID.
 */
static int digest_from_path(const char *path, char out[OCI_DIGEST_LEN + 1])
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strlen(base);
	if (n == 69 && !strcmp(base + 64, ".json"))
		n = 64;
	if (n != 64)
		return -1;
	memcpy(out, "sha256:", 7);
	memcpy(out + 7, base, 64);
	out[OCI_DIGEST_LEN] = 0;
	return oci_valid_digest(out);
}

static int resolve_docker(const struct oci_archive *ar, struct oci_image *img)
{
	char *config = NULL, *paths[OCI_MAX_LAYERS];
	size_t len;
	int n = 0, r = -1;
	const struct oci_blob *mb = oci_archive_find(ar, "manifest.json"), *cb;
	char *manifest = mb ? oci_blob_read(mb, "manifest.json", &len) : NULL;
	if (!manifest)
		return -1;
	r = oci_parse_docker_manifest(manifest, len, &config, paths, &n);
	free(manifest);
	if (r)
		return -1;
	r = -1;
	if (digest_from_path(config, img->config_digest)) {
		err("manifest.json: config '%s' is not named by its sha256 digest: it cannot be verified",
		    config);
		goto out;
	}
	cb = oci_archive_find(ar, config);
	if (!cb) {
		err("manifest.json: config '%s' is not in the archive", config);
		goto out;
	}
	img->config = read_verified(cb, img->config_digest, -1, "image config", &img->config_len);
	if (!img->config)
		goto out;
	img->nr_layers = n;
	for (int i = 0; i < n; i++) {
		char d[OCI_DIGEST_LEN + 1];
		img->layers[i].blob = oci_archive_find(ar, paths[i]);
		if (!img->layers[i].blob) {
			err("manifest.json: layer '%s' is not in the archive", paths[i]);
			goto out;
		}
		/* blobs/sha256/<hex> names its digest; <id>/layer.tar is checked by its DiffID */
		if (!digest_from_path(paths[i], d) && oci_blob_verify(img->layers[i].blob, d, -1, "layer"))
			goto out;
	}
	r = 0;
out:
	free(config);
	while (n-- > 0)
		free(paths[n]);
	return r;
}

int oci_image_resolve(const struct oci_archive *ar, enum image_format fmt, struct oci_image *img)
{
	struct oci_descriptor layers[OCI_MAX_LAYERS];
	char diff_ids[OCI_MAX_LAYERS][OCI_DIGEST_LEN + 1];
	int nr_ids = 0;
	memset(img, 0, sizeof(*img));
	img->fmt = fmt;
	if ((fmt == IMAGE_OCI ? resolve_oci(ar, img, layers) : resolve_docker(ar, img)) ||
	    oci_parse_diff_ids(img->config, img->config_len, diff_ids, OCI_MAX_LAYERS, &nr_ids))
		goto fail;
	if (nr_ids != img->nr_layers) {
		err("the image config lists %d layer DiffIDs, the manifest %d layers", nr_ids,
		    img->nr_layers);
		goto fail;
	}
	/* the uncompressed content too: it keys the layer store, so it must be what it says */
	for (int i = 0; i < img->nr_layers; i++) {
		char got[OCI_DIGEST_LEN + 1];
		info("verifying layer %d/%d", i + 1, img->nr_layers);
		if (oci_blob_diff_id(img->layers[i].blob, got))
			goto fail;
		if (strcmp(got, diff_ids[i])) {
			err("layer %d (%s): digest mismatch: its content hashes to %s, the config says %s: "
			    "refused",
			    i + 1, img->layers[i].blob->name, got, diff_ids[i]);
			goto fail;
		}
		memcpy(img->layers[i].diff_id, diff_ids[i], sizeof(diff_ids[i]));
	}
	oci_chain_ids(img->layers, img->nr_layers);
	return 0;
fail:
	oci_image_free(img);
	return -1;
}

void oci_image_free(struct oci_image *img)
{
	free(img->config);
	img->config = NULL;
}
