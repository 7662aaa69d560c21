/* SPDX-License-Identifier: BSD-3-Clause
 * Client streams on a worker: TCP -> [TLS 1.3] -> WebSocket | framed | raw
 * -> service, and back.
 *
 * TCP callbacks only queue: bytes go to the stream (or, with TLS, to the
 * record layer) and the stream goes on the lcore's dirty list.
 * wg_stream_poll(), once per loop, then runs
 *   pass 1: the record layer opens every queued record of every stream as
 *           one AES-GCM batch and hands plaintext over (on_data), which the
 *           protocol parses in place;
 *   pass 2: streams with input left over from an earlier pass;
 *   pass 3: output: our closes, one AES-GCM seal batch for all streams
 *           (on_send hands records to TCP), plain output to TCP.
 *
 * Back-pressure end to end: a stream whose output TCP cannot take stops
 * consuming input, and input not consumed is not acknowledged to TCP
 * (wg_tcp_recv_done), which shuts the peer's window. With TLS, ciphertext
 * is held back from the record layer while the stream is paused, so
 * plaintext never piles up either. Nothing is dropped, nothing grows
 * without bound.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "chain.h"
#include "framed.h"
#include "gateway.h"
#include "log.h"
#include "statlist.h"
#include "stream.h"
#include "tcp.h"
#include "tls_handshake.h"
#include "tls_record.h"
#include "ws.h"
#include "wg_internal.pb-c.h"

RTE_LOG_REGISTER(wg_stream_logtype, wg.stream, INFO);
#define STREAM_LOG(l, ...) WG_LOG(wg_stream_logtype, l, "stream", __VA_ARGS__)

#define STREAM_MAX_LISTENERS 8
#define BUF_SMALL            4096      /* reassembly of messages split in transit */
#define BUF_SMALL_N          2047
#define BUF_LARGE_N          127
#define TLS_BIG_N            511       /* linear buffers for records split in transit */
#define TX_HIGH_WATER        (64 * 1024) /* output held before input pauses */
#define HS_BURST             32
#define HS_MAX_BYTES         (64 * 1024) /* to the engine before takeover: far above any
                                          * ClientHello + Finished; more waits */
#define CTL_MAX              (WG_WS_MAX_HDR + WG_WS_MAX_CTL)
#define OUT_MAX              (4 * TX_HIGH_WATER) /* queued for a client that does not
                                          * read: beyond it the connection goes */

struct stream_listen {
	struct wg_stream_lctx *lx;
	struct wg_stream_listener ls;
};

struct wg_stream_lctx {
	struct wg_tcp_ctx *tcp;
	struct rte_mempool *streams;
	struct rte_mempool *http;
	struct rte_mempool *buf_small;
	struct rte_mempool *buf_large;
	struct rte_mempool *pkt_pool;
	struct rte_mempool *tls_sess;  /* struct wg_tls_sess */
	struct rte_mempool *tls_big;   /* pktmbufs that hold a whole record */
	struct wg_tls_hs *engine;
	struct wg_tls_lcore *tlc;
	struct wg_gw *gw;
	const struct wg_ws_conf *ws_conf;
	struct wg_stream *dirty;       /* streams to run next pass */
	struct wg_stream *up_head;     /* upgrades in flight, by deadline (one timeout) */
	struct wg_stream *up_tail;
	uint64_t up_timeout_tsc;
	uint32_t buf_large_size;
	unsigned int worker;
	unsigned int n_listeners;
	struct stream_listen listeners[STREAM_MAX_LISTENERS];
	struct wg_ws_env env;
	struct wg_stream_stats st;
};

/* ------------------------------------------------------------ buffers */

static void *
buf_get(void *arg, uint32_t size)
{
	struct wg_stream_lctx *lx = arg;
	struct rte_mempool *mp;
	void *b;

	if (size <= BUF_SMALL)
		mp = lx->buf_small;
	else if (size <= lx->buf_large_size)
		mp = lx->buf_large;
	else
		return NULL;
	if (rte_mempool_get(mp, &b) != 0) {
		lx->st.nobufs++;
		return NULL;
	}
	return b;
}

static void
buf_put(void *arg, void *b)
{
	(void)arg;
	if (b != NULL)
		rte_mempool_put(rte_mempool_from_obj(b), b);
}

/* ------------------------------------------------------------ life cycle */

static void
mark_dirty(struct wg_stream *s)
{
	if (s->flags & WG_STREAMF_DIRTY)
		return;
	s->flags |= WG_STREAMF_DIRTY;
	s->dirty_next = s->lx->dirty;
	s->lx->dirty = s;
}

/* A WebSocket upgrade must complete within the timeout: a client that
 * trickles its request (slowloris) would otherwise hold a 10 KiB parser. */
static void
up_link(struct wg_stream *s)
{
	struct wg_stream_lctx *lx = s->lx;

	s->up_deadline = rte_get_tsc_cycles() + lx->up_timeout_tsc;
	s->up_next = NULL;
	s->up_prev = lx->up_tail;
	if (lx->up_tail != NULL)
		lx->up_tail->up_next = s;
	else
		lx->up_head = s;
	lx->up_tail = s;
	s->flags |= WG_STREAMF_UPLIST;
}

static void
up_unlink(struct wg_stream *s)
{
	struct wg_stream_lctx *lx = s->lx;

	if (!(s->flags & WG_STREAMF_UPLIST))
		return;
	if (s->up_prev != NULL)
		s->up_prev->up_next = s->up_next;
	else
		lx->up_head = s->up_next;
	if (s->up_next != NULL)
		s->up_next->up_prev = s->up_prev;
	else
		lx->up_tail = s->up_prev;
	s->up_next = s->up_prev = NULL;
	s->flags &= (uint16_t)~WG_STREAMF_UPLIST;
}

static inline struct wg_tls_hs_ref
hs_ref(const struct wg_stream *s)
{
	return (struct wg_tls_hs_ref){ .conn = (void *)(uintptr_t)s, .gen = s->gen,
				       .worker = (uint16_t)s->lx->worker };
}

/* Everything the stream holds goes back. The object returns to the pool
 * unless a poll list still links it (the poll frees it then). */
