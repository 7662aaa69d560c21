/* SPDX-License-Identifier: BSD-3-Clause
 * Redis pieces of logic/persist that need no server: CRC16 key slots (hash
 * tags, values checked against a live `redis-cli CLUSTER KEYSLOT`), MOVED /
 * ASK parsing, the slot map built from CLUSTER SLOTS replies (parsed from
 * RESP bytes by hiredis' own reader) and updated by redirections, SHA-1
 * script ids, lock script ids and the cached-entity encoding; and the
 * client's behaviour with its server down (a refused loopback port):
 * deadlines for unsent commands, admission bound, cancel on destroy.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "logic/persist/owner.h"
#include "logic/persist/persist_cache.h"
#include "logic/persist/persist_log.h"
#include "logic/persist/redis.h"
#include "logic/persist/redis_lock.h"

/* Bit-at-a-time CRC16/XMODEM straight from the definition, to check the
 * table-driven one over many inputs. */
static uint16_t
ref_crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

static void
test_crc16(void **state)
{
	uint8_t buf[64];
	uint32_t x = 12345;

	(void)state;
	/* the check value of CRC-16/XMODEM, quoted by the cluster spec */
	assert_int_equal(wg_redis_crc16("123456789", 9), 0x31c3);
	assert_int_equal(wg_redis_crc16("", 0), 0);
	for (int i = 0; i < 2000; i++) {
		size_t n = (size_t)i % sizeof(buf);

		for (size_t j = 0; j < n; j++) {
			x = x * 1103515245u + 12345u;
			buf[j] = (uint8_t)(x >> 16);
		}
		assert_int_equal(wg_redis_crc16(buf, n), ref_crc16(buf, n));
	}
}

