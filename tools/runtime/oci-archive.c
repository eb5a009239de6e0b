// SPDX-License-Identifier: GPL-2.0-only
/*
 * The outer archive of an OCI image layout or a docker-save archive.
 *
 * libarchive reads it once; every regular file is copied into an unlinked
 * temp file (O_TMPFILE in the state directory: it disappears with the last
 * descriptor, whatever happens to the import) and hashed with sha256 on the
 * way. Nothing in it is trusted before its hash has been compared with the
 * digest that names it (oci_blob_verify): an index or manifest names the
 * manifest, config and layers by digest, a config names the layers'
 * uncompressed content by DiffID.
 */
#include "oci-image.h"
#include "extract.h"
#include "common/ctpool.h"
#include "volume/volume.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ sha256 */

static void hex_digest(const unsigned char *md, char out[OCI_DIGEST_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[OCI_DIGEST_LEN] = 0;
}

static int sha_final(EVP_MD_CTX *ctx, char out[OCI_DIGEST_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(ctx, md, &n) != 1 || n != 32)
		return -1;
	hex_digest(md, out);
	return 0;
}

static EVP_MD_CTX *sha_new(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	if (!ctx)
		err("cannot set up sha256 (libcrypto)");
	return ctx;
}

void oci_sha256(const void *data, size_t len, char out[OCI_DIGEST_LEN + 1])
{
	unsigned char md[32];
	unsigned int n = 0;
	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		memset(md, 0, sizeof(md)); /* cannot match any blob: the import fails on it */
	hex_digest(md, out);
}

int oci_valid_digest(const char *s)
{
	if (strncmp(s, "sha256:", 7) || strlen(s) != OCI_DIGEST_LEN)
		return -1;
	for (const char *c = s + 7; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return -1;
	return 0;
}

/* ------------------------------------------------------------ names */

/*
 * Path in as an archive name in out: no "./", leading or doubled '/'. A ".."
 * component is refused, or with climb takes the name one directory up (never
 * above the archive's top). -1 for those, an empty name or one too long.
 */
static int clean_name(const char *in, bool climb, char *out, size_t len)
{
	size_t n = 0;

	for (const char *p = in; *p;) {
		while (*p == '/')
			p++;
		size_t c = strcspn(p, "/");

		if (c == 2 && !strncmp(p, "..", 2)) {
			if (!climb || !n)
				return -1;
			while (n && out[n - 1] != '/')
				n--;
			if (n)
				n--;
		} else if (c && !(c == 1 && *p == '.')) {
			if (n + 1 + c >= len)
				return -1;
			if (n)
				out[n++] = '/';
			memcpy(out + n, p, c);
			n += c;
		}
		p += c;
	}
	out[n] = 0;
	return n ? 0 : -1;
}

/* An archive name without "./", leading or doubled '/'; -1 if it has "..". */
static int normalise_name(const char *in, char *out, size_t len)
{
	return clean_name(in, false, out, len);
}

/* ------------------------------------------------------------ format */

static struct archive *open_outer(const char *path, int *fd)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (*fd < 0) {
		err("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	struct archive *a = archive_read_new();
	if (!a) {
		err("out of memory");
		close(*fd);
		return NULL;
	}
	extract_support_filters(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open_fd(a, *fd, 64 << 10) != ARCHIVE_OK) {
		err("cannot read %s: %s", path, archive_error_string(a));
		archive_read_free(a);
		close(*fd);
		return NULL;
	}
	return a;
}

/*
 * The next entry with a name, normalised into n (PATH_MAX): one with ".." is
 * never looked up, so it is passed over.
 */
static int next_entry(struct archive *a, struct archive_entry **e, const char *path, char *n)
{
	for (;;) {
		int r = archive_read_next_header(a, e);
		if (r == ARCHIVE_WARN)
			r = ARCHIVE_OK;
		if (r != ARCHIVE_OK && r != ARCHIVE_EOF)
			err("cannot read %s: %s", path, archive_error_string(a));
		const char *name = r == ARCHIVE_OK ? archive_entry_pathname(*e) : NULL;
		if (r != ARCHIVE_OK || (name && !normalise_name(name, n, PATH_MAX)))
			return r;
	}
}

/*
 * An OCI layout has oci-layout and index.json at its top, a docker-save
 * archive manifest.json (newer docker writes both: the OCI index is used).
 * Anything else is a rootfs tarball, as before.
 */
int oci_archive_format(const char *path, enum image_format *fmt)
{
	int fd, r, layout = 0, index = 0, docker = 0;
	struct archive_entry *e;
	struct archive *a = open_outer(path, &fd);
	if (!a)
		return -1;
	char n[PATH_MAX];
	while ((r = next_entry(a, &e, path, n)) == ARCHIVE_OK) {
		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		layout |= !strcmp(n, "oci-layout");
		index |= !strcmp(n, "index.json");
		docker |= !strcmp(n, "manifest.json");
	}
	archive_read_free(a);
	close(fd);
	if (r != ARCHIVE_EOF)
		return -1;
	*fmt = layout && index ? IMAGE_OCI : docker ? IMAGE_DOCKER : IMAGE_FLAT;
	return 0;
}

/* ------------------------------------------------------------ spool */

/*
 * An unlinked temp file in dir: O_TMPFILE, or on a filesystem without it
 * (overlayfs before 6.6) a file created with O_EXCL and unlinked at once.
 */
static int unlinked_tmpfile(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd;
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/.ctpool-blob.XXXXXX", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* Copy the entry's data into a new temp file, hashing it. */
static int spool_entry(struct archive *a, struct oci_blob *b, const char *tmpdir)
{
	b->fd = unlinked_tmpfile(tmpdir);
	if (b->fd < 0) {
		err("cannot make a temp file in %s: %s", tmpdir, strerror(errno));
		return -1;
	}
	EVP_MD_CTX *ctx = sha_new();
	if (!ctx)
		return -1;
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;
	b->size = 0;
	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		/* image tools never write sparse entries; a hole would be hashed byte by byte */
		if ((uint64_t)off != b->size) {
			err("%s: a sparse entry in an image archive: refused", b->name);
			EVP_MD_CTX_free(ctx);
			return -1;
		}
		if (EVP_DigestUpdate(ctx, buf, size) != 1)
			break;
		for (size_t done = 0; done < size;) {
			ssize_t w = pwrite(b->fd, (const char *)buf + done, size - done, (off_t)(b->size + done));
			if (w < 0) {
				err("cannot copy %s to a temp file: %s", b->name, strerror(errno));
				EVP_MD_CTX_free(ctx);
				return -1;
			}
			done += (size_t)w;
		}
		b->size += size;
	}
	if (r != ARCHIVE_EOF) {
		err("cannot read %s from the archive: %s", b->name, archive_error_string(a));
		EVP_MD_CTX_free(ctx);
		return -1;
	}
	r = sha_final(ctx, b->digest);
	EVP_MD_CTX_free(ctx);
	if (r || ftruncate(b->fd, (off_t)b->size)) {
		err("cannot hash %s", b->name);
		return -1;
	}
	return 0;
}

/*
 * arr (n entries of size bytes) reallocated for one more, or NULL (reported,
 * arr unchanged): also when it already has the most an image archive may have.
 */
static void *grow_by_one(void *arr, size_t n, size_t size, const char *what)
{
	if (n >= OCI_MAX_FILES) {
		err("the archive has more than %d %s: not an image archive", OCI_MAX_FILES, what);
		return NULL;
	}
	void *p = realloc(arr, (n + 1) * size);
	if (!p)
		err("out of memory");
	return p;
}

static int add_link(struct oci_archive *ar, const char *name, const char *target, int hard)
{
	struct oci_link *l = grow_by_one(ar->links, ar->nr_links, sizeof(*l), "symlinks");
	if (!l)
		return -1;
	ar->links = l;
	l[ar->nr_links].name = strdup(name);
	l[ar->nr_links].target = strdup(target);
	l[ar->nr_links].hard = hard;
	if (!l[ar->nr_links].name || !l[ar->nr_links].target) {
		err("out of memory");
		free(l[ar->nr_links].name);
		free(l[ar->nr_links].target);
		return -1;
	}
	ar->nr_links++;
	return 0;
}

static int add_blob(struct oci_archive *ar, struct archive *a, const char *name, const char *tmpdir)
{
	for (size_t i = 0; i < ar->nr_blobs; i++)
		if (!strcmp(ar->blobs[i].name, name)) {
			err("the archive holds '%s' twice: refused (which one would be meant?)", name);
			return -1;
		}
	struct oci_blob *b = grow_by_one(ar->blobs, ar->nr_blobs, sizeof(*b), "files");
	if (!b)
		return -1;
	ar->blobs = b;
	b += ar->nr_blobs;
	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->name = strdup(name);
	ar->nr_blobs++; /* counted now, so that oci_archive_free closes its fd */
	return b->name ? spool_entry(a, b, tmpdir) : -1;
}

int oci_archive_spool(struct oci_archive *ar, const char *path, const char *tmpdir)
{
	int fd, r;
	struct archive_entry *e;
	memset(ar, 0, sizeof(*ar));
	struct archive *a = open_outer(path, &fd);
	if (!a)
		return -1;
	char n[PATH_MAX];
	while ((r = next_entry(a, &e, path, n)) == ARCHIVE_OK) {
		if (archive_entry_hardlink(e)) {
			char t[PATH_MAX];
			/* tar's hard link: the same content under another name (a ".." target: left out) */
			if (normalise_name(archive_entry_hardlink(e), t, sizeof(t)))
				continue;
			if (add_link(ar, n, t, 1)) {
				r = ARCHIVE_FATAL;
				break;
			}
			continue;
		}
		if (archive_entry_filetype(e) == AE_IFLNK && archive_entry_symlink(e)) {
			if (add_link(ar, n, archive_entry_symlink(e), 0)) {
				r = ARCHIVE_FATAL;
				break;
			}
		} else if (archive_entry_filetype(e) == AE_IFREG && add_blob(ar, a, n, tmpdir)) {
			r = ARCHIVE_FATAL;
			break;
		}
	}
	archive_read_free(a);
	close(fd);
	if (r == ARCHIVE_EOF)
		return 0;
	oci_archive_free(ar);
	return -1;
}

void oci_archive_free(struct oci_archive *ar)
{
	for (size_t i = 0; i < ar->nr_blobs; i++) {
		free(ar->blobs[i].name);
		if (ar->blobs[i].fd >= 0)
			close(ar->blobs[i].fd);
	}
	for (size_t i = 0; i < ar->nr_links; i++) {
		free(ar->links[i].name);
		free(ar->links[i].target);
	}
	free(ar->blobs);
	free(ar->links);
	memset(ar, 0, sizeof(*ar));
}

/* ------------------------------------------------------------ lookup */

/*
 * A symlink's target taken relative to the link's directory (an absolute one
 * to the archive's top), without climbing above the top.
 */
static int resolve_link(const char *link, const char *target, char *out, size_t len)
{
	char buf[PATH_MAX];
	const char *slash = strrchr(link, '/');
	int dirlen = target[0] == '/' || !slash ? 0 : (int)(slash - link);
	if (snprintf(buf, sizeof(buf), "%.*s/%s", dirlen, link, target) >= (int)sizeof(buf))
		return -1;
	return clean_name(buf, true, out, len);
}

const struct oci_blob *oci_archive_find(const struct oci_archive *ar, const char *name)
{
	char cur[PATH_MAX], next[PATH_MAX];
	if (normalise_name(name, cur, sizeof(cur)))
		return NULL;
	for (int hops = 0; hops < 8; hops++) {
		for (size_t i = 0; i < ar->nr_blobs; i++)
			if (!strcmp(ar->blobs[i].name, cur))
				return &ar->blobs[i];
		size_t i;
		for (i = 0; i < ar->nr_links; i++)
			if (!strcmp(ar->links[i].name, cur))
				break;
		if (i == ar->nr_links)
			return NULL;
		/* tar hard link targets are archive names, symlinks are relative to the link */
		if (ar->links[i].hard)
			snprintf(next, sizeof(next), "%s", ar->links[i].target);
		else if (resolve_link(ar->links[i].name, ar->links[i].target, next, sizeof(next)))
			return NULL;
		memcpy(cur, next, sizeof(cur));
	}
	return NULL;
}

/* ------------------------------------------------------------ verification */

int oci_blob_verify(const struct oci_blob *b, const char *digest, int64_t size, const char *what)
{
	if (oci_valid_digest(digest)) {
		err("%s: unsupported digest '%.80s' (want sha256:<64 hex digits>)", what, digest);
		return -1;
	}
	if (strcmp(b->digest, digest)) {
		err("%s (%s): digest mismatch: the archive's content hashes to %s, not %s: refused", what,
		    b->name, b->digest, digest);
		return -1;
	}
	if (size >= 0 && (uint64_t)size != b->size) {
		err("%s (%s): size mismatch: %llu bytes, the manifest says %lld: refused", what, b->name,
		    (unsigned long long)b->size, (long long)size);
		return -1;
	}
	return 0;
}

char *oci_blob_read(const struct oci_blob *b, const char *what, size_t *len)
{
	if (b->size > OCI_JSON_MAX) {
		err("%s (%s) is %llu bytes, more than the %u a JSON document may have here", what,
		    b->name, (unsigned long long)b->size, OCI_JSON_MAX);
		return NULL;
	}
	char *buf = malloc(b->size + 1);
	if (!buf) {
		err("out of memory");
		return NULL;
	}
	size_t done = 0;
	while (done < b->size) {
		ssize_t r = pread(b->fd, buf + done, b->size - done, (off_t)done);
		if (r <= 0) {
			err("cannot read %s back: %s", b->name, r ? strerror(errno) : "short file");
			free(buf);
			return NULL;
		}
		done += (size_t)r;
	}
	buf[done] = 0;
	*len = done;
	return buf;
}

/*
 * The layer's DiffID: sha256 over its decompressed stream (libarchive's
 * "raw" format, the in-process decompressors only; an uncompressed tar
 * passes through as it is).
 */
int oci_blob_diff_id(const struct oci_blob *b, char out[OCI_DIGEST_LEN + 1])
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	EVP_MD_CTX *ctx = sha_new();
	int r = -1;
	if (!a || !ctx)
		goto out;
	extract_support_filters(a);
	archive_read_support_format_raw(a);
	archive_read_support_format_empty(a);
	if (lseek(b->fd, 0, SEEK_SET) < 0 || archive_read_open_fd(a, b->fd, 64 << 10) != ARCHIVE_OK) {
		err("cannot read layer %s: %s", b->name, archive_error_string(a));
		goto out;
	}
	int h = archive_read_next_header(a, &e);
	if (h == ARCHIVE_OK) {
		const void *buf;
		size_t size;
		la_int64_t off;
		while ((h = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
			EVP_DigestUpdate(ctx, buf, size);
	}
	if (h != ARCHIVE_EOF) {
		err("cannot decompress layer %s: %s", b->name, archive_error_string(a));
		goto out;
	}
	r = sha_final(ctx, out);
out:
	if (a)
		archive_read_free(a);
	EVP_MD_CTX_free(ctx);
	return r;
}
