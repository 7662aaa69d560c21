/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target for record logs and the pcap importer. Every input is
 * tried as both:
 *  - as a log: whatever the reader returns keeps its promises (times
 *    sorted, lengths bounded, known types, payload only where allowed),
 *    and a log it accepts replays as one time-ordered stream;
 *  - as a capture: the importer either refuses it with a message or
 *    writes a log that the reader accepts to the end.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fmemopen, open_memstream */
#endif

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktgen/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...) do { fprintf(stderr, __VA_ARGS__); abort(); } while (0)

/* Reads the log to the end; returns the reader's last result. */
static int
read_log(const void *buf, size_t len, bool must_pass)
{
	struct wg_rec_reader *r;
	struct wg_rec rec;
	char err[WG_REC_ERR_MAX];
	uint64_t last = 0;
	FILE *f;
	int rc;

	if (len == 0)
		return -EINVAL;
	f = fmemopen((void *)(uintptr_t)buf, len, "rb");
	if (f == NULL)
		return -ENOMEM;
	r = wg_rec_reader_open(f, err, sizeof(err));
	if (r == NULL) {
		if (must_pass)
			FAIL("importer output refused at open: %s\n", err);
		fclose(f);
		return -EINVAL;
	}
	while ((rc = wg_rec_next(r, &rec)) == 1) {
		if (rec.t_ns < last || rec.len > WG_REC_PAYLOAD_MAX || rec.dir > WG_REC_S2C ||
		    rec.type < WG_REC_CONNECT || rec.type > WG_REC_CLOSE ||
		    ((rec.type == WG_REC_CONNECT || rec.type == WG_REC_CLOSE) && rec.len != 0) ||
		    (rec.len > 0 && rec.payload == NULL))
			FAIL("reader returned a record breaking its promises\n");
		last = rec.t_ns;
	}
	if (rc < 0 && strlen(wg_rec_reader_error(r)) == 0)
		FAIL("error without a message\n");
	if (rc != 0 && must_pass)
		FAIL("importer output refused: %s\n", wg_rec_reader_error(r));
	wg_rec_reader_close(r);
	fclose(f);
	return rc;
}

static void
replay_log(const void *buf, size_t len)
{
	struct wg_replay_conf conf = { .n_clients = 7, .speed_milli = 1500, .jitter_ns = 1000,
				       .seed = 3 };
	struct wg_rec_reader *r;
	struct wg_replay_ev ev;
	struct wg_replay *rp;
	char err[WG_REC_ERR_MAX];
	uint64_t last = 0;
	FILE *f;

	f = fmemopen((void *)(uintptr_t)buf, len, "rb");
	if (f == NULL)
		return;
	r = wg_rec_reader_open(f, err, sizeof(err));
	if (r == NULL)
		FAIL("reader refused on the second read\n");
	rp = wg_replay_create(r, &conf, err, sizeof(err));
	if (rp == NULL && errno != ENODATA && errno != ENOMEM)
		FAIL("replay refused a log the reader accepted: %s\n", err);
	while (rp != NULL && wg_replay_next(rp, &ev) == 1) {
		if (ev.t_ns < last || ev.client >= conf.n_clients ||
		    ev.session >= wg_replay_sessions(rp))
			FAIL("replay stream out of order or out of range\n");
		last = ev.t_ns;
	}
	wg_replay_free(rp);
	wg_rec_reader_close(r);
	fclose(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_pcap_stats st;
	char err[256], *out = NULL;
	size_t out_len = 0;
	FILE *in, *of;
	int rc;

	if (read_log(data, size, false) == 0)
		replay_log(data, size);

	if (size == 0)
		return 0;
	in = fmemopen((void *)(uintptr_t)data, size, "rb");
	if (in == NULL)
		return 0;
	of = open_memstream(&out, &out_len);
	if (of == NULL) {
		fclose(in);
		return 0;
	}
	rc = wg_rec_import_pcap(in, of, 0, true, &st, err, sizeof(err));
	fclose(of);
	if (rc == 0) {
		read_log(out, out_len, true);
		replay_log(out, out_len);
	} else if (err[0] == '\0') {
		FAIL("importer failed (%d) without a message\n", rc);
	}
	free(out);
	return 0;
}
