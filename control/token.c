/* SPDX-License-Identifier: BSD-3-Clause
 * Login tokens. Verification order matters: layout and version first (the
 * version fixes the layout), then the key id, then the MAC compared in
 * constant time, and only for authentic tokens the time window and the
 * replay cache, so unauthenticated input can neither probe clocks nor
 * occupy the cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "token.h"
#include "mix.h"

#define KEYFILE_MAX (64 * 1024)

struct replay_ent {
	uint8_t nonce[WG_TOKEN_NONCE_LEN];
	uint64_t until;            /* forget after this second; 0 = empty */
};

struct tkey {
	struct wg_token_key k;
	EVP_MAC_CTX *mac;          /* keyed once; re-initialised per use */
};

struct wg_token_ctx {
	struct wg_token_conf conf;
	struct tkey keys[WG_TOKEN_MAX_KEYS];
	unsigned int n_keys;
	struct tkey *cur;
	EVP_MAC *hmac;
	/* replay cache: linear probing at <= 50% load over cap slots */
	struct replay_ent *tab, *spare;
	uint32_t cap;              /* power of two >= 2 * replay_slots */
	uint32_t used;             /* non-empty entries, expired ones included */
	uint64_t min_until;        /* earliest expiry held: purge is useless before */
	uint64_t seed;
	struct wg_token_stats st;
};

/* ---- base64url ---- */

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
wg_b64url_encode(const uint8_t *in, size_t n, char *out, size_t size)
{
	size_t need = (n * 4 + 2) / 3, o = 0, i = 0;

	if (size < need + 1)
		return -ENOSPC;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64_alpha[v >> 18];
		out[o++] = b64_alpha[(v >> 12) & 63];
		out[o++] = b64_alpha[(v >> 6) & 63];
		out[o++] = b64_alpha[v & 63];
	}
	if (n - i == 1) {
		out[o++] = b64_alpha[in[i] >> 2];
		out[o++] = b64_alpha[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];

		out[o++] = b64_alpha[v >> 10];
		out[o++] = b64_alpha[(v >> 4) & 63];
		out[o++] = b64_alpha[(v & 15) << 2];
	}
	out[o] = '\0';
	return (int)o;
}

static int
b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Strict: one encoding per byte string, so a token has exactly one text
 * form (no malleable trailing bits, no padding, no whitespace). */
int
wg_b64url_decode(const char *in, size_t n, uint8_t *out, size_t size)
{
	size_t o = 0, need;
	uint32_t acc = 0;
	unsigned int bits = 0;

	if (n % 4 == 1)
		return -EINVAL;
	need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	if (need > size)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++) {
		int v = b64_val(in[i]);

		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return -EINVAL;
	return (int)o;
}

/* ---- helpers ---- */

static inline void
put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}