static void
stream_release(struct wg_stream *s)
{
	struct wg_stream_lctx *lx = s->lx;

	if (s->state == WG_STREAM_FREE)
		return;
	if (s->gw != NULL) {
		struct wg_gw_sess *ss = s->gw;

		s->gw = NULL;
		wg_gw_closed(lx->gw, ss, s->state == WG_STREAM_CLOSING ? 0 : -ECONNRESET);
	}
	if (s->state == WG_STREAM_TLS_HS) {
		struct wg_tls_hs_ref ref = hs_ref(s);

		/* a lost abort is reclaimed by the engine's timeout */
		(void)wg_tls_hs_abort(lx->engine, &ref);
	}
	rte_pktmbuf_free(s->rx);
	rte_pktmbuf_free(s->rx_held);
	rte_pktmbuf_free(s->tx);
	s->rx = s->rx_held = s->tx = NULL;
	s->rx_off = s->rx_bytes = 0;
	up_unlink(s);
	if (s->http != NULL) {
		rte_mempool_put(lx->http, s->http);
		s->http = NULL;
	}
	if (s->flags & WG_STREAMF_PROTO) {
		if (s->proto == WG_STREAM_WS)
			wg_ws_release(&s->u.ws);
		else if (s->proto == WG_STREAM_FRAMED)
			wg_framed_release(&s->u.fr);
	}
	if (s->tls != NULL) {
		wg_tls_sess_release(lx->tlc, s->tls);
		rte_mempool_put(lx->tls_sess, s->tls);
		s->tls = NULL;
	}
	s->tcp = NULL;
	s->state = WG_STREAM_FREE;
	s->gen++;
	lx->st.closed++;
	lx->st.active--;
	if (!(s->flags & (WG_STREAMF_DIRTY | WG_STREAMF_INPASS)))
		rte_mempool_put(lx->streams, s);
}

/* Reset the TCP connection (no on_closed follows) and free the stream. */
static void
stream_abort(struct wg_stream *s)
{
	struct wg_tcp_conn *c = s->tcp;

	stream_release(s);
	if (c != NULL) {
		c->app_ctx = NULL;
		wg_tcp_abort(c);
	}
}

/* A gateway connection becomes a client session once messages can flow. */
static int
gw_attach(struct wg_stream *s)
{
	struct wg_stream_peer peer;

	if (s->ls->service != WG_SVC_GATEWAY)
		return 0;
	(void)wg_stream_peer(s, &peer);
	s->gw = wg_gw_open(s->lx->gw, s, peer.ip, peer.port, peer.listener_port, peer.transport);
	return s->gw != NULL ? 0 : -ENOMEM;
}

/* The protocol starts: right away, or after the TLS handshake. */
static int
stream_open(struct wg_stream *s)
{
	struct wg_stream_lctx *lx = s->lx;
	void *obj;
	int ret;

	switch (s->proto) {
	case WG_STREAM_WS:
		if (rte_mempool_get(lx->http, &obj) != 0)
			return -ENOBUFS;
		s->http = obj;
		wg_ws_http_server_init(s->http, lx->ws_conf);
		s->state = WG_STREAM_HTTP;
		up_link(s);
		return 0;
	case WG_STREAM_FRAMED:
		ret = wg_framed_init(&s->u.fr, s->ls->max_message, &lx->env);
		if (ret != 0)
			return ret;
		s->flags |= WG_STREAMF_PROTO;
		break;
	default:
		break;
	}
	s->state = WG_STREAM_OPEN;
	return gw_attach(s);
}

static int
stream_accept(struct wg_tcp_conn *c, void *arg, void **app)
{
	struct stream_listen *sl = arg;
	struct wg_stream_lctx *lx = sl->lx;
	struct wg_tls_hs_ref ref;
	struct wg_stream *s;
	uint32_t gen;
	void *obj;
	int ret;

	if (rte_mempool_get(lx->streams, &obj) != 0) {
		lx->st.refused_nomem++;
		return -ENOMEM;
	}
	s = obj;
	/* gen survives reuse: a reply meant for the previous user must miss */
	gen = s->gen;
	memset(s, 0, sizeof(*s));
	s->gen = gen + 1;
	s->tcp = c;
	s->lx = lx;
	s->ls = &sl->ls;
	s->proto = sl->ls.proto;
	if (sl->ls.tls) {
		s->state = WG_STREAM_TLS_HS;
		ref = hs_ref(s);
		ret = wg_tls_hs_accept(lx->engine, &ref, NULL);
	} else {
		ret = stream_open(s);
	}
	if (ret != 0) {
		/* overload: refused before a byte was sent; the peer retries */
		lx->st.refused_nomem++;
		s->state = WG_STREAM_FREE;
		rte_mempool_put(lx->streams, s);
		return ret;
	}
	lx->st.accepted++;
	lx->st.active++;
	*app = s;
	return 0;
}

/* ------------------------------------------------------------ output */

static inline uint32_t
tx_len(const struct wg_stream *s)
{
	return s->tx != NULL ? rte_pktmbuf_pkt_len(s->tx) : 0;
}

/* Output waiting for TCP, or written this pass and not sealed yet, is over
 * the mark: stop taking input. */
static inline bool
out_full(const struct wg_stream *s)
{
	return tx_len(s) + s->pass_out >= TX_HIGH_WATER;
}

/* Queue bytes for the peer. -ENOMEM when pools are dry: the caller resets. */
static int
tx_put(struct wg_stream *s, const void *p, uint32_t len)
{
	struct wg_stream_lctx *lx = s->lx;
	int n;

	if (len == 0)
		return 0;
	if (s->flags & WG_STREAMF_TLS) {
		n = wg_tls_write(lx->tlc, s->tls, p, len);
		if (n == -EPIPE)
			return 0;      /* the session is closing: nothing more goes */
		if (n != (int)len) {
			lx->st.tx_nomem++;
			return -ENOMEM;
		}
	} else if (wg_chain_append(&s->tx, lx->pkt_pool, p, len) != 0) {
		lx->st.tx_nomem++;
		return -ENOMEM;
	}
	s->pass_out += len;
	lx->st.bytes_out += len;
	return 0;
}

/* Hand s->tx (plain bytes, or sealed records TCP refused earlier) to TCP,
 * as much as its send buffer takes. */
