/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_TLS_SECRETS_T_H
#define WG_TLS_SECRETS_T_H

#include <stdint.h>

/* TLS 1.3 cipher suites the fast path seals/opens (IANA ids). */
#define WG_TLS_AES_128_GCM_SHA256 0x1301
#define WG_TLS_AES_256_GCM_SHA384 0x1302

#define WG_TLS_MAX_SECRET 48           /* SHA-384 hash length */

/* What the handshake (OpenSSL, off the fast path) hands to the record layer
 * at key takeover: the application traffic secrets of both directions and
 * how many records OpenSSL already protected under each, so the record
 * layer's first nonce is right. Key/IV are derived from the secrets by
 * HKDF-Expand-Label in the record layer (and again on every KeyUpdate). */
struct wg_tls_secrets {
	uint16_t suite;                /* WG_TLS_AES_* */
	uint8_t secret_len;            /* 32 (SHA-256) or 48 (SHA-384) */
	uint8_t is_server;             /* 1: rx = client's secret, tx = server's */
	uint32_t pad;
	uint64_t rx_seq;               /* peer records already opened by OpenSSL */
	uint64_t tx_seq;               /* our records already sealed (tickets) */
	uint8_t rx_secret[WG_TLS_MAX_SECRET];
	uint8_t tx_secret[WG_TLS_MAX_SECRET];
};

#endif /* WG_TLS_SECRETS_T_H */
