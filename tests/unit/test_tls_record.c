/* SPDX-License-Identifier: BSD-3-Clause
 * TLS 1.3 record layer against real peers: the RFC 8448 records byte for
 * byte, and OpenSSL 3 in memory (a real client/server pair handshakes over
 * memory BIOs, the keylog callback hands over the traffic secrets, then one
 * side is replaced by our layer). Crafted records (independent AES-GCM via
 * EVP) cover what OpenSSL never sends. Every test ends with both mbuf pools
 * empty.
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

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls_keysched.h"
#include "tls_record.h"
#include "../eal_runtime.h"

#define NAPP     4
#define BUFSZ    (1 << 18)

static struct rte_mempool *small_pool, *big_pool;
static EVP_PKEY *cert_key;
static X509 *cert;

/* what the layer told one session's app */
struct app {
	struct wg_tls_sess *s;
	uint8_t rx[BUFSZ];
	size_t rx_len;
	unsigned int n_data, eofs, closes, sends;
	int reason;
	uint8_t tx[BUFSZ];             /* bytes handed to on_send, in order */
	size_t tx_len;
	bool close_in_data;            /* wg_tls_close from on_data */
	bool reply_in_data;            /* echo from on_data */
	bool release_in_close;
};

static struct wg_tls_lcore *lc;
static struct wg_tls_sess sess[NAPP];
static struct app apps[NAPP];

static void
on_data(void *arg, uint8_t *p, uint32_t len)
{
	struct app *a = arg;

	assert_true(a->rx_len + len <= sizeof(a->rx));
	memcpy(a->rx + a->rx_len, p, len);
	a->rx_len += len;
	a->n_data++;
	assert_int_equal(a->closes, 0);
	if (a->reply_in_data)
		assert_int_equal(wg_tls_write(lc, a->s, p, len), (int)len);
	if (a->close_in_data)
		assert_int_equal(wg_tls_close(lc, a->s), 0);
}

static void
on_eof(void *arg)
{
	struct app *a = arg;

	a->eofs++;
}

static void
on_send(void *arg, struct rte_mbuf *m)
{
	struct app *a = arg;
	struct rte_mbuf *seg;
	uint32_t total = 0;
	unsigned int segs = 0;

	assert_int_equal(a->closes, 0);
	for (seg = m; seg != NULL; seg = seg->next) {
		assert_true(a->tx_len + seg->data_len <= sizeof(a->tx));
		memcpy(a->tx + a->tx_len, rte_pktmbuf_mtod(seg, void *), seg->data_len);
		a->tx_len += seg->data_len;
		total += seg->data_len;
		segs++;
	}
	assert_int_equal(total, m->pkt_len);
	assert_int_equal(segs, m->nb_segs);
	a->sends++;
	rte_pktmbuf_free(m);
}

static void
on_close(void *arg, int reason)
{
	struct app *a = arg;

	a->closes++;
	a->reason = reason;
	if (a->release_in_close)
		wg_tls_sess_release(lc, a->s);
}

static const struct wg_tls_ops ops = {
	.on_data = on_data, .on_eof = on_eof, .on_send = on_send, .on_close = on_close,
};

static void
lc_new(const struct wg_tls_rec_conf *conf)
{
	struct wg_tls_rec_conf c;
	unsigned int i;

	if (conf == NULL) {
		wg_tls_rec_conf_defaults(&c);
		conf = &c;
	}
	lc = wg_tls_lcore_create(conf, &ops, small_pool, big_pool, SOCKET_ID_ANY);
	assert_non_null(lc);
	for (i = 0; i < NAPP; i++) {
		memset(&apps[i], 0, offsetof(struct app, rx));
		apps[i].rx_len = apps[i].tx_len = 0;
		apps[i].n_data = apps[i].eofs = apps[i].closes = apps[i].sends = 0;
		apps[i].reason = 1;
		apps[i].close_in_data = apps[i].reply_in_data = apps[i].release_in_close = false;
		apps[i].s = &sess[i];
		memset(&sess[i], 0, sizeof(sess[i]));
	}
}

static int
teardown(void **state)
{
	unsigned int i;

	(void)state;
	if (lc != NULL) {
		for (i = 0; i < NAPP; i++)
			wg_tls_sess_release(lc, &sess[i]);
		wg_tls_lcore_free(lc);
		lc = NULL;
	}
	/* every buffer came back */
	assert_int_equal(rte_mempool_in_use_count(small_pool), 0);
	assert_int_equal(rte_mempool_in_use_count(big_pool), 0);
	return 0;
}

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
	return n;
}

/* A chain of bytes cut at the given offsets (ascending, inside (0, len)). */
static struct rte_mbuf *
chain(const uint8_t *p, size_t len, const size_t *cuts, unsigned int ncuts)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	size_t off = 0;
	unsigned int i;

	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len, n;

		while (off < end) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(small_pool);

			assert_non_null(m);
			n = end - off;
			if (n > rte_pktmbuf_tailroom(m))
				n = rte_pktmbuf_tailroom(m);
			memcpy(rte_pktmbuf_append(m, (uint16_t)n), p + off, n);
			off += n;
			if (head == NULL) {
				head = m;
			} else {
				tail->next = m;
				head->nb_segs++;
				head->pkt_len += m->data_len;
			}
			tail = m;
		}
	}
	if (head == NULL) {
		head = rte_pktmbuf_alloc(small_pool);
		assert_non_null(head);
	}
	return head;
}

static void
feed(struct wg_tls_sess *s, const uint8_t *p, size_t len)
{
	wg_tls_rx_feed(lc, s, chain(p, len, NULL, 0));
}

/* ---- independent AES-GCM (EVP) for crafted records and checking ours ---- */

static const EVP_CIPHER *
suite_cipher(uint16_t suite)
{
	return suite == WG_TLS_AES_128_GCM_SHA256 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
}

static void
evp_nonce(uint8_t nonce[12], const uint8_t iv[12], uint64_t seq)
{
	int i;

	memcpy(nonce, iv, 12);
	for (i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
}

/* Seal content (type, then pad zeros) under secret at seq; returns the
 * record length. hdr_len overrides the header's length field when != 0. */
static size_t
evp_seal(uint16_t suite, const uint8_t *secret, uint64_t seq, uint8_t type,
	 const uint8_t *content, size_t clen, size_t pad, uint8_t *out)
{
	uint8_t key[32], iv[12], nonce[12];
	size_t inner = clen + 1 + pad, total = inner + 16;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n;

	assert_int_equal(wg_tls_traffic_key_iv(suite, secret, wg_tls_suite_hash_len(suite), key,
					       iv), 0);
	evp_nonce(nonce, iv, seq);
	out[0] = 23;
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)(total >> 8);
	out[4] = (uint8_t)total;
	if (clen > 0)
		memcpy(out + 5, content, clen);
	out[5 + clen] = type;
	memset(out + 6 + clen, 0, pad);
	assert_int_equal(EVP_EncryptInit_ex(c, suite_cipher(suite), NULL, key, nonce), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &n, out, 5), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out + 5, &n, out + 5, (int)inner), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, out + 5 + n, &n), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + 5 + inner), 1);
	EVP_CIPHER_CTX_free(c);
	return 5 + total;
}

/* Open one record of ours at rec; returns its length and the inner type,
 * content (padding stripped) in content/clen. Fails the test when the tag
 * is wrong. */
static size_t
evp_open(uint16_t suite, const uint8_t *secret, uint64_t seq, const uint8_t *rec, size_t avail,
	 uint8_t *type, uint8_t *content, size_t *clen)
{
	uint8_t key[32], iv[12], nonce[12], tag[16];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	size_t len, inner;
	int n;

	assert_true(avail >= 5);
	assert_int_equal(rec[0], 23);
	assert_int_equal(rec[1], 3);
	assert_int_equal(rec[2], 3);
	len = (size_t)rec[3] << 8 | rec[4];
	assert_true(len >= 17 && 5 + len <= avail);
	inner = len - 16;
	assert_int_equal(wg_tls_traffic_key_iv(suite, secret, wg_tls_suite_hash_len(suite), key,
					       iv), 0);
	evp_nonce(nonce, iv, seq);
	memcpy(tag, rec + 5 + inner, 16);
	assert_int_equal(EVP_DecryptInit_ex(c, suite_cipher(suite), NULL, key, nonce), 1);
	assert_int_equal(EVP_DecryptUpdate(c, NULL, &n, rec, 5), 1);
	assert_int_equal(EVP_DecryptUpdate(c, content, &n, rec + 5, (int)inner), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag), 1);
	assert_int_equal(EVP_DecryptFinal_ex(c, content + n, &n), 1);
	EVP_CIPHER_CTX_free(c);
	while (inner > 0 && content[inner - 1] == 0)
		inner--;
	assert_true(inner > 0);
	*type = content[inner - 1];
	*clen = inner - 1;
	return 5 + len;
}

