/* SPDX-License-Identifier: BSD-3-Clause
 * TLS 1.3 record layer of the fast path: types. See tls_record.h for the
 * API and how a worker drives it per burst.
 */
#ifndef WG_TLS_RECORD_T_H
#define WG_TLS_RECORD_T_H

#include <stdbool.h>
#include <stdint.h>

#include "tls_secrets-t.h"

struct rte_mbuf;

#define WG_TLS_HDR_LEN      5          /* type, legacy_record_version, length */
#define WG_TLS_TAG_LEN      16         /* AES-GCM tag */
#define WG_TLS_MAX_PLAIN    16384      /* 2^14: content bytes per record */
#define WG_TLS_MAX_INNER    (WG_TLS_MAX_PLAIN + 1)   /* + content type (+ padding) */
#define WG_TLS_MAX_CIPHER   (WG_TLS_MAX_PLAIN + 256) /* TLSCiphertext.length limit */
#define WG_TLS_MAX_RECORD   (WG_TLS_HDR_LEN + WG_TLS_MAX_CIPHER)
#define WG_TLS_MIN_CIPHER   (1 + WG_TLS_TAG_LEN)     /* content type + tag */
#define WG_TLS_OVERHEAD     (WG_TLS_HDR_LEN + 1 + WG_TLS_TAG_LEN) /* unpadded */

/* Data room (past the headroom) the big buffer pool must offer: a whole
 * record of the largest size a peer may send, for linearising. */
#define WG_TLS_BIG_BUF      WG_TLS_MAX_RECORD

/* Storage for one IPsec-MB struct gcm_key_data (AES round keys + GHASH
 * powers; its layout covers the largest, VAES/AVX-512, variant). Checked
 * against the library's struct in tls_record.c. */
#define WG_TLS_GCM_KEY_SIZE 1024

/* TLS content types */
#define WG_TLS_CT_ALERT     21
#define WG_TLS_CT_HANDSHAKE 22
#define WG_TLS_CT_APPDATA   23

/* Alert descriptions we send or act on (RFC 8446 section 6). */
enum wg_tls_alert {
	WG_TLS_ALERT_CLOSE_NOTIFY = 0,
	WG_TLS_ALERT_UNEXPECTED_MESSAGE = 10,
	WG_TLS_ALERT_BAD_RECORD_MAC = 20,
	WG_TLS_ALERT_RECORD_OVERFLOW = 22,
	WG_TLS_ALERT_ILLEGAL_PARAMETER = 47,
	WG_TLS_ALERT_DECODE_ERROR = 50,
	WG_TLS_ALERT_INTERNAL_ERROR = 80,
	WG_TLS_ALERT_USER_CANCELED = 90,
};
#define WG_TLS_NO_ALERT     0xff       /* alert_sent / alert_rcvd: none */

/* Per-lcore configuration (plain data, no DPDK types). */
struct wg_tls_rec_conf {
	uint32_t batch;                /* records per open / seal batch (and held rx chains) */
	uint16_t record_max;           /* content bytes per record we seal (<= 2^14); a
	                                * session may lower it (latency mode) */
	uint16_t pad_block;            /* pad inner plaintext to a multiple of this; 0 = off */
	uint64_t rekey_records;        /* records under one key before we send KeyUpdate, and
	                                * before we ask the peer for one; 0 = never */
	uint64_t rx_key_limit;         /* peer records under one key before we give up
	                                * (-EKEYEXPIRED); 0 = only at sequence wrap */
};

/* Callbacks into the worker, all on the lcore, from wg_tls_rx_flush(),
 * wg_tls_tx_flush() and (when a batch fills) wg_tls_rx_feed(). app is the
 * session's app pointer from wg_tls_sess_init(). */
struct wg_tls_ops {
	/* Authentic application data, in order. p is writable and valid only
	 * during the call (it lives in a receive buffer the layer reuses). */
	void (*on_data)(void *app, uint8_t *p, uint32_t len);
	/* The peer sent close_notify: no more data will come. */
	void (*on_eof)(void *app);
	/* Sealed records to send (a chain; hand it to wg_tcp_send). Owned by
	 * the callee. */
	void (*on_send)(void *app, struct rte_mbuf *m);
	/* Last callback for the session, after on_send of its last records:
	 * 0 when we sent close_notify (wg_tls_close), else -EBADMSG (bad MAC),
	 * -EPROTO (protocol violation; the alert was sent), -ECONNRESET (the
	 * peer sent a fatal alert), -EKEYEXPIRED (peer past its key limit),
	 * -EOVERFLOW (sequence number would wrap), -ENOBUFS (buffer pools
	 * empty). Close the transport; the session may be released from here. */
	void (*on_close)(void *app, int reason);
};

