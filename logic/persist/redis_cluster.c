/* SPDX-License-Identifier: BSD-3-Clause
 * Redis Cluster pieces that need no connection: key slots (CRC16/XMODEM
 * modulo 16384, hash tags), MOVED/ASK parsing, and the slot map built from
 * CLUSTER SLOTS. Everything parsed here comes from the network, so every
 * field is checked before the map changes; a bad reply leaves it untouched.
 */
#include <errno.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "redis.h"

/* CRC16-CCITT (XMODEM: poly 0x1021, init 0, no reflection), the function
 * Redis Cluster specifies for key slots. Table built on first use. */
static uint16_t crc16_tab[256];
static int crc16_ready;

static void
crc16_init(void)
{
	for (unsigned int i = 0; i < 256; i++) {
		uint16_t c = (uint16_t)(i << 8);

		for (int b = 0; b < 8; b++)
			c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
		crc16_tab[i] = c;
	}
	crc16_ready = 1;
}

uint16_t
wg_redis_crc16(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint16_t crc = 0;

	if (!crc16_ready)
		crc16_init();
	while (len--)
		crc = (uint16_t)((crc << 8) ^ crc16_tab[((crc >> 8) ^ *p++) & 0xff]);
	return crc;
}

/* Only the part between the first '{' and the next '}' is hashed, if that
 * part is non-empty; "{}" or an unclosed '{' hash the whole key. */
uint16_t
wg_redis_key_slot(const char *key, size_t len)
{
	const char *open = memchr(key, '{', len);

	if (open != NULL) {
		size_t rest = len - (size_t)(open - key) - 1;
		const char *close = memchr(open + 1, '}', rest);

		if (close != NULL && close > open + 1)
			return wg_redis_crc16(open + 1, (size_t)(close - open - 1)) & (WG_REDIS_SLOTS - 1);
	}
	return wg_redis_crc16(key, len) & (WG_REDIS_SLOTS - 1);
}