/* ---- RFC 8448 section 3 records ----------------------------------------- */

static const char *C_AP = "9e 40 64 6c e7 9a 7f 9d c0 5a f8 88 9b ce 65 52 87 5a fa 0b 06 df "
			  "00 87 f7 92 eb b7 c1 75 04 a5";
static const char *S_AP = "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32 82 04 b4 f4 4b fb "
			  "6b 3a 4b 4f 1f 3f cb 63 16 43";
static const char *C_HS = "b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 "
			  "2e 96 00 74 6a 0e 27 a5 5a 21";
/* {server} NewSessionTicket, server application key, seq 0 */
static const char *R_NST =
	"17 03 03 00 de 3a 6b 8f 90 41 4a 97 d6 95 9c 34 87 68 0d e5 13 4a 2b 24 0e 6c ff ac 11 6e "
	"95 d4 1d 6a f8 f6 b5 80 dc f3 d1 1d 63 c7 58 db 28 9a 01 59 40 25 2f 55 71 3e 06 1d c1 3e "
	"07 88 91 a3 8e fb cf 57 53 ad 8e f1 70 ad 3c 73 53 d1 6d 9d a7 73 b9 ca 7f 2b 9f a1 b6 c0 "
	"d4 a3 d0 3f 75 e0 9c 30 ba 1e 62 97 2a c4 6f 75 f7 b9 81 be 63 43 9b 29 99 ce 13 06 46 15 "
	"13 98 91 d5 e4 c5 b4 06 f1 6e 3f c1 81 a7 7c a4 75 84 00 25 db 2f 0a 77 f8 1b 5a b0 5b 94 "
	"c0 13 46 75 5f 69 23 2c 86 51 9d 86 cb ee ac 87 aa c3 47 d1 43 f9 60 5d 64 f6 50 db 4d 02 "
	"3e 70 e9 52 ca 49 fe 51 37 12 1c 74 bc 26 97 68 7e 24 87 46 d6 df 35 30 05 f3 bc e1 86 96 "
	"12 9c 81 53 55 6b 3b 6c 67 79 b3 7b f1 59 85 68 4f";
/* {client} application data 00..31, client application key, seq 0 */
static const char *R_C_APP =
	"17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea 42 f9 14 aa 66 bc "
	"ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b 62 97 4e 1f 5a 62 92 a2 97 70 14 bd "
	"1e 3d ea e6 3a ee bb 21 69 49 15 e4";
/* {server} application data 00..31, seq 1 */
static const char *R_S_APP =
	"17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc 32 25 d0 5f 82 aa "
	"1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8 fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 "
	"ab f3 32 54 0d d0 32 e1 67 c2 95 5d";
/* close_notify: client seq 1, server seq 2 */
static const char *R_C_ALERT =
	"17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3";
static const char *R_S_ALERT =
	"17 03 03 00 13 b5 8f d6 71 66 eb f5 99 d2 47 20 cf be 7e fa 7a 88 64 a9";
/* {client} Finished, client handshake key, seq 0 */
static const char *R_C_FIN =
	"17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0 51 7f e9 b9 3c 7a "
	"4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c ae ac ab 68 67 d7 26 c4 05 46";

static void
rfc_secrets(struct wg_tls_secrets *sec, bool server, const char *rx, const char *tx,
	    uint64_t rx_seq, uint64_t tx_seq)
{
	memset(sec, 0, sizeof(*sec));
	sec->suite = WG_TLS_AES_128_GCM_SHA256;
	sec->secret_len = 32;
	sec->is_server = server;
	sec->rx_seq = rx_seq;
	sec->tx_seq = tx_seq;
	assert_int_equal(unhex(rx, sec->rx_secret, 48), 32);
	assert_int_equal(unhex(tx, sec->tx_secret, 48), 32);
}

/* We are the RFC's client: its server's records open, ours match byte for
 * byte. */
static void
test_rfc8448_client(void **state)
{
	struct wg_tls_secrets sec;
	uint8_t rec[300], payload[50];
	size_t n, i;

	(void)state;
	lc_new(NULL);
	for (i = 0; i < 50; i++)
		payload[i] = (uint8_t)i;
	rfc_secrets(&sec, false, S_AP, C_AP, 0, 0);
	assert_int_equal(wg_tls_sess_init(lc, &sess[0], &sec, &apps[0]), 0);

	/* NewSessionTicket (227 bytes) is dropped, then the server's data */
	n = unhex(R_NST, rec, sizeof(rec));
	assert_int_equal(n, 227);
	feed(&sess[0], rec, n);
	n = unhex(R_S_APP, rec, sizeof(rec));
	assert_int_equal(n, 72);
	feed(&sess[0], rec, n);
	wg_tls_flush(lc);
	assert_int_equal(wg_tls_lcore_stats(lc)->tickets_ignored, 1);
	assert_int_equal(apps[0].n_data, 1);
	assert_int_equal(apps[0].rx_len, 50);
	assert_memory_equal(apps[0].rx, payload, 50);
	assert_int_equal(sess[0].rx_seq, 2);

	/* our application data and close_notify are the RFC's records */
	assert_int_equal(wg_tls_write(lc, &sess[0], payload, 50), 50);
	wg_tls_flush(lc);
	n = unhex(R_C_APP, rec, sizeof(rec));
	assert_int_equal(apps[0].tx_len, n);
	assert_memory_equal(apps[0].tx, rec, n);
	assert_int_equal(wg_tls_close(lc, &sess[0]), 0);
	assert_int_equal(wg_tls_close(lc, &sess[0]), -EPIPE);
	assert_int_equal(wg_tls_write(lc, &sess[0], payload, 1), -EPIPE);
	wg_tls_flush(lc);
	n = unhex(R_C_ALERT, rec, sizeof(rec));
	assert_int_equal(apps[0].tx_len, 72 + n);
	assert_memory_equal(apps[0].tx + 72, rec, n);
	assert_int_equal(apps[0].closes, 1);
	assert_int_equal(apps[0].reason, 0);
	assert_int_equal(wg_tls_lcore_stats(lc)->close_notify_tx, 1);

	/* counters by name, and the session dump */
	{
		const char *names[32];
		uint64_t values[32];
		unsigned int k, n_st, found = 0;
		char *dump = NULL;
		size_t dump_len = 0;
		FILE *f;

		n_st = wg_tls_stats_list(wg_tls_lcore_stats(lc), names, values, 32);
		assert_int_equal(n_st, 18);
		for (k = 0; k < n_st; k++) {
			if (strcmp(names[k], "tickets_ignored") == 0 ||
			    strcmp(names[k], "close_notify_tx") == 0) {
				assert_int_equal(values[k], 1);
				found++;
			}
			if (strcmp(names[k], "rx_records") == 0) {
				assert_int_equal(values[k], 2);
				found++;
			}
		}
		assert_int_equal(found, 3);
		f = open_memstream(&dump, &dump_len);
		assert_non_null(f);
		wg_tls_sess_dump(f, &sess[0]);
		fclose(f);
		assert_non_null(strstr(dump, "suite 0x1301 client"));
		assert_non_null(strstr(dump, "rx seq 2"));
		assert_non_null(strstr(dump, "alert_sent 0"));
		free(dump);
	}
}

/* We are the RFC's server (one ticket already sent by the handshake). */
static void
test_rfc8448_server(void **state)
{
	struct wg_tls_secrets sec;
	uint8_t rec[300], payload[50];
	size_t n, i;

	(void)state;
	lc_new(NULL);
	for (i = 0; i < 50; i++)
		payload[i] = (uint8_t)i;
	rfc_secrets(&sec, true, C_AP, S_AP, 0, 1);
	assert_int_equal(wg_tls_sess_init(lc, &sess[0], &sec, &apps[0]), 0);
	assert_int_equal(wg_tls_write(lc, &sess[0], payload, 50), 50);
	wg_tls_flush(lc);
	n = unhex(R_S_APP, rec, sizeof(rec));
	assert_int_equal(apps[0].tx_len, n);
	assert_memory_equal(apps[0].tx, rec, n);

	n = unhex(R_C_APP, rec, sizeof(rec));
	feed(&sess[0], rec, n);
	n = unhex(R_C_ALERT, rec, sizeof(rec));
	feed(&sess[0], rec, n);
	/* after close_notify input is ignored, even garbage */
	feed(&sess[0], (const uint8_t *)"garbage!", 8);
	wg_tls_flush(lc);
	assert_int_equal(apps[0].rx_len, 50);
	assert_memory_equal(apps[0].rx, payload, 50);
	assert_int_equal(apps[0].eofs, 1);
	assert_int_equal(apps[0].closes, 0);
	assert_int_equal(sess[0].alert_rcvd, WG_TLS_ALERT_CLOSE_NOTIFY);

	/* answering close_notify: the RFC's server alert (seq 2) */
	assert_int_equal(wg_tls_close(lc, &sess[0]), 0);
	wg_tls_flush(lc);
	n = unhex(R_S_ALERT, rec, sizeof(rec));
	assert_int_equal(apps[0].tx_len, 72 + n);
	assert_memory_equal(apps[0].tx + 72, rec, n);
	assert_int_equal(apps[0].closes, 1);
	assert_int_equal(apps[0].reason, 0);
}

