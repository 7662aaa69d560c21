/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target for the TLS 1.3 record layer's receive side (parser,
 * opener, inner content types, KeyUpdate, alerts) with fixed keys.
 *
 * Input: a 4-byte header, then the byte stream from the peer.
 *   [0] bit 0: lcore A (defaults) or B (batch 3, 64-byte records, padding
 *       to 32, KeyUpdate every 2 records, peer key limit 6); bit 1: we are
 *       the server; bit 2: AES-256-GCM-SHA384 (else AES-128-GCM-SHA256);
 *       bits 3-7: first peer sequence number.
 *   [1..3] seed of the split: segment lengths, chain boundaries and
 *       flushes between feeds.
 * The peer's traffic secret is PEER_SECRET, ours OUR_SECRET (first 32 or
 * 48 bytes): seeds carry validly sealed records so the fuzzer gets past the
 * tag (tests/fuzz/corpus/tls_record/).
 *
 * The stream is processed twice from a fresh session: once as one segment
 * and one flush, once split and flushed as the seed says. Both runs must
 * deliver the same bytes, send the same bytes and end the same way; every
 * record we sent must open under our keys (independent AES-GCM, EVP),
 * following our own KeyUpdates; nothing is delivered after on_close; and
 * all mbufs come back. Any violation aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <openssl/evp.h>

#include "tls/tls_keysched.h"
#include "tls/tls_record.h"
#include "../eal_runtime.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

#define OUTMAX (1 << 17)

static const uint8_t PEER_SECRET[48] = {
	0x70, 0x65, 0x65, 0x72, 0x20, 0x74, 0x72, 0x61, 0x66, 0x66, 0x69, 0x63, 0x20, 0x73,
	0x65, 0x63, 0x72, 0x65, 0x74, 0x20, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
	0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c,
	0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
};
static const uint8_t OUR_SECRET[48] = {
	0x6f, 0x75, 0x72, 0x20, 0x74, 0x72, 0x61, 0x66, 0x66, 0x69, 0x63, 0x20, 0x73, 0x65,
	0x63, 0x72, 0x65, 0x74, 0x20, 0x46, 0x45, 0x44, 0x43, 0x42, 0x41, 0x39, 0x38, 0x37,
	0x36, 0x35, 0x34, 0x33, 0x32, 0x31, 0x30, 0x7a, 0x79, 0x78, 0x77, 0x76, 0x75, 0x74,
	0x73, 0x72, 0x71, 0x70, 0x6f, 0x6e,
};

static struct rte_mempool *small_pool, *big_pool;
static struct wg_tls_lcore *lcs[2];
static struct wg_tls_lcore *lc;
static struct wg_tls_sess sess;

static struct run {
	uint8_t rx[OUTMAX];
	size_t rx_len;
	uint8_t tx[OUTMAX];
	size_t tx_len;
	unsigned int eofs, closes;
	int reason;
} runs[2], *cur;

static void
on_data(void *app, uint8_t *p, uint32_t len)
{
	(void)app;
	check(cur->closes == 0);
	check(len > 0 && len <= WG_TLS_MAX_PLAIN);
	check(cur->rx_len + len <= OUTMAX);
	memcpy(cur->rx + cur->rx_len, p, len);
	cur->rx_len += len;
}

static void
on_eof(void *app)
{
	(void)app;
	check(cur->closes == 0);
	cur->eofs++;
}

static void
on_send(void *app, struct rte_mbuf *m)
{
	struct rte_mbuf *seg;
	uint32_t sum = 0;

	(void)app;
	check(cur->closes == 0);
	for (seg = m; seg != NULL; seg = seg->next) {
		check(cur->tx_len + seg->data_len <= OUTMAX);
		memcpy(cur->tx + cur->tx_len, rte_pktmbuf_mtod(seg, void *), seg->data_len);
		cur->tx_len += seg->data_len;
		sum += seg->data_len;
	}
	check(sum == m->pkt_len);
	rte_pktmbuf_free(m);
}

static void
on_close(void *app, int reason)
{
	(void)app;
	check(cur->closes == 0);
	cur->closes++;
	cur->reason = reason;
}

