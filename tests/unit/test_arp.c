/* SPDX-License-Identifier: BSD-3-Clause
 * ARP cache: state machine under a fake clock, table mechanics (collisions,
 * backward-shift delete, wrap-around, fill limit) checked against a model,
 * seqcount snapshots, and the request/announce frames byte by byte.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "arp.h"

#define REACH  1000
#define RETRY  100
#define PROBES 3

static const uint8_t MAC_A[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t MAC_B[6] = { 0x02, 0x66, 0x77, 0x88, 0x99, 0xaa };

static uint32_t
ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	const uint8_t x[4] = { a, b, c, d };
	uint32_t v;

	memcpy(&v, x, 4);
	return v;
}

struct cache {
	struct wg_arp_cache c;
	struct wg_arp_entry *mem;
};

static void
cache_new(struct cache *k, uint32_t entries, uint64_t reach, uint64_t retry, uint32_t probes)
{
	size_t sz = wg_arp_cache_memsize(entries);

	assert_int_equal(sz, entries * sizeof(struct wg_arp_entry));
	k->mem = calloc(1, sz);
	assert_non_null(k->mem);
	assert_int_equal(wg_arp_cache_init(&k->c, k->mem, entries, reach, retry, probes), 0);
}

static void
cache_free(struct cache *k)
{
	free(k->mem);
}

/* White-box: slot of ip, or -1. */
static int
slot_of(const struct wg_arp_cache *c, uint32_t ip)
{
	uint32_t i;

	for (i = 0; i <= c->mask; i++)
		if (c->tab[i].state != WG_ARP_FREE && c->tab[i].ip == ip)
			return (int)i;
	return -1;
}

static const struct wg_arp_entry *
entry_of(const struct wg_arp_cache *c, uint32_t ip)
{
	int s = slot_of(c, ip);

	assert_true(s >= 0);
	return &c->tab[s];
}

/* Home slot of ip for a given capacity, learned by inserting it alone. */
static uint32_t
home_of(uint32_t entries, uint32_t ip)
{
	struct cache k;
	int s;

	cache_new(&k, entries, REACH, RETRY, PROBES);
	assert_int_equal(wg_arp_confirm(&k.c, ip, MAC_A, 0, true), 0);
	s = slot_of(&k.c, ip);
	cache_free(&k);
	assert_true(s >= 0);
	return (uint32_t)s;
}

/* Linear probing invariant: every slot between a key's home and its slot is
 * occupied, and used matches the occupied count. */
static void
check_invariant(const struct wg_arp_cache *c)
{
	uint32_t i, n = 0;

	for (i = 0; i <= c->mask; i++) {
		uint32_t h, j;

		if (c->tab[i].state == WG_ARP_FREE)
			continue;
		n++;
		assert_true(c->tab[i].state <= WG_ARP_FAILED);
		h = home_of(c->mask + 1, c->tab[i].ip);
		for (j = h; j != i; j = (j + 1) & c->mask)
			if (c->tab[j].state == WG_ARP_FREE)
				fail_msg("gap at %u between home %u and slot %u", j, h, i);
	}
	assert_int_equal(n, c->used);
	assert_true(c->used <= (c->mask + 1) * 3 / 4);
}

/* White-box delete: mark ip FAILED and due, keep everything else far from
 * due, run the timer. */
static void
delete_ip(struct wg_arp_cache *c, uint32_t ip, uint64_t now)
{
	int s = slot_of(c, ip);
	uint32_t used = c->used;

	assert_true(s >= 0);
	c->tab[s].state = WG_ARP_FAILED;
	c->tab[s].next_ms = now;
	assert_int_equal(wg_arp_age(c, now, NULL, NULL), 1);
	assert_int_equal(c->used, used - 1);
	assert_int_equal(slot_of(c, ip), -1);
}

struct probe_log {
	unsigned int n;
	uint32_t ip[16];
	bool unicast[16];
	uint8_t mac[16][6];
	const struct wg_arp_cache *c;
	bool seq_odd_seen;
};

static void
probe_cb(void *arg, uint32_t ip, const uint8_t *mac)
{
	struct probe_log *l = arg;

	assert_true(l->n < 16);
	l->ip[l->n] = ip;
	l->unicast[l->n] = mac != NULL;
	if (mac != NULL)
		memcpy(l->mac[l->n], mac, 6);
	if (l->c != NULL && (__atomic_load_n(&l->c->seq, __ATOMIC_RELAXED) & 1))
		l->seq_odd_seen = true;
	l->n++;
}

/* ---- init ---- */

