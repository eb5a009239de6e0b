// SPDX-License-Identifier: GPL-2.0-only
/* ctpool: small utilities (messages, sizes, files, exec). */
#include "ctpool.h"
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void vmessage(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "ctpool: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Each wrapper must own its va_list: a va_list cannot be passed as "...". */
#define DEFINE_MESSAGE(name, prefix, enabled)	\
	void name(const char *fmt, ...)			\
	{						\
		va_list ap;				\
		if (enabled) {				\
			va_start(ap, fmt);		\
			vmessage(prefix, fmt, ap);	\
			va_end(ap);			\
		}					\
	}

DEFINE_MESSAGE(err, "error: ", 1)
DEFINE_MESSAGE(warnx_, "warning: ", 1)
DEFINE_MESSAGE(info, "", !G.quiet)
DEFINE_MESSAGE(dbg, "debug: ", G.verbose)

int is_help(const char *a)
{
	return !strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "help");
}

int run_subcmd(const char *cmd, const struct subcmd *t, int (*usage)(FILE *f), int argc,
	       char **argv)
{
	if (argc < 2)
		return usage(stderr);
	/* the subcommand gets argv[0] = its name */
	argc--;
	argv++;
	if (is_help(argv[0]))
		return usage(stdout);
	for (; t->name; t++)
		if (!strcmp(argv[0], t->name) || (t->alias && !strcmp(argv[0], t->alias)))
			return t->fn(argc, argv);
	err("unknown %s command '%s'", cmd, argv[0]);
	return usage(stderr);
}

int cli_reject(const struct cli *c, int opt, const char *who, int (*usage)(FILE *f))
{
	if (opt == 'h')
		return usage(stdout);
	if (who)
		err("%s: bad argument '%s'", who, c->arg);
	return usage(stderr);
}

/*
 * The decimal number s starts with (a digit first: no sign, no blanks);
 * *end is what follows it. -1 if there is none or it does not fit.
 */
static int parse_leading_u64(const char *s, uint64_t *out, char **end)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, end, 10);
	if (errno)
		return -1;
	*out = v;
	return 0;
}

