// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta: the btree walker (see meta-walk.h).
 *
 * Each node is checked on its own (header, key order) and against its
 * parent after its walk (height, key range): a subtree the visitor already
 * knows is judged by what its first walk found, so shared subtrees need no
 * second reading.
 */
#include <stdio.h>
#include <string.h>

#include "meta.h"
#include "meta-walk.h"

enum { NODE_UNUSABLE = 0, NODE_USABLE = 1, WALK_STOPPED = -1 };

/* Report damage; returns the visitor's answer (and remembers a stop). */
static enum meta_walk_action damaged(struct meta_walk *w,
				     const struct meta_damage *d)
{
	enum meta_walk_action a = w->ops->damage(w, d);

	if (a == META_WALK_STOP)
		w->stopped = true;
	return a;
}

static enum meta_walk_action node_damage(struct meta_walk *w, uint64_t b,
					 enum meta_damage_kind kind)
{
	struct meta_damage d = { .kind = kind, .block = b };

	return damaged(w, &d);
}

static bool check_keys(struct meta_walk *w, uint64_t b,
		       const struct meta_node *n)
{
	struct meta_damage d = { .kind = META_DAMAGE_UNSORTED, .block = b };
	uint32_t i;

	for (i = 1; i < n->nr_entries; i++) {
		if (meta_node_key(n, i) > meta_node_key(n, i - 1))
			continue;
		d.entry = i;
		return damaged(w, &d) == META_WALK_CONTINUE;
	}
	return true;
}

static void leaf_summary(const struct meta_node *n, struct meta_subtree *s)
{
	s->height = 0;
	s->entries = n->nr_entries;
	if (n->nr_entries) {
		s->lo = meta_node_key(n, 0);
		s->hi = meta_node_key(n, n->nr_entries - 1);
	}
}

static int walk_leaf(struct meta_walk *w, uint64_t b, int depth,
		     const struct meta_node *n, struct meta_subtree *s)
{
	struct meta_damage d = { .kind = META_DAMAGE_NOT_RISING, .block = b };
	enum meta_walk_action a;
	uint32_t i;

	if (!n->nr_entries && depth > 0 &&
	    node_damage(w, b, META_DAMAGE_EMPTY_LEAF) != META_WALK_CONTINUE)
		return w->stopped ? WALK_STOPPED : NODE_UNUSABLE;
	for (i = 0; i < n->nr_entries; i++) {
		uint64_t key = meta_node_key(n, i);

		if (w->have_last && key <= w->last) {
			d.entry = i;
			d.key = key;
			a = damaged(w, &d);
			if (a == META_WALK_STOP)
				return WALK_STOPPED;
			if (a == META_WALK_SKIP)
				continue;
		}
		w->have_last = true;
		w->last = key;
		if (w->ops->entry(w, b, key, meta_node_value(n, i))) {
			w->stopped = true;
			return WALK_STOPPED;
		}
	}
	leaf_summary(n, s);
	return NODE_USABLE;
}

static int walk_node(struct meta_walk *w, uint64_t b, int depth,
		     const char *from, struct meta_subtree *s);

/* Child i must hold keys in [key[i], key[i + 1]) and be as tall as child 0. */
static void check_child(struct meta_walk *w, uint64_t b,
			const struct meta_node *n, uint32_t i,
			const struct meta_subtree *child, struct meta_subtree *s)
{
	struct meta_damage d = {
		.block = b,
		.child = meta_le64(meta_node_value(n, i)),
	};

	if (i == 0) {
		s->height = (uint8_t)(child->height + 1);
	} else if (child->height + 1 != s->height) {
		d.kind = META_DAMAGE_CHILD_HEIGHT;
		if (damaged(w, &d) != META_WALK_CONTINUE)
			return;
	}
	if (!child->entries)
		return;
	if (child->lo < meta_node_key(n, i) ||
	    (i + 1 < n->nr_entries && child->hi >= meta_node_key(n, i + 1))) {
		d.kind = META_DAMAGE_CHILD_RANGE;
		if (damaged(w, &d) != META_WALK_CONTINUE)
			return;
	}
	if (!s->entries)
		s->lo = child->lo;
	s->hi = child->hi;
	s->entries += child->entries;
}

