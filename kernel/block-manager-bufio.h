/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The block-manager seam (persistent-data/block-manager.h) on dm-bufio: how
 * the kernel module reaches its metadata device.
 */
#ifndef PD_BLOCK_MANAGER_BUFIO_H
#define PD_BLOCK_MANAGER_BUFIO_H

#include "block-manager.h"

struct block_device;

/*
 * @max_held: the most blocks one thread holds locked at once (dm-bufio
 * keeps that many buffers in reserve so such a thread can always proceed).
 */
int pd_bm_bufio_create(struct block_device *bdev, unsigned int max_held,
		       struct pd_block_manager **result);

#endif
