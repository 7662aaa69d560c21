/* SPDX-License-Identifier: BSD-3-Clause
 * Record logs: writer/reader round trip, the reader's refusals (every
 * truncation, unsorted times, bad lengths, types, counts), the replay
 * schedule (scaling, mapping, jitter), and the pcap importer on captures
 * written here byte by byte: Ethernet/IPv4 and IPv6, split upgrade
 * requests, masked and fragmented frames, retransmits, a gap, a flow seen
 * mid-stream, and the nanosecond pcap format.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream, fmemopen */
#endif

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"
#include "ws.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char err[WG_REC_ERR_MAX];

/* A growable in-memory file. */
struct mbuf {
	char *data;
	size_t len;
	FILE *f;
};

static FILE *
mopen(struct mbuf *m)
{
	m->data = NULL;
	m->len = 0;
	m->f = open_memstream(&m->data, &m->len);
	assert_non_null(m->f);
	return m->f;
}

static void
mclose(struct mbuf *m)
{
	assert_int_equal(fclose(m->f), 0);
	m->f = NULL;
}

static const struct wg_rec sample[] = {
	{ .t_ns = 0, .client = 0, .dir = WG_REC_C2S, .type = WG_REC_CONNECT },
	{ .t_ns = 5, .client = 2, .dir = WG_REC_C2S, .type = WG_REC_CONNECT },
	{ .t_ns = 1000, .client = 0, .len = 5, .dir = WG_REC_C2S, .type = WG_REC_TEXT,
	  .payload = (const uint8_t *)"hello" },
	{ .t_ns = 1000, .client = 2, .len = 3, .dir = WG_REC_C2S, .type = WG_REC_BINARY,
	  .payload = (const uint8_t *)"\x00\xff\x01" },
	{ .t_ns = 1500, .client = 0, .len = 5, .dir = WG_REC_S2C, .type = WG_REC_TEXT,
	  .payload = (const uint8_t *)"hello" },
	{ .t_ns = 4000, .client = 2, .len = 4, .dir = WG_REC_C2S, .type = WG_REC_FRAMED,
	  .payload = (const uint8_t *)"abcd" },
	{ .t_ns = 9000, .client = 0, .dir = WG_REC_C2S, .type = WG_REC_CLOSE },
};

/* sample[] as a log in m. */
static void
write_sample(struct mbuf *m)
{
	struct wg_rec_writer *w = wg_rec_writer_open(mopen(m), 1700000000000000000ull);
	unsigned int i;

	assert_non_null(w);
	for (i = 0; i < ARRAY_SIZE(sample); i++)
		assert_int_equal(wg_rec_write(w, &sample[i]), 0);
	assert_int_equal(wg_rec_writer_close(w), 0);
	mclose(m);
}

/* Reads buf to the end: the result of the last wg_rec_next, records in *n. */
static int
read_all(const void *buf, size_t len, unsigned int *n)
{
	FILE *f = fmemopen((void *)(uintptr_t)buf, len, "rb");
	struct wg_rec_reader *r;
	struct wg_rec rec;
	int rc;

	assert_non_null(f);
	*n = 0;
	r = wg_rec_reader_open(f, err, sizeof(err));
	if (r == NULL) {
		fclose(f);
		return -errno;
	}
	while ((rc = wg_rec_next(r, &rec)) == 1)
		(*n)++;
	if (rc < 0)
		snprintf(err, sizeof(err), "%s", wg_rec_reader_error(r));
	wg_rec_reader_close(r);
	fclose(f);
	return rc;
}