static void
test_init(void **state)
{
	struct wg_arp_cache c;
	struct wg_arp_entry mem[8];

	(void)state;
	assert_int_equal(wg_arp_cache_memsize(0), 0);
	assert_int_equal(wg_arp_cache_memsize(3), 0);
	assert_int_equal(wg_arp_cache_memsize(12), 0);
	assert_int_equal(wg_arp_cache_memsize(1), 32);
	assert_int_equal(wg_arp_cache_memsize(8), 256);
	assert_int_equal(wg_arp_cache_memsize(UINT32_C(1) << 31), (size_t)32 << 31);
	assert_int_equal(wg_arp_cache_init(&c, mem, 0, REACH, RETRY, PROBES), -EINVAL);
	assert_int_equal(wg_arp_cache_init(&c, mem, 6, REACH, RETRY, PROBES), -EINVAL);
	assert_int_equal(wg_arp_cache_init(&c, NULL, 8, REACH, RETRY, PROBES), -EINVAL);
	assert_int_equal(wg_arp_cache_init(&c, mem, 8, 0, RETRY, PROBES), -EINVAL);
	assert_int_equal(wg_arp_cache_init(&c, mem, 8, REACH, 0, PROBES), -EINVAL);
	assert_int_equal(wg_arp_cache_init(&c, mem, 8, REACH, RETRY, 0), -EINVAL);
	assert_int_equal(wg_arp_cache_init(&c, mem, 8, REACH, RETRY, 256), -EINVAL);
	assert_int_equal(wg_arp_cache_init(&c, (char *)mem + 4, 4, REACH, RETRY, PROBES), -EINVAL);
	memset(mem, 0xff, sizeof(mem));
	assert_int_equal(wg_arp_cache_init(&c, mem, 8, REACH, RETRY, 255), 0);
	assert_int_equal(c.mask, 7);
	assert_int_equal(c.used, 0);
	assert_int_equal(c.seq, 0);
	assert_ptr_equal(c.tab, mem);
	for (int i = 0; i < 8; i++)
		assert_int_equal(mem[i].state, WG_ARP_FREE);
	/* Capacity 1 is legal and holds nothing (3/4 of 1 rounds to 0). */
	assert_int_equal(wg_arp_cache_init(&c, mem, 1, REACH, RETRY, PROBES), 0);
	assert_int_equal(wg_arp_confirm(&c, ip4(10, 0, 0, 1), MAC_A, 0, true), -ENOSPC);
}

/* ---- resolve / confirm ---- */

static void
test_resolve_miss_then_confirm(void **state)
{
	struct cache k;
	uint32_t ip = ip4(10, 0, 0, 2);
	const struct wg_arp_entry *e;
	const uint8_t *mac;
	bool need = false;

	(void)state;
	cache_new(&k, 16, REACH, RETRY, PROBES);
	errno = 0;
	assert_null(wg_arp_resolve(&k.c, ip, 50, &need));
	assert_true(need);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(k.c.used, 1);
	e = entry_of(&k.c, ip);
	assert_int_equal(e->state, WG_ARP_INCOMPLETE);
	assert_int_equal(e->probes, 1);
	assert_int_equal(e->next_ms, 50 + RETRY);

	/* One request outstanding: no second one. */
	need = true;
	assert_null(wg_arp_resolve(&k.c, ip, 60, &need));
	assert_false(need);
	assert_int_equal(k.c.used, 1);

	/* A reply completes it even with create=false. */
	assert_int_equal(wg_arp_confirm(&k.c, ip, MAC_A, 70, false), 0);
	assert_int_equal(e->state, WG_ARP_REACHABLE);
	assert_int_equal(e->probes, 0);
	assert_int_equal(e->confirmed_ms, 70);
	assert_int_equal(e->next_ms, 70 + REACH);
	mac = wg_arp_resolve(&k.c, ip, 80, &need);
	assert_non_null(mac);
	assert_memory_equal(mac, MAC_A, 6);
	assert_false(need);
	check_invariant(&k.c);
	cache_free(&k);
}

static void
test_confirm_create_and_invalid(void **state)
{
	struct cache k;
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mc[6] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };
	static const uint8_t zero[6] = { 0 };
	bool need = true;

	(void)state;
	cache_new(&k, 16, REACH, RETRY, PROBES);
	assert_int_equal(wg_arp_confirm(&k.c, ip4(10, 0, 0, 2), MAC_A, 0, false), 0);
	assert_int_equal(k.c.used, 0);
	assert_int_equal(wg_arp_confirm(&k.c, ip4(10, 0, 0, 2), MAC_A, 0, true), 0);
	assert_int_equal(k.c.used, 1);
	/* Update in place: new MAC, still one entry. */
	assert_int_equal(wg_arp_confirm(&k.c, ip4(10, 0, 0, 2), MAC_B, 5, false), 0);
	assert_int_equal(k.c.used, 1);
	assert_memory_equal(entry_of(&k.c, ip4(10, 0, 0, 2))->mac, MAC_B, 6);

	assert_int_equal(wg_arp_confirm(&k.c, 0, MAC_A, 0, true), -EINVAL);
	assert_int_equal(wg_arp_confirm(&k.c, ip4(127, 0, 0, 1), MAC_A, 0, true), -EINVAL);
	assert_int_equal(wg_arp_confirm(&k.c, ip4(224, 0, 0, 1), MAC_A, 0, true), -EINVAL);
	assert_int_equal(wg_arp_confirm(&k.c, ip4(255, 255, 255, 255), MAC_A, 0, true), -EINVAL);
	assert_int_equal(wg_arp_confirm(&k.c, ip4(10, 0, 0, 3), bc, 0, true), -EINVAL);
	assert_int_equal(wg_arp_confirm(&k.c, ip4(10, 0, 0, 3), mc, 0, true), -EINVAL);
	assert_int_equal(wg_arp_confirm(&k.c, ip4(10, 0, 0, 3), zero, 0, true), -EINVAL);
	/* Nor may an update turn a good entry bad. */
	assert_int_equal(wg_arp_confirm(&k.c, ip4(10, 0, 0, 2), mc, 0, false), -EINVAL);
	assert_memory_equal(entry_of(&k.c, ip4(10, 0, 0, 2))->mac, MAC_B, 6);

	errno = 0;
	assert_null(wg_arp_resolve(&k.c, 0, 0, &need));
	assert_false(need);
	assert_int_equal(errno, EINVAL);
	assert_null(wg_arp_resolve(&k.c, ip4(239, 1, 1, 1), 0, &need));
	assert_false(need);
	assert_int_equal(k.c.used, 1);
	cache_free(&k);
}

