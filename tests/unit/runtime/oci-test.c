/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host test of OCI/docker image handling (tools/oci-*.c, tools/image-config.c):
 *  - index.json, manifest, docker manifest.json and config parsing, with
 *    hostile JSON (wrong types, missing fields, oversized arrays, unknown
 *    media types, bad digests, NULs, deep nesting, trailing data): an
 *    error, never a crash;
 *  - the image config into a record and back, the command it gives, users;
 *  - digests: a spooled OCI layout resolves; a tampered layer, config or
 *    manifest, or a layer that does not match its DiffID, is refused;
 *  - whiteouts on a temp dir root: .wh.NAME, an opaque dir whose new file
 *    comes before the marker, whiteouts through a symlink out of the root
 *    (the outside is untouched), whiteouts of '.' and '..' refused.
 */
#include "check.h"
#include "common/ctpool.h"
#include "runtime/extract.h"
#include "runtime/image-config.h"
#include "runtime/oci-image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

struct global G = { .state_dir = "/tmp", .quiet = 1 };

static char tmp[] = "/tmp/oci-test.XXXXXX";

/* ------------------------------------------------------------ building archives */

struct member {
	const char *name;
	const char *data; /* NULL: a directory; "->target": a symlink */
	size_t len;	  /* data length (0: strlen) */
};

/* A tar of the members, in memory (malloc'd), or into the file path. */
static char *make_tar(const struct member *m, int n, size_t *len, const char *path)
{
	size_t cap = 1 << 22, used = 0;
	char *buf = path ? NULL : malloc(cap);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (path)
		archive_write_open_filename(a, path);
	else
		archive_write_open_memory(a, buf, cap, &used);
	for (int i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_mtime(e, 1700000000, 0);
		size_t dl = m[i].data ? (m[i].len ? m[i].len : strlen(m[i].data)) : 0;
		if (!m[i].data) {
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
		} else if (!strncmp(m[i].data, "=>", 2)) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, m[i].data + 2);
			dl = 0;
		} else if (!strncmp(m[i].data, "->", 2)) {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, m[i].data + 2);
			dl = 0;
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_size(e, (la_int64_t)dl);
		}
		archive_write_header(a, e);
		if (dl)
			archive_write_data(a, m[i].data, dl);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	if (len)
		*len = used;
	return buf;
}

/* ------------------------------------------------------------ JSON parsing */

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define MT_M "application/vnd.oci.image.manifest.v1+json"
#define MT_L "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_C "application/vnd.oci.image.config.v1+json"

static int index_ok(const char *j)
{
	struct oci_descriptor d;
	return oci_parse_index(j, strlen(j), &d) == 0;
}

static int manifest_ok(const char *j)
{
	struct oci_descriptor c, l[OCI_MAX_LAYERS];
	int n = 0;
	return oci_parse_manifest(j, strlen(j), &c, l, &n) == 0;
}

