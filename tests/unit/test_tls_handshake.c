/* SPDX-License-Identifier: BSD-3-Clause
 * The handshake engine for real: its thread runs, the test is worker 0
 * (and 1), and the peers are OpenSSL SSL objects over memory BIOs. After
 * takeover the handed-over secrets are checked the hard way: the test
 * derives key/iv itself (HKDF-Expand-Label with EVP_KDF), seals a record at
 * tx_seq that the peer's SSL must open, and opens the peer's records at
 * rx_seq.
 *
 * argv[1]: tools/gen_test_certs.sh (run into a temporary directory).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "tls_handshake.h"
#include "../eal_runtime.h"

#define POOL_N   2047
#define MAXBUF   (64 * 1024)

static struct rte_mempool *pool;
static char certdir[64];
static char path_chain[128], path_key[128], path_ca[128], path_rsa_key[128];
static struct wg_tls_hs *eng;
static struct wg_tls_conf conf;
static int conns[16];                  /* what refs point at */
static uint32_t gen_counter;
static unsigned int pool_base;         /* free mbufs when the engine came up */

/* ------------------------------------------------------------ helpers */

static void
conf_init(void)
{
	wg_tls_conf_defaults(&conf);
	snprintf(conf.cert, sizeof(conf.cert), "%s", path_chain);
	snprintf(conf.key, sizeof(conf.key), "%s", path_key);
	snprintf(conf.ca, sizeof(conf.ca), "%s", path_ca);
	conf.max_sessions = 64;
	conf.msgs = 2047;
	conf.ring_size = 1024;
	conf.idle_sleep_max_us = 50;
	strcpy(conf.alpn, "http/1.1,wg/1");
}

static void
engine_up(unsigned int n_workers)
{
	pool_base = rte_mempool_avail_count(pool);
	eng = wg_tls_hs_create("hst", &conf, n_workers, pool, SOCKET_ID_ANY);
	assert_non_null(eng);
	assert_int_equal(wg_tls_hs_start(eng), 0);
}

/* Everything given back: no session, message or mbuf leaked. */
static void
engine_down(void)
{
	struct wg_tls_hs_stats st;
	unsigned int msgs;

	/* gone first, checked after: a failed test must not take the
	 * next ones with it */
	wg_tls_hs_stop(eng);
	wg_tls_hs_stats_get(eng, &st);
	msgs = wg_tls_hs_msgs_avail(eng);
	wg_tls_hs_destroy(eng);
	eng = NULL;
	assert_int_equal(st.active, 0);
	assert_int_equal(msgs, conf.msgs);
	assert_int_equal(rte_mempool_avail_count(pool), pool_base);
}

static int
setup(void **state)
{
	(void)state;
	conf_init();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (eng != NULL)
		engine_down();
	return 0;
}

static struct wg_tls_hs_ref
new_ref(unsigned int i, uint16_t worker)
{
	struct wg_tls_hs_ref r = { .conn = &conns[i], .gen = ++gen_counter, .worker = worker };

	return r;
}

/* bytes -> chain of seg-byte mbufs (0: as few as fit) */
static struct rte_mbuf *
chain(const uint8_t *p, size_t n, size_t seg)
{
	struct rte_mbuf *head = NULL, *tail = NULL;

	while (n > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		size_t k = RTE_MIN(n, seg ? seg : (size_t)rte_pktmbuf_tailroom(m));

		assert_non_null(m);
		memcpy(rte_pktmbuf_append(m, (uint16_t)k), p, k);
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += (uint32_t)k;
		}
		tail = m;
		p += k;
		n -= k;
	}
	return head;
}

static size_t
flat(const struct rte_mbuf *m, uint8_t *buf, size_t max)
{
	size_t n = 0;

	for (; m != NULL; m = m->next) {
		assert_true(n + rte_pktmbuf_data_len(m) <= max);
		memcpy(buf + n, rte_pktmbuf_mtod(m, const void *), rte_pktmbuf_data_len(m));
		n += rte_pktmbuf_data_len(m);
	}
	return n;
}

static struct wg_tls_hs_msg *
wait_reply(uint16_t worker)
{
	struct wg_tls_hs_msg *m;

	/* bounded: 20 s, far beyond any handshake */
	for (unsigned int i = 0; i < 400000; i++) {
		if (wg_tls_hs_replies(eng, worker, &m, 1) == 1)
			return m;
		usleep(50);
	}
	fail_msg("no reply from the engine");
	return NULL;
}

static void
wait_stat(const uint64_t *field_of_st, struct wg_tls_hs_stats *st, uint64_t want)
{
	for (unsigned int i = 0; i < 400000; i++) {
		wg_tls_hs_stats_get(eng, st);
		if (*field_of_st >= want)
			return;
		usleep(50);
	}
	fail_msg("engine counter never reached %lu", (unsigned long)want);
}

/* Until no handshake is left (counters are not updated as one: wait for
 * the one that changes last). */
static void
wait_no_session(struct wg_tls_hs_stats *st)
{
	for (unsigned int i = 0; i < 400000; i++) {
		wg_tls_hs_stats_get(eng, st);
		if (st->active == 0)
			return;
		usleep(50);
	}
	fail_msg("handshakes still active");
}

static void
no_reply(uint16_t worker)
{
	struct wg_tls_hs_msg *m;

	if (wg_tls_hs_replies(eng, worker, &m, 1) != 0)
		fail_msg("unexpected reply: type %u status %d gen %u", m->type, m->status,
			 m->ref.gen);
}

/* an OpenSSL endpoint over memory BIOs */
static SSL *
peer_new(SSL_CTX *ctx, bool server, const char *sni)
{
	SSL *s = SSL_new(ctx);

	assert_non_null(s);
	SSL_set_bio(s, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
	if (server) {
		SSL_set_accept_state(s);
	} else {
		SSL_set_connect_state(s);
		if (sni != NULL)
			assert_int_equal(SSL_set_tlsext_host_name(s, sni), 1);
	}
	return s;
}

static size_t
peer_take(SSL *s, uint8_t *buf, size_t max)
{
	int n = BIO_read(SSL_get_wbio(s), buf, (int)max);

	return n > 0 ? (size_t)n : 0;
}

static void
peer_give(SSL *s, const void *p, size_t n)
{
	if (n > 0)
		assert_int_equal(BIO_write(SSL_get_rbio(s), p, (int)n), (int)n);
}

static void
peer_give_mbuf(SSL *s, const struct rte_mbuf *m)
{
	for (; m != NULL; m = m->next)
		peer_give(s, rte_pktmbuf_mtod(m, const void *), rte_pktmbuf_data_len(m));
}

/* Step an OpenSSL endpoint: 1 done, 0 wants input, -1 failed. */
static int
peer_step(SSL *s)
{
	int r = SSL_do_handshake(s);

	if (r == 1)
		return 1;
	if (SSL_get_error(s, r) == SSL_ERROR_WANT_READ)
		return 0;
	ERR_clear_error();
	return -1;
}

static SSL_CTX *
client_ctx(const char *suites, const char *groups, int max_version)
{
	static const uint8_t alpn[] = "\x02h2\x08http/1.1";
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	assert_non_null(c);
	assert_int_equal(SSL_CTX_set_ciphersuites(c, suites), 1);
	assert_int_equal(SSL_CTX_set1_groups_list(c, groups), 1);
	if (max_version)
		assert_int_equal(SSL_CTX_set_max_proto_version(c, max_version), 1);
	assert_int_equal(SSL_CTX_load_verify_locations(c, path_ca, NULL), 1);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	assert_int_equal(SSL_CTX_set_alpn_protos(c, alpn, sizeof(alpn) - 1), 0);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT);
	return c;
}

