/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Counting checks for the host tests that run without cmocka (they fork,
 * confine themselves, or call the tools' code directly): a failed CHECK
 * prints its condition, with errno, and the test goes on; the test ends by
 * printing "N passed, N failed" from these counters, the line
 * tests/run-all.sh reads.
 */
#ifndef CTPOOL_TEST_CHECK_H
#define CTPOOL_TEST_CHECK_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int passed, failed;
static int check_report_fd; /* in check_in_child's child: its end of the pipe */

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (cond)                                                              \
			passed++;                                                      \
		else {                                                                 \
			failed++;                                                      \
			fprintf(stderr, "FAIL %s:%d: %s (errno %s)\n", __FILE__,       \
				__LINE__, #cond, strerror(errno));                     \
		}                                                                      \
	} while (0)

/*
 * Run fn in a child, for checks that change the process (confinement, fds,
 * sessions) or may kill it. fn returns its number of failed checks; the
 * child's counts come back through a pipe and add to ours. A child that dies
 * before reporting (killed by a seccomp filter, say) is one more failure.
 * With what, prints "ok - what" or "not ok - what".
 */
static inline void check_in_child(const char *what, int (*fn)(void))
{
	int p[2], counts[2] = { 0, 0 };
	if (pipe2(p, O_CLOEXEC)) {
		failed++;
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		check_report_fd = p[1];
		passed = failed = 0;
		int failures = fn();
		counts[0] = passed;
		counts[1] = failed;
		fflush(stdout); /* _exit() does not flush what the checks printed */
		_exit(write(p[1], counts, sizeof(counts)) == sizeof(counts) && !failures ? 0 : 1);
	}
	close(p[1]);
	ssize_t n = pid < 0 ? -1 : read(p[0], counts, sizeof(counts));
	close(p[0]);
	int st = 0;
	if (pid > 0)
		waitpid(pid, &st, 0);
	if (n != sizeof(counts) || !WIFEXITED(st) || (WEXITSTATUS(st) && !counts[1])) {
		counts[1]++;
		fprintf(stderr, "FAIL: a test child died before reporting (status 0x%x)\n", st);
	}
	passed += counts[0];
	failed += counts[1];
	if (what)
		printf("%s - %s (%d checks)\n", counts[1] ? "not ok" : "ok", what,
		       counts[0] + counts[1]);
}

#endif
