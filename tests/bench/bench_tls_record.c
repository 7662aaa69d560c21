/* SPDX-License-Identifier: BSD-3-Clause
 * TLS 1.3 record layer throughput: seal + open of one record per session
 * per burst (32 sessions) at 64, 256, 1024 and 16384 bytes, for
 *   (a) our layer: wg_tls_write + tx flush (batched seal) -> mbuf chains ->
 *       wg_tls_rx_feed + rx flush (batched open) -> on_data,
 *   (b) raw IPsec-MB direct AES-GCM calls on flat buffers (same keys),
 *   (c) OpenSSL EVP AES-GCM, one context per session and direction, per
 *       record: set IV, AAD, update, final, tag,
 * measured in the same run (thread CPU time, best of 5 rounds taking turns
 * after a warm-up), printed with the ratios. Also the cost of what is not per record: expanding a GCM key and
 * a whole session key takeover (HKDF). Never fails on performance.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <openssl/evp.h>

#include "tls/tls_gcm.h"
#include "tls/tls_keysched.h"
#include "tls/tls_record.h"
#include "../eal_runtime.h"

#define NSESS     32
#define REPS      5
#define TARGET_NS 250000000.0          /* per measurement */

static struct rte_mempool *small_pool, *big_pool;
static struct wg_tls_lcore *lc_tx, *lc_rx;
static struct wg_tls_sess *tx_sess, *rx_sess;
static struct rte_mbuf *sent[NSESS];
static uint64_t delivered;
static uint8_t payload[WG_TLS_MAX_PLAIN];

static void
on_data(void *app, uint8_t *p, uint32_t len)
{
	(void)app;
	(void)p;
	delivered += len;
}

static void
on_eof(void *app)
{
	(void)app;
}

static void
on_send(void *app, struct rte_mbuf *m)
{
	sent[(uintptr_t)app] = m;
}

static void
on_close(void *app, int reason)
{
	fprintf(stderr, "session %" PRIuPTR " closed: %d\n", (uintptr_t)app, reason);
	exit(1);
}

static const struct wg_tls_ops ops = {
	.on_data = on_data, .on_eof = on_eof, .on_send = on_send, .on_close = on_close,
};

/* CPU time of this thread: the machine is shared, wall time would count
 * other processes' slices */
static double
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ---- (a) our layer ---- */

static void
run_layer(uint32_t size, uint64_t iters)
{
	uint64_t it;
	unsigned int i;

	for (it = 0; it < iters; it++) {
		for (i = 0; i < NSESS; i++)
			if (wg_tls_write(lc_tx, &tx_sess[i], payload, size) != (int)size)
				exit(1);
		wg_tls_tx_flush(lc_tx);
		for (i = 0; i < NSESS; i++)
			wg_tls_rx_feed(lc_rx, &rx_sess[i], sent[i]);
		wg_tls_rx_flush(lc_rx);
	}
}

/* ---- (b) raw IPsec-MB ---- */

static IMB_MGR *mgr;
/* a connection has two expanded keys (rx, tx): so do the raw sessions, so
 * that all variants touch as much key memory per record */
static struct gcm_key_data raw_key[NSESS], raw_key_rx[NSESS];
static uint8_t raw_iv[NSESS][12];
static uint8_t *raw_buf[NSESS];
static uint64_t raw_seq[NSESS];

static void
run_raw(uint32_t size, uint64_t iters)
{
	uint8_t nonce[16];
	uint64_t it;
	unsigned int i;

	for (it = 0; it < iters; it++) {
		for (i = 0; i < NSESS; i++) {
			uint8_t *rec = raw_buf[i];

			memcpy(rec + 5, payload, size);
			rec[5 + size] = 23;
			wg_tls_nonce(nonce, raw_iv[i], raw_seq[i]);
			wg_tls_gcm_seal(mgr, 16, &raw_key[i], nonce, rec, size + 1);
		}
		for (i = 0; i < NSESS; i++) {
			wg_tls_nonce(nonce, raw_iv[i], raw_seq[i]++);
			if (!wg_tls_gcm_open(mgr, 16, &raw_key_rx[i], nonce, raw_buf[i],
					     size + 1 + WG_TLS_TAG_LEN))
				exit(1);
			delivered += size;
		}
	}
}