static void
test_roundtrip(void **state)
{
	struct wg_rec_reader *r;
	struct wg_rec rec;
	struct mbuf m;
	unsigned int i;
	FILE *f;

	(void)state;
	write_sample(&m);
	/* header + 7 records + 15 payload bytes + end marker */
	assert_int_equal(m.len, WG_REC_HDR_LEN + 7 * WG_REC_REC_LEN + 17 + WG_REC_REC_LEN +
			 WG_REC_END_LEN);
	assert_memory_equal(m.data, WG_REC_MAGIC, WG_REC_MAGIC_LEN);
	f = fmemopen(m.data, m.len, "rb");
	r = wg_rec_reader_open(f, err, sizeof(err));
	assert_non_null(r);
	assert_true(wg_rec_reader_start(r) == 1700000000000000000ull);
	for (i = 0; i < ARRAY_SIZE(sample); i++) {
		assert_int_equal(wg_rec_next(r, &rec), 1);
		assert_int_equal(rec.t_ns, sample[i].t_ns);
		assert_int_equal(rec.client, sample[i].client);
		assert_int_equal(rec.len, sample[i].len);
		assert_int_equal(rec.dir, sample[i].dir);
		assert_int_equal(rec.type, sample[i].type);
		if (rec.len > 0)
			assert_memory_equal(rec.payload, sample[i].payload, rec.len);
		else
			assert_null(rec.payload);
	}
	assert_int_equal(wg_rec_next(r, &rec), 0);
	assert_int_equal(wg_rec_next(r, &rec), 0);     /* stays at the end */
	assert_int_equal(wg_rec_reader_clients(r), 3);
	wg_rec_reader_close(r);
	fclose(f);
	free(m.data);
}

static void
test_writer_refuses(void **state)
{
	struct wg_rec_writer *w;
	struct wg_rec rec;
	struct mbuf m;
	unsigned int n;

	(void)state;
	w = wg_rec_writer_open(mopen(&m), 0);
	assert_non_null(w);
	rec = sample[2];
	assert_int_equal(wg_rec_write(w, &rec), 0);
	rec.t_ns = 999;                                 /* before the previous */
	assert_int_equal(wg_rec_write(w, &rec), -EINVAL);
	rec = sample[2];
	rec.dir = 2;
	assert_int_equal(wg_rec_write(w, &rec), -EINVAL);
	rec = sample[2];
	rec.type = WG_REC_END;
	assert_int_equal(wg_rec_write(w, &rec), -EINVAL);
	rec.type = 0;
	assert_int_equal(wg_rec_write(w, &rec), -EINVAL);
	rec = sample[2];
	rec.type = WG_REC_CONNECT;                      /* no payload allowed */
	assert_int_equal(wg_rec_write(w, &rec), -EINVAL);
	rec = sample[2];
	rec.payload = NULL;
	assert_int_equal(wg_rec_write(w, &rec), -EINVAL);
	rec = sample[2];
	rec.len = WG_REC_PAYLOAD_MAX + 1;
	assert_int_equal(wg_rec_write(w, &rec), -EINVAL);
	rec = sample[2];
	rec.client = UINT32_MAX;
	assert_int_equal(wg_rec_write(w, &rec), -EINVAL);
	/* the refusals left the log valid: one record */
	assert_int_equal(wg_rec_writer_close(w), 0);
	mclose(&m);
	assert_int_equal(read_all(m.data, m.len, &n), 0);
	assert_int_equal(n, 1);
	free(m.data);
}

static void
patch_le(char *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (char)(v >> (8 * i));
}

static void
expect_bad(const char *buf, size_t len, const char *msg)
{
	unsigned int n;
	int rc = read_all(buf, len, &n);

	if (rc != -EINVAL || strcmp(err, msg) != 0)
		fail_msg("rc %d\n  got  '%s'\n  want '%s'", rc, err, msg);
}