/* A Finished (handshake type 20) after takeover: unexpected_message. The
 * record is real (client handshake key). The alert we send is checked by
 * opening it independently. */
static void
test_rfc8448_finished_unexpected(void **state)
{
	struct wg_tls_secrets sec;
	uint8_t rec[300], content[64], type;
	size_t n, clen;

	(void)state;
	lc_new(NULL);
	rfc_secrets(&sec, true, C_HS, S_AP, 0, 0);
	assert_int_equal(wg_tls_sess_init(lc, &sess[0], &sec, &apps[0]), 0);
	n = unhex(R_C_FIN, rec, sizeof(rec));
	feed(&sess[0], rec, n);
	wg_tls_flush(lc);
	assert_int_equal(apps[0].n_data, 0);
	assert_int_equal(apps[0].closes, 1);
	assert_int_equal(apps[0].reason, -EPROTO);
	n = evp_open(WG_TLS_AES_128_GCM_SHA256, sec.tx_secret, 0, apps[0].tx, apps[0].tx_len,
		     &type, content, &clen);
	assert_int_equal(n, apps[0].tx_len);
	assert_int_equal(type, WG_TLS_CT_ALERT);
	assert_int_equal(clen, 2);
	assert_int_equal(content[0], 2);
	assert_int_equal(content[1], WG_TLS_ALERT_UNEXPECTED_MESSAGE);
	assert_int_equal(wg_tls_lcore_stats(lc)->proto_err, 1);
}

/* ---- OpenSSL peers ------------------------------------------------------- */

struct keylog {
	uint8_t c_ap[48], s_ap[48];
	size_t len;
};
static struct keylog kl_srv, kl_cli;

static void
keylog_cb(const SSL *ssl, const char *line)
{
	struct keylog *k = SSL_is_server(ssl) ? &kl_srv : &kl_cli;
	const char *sp;
	uint8_t *dst = NULL;

	if (strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24) == 0)
		dst = k->c_ap;
	else if (strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24) == 0)
		dst = k->s_ap;
	if (dst == NULL)
		return;
	sp = strrchr(line, ' ');
	assert_non_null(sp);
	k->len = unhex(sp + 1, dst, 48);
}

struct pair {
	SSL_CTX *sctx, *cctx;
	SSL *srv, *cli;
	BIO *s_in, *s_out, *c_in, *c_out;
	uint16_t suite;
};

static void
pump(BIO *from, BIO *to)
{
	uint8_t buf[4096];
	int n;

	while ((n = BIO_read(from, buf, sizeof(buf))) > 0)
		assert_int_equal(BIO_write(to, buf, n), n);
}

static size_t
bio_take(BIO *b, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int k;

	while (n < cap && (k = BIO_read(b, out + n, (int)(cap - n))) > 0)
		n += (size_t)k;
	return n;
}

static SSL_CTX *
ctx_new(bool server, const char *suites, int tickets)
{
	SSL_CTX *c = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	assert_non_null(c);
	SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
	assert_int_equal(SSL_CTX_set_ciphersuites(c, suites), 1);
	SSL_CTX_set_keylog_callback(c, keylog_cb);
	if (server) {
		assert_int_equal(SSL_CTX_use_certificate(c, cert), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey(c, cert_key), 1);
		assert_int_equal(SSL_CTX_set_num_tickets(c, (size_t)tickets), 1);
	} else {
		SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	}
	return c;
}

/* Handshake a real OpenSSL pair in memory. */
static void
pair_new(struct pair *p, uint16_t suite, int tickets)
{
	const char *suites = suite == WG_TLS_AES_128_GCM_SHA256 ? "TLS_AES_128_GCM_SHA256" :
				      "TLS_AES_256_GCM_SHA384";
	int i, rc = 0, rs = 0;

	memset(p, 0, sizeof(*p));
	memset(&kl_srv, 0, sizeof(kl_srv));
	memset(&kl_cli, 0, sizeof(kl_cli));
	p->suite = suite;
	p->sctx = ctx_new(true, suites, tickets);
	p->cctx = ctx_new(false, suites, 0);
	p->srv = SSL_new(p->sctx);
	p->cli = SSL_new(p->cctx);
	p->s_in = BIO_new(BIO_s_mem());
	p->s_out = BIO_new(BIO_s_mem());
	p->c_in = BIO_new(BIO_s_mem());
	p->c_out = BIO_new(BIO_s_mem());
	SSL_set_bio(p->srv, p->s_in, p->s_out);
	SSL_set_bio(p->cli, p->c_in, p->c_out);
	SSL_set_accept_state(p->srv);
	SSL_set_connect_state(p->cli);
	for (i = 0; i < 20 && (rc != 1 || rs != 1); i++) {
		rc = SSL_do_handshake(p->cli);
		pump(p->c_out, p->s_in);
		rs = SSL_do_handshake(p->srv);
		pump(p->s_out, p->c_in);
	}
	assert_int_equal(rc, 1);
	assert_int_equal(rs, 1);
	assert_int_equal(SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(p->cli)), suite);
	assert_int_equal(kl_srv.len, wg_tls_suite_hash_len(suite));
	assert_int_equal(kl_cli.len, wg_tls_suite_hash_len(suite));
}

static void
pair_free(struct pair *p)
{
	SSL_free(p->srv);
	SSL_free(p->cli);
	SSL_CTX_free(p->sctx);
	SSL_CTX_free(p->cctx);
}

/* Our layer replaces the OpenSSL server (the client stays real): the
 * server SSL is freed, as at key takeover. */
static void
take_server(struct pair *p, unsigned int i, int tickets)
{
	struct wg_tls_secrets sec;

	memset(&sec, 0, sizeof(sec));
	sec.suite = p->suite;
	sec.secret_len = (uint8_t)kl_srv.len;
	sec.is_server = 1;
	sec.rx_seq = 0;
	sec.tx_seq = (uint64_t)tickets;
	memcpy(sec.rx_secret, kl_srv.c_ap, kl_srv.len);
	memcpy(sec.tx_secret, kl_srv.s_ap, kl_srv.len);
	assert_int_equal(wg_tls_sess_init(lc, &sess[i], &sec, &apps[i]), 0);
	SSL_free(p->srv);
	p->srv = NULL;
}

/* Our layer replaces the client; the server's tickets, still unread in
 * the client's BIO, are the leftover the layer must skip. */
static void
take_client(struct pair *p, unsigned int i)
{
	struct wg_tls_secrets sec;
	static uint8_t left[8192];
	size_t n;

	memset(&sec, 0, sizeof(sec));
	sec.suite = p->suite;
	sec.secret_len = (uint8_t)kl_cli.len;
	sec.is_server = 0;
	memcpy(sec.rx_secret, kl_cli.s_ap, kl_cli.len);
	memcpy(sec.tx_secret, kl_cli.c_ap, kl_cli.len);
	assert_int_equal(wg_tls_sess_init(lc, &sess[i], &sec, &apps[i]), 0);
	n = bio_take(p->c_in, left, sizeof(left));
	if (n > 0)
		feed(&sess[i], left, n);
	SSL_free(p->cli);
	p->cli = NULL;
}

/* The real peer of session i writes; its records go to our layer. */
static size_t
peer_records(SSL *peer, BIO *peer_out, const void *p, size_t len, uint8_t *out, size_t cap)
{
	if (len > 0)
		assert_int_equal(SSL_write(peer, p, (int)len), (int)len);
	return bio_take(peer_out, out, cap);
}

/* Our output (app i's tx) to the real peer; read what it yields. Returns
 * bytes read; *err gets SSL_get_error of the last read. */
static size_t
peer_read(SSL *peer, BIO *peer_in, struct app *a, uint8_t *out, size_t cap, int *err)
{
	size_t n = 0;
	int k;

	if (a->tx_len > 0)
		assert_int_equal(BIO_write(peer_in, a->tx, (int)a->tx_len), (int)a->tx_len);
	a->tx_len = 0;
	for (;;) {
		k = SSL_read(peer, out + n, (int)(cap - n));
		if (k <= 0) {
			*err = SSL_get_error(peer, k);
			return n;
		}
		n += (size_t)k;
	}
}

static uint8_t msg[BUFSZ], got[BUFSZ], recs[BUFSZ];

