/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef CTPOOL_H
#define CTPOOL_H

/*
 * Reported target version. 6.1's dm-thin reports 1.22.0 and tools such as
 * lvm2 choose features by this number, so we report the same.
 */
#define CTPOOL_VERSION_MAJOR 1
#define CTPOOL_VERSION_MINOR 22
#define CTPOOL_VERSION_PATCH 0

int ctpool_pool_target_register(const char *name);
void ctpool_pool_target_unregister(void);
int ctpool_thin_target_register(const char *name);
void ctpool_thin_target_unregister(void);

#endif
