/* SPDX-License-Identifier: BSD-3-Clause
 * A 64-bit finalizer (the MurmurHash3 fmix64 constants): spreads keys that
 * differ in few bits over the whole word, for open-addressing tables and
 * ring positions. Not keyed: tables a client can fill take a random seed
 * xored in first.
 */
#ifndef WG_MIX_H
#define WG_MIX_H

#include <stdint.h>

static inline uint64_t
wg_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

#endif /* WG_MIX_H */