/* Records in b: all whole, each of type 0x17 (TLS 1.3 protected). */
static unsigned int
count_app_records(const uint8_t *b, size_t n)
{
	unsigned int k = 0;
	size_t off = 0;

	while (off < n) {
		assert_true(off + 5 <= n);
		assert_int_equal(b[off], 0x17);
		assert_int_equal(b[off + 1], 3);
		assert_int_equal(b[off + 2], 3);
		off += 5 + ((size_t)b[off + 3] << 8 | b[off + 4]);
		k++;
	}
	assert_int_equal(off, n);
	return k;
}

/* ------------------------------------------------- record protection */

struct keys {
	uint8_t key[32];
	uint8_t iv[12];
	size_t key_len;
};

/* HKDF-Expand-Label(secret, label, "", len), RFC 8446 7.1 */
static void
expand_label(const uint8_t *secret, size_t slen, const char *label, uint8_t *out, size_t len)
{
	uint8_t info[64];
	size_t n = 0, ll = 6 + strlen(label);
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[5];

	assert_non_null(kc);
	info[n++] = (uint8_t)(len >> 8);
	info[n++] = (uint8_t)len;
	info[n++] = (uint8_t)ll;
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, label, strlen(label));
	n += ll;
	info[n++] = 0;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     slen == 48 ? "SHA384" : "SHA256", 0);
	params[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	params[4] = OSSL_PARAM_construct_end();
	assert_int_equal(EVP_KDF_derive(kc, out, len, params), 1);
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
}

static void
derive(const struct wg_tls_secrets *s, bool tx, struct keys *k)
{
	const uint8_t *sec = tx ? s->tx_secret : s->rx_secret;

	k->key_len = s->suite == WG_TLS_AES_128_GCM_SHA256 ? 16 : 32;
	expand_label(sec, s->secret_len, "key", k->key, k->key_len);
	expand_label(sec, s->secret_len, "iv", k->iv, 12);
}

static void
nonce(const struct keys *k, uint64_t seq, uint8_t *n)
{
	memcpy(n, k->iv, 12);
	for (int i = 0; i < 8; i++)
		n[11 - i] ^= (uint8_t)(seq >> (8 * i));
}

/* TLSInnerPlaintext (pt || type) sealed into one record at seq. */
static size_t
seal(const struct keys *k, uint64_t seq, uint8_t type, const void *pt, size_t n, uint8_t *rec)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	size_t clen = n + 1 + 16;
	uint8_t nb[12];
	int len;

	nonce(k, seq, nb);
	rec[0] = 0x17;
	rec[1] = 3;
	rec[2] = 3;
	rec[3] = (uint8_t)(clen >> 8);
	rec[4] = (uint8_t)clen;
	assert_int_equal(EVP_EncryptInit_ex(c, k->key_len == 16 ? EVP_aes_128_gcm() :
					    EVP_aes_256_gcm(), NULL, k->key, nb), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &len, rec, 5), 1);
	assert_int_equal(EVP_EncryptUpdate(c, rec + 5, &len, pt, (int)n), 1);
	assert_int_equal(EVP_EncryptUpdate(c, rec + 5 + n, &len, &type, 1), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, rec + 5 + n + 1, &len), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, rec + 5 + n + 1), 1);
	EVP_CIPHER_CTX_free(c);
	return 5 + clen;
}

/* Open one record at seq: 0 and the inner type and plaintext, or -1. */
static int
open_rec(const struct keys *k, uint64_t seq, const uint8_t *rec, size_t reclen,
	 uint8_t *pt, size_t *ptlen, uint8_t *type)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	size_t clen = (size_t)rec[3] << 8 | rec[4];
	uint8_t nb[12];
	int len, ok;

	assert_true(reclen >= 5 + 17 && clen == reclen - 5);
	nonce(k, seq, nb);
	assert_int_equal(EVP_DecryptInit_ex(c, k->key_len == 16 ? EVP_aes_128_gcm() :
					    EVP_aes_256_gcm(), NULL, k->key, nb), 1);
	assert_int_equal(EVP_DecryptUpdate(c, NULL, &len, rec, 5), 1);
	assert_int_equal(EVP_DecryptUpdate(c, pt, &len, rec + 5, (int)(clen - 16)), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16,
					     (void *)(rec + reclen - 16)), 1);
	ok = EVP_DecryptFinal_ex(c, pt + len, &len);
	EVP_CIPHER_CTX_free(c);
	if (ok != 1)
		return -1;
	*ptlen = clen - 16;
	while (*ptlen > 0 && pt[*ptlen - 1] == 0)
		(*ptlen)--;
	assert_true(*ptlen > 0);
	*type = pt[--(*ptlen)];
	return 0;
}

/* ------------------------------------------------------ handshake runs */

/* An OpenSSL client against the engine up to the client's Finished
 * (extra bytes ride along with it); returns the engine's last reply. */
static struct wg_tls_hs_msg *
handshake_to_engine(SSL *cli, const struct wg_tls_hs_ref *ref, const uint8_t *extra,
		    size_t extra_len)
{
	static uint8_t buf[MAXBUF];
	struct wg_tls_hs_msg *m;
	size_t n;

	assert_int_equal(peer_step(cli), 0);
	n = peer_take(cli, buf, sizeof(buf));
	assert_true(n > 0 && buf[0] == 0x16);         /* ClientHello record */
	assert_int_equal(wg_tls_hs_accept(eng, ref, chain(buf, n, 0)), 0);
	m = wait_reply(ref->worker);
	if (m->type != WG_TLS_HS_SEND)
		return m;
	assert_true(m->ref.conn == ref->conn && m->ref.gen == ref->gen);
	peer_give_mbuf(cli, m->data);
	wg_tls_hs_msg_free(eng, m);
	/* TLS 1.3: the client is done; 1.2: it waits for our Finished */
	assert_int_equal(peer_step(cli), SSL_version(cli) == TLS1_3_VERSION ? 1 : 0);
	n = peer_take(cli, buf, sizeof(buf));
	assert_true(n > 0);
	if (extra_len > 0)
		memcpy(buf + n, extra, extra_len);
	assert_int_equal(wg_tls_hs_data(eng, ref, chain(buf, n + extra_len, 0)), 0);
	return wait_reply(ref->worker);
}

