# Shared fixture for integration tests: a private file prefix, TAP name,
# network namespace and temp dir per test run, all removed on exit.
# Sourced by test_*.sh; expects WG_BUILD and WG_SRC (set by meson).
set -euo pipefail

: "${WG_BUILD:?run through meson test}"
: "${WG_SRC:?run through meson test}"

T_ID=$$
T_PREFIX=wgt$T_ID
T_TAP=wgt$T_ID
T_NS=wgt-$T_ID
T_DIR=$(mktemp -d /tmp/wgtest.XXXXXX)
T_CONF=$T_DIR/warpgate.yaml
T_DP_IP=198.18.7.2
T_PEER_IP=198.18.7.1
T_PIDS=()
T_PMD=${T_PMD:-tap}          # tap: net_tap; af_packet: net_af_packet on a veth pair
T_VETH=wgv$T_ID              # dataplane end of the veth pair (af_packet)

DP=$WG_BUILD/dataplane/warpgate-dataplane
CONTROL=$WG_BUILD/control/warpgate-control
LOGIC=$WG_BUILD/logic/warpgate-logic

log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*"; }
fail() { log "FAIL: $*"; dump_logs; exit 1; }
wgctl() { python3 "$WG_SRC/tools/wgctl.py" -c "$T_CONF" "$@"; }
# stat NAME: one dataplane counter
stat() { wgctl query /wg/stats | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
stat_ge() { [ "$(stat "$1")" -ge "$2" ]; }
# inst SLOT FIELD: one field of one registry slot
inst() {
	wgctl query /wg/instances |
		python3 -c "import json,sys; d=json.load(sys.stdin); print(d.get('$1', {}).get('$2', ''))"
}
# slot_of KIND INDEX: registry slot number holding that identity, or empty
slot_of() {
	wgctl query /wg/instances | python3 -c "
import json, sys
for k, v in json.load(sys.stdin).items():
    if v['kind'] == '$1' and v['index'] == $2:
        print(k)"
}

dump_logs() {
	local f
	for f in "$T_DIR"/*.log; do
		[ -e "$f" ] || continue
		echo "----- $f (last 40 lines)"
		tail -n 40 "$f"
	done
}

cleanup() {
	local rc=$? p
	for p in "${T_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${T_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	ip netns del "$T_NS" 2>/dev/null || true
	ip link del "$T_TAP" 2>/dev/null || true
	ip link del "$T_VETH" 2>/dev/null || true
	rm -rf "$T_DIR" "/var/run/dpdk/$T_PREFIX"
	# a dataplane that died in EAL init or by SIGKILL leaves its hugepage
	# files, and they keep the memory
	rm -f /dev/hugepages/"$T_PREFIX"map_* 2>/dev/null || true
	exit $rc
}
trap cleanup EXIT

# write_conf [extra YAML appended to the dataplane section]
write_conf() {
	if [ "$T_PMD" = af_packet ]; then
		T_DEV="net_af_packet0,iface=$T_VETH"
	else
		T_DEV="net_tap0,iface=$T_TAP"
	fi
	cat > "$T_CONF" <<EOC
eal:
  file_prefix: $T_PREFIX
  lcores: "0-1"
  memory_mb: 512
dataplane:
  mbufs: 32767
  idle_sleep_max_us: 200
  arp_reachable_ms: ${T_ARP_REACHABLE_MS:-30000}
  arp_retry_ms: 200
${T_DEV_MODE:+  dev_mode: true}
ports:
  - name: tap0
    dev: "$T_DEV"
    ipv4: $T_DP_IP/24
    csum_offload: ${T_CSUM_OFFLOAD:-true}
${T_IMPAIR:+    impair: $T_IMPAIR}
tcp:
  echo_port: 7
  discard_port: 9
instances:
  max: 8
  msg_mbufs: 2047
  heartbeat_ms: 50
  dead_after_ms: 500
  lcore_base: 8
logic:
  count: 2
${T_LOGIC_CONF:-}
${T_EXTRA_CONF:-}
EOC
}

# start NAME CMD...: background process, output in $T_DIR/NAME.log; sets LAST_PID
start() {
	local name=$1; shift
	"$@" > "$T_DIR/$name.log" 2>&1 &
	LAST_PID=$!
	T_PIDS+=("$LAST_PID")
}

start_dataplane() {
	ip netns add "$T_NS"
	if [ "$T_PMD" = af_packet ]; then
		# veth pair: the dataplane reads its end with AF_PACKET, the
		# kernel peer (T_TAP, same name as with TAP) sits in the netns
		ip link add "$T_VETH" type veth peer name "$T_TAP"
		sysctl -qw "net.ipv6.conf.$T_VETH.disable_ipv6=1"
		ip link set "$T_VETH" up
	fi
	write_conf
	start dataplane "$DP" -c "$T_CONF"
	DP_PID=$LAST_PID
	wgctl wait-ready 60 || fail "dataplane did not come up"
	# the kernel side, moved into a namespace of its own
	ip link set "$T_TAP" netns "$T_NS"
	# no IPv6 chatter (router solicitations, DAD) to blur exact counters
	in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
		"net.ipv6.conf.$T_TAP.disable_ipv6=1"
	ip -n "$T_NS" addr add "$T_PEER_IP/24" dev "$T_TAP"
	ip -n "$T_NS" link set "$T_TAP" up
	ip -n "$T_NS" link set lo up
	log "dataplane pid $DP_PID up, $T_TAP in netns $T_NS ($T_PEER_IP -> $T_DP_IP)"
}

in_ns() { ip netns exec "$T_NS" "$@"; }

# wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds
wait_for() {
	local secs=$1 what=$2 end; shift 2
	end=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || fail "timed out after ${secs}s waiting for: $what"
		sleep 0.1
	done
}

require_root() {
	[ "$(id -u)" = 0 ] || { echo "integration tests need root"; exit 77; }
}
require_root
write_conf
