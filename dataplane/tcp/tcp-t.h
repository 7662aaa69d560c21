/* SPDX-License-Identifier: BSD-3-Clause
 * Our TCP (RFC 9293) on one lcore: connections, listeners, per-lcore context.
 * Shared-nothing: a connection lives on the lcore that created it, and only
 * that lcore touches it, so nothing here is locked or atomic.
 */
#ifndef WG_TCP_T_H
#define WG_TCP_T_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp_opts-t.h"
#include "tcp_rack-t.h"
#include "tcp_reass-t.h"
#include "tcp_rto-t.h"
#include "tcp_sack-t.h"
#include "timer_wheel-t.h"

struct rte_mbuf;
struct rte_mempool;
struct wg_iface;
struct wg_arp_cache;

enum wg_tcp_state {
	WG_TCP_CLOSED = 0,
	WG_TCP_LISTEN,
	WG_TCP_SYN_SENT,
	WG_TCP_SYN_RCVD,
	WG_TCP_ESTABLISHED,
	WG_TCP_FIN_WAIT_1,
	WG_TCP_FIN_WAIT_2,
	WG_TCP_CLOSE_WAIT,
	WG_TCP_CLOSING,
	WG_TCP_LAST_ACK,
	WG_TCP_TIME_WAIT,
	WG_TCP_NSTATES,
};

/* connection flags */
#define WG_TCPF_TS         0x0001  /* timestamps negotiated */
#define WG_TCPF_SACK       0x0002  /* SACK-permitted negotiated */
#define WG_TCPF_WS         0x0004  /* window scaling negotiated */
#define WG_TCPF_ACK_NOW    0x0008  /* send an ACK at the end of this burst */
#define WG_TCPF_DELACK     0x0010  /* an ACK is owed, delayed */
#define WG_TCPF_FIN_QUEUED 0x0020  /* app closed: FIN goes after the queued data */
#define WG_TCPF_FIN_SENT   0x0040  /* our FIN has a sequence number (snd_max covers it) */
#define WG_TCPF_RCVD_FIN   0x0080  /* peer's FIN consumed */
#define WG_TCPF_FASTREC    0x0100  /* in fast recovery (RFC 6675 with SACK, else NewReno) */
#define WG_TCPF_APP_GONE   0x0200  /* app was told closed: no more callbacks */
#define WG_TCPF_WANT_WRITE 0x0400  /* app hit the send limit: tell it when space opens */
#define WG_TCPF_LOSSREC    0x0800  /* resending after a timeout until snd_una reaches
				    * recover: no fast recovery meanwhile (RFC 6582 3.2
				    * step 2, RFC 6675 5.1) */
#define WG_TCPF_RTT_TIMING 0x1000  /* rtt_seq is being timed (no timestamps) */
#define WG_TCPF_ACTIVE     0x2000  /* we sent the SYN (client side) */
#define WG_TCPF_KILL       0x4000  /* app aborted inside a callback: reset when it returns */
#define WG_TCPF_TLP        0x8000  /* a tail loss probe is out (sack.tlp_high valid) */

/* which deadline the connection's timer currently stands for */
enum wg_tcp_timer {
	WG_TCPT_NONE = 0,
	WG_TCPT_RTX,          /* retransmission (also SYN, SYN-ACK, FIN) */
	WG_TCPT_PERSIST,      /* zero-window probe */
	WG_TCPT_KEEPALIVE,
	WG_TCPT_TIMEWAIT,     /* 2*MSL, also FIN_WAIT_2 orphan timeout */
	WG_TCPT_TLP,          /* tail loss probe (RFC 8985 7), before the RTO */
	WG_TCPT_REO,          /* RACK reordering window (RFC 8985 6.3), before the RTO */
};

struct wg_tcp_conn;

/* Application callbacks, per listening port (or per active open). All run on
 * the connection's lcore inside wg_tcp_input()/timers. */
struct wg_tcp_ops {
	/* A connection completed the handshake. Return 0 to keep it (and set
	 * *app_ctx), anything else resets it. */
	int (*on_accept)(struct wg_tcp_conn *c, void *listen_arg, void **app_ctx);
	/* Client side: the handshake completed (or failed: err < 0). */
	void (*on_connect)(struct wg_tcp_conn *c, int err);
	/* In-order payload; the app owns m (a chain) and must account for it
	 * with wg_tcp_recv_done() once consumed, which reopens the window. */
	void (*on_data)(struct wg_tcp_conn *c, struct rte_mbuf *m);
	/* The peer sent FIN: no more data will arrive. */
	void (*on_eof)(struct wg_tcp_conn *c);
	/* Send space opened after wg_tcp_send() returned -EAGAIN. */
	void (*on_writable)(struct wg_tcp_conn *c);
	/* Last callback: 0 after an orderly close, -ECONNRESET, -ETIMEDOUT.
	 * The connection may stay in TIME_WAIT but belongs to TCP from here. */
	void (*on_closed)(struct wg_tcp_conn *c, int reason);
};

