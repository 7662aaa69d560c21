#!/usr/bin/env bash
# 10,000 concurrent connections from the kernel: all open at the same time
# (the dataplane's established gauge reaches 10,000), then each echoes its
# own data byte-exact and closes; nothing is left behind.
. "$(dirname "$0")/lib.sh"

N=${WG_TCP_CONNS:-10000}
start_dataplane
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -gt $((N + 100)) ] || { echo "needs more than $N open files"; exit 77; }
tcp() { wgctl query /wg/tcp | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
in_ns sysctl -qw net.ipv4.ip_local_port_range="10000 60000"
WG_HOLD=1 in_ns python3 "$WG_SRC/tests/integration/tcp_client.py" "$T_DP_IP" 7 echo 2000 "$N" 1 600 \
	> "$T_DIR/clients.log" 2>&1 &
CLIENTS=$!
peak=0
while kill -0 "$CLIENTS" 2>/dev/null; do
	e=$(tcp established 2>/dev/null || echo 0)
	[ "$e" -gt "$peak" ] && peak=$e
	sleep 0.2
done
wait "$CLIENTS" || fail "clients: $(cat "$T_DIR/clients.log")"
log "$(cat "$T_DIR/clients.log")"
[ "$peak" -ge "$N" ] || fail "only $peak connections were established at once"
tcp_is() { [ "$(tcp "$1")" = "$2" ]; }
wait_for 30 "all connections gone" tcp_is conns 0
log "PASS: $peak concurrent connections, passive opens $(tcp passive_opens)"
