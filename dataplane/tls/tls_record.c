/* SPDX-License-Identifier: BSD-3-Clause
 * TLS 1.3 record layer (RFC 8446 section 5) for the fast path: parsing,
 * batched AES-GCM open/seal, inner content types, alerts, KeyUpdate and the
 * per-key record limits. See tls_record.h for the worker's side.
 *
 * Batches. Records are queued during a burst (struct rx_ent / tx_ent) and
 * processed in queue order in one loop each. Order matters only within a
 * session, and the loop keeps it: a KeyUpdate switches that session's key
 * before its next record in the same batch, and a fatal error makes the
 * session's later records be skipped. Sequence numbers are taken when a
 * record is opened or sealed, never when it is queued.
 *
 * Memory. A session holds no buffer between bursts except the linear
 * buffer of a partial record (sized to that record: small pool when it
 * fits, big pool otherwise). Output records go into pool mbufs chained on
 * the session until tx flush; a record never spans segments, so each is
 * sealed with one direct call.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <openssl/crypto.h>

#include "tls_gcm.h"
#include "tls_keysched.h"
#include "tls_record.h"

RTE_LOG_REGISTER(wg_tls_rec_logtype, wg.tls_rec, INFO);
#define TLS_LOG(l, ...) rte_log(RTE_LOG_##l, wg_tls_rec_logtype, "tls_rec: " __VA_ARGS__)

_Static_assert(sizeof(struct gcm_key_data) <= WG_TLS_GCM_KEY_SIZE, "gcm_key_data grew");
_Static_assert(_Alignof(struct gcm_key_data) <= 64, "gcm_key_data alignment");

#define HS_NEW_SESSION_TICKET 4
#define HS_KEY_UPDATE         24
#define ALERT_WARNING         1
#define ALERT_FATAL           2
#define WRITE_MIN_CHUNK       256      /* smallest record started in leftover tailroom */
/* the largest record we seal: 2^14 + 1 inner bytes, padding included */
#define WG_TLS_MAX_SEALED     (WG_TLS_HDR_LEN + WG_TLS_MAX_INNER + WG_TLS_TAG_LEN)

/* 2^24.5 rounded down: AES-GCM records per key, RFC 8446 section 5.5 */
#define GCM_KEY_LIMIT         23726566ull

enum { EV_NONE = 0, EV_DATA, EV_EOF };

struct rx_ent {
	struct wg_tls_sess *s;         /* NULL: session released meanwhile */
	uint8_t *rec;                  /* header; the body follows, opened in place;
	                                * NULL: a feed error, alert in plen */
	uint16_t len;                  /* body: ciphertext + tag */
	uint16_t plen;                 /* application bytes (EV_DATA) */
	uint8_t ev;                    /* EV_*: decided by the open loop */
	uint8_t pad[3];
};

#define TXE_OPEN  0x01                 /* content may still grow */
#define TXE_REKEY 0x02                 /* our KeyUpdate: switch tx key after it */

struct tx_ent {
	struct wg_tls_sess *s;         /* NULL: session released meanwhile */
	uint8_t *rec;                  /* header, in seg */
	struct rte_mbuf *seg;
	uint16_t len;                  /* open: content bytes; closed: inner plaintext */
	uint8_t type;                  /* inner content type */
	uint8_t flags;                 /* TXE_* */
	uint32_t pad;
};

struct wg_tls_lcore {
	IMB_MGR *mgr;
	const struct wg_tls_ops *ops;
	struct rte_mempool *small;
	struct rte_mempool *big;
	uint32_t small_room;           /* tailroom of a fresh mbuf of each pool */
	uint32_t big_room;
	uint32_t n_rx;
	uint32_t n_hold;
	uint32_t n_tx;
	uint16_t pad_max;              /* most padding a record may get */
	bool in_rx_flush;
	struct wg_tls_sess *dirty_head; /* sessions with output or an on_close due */
	struct wg_tls_sess *dirty_tail;
	struct rx_ent *rx;
	struct rte_mbuf **hold;        /* received chains and linear buffers records
	                                * are opened in: freed after dispatch */
	struct tx_ent *tx;
	struct wg_tls_rec_conf conf;
	struct wg_tls_stats st;
} __rte_cache_aligned;

void
wg_tls_rec_conf_defaults(struct wg_tls_rec_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->batch = 256;
	c->record_max = WG_TLS_MAX_PLAIN;
	c->pad_block = 0;
	c->rekey_records = 1ull << 23;
	c->rx_key_limit = GCM_KEY_LIMIT;
}

int
wg_tls_rec_conf_check(const struct wg_tls_rec_conf *c, char *err, size_t err_len)
{
	const char *why = NULL;

	if (c->batch < 1 || c->batch > 65536)
		why = "batch must be 1..65536";
	else if (c->record_max < 1 || c->record_max > WG_TLS_MAX_PLAIN)
		why = "record_max must be 1..16384";
	else if (c->pad_block > 256)
		why = "pad_block must be 0..256";
	else if (c->rekey_records > GCM_KEY_LIMIT)
		why = "rekey_records above the AES-GCM limit of 2^24.5 records per key";
	if (why == NULL)
		return 0;
	if (err != NULL && err_len > 0)
		snprintf(err, err_len, "%s", why);
	return -EINVAL;
}

static uint32_t
pool_room(struct rte_mempool *mp)
{
	uint32_t room = rte_pktmbuf_data_room_size(mp);

	return room > RTE_PKTMBUF_HEADROOM ? room - RTE_PKTMBUF_HEADROOM : 0;
}

struct wg_tls_lcore *
wg_tls_lcore_create(const struct wg_tls_rec_conf *conf, const struct wg_tls_ops *ops,
		    struct rte_mempool *small, struct rte_mempool *big, int socket)
{
	struct wg_tls_lcore *lc;
	size_t sz;
	char *mem;