static void
fill(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* Both roles, both suites: data both ways, multi-record writes, the client
 * role skipping tickets. */
static void
roundtrip(uint16_t suite, bool server, int tickets)
{
	struct pair p;
	SSL *peer;
	BIO *pin, *pout;
	size_t n, sizes[] = { 1, 100, 1400, 16384, 40000 };
	unsigned int k;
	int err;

	lc_new(NULL);
	pair_new(&p, suite, tickets);
	if (server) {
		take_server(&p, 0, tickets);
		peer = p.cli, pin = p.c_in, pout = p.c_out;
	} else {
		take_client(&p, 0);
		peer = p.srv, pin = p.s_in, pout = p.s_out;
	}
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		fill(msg, sizes[k], k);
		/* peer -> us */
		apps[0].rx_len = 0;
		n = peer_records(peer, pout, msg, sizes[k], recs, sizeof(recs));
		feed(&sess[0], recs, n);
		wg_tls_flush(lc);
		assert_int_equal(apps[0].rx_len, sizes[k]);
		assert_memory_equal(apps[0].rx, msg, sizes[k]);
		/* us -> peer */
		assert_int_equal(wg_tls_write(lc, &sess[0], msg, (uint32_t)sizes[k]),
				 (int)sizes[k]);
		wg_tls_flush(lc);
		n = peer_read(peer, pin, &apps[0], got, sizeof(got), &err);
		assert_int_equal(err, SSL_ERROR_WANT_READ);
		assert_int_equal(n, sizes[k]);
		assert_memory_equal(got, msg, sizes[k]);
	}
	if (!server)
		assert_int_equal(wg_tls_lcore_stats(lc)->tickets_ignored, (uint64_t)tickets);
	assert_int_equal(apps[0].closes, 0);
	/* 40000 bytes: two full records and the rest */
	assert_true(wg_tls_lcore_stats(lc)->tx_records >= 3 + 4);
	pair_free(&p);
}

static void
test_openssl_server_aes128(void **state)
{
	(void)state;
	roundtrip(WG_TLS_AES_128_GCM_SHA256, true, 2);
}

static void
test_openssl_server_aes256(void **state)
{
	(void)state;
	roundtrip(WG_TLS_AES_256_GCM_SHA384, true, 0);
}

static void
test_openssl_client_aes128(void **state)
{
	(void)state;
	roundtrip(WG_TLS_AES_128_GCM_SHA256, false, 2);
}

static void
test_openssl_client_aes256(void **state)
{
	(void)state;
	roundtrip(WG_TLS_AES_256_GCM_SHA384, false, 3);
}

/* OpenSSL's records, split at every byte boundary (two feeds, and one
 * chain of two segments), and one byte per segment. */
static void
test_split_every_byte(void **state)
{
	struct pair p;
	struct wg_tls_secrets sec;
	size_t n, cut, total = 0;
	unsigned int mode;

	(void)state;
	lc_new(NULL);
	pair_new(&p, WG_TLS_AES_128_GCM_SHA256, 0);
	take_server(&p, 0, 0);
	/* keep the secrets to restart the session for every cut */
	memset(&sec, 0, sizeof(sec));
	sec.suite = WG_TLS_AES_128_GCM_SHA256;
	sec.secret_len = 32;
	sec.is_server = 1;
	memcpy(sec.rx_secret, kl_srv.c_ap, 32);
	memcpy(sec.tx_secret, kl_srv.s_ap, 32);
	/* three records: 1, 300 and 2500 bytes of data */
	fill(msg, 2801, 7);
	n = peer_records(p.cli, p.c_out, msg, 1, recs, sizeof(recs));
	n += peer_records(p.cli, p.c_out, msg + 1, 300, recs + n, sizeof(recs) - n);
	n += peer_records(p.cli, p.c_out, msg + 301, 2500, recs + n, sizeof(recs) - n);
	assert_int_equal(n, 2801 + 3 * 22);
	for (mode = 0; mode < 2; mode++) {
		for (cut = 1; cut < n; cut++) {
			wg_tls_sess_release(lc, &sess[0]);
			assert_int_equal(wg_tls_sess_init(lc, &sess[0], &sec, &apps[0]), 0);
			apps[0].rx_len = 0;
			if (mode == 0) {
				feed(&sess[0], recs, cut);
				feed(&sess[0], recs + cut, n - cut);
			} else {
				wg_tls_rx_feed(lc, &sess[0], chain(recs, n, &cut, 1));
			}
			wg_tls_flush(lc);
			assert_int_equal(apps[0].rx_len, 2801);
			assert_memory_equal(apps[0].rx, msg, 2801);
			assert_int_equal(apps[0].closes, 0);
			total++;
		}
	}
	/* one byte per segment, one chain */
	{
		static size_t cuts[4000];

		for (cut = 1; cut < n; cut++)
			cuts[cut - 1] = cut;
		wg_tls_sess_release(lc, &sess[0]);
		assert_int_equal(wg_tls_sess_init(lc, &sess[0], &sec, &apps[0]), 0);
		apps[0].rx_len = 0;
		wg_tls_rx_feed(lc, &sess[0], chain(recs, n, cuts, (unsigned int)(n - 1)));
		wg_tls_flush(lc);
		assert_int_equal(apps[0].rx_len, 2801);
		assert_memory_equal(apps[0].rx, msg, 2801);
	}
	/* whole records in one segment were opened in place, split ones copied */
	assert_true(wg_tls_lcore_stats(lc)->rx_inplace > 0);
	assert_true(wg_tls_lcore_stats(lc)->rx_linear > 0);
	assert_int_equal(wg_tls_lcore_stats(lc)->rx_records, (total + 1) * 3);
	pair_free(&p);
}

static void
test_rx_shared_segment_copied(void **state)
{
	struct pair p;
	struct rte_mbuf *m, *clone;
	size_t n;

	(void)state;
	lc_new(NULL);
	pair_new(&p, WG_TLS_AES_128_GCM_SHA256, 0);
	take_server(&p, 0, 0);
	fill(msg, 500, 3);
	n = peer_records(p.cli, p.c_out, msg, 500, recs, sizeof(recs));
	m = chain(recs, n, NULL, 0);
	/* a clone shares the buffer: the layer must not decrypt in it */
	clone = rte_pktmbuf_clone(m, small_pool);
	assert_non_null(clone);
	wg_tls_rx_feed(lc, &sess[0], clone);
	wg_tls_flush(lc);
	assert_int_equal(apps[0].rx_len, 500);
	assert_memory_equal(apps[0].rx, msg, 500);
	assert_int_equal(wg_tls_lcore_stats(lc)->rx_inplace, 0);
	assert_int_equal(wg_tls_lcore_stats(lc)->rx_linear, 1);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *), recs, n);
	rte_pktmbuf_free(m);
	pair_free(&p);
}

/* Padded records from OpenSSL; our padded records to OpenSSL. */
static void
test_padding(void **state)
{
	struct wg_tls_rec_conf conf;
	struct pair p;
	uint8_t type, content[2048];
	size_t n, clen, off;
	int err;

	(void)state;
	wg_tls_rec_conf_defaults(&conf);
	conf.pad_block = 256;
	lc_new(&conf);
	pair_new(&p, WG_TLS_AES_256_GCM_SHA384, 0);
	assert_int_equal(SSL_set_block_padding(p.cli, 512), 1);
	take_server(&p, 0, 0);
	fill(msg, 700, 9);
	n = peer_records(p.cli, p.c_out, msg, 10, recs, sizeof(recs));
	/* 10 + type padded to 512 */
	assert_int_equal(n, 5 + 512 + 16);
	n += peer_records(p.cli, p.c_out, msg + 10, 690, recs + n, sizeof(recs) - n);
	feed(&sess[0], recs, n);
	wg_tls_flush(lc);
	assert_int_equal(apps[0].rx_len, 700);
	assert_memory_equal(apps[0].rx, msg, 700);

	assert_int_equal(wg_tls_write(lc, &sess[0], msg, 300), 300);
	wg_tls_flush(lc);
	/* 300 + type -> 512 inner bytes */
	assert_int_equal(apps[0].tx_len, 5 + 512 + 16);
	off = evp_open(WG_TLS_AES_256_GCM_SHA384, kl_srv.s_ap, 0, apps[0].tx, apps[0].tx_len,
		       &type, content, &clen);
	assert_int_equal(off, apps[0].tx_len);
	assert_int_equal(type, WG_TLS_CT_APPDATA);
	assert_int_equal(clen, 300);
	n = peer_read(p.cli, p.c_in, &apps[0], got, sizeof(got), &err);
	assert_int_equal(n, 300);
	assert_memory_equal(got, msg, 300);

	/* a full record gets no padding past 2^14 + 1 inner bytes */
	fill(msg, WG_TLS_MAX_PLAIN, 10);
	assert_int_equal(wg_tls_write(lc, &sess[0], msg, WG_TLS_MAX_PLAIN), WG_TLS_MAX_PLAIN);
	wg_tls_flush(lc);
	assert_int_equal(apps[0].tx_len, WG_TLS_HDR_LEN + WG_TLS_MAX_INNER + WG_TLS_TAG_LEN);
	n = peer_read(p.cli, p.c_in, &apps[0], got, sizeof(got), &err);
	assert_int_equal(err, SSL_ERROR_WANT_READ);
	assert_int_equal(n, WG_TLS_MAX_PLAIN);
	assert_memory_equal(got, msg, WG_TLS_MAX_PLAIN);
	pair_free(&p);
}

