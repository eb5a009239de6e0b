/*
 * The i386 numbers of the syscalls confine.c denies. A 64-bit process can
 * still enter the kernel through int 0x80 with the i386 numbering (the
 * seccomp_data arch is then AUDIT_ARCH_I386), so the filter needs this table
 * too, or every denied syscall would be one instruction away. Only this file
 * includes <asm/unistd_32.h>: its names collide with the native ones.
 */
#include <stddef.h>

#include "confine.h"

#if defined(__x86_64__)
#include <asm/unistd_32.h>

static const int deny_i386[] = {
#include "seccomp-deny.inc"
};

const struct seccomp_abi seccomp_abi_i386 = {
	.deny = deny_i386,
	.n_deny = sizeof(deny_i386) / sizeof(deny_i386[0]),
	.nr_clone = __NR_clone,
	.nr_clone3 = __NR_clone3,
};
#endif
