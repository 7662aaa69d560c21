#!/usr/bin/env bash
# Benchmark: TCP echo round trips through our dataplane against the Linux
# kernel, same load client, same matrix, one invocation.
#
#   ours:   echo_client (netns T, CPU 0) --net_tap--> dataplane echo (worker lcore on CPU 1, busy poll)
#   kernel: echo_client (netns C, CPU 0) ---veth----> echo_server (netns S, CPU 1, sleeps in epoll_wait)
#   kspin:  the same with echo_server -B (never sleeps: polls epoll like an lcore)
#
# Each path crosses one virtual link. The three servers run one after the
# other (the dataplane spins on CPU 1). Prints one row per point and the
# ratios ours/kernel and ours/kspin, plus where the dataplane's threads spent
# their time. Exits non-zero only on errors: a client error (mismatch, reset,
# timeout), a server that died, a connection the dataplane never released, a
# failed setup step. Never on performance.
#
# Knobs (environment): WG_BENCH_SECONDS (5), WG_BENCH_WARMUP (1),
# WG_BENCH_SIZES ("64 512"), WG_BENCH_CONNS ("1 100"), WG_BENCH_ROUNDS (1),
# WG_BENCH_SIDES ("ours kernel kspin"), WG_BENCH_DP_LCORES ("0-1": main
# lcore on CPU 0 beside the client, worker on CPU 1; "1": one lcore doing both).
set -euo pipefail

: "${WG_BUILD:?run through meson: meson test -C build --benchmark echo_vs_kernel}"
: "${WG_SRC:?run through meson: meson test -C build --benchmark echo_vs_kernel}"
[ "$(id -u)" = 0 ] || { echo "bench_echo: needs root (namespaces, TAP, hugepages)"; exit 77; }
[ "$(nproc)" -ge 2 ] || { echo "bench_echo: needs 2 CPUs"; exit 77; }

DUR=${WG_BENCH_SECONDS:-5}
WARM=${WG_BENCH_WARMUP:-1}
SIZES=${WG_BENCH_SIZES:-"64 512"}
CONNS=${WG_BENCH_CONNS:-"1 100"}
ROUNDS=${WG_BENCH_ROUNDS:-1}
SIDES=${WG_BENCH_SIDES:-"ours kernel kspin"}
DP_LCORES=${WG_BENCH_DP_LCORES:-0-1}
CLI_CPU=0
SRV_CPU=1	# the kernel server's CPU, and the dataplane's worker lcore

DP=$WG_BUILD/dataplane/warpgate-dataplane
CLIENT=$WG_BUILD/tests/bench/echo_client
SERVER=$WG_BUILD/tests/bench/echo_server

ID=$$
PREFIX=wgb$ID
TAP=wgbt$ID
NS_TAP=wgb-tap-$ID		# client side of the TAP
NS_KCLI=wgb-kc-$ID		# client side of the veth pair
NS_KSRV=wgb-ks-$ID		# kernel echo server side
VETH_C=wgbc$ID
VETH_S=wgbs$ID
TAP_CLI_IP=198.18.7.1
TAP_DP_IP=198.18.7.2
VETH_CLI_IP=198.18.8.1
VETH_SRV_IP=198.18.8.2
DIR=$(mktemp -d /tmp/wgbench.XXXXXX)
CONF=$DIR/warpgate.yaml
PIDS=()
NERR=0
RESULTS=$DIR/results	# "round size conns side key=value..."
HZ=$(getconf CLK_TCK)

