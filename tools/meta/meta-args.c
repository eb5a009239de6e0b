// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta: the arguments of its commands, spelled as thin_check,
 * thin_dump, thin_ls, thin_restore and thin_repair spell them.
 */
#include "common/cli.h"
#include "meta.h"

static const struct option io_options[] = {
	{ "input", required_argument, NULL, 'i' },
	{ "output", required_argument, NULL, 'o' },
	{ "quiet", no_argument, NULL, 'q' },
	{ NULL, 0, NULL, 0 },
};

int meta_parse_io_args(int argc, char **argv, const char **input,
		       const char **output)
{
	struct cli cl;
	int opt;

	*input = NULL;
	*output = NULL;
	cli_init(&cl, argc, argv, "-i:o:q", io_options, 0);
	while ((opt = cli_next(&cl)) != -1) {
		if (opt == 'i')
			*input = optarg;
		else if (opt == 'o')
			*output = optarg;
		else if (opt != 'q')	/* quiet is all they ever are */
			return -1;	/* an argument too: there is none */
	}
	return *input && *output ? 0 : -1;
}

static int take_opt(struct cli *cl, int opt, struct meta_args *a)
{
	if (opt == CLI_ARG)
		return cli_take(cl, &a->input, 1);
	if (opt == 'm')
		return meta_parse_snap_opt(optarg, &a->snap);
	if (opt == 'o')
		a->output = optarg;
	else if (opt == 'q')
		a->quiet = true;
	else if (opt == META_OPT_CLEAR_NEEDS_CHECK)
		a->clear_needs_check = true;
	else if (opt == 'j')
		a->json = true;
	else
		return -1;
	return 0;
}

int meta_parse_args(int argc, char **argv, const char *optstring,
		    const struct option *options, const char *usage,
		    struct meta_args *a)
{
	struct cli cl;
	int opt;

	memset(a, 0, sizeof(*a));
	cli_init(&cl, argc, argv, optstring, options, 0);
	while ((opt = cli_next(&cl)) != -1)
		if (take_opt(&cl, opt, a))
			break;
	if (opt == -1 && a->input)
		return 0;
	fprintf(stderr, "%s\n", usage);
	return -1;
}
