#!/usr/bin/env bash
# Our TCP as the client: connections from the dataplane to the Linux kernel's
# stack (a python3 echo server in the namespace), every echoed byte checked,
# clean and under kernel-side loss.
. "$(dirname "$0")/lib.sh"

MB=${WG_TCP_TEST_MB:-20}
start_dataplane
ip netns exec "$T_NS" python3 "$WG_SRC/tests/integration/echo_server.py" "$T_PEER_IP" 5000 \
	> "$T_DIR/echo_server.log" 2>&1 &
T_PIDS+=($!)
wait_for 10 "echo server" grep -q listening "$T_DIR/echo_server.log"
client() { wgctl query /wg/tcp_client | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
finished() { [ $(($(client done_ok) + $(client failed))) -eq "$1" ]; }

# run CONNS BYTES SECONDS
run() {
	wgctl query "/wg/tcp_client_start,$T_PEER_IP:5000,$1,$2,$$" | grep -q queued ||
		fail "client test not queued"
	wait_for "$3" "$1 client connection(s) to finish" finished "$1"
	[ "$(client done_ok)" = "$1" ] && [ "$(client mismatches)" = 0 ] ||
		fail "client test: $(wgctl query /wg/tcp_client)"
	log "client: $1 connection(s) x $2 bytes each way verified in $(client elapsed_ms) ms"
}

run 1 $((MB * 1000000)) 120
run 50 200000 60

in_ns nft -f - <<NFT
table inet wgloss {
	chain in { type filter hook input priority 0; iifname "$T_TAP" numgen random mod 100 < 5 drop; }
	chain out { type filter hook output priority 0; oifname "$T_TAP" numgen random mod 100 < 5 drop; }
}
NFT
run 2 2000000 240
in_ns nft delete table inet wgloss
tcp() { wgctl query /wg/tcp | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
[ "$(tcp retrans_segs)" -gt 0 ] || fail "no retransmissions under loss"
log "PASS: active opens $(tcp active_opens), retransmitted $(tcp retrans_segs)"
