/* SPDX-License-Identifier: BSD-3-Clause
 * Handshakes per second per core: the engine against plain OpenSSL server
 * SSL objects, measured in the same run with the same certificate, suites,
 * groups and tickets, driven by the same in-memory OpenSSL clients.
 *
 *   plain   one thread runs client and server SSLs over memory BIOs; only
 *           the server's calls are timed (SSL_new .. SSL_free).
 *   engine  the same clients, the engine polled on the same thread; only
 *           wg_tls_hs_poll() is timed (rings, OpenSSL, keylog/msg
 *           callbacks, output/leftover copies into mbufs, takeover).
 *   thread  the engine on its own thread, IN_FLIGHT clients kept busy by
 *           this one: wall-clock handshakes/s (bounded by the clients,
 *           whose signature check costs more than the server's signing)
 *           and the engine's busy cycles per handshake.
 * Rounds alternate plain/engine; the best round of each is kept (the
 * machine is shared). Prints the ratio; fails only on errors.
 *
 * usage: bench_tls_handshake GEN_CERTS_SCRIPT [handshakes per round]
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "tls_handshake.h"
#include "../eal_runtime.h"

#define ROUNDS    3
#define IN_FLIGHT 32
#define BUF       (32 * 1024)

static struct rte_mempool *pool;
static SSL_CTX *cli_ctx, *srv_ctx;
static struct wg_tls_conf conf;
static uint8_t buf[BUF];

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); \
	ERR_print_errors_fp(stderr); exit(1); } } while (0)

/* This thread's CPU time in ns: a shared two-core machine preempts us, and
 * time spent descheduled is no handshake's cost. */
