#!/usr/bin/env bash
# demo.sh: siplb live, in about twenty seconds (`make demo`, as root).
#
# On the namespace testbed (scripts/testbed.sh, scripts/sipbed.sh): a sipp caller,
# siplbd with its XDP program in front of three Kamailio record-routing proxies,
# and a sipp callee. It runs
#   1. the topology,
#   2. siplbd attached and the three backends probed up (SIP OPTIONS),
#   3. a warm-up load (DEMO_WARM calls at DEMO_RATE/s: INVITE, 180, 200, ACK, a
#      re-INVITE in half of them, BYE from either side),
#   4. a second load (DEMO_CALLS at DEMO_RATE/s) during which be2 is drained and
#      be3's Kamailio is killed (SIGKILL, every process of it),
#   5. a summary from sipp's counts, the Kamailio logs (which backend saw every
#      message of every dialog), siplbd's log and `siplbctl stats`,
# and takes everything down again. It exits 0 only if the verdict holds: no dialog
# split across backends, nothing new on the draining backend, every failed call
# explained by the kill, no failure among the calls started after the down mark.
#
# Knobs: BUILD (build dir, default build), DEMO_WARM (300), DEMO_CALLS (800),
# DEMO_RATE (100 calls/s), SB_HOLD_MS (100: how long a call is held),
# DEMO_KEEP=1 keeps the logs (the state dir is printed at the end).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
# shellcheck source=testbed.sh
source scripts/testbed.sh
# shellcheck source=sipbed.sh
source scripts/sipbed.sh

WARM=${DEMO_WARM:-300}
CALLS=${DEMO_CALLS:-800}
RATE=${DEMO_RATE:-100}
export SB_HOLD_MS=${SB_HOLD_MS:-100}
DRAIN_AT=2000		# ms into the second load: drain be2
KILL_AFTER=1500		# ms after the drain: kill be3 (the load must last well beyond: 8 s by default)
[ "${DEMO_KEEP:-0}" = 1 ] && export TB_KEEP=1

