// SPDX-License-Identifier: GPL-2.0-only
/*
 * ctpool: --json output, built with json-c rather than printed by hand, so
 * that every string is escaped and every document well formed.
 *
 * Each helper returns 0 or -1; a failure (out of memory) leaves the value
 * out and is reported once, by jprint, which then prints nothing.
 */
#include "ctpool.h"

#include <json-c/json.h>

/* json-c (0.16) keeps no reference to v when it fails to add it: drop it. */
int jadd(struct json_object *o, const char *key, struct json_object *v)
{
	if (!o)
		goto fail;
	if (json_object_object_add(o, key, v) == 0)
		return 0;
fail:
	json_object_put(v);
	return -1;
}

int jadd_str(struct json_object *o, const char *key, const char *s)
{
	struct json_object *v = json_object_new_string(s ? s : "");
	return v ? jadd(o, key, v) : -1;
}

int jadd_str_or_null(struct json_object *o, const char *key, const char *s)
{
	return s && *s ? jadd_str(o, key, s) : jadd(o, key, NULL);
}

int jadd_u64(struct json_object *o, const char *key, uint64_t n)
{
	struct json_object *v = json_object_new_uint64(n);
	return v ? jadd(o, key, v) : -1;
}

int jadd_bool(struct json_object *o, const char *key, int b)
{
	struct json_object *v = json_object_new_boolean(b != 0);
	return v ? jadd(o, key, v) : -1;
}

int jadd_null(struct json_object *o, const char *key)
{
	return jadd(o, key, NULL);
}

int jpush(struct json_object *array, struct json_object *v)
{
	if (array && v && json_object_array_add(array, v) == 0)
		return 0;
	json_object_put(v);
	return -1;
}

int jprint(struct json_object *o, int failed)
{
	const char *s = NULL;
	if (o && !failed)
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s)
		printf("%s\n", s);
	else
		err("out of memory while writing JSON");
	json_object_put(o);
	return s ? 0 : -1;
}
