/* SPDX-License-Identifier: BSD-3-Clause
 * pcap of ws:// traffic -> record log. libpcap reads the file (classic
 * and nanosecond formats, any byte order); we take Ethernet (with 802.1Q
 * tags), Linux cooked v1/v2, raw IP and BSD loopback frames, IPv4 and
 * IPv6, and reassemble TCP per flow in order. The byte streams go through
 * the dataplane's own WebSocket code: the server-role handshake parser
 * checks the upgrade request, the server-role frame parser unmasks and
 * reassembles the client's messages (the client-role one reads the
 * server's). A capture from a clean run has no gaps; one that does loses
 * that flow, counted, rather than inventing bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "record.h"
#include "ws/ws.h"

#define FLOWS_MIN      64u             /* initial table size, power of two */
#define SCRATCH_LEN    (1u << 18)      /* a packet's TCP payload, unmasked in place */
#define RESP_PREFIX    "HTTP/1.1 101 "

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

enum dir_phase {
	PH_HTTP = 0,                   /* upgrade request / response */
	PH_WS,                         /* frames */
	PH_DEAD,                       /* nothing more is read in this direction */
};

struct flow_dir {
	uint32_t next_seq;
	bool seq_known;
	uint8_t phase;                 /* enum dir_phase */
	uint8_t resp_have;             /* s2c: bytes of RESP_PREFIX matched */
	uint8_t crlf;                  /* s2c: bytes of "\r\n\r\n" matched */
	struct wg_ws ws;
};

struct flow {
	bool used;
	bool upgraded;
	bool closed;                   /* CLOSE written, or the flow is abandoned */
	uint8_t addr_len;              /* 4 or 16 */
	uint8_t cli_ip[16], srv_ip[16];
	uint16_t cli_port, srv_port;
	uint32_t client;
	struct wg_ws_http *http;       /* c2s handshake parser while upgrading */
	struct flow_dir d[2];          /* WG_REC_C2S, WG_REC_S2C */
};

struct importer {
	struct wg_rec_writer *w;
	FILE *out;
	struct wg_pcap_stats *st;
	struct wg_ws_conf ws_conf;
	struct wg_ws_env env;
	struct flow *flows;
	uint32_t cap;                  /* slots, power of two */
	uint32_t used;
	uint32_t n_clients;
	uint16_t port;
	bool s2c;
	bool have_t0;
	uint64_t t0;
	uint64_t last_t;
	uint64_t now;                  /* time of the packet being read */
	uint8_t *scratch;
	char *err;
	size_t errlen;
};

struct seg {
	uint8_t addr_len;
	const uint8_t *src, *dst;
	uint16_t sport, dport;
	uint32_t seq;
	uint8_t flags;
	const uint8_t *data;
	uint32_t len;                  /* TCP payload bytes captured */
	bool short_capture;            /* the capture holds fewer payload bytes than sent */
};