static void test_index(void)
{
	struct oci_descriptor d;
	const char *good = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_M
			   "\",\"digest\":\"" D1 "\",\"size\":12}]}";
	CHECK(oci_parse_index(good, strlen(good), &d) == 0 && !strcmp(d.digest, D1) && d.size == 12);
	/* two platforms: the one for this machine */
	const char *multi = "{\"schemaVersion\":2,\"manifests\":["
			    "{\"mediaType\":\"" MT_M "\",\"digest\":\"" D1 "\",\"size\":1,"
			    "\"platform\":{\"os\":\"linux\",\"architecture\":\"s390x\"}},"
			    "{\"mediaType\":\"" MT_M "\",\"digest\":\"" D2 "\",\"size\":2,"
			    "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
			    "{\"mediaType\":\"" MT_M "\",\"digest\":\"" D1 "\",\"size\":3,"
			    "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}]}";
	CHECK(oci_parse_index(multi, strlen(multi), &d) == 0 && !strcmp(d.digest, D2));
	static const char *const bad[] = {
		"",
		"[]",
		"{\"schemaVersion\":\"2\",\"manifests\":[]}",
		"{\"schemaVersion\":1,\"manifests\":[]}",
		"{\"schemaVersion\":2}",
		"{\"schemaVersion\":2,\"manifests\":{}}",
		"{\"schemaVersion\":2,\"manifests\":[]}",
		"{\"schemaVersion\":2,\"manifests\":[7]}",
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_M "\",\"digest\":5,\"size\":1}]}",
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_M "\",\"digest\":\"" D1 "\",\"size\":-1}]}",
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_M "\",\"digest\":\"" D1 "\",\"size\":\"1\"}]}",
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_M "\",\"digest\":\"" D1 "\",\"size\":1.5}]}",
		"{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"" D1 "\",\"size\":1}]}",
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"text/plain\",\"digest\":\"" D1 "\",\"size\":1}]}",
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
		"\"digest\":\"" D1 "\",\"size\":1}]}",
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_M "\",\"digest\":\"sha512:11\",\"size\":1}]}",
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_M "\",\"digest\":\"sha256:"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"size\":1}]}",
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_M "\\u0000x\",\"digest\":\"" D1 "\",\"size\":1}]}",
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_M "\",\"digest\":\"" D1 "\",\"size\":1}]} x",
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_M "\",\"digest\":\"" D1 "\",\"size\":1}",
		/* two images for this platform */
		"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MT_M "\",\"digest\":\"" D1 "\",\"size\":1},"
		"{\"mediaType\":\"" MT_M "\",\"digest\":\"" D2 "\",\"size\":1}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ok = index_ok(bad[i]);
		CHECK(!ok);
		if (ok)
			fprintf(stderr, "  accepted hostile index #%zu: %s\n", i, bad[i]);
	}
	/* too many entries, too deep */
	char *big = malloc(1 << 20), *p = big;
	p += sprintf(p, "{\"schemaVersion\":2,\"manifests\":[");
	for (int i = 0; i < OCI_MAX_INDEX_ENTRIES + 1; i++)
		p += sprintf(p, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":1,\"platform\":"
			     "{\"os\":\"windows\"}}", i ? "," : "", MT_M, D1);
	strcpy(p, "]}");
	CHECK(!index_ok(big));
	p = big;
	for (int i = 0; i < 100000; i++)
		*p++ = '[';
	*p = 0;
	CHECK(!index_ok(big));
	free(big);
	printf("ok - index.json parsing and hostile indexes\n");
}

