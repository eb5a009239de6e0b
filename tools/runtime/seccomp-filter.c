// SPDX-License-Identifier: GPL-2.0-only
/*
 * The seccomp profile (seccomp-profile.c) turned into filters with
 * libseccomp, as runc and crun do, for every ABI a process of this build can
 * enter the kernel through.
 *
 * Two filters are loaded:
 *  1. the profile: what it allows is allowed, the rest fails with EPERM, as
 *     in docker's profile (defaultErrnoRet 1);
 *  2. a guard for system calls newer than the profile: every number above
 *     the highest one the profile names (in that ABI) fails with ENOSYS, as
 *     runc answers for them. A program probing a newer call (clone3,
 *     faccessat2 once were) then falls back to the older one instead of
 *     failing on EPERM, and a call the profile has never reviewed is still
 *     refused. The kernel runs both filters; for two errors the filter
 *     loaded last gives the errno, so the guard's ENOSYS wins above the
 *     profile's range and the profile decides below it.
 *
 * ABIs: on x86_64, the native one and i386 (int 0x80 reaches the i386 table
 * from a 64-bit process: without its own rules every denied call would be
 * one instruction away). x32 is refused entirely, as is any ABI the filter
 * does not know: docker's profile allows x32, but nothing here runs x32
 * binaries and Debian's kernel leaves it disabled.
 */
#include "seccomp-profile.h"
#include "common/ctpool.h"

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>

#if !defined(__x86_64__) && !defined(__aarch64__)
/* e.g. s390 passes clone's flags second: the profile's clone rule would test the wrong one */
#error "seccomp-filter.c: check this architecture's clone() argument order and its compat ABIs"
#endif

/* An ABI not in the filter (x32 included): refused without running anything. */
#define BAD_ARCH_ACTION SCMP_ACT_ERRNO(EPERM)

static const uint32_t abis[] = {
	SCMP_ARCH_NATIVE,
#if defined(__x86_64__)
	SCMP_ARCH_X86,
#endif
};

static int has_cap(uint64_t caps, int cap)
{
	return cap >= 0 && cap < 64 && (caps >> cap & 1);
}

static int is_native(uint32_t arch)
{
	return arch == SCMP_ARCH_NATIVE || arch == seccomp_arch_native();
}

static int rule_applies(const struct sc_rule *r, uint32_t arch, uint64_t caps)
{
	if (r->native_only && !is_native(arch))
		return 0;
	if (r->with_cap >= 0 && !has_cap(caps, r->with_cap))
		return 0;
	if (r->without_cap >= 0 && has_cap(caps, r->without_cap))
		return 0;
	return 1;
}

/*
 * The name's number in arch, or -1 when that ABI has no such call, libseccomp
 * does not know it, or it exists only behind i386's socketcall/ipc.
 */
static int nr_in(uint32_t arch, const char *name)
{
	int nr = seccomp_syscall_resolve_name_arch(arch, name);
	return nr < 0 ? -1 : nr;
}

/*
 * Add a rule for name to ctx (which covers only arch). libseccomp takes the
 * native number and maps it to arch by name; a call arch lacks gets no rule
 * there, and i386's socket and IPC calls get one for the direct call and
 * one for the socketcall/ipc multiplexer. A name this libseccomp does not
 * know (newer than it) is skipped: that call stays refused.
 */
static int add(scmp_filter_ctx ctx, const char *name, uint32_t action, unsigned int n,
	       const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0;
	int r = seccomp_rule_add_array(ctx, action, nr, n, cmp);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

/* a test of argument 0 (SCMP_A0_64() leaves datum_b to -Wmissing-field-initializers) */
static struct scmp_arg_cmp arg0(enum scmp_compare op, uint64_t a, uint64_t b)
{
	return (struct scmp_arg_cmp){ .arg = 0, .op = op, .datum_a = a, .datum_b = b };
}

/*
 * Argument 0 in [lo, hi], compared on all 64 bits: as aligned power-of-two
 * blocks, each one masked-equal test (libseccomp allows one test per
 * argument and rule, so a range is several rules).
 */
static int add_arg0_range(scmp_filter_ctx ctx, const char *name, uint32_t action, uint64_t lo,
			  uint64_t hi)
{
	uint64_t v = lo;
	for (;;) {
		uint64_t size = v ? v & -v : UINT64_C(1) << 63; /* the largest block aligned at v */
		while (size > 1 && size - 1 > hi - v)
			size >>= 1;
		struct scmp_arg_cmp cmp = arg0(SCMP_CMP_MASKED_EQ, ~(size - 1), v);
		if (add(ctx, name, action, 1, &cmp))
			return -1;
		if (size - 1 >= hi - v)
			return 0;
		v += size;
	}
}

static int add_rule(scmp_filter_ctx ctx, const struct sc_rule *r)
{
	uint32_t action = r->err ? SCMP_ACT_ERRNO((uint32_t)r->err) : SCMP_ACT_ALLOW;
	struct scmp_arg_cmp cmp;
	switch (r->arg0) {
	case SC_ARG0_ANY:
		return add(ctx, r->name, action, 0, NULL);
	case SC_ARG0_EQ:
		cmp = arg0(SCMP_CMP_EQ, r->lo, 0);
		return add(ctx, r->name, action, 1, &cmp);
	case SC_ARG0_CLEAR:
		cmp = arg0(SCMP_CMP_MASKED_EQ, r->lo, 0);
		return add(ctx, r->name, action, 1, &cmp);
	case SC_ARG0_IN:
		return add_arg0_range(ctx, r->name, action, r->lo, r->hi);
	}
	errno = EINVAL;
	return -1;
}

/* A context for one ABI: libseccomp starts with the native one, swap it if needed. */
static scmp_filter_ctx new_ctx(uint32_t arch, uint32_t def_action)
{
	scmp_filter_ctx ctx = seccomp_init(def_action);
	if (!ctx)
		return NULL;
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, BAD_ARCH_ACTION);
	/* a binary search over the numbers, not one comparison after another */
	if (!r)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (!r && !is_native(arch)) {
		r = seccomp_arch_add(ctx, arch);
		if (!r)
			r = seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE);
	}
	if (r) {
		seccomp_release(ctx);
		errno = -r;
		return NULL;
	}
	return ctx;
}

