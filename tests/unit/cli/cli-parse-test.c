/*
 * Host tests of ctpool's parsers and state store (no device-mapper needed):
 * common/cli.h, the getopt_long loop every command parses its arguments
 * with, and the ctpool binary's commands parsing theirs (each run with an
 * empty state dir: a usage error exits 2 before anything is looked up, a
 * command line that parses fails later, exit 1, finding no pool or
 * container).
 */
#include "common/cli.h"
#include "common/ctpool.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

struct global G;

static void test_pool_status(void)
{
	struct pool_status ps;
	CHECK(parse_pool_status("5 1649/16384 64/8192 - rw discard_passdown queue_if_no_space - 1024 ",
				&ps) == 0);
	CHECK(ps.txid == 5 && ps.meta_used == 1649 && ps.meta_total == 16384);
	CHECK(ps.data_used == 64 && ps.data_total == 8192);
	CHECK(!strcmp(ps.held_root, "-") && !strcmp(ps.mode, "rw"));
	CHECK(!strcmp(ps.discard, "discard_passdown") && !strcmp(ps.no_space, "queue_if_no_space"));
	CHECK(!ps.needs_check && ps.meta_low_water == 1024 && !ps.fail);

	CHECK(parse_pool_status("18446744073709551615 10/20 30/40 17 out_of_data_space "
				"no_discard_passdown error_if_no_space needs_check 7",
				&ps) == 0);
	CHECK(ps.txid == UINT64_MAX && !strcmp(ps.held_root, "17"));
	CHECK(!strcmp(ps.mode, "out_of_data_space") && ps.needs_check);
	CHECK(!strcmp(ps.no_space, "error_if_no_space") && ps.meta_low_water == 7);

	CHECK(parse_pool_status("Fail", &ps) == 0 && ps.fail && !strcmp(ps.mode, "fail"));
	CHECK(parse_pool_status("Error", &ps) == 0 && ps.fail);
	CHECK(parse_pool_status("garbage", &ps) == -1);
	CHECK(parse_pool_status("1 2/3", &ps) == -1);
}

static void test_thin_status(void)
{
	uint64_t m;
	int64_t h;
	CHECK(parse_thin_status("8192 65535", &m, &h) == 0 && m == 8192 && h == 65535);
	CHECK(parse_thin_status("0 -", &m, &h) == 0 && m == 0 && h == -1);
	CHECK(parse_thin_status("Fail", &m, &h) == -1);
}

static void test_sizes(void)
{
	uint64_t v;
	CHECK(parse_size("64k", &v) == 0 && v == 65536);
	CHECK(parse_size("64KiB", &v) == 0 && v == 65536);
	CHECK(parse_size("256M", &v) == 0 && v == 256ull << 20);
	CHECK(parse_size("1g", &v) == 0 && v == 1ull << 30);
	CHECK(parse_size("2T", &v) == 0 && v == 2ull << 40);
	CHECK(parse_size("8s", &v) == 0 && v == 4096);
	CHECK(parse_size("123", &v) == 0 && v == 123);
	CHECK(parse_size("", &v) == -1 && parse_size("-1", &v) == -1 && parse_size("1x", &v) == -1);
	CHECK(parse_size("99999999999999999999", &v) == -1);
	CHECK(parse_size("17179869184G", &v) == -1); /* overflow */
	CHECK(parse_u64("42", &v) == 0 && v == 42 && parse_u64("4 2", &v) == -1);
	char b[32];
	CHECK(!strcmp(fmt_size(65536, b, sizeof(b)), "64.0KiB"));
	CHECK(!strcmp(fmt_size(100, b, sizeof(b)), "100B"));
}

static void test_names(void)
{
	CHECK(valid_name("web-1.db_2"));
	CHECK(!valid_name("") && !valid_name("a/b") && !valid_name("..") && !valid_name(".x"));
	CHECK(!valid_name("-rf") && !valid_name("a b") && !valid_name("a=b"));
	char l[NAME_MAX_LEN + 2];
	memset(l, 'a', sizeof(l) - 1);
	l[sizeof(l) - 1] = 0;
	CHECK(!valid_name(l));
}

