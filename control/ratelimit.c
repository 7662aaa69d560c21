/* SPDX-License-Identifier: BSD-3-Clause
 * Per-IP limits: a fixed array of entries, a linear-probing index keyed by
 * a seeded hash (sources are attacker-chosen, so their slots must not be
 * predictable), and an LRU list holding only the entries without live
 * sessions — the only ones eviction may take. Everything is O(1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ratelimit.h"
#include "mix.h"

#define NIL UINT32_MAX

struct ip_ent {
	uint8_t key[16];           /* masked address */
	struct wg_rl_bucket logins;
	uint32_t sessions;
	uint32_t prev, next;       /* LRU (idle entries) or free list */
	bool used;
	bool idle;                 /* on the LRU list */
};

struct wg_rl {
	struct wg_rl_conf conf;
	struct ip_ent *e;
	uint32_t *idx;             /* index: entry + 1, 0 = empty */
	uint32_t mask;
	uint32_t free_head;
	uint32_t lru_head, lru_tail;   /* head: least recently used */
	uint64_t k0, k1;
	struct wg_rl_stats st;
};


static inline uint32_t
home(const struct wg_rl *rl, const uint8_t *key)
{
	uint64_t a, b;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	return (uint32_t)wg_mix64(wg_mix64(a ^ rl->k0) + (b ^ rl->k1)) & rl->mask;
}

static bool
is_v4mapped(const uint8_t *ip)
{
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(ip, pfx, 12) == 0;
}

static void
mkkey(const struct wg_rl *rl, const uint8_t *ip, uint8_t *key)
{
	unsigned int bits = rl->conf.ipv6_prefix;

	memcpy(key, ip, 16);
	if (bits == 0 || bits >= 128 || is_v4mapped(ip))
		return;
	key[bits / 8] &= (uint8_t)(0xff00u >> (bits % 8));
	memset(key + bits / 8 + 1, 0, 15 - bits / 8);
}

static uint32_t
find(const struct wg_rl *rl, const uint8_t *key)
{
	for (uint32_t i = home(rl, key); rl->idx[i] != 0; i = (i + 1) & rl->mask)
		if (memcmp(rl->e[rl->idx[i] - 1].key, key, 16) == 0)
			return rl->idx[i] - 1;
	return NIL;
}

static void
idx_insert(struct wg_rl *rl, uint32_t ent)
{
	uint32_t i = home(rl, rl->e[ent].key);

	while (rl->idx[i] != 0)
		i = (i + 1) & rl->mask;
	rl->idx[i] = ent + 1;
}

/* Backward-shift deletion (see session.c). */
static void
idx_remove(struct wg_rl *rl, uint32_t ent)
{
	uint32_t i = home(rl, rl->e[ent].key), j;

	while (rl->idx[i] != ent + 1)
		i = (i + 1) & rl->mask;
	for (j = (i + 1) & rl->mask; rl->idx[j] != 0; j = (j + 1) & rl->mask) {
		uint32_t h = home(rl, rl->e[rl->idx[j] - 1].key);

		if (((j - h) & rl->mask) >= ((j - i) & rl->mask)) {
			rl->idx[i] = rl->idx[j];
			i = j;
		}
	}
	rl->idx[i] = 0;
}

static void
lru_unlink(struct wg_rl *rl, uint32_t i)
{
	struct ip_ent *e = &rl->e[i];

	if (e->prev != NIL)
		rl->e[e->prev].next = e->next;
	else
		rl->lru_head = e->next;
	if (e->next != NIL)
		rl->e[e->next].prev = e->prev;
	else
		rl->lru_tail = e->prev;
	e->prev = e->next = NIL;
	e->idle = false;
	rl->st.ips_idle--;
}

static void
lru_append(struct wg_rl *rl, uint32_t i)
{
	struct ip_ent *e = &rl->e[i];

	e->prev = rl->lru_tail;
	e->next = NIL;
	if (rl->lru_tail != NIL)
		rl->e[rl->lru_tail].next = i;
	else
		rl->lru_head = i;
	rl->lru_tail = i;
	e->idle = true;
	rl->st.ips_idle++;
}

static void
touch(struct wg_rl *rl, uint32_t i)
{
	if (rl->e[i].idle && rl->lru_tail != i) {
		lru_unlink(rl, i);
		lru_append(rl, i);
	}
}

/* Entry for ip, created (evicting the least recently used idle entry if
 * the table is full) when absent. NIL when full of busy entries. */
static uint32_t
get(struct wg_rl *rl, const uint8_t *ip, uint64_t now)
{
	uint8_t key[16];
	uint32_t i;

	mkkey(rl, ip, key);
	i = find(rl, key);
	if (i != NIL) {
		touch(rl, i);
		return i;
	}
	if (rl->free_head != NIL) {
		i = rl->free_head;
		rl->free_head = rl->e[i].next;
	} else if (rl->lru_head != NIL) {
		i = rl->lru_head;
		lru_unlink(rl, i);
		idx_remove(rl, i);
		rl->st.evictions++;
		rl->st.ips--;
	} else {
		rl->st.table_full++;
		return NIL;
	}
	memset(&rl->e[i], 0, sizeof(rl->e[i]));
	memcpy(rl->e[i].key, key, 16);
	rl->e[i].used = true;
	rl->e[i].prev = rl->e[i].next = NIL;
	wg_rl_bucket_init(&rl->e[i].logins, rl->conf.ip_logins_per_s, rl->conf.ip_logins_burst,
			  now);
	idx_insert(rl, i);
	lru_append(rl, i);
	rl->st.ips++;
	return i;
}

