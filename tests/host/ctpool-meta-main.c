// SPDX-License-Identifier: GPL-2.0-only
/*
 * `ctpool meta` alone, for the sanitizer build the corruption test runs:
 * ctpool-meta-asan check|dump|restore ...
 */
#include "meta.h"

int main(int argc, char **argv)
{
	return cmd_meta(argc - 1, argv + 1);
}