static void test_store(void)
{
	char dir[] = "/tmp/ctpool-host-test.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	G.state_dir = dir;
	int lock = lock_state();
	CHECK(lock >= 0);

	struct kv kv, back;
	kv_init(&kv);
	kv_set(&kv, "name", "vol1");
	kv_setu(&kv, "id", 7);
	kv_set(&kv, "path", "a=b=c");
	kv_set(&kv, "name", "vol1b"); /* replace */
	CHECK(vol_save(&kv, "vol1") == 0);
	CHECK(vol_exists("vol1"));
	CHECK(vol_load(&back, "vol1") == 0);
	CHECK(!strcmp(kv_get(&back, "name"), "vol1b") && kv_get_u64(&back, "id", 0) == 7);
	CHECK(!strcmp(kv_get(&back, "path"), "a=b=c"));
	CHECK(kv_get_u64(&back, "missing", 99) == 99);
	kv_del(&back, "id");
	CHECK(kv_get(&back, "id") == NULL && back.n == 2);
	kv_free(&back);
	CHECK(vol_load(&back, "../etc") == -1); /* names are validated */

	kv_set(&kv, "id", "8");
	CHECK(vol_save(&kv, "vol2") == 0);
	int n;
	char **names = vol_list_names(&n);
	CHECK(n == 2 && !strcmp(names[0], "vol1") && !strcmp(names[1], "vol2"));
	free_names(names, n);
	/* no temp files left by atomic writes */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls %s/volumes | grep tmp)\"", dir);
	CHECK(system(cmd) == 0);
	CHECK(vol_remove_record("vol1") == 0 && !vol_exists("vol1"));
	CHECK(vol_remove_record("vol1") == 0); /* idempotent */
	kv_free(&kv);

	/* the default pool is the only one */
	char def[NAME_MAX_LEN + 1];
	G.quiet = 1;
	CHECK(pool_default_name(def, sizeof(def)) == -1);
	snprintf(cmd, sizeof(cmd), "printf 'name=p1\\n#end\\n' > %s/pools/p1.conf", dir);
	CHECK(system(cmd) == 0);
	CHECK(pool_default_name(def, sizeof(def)) == 0 && !strcmp(def, "p1"));
	snprintf(cmd, sizeof(cmd), "printf 'name=p2\\n#end\\n' > %s/pools/p2.conf", dir);
	CHECK(system(cmd) == 0);
	CHECK(pool_default_name(def, sizeof(def)) == -1);
	struct pool p;
	CHECK(pool_load(&p, "p2") == 0 && !strcmp(pool_pool_target(&p), "ctpool"));
	CHECK(!strcmp(pool_thin_target(&p), "ctthin") && pool_block_sectors(&p) == 128);
	kv_free(&p.kv);
	unlock_state(lock);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

/* ---- common/cli.h ---- */

enum { T_SIZE = 256, T_POOL, T_FLAG };

static const struct option t_options[] = {
	{ "size", required_argument, NULL, T_SIZE },
	{ "pool", required_argument, NULL, T_POOL },
	{ "flag", no_argument, NULL, T_FLAG },
	{ "tty", no_argument, NULL, 't' },
	CLI_HELP_OPTION,
	{ NULL, 0, NULL, 0 },
};

#define T_ARGV(...) (char *[]){ "cmd", __VA_ARGS__, NULL }
#define T_ARGC(v) ((int)(sizeof(v) / sizeof(char *)) - 1)

/*
 * Parse argv into a trace: "o:size=1G", "a:NAME", "?:ELEMENT", "h", "t",
 * "f", one a line, then "rest:..." (CLI_COMMAND) or "end".
 */
static void trace(char *out, size_t len, int argc, char **argv, const char *optstring, int flags)
{
	struct cli cl;
	int opt;
	size_t n = 0;
	out[0] = 0;
#define T_ADD(...) (n += snprintf(out + n, n < len ? len - n : 0, __VA_ARGS__))
	cli_init(&cl, argc, argv, optstring, t_options, flags);
	while ((opt = cli_next(&cl)) != -1) {
		switch (opt) {
		case T_SIZE:
			T_ADD("o:size=%s\n", optarg);
			break;
		case T_POOL:
			T_ADD("o:pool=%s\n", optarg);
			break;
		case T_FLAG:
			T_ADD("f\n");
			break;
		case 't':
		case 'h':
			T_ADD("%c\n", opt);
			break;
		case CLI_ARG:
			T_ADD("a:%s\n", cl.arg);
			break;
		default:
			T_ADD("%c:%s\n", opt, cl.arg);
		}
		if (n > 200) /* a loop that never ends */
			break;
	}
	if (flags & CLI_COMMAND) {
		T_ADD("rest:");
		for (char **r = cl.rest; r && *r; r++)
			T_ADD(" %s", *r);
		T_ADD("\n");
	}
	T_ADD("end");
#undef T_ADD
}

