/* SPDX-License-Identifier: BSD-3-Clause
 * wg_conf: parser, validation, dump and load, on in-memory strings and
 * temporary files. Error checks compare whole messages, line included.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream, mkstemp */
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

#include "conf.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CONF_CMP_LEN offsetof(struct wg_conf, lines)

static char err[WG_CONF_ERR_MAX];

/* Every key set, most to non-defaults; line numbers below refer to it. */
static const char full_yaml[] =
	"# full config\n"                                   /* 1 */
	"eal:\n"
	"  file_prefix: wgtest\n"
	"  lcores: \"2-3\"\n"
	"  memory_mb: 1024\n"                               /* 5 */
	"  no_huge: yes\n"
	"  huge_dir: /dev/hugepages\n"
	"  log_level: debug\n"
	"  extra_args: [\"--no-pci\", '--vdev=net_null0']\n"
	"dataplane:\n"                                      /* 10 */
	"  burst: 64\n"
	"  idle_sleep_max_us: 0\n"
	"  idle_spins: 1000\n"
	"  mbufs: 32767\n"
	"  mbuf_cache: 512\n"                               /* 15 */
	"  arp_entries: 4096\n"
	"  arp_reachable_ms: 60000\n"
	"  arp_retry_ms: 500\n"
	"  arp_max_probes: 5\n"
	"ports:\n"                                          /* 20 */
	"  - name: tap0\n"
	"    dev: net_tap0,iface=wgtap0\n"
	"    mac: 02:00:00:AB:cd:01\n"
	"    ipv4: 198.18.0.2/24\n"
	"    gateway: 198.18.0.1\n"                         /* 25 */
	"    mtu: 9000\n"
	"    rx_desc: 2048\n"
	"    tx_desc: 512\n"
	"    csum_offload: off\n"
	"  - {name: tap1, dev: net_tap1, ipv4: 10.1.2.3/8}\n" /* 30 */
	"instances:\n"
	"  max: 16\n"
	"  ring_size: 4096\n"
	"  msg_mbufs: 16383\n"
	"  heartbeat_ms: 50\n"                              /* 35 */
	"  dead_after_ms: 500\n"
	"  lcore_base: 4\n"
	"logic:\n"
	"  count: 3\n";

/* Smallest config that validates. */
#define PORT0 \
	"ports:\n" \
	"  - name: tap0\n" \
	"    dev: net_tap0\n" \
	"    ipv4: 198.18.0.2/24\n"

/* PORT0 with the impairment example of configs/warpgate.yaml; port keys
 * start at line 2, impair at line 5. */
#define PORT0_IMPAIR \
	PORT0 \
	"    impair:\n" \
	"      seed: 42\n" \
	"      rx: { loss: 5%, dup: 1%, reorder: 25%, delay_ms: 50, jitter_ms: 10, " \
	"reorder_ms: 5 }\n" \
	"      tx: { loss: 0.5% }\n"

static int
parse_len(struct wg_conf *c, const char *yaml, size_t len)
{
	wg_conf_defaults(c);
	memset(err, 'X', sizeof(err));
	return wg_conf_parse_string(c, "t.yaml", yaml, len, err, sizeof(err));
}

static int
parse(struct wg_conf *c, const char *yaml)
{
	return parse_len(c, yaml, strlen(yaml));
}

/* Parse over c as it is, without resetting it to the defaults first. */
static int
parse_over(struct wg_conf *c, const char *yaml)
{
	return wg_conf_parse_string(c, "t.yaml", yaml, strlen(yaml), err, sizeof(err));
}

static void
ipv4_bytes(uint32_t be, uint8_t out[4])
{
	memcpy(out, &be, 4);
}

/* Parse must fail with exactly msg. */
static void
expect_parse_err(const char *yaml, const char *msg)
{
	struct wg_conf c;
	int rc = parse(&c, yaml);

	if (rc != -EINVAL || strcmp(err, msg) != 0)
		fail_msg("input:\n%s\nrc %d\n got: %s\nwant: %s", yaml, rc, rc ? err : "", msg);
}

/* Parse must succeed and validate must fail with exactly msg. */
static void
expect_validate_err(const char *yaml, const char *msg)
{
	struct wg_conf c;
	int rc = parse(&c, yaml);

	if (rc != 0)
		fail_msg("input:\n%s\nparse failed: %s", yaml, err);
	rc = wg_conf_validate(&c, err, sizeof(err));
	if (rc != -EINVAL || strcmp(err, msg) != 0)
		fail_msg("input:\n%s\nrc %d\n got: %s\nwant: %s", yaml, rc, rc ? err : "", msg);
}

static char *
dump_to_string(const struct wg_conf *c, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	assert_non_null(f);
	wg_conf_dump(f, c);
	assert_int_equal(fclose(f), 0);
	return out;
}

/* dump -> parse gives back the same struct, byte for byte. */
static void
assert_round_trip(const struct wg_conf *c)
{
	struct wg_conf back;
	size_t len;
	char *text = dump_to_string(c, &len);

	wg_conf_defaults(&back);
	if (wg_conf_parse_string(&back, c->path, text, len, err, sizeof(err)) != 0)
		fail_msg("dump does not parse back: %s\n%s", err, text);
	if (memcmp(c, &back, CONF_CMP_LEN) != 0)
		fail_msg("dump does not round-trip:\n%s", text);
	free(text);
}

/* ------------------------------------------------------------------ */

static void
test_defaults(void **state)
{
	struct wg_conf c;

	(void)state;
	memset(&c, 0xa5, sizeof(c));
	wg_conf_defaults(&c);
	assert_string_equal(c.path, "");
	assert_string_equal(c.eal.file_prefix, "warpgate");
	assert_string_equal(c.eal.lcores, "0-1");
	assert_int_equal(c.eal.memory_mb, 512);
	assert_false(c.eal.no_huge);
	assert_string_equal(c.eal.huge_dir, "");
	assert_string_equal(c.eal.log_level, "info");
	assert_int_equal(c.eal.n_extra_args, 0);
	assert_int_equal(c.dataplane.burst, 32);
	assert_int_equal(c.dataplane.idle_sleep_max_us, 200);
	assert_int_equal(c.dataplane.idle_spins, 64);
	assert_int_equal(c.dataplane.mbufs, 16383);
	assert_int_equal(c.dataplane.mbuf_cache, 256);
	assert_int_equal(c.dataplane.arp_entries, 1024);
	assert_int_equal(c.dataplane.arp_reachable_ms, 30000);
	assert_int_equal(c.dataplane.arp_retry_ms, 1000);
	assert_int_equal(c.dataplane.arp_max_probes, 3);
	assert_int_equal(c.n_ports, 0);
	assert_int_equal(c.instances.max, 8);
	assert_int_equal(c.instances.ring_size, 1024);
	assert_int_equal(c.instances.msg_mbufs, 8191);
	assert_int_equal(c.instances.heartbeat_ms, 100);
	assert_int_equal(c.instances.dead_after_ms, 1000);
	assert_int_equal(c.instances.lcore_base, 8);
	assert_int_equal(c.logic.count, 1);
	assert_int_equal(c.n_lines, 0);

	/* Defaults alone lack a port: everything else in them is valid. */
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [config:0]: no ports: at least one entry "
			    "under 'ports' is required");
}

static void
test_full_config(void **state)
{
	struct wg_conf c;
	uint8_t b[4];

	(void)state;
	assert_int_equal(parse(&c, full_yaml), 0);
	assert_string_equal(err, "");
	assert_string_equal(c.path, "t.yaml");
	assert_string_equal(c.eal.file_prefix, "wgtest");
	assert_string_equal(c.eal.lcores, "2-3");
	assert_int_equal(c.eal.memory_mb, 1024);
	assert_true(c.eal.no_huge);
	assert_string_equal(c.eal.huge_dir, "/dev/hugepages");
	assert_string_equal(c.eal.log_level, "debug");
	assert_int_equal(c.eal.n_extra_args, 2);
	assert_string_equal(c.eal.extra_args[0], "--no-pci");
	assert_string_equal(c.eal.extra_args[1], "--vdev=net_null0");
	assert_string_equal(c.eal.extra_args[2], "");

	assert_int_equal(c.dataplane.burst, 64);
	assert_int_equal(c.dataplane.idle_sleep_max_us, 0);
	assert_int_equal(c.dataplane.idle_spins, 1000);
	assert_int_equal(c.dataplane.mbufs, 32767);
	assert_int_equal(c.dataplane.mbuf_cache, 512);
	assert_int_equal(c.dataplane.arp_entries, 4096);
	assert_int_equal(c.dataplane.arp_reachable_ms, 60000);
	assert_int_equal(c.dataplane.arp_retry_ms, 500);
	assert_int_equal(c.dataplane.arp_max_probes, 5);

	assert_int_equal(c.n_ports, 2);
	assert_string_equal(c.ports[0].name, "tap0");
	assert_string_equal(c.ports[0].dev, "net_tap0,iface=wgtap0");
	assert_true(c.ports[0].mac_set);
	assert_memory_equal(c.ports[0].mac, "\x02\x00\x00\xab\xcd\x01", 6);
	ipv4_bytes(c.ports[0].ipv4, b);
	assert_memory_equal(b, "\xc6\x12\x00\x02", 4);          /* 198.18.0.2, wire order */
	assert_int_equal(c.ports[0].prefix_len, 24);
	ipv4_bytes(c.ports[0].gateway, b);
	assert_memory_equal(b, "\xc6\x12\x00\x01", 4);
	assert_int_equal(c.ports[0].mtu, 9000);
	assert_int_equal(c.ports[0].rx_desc, 2048);
	assert_int_equal(c.ports[0].tx_desc, 512);
	assert_false(c.ports[0].csum_offload);

	/* Flow-style item, only three keys: the rest are per-item defaults. */
	assert_string_equal(c.ports[1].name, "tap1");
	assert_string_equal(c.ports[1].dev, "net_tap1");
	assert_false(c.ports[1].mac_set);
	assert_memory_equal(c.ports[1].mac, "\0\0\0\0\0\0", 6);
	ipv4_bytes(c.ports[1].ipv4, b);
	assert_memory_equal(b, "\x0a\x01\x02\x03", 4);
	assert_int_equal(c.ports[1].prefix_len, 8);
	assert_int_equal(c.ports[1].gateway, 0);
	assert_int_equal(c.ports[1].mtu, 1500);
	assert_int_equal(c.ports[1].rx_desc, 1024);
	assert_int_equal(c.ports[1].tx_desc, 1024);
	assert_true(c.ports[1].csum_offload);
	assert_string_equal(c.ports[2].name, "");

	assert_int_equal(c.instances.max, 16);
	assert_int_equal(c.instances.ring_size, 4096);
	assert_int_equal(c.instances.msg_mbufs, 16383);
	assert_int_equal(c.instances.heartbeat_ms, 50);
	assert_int_equal(c.instances.dead_after_ms, 500);
	assert_int_equal(c.instances.lcore_base, 4);
	assert_int_equal(c.logic.count, 3);

	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

/* Port defaults apply to every item, not just the first. */
static void
test_port_defaults(void **state)
{
	struct wg_conf c;

	(void)state;
	assert_int_equal(parse(&c,
		"ports:\n"
		"  - name: a\n"
		"    dev: da\n"
		"    ipv4: 10.0.0.1/24\n"
		"    mtu: 9000\n"
		"    rx_desc: 64\n"
		"    csum_offload: false\n"
		"  - name: b\n"
		"    dev: db\n"
		"    ipv4: 10.0.1.1/24\n"
		"  - name: c\n"
		"    dev: dc\n"
		"    ipv4: 10.0.2.1/24\n"
		"    tx_desc: 4096\n"), 0);
	assert_int_equal(c.n_ports, 3);
	assert_int_equal(c.ports[0].mtu, 9000);
	assert_int_equal(c.ports[0].rx_desc, 64);
	assert_int_equal(c.ports[0].tx_desc, 1024);
	assert_false(c.ports[0].csum_offload);
	assert_int_equal(c.ports[1].mtu, 1500);
	assert_int_equal(c.ports[1].rx_desc, 1024);
	assert_int_equal(c.ports[1].tx_desc, 1024);
	assert_true(c.ports[1].csum_offload);
	assert_int_equal(c.ports[2].mtu, 1500);
	assert_int_equal(c.ports[2].rx_desc, 1024);
	assert_int_equal(c.ports[2].tx_desc, 4096);
	assert_true(c.ports[2].csum_offload);
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);
}

static void
test_empty_documents(void **state)
{
	static const char *const docs[] = {
		"", "\n", "# only a comment\n", "---\n", "---\n...\n", "~\n", "null\n",
		"eal:\n", "eal: ~\n", "eal: {}\n", "{}\n", "\xef\xbb\xbf# BOM only\n",
	};
	struct wg_conf c, d;
	size_t i;

	(void)state;
	wg_conf_defaults(&d);
	strcpy(d.path, "t.yaml");
	for (i = 0; i < ARRAY_SIZE(docs); i++) {
		if (parse(&c, docs[i]) != 0)
			fail_msg("'%s': %s", docs[i], err);
		if (memcmp(&c, &d, CONF_CMP_LEN) != 0)
			fail_msg("'%s' changed the defaults", docs[i]);
	}
	/* NULL buffer with zero length is an empty document too. */
	wg_conf_defaults(&c);
	assert_int_equal(wg_conf_parse_string(&c, "t.yaml", NULL, 0, err, sizeof(err)), 0);
	assert_memory_equal(&c, &d, CONF_CMP_LEN);
}

