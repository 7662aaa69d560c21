/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target for the handshake engine's server side: arbitrary bytes
 * as a client's first flight, through the real rings, message pool and
 * OpenSSL (tls_handshake.c, tls_handshake_ssl.c).
 *
 * Input: byte 0 picks how the rest is cut: 0 = one ACCEPT with all of it;
 * n > 0 = an empty ACCEPT, then DATA messages of (n % 64) + 1 bytes, each
 * a chain of 1..3 mbufs (bit 6/7 of byte 0). The engine is polled on this
 * thread (no engine thread: one input, one deterministic run).
 *
 * Checked per input: every reply names our connection; SEND carries whole
 * TLS records; FAIL carries -EPROTO (and whole records ending in the alert
 * it names, if any) and ends the exchange; no DONE (a takeover needs the
 * client's Finished under a key the fuzzer cannot have). Otherwise the
 * connection is aborted. Then the
 * engine must be back to no handshake, a full message pool and every
 * packet mbuf returned; AddressSanitizer/LeakSanitizer watch the SSL side.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "tls/tls_handshake.h"
#include "../eal_runtime.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL_N 1023

static struct rte_mempool *pool;
static struct wg_tls_hs *eng;
static struct wg_tls_conf conf;
static int conn;
static uint32_t gen;

/* A throw-away self-signed P-256 certificate: the fuzzer needs no tools. */
static void
make_cert(const char *cert_path, const char *key_path)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	FILE *f;

	if (k == NULL || x == NULL)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"warpgate.test", -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (X509_sign(x, k, EVP_sha256()) == 0)
		abort();
	f = fopen(cert_path, "w");
	if (f == NULL || PEM_write_X509(f, x) != 1)
		abort();
	fclose(f);
	f = fopen(key_path, "w");
	if (f == NULL || PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1)
		abort();
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[48], dir[64];
	const char *eal[] = { "fuzz_tls_handshake", "--no-huge", "-m", "256", "--no-pci",
			      "--no-shconf", "--no-telemetry", "--log-level=critical",
			      "-l", "0", prefix };

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "--file-prefix=fuzzhs%d", (int)getpid());
	wg_test_eal_cleanup_at_exit();
	if (rte_eal_init((int)RTE_DIM(eal), (char **)(uintptr_t)eal) < 0)
		abort();
	pool = rte_pktmbuf_pool_create("fuzzhs_pkt", POOL_N, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		abort();
	snprintf(dir, sizeof(dir), "/tmp/fuzzhs%d", (int)getpid());
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		abort();
	wg_tls_conf_defaults(&conf);
	snprintf(conf.cert, sizeof(conf.cert), "%s/cert.pem", dir);
	snprintf(conf.key, sizeof(conf.key), "%s/key.pem", dir);
	make_cert(conf.cert, conf.key);
	conf.max_sessions = 4;
	conf.msgs = 1023;
	conf.ring_size = 1024;
	eng = wg_tls_hs_create("fuzzhs", &conf, 1, pool, SOCKET_ID_ANY);
	/* loaded: the files are not needed any more */
	unlink(conf.cert);
	unlink(conf.key);
	rmdir(dir);
	if (eng == NULL)
		abort();
	return 0;
}

static struct rte_mbuf *
chain(const uint8_t *p, size_t n, unsigned int segs)
{
	struct rte_mbuf *head = NULL, *tail = NULL;
	size_t per = segs > 1 ? (n + segs - 1) / segs : n;

	while (n > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		size_t k = n < per ? n : per;

		if (m == NULL)
			abort();
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

/* Whole records in m (at least one): how many, and the last one's type. */
static unsigned int
records(const struct rte_mbuf *m, uint8_t *last_type)
{
	static uint8_t buf[1 << 16];
	size_t n = 0, off = 0;
	unsigned int k = 0;

	for (; m != NULL; m = m->next) {
		if (n + rte_pktmbuf_data_len(m) > sizeof(buf))
			abort();
		memcpy(buf + n, rte_pktmbuf_mtod(m, const void *), rte_pktmbuf_data_len(m));
		n += rte_pktmbuf_data_len(m);
	}
	while (off + 5 <= n) {
		*last_type = buf[off];
		off += 5 + ((size_t)buf[off + 3] << 8 | buf[off + 4]);
		k++;
	}
	if (off != n || k == 0)
		abort();
	return k;
}

/* Run the engine until it has nothing left; check what it said. */
static bool
drain(void)
{
	struct wg_tls_hs_msg *m;
	bool ended = false;
	uint8_t type;

	while (wg_tls_hs_poll(eng) > 0)
		;
	while (wg_tls_hs_replies(eng, 0, &m, 1) == 1) {
		if (m->ref.conn != &conn || m->ref.gen != gen || ended)
			abort();
		switch (m->type) {
		case WG_TLS_HS_SEND:
			(void)records(m->data, &type);
			break;
		case WG_TLS_HS_FAIL:
			if (m->status != -EPROTO) {
				fprintf(stderr, "FAIL status %d\n", m->status);
				abort();
			}
			/* whatever OpenSSL wrote before it gave up (its
			 * flight, when the ClientHello was good and what came
			 * after it was not), ending in the alert: plaintext,
			 * or under the handshake key after ServerHello */
			if (m->data != NULL &&
			    ((void)records(m->data, &type), type != 21 && type != 23)) {
				fprintf(stderr, "FAIL data ends in a record of type %u\n", type);
				abort();
			}
			if (m->data != NULL && m->alert == WG_TLS_HS_NO_ALERT)
				abort();
			ended = true;
			break;
		default:
			abort();
		}
		wg_tls_hs_msg_free(eng, m);
	}
	return ended;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_tls_hs_ref ref = { .conn = &conn, .worker = 0 };
	struct wg_tls_hs_stats st;
	unsigned int base = rte_mempool_avail_count(pool);
	bool ended = false;

	if (size < 1)
		return 0;
	ref.gen = ++gen;
	if (data[0] == 0 || size == 1) {
		struct rte_mbuf *m = size > 1 ? chain(data + 1, size - 1, 1) : NULL;

		if (wg_tls_hs_accept(eng, &ref, m) != 0)
			abort();
		ended = drain();
	} else {
		size_t step = (size_t)(data[0] & 0x3f) + 1;
		unsigned int segs = 1u + (data[0] >> 6);

		if (wg_tls_hs_accept(eng, &ref, NULL) != 0)
			abort();
		for (size_t off = 1; off < size && !ended; off += step) {
			size_t n = size - off < step ? size - off : step;

			if (wg_tls_hs_data(eng, &ref, chain(data + off, n, segs)) != 0)
				abort();
			ended = drain();
		}
	}
	if (!ended) {
		if (wg_tls_hs_abort(eng, &ref) != 0)
			abort();
		if (drain())
			abort();
	}
	wg_tls_hs_stats_get(eng, &st);
	if (st.active != 0 || wg_tls_hs_msgs_avail(eng) != conf.msgs ||
	    rte_mempool_avail_count(pool) != base || st.done != 0)
		abort();
	return 0;
}
