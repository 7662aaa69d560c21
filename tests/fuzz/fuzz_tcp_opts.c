/* SPDX-License-Identifier: BSD-3-Clause
 * TCP options from the wire: the parser must stay inside the bytes it is
 * given and return something self-consistent, and what it returns must
 * survive build -> parse unchanged.
 *
 * Input: byte 0 = (len << 1) | syn, the rest = option bytes, of which the
 * first min(len, rest) are parsed. len goes to 127, past the 40 bytes a
 * header can carry, so oversized SACK options are reachable too.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_opts.h"

#define KNOWN_F (WG_TCPOPT_F_MSS | WG_TCPOPT_F_WSCALE | WG_TCPOPT_F_SACK_PERM | \
		 WG_TCPOPT_F_TS | WG_TCPOPT_F_SACK)
#define SYN_F   (WG_TCPOPT_F_MSS | WG_TCPOPT_F_WSCALE | WG_TCPOPT_F_SACK_PERM)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same(const struct wg_tcp_opts *a, const struct wg_tcp_opts *b)
{
	if (a->flags != b->flags || a->wscale != b->wscale || a->mss != b->mss ||
	    a->ts_val != b->ts_val || a->ts_ecr != b->ts_ecr || a->n_sack != b->n_sack)
		return false;
	for (unsigned int i = 0; i < a->n_sack; i++)
		if (a->sack[i].start != b->sack[i].start || a->sack[i].end != b->sack[i].end)
			return false;
	return true;
}

/* Fields without their flag are zero: nobody can read a stale value. */
static void
check_consistent(const struct wg_tcp_opts *o, bool syn)
{
	if (o->flags & ~KNOWN_F)
		abort();
	if (!syn && (o->flags & SYN_F))
		abort();
	if (o->wscale > WG_TCP_MAX_WSCALE || o->n_sack > WG_TCP_MAX_SACK)
		abort();
	if (!(o->flags & WG_TCPOPT_F_MSS) && o->mss != 0)
		abort();
	if (!(o->flags & WG_TCPOPT_F_WSCALE) && o->wscale != 0)
		abort();
	if (!(o->flags & WG_TCPOPT_F_TS) && (o->ts_val != 0 || o->ts_ecr != 0))
		abort();
	if (!!(o->flags & WG_TCPOPT_F_SACK) != (o->n_sack != 0))
		abort();
}

static void
check_zero(const struct wg_tcp_opts *o)
{
	struct wg_tcp_opts z;

	memset(&z, 0, sizeof(z));
	if (!same(o, &z))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_tcp_opts o, p, q, want;
	uint8_t out[64];
	unsigned int len, n;
	bool syn;
	uint8_t *buf;
	int rc;

	if (size == 0)
		return 0;
	syn = data[0] & 1;
	len = data[0] >> 1;
	if (len > size - 1)
		len = (unsigned int)(size - 1);
	/* exact-size heap copy so ASan sees any read past len */
	buf = malloc(len ? len : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, len);

	memset(&o, 0xa5, sizeof(o));
	rc = wg_tcp_opts_parse(buf, len, syn, &o);
	if (rc != 0) {
		if (rc != -EBADMSG)
			abort();
		check_zero(&o);
		/* malformedness does not depend on the SYN bit */
		if (wg_tcp_opts_parse(buf, len, !syn, &p) != -EBADMSG)
			abort();
		goto out;
	}
	check_consistent(&o, syn);

	/* the SYN bit only gates MSS/WS/SACK-permitted */
	if (wg_tcp_opts_parse(buf, len, !syn, &p) != 0)
		abort();
	check_consistent(&p, !syn);
	want = syn ? o : p;
	want.flags &= (uint8_t)~SYN_F;
	want.mss = 0;
	want.wscale = 0;
	if (!same(syn ? &p : &o, &want))
		abort();

	/* SYN round trip: everything but SACK blocks, which a SYN never carries */
	n = wg_tcp_opts_build_syn(out, &o);
	if (n > WG_TCP_OPTS_MAX_LEN || n % 4 != 0)
		abort();
	if (wg_tcp_opts_parse(out, n, true, &q) != 0)
		abort();
	want = o;
	want.flags &= (uint8_t)~WG_TCPOPT_F_SACK;
	want.n_sack = 0;
	if (!same(&q, &want))
		abort();

	/* data round trip: TS and as many blocks as fit beside it */
	n = wg_tcp_opts_build(out, &o);
	if (n > WG_TCP_OPTS_MAX_LEN || n % 4 != 0)
		abort();
	if (wg_tcp_opts_parse(out, n, false, &q) != 0)
		abort();
	want = o;
	want.flags &= (uint8_t)~SYN_F;
	want.mss = 0;
	want.wscale = 0;
	if ((want.flags & WG_TCPOPT_F_TS) && want.n_sack > 3)
		want.n_sack = 3;
	if (!same(&q, &want))
		abort();
	/* and building the re-parsed result gives the same bytes again */
	{
		uint8_t again[64];

		if (wg_tcp_opts_build(again, &q) != n || memcmp(again, out, n) != 0)
			abort();
	}
out:
	free(buf);
	return 0;
}
