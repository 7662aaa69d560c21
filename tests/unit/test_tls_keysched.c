/* SPDX-License-Identifier: BSD-3-Clause
 * TLS 1.3 key schedule: traffic key/iv against RFC 8448 section 3 (simple
 * 1-RTT handshake, AES-128-GCM-SHA256), and HKDF-Expand-Label /
 * "traffic upd" against an independent HMAC-based HKDF-Expand for both
 * hashes. No EAL needed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "tls_keysched.h"

/* hex string with spaces -> bytes; returns the count */
static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s != '\0'; s++) {
		int v;

		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			assert_true(n < cap);
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	assert_int_equal(hi, -1);
	return n;
}

struct vec {
	const char *name;
	const char *secret;
	const char *key;
	const char *iv;
};

/* RFC 8448 section 3, typed from the RFC text */
static const struct vec rfc8448[] = {
	{ "server handshake",
	  "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38",
	  "3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc",
	  "5d 31 3e b2 67 12 76 ee 13 00 0b 30" },
	{ "client handshake",
	  "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21",
	  "db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01",
	  "5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f" },
	{ "server application",
	  "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43",
	  "9f 02 28 3b 6c 9c 07 ef c2 6b b9 f2 ac 92 e3 56",
	  "cf 78 2b 88 dd 83 54 9a ad f1 e9 84" },
	{ "client application",
	  "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df 00 87 f7 92 eb b7 c1 75 04 a5",
	  "17 42 2d da 59 6e d5 d9 ac d8 90 e3 c6 3f 50 51",
	  "5b 78 92 3d ee 08 57 90 33 e5 23 d9" },
};

static void
test_rfc8448_key_iv(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rfc8448) / sizeof(rfc8448[0]); i++) {
		uint8_t secret[48], key[16], iv[12], got_key[32], got_iv[12];
		size_t slen = unhex(rfc8448[i].secret, secret, sizeof(secret));

		assert_int_equal(slen, 32);
		assert_int_equal(unhex(rfc8448[i].key, key, sizeof(key)), 16);
		assert_int_equal(unhex(rfc8448[i].iv, iv, sizeof(iv)), 12);
		memset(got_key, 0xee, sizeof(got_key));
		assert_int_equal(wg_tls_traffic_key_iv(WG_TLS_AES_128_GCM_SHA256, secret, slen,
						       got_key, got_iv), 0);
		assert_memory_equal(got_key, key, 16);
		assert_memory_equal(got_iv, iv, 12);
		/* nothing written past the AES-128 key */
		assert_int_equal(got_key[16], 0xee);
	}
}

/* RFC 8448 also prints the HkdfLabel ("info") it expands with: the label
 * encoding is checked byte for byte through an HMAC of our own. */
static void
hkdf_expand_ref(const EVP_MD *md, const uint8_t *prk, size_t prk_len, const uint8_t *info,
		size_t info_len, uint8_t *out, size_t out_len)
{
	uint8_t t[64], buf[64 + 600];
	unsigned int tlen = 0, hlen = (unsigned int)EVP_MD_get_size(md);
	size_t done = 0, n;
	uint8_t ctr = 1;

	while (done < out_len) {
		n = 0;
		memcpy(buf, t, tlen);
		n += tlen;
		memcpy(buf + n, info, info_len);
		n += info_len;
		buf[n++] = ctr++;
		assert_non_null(HMAC(md, prk, (int)prk_len, buf, n, t, &tlen));
		assert_int_equal(tlen, hlen);
		n = out_len - done < tlen ? out_len - done : tlen;
		memcpy(out + done, t, n);
		done += n;
	}
}

static void
test_label_encoding(void **state)
{
	/* RFC 8448: "key info (13 octets): 00 10 09 74 6c 73 31 33 20 6b 65 79 00" */
	uint8_t secret[32], info[16], want[16], got[16];
	size_t ilen;

	(void)state;
	unhex(rfc8448[2].secret, secret, sizeof(secret));
	ilen = unhex("00 10 09 74 6c 73 31 33 20 6b 65 79 00", info, sizeof(info));
	assert_int_equal(ilen, 13);
	hkdf_expand_ref(EVP_sha256(), secret, 32, info, ilen, want, 16);
	assert_int_equal(wg_tls_hkdf_expand_label(WG_TLS_AES_128_GCM_SHA256, secret, 32, "key",
						  NULL, 0, got, 16), 0);
	assert_memory_equal(got, want, 16);
	unhex(rfc8448[2].key, want, sizeof(want));
	assert_memory_equal(got, want, 16);
}

