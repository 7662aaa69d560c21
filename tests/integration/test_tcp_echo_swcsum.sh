#!/usr/bin/env bash
# The echo test again with checksum offload off: every IPv4 and TCP checksum
# computed and verified in software (net_tap offers offload, so the default
# run covers the offload path).
export T_CSUM_OFFLOAD=false WG_TCP_TEST_MB=${WG_TCP_TEST_MB:-5}
exec "$(dirname "$0")/test_tcp_echo.sh"