static int
tx_push(struct wg_stream *s)
{
	struct wg_tcp_conn *c = s->tcp;
	struct rte_mbuf *rest;
	int ret;

	while (s->tx != NULL) {
		rest = wg_chain_split(s->tx, wg_tcp_send_space(c));
		if (rest == s->tx) {
			wg_tcp_want_writable(c);
			return 0;
		}
		ret = wg_tcp_send(c, s->tx);
		if (ret != 0) {
			if (rest != NULL)
				rte_pktmbuf_chain(s->tx, rest);
			if (ret == -EAGAIN)
				return 0;
			return ret;
		}
		s->tx = rest;
	}
	return 0;
}

/* ------------------------------------------------------------ input */

/* Our last bytes are queued: input stops (what was held is dropped and
 * acknowledged), FIN (after close_notify) once the output drained. */
static void
stream_closing(struct wg_stream *s)
{
	uint32_t n = s->rx_bytes;

	if (n > 0 && !(s->flags & WG_STREAMF_TLS))
		wg_tcp_recv_done(s->tcp, n);
	if (s->rx_held != NULL)
		wg_tcp_recv_done(s->tcp, rte_pktmbuf_pkt_len(s->rx_held));
	rte_pktmbuf_free(s->rx);
	rte_pktmbuf_free(s->rx_held);
	s->rx = s->rx_held = NULL;
	s->rx_off = s->rx_bytes = 0;
	up_unlink(s);
	if (s->http != NULL) {
		rte_mempool_put(s->lx->http, s->http);
		s->http = NULL;
	}
	s->state = WG_STREAM_CLOSING;
	s->flags |= WG_STREAMF_FIN_OWED;
}

/* The echo service: what came in goes back, as the same kind of message. */
static int
svc_echo_msg(struct wg_stream *s, const struct wg_ws_event *ev)
{
	uint8_t hdr[WG_WS_MAX_HDR], mask[4];
	int n;

	s->lx->st.msgs_in++;
	s->lx->st.bytes_in += ev->len;
	switch (s->proto) {
	case WG_STREAM_WS:
		n = wg_ws_frame_begin(&s->u.ws, true, ev->opcode, ev->len, hdr, mask);
		if (n < 0)
			return 0;      /* our close went out: nothing more is sent */
		break;
	case WG_STREAM_FRAMED:
		wg_framed_header(hdr, ev->len);
		n = WG_FRAMED_HDR;
		break;
	default:
		n = 0;
		break;
	}
	if (tx_put(s, hdr, (uint32_t)n) != 0 || tx_put(s, ev->data, ev->len) != 0)
		return -ENOMEM;
	s->lx->st.msgs_out++;
	return 0;
}

/* A whole message to the listener's service. Negative: reset. */
static int
svc_msg(struct wg_stream *s, const struct wg_ws_event *ev)
{
	if (s->ls->service != WG_SVC_GATEWAY)
		return svc_echo_msg(s, ev);
	s->lx->st.msgs_in++;
	s->lx->st.bytes_in += ev->len;
	if (s->gw == NULL)
		return 0;
	/* the gateway answers bad input itself (Error, kick and close) */
	(void)wg_gw_input(s->lx->gw, s->gw, s->proto == WG_STREAM_WS && ev->opcode == WG_WS_OP_TEXT,
			  ev->data, ev->len);
	return (s->flags & WG_STREAMF_KILL) ? -ENOMEM : 0;
}

static int
ws_event(struct wg_stream *s, const struct wg_ws_event *ev)
{
	uint8_t out[CTL_MAX];
	int n, ret = 0;

	switch (ev->type) {
	case WG_WS_EV_MESSAGE:
		ret = svc_msg(s, ev);
		break;
	case WG_WS_EV_PING:
	case WG_WS_EV_CLOSE:
	case WG_WS_EV_ERROR:
		n = wg_ws_reply(&s->u.ws, ev, out, sizeof(out));
		if (n > 0)
			ret = tx_put(s, out, (uint32_t)n);
		if (ev->type == WG_WS_EV_ERROR)
			s->lx->st.proto_errors++;
		/* the server closes the TCP connection first (RFC 6455 7.1.1) */
		if (ev->type != WG_WS_EV_PING)
			stream_closing(s);
		break;
	default:
		break;
	}
	return ret;
}

/* The upgrade request: 101 and frames from here, or an error status and
 * close. Bytes past the request are the client's first frames. */
static int
http_input(struct wg_stream *s, const uint8_t *p, uint32_t len, size_t *used)
{
	char resp[1024];
	int ret, n;

	ret = wg_ws_http_feed(s->http, p, len, used);
	if (ret == -EAGAIN)
		return 0;
	n = wg_ws_http_response(s->http, resp, sizeof(resp));
	if (n > 0 && tx_put(s, resp, (uint32_t)n) != 0)
		return -ENOMEM;
	rte_mempool_put(s->lx->http, s->http);
	s->http = NULL;
	up_unlink(s);
	if (ret == 0 && n > 0 &&
	    wg_ws_init(&s->u.ws, s->lx->ws_conf, &s->lx->env, WG_WS_SERVER) == 0) {
		s->flags |= WG_STREAMF_PROTO;
		s->state = WG_STREAM_OPEN;
		s->lx->st.http_upgrades++;
		if (gw_attach(s) != 0)
			wg_stream_msg_end(s, 1013);   /* try again later */
		return 0;
	}
	s->lx->st.http_refused++;
	stream_closing(s);
	return 0;
}

/* Run the protocol over one contiguous chunk of received bytes (p is
 * writable: WebSocket payload is unmasked in place). *used is what was
 * consumed; it stops short when the output is over the high-water mark, a
 * reassembly pool is dry, or the stream began closing. Negative: reset. */