struct wg_rl *
wg_rl_create(const struct wg_rl_conf *conf)
{
	struct wg_rl *rl;
	uint32_t cap = 16;

	if (conf->max_ips == 0 || conf->max_ips > (1u << 24) || conf->ipv6_prefix > 128) {
		errno = EINVAL;
		return NULL;
	}
	while (cap < 2 * conf->max_ips)
		cap <<= 1;
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL)
		return NULL;
	rl->conf = *conf;
	rl->e = calloc(conf->max_ips, sizeof(*rl->e));
	rl->idx = calloc(cap, sizeof(*rl->idx));
	if (rl->e == NULL || rl->idx == NULL ||
	    RAND_bytes((unsigned char *)&rl->k0, sizeof(rl->k0)) != 1 ||
	    RAND_bytes((unsigned char *)&rl->k1, sizeof(rl->k1)) != 1) {
		wg_rl_destroy(rl);
		errno = ENOMEM;
		return NULL;
	}
	rl->mask = cap - 1;
	for (uint32_t i = 0; i < conf->max_ips; i++)
		rl->e[i].next = i + 1 < conf->max_ips ? i + 1 : NIL;
	rl->free_head = 0;
	rl->lru_head = rl->lru_tail = NIL;
	return rl;
}

void
wg_rl_destroy(struct wg_rl *rl)
{
	if (rl == NULL)
		return;
	free(rl->e);
	free(rl->idx);
	free(rl);
}

int
wg_rl_login(struct wg_rl *rl, const uint8_t ip[16], uint64_t now_ms)
{
	uint32_t i = get(rl, ip, now_ms);

	if (i == NIL)
		return -ENOSPC;
	if (!wg_rl_bucket_take(&rl->e[i].logins, 1, now_ms)) {
		rl->st.logins_limited++;
		return -EAGAIN;
	}
	rl->st.logins_ok++;
	return 0;
}

int
wg_rl_session_open(struct wg_rl *rl, const uint8_t ip[16], uint64_t now_ms)
{
	uint32_t i = get(rl, ip, now_ms);
	struct ip_ent *e;

	if (i == NIL)
		return -ENOSPC;
	e = &rl->e[i];
	if (rl->conf.ip_max_sessions && e->sessions >= rl->conf.ip_max_sessions) {
		rl->st.sessions_refused++;
		return -EUSERS;
	}
	if (e->idle)
		lru_unlink(rl, i);
	e->sessions++;
	return 0;
}

int
wg_rl_session_close(struct wg_rl *rl, const uint8_t ip[16], uint64_t now_ms)
{
	uint8_t key[16];
	uint32_t i;

	(void)now_ms;
	mkkey(rl, ip, key);
	i = find(rl, key);
	if (i == NIL)
		return -ENOENT;
	if (rl->e[i].sessions == 0)
		return -ERANGE;
	if (--rl->e[i].sessions == 0)
		lru_append(rl, i);
	return 0;
}

uint32_t
wg_rl_ip_sessions(const struct wg_rl *rl, const uint8_t ip[16])
{
	uint8_t key[16];
	uint32_t i;

	mkkey(rl, ip, key);
	i = find(rl, key);
	return i == NIL ? 0 : rl->e[i].sessions;
}

bool
wg_rl_ip_tracked(const struct wg_rl *rl, const uint8_t ip[16])
{
	uint8_t key[16];

	mkkey(rl, ip, key);
	return find(rl, key) != NIL;
}

void
wg_rl_ip_from_v4(uint32_t addr, uint8_t out[16])
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	out[12] = (uint8_t)(addr >> 24);
	out[13] = (uint8_t)(addr >> 16);
	out[14] = (uint8_t)(addr >> 8);
	out[15] = (uint8_t)addr;
}

void
wg_rl_stats(const struct wg_rl *rl, struct wg_rl_stats *st)
{
	*st = rl->st;
}

void
wg_rl_dump(FILE *f, const struct wg_rl *rl)
{
	const struct wg_rl_stats *s = &rl->st;

	fprintf(f, "ratelimit: %u/%u IPs (%u idle), logins ok %llu limited %llu, "
		"sessions refused %llu, table full %llu, evictions %llu\n",
		s->ips, rl->conf.max_ips, s->ips_idle, (unsigned long long)s->logins_ok,
		(unsigned long long)s->logins_limited, (unsigned long long)s->sessions_refused,
		(unsigned long long)s->table_full, (unsigned long long)s->evictions);
}
