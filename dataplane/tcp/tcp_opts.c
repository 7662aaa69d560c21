/* SPDX-License-Identifier: BSD-3-Clause
 * TCP options: a strict parser and the two builders (SYN, other segments).
 *
 * Parsing follows RFC 9293 3.1: EOL ends the list, NOP is one byte, every
 * other kind carries a length byte counting kind and length, so an unknown
 * kind is skipped by it. Anything whose length byte lies outside the option
 * space, is below 2 or overruns the space makes the whole list invalid, as
 * does a known kind with a length it cannot have; the segment's options
 * are then not trusted at all. Every read is checked against len first.
 *
 * A kind that appears twice: the last occurrence wins, field by field,
 * like Linux's tcp_parse_options(). The RFCs do not say; this keeps the
 * parser single-pass and the behaviour predictable.
 *
 * Which options count: MSS, window scale and SACK-permitted only on a SYN
 * (RFC 9293 3.7.1, RFC 7323 2.2, RFC 2018 2) - elsewhere they are checked
 * for length and ignored; timestamps (RFC 7323 3.2) and SACK blocks
 * (RFC 2018 3) on any segment. The caller decides what a timestamp or SACK
 * block means for its state.
 *
 * Builders write the layouts Linux writes (tcp_options_write()), so a
 * capture of our segments reads like a capture of Linux ones, and every
 * 4-byte option word is aligned the same way:
 *   SYN:   MSS | SACK-perm+TS "04 02 08 0a" or NOP NOP TS | NOP NOP SACK-perm
 *          (without TS) | NOP WS
 *   other: NOP NOP TS | NOP NOP SACK(n)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tcp_opts.h"

#define OPT_EOL        0
#define OPT_NOP        1
#define OPT_MSS        2
#define OPT_WS         3
#define OPT_SACK_PERM  4
#define OPT_SACK       5
#define OPT_TS         8

#define LEN_MSS        4
#define LEN_WS         3
#define LEN_SACK_PERM  2
#define LEN_TS         10
#define LEN_SACK_BLOCK 8
#define LEN_SACK_BASE  2
#define SACK_WITH_TS   3     /* blocks that fit beside NOP NOP TS */

_Static_assert(LEN_SACK_BASE + WG_TCP_MAX_SACK * LEN_SACK_BLOCK + 2 <= WG_TCP_OPTS_MAX_LEN,
	       "NOP NOP SACK with the most blocks fits the option space");
_Static_assert(2 + LEN_TS + 2 + LEN_SACK_BASE + SACK_WITH_TS * LEN_SACK_BLOCK <=
	       WG_TCP_OPTS_MAX_LEN,
	       "NOP NOP TS plus 3 blocks fits the option space");

static inline uint16_t
get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned int)p[0] << 8 | p[1]);
}

static inline uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint8_t *
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static inline uint8_t *
put4(uint8_t *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	p[0] = a;
	p[1] = b;
	p[2] = c;
	p[3] = d;
	return p + 4;
}

/* The body of one option of kind with length olen (already checked to lie
 * inside the space and be >= 2); o is the result being built. */
static int
parse_one(uint8_t kind, const uint8_t *p, unsigned int olen, bool syn, struct wg_tcp_opts *o)
{
	unsigned int n, i;

	switch (kind) {
	case OPT_MSS:
		if (olen != LEN_MSS)
			return -EBADMSG;
		if (syn) {
			o->mss = get_be16(p + 2);
			o->flags |= WG_TCPOPT_F_MSS;
		}
		break;
	case OPT_WS:
		if (olen != LEN_WS)
			return -EBADMSG;
		if (syn) {
			/* RFC 7323 2.3: log a shift over 14 and use 14 */
			o->wscale = p[2] > WG_TCP_MAX_WSCALE ? WG_TCP_MAX_WSCALE : p[2];
			o->flags |= WG_TCPOPT_F_WSCALE;
		}
		break;
	case OPT_SACK_PERM:
		if (olen != LEN_SACK_PERM)
			return -EBADMSG;
		if (syn)
			o->flags |= WG_TCPOPT_F_SACK_PERM;
		break;
	case OPT_TS:
		if (olen != LEN_TS)
			return -EBADMSG;
		o->ts_val = get_be32(p + 2);
		o->ts_ecr = get_be32(p + 6);
		o->flags |= WG_TCPOPT_F_TS;
		break;
	case OPT_SACK:
		if (olen < LEN_SACK_BASE + LEN_SACK_BLOCK ||
		    (olen - LEN_SACK_BASE) % LEN_SACK_BLOCK != 0)
			return -EBADMSG;
		/* a long option (only possible with len > 40) keeps the first
		 * blocks: RFC 2018 puts the most recent block first */
		n = (olen - LEN_SACK_BASE) / LEN_SACK_BLOCK;
		if (n > WG_TCP_MAX_SACK)
			n = WG_TCP_MAX_SACK;
		for (i = 0; i < n; i++) {
			o->sack[i].start = get_be32(p + LEN_SACK_BASE + i * LEN_SACK_BLOCK);
			o->sack[i].end = get_be32(p + LEN_SACK_BASE + i * LEN_SACK_BLOCK + 4);
		}
		for (; i < WG_TCP_MAX_SACK; i++) {
			o->sack[i].start = 0;
			o->sack[i].end = 0;
		}
		o->n_sack = (uint8_t)n;
		o->flags |= WG_TCPOPT_F_SACK;
		break;
	default:
		break;
	}
	return 0;
}