static void
test_key_slots(void **state)
{
	/* expected values from redis-server 7.0 CLUSTER KEYSLOT */
	static const struct {
		const char *key;
		uint16_t slot;
	} v[] = {
		{ "foo", 12182 },
		{ "bar", 5061 },
		{ "hello", 866 },
		{ "{user1000}.following", 3443 },
		{ "{user1000}.followers", 3443 },
		{ "foo{}{bar}", 8363 },        /* empty tag: whole key */
		{ "foo{{bar}}zap", 4015 },     /* tag is "{bar" */
		{ "foo{bar}{zap}", 5061 },     /* first tag only: "bar" */
		{ "{}", 15257 },
		{ "{", 4092 },                 /* unclosed: whole key */
		{ "a}b{c", 13587 },
		{ "wg:lock:{player:42}", 14691 },
		{ "wg:fence:{player:42}", 14691 },
		{ "", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint16_t s = wg_redis_key_slot(v[i].key, strlen(v[i].key));

		if (s != v[i].slot)
			fail_msg("slot(%s) = %u, want %u", v[i].key, s, v[i].slot);
	}
	/* a tag makes the slot independent of everything around it */
	assert_int_equal(wg_redis_key_slot("x{tag}y", 7), wg_redis_key_slot("tag", 3));
	/* length-delimited: bytes after len are not read, NULs are key bytes */
	assert_int_equal(wg_redis_key_slot("foo{bar}", 3), 12182);
	assert_int_equal(wg_redis_key_slot("a\0b", 3), wg_redis_crc16("a\0b", 3) & 16383);
}

static void
test_parse_redirect(void **state)
{
	struct wg_redis_redirect rd;
	char longhost[200];

	(void)state;
#define RD(s) wg_redis_parse_redirect((s), strlen(s), &rd)
	assert_int_equal(RD("MOVED 3999 127.0.0.1:6381"), 0);
	assert_int_equal(rd.kind, WG_REDIS_MOVED);
	assert_int_equal(rd.slot, 3999);
	assert_string_equal(rd.addr.host, "127.0.0.1");
	assert_int_equal(rd.addr.port, 6381);

	assert_int_equal(RD("ASK 16383 redis-2.example:7000"), 0);
	assert_int_equal(rd.kind, WG_REDIS_ASK);
	assert_int_equal(rd.slot, 16383);
	assert_string_equal(rd.addr.host, "redis-2.example");
	assert_int_equal(rd.addr.port, 7000);

	/* IPv6: the last colon splits; Redis 7 unknown endpoint: empty host */
	assert_int_equal(RD("MOVED 1 ::1:7001"), 0);
	assert_string_equal(rd.addr.host, "::1");
	assert_int_equal(rd.addr.port, 7001);
	assert_int_equal(RD("MOVED 0 :7002"), 0);
	assert_string_equal(rd.addr.host, "");
	assert_int_equal(rd.addr.port, 7002);

	/* not a redirection at all */
	assert_int_equal(RD("ERR unknown command"), -ENOENT);
	assert_int_equal(RD("MOVED"), -ENOENT);
	assert_int_equal(RD("MOVEDX 1 h:1"), -ENOENT);
	assert_int_equal(RD("NOSCRIPT No matching script"), -ENOENT);
	assert_int_equal(RD(""), -ENOENT);
	/* malformed redirections */
	assert_int_equal(RD("MOVED 16384 h:1"), -EINVAL);
	assert_int_equal(RD("MOVED -1 h:1"), -EINVAL);
	assert_int_equal(RD("MOVED 99999999999 h:1"), -EINVAL);
	assert_int_equal(RD("MOVED  h:1"), -EINVAL);
	assert_int_equal(RD("MOVED 12 h"), -EINVAL);
	assert_int_equal(RD("MOVED 12 h:"), -EINVAL);
	assert_int_equal(RD("MOVED 12 h:0"), -EINVAL);
	assert_int_equal(RD("MOVED 12 h:65536"), -EINVAL);
	assert_int_equal(RD("MOVED 12 h:12x"), -EINVAL);
	assert_int_equal(RD("MOVED 12"), -EINVAL);
	assert_int_equal(RD("ASK 12 bad host:1"), -EINVAL);
	memset(longhost, 'h', sizeof(longhost));
	memcpy(longhost, "MOVED 1 ", 8);
	strcpy(longhost + 150, ":80");
	assert_int_equal(RD(longhost), -ENAMETOOLONG);
	/* only len bytes count: a valid prefix of a longer buffer */
	assert_int_equal(wg_redis_parse_redirect("MOVED 7 h:1234567", 15, &rd), 0);
	assert_int_equal(rd.addr.port, 12345);
#undef RD
}

/* Parse one RESP value with hiredis' reader (what the client does). */
static redisReply *
resp(const char *bytes, size_t len)
{
	redisReader *rd = redisReaderCreate();
	void *rep = NULL;

	assert_non_null(rd);
	assert_int_equal(redisReaderFeed(rd, bytes, len), REDIS_OK);
	assert_int_equal(redisReaderGetReply(rd, &rep), REDIS_OK);
	assert_non_null(rep);
	redisReaderFree(rd);
	return rep;
}

#define RESP(s) resp((s), sizeof(s) - 1)

/* Three masters, Redis 7 layout: [lo, hi, [host, port, id], [replica...]]. */
static const char slots3[] =
	"*3\r\n"
	"*4\r\n:0\r\n:5460\r\n"
	"*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$4\r\nid-a\r\n"
	"*3\r\n$9\r\n127.0.0.1\r\n:7100\r\n$4\r\nid-r\r\n"
	"*3\r\n:5461\r\n:10922\r\n"
	"*3\r\n$9\r\n127.0.0.1\r\n:7001\r\n$4\r\nid-b\r\n"
	"*3\r\n:10923\r\n:16383\r\n"
	"*2\r\n$0\r\n\r\n:7002\r\n";             /* empty host: "where you asked" */

static void
test_slotmap_slots(void **state)
{
	struct wg_redis_slotmap *m = malloc(sizeof(*m)), *copy = malloc(sizeof(*m));
	struct wg_redis_addr seed = { "10.0.0.9", 7000 };
	redisReply *r;
	uint64_t ep;

	(void)state;
	assert_non_null(m);
	assert_non_null(copy);
	wg_redis_slotmap_init(m);
	assert_int_equal(wg_redis_slotmap_node(m, &seed), 0);
	r = RESP(slots3);
	assert_int_equal(wg_redis_slotmap_apply_slots(m, r, "10.0.0.9"), WG_REDIS_SLOTS);
	freeReplyObject(r);
	/* the seed keeps index 0; replicas are not nodes we route to */
	assert_int_equal(m->n_nodes, 4);
	assert_string_equal(m->node[1].host, "127.0.0.1");
	assert_int_equal(m->node[1].port, 7000);
	assert_int_equal(m->node[2].port, 7001);
	assert_string_equal(m->node[3].host, "10.0.0.9");
	assert_int_equal(m->node[3].port, 7002);
	assert_int_equal(m->owner[0], 1);
	assert_int_equal(m->owner[5460], 1);
	assert_int_equal(m->owner[5461], 2);
	assert_int_equal(m->owner[10922], 2);
	assert_int_equal(m->owner[10923], 3);
	assert_int_equal(m->owner[16383], 3);

	/* a later map moves slots 100-199 and drops the rest of node 7001's
	 * range: uncovered slots become unowned, node indexes stay stable */
	ep = m->epoch;
	r = RESP("*2\r\n"
		 "*3\r\n:100\r\n:199\r\n*2\r\n$9\r\n127.0.0.1\r\n:7002\r\n"
		 "*3\r\n:0\r\n:99\r\n*2\r\n$9\r\n127.0.0.1\r\n:7000\r\n");
	assert_int_equal(wg_redis_slotmap_apply_slots(m, r, "10.0.0.9"), 200);
	freeReplyObject(r);
	assert_true(m->epoch > ep);
	assert_int_equal(m->n_nodes, 5);       /* 127.0.0.1:7002 is new */
	assert_int_equal(m->owner[99], 1);
	assert_int_equal(m->owner[100], 4);
	assert_int_equal(m->owner[199], 4);
	assert_int_equal(m->owner[200], WG_REDIS_NO_NODE);
	assert_int_equal(m->owner[16383], WG_REDIS_NO_NODE);

	/* bad replies leave the map exactly as it was */
#define B(s) { s, sizeof(s) - 1 }
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {
		B("$5\r\nhello\r\n"),                                     /* not an array */
		B("*1\r\n*3\r\n:10\r\n:5\r\n*2\r\n$1\r\nh\r\n:1\r\n"),     /* lo > hi */
		B("*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n"),  /* hi too big */
		B("*1\r\n*3\r\n:-1\r\n:5\r\n*2\r\n$1\r\nh\r\n:1\r\n"),     /* negative */
		B("*1\r\n*3\r\n:0\r\n:5\r\n*2\r\n$1\r\nh\r\n:0\r\n"),      /* port 0 */
		B("*1\r\n*3\r\n:0\r\n:5\r\n*2\r\n$1\r\nh\r\n:65536\r\n"),  /* port too big */
		B("*1\r\n*3\r\n:0\r\n:5\r\n*2\r\n$1\r\nh\r\n$2\r\n80\r\n"), /* port as string */
		B("*1\r\n*3\r\n$1\r\n0\r\n:5\r\n*2\r\n$1\r\nh\r\n:1\r\n"), /* lo as string */
		B("*1\r\n*2\r\n:0\r\n:5\r\n"),                             /* no master */
		B("*1\r\n*3\r\n:0\r\n:5\r\n*1\r\n$1\r\nh\r\n"),            /* master w/o port */
		B("*1\r\n*3\r\n:0\r\n:5\r\n*2\r\n$3\r\na b\r\n:1\r\n"),    /* space in host */
		B("*1\r\n*3\r\n:0\r\n:5\r\n*2\r\n$3\r\na\0b\r\n:1\r\n"),   /* NUL in host */
		B("*2\r\n*3\r\n:0\r\n:5\r\n*2\r\n$1\r\nh\r\n:1\r\n:7\r\n"), /* range not array */
		B("*1\r\n*3\r\n:0\r\n:5\r\n*2\r\n$1\r\nh\r\n:1\r\n"),      /* ok: control */
	};
#undef B
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool control = i == sizeof(bad) / sizeof(bad[0]) - 1;
		int rc;

		memcpy(copy, m, sizeof(*m));
		r = resp(bad[i].s, bad[i].len);
		rc = wg_redis_slotmap_apply_slots(m, r, "10.0.0.9");
		freeReplyObject(r);
		if (control) {
			/* the template of the bad cases is itself accepted */
			assert_int_equal(rc, 6);
			break;
		}
		if (rc >= 0)
			fail_msg("bad reply %zu accepted (%d)", i, rc);
		assert_memory_equal(copy, m, sizeof(*m));
	}
	free(copy);
	free(m);
}

