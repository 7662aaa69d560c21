/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_SCENARIO_H
#define WG_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "scenario-t.h"

/* Built-in defaults: one client on ws://127.0.0.1, no phases. */
void wg_scn_defaults(struct wg_scenario *s);

/* Parse YAML text over s (call wg_scn_defaults first); name is used in
 * messages. Returns 0, or -EINVAL (-ENOMEM) with err holding
 * "name:line: message" for the first problem: syntax, unknown or duplicate
 * key, wrong type, out-of-range value. A failed parse leaves s untouched. */
int wg_scn_parse_string(struct wg_scenario *s, const char *name, const char *buf, size_t len,
			char *err, size_t errlen);

/* Cross-field checks (keys that do not apply to an action's type or the
 * phase's mode, required keys, login templates). 0 or -EINVAL + err. */
int wg_scn_validate(const struct wg_scenario *s, char *err, size_t errlen);

/* defaults + read + parse + validate; I/O errors are "path:0: ...". */
int wg_scn_load(struct wg_scenario *s, const char *path, char *err, size_t errlen);

/* The scenario as YAML the parser reads back to the same struct. */
void wg_scn_dump(FILE *f, const struct wg_scenario *s);

/* Expand a login template for client id into out. Returns the length, or
 * -ENOSPC (out too small) / -EINVAL (a template validation would refuse). */
int wg_scn_expand(const char *tmpl, uint64_t id, char *out, size_t cap);

/* Payload size for a draw r uniform over 64 bits (the caller's RNG): the
 * distribution's inverse CDF, so the same draws give the same sizes. */
uint32_t wg_scn_size_pick(const struct wg_scn_size *sz, uint64_t r);

/* Mean payload size, for planning bandwidth. */
double wg_scn_size_mean(const struct wg_scn_size *sz);

const char *wg_scn_transport_name(unsigned int t);
const char *wg_scn_action_name(unsigned int t);

#endif /* WG_SCENARIO_H */