/* KeyUpdate both ways, requested and not, with data after each. */
static void
test_key_update(void **state)
{
	struct pair p;
	size_t n;
	int err;

	(void)state;
	lc_new(NULL);
	pair_new(&p, WG_TLS_AES_128_GCM_SHA256, 1);
	take_server(&p, 0, 1);
	/* the client's tickets are read first */
	n = peer_read(p.cli, p.c_in, &apps[0], got, sizeof(got), &err);
	assert_int_equal(n, 0);

	/* peer updates and asks us to */
	assert_int_equal(SSL_key_update(p.cli, SSL_KEY_UPDATE_REQUESTED), 1);
	fill(msg, 64, 1);
	n = peer_records(p.cli, p.c_out, msg, 64, recs, sizeof(recs));
	feed(&sess[0], recs, n);
	wg_tls_rx_flush(lc);
	assert_int_equal(apps[0].rx_len, 64);
	assert_memory_equal(apps[0].rx, msg, 64);
	assert_int_equal(wg_tls_lcore_stats(lc)->key_update_rx, 1);
	assert_int_equal(sess[0].rx_seq, 1);
	/* our answer precedes data written after it, then a second request
	 * while silent gets no second answer */
	assert_int_equal(wg_tls_write(lc, &sess[0], msg, 64), 64);
	wg_tls_tx_flush(lc);
	assert_int_equal(wg_tls_lcore_stats(lc)->key_update_tx, 1);
	assert_int_equal(sess[0].tx_seq, 1);
	n = peer_read(p.cli, p.c_in, &apps[0], got, sizeof(got), &err);
	assert_int_equal(n, 64);
	assert_memory_equal(got, msg, 64);

	/* we update, asking the peer: it answers before its next data */
	assert_int_equal(wg_tls_key_update(lc, &sess[0], true), 0);
	wg_tls_flush(lc);
	assert_int_equal(wg_tls_lcore_stats(lc)->key_update_tx, 2);
	n = peer_read(p.cli, p.c_in, &apps[0], got, sizeof(got), &err);
	assert_int_equal(n, 0);
	assert_int_equal(err, SSL_ERROR_WANT_READ);
	apps[0].rx_len = 0;
	n = peer_records(p.cli, p.c_out, msg, 33, recs, sizeof(recs));
	feed(&sess[0], recs, n);
	wg_tls_flush(lc);
	assert_int_equal(wg_tls_lcore_stats(lc)->key_update_rx, 2);
	assert_int_equal(apps[0].rx_len, 33);
	/* the peer's KeyUpdate was not_requested: no third one from us */
	assert_int_equal(wg_tls_lcore_stats(lc)->key_update_tx, 2);
	assert_int_equal(apps[0].sends, 2);

	/* a non-requesting update from the peer, data split across it */
	assert_int_equal(SSL_key_update(p.cli, SSL_KEY_UPDATE_NOT_REQUESTED), 1);
	apps[0].rx_len = 0;
	n = peer_records(p.cli, p.c_out, msg, 20, recs, sizeof(recs));
	feed(&sess[0], recs, n);
	wg_tls_flush(lc);
	assert_int_equal(apps[0].rx_len, 20);
	assert_int_equal(wg_tls_lcore_stats(lc)->key_update_rx, 3);
	assert_int_equal(wg_tls_lcore_stats(lc)->key_update_tx, 2);
	assert_int_equal(apps[0].closes, 0);
	pair_free(&p);
}

/* Our record budget per key: KeyUpdate every rekey_records, and a request
 * to the peer when its records reach the same count. */
static void
test_auto_rekey(void **state)
{
	struct wg_tls_rec_conf conf;
	struct pair p;
	size_t n;
	unsigned int i;
	int err;

	(void)state;
	wg_tls_rec_conf_defaults(&conf);
	conf.rekey_records = 4;
	conf.record_max = 100;
	lc_new(&conf);
	pair_new(&p, WG_TLS_AES_128_GCM_SHA256, 0);
	take_server(&p, 0, 0);
	/* 1000 bytes in records of 100: a KeyUpdate after every 4 records */
	fill(msg, 1000, 5);
	assert_int_equal(wg_tls_write(lc, &sess[0], msg, 1000), 1000);
	wg_tls_flush(lc);
	assert_int_equal(wg_tls_lcore_stats(lc)->tx_records, 10 + 2);
	assert_int_equal(wg_tls_lcore_stats(lc)->key_update_tx, 2);
	assert_int_equal(sess[0].tx_seq, 2);
	n = peer_read(p.cli, p.c_in, &apps[0], got, sizeof(got), &err);
	assert_int_equal(n, 1000);
	assert_memory_equal(got, msg, 1000);

	/* the peer's 4th record under one key makes us ask for an update */
	for (i = 0; i < 4; i++) {
		n = peer_records(p.cli, p.c_out, msg, 10, recs, sizeof(recs));
		feed(&sess[0], recs, n);
	}
	wg_tls_flush(lc);
	assert_int_equal(apps[0].rx_len, 40);
	assert_true(sess[0].flags & WG_TLSF_KU_ASKED);
	assert_int_equal(wg_tls_lcore_stats(lc)->key_update_tx, 3);
	n = peer_read(p.cli, p.c_in, &apps[0], got, sizeof(got), &err);
	assert_int_equal(n, 0);
	n = peer_records(p.cli, p.c_out, msg, 10, recs, sizeof(recs));
	feed(&sess[0], recs, n);
	wg_tls_flush(lc);
	assert_int_equal(wg_tls_lcore_stats(lc)->key_update_rx, 1);
	assert_false(sess[0].flags & WG_TLSF_KU_ASKED);
	assert_int_equal(sess[0].rx_seq, 1);
	assert_int_equal(apps[0].rx_len, 50);
	assert_int_equal(apps[0].closes, 0);
	pair_free(&p);
}

/* close_notify both ways with OpenSSL. */
static void
test_close_notify(void **state)
{
	struct pair p;
	size_t n;
	int err;

	(void)state;
	lc_new(NULL);
	pair_new(&p, WG_TLS_AES_128_GCM_SHA256, 0);
	take_server(&p, 0, 0);
	fill(msg, 10, 2);
	n = peer_records(p.cli, p.c_out, msg, 10, recs, sizeof(recs));
	assert_int_equal(SSL_shutdown(p.cli), 0);
	n += bio_take(p.c_out, recs + n, sizeof(recs) - n);
	feed(&sess[0], recs, n);
	wg_tls_flush(lc);
	assert_int_equal(apps[0].rx_len, 10);
	assert_int_equal(apps[0].eofs, 1);
	assert_int_equal(apps[0].closes, 0);
	assert_int_equal(wg_tls_lcore_stats(lc)->close_notify_rx, 1);
	/* data still goes out after the peer's close_notify, then ours */
	assert_int_equal(wg_tls_write(lc, &sess[0], msg, 10), 10);
	assert_int_equal(wg_tls_close(lc, &sess[0]), 0);
	wg_tls_flush(lc);
	assert_int_equal(apps[0].closes, 1);
	assert_int_equal(apps[0].reason, 0);
	n = peer_read(p.cli, p.c_in, &apps[0], got, sizeof(got), &err);
	assert_int_equal(n, 10);
	assert_int_equal(err, SSL_ERROR_ZERO_RETURN);
	pair_free(&p);
}

/* The peer reads our fatal alert: check OpenSSL's reason. */
static void
expect_peer_alert(SSL *peer, BIO *pin, struct app *a, int reason)
{
	size_t n;
	int err;

	ERR_clear_error();
	n = peer_read(peer, pin, a, got, sizeof(got), &err);
	assert_int_equal(n, 0);
	assert_int_equal(err, SSL_ERROR_SSL);
	assert_int_equal(ERR_GET_REASON(ERR_peek_last_error()), reason);
	ERR_clear_error();
}

/* Any flipped bit in an OpenSSL record: bad_record_mac, nothing delivered,
 * OpenSSL receives the alert. */