static uint64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static SSL *
mem_ssl(SSL_CTX *ctx, bool server)
{
	SSL *s = SSL_new(ctx);

	CHECK(s != NULL);
	SSL_set_bio(s, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
	if (server)
		SSL_set_accept_state(s);
	else
		SSL_set_connect_state(s);
	return s;
}

static size_t
take(SSL *s)
{
	int n = BIO_read(SSL_get_wbio(s), buf, sizeof(buf));

	return n > 0 ? (size_t)n : 0;
}

static void
give(SSL *s, const void *p, size_t n)
{
	if (n > 0)
		CHECK(BIO_write(SSL_get_rbio(s), p, (int)n) == (int)n);
}

static int
step(SSL *s)
{
	int r = SSL_do_handshake(s);

	if (r == 1)
		return 1;
	CHECK(SSL_get_error(s, r) == SSL_ERROR_WANT_READ);
	return 0;
}

static SSL *
client_start(void)
{
	SSL *c = mem_ssl(cli_ctx, false);

	SSL_set_tlsext_host_name(c, "warpgate.test");
	CHECK(step(c) == 0);
	return c;
}

/* A client reads what the server said (tickets included) and is freed. */
static void
client_finish(SSL *c)
{
	char b[16];

	CHECK(SSL_read(c, b, sizeof(b)) <= 0);
	ERR_clear_error();
	SSL_free(c);
}

/* Plain OpenSSL: CPU ns spent in the server's calls for n handshakes. */
static uint64_t
run_plain(unsigned int n)
{
	uint64_t cyc = 0, t;

	for (unsigned int i = 0; i < n; i++) {
		SSL *c = client_start(), *s;
		size_t k = take(c);

		t = cpu_ns();
		s = mem_ssl(srv_ctx, true);
		give(s, buf, k);
		CHECK(step(s) == 0);
		k = take(s);
		cyc += cpu_ns() - t;
		give(c, buf, k);
		CHECK(step(c) == 1);
		k = take(c);
		t = cpu_ns();
		give(s, buf, k);
		CHECK(step(s) == 1);
		k = take(s);
		SSL_free(s);
		cyc += cpu_ns() - t;
		give(c, buf, k);
		client_finish(c);
	}
	return cyc;
}

static struct rte_mbuf *
to_mbuf(const uint8_t *p, size_t n)
{
	struct rte_mbuf *head = NULL, *tail = NULL;

	while (n > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		size_t k;

		CHECK(m != NULL);
		k = RTE_MIN(n, (size_t)rte_pktmbuf_tailroom(m));
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

static void
give_mbuf(SSL *s, const struct rte_mbuf *m)
{
	for (; m != NULL; m = m->next)
		give(s, rte_pktmbuf_mtod(m, const void *), rte_pktmbuf_data_len(m));
}

/* Poll until a reply for worker 0 shows up; CPU ns spent polling. */
static struct wg_tls_hs_msg *
poll_reply(struct wg_tls_hs *e, uint64_t *cyc)
{
	struct wg_tls_hs_msg *m;

	for (;;) {
		uint64_t t = cpu_ns();

		wg_tls_hs_poll(e);
		*cyc += cpu_ns() - t;
		if (wg_tls_hs_replies(e, 0, &m, 1) == 1)
			return m;
	}
}

/* The engine on this thread: CPU ns spent in wg_tls_hs_poll. */
static uint64_t
run_engine(struct wg_tls_hs *e, unsigned int n, uint32_t *gen)
{
	static int conn;
	uint64_t cyc = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct wg_tls_hs_ref ref = { .conn = &conn, .gen = ++*gen, .worker = 0 };
		SSL *c = client_start();
		struct wg_tls_hs_msg *m;

		CHECK(wg_tls_hs_accept(e, &ref, to_mbuf(buf, take(c))) == 0);
		m = poll_reply(e, &cyc);
		CHECK(m->type == WG_TLS_HS_SEND);
		give_mbuf(c, m->data);
		wg_tls_hs_msg_free(e, m);
		CHECK(step(c) == 1);
		CHECK(wg_tls_hs_data(e, &ref, to_mbuf(buf, take(c))) == 0);
		m = poll_reply(e, &cyc);
		CHECK(m->type == WG_TLS_HS_DONE && m->secrets.tx_seq == conf.tickets);
		give_mbuf(c, m->data);
		wg_tls_hs_msg_free(e, m);
		client_finish(c);
	}
	return cyc;
}

/* CPU ns used so far by the thread of this process named comm (the
 * engine's control thread is named after the engine), from schedstat. */
static uint64_t
thread_cpu_ns(const char *comm)
{
	char path[300], name[64];
	uint64_t ns = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;

	CHECK(d != NULL);
	while ((de = readdir(d)) != NULL) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(name, sizeof(name), f) != NULL && strncmp(name, comm, strlen(comm)) == 0 &&
		    name[strlen(comm)] == '\n') {
			fclose(f);
			snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", de->d_name);
			f = fopen(path, "r");
			CHECK(f != NULL && fscanf(f, "%" SCNu64, &ns) == 1);
		}
		fclose(f);
	}
	closedir(d);
	CHECK(ns != 0);
	return ns;
}

