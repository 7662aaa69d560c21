/* SPDX-License-Identifier: BSD-3-Clause
 * HKDF-Expand-Label on OpenSSL's HKDF in expand-only mode.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "tls_keysched.h"

#define LABEL_PREFIX     "tls13 "
#define LABEL_PREFIX_LEN 6
#define HKDF_LABEL_MAX   (2 + 1 + 255 + 1 + 255)

static EVP_KDF *hkdf;
static pthread_once_t hkdf_once = PTHREAD_ONCE_INIT;

/* EVP_KDF_fetch takes a lock and walks the provider store: do it once, the
 * fetched object is immutable and safe to share between threads. */
static void
hkdf_fetch(void)
{
	hkdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
}

unsigned int
wg_tls_suite_hash_len(uint16_t suite)
{
	switch (suite) {
	case WG_TLS_AES_128_GCM_SHA256:
		return 32;
	case WG_TLS_AES_256_GCM_SHA384:
		return 48;
	default:
		return 0;
	}
}

unsigned int
wg_tls_suite_key_len(uint16_t suite)
{
	switch (suite) {
	case WG_TLS_AES_128_GCM_SHA256:
		return 16;
	case WG_TLS_AES_256_GCM_SHA384:
		return 32;
	default:
		return 0;
	}
}

int
wg_tls_hkdf_expand_label(uint16_t suite, const uint8_t *secret, size_t secret_len,
			 const char *label, const uint8_t *context, size_t context_len,
			 uint8_t *out, size_t out_len)
{
	unsigned int hlen = wg_tls_suite_hash_len(suite);
	uint8_t info[HKDF_LABEL_MAX];
	OSSL_PARAM params[5], *p = params;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	size_t label_len, n = 0;
	EVP_KDF_CTX *kctx;
	int ret = 0;

	if (hlen == 0 || secret_len != hlen || label == NULL)
		return -EINVAL;
	label_len = strlen(label);
	/* HKDF-Expand yields at most 255 hash blocks; HkdfLabel.length is 16 bits */
	if (label_len > WG_TLS_LABEL_MAX || context_len > 255 || out_len == 0 ||
	    out_len > 255u * hlen)
		return -EINVAL;
	if (context_len > 0 && context == NULL)
		return -EINVAL;

	/* struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } */
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(LABEL_PREFIX_LEN + label_len);
	memcpy(info + n, LABEL_PREFIX, LABEL_PREFIX_LEN);
	n += LABEL_PREFIX_LEN;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = (uint8_t)context_len;
	if (context_len > 0)
		memcpy(info + n, context, context_len);
	n += context_len;

	pthread_once(&hkdf_once, hkdf_fetch);
	if (hkdf == NULL)
		return -EIO;
	kctx = EVP_KDF_CTX_new(hkdf);
	if (kctx == NULL)
		return -ENOMEM;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						hlen == 32 ? "SHA256" : "SHA384", 0);
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)secret,
						 secret_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, out_len, params) != 1)
		ret = -EIO;
	EVP_KDF_CTX_free(kctx);
	OPENSSL_cleanse(info, sizeof(info));
	return ret;
}

int
wg_tls_traffic_key_iv(uint16_t suite, const uint8_t *secret, size_t secret_len, uint8_t *key,
		      uint8_t iv[WG_TLS_IV_LEN])
{
	unsigned int klen = wg_tls_suite_key_len(suite);
	int ret;

	if (klen == 0)
		return -EINVAL;
	ret = wg_tls_hkdf_expand_label(suite, secret, secret_len, "key", NULL, 0, key, klen);
	if (ret == 0)
		ret = wg_tls_hkdf_expand_label(suite, secret, secret_len, "iv", NULL, 0, iv,
					       WG_TLS_IV_LEN);
	return ret;
}

int
wg_tls_secret_update(uint16_t suite, uint8_t *secret, size_t secret_len)
{
	uint8_t next[WG_TLS_MAX_SECRET];
	int ret;

	if (secret_len > sizeof(next))
		return -EINVAL;
	ret = wg_tls_hkdf_expand_label(suite, secret, secret_len, "traffic upd", NULL, 0, next,
				       secret_len);
	if (ret == 0)
		memcpy(secret, next, secret_len);
	OPENSSL_cleanse(next, sizeof(next));
	return ret;
}
