/* SPDX-License-Identifier: BSD-3-Clause
 * Inside the handshake engine: one in-flight handshake (struct hs_sess) and
 * the OpenSSL side of it (tls_handshake_ssl.c), used by the engine loop
 * (tls_handshake.c). Engine thread only.
 */
#ifndef WG_TLS_HANDSHAKE_IMPL_H
#define WG_TLS_HANDSHAKE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <openssl/ssl.h>

#include "log.h"
#include "tls_handshake-t.h"

extern int wg_tls_hs_logtype;
#define HS_LOG(l, ...) WG_LOG(wg_tls_hs_logtype, l, "tls_hs", __VA_ARGS__)

/* The engine's OpenSSL contexts. */
struct hs_tls {
	SSL_CTX *srv;
	SSL_CTX *cli;
	bool client_verify;
	uint8_t alpn_len;              /* wire form: length-prefixed names */
	uint8_t alpn[WG_TLS_ALPN_MAX + 1];
};

#define HS_HAVE_CLIENT 0x01            /* CLIENT_TRAFFIC_SECRET_0 captured */
#define HS_HAVE_SERVER 0x02            /* SERVER_TRAFFIC_SECRET_0 captured */
#define HS_RX_APP      0x04            /* peer's Finished read: rx_base set */
#define HS_TX_APP      0x08            /* our Finished written: tx_base set */
#define HS_BAD_SECRET  0x10            /* a keylog line did not parse */
                                       /* 0x20-0x80 unused */

/* One handshake. Records are counted from OpenSSL's msg callback (every
 * record header it reads or writes); TLS 1.3 switches a direction to the
 * application secret right after that side's Finished, so the records
 * counted after the Finished are those the record layer must skip. */
struct hs_sess {
	struct hs_sess *hnext;         /* ref hash chain */
	TAILQ_ENTRY(hs_sess) tq;       /* deadline order (one timeout for all) */
	struct wg_tls_hs_ref ref;
	uint64_t deadline_ms;
	SSL *ssl;
	BIO *rbio;                     /* peer's bytes in (owned by ssl) */
	BIO *wbio;                     /* our bytes out (owned by ssl) */
	uint32_t rx_recs;              /* record headers read */
	uint32_t tx_recs;              /* record headers written */
	uint32_t rx_base;              /* rx_recs when the peer's Finished was read */
	uint32_t tx_base;              /* tx_recs when our Finished was written */
	uint32_t out_recs;             /* records moved out of wbio (cross-check) */
	uint32_t data_msgs;            /* DATA messages driven into this handshake */
	uint8_t is_server;
	uint8_t flags;                 /* HS_* */
	uint8_t secret_len;
	uint8_t alert;                 /* last alert we wrote, WG_TLS_HS_NO_ALERT */
	uint8_t client_secret[WG_TLS_MAX_SECRET];
	uint8_t server_secret[WG_TLS_MAX_SECRET];
};

enum hs_step {
	HS_STEP_MORE,                  /* wants more bytes from the peer */
	HS_STEP_DONE,                  /* handshake complete */
	HS_STEP_FAIL,                  /* fatal: output (if any) holds the alert */
};

int wg_tls_hs_ssl_init(struct hs_tls *t, const struct wg_tls_conf *c);
void wg_tls_hs_ssl_fini(struct hs_tls *t);

/* New SSL for s (server, or client sending sni). 0 or -ENOMEM/-EINVAL. */
int wg_tls_hs_sess_open(struct hs_tls *t, struct hs_sess *s, bool server, const char *sni);
/* Frees the SSL and wipes the secrets. */
void wg_tls_hs_sess_close(struct hs_sess *s);

/* Bytes from the peer. 0 or -ENOMEM. */
int wg_tls_hs_sess_feed(struct hs_sess *s, const void *p, size_t n);
enum hs_step wg_tls_hs_sess_step(struct hs_sess *s);

/* What OpenSSL wrote since the last call: *p, returns the length (0 none),
 * or -EPROTO when it is not whole records, or not as many records as the
 * msg callback saw. Call wg_tls_hs_sess_out_done() once copied. */
long wg_tls_hs_sess_out(struct hs_sess *s, const uint8_t **p);
void wg_tls_hs_sess_out_done(struct hs_sess *s);

/* Bytes the peer sent that OpenSSL has not read. */
size_t wg_tls_hs_sess_unread(struct hs_sess *s, const uint8_t **p);

/* Fill m's DONE fields (secrets, version, sni, alpn). 0, or
 * -EPROTONOSUPPORT (not TLS 1.3: output holds a close_notify), -EPROTO. */
int wg_tls_hs_sess_takeover(struct hs_sess *s, struct wg_tls_hs_msg *m);

#endif /* WG_TLS_HANDSHAKE_IMPL_H */
