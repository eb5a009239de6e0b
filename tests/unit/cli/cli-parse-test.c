/* Host tests of ctpool's parsers and state store (no device-mapper needed). */
#include "common/ctpool.h"

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
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