/* ---- (c) OpenSSL EVP ---- */

static EVP_CIPHER_CTX *evp_enc[NSESS], *evp_dec[NSESS];

static void
run_evp(uint32_t size, uint64_t iters)
{
	uint8_t nonce[16];
	uint64_t it;
	unsigned int i;
	int n;

	for (it = 0; it < iters; it++) {
		for (i = 0; i < NSESS; i++) {
			uint8_t *rec = raw_buf[i];
			uint32_t inner = size + 1;

			memcpy(rec + 5, payload, size);
			rec[5 + size] = 23;
			wg_tls_nonce(nonce, raw_iv[i], raw_seq[i]);
			if (EVP_EncryptInit_ex(evp_enc[i], NULL, NULL, NULL, nonce) != 1 ||
			    EVP_EncryptUpdate(evp_enc[i], NULL, &n, rec, 5) != 1 ||
			    EVP_EncryptUpdate(evp_enc[i], rec + 5, &n, rec + 5, (int)inner) != 1 ||
			    EVP_EncryptFinal_ex(evp_enc[i], rec + 5 + n, &n) != 1 ||
			    EVP_CIPHER_CTX_ctrl(evp_enc[i], EVP_CTRL_GCM_GET_TAG, 16,
						rec + 5 + inner) != 1)
				exit(1);
		}
		for (i = 0; i < NSESS; i++) {
			uint8_t *rec = raw_buf[i];
			uint32_t inner = size + 1;

			wg_tls_nonce(nonce, raw_iv[i], raw_seq[i]++);
			if (EVP_DecryptInit_ex(evp_dec[i], NULL, NULL, NULL, nonce) != 1 ||
			    EVP_DecryptUpdate(evp_dec[i], NULL, &n, rec, 5) != 1 ||
			    EVP_DecryptUpdate(evp_dec[i], rec + 5, &n, rec + 5, (int)inner) != 1 ||
			    EVP_CIPHER_CTX_ctrl(evp_dec[i], EVP_CTRL_GCM_SET_TAG, 16,
						rec + 5 + inner) != 1 ||
			    EVP_DecryptFinal_ex(evp_dec[i], rec + 5 + n, &n) != 1)
				exit(1);
			delivered += size;
		}
	}
}

typedef void (*run_fn)(uint32_t size, uint64_t iters);

/* iterations for about TARGET_NS of CPU time (after a warm-up) */
static uint64_t
calibrate(run_fn fn, uint32_t size)
{
	uint64_t iters = 16;
	double t0, t;

	for (;;) {
		t0 = cpu_ns();
		fn(size, iters);
		t = cpu_ns() - t0;
		if (t > TARGET_NS / 8)
			break;
		iters *= 2;
	}
	return (uint64_t)((double)iters * TARGET_NS / t) + 1;
}

/* ns per record (seal + open) of the three variants, best of REPS rounds
 * that take turns, so a noisy neighbour hurts all of them alike */
static void
measure(const run_fn fn[3], uint32_t size, double best[3])
{
	uint64_t iters[3];
	double t0, t;
	int r, v;

	for (v = 0; v < 3; v++) {
		iters[v] = calibrate(fn[v], size);
		best[v] = 1e30;
	}
	for (r = 0; r < REPS; r++) {
		for (v = 0; v < 3; v++) {
			delivered = 0;
			t0 = cpu_ns();
			fn[v](size, iters[v]);
			t = cpu_ns() - t0;
			if (delivered != iters[v] * NSESS * size) {
				fprintf(stderr, "delivered %" PRIu64 " bytes, expected %" PRIu64 "\n",
					delivered, iters[v] * NSESS * size);
				exit(1);
			}
			t /= (double)(iters[v] * NSESS);
			if (t < best[v])
				best[v] = t;
		}
	}
}

