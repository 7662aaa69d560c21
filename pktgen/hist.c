/* SPDX-License-Identifier: BSD-3-Clause
 * Log-linear latency histogram (hist-t.h has the layout and its error
 * bound). Everything but recording lives here: sizing, merge, percentiles,
 * and the two serialised forms - binary (exact, mergeable across
 * processes) and JSON (for the report).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

#define HIST_MAGIC   0x57474831u     /* "WGH1" */
#define VARINT_MAX   10              /* bytes of a 64-bit LEB128 */

static unsigned int
sub_bits_for(unsigned int digits)
{
	uint64_t need = 1;
	unsigned int b = 0;

	while (digits-- > 0)
		need *= 10;
	while ((1ull << b) < need)
		b++;
	return b;
}

size_t
wg_hist_footprint(uint64_t highest, unsigned int sig_digits)
{
	struct wg_hist probe;

	if (sig_digits < WG_HIST_DIGITS_MIN || sig_digits > WG_HIST_DIGITS_MAX)
		return 0;
	probe.sub_bits = (uint8_t)sub_bits_for(sig_digits);
	if (highest < (2ull << probe.sub_bits) || highest >= (1ull << 63))
		return 0;
	return sizeof(struct wg_hist) + ((size_t)wg_hist_index(&probe, highest) + 1) * sizeof(uint64_t);
}

int
wg_hist_init(struct wg_hist *h, size_t size, uint64_t highest, unsigned int sig_digits)
{
	size_t need = wg_hist_footprint(highest, sig_digits);

	if (h == NULL || need == 0 || size < need)
		return -EINVAL;
	memset(h, 0, need);
	h->highest = highest;
	h->sig_digits = (uint8_t)sig_digits;
	h->sub_bits = (uint8_t)sub_bits_for(sig_digits);
	h->n_buckets = (uint32_t)((need - sizeof(*h)) / sizeof(uint64_t));
	h->min = UINT64_MAX;
	return 0;
}