#define T_TRACE(want, flags, optstring, ...)                                      \
	do {                                                                      \
		char *v_[] = { "cmd", __VA_ARGS__, NULL };                        \
		char *copy_[T_ARGC(v_) + 1];                                      \
		char got_[512];                                                   \
		memcpy(copy_, v_, sizeof(v_));                                    \
		trace(got_, sizeof(got_), T_ARGC(v_), v_, optstring, flags);      \
		CHECK(!strcmp(got_, want));                                       \
		if (strcmp(got_, want))                                           \
			fprintf(stderr, "  got:\n%s\n  want:\n%s\n", got_, want); \
		/* never permuted: what follows "--" is the caller's as given */  \
		CHECK(!memcmp(copy_, v_, sizeof(v_)));                            \
	} while (0)

static void test_cli(void)
{
	/* in the order given; both spellings of a value; options after arguments */
	T_TRACE("a:n\no:size=1G\no:pool=p\na:m\nf\nend", CLI_STRICT, "-h",
		"n", "--size", "1G", "--pool=p", "m", "--flag");
	/* an unambiguous prefix; a value that starts with '-' or is "help" */
	T_TRACE("o:size=1G\no:pool=-x\no:pool=help\no:pool=--\nend", CLI_STRICT, "-h",
		"--si", "1G", "--pool", "-x", "--pool=help", "--pool", "--");
	/* unknown, missing or unwanted values: named as given */
	T_TRACE("?:--bogus\n?:-x\n?:--flag=1\n?:--size\nend", CLI_STRICT, "-h",
		"--bogus", "-x", "--flag=1", "--size");
	/* a bad letter in a cluster: the whole element, as the old loops said */
	T_TRACE("t\n?:-tx\nend", CLI_STRICT, "-ht", "-tx");
	/* CLI_STRICT: "help" anywhere an argument stands, "-" and "--" bad */
	T_TRACE("a:n\nh\n?:-\n?:--\no:size=1\nend", CLI_STRICT, "-h",
		"n", "help", "-", "--", "--size", "1");
	T_TRACE("h\nh\nend", CLI_STRICT, "-h", "--help", "-h");
	/* CLI_COMMAND: nothing after "--" is parsed, all of it is the command */
	T_TRACE("a:c\nt\nrest: ls --bogus -t -- help\nend", CLI_STRICT | CLI_COMMAND, "-ht",
		"c", "-t", "--", "ls", "--bogus", "-t", "--", "help");
	T_TRACE("a:c\nrest:\nend", CLI_STRICT | CLI_COMMAND, "-ht", "c", "--");
	T_TRACE("a:c\na:ls\nrest:\nend", CLI_STRICT | CLI_COMMAND, "-ht", "c", "ls");
	/* meta's (no flags): after "--" everything is an argument, "-" too */
	T_TRACE("a:-\na:help\na:--size\na:-x\nend", 0, "-", "-", "help", "--", "--size", "-x");

	/* a second parse in the same process starts afresh */
	char *v[] = { "cmd", "-tt", "a", NULL };
	char got[256];
	for (int i = 0; i < 2; i++) {
		trace(got, sizeof(got), 3, v, "-ht", CLI_STRICT);
		CHECK(!strcmp(got, "t\nt\na:a\nend"));
	}

	/* cli_take: the next free slot, -1 once all are taken */
	char *w[] = { "cmd", "x", "y", "z", NULL };
	const char *slots[2] = { NULL, NULL };
	struct cli cl;
	cli_init(&cl, 4, w, "-", t_options, 0);
	CHECK(cli_next(&cl) == CLI_ARG && cli_take(&cl, slots, 2) == 0 && !strcmp(slots[0], "x"));
	CHECK(cli_next(&cl) == CLI_ARG && cli_take(&cl, slots, 2) == 0 && !strcmp(slots[1], "y"));
	CHECK(cli_next(&cl) == CLI_ARG && cli_take(&cl, slots, 2) == -1 && !strcmp(slots[1], "y"));
	CHECK(cli_next(&cl) == -1);
}

/* ---- the ctpool binary's commands ---- */

static char state_dir[] = "/tmp/ctpool-cli-test.XXXXXX";

/*
 * Run ctpool --state-dir DIR ARGS... (NULL-terminated); its exit status, and
 * what it wrote on stdout and stderr into out and errs.
 */
