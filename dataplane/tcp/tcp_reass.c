/* SPDX-License-Identifier: BSD-3-Clause
 * Out-of-order queue of one TCP connection.
 *
 * Invariants: segs[0..n) are sorted by seq and disjoint, each len is its
 * chain's pkt_len (> 0) and nb_segs/pkt_len of every held chain are
 * right; bytes is the sum of len. Insert and pop first drop what lies
 * before the rcv_nxt they are given, so inside them every held segment
 * starts at or after rcv_nxt and a position can be handled as an offset
 * from rcv_nxt: an ordinary integer in which the modulo-2^32 before()/
 * after() of Linux become < and >, so sequence wrap needs no further care.
 *
 * Overlaps: held bytes win, i.e. only the new parts of a segment count
 * (RFC 9293 3.10.7.4 for data straddling old and new; Linux does the same
 * in its out-of-order queue): the new segment is trimmed where held segments
 * cover its start or its end; held segments lying wholly inside it are
 * freed and their bytes copied over the new ones where they differ, so the
 * new segment is never split and insert never allocates. The copy only
 * happens on a mismatch, i.e. a broken or hostile peer. If the new chain
 * is not ours to write (indirect, external or shared buffer), it is cut
 * instead just before the first held segment that differs: what follows is
 * dropped unacknowledged and the peer sends it again.
 *
 * Ownership: every chain belongs either to exactly one entry or to the
 * caller; bytes move between chains only by copying, or by relinking whole
 * chains in pop, so no mbuf is ever reachable twice and nothing is freed
 * twice. Bytes are written only in direct mbufs with refcnt 1; the length
 * fields of any mbuf we own are adjusted as rte_pktmbuf_adj() would.
 *
 * Memory: at most WG_REASS_MAX_SEGS received chains are held. A new
 * segment that directly follows a held one and fits in the tailroom of its
 * last mbuf is copied there and freed (as Linux coalesces), so a stream of
 * small segments behind one hole takes one entry instead of one each. A
 * segment the entry cap would refuse makes the queue chain adjacent entries
 * into one first (compact()), so the cap counts holes, not segments, once
 * it matters: a window of hundreds of full-sized segments behind a few
 * holes fits (the byte cap still bounds the memory). Data at rcv_nxt is never refused (the caller pops it
 * at once), so a full queue cannot stall the connection.
 *
 * Cost: O(n) entries plus the bytes touched, per insert and per pop.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "tcp_reass.h"

static inline uint32_t
seg_end(const struct wg_reass_seg *s)
{
	return s->seq + s->len;
}

/* a before b, modulo 2^32 */
static inline bool
seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool
seg_writable(const struct rte_mbuf *s)
{
	return RTE_MBUF_DIRECT(s) && rte_mbuf_refcnt_read(s) == 1;
}

static bool
chain_writable(const struct rte_mbuf *m)
{
	for (; m != NULL; m = m->next)
		if (!seg_writable(m))
			return false;
	return true;
}

/* The rest of the code trusts pkt_len and nb_segs; bounded by nb_segs so
 * that a looped chain cannot hang us. */
static bool
chain_ok(const struct rte_mbuf *m)
{
	const struct rte_mbuf *s;
	uint32_t len = 0;
	unsigned int n = 0;

	for (s = m; s != NULL; s = s->next) {
		if (++n > m->nb_segs)
			return false;
		len += s->data_len;
	}
	return n == m->nb_segs && len == m->pkt_len;
}

static void
free_segs(struct rte_mbuf *s)
{
	struct rte_mbuf *next;

	/* one by one: a tail chain's first mbuf is no packet head, its
	 * nb_segs/pkt_len are stale, and rte_pktmbuf_free() may check them */
	for (; s != NULL; s = next) {
		next = s->next;
		rte_pktmbuf_free_seg(s);
	}
}

/* Drop the first off bytes (0 < off < pkt_len); mbufs emptied by it are
 * freed, so the head may change. rte_pktmbuf_adj() only reaches into the
 * first mbuf. */
