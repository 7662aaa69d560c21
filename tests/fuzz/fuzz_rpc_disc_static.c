/* SPDX-License-Identifier: BSD-3-Clause
 * Static discovery file parser on arbitrary bytes. Oracles: every instance
 * it hands out passes wg_disc_instance_check(); formatting it and parsing
 * the line back yields the identical value (memcmp); an error comes with a
 * "line N: " message; and the parse is deterministic (a second run over the
 * same bytes gives the same result and count).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/disc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
	unsigned int n;
};

static int
one(void *arg, const struct wg_disc_instance *in)
{
	struct ctx *c = arg;
	char line[2048];
	int n;

	c->n++;
	if (wg_disc_instance_check(in) != 0)
		abort();
	n = wg_disc_format_static(in, line, sizeof(line));
	if (n <= 0)
		abort();
	if (wg_disc_parse_static(line, (size_t)n, NULL, NULL, NULL, 0) != 0)
		abort();
	return 0;
}

static int
grab(void *arg, const struct wg_disc_instance *in)
{
	struct wg_disc_instance *out = arg;

	*out = *in;
	return 1;      /* stop after the first */
}

static int
roundtrip(void *arg, const struct wg_disc_instance *in)
{
	struct wg_disc_instance back;
	char line[2048];
	int n;

	(void)arg;
	n = wg_disc_format_static(in, line, sizeof(line));
	if (n <= 0)
		abort();
	memset(&back, 0, sizeof(back));
	if (wg_disc_parse_static(line, (size_t)n, grab, &back, NULL, 0) != 1)
		abort();
	if (memcmp(&back, in, sizeof(back)) != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx a = { 0 }, b = { 0 };
	char err[128] = "", err2[128] = "";
	int r1, r2;

	r1 = wg_disc_parse_static((const char *)data, size, one, &a, err, sizeof(err));
	r2 = wg_disc_parse_static((const char *)data, size, one, &b, err2, sizeof(err2));
	if (r1 != r2 || a.n != b.n || strcmp(err, err2) != 0)
		abort();
	if (r1 != 0 && (r1 != -EINVAL || strncmp(err, "line ", 5) != 0))
		abort();
	wg_disc_parse_static((const char *)data, size, roundtrip, NULL, NULL, 0);
	return 0;
}
