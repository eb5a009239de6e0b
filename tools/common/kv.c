// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool: key=value records, the format of every file in the state store.
 *
 * A record is lines "key=value\n" closed by the line "#end\n". Keys are
 * names the code chooses ([A-Za-z0-9_.:-]). Values are any byte string
 * without NUL: paths and names come from users and images, so a value is
 * escaped on save (backslash as "\\", newline as "\n", any other control
 * character as "\xHH") and a record always reads back as the keys and
 * values it was saved with. Loading is strict: a file we did not write as
 * a whole (a duplicate key, a line without '=', a bad escape, a raw control
 * character, no end line, anything after it) is an error naming the file,
 * never a different record read quietly.
 */
#include "ctpool.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KV_END_LINE "#end"
#define KV_KEY_MAX 128

void kv_init(struct kv *kv)
{
	memset(kv, 0, sizeof(*kv));
}

void kv_free(struct kv *kv)
{
	for (int i = 0; i < kv->n; i++) {
		free(kv->k[i]);
		free(kv->v[i]);
	}
	free(kv->k);
	free(kv->v);
	kv_init(kv);
}

int kv_valid_key(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > KV_KEY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = k[i];
		if (!(isalnum(c) || c == '_' || c == '.' || c == ':' || c == '-'))
			return 0;
	}
	return 1;
}

static int kv_find(const struct kv *kv, const char *k)
{
	for (int i = 0; i < kv->n; i++)
		if (!strcmp(kv->k[i], k))
			return i;
	return -1;
}

const char *kv_get(const struct kv *kv, const char *k)
{
	int i = kv_find(kv, k);
	return i < 0 ? NULL : kv->v[i];
}

uint64_t kv_get_u64(const struct kv *kv, const char *k, uint64_t def)
{
	uint64_t v;
	const char *s = kv_get(kv, k);
	if (!s || parse_u64(s, &v))
		return def;
	return v;
}

/* A set that cannot be done marks the record: kv_save refuses it, so no key is lost quietly. */
static int kv_fail(struct kv *kv, int e)
{
	kv->failed = e;
	errno = e;
	return -1;
}

static int kv_grow(struct kv *kv)
{
	if (kv->n < kv->cap)
		return 0;
	int cap = kv->cap ? kv->cap * 2 : 16;
	char **k = realloc(kv->k, cap * sizeof(*k));
	if (!k)
		return -1;
	kv->k = k;
	char **v = realloc(kv->v, cap * sizeof(*v));
	if (!v)
		return -1;
	kv->v = v;
	kv->cap = cap;
	return 0;
}

int kv_set(struct kv *kv, const char *k, const char *v)
{
	if (!kv_valid_key(k)) {
		err("invalid record key '%s'", k);
		return kv_fail(kv, EINVAL);
	}
	char *dup = strdup(v);
	if (!dup)
		return kv_fail(kv, ENOMEM);
	int i = kv_find(kv, k);
	if (i >= 0) {
		free(kv->v[i]);
		kv->v[i] = dup;
		return 0;
	}
	char *kdup = strdup(k);
	if (!kdup || kv_grow(kv)) {
		free(kdup);
		free(dup);
		return kv_fail(kv, ENOMEM);
	}
	kv->k[kv->n] = kdup;
	kv->v[kv->n] = dup;
	kv->n++;
	return 0;
}

int kv_setu(struct kv *kv, const char *k, uint64_t v)
{
	char b[32];
	snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	return kv_set(kv, k, b);
}

void kv_del(struct kv *kv, const char *k)
{
	int i = kv_find(kv, k);
	if (i < 0)
		return;
	free(kv->k[i]);
	free(kv->v[i]);
	memmove(&kv->k[i], &kv->k[i + 1], (kv->n - i - 1) * sizeof(char *));
	memmove(&kv->v[i], &kv->v[i + 1], (kv->n - i - 1) * sizeof(char *));
	kv->n--;
}

/* ---- the file format ---- */