struct wg_hist *
wg_hist_create(uint64_t highest, unsigned int sig_digits)
{
	size_t need = wg_hist_footprint(highest, sig_digits);
	struct wg_hist *h;

	if (need == 0) {
		errno = EINVAL;
		return NULL;
	}
	h = aligned_alloc(64, (need + 63) & ~(size_t)63);
	if (h == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	wg_hist_init(h, need, highest, sig_digits);
	return h;
}

void
wg_hist_free(struct wg_hist *h)
{
	free(h);
}

void
wg_hist_reset(struct wg_hist *h)
{
	memset(h->counts, 0, (size_t)h->n_buckets * sizeof(uint64_t));
	h->count = 0;
	h->overflow = 0;
	h->min = UINT64_MAX;
	h->max = 0;
	h->sum_lo = 0;
	h->sum_hi = 0;
}

int
wg_hist_merge(struct wg_hist *dst, const struct wg_hist *src)
{
	uint64_t lo;
	uint32_t i;

	if (dst == NULL || src == NULL || dst->highest != src->highest ||
	    dst->sig_digits != src->sig_digits || dst->n_buckets != src->n_buckets)
		return -EINVAL;
	for (i = 0; i < src->n_buckets; i++)
		dst->counts[i] += src->counts[i];
	dst->count += src->count;
	dst->overflow += src->overflow;
	lo = dst->sum_lo + src->sum_lo;
	dst->sum_hi += src->sum_hi + (lo < dst->sum_lo);
	dst->sum_lo = lo;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	return 0;
}

uint64_t
wg_hist_value_at(const struct wg_hist *h, uint32_t idx)
{
	unsigned int b = h->sub_bits, shift;
	uint64_t mant;

	if (idx < (2u << b))
		return idx;
	shift = (idx >> b) - 1;
	mant = idx - ((uint64_t)shift << b);
	return ((mant + 1) << shift) - 1;
}

uint64_t
wg_hist_percentile(const struct wg_hist *h, double p)
{
	uint64_t rank, seen = 0, v, ppm;
	uint32_t i;

	if (h->count == 0)
		return 0;
	if (!(p > 0.0))                /* also NaN */
		return h->min;
	if (p >= 100.0)
		return h->max;
	/* rank = ceil(p/100 * count) in integers: p is taken to 4 decimals
	 * (ppm), so 99.9% of 1000 is 999 exactly, never 999.0000000000001
	 * rounded up to 1000 by a double. */
	ppm = (uint64_t)(p * 10000.0 + 0.5);
	rank = (uint64_t)(((unsigned __int128)h->count * ppm + 999999) / 1000000);
	if (rank == 0)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (i = 0; i < h->n_buckets; i++) {
		seen += h->counts[i];
		if (seen >= rank)
			break;
	}
	v = wg_hist_value_at(h, i);
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return v;
}

double
wg_hist_mean(const struct wg_hist *h)
{
	long double sum;

	if (h->count == 0)
		return 0.0;
	sum = (long double)h->sum_hi * 18446744073709551616.0L + (long double)h->sum_lo;
	return (double)(sum / (long double)h->count);
}

void
wg_hist_summarize(const struct wg_hist *h, struct wg_hist_summary *s)
{
	s->count = h->count;
	s->overflow = h->overflow;
	s->min = h->count ? h->min : 0;
	s->max = h->max;
	s->mean = wg_hist_mean(h);
	s->p50 = wg_hist_percentile(h, 50.0);
	s->p90 = wg_hist_percentile(h, 90.0);
	s->p99 = wg_hist_percentile(h, 99.0);
	s->p999 = wg_hist_percentile(h, 99.9);
}

/* ------------------------------------------------------------ binary */

static size_t
put_varint(uint8_t *out, size_t pos, size_t cap, uint64_t v)
{
	do {
		uint8_t b = (uint8_t)(v & 0x7f);

		v >>= 7;
		if (v != 0)
			b |= 0x80;
		if (pos < cap)
			out[pos] = b;
		pos++;
	} while (v != 0);
	return pos;
}

static int
get_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v)
{
	uint64_t x = 0;
	unsigned int i;

	for (i = 0; i < VARINT_MAX; i++) {
		uint8_t b;

		if (*pos >= len)
			return -EINVAL;
		b = buf[(*pos)++];
		/* the tenth byte may carry only the top bit of a 64-bit value */
		if (i == VARINT_MAX - 1 && b > 1)
			return -EINVAL;
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			/* one encoding per value: no trailing zero groups */
			if (i > 0 && b == 0)
				return -EINVAL;
			*v = x;
			return 0;
		}
	}
	return -EINVAL;
}

/* Layout: magic, sig_digits, highest, count, overflow, min, max, sum_lo,
 * sum_hi, number of non-empty buckets, then per bucket (index - previous
 * index - 1, count); all varints but the magic (4 bytes LE). */
size_t
wg_hist_encode(const struct wg_hist *h, uint8_t *out, size_t cap)
{
	uint64_t fields[8], nonempty = 0, prev = UINT64_MAX;
	size_t pos = 0;
	uint32_t i;
	unsigned int f;

	for (i = 0; i < 4; i++) {
		if (pos < cap)
			out[pos] = (uint8_t)(HIST_MAGIC >> (8 * i));
		pos++;
	}
	for (i = 0; i < h->n_buckets; i++)
		nonempty += h->counts[i] != 0;
	fields[0] = h->sig_digits;
	fields[1] = h->highest;
	fields[2] = h->count;
	fields[3] = h->overflow;
	fields[4] = h->count ? h->min : 0;
	fields[5] = h->max;
	fields[6] = h->sum_lo;
	fields[7] = h->sum_hi;
	for (f = 0; f < 8; f++)
		pos = put_varint(out, pos, cap, fields[f]);
	pos = put_varint(out, pos, cap, nonempty);
	for (i = 0; i < h->n_buckets; i++) {
		if (h->counts[i] == 0)
			continue;
		pos = put_varint(out, pos, cap, (uint64_t)i - (prev + 1));
		pos = put_varint(out, pos, cap, h->counts[i]);
		prev = i;
	}
	return pos;
}

