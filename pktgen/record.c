/* SPDX-License-Identifier: BSD-3-Clause
 * Record log writer and streaming reader (layout in record-t.h). The
 * reader trusts nothing: every length, type, direction and time is checked
 * before it is used, and the end marker must account for every record, so
 * a file cut anywhere - even at a record boundary - is an error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

struct wg_rec_writer {
	FILE *f;
	uint64_t n_records;
	uint64_t last_t;
	uint32_t n_clients;            /* highest client index + 1 */
	int err;                       /* first error, sticky */
};

struct wg_rec_reader {
	FILE *f;
	uint64_t off;                  /* bytes consumed */
	uint64_t n_records;
	uint64_t last_t;
	uint64_t start;
	uint32_t n_clients;            /* highest seen + 1; the end marker's once read */
	int state;                     /* 0 reading, 1 at the end, <0 error */
	uint8_t *buf;                  /* payload of the current record */
	uint32_t cap;
	char err[WG_REC_ERR_MAX];
};

static void
put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

const char *
wg_rec_type_name(unsigned int type)
{
	switch (type) {
	case WG_REC_CONNECT:
		return "connect";
	case WG_REC_TEXT:
		return "text";
	case WG_REC_BINARY:
		return "binary";
	case WG_REC_FRAMED:
		return "framed";
	case WG_REC_CLOSE:
		return "close";
	case WG_REC_END:
		return "end";
	default:
		return "?";
	}
}

static bool
type_valid(unsigned int type)
{
	return type >= WG_REC_CONNECT && type <= WG_REC_CLOSE;
}

static bool
type_has_payload(unsigned int type)
{
	return type == WG_REC_TEXT || type == WG_REC_BINARY || type == WG_REC_FRAMED;
}

/* ------------------------------------------------------------ writer */

struct wg_rec_writer *
wg_rec_writer_open(FILE *f, uint64_t start_unix_ns)
{
	uint8_t hdr[WG_REC_HDR_LEN] = { 0 };
	struct wg_rec_writer *w;

	if (f == NULL) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(hdr, WG_REC_MAGIC, WG_REC_MAGIC_LEN);
	put_le(hdr + 8, WG_REC_VERSION, 2);
	put_le(hdr + 10, WG_REC_HDR_LEN, 2);
	put_le(hdr + 16, start_unix_ns, 8);
	if (fwrite(hdr, 1, sizeof(hdr), f) != sizeof(hdr)) {
		free(w);
		errno = EIO;
		return NULL;
	}
	w->f = f;
	return w;
}

static int
write_raw(struct wg_rec_writer *w, uint64_t t, uint32_t client, uint8_t dir, uint8_t type,
	  const void *payload, uint32_t len)
{
	uint8_t h[WG_REC_REC_LEN] = { 0 };

	put_le(h, t, 8);
	put_le(h + 8, client, 4);
	put_le(h + 12, len, 4);
	h[16] = dir;
	h[17] = type;
	if (fwrite(h, 1, sizeof(h), w->f) != sizeof(h) ||
	    (len > 0 && fwrite(payload, 1, len, w->f) != len)) {
		w->err = -EIO;
		return -EIO;
	}
	return 0;
}

int
wg_rec_write(struct wg_rec_writer *w, const struct wg_rec *rec)
{
	int rc;

	if (w == NULL || rec == NULL)
		return -EINVAL;
	if (w->err != 0)
		return w->err;
	if (rec->t_ns < w->last_t || rec->dir > WG_REC_S2C || !type_valid(rec->type) ||
	    rec->len > WG_REC_PAYLOAD_MAX || (rec->len > 0 && rec->payload == NULL) ||
	    (!type_has_payload(rec->type) && rec->len != 0) || rec->client == UINT32_MAX)
		return -EINVAL;
	if ((rc = write_raw(w, rec->t_ns, rec->client, rec->dir, rec->type, rec->payload,
			    rec->len)) != 0)
		return rc;
	w->last_t = rec->t_ns;
	w->n_records++;
	if (rec->client >= w->n_clients)
		w->n_clients = rec->client + 1;
	return 0;
}