static struct rte_mbuf *
chain_adj(struct rte_mbuf *m, uint32_t off)
{
	uint32_t pkt_len = m->pkt_len - off;
	uint16_t nb_segs = m->nb_segs;
	struct rte_mbuf *next;

	while (off >= m->data_len) {
		off -= m->data_len;
		next = m->next;
		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = next;
		nb_segs--;
	}
	m->data_off = (uint16_t)(m->data_off + off);
	m->data_len = (uint16_t)(m->data_len - off);
	m->pkt_len = pkt_len;
	m->nb_segs = nb_segs;
	return m;
}

/* Keep the first keep bytes (0 < keep <= pkt_len); rte_pktmbuf_trim()
 * only reaches into the last mbuf. */
static void
chain_trim(struct rte_mbuf *m, uint32_t keep)
{
	struct rte_mbuf *s = m;
	uint32_t left = keep;
	uint16_t nb_segs = 1;

	while (left > s->data_len) {
		left -= s->data_len;
		s = s->next;
		nb_segs++;
	}
	s->data_len = (uint16_t)left;
	free_segs(s->next);
	s->next = NULL;
	m->pkt_len = keep;
	m->nb_segs = nb_segs;
}

struct cursor {
	const struct rte_mbuf *seg;
	uint32_t off;
};

