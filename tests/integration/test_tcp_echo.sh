#!/usr/bin/env bash
# The Linux kernel's TCP (python3 asyncio clients in a namespace) against our
# TCP echo and discard services: byte-exact transfers, many connections,
# kernel-side loss from nftables, clean closes, no leaked connections or mbufs.
. "$(dirname "$0")/lib.sh"

MB=${WG_TCP_TEST_MB:-20}
start_dataplane
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
client() { in_ns python3 "$WG_SRC/tests/integration/tcp_client.py" "$T_DP_IP" "$@"; }
tcp() { wgctl query /wg/tcp | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
info() { wgctl query /wg/info | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
tcp_is() { [ "$(tcp "$1")" = "$2" ]; }
mbuf0=$(info pkt_mbufs_in_use)
offl=$(wgctl query /wg/ports | python3 -c "import json,sys; print(json.load(sys.stdin)['tap0']['offload_flags'])")
if [ "${T_CSUM_OFFLOAD:-true}" = false ]; then
	[ "$offl" = 0 ] || fail "offloads on although disabled: $offl"
else
	[ $((offl & 8)) -ne 0 ] || fail "TX L4 checksum offload not in use: $offl"
fi

out=$(client 7 echo $((MB * 1000000)) 1 1 120) || fail "echo: $out"
log "$out"
out=$(client 9 discard $((MB * 1000000)) 1 2 120) || fail "discard: $out"
log "$out"
out=$(client 7 echo 100000 200 100 120) || fail "200 connections: $out"
log "$out"

# 5% loss both ways, applied by the kernel in the client's namespace
in_ns nft -f - <<NFT
table inet wgloss {
	chain in { type filter hook input priority 0; iifname "$T_TAP" numgen random mod 100 < 5 drop; }
	chain out { type filter hook output priority 0; oifname "$T_TAP" numgen random mod 100 < 5 drop; }
}
NFT
out=$(client 7 echo 3000000 4 300 240) || fail "echo under 5% loss: $out"
log "5% loss: $out; retransmitted $(tcp retrans_segs), fast $(tcp fast_retrans), timeouts $(tcp rto_expired)"
[ "$(tcp retrans_segs)" -gt 0 ] || fail "no retransmissions under loss"
# (out-of-order arrivals depend on the window at the moment of each loss;
# the seeded reorder profile of test_tcp_faults asserts on them)
in_ns nft delete table inet wgloss

# every connection closed (passive close: no TIME_WAIT on our side), all
# buffers back in the pool
wait_for 30 "all connections gone" tcp_is conns 0
[ "$(tcp established)" = 0 ] || fail "established gauge $(tcp established)"
mbuf_back() { [ "$(info pkt_mbufs_in_use)" -le "$mbuf0" ]; }
wait_for 10 "mbufs back in the pool ($mbuf0)" mbuf_back
[ "$(tcp bad_csum)" = 0 ] || fail "checksum errors from the kernel: $(tcp bad_csum)"
log "PASS: passive opens $(tcp passive_opens), rx $(tcp rx_bytes) B, tx $(tcp tx_bytes) B"
