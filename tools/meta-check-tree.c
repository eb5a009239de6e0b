// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta check: references and btree walks.
 *
 * A node is walked the first time it is referenced; later references only
 * count, and are checked against what the first walk recorded (height and
 * key range), so a subtree shared by snapshots is read once. A node met
 * again while it is still being walked is its own ancestor: a loop.
 */
#include <string.h>

#include "meta-check.h"

bool check_reference(struct checker *c, uint64_t b, int role,
		     const char *from)
{
	if (b >= c->img.nr_blocks) {
		check_error(c, "block %llu (%s, from %s): beyond the end of the metadata device (%llu blocks)",
			    (unsigned long long)b, role_name(role), from,
			    (unsigned long long)c->img.nr_blocks);
		return false;
	}
	if (b >= c->nr_meta) {
		check_error(c, "block %llu (%s, from %s): beyond the metadata space map (%llu blocks)",
			    (unsigned long long)b, role_name(role), from,
			    (unsigned long long)c->nr_meta);
		return false;
	}
	if (c->refs[b] < UINT32_MAX)
		c->refs[b]++;
	if (c->role[b] == ROLE_NONE) {
		c->role[b] = (uint8_t)role;
		return true;
	}
	if (c->role[b] != role)
		check_error(c, "block %llu: used as %s (from %s) and as %s",
			    (unsigned long long)b, role_name(role), from,
			    role_name(c->role[b]));
	return false;
}

static bool check_keys(struct tree_walk *w, uint64_t b,
		       const struct meta_node *n)
{
	uint32_t i;

	for (i = 1; i < n->nr_entries; i++) {
		if (meta_node_key(n, i) <= meta_node_key(n, i - 1)) {
			check_error(w->c, "block %llu (%s): keys not in ascending order at entry %u",
				    (unsigned long long)b, w->name, i);
			return false;
		}
	}
	return true;
}

static void walk_leaf(struct tree_walk *w, uint64_t b,
		      const struct meta_node *n, struct subtree *s)
{
	uint32_t i;

	for (i = 0; i < n->nr_entries; i++)
		w->entry(w, b, meta_node_key(n, i), meta_node_value(n, i));
	s->height = 0;
	s->entries = n->nr_entries;
	if (n->nr_entries) {
		s->lo = meta_node_key(n, 0);
		s->hi = meta_node_key(n, n->nr_entries - 1);
	}
}

static bool walk_node(struct tree_walk *w, uint64_t b, int depth,
		      const char *from, struct subtree *s);

/* Child i must hold keys in [key[i], key[i + 1]) and be as tall as child 0. */
static void check_child(struct tree_walk *w, uint64_t b,
			const struct meta_node *n, uint32_t i,
			const struct subtree *child, struct subtree *s)
{
	uint64_t cb = meta_le64(meta_node_value(n, i));

	if (i == 0)
		s->height = (uint8_t)(child->height + 1);
	else if (child->height + 1 != s->height)
		check_error(w->c, "block %llu (%s): child %llu is at another depth than its siblings",
			    (unsigned long long)b, w->name,
			    (unsigned long long)cb);
	if (!child->entries)
		return;
	if (child->lo < meta_node_key(n, i) ||
	    (i + 1 < n->nr_entries && child->hi >= meta_node_key(n, i + 1)))
		check_error(w->c, "block %llu (%s): keys of child %llu fall outside the range of its parent entry",
			    (unsigned long long)b, w->name,
			    (unsigned long long)cb);
	if (!s->entries)
		s->lo = child->lo;
	s->hi = child->hi;
	s->entries += child->entries;
}

static void walk_internal(struct tree_walk *w, uint64_t b, int depth,
			  const struct meta_node *n, struct subtree *s)
{
	struct subtree child;
	char from[64];
	uint32_t i;

	if (!n->nr_entries)
		check_error(w->c, "block %llu (%s): internal node with no entries",
			    (unsigned long long)b, w->name);
	snprintf(from, sizeof(from), "node %llu", (unsigned long long)b);
	for (i = 0; i < n->nr_entries; i++) {
		memset(&child, 0, sizeof(child));
		if (!walk_node(w, meta_le64(meta_node_value(n, i)), depth + 1,
			       from, &child))
			continue;
		check_child(w, b, n, i, &child, s);
	}
}

static bool read_node(struct tree_walk *w, uint64_t b, uint8_t *block,
		      struct meta_node *n)
{
	const char *why;

	if (meta_image_read(&w->c->img, b, block)) {
		check_error(w->c, "block %llu (%s): cannot be read",
			    (unsigned long long)b, w->name);
		return false;
	}
	if (meta_node_decode(block, b, w->value_size, n, &why)) {
		check_error(w->c, "block %llu (%s): %s",
			    (unsigned long long)b, w->name, why);
		return false;
	}
	return true;
}

/* A node referenced again: reuse what its walk found. */
static bool revisit(struct tree_walk *w, uint64_t b, struct subtree *s)
{
	struct checker *c = w->c;

	if (b >= c->nr_meta || c->role[b] != w->role)
		return false;
	if (c->state[b] == NODE_WALKING) {
		check_error(c, "block %llu (%s): loop, the node is its own ancestor",
			    (unsigned long long)b, w->name);
		return false;
	}
	if (c->state[b] != NODE_DONE)
		return false;
	*s = c->info[b];
	return true;
}

static bool walk_node(struct tree_walk *w, uint64_t b, int depth,
		      const char *from, struct subtree *s)
{
	uint8_t block[META_BLOCK_SIZE];
	struct checker *c = w->c;
	struct meta_node n;

	if (!check_reference(c, b, w->role, from))
		return revisit(w, b, s);
	if (depth > CHECK_MAX_DEPTH) {
		check_error(c, "block %llu (%s): tree deeper than %d levels",
			    (unsigned long long)b, w->name, CHECK_MAX_DEPTH);
		c->state[b] = NODE_BAD;
		return false;
	}
	if (!read_node(w, b, block, &n)) {
		c->state[b] = NODE_BAD;
		return false;
	}

	c->state[b] = NODE_WALKING;
	memset(s, 0, sizeof(*s));
	check_keys(w, b, &n);
	if (n.flags & META_NODE_LEAF) {
		if (!n.nr_entries && depth > 0)
			check_error(c, "block %llu (%s): empty leaf below the root",
				    (unsigned long long)b, w->name);
		walk_leaf(w, b, &n, s);
	} else {
		walk_internal(w, b, depth, &n, s);
	}
	c->state[b] = NODE_DONE;
	c->info[b] = *s;
	return true;
}

bool check_tree(struct tree_walk *w, uint64_t root, const char *from,
		struct subtree *result)
{
	struct subtree s;

	memset(&s, 0, sizeof(s));
	if (!walk_node(w, root, 0, from, &s))
		return false;
	if (result)
		*result = s;
	return true;
}
