/* SPDX-License-Identifier: BSD-3-Clause
 * Latency histogram with a bounded relative error (the HdrHistogram idea):
 * values below 2^(B+1) have a bucket each; every power-of-two range
 * [2^e, 2^(e+1)) above is cut into 2^B equal buckets, so a bucket is at
 * most 2^-B of its lowest value wide. B is the smallest width with
 * 2^B >= 10^sig_digits, which keeps every reported value within
 * 10^-sig_digits of the value it stands for.
 *
 * The struct is visible because recording is an inline on the fast path:
 * one index computation and three stores, no allocation, no branch on
 * anything but the overflow bound.
 */
#ifndef WG_HIST_T_H
#define WG_HIST_T_H

#include <stdint.h>

#define WG_HIST_DIGITS_MIN 1
#define WG_HIST_DIGITS_MAX 5
#define WG_HIST_NS_HOUR    3600000000000ull  /* a common `highest` for latencies in ns */

struct wg_hist {
	uint64_t highest;              /* largest value counted; above it is overflow */
	uint64_t count;                /* values in the buckets */
	uint64_t overflow;             /* values above highest: in no bucket, no percentile */
	uint64_t min;                  /* of the counted values; UINT64_MAX while empty */
	uint64_t max;                  /* of the counted values; 0 while empty */
	uint64_t sum_lo;               /* 128-bit sum of the counted values, for the mean: */
	uint64_t sum_hi;               /* an hour in ns times 2^23 samples overflows 64 bits */
	uint32_t n_buckets;
	uint8_t sig_digits;
	uint8_t sub_bits;              /* B above */
	uint16_t pad;
	uint64_t counts[];             /* n_buckets */
};

_Static_assert(sizeof(struct wg_hist) == 64, "header is one cache line, buckets start on the next");

/* What a report prints; values are bucket values (see wg_hist_value_at). */
struct wg_hist_summary {
	uint64_t count;
	uint64_t overflow;
	uint64_t min;                  /* exact; 0 when empty */
	uint64_t max;                  /* exact */
	double mean;                   /* exact up to double rounding */
	uint64_t p50;
	uint64_t p90;
	uint64_t p99;
	uint64_t p999;
};

#endif /* WG_HIST_T_H */