static void
test_bool_spellings(void **state)
{
	static const struct {
		const char *text;
		bool value;
	} ok[] = {
		{ "true", true }, { "True", true }, { "TRUE", true }, { "yes", true },
		{ "Yes", true }, { "on", true }, { "ON", true }, { "false", false },
		{ "False", false }, { "no", false }, { "NO", false }, { "off", false },
		{ "Off", false },
	};
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "1", "parsing [t.yaml:2]: eal.no_huge: expected true or false "
		       "(or yes/no, on/off), got '1'" },
		{ "y", "parsing [t.yaml:2]: eal.no_huge: expected true or false "
		       "(or yes/no, on/off), got 'y'" },
		{ "truee", "parsing [t.yaml:2]: eal.no_huge: expected true or false "
			   "(or yes/no, on/off), got 'truee'" },
		{ "\"true\"", "parsing [t.yaml:2]: eal.no_huge: expected true or false, "
			      "got a quoted string" },
		{ "", "parsing [t.yaml:2]: eal.no_huge: expected true or false, "
		      "got an empty value" },
		{ "[true]", "parsing [t.yaml:2]: eal.no_huge: expected a boolean, got a sequence" },
	};
	struct wg_conf c;
	char yaml[128];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		snprintf(yaml, sizeof(yaml), "eal:\n  no_huge: %s\n", ok[i].text);
		if (parse(&c, yaml) != 0)
			fail_msg("%s: %s", ok[i].text, err);
		if (c.eal.no_huge != ok[i].value)
			fail_msg("%s parsed as %d", ok[i].text, c.eal.no_huge);
		/* and the other way round, from the opposite starting value */
		c.eal.no_huge = !ok[i].value;
		assert_int_equal(parse_over(&c, yaml), 0);
		assert_int_equal(c.eal.no_huge, ok[i].value);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(yaml, sizeof(yaml), "eal:\n  no_huge: %s\n", bad[i].text);
		expect_parse_err(yaml, bad[i].msg);
	}
}

/* U32 (memory_mb 64..1048576) and U16 (mtu 68..9000): bounds, strictness. */
static void
test_integers(void **state)
{
	static const struct {
		const char *text;
		uint32_t value;
	} ok[] = {
		{ "64", 64 }, { "65", 65 }, { "1048576", 1048576 }, { "512", 512 },
	};
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "63", "eal.memory_mb: 63 is out of range 64..1048576" },
		{ "0", "eal.memory_mb: 0 is out of range 64..1048576" },
		{ "1048577", "eal.memory_mb: 1048577 is out of range 64..1048576" },
		{ "-1", "eal.memory_mb: -1 is out of range 64..1048576" },
		{ "-100", "eal.memory_mb: -100 is out of range 64..1048576" },
		{ "4294967296", "eal.memory_mb: 4294967296 is out of range 64..1048576" },
		{ "18446744073709551616",
		  "eal.memory_mb: 18446744073709551616 is out of range 64..1048576" },
		/* 2^64 + 100: wraps to an in-range 100 without the overflow check */
		{ "18446744073709551716",
		  "eal.memory_mb: 18446744073709551716 is out of range 64..1048576" },
		{ "99999999999999999999999999",
		  "eal.memory_mb: 99999999999999999999999999 is out of range 64..1048576" },
		{ "100x", "eal.memory_mb: expected an integer in 64..1048576, got '100x'" },
		{ "+100", "eal.memory_mb: expected an integer in 64..1048576, got '+100'" },
		{ "0100", "eal.memory_mb: expected an integer in 64..1048576, got '0100'" },
		{ "0x100", "eal.memory_mb: expected an integer in 64..1048576, got '0x100'" },
		{ "100.0", "eal.memory_mb: expected an integer in 64..1048576, got '100.0'" },
		{ "1e3", "eal.memory_mb: expected an integer in 64..1048576, got '1e3'" },
		{ "1_000", "eal.memory_mb: expected an integer in 64..1048576, got '1_000'" },
		{ "--1", "eal.memory_mb: expected an integer in 64..1048576, got '--1'" },
		{ "-x", "eal.memory_mb: expected an integer in 64..1048576, got '-x'" },
		{ "~", "eal.memory_mb: expected an integer in 64..1048576, got '~'" },
		{ "100 MB", "eal.memory_mb: expected an integer in 64..1048576, got '100 MB'" },
		{ "", "eal.memory_mb: expected an integer in 64..1048576, got an empty value" },
		{ "\"100\"", "eal.memory_mb: expected an integer in 64..1048576, "
			     "got a quoted string" },
		{ "'100'", "eal.memory_mb: expected an integer in 64..1048576, "
			   "got a quoted string" },
		{ "{a: 1}", "eal.memory_mb: expected an integer, got a mapping" },
	};
	static const struct {
		const char *text, *msg;
	} bad16[] = {
		{ "67", "parsing [t.yaml:5]: ports[0].mtu: 67 is out of range 68..9000" },
		{ "9001", "parsing [t.yaml:5]: ports[0].mtu: 9001 is out of range 68..9000" },
		{ "65536", "parsing [t.yaml:5]: ports[0].mtu: 65536 is out of range 68..9000" },
		{ "70000", "parsing [t.yaml:5]: ports[0].mtu: 70000 is out of range 68..9000" },
	};
	struct wg_conf c;
	char yaml[256], msg[256];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		snprintf(yaml, sizeof(yaml), "eal:\n  memory_mb: %s\n", ok[i].text);
		if (parse(&c, yaml) != 0)
			fail_msg("%s: %s", ok[i].text, err);
		assert_int_equal(c.eal.memory_mb, ok[i].value);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(yaml, sizeof(yaml), "eal:\n  memory_mb: %s\n", bad[i].text);
		snprintf(msg, sizeof(msg), "parsing [t.yaml:2]: %s", bad[i].msg);
		expect_parse_err(yaml, msg);
	}

	snprintf(yaml, sizeof(yaml), PORT0 "    mtu: 68\n");
	assert_int_equal(parse(&c, yaml), 0);
	assert_int_equal(c.ports[0].mtu, 68);
	snprintf(yaml, sizeof(yaml), PORT0 "    mtu: 9000\n");
	assert_int_equal(parse(&c, yaml), 0);
	assert_int_equal(c.ports[0].mtu, 9000);
	/* a 16-bit store must not spill into the neighbouring field */
	assert_int_equal(c.ports[0].rx_desc, 1024);
	for (i = 0; i < ARRAY_SIZE(bad16); i++) {
		snprintf(yaml, sizeof(yaml), PORT0 "    mtu: %s\n", bad16[i].text);
		expect_parse_err(yaml, bad16[i].msg);
	}

	/* both ends of a range that starts at 0 */
	assert_int_equal(parse(&c, "dataplane:\n  idle_sleep_max_us: 0\n"), 0);
	assert_int_equal(c.dataplane.idle_sleep_max_us, 0);
	expect_parse_err("dataplane:\n  idle_sleep_max_us: 1000001\n",
			 "parsing [t.yaml:2]: dataplane.idle_sleep_max_us: 1000001 is out of "
			 "range 0..1000000");
	expect_parse_err("dataplane:\n  burst: 0\n",
			 "parsing [t.yaml:2]: dataplane.burst: 0 is out of range 1..512");
	expect_parse_err("dataplane:\n  burst: 513\n",
			 "parsing [t.yaml:2]: dataplane.burst: 513 is out of range 1..512");
	/* instances.max is bounded by the registry's slot count */
	expect_parse_err("instances:\n  max: 33\n",
			 "parsing [t.yaml:2]: instances.max: 33 is out of range 2..32");
	expect_parse_err("dataplane:\n  mbuf_cache: 513\n",
			 "parsing [t.yaml:2]: dataplane.mbuf_cache: 513 is out of range 0..512");
}

static void
test_strings(void **state)
{
	struct wg_conf c;
	char yaml[2048], s64[65];
	size_t n;

	(void)state;
	/* 63 bytes fit file_prefix[64]; 64 do not. */
	memset(s64, 'p', 64);
	s64[64] = '\0';
	snprintf(yaml, sizeof(yaml), "eal:\n  file_prefix: %.63s\n", s64);
	assert_int_equal(parse(&c, yaml), 0);
	assert_int_equal(strlen(c.eal.file_prefix), 63);
	snprintf(yaml, sizeof(yaml), "eal:\n  file_prefix: %s\n", s64);
	expect_parse_err(yaml, "parsing [t.yaml:2]: eal.file_prefix: string is too long "
			 "(64 bytes, at most 63)");
	/* port name: char[32] */
	snprintf(yaml, sizeof(yaml), "ports:\n  - name: %.31s\n", s64);
	assert_int_equal(parse(&c, yaml), 0);
	assert_int_equal(strlen(c.ports[0].name), 31);
	snprintf(yaml, sizeof(yaml), "ports:\n  - name: %.32s\n", s64);
	expect_parse_err(yaml, "parsing [t.yaml:2]: ports[0].name: string is too long "
			 "(32 bytes, at most 31)");
	/* length counts bytes of the decoded scalar, not of the source text */
	snprintf(yaml, sizeof(yaml), "eal:\n  file_prefix: \"%.62s\\x41\"\n", s64);
	assert_int_equal(parse(&c, yaml), 0);
	assert_int_equal(c.eal.file_prefix[62], 'A');

	/* quoting styles, null, numbers as strings */
	assert_int_equal(parse(&c, "eal:\n  huge_dir: '/mnt/huge ''x'''\n"
			 "  log_level: \"warning\"\n"
			 "ports:\n  - name: 1500\n    dev: >-\n      net_tap0,\n      iface=x\n"), 0);
	assert_string_equal(c.eal.huge_dir, "/mnt/huge 'x'");
	assert_string_equal(c.eal.log_level, "warning");
	assert_string_equal(c.ports[0].name, "1500");
	assert_string_equal(c.ports[0].dev, "net_tap0, iface=x");
	assert_int_equal(parse(&c, "eal:\n  huge_dir: /x\n"), 0);
	assert_int_equal(parse_over(&c, "eal:\n  huge_dir:\n"), 0);
	assert_string_equal(c.eal.huge_dir, "");
	assert_int_equal(parse(&c, "eal:\n  huge_dir: ~\n  log_level: 'null'\n"), 0);
	assert_string_equal(c.eal.huge_dir, "");
	assert_string_equal(c.eal.log_level, "null");

	expect_parse_err("eal:\n  huge_dir: \"a\\0b\"\n",
			 "parsing [t.yaml:2]: eal.huge_dir: string contains a NUL byte");
	expect_parse_err("eal:\n  file_prefix: a/b\n",
			 "parsing [t.yaml:2]: eal.file_prefix: invalid character 0x2f "
			 "(allowed: letters, digits, '_', '-', '.')");
	expect_parse_err("eal:\n  file_prefix: \"a b\"\n",
			 "parsing [t.yaml:2]: eal.file_prefix: invalid character 0x20 "
			 "(allowed: letters, digits, '_', '-', '.')");
	expect_parse_err("eal:\n  lcores: 0-x\n",
			 "parsing [t.yaml:2]: eal.lcores: invalid character 0x78 "
			 "(allowed: digits, ',', '-')");
	expect_parse_err("eal:\n  lcores: (0-3)@1\n",
			 "parsing [t.yaml:2]: eal.lcores: invalid character 0x28 "
			 "(allowed: digits, ',', '-')");
	assert_int_equal(parse(&c, "eal:\n  lcores: 0-3,5,7\n"), 0);
	assert_string_equal(c.eal.lcores, "0-3,5,7");

	/* string list: bounds, item size, item type, null, replace */
	assert_int_equal(parse(&c, "eal:\n  extra_args:\n    - --a\n    - \"\"\n    - c\n"), 0);
	assert_int_equal(c.eal.n_extra_args, 3);
	assert_string_equal(c.eal.extra_args[0], "--a");
	assert_string_equal(c.eal.extra_args[1], "");
	assert_string_equal(c.eal.extra_args[2], "c");
	assert_int_equal(parse_over(&c, "eal:\n  extra_args: [z]\n"), 0);
	assert_int_equal(c.eal.n_extra_args, 1);
	assert_string_equal(c.eal.extra_args[0], "z");
	assert_string_equal(c.eal.extra_args[1], "");
	assert_int_equal(parse_over(&c, "eal:\n  extra_args:\n"), 0);
	assert_int_equal(c.eal.n_extra_args, 0);
	assert_string_equal(c.eal.extra_args[0], "");

	strcpy(yaml, "eal:\n  extra_args: [a, \"");
	n = strlen(yaml);
	memset(yaml + n, 'x', 256);
	strcpy(yaml + n + 256, "\"]\n");
	expect_parse_err(yaml, "parsing [t.yaml:2]: eal.extra_args[1]: string is too long "
			 "(256 bytes, at most 255)");
	expect_parse_err("eal:\n  extra_args:\n    - a\n    - [b]\n",
			 "parsing [t.yaml:4]: eal.extra_args[1]: expected a string, got a sequence");
	strcpy(yaml, "eal:\n  extra_args:\n");
	for (int i = 0; i < 17; i++)
		strcat(yaml, "    - x\n");
	expect_parse_err(yaml, "parsing [t.yaml:19]: eal.extra_args: too many items (at most 16)");
	yaml[strlen(yaml) - 8] = '\0';   /* 16 items: fine */
	assert_int_equal(parse(&c, yaml), 0);
	assert_int_equal(c.eal.n_extra_args, 16);
}

