#!/usr/bin/env bash
# TLS 1.3 + WebSocket + framed TCP on the dataplane, against real peers in a
# network namespace: openssl s_client and gnutls-cli (data both ways, key
# updates both ways, clean close), python3-websockets (10,000 messages of
# 0..64 KiB, byte-exact, several connections, fragmented sends, pings),
# headless Chromium trusting a test CA, plain ws:// and framed TCP in dev
# mode, and bad input on one connection never hurting the others (each bad
# peer gets its TLS alert, close code or HTTP status, then a close).
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3             # Debian's, where python3-websockets lives
PKI=$T_DIR/pki
bash "$WG_SRC/tools/gen_test_certs.sh" "$PKI" >/dev/null
T_DEV_MODE=1
T_EXTRA_CONF="tls:
  cert: $PKI/chain.crt
  key: $PKI/server.key
ws:
  upgrade_timeout_ms: 1000
listeners:
  - { port: 443, proto: ws }
  - { port: 4443, proto: raw }
  - { port: 7443, proto: framed }
  - { port: 8080, proto: ws, tls: false }
  - { port: 7000, proto: framed, tls: false }"
start_dataplane

streams() { wgctl query /wg/streams; }
sfield() { streams | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
sfield_ge() { [ "$(sfield "$1")" -ge "$2" ]; }
sfield_eq() { [ "$(sfield "$1")" -eq "$2" ]; }

# --- openssl s_client: data, KeyUpdate both ways ('k' ours, 'K' asks the
# server for one too), close_notify on EOF
log "openssl s_client -tls1_3"
{
	echo "hello-from-openssl-1"; sleep 0.5
	echo k; sleep 0.5
	echo "after-client-keyupdate-2"; sleep 0.5
	echo K; sleep 0.5
	echo "after-requested-keyupdate-3"; sleep 1
} | in_ns timeout 30 openssl s_client -tls1_3 -connect "$T_DP_IP:4443" -CAfile "$PKI/ca.crt" \
	-verify_return_error -servername warpgate.test > "$T_DIR/s_client.out" 2>&1 ||
	fail "s_client failed: $(tail -5 "$T_DIR/s_client.out")"
for l in hello-from-openssl-1 after-client-keyupdate-2 after-requested-keyupdate-3; do
	# once as typed (local echo is off: what shows is the server's echo)
	grep -qx "$l" "$T_DIR/s_client.out" || fail "s_client: echo of '$l' missing"
done
grep -q "Verify return code: 0 (ok)" "$T_DIR/s_client.out" || fail "s_client: certificate not verified"
grep -q "TLSv1.3" "$T_DIR/s_client.out" || fail "s_client: not TLS 1.3"
[ "$(sfield key_update_rx)" -ge 2 ] || fail "KeyUpdates from s_client not seen: $(streams)"
[ "$(sfield key_update_tx)" -ge 1 ] || fail "no KeyUpdate of ours for 'K': $(streams)"
wait_for 10 "close_notify from s_client" sfield_ge close_notify_rx 1

# --- gnutls-cli: data, rekey (ours) and rekey1 (asks the server), EOF
log "gnutls-cli"
{
	echo "hello-from-gnutls-1"; sleep 0.5
	echo "^rekey^"; sleep 0.5
	echo "after-gnutls-rekey-2"; sleep 0.5
	echo "^rekey1^"; sleep 0.5
	echo "after-gnutls-rekey1-3"; sleep 1
} | in_ns timeout 30 gnutls-cli --x509cafile "$PKI/ca.crt" --inline-commands -p 4443 \
	--priority "NORMAL:-VERS-ALL:+VERS-TLS1.3" "$T_DP_IP" > "$T_DIR/gnutls.out" 2>&1 ||
	fail "gnutls-cli failed: $(tail -5 "$T_DIR/gnutls.out")"
for l in hello-from-gnutls-1 after-gnutls-rekey-2 after-gnutls-rekey1-3; do
	grep -qx "$l" "$T_DIR/gnutls.out" || fail "gnutls-cli: echo of '$l' missing"
done
grep -q "TLS1.3" "$T_DIR/gnutls.out" || fail "gnutls-cli: not TLS 1.3"
wait_for 10 "close_notify from gnutls-cli" sfield_ge close_notify_rx 2

# --- python3-websockets over wss: 10,000 messages, 0..64 KiB
log "python3-websockets wss: 4 connections x 2500 messages, fragmented sends, pings"
in_ns timeout 300 $PY "$WG_SRC/tests/integration/wss_client.py" "wss://$T_DP_IP/" \
	--ca "$PKI/ca.crt" --count 2500 --conns 4 --fragment > "$T_DIR/wss.out" 2>&1 ||
	fail "wss client: $(cat "$T_DIR/wss.out")"
log "wss: $(tail -1 "$T_DIR/wss.out")"

log "python3-websockets ws:// (dev mode)"
in_ns timeout 300 $PY "$WG_SRC/tests/integration/wss_client.py" "ws://$T_DP_IP:8080/" \
	--count 2000 --conns 2 > "$T_DIR/ws.out" 2>&1 || fail "ws client: $(cat "$T_DIR/ws.out")"
log "ws: $(tail -1 "$T_DIR/ws.out")"

# --- framed TCP, plain and over TLS
log "framed TCP"
in_ns timeout 120 $PY "$WG_SRC/tests/integration/framed_client.py" "$T_DP_IP" 7000 \
	--count 3000 > "$T_DIR/framed.out" 2>&1 || fail "framed: $(cat "$T_DIR/framed.out")"
in_ns timeout 120 $PY "$WG_SRC/tests/integration/framed_client.py" "$T_DP_IP" 7443 \
	--tls "$PKI/ca.crt" --count 3000 > "$T_DIR/framed_tls.out" 2>&1 ||
	fail "framed over TLS: $(cat "$T_DIR/framed_tls.out")"
log "framed: $(tail -1 "$T_DIR/framed.out"); over TLS: $(tail -1 "$T_DIR/framed_tls.out")"

# --- headless Chromium: wss:// with the test CA in its NSS database
log "headless chromium: 10,000 messages over wss"
in_ns timeout 400 $PY "$WG_SRC/tests/integration/browser_ws.py" "wss://$T_DP_IP/" \
	--ca "$PKI/ca.crt" --count 10000 > "$T_DIR/chromium.out" 2>&1 ||
	fail "chromium: $(tail -3 "$T_DIR/chromium.out")"
log "chromium: $(tail -1 "$T_DIR/chromium.out")"

# --- bad input on one connection: closed with the right error, while a
# good client on another connection runs undisturbed
log "bad input while a good client runs"
in_ns $PY "$WG_SRC/tests/integration/wss_client.py" "wss://$T_DP_IP/" --ca "$PKI/ca.crt" \
	--count 3000 --seed 9 > "$T_DIR/good.out" 2>&1 &
GOOD=$!
in_ns timeout 120 $PY "$WG_SRC/tests/integration/bad_peers.py" "$T_DP_IP" --ca "$PKI/ca.crt" \
	> "$T_DIR/bad.out" 2>&1 || fail "bad peers: $(cat "$T_DIR/bad.out")"
wait $GOOD || fail "good client disturbed: $(cat "$T_DIR/good.out")"
log "bad peers: $(tail -1 "$T_DIR/bad.out")"

# a peer that never reads and then dribbles one-byte segments must not pin
# an mbuf per segment (its held bytes are coalesced): the packet pool stays
# far from dry (32767 mbufs here)
log "a paused TLS stream fed one-byte segments"
BASE=$(wgctl query /wg/info | python3 -c "import json,sys; print(json.load(sys.stdin)['pkt_mbufs_in_use'])")
ip netns exec "$T_NS" $PY "$WG_SRC/tests/integration/dribble.py" "$T_DP_IP" 4443 \
	"$PKI/ca.crt" 3000 230000 > "$T_DIR/dribble.out" 2>&1 &
DRIB=$!
wait_for 60 "dribbler done" grep -q dribbled "$T_DIR/dribble.out"
INUSE=$(wgctl query /wg/info | python3 -c "import json,sys; print(json.load(sys.stdin)['pkt_mbufs_in_use'])")
log "$(cat "$T_DIR/dribble.out"); packet mbufs in use $BASE -> $INUSE"
N=$(grep -o 'dribbled [0-9]*' "$T_DIR/dribble.out" | cut -d' ' -f2)
[ "$N" -ge 1000 ] || fail "the dribbler got only $N one-byte segments in"
[ "$(sfield blocked)" -ge 1 ] || fail "the stream never paused: the test did not test"
[ $((INUSE - BASE)) -lt 600 ] || fail "one paused stream pins $((INUSE - BASE)) mbufs"
kill "$DRIB" 2>/dev/null || true
wait "$DRIB" 2>/dev/null || true

# nothing leaked: every stream closed, no handshake left in the engine
wait_for 20 "all streams closed" sfield_eq active 0
wait_for 20 "no handshake in flight" sfield_eq hs_active 0
log "streams: $(streams)"
kill -0 "$DP_PID" || fail "dataplane died"
log "PASS"
