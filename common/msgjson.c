/* SPDX-License-Identifier: BSD-3-Clause
 * JSON <-> protobuf for client text frames. One pass over the JSON text
 * fills protobuf-c message structs straight from the field descriptors
 * (no DOM); protobuf-c packs them. The other way protobuf-c unpacks into
 * the scratch area and the descriptors drive the printer.
 *
 * Memory: every allocation comes from the converter's scratch area, reset
 * at the start of each call; strings are decoded straight into its free
 * tail. Arrays are counted with a validating skip before they are filled
 * (a repeated field needs one contiguous array), so text inside arrays is
 * scanned once per enclosing array level: bounded by the depth limit.
 *
 * Paths in error texts name the JSON keys as the client wrote them.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "msgjson.h"
#include "wg_client.pb-c.h"
#include "wg_sync.pb-c.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define KEY_MAX 64  /* longest key compared against field names, NUL included */

/* ---- message types ---- */

#define T(name, desc) { WG__MSG_TYPE__ ## name, sizeof(#name) - 1, #name, desc }
static const struct wg_msg_type_info msg_types[] = {
	T(LOGIN, &wg__login__descriptor),
	T(LOGIN_ACK, &wg__login_ack__descriptor),
	T(HEARTBEAT, &wg__heartbeat__descriptor),
	T(HEARTBEAT_ACK, &wg__heartbeat_ack__descriptor),
	T(KICK, &wg__kick__descriptor),
	T(ERROR, &wg__error__descriptor),
	T(RESUME, &wg__resume__descriptor),
	T(RESUME_ACK, &wg__resume_ack__descriptor),
	T(LOGOUT, &wg__logout__descriptor),
	T(ACK, NULL),
	T(ECHO, &wg__echo__descriptor),
	T(CHAT_JOIN, &wg__chat_join__descriptor),
	T(CHAT_LEAVE, &wg__chat_leave__descriptor),
	T(CHAT_SAY, &wg__chat_say__descriptor),
	T(CHAT_MSG, &wg__chat_msg__descriptor),
	T(CHAT_JOINED, &wg__chat_joined__descriptor),
	T(MOVE, &wg__move_input__descriptor),
	T(ENTITY_STATE, &wg__entity_enter__descriptor),
	T(STATE_DELTA, &wg__state_delta__descriptor),
	T(SNAPSHOT_ACK, &wg__snapshot_ack__descriptor),
};
#undef T

#define N_TYPES (sizeof(msg_types) / sizeof(msg_types[0]))

const struct wg_msg_type_info *
wg_msg_types(size_t *n)
{
	*n = N_TYPES;
	return msg_types;
}

