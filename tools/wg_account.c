/* SPDX-License-Identifier: BSD-3-Clause
 * wg_account: create and check login accounts in PostgreSQL
 * (control/account.h), for operators and the demo.
 *
 *   wg_account add -d CONNINFO [-N n] [-r r] [-p p] ACCOUNT PLAYER_ID
 *   wg_account verify -d CONNINFO [-t TIMEOUT_MS] ACCOUNT
 *
 * The password is the first line of standard input (never an argument:
 * it would show in ps). add creates the table if needed. verify runs the
 * same asynchronous backend control uses and prints "ok PLAYER_ID".
 * Exit status: 0 ok; 1 wrong password or unknown account; 2 usage;
 * 3 database unavailable or timed out; 4 account exists; 5 other errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "account.h"

static void
usage(void)
{
	fprintf(stderr,
		"usage: wg_account add -d CONNINFO [-N n] [-r r] [-p p] ACCOUNT PLAYER_ID\n"
		"       wg_account verify -d CONNINFO [-t TIMEOUT_MS] ACCOUNT\n"
		"       (password: first line of stdin)\n");
	exit(2);
}

static uint64_t
num(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *s == '\0' || *s == '-' || *end != '\0') {
		fprintf(stderr, "wg_account: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
log_stderr(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "wg_account: %s\n", msg);
}

struct result {
	bool done;
	int rc;
	uint64_t player;
};

static void
done_cb(void *arg, int rc, uint64_t player)
{
	struct result *r = arg;

	r->done = true;
	r->rc = rc;
	r->player = player;
}

static int
exit_code(int rc)
{
	switch (-rc) {
	case 0:
		return 0;
	case EACCES:
	case ENOENT:
		return 1;
	case EINVAL:
		return 2;
	case EAGAIN:
	case ETIMEDOUT:
		return 3;
	case EEXIST:
		return 4;
	default:
		return 5;
	}
}

int
main(int argc, char **argv)
{
	struct wg_scrypt_params sp = { WG_SCRYPT_N_DEFAULT, WG_SCRYPT_R_DEFAULT,
				       WG_SCRYPT_P_DEFAULT };
	const char *conninfo = NULL, *cmd;
	char pw[WG_ACCOUNT_PASSWORD_MAX + 2];
	uint64_t timeout = 10000;
	size_t pwlen;
	int opt, rc;

	if (argc < 2)
		usage();
	cmd = argv[1];
	if (strcmp(cmd, "add") != 0 && strcmp(cmd, "verify") != 0)
		usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "d:N:r:p:t:")) != -1) {
		switch (opt) {
		case 'd': conninfo = optarg; break;
		case 'N': sp.n = num(optarg, "N"); break;
		case 'r': sp.r = (uint32_t)num(optarg, "r"); break;
		case 'p': sp.p = (uint32_t)num(optarg, "p"); break;
		case 't': timeout = num(optarg, "timeout"); break;
		default: usage();
		}
	}
	if (conninfo == NULL)
		usage();
	if (fgets(pw, sizeof(pw), stdin) == NULL) {
		fprintf(stderr, "wg_account: no password on stdin\n");
		return 2;
	}
	pwlen = strcspn(pw, "\r\n");
	if (pwlen > WG_ACCOUNT_PASSWORD_MAX) {
		fprintf(stderr, "wg_account: password longer than %d bytes\n",
			WG_ACCOUNT_PASSWORD_MAX);
		return 2;
	}
	pw[pwlen] = '\0';

	if (strcmp(cmd, "add") == 0) {
		char msg[256];

		if (optind != argc - 2)
			usage();
		if (!wg_scrypt_params_ok(&sp)) {
			fprintf(stderr, "wg_account: scrypt parameters out of bounds\n");
			return 2;
		}
		rc = wg_account_pg_add(conninfo, argv[optind], pw, num(argv[optind + 1], "player id"),
				       &sp, msg, sizeof(msg));
		OPENSSL_cleanse(pw, sizeof(pw));
		if (rc < 0) {
			fprintf(stderr, "wg_account: add %s: %s%s%s\n", argv[optind],
				rc == -EEXIST ? "account or player id exists" : strerror(-rc),
				msg[0] ? ": " : "", msg);
			return exit_code(rc);
		}
		printf("added %s\n", argv[optind]);
		return 0;
	}

	struct wg_account_conf c = { .max_pending = 1, .hash_threads = 1,
				     .timeout_ms = (uint32_t)timeout, .hash = sp,
				     .log = log_stderr };
	struct wg_account_pg_conf pc = { .conninfo = conninfo, .connect_timeout_ms = 5000,
					 .reconnect_min_ms = 100, .reconnect_max_ms = 1000 };
	struct result r = { 0 };
	struct wg_account *a;

	if (optind != argc - 1)
		usage();
	a = wg_account_pg_create(&c, &pc);
	if (a == NULL) {
		fprintf(stderr, "wg_account: %s\n", strerror(errno));
		return 5;
	}
	rc = wg_account_verify(a, argv[optind], pw, pwlen, done_cb, &r);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (rc < 0) {
		fprintf(stderr, "wg_account: %s\n", wg_account_strerror(rc));
		wg_account_destroy(a);
		return exit_code(rc);
	}
	while (!r.done) {
		struct pollfd pfd[4];
		int n;

		wg_account_poll(a, now_ms());
		if (r.done)
			break;
		n = wg_account_pollfds(a, pfd, 4);
		poll(pfd, (nfds_t)n, 20);
	}
	wg_account_destroy(a);
	if (r.rc < 0) {
		printf("error: %s\n", wg_account_strerror(r.rc));
		return exit_code(r.rc);
	}
	printf("ok %" PRIu64 "\n", r.player);
	return 0;
}
