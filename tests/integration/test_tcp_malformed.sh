#!/usr/bin/env bash
# Segments no kernel sends, from a raw-socket peer: malformed headers and
# options are dropped and counted; RFC 5961 attacks (RST outside/inside the
# window, SYN on an established connection) leave the connection alive with
# challenge ACKs; overlapping retransmissions keep the first bytes; a zero
# window holds data back until it opens. Kernel clients are unaffected.
. "$(dirname "$0")/lib.sh"

start_dataplane
tcp() { wgctl query /wg/tcp | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
DP_MAC=$(wgctl query /wg/ports | python3 -c "import json,sys; print(json.load(sys.stdin)['tap0']['mac'])")
# the namespace's kernel must not answer for the raw peer's ports
in_ns nft -f - <<NFT
table inet wgraw {
	chain out { type filter hook output priority 0; tcp sport 41000-41010 tcp flags & rst == rst drop; }
}
NFT
in_ns python3 "$WG_SRC/tests/integration/tcp_raw_peer.py" "$T_TAP" "$DP_MAC" "$T_PEER_IP" "$T_DP_IP" \
	> "$T_DIR/raw.log" 2>&1 || fail "raw peer: $(cat "$T_DIR/raw.log")"
log "$(tr '\n' ' ' < "$T_DIR/raw.log")"
[ "$(tcp bad_csum)" -ge 1 ] || fail "bad checksum not counted"
# data offsets are checked by the IPv4 layer before TCP sees the segment
[ "$(stat tcp_bad_len)" -ge 2 ] || fail "bad data offsets not counted: $(stat tcp_bad_len)"
[ "$(tcp bad_opts)" -ge 1 ] || fail "bad options not counted"
[ "$(tcp challenge_acks)" -ge 2 ] || fail "challenge ACKs: $(tcp challenge_acks)"
[ "$(tcp resets_rx)" = 0 ] || fail "a blind RST reset a connection"
out=$(in_ns python3 "$WG_SRC/tests/integration/tcp_client.py" "$T_DP_IP" 7 echo 1000000 10 1 60) ||
	fail "kernel clients after the attacks: $out"
log "$out"
log "PASS"