/* The record layer's first records, both ways: we seal at tx_seq and the
 * client's SSL must open it (after the tickets in data); the client's SSL
 * seals and we open at rx_seq. */
static void
check_secrets_against(SSL *peer, const struct wg_tls_secrets *sec, const struct rte_mbuf *data)
{
	static uint8_t rec[MAXBUF], pt[MAXBUF];
	static const char ping[] = "ping from the record layer";
	static const char pong[] = "pong from OpenSSL";
	struct keys tx, rx;
	size_t n, ptlen;
	uint8_t type;
	int r;

	derive(sec, true, &tx);
	derive(sec, false, &rx);
	if (data != NULL)
		peer_give_mbuf(peer, data);
	n = seal(&tx, sec->tx_seq, 0x17, ping, sizeof(ping), rec);
	peer_give(peer, rec, n);
	r = SSL_read(peer, pt, sizeof(pt));
	assert_int_equal(r, (int)sizeof(ping));
	assert_memory_equal(pt, ping, sizeof(ping));

	assert_int_equal(SSL_write(peer, pong, sizeof(pong)), (int)sizeof(pong));
	n = peer_take(peer, rec, sizeof(rec));
	assert_int_equal(count_app_records(rec, n), 1);
	assert_int_equal(open_rec(&rx, sec->rx_seq, rec, n, pt, &ptlen, &type), 0);
	assert_int_equal(type, 0x17);
	assert_int_equal(ptlen, sizeof(pong));
	assert_memory_equal(pt, pong, sizeof(pong));
	/* and the wrong sequence number must not open it */
	assert_int_equal(open_rec(&rx, sec->rx_seq + 1, rec, n, pt, &ptlen, &type), -1);
}

static void
check_done(const struct wg_tls_hs_msg *m, uint16_t suite, int tickets)
{
	static uint8_t buf[MAXBUF];
	size_t n;

	assert_int_equal(m->type, WG_TLS_HS_DONE);
	assert_int_equal(m->version, 0x0304);
	assert_int_equal(m->secrets.suite, suite);
	assert_int_equal(m->secrets.secret_len, suite == WG_TLS_AES_128_GCM_SHA256 ? 32 : 48);
	assert_int_equal(m->secrets.is_server, 1);
	assert_int_equal(m->secrets.rx_seq, 0);
	if (tickets >= 0)
		assert_int_equal(m->secrets.tx_seq, tickets);
	assert_memory_not_equal(m->secrets.rx_secret, m->secrets.tx_secret, m->secrets.secret_len);
	assert_string_equal(m->sni, "warpgate.test");
	assert_int_equal(m->sni_len, strlen("warpgate.test"));
	assert_string_equal(m->alpn, "http/1.1");       /* client offered h2 first */
	assert_int_equal(m->alpn_len, 8);
	/* what goes out at takeover is exactly the tickets counted */
	n = flat(m->data, buf, sizeof(buf));
	assert_int_equal(n > 0 ? count_app_records(buf, n) : 0, m->secrets.tx_seq);
}

/* ------------------------------------------------------------ tests */

static void
test_server_suites_and_groups(void **state)
{
	static const struct {
		const char *suite;
		uint16_t id;
		const char *group;
		int nid;
	} cases[] = {
		{ "TLS_AES_128_GCM_SHA256", WG_TLS_AES_128_GCM_SHA256, "X25519", NID_X25519 },
		{ "TLS_AES_128_GCM_SHA256", WG_TLS_AES_128_GCM_SHA256, "P-256", NID_X9_62_prime256v1 },
		{ "TLS_AES_256_GCM_SHA384", WG_TLS_AES_256_GCM_SHA384, "X25519", NID_X25519 },
		{ "TLS_AES_256_GCM_SHA384", WG_TLS_AES_256_GCM_SHA384, "P-256", NID_X9_62_prime256v1 },
	};
	struct wg_tls_hs_stats st;

	(void)state;
	engine_up(2);
	for (unsigned int i = 0; i < RTE_DIM(cases); i++) {
		SSL_CTX *cc = client_ctx(cases[i].suite, cases[i].group, 0);
		SSL *cli = peer_new(cc, false, "warpgate.test");
		struct wg_tls_hs_ref ref = new_ref(i, (uint16_t)(i & 1));
		struct wg_tls_hs_msg *m = handshake_to_engine(cli, &ref, NULL, 0);

		assert_true(m->ref.conn == ref.conn && m->ref.gen == ref.gen);
		assert_int_equal(m->ref.worker, ref.worker);
		check_done(m, cases[i].id, 2);
		assert_null(m->leftover);
		assert_int_equal(SSL_get_negotiated_group(cli), cases[i].nid);
		assert_int_equal(SSL_get_verify_result(cli), X509_V_OK);
		check_secrets_against(cli, &m->secrets, m->data);
		wg_tls_hs_msg_free(eng, m);
		SSL_free(cli);
		SSL_CTX_free(cc);
	}
	wg_tls_hs_stats_get(eng, &st);
	assert_int_equal(st.accepts, 4);
	assert_int_equal(st.done, 4);
	assert_int_equal(st.failed, 0);
	{
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		assert_non_null(f);
		wg_tls_hs_dump(f, eng);
		fclose(f);
		assert_non_null(strstr(text, "2 workers, 0/64 sessions"));
		assert_non_null(strstr(text, " accepts 4 connects 0 done 4 failed 0 "));
		free(text);
	}
}

