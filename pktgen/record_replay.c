/* SPDX-License-Identifier: BSD-3-Clause
 * Replay scheduler: the client->server records of a log, grouped per
 * recorded client (a session), played by n_clients new clients. Client j
 * plays session j % sessions, its times scaled by 1000 / speed_milli and
 * shifted by a per-client offset drawn from the seed, so the same seed
 * gives the same timeline. A binary heap over the clients' next event
 * times yields one merged, time-ordered stream in O(log n) per event.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

struct rp_rec {
	uint64_t t;                    /* recorded time, unscaled */
	uint64_t off;                  /* payload offset in the arena */
	uint32_t len;
	uint32_t client;               /* recorded client */
	uint8_t type;
};

struct rp_session {
	uint32_t first;                /* index of its first record */
	uint32_t n;
};

struct rp_cursor {
	uint64_t next_t;               /* replay time of the next event */
	uint64_t offset;               /* start jitter */
	uint32_t pos;                  /* next record, relative to the session's first */
};

struct wg_replay {
	struct wg_replay_conf conf;
	struct rp_rec *recs;           /* grouped by session, time order inside */
	struct rp_session *sessions;
	uint32_t n_sessions;
	uint8_t *arena;
	struct rp_cursor *cur;         /* per replay client */
	uint32_t *heap;                /* replay clients with events left */
	uint32_t heap_n;
};

static void __attribute__((format(printf, 3, 4)))
rp_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint64_t
splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t
scaled(const struct wg_replay *rp, uint64_t t)
{
	unsigned __int128 v = (unsigned __int128)t * 1000 / rp->conf.speed_milli;

	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

static uint64_t
event_time(const struct wg_replay *rp, uint32_t client)
{
	const struct rp_cursor *c = &rp->cur[client];
	const struct rp_session *s = &rp->sessions[client % rp->n_sessions];
	uint64_t t = scaled(rp, rp->recs[s->first + c->pos].t);

	return t > UINT64_MAX - c->offset ? UINT64_MAX : t + c->offset;
}

static bool
before(const struct wg_replay *rp, uint32_t a, uint32_t b)
{
	if (rp->cur[a].next_t != rp->cur[b].next_t)
		return rp->cur[a].next_t < rp->cur[b].next_t;
	return a < b;
}

static void
sift_down(struct wg_replay *rp, uint32_t i)
{
	uint32_t *h = rp->heap, n = rp->heap_n;

	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i, tmp;

		if (l < n && before(rp, h[l], h[m]))
			m = l;
		if (r < n && before(rp, h[r], h[m]))
			m = r;
		if (m == i)
			return;
		tmp = h[i];
		h[i] = h[m];
		h[m] = tmp;
		i = m;
	}
}

/* Reads every record (so the reader's checks all run), keeping the
 * client->server ones. */
static int
load(struct wg_replay *rp, struct wg_rec_reader *r, char *err, size_t errlen)
{
	struct rp_rec *recs = NULL, *nr, *sorted = NULL;
	uint64_t arena_len = 0, arena_cap = 0;
	uint32_t n = 0, cap = 0, n_clients, *count = NULL, i, k;
	uint8_t *arena = NULL, *na;
	struct wg_rec rec;
	int rc;

	while ((rc = wg_rec_next(r, &rec)) == 1) {
		if (rec.dir != WG_REC_C2S)
			continue;
		if (n == UINT32_MAX - 1) {
			rp_err(err, errlen, "more than 2^32 records");
			rc = -EINVAL;
			goto out;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			nr = realloc(recs, (size_t)cap * sizeof(*recs));
			if (nr == NULL)
				goto nomem;
			recs = nr;
		}
		if (arena_len + rec.len > arena_cap) {
			arena_cap = arena_cap ? arena_cap : 65536;
			while (arena_len + rec.len > arena_cap)
				arena_cap *= 2;
			na = realloc(arena, arena_cap);
			if (na == NULL)
				goto nomem;
			arena = na;
		}
		if (rec.len > 0)
			memcpy(arena + arena_len, rec.payload, rec.len);
		recs[n] = (struct rp_rec){ .t = rec.t_ns, .off = arena_len, .len = rec.len,
					   .client = rec.client, .type = rec.type };
		arena_len += rec.len;
		n++;
	}
	if (rc < 0) {
		rp_err(err, errlen, "%s", wg_rec_reader_error(r));
		rc = -EINVAL;
		goto out;
	}
	if (n == 0) {
		rp_err(err, errlen, "no client->server records to replay");
		rc = -ENODATA;
		goto out;
	}
	/* counting sort by recorded client: stable, so time order survives */
	n_clients = wg_rec_reader_clients(r);
	count = calloc((size_t)n_clients + 1, sizeof(*count));
	sorted = malloc((size_t)n * sizeof(*sorted));
	rp->sessions = calloc(n_clients, sizeof(*rp->sessions));
	if (count == NULL || sorted == NULL || rp->sessions == NULL)
		goto nomem;
	for (i = 0; i < n; i++)
		count[recs[i].client + 1]++;
	for (k = 0; k < n_clients; k++) {
		if (count[k + 1] != 0) {
			rp->sessions[rp->n_sessions].first = count[k];
			rp->sessions[rp->n_sessions].n = count[k + 1];
			rp->n_sessions++;
		}
		count[k + 1] += count[k];
	}
	for (i = 0; i < n; i++)
		sorted[count[recs[i].client]++] = recs[i];
	rp->recs = sorted;
	sorted = NULL;
	rp->arena = arena;
	arena = NULL;
	rc = 0;
	goto out;
nomem:
	rp_err(err, errlen, "out of memory");
	rc = -ENOMEM;
out:
	free(count);
	free(sorted);
	free(arena);
	free(recs);
	return rc;
}

