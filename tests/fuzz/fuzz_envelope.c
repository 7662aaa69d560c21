/* SPDX-License-Identifier: BSD-3-Clause
 * Envelope decoder against protobuf-c on arbitrary bytes. Oracles: both
 * accept or both reject, except where protobuf-c lets a field number the
 * spec forbids (0, above 2^29-1) through as an unknown field and we refuse
 * it (checked by an independent walk); when both accept, every field is
 * equal, the payload lies inside the input, and our encoding of the view
 * equals protobuf-c's packing of its message and decodes to the same view.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../pb_walk.h"
#include "envelope.h"
#include "wg_client.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ours[8192], theirs[8192];
	struct wg_envelope e, e2;
	Wg__Envelope *pe;
	unsigned nu;
	size_t m;
	int rc, n;

	if (size > 4096)
		return 0;
	pe = wg__envelope__unpack(NULL, size, data);
	rc = wg_envelope_decode(&e, data, size);
	if (pe == NULL) {
		if (rc != -EBADMSG)
			abort();
		return 0;
	}
	if (rc != 0) {
		if (rc != -EBADMSG || !bad_field_number(data, size))
			abort();
		wg__envelope__free_unpacked(pe, NULL);
		return 0;
	}
	if (e.type != pe->type || e.seq != pe->seq || e.ack != pe->ack ||
	    e.msg_id != pe->msg_id || e.payload_len != pe->payload.len)
		abort();
	if (e.payload_len != 0 &&
	    (e.payload < data || e.payload + e.payload_len > data + size ||
	     memcmp(e.payload, pe->payload.data, e.payload_len) != 0))
		abort();
	/* protobuf-c re-packs the unknown fields it kept: leave them out */
	nu = pe->base.n_unknown_fields;
	pe->base.n_unknown_fields = 0;
	m = wg__envelope__pack(pe, theirs);
	pe->base.n_unknown_fields = nu;
	n = wg_envelope_encode(&e, ours, sizeof(ours));
	if (n < 0 || (size_t)n != m || (size_t)n != wg_envelope_size(&e, e.payload_len) ||
	    memcmp(ours, theirs, m) != 0)
		abort();
	if (wg_envelope_decode(&e2, ours, (size_t)n) != 0 || e2.type != e.type ||
	    e2.seq != e.seq || e2.ack != e.ack || e2.msg_id != e.msg_id ||
	    e2.payload_len != e.payload_len)
		abort();
	wg__envelope__free_unpacked(pe, NULL);
	return 0;
}
