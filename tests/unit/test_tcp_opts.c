/* SPDX-License-Identifier: BSD-3-Clause
 * TCP options: builders byte by byte against the layouts Linux puts on the
 * wire, the parser on what Linux, the BSDs, macOS and Windows send, every
 * malformed shape we can think of (each parse runs on an exact-size heap
 * copy, so ASan flags any read past len), and build/parse round trips.
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

#include <cmocka.h>

#include "tcp_opts.h"

#define ALL_F (WG_TCPOPT_F_MSS | WG_TCPOPT_F_WSCALE | WG_TCPOPT_F_SACK_PERM | \
	       WG_TCPOPT_F_TS | WG_TCPOPT_F_SACK)

/* Parse from an exact-size heap copy: one byte too far is an ASan report. */
static int
parse(const uint8_t *bytes, unsigned int len, bool syn, struct wg_tcp_opts *o)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	if (len)
		memcpy(copy, bytes, len);
	rc = wg_tcp_opts_parse(len ? copy : NULL, len, syn, o);
	free(copy);
	return rc;
}

static void
assert_zero_opts(const struct wg_tcp_opts *o)
{
	assert_int_equal(o->flags, 0);
	assert_int_equal(o->wscale, 0);
	assert_int_equal(o->mss, 0);
	assert_int_equal(o->ts_val, 0);
	assert_int_equal(o->ts_ecr, 0);
	assert_int_equal(o->n_sack, 0);
	for (int i = 0; i < WG_TCP_MAX_SACK; i++) {
		assert_int_equal(o->sack[i].start, 0);
		assert_int_equal(o->sack[i].end, 0);
	}
}

/* Field-wise: the struct has padding that assignment need not copy. */
static void
assert_opts_equal(const struct wg_tcp_opts *a, const struct wg_tcp_opts *b)
{
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->wscale, b->wscale);
	assert_int_equal(a->mss, b->mss);
	assert_int_equal(a->ts_val, b->ts_val);
	assert_int_equal(a->ts_ecr, b->ts_ecr);
	assert_int_equal(a->n_sack, b->n_sack);
	for (int i = 0; i < a->n_sack; i++) {
		assert_int_equal(a->sack[i].start, b->sack[i].start);
		assert_int_equal(a->sack[i].end, b->sack[i].end);
	}
}

static void
expect_bad(const uint8_t *bytes, unsigned int len)
{
	struct wg_tcp_opts o;

	for (int syn = 0; syn <= 1; syn++) {
		memset(&o, 0xa5, sizeof(o));
		assert_int_equal(parse(bytes, len, syn, &o), -EBADMSG);
		assert_zero_opts(&o);
	}
}

#define EXPECT_BAD(...) do { \
	static const uint8_t b_[] = { __VA_ARGS__ }; \
	expect_bad(b_, sizeof(b_)); \
} while (0)

/* Builder output into a guarded buffer: nothing past the returned length
 * may be touched. */
static unsigned int
build(bool syn, const struct wg_tcp_opts *o, uint8_t out[64])
{
	unsigned int n;

	memset(out, 0xee, 64);
	n = syn ? wg_tcp_opts_build_syn(out, o) : wg_tcp_opts_build(out, o);
	assert_true(n <= WG_TCP_OPTS_MAX_LEN);
	assert_int_equal(n % 4, 0);
	for (unsigned int i = n; i < 64; i++)
		assert_int_equal(out[i], 0xee);
	return n;
}

static void
assert_bytes(const uint8_t *got, unsigned int got_len, const uint8_t *want, unsigned int want_len)
{
	if (got_len != want_len || memcmp(got, want, want_len) != 0) {
		for (unsigned int i = 0; i < got_len; i++)
			print_error("%02x%s", got[i], i + 1 < got_len ? " " : "\n");
		fail_msg("built %u bytes, want %u", got_len, want_len);
	}
}

#define ASSERT_BUILD(syn, o, ...) do { \
	static const uint8_t w_[] = { __VA_ARGS__ }; \
	uint8_t g_[64]; \
	unsigned int n_ = build((syn), (o), g_); \
	assert_bytes(g_, n_, w_, sizeof(w_)); \
} while (0)

/* ---------------------------------------------------------------- build */

