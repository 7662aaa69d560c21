#!/usr/bin/env bash
# tools/wg_client against the real gateway (dataplane + control + two logic
# instances): two clients (--json over wss, --binary over ws) log in with
# minted tokens and chat through script files, each expecting the other's
# CHAT_MSG; a script waiting for what never comes exits 1; bad and expired
# tokens print the ERROR and exit 3; framed+tls works; pipe mode sends
# stdin lines, reports a bad one and exits 2; a session is resumed on a new
# connection; a wrong CA and a refused upgrade exit 4 with the reason.
# WG_CLIENT may point at another build of the tool (e.g. the ASan one).
. "$(dirname "$0")/lib.sh"

PKI=$T_DIR/pki
bash "$WG_SRC/tools/gen_test_certs.sh" "$PKI" >/dev/null
bash "$WG_SRC/tools/gen_test_certs.sh" "$T_DIR/other" >/dev/null
TOKEN=$WG_BUILD/control/wg_token
WGC=${WG_CLIENT:-$WG_BUILD/control/wg_client}
SC=$WG_SRC/tests/integration/wg_client
"$TOKEN" genkey 7 > "$T_DIR/token.keys"
[ -x "$WGC" ] || fail "no wg_client at $WGC"

T_DEV_MODE=1
T_EXTRA_CONF="tls:
  cert: $PKI/chain.crt
  key: $PKI/server.key
listeners:
  - { port: 443, proto: ws, service: gateway }
  - { port: 8080, proto: ws, tls: false, service: gateway }
  - { port: 7443, proto: framed, service: gateway }
gateway:
  resume_window_ms: 10000
control:
  token_keys: $T_DIR/token.keys
services:
  - { name: echo, first_type: 512, last_type: 767, strategy: round_robin }
  - { name: chat, first_type: 768, last_type: 1023, instance_first: 0, instances: 1 }"
start_dataplane
start control "$CONTROL" -c "$T_CONF"
start logic0 "$LOGIC" -c "$T_CONF" -i 0
start logic1 "$LOGIC" -c "$T_CONF" -i 1
wait_for 20 "control and 2 logic instances alive" wgctl wait-instances 3 1

