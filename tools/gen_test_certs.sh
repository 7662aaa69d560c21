#!/usr/bin/env bash
# gen_test_certs.sh DIR [ec|rsa]
#
# A throw-away test PKI for the demo and the tests: a CA, and a server
# certificate it signed for the addresses and names warpgate answers on.
#   DIR/ca.crt  ca.key         the CA (give ca.crt to clients / Chromium)
#   DIR/server.crt server.key  leaf certificate and its key
#   DIR/chain.crt              leaf then CA (what tls.cert points at)
# Keys are ECDSA P-256 by default (cheapest signature per handshake), or
# RSA 2048. Never use these outside tests: the CA key sits beside its cert.
set -euo pipefail

usage() { echo "usage: $0 DIR [ec|rsa]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
dir=$1 kind=${2:-ec}
command -v openssl >/dev/null || { echo "$0: needs the openssl CLI" >&2; exit 1; }

case $kind in
ec)  keyalg=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
rsa) keyalg=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048) ;;
*)   usage ;;
esac

mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

newkey() { openssl genpkey "${keyalg[@]}" -out "$1" 2>/dev/null; chmod 600 "$1"; }

newkey "$dir/ca.key"
openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 \
	-subj "/O=warpgate test/CN=warpgate test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" \
	-addext "subjectKeyIdentifier=hash" \
	-out "$dir/ca.crt"

newkey "$dir/server.key"
openssl req -new -key "$dir/server.key" -subj "/O=warpgate test/CN=warpgate.test" \
	-out "$tmp/server.csr"
cat >"$tmp/ext.cnf" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = IP:198.18.0.2, IP:198.18.7.2, DNS:localhost, DNS:warpgate.test
EOF
# 397 days: within what browsers accept for a server certificate
openssl x509 -req -in "$tmp/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
	-CAcreateserial -CAserial "$tmp/ca.srl" -sha256 -days 397 \
	-extfile "$tmp/ext.cnf" -out "$dir/server.crt" 2>/dev/null
cat "$dir/server.crt" "$dir/ca.crt" >"$dir/chain.crt"

openssl verify -CAfile "$dir/ca.crt" "$dir/server.crt" >/dev/null
echo "$dir: ca.crt ca.key server.crt server.key chain.crt ($kind)"