static void
test_ipv4(void **state)
{
	static const struct {
		const char *text;
		uint8_t b[4];
		uint8_t plen;
	} ok[] = {
		{ "198.18.0.2/24", { 198, 18, 0, 2 }, 24 },
		{ "0.0.0.0/0", { 0, 0, 0, 0 }, 0 },
		{ "255.255.255.255/32", { 255, 255, 255, 255 }, 32 },
		{ "10.0.0.1/8", { 10, 0, 0, 1 }, 8 },
		{ "\"172.16.5.4/12\"", { 172, 16, 5, 4 }, 12 },
	};
	static const struct {
		const char *text, *msg;
	} bad_cidr[] = {
		{ "198.18.0.2", "'198.18.0.2' needs a prefix length, e.g. '198.18.0.2/24'" },
		{ "198.18.0.2/33", "prefix length in '198.18.0.2/33' is out of range 0..32" },
		{ "198.18.0.2/99999999999",
		  "prefix length in '198.18.0.2/99999999999' is out of range 0..32" },
		{ "198.18.0.2/99999999999999999999999",
		  "prefix length in '198.18.0.2/99999999999999999999999' is out of range 0..32" },
		{ "198.18.0.2/18446744073709551640",   /* 2^64 + 24 */
		  "prefix length in '198.18.0.2/18446744073709551640' is out of range 0..32" },
		{ "198.18.0.2/", "'198.18.0.2/' is not an IPv4 address/prefix (a.b.c.d/n)" },
		{ "198.18.0.2/024", "'198.18.0.2/024' is not an IPv4 address/prefix (a.b.c.d/n)" },
		{ "198.18.0.2/-1", "'198.18.0.2/-1' is not an IPv4 address/prefix (a.b.c.d/n)" },
		{ "198.18.0.2/24/1", "'198.18.0.2/24/1' is not an IPv4 address/prefix (a.b.c.d/n)" },
		{ "198.18.0/24", "'198.18.0/24' is not an IPv4 address/prefix (a.b.c.d/n)" },
		{ "198.18.0.256/24", "'198.18.0.256/24' is not an IPv4 address/prefix (a.b.c.d/n)" },
		{ "/24", "'/24' is not an IPv4 address/prefix (a.b.c.d/n)" },
		{ "tap", "'tap' is not an IPv4 address/prefix (a.b.c.d/n)" },
	};
	static const char *const bad_addr[] = {
		"1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.04",
		"1..2.3", ".1.2.3", "1.2.3.", "a.b.c.d", "1.2.3.-4", "1234.1.1.1", "0001.1.1.1",
		"\" 1.2.3.4\"", "\"1.2.3.4 \"", "0x1.2.3.4", "1.2.3.4a", "'1.2.3.4\\n'",
	};
	struct wg_conf c;
	char yaml[256], msg[256];
	uint8_t b[4];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		snprintf(yaml, sizeof(yaml), "ports:\n  - ipv4: %s\n", ok[i].text);
		if (parse(&c, yaml) != 0)
			fail_msg("%s: %s", ok[i].text, err);
		ipv4_bytes(c.ports[0].ipv4, b);
		assert_memory_equal(b, ok[i].b, 4);
		assert_int_equal(c.ports[0].prefix_len, ok[i].plen);
	}
	for (i = 0; i < ARRAY_SIZE(bad_cidr); i++) {
		snprintf(yaml, sizeof(yaml), "ports:\n  - name: x\n    ipv4: %s\n", bad_cidr[i].text);
		snprintf(msg, sizeof(msg), "parsing [t.yaml:3]: ports[0].ipv4: %s", bad_cidr[i].msg);
		expect_parse_err(yaml, msg);
	}

	/* gateway: address only */
	assert_int_equal(parse(&c, "ports:\n  - gateway: 198.18.0.1\n"), 0);
	ipv4_bytes(c.ports[0].gateway, b);
	assert_memory_equal(b, "\xc6\x12\x00\x01", 4);
	assert_int_equal(parse(&c, "ports:\n  - gateway:\n"), 0);
	assert_int_equal(c.ports[0].gateway, 0);
	expect_parse_err("ports:\n  - gateway: 198.18.0.1/24\n",
			 "parsing [t.yaml:2]: ports[0].gateway: '198.18.0.1/24' is not an IPv4 "
			 "address (a plain address, without a prefix length)");
	for (i = 0; i < ARRAY_SIZE(bad_addr); i++) {
		char shown[64];
		const char *t = bad_addr[i];
		size_t n = strlen(t);

		/* the message shows the decoded scalar, without YAML quotes */
		if (t[0] == '"' || t[0] == '\'')
			snprintf(shown, sizeof(shown), "%.*s", (int)(n - 2), t + 1);
		else
			snprintf(shown, sizeof(shown), "%s", t);
		snprintf(yaml, sizeof(yaml), "ports:\n  - gateway: %s\n", t);
		snprintf(msg, sizeof(msg), "parsing [t.yaml:2]: ports[0].gateway: '%s' is not an "
			 "IPv4 address", shown);
		expect_parse_err(yaml, msg);
	}
}

static void
test_mac(void **state)
{
	static const char *const bad[] = {
		"02:00:00:00:00", "02:00:00:00:00:0g", "02-00-00-00-00-01", "0200.0000.0001",
		"02:00:00:00:00:001", "2:0:0:0:0:1", "02:00:00:00:00:01 x",
		"020000000001", "g2:00:00:00:00:01",
	};
	struct wg_conf c;
	char yaml[128], msg[256];
	size_t i;

	(void)state;
	assert_int_equal(parse(&c, "ports:\n  - mac: 0A:bB:cc:DD:e0:F1\n"), 0);
	assert_true(c.ports[0].mac_set);
	assert_memory_equal(c.ports[0].mac, "\x0a\xbb\xcc\xdd\xe0\xf1", 6);
	assert_int_equal(parse(&c, "ports:\n  - mac: \"02:00:00:00:00:01\"\n"), 0);
	assert_memory_equal(c.ports[0].mac, "\x02\x00\x00\x00\x00\x01", 6);
	assert_int_equal(parse(&c, "ports:\n  - mac: ~\n"), 0);
	assert_false(c.ports[0].mac_set);
	assert_int_equal(parse(&c, "ports:\n  - name: a\n"), 0);
	assert_false(c.ports[0].mac_set);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(yaml, sizeof(yaml), "ports:\n  - mac: %s\n", bad[i]);
		snprintf(msg, sizeof(msg), "parsing [t.yaml:2]: ports[0].mac: '%s' is not a MAC "
			 "address (xx:xx:xx:xx:xx:xx)", bad[i]);
		expect_parse_err(yaml, msg);
	}
	expect_parse_err("ports:\n  - mac: {}\n",
			 "parsing [t.yaml:2]: ports[0].mac: expected a MAC address, got a mapping");
}

static void
test_unknown_keys(void **state)
{
	(void)state;
	expect_parse_err("bogus: 1\n", "parsing [t.yaml:1]: unknown key 'bogus' at top level");
	expect_parse_err("dataplane:\n  burst: 32\n  bogus: 1\n",
			 "parsing [t.yaml:3]: unknown key 'bogus' in section 'dataplane'");
	expect_parse_err("eal:\n  log_level: info\n\n\n  nohuge: true\n",
			 "parsing [t.yaml:5]: unknown key 'nohuge' in section 'eal'");
	expect_parse_err("instances: {max: 8, Max: 9}\n",
			 "parsing [t.yaml:1]: unknown key 'Max' in section 'instances'");
	expect_parse_err("logic:\n  count: 1\n  counts: 2\n",
			 "parsing [t.yaml:3]: unknown key 'counts' in section 'logic'");
	expect_parse_err("ports:\n  - name: a\n  - name: b\n    bogus: 1\n",
			 "parsing [t.yaml:4]: unknown key 'bogus' in section 'ports[1]'");
	expect_parse_err("Dataplane:\n  burst: 1\n",
			 "parsing [t.yaml:1]: unknown key 'Dataplane' at top level");
	/* a sub-section's key at the top level is still unknown */
	expect_parse_err("burst: 32\n", "parsing [t.yaml:1]: unknown key 'burst' at top level");
	/* control bytes in a key cannot forge lines in the message; long keys are cut */
	expect_parse_err("\"a\\nb\\tc\": 1\n",
			 "parsing [t.yaml:1]: unknown key 'a?b?c' at top level");
	expect_parse_err("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 1\n",
			 "parsing [t.yaml:1]: unknown key "
			 "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' at top level");
	/* a key that is a prefix of a real one, and one that extends it */
	expect_parse_err("dataplane:\n  burs: 1\n",
			 "parsing [t.yaml:2]: unknown key 'burs' in section 'dataplane'");
	expect_parse_err("dataplane:\n  bursts: 1\n",
			 "parsing [t.yaml:2]: unknown key 'bursts' in section 'dataplane'");
}

static void
test_duplicate_keys(void **state)
{
	struct wg_conf c;

	(void)state;
	expect_parse_err("dataplane:\n  burst: 1\n  mbufs: 1023\n  burst: 2\n",
			 "parsing [t.yaml:4]: duplicate key 'burst' in section 'dataplane' "
			 "(first at line 2)");
	expect_parse_err("logic:\n  count: 1\nlogic:\n  count: 2\n",
			 "parsing [t.yaml:3]: duplicate key 'logic' at top level (first at line 1)");
	expect_parse_err("ports:\n  - name: a\n    mtu: 1500\n    name: b\n",
			 "parsing [t.yaml:4]: duplicate key 'name' in section 'ports[0]' "
			 "(first at line 2)");
	expect_parse_err("dataplane: {burst: 1, burst: 2}\n",
			 "parsing [t.yaml:1]: duplicate key 'burst' in section 'dataplane' "
			 "(first at line 1)");
	expect_parse_err("eal:\n  extra_args: [a]\n  extra_args: [b]\n",
			 "parsing [t.yaml:3]: duplicate key 'extra_args' in section 'eal' "
			 "(first at line 2)");
	/* the same key in different mappings is not a duplicate */
	assert_int_equal(parse(&c, "ports:\n  - name: a\n  - name: b\n"), 0);
	assert_int_equal(c.n_ports, 2);
}

