/* SPDX-License-Identifier: BSD-3-Clause
 * The OpenSSL side of the handshake engine: contexts, one SSL per
 * handshake over memory BIOs, and what is read out of it at takeover.
 *
 * Secrets come from the keylog callback (the only public way to get the
 * TLS 1.3 traffic secrets out of OpenSSL 3.0); record counts come from the
 * msg callback, which OpenSSL calls for every record header it reads or
 * writes and for every handshake message. Read-ahead stays off, so OpenSSL
 * reads exactly one record at a time and stops at the peer's Finished:
 * whatever follows is still in the read BIO at takeover.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls_handshake_impl.h"

static int hs_ex_idx = -1;
static pthread_once_t hs_ex_once = PTHREAD_ONCE_INIT;

static void
hs_ex_init(void)
{
	hs_ex_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* Config-time OpenSSL failure: say what and why, once. */
static void
log_ssl_err(const char *what, const char *arg)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	ERR_error_string_n(e, buf, sizeof(buf));
	HS_LOG(ERR, "%s%s%s: %s", what, arg ? " " : "", arg ? arg : "", e ? buf : "failed");
	ERR_clear_error();
}

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

/* "<LABEL> <client_random hex> <secret hex>": keep the two application
 * traffic secrets, ignore the other labels. */
static void
keylog_cb(const SSL *ssl, const char *line)
{
	static const char cl[] = "CLIENT_TRAFFIC_SECRET_0 ";
	static const char sv[] = "SERVER_TRAFFIC_SECRET_0 ";
	struct hs_sess *s = SSL_get_ex_data(ssl, hs_ex_idx);
	uint8_t sec[WG_TLS_MAX_SECRET];
	const char *p;
	unsigned int n = 0;
	bool client;

	_Static_assert(sizeof(cl) == sizeof(sv), "labels of one length");
	if (s == NULL)
		return;
	if (strncmp(line, cl, sizeof(cl) - 1) == 0)
		client = true;
	else if (strncmp(line, sv, sizeof(sv) - 1) == 0)
		client = false;
	else
		return;
	p = strchr(line + sizeof(cl) - 1, ' ');
	if (p == NULL)
		goto bad;
	for (p++; p[0] != '\0'; p += 2) {
		int hi = hexval(p[0]), lo = hexval(p[1]);

		if (hi < 0 || lo < 0 || n == sizeof(sec))
			goto bad;
		sec[n++] = (uint8_t)(hi << 4 | lo);
	}
	if ((n != 32 && n != 48) || (s->secret_len != 0 && s->secret_len != n))
		goto bad;
	s->secret_len = (uint8_t)n;
	memcpy(client ? s->client_secret : s->server_secret, sec, n);
	s->flags |= client ? HS_HAVE_CLIENT : HS_HAVE_SERVER;
	OPENSSL_cleanse(sec, sizeof(sec));
	return;
bad:
	s->flags |= HS_BAD_SECRET;
	OPENSSL_cleanse(sec, sizeof(sec));
}

static void
msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
       SSL *ssl, void *arg)
{
	struct hs_sess *s = arg;
	const uint8_t *b = buf;

	(void)version;
	(void)ssl;
	switch (content_type) {
	case SSL3_RT_HEADER:
		if (write_p)
			s->tx_recs++;
		else
			s->rx_recs++;
		break;
	case SSL3_RT_HANDSHAKE:
		/* called once the message's last record went out / came in; the
		 * direction's next record is under its application secret */
		if (len == 0 || b[0] != SSL3_MT_FINISHED)
			break;
		if (write_p) {
			s->tx_base = s->tx_recs;
			s->flags |= HS_TX_APP;
		} else {
			s->rx_base = s->rx_recs;
			s->flags |= HS_RX_APP;
		}
		break;
	case SSL3_RT_ALERT:
		if (write_p && len == 2)
			s->alert = b[1];
		break;
	default:
		break;
	}
}

