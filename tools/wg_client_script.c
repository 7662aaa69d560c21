/* SPDX-License-Identifier: BSD-3-Clause
 * wg_client scripts and the JSON helpers they need.
 *
 * The helpers work on the JSON text itself (no tree): a value is found by
 * skipping, strings are compared code point by code point while both are
 * unescaped on the fly. That keeps matching allocation-free; objects are
 * matched member by member with a scan of the other object for each key,
 * O(n*m) in the member counts, which is nothing for protocol messages.
 * Only wgc_json_check() validates; the others assume checked input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msgjson.h"
#include "wg_client.h"
#include "ws.h"

/* ------------------------------------------------------------ check */

struct jc {
	const char *p, *end, *start;
	unsigned int depth;
};

static void
ws_skip(const char **pp, const char *end)
{
	const char *p = *pp;

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	*pp = p;
}

static int
hex4(const char *p, const char *end, unsigned int *v)
{
	unsigned int x = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char ch = p[i];

		x <<= 4;
		if (ch >= '0' && ch <= '9')
			x |= (unsigned int)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			x |= (unsigned int)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			x |= (unsigned int)(ch - 'A' + 10);
		else
			return -1;
	}
	*v = x;
	return 0;
}

/* p at the opening quote; on success p past the closing one */
static int
check_string(struct jc *j)
{
	const char *p = j->p + 1;

	while (p < j->end) {
		unsigned char ch = (unsigned char)*p;
		unsigned int u, lo;

		if (ch == '"') {
			j->p = p + 1;
			return 0;
		}
		if (ch < 0x20)
			goto bad;
		if (ch != '\\') {
			p++;
			continue;
		}
		if (p + 1 >= j->end)
			goto bad;
		switch (p[1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			p += 2;
			break;
		case 'u':
			if (hex4(p + 2, j->end, &u) != 0)
				goto bad;
			p += 6;
			if (u >= 0xdc00 && u <= 0xdfff)
				goto bad;       /* lone low surrogate */
			if (u >= 0xd800 && u <= 0xdbff) {
				if (j->end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				    hex4(p + 2, j->end, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
					goto bad;
				p += 6;
			}
			break;
		default:
			goto bad;
		}
	}
bad:
	j->p = p;
	return -1;
}

static int
check_number(struct jc *j)
{
	const char *p = j->p;

	if (p < j->end && *p == '-')
		p++;
	if (p >= j->end)
		goto bad;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	} else {
		goto bad;
	}
	if (p < j->end && *p == '.') {
		p++;
		if (p >= j->end || *p < '0' || *p > '9')
			goto bad;
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= j->end || *p < '0' || *p > '9')
			goto bad;
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	j->p = p;
	return 0;
bad:
	j->p = p;
	return -1;
}

static int
check_word(struct jc *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static bool dup_member(const char *obj, const char *end);

static int
check_value(struct jc *j)
{
	const char *obj_start;

	ws_skip(&j->p, j->end);
	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '{':
	case '[': {
		char close = *j->p == '{' ? '}' : ']';
		bool obj = close == '}';

		if (++j->depth > WGC_JSON_MAX_DEPTH)
			return -1;
		obj_start = j->p;
		j->p++;
		ws_skip(&j->p, j->end);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return 0;
		}
		for (;;) {
			if (obj) {
				ws_skip(&j->p, j->end);
				if (j->p >= j->end || *j->p != '"' || check_string(j) != 0)
					return -1;
				ws_skip(&j->p, j->end);
				if (j->p >= j->end || *j->p != ':')
					return -1;
				j->p++;
			}
			if (check_value(j) != 0)
				return -1;
			ws_skip(&j->p, j->end);
			if (j->p >= j->end)
				return -1;
			if (*j->p == close) {
				j->p++;
				j->depth--;
				/* a name twice makes matching and lookups ambiguous
				 * (the gateway refuses it too) */
				return obj && dup_member(obj_start, j->p) ? -1 : 0;
			}
			if (*j->p != ',')
				return -1;
			j->p++;
		}
	}
	case '"':
		return check_string(j);
	case 't':
		return check_word(j, "true");
	case 'f':
		return check_word(j, "false");
	case 'n':
		return check_word(j, "null");
	default:
		return check_number(j);
	}
}

int
wgc_json_check(const char *p, size_t len, size_t *at)
{
	struct jc j = { p, p + len, p, 0 };
	uint32_t st = wg_utf8_step(WG_UTF8_ACCEPT, (const uint8_t *)p, len);

	if (st != WG_UTF8_ACCEPT) {
		/* find the first bad byte for the message */
		size_t i = 0;

		st = WG_UTF8_ACCEPT;
		while (i < len && (st = wg_utf8_step(st, (const uint8_t *)p + i, 1)) !=
				  WG_UTF8_REJECT)
			i++;
		if (at != NULL)
			*at = i;
		return -EINVAL;
	}
	if (check_value(&j) == 0) {
		ws_skip(&j.p, j.end);
		if (j.p == j.end)
			return 0;
	}
	if (at != NULL)
		*at = (size_t)(j.p - p);
	return -EINVAL;
}

/* ------------------------------------------------ walking checked JSON */

static const char *
skip_string(const char *p)
{
	for (p++; *p != '"'; p++)
		if (*p == '\\')
			p++;
	return p + 1;
}

/* p at a value (no leading space); returns the end of it */
static const char *
skip_value(const char *p, const char *end)
{
	unsigned int depth = 0;

	do {
		switch (*p) {
		case '"':
			p = skip_string(p);
			break;
		case '{':
		case '[':
			depth++;
			p++;
			break;
		case '}':
		case ']':
			depth--;
			p++;
			break;
		default:
			p++;
			while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' &&
			       *p != '\t' && *p != '\n' && *p != '\r' && *p != ':')
				p++;
			break;
		}
		while (depth > 0 && p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
						*p == '\r' || *p == ',' || *p == ':'))
			p++;
	} while (depth > 0 && p < end);
	return p;
}

