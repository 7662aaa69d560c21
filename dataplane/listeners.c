/* SPDX-License-Identifier: BSD-3-Clause
 * From the config's listeners, tls and ws sections to what the workers run:
 * the listener table, the WebSocket settings, and - when a listener uses
 * TLS - the handshake engine on a control thread of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dataplane.h"
#include "gateway.h"
#include "log.h"
#include "stream.h"
#include "tls_handshake.h"
#include "ws.h"

RTE_LOG_REGISTER(wg_listen_logtype, wg.listen, INFO);
#define LISTEN_LOG(l, ...) WG_LOG(wg_listen_logtype, l, "listen", __VA_ARGS__)

static int
ws_conf_from(struct wg_ws_conf *wc, const struct wg_conf_ws *cw)
{
	char err[256];
	unsigned int i;

	wg_ws_conf_defaults(wc);
	wc->max_message = cw->max_message;
	wc->http_max_request = cw->max_request;
	wc->http_max_headers = cw->max_headers;
	snprintf(wc->path, sizeof(wc->path), "%s", cw->path);
	for (i = 0; i < cw->n_origins; i++) {
		if (strlen(cw->origins[i]) >= sizeof(wc->origins[i]))
			goto toolong;
		strcpy(wc->origins[i], cw->origins[i]);
	}
	wc->n_origins = cw->n_origins;
	for (i = 0; i < cw->n_subprotocols; i++) {
		if (strlen(cw->subprotocols[i]) >= sizeof(wc->protocols[i])) {
			LISTEN_LOG(ERR, "ws.subprotocols[%u] is longer than %zu bytes", i,
				   sizeof(wc->protocols[i]) - 1);
			return -EINVAL;
		}
		strcpy(wc->protocols[i], cw->subprotocols[i]);
	}
	wc->n_protocols = cw->n_subprotocols;
	if (wg_ws_conf_check(wc, err, sizeof(err)) != 0) {
		LISTEN_LOG(ERR, "ws: %s", err);
		return -EINVAL;
	}
	return 0;
toolong:
	LISTEN_LOG(ERR, "ws.origins[%u] is longer than %zu bytes", i, sizeof(wc->origins[i]) - 1);
	return -EINVAL;
}

static void
tls_conf_from(struct wg_tls_conf *tc, const struct wg_conf_tls *ct)
{
	wg_tls_conf_defaults(tc);
	snprintf(tc->cert, sizeof(tc->cert), "%s", ct->cert);
	snprintf(tc->key, sizeof(tc->key), "%s", ct->key);
	snprintf(tc->ca, sizeof(tc->ca), "%s", ct->ca);
	snprintf(tc->ciphersuites, sizeof(tc->ciphersuites), "%s", ct->ciphersuites);
	snprintf(tc->groups, sizeof(tc->groups), "%s", ct->groups);
	snprintf(tc->alpn, sizeof(tc->alpn), "%s", ct->alpn);
	tc->handshake_timeout_ms = ct->handshake_timeout_ms;
	tc->tickets = ct->tickets;
	tc->client_verify = ct->ca[0] != '\0';
}

/* The gateway's settings and its type -> service map, shared read-only by
 * the workers. */
static int
gw_conf_from(struct wg_dataplane *dp, const struct wg_conf *cf)
{
	const struct wg_conf_gateway *g = &cf->gateway;
	struct wg_gw_conf *c;
	unsigned int i, t;

	c = rte_malloc("wg_gw_conf", sizeof(*c), 0);
	if (c == NULL)
		return -ENOMEM;
	wg_gw_conf_defaults(c);
	c->max_sessions = g->max_sessions;
	c->max_message = g->max_message;
	c->heartbeat_ms = g->heartbeat_ms;
	c->idle_timeout_ms = g->idle_timeout_ms;
	c->login_timeout_ms = g->login_timeout_ms;
	c->resume_window_ms = g->resume_window_ms;
	c->replay_max = g->replay_max;
	c->replay_budget = g->replay_budget;
	c->msg_rate = g->msg_rate;
	c->msg_burst = g->msg_burst;
	c->max_violations = g->max_violations;
	for (i = 0; i < cf->n_services; i++)
		for (t = cf->services[i].first_type; t <= cf->services[i].last_type; t++)
			c->type_service[t] = (uint8_t)i;
	c->n_services = (uint8_t)cf->n_services;
	dp->gw_conf = c;
	LISTEN_LOG(INFO, "gateway: %u service(s), up to %u sessions per worker, resume window %u ms",
		   cf->n_services, c->max_sessions, c->resume_window_ms);
	return 0;
}

int
wg_listeners_init(struct wg_dataplane *dp)
{
	const struct wg_conf *cf = dp->conf;
	struct wg_tls_conf tc;
	bool tls = false, gateway = false;
	unsigned int i;
	int ret;

	ret = ws_conf_from(&dp->ws_conf, &cf->ws);
	if (ret != 0)
		return ret;
	for (i = 0; i < cf->n_listeners; i++) {
		struct wg_stream_listener *ls = &dp->listeners[i];

		ret = wg_stream_proto_parse(cf->listeners[i].proto);
		if (ret < 0)
			return ret;
		ls->proto = (uint8_t)ret;
		ls->port = cf->listeners[i].port;
		ls->tls = cf->listeners[i].tls;
		ls->max_message = cf->listeners[i].max_message;
		ls->service = strcmp(cf->listeners[i].service, "gateway") == 0 ? WG_SVC_GATEWAY :
										  WG_SVC_ECHO;
		gateway |= ls->service == WG_SVC_GATEWAY;
		tls |= ls->tls;
		LISTEN_LOG(INFO, "port %u: %s%s, service %s", ls->port, cf->listeners[i].proto,
			   ls->tls ? " over TLS 1.3" : " (no TLS: dev mode)",
			   cf->listeners[i].service);
	}
	dp->n_listeners = cf->n_listeners;
	if (gateway && (ret = gw_conf_from(dp, cf)) != 0)
		return ret;
	if (!tls)
		return 0;
	tls_conf_from(&tc, &cf->tls);
	/* the engine is off the fast path: it naps even when the workers
	 * busy-poll (--busy-poll would have it spin a core away) */
	tc.idle_sleep_max_us = cf->dataplane.idle_sleep_max_us ? cf->dataplane.idle_sleep_max_us :
								  200;
	dp->tls_engine = wg_tls_hs_create("tlshs", &tc, dp->n_workers, dp->pkt_pool,
					  (int)rte_socket_id());
	if (dp->tls_engine == NULL) {
		LISTEN_LOG(ERR, "TLS engine (cert %s, key %s): %s", tc.cert, tc.key,
			   rte_strerror(rte_errno));
		return -rte_errno;
	}
	ret = wg_tls_hs_start(dp->tls_engine);
	if (ret != 0) {
		wg_tls_hs_destroy(dp->tls_engine);
		dp->tls_engine = NULL;
	}
	return ret;
}

void
wg_listeners_fini(struct wg_dataplane *dp)
{
	rte_free(dp->gw_conf);
	dp->gw_conf = NULL;
	if (dp->tls_engine != NULL) {
		wg_tls_hs_destroy(dp->tls_engine);
		dp->tls_engine = NULL;
	}
}