int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	uint64_t v;
	if (parse_leading_u64(s, &v, &end) || *end)
		return -1;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	uint64_t v;
	if (parse_leading_u64(s, &v, &end))
		return -1;
	/* bytes, 512-byte sectors, then KiB to TiB */
	static const char units[] = "bskmgt";
	static const uint64_t muls[] = { 1, 512, 1ull << 10, 1ull << 20, 1ull << 30, 1ull << 40 };
	uint64_t mul = 1;
	if (*end) {
		const char *u = strchr(units, tolower((unsigned char)*end));
		if (!u)
			return -1;
		mul = muls[u - units];
		end++;
		/* accept K, KB, KiB, k */
		if (!strcasecmp(end, "ib") || !strcasecmp(end, "b"))
			end += strlen(end);
		if (*end)
			return -1;
	}
	if (mul > 1 && v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

const char *fmt_size(uint64_t b, char *buf, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;
	double d = (double)b;
	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%lluB", (unsigned long long)b);
	else
		snprintf(buf, len, "%.1f%s", d, u[i]);
	return buf;
}

int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > NAME_MAX_LEN || s[0] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (!(isalnum(c) || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, mode) && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -1;
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *sl = strrchr(dir, '/');
	if (!sl)
		strcpy(dir, ".");
	else if (sl == dir)
		dir[1] = 0;
	else
		*sl = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

/* write + fsync + rename + fsync(dir): the file is either old or new after a crash. */
int write_file_atomic(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += w;
	}
	if (fsync(fd))
		goto fail;
	close(fd);
	if (rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	fsync_dir_of(path);
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return -1;
}

int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	int e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	return 0;
}

/*
 * Allocation for what the command cannot go on without (a list of names that
 * must be complete): out of memory, say so and exit, as a crash would; the
 * state store is crash-safe and the next command recovers.
 */
static void *oom_check(void *p)
{
	if (!p) {
		err("out of memory");
		exit(EXIT_ERR);
	}
	return p;
}

void *xrealloc(void *p, size_t size)
{
	return oom_check(realloc(p, size ? size : 1));
}

void *xcalloc(size_t n, size_t size)
{
	return oom_check(calloc(n ? n : 1, size ? size : 1));
}

char *xstrdup(const char *s)
{
	return oom_check(strdup(s));
}

char *xstrndup(const char *s, size_t n)
{
	return oom_check(strndup(s, n));
}

char *read_file(const char *path, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (buf && len == cap) {
			cap *= 2;
			char *bigger = realloc(buf, cap + 1);
			if (!bigger)
				free(buf);
			buf = bigger;
		}
		if (!buf) {
			close(fd);
			errno = ENOMEM;
			return NULL;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		len += r;
	}
	close(fd);
	buf[len] = 0;
	if (lenp)
		*lenp = len;
	return buf;
}

/*
 * Start argv with its stdout on out (-1: ours), and with quiet its output
 * and errors on /dev/null: the child's pid, -1 if it cannot fork.
 */
static pid_t spawn(const char *const argv[], int out, int quiet)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (quiet) {
		int fd = open("/dev/null", O_WRONLY | O_CLOEXEC); /* dup2 clears it on 1 and 2 */
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
	}
	if (out >= 0)
		dup2(out, 1);
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "ctpool: error: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* The exit status of child pid, 128+N if signal N killed it; -1 if it cannot be had. */
static int wait_status(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

int run_cmd(const char *const argv[], int quiet)
{
	if (G.verbose) {
		fputs("ctpool: debug: exec:", stderr);
		for (int i = 0; argv[i]; i++)
			fprintf(stderr, " %s", argv[i]);
		fputc('\n', stderr);
	}
	pid_t pid = spawn(argv, -1, quiet);
	return pid < 0 ? -1 : wait_status(pid);
}

int have_prog(const char *name)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/sbin:/usr/bin:/sbin:/bin";
	char *dup = xstrdup(path), *save = NULL;
	int found = 0;
	for (char *d = strtok_r(dup, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", d, name);
		if (access(p, X_OK) == 0) {
			found = 1;
			break;
		}
	}
	free(dup);
	return found;
}

/*
 * Fault injection for crash-safety tests: CTPOOL_CRASH_AT=<point> makes the
 * process _exit(99) at that point, without any cleanup, as if it was killed.
 */
void crash_point(const char *name)
{
	const char *c = getenv("CTPOOL_CRASH_AT");
	if (c && !strcmp(c, name)) {
		fprintf(stderr, "ctpool: CTPOOL_CRASH_AT=%s: simulating a crash\n", name);
		_exit(99);
	}
}

/*
 * Tests: CTPOOL_SIGNAL_AT=NAME sends this process SIGTERM at the point
 * NAME, as a user's kill would arrive there (a blocked signal waits).
 */
void signal_point(const char *name)
{
	const char *c = getenv("CTPOOL_SIGNAL_AT");
	if (c && !strcmp(c, name))
		kill(getpid(), SIGTERM);
}

/* Run argv, capture its stdout (malloc'd, NUL terminated); returns exit status. */
int run_capture(const char *const argv[], char **out)
{
	int pfd[2];
	*out = NULL;
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid_t pid = spawn(argv, pfd[1], 0);
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return -1;
	}
	size_t cap = 4096, len = 0;
	char *buf = xrealloc(NULL, cap + 1);
	for (;;) {
		if (len == cap)
			buf = xrealloc(buf, (cap *= 2) + 1);
		ssize_t r = read(pfd[0], buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += r;
	}
	buf[len] = 0;
	close(pfd[0]);
	int st = wait_status(pid);
	if (st < 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	return st;
}
