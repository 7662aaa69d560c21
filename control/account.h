/* SPDX-License-Identifier: BSD-3-Clause
 * Pluggable account checks for logins. A backend is a vtable: verify()
 * starts a check and returns at once; poll(), called from control's loop,
 * advances I/O and delivers results to the done callbacks — always from
 * poll(), never from inside verify(), so callers need no re-entrancy care.
 *
 * Backends here share one engine: a fixed pool of max_pending jobs and a
 * pool of hash threads running scrypt (milliseconds per hash by design,
 * so never on the control loop), which signal the loop through an eventfd.
 *
 *   static  accounts added in memory (tests, demos without a database)
 *   pg      PostgreSQL via libpq, non-blocking: table `accounts` created by
 *           a migration at connect, one prepared SELECT per check; database
 *           down -> -EAGAIN at once (no queueing behind an outage), with
 *           reconnection in the background (exponential back-off)
 *
 * Passwords are copied into the job and wiped after hashing.
 */
#ifndef WG_ACCOUNT_H
#define WG_ACCOUNT_H

#include <stdio.h>

#include "account-t.h"

struct wg_account;

struct wg_account_ops {
	const char *name;
	/* 0 (result comes through done), -EINVAL (account name empty, longer
	 * than WG_ACCOUNT_NAME_MAX or with control bytes; password longer than
	 * WG_ACCOUNT_PASSWORD_MAX), -ENOSPC (max_pending in progress),
	 * -ECANCELED (being destroyed). */
	int (*verify)(struct wg_account *a, const char *account, const char *password,
		      size_t pwlen, wg_account_done_fn *done, void *arg);
	/* Advance; returns the number of results delivered. */
	int (*poll)(struct wg_account *a, uint64_t now_ms);
	/* File descriptors to sleep on between polls. */
	int (*pollfds)(struct wg_account *a, struct pollfd *pfd, int max);
	void (*stats)(const struct wg_account *a, struct wg_account_stats *st);
	void (*dump)(FILE *f, const struct wg_account *a);
	/* Pending checks complete with -ECANCELED before it returns (verify
	 * from those callbacks returns -ECANCELED). */
	void (*destroy)(struct wg_account *a);
};

/* Every backend starts with this. */
struct wg_account {
	const struct wg_account_ops *ops;
};

static inline int
wg_account_verify(struct wg_account *a, const char *account, const char *password,
		  size_t pwlen, wg_account_done_fn *done, void *arg)
{
	return a->ops->verify(a, account, password, pwlen, done, arg);
}

static inline int
wg_account_poll(struct wg_account *a, uint64_t now_ms)
{
	return a->ops->poll(a, now_ms);
}

static inline int
wg_account_pollfds(struct wg_account *a, struct pollfd *pfd, int max)
{
	return a->ops->pollfds(a, pfd, max);
}

static inline void
wg_account_stats(const struct wg_account *a, struct wg_account_stats *st)
{
	a->ops->stats(a, st);
}

static inline void
wg_account_dump(FILE *f, const struct wg_account *a)
{
	a->ops->dump(f, a);
}

static inline void
wg_account_destroy(struct wg_account *a)
{
	if (a != NULL)
		a->ops->destroy(a);
}

/* In-memory backend. NULL + errno (EINVAL, ENOMEM, EIO: thread start). */
struct wg_account *wg_account_static_create(const struct wg_account_conf *conf,
					    unsigned int max_accounts);
/* Hash (synchronously, with conf.hash) and add. -EEXIST (account or
 * player id present), -ENOSPC, -EINVAL (bad name/password, player 0). */
int wg_account_static_add(struct wg_account *a, const char *account, const char *password,
			  uint64_t player_id);

/* PostgreSQL backend. The conninfo is copied; nothing connects before the
 * first poll. NULL + errno (EINVAL, ENOMEM, EIO). */
struct wg_account *wg_account_pg_create(const struct wg_account_conf *conf,
					const struct wg_account_pg_conf *pg);
/* Blocking helper for tools and demos: connect, migrate, hash the password
 * (salt from RAND_bytes) and insert. -EEXIST (account or player id taken),
 * -EINVAL, -EAGAIN (cannot connect), -EIO; msg (may be NULL) gets the
 * server's message. */
int wg_account_pg_add(const char *conninfo, const char *account, const char *password,
		      uint64_t player_id, const struct wg_scrypt_params *params,
		      char *msg, size_t msglen);

/* scrypt(password, salt) into out[outlen] with checked parameters: 0,
 * -EINVAL (parameters out of bounds), -EIO. Thread-safe. */
int wg_scrypt(const char *password, size_t pwlen, const uint8_t *salt, size_t saltlen,
	      const struct wg_scrypt_params *p, uint8_t *out, size_t outlen);
bool wg_scrypt_params_ok(const struct wg_scrypt_params *p);
/* Salt (WG_ACCOUNT_SALT_LEN, random) and hash (WG_ACCOUNT_HASH_LEN) for a
 * new password. */
int wg_account_hash_new(const char *password, size_t pwlen, const struct wg_scrypt_params *p,
			uint8_t salt[WG_ACCOUNT_SALT_LEN], uint8_t hash[WG_ACCOUNT_HASH_LEN]);
/* Account names: 1..WG_ACCOUNT_NAME_MAX bytes, none below 0x20 or 0x7f. */
bool wg_account_name_ok(const char *account);
const char *wg_account_strerror(int result);

#endif /* WG_ACCOUNT_H */