/* ---- timers ---- */

static void
test_reachable_stale_failed_removed(void **state)
{
	struct cache k;
	struct probe_log log = { 0 };
	uint32_t ip = ip4(10, 0, 0, 7);
	const struct wg_arp_entry *e;
	const uint8_t *mac;
	bool need;

	(void)state;
	cache_new(&k, 16, REACH, RETRY, PROBES);
	log.c = &k.c;
	assert_int_equal(wg_arp_confirm(&k.c, ip, MAC_A, 0, true), 0);
	e = entry_of(&k.c, ip);

	assert_int_equal(wg_arp_age(&k.c, REACH - 1, probe_cb, &log), 0);
	assert_int_equal(log.n, 0);
	assert_int_equal(e->state, WG_ARP_REACHABLE);

	/* reachable_ms passed: STALE, first unicast probe to the known MAC. */
	assert_int_equal(wg_arp_age(&k.c, REACH, probe_cb, &log), 0);
	assert_int_equal(e->state, WG_ARP_STALE);
	assert_int_equal(e->probes, 1);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.ip[0], ip);
	assert_true(log.unicast[0]);
	assert_memory_equal(log.mac[0], MAC_A, 6);
	/* STALE still resolves, without a request. */
	mac = wg_arp_resolve(&k.c, ip, REACH, &need);
	assert_non_null(mac);
	assert_memory_equal(mac, MAC_A, 6);
	assert_false(need);

	assert_int_equal(wg_arp_age(&k.c, REACH + RETRY - 1, probe_cb, &log), 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(wg_arp_age(&k.c, REACH + RETRY, probe_cb, &log), 0);
	assert_int_equal(log.n, 2);
	assert_int_equal(e->probes, 2);
	assert_int_equal(wg_arp_age(&k.c, REACH + 2 * RETRY, probe_cb, &log), 0);
	assert_int_equal(log.n, 3);
	assert_int_equal(e->probes, 3);
	assert_true(log.unicast[1] && log.unicast[2]);
	/* max_probes unanswered: FAILED, no further probe. */
	assert_int_equal(wg_arp_age(&k.c, REACH + 3 * RETRY, probe_cb, &log), 0);
	assert_int_equal(log.n, 3);
	assert_int_equal(e->state, WG_ARP_FAILED);
	assert_int_equal(k.c.used, 1);
	assert_int_equal(wg_arp_age(&k.c, REACH + 4 * RETRY - 1, probe_cb, &log), 0);
	assert_int_equal(wg_arp_age(&k.c, REACH + 4 * RETRY, probe_cb, &log), 1);
	assert_int_equal(k.c.used, 0);
	assert_int_equal(slot_of(&k.c, ip), -1);
	assert_int_equal(log.n, 3);
	assert_false(log.seq_odd_seen);
	assert_int_equal(k.c.seq & 1, 0);
	cache_free(&k);
}

static void
test_stale_confirmed_again(void **state)
{
	struct cache k;
	struct probe_log log = { 0 };
	uint32_t ip = ip4(10, 0, 0, 8);
	const struct wg_arp_entry *e;

	(void)state;
	cache_new(&k, 16, REACH, RETRY, PROBES);
	assert_int_equal(wg_arp_confirm(&k.c, ip, MAC_A, 0, true), 0);
	e = entry_of(&k.c, ip);
	wg_arp_age(&k.c, REACH, probe_cb, &log);
	wg_arp_age(&k.c, REACH + RETRY, probe_cb, &log);
	assert_int_equal(e->state, WG_ARP_STALE);
	assert_int_equal(log.n, 2);
	/* The probe was answered (by a new NIC, even). */
	assert_int_equal(wg_arp_confirm(&k.c, ip, MAC_B, REACH + RETRY + 5, false), 0);
	assert_int_equal(e->state, WG_ARP_REACHABLE);
	assert_int_equal(e->probes, 0);
	assert_memory_equal(e->mac, MAC_B, 6);
	/* Quiet until reachable_ms after the confirmation. */
	wg_arp_age(&k.c, 2 * REACH + RETRY + 4, probe_cb, &log);
	assert_int_equal(log.n, 2);
	assert_int_equal(e->state, WG_ARP_REACHABLE);
	wg_arp_age(&k.c, 2 * REACH + RETRY + 5, probe_cb, &log);
	assert_int_equal(log.n, 3);
	assert_memory_equal(log.mac[2], MAC_B, 6);
	cache_free(&k);
}

