/* SPDX-License-Identifier: BSD-3-Clause
 * Account engine (job pool, scrypt threads, completion queue), scrypt
 * helpers and the in-memory backend.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "account_impl.h"

#define SCRYPT_N_MAX      (1u << 20)
#define SCRYPT_R_MAX      32
#define SCRYPT_P_MAX      16
#define SCRYPT_MEM_MAX    (1ull << 30)

/* Fixed salt for the unknown-account dummy hash: its output is never
 * compared, only its cost matters. */
static const uint8_t dummy_salt[WG_ACCOUNT_SALT_LEN] = "wg-dummy-salt-16";

/* ---- scrypt ---- */

bool
wg_scrypt_params_ok(const struct wg_scrypt_params *p)
{
	return p->n >= 2 && p->n <= SCRYPT_N_MAX && (p->n & (p->n - 1)) == 0 &&
	       p->r >= 1 && p->r <= SCRYPT_R_MAX && p->p >= 1 && p->p <= SCRYPT_P_MAX &&
	       128ull * p->n * p->r <= SCRYPT_MEM_MAX;
}

int
wg_scrypt(const char *password, size_t pwlen, const uint8_t *salt, size_t saltlen,
	  const struct wg_scrypt_params *p, uint8_t *out, size_t outlen)
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *kctx;
	OSSL_PARAM params[7], *q = params;
	uint64_t n = p->n, maxmem;
	uint32_t r = p->r, par = p->p;
	int rc = 0;

	if (!wg_scrypt_params_ok(p))
		return -EINVAL;
	/* V (128 N r) plus B (128 r p) plus slack for OpenSSL's own check */
	maxmem = 128ull * n * r + 128ull * r * par + (1u << 20);
	kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	if (kdf == NULL)
		return -EIO;
	kctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (kctx == NULL)
		return -EIO;
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)password, pwlen);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &par);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	*q = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, outlen, params) != 1)
		rc = -EIO;
	EVP_KDF_CTX_free(kctx);
	return rc;
}

int
wg_account_hash_new(const char *password, size_t pwlen, const struct wg_scrypt_params *p,
		    uint8_t salt[WG_ACCOUNT_SALT_LEN], uint8_t hash[WG_ACCOUNT_HASH_LEN])
{
	if (RAND_bytes(salt, WG_ACCOUNT_SALT_LEN) != 1)
		return -EIO;
	return wg_scrypt(password, pwlen, salt, WG_ACCOUNT_SALT_LEN, p, hash, WG_ACCOUNT_HASH_LEN);
}

bool
wg_account_name_ok(const char *account)
{
	size_t n = strnlen(account, WG_ACCOUNT_NAME_MAX + 1);

	if (n == 0 || n > WG_ACCOUNT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)account[i] < 0x20 || account[i] == 0x7f)
			return false;
	return true;
}

const char *
wg_account_strerror(int result)
{
	switch (-result) {
	case 0:
		return "ok";
	case ENOENT:
		return "unknown account";
	case EACCES:
		return "wrong password";
	case EAGAIN:
		return "account backend unavailable";
	case ETIMEDOUT:
		return "account check timed out";
	case EIO:
		return "account backend error";
	case ECANCELED:
		return "canceled";
	case ENOSPC:
		return "too many checks in progress";
	case EINVAL:
		return "invalid account name or password";
	default:
		return "account error";
	}
}

/* ---- FIFOs ---- */

int
acct_fifo_init(struct acct_fifo *f, uint32_t cap)
{
	f->slot = calloc(cap, sizeof(*f->slot));
	f->cap = cap;
	f->head = f->n = 0;
	return f->slot == NULL ? -ENOMEM : 0;
}

void
acct_fifo_fini(struct acct_fifo *f)
{
	free(f->slot);
	f->slot = NULL;
}

void
acct_fifo_push(struct acct_fifo *f, uint32_t v)
{
	f->slot[(f->head + f->n++) % f->cap] = v;
}

void
acct_fifo_push_front(struct acct_fifo *f, uint32_t v)
{
	f->head = (f->head + f->cap - 1) % f->cap;
	f->slot[f->head] = v;
	f->n++;
}

uint32_t
acct_fifo_pop(struct acct_fifo *f)
{
	uint32_t v = f->slot[f->head];

	f->head = (f->head + 1) % f->cap;
	f->n--;
	return v;
}

uint32_t
acct_fifo_peek(const struct acct_fifo *f, uint32_t i)
{
	return f->slot[(f->head + i) % f->cap];
}

/* ---- engine ---- */