/* Next code point of a string being read (p inside it): -1 at the closing
 * quote (p then after it). Escapes and UTF-8 are decoded. */
static long
str_next(const char **pp)
{
	const unsigned char *p = (const unsigned char *)*pp;
	unsigned int u, lo;
	long cp;

	if (*p == '"') {
		*pp = (const char *)p + 1;
		return -1;
	}
	if (*p == '\\') {
		switch (p[1]) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			hex4((const char *)p + 2, (const char *)p + 6, &u);
			p += 6;
			if (u >= 0xd800 && u <= 0xdbff) {
				hex4((const char *)p + 2, (const char *)p + 6, &lo);
				p += 6;
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			}
			*pp = (const char *)p;
			return u;
		default: cp = p[1]; break;
		}
		*pp = (const char *)p + 2;
		return cp;
	}
	if (*p < 0x80) {
		cp = *p++;
	} else if (*p < 0xe0) {
		cp = (long)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
		p += 2;
	} else if (*p < 0xf0) {
		cp = (long)(p[0] & 0x0f) << 12 | (long)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
		p += 3;
	} else {
		cp = (long)(p[0] & 0x07) << 18 | (long)(p[1] & 0x3f) << 12 |
		     (long)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
		p += 4;
	}
	*pp = (const char *)p;
	return cp;
}

/* two JSON strings (at their opening quotes) hold the same text */
static bool
str_eq(const char *a, const char *b)
{
	long x, y;

	a++;
	b++;
	do {
		x = str_next(&a);
		y = str_next(&b);
		if (x != y)
			return false;
	} while (x >= 0);
	return true;
}

/* The member name after the one at name (or the first, name = the
 * object's '{'), NULL at the end of the checked object. */
static const char *
next_name(const char *name, const char *end)
{
	const char *q = name;

	if (*q == '"') {
		q = skip_string(q);
		ws_skip(&q, end);
		q++;                   /* ':' */
		ws_skip(&q, end);
		q = skip_value(q, end);
		ws_skip(&q, end);
	}
	if (*q == '}')
		return NULL;
	q++;                           /* '{' or ',' */
	ws_skip(&q, end);
	return *q == '"' ? q : NULL;
}

/* Whether a checked object (obj at its '{', end past its '}') has a
 * member name twice, compared after unescaping. */
