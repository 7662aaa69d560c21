/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_HIST_H
#define WG_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hist-t.h"

/* Bytes a histogram of these parameters takes (header + buckets), or 0
 * when they are out of range: sig_digits in 1..5, highest at least
 * 2^(B+1) (the linear part) and below 2^63. */
size_t wg_hist_footprint(uint64_t highest, unsigned int sig_digits);

/* Lay a histogram out in caller memory of at least wg_hist_footprint()
 * bytes (a per-lcore hugepage zone, say). 0 or -EINVAL. */
int wg_hist_init(struct wg_hist *h, size_t size, uint64_t highest, unsigned int sig_digits);

/* malloc + init; NULL with errno EINVAL or ENOMEM. */
struct wg_hist *wg_hist_create(uint64_t highest, unsigned int sig_digits);
void wg_hist_free(struct wg_hist *h);

/* Empty every bucket and counter; the layout stays. */
void wg_hist_reset(struct wg_hist *h);

/* dst += src. The layouts must match (same highest and digits): -EINVAL
 * otherwise, dst untouched. Per-lcore histograms merge into the report's. */
int wg_hist_merge(struct wg_hist *dst, const struct wg_hist *src);

/* The value at percentile p (0..100): the smallest recorded value v such
 * that at least p% of the counted values are <= v, as the largest value of
 * its bucket clamped to [min, max]. 0 when empty. */
uint64_t wg_hist_percentile(const struct wg_hist *h, double p);

/* Mean of the counted values; 0 when empty. */
double wg_hist_mean(const struct wg_hist *h);

void wg_hist_summarize(const struct wg_hist *h, struct wg_hist_summary *s);

/* Bucket index -> the largest value that lands in it. */
uint64_t wg_hist_value_at(const struct wg_hist *h, uint32_t idx);

/* Compact, self-describing binary form: header, then (index gap, count)
 * varint pairs of the non-empty buckets. Returns the bytes written, or
 * the size needed when it is above cap (nothing useful written then). */
size_t wg_hist_encode(const struct wg_hist *h, uint8_t *out, size_t cap);

/* Inverse of wg_hist_encode into a new histogram. Every field is checked
 * (magic, parameters, index order and range, counts vs the header, min/max
 * inside their buckets); NULL with errno EINVAL (malformed), ENOMEM. */
struct wg_hist *wg_hist_decode(const uint8_t *buf, size_t len);

/* One JSON object: the summary, the parameters and the non-empty buckets
 * as [value, count] pairs (value = largest of the bucket). */
void wg_hist_json(FILE *f, const struct wg_hist *h);

/* Human-readable summary line, for the CLI and debugging. */
void wg_hist_dump(FILE *f, const struct wg_hist *h);

static inline uint32_t
wg_hist_index(const struct wg_hist *h, uint64_t v)
{
	unsigned int e, shift;

	if (v < (2ull << h->sub_bits))
		return (uint32_t)v;
	e = 63u - (unsigned int)__builtin_clzll(v);
	shift = e - h->sub_bits;
	return (uint32_t)((uint64_t)shift << h->sub_bits) + (uint32_t)(v >> shift);
}

/* Count v n times. */
static inline void
wg_hist_record_n(struct wg_hist *h, uint64_t v, uint64_t n)
{
	unsigned __int128 add;
	uint64_t lo;

	if (__builtin_expect(v > h->highest, 0)) {
		h->overflow += n;
		return;
	}
	h->counts[wg_hist_index(h, v)] += n;
	h->count += n;
	add = (unsigned __int128)v * n;
	lo = h->sum_lo + (uint64_t)add;
	h->sum_hi += (uint64_t)(add >> 64) + (lo < h->sum_lo);
	h->sum_lo = lo;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

static inline void
wg_hist_record(struct wg_hist *h, uint64_t v)
{
	wg_hist_record_n(h, v, 1);
}

#endif /* WG_HIST_H */
