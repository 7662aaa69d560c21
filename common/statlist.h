/* SPDX-License-Identifier: BSD-3-Clause
 * Counters structs made of uint64_t fields, listed by name for telemetry:
 * the names array is the struct's fields in order (each user has a
 * _Static_assert that the counts match).
 */
#ifndef WG_STATLIST_H
#define WG_STATLIST_H

#include <stdint.h>

static inline unsigned int
wg_stat_list(const char *const *field_names, unsigned int n_fields, const void *st,
	     const char **names, uint64_t *values, unsigned int max)
{
	const uint64_t *v = st;
	unsigned int i;

	for (i = 0; i < n_fields && i < max; i++) {
		names[i] = field_names[i];
		values[i] = v[i];
	}
	return i;
}

#endif /* WG_STATLIST_H */