static int
parse_uint(const char *s, size_t len, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (len == 0 || len > 10)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* "host:port" with host possibly empty or an IPv6 literal (last ':' splits). */
int
wg_redis_parse_hostport(const char *s, size_t len, struct wg_redis_addr *a)
{
	const char *colon = NULL;
	unsigned long port;
	size_t hlen;

	for (size_t i = len; i > 0; i--) {
		if (s[i - 1] == ':') {
			colon = s + i - 1;
			break;
		}
	}
	if (colon == NULL)
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (hlen >= sizeof(a->host))
		return -ENAMETOOLONG;
	if (parse_uint(colon + 1, len - hlen - 1, 65535, &port) < 0 || port == 0)
		return -EINVAL;
	for (size_t i = 0; i < hlen; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return -EINVAL;
	memcpy(a->host, s, hlen);
	a->host[hlen] = '\0';
	a->port = (uint16_t)port;
	return 0;
}

int
wg_redis_parse_redirect(const char *err, size_t len, struct wg_redis_redirect *out)
{
	const char *p, *end = err + len, *sp;
	unsigned long slot;
	size_t kw;

	if (len > 5 && memcmp(err, "MOVED ", 6) == 0) {
		out->kind = WG_REDIS_MOVED;
		kw = 6;
	} else if (len > 3 && memcmp(err, "ASK ", 4) == 0) {
		out->kind = WG_REDIS_ASK;
		kw = 4;
	} else {
		return -ENOENT;
	}
	p = err + kw;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL)
		return -EINVAL;
	if (parse_uint(p, (size_t)(sp - p), WG_REDIS_SLOTS - 1, &slot) < 0)
		return -EINVAL;
	out->slot = (uint16_t)slot;
	return wg_redis_parse_hostport(sp + 1, (size_t)(end - sp - 1), &out->addr);
}

void
wg_redis_slotmap_init(struct wg_redis_slotmap *m)
{
	for (unsigned int i = 0; i < WG_REDIS_SLOTS; i++)
		m->owner[i] = WG_REDIS_NO_NODE;
	m->n_nodes = 0;
	m->epoch = 0;
}

/* Index of the node with this address, added if new. */
int
wg_redis_slotmap_node(struct wg_redis_slotmap *m, const struct wg_redis_addr *a)
{
	for (unsigned int i = 0; i < m->n_nodes; i++)
		if (m->node[i].port == a->port && strcmp(m->node[i].host, a->host) == 0)
			return (int)i;
	if (m->n_nodes == WG_REDIS_MAX_NODES)
		return -ENOSPC;
	m->node[m->n_nodes] = *a;
	m->epoch++;
	return (int)m->n_nodes++;
}

/* The master entry of one CLUSTER SLOTS range: [host, port, id, ...]. */
static int
slot_master(const redisReply *e, const char *default_host, struct wg_redis_addr *a)
{
	const redisReply *h, *p;

	if (e->type != REDIS_REPLY_ARRAY || e->elements < 2)
		return -EPROTO;
	h = e->element[0];
	p = e->element[1];
	if (h == NULL || p == NULL || h->type != REDIS_REPLY_STRING ||
	    p->type != REDIS_REPLY_INTEGER || p->integer <= 0 || p->integer > 65535)
		return -EPROTO;
	/* "" and "?" mean "the address you reached me on" */
	if (h->len == 0 || (h->len == 1 && h->str[0] == '?')) {
		if (strlen(default_host) >= sizeof(a->host))
			return -ENAMETOOLONG;
		strcpy(a->host, default_host);
	} else {
		if (h->len >= sizeof(a->host) || memchr(h->str, '\0', h->len) != NULL)
			return -EPROTO;
		for (size_t i = 0; i < h->len; i++)
			if ((unsigned char)h->str[i] <= ' ')
				return -EPROTO;
		memcpy(a->host, h->str, h->len);
		a->host[h->len] = '\0';
	}
	a->port = (uint16_t)p->integer;
	return 0;
}

static int
slot_range(const redisReply *e, long long *lo, long long *hi)
{
	if (e == NULL || e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
	    e->element[0] == NULL || e->element[1] == NULL || e->element[2] == NULL ||
	    e->element[0]->type != REDIS_REPLY_INTEGER ||
	    e->element[1]->type != REDIS_REPLY_INTEGER)
		return -EPROTO;
	*lo = e->element[0]->integer;
	*hi = e->element[1]->integer;
	if (*lo < 0 || *hi >= WG_REDIS_SLOTS || *lo > *hi)
		return -EPROTO;
	return 0;
}

/* Replace the map's slot owners with a CLUSTER SLOTS reply. Validated in a
 * first pass (nothing changes on a bad reply); slots the reply does not
 * cover become unowned. Returns the number of slots covered. */
int
wg_redis_slotmap_apply_slots(struct wg_redis_slotmap *m, const redisReply *r,
			     const char *default_host)
{
	struct wg_redis_addr a;
	unsigned int new_nodes = 0;
	long long lo, hi;
	int covered = 0, rc;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return -EPROTO;
	for (size_t i = 0; i < r->elements; i++) {
		if ((rc = slot_range(r->element[i], &lo, &hi)) < 0)
			return rc;
		if ((rc = slot_master(r->element[i]->element[2], default_host, &a)) < 0)
			return rc;
		bool known = false;
		for (unsigned int n = 0; n < m->n_nodes && !known; n++)
			known = m->node[n].port == a.port && strcmp(m->node[n].host, a.host) == 0;
		/* over-counts repeats of one new node; only matters near the cap */
		if (!known)
			new_nodes++;
	}
	if (m->n_nodes + new_nodes > WG_REDIS_MAX_NODES) {
		/* repeats may still fit: count exactly before refusing */
		struct wg_redis_slotmap probe_nodes;

		probe_nodes.n_nodes = m->n_nodes;
		memcpy(probe_nodes.node, m->node, sizeof(m->node));
		for (size_t i = 0; i < r->elements; i++) {
			slot_master(r->element[i]->element[2], default_host, &a);
			if (wg_redis_slotmap_node(&probe_nodes, &a) < 0)
				return -ENOSPC;
		}
	}
	for (unsigned int s = 0; s < WG_REDIS_SLOTS; s++)
		m->owner[s] = WG_REDIS_NO_NODE;
	for (size_t i = 0; i < r->elements; i++) {
		int idx;

		slot_range(r->element[i], &lo, &hi);
		slot_master(r->element[i]->element[2], default_host, &a);
		idx = wg_redis_slotmap_node(m, &a);
		for (long long s = lo; s <= hi; s++) {
			if (m->owner[s] == WG_REDIS_NO_NODE)
				covered++;
			m->owner[s] = (uint16_t)idx;
		}
	}
	m->epoch++;
	return covered;
}

/* MOVED: the slot now lives at the given node. ASK changes nothing (it is
 * a one-shot redirection during a migration). Returns the target node. */
int
wg_redis_slotmap_apply_redirect(struct wg_redis_slotmap *m,
				const struct wg_redis_redirect *rd,
				const char *default_host)
{
	struct wg_redis_addr a = rd->addr;
	int idx;

	if (a.host[0] == '\0') {
		if (strlen(default_host) >= sizeof(a.host))
			return -ENAMETOOLONG;
		strcpy(a.host, default_host);
	}
	idx = wg_redis_slotmap_node(m, &a);
	if (idx < 0)
		return idx;
	if (rd->kind == WG_REDIS_MOVED && m->owner[rd->slot] != idx) {
		m->owner[rd->slot] = (uint16_t)idx;
		m->epoch++;
	}
	return idx;
}