static int is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Bytes needed for s escaped (no NUL), and the escaping into out if out. */
static size_t kv_escape(const char *s, char *out)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char e[5];
		size_t l;
		if (*p == '\\')
			l = (size_t)snprintf(e, sizeof(e), "\\\\");
		else if (*p == '\n')
			l = (size_t)snprintf(e, sizeof(e), "\\n");
		else if (is_ctl(*p))
			l = (size_t)snprintf(e, sizeof(e), "\\x%02x", *p);
		else {
			e[0] = (char)*p;
			l = 1;
		}
		if (out)
			memcpy(out + n, e, l);
		n += l;
	}
	return n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescape s in place; NULL if fine, else what is wrong. */
static const char *kv_unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (is_ctl((unsigned char)*p))
			return "an unescaped control character";
		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		p++;
		if (*p == '\\')
			*o++ = '\\';
		else if (*p == 'n')
			*o++ = '\n';
		else if (*p == 'x' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0 &&
			 hexval(p[1]) * 16 + hexval(p[2]) != 0) {
			*o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		} else
			return "a bad escape sequence";
	}
	*o = 0;
	return NULL;
}

/* One "key=value" line (NUL terminated) into kv; NULL if fine, else what is wrong. */
static const char *kv_parse_line(struct kv *kv, char *line)
{
	char *eq = strchr(line, '=');
	if (!eq)
		return "a line without '='";
	*eq = 0;
	if (!kv_valid_key(line))
		return "an invalid key";
	if (kv_find(kv, line) >= 0)
		return "a duplicate key";
	const char *why = kv_unescape(eq + 1);
	if (why)
		return why;
	if (kv_set(kv, line, eq + 1))
		return strerror(errno);
	return NULL;
}

/* Parse a whole record of len bytes in buf (modified); 0, or -1 with the error reported. */
static int kv_parse(struct kv *kv, char *buf, size_t len, const char *path)
{
	const char *why = NULL;
	int lineno = 0, ended = 0;
	if (memchr(buf, 0, len))
		why = "a NUL byte";
	else if (len == 0 || buf[len - 1] != '\n')
		why = "no newline at the end (truncated?)";
	for (char *line = buf, *nl; !why && line < buf + len; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = 0;
		lineno++;
		if (ended)
			why = "data after the end line";
		else if (!strcmp(line, KV_END_LINE))
			ended = 1;
		else
			why = kv_parse_line(kv, line);
	}
	if (!why && !ended)
		why = "no end line '" KV_END_LINE "' (truncated?)";
	if (!why)
		return 0;
	if (lineno)
		err("state record %s is corrupt: line %d: %s (not written by ctpool: repair or remove it)",
		    path, lineno, why);
	else
		err("state record %s is corrupt: %s (not written by ctpool: repair or remove it)", path, why);
	kv_free(kv);
	errno = EBADMSG;
	return -1;
}

int kv_load(struct kv *kv, const char *path)
{
	kv_init(kv);
	size_t len;
	char *buf = read_file(path, &len);
	if (!buf) {
		if (errno != ENOENT)
			err("cannot read state record %s: %s", path, strerror(errno));
		return -1;
	}
	int r = kv_parse(kv, buf, len, path);
	free(buf);
	return r;
}

int kv_save(const struct kv *kv, const char *path)
{
	if (kv->failed) {
		errno = kv->failed; /* a key could not be set: writing would lose it */
		return -1;
	}
	size_t cap = sizeof(KV_END_LINE "\n");
	for (int i = 0; i < kv->n; i++)
		cap += strlen(kv->k[i]) + kv_escape(kv->v[i], NULL) + 2;
	char *buf = malloc(cap), *p = buf;
	if (!buf)
		return -1;
	for (int i = 0; i < kv->n; i++) {
		p += sprintf(p, "%s=", kv->k[i]);
		p += kv_escape(kv->v[i], p);
		*p++ = '\n';
	}
	p += sprintf(p, KV_END_LINE "\n");
	int r = write_file_atomic(path, buf, p - buf);
	free(buf);
	return r;
}