/* The engine on its own thread with IN_FLIGHT handshakes outstanding. */
static void
run_threaded(struct wg_tls_hs *e, unsigned int n, uint32_t *gen)
{
	static int conns[IN_FLIGHT];
	SSL *cli[IN_FLIGHT] = { NULL };
	uint32_t gens[IN_FLIGHT];
	unsigned int started = 0, finished = 0;
	uint64_t t0, t1, hz = rte_get_tsc_hz();

	uint64_t cpu0, cpu1;

	CHECK(wg_tls_hs_start(e) == 0);
	cpu0 = thread_cpu_ns("benchhs");
	t0 = rte_rdtsc();
	while (finished < n) {
		struct wg_tls_hs_msg *msgs[IN_FLIGHT];
		unsigned int k;

		for (unsigned int i = 0; i < IN_FLIGHT && started < n; i++) {
			struct wg_tls_hs_ref ref = { .conn = &conns[i], .worker = 0 };

			if (cli[i] != NULL)
				continue;
			cli[i] = client_start();
			gens[i] = ref.gen = ++*gen;
			CHECK(wg_tls_hs_accept(e, &ref, to_mbuf(buf, take(cli[i]))) == 0);
			started++;
		}
		k = wg_tls_hs_replies(e, 0, msgs, IN_FLIGHT);
		for (unsigned int j = 0; j < k; j++) {
			struct wg_tls_hs_msg *m = msgs[j];
			unsigned int i = (unsigned int)((int *)m->ref.conn - conns);
			struct wg_tls_hs_ref ref = m->ref;

			CHECK(i < IN_FLIGHT && cli[i] != NULL && ref.gen == gens[i]);
			if (m->type == WG_TLS_HS_FAIL)
				fprintf(stderr, "handshake %u (gen %u) failed: %d after %.3f s; started %u finished %u\n",
					i, ref.gen, m->status, (double)(rte_rdtsc() - t0) / (double)hz, started, finished);
			give_mbuf(cli[i], m->data);
			if (m->type == WG_TLS_HS_SEND) {
				CHECK(step(cli[i]) == 1);
				CHECK(wg_tls_hs_data(e, &ref, to_mbuf(buf, take(cli[i]))) == 0);
			} else {
				CHECK(m->type == WG_TLS_HS_DONE);
				client_finish(cli[i]);
				cli[i] = NULL;
				finished++;
			}
			wg_tls_hs_msg_free(e, m);
		}
		if (k == 0)
			rte_pause();
	}
	t1 = rte_rdtsc();
	cpu1 = thread_cpu_ns("benchhs");
	wg_tls_hs_stop(e);
	/* the engine idles with naps (back-off), so its CPU time is its
	 * work plus what polling costs */
	printf("  thread: %u handshakes, %u in flight: %.0f handshakes/s wall (bound by the"
	       " clients on the other core); engine thread CPU %.1f us/handshake -> %.0f"
	       " handshakes/s per engine core\n",
	       n, IN_FLIGHT, n * (double)hz / (double)(t1 - t0),
	       (double)(cpu1 - cpu0) / 1e3 / n, n * 1e9 / (double)(cpu1 - cpu0));
}

/* Heap held by handshakes waiting for the client's Finished (the state
 * between the two flights, where a slow or hostile client parks them). */
static void
inflight_memory(struct wg_tls_hs *e, uint32_t *gen)
{
	enum { K = 256 };
	static int conns[K];
	static SSL *cli[K];
	struct wg_tls_hs_stats st;
	size_t before, after;
	uint64_t cyc = 0;

	for (unsigned int i = 0; i < K; i++)
		cli[i] = client_start();
	before = mallinfo2().uordblks;
	for (unsigned int i = 0; i < K; i++) {
		struct wg_tls_hs_ref ref = { .conn = &conns[i], .gen = ++*gen, .worker = 0 };
		struct rte_mbuf *m = to_mbuf(buf, take(cli[i]));
		struct wg_tls_hs_msg *r;

		CHECK(wg_tls_hs_accept(e, &ref, m) == 0);
		r = poll_reply(e, &cyc);
		CHECK(r->type == WG_TLS_HS_SEND);
		wg_tls_hs_msg_free(e, r);
	}
	after = mallinfo2().uordblks;
	wg_tls_hs_stats_get(e, &st);
	CHECK(st.active == K);
	printf("  memory: %zu bytes of heap per handshake waiting for the client's Finished"
	       " (%d in flight)\n", (after - before) / K, K);
	for (unsigned int i = 0; i < K; i++) {
		struct wg_tls_hs_ref ref = { .conn = &conns[i], .gen = *gen - K + 1 + i, .worker = 0 };

		CHECK(wg_tls_hs_abort(e, &ref) == 0);
		SSL_free(cli[i]);
	}
	while (wg_tls_hs_poll(e) > 0)
		;
	wg_tls_hs_stats_get(e, &st);
	CHECK(st.active == 0);
}

static SSL_CTX *
plain_server_ctx(void)
{
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());

	CHECK(c != NULL);
	CHECK(SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) == 1);
	CHECK(SSL_CTX_set_ciphersuites(c, conf.ciphersuites) == 1);
	CHECK(SSL_CTX_set1_groups_list(c, conf.groups) == 1);
	CHECK(SSL_CTX_use_certificate_chain_file(c, conf.cert) == 1);
	CHECK(SSL_CTX_use_PrivateKey_file(c, conf.key, SSL_FILETYPE_PEM) == 1);
	CHECK(SSL_CTX_set_num_tickets(c, conf.tickets) == 1);
	/* like the engine: stateless tickets, no cache growing over the run */
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	return c;
}

