/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * OCI image layouts and docker-save archives as chains of thin snapshots.
 *
 * oci-archive.c  reads the outer archive once with libarchive, copying every
 *                regular file into an unlinked temp file (O_TMPFILE) while
 *                hashing it with sha256: blobs are then looked up by name or
 *                digest and verified before anything trusts them;
 * oci-manifest.c parses index.json / manifest.json / the manifest and the
 *                config's rootfs with json-c into the list of layers, each
 *                with its verified blob, DiffID and ChainID;
 * oci-whiteout.c applies a layer's whiteouts (.wh.NAME, .wh..wh..opq);
 * oci-layers.c   turns the layers into thin volumes (layer k a snapshot of
 *                layer k-1, keyed by ChainID so a shared chain is stored
 *                once), the image a snapshot of the top layer, and releases
 *                layers no image uses any more.
 */
#ifndef CTPOOL_OCI_IMAGE_H
#define CTPOOL_OCI_IMAGE_H

#include <stddef.h>
#include <stdint.h>

struct pool;
struct archive_entry;
struct json_object;

#define OCI_DIGEST_LEN 71	   /* "sha256:" + 64 hex digits */
#define OCI_JSON_MAX (4u << 20)	   /* largest index, manifest or config read into memory */
#define OCI_MAX_LAYERS 128	   /* docker's own limit is 127 */
#define OCI_MAX_FILES 512	   /* regular files in an image archive */
#define OCI_MAX_INDEX_ENTRIES 64   /* manifests listed in index.json */

enum image_format {
	IMAGE_FLAT = 0, /* a rootfs tarball */
	IMAGE_OCI,	/* an OCI image layout (oci-layout, index.json, blobs/sha256/) */
	IMAGE_DOCKER,	/* a docker-save archive (manifest.json) */
};

/* ---- oci-archive.c ---- */

/* One regular file of the outer archive, copied to an unlinked temp file. */
struct oci_blob {
	char *name;  /* normalised: no leading "./" or "/", never ".." */
	int fd;	     /* O_TMPFILE, read with pread or after lseek */
	uint64_t size;
	char digest[OCI_DIGEST_LEN + 1]; /* sha256 of the content */
};

struct oci_link {
	char *name, *target; /* a symlink entry (older docker save links shared layers) */
	int hard;	     /* a tar hard link: target is an archive name, not relative */
};

struct oci_archive {
	struct oci_blob *blobs;
	size_t nr_blobs;
	struct oci_link *links;
	size_t nr_links;
};

/* Which format the archive at path holds, from its entry names. 0 or -1 (reported). */
int oci_archive_format(const char *path, enum image_format *fmt);

/*
 * Copy every regular file of the archive into temp files in tmpdir (same
 * filesystem as the state: nothing is left behind, whatever happens).
 * Refuses duplicate names, more than OCI_MAX_FILES files. 0 or -1 (reported).
 */
int oci_archive_spool(struct oci_archive *ar, const char *path, const char *tmpdir);
void oci_archive_free(struct oci_archive *ar);

/* The file named name (normalised, symlinks in the archive followed), or NULL. */
const struct oci_blob *oci_archive_find(const struct oci_archive *ar, const char *name);

/* 0 if s is "sha256:" and 64 lowercase hex digits, else -1 (no message). */
int oci_valid_digest(const char *s);

/*
 * Check blob b against digest (and size, unless negative) before trusting
 * it; what names it in the error. 0, or -1 after a clear error.
 */
int oci_blob_verify(const struct oci_blob *b, const char *digest, int64_t size, const char *what);

/* Read a JSON blob of at most OCI_JSON_MAX bytes into memory (malloc'd, 0-terminated). */
char *oci_blob_read(const struct oci_blob *b, const char *what, size_t *len);

/* sha256 of the blob's decompressed stream (a layer's DiffID) into out. 0 or -1 (reported). */
int oci_blob_diff_id(const struct oci_blob *b, char out[OCI_DIGEST_LEN + 1]);

/* sha256 of a buffer as "sha256:<hex>". */
void oci_sha256(const void *data, size_t len, char out[OCI_DIGEST_LEN + 1]);

/* ---- oci-manifest.c ---- */

struct oci_descriptor {
	char media_type[128];
	char digest[OCI_DIGEST_LEN + 1];
	int64_t size;
};

struct oci_layer {
	const struct oci_blob *blob;
	char diff_id[OCI_DIGEST_LEN + 1];  /* sha256 of the uncompressed tar (config rootfs) */
	char chain_id[OCI_DIGEST_LEN + 1]; /* the layer and everything below it */
};

struct oci_image {
	enum image_format fmt;
	char manifest_digest[OCI_DIGEST_LEN + 1]; /* OCI only */
	char config_digest[OCI_DIGEST_LEN + 1];
	char *config;	 /* the config blob, verified, 0-terminated */
	size_t config_len;
	int nr_layers;
	struct oci_layer layers[OCI_MAX_LAYERS];
};

/*
 * The JSON parsers, each on a buffer of len bytes; hostile input (wrong
 * types, missing fields, unknown media types, oversized arrays) gives a
 * clear error and -1.
 */
/* json-c on a bounded buffer, depth-limited, nothing after the document; NULL (reported). */
struct json_object *oci_json_parse(const char *json, size_t len, const char *what);
/* index.json: the one image manifest for this machine's platform. */
int oci_parse_index(const char *json, size_t len, struct oci_descriptor *manifest);
/* an image manifest: its config and layer descriptors. */
int oci_parse_manifest(const char *json, size_t len, struct oci_descriptor *config,
		       struct oci_descriptor *layers, int *nr_layers);
/* docker's manifest.json: the config's and the layers' paths (malloc'd, caller frees). */
int oci_parse_docker_manifest(const char *json, size_t len, char **config, char **layers,
			      int *nr_layers);
/* a config's rootfs.diff_ids. */
int oci_parse_diff_ids(const char *json, size_t len, char diff_ids[][OCI_DIGEST_LEN + 1], int max,
		       int *nr);
/* ChainIDs from DiffIDs (OCI image spec: ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n))). */
void oci_chain_ids(struct oci_layer *layers, int n);

/*
 * Resolve the spooled archive into img: every manifest, config and layer
 * blob verified against its digest (a layer also against its DiffID, over
 * its decompressed content) before it is used. 0 or -1 (reported).
 */
int oci_image_resolve(const struct oci_archive *ar, enum image_format fmt, struct oci_image *img);
void oci_image_free(struct oci_image *img);

/* ---- oci-whiteout.c ---- */

enum oci_pass {
	OCI_PASS_WHITEOUTS, /* apply the layer's whiteouts to what lies below, nothing else */
	OCI_PASS_CONTENT,   /* unpack the layer, whiteout markers left out */
};

/*
 * The extractor's filter (extract_opts.filter) for one pass over a layer,
 * arg a pointer to an enum oci_pass. The two passes keep the OCI rule that
 * a whiteout only hides what lower layers hold, whatever the order of the
 * entries in the layer.
 */
int oci_whiteout_filter(void *arg, int rootfd, const char *path, struct archive_entry *e);

/* ---- oci-layers.c ---- */

/* image import of an OCI or docker archive (takes the state lock). An exit status. */
int oci_import(const char *name, const char *archive, uint64_t size, const char *pool,
	       enum image_format fmt);

/*
 * After image rm: remove layer and the layers below it that no image,
 * container or layer uses any more. 0, or -1 if one could not be removed.
 */
int oci_layers_release(struct pool *p, const char *layer);

#endif
