/* SPDX-License-Identifier: BSD-3-Clause
 * Discovery instances and the static file format: pure functions, no gRPC
 * (the fuzzer and the file backend use them alone).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disc.h"

/* ---- instances ---- */

void
wg_disc_instance_init(struct wg_disc_instance *in, const char *service,
		      const char *id, const char *address, uint32_t weight,
		      const char *zone)
{
	memset(in, 0, sizeof(*in));
	snprintf(in->service, sizeof(in->service), "%s", service ? service : "");
	snprintf(in->id, sizeof(in->id), "%s", id ? id : "");
	snprintf(in->address, sizeof(in->address), "%s", address ? address : "");
	in->weight = weight;
	snprintf(in->zone, sizeof(in->zone), "%s", zone ? zone : "");
}

int
wg_disc_instance_set_meta(struct wg_disc_instance *in, const char *key, const char *value)
{
	uint32_t i;

	if (strlen(key) >= WG_DISC_KEY_MAX || strlen(value) >= WG_DISC_VAL_MAX || !*key)
		return -EINVAL;
	for (i = 0; i < in->n_meta; i++)
		if (strcmp(in->meta[i].key, key) == 0)
			break;
	if (i == WG_DISC_META_MAX)
		return -ENOSPC;
	if (i == in->n_meta) {
		memset(&in->meta[i], 0, sizeof(in->meta[i]));
		memcpy(in->meta[i].key, key, strlen(key));
		in->n_meta++;
	}
	memset(in->meta[i].value, 0, sizeof(in->meta[i].value));
	memcpy(in->meta[i].value, value, strlen(value));
	return 0;
}

const char *
wg_disc_instance_meta(const struct wg_disc_instance *in, const char *key)
{
	uint32_t i;

	for (i = 0; i < in->n_meta && i < WG_DISC_META_MAX; i++)
		if (strcmp(in->meta[i].key, key) == 0)
			return in->meta[i].value;
	return NULL;
}

/* Printable, no spaces or '=' or '#' (the file format's separators). */
bool
wg_disc_token_ok(const char *s, size_t max, bool allow_empty, bool allow_eq)
{
	size_t n = strnlen(s, max);

	if (n == max || (n == 0 && !allow_empty))
		return false;
	for (; *s; s++)
		if (!isgraph((unsigned char)*s) || *s == '#' || (*s == '=' && !allow_eq))
			return false;
	return true;
}

int
wg_disc_instance_check(const struct wg_disc_instance *in)
{
	uint32_t i;

	if (!wg_disc_token_ok(in->service, sizeof(in->service), false, false) ||
	    !wg_disc_token_ok(in->id, sizeof(in->id), false, false) ||
	    !wg_disc_token_ok(in->address, sizeof(in->address), false, false) ||
	    !wg_disc_token_ok(in->zone, sizeof(in->zone), true, false) ||
	    in->weight == 0 || in->weight > WG_DISC_WEIGHT_MAX ||
	    in->n_meta > WG_DISC_META_MAX)
		return -EINVAL;
	for (i = 0; i < in->n_meta; i++)
		if (!wg_disc_token_ok(in->meta[i].key, sizeof(in->meta[i].key), false, false) ||
		    !wg_disc_token_ok(in->meta[i].value, sizeof(in->meta[i].value), true, true) ||
		    strcmp(in->meta[i].key, "weight") == 0 ||
		    strcmp(in->meta[i].key, "zone") == 0)
			return -EINVAL;
	return 0;
}

uint32_t
wg_disc_zone_id(const char *zone)
{
	uint32_t h = 2166136261u;

	if (*zone == '\0')
		return 0;
	for (; *zone; zone++) {
		h ^= (uint8_t)*zone;
		h *= 16777619u;
	}
	return h ? h : 1;
}

/* ---- static file format ---- */