static void
test_build_syn_linux_layouts(void **state)
{
	struct wg_tcp_opts o = { 0 };

	(void)state;
	/* Linux SYN: mss 1460, sackOK, TS val 0x01020304 ecr 0, nop, wscale 7 */
	o.flags = WG_TCPOPT_F_MSS | WG_TCPOPT_F_SACK_PERM | WG_TCPOPT_F_TS | WG_TCPOPT_F_WSCALE;
	o.mss = 1460;
	o.ts_val = 0x01020304;
	o.ts_ecr = 0;
	o.wscale = 7;
	ASSERT_BUILD(true, &o,
		     0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
		     0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,
		     0x01, 0x03, 0x03, 0x07);
	/* SYN-ACK echoes the peer's TS */
	o.ts_val = 0xdeadbeef;
	o.ts_ecr = 0x80000001;
	o.mss = 8960;
	o.wscale = 9;
	ASSERT_BUILD(true, &o,
		     0x02, 0x04, 0x23, 0x00, 0x04, 0x02, 0x08, 0x0a,
		     0xde, 0xad, 0xbe, 0xef, 0x80, 0x00, 0x00, 0x01,
		     0x01, 0x03, 0x03, 0x09);
	/* timestamps off (net.ipv4.tcp_timestamps=0) */
	o.flags = WG_TCPOPT_F_MSS | WG_TCPOPT_F_SACK_PERM | WG_TCPOPT_F_WSCALE;
	o.mss = 1460;
	o.wscale = 7;
	ASSERT_BUILD(true, &o,
		     0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02,
		     0x01, 0x03, 0x03, 0x07);
	/* SACK off, TS on */
	o.flags = WG_TCPOPT_F_MSS | WG_TCPOPT_F_TS | WG_TCPOPT_F_WSCALE;
	o.ts_val = 1;
	o.ts_ecr = 2;
	ASSERT_BUILD(true, &o,
		     0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x08, 0x0a,
		     0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
		     0x01, 0x03, 0x03, 0x07);
	/* peer offered no WS: SYN-ACK carries none */
	o.flags = WG_TCPOPT_F_MSS | WG_TCPOPT_F_SACK_PERM | WG_TCPOPT_F_TS;
	ASSERT_BUILD(true, &o,
		     0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
		     0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02);
	/* MSS alone, and nothing at all */
	o.flags = WG_TCPOPT_F_MSS;
	o.mss = 536;
	ASSERT_BUILD(true, &o, 0x02, 0x04, 0x02, 0x18);
	o.flags = 0;
	{
		uint8_t g[64];

		assert_int_equal(build(true, &o, g), 0);
	}
	/* WS over 14 is written as 14 (RFC 7323 2.3) */
	o.flags = WG_TCPOPT_F_MSS | WG_TCPOPT_F_WSCALE;
	o.mss = 0xffff;
	o.wscale = 200;
	ASSERT_BUILD(true, &o, 0x02, 0x04, 0xff, 0xff, 0x01, 0x03, 0x03, 0x0e);
	/* SACK blocks never go on a SYN */
	o.flags = WG_TCPOPT_F_MSS | WG_TCPOPT_F_SACK;
	o.mss = 1460;
	o.n_sack = 2;
	o.sack[0].start = 1;
	o.sack[0].end = 2;
	ASSERT_BUILD(true, &o, 0x02, 0x04, 0x05, 0xb4);
}

