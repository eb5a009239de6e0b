// SPDX-License-Identifier: GPL-2.0-only
/*
 * The seccomp profile: docker's default profile (moby's
 * profiles/seccomp/default.json) restated as C data, grouped by what the
 * calls are for. Semantics follow docker's: a call not allowed here is
 * refused; some are allowed only with a capability (docker grants the
 * container CONFINE_CAPS, so of those only chroot applies, but the table
 * keeps them all so a wider capability set would follow docker too); clone,
 * socket and personality are allowed only with some first arguments.
 *
 * Names, not numbers: libseccomp maps each name to its number in every ABI
 * the filter covers, and a name an ABI lacks (chown32 natively, arch_prctl
 * on i386 before 4.12...) is simply not there.
 */
#include "seccomp-profile.h"
#include "common/ctpool.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/socket.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

const char *const sc_allowed[] = {
	/* files and directories: paths, descriptors, metadata */
	"access", "faccessat", "faccessat2", "chdir", "fchdir", "getcwd", "umask",
	"open", "openat", "openat2", "creat", "close", "close_range",
	"dup", "dup2", "dup3", "fcntl", "fcntl64", "flock",
	"stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "fstatat64", "newfstatat",
	"statx", "statfs", "statfs64", "fstatfs", "fstatfs64", "statmount", "listmount",
	"chmod", "fchmod", "fchmodat", "fchmodat2",
	"chown", "chown32", "fchown", "fchown32", "fchownat", "lchown", "lchown32",
	"link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat",
	"rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "mknod", "mknodat",
	"readlink", "readlinkat", "getdents", "getdents64",
	"truncate", "truncate64", "ftruncate", "ftruncate64", "fallocate",
	"utime", "utimes", "utimensat", "utimensat_time64", "futimesat",
	"fadvise64", "fadvise64_64", "readahead",
	"fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
	/* encoding a handle is harmless; opening one needs CAP_DAC_READ_SEARCH, below */
	"name_to_handle_at",
	/* extended attributes */
	"getxattr", "lgetxattr", "fgetxattr", "getxattrat",
	"setxattr", "lsetxattr", "fsetxattr", "setxattrat",
	"listxattr", "llistxattr", "flistxattr", "listxattrat",
	"removexattr", "lremovexattr", "fremovexattr", "removexattrat",
	/* reading, writing, moving data between descriptors */
	"read", "readv", "pread64", "preadv", "preadv2",
	"write", "writev", "pwrite64", "pwritev", "pwritev2",
	"lseek", "_llseek", "sendfile", "sendfile64", "splice", "tee", "vmsplice",
	"copy_file_range", "pipe", "pipe2", "ioctl",
	/* waiting for descriptors, and descriptors that deliver events */
	"poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64",
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait",
	"epoll_wait_old", "epoll_pwait", "epoll_pwait2",
	"eventfd", "eventfd2", "signalfd", "signalfd4",
	"inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
	"fanotify_mark", "memfd_create", "memfd_secret",
	"timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
	"timerfd_settime64",
	/* asynchronous I/O (not io_uring: docker leaves it out) and I/O priority */
	"io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
	"io_pgetevents_time64", "ioprio_get", "ioprio_set",
	/* memory (not the NUMA policy calls: those need CAP_SYS_NICE, below) */
	"brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
	"mlock", "mlock2", "mlockall", "munlock", "munlockall", "remap_file_pages",
	"membarrier", "pkey_alloc", "pkey_free", "pkey_mprotect", "mseal", "map_shadow_stack",
	"cachestat",
	/* processes and threads (clone and clone3 are conditional, below) */
	"fork", "vfork", "execve", "execveat", "exit", "exit_group",
	"wait4", "waitid", "waitpid", "kill", "tkill", "tgkill",
	"getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
	"set_tid_address", "set_robust_list", "get_robust_list", "rseq", "restart_syscall",
	"futex", "futex_time64", "futex_wait", "futex_wake", "futex_waitv", "futex_requeue",
	"pidfd_open", "pidfd_send_signal", "process_mrelease",
	"prctl", "capget", "capset", "seccomp",
	"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
	"set_thread_area", "get_thread_area", "modify_ldt", "uretprobe",
	/*
	 * Docker allows these from kernel 4.8 on, where seccomp is checked again
	 * after a tracer changed the syscall; confine_devices() needs 4.15.
	 */
	"ptrace", "process_vm_readv", "process_vm_writev",
	/* signals */
	"rt_sigaction", "rt_sigprocmask", "rt_sigpending", "rt_sigsuspend", "rt_sigtimedwait",
	"rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "rt_sigreturn",
	"sigaltstack", "sigprocmask", "sigreturn", "pause", "alarm",
	/* clocks and timers: reading; adjtimex changes the clock only with CAP_SYS_TIME */
	"clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
	"clock_nanosleep", "clock_nanosleep_time64", "clock_adjtime", "clock_adjtime64",
	"adjtimex", "gettimeofday", "time", "times", "nanosleep", "getitimer", "setitimer",
	"timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
	"timer_settime", "timer_settime64",
	/* scheduling and resource limits */
	"sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr",
	"sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler",
	"sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
	"sched_rr_get_interval_time64", "getpriority", "setpriority", "getcpu",
	"getrlimit", "ugetrlimit", "setrlimit", "prlimit64", "getrusage",
	/* user and group identity */
	"getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid",
	"getegid32", "getresuid", "getresuid32", "getresgid", "getresgid32",
	"getgroups", "getgroups32", "setgroups", "setgroups32",
	"setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid",
	"setregid32", "setresuid", "setresuid32", "setresgid", "setresgid32",
	"setfsuid", "setfsuid32", "setfsgid", "setfsgid32",
	/*
	 * sockets (socket itself is conditional, below). i386's socketcall
	 * multiplexer passes its arguments in memory, out of a filter's reach;
	 * docker allows it because 32-bit libcs still create sockets through it.
	 */
	"socketpair", "bind", "connect", "listen", "accept", "accept4",
	"getsockname", "getpeername", "getsockopt", "setsockopt", "shutdown",
	"send", "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg",
	"recvmmsg_time64", "socketcall",
	/* System V and POSIX IPC (namespaced) */
	"ipc", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop",
	"semtimedop_time64", "semctl", "shmget", "shmat", "shmdt", "shmctl",
	"mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive",
	"mq_timedreceive_time64", "mq_notify", "mq_getsetattr",
	/* the system, read-only */
	"uname", "sysinfo", "getrandom",
};
const size_t sc_n_allowed = ARRAY_SIZE(sc_allowed);

