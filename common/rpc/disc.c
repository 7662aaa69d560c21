/* SPDX-License-Identifier: BSD-3-Clause
 * Discovery core: backend registry, registrations (leases + heartbeats),
 * watched services (the known set per service, diffed against what the
 * backend reports), the static file format.
 *
 * Heartbeats run every ttl/3: two can be lost before the lease ends. A
 * refresh that finds the record gone (expired during a stall, flushed)
 * marks the registration lost and the next poll writes it again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disc.h"
#include "rpc_impl.h"
#include "wg_rpc.pb-c.h"

#define MAX_BACKENDS 8

struct reg {
	struct wg_disc_instance in;
	uint32_t ttl_ms;
	int64_t next_ns;                 /* next heartbeat */
	bool lost;
};

struct watched {
	char service[WG_DISC_NAME_MAX];
	wg_disc_watch_fn *fn;
	void *arg;
	struct wg_disc_instance *known;
	unsigned int n, cap;
};

struct wg_disc {
	const struct wg_disc_ops *ops;
	void *be;
	struct reg *regs;
	unsigned int n_regs, cap_regs;
	struct watched *w;
	unsigned int n_w, cap_w;
	struct wg_disc_stats st;
};

static const struct wg_disc_ops *backends[MAX_BACKENDS] = {
	&wg_disc_static_ops, &wg_disc_etcd_ops,
};
static unsigned int n_backends = 2;

int
wg_disc_register_backend(const struct wg_disc_ops *ops)
{
	unsigned int i;

	for (i = 0; i < n_backends; i++)
		if (strcmp(backends[i]->name, ops->name) == 0)
			return backends[i] == ops ? 0 : -EEXIST;
	if (n_backends == MAX_BACKENDS)
		return -ENOSPC;
	backends[n_backends++] = ops;
	return 0;
}

struct wg_disc *
wg_disc_create(const struct wg_disc_conf *conf)
{
	const struct wg_disc_ops *ops = NULL;
	struct wg_disc *d;
	unsigned int i;
	int rc;

	if (conf == NULL || conf->backend == NULL) {
		errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < n_backends; i++)
		if (strcmp(backends[i]->name, conf->backend) == 0)
			ops = backends[i];
	if (ops == NULL) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->ops = ops;
	rc = ops->open(d, conf);
	if (rc < 0) {
		free(d);
		errno = -rc;
		return NULL;
	}
	return d;
}

void
wg_disc_destroy(struct wg_disc *d)
{
	unsigned int i;

	if (d == NULL)
		return;
	d->ops->close(d);
	for (i = 0; i < d->n_w; i++)
		free(d->w[i].known);
	free(d->w);
	free(d->regs);
	free(d);
}

void *
wg_disc_backend(struct wg_disc *d)
{
	return d->be;
}

void
wg_disc_set_backend(struct wg_disc *d, void *state)
{
	d->be = state;
}

/* ---- registrations ---- */

static struct reg *
reg_find(struct wg_disc *d, const char *service, const char *id)
{
	unsigned int i;

	for (i = 0; i < d->n_regs; i++)
		if (strcmp(d->regs[i].in.service, service) == 0 &&
		    strcmp(d->regs[i].in.id, id) == 0)
			return &d->regs[i];
	return NULL;
}

int
wg_disc_register(struct wg_disc *d, const struct wg_disc_instance *in, uint32_t ttl_ms)
{
	struct reg *r;
	int rc;

	if (wg_disc_instance_check(in) < 0 || ttl_ms < 30)
		return -EINVAL;
	r = reg_find(d, in->service, in->id);
	if (r == NULL) {
		if (d->n_regs == d->cap_regs) {
			unsigned int cap = d->cap_regs ? d->cap_regs * 2 : 4;
			struct reg *nr = realloc(d->regs, cap * sizeof(*nr));

			if (nr == NULL)
				return -ENOMEM;
			d->regs = nr;
			d->cap_regs = cap;
		}
		r = &d->regs[d->n_regs];
		memset(r, 0, sizeof(*r));
	}
	rc = d->ops->put(d, in, ttl_ms);
	if (rc < 0)
		return rc;
	if (r == &d->regs[d->n_regs])
		d->n_regs++;
	r->in = *in;
	r->ttl_ms = ttl_ms;
	r->lost = false;
	r->next_ns = wg_rpc_now_ns() + (int64_t)ttl_ms / 3 * 1000000;
	d->st.registers++;
	return 0;
}