void
acct_log(const struct acct_core *c, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (c->conf.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->conf.log(c->conf.log_arg, level, msg);
}

static void
job_wipe(struct acct_job *j)
{
	OPENSSL_cleanse(j->password, sizeof(j->password));
	j->pwlen = 0;
}

/* Hash thread: take a job, derive, compare in constant time, post the
 * result. The password is wiped here, as soon as it is no longer needed. */
static void *
hash_thread(void *arg)
{
	struct acct_core *c = arg;
	uint8_t out[WG_ACCOUNT_BLOB_MAX];

	for (;;) {
		struct acct_job *j;
		int rc;

		pthread_mutex_lock(&c->lock);
		while (c->hashq.n == 0 && !c->stop)
			pthread_cond_wait(&c->cond, &c->lock);
		if (c->stop) {
			pthread_mutex_unlock(&c->lock);
			break;
		}
		j = &c->jobs[acct_fifo_pop(&c->hashq)];
		pthread_mutex_unlock(&c->lock);

		if (j->dummy) {
			rc = wg_scrypt(j->password, j->pwlen, dummy_salt, sizeof(dummy_salt),
				       &c->conf.hash, out, WG_ACCOUNT_HASH_LEN);
			rc = rc < 0 ? rc : -ENOENT;
		} else {
			rc = wg_scrypt(j->password, j->pwlen, j->salt, j->saltlen, &j->params, out,
				       j->hashlen);
			if (rc == 0 && CRYPTO_memcmp(out, j->hash, j->hashlen) != 0)
				rc = -EACCES;
		}
		OPENSSL_cleanse(out, sizeof(out));
		job_wipe(j);

		pthread_mutex_lock(&c->lock);
		j->result = rc;
		j->state = J_DONE;
		acct_fifo_push(&c->doneq, j->idx);
		atomic_fetch_add_explicit(&c->done_n, 1, memory_order_release);
		pthread_mutex_unlock(&c->lock);
		eventfd_write(c->efd, 1);
	}
	return NULL;
}

int
acct_core_init(struct acct_core *c, const struct wg_account_conf *conf)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->efd = -1;
	if (conf->max_pending == 0 || conf->max_pending > (1u << 20) ||
	    conf->hash_threads == 0 || conf->hash_threads > WG_ACCOUNT_MAX_THREADS ||
	    conf->timeout_ms == 0 || !wg_scrypt_params_ok(&conf->hash))
		return -EINVAL;
	c->conf = *conf;
	c->jobs = calloc(conf->max_pending, sizeof(*c->jobs));
	c->free_stack = calloc(conf->max_pending, sizeof(*c->free_stack));
	if (c->jobs == NULL || c->free_stack == NULL ||
	    acct_fifo_init(&c->hashq, conf->max_pending) < 0 ||
	    acct_fifo_init(&c->doneq, conf->max_pending) < 0) {
		rc = -ENOMEM;
		goto err;
	}
	for (uint32_t i = 0; i < conf->max_pending; i++) {
		c->jobs[i].idx = i;
		c->free_stack[i] = conf->max_pending - 1 - i;
	}
	c->n_free = conf->max_pending;
	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->efd < 0) {
		rc = -errno;
		goto err;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	atomic_init(&c->done_n, 0);
	for (unsigned int i = 0; i < conf->hash_threads; i++) {
		if (pthread_create(&c->threads[i], NULL, hash_thread, c) != 0) {
			rc = -EIO;
			acct_core_fini(c);
			return rc;
		}
		c->n_threads++;
	}
	return 0;
err:
	if (c->efd >= 0)
		close(c->efd);
	acct_fifo_fini(&c->hashq);
	acct_fifo_fini(&c->doneq);
	free(c->jobs);
	free(c->free_stack);
	c->jobs = NULL;
	return rc;
}

static void
job_put(struct acct_core *c, struct acct_job *j)
{
	job_wipe(j);
	j->state = J_FREE;
	j->done = NULL;
	j->arg = NULL;
	c->free_stack[c->n_free++] = j->idx;
}

static void
count_result(struct acct_core *c, int result)
{
	switch (-result) {
	case 0:
		c->st.ok++;
		break;
	case EACCES:
		c->st.bad_password++;
		break;
	case ENOENT:
		c->st.unknown++;
		break;
	case EAGAIN:
		c->st.unavailable++;
		break;
	case ETIMEDOUT:
		c->st.timeouts++;
		break;
	case ECANCELED:
		c->st.canceled++;
		break;
	default:
		c->st.errors++;
		break;
	}
}

static void
deliver(struct acct_core *c, struct acct_job *j, int result)
{
	wg_account_done_fn *done = j->done;
	void *arg = j->arg;
	uint64_t player = result == 0 ? j->player_id : 0;

	count_result(c, result);
	/* back in the pool before the callback, which may start a new check */
	job_put(c, j);
	done(arg, result, player);
}

