/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The seccomp profile of a confined container, as data: which system calls
 * it may make and on which conditions (seccomp-profile.c), and the builder
 * that turns it into a libseccomp filter for the container's capability set
 * (seccomp-filter.c).
 */
#ifndef CTPOOL_SECCOMP_PROFILE_H
#define CTPOOL_SECCOMP_PROFILE_H

#include <stddef.h>
#include <stdint.h>

/* How a rule looks at the system call's first argument. */
enum sc_arg0 {
	SC_ARG0_ANY,	/* not at all */
	SC_ARG0_EQ,	/* equal to lo, all 64 bits */
	SC_ARG0_IN,	/* in [lo, hi], all 64 bits (so high garbage never matches) */
	SC_ARG0_CLEAR,	/* none of the bits in lo set */
};

/*
 * One rule. It applies when the container has capability with_cap (if >= 0)
 * and lacks without_cap (if >= 0); a system call no applying rule allows is
 * refused (seccomp-filter.c says with which errno). Several rules for one
 * name are alternatives: any one that matches decides.
 */
struct sc_rule {
	const char *name;
	int with_cap, without_cap;
	int err;		/* 0: allow; else fail with this errno */
	enum sc_arg0 arg0;
	uint64_t lo, hi;
	int native_only;	/* not for a compat ABI (i386 on x86_64) */
};

/* System calls every confined container may make, whatever the arguments. */
extern const char *const sc_allowed[];
extern const size_t sc_n_allowed;

/* The conditional rules: on capabilities, on argument 0. */
extern const struct sc_rule sc_rules[];
extern const size_t sc_n_rules;

/*
 * Load the filter for a process whose capability set is caps (bit n =
 * capability n) into the calling process. Returns 0, or -1 with errno set.
 */
int seccomp_load_profile(uint64_t caps);

#endif
