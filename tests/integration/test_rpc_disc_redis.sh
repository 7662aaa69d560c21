#!/usr/bin/env bash
# Redis discovery backend (common/rpc/disc_redis.c) against a real
# redis-server that tools/dbctl.sh starts here in a temp dir on a free
# port. No DPDK, no namespaces, no root. The checker restarts the server
# itself (dbctl.sh stop-redis/start-redis) for the reconnect scenario.
set -euo pipefail

: "${WG_BUILD:?run through meson test}"
: "${WG_SRC:?run through meson test}"

CHECK=$WG_BUILD/tests/integration/test_rpc_disc_redis
DBCTL=$WG_SRC/tools/dbctl.sh
T_DIR=$(mktemp -d /tmp/wgrpcdisc.XXXXXX)

cleanup() {
	local rc=$?
	"$DBCTL" stop "$T_DIR" || true
	if [ $rc != 0 ] && [ -n "$(ls "$T_DIR"/*.log 2>/dev/null)" ]; then
		tail -n 20 "$T_DIR"/*.log
	fi
	rm -rf "$T_DIR"
	exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT

[ -x "$CHECK" ] || { echo "test_rpc_disc_redis not built"; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server missing: skip"; exit 77; }

PORT=$("$DBCTL" free-port)
"$DBCTL" start-redis "$T_DIR" "$PORT" >/dev/null
"$CHECK" "$DBCTL" "$T_DIR" "$PORT"