/* off < pkt_len; skips empty mbufs */
static void
cursor_seek(struct cursor *c, const struct rte_mbuf *m, uint32_t off)
{
	while (off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	c->seg = m;
	c->off = off;
}

static void
cursor_fix(struct cursor *c)
{
	while (c->off == c->seg->data_len) {
		c->seg = c->seg->next;
		c->off = 0;
	}
}

/* Count the bytes of dst[doff, doff+len) that differ from src[soff, ...);
 * with fix, copy src over them. dst is written only through fix, which
 * callers use on chains that chain_writable() cleared. */
static uint64_t
cmp_bytes(const struct rte_mbuf *dst, uint32_t doff, const struct rte_mbuf *src, uint32_t soff,
	  uint32_t len, bool fix)
{
	struct cursor d, s;
	uint64_t diff = 0;
	uint32_t chunk, i;
	uint8_t *pd;
	const uint8_t *ps;

	if (len == 0)
		return 0;
	cursor_seek(&d, dst, doff);
	cursor_seek(&s, src, soff);
	for (;;) {
		chunk = RTE_MIN(len, (uint32_t)(d.seg->data_len - d.off));
		chunk = RTE_MIN(chunk, (uint32_t)(s.seg->data_len - s.off));
		pd = rte_pktmbuf_mtod_offset(d.seg, uint8_t *, d.off);
		ps = rte_pktmbuf_mtod_offset(s.seg, const uint8_t *, s.off);
		if (memcmp(pd, ps, chunk) != 0) {
			for (i = 0; i < chunk; i++)
				diff += pd[i] != ps[i];
			if (fix)
				memcpy(pd, ps, chunk);
		}
		len -= chunk;
		if (len == 0)
			return diff;
		d.off += chunk;
		s.off += chunk;
		cursor_fix(&d);
		cursor_fix(&s);
	}
}

/* Can len bytes be copied onto the end of held chain m? */
static bool
can_append(const struct rte_mbuf *m, uint32_t len)
{
	const struct rte_mbuf *last = rte_pktmbuf_lastseg((struct rte_mbuf *)(uintptr_t)m);

	return seg_writable(last) && rte_pktmbuf_tailroom(last) >= len;
}

/* Copy all of src onto the end of dst (can_append() said yes). */
static void
append_copy(struct rte_mbuf *dst, const struct rte_mbuf *src)
{
	char *p = rte_pktmbuf_append(dst, (uint16_t)src->pkt_len);

	for (; src != NULL; src = src->next) {
		memcpy(p, rte_pktmbuf_mtod(src, const char *), src->data_len);
		p += src->data_len;
	}
}

/* Remove entries [i, i+k) (their mbufs already dealt with). */
static void
seg_remove(struct wg_reass *q, unsigned int i, unsigned int k)
{
	if (k == 0)
		return;
	memmove(&q->segs[i], &q->segs[i + k], (q->n - i - k) * sizeof(q->segs[0]));
	q->n = (uint16_t)(q->n - k);
	if (q->last == WG_REASS_LAST_NONE)
		return;
	if (q->last >= i + k)
		q->last = (uint16_t)(q->last - k);
	else if (q->last >= i)
		q->last = WG_REASS_LAST_NONE;
}

static void
seg_insert(struct wg_reass *q, unsigned int i, uint32_t seq, struct rte_mbuf *m)
{
	memmove(&q->segs[i + 1], &q->segs[i], (q->n - i) * sizeof(q->segs[0]));
	q->segs[i].seq = seq;
	q->segs[i].len = m->pkt_len;
	q->segs[i].m = m;
	q->n++;
	if (q->last != WG_REASS_LAST_NONE && q->last >= i)
		q->last++;
}

/* Chain every entry onto an adjacent one before it: frees entries, keeps
 * every byte and the order (RTE_MBUF_MAX_NB_SEGS per chain at most). The
 * most recent entry is the one it joined. O(n) entries plus the walks to
 * the chains' tails, and only when the queue is full. Returns the entries
 * freed; with none, q is as it was. */
static unsigned int
compact(struct wg_reass *q)
{
	unsigned int k, n = q->n;

	for (k = q->n - 1U; k-- > 0;) {
		if (seg_end(&q->segs[k]) != q->segs[k + 1].seq ||
		    rte_pktmbuf_chain(q->segs[k].m, q->segs[k + 1].m) != 0)
			continue;
		q->segs[k].len += q->segs[k + 1].len;
		if (q->last == k + 1)
			q->last = (uint16_t)k;
		seg_remove(q, k + 1, 1);
	}
	return n - q->n;
}

/* Free what was delivered by other means (the caller moved rcv_nxt over
 * held data): whole segments before rcv_nxt, and the head of the one that
 * straddles it. */
static void
drop_delivered(struct wg_reass *q, uint32_t rcv_nxt)
{
	struct wg_reass_seg *s;
	unsigned int k = 0;
	uint32_t d;

	while (k < q->n && !seq_lt(rcv_nxt, seg_end(&q->segs[k]))) {
		rte_pktmbuf_free(q->segs[k].m);
		q->bytes -= q->segs[k].len;
		k++;
	}
	seg_remove(q, 0, k);
	if (q->n == 0 || !seq_lt(q->segs[0].seq, rcv_nxt))
		return;
	s = &q->segs[0];
	d = rcv_nxt - s->seq;
	s->m = chain_adj(s->m, d);
	s->seq = rcv_nxt;
	s->len -= d;
	q->bytes -= d;
}

void
wg_reass_init(struct wg_reass *q, uint32_t max_bytes)
{
	if (q == NULL)
		return;
	q->n = 0;
	q->last = WG_REASS_LAST_NONE;
	q->bytes = 0;
	q->max_bytes = max_bytes;
	q->pad = 0;
}

static void
stats_add(struct wg_reass_stats *st, const struct wg_reass_stats *d)
{
	if (st == NULL)
		return;
	st->queued += d->queued;
	st->dup_bytes += d->dup_bytes;
	st->overlap_mismatch += d->overlap_mismatch;
	st->trimmed_window += d->trimmed_window;
	st->full_drops += d->full_drops;
}

/*
 * Positions are int64 offsets from rcv_nxt: [s, e) is the part of m still
 * to be kept, m's byte 0 sits at pos0 (negative when m starts before
 * rcv_nxt), held segment k covers [hs(k), he(k)). Nothing in q changes
 * until the caps have said yes; the counters are committed at the end, and
 * a refused segment counts only as a full drop.
 */
int
wg_reass_insert(struct wg_reass *q, struct rte_mbuf *m, uint32_t seq, uint32_t rcv_nxt,
		uint32_t wnd_end, struct wg_reass_stats *st)
{
#define HS(k) ((int64_t)(uint32_t)(q->segs[k].seq - rcv_nxt))
#define HE(k) (HS(k) + q->segs[k].len)
	struct wg_reass_stats d = { 0 };
	int64_t pos0, s, e, wnd, hs, ov;
	uint64_t inner_bytes = 0, inner_diff = 0, diff;
	unsigned int i, j, k, cut, right = UINT32_MAX, nsegs;
	bool coalesce;

	if (m == NULL)
		return -EINVAL;
	if (q == NULL || !chain_ok(m)) {
		rte_pktmbuf_free(m);
		return -EINVAL;
	}
	drop_delivered(q, rcv_nxt);

again:
	d = (struct wg_reass_stats){ 0 };
	inner_bytes = inner_diff = 0;
	right = UINT32_MAX;
	pos0 = (int32_t)(seq - rcv_nxt);
	s = RTE_MAX(pos0, (int64_t)0);
	e = pos0 + m->pkt_len;
	if (e <= s) {
		d.dup_bytes += m->pkt_len;
		goto drop;
	}
	d.dup_bytes += s - pos0;
	wnd = RTE_MAX((int32_t)(wnd_end - rcv_nxt), 0);
	if (e > wnd) {
		d.trimmed_window += e - RTE_MAX(s, wnd);
		e = RTE_MAX(s, wnd);
		if (e == s)
			goto drop;
	}

	/* held segments [i, j) overlap [s, e) */
	for (i = 0; i < q->n && HE(i) <= s; i++)
		;
	for (j = i; j < q->n && HS(j) < e; j++)
		;

	if (i < j && HS(i) <= s) {
		ov = RTE_MIN(HE(i), e) - s;
		d.dup_bytes += ov;
		d.overlap_mismatch += cmp_bytes(m, s - pos0, q->segs[i].m, s - HS(i), ov, false);
		if (HE(i) >= e) {
			q->last = (uint16_t)i;
			goto drop;
		}
		s = HE(i);
		i++;
	}
	if (i < j && HE(j - 1) >= e) {
		hs = HS(j - 1);
		d.dup_bytes += e - hs;
		d.overlap_mismatch += cmp_bytes(m, hs - pos0, q->segs[j - 1].m, 0, e - hs, false);
		e = hs;
		right = --j;
		if (e == s) {
			q->last = (uint16_t)right;
			goto drop;
		}
	}

	/* whatever is left in [i, j) lies inside [s, e) */
	cut = j;
	for (k = i; k < j; k++) {
		diff = cmp_bytes(m, HS(k) - pos0, q->segs[k].m, 0, q->segs[k].len, false);
		d.dup_bytes += q->segs[k].len;
		d.overlap_mismatch += diff;
		if (diff == 0 || inner_diff != 0 || cut != j)
			continue;
		if (chain_writable(m))
			inner_diff = diff;
		else
			cut = k;
	}
	if (cut != j) {
		/* cannot write the held bytes into m: keep the held segments
		 * from the first differing one on and drop the rest of m (its
		 * new bytes there go uncounted, the peer resends them) */
		e = HS(cut);
		j = cut;
		right = cut;
	}
	for (k = i; k < j; k++)
		inner_bytes += q->segs[k].len;
	if ((uint64_t)(e - s) == inner_bytes) {
		/* adjacent held segments hold it all, or it was cut to nothing:
		 * the last one it touched becomes the recent one */
		q->last = (uint16_t)(right != UINT32_MAX ? right : j - 1);
		goto drop;
	}

	coalesce = i > 0 && HE(i - 1) == s && can_append(q->segs[i - 1].m, e - s);
	nsegs = q->n - (j - i) + (coalesce ? 0 : 1);
	/* Only the entry cap in the way: chaining adjacent entries frees at
	 * least one, and then it fits (nsegs <= n + 1). Nothing of m or q has
	 * changed so far, so the insert starts over on the compacted queue;
	 * a refusal still leaves q as it was (compact() freed nothing). */
	if (nsegs > WG_REASS_MAX_SEGS &&
	    (s == 0 || (uint64_t)q->bytes + (e - s) - inner_bytes <= q->max_bytes) && compact(q) > 0)
		goto again;
	if (s != 0 && ((uint64_t)q->bytes + (e - s) - inner_bytes > q->max_bytes ||
		       nsegs > WG_REASS_MAX_SEGS)) {
		rte_pktmbuf_free(m);
		d = (struct wg_reass_stats){ .full_drops = 1 };
		stats_add(st, &d);
		return -ENOSPC;
	}
	if (nsegs > WG_REASS_MAX_SEGS) {
		/* Data at rcv_nxt leaves with the caller's next pop, and
		 * refusing it could stall the connection behind a full queue
		 * for good. Make room by reneging on the highest held segment
		 * instead (RFC 2018 8 lets a receiver discard SACKed data).
		 * Here i == j == 0 and n is the cap, so that one is untouched
		 * by this segment; the byte cap is let pass the same way. */
		k = q->n - 1U;
		rte_pktmbuf_free(q->segs[k].m);
		q->bytes -= q->segs[k].len;
		seg_remove(q, k, 1);
		d.full_drops++;
	}

	for (k = i; k < j; k++) {
		if (inner_diff != 0)
			cmp_bytes(m, HS(k) - pos0, q->segs[k].m, 0, q->segs[k].len, true);
		rte_pktmbuf_free(q->segs[k].m);
		q->bytes -= q->segs[k].len;
	}
	seg_remove(q, i, j - i);

	if (s > pos0)
		m = chain_adj(m, s - pos0);
	if (e - s < m->pkt_len)
		chain_trim(m, e - s);
	q->bytes += e - s;
	d.queued = 1;
	if (coalesce) {
		append_copy(q->segs[i - 1].m, m);
		q->segs[i - 1].len += e - s;
		rte_pktmbuf_free(m);
		q->last = (uint16_t)(i - 1);
	} else {
		seg_insert(q, i, rcv_nxt + (uint32_t)s, m);
		q->last = (uint16_t)i;
	}
	stats_add(st, &d);
	return 0;

drop:
	rte_pktmbuf_free(m);
	stats_add(st, &d);
	return 0;
#undef HS
#undef HE
}

struct rte_mbuf *
wg_reass_pop(struct wg_reass *q, uint32_t *rcv_nxt)
{
	struct rte_mbuf *head;
	uint32_t end, bytes;
	unsigned int k;

	if (q == NULL || rcv_nxt == NULL)
		return NULL;
	drop_delivered(q, *rcv_nxt);
	if (q->n == 0 || q->segs[0].seq != *rcv_nxt)
		return NULL;

	head = q->segs[0].m;
	end = seg_end(&q->segs[0]);
	bytes = q->segs[0].len;
	for (k = 1; k < q->n && q->segs[k].seq == end; k++) {
		/* past RTE_MBUF_MAX_NB_SEGS the rest waits for the next pop */
		if (rte_pktmbuf_chain(head, q->segs[k].m) != 0)
			break;
		end += q->segs[k].len;
		bytes += q->segs[k].len;
	}
	q->bytes -= bytes;
	seg_remove(q, 0, k);
	*rcv_nxt = end;
	return head;
}

static inline bool
adjacent(const struct wg_reass *q, unsigned int k)
{
	return seg_end(&q->segs[k]) == q->segs[k + 1].seq;
}

unsigned int
wg_reass_sack(const struct wg_reass *q, struct wg_tcp_sack_block *out, unsigned int max)
{
	unsigned int nb = 0, lo, hi, first_lo = UINT32_MAX;
	int i;

	if (q == NULL || out == NULL || max == 0)
		return 0;
	if (q->last < q->n) {
		for (lo = q->last; lo > 0 && adjacent(q, lo - 1); lo--)
			;
		for (hi = q->last; hi + 1 < q->n && adjacent(q, hi); hi++)
			;
		out[nb].start = q->segs[lo].seq;
		out[nb].end = seg_end(&q->segs[hi]);
		nb++;
		first_lo = lo;
	}
	for (i = q->n - 1; i >= 0 && nb < max; i = (int)lo - 1) {
		hi = (unsigned int)i;
		for (lo = hi; lo > 0 && adjacent(q, lo - 1); lo--)
			;
		if (lo == first_lo)
			continue;
		out[nb].start = q->segs[lo].seq;
		out[nb].end = seg_end(&q->segs[hi]);
		nb++;
	}
	return nb;
}

void
wg_reass_flush(struct wg_reass *q)
{
	unsigned int k;

	if (q == NULL)
		return;
	for (k = 0; k < q->n; k++)
		rte_pktmbuf_free(q->segs[k].m);
	q->n = 0;
	q->bytes = 0;
	q->last = WG_REASS_LAST_NONE;
}

void
wg_reass_dump(FILE *f, const struct wg_reass *q)
{
	unsigned int k;

	if (q == NULL)
		return;
	fprintf(f, "reass n %u bytes %u max_bytes %u last %d\n", q->n, q->bytes, q->max_bytes,
		q->last == WG_REASS_LAST_NONE ? -1 : (int)q->last);
	for (k = 0; k < q->n; k++)
		fprintf(f, "  [%u] seq %u len %u end %u nb_segs %u\n", k, q->segs[k].seq,
			q->segs[k].len, seg_end(&q->segs[k]), q->segs[k].m->nb_segs);
}
