/* SPDX-License-Identifier: BSD-3-Clause
 * Session table. Indexes are linear-probing tables at <= 50% load with
 * backward-shift deletion (no tombstones, so probe lengths never degrade
 * under login churn). Route lists are intrusive doubly-linked lists of
 * (session, service) nodes, one per instance, so "everything on instance k"
 * costs what it returns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "session.h"
#include "mix.h"

#define NSVC WG_SESS_MAX_SERVICES

/* route nodes are session index * NSVC + service, with NIL as the end */
_Static_assert((uint64_t)WG_SESS_MAX * WG_SESS_MAX_SERVICES <= WG_SESS_NIL,
	       "route node numbers must fit below WG_SESS_NIL");

enum { TL_LOGIN, TL_DETACHED, TL_CLOSED, TL_N };

struct hent {
	uint64_t key;              /* 0 = empty */
	uint32_t idx;
};

struct hidx {
	struct hent *tab;
	uint32_t mask;
};

struct tlist {
	uint32_t head, tail;
};

struct wg_sess_table {
	struct wg_sess_conf conf;
	struct wg_session *s;
	uint32_t free_head;
	uint32_t count[WG_SESS_N_STATES];
	struct hidx by_conn, by_player;
	uint64_t seed;
	struct tlist tl[TL_N];
	uint32_t *inst_head;       /* route node or NIL, per instance */
	uint32_t *inst_count;
};

static const char *const state_names[WG_SESS_N_STATES] = {
	"FREE", "LOGGING_IN", "ACTIVE", "DETACHED", "CLOSED",
};


/* ---- hash indexes ---- */

static inline uint32_t
h_home(const struct wg_sess_table *t, const struct hidx *h, uint64_t key)
{
	return (uint32_t)wg_mix64(key ^ t->seed) & h->mask;
}

static uint32_t
h_find(const struct wg_sess_table *t, const struct hidx *h, uint64_t key)
{
	for (uint32_t i = h_home(t, h, key); h->tab[i].key != 0; i = (i + 1) & h->mask)
		if (h->tab[i].key == key)
			return h->tab[i].idx;
	return WG_SESS_NIL;
}

/* Callers have checked the key is absent; capacity is 2x max_sessions. */
static void
h_insert(const struct wg_sess_table *t, struct hidx *h, uint64_t key, uint32_t idx)
{
	uint32_t i = h_home(t, h, key);

	while (h->tab[i].key != 0)
		i = (i + 1) & h->mask;
	h->tab[i].key = key;
	h->tab[i].idx = idx;
}

/* Backward-shift deletion: after emptying slot i, pull back each later
 * entry of the cluster whose home is not in (i, j], so every entry stays
 * reachable from its home without tombstones. */
static void
h_remove(const struct wg_sess_table *t, struct hidx *h, uint64_t key)
{
	uint32_t i = h_home(t, h, key), j;

	while (h->tab[i].key != key) {
		if (h->tab[i].key == 0)
			return;
		i = (i + 1) & h->mask;
	}
	for (j = (i + 1) & h->mask; h->tab[j].key != 0; j = (j + 1) & h->mask) {
		uint32_t home = h_home(t, h, h->tab[j].key);

		if (((j - home) & h->mask) >= ((j - i) & h->mask)) {
			h->tab[i] = h->tab[j];
			i = j;
		}
	}
	h->tab[i].key = 0;
	h->tab[i].idx = 0;
}

static int
h_alloc(struct hidx *h, uint32_t max)
{
	uint32_t cap = 16;

	while (cap < 2 * max)
		cap <<= 1;
	h->tab = calloc(cap, sizeof(*h->tab));
	if (h->tab == NULL)
		return -ENOMEM;
	h->mask = cap - 1;
	return 0;
}

/* ---- timeout lists ---- */

static int
state_list(uint8_t st)
{
	switch (st) {
	case WG_SESS_LOGGING_IN:
		return TL_LOGIN;
	case WG_SESS_DETACHED:
		return TL_DETACHED;
	case WG_SESS_CLOSED:
		return TL_CLOSED;
	default:
		return -1;
	}
}