/* On error *out is all zero, so a caller that ignores the return value
 * still sees no options rather than half a list. */
int
wg_tcp_opts_parse(const uint8_t *opt, unsigned int len, bool syn, struct wg_tcp_opts *out)
{
	struct wg_tcp_opts o;
	unsigned int i = 0, olen;
	int rc = 0;

	memset(&o, 0, sizeof(o));
	while (i < len) {
		uint8_t kind = opt[i];

		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2) {
			rc = -EBADMSG;
			goto out;
		}
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i) {
			rc = -EBADMSG;
			goto out;
		}
		rc = parse_one(kind, opt + i, olen, syn, &o);
		if (rc != 0)
			goto out;
		i += olen;
	}
out:
	if (rc != 0)
		memset(&o, 0, sizeof(o));
	*out = o;
	return rc;
}

/* SACK-permitted rides in the two bytes Linux would otherwise pad the
 * timestamp with, so MSS + SACK-perm + TS + WS is 20 bytes, not 24. */
unsigned int
wg_tcp_opts_build_syn(uint8_t *buf, const struct wg_tcp_opts *o)
{
	uint8_t *p = buf;
	uint8_t ws;

	if (o->flags & WG_TCPOPT_F_MSS)
		p = put4(p, OPT_MSS, LEN_MSS, (uint8_t)(o->mss >> 8), (uint8_t)o->mss);
	if (o->flags & WG_TCPOPT_F_TS) {
		if (o->flags & WG_TCPOPT_F_SACK_PERM)
			p = put4(p, OPT_SACK_PERM, LEN_SACK_PERM, OPT_TS, LEN_TS);
		else
			p = put4(p, OPT_NOP, OPT_NOP, OPT_TS, LEN_TS);
		p = put_be32(p, o->ts_val);
		p = put_be32(p, o->ts_ecr);
	} else if (o->flags & WG_TCPOPT_F_SACK_PERM) {
		p = put4(p, OPT_NOP, OPT_NOP, OPT_SACK_PERM, LEN_SACK_PERM);
	}
	if (o->flags & WG_TCPOPT_F_WSCALE) {
		ws = o->wscale > WG_TCP_MAX_WSCALE ? WG_TCP_MAX_WSCALE : o->wscale;
		p = put4(p, OPT_NOP, OPT_WS, LEN_WS, ws);
	}
	return (unsigned int)(p - buf);
}

/* SACK blocks beyond what fits are dropped from the end: the first block
 * is the most recent one (RFC 2018 4), which must be reported. */
unsigned int
wg_tcp_opts_build(uint8_t *buf, const struct wg_tcp_opts *o)
{
	uint8_t *p = buf;
	unsigned int n = 0, i, max = WG_TCP_MAX_SACK;

	if (o->flags & WG_TCPOPT_F_TS) {
		p = put4(p, OPT_NOP, OPT_NOP, OPT_TS, LEN_TS);
		p = put_be32(p, o->ts_val);
		p = put_be32(p, o->ts_ecr);
		max = SACK_WITH_TS;
	}
	if (o->flags & WG_TCPOPT_F_SACK)
		n = o->n_sack < max ? o->n_sack : max;
	if (n > 0) {
		p = put4(p, OPT_NOP, OPT_NOP, OPT_SACK,
			 (uint8_t)(LEN_SACK_BASE + n * LEN_SACK_BLOCK));
		for (i = 0; i < n; i++) {
			p = put_be32(p, o->sack[i].start);
			p = put_be32(p, o->sack[i].end);
		}
	}
	return (unsigned int)(p - buf);
}