static int walk_internal(struct meta_walk *w, uint64_t b, int depth,
			 const struct meta_node *n, struct meta_subtree *s)
{
	struct meta_subtree child;
	char from[64];
	uint32_t i;
	int r;

	if (!n->nr_entries &&
	    node_damage(w, b, META_DAMAGE_EMPTY_INTERNAL) != META_WALK_CONTINUE)
		return w->stopped ? WALK_STOPPED : NODE_UNUSABLE;
	snprintf(from, sizeof(from), "node %llu", (unsigned long long)b);
	for (i = 0; i < n->nr_entries; i++) {
		memset(&child, 0, sizeof(child));
		r = walk_node(w, meta_le64(meta_node_value(n, i)), depth + 1,
			      from, &child);
		if (r == WALK_STOPPED)
			return WALK_STOPPED;
		if (r == NODE_USABLE)
			check_child(w, b, n, i, &child, s);
		if (w->stopped)
			return WALK_STOPPED;
	}
	return NODE_USABLE;
}

static bool read_node(struct meta_walk *w, uint64_t b, uint8_t *block,
		      struct meta_node *n)
{
	struct meta_damage d = { .kind = META_DAMAGE_UNREADABLE, .block = b };

	if (meta_image_read(w->img, b, block)) {
		damaged(w, &d);
		return false;
	}
	if (meta_node_decode(block, b, w->value_size, n, &d.why)) {
		d.kind = META_DAMAGE_BAD_NODE;
		damaged(w, &d);
		return false;
	}
	return true;
}

/* Read node b and check what it says of itself; false if unusable. */
static bool load_node(struct meta_walk *w, uint64_t b, int depth,
		      uint8_t *block, struct meta_node *n)
{
	if (depth > w->max_depth) {
		node_damage(w, b, META_DAMAGE_TOO_DEEP);
		return false;
	}
	if (++w->visits > w->img->nr_blocks) {
		node_damage(w, b, META_DAMAGE_TOO_MANY_NODES);
		return false;
	}
	if (!read_node(w, b, block, n))
		return false;
	return check_keys(w, b, n);
}

static int walk_node(struct meta_walk *w, uint64_t b, int depth,
		     const char *from, struct meta_subtree *s)
{
	uint8_t block[META_BLOCK_SIZE];
	struct meta_node n;
	int r = NODE_UNUSABLE;

	if (w->ops->enter) {
		switch (w->ops->enter(w, b, from, s)) {
		case META_ENTER_KNOWN:
			return NODE_USABLE;
		case META_ENTER_SKIP:
			return NODE_UNUSABLE;
		case META_ENTER_WALK:
			break;
		}
	}
	if (load_node(w, b, depth, block, &n)) {
		memset(s, 0, sizeof(*s));
		if (n.flags & META_NODE_LEAF)
			r = walk_leaf(w, b, depth, &n, s);
		else
			r = walk_internal(w, b, depth, &n, s);
	}
	if (w->stopped)
		return WALK_STOPPED;
	if (w->ops->leave)
		w->ops->leave(w, b, r == NODE_USABLE ? s : NULL);
	return r;
}

int meta_walk_tree(struct meta_walk *w, uint64_t root, const char *from,
		   struct meta_subtree *s)
{
	struct meta_subtree tmp;

	memset(&tmp, 0, sizeof(tmp));
	w->visits = 0;
	w->have_last = false;
	w->stopped = false;
	return walk_node(w, root, 0, from, s ? s : &tmp);
}

const char *meta_damage_phrase(const struct meta_damage *d)
{
	switch (d->kind) {
	case META_DAMAGE_TOO_DEEP:
		return "tree too deep (a loop?)";
	case META_DAMAGE_TOO_MANY_NODES:
		return "node reached twice (a loop?)";
	case META_DAMAGE_UNREADABLE:
		return "cannot read the block";
	case META_DAMAGE_BAD_NODE:
		return d->why;
	case META_DAMAGE_UNSORTED:
	case META_DAMAGE_NOT_RISING:
		return "keys out of order";
	case META_DAMAGE_EMPTY_LEAF:
		return "empty leaf below the root";
	case META_DAMAGE_EMPTY_INTERNAL:
		return "empty internal node";
	case META_DAMAGE_CHILD_HEIGHT:
		return "child at another depth than its siblings";
	case META_DAMAGE_CHILD_RANGE:
		return "child keys outside the range of its parent entry";
	}
	return "damaged";
}
