/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_CONF_H
#define WG_CONF_H

#include <stddef.h>
#include <stdio.h>

#include "conf-t.h"

/* Fill c with the built-in defaults (a working net_tap set-up). */
void wg_conf_defaults(struct wg_conf *c);

/* Parse YAML text over the current contents of c (call wg_conf_defaults
 * first). name is used in messages. Returns 0, or -EINVAL with err holding
 * "parsing [name:line]: ..." for the first problem: syntax, unknown key,
 * wrong type, out-of-range value, duplicate key. */
int wg_conf_parse_string(struct wg_conf *c, const char *name, const char *buf,
			 size_t len, char *err, size_t errlen);

/* Cross-field checks after parsing (at least one port, unique port names,
 * lcore_base clear of RTE_MAX_LCORE, ...). Returns 0 or -EINVAL + err. */
int wg_conf_validate(const struct wg_conf *c, char *err, size_t errlen);

/* A service's weights ("3,1,1") into out (may be NULL to count). The
 * number of weights, or -EINVAL (not numbers 1..1000 separated by commas,
 * or more than max). */
int wg_conf_weights(const char *s, uint32_t *out, unsigned int max);

/* defaults + parse the file + validate. Returns 0 or -errno + err
 * ("parsing [file:0]: cannot open: ..." for I/O errors). */
int wg_conf_load(struct wg_conf *c, const char *path, char *err, size_t errlen);

/* Effective configuration, as YAML the parser accepts back. */
void wg_conf_dump(FILE *f, const struct wg_conf *c);

#endif /* WG_CONF_H */