/* traffic upd, a context, long outputs (several HMAC blocks), SHA-384 */
static void
test_expand_label_ref(void **state)
{
	static const struct {
		uint16_t suite;
		const EVP_MD *(*md)(void);
		size_t hlen;
	} h[] = {
		{ WG_TLS_AES_128_GCM_SHA256, EVP_sha256, 32 },
		{ WG_TLS_AES_256_GCM_SHA384, EVP_sha384, 48 },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < 2; i++) {
		uint8_t secret[48], info[400], want[200], got[200], ctx[40];
		size_t out_lens[] = { 1, 12, 16, 32, 48, 100, 200 };

		for (j = 0; j < sizeof(secret); j++)
			secret[j] = (uint8_t)(j * 7 + i);
		for (j = 0; j < sizeof(ctx); j++)
			ctx[j] = (uint8_t)(0xa0 + j);
		for (j = 0; j < sizeof(out_lens) / sizeof(out_lens[0]); j++) {
			size_t ol = out_lens[j], n = 0;

			/* HkdfLabel: length, "tls13 " + label, context */
			info[n++] = (uint8_t)(ol >> 8);
			info[n++] = (uint8_t)ol;
			info[n++] = 6 + 11;
			memcpy(info + n, "tls13 traffic upd", 17);
			n += 17;
			info[n++] = (uint8_t)(j % 2 ? sizeof(ctx) : 0);
			if (j % 2) {
				memcpy(info + n, ctx, sizeof(ctx));
				n += sizeof(ctx);
			}
			hkdf_expand_ref(h[i].md(), secret, h[i].hlen, info, n, want, ol);
			memset(got, 0, sizeof(got));
			assert_int_equal(wg_tls_hkdf_expand_label(h[i].suite, secret, h[i].hlen,
								  "traffic upd",
								  j % 2 ? ctx : NULL,
								  j % 2 ? sizeof(ctx) : 0, got, ol), 0);
			assert_memory_equal(got, want, ol);
		}
		/* the KeyUpdate step is the same expansion, to the hash length */
		{
			uint8_t s2[48];
			size_t n = 0;

			info[n++] = 0;
			info[n++] = (uint8_t)h[i].hlen;
			info[n++] = 17;
			memcpy(info + n, "tls13 traffic upd", 17);
			n += 17;
			info[n++] = 0;
			hkdf_expand_ref(h[i].md(), secret, h[i].hlen, info, n, want, h[i].hlen);
			memcpy(s2, secret, sizeof(s2));
			assert_int_equal(wg_tls_secret_update(h[i].suite, s2, h[i].hlen), 0);
			assert_memory_equal(s2, want, h[i].hlen);
			/* AES-256 key length for the SHA-384 suite */
			assert_int_equal(wg_tls_suite_key_len(h[i].suite), i == 0 ? 16 : 32);
		}
	}
}

static void
test_bad_args(void **state)
{
	uint8_t secret[48] = { 0 }, out[64], iv[12];
	char label[300];

	(void)state;
	memset(label, 'a', sizeof(label));
	label[250] = '\0';
	assert_int_equal(wg_tls_hkdf_expand_label(0x1303, secret, 32, "key", NULL, 0, out, 16),
			 -EINVAL);
	assert_int_equal(wg_tls_hkdf_expand_label(WG_TLS_AES_128_GCM_SHA256, secret, 48, "key",
						  NULL, 0, out, 16), -EINVAL);
	assert_int_equal(wg_tls_hkdf_expand_label(WG_TLS_AES_256_GCM_SHA384, secret, 32, "key",
						  NULL, 0, out, 16), -EINVAL);
	assert_int_equal(wg_tls_hkdf_expand_label(WG_TLS_AES_128_GCM_SHA256, secret, 32, label,
						  NULL, 0, out, 16), -EINVAL);
	label[249] = '\0';
	assert_int_equal(wg_tls_hkdf_expand_label(WG_TLS_AES_128_GCM_SHA256, secret, 32, label,
						  NULL, 0, out, 16), 0);
	assert_int_equal(wg_tls_hkdf_expand_label(WG_TLS_AES_128_GCM_SHA256, secret, 32, "key",
						  NULL, 0, out, 0), -EINVAL);
	assert_int_equal(wg_tls_hkdf_expand_label(WG_TLS_AES_128_GCM_SHA256, secret, 32, "key",
						  NULL, 5, out, 16), -EINVAL);
	assert_int_equal(wg_tls_traffic_key_iv(0, secret, 32, out, iv), -EINVAL);
	assert_int_equal(wg_tls_secret_update(0x1303, secret, 32), -EINVAL);
	assert_int_equal(wg_tls_suite_hash_len(0x1303), 0);
	assert_int_equal(wg_tls_suite_hash_len(WG_TLS_AES_256_GCM_SHA384), 48);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8448_key_iv),
		cmocka_unit_test(test_label_encoding),
		cmocka_unit_test(test_expand_label_ref),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
