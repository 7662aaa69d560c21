/* SPDX-License-Identifier: BSD-3-Clause
 * TCP options as parsed from or written into a segment (RFC 9293, 7323, 2018).
 */
#ifndef WG_TCP_OPTS_T_H
#define WG_TCP_OPTS_T_H

#include <stdint.h>

#define WG_TCPOPT_F_MSS        0x01  /* mss valid */
#define WG_TCPOPT_F_WSCALE     0x02  /* wscale valid */
#define WG_TCPOPT_F_SACK_PERM  0x04  /* SACK-permitted seen */
#define WG_TCPOPT_F_TS         0x08  /* ts_val/ts_ecr valid */
#define WG_TCPOPT_F_SACK       0x10  /* n_sack blocks valid */
/* 0x20 .. 0x80 unused */

#define WG_TCP_MAX_SACK        4     /* 3 fit beside timestamps, 4 without */
#define WG_TCP_MAX_WSCALE      14    /* RFC 7323: larger values are clamped */
#define WG_TCP_OPTS_MAX_LEN    40

struct wg_tcp_sack_block {
	uint32_t start;               /* host byte order */
	uint32_t end;
};

struct wg_tcp_opts {
	uint8_t flags;                /* WG_TCPOPT_F_* */
	uint8_t wscale;               /* clamped to WG_TCP_MAX_WSCALE */
	uint16_t mss;
	uint32_t ts_val;              /* host byte order */
	uint32_t ts_ecr;
	uint8_t n_sack;
	struct wg_tcp_sack_block sack[WG_TCP_MAX_SACK];
};

#endif /* WG_TCP_OPTS_T_H */