# --- output: every line stamped with the seconds since the start
now_us() { local t=${EPOCHREALTIME//[!0-9]/}; echo "$((10#$t))"; }
T0=$(now_us)
stamp() { # stamp [US]: "[ 12.3s]"
	local d=$((${1:-$(now_us)} - T0))
	printf '[%3d.%ds]' "$((d / 1000000))" "$((d % 1000000 / 100000))"
}
say() { echo "$(stamp) $*"; }
more() { echo "         $*"; }
indent() { sed 's/^/         /'; }
ERRLOG=$(mktemp /tmp/siplb-demo.XXXXXX)

die() {
	echo "$(stamp) demo FAILED: $*" >&2
	if [ -s "$ERRLOG" ]; then tail -n 20 "$ERRLOG" >&2; fi
	tb_logs 2>/dev/null | tail -n 60 >&2 || true
	echo "(DEMO_KEEP=1 keeps every log in the testbed's state dir)" >&2
	exit 1
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ "${TB_KEEP:-0}" != 1 ] || [ -z "${TB_STATE:-}" ] || echo "demo: logs kept in $TB_STATE" >&2
	sb_down >>"$ERRLOG" 2>&1 || true
	rm -f "$ERRLOG"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (network namespaces, XDP): sudo make demo" >&2; exit 1; }
sb_check 2>>"$ERRLOG" || die "Kamailio or sipp missing: run 'make demo' (it installs them) or scripts/deps.sh"
command -v jq >/dev/null || die "jq missing: run 'make demo' or scripts/deps.sh"
[ -x "$BUILD/siplbd" ] || die "$BUILD/siplbd missing: run 'make demo' (or make BUILD=$BUILD all)"
if [ "$RATE" -le 0 ] || [ $((CALLS * 1000 / RATE)) -lt $((DRAIN_AT + KILL_AFTER + 2000)) ]; then
	die "DEMO_CALLS / DEMO_RATE must keep the second load going 2 s past the kill: $((DRAIN_AT + KILL_AFTER + 2000)) ms"
fi

# --- siplbd's log, as it happens: print new lines about backends and tables
SIPLBD_OFF=0
siplbd_news() {
	local f=$TB_STATE/siplbd.log size
	size=$(stat -c %s "$f" 2>/dev/null) || return 0
	[ "$size" -gt "$SIPLBD_OFF" ] || return 0
	tail -c +"$((SIPLBD_OFF + 1))" "$f" | head -c "$((size - SIPLBD_OFF))" |
		sed -E 's/^<[0-9]>//' | grep -E 'DOWN|UP|drain|Maglev|NO BACKEND' | grep -v 'VIP v6' |
		while IFS= read -r line; do say "  siplbd: $line"; done || true
	SIPLBD_OFF=$size
}
# watch_until US: sleep in steps of 0.1 s until that time, printing siplbd's news
watch_until() {
	while [ "$(now_us)" -lt "$1" ]; do
		sleep 0.1
		siplbd_news
	done
}

# children of PID from /proc (no procps needed): field 2 after the command name is the parent
children_of() {
	local f st ppid
	for f in /proc/[0-9]*/stat; do
		{ read -r st <"$f"; } 2>/dev/null || continue	# gone meanwhile
		read -r _ ppid _ <<<"${st##*) }"
		if [ "$ppid" = "$1" ]; then f=${f#/proc/}; echo "${f%/stat}"; fi
	done
}

echo "siplb demo: siplbd and its XDP program in front of three Kamailio proxies, sipp calls"
echo "through the VIP, one backend drained and one killed under load. About 20 s."
echo

# --- 1. topology
tb_up 3 2>>"$ERRLOG" || die "testbed"
sb_callee_up 2>>"$ERRLOG" || die "callee node"
say "1. Topology: network namespaces ${TB_PREFIX}*, one bridge (sw), 198.18.0.0/24"
node() { printf '         %-8s %-15s %s\n' "$@"; }
node cl1 "$TB_CL4" "caller (sipp UAC); the VIP $TB_VIP4 is routed via lb"
node lb "$TB_LB4" "siplbd: XDP on eth0, VIP $TB_VIP4:5060 -> IPIP to a backend"
node "" "" "(also a VIP $TB_VIP6, unused here: its lines are left out)"
node be1-be3 "${TB_BE4[1]}-${TB_BE4[3]##*.}" "Kamailio record-routing proxies; VIP on lo, IPIP stripped"
node "" "" "by siplb-decap, answers go straight to the caller (DSR)"
node callee "$SB_CALLEE4" "callee (sipp UAS); its replies and BYEs go to the VIP too"

# --- 2. backends, siplbd
sb_kam_start_all proxy 2>>"$ERRLOG" || die "Kamailio backends"
sb_callee_start 4 2>>"$ERRLOG" || die "callee"
# shellcheck disable=SC2119 # no arguments: register_key call-id
sb_siplbd_start 2>>"$ERRLOG" || die "siplbd"
SIPLBD_OFF=$(stat -c %s "$TB_STATE/siplbd.log")
say "2. Kamailio up on be1-be3; siplbd attached; every backend answered its OPTIONS probes"
more "(health checks every $SB_HC_INTERVAL ms, timeout $SB_HC_TIMEOUT ms, down after $SB_HC_FALL misses, up after $SB_HC_RISE answers)"
sb_ctl backends v4 | grep -v '^CHECKS:' | sed '/^$/d' | indent

# --- 3. warm-up
say "3. Warm-up: $WARM calls at $RATE/s (INVITE/180/200/ACK, re-INVITE in half, BYE either side)"
rc=0
sb_sipp_calls warm 4 "$WARM" "$RATE" 2>>"$ERRLOG" || rc=$?
W_TOT=$(sb_sipp_stat warm TotalCallCreated)
W_OK=$(sb_sipp_stat warm 'SuccessfulCall(C)')
W_FAIL=$(sb_sipp_stat warm 'FailedCall(C)')
W_DLG=$(sb_dialogs warm 2>/dev/null) || die "log analysis"
kv() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $2"; }
say "   sipp: $W_TOT calls, $W_OK completed, $W_FAIL failed (exit $rc);" \
	"dialogs: be1=$(kv be1 "$W_DLG") be2=$(kv be2 "$W_DLG") be3=$(kv be3 "$W_DLG")," \
	"split $(kv split "$W_DLG")"

# --- 4. the second load, a drain and a kill
LOAD=fo
SHORT=$TB_STATE/sipp-$LOAD.short
DEBUG=$TB_STATE/sipp-$LOAD.calldebug
say "4. Second load: $CALLS calls at $RATE/s in the background"
sb_sipp_calls "$LOAD" 4 "$CALLS" "$RATE" -trace_shortmsg -shortmessage_file "$SHORT" \
	-trace_calldebug -calldebug_file "$DEBUG" 2>>"$ERRLOG" &
LOAD_PID=$!
watch_until "$(($(now_us) + DRAIN_AT * 1000))"
out=$(sb_ctl drain be2 2>&1) || die "siplbctl drain be2: $out"
T_DRAIN=$(now_us)
say "   siplbctl drain be2: $out (no new dialogs there; its calls stay)"
siplbd_news
# be3's Kamailio: its main process (ours, started by tb_bg) and its workers
KPID=${SB_KAM_PID[3]}
mapfile -t KPIDS < <(echo "$KPID"; children_of "$KPID")
watch_until "$((T_DRAIN + KILL_AFTER * 1000))"

KOFF=()
for i in 1 2 3; do KOFF[i]=$(stat -c %s "$(sb_kam_log "$i")"); done
T_KILL=$(now_us)
disown "$KPID" 2>/dev/null || true	# no "Killed" notice from bash
kill -KILL "${KPIDS[@]}" 2>/dev/null || true
say "   kill -KILL be3's Kamailio (${#KPIDS[@]} processes): be3 stops answering, mid-call"
T_DOWN=
DOWN_MAX=$((SB_HC_FALL * SB_HC_INTERVAL + SB_HC_TIMEOUT))	# ms, by design
deadline=$((T_KILL + (DOWN_MAX + 10000) * 1000))
while [ "$(now_us)" -lt "$deadline" ]; do
	# the answer's "changed ago" counts to when siplbd answered: just before now
	j=$(sb_ctl --json backends v4 2>/dev/null) || j={}
	t=$(now_us)
	read -r state ago reason < <(jq -r '.backends[]? | select(.name == "be3") |
		"\(.state) \(.health.changed_ago_ms // 0) \(.health.reason)"' <<<"$j") || true
	if [ "${state:-}" = down ]; then
		T_DOWN=$((t - ago * 1000))
		DOWN_REASON=$reason
		break
	fi
	siplbd_news
	sleep 0.1
done
siplbd_news
[ -n "$T_DOWN" ] || die "be3 was not marked down within $((DOWN_MAX / 1000 + 10)) s: $(sb_ctl backends v4)"
DOWN_MS=$(((T_DOWN - T_KILL) / 1000))
say "   be3 marked DOWN $DOWN_MS ms after the kill ($DOWN_REASON); its dialogs move to be1"
for ((i = 0; i < 900; i++)); do
	kill -0 "$LOAD_PID" 2>/dev/null || break
	siplbd_news
	sleep 0.1
done
rc=0
wait "$LOAD_PID" || rc=$?
say "   second load finished (sipp exit $rc: 0 = every call completed)"
siplbd_news

# --- 5. summary
F_TOT=$(sb_sipp_stat "$LOAD" TotalCallCreated)
F_OK=$(sb_sipp_stat "$LOAD" 'SuccessfulCall(C)')
F_FAIL=$(sb_sipp_stat "$LOAD" 'FailedCall(C)')

# One line per dialog of the second load (the fields are listed at count() below)
# from sipp's short message trace (when each call sent its first INVITE), sipp's
# call debug file (the calls it aborted) and the Kamailio logs (where each message
# went; a line of be1/be2 after the kill offset of its log counts as "after the kill").
analyse() {
	local files=() offs=() i
	for i in 1 2 3; do files+=("$(sb_kam_log "$i")"); offs+=("${KOFF[i]}"); done
	awk -v load="$LOAD" -v offs="${offs[*]}" -v tkill="$T_KILL" -v tdown="$T_DOWN" \
		-v tdrain="$T_DRAIN" -v short="$SHORT" -v dbg="$DEBUG" '
	BEGIN {
		split(offs, off, " ")
		re = load "-[0-9]+-[0-9]+@[0-9.]+"
		# first INVITE sent by the caller: the start of the call
		# date, time, epoch, S|R, Call-ID, CSeq, start line (tabs)
		while ((getline l < short) > 0) {
			if (split(l, fld, "\t") < 6 || fld[4] != "S" || fld[6] != "CSeq:1 INVITE") continue
			if (fld[5] in start) { inv[fld[5]]++; continue }
			t = fld[3]; sub(/\./, "", t); start[fld[5]] = t + 0; inv[fld[5]] = 1
		}
		while ((getline l < dbg) > 0)
			if (match(l, re)) failed[substr(l, RSTART, RLENGTH)] = 1
	}
	FNR == 1 { f++; pos = 0 }
	{ pos += length($0) + 1 }
	/ SIPLB be=/ {
		if (!match($0, " ci=" re)) next
		ci = substr($0, RSTART + 4, RLENGTH - 4)
		be = "be" f
		if (!(ci in seen)) { seen[ci] = 1; order[++n] = ci }
		if (!((ci, be) in on)) { on[ci, be] = 1; bes[ci] = bes[ci] "," be }
		if (f != 3 && pos <= off[f]) early[ci, be] = 1
		if (be == "be3" && $0 ~ /t=rpl m=BYE s=200/) be3done[ci] = 1
		if ($0 ~ / t=req m=INVITE cs=1 /) logged[ci]++
	}
	END {
		for (ci in start) if (!(ci in seen)) { seen[ci] = 1; order[++n] = ci; bes[ci] = ",-" }
		for (j = 1; j <= n; j++) {
			ci = order[j]; b = substr(bes[ci], 2); k = split(b, arr, ",")
			t = (ci in start) ? start[ci] : 0
			home = arr[1]; moved = 0; split_ = 0
			if (k > 1) {
				# moved by the failover: began on be3 before the kill, unfinished
				# there, and seen elsewhere only after the kill
				home = "be3"
				if (!((ci, "be3") in on) || (ci in be3done)) split_ = 1
				for (x = 1; x <= k; x++)
					if (arr[x] != "be3" && (ci, arr[x]) in early) split_ = 1
				if (split_) home = arr[1]; else moved = 1
			}
			prog = (((ci, "be3") in on) && !(ci in be3done) && t < tkill) ? 1 : 0
			phase = (t < tdrain) ? 0 : (t < tkill) ? 1 : (t < tdown) ? 2 : 3
			printf "%s %.0f %d %s %s %d %d %d %d %d\n", ci, t, phase, home, b, moved, split_, prog,
				(ci in failed) ? 1 : 0, inv[ci] - logged[ci]
		}
	}' "${files[@]}"
}
analyse >"$TB_STATE/dialogs-$LOAD.txt" || die "log analysis"
A=$TB_STATE/dialogs-$LOAD.txt
# count AWK-CONDITION over the analysis: $3 phase (0 before the drain, 1 before the kill,
# 2 before the down mark, 3 after), $4 home backend, $5 backends, $6 moved, $7 split,
# $8 in progress on be3 at the kill, $9 failed, $10 initial INVITEs (retransmissions
# included) sent by sipp but seen by no live backend
count() { awk "$1 { n++ } END { print n + 0 }" "$A"; }
# shellcheck disable=SC2016 # awk's fields
{
	NDLG=$(count 1)
	SPLIT=$(count '$7')
	INPROG=$(count '$8')
	MOVED=$(count '$6')
	INPROG_FAIL=$(count '$8 && $9')
	WIN=$(count '$3 == 2')
	WIN_FAIL=$(count '$3 == 2 && $9')
	WIN_LOST=$(count '$3 == 2 && $10 > 0')
	WIN_LOST_FAIL=$(count '$3 == 2 && $10 > 0 && $9')
	AFTER=$(count '$3 == 3')
	AFTER_FAIL=$(count '$3 == 3 && $9')
	AFTER_BE3=$(count '$3 == 3 && $5 ~ /be3/')
	NEW_BE2=$(count '$3 >= 1 && $5 ~ /be2/')
	OTHER_FAIL=$(count '$9 && !$8 && $3 != 2')
}
W_SPLIT=$(kv split "$W_DLG")

say "5. Summary"
printf '   %-34s %9s %9s %6s\n' "calls (sipp, caller side)" attempted completed failed
printf '   %-34s %9s %9s %6s\n' "warm-up ($WARM at $RATE/s)" "$W_TOT" "$W_OK" "$W_FAIL"
printf '   %-34s %9s %9s %6s\n' "drain + kill ($CALLS at $RATE/s)" "$F_TOT" "$F_OK" "$F_FAIL"
echo "   dialogs per backend (Kamailio logs), second load by when the call started:"
printf '   %-8s %12s %12s %12s %12s %7s %8s\n' "" "before drain" "drain..kill" "kill..down" "after down" total warm-up
for b in be1 be2 be3; do
	printf '   %-8s' "$b"
	for p in 0 1 2 3; do printf ' %12s' "$(count "\$4 == \"$b\" && \$3 == $p")"; done
	printf ' %7s %8s\n' "$(count "\$4 == \"$b\"")" "$(kv "$b" "$W_DLG")"
done
echo "   dialogs split across backends: $SPLIT of $NDLG (warm-up: $W_SPLIT of $(kv dialogs "$W_DLG"))"
echo "   drain: new dialogs on be2 after 'siplbctl drain be2': $NEW_BE2; its earlier calls stayed there"
echo "   kill: $INPROG calls were in progress on be3 when it was killed: $((INPROG - INPROG_FAIL)) completed, $INPROG_FAIL failed"
echo "     ($MOVED of them continued on be1 once siplb had marked be3 down)."
if [ "$INPROG_FAIL" = 0 ]; then
	echo "     They survive because these Kamailio proxies keep no dialog state and record-route the"
	echo "     shared VIP, so be1 can route their in-dialog requests; what was sent to be3 before the"
	echo "     down mark was lost and recovered by SIP retransmissions."
fi
echo "     A backend that keeps per-dialog state (a B2BUA such as Asterisk or FreeSWITCH) would"
echo "     answer them 481 Call/Transaction Does Not Exist: those calls would fail."
echo "   health: be3 killed at $(stamp "$T_KILL"), marked DOWN at $(stamp "$T_DOWN"): $DOWN_MS ms, \"$DOWN_REASON\""
echo "     (by design $(((SB_HC_FALL - 1) * SB_HC_INTERVAL + SB_HC_TIMEOUT)) to $DOWN_MAX ms: $SB_HC_FALL missed probes, $SB_HC_INTERVAL ms apart, $SB_HC_TIMEOUT ms timeout)"
echo "   calls started while be3 was dead but not yet down: $WIN, $WIN_FAIL failed; $WIN_LOST of them lost"
echo "     their first INVITE to the dead be3, $((WIN_LOST - WIN_LOST_FAIL)) of those went through on a retransmission, to be1"
echo "   calls started after the down mark: $AFTER, $AFTER_FAIL failed, $AFTER_BE3 sent to be3"
echo "   siplbctl backends v4:"
sb_ctl backends v4 | grep -v '^CHECKS:' | sed '/^$/d' | sed 's/^/     /'
echo "   siplbctl stats:"
sb_ctl stats | sed '/^$/d' | sed 's/^/     /'

why=()
[ "$W_FAIL" = 0 ] && [ "$W_OK" = "$WARM" ] || why+=("warm-up: $W_FAIL of $WARM calls failed")
[ "$W_SPLIT" = 0 ] || why+=("warm-up: $W_SPLIT dialogs split")
[ "$SPLIT" = 0 ] || why+=("$SPLIT dialogs split")
[ "$NEW_BE2" = 0 ] || why+=("$NEW_BE2 new dialogs on the draining be2")
[ "$AFTER_FAIL" = 0 ] || why+=("$AFTER_FAIL calls started after the down mark failed")
[ "$AFTER_BE3" = 0 ] || why+=("$AFTER_BE3 calls started after the down mark went to be3")
[ "$OTHER_FAIL" = 0 ] || why+=("$OTHER_FAIL failed calls not explained by the kill")
[ "$DOWN_MS" -le $((DOWN_MAX + 500)) ] || why+=("be3 marked down after $DOWN_MS ms, by design at most $DOWN_MAX")
[ "$F_TOT" = "$CALLS" ] || why+=("sipp created $F_TOT of $CALLS calls")
[ "$NDLG" -ge "$CALLS" ] || why+=("only $NDLG of $CALLS dialogs in the logs")
T_END=$(now_us)
if [ ${#why[@]} -eq 0 ]; then
	lost=$((WARM + CALLS - W_OK - F_OK))
	if [ "$lost" = 0 ]; then lost=""; else lost=" ($lost failed: on be3, or started before it was marked down)"; fi
	echo "$(stamp "$T_END") VERDICT: PASS: $((W_OK + F_OK)) of $((WARM + CALLS)) calls completed$lost," \
		"0 dialogs split, be3 down in $DOWN_MS ms, $AFTER_FAIL failures after the down mark"
else
	msg=$(printf '%s; ' "${why[@]}")
	echo "$(stamp "$T_END") VERDICT: FAIL: ${msg%; }"
	exit 1
fi
