/* SPDX-License-Identifier: BSD-3-Clause
 * Scenario files (YAML). The shape follows common/conf.c: one table per
 * section (name, type, offset, bounds) drives parsing, validation and the
 * dump, so a key is one line in one table. libyaml's event API is walked
 * twice: once for well-formedness with nesting capped, then through the
 * tables, stopping at the first problem. The walker's depth is fixed by
 * the tables, anchors and aliases are refused, and a failed parse leaves
 * the caller's struct untouched.
 *
 * Numbers with units are decimal text to integers, never through a double:
 * "1.5s" is exactly 1500000000 ns, "0.25" msgs/s is 250 milli, "30%" is
 * 300000 ppm, and the dump writes back exactly what is stored.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "scenario.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FIELD_SIZE(st, f) sizeof(((st *)0)->f)

#define SCN_FILE_MAX   (1u << 20)
#define SCN_MAX_DEPTH  16          /* top, section, list, item, list, item, size list, item */
#define SCN_SECTION_MAX_KEYS 16
#define SCN_SHOW_MAX   48
#define NS_PER_S       1000000000ull
#define DUR_MAX        (7 * 24 * 3600 * NS_PER_S)  /* a week: bounds the total too */

enum skey_type {
	ST_UINT,        /* unsigned integer of 1, 2 or 4 bytes within [min, max] */
	ST_U64,         /* uint64_t, any value */
	ST_STR,         /* char[size]; check() may refuse characters */
	ST_ENUM,        /* one of words -> uint8_t index */
	ST_DUR,         /* "250ms", "1.5s", "2m" -> uint64_t ns within [min, max] */
	ST_RATE,        /* "0.5", up to 3 decimals -> uint32_t milli within [min, max] */
	ST_PCT,         /* "30%", up to 4 decimals -> uint32_t ppm within [min, max] */
	ST_IPV4,        /* a.b.c.d -> uint32_t network byte order */
	ST_SIZE,        /* struct wg_scn_size: 64, 64..512 or a weighted list */
	ST_SECTION,     /* mapping described by sub */
	ST_LIST,        /* sequence of mappings described by sub; count at aux */
	ST_NTYPES
};

/* Action types a key applies to, as a mask of 1 << enum wg_scn_action_type. */
#define A(t)        (1u << WG_SCN_ACT_##t)
#define A_ANY       0u

struct scn_section;

struct skey {
	const char *name;
	enum skey_type type;
	size_t off, size, elem, aux;
	uint64_t min, max;
	const char *const *words;
	const struct scn_section *sub;
	/* ST_STR: NULL or a message about the first byte it refuses */
	const char *(*check)(const char *s);
	unsigned int applies;          /* action keys: A(...) mask */
};

struct scn_section {
	const struct skey *keys;
	unsigned int n_keys;
	void (*init)(void *item);      /* list items: defaults of each new item */
};

#define K_UINT(st, f, lo, hi) { .name = #f, .type = ST_UINT, .off = offsetof(st, f), \
	.size = FIELD_SIZE(st, f), .min = (lo), .max = (hi) }
#define K_U64(st, f) { .name = #f, .type = ST_U64, .off = offsetof(st, f), \
	.size = FIELD_SIZE(st, f), .max = UINT64_MAX }
#define K_STR(st, f, chk) { .name = #f, .type = ST_STR, .off = offsetof(st, f), \
	.size = FIELD_SIZE(st, f), .check = (chk) }
#define K_ENUM(st, f, w) { .name = #f, .type = ST_ENUM, .off = offsetof(st, f), \
	.size = FIELD_SIZE(st, f), .words = (w) }
#define K_DUR(st, f, lo, hi) { .name = #f, .type = ST_DUR, .off = offsetof(st, f), \
	.size = FIELD_SIZE(st, f), .min = (lo), .max = (hi) }
#define K_IPV4(st, f) { .name = #f, .type = ST_IPV4, .off = offsetof(st, f), \
	.size = FIELD_SIZE(st, f) }
#define K_SECTION(st, f, s) { .name = #f, .type = ST_SECTION, .off = offsetof(st, f), \
	.size = FIELD_SIZE(st, f), .sub = (s) }
#define K_LIST(st, f, n, s) { .name = #f, .type = ST_LIST, .off = offsetof(st, f), \
	.size = FIELD_SIZE(st, f), .elem = FIELD_SIZE(st, f[0]), .aux = offsetof(st, n), \
	.sub = (s) }
/* Action keys carry the types they apply to. */
#define K_ARATE(name_, f, lo, hi, ap) { .name = name_, .type = ST_RATE, \
	.off = offsetof(struct wg_scn_action, f), .size = FIELD_SIZE(struct wg_scn_action, f), \
	.min = (lo), .max = (hi), .applies = (ap) }
#define K_APCT(name_, f, ap) { .name = name_, .type = ST_PCT, \
	.off = offsetof(struct wg_scn_action, f), .size = FIELD_SIZE(struct wg_scn_action, f), \
	.min = 1, .max = 1000000, .applies = (ap) }
#define K_AUINT(f, lo, hi, ap) { .name = #f, .type = ST_UINT, \
	.off = offsetof(struct wg_scn_action, f), .size = FIELD_SIZE(struct wg_scn_action, f), \
	.min = (lo), .max = (hi), .applies = (ap) }
#define K_ADUR(f, lo, hi, ap) { .name = #f, .type = ST_DUR, \
	.off = offsetof(struct wg_scn_action, f), .size = FIELD_SIZE(struct wg_scn_action, f), \
	.min = (lo), .max = (hi), .applies = (ap) }
#define K_ASIZE(f, ap) { .name = #f, .type = ST_SIZE, \
	.off = offsetof(struct wg_scn_action, f), .size = FIELD_SIZE(struct wg_scn_action, f), \
	.applies = (ap) }

static const char *const transport_words[] = { "ws", "wss", "framed", "framed_tls", NULL };
static const char *const action_words[] = { "chat", "echo", "join", "move", "idle", "churn",
					    NULL };
static const char *const mode_words[] = { "open", "closed", NULL };

/* Characters of request targets, server names and report paths: printable
 * ASCII without spaces, so none can smuggle a header line or a shell word. */
static const char *
check_path(const char *s)
{
	if (s[0] != '\0' && s[0] != '/')
		return "must start with '/'";
	for (; *s != '\0'; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return "has a space, control or non-ASCII character";
	return NULL;
}

static const char *
check_hostname(const char *s)
{
	size_t label = 0;

	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0)
				return "has an empty label";
			label = 0;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-'))
			return "is not a DNS name (letters, digits, '-', '.')";
		if (++label > 63)
			return "has a label longer than 63 characters";
	}
	return NULL;
}

static const char *
check_file(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return "has a control character";
	return NULL;
}

static const char *
check_name(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return "may hold only letters, digits, '-', '_', '.'";
	return NULL;
}

static const char *check_template(const char *s);

static const struct skey target_keys[] = {
	K_IPV4(struct wg_scn_target, address),
	K_UINT(struct wg_scn_target, port, 1, UINT16_MAX),
	K_ENUM(struct wg_scn_target, transport, transport_words),
	K_STR(struct wg_scn_target, path, check_path),
	K_STR(struct wg_scn_target, sni, check_hostname),
};

static const struct skey clients_keys[] = {
	K_UINT(struct wg_scn_clients, count, 1, 10000000),
	K_UINT(struct wg_scn_clients, connect_rate, 1, 10000000),
	K_DUR(struct wg_scn_clients, ramp_ns, 0, 3600 * NS_PER_S),
};

static const struct skey login_keys[] = {
	K_STR(struct wg_scn_login, token, check_template),
	K_STR(struct wg_scn_login, account, check_template),
	K_STR(struct wg_scn_login, password, check_template),
};

static const struct skey report_keys[] = {
	K_STR(struct wg_scn_report, json, check_file),
	K_STR(struct wg_scn_report, csv, check_file),
	K_DUR(struct wg_scn_report, interval_ns, NS_PER_S / 10, 3600 * NS_PER_S),
};

