// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-ctpool: thin provisioning for device-mapper, reimplemented.
 *
 * Module entry: registers the pool and thin targets. By default they are
 * named "ctpool" and "ctthin" so they can live beside the kernel's own
 * dm-thin-pool; compat_names=1 registers them as "thin-pool" and "thin"
 * for tools that hard-code those names.
 */
#include <linux/module.h>
#include <linux/device-mapper.h>

#include "ctpool.h"

#define DM_MSG_PREFIX "ctpool"

static bool compat_names;
module_param(compat_names, bool, 0444);
MODULE_PARM_DESC(compat_names,
		 "Register the targets as thin-pool/thin instead of ctpool/ctthin");

static int __init dm_ctpool_init(void)
{
	const char *pool_name = compat_names ? "thin-pool" : "ctpool";
	const char *thin_name = compat_names ? "thin" : "ctthin";
	int r;

	r = ctpool_pool_target_register(pool_name);
	if (r) {
		if (r == -EEXIST)
			DMERR("target \"%s\" is already registered (is dm-thin-pool loaded?)",
			      pool_name);
		else
			DMERR("registering target \"%s\" failed: %d", pool_name, r);
		return r;
	}

	r = ctpool_thin_target_register(thin_name);
	if (r) {
		if (r == -EEXIST)
			DMERR("target \"%s\" is already registered (is dm-thin-pool loaded?)",
			      thin_name);
		else
			DMERR("registering target \"%s\" failed: %d", thin_name, r);
		ctpool_pool_target_unregister();
		return r;
	}

	DMINFO("version %u.%u.%u registered as %s/%s", CTPOOL_VERSION_MAJOR,
	       CTPOOL_VERSION_MINOR, CTPOOL_VERSION_PATCH, pool_name, thin_name);
	return 0;
}

static void __exit dm_ctpool_exit(void)
{
	ctpool_thin_target_unregister();
	ctpool_pool_target_unregister();
}

module_init(dm_ctpool_init);
module_exit(dm_ctpool_exit);

MODULE_DESCRIPTION("device-mapper thin provisioning, reimplemented (ctpool)");
MODULE_AUTHOR("ctpool developers");
MODULE_LICENSE("GPL");
