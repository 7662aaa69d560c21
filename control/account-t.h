/* SPDX-License-Identifier: BSD-3-Clause
 * Account checks: types, limits and results.
 */
#ifndef WG_ACCOUNT_T_H
#define WG_ACCOUNT_T_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_ACCOUNT_NAME_MAX      64
#define WG_ACCOUNT_PASSWORD_MAX  256
#define WG_ACCOUNT_SALT_LEN      16      /* new hashes; stored salts 8..64 */
#define WG_ACCOUNT_HASH_LEN      32      /* new hashes; stored hashes 16..64 */
#define WG_ACCOUNT_BLOB_MAX      64
#define WG_ACCOUNT_MAX_THREADS   8

/* scrypt cost. The defaults cost ~16 MiB and tens of ms per hash on one
 * core by design; stored parameters are bounded (N <= 2^20, r <= 32,
 * p <= 16, 128 * N * r <= 1 GiB) so a bad row cannot exhaust memory. */
#define WG_SCRYPT_N_DEFAULT      16384
#define WG_SCRYPT_R_DEFAULT      8
#define WG_SCRYPT_P_DEFAULT      1

struct wg_scrypt_params {
	uint64_t n;                /* CPU/memory cost, a power of two >= 2 */
	uint32_t r;                /* block size */
	uint32_t p;                /* parallelism */
};

/* Results passed to the done callback (and returned by the sync helpers):
 *   0            password right; player_id set
 *   -ENOENT      no such account (answered after a dummy hash, so the
 *                timing does not tell unknown accounts from bad passwords)
 *   -EACCES      wrong password
 *   -EAGAIN      backend unavailable (database down): retry later
 *   -ETIMEDOUT   no answer within timeout_ms
 *   -EIO         backend or stored-data error (logged)
 *   -ECANCELED   the backend was destroyed first */
typedef void wg_account_done_fn(void *arg, int result, uint64_t player_id);

/* syslog-style levels for the log hook (3 error, 4 warning, 6 info). */
typedef void wg_account_log_fn(void *arg, int level, const char *msg);

/* Proposed config: control.account.backend (static|pg),
 * control.account.max_pending, control.account.hash_threads,
 * control.account.timeout_ms, control.account.scrypt_n / scrypt_r /
 * scrypt_p, control.account.pg_conninfo,
 * control.account.pg_connect_timeout_ms,
 * control.account.pg_reconnect_min_ms / pg_reconnect_max_ms. */
struct wg_account_conf {
	unsigned int max_pending;      /* verifications in progress at once */
	unsigned int hash_threads;     /* 1..WG_ACCOUNT_MAX_THREADS */
	uint32_t timeout_ms;           /* lookup deadline per verification */
	struct wg_scrypt_params hash;  /* new hashes and the unknown-account dummy */
	wg_account_log_fn *log;        /* NULL: silent */
	void *log_arg;
};

struct wg_account_pg_conf {
	const char *conninfo;          /* libpq string; use a numeric host (no DNS) */
	uint32_t connect_timeout_ms;
	uint32_t reconnect_min_ms;
	uint32_t reconnect_max_ms;
};

struct wg_account_stats {
	uint64_t submitted;
	uint64_t ok;
	uint64_t bad_password;
	uint64_t unknown;
	uint64_t unavailable;
	uint64_t timeouts;
	uint64_t errors;
	uint64_t canceled;
	uint64_t busy;                 /* refused at submit: max_pending reached */
	uint32_t pending;
	/* PostgreSQL backend */
	uint64_t connects;
	uint64_t connect_failures;
	uint64_t conn_lost;
	uint64_t queries;
	bool ready;                    /* connected and prepared */
};

#endif /* WG_ACCOUNT_T_H */
