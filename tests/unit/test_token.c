/* SPDX-License-Identifier: BSD-3-Clause
 * Login tokens: base64url against RFC 4648 vectors and strictness, the
 * binary layout and MAC checked against an independent HMAC-SHA256, one
 * test per verification error (each produced by a precise mutation of a
 * valid token), key rotation, the time window edges with skew, and the
 * replay cache: replays refused while the token lives, expired entries
 * evicted, and a full cache refusing logins instead of forgetting nonces.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "token.h"

#define T0 1700000000ull

static struct wg_token_key key1, key2;

static void
mkkey(struct wg_token_key *k, uint32_t kid, uint8_t fill, uint32_t len)
{
	memset(k, 0, sizeof(*k));
	k->kid = kid;
	k->len = len;
	for (uint32_t i = 0; i < len; i++)
		k->secret[i] = (uint8_t)(fill + i * 7);
}

static struct wg_token_ctx *
mkctx(const struct wg_token_key *keys, unsigned int n, uint32_t cur, uint32_t slots)
{
	struct wg_token_conf c = { .keys = keys, .n_keys = n, .current_kid = cur,
				   .skew_s = 30, .max_ttl_s = 86400, .replay_slots = slots };
	struct wg_token_ctx *ctx = wg_token_create(&c);

	assert_non_null(ctx);
	return ctx;
}

static int
mint(struct wg_token_ctx *ctx, uint64_t player, const char *acct, uint64_t iat, uint64_t exp,
     char *out)
{
	struct wg_token_claims c = { .player_id = player, .issued_at = iat, .expires_at = exp };

	strcpy(c.account, acct);
	return wg_token_mint(ctx, &c, out, WG_TOKEN_TEXT_MAX);
}

static int
vfy(struct wg_token_ctx *ctx, const char *t, uint64_t now, unsigned int flags)
{
	return wg_token_verify(ctx, t, strlen(t), now, flags, NULL);
}

static int
setup(void **state)
{
	(void)state;
	mkkey(&key1, 1, 0x11, 32);
	mkkey(&key2, 2, 0x5a, 64);
	return 0;
}

static void
test_b64url(void **state)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
	};
	static const uint8_t url[] = { 0xfb, 0xff, 0xbf };
	char out[32];
	uint8_t bin[32];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = strlen(v[i].in);

		assert_int_equal(wg_b64url_encode((const uint8_t *)v[i].in, n, out, sizeof(out)),
				 strlen(v[i].out));
		assert_string_equal(out, v[i].out);
		assert_int_equal(wg_b64url_decode(v[i].out, strlen(v[i].out), bin, sizeof(bin)), n);
		assert_memory_equal(bin, v[i].in, n);
	}
	/* the URL-safe alphabet: '-' and '_' instead of '+' and '/' */
	assert_int_equal(wg_b64url_encode(url, 3, out, sizeof(out)), 4);
	assert_string_equal(out, "-_-_");
	assert_int_equal(wg_b64url_decode("-_-_", 4, bin, sizeof(bin)), 3);
	assert_memory_equal(bin, url, 3);
	/* strict: no '+', '/', padding, whitespace, impossible lengths, or
	 * non-zero trailing bits (each byte string has one text) */
	assert_int_equal(wg_b64url_decode("+/+/", 4, bin, sizeof(bin)), -EINVAL);
	assert_int_equal(wg_b64url_decode("Zg==", 4, bin, sizeof(bin)), -EINVAL);
	assert_int_equal(wg_b64url_decode("Zm 9", 4, bin, sizeof(bin)), -EINVAL);
	assert_int_equal(wg_b64url_decode("Zm9vY", 5, bin, sizeof(bin)), -EINVAL);
	assert_int_equal(wg_b64url_decode("Zh", 2, bin, sizeof(bin)), -EINVAL);
	assert_int_equal(wg_b64url_decode("Zm9", 3, bin, sizeof(bin)), -EINVAL);
	assert_int_equal(wg_b64url_decode("Zm9vYmFy", 8, bin, 5), -ENOSPC);
	assert_int_equal(wg_b64url_encode((const uint8_t *)"foo", 3, out, 4), -ENOSPC);
}

static int
decode(const char *t, uint8_t *bin)
{
	int n = wg_b64url_decode(t, strlen(t), bin, WG_TOKEN_BIN_MAX);

	assert_true(n >= WG_TOKEN_BIN_MIN);
	return n;
}

static void
reencode(const uint8_t *bin, int n, char *t)
{
	assert_true(wg_b64url_encode(bin, (size_t)n, t, WG_TOKEN_TEXT_MAX) > 0);
}