	if (conf == NULL || ops == NULL || ops->on_data == NULL || ops->on_eof == NULL ||
	    ops->on_send == NULL || ops->on_close == NULL || big == NULL ||
	    wg_tls_rec_conf_check(conf, NULL, 0) < 0 || pool_room(big) < WG_TLS_BIG_BUF) {
		errno = EINVAL;
		return NULL;
	}
	/* one allocation on the lcore's socket: state, batches, and the IPsec-MB
	 * manager (~200 KB of job queues the direct API leaves unused) */
	sz = RTE_ALIGN_CEIL(sizeof(*lc), RTE_CACHE_LINE_SIZE) +
	     RTE_ALIGN_CEIL(conf->batch * (sizeof(struct rx_ent) + sizeof(struct tx_ent) +
					   sizeof(struct rte_mbuf *)), RTE_CACHE_LINE_SIZE) +
	     RTE_ALIGN_CEIL(imb_get_mb_mgr_size(), RTE_CACHE_LINE_SIZE);
	mem = rte_zmalloc_socket("wg_tls_lcore", sz, RTE_CACHE_LINE_SIZE, socket);
	if (mem == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	lc = (struct wg_tls_lcore *)mem;
	mem += RTE_ALIGN_CEIL(sizeof(*lc), RTE_CACHE_LINE_SIZE);
	lc->rx = (struct rx_ent *)mem;
	mem += conf->batch * sizeof(struct rx_ent);
	lc->tx = (struct tx_ent *)mem;
	mem += conf->batch * sizeof(struct tx_ent);
	lc->hold = (struct rte_mbuf **)mem;
	mem = (char *)lc + RTE_ALIGN_CEIL(sizeof(*lc), RTE_CACHE_LINE_SIZE) +
	      RTE_ALIGN_CEIL(conf->batch * (sizeof(struct rx_ent) + sizeof(struct tx_ent) +
					    sizeof(struct rte_mbuf *)), RTE_CACHE_LINE_SIZE);
	lc->mgr = imb_set_pointers_mb_mgr(mem, 0, 1);

	lc->conf = *conf;
	lc->ops = ops;
	lc->small = small;
	lc->big = big;
	lc->small_room = small != NULL ? pool_room(small) : 0;
	lc->big_room = pool_room(big);
	lc->pad_max = conf->pad_block > 1 ? conf->pad_block - 1 : 0;

	if (lc->mgr == NULL) {
		rte_free(lc);
		errno = ENOMEM;
		return NULL;
	}
	init_mb_mgr_auto(lc->mgr, NULL);
	if (imb_get_errno(lc->mgr) != 0 || lc->mgr->used_arch == IMB_ARCH_NONE) {
		TLS_LOG(ERR, "IPsec-MB init failed: %s\n",
			imb_get_strerror(imb_get_errno(lc->mgr)));
		rte_free(lc);
		errno = ENOTSUP;
		return NULL;
	}
	if (lc->mgr->used_arch == IMB_ARCH_NOAESNI)
		TLS_LOG(WARNING, "no AES-NI: AES-GCM runs in software, slowly\n");
	return lc;
}

void
wg_tls_lcore_free(struct wg_tls_lcore *lc)
{
	if (lc == NULL)
		return;
	rte_pktmbuf_free_bulk(lc->hold, lc->n_hold);
	rte_free(lc);
}

const struct wg_tls_stats *
wg_tls_lcore_stats(const struct wg_tls_lcore *lc)
{
	return &lc->st;
}

const char *
wg_tls_gcm_arch(const struct wg_tls_lcore *lc)
{
	switch (lc->mgr->used_arch) {
	case IMB_ARCH_NOAESNI:
		return "noaesni";
	case IMB_ARCH_SSE:
		return "sse";
	case IMB_ARCH_AVX:
		return "avx";
	case IMB_ARCH_AVX2:
		return "avx2";
	case IMB_ARCH_AVX512:
		return "avx512";
	default:
		return "none";
	}
}

static void
dirty_add(struct wg_tls_lcore *lc, struct wg_tls_sess *s)
{
	if (s->flags & WG_TLSF_DIRTY)
		return;
	s->flags |= WG_TLSF_DIRTY;
	s->dirty_next = NULL;
	if (lc->dirty_tail != NULL)
		lc->dirty_tail->dirty_next = s;
	else
		lc->dirty_head = s;
	lc->dirty_tail = s;
}

static void
dirty_del(struct wg_tls_lcore *lc, struct wg_tls_sess *s)
{
	struct wg_tls_sess **pp, *prev = NULL;

	if (!(s->flags & WG_TLSF_DIRTY))
		return;
	for (pp = &lc->dirty_head; *pp != NULL; prev = *pp, pp = &(*pp)->dirty_next) {
		if (*pp == s) {
			*pp = s->dirty_next;
			if (lc->dirty_tail == s)
				lc->dirty_tail = prev;
			break;
		}
	}
	s->flags &= ~WG_TLSF_DIRTY;
	s->dirty_next = NULL;
}

/* An mbuf with at least need bytes of tailroom: small pool when it fits. */
static struct rte_mbuf *
buf_alloc(struct wg_tls_lcore *lc, uint32_t need)
{
	struct rte_mbuf *m;

	if (lc->small != NULL && need <= lc->small_room) {
		m = rte_pktmbuf_alloc(lc->small);
		if (m != NULL)
			return m;
	}
	if (need <= lc->big_room) {
		m = rte_pktmbuf_alloc(lc->big);
		if (m != NULL)
			return m;
	}
	lc->st.nobuf++;
	return NULL;
}

/* Derive key+iv of secret into kd/iv; the raw key never outlives the call. */
static int
install_key(struct wg_tls_lcore *lc, const struct wg_tls_sess *s, const uint8_t *secret,
	    uint8_t *kd, uint8_t iv[WG_TLS_IV_LEN])
{
	uint8_t key[WG_TLS_MAX_KEY_LEN];
	int ret;

	ret = wg_tls_traffic_key_iv(s->suite, secret, s->secret_len, key, iv);
	if (ret == 0)
		wg_tls_gcm_pre(lc->mgr, s->key_len, key, kd);
	OPENSSL_cleanse(key, sizeof(key));
	return ret;
}

int
wg_tls_sess_init(struct wg_tls_lcore *lc, struct wg_tls_sess *s,
		 const struct wg_tls_secrets *sec, void *app)
{
	unsigned int hlen;
	int ret;

	if (sec == NULL)
		return -EINVAL;
	hlen = wg_tls_suite_hash_len(sec->suite);
	if (hlen == 0 || sec->secret_len != hlen || sec->is_server > 1)
		return -EINVAL;
	memset(s, 0, offsetof(struct wg_tls_sess, rx_key));
	s->suite = sec->suite;
	s->secret_len = (uint8_t)hlen;
	s->key_len = (uint8_t)wg_tls_suite_key_len(sec->suite);
	s->alert_sent = WG_TLS_NO_ALERT;
	s->alert_rcvd = WG_TLS_NO_ALERT;
	s->record_max = lc->conf.record_max;
	s->tx_open = -1;
	s->app = app;
	s->rx_seq = sec->rx_seq;
	s->tx_seq = sec->tx_seq;
	s->tx_next = sec->tx_seq;
	memcpy(s->rx_secret, sec->rx_secret, hlen);
	memcpy(s->tx_secret, sec->tx_secret, hlen);
	ret = install_key(lc, s, s->rx_secret, s->rx_key, s->rx_iv);
	if (ret == 0)
		ret = install_key(lc, s, s->tx_secret, s->tx_key, s->tx_iv);
	if (ret < 0) {
		OPENSSL_cleanse(s, sizeof(*s));
		return ret;
	}
	s->flags = WG_TLSF_ACTIVE | (sec->is_server ? WG_TLSF_SERVER : 0);
	return 0;
}

void
wg_tls_sess_release(struct wg_tls_lcore *lc, struct wg_tls_sess *s)
{
	uint32_t i;

	if (!(s->flags & WG_TLSF_ACTIVE))
		return;
	for (i = 0; i < lc->n_rx; i++)
		if (lc->rx[i].s == s)
			lc->rx[i].s = NULL;
	for (i = 0; i < lc->n_tx; i++)
		if (lc->tx[i].s == s)
			lc->tx[i].s = NULL;
	dirty_del(lc, s);
	rte_pktmbuf_free(s->tx_head);
	rte_pktmbuf_free(s->rx_buf);
	OPENSSL_cleanse(s, sizeof(*s));
}

int
wg_tls_sess_set_record_max(struct wg_tls_sess *s, uint16_t record_max)
{
	if (record_max == 0 || record_max > WG_TLS_MAX_PLAIN)
		return -EINVAL;
	s->record_max = record_max;
	return 0;
}

/* ---- tx ---------------------------------------------------------------- */

static void
tx_grow(struct wg_tls_sess *s, struct tx_ent *e, uint32_t n)
{
	e->seg->data_len += n;
	s->tx_head->pkt_len += n;
}

/* Fix the record's length: content type, padding, header; the tag space
 * (reserved when the record was started) joins the segment. */
static void
tx_close_rec(struct wg_tls_lcore *lc, struct tx_ent *e)
{
	struct wg_tls_sess *s = e->s;
	uint32_t inner = e->len + 1u, pad = 0, clen;
	uint8_t *p = e->rec + WG_TLS_HDR_LEN + e->len;

	if (lc->conf.pad_block > 1) {
		pad = (lc->conf.pad_block - inner % lc->conf.pad_block) % lc->conf.pad_block;
		if (inner + pad > WG_TLS_MAX_INNER)
			pad = WG_TLS_MAX_INNER - inner;
	}
	p[0] = e->type;
	memset(p + 1, 0, pad);
	clen = inner + pad + WG_TLS_TAG_LEN;
	e->rec[0] = WG_TLS_CT_APPDATA;
	e->rec[1] = 3;
	e->rec[2] = 3;
	e->rec[3] = (uint8_t)(clen >> 8);
	e->rec[4] = (uint8_t)clen;
	tx_grow(s, e, 1 + pad + WG_TLS_TAG_LEN);
	e->len = (uint16_t)(inner + pad);
	e->flags &= ~TXE_OPEN;
	if (s->tx_open >= 0 && &lc->tx[s->tx_open] == e)
		s->tx_open = -1;
}

static void
tx_close_open(struct wg_tls_lcore *lc, struct wg_tls_sess *s)
{
	if (s->tx_open >= 0)
		tx_close_rec(lc, &lc->tx[s->tx_open]);
}

/* Drop the rest of s's output after a failure that leaves no usable key. */
static void
tx_purge(struct wg_tls_lcore *lc, struct wg_tls_sess *s, int reason)
{
	uint32_t i;

	for (i = 0; i < lc->n_tx; i++)
		if (lc->tx[i].s == s)
			lc->tx[i].s = NULL;
	rte_pktmbuf_free(s->tx_head);
	s->tx_head = s->tx_tail = NULL;
	s->tx_open = -1;
	if (!(s->flags & WG_TLSF_DEAD))
		s->close_reason = reason;
	s->flags |= WG_TLSF_DEAD | WG_TLSF_TX_CLOSED | WG_TLSF_CLOSE_EV;
	dirty_add(lc, s);
}

static void
tx_rekey(struct wg_tls_lcore *lc, struct wg_tls_sess *s)
{
	if (wg_tls_secret_update(s->suite, s->tx_secret, s->secret_len) < 0 ||
	    install_key(lc, s, s->tx_secret, s->tx_key, s->tx_iv) < 0) {
		/* sealing on under the old key would reuse nonces */
		tx_purge(lc, s, -EIO);
		return;
	}
	s->tx_seq = 0;
	lc->st.key_update_tx++;
}

/* The next record's session, key schedule head and bytes, while the
 * current one is in the cipher. */
static inline void
prefetch_rec(const struct wg_tls_sess *s, const uint8_t *rec, bool rx)
{
	const uint8_t *kd;

	if (s == NULL || rec == NULL)
		return;
	kd = rx ? s->rx_key : s->tx_key;
	rte_prefetch0(s);
	rte_prefetch0(kd);
	rte_prefetch0(kd + 64);
	rte_prefetch0(kd + 128);
	rte_prefetch0(kd + 192);
	rte_prefetch0(kd + 256);
	rte_prefetch0(rec);
}

/* Seal every queued record in queue order. */
static unsigned int
seal_pending(struct wg_tls_lcore *lc)
{
	uint32_t i, n = lc->n_tx, sealed = 0;
	uint8_t nonce[16];

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (lc->tx[i].s != NULL && (lc->tx[i].flags & TXE_OPEN))
			tx_close_rec(lc, &lc->tx[i]);
	for (i = 0; i < n; i++) {
		struct tx_ent *e = &lc->tx[i];
		struct wg_tls_sess *s = e->s;

		if (i + 1 < n)
			prefetch_rec(e[1].s, e[1].rec, false);
		if (s == NULL)
			continue;
		wg_tls_nonce(nonce, s->tx_iv, s->tx_seq);
		wg_tls_gcm_seal(lc->mgr, s->key_len, s->tx_key, nonce, e->rec, e->len);
		s->tx_seq++;
		sealed++;
		if (e->flags & TXE_REKEY)
			tx_rekey(lc, s);
	}
	lc->n_tx = 0;
	lc->st.tx_records += sealed;
	lc->st.tx_batches++;
	return sealed;
}

static void fatal(struct wg_tls_lcore *lc, struct wg_tls_sess *s, uint8_t alert, int reason);
static int key_update(struct wg_tls_lcore *lc, struct wg_tls_sess *s, bool request_peer);

/* Content bytes a record started in tailroom can take, keeping room for
 * the trailer: content type, the most padding (which never takes the inner
 * plaintext past 2^14 + 1) and the tag. */
static uint32_t
rec_room(const struct wg_tls_lcore *lc, uint32_t tailroom)
{
	uint32_t overhead = WG_TLS_OVERHEAD + lc->pad_max;

	if (tailroom >= WG_TLS_MAX_SEALED)
		return WG_TLS_MAX_PLAIN;
	return tailroom > overhead ? tailroom - overhead : 0;
}

/* Start a record of type in s's output with room for at least min content
 * bytes contiguous (want is the hint for the pool). Returns its entry, open
 * (s->tx_open), or NULL with errno. */
static struct tx_ent *
tx_start(struct wg_tls_lcore *lc, struct wg_tls_sess *s, uint8_t type, uint32_t min,
	 uint32_t want, uint8_t flags)
{
	uint32_t overhead = WG_TLS_OVERHEAD + lc->pad_max, cap, room;
	struct rte_mbuf *seg;
	struct tx_ent *e;

	if (s->flags & WG_TLSF_TX_CLOSED) {
		errno = EPIPE;
		return NULL;
	}
	/* our KeyUpdate goes first (it may fill the batch: checked below) */
	if (type != WG_TLS_CT_ALERT && !(flags & TXE_REKEY) && lc->conf.rekey_records != 0 &&
	    s->tx_next >= lc->conf.rekey_records && key_update(lc, s, false) < 0)
		return NULL;
	if (unlikely(s->tx_next == UINT64_MAX)) {
		/* the next record would wrap the sequence number */
		lc->st.key_limit++;
		fatal(lc, s, WG_TLS_NO_ALERT, -EOVERFLOW);
		errno = EPIPE;
		return NULL;
	}
	if (lc->n_tx == lc->conf.batch)
		seal_pending(lc);
	tx_close_open(lc, s);
	cap = type == WG_TLS_CT_APPDATA ? s->record_max : WG_TLS_MAX_PLAIN;
	if (want > cap)
		want = cap;
	if (min > want)
		min = want;
	seg = s->tx_tail;
	room = seg != NULL ? rec_room(lc, rte_pktmbuf_tailroom(seg)) : 0;
	if (seg == NULL || room < min) {
		seg = buf_alloc(lc, RTE_MIN(overhead + want, (uint32_t)WG_TLS_MAX_SEALED));
		if (seg == NULL && min < want)
			seg = buf_alloc(lc, RTE_MIN(overhead + min, (uint32_t)WG_TLS_MAX_SEALED));
		if (seg == NULL) {
			errno = ENOBUFS;
			return NULL;
		}
		if (s->tx_head == NULL) {
			s->tx_head = seg;
		} else {
			s->tx_tail->next = seg;
			s->tx_head->nb_segs++;
		}
		s->tx_tail = seg;
		room = rec_room(lc, rte_pktmbuf_tailroom(seg));
	}
	if (room > cap)
		room = cap;

	e = &lc->tx[lc->n_tx];
	e->s = s;
	e->seg = seg;
	e->rec = rte_pktmbuf_mtod_offset(seg, uint8_t *, seg->data_len);
	e->len = 0;
	e->type = type;
	e->flags = TXE_OPEN | flags;
	tx_grow(s, e, WG_TLS_HDR_LEN);
	s->tx_open = (int32_t)lc->n_tx++;
	s->tx_room = (uint16_t)room;
	s->tx_next = (flags & TXE_REKEY) ? 0 : s->tx_next + 1;
	if (type == WG_TLS_CT_HANDSHAKE)
		s->flags |= WG_TLSF_KU_LAST;
	else
		s->flags &= ~WG_TLSF_KU_LAST;
	dirty_add(lc, s);
	return e;
}

/* A record with a complete small body, closed at once. */
static int
tx_control(struct wg_tls_lcore *lc, struct wg_tls_sess *s, uint8_t type, const uint8_t *body,
	   uint32_t len, uint8_t flags)
{
	struct tx_ent *e = tx_start(lc, s, type, len, len, flags);

	if (e == NULL)
		return -errno;
	memcpy(e->rec + WG_TLS_HDR_LEN, body, len);
	e->len = (uint16_t)len;
	tx_grow(s, e, len);
	tx_close_rec(lc, e);
	return 0;
}

static int
key_update(struct wg_tls_lcore *lc, struct wg_tls_sess *s, bool request_peer)
{
	const uint8_t ku[5] = { HS_KEY_UPDATE, 0, 0, 1, request_peer ? 1 : 0 };
	int ret;

	ret = tx_control(lc, s, WG_TLS_CT_HANDSHAKE, ku, sizeof(ku), TXE_REKEY);
	if (ret == 0 && request_peer)
		s->flags |= WG_TLSF_KU_ASKED;
	return ret;
}

/* Queue an alert: our last record. */
static int
tx_alert(struct wg_tls_lcore *lc, struct wg_tls_sess *s, uint8_t desc)
{
	uint8_t body[2];
	int ret;

	body[0] = (desc == WG_TLS_ALERT_CLOSE_NOTIFY || desc == WG_TLS_ALERT_USER_CANCELED) ?
		  ALERT_WARNING : ALERT_FATAL;
	body[1] = desc;
	ret = tx_control(lc, s, WG_TLS_CT_ALERT, body, sizeof(body), 0);
	if (ret == 0) {
		s->alert_sent = desc;
		if (desc == WG_TLS_ALERT_CLOSE_NOTIFY)
			lc->st.close_notify_tx++;
	}
	s->flags |= WG_TLSF_TX_CLOSED;
	return ret;
}

/* The session is over: alert (unless WG_TLS_NO_ALERT), no more input,
 * on_close(reason) at the next tx flush. */
static void
fatal(struct wg_tls_lcore *lc, struct wg_tls_sess *s, uint8_t alert, int reason)
{
	if (s->flags & WG_TLSF_DEAD)
		return;
	if (alert != WG_TLS_NO_ALERT && !(s->flags & WG_TLSF_TX_CLOSED)) {
		tx_alert(lc, s, alert);
		if (alert == WG_TLS_ALERT_BAD_RECORD_MAC)
			lc->st.auth_fail++;
		else
			lc->st.proto_err++;
	}
	s->flags |= WG_TLSF_DEAD | WG_TLSF_TX_CLOSED | WG_TLSF_CLOSE_EV;
	s->close_reason = reason;
	rte_pktmbuf_free(s->rx_buf);
	s->rx_buf = NULL;
	s->hdr_have = 0;
	dirty_add(lc, s);
}

int
wg_tls_write(struct wg_tls_lcore *lc, struct wg_tls_sess *s, const void *p, uint32_t len)
{
	const uint8_t *src = p;
	uint32_t done = 0;

	if ((s->flags & (WG_TLSF_TX_CLOSED | WG_TLSF_DEAD | WG_TLSF_ACTIVE)) != WG_TLSF_ACTIVE)
		return -EPIPE;
	if (len > INT32_MAX)
		return -EINVAL;
	while (done < len) {
		struct tx_ent *e;
		uint32_t n;

		if (s->tx_open < 0 || s->tx_room == 0) {
			n = len - done;
			if (tx_start(lc, s, WG_TLS_CT_APPDATA, RTE_MIN(n, (uint32_t)WRITE_MIN_CHUNK), n, 0) ==
			    NULL)
				break;
		}
		e = &lc->tx[s->tx_open];
		n = RTE_MIN(len - done, (uint32_t)s->tx_room);
		memcpy(e->rec + WG_TLS_HDR_LEN + e->len, src + done, n);
		e->len += n;
		s->tx_room -= n;
		tx_grow(s, e, n);
		done += n;
	}
	lc->st.tx_bytes += done;
	if (done == 0 && len > 0)
		return -errno;
	return (int)done;
}

uint8_t *
wg_tls_tx_append(struct wg_tls_lcore *lc, struct wg_tls_sess *s, uint32_t len)
{
	struct tx_ent *e;
	uint8_t *p;

	if ((s->flags & (WG_TLSF_TX_CLOSED | WG_TLSF_DEAD | WG_TLSF_ACTIVE)) != WG_TLSF_ACTIVE) {
		errno = EPIPE;
		return NULL;
	}
	if (len == 0 || len > s->record_max) {
		errno = EINVAL;
		return NULL;
	}
	if (s->tx_open < 0 || s->tx_room < len) {
		if (tx_start(lc, s, WG_TLS_CT_APPDATA, len, len, 0) == NULL)
			return NULL;
	}
	e = &lc->tx[s->tx_open];
	p = e->rec + WG_TLS_HDR_LEN + e->len;
	e->len += len;
	s->tx_room -= len;
	tx_grow(s, e, len);
	lc->st.tx_bytes += len;
	return p;
}

int
wg_tls_key_update(struct wg_tls_lcore *lc, struct wg_tls_sess *s, bool request_peer)
{
	if ((s->flags & (WG_TLSF_TX_CLOSED | WG_TLSF_DEAD | WG_TLSF_ACTIVE)) != WG_TLSF_ACTIVE)
		return -EPIPE;
	return key_update(lc, s, request_peer);
}

int
wg_tls_close(struct wg_tls_lcore *lc, struct wg_tls_sess *s)
{
	int ret;

	if ((s->flags & (WG_TLSF_TX_CLOSED | WG_TLSF_DEAD | WG_TLSF_ACTIVE)) != WG_TLSF_ACTIVE)
		return -EPIPE;
	ret = tx_alert(lc, s, WG_TLS_ALERT_CLOSE_NOTIFY);
	if (!(s->flags & WG_TLSF_DEAD))
		s->close_reason = ret;
	s->flags |= WG_TLSF_DEAD | WG_TLSF_APP_CLOSED | WG_TLSF_CLOSE_EV;
	rte_pktmbuf_free(s->rx_buf);
	s->rx_buf = NULL;
	dirty_add(lc, s);
	return 0;
}

unsigned int
wg_tls_tx_flush(struct wg_tls_lcore *lc)
{
	unsigned int n = seal_pending(lc);
	struct wg_tls_sess *s;

	/* callbacks may queue more (re-adding sessions at the tail): they are
	 * sealed before any chain holding them is handed out */
	while ((s = lc->dirty_head) != NULL) {
		lc->dirty_head = s->dirty_next;
		if (lc->dirty_head == NULL)
			lc->dirty_tail = NULL;
		s->dirty_next = NULL;
		s->flags &= ~WG_TLSF_DIRTY;
		if (lc->n_tx > 0)
			n += seal_pending(lc);
		if (s->tx_head != NULL) {
			struct rte_mbuf *m = s->tx_head;

			s->tx_head = s->tx_tail = NULL;
			lc->ops->on_send(s->app, m);
		}
		if (s->flags & WG_TLSF_CLOSE_EV) {
			s->flags &= ~WG_TLSF_CLOSE_EV;
			lc->ops->on_close(s->app, s->close_reason);
		}
	}
	return n;
}

/* ---- rx ---------------------------------------------------------------- */

/* Outer header checks (RFC 8446 section 5.1/5.2): after takeover every
 * record is TLSCiphertext. Returns WG_TLS_NO_ALERT or the alert to send. */
static uint8_t
hdr_check(const uint8_t *h, uint16_t *len)
{
	uint16_t l = (uint16_t)(h[3] << 8 | h[4]);

	if (h[0] != WG_TLS_CT_APPDATA)
		return WG_TLS_ALERT_UNEXPECTED_MESSAGE;
	if (h[1] != 3 || h[2] != 3)
		return WG_TLS_ALERT_DECODE_ERROR;
	if (l > WG_TLS_MAX_CIPHER)
		return WG_TLS_ALERT_RECORD_OVERFLOW;
	if (l < WG_TLS_MIN_CIPHER)
		return WG_TLS_ALERT_DECODE_ERROR;
	*len = l;
	return WG_TLS_NO_ALERT;
}

static void
rx_enqueue(struct wg_tls_lcore *lc, struct wg_tls_sess *s, uint8_t *rec, uint16_t len)
{
	struct rx_ent *e = &lc->rx[lc->n_rx++];

	e->s = s;
	e->rec = rec;
	e->len = len;
	e->plen = 0;
	e->ev = EV_NONE;
}

/* Malformed input (or no buffer for it): the error takes its place in the
 * batch, so the records before it are still opened and delivered, and a
 * close_notify before it wins. */
static void
rx_error(struct wg_tls_lcore *lc, struct wg_tls_sess *s, uint8_t alert)
{
	struct rx_ent *e = &lc->rx[lc->n_rx++];

	e->s = s;
	e->rec = NULL;
	e->len = 0;
	e->plen = alert;
	e->ev = EV_NONE;
	s->flags |= WG_TLSF_RX_STOP;
	s->hdr_have = 0;
}

int
wg_tls_rx_feed(struct wg_tls_lcore *lc, struct wg_tls_sess *s, struct rte_mbuf *m)
{
	struct rte_mbuf *seg;
	bool held = false;
	int ret = 0;

	if (unlikely(lc->in_rx_flush)) {
		rte_pktmbuf_free(m);
		return -EBUSY;
	}
	if (unlikely(!(s->flags & WG_TLSF_ACTIVE))) {
		rte_pktmbuf_free(m);
		return -EPIPE;
	}
	for (seg = m; seg != NULL; seg = seg->next) {
		uint8_t *p = rte_pktmbuf_mtod(seg, uint8_t *);
		uint32_t n = seg->data_len, k;
		bool writable = RTE_MBUF_DIRECT(seg) && rte_mbuf_refcnt_read(seg) == 1;

		while (n > 0) {
			const uint8_t *h;
			struct rte_mbuf *buf;
			uint8_t alert, *b;
			uint16_t len = 0;

			if (s->flags & (WG_TLSF_DEAD | WG_TLSF_RX_EOF | WG_TLSF_RX_STOP)) {
				ret = -EPIPE;
				goto out;
			}
			if (lc->n_rx == lc->conf.batch) {
				/* entries in m are opened now: m need not be held for them */
				wg_tls_rx_flush(lc);
				held = false;
				continue;
			}
			if (s->rx_buf != NULL) {
				b = rte_pktmbuf_mtod(s->rx_buf, uint8_t *);
				k = RTE_MIN(n, (uint32_t)(s->rx_len - s->rx_have));
				memcpy(b + s->rx_have, p, k);
				s->rx_have += k;
				p += k;
				n -= k;
				if (s->rx_have == s->rx_len) {
					rx_enqueue(lc, s, b, s->rx_len - WG_TLS_HDR_LEN);
					lc->hold[lc->n_hold++] = s->rx_buf;
					s->rx_buf = NULL;
					lc->st.rx_linear++;
				}
				continue;
			}
			if (s->hdr_have == 0 && n >= WG_TLS_HDR_LEN) {
				h = p;
			} else {
				k = RTE_MIN(n, (uint32_t)(WG_TLS_HDR_LEN - s->hdr_have));
				memcpy(s->hdr + s->hdr_have, p, k);
				s->hdr_have += k;
				p += k;
				n -= k;
				if (s->hdr_have < WG_TLS_HDR_LEN)
					continue;
				h = s->hdr;
			}
			alert = hdr_check(h, &len);
			if (alert != WG_TLS_NO_ALERT) {
				rx_error(lc, s, alert);
				continue;
			}
			if (h == p && writable && n >= WG_TLS_HDR_LEN + (uint32_t)len) {
				rx_enqueue(lc, s, p, len);
				held = true;
				lc->st.rx_inplace++;
				p += WG_TLS_HDR_LEN + len;
				n -= WG_TLS_HDR_LEN + len;
				continue;
			}
			buf = buf_alloc(lc, WG_TLS_HDR_LEN + len);
			if (buf == NULL) {
				rx_error(lc, s, WG_TLS_ALERT_INTERNAL_ERROR);
				continue;
			}
			memcpy(rte_pktmbuf_mtod(buf, uint8_t *), h, WG_TLS_HDR_LEN);
			s->rx_buf = buf;
			s->rx_len = (uint16_t)(WG_TLS_HDR_LEN + len);
			s->rx_have = WG_TLS_HDR_LEN;
			s->hdr_have = 0;
			if (h == p) {
				p += WG_TLS_HDR_LEN;
				n -= WG_TLS_HDR_LEN;
			}
		}
	}
out:
	if (held)
		lc->hold[lc->n_hold++] = m;
	else
		rte_pktmbuf_free(m);
	return ret;
}

static void
rx_rekey(struct wg_tls_lcore *lc, struct wg_tls_sess *s)
{
	if (wg_tls_secret_update(s->suite, s->rx_secret, s->secret_len) < 0 ||
	    install_key(lc, s, s->rx_secret, s->rx_key, s->rx_iv) < 0) {
		fatal(lc, s, WG_TLS_ALERT_INTERNAL_ERROR, -EIO);
		return;
	}
	s->rx_seq = 0;
	s->flags &= ~WG_TLSF_KU_ASKED;
	lc->st.key_update_rx++;
}

/* Post-handshake messages in one handshake record's content (they may be
 * coalesced, and split across records). Only KeyUpdate acts; a client
 * discards NewSessionTicket (no resumption on the fast path). */
static void
rx_handshake(struct wg_tls_lcore *lc, struct wg_tls_sess *s, const uint8_t *p, uint32_t n)
{
	while (n > 0) {
		uint32_t k, mlen;

		if (s->hs_skip > 0) {
			k = RTE_MIN(n, s->hs_skip);
			s->hs_skip -= k;
			p += k;
			n -= k;
			continue;
		}
		if (s->hs_have < 4) {
			k = RTE_MIN(n, 4u - s->hs_have);
			memcpy(s->hs_hdr + s->hs_have, p, k);
			s->hs_have += k;
			p += k;
			n -= k;
			if (s->hs_have < 4)
				return;
			mlen = (uint32_t)s->hs_hdr[1] << 16 | (uint32_t)s->hs_hdr[2] << 8 |
			       s->hs_hdr[3];
			switch (s->hs_hdr[0]) {
			case HS_NEW_SESSION_TICKET:
				if (s->flags & WG_TLSF_SERVER)
					goto unexpected;
				s->hs_skip = mlen;
				s->hs_have = 0;
				lc->st.tickets_ignored++;
				continue;
			case HS_KEY_UPDATE:
				if (mlen != 1) {
					fatal(lc, s, WG_TLS_ALERT_DECODE_ERROR, -EPROTO);
					return;
				}
				break;          /* the body byte may come in the next record */
			default:
				goto unexpected;
			}
			if (n == 0)
				return;
		}
		/* KeyUpdate body: the message must end the record, the key
		 * changes at the record boundary (RFC 8446 section 5.1) */
		s->hs_have = 0;
		if (n != 1)
			goto unexpected;
		if (p[0] > 1) {
			fatal(lc, s, WG_TLS_ALERT_ILLEGAL_PARAMETER, -EPROTO);
			return;
		}
		rx_rekey(lc, s);
		/* a KeyUpdate of ours still unanswered-by-data counts as the answer */
		if (p[0] == 1 && !(s->flags & (WG_TLSF_DEAD | WG_TLSF_TX_CLOSED | WG_TLSF_KU_LAST)) &&
		    key_update(lc, s, false) < 0)
			fatal(lc, s, WG_TLS_ALERT_INTERNAL_ERROR, -ENOBUFS);
		return;
	}
	return;
unexpected:
	fatal(lc, s, WG_TLS_ALERT_UNEXPECTED_MESSAGE, -EPROTO);
}

static void
rx_alert(struct wg_tls_lcore *lc, struct wg_tls_sess *s, struct rx_ent *e, const uint8_t *p,
	 uint32_t n)
{
	if (n != 2) {
		fatal(lc, s, WG_TLS_ALERT_DECODE_ERROR, -EPROTO);
		return;
	}
	s->alert_rcvd = p[1];
	switch (p[1]) {
	case WG_TLS_ALERT_CLOSE_NOTIFY:
		s->flags |= WG_TLSF_RX_EOF;
		rte_pktmbuf_free(s->rx_buf);
		s->rx_buf = NULL;
		e->ev = EV_EOF;
		lc->st.close_notify_rx++;
		break;
	case WG_TLS_ALERT_USER_CANCELED:
		break;                  /* a close_notify should follow */
	default:
		lc->st.alerts_rcvd++;
		fatal(lc, s, WG_TLS_NO_ALERT, -ECONNRESET);
		break;
	}
}

/* Open one record and act on its inner content type. */
static void
rx_open(struct wg_tls_lcore *lc, struct rx_ent *e)
{
	struct wg_tls_sess *s = e->s;
	uint8_t nonce[16], *p;
	uint32_t ilen;
	uint8_t type;

	if (s == NULL || (s->flags & (WG_TLSF_DEAD | WG_TLSF_RX_EOF)))
		return;
	if (e->rec == NULL) {
		fatal(lc, s, (uint8_t)e->plen,
		      e->plen == WG_TLS_ALERT_INTERNAL_ERROR ? -ENOBUFS : -EPROTO);
		return;
	}
	if (unlikely(s->rx_seq == UINT64_MAX)) {
		lc->st.key_limit++;
		fatal(lc, s, WG_TLS_NO_ALERT, -EOVERFLOW);
		return;
	}
	p = e->rec + WG_TLS_HDR_LEN;
	wg_tls_nonce(nonce, s->rx_iv, s->rx_seq);
	if (!wg_tls_gcm_open(lc->mgr, s->key_len, s->rx_key, nonce, e->rec, e->len)) {
		fatal(lc, s, WG_TLS_ALERT_BAD_RECORD_MAC, -EBADMSG);
		return;
	}
	s->rx_seq++;
	lc->st.rx_records++;
	ilen = e->len - WG_TLS_TAG_LEN;
	if (ilen > WG_TLS_MAX_INNER) {
		fatal(lc, s, WG_TLS_ALERT_RECORD_OVERFLOW, -EPROTO);
		return;
	}
	while (ilen > 0 && p[ilen - 1] == 0)
		ilen--;
	if (ilen == 0) {
		fatal(lc, s, WG_TLS_ALERT_UNEXPECTED_MESSAGE, -EPROTO);
		return;
	}
	type = p[--ilen];
	/* handshake messages must not be interleaved with other types */
	if (type != WG_TLS_CT_HANDSHAKE && (s->hs_have != 0 || s->hs_skip != 0)) {
		fatal(lc, s, WG_TLS_ALERT_UNEXPECTED_MESSAGE, -EPROTO);
		return;
	}
	switch (type) {
	case WG_TLS_CT_APPDATA:
		if (ilen > 0) {
			e->ev = EV_DATA;
			e->plen = (uint16_t)ilen;
		}
		break;
	case WG_TLS_CT_ALERT:
		rx_alert(lc, s, e, p, ilen);
		break;
	case WG_TLS_CT_HANDSHAKE:
		if (ilen == 0) {
			fatal(lc, s, WG_TLS_ALERT_UNEXPECTED_MESSAGE, -EPROTO);
			return;
		}
		rx_handshake(lc, s, p, ilen);
		break;
	default:
		fatal(lc, s, WG_TLS_ALERT_UNEXPECTED_MESSAGE, -EPROTO);
		return;
	}
	if (s->flags & (WG_TLSF_DEAD | WG_TLSF_RX_EOF))
		return;
	/* per-key record limits of the peer's direction */
	if (lc->conf.rx_key_limit != 0 && s->rx_seq >= lc->conf.rx_key_limit) {
		lc->st.key_limit++;
		fatal(lc, s, WG_TLS_NO_ALERT, -EKEYEXPIRED);
	} else if (lc->conf.rekey_records != 0 && s->rx_seq >= lc->conf.rekey_records &&
		   !(s->flags & (WG_TLSF_KU_ASKED | WG_TLSF_TX_CLOSED)) &&
		   key_update(lc, s, true) < 0) {
		fatal(lc, s, WG_TLS_ALERT_INTERNAL_ERROR, -ENOBUFS);
	}
}

unsigned int
wg_tls_rx_flush(struct wg_tls_lcore *lc)
{
	uint32_t i, n = lc->n_rx;

	if (n == 0 || lc->in_rx_flush)
		return 0;
	lc->in_rx_flush = true;
	for (i = 0; i < n; i++) {
		if (i + 1 < n)
			prefetch_rec(lc->rx[i + 1].s, lc->rx[i + 1].rec, true);
		rx_open(lc, &lc->rx[i]);
	}
	for (i = 0; i < n; i++) {
		struct rx_ent *e = &lc->rx[i];
		struct wg_tls_sess *s = e->s;

		if (e->ev == EV_NONE || s == NULL || (s->flags & WG_TLSF_APP_CLOSED))
			continue;
		if (e->ev == EV_DATA) {
			lc->st.rx_bytes += e->plen;
			lc->ops->on_data(s->app, e->rec + WG_TLS_HDR_LEN, e->plen);
		} else {
			lc->ops->on_eof(s->app);
		}
	}
	rte_pktmbuf_free_bulk(lc->hold, lc->n_hold);
	lc->n_rx = 0;
	lc->n_hold = 0;
	lc->st.rx_batches++;
	lc->in_rx_flush = false;
	return n;
}

/* ---- introspection ------------------------------------------------------ */

void
wg_tls_sess_dump(FILE *f, const struct wg_tls_sess *s)
{
	fprintf(f, "tls sess %p: suite 0x%04x %s flags 0x%04x\n", (const void *)s, s->suite,
		(s->flags & WG_TLSF_SERVER) ? "server" : "client", s->flags);
	fprintf(f, "  rx seq %" PRIu64 " partial %u/%u hdr %u hs %u skip %" PRIu32
		" alert_rcvd %u\n", s->rx_seq, s->rx_have, s->rx_buf ? s->rx_len : 0,
		s->hdr_have, s->hs_have, s->hs_skip, s->alert_rcvd);
	fprintf(f, "  tx seq %" PRIu64 " next %" PRIu64 " queued %" PRIu32 " B open %d room %u"
		" record_max %u alert_sent %u close %d\n", s->tx_seq, s->tx_next,
		s->tx_head ? s->tx_head->pkt_len : 0, s->tx_open, s->tx_room, s->record_max,
		s->alert_sent, s->close_reason);
}

unsigned int
wg_tls_stats_list(const struct wg_tls_stats *st, const char **names, uint64_t *values,
		  unsigned int max)
{
#define S(f) { #f, offsetof(struct wg_tls_stats, f) }
	static const struct {
		const char *name;
		size_t off;
	} tab[] = {
		S(rx_records), S(rx_bytes), S(rx_inplace), S(rx_linear), S(rx_batches),
		S(tx_records), S(tx_bytes), S(tx_batches), S(auth_fail), S(proto_err),
		S(alerts_rcvd), S(close_notify_rx), S(close_notify_tx), S(key_update_rx),
		S(key_update_tx), S(tickets_ignored), S(key_limit), S(nobuf),
	};
#undef S
	unsigned int i;

	for (i = 0; i < RTE_DIM(tab) && i < max; i++) {
		names[i] = tab[i].name;
		memcpy(&values[i], (const uint8_t *)st + tab[i].off, sizeof(uint64_t));
	}
	return RTE_DIM(tab);
}