static void
test_reader_refuses(void **state)
{
	struct mbuf m;
	char *b;
	size_t cut, rec2 = WG_REC_HDR_LEN + 2 * WG_REC_REC_LEN; /* offset of sample[2] */
	size_t rec3 = rec2 + WG_REC_REC_LEN + 5;
	unsigned int n;
	int rc;

	(void)state;
	write_sample(&m);
	b = malloc(m.len + 1);
	assert_non_null(b);

	/* every cut is refused, whether inside a record or between two */
	for (cut = 0; cut < m.len; cut++) {
		memcpy(b, m.data, cut);
		rc = read_all(b, cut, &n);
		if (rc != -EINVAL || strstr(err, "truncated") == NULL)
			fail_msg("cut at %zu: rc %d '%s'", cut, rc, err);
	}
	expect_bad(m.data, rec3, "record 3 at byte 89: truncated: the end marker is missing");
	expect_bad(m.data, rec2 + 22,
		   "record 2 at byte 64: truncated: the payload needs 5 bytes, the file has 2 more");
	expect_bad(m.data, 10, "truncated: the header needs 24 bytes, the file has 10 more");

#define MUTATE(off, val, nb, msg) do { \
		memcpy(b, m.data, m.len); \
		patch_le(b + (off), (val), (nb)); \
		expect_bad(b, m.len, msg); \
	} while (0)
	MUTATE(0, 'X', 1, "not a record log (bad magic)");
	MUTATE(8, 2, 2, "unsupported version 2 (this reads 1)");
	MUTATE(10, 32, 2, "header length 32 is not 24");
	MUTATE(12, 1, 4, "unknown header flags 0x1");
	/* sample[3] at 1000 ns -> 999: before sample[2]'s 1000 */
	MUTATE(rec3, 999, 8, "record 3 at byte 89: time 999 ns is before the previous record's "
	       "1000 ns (records must be sorted by time)");
	MUTATE(rec2 + 12, WG_REC_PAYLOAD_MAX + 1, 4,
	       "record 2 at byte 64: length 1048577 is above the limit of 1048576");
	/* a length that runs into the next record misaligns everything after it */
	MUTATE(rec2 + 12, 6, 4, "record 3 at byte 90: unknown type 0");
	MUTATE(rec2 + 18, 1, 2, "record 2 at byte 64: reserved bytes are not zero");
	MUTATE(rec2 + 16, 7, 1, "record 2 at byte 64: unknown direction 7");
	MUTATE(rec2 + 17, 9, 1, "record 2 at byte 64: unknown type 9");
	MUTATE(WG_REC_HDR_LEN + 12, 1, 4,
	       "record 0 at byte 24: a connect record has 1 payload bytes (none allowed)");
	MUTATE(rec2 + 8, UINT32_MAX, 4, "record 2 at byte 64: client index 4294967295 is reserved");
	MUTATE(m.len - WG_REC_END_LEN, 6, 8,
	       "record 7 at byte 181: end marker counts 6 records, the file has 7");
	MUTATE(m.len - WG_REC_END_LEN + 8, 9, 4,
	       "record 7 at byte 181: end marker counts 9 clients, the records name 3");
	MUTATE(m.len - WG_REC_END_LEN - WG_REC_REC_LEN + 12, 8, 4,
	       "record 7 at byte 181: malformed end marker (length 8, client 0, direction 0)");
	/* one byte past the end marker */
	memcpy(b, m.data, m.len);
	b[m.len] = 0;
	expect_bad(b, m.len + 1, "record 7 at byte 217: data after the end marker");
	/* and the original still reads */
	assert_int_equal(read_all(m.data, m.len, &n), 0);
	assert_int_equal(n, 7);
	free(b);
	free(m.data);
}

/* ------------------------------------------------------------ replay */

static struct wg_replay *
replay_of(struct mbuf *m, const struct wg_replay_conf *conf, FILE **f)
{
	struct wg_rec_reader *r;
	struct wg_replay *rp;

	*f = fmemopen(m->data, m->len, "rb");
	assert_non_null(*f);
	r = wg_rec_reader_open(*f, err, sizeof(err));
	assert_non_null(r);
	rp = wg_replay_create(r, conf, err, sizeof(err));
	wg_rec_reader_close(r);
	return rp;
}

