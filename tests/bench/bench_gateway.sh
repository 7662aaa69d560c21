#!/usr/bin/env bash
# Benchmark: what the message plane costs. ECHO Envelopes from gw_load
# (tests/bench/gw_load.c: one thread, epoll, kernel sockets) against one
# dataplane, two services, same run, point by point:
#
#   echo:    gw_load -m echo    -> dataplane `service: echo` listener: the
#            WebSocket message straight back, no session, no ring (baseline)
#   gateway: gw_load -m gateway -> dataplane `service: gateway` listener:
#            token login through control, then every ECHO goes
#            dataplane -> ring -> logic 0 (echo service) -> ring -> dataplane
#
# Both over ws:// (dev mode) and wss:// (TLS 1.3), at each size and
# connection count; prints msgs/s, p50/p99 and gateway/echo ratios, with the
# CPU each process used. Also runs bench_ringhop (the ring hop alone,
# against a direct call) before the dataplane starts.
#
# Placement on the 2-CPU machine: client and control on CPU 0; the
# dataplane's main lcore on CPU 0 (it takes net_tap's per-packet signals),
# its worker lcore on CPU 1; logic 0 on WG_BENCH_LOGIC_CPU (default 1: the
# dataplane's core, so "per dataplane core" counts the logic work too).
#
# Exits non-zero only on errors: a wrong or lost reply, a refused login, an
# Error or Kick to a client, a session or connection left behind, a dropped
# message counted by the gateway (ring full, no buffers, rate limited), a
# process that died. Never on speed.
#
# Knobs (environment): WG_BENCH_SECONDS (5), WG_BENCH_WARMUP (1),
# WG_BENCH_SIZES ("64 512"), WG_BENCH_CONNS ("1 100 1000"),
# WG_BENCH_TRANSPORTS ("ws wss"), WG_BENCH_INFLIGHT (1: ECHOs in flight per
# connection), WG_BENCH_LOGIC_CPU (1), WG_BENCH_BUSY_POLL (unset: the
# tests' idle back-off, naps up to 200 us; 1: dataplane and logic never
# nap; on 2 CPUs put logic on CPU 0 then), WG_BENCH_IDLE_SPINS (64) and
# WG_BENCH_IDLE_US (200): the back-off's empty polls before the first nap and
# its nap ceiling (dataplane.idle_spins, idle_sleep_max_us), WG_BENCH_RINGHOP
# (1; 0 skips bench_ringhop), WG_BENCH_CLIENT (another gw_load binary, e.g. a
# sanitizer build).
. "$(dirname "$0")/../integration/lib.sh"

DUR=${WG_BENCH_SECONDS:-5}
WARM=${WG_BENCH_WARMUP:-1}
SIZES=${WG_BENCH_SIZES:-"64 512"}
CONNS=${WG_BENCH_CONNS:-"1 100 1000"}
TRANSPORTS=${WG_BENCH_TRANSPORTS:-"ws wss"}
INFLIGHT=${WG_BENCH_INFLIGHT:-1}
LOGIC_CPU=${WG_BENCH_LOGIC_CPU:-1}
BUSY=${WG_BENCH_BUSY_POLL:-}
IDLE_SPINS=${WG_BENCH_IDLE_SPINS:-64}
IDLE_US=${WG_BENCH_IDLE_US:-200}
RINGHOP=${WG_BENCH_RINGHOP:-1}
CLI_CPU=0

LOAD=${WG_BENCH_CLIENT:-$WG_BUILD/tests/bench/gw_load}
RINGHOP_BIN=$WG_BUILD/tests/bench/bench_ringhop
TOKEN=$WG_BUILD/control/wg_token
DP_BIN=$DP
PKI=$T_DIR/pki
RESULTS=$T_DIR/results          # "transport size conns side key=value..."
NERR=0
HZ=$(getconf CLK_TCK)

[ "$(nproc)" -ge 2 ] || { echo "bench_gateway: needs 2 CPUs"; exit 77; }
for f in "$LOAD" "$RINGHOP_BIN" "$TOKEN" "$DP_BIN" "$CONTROL" "$LOGIC"; do
	[ -x "$f" ] || fail "build first: ninja -C $WG_BUILD ($f missing)"
done