static void
test_wrong_node_types(void **state)
{
	static const struct {
		const char *yaml, *msg;
	} cases[] = {
		{ "eal: 5\n", "parsing [t.yaml:1]: eal: expected a mapping, got a scalar" },
		{ "eal: [1]\n", "parsing [t.yaml:1]: eal: expected a mapping, got a sequence" },
		{ "dataplane:\n  burst: {a: 1}\n",
		  "parsing [t.yaml:2]: dataplane.burst: expected an integer, got a mapping" },
		{ "dataplane:\n  burst:\n    - 1\n",
		  "parsing [t.yaml:3]: dataplane.burst: expected an integer, got a sequence" },
		{ "ports: {name: x}\n",
		  "parsing [t.yaml:1]: ports: expected a list of mappings, got a mapping" },
		{ "ports: tap0\n",
		  "parsing [t.yaml:1]: ports: expected a list of mappings, got a scalar" },
		{ "ports:\n  - name: a\n  - tap1\n",
		  "parsing [t.yaml:3]: ports[1]: expected a mapping, got a scalar" },
		{ "ports:\n  - [a]\n",
		  "parsing [t.yaml:2]: ports[0]: expected a mapping, got a sequence" },
		{ "ports:\n  - name: [a]\n",
		  "parsing [t.yaml:2]: ports[0].name: expected a string, got a sequence" },
		{ "ports:\n  - ipv4: {a: 1}\n",
		  "parsing [t.yaml:2]: ports[0].ipv4: expected an IPv4 address/prefix, got a mapping" },
		{ "ports:\n  - gateway: [1]\n",
		  "parsing [t.yaml:2]: ports[0].gateway: expected an IPv4 address, got a sequence" },
		{ "eal:\n  extra_args: --no-pci\n",
		  "parsing [t.yaml:2]: eal.extra_args: expected a list of strings, got a scalar" },
		{ "eal:\n  extra_args:\n    - {a: b}\n",
		  "parsing [t.yaml:3]: eal.extra_args[0]: expected a string, got a mapping" },
		{ "- eal\n- ports\n",
		  "parsing [t.yaml:1]: expected a mapping of sections at top level, got a sequence" },
		{ "just a string\n",
		  "parsing [t.yaml:1]: expected a mapping of sections at top level, got a scalar" },
		{ "eal:\n  ? [a]\n  : b\n",
		  "parsing [t.yaml:2]: expected a key in section 'eal', got a sequence" },
		{ "? {a: 1}\n: b\n",
		  "parsing [t.yaml:1]: expected a key at top level, got a mapping" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		expect_parse_err(cases[i].yaml, cases[i].msg);
}

static void
test_too_many_ports(void **state)
{
	struct wg_conf c;
	char yaml[2048] = "ports:\n";
	int i;

	(void)state;
	for (i = 0; i < 8; i++)
		snprintf(yaml + strlen(yaml), sizeof(yaml) - strlen(yaml),
			 "  - name: p%d\n    dev: d%d\n    ipv4: 10.0.%d.1/24\n", i, i, i);
	assert_int_equal(parse(&c, yaml), 0);
	assert_int_equal(c.n_ports, 8);
	assert_string_equal(c.ports[7].name, "p7");
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);
	strcat(yaml, "  - name: p8\n");
	expect_parse_err(yaml, "parsing [t.yaml:26]: ports: too many items (at most 8)");
	expect_parse_err("ports: [{}, {}, {}, {}, {}, {}, {}, {}, {}]\n",
			 "parsing [t.yaml:1]: ports: too many items (at most 8)");
}

static void
test_syntax_errors(void **state)
{
	static const struct {
		const char *yaml, *msg;
	} cases[] = {
		{ "eal:\n  file_prefix: \"unterminated\n",
		  "parsing [t.yaml:3]: YAML syntax error: found unexpected end of stream "
		  "(while scanning a quoted scalar at line 2)" },
		{ "eal:\n\tfile_prefix: x\n",
		  "parsing [t.yaml:2]: YAML syntax error: found character that cannot start "
		  "any token (while scanning for the next token at line 2)" },
		{ "eal:\n  extra_args: [\"--no-pci\", \"--x\"\ndataplane:\n  burst: 1\n",
		  "parsing [t.yaml:3]: YAML syntax error: did not find expected ',' or ']' "
		  "(while parsing a flow sequence at line 2)" },
		{ "dataplane:\n  burst: 1\n bad\n",
		  "parsing [t.yaml:3]: YAML syntax error: did not find expected key "
		  "(while parsing a block mapping at line 1)" },
		{ "dataplane:\n  burst: 1\n  mbufs: 1023\n    idle_spins: 3\n",
		  "parsing [t.yaml:4]: YAML syntax error: mapping values are not allowed "
		  "in this context" },
		/* the error after the last valid key is still found */
		{ "logic:\n  count: 1\n]\n",
		  "parsing [t.yaml:3]: YAML syntax error: did not find expected key "
		  "(while parsing a block mapping at line 1)" },
		{ "logic:\n  count: 1\n---\nlogic:\n  count: 2\n",
		  "parsing [t.yaml:3]: only one YAML document is allowed" },
		{ "eal:\n  file_prefix: x\n\xff\n",
		  "parsing [t.yaml:3]: invalid input: invalid leading UTF-8 octet "
		  "(byte 0xff at offset 22)" },
		{ "eal:\n  file_prefix: x\n  log_level: \x01\n",
		  "parsing [t.yaml:3]: invalid input: control characters are not allowed "
		  "(byte 0x01 at offset 35)" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		expect_parse_err(cases[i].yaml, cases[i].msg);

	/* A NUL byte inside the buffer is input, not the end of it. */
	{
		static const char nul[] = "eal:\n  file_prefix: x\0\n";
		struct wg_conf c;

		assert_int_equal(parse_len(&c, nul, sizeof(nul) - 1), -EINVAL);
		assert_string_equal(err, "parsing [t.yaml:2]: invalid input: control characters "
				    "are not allowed (byte 0x00 at offset 21)");
	}
}

static void
test_anchors_aliases_tags(void **state)
{
	(void)state;
	expect_parse_err("eal:\n  file_prefix: &p wg\n",
			 "parsing [t.yaml:2]: anchors and aliases are not supported (anchor '&p')");
	expect_parse_err("eal: &e {file_prefix: x}\n",
			 "parsing [t.yaml:1]: anchors and aliases are not supported (anchor '&e')");
	expect_parse_err("eal:\n  file_prefix: *x\n",
			 "parsing [t.yaml:2]: anchors and aliases are not supported (alias '*x')");
	/* billion laughs: refused at the first anchor, nothing is expanded */
	expect_parse_err("eal:\n"
			 "  extra_args: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
			 "  huge_dir: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
			 "  log_level: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
			 "  lcores: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n",
			 "parsing [t.yaml:2]: anchors and aliases are not supported (anchor '&a')");
	expect_parse_err("ports:\n  - &p {name: a}\n  - *p\n",
			 "parsing [t.yaml:2]: anchors and aliases are not supported (anchor '&p')");
	expect_parse_err("dataplane:\n  burst: !!int 32\n",
			 "parsing [t.yaml:2]: tags are not supported (tag 'tag:yaml.org,2002:int')");
	expect_parse_err("eal:\n  file_prefix: !local x\n",
			 "parsing [t.yaml:2]: tags are not supported (tag '!local')");
	expect_parse_err("!!map\neal: {}\n",
			 "parsing [t.yaml:1]: tags are not supported (tag 'tag:yaml.org,2002:map')");
}

/* CRLF and a BOM do not shift line numbers; flow style is the same data. */
static void
test_line_endings_and_styles(void **state)
{
	struct wg_conf c;

	(void)state;
	expect_parse_err("dataplane:\r\n  burst: 1\r\n  bogus: 1\r\n",
			 "parsing [t.yaml:3]: unknown key 'bogus' in section 'dataplane'");
	expect_parse_err("\xef\xbb\xbf" "dataplane:\n  bogus: 1\n",
			 "parsing [t.yaml:2]: unknown key 'bogus' in section 'dataplane'");
	assert_int_equal(parse(&c, "{dataplane: {burst: 7}, logic: {count: 2}, "
			 "ports: [{name: a, dev: b, ipv4: 1.2.3.4/24, csum_offload: no}]}"), 0);
	assert_int_equal(c.dataplane.burst, 7);
	assert_int_equal(c.logic.count, 2);
	assert_int_equal(c.n_ports, 1);
	assert_false(c.ports[0].csum_offload);
	assert_int_equal(parse(&c, "%YAML 1.1\n---\nlogic: {count: 4}\n...\n"), 0);
	assert_int_equal(c.logic.count, 4);
}

/* A failed parse leaves the config exactly as it was; a good one layers. */
static void
test_atomic_and_layering(void **state)
{
	struct wg_conf c, before;
	const char *second = "logic:\n  count: 5\ndataplane:\n  burst: 999\n";
	const char *third = "dataplane:\n  mbufs: 4095\nports:\n  - name: only\n";

	(void)state;
	assert_int_equal(parse(&c, full_yaml), 0);
	memcpy(&before, &c, sizeof(c));
	assert_int_equal(wg_conf_parse_string(&c, "second.yaml", second, strlen(second), err,
					      sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [second.yaml:4]: dataplane.burst: 999 is out of "
			    "range 1..512");
	assert_memory_equal(&c, &before, sizeof(c));

	assert_int_equal(wg_conf_parse_string(&c, "third.yaml", third, strlen(third), err,
					      sizeof(err)), 0);
	assert_string_equal(c.path, "third.yaml");
	assert_int_equal(c.dataplane.mbufs, 4095);
	assert_int_equal(c.dataplane.burst, 64);           /* from the first layer */
	assert_string_equal(c.eal.file_prefix, "wgtest");  /* from the first layer */
	/* a list replaces the earlier list */
	assert_int_equal(c.n_ports, 1);
	assert_string_equal(c.ports[0].name, "only");
	assert_int_equal(c.ports[0].mtu, 1500);
	assert_string_equal(c.ports[1].name, "");
	/* lines are those of the last text parsed */
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [third.yaml:4]: ports[0].dev is required");
}

/* Services: type ranges routed to logic instances, checked as a whole. */
static void
test_services(void **state)
{
	static const struct {
		const char *yaml, *msg;
	} cases[] = {
		{ PORT0 "services:\n  - { first_type: 512, last_type: 767 }\n",
		  "parsing [t.yaml:6]: services[0].name is required" },
		{ PORT0 "services:\n  - { name: a, first_type: 600, last_type: 599 }\n",
		  "parsing [t.yaml:6]: services[0] (a): first_type and last_type must give a range "
		  "(first_type <= last_type)" },
		{ PORT0 "services:\n  - { name: a, first_type: 255, last_type: 700 }\n",
		  "parsing [t.yaml:6]: services[0] (a): first_type and last_type are required, "
		  "in 256..65535" },
		{ PORT0 "services:\n  - { name: a, first_type: 300, last_type: 700 }\n",
		  "parsing [t.yaml:6]: services[0] (a): types 0x100-0x1ff are the session "
		  "protocol's (login, heartbeat, ...), not a service's" },
		{ PORT0 "logic:\n  count: 2\nservices:\n"
		  "  - { name: a, first_type: 512, last_type: 600, instance_first: 1, instances: 2 }\n",
		  "parsing [t.yaml:8]: services[0] (a): logic instances 1..2, but logic.count is 2" },
		{ PORT0 "services:\n  - { name: a, first_type: 512, last_type: 600 }\n"
		  "  - { name: a, first_type: 700, last_type: 800 }\n",
		  "parsing [t.yaml:7]: services[1].name 'a' is already used by services[0]" },
		{ PORT0 "services:\n  - { name: a, first_type: 512, last_type: 600 }\n"
		  "  - { name: b, first_type: 600, last_type: 800 }\n",
		  "parsing [t.yaml:7]: services[1] (b): types 0x258-0x320 overlap services[0] (a)" },
		{ PORT0 "logic:\n  count: 3\nservices:\n"
		  "  - { name: a, first_type: 512, last_type: 513, strategy: weighted, "
		  "weights: \"3,1\" }\n",
		  "parsing [t.yaml:8]: services[0] (a): weights '3,1' must be 3 comma-separated "
		  "numbers in 1..1000, one per instance" },
		{ PORT0 "logic:\n  count: 2\nservices:\n"
		  "  - { name: a, first_type: 512, last_type: 513, weights: \"3,0\" }\n",
		  "parsing [t.yaml:8]: services[0] (a): weights '3,0' must be 2 comma-separated "
		  "numbers in 1..1000, one per instance" },
		{ PORT0 "logic:\n  count: 2\nservices:\n"
		  "  - { name: a, first_type: 512, last_type: 513, weights: \"3,1,\" }\n",
		  "parsing [t.yaml:8]: services[0] (a): weights '3,1,' must be 2 comma-separated "
		  "numbers in 1..1000, one per instance" },
		{ PORT0 "gateway:\n  replay_max: 100\n  replay_budget: 50\n",
		  "parsing [t.yaml:6]: gateway.replay_max 100 is above gateway.replay_budget 50" },
		{ PORT0 "instances:\n  msg_mbufs: 1023\ngateway:\n  replay_budget: 512\n",
		  "parsing [t.yaml:8]: gateway.replay_budget 512 is above half of "
		  "instances.msg_mbufs (511): clients that never acknowledge would starve the rings" },
	};
	struct wg_conf c;
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		expect_validate_err(cases[i].yaml, cases[i].msg);
	expect_parse_err(PORT0 "services:\n  - { name: a, first_type: 512, strategy: fastest }\n",
			 "parsing [t.yaml:6]: services[0].strategy: 'fastest' is not one of "
			 "'round_robin', 'weighted', 'random', 'least_loaded', 'hash'");
	expect_parse_err(PORT0 "services:\n  - { name: a, first_type: 70000 }\n",
			 "parsing [t.yaml:6]: services[0].first_type: 70000 is out of range 0..65535");
	expect_validate_err(PORT0 "services:\n  - { name: a, first_type: 512 }\n",
			    "parsing [t.yaml:6]: services[0] (a): first_type and last_type are "
			    "required, in 256..65535");
	/* a good one: defaults filled, round trip through the dump */
	assert_int_equal(parse(&c, PORT0 "logic:\n  count: 2\nservices:\n"
			       "  - { name: echo, first_type: 512, last_type: 767 }\n"
			       "  - { name: chat, first_type: 768, last_type: 1023, instances: 1, "
			       "strategy: round_robin }\n"), 0);
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);
	assert_int_equal(c.n_services, 2);
	assert_string_equal(c.services[0].strategy, "hash");
	{
		uint32_t w[4];

		assert_int_equal(wg_conf_weights("3,1,1000", w, 4), 3);
		assert_int_equal(w[0], 3);
		assert_int_equal(w[2], 1000);
		assert_int_equal(wg_conf_weights("", w, 4), 0);
		assert_int_equal(wg_conf_weights("1,2,3,4,5", w, 4), -EINVAL);
		assert_int_equal(wg_conf_weights("1,,2", w, 4), -EINVAL);
		assert_int_equal(wg_conf_weights("1 ,2", w, 4), -EINVAL);
		assert_int_equal(wg_conf_weights("1001", w, 4), -EINVAL);
		assert_int_equal(wg_conf_weights("99999999999", w, 4), -EINVAL);
	}
	assert_int_equal(c.services[1].instances, 1);
	assert_round_trip(&c);
}

static void
test_validate(void **state)
{
	static const struct {
		const char *yaml, *msg;
	} cases[] = {
		{ "logic:\n  count: 1\n",
		  "parsing [t.yaml:0]: no ports: at least one entry under 'ports' is required" },
		{ "ports: []\n",
		  "parsing [t.yaml:1]: no ports: at least one entry under 'ports' is required" },
		{ PORT0 "  - name: tap0\n    dev: net_tap1\n    ipv4: 10.0.0.1/8\n",
		  "parsing [t.yaml:5]: ports[1].name 'tap0' is already used by ports[0]" },
		{ PORT0 "  - name: tap1\n    dev: net_tap0\n    ipv4: 10.0.0.1/8\n",
		  "parsing [t.yaml:6]: ports[1].dev 'net_tap0' is already used by ports[0]" },
		{ "ports:\n  - name: a\n    dev: d\n",
		  "parsing [t.yaml:2]: ports[0].ipv4 is required" },
		{ "ports:\n  - name: a\n    dev: d\n    ipv4: 0.0.0.0/24\n",
		  "parsing [t.yaml:4]: ports[0].ipv4 is required" },
		{ "ports:\n  - dev: d\n    ipv4: 198.18.0.2/24\n",
		  "parsing [t.yaml:2]: ports[0].name is required" },
		{ "ports:\n  - name: \"\"\n    dev: d\n    ipv4: 198.18.0.2/24\n",
		  "parsing [t.yaml:2]: ports[0].name is required" },
		{ "ports:\n  - name: a\n    ipv4: 198.18.0.2/24\n    dev:\n",
		  "parsing [t.yaml:4]: ports[0].dev is required" },
		{ "ports:\n  - name: a\n    dev: d\n    ipv4: 198.18.0.2/0\n",
		  "parsing [t.yaml:4]: ports[0].ipv4 prefix length 0 is out of range 1..32" },
		{ "ports:\n  - name: a\n    dev: d\n    ipv4: 198.18.0.0/24\n",
		  "parsing [t.yaml:4]: ports[0].ipv4 198.18.0.0 is the network address of "
		  "198.18.0.0/24" },
		{ "ports:\n  - name: a\n    dev: d\n    ipv4: 198.18.1.255/23\n",
		  "parsing [t.yaml:4]: ports[0].ipv4 198.18.1.255 is the broadcast address of "
		  "198.18.0.0/23" },
		{ PORT0 "    gateway: 10.0.0.1\n",
		  "parsing [t.yaml:5]: ports[0].gateway 10.0.0.1 is outside 198.18.0.0/24" },
		{ PORT0 "    gateway: 198.18.1.1\n",
		  "parsing [t.yaml:5]: ports[0].gateway 198.18.1.1 is outside 198.18.0.0/24" },
		{ PORT0 "  - name: b\n    dev: e\n    ipv4: 10.9.8.6/30\n    gateway: 10.9.8.8\n",
		  "parsing [t.yaml:8]: ports[1].gateway 10.9.8.8 is outside 10.9.8.4/30" },
		{ PORT0 "    gateway: 198.18.0.2\n",
		  "parsing [t.yaml:5]: ports[0].gateway 198.18.0.2 is the port's own address" },
		{ PORT0 "    mac: 01:00:5e:00:00:01\n",
		  "parsing [t.yaml:5]: ports[0].mac is a multicast address (low bit of the "
		  "first octet set)" },
		{ PORT0 "    mac: 00:00:00:00:00:00\n",
		  "parsing [t.yaml:5]: ports[0].mac is all zeros" },
		{ PORT0 "instances:\n  ring_size: 1000\n",
		  "parsing [t.yaml:6]: instances.ring_size 1000 is not a power of 2" },
		{ PORT0 "dataplane:\n  arp_entries: 1000\n",
		  "parsing [t.yaml:6]: dataplane.arp_entries 1000 is not a power of 2" },
		{ PORT0 "instances:\n  heartbeat_ms: 100\n  dead_after_ms: 100\n",
		  "parsing [t.yaml:7]: instances.dead_after_ms 100 must be greater than "
		  "instances.heartbeat_ms 100" },
		{ PORT0 "logic:\n  count: 8\n",
		  "parsing [t.yaml:6]: logic.count 8 must be less than instances.max 8" },
		{ PORT0 "instances:\n  max: 32\n  lcore_base: 120\nlogic:\n  count: 7\n",
		  "parsing [t.yaml:7]: instances.lcore_base 120 + 1 + logic.count 7 must be "
		  "below 128 (RTE_MAX_LCORE)" },
		{ PORT0 "dataplane:\n  mbufs: 700\n  mbuf_cache: 512\n",
		  "parsing [t.yaml:7]: dataplane.mbuf_cache 512 is larger than dataplane.mbufs "
		  "/ 1.5 (466)" },
		{ PORT0 "dataplane:\n  mbufs: 255\n",
		  "parsing [t.yaml:0]: dataplane.mbuf_cache 256 is larger than dataplane.mbufs "
		  "/ 1.5 (170)" },
		{ PORT0 "eal:\n  log_level: verbose\n",
		  "parsing [t.yaml:6]: eal.log_level 'verbose' is not one of emerg, alert, crit, "
		  "err, warning, notice, info, debug" },
		{ PORT0 "eal:\n  log_level: INFO\n",
		  "parsing [t.yaml:6]: eal.log_level 'INFO' is not one of emerg, alert, crit, "
		  "err, warning, notice, info, debug" },
		{ PORT0 "eal:\n  file_prefix: ''\n",
		  "parsing [t.yaml:6]: eal.file_prefix must not be empty" },
		{ PORT0 "eal:\n  lcores:\n",
		  "parsing [t.yaml:6]: eal.lcores must not be empty" },
	};
	static const char *const good[] = {
		PORT0,
		PORT0 "    gateway: 198.18.0.254\n",
		"ports:\n  - name: a\n    dev: d\n    ipv4: 10.0.0.0/31\n    gateway: 10.0.0.1\n",
		"ports:\n  - name: a\n    dev: d\n    ipv4: 10.0.0.0/32\n",
		PORT0 "instances:\n  max: 32\n  lcore_base: 119\nlogic:\n  count: 7\n",
		PORT0 "dataplane:\n  mbufs: 768\n  mbuf_cache: 512\n",
		PORT0 "instances:\n  heartbeat_ms: 100\n  dead_after_ms: 101\n",
		PORT0 "logic:\n  count: 7\n",
		PORT0 "logic:\n  count: 0\n",
		PORT0 "    mac: 02:00:00:00:00:01\n",
		PORT0 "eal:\n  log_level: emerg\n",
	};
	struct wg_conf c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		expect_validate_err(cases[i].yaml, cases[i].msg);
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(parse(&c, good[i]), 0);
		if (wg_conf_validate(&c, err, sizeof(err)) != 0)
			fail_msg("input:\n%s\nunexpected: %s", good[i], err);
	}
}

/* A struct filled in by code gets the parser's range checks too. */
static void
test_validate_programmatic(void **state)
{
	struct wg_conf c;

	(void)state;
	assert_int_equal(parse(&c, PORT0), 0);
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);

	c.dataplane.burst = 0;
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:0]: dataplane.burst: 0 is out of range 1..512");
	c.dataplane.burst = 32;

	c.ports[0].mtu = 9001;
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:0]: ports[0].mtu: 9001 is out of range "
			    "68..9000");
	c.ports[0].mtu = 1500;

	c.ports[0].prefix_len = 33;
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:4]: ports[0].ipv4: prefix length 33 is out "
			    "of range 0..32");
	c.ports[0].prefix_len = 24;

	c.n_ports = WG_CONF_MAX_PORTS + 1;
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:1]: ports: too many items (9, at most 8)");
	c.n_ports = 1;

	c.eal.n_extra_args = 17;
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:0]: eal.extra_args: too many items "
			    "(17, at most 16)");
	c.eal.n_extra_args = 0;

	memset(c.eal.huge_dir, 'h', sizeof(c.eal.huge_dir));
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:0]: eal.huge_dir: string is not NUL-terminated");
	c.eal.huge_dir[0] = '\0';

	c.path[0] = '\0';
	c.instances.ring_size = 3;
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [config:0]: instances.ring_size: 3 is out of range "
			    "16..1048576");
	c.instances.ring_size = 1024;
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);
}