static int run_ctpool(char *out, char *errs, size_t len, ...)
{
	char *argv[40] = { CTPOOL_BIN, "--state-dir", state_dir };
	int argc = 3;
	va_list ap;
	va_start(ap, len);
	while (argc < 39 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;

	int po[2], pe[2];
	if (pipe(po) || pipe(pe))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	/* usage texts are short: read stdout, then stderr, to their ends */
	ssize_t n = 0, r;
	while (n < (ssize_t)len - 1 && (r = read(po[0], out + n, len - 1 - n)) > 0)
		n += r;
	out[n] = 0;
	n = 0;
	while (n < (ssize_t)len - 1 && (r = read(pe[0], errs + n, len - 1 - n)) > 0)
		n += r;
	errs[n] = 0;
	close(po[0]);
	close(pe[0]);
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* exit status and a piece of stderr (NULL: any) of one command line */
#define CLI_EXPECT(status, in_err, ...)                                                 \
	do {                                                                            \
		char o_[8192], e_[8192];                                                \
		int st_ = run_ctpool(o_, e_, sizeof(o_), __VA_ARGS__, NULL);            \
		const char *want_ = in_err;                                             \
		CHECK(st_ == (status) && (!want_ || strstr(e_, want_)));                \
		if (st_ != (status) || (want_ && !strstr(e_, want_)))                   \
			fprintf(stderr, "  ctpool %s: status %d, stderr:\n%s\n", #__VA_ARGS__, \
				st_, e_);                                               \
	} while (0)

/* help: exit 0 with the usage on stdout and nothing on stderr */
#define CLI_HELP(...)                                                                   \
	do {                                                                            \
		char o_[8192], e_[8192];                                                \
		int st_ = run_ctpool(o_, e_, sizeof(o_), __VA_ARGS__, NULL);            \
		CHECK(st_ == 0 && !strncmp(o_, "usage: ", 7) && !*e_);                  \
	} while (0)

#define NO_POOL "no pool exists yet"
#define NO_POOL_P "no pool 'p'"
#define NO_CTR "no container 'c'"

static void test_commands(void)
{
	CHECK(mkdtemp(state_dir) != NULL);

	/* global options: both spellings, unknown ones named */
	CLI_EXPECT(0, NULL, "list");
	CLI_EXPECT(0, NULL, "-v", "-q", "list");
	CLI_EXPECT(2, "unknown option '--bogus'", "--bogus", "list");
	CLI_EXPECT(2, "unknown option '--'", "--", "list");
	CLI_EXPECT(2, "unknown command 'bogus'", "bogus");
	CLI_EXPECT(1, NO_POOL, "--pool-target", "thin-pool", "create", "v", "--size", "1G");
	CLI_EXPECT(1, NO_POOL, "--pool-target=thin-pool", "create", "v", "--size", "1G");
	CLI_HELP("--help");
	CLI_HELP("help");

	/* create: --size V and --size=V, options before or after NAME */
	CLI_EXPECT(1, NO_POOL, "create", "v", "--size", "1G");
	CLI_EXPECT(1, NO_POOL_P, "create", "--size=1G", "v", "--pool", "p");
	CLI_EXPECT(2, "bad size '1x'", "create", "v", "--size", "1x");
	CLI_EXPECT(2, "bad size '1x'", "create", "v", "--size=1x");
	CLI_EXPECT(2, "create: bad argument '--size'", "create", "v", "--size");
	CLI_EXPECT(2, "create: bad argument '--bogus'", "create", "v", "--bogus");
	CLI_EXPECT(2, "create: bad argument 'w'", "create", "v", "w", "--size", "1G");
	CLI_EXPECT(2, "create: bad argument '--'", "create", "v", "--", "--size", "1G");
	CLI_EXPECT(2, "create needs NAME and --size", "create", "v");
	CLI_HELP("create", "--help");
	CLI_HELP("create", "v", "help");
	CLI_EXPECT(2, "snapshot: bad argument '--pool'", "snapshot", "a", "b", "--pool", "p");
	CLI_EXPECT(2, "delete: bad argument '--force'", "delete", "v", "--force");
	CLI_EXPECT(2, "list: bad argument 'x'", "list", "x");
	CLI_EXPECT(2, "gc: bad argument '--bogus'", "gc", "--bogus");
	CLI_EXPECT(1, NO_POOL_P, "gc", "--dry-run", "--pool=p");
	CLI_EXPECT(1, NO_POOL_P, "recover", "--pool", "p", "--ignored");

	/* pool: the parse passes, the checks after it see the values */
	CLI_EXPECT(2, "--block-size must be a multiple", "pool", "create", "p", "--metadata", "m",
		   "--data=d", "--block-size=32k");
	CLI_EXPECT(2, "--reuse and --wipe exclude", "pool", "create", "p", "--metadata=m", "--data",
		   "d", "--reuse", "--wipe");
	CLI_EXPECT(2, "pool create: bad argument '--low-water'", "pool", "create", "p",
		   "--metadata", "m", "--data", "d", "--low-water", "x");
	CLI_EXPECT(2, "pool create needs NAME, --metadata and --data", "pool", "create", "p");
	CLI_EXPECT(2, "bad size '1x'", "pool", "resize", "p", "--data-size=1x");
	CLI_EXPECT(2, "pool status: bad argument '-x'", "pool", "status", "-x");
	CLI_EXPECT(2, "pool remove: bad argument 'q'", "pool", "remove", "p", "q");
	CLI_EXPECT(1, NO_POOL_P, "pool", "remove", "p", "--force");
	CLI_HELP("pool", "status", "--help");

	/* container run and exec: what follows "--" is the command, untouched */
	CLI_EXPECT(1, NO_CTR, "container", "run", "c", "--", "ls", "--bogus", "-t", "help");
	CLI_EXPECT(1, NO_CTR, "container", "run", "c", "-t", "--memory=1G", "--cpus", "1",
		   "--pids", "5", "--hostname", "h", "--", "ls");
	CLI_EXPECT(1, NO_CTR, "container", "run", "--memory", "1G", "c");
	CLI_EXPECT(2, "container run: bad argument '--bogus'", "container", "run", "c", "--bogus",
		   "--", "ls");
	CLI_EXPECT(2, "container run: bad argument 'ls'", "container", "run", "c", "ls");
	CLI_EXPECT(2, "container run: bad argument '1x'", "container", "run", "c", "--memory=1x");
	CLI_EXPECT(2, "container run: bad argument '0'", "container", "run", "c", "--io-weight",
		   "0");
	CLI_EXPECT(2, "--cpus 'x'", "container", "run", "c", "--cpus", "x");
	CLI_EXPECT(2, "container run needs NAME", "container", "run", "--", "ls");
	CLI_EXPECT(1, NO_CTR, "container", "exec", "c", "--", "ls", "--bogus", "-t");
	CLI_EXPECT(1, NO_CTR, "container", "exec", "-t", "c", "--", "ls");
	CLI_EXPECT(2, "container exec: bad argument '-x'", "container", "exec", "c", "-x", "--",
		   "ls");
	CLI_EXPECT(2, NULL, "container", "exec", "c", "ls");
	CLI_EXPECT(2, NULL, "container", "exec", "c", "--");
	CLI_HELP("container", "run", "-h");
	CLI_HELP("container", "exec", "help", "--", "ls");

	/* the other container and image commands */
	CLI_EXPECT(1, NO_CTR, "container", "stop", "c", "-t", "5");
	CLI_EXPECT(1, NO_CTR, "container", "stop", "c", "--timeout=5");
	CLI_EXPECT(2, NULL, "container", "stop", "c", "--timeout", "x");
	CLI_EXPECT(1, NO_CTR, "container", "rm", "-f", "c");
	CLI_EXPECT(2, NULL, "container", "rm", "c", "d");
	CLI_EXPECT(2, "container create: bad argument '--image'", "container", "create", "c",
		   "--image");
	CLI_EXPECT(2, "attach needs NAME VOLUME PATH", "container", "attach", "c", "v");
	CLI_EXPECT(2, NULL, "container", "attach", "c", "v", "/p", "x");
	CLI_EXPECT(1, "cannot read /nonexistent", "image", "import", "n", "/nonexistent",
		   "--size=1G");
	CLI_EXPECT(2, "image import: bad argument 'x'", "image", "import", "n", "/nonexistent", "x");
	CLI_HELP("image", "import", "--help");

	/* meta: options before or after DEV|FILE, "--" before it */
	CLI_EXPECT(1, "/nonexistent", "meta", "check", "/nonexistent", "-q");
	CLI_EXPECT(1, "/nonexistent", "meta", "check", "--", "/nonexistent");
	CLI_EXPECT(2, "usage: ctpool meta check", "meta", "check", "--bogus", "/nonexistent");
	CLI_EXPECT(2, "usage: ctpool meta dump", "meta", "dump", "a", "b");
	CLI_EXPECT(1, "/nonexistent", "meta", "dump", "--metadata-snap=5", "/nonexistent");
	CLI_EXPECT(2, "usage: ctpool meta restore", "meta", "restore", "-i", "/nonexistent");

	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", state_dir);
	CHECK(system(cmd) == 0);
}

static void test_crash_point(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		setenv("CTPOOL_CRASH_AT", "here", 1);
		crash_point("elsewhere");
		crash_point("here");
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 99);
}

int main(void)
{
	G.state_dir = "/nonexistent";
	test_pool_status();
	test_thin_status();
	test_sizes();
	test_names();
	test_store();
	test_crash_point();
	test_cli();
	test_commands();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