static const struct wg_tls_ops ops = {
	.on_data = on_data, .on_eof = on_eof, .on_send = on_send, .on_close = on_close,
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal[] = { "fuzz", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			"--no-telemetry", "--log-level=error", prefix, NULL };
	struct wg_tls_rec_conf conf;

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "--file-prefix=fuzztls%d", (int)getpid());
	wg_test_eal_cleanup_at_exit();
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0)
		abort();
	rmdir(rte_eal_get_runtime_dir());
	small_pool = rte_pktmbuf_pool_create("fz_small", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					     SOCKET_ID_ANY);
	big_pool = rte_pktmbuf_pool_create("fz_big", 255, 0, 0,
					   RTE_PKTMBUF_HEADROOM + WG_TLS_BIG_BUF, SOCKET_ID_ANY);
	check(small_pool != NULL && big_pool != NULL);
	wg_tls_rec_conf_defaults(&conf);
	lcs[0] = wg_tls_lcore_create(&conf, &ops, small_pool, big_pool, SOCKET_ID_ANY);
	conf.batch = 3;
	conf.record_max = 64;
	conf.pad_block = 32;
	conf.rekey_records = 2;
	conf.rx_key_limit = 6;
	lcs[1] = wg_tls_lcore_create(&conf, &ops, small_pool, big_pool, SOCKET_ID_ANY);
	check(lcs[0] != NULL && lcs[1] != NULL);
	return 0;
}

static uint32_t
rnd(uint32_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 17;
	*st ^= *st << 5;
	return *st;
}

static struct rte_mbuf *
seg_new(const uint8_t *p, size_t n, bool shared)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(small_pool), *c;

	check(m != NULL);
	memcpy(rte_pktmbuf_append(m, (uint16_t)n), p, n);
	if (!shared)
		return m;
	/* an indirect clone: the layer must copy, never decrypt in it */
	c = rte_pktmbuf_clone(m, small_pool);
	check(c != NULL);
	rte_pktmbuf_free(m);
	return c;
}

static void
start(const struct wg_tls_secrets *sec, struct run *r)
{
	memset(r, 0, offsetof(struct run, rx));
	r->rx_len = r->tx_len = 0;
	r->eofs = r->closes = 0;
	r->reason = 1;
	cur = r;
	check(wg_tls_sess_init(lc, &sess, sec, NULL) == 0);
}

static void
finish(void)
{
	wg_tls_flush(lc);
	/* a live session: close it, so both runs end with everything sent */
	if (!wg_tls_sess_dead(&sess)) {
		check(wg_tls_close(lc, &sess) == 0);
		wg_tls_flush(lc);
	}
	check(cur->closes == 1);
	wg_tls_sess_release(lc, &sess);
}

