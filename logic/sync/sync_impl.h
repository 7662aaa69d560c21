/* SPDX-License-Identifier: BSD-3-Clause
 * What the sync server and the client decoder share inside the library.
 */
#ifndef WG_SYNC_IMPL_H
#define WG_SYNC_IMPL_H

#include <stdint.h>

#include "sync-t.h"

/* Room for n entries in a snapshot frame (capacity doubles). 0 or -ENOMEM
 * (the frame is unchanged). */
int wg_sync_frame_reserve(struct wg_sync_frame *f, uint32_t n);

#endif /* WG_SYNC_IMPL_H */