const struct wg_msg_type_info *
wg_msg_type_find(uint32_t type)
{
	size_t lo = 0, hi = N_TYPES;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (msg_types[mid].type == type)
			return &msg_types[mid];
		if (msg_types[mid].type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct wg_msg_type_info *
wg_msg_type_by_name(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < N_TYPES; i++)
		if (msg_types[i].name_len == len && memcmp(msg_types[i].name, name, len) == 0)
			return &msg_types[i];
	return NULL;
}

uint32_t
wg_msgjson_error_code(int rc)
{
	switch (rc) {
	case -ENOMSG:
		return WG__ERROR_CODE__UNKNOWN_TYPE;
	/* -ENOSPC: the caller bounds the output by its message size limit */
	case -E2BIG:
	case -ENOSPC:
		return WG__ERROR_CODE__TOO_BIG;
	default:
		return WG__ERROR_CODE__BAD_MESSAGE;
	}
}

/* ---- scratch and errors ---- */

static void *
scratch_alloc(struct wg_msgjson *c, size_t n)
{
	size_t at = (c->scratch_used + 7) & ~(size_t)7;

	if (at > c->scratch_cap || n > c->scratch_cap - at) {
		c->scratch_short = true;
		return NULL;
	}
	c->scratch_used = at + n;
	return c->scratch + at;
}

static void *
pbc_alloc(void *data, size_t n)
{
	return scratch_alloc(data, n);
}

static void
pbc_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

int
wg_msgjson_init(struct wg_msgjson *c, void *scratch, size_t scratch_len, uint32_t flags)
{
	if (c == NULL || scratch == NULL || scratch_len < 1024 || ((uintptr_t)scratch & 7) != 0 ||
	    (flags & ~WG_MSGJSON_F_MASK) != 0)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->scratch = scratch;
	c->scratch_cap = scratch_len;
	c->flags = flags;
	c->alloc.alloc = pbc_alloc;
	c->alloc.free = pbc_free;
	c->alloc.allocator_data = c;
	return 0;
}

static inline void
reset(struct wg_msgjson *c)
{
	c->scratch_used = 0;
	c->scratch_short = false;
	c->depth = 0;
	c->err[0] = '\0';
}

const char *
wg_msgjson_error(const struct wg_msgjson *c)
{
	return c->err;
}

/* Record the first error of a call, prefixed with the field path. */
__attribute__((format(printf, 3, 4), cold)) static int
fail(struct wg_msgjson *c, int rc, const char *fmt, ...)
{
	size_t n = 0, cap = sizeof(c->err), i, k;
	uint32_t d = c->depth < WG_MSGJSON_MAX_DEPTH * 2 + 2 ? c->depth : WG_MSGJSON_MAX_DEPTH * 2 + 2;
	va_list ap;

	if (c->err[0] != '\0')
		return rc;
	for (i = 0; i < d && n < cap - 1; i++) {
		const struct wg_msgjson_path *p = &c->path[i];

		if (p->name == NULL) {
			int w = snprintf(c->err + n, cap - n, "[%u]", p->index);

			n = w < 0 ? n : n + (size_t)w;
			continue;
		}
		if (i > 0)
			c->err[n++] = '.';
		/* a client's key: printable ASCII only, and not all of it */
		for (k = 0; k < p->len && k < 40 && n < cap - 1; k++) {
			unsigned char ch = (unsigned char)p->name[k];

			c->err[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
		}
	}
	if (n > cap - 1)
		n = cap - 1;
	if (d > 0 && n + 2 < cap) {
		c->err[n++] = ':';
		c->err[n++] = ' ';
	}
	c->err[n] = '\0';
	va_start(ap, fmt);
	vsnprintf(c->err + n, cap - n, fmt, ap);
	va_end(ap);
	return rc;
}

static inline void
path_push(struct wg_msgjson *c, const char *name, size_t len, uint32_t index)
{
	if (c->depth < WG_MSGJSON_MAX_DEPTH * 2 + 2) {
		c->path[c->depth].name = name;
		c->path[c->depth].len = (uint32_t)len;
		c->path[c->depth].index = index;
	}
	c->depth++;
}

static inline void
path_pop(struct wg_msgjson *c)
{
	c->depth--;
}

/* ---- JSON tokens ---- */

struct jp {
	const uint8_t *p, *end, *start;
	struct wg_msgjson *c;
	uint32_t depth;          /* open objects and arrays */
};

#define BAD(j, ...) fail((j)->c, -EBADMSG, "invalid JSON at offset %zu: " __VA_ARGS__)

static inline void
ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

/* Expect byte ch (after whitespace) and step over it. */
static inline int
expect(struct jp *j, uint8_t ch)
{
	ws(j);
	if (unlikely(j->p >= j->end || *j->p != ch))
		return BAD(j, "expected '%c'", (size_t)(j->p - j->start), ch);
	j->p++;
	return 0;
}

static inline bool
peek(struct jp *j, uint8_t ch)
{
	ws(j);
	return j->p < j->end && *j->p == ch;
}

/* Length of the UTF-8 sequence at p (RFC 3629: no overlongs, surrogates or
 * code points past U+10FFFF), 0 if invalid. p[0] >= 0x80. */
static unsigned
utf8_seq(const uint8_t *p, const uint8_t *end)
{
	size_t avail = (size_t)(end - p);
	uint8_t b0 = p[0];

	if (b0 >= 0xc2 && b0 <= 0xdf)
		return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (b0 >= 0xe0 && b0 <= 0xef) {
		uint8_t lo = b0 == 0xe0 ? 0xa0 : 0x80, hi = b0 == 0xed ? 0x9f : 0xbf;

		return avail >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (b0 >= 0xf0 && b0 <= 0xf4) {
		uint8_t lo = b0 == 0xf0 ? 0x90 : 0x80, hi = b0 == 0xf4 ? 0x8f : 0xbf;

		return avail >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
		       (p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

static int
hex4(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		uint8_t ch = p[i];

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= ch - '0';
		else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
			v |= (ch | 0x20) - 'a' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Decode the string at j->p (its opening quote) into dst[0..cap) and
 * NUL-terminate it; dst NULL only validates. *len gets the decoded length,
 * which is >= cap when it did not fit (nothing past cap is written).
 * *nul reports an escaped U+0000. */
static int
jstring(struct jp *j, char *dst, size_t cap, size_t *len, bool *nul)
{
	const uint8_t *p = j->p + 1, *end = j->end;
	size_t n = 0;
	uint8_t u[4];
	unsigned k, i;

	*nul = false;
	for (;;) {
		const uint8_t *run = p;

		/* plain ASCII runs are the common case: copy them in one go */
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
			p++;
		if (p > run) {
			size_t r = (size_t)(p - run);

			if (dst != NULL && n < cap)
				memcpy(dst + n, run, r <= cap - n ? r : cap - n);
			n += r;
		}
		if (unlikely(p >= end))
			return BAD(j, "unterminated string", (size_t)(j->p - j->start));
		if (*p == '"')
			break;
		if (*p == '\\') {
			uint32_t cp, lo;

			if (end - p < 2)
				return BAD(j, "unterminated string", (size_t)(j->p - j->start));
			k = 1;
			switch (p[1]) {
			case '"': u[0] = '"'; break;
			case '\\': u[0] = '\\'; break;
			case '/': u[0] = '/'; break;
			case 'b': u[0] = '\b'; break;
			case 'f': u[0] = '\f'; break;
			case 'n': u[0] = '\n'; break;
			case 'r': u[0] = '\r'; break;
			case 't': u[0] = '\t'; break;
			case 'u':
				if (end - p < 6 || hex4(p + 2, &cp) != 0)
					return BAD(j, "bad \\u escape", (size_t)(p - j->start));
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return BAD(j, "unpaired surrogate", (size_t)(p - j->start));
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
					    hex4(p + 8, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
						return BAD(j, "unpaired surrogate", (size_t)(p - j->start));
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				}
				if (cp == 0)
					*nul = true;
				if (cp < 0x80) {
					u[0] = (uint8_t)cp;
				} else if (cp < 0x800) {
					u[0] = (uint8_t)(0xc0 | cp >> 6);
					u[1] = (uint8_t)(0x80 | (cp & 0x3f));
					k = 2;
				} else if (cp < 0x10000) {
					u[0] = (uint8_t)(0xe0 | cp >> 12);
					u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
					u[2] = (uint8_t)(0x80 | (cp & 0x3f));
					k = 3;
				} else {
					u[0] = (uint8_t)(0xf0 | cp >> 18);
					u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
					u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
					u[3] = (uint8_t)(0x80 | (cp & 0x3f));
					k = 4;
				}
				p += 4;
				break;
			default:
				return BAD(j, "bad escape", (size_t)(p - j->start));
			}
			p += 2;
			for (i = 0; i < k; i++, n++)
				if (dst != NULL && n < cap)
					dst[n] = (char)u[i];
			continue;
		}
		if (*p < 0x20)
			return BAD(j, "control character in string", (size_t)(p - j->start));
		k = utf8_seq(p, end);
		if (k == 0)
			return BAD(j, "invalid UTF-8", (size_t)(p - j->start));
		for (i = 0; i < k; i++, n++)
			if (dst != NULL && n < cap)
				dst[n] = (char)p[i];
		p += k;
	}
	j->p = p + 1;
	if (dst != NULL && n < cap)
		dst[n] = '\0';
	*len = n;
	return 0;
}

static inline bool
digit(uint8_t ch)
{
	return ch >= '0' && ch <= '9';
}

/* A JSON number (RFC 8259 grammar) at j->p: its text is [*s, j->p). */
static int
jnumber(struct jp *j, const uint8_t **s)
{
	const uint8_t *p = j->p, *end = j->end;

	*s = p;
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
	} else if (p < end && digit(*p)) {
		while (p < end && digit(*p))
			p++;
	} else {
		return BAD(j, "bad number", (size_t)(*s - j->start));
	}
	if (p < end && *p == '.') {
		p++;
		if (p >= end || !digit(*p))
			return BAD(j, "bad number", (size_t)(*s - j->start));
		while (p < end && digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !digit(*p))
			return BAD(j, "bad number", (size_t)(*s - j->start));
		while (p < end && digit(*p))
			p++;
	}
	j->p = p;
	return 0;
}

static int
jliteral(struct jp *j, const char *lit, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return BAD(j, "unexpected character", (size_t)(j->p - j->start));
	j->p += n;
	return 0;
}

static inline bool
is_null(struct jp *j)
{
	return j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0;
}

static int jskip(struct jp *j);

static int
enter(struct jp *j)
{
	if (++j->depth > WG_MSGJSON_MAX_DEPTH)
		return fail(j->c, -E2BIG, "nested deeper than %d", WG_MSGJSON_MAX_DEPTH);
	j->p++;
	return 0;
}

/* Validate and step over one value (whitespace before it skipped). */
static int
jskip(struct jp *j)
{
	const uint8_t *s;
	size_t n;
	bool nul;
	int rc;

	ws(j);
	if (j->p >= j->end)
		return BAD(j, "value expected", (size_t)(j->p - j->start));
	switch (*j->p) {
	case '"':
		return jstring(j, NULL, 0, &n, &nul);
	case '{':
		if ((rc = enter(j)) != 0)
			return rc;
		if (peek(j, '}')) {
			j->p++;
			break;
		}
		for (;;) {
			ws(j);
			if (j->p >= j->end || *j->p != '"')
				return BAD(j, "key expected", (size_t)(j->p - j->start));
			if ((rc = jstring(j, NULL, 0, &n, &nul)) != 0 || (rc = expect(j, ':')) != 0 ||
			    (rc = jskip(j)) != 0)
				return rc;
			if (peek(j, ',')) {
				j->p++;
				continue;
			}
			if ((rc = expect(j, '}')) != 0)
				return rc;
			break;
		}
		break;
	case '[':
		if ((rc = enter(j)) != 0)
			return rc;
		if (peek(j, ']')) {
			j->p++;
			break;
		}
		for (;;) {
			if ((rc = jskip(j)) != 0)
				return rc;
			if (peek(j, ',')) {
				j->p++;
				continue;
			}
			if ((rc = expect(j, ']')) != 0)
				return rc;
			break;
		}
		break;
	case 't':
		return jliteral(j, "true", 4);
	case 'f':
		return jliteral(j, "false", 5);
	case 'n':
		return jliteral(j, "null", 4);
	default:
		return jnumber(j, &s);
	}
	j->depth--;
	return 0;
}

/* A value of the wrong kind for its field: a schema error when the value
 * is valid JSON, a syntax error otherwise. */
__attribute__((cold)) static int
mismatch(struct jp *j, const char *what)
{
	struct jp t = *j;
	int rc;

	if ((rc = jskip(&t)) != 0)
		return rc;
	return fail(j->c, -EINVAL, "%s", what);
}

/* ---- numbers ---- */

/* The exact integer value of JSON number text [s, e) as sign and magnitude.
 * 1.5e1 is 15; 1.5 is not an integer. -EINVAL (with the text) otherwise. */
static int
num_to_int(struct wg_msgjson *c, const uint8_t *s, const uint8_t *e, bool *neg, uint64_t *mag)
{
	const uint8_t *ip, *fp = NULL;
	size_t in = 0, fn = 0, nd, first, last, i;
	long exp = 0;
	uint64_t m = 0;
	bool eneg = false;

	*neg = s < e && *s == '-';
	ip = s + *neg;
	while (ip + in < e && digit(ip[in]))
		in++;
	s = ip + in;
	if (s < e && *s == '.') {
		fp = ++s;
		while (s < e && digit(*s))
			s++;
		fn = (size_t)(s - fp);
	}
	if (s < e && (*s == 'e' || *s == 'E')) {
		s++;
		if (*s == '+' || *s == '-')
			eneg = *s++ == '-';
		for (; s < e; s++)
			if (exp < 100000)
				exp = exp * 10 + (*s - '0');
		if (eneg)
			exp = -exp;
	}
#define DIG(k) ((k) < in ? ip[k] : fp[(k) - in])
	nd = in + fn;
	for (first = 0; first < nd && DIG(first) == '0'; first++)
		;
	if (first == nd) {
		*mag = 0;
		return 0;
	}
	for (last = nd - 1; DIG(last) == '0'; last--)
		;
	/* value = digits[first..last] * 10^(exp - fn + trailing zeros) */
	exp += (long)(nd - 1 - last) - (long)fn;
	if (exp < 0)
		return fail(c, -EINVAL, "not an integer");
	if ((long)(last - first + 1) + exp > 20)
		return fail(c, -EINVAL, "integer out of range");
	for (i = first; i <= last; i++)
		if (__builtin_mul_overflow(m, 10, &m) || __builtin_add_overflow(m, DIG(i) - '0', &m))
			return fail(c, -EINVAL, "integer out of range");
	for (; exp > 0; exp--)
		if (__builtin_mul_overflow(m, 10, &m))
			return fail(c, -EINVAL, "integer out of range");
#undef DIG
	*mag = m;
	return 0;
}

/* A number or a string holding one (proto3 JSON takes both for integers)
 * within [-max_neg, max_pos]. */
static int
jint(struct jp *j, uint64_t max_pos, uint64_t max_neg, bool *neg, uint64_t *mag)
{
	struct wg_msgjson *c = j->c;
	const uint8_t *s, *e;
	char buf[KEY_MAX];
	size_t n;
	bool nul;
	int rc;

	if (*j->p == '"') {
		struct jp t;

		if ((rc = jstring(j, buf, sizeof(buf), &n, &nul)) != 0)
			return rc;
		if (n >= sizeof(buf))
			return fail(c, -EINVAL, "integer out of range");
		t = (struct jp){ .p = (const uint8_t *)buf, .end = (const uint8_t *)buf + n,
				 .start = (const uint8_t *)buf, .c = c };
		if (n == 0 || jnumber(&t, &s) != 0 || t.p != t.end) {
			c->err[0] = '\0';
			return fail(c, -EINVAL, "expected integer");
		}
		e = t.p;
	} else if (*j->p == '-' || digit(*j->p)) {
		if ((rc = jnumber(j, &s)) != 0)
			return rc;
		e = j->p;
	} else {
		return mismatch(j, "expected integer");
	}
	if ((rc = num_to_int(c, s, e, neg, mag)) != 0)
		return rc;
	if (*mag > (*neg ? max_neg : max_pos))
		return fail(c, -EINVAL, "integer out of range");
	return 0;
}

static int
jfloat(struct jp *j, bool single, double *out)
{
	struct wg_msgjson *c = j->c;
	char buf[KEY_MAX], *num, *endp;
	const uint8_t *s, *e;
	size_t n;
	bool nul;
	double v;
	int rc;

	if (*j->p == '"') {
		struct jp t;

		if ((rc = jstring(j, buf, sizeof(buf), &n, &nul)) != 0)
			return rc;
		if (n < sizeof(buf) && strcmp(buf, "NaN") == 0) {
			*out = NAN;
			return 0;
		}
		if (n < sizeof(buf) && strcmp(buf, "Infinity") == 0) {
			*out = INFINITY;
			return 0;
		}
		if (n < sizeof(buf) && strcmp(buf, "-Infinity") == 0) {
			*out = -INFINITY;
			return 0;
		}
		if (n >= sizeof(buf))
			return fail(c, -EINVAL, "expected number");
		t = (struct jp){ .p = (const uint8_t *)buf, .end = (const uint8_t *)buf + n,
				 .start = (const uint8_t *)buf, .c = c };
		if (n == 0 || jnumber(&t, &s) != 0 || t.p != t.end) {
			c->err[0] = '\0';
			return fail(c, -EINVAL, "expected number");
		}
		num = buf;
	} else if (*j->p == '-' || digit(*j->p)) {
		if ((rc = jnumber(j, &s)) != 0)
			return rc;
		e = j->p;
		n = (size_t)(e - s);
		/* strtod wants a NUL: copy, to the scratch tail if long */
		if (n < sizeof(buf)) {
			num = buf;
		} else {
			if (c->scratch_cap - c->scratch_used <= n) {
				c->scratch_short = true;
				return fail(c, -E2BIG, "out of scratch space");
			}
			num = (char *)c->scratch + c->scratch_used;
		}
		memcpy(num, s, n);
		num[n] = '\0';
	} else {
		return mismatch(j, "expected number");
	}
	v = strtod(num, &endp);
	if (isinf(v) || (single && isinf((float)v)))
		return fail(c, -EINVAL, "number out of range");
	*out = v;
	return 0;
}

/* ---- base64 (RFC 4648: standard or URL-safe alphabet, padding optional) ---- */

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static inline int
b64_val(uint8_t ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

/* Decode in place (the output never overtakes the input). Unused trailing
 * bits must be zero so each byte string has one text form. -1 if invalid. */
static long
b64_decode(uint8_t *buf, size_t n)
{
	size_t i, o = 0, pad = 0;
	uint32_t acc = 0;
	int v, bits = 0;

	while (n > 0 && buf[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (pad > 0 && (n + pad) % 4 != 0)
		return -1;
	if (n % 4 == 1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((v = b64_val(buf[i])) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (uint8_t)(acc >> bits);
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0)
		return -1;
	return (long)o;
}

/* ---- JSON -> protobuf-c structs ---- */

static size_t
elt_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

/* Whether key (as sent, no NUL in it) names field: the .proto name or its
 * lowerCamel JSON name (underscores dropped, the letter after one
 * upper-cased). Both spellings share the text before the first '_', so
 * most mismatches end in the first loop. */
static inline bool
key_is(const char *key, size_t len, const char *name)
{
	size_t i, k;
	bool up = false, us = false;

	for (i = 0; i < len && name[i] == key[i]; i++)
		us |= name[i] == '_';
	if (i == len && name[i] == '\0')
		return true;
	if (!us && name[i] != '_')
		return false;
	for (k = 0; *name != '\0'; name++) {
		char ch = *name;

		if (ch == '_') {
			up = true;
			continue;
		}
		if (up && ch >= 'a' && ch <= 'z')
			ch = (char)(ch - 'a' + 'A');
		up = false;
		if (k >= len || key[k] != ch)
			return false;
		k++;
	}
	return k == len;
}

static int parse_message(struct jp *j, const ProtobufCMessageDescriptor *d, ProtobufCMessage *m);

/* A string value decoded into the scratch area. */
static int
jstring_scratch(struct jp *j, char **out, size_t *len)
{
	struct wg_msgjson *c = j->c;
	size_t cap = c->scratch_cap - c->scratch_used;
	char *dst = (char *)c->scratch + c->scratch_used;
	bool nul;
	int rc;

	if (*j->p != '"')
		return mismatch(j, "expected string");
	if ((rc = jstring(j, dst, cap, len, &nul)) != 0)
		return rc;
	if (*len >= cap) {
		c->scratch_short = true;
		return fail(c, -E2BIG, "out of scratch space");
	}
	c->scratch_used += *len + 1;
	*out = dst;
	return nul ? 1 : 0;
}

/* One value of field f into slot (the member, or an array element). */
static int
parse_value(struct jp *j, const ProtobufCFieldDescriptor *f, void *slot)
{
	struct wg_msgjson *c = j->c;
	uint64_t mag;
	double dv;
	size_t n;
	bool neg;
	char *s;
	long bn;
	int rc;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if ((rc = jint(j, INT32_MAX, (uint64_t)INT32_MAX + 1, &neg, &mag)) != 0)
			return rc;
		*(int32_t *)slot = neg ? (int32_t)(0 - mag) : (int32_t)mag;
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if ((rc = jint(j, UINT32_MAX, 0, &neg, &mag)) != 0)
			return rc;
		*(uint32_t *)slot = (uint32_t)mag;
		return 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if ((rc = jint(j, INT64_MAX, (uint64_t)INT64_MAX + 1, &neg, &mag)) != 0)
			return rc;
		*(int64_t *)slot = neg ? (int64_t)(0 - mag) : (int64_t)mag;
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if ((rc = jint(j, UINT64_MAX, 0, &neg, &mag)) != 0)
			return rc;
		*(uint64_t *)slot = mag;
		return 0;
	case PROTOBUF_C_TYPE_FLOAT:
		if ((rc = jfloat(j, true, &dv)) != 0)
			return rc;
		*(float *)slot = (float)dv;
		return 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		if ((rc = jfloat(j, false, &dv)) != 0)
			return rc;
		*(double *)slot = dv;
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (*j->p == 't' && jliteral(j, "true", 4) == 0) {
			*(protobuf_c_boolean *)slot = 1;
			return 0;
		}
		if (*j->p == 'f' && jliteral(j, "false", 5) == 0) {
			*(protobuf_c_boolean *)slot = 0;
			return 0;
		}
		c->err[0] = '\0';
		return mismatch(j, "expected true or false");
	case PROTOBUF_C_TYPE_ENUM:
		if (*j->p == '"') {
			const ProtobufCEnumValue *ev;
			char buf[KEY_MAX];
			bool nul;

			if ((rc = jstring(j, buf, sizeof(buf), &n, &nul)) != 0)
				return rc;
			ev = n < sizeof(buf) && !nul ?
			     protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, buf) : NULL;
			if (ev == NULL)
				return fail(c, -EINVAL, "unknown %s value",
					    ((const ProtobufCEnumDescriptor *)f->descriptor)->name);
			*(int32_t *)slot = ev->value;
			return 0;
		}
		/* proto3 enums are open: any int32 is kept */
		if ((rc = jint(j, INT32_MAX, (uint64_t)INT32_MAX + 1, &neg, &mag)) != 0)
			return rc;
		*(int32_t *)slot = neg ? (int32_t)(0 - mag) : (int32_t)mag;
		return 0;
	case PROTOBUF_C_TYPE_STRING:
		if ((rc = jstring_scratch(j, &s, &n)) < 0)
			return rc;
		if (rc == 1)
			return fail(c, -EINVAL, "string holds U+0000");
		*(char **)slot = s;
		return 0;
	case PROTOBUF_C_TYPE_BYTES:
		if ((rc = jstring_scratch(j, &s, &n)) < 0) {
			if (rc == -EINVAL) {
				c->err[0] = '\0';
				return fail(c, -EINVAL, "expected base64 string");
			}
			return rc;
		}
		if ((bn = b64_decode((uint8_t *)s, n)) < 0)
			return fail(c, -EINVAL, "invalid base64");
		((ProtobufCBinaryData *)slot)->data = (uint8_t *)s;
		((ProtobufCBinaryData *)slot)->len = (size_t)bn;
		return 0;
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *d = f->descriptor;
		ProtobufCMessage *m;

		if (*j->p != '{')
			return mismatch(j, "expected object");
		if ((m = scratch_alloc(c, d->sizeof_message)) == NULL)
			return fail(c, -E2BIG, "out of scratch space");
		protobuf_c_message_init(d, m);
		*(ProtobufCMessage **)slot = m;
		return parse_message(j, d, m);
	}
	}
	return fail(c, -EINVAL, "unsupported field type");
}

/* A repeated field: count the elements (validating them), then fill one
 * array. */
static int
parse_array(struct jp *j, const ProtobufCFieldDescriptor *f, ProtobufCMessage *m)
{
	struct wg_msgjson *c = j->c;
	size_t n = 0, i, esz = elt_size(f->type), bytes;
	struct jp t;
	uint8_t *arr;
	int rc;

	if (*j->p != '[')
		return mismatch(j, "expected array");
	if ((rc = enter(j)) != 0)
		return rc;
	/* count the elements, validating them (the fill below checks the
	 * separators again and the closing bracket) */
	t = *j;
	if (!peek(&t, ']')) {
		n = 1;
		for (;;) {
			if ((rc = jskip(&t)) != 0)
				return rc;
			if (!peek(&t, ','))
				break;
			t.p++;
			n++;
		}
	}
	if (__builtin_mul_overflow(n, esz, &bytes) || (arr = scratch_alloc(c, bytes)) == NULL)
		return fail(c, -E2BIG, "out of scratch space");
	for (i = 0; i < n; i++) {
		ws(j);
		path_push(c, NULL, 0, (uint32_t)i);
		if (is_null(j))
			return fail(c, -EINVAL, "null in an array");
		if ((rc = parse_value(j, f, arr + i * esz)) != 0)
			return rc;
		path_pop(c);
		if (i + 1 < n && (rc = expect(j, ',')) != 0)
			return rc;
	}
	if ((rc = expect(j, ']')) != 0)
		return rc;
	j->depth--;
	*(size_t *)((uint8_t *)m + f->quantifier_offset) = n;
	*(void **)((uint8_t *)m + f->offset) = arr;
	return 0;
}

static int
parse_field(struct jp *j, const ProtobufCFieldDescriptor *f, ProtobufCMessage *m)
{
	struct wg_msgjson *c = j->c;
	void *member = (uint8_t *)m + f->offset;
	int rc;

	ws(j);
	if (j->p >= j->end)
		return BAD(j, "value expected", (size_t)(j->p - j->start));
	if (is_null(j)) {       /* proto3: null is the default */
		j->p += 4;
		return 0;
	}
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return parse_array(j, f, m);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = (uint32_t *)((uint8_t *)m + f->quantifier_offset);

		if (*which != 0 && *which != f->id)
			return fail(c, -EINVAL, "another member of its oneof is set");
		if ((rc = parse_value(j, f, member)) != 0)
			return rc;
		*which = f->id;
		return 0;
	}
	if ((rc = parse_value(j, f, member)) != 0)
		return rc;
	/* proto2 / proto3 "optional": presence flag for non-pointer types */
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)((uint8_t *)m + f->quantifier_offset) = 1;
	return 0;
}

static const ProtobufCFieldDescriptor *
find_field(const ProtobufCMessageDescriptor *d, const char *key, size_t len)
{
	unsigned i;

	for (i = 0; i < d->n_fields; i++)
		if (key_is(key, len, d->fields[i].name))
			return &d->fields[i];
	return NULL;
}

/* An object at j->p into m (initialised). Unknown and repeated keys are
 * refused: a client whose schema differs from ours hears about it. */
static int
parse_message(struct jp *j, const ProtobufCMessageDescriptor *d, ProtobufCMessage *m)
{
	struct wg_msgjson *c = j->c;
	uint64_t seen1 = 0, *seen = &seen1;
	const ProtobufCFieldDescriptor *f;
	char key[KEY_MAX];
	size_t klen, idx;
	bool nul;
	int rc;

	if (d->n_fields > 64) {
		if ((seen = scratch_alloc(c, (d->n_fields + 63) / 64 * 8)) == NULL)
			return fail(c, -E2BIG, "out of scratch space");
		memset(seen, 0, (d->n_fields + 63) / 64 * 8);
	}
	if ((rc = enter(j)) != 0)
		return rc;
	if (peek(j, '}')) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		ws(j);
		if (j->p >= j->end || *j->p != '"')
			return BAD(j, "key expected", (size_t)(j->p - j->start));
		if ((rc = jstring(j, key, sizeof(key), &klen, &nul)) != 0)
			return rc;
		/* a key too long for the buffer names no field */
		if (klen >= sizeof(key)) {
			klen = sizeof(key) - 1;
			nul = true;
		}
		path_push(c, key, klen, 0);
		if ((rc = expect(j, ':')) != 0)
			return rc;
		f = nul ? NULL : find_field(d, key, klen);
		if (f == NULL)
			return fail(c, -EINVAL, "unknown field");
		idx = (size_t)(f - d->fields);
		if (seen[idx / 64] & (1ull << (idx % 64)))
			return fail(c, -EINVAL, "duplicate field");
		seen[idx / 64] |= 1ull << (idx % 64);
		if ((rc = parse_field(j, f, m)) != 0)
			return rc;
		path_pop(c);
		if (peek(j, ',')) {
			j->p++;
			continue;
		}
		if ((rc = expect(j, '}')) != 0)
			return rc;
		break;
	}
	j->depth--;
	return 0;
}

/* The payload of a type: an object, or null (all defaults). No message
 * struct when the type carries none. */
static int
parse_payload(struct jp *j, const struct wg_msg_type_info *ti, ProtobufCMessage **out)
{
	struct wg_msgjson *c = j->c;
	ProtobufCMessage *m;
	int rc;

	ws(j);
	if (is_null(j)) {
		j->p += 4;
		return 0;
	}
	if (j->p >= j->end || *j->p != '{') {
		if (j->p < j->end && (rc = jskip(j)) != 0)
			return rc;
		return fail(c, -EINVAL, "expected object");
	}
	if (ti->desc == NULL) {
		struct jp t = *j;

		t.p++;
		if (!peek(&t, '}'))
			return fail(c, -EINVAL, "%s carries no payload", ti->name);
		j->p = t.p + 1;
		return 0;
	}
	if ((m = scratch_alloc(c, ti->desc->sizeof_message)) == NULL)
		return fail(c, -E2BIG, "out of scratch space");
	protobuf_c_message_init(ti->desc, m);
	*out = m;
	return parse_message(j, ti->desc, m);
}

/* The frame object: {"type":..,"seq":..,"ack":..,"msg_id":..,"payload":{..}}
 * in any key order. A payload before the type is validated and parsed
 * once the type is known. */
static int
parse_frame(struct jp *j, struct wg_envelope *env, ProtobufCMessage **msg)
{
	enum { K_TYPE, K_SEQ, K_ACK, K_MSG_ID, K_PAYLOAD };
	static const char *const keys[] = { "type", "seq", "ack", "msg_id", "payload" };
	struct wg_msgjson *c = j->c;
	const struct wg_msg_type_info *ti = NULL;
	const uint8_t *payload_at = NULL;
	uint32_t *u32[] = { NULL, &env->seq, &env->ack, &env->msg_id };
	unsigned seen = 0, k;
	char key[KEY_MAX];
	uint64_t mag;
	size_t klen;
	bool nul, neg;
	int rc;

	memset(env, 0, sizeof(*env));
	*msg = NULL;
	ws(j);
	if (j->p >= j->end || *j->p != '{')
		return BAD(j, "expected an object", (size_t)(j->p - j->start));
	if ((rc = enter(j)) != 0)
		return rc;
	if (peek(j, '}')) {
		j->p++;
		goto end;
	}
	for (;;) {
		ws(j);
		if (j->p >= j->end || *j->p != '"')
			return BAD(j, "key expected", (size_t)(j->p - j->start));
		if ((rc = jstring(j, key, sizeof(key), &klen, &nul)) != 0)
			return rc;
		if (klen >= sizeof(key)) {
			klen = sizeof(key) - 1;
			nul = true;
		}
		path_push(c, key, klen, 0);
		if ((rc = expect(j, ':')) != 0)
			return rc;
		for (k = 0; k <= K_PAYLOAD; k++)
			if (!nul && key_is(key, klen, keys[k]))
				break;
		if (k > K_PAYLOAD)
			return fail(c, -EINVAL, "unknown field");
		if (seen & (1u << k))
			return fail(c, -EINVAL, "duplicate field");
		seen |= 1u << k;
		ws(j);
		if (j->p >= j->end)
			return BAD(j, "value expected", (size_t)(j->p - j->start));
		if (k == K_TYPE) {
			if (*j->p == '"') {
				char name[KEY_MAX];
				size_t nlen;

				if ((rc = jstring(j, name, sizeof(name), &nlen, &nul)) != 0)
					return rc;
				ti = nlen < sizeof(name) && !nul ? wg_msg_type_by_name(name, nlen) : NULL;
				if (ti == NULL) {
					name[nlen < sizeof(name) ? nlen : sizeof(name) - 1] = '\0';
					for (klen = 0; name[klen] != '\0'; klen++)
						if ((uint8_t)name[klen] < 0x20 || (uint8_t)name[klen] >= 0x7f)
							name[klen] = '?';
					return fail(c, -ENOMSG, "unknown message type '%.32s'", name);
				}
			} else {
				if ((rc = jint(j, UINT32_MAX, 0, &neg, &mag)) != 0)
					return rc;
				if ((ti = wg_msg_type_find((uint32_t)mag)) == NULL)
					return fail(c, -ENOMSG, "unknown message type %u", (uint32_t)mag);
			}
			env->type = ti->type;
			if (payload_at != NULL) {
				struct jp t = *j;

				/* parse the payload seen earlier, errors named as usual */
				t.p = payload_at;
				c->path[c->depth - 1] = (struct wg_msgjson_path){ "payload", 7, 0 };
				if ((rc = parse_payload(&t, ti, msg)) != 0)
					return rc;
			}
		} else if (k == K_PAYLOAD) {
			if (ti != NULL) {
				if ((rc = parse_payload(j, ti, msg)) != 0)
					return rc;
			} else {
				payload_at = j->p;
				if ((rc = jskip(j)) != 0)
					return rc;
			}
		} else {
			if ((rc = jint(j, UINT32_MAX, 0, &neg, &mag)) != 0)
				return rc;
			*u32[k] = (uint32_t)mag;
		}
		path_pop(c);
		if (peek(j, ',')) {
			j->p++;
			continue;
		}
		if ((rc = expect(j, '}')) != 0)
			return rc;
		break;
	}
end:
	j->depth--;
	ws(j);
	if (j->p != j->end)
		return BAD(j, "bytes after the object", (size_t)(j->p - j->start));
	if (ti == NULL)
		return fail(c, -EINVAL, "type: missing");
	return 0;
}

/* ---- protobuf-c structs -> JSON ---- */

struct out {
	char *p, *end;
	bool full;
};

static inline void
put(struct out *o, const void *s, size_t n)
{
	if (unlikely((size_t)(o->end - o->p) < n)) {
		o->full = true;
		o->p = o->end;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static inline void
put1(struct out *o, char ch)
{
	if (unlikely(o->p >= o->end)) {
		o->full = true;
		return;
	}
	*o->p++ = ch;
}

static void
put_u64(struct out *o, uint64_t v, bool neg, bool quoted)
{
	char b[24], *p = b + sizeof(b);

	if (quoted)
		*--p = '"';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (neg)
		*--p = '-';
	if (quoted)
		*--p = '"';
	put(o, p, (size_t)(b + sizeof(b) - p));
}

static void
put_i64(struct out *o, int64_t v, bool quoted)
{
	put_u64(o, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0, quoted);
}

/* m / 10^d as decimal text ("-0.25" for 25, 2, neg). */
static void
put_fixed(struct out *o, uint64_t m, int d, bool neg)
{
	char b[32], *p = b + sizeof(b);
	int i;

	for (i = 0; i < d || m != 0 || i == 0 || (i == d && d > 0); i++) {
		if (i == d && d > 0)
			*--p = '.';
		*--p = (char)('0' + m % 10);
		m /= 10;
	}
	if (neg)
		*--p = '-';
	put(o, p, (size_t)(b + sizeof(b) - p));
}

/* Shortest %g text that reads back as the same value. */
static void
put_double(struct out *o, double v, bool single)
{
	char b[40];
	int prec, n = 0;

	if (isnan(v)) {
		put(o, "\"NaN\"", 5);
		return;
	}
	if (isinf(v)) {
		if (v < 0)
			put(o, "\"-Infinity\"", 11);
		else
			put(o, "\"Infinity\"", 10);
		return;
	}
	/* Values with few decimals (1201.5, -0.25, 7) without snprintf: for a
	 * float, v * 10^d is exact in a double for d <= 4, so an integral
	 * product gives the exact decimal text. */
	if (fabs(v) < 9007199254740992.0) {
		double x = v;
		int d;

		for (d = 0; d <= (single ? 4 : 0); d++, x *= 10) {
			if (x == trunc(x)) {
				put_fixed(o, (uint64_t)fabs(x), d, signbit(v) != 0);
				return;
			}
		}
	}
	for (prec = single ? 6 : 15; prec <= (single ? 9 : 17); prec++) {
		n = snprintf(b, sizeof(b), "%.*g", prec, v);
		if (single ? strtof(b, NULL) == (float)v : strtod(b, NULL) == v)
			break;
	}
	put(o, b, (size_t)n);
}

/* A JSON string from UTF-8 bytes: quotes, backslashes and control
 * characters escaped; invalid UTF-8 (a binary client's string field) is
 * refused rather than passed to a text frame. */
static int
put_str(struct wg_msgjson *c, struct out *o, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *end = s + n;
	unsigned k;

	put1(o, '"');
	while (s < end) {
		const uint8_t *run = s;

		while (s < end && *s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\')
			s++;
		put(o, run, (size_t)(s - run));
		if (s >= end)
			break;
		if (*s >= 0x80) {
			if ((k = utf8_seq(s, end)) == 0)
				return fail(c, -EBADMSG, "string is not valid UTF-8");
			put(o, s, k);
			s += k;
			continue;
		}
		put1(o, '\\');
		switch (*s) {
		case '"': put1(o, '"'); break;
		case '\\': put1(o, '\\'); break;
		case '\n': put1(o, 'n'); break;
		case '\r': put1(o, 'r'); break;
		case '\t': put1(o, 't'); break;
		case '\b': put1(o, 'b'); break;
		case '\f': put1(o, 'f'); break;
		default:
			put(o, "u00", 3);
			put1(o, hex[*s >> 4]);
			put1(o, hex[*s & 15]);
		}
		s++;
	}
	put1(o, '"');
	return 0;
}

static void
put_b64(struct out *o, const uint8_t *s, size_t n)
{
	char q[4];
	size_t i;

	put1(o, '"');
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];

		q[0] = b64_chars[v >> 18];
		q[1] = b64_chars[(v >> 12) & 63];
		q[2] = b64_chars[(v >> 6) & 63];
		q[3] = b64_chars[v & 63];
		put(o, q, 4);
	}
	if (n - i == 1) {
		q[0] = b64_chars[s[i] >> 2];
		q[1] = b64_chars[(s[i] & 3) << 4];
		q[2] = q[3] = '=';
		put(o, q, 4);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 8 | s[i + 1];

		q[0] = b64_chars[v >> 10];
		q[1] = b64_chars[(v >> 4) & 63];
		q[2] = b64_chars[(v & 15) << 2];
		q[3] = '=';
		put(o, q, 4);
	}
	put1(o, '"');
}

/* "name": with the lowerCamel JSON name unless told otherwise. */
static void
put_key(struct wg_msgjson *c, struct out *o, const char *name)
{
	put1(o, '"');
	if (c->flags & WG_MSGJSON_F_PROTO_NAMES) {
		put(o, name, strlen(name));
	} else {
		bool up = false;

		for (; *name != '\0'; name++) {
			if (*name == '_') {
				up = true;
				continue;
			}
			put1(o, up && *name >= 'a' && *name <= 'z' ? (char)(*name - 'a' + 'A') : *name);
			up = false;
		}
	}
	put(o, "\":", 2);
}

static int emit_message(struct wg_msgjson *c, struct out *o, const ProtobufCMessage *m,
			uint32_t depth);

static int
emit_value(struct wg_msgjson *c, struct out *o, const ProtobufCFieldDescriptor *f,
	   const void *slot, uint32_t depth)
{
	const ProtobufCEnumValue *ev;
	const ProtobufCBinaryData *bd;
	const char *s;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		put_i64(o, *(const int32_t *)slot, false);
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		put_u64(o, *(const uint32_t *)slot, false, false);
		return 0;
	/* 64-bit integers as strings: JavaScript numbers stop at 2^53 */
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		put_i64(o, *(const int64_t *)slot, true);
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		put_u64(o, *(const uint64_t *)slot, false, true);
		return 0;
	case PROTOBUF_C_TYPE_FLOAT:
		put_double(o, *(const float *)slot, true);
		return 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		put_double(o, *(const double *)slot, false);
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (*(const protobuf_c_boolean *)slot)
			put(o, "true", 4);
		else
			put(o, "false", 5);
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		ev = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int32_t *)slot);
		if (ev != NULL) {
			put1(o, '"');
			put(o, ev->name, strlen(ev->name));
			put1(o, '"');
		} else {
			put_i64(o, *(const int32_t *)slot, false);
		}
		return 0;
	case PROTOBUF_C_TYPE_STRING:
		s = *(char *const *)slot;
		return put_str(c, o, (const uint8_t *)s, s != NULL ? strlen(s) : 0);
	case PROTOBUF_C_TYPE_BYTES:
		bd = slot;
		put_b64(o, bd->data, bd->len);
		return 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		if (*(ProtobufCMessage *const *)slot == NULL) {
			put(o, "{}", 2);
			return 0;
		}
		return emit_message(c, o, *(ProtobufCMessage *const *)slot, depth + 1);
	}
	return fail(c, -EINVAL, "unsupported field type");
}

/* Whether a field is on the wire, by the rules protobuf-c packs with, so
 * that JSON -> protobuf gives back the bytes protobuf-c would. */
static bool
present(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *m, const void *member)
{
	const uint8_t *q = (const uint8_t *)m + f->quantifier_offset;

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)q == f->id;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		return *(const protobuf_c_boolean *)q != 0;
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)member != 0;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)member != 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)member != 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return *(const uint64_t *)member != 0;
	case PROTOBUF_C_TYPE_STRING:
		return *(char *const *)member != NULL && **(char *const *)member != '\0';
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)member)->len != 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)member != NULL;
	default:
		return *(const uint32_t *)member != 0;
	}
}