static void
test_replay(void **state)
{
	/* 5 clients, twice as fast, no jitter: client j plays session j % 2
	 * (recorded clients 0 and 2; the server's record is not replayed) */
	static const struct {
		uint64_t t;
		uint32_t client, session;
		uint8_t type;
	} want[] = {
		{ 0, 0, 0, WG_REC_CONNECT }, { 0, 2, 0, WG_REC_CONNECT }, { 0, 4, 0, WG_REC_CONNECT },
		{ 2, 1, 1, WG_REC_CONNECT }, { 2, 3, 1, WG_REC_CONNECT },
		{ 500, 0, 0, WG_REC_TEXT }, { 500, 1, 1, WG_REC_BINARY }, { 500, 2, 0, WG_REC_TEXT },
		{ 500, 3, 1, WG_REC_BINARY }, { 500, 4, 0, WG_REC_TEXT },
		{ 2000, 1, 1, WG_REC_FRAMED }, { 2000, 3, 1, WG_REC_FRAMED },
		{ 4500, 0, 0, WG_REC_CLOSE }, { 4500, 2, 0, WG_REC_CLOSE }, { 4500, 4, 0, WG_REC_CLOSE },
	};
	struct wg_replay_conf conf = { .n_clients = 5, .speed_milli = 2000 };
	struct wg_replay_ev ev;
	struct wg_replay *rp;
	uint64_t off[64], prev_t = 0;
	unsigned int i, per[64] = { 0 };
	struct mbuf m;
	FILE *f;

	(void)state;
	write_sample(&m);
	rp = replay_of(&m, &conf, &f);
	assert_non_null(rp);
	assert_int_equal(wg_replay_sessions(rp), 2);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(wg_replay_next(rp, &ev), 1);
		if (ev.t_ns != want[i].t || ev.client != want[i].client ||
		    ev.session != want[i].session || ev.type != want[i].type)
			fail_msg("event %u: t=%llu client=%u session=%u type=%u", i,
				 (unsigned long long)ev.t_ns, ev.client, ev.session, ev.type);
		if (ev.type == WG_REC_TEXT) {
			assert_int_equal(ev.len, 5);
			assert_memory_equal(ev.payload, "hello", 5);
		}
		if (ev.type == WG_REC_FRAMED)
			assert_memory_equal(ev.payload, "abcd", 4);
	}
	assert_int_equal(wg_replay_next(rp, &ev), 0);
	wg_replay_free(rp);
	fclose(f);

	/* jitter: per-client offsets within bound, fixed by the seed */
	conf = (struct wg_replay_conf){ .n_clients = 64, .speed_milli = 1000,
					.jitter_ns = 1000000, .seed = 7 };
	rp = replay_of(&m, &conf, &f);
	assert_non_null(rp);
	for (i = 0; i < 64; i++) {
		off[i] = wg_replay_offset(rp, i);
		assert_true(off[i] <= 1000000);
	}
	assert_int_not_equal(off[0], off[1]);
	while (wg_replay_next(rp, &ev) == 1) {
		static const uint64_t s0[] = { 0, 1000, 9000 }, s1[] = { 5, 1000, 4000 };
		const uint64_t *sess = ev.session == 0 ? s0 : s1;

		assert_true(ev.t_ns >= prev_t);             /* one merged, sorted stream */
		prev_t = ev.t_ns;
		assert_int_equal(ev.t_ns, sess[per[ev.client]] + off[ev.client]);
		per[ev.client]++;
	}
	for (i = 0; i < 64; i++)
		assert_int_equal(per[i], 3);
	wg_replay_free(rp);
	fclose(f);
	/* same seed, same offsets; another seed, others */
	rp = replay_of(&m, &conf, &f);
	assert_int_equal(wg_replay_offset(rp, 5), off[5]);
	wg_replay_free(rp);
	fclose(f);
	conf.seed = 8;
	rp = replay_of(&m, &conf, &f);
	assert_int_not_equal(wg_replay_offset(rp, 5), off[5]);
	wg_replay_free(rp);
	fclose(f);

	/* a bad log is refused with the reader's message */
	m.data[WG_REC_HDR_LEN + 2 * WG_REC_REC_LEN + 17] = 9;
	conf.seed = 7;
	rp = replay_of(&m, &conf, &f);
	assert_null(rp);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "record 2 at byte 64: unknown type 9");
	fclose(f);
	conf.n_clients = 0;
	rp = replay_of(&m, &conf, &f);
	assert_null(rp);
	fclose(f);
	free(m.data);
}

