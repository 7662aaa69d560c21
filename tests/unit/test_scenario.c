/* SPDX-License-Identifier: BSD-3-Clause
 * pktgen scenarios: every key of a full file, defaults, the dump round
 * trip, the example files under configs/pktgen (argv[1] is the source
 * root), and bad files that must each fail with one exact message, line
 * included.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream */
#endif

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenario.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SCN_CMP_LEN offsetof(struct wg_scenario, lines)
#define MS 1000000ull
#define S 1000000000ull

static const char *src_root = ".";
static char err[WG_SCN_ERR_MAX];

static const char full_yaml[] =
	"name: full-test\n"                                 /* 1 */
	"seed: 18446744073709551615\n"
	"target:\n"
	"  address: 10.1.2.3\n"
	"  port: 8443\n"                                    /* 5 */
	"  transport: wss\n"
	"  path: /game/ws?v=2\n"
	"  sni: edge-1.example.test\n"
	"clients:\n"
	"  count: 100000\n"                                 /* 10 */
	"  connect_rate: 5000\n"
	"  ramp: 1.5s\n"
	"login:\n"
	"  token: \"t-{id:8}-{{x}}\"\n"
	"phases:\n"                                         /* 15 */
	"  - name: warm\n"
	"    duration: 2m\n"
	"    mode: closed\n"
	"    think: 250ms\n"
	"    timeout: 1500us\n"                             /* 20 */
	"    actions:\n"
	"      - type: echo\n"
	"        size: 64..512\n"
	"        clients: 12.5%\n"
	"  - name: main\n"                                  /* 25 */
	"    duration: 1h\n"
	"    actions:\n"
	"      - {type: chat, rate: 0.125, size: [{bytes: 10, weight: 1}, {bytes: 1000, weight: 3}]}\n"
	"      - type: move\n"
	"        hz: 20\n"                                  /* 30 */
	"        size: 24\n"
	"      - type: join\n"
	"        rooms: 64\n"
	"      - type: churn\n"
	"        rate: 3\n"                                 /* 35 */
	"        downtime: 0\n"
	"      - type: idle\n"
	"        clients: 0.0001%\n"
	"report:\n"
	"  json: /tmp/r.json\n"                             /* 40 */
	"  csv: series.csv\n"
	"  interval: 100ms\n";

static int
parse(struct wg_scenario *s, const char *text)
{
	wg_scn_defaults(s);
	return wg_scn_parse_string(s, "t", text, strlen(text), err, sizeof(err));
}