static int __attribute__((format(printf, 4, 5)))
perr(char *err, size_t errlen, unsigned int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err && errlen) {
		n = snprintf(err, errlen, "line %u: ", line);
		if (n >= 0 && (size_t)n < errlen) {
			va_start(ap, fmt);
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

/* Copy token [s, s+n) into dst (size max) or fail. */
static bool
tok_copy(char *dst, size_t max, const char *s, size_t n)
{
	if (n >= max)
		return false;
	memset(dst, 0, max);    /* values are compared whole (memcmp) */
	memcpy(dst, s, n);
	return true;
}

int
wg_disc_parse_static(const char *buf, size_t len, wg_disc_parse_fn *fn, void *arg,
		     char *err, size_t errlen)
{
	struct wg_disc_instance in;
	const char *p = buf, *end = buf + len;
	unsigned int line = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *tok[3 + 2 + WG_DISC_META_MAX];
		size_t tlen[3 + 2 + WG_DISC_META_MAX];
		unsigned int nt = 0, i;
		const char *q;

		if (eol == NULL)
			eol = end;
		line++;
		for (q = p; q < eol; q++)
			if (*q == '#')
				break;
		/* q: end of content; tokenize [p, q). */
		while (p < q) {
			const char *t;

			while (p < q && (*p == ' ' || *p == '\t' || *p == '\r'))
				p++;
			if (p == q)
				break;
			t = p;
			while (p < q && *p != ' ' && *p != '\t' && *p != '\r') {
				/* NULs and control bytes would make the value
				 * differ from what a C string shows. */
				if (!isgraph((unsigned char)*p))
					return perr(err, errlen, line, "bad character 0x%02x",
						    (unsigned char)*p);
				p++;
			}
			if (nt == sizeof(tok) / sizeof(tok[0]))
				return perr(err, errlen, line, "too many fields");
			tok[nt] = t;
			tlen[nt++] = (size_t)(p - t);
		}
		p = eol + 1;
		if (nt == 0)
			continue;
		if (nt < 3)
			return perr(err, errlen, line, "need <service> <id> <address>");
		memset(&in, 0, sizeof(in));
		in.weight = 1;
		if (!tok_copy(in.service, sizeof(in.service), tok[0], tlen[0]) ||
		    !tok_copy(in.id, sizeof(in.id), tok[1], tlen[1]) ||
		    !tok_copy(in.address, sizeof(in.address), tok[2], tlen[2]))
			return perr(err, errlen, line, "name too long");
		for (i = 3; i < nt; i++) {
			const char *eq = memchr(tok[i], '=', tlen[i]);
			size_t kl, vl;
			char v[WG_DISC_VAL_MAX];

			if (eq == NULL || eq == tok[i])
				return perr(err, errlen, line, "expected key=value, got '%.*s'",
					    (int)(tlen[i] > 40 ? 40 : tlen[i]), tok[i]);
			kl = (size_t)(eq - tok[i]);
			vl = tlen[i] - kl - 1;
			if (vl >= sizeof(v))
				return perr(err, errlen, line, "value too long");
			memcpy(v, eq + 1, vl);
			v[vl] = '\0';
			if (kl == 6 && memcmp(tok[i], "weight", 6) == 0) {
				char *e;
				unsigned long w;

				errno = 0;
				w = strtoul(v, &e, 10);
				if (vl == 0 || *e || errno || w == 0 || w > WG_DISC_WEIGHT_MAX ||
				    !isdigit((unsigned char)v[0]))
					return perr(err, errlen, line, "weight must be 1..%d",
						    WG_DISC_WEIGHT_MAX);
				in.weight = (uint32_t)w;
			} else if (kl == 4 && memcmp(tok[i], "zone", 4) == 0) {
				if (!tok_copy(in.zone, sizeof(in.zone), v, vl))
					return perr(err, errlen, line, "zone too long");
			} else {
				char k[WG_DISC_KEY_MAX];

				if (!tok_copy(k, sizeof(k), tok[i], kl))
					return perr(err, errlen, line, "key too long");
				if (in.n_meta == WG_DISC_META_MAX && wg_disc_instance_meta(&in, k) == NULL)
					return perr(err, errlen, line, "more than %d metadata keys",
						    WG_DISC_META_MAX);
				wg_disc_instance_set_meta(&in, k, v);
			}
		}
		if (wg_disc_instance_check(&in) < 0)
			return perr(err, errlen, line, "bad instance");
		if (fn) {
			int rc = fn(arg, &in);

			if (rc)
				return rc;
		}
	}
	return 0;
}

int
wg_disc_format_static(const struct wg_disc_instance *in, char *buf, size_t len)
{
	size_t off;
	uint32_t i;
	int n;

	n = snprintf(buf, len, "%s %s %s weight=%u", in->service, in->id, in->address,
		     in->weight);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	off = (size_t)n;
	if (in->zone[0]) {
		n = snprintf(buf + off, len - off, " zone=%s", in->zone);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	for (i = 0; i < in->n_meta; i++) {
		n = snprintf(buf + off, len - off, " %s=%s", in->meta[i].key, in->meta[i].value);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	if (off + 2 > len)
		return -ENOSPC;
	buf[off++] = '\n';
	buf[off] = '\0';
	return (int)off;
}