/* tx_seq follows the tickets actually written; a ticket resumes. */
static void
test_tickets_counted_and_resumed(void **state)
{
	static const unsigned int tickets[] = { 0, 1, 3 };

	(void)state;
	for (unsigned int i = 0; i < RTE_DIM(tickets); i++) {
		SSL_CTX *cc = client_ctx("TLS_AES_128_GCM_SHA256", "X25519", 0);
		SSL *cli = peer_new(cc, false, "warpgate.test");
		struct wg_tls_hs_ref ref = new_ref(0, 0);
		struct wg_tls_hs_msg *m;
		SSL_SESSION *sess;

		conf.tickets = tickets[i];
		engine_up(1);
		m = handshake_to_engine(cli, &ref, NULL, 0);
		check_done(m, WG_TLS_AES_128_GCM_SHA256, (int)tickets[i]);
		check_secrets_against(cli, &m->secrets, m->data);
		wg_tls_hs_msg_free(eng, m);
		sess = SSL_get1_session(cli);
		assert_non_null(sess);
		assert_int_equal(SSL_SESSION_is_resumable(sess), tickets[i] > 0);
		/* freed without a shutdown, the session would be marked
		 * not resumable */
		SSL_set_shutdown(cli, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_free(cli);

		if (tickets[i] > 0) {
			/* a second connection resumes with the ticket: the
			 * engine took over from a PSK handshake just the same */
			cli = peer_new(cc, false, "warpgate.test");
			assert_int_equal(SSL_set_session(cli, sess), 1);
			ref = new_ref(1, 0);
			m = handshake_to_engine(cli, &ref, NULL, 0);
			/* OpenSSL sends one ticket after a resumption:
			 * whatever it sent is what tx_seq says */
			check_done(m, WG_TLS_AES_128_GCM_SHA256, -1);
			assert_true(m->secrets.tx_seq >= 1);
			assert_int_equal(SSL_session_reused(cli), 1);
			check_secrets_against(cli, &m->secrets, m->data);
			wg_tls_hs_msg_free(eng, m);
			SSL_free(cli);
		}
		SSL_SESSION_free(sess);
		SSL_CTX_free(cc);
		engine_down();
	}
}

/* Application records sent with the Finished are handed over raw, whole
 * and in order, a partial one included. */
static void
test_early_client_data_in_leftover(void **state)
{
	static uint8_t extra[4096], buf[4096], pt[4096];
	static const char hello[] = "first game message";
	SSL_CTX *cc = client_ctx("TLS_AES_256_GCM_SHA384", "X25519", 0);
	SSL *cli = peer_new(cc, false, "warpgate.test");
	struct wg_tls_hs_ref ref = new_ref(0, 0);
	struct wg_tls_hs_msg *m;
	size_t n, k, ptlen, e1;
	uint8_t type;
	struct keys rx;

	(void)state;
	engine_up(1);
	/* the client's SSL completes at the server's flight; its first two
	 * records are produced now and sent with its Finished */
	assert_int_equal(peer_step(cli), 0);
	n = peer_take(cli, buf, sizeof(buf));
	assert_int_equal(wg_tls_hs_accept(eng, &ref, chain(buf, n, 0)), 0);
	m = wait_reply(0);
	assert_int_equal(m->type, WG_TLS_HS_SEND);
	peer_give_mbuf(cli, m->data);
	wg_tls_hs_msg_free(eng, m);
	assert_int_equal(peer_step(cli), 1);
	n = peer_take(cli, buf, sizeof(buf));           /* CCS + Finished */
	assert_int_equal(SSL_write(cli, hello, sizeof(hello)), (int)sizeof(hello));
	assert_int_equal(SSL_write(cli, "second", 6), 6);
	k = peer_take(cli, extra, sizeof(extra));
	assert_int_equal(count_app_records(extra, k), 2);
	e1 = 5 + ((size_t)extra[3] << 8 | extra[4]);
	memcpy(buf + n, extra, k - 3);                  /* the 2nd cut short */
	assert_int_equal(wg_tls_hs_data(eng, &ref, chain(buf, n + k - 3, 100)), 0);
	m = wait_reply(0);
	check_done(m, WG_TLS_AES_256_GCM_SHA384, 2);
	assert_non_null(m->leftover);
	n = flat(m->leftover, buf, sizeof(buf));
	assert_int_equal(n, k - 3);
	assert_memory_equal(buf, extra, n);
	derive(&m->secrets, false, &rx);
	assert_int_equal(open_rec(&rx, m->secrets.rx_seq, buf, e1, pt, &ptlen, &type), 0);
	assert_int_equal(type, 0x17);
	assert_int_equal(ptlen, sizeof(hello));
	assert_memory_equal(pt, hello, sizeof(hello));
	wg_tls_hs_msg_free(eng, m);
	SSL_free(cli);
	SSL_CTX_free(cc);
}

/* The client's first records in DATA messages of their own, queued right
 * behind its Finished: the handshake ends with the Finished, and they
 * come back as LATE, in order and untouched, for the record layer. */
static void
test_data_after_done_comes_back_late(void **state)
{
	static uint8_t buf[4096], rec[4096], pt[4096];
	static const char *const msgs[] = { "after the finished", "and one more" };
	SSL_CTX *cc = client_ctx("TLS_AES_128_GCM_SHA256", "X25519", 0);
	SSL *cli = peer_new(cc, false, "warpgate.test");
	struct wg_tls_hs_ref ref = new_ref(0, 0);
	struct wg_tls_hs_msg *m;
	struct wg_tls_secrets sec;
	struct keys rx;
	size_t n, ptlen;
	uint8_t type;

	(void)state;
	engine_up(1);
	assert_int_equal(peer_step(cli), 0);
	n = peer_take(cli, buf, sizeof(buf));
	assert_int_equal(wg_tls_hs_accept(eng, &ref, chain(buf, n, 0)), 0);
	m = wait_reply(0);
	assert_int_equal(m->type, WG_TLS_HS_SEND);
	peer_give_mbuf(cli, m->data);
	wg_tls_hs_msg_free(eng, m);
	assert_int_equal(peer_step(cli), 1);
	n = peer_take(cli, buf, sizeof(buf));
	assert_int_equal(wg_tls_hs_data(eng, &ref, chain(buf, n, 0)), 0);
	for (unsigned int i = 0; i < RTE_DIM(msgs); i++) {
		assert_int_equal(SSL_write(cli, msgs[i], (int)strlen(msgs[i])),
				 (int)strlen(msgs[i]));
		n = peer_take(cli, buf, sizeof(buf));
		assert_int_equal(wg_tls_hs_data(eng, &ref, chain(buf, n, 0)), 0);
	}
	m = wait_reply(0);
	check_done(m, WG_TLS_AES_128_GCM_SHA256, 2);
	assert_int_equal(m->data_msgs, 1);
	assert_null(m->leftover);
	sec = m->secrets;
	wg_tls_hs_msg_free(eng, m);
	derive(&sec, false, &rx);
	for (unsigned int i = 0; i < RTE_DIM(msgs); i++) {
		m = wait_reply(0);
		assert_int_equal(m->type, WG_TLS_HS_LATE);
		assert_int_equal(m->ref.gen, ref.gen);
		n = flat(m->data, rec, sizeof(rec));
		assert_int_equal(open_rec(&rx, sec.rx_seq + i, rec, n, pt, &ptlen, &type), 0);
		assert_int_equal(type, 0x17);
		assert_int_equal(ptlen, strlen(msgs[i]));
		assert_memory_equal(pt, msgs[i], ptlen);
		wg_tls_hs_msg_free(eng, m);
	}
	no_reply(0);
	SSL_free(cli);
	SSL_CTX_free(cc);
}

/* A ClientHello in 1-byte DATA messages, then as a chain of 7-byte
 * segments in one ACCEPT: nothing is said until it is whole. */
static void
test_split_client_hello(void **state)
{
	static uint8_t ch[4096];
	SSL_CTX *cc = client_ctx("TLS_AES_128_GCM_SHA256", "P-256", 0);
	struct wg_tls_hs_stats st;

	(void)state;
	engine_up(1);
	for (int round = 0; round < 2; round++) {
		SSL *cli = peer_new(cc, false, "warpgate.test");
		struct wg_tls_hs_ref ref = new_ref(round, 0);
		struct wg_tls_hs_msg *m;
		size_t n;

		assert_int_equal(peer_step(cli), 0);
		n = peer_take(cli, ch, sizeof(ch));
		if (round == 0) {
			uint64_t base;

			wg_tls_hs_stats_get(eng, &st);
			base = st.requests;
			assert_int_equal(wg_tls_hs_accept(eng, &ref, NULL), 0);
			for (size_t i = 0; i < n; i++) {
				assert_int_equal(wg_tls_hs_data(eng, &ref, chain(ch + i, 1, 0)), 0);
				if (i == n / 2) {
					/* half a ClientHello: handled, no reply */
					wait_stat(&st.requests, &st, base + 2 + i);
					no_reply(0);
				}
			}
		} else {
			assert_int_equal(wg_tls_hs_accept(eng, &ref, chain(ch, n, 7)), 0);
		}
		m = wait_reply(0);
		assert_int_equal(m->type, WG_TLS_HS_SEND);
		peer_give_mbuf(cli, m->data);
		wg_tls_hs_msg_free(eng, m);
		assert_int_equal(peer_step(cli), 1);
		n = peer_take(cli, ch, sizeof(ch));
		/* the Finished flight byte by byte as well */
		for (size_t i = 0; i < n; i++)
			assert_int_equal(wg_tls_hs_data(eng, &ref, chain(ch + i, 1, 0)), 0);
		m = wait_reply(0);
		check_done(m, WG_TLS_AES_128_GCM_SHA256, 2);
		check_secrets_against(cli, &m->secrets, m->data);
		wg_tls_hs_msg_free(eng, m);
		SSL_free(cli);
	}
	SSL_CTX_free(cc);
}

/* The client's key share is for a group we do not take first: a
 * HelloRetryRequest, a second ClientHello, then the usual. */
static void
test_hello_retry(void **state)
{
	static uint8_t buf[8192];
	SSL_CTX *cc = client_ctx("TLS_AES_128_GCM_SHA256", "P-384:P-256", 0);
	SSL *cli = peer_new(cc, false, "warpgate.test");
	struct wg_tls_hs_ref ref = new_ref(0, 0);
	struct wg_tls_hs_msg *m;
	size_t n;

	(void)state;
	engine_up(1);
	assert_int_equal(peer_step(cli), 0);
	n = peer_take(cli, buf, sizeof(buf));
	assert_int_equal(wg_tls_hs_accept(eng, &ref, chain(buf, n, 0)), 0);
	m = wait_reply(0);
	assert_int_equal(m->type, WG_TLS_HS_SEND);     /* HelloRetryRequest */
	peer_give_mbuf(cli, m->data);
	wg_tls_hs_msg_free(eng, m);
	assert_int_equal(peer_step(cli), 0);
	n = peer_take(cli, buf, sizeof(buf));           /* ClientHello again */
	assert_true(n > 0);
	assert_int_equal(wg_tls_hs_data(eng, &ref, chain(buf, n, 0)), 0);
	m = wait_reply(0);
	assert_int_equal(m->type, WG_TLS_HS_SEND);
	peer_give_mbuf(cli, m->data);
	wg_tls_hs_msg_free(eng, m);
	assert_int_equal(peer_step(cli), 1);
	assert_int_equal(SSL_get_negotiated_group(cli), NID_X9_62_prime256v1);
	n = peer_take(cli, buf, sizeof(buf));
	assert_int_equal(wg_tls_hs_data(eng, &ref, chain(buf, n, 0)), 0);
	m = wait_reply(0);
	check_done(m, WG_TLS_AES_128_GCM_SHA256, 2);
	check_secrets_against(cli, &m->secrets, m->data);
	wg_tls_hs_msg_free(eng, m);
	SSL_free(cli);
	SSL_CTX_free(cc);
}

static void
expect_fail(struct wg_tls_hs_msg *m, int status, int alert)
{
	static uint8_t buf[4096];
	size_t n;

	assert_int_equal(m->type, WG_TLS_HS_FAIL);
	assert_int_equal(m->status, status);
	assert_int_equal(m->alert, alert);
	if (alert == WG_TLS_HS_NO_ALERT) {
		assert_null(m->data);
	} else if (alert != 0) {
		/* a plaintext fatal alert record */
		n = flat(m->data, buf, sizeof(buf));
		assert_int_equal(n, 7);
		assert_int_equal(buf[0], 21);
		assert_int_equal(buf[3], 0);
		assert_int_equal(buf[4], 2);
		assert_int_equal(buf[5], 2);
		assert_int_equal(buf[6], alert);
	}
	wg_tls_hs_msg_free(eng, m);
}

static void
test_garbage_fails(void **state)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: warpgate.test\r\n\r\n";
	/* a handshake record header whose body is not a ClientHello */
	static const uint8_t bad_hs[] = { 0x16, 0x03, 0x01, 0x00, 0x06,
					  0x02, 0x00, 0x00, 0x02, 0x03, 0x03 };
	struct wg_tls_hs_ref ref;
	struct wg_tls_hs_msg *m;
	struct wg_tls_hs_stats st;

	(void)state;
	engine_up(1);
	ref = new_ref(0, 0);
	assert_int_equal(wg_tls_hs_accept(eng, &ref, chain((const uint8_t *)http,
							     sizeof(http) - 1, 0)), 0);
	m = wait_reply(0);
	assert_int_equal(m->type, WG_TLS_HS_FAIL);
	assert_int_equal(m->status, -EPROTO);
	wg_tls_hs_msg_free(eng, m);

	ref = new_ref(1, 0);
	assert_int_equal(wg_tls_hs_accept(eng, &ref, chain(bad_hs, sizeof(bad_hs), 0)), 0);
	expect_fail(wait_reply(0), -EPROTO, SSL3_AD_UNEXPECTED_MESSAGE);
	wg_tls_hs_stats_get(eng, &st);
	assert_int_equal(st.failed, 2);
	assert_int_equal(st.active, 0);
}

