/*
 * Host test of what a process entering a container starts from
 * (tools/runtime/: sealed-exe.c, fds.c, console.c), each case in a forked
 * child: the executable is a sealed memfd copy after sealed_exe_ensure()
 * (unwritable, not the file on disk); close_fds_except() leaves exactly
 * 0-2 and the kept descriptors; the container's stdio is never a terminal,
 * file or directory of the caller's (relayed pipes, an empty stdin), pipes
 * pass as they are; a new session has no controlling terminal, and -t gives
 * a new pty as the controlling one, relayed to the caller.
 */
#include "common/ctpool.h"
#include "runtime/console.h"
#include "runtime/fds.h"
#include "runtime/sealed-exe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

struct global G;
static int is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static int test_close_fds(void)
{
	int a = open("/", O_RDONLY | O_DIRECTORY), b = open("/", O_RDONLY), c = dup(b);
	int d = fcntl(c, F_DUPFD, 300);
	int keep[] = { c, 0, check_report_fd };
	CHECK(a > 2 && b > 2 && c > 2 && d >= 300);
	CHECK(close_fds_except(keep, 3) == 0);
	CHECK(!is_open(a) && !is_open(b) && is_open(c) && !is_open(d));
	CHECK(is_open(0) && is_open(1) && is_open(2));
	CHECK(close_fds_except(&check_report_fd, 1) == 0 && !is_open(c));
	return 0;
}

/* The sealed copy: run again from it (argv[1] = "sealed"), report on fd 1. */
static char **g_argv;
static int test_sealed_exe(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		char *args[] = { g_argv[0], "sealed", NULL };
		execv(g_argv[0], args);
		_exit(127);
	}
	close(p[1]);
	char out[512] = "";
	ssize_t n = read(p[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = 0;
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(!strcmp(out, "exe=/memfd:ctpool (deleted) write=refused comm=ctpool\n"));
	if (strcmp(out, "exe=/memfd:ctpool (deleted) write=refused comm=ctpool\n"))
		fprintf(stderr, "sealed child said: %s\n", out);
	return 0;
}

/* In the re-executed test binary: what does /proc/self/exe look like? */
static int sealed_probe(char **argv)
{
	if (sealed_exe_ensure(argv))
		return 1;
	char exe[256] = "", comm[32] = "";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	int fd = open("/proc/self/exe", O_WRONLY | O_APPEND);
	int wrote = fd >= 0 && write(fd, "x", 1) == 1;
	int cfd = open("/proc/self/comm", O_RDONLY);
	n = cfd < 0 ? 0 : read(cfd, comm, sizeof(comm) - 1);
	comm[n > 0 ? n - 1 : 0] = 0;
	printf("exe=%s write=%s comm=%s\n", exe, wrote ? "done" : "refused", comm);
	return 0;
}

/* fd 1 a regular file: the child gets a pipe; what it writes reaches the file. */
static int test_file_stdout(void)
{
	char path[] = "/tmp/entry-test.XXXXXX";
	int f = mkstemp(path);
	unlink(path);
	CHECK(f >= 0 && dup2(f, 1) == 1);
	struct console c;
	CHECK(console_open(&c, 0) == 0);
	struct stat st;
	CHECK(fstat(c.child[1], &st) == 0 && S_ISFIFO(st.st_mode) && c.child[1] != 1);
	pid_t pid = fork();
	if (pid == 0) {
		console_adopt(&c);
		_exit(write(1, "hello\n", 6) == 6 ? 0 : 1);
	}
	console_child_started(&c);
	CHECK(console_relay(&c, pid) == 0);
	waitpid(pid, NULL, 0);
	char buf[16] = "";
	CHECK(pread(f, buf, sizeof(buf) - 1, 0) == 6 && !strcmp(buf, "hello\n"));
	return 0;
}

/* A pipe passes as it is; a directory on stdin is replaced. */
static int test_pipe_passes(void)
{
	int p[2];
	CHECK(pipe(p) == 0 && dup2(p[1], 2) == 2);
	int d = open("/", O_RDONLY | O_DIRECTORY);
	CHECK(dup2(d, 0) == 0);
	struct console c;
	CHECK(console_open(&c, 0) == 0);
	CHECK(c.child[2] == 2);
	struct stat st;
	CHECK(c.child[0] != 0 && fstat(c.child[0], &st) == 0 && S_ISFIFO(st.st_mode));
	return 0;
}

/* A terminal on 0-2 never reaches the child: empty stdin, relayed output. */
static int test_tty_replaced(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0);
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	CHECK(s >= 0 && dup2(s, 0) == 0 && dup2(s, 1) == 1);
	struct console c;
	CHECK(console_open(&c, 0) == 0);
	CHECK(!isatty(c.child[0]) && !isatty(c.child[1]));
	char x;
	fcntl(c.child[0], F_SETFL, O_NONBLOCK); /* a terminal here must fail the check, not hang */
	CHECK(read(c.child[0], &x, 1) == 0);    /* end of file at once */
	return 0;
}

/* A session of its own: no controlling terminal, so /dev/tty does not open. */
static int test_session(void)
{
	CHECK(console_session(0) == 0);
	CHECK(getsid(0) == getpid() && getpgrp() == getpid());
	errno = 0;
	CHECK(open("/dev/tty", O_RDWR) < 0 && errno == ENXIO);
	return 0;
}

/* -t: the child's 0-2 are a new pty, its controlling terminal; output relayed. */
static int test_pty(void)
{
	int p[2];
	CHECK(pipe(p) == 0 && dup2(p[1], 1) == 1);
	close(p[1]);
	struct console c;
	CHECK(console_open(&c, 1) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		int ok = console_adopt(&c) == 0 && console_session(1) == 0 && isatty(0) &&
			 tcgetsid(0) == getpid();
		_exit(write(1, ok ? "tty\n" : "no\n", ok ? 4 : 3) > 0 && ok ? 0 : 1);
	}
	console_child_started(&c);
	CHECK(console_relay(&c, pid) == 0);
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	dup2(2, 1);
	char buf[16] = "";
	CHECK(read(p[0], buf, sizeof(buf) - 1) > 0 && !strcmp(buf, "tty\r\n"));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "sealed"))
		return sealed_probe(argv);
	g_argv = argv;
	G.quiet = 1;
	check_in_child(NULL, test_close_fds);
	check_in_child(NULL, test_sealed_exe);
	check_in_child(NULL, test_file_stdout);
	check_in_child(NULL, test_pipe_passes);
	check_in_child(NULL, test_session);
	if (access("/dev/ptmx", R_OK | W_OK) == 0) {
		check_in_child(NULL, test_tty_replaced);
		check_in_child(NULL, test_pty);
	} else
		printf("# skipped the terminal checks: no /dev/ptmx\n");
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
