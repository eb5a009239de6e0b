/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Safe extraction of a tar archive (a rootfs or one layer of an image) into a
 * root directory.
 *
 * Every path, from an entry's name or a hard link's target, is resolved with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) from the
 * root's descriptor, and the last component is created or replaced with *at()
 * calls that never follow a link. Whatever the archive, or an earlier layer
 * already unpacked in the root, holds (symlinks to "/", to "..", chains of
 * them), nothing outside the root is read, created or changed.
 *
 * Policy, the same for every caller:
 *  - names are taken relative to the root: a leading '/' is dropped (as tar
 *    does); a name or link target with a ".." component is refused and fails
 *    the extraction;
 *  - an existing entry is replaced as tar does: a directory merges into a
 *    directory, anything else is unlinked first (a directory, recursively)
 *    and created anew, so a symlink in the way is never followed;
 *  - device nodes and sockets are skipped with a warning: an image has no
 *    business carrying them (the runtime gives a container its /dev);
 *  - numeric owner (with EXTRACT_OWNER), the mode including setuid/setgid/
 *    sticky bits, modification times and extended attributes are kept.
 */
#ifndef CTPOOL_EXTRACT_H
#define CTPOOL_EXTRACT_H

struct archive;
struct archive_entry;

/* extract_opts.flags */
#define EXTRACT_OWNER 0x1 /* set each entry's numeric uid/gid (needs CAP_CHOWN) */

/* What a filter tells the extractor to do with an entry. */
enum extract_verdict {
	EXTRACT_APPLY = 0, /* extract the entry */
	EXTRACT_SKIP = 1,  /* the filter handled it (e.g. an OCI whiteout): go on */
};

struct extract_opts {
	unsigned int flags;
	/*
	 * Optional, called for every entry before it is applied. path is the
	 * entry's name made relative to the root ("" is the root itself, never
	 * with "..", "." or empty components). Return an extract_verdict, or -1
	 * to stop the extraction (after reporting why). A filter that changes
	 * the root must do so with extract_remove() or the same discipline.
	 */
	int (*filter)(void *arg, int rootfd, const char *path, struct archive_entry *e);
	void *arg;
};

struct extract_stats {
	unsigned long entries;          /* entries applied */
	unsigned long filtered;         /* entries a filter took (EXTRACT_SKIP) */
	unsigned long skipped_devices;  /* device nodes and sockets not created */
};

/*
 * Extract the archive in the local file archive_path (never "host:file"; any
 * compression libarchive reads) into rootfd, a directory descriptor.
 * Returns 0, or -1 after printing why. stats may be NULL.
 */
int extract_file(int rootfd, const char *archive_path, const struct extract_opts *o,
		 struct extract_stats *stats);

/* The same, from fd (a file read from its start, e.g. a layer copied to a temp file). */
int extract_fd(int rootfd, int fd, const char *what, const struct extract_opts *o,
	       struct extract_stats *stats);

/* The same, for an archive the caller has opened for reading (e.g. to hash it). */
int extract_archive(int rootfd, struct archive *a, const struct extract_opts *o,
		    struct extract_stats *stats);

/*
 * Enable on a reader the decompressors libarchive runs in process (never one
 * that would run a host program chosen by the archive).
 */
void extract_support_filters(struct archive *a);

/*
 * Remove path (relative to the root, resolved in it as above) and, for a
 * directory, everything in it, never following a link. A missing path is not
 * an error. Returns 0 or -1 with errno set.
 */
int extract_remove(int rootfd, const char *path);

/*
 * Empty directory path (resolved the same way), keeping the directory itself:
 * what an OCI opaque whiteout asks for. A missing path is not an error; a
 * path that is not a directory is (ENOTDIR). Returns 0 or -1 with errno set.
 */
int extract_empty_dir(int rootfd, const char *path);

#endif
