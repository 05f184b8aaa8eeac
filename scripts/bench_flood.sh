#!/usr/bin/env bash
# bench_flood.sh: make bench's flood figures: tests/e2e/test_flood.sh (live-frames flood of
# spoofed scanner INVITEs and garbage while sipp places calls through Kamailio) run once,
# shorter, with BPF run-time statistics on. Figures: the flood rate offered and dropped,
# siplb's CPU per flood packet and what that makes per core, the legitimate calls' success.
#
# Usage: scripts/bench_flood.sh   (root; BUILD=dir, default build; make all first)
# Appends flood_* entries to $BUILD/bench.json (replacing earlier ones) and prints them.
# Bounded: about 40 s. Knobs: FLOOD_CALLS (300), FLOOD_RATE (50/s).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
JSON=$BUILD/bench.json
OUT=$(mktemp /tmp/siplb-flood.XXXXXX.json)
trap 'rm -f "$OUT"' EXIT

if [ "$(id -u)" -ne 0 ]; then
	echo "bench_flood: needs root (namespaces, XDP)" >&2
	exit 1
fi
if ! command -v kamailio >/dev/null || ! command -v sipp >/dev/null; then
	echo "bench_flood: Kamailio or sipp missing: skipped" >&2
	exit 0
fi
E2E_FLOOD_CALLS=${FLOOD_CALLS:-300} E2E_FLOOD_RATE=${FLOOD_RATE:-50} E2E_FLOOD_MIN_PCT=0 \
	FLOOD_BENCH=$OUT timeout -k 20 180 bash tests/e2e/test_flood.sh >&2 ||
	{ echo "bench_flood: the flood run failed" >&2; exit 1; }

# baseline of the per-core figure: the no-op program of the same make bench run, if there
NOOP_NS=$(jq -r '[.[] | select(.name == "xdp_baseline_swap_tx_ns") | .value][0] // 0' \
	"$JSON" 2>/dev/null || echo 0)
ROWS=$(jq --argjson noop "${NOOP_NS:-0}" '
	def row($n; $v; $u; $b): {name: $n, value: $v, unit: $u, baseline: $b,
		ratio: (if $b != 0 then $v / $b else null end)};
	[row("flood_offered_mpps"; .offered_pps / 1e6; "Mpps"; .offered_pps / 1e6),
	 row("flood_dropped_mpps"; .dropped / .seconds / 1e6; "Mpps"; .offered_pps / 1e6),
	 row("flood_prog_ns"; .prog_ns; "ns/packet"; $noop),
	 row("flood_dropped_mpps_per_core"; (if .prog_ns > 0 then 1e3 / .prog_ns else 0 end);
	     "Mpps/core"; (if $noop > 0 then 1e3 / $noop else 0 end)),
	 row("flood_legit_call_success_pct"; .success_pct; "%"; 100)]' "$OUT")
OLD='[]'
[ -s "$JSON" ] && OLD=$(cat "$JSON")
jq --argjson new "$ROWS" '[.[] | select(.name | startswith("flood_") | not)] + $new' \
	<<<"$OLD" >"$JSON.tmp" && mv "$JSON.tmp" "$JSON"

printf '%-36s %12s %-12s %12s %8s\n' name value unit baseline ratio
jq -r '.[] | [.name, .value, .unit, .baseline, (.ratio // 0)] | @tsv' <<<"$ROWS" |
	while IFS=$'\t' read -r n v u b x; do
		printf '%-36s %12.2f %-12s %12.2f %8.3f\n' "$n" "$v" "$u" "$b" "$x"
	done
echo "bench_flood: appended to $JSON" >&2