static void test_manifest(void)
{
	struct oci_descriptor c, l[OCI_MAX_LAYERS];
	int n = 0;
	const char *good = "{\"schemaVersion\":2,\"mediaType\":\"" MT_M "\",\"config\":{\"mediaType\":\"" MT_C
			   "\",\"digest\":\"" D1 "\",\"size\":3},\"layers\":[{\"mediaType\":\"" MT_L
			   "\",\"digest\":\"" D2 "\",\"size\":4}]}";
	CHECK(oci_parse_manifest(good, strlen(good), &c, l, &n) == 0 && n == 1 && !strcmp(c.digest, D1) &&
	      !strcmp(l[0].digest, D2) && l[0].size == 4);
	static const char *const bad[] = {
		"{\"schemaVersion\":2,\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_C "\",\"digest\":\"" D1 "\",\"size\":3}}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_C "\",\"digest\":\"" D1 "\",\"size\":3},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"text/x\",\"digest\":\"" D1 "\",\"size\":3},"
		"\"layers\":[{\"mediaType\":\"" MT_L "\",\"digest\":\"" D2 "\",\"size\":4}]}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_C "\",\"digest\":\"" D1 "\",\"size\":3},"
		"\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip\","
		"\"digest\":\"" D2 "\",\"size\":4}]}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"" MT_C "\",\"digest\":\"" D1 "\",\"size\":3},"
		"\"layers\":[\"" D2 "\"]}",
		"{\"schemaVersion\":2,\"config\":[],\"layers\":[{\"mediaType\":\"" MT_L "\",\"digest\":\"" D2
		"\",\"size\":4}]}",
		"{\"schemaVersion\":2,\"mediaType\":\"" MT_C "\",\"config\":{\"mediaType\":\"" MT_C
		"\",\"digest\":\"" D1 "\",\"size\":3},\"layers\":[{\"mediaType\":\"" MT_L "\",\"digest\":\"" D2
		"\",\"size\":4}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ok = manifest_ok(bad[i]);
		CHECK(!ok);
		if (ok)
			fprintf(stderr, "  accepted hostile manifest #%zu\n", i);
	}
	/* one layer more than taken */
	char *big = malloc(1 << 20), *p = big;
	p += sprintf(p, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":3},"
		     "\"layers\":[", MT_C, D1);
	for (int i = 0; i < OCI_MAX_LAYERS + 1; i++)
		p += sprintf(p, "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":4}", i ? "," : "", MT_L, D2);
	strcpy(p, "]}");
	CHECK(!manifest_ok(big));
	free(big);

	/* docker's manifest.json */
	char *cfg, *layers[OCI_MAX_LAYERS];
	const char *dm = "[{\"Config\":\"abc.json\",\"RepoTags\":[\"x\"],\"Layers\":[\"a/layer.tar\",\"b/layer.tar\"]}]";
	CHECK(oci_parse_docker_manifest(dm, strlen(dm), &cfg, layers, &n) == 0 && n == 2 &&
	      !strcmp(cfg, "abc.json") && !strcmp(layers[1], "b/layer.tar"));
	if (n == 2) {
		free(cfg);
		free(layers[0]);
		free(layers[1]);
	}
	static const char *const dbad[] = {
		"{}", "[]", "[{\"Config\":1,\"Layers\":[\"a\"]}]", "[{\"Config\":\"c\",\"Layers\":\"a\"}]",
		"[{\"Config\":\"c\",\"Layers\":[1]}]", "[{\"Layers\":[\"a\"]}]",
		"[{\"Config\":\"c\",\"Layers\":[\"a\"]},{\"Config\":\"c\",\"Layers\":[\"a\"]}]",
	};
	for (size_t i = 0; i < sizeof(dbad) / sizeof(dbad[0]); i++)
		CHECK(oci_parse_docker_manifest(dbad[i], strlen(dbad[i]), &cfg, layers, &n) == -1);

	/* the config's diff_ids */
	char ids[4][OCI_DIGEST_LEN + 1];
	const char *cj = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}}";
	CHECK(oci_parse_diff_ids(cj, strlen(cj), ids, 4, &n) == 0 && n == 2 && !strcmp(ids[1], D2));
	static const char *const cbad[] = {
		"{}", "{\"rootfs\":{\"type\":\"layers\"}}", "{\"rootfs\":{\"type\":\"x\",\"diff_ids\":[\"" D1 "\"]}}",
		"{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[1]}}",
		"{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:12\"]}}",
		"{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D1 "\",\"" D1 "\",\"" D1 "\",\"" D1 "\"]}}",
	};
	for (size_t i = 0; i < sizeof(cbad) / sizeof(cbad[0]); i++)
		CHECK(oci_parse_diff_ids(cbad[i], strlen(cbad[i]), ids, 4, &n) == -1);

	/* ChainIDs per the image spec */
	struct oci_layer ls[2];
	char want[OCI_DIGEST_LEN + 1];
	memcpy(ls[0].diff_id, D1, sizeof(D1));
	memcpy(ls[1].diff_id, D2, sizeof(D2));
	oci_chain_ids(ls, 2);
	oci_sha256(D1 " " D2, strlen(D1 " " D2), want);
	CHECK(!strcmp(ls[0].chain_id, D1) && !strcmp(ls[1].chain_id, want));
	printf("ok - manifest, manifest.json, diff_ids, ChainID\n");
}