/* -------------------------------------------------------------- pcap */

struct cap {
	struct mbuf m;
	bool nano;
	uint64_t t;                    /* ns */
};

static void
cap_open(struct cap *c, bool nano, uint32_t linktype)
{
	uint8_t h[24];

	memset(c, 0, sizeof(*c));
	c->nano = nano;
	c->t = 1700000000ull * 1000000000ull;
	mopen(&c->m);
	patch_le((char *)h, nano ? 0xa1b23c4du : 0xa1b2c3d4u, 4);
	patch_le((char *)h + 4, 2, 2);
	patch_le((char *)h + 6, 4, 2);
	patch_le((char *)h + 8, 0, 8);
	patch_le((char *)h + 16, 262144, 4);
	patch_le((char *)h + 20, linktype, 4);
	fwrite(h, 1, sizeof(h), c->m.f);
}

static void
cap_frame(struct cap *c, const uint8_t *p, uint32_t len, uint32_t caplen)
{
	uint8_t h[16];

	patch_le((char *)h, c->t / 1000000000ull, 4);
	patch_le((char *)h + 4, c->nano ? c->t % 1000000000ull : c->t % 1000000000ull / 1000, 4);
	patch_le((char *)h + 8, caplen, 4);
	patch_le((char *)h + 12, len, 4);
	fwrite(h, 1, sizeof(h), c->m.f);
	fwrite(p, 1, caplen, c->m.f);
	c->t += 1000000;               /* 1 ms apart */
}

struct ep {
	bool v6;
	uint8_t cli[16], srv[16];
	uint16_t cport, sport;
	uint32_t cseq, sseq;           /* next sequence number of each side */
};

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* One Ethernet frame of a TCP segment from the client (c2s) or the server,
 * seq taken from the endpoint and advanced unless seq_override. */
static void
seg(struct cap *c, struct ep *e, bool c2s, uint8_t flags, const void *data, uint32_t len)
{
	uint8_t f[2048] = { 0 };
	uint8_t *ip = f + 14, *tcp;
	uint32_t *seq = c2s ? &e->cseq : &e->sseq;
	uint32_t iplen;

	assert_true(len < 1900);
	f[12] = e->v6 ? 0x86 : 0x08;
	f[13] = e->v6 ? 0xdd : 0x00;
	if (e->v6) {
		ip[0] = 0x60;
		iplen = 40;
		ip[4] = (uint8_t)((20 + len) >> 8);
		ip[5] = (uint8_t)(20 + len);
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, c2s ? e->cli : e->srv, 16);
		memcpy(ip + 24, c2s ? e->srv : e->cli, 16);
	} else {
		ip[0] = 0x45;
		iplen = 20;
		ip[2] = (uint8_t)((40 + len) >> 8);
		ip[3] = (uint8_t)(40 + len);
		ip[6] = 0x40;                  /* DF */
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, c2s ? e->cli : e->srv, 4);
		memcpy(ip + 16, c2s ? e->srv : e->cli, 4);
	}
	tcp = ip + iplen;
	tcp[0] = (uint8_t)((c2s ? e->cport : e->sport) >> 8);
	tcp[1] = (uint8_t)(c2s ? e->cport : e->sport);
	tcp[2] = (uint8_t)((c2s ? e->sport : e->cport) >> 8);
	tcp[3] = (uint8_t)(c2s ? e->sport : e->cport);
	tcp[4] = (uint8_t)(*seq >> 24);
	tcp[5] = (uint8_t)(*seq >> 16);
	tcp[6] = (uint8_t)(*seq >> 8);
	tcp[7] = (uint8_t)*seq;
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	if (len > 0)
		memcpy(tcp + 20, data, len);
	*seq += len + ((flags & (F_SYN | F_FIN)) ? 1 : 0);
	cap_frame(c, f, 14 + iplen + 20 + len, 14 + iplen + 20 + len);
}