static void
test_flipped_bit(void **state)
{
	struct wg_tls_secrets sec;
	struct pair p;
	size_t n, pos;

	(void)state;
	lc_new(NULL);
	pair_new(&p, WG_TLS_AES_128_GCM_SHA256, 0);
	take_server(&p, 0, 0);
	memset(&sec, 0, sizeof(sec));
	sec.suite = WG_TLS_AES_128_GCM_SHA256;
	sec.secret_len = 32;
	sec.is_server = 1;
	memcpy(sec.rx_secret, kl_srv.c_ap, 32);
	memcpy(sec.tx_secret, kl_srv.s_ap, 32);
	fill(msg, 200, 4);
	n = peer_records(p.cli, p.c_out, msg, 200, got, sizeof(got));
	/* every body byte (ciphertext and tag), a different bit each time;
	 * header bytes are test_bad_headers' */
	for (pos = 5; pos < n; pos++) {
		wg_tls_sess_release(lc, &sess[0]);
		assert_int_equal(wg_tls_sess_init(lc, &sess[0], &sec, &apps[0]), 0);
		apps[0].closes = 0;
		apps[0].tx_len = 0;
		memcpy(recs, got, n);
		recs[pos] ^= (uint8_t)(1u << (pos % 8));
		feed(&sess[0], recs, n);
		wg_tls_flush(lc);
		assert_int_equal(apps[0].n_data, 0);
		assert_int_equal(apps[0].closes, 1);
		assert_int_equal(apps[0].reason, -EBADMSG);
		assert_int_equal(sess[0].alert_sent, WG_TLS_ALERT_BAD_RECORD_MAC);
	}
	assert_int_equal(wg_tls_lcore_stats(lc)->auth_fail, n - 5);
	/* the untouched record still opens */
	wg_tls_sess_release(lc, &sess[0]);
	assert_int_equal(wg_tls_sess_init(lc, &sess[0], &sec, &apps[0]), 0);
	apps[0].tx_len = 0;
	apps[0].closes = 0;
	feed(&sess[0], got, n);
	wg_tls_flush(lc);
	assert_int_equal(apps[0].rx_len, 200);
	assert_memory_equal(apps[0].rx, msg, 200);
	/* and the real client understands our alert */
	recs[n - 1] ^= 0x80;
	feed(&sess[0], recs, n);
	wg_tls_flush(lc);
	expect_peer_alert(p.cli, p.c_in, &apps[0], SSL_R_SSLV3_ALERT_BAD_RECORD_MAC);
	pair_free(&p);
}

/* Header checks: oversize record, wrong type, wrong version, too short. */
static void
test_bad_headers(void **state)
{
	static const struct {
		uint8_t hdr[5];
		uint8_t alert;
		int ossl_reason;
	} cases[] = {
		{ { 23, 3, 3, 0x41, 0x01 }, WG_TLS_ALERT_RECORD_OVERFLOW,
		  SSL_R_TLSV1_ALERT_RECORD_OVERFLOW },
		{ { 23, 3, 3, 0xff, 0xff }, WG_TLS_ALERT_RECORD_OVERFLOW,
		  SSL_R_TLSV1_ALERT_RECORD_OVERFLOW },
		{ { 22, 3, 3, 0, 40 }, WG_TLS_ALERT_UNEXPECTED_MESSAGE,
		  SSL_R_SSLV3_ALERT_UNEXPECTED_MESSAGE },
		{ { 20, 3, 3, 0, 1 }, WG_TLS_ALERT_UNEXPECTED_MESSAGE,
		  SSL_R_SSLV3_ALERT_UNEXPECTED_MESSAGE },
		{ { 23, 3, 1, 0, 40 }, WG_TLS_ALERT_DECODE_ERROR, SSL_R_TLSV1_ALERT_DECODE_ERROR },
		{ { 23, 3, 3, 0, 16 }, WG_TLS_ALERT_DECODE_ERROR, SSL_R_TLSV1_ALERT_DECODE_ERROR },
	};
	struct pair p;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lc_new(NULL);
		pair_new(&p, WG_TLS_AES_128_GCM_SHA256, 0);
		take_server(&p, 0, 0);
		/* the header alone is enough to decide; split it */
		feed(&sess[0], cases[i].hdr, 2);
		feed(&sess[0], cases[i].hdr + 2, 3);
		/* the error waits for its turn in the batch; later input is dropped */
		assert_false(wg_tls_sess_dead(&sess[0]));
		assert_int_equal(wg_tls_rx_feed(lc, &sess[0], chain(cases[i].hdr, 5, NULL, 0)),
				 -EPIPE);
		wg_tls_flush(lc);
		assert_true(wg_tls_sess_dead(&sess[0]));
		assert_int_equal(apps[0].closes, 1);
		assert_int_equal(apps[0].reason, -EPROTO);
		assert_int_equal(sess[0].alert_sent, cases[i].alert);
		expect_peer_alert(p.cli, p.c_in, &apps[0], cases[i].ossl_reason);
		pair_free(&p);
		teardown(NULL);
	}
}

/* What OpenSSL never sends, sealed with the right keys by EVP. */
static void
test_crafted_inner(void **state)
{
	static uint8_t big[WG_TLS_MAX_PLAIN + 2];
	const uint8_t nst[] = { 4, 0, 0, 3, 1, 2, 3 };
	const uint8_t ku_trail[] = { 24, 0, 0, 1, 0, 23 };
	const uint8_t ku_bad[] = { 24, 0, 0, 1, 2 };
	const uint8_t ku_len[] = { 24, 0, 0, 2, 0, 0 };
	const uint8_t zeros[5] = { 0 };
	const uint8_t alert_bad[] = { 2, 40, 0 };
	const uint8_t alert_fatal[] = { 2, 40 };
	const struct {
		uint8_t type;
		const uint8_t *p;
		size_t len, pad;
		uint8_t alert;
		int reason;
		bool server;
	} cases[] = {
		{ 22, nst, sizeof(nst), 0, WG_TLS_ALERT_UNEXPECTED_MESSAGE, -EPROTO, true },
		{ 22, ku_trail, sizeof(ku_trail), 0, WG_TLS_ALERT_UNEXPECTED_MESSAGE, -EPROTO, true },
		{ 22, ku_bad, sizeof(ku_bad), 0, WG_TLS_ALERT_ILLEGAL_PARAMETER, -EPROTO, true },
		{ 22, ku_len, sizeof(ku_len), 0, WG_TLS_ALERT_DECODE_ERROR, -EPROTO, false },
		{ 22, NULL, 0, 3, WG_TLS_ALERT_UNEXPECTED_MESSAGE, -EPROTO, true },
		{ 0, zeros, 0, 4, WG_TLS_ALERT_UNEXPECTED_MESSAGE, -EPROTO, true },
		{ 24, zeros, 3, 0, WG_TLS_ALERT_UNEXPECTED_MESSAGE, -EPROTO, true },
		{ 21, alert_bad, sizeof(alert_bad), 0, WG_TLS_ALERT_DECODE_ERROR, -EPROTO, true },
		{ 21, alert_fatal, sizeof(alert_fatal), 0, WG_TLS_NO_ALERT, -ECONNRESET, true },
		{ 23, big, WG_TLS_MAX_PLAIN + 1, 0, WG_TLS_ALERT_RECORD_OVERFLOW, -EPROTO, true },
		{ 23, big, WG_TLS_MAX_PLAIN, 1, WG_TLS_ALERT_RECORD_OVERFLOW, -EPROTO, true },
	};
	struct wg_tls_secrets sec;
	uint8_t c_ap[32], s_ap[32], type, content[64];
	size_t n, clen;
	unsigned int i;

	(void)state;
	fill(c_ap, 32, 11);
	fill(s_ap, 32, 12);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lc_new(NULL);
		memset(&sec, 0, sizeof(sec));
		sec.suite = WG_TLS_AES_128_GCM_SHA256;
		sec.secret_len = 32;
		sec.is_server = cases[i].server;
		sec.rx_seq = 5;
		memcpy(sec.rx_secret, c_ap, 32);
		memcpy(sec.tx_secret, s_ap, 32);
		assert_int_equal(wg_tls_sess_init(lc, &sess[0], &sec, &apps[0]), 0);
		/* a good record first: it is delivered, the bad one ends it */
		n = evp_seal(sec.suite, c_ap, 5, 23, (const uint8_t *)"ok", 2, 0, recs);
		n += evp_seal(sec.suite, c_ap, 6, cases[i].type, cases[i].p, cases[i].len,
			      cases[i].pad, recs + n);
		feed(&sess[0], recs, n);
		wg_tls_flush(lc);
		assert_int_equal(apps[0].rx_len, 2);
		assert_memory_equal(apps[0].rx, "ok", 2);
		assert_int_equal(apps[0].closes, 1);
		assert_int_equal(apps[0].reason, cases[i].reason);
		assert_int_equal(sess[0].alert_sent, cases[i].alert);
		if (cases[i].alert == WG_TLS_NO_ALERT) {
			assert_int_equal(apps[0].tx_len, 0);
			assert_int_equal(sess[0].alert_rcvd, 40);
			assert_int_equal(wg_tls_lcore_stats(lc)->alerts_rcvd, 1);
		} else {
			n = evp_open(sec.suite, s_ap, 0, apps[0].tx, apps[0].tx_len, &type,
				     content, &clen);
			assert_int_equal(n, apps[0].tx_len);
			assert_int_equal(type, WG_TLS_CT_ALERT);
			assert_int_equal(clen, 2);
			assert_int_equal(content[0], 2);
			assert_int_equal(content[1], cases[i].alert);
		}
		teardown(NULL);
	}
}

