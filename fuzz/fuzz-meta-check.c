// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: `ctpool meta check` and `ctpool meta dump` (both, on the
 * same image) over arbitrary bytes. They exist to read damaged metadata, so
 * any crash, overrun or hang on any input is a bug.
 */
#include "fuzz-common.h"

#include "meta/meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_meta_image_fd(data, size, 1);

	fuzz_quiet_stdout();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	{
		char *argv[] = { "check", "-q", path, NULL };

		meta_check_main(3, argv);
	}
	{
		char *argv[] = { "dump", "-o", "/dev/null", path, NULL };

		meta_dump_main(4, argv);
	}
	{
		char *argv[] = { "dump", "--metadata-snap", "-o", "/dev/null",
				 path, NULL };

		meta_dump_main(5, argv);
	}
	close(fd);
	return 0;
}
