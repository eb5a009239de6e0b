// SPDX-License-Identifier: GPL-2.0-only
/*
 * A container's standard descriptors, and the caller's terminal out of its
 * reach (issue 12, finding 3).
 *
 * A process holding a descriptor of the caller's terminal can type into it
 * with TIOCSTI (Linux 6.1 has no switch against it; the kernel asks for
 * CAP_SYS_ADMIN only when the terminal is not the caller's controlling one,
 * and --privileged keeps CAP_SYS_ADMIN), change its modes, or, left behind in
 * the background, read what the user types next into the host shell. A
 * regular file or directory on 0-2 is no better: /proc/self/fd/N reopens the
 * host file with any mode, or walks out of the root from the directory.
 *
 * So the container never gets a descriptor of the caller's terminal, files
 * or directories: only pipes and sockets pass as they are (reopening one
 * through /proc gives the same pipe, or nothing). Anything else is replaced
 * by a pipe that the caller-side ctpool relays; a terminal on stdin becomes
 * an empty pipe (end of file at once), as `docker run` without -i does, so a
 * ctpool left in the background never reads from the terminal. With -t the
 * container gets a pty of its own, allocated here (posix_openpt), as its
 * controlling terminal; we put the caller's terminal in raw mode and relay
 * both ways, passing window size changes on.
 *
 * And the container's processes get a session of their own (setsid): a
 * `kill -KILL 0` in the container then reaches its own process group only,
 * never the caller's shell and ctpool.
 */