static void
test_build_data_linux_layouts(void **state)
{
	struct wg_tcp_opts o = { 0 };
	const struct wg_tcp_sack_block blk[4] = {
		{ 0x11111111, 0x22222222 }, { 0x33333333, 0x44444444 },
		{ 0xaabbccdd, 0xeeff0011 }, { 0x00000001, 0xfffffffe },
	};

	(void)state;
	memcpy(o.sack, blk, sizeof(blk));
	/* TS only: the 12-byte header Linux sends on every segment */
	o.flags = WG_TCPOPT_F_TS;
	o.ts_val = 0x0a0b0c0d;
	o.ts_ecr = 0x01020304;
	ASSERT_BUILD(false, &o,
		     0x01, 0x01, 0x08, 0x0a, 0x0a, 0x0b, 0x0c, 0x0d, 0x01, 0x02, 0x03, 0x04);
	/* TS + 1 block */
	o.flags = WG_TCPOPT_F_TS | WG_TCPOPT_F_SACK;
	o.n_sack = 1;
	ASSERT_BUILD(false, &o,
		     0x01, 0x01, 0x08, 0x0a, 0x0a, 0x0b, 0x0c, 0x0d, 0x01, 0x02, 0x03, 0x04,
		     0x01, 0x01, 0x05, 0x0a, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22);
	/* TS + 3 blocks: exactly 40 bytes */
	o.n_sack = 3;
	ASSERT_BUILD(false, &o,
		     0x01, 0x01, 0x08, 0x0a, 0x0a, 0x0b, 0x0c, 0x0d, 0x01, 0x02, 0x03, 0x04,
		     0x01, 0x01, 0x05, 0x1a,
		     0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
		     0x33, 0x33, 0x33, 0x33, 0x44, 0x44, 0x44, 0x44,
		     0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11);
	/* TS + 4 asked: the first 3 (the most recent first, RFC 2018 4) */
	o.n_sack = 4;
	ASSERT_BUILD(false, &o,
		     0x01, 0x01, 0x08, 0x0a, 0x0a, 0x0b, 0x0c, 0x0d, 0x01, 0x02, 0x03, 0x04,
		     0x01, 0x01, 0x05, 0x1a,
		     0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
		     0x33, 0x33, 0x33, 0x33, 0x44, 0x44, 0x44, 0x44,
		     0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11);
	/* no TS: 4 blocks, 36 bytes */
	o.flags = WG_TCPOPT_F_SACK;
	ASSERT_BUILD(false, &o,
		     0x01, 0x01, 0x05, 0x22,
		     0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
		     0x33, 0x33, 0x33, 0x33, 0x44, 0x44, 0x44, 0x44,
		     0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11,
		     0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xfe);
	/* n_sack out of range is capped, 0 blocks writes no SACK option */
	o.n_sack = 200;
	{
		uint8_t g[64];

		assert_int_equal(build(false, &o, g), 36);
		o.n_sack = 0;
		assert_int_equal(build(false, &o, g), 0);
		o.flags = WG_TCPOPT_F_TS | WG_TCPOPT_F_SACK;
		assert_int_equal(build(false, &o, g), 12);
		/* SYN-only options never go on other segments */
		o.flags = WG_TCPOPT_F_MSS | WG_TCPOPT_F_WSCALE | WG_TCPOPT_F_SACK_PERM;
		o.mss = 1460;
		o.wscale = 7;
		assert_int_equal(build(false, &o, g), 0);
	}
}

/* Every flag combination and block count: aligned, within 40, and the
 * parser reads back what was meant. */
static void
test_build_all_combinations(void **state)
{
	struct wg_tcp_opts o, p;
	uint8_t g[64];
	unsigned int n;

	(void)state;
	for (unsigned int f = 0; f <= ALL_F; f++) {
		for (unsigned int ns = 0; ns <= 6; ns++) {
			memset(&o, 0, sizeof(o));
			o.flags = (uint8_t)f;
			o.mss = (uint16_t)(1000 + f);
			o.wscale = (uint8_t)(f % 15);
			o.ts_val = 0x10000000u + f;
			o.ts_ecr = 0x20000000u + ns;
			o.n_sack = (uint8_t)ns;
			for (unsigned int i = 0; i < WG_TCP_MAX_SACK; i++) {
				o.sack[i].start = 100 * i + f;
				o.sack[i].end = 100 * i + f + 50;
			}

			n = build(true, &o, g);
			assert_int_equal(parse(g, n, true, &p), 0);
			assert_int_equal(p.flags, f & ~WG_TCPOPT_F_SACK);
			if (f & WG_TCPOPT_F_MSS)
				assert_int_equal(p.mss, o.mss);
			if (f & WG_TCPOPT_F_WSCALE)
				assert_int_equal(p.wscale, o.wscale);
			if (f & WG_TCPOPT_F_TS) {
				assert_int_equal(p.ts_val, o.ts_val);
				assert_int_equal(p.ts_ecr, o.ts_ecr);
			}

			n = build(false, &o, g);
			assert_int_equal(parse(g, n, false, &p), 0);
			{
				unsigned int want_n = (f & WG_TCPOPT_F_SACK) ?
					(ns < ((f & WG_TCPOPT_F_TS) ? 3u : 4u) ? ns :
					 ((f & WG_TCPOPT_F_TS) ? 3u : 4u)) : 0;
				uint8_t want_f = (uint8_t)(f & WG_TCPOPT_F_TS);

				if (want_n)
					want_f |= WG_TCPOPT_F_SACK;
				assert_int_equal(p.flags, want_f);
				assert_int_equal(p.n_sack, want_n);
				assert_int_equal(n, ((f & WG_TCPOPT_F_TS) ? 12 : 0) +
						 (want_n ? 4 + 8 * want_n : 0));
				for (unsigned int i = 0; i < want_n; i++) {
					assert_int_equal(p.sack[i].start, o.sack[i].start);
					assert_int_equal(p.sack[i].end, o.sack[i].end);
				}
			}
		}
	}
}