/* ------------------------------------------------------------ impair */

static void
test_impair_section(void **state)
{
	static const struct wg_conf_impair_dir zero;
	struct wg_conf c, d;

	(void)state;
	assert_int_equal(parse(&c, PORT0_IMPAIR), 0);
	assert_int_equal(c.ports[0].impair.seed, 42);
	assert_int_equal(c.ports[0].impair.rx.loss_ppm, 50000);
	assert_int_equal(c.ports[0].impair.rx.dup_ppm, 10000);
	assert_int_equal(c.ports[0].impair.rx.reorder_ppm, 250000);
	assert_int_equal(c.ports[0].impair.rx.delay_us, 50000);
	assert_int_equal(c.ports[0].impair.rx.jitter_us, 10000);
	assert_int_equal(c.ports[0].impair.rx.reorder_us, 5000);
	assert_int_equal(c.ports[0].impair.tx.loss_ppm, 5000);
	assert_int_equal(c.ports[0].impair.tx.dup_ppm, 0);
	assert_int_equal(c.ports[0].impair.tx.delay_us, 0);
	assert_int_equal(c.ports[0].impair.tx.reorder_us, 0);
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);

	/* absent, empty or null: all zero, nothing else changes */
	assert_int_equal(parse(&d, PORT0), 0);
	assert_memory_equal(&d.ports[0].impair, &(struct wg_conf_impair){ 0 },
			    sizeof(d.ports[0].impair));
	assert_int_equal(parse(&c, PORT0 "    impair:\n"), 0);
	assert_memory_equal(&c, &d, CONF_CMP_LEN);
	assert_int_equal(parse(&c, PORT0 "    impair: {}\n"), 0);
	assert_memory_equal(&c, &d, CONF_CMP_LEN);
	assert_int_equal(parse(&c, PORT0 "    impair: { rx: ~, tx: {} }\n"), 0);
	assert_memory_equal(&c, &d, CONF_CMP_LEN);

	/* each direction on its own, block style; a second port is untouched */
	assert_int_equal(parse(&c, PORT0
		"    impair:\n"
		"      tx:\n"
		"        dup: 100%\n"
		"        delay_ms: 0.5\n"
		"  - name: tap1\n"
		"    dev: net_tap1\n"
		"    ipv4: 10.0.0.1/8\n"
		"    impair: {seed: 18446744073709551615, rx: {reorder: 0.0001%}}\n"), 0);
	assert_int_equal(c.ports[0].impair.seed, 0);
	assert_memory_equal(&c.ports[0].impair.rx, &zero, sizeof(zero));
	assert_int_equal(c.ports[0].impair.tx.dup_ppm, 1000000);
	assert_int_equal(c.ports[0].impair.tx.delay_us, 500);
	assert_int_equal(c.ports[1].impair.seed, UINT64_MAX);
	assert_int_equal(c.ports[1].impair.rx.reorder_ppm, 1);
	assert_memory_equal(&c.ports[1].impair.tx, &zero, sizeof(zero));
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);
}

/* Percentages are exact decimal, never a float: 4 decimals, ppm out. */
static void
test_impair_percent(void **state)
{
	static const struct {
		const char *text;
		uint32_t ppm;
	} ok[] = {
		{ "0%", 0 }, { "100%", 1000000 }, { "5%", 50000 }, { "0.5%", 5000 },
		{ "12.25%", 122500 }, { "0.0001%", 1 }, { "99.9999%", 999999 },
		{ "1.50%", 15000 }, { "0.1%", 1000 }, { "33.3333%", 333333 },
		{ "100.0000%", 1000000 }, { "0.0%", 0 }, { "7.07%", 70700 },
	};
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{ "101%", "101% is out of range 0%..100%" },
		{ "100.0001%", "100.0001% is out of range 0%..100%" },
		{ "18446744073709551616%", "18446744073709551616% is out of range 0%..100%" },
		{ "-5%", "-5% is out of range 0%..100%" },
		{ "-0.5%", "-0.5% is out of range 0%..100%" },
		{ "5", "'5' has no '%' sign (write e.g. 5% or 0.25%)" },
		{ "0.5", "'0.5' has no '%' sign (write e.g. 5% or 0.25%)" },
		{ "five", "'five' has no '%' sign (write e.g. 5% or 0.25%)" },
		{ "5.12345%", "'5.12345%' has more than 4 decimals" },
		{ "0.00001%", "'0.00001%' has more than 4 decimals" },
		{ "abc%", "expected a percentage like 5% or 0.25%, got 'abc%'" },
		{ "05%", "expected a percentage like 5% or 0.25%, got '05%'" },
		{ ".5%", "expected a percentage like 5% or 0.25%, got '.5%'" },
		{ "5.%", "expected a percentage like 5% or 0.25%, got '5.%'" },
		{ "5%%", "expected a percentage like 5% or 0.25%, got '5%%'" },
		{ "+5%", "expected a percentage like 5% or 0.25%, got '+5%'" },
		{ "1e2%", "expected a percentage like 5% or 0.25%, got '1e2%'" },
		{ "0x5%", "expected a percentage like 5% or 0.25%, got '0x5%'" },
		{ "5.5.5%", "expected a percentage like 5% or 0.25%, got '5.5.5%'" },
		{ "5 %", "expected a percentage like 5% or 0.25%, got '5 %'" },
		{ "-%", "expected a percentage like 5% or 0.25%, got '-%'" },
		{ "~", "'~' has no '%' sign (write e.g. 5% or 0.25%)" },
		{ "\"5%\"", "expected a percentage like 5% or 0.25%, got a quoted string" },
		{ "'5%'", "expected a percentage like 5% or 0.25%, got a quoted string" },
		{ "", "expected a percentage like 5% or 0.25%, got an empty value" },
		{ "[5%]", "expected a percentage, got a sequence" },
		{ "{a: 1}", "expected a percentage, got a mapping" },
	};
	static const char *const keys[] = { "loss", "dup", "reorder" };
	char yaml[512], want[512];
	struct wg_conf c;
	size_t i, j;
	uint32_t got;

	(void)state;
	for (j = 0; j < ARRAY_SIZE(keys); j++) {
		for (i = 0; i < ARRAY_SIZE(ok); i++) {
			snprintf(yaml, sizeof(yaml), PORT0 "    impair:\n      tx:\n        %s: %s\n",
				 keys[j], ok[i].text);
			if (parse(&c, yaml) != 0)
				fail_msg("%s: %s", ok[i].text, err);
			got = j == 0 ? c.ports[0].impair.tx.loss_ppm :
			      j == 1 ? c.ports[0].impair.tx.dup_ppm : c.ports[0].impair.tx.reorder_ppm;
			if (got != ok[i].ppm)
				fail_msg("%s: %u ppm, want %u", ok[i].text, got, ok[i].ppm);
			assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);
			assert_round_trip(&c);
		}
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			snprintf(yaml, sizeof(yaml), PORT0 "    impair:\n      tx:\n        %s: %s\n",
				 keys[j], bad[i].text);
			snprintf(want, sizeof(want), "parsing [t.yaml:7]: ports[0].impair.tx.%s: %s",
				 keys[j], bad[i].msg);
			expect_parse_err(yaml, want);
		}
	}
	/* flow style, the error on its line, the path naming the direction */
	expect_parse_err(PORT0 "    impair:\n      seed: 1\n      rx: { loss: 5%, dup: 150% }\n",
			 "parsing [t.yaml:7]: ports[0].impair.rx.dup: 150% is out of range 0%..100%");
	expect_parse_err(PORT0 "    impair: {rx: {loss: 1}}\n",
			 "parsing [t.yaml:5]: ports[0].impair.rx.loss: '1' has no '%' sign "
			 "(write e.g. 5% or 0.25%)");
}