/* Server preference: the first of ours the client offers. No overlap: go on
 * without ALPN (a browser then speaks HTTP/1.1 anyway). */
static int
alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
	       const unsigned char *in, unsigned int inlen, void *arg)
{
	const struct hs_tls *t = arg;

	(void)ssl;
	for (unsigned int i = 0; i < t->alpn_len; i += 1u + t->alpn[i]) {
		const uint8_t *ours = &t->alpn[i + 1];
		unsigned int olen = t->alpn[i];

		for (unsigned int j = 0; j < inlen; j += 1u + in[j]) {
			if (j + 1u + in[j] > inlen)
				break;
			if (in[j] == olen && memcmp(&in[j + 1], ours, olen) == 0) {
				*out = ours;
				*outlen = (unsigned char)olen;
				return SSL_TLSEXT_ERR_OK;
			}
		}
	}
	return SSL_TLSEXT_ERR_NOACK;
}

/* "a,b" -> wire form \x01a\x01b. */
static int
alpn_wire(struct hs_tls *t, const char *list)
{
	size_t n = 0;
	const char *p = list;

	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == 0 || len > 255 || n + 1 + len > sizeof(t->alpn) - 1)
			return -EINVAL;
		t->alpn[n] = (uint8_t)len;
		memcpy(&t->alpn[n + 1], p, len);
		n += 1 + len;
		p += len + (e != NULL);
		if (e != NULL && *p == '\0')
			return -EINVAL;
	}
	t->alpn_len = (uint8_t)n;
	return 0;
}

/* The fast path seals AES-GCM only: refuse any other TLS 1.3 suite. */
static int
check_suites(SSL_CTX *ctx)
{
	STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
	int n13 = 0;

	for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
		uint16_t id = SSL_CIPHER_get_protocol_id(c);

		if ((id >> 8) != 0x13)
			continue;
		if (id != WG_TLS_AES_128_GCM_SHA256 && id != WG_TLS_AES_256_GCM_SHA384) {
			HS_LOG(ERR, "ciphersuite %s: the record layer has AES-GCM only",
			       SSL_CIPHER_get_name(c));
			return -EINVAL;
		}
		n13++;
	}
	if (n13 == 0) {
		HS_LOG(ERR, "no TLS 1.3 ciphersuite configured");
		return -EINVAL;
	}
	return 0;
}

/* What both sides share. */
static int
ctx_common(SSL_CTX *ctx, const struct wg_tls_conf *c)
{
	if (!SSL_CTX_set_min_proto_version(ctx, c->allow_tls12 ? TLS1_2_VERSION : TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION)) {
		log_ssl_err("protocol versions", NULL);
		return -EINVAL;
	}
	if (!SSL_CTX_set_ciphersuites(ctx, c->ciphersuites)) {
		log_ssl_err("ciphersuites", c->ciphersuites);
		return -EINVAL;
	}
	/* TLS 1.2 (diagnostic only, never taken over): forward secret AEAD */
	if (c->allow_tls12 && !SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM")) {
		log_ssl_err("TLS 1.2 cipher list", NULL);
		return -EINVAL;
	}
	if (check_suites(ctx) < 0)
		return -EINVAL;
	if (!SSL_CTX_set1_groups_list(ctx, c->groups)) {
		log_ssl_err("groups", c->groups);
		return -EINVAL;
	}
	/* one record per read, or records past the Finished vanish into
	 * OpenSSL's buffer instead of staying in the read BIO */
	SSL_CTX_set_read_ahead(ctx, 0);
	/* in-flight handshakes wait a round trip: no 34 KiB of idle buffers */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_keylog_callback(ctx, keylog_cb);
	return 0;
}

