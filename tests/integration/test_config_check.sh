#!/usr/bin/env bash
# Bad configuration files get a `parsing [file:line]` error and a non-zero
# exit from every binary; a missing dataplane or too few hugepages get a
# message that says what to do.
. "$(dirname "$0")/lib.sh"

"$DP" -c "$WG_SRC/configs/warpgate.yaml" --check | grep -q "is valid" || fail "default config rejected"
"$DP" -c "$T_CONF" --check >/dev/null || fail "test config rejected"

n=0
for f in "$WG_SRC"/configs/test-bad/*.yaml; do
	expect=$(sed -n '1s/^# expect: //p' "$f")
	[ -n "$expect" ] || fail "$f has no '# expect:' line"
	for bin in "$DP" "$CONTROL" "$LOGIC -i 0"; do
		set +e
		out=$($bin -c "$f" --check 2>&1)
		rc=$?
		set -e
		[ $rc -ne 0 ] || fail "$bin accepted $f"
		echo "$out" | grep -qF "parsing [$f:" || fail "$f: no 'parsing [file:line]' in: $out"
		echo "$out" | grep -qF "$expect" || fail "$f: expected '$expect' in: $out"
	done
	n=$((n + 1))
done
[ $n -ge 5 ] || fail "only $n bad configs"
log "$n bad configs rejected by all three binaries with file:line errors"

set +e
out=$("$DP" -c /nonexistent.yaml --check 2>&1); rc=$?
set -e
[ $rc -ne 0 ] && echo "$out" | grep -q "nonexistent.yaml" || fail "missing file: $out"

# more memory than the machine's free hugepages: told how to fix it
sed -i 's/memory_mb: 512/memory_mb: 900000/' "$T_CONF"
set +e
out=$("$DP" -c "$T_CONF" 2>&1); rc=$?
set -e
[ $rc -ne 0 ] && echo "$out" | grep -q "warpgate hugepages" || fail "hugepage shortage: $out"
sed -i 's/memory_mb: 900000/memory_mb: 512/' "$T_CONF"

# secondaries without a dataplane: a clear error, not a hang
set +e
out=$(timeout 60 "$LOGIC" -c "$T_CONF" -i 0 2>&1); rc=$?
set -e
[ $rc -eq 1 ] && echo "$out" | grep -q "is warpgate-dataplane running" || fail "no dataplane (rc $rc): $out"
log "PASS"
