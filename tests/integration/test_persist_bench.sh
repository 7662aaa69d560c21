#!/usr/bin/env bash
# Persistence throughput against local servers started here (same run, same
# servers for ours and the baseline), printed as rates and ratios; no
# thresholds (the machine is shared): docs/persistence.md records results.
#   pg     200k ~200-byte versioned rows through the write-back (pipelined
#          multi-row upserts) vs one synchronous upsert per commit; then
#          coalesced updates absorbed per second
#   lock   fenced acquire+release through the async client (64 in flight)
#          vs the same scripts one blocking round trip at a time
#   redis  async SET/GET (window 1024) vs redis-benchmark -P 32
# Usage: test_persist_bench.sh [ROWS]
set -euo pipefail

: "${WG_BUILD:?run through meson (benchmark)}"
: "${WG_SRC:?run through meson (benchmark)}"

ROWS=${1:-200000}
CHECK=$WG_BUILD/tests/integration/persist_check
DBCTL=$WG_SRC/tools/dbctl.sh
T_DIR=$(mktemp -d /tmp/wgpbench.XXXXXX)

cleanup() {
	local rc=$?
	"$DBCTL" stop "$T_DIR" || true
	rm -rf "$T_DIR"
	exit $rc
}
trap cleanup EXIT
trap 'exit 143' TERM INT     # a timeout must still stop the servers

RPORT=$("$DBCTL" free-port)
"$DBCTL" start-redis "$T_DIR" "$RPORT" >/dev/null
PGPORT=$("$DBCTL" free-port)
"$DBCTL" start-pg "$T_DIR" "$PGPORT" >/dev/null
PG="host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres"
echo "# $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); PostgreSQL $(psql -XAtq "$PG" -c 'SHOW server_version'), fsync $(psql -XAtq "$PG" -c 'SHOW fsync'), synchronous_commit $(psql -XAtq "$PG" -c 'SHOW synchronous_commit')"

"$CHECK" bench-pg --pg "$PG" --rows "$ROWS" --interval-ms 20
"$CHECK" bench-lock --redis "127.0.0.1:$RPORT" --rows $((ROWS / 2))

ours=$("$CHECK" bench-redis --redis "127.0.0.1:$RPORT" --rows "$ROWS")
echo "$ours"
base=$(redis-benchmark -h 127.0.0.1 -p "$RPORT" -P 32 -t set,get -n "$ROWS" -r 100000 -q 2>/dev/null | tr '\r' '\n' | grep -E '^(SET|GET): [0-9.]+ requests per second')
echo "$base" | sed 's/^/# redis-benchmark -P 32: /'
bset=$(awk '/^SET:/ { print $2 }' <<<"$base")
bget=$(awk '/^GET:/ { print $2 }' <<<"$base")
oset=$(sed -n 's/.*redis_async_set_per_s=\([0-9]*\).*/\1/p' <<<"$ours")
oget=$(sed -n 's/.*redis_async_get_per_s=\([0-9]*\).*/\1/p' <<<"$ours")
awk -v os="$oset" -v og="$oget" -v bs="$bset" -v bg="$bget" 'BEGIN {
	printf "BENCH redis_ratio_vs_redis_benchmark set=%.2f get=%.2f\n", os / bs, og / bg }'
