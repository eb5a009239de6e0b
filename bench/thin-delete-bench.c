// SPDX-License-Identifier: GPL-2.0-only
/*
 * thin-delete-bench: the metadata side of `make bench`'s big group, in
 * userspace (not a test: nothing here can fail on timing).
 *
 * For each size, a thin device is filled the way fio's random 64k writes
 * fill it in the VM bench: virtual blocks in random order, each getting the
 * next free data block, with a commit every few thousand writes. Then
 *
 *   snap    create_snap of it + commit
 *   snapdel delete of that snapshot + commit
 *   delete  delete of the origin + commit
 *
 * are timed (wall and CPU, the median over the repetitions), together with
 * the metadata blocks read and written. The metadata lives in a file under
 * $TMPDIR (default /dev/shm) behind a cache big enough for all of it, as the
 * kernel's bufio cache is after the fill. At the end every data block must
 * be free again, or the run fails.
 *
 * usage: thin-delete-bench [-r REPS] [MAPPINGS...]   (default 32768 1000000)
 */
#include <error.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bm-file.h"
#include "thin-metadata.h"

#define BLOCK_SECTORS 128		/* 64 KiB data blocks */
#define COMMIT_EVERY 4096		/* writes between commits */
#define MAX_REPS 15

enum { OP_SNAP, OP_SNAPDEL, OP_DELETE, NR_OPS };
static const char *const op_names[NR_OPS] = { "snap", "snapdel", "delete" };

struct sample {
	double wall_ms, cpu_ms;
	u64 reads, writes;
};

struct bench {
	const char *path;
	struct pd_block_manager *bm;
	struct thin_metadata *tmd;
	u64 mappings;
	u64 rand_state;
};

/* r is 0 or -errno: on an error, exit saying what failed (error(3)). */
static void check(const char *what, int r)
{
	if (r)
		error(1, -r, "%s", what);
}

static u64 next_rand(struct bench *b)
{
	b->rand_state ^= b->rand_state << 13;
	b->rand_state ^= b->rand_state >> 7;
	b->rand_state ^= b->rand_state << 17;
	return b->rand_state;
}

static double now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * Metadata blocks enough for the mappings (about 8 bytes each in leaves
 * that are 2/3 full, shadowed once per commit) with plenty to spare.
 */
static u64 metadata_bytes(u64 mappings)
{
	u64 blocks = 4096 + mappings / 32;

	return blocks * PD_BLOCK_SIZE;
}

static void open_metadata(struct bench *b)
{
	u64 cache = metadata_bytes(b->mappings) / PD_BLOCK_SIZE;
	int fd;

	fd = open(b->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, metadata_bytes(b->mappings)) || close(fd))
		error(1, errno, "creating the metadata file");
	check("bm open", pd_bm_file_open(b->path, false, cache, &b->bm));
	check("metadata open", thin_metadata_open(b->bm, BLOCK_SECTORS, false,
						  &b->tmd));
	/* A data device a little bigger than the thin, as in the VM bench. */
	check("resize data", thin_resize_data_dev(b->tmd,
						  b->mappings * 11 / 8));
	check("commit", thin_metadata_commit(b->tmd));
}

static void close_metadata(struct bench *b)
{
	check("metadata close", thin_metadata_close(b->tmd));
	pd_bm_destroy(b->bm);
	unlink(b->path);
}

/* Thin 1 with every virtual block mapped, in random order. */
static void fill(struct bench *b)
{
	struct thin_device *td;
	data_block_t data;
	u64 *order, i, j, t;

	order = malloc(b->mappings * sizeof(*order));
	if (!order)
		error(1, ENOMEM, "malloc");
	for (i = 0; i < b->mappings; i++)
		order[i] = i;
	for (i = b->mappings - 1; i > 0; i--) {
		j = next_rand(b) % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}

	check("create_thin", thin_create_thin(b->tmd, 1));
	check("open thin", thin_open_device(b->tmd, 1, &td));
	for (i = 0; i < b->mappings; i++) {
		check("alloc", thin_alloc_data_block(b->tmd, &data));
		check("insert", thin_insert_block(td, order[i], data));
		if ((i + 1) % COMMIT_EVERY == 0)
			check("commit", thin_metadata_commit(b->tmd));
	}
	thin_close_device(td);
	check("commit", thin_metadata_commit(b->tmd));
	free(order);
}