log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*"; }
err() { log "ERROR: $*"; NERR=$((NERR + 1)); }
die() { log "ERROR: $*"; NERR=$((NERR + 1)); exit 1; }
wgctl() { python3 "$WG_SRC/tools/wgctl.py" -c "$CONF" "$@"; }
# jget JSON KEY: one field of a flat JSON object
jget() { python3 -c "import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ''))" "$1" "$2"; }
# nonzero: the non-zero counters of a telemetry reply (stdin), on one line
nonzero() {
	python3 -c "import json,sys; print(' '.join('%s=%s' % kv for kv in sorted(json.load(sys.stdin).items()) if kv[1]))"
}
# cpu_snap: "busy total" jiffies of CPU 0 and CPU 1 (busy: user nice system irq softirq)
cpu_snap() { awk '/^cpu[01] / { printf "%d %d ", $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
# cpu_busy SNAP0 SNAP1: "cpu0=NN cpu1=NN", percent busy in between (any process)
cpu_busy() {
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x); split(b, y)
		printf "cpu0=%.0f cpu1=%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2] + 1e-9),
			100 * (y[3] - x[3]) / (y[4] - x[4] + 1e-9) }'
}
# threads_snap PID: "uptime_s" then "tid comm utime stime cpus" per thread
threads_snap() {
	local t
	cut -d' ' -f1 /proc/uptime
	for t in /proc/"$1"/task/*; do
		# comm may hold spaces; fields 14/15 count from the ')' that ends it
		printf '%s %s %s %s\n' "${t##*/}" "$(tr ' ' _ < "$t/comm")" \
			"$(sed 's/.*) //' "$t/stat" | cut -d' ' -f12,13)" \
			"$(sed -n 's/^Cpus_allowed_list:\s*//p' "$t/status")"
	done 2>/dev/null
}
# threads_use BEFORE AFTER: busy threads as "comm@cpus usr NN% sys NN%" of wall time
threads_use() {
	awk -v hz="$HZ" 'FNR == 1 { t[FILENAME] = $1; next }
		FILENAME == ARGV[1] { u[$1] = $3; s[$1] = $4; next }
		{ wall = (t[ARGV[2]] - t[ARGV[1]]) * hz
		  du = $3 - u[$1]; ds = $4 - s[$1]
		  if (wall > 0 && du + ds >= 0.01 * wall)
			printf "%s@cpu%s usr %.0f%% sys %.0f%%; ", $2, $5, 100 * du / wall, 100 * ds / wall }' \
		"$1" "$2"
}

stop_pid() {
	local p=$1
	kill -TERM "$p" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}

cleanup() {
	local rc=$? p
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	for p in "$NS_TAP" "$NS_KCLI" "$NS_KSRV"; do ip netns del "$p" 2>/dev/null || true; done
	ip link del "$TAP" 2>/dev/null || true
	ip link del "$VETH_C" 2>/dev/null || true
	rm -rf "$DIR" "/var/run/dpdk/$PREFIX"
	[ $rc -ne 0 ] || [ $NERR -eq 0 ] || rc=1
	exit $rc
}
trap cleanup EXIT

dump_log() {
	echo "----- $1 (last 30 lines)"
	tail -n 30 "$1" 2>/dev/null || true
}

# netns_quiet NS: loopback up, no IPv6 chatter on the link
netns_quiet() {
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$1" link set lo up
}

# run_point ROUND SIDE NETNS HOST SIZE CONNS [SERVER_PID]: one client run,
# result appended to RESULTS; with SERVER_PID, its threads' CPU use is logged
run_point() {
	local round=$1 side=$2 ns=$3 host=$4 size=$5 conns=$6 spid=${7:-} out rc=0 c0 c1
	[ -z "$spid" ] || threads_snap "$spid" > "$DIR/threads.0"
	c0=$(cpu_snap)
	out=$(ip netns exec "$ns" taskset -c $CLI_CPU "$CLIENT" -H "$host" -p 7 \
		-c "$conns" -s "$size" -d "$DUR" -w "$WARM" 2>"$DIR/client.err") || rc=$?
	c1=$(cpu_snap)
	out+=" $(cpu_busy "$c0" "$c1")"
	if [ $rc -ne 0 ] || [ -s "$DIR/client.err" ]; then
		err "$side size $size conns $conns: client exit $rc: $(cat "$DIR/client.err")"
	fi
	log "$side size=$size conns=$conns: $out"
	if [ -n "$spid" ]; then
		threads_snap "$spid" > "$DIR/threads.1"
		log "    $side threads: $(threads_use "$DIR/threads.0" "$DIR/threads.1")"
	fi
	echo "$round $size $conns $side $out" >> "$RESULTS"
}

