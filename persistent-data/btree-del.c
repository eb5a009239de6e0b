// SPDX-License-Identifier: GPL-2.0-only
/*
 * Dropping a reference to a whole tree.
 *
 * A node still shared after this reference goes only loses a count: its
 * other owners keep everything under it. An unshared node is taken apart:
 * its children (or, in the leaves of upper levels, the subtrees) are
 * dropped in turn, the last level's values are dec'd, and the node itself
 * is freed. The traversal is iterative, on an explicit stack of
 * (node, next child) frames, so neither the kernel stack nor the number of
 * held locks grows with the tree.
 *
 * The traversal can also run in bounded steps (pd_btree_del_start/step),
 * with the caller free to change other trees in between: every frame on
 * the stack is a node only this reference reaches (shared nodes are never
 * entered), so nothing else can change it, and whether a child is shared
 * is decided when the child is reached.
 */
#define pr_fmt(fmt) "btree: " fmt

#include "btree-internal.h"

#define DEL_STACK_SIZE (PD_BTREE_MAX_LEVELS * (PD_BTREE_MAX_DEPTH + 1))

struct del_frame {
	pd_block_t b;
	unsigned int level;
	u32 next;		/* next child to visit */
	u32 nr;
	bool internal;
};

struct pd_btree_del {
	struct pd_btree_info *info;
	void *values;		/* a copy of a leaf's values for dec */
	pd_block_t root;
	bool started;		/* the root has been visited */
	int top;
	struct del_frame stack[DEL_STACK_SIZE];
};

static u32 leaf_value_size(struct pd_btree_del *s, unsigned int level)
{
	return level + 1 < s->info->levels ? sizeof(__le64) :
					     s->info->value_type.size;
}

/* Called without the leaf locked: dec may itself change other trees. */
static int dec_leaf_values(struct pd_btree_del *s, struct pd_node_ref *leaf)
{
	const struct pd_btree_value_type *vt = &s->info->value_type;
	u32 nr = pd_node_nr(leaf->n);

	memcpy(s->values, pd_node_value(leaf->n, 0), (size_t)nr * vt->size);
	pd_btree_unlock(s->info->tm, leaf);
	if (!nr || !vt->dec)
		return 0;
	return vt->dec(vt->context, s->values, nr);
}

/*
 * The children of a node about to be taken apart are all read next: start
 * reading them now, so that they arrive together rather than one at a time.
 */
static void prefetch_children(struct pd_btree_del *s, struct pd_node_ref *ref)
{
	u32 i, nr = pd_node_nr(ref->n);

	for (i = 0; i < nr; i++)
		pd_tm_prefetch(s->info->tm, pd_node_value64(ref->n, i));
}

/*
 * Start dropping the reference to node @b: either at once (shared, or a
 * leaf of the last level) or by pushing a frame whose children come next.
 */
static int del_node(struct pd_btree_del *s, pd_block_t b, unsigned int level)
{
	struct pd_transaction_manager *tm = s->info->tm;
	struct pd_node_ref ref;
	struct del_frame *f;
	bool shared;
	int r;

	r = pd_tm_block_is_shared(tm, b, &shared);
	if (r)
		return r;
	if (shared)
		return pd_tm_dec(tm, b);

	r = pd_btree_read_node(tm, b, leaf_value_size(s, level), &ref);
	if (r)
		return r;

	if (!pd_node_is_internal(ref.n) && level + 1 == s->info->levels) {
		r = dec_leaf_values(s, &ref);
		return r ? r : pd_tm_dec(tm, b);
	}

	if (s->top + 1 == DEL_STACK_SIZE) {
		pd_btree_unlock(tm, &ref);
		pr_err("tree too deep at block %llu: corrupt\n",
		       (unsigned long long)b);
		return -EILSEQ;
	}
	prefetch_children(s, &ref);
	f = &s->stack[++s->top];
	f->b = b;
	f->level = level;
	f->next = 0;
	f->nr = pd_node_nr(ref.n);
	f->internal = pd_node_is_internal(ref.n);
	pd_btree_unlock(tm, &ref);
	return 0;
}

/* Visit the next child of the top frame, or finish the frame. */
static int del_step(struct pd_btree_del *s)
{
	struct del_frame *f = &s->stack[s->top];
	struct pd_node_ref ref;
	pd_block_t child;
	int r;

	if (f->next == f->nr) {
		s->top--;
		return pd_tm_dec(s->info->tm, f->b);
	}

	/* Re-read: the node may have left the cache while we were below. */
	r = pd_btree_read_node(s->info->tm, f->b,
			       leaf_value_size(s, f->level), &ref);
	if (r)
		return r;
	child = pd_node_value64(ref.n, f->next++);
	pd_btree_unlock(s->info->tm, &ref);

	/* Below an upper-level leaf starts the next level's tree. */
	return del_node(s, child, f->internal ? f->level : f->level + 1);
}

int pd_btree_del_start(struct pd_btree_info *info, pd_block_t root,
		       struct pd_btree_del **result)
{
	struct pd_btree_del *s;
	int r;

	r = pd_btree_check_info(info);
	if (r)
		return r;
	s = kmalloc(sizeof(*s), GFP_NOIO);
	if (!s)
		return -ENOMEM;
	s->values = kmalloc(PD_BLOCK_SIZE, GFP_NOIO);
	if (!s->values) {
		kfree(s);
		return -ENOMEM;
	}
	s->info = info;
	s->top = -1;
	s->root = root;
	s->started = false;
	*result = s;
	return 0;
}

int pd_btree_del_step(struct pd_btree_del *s, unsigned int budget)
{
	int r = 0;

	if (!budget)
		return s->started && s->top < 0 ? 0 : 1;
	if (!s->started) {
		s->started = true;
		r = del_node(s, s->root, 0);
		budget--;
	}
	while (!r && s->top >= 0 && budget) {
		r = del_step(s);
		budget--;
		cond_resched();
	}
	if (r)
		return r;
	return s->top >= 0 ? 1 : 0;
}

/*
 * Best effort: a block that cannot be read here is read again, and its
 * error returned, by the step that needs it.
 */
void pd_btree_del_warm(struct pd_btree_del *s, unsigned int budget)
{
	struct pd_transaction_manager *tm = s->info->tm;
	struct del_frame *f;
	struct pd_node_ref ref;
	struct pd_block *child;
	pd_block_t b;
	u32 i, end;

	if (s->top < 0)
		return;
	f = &s->stack[s->top];
	end = min(f->nr, f->next + budget);
	for (i = f->next; i < end; i++) {
		if (pd_btree_read_node(tm, f->b, leaf_value_size(s, f->level),
				       &ref))
			return;
		b = pd_node_value64(ref.n, i);
		pd_btree_unlock(tm, &ref);
		if (!pd_tm_read_lock(tm, b, &pd_btree_node_validator, &child))
			pd_tm_unlock(tm, child);
	}
}

void pd_btree_del_free(struct pd_btree_del *s)
{
	if (!s)
		return;
	kfree(s->values);
	kfree(s);
}

int pd_btree_del(struct pd_btree_info *info, pd_block_t root)
{
	struct pd_btree_del *s;
	int r;

	r = pd_btree_del_start(info, root, &s);
	if (r)
		return r;
	r = pd_btree_del_step(s, UINT_MAX);
	pd_btree_del_free(s);
	return r;
}