static void
handshake(struct cap *c, struct ep *e)
{
	seg(c, e, true, F_SYN, NULL, 0);
	seg(c, e, false, F_SYN | F_ACK, NULL, 0);
	seg(c, e, true, F_ACK, NULL, 0);
}

static const char upgrade_req[] =
	"GET /game HTTP/1.1\r\n"
	"Host: 198.18.0.2\r\n"
	"Upgrade: websocket\r\n"
	"Connection: Upgrade\r\n"
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	"Sec-WebSocket-Version: 13\r\n\r\n";
static const char upgrade_resp[] =
	"HTTP/1.1 101 Switching Protocols\r\n"
	"Upgrade: websocket\r\n"
	"Connection: Upgrade\r\n"
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

/* A client frame: header with mask, masked payload. */
static uint32_t
cframe(uint8_t *out, bool fin, uint8_t op, const void *payload, uint32_t len)
{
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	unsigned int h = wg_ws_frame_header(out, fin, op, len, mask);

	memcpy(out + h, payload, len);
	wg_ws_mask(out + h, len, mask, 0);
	return h + len;
}

static uint32_t
sframe(uint8_t *out, uint8_t op, const void *payload, uint32_t len)
{
	unsigned int h = wg_ws_frame_header(out, true, op, len, NULL);

	memcpy(out + h, payload, len);
	return h + len;
}

/* The whole scripted capture. Flow A (IPv4, port 8080): split upgrade
 * request, "hello", a binary message in two fragments with a ping between
 * them, a retransmit, the server's "hi", a close, FIN. Flow B (IPv6, port
 * 8080): one message, then a gap. Flow C (port 9999): ignored by the port
 * filter. Flow D: seen mid-stream only. A UDP packet and an ARP frame. */