static bool
account_ok(const uint8_t *a, size_t n)
{
	if (n == 0 || n > WG_TOKEN_ACCOUNT_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (a[i] < 0x20 || a[i] == 0x7f)
			return false;
	return true;
}

static struct tkey *
key_find(struct wg_token_ctx *ctx, uint32_t kid)
{
	for (unsigned int i = 0; i < ctx->n_keys; i++)
		if (ctx->keys[i].k.kid == kid)
			return &ctx->keys[i];
	return NULL;
}

static int
mac_compute(struct tkey *k, const uint8_t *data, size_t n, uint8_t out[WG_TOKEN_MAC_LEN])
{
	size_t outl = 0;

	/* NULL key: restart with the key set at create */
	if (EVP_MAC_init(k->mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(k->mac, data, n) != 1 ||
	    EVP_MAC_final(k->mac, out, &outl, WG_TOKEN_MAC_LEN) != 1 ||
	    outl != WG_TOKEN_MAC_LEN)
		return -EIO;
	return 0;
}

/* ---- replay cache ---- */

static inline uint32_t
nonce_slot(const struct wg_token_ctx *ctx, const uint8_t *nonce)
{
	uint64_t a, b;

	memcpy(&a, nonce, 8);
	memcpy(&b, nonce + 8, 8);
	return (uint32_t)wg_mix64(wg_mix64(a ^ ctx->seed) ^ b) & (ctx->cap - 1);
}

/* Rehash the unexpired entries into the spare table and swap. Deleting in
 * place from a linear-probing table needs backward shifts per entry; a
 * rebuild is simpler and costs O(cap) at most once per second (min_until). */
static void
replay_purge(struct wg_token_ctx *ctx, uint64_t now)
{
	struct replay_ent *t;
	uint64_t min = UINT64_MAX;
	uint32_t used = 0;

	memset(ctx->spare, 0, (size_t)ctx->cap * sizeof(*ctx->spare));
	for (uint32_t i = 0; i < ctx->cap; i++) {
		const struct replay_ent *e = &ctx->tab[i];
		uint32_t j;

		if (e->until == 0 || e->until <= now)
			continue;
		for (j = nonce_slot(ctx, e->nonce); ctx->spare[j].until != 0;
		     j = (j + 1) & (ctx->cap - 1))
			;
		ctx->spare[j] = *e;
		used++;
		if (e->until < min)
			min = e->until;
	}
	t = ctx->tab;
	ctx->tab = ctx->spare;
	ctx->spare = t;
	ctx->used = used;
	ctx->min_until = min;
	ctx->st.replay_purges++;
}

static bool
replay_seen(const struct wg_token_ctx *ctx, const uint8_t *nonce, uint64_t now)
{
	for (uint32_t i = nonce_slot(ctx, nonce); ctx->tab[i].until != 0;
	     i = (i + 1) & (ctx->cap - 1))
		if (memcmp(ctx->tab[i].nonce, nonce, WG_TOKEN_NONCE_LEN) == 0)
			return ctx->tab[i].until > now;
	return false;
}

/* Record nonce until `until` (> now). -EREPLAY if held and unexpired,
 * -EFULL if replay_slots unexpired nonces are held. */
static int
replay_insert(struct wg_token_ctx *ctx, const uint8_t *nonce, uint64_t until, uint64_t now)
{
	uint32_t i, reuse = UINT32_MAX;

	for (i = nonce_slot(ctx, nonce); ctx->tab[i].until != 0; i = (i + 1) & (ctx->cap - 1)) {
		struct replay_ent *e = &ctx->tab[i];

		if (memcmp(e->nonce, nonce, WG_TOKEN_NONCE_LEN) == 0) {
			if (e->until > now)
				return -WG_TOKEN_EREPLAY;
			/* same nonce, expired: its slot is ours */
			e->until = until;
			if (until < ctx->min_until)
				ctx->min_until = until;
			return 0;
		}
		if (reuse == UINT32_MAX && e->until <= now)
			reuse = i;
	}
	if (reuse != UINT32_MAX) {
		/* an expired entry inside the chain: the key is not further on
		 * (we walked to the empty slot), so taking it keeps lookups right */
		i = reuse;
	} else if (ctx->used >= ctx->conf.replay_slots) {
		if (now < ctx->min_until)
			return -WG_TOKEN_EFULL;
		replay_purge(ctx, now);
		if (ctx->used >= ctx->conf.replay_slots)
			return -WG_TOKEN_EFULL;
		for (i = nonce_slot(ctx, nonce); ctx->tab[i].until != 0;
		     i = (i + 1) & (ctx->cap - 1))
			;
		ctx->used++;
	} else {
		ctx->used++;
	}
	memcpy(ctx->tab[i].nonce, nonce, WG_TOKEN_NONCE_LEN);
	ctx->tab[i].until = until;
	if (until < ctx->min_until)
		ctx->min_until = until;
	return 0;
}

/* ---- context ---- */

struct wg_token_ctx *
wg_token_create(const struct wg_token_conf *conf)
{
	struct wg_token_ctx *ctx;
	OSSL_PARAM params[2];
	int err = EINVAL;

	if (conf->n_keys == 0 || conf->n_keys > WG_TOKEN_MAX_KEYS || conf->keys == NULL ||
	    conf->replay_slots == 0 || conf->replay_slots > (1u << 30)) {
		errno = EINVAL;
		return NULL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return NULL;
	ctx->conf = *conf;
	ctx->conf.keys = NULL;
	ctx->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (ctx->hmac == NULL) {
		err = EIO;
		goto err;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	for (unsigned int i = 0; i < conf->n_keys; i++) {
		const struct wg_token_key *k = &conf->keys[i];
		struct tkey *t = &ctx->keys[i];

		if (k->len < WG_TOKEN_KEY_MIN || k->len > WG_TOKEN_KEY_MAX ||
		    key_find(ctx, k->kid) != NULL) {
			err = EINVAL;
			goto err;
		}
		t->k = *k;
		t->mac = EVP_MAC_CTX_new(ctx->hmac);
		if (t->mac == NULL || EVP_MAC_init(t->mac, k->secret, k->len, params) != 1) {
			err = EIO;
			goto err;
		}
		ctx->n_keys++;
	}
	ctx->cur = key_find(ctx, conf->current_kid);
	if (ctx->cur == NULL) {
		err = EINVAL;
		goto err;
	}
	for (ctx->cap = 4; ctx->cap < 2 * conf->replay_slots; ctx->cap <<= 1)
		;
	ctx->tab = calloc(ctx->cap, sizeof(*ctx->tab));
	ctx->spare = calloc(ctx->cap, sizeof(*ctx->spare));
	if (ctx->tab == NULL || ctx->spare == NULL) {
		err = ENOMEM;
		goto err;
	}
	ctx->min_until = UINT64_MAX;
	if (RAND_bytes((unsigned char *)&ctx->seed, sizeof(ctx->seed)) != 1) {
		err = EIO;
		goto err;
	}
	return ctx;
err:
	wg_token_destroy(ctx);
	errno = err;
	return NULL;
}

void
wg_token_destroy(struct wg_token_ctx *ctx)
{
	if (ctx == NULL)
		return;
	for (unsigned int i = 0; i < WG_TOKEN_MAX_KEYS; i++)
		EVP_MAC_CTX_free(ctx->keys[i].mac);
	EVP_MAC_free(ctx->hmac);
	free(ctx->tab);
	free(ctx->spare);
	OPENSSL_cleanse(ctx, sizeof(*ctx));
	free(ctx);
}

int
wg_token_mint(struct wg_token_ctx *ctx, struct wg_token_claims *c, char *out, size_t size)
{
	uint8_t bin[WG_TOKEN_BIN_MAX];
	size_t alen = strnlen(c->account, sizeof(c->account));
	int rc;

	if (!account_ok((const uint8_t *)c->account, alen) || c->expires_at <= c->issued_at)
		return -EINVAL;
	if (size < WG_TOKEN_TEXT_MAX)
		return -ENOSPC;
	if (RAND_bytes(c->nonce, WG_TOKEN_NONCE_LEN) != 1)
		return -EIO;
	c->version = WG_TOKEN_VERSION;
	c->kid = ctx->cur->k.kid;
	bin[0] = c->version;
	put_be32(bin + 1, c->kid);
	put_be64(bin + 5, c->player_id);
	put_be64(bin + 13, c->issued_at);
	put_be64(bin + 21, c->expires_at);
	memcpy(bin + 29, c->nonce, WG_TOKEN_NONCE_LEN);
	bin[45] = (uint8_t)alen;
	memcpy(bin + WG_TOKEN_HDR_LEN, c->account, alen);
	rc = mac_compute(ctx->cur, bin, WG_TOKEN_HDR_LEN + alen, bin + WG_TOKEN_HDR_LEN + alen);
	if (rc < 0)
		return rc;
	rc = wg_b64url_encode(bin, WG_TOKEN_HDR_LEN + alen + WG_TOKEN_MAC_LEN, out, size);
	if (rc >= 0)
		ctx->st.minted++;
	return rc;
}

static int
verify(struct wg_token_ctx *ctx, const char *text, size_t len, uint64_t now,
       unsigned int flags, struct wg_token_claims *out)
{
	uint8_t bin[WG_TOKEN_BIN_MAX], mac[WG_TOKEN_MAC_LEN];
	struct wg_token_claims c;
	struct tkey *k;
	size_t alen;
	int n, rc;

	if (len > WG_TOKEN_TEXT_MAX - 1)
		return -WG_TOKEN_EMALFORMED;
	n = wg_b64url_decode(text, len, bin, sizeof(bin));
	if (n < 1)
		return -WG_TOKEN_EMALFORMED;
	if (bin[0] != WG_TOKEN_VERSION)
		return -WG_TOKEN_EVERSION;
	if (n < WG_TOKEN_BIN_MIN)
		return -WG_TOKEN_EMALFORMED;
	alen = bin[45];
	if ((size_t)n != WG_TOKEN_HDR_LEN + alen + WG_TOKEN_MAC_LEN)
		return -WG_TOKEN_EMALFORMED;
	k = key_find(ctx, get_be32(bin + 1));
	if (k == NULL)
		return -WG_TOKEN_ENOKEY;
	rc = mac_compute(k, bin, WG_TOKEN_HDR_LEN + alen, mac);
	if (rc < 0)
		return rc;
	if (CRYPTO_memcmp(mac, bin + WG_TOKEN_HDR_LEN + alen, WG_TOKEN_MAC_LEN) != 0)
		return -WG_TOKEN_EBADSIG;
	/* authentic from here on: what we signed, so field checks only
	 * protect against our own mistakes (or an operator's) */
	memset(&c, 0, sizeof(c));
	c.version = bin[0];
	c.kid = k->k.kid;
	c.player_id = get_be64(bin + 5);
	c.issued_at = get_be64(bin + 13);
	c.expires_at = get_be64(bin + 21);
	memcpy(c.nonce, bin + 29, WG_TOKEN_NONCE_LEN);
	if (!account_ok(bin + WG_TOKEN_HDR_LEN, alen) || c.expires_at <= c.issued_at ||
	    (ctx->conf.max_ttl_s && c.expires_at - c.issued_at > ctx->conf.max_ttl_s) ||
	    c.expires_at > UINT64_MAX - ctx->conf.skew_s)
		return -WG_TOKEN_EMALFORMED;
	memcpy(c.account, bin + WG_TOKEN_HDR_LEN, alen);
	if (now + ctx->conf.skew_s < c.issued_at)
		return -WG_TOKEN_ENOTYET;
	if (now >= c.expires_at + ctx->conf.skew_s)
		return -WG_TOKEN_EEXPIRED;
	if (flags & WG_TOKEN_F_PEEK) {
		if (replay_seen(ctx, c.nonce, now))
			return -WG_TOKEN_EREPLAY;
	} else {
		rc = replay_insert(ctx, c.nonce, c.expires_at + ctx->conf.skew_s, now);
		if (rc < 0)
			return rc;
	}
	if (out != NULL)
		*out = c;
	return 0;
}

int
wg_token_verify(struct wg_token_ctx *ctx, const char *text, size_t len, uint64_t now_s,
		unsigned int flags, struct wg_token_claims *out)
{
	int rc;

	if (flags & ~WG_TOKEN_F_MASK)
		return -EINVAL;
	rc = verify(ctx, text, len, now_s, flags, out);
	switch (-rc) {
	case 0:
		ctx->st.ok++;
		break;
	case WG_TOKEN_EMALFORMED:
	case WG_TOKEN_EVERSION:
		ctx->st.malformed++;
		break;
	case WG_TOKEN_ENOKEY:
		ctx->st.unknown_key++;
		break;
	case WG_TOKEN_EBADSIG:
		ctx->st.bad_sig++;
		break;
	case WG_TOKEN_EEXPIRED:
		ctx->st.expired++;
		break;
	case WG_TOKEN_ENOTYET:
		ctx->st.not_yet++;
		break;
	case WG_TOKEN_EREPLAY:
		ctx->st.replayed++;
		break;
	case WG_TOKEN_EFULL:
		ctx->st.refused_full++;
		break;
	default:
		break;
	}
	return rc;
}

const char *
wg_token_strerror(int err)
{
	switch (-err) {
	case 0:
		return "ok";
	case WG_TOKEN_EMALFORMED:
		return "malformed token";
	case WG_TOKEN_EVERSION:
		return "unsupported token version";
	case WG_TOKEN_ENOKEY:
		return "unknown key id";
	case WG_TOKEN_EBADSIG:
		return "bad signature";
	case WG_TOKEN_EEXPIRED:
		return "token expired";
	case WG_TOKEN_ENOTYET:
		return "token not yet valid";
	case WG_TOKEN_EREPLAY:
		return "token replayed";
	case WG_TOKEN_EFULL:
		return "replay cache full";
	default:
		return "token error";
	}
}

void
wg_token_stats(const struct wg_token_ctx *ctx, struct wg_token_stats *st)
{
	*st = ctx->st;
	st->replay_used = ctx->used;
	st->replay_slots = ctx->conf.replay_slots;
}

void
wg_token_dump(FILE *f, const struct wg_token_ctx *ctx)
{
	const struct wg_token_stats *s = &ctx->st;

	fprintf(f, "token: %u keys, current kid %u, skew %u s, max ttl %u s\n",
		ctx->n_keys, ctx->cur->k.kid, ctx->conf.skew_s, ctx->conf.max_ttl_s);
	fprintf(f, "  replay cache %u/%u (table %u, %llu purges)\n", ctx->used,
		ctx->conf.replay_slots, ctx->cap, (unsigned long long)s->replay_purges);
	fprintf(f, "  minted %llu ok %llu malformed %llu unknown_key %llu bad_sig %llu "
		"expired %llu not_yet %llu replayed %llu refused_full %llu\n",
		(unsigned long long)s->minted, (unsigned long long)s->ok,
		(unsigned long long)s->malformed, (unsigned long long)s->unknown_key,
		(unsigned long long)s->bad_sig, (unsigned long long)s->expired,
		(unsigned long long)s->not_yet, (unsigned long long)s->replayed,
		(unsigned long long)s->refused_full);
}

/* ---- key files ---- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
parse_key_line(const char *p, const char *end, struct wg_token_key *k)
{
	unsigned long long kid = 0;
	const char *h;
	size_t nhex = 0;

	if (p == end || *p < '0' || *p > '9')
		return -EINVAL;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		kid = kid * 10 + (unsigned long long)(*p - '0');
		if (kid > UINT32_MAX)
			return -EINVAL;
	}
	if (p == end || (*p != ' ' && *p != '\t'))
		return -EINVAL;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (h = p; p < end && hexval(*p) >= 0; p++)
		nhex++;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	if (p != end || nhex % 2 || nhex < 2 * WG_TOKEN_KEY_MIN || nhex > 2 * WG_TOKEN_KEY_MAX)
		return -EINVAL;
	k->kid = (uint32_t)kid;
	k->len = (uint32_t)(nhex / 2);
	for (size_t i = 0; i < k->len; i++)
		k->secret[i] = (uint8_t)(hexval(h[2 * i]) << 4 | hexval(h[2 * i + 1]));
	return 0;
}

int
wg_token_keys_parse(const char *text, struct wg_token_key *keys, unsigned int max,
		    unsigned int *bad_line)
{
	unsigned int n = 0, line = 0;
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n'), *s = p, *e;
		struct wg_token_key k;
		int rc;

		if (eol == NULL)
			eol = p + strlen(p);
		line++;
		while (s < eol && (*s == ' ' || *s == '\t'))
			s++;
		for (e = eol; e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'); e--)
			;
		if (s < e && *s != '#') {
			rc = parse_key_line(s, e, &k);
			if (rc == 0) {
				for (unsigned int i = 0; i < n; i++)
					if (keys[i].kid == k.kid)
						rc = -EEXIST;
			}
			if (rc == 0 && n == max)
				rc = -E2BIG;
			if (rc < 0) {
				OPENSSL_cleanse(&k, sizeof(k));
				if (bad_line)
					*bad_line = line;
				return rc;
			}
			keys[n++] = k;
			OPENSSL_cleanse(&k, sizeof(k));
		}
		p = *eol ? eol + 1 : eol;
	}
	return (int)n;
}

int
wg_token_keys_load(const char *path, struct wg_token_key *keys, unsigned int max,
		   unsigned int *bad_line)
{
	char *buf;
	size_t len = 0;
	ssize_t r;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(KEYFILE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while ((r = read(fd, buf + len, KEYFILE_MAX - len)) > 0)
		len += (size_t)r;
	rc = r < 0 ? -errno : 0;
	if (rc == 0 && len == KEYFILE_MAX)
		rc = -EFBIG;
	close(fd);
	if (rc == 0) {
		buf[len] = '\0';
		if (strlen(buf) != len)
			rc = -EINVAL;     /* NUL inside: not a key file */
		else
			rc = wg_token_keys_parse(buf, keys, max, bad_line);
	}
	OPENSSL_cleanse(buf, KEYFILE_MAX + 1);
	free(buf);
	return rc;
}