/* Durations: milliseconds with up to 3 decimals, stored in microseconds. */
static void
test_impair_ms(void **state)
{
	static const struct {
		const char *text;
		uint32_t us;
	} ok[] = {
		{ "0", 0 }, { "50", 50000 }, { "0.5", 500 }, { "0.001", 1 }, { "1.5", 1500 },
		{ "10000", 10000000 }, { "9999.999", 9999999 }, { "10000.000", 10000000 },
		{ "0.010", 10 },
	};
	static const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{ "10001", "10001 is out of range 0..10000" },
		{ "10000.001", "10000.001 is out of range 0..10000" },
		{ "99999999999999999999", "99999999999999999999 is out of range 0..10000" },
		{ "-1", "-1 is out of range 0..10000" },
		{ "0.0001", "'0.0001' has more than 3 decimals" },
		{ "5%", "expected milliseconds like 50 or 0.5, got '5%'" },
		{ "50ms", "expected milliseconds like 50 or 0.5, got '50ms'" },
		{ "050", "expected milliseconds like 50 or 0.5, got '050'" },
		{ "1.", "expected milliseconds like 50 or 0.5, got '1.'" },
		{ "1e3", "expected milliseconds like 50 or 0.5, got '1e3'" },
		{ "\"50\"", "expected milliseconds like 50 or 0.5, got a quoted string" },
		{ "", "expected milliseconds like 50 or 0.5, got an empty value" },
		{ "[1]", "expected milliseconds, got a sequence" },
	};
	static const char *const keys[] = { "delay_ms", "jitter_ms", "reorder_ms" };
	char yaml[512], want[512];
	struct wg_conf c;
	size_t i, j;
	uint32_t got;

	(void)state;
	for (j = 0; j < ARRAY_SIZE(keys); j++) {
		for (i = 0; i < ARRAY_SIZE(ok); i++) {
			snprintf(yaml, sizeof(yaml), PORT0 "    impair:\n      rx:\n        %s: %s\n",
				 keys[j], ok[i].text);
			if (parse(&c, yaml) != 0)
				fail_msg("%s: %s", ok[i].text, err);
			got = j == 0 ? c.ports[0].impair.rx.delay_us :
			      j == 1 ? c.ports[0].impair.rx.jitter_us : c.ports[0].impair.rx.reorder_us;
			if (got != ok[i].us)
				fail_msg("%s: %u us, want %u", ok[i].text, got, ok[i].us);
			assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);
			assert_round_trip(&c);
		}
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			snprintf(yaml, sizeof(yaml), PORT0 "    impair:\n      rx:\n        %s: %s\n",
				 keys[j], bad[i].text);
			snprintf(want, sizeof(want), "parsing [t.yaml:7]: ports[0].impair.rx.%s: %s",
				 keys[j], bad[i].msg);
			expect_parse_err(yaml, want);
		}
	}
}

static void
test_impair_seed_and_structure(void **state)
{
	struct wg_conf c;

	(void)state;
	assert_int_equal(parse(&c, PORT0 "    impair: {seed: 0}\n"), 0);
	assert_int_equal(c.ports[0].impair.seed, 0);
	assert_int_equal(parse(&c, PORT0 "    impair: {seed: 12345678901234567890}\n"), 0);
	assert_int_equal(c.ports[0].impair.seed, 12345678901234567890ull);
	expect_parse_err(PORT0 "    impair: {seed: 18446744073709551616}\n",
			 "parsing [t.yaml:5]: ports[0].impair.seed: 18446744073709551616 is out of "
			 "range 0..18446744073709551615");
	expect_parse_err(PORT0 "    impair: {seed: -1}\n",
			 "parsing [t.yaml:5]: ports[0].impair.seed: -1 is out of range "
			 "0..18446744073709551615");
	expect_parse_err(PORT0 "    impair: {seed: 0x10}\n",
			 "parsing [t.yaml:5]: ports[0].impair.seed: expected an integer in "
			 "0..18446744073709551615, got '0x10'");
	expect_parse_err(PORT0 "    impair: {seed: 042}\n",
			 "parsing [t.yaml:5]: ports[0].impair.seed: expected an integer in "
			 "0..18446744073709551615, got '042'");
	expect_parse_err(PORT0 "    impair: {seed: '42'}\n",
			 "parsing [t.yaml:5]: ports[0].impair.seed: expected an integer in "
			 "0..18446744073709551615, got a quoted string");
	expect_parse_err(PORT0 "    impair: {seed: }\n",
			 "parsing [t.yaml:5]: ports[0].impair.seed: expected an integer in "
			 "0..18446744073709551615, got an empty value");

	/* shape errors */
	expect_parse_err(PORT0 "    impair: 5%\n",
			 "parsing [t.yaml:5]: ports[0].impair: expected a mapping, got a scalar");
	expect_parse_err(PORT0 "    impair: [rx]\n",
			 "parsing [t.yaml:5]: ports[0].impair: expected a mapping, got a sequence");
	expect_parse_err(PORT0 "    impair:\n      rx: 5%\n",
			 "parsing [t.yaml:6]: ports[0].impair.rx: expected a mapping, got a scalar");
	expect_parse_err(PORT0 "    impair:\n      both: {loss: 1%}\n",
			 "parsing [t.yaml:6]: unknown key 'both' in section 'ports[0].impair'");
	expect_parse_err(PORT0 "    impair:\n      rx: {los: 1%}\n",
			 "parsing [t.yaml:6]: unknown key 'los' in section 'ports[0].impair.rx'");
	expect_parse_err(PORT0 "    impair:\n      rx: {delay: 1}\n",
			 "parsing [t.yaml:6]: unknown key 'delay' in section 'ports[0].impair.rx'");
	expect_parse_err(PORT0 "    impair:\n      rx: {delay_us: 1}\n",
			 "parsing [t.yaml:6]: unknown key 'delay_us' in section "
			 "'ports[0].impair.rx'");
	expect_parse_err(PORT0 "    impair:\n      rx: {loss_ppm: 1}\n",
			 "parsing [t.yaml:6]: unknown key 'loss_ppm' in section "
			 "'ports[0].impair.rx'");
	expect_parse_err(PORT0 "    impair:\n      rx:\n        loss: 1%\n        loss: 2%\n",
			 "parsing [t.yaml:8]: duplicate key 'loss' in section 'ports[0].impair.rx' "
			 "(first at line 7)");
	expect_parse_err(PORT0 "    impair:\n      tx: {}\n      tx: {}\n",
			 "parsing [t.yaml:7]: duplicate key 'tx' in section 'ports[0].impair' "
			 "(first at line 6)");
	expect_parse_err(PORT0 "    impair: {}\n    impair: {}\n",
			 "parsing [t.yaml:6]: duplicate key 'impair' in section 'ports[0]' "
			 "(first at line 5)");
	/* top-level or section-level impair is not a thing */
	expect_parse_err("impair: {}\n" PORT0, "parsing [t.yaml:1]: unknown key 'impair' at "
			 "top level");
	expect_parse_err(PORT0 "  - name: tap1\n    dev: d1\n    ipv4: 10.0.0.1/8\n"
			 "    impair: {tx: {reorder_ms: 10000.5}}\n",
			 "parsing [t.yaml:8]: ports[1].impair.tx.reorder_ms: 10000.5 is out of "
			 "range 0..10000");
	/* a failed parse leaves everything as it was */
	assert_int_equal(parse(&c, PORT0_IMPAIR), 0);
	assert_int_equal(parse_over(&c, PORT0 "    impair: {tx: {loss: 2%, dup: 2}}\n"),
			 -EINVAL);
	assert_int_equal(c.ports[0].impair.rx.loss_ppm, 50000);
	assert_int_equal(c.ports[0].impair.tx.loss_ppm, 5000);
	/* a port list given again replaces the items, impairment included */
	assert_int_equal(parse_over(&c, PORT0), 0);
	assert_int_equal(c.ports[0].impair.rx.loss_ppm, 0);
	assert_int_equal(c.ports[0].impair.seed, 0);
}

/* Dump writes the section only where it is set, exactly, and reads back. */
static void
test_impair_dump(void **state)
{
	struct wg_conf c;
	unsigned int i;
	size_t len;
	char *text;

	(void)state;
	assert_int_equal(parse(&c, PORT0_IMPAIR
		"  - name: tap1\n"
		"    dev: net_tap1\n"
		"    ipv4: 10.0.0.1/8\n"), 0);
	assert_round_trip(&c);
	text = dump_to_string(&c, &len);
	assert_non_null(strstr(text,
		"    csum_offload: true\n"
		"    impair:\n"
		"      seed: 42\n"
		"      rx:\n"
		"        loss: 5%\n"
		"        dup: 1%\n"
		"        reorder: 25%\n"
		"        delay_ms: 50\n"
		"        jitter_ms: 10\n"
		"        reorder_ms: 5\n"
		"      tx:\n"
		"        loss: 0.5%\n"
		"        dup: 0%\n"
		"        reorder: 0%\n"
		"        delay_ms: 0\n"
		"        jitter_ms: 0\n"
		"        reorder_ms: 0\n"
		"  - name: \"tap1\"\n"));
	/* one impair section: tap1 has none */
	assert_null(strstr(strstr(text, "impair:") + 1, "impair:"));
	free(text);

	/* seed only, one direction only */
	assert_int_equal(parse(&c, PORT0 "    impair: {seed: 7}\n"), 0);
	text = dump_to_string(&c, &len);
	assert_non_null(strstr(text, "    impair:\n      seed: 7\n"));
	assert_null(strstr(text, "rx:"));
	assert_null(strstr(text, "tx:"));
	free(text);
	assert_round_trip(&c);
	assert_int_equal(parse(&c, PORT0 "    impair: {tx: {jitter_ms: 0.25}}\n"), 0);
	text = dump_to_string(&c, &len);
	assert_non_null(strstr(text, "    impair:\n      seed: 0\n      tx:\n        loss: 0%\n"));
	assert_non_null(strstr(text, "        jitter_ms: 0.25\n"));
	assert_null(strstr(text, "rx:"));
	free(text);
	assert_round_trip(&c);

	/* every field at odd values, set by code, on every port */
	assert_int_equal(parse(&c, PORT0), 0);
	c.n_ports = WG_CONF_MAX_PORTS;
	for (i = 0; i < WG_CONF_MAX_PORTS; i++) {
		struct wg_conf_impair *im = &c.ports[i].impair;

		if (i > 0)
			memcpy(&c.ports[i], &c.ports[0], sizeof(c.ports[0]));
		/* zero-filled: the parser leaves nothing after the NUL either */
		memset(c.ports[i].name, 0, sizeof(c.ports[i].name));
		memset(c.ports[i].dev, 0, sizeof(c.ports[i].dev));
		snprintf(c.ports[i].name, sizeof(c.ports[i].name), "p%u", i);
		snprintf(c.ports[i].dev, sizeof(c.ports[i].dev), "net_null%u", i);
		im->seed = UINT64_MAX - i;
		im->rx.loss_ppm = 1 + i;
		im->rx.dup_ppm = 999999 - i;
		im->rx.reorder_ppm = 1000000 - i * 10;
		im->rx.delay_us = 1 + i * 1000;
		im->rx.jitter_us = 10000000 - i;
		im->rx.reorder_us = 123456 + i;
		im->tx.loss_ppm = 100 * i;
		im->tx.delay_us = 10 * i;
	}
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);
	assert_round_trip(&c);
	text = dump_to_string(&c, &len);
	assert_non_null(strstr(text, "        loss: 0.0001%\n        dup: 99.9999%\n"
			       "        reorder: 100%\n        delay_ms: 0.001\n"
			       "        jitter_ms: 10000\n        reorder_ms: 123.456\n"));
	assert_non_null(strstr(text, "      seed: 18446744073709551608\n"));
	free(text);
}

/* Lines are recorded for every impair key of every port, and validation of
 * a struct set by code names them. */