static void
test_incomplete_retries_failed_retry(void **state)
{
	struct cache k;
	struct probe_log log = { 0 };
	uint32_t ip = ip4(10, 0, 0, 9);
	const struct wg_arp_entry *e;
	bool need;

	(void)state;
	cache_new(&k, 16, REACH, RETRY, PROBES);
	assert_null(wg_arp_resolve(&k.c, ip, 0, &need));
	assert_true(need);
	e = entry_of(&k.c, ip);
	/* Broadcast re-requests every retry_ms until max_probes were sent. */
	assert_int_equal(wg_arp_age(&k.c, RETRY - 1, probe_cb, &log), 0);
	assert_int_equal(log.n, 0);
	wg_arp_age(&k.c, RETRY, probe_cb, &log);
	assert_int_equal(log.n, 1);
	assert_false(log.unicast[0]);
	assert_int_equal(log.ip[0], ip);
	assert_int_equal(e->probes, 2);
	wg_arp_age(&k.c, 2 * RETRY, probe_cb, &log);
	assert_int_equal(log.n, 2);
	assert_int_equal(e->probes, 3);
	wg_arp_age(&k.c, 3 * RETRY, probe_cb, &log);
	assert_int_equal(log.n, 2);
	assert_int_equal(e->state, WG_ARP_FAILED);
	/* FAILED: no MAC, but a new resolve starts over with one request. */
	assert_null(wg_arp_resolve(&k.c, ip, 3 * RETRY + 10, &need));
	assert_true(need);
	assert_int_equal(e->state, WG_ARP_INCOMPLETE);
	assert_int_equal(e->probes, 1);
	assert_int_equal(e->next_ms, 4 * RETRY + 10);
	assert_null(wg_arp_resolve(&k.c, ip, 3 * RETRY + 11, &need));
	assert_false(need);
	/* Left alone it fails and goes away. */
	wg_arp_age(&k.c, 4 * RETRY + 10, probe_cb, &log);
	wg_arp_age(&k.c, 5 * RETRY + 10, probe_cb, &log);
	assert_int_equal(log.n, 4);
	assert_int_equal(wg_arp_age(&k.c, 6 * RETRY + 10, probe_cb, &log), 0);
	assert_int_equal(e->state, WG_ARP_FAILED);
	assert_int_equal(wg_arp_age(&k.c, 7 * RETRY + 10, probe_cb, &log), 1);
	assert_int_equal(k.c.used, 0);
	/* Nothing left, so a resolve is a fresh miss. */
	assert_null(wg_arp_resolve(&k.c, ip, 8 * RETRY, &need));
	assert_true(need);
	cache_free(&k);
}

static void
test_full_table(void **state)
{
	struct cache k;
	uint32_t i;
	bool need = true;

	(void)state;
	cache_new(&k, 8, REACH, RETRY, PROBES);
	for (i = 1; i <= 6; i++)
		assert_int_equal(wg_arp_confirm(&k.c, ip4(10, 0, 0, (uint8_t)i), MAC_A, 0, true),
				 0);
	assert_int_equal(k.c.used, 6);
	assert_int_equal(wg_arp_confirm(&k.c, ip4(10, 0, 0, 7), MAC_A, 0, true), -ENOSPC);
	errno = 0;
	assert_null(wg_arp_resolve(&k.c, ip4(10, 0, 0, 7), 0, &need));
	assert_false(need);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(k.c.used, 6);
	/* Known entries still update and resolve. */
	assert_int_equal(wg_arp_confirm(&k.c, ip4(10, 0, 0, 3), MAC_B, 1, true), 0);
	assert_memory_equal(wg_arp_resolve(&k.c, ip4(10, 0, 0, 3), 1, &need), MAC_B, 6);
	/* A lookup for an absent key terminates (a FREE slot is left). */
	assert_int_equal(wg_arp_confirm(&k.c, ip4(10, 0, 0, 99), MAC_A, 0, false), 0);
	check_invariant(&k.c);
	/* Room again after a delete. */
	delete_ip(&k.c, ip4(10, 0, 0, 1), 5);
	assert_int_equal(wg_arp_confirm(&k.c, ip4(10, 0, 0, 7), MAC_A, 0, true), 0);
	check_invariant(&k.c);
	cache_free(&k);
}

/* ---- table mechanics ---- */

/* n distinct usable addresses whose home slot is h. */
static void
keys_with_home(uint32_t entries, uint32_t h, uint32_t *out, unsigned int n, uint32_t *next)
{
	unsigned int got = 0;

	while (got < n) {
		uint32_t ip = ip4(10, (uint8_t)(*next >> 16), (uint8_t)(*next >> 8),
				  (uint8_t)*next);

		(*next)++;
		if (home_of(entries, ip) == h)
			out[got++] = ip;
	}
}

static void
insert_all(struct wg_arp_cache *c, const uint32_t *ips, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint8_t mac[6] = { 0x02, 0, 0, 0, 0, (uint8_t)(i + 1) };

		assert_int_equal(wg_arp_confirm(c, ips[i], mac, 0, true), 0);
	}
}

static void
expect_slots(struct wg_arp_cache *c, const uint32_t *ips, const int *slots, unsigned int n)
{
	unsigned int i;
	bool need;

	for (i = 0; i < n; i++) {
		if (slot_of(c, ips[i]) != slots[i])
			fail_msg("key %u at slot %d, expected %d", i, slot_of(c, ips[i]), slots[i]);
	}
	/* And the normal lookup path finds every survivor. */
	for (i = 0; i < n; i++) {
		const uint8_t *mac;

		if (slots[i] < 0)
			continue;
		mac = wg_arp_resolve(c, ips[i], 0, &need);
		assert_non_null(mac);
		assert_false(need);
	}
	check_invariant(c);
}