struct wg_replay *
wg_replay_create(struct wg_rec_reader *r, const struct wg_replay_conf *conf, char *err,
		 size_t errlen)
{
	struct wg_replay *rp;
	uint32_t j;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (r == NULL || conf == NULL || conf->n_clients == 0 || conf->speed_milli == 0) {
		rp_err(err, errlen, "replay needs a reader, at least one client and a speed");
		errno = EINVAL;
		return NULL;
	}
	rp = calloc(1, sizeof(*rp));
	if (rp == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rp->conf = *conf;
	if ((rc = load(rp, r, err, errlen)) != 0)
		goto fail;
	rp->cur = calloc(conf->n_clients, sizeof(*rp->cur));
	rp->heap = malloc((size_t)conf->n_clients * sizeof(*rp->heap));
	if (rp->cur == NULL || rp->heap == NULL) {
		rp_err(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	for (j = 0; j < conf->n_clients; j++) {
		uint64_t d = splitmix(conf->seed + splitmix(j));

		rp->cur[j].offset = conf->jitter_ns == 0 ? 0 :
				    conf->jitter_ns == UINT64_MAX ? d : d % (conf->jitter_ns + 1);
		rp->cur[j].next_t = event_time(rp, j);
		rp->heap[j] = j;
	}
	rp->heap_n = conf->n_clients;
	for (j = rp->heap_n / 2; j-- > 0;)
		sift_down(rp, j);
	return rp;
fail:
	wg_replay_free(rp);
	errno = -rc;
	return NULL;
}

int
wg_replay_next(struct wg_replay *rp, struct wg_replay_ev *ev)
{
	const struct rp_session *s;
	const struct rp_rec *rec;
	struct rp_cursor *c;
	uint32_t j;

	if (rp->heap_n == 0)
		return 0;
	j = rp->heap[0];
	c = &rp->cur[j];
	s = &rp->sessions[j % rp->n_sessions];
	rec = &rp->recs[s->first + c->pos];
	ev->t_ns = c->next_t;
	ev->client = j;
	ev->session = j % rp->n_sessions;
	ev->len = rec->len;
	ev->type = rec->type;
	ev->payload = rec->len > 0 ? rp->arena + rec->off : NULL;
	if (++c->pos < s->n) {
		c->next_t = event_time(rp, j);
	} else {
		rp->heap[0] = rp->heap[--rp->heap_n];
	}
	if (rp->heap_n > 0)
		sift_down(rp, 0);
	return 1;
}

uint32_t
wg_replay_sessions(const struct wg_replay *rp)
{
	return rp->n_sessions;
}

uint64_t
wg_replay_offset(const struct wg_replay *rp, uint32_t client)
{
	return client < rp->conf.n_clients ? rp->cur[client].offset : 0;
}

void
wg_replay_free(struct wg_replay *rp)
{
	if (rp == NULL)
		return;
	free(rp->recs);
	free(rp->sessions);
	free(rp->arena);
	free(rp->cur);
	free(rp->heap);
	free(rp);
}
