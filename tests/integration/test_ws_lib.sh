#!/usr/bin/env bash
# The WebSocket library (dataplane/ws) against a real peer over kernel
# sockets on 127.0.0.1: python3-websockets as client of our server role and
# as server for our client role, plus raw-socket malformed frames and
# handshakes. No DPDK: this checks the protocol code on its own before it
# runs behind our TCP and TLS.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3     # Debian's, where python3-websockets lives
SRV=$WG_BUILD/tests/integration/ws_kernel_server
PEER=$WG_SRC/tests/integration/ws_peer.py

"$PY" -c 'import websockets' 2>/dev/null || fail "python3-websockets missing (./warpgate deps)"
[ -x "$SRV" ] || fail "$SRV not built"

start ws_server "$SRV"
port=
for _ in $(seq 100); do
	port=$(sed -n 's/^PORT //p' "$T_DIR/ws_server.log")
	[ -n "$port" ] && break
	kill -0 "$LAST_PID" 2>/dev/null || fail "ws_kernel_server died"
	sleep 0.1
done
[ -n "$port" ] || fail "ws_kernel_server printed no port"
log "ws_kernel_server on 127.0.0.1:$port"

timeout 600 "$PY" "$PEER" server "$port" > "$T_DIR/peer_server.log" 2>&1 ||
	{ tail -n 30 "$T_DIR/peer_server.log"; fail "server role against python3-websockets"; }
tail -n 1 "$T_DIR/peer_server.log"
timeout 300 "$PY" "$PEER" client "$SRV" 2000 > "$T_DIR/peer_client.log" 2>&1 ||
	{ tail -n 30 "$T_DIR/peer_client.log"; fail "client role against python3-websockets"; }
tail -n 2 "$T_DIR/peer_client.log"
n=$(( $(grep -c '^ok ' "$T_DIR/peer_server.log") + $(grep -c '^ok ' "$T_DIR/peer_client.log") ))
log "ws_lib: all checks passed"
echo "$n passed, 0 failed"