static void
setup_sessions(void)
{
	struct wg_tls_secrets a, b;
	uint8_t key[16];
	unsigned int i, j;

	for (i = 0; i < NSESS; i++) {
		memset(&a, 0, sizeof(a));
		a.suite = WG_TLS_AES_128_GCM_SHA256;
		a.secret_len = 32;
		a.is_server = 1;
		for (j = 0; j < 32; j++) {
			a.rx_secret[j] = (uint8_t)(i * 3 + j);
			a.tx_secret[j] = (uint8_t)(i * 5 + j * 7);
		}
		b = a;
		b.is_server = 0;
		memcpy(b.rx_secret, a.tx_secret, 32);
		memcpy(b.tx_secret, a.rx_secret, 32);
		if (wg_tls_sess_init(lc_tx, &tx_sess[i], &a, (void *)(uintptr_t)i) < 0 ||
		    wg_tls_sess_init(lc_rx, &rx_sess[i], &b, (void *)(uintptr_t)i) < 0)
			exit(1);
		if (wg_tls_traffic_key_iv(a.suite, a.tx_secret, 32, key, raw_iv[i]) < 0)
			exit(1);
		IMB_AES128_GCM_PRE(mgr, key, &raw_key[i]);
		IMB_AES128_GCM_PRE(mgr, key, &raw_key_rx[i]);
		raw_buf[i] = aligned_alloc(64, RTE_ALIGN_CEIL(WG_TLS_MAX_RECORD, 64));
		evp_enc[i] = EVP_CIPHER_CTX_new();
		evp_dec[i] = EVP_CIPHER_CTX_new();
		if (raw_buf[i] == NULL || evp_enc[i] == NULL || evp_dec[i] == NULL ||
		    EVP_EncryptInit_ex(evp_enc[i], EVP_aes_128_gcm(), NULL, key, raw_iv[i]) != 1 ||
		    EVP_DecryptInit_ex(evp_dec[i], EVP_aes_128_gcm(), NULL, key, raw_iv[i]) != 1)
			exit(1);
		memset(raw_buf[i], 0, WG_TLS_MAX_RECORD);
		raw_buf[i][0] = 23;
		raw_buf[i][1] = 3;
		raw_buf[i][2] = 3;
	}
}

/* what happens per key, not per record */
static void
per_key_costs(void)
{
	struct wg_tls_secrets a;
	struct gcm_key_data kd;
	uint8_t key[16] = { 1 };
	double t0, t_pre, t_init;
	unsigned int i, n = 20000;

	t0 = cpu_ns();
	for (i = 0; i < n; i++) {
		key[0] = (uint8_t)i;
		IMB_AES128_GCM_PRE(mgr, key, &kd);
	}
	t_pre = (cpu_ns() - t0) / n;
	memset(&a, 0, sizeof(a));
	a.suite = WG_TLS_AES_128_GCM_SHA256;
	a.secret_len = 32;
	t0 = cpu_ns();
	for (i = 0; i < n / 10; i++) {
		a.rx_secret[0] = (uint8_t)i;
		wg_tls_sess_init(lc_tx, &tx_sess[NSESS], &a, NULL);
		wg_tls_sess_release(lc_tx, &tx_sess[NSESS]);
	}
	t_init = (cpu_ns() - t0) / (n / 10);
	printf("per key: AES-128-GCM key expansion %.0f ns; session takeover (4x HKDF-Expand-Label"
	       " + 2 expansions) %.0f ns\n", t_pre, t_init);
	printf("memory: struct wg_tls_sess %zu B per connection (of which 2 x %d B expanded"
	       " GCM keys, IPsec-MB struct gcm_key_data is %zu B)\n",
	       sizeof(struct wg_tls_sess), WG_TLS_GCM_KEY_SIZE, sizeof(struct gcm_key_data));
}

