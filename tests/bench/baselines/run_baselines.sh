#!/usr/bin/env bash
# Kernel-socket baselines: each server pinned to one core (SRV_CPU), driven
# by ws_load pinned to another (CLI_CPU) over loopback, closed loop unless
# WG_BASE_RATE is set. One row per point; exits non-zero only on errors
# (a client error, a server that died, a server that counted failures or
# fewer echoes than the client received), never on performance.
#
#   meson test -C build --benchmark baselines
#
# Knobs (environment): WG_BASE_SERVERS ("go lws"), WG_BASE_MODES ("wss ws
# framed framed_tls"; lws has no framed), WG_BASE_SIZES ("64 512"),
# WG_BASE_CONNS ("100 1000"), WG_BASE_SECONDS (5), WG_BASE_WARMUP (1),
# WG_BASE_RATE (msgs/s per connection; unset = closed loop), SRV_CPU (1),
# CLI_CPU (0).
set -euo pipefail

: "${WG_BUILD:?run through meson: meson test -C build --benchmark baselines}"
: "${WG_SRC:?run through meson: meson test -C build --benchmark baselines}"

DIR=$WG_BUILD/tests/bench/baselines
SERVERS=${WG_BASE_SERVERS:-"go lws"}
MODES=${WG_BASE_MODES:-"wss ws framed framed_tls"}
SIZES=${WG_BASE_SIZES:-"64 512"}
CONNS=${WG_BASE_CONNS:-"100 1000"}
SECS=${WG_BASE_SECONDS:-5}
WARM=${WG_BASE_WARMUP:-1}
RATE=${WG_BASE_RATE:-}
SRV_CPU=${SRV_CPU:-1}
CLI_CPU=${CLI_CPU:-0}
# below the ephemeral range (32768+), where 10,000 client sockets and their
# TIME_WAITs live; a fresh port per server start
PORT_BASE=$((20000 + $$ % 10000))
PORT=$PORT_BASE

[ "$(nproc)" -ge 2 ] || { echo "baselines: needs 2 CPUs"; exit 77; }
work=$(mktemp -d)
srv_pid=
cleanup() {
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
"$WG_SRC/tools/gen_test_certs.sh" "$work/pki" >/dev/null 2>&1
ulimit -n 65536 2>/dev/null || true

fail=0
wait_listen() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		kill -0 "$srv_pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

start_server() { # server mode -> sets srv_pid, or returns 1 if not applicable
	local s=$1 m=$2
	PORT=$((20000 + (PORT + 1 - 20000) % 12000))
	case $s in
	go)
		[ -x "$DIR/go_echo" ] || { echo "# go_echo not built (golang-go, gorilla missing)"; return 1; }
		GOMAXPROCS=1 taskset -c "$SRV_CPU" "$DIR/go_echo" -listen "127.0.0.1:$PORT" -mode "$m" \
			-cert "$work/pki/chain.crt" -key "$work/pki/server.key" \
			>"$work/srv.out" 2>"$work/srv.err" &
		;;
	lws)
		[ -x "$DIR/lws_echo" ] || { echo "# lws_echo not built (libwebsockets-dev missing)"; return 1; }
		case $m in
		ws)  taskset -c "$SRV_CPU" "$DIR/lws_echo" -p "$PORT" >"$work/srv.out" 2>"$work/srv.err" & ;;
		wss) taskset -c "$SRV_CPU" "$DIR/lws_echo" -p "$PORT" -c "$work/pki/chain.crt" \
			-k "$work/pki/server.key" >"$work/srv.out" 2>"$work/srv.err" & ;;
		*)   return 1 ;;
		esac
		;;
	*)
		echo "# unknown server $s"; return 1 ;;
	esac
	srv_pid=$!
	wait_listen || { echo "# $s $m: server did not start: $(cat "$work/srv.err")"; fail=1; return 1; }
}

echo "# server mode size conns: ws_load output | server counters"
for s in $SERVERS; do
	for m in $MODES; do
		for size in $SIZES; do
			for c in $CONNS; do
				start_server "$s" "$m" || { srv_pid=; continue; }
				rc=0
				out=$(taskset -c "$CLI_CPU" "$DIR/ws_load" -p "$PORT" -m "$m" -c "$c" -s "$size" \
					-d "$SECS" -w "$WARM" ${RATE:+-r "$RATE"} -A "$work/pki/ca.crt" \
					-S warpgate.test 2>"$work/cli.err") || rc=$?
				kill -TERM "$srv_pid" 2>/dev/null || true
				wait "$srv_pid" 2>/dev/null || true
				srv_pid=
				srv=$(tail -n1 "$work/srv.out" 2>/dev/null || true)
				echo "$s $m $size $c: $out | $srv"
				if [ $rc -ne 0 ]; then
					echo "#   client failed ($rc): $(head -c 600 "$work/cli.err")"
					fail=1
				fi
				case $srv in
				*failures=0*) ;;
				*) echo "#   server reported failures or no counters: $(head -c 300 "$work/srv.err")"; fail=1 ;;
				esac
				# the server echoed at least what the client counted
				cm=$(sed -n 's/.* msgs=\([0-9]*\) .*/\1/p' <<<"$out")
				sm=$(sed -n 's/.*messages=\([0-9]*\).*/\1/p' <<<"$srv")
				if [ -n "$cm" ] && [ -n "$sm" ] && [ "$sm" -lt "$cm" ]; then
					echo "#   server echoed $sm < client's $cm"
					fail=1
				fi
			done
		done
	done
done
exit $fail