static void
test_backward_shift_delete(void **state)
{
	struct cache k;
	uint32_t h3[4] = { 0 }, h4[1] = { 0 }, h8[1] = { 0 }, next = 1;
	uint32_t ips[6];
	int slots[6];

	(void)state;
	keys_with_home(16, 3, h3, 4, &next);
	keys_with_home(16, 4, h4, 1, &next);
	keys_with_home(16, 8, h8, 1, &next);
	/* A B C D (home 3) at 3..6, E (home 4) pushed to 7, G (home 8) at 8. */
	ips[0] = h3[0]; ips[1] = h3[1]; ips[2] = h3[2]; ips[3] = h3[3];
	ips[4] = h4[0]; ips[5] = h8[0];
	cache_new(&k, 16, 1000000, RETRY, PROBES);
	insert_all(&k.c, ips, 6);
	expect_slots(&k.c, ips, (const int[]){ 3, 4, 5, 6, 7, 8 }, 6);

	/* Delete B from the middle: C, D, E slide back; G stays home. */
	delete_ip(&k.c, ips[1], 10);
	memcpy(slots, (const int[]){ 3, -1, 4, 5, 6, 8 }, sizeof(slots));
	expect_slots(&k.c, ips, slots, 6);
	assert_int_equal(k.c.tab[7].state, WG_ARP_FREE);

	/* Delete A at the cluster head: C, D and E each move up one. */
	delete_ip(&k.c, ips[0], 10);
	memcpy(slots, (const int[]){ -1, -1, 3, 4, 5, 8 }, sizeof(slots));
	expect_slots(&k.c, ips, slots, 6);

	/* Delete the tail: nothing moves. */
	delete_ip(&k.c, ips[4], 10);
	memcpy(slots, (const int[]){ -1, -1, 3, 4, -1, 8 }, sizeof(slots));
	expect_slots(&k.c, ips, slots, 6);
	cache_free(&k);
}

static void
test_backward_shift_wraps(void **state)
{
	struct cache k;
	uint32_t h14[4] = { 0 }, h15[1] = { 0 }, h0[1] = { 0 }, next = 1;
	uint32_t ips[6];

	(void)state;
	keys_with_home(16, 14, h14, 4, &next);
	keys_with_home(16, 15, h15, 1, &next);
	keys_with_home(16, 0, h0, 1, &next);
	ips[0] = h14[0]; ips[1] = h14[1]; ips[2] = h14[2]; ips[3] = h14[3];
	ips[4] = h15[0]; ips[5] = h0[0];
	cache_new(&k, 16, 1000000, RETRY, PROBES);
	insert_all(&k.c, ips, 6);
	/* 14, 15, then wrap: 0, 1; E (home 15) at 2; F (home 0) at 3. */
	expect_slots(&k.c, ips, (const int[]){ 14, 15, 0, 1, 2, 3 }, 6);
	/* Removing the head shifts everything back across the wrap. */
	delete_ip(&k.c, ips[0], 10);
	expect_slots(&k.c, ips, (const int[]){ -1, 14, 15, 0, 1, 2 }, 6);
	assert_int_equal(k.c.tab[3].state, WG_ARP_FREE);
	delete_ip(&k.c, ips[2], 10);
	expect_slots(&k.c, ips, (const int[]){ -1, 14, -1, 15, 0, 1 }, 6);
	delete_ip(&k.c, ips[3], 10);
	expect_slots(&k.c, ips, (const int[]){ -1, 14, -1, -1, 15, 0 }, 6);
	/* E sits at its home 15 and F at its home 0: neither may move into
	 * the hole at 14, which lies before both homes. */
	delete_ip(&k.c, ips[1], 10);
	expect_slots(&k.c, ips, (const int[]){ -1, -1, -1, -1, 15, 0 }, 6);
	assert_int_equal(k.c.tab[14].state, WG_ARP_FREE);
	cache_free(&k);
}

/* A delete pulls a due entry back into the slot just visited: the same
 * pass must still handle it, and an entry handled before it wrapped must
 * not be handled twice. */
static void
test_age_after_shift(void **state)
{
	struct cache k;
	struct probe_log log = { 0 };
	uint32_t h5[2] = { 0 }, h15[2] = { 0 }, next = 1;

	(void)state;
	keys_with_home(16, 5, h5, 2, &next);
	keys_with_home(16, 15, h15, 2, &next);
	cache_new(&k, 16, REACH, RETRY, PROBES);
	insert_all(&k.c, h5, 2);
	insert_all(&k.c, h15, 2);
	assert_int_equal(slot_of(&k.c, h5[1]), 6);
	assert_int_equal(slot_of(&k.c, h15[1]), 0);
	/* Heads fail now, their followers are due to go STALE now. */
	k.c.tab[5].state = WG_ARP_FAILED;
	k.c.tab[5].next_ms = REACH;
	k.c.tab[15].state = WG_ARP_FAILED;
	k.c.tab[15].next_ms = REACH;
	assert_int_equal(wg_arp_age(&k.c, REACH, probe_cb, &log), 2);
	assert_int_equal(slot_of(&k.c, h5[1]), 5);
	assert_int_equal(slot_of(&k.c, h15[1]), 15);
	assert_int_equal(entry_of(&k.c, h5[1])->state, WG_ARP_STALE);
	assert_int_equal(entry_of(&k.c, h15[1])->state, WG_ARP_STALE);
	assert_int_equal(entry_of(&k.c, h15[1])->probes, 1);
	assert_int_equal(log.n, 2);
	check_invariant(&k.c);
	cache_free(&k);
}