#include "console.h"
#include "common/ctpool.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Descriptors 0-2 the caller closed become /dev/null, so no pipe of ours lands there. */
static int stdio_fill(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int n = open("/dev/null", O_RDWR); /* becomes fd 0-2: not close-on-exec */
		if (n != fd) {
			err("cannot open /dev/null for descriptor %d: %s", fd, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void add_pump(struct console *c, int from, int to, int close_to)
{
	struct pump *p = &c->pumps[c->npumps++];
	p->from = from;
	p->to = to;
	p->close_to = close_to;
	p->open = 1;
	p->len = p->off = 0;
}

static void copy_winsize(int master)
{
	struct winsize ws;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

static int open_pty(struct console *c)
{
	char name[128];
	c->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (c->master < 0 || grantpt(c->master) || unlockpt(c->master) ||
	    ptsname_r(c->master, name, sizeof(name))) {
		err("cannot allocate a terminal (-t): %s", strerror(errno));
		return -1;
	}
	int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		err("cannot open the terminal %s: %s", name, strerror(errno));
		return -1;
	}
	copy_winsize(c->master);
	/* ours, so non-blocking is ours to set: a full pty must not stall the relay */
	fcntl(c->master, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 3; i++)
		c->child[i] = slave;
	c->ours[0] = slave;
	add_pump(c, STDIN_FILENO, c->master, 0);
	add_pump(c, c->master, STDOUT_FILENO, 0);
	return 0;
}

static int passable(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* Descriptor fd (0-2) for the container: passed on, or a pipe relayed by us. */
static int plain_stdio(struct console *c, int fd)
{
	int p[2];
	if (passable(fd)) {
		c->child[fd] = fd;
		return 0;
	}
	if (pipe2(p, O_CLOEXEC)) {
		err("pipe: %s", strerror(errno));
		return -1;
	}
	if (fd != STDIN_FILENO) {
		c->child[fd] = c->ours[fd] = p[1];
		add_pump(c, p[0], fd, 0);
	} else if (isatty(fd)) {
		c->child[fd] = c->ours[fd] = p[0];
		close(p[1]); /* nothing to read: end of file */
	} else {
		c->child[fd] = c->ours[fd] = p[0];
		fcntl(p[1], F_SETFL, O_NONBLOCK);
		add_pump(c, fd, p[1], 1);
	}
	return 0;
}

int console_open(struct console *c, int tty)
{
	memset(c, 0, sizeof(*c));
	c->tty = tty;
	c->master = -1;
	for (int i = 0; i < 3; i++)
		c->child[i] = c->ours[i] = -1;
	if (stdio_fill())
		return -1;
	if (tty)
		return open_pty(c);
	for (int fd = 0; fd <= 2; fd++)
		if (plain_stdio(c, fd))
			return -1;
	return 0;
}

int console_adopt(const struct console *c)
{
	for (int fd = 0; fd <= 2; fd++)
		if (c->child[fd] != fd && dup2(c->child[fd], fd) < 0)
			return -1;
	return 0;
}

int console_session(int tty)
{
	if (setsid() < 0)
		return -1;
	return tty ? ioctl(STDIN_FILENO, TIOCSCTTY, 0) : 0;
}

void console_child_started(struct console *c)
{
	for (int i = 0; i < 3; i++)
		if (c->ours[i] >= 0) {
			close(c->ours[i]);
			c->ours[i] = -1;
		}
}

static volatile sig_atomic_t g_winch;
static void on_winch(int sig)
{
	g_winch = 1;
}

static void raw_mode(struct console *c)
{
	struct termios t;
	if (!c->tty || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &c->saved))
		return;
	t = c->saved;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
		c->raw = 1;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, NULL);
}

static void pump_end(struct pump *p)
{
	p->open = 0;
	p->len = 0;
	if (p->close_to && p->to >= 0) {
		close(p->to);
		p->to = -1;
	}
}

/* Write what p holds; 0 done or waiting for room, -1 the reader is gone. */
static int pump_flush(struct pump *p)
{
	while (p->off < p->len) {
		ssize_t w = write(p->to, p->buf + p->off, p->len - p->off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w <= 0) {
			pump_end(p);
			return -1;
		}
		p->off += (size_t)w;
	}
	p->len = p->off = 0;
	return 0;
}

static void pump_read(struct pump *p)
{
	ssize_t n = read(p->from, p->buf, sizeof(p->buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) { /* end of file, or EIO: the pty has no slave left */
		pump_end(p);
		return;
	}
	p->len = (size_t)n;
	p->off = 0;
	pump_flush(p);
}

/* The container is gone: pass on what its output pipes and pty still hold. */
static void drain(struct console *c)
{
	for (int i = 0; i < c->npumps; i++) {
		struct pump *p = &c->pumps[i];
		if (p->to != STDOUT_FILENO && p->to != STDERR_FILENO)
			continue;
		/* a process left in the background may hold the write end: stop at "empty" */
		fcntl(p->from, F_SETFL, O_NONBLOCK);
		while (p->open) {
			pump_flush(p);
			if (!p->open || p->len)
				break;
			ssize_t n = read(p->from, p->buf, sizeof(p->buf));
			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				break;
			}
			p->len = (size_t)n;
			p->off = 0;
		}
	}
}

static int relay_loop(struct console *c, int pidfd)
{
	for (;;) {
		struct pollfd pf[4];
		struct pump *who[4];
		int n = 0;
		pf[n].fd = pidfd;
		pf[n].events = POLLIN;
		who[n++] = NULL;
		for (int i = 0; i < c->npumps; i++) {
			struct pump *p = &c->pumps[i];
			if (!p->open)
				continue;
			pf[n].fd = p->len ? p->to : p->from;
			pf[n].events = p->len ? POLLOUT : POLLIN;
			who[n++] = p;
		}
		if (g_winch) {
			g_winch = 0;
			copy_winsize(c->master);
		}
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			err("poll: %s", strerror(errno));
			return -1;
		}
		for (int i = 1; i < n; i++) {
			if (!pf[i].revents)
				continue;
			if (who[i]->len)
				pump_flush(who[i]);
			else
				pump_read(who[i]);
		}
		if (pf[0].revents)
			return 0;
	}
}

int console_relay(struct console *c, pid_t pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		err("pidfd_open: %s", strerror(errno));
		return -1;
	}
	/* a container closing its end must not kill us with SIGPIPE (the child is forked already) */
	signal(SIGPIPE, SIG_IGN);
	raw_mode(c);
	int r = relay_loop(c, pidfd);
	if (r == 0)
		drain(c);
	close(pidfd);
	if (c->raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &c->saved);
	for (int i = 0; i < c->npumps; i++) {
		struct pump *p = &c->pumps[i];
		if (p->from > STDERR_FILENO)
			close(p->from);
		if (p->to > STDERR_FILENO)
			close(p->to);
	}
	if (c->master >= 0)
		close(c->master);
	return r;
}