/* ------------------------------------------------------------ image config */

static void test_config(void)
{
	struct kv rec;
	struct image_config ic;
	kv_init(&rec);
	const char *cj = "{\"config\":{\"Env\":[\"A=1\",\"PATH=/x\"],\"Entrypoint\":[\"/bin/sh\",\"-c\"],"
			 "\"Cmd\":[\"echo \\\"hi\\\"\\nthere\"],\"WorkingDir\":\"/app\",\"User\":\"nobody:nogroup\"},"
			 "\"rootfs\":{}}";
	CHECK(image_config_from_json(cj, strlen(cj), &rec) == 0);
	CHECK(image_config_load(&rec, &ic) == 0);
	CHECK(ic.env && !strcmp(ic.env[1], "PATH=/x") && !ic.env[2]);
	CHECK(ic.cmd && !strcmp(ic.cmd[0], "echo \"hi\"\nthere"));
	CHECK(ic.workdir && !strcmp(ic.workdir, "/app") && ic.user && !strcmp(ic.user, "nobody:nogroup"));
	char **argv = image_config_argv(&ic, NULL, "t");
	CHECK(argv && !strcmp(argv[0], "/bin/sh") && !strcmp(argv[2], ic.cmd[0]) && !argv[3]);
	free(argv);
	char *user[] = { "ls", "-l", NULL };
	argv = image_config_argv(&ic, user, "t");
	CHECK(argv && !strcmp(argv[1], "-c") && !strcmp(argv[2], "ls") && !strcmp(argv[3], "-l") && !argv[4]);
	free(argv);
	image_config_free(&ic);
	/* the record is state: a value changed by hand is checked again */
	kv_set(&rec, "config.cmd", "[1]");
	CHECK(image_config_load(&rec, &ic) == -1);
	kv_set(&rec, "config.cmd", "\"sh\"");
	CHECK(image_config_load(&rec, &ic) == -1);
	kv_set(&rec, "config.cmd", "[\"sh\"]");
	kv_set(&rec, "config.workdir", "app");
	CHECK(image_config_load(&rec, &ic) == -1);
	kv_free(&rec);

	/* no config at all: nothing to run without a command */
	kv_init(&rec);
	CHECK(image_config_from_json("{\"rootfs\":{}}", 13, &rec) == 0 && rec.n == 0);
	CHECK(image_config_load(&rec, &ic) == 0 && !image_config_argv(&ic, NULL, "t"));
	image_config_free(&ic);
	kv_free(&rec);

	static const char *const bad[] = {
		"{\"config\":[]}", "{\"config\":{\"Env\":\"A=1\"}}", "{\"config\":{\"Env\":[1]}}",
		"{\"config\":{\"Env\":[\"NOEQUALS\"]}}", "{\"config\":{\"Env\":[\"=x\"]}}",
		"{\"config\":{\"Cmd\":[\"a\\u0000b\"]}}", "{\"config\":{\"Cmd\":{}}}",
		"{\"config\":{\"WorkingDir\":\"rel\"}}", "{\"config\":{\"WorkingDir\":5}}",
		"{\"config\":{\"User\":\"a/b\"}}", "{\"config\":{\"User\":\"a:b:c\"}}",
		"{\"config\":{\"User\":\"a b\"}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kv_init(&rec);
		int r = image_config_from_json(bad[i], strlen(bad[i]), &rec);
		CHECK(r == -1);
		if (r != -1)
			fprintf(stderr, "  accepted hostile config #%zu: %s\n", i, bad[i]);
		kv_free(&rec);
	}
	/* a huge Cmd: bounded */
	size_t big = IMAGE_CONFIG_MAX_ITEMS + 1;
	char *j = malloc(big * 4 + 64), *p = j;
	p += sprintf(p, "{\"config\":{\"Cmd\":[");
	for (size_t i = 0; i < big; i++)
		p += sprintf(p, "%s\"x\"", i ? "," : "");
	strcpy(p, "]}}");
	kv_init(&rec);
	CHECK(image_config_from_json(j, strlen(j), &rec) == -1);
	kv_free(&rec);
	free(j);

	/* users */
	const char *pw = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65533:n:/:/bin/false\nbroken:x:abc:1\n";
	const char *gr = "root:x:0:\nnogroup:x:65533:\nstaff:x:50:\n";
	uid_t u;
	gid_t g;
	CHECK(image_config_user("nobody", pw, gr, &u, &g) == 0 && u == 65534 && g == 65533);
	CHECK(image_config_user("nobody:staff", pw, gr, &u, &g) == 0 && u == 65534 && g == 50);
	CHECK(image_config_user("1000", pw, gr, &u, &g) == 0 && u == 1000 && g == 0);
	CHECK(image_config_user("65534", pw, gr, &u, &g) == 0 && u == 65534 && g == 65533);
	CHECK(image_config_user("1000:7", NULL, NULL, &u, &g) == 0 && u == 1000 && g == 7);
	CHECK(image_config_user("ghost", pw, gr, &u, &g) == -1);
	CHECK(image_config_user("broken", pw, gr, &u, &g) == -1);
	CHECK(image_config_user("nobody", NULL, NULL, &u, &g) == -1);
	CHECK(image_config_user("0:ghosts", pw, gr, &u, &g) == -1);
	CHECK(image_config_user("4294967295", pw, gr, &u, &g) == -1);
	printf("ok - image config into the record and back, command, users\n");
}

