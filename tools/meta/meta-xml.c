// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta: the parser of the XML that thin_dump writes and thin_restore
 * reads, feeding an emitter (meta-emit.h) as elements are read.
 *
 * It accepts that subset of XML only: elements with double- or
 * single-quoted attributes, plus declarations and comments, which it skips.
 * The writer is meta-xml-emit.c.
 */
#include <errno.h>
#include <string.h>

#include "meta.h"

#define MAX_ATTRS 16

struct attr {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

struct parser {
	const char *text;
	size_t len;
	size_t pos;
	const char *name;	/* of the input, for messages */
	struct meta_emitter *e;
	int depth;		/* 0 outside, 1 in superblock, 2 in device */
	bool seen_superblock;

	/* the element being read */
	const char *elem;
	size_t elem_len;
	struct attr attrs[MAX_ATTRS];
	int nr_attrs;
};

static unsigned long line_of(const struct parser *p, size_t pos)
{
	unsigned long line = 1;
	size_t i;

	for (i = 0; i < pos && i < p->len; i++)
		if (p->text[i] == '\n')
			line++;
	return line;
}

static int fail(const struct parser *p, const char *why)
{
	fprintf(stderr, "%s:%lu: %s\n", p->name, line_of(p, p->pos), why);
	return -1;
}

static bool at_end(const struct parser *p)
{
	return p->pos >= p->len;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == ':' ||
	       c == '.';
}

static void skip_space(struct parser *p)
{
	while (!at_end(p) && is_space(p->text[p->pos]))
		p->pos++;
}

static bool starts_with(const struct parser *p, const char *s)
{
	size_t n = strlen(s);

	return p->len - p->pos >= n && !memcmp(p->text + p->pos, s, n);
}

static int skip_past(struct parser *p, const char *end)
{
	size_t n = strlen(end);

	while (p->len - p->pos >= n) {
		if (!memcmp(p->text + p->pos, end, n)) {
			p->pos += n;
			return 0;
		}
		p->pos++;
	}
	return fail(p, "unterminated declaration or comment");
}

static size_t read_name(struct parser *p)
{
	size_t start = p->pos;

	while (!at_end(p) && is_name_char(p->text[p->pos]))
		p->pos++;
	return p->pos - start;
}

static int read_attr(struct parser *p)
{
	struct attr *a;
	char quote;

	if (p->nr_attrs == MAX_ATTRS)
		return fail(p, "too many attributes");
	a = &p->attrs[p->nr_attrs];
	a->name = p->text + p->pos;
	a->name_len = read_name(p);
	if (!a->name_len)
		return fail(p, "expected an attribute name");
	skip_space(p);
	if (at_end(p) || p->text[p->pos] != '=')
		return fail(p, "expected '=' after an attribute name");
	p->pos++;
	skip_space(p);
	if (at_end(p) || (p->text[p->pos] != '"' && p->text[p->pos] != '\''))
		return fail(p, "expected a quoted attribute value");
	quote = p->text[p->pos++];
	a->value = p->text + p->pos;
	while (!at_end(p) && p->text[p->pos] != quote) {
		if (p->text[p->pos] == '<')
			return fail(p, "'<' in an attribute value");
		p->pos++;
	}
	if (at_end(p))
		return fail(p, "unterminated attribute value");
	a->value_len = (size_t)(p->text + p->pos - a->value);
	p->pos++;
	p->nr_attrs++;
	return 0;
}

static const struct attr *find_attr(const struct parser *p, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; i < p->nr_attrs; i++)
		if (p->attrs[i].name_len == n &&
		    !memcmp(p->attrs[i].name, name, n))
			return &p->attrs[i];
	return NULL;
}

static int number(const struct parser *p, const char *name, uint64_t max,
		  uint64_t *result)
{
	const struct attr *a = find_attr(p, name);
	char msg[128];
	uint64_t v = 0;
	size_t i;

	if (!a) {
		snprintf(msg, sizeof(msg), "missing attribute %s", name);
		return fail(p, msg);
	}
	if (!a->value_len)
		goto bad;
	for (i = 0; i < a->value_len; i++) {
		char c = a->value[i];

		if (c < '0' || c > '9')
			goto bad;
		if (v > (max - (uint64_t)(c - '0')) / 10)
			goto bad;
		v = v * 10 + (uint64_t)(c - '0');
	}
	*result = v;
	return 0;
bad:
	snprintf(msg, sizeof(msg), "attribute %s is not a number in range",
		 name);
	return fail(p, msg);
}

static int number32(const struct parser *p, const char *name,
		    uint32_t *result)
{
	uint64_t v;

	if (number(p, name, UINT32_MAX, &v))
		return -1;
	*result = (uint32_t)v;
	return 0;
}

static bool elem_is(const struct parser *p, const char *name)
{
	return p->elem_len == strlen(name) &&
	       !memcmp(p->elem, name, p->elem_len);
}

static int handled(struct parser *p, int r)
{
	if (r)
		return fail(p, "could not apply this element");
	return 0;
}