/* Random insert/delete/update against a model; invariant after every op. */
static void
test_random_ops_vs_model(void **state)
{
	enum { NKEYS = 48, CAP = 32 };
	struct cache k;
	uint32_t keys[NKEYS];
	bool present[NKEYS] = { false };
	uint8_t macs[NKEYS][6];
	unsigned int used = 0, i, op;
	uint64_t x = 88172645463325252ull, now = 1;

	(void)state;
	for (i = 0; i < NKEYS; i++)
		keys[i] = ip4(10, 1, (uint8_t)(i / 7), (uint8_t)(i * 37 + 1));
	cache_new(&k, CAP, 1ull << 40, RETRY, PROBES);
	for (op = 0; op < 6000; op++) {
		unsigned int j;

		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		j = (unsigned int)(x % NKEYS);
		now++;
		if ((x >> 32) % 3 != 0) {
			uint8_t mac[6] = { 0x02, 0, (uint8_t)op, (uint8_t)(op >> 8), 0,
					    (uint8_t)j };
			int rc = wg_arp_confirm(&k.c, keys[j], mac, now, true);

			if (!present[j] && used == CAP * 3 / 4) {
				assert_int_equal(rc, -ENOSPC);
			} else {
				assert_int_equal(rc, 0);
				if (!present[j])
					used++;
				present[j] = true;
				memcpy(macs[j], mac, 6);
			}
		} else if (present[j]) {
			delete_ip(&k.c, keys[j], now);
			present[j] = false;
			used--;
		}
		assert_int_equal(k.c.used, used);
		if (op % 16 == 0 || op > 5900)
			check_invariant(&k.c);
		for (i = 0; i < NKEYS; i++) {
			int s = slot_of(&k.c, keys[i]);

			assert_int_equal(s >= 0, present[i]);
			if (present[i]) {
				bool need;
				const uint8_t *m = wg_arp_resolve(&k.c, keys[i], now, &need);

				assert_non_null(m);
				assert_memory_equal(m, macs[i], 6);
			}
		}
	}
	cache_free(&k);
}

/* ---- snapshot ---- */

static void
test_snapshot(void **state)
{
	struct cache k;
	struct wg_arp_entry out[16];
	uint32_t seq, i;
	unsigned int n;
	bool seen[5] = { false };

	(void)state;
	cache_new(&k, 16, REACH, RETRY, PROBES);
	assert_int_equal(wg_arp_snapshot(&k.c, out, 16), 0);
	seq = k.c.seq;
	for (i = 0; i < 5; i++)
		assert_int_equal(wg_arp_confirm(&k.c, ip4(10, 0, 0, (uint8_t)(i + 1)), MAC_A, i,
						 true), 0);
	/* Two increments per write section, even at rest. */
	assert_int_equal(k.c.seq, seq + 10);
	n = wg_arp_snapshot(&k.c, out, 16);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		uint8_t b[4];

		memcpy(b, &out[i].ip, 4);
		assert_int_equal(b[0], 10);
		assert_true(b[3] >= 1 && b[3] <= 5);
		assert_false(seen[b[3] - 1]);
		seen[b[3] - 1] = true;
		assert_int_equal(out[i].state, WG_ARP_REACHABLE);
		assert_int_equal(out[i].confirmed_ms, b[3] - 1u);
		assert_memory_equal(out[i].mac, MAC_A, 6);
	}
	assert_int_equal(wg_arp_snapshot(&k.c, out, 3), 3);
	assert_int_equal(wg_arp_snapshot(&k.c, out, 0), 0);
	/* A writer stuck mid-update: the reader gives up rather than copy. */
	k.c.seq++;
	assert_int_equal(wg_arp_snapshot(&k.c, out, 16), 0);
	k.c.seq++;
	assert_int_equal(wg_arp_snapshot(&k.c, out, 16), 5);
	cache_free(&k);
}

/* Deterministic interleaving: the table straddles two pages and the second
 * is unreadable, so the reader faults halfway through its copy; the handler
 * plays the owner -- a complete write section that restamps every entry --
 * and lets the copy resume. Without the seq re-check the snapshot would mix
 * the halves. */
static struct {
	struct wg_arp_cache *c;
	uint8_t *page2;
	size_t pagesz;
	unsigned int faults;
} mid_write;

static void
mid_write_segv(int sig, siginfo_t *si, void *uc)
{
	uint32_t i;

	(void)sig;
	(void)uc;
	if ((uint8_t *)si->si_addr < mid_write.page2 ||
	    (uint8_t *)si->si_addr >= mid_write.page2 + mid_write.pagesz)
		abort();
	mid_write.faults++;
	mprotect(mid_write.page2, mid_write.pagesz, PROT_READ | PROT_WRITE);
	mid_write.c->seq++;
	for (i = 0; i <= mid_write.c->mask; i++)
		mid_write.c->tab[i].confirmed_ms = 2;
	mid_write.c->seq++;
}