/* ---------------------------------------------------------------- parse */

static const uint8_t linux_syn[] = {
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x9a, 0x3c, 0x51, 0x07,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

static void
test_parse_linux(void **state)
{
	struct wg_tcp_opts o;

	(void)state;
	assert_int_equal(parse(linux_syn, sizeof(linux_syn), true, &o), 0);
	assert_int_equal(o.flags, WG_TCPOPT_F_MSS | WG_TCPOPT_F_SACK_PERM | WG_TCPOPT_F_TS |
			 WG_TCPOPT_F_WSCALE);
	assert_int_equal(o.mss, 1460);
	assert_int_equal(o.wscale, 7);
	assert_int_equal(o.ts_val, 0x9a3c5107);
	assert_int_equal(o.ts_ecr, 0);
	assert_int_equal(o.n_sack, 0);

	/* the same bytes on a non-SYN: only the timestamp counts */
	assert_int_equal(parse(linux_syn, sizeof(linux_syn), false, &o), 0);
	assert_int_equal(o.flags, WG_TCPOPT_F_TS);
	assert_int_equal(o.mss, 0);
	assert_int_equal(o.wscale, 0);
	assert_int_equal(o.ts_val, 0x9a3c5107);

	{	/* Linux without timestamps */
		static const uint8_t b[] = {
			0x02, 0x04, 0x05, 0x78, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x0a,
		};

		assert_int_equal(parse(b, sizeof(b), true, &o), 0);
		assert_int_equal(o.flags, WG_TCPOPT_F_MSS | WG_TCPOPT_F_SACK_PERM |
				 WG_TCPOPT_F_WSCALE);
		assert_int_equal(o.mss, 1400);
		assert_int_equal(o.wscale, 10);
	}
	{	/* data segment: NOP NOP TS */
		static const uint8_t b[] = {
			0x01, 0x01, 0x08, 0x0a, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01,
		};

		assert_int_equal(parse(b, sizeof(b), false, &o), 0);
		assert_int_equal(o.flags, WG_TCPOPT_F_TS);
		assert_int_equal(o.ts_val, 0xffffffff);
		assert_int_equal(o.ts_ecr, 1);
	}
	{	/* dup ACK: NOP NOP TS NOP NOP SACK with 2 blocks */
		static const uint8_t b[] = {
			0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00,
			0x01, 0x01, 0x05, 0x12,
			0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0xb4,
			0x80, 0x00, 0x00, 0x00, 0x80, 0x00, 0x10, 0x00,
		};

		assert_int_equal(parse(b, sizeof(b), false, &o), 0);
		assert_int_equal(o.flags, WG_TCPOPT_F_TS | WG_TCPOPT_F_SACK);
		assert_int_equal(o.ts_val, 0x1000);
		assert_int_equal(o.ts_ecr, 0x2000);
		assert_int_equal(o.n_sack, 2);
		assert_int_equal(o.sack[0].start, 0x10000);
		assert_int_equal(o.sack[0].end, 0x105b4);
		assert_int_equal(o.sack[1].start, 0x80000000);
		assert_int_equal(o.sack[1].end, 0x80001000);
		assert_int_equal(o.sack[2].start, 0);
		/* SACK counts on a SYN too: the parser does not judge */
		assert_int_equal(parse(b, sizeof(b), true, &o), 0);
		assert_int_equal(o.n_sack, 2);
	}
}

static void
test_parse_other_stacks(void **state)
{
	struct wg_tcp_opts o;

	(void)state;
	{	/* macOS: mss,nop,wscale 6,nop,nop,TS,sackOK,eol,eol */
		static const uint8_t b[] = {
			0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x06, 0x01, 0x01, 0x08, 0x0a,
			0x2e, 0x8f, 0x1b, 0x40, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x00,
		};

		assert_int_equal(parse(b, sizeof(b), true, &o), 0);
		assert_int_equal(o.flags, WG_TCPOPT_F_MSS | WG_TCPOPT_F_SACK_PERM |
				 WG_TCPOPT_F_TS | WG_TCPOPT_F_WSCALE);
		assert_int_equal(o.mss, 1460);
		assert_int_equal(o.wscale, 6);
		assert_int_equal(o.ts_val, 0x2e8f1b40);
	}
	{	/* FreeBSD: mss,nop,wscale 6,sackOK,TS */
		static const uint8_t b[] = {
			0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x06, 0x04, 0x02, 0x08, 0x0a,
			0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00,
		};

		assert_int_equal(parse(b, sizeof(b), true, &o), 0);
		assert_int_equal(o.flags, WG_TCPOPT_F_MSS | WG_TCPOPT_F_SACK_PERM |
				 WG_TCPOPT_F_TS | WG_TCPOPT_F_WSCALE);
		assert_int_equal(o.ts_val, 7);
	}
	{	/* OpenBSD: mss,nop,nop,sackOK,nop,wscale 6,nop,nop,TS */
		static const uint8_t b[] = {
			0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x06,
			0x01, 0x01, 0x08, 0x0a, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00,
		};

		assert_int_equal(parse(b, sizeof(b), true, &o), 0);
		assert_int_equal(o.flags, WG_TCPOPT_F_MSS | WG_TCPOPT_F_SACK_PERM |
				 WG_TCPOPT_F_TS | WG_TCPOPT_F_WSCALE);
		assert_int_equal(o.ts_val, 0x12345678);
	}
	{	/* Windows: mss,nop,wscale 8,nop,nop,sackOK */
		static const uint8_t b[] = {
			0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x08, 0x01, 0x01, 0x04, 0x02,
		};

		assert_int_equal(parse(b, sizeof(b), true, &o), 0);
		assert_int_equal(o.flags, WG_TCPOPT_F_MSS | WG_TCPOPT_F_SACK_PERM |
				 WG_TCPOPT_F_WSCALE);
		assert_int_equal(o.wscale, 8);
	}
	{	/* old stack: MSS then EOL padding */
		static const uint8_t b[] = { 0x02, 0x04, 0x02, 0x18, 0x00, 0x00, 0x00, 0x00 };

		assert_int_equal(parse(b, sizeof(b), true, &o), 0);
		assert_int_equal(o.flags, WG_TCPOPT_F_MSS);
		assert_int_equal(o.mss, 536);
	}
	{	/* Linux with MD5 (kind 19), MPTCP (30), fast open (34), an
		 * experimental kind (254): unknown kinds skip by length */
		static const uint8_t b[] = {
			0x02, 0x04, 0x05, 0xb4,
			0x13, 0x12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
			0x1e, 0x04, 0x00, 0x81,
			0x22, 0x02,
			0xfe, 0x04, 0xf9, 0x89,
			0x01, 0x03, 0x03, 0x05,
		};

		assert_int_equal(parse(b, sizeof(b), true, &o), 0);
		assert_int_equal(o.flags, WG_TCPOPT_F_MSS | WG_TCPOPT_F_WSCALE);
		assert_int_equal(o.mss, 1460);
		assert_int_equal(o.wscale, 5);
	}
}

static void
test_parse_eol_nop_empty(void **state)
{
	struct wg_tcp_opts o;

	(void)state;
	memset(&o, 0xa5, sizeof(o));
	assert_int_equal(parse(NULL, 0, true, &o), 0);
	assert_zero_opts(&o);
	{	/* NOPs only */
		static const uint8_t b[] = { 1, 1, 1, 1, 1, 1, 1, 1 };

		assert_int_equal(parse(b, sizeof(b), true, &o), 0);
		assert_zero_opts(&o);
	}
	{	/* EOL ends the list: what follows, even garbage, is padding */
		static const uint8_t b[] = {
			0x01, 0x01, 0x08, 0x0a, 0, 0, 0, 9, 0, 0, 0, 8,
			0x00, 0x02, 0x00, 0xff,
		};

		assert_int_equal(parse(b, sizeof(b), true, &o), 0);
		assert_int_equal(o.flags, WG_TCPOPT_F_TS);
		assert_int_equal(o.ts_val, 9);
	}
	{	/* EOL first: nothing, even a valid MSS after it */
		static const uint8_t b[] = { 0x00, 0x02, 0x04, 0x05, 0xb4 };

		assert_int_equal(parse(b, sizeof(b), true, &o), 0);
		assert_zero_opts(&o);
	}
	{	/* a lone EOL, and EOL right after a NOP at the very end */
		static const uint8_t b1[] = { 0x00 };
		static const uint8_t b2[] = { 0x02, 0x04, 0x05, 0xb4, 0x01, 0x00 };

		assert_int_equal(parse(b1, 1, true, &o), 0);
		assert_zero_opts(&o);
		assert_int_equal(parse(b2, sizeof(b2), true, &o), 0);
		assert_int_equal(o.flags, WG_TCPOPT_F_MSS);
	}
	{	/* a NOP as the last byte is fine */
		static const uint8_t b[] = { 0x01, 0x03, 0x03, 0x02, 0x01 };

		assert_int_equal(parse(b, sizeof(b), true, &o), 0);
		assert_int_equal(o.flags, WG_TCPOPT_F_WSCALE);
		assert_int_equal(o.wscale, 2);
	}
}

static void
test_parse_wscale_clamp(void **state)
{
	struct wg_tcp_opts o;
	uint8_t b[3] = { 0x03, 0x03, 0 };

	(void)state;
	for (unsigned int ws = 0; ws <= 255; ws++) {
		b[2] = (uint8_t)ws;
		assert_int_equal(parse(b, 3, true, &o), 0);
		assert_int_equal(o.flags, WG_TCPOPT_F_WSCALE);
		assert_int_equal(o.wscale, ws > 14 ? 14 : ws);
		assert_int_equal(parse(b, 3, false, &o), 0);
		assert_int_equal(o.flags, 0);
	}
}

static void
test_parse_duplicates_last_wins(void **state)
{
	struct wg_tcp_opts o;

	(void)state;
	{
		static const uint8_t b[] = {
			0x02, 0x04, 0x03, 0xe8, 0x03, 0x03, 0x02, 0x02, 0x04, 0x05, 0xb4,
			0x03, 0x03, 0x09, 0x01,
		};

		assert_int_equal(parse(b, sizeof(b), true, &o), 0);
		assert_int_equal(o.mss, 1460);
		assert_int_equal(o.wscale, 9);
	}
	{	/* two SACK options: the second's blocks only, none left over */
		static const uint8_t b[] = {
			0x05, 0x12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
			0x05, 0x0a, 0, 0, 0, 7, 0, 0, 0, 8,
			0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 1,
		};

		assert_int_equal(parse(b, sizeof(b), false, &o), 0);
		assert_int_equal(o.n_sack, 1);
		assert_int_equal(o.sack[0].start, 7);
		assert_int_equal(o.sack[0].end, 8);
		assert_int_equal(o.sack[1].start, 0);
		assert_int_equal(o.sack[1].end, 0);
	}
	{	/* two timestamps */
		static const uint8_t b[] = {
			0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2,
			0x08, 0x0a, 0, 0, 0, 3, 0, 0, 0, 4,
		};

		assert_int_equal(parse(b, sizeof(b), false, &o), 0);
		assert_int_equal(o.ts_val, 3);
		assert_int_equal(o.ts_ecr, 4);
	}
}

/* A SACK option longer than 40 bytes can only come from a caller passing
 * more than the TCP header allows; the first 4 blocks are kept. */
static void
test_parse_sack_more_than_max(void **state)
{
	struct wg_tcp_opts o;
	uint8_t b[2 + 8 * 6];

	(void)state;
	b[0] = 0x05;
	b[1] = sizeof(b);
	for (unsigned int i = 0; i < 12; i++) {
		b[2 + 4 * i] = 0;
		b[3 + 4 * i] = 0;
		b[4 + 4 * i] = 0;
		b[5 + 4 * i] = (uint8_t)(i + 1);
	}
	assert_int_equal(parse(b, sizeof(b), false, &o), 0);
	assert_int_equal(o.flags, WG_TCPOPT_F_SACK);
	assert_int_equal(o.n_sack, 4);
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(o.sack[i].start, 2 * i + 1);
		assert_int_equal(o.sack[i].end, 2 * i + 2);
	}
}

