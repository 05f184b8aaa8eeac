#!/usr/bin/env bash
# make bench: every figure beside a baseline measured in the same run; writes $BUILD/bench.json (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: BPF_PROG_TEST_RUN needs root" >&2
	exit 1
fi
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
# one core for the measurements, so both cases see the same CPU
taskset -c 1 "${BUILD:-build}/bench_xdp"
echo "wrote ${BUILD:-build}/bench.json"
# live frames through the testbed (about a minute): BENCH_LIVE=0 skips it
if [ "${BENCH_LIVE:-1}" != 0 ]; then
	scripts/bench_live.sh
fi
# SIP over TLS through siplbd against plain TCP (about a minute): BENCH_STREAMS=0 skips it
if [ "${BENCH_STREAMS:-1}" != 0 ]; then
	scripts/bench_streams.sh
fi
# a flood through the testbed while sipp places calls (about 40 s): BENCH_FLOOD=0 skips it
if [ "${BENCH_FLOOD:-1}" != 0 ]; then
	scripts/bench_flood.sh
fi
