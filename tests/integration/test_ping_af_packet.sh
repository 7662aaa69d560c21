#!/usr/bin/env bash
# The ping test again over another PMD: net_af_packet on a veth pair.
export T_PMD=af_packet
exec "$(dirname "$0")/test_ping.sh"
