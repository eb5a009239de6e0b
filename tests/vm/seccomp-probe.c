/*
 * Run inside a container by tests/vm/runtime-escape-seccomp.sh (built
 * static, copied into the image): makes the system calls docker's default
 * seccomp profile refuses and that a denylist let through (issue 12), plus
 * a few that must keep working, and prints one line per call:
 * "<probe> ok" or "<probe> <errno name>" (EPERM, ENOSYS...). The test
 * decides what is right; this program only reports.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define READ_IMPLIES_EXEC_ 0x0400000L
#define PER_QUERY 0xffffffffL
#define NR_OPEN_TREE_ATTR 467 /* Linux 6.15: newer than the profile */

static void report(const char *probe, long r, int err)
{
	if (r >= 0)
		printf("%s ok\n", probe);
	else
		printf("%s %s\n", probe, strerrorname_np(err) ? strerrorname_np(err) : "?");
}

/* a native system call; a descriptor it returns is closed again */
static void probe(const char *name, long r)
{
	report(name, r, errno);
}

static void probe_fd(const char *name, long r)
{
	probe(name, r);
	if (r >= 0)
		close((int)r);
}

/* clone with flags: a child that got created leaves at once */
static long clone_flags(unsigned long flags)
{
	long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

/* unshare in a child, so a success does not change what the later probes see */
static long unshare_in_child(unsigned long flags)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(syscall(SYS_unshare, flags) ? errno & 0xff : 0);
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
		errno = ECHILD;
		return -1;
	}
	errno = WEXITSTATUS(st);
	return errno ? -1 : 0;
}

#if defined(__x86_64__)
/* the i386 entry from this 64-bit process: returns -errno */
static long int80(long nr, long a, long b, long c)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}

static void probe_i386(const char *name, long nr, long a, long b, long c)
{
	long r = int80(nr, a, b, c);
	if (r == 0 && nr == 120) /* a clone child */
		_exit(0);
	if (r > 0 && nr == 120)
		waitpid((pid_t)r, NULL, 0);
	if (r >= 0 && nr == 359)
		close((int)r);
	report(name, r < 0 && r > -4096 ? -1 : r, r < 0 && r > -4096 ? (int)-r : 0);
}
#endif

static void *thread_fn(void *arg)
{
	return arg;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	probe("personality-read-implies-exec", syscall(SYS_personality, READ_IMPLIES_EXEC_));
	syscall(SYS_personality, 0L); /* back to plain Linux, in case it was allowed */
	probe("personality-query", syscall(SYS_personality, PER_QUERY));
	probe_fd("socket-vsock", syscall(SYS_socket, (long)AF_VSOCK, (long)SOCK_STREAM, 0L));
	probe_fd("socket-vsock-high-bits",
		 syscall(SYS_socket, 0x100000000L | AF_VSOCK, (long)SOCK_STREAM, 0L));
	probe_fd("socket-inet", syscall(SYS_socket, (long)AF_INET, (long)SOCK_DGRAM, 0L));
	probe("set_mempolicy", syscall(SYS_set_mempolicy, 0L, NULL, 0L));
	probe("mbind", syscall(SYS_mbind, NULL, 0L, 0L, NULL, 0L, 0L));
	probe("move_pages", syscall(SYS_move_pages, 0L, 0L, NULL, NULL, NULL, 0L));
	/* on descriptor 0 of itself: a real attempt, which only seccomp can refuse with EPERM */
	long pidfd = syscall(SYS_pidfd_open, (long)getpid(), 0L);
	probe_fd("pidfd_getfd", syscall(SYS_pidfd_getfd, pidfd, 0L, 0L));
	probe("process_madvise", syscall(SYS_process_madvise, pidfd, NULL, 0L, 0L, 0L));
	if (pidfd >= 0)
		close((int)pidfd);
	probe_fd("open_tree_attr", syscall(NR_OPEN_TREE_ATTR, -1L, NULL, 0L, NULL, 0L));
	probe("clone-newuser", clone_flags(CLONE_NEWUSER));
	probe("clone-newuts", clone_flags(CLONE_NEWUTS));
	probe("clone3", syscall(SYS_clone3, NULL, 0L));
	probe("unshare-newuser", unshare_in_child(CLONE_NEWUSER));
	pthread_t t;
	int e = pthread_create(&t, NULL, thread_fn, NULL);
	report("pthread_create", e ? -1 : 0, e);
	if (!e)
		pthread_join(t, NULL);
	probe("fork", clone_flags(0));
#if defined(__x86_64__)
	probe_i386("i386-personality-read-implies-exec", 136, READ_IMPLIES_EXEC_, 0, 0);
	int80(136, 0, 0, 0);
	probe_i386("i386-socket-vsock", 359, AF_VSOCK, SOCK_STREAM, 0);
	probe_i386("i386-socket-inet", 359, AF_INET, SOCK_DGRAM, 0);
	probe_i386("i386-set_mempolicy", 276, 0, 0, 0);
	probe_i386("i386-clone-newuser", 120, CLONE_NEWUSER | SIGCHLD, 0, 0);
	probe_i386("i386-clone-newuts", 120, CLONE_NEWUTS | SIGCHLD, 0, 0);
	probe_i386("i386-clone3", 435, 0, 0, 0);
#endif
	return 0;
}