/* Legal oddities: zero-length data, user_canceled, tickets coalesced and
 * split across records, a KeyUpdate split over two records. */
static void
test_crafted_legal(void **state)
{
	/* two tickets in one record, the second cut by the record end */
	const uint8_t nst2[] = { 4, 0, 0, 2, 0xaa, 0xbb, 4, 0, 0, 4, 1, 2 };
	const uint8_t nst2_rest[] = { 3, 4 };
	const uint8_t ku_hdr[] = { 24, 0, 0, 1 };
	const uint8_t ku_body[] = { 1 };
	const uint8_t canceled[] = { 1, 90 };
	struct wg_tls_secrets sec;
	uint8_t c_ap[48], s_ap[48], type, content[64];
	size_t n, clen;

	(void)state;
	lc_new(NULL);
	fill(c_ap, 48, 21);
	fill(s_ap, 48, 22);
	memset(&sec, 0, sizeof(sec));
	sec.suite = WG_TLS_AES_256_GCM_SHA384;
	sec.secret_len = 48;
	sec.is_server = 0;
	memcpy(sec.rx_secret, s_ap, 48);
	memcpy(sec.tx_secret, c_ap, 48);
	assert_int_equal(wg_tls_sess_init(lc, &sess[0], &sec, &apps[0]), 0);
	n = evp_seal(sec.suite, s_ap, 0, 23, NULL, 0, 0, recs);
	n += evp_seal(sec.suite, s_ap, 1, 21, canceled, 2, 7, recs + n);
	n += evp_seal(sec.suite, s_ap, 2, 22, nst2, sizeof(nst2), 0, recs + n);
	n += evp_seal(sec.suite, s_ap, 3, 22, nst2_rest, sizeof(nst2_rest), 0, recs + n);
	n += evp_seal(sec.suite, s_ap, 4, 23, (const uint8_t *)"abc", 3, 100, recs + n);
	n += evp_seal(sec.suite, s_ap, 5, 22, ku_hdr, sizeof(ku_hdr), 0, recs + n);
	n += evp_seal(sec.suite, s_ap, 6, 22, ku_body, sizeof(ku_body), 0, recs + n);
	/* the next record is under the updated secret, sequence 0 */
	assert_int_equal(wg_tls_secret_update(sec.suite, s_ap, 48), 0);
	n += evp_seal(sec.suite, s_ap, 0, 23, (const uint8_t *)"def", 3, 0, recs + n);
	feed(&sess[0], recs, n);
	wg_tls_flush(lc);
	assert_int_equal(apps[0].closes, 0);
	assert_int_equal(apps[0].rx_len, 6);
	assert_memory_equal(apps[0].rx, "abcdef", 6);
	assert_int_equal(apps[0].n_data, 2);
	assert_int_equal(wg_tls_lcore_stats(lc)->tickets_ignored, 2);
	assert_int_equal(wg_tls_lcore_stats(lc)->key_update_rx, 1);
	assert_int_equal(sess[0].alert_rcvd, WG_TLS_ALERT_USER_CANCELED);
	/* update_requested: our KeyUpdate (old key, seq 0) went out */
	n = evp_open(sec.suite, c_ap, 0, apps[0].tx, apps[0].tx_len, &type, content, &clen);
	assert_int_equal(n, apps[0].tx_len);
	assert_int_equal(type, WG_TLS_CT_HANDSHAKE);
	assert_int_equal(clen, 5);
	assert_memory_equal(content, "\x18\x00\x00\x01\x00", 5);
	assert_int_equal(sess[0].tx_seq, 0);
}

/* Many sessions in one burst: one open batch, one seal batch; the batch
 * filling up mid-feed dispatches and goes on. */
static void
test_batch_sessions(void **state)
{
	struct wg_tls_rec_conf conf;
	struct pair p[NAPP];
	static uint8_t rr[NAPP][8192];
	size_t n[NAPP];
	unsigned int i, j;
	int err;

	(void)state;
	wg_tls_rec_conf_defaults(&conf);
	conf.batch = 5;
	lc_new(&conf);
	for (i = 0; i < NAPP; i++) {
		pair_new(&p[i], i % 2 ? WG_TLS_AES_256_GCM_SHA384 : WG_TLS_AES_128_GCM_SHA256, 0);
		take_server(&p[i], i, 0);
		apps[i].reply_in_data = true;
	}
	/* 3 records per client, fed interleaved: 12 records, batch of 5 */
	for (i = 0; i < NAPP; i++) {
		n[i] = 0;
		for (j = 0; j < 3; j++) {
			fill(msg, 50, i * 10 + j);
			n[i] += peer_records(p[i].cli, p[i].c_out, msg, 50, rr[i] + n[i],
					     sizeof(rr[i]) - n[i]);
		}
	}
	for (j = 0; j < 3; j++)
		for (i = 0; i < NAPP; i++)
			feed(&sess[i], rr[i] + j * (n[i] / 3), n[i] / 3);
	assert_int_equal(wg_tls_lcore_stats(lc)->rx_batches, 2);
	wg_tls_flush(lc);
	assert_int_equal(wg_tls_lcore_stats(lc)->rx_batches, 3);
	assert_int_equal(wg_tls_lcore_stats(lc)->rx_records, 12);
	for (i = 0; i < NAPP; i++) {
		assert_int_equal(apps[i].n_data, 3);
		assert_int_equal(apps[i].rx_len, 150);
		for (j = 0; j < 3; j++) {
			fill(msg, 50, i * 10 + j);
			assert_memory_equal(apps[i].rx + j * 50, msg, 50);
		}
		/* the echoes coalesced into records per session; each session
		 * got one on_send with all of them */
		assert_int_equal(apps[i].sends, 1);
		n[i] = peer_read(p[i].cli, p[i].c_in, &apps[i], got, sizeof(got), &err);
		assert_int_equal(n[i], 150);
		assert_memory_equal(got, apps[i].rx, 150);
		pair_free(&p[i]);
	}
}

/* Zero-copy appends, record_max (latency mode), release with work queued. */
static void
test_append_and_release(void **state)
{
	struct pair p;
	uint8_t *w;
	size_t n, off;
	int err;

	(void)state;
	lc_new(NULL);
	pair_new(&p, WG_TLS_AES_128_GCM_SHA256, 0);
	take_server(&p, 0, 0);
	assert_int_equal(wg_tls_sess_set_record_max(&sess[0], 0), -EINVAL);
	assert_int_equal(wg_tls_sess_set_record_max(&sess[0], 1000), 0);
	assert_null(wg_tls_tx_append(lc, &sess[0], 1001));
	assert_int_equal(errno, EINVAL);
	fill(msg, 3000, 8);
	for (off = 0; off < 3000; off += 300) {
		w = wg_tls_tx_append(lc, &sess[0], 300);
		assert_non_null(w);
		memcpy(w, msg + off, 300);
	}
	wg_tls_flush(lc);
	/* 300-byte appends never straddle records: 900 + 900 + 900 + 300 */
	assert_int_equal(wg_tls_lcore_stats(lc)->tx_records, 4);
	assert_int_equal(apps[0].tx_len, 3000 + 4 * 22);
	assert_int_equal(apps[0].tx[3], (900 + 17) >> 8);
	assert_int_equal(apps[0].tx[4], (uint8_t)(900 + 17));
	n = peer_read(p.cli, p.c_in, &apps[0], got, sizeof(got), &err);
	assert_int_equal(n, 3000);
	assert_memory_equal(got, msg, 3000);

	/* queued both ways, then released: nothing is called, all freed */
	n = peer_records(p.cli, p.c_out, msg, 2000, recs, sizeof(recs));
	feed(&sess[0], recs, n - 7);           /* in place + a partial one */
	assert_int_equal(wg_tls_write(lc, &sess[0], msg, 5000), 5000);
	assert_int_equal(wg_tls_close(lc, &sess[0]), 0);
	wg_tls_sess_release(lc, &sess[0]);
	wg_tls_flush(lc);
	assert_int_equal(apps[0].n_data, 0);
	assert_int_equal(apps[0].sends, 1);
	assert_int_equal(apps[0].closes, 0);
	assert_int_equal(sess[0].flags, 0);
	pair_free(&p);
}