static void
build_capture(struct cap *c, bool nano)
{
	struct ep a = { .cli = { 198, 18, 0, 1 }, .srv = { 198, 18, 0, 2 }, .cport = 40000,
			.sport = 8080, .cseq = 1000, .sseq = 5000 };
	struct ep b = { .v6 = true, .cport = 40001, .sport = 8080, .cseq = 0xfffffff0u,
			.sseq = 77 };
	struct ep cc = a, d = a;
	uint8_t buf[1024], big[300];
	uint8_t arp[42] = { [12] = 0x08, [13] = 0x06 };
	uint8_t udp[42] = { [12] = 0x08, [13] = 0x00, [14] = 0x45, [16] = 0, [17] = 28,
			    [23] = 17 };
	uint32_t n, keep;
	unsigned int i;

	b.cli[15] = 1;
	b.srv[15] = 2;
	b.cli[0] = b.srv[0] = 0xfd;
	cc.cport = 40002;
	cc.sport = 9999;
	d.cport = 40003;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);

	cap_open(c, nano, 1 /* Ethernet */);
	cap_frame(c, arp, sizeof(arp), sizeof(arp));
	handshake(c, &a);
	seg(c, &a, true, F_ACK | F_PSH, upgrade_req, 40);
	seg(c, &a, true, F_ACK | F_PSH, upgrade_req + 40, sizeof(upgrade_req) - 1 - 40);
	handshake(c, &b);
	seg(c, &a, false, F_ACK | F_PSH, upgrade_resp, sizeof(upgrade_resp) - 1);
	n = cframe(buf, true, WG_WS_OP_TEXT, "hello", 5);
	seg(c, &a, true, F_ACK | F_PSH, buf, n);
	/* retransmit of the same segment: counted, not recorded twice */
	a.cseq -= n;
	seg(c, &a, true, F_ACK | F_PSH, buf, n);
	/* fragmented binary message with a ping between the fragments; the
	 * first segment also carries the first 3 bytes of the ping */
	n = cframe(buf, false, WG_WS_OP_BINARY, big, 200);
	n += cframe(buf + n, true, WG_WS_OP_PING, "p", 1);
	keep = n;
	n += cframe(buf + n, true, WG_WS_OP_CONT, big + 200, 100);
	seg(c, &a, true, F_ACK, buf, keep - 4);
	seg(c, &a, true, F_ACK | F_PSH, buf + keep - 4, n - (keep - 4));
	n = sframe(buf, WG_WS_OP_TEXT, "hi", 2);
	seg(c, &a, false, F_ACK | F_PSH, buf, n);
	/* flow C: a ws flow on another port */
	handshake(c, &cc);
	seg(c, &cc, true, F_ACK | F_PSH, upgrade_req, sizeof(upgrade_req) - 1);
	/* flow D: data without a SYN */
	seg(c, &d, true, F_ACK | F_PSH, "xyz", 3);
	cap_frame(c, udp, sizeof(udp), sizeof(udp));
	/* flow B (IPv6): upgrade and a message, with its sequence wrapping */
	seg(c, &b, true, F_ACK | F_PSH, upgrade_req, sizeof(upgrade_req) - 1);
	n = cframe(buf, true, WG_WS_OP_TEXT, "v6", 2);
	seg(c, &b, true, F_ACK | F_PSH, buf, n);
	/* a close frame then FIN from A */
	n = cframe(buf, true, WG_WS_OP_CLOSE, "\x03\xe8", 2);
	seg(c, &a, true, F_ACK | F_PSH, buf, n);
	seg(c, &a, true, F_ACK | F_FIN, NULL, 0);
	/* B skips 10 bytes: a gap, the flow is lost from here */
	b.cseq += 10;
	n = cframe(buf, true, WG_WS_OP_TEXT, "lost", 4);
	seg(c, &b, true, F_ACK | F_PSH, buf, n);
	seg(c, &b, true, F_ACK | F_FIN, NULL, 0);
	mclose(&c->m);
}

static int
import(struct cap *c, uint16_t port, bool s2c, struct wg_pcap_stats *st, struct mbuf *out)
{
	FILE *in = fmemopen(c->m.data, c->m.len, "rb");
	int rc;

	assert_non_null(in);
	mopen(out);
	rc = wg_rec_import_pcap(in, out->f, port, s2c, st, err, sizeof(err));
	mclose(out);
	return rc;
}

struct want_rec {
	uint64_t t_ms;                 /* since the first packet */
	uint32_t client;
	uint8_t dir, type;
	uint32_t len;
	const void *payload;
};

static void
check_log(struct mbuf *out, const struct want_rec *want, unsigned int n)
{
	FILE *f = fmemopen(out->data, out->len, "rb");
	struct wg_rec_reader *r;
	struct wg_rec rec;
	unsigned int i;

	assert_non_null(f);
	r = wg_rec_reader_open(f, err, sizeof(err));
	assert_non_null(r);
	assert_true(wg_rec_reader_start(r) == 1700000000ull * 1000000000ull);
	for (i = 0; i < n; i++) {
		if (wg_rec_next(r, &rec) != 1)
			fail_msg("record %u missing: %s", i, wg_rec_reader_error(r));
		if (rec.t_ns != want[i].t_ms * 1000000 || rec.client != want[i].client ||
		    rec.dir != want[i].dir || rec.type != want[i].type || rec.len != want[i].len)
			fail_msg("record %u: t=%llu client=%u dir=%u type=%u len=%u", i,
				 (unsigned long long)rec.t_ns, rec.client, rec.dir, rec.type, rec.len);
		if (rec.len > 0)
			assert_memory_equal(rec.payload, want[i].payload, rec.len);
	}
	assert_int_equal(wg_rec_next(r, &rec), 0);
	wg_rec_reader_close(r);
	fclose(f);
}