static void
test_tls12_client_refused(void **state)
{
	SSL_CTX *cc = client_ctx("TLS_AES_128_GCM_SHA256", "X25519", TLS1_2_VERSION);
	SSL *cli = peer_new(cc, false, "warpgate.test");
	struct wg_tls_hs_ref ref = new_ref(0, 0);
	uint8_t buf[4096];
	size_t n;

	(void)state;
	engine_up(1);
	assert_int_equal(peer_step(cli), 0);
	n = peer_take(cli, buf, sizeof(buf));
	assert_int_equal(wg_tls_hs_accept(eng, &ref, chain(buf, n, 0)), 0);
	expect_fail(wait_reply(0), -EPROTO, TLS1_AD_PROTOCOL_VERSION);
	SSL_free(cli);
	SSL_CTX_free(cc);
}

/* allow_tls12: OpenSSL completes a 1.2 handshake, takeover refuses it and
 * closes with close_notify. */
static void
test_tls12_allowed_not_taken_over(void **state)
{
	/* a 1.2 client must list the curve of our ECDSA certificate */
	SSL_CTX *cc = client_ctx("TLS_AES_128_GCM_SHA256", "X25519:P-256", TLS1_2_VERSION);
	SSL *cli = peer_new(cc, false, "warpgate.test");
	struct wg_tls_hs_ref ref = new_ref(0, 0);
	struct wg_tls_hs_stats st;
	struct wg_tls_hs_msg *m;
	uint8_t buf[4096];

	(void)state;
	conf.allow_tls12 = true;
	engine_up(1);
	m = handshake_to_engine(cli, &ref, NULL, 0);
	assert_int_equal(m->type, WG_TLS_HS_FAIL);
	assert_int_equal(m->status, -EPROTONOSUPPORT);
	assert_int_equal(m->alert, SSL3_AD_CLOSE_NOTIFY);
	peer_give_mbuf(cli, m->data);
	wg_tls_hs_msg_free(eng, m);
	/* the client saw a complete 1.2 handshake, then the close */
	assert_int_equal(peer_step(cli), 1);
	assert_int_equal(SSL_read(cli, buf, sizeof(buf)), 0);
	assert_int_equal(SSL_get_error(cli, 0), SSL_ERROR_ZERO_RETURN);
	assert_int_equal(SSL_version(cli), TLS1_2_VERSION);
	wg_tls_hs_stats_get(eng, &st);
	assert_int_equal(st.tls12_refused, 1);
	assert_int_equal(st.done, 0);
	SSL_free(cli);
	SSL_CTX_free(cc);
}