static int
parse_chunk(struct wg_stream *s, uint8_t *p, uint32_t len, uint32_t *used)
{
	struct wg_ws_event ev;
	size_t u;
	int ret;

	*used = 0;
	while (*used < len) {
		if (out_full(s)) {
			if (!(s->flags & WG_STREAMF_TLS) && (ret = tx_push(s)) != 0)
				return ret;
			if (out_full(s)) {
				s->lx->st.blocked++;
				return 0;
			}
		}
		u = 0;
		ev.type = WG_WS_EV_NONE;
		ev.buf = NULL;
		if (s->state == WG_STREAM_HTTP) {
			ret = http_input(s, p + *used, len - *used, &u);
		} else if (s->state != WG_STREAM_OPEN) {
			return 0;
		} else if (s->proto == WG_STREAM_WS) {
			ret = wg_ws_recv(&s->u.ws, p + *used, len - *used, &ev, &u);
		} else if (s->proto == WG_STREAM_FRAMED) {
			ret = wg_framed_recv(&s->u.fr, p + *used, len - *used, &ev, &u);
		} else {
			ev.type = WG_WS_EV_MESSAGE;
			ev.data = p + *used;
			ev.len = len - *used;
			u = ev.len;
			ret = 0;
		}
		*used += (uint32_t)u;
		if (ret == -ENOBUFS) {
			/* a reassembly pool is dry: this stream waits a pass */
			s->flags |= WG_STREAMF_RX_NOBUF;
			return 0;
		}
		if (ret < 0)
			return ret;
		ret = 0;
		if (ev.type == WG_WS_EV_MESSAGE)
			ret = svc_msg(s, &ev);
		else if (ev.type != WG_WS_EV_NONE && s->proto == WG_STREAM_WS)
			ret = ws_event(s, &ev);
		else if (ev.type == WG_WS_EV_ERROR) {
			/* framed: a length over the limit cannot be resynchronised */
			s->lx->st.proto_errors++;
			stream_closing(s);
		}
		if (ev.buf != NULL)
			buf_put(s->lx, ev.buf);
		if (ret != 0)
			return ret;
		if (s->state == WG_STREAM_CLOSING)
			return 0;
	}
	return 0;
}

/* Input held in s->rx from an earlier pass. Without TLS, consuming it is
 * what reopens the peer's window. */
static int
rx_run(struct wg_stream *s)
{
	uint32_t used, len;
	int ret;

	s->flags &= (uint16_t)~WG_STREAMF_RX_NOBUF;
	while (s->rx != NULL) {
		len = s->rx->data_len - s->rx_off;
		ret = parse_chunk(s, rte_pktmbuf_mtod_offset(s->rx, uint8_t *, s->rx_off), len,
				  &used);
		if (ret != 0)
			return ret;
		if (s->state == WG_STREAM_CLOSING || s->rx == NULL)
			return 0;      /* closing dropped the rest */
		s->rx_off += used;
		s->rx_bytes -= used;
		if (!(s->flags & WG_STREAMF_TLS) && used > 0)
			wg_tcp_recv_done(s->tcp, used);
		if (used < len)
			return 0;      /* paused */
		s->rx_off = 0;
		s->rx = wg_chain_pop(s->rx);
	}
	return 0;
}

static inline bool
seg_writable(const struct rte_mbuf *m)
{
	return RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1;
}

/* Append chain m (bytes from TCP) to the chain at *head, which takes it.
 * A peer dribbling tiny segments must not pin an mbuf per byte: what fits
 * the tail of the last segment is copied there. Segments we may not write
 * (shared with another user) are copied, because the WebSocket parser
 * unmasks in place. -ENOMEM: m is freed and *head may hold part of it (the
 * caller resets the stream). */
static int
hold_append(struct rte_mbuf **head, struct rte_mempool *pool, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct rte_mbuf *last, *seg;
	bool writable = true;
	int ret = 0;

	for (seg = m; seg != NULL; seg = seg->next)
		writable &= seg_writable(seg);
	last = *head != NULL ? rte_pktmbuf_lastseg(*head) : NULL;
	if (!writable || (last != NULL && len <= rte_pktmbuf_tailroom(last) &&
			  seg_writable(last))) {
		for (seg = m; seg != NULL && ret == 0; seg = seg->next)
			ret = wg_chain_append(head, pool, rte_pktmbuf_mtod(seg, void *),
					      seg->data_len);
		rte_pktmbuf_free(m);
		return ret;
	}
	if (*head == NULL) {
		*head = m;
		return 0;
	}
	if (rte_pktmbuf_chain(*head, m) != 0) {
		rte_pktmbuf_free(m);
		return -ENOMEM;
	}
	return 0;
}

/* New input waits (unacknowledged) behind older input, full output, a dry
 * buffer pool or handshake bytes still coming back from the engine. */
static inline bool
rx_paused(const struct wg_stream *s)
{
	return s->rx != NULL || s->rx_held != NULL || out_full(s) ||
	       (s->flags & (WG_STREAMF_RX_NOBUF | WG_STREAMF_HS_LATE));
}

/* ------------------------------------------------------------ TCP side */

/* Bytes from TCP. During the handshake they are collected and go to the
 * engine once per poll (one message per stream, however the peer splits
 * them), up to HS_MAX_BYTES: past that they wait unacknowledged for the
 * takeover (the window closes), then go to the record layer. Afterwards
 * bytes go to the record layer, or are held while the stream is paused. */
static void
stream_data(struct wg_tcp_conn *c, struct rte_mbuf *m)
{
	struct wg_stream *s = c->app_ctx;
	struct wg_stream_lctx *lx = s->lx;
	uint32_t len = rte_pktmbuf_pkt_len(m);

	if (s->flags & WG_STREAMF_KILL) {
		wg_tcp_recv_done(c, len);
		rte_pktmbuf_free(m);
		return;
	}
	switch (s->state) {
	case WG_STREAM_TLS_HS:
		if (hold_append(&s->rx_held, lx->pkt_pool, m) != 0) {
			lx->st.tx_nomem++;
			stream_abort(s);
			return;
		}
		mark_dirty(s);
		return;
	case WG_STREAM_HTTP:
	case WG_STREAM_OPEN:
		break;
	default:
		/* closing: nothing more is read, but the window keeps moving
		 * so our last bytes and FIN are not stuck behind it */
		wg_tcp_recv_done(c, len);
		rte_pktmbuf_free(m);
		return;
	}
	mark_dirty(s);
	if (!(s->flags & WG_STREAMF_TLS)) {
		if (hold_append(&s->rx, lx->pkt_pool, m) != 0) {
			lx->st.tx_nomem++;
			stream_abort(s);
			return;
		}
		s->rx_bytes += len;
		return;
	}
	if (rx_paused(s)) {
		/* ciphertext waits unacknowledged: the window does the rest */
		if (hold_append(&s->rx_held, lx->pkt_pool, m) != 0) {
			lx->st.tx_nomem++;
			stream_abort(s);
		}
		return;
	}
	(void)wg_tls_rx_feed(lx->tlc, s->tls, m);
	wg_tcp_recv_done(c, len);
}

static void
stream_eof(struct wg_tcp_conn *c)
{
	struct wg_stream *s = c->app_ctx;

	s->flags |= WG_STREAMF_EOF;
	mark_dirty(s);
}

