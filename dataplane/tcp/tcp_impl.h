/* SPDX-License-Identifier: BSD-3-Clause
 * Internals shared by the TCP source files; not for the layers above.
 */
#ifndef WG_TCP_IMPL_H
#define WG_TCP_IMPL_H

#include <stdint.h>

#include <rte_common.h>

#include "net-t.h"
#include "tcp-t.h"

/* RFC 1982 style sequence comparisons (Linux's before()/after()) */
static inline int seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline int seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline int seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline int seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

#define TCP_HDR_LEN   20
#define TCP_FIN       0x01
#define TCP_SYN       0x02
#define TCP_RST       0x04
#define TCP_PSH       0x08
#define TCP_ACK       0x10
#define TCP_URG       0x20
#define TCP_ECE       0x40
#define TCP_CWR       0x80

#define WG_TCP_OUR_WSCALE_MAX 14

#define conn_of(node, member) \
	((struct wg_tcp_conn *)((char *)(node) - offsetof(struct wg_tcp_conn, member)))

/* tcp_conn.c */
uint64_t wg_tcp_siphash(const uint64_t key[2], uint64_t a, uint64_t b, uint64_t c);
uint32_t wg_tcp_isn(struct wg_tcp_ctx *ctx, uint32_t laddr, uint32_t raddr, uint16_t lport,
		    uint16_t rport);
uint32_t wg_tcp_cookie_make(struct wg_tcp_ctx *ctx, const struct wg_tcp_conn *k,
			    uint32_t peer_isn, uint16_t mss);
uint16_t wg_tcp_cookie_check(struct wg_tcp_ctx *ctx, const struct wg_tcp_conn *k,
			     uint32_t peer_isn, uint32_t cookie);
struct wg_tcp_conn *wg_tcp_lookup(struct wg_tcp_ctx *ctx, uint32_t laddr, uint32_t raddr,
				  uint16_t lport, uint16_t rport);
struct wg_tcp_listener *wg_tcp_listener_find(struct wg_tcp_ctx *ctx, uint16_t lport);
struct wg_tcp_conn *wg_tcp_conn_new(struct wg_tcp_ctx *ctx, unsigned int port, uint32_t laddr,
				    uint32_t raddr, uint16_t lport, uint16_t rport);
void wg_tcp_conn_free(struct wg_tcp_conn *c);
void wg_tcp_set_state(struct wg_tcp_conn *c, uint8_t state);

/* Sequence number for segments without data (ACKs, RSTs). After a timeout
 * snd_nxt goes back to snd_una to resend (go-back-N) while the peer may
 * already hold everything up to snd_max: a seq below its rcv_nxt makes it
 * throw the ACK away as old (or answer an RST with a challenge), so the
 * acknowledgments we owe it would never arrive. Nor beyond the right edge
 * of its window: a peer whose buffer filled (window 0) dropped what we
 * sent past it, and an ACK at snd_max is out of its window - dropped too,
 * and both sides wait for each other (Linux's tcp_acceptable_seq). */
static inline uint32_t
wg_tcp_ctl_seq(const struct wg_tcp_conn *c)
{
	uint32_t edge = c->snd_una + c->snd_wnd;

	return seq_gt(c->snd_max, edge) ? edge : c->snd_max;
}

/* tcp_output.c */
int wg_tcp_xmit(struct wg_tcp_conn *c, uint8_t flags, uint32_t seq, uint32_t len);
void wg_tcp_output(struct wg_tcp_conn *c);
void wg_tcp_send_ack(struct wg_tcp_conn *c);
void wg_tcp_send_probe(struct wg_tcp_conn *c);
void wg_tcp_send_tlp(struct wg_tcp_conn *c);
uint32_t wg_tcp_rcv_window(const struct wg_tcp_conn *c);
uint32_t wg_tcp_seg_size(const struct wg_tcp_conn *c);
void wg_tcp_reply_rst(struct wg_tcp_ctx *ctx, unsigned int port, const uint8_t *frame,
		      const struct wg_pkt_info *info, uint32_t seg_seq, uint32_t seg_ack,
		      uint32_t seg_len, uint8_t seg_flags);

/* tcp_input.c */
void wg_tcp_rack_timeout(struct wg_tcp_conn *c);

/* tcp_timer.c */
void wg_tcp_timer_set(struct wg_tcp_conn *c, uint8_t kind, uint64_t ms);
void wg_tcp_timer_stop(struct wg_tcp_conn *c);
void wg_tcp_rearm(struct wg_tcp_conn *c);
void wg_tcp_delack_arm(struct wg_tcp_conn *c);
void wg_tcp_enter_timewait(struct wg_tcp_conn *c);
void wg_tcp_report_closed(struct wg_tcp_conn *c, int reason);
void wg_tcp_drop(struct wg_tcp_conn *c, int reason);

#endif /* WG_TCP_IMPL_H */
