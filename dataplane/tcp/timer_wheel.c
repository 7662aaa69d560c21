/* SPDX-License-Identifier: BSD-3-Clause
 * Hierarchical timer wheel: 4 levels of 256 slots at one-tick resolution,
 * plus an overflow list for anything beyond 2^32 ticks.
 *
 * Placement. Read a tick as base-256 digits d0 (lowest) .. d3, with the
 * bits above 32 as one more "digit". A node due at tick e lives at the
 * level of the most significant digit in which e differs from now, in the
 * slot named by e's digit at that level:
 *
 *     level = msb(e ^ now) / 8    (0 when e == now; >= 4 means overflow)
 *
 * Invariants, with now = tw->now:
 *   I1 every pending node has expire >= now (arming clamps earlier ticks);
 *   I2 a node at level L >= 1, slot s, agrees with now above digit L and
 *      s > dL(now); at level 0, s >= d0(now), with s == d0(now) only for
 *      nodes due at now (the "due slot"); overflow nodes lie in a later
 *      2^32 block than now;
 *   I3 bit s of occupied[L] is set iff slots[L][s] is non-empty.
 * By I2 every node of level L expires before every node of level L+1, and
 * inside a level the slots are ordered by digit, so the earliest timer is
 * in the lowest occupied slot of the lowest occupied level: a scan of at
 * most 16 bitmap words finds it.
 *
 * Advancing. The clock jumps from event to event, never tick by tick. The
 * next event is the tick of the lowest occupied level-0 slot; or else the
 * first tick of the lowest occupied slot of the lowest occupied level,
 * where that slot is cascaded (its nodes re-placed relative to the new now,
 * which sends each to a lower level, the due slot for those due right
 * then); or else the earliest overflow expiry, where the overflow list is
 * re-placed. Because no pending node precedes the tick moved to, moving
 * invalidates exactly one slot - the one at the highest digit that changed,
 * whose digit now matches - so one slot is cascaded per move.
 *
 * Cost. Arm and cancel are O(1). An advance costs O(1) per event visited
 * (one bitmap scan of <= 16 words) plus O(1) per node fired or cascaded.
 * Nodes only cascade downwards, so a node is moved at most 3 times in its
 * life. Events visited are at most the distinct ticks at which something
 * fires plus the slots cascaded, whatever the distance jumped: an 8-hour
 * jump over an idle wheel is one bitmap scan. The overflow list (timers
 * more than 2^32 ticks, ~49 days of ms, away) is walked whole to find its
 * minimum and when the clock reaches it: O(overflow) per such event, which
 * is fine for a list TCP never fills.
 *
 * Callbacks. The due nodes are first moved to a local list and fired from
 * it, each unlinked before its callback runs. A callback may arm or cancel
 * any node, including ones still waiting on that list (they simply stop
 * being due there). A node armed for the tick being fired or earlier goes
 * to the due slot and fires at the next tick this advance processes, or
 * first thing in the next wg_tw_advance() if this was the last tick -
 * never in the same batch, so a callback that re-arms itself for "now"
 * cannot spin the loop. wg_tw_advance() itself must not be re-entered.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "timer_wheel.h"

#define LEVEL_BITS  WG_TW_SLOT_BITS
#define SLOT_MASK   (WG_TW_SLOTS - 1)
#define WHEEL_BITS  (WG_TW_LEVELS * LEVEL_BITS)    /* span of the wheel: 32 */
#define BM_WORDS    (WG_TW_SLOTS / 64)
#define NO_SLOT     WG_TW_SLOTS

_Static_assert(WHEEL_BITS < 64, "the overflow boundary is a 64-bit tick");
_Static_assert(WG_TW_SLOTS % 64 == 0, "occupancy bitmap in whole words");