static bool
dup_member(const char *obj, const char *end)
{
	const char *a, *b;

	for (a = next_name(obj, end); a != NULL; a = next_name(a, end))
		for (b = next_name(a, end); b != NULL; b = next_name(b, end))
			if (str_eq(a, b))
				return true;
	return false;
}

/* a JSON string (at its quote) equals the C string key */
static bool
str_eq_c(const char *a, const char *key)
{
	char q[WGC_HOST_LEN + 2];
	size_t n = strlen(key);

	if (n > WGC_HOST_LEN)
		return false;
	q[0] = '"';
	memcpy(q + 1, key, n);
	q[n + 1] = '"';
	return str_eq(a, q);
}

int
wgc_json_member(const char *p, size_t len, const char *key, const char **val, size_t *val_len)
{
	const char *end = p + len;

	ws_skip(&p, end);
	if (p >= end || *p != '{')
		return -EINVAL;
	p++;
	for (;;) {
		const char *k, *v;

		ws_skip(&p, end);
		if (p >= end || *p != '"')
			return -ENOENT;
		k = p;
		p = skip_string(p);
		ws_skip(&p, end);
		p++;            /* ':' */
		ws_skip(&p, end);
		v = p;
		p = skip_value(p, end);
		if (str_eq_c(k, key)) {
			*val = v;
			*val_len = (size_t)(p - v);
			return 0;
		}
		ws_skip(&p, end);
		if (p >= end || *p != ',')
			return -ENOENT;
		p++;
	}
}

/* ------------------------------------------------------------ match */

static bool
is_number_text(const char *p, size_t n)
{
	struct jc j = { p, p + n, p, 0 };

	return n > 0 && check_number(&j) == 0 && j.p == p + n;
}

static bool
is_integer_text(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (i == 0 && p[i] == '-')))
			return false;
	return true;
}

/* numbers given as JSON number text */
static bool
num_eq(const char *a, size_t an, const char *b, size_t bn)
{
	char x[64], y[64];

	if (is_integer_text(a, an) && is_integer_text(b, bn)) {
		/* -0 is 0 */
		if (an == 2 && memcmp(a, "-0", 2) == 0)
			a++, an--;
		if (bn == 2 && memcmp(b, "-0", 2) == 0)
			b++, bn--;
		return an == bn && memcmp(a, b, an) == 0;
	}
	if (an >= sizeof(x) || bn >= sizeof(y))
		return an == bn && memcmp(a, b, an) == 0;
	memcpy(x, a, an);
	x[an] = '\0';
	memcpy(y, b, bn);
	y[bn] = '\0';
	return strtod(x, NULL) == strtod(y, NULL);
}

/* The number a JSON value stands for: a number, or a string holding one
 * without escapes. */
static bool
as_number(const char *p, size_t n, const char **t, size_t *tn)
{
	if (*p == '"') {
		if (n < 2 || memchr(p, '\\', n) != NULL)
			return false;
		p++;
		n -= 2;
	}
	if (!is_number_text(p, n))
		return false;
	*t = p;
	*tn = n;
	return true;
}

static bool
is_default(const char *v, const char *end)
{
	const char *p = v, *t;
	size_t n = (size_t)(end - v), tn;

	switch (*v) {
	case '{':
	case '[':
		p++;
		ws_skip(&p, end);
		return *p == (*v == '{' ? '}' : ']');
	case '"':
		if (v[1] == '"')
			return true;
		/* "0" for a 64-bit integer */
		return as_number(v, n, &t, &tn) && num_eq(t, tn, "0", 1);
	case 'f':
	case 'n':
		return true;
	case 't':
		return false;
	default:
		return num_eq(v, n, "0", 1);
	}
}

static int match_value(const char *w, const char *wend, const char *h, const char *hend);