static void
test_layout(void **state)
{
	struct wg_token_ctx *ctx = mkctx(&key1, 1, 1, 16);
	struct wg_token_claims c = { .player_id = 0x0102030405060708ull, .issued_at = T0,
				     .expires_at = T0 + 600 }, got;
	char t[WG_TOKEN_TEXT_MAX];
	uint8_t bin[WG_TOKEN_BIN_MAX], mac[32];
	unsigned int maclen = 0;
	int len, n;

	(void)state;
	strcpy(c.account, "alice");
	len = wg_token_mint(ctx, &c, t, sizeof(t));
	assert_int_equal(len, (46 + 5 + 32) * 4 / 3 + 1);   /* 83 bytes -> 111 chars */
	assert_int_equal(strlen(t), (size_t)len);
	assert_int_equal(c.version, 1);
	assert_int_equal(c.kid, 1);
	n = decode(t, bin);
	assert_int_equal(n, 46 + 5 + 32);
	static const uint8_t hdr[] = {
		1, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8,
		0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00,      /* 1700000000 */
		0, 0, 0, 0, 0x65, 0x53, 0xf3, 0x58,      /* + 600 */
	};
	assert_memory_equal(bin, hdr, sizeof(hdr));
	assert_memory_equal(bin + 29, c.nonce, 16);
	assert_int_equal(bin[45], 5);
	assert_memory_equal(bin + 46, "alice", 5);
	/* the MAC is plain HMAC-SHA256 over everything before it */
	HMAC(EVP_sha256(), key1.secret, (int)key1.len, bin, 51, mac, &maclen);
	assert_int_equal(maclen, 32);
	assert_memory_equal(bin + 51, mac, 32);

	assert_int_equal(wg_token_verify(ctx, t, strlen(t), T0 + 1, 0, &got), 0);
	assert_int_equal(got.player_id, c.player_id);
	assert_int_equal(got.issued_at, T0);
	assert_int_equal(got.expires_at, T0 + 600);
	assert_int_equal(got.kid, 1);
	assert_string_equal(got.account, "alice");
	assert_memory_equal(got.nonce, c.nonce, 16);
	/* fresh nonce per token */
	char t2[WG_TOKEN_TEXT_MAX];
	assert_true(mint(ctx, 1, "alice", T0, T0 + 600, t2) > 0);
	assert_string_not_equal(t, t2);

	/* mint argument checks */
	assert_int_equal(mint(ctx, 1, "", T0, T0 + 1, t), -EINVAL);
	assert_int_equal(mint(ctx, 1, "tab\there", T0, T0 + 1, t), -EINVAL);
	assert_int_equal(mint(ctx, 1, "x", T0, T0, t), -EINVAL);
	memset(c.account, 'a', sizeof(c.account));     /* no NUL within 65 */
	assert_int_equal(wg_token_mint(ctx, &c, t, sizeof(t)), -EINVAL);
	c.account[64] = '\0';                           /* exactly 64: fine */
	assert_true(wg_token_mint(ctx, &c, t, sizeof(t)) > 0);
	assert_int_equal(strlen(t), WG_TOKEN_TEXT_MAX - 1);
	assert_int_equal(vfy(ctx, t, T0, 0), 0);
	assert_int_equal(wg_token_mint(ctx, &c, t, WG_TOKEN_TEXT_MAX - 1), -ENOSPC);
	wg_token_destroy(ctx);
}

