#!/usr/bin/env bash
# The operator tools against a real PostgreSQL (tools/dbctl.sh, temp dir,
# free port; no DPDK, no namespaces):
#   wg_account  add (table created on first use), duplicate account and
#               duplicate player id refused, verify good / wrong password /
#               unknown account with their exit codes, database stopped ->
#               "unavailable" (exit 3, not the lookup timeout), back -> ok
#   wg_token    genkey, mint with the newest key, verify, rotation (a token
#               of the old key verifies while the key is configured, is
#               "unknown key id" once it is dropped), tampering, expiry
set -euo pipefail

: "${WG_BUILD:?run through meson test}"
: "${WG_SRC:?run through meson test}"

ACCT=$WG_BUILD/control/wg_account
TOKEN=$WG_BUILD/control/wg_token
DBCTL=$WG_SRC/tools/dbctl.sh
T_DIR=$(mktemp -d /tmp/wgacct.XXXXXX)

log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*"; }
fail() { log "FAIL: $*"; exit 1; }
cleanup() {
	local rc=$?
	"$DBCTL" stop "$T_DIR" || true
	rm -rf "$T_DIR"
	exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT

[ -x "$ACCT" ] && [ -x "$TOKEN" ] || fail "tools not built"

# expect CODE OUTPUT_REGEX cmd...: exit status and stdout must match
expect() {
	local want=$1 re=$2 out rc=0
	shift 2
	out=$("$@" 2>"$T_DIR/err") || rc=$?
	[ "$rc" = "$want" ] || fail "$* -> exit $rc (want $want): $out $(cat "$T_DIR/err")"
	[[ $out =~ $re ]] || fail "$* -> '$out' does not match '$re'"
}

PGPORT=$("$DBCTL" free-port)
"$DBCTL" start-pg "$T_DIR" "$PGPORT" >/dev/null
PG="host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres"
CHEAP=(-N 1024 -r 4 -p 1)
log "postgres :$PGPORT in $T_DIR"

log "accounts"
expect 0 '^added alice$' "$ACCT" add -d "$PG" "${CHEAP[@]}" alice 1001 <<<"correct horse"
expect 0 '^added bob$' "$ACCT" add -d "$PG" bob 1002 <<<"s3cret pass"   # default cost
expect 4 '^$' "$ACCT" add -d "$PG" "${CHEAP[@]}" alice 1003 <<<"x"
expect 4 '^$' "$ACCT" add -d "$PG" "${CHEAP[@]}" carol 1001 <<<"x"
expect 2 '^$' "$ACCT" add -d "$PG" "${CHEAP[@]}" carol 1003 </dev/null
[ "$(psql -XAtq "$PG" -c 'SELECT count(*), min(scrypt_n), max(scrypt_n) FROM accounts')" = "2|1024|16384" ] ||
	fail "accounts table: $(psql -XAtq "$PG" -c 'SELECT account, player_id, scrypt_n FROM accounts')"
expect 0 '^ok 1001$' "$ACCT" verify -d "$PG" alice <<<"correct horse"
expect 0 '^ok 1002$' "$ACCT" verify -d "$PG" bob <<<"s3cret pass"
expect 1 '^error: wrong password$' "$ACCT" verify -d "$PG" alice <<<"correct horse "
expect 1 '^error: unknown account$' "$ACCT" verify -d "$PG" mallory <<<"correct horse"

log "database down"
"$DBCTL" stop-pg "$T_DIR"
# "unavailable", not "timed out": the refused connection ended the check,
# not the (long) lookup timeout
expect 3 '^error: account backend unavailable$' "$ACCT" verify -d "$PG" -t 600000 alice <<<"correct horse"
"$DBCTL" start-pg "$T_DIR" "$PGPORT" >/dev/null
expect 0 '^ok 1001$' "$ACCT" verify -d "$PG" alice <<<"correct horse"

log "tokens"
"$TOKEN" genkey 1 >"$T_DIR/keys"
"$TOKEN" genkey 2 >>"$T_DIR/keys"
grep -Eq '^1 [0-9a-f]{128}$' "$T_DIR/keys" || fail "genkey output"
now=$(date +%s)
t1=$("$TOKEN" mint -k "$T_DIR/keys" -K 1 -p 1001 -a alice -t 600 -i "$now")
t2=$("$TOKEN" mint -k "$T_DIR/keys" -p 1002 -a bob -t 600 -i "$now")
[[ $t1 =~ ^[A-Za-z0-9_-]+$ ]] || fail "token is not base64url: $t1"
expect 0 $'kid 1\nplayer_id 1001\naccount alice' "$TOKEN" verify -k "$T_DIR/keys" "$t1"
expect 0 $'kid 2\nplayer_id 1002\naccount bob' "$TOKEN" verify -k "$T_DIR/keys" "$t2"
# rotation: drop key 1
grep '^2 ' "$T_DIR/keys" >"$T_DIR/keys2"
expect 1 '^error: unknown key id$' "$TOKEN" verify -k "$T_DIR/keys2" "$t1"
expect 0 'account bob' "$TOKEN" verify -k "$T_DIR/keys2" "$t2"
# one changed character in the signed part
bad=${t2:0:20}$([ "${t2:20:1}" = A ] && echo B || echo A)${t2:21}
expect 1 '^error: bad signature$' "$TOKEN" verify -k "$T_DIR/keys" "$bad"
expect 1 '^error: token expired$' "$TOKEN" verify -k "$T_DIR/keys" -n $((now + 600 + 30)) "$t2"
expect 1 '^error: token not yet valid$' "$TOKEN" verify -k "$T_DIR/keys" -n $((now - 31)) "$t2"
log "PASS"
