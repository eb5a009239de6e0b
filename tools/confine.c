/*
 * Container confinement, as runc applies docker's defaults: drop capabilities,
 * set no_new_privs, install a seccomp filter, and attach a cgroup v2 device
 * filter. Raw prctl/seccomp/bpf system calls: no library dependency.
 */
#include "confine.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
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

/* ---------------------------------------------------------------- seccomp */

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#define X32_SYSCALL_BIT 0x40000000u
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "confine.c: add this architecture's AUDIT_ARCH_ and check its clone() flags argument"
#endif

/* clone() flags that create namespaces: docker refuses them without CAP_SYS_ADMIN */
#define CLONE_NS_FLAGS                                                                          \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
	 CLONE_NEWCGROUP)

/* <linux/filter.h>'s BPF_STMT/BPF_JUMP are initializers: make them values */
#define STMT(code, k) ((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define RET_ERRNO(e) STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (e))
#define RET_ALLOW STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define LOAD(field) STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)offsetof(struct seccomp_data, field))
/* the low 32 bits of argument 0 (all supported ABIs are little-endian) */
#define LOAD_ARG0_LO STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)offsetof(struct seccomp_data, args[0]))

static const int deny_native[] = {
#include "seccomp-deny.inc"
};

static const struct seccomp_abi seccomp_abi_native = {
	.deny = deny_native,
	.n_deny = sizeof(deny_native) / sizeof(deny_native[0]),
	.nr_clone = __NR_clone,
	.nr_clone3 = __NR_clone3,
};

#define FILTER_MAX 512

struct filter {
	struct sock_filter insn[FILTER_MAX];
	int n;
};

static void emit(struct filter *f, struct sock_filter insn)
{
	if (f->n < FILTER_MAX)
		f->insn[f->n] = insn;
	f->n++; /* an overflow is caught by the caller */
}

/*
 * The rules for one ABI, entered with the syscall number loaded: clone with
 * namespace flags and the deny list get EPERM, clone3 ENOSYS (its flags are
 * in memory, out of a filter's reach, so libc falls back to clone), the rest
 * is allowed. Ends in a return.
 */
static void emit_abi(struct filter *f, const struct seccomp_abi *abi, int x32_possible)
{
	emit(f, LOAD(nr));
#ifdef X32_SYSCALL_BIT
	if (x32_possible) {
		emit(f, JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1));
		emit(f, RET_ERRNO(EPERM));
	}
#else
	(void)x32_possible;
#endif
	emit(f, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)abi->nr_clone, 0, 4));
	emit(f, LOAD_ARG0_LO);
	emit(f, JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NS_FLAGS, 0, 1));
	emit(f, RET_ERRNO(EPERM));
	emit(f, RET_ALLOW);
	emit(f, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)abi->nr_clone3, 0, 1));
	emit(f, RET_ERRNO(ENOSYS));
	for (size_t i = 0; i < abi->n_deny; i++) {
		emit(f, JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)abi->deny[i], 0, 1));
		emit(f, RET_ERRNO(EPERM));
	}
	emit(f, RET_ALLOW);
}

/* "if arch == ARCH: the ABI's rules" (the rules are skipped with one 8-bit jump) */
static int emit_arch(struct filter *f, uint32_t arch, const struct seccomp_abi *abi, int x32_possible)
{
	int jump = f->n;
	emit(f, JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, 0));
	emit_abi(f, abi, x32_possible);
	int len = f->n - jump - 1;
	if (len > 255 || f->n > FILTER_MAX) {
		errno = E2BIG;
		return -1;
	}
	f->insn[jump].jf = (uint8_t)len;
	return 0;
}

/*
 * Check the arch field first: the same number means another syscall in
 * another ABI. An ABI the filter does not know is killed, never allowed.
 */
static int install_seccomp(void)
{
	static struct filter f;
	f.n = 0;
	emit(&f, LOAD(arch));
	if (emit_arch(&f, NATIVE_ARCH, &seccomp_abi_native, 1))
		return -1;
#if defined(__x86_64__)
	if (emit_arch(&f, AUDIT_ARCH_I386, &seccomp_abi_i386, 0))
		return -1;
#endif
	emit(&f, STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	if (f.n > FILTER_MAX) {
		errno = E2BIG;
		return -1;
	}
	struct sock_fprog prog = { .len = (unsigned short)f.n, .filter = f.insn };
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
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
	return install_seccomp();
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
	for (size_t i = 0; i < sizeof(default_allow) / sizeof(default_allow[0]); i++)
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
