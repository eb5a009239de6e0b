// SPDX-License-Identifier: GPL-2.0-only
/*
 * The thin target. Refuses tables until the metadata core is wired in.
 */
#include <linux/module.h>
#include <linux/device-mapper.h>

#include "ctpool.h"

#define DM_MSG_PREFIX "ctthin"

static int thin_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	ti->error = "ctpool thin target is not implemented yet";
	return -EOPNOTSUPP;
}

static void thin_dtr(struct dm_target *ti)
{
}

static int thin_map(struct dm_target *ti, struct bio *bio)
{
	return DM_MAPIO_KILL;
}

static struct target_type thin_target = {
	.version = { CTPOOL_VERSION_MAJOR, CTPOOL_VERSION_MINOR,
		     CTPOOL_VERSION_PATCH },
	.module = THIS_MODULE,
	.ctr = thin_ctr,
	.dtr = thin_dtr,
	.map = thin_map,
};

int ctpool_thin_target_register(const char *name)
{
	thin_target.name = name;
	return dm_register_target(&thin_target);
}

void ctpool_thin_target_unregister(void)
{
	dm_unregister_target(&thin_target);
}
