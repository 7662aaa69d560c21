/* SPDX-License-Identifier: BSD-3-Clause
 * Account backends' shared engine (internal): the job pool, the hash
 * threads and the completion queue back to the control loop.
 *
 * Job ownership: the loop owns a job from acct_job_get() until it hands it
 * to acct_hash_submit() or acct_finish(); from then on the engine owns it
 * until acct_core_poll() runs its callback and frees it. Jobs never leave
 * the pool, so no allocation happens per check.
 */
#ifndef WG_ACCOUNT_IMPL_H
#define WG_ACCOUNT_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "account.h"

enum acct_job_state {
	J_FREE = 0,
	J_LOOKUP,                  /* backend's: queued or on the wire */
	J_HASH,                    /* queued for / on a hash thread */
	J_DONE,                    /* result set, callback pending */
};

struct acct_job {
	uint32_t idx;
	uint8_t state;
	bool dummy;                /* unknown account: hash anyway, then -ENOENT */
	int result;
	uint64_t player_id;
	uint64_t deadline_ms;
	unsigned int attempts;     /* lookups sent (a lost connection retries once) */
	wg_account_done_fn *done;
	void *arg;
	char account[WG_ACCOUNT_NAME_MAX + 1];
	char password[WG_ACCOUNT_PASSWORD_MAX];
	size_t pwlen;
	struct wg_scrypt_params params;
	uint8_t salt[WG_ACCOUNT_BLOB_MAX];
	size_t saltlen;
	uint8_t hash[WG_ACCOUNT_BLOB_MAX];
	size_t hashlen;
};

/* Index FIFO over the job pool (each job in at most one queue). */
struct acct_fifo {
	uint32_t *slot;
	uint32_t cap, head, n;
};

struct acct_core {
	struct wg_account_conf conf;
	struct acct_job *jobs;
	uint32_t *free_stack;
	uint32_t n_free;
	/* shared with the hash threads, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct acct_fifo hashq;
	struct acct_fifo doneq;
	bool stop;
	atomic_uint done_n;        /* doneq length hint read without the lock */
	int efd;                   /* eventfd: "results waiting" */
	pthread_t threads[WG_ACCOUNT_MAX_THREADS];
	unsigned int n_threads;
	uint64_t now_ms;           /* from the last poll */
	bool clock_set;            /* a poll has happened */
	struct wg_account_stats st;
};

int acct_core_init(struct acct_core *c, const struct wg_account_conf *conf);
/* Stop the threads, then complete every job not yet delivered with
 * -ECANCELED. */
void acct_core_fini(struct acct_core *c);
/* A job for this check, or NULL with *err (-EINVAL, -ENOSPC). */
struct acct_job *acct_job_get(struct acct_core *c, const char *account, const char *password,
			      size_t pwlen, wg_account_done_fn *done, void *arg, int *err);
/* Hash j->password with j's salt/params and compare with j->hash (or the
 * dummy when j->dummy) on a hash thread. */
void acct_hash_submit(struct acct_core *c, struct acct_job *j);
/* Complete j with result without hashing (delivered at the next poll). */
void acct_finish(struct acct_core *c, struct acct_job *j, int result);
/* Deliver completed jobs; returns how many. */
int acct_core_poll(struct acct_core *c);
/* Call before sleeping on efd (pollfds). */
void acct_core_arm(struct acct_core *c);
void acct_log(const struct acct_core *c, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int acct_fifo_init(struct acct_fifo *f, uint32_t cap);
void acct_fifo_fini(struct acct_fifo *f);
void acct_fifo_push(struct acct_fifo *f, uint32_t v);
void acct_fifo_push_front(struct acct_fifo *f, uint32_t v);
uint32_t acct_fifo_pop(struct acct_fifo *f);
uint32_t acct_fifo_peek(const struct acct_fifo *f, uint32_t i);

#endif /* WG_ACCOUNT_IMPL_H */
