/* SPDX-License-Identifier: BSD-3-Clause
 * Schema migrations: validation of the ordered step list and the SQL that
 * applies the missing steps. The connection code (pg.c) runs it inside one
 * transaction that first takes an advisory lock, so two processes starting
 * together apply each step exactly once and a failed step leaves nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pg.h"

int
wg_pg_migrations_check(const struct wg_pg_migration *m, unsigned int n)
{
	int prev = 0;

	for (unsigned int i = 0; i < n; i++) {
		const char *s = m[i].name;

		if (m[i].version <= prev || m[i].sql == NULL || s == NULL || s[0] == '\0' ||
		    strlen(s) > WG_PG_NAME_MAX)
			return -EINVAL;
		for (; *s; s++)
			if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
				return -EINVAL;
		prev = m[i].version;
	}
	return 0;
}

int
wg_pg_migrations_plan(const struct wg_pg_migration *m, unsigned int n, int applied,
		      char *buf, size_t size)
{
	size_t off = 0;
	int steps = 0, w;

	if (wg_pg_migrations_check(m, n) < 0)
		return -EINVAL;
	if (size == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (unsigned int i = 0; i < n; i++) {
		if (m[i].version <= applied)
			continue;
		w = snprintf(buf + off, size - off,
			     "%s;\nINSERT INTO wg_migrations (version, name) VALUES (%d, '%s');\n",
			     m[i].sql, m[i].version, m[i].name);
		if (w < 0 || (size_t)w >= size - off)
			return -ENOSPC;
		off += (size_t)w;
		steps++;
	}
	return steps;
}

/* 40001 serialization_failure, 40P01 deadlock_detected: run it again. */
bool
wg_pg_sqlstate_retryable(const char *st)
{
	return st != NULL && strncmp(st, "40", 2) == 0;
}

/* 08 connection exception, 57 operator intervention (admin shutdown,
 * pg_terminate_backend), 53 insufficient resources: the session is gone or
 * going; the batch did not commit and is replayed on the next connection. */
bool
wg_pg_sqlstate_conn_lost(const char *st)
{
	return st != NULL && (strncmp(st, "08", 2) == 0 || strncmp(st, "57", 2) == 0 ||
			      strncmp(st, "53", 2) == 0);
}
