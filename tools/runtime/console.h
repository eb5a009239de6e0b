/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The standard descriptors of a container's process, and the caller's
 * terminal kept out of its reach (console.c).
 */
#ifndef CTPOOL_CONSOLE_H
#define CTPOOL_CONSOLE_H

#include <sys/types.h>
#include <termios.h>

struct pump {
	int from, to;
	int close_to; /* `to` is ours (the container's stdin pipe): close it at EOF */
	int open;     /* `from` may still give data */
	size_t len, off;
	char buf[16384];
};

struct console {
	int tty;         /* -t: the container gets a new pty */
	int master;      /* -t: our end of it, else -1 */
	int child[3];    /* what the container gets as its fds 0, 1, 2 */
	int ours[3];     /* descriptors to close in the parent once the child has them */
	int npumps;
	struct pump pumps[3];
	int raw;         /* the caller's terminal is in raw mode: restore saved */
	struct termios saved;
};

/*
 * Before the container's first process exists: with tty, a new pty (the
 * container's controlling terminal); without, the caller's 0-2 passed on
 * only if they are pipes or sockets, anything else (a terminal, a file, a
 * directory) replaced by a pipe we relay, a terminal on stdin by an empty
 * one. Returns 0, or -1 (reported).
 */
int console_open(struct console *c, int tty);

/* In the child: make c's descriptors its 0, 1, 2. Returns 0 or -1 (errno). */
int console_adopt(const struct console *c);

/*
 * In the process that will exec the container's command: a session of its
 * own, and with tty the pty on fd 0 as its controlling terminal.
 */
int console_session(int tty);

/* In the parent, once the child holds its ends: close ours of them. */
void console_child_started(struct console *c);

/*
 * In the parent: relay between the caller and the container until the
 * process pid exits, then pass on what it left and restore the caller's
 * terminal. Does not reap pid. Returns 0, or -1 (reported).
 */
int console_relay(struct console *c, pid_t pid);

#endif
