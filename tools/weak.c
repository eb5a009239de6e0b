/*
 * ctpool: fallback for 'ctpool meta ...' while tools/meta*.c (the metadata
 * check/dump/restore commands, written in another area) are not built.
 * A strong cmd_meta() in tools/meta*.c replaces this one at link time.
 */
#include "ctpool.h"

__attribute__((weak)) int cmd_meta(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "ctpool: error: 'ctpool meta' is not built in this binary "
			"(tools/meta.c is missing); use thin_check/thin_dump/thin_restore\n");
	return 2;
}
