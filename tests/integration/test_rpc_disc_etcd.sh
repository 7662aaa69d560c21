#!/usr/bin/env bash
# etcd discovery backend (common/rpc/disc_etcd.c, etcd v3 over gRPC)
# against a real single-member etcd (Debian etcd-server) started here in a
# temp dir on free ports. The checker calls this script back with
# "restart" (kill -9, start again on the same data) for the reconnect case.
set -euo pipefail

: "${WG_BUILD:?run through meson test}"
: "${WG_SRC:?run through meson test}"

CHECK=$WG_BUILD/tests/integration/test_rpc_disc_etcd
DBCTL=$WG_SRC/tools/dbctl.sh

start_etcd() {   # DIR CPORT PPORT
	etcd --name wg --data-dir "$1/data" \
		--listen-client-urls "http://127.0.0.1:$2" --advertise-client-urls "http://127.0.0.1:$2" \
		--listen-peer-urls "http://127.0.0.1:$3" --initial-advertise-peer-urls "http://127.0.0.1:$3" \
		--initial-cluster "wg=http://127.0.0.1:$3" --logger zap --log-outputs stderr \
		>>"$1/etcd.out" 2>&1 &
	echo $! >"$1/etcd.pid"
	for _ in $(seq 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "etcd did not come up"; tail -n 20 "$1/etcd.out" 2>/dev/null
	return 1
}

stop_etcd() {    # DIR [signal]
	local pid
	[ -f "$1/etcd.pid" ] || return 0
	pid=$(cat "$1/etcd.pid")
	kill -"${2:-TERM}" "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$1/etcd.pid"
}

if [ "${1:-}" = restart ]; then     # called back by the checker
	: "${WG_ETCD_DIR:?}" "${WG_ETCD_CPORT:?}" "${WG_ETCD_PPORT:?}"
	stop_etcd "$WG_ETCD_DIR" KILL
	start_etcd "$WG_ETCD_DIR" "$WG_ETCD_CPORT" "$WG_ETCD_PPORT"
	exit 0
fi

command -v etcd >/dev/null || { echo "etcd missing (Debian etcd-server): skip"; exit 77; }
[ -x "$CHECK" ] || { echo "test_rpc_disc_etcd not built"; exit 1; }

T_DIR=$(mktemp -d /tmp/wgrpcetcd.XXXXXX)
cleanup() {
	local rc=$?
	stop_etcd "$T_DIR"
	[ $rc != 0 ] && tail -n 20 "$T_DIR/etcd.out" 2>/dev/null
	rm -rf "$T_DIR"
	exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT

CPORT=$("$DBCTL" free-port 2)
PPORT=$((CPORT + 1))
export WG_ETCD_DIR=$T_DIR WG_ETCD_CPORT=$CPORT WG_ETCD_PPORT=$PPORT
start_etcd "$T_DIR" "$CPORT" "$PPORT"
"$CHECK" "$(readlink -f "$0")" "127.0.0.1:$CPORT"