static void
stream_writable(struct wg_tcp_conn *c)
{
	mark_dirty(c->app_ctx);
}

static void
stream_closed(struct wg_tcp_conn *c, int reason)
{
	struct wg_stream *s = c->app_ctx;

	(void)reason;
	c->app_ctx = NULL;
	if (s != NULL)
		stream_release(s);
}

static const struct wg_tcp_ops stream_ops = {
	.on_accept = stream_accept,
	.on_data = stream_data,
	.on_eof = stream_eof,
	.on_writable = stream_writable,
	.on_closed = stream_closed,
};

/* ------------------------------------------------------------ TLS side */

/* Authentic plaintext, valid during the call: parsed in place unless the
 * stream is paused, the rest copied for a later pass. */
static void
tls_on_data(void *app, uint8_t *p, uint32_t len)
{
	struct wg_stream *s = app;
	uint32_t used = 0;
	int ret = 0;

	if ((s->state != WG_STREAM_HTTP && s->state != WG_STREAM_OPEN) ||
	    (s->flags & WG_STREAMF_KILL))
		return;
	if (s->rx == NULL)
		ret = parse_chunk(s, p, len, &used);
	if (ret == 0 && s->state != WG_STREAM_CLOSING && used < len) {
		struct rte_mbuf *tail = NULL;

		if (s->rx != NULL)
			tail = s->rx;
		ret = wg_chain_append(&tail, s->lx->pkt_pool, p + used, len - used);
		s->rx = tail;
		s->rx_bytes += len - used;
	}
	/* a session may not be released from inside the record layer's
	 * callbacks: the poll resets the stream */
	if (ret != 0)
		s->flags |= WG_STREAMF_KILL;
	mark_dirty(s);
}

static void
tls_on_eof(void *app)
{
	struct wg_stream *s = app;

	s->flags |= WG_STREAMF_EOF;
	mark_dirty(s);
}

/* Sealed records: to TCP, or kept in order behind what TCP refused. */
static void
tls_on_send(void *app, struct rte_mbuf *m)
{
	struct wg_stream *s = app;

	if (s->tcp == NULL || (s->flags & WG_STREAMF_KILL)) {
		rte_pktmbuf_free(m);
		return;
	}
	if (s->tx == NULL)
		s->tx = m;
	else if (rte_pktmbuf_chain(s->tx, m) != 0) {
		rte_pktmbuf_free(m);
		s->flags |= WG_STREAMF_KILL;
		mark_dirty(s);
		return;
	}
	if (tx_push(s) != 0) {
		s->flags |= WG_STREAMF_KILL;
		mark_dirty(s);
	}
}

/* The session ended: after our close_notify (0) or an alert. TCP closes
 * once the last records are out. */
static void
tls_on_close(void *app, int reason)
{
	struct wg_stream *s = app;

	if (s->tcp == NULL || (s->flags & WG_STREAMF_KILL))
		return;
	if (reason != 0)
		s->lx->st.tls_errors++;
	if (s->state != WG_STREAM_CLOSING)
		stream_closing(s);
	s->flags |= WG_STREAMF_FIN_OWED | WG_STREAMF_TLS_DONE;
	mark_dirty(s);
}

static const struct wg_tls_ops stream_tls_ops = {
	.on_data = tls_on_data,
	.on_eof = tls_on_eof,
	.on_send = tls_on_send,
	.on_close = tls_on_close,
};

/* Feed ciphertext held while the stream was paused. */
static void
tls_unhold(struct wg_stream *s)
{
	struct rte_mbuf *m = s->rx_held;

	s->rx_held = NULL;
	wg_tcp_recv_done(s->tcp, rte_pktmbuf_pkt_len(m));
	(void)wg_tls_rx_feed(s->lx->tlc, s->tls, m);
}

/* ------------------------------------------------------------ handshakes */

/* The handshake bytes collected in this pass, as one message. */
static int
hs_feed(struct wg_stream *s)
{
	struct wg_tls_hs_ref ref = hs_ref(s);
	struct rte_mbuf *m = s->rx_held;
	uint32_t len = rte_pktmbuf_pkt_len(m);
	int ret;

	ret = wg_tls_hs_data(s->lx->engine, &ref, m);
	if (ret != 0)
		return ret;    /* the engine is overloaded: m stays, the stream resets */
	s->rx_held = NULL;
	s->hs_data++;
	s->hs_bytes += len;
	wg_tcp_recv_done(s->tcp, len);
	return 0;
}

/* Handshake output for the peer, after whatever is queued already. */
static int
hs_send(struct wg_stream *s, struct wg_tls_hs_msg *msg)
{
	struct rte_mbuf *m = msg->data;

	if (m == NULL)
		return 0;
	msg->data = NULL;
	if (s->tx == NULL) {
		s->tx = m;
	} else if (rte_pktmbuf_chain(s->tx, m) != 0) {
		rte_pktmbuf_free(m);
		return -ENOMEM;
	}
	return tx_push(s);
}

/* One reply of the handshake engine. Feeding the record layer may run its
 * callbacks for this stream (a full batch is opened at once): the stream is
 * on the dirty list first, so nothing frees it under us. */
