/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An image's run configuration (the OCI config's "config": Env, Entrypoint,
 * Cmd, WorkingDir, User), kept in the image's record and applied by
 * `container run` when no command is given.
 *
 * In the record, each array is one value holding a JSON array of strings
 * (kv.c escapes it like any other value); every value is checked again when
 * it is read back, as anything in the state store may have been changed.
 */
#ifndef CTPOOL_IMAGE_CONFIG_H
#define CTPOOL_IMAGE_CONFIG_H

#include <stddef.h>
#include <sys/types.h>

struct kv;

#define IMAGE_CONFIG_MAX_ITEMS 1024	/* entries of Env, Entrypoint or Cmd */
#define IMAGE_CONFIG_MAX_STRING 8192	/* one entry */
#define IMAGE_CONFIG_MAX_TOTAL (64 << 10) /* all of it, as kept in the record */

struct image_config {
	char **env, **entrypoint, **cmd; /* NULL-terminated, or NULL when unset */
	char *workdir, *user;		 /* NULL when unset */
};

/*
 * From an OCI/docker config document (verified by the caller): validate its
 * "config" and store it in record rec as config.* keys. Hostile values
 * (wrong types, NULs, relative WorkingDir, oversized) are an error. 0 or -1.
 */
int image_config_from_json(const char *json, size_t len, struct kv *rec);

/* Read the config.* keys of an image record back (validated). 0 or -1 (reported). */
int image_config_load(const struct kv *rec, struct image_config *ic);
void image_config_free(struct image_config *ic);

/*
 * The command to run: Entrypoint followed by user_cmd if given (it replaces
 * Cmd, as docker does), else by Cmd. NULL-terminated, malloc'd (the strings
 * are borrowed); NULL with an error when that leaves nothing to run.
 */
char **image_config_argv(const struct image_config *ic, char **user_cmd, const char *image);

/*
 * For container run: load image's config into ic and make *cmd the command
 * to run (image_config_argv with *cmd as the user's command, NULL if none).
 * An image without a config (a rootfs tarball) leaves the user's command as
 * it is. 0 or -1 (reported).
 */
int image_config_command(const char *image, char ***cmd, struct image_config *ic);

/*
 * Inside the container, in the process about to exec the command: add Env,
 * enter WorkingDir, take User (uid[:gid] or names from the container's own
 * /etc/passwd and /etc/group: the process is already inside its root).
 * Reports on stderr; 0 or -1.
 */
int image_config_apply(const struct image_config *ic);

/* user "name|uid[:group|gid]" to ids, names looked up in passwd/group files (for tests). */
int image_config_user(const char *user, const char *passwd, const char *group, uid_t *uid,
		      gid_t *gid);

#endif