static void
tl_append(struct wg_sess_table *t, int l, struct wg_session *s)
{
	struct tlist *tl = &t->tl[l];

	s->tprev = tl->tail;
	s->tnext = WG_SESS_NIL;
	if (tl->tail != WG_SESS_NIL)
		t->s[tl->tail].tnext = s->idx;
	else
		tl->head = s->idx;
	tl->tail = s->idx;
}

static void
tl_unlink(struct wg_sess_table *t, int l, struct wg_session *s)
{
	struct tlist *tl = &t->tl[l];

	if (s->tprev != WG_SESS_NIL)
		t->s[s->tprev].tnext = s->tnext;
	else
		tl->head = s->tnext;
	if (s->tnext != WG_SESS_NIL)
		t->s[s->tnext].tprev = s->tprev;
	else
		tl->tail = s->tprev;
	s->tprev = s->tnext = WG_SESS_NIL;
}

/* Every state change goes through here: counts and timeout lists follow. */
static void
set_state(struct wg_sess_table *t, struct wg_session *s, uint8_t st, uint64_t now)
{
	int from = state_list(s->state), to = state_list(st);

	if (from >= 0)
		tl_unlink(t, from, s);
	t->count[s->state]--;
	t->count[st]++;
	s->state = st;
	s->since_ms = now;
	switch (st) {
	case WG_SESS_LOGGING_IN:
		s->deadline_ms = now + t->conf.login_timeout_ms;
		break;
	case WG_SESS_DETACHED:
		s->deadline_ms = now + t->conf.grace_ms;
		break;
	case WG_SESS_CLOSED:
		s->deadline_ms = now + t->conf.linger_ms;
		break;
	default:
		s->deadline_ms = 0;
		break;
	}
	if (to >= 0)
		tl_append(t, to, s);
}

/* ---- route lists ---- */

static inline struct wg_sess_route *
node(struct wg_sess_table *t, uint32_t n)
{
	return &t->s[n / NSVC].routes[n % NSVC];
}

static void
route_unlink(struct wg_sess_table *t, struct wg_session *s, unsigned int svc)
{
	struct wg_sess_route *r = &s->routes[svc];

	if (r->inst == WG_SESS_NO_INSTANCE)
		return;
	if (r->prev != WG_SESS_NIL)
		node(t, r->prev)->next = r->next;
	else
		t->inst_head[r->inst] = r->next;
	if (r->next != WG_SESS_NIL)
		node(t, r->next)->prev = r->prev;
	t->inst_count[r->inst]--;
	r->inst = WG_SESS_NO_INSTANCE;
	r->prev = r->next = WG_SESS_NIL;
}

static void
route_link(struct wg_sess_table *t, struct wg_session *s, unsigned int svc, uint16_t inst)
{
	struct wg_sess_route *r = &s->routes[svc];
	uint32_t n = s->idx * NSVC + svc;

	r->inst = inst;
	r->prev = WG_SESS_NIL;
	r->next = t->inst_head[inst];
	if (r->next != WG_SESS_NIL)
		node(t, r->next)->prev = n;
	t->inst_head[inst] = n;
	t->inst_count[inst]++;
}

static void
routes_clear(struct wg_sess_table *t, struct wg_session *s)
{
	for (unsigned int i = 0; i < NSVC; i++)
		route_unlink(t, s, i);
}

/* ---- sessions ---- */

static void
sess_reset(struct wg_session *s, uint32_t idx)
{
	memset(s, 0, sizeof(*s));
	s->idx = idx;
	s->tprev = s->tnext = WG_SESS_NIL;
	for (unsigned int i = 0; i < NSVC; i++) {
		s->routes[i].inst = WG_SESS_NO_INSTANCE;
		s->routes[i].prev = s->routes[i].next = WG_SESS_NIL;
	}
}

static struct wg_session *
sess_alloc(struct wg_sess_table *t)
{
	struct wg_session *s;

	if (t->free_head == WG_SESS_NIL)
		return NULL;
	s = &t->s[t->free_head];
	t->free_head = s->tnext;
	sess_reset(s, s->idx);
	return s;
}

