#!/usr/bin/env bash
# TCP against the Linux kernel under fault profiles, both directions of
# traffic (kernel client -> our echo server, our client -> kernel echo
# server), with the faults injected twice over so a bug in one injector
# cannot hide in the other:
#   - our seeded impairment stage in the port layer (loss, reorder, dup,
#     delay + jitter, all combined), and
#   - the kernel's nftables in the peer namespace (numgen loss, egress dup),
#     and for delay, jitter and reordering - this kernel has no sch_netem,
#     and no nft queue statement - iptables NFQUEUE rules handing the
#     peer's TCP packets to nfq_impair (tests/integration/nfq_impair.c),
#     which holds and releases them; all inside the test's namespace. The
#     50 ms profile holds what the kernel receives only, for the whole
#     round trip: a packet the kernel sends stays charged to its socket
#     while queued, and TCP Small Queues then lets only ~1 ms of data sit
#     below the socket - with 25 ms holds on egress the kernel's sender
#     would crawl at a few percent of its rate, measuring TSQ, not us.
# Transfers are byte-exact (SHA-256 / seeded stream check). Size per
# connection and direction: WG_TCP_FAULT_MB (default 6, about 3 minutes on
# 2 cores; the issue's 100 MB runs are opt-in: WG_TCP_FAULT_MB=100, with
# meson's per-test timeout raised, e.g. `meson test -t 20`).
# WG_TCP_FAULT_ONLY='*5% loss' runs only the profiles whose name matches
# (extglob: '@(*5% loss|*50ms*)'); WG_TCP_FAULT_VERBOSE=1 logs every TCP
# and port counter. WG_TCP_FAULT_BUF (bytes, default 1048576) is the
# dataplane's tcp.rcv_buf, snd_buf and ooo_max: a 50 ms path needs about
# 4 MB/s x 50 ms = 200 KB in flight per connection, far over the 64 KiB
# default; "default" keeps the appliance's defaults.
. "$(dirname "$0")/lib.sh"
shopt -s extglob

MB=${WG_TCP_FAULT_MB:-6}
# a shell pattern: run only the profiles whose name matches
ONLY=${WG_TCP_FAULT_ONLY:-*}
BUF=${WG_TCP_FAULT_BUF:-1048576}
NFQ=$WG_BUILD/tests/integration/nfq_impair
[ -x "$NFQ" ] || fail "$NFQ not built: install libnetfilter-queue-dev (./warpgate deps) and rebuild"
command -v iptables >/dev/null || fail "iptables missing (./warpgate deps)"