static void
test_pcap(void **state)
{
	uint8_t big[300];
	/* frame k of the capture is at k ms: ARP 0, A's handshake 1-3, request
	 * 4-5, B's handshake 6-8, response 9, hello 10, retransmit 11, binary
	 * 12-13, hi 14, C 15-18, D 19, UDP 20, B request 21, v6 22, close 23,
	 * FIN 24, B gap 25, B FIN 26 */
	const struct want_rec want[] = {
		{ 5, 0, WG_REC_C2S, WG_REC_CONNECT, 0, NULL },
		{ 10, 0, WG_REC_C2S, WG_REC_TEXT, 5, "hello" },
		{ 13, 0, WG_REC_C2S, WG_REC_BINARY, 300, big },
		{ 14, 0, WG_REC_S2C, WG_REC_TEXT, 2, "hi" },
		{ 21, 1, WG_REC_C2S, WG_REC_CONNECT, 0, NULL },
		{ 22, 1, WG_REC_C2S, WG_REC_TEXT, 2, "v6" },
		{ 24, 0, WG_REC_C2S, WG_REC_CLOSE, 0, NULL },
	};
	struct wg_pcap_stats st;
	struct mbuf out;
	struct cap c;
	unsigned int i, nano;

	(void)state;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	for (nano = 0; nano < 2; nano++) {
		build_capture(&c, nano);
		assert_int_equal(import(&c, 8080, true, &st, &out), 0);
		check_log(&out, want, ARRAY_SIZE(want));
		assert_int_equal(st.packets, 27);
		assert_int_equal(st.flows, 2);                 /* C filtered by port */
		assert_int_equal(st.flows_ws, 2);
		assert_int_equal(st.flows_broken, 1);          /* B's gap */
		assert_int_equal(st.retransmits, 1);
		assert_int_equal(st.midstream, 1);             /* D */
		assert_int_equal(st.skipped, 2 + 4);           /* ARP, UDP, C's 4 segments */
		assert_int_equal(st.messages, ARRAY_SIZE(want));
		assert_int_equal(st.clamped, 0);
		free(out.data);

		/* without s2c the server's message is left out; any port takes C */
		assert_int_equal(import(&c, 0, false, &st, &out), 0);
		assert_int_equal(st.flows, 3);
		assert_int_equal(st.flows_ws, 3);
		assert_int_equal(st.messages, ARRAY_SIZE(want) - 1 + 1);
		free(out.data);
		free(c.m.data);
	}
}

static void
test_pcap_refuses(void **state)
{
	struct wg_pcap_stats st;
	struct mbuf out;
	struct cap c;
	FILE *in;

	(void)state;
	/* not a pcap */
	in = fmemopen((void *)(uintptr_t)"hello world, not a capture", 26, "rb");
	mopen(&out);
	assert_int_equal(wg_rec_import_pcap(in, out.f, 0, false, &st, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a pcap file"));
	mclose(&out);
	free(out.data);
	/* an unsupported link type */
	cap_open(&c, false, 105 /* 802.11 */);
	mclose(&c.m);
	assert_int_equal(import(&c, 0, false, &st, &out), -EINVAL);
	assert_string_equal(err, "link type 105 (IEEE802_11) is not supported");
	free(out.data);
	free(c.m.data);
	/* a capture cut inside a packet */
	build_capture(&c, false);
	c.m.len -= 10;
	assert_int_equal(import(&c, 0, false, &st, &out), -EINVAL);
	assert_non_null(strstr(err, "reading the capture after 26 packets"));
	free(out.data);
	free(c.m.data);
	/* an empty capture is an empty, valid log */
	cap_open(&c, false, 1);
	mclose(&c.m);
	assert_int_equal(import(&c, 0, false, &st, &out), 0);
	assert_int_equal(out.len, WG_REC_HDR_LEN + WG_REC_REC_LEN + WG_REC_END_LEN);
	free(out.data);
	free(c.m.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_writer_refuses),
		cmocka_unit_test(test_reader_refuses),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_pcap),
		cmocka_unit_test(test_pcap_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
