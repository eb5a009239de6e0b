// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pool target. Until the metadata core is wired in, its constructor
 * refuses every table with an explicit error, so nobody mistakes the
 * skeleton for a working pool.
 */
#include <linux/module.h>
#include <linux/device-mapper.h>

#include "ctpool.h"

#define DM_MSG_PREFIX "ctpool"

static int pool_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	ti->error = "ctpool pool target is not implemented yet";
	return -EOPNOTSUPP;
}

static void pool_dtr(struct dm_target *ti)
{
}

static int pool_map(struct dm_target *ti, struct bio *bio)
{
	return DM_MAPIO_KILL;
}

static struct target_type pool_target = {
	.version = { CTPOOL_VERSION_MAJOR, CTPOOL_VERSION_MINOR,
		     CTPOOL_VERSION_PATCH },
	.features = DM_TARGET_SINGLETON | DM_TARGET_ALWAYS_WRITEABLE |
		    DM_TARGET_IMMUTABLE,
	.module = THIS_MODULE,
	.ctr = pool_ctr,
	.dtr = pool_dtr,
	.map = pool_map,
};

int ctpool_pool_target_register(const char *name)
{
	pool_target.name = name;
	return dm_register_target(&pool_target);
}

void ctpool_pool_target_unregister(void)
{
	dm_unregister_target(&pool_target);
}