# the tcp section with the buffers this test runs with
eval "lib_write_conf() $(declare -f write_conf | sed 1d)"
write_conf() {
	lib_write_conf
	if [ "$BUF" != default ]; then
		sed -i "s/^  discard_port: 9\$/&\n  rcv_buf: $BUF\n  snd_buf: $BUF\n  ooo_max: $BUF/" \
			"$T_CONF"
		grep -q "^  rcv_buf: $BUF\$" "$T_CONF" || fail "tcp buffers not in $T_CONF"
	fi
}
BYTES=$((MB * 1000000))
# per transfer: generous for the 50 ms profiles (~0.1 MB/s at worst)
LIMIT=$((600 + MB * 20))
tcp() { wgctl query /wg/tcp | python3 -c "import json,sys; print(json.load(sys.stdin).get('$1', '-'))"; }
client() { wgctl query /wg/tcp_client | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
finished() { [ $(($(client done_ok) + $(client failed))) -eq "$1" ]; }

stop_dataplane() {
	local p
	kill -TERM "$DP_PID"
	wait "$DP_PID" || fail "dataplane exited non-zero"
	for p in "${T_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	ip netns del "$T_NS"
	T_PIDS=()
}

# profile NAME IMPAIR_YAML NFT_RULES [NFQ_IMPAIR_ARGS [in|both]]
profile() {
	local name=$1 nft=$3 nfq=${4:-} nfq_dirs=${5:-both} out
	case "$name" in
	$ONLY) ;;
	*) log "$name: skipped (WG_TCP_FAULT_ONLY=$ONLY)"; return 0 ;;
	esac
	T_IMPAIR=$2
	start_dataplane
	ip netns exec "$T_NS" python3 "$WG_SRC/tests/integration/echo_server.py" "$T_PEER_IP" 5000 \
		> "$T_DIR/echo_server.log" 2>&1 &
	T_PIDS+=($!)
	wait_for 10 "echo server" grep -q listening "$T_DIR/echo_server.log"
	if [ -n "$nft" ]; then
		echo "$nft" | in_ns nft -f - || fail "$name: nft rules"
	fi
	if [ -n "$nfq" ]; then
		# shellcheck disable=SC2086
		start nfq_impair ip netns exec "$T_NS" "$NFQ" -q 0 $nfq
		wait_for 10 "nfq_impair" grep -q ready "$T_DIR/nfq_impair.log"
		in_ns iptables -A INPUT -i "$T_TAP" -p tcp -j NFQUEUE --queue-num 0 --queue-bypass ||
			fail "$name: iptables"
		if [ "$nfq_dirs" = both ]; then
			in_ns iptables -A OUTPUT -o "$T_TAP" -p tcp -j NFQUEUE --queue-num 0 \
				--queue-bypass || fail "$name: iptables"
		fi
	fi
	# kernel client -> our echo server
	out=$(in_ns python3 "$WG_SRC/tests/integration/tcp_client.py" "$T_DP_IP" 7 echo "$BYTES" 2 11 "$LIMIT") ||
		fail "$name: kernel client: $out"
	# our client -> kernel echo server
	wgctl query "/wg/tcp_client_start,$T_PEER_IP:5000,2,$BYTES,23" | grep -q queued || fail "queue"
	wait_for "$LIMIT" "$name: our client" finished 2
	[ "$(client done_ok)" = 2 ] && [ "$(client mismatches)" = 0 ] ||
		fail "$name: our client: $(wgctl query /wg/tcp_client)"
	case "$name" in
	*reorder*) [ "$(tcp ooo_segs)" -gt 0 ] || fail "$name: nothing arrived out of order" ;;
	*loss*) [ "$(tcp retrans_segs)" -gt 0 ] || fail "$name: nothing retransmitted" ;;
	esac
	log "$name: both directions byte-exact ($out; our client $(client elapsed_ms) ms);" \
		"retrans $(tcp retrans_segs) fast $(tcp fast_retrans) rto $(tcp rto_expired)" \
		"sack: recoveries $(tcp sack_recoveries) rexmit $(tcp sack_rexmit_segs)" \
		"dsack $(tcp dsack_rcvd) bad $(tcp sack_bad_blocks) reneged $(tcp sack_reneged);" \
		"rack: reo timeouts $(tcp rack_reo_timeouts) reordering $(tcp rack_reordering)" \
		"undos $(tcp spurious_undos) tlp $(tcp tlp_probes)/$(tcp tlp_recoveries);" \
		"ooo $(tcp ooo_segs) dup $(tcp dup_data)"
	if [ -n "${WG_TCP_FAULT_VERBOSE:-}" ]; then
		log "$name: tcp $(wgctl query /wg/tcp)"
		log "$name: net $(wgctl query /wg/stats)"
	fi
	stop_dataplane
	if [ -n "$nfq" ]; then
		# it must have held the traffic, not let it pass by
		grep -q "nfq_impair: seen [1-9]" "$T_DIR/nfq_impair.log" ||
			fail "$name: nfq_impair saw nothing: $(cat "$T_DIR/nfq_impair.log")"
		log "$name: $(grep "nfq_impair:" "$T_DIR/nfq_impair.log")"
	fi
}

both='rx: {loss: 5%}, tx: {loss: 5%}'
profile "stage: 5% loss"         "{ seed: 1, $both }" ""
profile "stage: 25% reorder"     "{ seed: 2, rx: {reorder: 25%, reorder_ms: 2}, tx: {reorder: 25%, reorder_ms: 2} }" ""
profile "stage: 1% duplicate"    "{ seed: 3, rx: {dup: 1%}, tx: {dup: 1%} }" ""
profile "stage: 50ms+-10ms"      "{ seed: 4, rx: {delay_ms: 25, jitter_ms: 5}, tx: {delay_ms: 25, jitter_ms: 5} }" ""
profile "stage: all combined"    "{ seed: 5, rx: {loss: 5%, reorder: 25%, dup: 1%, delay_ms: 25, jitter_ms: 5}, tx: {loss: 5%, reorder: 25%, dup: 1%, delay_ms: 25, jitter_ms: 5} }" ""
profile "kernel: 5% loss"        "" "table inet wgloss {
	chain in { type filter hook input priority 0; iifname \"$T_TAP\" numgen random mod 100 < 5 drop; }
	chain out { type filter hook output priority 0; oifname \"$T_TAP\" numgen random mod 100 < 5 drop; }
}"
profile "kernel: 1% duplicate"   "" "table netdev wgdup {
	chain egress { type filter hook egress device \"$T_TAP\" priority 0; numgen random mod 100 < 1 dup to \"$T_TAP\"; }
}"
# what the kernel receives, 50 +- 10 ms (see the top for why not egress)
profile "kernel: 50ms+-10ms"     "" "" "-s 6 -d 50 -j 10" in
# both directions, 2 ms holds: the kernel reorders what it sends us too
profile "kernel: 25% reorder"    "" "" "-s 7 -r 25 -g 2" both
log "PASS"
