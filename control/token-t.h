/* SPDX-License-Identifier: BSD-3-Clause
 * Login tokens: types, limits and error codes.
 *
 * Binary form (big endian), then base64url without padding:
 *
 *   off  size
 *     0     1  version (WG_TOKEN_VERSION)
 *     1     4  key id
 *     5     8  player id
 *    13     8  issued at (unix seconds)
 *    21     8  expires at (unix seconds)
 *    29    16  nonce (random)
 *    45     1  account length L, 1..WG_TOKEN_ACCOUNT_MAX
 *    46     L  account name (bytes >= 0x20, no NUL)
 *  46+L    32  HMAC-SHA256(key[key id], bytes 0 .. 46+L-1)
 */
#ifndef WG_TOKEN_T_H
#define WG_TOKEN_T_H

#include <errno.h>
#include <stdint.h>

#define WG_TOKEN_VERSION      1
#define WG_TOKEN_NONCE_LEN    16
#define WG_TOKEN_MAC_LEN      32
#define WG_TOKEN_ACCOUNT_MAX  64
#define WG_TOKEN_KEY_MIN      32      /* bytes of secret; HMAC-SHA256 wants >= 32 */
#define WG_TOKEN_KEY_MAX      64
#define WG_TOKEN_MAX_KEYS     16
#define WG_TOKEN_HDR_LEN      46
#define WG_TOKEN_BIN_MIN      (WG_TOKEN_HDR_LEN + 1 + WG_TOKEN_MAC_LEN)
#define WG_TOKEN_BIN_MAX      (WG_TOKEN_HDR_LEN + WG_TOKEN_ACCOUNT_MAX + WG_TOKEN_MAC_LEN)
/* base64url of BIN_MAX bytes (no padding) plus a NUL */
#define WG_TOKEN_TEXT_MAX     ((WG_TOKEN_BIN_MAX * 4 + 2) / 3 + 1)

/* wg_token_verify() results, as negative errno values, one per cause so
 * control can count and log them (the client sees one generic error). */
#define WG_TOKEN_EMALFORMED   EBADMSG          /* not base64url, bad length or fields */
#define WG_TOKEN_EVERSION     EPROTONOSUPPORT  /* unknown version byte */
#define WG_TOKEN_ENOKEY       ENOKEY           /* key id not configured */
#define WG_TOKEN_EBADSIG      EKEYREJECTED     /* MAC does not match */
#define WG_TOKEN_EEXPIRED     EKEYEXPIRED      /* now >= expires + skew */
#define WG_TOKEN_ENOTYET      ERANGE           /* now + skew < issued */
#define WG_TOKEN_EREPLAY      EALREADY         /* nonce already used */
#define WG_TOKEN_EFULL        ENOSPC           /* replay cache full: refused */

#define WG_TOKEN_F_PEEK       0x1u   /* check the replay cache, record nothing (tools) */
#define WG_TOKEN_F_MASK       0x1u

struct wg_token_key {
	uint32_t kid;
	uint32_t len;                          /* WG_TOKEN_KEY_MIN..MAX */
	uint8_t secret[WG_TOKEN_KEY_MAX];
};

/* Proposed config: control.token_key_file (lines "KID HEX"),
 * control.token_current_kid, control.token_skew_s, control.token_max_ttl_s,
 * control.token_replay_slots. */
struct wg_token_conf {
	const struct wg_token_key *keys;       /* copied at create */
	unsigned int n_keys;                   /* 1..WG_TOKEN_MAX_KEYS */
	uint32_t current_kid;                  /* signs new tokens; must be in keys */
	uint32_t skew_s;                       /* clock skew allowed each way */
	uint32_t max_ttl_s;                    /* longer-lived tokens are malformed */
	uint32_t replay_slots;                 /* nonces remembered at once */
};

struct wg_token_claims {
	uint8_t version;
	uint32_t kid;
	uint64_t player_id;
	uint64_t issued_at;
	uint64_t expires_at;
	uint8_t nonce[WG_TOKEN_NONCE_LEN];
	char account[WG_TOKEN_ACCOUNT_MAX + 1];
};

struct wg_token_stats {
	uint64_t minted;
	uint64_t ok;
	uint64_t malformed;        /* incl. bad version */
	uint64_t unknown_key;
	uint64_t bad_sig;
	uint64_t expired;
	uint64_t not_yet;
	uint64_t replayed;
	uint64_t refused_full;
	uint32_t replay_used;      /* entries held, expired ones not yet purged included */
	uint32_t replay_slots;
	uint64_t replay_purges;
};

#endif /* WG_TOKEN_T_H */