bool
wg_disc_register_known(const struct wg_disc *d, const char *service, const char *id)
{
	return reg_find((struct wg_disc *)d, service, id) != NULL;
}

int
wg_disc_deregister(struct wg_disc *d, const char *service, const char *id)
{
	struct reg *r = reg_find(d, service, id);
	int rc;

	if (r == NULL)
		return -ENOENT;
	*r = d->regs[--d->n_regs];
	rc = d->ops->del(d, service, id);
	d->st.deregisters++;
	return rc;
}

void
wg_disc_lease_lost(struct wg_disc *d, const char *service, const char *id)
{
	struct reg *r = reg_find(d, service, id);

	if (r) {
		r->lost = true;
		r->next_ns = 0;
	}
}

static int
heartbeats(struct wg_disc *d, int64_t now)
{
	unsigned int i;
	int work = 0, rc;

	for (i = 0; i < d->n_regs; i++) {
		struct reg *r = &d->regs[i];

		if (now < r->next_ns)
			continue;
		if (r->lost) {
			rc = d->ops->put(d, &r->in, r->ttl_ms);
			if (rc == 0) {
				r->lost = false;
				d->st.reregisters++;
			}
		} else {
			rc = d->ops->refresh(d, &r->in, r->ttl_ms);
			if (rc == 0)
				d->st.heartbeats++;
		}
		if (rc < 0)
			d->st.errors++;
		/* A lost lease found by this refresh is rewritten at once. */
		r->next_ns = r->lost ? now : now + (int64_t)r->ttl_ms / 3 * 1000000;
		work++;
	}
	return work;
}

/* ms until the next heartbeat (-1: none). */
static int
next_heartbeat_ms(const struct wg_disc *d, int64_t now)
{
	int64_t best = INT64_MAX;
	unsigned int i;

	for (i = 0; i < d->n_regs; i++)
		if (d->regs[i].next_ns < best)
			best = d->regs[i].next_ns;
	if (best == INT64_MAX)
		return -1;
	if (best <= now)
		return 0;
	return (int)((best - now) / 1000000 + 1);
}

int
wg_disc_poll(struct wg_disc *d, int timeout_ms)
{
	int64_t now = wg_rpc_now_ns();
	int work = heartbeats(d, now), hb, rc;

	hb = next_heartbeat_ms(d, wg_rpc_now_ns());
	if (hb >= 0 && (timeout_ms < 0 || hb < timeout_ms))
		timeout_ms = hb;
	if (work)
		timeout_ms = 0;
	rc = d->ops->poll(d, timeout_ms);
	if (rc < 0)
		return rc;
	return work + rc;
}

/* ---- watchers ---- */

static struct watched *
w_find(const struct wg_disc *d, const char *service)
{
	unsigned int i;

	for (i = 0; i < d->n_w; i++)
		if (strcmp(d->w[i].service, service) == 0)
			return &d->w[i];
	return NULL;
}

int
wg_disc_watch(struct wg_disc *d, const char *service, wg_disc_watch_fn *fn, void *arg)
{
	struct watched *w;
	int rc;

	if (fn == NULL || !wg_disc_token_ok(service, WG_DISC_NAME_MAX, false, false))
		return -EINVAL;
	if (w_find(d, service))
		return -EEXIST;
	if (d->n_w == d->cap_w) {
		unsigned int cap = d->cap_w ? d->cap_w * 2 : 4;
		struct watched *nw = realloc(d->w, cap * sizeof(*nw));

		if (nw == NULL)
			return -ENOMEM;
		d->w = nw;
		d->cap_w = cap;
	}
	w = &d->w[d->n_w++];
	memset(w, 0, sizeof(*w));
	snprintf(w->service, sizeof(w->service), "%s", service);
	w->fn = fn;
	w->arg = arg;
	rc = d->ops->watch(d, service);
	if (rc < 0) {
		d->n_w--;
		return rc;
	}
	return 0;
}

