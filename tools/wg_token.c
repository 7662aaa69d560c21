/* SPDX-License-Identifier: BSD-3-Clause
 * wg_token: make and inspect login tokens (control/token.h) for tests and
 * operators.
 *
 *   wg_token genkey KID
 *       print a key line "KID HEX" (64 random bytes) for a key file
 *   wg_token mint -k KEYFILE -p PLAYER_ID -a ACCOUNT [-K KID] [-t TTL_S] [-i ISSUED_AT]
 *       print a token signed with KID (default: the file's last key);
 *       ISSUED_AT defaults to now, TTL to 3600 s
 *   wg_token verify -k KEYFILE [-n NOW] [-s SKEW_S] [-m MAX_TTL_S] TOKEN
 *       print the claims and exit 0, or the error and exit 1 (the replay
 *       cache is not used)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "token.h"

static void
usage(void)
{
	fprintf(stderr,
		"usage: wg_token genkey KID\n"
		"       wg_token mint -k KEYFILE -p PLAYER_ID -a ACCOUNT [-K KID] [-t TTL_S] [-i ISSUED_AT]\n"
		"       wg_token verify -k KEYFILE [-n NOW] [-s SKEW_S] [-m MAX_TTL_S] TOKEN\n");
	exit(2);
}

static uint64_t
num(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || *s == '-') {
		fprintf(stderr, "wg_token: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static int
genkey(int argc, char **argv)
{
	uint8_t k[WG_TOKEN_KEY_MAX];
	uint64_t kid;

	if (argc != 2)
		usage();
	kid = num(argv[1], "key id");
	if (kid > UINT32_MAX)
		usage();
	if (RAND_bytes(k, sizeof(k)) != 1) {
		fprintf(stderr, "wg_token: RAND_bytes failed\n");
		return 1;
	}
	printf("%" PRIu64 " ", kid);
	for (size_t i = 0; i < sizeof(k); i++)
		printf("%02x", k[i]);
	printf("\n");
	OPENSSL_cleanse(k, sizeof(k));
	return 0;
}

int
main(int argc, char **argv)
{
	struct wg_token_key keys[WG_TOKEN_MAX_KEYS];
	struct wg_token_conf conf = { .replay_slots = 1 };
	struct wg_token_claims c = { 0 };
	struct wg_token_ctx *ctx;
	const char *keyfile = NULL, *account = NULL, *cmd;
	char text[WG_TOKEN_TEXT_MAX];
	uint64_t player = 0, ttl = 3600, now = (uint64_t)time(NULL), kid = UINT64_MAX;
	bool have_player = false;
	unsigned int bad_line = 0;
	int n, opt, rc;

	if (argc < 2)
		usage();
	cmd = argv[1];
	if (strcmp(cmd, "genkey") == 0)
		return genkey(argc - 1, argv + 1);
	if (strcmp(cmd, "mint") != 0 && strcmp(cmd, "verify") != 0)
		usage();
	conf.skew_s = 30;
	optind = 2;
	while ((opt = getopt(argc, argv, "k:p:a:K:t:i:n:s:m:")) != -1) {
		switch (opt) {
		case 'k': keyfile = optarg; break;
		case 'p': player = num(optarg, "player id"); have_player = true; break;
		case 'a': account = optarg; break;
		case 'K': kid = num(optarg, "key id"); break;
		case 't': ttl = num(optarg, "ttl"); break;
		case 'i':
		case 'n': now = num(optarg, "time"); break;
		case 's': conf.skew_s = (uint32_t)num(optarg, "skew"); break;
		case 'm': conf.max_ttl_s = (uint32_t)num(optarg, "max ttl"); break;
		default: usage();
		}
	}
	if (keyfile == NULL)
		usage();
	n = wg_token_keys_load(keyfile, keys, WG_TOKEN_MAX_KEYS, &bad_line);
	if (n <= 0) {
		if (n == -EINVAL || n == -EEXIST)
			fprintf(stderr, "wg_token: %s:%u: %s\n", keyfile, bad_line,
				n == -EEXIST ? "duplicate key id" : "expected 'KID HEX' (32..64 bytes)");
		else
			fprintf(stderr, "wg_token: %s: %s\n", keyfile, n ? strerror(-n) : "no keys");
		return 1;
	}
	conf.keys = keys;
	conf.n_keys = (unsigned int)n;
	conf.current_kid = kid == UINT64_MAX ? keys[n - 1].kid : (uint32_t)kid;
	ctx = wg_token_create(&conf);
	OPENSSL_cleanse(keys, sizeof(keys));
	if (ctx == NULL) {
		fprintf(stderr, "wg_token: %s\n", errno == EINVAL ? "key id not in the key file" :
			strerror(errno));
		return 1;
	}
	if (strcmp(cmd, "mint") == 0) {
		if (optind != argc || account == NULL || !have_player || ttl == 0)
			usage();
		c.player_id = player;
		c.issued_at = now;
		c.expires_at = now + ttl;
		if (strlen(account) > WG_TOKEN_ACCOUNT_MAX) {
			fprintf(stderr, "wg_token: account longer than %d bytes\n",
				WG_TOKEN_ACCOUNT_MAX);
			rc = 1;
			goto out;
		}
		strcpy(c.account, account);
		n = wg_token_mint(ctx, &c, text, sizeof(text));
		if (n < 0) {
			fprintf(stderr, "wg_token: mint: %s\n", strerror(-n));
			rc = 1;
			goto out;
		}
		printf("%s\n", text);
		rc = 0;
	} else {
		if (optind != argc - 1)
			usage();
		n = wg_token_verify(ctx, argv[optind], strlen(argv[optind]), now, WG_TOKEN_F_PEEK, &c);
		if (n < 0) {
			printf("error: %s\n", wg_token_strerror(n));
			rc = 1;
			goto out;
		}
		printf("kid %u\nplayer_id %" PRIu64 "\naccount %s\nissued_at %" PRIu64
		       "\nexpires_at %" PRIu64 "\nnonce ", c.kid, c.player_id, c.account,
		       c.issued_at, c.expires_at);
		for (int i = 0; i < WG_TOKEN_NONCE_LEN; i++)
			printf("%02x", c.nonce[i]);
		printf("\n");
		rc = 0;
	}
out:
	wg_token_destroy(ctx);
	return rc;
}
