/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What we use of drivers/md/dm.h, which the kernel headers package does not
 * ship. Each symbol is exported by dm-mod in 6.1 (see Module.symvers).
 */
#ifndef CTPOOL_DM_INTERNAL_H
#define CTPOOL_DM_INTERNAL_H

struct mapped_device;

void dm_internal_suspend_noflush(struct mapped_device *md);
void dm_internal_resume(struct mapped_device *md);

/* status_flags bit set by "dmsetup status --noflush". */
#define DM_STATUS_NOFLUSH_FLAG (1 << 0)

#endif