err() { log "ERROR: $*"; NERR=$((NERR + 1)); }
# lib.sh's clean-up (processes, netns, TAP, files), after unlinking the
# hugepage files of our prefix: a dataplane that failed in EAL init or was
# killed leaves them behind, holding the memory (unlinked, it goes with the
# last process that maps it). cleanup() takes the exit status from $?;
# errexit goes off first, or setting $? would end this handler instead.
bench_cleanup() {
	local rc=$?
	set +e
	rm -f /dev/hugepages/"${T_PREFIX}"map_*
	(exit $rc)
	cleanup
}
trap bench_cleanup EXIT
# the dataplane as lib.sh's start_dataplane runs it, busy-polling on request
dp_run() { exec "$DP_BIN" ${BUSY:+--busy-poll} "$@"; }
DP=dp_run

# gwget KEY: one counter of /wg/gateway
gwget() {
	wgctl query /wg/gateway | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}
# cpu_snap: "busy total" jiffies of CPU 0 and CPU 1
cpu_snap() {
	awk '/^cpu[01] / { printf "%d %d ", $2 + $3 + $4 + $7 + $8,
		$2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}
# cpu_busy SNAP0 SNAP1: "cpu0=NN cpu1=NN", percent busy in between (any process)
cpu_busy() {
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x); split(b, y)
		printf "cpu0=%.0f cpu1=%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2] + 1e-9),
			100 * (y[3] - x[3]) / (y[4] - x[4] + 1e-9) }'
}
# threads_snap NAME=PID...: "uptime_s", then "name/comm utime stime" per thread
threads_snap() {
	local np t
	cut -d' ' -f1 /proc/uptime
	for np in "$@"; do
		for t in /proc/"${np#*=}"/task/*; do
			# comm may hold spaces; utime and stime count from the ')' that ends it
			printf '%s/%s %s\n' "${np%%=*}" "$(tr ' ' _ < "$t/comm")" \
				"$(sed 's/.*) //' "$t/stat" | cut -d' ' -f12,13)"
		done 2>/dev/null
	done
}
# threads_use BEFORE AFTER: threads busy over 1 % of the time, "name/comm NN%"
threads_use() {
	awk -v hz="$HZ" 'FNR == 1 { t[FILENAME] = $1; next }
		FILENAME == ARGV[1] { u[$1] += $2 + $3; next }
		{ v[$1] += $2 + $3 }
		END { wall = (t[ARGV[2]] - t[ARGV[1]]) * hz
		      for (k in v) if (wall > 0 && v[k] - u[k] >= 0.01 * wall)
			printf "%s %.0f%% ", k, 100 * (v[k] - u[k]) / wall }' "$1" "$2"
}

# run_point TRANSPORT SIZE CONNS SIDE URL BASE
run_point() {
	local tr=$1 size=$2 conns=$3 side=$4 url=$5 base=$6 out rc=0 c0 c1 args=()
	[ "$side" = gateway ] && args=(-K "$T_DIR/token.keys" -b "$base")
	[ "$tr" = wss ] && args+=(-A "$PKI/ca.crt")
	threads_snap "dp=$DP_PID" "logic=$LOGIC_PID" "control=$CONTROL_PID" > "$T_DIR/threads.0"
	c0=$(cpu_snap)
	out=$(in_ns taskset -c $CLI_CPU "$LOAD" -m "$side" -u "$url" -c "$conns" -s "$size" \
		-i "$INFLIGHT" -d "$DUR" -w "$WARM" "${args[@]}" 2>"$T_DIR/client.err") || rc=$?
	c1=$(cpu_snap)
	threads_snap "dp=$DP_PID" "logic=$LOGIC_PID" "control=$CONTROL_PID" > "$T_DIR/threads.1"
	out+=" $(cpu_busy "$c0" "$c1")"
	if [ $rc -ne 0 ] || [ -s "$T_DIR/client.err" ]; then
		err "$side $tr size $size conns $conns: gw_load exit $rc: $(head -c 2000 "$T_DIR/client.err")"
	fi
	log "$side $tr size=$size conns=$conns: $out"
	log "    threads: $(threads_use "$T_DIR/threads.0" "$T_DIR/threads.1")"
	echo "$tr $size $conns $side $out" >> "$RESULTS"
	for p in "$DP_PID" "$LOGIC_PID" "$CONTROL_PID"; do
		kill -0 "$p" 2>/dev/null || fail "process $p died (see its log)"
	done
}

# Every session ended by LOGOUT: none may be left once the clients are gone.
sessions_gone() { [ "$(gwget sessions)" = 0 ]; }

report() {
	python3 - "$RESULTS" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    tr, size, conns, side = f[:4]
    kv = dict(x.split("=", 1) for x in f[4:] if "=" in x)
    rows.setdefault((tr, int(size), int(conns)), {})[side] = kv
def num(d, k):
    try:
        return float(d[k])
    except (KeyError, ValueError):
        return float("nan")
def ratio(a, b):
    return "%.2f" % (a / b) if a == a and b == b and b else "-"
hdr = ("transp", "size", "conns", "side", "msgs/s", "p50us", "p90us", "p99us", "p99.9us",
       "maxus", "cpu0%", "cpu1%", "err")
fmt = "%-6s %5s %5s %-8s %9s %8s %8s %8s %8s %8s %5s %5s %3s"
print(fmt % hdr)
for key in sorted(rows, key=lambda k: (k[0] != "ws", k[1], k[2])):
    for side in ("echo", "gateway"):
        d = rows[key].get(side, {})
        print(fmt % (key[0], key[1], key[2], side, "%.0f" % num(d, "msgs_per_s"),
                     d.get("p50_us", "-"), d.get("p90_us", "-"), d.get("p99_us", "-"),
                     d.get("p999_us", "-"), d.get("max_us", "-"), d.get("cpu0", "-"),
                     d.get("cpu1", "-"), d.get("errors", "-")))
print()
print("gateway/echo: msgs/s below 1 = the message plane costs throughput;"
      " latency above 1 = it adds delay")
fmt2 = "%-6s %5s %5s %8s %8s %8s"
print(fmt2 % ("transp", "size", "conns", "msgs/s", "p50", "p99"))
for key in sorted(rows, key=lambda k: (k[0] != "ws", k[1], k[2])):
    g, e = rows[key].get("gateway", {}), rows[key].get("echo", {})
    print(fmt2 % (key[0], key[1], key[2],
                  *(ratio(num(g, m), num(e, m)) for m in ("msgs_per_s", "p50_us", "p99_us"))))
PY
}

log "gateway: $DUR s per point after $WARM s warm-up, sizes [$SIZES], conns [$CONNS]," \
	"transports [$TRANSPORTS], $INFLIGHT in flight per connection," \
	"${BUSY:+busy poll}${BUSY:-idle back-off ($IDLE_SPINS empty polls, then naps up to $IDLE_US us)}," \
	"logic on CPU $LOGIC_CPU"
log "host: $(uname -r), $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)"
c0=$(cpu_snap); sleep 1; c1=$(cpu_snap)
log "before: load average $(cut -d' ' -f1-3 /proc/loadavg), busy over 1 s $(cpu_busy "$c0" "$c1")" \
	"(other load disturbs the numbers)"

if [ "$RINGHOP" = 1 ]; then
	log "bench_ringhop (the ring hop alone; dataplane not running yet):"
	rh_rc=0
	rh=$("$RINGHOP_BIN" 2>&1) || rh_rc=$?
	while IFS= read -r l; do log "    $l"; done <<<"$rh"
	[ $rh_rc = 0 ] || err "bench_ringhop exit $rh_rc"
fi

bash "$WG_SRC/tools/gen_test_certs.sh" "$PKI" >/dev/null
"$TOKEN" genkey 7 > "$T_DIR/token.keys"

# lib.sh's fixture (netns, TAP, clean-up) with a configuration of our own:
# four listeners, one logic instance, no rate limits, room for 1000 sessions
# with messages in flight.
write_conf() {
	cat > "$T_CONF" <<EOC
eal:
  file_prefix: $T_PREFIX
  lcores: "0-1"
  memory_mb: 512
dataplane:
  mbufs: 32767
  idle_sleep_max_us: $IDLE_US
  idle_spins: $IDLE_SPINS
  dev_mode: true
ports:
  - name: tap0
    dev: "net_tap0,iface=$T_TAP"
    ipv4: $T_DP_IP/24
tls:
  cert: $PKI/chain.crt
  key: $PKI/server.key
listeners:
  - { port: 8080, proto: ws, tls: false, service: echo }
  - { port: 8443, proto: ws, service: echo }
  - { port: 8081, proto: ws, tls: false, service: gateway }
  - { port: 443, proto: ws, service: gateway }
instances:
  max: 8
  ring_size: 4096
  msg_mbufs: 16383
  heartbeat_ms: 100
  dead_after_ms: 1000
  lcore_base: 8
logic:
  count: 1
gateway:
  msg_rate: 0
  idle_timeout_ms: 120000
  login_timeout_ms: 60000
  resume_window_ms: 5000
control:
  token_keys: $T_DIR/token.keys
  ip_logins_per_s: 0
  ip_logins_burst: 0
  ip_max_sessions: 0
services:
  - { name: echo, first_type: 512, last_type: 767, instance_first: 0, instances: 1 }
EOC
}

start_dataplane
start control taskset -c $CLI_CPU "$CONTROL" -c "$T_CONF"
CONTROL_PID=$LAST_PID
start logic0 taskset -c "$LOGIC_CPU" "$LOGIC" -c "$T_CONF" -i 0 ${BUSY:+--busy-poll}
LOGIC_PID=$LAST_PID
wait_for 20 "control and logic 0 alive" wgctl wait-instances 2 1
log "dataplane pid $DP_PID (lcores 0-1), control pid $CONTROL_PID (CPU $CLI_CPU)," \
	"logic 0 pid $LOGIC_PID (CPU $LOGIC_CPU), gw_load on CPU $CLI_CPU"

: > "$RESULTS"
point=0
total_logins=0
for tr in $TRANSPORTS; do
	case $tr in
	ws) echo_url=ws://$T_DP_IP:8080/ gw_url=ws://$T_DP_IP:8081/ ;;
	wss) echo_url=wss://$T_DP_IP:8443/ gw_url=wss://$T_DP_IP/ ;;
	*) fail "unknown transport '$tr' (ws, wss)" ;;
	esac
	for size in $SIZES; do
		for conns in $CONNS; do
			point=$((point + 1))
			run_point "$tr" "$size" "$conns" echo "$echo_url" 0
			run_point "$tr" "$size" "$conns" gateway "$gw_url" $((point * 1000000))
			total_logins=$((total_logins + conns))
			for _ in $(seq 100); do sessions_gone && break; sleep 0.1; done
			sessions_gone || err "$(gwget sessions) gateway sessions left after $tr $size $conns"
		done
	done
done

# What the dataplane counted against what the clients did: every login
# accepted, every ECHO routed to logic and answered, nothing dropped or refused.
gw=$(wgctl query /wg/gateway)
log "/wg/gateway: $(tr -d '\n ' <<<"$gw")"
python3 - "$gw" "$total_logins" "$RESULTS" <<'PY' || NERR=$((NERR + 1))
import json, sys
g, want = json.loads(sys.argv[1]), int(sys.argv[2])
sent = acks = 0
for line in open(sys.argv[3]):
    f = line.split()
    if f[3] != "gateway":
        continue
    kv = dict(x.split("=", 1) for x in f[4:] if "=" in x)
    sent += int(kv.get("sent", 0))
    acks += int(kv.get("acks", 0))
bad = [k for k in ("ring_full", "nobufs", "rate_limited", "errors_sent", "bad_msgs", "unknown_type",
                   "not_logged_in", "unavailable", "no_session", "replay_dropped", "sess_full",
                   "login_timeouts", "idle_kicks", "detached", "expired") if g.get(k)]
errs = []
if bad:
    errs.append("non-zero: " + ", ".join("%s=%s" % (k, g[k]) for k in bad))
if g.get("logins") != want:
    errs.append("logins %s, expected %d" % (g.get("logins"), want))
if g.get("kicked") != want:
    errs.append("kicked (LOGGED_OUT) %s, expected %d" % (g.get("kicked"), want))
# in: LOGIN, ECHOs, bare ACKs, LOGOUT; routed: the ECHOs; out: LOGIN_ACK,
# the ECHO replies, Kick{LOGGED_OUT}
for k, v in (("msgs_in", 2 * want + sent + acks), ("msgs_routed", sent),
             ("msgs_out", 2 * want + sent)):
    if g.get(k) != v:
        errs.append("%s %s, expected %d from the clients' counts" % (k, g.get(k), v))
for e in errs:
    print("[gateway counters] ERROR: " + e)
sys.exit(1 if errs else 0)
PY
# connections the dataplane holds other than in TIME_WAIT (it closes first
# after a Kick or a close handshake): none once the clients are gone
tcp_open() {
	python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["conns"] - d["timewait"])'
}
# nonzero JSON: the non-zero counters of a telemetry reply, on one line
nonzero() {
	python3 -c 'import json,sys
print(" ".join("%s=%s" % kv for kv in sorted(json.loads(sys.argv[1]).items()) if kv[1]))' "$1"
}
for _ in $(seq 100); do
	[ "$(wgctl query /wg/tcp | tcp_open)" = 0 ] && break
	sleep 0.1
done
tcp=$(wgctl query /wg/tcp)
log "/wg/tcp (non-zero): $(nonzero "$tcp")"
[ "$(tcp_open <<<"$tcp")" = 0 ] ||
	err "dataplane still holds TCP connections (not in TIME_WAIT) 10 s after the clients closed"
log "logic 0: $(tail -n 3 "$T_DIR/logic0.log" | tr '\n' ' ')"
log "after: load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
report
[ $NERR -eq 0 ] || fail "$NERR error(s), see above"
log "done"