static void
test_snapshot_retries_torn_copy(void **state)
{
	struct wg_arp_cache c;
	struct wg_arp_entry out[16];
	struct sigaction sa, old;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *mem;
	uint32_t i;
	unsigned int n;

	(void)state;
	mem = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	/* 8 entries at the end of page 1, 8 at the start of page 2. */
	assert_int_equal(wg_arp_cache_init(&c, mem + pg - 8 * sizeof(struct wg_arp_entry), 16,
					   REACH, RETRY, PROBES), 0);
	for (i = 0; i < 16; i++) {
		c.tab[i].ip = ip4(10, 0, 0, (uint8_t)(i + 1));
		memcpy(c.tab[i].mac, MAC_A, 6);
		c.tab[i].state = WG_ARP_REACHABLE;
		c.tab[i].confirmed_ms = 1;
	}
	c.seq = 4;
	mid_write.c = &c;
	mid_write.page2 = mem + pg;
	mid_write.pagesz = pg;
	mid_write.faults = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = mid_write_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGSEGV, &sa, &old), 0);
	assert_int_equal(mprotect(mem + pg, pg, PROT_NONE), 0);

	n = wg_arp_snapshot(&c, out, 16);

	sigaction(SIGSEGV, &old, NULL);
	assert_int_equal(mid_write.faults, 1);
	assert_int_equal(n, 16);
	for (i = 0; i < n; i++)
		if (out[i].confirmed_ms != 2)
			fail_msg("entry %u copied before the write (torn snapshot)", i);
	munmap(mem, 2 * pg);
}

struct race {
	struct wg_arp_cache *c;
	bool started;          /* writer running: the reader starts timing */
	bool stop;             /* reader has done its share */
	uint64_t gens;
};

/* An owner write through the same seqcount protocol, but slow: the MAC is
 * stamped, then time passes, then the timestamps. Readers that do not
 * re-check seq after copying see the halves disagree. */
static void
slow_write(struct wg_arp_cache *c, struct wg_arp_entry *e, const uint8_t *mac, uint64_t g)
{
	volatile unsigned int spin;

	unsigned int i;

	__atomic_store_n(&c->seq, c->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (i = 0; i < 6; i++)
		__atomic_store_n(&e->mac[i], mac[i], __ATOMIC_RELAXED);
	for (spin = 0; spin < 1000; spin++)
		;
	__atomic_store_n(&e->confirmed_ms, g, __ATOMIC_RELAXED);
	__atomic_store_n(&e->next_ms, g + REACH, __ATOMIC_RELAXED);
	__atomic_store_n(&c->seq, c->seq + 1, __ATOMIC_RELEASE);
}

/* Each write stamps one generation into mac[2..5], confirmed_ms and
 * next_ms: a torn copy shows disagreeing fields. */
static void *
race_writer(void *arg)
{
	struct race *r = arg;
	uint64_t g;

	__atomic_store_n(&r->started, true, __ATOMIC_RELEASE);
	for (g = 1; !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE); g++) {
		uint8_t mac[6] = { 0x02, 0x00, (uint8_t)(g >> 24), (uint8_t)(g >> 16),
				   (uint8_t)(g >> 8), (uint8_t)g };
		uint32_t ip = ip4(10, 0, 0, (uint8_t)(1 + g % 8));
		int s = slot_of(r->c, ip);

		if (g % 4 == 0 && s >= 0 && r->c->tab[s].state == WG_ARP_REACHABLE)
			slow_write(r->c, &r->c->tab[s], mac, g);
		else if (wg_arp_confirm(r->c, ip, mac, g, true) != 0)
			abort();
		/* Deletes shift entries around under the reader too. */
		if (g % 64 == 0) {
			s = slot_of(r->c, ip4(10, 0, 0, (uint8_t)(1 + (g / 64) % 8)));
			if (s >= 0) {
				/* Owner-side state change inside a write section. */
				__atomic_store_n(&r->c->seq, r->c->seq + 1, __ATOMIC_RELAXED);
				__atomic_thread_fence(__ATOMIC_RELEASE);
				__atomic_store_n(&r->c->tab[s].state, WG_ARP_FAILED,
						 __ATOMIC_RELAXED);
				__atomic_store_n(&r->c->tab[s].next_ms, 0, __ATOMIC_RELAXED);
				__atomic_store_n(&r->c->seq, r->c->seq + 1, __ATOMIC_RELEASE);
				wg_arp_age(r->c, 0, NULL, NULL);
			}
		}
	}
	r->gens = g;
	return NULL;
}