static const struct skey size_entry_keys[] = {
	K_UINT(struct wg_scn_size_entry, bytes, 1, WG_SCN_MSG_MAX),
	K_UINT(struct wg_scn_size_entry, weight, 1, 1000000),
};
static const struct scn_section size_entry_section = {
	size_entry_keys, ARRAY_SIZE(size_entry_keys), NULL };

/* Index order is the dump order; "type" first so a reader sees it first. */
static const struct skey action_keys[] = {
	K_ENUM(struct wg_scn_action, type, action_words),
	K_APCT("clients", clients_ppm, A_ANY),
	K_ARATE("rate", rate_milli, 1, 1000000000, A(CHAT) | A(ECHO) | A(CHURN)),
	K_AUINT(hz, 1, 60, A(MOVE)),
	K_AUINT(rooms, 1, 10000000, A(JOIN)),
	K_ADUR(downtime_ns, 0, 3600 * NS_PER_S, A(CHURN)),
	K_ASIZE(size, A(CHAT) | A(ECHO) | A(MOVE)),
};

static void action_defaults(void *item);
static const struct scn_section action_section = {
	action_keys, ARRAY_SIZE(action_keys), action_defaults };

static const struct skey phase_keys[] = {
	K_STR(struct wg_scn_phase, name, check_name),
	K_DUR(struct wg_scn_phase, duration_ns, 1, DUR_MAX),
	K_ENUM(struct wg_scn_phase, mode, mode_words),
	K_DUR(struct wg_scn_phase, think_ns, 0, 3600 * NS_PER_S),
	K_DUR(struct wg_scn_phase, timeout_ns, 0, 3600 * NS_PER_S),
	K_LIST(struct wg_scn_phase, actions, n_actions, &action_section),
};

static void phase_defaults(void *item);
static const struct scn_section phase_section = {
	phase_keys, ARRAY_SIZE(phase_keys), phase_defaults };

static const struct scn_section target_section = { target_keys, ARRAY_SIZE(target_keys), NULL };
static const struct scn_section clients_section = { clients_keys, ARRAY_SIZE(clients_keys), NULL };
static const struct scn_section login_section = { login_keys, ARRAY_SIZE(login_keys), NULL };
static const struct scn_section report_section = { report_keys, ARRAY_SIZE(report_keys), NULL };

static const struct skey top_keys[] = {
	K_STR(struct wg_scenario, name, check_name),
	K_U64(struct wg_scenario, seed),
	K_SECTION(struct wg_scenario, target, &target_section),
	K_SECTION(struct wg_scenario, clients, &clients_section),
	K_SECTION(struct wg_scenario, login, &login_section),
	K_LIST(struct wg_scenario, phases, n_phases, &phase_section),
	K_SECTION(struct wg_scenario, report, &report_section),
};
static const struct scn_section top_section = { top_keys, ARRAY_SIZE(top_keys), NULL };

/* Keys are named after their fields; a few fields carry a unit suffix the
 * file does not spell. */
static const char *
key_name(const struct skey *k, char buf[64])
{
	size_t n = strlen(k->name);

	if (n > 3 && strcmp(k->name + n - 3, "_ns") == 0) {
		snprintf(buf, 64, "%.*s", (int)(n - 3), k->name);
		return buf;
	}
	return k->name;
}

static void
action_defaults(void *item)
{
	struct wg_scn_action *a = item;

	memset(a, 0, sizeof(*a));
	a->clients_ppm = 1000000;
	a->hz = 10;
	a->rooms = 1;
	a->size.kind = WG_SCN_SIZE_FIXED;
	a->size.lo = a->size.hi = 64;
}

static void
phase_defaults(void *item)
{
	struct wg_scn_phase *ph = item;

	memset(ph, 0, sizeof(*ph));
	ph->mode = WG_SCN_OPEN;
	ph->timeout_ns = 10 * NS_PER_S;
}

void
wg_scn_defaults(struct wg_scenario *s)
{
	/* memset, not initialisers: padding too is zero, so memcmp compares */
	memset(s, 0, sizeof(*s));
	strcpy(s->name, "scenario");
	s->seed = 1;
	memcpy(&s->target.address, (const uint8_t[4]){ 127, 0, 0, 1 }, 4);
	s->target.transport = WG_SCN_WS;
	strcpy(s->target.path, "/");
	s->clients.count = 1;
	s->clients.connect_rate = 1000;
	s->report.interval_ns = NS_PER_S;
}

/* ---------------------------------------------------------------- errors */

static int __attribute__((format(printf, 5, 0)))
scn_verr(char *err, size_t errlen, const char *name, size_t line, const char *fmt, va_list ap)
{
	int n;

	if (err == NULL || errlen == 0)
		return -EINVAL;
	n = snprintf(err, errlen, "%s:%zu: ", name, line);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	return -EINVAL;
}

