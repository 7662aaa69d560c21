/* SPDX-License-Identifier: BSD-3-Clause
 * AES-GCM for TLS 1.3 records on the IPsec-MB direct API (internal to the
 * record layer, the benchmark and the tests). One call per record, in
 * place; 1.3 has no GCM burst API and the multi-buffer job API does not
 * beat a loop of direct calls at record sizes.
 */
#ifndef WG_TLS_GCM_H
#define WG_TLS_GCM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* The library is built with LINUX defined: without it the header drops the
 * 64-byte alignment of struct gcm_key_data. */
#ifndef LINUX
#define LINUX
#endif
#include <intel-ipsec-mb.h>

#include "tls_record-t.h"

/* The 12-byte per-record nonce: iv XOR the 64-bit sequence number, left
 * padded (RFC 8446 section 5.3). */
static inline void
wg_tls_nonce(uint8_t nonce[16], const uint8_t iv[12], uint64_t seq)
{
	uint64_t lo;

	memcpy(nonce, iv, 12);
	memcpy(&lo, iv + 4, 8);
	lo ^= __builtin_bswap64(seq);
	memcpy(nonce + 4, &lo, 8);
	memset(nonce + 12, 0, 4);
}

/* Expand key (16 or 32 bytes) into kd. */
static inline void
wg_tls_gcm_pre(IMB_MGR *mgr, unsigned int key_len, const uint8_t *key, void *kd)
{
	if (key_len == 16)
		IMB_AES128_GCM_PRE(mgr, key, (struct gcm_key_data *)kd);
	else
		IMB_AES256_GCM_PRE(mgr, key, (struct gcm_key_data *)kd);
}

/* Seal rec in place: rec[0..5) is the header (the AAD), inner_len bytes of
 * inner plaintext follow, the tag is written after them. */
static inline void
wg_tls_gcm_seal(IMB_MGR *mgr, unsigned int key_len, const void *kd, const uint8_t nonce[16],
		uint8_t *rec, uint32_t inner_len)
{
	struct gcm_context_data ctx;
	uint8_t *p = rec + WG_TLS_HDR_LEN;

	if (key_len == 16)
		IMB_AES128_GCM_ENC(mgr, kd, &ctx, p, p, inner_len, nonce, rec, WG_TLS_HDR_LEN,
				   p + inner_len, WG_TLS_TAG_LEN);
	else
		IMB_AES256_GCM_ENC(mgr, kd, &ctx, p, p, inner_len, nonce, rec, WG_TLS_HDR_LEN,
				   p + inner_len, WG_TLS_TAG_LEN);
}

/* Open rec in place (body of body_len bytes, tag last). true when the tag
 * is right; the comparison does not stop at the first difference. */
static inline bool
wg_tls_gcm_open(IMB_MGR *mgr, unsigned int key_len, const void *kd, const uint8_t nonce[16],
		uint8_t *rec, uint32_t body_len)
{
	struct gcm_context_data ctx;
	uint8_t *p = rec + WG_TLS_HDR_LEN;
	uint32_t n = body_len - WG_TLS_TAG_LEN;
	uint8_t tag[WG_TLS_TAG_LEN];
	uint64_t a[2], b[2];

	if (key_len == 16)
		IMB_AES128_GCM_DEC(mgr, kd, &ctx, p, p, n, nonce, rec, WG_TLS_HDR_LEN, tag,
				   WG_TLS_TAG_LEN);
	else
		IMB_AES256_GCM_DEC(mgr, kd, &ctx, p, p, n, nonce, rec, WG_TLS_HDR_LEN, tag,
				   WG_TLS_TAG_LEN);
	memcpy(a, tag, 16);
	memcpy(b, p + n, 16);
	return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
}

#endif /* WG_TLS_GCM_H */