static int
emit_message(struct wg_msgjson *c, struct out *o, const ProtobufCMessage *m, uint32_t depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	bool first = true;
	unsigned i;
	size_t k, n = 0;
	int rc;

	if (depth > WG_MSGJSON_MAX_DEPTH)
		return fail(c, -E2BIG, "nested deeper than %d", WG_MSGJSON_MAX_DEPTH);
	put1(o, '{');
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const uint8_t *member = (const uint8_t *)m + f->offset;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)((const uint8_t *)m + f->quantifier_offset);
			if (n == 0)
				continue;
		} else if (!present(f, m, member)) {
			continue;
		}
		if (!first)
			put1(o, ',');
		first = false;
		put_key(c, o, f->name);
		path_push(c, f->name, strlen(f->name), 0);
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			if ((rc = emit_value(c, o, f, member, depth)) != 0)
				return rc;
		} else {
			const uint8_t *arr = *(const uint8_t *const *)member;
			size_t esz = elt_size(f->type);

			put1(o, '[');
			for (k = 0; k < n; k++) {
				if (k > 0)
					put1(o, ',');
				path_push(c, NULL, 0, (uint32_t)k);
				if ((rc = emit_value(c, o, f, arr + k * esz, depth + 1)) != 0)
					return rc;
				path_pop(c);
			}
			put1(o, ']');
		}
		path_pop(c);
		if (o->full)
			break;
	}
	put1(o, '}');
	return 0;
}