/* Allowed with capability c only: the kernel checks it too, the filter is a second wall. */
#define WITH_CAP(n, c) { .name = n, .with_cap = c, .without_cap = -1 }
#define ARG0_EQ(n, v) { .name = n, .with_cap = -1, .without_cap = -1, .arg0 = SC_ARG0_EQ, .lo = v }
#define ARG0_IN(n, l, h) \
	{ .name = n, .with_cap = -1, .without_cap = -1, .arg0 = SC_ARG0_IN, .lo = l, .hi = h }

/* clone() flags creating namespaces (docker's mask 0x7e020000) */
#define CLONE_NEW_ANY 0x7e020000ULL

/* personality(2) values docker allows: PER_LINUX, PER_LINUX32, their UNAME26 forms, the query */
#define PER_LINUX_ 0x0000ULL
#define PER_LINUX32_ 0x0008ULL
#define UNAME26_ 0x0020000ULL
#define PER_QUERY 0xffffffffULL

const struct sc_rule sc_rules[] = {
	/*
	 * Without CAP_SYS_ADMIN, no new namespaces: a root process could make a
	 * user namespace and hold every capability inside it. clone's flags
	 * are an argument the filter can see; clone3's are in memory, so
	 * clone3 fails with ENOSYS and libc falls back to clone.
	 */
	{ .name = "clone", .with_cap = -1, .without_cap = CAP_SYS_ADMIN,
	  .arg0 = SC_ARG0_CLEAR, .lo = CLONE_NEW_ANY },
	{ .name = "clone3", .with_cap = -1, .without_cap = CAP_SYS_ADMIN, .err = ENOSYS },
	WITH_CAP("clone", CAP_SYS_ADMIN),
	WITH_CAP("clone3", CAP_SYS_ADMIN),
	WITH_CAP("unshare", CAP_SYS_ADMIN),
	WITH_CAP("setns", CAP_SYS_ADMIN),
	/* mounts, new and old API */
	WITH_CAP("mount", CAP_SYS_ADMIN),
	WITH_CAP("umount", CAP_SYS_ADMIN),
	WITH_CAP("umount2", CAP_SYS_ADMIN),
	WITH_CAP("fsopen", CAP_SYS_ADMIN),
	WITH_CAP("fsconfig", CAP_SYS_ADMIN),
	WITH_CAP("fsmount", CAP_SYS_ADMIN),
	WITH_CAP("fspick", CAP_SYS_ADMIN),
	WITH_CAP("move_mount", CAP_SYS_ADMIN),
	WITH_CAP("open_tree", CAP_SYS_ADMIN),
	WITH_CAP("mount_setattr", CAP_SYS_ADMIN),
	WITH_CAP("quotactl", CAP_SYS_ADMIN),
	WITH_CAP("quotactl_fd", CAP_SYS_ADMIN),
	/* kernel interfaces that are not namespaced */
	WITH_CAP("bpf", CAP_SYS_ADMIN),
	WITH_CAP("bpf", CAP_BPF),
	WITH_CAP("perf_event_open", CAP_SYS_ADMIN),
	WITH_CAP("perf_event_open", CAP_PERFMON),
	WITH_CAP("fanotify_init", CAP_SYS_ADMIN),
	WITH_CAP("lookup_dcookie", CAP_SYS_ADMIN),
	WITH_CAP("syslog", CAP_SYS_ADMIN),
	WITH_CAP("syslog", CAP_SYSLOG),
	WITH_CAP("sethostname", CAP_SYS_ADMIN),
	WITH_CAP("setdomainname", CAP_SYS_ADMIN),
	WITH_CAP("lsm_get_self_attr", CAP_SYS_ADMIN),
	WITH_CAP("lsm_set_self_attr", CAP_SYS_ADMIN),
	WITH_CAP("lsm_list_modules", CAP_SYS_ADMIN),
	/* one capability each */
	WITH_CAP("chroot", CAP_SYS_CHROOT),
	WITH_CAP("reboot", CAP_SYS_BOOT),
	WITH_CAP("init_module", CAP_SYS_MODULE),
	WITH_CAP("finit_module", CAP_SYS_MODULE),
	WITH_CAP("delete_module", CAP_SYS_MODULE),
	WITH_CAP("acct", CAP_SYS_PACCT),
	WITH_CAP("iopl", CAP_SYS_RAWIO),
	WITH_CAP("ioperm", CAP_SYS_RAWIO),
	WITH_CAP("settimeofday", CAP_SYS_TIME),
	WITH_CAP("stime", CAP_SYS_TIME),
	WITH_CAP("clock_settime", CAP_SYS_TIME),
	WITH_CAP("clock_settime64", CAP_SYS_TIME),
	WITH_CAP("vhangup", CAP_SYS_TTY_CONFIG),
	WITH_CAP("open_by_handle_at", CAP_DAC_READ_SEARCH),
	/* another process's descriptors and memory */
	WITH_CAP("kcmp", CAP_SYS_PTRACE),
	WITH_CAP("pidfd_getfd", CAP_SYS_PTRACE),
	WITH_CAP("process_madvise", CAP_SYS_PTRACE),
	/* x86_64's thread-pointer and CPUID controls; i386 has had them since 4.12, docker leaves them out */
	{ .name = "arch_prctl", .with_cap = -1, .without_cap = -1, .native_only = 1 },
	/* NUMA memory policy */
	WITH_CAP("get_mempolicy", CAP_SYS_NICE),
	WITH_CAP("set_mempolicy", CAP_SYS_NICE),
	WITH_CAP("set_mempolicy_home_node", CAP_SYS_NICE),
	WITH_CAP("mbind", CAP_SYS_NICE),
	/*
	 * Every address family but AF_ALG (kernel crypto) and AF_VSOCK (the
	 * hypervisor's sockets). The kernel uses only the low 32 bits of the
	 * argument: ranges over the whole register, so 0x100000028 (AF_VSOCK
	 * with garbage above) matches none of them, where "greater than 40"
	 * would let it through.
	 */
	ARG0_IN("socket", 0, AF_ALG - 1),
	ARG0_IN("socket", AF_ALG + 1, AF_VSOCK - 1),
	ARG0_IN("socket", AF_VSOCK + 1, 0xffffffffULL),
	/* execution domains: only plain Linux (and 32-bit uname); no READ_IMPLIES_EXEC */
	ARG0_EQ("personality", PER_LINUX_),
	ARG0_EQ("personality", PER_LINUX32_),
	ARG0_EQ("personality", UNAME26_ | PER_LINUX_),
	ARG0_EQ("personality", UNAME26_ | PER_LINUX32_),
	ARG0_EQ("personality", PER_QUERY),
};
const size_t sc_n_rules = ARRAY_SIZE(sc_rules);