static void
test_impair_validate_lines(void **state)
{
	char *yaml, *p;
	struct wg_conf c;
	unsigned int i;

	(void)state;
	yaml = malloc(16384);
	assert_non_null(yaml);
	p = yaml + sprintf(yaml, "ports:\n");
	for (i = 0; i < WG_CONF_MAX_PORTS; i++)     /* 19 lines a port, from line 2 */
		p += sprintf(p,
			     "  - name: p%u\n"
			     "    dev: d%u\n"
			     "    mac: 02:00:00:00:00:0%u\n"
			     "    ipv4: 10.0.%u.1/24\n"
			     "    gateway: 10.0.%u.2\n"
			     "    mtu: 1500\n"
			     "    rx_desc: 512\n"
			     "    tx_desc: 512\n"
			     "    csum_offload: true\n"
			     "    impair:\n"
			     "      seed: %u\n"
			     "      rx: {loss: 1%%, dup: 1%%, reorder: 1%%, delay_ms: 1, jitter_ms: 1, "
			     "reorder_ms: 1}\n"
			     "      tx:\n"
			     "        loss: 2%%\n"
			     "        dup: 2%%\n"
			     "        reorder: 2%%\n"
			     "        delay_ms: 2\n        jitter_ms: 2\n        reorder_ms: 2\n",
			     i, i, i + 1, i, i, i);
	/* full eal/dataplane/instances/logic sections as well */
	strcpy(p, full_yaml + strlen("# full config\n"));
	p = strstr(p, "ports:\n");
	assert_non_null(p);
	*p = '\0';
	strcat(yaml, "instances: {max: 16, ring_size: 4096, msg_mbufs: 16383, heartbeat_ms: 50, "
		     "dead_after_ms: 500, lcore_base: 4}\nlogic: {count: 3}\n");
	assert_int_equal(parse(&c, yaml), 0);
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);
	/* 1 + 5 + 7 + 9 + 6 + 1 section/keys, 8 x (item + 10 + 3 + 12) */
	/* 5 sections + 7 eal + 9 dataplane + 6 instances keys, logic.count
	 * (an entry of its own: the logic section has more fields), and per port the
	 * item, 9 keys, impair, seed, rx, tx and 2 x 6 */
	assert_int_equal(c.n_lines, 6 + 7 + 9 + 6 + WG_CONF_MAX_PORTS * 26);

	/* the last port's last keys still have their lines */
	c.ports[7].impair.tx.reorder_us = 10000001;
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:153]: ports[7].impair.tx.reorder_ms: "
			    "10000.001 is out of range 0..10000");
	c.ports[7].impair.tx.reorder_us = 0;
	c.ports[7].impair.rx.dup_ppm = 1000001;
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:146]: ports[7].impair.rx.dup: 100.0001% is "
			    "out of range 0%..100%");
	c.ports[7].impair.rx.dup_ppm = 0;
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);
	free(yaml);

	/* set by code, no lines: line 0 */
	assert_int_equal(parse(&c, PORT0), 0);
	c.ports[0].impair.tx.jitter_us = UINT32_MAX;
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:0]: ports[0].impair.tx.jitter_ms: "
			    "4294967.295 is out of range 0..10000");
}

/* TLS, WebSocket and listeners: values, defaults of list items, word keys
 * and the cross-field rules, each error on its line. */
static void
test_listeners(void **state)
{
	struct wg_conf c;

	(void)state;
	assert_int_equal(parse(&c, PORT0
		"dataplane: { dev_mode: true }\n"
		"tls:\n"
		"  cert: /etc/wg/cert.pem\n"
		"  key: /etc/wg/key.pem\n"
		"  tickets: 0\n"
		"  record_size: 4096\n"
		"  crypto: inline\n"
		"ws:\n"
		"  path: /game\n"
		"  origins: [\"https://play.example\", \"https://beta.example\"]\n"
		"  subprotocols: [wg.v1]\n"
		"  max_message: 65536\n"
		"listeners:\n"
		"  - { port: 443 }\n"
		"  - { port: 8080, tls: false }\n"
		"  - { port: 7000, proto: framed, service: echo, max_message: 4096 }\n"), 0);
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);
	assert_true(c.dataplane.dev_mode);
	assert_string_equal(c.tls.cert, "/etc/wg/cert.pem");
	assert_string_equal(c.tls.ciphersuites, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384");
	assert_int_equal(c.tls.tickets, 0);
	assert_int_equal(c.tls.record_size, 4096);
	assert_string_equal(c.tls.crypto, "inline");
	assert_string_equal(c.ws.path, "/game");
	assert_int_equal(c.ws.n_origins, 2);
	assert_string_equal(c.ws.origins[1], "https://beta.example");
	assert_int_equal(c.ws.n_subprotocols, 1);
	assert_int_equal(c.ws.max_message, 65536);
	assert_int_equal(c.ws.max_request, 8192);
	assert_int_equal(c.n_listeners, 3);
	assert_int_equal(c.listeners[0].port, 443);
	assert_true(c.listeners[0].tls);
	assert_string_equal(c.listeners[0].proto, "ws");
	assert_string_equal(c.listeners[0].service, "echo");
	assert_false(c.listeners[1].tls);
	assert_string_equal(c.listeners[2].proto, "framed");
	assert_string_equal(c.listeners[2].service, "echo");
	assert_int_equal(c.listeners[2].max_message, 4096);
	assert_round_trip(&c);

	expect_parse_err(PORT0 "listeners:\n  - { port: 1, proto: http }\n",
			 "parsing [t.yaml:6]: listeners[0].proto: 'http' is not one of "
			 "'ws', 'framed', 'raw'");
	expect_parse_err(PORT0 "tls:\n  crypto: gpu\n",
			 "parsing [t.yaml:6]: tls.crypto: 'gpu' is not one of 'inline'");
	expect_parse_err(PORT0 "tls:\n  record_size: 100\n",
			 "parsing [t.yaml:6]: tls.record_size: 100 is out of range 512..16384");
	expect_validate_err(PORT0 "listeners:\n  - port: 443\n",
			    "parsing [t.yaml:6]: listeners[0] uses TLS: tls.cert and tls.key are required");
	expect_validate_err(PORT0 "listeners:\n  - port: 80\n    tls: false\n",
			    "parsing [t.yaml:7]: listeners[0] without TLS needs dataplane.dev_mode: true "
			    "(plain ws:// and framed TCP are for development)");
	expect_validate_err(PORT0 "dataplane: {dev_mode: on}\n"
			    "listeners:\n  - {port: 80, tls: no}\n  - {port: 80, tls: no}\n",
			    "parsing [t.yaml:8]: listeners[1].port 80 is already used by listeners[0]");
	expect_validate_err(PORT0 "tcp: {echo_port: 7}\ndataplane: {dev_mode: on}\n"
			    "listeners:\n  - {tls: no, port: 7}\n",
			    "parsing [t.yaml:8]: listeners[0].port 7 is taken by tcp.echo_port");
	expect_validate_err(PORT0 "dataplane: {dev_mode: on}\n"
			    "listeners:\n  - {tls: no, port: 9, proto: framed, max_message: 0}\n",
			    "parsing [t.yaml:7]: listeners[0].max_message must be at least 1 for framed");
	expect_validate_err(PORT0 "listeners:\n  - {tls: no}\n",
			    "parsing [t.yaml:6]: listeners[0].port is required");
}

static void
test_round_trip(void **state)
{
	static const char weird[] =
		"eal:\n"
		"  huge_dir: \"q\\\"b\\\\s\\x01\\x1f\\x7f\\t\\r\\n\\x80\\x85\\x9f\\xa0\\u2028"
		"\\u2029\\uFEFF\\uFFFE\\uFFFF\\u00e9\\u4e2d\\U0001F600 # not a comment\"\n"
		"  log_level: \"'#&*!|>%@`\\x85\"\n"
		"  extra_args: [\"\", \" lead\", \"trail \", \"- dash\", \"a: b\", \"[x]\",\n"
		"               \"\\u2029\", \"x\\uFEFF\", \"\\uFFFF\", \"\\x9f\"]\n"
		"ports:\n"
		"  - name: \"{}\"\n"
		"    dev: \"~\"\n"
		"    ipv4: 0.0.0.0/0\n"
		"  - name: null\n"
		"    dev: \"null\"\n"
		"    ipv4: 1.2.3.4/32\n"
		"    mac: ff:ff:ff:ff:ff:ff\n";
	struct wg_conf c;
	size_t len;
	char *text;

	(void)state;
	/* defaults: no ports, empty list */
	wg_conf_defaults(&c);
	assert_round_trip(&c);
	text = dump_to_string(&c, &len);
	assert_non_null(strstr(text, "\nports: []\n"));
	assert_non_null(strstr(text, "\n  extra_args: []\n"));
	assert_non_null(strstr(text, "# warpgate effective configuration (from defaults)\n"));
	free(text);

	assert_int_equal(parse(&c, full_yaml), 0);
	assert_round_trip(&c);
	text = dump_to_string(&c, &len);
	assert_non_null(strstr(text, "\n  - name: \"tap0\"\n    dev: \"net_tap0,iface=wgtap0\"\n"
			       "    mac: 02:00:00:ab:cd:01\n    ipv4: 198.18.0.2/24\n"
			       "    gateway: 198.18.0.1\n    mtu: 9000\n"));
	/* unset gateway and MAC are left out rather than written as zeros */
	assert_non_null(strstr(text, "\n  - name: \"tap1\"\n    dev: \"net_tap1\"\n"
			       "    ipv4: 10.1.2.3/8\n    mtu: 1500\n"));
	assert_non_null(strstr(text, "\n  no_huge: true\n"));
	assert_non_null(strstr(text, "\n    csum_offload: false\n"));
	free(text);

	assert_int_equal(parse(&c, weird), 0);
	assert_int_equal(c.eal.huge_dir[0], 'q');
	assert_int_equal(c.eal.n_extra_args, 10);
	assert_string_equal(c.eal.extra_args[9], "\xc2\x9f");
	assert_string_equal(c.eal.log_level + 10, "\xc2\x85");
	assert_string_equal(c.ports[1].name, "");
	assert_string_equal(c.ports[0].dev, "~");
	assert_round_trip(&c);

	/* every byte 0x01..0x7f in one string */
	wg_conf_defaults(&c);
	strcpy(c.path, "t.yaml");
	for (int i = 1; i < 128; i++)
		c.eal.huge_dir[i - 1] = (char)i;
	c.n_ports = 1;
	strcpy(c.ports[0].name, "p\n# x: y");
	c.ports[0].mtu = 68;
	c.ports[0].rx_desc = 32;
	c.ports[0].tx_desc = 32768;
	assert_round_trip(&c);

	/* a path with a line break cannot inject YAML through the header comment */
	strcpy(c.path, "evil\neal: 1\n");
	text = dump_to_string(&c, &len);
	assert_non_null(strstr(text, "(from evil?eal: 1?)\n"));
	free(text);
}

/* Every prefix of a valid config parses or fails cleanly, never half-applies. */
static void
test_truncated_input(void **state)
{
	static const char *const texts[] = { full_yaml, PORT0 "logic: {count: 2}\n",
					     PORT0_IMPAIR };
	struct wg_conf c, d;
	size_t t, n, len, ok, bad;
	char *dumped;

	(void)state;
	wg_conf_defaults(&d);
	for (t = 0; t < ARRAY_SIZE(texts) + 1; t++) {
		const char *text;

		if (t < ARRAY_SIZE(texts)) {
			text = texts[t];
			len = strlen(text);
			dumped = NULL;
		} else {
			assert_int_equal(parse(&c, full_yaml), 0);
			dumped = dump_to_string(&c, &len);
			text = dumped;
		}
		ok = bad = 0;
		for (n = 0; n <= len; n++) {
			char *copy = malloc(n ? n : 1);   /* exact size: ASan sees overreads */
			int rc;

			assert_non_null(copy);
			memcpy(copy, text, n);
			memcpy(&c, &d, sizeof(c));
			rc = wg_conf_parse_string(&c, "t.yaml", copy, n, err, sizeof(err));
			free(copy);
			if (rc == 0) {
				ok++;
				continue;
			}
			bad++;
			if (rc != -EINVAL)
				fail_msg("prefix %zu: rc %d", n, rc);
			if (strncmp(err, "parsing [t.yaml:", 16) != 0 || strstr(err, "]: ") == NULL ||
			    strlen(err) < 24)
				fail_msg("prefix %zu: malformed error '%s'", n, err);
			if (memcmp(&c, &d, sizeof(c)) != 0)
				fail_msg("prefix %zu: failed parse modified the config", n);
		}
		/* both outcomes occur: cuts inside a token fail, cuts at line ends pass */
		assert_true(ok > 10);
		assert_true(bad > 10);
		free(dumped);
	}
}

/* depth opening brackets, then as many closing ones */
static void
nest(char *p, char open, char close, size_t depth)
{
	memset(p, open, depth);
	memset(p + depth, close, depth);
	strcpy(p + 2 * depth, "\n");
}

