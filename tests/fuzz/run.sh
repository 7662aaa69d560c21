#!/usr/bin/env bash
# run.sh FUZZER SEED_DIR SECONDS: fuzz over a scratch copy of the seeds so the
# source tree never changes; any crash, leak or sanitizer report fails.
set -euo pipefail
fuzzer=$1 seeds=$2 secs=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
[ -d "$seeds" ] && cp -r "$seeds"/. "$work/corpus/"
# libFuzzer's own failure exit code is 77, which meson reads as "skipped":
# a crash must fail the test
"$fuzzer" -max_total_time="$secs" -timeout=10 -max_len=4096 -rss_limit_mb=2048 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus"
