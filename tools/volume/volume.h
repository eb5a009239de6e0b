/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctpool userspace, the volume library (libctpool-volume.a): pools and thin
 * volumes on them, built on the common library's records and dm calls.
 */
#ifndef CTPOOL_VOLUME_H
#define CTPOOL_VOLUME_H

#include "common/ctpool.h"

/* pool operations (pool.c, volume.c) */
int pool_ensure_active(struct pool *p);
int pool_get_status(struct pool *p, struct pool_status *ps);
int pool_recover(struct pool *p);  /* roll open transaction forward/back */
int pool_activate_all(void);       /* pool-activate.c: boot activation */

/* volume operations (volume.c) */
int vol_do_create(struct pool *p, const char *name, uint64_t size, const char *origin,
		  const char *kind, struct kv *extra);
int vol_do_delete(struct pool *p, const char *name, int discard);
int vol_activate(const char *name, char *devpath, size_t len);
int vol_deactivate(const char *name);
int vol_dm_name(const char *name, char *buf, size_t len);
int vol_open_pool(const char *name, struct kv *vkv, struct pool *p);

#endif