static int
match_object(const char *w, const char *wend, const char *h, const char *hend)
{
	const char *p = w + 1;

	if (*h != '{')
		return 0;
	for (;;) {
		const char *k, *v, *vend, *hv;
		size_t hv_len;
		bool found = false;
		const char *q = h + 1;

		ws_skip(&p, wend);
		if (*p == '}')
			return 1;
		k = p;
		p = skip_string(p);
		ws_skip(&p, wend);
		p++;
		ws_skip(&p, wend);
		v = p;
		vend = skip_value(p, wend);
		p = vend;
		/* find k in have */
		for (;;) {
			const char *hk;

			ws_skip(&q, hend);
			if (*q != '"')
				break;
			hk = q;
			q = skip_string(q);
			ws_skip(&q, hend);
			q++;
			ws_skip(&q, hend);
			hv = q;
			q = skip_value(q, hend);
			hv_len = (size_t)(q - hv);
			if (str_eq(k, hk)) {
				found = true;
				break;
			}
			ws_skip(&q, hend);
			if (*q != ',')
				break;
			q++;
		}
		if (found ? !match_value(v, vend, hv, hv + hv_len) : !is_default(v, vend))
			return 0;
		ws_skip(&p, wend);
		if (*p == ',')
			p++;
	}
}

static int
match_array(const char *w, const char *wend, const char *h, const char *hend)
{
	const char *p = w + 1, *q = h + 1;

	if (*h != '[')
		return 0;
	for (;;) {
		const char *v, *hv;

		ws_skip(&p, wend);
		ws_skip(&q, hend);
		if (*p == ']' || *q == ']')
			return *p == ']' && *q == ']';
		v = p;
		p = skip_value(p, wend);
		hv = q;
		q = skip_value(q, hend);
		if (!match_value(v, p, hv, q))
			return 0;
		ws_skip(&p, wend);
		ws_skip(&q, hend);
		if (*p == ',')
			p++;
		if (*q == ',')
			q++;
	}
}

static int
match_value(const char *w, const char *wend, const char *h, const char *hend)
{
	const char *a, *b;
	size_t an, bn;

	switch (*w) {
	case '{':
		return match_object(w, wend, h, hend);
	case '[':
		return match_array(w, wend, h, hend);
	case 't':
	case 'f':
	case 'n':
		return (size_t)(wend - w) == (size_t)(hend - h) && memcmp(w, h, (size_t)(wend - w)) == 0;
	case '"':
		if (*h == '"')
			return str_eq(w, h);
		/* "123" against 123: compared as numbers below */
		/* fall through */
	default:
		if (as_number(w, (size_t)(wend - w), &a, &an) &&
		    as_number(h, (size_t)(hend - h), &b, &bn))
			return num_eq(a, an, b, bn);
		return 0;
	}
}

int
wgc_json_match(const char *want, size_t want_len, const char *have, size_t have_len)
{
	const char *wend = want + want_len, *hend = have + have_len;

	ws_skip(&want, wend);
	ws_skip(&have, hend);
	if (want >= wend || have >= hend)
		return 0;
	/* trailing space is not part of the value */
	while (wend > want && (wend[-1] == ' ' || wend[-1] == '\t' || wend[-1] == '\n' ||
			       wend[-1] == '\r'))
		wend--;
	while (hend > have && (hend[-1] == ' ' || hend[-1] == '\t' || hend[-1] == '\n' ||
			       hend[-1] == '\r'))
		hend--;
	return match_value(want, wend, have, hend);
}

int
wgc_json_quote(const char *s, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (cap < 2)
		return -ENOSPC;
	out[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc = 0;

		switch (ch) {
		case '"': esc = '"'; break;
		case '\\': esc = '\\'; break;
		case '\n': esc = 'n'; break;
		case '\r': esc = 'r'; break;
		case '\t': esc = 't'; break;
		case '\b': esc = 'b'; break;
		case '\f': esc = 'f'; break;
		default: break;
		}
		if (esc != 0) {
			if (cap - o < 3)
				return -ENOSPC;
			out[o++] = '\\';
			out[o++] = esc;
		} else if (ch < 0x20) {
			if (cap - o < 7)
				return -ENOSPC;
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[ch >> 4];
			out[o + 5] = hex[ch & 15];
			o += 6;
		} else {
			if (cap - o < 2)
				return -ENOSPC;
			out[o++] = (char)ch;
		}
	}
	if (cap - o < 1)
		return -ENOSPC;
	out[o++] = '"';
	return (int)o;
}

