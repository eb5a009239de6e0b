// SPDX-License-Identifier: GPL-2.0-only
/* ctpool: every device-mapper ioctl goes through libdevmapper here. */
#include "ctpool.h"

#include <errno.h>
#include <libdevmapper.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char last_err[512];

static void dm_logger(int level, const char *file, int line, int dm_errno, const char *f, ...)
{
	va_list ap;
	char msg[512];
	(void)file;
	(void)line;
	(void)dm_errno;
	va_start(ap, f);
	vsnprintf(msg, sizeof(msg), f, ap);
	va_end(ap);
	if (level <= 3 /* _LOG_ERR */) {
		snprintf(last_err, sizeof(last_err), "%s", msg);
		if (G.verbose)
			fprintf(stderr, "ctpool: libdevmapper: %s\n", msg);
	} else if (G.verbose > 1) {
		fprintf(stderr, "ctpool: libdevmapper(%d): %s\n", level, msg);
	}
}

const char *dm_last_error(void)
{
	return last_err[0] ? last_err : "unknown device-mapper error";
}

void dm_setup(void)
{
	/*
	 * Without a running udev, libdevmapper must create /dev/mapper nodes
	 * itself (and must not wait for udev cookies that nobody answers).
	 */
	if (access("/run/udev/control", F_OK) != 0)
		setenv("DM_DISABLE_UDEV", "1", 0);
	dm_log_with_errno_init(dm_logger);
}

/* A task of this type on device name, flushing unless noflush; NULL if it cannot be made. */
static struct dm_task *named_task(int type, const char *name, int noflush)
{
	struct dm_task *t = dm_task_create(type);
	if (t && !dm_task_set_name(t, name)) {
		dm_task_destroy(t);
		return NULL;
	}
	if (t && noflush)
		dm_task_no_flush(t);
	return t;
}

/* Run t: 0, or -errno (EIO when libdevmapper tells none). */
static int run_task(struct dm_task *t)
{
	if (dm_task_run(t))
		return 0;
	return -(dm_task_get_errno(t) ? dm_task_get_errno(t) : EIO);
}

int dm_info(const char *name, struct dm_dev_info *di)
{
	struct dm_task *t = named_task(DM_DEVICE_INFO, name, 0);
	struct dm_info i;
	memset(di, 0, sizeof(*di));
	if (!t)
		return -1;
	if (!dm_task_run(t) || !dm_task_get_info(t, &i)) {
		dm_task_destroy(t);
		return -1;
	}
	di->exists = i.exists;
	di->suspended = i.suspended;
	di->open_count = i.open_count;
	di->major = i.major;
	di->minor = i.minor;
	di->target_count = i.target_count;
	dm_task_destroy(t);
	return 0;
}

static int load_table(int type, const char *name, const char *target, uint64_t len, const char *params)
{
	struct dm_task *t;
	int r = -1;
	uint32_t cookie = 0;
	last_err[0] = 0;
	t = named_task(type, name, 0);
	if (!t)
		return -1;
	if (!dm_task_add_target(t, 0, len, target, params))
		goto out;
	if (type == DM_DEVICE_CREATE) {
		if (!dm_task_set_cookie(t, &cookie, 0))
			goto out;
	}
	if (!dm_task_run(t)) {
		if (type == DM_DEVICE_CREATE)
			dm_udev_wait(cookie);
		goto out;
	}
	r = 0;
	if (type == DM_DEVICE_CREATE)
		dm_udev_wait(cookie);
out:
	dm_task_destroy(t);
	dm_task_update_nodes();
	return r;
}

int dm_create_dev(const char *name, const char *target, uint64_t len, const char *params)
{
	dbg("dm create %s: 0 %llu %s %s", name, (unsigned long long)len, target, params);
	return load_table(DM_DEVICE_CREATE, name, target, len, params);
}

int dm_reload(const char *name, const char *target, uint64_t len, const char *params)
{
	dbg("dm reload %s: 0 %llu %s %s", name, (unsigned long long)len, target, params);
	return load_table(DM_DEVICE_RELOAD, name, target, len, params);
}

static int simple(int type, const char *name, int noflush)
{
	struct dm_task *t;
	uint32_t cookie = 0;
	int r = -1;
	last_err[0] = 0;
	t = named_task(type, name, noflush);
	if (!t)
		return -1;
	if (type == DM_DEVICE_REMOVE)
		dm_task_retry_remove(t);
	if (type == DM_DEVICE_REMOVE || type == DM_DEVICE_RESUME)
		if (!dm_task_set_cookie(t, &cookie, 0))
			goto out;
	r = run_task(t);
	if (type == DM_DEVICE_REMOVE || type == DM_DEVICE_RESUME)
		dm_udev_wait(cookie);
out:
	dm_task_destroy(t);
	dm_task_update_nodes();
	return r;
}

int dm_remove_dev(const char *name)
{
	dbg("dm remove %s", name);
	return simple(DM_DEVICE_REMOVE, name, 0);
}

int dm_suspend_dev(const char *name, int noflush)
{
	dbg("dm suspend %s", name);
	return simple(DM_DEVICE_SUSPEND, name, noflush);
}

int dm_resume_dev(const char *name)
{
	dbg("dm resume %s", name);
	return simple(DM_DEVICE_RESUME, name, 0);
}

/* Send a target message to sector 0; returns 0 or -errno. */
int dm_message(const char *name, const char *msg)
{
	struct dm_task *t = dm_task_create(DM_DEVICE_TARGET_MSG);
	int r = -EIO;
	last_err[0] = 0;
	dbg("dm message %s 0 %s", name, msg);
	if (!t)
		return -ENOMEM;
	if (!dm_task_set_name(t, name) || !dm_task_set_sector(t, 0) || !dm_task_set_message(t, msg))
		goto out;
	r = run_task(t);
out:
	dm_task_destroy(t);
	return r;
}

static int status_common(const char *name, int noflush, char *ttype, size_t tlen, uint64_t *lenp,
			 char *params, size_t plen)
{
	struct dm_task *t = named_task(DM_DEVICE_STATUS, name, noflush);
	int r = -1;
	uint64_t start, length;
	char *type = NULL, *p = NULL;
	if (!t)
		return -1;
	if (!dm_task_run(t))
		goto out;
	dm_get_next_target(t, NULL, &start, &length, &type, &p);
	if (!type)
		goto out;
	if (ttype)
		snprintf(ttype, tlen, "%s", type);
	if (lenp)
		*lenp = length;
	snprintf(params, plen, "%s", p ? p : "");
	r = 0;
out:
	dm_task_destroy(t);
	return r;
}

int dm_status(const char *name, char *ttype, size_t tlen, uint64_t *len, char *params, size_t plen)
{
	return status_common(name, 0, ttype, tlen, len, params, plen);
}

int dm_status_noflush(const char *name, char *params, size_t plen)
{
	return status_common(name, 1, NULL, 0, NULL, params, plen);
}

const char *dm_dev_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dm_dir(), name);
	return buf;
}

/* Is a target type registered in the kernel? 1 yes, 0 no, -1 cannot tell. */
int dm_target_exists(const char *name)
{
	struct dm_task *t = dm_task_create(DM_DEVICE_LIST_VERSIONS);
	int found = -1;
	if (!t)
		return -1;
	if (dm_task_run(t)) {
		struct dm_versions *v = dm_task_get_versions(t), *last;
		found = 0;
		if (v) {
			do {
				last = v;
				if (!strcmp(v->name, name))
					found = 1;
				v = (struct dm_versions *)((char *)v + v->next);
			} while (last != v);
		}
	}
	dm_task_destroy(t);
	return found;
}