static void
test_parse_malformed(void **state)
{
	(void)state;
	/* length 0 and 1, known and unknown kinds */
	EXPECT_BAD(0x02, 0x00, 0x05, 0xb4);
	EXPECT_BAD(0x02, 0x01, 0x05, 0xb4);
	EXPECT_BAD(0x1e, 0x00);
	EXPECT_BAD(0x1e, 0x01, 0x01, 0x01);
	EXPECT_BAD(0x01, 0x01, 0x08, 0x00);
	/* kind with no room for its length byte */
	EXPECT_BAD(0x02);
	EXPECT_BAD(0x01, 0x01, 0x01, 0x08);
	EXPECT_BAD(0x01, 0x01, 0x01, 0xfe);
	EXPECT_BAD(0x02, 0x04, 0x05, 0xb4, 0x04);
	/* overrun by one byte */
	EXPECT_BAD(0x02, 0x05, 0x05, 0xb4);
	EXPECT_BAD(0x1e, 0x05, 0x00, 0x00);
	EXPECT_BAD(0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0);
	EXPECT_BAD(0x05, 0x0a, 0, 0, 0, 1, 0, 0, 0);
	EXPECT_BAD(0x01, 0x01, 0x05, 0x12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0);
	/* length 255 in a short space */
	EXPECT_BAD(0x22, 0xff, 0x00, 0x00);
	/* wrong lengths for known kinds (even where the value is ignored) */
	EXPECT_BAD(0x02, 0x03, 0x05);
	EXPECT_BAD(0x02, 0x05, 0x05, 0xb4, 0x00);
	EXPECT_BAD(0x02, 0x02);
	EXPECT_BAD(0x03, 0x02);
	EXPECT_BAD(0x03, 0x04, 0x07, 0x00);
	EXPECT_BAD(0x04, 0x03, 0x00);
	EXPECT_BAD(0x04, 0x04, 0x00, 0x00);
	EXPECT_BAD(0x08, 0x08, 0, 0, 0, 1, 0, 0);
	EXPECT_BAD(0x08, 0x0b, 0, 0, 0, 1, 0, 0, 0, 2, 0);
	EXPECT_BAD(0x08, 0x02);
	/* SACK with 0 blocks, or not a multiple of 8 */
	EXPECT_BAD(0x05, 0x02);
	EXPECT_BAD(0x01, 0x01, 0x05, 0x02);
	EXPECT_BAD(0x05, 0x03, 0x00);
	EXPECT_BAD(0x05, 0x09, 0, 0, 0, 1, 0, 0, 0);
	EXPECT_BAD(0x05, 0x0b, 0, 0, 0, 1, 0, 0, 0, 2, 0);
	EXPECT_BAD(0x05, 0x11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0);
	/* good options before a bad one do not survive */
	EXPECT_BAD(0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07, 0x04, 0x03, 0x00, 0x00);
}