static void
test_large_and_deep(void **state)
{
	const size_t depth = 100000, lines = 200000;
	struct wg_conf c;
	char *buf, *p;
	size_t i;

	(void)state;
	buf = malloc(lines * 16 + 2 * depth + 256);
	assert_non_null(buf);
	if (buf == NULL)   /* cmocka's assert is not noreturn to gcc */
		return;

	/* deep nesting, balanced or not, stops at the depth cap and costs little:
	 * libyaml's scanner is O(depth) per token */
	p = buf + sprintf(buf, "dataplane:\n  burst: ");
	nest(p, '[', ']', depth);
	expect_parse_err(buf, "parsing [t.yaml:2]: nesting is deeper than 16 levels");
	nest(buf, '[', ']', depth);
	expect_parse_err(buf, "parsing [t.yaml:1]: nesting is deeper than 16 levels");
	nest(buf, '{', '}', depth);
	expect_parse_err(buf, "parsing [t.yaml:1]: nesting is deeper than 16 levels");
	p = buf + sprintf(buf, "dataplane:\n  burst: ");
	memset(p, '[', depth);
	strcpy(p + depth, "\n");
	expect_parse_err(buf, "parsing [t.yaml:2]: nesting is deeper than 16 levels");
	for (i = 0, p = buf; i < 20; i++)
		p += sprintf(p, "%*sa:\n", (int)(2 * i), "");
	expect_parse_err(buf, "parsing [t.yaml:17]: nesting is deeper than 16 levels");
	/* below the cap, the walker refuses the first level it does not expect */
	p = buf + sprintf(buf, "dataplane:\n  burst: ");
	nest(p, '[', ']', 14);
	expect_parse_err(buf, "parsing [t.yaml:2]: dataplane.burst: expected an integer, "
			 "got a sequence");
	p = buf + sprintf(buf, "eal:\n  extra_args: ");
	nest(p, '[', ']', 14);
	expect_parse_err(buf, "parsing [t.yaml:2]: eal.extra_args[0]: expected a string, "
			 "got a sequence");
	nest(buf, '{', '}', 16);
	expect_parse_err(buf, "parsing [t.yaml:1]: expected a key at top level, got a mapping");

	/* many lines: line numbers stay exact */
	for (i = 0, p = buf; i < lines; i++)
		p += sprintf(p, "# comment %zu\n", i % 1000);
	strcpy(p, "logic:\n  count: 5\n");
	assert_int_equal(parse(&c, buf), 0);
	assert_int_equal(c.logic.count, 5);
	strcpy(p, "logic:\n  count: x\n");
	expect_parse_err(buf, "parsing [t.yaml:200002]: logic.count: expected an integer in "
			 "0..126, got 'x'");

	/* a huge scalar is measured, not truncated into place */
	p = buf + sprintf(buf, "eal:\n  file_prefix: ");
	memset(p, 'a', lines * 8);
	strcpy(p + lines * 8, "\n");
	expect_parse_err(buf, "parsing [t.yaml:2]: eal.file_prefix: string is too long "
			 "(1600000 bytes, at most 63)");

	/* a long list of ports stops at the bound */
	for (i = 0, p = buf + sprintf(buf, "ports:\n"); i < 10000; i++)
		p += sprintf(p, "  - {}\n");
	expect_parse_err(buf, "parsing [t.yaml:10]: ports: too many items (at most 8)");
	free(buf);
}

static void
test_err_buffer(void **state)
{
	struct wg_conf c;
	char small[17];

	(void)state;
	wg_conf_defaults(&c);
	memset(small, 'X', sizeof(small));
	assert_int_equal(wg_conf_parse_string(&c, "t.yaml", "bogus: 1\n", 9, small,
					      sizeof(small)), -EINVAL);
	assert_string_equal(small, "parsing [t.yaml:");
	assert_int_equal(wg_conf_parse_string(&c, "t.yaml", "bogus: 1\n", 9, NULL, 0), -EINVAL);
	assert_int_equal(wg_conf_parse_string(&c, NULL, "bogus: 1\n", 9, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "parsing [config:1]: unknown key 'bogus' at top level");
	assert_int_equal(wg_conf_parse_string(NULL, "t.yaml", "", 0, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "parsing [t.yaml:0]: invalid arguments");
	assert_int_equal(wg_conf_parse_string(&c, "t.yaml", NULL, 5, err, sizeof(err)), -EINVAL);
	assert_int_equal(wg_conf_validate(&c, NULL, 0), -EINVAL);
	/* success clears a stale message */
	strcpy(err, "stale");
	assert_int_equal(wg_conf_parse_string(&c, "t.yaml", "", 0, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static char *
write_temp(const char *text, size_t len)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	assert_true(asprintf(&path, "%s/wg_conf_XXXXXX", dir ? dir : "/tmp") > 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void
test_load(void **state)
{
	struct wg_conf c;
	char *path, *big, want[512];

	(void)state;
	assert_int_equal(wg_conf_load(&c, "/nonexistent/wg.yaml", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "parsing [/nonexistent/wg.yaml:0]: cannot open: "
			    "No such file or directory");
	assert_int_equal(wg_conf_load(&c, "/", err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "parsing [/:0]: cannot read: Is a directory");

	path = write_temp(full_yaml, strlen(full_yaml));
	assert_int_equal(wg_conf_load(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.path, path);
	assert_int_equal(c.logic.count, 3);
	assert_int_equal(c.n_ports, 2);
	unlink(path);
	free(path);

	/* parse error names the file */
	path = write_temp("dataplane:\n  bogus: 1\n", 22);
	assert_int_equal(wg_conf_load(&c, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "parsing [%s:2]: unknown key 'bogus' in section "
		 "'dataplane'", path);
	assert_string_equal(err, want);
	unlink(path);
	free(path);

	/* load also validates; defaults are reset first */
	c.dataplane.burst = 7;
	path = write_temp("logic:\n  count: 1\n", 18);
	assert_int_equal(wg_conf_load(&c, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "parsing [%s:0]: no ports: at least one entry under "
		 "'ports' is required", path);
	assert_string_equal(err, want);
	assert_int_equal(c.dataplane.burst, 32);
	unlink(path);
	free(path);

	/* bigger than 1 MiB: refused before parsing */
	big = malloc((1u << 20) + 1);
	assert_non_null(big);
	memset(big, '#', (1u << 20) + 1);
	path = write_temp(big, (1u << 20) + 1);
	assert_int_equal(wg_conf_load(&c, path, err, sizeof(err)), -EFBIG);
	snprintf(want, sizeof(want), "parsing [%s:0]: file is larger than 1048576 bytes", path);
	assert_string_equal(err, want);
	unlink(path);
	free(path);
	/* exactly 1 MiB of comment + newline is fine (and has no ports) */
	big[(1u << 20) - 1] = '\n';
	path = write_temp(big, 1u << 20);
	assert_int_equal(wg_conf_load(&c, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":0]: no ports"));
	unlink(path);
	free(path);
	free(big);
}

/* rel under the source root: $WG_SRC, else derived from __FILE__, which
 * works from the source root and under meson (tests run in the build root,
 * sources compiled as ../tests/unit/...). */
static bool
src_path(char *out, size_t len, const char *rel)
{
	static const char suffix[] = "tests/unit/test_conf.c";
	const char *env = getenv("WG_SRC"), *f = __FILE__;
	size_t n = strlen(f), m = strlen(suffix);
	FILE *probe;

	if (env != NULL)
		snprintf(out, len, "%s/%s", env, rel);
	else if (n >= m && strcmp(f + n - m, suffix) == 0)
		snprintf(out, len, "%.*s%s", (int)(n - m), f, rel);
	else
		return false;
	probe = fopen(out, "r");
	if (probe == NULL)
		return false;
	fclose(probe);
	return true;
}

/* configs/warpgate.yaml is the defaults plus the tap0 port, and validates. */
static void
test_default_config_file(void **state)
{
	struct wg_conf c, d;
	char path[1024];

	(void)state;
	if (!src_path(path, sizeof(path), "configs/warpgate.yaml"))
		skip();
	assert_int_equal(wg_conf_load(&c, path, err, sizeof(err)), 0);

	wg_conf_defaults(&d);
	strcpy(d.path, c.path);
	d.n_ports = 1;
	strcpy(d.ports[0].name, "tap0");
	strcpy(d.ports[0].dev, "net_tap0,iface=wgtap0");
	memcpy(&d.ports[0].ipv4, "\xc6\x12\x00\x02", 4);
	d.ports[0].prefix_len = 24;
	d.ports[0].mtu = 1500;
	d.ports[0].rx_desc = 1024;
	d.ports[0].tx_desc = 1024;
	d.ports[0].csum_offload = true;
	strcpy(d.tls.cert, "/run/warpgate/pki/chain.crt");
	strcpy(d.tls.key, "/run/warpgate/pki/server.key");
	/* field by field: padding stays the zeros of wg_conf_defaults */
	d.n_listeners = 4;
	d.listeners[0].port = 443;
	d.listeners[1].port = 7443;
	d.listeners[2].port = 8443;
	d.listeners[3].port = 9443;
	for (unsigned int i = 0; i < 4; i++) {
		strcpy(d.listeners[i].proto, i % 2 == 0 ? "ws" : "framed");
		d.listeners[i].tls = true;
		strcpy(d.listeners[i].service, i < 2 ? "echo" : "gateway");
		d.listeners[i].max_message = 65536;
	}
	strcpy(d.control.token_keys, "/run/warpgate/token.keys");
	strcpy(d.control.account_db, "host=127.0.0.1 port=15432 user=postgres dbname=postgres");
	d.n_services = 3;
	strcpy(d.services[0].name, "echo");
	d.services[0].first_type = 512;
	d.services[0].last_type = 767;
	strcpy(d.services[0].strategy, "round_robin");
	strcpy(d.services[1].name, "chat");
	d.services[1].first_type = 768;
	d.services[1].last_type = 1023;
	d.services[1].instances = 1;
	strcpy(d.services[1].strategy, "hash");
	strcpy(d.services[2].name, "world");
	d.services[2].first_type = 1024;
	d.services[2].last_type = 1279;
	d.services[2].instances = 1;
	strcpy(d.services[2].strategy, "hash");
	assert_memory_equal(&c, &d, CONF_CMP_LEN);
}

/* The commented-out impair example in configs/warpgate.yaml, uncommented,
 * parses to what its comments say: the documentation cannot rot. */
static void
test_default_config_impair_example(void **state)
{
	static const char marker[] = "\n    # impair:\n";
	struct wg_conf c;
	char path[1024], *buf, *at, *line;
	size_t len, i;
	FILE *f;

	(void)state;
	if (!src_path(path, sizeof(path), "configs/warpgate.yaml"))
		skip();
	f = fopen(path, "rb");
	assert_non_null(f);
	buf = calloc(1, 1 << 16);
	assert_non_null(buf);
	len = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	assert_true(len > 0 && len < (1 << 16) - 1);
	at = strstr(buf, marker);
	if (at == NULL)
		fail_msg("configs/warpgate.yaml has no '    # impair:' example");
	/* "    # impair:" and the three lines after it lose their "# " */
	for (i = 0, line = at + 1; i < 4; i++) {
		assert_memory_equal(line, "    # ", 6);
		memmove(line + 4, line + 6, strlen(line + 6) + 1);
		line = strchr(line, '\n');
		assert_non_null(line);
		line++;
	}
	assert_int_equal(parse(&c, buf), 0);
	assert_int_equal(wg_conf_validate(&c, err, sizeof(err)), 0);
	assert_int_equal(c.ports[0].impair.seed, 42);
	assert_int_equal(c.ports[0].impair.rx.loss_ppm, 50000);
	assert_int_equal(c.ports[0].impair.rx.dup_ppm, 10000);
	assert_int_equal(c.ports[0].impair.rx.reorder_ppm, 250000);
	assert_int_equal(c.ports[0].impair.rx.delay_us, 50000);
	assert_int_equal(c.ports[0].impair.rx.jitter_us, 10000);
	assert_int_equal(c.ports[0].impair.rx.reorder_us, 5000);
	assert_int_equal(c.ports[0].impair.tx.loss_ppm, 5000);
	assert_int_equal(c.ports[0].impair.tx.delay_us + c.ports[0].impair.tx.dup_ppm, 0);
	free(buf);
}

/* Each configs/test-bad file fails with the text its first line promises. */
static void
test_bad_config_files(void **state)
{
	static const char *const files[] = {
		"syntax.yaml", "unknown_key.yaml", "wrong_type.yaml", "out_of_range.yaml",
		"duplicate_key.yaml", "bad_ipv4.yaml", "bad_mac.yaml", "not_integer.yaml",
		"string_too_long.yaml", "too_many_ports.yaml", "alias.yaml",
		"gateway_outside.yaml", "no_ports.yaml", "ring_size.yaml",
	};
	struct wg_conf c;
	char path[1024], line[512], *expect;
	size_t i;
	FILE *f;

	(void)state;
	if (!src_path(path, sizeof(path), "configs/test-bad/syntax.yaml"))
		skip();
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		char rel[128];

		snprintf(rel, sizeof(rel), "configs/test-bad/%s", files[i]);
		if (!src_path(path, sizeof(path), rel))
			fail_msg("%s missing", rel);
		f = fopen(path, "r");
		assert_non_null(f);
		assert_non_null(fgets(line, sizeof(line), f));
		fclose(f);
		if (strncmp(line, "# expect: ", 10) != 0)
			fail_msg("%s: first line is not '# expect: ...'", rel);
		expect = line + 10;
		expect[strcspn(expect, "\n")] = '\0';
		if (wg_conf_load(&c, path, err, sizeof(err)) != -EINVAL)
			fail_msg("%s: loaded without error", rel);
		if (strstr(err, expect) == NULL)
			fail_msg("%s:\n got: %s\nwant: ...%s...", rel, err, expect);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_port_defaults),
		cmocka_unit_test(test_empty_documents),
		cmocka_unit_test(test_bool_spellings),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_wrong_node_types),
		cmocka_unit_test(test_too_many_ports),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_anchors_aliases_tags),
		cmocka_unit_test(test_line_endings_and_styles),
		cmocka_unit_test(test_atomic_and_layering),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_services),
		cmocka_unit_test(test_validate_programmatic),
		cmocka_unit_test(test_impair_section),
		cmocka_unit_test(test_impair_percent),
		cmocka_unit_test(test_impair_ms),
		cmocka_unit_test(test_impair_seed_and_structure),
		cmocka_unit_test(test_impair_dump),
		cmocka_unit_test(test_impair_validate_lines),
		cmocka_unit_test(test_listeners),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated_input),
		cmocka_unit_test(test_large_and_deep),
		cmocka_unit_test(test_err_buffer),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_default_config_file),
		cmocka_unit_test(test_default_config_impair_example),
		cmocka_unit_test(test_bad_config_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
