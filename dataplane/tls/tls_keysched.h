/* SPDX-License-Identifier: BSD-3-Clause
 * TLS 1.3 key schedule pieces the record layer needs after key takeover
 * (RFC 8446 section 7): HKDF-Expand-Label, the traffic key/iv of a traffic
 * secret, and the KeyUpdate step to the next traffic secret. They run at
 * takeover and on KeyUpdate only, never per record, so they use OpenSSL's
 * HKDF (the KDF is fetched once per process).
 */
#ifndef WG_TLS_KEYSCHED_H
#define WG_TLS_KEYSCHED_H

#include <stddef.h>
#include <stdint.h>

#include "tls_secrets-t.h"

#define WG_TLS_IV_LEN      12          /* AES-GCM nonce, both suites */
#define WG_TLS_MAX_KEY_LEN 32          /* AES-256 */
#define WG_TLS_LABEL_MAX   249         /* 255 - strlen("tls13 ") */

/* Hash length of suite (32 or 48), or 0 when the fast path does not know it. */
unsigned int wg_tls_suite_hash_len(uint16_t suite);

/* AEAD key length of suite (16 or 32), or 0 when unknown. */
unsigned int wg_tls_suite_key_len(uint16_t suite);

/* HKDF-Expand-Label(secret, label, context, out_len) with the suite's hash;
 * label without the "tls13 " prefix. 0 or -EINVAL (unknown suite, secret
 * length not the hash length, label or out_len out of range), -ENOMEM or
 * -EIO when OpenSSL fails. */
int wg_tls_hkdf_expand_label(uint16_t suite, const uint8_t *secret, size_t secret_len,
			     const char *label, const uint8_t *context, size_t context_len,
			     uint8_t *out, size_t out_len);

/* The write key (wg_tls_suite_key_len bytes) and iv of a traffic secret. */
int wg_tls_traffic_key_iv(uint16_t suite, const uint8_t *secret, size_t secret_len,
			  uint8_t *key, uint8_t iv[WG_TLS_IV_LEN]);

/* KeyUpdate: secret <- HKDF-Expand-Label(secret, "traffic upd", "", len),
 * in place. */
int wg_tls_secret_update(uint16_t suite, uint8_t *secret, size_t secret_len);

#endif /* WG_TLS_KEYSCHED_H */
