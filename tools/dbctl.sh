#!/usr/bin/env bash
# dbctl.sh: throw-away Redis and PostgreSQL servers for tests and the demo.
#
#   dbctl.sh start-redis DIR [PORT]            one redis-server on 127.0.0.1:PORT
#                                              (default 6379) + DIR/redis-PORT.sock
#   dbctl.sh start-redis DIR --cluster BASE    3 masters on BASE..BASE+2, slots
#                                              assigned by redis-cli --cluster create
#   dbctl.sh stop-redis DIR PORT               stop one instance (restart tests)
#   dbctl.sh start-pg DIR PORT                 initdb + pg_ctl in DIR/pg, listening
#                                              on 127.0.0.1:PORT and a socket in DIR/pgsock
#   dbctl.sh stop-pg DIR                       stop PostgreSQL only (fast shutdown:
#                                              sessions are terminated); start-pg
#                                              DIR PORT again restarts it, data kept
#   dbctl.sh stop DIR                          stop everything started in DIR
#   dbctl.sh free-port [N]                     a base port with N (default 1)
#                                              consecutive free ports (and +10000)
#
# Everything lives in DIR (data, logs, pid files, sockets); nothing persists
# beyond it (Redis: no RDB/AOF). As root, PostgreSQL runs as the `postgres`
# user (initdb refuses root). Connection string for PostgreSQL:
#   host=127.0.0.1 port=PORT user=postgres dbname=postgres
set -euo pipefail

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}

die() { echo "dbctl: $*" >&2; exit 1; }

port_free() {
	! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

free_port() {
	local n=${1:-1} base i ok
	for _ in $(seq 200); do
		base=$((20000 + RANDOM % 20000))
		ok=1
		for ((i = 0; i < n; i++)); do
			port_free $((base + i)) && port_free $((base + i + 10000)) || { ok=0; break; }
		done
		[ $ok = 1 ] && { echo "$base"; return 0; }
	done
	die "no free port range of $n"
}

wait_redis() {   # PORT
	for _ in $(seq 100); do
		redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.05
	done
	die "redis on port $1 did not come up"
}

redis_one() {    # DIR PORT [extra args...]
	local dir=$1 port=$2
	shift 2
	redis-server --port "$port" --bind 127.0.0.1 --unixsocket "$dir/redis-$port.sock" \
		--unixsocketperm 700 --dir "$dir" --daemonize yes \
		--pidfile "$dir/redis-$port.pid" --logfile "$dir/redis-$port.log" \
		--save '' --appendonly no --protected-mode no "$@"
	wait_redis "$port"
}

start_redis() {
	local dir=$1 port=${2:-6379}
	mkdir -p "$dir"
	if [ "$port" = --cluster ]; then
		local base=${3:?--cluster needs a base port} p nodes=()
		for p in $base $((base + 1)) $((base + 2)); do
			redis_one "$dir" "$p" --cluster-enabled yes \
				--cluster-config-file "$dir/nodes-$p.conf" \
				--cluster-node-timeout 2000
			nodes+=("127.0.0.1:$p")
		done
		redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 \
			--cluster-yes >"$dir/cluster-create.log" 2>&1 ||
			die "cluster create failed: $(tail -n5 "$dir/cluster-create.log")"
		for _ in $(seq 200); do
			local ok=0
			for p in $base $((base + 1)) $((base + 2)); do
				redis-cli -p "$p" cluster info | grep -q 'cluster_state:ok' && ok=$((ok + 1))
			done
			[ $ok = 3 ] && { echo "redis cluster 127.0.0.1:$base-$((base + 2))"; return 0; }
			sleep 0.05
		done
		die "cluster did not reach state ok"
	fi
	redis_one "$dir" "$port"
	echo "redis 127.0.0.1:$port $dir/redis-$port.sock"
}

stop_redis() {   # DIR PORT
	local pidf=$1/redis-$2.pid pid
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$pidf"
}

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

start_pg() {
	local dir=$1 port=${2:?start-pg DIR PORT}
	[ -x "$PGBIN/initdb" ] || die "PostgreSQL binaries not found (set PGBIN)"
	mkdir -p "$dir/pg" "$dir/pgsock"
	chmod 755 "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir/pg" "$dir/pgsock"
	chmod 700 "$dir/pg"
	# an existing cluster is restarted as it is (outage tests)
	if [ ! -f "$dir/pg/PG_VERSION" ]; then
		as_pg "$PGBIN/initdb" -D "$dir/pg" -U postgres --auth=trust -E UTF8 \
			--no-locale >"$dir/initdb.log" 2>&1 || die "initdb failed: $(tail -n5 "$dir/initdb.log")"
	fi
	as_pg "$PGBIN/pg_ctl" -D "$dir/pg" -l "$dir/pgsock/pg.log" -w -t 30 \
		-o "-p $port -k $dir/pgsock -c listen_addresses=127.0.0.1 -c max_connections=50" \
		start >/dev/null || die "pg_ctl start failed: $(tail -n5 "$dir/pgsock/pg.log")"
	echo "$port" >"$dir/pg.port"
	echo "postgres host=127.0.0.1 port=$port user=postgres dbname=postgres"
}

stop_pg() {   # DIR
	[ -f "$1/pg/postmaster.pid" ] || return 0
	as_pg "$PGBIN/pg_ctl" -D "$1/pg" -m fast -w -t 30 stop >/dev/null
}

stop_all() {
	local dir=$1 f
	[ -d "$dir" ] || return 0
	for f in "$dir"/redis-*.pid; do
		[ -e "$f" ] || continue
		f=${f##*/redis-}
		stop_redis "$dir" "${f%.pid}"
	done
	if [ -f "$dir/pg/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$dir/pg" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
	fi
}

cmd=${1:-}
shift || true
case "$cmd" in
start-redis) start_redis "$@" ;;
stop-redis) stop_redis "$@" ;;
start-pg) start_pg "$@" ;;
stop-pg) stop_pg "$@" ;;
stop) stop_all "$@" ;;
free-port) free_port "$@" ;;
*) sed -n '2,23p' "$0" >&2; exit 2 ;;
esac
