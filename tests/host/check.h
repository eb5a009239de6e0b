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
#include <stdio.h>
#include <string.h>

static int passed, failed;

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

#endif