/* ---- entry points ---- */

static int
pack(struct wg_msgjson *c, const struct wg_envelope *hdr, const ProtobufCMessage *msg,
     void *out, size_t cap, struct wg_envelope *env)
{
	size_t plen = msg != NULL ? protobuf_c_message_get_packed_size(msg) : 0;
	int h = wg_envelope_encode_hdr(hdr, plen, out, cap);

	if (h == -ENOSPC)
		return fail(c, -ENOSPC, "output buffer too small");
	if (h < 0)
		return fail(c, h, "message too big");
	if (plen != 0 && protobuf_c_message_pack(msg, (uint8_t *)out + h) != plen)
		return fail(c, -EINVAL, "protobuf-c packed an unexpected size");
	if (env != NULL) {
		*env = *hdr;
		env->payload = plen != 0 ? (const uint8_t *)out + h : NULL;
		env->payload_len = (uint32_t)plen;
	}
	return h + (int)plen;
}

int
wg_msgjson_to_pb(struct wg_msgjson *c, const void *json, size_t len, void *out, size_t cap,
		 struct wg_envelope *env)
{
	struct jp j = { .p = json, .end = (const uint8_t *)json + len, .start = json, .c = c };
	struct wg_envelope hdr;
	ProtobufCMessage *msg;
	int rc;

