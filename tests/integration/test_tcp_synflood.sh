#!/usr/bin/env bash
# A SYN flood (bounded, from the test namespace) while 100 established
# connections keep transferring: the SYN backlog fills, SYN cookies take
# over, the established connections finish byte-exact, and connections made
# from cookies work too.
. "$(dirname "$0")/lib.sh"

start_dataplane
tcp() { wgctl query /wg/tcp | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
DP_MAC=$(wgctl query /wg/ports | python3 -c "import json,sys; print(json.load(sys.stdin)['tap0']['mac'])")
# the flood's SYN-ACKs must not be answered with RSTs by the kernel, or the
# backlog would drain as fast as it fills: drop them on the way in
in_ns nft -f - <<NFT
table inet wgflood {
	chain in { type filter hook input priority 0; iifname "$T_TAP" tcp sport 7 tcp dport != 30000-40000 tcp flags & (syn|ack) == (syn|ack) drop; }
}
NFT
# 100 long transfers, client ports pinned below 40000 by the kernel range
in_ns sysctl -qw net.ipv4.ip_local_port_range="30000 40000"
in_ns python3 "$WG_SRC/tests/integration/tcp_client.py" "$T_DP_IP" 7 echo 3000000 100 1 300 \
	> "$T_DIR/clients.log" 2>&1 &
CLIENTS=$!
wait_for 30 "100 connections established" bash -c "[ \$(python3 '$WG_SRC/tools/wgctl.py' -c '$T_CONF' query /wg/tcp | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"established\"])') -ge 100 ]"
# On a loaded machine the TAP queue drops much of a burst before we poll it,
# so flood in rounds (new seeds) until the backlog overflows into cookies
for seed in 5 6 7 8 9; do
	in_ns python3 "$WG_SRC/tests/integration/synflood.py" "$T_TAP" "$DP_MAC" "$T_PEER_IP" "$T_DP_IP" 7 20000 $seed \
		> "$T_DIR/flood.log" 2>&1 || fail "flood: $(cat "$T_DIR/flood.log")"
	[ "$(tcp syncookies_sent)" -gt 0 ] && break
done
log "flood sent: synrcvd $(tcp synrcvd), cookies sent $(tcp syncookies_sent)"
[ "$(tcp syncookies_sent)" -gt 0 ] || fail "SYN cookies never engaged: $(wgctl query /wg/tcp)"
[ "$(tcp synrcvd)" -le 1024 ] || fail "backlog overran: $(tcp synrcvd)"

# during the flood, new connections get cookies and still work
out=$(in_ns python3 "$WG_SRC/tests/integration/tcp_client.py" "$T_DP_IP" 7 echo 100000 20 1000 60) ||
	fail "connections during the flood: $out"
log "during the flood: $out (cookies validated $(tcp syncookies_ok))"

wait "$CLIENTS" || fail "established connections: $(cat "$T_DIR/clients.log")"
log "$(cat "$T_DIR/clients.log")"
log "PASS"