write_conf() {
	# the write_conf shape of tests/integration/lib.sh, TCP echo on port 7
	cat > "$CONF" <<EOC
eal:
  file_prefix: $PREFIX
  lcores: "$DP_LCORES"
  memory_mb: 512
dataplane:
  mbufs: 32767
  idle_sleep_max_us: 0
ports:
  - name: tap0
    dev: "net_tap0,iface=$TAP"
    ipv4: $TAP_DP_IP/24
tcp:
  echo_port: 7
instances:
  max: 8
logic:
  count: 0
EOC
}

# The dataplane, its TAP moved into NS_TAP, the client there.
bench_ours() {
	local round=$1 dp_pid size conns tcp
	write_conf
	ip netns add "$NS_TAP"
	"$DP" -c "$CONF" --busy-poll > "$DIR/dataplane.log" 2>&1 &
	dp_pid=$!
	PIDS+=("$dp_pid")
	wgctl wait-ready 60 >/dev/null || { dump_log "$DIR/dataplane.log"; die "dataplane did not come up"; }
	ip link set "$TAP" netns "$NS_TAP"
	netns_quiet "$NS_TAP"
	ip -n "$NS_TAP" addr add "$TAP_CLI_IP/24" dev "$TAP"
	ip -n "$NS_TAP" link set "$TAP" up
	log "ours: dataplane pid $dp_pid, eal.lcores \"$DP_LCORES\", busy poll"
	for size in $SIZES; do
		for conns in $CONNS; do
			run_point "$round" ours "$NS_TAP" "$TAP_DP_IP" "$size" "$conns" "$dp_pid"
			kill -0 "$dp_pid" 2>/dev/null || { dump_log "$DIR/dataplane.log"; die "dataplane died"; }
		done
	done
	# every client connection was closed cleanly: nothing may be left behind
	for _ in $(seq 100); do
		tcp=$(wgctl query /wg/tcp)
		[ "$(jget "$tcp" conns)" = 0 ] && break
		sleep 0.1
	done
	log "ours: /wg/tcp (non-zero) $(nonzero <<<"$tcp")"
	log "ours: /wg/stats (non-zero) $(wgctl query /wg/stats | nonzero)"
	[ "$(jget "$tcp" conns)" = 0 ] ||
		err "dataplane still holds $(jget "$tcp" conns) connections 10 s after the clients closed"
	[ "$(jget "$tcp" bad_csum)" = 0 ] || err "dataplane saw $(jget "$tcp" bad_csum) bad checksums"
	stop_pid "$dp_pid"
	ip netns del "$NS_TAP"
}

veth_up() {
	ip netns add "$NS_KCLI"
	ip netns add "$NS_KSRV"
	ip link add "$VETH_C" type veth peer name "$VETH_S"
	ip link set "$VETH_C" netns "$NS_KCLI"
	ip link set "$VETH_S" netns "$NS_KSRV"
	netns_quiet "$NS_KCLI"
	netns_quiet "$NS_KSRV"
	ip -n "$NS_KCLI" addr add "$VETH_CLI_IP/24" dev "$VETH_C"
	ip -n "$NS_KSRV" addr add "$VETH_SRV_IP/24" dev "$VETH_S"
	ip -n "$NS_KCLI" link set "$VETH_C" up
	ip -n "$NS_KSRV" link set "$VETH_S" up
}

veth_down() {
	ip netns del "$NS_KCLI"
	ip netns del "$NS_KSRV"
}

# bench_kernel ROUND SIDE: the kernel echo server at the far end of the veth
# pair; SIDE kspin runs it busy-polling
bench_kernel() {
	local round=$1 side=$2 srv_pid size conns flags=()
	[ "$side" = kspin ] && flags=(-B)
	ip netns exec "$NS_KSRV" taskset -c $SRV_CPU "$SERVER" -a "$VETH_SRV_IP" -p 7 "${flags[@]}" \
		> "$DIR/server.log" 2>&1 &
	srv_pid=$!
	PIDS+=("$srv_pid")
	for _ in $(seq 50); do grep -q '^listening' "$DIR/server.log" && break; sleep 0.1; done
	grep -q '^listening' "$DIR/server.log" || { dump_log "$DIR/server.log"; die "echo_server did not start"; }
	log "$side: echo_server${flags[*]:+ ${flags[*]}} pid $srv_pid, CPU $SRV_CPU"
	for size in $SIZES; do
		for conns in $CONNS; do
			run_point "$round" "$side" "$NS_KCLI" "$VETH_SRV_IP" "$size" "$conns" "$srv_pid"
			kill -0 "$srv_pid" 2>/dev/null || { dump_log "$DIR/server.log"; die "echo_server died"; }
		done
	done
	stop_pid "$srv_pid"
	log "$side: $(tail -n 1 "$DIR/server.log")"
	grep -q ' 0 errors$' "$DIR/server.log" || err "echo_server reported errors"
}