static int on_superblock(struct parser *p)
{
	struct meta_sb_info sb;

	if (p->depth != 0 || p->seen_superblock)
		return fail(p, "unexpected <superblock>");
	if (number32(p, "time", &sb.time) ||
	    number(p, "transaction", UINT64_MAX, &sb.transaction) ||
	    number32(p, "data_block_size", &sb.data_block_size) ||
	    number(p, "nr_data_blocks", UINT64_MAX, &sb.nr_data_blocks))
		return -1;
	sb.flags = 0;
	if (find_attr(p, "flags") && number32(p, "flags", &sb.flags))
		return -1;
	sb.version = 2;
	if (find_attr(p, "version") && number32(p, "version", &sb.version))
		return -1;
	p->seen_superblock = true;
	p->depth = 1;
	return handled(p, p->e->ops->begin_superblock(p->e, &sb));
}

static int on_device(struct parser *p)
{
	struct meta_dev_info d;

	if (p->depth != 1)
		return fail(p, "<device> outside <superblock>");
	if (number(p, "dev_id", UINT64_MAX, &d.dev_id) ||
	    number(p, "mapped_blocks", UINT64_MAX, &d.mapped_blocks) ||
	    number(p, "transaction", UINT64_MAX, &d.transaction) ||
	    number32(p, "creation_time", &d.creation_time) ||
	    number32(p, "snap_time", &d.snap_time))
		return -1;
	p->depth = 2;
	return handled(p, p->e->ops->begin_device(p->e, &d));
}

static int on_mapping(struct parser *p, bool range)
{
	uint64_t origin, data, len = 1;
	uint32_t time;

	if (p->depth != 2)
		return fail(p, "mapping outside <device>");
	if (range) {
		if (number(p, "origin_begin", UINT64_MAX, &origin) ||
		    number(p, "data_begin", UINT64_MAX, &data) ||
		    number(p, "length", UINT64_MAX, &len))
			return -1;
	} else {
		if (number(p, "origin_block", UINT64_MAX, &origin) ||
		    number(p, "data_block", UINT64_MAX, &data))
			return -1;
	}
	if (number32(p, "time", &time))
		return -1;
	if (!len || origin + len < origin || data + len < data)
		return fail(p, "mapping length out of range");
	if (!range)
		return handled(p, meta_emit_single(p->e, origin, data, time));
	return handled(p, p->e->ops->range_map(p->e, origin, data, len, time));
}

static int on_start(struct parser *p, bool empty)
{
	int r;

	if (elem_is(p, "superblock")) {
		r = on_superblock(p);
		if (!r && empty) {
			p->depth = 0;
			r = handled(p, p->e->ops->end_superblock(p->e));
		}
	} else if (elem_is(p, "device")) {
		r = on_device(p);
		if (!r && empty) {
			p->depth = 1;
			r = handled(p, p->e->ops->end_device(p->e));
		}
	} else if (elem_is(p, "range_mapping") ||
		   elem_is(p, "single_mapping")) {
		r = on_mapping(p, elem_is(p, "range_mapping"));
		if (!r && !empty)
			return fail(p, "a mapping element must be empty (/>)");
	} else {
		return fail(p, "unknown element");
	}
	return r;
}

static int on_end(struct parser *p)
{
	if (elem_is(p, "device") && p->depth == 2) {
		p->depth = 1;
		return handled(p, p->e->ops->end_device(p->e));
	}
	if (elem_is(p, "superblock") && p->depth == 1) {
		p->depth = 0;
		return handled(p, p->e->ops->end_superblock(p->e));
	}
	return fail(p, "unexpected closing tag");
}

static int read_end_tag(struct parser *p)
{
	p->pos += 2;
	p->elem = p->text + p->pos;
	p->elem_len = read_name(p);
	skip_space(p);
	if (at_end(p) || p->text[p->pos] != '>')
		return fail(p, "malformed closing tag");
	p->pos++;
	return on_end(p);
}

static int read_start_tag(struct parser *p)
{
	bool empty = false;

	p->pos++;
	p->elem = p->text + p->pos;
	p->elem_len = read_name(p);
	if (!p->elem_len)
		return fail(p, "expected an element name");
	p->nr_attrs = 0;
	for (;;) {
		skip_space(p);
		if (at_end(p))
			return fail(p, "unterminated tag");
		if (p->text[p->pos] == '>')
			break;
		if (starts_with(p, "/>")) {
			empty = true;
			p->pos++;
			break;
		}
		if (read_attr(p))
			return -1;
	}
	p->pos++;
	return on_start(p, empty);
}

static int read_markup(struct parser *p)
{
	if (starts_with(p, "<?"))
		return skip_past(p, "?>");
	if (starts_with(p, "<!--"))
		return skip_past(p, "-->");
	if (starts_with(p, "<!"))
		return skip_past(p, ">");
	if (starts_with(p, "</"))
		return read_end_tag(p);
	return read_start_tag(p);
}

int meta_xml_parse(const char *text, size_t len, const char *name,
		   struct meta_emitter *e)
{
	struct parser p = {
		.text = text,
		.len = len,
		.name = name,
		.e = e,
	};

	for (;;) {
		skip_space(&p);
		if (at_end(&p))
			break;
		if (p.text[p.pos] != '<')
			return fail(&p, "text outside of a tag");
		if (read_markup(&p))
			return -1;
	}
	if (!p.seen_superblock)
		return fail(&p, "no <superblock> element");
	if (p.depth)
		return fail(&p, "unexpected end of input: unclosed element");
	return 0;
}
