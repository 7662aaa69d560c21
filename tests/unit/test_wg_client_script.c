/* SPDX-License-Identifier: BSD-3-Clause
 * wg_client's pure parts: the script parser (every step kind, every error
 * with its exact text and line), the JSON syntax check (offsets of the
 * first bad byte), member lookup, the subset matcher used by `expect`
 * (objects, arrays, escapes, number forms, proto3 defaults), quoting, and
 * URL parsing.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wg_client.h"

static char err[512];

/* ----------------------------------------------------------- scripts */

static void
test_script_all_steps(void **state)
{
	static const char text[] =
		"# chat between two clients\n"
		"\n"
		"send {\"type\":\"CHAT_JOIN\",\"payload\":{\"room\":\"lobby\"}}\n"
		"  expect CHAT_JOINED {\"room\":\"lobby\"}\r\n"
		"\texpect CHAT_MSG\n"
		"expect 0x105   {\"code\":\"BAD_TOKEN\"}   \n"
		"expect 771\n"
		"sleep 250\n"
		"send-raw {\"type\":\"CHAT_SAY\",\"payload\":{\"room\":1}}\n"
		"   # indented comment\n"
		"expect-close\n"
		"expect-close 1008";
	struct wgc_script s;
	const struct wgc_step *st;

	(void)state;
	assert_int_equal(wgc_script_parse(&s, text, strlen(text), err, sizeof(err)), 0);
	assert_int_equal(s.n_steps, 9);
	st = s.steps;
	assert_int_equal(st[0].kind, WGC_STEP_SEND);
	assert_int_equal(st[0].line, 3);
	assert_string_equal(st[0].arg, "{\"type\":\"CHAT_JOIN\",\"payload\":{\"room\":\"lobby\"}}");
	assert_int_equal(st[0].arg_len, strlen(st[0].arg));
	assert_int_equal(st[1].kind, WGC_STEP_EXPECT);
	assert_int_equal(st[1].line, 4);
	assert_int_equal(st[1].type, 0x304);
	assert_string_equal(st[1].type_name, "CHAT_JOINED");
	assert_string_equal(st[1].arg, "{\"room\":\"lobby\"}");     /* CR and spaces gone */
	assert_int_equal(st[2].kind, WGC_STEP_EXPECT);
	assert_int_equal(st[2].type, 0x303);
	assert_null(st[2].arg);
	assert_int_equal(st[3].type, 0x105);
	assert_string_equal(st[3].type_name, "ERROR");
	assert_string_equal(st[3].arg, "{\"code\":\"BAD_TOKEN\"}");
	assert_int_equal(st[4].type, 0x303);
	assert_int_equal(st[5].kind, WGC_STEP_SLEEP);
	assert_int_equal(st[5].ms, 250);
	assert_int_equal(st[5].line, 8);
	assert_int_equal(st[6].kind, WGC_STEP_SEND_RAW);
	assert_string_equal(st[6].arg, "{\"type\":\"CHAT_SAY\",\"payload\":{\"room\":1}}");
	assert_int_equal(st[7].kind, WGC_STEP_EXPECT_CLOSE);
	assert_int_equal(st[7].close_code, -1);
	assert_int_equal(st[7].line, 11);
	assert_int_equal(st[8].kind, WGC_STEP_EXPECT_CLOSE);
	assert_int_equal(st[8].close_code, 1008);
	assert_int_equal(st[8].line, 12);
	assert_string_equal(wgc_step_name(st[8].kind), "expect-close");
	assert_string_equal(wgc_step_name(99), "?");
	wgc_script_free(&s);
	assert_null(s.steps);

	/* empty and comment-only scripts are valid and empty */
	assert_int_equal(wgc_script_parse(&s, "", 0, err, sizeof(err)), 0);
	assert_int_equal(s.n_steps, 0);
	wgc_script_free(&s);
	assert_int_equal(wgc_script_parse(&s, "# x\n\n   \n", 9, err, sizeof(err)), 0);
	assert_int_equal(s.n_steps, 0);
	wgc_script_free(&s);
}