static int run_op(struct bench *b, int op)
{
	switch (op) {
	case OP_SNAP:
		return thin_create_snap(b->tmd, 2, 1);
	case OP_SNAPDEL:
		return thin_delete(b->tmd, 2);
	default:
		return thin_delete(b->tmd, 1);
	}
}

static void timed(struct bench *b, int op, struct sample *s)
{
	u64 reads = pd_bm_file_read_count(b->bm);
	u64 writes = pd_bm_file_write_count(b->bm);
	double wall = now_ms(CLOCK_MONOTONIC);
	double cpu = now_ms(CLOCK_PROCESS_CPUTIME_ID);

	check(op_names[op], run_op(b, op));
	check("commit", thin_metadata_commit(b->tmd));
	s->wall_ms = now_ms(CLOCK_MONOTONIC) - wall;
	s->cpu_ms = now_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu;
	s->reads = pd_bm_file_read_count(b->bm) - reads;
	s->writes = pd_bm_file_write_count(b->bm) - writes;
}

/* Everything was deleted: every data block must be free again. */
static void check_all_free(struct bench *b)
{
	data_block_t nr_free, size;

	check("free blocks", thin_get_free_data_blocks(b->tmd, &nr_free));
	check("data size", thin_get_data_dev_size(b->tmd, &size));
	if (nr_free != size) {
		fprintf(stderr, "thin-delete-bench: %llu of %llu data blocks free after deleting everything\n",
			(unsigned long long)nr_free, (unsigned long long)size);
		exit(1);
	}
}

static void one_rep(struct bench *b, struct sample s[NR_OPS])
{
	int op;

	open_metadata(b);
	fill(b);
	for (op = 0; op < NR_OPS; op++)
		timed(b, op, &s[op]);
	check_all_free(b);
	close_metadata(b);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void report(u64 mappings, struct sample s[][NR_OPS], int reps)
{
	double wall[MAX_REPS], cpu[MAX_REPS];
	int op, i;

	for (op = 0; op < NR_OPS; op++) {
		for (i = 0; i < reps; i++) {
			wall[i] = s[i][op].wall_ms;
			cpu[i] = s[i][op].cpu_ms;
		}
		printf("%-8llu %-8s wall %9.2f ms  cpu %9.2f ms  reads %6llu  writes %6llu\n",
		       (unsigned long long)mappings, op_names[op],
		       median(wall, reps), median(cpu, reps),
		       (unsigned long long)s[0][op].reads,
		       (unsigned long long)s[0][op].writes);
	}
}

static void run_size(struct bench *b, u64 mappings, int reps)
{
	struct sample s[MAX_REPS][NR_OPS];
	int i;

	b->mappings = mappings;
	for (i = 0; i < reps; i++) {
		/* The same layout every time. */
		b->rand_state = 88172645463325252ULL;
		one_rep(b, s[i]);
	}
	report(mappings, s, reps);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const u64 default_sizes[] = { 32768, 1000000 };
	static char path[4096];
	const char *dir = getenv("TMPDIR");
	struct bench b = { .path = path };
	int reps = 3, i, c;
	u64 n;

	while ((c = getopt(argc, argv, "r:")) != -1) {
		if (c != 'r')
			goto usage;
		reps = atoi(optarg);
		if (reps < 1 || reps > MAX_REPS)
			goto usage;
	}
	if (!dir)
		dir = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";
	snprintf(path, sizeof(path), "%s/thin-delete-bench.%d", dir,
		 (int)getpid());

	printf("mappings op       median of %d repetition(s)\n", reps);
	if (optind == argc) {
		for (i = 0; i < (int)ARRAY_SIZE(default_sizes); i++)
			run_size(&b, default_sizes[i], reps);
		return 0;
	}
	for (i = optind; i < argc; i++) {
		n = strtoull(argv[i], NULL, 0);
		if (!n)
			goto usage;
		run_size(&b, n, reps);
	}
	return 0;
usage:
	fprintf(stderr, "usage: thin-delete-bench [-r REPS(1..%d)] [MAPPINGS...]\n",
		MAX_REPS);
	return 2;
}