tok() { "$TOKEN" mint -k "$T_DIR/token.keys" -p "$1" -a "$2" -t "${3:-600}" ${4:+-i "$4"}; }
# wgc NAME ARGS...: run the client in the namespace; stdout/stderr in
# $T_DIR/NAME.out / NAME.err; sets RC
wgc() {
	local name=$1; shift
	set +e
	in_ns "$WGC" "$@" > "$T_DIR/$name.out" 2> "$T_DIR/$name.err"
	RC=$?
	set -e
	log "$name: exit $RC; $(tr '\n' ' ' < "$T_DIR/$name.err")"
}
out_has() { grep -qF -- "$2" "$T_DIR/$1.out" || fail "$1: no '$2' in: $(cat "$T_DIR/$1.out")"; }
err_has() { grep -qF -- "$2" "$T_DIR/$1.err" || fail "$1: no '$2' in: $(cat "$T_DIR/$1.err")"; }
out_re() { grep -qE -- "$2" "$T_DIR/$1.out" || fail "$1: nothing like '$2' in: $(cat "$T_DIR/$1.out")"; }
gw() { wgctl query /wg/gateway | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
count() { grep -cF -- "$2" "$T_DIR/$1.out" || true; }

# --- chat: alice --json over wss, bob --binary over ws
in_ns "$WGC" --json --ca "$PKI/ca.crt" --token "$(tok 3001 alice)" --timeout-ms 20000 \
	--script "$SC/alice.txt" "wss://$T_DP_IP/" > "$T_DIR/alice.out" 2> "$T_DIR/alice.err" &
ALICE=$!
T_PIDS+=("$ALICE")
wait_for 20 "alice in the room" grep -q '"type":"CHAT_JOINED"' "$T_DIR/alice.out"
wgc bob --binary --token "$(tok 3002 bob)" --timeout-ms 20000 --script "$SC/bob.txt" \
	"ws://$T_DP_IP:8080/"
[ "$RC" = 0 ] || fail "bob's script failed (exit $RC): $(cat "$T_DIR/bob.err")"
set +e
wait "$ALICE"
RC=$?
set -e
log "alice: exit $RC; $(tr '\n' ' ' < "$T_DIR/alice.err")"
[ "$RC" = 0 ] || fail "alice's script failed (exit $RC): $(cat "$T_DIR/alice.err")"
err_has alice "script $SC/alice.txt: 9 steps passed"
err_has bob "script $SC/bob.txt: 10 steps passed"
out_has alice '"type":"LOGIN_ACK","seq":1,"ack":1,"msg_id":1'
out_has alice '"playerId":"3001"'
out_has bob '"playerId":"3002"'
# each saw exactly two chat lines: its own and the other's
[ "$(count alice '"type":"CHAT_MSG"')" = 2 ] || fail "alice: CHAT_MSG lines: $(cat "$T_DIR/alice.out")"
[ "$(count bob '"type":"CHAT_MSG"')" = 2 ] || fail "bob: CHAT_MSG lines: $(cat "$T_DIR/bob.out")"
out_has alice '"fromName":"bob","text":"hello from bob"'
out_has bob '"fromName":"alice","text":"hello from alice ☃"'
# bob's binary Envelopes print as JSON like alice's text frames
out_has bob '"type":"ECHO","seq":2,"ack":2,"msg_id":2,"payload":{"data":"/wAB","text":"bob echo"}'
out_has bob '"type":"KICK","seq":0'
out_has alice '"type":"ERROR","seq":0,"ack":2,"msg_id":0,"payload":{"code":"BAD_MESSAGE","text":"payload.room: expected string"}'

# --- a script waiting for what never comes: exit 1 naming the step
wgc never --json --token "$(tok 3004 dora)" --timeout-ms 1500 --script "$SC/never.txt" \
	"ws://$T_DP_IP:8080/"
[ "$RC" = 1 ] || fail "never: exit $RC, wanted 1"
err_has never "FAILED $SC/never.txt:4: expect: no CHAT_MSG matching {\"room\":\"quiet\",\"text\":\"nobody says this\"} within 1500 ms (unclaimed: LOGIN_ACK)"
out_has never '"type":"CHAT_JOINED"'

# --- bad and expired tokens: the ERROR printed, exit 3
wgc badtoken --token not-a-token "ws://$T_DP_IP:8080/" < /dev/null
[ "$RC" = 3 ] || fail "bad token: exit $RC, wanted 3"
out_has badtoken '"type":"ERROR","seq":0,"ack":1,"msg_id":1,"payload":{"code":"BAD_TOKEN","refMsgId":1,"refType":256'
err_has badtoken "login refused: BAD_TOKEN"
wgc expired --json --token "$(tok 3005 erin 10 $(( $(date +%s) - 3600 )))" \
	"ws://$T_DP_IP:8080/" < /dev/null
[ "$RC" = 3 ] || fail "expired token: exit $RC, wanted 3"
out_has expired '"code":"TOKEN_EXPIRED"'
err_has expired "login refused: TOKEN_EXPIRED"

# --- framed+tls: 4-byte length + Envelope over TLS 1.3
wgc framed -v --ca "$PKI/ca.crt" --token "$(tok 3003 carol)" --script "$SC/framed.txt" \
	"framed+tls://$T_DP_IP:7443"
[ "$RC" = 0 ] || fail "framed+tls: exit $RC: $(cat "$T_DIR/framed.err")"
err_has framed "TLSv1.3"
out_has framed '"payload":{"data":"AAECAwQF","text":"framed echo"}'
out_has framed '"code":"LOGGED_OUT"'

# --- pipe mode: stdin lines; a bad one is reported and skipped (exit 2);
# at the end of input the tool lingers, then closes with 1000
printf '%s\n' '{"type":"ECHO","msg_id":40,"payload":{"text":"piped"}}' \
	'{"type":"CHAT_JOIN","payload":{"rom":"x"}}' \
	'{"type":"ECHO","payload":{"text":"piped 2"}}' > "$T_DIR/pipe.in"
wgc pipe --json --token "$(tok 3006 fred)" "ws://$T_DP_IP:8080/" < "$T_DIR/pipe.in"
[ "$RC" = 2 ] || fail "pipe: exit $RC, wanted 2"
err_has pipe "stdin:2: payload.rom: unknown field (line not sent)"
# the server's ack depends on how far it read: both echoes may be in
out_re pipe '"type":"ECHO","seq":2,"ack":[23],"msg_id":40,"payload":\{"text":"piped"\}'
# numbering goes on after the refused line; msg_id after the given 40
out_has pipe '"type":"ECHO","seq":3,"ack":3,"msg_id":41,"payload":{"text":"piped 2"}'
[ "$(count pipe '"type":')" = 3 ] || fail "pipe: wanted LOGIN_ACK and 2 ECHO: $(cat "$T_DIR/pipe.out")"
# without the bad line: exit 0, in binary too
sed -i 2d "$T_DIR/pipe.in"
wgc pipe2 --binary --token "$(tok 3006 fred)" "ws://$T_DP_IP:8080/" < "$T_DIR/pipe.in"
[ "$RC" = 0 ] || fail "pipe2: exit $RC: $(cat "$T_DIR/pipe2.err")"
out_has pipe2 '"payload":{"text":"piped 2"}'
# heartbeats every --heartbeat-ms once logged in, answered by the gateway;
# --hide keeps their answers off stdout
HB0=$(gw heartbeats)
wgc hb --token "$(tok 3008 hal)" --heartbeat-ms 100 --linger-ms 1500 "ws://$T_DP_IP:8080/" < /dev/null
[ "$RC" = 0 ] || fail "heartbeats: exit $RC: $(cat "$T_DIR/hb.err")"
HBS=$(count hb '"type":"HEARTBEAT_ACK"')
[ "$HBS" -ge 3 ] || fail "heartbeats: $HBS answers: $(cat "$T_DIR/hb.out")"
out_re hb '"type":"HEARTBEAT_ACK","seq":0,"ack":1,"msg_id":0,"payload":\{"clientTimeMs":"[0-9]{13}","serverTimeMs":"[0-9]{13}"\}'
# every heartbeat the gateway counted was ours, answered (the last one may
# have met our close)
HBD=$(( $(gw heartbeats) - HB0 ))
[ "$HBD" = "$HBS" ] || [ "$HBD" = $((HBS + 1)) ] ||
	fail "gateway counted $HBD heartbeats, we saw $HBS answers"
wgc hb2 --token "$(tok 3008 hal)" --heartbeat-ms 100 --linger-ms 500 --hide HEARTBEAT_ACK,ECHO \
	"ws://$T_DP_IP:8080/" < /dev/null
[ "$RC" = 0 ] || fail "heartbeats, hidden: exit $RC: $(cat "$T_DIR/hb2.err")"
[ "$(count hb2 '"type":')" = 1 ] || fail "--hide: $(cat "$T_DIR/hb2.out")"
out_has hb2 '"type":"LOGIN_ACK"'

# LOGOUT: the kick and the server's close 1000 end it cleanly (exit 0)
echo '{"type":"LOGOUT"}' > "$T_DIR/logout.in"
wgc logout --token "$(tok 3006 fred)" --linger-ms 5000 "ws://$T_DP_IP:8080/" < "$T_DIR/logout.in"
[ "$RC" = 0 ] || fail "logout: exit $RC: $(cat "$T_DIR/logout.err")"
out_has logout '"code":"LOGGED_OUT"'
err_has logout "closed by the server with 1000 after a kick: LOGGED_OUT"

# --- resume: a session left without LOGOUT continues on a new connection
printf '%s\n' '{"type":"ECHO","payload":{"text":"before"}}' > "$T_DIR/res.in"
set +e
in_ns "$WGC" -v --json --token "$(tok 3007 gina)" --linger-ms 500 "ws://$T_DP_IP:8080/" \
	< "$T_DIR/res.in" > "$T_DIR/res1.out" 2> "$T_DIR/res1.err"
RC=$?
set -e
[ "$RC" = 0 ] || fail "resume, first connection: exit $RC: $(cat "$T_DIR/res1.err")"
RES=$(sed -n 's/.*resume with --resume \([^ ]*\)$/\1/p' "$T_DIR/res1.err")
[ -n "$RES" ] || fail "no resume hint: $(cat "$T_DIR/res1.err")"
log "resuming $RES"
wgc res2 --binary --resume "$RES" --script "$SC/resume.txt" "ws://$T_DP_IP:8080/"
[ "$RC" = 0 ] || fail "resume: exit $RC: $(cat "$T_DIR/res2.err")"
out_has res2 '"type":"RESUME_ACK"'
out_has res2 '"lastSeq":2'
out_has res2 '"type":"ECHO","seq":3'
# a wrong resume token is refused: exit 3
wgc res3 --resume "${RES%%:*}:AAAAAAAAAAAAAAAAAAAAAA==:0" "ws://$T_DP_IP:8080/" < /dev/null
[ "$RC" = 3 ] || fail "bad resume token: exit $RC, wanted 3"
out_has res3 '"code":"RESUME_FAILED"'

# --- connection failures: exit 4 with the reason
wgc wrongca --ca "$T_DIR/other/ca.crt" "wss://$T_DP_IP/" < /dev/null
[ "$RC" = 4 ] || fail "wrong CA: exit $RC, wanted 4"
err_has wrongca "certificate verify failed"
wgc wrongname --ca "$PKI/ca.crt" --sni not-our-name.example "wss://$T_DP_IP/" < /dev/null
[ "$RC" = 4 ] || fail "wrong name: exit $RC, wanted 4"
err_has wrongname "certificate verify failed: hostname mismatch"
wgc nopath "ws://$T_DP_IP:8080/elsewhere" < /dev/null
[ "$RC" = 4 ] || fail "refused upgrade: exit $RC, wanted 4"
err_has nopath "WebSocket upgrade refused by $T_DP_IP:8080: HTTP 404"
wgc noport "ws://$T_DP_IP:8081/" < /dev/null
[ "$RC" = 4 ] || fail "closed port: exit $RC, wanted 4"
err_has noport "connect to $T_DP_IP:8081: Connection refused"

wgc blackhole --timeout-ms 500 "ws://198.18.7.99:8080/" < /dev/null
[ "$RC" = 4 ] || fail "unreachable address: exit $RC, wanted 4"
err_has blackhole "timed out after 500 ms connecting to 198.18.7.99:8080"

# a sanitizer build of the tool (WG_CLIENT) reports leaks and errors here
if grep -l "Sanitizer\|runtime error" "$T_DIR"/*.err; then
	fail "sanitizer reports: $(grep -h -A5 "Sanitizer\|runtime error" "$T_DIR"/*.err)"
fi
log "gateway: $(wgctl query /wg/gateway | tr -d '\n ')"
log "PASS"
