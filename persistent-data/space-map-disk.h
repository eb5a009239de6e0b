/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The disk (data) space map: 2-bit bitmaps indexed by a btree, counts above 2
 * in a ref-count btree, all stored in the metadata device through the
 * transaction manager. Its size only grows.
 */
#ifndef PD_SPACE_MAP_DISK_H
#define PD_SPACE_MAP_DISK_H

#include "transaction-manager.h"

int pd_sm_disk_create(struct pd_transaction_manager *tm, pd_block_t nr_blocks,
		      struct pd_space_map **result);
int pd_sm_disk_open(struct pd_transaction_manager *tm, const void *root,
		    size_t len, struct pd_space_map **result);
/*
 * Blocks with a count of zero now, including those freed in the open
 * transaction that cannot be allocated before the commit (get_nr_free leaves
 * those out). This is the free space a pool reports, as dm-thin does: a
 * discard shows in the usage at once, not a commit later.
 */
void pd_sm_disk_get_nr_unused(struct pd_space_map *sm, pd_block_t *count);

#endif
