// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the table-line and message parsers shared by the kernel
 * targets and userspace (persistent-data/target-args.c). The input is split
 * into words as dm core does (dm_split_args: whitespace, backslash escapes);
 * its first byte picks what is parsed.
 */
#include "fuzz-common.h"

#include "target-args.h"

#define MAX_ARGS 64

static int split(char *s, char **argv)
{
	int argc = 0;
	char *w = s;

	while (*s && argc < MAX_ARGS) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		argv[argc++] = w = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\n') {
			if (*s == '\\' && s[1])
				s++;
			*w++ = *s++;
		}
		if (*s)
			s++;
		*w = '\0';
		w = s;
	}
	return argc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *argv[MAX_ARGS + 1];
	char buf[256], errbuf[CTPOOL_MSG_ERROR_LEN];
	const char *error;
	struct pool_features pf;
	struct ctpool_message msg;
	u32 bs;
	u64 v;
	int argc, i, r;

	if (size < 1 || size > 4096)
		return 0;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	argc = split(s, argv);
	argv[argc] = NULL;

	switch (data[0] % 3) {
	case 0:
		ctpool_pool_features_init(&pf);
		r = ctpool_parse_pool_table(argc, argv, &pf, &error);
		if (r && !error)
			abort();	/* an error must say why */
		if (!r) {
			ctpool_format_pool_features(&pf, buf, sizeof(buf));
			if (!memchr(buf, '\0', sizeof(buf)))
				abort();
			if (argc > 2)
				ctpool_parse_block_size(argv[2], &bs, &error);
			if (argc > 3)
				ctpool_parse_low_water(argv[3], &v, &error);
		}
		break;
	case 1:
		memset(errbuf, 0x55, sizeof(errbuf));
		r = ctpool_parse_message(argc, argv, &msg, errbuf);
		if (r && !memchr(errbuf, '\0', sizeof(errbuf)))
			abort();	/* unterminated error text */
		if (!r && (msg.type == CTPOOL_MSG_CREATE_THIN ||
			   msg.type == CTPOOL_MSG_DELETE) &&
		    msg.dev > CTPOOL_MAX_DEV_ID)
			abort();	/* an id the mapping tree cannot hold */
		break;
	default:
		ctpool_pool_features_init(&pf);
		ctpool_parse_pool_features(argc, argv, &pf, &error);
		for (i = 0; i < argc; i++) {
			ctpool_parse_dev_id(argv[i], &v);
			if (!ctpool_parse_dev_id(argv[i], &v) &&
			    v > CTPOOL_MAX_DEV_ID)
				abort();
			ctpool_parse_u64(argv[i], &v);
			ctpool_parse_block_size(argv[i], &bs, &error);
		}
		break;
	}
	free(s);
	return 0;
}
