/* SPDX-License-Identifier: BSD-3-Clause
 * Echo service: the smallest round trip through the message plane, for
 * clients checking their path and for benchmarks.
 */
#include <errno.h>

#include "lfw.h"
#include "svc.h"
#include "wg_client.pb-c.h"

static int
echo(struct wg_lfw *fw, const struct wg_lfw_req *req, void *arg)
{
	(void)arg;
	/* the payload goes back byte for byte, but only if it is an Echo:
	 * the dataplane hands text clients' replies to the JSON converter */
	if (wg_lfw_unpack(fw, &wg__echo__descriptor, req->env.payload, req->env.payload_len) ==
	    NULL)
		return wg_lfw_reply_error(fw, req, WG__ERROR_CODE__BAD_MESSAGE,
					  "payload is not an Echo");
	return wg_lfw_reply_raw(fw, req, WG__MSG_TYPE__ECHO, req->env.payload,
				req->env.payload_len);
}

static const struct wg_lfw_handler echo_handlers[] = {
	{ WG__MSG_TYPE__ECHO, echo },
};

int
wg_echo_register(struct wg_lfw *fw)
{
	const struct wg_lfw_service svc = {
		.name = "echo",
		.id = WG_SVC_ECHO_ID,
		.handlers = echo_handlers,
		.n_handlers = 1,
	};

	return wg_lfw_register(fw, &svc);
}