static void
test_slotmap_redirect(void **state)
{
	struct wg_redis_slotmap *m = malloc(sizeof(*m));
	struct wg_redis_redirect rd;
	struct wg_redis_addr a;
	redisReply *r;
	uint64_t ep;
	int idx;

	(void)state;
	assert_non_null(m);
	wg_redis_slotmap_init(m);
	r = RESP(slots3);
	assert_int_equal(wg_redis_slotmap_apply_slots(m, r, "127.0.0.1"), WG_REDIS_SLOTS);
	freeReplyObject(r);
	assert_int_equal(m->n_nodes, 3);
	assert_int_equal(m->owner[3999], 0);

	/* ASK: a one-shot hop, the map does not change */
	ep = m->epoch;
	assert_int_equal(wg_redis_parse_redirect("ASK 3999 127.0.0.1:7001", 23, &rd), 0);
	idx = wg_redis_slotmap_apply_redirect(m, &rd, "127.0.0.1");
	assert_int_equal(idx, 1);
	assert_int_equal(m->owner[3999], 0);
	assert_int_equal(m->epoch, ep);

	/* MOVED: that slot (only) now belongs to the named node */
	assert_int_equal(wg_redis_parse_redirect("MOVED 3999 127.0.0.1:7001", 25, &rd), 0);
	idx = wg_redis_slotmap_apply_redirect(m, &rd, "127.0.0.1");
	assert_int_equal(idx, 1);
	assert_int_equal(m->owner[3999], 1);
	assert_int_equal(m->owner[3998], 0);
	assert_int_equal(m->owner[4000], 0);
	assert_true(m->epoch > ep);
	/* the same MOVED again changes nothing */
	ep = m->epoch;
	assert_int_equal(wg_redis_slotmap_apply_redirect(m, &rd, "127.0.0.1"), 1);
	assert_int_equal(m->epoch, ep);

	/* MOVED to a node never seen: added; empty host: the node that answered */
	assert_int_equal(wg_redis_parse_redirect("MOVED 5 :7010", 13, &rd), 0);
	idx = wg_redis_slotmap_apply_redirect(m, &rd, "10.1.2.3");
	assert_int_equal(idx, 3);
	assert_string_equal(m->node[3].host, "10.1.2.3");
	assert_int_equal(m->node[3].port, 7010);
	assert_int_equal(m->owner[5], 3);

	/* the node table is bounded: the 65th distinct node is refused */
	for (unsigned int p = 1; m->n_nodes < WG_REDIS_MAX_NODES; p++) {
		snprintf(a.host, sizeof(a.host), "10.9.0.%u", p);
		a.port = 1;
		assert_true(wg_redis_slotmap_node(m, &a) >= 0);
	}
	ep = m->epoch;
	assert_int_equal(wg_redis_parse_redirect("MOVED 6 10.200.0.1:1", 20, &rd), 0);
	assert_int_equal(wg_redis_slotmap_apply_redirect(m, &rd, "x"), -ENOSPC);
	assert_int_equal(m->owner[6], 0);
	assert_int_equal(m->epoch, ep);
	free(m);
}