/* Every record we sent opens under our keys, in order. */
static void
verify_tx(const struct run *r, uint16_t suite)
{
	uint8_t secret[48], key[32], iv[12], nonce[12], buf[WG_TLS_MAX_RECORD], tag[16];
	unsigned int hlen = wg_tls_suite_hash_len(suite), i;
	uint64_t seq = 0;
	size_t off = 0;

	memcpy(secret, OUR_SECRET, sizeof(secret));
	check(wg_tls_traffic_key_iv(suite, secret, hlen, key, iv) == 0);
	while (off < r->tx_len) {
		EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
		size_t len, inner;
		int n;

		check(r->tx_len - off >= WG_TLS_HDR_LEN + WG_TLS_MIN_CIPHER);
		check(r->tx[off] == 23 && r->tx[off + 1] == 3 && r->tx[off + 2] == 3);
		len = (size_t)r->tx[off + 3] << 8 | r->tx[off + 4];
		check(len >= WG_TLS_MIN_CIPHER && len <= WG_TLS_MAX_INNER + 16);
		check(off + 5 + len <= r->tx_len);
		inner = len - 16;
		memcpy(nonce, iv, 12);
		for (i = 0; i < 8; i++)
			nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
		memcpy(tag, r->tx + off + 5 + inner, 16);
		check(EVP_DecryptInit_ex(c, suite == WG_TLS_AES_128_GCM_SHA256 ? EVP_aes_128_gcm() :
					 EVP_aes_256_gcm(), NULL, key, nonce) == 1);
		check(EVP_DecryptUpdate(c, NULL, &n, r->tx + off, 5) == 1);
		check(EVP_DecryptUpdate(c, buf, &n, r->tx + off + 5, (int)inner) == 1);
		check(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1);
		check(EVP_DecryptFinal_ex(c, buf + n, &n) == 1);
		EVP_CIPHER_CTX_free(c);
		while (inner > 0 && buf[inner - 1] == 0)
			inner--;
		check(inner > 0);
		seq++;
		/* we send alerts, KeyUpdates, and nothing else here */
		if (buf[inner - 1] == WG_TLS_CT_ALERT) {
			check(inner == 3);
			check(off + 5 + len == r->tx_len);       /* the last record */
		} else {
			check(buf[inner - 1] == WG_TLS_CT_HANDSHAKE);
			check(inner == 6 && buf[0] == 24 && buf[3] == 1 && buf[4] <= 1);
			check(wg_tls_secret_update(suite, secret, hlen) == 0);
			check(wg_tls_traffic_key_iv(suite, secret, hlen, key, iv) == 0);
			seq = 0;
		}
		off += 5 + len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_tls_secrets sec;
	uint32_t st;
	size_t off;

	if (size < 4)
		return 0;
	lc = lcs[data[0] & 1];
	memset(&sec, 0, sizeof(sec));
	sec.suite = (data[0] & 4) ? WG_TLS_AES_256_GCM_SHA384 : WG_TLS_AES_128_GCM_SHA256;
	sec.secret_len = (uint8_t)wg_tls_suite_hash_len(sec.suite);
	sec.is_server = (data[0] >> 1) & 1;
	sec.rx_seq = data[0] >> 3;
	memcpy(sec.rx_secret, PEER_SECRET, sec.secret_len);
	memcpy(sec.tx_secret, OUR_SECRET, sec.secret_len);
	st = (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3] | 1u;
	data += 4;
	size -= 4;

	/* run 0: the stream in one piece (several segments when large) */
	start(&sec, &runs[0]);
	if (size > 0) {
		struct rte_mbuf *head = NULL, *tail = NULL;

		for (off = 0; off < size;) {
			size_t n = size - off > 2000 ? 2000 : size - off;
			struct rte_mbuf *m = seg_new(data + off, n, false);

			if (head == NULL) {
				head = m;
			} else {
				tail->next = m;
				head->nb_segs++;
				head->pkt_len += m->data_len;
			}
			tail = m;
			off += n;
		}
		wg_tls_rx_feed(lc, &sess, head);
	}
	finish();

	/* run 1: split as the seed says */
	start(&sec, &runs[1]);
	for (off = 0; off < size;) {
		struct rte_mbuf *head = NULL, *tail = NULL;
		unsigned int segs = 1 + rnd(&st) % 4, i;

		for (i = 0; i < segs && off < size; i++) {
			uint32_t r = rnd(&st);
			size_t n = 1 + (r & 1 ? r % 8 : r % 700);
			struct rte_mbuf *m;

			if (n > size - off)
				n = size - off;
			m = seg_new(data + off, n, (r >> 20) % 8 == 0);
			if (head == NULL) {
				head = m;
			} else {
				tail->next = m;
				head->nb_segs++;
				head->pkt_len += m->data_len;
			}
			tail = m;
			off += n;
		}
		wg_tls_rx_feed(lc, &sess, head);
		if (rnd(&st) % 3 == 0)
			wg_tls_flush(lc);
	}
	finish();

	check(runs[0].rx_len == runs[1].rx_len);
	check(memcmp(runs[0].rx, runs[1].rx, runs[0].rx_len) == 0);
	check(runs[0].tx_len == runs[1].tx_len);
	check(memcmp(runs[0].tx, runs[1].tx, runs[0].tx_len) == 0);
	check(runs[0].eofs == runs[1].eofs && runs[0].eofs <= 1);
	check(runs[0].reason == runs[1].reason);
	check(runs[0].rx_len <= size);
	verify_tx(&runs[0], sec.suite);
	if (getenv("WG_FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "delivered %zu sent %zu eof %u close %d\n", runs[0].rx_len,
			runs[0].tx_len, runs[0].eofs, runs[0].reason);
	check(rte_mempool_in_use_count(small_pool) == 0);
	check(rte_mempool_in_use_count(big_pool) == 0);
	return 0;
}
