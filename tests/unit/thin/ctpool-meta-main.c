// SPDX-License-Identifier: GPL-2.0-only
/*
 * `ctpool meta` alone, for the shell tests (and its sanitizer build):
 * ctpool-meta [meta] check|dump|restore ...
 */
#include <string.h>

#include "commands.h"

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "meta")) {
		argc--;
		argv++;
	}
	return cmd_meta(argc - 1, argv + 1);
}