unsigned int
wg_disc_watched(const struct wg_disc *d, const char **names, unsigned int max)
{
	unsigned int i;

	for (i = 0; i < d->n_w && i < max; i++)
		names[i] = d->w[i].service;
	return d->n_w;
}

static void
emit(struct wg_disc *d, struct watched *w, enum wg_disc_event ev,
     const struct wg_disc_instance *in)
{
	if (ev == WG_DISC_ADD)
		d->st.events_add++;
	else if (ev == WG_DISC_REMOVE)
		d->st.events_remove++;
	else
		d->st.events_update++;
	w->fn(w->arg, ev, in);
}

static int
known_find(const struct watched *w, const char *id)
{
	unsigned int i;

	for (i = 0; i < w->n; i++)
		if (strcmp(w->known[i].id, id) == 0)
			return (int)i;
	return -1;
}

void
wg_disc_seen(struct wg_disc *d, const struct wg_disc_instance *in)
{
	struct watched *w = w_find(d, in->service);
	int i;

	if (w == NULL || wg_disc_instance_check(in) < 0)
		return;
	i = known_find(w, in->id);
	if (i >= 0) {
		if (memcmp(&w->known[i], in, sizeof(*in)) != 0) {
			w->known[i] = *in;
			emit(d, w, WG_DISC_UPDATE, in);
		}
		return;
	}
	if (w->n == w->cap) {
		unsigned int cap = w->cap ? w->cap * 2 : 8;
		struct wg_disc_instance *k = realloc(w->known, cap * sizeof(*k));

		if (k == NULL) {
			d->st.errors++;
			return;
		}
		w->known = k;
		w->cap = cap;
	}
	w->known[w->n++] = *in;
	emit(d, w, WG_DISC_ADD, in);
}

void
wg_disc_gone(struct wg_disc *d, const char *service, const char *id)
{
	struct watched *w = w_find(d, service);
	struct wg_disc_instance gone;
	int i;

	if (w == NULL || (i = known_find(w, id)) < 0)
		return;
	gone = w->known[i];
	w->known[i] = w->known[--w->n];
	emit(d, w, WG_DISC_REMOVE, &gone);
}

void
wg_disc_snapshot(struct wg_disc *d, const char *service,
		 const struct wg_disc_instance *in, unsigned int n)
{
	struct watched *w = w_find(d, service);
	unsigned int i, j;

	if (w == NULL)
		return;
	/* Removals first: a watcher never sees two records for one id. */
	for (i = 0; i < w->n;) {
		for (j = 0; j < n; j++)
			if (strcmp(in[j].id, w->known[i].id) == 0)
				break;
		if (j == n) {
			char id[WG_DISC_NAME_MAX];

			memcpy(id, w->known[i].id, sizeof(id));
			wg_disc_gone(d, service, id);
			continue;   /* slot i now holds the former last */
		}
		i++;
	}
	for (j = 0; j < n; j++)
		if (strcmp(in[j].service, service) == 0)
			wg_disc_seen(d, &in[j]);
}

int
wg_disc_list(const struct wg_disc *d, const char *service,
	     struct wg_disc_instance *out, unsigned int max)
{
	const struct watched *w = w_find(d, service);
	unsigned int i;

	if (w == NULL)
		return -ENOENT;
	for (i = 0; i < w->n && i < max; i++)
		out[i] = w->known[i];
	return (int)w->n;
}

void
wg_disc_count_error(struct wg_disc *d)
{
	d->st.errors++;
}

