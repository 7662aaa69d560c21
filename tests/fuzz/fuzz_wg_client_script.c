/* SPDX-License-Identifier: BSD-3-Clause
 * wg_client's script parser and JSON helpers (tools/wg_client_script.c) on
 * arbitrary bytes: scripts parse or fail with an error, never crash or
 * leak; a value that passes the JSON check matches itself as a pattern and
 * its members can be looked up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wg_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size heap copy so ASan sees any over-read */
	char *buf = malloc(size ? size : 1);
	struct wgc_script s;
	char err[256], q[64];
	const char *val;
	size_t at, vlen;
	uint32_t i;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	memset(&s, 0, sizeof(s));
	if (wgc_script_parse(&s, buf, size, err, sizeof(err)) == 0) {
		for (i = 0; i < s.n_steps; i++)
			if (s.steps[i].kind == WGC_STEP_EXPECT && s.steps[i].arg != NULL &&
			    wgc_json_match(s.steps[i].arg, s.steps[i].arg_len, s.steps[i].arg,
					   s.steps[i].arg_len) != 1)
				abort();   /* a pattern the parser took matches itself */
		wgc_script_free(&s);
	} else if (err[0] == '\0') {
		abort();           /* a refusal says why */
	}
	if (wgc_json_check(buf, size, &at) == 0) {
		if (wgc_json_match(buf, size, buf, size) != 1)
			abort();
		(void)wgc_json_member(buf, size, "type", &val, &vlen);
	}
	(void)wgc_json_quote(buf, size < 40 ? size : 40, q, sizeof(q));
	free(buf);
	return 0;
}