static void
hs_reply(struct wg_stream_lctx *lx, struct wg_tls_hs_msg *msg)
{
	struct wg_stream *s = msg->ref.conn;
	void *obj;
	int ret = 0;

	if (s->gen != msg->ref.gen || s->state == WG_STREAM_FREE)
		return;        /* the connection went meanwhile */
	mark_dirty(s);
	if (msg->type == WG_TLS_HS_LATE) {
		/* bytes that reached the engine after it finished: the first
		 * records of the session, older than anything held since */
		if (!(s->flags & WG_STREAMF_HS_LATE))
			return;
		if (--s->hs_late == 0)
			s->flags &= (uint16_t)~WG_STREAMF_HS_LATE;
		if (msg->data != NULL && !(s->flags & WG_STREAMF_KILL) &&
		    s->state != WG_STREAM_CLOSING) {
			(void)wg_tls_rx_feed(lx->tlc, s->tls, msg->data);
			msg->data = NULL;
		}
		return;
	}
	if (s->state != WG_STREAM_TLS_HS)
		return;
	ret = hs_send(s, msg);
	switch (msg->type) {
	case WG_TLS_HS_SEND:
		break;
	case WG_TLS_HS_DONE:
		if (ret != 0)
			break;
		if (rte_mempool_get(lx->tls_sess, &obj) != 0) {
			ret = -ENOMEM;
			break;
		}
		memset(obj, 0, sizeof(struct wg_tls_sess));
		ret = wg_tls_sess_init(lx->tlc, obj, &msg->secrets, s);
		if (ret != 0) {
			rte_mempool_put(lx->tls_sess, obj);
			break;
		}
		s->tls = obj;
		s->flags |= WG_STREAMF_TLS;
		lx->st.tls_handshakes++;
		s->state = WG_STREAM_OPEN;     /* leaves TLS_HS: no abort to the engine */
		ret = stream_open(s);
		if (ret != 0)
			break;
		if (s->hs_data > msg->data_msgs) {
			s->hs_late = s->hs_data - msg->data_msgs;
			s->flags |= WG_STREAMF_HS_LATE;
		}
		if (msg->leftover != NULL) {
			(void)wg_tls_rx_feed(lx->tlc, s->tls, msg->leftover);
			msg->leftover = NULL;
		}
		break;
	case WG_TLS_HS_FAIL:
		/* the engine freed its side; the alert (if any) is queued */
		lx->st.tls_failed++;
		s->state = WG_STREAM_CLOSING;
		s->flags |= WG_STREAMF_FIN_OWED;
		break;
	default:
		break;
	}
	if (ret != 0) {
		if (msg->type != WG_TLS_HS_FAIL)
			lx->st.tls_failed++;
		s->flags |= WG_STREAMF_KILL;
	}
}

static unsigned int
hs_poll(struct wg_stream_lctx *lx)
{
	struct wg_tls_hs_msg *msgs[HS_BURST];
	unsigned int n, i;

	if (lx->engine == NULL)
		return 0;
	n = wg_tls_hs_replies(lx->engine, lx->worker, msgs, HS_BURST);
	for (i = 0; i < n; i++) {
		hs_reply(lx, msgs[i]);
		wg_tls_hs_msg_free(lx->engine, msgs[i]);
	}
	return n;
}

/* ------------------------------------------------------------ the loop */

static const char http_408[] =
	"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

/* Upgrades past their deadline get 408 and a close. */
static unsigned int
up_expire(struct wg_stream_lctx *lx)
{
	uint64_t now = rte_get_tsc_cycles();
	struct wg_stream *s;
	unsigned int n = 0;

	while ((s = lx->up_head) != NULL && s->up_deadline <= now) {
		up_unlink(s);
		lx->st.http_timeouts++;
		if (tx_put(s, http_408, sizeof(http_408) - 1) != 0) {
			stream_abort(s);
		} else {
			rte_mempool_put(lx->http, s->http);
			s->http = NULL;
			stream_closing(s);
			mark_dirty(s);
		}
		n++;
	}
	return n;
}

/* Pass 3 for one stream: our close, then output to the wire; TCP's FIN once
 * the last byte (and close_notify) is queued. Negative: reset. */
static int
stream_flush(struct wg_stream *s)
{
	int ret;

	if (s->state == WG_STREAM_FREE)
		return 0;
	if (s->state == WG_STREAM_TLS_HS)
		return tx_push(s);     /* handshake bytes TCP could not take yet */
	if ((s->flags & (WG_STREAMF_FIN_OWED | WG_STREAMF_TLS | WG_STREAMF_TLS_DONE)) ==
	    (WG_STREAMF_FIN_OWED | WG_STREAMF_TLS)) {
		/* close_notify after the data; tls_on_close reports it sealed */
		if (wg_tls_close(s->lx->tlc, s->tls) != 0)
			s->flags |= WG_STREAMF_TLS_DONE;
		return 0;
	}
	ret = tx_push(s);
	if (ret != 0)
		return ret;
	if (s->tx == NULL && (s->flags & WG_STREAMF_FIN_OWED)) {
		s->flags &= (uint16_t)~WG_STREAMF_FIN_OWED;
		wg_tcp_close(s->tcp);
	}
	return 0;
}

unsigned int
wg_stream_poll(struct wg_stream_lctx *lx)
{
	struct wg_stream *list, *s, *next;
	unsigned int work = hs_poll(lx);

	if (lx->up_head != NULL)
		work += up_expire(lx);
	list = lx->dirty;
	lx->dirty = NULL;
	if (list == NULL)
		return work;
	/* the pass walks its own links: a stream marked again meanwhile goes
	 * on the next pass's list through dirty_next */
	for (s = list; s != NULL; s = s->dirty_next) {
		s->flags &= (uint16_t)~WG_STREAMF_DIRTY;
		s->flags |= WG_STREAMF_INPASS;
		s->pass_next = s->dirty_next;
		s->pass_out = 0;
	}
	/* pass 1: held input first (it is older), then every queued record
	 * opened as one batch; plaintext is parsed as it is delivered */
	for (s = list; s != NULL; s = s->pass_next) {
		if (s->state == WG_STREAM_FREE)
			continue;
		if (s->flags & WG_STREAMF_KILL) {
			stream_abort(s);
			continue;
		}
		if (s->state == WG_STREAM_TLS_HS) {
			if (s->rx_held != NULL && s->hs_bytes < HS_MAX_BYTES && hs_feed(s) != 0) {
				lx->st.tls_failed++;
				stream_abort(s);
			}
			continue;
		}
		if (s->rx != NULL && rx_run(s) != 0) {
			stream_abort(s);
			continue;
		}
		if (s->rx_held != NULL && s->rx == NULL && !out_full(s) &&
		    !(s->flags & (WG_STREAMF_RX_NOBUF | WG_STREAMF_HS_LATE)) &&
		    (s->state == WG_STREAM_OPEN || s->state == WG_STREAM_HTTP))
			tls_unhold(s);
		work++;
	}
	if (lx->tlc != NULL)
		wg_tls_rx_flush(lx->tlc);
	/* pass 2: the peer finished sending and all it sent is answered */
	for (s = list; s != NULL; s = s->pass_next)
		if ((s->state == WG_STREAM_OPEN || s->state == WG_STREAM_HTTP) &&
		    (s->flags & WG_STREAMF_EOF) && s->rx == NULL && s->rx_held == NULL &&
		    !(s->flags & (WG_STREAMF_HS_LATE | WG_STREAMF_KILL)))
			stream_closing(s);
	/* pass 3: output, sealed as one batch */
	for (s = list; s != NULL; s = s->pass_next)
		if (s->state != WG_STREAM_FREE &&
		    ((s->flags & WG_STREAMF_KILL) || stream_flush(s) != 0))
			stream_abort(s);
	if (lx->tlc != NULL)
		wg_tls_tx_flush(lx->tlc);
	for (s = list; s != NULL; s = s->pass_next)
		if (s->state != WG_STREAM_FREE && (s->flags & WG_STREAMF_TLS_DONE) &&
		    stream_flush(s) != 0)
			stream_abort(s);
	for (s = list; s != NULL; s = next) {
		next = s->pass_next;
		s->flags &= (uint16_t)~WG_STREAMF_INPASS;
		if (s->state != WG_STREAM_FREE && (s->flags & WG_STREAMF_KILL))
			stream_abort(s);
		if (s->state == WG_STREAM_FREE) {
			if (!(s->flags & WG_STREAMF_DIRTY))
				rte_mempool_put(lx->streams, s);
			continue;
		}
		/* input left because the output was full: the seal above made
		 * room, or TCP calls on_writable; a dry pool: retry. Bytes held
		 * for the handshake or behind late ones wait for the engine. */
		if ((s->rx != NULL || s->rx_held != NULL) && s->state != WG_STREAM_TLS_HS &&
		    !(s->flags & WG_STREAMF_HS_LATE) &&
		    (s->tx == NULL || (s->flags & WG_STREAMF_RX_NOBUF)))
			mark_dirty(s);
	}
	return work;
}