/* ---------------------------------------------------------- scripts */

static const char *const step_names[] = {
	[WGC_STEP_SEND] = "send",
	[WGC_STEP_SEND_RAW] = "send-raw",
	[WGC_STEP_EXPECT] = "expect",
	[WGC_STEP_SLEEP] = "sleep",
	[WGC_STEP_EXPECT_CLOSE] = "expect-close",
};

const char *
wgc_step_name(uint8_t kind)
{
	if (kind >= sizeof(step_names) / sizeof(step_names[0]) || step_names[kind] == NULL)
		return "?";
	return step_names[kind];
}

/* Unsigned decimal (or 0x hex) filling all of s; -1 when not one or over max. */
static long long
parse_uint(const char *s, unsigned long long max)
{
	unsigned long long v = 0;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2] != '\0') {
		base = 16;
		s += 2;
	}
	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		v = v * (unsigned long long)base + (unsigned long long)d;
		if (v > max)
			return -1;
	}
	return (long long)v;
}

static bool
is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* JSON object argument of a step; 0 or -EINVAL with err */
static int
json_arg(const char *what, const char *arg, uint32_t line, const char *line_start, char *err,
	 size_t err_len)
{
	size_t at = 0;

	if (wgc_json_check(arg, strlen(arg), &at) != 0) {
		snprintf(err, err_len, "line %u: %s: not valid JSON at column %zu", line, what,
			 (size_t)(arg - line_start) + at + 1);
		return -EINVAL;
	}
	if (arg[0] != '{') {
		snprintf(err, err_len, "line %u: %s: expected a JSON object", line, what);
		return -EINVAL;
	}
	return 0;
}

static int
parse_line(struct wgc_step *st, char *line, uint32_t lno, char *err, size_t err_len)
{
	const char *start = line;
	char *cmd, *rest, *e;
	long long v;

	while (is_space(*line))
		line++;
	cmd = line;
	while (*line != '\0' && !is_space(*line))
		line++;
	rest = line;
	if (*rest != '\0') {
		*rest++ = '\0';
		while (is_space(*rest))
			rest++;
	}
	st->line = lno;
	st->close_code = -1;
	if (strcmp(cmd, "send") == 0 || strcmp(cmd, "send-raw") == 0) {
		st->kind = cmd[4] == '\0' ? WGC_STEP_SEND : WGC_STEP_SEND_RAW;
		if (*rest == '\0') {
			snprintf(err, err_len, "line %u: %s: nothing to send", lno, cmd);
			return -EINVAL;
		}
		if (st->kind == WGC_STEP_SEND && json_arg("send", rest, lno, start, err, err_len) != 0)
			return -EINVAL;
		st->arg = rest;
		st->arg_len = (uint32_t)strlen(rest);
		return 0;
	}
	if (strcmp(cmd, "expect") == 0) {
		const struct wg_msg_type_info *ti;
		char *type = rest;

		st->kind = WGC_STEP_EXPECT;
		while (*rest != '\0' && !is_space(*rest))
			rest++;
		if (*rest != '\0') {
			*rest++ = '\0';
			while (is_space(*rest))
				rest++;
		}
		if (*type == '\0') {
			snprintf(err, err_len, "line %u: expect: message type missing", lno);
			return -EINVAL;
		}
		ti = wg_msg_type_by_name(type, strlen(type));
		if (ti == NULL) {
			v = parse_uint(type, UINT32_MAX);
			ti = v >= 0 ? wg_msg_type_find((uint32_t)v) : NULL;
		}
		if (ti == NULL) {
			snprintf(err, err_len, "line %u: expect: unknown message type '%s'", lno, type);
			return -EINVAL;
		}
		st->type = ti->type;
		st->type_name = ti->name;
		if (*rest != '\0') {
			if (json_arg("expect", rest, lno, start, err, err_len) != 0)
				return -EINVAL;
			st->arg = rest;
			st->arg_len = (uint32_t)strlen(rest);
		}
		return 0;
	}
	if (strcmp(cmd, "sleep") == 0 || strcmp(cmd, "expect-close") == 0) {
		bool sleep = cmd[0] == 's';

		st->kind = sleep ? WGC_STEP_SLEEP : WGC_STEP_EXPECT_CLOSE;
		e = rest;
		while (*e != '\0' && !is_space(*e))
			e++;
		if (*e != '\0') {
			snprintf(err, err_len, "line %u: %s: unexpected '%s'", lno, cmd, e + 1);
			return -EINVAL;
		}
		if (!sleep && *rest == '\0')
			return 0;
		v = parse_uint(rest, sleep ? 3600000 : 4999);
		if (v < 0 || (!sleep && v < 1000)) {
			snprintf(err, err_len, sleep ? "line %u: sleep: expected milliseconds "
				 "(0..3600000), got '%s'" : "line %u: expect-close: expected a "
				 "close code (1000..4999), got '%s'", lno, rest);
			return -EINVAL;
		}
		if (sleep)
			st->ms = (uint32_t)v;
		else
			st->close_code = (int32_t)v;
		return 0;
	}
	snprintf(err, err_len, "line %u: unknown step '%s' (send, send-raw, expect, sleep, "
		 "expect-close)", lno, cmd);
	return -EINVAL;
}

