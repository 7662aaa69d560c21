/* SPDX-License-Identifier: BSD-3-Clause
 * Login tokens: HMAC-SHA256 over the claims, base64url text, several keys
 * by id (rotation: sign with the current key, verify with any configured
 * one), and a bounded replay cache of nonces.
 *
 * Replay cache: a fixed-size open-addressing table of nonces, each kept
 * until its token's expiry plus the skew (after that the token is refused
 * as expired anyway, so forgetting it is safe). Only tokens with a valid
 * signature and time window reach it, so an attacker cannot fill it without
 * a signing key. When it holds replay_slots unexpired nonces, new logins are
 * refused (WG_TOKEN_EFULL) rather than accepted unrecorded: size it at
 * least at peak logins/s x (max token lifetime + 2 x skew).
 *
 * Not thread-safe (MAC contexts are reused): one context per thread.
 */
#ifndef WG_TOKEN_H
#define WG_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "token-t.h"

struct wg_token_ctx;

/* NULL + errno: EINVAL (no keys, duplicate kid, bad key length, current_kid
 * unknown, replay_slots 0), ENOMEM, EIO (OpenSSL). */
struct wg_token_ctx *wg_token_create(const struct wg_token_conf *conf);
/* Wipes the keys. */
void wg_token_destroy(struct wg_token_ctx *ctx);

/* Sign c with the current key: fills c->version, c->kid and a fresh random
 * c->nonce; writes NUL-terminated text to out. Returns the text length, or
 * -EINVAL (account empty, too long or with control bytes; expires_at <=
 * issued_at), -ENOSPC (size < WG_TOKEN_TEXT_MAX), -EIO. */
int wg_token_mint(struct wg_token_ctx *ctx, struct wg_token_claims *c, char *out, size_t size);

/* Check text (len bytes, no NUL needed) at unix time now_s. 0 and the claims
 * in *out, or -WG_TOKEN_E*. The nonce is recorded unless WG_TOKEN_F_PEEK
 * (then a recorded nonce still reports a replay). */
int wg_token_verify(struct wg_token_ctx *ctx, const char *text, size_t len, uint64_t now_s,
		    unsigned int flags, struct wg_token_claims *out);

const char *wg_token_strerror(int err);
void wg_token_stats(const struct wg_token_ctx *ctx, struct wg_token_stats *st);
void wg_token_dump(FILE *f, const struct wg_token_ctx *ctx);

/* Key files: one key per line, "KID HEX" (HEX: 64..128 hex digits), '#'
 * comments and blank lines ignored. Returns the number of keys, or -EINVAL
 * (*bad_line set, 1-based), -E2BIG (more than max), -EEXIST (duplicate kid;
 * *bad_line set), or the open/read error. Secrets are wiped from the
 * read buffer. */
int wg_token_keys_parse(const char *text, struct wg_token_key *keys, unsigned int max,
			unsigned int *bad_line);
int wg_token_keys_load(const char *path, struct wg_token_key *keys, unsigned int max,
		       unsigned int *bad_line);

/* base64url without padding (exported for tests and tools). encode returns
 * the text length (NUL written) or -ENOSPC; decode returns the byte count or
 * -EINVAL (bad character, impossible length, non-zero trailing bits) or
 * -ENOSPC. */
int wg_b64url_encode(const uint8_t *in, size_t n, char *out, size_t size);
int wg_b64url_decode(const char *in, size_t n, uint8_t *out, size_t size);

#endif /* WG_TOKEN_H */
