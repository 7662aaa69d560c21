/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target for pktgen scenario files. Beyond "no crash, no leak":
 *  - a rejected input leaves one well-formed "fuzz:LINE: ..." line, returns
 *    -EINVAL (or -ENOMEM) and leaves the scenario untouched;
 *  - a valid one dumps to YAML that parses and validates back to the same
 *    struct, its login templates expand, and its size draws stay in range.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* open_memstream */
#endif

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktgen/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_err(int rc, const char *err, const char *what)
{
	const char *p = err + 5;

	if (rc != -EINVAL && rc != -ENOMEM) {
		fprintf(stderr, "%s: unexpected rc %d\n", what, rc);
		abort();
	}
	if (strncmp(err, "fuzz:", 5) != 0 || *p < '0' || *p > '9' || strstr(err, ": ") == NULL ||
	    strchr(err, '\n') != NULL) {
		fprintf(stderr, "%s: malformed error '%s'\n", what, err);
		abort();
	}
}

static void
check_sizes(const struct wg_scn_size *sz)
{
	static const uint64_t draws[] = { 0, 1, 1ull << 63, UINT64_MAX - 1, UINT64_MAX };
	uint32_t lo = UINT32_MAX, hi = 0, v;
	unsigned int i;

	if (sz->kind == WG_SCN_SIZE_WEIGHTED) {
		for (i = 0; i < sz->n_entries; i++) {
			lo = sz->entries[i].bytes < lo ? sz->entries[i].bytes : lo;
			hi = sz->entries[i].bytes > hi ? sz->entries[i].bytes : hi;
		}
	} else {
		lo = sz->lo;
		hi = sz->hi;
	}
	for (i = 0; i < sizeof(draws) / sizeof(draws[0]); i++) {
		v = wg_scn_size_pick(sz, draws[i]);
		if (v < lo || v > hi || v == 0 || v > WG_SCN_MSG_MAX) {
			fprintf(stderr, "size draw %u outside %u..%u\n", v, lo, hi);
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wg_scenario s, before, back;
	const char *tmpl[3];
	char err[WG_SCN_ERR_MAX], out[4096];
	char *text = NULL;
	size_t len = 0;
	unsigned int i, j;
	FILE *f;
	int rc;

	wg_scn_defaults(&s);
	memcpy(&before, &s, sizeof(s));
	rc = wg_scn_parse_string(&s, "fuzz", (const char *)data, size, err, sizeof(err));
	if (rc != 0) {
		check_err(rc, err, "parse");
		if (memcmp(&s, &before, sizeof(s)) != 0) {
			fprintf(stderr, "failed parse modified the scenario\n");
			abort();
		}
		return 0;
	}
	rc = wg_scn_validate(&s, err, sizeof(err));
	if (rc != 0) {
		check_err(rc, err, "validate");
		return 0;
	}
	tmpl[0] = s.login.token;
	tmpl[1] = s.login.account;
	tmpl[2] = s.login.password;
	for (i = 0; i < 3; i++) {
		if (wg_scn_expand(tmpl[i], UINT64_MAX, out, sizeof(out)) < 0) {
			fprintf(stderr, "valid template '%s' does not expand\n", tmpl[i]);
			abort();
		}
	}
	for (i = 0; i < s.n_phases; i++)
		for (j = 0; j < s.phases[i].n_actions; j++)
			check_sizes(&s.phases[i].actions[j].size);

	f = open_memstream(&text, &len);
	if (f == NULL)
		return 0;
	wg_scn_dump(f, &s);
	fclose(f);
	wg_scn_defaults(&back);
	rc = wg_scn_parse_string(&back, "fuzz", text, len, err, sizeof(err));
	if (rc == 0)
		rc = wg_scn_validate(&back, err, sizeof(err));
	if (rc != 0 || memcmp(&s, &back, offsetof(struct wg_scenario, lines)) != 0) {
		fprintf(stderr, "dump does not round-trip (%s):\n%s\n", rc ? err : "differs", text);
		abort();
	}
	free(text);
	return 0;
}