	reset(c);
	if ((rc = parse_frame(&j, &hdr, &msg)) != 0)
		return rc;
	return pack(c, &hdr, msg, out, cap, env);
}

int
wg_msgjson_payload_to_pb(struct wg_msgjson *c, const ProtobufCMessageDescriptor *desc,
			 const void *json, size_t len, void *out, size_t cap)
{
	struct jp j = { .p = json, .end = (const uint8_t *)json + len, .start = json, .c = c };
	ProtobufCMessage *m;
	size_t plen;
	int rc;

	reset(c);
	ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return BAD(&j, "expected an object", (size_t)(j.p - j.start));
	if ((m = scratch_alloc(c, desc->sizeof_message)) == NULL)
		return fail(c, -E2BIG, "out of scratch space");
	protobuf_c_message_init(desc, m);
	if ((rc = parse_message(&j, desc, m)) != 0)
		return rc;
	ws(&j);
	if (j.p != j.end)
		return BAD(&j, "bytes after the object", (size_t)(j.p - j.start));
	plen = protobuf_c_message_get_packed_size(m);
	if (plen > cap || plen > INT32_MAX)
		return fail(c, -ENOSPC, "output buffer too small");
	protobuf_c_message_pack(m, out);
	return (int)plen;
}

static ProtobufCMessage *
unpack(struct wg_msgjson *c, const ProtobufCMessageDescriptor *d, const void *pb, size_t len,
       int *rc)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(d, &c->alloc, len, pb);

	if (m == NULL)
		*rc = c->scratch_short ? fail(c, -E2BIG, "payload: out of scratch space") :
					 fail(c, -EBADMSG, "payload: not a valid %s", d->short_name);
	return m;
}