int
wgc_script_parse(struct wgc_script *s, const char *text, size_t len, char *err, size_t err_len)
{
	uint32_t lines = 1, lno = 0;
	char *p, *end;
	int rc;

	memset(s, 0, sizeof(*s));
	if (len > WGC_SCRIPT_MAX_BYTES) {
		snprintf(err, err_len, "longer than %u bytes", WGC_SCRIPT_MAX_BYTES);
		return -E2BIG;
	}
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n') {
			lines++;
		} else if (text[i] == '\0') {
			snprintf(err, err_len, "line %u: NUL byte", lines);
			return -EINVAL;
		}
	}
	if (lines > WGC_SCRIPT_MAX_STEPS) {
		snprintf(err, err_len, "more than %u lines", WGC_SCRIPT_MAX_STEPS);
		return -E2BIG;
	}
	s->text = malloc(len + 1);
	s->steps = calloc(lines, sizeof(*s->steps));
	if (s->text == NULL || s->steps == NULL) {
		snprintf(err, err_len, "out of memory");
		rc = -ENOMEM;
		goto err;
	}
	memcpy(s->text, text, len);
	s->text[len] = '\0';
	p = s->text;
	end = s->text + len;
	while (p <= end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *q;

		if (nl == NULL)
			nl = end;
		*nl = '\0';
		lno++;
		/* trailing white space and CR are not part of the argument */
		q = nl;
		while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
			*--q = '\0';
		q = p;
		while (is_space(*q))
			q++;
		if (*q != '\0' && *q != '#') {
			rc = parse_line(&s->steps[s->n_steps], p, lno, err, err_len);
			if (rc != 0)
				goto err;
			s->n_steps++;
		}
		p = nl + 1;
	}
	return 0;
err:
	wgc_script_free(s);
	return rc;
}

int
wgc_script_load(struct wgc_script *s, const char *path, char *err, size_t err_len)
{
	char e[256];
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int rc;

	memset(s, 0, sizeof(*s));
	if (f == NULL) {
		rc = -errno;
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return rc;
	}
	for (;;) {
		size_t r;

		if (cap - n < 4096) {
			char *nb;

			if (cap >= WGC_SCRIPT_MAX_BYTES + 8192u) {
				snprintf(err, err_len, "%s: longer than %u bytes", path,
					 WGC_SCRIPT_MAX_BYTES);
				rc = -E2BIG;
				goto out;
			}
			nb = realloc(buf, cap ? cap * 2 : 8192);
			if (nb == NULL) {
				snprintf(err, err_len, "%s: out of memory", path);
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, err_len, "%s: read error", path);
		rc = -EIO;
		goto out;
	}
	rc = wgc_script_parse(s, buf, n, e, sizeof(e));
	if (rc != 0)
		snprintf(err, err_len, "%s: %s", path, e);
out:
	free(buf);
	fclose(f);
	return rc;
}

void
wgc_script_free(struct wgc_script *s)
{
	free(s->text);
	free(s->steps);
	memset(s, 0, sizeof(*s));
}