/* Cut the Linux SYN at every length: valid exactly at option boundaries. */
static void
test_parse_truncated(void **state)
{
	struct wg_tcp_opts o;

	(void)state;
	for (unsigned int len = 0; len <= sizeof(linux_syn); len++) {
		bool boundary = len == 0 || len == 4 || len == 6 || len == 16 || len == 17 ||
				len == 20;
		int rc = parse(linux_syn, len, true, &o);

		if (!boundary) {
			assert_int_equal(rc, -EBADMSG);
			assert_zero_opts(&o);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(o.flags,
				 (len >= 4 ? WG_TCPOPT_F_MSS : 0) |
				 (len >= 6 ? WG_TCPOPT_F_SACK_PERM : 0) |
				 (len >= 16 ? WG_TCPOPT_F_TS : 0) |
				 (len >= 20 ? WG_TCPOPT_F_WSCALE : 0));
	}
}

/* Bytes past len never matter: the same prefix with different tails. */
static void
test_parse_ignores_bytes_past_len(void **state)
{
	uint8_t b[64];
	struct wg_tcp_opts a, c;

	(void)state;
	for (unsigned int len = 0; len <= sizeof(linux_syn); len++) {
		memcpy(b, linux_syn, sizeof(linux_syn));
		memset(b + len, 0x00, sizeof(b) - len);
		int ra = wg_tcp_opts_parse(b, len, true, &a);

		memset(b + len, 0x01, sizeof(b) - len);
		int rc = wg_tcp_opts_parse(b, len, true, &c);

		assert_int_equal(ra, rc);
		assert_opts_equal(&a, &c);
		memset(b + len, 0xff, sizeof(b) - len);
		rc = wg_tcp_opts_parse(b, len, true, &c);
		assert_int_equal(ra, rc);
		assert_opts_equal(&a, &c);
	}
}

/* Parsing what Linux sent and building it again gives the same bytes. */
static void
test_round_trip_linux_bytes(void **state)
{
	static const uint8_t syn_nots[] = {
		0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x07,
	};
	static const uint8_t data[] = {
		0x01, 0x01, 0x08, 0x0a, 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70,
		0x01, 0x01, 0x05, 0x1a,
		0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0,
	};
	struct wg_tcp_opts o;
	uint8_t g[64];
	unsigned int n;

	(void)state;
	assert_int_equal(parse(linux_syn, sizeof(linux_syn), true, &o), 0);
	n = build(true, &o, g);
	assert_bytes(g, n, linux_syn, sizeof(linux_syn));
	assert_int_equal(parse(syn_nots, sizeof(syn_nots), true, &o), 0);
	n = build(true, &o, g);
	assert_bytes(g, n, syn_nots, sizeof(syn_nots));
	assert_int_equal(parse(data, sizeof(data), false, &o), 0);
	n = build(false, &o, g);
	assert_bytes(g, n, data, sizeof(data));
}

static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Random valid option lists (shuffled kinds, NOPs, unknown kinds, EOL
 * padding) parse to what the generator meant. */
static void
test_parse_random_valid(void **state)
{
	uint64_t s = 7;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		uint8_t b[96];
		unsigned int len = 0;
		struct wg_tcp_opts want = { 0 }, got;
		bool syn = rnd(&s) & 1;
		unsigned int nopt = (unsigned int)(rnd(&s) % 6);

		for (unsigned int k = 0; k < nopt; k++) {
			uint64_t r = rnd(&s);
			unsigned int kind = (unsigned int)(r % 7);

			if (rnd(&s) % 3 == 0 && len < 70)
				b[len++] = 0x01;
			if (len > 60)
				break;
			switch (kind) {
			case 0:
				b[len++] = 2; b[len++] = 4;
				b[len++] = (uint8_t)(r >> 8); b[len++] = (uint8_t)(r >> 16);
				if (syn) {
					want.flags |= WG_TCPOPT_F_MSS;
					want.mss = (uint16_t)(((r >> 8) & 0xff) << 8 | ((r >> 16) & 0xff));
				}
				break;
			case 1:
				b[len++] = 3; b[len++] = 3; b[len++] = (uint8_t)(r >> 8);
				if (syn) {
					want.flags |= WG_TCPOPT_F_WSCALE;
					want.wscale = (uint8_t)(r >> 8) > 14 ? 14 : (uint8_t)(r >> 8);
				}
				break;
			case 2:
				b[len++] = 4; b[len++] = 2;
				if (syn)
					want.flags |= WG_TCPOPT_F_SACK_PERM;
				break;
			case 3:
				b[len++] = 8; b[len++] = 10;
				want.ts_val = (uint32_t)(r >> 8);
				want.ts_ecr = (uint32_t)(r >> 40);
				for (int i = 3; i >= 0; i--)
					b[len++] = (uint8_t)(want.ts_val >> (8 * i));
				for (int i = 3; i >= 0; i--)
					b[len++] = (uint8_t)(want.ts_ecr >> (8 * i));
				want.flags |= WG_TCPOPT_F_TS;
				break;
			case 4: {
				unsigned int n = 1 + (unsigned int)((r >> 8) % 2);

				b[len++] = 5; b[len++] = (uint8_t)(2 + 8 * n);
				for (unsigned int i = 0; i < n; i++) {
					want.sack[i].start = (uint32_t)rnd(&s);
					want.sack[i].end = (uint32_t)rnd(&s);
					for (int j = 3; j >= 0; j--)
						b[len++] = (uint8_t)(want.sack[i].start >> (8 * j));
					for (int j = 3; j >= 0; j--)
						b[len++] = (uint8_t)(want.sack[i].end >> (8 * j));
				}
				want.n_sack = (uint8_t)n;
				want.flags |= WG_TCPOPT_F_SACK;
				break;
			}
			default: {   /* unknown kind, any length 2..6 */
				unsigned int l = 2 + (unsigned int)((r >> 8) % 5);

				b[len++] = (uint8_t)(9 + (r >> 16) % 240);
				b[len++] = (uint8_t)l;
				for (unsigned int i = 2; i < l; i++)
					b[len++] = (uint8_t)(r >> (24 + i));
				break;
			}
			}
		}
		if (rnd(&s) & 1) {   /* EOL and junk after it */
			b[len++] = 0;
			while (len % 4)
				b[len++] = (uint8_t)rnd(&s);
		}
		assert_int_equal(parse(b, len, syn, &got), 0);
		assert_opts_equal(&got, &want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_syn_linux_layouts),
		cmocka_unit_test(test_build_data_linux_layouts),
		cmocka_unit_test(test_build_all_combinations),
		cmocka_unit_test(test_parse_linux),
		cmocka_unit_test(test_parse_other_stacks),
		cmocka_unit_test(test_parse_eol_nop_empty),
		cmocka_unit_test(test_parse_wscale_clamp),
		cmocka_unit_test(test_parse_duplicates_last_wins),
		cmocka_unit_test(test_parse_sack_more_than_max),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_ignores_bytes_past_len),
		cmocka_unit_test(test_round_trip_linux_bytes),
		cmocka_unit_test(test_parse_random_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