static int __attribute__((format(printf, 5, 6)))
scn_err(char *err, size_t errlen, const char *name, size_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	scn_verr(err, errlen, name, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* User text in a message: bounded, control bytes made visible. */
static const char *
shown(const char *s, size_t len, char out[SCN_SHOW_MAX + 4])
{
	size_t i, o = 0;

	for (i = 0; i < len && o < SCN_SHOW_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (i < len) {
		while (o > 0 && ((unsigned char)s[o] & 0xc0) == 0x80)
			o--;
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* ---------------------------------------------------------------- parser */

struct scn_parser {
	yaml_parser_t yp;
	yaml_event_t ev;
	bool have_ev;
	const char *name;
	const char *buf;
	size_t len;
	char *err;
	size_t errlen;
	struct wg_scenario s;          /* working copy, committed on success */
};

static size_t
ev_line(const struct scn_parser *p)
{
	return p->ev.start_mark.line + 1;
}

static int __attribute__((format(printf, 3, 4)))
perr(struct scn_parser *p, size_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	scn_verr(p->err, p->errlen, p->name, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *
ev_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return "a scalar";
	case YAML_SEQUENCE_START_EVENT:
		return "a sequence";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	default:
		return "something else";
	}
}

static int
yaml_error(struct scn_parser *p)
{
	const yaml_parser_t *yp = &p->yp;
	const char *problem = yp->problem ? yp->problem : "unknown error";
	size_t line, i, end;

	switch (yp->error) {
	case YAML_MEMORY_ERROR:
		scn_err(p->err, p->errlen, p->name, 0, "out of memory");
		return -ENOMEM;
	case YAML_READER_ERROR:
		end = yp->problem_offset < p->len ? yp->problem_offset : p->len;
		for (i = 0, line = 1; i < end; i++)
			line += p->buf[i] == '\n';
		return perr(p, line, "invalid input: %s at offset %zu", problem,
			    yp->problem_offset);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		line = yp->problem_mark.line + 1;
		if (yp->context)
			return perr(p, line, "YAML syntax error: %s (%s at line %zu)", problem,
				    yp->context, yp->context_mark.line + 1);
		return perr(p, line, "YAML syntax error: %s", problem);
	default:
		return perr(p, yp->problem_mark.line + 1, "YAML error: %s", problem);
	}
}

/* Next event; anchors, aliases and tags are refused here for every node. */
static int
next_event(struct scn_parser *p)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	char sh[SCN_SHOW_MAX + 4];

	if (p->have_ev) {
		yaml_event_delete(&p->ev);
		p->have_ev = false;
	}
	if (!yaml_parser_parse(&p->yp, &p->ev))
		return yaml_error(p);
	p->have_ev = true;
	switch (p->ev.type) {
	case YAML_ALIAS_EVENT:
		anchor = p->ev.data.alias.anchor;
		return perr(p, ev_line(p), "anchors and aliases are not supported (alias '*%s')",
			    shown((const char *)anchor, strlen((const char *)anchor), sh));
	case YAML_SCALAR_EVENT:
		anchor = p->ev.data.scalar.anchor;
		tag = p->ev.data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = p->ev.data.sequence_start.anchor;
		tag = p->ev.data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = p->ev.data.mapping_start.anchor;
		tag = p->ev.data.mapping_start.tag;
		break;
	default:
		return 0;
	}
	if (anchor)
		return perr(p, ev_line(p), "anchors and aliases are not supported (anchor '&%s')",
			    shown((const char *)anchor, strlen((const char *)anchor), sh));
	if (tag)
		return perr(p, ev_line(p), "tags are not supported (tag '%s')",
			    shown((const char *)tag, strlen((const char *)tag), sh));
	return 0;
}

static const char *
sc_text(const struct scn_parser *p)
{
	return (const char *)p->ev.data.scalar.value;
}

static size_t
sc_len(const struct scn_parser *p)
{
	return p->ev.data.scalar.length;
}

static bool
sc_plain(const struct scn_parser *p)
{
	return p->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static bool
ev_is_null(const struct scn_parser *p)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (p->ev.type != YAML_SCALAR_EVENT || !sc_plain(p))
		return false;
	for (i = 0; i < ARRAY_SIZE(nulls); i++)
		if (sc_len(p) == strlen(nulls[i]) && memcmp(sc_text(p), nulls[i], sc_len(p)) == 0)
			return true;
	return false;
}

static void
record_line(struct scn_parser *p, size_t off, size_t len, size_t line)
{
	struct wg_scenario *s = &p->s;
	unsigned int i;

	for (i = 0; i < s->n_lines; i++)
		if (s->lines[i].off == off && s->lines[i].len == len)
			break;
	if (i == WG_SCN_MAX_LINES)
		return;
	s->lines[i].off = (uint32_t)off;
	s->lines[i].len = (uint32_t)len;
	s->lines[i].line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
	if (i == s->n_lines)
		s->n_lines++;
}

/* ------------------------------------------------------- number parsers */

/* Strict decimal: digits only, no sign, no leading zero (YAML 1.1 reads
 * 010 as octal). -ERANGE on overflow. */
static int
parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned int)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* "int[.frac]" times scale, frac at most max_dec digits and exact in the
 * scaled unit. -E2BIG: more decimals than the unit resolves. */
static int
parse_scaled(const char *s, size_t n, uint64_t scale, unsigned int max_dec, uint64_t *out)
{
	const char *dot = memchr(s, '.', n);
	uint64_t ip, frac = 0, pow10 = 1;
	unsigned int nd = 0;
	size_t i;
	int rc;

	if ((rc = parse_u64(s, dot != NULL ? (size_t)(dot - s) : n, &ip)) != 0)
		return rc;
	if (dot != NULL) {
		for (i = (size_t)(dot - s) + 1; i < n; i++, nd++) {
			if (s[i] < '0' || s[i] > '9')
				return -EINVAL;
			if (nd >= max_dec)
				return -E2BIG;
			frac = frac * 10 + (uint64_t)(s[i] - '0');
			pow10 *= 10;
		}
		if (nd == 0)
			return -EINVAL;
		/* pow10 <= 10^9 and scale <= 3.6e12: frac * scale fits below 2^63 */
		if ((frac * scale) % pow10 != 0)
			return -E2BIG;
		frac = frac * scale / pow10;
	}
	if (ip > (UINT64_MAX - frac) / scale)
		return -ERANGE;
	*out = ip * scale + frac;
	return 0;
}

static const struct {
	const char *unit;
	uint64_t ns;
} dur_units[] = {
	/* longest suffix first: "ms" before "s", "ns" before "s" */
	{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", NS_PER_S },
	{ "m", 60 * NS_PER_S }, { "h", 3600 * NS_PER_S },
};

/* "1.5s" -> ns. -ENOMSG: no unit. */
static int
parse_duration(const char *s, size_t n, uint64_t *out)
{
	size_t i, ul;

	if (n == 1 && s[0] == '0') {
		*out = 0;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(dur_units); i++) {
		ul = strlen(dur_units[i].unit);
		if (n > ul && memcmp(s + n - ul, dur_units[i].unit, ul) == 0 &&
		    !(ul == 1 && (s[n - 2] == 'm' || s[n - 2] == 'n' || s[n - 2] == 'u')))
			return parse_scaled(s, n - ul, dur_units[i].ns, 9, out);
	}
	return -ENOMSG;
}

/* Shortest exact text: the largest unit that divides the value. */
static const char *
format_duration(uint64_t ns, char buf[40])
{
	size_t i;

	if (ns == 0) {
		snprintf(buf, 40, "0");
		return buf;
	}
	for (i = ARRAY_SIZE(dur_units); i-- > 0;)
		if (ns % dur_units[i].ns == 0)
			break;
	snprintf(buf, 40, "%" PRIu64 "%s", ns / dur_units[i].ns, dur_units[i].unit);
	return buf;
}

static const char *
format_fixed(uint64_t v, uint64_t scale, unsigned int dec, const char *unit, char buf[40])
{
	uint64_t ip = v / scale, frac = v % scale;

	if (frac == 0) {
		snprintf(buf, 40, "%" PRIu64 "%s", ip, unit);
		return buf;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		dec--;
	}
	snprintf(buf, 40, "%" PRIu64 ".%0*" PRIu64 "%s", ip, (int)dec, frac, unit);
	return buf;
}

static int
parse_ipv4(const char *s, size_t n, uint32_t *out)
{
	uint8_t b[4];
	size_t i = 0, start;
	unsigned int part;

	for (part = 0; part < 4; part++) {
		uint64_t v;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return -EINVAL;
			i++;
		}
		start = i;
		while (i < n && i - start < 4 && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i - start > 3 || parse_u64(s + start, i - start, &v) != 0 || v > 255)
			return -EINVAL;
		b[part] = (uint8_t)v;
	}
	if (i != n)
		return -EINVAL;
	memcpy(out, b, sizeof(b));
	return 0;
}

/* ---------------------------------------------------------- setters */

static int walk_mapping(struct scn_parser *p, const struct scn_section *sec, char *base,
			size_t abs, const char *path);
static int set_value(struct scn_parser *p, const struct skey *k, char *base, size_t abs,
		     const char *fpath);

static const char *const type_what[ST_NTYPES] = {
	[ST_UINT] = "an integer",
	[ST_U64] = "an integer",
	[ST_STR] = "a string",
	[ST_ENUM] = "a word",
	[ST_DUR] = "a duration",
	[ST_RATE] = "a rate",
	[ST_PCT] = "a percentage",
	[ST_IPV4] = "an IPv4 address",
	[ST_SIZE] = "a size",
	[ST_SECTION] = "a mapping",
	[ST_LIST] = "a list of mappings",
};

static int
want(struct scn_parser *p, const struct skey *k, const char *fpath, yaml_event_type_t type)
{
	if (p->ev.type == type)
		return 0;
	return perr(p, ev_line(p), "%s: expected %s, got %s", fpath, type_what[k->type],
		    ev_kind(&p->ev));
}

/* The current scalar as a plain, non-empty token, or an error naming what
 * was expected. */
static int
plain_scalar(struct scn_parser *p, const struct skey *k, const char *fpath, const char *like)
{
	int rc;

	if ((rc = want(p, k, fpath, YAML_SCALAR_EVENT)) != 0)
		return rc;
	if (!sc_plain(p) || sc_len(p) == 0)
		return perr(p, ev_line(p), "%s: expected %s like %s, got %s", fpath,
			    type_what[k->type], like, sc_len(p) == 0 ? "an empty value" :
			    "a quoted string");
	return 0;
}

static void
store_uint(char *field, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (size) {
	case 1:
		memcpy(field, &u8, 1);
		break;
	case 2:
		memcpy(field, &u16, 2);
		break;
	case 4:
		memcpy(field, &u32, 4);
		break;
	default:
		memcpy(field, &v, 8);
		break;
	}
}

static uint64_t
load_uint(const char *field, size_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (size) {
	case 1:
		memcpy(&u8, field, 1);
		return u8;
	case 2:
		memcpy(&u16, field, 2);
		return u16;
	case 4:
		memcpy(&u32, field, 4);
		return u32;
	default:
		memcpy(&u64, field, 8);
		return u64;
	}
}

static int
set_uint(struct scn_parser *p, const struct skey *k, char *base, const char *fpath)
{
	char sh[SCN_SHOW_MAX + 4];
	const char *s;
	uint64_t v = 0;
	size_t n;
	int rc;

	if ((rc = plain_scalar(p, k, fpath, "42")) != 0)
		return rc;
	s = sc_text(p);
	n = sc_len(p);
	rc = (n > 1 && s[0] == '-') ? parse_u64(s + 1, n - 1, &v) : parse_u64(s, n, &v);
	if (rc == -EINVAL)
		return perr(p, ev_line(p), "%s: expected an integer in %" PRIu64 "..%" PRIu64
			    ", got '%s'", fpath, k->min, k->max, shown(s, n, sh));
	if (rc == -ERANGE || s[0] == '-' || v < k->min || v > k->max)
		return perr(p, ev_line(p), "%s: %s is out of range %" PRIu64 "..%" PRIu64, fpath,
			    shown(s, n, sh), k->min, k->max);
	store_uint(base + k->off, k->size, v);
	return 0;
}

/* ST_DUR, ST_RATE, ST_PCT: decimal text with a unit to an integer. */
static int
set_scaled(struct scn_parser *p, const struct skey *k, char *base, const char *fpath)
{
	char sh[SCN_SHOW_MAX + 4], lo[40], hi[40];
	const char *s, *like;
	uint64_t v = 0;
	size_t n;
	int rc;

	like = k->type == ST_DUR ? "250ms, 1.5s or 2m" : k->type == ST_PCT ? "25% or 0.5%" :
	       "10 or 0.25";
	if ((rc = plain_scalar(p, k, fpath, like)) != 0)
		return rc;
	s = sc_text(p);
	n = sc_len(p);
	if (n > 1 && s[0] == '-' && s[1] >= '0' && s[1] <= '9')
		rc = -ERANGE;
	else if (k->type == ST_DUR)
		rc = parse_duration(s, n, &v);
	else if (k->type == ST_PCT)
		rc = (n > 1 && s[n - 1] == '%') ? parse_scaled(s, n - 1, 10000, 4, &v) : -ENOMSG;
	else
		rc = parse_scaled(s, n, 1000, 3, &v);
	if (rc == 0 && (v < k->min || v > k->max))
		rc = -ERANGE;
	switch (rc) {
	case 0:
		break;
	case -ERANGE:
		if (k->type == ST_DUR)
			return perr(p, ev_line(p), "%s: %s is out of range %s..%s", fpath,
				    shown(s, n, sh), format_duration(k->min, lo),
				    format_duration(k->max, hi));
		return perr(p, ev_line(p), "%s: %s is out of range %s..%s", fpath, shown(s, n, sh),
			    k->type == ST_PCT ? format_fixed(k->min, 10000, 4, "%", lo) :
			    format_fixed(k->min, 1000, 3, "", lo),
			    k->type == ST_PCT ? format_fixed(k->max, 10000, 4, "%", hi) :
			    format_fixed(k->max, 1000, 3, "", hi));
	case -ENOMSG:
		if (k->type == ST_DUR)
			return perr(p, ev_line(p), "%s: '%s' has no unit (ns, us, ms, s, m, h)",
				    fpath, shown(s, n, sh));
		return perr(p, ev_line(p), "%s: '%s' has no '%%' sign (write e.g. 25%%)", fpath,
			    shown(s, n, sh));
	case -E2BIG:
		return perr(p, ev_line(p), "%s: '%s' is more precise than %s", fpath,
			    shown(s, n, sh), k->type == ST_DUR ? "1 ns" :
			    k->type == ST_PCT ? "4 decimals" : "3 decimals");
	default:
		return perr(p, ev_line(p), "%s: expected %s like %s, got '%s'", fpath,
			    type_what[k->type], like, shown(s, n, sh));
	}
	store_uint(base + k->off, k->size, v);
	return 0;
}

static int
set_str(struct scn_parser *p, const struct skey *k, char *base, const char *fpath)
{
	char *dst = base + k->off, sh[SCN_SHOW_MAX + 4];
	const char *why;
	size_t n;
	int rc;

	if ((rc = want(p, k, fpath, YAML_SCALAR_EVENT)) != 0)
		return rc;
	n = ev_is_null(p) ? 0 : sc_len(p);
	if (n >= k->size)
		return perr(p, ev_line(p), "%s: string is too long (%zu bytes, at most %zu)",
			    fpath, n, k->size - 1);
	if (memchr(sc_text(p), '\0', n) != NULL)
		return perr(p, ev_line(p), "%s: string contains a NUL byte", fpath);
	memset(dst, 0, k->size);
	memcpy(dst, sc_text(p), n);
	if (k->check != NULL && (why = k->check(dst)) != NULL)
		return perr(p, ev_line(p), "%s: '%s' %s", fpath, shown(dst, n, sh), why);
	return 0;
}

static int
set_enum(struct scn_parser *p, const struct skey *k, char *base, const char *fpath)
{
	char sh[SCN_SHOW_MAX + 4], list[128];
	size_t used = 0;
	unsigned int i;
	int rc;

	if ((rc = want(p, k, fpath, YAML_SCALAR_EVENT)) != 0)
		return rc;
	for (i = 0; k->words[i] != NULL; i++) {
		if (sc_len(p) == strlen(k->words[i]) &&
		    memcmp(sc_text(p), k->words[i], sc_len(p)) == 0) {
			store_uint(base + k->off, k->size, i);
			return 0;
		}
	}
	list[0] = '\0';
	for (i = 0; k->words[i] != NULL && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
					 i > 0 ? ", " : "", k->words[i]);
	return perr(p, ev_line(p), "%s: '%s' is not one of %s", fpath,
		    shown(sc_text(p), sc_len(p), sh), list);
}

static int
set_ipv4(struct scn_parser *p, const struct skey *k, char *base, const char *fpath)
{
	char sh[SCN_SHOW_MAX + 4];
	uint32_t a;
	int rc;

	if ((rc = plain_scalar(p, k, fpath, "192.0.2.1")) != 0)
		return rc;
	if (parse_ipv4(sc_text(p), sc_len(p), &a) != 0)
		return perr(p, ev_line(p), "%s: '%s' is not an IPv4 address", fpath,
			    shown(sc_text(p), sc_len(p), sh));
	memcpy(base + k->off, &a, sizeof(a));
	return 0;
}

static int
set_list(struct scn_parser *p, const struct skey *k, char *base, size_t abs, const char *fpath)
{
	size_t max = k->size / k->elem, off;
	char ipath[128];
	unsigned int n = 0;
	int rc;

	memset(base + k->off, 0, k->size);
	memcpy(base + k->aux, &n, sizeof(n));
	if (ev_is_null(p))
		return 0;
	if ((rc = want(p, k, fpath, YAML_SEQUENCE_START_EVENT)) != 0)
		return rc;
	for (;;) {
		if ((rc = next_event(p)) != 0)
			return rc;
		if (p->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		if (n == max)
			return perr(p, ev_line(p), "%s: too many items (at most %zu)", fpath, max);
		snprintf(ipath, sizeof(ipath), "%s[%u]", fpath, n);
		if (p->ev.type != YAML_MAPPING_START_EVENT)
			return perr(p, ev_line(p), "%s: expected a mapping, got %s", ipath,
				    ev_kind(&p->ev));
		off = k->off + n * k->elem;
		if (k->sub->init != NULL)
			k->sub->init(base + off);
		record_line(p, abs + off, k->elem, ev_line(p));
		n++;
		memcpy(base + k->aux, &n, sizeof(n));
		if ((rc = walk_mapping(p, k->sub, base + off, abs + off, ipath)) != 0)
			return rc;
	}
}

/* "64" (fixed), "64..512" (uniform), or a list of {bytes, weight}. */
static int
set_size(struct scn_parser *p, const struct skey *k, char *base, size_t abs, const char *fpath)
{
	static const struct skey entries_key = {
		.name = "size", .type = ST_LIST, .off = offsetof(struct wg_scn_size, entries),
		.size = FIELD_SIZE(struct wg_scn_size, entries),
		.elem = sizeof(struct wg_scn_size_entry),
		.aux = offsetof(struct wg_scn_size, n_entries), .sub = &size_entry_section,
	};
	struct wg_scn_size *sz = (struct wg_scn_size *)(void *)(base + k->off);
	char sh[SCN_SHOW_MAX + 4];
	const char *s, *dots;
	uint64_t lo, hi;
	size_t n;
	int rc;

	if (p->ev.type == YAML_SEQUENCE_START_EVENT) {
		memset(sz, 0, sizeof(*sz));
		sz->kind = WG_SCN_SIZE_WEIGHTED;
		if ((rc = set_list(p, &entries_key, (char *)sz, abs + k->off, fpath)) != 0)
			return rc;
		if (sz->n_entries == 0)
			return perr(p, ev_line(p), "%s: a weighted size list needs at least one entry",
				    fpath);
		return 0;
	}
	if ((rc = plain_scalar(p, k, fpath, "64, 64..512 or [{bytes: 64, weight: 3}]")) != 0)
		return rc;
	s = sc_text(p);
	n = sc_len(p);
	dots = n >= 2 ? strstr(s, "..") : NULL;
	if (dots != NULL) {
		if (parse_u64(s, (size_t)(dots - s), &lo) != 0 ||
		    parse_u64(dots + 2, n - (size_t)(dots - s) - 2, &hi) != 0)
			return perr(p, ev_line(p), "%s: '%s' is not a size range like 64..512",
				    fpath, shown(s, n, sh));
	} else {
		rc = parse_u64(s, n, &lo);
		if (rc == -EINVAL)
			return perr(p, ev_line(p), "%s: expected a size like 64, 64..512 or a "
				    "weighted list, got '%s'", fpath, shown(s, n, sh));
		if (rc == -ERANGE)
			lo = UINT64_MAX;
		hi = lo;
	}
	if (lo < 1 || hi > WG_SCN_MSG_MAX || lo > WG_SCN_MSG_MAX)
		return perr(p, ev_line(p), "%s: %s is out of range 1..%u bytes", fpath,
			    shown(s, n, sh), WG_SCN_MSG_MAX);
	if (lo > hi)
		return perr(p, ev_line(p), "%s: range %s is empty (low end above high end)", fpath,
			    shown(s, n, sh));
	memset(sz, 0, sizeof(*sz));
	sz->kind = dots != NULL ? WG_SCN_SIZE_UNIFORM : WG_SCN_SIZE_FIXED;
	sz->lo = (uint32_t)lo;
	sz->hi = (uint32_t)hi;
	return 0;
}

static const char *
where(const char *path, char *buf, size_t len)
{
	if (path[0] == '\0')
		return "at top level";
	snprintf(buf, len, "in '%s'", path);
	return buf;
}

static int
walk_mapping(struct scn_parser *p, const struct scn_section *sec, char *base, size_t abs,
	     const char *path)
{
	size_t seen[SCN_SECTION_MAX_KEYS] = { 0 };
	char sh[SCN_SHOW_MAX + 4], wh[160], fpath[128], kn[64];
	const struct skey *k;
	const char *name;
	size_t line;
	unsigned int i;
	int rc;

	for (;;) {
		if ((rc = next_event(p)) != 0)
			return rc;
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		line = ev_line(p);
		if (p->ev.type != YAML_SCALAR_EVENT)
			return perr(p, line, "expected a key %s, got %s", where(path, wh, sizeof(wh)),
				    ev_kind(&p->ev));
		for (i = 0, k = NULL; i < sec->n_keys; i++) {
			name = key_name(&sec->keys[i], kn);
			if (sc_len(p) == strlen(name) && memcmp(sc_text(p), name, sc_len(p)) == 0) {
				k = &sec->keys[i];
				break;
			}
		}
		if (k == NULL)
			return perr(p, line, "unknown key '%s' %s", shown(sc_text(p), sc_len(p), sh),
				    where(path, wh, sizeof(wh)));
		name = key_name(k, kn);
		if (seen[i] != 0)
			return perr(p, line, "duplicate key '%s' %s (first at line %zu)", name,
				    where(path, wh, sizeof(wh)), seen[i]);
		seen[i] = line;
		record_line(p, abs + k->off, k->size, line);
		snprintf(fpath, sizeof(fpath), "%s%s%s", path, path[0] ? "." : "", name);
		if ((rc = next_event(p)) != 0)
			return rc;
		if ((rc = set_value(p, k, base, abs, fpath)) != 0)
			return rc;
	}
}

static int
set_value(struct scn_parser *p, const struct skey *k, char *base, size_t abs, const char *fpath)
{
	int rc;

	switch (k->type) {
	case ST_UINT:
		return set_uint(p, k, base, fpath);
	case ST_U64:
		return set_uint(p, k, base, fpath);
	case ST_STR:
		return set_str(p, k, base, fpath);
	case ST_ENUM:
		return set_enum(p, k, base, fpath);
	case ST_DUR:
	case ST_RATE:
	case ST_PCT:
		return set_scaled(p, k, base, fpath);
	case ST_IPV4:
		return set_ipv4(p, k, base, fpath);
	case ST_SIZE:
		return set_size(p, k, base, abs, fpath);
	case ST_SECTION:
		if (ev_is_null(p))
			return 0;
		if ((rc = want(p, k, fpath, YAML_MAPPING_START_EVENT)) != 0)
			return rc;
		return walk_mapping(p, k->sub, base + k->off, abs + k->off, fpath);
	case ST_LIST:
		return set_list(p, k, base, abs, fpath);
	default:
		return perr(p, ev_line(p), "%s: internal error: key type %d", fpath, k->type);
	}
}

static int
check_syntax(struct scn_parser *p)
{
	unsigned int depth = 0;
	yaml_event_type_t type;
	size_t line;

	do {
		if (!yaml_parser_parse(&p->yp, &p->ev))
			return yaml_error(p);
		type = p->ev.type;
		line = p->ev.start_mark.line + 1;
		yaml_event_delete(&p->ev);
		if (type == YAML_SEQUENCE_START_EVENT || type == YAML_MAPPING_START_EVENT) {
			if (++depth > SCN_MAX_DEPTH)
				return perr(p, line, "nesting is deeper than %d levels",
					    SCN_MAX_DEPTH);
		} else if (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT) {
			depth--;
		}
	} while (type != YAML_STREAM_END_EVENT);
	return 0;
}

static int
parse_stream(struct scn_parser *p)
{
	int rc;

	if ((rc = next_event(p)) != 0)
		return rc;
	if (p->ev.type != YAML_STREAM_START_EVENT)
		return perr(p, ev_line(p), "unexpected YAML event at stream start");
	if ((rc = next_event(p)) != 0)
		return rc;
	if (p->ev.type == YAML_STREAM_END_EVENT)
		return 0;
	if (p->ev.type != YAML_DOCUMENT_START_EVENT)
		return perr(p, ev_line(p), "unexpected YAML event at document start");
	if ((rc = next_event(p)) != 0)
		return rc;
	if (p->ev.type == YAML_MAPPING_START_EVENT) {
		if ((rc = walk_mapping(p, &top_section, (char *)&p->s, 0, "")) != 0)
			return rc;
	} else if (!ev_is_null(p)) {
		return perr(p, ev_line(p), "expected a mapping at top level, got %s",
			    ev_kind(&p->ev));
	}
	if ((rc = next_event(p)) != 0)
		return rc;
	if (p->ev.type != YAML_DOCUMENT_END_EVENT)
		return perr(p, ev_line(p), "unexpected YAML event at document end");
	if ((rc = next_event(p)) != 0)
		return rc;
	if (p->ev.type == YAML_DOCUMENT_START_EVENT)
		return perr(p, ev_line(p), "only one YAML document is allowed");
	if (p->ev.type != YAML_STREAM_END_EVENT)
		return perr(p, ev_line(p), "unexpected YAML event at stream end");
	return 0;
}

static void
copy_trunc(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	memset(dst + n, 0, size - n);
}

int
wg_scn_parse_string(struct wg_scenario *s, const char *name, const char *buf, size_t len,
		    char *err, size_t errlen)
{
	struct scn_parser *p;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (name == NULL)
		name = "scenario";
	if (s == NULL || (buf == NULL && len > 0))
		return scn_err(err, errlen, name, 0, "invalid arguments");
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		scn_err(err, errlen, name, 0, "out of memory");
		return -ENOMEM;
	}
	p->name = name;
	p->buf = buf != NULL ? buf : "";
	p->len = len;
	p->err = err;
	p->errlen = errlen;
	memcpy(&p->s, s, sizeof(*s));
	copy_trunc(p->s.path, sizeof(p->s.path), name);
	memset(p->s.lines, 0, sizeof(p->s.lines));
	p->s.n_lines = 0;

	if (!yaml_parser_initialize(&p->yp))
		goto nomem;
	yaml_parser_set_input_string(&p->yp, (const unsigned char *)p->buf, len);
	rc = check_syntax(p);
	yaml_parser_delete(&p->yp);
	if (rc != 0)
		goto out;
	if (!yaml_parser_initialize(&p->yp))
		goto nomem;
	yaml_parser_set_input_string(&p->yp, (const unsigned char *)p->buf, len);
	rc = parse_stream(p);
	if (p->have_ev)
		yaml_event_delete(&p->ev);
	yaml_parser_delete(&p->yp);
	if (rc == 0)
		memcpy(s, &p->s, sizeof(*s));
out:
	free(p);
	return rc;
nomem:
	scn_err(err, errlen, name, 0, "out of memory");
	free(p);
	return -ENOMEM;
}

/* ------------------------------------------------------------ templates */

/* Walks a template; with out == NULL only checks it. Returns the expanded
 * length, -EINVAL with *why set, or -ENOSPC. */
static int
expand(const char *t, uint64_t id, char *out, size_t cap, const char **why)
{
	char num[32];
	size_t o = 0, n;
	int width;

	*why = NULL;
	while (*t != '\0') {
		if (t[0] == '{' && t[1] == '{') {
			n = 1;
			memcpy(num, "{", 2);
			t += 2;
		} else if (t[0] == '}' && t[1] == '}') {
			n = 1;
			memcpy(num, "}", 2);
			t += 2;
		} else if (t[0] == '}') {
			*why = "has an unmatched '}' (write '}}' for a brace)";
			return -EINVAL;
		} else if (t[0] == '{') {
			width = 0;
			if (strncmp(t, "{id}", 4) == 0) {
				t += 4;
			} else if (strncmp(t, "{id:", 4) == 0 && t[4] >= '1' && t[4] <= '9' &&
				   (t[5] == '}' || (t[5] >= '0' && t[5] <= '9' && t[6] == '}'))) {
				width = t[4] - '0';
				if (t[5] != '}')
					width = width * 10 + (t[5] - '0');
				if (width > 20) {
					*why = "pads {id:N} to more than 20 digits";
					return -EINVAL;
				}
				t += t[5] == '}' ? 6 : 7;
			} else {
				*why = "has an unknown placeholder (only {id} and {id:N}; "
				       "'{{' for a brace)";
				return -EINVAL;
			}
			n = (size_t)snprintf(num, sizeof(num), "%0*" PRIu64, width, id);
		} else {
			num[0] = *t++;
			num[1] = '\0';
			n = 1;
		}
		if (out != NULL) {
			if (o + n >= cap)
				return -ENOSPC;
			memcpy(out + o, num, n);
		}
		o += n;
	}
	if (out != NULL)
		out[o] = '\0';
	return (int)o;
}

static const char *
check_template(const char *s)
{
	const char *why;
	const char *c;

	for (c = s; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "has a control character";
	if (expand(s, 0, NULL, 0, &why) < 0)
		return why;
	return NULL;
}

int
wg_scn_expand(const char *tmpl, uint64_t id, char *out, size_t cap)
{
	const char *why;

	if (tmpl == NULL || out == NULL || cap == 0)
		return -EINVAL;
	return expand(tmpl, id, out, cap, &why);
}

/* ----------------------------------------------------------- sizes */

uint32_t
wg_scn_size_pick(const struct wg_scn_size *sz, uint64_t r)
{
	uint64_t total = 0, x;
	unsigned int i;

	switch (sz->kind) {
	case WG_SCN_SIZE_UNIFORM:
		/* multiply-shift: unbiased enough for sizes, and no division */
		return sz->lo + (uint32_t)(((unsigned __int128)r * (sz->hi - sz->lo + 1ull)) >> 64);
	case WG_SCN_SIZE_WEIGHTED:
		for (i = 0; i < sz->n_entries; i++)
			total += sz->entries[i].weight;
		if (total == 0)
			return 0;
		x = (uint64_t)(((unsigned __int128)r * total) >> 64);
		for (i = 0; i < sz->n_entries; i++) {
			if (x < sz->entries[i].weight)
				return sz->entries[i].bytes;
			x -= sz->entries[i].weight;
		}
		return sz->entries[sz->n_entries - 1].bytes;
	default:
		return sz->lo;
	}
}

double
wg_scn_size_mean(const struct wg_scn_size *sz)
{
	double sum = 0, w = 0;
	unsigned int i;

	switch (sz->kind) {
	case WG_SCN_SIZE_UNIFORM:
		return ((double)sz->lo + (double)sz->hi) / 2.0;
	case WG_SCN_SIZE_WEIGHTED:
		for (i = 0; i < sz->n_entries; i++) {
			sum += (double)sz->entries[i].bytes * sz->entries[i].weight;
			w += sz->entries[i].weight;
		}
		return w > 0 ? sum / w : 0.0;
	default:
		return sz->lo;
	}
}

const char *
wg_scn_transport_name(unsigned int t)
{
	return t < ARRAY_SIZE(transport_words) - 1 ? transport_words[t] : "?";
}

const char *
wg_scn_action_name(unsigned int t)
{
	return t < ARRAY_SIZE(action_words) - 1 ? action_words[t] : "?";
}

/* ---------------------------------------------------------- validation */

struct scn_check {
	const struct wg_scenario *s;
	const char *name;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 3, 4)))
verr(const struct scn_check *v, size_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	scn_verr(v->err, v->errlen, v->name, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Line a field was read from, 0 when it was not given. */
static size_t
line_of(const struct scn_check *v, size_t off, size_t len)
{
	unsigned int i;

	for (i = 0; i < v->s->n_lines && i < WG_SCN_MAX_LINES; i++)
		if (v->s->lines[i].off == off && v->s->lines[i].len == len)
			return v->s->lines[i].line;
	return 0;
}

#define LINE(v, f) line_of(v, offsetof(struct wg_scenario, f), FIELD_SIZE(struct wg_scenario, f))

static size_t
phase_off(unsigned int i)
{
	return offsetof(struct wg_scenario, phases) + i * sizeof(struct wg_scn_phase);
}

static size_t
action_off(unsigned int i, unsigned int j)
{
	return phase_off(i) + offsetof(struct wg_scn_phase, actions) +
	       j * sizeof(struct wg_scn_action);
}

#define PH_LINE(v, i, f) line_of(v, phase_off(i) + offsetof(struct wg_scn_phase, f), \
				 FIELD_SIZE(struct wg_scn_phase, f))

/* The line of the key, or of the item when the key was not given. */
static size_t
key_line(const struct scn_check *v, size_t item_off, size_t item_len, size_t key_off,
	 size_t key_len)
{
	size_t l = line_of(v, item_off + key_off, key_len);

	return l != 0 ? l : line_of(v, item_off, item_len);
}

static int
check_action(const struct scn_check *v, unsigned int i, unsigned int j)
{
	const struct wg_scn_phase *ph = &v->s->phases[i];
	const struct wg_scn_action *a = &ph->actions[j];
	size_t aoff = action_off(i, j), alen = sizeof(*a), l;
	char kn[64];
	unsigned int k;
	bool closed = ph->mode == WG_SCN_CLOSED;

	if (line_of(v, aoff + offsetof(struct wg_scn_action, type), 1) == 0)
		return verr(v, line_of(v, aoff, alen),
			    "phases[%u].actions[%u]: 'type' is required (chat, echo, join, move, "
			    "idle or churn)", i, j);
	for (k = 0; k < ARRAY_SIZE(action_keys); k++) {
		const struct skey *key = &action_keys[k];

		if (key->applies == A_ANY || (key->applies & (1u << a->type)))
			continue;
		l = line_of(v, aoff + key->off, key->size);
		if (l != 0)
			return verr(v, l, "phases[%u].actions[%u].%s does not apply to a %s action",
				    i, j, key_name(key, kn), wg_scn_action_name(a->type));
	}
	if (a->type == WG_SCN_ACT_CHAT || a->type == WG_SCN_ACT_ECHO) {
		l = line_of(v, aoff + offsetof(struct wg_scn_action, rate_milli), 4);
		if (closed && l != 0)
			return verr(v, l, "phases[%u].actions[%u].rate: a closed-loop phase sends "
				    "one message per client at a time (pace it with think)", i, j);
		if (!closed && l == 0)
			return verr(v, line_of(v, aoff, alen),
				    "phases[%u].actions[%u]: an open-loop %s action needs a rate", i,
				    j, wg_scn_action_name(a->type));
	}
	if (a->type == WG_SCN_ACT_CHURN &&
	    line_of(v, aoff + offsetof(struct wg_scn_action, rate_milli), 4) == 0)
		return verr(v, line_of(v, aoff, alen),
			    "phases[%u].actions[%u]: a churn action needs a rate", i, j);
	if (a->type == WG_SCN_ACT_MOVE && closed)
		return verr(v, key_line(v, aoff, alen, 0, 1),
			    "phases[%u].actions[%u]: move streams are open loop (a fixed hz); "
			    "put them in an open phase", i, j);
	return 0;
}

static int
check_phase(const struct scn_check *v, unsigned int i)
{
	const struct wg_scn_phase *ph = &v->s->phases[i];
	unsigned int j, k;
	size_t l;
	int rc;

	if (PH_LINE(v, i, duration_ns) == 0)
		return verr(v, line_of(v, phase_off(i), sizeof(*ph)),
			    "phases[%u]: 'duration' is required", i);
	if (ph->mode == WG_SCN_OPEN && (l = PH_LINE(v, i, think_ns)) != 0)
		return verr(v, l, "phases[%u].think applies to closed-loop phases only "
			    "(mode: closed)", i);
	if (ph->n_actions == 0)
		return verr(v, line_of(v, phase_off(i), sizeof(*ph)),
			    "phases[%u]: at least one action is required", i);
	for (j = 0; j < ph->n_actions; j++)
		if ((rc = check_action(v, i, j)) != 0)
			return rc;
	for (j = 0; j < i; j++)
		if (ph->name[0] != '\0' && strcmp(v->s->phases[j].name, ph->name) == 0)
			return verr(v, PH_LINE(v, i, name),
				    "phases[%u].name '%s' is already used by phases[%u]", i,
				    ph->name, j);
	for (j = 0; j < ph->n_actions; j++)
		for (k = 0; k < j; k++)
			if (ph->actions[j].type == ph->actions[k].type)
				return verr(v, key_line(v, action_off(i, j),
							sizeof(struct wg_scn_action), 0, 1),
					    "phases[%u].actions[%u]: a second %s action (one per "
					    "type and phase; split the clients with 'clients')",
					    i, j, wg_scn_action_name(ph->actions[j].type));
	return 0;
}

int
wg_scn_validate(const struct wg_scenario *s, char *err, size_t errlen)
{
	struct scn_check v = { .s = s, .err = err, .errlen = errlen };
	const struct wg_scn_target *t;
	uint64_t total = 0;
	unsigned int i;
	bool tls;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (s == NULL)
		return scn_err(err, errlen, "scenario", 0, "invalid arguments");
	v.name = s->path[0] != '\0' && memchr(s->path, '\0', sizeof(s->path)) != NULL ?
		 s->path : "scenario";
	t = &s->target;
	tls = t->transport == WG_SCN_WSS || t->transport == WG_SCN_FRAMED_TLS;

	if (t->transport > WG_SCN_FRAMED_TLS)
		return verr(&v, LINE(&v, target.transport), "target.transport is invalid");
	if (t->port == 0)
		return verr(&v, LINE(&v, target), "target.port is required");
	if (!tls && t->sni[0] != '\0')
		return verr(&v, LINE(&v, target.sni), "target.sni needs a TLS transport "
			    "(wss or framed_tls), not %s", wg_scn_transport_name(t->transport));
	if ((t->transport == WG_SCN_FRAMED || t->transport == WG_SCN_FRAMED_TLS) &&
	    LINE(&v, target.path) != 0)
		return verr(&v, LINE(&v, target.path), "target.path applies to ws and wss only");
	if ((t->transport == WG_SCN_WS || t->transport == WG_SCN_WSS) && t->path[0] == '\0')
		return verr(&v, LINE(&v, target.path), "target.path must not be empty for %s",
			    wg_scn_transport_name(t->transport));

	if (s->login.token[0] != '\0' && (s->login.account[0] != '\0' ||
					  s->login.password[0] != '\0'))
		return verr(&v, LINE(&v, login.token), "login: token and account/password "
			    "exclude each other");
	if ((s->login.account[0] != '\0') != (s->login.password[0] != '\0'))
		return verr(&v, s->login.account[0] ? LINE(&v, login.account) :
			    LINE(&v, login.password), "login: account and password go together");

	if (s->n_phases == 0)
		return verr(&v, LINE(&v, phases), "at least one phase is required");
	for (i = 0; i < s->n_phases; i++) {
		if ((rc = check_phase(&v, i)) != 0)
			return rc;
		total += s->phases[i].duration_ns;
	}
	if (total > DUR_MAX)
		return verr(&v, LINE(&v, phases), "phases last longer than a week in total");
	if (s->report.json[0] != '\0' && strcmp(s->report.json, s->report.csv) == 0)
		return verr(&v, LINE(&v, report.csv), "report.csv and report.json are the same "
			    "file");
	return 0;
}

/* ---------------------------------------------------------------- load */

static int
read_file(const char *path, char **out, size_t *outlen, char *err, size_t errlen)
{
	size_t cap = 4096, len = 0, got;
	char *buf = NULL, *nbuf;
	FILE *f;
	int rc;

	errno = 0;
	f = fopen(path, "rb");
	if (f == NULL) {
		rc = errno != 0 ? -errno : -EIO;
		scn_err(err, errlen, path, 0, "cannot open: %s", strerror(-rc));
		return rc;
	}
	for (;;) {
		if (buf == NULL || len == cap) {
			if (buf != NULL)
				cap *= 2;
			nbuf = realloc(buf, cap);
			if (nbuf == NULL) {
				rc = -ENOMEM;
				scn_err(err, errlen, path, 0, "out of memory");
				goto err;
			}
			buf = nbuf;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (len > SCN_FILE_MAX) {
			rc = -EFBIG;
			scn_err(err, errlen, path, 0, "file is larger than %u bytes", SCN_FILE_MAX);
			goto err;
		}
		if (got == 0) {
			if (ferror(f)) {
				rc = -EIO;
				scn_err(err, errlen, path, 0, "cannot read");
				goto err;
			}
			break;
		}
	}
	fclose(f);
	*out = buf;
	*outlen = len;
	return 0;
err:
	free(buf);
	fclose(f);
	return rc;
}

int
wg_scn_load(struct wg_scenario *s, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (s == NULL || path == NULL)
		return scn_err(err, errlen, path ? path : "scenario", 0, "invalid arguments");
	wg_scn_defaults(s);
	copy_trunc(s->path, sizeof(s->path), path);
	if ((rc = read_file(path, &buf, &len, err, errlen)) != 0)
		goto out;
	if ((rc = wg_scn_parse_string(s, path, buf, len, err, errlen)) != 0)
		goto out;
	rc = wg_scn_validate(s, err, errlen);
out:
	free(buf);
	return rc;
}

/* ---------------------------------------------------------------- dump */

/* Double-quoted YAML that reads back byte for byte (input is valid UTF-8:
 * libyaml checked it on the way in; line breaks beyond \n are escaped). */
static void
dump_quoted(FILE *f, const char *s, size_t size)
{
	const unsigned char *u = (const unsigned char *)s;
	const unsigned char *end = memchr(s, '\0', size);
	size_t left;

	if (end == NULL)
		end = u + size;
	fputc('"', f);
	for (; u < end; u++) {
		left = (size_t)(end - u);
		if (*u == '"' || *u == '\\') {
			fprintf(f, "\\%c", *u);
		} else if (*u < 0x20 || *u == 0x7f) {
			fprintf(f, "\\x%02x", *u);
		} else if (left >= 2 && u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f) {
			fprintf(f, "\\x%02x", u[1]);
			u++;
		} else if (left >= 3 && u[0] == 0xe2 && u[1] == 0x80 &&
			   (u[2] == 0xa8 || u[2] == 0xa9)) {
			fputs(u[2] == 0xa8 ? "\\L" : "\\P", f);
			u += 2;
		} else if (left >= 3 && u[0] == 0xef &&
			   ((u[1] == 0xbb && u[2] == 0xbf) ||
			    (u[1] == 0xbf && (u[2] == 0xbe || u[2] == 0xbf)))) {
			fprintf(f, "\\u%04X", 0xf000u | (unsigned int)(u[1] & 0x3f) << 6 |
				(u[2] & 0x3fu));
			u += 2;
		} else {
			fputc(*u, f);
		}
	}
	fputc('"', f);
}

static void dump_section(FILE *f, const struct scn_section *sec, const char *base, int indent,
			 bool dash, unsigned int action_type);

static void
dump_value(FILE *f, const struct skey *k, const char *base, int indent)
{
	const char *field = base + k->off;
	const struct wg_scn_size *sz;
	char num[40];
	unsigned int n, i;
	uint8_t b[4];

	switch (k->type) {
	case ST_UINT:
	case ST_U64:
		fprintf(f, " %" PRIu64 "\n", load_uint(field, k->size));
		break;
	case ST_STR:
		fputc(' ', f);
		dump_quoted(f, field, k->size);
		fputc('\n', f);
		break;
	case ST_ENUM:
		n = (unsigned int)load_uint(field, k->size);
		for (i = 0; k->words[i] != NULL && i < n; i++)
			;
		fprintf(f, " %s\n", k->words[i] != NULL ? k->words[i] : "~");
		break;
	case ST_DUR:
		fprintf(f, " %s\n", format_duration(load_uint(field, k->size), num));
		break;
	case ST_RATE:
		fprintf(f, " %s\n", format_fixed(load_uint(field, k->size), 1000, 3, "", num));
		break;
	case ST_PCT:
		fprintf(f, " %s\n", format_fixed(load_uint(field, k->size), 10000, 4, "%", num));
		break;
	case ST_IPV4:
		memcpy(b, field, 4);
		fprintf(f, " %u.%u.%u.%u\n", b[0], b[1], b[2], b[3]);
		break;
	case ST_SIZE:
		sz = (const struct wg_scn_size *)(const void *)field;
		if (sz->kind == WG_SCN_SIZE_UNIFORM) {
			fprintf(f, " %u..%u\n", sz->lo, sz->hi);
		} else if (sz->kind == WG_SCN_SIZE_WEIGHTED) {
			fputs(" [", f);
			for (i = 0; i < sz->n_entries && i < WG_SCN_MAX_SIZES; i++)
				fprintf(f, "%s{bytes: %u, weight: %u}", i ? ", " : "",
					sz->entries[i].bytes, sz->entries[i].weight);
			fputs("]\n", f);
		} else {
			fprintf(f, " %u\n", sz->lo);
		}
		break;
	case ST_SECTION:
		fputc('\n', f);
		dump_section(f, k->sub, field, indent + 2, false, 0);
		break;
	case ST_LIST:
		memcpy(&n, base + k->aux, sizeof(n));
		if (n > k->size / k->elem)
			n = (unsigned int)(k->size / k->elem);
		fputs(n == 0 ? " []\n" : "\n", f);
		for (i = 0; i < n; i++) {
			const char *item = field + i * k->elem;

			dump_section(f, k->sub, item, indent + 4, true,
				     k->sub == &action_section ?
				     ((const struct wg_scn_action *)(const void *)item)->type : 0);
		}
		break;
	default:
		fputs(" ~\n", f);
		break;
	}
}

/* Keys validation would refuse are left out, so a valid scenario dumps to
 * a valid file: an action's keys for other types, think in an open phase,
 * path on framed. */
static bool
dump_omits(const struct scn_section *sec, const struct skey *k, const char *base,
	   unsigned int action_type)
{
	if (sec == &action_section)
		return k->applies != A_ANY && !(k->applies & (1u << action_type));
	if (sec == &phase_section && k->off == offsetof(struct wg_scn_phase, think_ns))
		return ((const struct wg_scn_phase *)(const void *)base)->mode == WG_SCN_OPEN;
	if (sec == &target_section && k->off == offsetof(struct wg_scn_target, path)) {
		uint8_t t = ((const struct wg_scn_target *)(const void *)base)->transport;

		return t == WG_SCN_FRAMED || t == WG_SCN_FRAMED_TLS;
	}
	return false;
}

static void
dump_section(FILE *f, const struct scn_section *sec, const char *base, int indent, bool dash,
	     unsigned int action_type)
{
	char kn[64];
	unsigned int i;

	for (i = 0; i < sec->n_keys; i++) {
		const struct skey *k = &sec->keys[i];

		if (dump_omits(sec, k, base, action_type))
			continue;
		if (sec == &action_section && k->type == ST_RATE) {
			const struct wg_scn_action *a = (const void *)base;

			/* an unset rate is "not given", not "0" (which is out of range) */
			if (a->rate_milli == 0)
				continue;
		}
		if (dash)
			fprintf(f, "%*s- %s:", indent - 2, "", key_name(k, kn));
		else
			fprintf(f, "%*s%s:", indent, "", key_name(k, kn));
		dash = false;
		dump_value(f, k, base, indent);
	}
	if (dash)
		fprintf(f, "%*s- {}\n", indent - 2, "");
}

void
wg_scn_dump(FILE *f, const struct wg_scenario *s)
{
	char path[WG_SCN_STR_MAX];
	size_t i;

	for (i = 0; i < sizeof(path) - 1 && s->path[i] != '\0'; i++)
		path[i] = (s->path[i] >= 0x20 && s->path[i] < 0x7f) ? s->path[i] : '?';
	path[i] = '\0';
	fprintf(f, "# pktgen scenario (from %s)\n", path[0] != '\0' ? path : "defaults");
	dump_section(f, &top_section, (const char *)s, 0, false, 0);
}
