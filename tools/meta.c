// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta: dispatch of the offline metadata commands.
 */
#include <string.h>

#include "meta.h"

static int usage(FILE *f)
{
	fputs("usage: ctpool meta check DEV|FILE\n"
	      "       ctpool meta dump [--metadata-snap[=BLOCK]] [-o FILE] DEV|FILE\n"
	      "       ctpool meta restore -i XML -o DEV|FILE\n"
	      "check exits 0 if the metadata is consistent, 1 if not, 2 on bad usage.\n",
	      f);
	return f == stdout ? 0 : 2;
}

int cmd_meta(int argc, char **argv)
{
	if (argc < 1)
		return usage(stderr);
	if (!strcmp(argv[0], "check"))
		return meta_check_main(argc, argv);
	if (!strcmp(argv[0], "dump"))
		return meta_dump_main(argc, argv);
	if (!strcmp(argv[0], "restore"))
		return meta_restore_main(argc, argv);
	if (!strcmp(argv[0], "help") || !strcmp(argv[0], "-h") ||
	    !strcmp(argv[0], "--help"))
		return usage(stdout);
	return usage(stderr);
}
