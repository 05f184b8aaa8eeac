#!/usr/bin/env bash
# bench_live.sh: live frames through the testbed: SIP messages per second through siplb
# (counted at the backends) against plain XDP_DROP on the same link, and siplb's CPU.
#
# Usage: scripts/bench_live.sh   (root; BUILD=dir, default build; make all first)
# Appends its figures to $BUILD/bench.json (replacing earlier live_* entries) and
# prints them as a table. Bounded: about a minute; everything is torn down on exit.
#
# Knobs (environment): LIVE_SECONDS per run (3), LIVE_ROUNDS (3: drop and siplb
# interleaved, medians reported), LIVE_TEMPLATE (mix: INVITE, 200 OK, BYE in turn),
# LIVE_CALLIDS (100000 distinct Call-IDs), LIVE_CPUS (generator threads, one per
# CPU: 0,1), LIVE_WIRE (xdp: bridge ports forward with XDP redirects; bridge:
# the kernel bridge, ~1 us of shared CPU per frame and hop).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
SECONDS_RUN=${LIVE_SECONDS:-3}
ROUNDS=${LIVE_ROUNDS:-3}
TEMPLATE=${LIVE_TEMPLATE:-mix}
CALLIDS=${LIVE_CALLIDS:-100000}
CPUS=${LIVE_CPUS:-0,1}
WIRE=${LIVE_WIRE:-xdp}
THREADS=$(awk -F, '{print NF}' <<<"$CPUS")
JSON=$BUILD/bench.json

if [ "$(id -u)" -ne 0 ]; then
	echo "bench_live: needs root (namespaces, XDP)" >&2
	exit 1
fi
if ! [[ $SECONDS_RUN =~ ^[0-9]+$ ]] || [ "$SECONDS_RUN" -lt 1 ] || [ "$SECONDS_RUN" -gt 20 ]; then
	echo "bench_live: LIVE_SECONDS must be 1..20" >&2
	exit 2
fi
if ! [[ $ROUNDS =~ ^[0-9]+$ ]] || [ "$ROUNDS" -lt 1 ] || [ "$ROUNDS" -gt 5 ]; then
	echo "bench_live: LIVE_ROUNDS must be 1..5" >&2
	exit 2