static int
ctx_server(struct hs_tls *t, const struct wg_tls_conf *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int rc = -EINVAL;

	if (ctx == NULL) {
		log_ssl_err("server SSL_CTX", NULL);
		return -ENOMEM;
	}
	if (ctx_common(ctx, c) < 0)
		goto err;
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
		log_ssl_err("certificate chain", c->cert);
		rc = -ENOENT;
		goto err;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1) {
		log_ssl_err("private key", c->key);
		rc = -ENOENT;
		goto err;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		log_ssl_err("key does not match certificate", c->key);
		goto err;
	}
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* 0-RTT off: early data is replayable and would need the record
	 * layer before the handshake ends */
	SSL_CTX_set_max_early_data(ctx, 0);
	SSL_CTX_set_recv_max_early_data(ctx, 0);
	/* stateless tickets (key in the SSL_CTX); no server-side cache to
	 * grow or lock. Each ticket is one more record under the server's
	 * application secret, counted into tx_seq. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (!SSL_CTX_set_num_tickets(ctx, c->tickets)) {
		log_ssl_err("tickets", NULL);
		goto err;
	}
	if (c->tickets == 0)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (t->alpn_len)
		SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, t);
	t->srv = ctx;
	return 0;
err:
	SSL_CTX_free(ctx);
	return rc;
}

static int
ctx_client(struct hs_tls *t, const struct wg_tls_conf *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int rc = -EINVAL;

	if (ctx == NULL) {
		log_ssl_err("client SSL_CTX", NULL);
		return -ENOMEM;
	}
	if (ctx_common(ctx, c) < 0)
		goto err;
	/* tickets reach the record layer, not OpenSSL: nothing to resume */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (t->alpn_len && SSL_CTX_set_alpn_protos(ctx, t->alpn, t->alpn_len) != 0) {
		log_ssl_err("ALPN", c->alpn);
		goto err;
	}
	if (c->client_verify) {
		if (c->ca[0] == '\0') {
			HS_LOG(ERR, "client_verify needs a CA file");
			goto err;
		}
		if (SSL_CTX_load_verify_locations(ctx, c->ca, NULL) != 1) {
			log_ssl_err("CA file", c->ca);
			rc = -ENOENT;
			goto err;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	t->cli = ctx;
	return 0;
err:
	SSL_CTX_free(ctx);
	return rc;
}

int
wg_tls_hs_ssl_init(struct hs_tls *t, const struct wg_tls_conf *c)
{
	int rc;

	memset(t, 0, sizeof(*t));
	pthread_once(&hs_ex_once, hs_ex_init);
	if (hs_ex_idx < 0)
		return -ENOMEM;
	if (alpn_wire(t, c->alpn) < 0) {
		HS_LOG(ERR, "alpn \"%s\": comma-separated names of 1..255 bytes", c->alpn);
		return -EINVAL;
	}
	t->client_verify = c->client_verify;
	/* a server without a certificate is a client-only engine (pktgen) */
	if (c->cert[0] != '\0' || c->key[0] != '\0') {
		rc = ctx_server(t, c);
		if (rc < 0)
			return rc;
	}
	rc = ctx_client(t, c);
	if (rc < 0) {
		SSL_CTX_free(t->srv);
		t->srv = NULL;
		return rc;
	}
	return 0;
}

void
wg_tls_hs_ssl_fini(struct hs_tls *t)
{
	SSL_CTX_free(t->srv);
	SSL_CTX_free(t->cli);
	t->srv = NULL;
	t->cli = NULL;
}

static bool
is_ip_literal(const char *name)
{
	uint8_t a[16];

	return inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
}

/* Client: SNI is a DNS name only (RFC 6066); verification checks the name
 * or the IP address against the certificate's SAN. */
static int
client_name(struct hs_tls *t, SSL *ssl, const char *name)
{
	bool ip;

	if (name == NULL || name[0] == '\0')
		return 0;
	ip = is_ip_literal(name);
	if (!ip && !SSL_set_tlsext_host_name(ssl, name))
		return -EINVAL;
	if (!t->client_verify)
		return 0;
	if (ip)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 ? 0 : -EINVAL;
	return SSL_set1_host(ssl, name) == 1 ? 0 : -EINVAL;
}

int
wg_tls_hs_sess_open(struct hs_tls *t, struct hs_sess *s, bool server, const char *sni)
{
	SSL_CTX *ctx = server ? t->srv : t->cli;
	int rc = -ENOMEM;

	s->ssl = NULL;
	s->rbio = s->wbio = NULL;
	s->rx_recs = s->tx_recs = s->rx_base = s->tx_base = s->out_recs = 0;
	s->data_msgs = 0;
	s->is_server = server;
	s->flags = 0;
	s->secret_len = 0;
	s->alert = WG_TLS_HS_NO_ALERT;
	if (ctx == NULL)
		return -EINVAL;
	s->ssl = SSL_new(ctx);
	s->rbio = BIO_new(BIO_s_mem());
	s->wbio = BIO_new(BIO_s_mem());
	if (s->ssl == NULL || s->rbio == NULL || s->wbio == NULL)
		goto err;
	/* empty read BIO = "try again", not EOF */
	BIO_set_mem_eof_return(s->rbio, -1);
	BIO_set_mem_eof_return(s->wbio, -1);
	SSL_set_bio(s->ssl, s->rbio, s->wbio);
	if (!SSL_set_ex_data(s->ssl, hs_ex_idx, s))
		goto err_ssl;
	SSL_set_msg_callback(s->ssl, msg_cb);
	SSL_set_msg_callback_arg(s->ssl, s);
	if (server) {
		SSL_set_accept_state(s->ssl);
	} else {
		SSL_set_connect_state(s->ssl);
		rc = client_name(t, s->ssl, sni);
		if (rc < 0)
			goto err_ssl;
	}
	return 0;
err:
	BIO_free(s->rbio);
	BIO_free(s->wbio);
err_ssl:
	SSL_free(s->ssl);               /* and the BIOs, once set */
	s->ssl = NULL;
	s->rbio = s->wbio = NULL;
	ERR_clear_error();
	return rc;
}

void
wg_tls_hs_sess_close(struct hs_sess *s)
{
	SSL_free(s->ssl);
	s->ssl = NULL;
	s->rbio = s->wbio = NULL;
	OPENSSL_cleanse(s->client_secret, sizeof(s->client_secret));
	OPENSSL_cleanse(s->server_secret, sizeof(s->server_secret));
}

int
wg_tls_hs_sess_feed(struct hs_sess *s, const void *p, size_t n)
{
	while (n > 0) {
		int chunk = n > INT32_MAX ? INT32_MAX : (int)n;
		int w = BIO_write(s->rbio, p, chunk);

		if (w <= 0)
			return -ENOMEM;
		p = (const uint8_t *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

enum hs_step
wg_tls_hs_sess_step(struct hs_sess *s)
{
	int r, err;

	ERR_clear_error();
	r = SSL_do_handshake(s->ssl);
	if (r == 1)
		return HS_STEP_DONE;
	err = SSL_get_error(s->ssl, r);
	if (err == SSL_ERROR_WANT_READ)
		return HS_STEP_MORE;
	if (WG_LOG_DEBUG_ON) {
		char buf[256];

		ERR_error_string_n(ERR_peek_error(), buf, sizeof(buf));
		HS_LOG(DEBUG, "handshake failed: ssl error %d, %s", err, buf);
	}
	ERR_clear_error();
	return HS_STEP_FAIL;
}

long
wg_tls_hs_sess_out(struct hs_sess *s, const uint8_t **p)
{
	char *data = NULL;
	long n = s->ssl != NULL ? BIO_get_mem_data(s->wbio, &data) : 0;
	long off = 0;
	uint32_t recs = 0;

	*p = (const uint8_t *)data;
	if (s->ssl == NULL || n <= 0)   /* no SSL: it failed to open */
		return 0;
	/* OpenSSL writes whole records; walking their headers double-checks
	 * the count tx_seq is computed from */
	while (off + 5 <= n) {
		off += 5 + ((long)(uint8_t)data[off + 3] << 8 | (uint8_t)data[off + 4]);
		recs++;
	}
	if (off != n || recs != s->tx_recs - s->out_recs) {
		HS_LOG(ERR, "output is not the records counted (%u vs %u, %ld of %ld bytes)",
		       recs, s->tx_recs - s->out_recs, off, n);
		return -EPROTO;
	}
	return n;
}

void
wg_tls_hs_sess_out_done(struct hs_sess *s)
{
	s->out_recs = s->tx_recs;
	(void)BIO_reset(s->wbio);
}

size_t
wg_tls_hs_sess_unread(struct hs_sess *s, const uint8_t **p)
{
	char *data;
	long n = BIO_get_mem_data(s->rbio, &data);

	*p = (const uint8_t *)data;
	return n > 0 ? (size_t)n : 0;
}

int
wg_tls_hs_sess_takeover(struct hs_sess *s, struct wg_tls_hs_msg *m)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(s->ssl);
	struct wg_tls_secrets *sec = &m->secrets;
	const unsigned char *alpn;
	unsigned int alpn_len;
	const char *sni;
	uint8_t len;
	uint16_t id;

	m->version = (uint16_t)SSL_version(s->ssl);
	if (m->version != TLS1_3_VERSION) {
		/* the record layer is TLS 1.3 only: end it politely */
		ERR_clear_error();
		(void)SSL_shutdown(s->ssl);
		ERR_clear_error();
		return -EPROTONOSUPPORT;
	}
	if (c == NULL)
		return -EPROTO;
	id = SSL_CIPHER_get_protocol_id(c);
	if (id == WG_TLS_AES_128_GCM_SHA256)
		len = 32;
	else if (id == WG_TLS_AES_256_GCM_SHA384)
		len = 48;
	else
		return -EPROTO;
	if ((s->flags & (HS_HAVE_CLIENT | HS_HAVE_SERVER | HS_RX_APP | HS_TX_APP | HS_BAD_SECRET)) !=
	    (HS_HAVE_CLIENT | HS_HAVE_SERVER | HS_RX_APP | HS_TX_APP) || s->secret_len != len) {
		HS_LOG(ERR, "takeover: secrets not captured (flags 0x%x, %u bytes)",
		       s->flags, s->secret_len);
		return -EPROTO;
	}
	memset(sec, 0, sizeof(*sec));
	sec->suite = id;
	sec->secret_len = len;
	sec->is_server = s->is_server;
	sec->rx_seq = s->rx_recs - s->rx_base;
	sec->tx_seq = s->tx_recs - s->tx_base;
	memcpy(sec->rx_secret, s->is_server ? s->client_secret : s->server_secret, len);
	memcpy(sec->tx_secret, s->is_server ? s->server_secret : s->client_secret, len);

	sni = SSL_get_servername(s->ssl, TLSEXT_NAMETYPE_host_name);
	m->sni_len = 0;
	m->sni[0] = '\0';
	if (sni != NULL) {
		size_t n = strnlen(sni, WG_TLS_SNI_MAX);

		if (n < WG_TLS_SNI_MAX) {
			memcpy(m->sni, sni, n + 1);
			m->sni_len = (uint8_t)n;
		}
	}
	SSL_get0_alpn_selected(s->ssl, &alpn, &alpn_len);
	m->alpn_len = 0;
	m->alpn[0] = '\0';
	if (alpn != NULL && alpn_len > 0 && alpn_len < WG_TLS_ALPN_MAX) {
		memcpy(m->alpn, alpn, alpn_len);
		m->alpn[alpn_len] = '\0';
		m->alpn_len = (uint8_t)alpn_len;
	}
	return 0;
}