static void
bad_script(const char *text, size_t len, const char *want)
{
	struct wgc_script s;

	err[0] = '\0';
	assert_int_equal(wgc_script_parse(&s, text, len, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, want);
	assert_null(s.steps);
	assert_null(s.text);
}

static void
test_script_errors(void **state)
{
	(void)state;
	bad_script("send {}\nsned {}\n", 16,
		   "line 2: unknown step 'sned' (send, send-raw, expect, sleep, expect-close)");
	bad_script("send", 4, "line 1: send: nothing to send");
	bad_script("send-raw   ", 11, "line 1: send-raw: nothing to send");
	/* column counts from the start of the line, 1-based */
	bad_script("\n  send {\"type\":\"ECHO\",}", 24, "line 2: send: not valid JSON at column 23");
	bad_script("send [1]", 8, "line 1: send: expected a JSON object");
	bad_script("send {\"a\":01}", 13, "line 1: send: not valid JSON at column 12");
	bad_script("expect", 6, "line 1: expect: message type missing");
	bad_script("expect CHAT_MSGS", 16, "line 1: expect: unknown message type 'CHAT_MSGS'");
	bad_script("expect 9999", 11, "line 1: expect: unknown message type '9999'");
	bad_script("expect CHAT_MSG {\"text\":\"a\"", 27,
		   "line 1: expect: not valid JSON at column 28");
	bad_script("expect CHAT_MSG \"text\"", 22, "line 1: expect: expected a JSON object");
	bad_script("sleep", 5, "line 1: sleep: expected milliseconds (0..3600000), got ''");
	bad_script("sleep 10ms", 10, "line 1: sleep: expected milliseconds (0..3600000), got '10ms'");
	bad_script("sleep 3600001", 13,
		   "line 1: sleep: expected milliseconds (0..3600000), got '3600001'");
	bad_script("sleep 5 6", 9, "line 1: sleep: unexpected '6'");
	bad_script("expect-close 999", 16,
		   "line 1: expect-close: expected a close code (1000..4999), got '999'");
	bad_script("expect-close 5000", 17,
		   "line 1: expect-close: expected a close code (1000..4999), got '5000'");
	bad_script("expect-close 1000 now", 21, "line 1: expect-close: unexpected 'now'");
	bad_script("send {}\n\0send {}", 16, "line 2: NUL byte");
	/* invalid UTF-8 inside the JSON: the column of the bad byte */
	bad_script("send {\"a\":\"\xff\"}", 14, "line 1: send: not valid JSON at column 12");
}

static void
test_script_load(void **state)
{
	char path[] = "/tmp/wgc_scriptXXXXXX";
	static const char text[] = "send {\"type\":\"ACK\"}\nexpect ACK\nbogus\n";
	struct wgc_script s;
	int fd = mkstemp(path);
	char want[600];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(wgc_script_load(&s, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: line 3: unknown step 'bogus' (send, send-raw, expect, "
		 "sleep, expect-close)", path);
	assert_string_equal(err, want);
	/* fixed: the same file loads */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, 31), 31);
	close(fd);
	assert_int_equal(wgc_script_load(&s, path, err, sizeof(err)), 0);
	assert_int_equal(s.n_steps, 2);
	assert_int_equal(s.steps[1].type, 0x109);
	wgc_script_free(&s);
	unlink(path);
	assert_int_equal(wgc_script_load(&s, path, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
}

/* -------------------------------------------------------------- JSON */

static void
check_ok(const char *s)
{
	size_t at = 12345;

	if (wgc_json_check(s, strlen(s), &at) != 0)
		fail_msg("refused at %zu: %s", at, s);
}

static void
check_bad(const char *s, size_t want_at)
{
	size_t at = 12345;

	if (wgc_json_check(s, strlen(s), &at) != -EINVAL)
		fail_msg("accepted: %s", s);
	if (at != want_at)
		fail_msg("%s: bad byte at %zu, wanted %zu", s, at, want_at);
}

static void
test_json_check(void **state)
{
	char deep[80];

	(void)state;
	check_ok("{}");
	check_ok(" [ ] ");
	check_ok("0");
	check_ok("-0.5e+10");
	check_ok("1E5");
	check_ok("\"\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\"");
	check_ok("{\"a\":[1,{\"b\":null},true,false,\"x\"],\"c\":{}}");
	check_ok("\"\xc3\xa9\xf0\x9f\x98\x80\"");
	check_bad("", 0);
	check_bad("{\"a\":1,}", 7);
	check_bad("[1,]", 3);
	check_bad("01", 1);
	check_bad("1.", 2);
	check_bad("-", 1);
	check_bad("1e", 2);
	check_bad("{\"a\" 1}", 5);
	check_bad("{a:1}", 1);
	check_bad("\"\\ud800\"", 7);               /* lone high surrogate */
	check_bad("\"\\udc00\"", 7);               /* lone low surrogate */
	check_bad("\"\\x\"", 1);
	check_bad("\"a\tb\"", 2);                  /* control character */
	check_bad("\"abc", 4);
	check_bad("{} {}", 3);
	check_bad("nul", 0);
	check_bad("NaN", 0);
	check_bad("[1] // c", 4);
	check_bad("\"\xc3\"", 2);                  /* truncated UTF-8 */
	check_bad("\"\xed\xa0\x80\"", 2);          /* encoded surrogate */
	/* a member name twice (after unescaping): bad at the end of its object */
	check_bad("{\"a\":1,\"b\":2,\"a\":3}", 19);
	check_bad("{\"x\":{\"r\\u006fom\":1,\"room\":[{}]}}", 32);
	check_ok("{\"a\":{\"a\":1},\"b\":{\"a\":2}}");  /* same name, other objects */
	/* depth: 32 levels pass, 33 do not */
	memset(deep, '[', 32);
	memset(deep + 32, ']', 32);
	deep[64] = '\0';
	check_ok(deep);
	memset(deep, '[', 33);
	memset(deep + 33, ']', 33);
	deep[66] = '\0';
	check_bad(deep, 32);             /* the 33rd '[' */
}

static void
test_json_member(void **state)
{
	static const char obj[] =
		" { \"type\" : \"CHAT_MSG\", \"seq\":3 ,\"payload\":{\"room\":\"a\",\"n\":[1,{\"x\":2}]},"
		"\"r\\u006fom\":\"esc\", \"last\" : true } ";
	const char *v;
	size_t vl;

	(void)state;
	assert_int_equal(wgc_json_member(obj, strlen(obj), "type", &v, &vl), 0);
	assert_int_equal(vl, 10);
	assert_memory_equal(v, "\"CHAT_MSG\"", 10);
	assert_int_equal(wgc_json_member(obj, strlen(obj), "seq", &v, &vl), 0);
	assert_int_equal(vl, 1);
	assert_memory_equal(v, "3", 1);
	assert_int_equal(wgc_json_member(obj, strlen(obj), "payload", &v, &vl), 0);
	assert_int_equal(vl, strlen("{\"room\":\"a\",\"n\":[1,{\"x\":2}]}"));
	assert_memory_equal(v, "{\"room\":\"a\",\"n\":[1,{\"x\":2}]}", vl);
	/* member names compare unescaped */
	assert_int_equal(wgc_json_member(obj, strlen(obj), "room", &v, &vl), 0);
	assert_memory_equal(v, "\"esc\"", vl);
	assert_int_equal(wgc_json_member(obj, strlen(obj), "last", &v, &vl), 0);
	assert_int_equal(vl, 4);
	/* nested members are not top-level ones */
	assert_int_equal(wgc_json_member(obj, strlen(obj), "x", &v, &vl), -ENOENT);
	assert_int_equal(wgc_json_member(obj, strlen(obj), "msg_id", &v, &vl), -ENOENT);
	assert_int_equal(wgc_json_member("{}", 2, "a", &v, &vl), -ENOENT);
	assert_int_equal(wgc_json_member("[1]", 3, "a", &v, &vl), -EINVAL);
	assert_int_equal(wgc_json_member("\"a\"", 3, "a", &v, &vl), -EINVAL);
}

static void
match(const char *want, const char *have, int expect)
{
	int got;

	if (wgc_json_check(want, strlen(want), NULL) != 0 ||
	    wgc_json_check(have, strlen(have), NULL) != 0)
		fail_msg("test input is not JSON: %s / %s", want, have);
	got = wgc_json_match(want, strlen(want), have, strlen(have));
	if (got != expect)
		fail_msg("match(%s, %s) = %d, wanted %d", want, have, got, expect);
}

static void
test_json_match(void **state)
{
	(void)state;
	/* objects: a subset, recursively */
	match("{}", "{\"a\":1}", 1);
	match("{\"a\":1}", "{\"b\":2,\"a\":1}", 1);
	match("{\"a\":1}", "{\"a\":2}", 0);
	match("{\"a\":1,\"b\":2}", "{\"a\":1}", 0);
	match("{\"p\":{\"q\":\"x\"}}", "{\"p\":{\"r\":1,\"q\":\"x\"}}", 1);
	match("{\"p\":{\"q\":\"x\"}}", "{\"p\":{\"q\":\"y\"}}", 0);
	match(" { \"a\" : 1 } ", "{\"a\":1}", 1);
	match("{\"a\":1}", " {\n\"a\" :\t1 }\n", 1);
	match("{\"a\":1}", "[1]", 0);
	/* arrays: same length, element by element */
	match("{\"a\":[1,2]}", "{\"a\":[1,2]}", 1);
	match("{\"a\":[1,2]}", "{\"a\":[1,2,3]}", 0);
	match("{\"a\":[1,2,3]}", "{\"a\":[1,2]}", 0);
	match("{\"a\":[2,1]}", "{\"a\":[1,2]}", 0);
	match("[{\"x\":1}]", "[{\"y\":2,\"x\":1}]", 1);
	match("[]", "[]", 1);
	match("[]", "[0]", 0);
	match("[[1],[2,[3]]]", "[[1],[2,[3]]]", 1);
	/* strings: unescaped */
	match("\"\\u00e9\"", "\"\xc3\xa9\"", 1);
	match("\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"", 1);
	match("\"a\\\"b\\\\\"", "\"a\\u0022b\\u005c\"", 1);
	match("\"ab\"", "\"abc\"", 0);
	match("\"abc\"", "\"ab\"", 0);
	match("\"\"", "\"\"", 1);
	match("{\"r\\u006fom\":\"a\"}", "{\"room\":\"a\"}", 1);
	/* numbers by value; 64-bit integers as strings */
	match("100", "1e2", 1);
	match("1.5", "1.50", 1);
	match("1.5", "1.25", 0);
	match("\"77\"", "77", 1);
	match("77", "\"77\"", 1);
	match("77", "\"77x\"", 0);
	match("\"18446744073709551615\"", "\"18446744073709551615\"", 1);
	match("18446744073709551615", "18446744073709551614", 0);
	match("-0", "0", 1);
	match("1", "true", 0);
	/* proto3 defaults may be missing */
	match("{\"members\":0}", "{}", 1);
	match("{\"text\":\"\"}", "{\"room\":\"a\"}", 1);
	match("{\"flag\":false,\"x\":null,\"a\":[],\"o\":{}}", "{}", 1);
	match("{\"fromId\":\"0\"}", "{}", 1);
	match("{\"n\":0.0}", "{}", 1);
	match("{\"t\":\"x\"}", "{}", 0);
	match("{\"b\":true}", "{}", 0);
	match("{\"n\":1}", "{}", 0);
	match("{\"a\":[0]}", "{}", 0);
	/* present values must match even when want is a default */
	match("{\"members\":0}", "{\"members\":2}", 0);
	/* kinds */
	match("{\"a\":\"x\"}", "{\"a\":1}", 0);
	match("{\"a\":{}}", "{\"a\":[]}", 0);
	match("true", "\"true\"", 0);
	match("null", "null", 1);
	match("false", "true", 0);
	/* a realistic server message */
	match("{\"room\":\"lobby\",\"fromName\":\"bob\",\"text\":\"hi \\u2603\"}",
	      "{\"room\":\"lobby\",\"fromId\":\"1002\",\"fromName\":\"bob\",\"text\":\"hi \xe2\x98\x83\","
	      "\"serverTimeMs\":\"1764122411000\"}", 1);
}

static void
test_json_quote(void **state)
{
	char out[64];
	int n;

	(void)state;
	n = wgc_json_quote("a\"b\\c\nd\x01\xc3\xa9", 10, out, sizeof(out));
	assert_int_equal(n, 20);
	assert_memory_equal(out, "\"a\\\"b\\\\c\\nd\\u0001\xc3\xa9\"", 20);
	assert_int_equal(wgc_json_check(out, (size_t)n, NULL), 0);
	n = wgc_json_quote("", 0, out, sizeof(out));
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\"\"", 2);
	assert_int_equal(wgc_json_quote("abc", 3, out, 4), -ENOSPC);
	assert_int_equal(wgc_json_quote("abc", 3, out, 5), 5);
	assert_int_equal(wgc_json_quote("\x01", 1, out, 7), -ENOSPC);
}

/* -------------------------------------------------------------- URLs */

static void
url_ok(const char *s, uint8_t transport, const char *host, uint16_t port, const char *authority,
       const char *path, bool ip)
{
	struct wgc_url u;

	if (wgc_url_parse(&u, s, err, sizeof(err)) != 0)
		fail_msg("%s: %s", s, err);
	assert_int_equal(u.transport, transport);
	assert_string_equal(u.host, host);
	assert_int_equal(u.port, port);
	assert_string_equal(u.authority, authority);
	assert_string_equal(u.path, path);
	assert_int_equal(u.host_is_ip, ip);
	assert_int_equal(u.tls, transport == WGC_WSS || transport == WGC_FRAMED_TLS);
	assert_int_equal(u.ws, transport == WGC_WS || transport == WGC_WSS);
}

static void
url_bad(const char *s, const char *why)
{
	struct wgc_url u;
	char want[600];

	assert_int_equal(wgc_url_parse(&u, s, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "'%s': %s", s, why);
	assert_string_equal(err, want);
}

static void
test_url(void **state)
{
	(void)state;
	url_ok("ws://gw.example", WGC_WS, "gw.example", 80, "gw.example", "/", false);
	url_ok("WSS://gw.example/", WGC_WSS, "gw.example", 443, "gw.example", "/", false);
	url_ok("wss://198.18.7.2:8443/game?v=2", WGC_WSS, "198.18.7.2", 8443, "198.18.7.2:8443",
	       "/game?v=2", true);
	url_ok("ws://h:80", WGC_WS, "h", 80, "h", "/", false);
	url_ok("wss://h:80", WGC_WSS, "h", 80, "h:80", "/", false);
	url_ok("ws://h?x=1", WGC_WS, "h", 80, "h", "/?x=1", false);
	url_ok("framed://10.0.0.1", WGC_FRAMED, "10.0.0.1", 7443, "10.0.0.1:7443", "", true);
	url_ok("framed+tls://[::1]:9000/", WGC_FRAMED_TLS, "::1", 9000, "[::1]:9000", "", true);
	url_ok("wss://[2001:db8::1]/", WGC_WSS, "2001:db8::1", 443, "[2001:db8::1]", "/", true);
	url_bad("http://h/", "expected ws://, wss://, framed:// or framed+tls://");
	url_bad("ws://", "no host");
	url_bad("ws:///x", "no host");
	url_bad("ws://h:", "empty port");
	url_bad("ws://h:0", "bad port");
	url_bad("ws://h:65536", "bad port");
	url_bad("ws://h:8x", "bad port");
	url_bad("ws://u@h", "user information is not supported");
	url_bad("ws://::1/", "IPv6 addresses go in brackets");
	url_bad("ws://[::1/", "unterminated IPv6 address");
	url_bad("ws://[1.2.3]/", "bad IPv6 address");
	url_bad("ws://h/#top", "fragments are not sent to a server");
	url_bad("framed://h/path", "framed TCP has no path");
	url_bad("ws://h/a b", "path needs percent-encoding");
	url_bad("ws://h%41/", "bad character in the host");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script_all_steps),
		cmocka_unit_test(test_script_errors),
		cmocka_unit_test(test_script_load),
		cmocka_unit_test(test_json_check),
		cmocka_unit_test(test_json_member),
		cmocka_unit_test(test_json_match),
		cmocka_unit_test(test_json_quote),
		cmocka_unit_test(test_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