static void
test_no_common_suite_or_group(void **state)
{
	static const char *const cfg[][2] = {
		{ "TLS_AES_256_GCM_SHA384", "X25519" },  /* engine: AES-128 only */
		{ "TLS_AES_128_GCM_SHA256", "P-384" },   /* engine: X25519:P-256 */
	};

	(void)state;
	strcpy(conf.ciphersuites, "TLS_AES_128_GCM_SHA256");
	engine_up(1);
	for (unsigned int i = 0; i < RTE_DIM(cfg); i++) {
		SSL_CTX *cc = client_ctx(cfg[i][0], cfg[i][1], 0);
		SSL *cli = peer_new(cc, false, "warpgate.test");
		struct wg_tls_hs_ref ref = new_ref(i, 0);
		struct wg_tls_hs_msg *m;
		uint8_t buf[4096];
		size_t n;

		assert_int_equal(peer_step(cli), 0);
		n = peer_take(cli, buf, sizeof(buf));
		assert_int_equal(wg_tls_hs_accept(eng, &ref, chain(buf, n, 0)), 0);
		m = wait_reply(0);
		expect_fail(m, -EPROTO, SSL3_AD_HANDSHAKE_FAILURE);
		SSL_free(cli);
		SSL_CTX_free(cc);
	}
}

static void
test_timeout(void **state)
{
	SSL_CTX *cc = client_ctx("TLS_AES_128_GCM_SHA256", "X25519", 0);
	SSL *cli = peer_new(cc, false, "warpgate.test");
	struct wg_tls_hs_ref ref = new_ref(0, 0);
	struct wg_tls_hs_stats st;
	struct wg_tls_hs_msg *m;
	uint8_t buf[4096];
	size_t n;

	(void)state;
	conf.handshake_timeout_ms = 100;
	engine_up(1);
	assert_int_equal(peer_step(cli), 0);
	n = peer_take(cli, buf, sizeof(buf));
	assert_int_equal(wg_tls_hs_accept(eng, &ref, chain(buf, n, 0)), 0);
	m = wait_reply(0);
	assert_int_equal(m->type, WG_TLS_HS_SEND);
	wg_tls_hs_msg_free(eng, m);
	/* the client never answers */
	m = wait_reply(0);
	assert_true(m->ref.conn == ref.conn && m->ref.gen == ref.gen);
	expect_fail(m, -ETIMEDOUT, WG_TLS_HS_NO_ALERT);
	wg_tls_hs_stats_get(eng, &st);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.active, 0);
	SSL_free(cli);
	SSL_CTX_free(cc);
}

/* ABORT frees the handshake; late bytes for it are dropped; the same conn
 * with a new generation is a new handshake. */
static void
test_abort_mid_handshake(void **state)
{
	SSL_CTX *cc = client_ctx("TLS_AES_128_GCM_SHA256", "X25519", 0);
	SSL *cli = peer_new(cc, false, "warpgate.test");
	struct wg_tls_hs_ref ref = new_ref(3, 0), ref2;
	struct wg_tls_hs_stats st;
	struct wg_tls_hs_msg *m;
	uint8_t buf[8192];
	size_t n;

	(void)state;
	engine_up(1);
	assert_int_equal(peer_step(cli), 0);
	n = peer_take(cli, buf, sizeof(buf));
	assert_int_equal(wg_tls_hs_accept(eng, &ref, chain(buf, n, 0)), 0);
	m = wait_reply(0);
	assert_int_equal(m->type, WG_TLS_HS_SEND);
	peer_give_mbuf(cli, m->data);
	wg_tls_hs_msg_free(eng, m);
	assert_int_equal(peer_step(cli), 1);
	n = peer_take(cli, buf, sizeof(buf));
	wg_tls_hs_stats_get(eng, &st);
	assert_int_equal(st.active, 1);
	assert_int_equal(wg_tls_hs_abort(eng, &ref), 0);
	assert_int_equal(wg_tls_hs_data(eng, &ref, chain(buf, n, 0)), 0);
	/* the bytes come back untouched as LATE (a worker whose conn moved
	 * on drops them by gen); the handshake is gone */
	m = wait_reply(0);
	assert_int_equal(m->type, WG_TLS_HS_LATE);
	assert_true(m->ref.conn == ref.conn && m->ref.gen == ref.gen);
	assert_int_equal(flat(m->data, buf + 4096, sizeof(buf) - 4096), n);
	assert_memory_equal(buf + 4096, buf, n);
	wg_tls_hs_msg_free(eng, m);
	wg_tls_hs_stats_get(eng, &st);
	assert_int_equal(st.stale, 1);
	assert_int_equal(st.aborted, 1);
	assert_int_equal(st.active, 0);
	no_reply(0);
	SSL_free(cli);

	/* same conn pointer, next generation */
	ref2 = ref;
	ref2.gen++;
	cli = peer_new(cc, false, "warpgate.test");
	m = handshake_to_engine(cli, &ref2, NULL, 0);
	assert_int_equal(m->ref.gen, ref2.gen);
	check_done(m, WG_TLS_AES_128_GCM_SHA256, 2);
	wg_tls_hs_msg_free(eng, m);
	SSL_free(cli);
	SSL_CTX_free(cc);
}