/* Per-lcore counters. */
struct wg_tls_stats {
	uint64_t rx_records;           /* opened and authentic */
	uint64_t rx_bytes;             /* application bytes delivered */
	uint64_t rx_inplace;           /* opened inside the received segment */
	uint64_t rx_linear;            /* copied to a linear buffer first (spanning/shared) */
	uint64_t rx_batches;           /* open batches that held records */
	uint64_t tx_records;           /* sealed */
	uint64_t tx_bytes;             /* application bytes sealed */
	uint64_t tx_batches;           /* seal batches that held records */
	uint64_t auth_fail;            /* bad_record_mac sent */
	uint64_t proto_err;            /* other fatal alerts sent */
	uint64_t alerts_rcvd;          /* fatal alerts from peers */
	uint64_t close_notify_rx;
	uint64_t close_notify_tx;
	uint64_t key_update_rx;
	uint64_t key_update_tx;
	uint64_t tickets_ignored;      /* NewSessionTicket on a client session */
	uint64_t key_limit;            /* closed: rx key limit or sequence wrap */
	uint64_t nobuf;                /* buffer allocation failures */
};

/* Session flags (struct wg_tls_sess.flags). */
#define WG_TLSF_SERVER     0x0001      /* we are the server */
#define WG_TLSF_RX_EOF     0x0002      /* close_notify received; input is dropped */
#define WG_TLSF_TX_CLOSED  0x0004      /* close_notify or fatal alert queued */
#define WG_TLSF_DEAD       0x0008      /* fatal or closed: input dropped, nothing sealed */
#define WG_TLSF_KU_ASKED   0x0010      /* we asked for a peer KeyUpdate under this rx key */
#define WG_TLSF_KU_LAST    0x0020      /* our last queued record is a KeyUpdate */
#define WG_TLSF_DIRTY      0x0040      /* on the lcore's flush list */
#define WG_TLSF_CLOSE_EV   0x0080      /* on_close to report at the next tx flush */
#define WG_TLSF_APP_CLOSED 0x0100      /* wg_tls_close(): no more deliveries */
#define WG_TLSF_ACTIVE     0x0200      /* initialised, not released */
#define WG_TLSF_RX_STOP    0x0400      /* malformed input queued as an error: drop the rest */
                                       /* 0xf800 unused */

/* Per-connection record state: the worker allocates it (e.g. from a
 * per-lcore mempool at key takeover, it is not needed while the handshake
 * runs) and never touches the fields. Line 0 holds what every record
 * touches, line 1 the parser and queue state; the expanded AES-GCM keys
 * (round keys and GHASH powers, IPsec-MB layout) take the rest. */
struct wg_tls_sess {
	/* line 0 */
	uint64_t rx_seq;               /* next peer record */
	uint64_t tx_seq;               /* next record sealed */
	uint64_t tx_next;              /* next record queued (runs ahead of tx_seq) */
	uint8_t rx_iv[12];
	uint8_t tx_iv[12];
	uint16_t flags;                /* WG_TLSF_* */
	uint16_t suite;                /* WG_TLS_AES_* */
	uint8_t hdr[WG_TLS_HDR_LEN];   /* record header split across segments */
	uint8_t hdr_have;
	uint8_t secret_len;
	uint8_t key_len;
	uint8_t alert_sent;            /* WG_TLS_NO_ALERT or the last alert we queued */
	uint8_t alert_rcvd;            /* WG_TLS_NO_ALERT or the last alert received */
	uint16_t record_max;           /* content bytes per sealed record */

	/* line 1 */
	void *app;
	struct rte_mbuf *rx_buf;       /* linear buffer of a partial record, or NULL */
	struct rte_mbuf *tx_head;      /* records queued or sealed, not yet on_send */
	struct rte_mbuf *tx_tail;
	struct wg_tls_sess *dirty_next; /* lcore flush list */
	uint16_t rx_have;              /* bytes of the partial record in rx_buf */
	uint16_t rx_len;               /* its full length, header included */
	int32_t tx_open;               /* batch index of our open record, -1 = none */
	uint16_t tx_room;              /* content bytes the open record can still take */
	uint8_t hs_have;               /* handshake message header bytes held */
	uint8_t pad0;
	uint8_t hs_hdr[4];             /* type + 24-bit length */
	uint32_t hs_skip;              /* NewSessionTicket bytes still to discard */
	int32_t close_reason;          /* for on_close */

	/* lines 2-3 */
	uint8_t rx_secret[WG_TLS_MAX_SECRET];
	uint8_t tx_secret[WG_TLS_MAX_SECRET];

	/* lines 4+ */
	uint8_t rx_key[WG_TLS_GCM_KEY_SIZE] __attribute__((aligned(64)));
	uint8_t tx_key[WG_TLS_GCM_KEY_SIZE] __attribute__((aligned(64)));
} __attribute__((aligned(64)));

_Static_assert(__builtin_offsetof(struct wg_tls_sess, app) == 64, "line 0 is the hot line");
_Static_assert(__builtin_offsetof(struct wg_tls_sess, rx_secret) == 128, "line 1 full");
_Static_assert(__builtin_offsetof(struct wg_tls_sess, rx_key) == 256, "keys start at line 4");
_Static_assert(sizeof(struct wg_tls_sess) == 2304, "session footprint (docs/benchmarks.md)");

#endif /* WG_TLS_RECORD_T_H */
