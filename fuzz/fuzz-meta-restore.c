// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: `ctpool meta restore` of arbitrary XML into a 1 MiB
 * image (the XML parser and the library's build-up of metadata), then the
 * checker on the result: what restore accepts it must write consistently.
 */
#include "fuzz-common.h"

#include "meta/meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[64], out[64];
	int xfd = fuzz_image_fd(data, size, 0);
	int ofd = fuzz_image_fd(NULL, 0, 256);
	int r;

	fuzz_quiet_stdout();
	if (ftruncate(xfd, (off_t)size))
		abort();
	snprintf(in, sizeof(in), "/proc/self/fd/%d", xfd);
	snprintf(out, sizeof(out), "/proc/self/fd/%d", ofd);
	{
		char *argv[] = { "restore", "-i", in, "-o", out, NULL };

		r = meta_restore_main(5, argv);
	}
	if (r == 0) {
		char *argv[] = { "check", "-q", out, NULL };

		if (meta_check_main(3, argv)) {
			fprintf(stderr, "restore wrote metadata that check rejects\n");
			abort();
		}
	}
	close(xfd);
	close(ofd);
	return 0;
}