struct wg_tcp_ctx;

struct wg_tcp_conn {
	struct wg_tcp_conn *hnext;     /* hash chain */
	struct wg_tcp_ctx *ctx;        /* owning lcore's TCP */
	uint32_t laddr;                /* network byte order */
	uint32_t raddr;
	uint16_t lport;                /* network byte order */
	uint16_t rport;
	uint8_t state;                 /* enum wg_tcp_state */
	uint8_t timer_kind;            /* enum wg_tcp_timer */
	uint8_t retries;               /* consecutive timeouts/probes */
	uint8_t dupacks;
	uint16_t flags;                /* WG_TCPF_* */
	uint16_t port;                 /* interface index on this lcore */

	uint8_t snd_wscale;            /* peer's shift for its window */
	uint8_t rcv_wscale;            /* our shift */
	uint16_t mss;                  /* payload bytes per segment we send */
	uint8_t peer_mac[6];           /* L2 next hop back (symmetric) */
	uint16_t pad0;

	/* send sequence space */
	uint32_t iss;
	uint32_t snd_una;
	uint32_t snd_nxt;
	uint32_t snd_max;              /* highest sequence sent + 1 */
	uint32_t snd_wnd;              /* peer's window, scaled */
	uint32_t snd_wl1;
	uint32_t snd_wl2;
	uint32_t max_snd_wnd;          /* for RFC 5961 ACK bounds */
	uint32_t cwnd;
	uint32_t ssthresh;
	uint32_t recover;              /* recovery point: snd_max when it began */

	/* receive sequence space */
	uint32_t irs;
	uint32_t rcv_nxt;
	uint32_t rcv_adv;              /* right edge we advertised */
	uint32_t rcv_held;             /* delivered to the app, not yet done */
	uint32_t ts_recent;            /* RFC 7323 */
	uint32_t last_ack_sent;
	uint32_t rtt_seq;              /* Karn timing without timestamps */
	uint32_t rtt_start_ms;
	uint16_t unacked_segs;         /* full segments since our last ACK */
	uint16_t pad1;

	struct wg_rto rto;

	/* unacknowledged + unsent data as one list of mbuf segments linked
	 * through m->next (the head's pkt_len/nb_segs are not maintained);
	 * byte sndq_off of the head is snd_una */
	struct rte_mbuf *sndq_head;
	struct rte_mbuf *sndq_tail;
	uint32_t sndq_bytes;           /* queued bytes, FIN excluded */
	uint32_t sndq_off;             /* bytes of sndq_head already acked */

	struct wg_reass *reass;        /* NULL unless data is out of order */
	const struct wg_tcp_ops *ops;
	void *app_ctx;

	uint64_t last_rx_ms;           /* keepalive idle clock */
	struct wg_tw_node timer;
	struct wg_tw_node delack;

	struct wg_tcp_sack sack;       /* what the peer SACKed of ours, if it does */
	struct wg_tcp_rack rack;       /* RACK-TLP loss detection and undo */
};

#define WG_TCP_MAX_LISTEN 16

struct wg_tcp_listener {
	uint16_t port;                 /* network byte order, 0 = free */
	const struct wg_tcp_ops *ops;
	void *arg;
};

struct wg_tcp_conf {
	uint32_t max_conns;            /* per lcore */
	uint32_t hash_buckets;         /* power of 2 */
	uint32_t syn_backlog;          /* embryonic (SYN_RCVD) before SYN cookies */
	uint32_t max_timewait;         /* TIME_WAIT connections kept */
	uint32_t rcv_buf;              /* bytes: receive window ceiling */
	uint32_t snd_buf;              /* bytes: send queue ceiling */
	uint32_t ooo_max;              /* bytes held out of order per connection */
	uint16_t mss;                  /* our MSS (from the MTU) */
	uint8_t rack;                  /* RACK-TLP loss detection for SACK peers (RFC
					* 8985); 0: RFC 6675 DupThresh only */
	uint8_t pad;
	uint32_t rto_initial_ms;
	uint32_t rto_min_ms;
	uint32_t rto_max_ms;
	uint32_t max_retries;          /* data timeouts before reset */
	uint32_t syn_retries;
	uint32_t delack_ms;
	uint32_t timewait_ms;          /* 2*MSL */
	uint32_t fin_wait2_ms;         /* orphaned FIN_WAIT_2 */
	uint32_t keepalive_ms;         /* idle before probes, 0 = off */
	uint32_t keepalive_intvl_ms;
	uint32_t keepalive_probes;
	uint32_t challenge_ack_per_s;  /* RFC 5961 rate limit */
};

