// SPDX-License-Identifier: GPL-2.0-only
/*
 * Container confinement, as runc applies docker's defaults: drop capabilities,
 * set no_new_privs, install the seccomp profile (seccomp-filter.c, with
 * libseccomp), and attach a cgroup v2 device filter (a small BPF program
 * loaded with bpf(2)).
 */
#include "confine.h"
#include "seccomp-profile.h"
#include "common/ctpool.h"

#include <errno.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---------------------------------------------------------------- capabilities */

static int drop_capabilities(uint64_t keep)
{
	/* PR_CAPBSET_DROP fails with EINVAL past the kernel's last capability */
	for (int cap = 0; cap < 64; cap++) {
		if (keep >> cap & 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)) {
			if (errno == EINVAL)
				break;
			return -1;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
		return -1;
	/* inheritable stays empty, as in docker since CVE-2022-24769 */
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {
		{ .effective = (uint32_t)keep, .permitted = (uint32_t)keep },
		{ .effective = (uint32_t)(keep >> 32), .permitted = (uint32_t)(keep >> 32) },
	};
	return (int)syscall(SYS_capset, &hdr, data);
}

int confine_process(const char **what)
{
	*what = "dropping capabilities";
	if (drop_capabilities(CONFINE_CAPS))
		return -1;
	*what = "setting no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	/* last: with no_new_privs set, installing a filter needs no capability */
	*what = "installing the seccomp filter";
	return seccomp_load_profile(CONFINE_CAPS);
}

/* ---------------------------------------------------------------- device cgroup */

#define DEV_ANY UINT32_MAX
#define ACC_RWM (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

struct dev_allow {
	uint32_t type; /* BPF_DEVCG_DEV_BLOCK/CHAR */
	uint32_t major, minor, access;
};

/* runc's AllowedDevices (what docker uses by default) */
static const struct dev_allow default_allow[] = {
	{ BPF_DEVCG_DEV_CHAR, DEV_ANY, DEV_ANY, BPF_DEVCG_ACC_MKNOD },
	{ BPF_DEVCG_DEV_BLOCK, DEV_ANY, DEV_ANY, BPF_DEVCG_ACC_MKNOD },
	{ BPF_DEVCG_DEV_CHAR, 1, 3, ACC_RWM },	     /* null */
	{ BPF_DEVCG_DEV_CHAR, 1, 5, ACC_RWM },	     /* zero */
	{ BPF_DEVCG_DEV_CHAR, 1, 7, ACC_RWM },	     /* full */
	{ BPF_DEVCG_DEV_CHAR, 1, 8, ACC_RWM },	     /* random */
	{ BPF_DEVCG_DEV_CHAR, 1, 9, ACC_RWM },	     /* urandom */
	{ BPF_DEVCG_DEV_CHAR, 5, 0, ACC_RWM },	     /* tty */
	{ BPF_DEVCG_DEV_CHAR, 5, 1, ACC_RWM },	     /* console */
	{ BPF_DEVCG_DEV_CHAR, 5, 2, ACC_RWM },	     /* ptmx */
	{ BPF_DEVCG_DEV_CHAR, 136, DEV_ANY, ACC_RWM }, /* pts */
};

#define DEVPROG_MAX 512

struct devprog {
	struct bpf_insn insn[DEVPROG_MAX];
	int n;
};

static void put(struct devprog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n < DEVPROG_MAX)
		p->insn[p->n] = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off,
						   .imm = imm };
	p->n++;
}

/* "if (r<reg> != imm) goto end": end is where the rule's block ends */
static void jne_to(struct devprog *p, uint8_t reg, uint32_t imm, int end)
{
	put(p, BPF_JMP | BPF_JNE | BPF_K, reg, 0, (int16_t)(end - p->n - 1), (int32_t)imm);
}

/*
 * One rule, with r2 = type, r3 = access, r4 = major, r5 = minor: when it
 * matches (the requested access is a subset of the allowed one), return 1.
 */
static void emit_rule(struct devprog *p, const struct dev_allow *r)
{
	int end = p->n + 1 + 3 + (r->major != DEV_ANY) + (r->minor != DEV_ANY) + 2;
	jne_to(p, BPF_REG_2, r->type, end);
	put(p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
	put(p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t)~r->access);
	jne_to(p, BPF_REG_1, 0, end);
	if (r->major != DEV_ANY)
		jne_to(p, BPF_REG_4, r->major, end);
	if (r->minor != DEV_ANY)
		jne_to(p, BPF_REG_5, r->minor, end);
	put(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
	put(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static int build_devprog(struct devprog *p, const struct dev_rule *blocks, int n)
{
	p->n = 0;
	/* struct bpf_cgroup_dev_ctx: access_type = access << 16 | type, major, minor */
	put(p, BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0);
	put(p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
	put(p, BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 0, 0);
	put(p, BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
	put(p, BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0);
	put(p, BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0);
	for (size_t i = 0; i < ARRAY_SIZE(default_allow); i++)
		emit_rule(p, &default_allow[i]);
	for (int i = 0; i < n; i++) {
		struct dev_allow r = { BPF_DEVCG_DEV_BLOCK, blocks[i].major, blocks[i].minor, ACC_RWM };
		emit_rule(p, &r);
	}
	put(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0); /* anything else: denied */
	put(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (p->n > DEVPROG_MAX) {
		errno = E2BIG;
		return -1;
	}
	return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int confine_devices(int cgfd, const struct dev_rule *blocks, int n)
{
	static struct devprog p;
	if (build_devprog(&p, blocks, n))
		return -1;
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)p.insn;
	attr.insn_cnt = (uint32_t)p.n;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	int prog = sys_bpf(BPF_PROG_LOAD, &attr);
	if (prog < 0)
		return -1;
	/*
	 * No BPF_F_ALLOW_MULTI: a single program per cgroup, which a second
	 * attach replaces in one step (hot-plug), and which the container's own
	 * sub-cgroups cannot override.
	 */
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgfd;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	int r = sys_bpf(BPF_PROG_ATTACH, &attr);
	int e = errno;
	close(prog); /* the attachment holds its own reference */
	errno = e;
	return r;
}