/* Callbacks: close from on_data stops later deliveries; release from
 * on_close. */
static void
test_callback_rules(void **state)
{
	struct pair p;
	size_t n;
	int err;

	(void)state;
	lc_new(NULL);
	pair_new(&p, WG_TLS_AES_128_GCM_SHA256, 0);
	take_server(&p, 0, 0);
	apps[0].close_in_data = true;
	apps[0].release_in_close = true;
	n = peer_records(p.cli, p.c_out, "one", 3, recs, sizeof(recs));
	n += peer_records(p.cli, p.c_out, "two", 3, recs + n, sizeof(recs) - n);
	feed(&sess[0], recs, n);
	wg_tls_flush(lc);
	assert_int_equal(apps[0].n_data, 1);
	assert_memory_equal(apps[0].rx, "one", 3);
	assert_int_equal(apps[0].closes, 1);
	assert_int_equal(apps[0].reason, 0);
	assert_int_equal(sess[0].flags, 0);    /* released in on_close */
	n = peer_read(p.cli, p.c_in, &apps[0], got, sizeof(got), &err);
	assert_int_equal(err, SSL_ERROR_ZERO_RETURN);
	pair_free(&p);
}

/* Sequence numbers never wrap; the peer's key limit is enforced. */
static void
test_limits(void **state)
{
	struct wg_tls_rec_conf conf;
	struct wg_tls_secrets sec;
	uint8_t c_ap[32], s_ap[32], type, content[64];
	size_t n, clen;
	unsigned int i;

	(void)state;
	wg_tls_rec_conf_defaults(&conf);
	conf.rekey_records = 0;
	conf.rx_key_limit = 3;
	lc_new(&conf);
	fill(c_ap, 32, 31);
	fill(s_ap, 32, 32);
	memset(&sec, 0, sizeof(sec));
	sec.suite = WG_TLS_AES_128_GCM_SHA256;
	sec.secret_len = 32;
	sec.is_server = 1;
	sec.tx_seq = UINT64_MAX - 2;
	memcpy(sec.rx_secret, c_ap, 32);
	memcpy(sec.tx_secret, s_ap, 32);
	assert_int_equal(wg_tls_sess_init(lc, &sess[0], &sec, &apps[0]), 0);
	/* seqs 2^64-3 and 2^64-2 go out; the last one would need 2^64-1 and
	 * then wrap */
	assert_int_equal(wg_tls_write(lc, &sess[0], "a", 1), 1);
	wg_tls_flush(lc);
	assert_int_equal(wg_tls_write(lc, &sess[0], "b", 1), 1);
	wg_tls_flush(lc);
	assert_int_equal(wg_tls_write(lc, &sess[0], "c", 1), -EPIPE);
	wg_tls_flush(lc);
	assert_int_equal(apps[0].closes, 1);
	assert_int_equal(apps[0].reason, -EOVERFLOW);
	assert_int_equal(apps[0].tx_len, 2 * 23);
	n = evp_open(sec.suite, s_ap, UINT64_MAX - 2, apps[0].tx, apps[0].tx_len, &type, content,
		     &clen);
	assert_int_equal(content[0], 'a');
	evp_open(sec.suite, s_ap, UINT64_MAX - 3 + 2, apps[0].tx + n, apps[0].tx_len - n, &type,
		 content, &clen);
	assert_int_equal(content[0], 'b');
	teardown(NULL);

	/* the peer may not go past rx_key_limit records under one key */
	lc_new(&conf);
	sec.tx_seq = 0;
	assert_int_equal(wg_tls_sess_init(lc, &sess[0], &sec, &apps[0]), 0);
	n = 0;
	for (i = 0; i < 4; i++)
		n += evp_seal(sec.suite, c_ap, i, 23, (const uint8_t *)"x", 1, 0, recs + n);
	feed(&sess[0], recs, n);
	wg_tls_flush(lc);
	assert_int_equal(apps[0].n_data, 3);
	assert_int_equal(apps[0].closes, 1);
	assert_int_equal(apps[0].reason, -EKEYEXPIRED);
	assert_int_equal(wg_tls_lcore_stats(lc)->key_limit, 1);
}

static void
test_conf_and_args(void **state)
{
	struct wg_tls_rec_conf conf;
	struct wg_tls_secrets sec;
	char err[128];

	(void)state;
	wg_tls_rec_conf_defaults(&conf);
	assert_int_equal(wg_tls_rec_conf_check(&conf, err, sizeof(err)), 0);
	conf.rekey_records = 1ull << 25;
	assert_int_equal(wg_tls_rec_conf_check(&conf, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rekey_records"));
	wg_tls_rec_conf_defaults(&conf);
	conf.record_max = 0;
	assert_int_equal(wg_tls_rec_conf_check(&conf, err, sizeof(err)), -EINVAL);
	assert_null(wg_tls_lcore_create(&conf, &ops, small_pool, big_pool, SOCKET_ID_ANY));
	assert_int_equal(errno, EINVAL);
	wg_tls_rec_conf_defaults(&conf);
	/* the big pool must hold a whole record */
	assert_null(wg_tls_lcore_create(&conf, &ops, small_pool, small_pool, SOCKET_ID_ANY));
	assert_int_equal(errno, EINVAL);
	lc_new(NULL);
	memset(&sec, 0, sizeof(sec));
	sec.suite = 0x1303;
	sec.secret_len = 32;
	assert_int_equal(wg_tls_sess_init(lc, &sess[0], &sec, &apps[0]), -EINVAL);
	sec.suite = WG_TLS_AES_256_GCM_SHA384;
	assert_int_equal(wg_tls_sess_init(lc, &sess[0], &sec, &apps[0]), -EINVAL);
	assert_non_null(wg_tls_gcm_arch(lc));
	/* a zeroed (or released) session neither reads nor sends */
	assert_int_equal(wg_tls_rx_feed(lc, &sess[1], chain((const uint8_t *)"\x17\x03\x03\x00\x11",
							  5, NULL, 0)), -EPIPE);
	assert_int_equal(wg_tls_write(lc, &sess[1], "x", 1), -EPIPE);
	assert_null(wg_tls_tx_append(lc, &sess[1], 1));
	assert_int_equal(wg_tls_close(lc, &sess[1]), -EPIPE);
	assert_int_equal(wg_tls_key_update(lc, &sess[1], false), -EPIPE);
	wg_tls_flush(lc);
	assert_int_equal(apps[1].closes + apps[1].sends, 0);
}

int
main(void)
{
	char prefix[64];
	const char *argv[] = { "test_tls_record", "--no-huge", "-m", "256", "--no-pci",
			       "--no-shconf", "--no-telemetry", "--log-level=error", prefix };
#define T(f) cmocka_unit_test_teardown(f, teardown)
	const struct CMUnitTest tests[] = {
		T(test_rfc8448_client),
		T(test_rfc8448_server),
		T(test_rfc8448_finished_unexpected),
		T(test_openssl_server_aes128),
		T(test_openssl_server_aes256),
		T(test_openssl_client_aes128),
		T(test_openssl_client_aes256),
		T(test_split_every_byte),
		T(test_rx_shared_segment_copied),
		T(test_padding),
		T(test_key_update),
		T(test_auto_rekey),
		T(test_close_notify),
		T(test_flipped_bit),
		T(test_bad_headers),
		T(test_crafted_inner),
		T(test_crafted_legal),
		T(test_batch_sessions),
		T(test_append_and_release),
		T(test_callback_rules),
		T(test_limits),
		T(test_conf_and_args),
	};
	EVP_PKEY_CTX *kctx;
	X509_NAME *name;

	snprintf(prefix, sizeof(prefix), "--file-prefix=tlsrec%d", (int)getpid());
	wg_test_eal_cleanup_at_exit();
	if (rte_eal_init((int)RTE_DIM(argv), (char **)(uintptr_t)argv) < 0)
		return 1;
	small_pool = rte_pktmbuf_pool_create("t_small", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					     SOCKET_ID_ANY);
	big_pool = rte_pktmbuf_pool_create("t_big", 127, 0, 0,
					   RTE_PKTMBUF_HEADROOM + WG_TLS_BIG_BUF, SOCKET_ID_ANY);
	if (small_pool == NULL || big_pool == NULL)
		return 1;
	/* a throwaway self-signed P-256 certificate for the OpenSSL server */
	kctx = NULL;
	cert_key = EVP_EC_gen("P-256");
	cert = X509_new();
	if (cert_key == NULL || cert == NULL)
		return 1;
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_set_pubkey(cert, cert_key);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"wg-test", -1,
				   -1, 0);
	X509_set_issuer_name(cert, name);
	if (X509_sign(cert, cert_key, EVP_sha256()) == 0)
		return 1;
	(void)kctx;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
