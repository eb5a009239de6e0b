// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta: the input and output options that restore and repair take,
 * spelled as thin_restore and thin_repair spell them.
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
