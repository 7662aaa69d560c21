/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef WG_SVC_H
#define WG_SVC_H

#include <stdint.h>
#include <stdio.h>

#include "lfw-t.h"
#include "svc-t.h"

/* Echo: ECHO -> the same payload back as ECHO with the request's msg_id.
 * 0 or wg_lfw_register's -errno. */
int wg_echo_register(struct wg_lfw *fw);

/* Chat rooms: CHAT_JOIN -> CHAT_JOINED; CHAT_SAY -> CHAT_MSG to every
 * member, sender included, in the order the instance received them;
 * CHAT_LEAVE; a detached session leaves its rooms. All tables are sized
 * here from conf and fw's max_sessions. Registers with fw; destroy after
 * fw. NULL + errno (EINVAL bad conf, ENOMEM, EEXIST types taken). */
struct wg_chat *wg_chat_create(struct wg_lfw *fw, const struct wg_chat_conf *conf);
void wg_chat_destroy(struct wg_chat *c);

/* Members of a room now, or -ENOENT. */
int wg_chat_room_members(const struct wg_chat *c, const char *room);
void wg_chat_stats(const struct wg_chat *c, struct wg_chat_stats *st);
void wg_chat_dump(FILE *f, const struct wg_chat *c);

#endif /* WG_SVC_H */
