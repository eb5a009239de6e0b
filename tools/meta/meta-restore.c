// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool meta restore: fresh metadata from thin_dump XML, as thin_restore
 * does: the XML parser (meta-xml.c) feeding the metadata writer
 * (meta-writer.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meta.h"

#define WHO "ctpool meta restore"

static int restore_text(const char *text, size_t len, const char *input,
			const char *output)
{
	struct meta_writer w;
	int r;

	r = meta_writer_init(&w, WHO, output);
	if (r)
		return r;
	r = meta_xml_parse(text, len, input, &w.emitter) ? -EINVAL : 0;
	return meta_writer_finish(&w, r);
}

static int bad_usage(void)
{
	fprintf(stderr, "usage: ctpool meta restore -i XML -o DEV|FILE\n");
	return 2;
}

int meta_restore_main(int argc, char **argv)
{
	const char *input = NULL, *output = NULL;
	struct stat st;
	void *text;
	int fd, r;

	if (meta_parse_io_args(argc, argv, &input, &output))
		return bad_usage();

	fd = open(input, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		perror(input);
		return 1;
	}
	text = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ,
				 MAP_PRIVATE, fd, 0) : (void *)"";
	close(fd);
	if (text == MAP_FAILED) {
		perror(input);
		return 1;
	}
	r = restore_text(text, (size_t)st.st_size, input, output);
	if (st.st_size)
		munmap(text, (size_t)st.st_size);
	return r ? 1 : 0;
}