static void
test_full(void **state)
{
	static struct wg_scenario s;
	const struct wg_scn_phase *ph;
	const struct wg_scn_action *a;
	const uint8_t ip[4] = { 10, 1, 2, 3 };

	(void)state;
	assert_int_equal(parse(&s, full_yaml), 0);
	assert_int_equal(wg_scn_validate(&s, err, sizeof(err)), 0);
	assert_string_equal(s.name, "full-test");
	assert_true(s.seed == UINT64_MAX);
	assert_memory_equal(&s.target.address, ip, 4);
	assert_int_equal(s.target.port, 8443);
	assert_int_equal(s.target.transport, WG_SCN_WSS);
	assert_string_equal(s.target.path, "/game/ws?v=2");
	assert_string_equal(s.target.sni, "edge-1.example.test");
	assert_int_equal(s.clients.count, 100000);
	assert_int_equal(s.clients.connect_rate, 5000);
	assert_int_equal(s.clients.ramp_ns, 1500 * MS);
	assert_string_equal(s.login.token, "t-{id:8}-{{x}}");
	assert_int_equal(s.n_phases, 2);

	ph = &s.phases[0];
	assert_string_equal(ph->name, "warm");
	assert_int_equal(ph->duration_ns, 120 * S);
	assert_int_equal(ph->mode, WG_SCN_CLOSED);
	assert_int_equal(ph->think_ns, 250 * MS);
	assert_int_equal(ph->timeout_ns, 1500000);
	assert_int_equal(ph->n_actions, 1);
	a = &ph->actions[0];
	assert_int_equal(a->type, WG_SCN_ACT_ECHO);
	assert_int_equal(a->size.kind, WG_SCN_SIZE_UNIFORM);
	assert_int_equal(a->size.lo, 64);
	assert_int_equal(a->size.hi, 512);
	assert_int_equal(a->clients_ppm, 125000);
	assert_int_equal(a->rate_milli, 0);

	ph = &s.phases[1];
	assert_int_equal(ph->duration_ns, 3600 * S);
	assert_int_equal(ph->mode, WG_SCN_OPEN);
	assert_int_equal(ph->timeout_ns, 10 * S);          /* default */
	assert_int_equal(ph->n_actions, 5);
	a = &ph->actions[0];
	assert_int_equal(a->type, WG_SCN_ACT_CHAT);
	assert_int_equal(a->rate_milli, 125);
	assert_int_equal(a->clients_ppm, 1000000);         /* default */
	assert_int_equal(a->size.kind, WG_SCN_SIZE_WEIGHTED);
	assert_int_equal(a->size.n_entries, 2);
	assert_int_equal(a->size.entries[0].bytes, 10);
	assert_int_equal(a->size.entries[0].weight, 1);
	assert_int_equal(a->size.entries[1].bytes, 1000);
	assert_int_equal(a->size.entries[1].weight, 3);
	a = &ph->actions[1];
	assert_int_equal(a->type, WG_SCN_ACT_MOVE);
	assert_int_equal(a->hz, 20);
	assert_int_equal(a->size.kind, WG_SCN_SIZE_FIXED);
	assert_int_equal(a->size.lo, 24);
	a = &ph->actions[2];
	assert_int_equal(a->type, WG_SCN_ACT_JOIN);
	assert_int_equal(a->rooms, 64);
	a = &ph->actions[3];
	assert_int_equal(a->type, WG_SCN_ACT_CHURN);
	assert_int_equal(a->rate_milli, 3000);
	assert_int_equal(a->downtime_ns, 0);
	a = &ph->actions[4];
	assert_int_equal(a->type, WG_SCN_ACT_IDLE);
	assert_int_equal(a->clients_ppm, 1);

	assert_string_equal(s.report.json, "/tmp/r.json");
	assert_string_equal(s.report.csv, "series.csv");
	assert_int_equal(s.report.interval_ns, 100 * MS);
}

