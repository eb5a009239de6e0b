/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The metadata space map: 2-bit bitmaps found through one static index block,
 * counts above 2 in a ref-count btree, all stored inside the very device it
 * manages. Changing it may allocate or free metadata blocks, which re-enters
 * it: nested operations are queued and applied when the outermost returns.
 *
 * Normally created through pd_tm_create_with_sm()/pd_tm_open_with_sm().
 */
#ifndef PD_SPACE_MAP_METADATA_H
#define PD_SPACE_MAP_METADATA_H

#include "transaction-manager.h"

/*
 * An empty object whose ops allocate linearly (bootstrap) until
 * create/open is called.
 */
struct pd_space_map *pd_sm_metadata_init(void);

/* Build a fresh map over nr_blocks, with [0, superblock] already in use. */
int pd_sm_metadata_create(struct pd_space_map *sm,
			  struct pd_transaction_manager *tm,
			  pd_block_t nr_blocks, pd_block_t superblock);

int pd_sm_metadata_open(struct pd_space_map *sm,
			struct pd_transaction_manager *tm,
			const void *root, size_t len);

#endif
