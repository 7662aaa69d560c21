/* SPDX-License-Identifier: BSD-3-Clause
 * Open-addressing index: maps a key to an element index of a caller-owned
 * array. Slots hold idx + 1 (0 = empty); linear probing, load factor at most
 * 1/2, and backward-shift deletion so there are no tombstones and a probe
 * run never outgrows the live entries. The caller compares keys (it owns
 * them); this file only knows 64-bit hashes whose high bits are mixed.
 */
#ifndef WG_IDXHASH_H
#define WG_IDXHASH_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

struct wg_idxhash {
	uint32_t *slot;
	uint32_t mask;
	unsigned int shift;            /* home = hash >> shift */
};

/* Hash of the element stored as idx (for deletion's re-homing). */
typedef uint64_t (*wg_idxhash_fn)(const void *arg, uint32_t idx);

/* Room for n elements. 0 or -ENOMEM / -EINVAL (n over 2^30). */
static inline int
wg_idxhash_init(struct wg_idxhash *h, uint32_t n)
{
	unsigned int bits = 4;

	if (n > (1u << 30))
		return -EINVAL;
	while ((1ull << bits) < 2ull * n)
		bits++;
	h->slot = calloc((size_t)1 << bits, sizeof(*h->slot));
	if (h->slot == NULL)
		return -ENOMEM;
	h->mask = (uint32_t)((1ull << bits) - 1);
	h->shift = 64 - bits;
	return 0;
}

static inline void
wg_idxhash_fini(struct wg_idxhash *h)
{
	free(h->slot);
	h->slot = NULL;
}

/* Fibonacci hashing: spreads keys that differ only in low bits. */
static inline uint64_t
wg_idxhash_mix(uint64_t k)
{
	return k * 0x9e3779b97f4a7c15ull;
}

static inline uint32_t
wg_idxhash_home(const struct wg_idxhash *h, uint64_t hash)
{
	return (uint32_t)(hash >> h->shift);
}

static inline uint32_t
wg_idxhash_next(const struct wg_idxhash *h, uint32_t i)
{
	return (i + 1) & h->mask;
}

/* Empty slot i and move later members of its probe run back into the hole
 * unless their home lies cyclically in (hole, their position]. */
static inline void
wg_idxhash_delete(struct wg_idxhash *h, uint32_t i, wg_idxhash_fn hash, const void *arg)
{
	uint32_t j = i, k, v;

	for (;;) {
		j = wg_idxhash_next(h, j);
		v = h->slot[j];
		if (v == 0)
			break;
		k = wg_idxhash_home(h, hash(arg, v - 1));
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			h->slot[i] = v;
			i = j;
		}
	}
	h->slot[i] = 0;
}

#endif /* WG_IDXHASH_H */
