#!/usr/bin/env bash
# The world service end to end: python3-websockets clients (binary protobuf
# and JSON text) log in through the dataplane with signed tokens, get their
# avatar from logic (ENTITY_STATE), walk with MOVE and decode every
# STATE_DELTA against the baseline it names, acknowledging with
# SNAPSHOT_ACK (one client drops every third delta). Each must end up seeing
# exactly the avatars within the AOI radius at the positions their owners
# sent, within quantisation; walking out of range gives leaves; a cheater's
# too-fast and off-world moves get BAD_REQUEST and change nothing; a logout
# leaves the others' views. The client is tests/integration/world_test.py.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3             # Debian's, where python3-websockets lives
PKI=$T_DIR/pki
bash "$WG_SRC/tools/gen_test_certs.sh" "$PKI" >/dev/null
TOKEN=$WG_BUILD/control/wg_token
"$TOKEN" genkey 7 > "$T_DIR/token.keys"
mkdir -p "$T_DIR/pb"
protoc --python_out="$T_DIR/pb" -I "$WG_SRC/proto" "$WG_SRC/proto/wg_client.proto" \
	"$WG_SRC/proto/wg_sync.proto"
export WG_PB_DIR=$T_DIR/pb PYTHONPATH=$WG_SRC/tests/integration

TICK_HZ=20
MAX_SPEED=2000                  # units per second: 100 per tick
MOVE_SLACK=4
RADIUS=150
POS_SCALE=16
T_DEV_MODE=1
# lib.sh writes "logic:\n  count: 2" last: the indented lines below continue
# that section, the rest are top-level keys
T_EXTRA_CONF="  tick_hz: $TICK_HZ
  world:
    width: 1000
    height: 1000
    view_radius: $RADIUS
    max_speed: $MAX_SPEED
    move_slack: $MOVE_SLACK
    max_moves: 8
    pos_scale: $POS_SCALE
    budget: 1200
    spawn_x: 500
    spawn_y: 500
    spawn_spread: 0
    npcs: 0
tls:
  cert: $PKI/chain.crt
  key: $PKI/server.key
listeners:
  - { port: 443, proto: ws, service: gateway }
  - { port: 8080, proto: ws, tls: false, service: gateway }
gateway:
  msg_rate: 1000
  msg_burst: 2000
control:
  token_keys: $T_DIR/token.keys
services:
  - { name: echo, first_type: 512, last_type: 767, strategy: round_robin }
  - { name: chat, first_type: 768, last_type: 1023, instance_first: 0, instances: 1 }
  - { name: world, first_type: 1024, last_type: 1279, instance_first: 0, instances: 1 }"
start_dataplane
start control "$CONTROL" -c "$T_CONF"
start logic0 "$LOGIC" -c "$T_CONF" -i 0
LOGIC0_PID=$LAST_PID
start logic1 "$LOGIC" -c "$T_CONF" -i 1
wait_for 20 "control and 2 logic instances alive" wgctl wait-instances 3 1
grep -q "services echo, chat, world (1000x1000, 0 NPCs)" "$T_DIR/logic0.log" ||
	fail "logic 0 did not start the world service: $(cat "$T_DIR/logic0.log")"
# logic 1 serves echo only: sessions that echo brings it get no avatar there
grep -q "services echo, chat; tick" "$T_DIR/logic1.log" ||
	fail "logic 1 runs a world it is not routed: $(cat "$T_DIR/logic1.log")"

out=$(in_ns "$PY" "$WG_SRC/tests/integration/world_test.py" --url "ws://$T_DP_IP:8080/" \
	--keys "$T_DIR/token.keys" --token-tool "$TOKEN" --radius "$RADIUS" \
	--max-speed $((MAX_SPEED / TICK_HZ)) --move-slack "$MOVE_SLACK" --pos-scale "$POS_SCALE" \
	--width 1000 --height 1000 --spawn 500,500) ||
	fail "world: $out (gateway $(wgctl query /wg/gateway))"
log "world: $out"
# logic 0 prints its counters when it stops
kill -TERM "$LOGIC0_PID"
for _ in $(seq 100); do kill -0 "$LOGIC0_PID" 2>/dev/null || break; sleep 0.1; done
grep -A 3 "^world service" "$T_DIR/logic0.log" ||
	fail "logic 0 printed no world counters"
# four avatars, carol logged out; her two cheats refused and nothing else;
# every delta queued, every tick ran
grep -q "spawns 4 spawn_failed 0 despawns 1 .* refused 2 rate_limited 0 no_avatar 0 bad_msgs 0" \
	"$T_DIR/logic0.log" || fail "world counters"
grep -q "acks_ignored 0 deltas [1-9][0-9]* .* delta_failed 0 .* tick_errors 0" \
	"$T_DIR/logic0.log" || fail "world sync counters"
grep -q "^world: .* rejected invalid 0 bounds 1 speed 1 unknown 0" "$T_DIR/logic0.log" ||
	fail "world move counters"
log "gateway: $(wgctl query /wg/gateway | tr -d '\n ')"
log "PASS"
