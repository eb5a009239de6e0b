// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta check: references, and the checker's visitor of the btree
 * walker (meta-walk.h).
 *
 * A node is walked the first time it is referenced; later references only
 * count, and are checked against what the first walk recorded (height and
 * key range), so a subtree shared by snapshots is read once. A node met
 * again while it is still being walked is its own ancestor: a loop.
 */
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

static struct tree_walk *to_tree_walk(struct meta_walk *mw)
{
	return meta_container_of(mw, struct tree_walk, walk);
}

/* A node referenced again: reuse what its walk found. */
static bool revisit(struct tree_walk *w, uint64_t b, struct meta_subtree *s)
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

static enum meta_enter on_enter(struct meta_walk *mw, uint64_t b,
				const char *from, struct meta_subtree *s)
{
	struct tree_walk *w = to_tree_walk(mw);

	if (check_reference(w->c, b, w->role, from)) {
		w->c->state[b] = NODE_WALKING;
		return META_ENTER_WALK;
	}
	return revisit(w, b, s) ? META_ENTER_KNOWN : META_ENTER_SKIP;
}

static void on_leave(struct meta_walk *mw, uint64_t b,
		     const struct meta_subtree *s)
{
	struct checker *c = to_tree_walk(mw)->c;

	c->state[b] = s ? NODE_DONE : NODE_BAD;
	if (s)
		c->info[b] = *s;
}

static int on_entry(struct meta_walk *mw, uint64_t node, uint64_t key,
		    const uint8_t *value)
{
	struct tree_walk *w = to_tree_walk(mw);

	w->entry(w, node, key, value);
	return 0;
}

/* Every problem is reported, and the walk goes on wherever it can. */
static enum meta_walk_action on_damage(struct meta_walk *mw,
				       const struct meta_damage *d)
{
	struct tree_walk *w = to_tree_walk(mw);
	unsigned long long b = d->block, child = d->child;
	struct checker *c = w->c;

	switch (d->kind) {
	case META_DAMAGE_TOO_DEEP:
		check_error(c, "block %llu (%s): tree deeper than %d levels",
			    b, w->name, CHECK_MAX_DEPTH);
		break;
	case META_DAMAGE_UNREADABLE:
		check_error(c, "block %llu (%s): cannot be read", b, w->name);
		break;
	case META_DAMAGE_UNSORTED:
		check_error(c, "block %llu (%s): keys not in ascending order at entry %u",
			    b, w->name, d->entry);
		break;
	case META_DAMAGE_EMPTY_LEAF:
		check_error(c, "block %llu (%s): empty leaf below the root",
			    b, w->name);
		break;
	case META_DAMAGE_EMPTY_INTERNAL:
		check_error(c, "block %llu (%s): internal node with no entries",
			    b, w->name);
		break;
	case META_DAMAGE_CHILD_HEIGHT:
		check_error(c, "block %llu (%s): child %llu is at another depth than its siblings",
			    b, w->name, child);
		break;
	case META_DAMAGE_CHILD_RANGE:
		check_error(c, "block %llu (%s): keys of child %llu fall outside the range of its parent entry",
			    b, w->name, child);
		break;
	case META_DAMAGE_NOT_RISING:
		/* the node and child checks above already report it */
		break;
	case META_DAMAGE_BAD_NODE:
	case META_DAMAGE_TOO_MANY_NODES:
		check_error(c, "block %llu (%s): %s", b, w->name,
			    meta_damage_phrase(d));
		break;
	}
	return META_WALK_CONTINUE;
}

static const struct meta_walk_ops check_walk_ops = {
	.enter = on_enter,
	.leave = on_leave,
	.entry = on_entry,
	.damage = on_damage,
};

bool check_tree(struct tree_walk *w, uint64_t root, const char *from,
		struct meta_subtree *result)
{
	w->walk.img = &w->c->img;
	w->walk.ops = &check_walk_ops;
	w->walk.value_size = w->value_size;
	w->walk.max_depth = CHECK_MAX_DEPTH;
	w->walk.name = w->name;
	return meta_walk_tree(&w->walk, root, from, result) == 1;
}

bool check_role_tree(struct checker *c, int role, uint32_t value_size,
		     entry_fn entry, uint64_t root, const char *from,
		     struct meta_subtree *result)
{
	struct tree_walk w = {
		.c = c,
		.role = role,
		.value_size = value_size,
		.name = role_name(role),
		.entry = entry,
	};

	return check_tree(&w, root, from, result);
}