static void
test_max_sessions(void **state)
{
	struct wg_tls_hs_ref r[3];
	struct wg_tls_hs_stats st;
	struct wg_tls_hs_msg *m;

	(void)state;
	conf.max_sessions = 2;
	engine_up(1);
	for (unsigned int i = 0; i < 3; i++) {
		r[i] = new_ref(i, 0);
		assert_int_equal(wg_tls_hs_accept(eng, &r[i], NULL), 0);
	}
	m = wait_reply(0);
	assert_true(m->ref.conn == r[2].conn);
	expect_fail(m, -EBUSY, WG_TLS_HS_NO_ALERT);
	wg_tls_hs_stats_get(eng, &st);
	assert_int_equal(st.refused, 1);
	assert_int_equal(st.active, 2);
	assert_int_equal(wg_tls_hs_abort(eng, &r[0]), 0);
	assert_int_equal(wg_tls_hs_abort(eng, &r[1]), 0);
	wait_no_session(&st);
	assert_int_equal(st.aborted, 2);
}

/* an OpenSSL server that wants our second ALPN choice */
static int
pick_wg1(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
	 unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	for (unsigned int i = 0; i + 1 < inlen; i += 1u + in[i])
		if (in[i] == 4 && memcmp(&in[i + 1], "wg/1", 4) == 0) {
			*out = &in[i + 1];
			*outlen = 4;
			return SSL_TLSEXT_ERR_OK;
		}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* The engine as a client against an OpenSSL server: takeover at its
 * Finished; the server's tickets come later under the server's secret and
 * are the record layer's (counted here as records it opens and skips). */
static void
test_engine_client(void **state)
{
	static uint8_t buf[MAXBUF], pt[MAXBUF];
	static const char *const names[] = { "warpgate.test", "198.18.7.2" };
	static const char ping[] = "client record layer";
	static const char pong[] = "server reply";
	SSL_CTX *sc = SSL_CTX_new(TLS_server_method());

	(void)state;
	assert_int_equal(SSL_CTX_use_certificate_chain_file(sc, path_chain), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(sc, path_key, SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_set_min_proto_version(sc, TLS1_3_VERSION), 1);
	assert_int_equal(SSL_CTX_set_ciphersuites(sc, "TLS_AES_256_GCM_SHA384"), 1);
	SSL_CTX_set_alpn_select_cb(sc, pick_wg1, NULL);
	conf.client_verify = true;
	strcpy(conf.client_sni, "warpgate.test");
	engine_up(1);
	for (unsigned int i = 0; i < RTE_DIM(names); i++) {
		SSL *srv = peer_new(sc, true, NULL);
		struct wg_tls_hs_ref ref = new_ref(i, 0);
		struct wg_tls_hs_msg *m;
		struct wg_tls_secrets sec;
		struct keys tx, rx;
		size_t n, off, ptlen;
		uint8_t type;
		unsigned int recs = 0;

		assert_int_equal(wg_tls_hs_connect(eng, &ref, i == 0 ? NULL : names[i]), 0);
		m = wait_reply(0);
		assert_int_equal(m->type, WG_TLS_HS_SEND);
		peer_give_mbuf(srv, m->data);
		wg_tls_hs_msg_free(eng, m);
		assert_int_equal(peer_step(srv), 0);
		if (i == 0)
			assert_string_equal(SSL_get_servername(srv, TLSEXT_NAMETYPE_host_name),
					    "warpgate.test");
		else    /* no SNI for an IP address */
			assert_null(SSL_get_servername(srv, TLSEXT_NAMETYPE_host_name));
		n = peer_take(srv, buf, sizeof(buf));
		assert_int_equal(wg_tls_hs_data(eng, &ref, chain(buf, n, 0)), 0);
		m = wait_reply(0);
		assert_int_equal(m->type, WG_TLS_HS_DONE);
		assert_int_equal(m->secrets.is_server, 0);
		assert_int_equal(m->secrets.suite, WG_TLS_AES_256_GCM_SHA384);
		assert_int_equal(m->secrets.rx_seq, 0);
		assert_int_equal(m->secrets.tx_seq, 0);
		assert_string_equal(m->sni, i == 0 ? "warpgate.test" : "");
		assert_string_equal(m->alpn, "wg/1");
		assert_null(m->leftover);
		sec = m->secrets;
		peer_give_mbuf(srv, m->data);           /* client Finished */
		wg_tls_hs_msg_free(eng, m);
		assert_int_equal(peer_step(srv), 1);

		derive(&sec, true, &tx);
		derive(&sec, false, &rx);
		n = seal(&tx, sec.tx_seq, 0x17, ping, sizeof(ping), buf);
		peer_give(srv, buf, n);
		assert_int_equal(SSL_read(srv, pt, sizeof(pt)), (int)sizeof(ping));
		assert_memory_equal(pt, ping, sizeof(ping));
		/* the server's output: its tickets, then its reply */
		assert_int_equal(SSL_write(srv, pong, sizeof(pong)), (int)sizeof(pong));
		n = peer_take(srv, buf, sizeof(buf));
		for (off = 0; off < n; recs++) {
			size_t len = 5 + ((size_t)buf[off + 3] << 8 | buf[off + 4]);

			assert_int_equal(open_rec(&rx, sec.rx_seq + recs, buf + off, len, pt,
						  &ptlen, &type), 0);
			off += len;
			if (off < n) {
				assert_int_equal(type, 22);
				assert_int_equal(pt[0], SSL3_MT_NEWSESSION_TICKET);
			} else {
				assert_int_equal(type, 0x17);
				assert_int_equal(ptlen, sizeof(pong));
				assert_memory_equal(pt, pong, sizeof(pong));
			}
		}
		assert_int_equal(recs, 3);              /* OpenSSL's 2 tickets + reply */
		SSL_free(srv);
	}
	SSL_CTX_free(sc);
}

/* Client verification: a name the certificate does not carry fails with
 * an alert to the server. */
static void
test_engine_client_verify_fails(void **state)
{
	SSL_CTX *sc = SSL_CTX_new(TLS_server_method());
	SSL *srv;
	struct wg_tls_hs_ref ref = new_ref(0, 0);
	struct wg_tls_hs_msg *m;
	uint8_t buf[8192];
	size_t n;

	(void)state;
	assert_int_equal(SSL_CTX_use_certificate_chain_file(sc, path_chain), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(sc, path_key, SSL_FILETYPE_PEM), 1);
	conf.client_verify = true;
	engine_up(1);
	srv = peer_new(sc, true, NULL);
	assert_int_equal(wg_tls_hs_connect(eng, &ref, "evil.test"), 0);
	m = wait_reply(0);
	assert_int_equal(m->type, WG_TLS_HS_SEND);
	peer_give_mbuf(srv, m->data);
	wg_tls_hs_msg_free(eng, m);
	assert_int_equal(peer_step(srv), 0);
	n = peer_take(srv, buf, sizeof(buf));
	assert_int_equal(wg_tls_hs_data(eng, &ref, chain(buf, n, 0)), 0);
	m = wait_reply(0);
	assert_int_equal(m->type, WG_TLS_HS_FAIL);
	assert_int_equal(m->status, -EPROTO);
	assert_int_not_equal(m->alert, WG_TLS_HS_NO_ALERT);
	assert_non_null(m->data);
	/* the server learns why (the alert is under the handshake key) */
	peer_give_mbuf(srv, m->data);
	wg_tls_hs_msg_free(eng, m);
	assert_int_equal(peer_step(srv), -1);
	SSL_free(srv);
	SSL_CTX_free(sc);
}

static void
test_bad_conf(void **state)
{
	static const struct {
		const char *what;
		int err;
	} cases[] = {
		{ "chacha", EINVAL }, { "nocert", ENOENT }, { "mismatch", EINVAL },
		{ "alpn", EINVAL }, { "verify_no_ca", EINVAL }, { "ring", EINVAL },
		{ "group", EINVAL },
	};

	(void)state;
	for (unsigned int i = 0; i < RTE_DIM(cases); i++) {
		struct wg_tls_hs *e;

		conf_init();
		if (strcmp(cases[i].what, "chacha") == 0)
			strcpy(conf.ciphersuites, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256");
		else if (strcmp(cases[i].what, "nocert") == 0)
			strcat(conf.cert, ".missing");
		else if (strcmp(cases[i].what, "mismatch") == 0)
			snprintf(conf.key, sizeof(conf.key), "%s", path_rsa_key);
		else if (strcmp(cases[i].what, "alpn") == 0)
			strcpy(conf.alpn, "http/1.1,,h2");
		else if (strcmp(cases[i].what, "verify_no_ca") == 0) {
			conf.client_verify = true;
			conf.ca[0] = '\0';
		} else if (strcmp(cases[i].what, "ring") == 0)
			conf.ring_size = 1000;
		else
			strcpy(conf.groups, "X25519:nonsense");
		e = wg_tls_hs_create("hsbad", &conf, 1, pool, SOCKET_ID_ANY);
		if (e != NULL)
			fail_msg("%s: created", cases[i].what);
		assert_int_equal(rte_errno, cases[i].err);
	}
	/* a client-only engine (no certificate) refuses to accept */
	conf_init();
	conf.cert[0] = conf.key[0] = '\0';
	engine_up(1);
	{
		struct wg_tls_hs_ref ref = new_ref(0, 0);

		assert_int_equal(wg_tls_hs_accept(eng, &ref, NULL), 0);
		expect_fail(wait_reply(0), -EINVAL, WG_TLS_HS_NO_ALERT);
	}
}

/* Replies for a worker whose ring is full wait, in order, and all arrive. */
static void
test_reply_ring_full(void **state)
{
	static uint8_t buf[4096];
	enum { N = 12 };
	SSL_CTX *cc = client_ctx("TLS_AES_128_GCM_SHA256", "X25519", 0);
	SSL *cli[N];
	struct wg_tls_hs_ref ref[N];
	struct wg_tls_hs_stats st;

	(void)state;
	conf.ring_size = 4;                     /* 3 usable slots */
	engine_up(1);
	for (unsigned int i = 0; i < N; i++) {
		struct rte_mbuf *m;
		size_t n;
		int rc;

		cli[i] = peer_new(cc, false, "warpgate.test");
		ref[i] = new_ref(i, 0);
		assert_int_equal(peer_step(cli[i]), 0);
		n = peer_take(cli[i], buf, sizeof(buf));
		m = chain(buf, n, 0);
		/* the request ring is small too: -ENOSPC leaves m with us */
		while ((rc = wg_tls_hs_accept(eng, &ref[i], m)) == -ENOSPC)
			usleep(100);
		assert_int_equal(rc, 0);
	}
	wait_stat(&st.accepts, &st, N);
	for (unsigned int i = 0; i < N; i++) {
		struct wg_tls_hs_msg *m = wait_reply(0);

		assert_int_equal(m->type, WG_TLS_HS_SEND);
		assert_true(m->ref.conn == ref[i].conn);        /* in order */
		wg_tls_hs_msg_free(eng, m);
		SSL_free(cli[i]);
	}
	wg_tls_hs_stats_get(eng, &st);
	assert_true(st.deferred > 0);
	for (unsigned int i = 0; i < N; i++) {
		int rc;

		while ((rc = wg_tls_hs_abort(eng, &ref[i])) == -ENOSPC)
			usleep(100);
		assert_int_equal(rc, 0);
	}
	wait_stat(&st.aborted, &st, N);
	SSL_CTX_free(cc);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(int argc, char **argv)
{
	char prefix[32], cmd[512];
	const char *eal[] = { "test_tls_handshake", "--no-huge", "-m", "128", "--no-pci",
			      "--no-shconf", "--no-telemetry", "--log-level=error", "-l", "0",
			      prefix };
	const struct CMUnitTest tests[] = {
		T(test_server_suites_and_groups),
		T(test_tickets_counted_and_resumed),
		T(test_early_client_data_in_leftover),
		T(test_data_after_done_comes_back_late),
		T(test_split_client_hello),
		T(test_hello_retry),
		T(test_garbage_fails),
		T(test_tls12_client_refused),
		T(test_tls12_allowed_not_taken_over),
		T(test_no_common_suite_or_group),
		T(test_timeout),
		T(test_abort_mid_handshake),
		T(test_max_sessions),
		T(test_engine_client),
		T(test_engine_client_verify_fails),
		T(test_bad_conf),
		T(test_reply_ring_full),
	};
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s tools/gen_test_certs.sh\n", argv[0]);
		return 2;
	}
	snprintf(certdir, sizeof(certdir), "/tmp/wg_tls_hs_%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "'%s' %s ec >/dev/null && '%s' %s/rsa rsa >/dev/null",
		 argv[1], certdir, argv[1], certdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "%s failed\n", cmd);
		return 1;
	}
	snprintf(path_chain, sizeof(path_chain), "%s/chain.crt", certdir);
	snprintf(path_key, sizeof(path_key), "%s/server.key", certdir);
	snprintf(path_ca, sizeof(path_ca), "%s/ca.crt", certdir);
	snprintf(path_rsa_key, sizeof(path_rsa_key), "%s/rsa/server.key", certdir);

	snprintf(prefix, sizeof(prefix), "--file-prefix=tlshs%d", (int)getpid());
	wg_test_eal_cleanup_at_exit();
	if (rte_eal_init((int)RTE_DIM(eal), (char **)(uintptr_t)eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("tlshs_pkt", POOL_N, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", certdir);
	return rc;
}
