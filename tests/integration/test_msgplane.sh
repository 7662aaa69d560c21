#!/usr/bin/env bash
# The message plane end to end: python3-websockets clients (JSON text and
# binary protobuf) log in with signed tokens over wss and ws, chat in rooms
# through a logic instance, echo, resume a dropped session with replay, and
# bad input (bad/expired/replayed tokens, unknown types, schema mismatches,
# garbage, oversize, floods) gets its Error or kick while others carry on.
# kill -9 of a logic instance: clients stay connected, get
# SERVICE_UNAVAILABLE, and are re-routed; kill -9 of control: sessions keep
# flowing.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3             # Debian's, where python3-websockets lives
PKI=$T_DIR/pki
bash "$WG_SRC/tools/gen_test_certs.sh" "$PKI" >/dev/null
TOKEN=$WG_BUILD/control/wg_token
ACCT=$WG_BUILD/control/wg_account
DBCTL=$WG_SRC/tools/dbctl.sh
# password logins: accounts in a PostgreSQL of our own (cheap scrypt cost)
PGPORT=$("$DBCTL" free-port)
DB_DIR=$(mktemp -d /tmp/wgtest-db.XXXXXX)   # dbctl opens it to the postgres user
# cleanup() takes the exit status from $?: errexit goes off first, or
# re-setting a failed status would end this handler before cleanup ran
db_cleanup() {
	local rc=$?
	set +e
	"$DBCTL" stop "$DB_DIR" >/dev/null 2>&1
	rm -rf "$DB_DIR"
	(exit $rc)
	cleanup
}
trap db_cleanup EXIT
"$DBCTL" start-pg "$DB_DIR" "$PGPORT" >/dev/null
PG="host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres"
"$ACCT" add -d "$PG" -N 1024 -r 4 -p 1 paula 7001 <<<"correct horse" >/dev/null
"$TOKEN" genkey 7 > "$T_DIR/token.keys"
mkdir -p "$T_DIR/pb"
protoc --python_out="$T_DIR/pb" -I "$WG_SRC/proto" "$WG_SRC/proto/wg_client.proto" \
	"$WG_SRC/proto/wg_sync.proto"
export WG_PB_DIR=$T_DIR/pb PYTHONPATH=$WG_SRC/tests/integration

T_DEV_MODE=1
# long chat lines: a resume's replay can pass the slow-reader output limit
T_LOGIC_CONF="  chat: { max_text: 3000 }"
T_EXTRA_CONF="tls:
  cert: $PKI/chain.crt
  key: $PKI/server.key
listeners:
  - { port: 443, proto: ws, service: gateway }
  - { port: 8080, proto: ws, tls: false, service: gateway }
gateway:
  msg_rate: 100
  msg_burst: 200
  max_violations: 20
  resume_window_ms: 10000
control:
  token_keys: $T_DIR/token.keys
  account_db: \"$PG\"
services:
  - { name: echo, first_type: 512, last_type: 767, strategy: round_robin }
  - { name: chat, first_type: 768, last_type: 1023, instance_first: 0, instances: 1 }"
start_dataplane
start control "$CONTROL" -c "$T_CONF"
CONTROL_PID=$LAST_PID
start logic0 "$LOGIC" -c "$T_CONF" -i 0
LOGIC0_PID=$LAST_PID
start logic1 "$LOGIC" -c "$T_CONF" -i 1
LOGIC1_PID=$LAST_PID
wait_for 20 "control and 2 logic instances alive" wgctl wait-instances 3 1

gw() { wgctl query /wg/gateway | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
# processes the failover scenario restarted, for the clean-up
reap() {
	[ -f "$T_DIR/restarted.pids" ] || return 0
	while read -r p; do T_PIDS+=("$p"); done < "$T_DIR/restarted.pids"
	rm -f "$T_DIR/restarted.pids"
}
run() {
	local what=$1; shift
	out=$(in_ns "$PY" "$WG_SRC/tests/integration/mp_test.py" "$@" --ca "$PKI/ca.crt" \
		--keys "$T_DIR/token.keys" --token-tool "$TOKEN") ||
		{ reap; fail "$what: $out (gateway $(wgctl query /wg/gateway))"; }
	reap
	log "$what: $out"
}

run "chat over wss" chat --url "wss://$T_DP_IP/" --count 40
run "chat over ws" chat --url "ws://$T_DP_IP:8080/" --count 40
run "bad input" errors --url "wss://$T_DP_IP/"
run "flood" flood --url "wss://$T_DP_IP/"
run "resume" resume --url "wss://$T_DP_IP/"
run "password login" password --url "wss://$T_DP_IP/"
[ "$(gw resumes)" -ge 1 ] || fail "no resume counted: $(wgctl query /wg/gateway)"
[ "$(gw replayed)" -ge 5 ] || fail "no replay counted: $(wgctl query /wg/gateway)"
# kill -9 of logic 1, control, then logic 0 while 4 clients echo and chat;
# the scenario restarts control and logic 0 itself (their pids land in
# restarted.pids for the clean-up)
run "failover" failover --url "wss://$T_DP_IP/" --logic0-pid "$LOGIC0_PID" \
	--logic1-pid "$LOGIC1_PID" --control-pid "$CONTROL_PID" \
	--control-cmd "exec $CONTROL -c $T_CONF" --logic0-cmd "exec $LOGIC -c $T_CONF -i 0" \
	--log-dir "$T_DIR" --pid-file "$T_DIR/restarted.pids"
grep -q "session table rebuilt from the dataplane" "$T_DIR/control2.log" ||
	fail "restarted control did not rebuild: $(cat "$T_DIR/control2.log")"
[ "$(gw synced)" -ge 4 ] || fail "sessions not synced: $(wgctl query /wg/gateway)"
log "gateway: $(wgctl query /wg/gateway | tr -d '\n ')"
log "PASS"