/* Unlink from everything and return the slot to the free list. */
static void
sess_free(struct wg_sess_table *t, struct wg_session *s)
{
	int l = state_list(s->state);

	if (l >= 0)
		tl_unlink(t, l, s);
	routes_clear(t, s);
	if (s->conn_id != 0 && h_find(t, &t->by_conn, s->conn_id) == s->idx)
		h_remove(t, &t->by_conn, s->conn_id);
	if (s->player_id != 0 && h_find(t, &t->by_player, s->player_id) == s->idx)
		h_remove(t, &t->by_player, s->player_id);
	t->count[s->state]--;
	t->count[WG_SESS_FREE]++;
	OPENSSL_cleanse(s->resume_token, sizeof(s->resume_token));
	sess_reset(s, s->idx);
	s->tnext = t->free_head;
	t->free_head = s->idx;
}

struct wg_sess_table *
wg_sess_create(const struct wg_sess_conf *conf)
{
	struct wg_sess_table *t;

	if (conf->max_sessions == 0 || conf->max_sessions > WG_SESS_MAX ||
	    conf->n_services == 0 || conf->n_services > NSVC || conf->max_instances == 0 ||
	    conf->max_instances >= WG_SESS_NO_INSTANCE) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->conf = *conf;
	t->s = calloc(conf->max_sessions, sizeof(*t->s));
	t->inst_head = malloc(conf->max_instances * sizeof(*t->inst_head));
	t->inst_count = calloc(conf->max_instances, sizeof(*t->inst_count));
	if (t->s == NULL || t->inst_head == NULL || t->inst_count == NULL ||
	    h_alloc(&t->by_conn, conf->max_sessions) < 0 ||
	    h_alloc(&t->by_player, conf->max_sessions) < 0 ||
	    RAND_bytes((unsigned char *)&t->seed, sizeof(t->seed)) != 1) {
		wg_sess_destroy(t);
		errno = ENOMEM;
		return NULL;
	}
	for (uint16_t i = 0; i < conf->max_instances; i++)
		t->inst_head[i] = WG_SESS_NIL;
	/* free list in slot order: the first sessions take the first slots */
	for (uint32_t i = conf->max_sessions; i-- > 0;) {
		sess_reset(&t->s[i], i);
		t->s[i].tnext = i + 1 < conf->max_sessions ? i + 1 : WG_SESS_NIL;
	}
	t->free_head = 0;
	t->count[WG_SESS_FREE] = conf->max_sessions;
	for (int l = 0; l < TL_N; l++)
		t->tl[l].head = t->tl[l].tail = WG_SESS_NIL;
	return t;
}

void
wg_sess_destroy(struct wg_sess_table *t)
{
	if (t == NULL)
		return;
	if (t->s != NULL)
		OPENSSL_cleanse(t->s, (size_t)t->conf.max_sessions * sizeof(*t->s));
	free(t->s);
	free(t->inst_head);
	free(t->inst_count);
	free(t->by_conn.tab);
	free(t->by_player.tab);
	free(t);
}

