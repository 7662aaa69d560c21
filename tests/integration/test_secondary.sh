#!/usr/bin/env bash
# control and two logic secondaries attach and exchange ring messages with the
# dataplane; kill -9, SIGSTOP (hung) and clean exits are each noticed, the
# dataplane keeps answering the kernel throughout, and restarts re-attach.
. "$(dirname "$0")/lib.sh"

start_dataplane
start control "$CONTROL" -c "$T_CONF"
start logic0 "$LOGIC" -c "$T_CONF" -i 0
L0=$LAST_PID
start logic1 "$LOGIC" -c "$T_CONF" -i 1
wait_for 20 "3 instances alive" wgctl wait-instances 3 1

S_CTL=$(slot_of control 0)
S_L0=$(slot_of logic 0)
S_L1=$(slot_of logic 1)
[ -n "$S_CTL" ] && [ -n "$S_L0" ] && [ -n "$S_L1" ] || fail "slots: '$S_CTL' '$S_L0' '$S_L1'"

# ring traffic both ways: pings out, pongs back, and the InstanceHello
# (protobuf) matched to the slot's generation
pongs_ge() { [ "$(inst "$1" pongs)" -ge "$2" ]; }
wait_for 10 "pongs from logic 0" pongs_ge "$S_L0" 5
wait_for 10 "pongs from control" pongs_ge "$S_CTL" 5
[ "$(inst "$S_L0" hello_generation)" = "$(inst "$S_L0" generation)" ] || fail "logic 0 hello not acknowledged"
grep -q "acknowledged slot $S_L0" "$T_DIR/logic0.log" || fail "logic 0 never got HelloAck"
log "control slot $S_CTL, logic slots $S_L0 $S_L1: pings answered, hellos acknowledged"

# continuous kernel ping across every failure below
# not through a shell function: $! must be ping itself for the SIGINT below
ip netns exec "$T_NS" ping -i 0.05 -W 1 "$T_DP_IP" > "$T_DIR/ping.log" 2>&1 &
PING=$!

# 1. kill -9: noticed from the pid, rings reclaimed, dataplane unaffected
gen0=$(inst "$S_L0" generation)
kill -9 "$L0"
state_is() { [ "$(inst "$1" state)" = "$2" ]; }
wait_for 5 "logic 0 reclaimed after kill -9" state_is "$S_L0" vacant
[ "$(inst "$S_L0" deaths)" = 1 ] || fail "deaths $(inst "$S_L0" deaths)"
state_is "$S_L1" alive || fail "logic 1 disturbed by logic 0's death"
state_is "$S_CTL" alive || fail "control disturbed by logic 0's death"
log "kill -9 of logic 0 detected and reclaimed"

# 2. restart: same slot, next generation, ring traffic resumes
start logic0b "$LOGIC" -c "$T_CONF" -i 0
L0=$LAST_PID
wait_for 10 "logic 0 re-attached" state_is "$S_L0" alive
[ "$(inst "$S_L0" generation)" -gt "$gen0" ] || fail "generation did not advance"
p0=$(inst "$S_L0" pongs)
wait_for 10 "pongs after re-attach" pongs_ge "$S_L0" $((p0 + 5))
wait_for 5 "hello of the new generation" \
	bash -c "[ \"\$(python3 '$WG_SRC/tools/wgctl.py' -c '$T_CONF' query /wg/instances | python3 -c 'import json,sys; d=json.load(sys.stdin)[\"$S_L0\"]; print(d[\"hello_generation\"] == d[\"generation\"])')\" = True ]"
log "logic 0 re-attached as generation $(inst "$S_L0" generation)"

# 3. a second process with a live identity is refused
if "$LOGIC" -c "$T_CONF" -i 0 > "$T_DIR/dup.log" 2>&1; then
	fail "duplicate logic 0 was accepted"
fi
grep -q "another live process holds it" "$T_DIR/dup.log" || fail "duplicate: $(cat "$T_DIR/dup.log")"
log "duplicate logic 0 refused"

# 4. hung (SIGSTOP): heartbeat stops, monitor fences it with SIGKILL
kill -STOP "$L0"
wait_for 10 "hung logic 0 fenced" bash -c "! kill -0 $L0 2>/dev/null || grep -q '^[^ ]* ([^)]*) Z' /proc/$L0/stat"
wait_for 5 "hung logic 0 reclaimed" state_is "$S_L0" vacant
[ "$(inst "$S_L0" deaths)" = 2 ] || fail "deaths $(inst "$S_L0" deaths)"
grep -q "heartbeat stopped" "$T_DIR/dataplane.log" || fail "no heartbeat-timeout log"
log "SIGSTOPped logic 0 declared dead after its heartbeat stopped and fenced"

# 5. clean exit: SIGTERM, exit status 0, slot reclaimed without fencing
start logic0c "$LOGIC" -c "$T_CONF" -i 0
L0=$LAST_PID
wait_for 10 "logic 0 back" state_is "$S_L0" alive
kill -TERM "$L0"
wait "$L0" || fail "logic 0 exited non-zero on SIGTERM"
wait_for 5 "clean leave reclaimed" state_is "$S_L0" vacant
[ "$(grep -c 'fencing' "$T_DIR/dataplane.log")" = 1 ] || fail "a clean exit was fenced"
log "clean exit of logic 0 reclaimed without fencing"

# 6. the kernel never lost the dataplane
kill -INT "$PING"; wait "$PING" || true
sent=$(grep -o '[0-9]* packets transmitted' "$T_DIR/ping.log" | cut -d' ' -f1)
recv=$(grep -o '[0-9]* received' "$T_DIR/ping.log" | cut -d' ' -f1)
[ -n "$sent" ] && [ "$sent" -gt 20 ] || fail "ping log: $(tail -3 "$T_DIR/ping.log")"
# the last request may be in flight when ping is interrupted
[ "$recv" -ge $((sent - 1)) ] || fail "dataplane missed pings during failures: $recv of $sent"
kill -0 "$DP_PID" || fail "dataplane died"
state_is "$S_CTL" alive && state_is "$S_L1" alive || fail "survivors not alive"
[ "$(wgctl query /wg/info | python3 -c 'import json,sys; print(json.load(sys.stdin)["msg_mbufs_in_use"])')" -lt 200 ] ||
	fail "message mbufs leaking"
log "PASS: $recv/$sent pings answered across kill -9, hang and restarts"