void
acct_core_fini(struct acct_core *c)
{
	if (c->jobs == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	for (unsigned int i = 0; i < c->n_threads; i++)
		pthread_join(c->threads[i], NULL);
	/* threads gone: every job still out is ours to cancel */
	for (uint32_t i = 0; i < c->conf.max_pending; i++)
		if (c->jobs[i].state != J_FREE)
			deliver(c, &c->jobs[i], -ECANCELED);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	close(c->efd);
	acct_fifo_fini(&c->hashq);
	acct_fifo_fini(&c->doneq);
	OPENSSL_cleanse(c->jobs, c->conf.max_pending * sizeof(*c->jobs));
	free(c->jobs);
	free(c->free_stack);
	c->jobs = NULL;
}

struct acct_job *
acct_job_get(struct acct_core *c, const char *account, const char *password, size_t pwlen,
	     wg_account_done_fn *done, void *arg, int *err)
{
	struct acct_job *j;

	if (account == NULL || !wg_account_name_ok(account) || done == NULL ||
	    (password == NULL && pwlen) || pwlen > WG_ACCOUNT_PASSWORD_MAX) {
		*err = -EINVAL;
		return NULL;
	}
	if (c->stop) {
		/* a callback run by destroy tried to start another check */
		*err = -ECANCELED;
		return NULL;
	}
	if (c->n_free == 0) {
		c->st.busy++;
		*err = -ENOSPC;
		return NULL;
	}
	j = &c->jobs[c->free_stack[--c->n_free]];
	j->state = J_LOOKUP;
	j->dummy = false;
	j->result = 0;
	j->player_id = 0;
	j->attempts = 0;
	/* before the first poll the clock is unknown: stamped there */
	j->deadline_ms = c->clock_set ? c->now_ms + c->conf.timeout_ms : UINT64_MAX;
	j->done = done;
	j->arg = arg;
	strcpy(j->account, account);
	if (pwlen)
		memcpy(j->password, password, pwlen);
	j->pwlen = pwlen;
	j->saltlen = j->hashlen = 0;
	c->st.submitted++;
	return j;
}

void
acct_hash_submit(struct acct_core *c, struct acct_job *j)
{
	pthread_mutex_lock(&c->lock);
	j->state = J_HASH;
	acct_fifo_push(&c->hashq, j->idx);
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void
acct_finish(struct acct_core *c, struct acct_job *j, int result)
{
	job_wipe(j);
	pthread_mutex_lock(&c->lock);
	j->result = result;
	j->state = J_DONE;
	acct_fifo_push(&c->doneq, j->idx);
	atomic_fetch_add_explicit(&c->done_n, 1, memory_order_release);
	pthread_mutex_unlock(&c->lock);
}

/* Before the loop sleeps on efd: clear wake-ups already consumed by a
 * poll, and re-arm if results are waiting, so the sleep neither spins on a
 * stale count nor misses a result posted between poll and sleep. */
void
acct_core_arm(struct acct_core *c)
{
	eventfd_t v;

	eventfd_read(c->efd, &v);
	if (atomic_load_explicit(&c->done_n, memory_order_acquire) != 0)
		eventfd_write(c->efd, 1);
}

int
acct_core_poll(struct acct_core *c)
{
	uint32_t idx[64];
	unsigned int n;
	int total = 0;
	eventfd_t v;

	if (atomic_load_explicit(&c->done_n, memory_order_acquire) == 0)
		return 0;
	eventfd_read(c->efd, &v);
	/* in batches, callbacks outside the lock (they may submit) */
	do {
		pthread_mutex_lock(&c->lock);
		for (n = 0; n < 64 && c->doneq.n > 0; n++)
			idx[n] = acct_fifo_pop(&c->doneq);
		atomic_fetch_sub_explicit(&c->done_n, n, memory_order_relaxed);
		pthread_mutex_unlock(&c->lock);
		for (unsigned int i = 0; i < n; i++)
			deliver(c, &c->jobs[idx[i]], c->jobs[idx[i]].result);
		total += (int)n;
	} while (n == 64);
	return total;
}

/* ---- in-memory backend ---- */

struct static_acct {
	char account[WG_ACCOUNT_NAME_MAX + 1];
	uint64_t player_id;
	struct wg_scrypt_params params;
	uint8_t salt[WG_ACCOUNT_SALT_LEN];
	uint8_t hash[WG_ACCOUNT_HASH_LEN];
};

struct static_be {
	struct wg_account base;
	struct acct_core core;
	struct static_acct *acct;
	unsigned int n, max;
};

static struct static_acct *
static_find(struct static_be *b, const char *account)
{
	for (unsigned int i = 0; i < b->n; i++)
		if (strcmp(b->acct[i].account, account) == 0)
			return &b->acct[i];
	return NULL;
}

static int
static_verify(struct wg_account *a, const char *account, const char *password, size_t pwlen,
	      wg_account_done_fn *done, void *arg)
{
	struct static_be *b = (struct static_be *)a;
	struct static_acct *s;
	struct acct_job *j;
	int err;

	j = acct_job_get(&b->core, account, password, pwlen, done, arg, &err);
	if (j == NULL)
		return err;
	s = static_find(b, account);
	if (s == NULL) {
		j->dummy = true;
	} else {
		j->player_id = s->player_id;
		j->params = s->params;
		memcpy(j->salt, s->salt, sizeof(s->salt));
		j->saltlen = sizeof(s->salt);
		memcpy(j->hash, s->hash, sizeof(s->hash));
		j->hashlen = sizeof(s->hash);
	}
	acct_hash_submit(&b->core, j);
	return 0;
}

static int
static_poll(struct wg_account *a, uint64_t now_ms)
{
	struct static_be *b = (struct static_be *)a;

	b->core.now_ms = now_ms;
	b->core.clock_set = true;
	return acct_core_poll(&b->core);
}

static int
static_pollfds(struct wg_account *a, struct pollfd *pfd, int max)
{
	struct static_be *b = (struct static_be *)a;

	if (max < 1)
		return 0;
	acct_core_arm(&b->core);
	pfd[0] = (struct pollfd){ .fd = b->core.efd, .events = POLLIN };
	return 1;
}

static void
static_stats(const struct wg_account *a, struct wg_account_stats *st)
{
	const struct static_be *b = (const struct static_be *)a;

	*st = b->core.st;
	st->pending = b->core.conf.max_pending - b->core.n_free;
	st->ready = true;
}

static void
static_dump(FILE *f, const struct wg_account *a)
{
	const struct static_be *b = (const struct static_be *)a;
	const struct wg_account_stats *s = &b->core.st;

	fprintf(f, "account static: %u/%u accounts, pending %u, ok %llu bad %llu unknown %llu\n",
		b->n, b->max, b->core.conf.max_pending - b->core.n_free,
		(unsigned long long)s->ok, (unsigned long long)s->bad_password,
		(unsigned long long)s->unknown);
}

static void
static_destroy(struct wg_account *a)
{
	struct static_be *b = (struct static_be *)a;

	acct_core_fini(&b->core);
	if (b->acct != NULL)
		OPENSSL_cleanse(b->acct, b->max * sizeof(*b->acct));
	free(b->acct);
	free(b);
}

static const struct wg_account_ops static_ops = {
	.name = "static",
	.verify = static_verify,
	.poll = static_poll,
	.pollfds = static_pollfds,
	.stats = static_stats,
	.dump = static_dump,
	.destroy = static_destroy,
};

struct wg_account *
wg_account_static_create(const struct wg_account_conf *conf, unsigned int max_accounts)
{
	struct static_be *b;
	int rc;

	if (max_accounts == 0) {
		errno = EINVAL;
		return NULL;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->base.ops = &static_ops;
	b->max = max_accounts;
	b->acct = calloc(max_accounts, sizeof(*b->acct));
	if (b->acct == NULL) {
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	rc = acct_core_init(&b->core, conf);
	if (rc < 0) {
		free(b->acct);
		free(b);
		errno = -rc;
		return NULL;
	}
	return &b->base;
}

int
wg_account_static_add(struct wg_account *a, const char *account, const char *password,
		      uint64_t player_id)
{
	struct static_be *b = (struct static_be *)a;
	struct static_acct *s;
	size_t pwlen;
	int rc;

	if (a->ops != &static_ops || !wg_account_name_ok(account) || player_id == 0)
		return -EINVAL;
	pwlen = strlen(password);
	if (pwlen > WG_ACCOUNT_PASSWORD_MAX)
		return -EINVAL;
	if (static_find(b, account) != NULL)
		return -EEXIST;
	for (unsigned int i = 0; i < b->n; i++)
		if (b->acct[i].player_id == player_id)
			return -EEXIST;
	if (b->n == b->max)
		return -ENOSPC;
	s = &b->acct[b->n];
	rc = wg_account_hash_new(password, pwlen, &b->core.conf.hash, s->salt, s->hash);
	if (rc < 0) {
		OPENSSL_cleanse(s, sizeof(*s));
		return rc;
	}
	strcpy(s->account, account);
	s->player_id = player_id;
	s->params = b->core.conf.hash;
	b->n++;
	return 0;
}