int
wg_rec_writer_close(struct wg_rec_writer *w)
{
	uint8_t end[WG_REC_END_LEN] = { 0 };
	int rc;

	if (w == NULL)
		return -EINVAL;
	rc = w->err;
	if (rc == 0) {
		put_le(end, w->n_records, 8);
		put_le(end + 8, w->n_clients, 4);
		rc = write_raw(w, w->last_t, 0, WG_REC_C2S, WG_REC_END, end, sizeof(end));
	}
	if (rc == 0 && fflush(w->f) != 0)
		rc = -EIO;
	free(w);
	return rc;
}

/* ------------------------------------------------------------ reader */

static int __attribute__((format(printf, 2, 3)))
rfail(struct wg_rec_reader *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->err, sizeof(r->err), "record %" PRIu64 " at byte %" PRIu64 ": ",
		     r->n_records, r->off);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof(r->err))
		vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
	va_end(ap);
	r->state = -EINVAL;
	return -EINVAL;
}

struct wg_rec_reader *
wg_rec_reader_open(FILE *f, char *err, size_t errlen)
{
	uint8_t hdr[WG_REC_HDR_LEN];
	struct wg_rec_reader *r;
	size_t got;
	uint64_t v;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (f == NULL) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	r->f = f;
	got = fread(hdr, 1, sizeof(hdr), f);
	if (got != sizeof(hdr)) {
		if (ferror(f))
			snprintf(r->err, sizeof(r->err), "read error in the header");
		else
			snprintf(r->err, sizeof(r->err), "truncated: the header needs %zu bytes, "
				 "the file has %zu more", sizeof(hdr), got);
		goto bad;
	}
	r->off = sizeof(hdr);
	/* the header's checks report byte offsets of the field at fault */
	if (memcmp(hdr, WG_REC_MAGIC, WG_REC_MAGIC_LEN) != 0) {
		snprintf(r->err, sizeof(r->err), "not a record log (bad magic)");
		goto bad;
	}
	if ((v = get_le(hdr + 8, 2)) != WG_REC_VERSION) {
		snprintf(r->err, sizeof(r->err), "unsupported version %" PRIu64 " (this reads %u)",
			 v, WG_REC_VERSION);
		goto bad;
	}
	if ((v = get_le(hdr + 10, 2)) != WG_REC_HDR_LEN) {
		snprintf(r->err, sizeof(r->err), "header length %" PRIu64 " is not %u", v,
			 WG_REC_HDR_LEN);
		goto bad;
	}
	if ((v = get_le(hdr + 12, 4)) != 0) {
		snprintf(r->err, sizeof(r->err), "unknown header flags 0x%" PRIx64, v);
		goto bad;
	}
	r->start = get_le(hdr + 16, 8);
	return r;
bad:
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", r->err);
	free(r);
	errno = EINVAL;
	return NULL;
}