static void
test_snapshot_concurrent(void **state)
{
	struct cache k;
	struct race r;
	pthread_t th;
	struct wg_arp_entry out[16];
	unsigned long ok = 0, entries = 0, iter;

	(void)state;
	cache_new(&k, 16, REACH, RETRY, PROBES);
	r.c = &k.c;
	r.started = r.stop = false;
	r.gens = 0;
	assert_int_equal(pthread_create(&th, NULL, race_writer, &r), 0);
	while (!__atomic_load_n(&r.started, __ATOMIC_ACQUIRE))
		;
	for (iter = 0; iter < 200000; iter++) {
		unsigned int n = wg_arp_snapshot(&k.c, out, 16), i;

		for (i = 0; i < n; i++) {
			uint64_t g = (uint64_t)out[i].mac[2] << 24 | (uint64_t)out[i].mac[3] << 16 |
				     (uint64_t)out[i].mac[4] << 8 | out[i].mac[5];
			uint8_t b[4];

			memcpy(b, &out[i].ip, 4);
			/* FAILED with next_ms 0 is the writer's delete marker. */
			if (out[i].confirmed_ms != g || b[3] != 1 + g % 8 ||
			    (out[i].state == WG_ARP_REACHABLE ? out[i].next_ms != g + REACH :
			     out[i].state != WG_ARP_FAILED || out[i].next_ms != 0))
				fail_msg("torn entry: gen %llu confirmed %llu",
					 (unsigned long long)g,
					 (unsigned long long)out[i].confirmed_ms);
		}
		ok += n > 0;
		entries += n;
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	assert_true(r.gens > 1000);
	assert_true(ok > 0);
	assert_true(entries > ok);
	assert_int_equal(k.c.seq & 1, 0);
	check_invariant(&k.c);
	cache_free(&k);
}

/* ---- frames ---- */

static void
test_build_request_and_announce(void **state)
{
	struct wg_iface ifc = { 0 };
	uint8_t buf[64];
	static const uint8_t want_bcast[60] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55,
		0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
		0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 10, 0, 0, 1,
		0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
	};
	uint8_t want[60];

	(void)state;
	memcpy(ifc.mac, MAC_A, 6);
	ifc.ipv4 = ip4(10, 0, 0, 1);
	memset(buf, 0xcc, sizeof(buf));
	assert_int_equal(wg_arp_build_request(&ifc, ip4(10, 0, 0, 2), NULL, buf, 64), 60);
	assert_memory_equal(buf, want_bcast, 60);
	assert_int_equal(buf[60], 0xcc);           /* nothing past 60 */

	/* Unicast probe: only the Ethernet destination differs. */
	memcpy(want, want_bcast, 60);
	memcpy(want, MAC_B, 6);
	assert_int_equal(wg_arp_build_request(&ifc, ip4(10, 0, 0, 2), MAC_B, buf, 60), 60);
	assert_memory_equal(buf, want, 60);

	memset(buf, 0xcc, sizeof(buf));
	assert_int_equal(wg_arp_build_request(&ifc, ip4(10, 0, 0, 2), NULL, buf, 59), 0);
	assert_int_equal(buf[0], 0xcc);
	assert_int_equal(wg_arp_build_request(&ifc, ip4(10, 0, 0, 2), NULL, NULL, 64), 0);

	/* Announcement: sender and target are both us. */
	memcpy(want, want_bcast, 60);
	want[41] = 1;
	assert_int_equal(wg_arp_build_announce(&ifc, buf, 60), 60);
	assert_memory_equal(buf, want, 60);
	assert_int_equal(wg_arp_build_announce(&ifc, buf, 42), 0);
}

static void
test_names_and_dump(void **state)
{
	struct cache k;
	char *buf = NULL, want[512];
	size_t sz = 0;
	FILE *f;
	int s;
	bool need;

	(void)state;
	assert_string_equal(wg_arp_state_name(WG_ARP_FREE), "free");
	assert_string_equal(wg_arp_state_name(WG_ARP_INCOMPLETE), "incomplete");
	assert_string_equal(wg_arp_state_name(WG_ARP_REACHABLE), "reachable");
	assert_string_equal(wg_arp_state_name(WG_ARP_STALE), "stale");
	assert_string_equal(wg_arp_state_name(WG_ARP_FAILED), "failed");
	assert_string_equal(wg_arp_state_name(77), "invalid");

	cache_new(&k, 8, REACH, RETRY, PROBES);
	assert_int_equal(wg_arp_confirm(&k.c, ip4(192, 168, 1, 20), MAC_B, 42, true), 0);
	s = slot_of(&k.c, ip4(192, 168, 1, 20));
	f = open_memstream(&buf, &sz);
	assert_non_null(f);
	wg_arp_dump(f, &k.c);
	fclose(f);
	snprintf(want, sizeof(want),
		 "arp cache: capacity 8 used 1 seq 2 reachable_ms 1000 retry_ms 100 max_probes 3\n"
		 "  slot %d 192.168.1.20 02:66:77:88:99:aa reachable probes 0 confirmed_ms 42"
		 " next_ms 1042\n", s);
	assert_string_equal(buf, want);
	free(buf);
	assert_null(wg_arp_resolve(&k.c, ip4(192, 168, 1, 21), 50, &need));
	buf = NULL;
	f = open_memstream(&buf, &sz);
	wg_arp_dump(f, &k.c);
	fclose(f);
	assert_non_null(strstr(buf, " 192.168.1.21 00:00:00:00:00:00 incomplete probes 1"
			       " confirmed_ms 0 next_ms 150\n"));
	free(buf);
	cache_free(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_resolve_miss_then_confirm),
		cmocka_unit_test(test_confirm_create_and_invalid),
		cmocka_unit_test(test_reachable_stale_failed_removed),
		cmocka_unit_test(test_stale_confirmed_again),
		cmocka_unit_test(test_incomplete_retries_failed_retry),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_backward_shift_delete),
		cmocka_unit_test(test_backward_shift_wraps),
		cmocka_unit_test(test_age_after_shift),
		cmocka_unit_test(test_random_ops_vs_model),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_snapshot_retries_torn_copy),
		cmocka_unit_test(test_snapshot_concurrent),
		cmocka_unit_test(test_build_request_and_announce),
		cmocka_unit_test(test_names_and_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
