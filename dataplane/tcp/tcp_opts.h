/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_TCP_OPTS_H
#define WG_TCP_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp_opts-t.h"

/* Parse len bytes of options (the bytes between the 20-byte header and the
 * data offset). syn: MSS/WS/SACK-permitted are honoured only on SYNs (RFC
 * 9293 3.2, 7323 2.2) and ignored elsewhere. Unknown kinds are skipped by
 * their length. Returns 0, or -EBADMSG when an option's length is < 2,
 * overruns the option space, or a known option has the wrong length
 * (MSS 4, WS 3, SACK-permitted 2, TS 10, SACK 2+8n with 1 <= n). */
int wg_tcp_opts_parse(const uint8_t *opt, unsigned int len, bool syn, struct wg_tcp_opts *out);

/* Options for a SYN or SYN-ACK: MSS, then SACK-permitted/TS/WS as set in
 * o->flags, NOP-padded to a multiple of 4. Returns bytes written (<= 40). */
unsigned int wg_tcp_opts_build_syn(uint8_t *buf, const struct wg_tcp_opts *o);

/* Options for any other segment: TS (if WG_TCPOPT_F_TS) and up to the SACK
 * blocks that fit (if WG_TCPOPT_F_SACK), NOP-aligned the way Linux does
 * (NOP NOP TS, NOP NOP SACK), so a timestamp-only header is 12 bytes.
 * Returns bytes written (<= 40, multiple of 4). */
unsigned int wg_tcp_opts_build(uint8_t *buf, const struct wg_tcp_opts *o);

#endif /* WG_TCP_OPTS_H */