static int profile_abi(scmp_filter_ctx ctx, uint32_t arch, uint64_t caps)
{
	for (size_t i = 0; i < sc_n_allowed; i++)
		if (add(ctx, sc_allowed[i], SCMP_ACT_ALLOW, 0, NULL))
			return -1;
	for (size_t i = 0; i < sc_n_rules; i++)
		if (rule_applies(&sc_rules[i], arch, caps) && add_rule(ctx, &sc_rules[i]))
			return -1;
	return 0;
}

/* The highest number, in arch, of a call the profile names. */
static int profile_max_nr(uint32_t arch)
{
	int max = -1;
	for (size_t i = 0; i < sc_n_allowed; i++)
		if (nr_in(arch, sc_allowed[i]) > max)
			max = nr_in(arch, sc_allowed[i]);
	for (size_t i = 0; i < sc_n_rules; i++)
		if (nr_in(arch, sc_rules[i].name) > max)
			max = nr_in(arch, sc_rules[i].name);
	return max;
}

/* The guard: every call up to the profile's highest number passes on to the profile. */
static int guard_abi(scmp_filter_ctx ctx, uint32_t arch)
{
	int max = profile_max_nr(arch);
	for (int nr = 0; nr <= max; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(arch, nr);
		if (!name)
			continue; /* no call has this number: ENOSYS, as from the kernel */
		int r = add(ctx, name, SCMP_ACT_ALLOW, 0, NULL);
		free(name);
		if (r)
			return -1;
	}
	return 0;
}

typedef int fill_fn(scmp_filter_ctx ctx, uint32_t arch, uint64_t caps);

/* The filter for one ABI, or NULL with errno set. */
static scmp_filter_ctx build_abi(uint32_t arch, uint32_t def_action, uint64_t caps, fill_fn *fill)
{
	scmp_filter_ctx ctx = new_ctx(arch, def_action);
	if (ctx && fill(ctx, arch, caps)) {
		int e = errno;
		seccomp_release(ctx);
		errno = e;
		return NULL;
	}
	return ctx;
}

/*
 * One filter over every ABI: built per ABI (rules go by name, and a context
 * holding one ABI maps each name to that ABI's number), then merged.
 */
static scmp_filter_ctx build(uint32_t def_action, uint64_t caps, fill_fn *fill)
{
	scmp_filter_ctx all = build_abi(abis[0], def_action, caps, fill);
	for (size_t i = 1; all && i < ARRAY_SIZE(abis); i++) {
		scmp_filter_ctx ctx = build_abi(abis[i], def_action, caps, fill);
		int r = ctx ? seccomp_merge(all, ctx) : -errno; /* merging releases ctx */
		if (r) {
			if (ctx)
				seccomp_release(ctx);
			seccomp_release(all);
			errno = -r;
			return NULL;
		}
	}
	return all;
}

static int fill_guard(scmp_filter_ctx ctx, uint32_t arch, uint64_t caps)
{
	(void)caps;
	return guard_abi(ctx, arch);
}

static int load(scmp_filter_ctx ctx)
{
	if (!ctx)
		return -1;
	/* no_new_privs is the caller's job (confine_process), and it is done first */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r) {
		errno = -r;
		return -1;
	}
	return 0;
}

int seccomp_load_profile(uint64_t caps)
{
	if (load(build(SCMP_ACT_ERRNO(EPERM), caps, profile_abi)))
		return -1;
	return load(build(SCMP_ACT_ERRNO(ENOSYS), caps, fill_guard));
}