/* ------------------------------------------------------------ gateway side */

int
wg_stream_msg_out(struct wg_stream *s, bool text, const void *a, uint32_t alen, const void *b,
		  uint32_t blen, unsigned int flags)
{
	uint8_t hdr[WG_WS_MAX_HDR], mask[4];
	uint32_t len = alen + blen;
	int n;

	if (s->state != WG_STREAM_OPEN || (s->flags & WG_STREAMF_KILL))
		return -EPIPE;
	if (tx_len(s) + s->pass_out > OUT_MAX && !(flags & WG_STREAM_OUT_REPLAY)) {
		/* a client that does not read is not buffered for without
		 * bound: it goes (its session can resume) */
		s->lx->st.slow_consumers++;
		s->flags |= WG_STREAMF_KILL;
		mark_dirty(s);
		return -ENOBUFS;
	}
	switch (s->proto) {
	case WG_STREAM_WS:
		n = wg_ws_frame_begin(&s->u.ws, true, text ? WG_WS_OP_TEXT : WG_WS_OP_BINARY, len,
				      hdr, mask);
		if (n < 0)
			return -EPIPE;
		break;
	case WG_STREAM_FRAMED:
		wg_framed_header(hdr, len);
		n = WG_FRAMED_HDR;
		break;
	default:
		n = 0;
		break;
	}
	if (tx_put(s, hdr, (uint32_t)n) != 0 || tx_put(s, a, alen) != 0 || tx_put(s, b, blen) != 0) {
		s->flags |= WG_STREAMF_KILL;
		mark_dirty(s);
		return -ENOMEM;
	}
	s->lx->st.msgs_out++;
	mark_dirty(s);
	return 0;
}

void
wg_stream_msg_end(struct wg_stream *s, uint16_t ws_code)
{
	uint8_t out[CTL_MAX];
	int n;

	if (s->state != WG_STREAM_OPEN)
		return;
	if (s->proto == WG_STREAM_WS) {
		n = wg_ws_build_close(&s->u.ws, ws_code, NULL, 0, out, sizeof(out));
		if (n > 0 && tx_put(s, out, (uint32_t)n) != 0)
			s->flags |= WG_STREAMF_KILL;
	}
	stream_closing(s);
	mark_dirty(s);
}

void
wg_stream_gw_set(struct wg_stream *s, struct wg_gw_sess *ss)
{
	s->gw = ss;
}

int
wg_stream_peer(const struct wg_stream *s, struct wg_stream_peer *peer)
{
	memset(peer, 0, sizeof(*peer));
	if (s->tcp == NULL)
		return -ENOTCONN;
	peer->ip = rte_be_to_cpu_32(s->tcp->raddr);
	peer->port = rte_be_to_cpu_16(s->tcp->rport);
	peer->listener_port = s->ls->port;
	if (s->proto == WG_STREAM_WS)
		peer->transport = s->ls->tls ? WG__TRANSPORT__TRANSPORT_WSS :
					       WG__TRANSPORT__TRANSPORT_WS;
	else
		peer->transport = s->ls->tls ? WG__TRANSPORT__TRANSPORT_FRAMED_TLS :
					       WG__TRANSPORT__TRANSPORT_FRAMED;
	return 0;
}

/* ------------------------------------------------------------ set-up */

int
wg_stream_proto_parse(const char *word)
{
	if (strcmp(word, "raw") == 0)
		return WG_STREAM_RAW;
	if (strcmp(word, "ws") == 0)
		return WG_STREAM_WS;
	if (strcmp(word, "framed") == 0)
		return WG_STREAM_FRAMED;
	return -EINVAL;
}