report() {
	python3 - "$RESULTS" "$SIDES" <<'PY'
import sys
sides = sys.argv[2].split()
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rnd, size, conns, side = f[:4]
    kv = dict(x.split("=", 1) for x in f[4:] if "=" in x)
    rows.setdefault((rnd, int(size), int(conns)), {})[side] = kv
def num(d, k):
    try:
        return float(d[k])
    except (KeyError, ValueError):
        return float("nan")
def ratio(a, b):
    return "%.2f" % (a / b) if b == b and a == a and b else "-"
hdr = ("round", "size", "conns", "side", "msgs/s", "MB/s", "p50us", "p90us", "p99us", "p99.9us",
       "maxus", "cpu0%", "cpu1%", "err")
fmt = "%-5s %5s %5s %-6s %9s %7s %7s %7s %7s %8s %8s %5s %5s %3s"
print(fmt % hdr)
for key in sorted(rows):
    for side in sides:
        d = rows[key].get(side, {})
        print(fmt % (key[0], key[1], key[2], side, "%.0f" % num(d, "msgs_per_s"),
                     "%.2f" % (num(d, "bytes_per_s") / 1e6), d.get("p50_us", "-"),
                     d.get("p90_us", "-"), d.get("p99_us", "-"), d.get("p999_us", "-"),
                     d.get("max_us", "-"), d.get("cpu0", "-"), d.get("cpu1", "-"),
                     d.get("errors", "-")))
print("MB/s: echoed payload, each direction; cpu0%/cpu1%: busy share of each CPU during the")
print("client run, any process (client on CPU 0, server on CPU 1)")
if "ours" not in sides:
    sys.exit(0)
for base in [s for s in sides if s != "ours"]:
    print()
    print("ours/%s: msgs/s above 1 = we echo more; latency below 1 = we answer sooner" % base)
    fmt2 = "%-5s %5s %5s %8s %8s %8s %8s"
    print(fmt2 % ("round", "size", "conns", "msgs/s", "p50", "p99", "p99.9"))
    for key in sorted(rows):
        o, k = rows[key].get("ours", {}), rows[key].get(base, {})
        print(fmt2 % (key[0], key[1], key[2],
                      *(ratio(num(o, m), num(k, m))
                        for m in ("msgs_per_s", "p50_us", "p99_us", "p999_us"))))
PY
}

[ -x "$CLIENT" ] && [ -x "$SERVER" ] && [ -x "$DP" ] || die "build first: ninja -C $WG_BUILD"
log "echo_vs_kernel: $DUR s per point after $WARM s warm-up, sizes [$SIZES], conns [$CONNS]," \
	"sides [$SIDES], $ROUNDS round(s)"
log "host: $(uname -r), $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)"
c0=$(cpu_snap); sleep 1; c1=$(cpu_snap)
log "before: load average $(cut -d' ' -f1-3 /proc/loadavg), busy over 1 s $(cpu_busy "$c0" "$c1")" \
	"(other load disturbs the numbers)"
: > "$RESULTS"
for round in $(seq "$ROUNDS"); do
	for side in $SIDES; do
		case $side in
		ours) bench_ours "$round" ;;
		kernel|kspin) veth_up; bench_kernel "$round" "$side"; veth_down ;;
		*) die "unknown side '$side' (ours, kernel, kspin)" ;;
		esac
	done
done
log "after: load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
report
[ $NERR -eq 0 ] || die "$NERR error(s), see above"
log "done"
