/* SPDX-License-Identifier: BSD-3-Clause
 * UTF-8 validator (ws_utf8.c): hand-picked cases in the categories of the
 * Autobahn testsuite's section 6 (boundaries, overlongs, surrogates, code
 * points past U+10FFFF, lone and missing continuation bytes, truncation),
 * the same texts split at every byte, and an exhaustive comparison with a
 * plain decoder written from RFC 3629's rules over every 1-, 2- and 3-byte
 * string and a dense slice of the 4-byte ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ws.h"

/* Reference: decode one character at a time by the RFC's definition.
 * Returns 1 valid, 0 invalid, -1 valid so far but ends inside a character. */
static int
ref_check(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t b = p[i];
		unsigned int need;
		uint32_t cp, min;

		if (b < 0x80) {
			i++;
			continue;
		} else if ((b & 0xe0) == 0xc0) {
			need = 1; cp = b & 0x1f; min = 0x80;
		} else if ((b & 0xf0) == 0xe0) {
			need = 2; cp = b & 0x0f; min = 0x800;
		} else if ((b & 0xf8) == 0xf0) {
			need = 3; cp = b & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		for (unsigned int k = 1; k <= need; k++) {
			if (i + k >= n) {
				/* ran out: valid so far if some completion is
				 * valid; only the first missing byte is narrowed
				 * (to a sub-range of 80-BF), so filling every
				 * missing byte with one value c covers them all */
				for (uint32_t c = 0x80; c <= 0xbf; c++) {
					uint8_t tmp[4];
					size_t have = n - i;

					memcpy(tmp, p + i, have);
					for (size_t j = have; j <= need; j++)
						tmp[j] = (uint8_t)c;
					if (ref_check(tmp, need + 1) == 1)
						return -1;
				}
				return 0;
			}
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* validator verdict: 1 valid, 0 rejected, -1 incomplete */
static int
check(const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);   /* exact size: ASan sees overreads */
	uint32_t st;

	assert_non_null(copy);
	memcpy(copy, p, n);
	st = wg_utf8_step(WG_UTF8_ACCEPT, copy, n);
	free(copy);
	return st == WG_UTF8_ACCEPT ? 1 : st == WG_UTF8_REJECT ? 0 : -1;
}

/* same text fed in two pieces at every split: same verdict */
static int
check_split(const uint8_t *p, size_t n)
{
	int whole = check(p, n);

	for (size_t cut = 0; cut <= n; cut++) {
		uint32_t st = wg_utf8_step(WG_UTF8_ACCEPT, p, cut);

		st = wg_utf8_step(st, p + cut, n - cut);
		assert_int_equal(st == WG_UTF8_ACCEPT ? 1 : st == WG_UTF8_REJECT ? 0 : -1, whole);
	}
	/* and byte by byte */
	{
		uint32_t st = WG_UTF8_ACCEPT;

		for (size_t i = 0; i < n; i++)
			st = wg_utf8_step(st, p + i, 1);
		assert_int_equal(st == WG_UTF8_ACCEPT ? 1 : st == WG_UTF8_REJECT ? 0 : -1, whole);
	}
	return whole;
}

#define VALID(s)      assert_int_equal(check_split((const uint8_t *)(s), sizeof(s) - 1), 1)
#define INVALID(s)    assert_int_equal(check_split((const uint8_t *)(s), sizeof(s) - 1), 0)
#define INCOMPLETE(s) assert_int_equal(check_split((const uint8_t *)(s), sizeof(s) - 1), -1)

static void
test_valid(void **state)
{
	(void)state;
	VALID("");
	VALID("Hello, world");
	VALID("\x00\x7f");
	VALID("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");          /* kosme */
	VALID("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!");
	/* first and last of each length */
	VALID("\xc2\x80");            /* U+0080 */
	VALID("\xdf\xbf");            /* U+07FF */
	VALID("\xe0\xa0\x80");        /* U+0800 */
	VALID("\xef\xbf\xbf");        /* U+FFFF (a noncharacter, still valid) */
	VALID("\xf0\x90\x80\x80");    /* U+10000 */
	VALID("\xf4\x8f\xbf\xbf");    /* U+10FFFF */
	/* around the surrogates */
	VALID("\xed\x9f\xbf");        /* U+D7FF */
	VALID("\xee\x80\x80");        /* U+E000 */
	VALID("\xef\xbb\xbf");        /* BOM */
	VALID("\xef\xbf\xbe");        /* U+FFFE */
	VALID("\xf0\x9f\x98\x80 smile \xe2\x82\xac euro");
}

static void
test_overlong(void **state)
{
	(void)state;
	INVALID("\xc0\x80");          /* NUL, 2 bytes */
	INVALID("\xc0\xaf");          /* '/' */
	INVALID("\xc1\xbf");          /* U+007F */
	INVALID("\xe0\x80\x80");
	INVALID("\xe0\x80\xaf");
	INVALID("\xe0\x9f\xbf");      /* U+07FF in 3 bytes */
	INVALID("\xf0\x80\x80\x80");
	INVALID("\xf0\x80\x80\xaf");
	INVALID("\xf0\x8f\xbf\xbf");  /* U+FFFF in 4 bytes */
	INVALID("\xf8\x80\x80\x80\xaf");
	INVALID("\xfc\x80\x80\x80\x80\xaf");
}

static void
test_surrogates(void **state)
{
	(void)state;
	INVALID("\xed\xa0\x80");      /* U+D800 */
	INVALID("\xed\xad\xbf");      /* U+DB7F */
	INVALID("\xed\xae\x80");
	INVALID("\xed\xaf\xbf");
	INVALID("\xed\xb0\x80");      /* U+DC00 */
	INVALID("\xed\xbe\x80");
	INVALID("\xed\xbf\xbf");      /* U+DFFF */
	INVALID("\xed\xa0\x80\xed\xb0\x80");   /* a CESU-8 pair */
	INVALID("\xed\xaf\xbf\xed\xbf\xbf");
}

static void
test_too_big(void **state)
{
	(void)state;
	INVALID("\xf4\x90\x80\x80");  /* U+110000 */
	INVALID("\xf4\xbf\xbf\xbf");
	INVALID("\xf5\x80\x80\x80");
	INVALID("\xf7\xbf\xbf\xbf");  /* U+1FFFFF */
	INVALID("\xfb\xbf\xbf\xbf\xbf");
	INVALID("\xfe");
	INVALID("\xff");
	INVALID("\xfe\xfe\xff\xff");
}

static void
test_continuations(void **state)
{
	(void)state;
	INVALID("\x80");
	INVALID("\xbf");
	INVALID("\x80\xbf");
	INVALID("a\x80\xbf\x80");
	INVALID("\xc2\x80\x80");      /* one too many */
	INVALID("\xc2 ");             /* lead then space */
	INVALID("\xe1\x80 ");
	INVALID("\xf1\x80\x80 ");
	INVALID("\xc2\xc2\x80");
	/* Autobahn 6.4: fail fast - the text goes on past the bad byte */
	INVALID("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80" "edited");
	INVALID("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80" "edited");
}

static void
test_truncated(void **state)
{
	(void)state;
	INCOMPLETE("\xc2");
	INCOMPLETE("\xe0\xa0");
	INCOMPLETE("\xe1");
	INCOMPLETE("\xed\x9f");
	INCOMPLETE("\xf0\x90\x80");
	INCOMPLETE("\xf4\x8f");
	INCOMPLETE("\xf3");
	INCOMPLETE("abc\xce\xba\xe1\xbd");
	/* already impossible before the end: rejected, not incomplete */
	INVALID("\xe0\x9f");
	INVALID("\xed\xa0");
	INVALID("\xf0\x8f");
	INVALID("\xf4\x90");
}

/* fail fast: the state turns REJECT at the bad byte, not later */
static void
test_fail_fast(void **state)
{
	static const uint8_t s[] = "abc\xce\xba\xed\xa0\x80xyz";
	uint32_t st = WG_UTF8_ACCEPT;

	(void)state;
	st = wg_utf8_step(st, s, 6);          /* up to and including ED */
	assert_int_not_equal(st, WG_UTF8_REJECT);
	assert_int_not_equal(st, WG_UTF8_ACCEPT);
	st = wg_utf8_step(st, s + 6, 1);      /* A0 */
	assert_int_equal(st, WG_UTF8_REJECT);
	/* sticky */
	assert_int_equal(wg_utf8_step(st, (const uint8_t *)"abc", 3), WG_UTF8_REJECT);
	/* a garbage state is refused, not used as an index */
	assert_int_equal(wg_utf8_step(12345, (const uint8_t *)"a", 1), WG_UTF8_REJECT);
}

/* The ASCII fast path skips 16 bytes at a time: a bad byte at every
 * position of long ASCII runs, and lead bytes straddling block edges. */
static void
test_fast_path_positions(void **state)
{
	uint8_t buf[80];

	(void)state;
	for (size_t pos = 0; pos < sizeof(buf); pos++) {
		memset(buf, 'a', sizeof(buf));
		buf[pos] = 0x80;
		assert_int_equal(check(buf, sizeof(buf)), 0);
		/* a 3-byte character starting at pos */
		memset(buf, 'a', sizeof(buf));
		if (pos + 3 <= sizeof(buf)) {
			memcpy(buf + pos, "\xe2\x82\xac", 3);
			assert_int_equal(check(buf, sizeof(buf)), 1);
			buf[pos + 2] = 'a';
			assert_int_equal(check(buf, sizeof(buf)), 0);
		}
		memset(buf, 'a', sizeof(buf));
		buf[pos] = 0xf0;   /* truncated at the very end when pos is last */
		assert_int_equal(check(buf, sizeof(buf)), pos + 1 == sizeof(buf) ? -1 : 0);
	}
}

static void
test_exhaustive_short(void **state)
{
	uint8_t b[3];

	(void)state;
	for (unsigned int x = 0; x < 256; x++) {
		b[0] = (uint8_t)x;
		assert_int_equal(check(b, 1), ref_check(b, 1));
		for (unsigned int y = 0; y < 256; y++) {
			b[1] = (uint8_t)y;
			assert_int_equal(wg_utf8_step(0, b, 2) == WG_UTF8_ACCEPT ? 1 :
					 wg_utf8_step(0, b, 2) == WG_UTF8_REJECT ? 0 : -1,
					 ref_check(b, 2));
		}
	}
	/* 16M three-byte strings; only leads that start a multi-byte form
	 * need all third bytes, the rest are decided by two */
	for (unsigned int x = 0xc0; x < 256; x++) {
		b[0] = (uint8_t)x;
		for (unsigned int y = 0; y < 256; y++) {
			b[1] = (uint8_t)y;
			for (unsigned int z = 0; z < 256; z++) {
				uint32_t st;
				int got, want;

				b[2] = (uint8_t)z;
				st = wg_utf8_step(0, b, 3);
				got = st == WG_UTF8_ACCEPT ? 1 : st == WG_UTF8_REJECT ? 0 : -1;
				want = ref_check(b, 3);
				if (got != want)
					fail_msg("%02x %02x %02x: got %d want %d", x, y, z, got, want);
			}
		}
	}
}

static void
test_exhaustive_four(void **state)
{
	static const uint8_t tail[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
					0xc0, 0xc2, 0xe0, 0xf0, 0xff };
	uint8_t b[4];

	(void)state;
	for (unsigned int x = 0xe0; x < 256; x++)
		for (unsigned int y = 0; y < 256; y++)
			for (size_t i = 0; i < sizeof(tail); i++)
				for (size_t j = 0; j < sizeof(tail); j++) {
					uint32_t st;
					int got, want;

					b[0] = (uint8_t)x;
					b[1] = (uint8_t)y;
					b[2] = tail[i];
					b[3] = tail[j];
					st = wg_utf8_step(0, b, 4);
					got = st == WG_UTF8_ACCEPT ? 1 : st == WG_UTF8_REJECT ? 0 : -1;
					want = ref_check(b, 4);
					if (got != want)
						fail_msg("%02x %02x %02x %02x: got %d want %d",
							 b[0], b[1], b[2], b[3], got, want);
				}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_surrogates),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_continuations),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_fail_fast),
		cmocka_unit_test(test_fast_path_positions),
		cmocka_unit_test(test_exhaustive_short),
		cmocka_unit_test(test_exhaustive_four),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