static int
finish(struct wg_msgjson *c, struct out *o, char *out)
{
	if (o->full)
		return fail(c, -ENOSPC, "output buffer too small");
	if (o->p - out > INT32_MAX)
		return fail(c, -E2BIG, "output too big");
	return (int)(o->p - out);
}

int
wg_msgjson_payload_from_pb(struct wg_msgjson *c, const ProtobufCMessageDescriptor *desc,
			   const void *pb, size_t len, char *out, size_t cap)
{
	struct out o = { out, out + cap, false };
	ProtobufCMessage *m;
	int rc = 0;

	reset(c);
	if ((m = unpack(c, desc, pb, len, &rc)) == NULL)
		return rc;
	if ((rc = emit_message(c, &o, m, 1)) != 0)
		return rc;
	return finish(c, &o, out);
}

static int
from_envelope(struct wg_msgjson *c, const struct wg_envelope *e, char *out, size_t cap)
{
	struct out o = { out, out + cap, false };
	const struct wg_msg_type_info *ti;
	ProtobufCMessage *m = NULL;
	int rc = 0;

	if ((ti = wg_msg_type_find(e->type)) == NULL)
		return fail(c, -ENOMSG, "type: unknown message type %u", e->type);
	if (ti->desc == NULL && e->payload_len != 0)
		return fail(c, -EBADMSG, "payload: %s carries no payload", ti->name);
	if (ti->desc != NULL &&
	    (m = unpack(c, ti->desc, e->payload, e->payload_len, &rc)) == NULL)
		return rc;
	put(&o, "{\"type\":\"", 9);
	put(&o, ti->name, strlen(ti->name));
	put(&o, "\",\"seq\":", 8);
	put_u64(&o, e->seq, false, false);
	put(&o, ",\"ack\":", 7);
	put_u64(&o, e->ack, false, false);
	put(&o, ",\"msg_id\":", 10);
	put_u64(&o, e->msg_id, false, false);
	if (m != NULL) {
		put(&o, ",\"payload\":", 11);
		path_push(c, "payload", 7, 0);
		if ((rc = emit_message(c, &o, m, 2)) != 0)
			return rc;
		path_pop(c);
	}
	put1(&o, '}');
	return finish(c, &o, out);
}

int
wg_msgjson_from_envelope(struct wg_msgjson *c, const struct wg_envelope *env, char *out,
			 size_t cap)
{
	reset(c);
	return from_envelope(c, env, out, cap);
}

int
wg_msgjson_from_pb(struct wg_msgjson *c, const void *pb, size_t len, char *out, size_t cap)
{
	struct wg_envelope e;

	reset(c);
	if (wg_envelope_decode(&e, pb, len) != 0)
		return fail(c, -EBADMSG, "not a valid Envelope");
	return from_envelope(c, &e, out, cap);
}