static void
test_sha1(void **state)
{
	static const struct {
		size_t n;
		const char *hex;
	} aa[] = {
		/* sha1sum of n 'a' bytes: every padding boundary */
		{ 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a" },
		{ 56, "c2db330f6083854c99d4b5bfb6e8f29f201be699" },
		{ 63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5" },
		{ 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d" },
		{ 65, "11655326c708d70319be2610e8a57d9a5b959d3b" },
		{ 119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56" },
		{ 120, "f34c1488385346a55709ba056ddd08280dd4c6d6" },
		{ 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
	};
	char out[41];
	char *buf = malloc(1000000);

	(void)state;
	assert_non_null(buf);
	wg_sha1_hex("", 0, out);
	assert_string_equal(out, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	wg_sha1_hex("abc", 3, out);
	assert_string_equal(out, "a9993e364706816aba3e25717850c26c9cd0d89d");
	wg_sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, out);
	assert_string_equal(out, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	memset(buf, 'a', 1000000);
	for (size_t i = 0; i < sizeof(aa) / sizeof(aa[0]); i++) {
		wg_sha1_hex(buf, aa[i].n, out);
		assert_string_equal(out, aa[i].hex);
	}
	free(buf);
}

static void
test_lock_scripts(void **state)
{
	char sha[41];

	(void)state;
	for (int i = 0; i < WG_LOCK_S_COUNT; i++) {
		const struct wg_redis_script *s = wg_lock_script(i);

		assert_non_null(s);
		assert_int_equal(s->len, strlen(s->body));
		wg_sha1_hex(s->body, s->len, sha);
		assert_string_equal(s->sha, sha);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(s->sha, wg_lock_script(j)->sha);
	}
	assert_null(wg_lock_script(-1));
	assert_null(wg_lock_script(WG_LOCK_S_COUNT));
	/* the script body decides what owns the lock: acquire must bump the
	 * fence counter and release must compare before deleting */
	assert_non_null(strstr(wg_lock_script(WG_LOCK_S_ACQUIRE)->body, "INCR"));
	assert_non_null(strstr(wg_lock_script(WG_LOCK_S_RELEASE)->body, "== ARGV[1]"));
}

static void
test_cache_entity_codec(void **state)
{
	const void *data;
	uint64_t v, f;
	size_t len;
	char key[64];

	(void)state;
	assert_int_equal(wg_cache_entity_decode("5:7:payload", 11, &v, &f, &data, &len), 0);
	assert_int_equal(v, 5);
	assert_int_equal(f, 7);
	assert_int_equal(len, 7);
	assert_memory_equal(data, "payload", 7);
	/* empty data and binary data with ':' and NUL inside */
	assert_int_equal(wg_cache_entity_decode("1:0:", 4, &v, &f, &data, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(wg_cache_entity_decode("9223372036854775807:2:a\0:b", 27, &v, &f,
						&data, &len), 0);
	assert_int_equal(v, 9223372036854775807ull);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "a\0:b", 4);

	static const char *const bad[] = {
		"", "5", "5:", "5:7", ":7:x", "5::x", "a:7:x", "5:b:x", "-5:7:x",
		"12345678901234567890:1:x",   /* 20 digits: would overflow */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (wg_cache_entity_decode(bad[i], strlen(bad[i]), &v, &f, &data, &len) != -EPROTO)
			fail_msg("accepted '%s'", bad[i]);

	/* one hash tag over kind:id, so an entity's keys share a slot */
	assert_int_equal(wg_cache_entity_key(3, 42, key, sizeof(key)), 11);
	assert_string_equal(key, "wg:e:{3:42}");
	assert_int_equal(wg_redis_key_slot(key, 11), wg_redis_key_slot("3:42", 4));
	assert_int_equal(wg_cache_entity_key(3, 42, key, 11), -ENOSPC);
	/* an entity's lease resource */
	assert_int_equal(wg_own_resource(3, 42, key, sizeof(key)), 6);
	assert_string_equal(key, "e:3:42");
	assert_int_equal(wg_own_resource(3, 42, key, 6), -ENOSPC);
}


/* A loopback port nobody listens on: connects are refused at once. */
static uint16_t
dead_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

struct done {
	int n;
	int err;
};

static void
on_done(void *arg, int err, const redisReply *r)
{
	struct done *d = arg;

	d->n++;
	d->err = err;
	assert_true(err != 0 && r == NULL);
}

/* Server down: commands wait for the connection (reconnecting with
 * back-off) and fail with -ETIMEDOUT at their deadline, so a login load can
 * fall back to PostgreSQL; without a deadline they wait until destroy. */
static void
test_unsent_deadline(void **state)
{
	struct wg_redis_conf c = {
		.host = "127.0.0.1", .port = dead_port(), .pool_size = 1,
		.max_outstanding = 4, .reconnect_min_ms = 5, .reconnect_max_ms = 20,
		.request_timeout_ms = 150,
	};
	struct done d1 = { 0 }, d2 = { 0 }, d3 = { 0 };
	struct wg_redis_stats st;
	struct wg_redis *r;
	uint64_t end;

	(void)state;
	r = wg_redis_create(&c);
	assert_non_null(r);
	assert_int_equal(wg_redis_cmdf(r, "k", 1, on_done, &d1, "GET k"), 0);
	end = wg_persist_now_ms() + 10000;
	while (d1.n == 0 && wg_persist_now_ms() < end)
		assert_true(wg_redis_poll(r, 50) >= 0);
	assert_int_equal(d1.n, 1);
	assert_int_equal(d1.err, -ETIMEDOUT);
	wg_redis_stats(r, &st);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.outstanding, 0);
	assert_int_equal(st.sent, 0);
	assert_true(st.connect_failures >= 1);
	assert_int_equal(st.conns_up, 0);
	assert_false(wg_redis_ready(r));
	wg_redis_destroy(r);

	c.request_timeout_ms = 0;
	c.max_outstanding = 1;
	r = wg_redis_create(&c);
	assert_non_null(r);
	assert_int_equal(wg_redis_cmdf(r, "k", 1, on_done, &d2, "GET k"), 0);
	/* bounded: the second live request is refused, not queued */
	assert_int_equal(wg_redis_cmdf(r, "k", 1, on_done, &d3, "GET k"), -EAGAIN);
	for (int i = 0; i < 20; i++)
		assert_true(wg_redis_poll(r, 5) >= 0);
	assert_int_equal(d2.n, 0);
	wg_redis_destroy(r);
	assert_int_equal(d2.n, 1);
	assert_int_equal(d2.err, -ECANCELED);
	assert_int_equal(d3.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc16),
		cmocka_unit_test(test_key_slots),
		cmocka_unit_test(test_parse_redirect),
		cmocka_unit_test(test_slotmap_slots),
		cmocka_unit_test(test_slotmap_redirect),
		cmocka_unit_test(test_sha1),
		cmocka_unit_test(test_lock_scripts),
		cmocka_unit_test(test_cache_entity_codec),
		cmocka_unit_test(test_unsent_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