static void
test_defaults(void **state)
{
	static struct wg_scenario s, d;
	const uint8_t lo[4] = { 127, 0, 0, 1 };

	(void)state;
	wg_scn_defaults(&d);
	assert_memory_equal(&d.target.address, lo, 4);
	assert_int_equal(d.target.transport, WG_SCN_WS);
	assert_string_equal(d.target.path, "/");
	assert_int_equal(d.clients.count, 1);
	assert_int_equal(d.report.interval_ns, S);
	/* an empty document and a null one change nothing but the path */
	assert_int_equal(parse(&s, ""), 0);
	assert_memory_equal(s.name, d.name, sizeof(d.name));
	assert_memory_equal(&s.seed, &d.seed, SCN_CMP_LEN - offsetof(struct wg_scenario, seed));
	assert_int_equal(parse(&s, "~\n"), 0);
	assert_memory_equal(&s.seed, &d.seed, SCN_CMP_LEN - offsetof(struct wg_scenario, seed));
	/* ... and no phases is a validation error, at the key's line when given */
	assert_int_equal(wg_scn_validate(&s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t:0: target.port is required");
	assert_int_equal(parse(&s, "target: {port: 1}\nphases: []\n"), 0);
	assert_int_equal(wg_scn_validate(&s, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t:2: at least one phase is required");
}

static void
roundtrip(const struct wg_scenario *s)
{
	static struct wg_scenario back;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	wg_scn_dump(f, s);
	fclose(f);
	wg_scn_defaults(&back);
	if (wg_scn_parse_string(&back, s->path, text, len, err, sizeof(err)) != 0)
		fail_msg("dump does not parse: %s\n%s", err, text);
	assert_int_equal(wg_scn_validate(&back, err, sizeof(err)), 0);
	if (memcmp(&back, s, SCN_CMP_LEN) != 0)
		fail_msg("dump does not read back the same:\n%s", text);
	free(text);
}

static void
test_roundtrip(void **state)
{
	static struct wg_scenario s;

	(void)state;
	assert_int_equal(parse(&s, full_yaml), 0);
	roundtrip(&s);
	assert_int_equal(parse(&s, "target: {port: 9, transport: framed_tls}\n"
			       "phases: [{duration: 1s, actions: [{type: idle}]}]\n"), 0);
	assert_int_equal(wg_scn_validate(&s, err, sizeof(err)), 0);
	roundtrip(&s);
}

static void
load_example(struct wg_scenario *s, const char *file)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/configs/pktgen/%s", src_root, file);
	if (wg_scn_load(s, path, err, sizeof(err)) != 0)
		fail_msg("%s: %s", file, err);
	roundtrip(s);
}

static void
test_examples(void **state)
{
	static struct wg_scenario s;

	(void)state;
	load_example(&s, "chat.yaml");
	assert_int_equal(s.target.transport, WG_SCN_WSS);
	assert_int_equal(s.clients.ramp_ns, 5 * S);
	assert_int_equal(s.n_phases, 2);
	assert_int_equal(s.phases[1].actions[0].rate_milli, 500);
	assert_int_equal(s.phases[1].actions[0].size.n_entries, 3);
	assert_int_equal(s.phases[1].actions[2].downtime_ns, 500 * MS);
	load_example(&s, "echo.yaml");
	assert_int_equal(s.target.transport, WG_SCN_FRAMED);
	assert_int_equal(s.phases[1].mode, WG_SCN_CLOSED);
	assert_int_equal(s.phases[1].timeout_ns, 2 * S);
	load_example(&s, "move.yaml");
	assert_int_equal(s.phases[0].actions[1].hz, 20);
	assert_string_equal(s.login.password, "pw-{id}-{{x}}");

	/* a bad file names itself and the line, through load as through parse */
	{
		char path[] = "/tmp/test_scenario_XXXXXX", want[128];
		static const char text[] = "target:\n  port: 80\n  colour: blue\n";
		int fd = mkstemp(path);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
		close(fd);
		assert_int_equal(wg_scn_load(&s, path, err, sizeof(err)), -EINVAL);
		snprintf(want, sizeof(want), "%s:3: unknown key 'colour' in 'target'", path);
		assert_string_equal(err, want);
		unlink(path);
	}
	assert_int_equal(wg_scn_load(&s, "/nonexistent/x.yaml", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/x.yaml:0: cannot open: No such file or directory");
}

/* A minimal valid scenario around one line under test. */
#define HEAD "target: {port: 80}\n"
#define PH1 "phases:\n  - duration: 1s\n    actions:\n"

static const struct {
	const char *yaml;
	const char *msg;
	bool at_validate;               /* parses, fails validation */
} bad[] = {
	{ HEAD "nmae: x\n", "t:2: unknown key 'nmae' at top level" },
	{ HEAD "clients:\n  count: 5\n  count: 6\n",
	  "t:4: duplicate key 'count' in 'clients' (first at line 3)" },
	{ "target: {port: 70000}\n", "t:1: target.port: 70000 is out of range 1..65535" },
	{ "target: {port: -1}\n", "t:1: target.port: -1 is out of range 1..65535" },
	{ "target: {port: \"80\"}\n",
	  "t:1: target.port: expected an integer like 42, got a quoted string" },
	{ "target: {port: 0x50}\n", "t:1: target.port: expected an integer in 1..65535, got '0x50'" },
	{ "clients: [1, 2]\n", "t:1: clients: expected a mapping, got a sequence" },
	{ "target: {transport: tcp}\n",
	  "t:1: target.transport: 'tcp' is not one of ws, wss, framed, framed_tls" },
	{ "target: {path: game}\n", "t:1: target.path: 'game' must start with '/'" },
	{ "target: {address: 10.0.0.256}\n", "t:1: target.address: '10.0.0.256' is not an IPv4 address" },
	{ "target: {sni: bad_name}\n",
	  "t:1: target.sni: 'bad_name' is not a DNS name (letters, digits, '-', '.')" },
	{ "clients: {ramp: 10}\n", "t:1: clients.ramp: '10' has no unit (ns, us, ms, s, m, h)" },
	{ "clients: {ramp: 1.5ns}\n", "t:1: clients.ramp: '1.5ns' is more precise than 1 ns" },
	{ "clients: {ramp: 2h}\n", "t:1: clients.ramp: 2h is out of range 0..1h" },
	{ "report: {interval: 10ms}\n", "t:1: report.interval: 10ms is out of range 100ms..1h" },
	{ "login: {token: \"x{name}\"}\n", "t:1: login.token: 'x{name}' has an unknown placeholder "
	  "(only {id} and {id:N}; '{{' for a brace)" },
	{ "login: {token: \"x}\"}\n",
	  "t:1: login.token: 'x}' has an unmatched '}' (write '}}' for a brace)" },
	{ HEAD PH1 "      - {type: chat, rate: -2}\n",
	  "t:5: phases[0].actions[0].rate: -2 is out of range 0.001..1000000" },
	{ HEAD PH1 "      - {type: chat, rate: 0.0001}\n",
	  "t:5: phases[0].actions[0].rate: '0.0001' is more precise than 3 decimals" },
	{ HEAD PH1 "      - {type: echo, clients: 30}\n",
	  "t:5: phases[0].actions[0].clients: '30' has no '%' sign (write e.g. 25%)" },
	{ HEAD PH1 "      - {type: echo, clients: 0%}\n",
	  "t:5: phases[0].actions[0].clients: 0% is out of range 0.0001%..100%" },
	{ HEAD PH1 "      - {type: talk}\n",
	  "t:5: phases[0].actions[0].type: 'talk' is not one of chat, echo, join, move, idle, churn" },
	{ HEAD PH1 "      - {type: echo, rate: 1, size: 512..64}\n",
	  "t:5: phases[0].actions[0].size: range 512..64 is empty (low end above high end)" },
	{ HEAD PH1 "      - {type: echo, rate: 1, size: 0}\n",
	  "t:5: phases[0].actions[0].size: 0 is out of range 1..1048576 bytes" },
	{ HEAD PH1 "      - {type: echo, rate: 1, size: []}\n",
	  "t:5: phases[0].actions[0].size: a weighted size list needs at least one entry" },
	{ HEAD PH1 "      - type: echo\n        rate: 1\n        size:\n          - {bytes: 9, wieght: 1}\n",
	  "t:8: unknown key 'wieght' in 'phases[0].actions[0].size[0]'" },
	{ HEAD PH1 "      - {type: echo, rate: 1, size: big}\n",
	  "t:5: phases[0].actions[0].size: expected a size like 64, 64..512 or a weighted list, "
	  "got 'big'" },
	{ HEAD "phases:\n" "  - {duration: 1s, actions: [{type: idle}]}\n"
	  "  - {duration: 1s, actions: [{type: idle}]}\n" "  - {duration: 1s, actions: [{type: idle}]}\n"
	  "  - {duration: 1s, actions: [{type: idle}]}\n" "  - {duration: 1s, actions: [{type: idle}]}\n"
	  "  - {duration: 1s, actions: [{type: idle}]}\n" "  - {duration: 1s, actions: [{type: idle}]}\n"
	  "  - {duration: 1s, actions: [{type: idle}]}\n" "  - {duration: 1s, actions: [{type: idle}]}\n"
	  "  - {duration: 1s, actions: [{type: idle}]}\n" "  - {duration: 1s, actions: [{type: idle}]}\n"
	  "  - {duration: 1s, actions: [{type: idle}]}\n" "  - {duration: 1s, actions: [{type: idle}]}\n"
	  "  - {duration: 1s, actions: [{type: idle}]}\n" "  - {duration: 1s, actions: [{type: idle}]}\n"
	  "  - {duration: 1s, actions: [{type: idle}]}\n" "  - {duration: 1s, actions: [{type: idle}]}\n",
	  "t:19: phases: too many items (at most 16)" },
	{ "seed: &a 5\n", "t:1: anchors and aliases are not supported (anchor '&a')" },
	{ "seed: !!int 5\n", "t:1: tags are not supported (tag 'tag:yaml.org,2002:int')" },
	{ "target:\n  port: 80\n port: 81\n",
	  "t:3: YAML syntax error: did not find expected key (while parsing a block mapping at line 1)" },
	{ "a: 1\n---\nb: 2\n", "t:1: unknown key 'a' at top level" },
	{ "name: x\n---\nname: y\n", "t:2: only one YAML document is allowed" },
	{ "- 1\n", "t:1: expected a mapping at top level, got a sequence" },
	/* cross-field: they parse, validation names the line */
	{ HEAD "  \nphases:\n  - duration: 1s\n    actions:\n      - type: chat\n        rate: 1\n"
	  "        hz: 10\n", "t:8: phases[0].actions[0].hz does not apply to a chat action", true },
	{ HEAD "phases:\n  - duration: 1s\n    mode: closed\n    actions:\n      - type: echo\n"
	  "        rate: 5\n",
	  "t:7: phases[0].actions[0].rate: a closed-loop phase sends one message per client at a "
	  "time (pace it with think)", true },
	{ HEAD PH1 "      - type: chat\n",
	  "t:5: phases[0].actions[0]: an open-loop chat action needs a rate", true },
	{ HEAD PH1 "      - {rate: 1}\n",
	  "t:5: phases[0].actions[0]: 'type' is required (chat, echo, join, move, idle or churn)",
	  true },
	{ HEAD "phases:\n  - duration: 1s\n    think: 5ms\n    actions: [{type: idle}]\n",
	  "t:4: phases[0].think applies to closed-loop phases only (mode: closed)", true },
	{ HEAD "phases:\n  - name: a\n    actions: [{type: idle}]\n",
	  "t:3: phases[0]: 'duration' is required", true },
	{ HEAD "phases:\n  - duration: 1s\n", "t:3: phases[0]: at least one action is required", true },
	{ HEAD PH1 "      - {type: idle, clients: 50%}\n      - {type: idle, clients: 50%}\n",
	  "t:6: phases[0].actions[1]: a second idle action (one per type and phase; split the "
	  "clients with 'clients')", true },
	{ HEAD "phases:\n  - {name: x, duration: 1s, actions: [{type: idle}]}\n"
	  "  - {name: x, duration: 1s, actions: [{type: idle}]}\n",
	  "t:4: phases[1].name 'x' is already used by phases[0]", true },
	{ "target: {port: 80, sni: a.test}\n" "phases: [{duration: 1s, actions: [{type: idle}]}]\n",
	  "t:1: target.sni needs a TLS transport (wss or framed_tls), not ws", true },
	{ "target:\n  port: 80\n  transport: framed\n  path: /x\n"
	  "phases: [{duration: 1s, actions: [{type: idle}]}]\n",
	  "t:4: target.path applies to ws and wss only", true },
	{ HEAD "login:\n  token: a\n  account: b\n  password: c\n"
	  "phases: [{duration: 1s, actions: [{type: idle}]}]\n",
	  "t:3: login: token and account/password exclude each other", true },
	{ HEAD "login:\n  account: b\nphases: [{duration: 1s, actions: [{type: idle}]}]\n",
	  "t:3: login: account and password go together", true },
	{ HEAD "phases: [{duration: 1s, mode: closed, actions: [{type: move}]}]\n",
	  "t:2: phases[0].actions[0]: move streams are open loop (a fixed hz); put them in an open "
	  "phase", true },
	{ HEAD "phases: [{duration: 1s, actions: [{type: churn}]}]\n",
	  "t:2: phases[0].actions[0]: a churn action needs a rate", true },
	{ HEAD "report: {json: a, csv: a}\nphases: [{duration: 1s, actions: [{type: idle}]}]\n",
	  "t:2: report.csv and report.json are the same file", true },
};

static void
test_bad(void **state)
{
	static struct wg_scenario s, before;
	unsigned int i;
	int rc;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		wg_scn_defaults(&s);
		memcpy(&before, &s, sizeof(s));
		rc = wg_scn_parse_string(&s, "t", bad[i].yaml, strlen(bad[i].yaml), err,
					 sizeof(err));
		if (bad[i].at_validate) {
			if (rc != 0)
				fail_msg("bad[%u] does not parse: %s", i, err);
			rc = wg_scn_validate(&s, err, sizeof(err));
		} else if (rc == 0) {
			fail_msg("bad[%u] parses:\n%s", i, bad[i].yaml);
		} else if (memcmp(&s, &before, sizeof(s)) != 0) {
			fail_msg("bad[%u]: a failed parse changed the scenario", i);
		}
		if (rc != -EINVAL || strcmp(err, bad[i].msg) != 0)
			fail_msg("bad[%u]: rc %d\n  got  '%s'\n  want '%s'", i, rc, err, bad[i].msg);
	}
}

static void
test_expand(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(wg_scn_expand("bot{id}", 42, out, sizeof(out)), 5);
	assert_string_equal(out, "bot42");
	assert_int_equal(wg_scn_expand("t-{id:6}-{{}}", 42, out, sizeof(out)), 11);
	assert_string_equal(out, "t-000042-{}");
	assert_int_equal(wg_scn_expand("{id:20}", UINT64_MAX, out, sizeof(out)), 20);
	assert_string_equal(out, "18446744073709551615");
	/* the NUL must fit too */
	assert_int_equal(wg_scn_expand("{id}{id}", 1234, out, 9), 8);
	assert_string_equal(out, "12341234");
	assert_int_equal(wg_scn_expand("{id}{id}", 1234, out, 8), -ENOSPC);
	assert_int_equal(wg_scn_expand("{id:21}", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(wg_scn_expand("{id:0}", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(wg_scn_expand("{ID}", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(wg_scn_expand("", 1, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void
test_size_pick(void **state)
{
	struct wg_scn_size sz = { .kind = WG_SCN_SIZE_UNIFORM, .lo = 64, .hi = 512 };
	uint64_t counts[3] = { 0 }, r = 0x1234;
	unsigned int i;

	(void)state;
	assert_int_equal(wg_scn_size_pick(&sz, 0), 64);
	assert_int_equal(wg_scn_size_pick(&sz, UINT64_MAX), 512);
	assert_int_equal(wg_scn_size_pick(&sz, 1ull << 63), 64 + 449 / 2);
	assert_true(wg_scn_size_mean(&sz) == 288.0);

	memset(&sz, 0, sizeof(sz));
	sz.kind = WG_SCN_SIZE_WEIGHTED;
	sz.n_entries = 3;
	sz.entries[0] = (struct wg_scn_size_entry){ 32, 80 };
	sz.entries[1] = (struct wg_scn_size_entry){ 200, 18 };
	sz.entries[2] = (struct wg_scn_size_entry){ 1400, 2 };
	assert_int_equal(wg_scn_size_pick(&sz, 0), 32);
	/* the draw splits [0, 2^64) in proportion to the weights */
	assert_int_equal(wg_scn_size_pick(&sz, (uint64_t)(((unsigned __int128)80 << 64) / 100) - 1),
			 32);
	assert_int_equal(wg_scn_size_pick(&sz, (uint64_t)(((unsigned __int128)80 << 64) / 100) + 1),
			 200);
	assert_int_equal(wg_scn_size_pick(&sz, UINT64_MAX), 1400);
	for (i = 0; i < 100000; i++) {
		uint32_t b;

		r = r * 6364136223846793005ull + 1442695040888963407ull;
		b = wg_scn_size_pick(&sz, r);
		counts[b == 32 ? 0 : b == 200 ? 1 : 2]++;
	}
	assert_true(counts[0] > 79000 && counts[0] < 81000);
	assert_true(counts[1] > 17300 && counts[1] < 18700);
	assert_true(counts[2] > 1700 && counts[2] < 2300);
	assert_true(wg_scn_size_mean(&sz) == (32.0 * 80 + 200.0 * 18 + 1400.0 * 2) / 100);

	memset(&sz, 0, sizeof(sz));
	sz.kind = WG_SCN_SIZE_FIXED;
	sz.lo = sz.hi = 77;
	assert_int_equal(wg_scn_size_pick(&sz, 12345), 77);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_size_pick),
	};

	if (argc > 1)
		src_root = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