struct wg_session *
wg_sess_open(struct wg_sess_table *t, uint64_t conn_id, const uint8_t ip[16], uint16_t port,
	     uint64_t now_ms)
{
	struct wg_session *s;

	if (conn_id == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (h_find(t, &t->by_conn, conn_id) != WG_SESS_NIL) {
		errno = EEXIST;
		return NULL;
	}
	s = sess_alloc(t);
	if (s == NULL) {
		errno = ENOSPC;
		return NULL;
	}
	s->conn_id = conn_id;
	if (ip != NULL)
		memcpy(s->peer_ip, ip, 16);
	s->peer_port = port;
	set_state(t, s, WG_SESS_LOGGING_IN, now_ms);
	h_insert(t, &t->by_conn, conn_id, s->idx);
	return s;
}

struct wg_session *
wg_sess_find(const struct wg_sess_table *t, uint64_t conn_id)
{
	uint32_t i = conn_id ? h_find(t, &t->by_conn, conn_id) : WG_SESS_NIL;

	return i == WG_SESS_NIL ? NULL : &t->s[i];
}

struct wg_session *
wg_sess_find_player(const struct wg_sess_table *t, uint64_t player_id)
{
	uint32_t i = player_id ? h_find(t, &t->by_player, player_id) : WG_SESS_NIL;

	return i == WG_SESS_NIL ? NULL : &t->s[i];
}

static void
kick_init(struct wg_sess_kick *k)
{
	if (k == NULL)
		return;
	memset(k, 0, sizeof(*k));
	for (unsigned int i = 0; i < NSVC; i++)
		k->routes[i] = WG_SESS_NO_INSTANCE;
}

/* Take `old` away from its player/connection: report it in *k, then close
 * (connected) or free (detached) it. */
static void
take_over(struct wg_sess_table *t, struct wg_session *old, uint64_t now, struct wg_sess_kick *k)
{
	if (k != NULL) {
		k->player_id = old->player_id;
		k->old_state = old->state;
		k->conn_id = old->state == WG_SESS_ACTIVE ? old->conn_id : 0;
		for (unsigned int i = 0; i < NSVC; i++)
			k->routes[i] = old->routes[i].inst;
	}
	if (old->state == WG_SESS_ACTIVE) {
		h_remove(t, &t->by_player, old->player_id);
		routes_clear(t, old);
		set_state(t, old, WG_SESS_CLOSED, now);
	} else {
		sess_free(t, old);
	}
}

static void
set_account(struct wg_session *s, const char *account)
{
	size_t n = account ? strnlen(account, WG_SESS_ACCOUNT_MAX) : 0;

	memcpy(s->account, account ? account : "", n);
	s->account[n] = '\0';
}

int
wg_sess_activate(struct wg_sess_table *t, struct wg_session *s, uint64_t player_id,
		 const char *account, uint64_t now_ms, struct wg_sess_kick *kick)
{
	struct wg_session *old;
	uint8_t tok[WG_SESS_RESUME_LEN];

	kick_init(kick);
	if (player_id == 0 || s->state != WG_SESS_LOGGING_IN)
		return -EINVAL;
	if (RAND_bytes(tok, sizeof(tok)) != 1)
		return -EIO;
	old = wg_sess_find_player(t, player_id);
	if (old != NULL)
		take_over(t, old, now_ms, kick);
	s->player_id = player_id;
	set_account(s, account);
	memcpy(s->resume_token, tok, sizeof(tok));
	OPENSSL_cleanse(tok, sizeof(tok));
	set_state(t, s, WG_SESS_ACTIVE, now_ms);
	h_insert(t, &t->by_player, player_id, s->idx);
	return 0;
}

struct wg_session *
wg_sess_resume(struct wg_sess_table *t, uint64_t new_conn, uint64_t old_conn,
	       const uint8_t token[WG_SESS_RESUME_LEN], uint64_t now_ms, struct wg_sess_kick *kick)
{
	struct wg_session *s, *nc;
	uint8_t tok[WG_SESS_RESUME_LEN];

	kick_init(kick);
	if (new_conn == 0 || old_conn == 0 || new_conn == old_conn) {
		errno = EINVAL;
		return NULL;
	}
	s = wg_sess_find(t, old_conn);
	if (s == NULL || (s->state != WG_SESS_DETACHED && s->state != WG_SESS_ACTIVE)) {
		errno = ENOENT;
		return NULL;
	}
	if (CRYPTO_memcmp(s->resume_token, token, WG_SESS_RESUME_LEN) != 0) {
		errno = EACCES;
		return NULL;
	}
	nc = wg_sess_find(t, new_conn);
	if (nc != NULL && nc->state != WG_SESS_LOGGING_IN) {
		errno = EBUSY;
		return NULL;
	}
	if (RAND_bytes(tok, sizeof(tok)) != 1) {
		errno = EIO;
		return NULL;
	}
	/* validated: from here on nothing fails */
	if (nc != NULL) {
		memcpy(s->peer_ip, nc->peer_ip, 16);
		s->peer_port = nc->peer_port;
		sess_free(t, nc);
	}
	if (s->state == WG_SESS_ACTIVE && kick != NULL) {
		kick->conn_id = old_conn;
		kick->player_id = s->player_id;
		kick->old_state = WG_SESS_ACTIVE;
		for (unsigned int i = 0; i < NSVC; i++)
			kick->routes[i] = s->routes[i].inst;
	}
	h_remove(t, &t->by_conn, old_conn);
	s->conn_id = new_conn;
	h_insert(t, &t->by_conn, new_conn, s->idx);
	memcpy(s->resume_token, tok, sizeof(tok));
	OPENSSL_cleanse(tok, sizeof(tok));
	s->resumes++;
	set_state(t, s, WG_SESS_ACTIVE, now_ms);
	return s;
}

int
wg_sess_detach(struct wg_sess_table *t, uint64_t conn_id, uint64_t now_ms)
{
	struct wg_session *s = wg_sess_find(t, conn_id);
	int was;

	if (s == NULL)
		return -ENOENT;
	was = s->state;
	switch (s->state) {
	case WG_SESS_ACTIVE:
		set_state(t, s, WG_SESS_DETACHED, now_ms);
		break;
	case WG_SESS_DETACHED:
		return -EALREADY;
	default:
		sess_free(t, s);
		break;
	}
	return was;
}

int
wg_sess_close(struct wg_sess_table *t, struct wg_session *s, uint64_t now_ms)
{
	int was = s->state;

	switch (s->state) {
	case WG_SESS_LOGGING_IN:
		set_state(t, s, WG_SESS_CLOSED, now_ms);
		break;
	case WG_SESS_ACTIVE:
		h_remove(t, &t->by_player, s->player_id);
		routes_clear(t, s);
		set_state(t, s, WG_SESS_CLOSED, now_ms);
		break;
	case WG_SESS_DETACHED:
		sess_free(t, s);
		break;
	case WG_SESS_CLOSED:
		return -EALREADY;
	default:
		return -EINVAL;
	}
	return was;
}

int
wg_sess_route_set(struct wg_sess_table *t, struct wg_session *s, unsigned int svc,
		  uint16_t inst)
{
	if (svc >= t->conf.n_services ||
	    (inst != WG_SESS_NO_INSTANCE && inst >= t->conf.max_instances) ||
	    (s->state != WG_SESS_ACTIVE && s->state != WG_SESS_DETACHED))
		return -EINVAL;
	if (s->routes[svc].inst == inst)
		return 0;
	route_unlink(t, s, svc);
	if (inst != WG_SESS_NO_INSTANCE)
		route_link(t, s, svc, inst);
	return 0;
}

uint64_t
wg_sess_next_deadline(const struct wg_sess_table *t)
{
	uint64_t next = UINT64_MAX;

	for (int l = 0; l < TL_N; l++)
		if (t->tl[l].head != WG_SESS_NIL && t->s[t->tl[l].head].deadline_ms < next)
			next = t->s[t->tl[l].head].deadline_ms;
	return next;
}

unsigned int
wg_sess_expire(struct wg_sess_table *t, uint64_t now_ms, unsigned int max,
	       wg_sess_expire_fn *fn, void *arg)
{
	unsigned int n = 0;

	for (int l = 0; l < TL_N; l++) {
		while (n < max && t->tl[l].head != WG_SESS_NIL) {
			struct wg_session *s = &t->s[t->tl[l].head];

			if (s->deadline_ms > now_ms)
				break;
			if (fn != NULL)
				fn(arg, s);
			if (l == TL_LOGIN)
				set_state(t, s, WG_SESS_CLOSED, now_ms);
			else
				sess_free(t, s);
			n++;
		}
	}
	return n;
}

unsigned int
wg_sess_foreach_instance(struct wg_sess_table *t, uint16_t inst, wg_sess_route_fn *fn,
			 void *arg)
{
	unsigned int calls = 0;
	uint32_t n, next;

	if (inst >= t->conf.max_instances)
		return 0;
	/* next is taken before the call: the callback may unlink this node
	 * (reroute) but touches no other session */
	for (n = t->inst_head[inst]; n != WG_SESS_NIL; n = next) {
		next = node(t, n)->next;
		fn(arg, t, &t->s[n / NSVC], n % NSVC);
		calls++;
	}
	return calls;
}

uint32_t
wg_sess_instance_count(const struct wg_sess_table *t, uint16_t inst)
{
	return inst < t->conf.max_instances ? t->inst_count[inst] : 0;
}

struct wg_session *
wg_sess_restore(struct wg_sess_table *t, uint64_t conn_id, uint64_t player_id,
		const uint16_t *routes, unsigned int n_routes,
		const uint8_t token[WG_SESS_RESUME_LEN], uint64_t now_ms)
{
	struct wg_session *s;

	if (conn_id == 0 || player_id == 0 || n_routes > t->conf.n_services) {
		errno = EINVAL;
		return NULL;
	}
	for (unsigned int i = 0; i < n_routes; i++) {
		if (routes[i] != WG_SESS_NO_INSTANCE && routes[i] >= t->conf.max_instances) {
			errno = EINVAL;
			return NULL;
		}
	}
	if (wg_sess_find(t, conn_id) != NULL || wg_sess_find_player(t, player_id) != NULL) {
		errno = EEXIST;
		return NULL;
	}
	s = sess_alloc(t);
	if (s == NULL) {
		errno = ENOSPC;
		return NULL;
	}
	s->conn_id = conn_id;
	s->player_id = player_id;
	memcpy(s->resume_token, token, WG_SESS_RESUME_LEN);
	set_state(t, s, WG_SESS_ACTIVE, now_ms);
	h_insert(t, &t->by_conn, conn_id, s->idx);
	h_insert(t, &t->by_player, player_id, s->idx);
	for (unsigned int i = 0; i < n_routes; i++)
		if (routes[i] != WG_SESS_NO_INSTANCE)
			route_link(t, s, i, routes[i]);
	return s;
}

void
wg_sess_set_peer(struct wg_session *s, const uint8_t ip[16], uint16_t port, const char *account)
{
	if (ip != NULL)
		memcpy(s->peer_ip, ip, sizeof(s->peer_ip));
	s->peer_port = port;
	if (account != NULL)
		set_account(s, account);
}

uint32_t
wg_sess_count(const struct wg_sess_table *t, enum wg_sess_state st)
{
	return st < WG_SESS_N_STATES ? t->count[st] : 0;
}

void
wg_sess_foreach(const struct wg_sess_table *t, wg_sess_visit_fn *fn, void *arg)
{
	for (uint32_t i = 0; i < t->conf.max_sessions; i++)
		if (t->s[i].state != WG_SESS_FREE)
			fn(arg, &t->s[i]);
}

const char *
wg_sess_state_name(enum wg_sess_state st)
{
	return st < WG_SESS_N_STATES ? state_names[st] : "?";
}

void
wg_sess_dump(FILE *f, const struct wg_sess_table *t)
{
	fprintf(f, "sessions: max %u, free %u, logging_in %u, active %u, detached %u, closed %u\n",
		t->conf.max_sessions, t->count[WG_SESS_FREE], t->count[WG_SESS_LOGGING_IN],
		t->count[WG_SESS_ACTIVE], t->count[WG_SESS_DETACHED], t->count[WG_SESS_CLOSED]);
	for (uint16_t i = 0; i < t->conf.max_instances; i++)
		if (t->inst_count[i])
			fprintf(f, "  instance %u: %u routes\n", i, t->inst_count[i]);
	for (uint32_t i = 0; i < t->conf.max_sessions; i++) {
		const struct wg_session *s = &t->s[i];

		if (s->state == WG_SESS_FREE)
			continue;
		fprintf(f, "  [%u] conn %#llx player %llu %s %s deadline %llu resumes %u\n", i,
			(unsigned long long)s->conn_id, (unsigned long long)s->player_id,
			s->account, state_names[s->state], (unsigned long long)s->deadline_ms,
			s->resumes);
	}
}

int
wg_sess_rekey(struct wg_sess_table *t, struct wg_session *s, uint64_t conn_id)
{
	struct wg_session *o;

	if (conn_id == 0 || s->state == WG_SESS_FREE)
		return -EINVAL;
	o = wg_sess_find(t, conn_id);
	if (o == s)
		return 0;
	if (o != NULL)
		return -EEXIST;
	h_remove(t, &t->by_conn, s->conn_id);
	s->conn_id = conn_id;
	h_insert(t, &t->by_conn, conn_id, s->idx);
	return 0;
}