fi
for f in siplbd siplbctl siplb-decap tools/xdpgen tools/sipresp tools/tbnet; do
	[ -x "$BUILD/$f" ] || { echo "bench_live: $BUILD/$f missing: make all" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench_live: jq missing" >&2; exit 1; }

# shellcheck source=scripts/testbed.sh
source scripts/testbed.sh

BPFFS=
SIPLBD=
MAIN_PID=$BASHPID
cleanup() {
	local rc=$?
	[ "$BASHPID" = "$MAIN_PID" ] || exit "$rc"	# a $(...) subshell exiting
	trap - EXIT INT TERM
	[ "$rc" = 0 ] || { echo "bench_live: failed (status $rc); logs:" >&2; tb_logs >&2 || true; }
	tb_down
	tb_bpffs_free "$BPFFS"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

say() { echo "bench_live: $*" >&2; }
die() { say "$*"; exit 1; }

tb_up 3 2>/dev/null || die "testbed did not come up"
B=$TB_BUILD
BPFFS=$(tb_bpffs_new)
LBMAC=$(tb_mac lb)

# --- the wire: cl1 -> sw -> lb -> sw -> be1..3
tb_neigh_pin lb be1 be2 be3
if [ "$WIRE" = xdp ]; then
	# Redirected frames lose "checksum to be filled in": lb's health checks and
	# the backends' answers must carry their UDP checksums from the start.
	for n in lb be1 be2 be3; do
		tb_exec "$n" "$B/tools/tbnet" txcsum eth0 off
	done
	tb_exec sw "$B/tools/xdpgen" switch cl1 "lb=$LBMAC" "be1=$(tb_mac be1),sink" \
		"be2=$(tb_mac be2),sink" "be3=$(tb_mac be3),sink" || die "xdpgen switch failed"
else
	tb_exec sw "$B/tools/tbnet" xdp-pass cl1
	for n in lb be1 be2 be3; do
		tb_exec sw bridge fdb replace "$(tb_mac "$n")" dev "$n" master static
	done
fi

# Backends: answer siplbd's OPTIONS on their own addresses. Nothing listens on
# the VIP: the decapsulated flood ends in the backend's UDP layer (no socket).
for i in 1 2 3; do
	tb_bg "be$i" "sipresp-be$i.log" "$B/tools/sipresp" --bind "${TB_BE4[$i]}:5060" --name "be$i"
done

CFG=$TB_STATE/siplb.yaml
SOCK=$TB_STATE/ctl.sock
cat >"$CFG" <<EOF
instance: bl$$
interfaces:
  - name: eth0
hash_key: 00112233445566778899aabbccddeeff
affinity: {capacity: 1048576, idle_timeout: 600}
health: {interval_ms: 250, timeout_ms: 200, fall: 20, rise: 1}
control: $SOCK
src4: $TB_LB4
vips:
  - name: v4
    address: $TB_VIP4
    mode: ipip
    backends:
      - {address: ${TB_BE4[1]}, name: be1}
      - {address: ${TB_BE4[2]}, name: be2}
      - {address: ${TB_BE4[3]}, name: be3}
EOF

ctl() { tb_exec lb "$B/siplbctl" -s "$SOCK" "$@"; }
all_up() {
	[ "$(ctl --json backends 2>/dev/null |
		jq '[.backends[] | select(.state == "up" and .health.probed)] | length')" = 3 ]
}
siplb_start() {
	local i
	tb_bg lb siplbd.log "$B/siplbd" -c "$CFG" --pin-root "$BPFFS"
	SIPLBD=$TB_PID
	for ((i = 0; i < 100; i++)); do
		all_up && return 0
		sleep 0.1
	done
	say "siplbd log:"
	tail -n 20 "$TB_STATE/siplbd.log" >&2 || true
	die "siplbd: backends not up after 10 s: $(ctl backends 2>&1)"
}
siplb_stop() {
	tb_stop "$SIPLBD"
	tb_exec lb "$B/siplbd" --detach -c "$CFG" --pin-root "$BPFFS" >>"$TB_STATE/siplbd.log" 2>&1 ||
		die "siplbd --detach failed: $(tail -n 5 "$TB_STATE/siplbd.log")"
	SIPLBD=
}

decap_sum() {
	local i s=0 v
	for i in 1 2 3; do
		v=$(tb_exec "be$i" "$B/siplb-decap" stats eth0 | awk '$1 == "decapsulated" {print $2}')
		s=$((s + ${v:-0}))
	done
	echo "$s"
}
sink_count() { tb_exec lb "$B/tools/xdpgen" sink stats eth0 | awk '{print $2}'; }
wire_count() { tb_exec sw "$B/tools/xdpgen" switch-sink stats lb | awk '{print $2}'; }
wire_sink() { tb_exec sw "$B/tools/xdpgen" switch-sink "$1" lb; }
# "run_cnt run_time_ns" of the XDP program on lb's eth0
prog_stats() { tb_exec lb "$B/tools/xdpgen" progstats eth0 | awk '{print $6, $8}'; }
# softirq and system ticks of all CPUs (USER_HZ)
cpu_ticks() { awk '$1 == "cpu" {print $8, $4}' /proc/stat; }
HZ=$(getconf CLK_TCK)

# gen [--bpf-stats]: one generator run; prints its JSON
gen() {
	tb_exec cl1 "$B/tools/xdpgen" send --iface eth0 --dst-mac "$LBMAC" --dst "$TB_VIP4" \
		--template "$TEMPLATE" --callids "$CALLIDS" --seconds "$SECONDS_RUN" \
		--threads "$THREADS" --cpus "$CPUS" --json "$@"
}

# received KIND: frames counted so far where KIND's runs end: drop: lb's sink;
# siplb: the backends' decapsulators; wire: the switch (lb's frames to the backends)
received() {
	case $1 in
	drop) sink_count ;;
	siplb) decap_sum ;;
	wire) wire_count ;;
	esac
}

# measure KIND [--bpf-stats]: one run; prints "offered_pps received_pps softirq_cores
# sys_cores prog_cnt prog_ns"
measure() {
	local kind=$1 before after c0 c1 p0 p1 out
	shift
	before=$(received "$kind")
	read -r -a c0 < <(cpu_ticks)
	read -r -a p0 < <(prog_stats)
	out=$(gen "$@") || die "xdpgen failed: $out"
	sleep 0.3	# let the rings drain
	read -r -a c1 < <(cpu_ticks)
	read -r -a p1 < <(prog_stats)
	after=$(received "$kind")
	jq -r --argjson rx "$((after - before))" --argjson si "$((c1[0] - c0[0]))" \
		--argjson sy "$((c1[1] - c0[1]))" --argjson hz "$HZ" \
		--argjson pc "$((p1[0] - p0[0]))" --argjson pt "$((p1[1] - p0[1]))" '
		[.pps, $rx / .seconds, $si / $hz / .seconds, $sy / $hz / .seconds, $pc,
		 (if $pc > 0 then $pt / $pc else 0 end)] | map(tostring) | join(" ")' <<<"$out" ||
		die "$kind: cannot read the generator's result: '$out' (received $before..$after," \
			"cpu ${c0[*]}..${c1[*]}, prog ${p0[*]}..${p1[*]})"
}

