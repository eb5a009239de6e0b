/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One environment for the persistent-data library in both worlds.
 *
 * The library is written in kernel C: u64, __le64, le64_to_cpu(), kmalloc(),
 * kvmalloc(), pr_err(), -ENOMEM, struct rw_semaphore... In the kernel these
 * come from the kernel headers; in userspace user/include/user-compat.h
 * provides the same names on top of libc, so the files above this line are
 * compiled unchanged into dm-ctpool.ko and libpersistent-data.a.
 */
#ifndef PD_COMPAT_H
#define PD_COMPAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/rwsem.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/crc32c.h>
#include <linux/sched.h>
#include <asm/byteorder.h>
#include <asm/unaligned.h>
#else
#include "user-compat.h"
#endif

#endif