static void
test_errors(void **state)
{
	struct wg_token_ctx *ctx = mkctx(&key1, 1, 1, 64);
	struct wg_token_stats st;
	char t[WG_TOKEN_TEXT_MAX], m[WG_TOKEN_TEXT_MAX + 8];
	uint8_t bin[WG_TOKEN_BIN_MAX];
	int n;

	(void)state;
	assert_true(mint(ctx, 42, "bob", T0, T0 + 600, t) > 0);
	n = decode(t, bin);

	/* malformed: garbage, empty, truncated text, too long, wrong length byte */
	assert_int_equal(vfy(ctx, "", T0, 0), -WG_TOKEN_EMALFORMED);
	assert_int_equal(vfy(ctx, "not a token!", T0, 0), -WG_TOKEN_EMALFORMED);
	strcpy(m, t);
	m[strlen(m) - 4] = '\0';
	assert_int_equal(vfy(ctx, m, T0, 0), -WG_TOKEN_EMALFORMED);
	memset(m, 'A', WG_TOKEN_TEXT_MAX + 4);
	m[WG_TOKEN_TEXT_MAX + 4] = '\0';
	assert_int_equal(vfy(ctx, m, T0, 0), -WG_TOKEN_EMALFORMED);
	bin[45] = 4;
	reencode(bin, n, m);
	assert_int_equal(vfy(ctx, m, T0, 0), -WG_TOKEN_EMALFORMED);
	bin[45] = 3;
	/* bad version (checked before the key and the MAC) */
	bin[0] = 2;
	reencode(bin, n, m);
	assert_int_equal(vfy(ctx, m, T0, 0), -WG_TOKEN_EVERSION);
	bin[0] = 1;
	/* unknown key id */
	bin[4] = 9;
	reencode(bin, n, m);
	assert_int_equal(vfy(ctx, m, T0, 0), -WG_TOKEN_ENOKEY);
	bin[4] = 1;
	/* one bit anywhere in the signed part or the MAC: bad signature */
	for (int i = 5; i < n; i++) {
		if (i == 45)
			continue;
		bin[i] ^= 0x20;
		reencode(bin, n, m);
		if (vfy(ctx, m, T0, 0) != -WG_TOKEN_EBADSIG)
			fail_msg("flipped byte %d not caught", i);
		bin[i] ^= 0x20;
	}
	/* the untouched token is still good (and only now recorded) */
	reencode(bin, n, m);
	assert_string_equal(m, t);
	assert_int_equal(vfy(ctx, t, T0, WG_TOKEN_F_PEEK), 0);
	assert_int_equal(vfy(ctx, t, T0, 0), 0);
	assert_int_equal(vfy(ctx, t, T0, 0), -WG_TOKEN_EREPLAY);
	assert_int_equal(vfy(ctx, t, T0 + 599, 0), -WG_TOKEN_EREPLAY);
	/* unknown flags */
	assert_int_equal(vfy(ctx, t, T0, 0x80), -EINVAL);

	wg_token_stats(ctx, &st);
	assert_int_equal(st.minted, 1);
	assert_int_equal(st.ok, 2);
	assert_int_equal(st.malformed, 6);
	assert_int_equal(st.unknown_key, 1);
	assert_int_equal(st.bad_sig, n - 6);
	assert_int_equal(st.replayed, 2);
	assert_int_equal(st.replay_used, 1);
	assert_string_equal(wg_token_strerror(-WG_TOKEN_EBADSIG), "bad signature");
	wg_token_destroy(ctx);
}