int
wg_rec_next(struct wg_rec_reader *r, struct wg_rec *rec)
{
	uint8_t h[WG_REC_REC_LEN], end[WG_REC_END_LEN], extra;
	uint64_t t, n;
	uint32_t client, len, nc;
	uint8_t dir, type;
	size_t got;

	if (r->state < 0)
		return r->state;
	if (r->state > 0)
		return 0;
	got = fread(h, 1, sizeof(h), r->f);
	if (got != sizeof(h)) {
		if (ferror(r->f)) {
			snprintf(r->err, sizeof(r->err), "read error at byte %" PRIu64, r->off);
			r->state = -EIO;
			return -EIO;
		}
		/* a clean end of file between records: the end marker is missing */
		if (got == 0)
			return rfail(r, "truncated: the end marker is missing");
		return rfail(r, "truncated: a record header needs %zu bytes, the file has %zu more",
			     sizeof(h), got);
	}
	t = get_le(h, 8);
	client = (uint32_t)get_le(h + 8, 4);
	len = (uint32_t)get_le(h + 12, 4);
	dir = h[16];
	type = h[17];
	if (get_le(h + 18, 2) != 0)
		return rfail(r, "reserved bytes are not zero");
	if (t < r->last_t)
		return rfail(r, "time %" PRIu64 " ns is before the previous record's %" PRIu64
			     " ns (records must be sorted by time)", t, r->last_t);
	if (type == WG_REC_END) {
		if (len != WG_REC_END_LEN || client != 0 || dir != WG_REC_C2S)
			return rfail(r, "malformed end marker (length %u, client %u, direction %u)",
				     len, client, dir);
		got = fread(end, 1, sizeof(end), r->f);
		if (got != sizeof(end))
			return rfail(r, "truncated: the end marker needs %zu bytes, the file has %zu "
				     "more", sizeof(end), got);
		n = get_le(end, 8);
		nc = (uint32_t)get_le(end + 8, 4);
		if (n != r->n_records)
			return rfail(r, "end marker counts %" PRIu64 " records, the file has %" PRIu64,
				     n, r->n_records);
		if (nc != r->n_clients)
			return rfail(r, "end marker counts %u clients, the records name %u", nc,
				     r->n_clients);
		if (get_le(end + 12, 4) != 0)
			return rfail(r, "end marker reserved bytes are not zero");
		r->off += sizeof(h) + sizeof(end);
		if (fread(&extra, 1, 1, r->f) != 0)
			return rfail(r, "data after the end marker");
		r->state = 1;
		return 0;
	}
	if (!type_valid(type))
		return rfail(r, "unknown type %u", type);
	if (dir > WG_REC_S2C)
		return rfail(r, "unknown direction %u", dir);
	if (client == UINT32_MAX)
		return rfail(r, "client index %u is reserved", client);
	if (!type_has_payload(type) && len != 0)
		return rfail(r, "a %s record has %u payload bytes (none allowed)",
			     wg_rec_type_name(type), len);
	if (len > WG_REC_PAYLOAD_MAX)
		return rfail(r, "length %u is above the limit of %u", len, WG_REC_PAYLOAD_MAX);
	if (len > r->cap) {
		/* grow geometrically: a bad length was refused above, so at most 1 MiB */
		uint32_t cap = r->cap ? r->cap : 256;
		uint8_t *nb;

		while (cap < len)
			cap *= 2;
		nb = realloc(r->buf, cap);
		if (nb == NULL) {
			snprintf(r->err, sizeof(r->err), "out of memory");
			r->state = -ENOMEM;
			return -ENOMEM;
		}
		r->buf = nb;
		r->cap = cap;
	}
	if (len > 0 && (got = fread(r->buf, 1, len, r->f)) != len) {
		if (ferror(r->f)) {
			snprintf(r->err, sizeof(r->err), "read error at byte %" PRIu64, r->off);
			r->state = -EIO;
			return -EIO;
		}
		return rfail(r, "truncated: the payload needs %u bytes, the file has %zu more",
			     len, got);
	}
	r->off += sizeof(h) + len;
	rec->t_ns = t;
	rec->client = client;
	rec->len = len;
	rec->dir = dir;
	rec->type = type;
	rec->payload = len > 0 ? r->buf : NULL;
	r->last_t = t;
	r->n_records++;
	if (client >= r->n_clients)
		r->n_clients = client + 1;
	return 1;
}

const char *
wg_rec_reader_error(const struct wg_rec_reader *r)
{
	return r->err;
}

uint64_t
wg_rec_reader_start(const struct wg_rec_reader *r)
{
	return r->start;
}

uint32_t
wg_rec_reader_clients(const struct wg_rec_reader *r)
{
	return r->n_clients;
}

void
wg_rec_reader_close(struct wg_rec_reader *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r);
}
