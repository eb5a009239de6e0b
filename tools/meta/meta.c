// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta: dispatch of the offline metadata commands.
 */
#include <string.h>

#include "commands.h"
#include "meta.h"

static int print_usage(FILE *f)
{
	fputs("usage: ctpool meta check [-q] [--clear-needs-check] DEV|FILE\n"
	      "       ctpool meta dump [--metadata-snap[=BLOCK]] [-o FILE] DEV|FILE\n"
	      "       ctpool meta restore -i XML -o DEV|FILE\n"
	      "       ctpool meta repair -i DEV|FILE -o DEV|FILE\n"
	      "       ctpool meta usage [--metadata-snap[=BLOCK]] [--json] DEV|FILE\n"
	      "check exits 0 if the metadata is consistent, 1 if not, 2 on bad usage;\n"
	      "--clear-needs-check then clears the flag the kernel set.\n"
	      "repair salvages what is readable of damaged metadata into fresh metadata.\n"
	      "usage prints each device's mapped, exclusive and shared blocks, as thin_ls.\n",
	      f);
	return f == stdout ? 0 : 2;
}

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
} commands[] = {
	{ "check", meta_check_main },
	{ "dump", meta_dump_main },
	{ "restore", meta_restore_main },
	{ "repair", meta_repair_main },
	{ "usage", meta_usage_main },
};

int cmd_meta(int argc, char **argv)
{
	size_t i;

	if (argc < 1)
		return print_usage(stderr);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[0], commands[i].name))
			return commands[i].main(argc, argv);
	if (!strcmp(argv[0], "help") || !strcmp(argv[0], "-h") ||
	    !strcmp(argv[0], "--help"))
		return print_usage(stdout);
	return print_usage(stderr);
}
