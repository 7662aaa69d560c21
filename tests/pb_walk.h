/* SPDX-License-Identifier: BSD-3-Clause
 * An independent walk of protobuf wire format for the Envelope tests (unit
 * and fuzz): whether protobuf-c's walk of buf (its limits: 5-byte keys and
 * length prefixes, 10-byte varints) meets a field number the protobuf spec
 * forbids (0 or above 2^29-1) before anything it rejects. Those inputs are
 * where our decoder is stricter than protobuf-c.
 */
#ifndef WG_TESTS_PB_WALK_H
#define WG_TESTS_PB_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool
bad_field_number(const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;

	while (p < end) {
		uint64_t key = 0, v;
		unsigned i, wt;

		for (i = 0; i < 5 && p + i < end; i++) {
			key |= (uint64_t)(p[i] & 0x7f) << (7 * i);
			if (!(p[i] & 0x80))
				break;
		}
		if (i == 5 || p + i >= end || (p[0] & 0xf8) == 0)
			return false;
		p += i + 1;
		if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff)
			return true;
		wt = key & 7;
		if (wt == 0) {
			for (i = 0; i < 10 && p + i < end && (p[i] & 0x80); i++)
				;
			if (i == 10 || p + i >= end)
				return false;
			p += i + 1;
		} else if (wt == 1 || wt == 5) {
			if ((size_t)(end - p) < (wt == 1 ? 8u : 4u))
				return false;
			p += wt == 1 ? 8 : 4;
		} else if (wt == 2) {
			v = 0;
			for (i = 0; i < 5 && p + i < end; i++) {
				v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
				if (!(p[i] & 0x80))
					break;
			}
			if (i == 5 || p + i >= end)
				return false;
			p += i + 1;
			if (v > (uint64_t)(end - p))
				return false;
			p += v;
		} else {
			return false;
		}
	}
	return false;
}

#endif /* WG_TESTS_PB_WALK_H */