static struct rte_mempool *
pool_new(const char *name, const char *kind, unsigned int n, size_t size, int socket)
{
	char pname[RTE_MEMPOOL_NAMESIZE];

	snprintf(pname, sizeof(pname), "%s_%s", name, kind);
	return rte_mempool_create(pname, n, (unsigned int)size, n >= 1024 ? 64 : 0, 0, NULL,
				  NULL, NULL, NULL, socket,
				  RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
}

struct wg_stream_lctx *
wg_stream_lctx_create(const struct wg_stream_params *p, struct wg_tcp_ctx *tcp)
{
	char pname[RTE_MEMPOOL_NAMESIZE];
	struct wg_tls_rec_conf rc;
	struct wg_stream_lctx *lx;
	uint32_t large = 0;
	unsigned int i;
	int ret;

	if (p->n_listeners > STREAM_MAX_LISTENERS || p->max_streams == 0 ||
	    p->pkt_pool == NULL || p->ws_conf == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	lx = rte_zmalloc_socket("wg_stream_lctx", sizeof(*lx), RTE_CACHE_LINE_SIZE, p->socket);
	if (lx == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	lx->tcp = tcp;
	lx->pkt_pool = p->pkt_pool;
	lx->engine = p->tls_engine;
	lx->gw = p->gateway;
	lx->ws_conf = p->ws_conf;
	lx->worker = p->worker;
	lx->up_timeout_tsc = (uint64_t)p->upgrade_timeout_ms * (rte_get_tsc_hz() / 1000);
	lx->env.buf_get = buf_get;
	lx->env.buf_put = buf_put;
	lx->env.arg = lx;
	for (i = 0; i < p->n_listeners; i++) {
		const struct wg_stream_listener *ls = &p->listeners[i];

		if (ls->tls && p->tls_engine == NULL) {
			rte_errno = EINVAL;
			goto err;
		}
		lx->listeners[i].lx = lx;
		lx->listeners[i].ls = *ls;
		if (ls->proto == WG_STREAM_FRAMED)
			large = RTE_MAX(large, ls->max_message);
		if (ls->proto == WG_STREAM_WS)
			large = RTE_MAX(large, p->ws_conf->max_message);
	}
	lx->n_listeners = p->n_listeners;
	lx->buf_large_size = RTE_MAX(large, (uint32_t)BUF_SMALL);

	rte_errno = ENOMEM;
	lx->streams = pool_new(p->name, "st", p->max_streams, sizeof(struct wg_stream), p->socket);
	lx->http = pool_new(p->name, "http", RTE_MAX(p->max_upgrades, 1u),
			    sizeof(struct wg_ws_http), p->socket);
	lx->buf_small = pool_new(p->name, "bs", BUF_SMALL_N, BUF_SMALL, p->socket);
	lx->buf_large = pool_new(p->name, "bl", BUF_LARGE_N, lx->buf_large_size, p->socket);
	if (lx->streams == NULL || lx->http == NULL || lx->buf_small == NULL ||
	    lx->buf_large == NULL)
		goto err;
	if (p->tls_engine != NULL) {
		wg_tls_rec_conf_defaults(&rc);
		rc.record_max = (uint16_t)RTE_MIN(p->record_size, (uint32_t)WG_TLS_MAX_PLAIN);
		lx->tls_sess = pool_new(p->name, "tls", p->max_streams, sizeof(struct wg_tls_sess),
					p->socket);
		snprintf(pname, sizeof(pname), "%s_tbig", p->name);
		lx->tls_big = rte_pktmbuf_pool_create(pname, TLS_BIG_N, 64, 0,
						      RTE_PKTMBUF_HEADROOM + WG_TLS_BIG_BUF,
						      p->socket);
		if (lx->tls_sess == NULL || lx->tls_big == NULL)
			goto err;
		lx->tlc = wg_tls_lcore_create(&rc, &stream_tls_ops, p->pkt_pool, lx->tls_big,
					      p->socket);
		if (lx->tlc == NULL) {
			rte_errno = errno;
			goto err;
		}
	}
	for (i = 0; i < lx->n_listeners; i++) {
		ret = wg_tcp_listen(tcp, lx->listeners[i].ls.port, &stream_ops, &lx->listeners[i]);
		if (ret != 0) {
			rte_errno = -ret;
			goto err;
		}
	}
	return lx;
err:
	ret = rte_errno;
	if (lx->tlc != NULL)
		wg_tls_lcore_free(lx->tlc);
	rte_mempool_free(lx->tls_big);
	rte_mempool_free(lx->tls_sess);
	rte_mempool_free(lx->buf_large);
	rte_mempool_free(lx->buf_small);
	rte_mempool_free(lx->http);
	rte_mempool_free(lx->streams);
	rte_free(lx);
	rte_errno = ret;
	return NULL;
}

const struct wg_stream_stats *
wg_stream_stats(const struct wg_stream_lctx *lx)
{
	return &lx->st;
}

const struct wg_tls_stats *
wg_stream_tls_stats(const struct wg_stream_lctx *lx)
{
	return lx->tlc != NULL ? wg_tls_lcore_stats(lx->tlc) : NULL;
}

static const char *const stat_names[] = {
	"accepted", "closed", "active", "refused_nomem", "tls_handshakes", "tls_failed",
	"tls_errors", "http_upgrades", "http_refused", "http_timeouts", "msgs_in", "msgs_out", "bytes_in",
	"bytes_out", "proto_errors", "nobufs", "tx_nomem", "blocked", "slow_consumers",
};
_Static_assert(RTE_DIM(stat_names) * sizeof(uint64_t) == sizeof(struct wg_stream_stats),
	       "a name for every counter");

unsigned int
wg_stream_stats_list(const struct wg_stream_stats *st, const char **names, uint64_t *values,
		     unsigned int max)
{
	return wg_stat_list(stat_names, RTE_DIM(stat_names), st, names, values, max);
}

size_t
wg_stream_idle_bytes(const struct wg_stream_lctx *lx, bool tls)
{
	size_t n = rte_mempool_calc_obj_size(sizeof(struct wg_stream), 0, NULL);

	if (tls && lx->tls_sess != NULL)
		n += rte_mempool_calc_obj_size(sizeof(struct wg_tls_sess), 0, NULL);
	return n;
}

static const char *const state_names[] = {
	[WG_STREAM_FREE] = "free", [WG_STREAM_TLS_HS] = "tls-handshake",
	[WG_STREAM_HTTP] = "http-upgrade", [WG_STREAM_OPEN] = "open",
	[WG_STREAM_CLOSING] = "closing",
};

static const char *const proto_names[] = {
	[WG_STREAM_RAW] = "raw", [WG_STREAM_WS] = "ws", [WG_STREAM_FRAMED] = "framed",
};

void
wg_stream_dump(FILE *f, const struct wg_stream *s)
{
	fprintf(f, "stream %p: %s %s%s gen %u flags 0x%04x rx %u tx %u\n", (const void *)s,
		proto_names[s->proto % RTE_DIM(proto_names)],
		state_names[s->state % RTE_DIM(state_names)],
		(s->flags & WG_STREAMF_TLS) ? " tls" : "", s->gen, s->flags, s->rx_bytes, tx_len(s));
	if ((s->flags & WG_STREAMF_PROTO) && s->proto == WG_STREAM_WS)
		wg_ws_dump(f, &s->u.ws);
	if (s->tls != NULL)
		wg_tls_sess_dump(f, s->tls);
}