struct wg_hist *
wg_hist_decode(const uint8_t *buf, size_t len)
{
	uint64_t fields[8], nonempty, gap, n, total = 0, next = 0, k;
	struct wg_hist *h = NULL;
	uint32_t magic = 0;
	size_t pos = 0;
	unsigned int f;

	if (buf == NULL || len < 4)
		goto inval;
	for (f = 0; f < 4; f++)
		magic |= (uint32_t)buf[f] << (8 * f);
	if (magic != HIST_MAGIC)
		goto inval;
	pos = 4;
	for (f = 0; f < 8; f++)
		if (get_varint(buf, len, &pos, &fields[f]) != 0)
			goto inval;
	if (fields[0] > WG_HIST_DIGITS_MAX)
		goto inval;
	h = wg_hist_create(fields[1], (unsigned int)fields[0]);
	if (h == NULL)
		return NULL;            /* errno set: EINVAL for bad parameters */
	if (get_varint(buf, len, &pos, &nonempty) != 0 || nonempty > h->n_buckets)
		goto inval;
	for (k = 0; k < nonempty; k++) {
		if (get_varint(buf, len, &pos, &gap) != 0 ||
		    get_varint(buf, len, &pos, &n) != 0)
			goto inval;
		if (gap >= h->n_buckets || next + gap >= h->n_buckets || n == 0 ||
		    total + n < total)
			goto inval;
		h->counts[next + gap] = n;
		total += n;
		next += gap + 1;
	}
	if (pos != len || total != fields[2])
		goto inval;
	h->count = fields[2];
	h->overflow = fields[3];
	h->sum_lo = fields[6];
	h->sum_hi = fields[7];
	if (h->count == 0) {
		if (fields[4] != 0 || fields[5] != 0 || fields[6] != 0 || fields[7] != 0)
			goto inval;
		return h;
	}
	/* min and max must sit in the first and the last non-empty bucket */
	if (fields[4] > fields[5] || fields[5] > h->highest)
		goto inval;
	for (k = 0; h->counts[k] == 0; k++)
		;
	if (wg_hist_index(h, fields[4]) != k)
		goto inval;
	for (k = h->n_buckets - 1; h->counts[k] == 0; k--)
		;
	if (wg_hist_index(h, fields[5]) != k)
		goto inval;
	h->min = fields[4];
	h->max = fields[5];
	return h;
inval:
	wg_hist_free(h);
	errno = EINVAL;
	return NULL;
}

/* -------------------------------------------------------------- text */

void
wg_hist_json(FILE *f, const struct wg_hist *h)
{
	struct wg_hist_summary s;
	bool first = true;
	uint32_t i;

	wg_hist_summarize(h, &s);
	fprintf(f, "{\"count\":%" PRIu64 ",\"overflow\":%" PRIu64 ",\"min\":%" PRIu64
		",\"max\":%" PRIu64 ",\"mean\":%.3f,\"p50\":%" PRIu64 ",\"p90\":%" PRIu64
		",\"p99\":%" PRIu64 ",\"p99_9\":%" PRIu64 ",\"sig_digits\":%u,\"highest\":%" PRIu64
		",\"buckets\":[", s.count, s.overflow, s.min, s.max, s.mean, s.p50, s.p90, s.p99,
		s.p999, h->sig_digits, h->highest);
	for (i = 0; i < h->n_buckets; i++) {
		if (h->counts[i] == 0)
			continue;
		fprintf(f, "%s[%" PRIu64 ",%" PRIu64 "]", first ? "" : ",", wg_hist_value_at(h, i),
			h->counts[i]);
		first = false;
	}
	fputs("]}", f);
}

void
wg_hist_dump(FILE *f, const struct wg_hist *h)
{
	struct wg_hist_summary s;

	wg_hist_summarize(h, &s);
	fprintf(f, "hist: count=%" PRIu64 " overflow=%" PRIu64 " min=%" PRIu64 " p50=%" PRIu64
		" p90=%" PRIu64 " p99=%" PRIu64 " p99.9=%" PRIu64 " max=%" PRIu64 " mean=%.1f"
		" (digits=%u highest=%" PRIu64 " buckets=%u)\n", s.count, s.overflow, s.min, s.p50,
		s.p90, s.p99, s.p999, s.max, s.mean, h->sig_digits, h->highest, h->n_buckets);
}
