/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target for the config parser. Beyond "no crash, no leak" it
 * checks two properties on every input:
 *  - a rejected input leaves a well-formed "parsing [fuzz:LINE]: ..." message
 *    and returns -EINVAL (or -ENOMEM), and leaves the config untouched;
 *  - an accepted one dumps to YAML that parses back to the same struct.
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

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_err(int rc, const char *err, const char *what)
{
	if (rc != -EINVAL && rc != -ENOMEM) {
		fprintf(stderr, "%s: unexpected rc %d\n", what, rc);
		abort();
	}
	if (strncmp(err, "parsing [fuzz:", 14) != 0 || strstr(err, "]: ") == NULL ||
	    strchr(err, '\n') != NULL) {
		fprintf(stderr, "%s: malformed error '%s'\n", what, err);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wg_conf c, before, back;
	char err[WG_CONF_ERR_MAX];
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	wg_conf_defaults(&c);
	memcpy(&before, &c, sizeof(c));
	rc = wg_conf_parse_string(&c, "fuzz", (const char *)data, size, err, sizeof(err));
	if (rc != 0) {
		check_err(rc, err, "parse");
		if (memcmp(&c, &before, sizeof(c)) != 0) {
			fprintf(stderr, "failed parse modified the config\n");
			abort();
		}
		return 0;
	}

	rc = wg_conf_validate(&c, err, sizeof(err));
	if (rc != 0)
		check_err(rc, err, "validate");

	f = open_memstream(&text, &len);
	if (f == NULL)
		return 0;
	wg_conf_dump(f, &c);
	fclose(f);
	wg_conf_defaults(&back);
	rc = wg_conf_parse_string(&back, "fuzz", text, len, err, sizeof(err));
	if (rc != 0 || memcmp(&c, &back, offsetof(struct wg_conf, lines)) != 0) {
		fprintf(stderr, "dump does not round-trip (%s):\n%s\n", rc ? err : "differs",
			text);
		abort();
	}
	free(text);
	return 0;
}