void
wg_disc_count(struct wg_disc *d, int what)
{
	if (what == WG_DISC_C_RESYNC)
		d->st.resyncs++;
	else if (what == WG_DISC_C_NOTIFY)
		d->st.notifications++;
	else if (what == WG_DISC_C_RECONNECT)
		d->st.reconnects++;
}

void
wg_disc_stats(const struct wg_disc *d, struct wg_disc_stats *st)
{
	*st = d->st;
}

void
wg_disc_dump(FILE *f, const struct wg_disc *d)
{
	unsigned int i, j;

	fprintf(f, "discovery (%s): %u registered, %u watched\n", d->ops->name,
		d->n_regs, d->n_w);
	for (i = 0; i < d->n_regs; i++)
		fprintf(f, "  reg %s/%s %s ttl %u ms%s\n", d->regs[i].in.service,
			d->regs[i].in.id, d->regs[i].in.address, d->regs[i].ttl_ms,
			d->regs[i].lost ? " LOST" : "");
	for (i = 0; i < d->n_w; i++) {
		fprintf(f, "  watch %s: %u instances\n", d->w[i].service, d->w[i].n);
		for (j = 0; j < d->w[i].n; j++)
			fprintf(f, "    %s %s w%u zone %s\n", d->w[i].known[j].id,
				d->w[i].known[j].address, d->w[i].known[j].weight,
				d->w[i].known[j].zone[0] ? d->w[i].known[j].zone : "-");
	}
	fprintf(f, "  events +%lu -%lu ~%lu resyncs %lu errors %lu\n",
		(unsigned long)d->st.events_add, (unsigned long)d->st.events_remove,
		(unsigned long)d->st.events_update, (unsigned long)d->st.resyncs,
		(unsigned long)d->st.errors);
}

uint8_t *
wg_disc_instance_pack(const struct wg_disc_instance *in, size_t *len)
{
	Wg__Rpc__Instance m = WG__RPC__INSTANCE__INIT;
	Wg__Rpc__MetaEntry e[WG_DISC_META_MAX], *ep[WG_DISC_META_MAX];
	uint8_t *buf;
	uint32_t i;

	m.service = (char *)(uintptr_t)in->service;
	m.id = (char *)(uintptr_t)in->id;
	m.address = (char *)(uintptr_t)in->address;
	m.weight = in->weight;
	m.zone = (char *)(uintptr_t)in->zone;
	for (i = 0; i < in->n_meta && i < WG_DISC_META_MAX; i++) {
		wg__rpc__meta_entry__init(&e[i]);
		e[i].key = (char *)(uintptr_t)in->meta[i].key;
		e[i].value = (char *)(uintptr_t)in->meta[i].value;
		ep[i] = &e[i];
	}
	m.n_metadata = i;
	m.metadata = ep;
	*len = wg__rpc__instance__get_packed_size(&m);
	buf = malloc(*len ? *len : 1);
	if (buf)
		wg__rpc__instance__pack(&m, buf);
	return buf;
}

int
wg_disc_instance_unpack(const void *data, size_t len, struct wg_disc_instance *in)
{
	Wg__Rpc__Instance *m = wg__rpc__instance__unpack(NULL, len, data);
	size_t i;
	int rc = -EBADMSG;

	if (m == NULL)
		return -EBADMSG;
	if (strlen(m->service) >= sizeof(in->service) || strlen(m->id) >= sizeof(in->id) ||
	    strlen(m->address) >= sizeof(in->address) || strlen(m->zone) >= sizeof(in->zone) ||
	    m->n_metadata > WG_DISC_META_MAX)
		goto out;
	wg_disc_instance_init(in, m->service, m->id, m->address, m->weight, m->zone);
	for (i = 0; i < m->n_metadata; i++)
		if (wg_disc_instance_set_meta(in, m->metadata[i]->key, m->metadata[i]->value) < 0)
			goto out;
	rc = wg_disc_instance_check(in);
out:
	wg__rpc__instance__free_unpacked(m, NULL);
	return rc;
}