static void
test_time_window(void **state)
{
	struct wg_token_ctx *ctx = mkctx(&key1, 1, 1, 64);
	char t[WG_TOKEN_TEXT_MAX];

	(void)state;
	assert_true(mint(ctx, 7, "carol", T0, T0 + 600, t) > 0);
	/* skew 30 s each way */
	assert_int_equal(vfy(ctx, t, T0 - 31, WG_TOKEN_F_PEEK), -WG_TOKEN_ENOTYET);
	assert_int_equal(vfy(ctx, t, T0 - 30, WG_TOKEN_F_PEEK), 0);
	assert_int_equal(vfy(ctx, t, T0 + 629, WG_TOKEN_F_PEEK), 0);
	assert_int_equal(vfy(ctx, t, T0 + 630, WG_TOKEN_F_PEEK), -WG_TOKEN_EEXPIRED);
	assert_int_equal(vfy(ctx, t, UINT64_MAX - 100, WG_TOKEN_F_PEEK), -WG_TOKEN_EEXPIRED);
	/* a lifetime above max_ttl is refused even though it is signed */
	assert_true(mint(ctx, 7, "carol", T0, T0 + 86401, t) > 0);
	assert_int_equal(vfy(ctx, t, T0, 0), -WG_TOKEN_EMALFORMED);
	assert_true(mint(ctx, 7, "carol", T0, T0 + 86400, t) > 0);
	assert_int_equal(vfy(ctx, t, T0, 0), 0);
	/* peek never records, but sees what was recorded */
	assert_true(mint(ctx, 7, "carol", T0, T0 + 60, t) > 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(vfy(ctx, t, T0, WG_TOKEN_F_PEEK), 0);
	assert_int_equal(vfy(ctx, t, T0, 0), 0);
	assert_int_equal(vfy(ctx, t, T0, WG_TOKEN_F_PEEK), -WG_TOKEN_EREPLAY);
	assert_int_equal(vfy(ctx, t, T0, 0), -WG_TOKEN_EREPLAY);
	wg_token_destroy(ctx);
}

static void
test_rotation(void **state)
{
	struct wg_token_key both[2] = { key1, key2 };
	struct wg_token_ctx *old = mkctx(&key1, 1, 1, 16);
	struct wg_token_ctx *mid = mkctx(both, 2, 2, 16);
	struct wg_token_ctx *new = mkctx(&key2, 1, 2, 16);
	struct wg_token_claims c;
	char t1[WG_TOKEN_TEXT_MAX], t2[WG_TOKEN_TEXT_MAX];
	struct wg_token_conf bad = { .keys = both, .n_keys = 2, .current_kid = 3,
				     .replay_slots = 4 };

	(void)state;
	assert_true(mint(old, 1, "dave", T0, T0 + 60, t1) > 0);
	assert_true(mint(mid, 1, "dave", T0, T0 + 60, t2) > 0);
	/* mid signs with key 2 and accepts both */
	assert_int_equal(wg_token_verify(mid, t1, strlen(t1), T0, 0, &c), 0);
	assert_int_equal(c.kid, 1);
	assert_int_equal(wg_token_verify(mid, t2, strlen(t2), T0, 0, &c), 0);
	assert_int_equal(c.kid, 2);
	/* key 1 retired: its tokens are unknown, not forged */
	assert_int_equal(vfy(new, t1, T0, 0), -WG_TOKEN_ENOKEY);
	assert_int_equal(vfy(new, t2, T0, 0), 0);
	assert_int_equal(vfy(old, t2, T0, 0), -WG_TOKEN_ENOKEY);
	/* same kid, different secret: bad signature */
	struct wg_token_key forged = key1;
	forged.secret[0] ^= 1;
	struct wg_token_ctx *f = mkctx(&forged, 1, 1, 4);
	assert_int_equal(vfy(f, t1, T0, 0), -WG_TOKEN_EBADSIG);
	wg_token_destroy(f);

	/* create checks */
	assert_null(wg_token_create(&bad));
	assert_int_equal(errno, EINVAL);
	bad.current_kid = 1;
	both[1].kid = 1;
	assert_null(wg_token_create(&bad));
	both[1] = key2;
	both[1].len = 31;
	assert_null(wg_token_create(&bad));
	both[1] = key2;
	bad.replay_slots = 0;
	assert_null(wg_token_create(&bad));
	bad.replay_slots = 1;
	bad.n_keys = 0;
	assert_null(wg_token_create(&bad));
	wg_token_destroy(old);
	wg_token_destroy(mid);
	wg_token_destroy(new);
}

static void
test_replay_full(void **state)
{
	struct wg_token_ctx *ctx = mkctx(&key1, 1, 1, 4);
	char t[6][WG_TOKEN_TEXT_MAX];
	struct wg_token_stats st;

	(void)state;
	/* four tokens expiring at +10, +20, +30, +40 (cache until +skew 30) */
	for (int i = 0; i < 4; i++) {
		assert_true(mint(ctx, (uint64_t)i, "eve", T0, T0 + 10 * (i + 1), t[i]) > 0);
		assert_int_equal(vfy(ctx, t[i], T0, 0), 0);
	}
	assert_true(mint(ctx, 4, "eve", T0, T0 + 100, t[4]) > 0);
	assert_true(mint(ctx, 5, "eve", T0, T0 + 100, t[5]) > 0);
	/* full of live nonces: refuse, do not forget one */
	assert_int_equal(vfy(ctx, t[4], T0, 0), -WG_TOKEN_EFULL);
	assert_int_equal(vfy(ctx, t[4], T0 + 39, 0), -WG_TOKEN_EFULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(vfy(ctx, t[i], T0 + 39, 0), -WG_TOKEN_EREPLAY);
	/* at +40 token 0 (expires +10, remembered until +40) is gone from the
	 * cache; it is refused as expired, so forgetting it was safe */
	assert_int_equal(vfy(ctx, t[4], T0 + 40, 0), 0);
	assert_int_equal(vfy(ctx, t[0], T0 + 40, 0), -WG_TOKEN_EEXPIRED);
	assert_int_equal(vfy(ctx, t[1], T0 + 40, 0), -WG_TOKEN_EREPLAY);
	assert_int_equal(vfy(ctx, t[4], T0 + 40, 0), -WG_TOKEN_EREPLAY);
	assert_int_equal(vfy(ctx, t[5], T0 + 40, 0), -WG_TOKEN_EFULL);
	assert_int_equal(vfy(ctx, t[5], T0 + 50, 0), 0);
	wg_token_stats(ctx, &st);
	assert_int_equal(st.refused_full, 3);
	assert_int_equal(st.replay_used, 4);
	assert_true(st.replay_purges >= 1);
	wg_token_destroy(ctx);
}

/* Steady churn through a small cache: 50 logins/s with 10 s tokens and
 * 30 s skew keep at most 50 * 40 = 2000 nonces live; with 2048 slots every
 * login passes, and every earlier token still inside its window is refused
 * as a replay. */
static void
test_replay_churn(void **state)
{
	struct wg_token_ctx *ctx = mkctx(&key1, 1, 1, 2048);
	static char t[20000][WG_TOKEN_TEXT_MAX];
	struct wg_token_stats st;
	uint64_t seed = 1;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		uint64_t now = T0 + (uint64_t)i / 50;

		assert_true(mint(ctx, (uint64_t)i, "mallory", now, now + 10, t[i]) > 0);
		if (vfy(ctx, t[i], now, 0) != 0)
			fail_msg("login %d refused", i);
		/* replay a recent one */
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		int j = i - (int)((seed >> 33) % 2000);
		if (j >= 0) {
			int rc = vfy(ctx, t[j], now, 0);
			int want = now >= T0 + (uint64_t)j / 50 + 40 ? -WG_TOKEN_EEXPIRED :
								     -WG_TOKEN_EREPLAY;
			if (rc != want)
				fail_msg("replay of %d at %d: %d, want %d", j, i, rc, want);
		}
	}
	wg_token_stats(ctx, &st);
	assert_int_equal(st.ok, 20000);
	assert_int_equal(st.refused_full, 0);
	assert_true(st.replay_used <= 2048);
	wg_token_destroy(ctx);
}

static void
test_keyfile(void **state)
{
	struct wg_token_key k[3];
	unsigned int line = 0;
	char buf[1024], hex64[129], hex32[65];

	(void)state;
	for (int i = 0; i < 64; i++)
		sprintf(hex64 + 2 * i, "%02x", (unsigned int)(i * 3 + 1));
	memcpy(hex32, hex64, 64);
	hex32[64] = '\0';
	snprintf(buf, sizeof(buf), "# keys\n\n  7 %s\r\n9\t%s  \n", hex32, hex64);
	assert_int_equal(wg_token_keys_parse(buf, k, 3, &line), 2);
	assert_int_equal(k[0].kid, 7);
	assert_int_equal(k[0].len, 32);
	assert_int_equal(k[0].secret[1], 4);
	assert_int_equal(k[1].kid, 9);
	assert_int_equal(k[1].len, 64);
	assert_int_equal(k[1].secret[63], 190);
	/* short key, odd hex, junk, no kid, duplicate, too many */
	snprintf(buf, sizeof(buf), "1 %s\n2 %.62s\n", hex32, hex32);
	assert_int_equal(wg_token_keys_parse(buf, k, 3, &line), -EINVAL);
	assert_int_equal(line, 2);
	snprintf(buf, sizeof(buf), "1 %s0\n", hex32);
	assert_int_equal(wg_token_keys_parse(buf, k, 3, &line), -EINVAL);
	snprintf(buf, sizeof(buf), "1 %s x\n", hex32);
	assert_int_equal(wg_token_keys_parse(buf, k, 3, &line), -EINVAL);
	snprintf(buf, sizeof(buf), "%s\n", hex32);
	assert_int_equal(wg_token_keys_parse(buf, k, 3, &line), -EINVAL);
	snprintf(buf, sizeof(buf), "99999999999 %s\n", hex32);
	assert_int_equal(wg_token_keys_parse(buf, k, 3, &line), -EINVAL);
	snprintf(buf, sizeof(buf), "#\n3 %s\n3 %s\n", hex32, hex64);
	assert_int_equal(wg_token_keys_parse(buf, k, 3, &line), -EEXIST);
	assert_int_equal(line, 3);
	snprintf(buf, sizeof(buf), "1 %s\n2 %s\n", hex32, hex32);
	assert_int_equal(wg_token_keys_parse(buf, k, 1, &line), -E2BIG);
	assert_int_equal(wg_token_keys_parse("", k, 1, &line), 0);
	assert_int_equal(wg_token_keys_load("/nonexistent/keys", k, 1, &line), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),
		cmocka_unit_test_setup(test_layout, setup),
		cmocka_unit_test_setup(test_errors, setup),
		cmocka_unit_test_setup(test_time_window, setup),
		cmocka_unit_test_setup(test_rotation, setup),
		cmocka_unit_test_setup(test_replay_full, setup),
		cmocka_unit_test_setup(test_replay_churn, setup),
		cmocka_unit_test(test_keyfile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