/* ------------------------------------------------------------ digests */

struct layout {
	char *layer, *config, *manifest, *index;
	size_t layer_len;
	char ld[OCI_DIGEST_LEN + 1], cd[OCI_DIGEST_LEN + 1], md[OCI_DIGEST_LEN + 1];
};

/*
 * A one-layer OCI layout at path. tamper: 1 changes the layer after the
 * manifest was written, 2 the config, 3 the manifest, 4 gives the config a
 * DiffID that is not the layer's.
 */
static void write_layout(const char *path, int tamper)
{
	struct member lm[] = { { "etc", NULL, 0 }, { "etc/hello", "hello\n", 0 } };
	struct layout L;
	char diff[OCI_DIGEST_LEN + 1], blobs[3][256];
	L.layer = make_tar(lm, 2, &L.layer_len, NULL);
	oci_sha256(L.layer, L.layer_len, L.ld);
	oci_sha256(L.layer, L.layer_len, diff);
	if (tamper == 4)
		diff[10] = diff[10] == '0' ? '1' : '0'; /* still a valid digest, another content */
	L.config = malloc(4096);
	L.manifest = malloc(4096);
	L.index = malloc(4096);
	sprintf(L.config, "{\"config\":{\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", diff);
	oci_sha256(L.config, strlen(L.config), L.cd);
	sprintf(L.manifest, "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
		"\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}]}",
		MT_C, L.cd, strlen(L.config), L.ld, L.layer_len);
	oci_sha256(L.manifest, strlen(L.manifest), L.md);
	sprintf(L.index, "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
		MT_M, L.md, strlen(L.manifest));
	if (tamper == 1)
		L.layer[600] ^= 1; /* inside the file data */
	if (tamper == 2)
		L.config[2] = 'C';
	if (tamper == 3)
		L.manifest[2] = 'S';
	snprintf(blobs[0], sizeof(blobs[0]), "blobs/sha256/%s", L.ld + 7);
	snprintf(blobs[1], sizeof(blobs[1]), "blobs/sha256/%s", L.cd + 7);
	snprintf(blobs[2], sizeof(blobs[2]), "blobs/sha256/%s", L.md + 7);
	struct member outer[] = {
		{ "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 0 },
		{ "index.json", L.index, 0 },
		{ blobs[0], L.layer, L.layer_len },
		{ blobs[1], L.config, 0 },
		{ blobs[2], L.manifest, 0 },
	};
	make_tar(outer, 5, NULL, path);
	free(L.layer);
	free(L.config);
	free(L.manifest);
	free(L.index);
}

static int resolves(const char *path, struct oci_image *img)
{
	struct oci_archive ar;
	enum image_format fmt;
	if (oci_archive_format(path, &fmt) || fmt != IMAGE_OCI || oci_archive_spool(&ar, path, tmp))
		return -1;
	int r = oci_image_resolve(&ar, fmt, img);
	if (!r) {
		CHECK(img->nr_layers == 1 && !strcmp(img->layers[0].chain_id, img->layers[0].diff_id));
		oci_image_free(img);
	}
	oci_archive_free(&ar);
	return r;
}

static void test_digests(void)
{
	char path[64];
	struct oci_image img;
	snprintf(path, sizeof(path), "%s/layout.tar", tmp);
	write_layout(path, 0);
	CHECK(resolves(path, &img) == 0);
	for (int t = 1; t <= 4; t++) {
		write_layout(path, t);
		int r = resolves(path, &img);
		CHECK(r == -1);
		if (r != -1)
			fprintf(stderr, "  tampered layout %d accepted\n", t);
	}
	/* blob checks on their own */
	struct oci_archive ar;
	write_layout(path, 0);
	CHECK(oci_archive_spool(&ar, path, tmp) == 0);
	const struct oci_blob *b = oci_archive_find(&ar, "./index.json");
	CHECK(b != NULL);
	if (b) {
		CHECK(oci_blob_verify(b, b->digest, (int64_t)b->size, "index") == 0);
		CHECK(oci_blob_verify(b, D1, -1, "index") == -1);
		CHECK(oci_blob_verify(b, b->digest, (int64_t)b->size + 1, "index") == -1);
		CHECK(oci_blob_verify(b, "md5:abc", -1, "index") == -1);
	}
	CHECK(oci_archive_find(&ar, "../index.json") == NULL);
	oci_archive_free(&ar);
	/* a name given twice is refused: which one would the manifest mean? */
	struct member dup[] = { { "index.json", "{}", 0 }, { "index.json", "[]", 0 } };
	make_tar(dup, 2, NULL, path);
	CHECK(oci_archive_spool(&ar, path, tmp) == -1);
	/* older docker save links a layer shared by two images; links never leave the archive */
	struct member links[] = {
		{ "a/layer.tar", "AAA", 0 }, { "b/layer.tar", "->../a/layer.tar", 0 },
		{ "c/layer.tar", "=>a/layer.tar", 0 }, { "d/layer.tar", "->/a/layer.tar", 0 },
		{ "e/layer.tar", "->../../a/layer.tar", 0 }, { "loop1", "->loop2", 0 },
		{ "loop2", "->loop1", 0 }, { "f", "=>../a/layer.tar", 0 },
	};
	make_tar(links, 8, NULL, path);
	CHECK(oci_archive_spool(&ar, path, tmp) == 0);
	b = oci_archive_find(&ar, "a/layer.tar");
	CHECK(b && b->size == 3);
	CHECK(b && oci_archive_find(&ar, "b/layer.tar") == b && oci_archive_find(&ar, "c/layer.tar") == b &&
	      oci_archive_find(&ar, "d/layer.tar") == b);
	CHECK(!oci_archive_find(&ar, "e/layer.tar") && !oci_archive_find(&ar, "loop1") &&
	      !oci_archive_find(&ar, "f"));
	oci_archive_free(&ar);
	/* a flat rootfs stays flat */
	struct member flat[] = { { "bin", NULL, 0 }, { "etc/index.json", "{}", 0 } };
	enum image_format fmt = IMAGE_OCI;
	make_tar(flat, 2, NULL, path);
	CHECK(oci_archive_format(path, &fmt) == 0 && fmt == IMAGE_FLAT);
	printf("ok - digests: layout resolves, tampered layer/config/manifest/DiffID refused\n");
}

/* ------------------------------------------------------------ whiteouts */

static int layer_apply(int rootfd, const struct member *m, int n)
{
	size_t len;
	char *buf = make_tar(m, n, &len, NULL);
	int r = 0;
	for (enum oci_pass pass = OCI_PASS_WHITEOUTS; !r && pass <= OCI_PASS_CONTENT; pass++) {
		struct archive *a = archive_read_new();
		archive_read_support_format_tar(a);
		archive_read_open_memory(a, buf, len);
		struct extract_opts o = { .filter = oci_whiteout_filter, .arg = &pass };
		r = extract_archive(rootfd, a, &o, NULL);
		archive_read_free(a);
	}
	free(buf);
	return r;
}

static int exists(const char *root, const char *rel)
{
	char p[256];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return lstat(p, &st) == 0;
}

static void test_whiteouts(void)
{
	char root[64], host[64], link[64];
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(host, sizeof(host), "%s/host", tmp);
	mkdir(root, 0755);
	mkdir(host, 0755);
	mkdir(strcat(strcpy(link, host), "/sub"), 0755);
	FILE *f = fopen(strcat(strcpy(link, host), "/sentinel"), "w");
	fputs("host\n", f);
	fclose(f);
	int rootfd = open(root, O_RDONLY | O_DIRECTORY);
	char target[80];
	snprintf(target, sizeof(target), "->%s", host);
	struct member lower[] = {
		{ "etc", NULL, 0 }, { "etc/a", "a", 0 }, { "etc/b", "b", 0 }, { "data", NULL, 0 },
		{ "data/x", "x", 0 }, { "data/sub", NULL, 0 }, { "data/sub/y", "y", 0 },
		{ "evil", target, 0 }, { "rootlink", "->/", 0 },
	};
	CHECK(layer_apply(rootfd, lower, 9) == 0);
	struct member upper[] = {
		{ "etc/.wh.a", "", 0 },
		{ "data/z", "new", 0 },	/* before the opaque marker: it stays */
		{ "data/.wh..wh..opq", "", 0 },
		{ "evil/.wh.sentinel", "", 0 },
		{ "evil/.wh..wh..opq", "", 0 },
		{ "rootlink/tmp/.wh.sentinel", "", 0 },
		{ "etc/.wh..wh.plnk", "", 0 },
	};
	CHECK(layer_apply(rootfd, upper, 7) == 0);
	CHECK(!exists(root, "etc/a") && exists(root, "etc/b"));
	CHECK(exists(root, "data") && exists(root, "data/z") && !exists(root, "data/x") &&
	      !exists(root, "data/sub"));
	CHECK(!exists(root, "etc/.wh.a") && !exists(root, "data/.wh..wh..opq") &&
	      !exists(root, "etc/.wh..wh.plnk"));
	CHECK(exists(host, "sentinel") && exists(host, "sub"));
	struct member dotdot[] = { { "etc/.wh...", "", 0 } };
	CHECK(layer_apply(rootfd, dotdot, 1) == -1);
	struct member dot[] = { { ".wh..", "", 0 } };
	CHECK(layer_apply(rootfd, dot, 1) == -1);
	struct member up[] = { { "../.wh.etc", "", 0 } };
	CHECK(layer_apply(rootfd, up, 1) == -1);
	CHECK(exists(root, "etc") && exists(root, "etc/b") && exists(host, "sentinel"));
	/* a whiteout of a whole directory */
	struct member whdir[] = { { ".wh.etc", "", 0 } };
	CHECK(layer_apply(rootfd, whdir, 1) == 0 && !exists(root, "etc"));
	close(rootfd);
	printf("ok - whiteouts: .wh.NAME, opaque dirs, through symlinks out of the root, '..' refused\n");
}

int main(void)
{
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	test_index();
	test_manifest();
	test_config();
	test_digests();
	test_whiteouts();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd)) {
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