/* Per-lcore counters: written by the owner only. */
struct wg_tcp_stats {
	uint64_t rx_segs;
	uint64_t tx_segs;
	uint64_t rx_bytes;             /* payload delivered in order */
	uint64_t tx_bytes;             /* payload sent, retransmissions included */
	uint64_t retrans_segs;
	uint64_t fast_retrans;
	uint64_t rto_expired;
	uint64_t active_opens;
	uint64_t passive_opens;
	uint64_t established;          /* now */
	uint64_t conns;                /* now, any state */
	uint64_t timewait;             /* now */
	uint64_t synrcvd;              /* now */
	uint64_t syncookies_sent;
	uint64_t syncookies_ok;
	uint64_t syncookies_bad;
	uint64_t resets_rx;
	uint64_t resets_tx;
	uint64_t challenge_acks;
	uint64_t challenge_ack_limited;
	uint64_t bad_csum;
	uint64_t bad_hdr;              /* data offset / length inconsistent */
	uint64_t bad_opts;
	uint64_t no_conn;              /* segment for no connection: RST sent */
	uint64_t paws_drops;
	uint64_t out_of_window;
	uint64_t ack_too_new;
	uint64_t ack_too_old;
	uint64_t dup_data;             /* already received bytes */
	uint64_t ooo_segs;
	uint64_t zero_window_probes;
	uint64_t keepalive_probes;
	uint64_t timeouts;             /* connections reset after retries */
	uint64_t conn_alloc_fail;
	uint64_t timewait_recycled;    /* evicted: table full */
	uint64_t mbuf_alloc_fail;
	uint64_t no_arp;               /* no next-hop MAC: segment not sent */
	uint64_t mem_pressure;         /* ms spent with the packet pool below 1/4 free */
	uint64_t sack_recoveries;      /* fast recoveries driven by the SACK scoreboard */
	uint64_t sack_rexmit_segs;     /* segments resent by it (NextSeg rules 1, 3, 4) */
	uint64_t dsack_rcvd;           /* D-SACKs: the peer got something twice */
	uint64_t sack_bad_blocks;      /* SACK blocks refused: empty, beyond snd_max,
					* reaching below snd_una */
	uint64_t sack_reneged;         /* the peer dropped data it had SACKed */
	uint64_t tlp_probes;           /* tail loss probes sent */
	uint64_t tlp_recoveries;       /* ... whose SACK showed the tail lost: recovery
					* instead of a timeout */
	uint64_t rack_reo_timeouts;    /* reordering-window timers that fired */
	uint64_t rack_reordering;      /* connections that saw their data reordered */
	uint64_t spurious_undos;       /* loss episodes undone as spurious (Eifel, D-SACK) */
	struct wg_reass_stats reass;
};

/* Everything one lcore needs for TCP. */
struct wg_tcp_ctx {
	struct wg_tcp_conf conf;
	const struct wg_iface *ifaces; /* indexed by conn->port */
	unsigned int n_ifaces;
	struct rte_mempool *pkt_pool;  /* segments we build */
	struct rte_mempool *conn_pool; /* struct wg_tcp_conn */
	struct rte_mempool *reass_pool;/* struct wg_reass */
	/* hand a finished frame to the port's tx queue; owns m */
	void (*tx)(void *arg, unsigned int port, struct rte_mbuf *m);
	void *tx_arg;
	struct wg_tcp_conn **buckets;
	uint32_t bucket_mask;
	struct wg_tcp_listener listeners[WG_TCP_MAX_LISTEN];
	uint64_t now_ms;
	struct wg_tcp_conn *busy;      /* connection whose segment is being processed */
	uint32_t pressure;             /* packet pool short: windows shrink to 2 MSS */
	uint32_t pressure_events;
	uint64_t secret[4];            /* ISN and SYN-cookie keys (SipHash) */
	uint32_t challenge_tokens;
	uint64_t challenge_refill_ms;
	struct wg_tcp_stats st;
	struct wg_timer_wheel tw;      /* connections' main timers */
	struct wg_timer_wheel tw_delack; /* delayed ACKs: a wheel of their own so
					  * the callback knows which node fired */
};

#endif /* WG_TCP_T_H */
