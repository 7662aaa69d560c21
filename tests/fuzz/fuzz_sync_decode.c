/* SPDX-License-Identifier: BSD-3-Clause
 * The client-side sync decoder parses bytes from the network. Input: a
 * sequence of records (2-byte little-endian length + StateDelta bytes) fed
 * to one decoder, so baselines and multi-message state are exercised.
 * Oracles: no crash or over-read (ASan), a failed decode leaves the view
 * untouched, the view stays sorted and bounded, and every view the decoder
 * accepts survives a round trip through the server-side encoder.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../logic/sync/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXE 64
#define NF 2

static uint64_t
view_hash(const struct wg_sync_decoder *d, uint32_t *n_out)
{
	const struct wg_sync_entry *v;
	uint64_t h = 1469598103934665603ull;
	uint32_t n, tick, i;
	const uint8_t *p;

	v = wg_sync_decoder_view(d, &n, &tick);
	*n_out = n;
	h = (h ^ tick) * 1099511628211ull;
	for (i = 0; i < n; i++) {
		size_t j;

		p = (const uint8_t *)&v[i].s;
		h = (h ^ v[i].id) * 1099511628211ull;
		for (j = 0; j < sizeof(v[i].s); j++)
			h = (h ^ p[j]) * 1099511628211ull;
	}
	return h;
}

static void
check_view(const struct wg_sync_decoder *d)
{
	struct wg_sync_conf c = { .frames = 8, .nfields = NF, .view_radius = 1 };
	static struct wg_sync_item items[MAXE];
	static uint8_t buf[65536];
	const struct wg_sync_entry *v, *w;
	struct wg_sync_decoder *d2;
	struct wg_sync_peer *p;
	uint32_t n, n2, tick, i;
	size_t len;

	v = wg_sync_decoder_view(d, &n, &tick);
	if (n > MAXE)
		abort();
	for (i = 0; i < n; i++) {
		if (v[i].id == 0 || (i > 0 && v[i].id <= v[i - 1].id) ||
		    v[i].s.yaw >= WG_SYNC_YAW_ONE_TURN || v[i].s.x > WG_SYNC_Q_LIMIT ||
		    v[i].s.x < -WG_SYNC_Q_LIMIT || v[i].s.y > WG_SYNC_Q_LIMIT ||
		    v[i].s.y < -WG_SYNC_Q_LIMIT)
			abort();
		items[i].id = v[i].id;
		items[i].dist = 0;
		items[i].s = v[i].s;
	}
	/* what the decoder accepted, the encoder can say again, identically */
	p = wg_sync_peer_create(&c);
	d2 = wg_sync_decoder_create(8, NF, MAXE);
	if (p == NULL || d2 == NULL)
		abort();
	if (wg_sync_encode(p, 1, items, n, buf, sizeof(buf), &len) != 0)
		abort();
	if (wg_sync_decode(d2, buf, len, &tick) != 0 || tick != 1)
		abort();
	w = wg_sync_decoder_view(d2, &n2, NULL);
	if (n2 != n)
		abort();
	for (i = 0; i < n; i++)
		if (w[i].id != v[i].id || memcmp(&w[i].s, &v[i].s, sizeof(w[i].s)) != 0)
			abort();
	wg_sync_peer_destroy(p);
	wg_sync_decoder_destroy(d2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_sync_decoder *d = wg_sync_decoder_create(8, NF, MAXE);
	size_t off = 0;

	if (d == NULL)
		return 0;
	while (off + 2 <= size) {
		size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;
		uint64_t before, after;
		uint32_t tick, n, n2;
		uint8_t *buf;
		int rc;

		off += 2;
		if (len > size - off)
			len = size - off;
		/* an exact-size heap copy so ASan sees any over-read */
		buf = malloc(len ? len : 1);
		if (buf == NULL)
			break;
		memcpy(buf, data + off, len);
		off += len;
		before = view_hash(d, &n);
		rc = wg_sync_decode(d, buf, len, &tick);
		after = view_hash(d, &n2);
		if (rc != 0 && before != after)
			abort();
		if (rc != 0 && rc != -EALREADY && rc != -ENOENT && rc != -EBADMSG && rc != -ENOMEM)
			abort();
		if (rc == 0)
			check_view(d);
		{
			uint32_t t, seq;
			float x, y, yaw;

			(void)wg_sync_ack_parse(buf, len, &t);
			(void)wg_sync_move_parse(buf, len, &seq, &x, &y, &yaw);
		}
		free(buf);
	}
	wg_sync_decoder_destroy(d);
	return 0;
}