say "testbed up ($WIRE wire); $ROUNDS rounds of $SECONDS_RUN s, template $TEMPLATE," \
	"$CALLIDS Call-IDs, generator on CPUs $CPUS"
if [ "$WIRE" != xdp ]; then
	wire_sink() { :; }
	wire_count() { echo 0; }
fi
DROP=() SIPLB=() WIREC=()
for ((r = 1; r <= ROUNDS; r++)); do
	tb_exec lb "$B/tools/xdpgen" sink attach eth0 || die "sink attach failed"
	DROP+=("$(measure drop)")
	tb_exec lb "$B/tools/xdpgen" sink detach eth0 >/dev/null
	siplb_start
	SIPLB+=("$(measure siplb)")
	all_up || die "a backend went down during the run: $(ctl backends 2>&1)"
	if [ "$WIRE" = xdp ]; then
		wire_sink on
		WIREC+=("$(measure wire)")
		wire_sink off
	fi
	[ "$r" = "$ROUNDS" ] || siplb_stop
	say "round $r: drop [${DROP[-1]}] siplb [${SIPLB[-1]}] wire [${WIREC[-1]:-}]"
done
# one more run of each with BPF run-time statistics on: the programs' own CPU
SIPLB_STATS=$(measure siplb --bpf-stats)
tb_exec lb "$B/siplbctl" -s "$SOCK" stats >"$TB_STATE/siplb-stats.txt" 2>&1 || true
siplb_stop
tb_exec lb "$B/tools/xdpgen" sink attach eth0
DROP_STATS=$(measure drop --bpf-stats)
tb_exec lb "$B/tools/xdpgen" sink detach eth0 >/dev/null
say "with BPF statistics: drop [$DROP_STATS] siplb [$SIPLB_STATS]"
say "siplb's drops and slow path over its last run: $(sed -n '/^Drops/,/^Events/p' \
	"$TB_STATE/siplb-stats.txt" | grep -v '^Events' | tr -s ' \n' ' ')"

# --- figures (medians over rounds), appended to bench.json
ROWS=$(
	{
		printf 'drop %s\n' "${DROP[@]}"
		printf 'siplb %s\n' "${SIPLB[@]}"
		[ "${#WIREC[@]}" = 0 ] || printf 'wire %s\n' "${WIREC[@]}"
		echo "drop_stats $DROP_STATS"
		echo "siplb_stats $SIPLB_STATS"
	} | jq -R -s '
	def med: sort | if length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def col($k; $i): [.[] | select(.[0] == $k) | .[$i] | tonumber] | med;
	def row($n; $v; $u; $b): {name: $n, value: $v, unit: $u, baseline: $b,
		ratio: (if $b != 0 then $v / $b else null end)};
	split("\n") | map(select(length > 0) | split(" ")) |
	(col("drop"; 1)) as $offer_d | (col("drop"; 2)) as $drop |
	(col("siplb"; 1)) as $offer_s | (col("siplb"; 2)) as $siplb |
	(col("wire"; 2)) as $wire |
	(col("drop"; 3)) as $si_d | (col("siplb"; 3)) as $si_s |
	(col("siplb_stats"; 6)) as $ns_s | (col("drop_stats"; 6)) as $ns_d |
	[row("live_gen_offered_mpps"; $offer_s / 1e6; "Mpps"; $offer_d / 1e6),
	 row("live_xdp_drop_mpps"; $drop / 1e6; "Mpps"; $offer_d / 1e6),
	 row("live_siplb_mpps"; $siplb / 1e6; "Mpps"; $drop / 1e6),
	 (if $wire then row("live_siplb_wire_mpps"; $wire / 1e6; "Mpps"; $drop / 1e6)
	  else empty end),
	 row("live_siplb_prog_ns"; $ns_s; "ns/message"; $ns_d),
	 row("live_siplb_msgs_per_core_s"; 1e9 / $ns_s; "msgs/s/core"; 1e9 / $ns_d),
	 row("live_siplb_softirq_cores"; $si_s; "cores"; $si_d),
	 row("live_siplb_msgs_per_softirq_core_s"; $siplb / $si_s; "msgs/s/core";
	     $drop / $si_d)]'
)
OLD='[]'
[ -s "$JSON" ] && OLD=$(cat "$JSON")
jq --argjson new "$ROWS" '[.[] | select(.name | startswith("live_") | not)] + $new' \
	<<<"$OLD" >"$JSON.tmp" && mv "$JSON.tmp" "$JSON"

printf '%-36s %12s %-12s %12s %8s\n' name value unit baseline ratio
jq -r '.[] | [.name, .value, .unit, .baseline, .ratio] | @tsv' <<<"$ROWS" |
	while IFS=$'\t' read -r n v u b x; do
		printf '%-36s %12.2f %-12s %12.2f %8.3f\n' "$n" "$v" "$u" "$b" "$x"
	done
say "appended to $JSON"
