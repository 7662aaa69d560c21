/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_SVC_H
#define WG_SVC_H

#include <stdint.h>

#include "tcp-t.h"

/* Built-in test services on ports (host byte order, 0 = off). */
int wg_svc_echo_listen(struct wg_tcp_ctx *ctx, uint16_t echo_port, uint16_t discard_port);

#endif /* WG_SVC_H */