/* Sets the message, returns rc. */
static int __attribute__((format(printf, 3, 4)))
ierr(struct importer *im, int rc, const char *fmt, ...)
{
	va_list ap;

	if (im->err != NULL && im->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(im->err, im->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static void *
env_get(void *arg, uint32_t size)
{
	(void)arg;
	return malloc(size);
}

static void
env_put(void *arg, void *buf)
{
	(void)arg;
	free(buf);
}

/* Only the client role asks, and only to mask frames it sends: never here. */
static uint32_t
env_rng(void *arg)
{
	(void)arg;
	return 0;
}

/* ------------------------------------------------------------ flows */

static uint32_t
flow_hash(uint8_t alen, const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp)
{
	uint32_t h = 2166136261u;
	unsigned int i;

	for (i = 0; i < alen; i++)
		h = (h ^ a[i]) * 16777619u;
	for (i = 0; i < alen; i++)
		h = (h ^ b[i]) * 16777619u;
	h = (h ^ ap) * 16777619u;
	h = (h ^ bp) * 16777619u;
	return h ^ (h >> 15);
}

static bool
flow_is(const struct flow *f, uint8_t alen, const uint8_t *cli, uint16_t cp, const uint8_t *srv,
	uint16_t sp)
{
	return f->used && f->addr_len == alen && f->cli_port == cp && f->srv_port == sp &&
	       memcmp(f->cli_ip, cli, alen) == 0 && memcmp(f->srv_ip, srv, alen) == 0;
}

/* The flow of (client, server), or the empty slot it would go in. */
static struct flow *
flow_slot(struct importer *im, uint8_t alen, const uint8_t *cli, uint16_t cp, const uint8_t *srv,
	  uint16_t sp)
{
	uint32_t i = flow_hash(alen, cli, cp, srv, sp) & (im->cap - 1);

	while (im->flows[i].used && !flow_is(&im->flows[i], alen, cli, cp, srv, sp))
		i = (i + 1) & (im->cap - 1);
	return &im->flows[i];
}

static void
flow_release(struct flow *f)
{
	free(f->http);
	f->http = NULL;
	wg_ws_release(&f->d[WG_REC_C2S].ws);
	wg_ws_release(&f->d[WG_REC_S2C].ws);
}

/* Doubles the table when it is half full. Flows are never removed (a
 * capture is finite), so linear probing needs no tombstones. */
static int
flows_grow(struct importer *im)
{
	struct flow *old = im->flows, *f;
	uint32_t old_cap = im->cap, i;

	if (im->used < im->cap / 2)
		return 0;
	if (im->cap > UINT32_MAX / 4)
		return -ENOMEM;
	im->flows = calloc((size_t)im->cap * 2, sizeof(*im->flows));
	if (im->flows == NULL) {
		im->flows = old;
		return -ENOMEM;
	}
	im->cap *= 2;
	for (i = 0; i < old_cap; i++) {
		if (!old[i].used)
			continue;
		f = flow_slot(im, old[i].addr_len, old[i].cli_ip, old[i].cli_port, old[i].srv_ip,
			      old[i].srv_port);
		*f = old[i];
		/* the parsers point at conf/env only, never into the flow: moving is safe */
	}
	free(old);
	return 0;
}

/* ------------------------------------------------------------ records */

static int
emit(struct importer *im, struct flow *f, uint8_t dir, uint8_t type, const uint8_t *p,
     uint32_t len)
{
	struct wg_rec rec = { .t_ns = im->now, .client = f->client, .len = len, .dir = dir,
			      .type = type, .payload = p };
	int rc;

	if ((rc = wg_rec_write(im->w, &rec)) != 0)
		return ierr(im, rc, "writing the log: %s", strerror(-rc));
	im->st->messages++;
	return 0;
}

static void
flow_break(struct importer *im, struct flow *f)
{
	if (f->closed)
		return;
	im->st->flows_broken++;
	f->closed = true;
	f->d[0].phase = f->d[1].phase = PH_DEAD;
	flow_release(f);
}

/* Frames of one direction; p is writable (unmasked in place). */
static int
ws_bytes(struct importer *im, struct flow *f, uint8_t dir, uint8_t *p, size_t len)
{
	struct flow_dir *d = &f->d[dir];
	struct wg_ws_event ev;
	size_t used;
	int rc, t;

	while (len > 0 && d->phase == PH_WS) {
		t = wg_ws_recv(&d->ws, p, len, &ev, &used);
		if (t == -ENOBUFS)
			return ierr(im, -ENOMEM, "out of memory reassembling a message");
		if (t < 0) {
			flow_break(im, f);
			return 0;
		}
		p += used;
		len -= used;
		switch (t) {
		case WG_WS_EV_MESSAGE:
			rc = 0;
			if (dir == WG_REC_C2S || im->s2c)
				rc = emit(im, f, dir, ev.opcode == WG_WS_OP_TEXT ? WG_REC_TEXT :
					  WG_REC_BINARY, ev.data, ev.len);
			if (ev.buf != NULL)
				env_put(NULL, ev.buf);
			if (rc != 0)
				return rc;
			break;
		case WG_WS_EV_CLOSE:
			/* nothing after a close frame is a message */
			d->phase = PH_DEAD;
			break;
		case WG_WS_EV_ERROR:
			flow_break(im, f);
			return 0;
		default:
			break;
		}
	}
	return 0;
}

static int
c2s_bytes(struct importer *im, struct flow *f, uint8_t *p, size_t len)
{
	struct flow_dir *d = &f->d[WG_REC_C2S];
	size_t used = 0;
	int rc;

	if (d->phase == PH_HTTP) {
		rc = wg_ws_http_feed(f->http, p, len, &used);
		if (rc == -EAGAIN)
			return 0;
		if (rc != 0) {
			flow_break(im, f);
			return 0;
		}
		free(f->http);
		f->http = NULL;
		f->upgraded = true;
		f->client = im->n_clients++;
		im->st->flows_ws++;
		d->phase = PH_WS;
		if ((rc = emit(im, f, WG_REC_C2S, WG_REC_CONNECT, NULL, 0)) != 0)
			return rc;
	}
	return ws_bytes(im, f, WG_REC_C2S, p + used, len - used);
}

/* The response must be a 101; its header block ends at the first blank line. */
static int
s2c_bytes(struct importer *im, struct flow *f, uint8_t *p, size_t len)
{
	static const char crlf2[] = "\r\n\r\n";
	struct flow_dir *d = &f->d[WG_REC_S2C];
	size_t i = 0;

	if (!im->s2c || d->phase == PH_DEAD)
		return 0;
	while (d->phase == PH_HTTP && i < len) {
		if (d->resp_have < sizeof(RESP_PREFIX) - 1) {
			if (p[i] != (uint8_t)RESP_PREFIX[d->resp_have]) {
				d->phase = PH_DEAD;   /* refused: the client gets no messages */
				return 0;
			}
			d->resp_have++;
		} else {
			d->crlf = p[i] == (uint8_t)crlf2[d->crlf] ? d->crlf + 1 :
				  p[i] == '\r' ? 1 : 0;
			if (d->crlf == 4)
				d->phase = PH_WS;
		}
		i++;
	}
	return ws_bytes(im, f, WG_REC_S2C, p + i, len - i);
}

/* In-order bytes of dir from seq; older bytes are retransmits, a jump
 * ahead is a gap the capture did not see. */
static int
tcp_data(struct importer *im, struct flow *f, uint8_t dir, const struct seg *s)
{
	struct flow_dir *d = &f->d[dir];
	uint32_t skip = 0, n;
	int32_t ahead;

	if (s->len == 0 && !s->short_capture)
		return 0;
	if (!d->seq_known) {           /* no SYN-ACK in the capture: trust the first byte */
		d->next_seq = s->seq;
		d->seq_known = true;
	}
	ahead = (int32_t)(s->seq - d->next_seq);
	if (ahead > 0 || s->short_capture) {
		flow_break(im, f);
		return 0;
	}
	skip = d->next_seq - s->seq;   /* ahead <= 0: how far behind, mod 2^32 */
	if (skip > 0)
		im->st->retransmits++;
	if (skip >= s->len)
		return 0;
	n = s->len - skip;
	d->next_seq += n;
	if (f->closed || d->phase == PH_DEAD)
		return 0;
	memcpy(im->scratch, s->data + skip, n);
	return dir == WG_REC_C2S ? c2s_bytes(im, f, im->scratch, n) :
	       s2c_bytes(im, f, im->scratch, n);
}

static int
flow_open(struct importer *im, const struct seg *s)
{
	struct flow *f;
	int rc;

	if ((rc = flows_grow(im)) != 0)
		return ierr(im, rc, "out of memory for the flow table");
	f = flow_slot(im, s->addr_len, s->src, s->sport, s->dst, s->dport);
	if (f->used) {
		if (!f->closed) {
			/* a retransmitted SYN of a live flow */
			return 0;
		}
		flow_release(f);       /* port reused after a close: a new flow */
	} else {
		im->used++;
	}
	memset(f, 0, sizeof(*f));
	f->used = true;
	f->addr_len = s->addr_len;
	memcpy(f->cli_ip, s->src, s->addr_len);
	memcpy(f->srv_ip, s->dst, s->addr_len);
	f->cli_port = s->sport;
	f->srv_port = s->dport;
	f->d[WG_REC_C2S].next_seq = s->seq + 1;
	f->d[WG_REC_C2S].seq_known = true;
	f->http = malloc(sizeof(*f->http));
	if (f->http == NULL)
		return ierr(im, -ENOMEM, "out of memory");
	wg_ws_http_server_init(f->http, &im->ws_conf);
	if (wg_ws_init(&f->d[WG_REC_C2S].ws, &im->ws_conf, &im->env, WG_WS_SERVER) != 0 ||
	    wg_ws_init(&f->d[WG_REC_S2C].ws, &im->ws_conf, &im->env, WG_WS_CLIENT) != 0)
		return ierr(im, -EINVAL, "WebSocket parser set-up failed");
	im->st->flows++;
	return 0;
}

static int
tcp_segment(struct importer *im, const struct seg *s)
{
	struct flow *f;
	uint8_t dir;
	int rc;

	if ((s->flags & (TH_SYN | TH_ACK)) == TH_SYN) {
		if (im->port != 0 && s->dport != im->port) {
			im->st->skipped++;
			return 0;
		}
		return flow_open(im, s);
	}
	f = flow_slot(im, s->addr_len, s->src, s->sport, s->dst, s->dport);
	dir = WG_REC_C2S;
	if (!f->used) {
		f = flow_slot(im, s->addr_len, s->dst, s->dport, s->src, s->sport);
		dir = WG_REC_S2C;
	}
	if (!f->used) {
		if (im->port != 0 && s->dport != im->port && s->sport != im->port)
			im->st->skipped++;
		else
			im->st->midstream++;
		return 0;
	}
	if (dir == WG_REC_S2C && (s->flags & TH_SYN)) {
		f->d[WG_REC_S2C].next_seq = s->seq + 1;
		f->d[WG_REC_S2C].seq_known = true;
		return 0;
	}
	if ((rc = tcp_data(im, f, dir, s)) != 0)
		return rc;
	if ((s->flags & TH_RST) || (dir == WG_REC_C2S && (s->flags & TH_FIN))) {
		if (f->upgraded && !f->closed &&
		    (rc = emit(im, f, WG_REC_C2S, WG_REC_CLOSE, NULL, 0)) != 0)
			return rc;
		if (!f->closed) {
			f->closed = true;
			flow_release(f);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ layers */

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* IPv4 or IPv6 + TCP at p (cap captured bytes). 1 = a segment, 0 = not one. */
static int
parse_ip(const uint8_t *p, uint32_t cap, struct seg *s)
{
	uint32_t ihl, total, thl, avail;
	const uint8_t *tcp;

	if (cap < 1)
		return 0;
	if ((p[0] >> 4) == 4) {
		if (cap < 20 || (ihl = (uint32_t)(p[0] & 0x0f) * 4) < 20 || cap < ihl)
			return 0;
		total = be16(p + 2);
		/* fragments: a clean capture of a local run has none */
		if (p[9] != 6 || total < ihl || (be16(p + 6) & 0x3fff) != 0)
			return 0;
		s->addr_len = 4;
		s->src = p + 12;
		s->dst = p + 16;
		tcp = p + ihl;
		total -= ihl;
		avail = cap - ihl;
	} else if ((p[0] >> 4) == 6) {
		if (cap < 40 || p[6] != 6)     /* no extension headers */
			return 0;
		total = be16(p + 4);
		s->addr_len = 16;
		s->src = p + 8;
		s->dst = p + 24;
		tcp = p + 40;
		avail = cap - 40;
	} else {
		return 0;
	}
	if (avail < 20 || total < 20 || (thl = (uint32_t)(tcp[12] >> 4) * 4) < 20 ||
	    total < thl || avail < thl)
		return 0;
	s->sport = be16(tcp);
	s->dport = be16(tcp + 2);
	s->seq = be32(tcp + 4);
	s->flags = tcp[13];
	s->data = tcp + thl;
	s->len = total - thl;
	/* Ethernet pads short frames: the IP length, not the capture, says
	 * where the payload ends; a capture shorter than that lost bytes */
	s->short_capture = avail - thl < s->len;
	if (s->short_capture)
		s->len = avail - thl;
	return 1;
}

/* Link layer to the IP header. */
static int
parse_link(int dlt, const uint8_t *p, uint32_t cap, struct seg *s)
{
	uint32_t off, type;

	switch (dlt) {
	case DLT_EN10MB:
		if (cap < 14)
			return 0;
		off = 12;
		type = be16(p + off);
		while ((type == 0x8100 || type == 0x88a8) && cap >= off + 6) {
			off += 4;
			type = be16(p + off);
		}
		off += 2;
		break;
	case DLT_LINUX_SLL:
		if (cap < 16)
			return 0;
		type = be16(p + 14);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (cap < 20)
			return 0;
		type = be16(p);
		off = 20;
		break;
	case DLT_RAW:
		type = 0x0800;
		off = 0;
		break;
	case DLT_NULL:
		/* host byte order of the capturing machine: 2 is AF_INET, and
		 * AF_INET6 is 10, 24, 28 or 30 depending on the OS */
		if (cap < 4)
			return 0;
		type = (p[0] == 2 || p[3] == 2) ? 0x0800 : 0x86dd;
		off = 4;
		break;
	default:
		return 0;
	}
	if (off > cap || (type != 0x0800 && type != 0x86dd))
		return 0;
	return parse_ip(p + off, cap - off, s);
}

static bool
dlt_known(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 ||
	       dlt == DLT_RAW || dlt == DLT_NULL;
}

int
wg_rec_import_pcap(FILE *in, FILE *out, uint16_t port, bool s2c, struct wg_pcap_stats *st,
		   char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct importer im = { 0 };
	struct pcap_pkthdr *ph;
	const u_char *pkt;
	pcap_t *pc = NULL;
	struct seg s;
	uint64_t t;
	uint32_t i;
	int dlt, rc = 0, nx;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (in == NULL || out == NULL || st == NULL) {
		if (in != NULL)
			fclose(in);
		return -EINVAL;
	}
	memset(st, 0, sizeof(*st));
	im.st = st;
	im.out = out;
	im.port = port;
	im.s2c = s2c;
	im.err = err;
	im.errlen = errlen;
	wg_ws_conf_defaults(&im.ws_conf);
	im.ws_conf.path[0] = '\0';             /* any request target */
	im.ws_conf.max_message = WG_REC_PAYLOAD_MAX;
	im.env.buf_get = env_get;
	im.env.buf_put = env_put;
	im.env.rng = env_rng;

	pc = pcap_fopen_offline_with_tstamp_precision(in, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (pc == NULL) {
		fclose(in);
		return ierr(&im, -EINVAL, "not a pcap file: %s", ebuf);
	}
	dlt = pcap_datalink(pc);
	if (!dlt_known(dlt)) {
		rc = ierr(&im, -EINVAL, "link type %d (%s) is not supported", dlt,
			  pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?");
		goto out;
	}
	im.cap = FLOWS_MIN;
	im.flows = calloc(im.cap, sizeof(*im.flows));
	im.scratch = malloc(SCRATCH_LEN);
	if (im.flows == NULL || im.scratch == NULL) {
		rc = ierr(&im, -ENOMEM, "out of memory");
		goto out;
	}
	while ((nx = pcap_next_ex(pc, &ph, &pkt)) == 1) {
		st->packets++;
		t = (uint64_t)ph->ts.tv_sec * 1000000000ull + (uint64_t)ph->ts.tv_usec;
		if (!im.have_t0) {
			im.have_t0 = true;
			im.t0 = t;
			im.w = wg_rec_writer_open(out, t);
			if (im.w == NULL) {
				rc = ierr(&im, -EIO, "writing the log header: %s", strerror(errno));
				goto out;
			}
		}
		t = t < im.t0 ? 0 : t - im.t0;
		if (t < im.last_t) {
			st->clamped++;
			t = im.last_t;
		}
		im.last_t = t;
		im.now = t;
		memset(&s, 0, sizeof(s));
		if (ph->caplen > SCRATCH_LEN || !parse_link(dlt, pkt, ph->caplen, &s)) {
			st->skipped++;
			continue;
		}
		if ((rc = tcp_segment(&im, &s)) != 0)
			goto out;
	}
	if (nx == PCAP_ERROR) {
		/* a record cut short is an error here; a clean end is -2 */
		rc = ierr(&im, -EINVAL, "reading the capture after %" PRIu64 " packets: %s", st->packets,
			  pcap_geterr(pc));
		goto out;
	}
	if (im.w == NULL && (im.w = wg_rec_writer_open(out, 0)) == NULL) {
		rc = ierr(&im, -EIO, "writing the log header: %s", strerror(errno));
		goto out;
	}
out:
	for (i = 0; im.flows != NULL && i < im.cap; i++)
		if (im.flows[i].used)
			flow_release(&im.flows[i]);
	free(im.flows);
	free(im.scratch);
	if (im.w != NULL) {
		int crc = wg_rec_writer_close(im.w);

		if (rc == 0 && crc != 0)
			rc = ierr(&im, crc, "writing the log: %s", strerror(-crc));
	}
	pcap_close(pc);
	return rc;
}
