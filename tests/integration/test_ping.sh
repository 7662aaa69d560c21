#!/usr/bin/env bash
# The Linux kernel ARPs and pings the dataplane through a TAP in a namespace:
# replies counted and payloads compared, the dataplane's own ARP requests
# answered, malformed frames counted and dropped without harm.
T_ARP_REACHABLE_MS=600
. "$(dirname "$0")/lib.sh"

start_dataplane
DP_MAC=$(wgctl query /wg/ports | python3 -c "import json,sys; print(json.load(sys.stdin)['tap0']['mac'])")
NS_MAC=$(in_ns cat "/sys/class/net/$T_TAP/address")

# 1. kernel -> us: ARP resolution then echo, several payload sizes and patterns
for size in 0 56 1000 1472; do
	out=$(in_ns ping -c 10 -i 0.02 -W 2 -s "$size" -p a5c3 "$T_DP_IP" 2>&1) || true
	echo "$out" | grep -q "10 packets transmitted, 10 received" ||
		fail "ping -s $size: $(echo "$out" | tail -3)"
	# iputils compares every reply's payload with what it sent
	! echo "$out" | grep -qi "wrong data\|DUP!" || fail "ping -s $size: corrupted or duplicated replies"
	log "ping -s $size: 10/10 replies, payload verified"
done
[ "$(stat icmp_echo_reply_tx)" -eq 40 ] || fail "icmp_echo_reply_tx $(stat icmp_echo_reply_tx), expected 40"

# the kernel learned our MAC from our ARP reply
in_ns ip neigh show "$T_DP_IP" dev "$T_TAP" | grep -qi "lladdr $DP_MAC" ||
	fail "kernel neighbour entry for $T_DP_IP is not $DP_MAC: $(in_ns ip neigh show)"
[ "$(stat arp_tx_reply)" -ge 1 ] || fail "no ARP reply counted"

# we learned the kernel's MAC (RFC 826 merge from its request)
wgctl query /wg/arp > "$T_DIR/arp.json"
grep -qi "\"$NS_MAC\"" "$T_DIR/arp.json" || fail "peer $NS_MAC missing from our ARP cache: $(cat "$T_DIR/arp.json") $(wgctl query /wg/stats)"
log "ARP both ways: kernel has $DP_MAC, dataplane has $NS_MAC"

# 2. us -> kernel: entries go stale after 600 ms and we re-probe them; the
# kernel's replies must confirm the entry again
req0=$(stat arp_tx_request)
rep0=$(stat arp_rx_reply)
wait_for 10 "a dataplane ARP request" stat_ge arp_tx_request $((req0 + 1))
wait_for 10 "the kernel's ARP reply" stat_ge arp_rx_reply $((rep0 + 1))
log "dataplane ARP requests: $(stat arp_tx_request), kernel replies: $(stat arp_rx_reply)"

# 3. fragments: a 3000-byte ping is fragmented by the kernel; we drop and count
frag0=$(stat ip_frag_drop)
len0=$(stat ip_bad_len)
in_ns ping -c 2 -i 0.1 -W 1 -s 3000 "$T_DP_IP" >/dev/null 2>&1 && fail "fragmented ping got a reply"
if [ "$T_PMD" = tap ]; then
	[ "$(stat ip_frag_drop)" -ge $((frag0 + 4)) ] ||
		fail "fragments not counted: $(wgctl query /wg/stats)"
else
	# the af_packet PMD joins a PACKET_FANOUT group with FLAG_DEFRAG, so the
	# kernel reassembles before we see it: the datagram arrives whole, longer
	# than the PMD's frame, truncated, and is dropped as a bad length
	[ $(($(stat ip_frag_drop) - frag0 + $(stat ip_bad_len) - len0)) -ge 2 ] ||
		fail "oversized datagram not counted: $(wgctl query /wg/stats)"
fi
log "fragments dropped and counted: frag $(stat ip_frag_drop), bad length $(stat ip_bad_len)"

# 4. malformed frames: each one moves its own counter, none gets an answer
snapshot=$(wgctl query /wg/stats)
echo0=$(stat icmp_echo_reply_tx)
in_ns python3 "$WG_SRC/tests/integration/inject.py" "$T_TAP" "$DP_MAC" "$T_PEER_IP" "$T_DP_IP" > "$T_DIR/inject.out"
sleep 0.5
after=$(wgctl query /wg/stats)
python3 - "$T_DIR/inject.out" <<PY || fail "malformed-frame counters"
import json, sys, collections
before = json.loads('''$snapshot''')
after = json.loads('''$after''')
want = collections.Counter(line.split()[1] for line in open(sys.argv[1]))
if "$T_PMD" == "af_packet":
    # a lone fragment waits in the kernel's defrag queue (see above)
    del want["ip_frag_drop"]
bad = []
for counter, n in want.items():
    got = after[counter] - before[counter]
    if got != n:
        bad.append("%s: +%d, expected +%d" % (counter, got, n))
if bad:
    print("\n".join(bad)); sys.exit(1)
print("all %d malformed frames counted under the right reason" % sum(want.values()))
PY
[ "$(stat icmp_echo_reply_tx)" -eq "$echo0" ] || fail "the dataplane answered a malformed echo request"

# 5. and it still answers
out=$(in_ns ping -c 5 -i 0.05 -W 2 "$T_DP_IP" 2>&1) || true
echo "$out" | grep -q "5 packets transmitted, 5 received" || fail "no replies after bad input"
kill -0 "$DP_PID" || fail "dataplane died"
log "PASS"