static inline void
list_init(struct wg_tw_node *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool
list_empty(const struct wg_tw_node *h)
{
	return h->next == h;
}

static inline void
list_add_tail(struct wg_tw_node *h, struct wg_tw_node *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

/* Append all of src to dst; src is left empty. */
static inline void
list_splice_tail(struct wg_tw_node *dst, struct wg_tw_node *src)
{
	if (list_empty(src))
		return;
	src->next->prev = dst->prev;
	dst->prev->next = src->next;
	src->prev->next = dst;
	dst->prev = src->prev;
	list_init(src);
}

static inline unsigned int
digit(uint64_t t, unsigned int level)
{
	return (unsigned int)(t >> (level * LEVEL_BITS)) & SLOT_MASK;
}

/* Ticks with all digits up to level cleared: start of now's level block. */
static inline uint64_t
block_base(uint64_t t, unsigned int level)
{
	unsigned int bits = (level + 1) * LEVEL_BITS;

	return bits >= 64 ? 0 : t & ~((UINT64_C(1) << bits) - 1);
}

/* Level whose digit is the highest one where a and b differ (I2). */
static inline unsigned int
level_of(uint64_t a, uint64_t b)
{
	uint64_t x = a ^ b;

	return x == 0 ? 0 : (unsigned int)(63 - __builtin_clzll(x)) / LEVEL_BITS;
}

static inline void
bm_set(struct wg_timer_wheel *tw, unsigned int level, unsigned int s)
{
	tw->occupied[level][s / 64] |= UINT64_C(1) << (s % 64);
}

static inline void
bm_clear(struct wg_timer_wheel *tw, unsigned int level, unsigned int s)
{
	tw->occupied[level][s / 64] &= ~(UINT64_C(1) << (s % 64));
}

static inline bool
bm_test(const struct wg_timer_wheel *tw, unsigned int level, unsigned int s)
{
	return (tw->occupied[level][s / 64] >> (s % 64)) & 1;
}

/* First occupied slot >= from at level, or NO_SLOT. */
static unsigned int
bm_first(const struct wg_timer_wheel *tw, unsigned int level, unsigned int from)
{
	const uint64_t *bm = tw->occupied[level];
	unsigned int w = from / 64;
	uint64_t m;

	if (from >= WG_TW_SLOTS)
		return NO_SLOT;
	m = bm[w] & (~UINT64_C(0) << (from % 64));
	for (;;) {
		if (m != 0)
			return w * 64 + (unsigned int)__builtin_ctzll(m);
		if (++w == BM_WORDS)
			return NO_SLOT;
		m = bm[w];
	}
}

/* A list head whose list just became empty: if it is a wheel slot (not
 * the overflow head, not a caller's local list), clear its bit. Finding
 * the slot from the address keeps this right for nodes on a local list,
 * where the expiry would name the wrong slot. */
static void
slot_emptied(struct wg_timer_wheel *tw, const struct wg_tw_node *head)
{
	uintptr_t off = (uintptr_t)head - (uintptr_t)&tw->slots[0][0].head;
	uintptr_t i = off / sizeof(struct wg_tw_slot);

	if (off % sizeof(struct wg_tw_slot) != 0 || i >= (uintptr_t)WG_TW_LEVELS * WG_TW_SLOTS)
		return;
	bm_clear(tw, (unsigned int)(i / WG_TW_SLOTS), (unsigned int)(i % WG_TW_SLOTS));
}

static inline void
node_unlink(struct wg_timer_wheel *tw, struct wg_tw_node *n)
{
	struct wg_tw_node *p = n->prev;

	p->next = n->next;
	n->next->prev = p;
	n->next = NULL;
	n->prev = NULL;
	/* only a sentinel can end up pointing at itself */
	if (p->next == p)
		slot_emptied(tw, p);
}

/* Link n (expire >= now) where I2 puts it. */
static void
place(struct wg_timer_wheel *tw, struct wg_tw_node *n)
{
	unsigned int level = level_of(n->expire, tw->now);
	unsigned int s;

	if (level >= WG_TW_LEVELS) {
		list_add_tail(&tw->overflow.head, n);
		return;
	}
	s = digit(n->expire, level);
	list_add_tail(&tw->slots[level][s].head, n);
	bm_set(tw, level, s);
}

/* Move a whole slot onto the tail of dst. */
static void
take_slot(struct wg_timer_wheel *tw, unsigned int level, unsigned int s, struct wg_tw_node *dst)
{
	if (!bm_test(tw, level, s))
		return;
	list_splice_tail(dst, &tw->slots[level][s].head);
	bm_clear(tw, level, s);
}

static uint64_t
overflow_min(const struct wg_timer_wheel *tw)
{
	const struct wg_tw_node *n;
	uint64_t m = UINT64_MAX;

	for (n = tw->overflow.head.next; n != &tw->overflow.head; n = n->next)
		if (n->expire < m)
			m = n->expire;
	return m;
}

/* Next tick after now at which advancing has work, per the file comment;
 * false when nothing is pending. Nodes left in the due slot (armed for
 * now by a callback) make it now + 1. A cascade event is the first tick of
 * the slot, so it may precede the slot's earliest expiry. */
static bool
next_event(const struct wg_timer_wheel *tw, uint64_t *at)
{
	uint64_t now = tw->now;
	unsigned int level, s;

	if (bm_test(tw, 0, digit(now, 0))) {
		*at = now + 1;
		return true;
	}
	for (level = 0; level < WG_TW_LEVELS; level++) {
		s = bm_first(tw, level, digit(now, level) + 1);
		if (s != NO_SLOT) {
			*at = block_base(now, level) | ((uint64_t)s << (level * LEVEL_BITS));
			return true;
		}
	}
	if (!list_empty(&tw->overflow.head)) {
		*at = overflow_min(tw);
		return true;
	}
	return false;
}

/* Move the clock from now to at (> now). The caller guarantees no pending
 * node is due before at, apart from the due slot's leftovers, which are
 * queued on work first; the nodes due at `at` follow them, so work stays
 * in expiry order. */
static void
move_to(struct wg_timer_wheel *tw, uint64_t at, struct wg_tw_node *work)
{
	unsigned int level = level_of(at, tw->now);
	struct wg_tw_node tmp, *n;

	take_slot(tw, 0, digit(tw->now, 0), work);
	tw->now = at;
	list_init(&tmp);
	if (level >= WG_TW_LEVELS)
		list_splice_tail(&tmp, &tw->overflow.head);
	else if (level > 0)
		take_slot(tw, level, digit(at, level), &tmp);
	while (!list_empty(&tmp)) {
		n = tmp.next;
		n->next->prev = &tmp;
		tmp.next = n->next;
		place(tw, n);
	}
	take_slot(tw, 0, digit(at, 0), work);
}

/* Fire everything on work, unlinking each node before its callback. */
static unsigned int
fire(struct wg_timer_wheel *tw, struct wg_tw_node *work, wg_tw_fn fn, void *arg)
{
	struct wg_tw_node *n;
	unsigned int fired = 0;

	while (!list_empty(work)) {
		n = work->next;
		node_unlink(tw, n);
		tw->pending--;
		fn(n, arg);
		fired++;
	}
	return fired;
}

void
wg_tw_init(struct wg_timer_wheel *tw, uint64_t now)
{
	unsigned int l, s;

	tw->now = now;
	tw->pending = 0;
	tw->pad = 0;
	for (l = 0; l < WG_TW_LEVELS; l++)
		for (s = 0; s < WG_TW_SLOTS; s++) {
			list_init(&tw->slots[l][s].head);
			tw->slots[l][s].head.expire = 0;
		}
	list_init(&tw->overflow.head);
	tw->overflow.head.expire = 0;
	memset(tw->occupied, 0, sizeof(tw->occupied));
}

/* An expire before now is stored as now (I1): it is due, and fire order
 * by expire then stays monotonic. */
void
wg_tw_arm(struct wg_timer_wheel *tw, struct wg_tw_node *node, uint64_t expire)
{
	if (node->prev != NULL)
		node_unlink(tw, node);
	else
		tw->pending++;
	node->expire = expire < tw->now ? tw->now : expire;
	place(tw, node);
}

void
wg_tw_cancel(struct wg_timer_wheel *tw, struct wg_tw_node *node)
{
	if (node->prev == NULL)
		return;
	node_unlink(tw, node);
	tw->pending--;
}

/* A now behind the clock does not move it back; the due slot still fires. */
unsigned int
wg_tw_advance(struct wg_timer_wheel *tw, uint64_t now, wg_tw_fn fn, void *arg)
{
	struct wg_tw_node work;
	unsigned int fired;
	uint64_t at;

	list_init(&work);
	take_slot(tw, 0, digit(tw->now, 0), &work);
	fired = fire(tw, &work, fn, arg);
	while (tw->now < now) {
		if (!next_event(tw, &at) || at > now)
			at = now;
		move_to(tw, at, &work);
		fired += fire(tw, &work, fn, arg);
	}
	return fired;
}

/* Exact when the earliest timer is in the current 256-tick block or in
 * overflow; otherwise the first tick of its slot (the cascade that will
 * place it precisely), hence possibly early but never late. */
uint64_t
wg_tw_next(const struct wg_timer_wheel *tw)
{
	uint64_t at;

	if (tw->pending == 0)
		return UINT64_MAX;
	if (bm_test(tw, 0, digit(tw->now, 0)))
		return tw->now;
	return next_event(tw, &at) ? at : UINT64_MAX;
}