int
main(int argc, char **argv)
{
	uint32_t sizes[8] = { 64, 256, 1024, 16384 };
	unsigned int n_sizes = 4;
	char prefix[64];
	const char *eal[] = { "bench_tls_record", "--no-huge", "-m", "512", "--no-pci",
			      "--no-shconf", "--no-telemetry", "--log-level=error", prefix };
	struct wg_tls_rec_conf conf;
	unsigned int k;

	/* sizes to run may be given as arguments */
	if (argc > 1) {
		for (n_sizes = 0; n_sizes < RTE_DIM(sizes) && (int)n_sizes < argc - 1; n_sizes++) {
			sizes[n_sizes] = (uint32_t)strtoul(argv[n_sizes + 1], NULL, 0);
			if (sizes[n_sizes] == 0 || sizes[n_sizes] > WG_TLS_MAX_PLAIN)
				return 1;
		}
	}
	snprintf(prefix, sizeof(prefix), "--file-prefix=benchtls%d", (int)getpid());
	wg_test_eal_cleanup_at_exit();
	if (rte_eal_init((int)RTE_DIM(eal), (char **)(uintptr_t)eal) < 0)
		return 1;
	small_pool = rte_pktmbuf_pool_create("b_small", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					     SOCKET_ID_ANY);
	big_pool = rte_pktmbuf_pool_create("b_big", 255, 32, 0,
					   RTE_PKTMBUF_HEADROOM + WG_TLS_BIG_BUF, SOCKET_ID_ANY);
	tx_sess = rte_zmalloc("b_tx", sizeof(*tx_sess) * (NSESS + 1), 64);
	rx_sess = rte_zmalloc("b_rx", sizeof(*rx_sess) * NSESS, 64);
	if (small_pool == NULL || big_pool == NULL || tx_sess == NULL || rx_sess == NULL)
		return 1;
	wg_tls_rec_conf_defaults(&conf);
	lc_tx = wg_tls_lcore_create(&conf, &ops, small_pool, big_pool, SOCKET_ID_ANY);
	lc_rx = wg_tls_lcore_create(&conf, &ops, small_pool, big_pool, SOCKET_ID_ANY);
	mgr = alloc_mb_mgr(0);
	if (lc_tx == NULL || lc_rx == NULL || mgr == NULL)
		return 1;
	init_mb_mgr_auto(mgr, NULL);
	memset(payload, 0x5a, sizeof(payload));
	setup_sessions();

	printf("TLS 1.3 record seal+open, AES-128-GCM, %d sessions x 1 record per burst; "
	       "IPsec-MB %s, code path %s\n", NSESS, imb_get_version_str(),
	       wg_tls_gcm_arch(lc_tx));
	printf("%7s | %22s | %22s | %22s | %9s | %9s\n", "bytes", "(a) wg_tls ns/rec GB/s",
	       "(b) raw IPsec-MB", "(c) OpenSSL EVP", "(a)/(c)", "(a)/(b)");
	for (k = 0; k < n_sizes; k++) {
		static const run_fn fn[3] = { run_layer, run_raw, run_evp };
		uint32_t s = sizes[k];
		double best[3], a, b, c;

		measure(fn, s, best);
		a = best[0];
		b = best[1];
		c = best[2];

		printf("%7u | %10.1f %11.2f | %10.1f %11.2f | %10.1f %11.2f | %8.2fx | %8.2f\n",
		       s, a, s / a, b, s / b, c, s / c, c / a, b / a);
	}
	printf("(a)/(c): speed-up over OpenSSL EVP; (a)/(b): share of raw IPsec-MB speed kept"
	       " (1.00 = equal)\n");
	per_key_costs();
	for (k = 0; k < NSESS; k++) {
		wg_tls_sess_release(lc_tx, &tx_sess[k]);
		wg_tls_sess_release(lc_rx, &rx_sess[k]);
		free(raw_buf[k]);
		EVP_CIPHER_CTX_free(evp_enc[k]);
		EVP_CIPHER_CTX_free(evp_dec[k]);
	}
	wg_tls_lcore_free(lc_tx);
	wg_tls_lcore_free(lc_rx);
	free_mb_mgr(mgr);
	return 0;
}
