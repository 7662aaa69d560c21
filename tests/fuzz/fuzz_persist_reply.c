/* SPDX-License-Identifier: BSD-3-Clause
 * The parsers logic/persist runs on what Redis sends back: CLUSTER SLOTS
 * replies into the slot map, MOVED/ASK errors (and the map update they
 * cause), "host:port" text and cached entity values. The input is a RESP
 * stream, parsed by hiredis' reader exactly as the client does, fed in
 * pseudo-random chunks. Properties checked, not just "no crash":
 *  - a refused CLUSTER SLOTS reply leaves the map byte-for-byte unchanged;
 *    an accepted one names only known nodes, covers exactly the number of
 *    slots it reports, and keeps every host printable and NUL-terminated;
 *  - a parsed redirect has a valid slot and port and survives a
 *    format/parse round trip; MOVED moves exactly that slot, ASK nothing;
 *  - a decoded cached entity re-encodes to a value that decodes the same,
 *    and its data lies inside the input.
 *
 * Input: byte 0 = chunking seed, the rest is the RESP stream.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "logic/persist/persist_cache.h"
#include "logic/persist/redis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wg_redis_slotmap map, before;

static void
check_map(const struct wg_redis_slotmap *m, int covered)
{
	int owned = 0;

	if (m->n_nodes > WG_REDIS_MAX_NODES)
		abort();
	for (unsigned int s = 0; s < WG_REDIS_SLOTS; s++) {
		if (m->owner[s] == WG_REDIS_NO_NODE)
			continue;
		if (m->owner[s] >= m->n_nodes)
			abort();
		owned++;
	}
	if (covered >= 0 && covered != owned)
		abort();
	for (unsigned int n = 0; n < m->n_nodes; n++) {
		const char *h = m->node[n].host;
		size_t len = strnlen(h, sizeof(m->node[n].host));

		if (len == sizeof(m->node[n].host) || m->node[n].port == 0)
			abort();
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)h[i] <= ' ')
				abort();
	}
}

static void
check_redirect(const char *s, size_t len)
{
	struct wg_redis_redirect rd, again;
	char buf[128];
	int n, idx;
	uint16_t prev;

	if (wg_redis_parse_redirect(s, len, &rd) != 0)
		return;
	if (rd.slot >= WG_REDIS_SLOTS || rd.addr.port == 0 ||
	    (rd.kind != WG_REDIS_MOVED && rd.kind != WG_REDIS_ASK))
		abort();
	n = snprintf(buf, sizeof(buf), "%s %u %s:%u", rd.kind == WG_REDIS_MOVED ? "MOVED" : "ASK",
		     rd.slot, rd.addr.host, rd.addr.port);
	if (n < 0 || (size_t)n >= sizeof(buf) ||
	    wg_redis_parse_redirect(buf, (size_t)n, &again) != 0 ||
	    again.kind != rd.kind || again.slot != rd.slot || again.addr.port != rd.addr.port ||
	    strcmp(again.addr.host, rd.addr.host) != 0)
		abort();
	memcpy(&before, &map, sizeof(map));
	prev = map.owner[rd.slot];
	idx = wg_redis_slotmap_apply_redirect(&map, &rd, "127.0.0.1");
	if (idx < 0) {
		if (memcmp(&before, &map, sizeof(map)) != 0)
			abort();
		return;
	}
	if ((unsigned int)idx >= map.n_nodes)
		abort();
	if (rd.kind == WG_REDIS_MOVED && map.owner[rd.slot] != idx)
		abort();
	if (rd.kind == WG_REDIS_ASK && map.owner[rd.slot] != prev)
		abort();
	check_map(&map, -1);
}

static void
check_entity(const char *s, size_t len)
{
	const void *d, *d2;
	uint64_t v, f, v2, f2;
	size_t dl, dl2;
	char *enc;
	int h;

	if (wg_cache_entity_decode(s, len, &v, &f, &d, &dl) != 0)
		return;
	if ((const char *)d < s || (const char *)d + dl != s + len)
		abort();
	enc = malloc(48 + dl);
	if (enc == NULL)
		return;
	h = snprintf(enc, 48, "%llu:%llu:", (unsigned long long)v, (unsigned long long)f);
	memcpy(enc + h, d, dl);
	if (wg_cache_entity_decode(enc, (size_t)h + dl, &v2, &f2, &d2, &dl2) != 0 ||
	    v2 != v || f2 != f || dl2 != dl || memcmp(d2, d, dl) != 0)
		abort();
	free(enc);
}

static void
visit(const redisReply *r, int depth)
{
	struct wg_redis_addr a;

	switch (r->type) {
	case REDIS_REPLY_ERROR:
	case REDIS_REPLY_STATUS:
	case REDIS_REPLY_STRING:
		check_redirect(r->str, r->len);
		check_entity(r->str, r->len);
		if (wg_redis_parse_hostport(r->str, r->len, &a) == 0 &&
		    (a.port == 0 || strnlen(a.host, sizeof(a.host)) == sizeof(a.host)))
			abort();
		break;
	case REDIS_REPLY_ARRAY:
		for (size_t i = 0; i < r->elements && depth < 8; i++)
			visit(r->element[i], depth + 1);
		break;
	default:
		break;
	}
}

static void
on_reply(const redisReply *r)
{
	int rc;

	/* every reply is offered as a slot map: most are refused, untouched */
	memcpy(&before, &map, sizeof(map));
	rc = wg_redis_slotmap_apply_slots(&map, r, "10.0.0.1");
	if (rc < 0) {
		if (memcmp(&before, &map, sizeof(map)) != 0)
			abort();
	} else {
		check_map(&map, rc);
	}
	visit(r, 0);
}

/* hiredis 0.14 allocates an aggregate's element array from the declared
 * count before reading any element ("*355555550" is a 2.8 GB calloc); that
 * is hiredis, not our parsers, and our servers are configured, trusted
 * ones (hiredis 1.x caps it with maxelements). Inputs declaring more
 * elements than any real reply are not ours to test. */
static int
huge_aggregate(const uint8_t *p, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t v = 0;
		size_t j;

		if (p[i] != '*' || (i > 1 && p[i - 1] != '\n'))
			continue;
		for (j = i + 1; j < n && p[j] >= '0' && p[j] <= '9' && v <= (1u << 20); j++)
			v = v * 10 + (uint64_t)(p[j] - '0');
		if (v > (1u << 20))
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_redis_addr seed = { "127.0.0.1", 7000 };
	redisReader *rd;
	uint32_t x;
	size_t off = 1;

	if (size < 1 || huge_aggregate(data, size))
		return 0;
	x = data[0] * 2654435761u + 1;
	wg_redis_slotmap_init(&map);
	wg_redis_slotmap_node(&map, &seed);
	rd = redisReaderCreate();
	if (rd == NULL)
		return 0;
	while (off < size) {
		size_t n;
		void *rep = NULL;

		x = x * 1103515245u + 12345u;
		n = 1 + (x >> 16) % 64;
		if (n > size - off)
			n = size - off;
		if (redisReaderFeed(rd, (const char *)data + off, n) != REDIS_OK)
			break;
		off += n;
		for (;;) {
			if (redisReaderGetReply(rd, &rep) != REDIS_OK)
				goto out;           /* protocol error: hiredis drops the link */
			if (rep == NULL)
				break;
			on_reply(rep);
			freeReplyObject(rep);
		}
	}
out:
	redisReaderFree(rd);
	return 0;
}