int
main(int argc, char **argv)
{
	char prefix[48], dir[64], cmd[512];
	const char *eal[] = { "bench_tls_handshake", "--no-huge", "-m", "256", "--no-pci",
			      "--no-shconf", "--no-telemetry", "--log-level=error", "-l", "0",
			      prefix };
	static const char *const kinds[] = { "ec", "rsa" };
	unsigned int n = argc > 2 ? (unsigned int)atoi(argv[2]) : 1000;
	uint32_t gen = 0;

	if (argc < 2 || n == 0) {
		fprintf(stderr, "usage: %s GEN_CERTS_SCRIPT [handshakes per round]\n", argv[0]);
		return 2;
	}
	snprintf(prefix, sizeof(prefix), "--file-prefix=benchhs%d", (int)getpid());
	wg_test_eal_cleanup_at_exit();
	CHECK(rte_eal_init((int)RTE_DIM(eal), (char **)(uintptr_t)eal) >= 0);
	pool = rte_pktmbuf_pool_create("benchhs_pkt", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	CHECK(pool != NULL);

	for (unsigned int kind = 0; kind < RTE_DIM(kinds); kind++) {
		struct wg_tls_hs *e;
		uint64_t best_plain = UINT64_MAX, best_eng = UINT64_MAX;
		double us_plain, us_eng;

		snprintf(dir, sizeof(dir), "/tmp/benchhs%d", (int)getpid());
		snprintf(cmd, sizeof(cmd), "'%s' %s %s >/dev/null", argv[1], dir, kinds[kind]);
		CHECK(system(cmd) == 0);
		wg_tls_conf_defaults(&conf);
		snprintf(conf.cert, sizeof(conf.cert), "%s/chain.crt", dir);
		snprintf(conf.key, sizeof(conf.key), "%s/server.key", dir);
		conf.idle_sleep_max_us = 100;   /* thread mode: nap when idle */
		conf.handshake_timeout_ms = 60000; /* a loaded machine is no timeout */
		srv_ctx = plain_server_ctx();
		cli_ctx = SSL_CTX_new(TLS_client_method());
		CHECK(cli_ctx != NULL);
		SSL_CTX_set_verify(cli_ctx, SSL_VERIFY_NONE, NULL);
		e = wg_tls_hs_create("benchhs", &conf, 1, pool, SOCKET_ID_ANY);
		CHECK(e != NULL);

		/* warm-up: first-use costs (method fetches, tables) out of the way */
		(void)run_plain(20);
		(void)run_engine(e, 20, &gen);
		for (int r = 0; r < ROUNDS; r++) {
			best_plain = RTE_MIN(best_plain, run_plain(n));
			best_eng = RTE_MIN(best_eng, run_engine(e, n, &gen));
		}
		us_plain = (double)best_plain / 1e3 / n;
		us_eng = (double)best_eng / 1e3 / n;
		printf("tls_handshake [%s key, %s, %s, %u tickets]: server cost per handshake,"
		       " best of %d rounds of %u\n", kinds[kind], "TLS_AES_128_GCM_SHA256",
		       "X25519", conf.tickets, ROUNDS, n);
		printf("  plain OpenSSL server SSL: %8.1f us -> %7.0f handshakes/s per core\n",
		       us_plain, 1e6 / us_plain);
		printf("  engine (wg_tls_hs_poll):  %8.1f us -> %7.0f handshakes/s per core\n",
		       us_eng, 1e6 / us_eng);
		printf("  ratio engine/plain handshakes/s: %.3f\n", us_plain / us_eng);
		inflight_memory(e, &gen);
		run_threaded(e, n, &gen);
		wg_tls_hs_destroy(e);
		SSL_CTX_free(srv_ctx);
		SSL_CTX_free(cli_ctx);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK(system(cmd) == 0);
	}
	CHECK(rte_mempool_avail_count(pool) == 4095);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return 0;
}
