#!/usr/bin/env bash
# bench_calls.sh: real SIP calls through siplb and through Kamailio's dispatcher, on
# the same testbed, backends and clients, in one run: completed calls/s, success,
# retransmissions, dialogs split and the balancer's CPU at each sipp load step, and
# each balancer's SIP messages per second per CPU core.
#
# Usage: scripts/bench_calls.sh   (root; BUILD=dir, default build; make all first)
# Appends its figures to $BUILD/bench.json (replacing earlier calls_* entries),
# writes every step's measurements to $BUILD/bench-calls.json, prints a table and
# plots completed against offered calls/s into $BUILD/bench-calls.png (gnuplot).
# Bounded: about 4 minutes; everything is torn down on exit, even on failure.
#
# Clients and balancers (scripts/testbed.sh + scripts/sipbed.sh): a sipp UAC in cl1
# calls the VIP; the balancer in lb is
#   siplb:    siplbd (XDP, ipip, direct server return; BPF statistics on);
#   kamailio: siplbd detached, the VIP on lb's lo, Kamailio 5.6 with
#             scripts/kamailio/dispatcher.cfg: stateless forward() to the backend
#             that ds_select_dst algorithm 0 (hash over the Call-ID) picks; replies
#             come back through it.
# Behind it, two kinds of backends, each with its own load steps:
#   direct: on each backend build/tools/sipresp answers INVITE and BYE with 200 at
#           once (ACK absorbed, no state, every message logged): the load can reach
#           sipp's ceiling; the caller is scripts/sipp/uac_direct.xml (INVITE, 200,
#           ACK, hold, BYE, 200);
#   proxy:  3 Kamailio record-routing, transaction-stateful proxies
#           (scripts/kamailio/backend.cfg, every message logged; BEHIND_DISPATCHER
#           behind Kamailio) in front of a sipp callee (scripts/sipp/uas_bench.xml);
#           the caller is scripts/sipp/uac_bench.xml: INVITE, 100/180/200, ACK, hold,
#           BYE by the caller or, for half the calls, by the callee (through the VIP).
#           Three Kamailio proxies and two sipps on this machine's CPUs saturate
#           long before the balancers do: these steps stop lower.
#
# Each step: sipp offers RATE calls/s for CALLS_SECONDS. Measured: sipp's counts
# (offered = calls created / time over the step's whole seconds before the last call
# was created; completed = offered x successful / created), retransmissions (caller
# + callee sipp), dialogs split across backends (the backends' logs: a Call-ID seen
# at two backends), dialogs incomplete there, and CPU: siplb's XDP program run time
# (BPF statistics, kernel.bpf_stats_enabled on during the siplb steps), the Kamailio
# dispatcher's processes (user + system time), the softirq time of all CPUs above
# the idle baseline, the processes of the caller, the callee and the backends, and
# the machine's idle time, and the UDP datagrams each node dropped for a full socket
# buffer. Messages per second per core: siplb 1e9 / its program's ns
# per message; Kamailio: messages forwarded / CPU seconds of its processes, at its
# most loaded step.
#
# Knobs (environment): CALLS_STEPS ("500 1000 2000 4000 6000 8000" calls/s, direct
# backends), CALLS_PROXY_STEPS ("500 1000 2000 3000", Kamailio proxies; "" skips them),
# CALLS_SECONDS per step (5), CALLS_HOLD_MS (100), CALLS_KAM_CHILDREN (2: the
# dispatcher's UDP workers per socket), CALLS_BE_CHILDREN (2: each backend
# Kamailio's), CALLS_SIPP_BUFFER (4194304: the sipps' socket buffers; sipp's own
# 64 KB default overflows under load here), CALLS_PHASES ("siplb kamailio").
# docs/benchmarks.md describes the set-up and the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
DIRECT_STEPS=${CALLS_STEPS-500 1000 2000 4000 6000 8000}
PROXY_STEPS=${CALLS_PROXY_STEPS-500 1000 2000 3000}
STEP_S=${CALLS_SECONDS:-5}
HOLD_MS=${CALLS_HOLD_MS:-100}
KAM_CHILDREN=${CALLS_KAM_CHILDREN:-2}
BE_CHILDREN=${CALLS_BE_CHILDREN:-2}
PHASES=${CALLS_PHASES:-siplb kamailio}
JSON=$BUILD/bench.json
PNG=$BUILD/bench-calls.png
SIPP_BUF=${CALLS_SIPP_BUFFER:-4194304}	# sipp's socket buffers (sipp's default: 64 KB)
RECV_TIMEOUT_MS=5000	# a call whose answer is lost fails after this
CALL_LIMIT=40000	# concurrent calls sipp may keep (hold + timewaits at 8000/s: ~6000)

say() { echo "bench_calls: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	say "needs root (namespaces, XDP)"
	exit 1
fi
if ! [[ $STEP_S =~ ^[0-9]+$ ]] || [ "$STEP_S" -lt 2 ] || [ "$STEP_S" -gt 30 ]; then
	say "CALLS_SECONDS must be 2..30"
	exit 2
fi
for r in $DIRECT_STEPS $PROXY_STEPS; do
	if ! [[ $r =~ ^[0-9]+$ ]] || [ "$r" -lt 10 ] || [ "$r" -gt 20000 ]; then
		say "CALLS_STEPS, CALLS_PROXY_STEPS: each step 10..20000 calls/s, not '$r'"
		exit 2
	fi
done
[ "$(wc -w <<<"$DIRECT_STEPS $PROXY_STEPS")" -le 16 ] || { say "at most 16 steps in all"; exit 2; }
for p in $PHASES; do
	case $p in siplb | kamailio) ;; *) say "CALLS_PHASES: siplb and/or kamailio, not '$p'"; exit 2 ;; esac
done
for f in siplbd siplbctl siplb-decap tools/xdpgen tools/tbnet tools/sipresp; do
	[ -x "$BUILD/$f" ] || { say "$BUILD/$f missing: make all"; exit 1; }
done
command -v jq >/dev/null || { say "jq missing"; exit 1; }

# shellcheck source=scripts/testbed.sh
source scripts/testbed.sh
# shellcheck source=scripts/sipbed.sh
source scripts/sipbed.sh
sb_check || exit 1

STATS_SYSCTL=/proc/sys/kernel/bpf_stats_enabled
STATS_ON=
MAIN_PID=$BASHPID
cleanup() {
	local rc=$?
	[ "$BASHPID" = "$MAIN_PID" ] || exit "$rc"	# a $(...) subshell exiting
	trap - EXIT INT TERM
	if [ -n "$STATS_ON" ]; then echo 0 >"$STATS_SYSCTL" || true; fi
	[ "$rc" = 0 ] || { say "failed (status $rc); logs:"; tb_logs >&2 || true; }
	sb_down
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

die() { say "$*"; exit 1; }

stats_on() {
	# the sysctl's own reference (BPF_ENABLE_STATS fds of others are separate);
	# turned off again at the end of the phase or by cleanup
	[ -n "$STATS_ON" ] && return 0
	echo 1 >"$STATS_SYSCTL"
	STATS_ON=1
}
stats_off() {
	[ -z "$STATS_ON" ] && return 0
	echo 0 >"$STATS_SYSCTL"
	STATS_ON=
}

T0=$SECONDS
tb_up 3 2>/dev/null || die "testbed did not come up"
B=$TB_BUILD
sb_callee_up || die "callee node"
HZ=$(getconf CLK_TCK)

# --- measurements -----------------------------------------------------------

# CPU ticks (user+system; with "user": user only) of every process in NODE's namespace
ns_ticks() {
	local pids
	pids=$(ip netns pids "$(tb_ns "$1")" 2>/dev/null | sed 's|^|/proc/|; s|$|/stat|') || true
	[ -n "$pids" ] || { echo 0; return; }
	# shellcheck disable=SC2086 # a list of files
	cat $pids 2>/dev/null | awk -v u="${2:-}" '{ sub(/^.*\) /, ""); s += $12 + (u ? 0 : $13) }
		END { print s + 0 }'
}
be_ticks() {
	local i s=0
	for ((i = 1; i <= TB_NBE; i++)); do s=$((s + $(ns_ticks "be$i"))); done
	echo "$s"
}
# the main shell's reaped children (the caller sipp of a step): cutime + cstime
child_ticks() { awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$MAIN_PID/stat"; }
# all CPUs: "softirq idle" ticks
cpu_ticks() { awk '$1 == "cpu" { print $8, $5 + $6 }' /proc/stat; }
# siplb's XDP program on lb: "run_cnt run_time_ns"
prog_stats() {
	local out
	out=$(tb_exec lb "$B/tools/xdpgen" progstats eth0 2>/dev/null) || { echo "0 0"; return; }
	awk '{ print $6, $8 }' <<<"$out"
}
vip_packets() {
	sb_ctl --json stats 2>/dev/null | jq '[.vips[] | select(.name == "v4") | .packets] | add // 0' ||
		echo 0
}
KAM_CTL=
# Kamailio dispatcher: "received forwarded" messages (requests + replies)
kam_counts() {
	local out
	out=$(tb_exec lb kamcmd -s "unixs:$KAM_CTL" stats.get_statistics core: 2>/dev/null) ||
		{ echo "0 0"; return; }
	awk '/core:rcv_(requests|replies) /{ r += $NF } /core:fwd_(requests|replies) /{ f += $NF }
		END { print r + 0, f + 0 }' <<<"$out"
}

# UDP datagrams NODE's kernel dropped because a socket's receive buffer was full
udp_drops() {
	# shellcheck disable=SC2016 # an awk program
	tb_exec "$1" awk '$1 == "Udp:" { if (!h) { for (i = 2; i <= NF; i++) c[$i] = i; h = 1 }
		else { print $(c["RcvbufErrors"]) + 0; exit } }' /proc/net/snmp
}
be_udp_drops() {
	local i s=0
	for ((i = 1; i <= TB_NBE; i++)); do s=$((s + $(udp_drops "be$i"))); done
	echo "$s"
}

# snap MODE: one line of counters (the field list is above the figures' jq program)
snap() {
	local m
	case $1 in
	siplb) m="$(prog_stats) $(vip_packets) 0" ;;
	kamailio) m="0 0 $(kam_counts)" ;;
	esac
	echo "$(date +%s.%N) $(cpu_ticks) $(ns_ticks lb) $(ns_ticks lb user) $(ns_ticks callee)" \
		"$(be_ticks) $(child_ticks) $m $(udp_drops cl1) $(udp_drops lb) $(be_udp_drops)" \
		"$(udp_drops callee)"
}

# The callee sipp's statistics (a line every second): FIELD now
callee_stat() { sb_sipp_stat callee4 "$1"; }

# From a sipp run's CSV: the offered calls/s (calls created over the whole seconds
# before the last one was: the rate sipp kept up) and the final counts.
# Prints "offered created ok failed retrans unexpected"
sipp_figures() {
	awk -F';' '
	NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	{
		split($(c["CurrentTime"]), t, "\t"); split($(c["StartTime"]), s, "\t")
		n++; tm[n] = t[3] - s[3]; cr[n] = $(c["TotalCallCreated"]) + 0
		ok = $(c["SuccessfulCall(C)"]) + 0; fl = $(c["FailedCall(C)"]) + 0
		rt = $(c["Retransmissions(C)"]) + 0; un = $(c["FailedUnexpectedMessage(C)"]) + 0
	}
	END {
		total = cr[n]; k = 0
		for (j = 1; j <= n; j++) if (cr[j] == total) { k = j; break }
		off = 0
		for (j = k - 1; j >= 1; j--) if (tm[j] >= 0.9 && cr[j] > 0) { off = cr[j] / tm[j]; break }
		if (off == 0 && k > 0 && tm[k] > 0) off = total / tm[k]
		printf "%.1f %d %d %d %d %d\n", off, total, ok, fl, rt, un
	}' "$TB_STATE/sipp-$1.csv"
}

# Dialog analysis of "be method-or-status cseq call-id" lines on stdin: "dialogs
# split incomplete msgs be1 be2 be3". A dialog is split if its messages reached
# more than one backend; incomplete if its backend did not see all of INVITE, ACK,
# a BYE (from either side) and, where the backend logs replies (proxy), the 200s
# to the INVITE and the BYE.
dialog_stats() {
	awk -v nbe="$TB_NBE" -v replies="$1" '
	{
		be = $1; m = $2; cs = $3; ci = $4; msgs++
		if (!(ci in first)) { first[ci] = be; order[++n] = ci }
		else if (first[ci] != be) splitset[ci] = 1
		seen[ci, m] = 1
		if (m == "BYE") byecs[ci] = cs
		if (m ~ /^200/) seen[ci, m cs] = 1
	}
	END {
		for (j = 1; j <= n; j++) {
			ci = order[j]; perbe[first[ci]]++
			if (ci in splitset) sp++
			ok = seen[ci, "INVITE"] && seen[ci, "ACK"] && (ci in byecs)
			if (replies) ok = ok && seen[ci, "200INVITE1"] && seen[ci, "200BYE" byecs[ci]]
			if (!ok) inc++
		}
		line = sprintf("%d %d %d %d", n, sp, inc, msgs)
		for (b = 1; b <= nbe; b++) line = line sprintf(" %d", perbe["be" b])
		print line
	}'
}
# dialogs CONFIG NAME: the analysis of the Call-IDs NAME-... in the backends' logs
dialogs() {
	local i
	if [ "$1" = proxy ]; then
		# sb_events: be t m s cs ci src tu; replies as "200BYE"-style methods
		sb_events "$2" | awk '{ print $1, ($2 == "rpl" ? $4 $3 : $3), $5, $6 }' |
			dialog_stats 1
	else
		# sipresp: NAME METHOD-OR-STATUS CALL-ID SRC (requests only here)
		for ((i = 1; i <= TB_NBE; i++)); do
			[ -e "$TB_STATE/resp-be$i.log" ] || continue
			awk -v p="$2-" 'index($3, p) == 1 { print $1, $2, "-", $3 }' "$TB_STATE/resp-be$i.log"
		done | dialog_stats 0
	fi
}

# Move the backends' logs aside after each step (the analysis reads only new
# lines then); what is not a SIPLB line of Kamailio (warnings, errors) is kept.
logs_rotate() {
	local i log
	for ((i = 1; i <= TB_NBE; i++)); do
		log=$(sb_kam_log "$i")
		if [ -e "$log" ]; then
			grep -v ' SIPLB be=' "$log" | tail -n 200 >>"$TB_STATE/kam-be$i-other.log" || true
			: >"$log"
		fi
		[ ! -e "$TB_STATE/resp-be$i.log" ] || : >"$TB_STATE/resp-be$i.log"
	done
}

RESULTS=$TB_STATE/results.txt
: >"$RESULTS"
SF_DIRECT=$(SB_HOLD_MS=$HOLD_MS sb_scenario uac_direct.xml)
SF_PROXY=$(SB_CBYE=0.5 SB_HOLD_MS=$HOLD_MS sb_scenario uac_bench.xml)

# step MODE CONFIG RATE: one sipp load; appends a line to $RESULTS
step() {
	local mode=$1 config=$2 rate=$3 name count rc=0 a b c_rt0 fig dl sf
	name=${mode:0:1}${config:0:1}$rate
	count=$((rate * STEP_S))
	if [ "$config" = direct ]; then sf=$SF_DIRECT; else sf=$SF_PROXY; fi
	c_rt0=$(callee_stat 'Retransmissions(C)')
	a=$(snap "$mode")
	sb_sipp_run "$name" 4 "$((STEP_S + RECV_TIMEOUT_MS / 1000 + 8))" -sf "$sf" -p 5060 \
		-m "$count" -r "$rate" -l "$CALL_LIMIT" -cid_str "$name-%u-%p@%s" \
		-recv_timeout "$RECV_TIMEOUT_MS" -max_recv_loops 10000 -buff_size "$SIPP_BUF" || rc=$?
	b=$(snap "$mode")
	# the callee dumps its statistics every second; sipresp logs by batches
	sleep 1.2
	fig=$(sipp_figures "$name")
	dl=$(dialogs "$config" "$name")
	logs_rotate
	echo "$mode $config $rate $rc $fig $(($(callee_stat 'Retransmissions(C)') - c_rt0)) $dl $a $b" \
		>>"$RESULTS"
	say "$mode $config $rate/s: sipp exit $rc; offered created ok failed retrans unexpected:" \
		"$fig; dialogs split incomplete msgs be1..: $dl"
	# let the backends and the callee finish with this step's stragglers
	sleep 1
}

# softirq cores while idle (health checks, timers): subtracted from the steps
idle_baseline() {
	local a b
	a=$(cpu_ticks)
	sleep 3
	b=$(cpu_ticks)
	awk -v hz="$HZ" '{ print ($3 - $1) / hz / 3 }' <<<"$a $b"
}

# --- backends ----------------------------------------------------------------------
declare -a RESP_PID=()
# direct: sipresp on the VIP (siplb's decapsulated traffic, answered from the VIP)
# and on the backend's own address (the dispatcher's traffic, siplbd's OPTIONS)
direct_up() {
	local i
	for ((i = 1; i <= TB_NBE; i++)); do
		tb_bg "be$i" "resp-be$i.err" "$B/tools/sipresp" --bind "$TB_VIP4:5060" \
			--bind "${TB_BE4[i]}:5060" --name "be$i" --log "$TB_STATE/resp-be$i.log"
		RESP_PID[i]=$TB_PID
	done
	for ((i = 1; i <= TB_NBE; i++)); do
		sb_wait 5 sb_udp_bound "be$i" "${TB_BE4[i]}" || die "sipresp on be$i not listening"
	done
}
direct_down() {
	local i
	for ((i = 1; i <= TB_NBE; i++)); do
		[ -z "${RESP_PID[i]:-}" ] || tb_stop "${RESP_PID[i]}"
		RESP_PID[i]=
	done
}

CALLEE_PID=
# proxy MODE: Kamailio on every backend (behind the dispatcher: BEHIND_DISPATCHER),
# and the callee (sipp UAS, scripts/sipp/uas_bench.xml; as sb_callee_start does
# with uas_call.xml)
proxy_up() {
	local sf cfg=$SB_KAM_CFG
	if [ "$1" = kamailio ]; then
		cfg=$TB_STATE/backend-ds.cfg
		{ echo '#!define BEHIND_DISPATCHER'; cat "$SB_KAM_CFG"; } >"$cfg"
	fi
	SB_KAM_CFG=$cfg sb_kam_start_all proxy "$BE_CHILDREN" || die "Kamailio backends"
	sf=$(SB_HOLD_MS=$HOLD_MS sb_scenario uas_bench.xml) || return 1
	tb_bg callee callee4.log sipp -sf "$sf" -i "$SB_CALLEE4" -p 5060 -nostdin \
		-trace_stat -stf "$TB_STATE/callee4.csv" -fd 1 \
		-trace_err -error_file "$TB_STATE/callee4.err" -max_recv_loops 10000 \
		-recv_timeout "$RECV_TIMEOUT_MS" -timeout_error -timeout 3600s -buff_size "$SIPP_BUF"
	CALLEE_PID=$TB_PID
	sb_wait 5 sb_udp_bound callee "$SB_CALLEE4" || die "callee sipp not listening"
}
proxy_down() {
	local i
	[ -z "$CALLEE_PID" ] || tb_stop "$CALLEE_PID"
	CALLEE_PID=
	for ((i = 1; i <= TB_NBE; i++)); do sb_kam_stop "$i"; done
}

# run the steps of both backend kinds behind balancer MODE
configs() {
	local mode=$1 r
	if [ -n "$DIRECT_STEPS" ]; then
		direct_up
		[ "$mode" != siplb ] || sb_wait 15 sb_all_up "$TB_NBE" || die "backends not up: $(sb_ctl backends 2>&1)"
		for r in $DIRECT_STEPS; do step "$mode" direct "$r"; done
		direct_down
	fi
	if [ -n "$PROXY_STEPS" ]; then
		proxy_up "$mode"
		[ "$mode" != siplb ] || sb_wait 15 sb_all_up "$TB_NBE" || die "backends not up: $(sb_ctl backends 2>&1)"
		for r in $PROXY_STEPS; do step "$mode" proxy "$r"; done
		proxy_down
	fi
}

# --- balancers ---------------------------------------------------------------------
declare -A IDLE_SI=([siplb]=0 [kamailio]=0)

siplb_phase() {
	local cfg=$TB_STATE/siplb.yaml i pid
	{
		cat <<EOF
instance: bc$$
interfaces:
  - name: eth0
hash_key: 0f1e2d3c4b5a69788796a5b4c3d2e1f0
affinity: {capacity: 1048576, idle_timeout: 600}
health: {interval_ms: 500, timeout_ms: 300, fall: 3, rise: 1}
control: $TB_STATE/ctl.sock
src4: $TB_LB4
vips:
  - name: v4
    address: $TB_VIP4
    mode: ipip
    backends:
EOF
		for ((i = 1; i <= TB_NBE; i++)); do
			echo "      - {address: ${TB_BE4[i]}, name: be$i}"
		done
	} >"$cfg"
	SB_BPFFS=$(tb_bpffs_new)	# sb_down unmounts it
	tb_bg lb siplbd.log "$B/siplbd" -c "$cfg" --pin-root "$SB_BPFFS"
	pid=$TB_PID
	sb_wait 10 sb_ctl status || die "siplbd does not answer: $(tail -n 5 "$TB_STATE/siplbd.log")"
	IDLE_SI[siplb]=$(idle_baseline)
	say "siplb up; idle softirq ${IDLE_SI[siplb]} cores"
	stats_on
	configs siplb
	stats_off
	sb_ctl stats >"$TB_STATE/siplb-stats.txt" 2>&1 || true
	tb_stop "$pid"
	tb_exec lb "$B/siplbd" --detach -c "$cfg" --pin-root "$SB_BPFFS" >>"$TB_STATE/siplbd.log" 2>&1 ||
		die "siplbd --detach failed: $(tail -n 5 "$TB_STATE/siplbd.log")"
}

kamailio_phase() {
	local dir=$TB_STATE/kam-lb i
	tb_exec lb ip addr add "$TB_VIP4/32" dev lo
	mkdir -p "$dir"
	KAM_CTL=$dir/ctl.sock
	for ((i = 1; i <= TB_NBE; i++)); do echo "1 sip:${TB_BE4[i]}:5060"; done >"$dir/dispatcher.list"
	sed -e "s|@VIP4@|$TB_VIP4|g; s|@LB4@|$TB_LB4|g; s|@CHILDREN@|$KAM_CHILDREN|g" \
		-e "s|@CTL@|$KAM_CTL|g; s|@LIST@|$dir/dispatcher.list|g" \
		scripts/kamailio/dispatcher.cfg >"$dir/kamailio.cfg"
	tb_exec lb kamailio -c -f "$dir/kamailio.cfg" >"$dir/check.log" 2>&1 ||
		die "dispatcher config check failed: $(cat "$dir/check.log")"
	tb_bg lb kam-lb.log kamailio -f "$dir/kamailio.cfg" -DD -E -m "$SB_KAM_SHM" -M "$SB_KAM_PKG" \
		-Y "$dir" -P "$dir/kamailio.pid" -w "$dir"
	sb_wait 10 tb_exec lb kamcmd -s "unixs:$KAM_CTL" core.uptime ||
		die "the dispatcher does not answer: $(tail -n 20 "$TB_STATE/kam-lb.log")"
	IDLE_SI[kamailio]=$(idle_baseline)
	say "Kamailio dispatcher up ($(ip netns pids "$(tb_ns lb)" | wc -l) processes);" \
		"idle softirq ${IDLE_SI[kamailio]} cores"
	configs kamailio
}

say "testbed up; ${STEP_S} s per step; direct backends: ${DIRECT_STEPS:-none};" \
	"Kamailio proxies: ${PROXY_STEPS:-none} calls/s"
for p in $PHASES; do
	"${p}_phase"
done
say "steps done in $((SECONDS - T0)) s"

# --- figures -------------------------------------------------------------------------
# $RESULTS fields (0-based, as jq reads them): 0 mode 1 config 2 rate 3 sipp-rc
# 4 offered 5 created 6 ok 7 failed 8 retrans 9 unexpected 10 callee-retrans
# 11 dialogs 12 split 13 incomplete 14 msgs, 15.. per backend; then snap a and
# snap b, 16 fields each: t softirq idle lb lb-user callee be child m1 m2 m3 m4
# (m: siplb: prog_cnt prog_ns vip_packets 0; kamailio: 0 0 received forwarded) and
# the UDP receive-buffer drops of cl1 lb backends callee.
PERSTEP=$(jq -R -s --argjson nbe "$TB_NBE" --argjson hz "$HZ" \
	--argjson idle "{\"siplb\": ${IDLE_SI[siplb]:-0}, \"kamailio\": ${IDLE_SI[kamailio]:-0}}" '
	split("\n") | map(select(length > 0) | split(" ")) | map(
		. as $f | (15 + $nbe) as $o |
		($f[$o:$o + 16] | map(tonumber)) as $a | ($f[$o + 16:$o + 32] | map(tonumber)) as $b |
		($b[0] - $a[0]) as $dt |
		def cores($i): ($b[$i] - $a[$i]) / $hz / $dt;
		{mode: $f[0], config: $f[1], rate: ($f[2] | tonumber), sipp_rc: ($f[3] | tonumber),
		 offered: ($f[4] | tonumber), created: ($f[5] | tonumber), ok: ($f[6] | tonumber),
		 failed: ($f[7] | tonumber), retrans: (($f[8] | tonumber) + ($f[10] | tonumber)),
		 caller_retrans: ($f[8] | tonumber), callee_retrans: ($f[10] | tonumber),
		 unexpected: ($f[9] | tonumber),
		 dialogs: ($f[11] | tonumber), split: ($f[12] | tonumber),
		 incomplete: ($f[13] | tonumber), be_msgs: ($f[14] | tonumber),
		 per_be: ($f[15:15 + $nbe] | map(tonumber)),
		 seconds: $dt,
		 softirq_cores: ([cores(1) - $idle[$f[0]], 0] | max), idle_cores: cores(2),
		 lb_proc_cores: cores(3), lb_user_cores: cores(4), callee_cores: cores(5),
		 be_cores: cores(6), caller_cores: cores(7),
		 udp_drops: {caller: ($b[12] - $a[12]), lb: ($b[13] - $a[13]),
			backends: ($b[14] - $a[14]), callee: ($b[15] - $a[15])}}
		| .udp_drops_all = (.udp_drops | add)
		| .success = (if .created > 0 then .ok / .created else 0 end)
		| .completed = .offered * .success
		| if .mode == "siplb" then
			.prog_cnt = ($b[8] - $a[8]) | .lb_msgs = ($b[10] - $a[10])
			| .lb_cores = ($b[9] - $a[9]) / 1e9 / $dt
			| .ns_per_msg = (if .prog_cnt > 0 then ($b[9] - $a[9]) / .prog_cnt else 0 end)
			# messages its program ran on per second of its run time
			| .msgs_per_core = (if .ns_per_msg > 0 then 1e9 / .ns_per_msg else 0 end)
		  else
			.lb_rcvd = ($b[10] - $a[10]) | .lb_msgs = ($b[11] - $a[11])
			| .lb_cores = .lb_proc_cores
			# messages forwarded per CPU second of its processes
			| .msgs_per_core = (if .lb_cores > 0 then .lb_msgs / $dt / .lb_cores else 0 end)
		  end
		| .lb_msgs_per_s = .lb_msgs / $dt
	)' "$RESULTS")
echo "$PERSTEP" >"$BUILD/bench-calls.json"

# the printed table: one line per balancer, backends and step (CPU in % of one core;
# the machine has $(nproc) cores)
printf '\n%-8s %-6s %6s %7s %9s %8s %7s %5s %6s %7s %8s %8s %8s %7s %7s %9s %6s %9s\n' balancer \
	backend target offered completed success retrans split incompl drops lb_cpu% lb_msg/s \
	softirq% caller% callee% backends% idle% msgs/core
jq -r '.[] | [.mode, .config, .rate, .offered, .completed, .success * 100, .retrans, .split,
	.incomplete, .udp_drops_all, .lb_cores * 100, .lb_msgs_per_s, .softirq_cores * 100,
	.caller_cores * 100, .callee_cores * 100, .be_cores * 100, .idle_cores * 100,
	.msgs_per_core] | @tsv' <<<"$PERSTEP" |
	while IFS=$'\t' read -r m c r o d s x sp inc dr l lm si ca ce be id mpc; do
		printf '%-8s %-6s %6d %7.0f %9.0f %7.2f%% %7d %5d %6d %7d %8.1f %8.0f %8.1f %7.1f %7.1f %9.1f %6.1f %9.0f\n' \
			"$m" "$c" "$r" "$o" "$d" "$s" "$x" "$sp" "$inc" "$dr" "$l" "$lm" "$si" "$ca" "$ce" "$be" "$id" "$mpc"
	done

# --- bench.json rows: siplb's value beside Kamailio's (the baseline), per step
LIVE_MPC=$(jq '[.[]? | select(.name == "live_siplb_msgs_per_core_s") | .value][0] // null' \
	"$JSON" 2>/dev/null || echo null)
ROWS=$(jq --argjson live "${LIVE_MPC:-null}" '
	def row($n; $v; $u; $b): {name: $n, value: $v, unit: $u, baseline: $b,
		ratio: (if $b != null and $b != 0 and $v != null then $v / $b else null end)};
	def pct: if . == null then null else . * 100 end;
	def rows($cfg; $pre):
		(map(select(.mode == "siplb" and .config == $cfg)) | INDEX(.rate | tostring)) as $s |
		(map(select(.mode == "kamailio" and .config == $cfg)) | INDEX(.rate | tostring)) as $k |
		([.[] | select(.config == $cfg) | .rate] | unique) as $rates |
		[ $rates[] | tostring as $r | ($s[$r] // {}) as $a | ($k[$r] // {}) as $b |
		  row("\($pre)\($r)_offered_cps"; $a.offered; "calls/s"; $b.offered),
		  row("\($pre)\($r)_completed_cps"; $a.completed; "calls/s"; $b.completed),
		  row("\($pre)\($r)_success_pct"; $a.success | pct; "%"; $b.success | pct),
		  row("\($pre)\($r)_retransmissions"; $a.retrans; "messages"; $b.retrans),
		  row("\($pre)\($r)_dialogs_split"; $a.split; "dialogs"; $b.split),
		  row("\($pre)\($r)_lb_cpu_pct"; $a.lb_cores | pct; "% of a core"; $b.lb_cores | pct),
		  row("\($pre)\($r)_softirq_pct"; $a.softirq_cores | pct; "% of a core";
		      $b.softirq_cores | pct) ];
	# Kamailio at saturation: its most loaded step; siplb: its busiest step
	(map(select(.mode == "kamailio")) | max_by(.lb_cores) // {}) as $ksat |
	(map(select(.mode == "siplb" and .prog_cnt > 0)) | max_by(.lb_msgs_per_s) // {}) as $ssat |
	rows("direct"; "calls_") + rows("proxy"; "calls_proxy_") +
	[ row("calls_siplb_msgs_per_core_s"; $ssat.msgs_per_core; "msgs/s/core"; $ksat.msgs_per_core),
	  row("calls_siplb_live_msgs_per_core_s"; $live; "msgs/s/core"; $ksat.msgs_per_core),
	  row("calls_kamailio_msgs_per_core_s"; $ksat.msgs_per_core; "msgs/s/core";
	      $ksat.msgs_per_core) ]
	| map(select(.value != null or .baseline != null))' <<<"$PERSTEP")
OLD='[]'
[ -s "$JSON" ] && OLD=$(cat "$JSON")
jq --argjson new "$ROWS" '[.[] | select(.name | startswith("calls_") | not)] + $new' \
	<<<"$OLD" >"$JSON.tmp" && mv "$JSON.tmp" "$JSON"

fmt() { if [ "$1" = - ]; then printf '%s' -; else printf '%.2f' "$1"; fi; }
printf '\n%-36s %12s %-12s %12s %8s\n' name value unit baseline ratio
jq -r '.[] | [.name, .value // "-", .unit, .baseline // "-", .ratio // "-"] | @tsv' <<<"$ROWS" |
	while IFS=$'\t' read -r n v u b x; do
		printf '%-36s %12s %-12s %12s %8s\n' "$n" "$(fmt "$v")" "$u" "$(fmt "$b")" "$(fmt "$x")"
	done
say "appended to $JSON (every step: $BUILD/bench-calls.json)"

# --- the plot: completed against offered calls/s
if command -v gnuplot >/dev/null; then
	for m in siplb kamailio; do
		for c in direct proxy; do
			jq -r --arg m "$m" --arg c "$c" \
				'.[] | select(.mode == $m and .config == $c) | "\(.offered) \(.completed)"' \
				<<<"$PERSTEP" >"$TB_STATE/$m-$c.dat"
		done
	done
	MAXR=$(tr ' ' '\n' <<<"$DIRECT_STEPS $PROXY_STEPS" | grep . | sort -n | tail -n1)
	plots="x title \"every offered call completes\" with lines dt 2 lc rgb \"#999999\""
	add_plot() {	# FILE TITLE STYLE
		[ -s "$1" ] && plots+=", \"$1\" using 1:2 title \"$2\" with linespoints $3"
		return 0
	}
	add_plot "$TB_STATE/siplb-direct.dat" "siplb, backends answer (sipresp)" 'pt 7 lw 2 lc rgb "#1f77b4"'
	add_plot "$TB_STATE/kamailio-direct.dat" "Kamailio dispatcher, backends answer (sipresp)" \
		'pt 5 lw 2 lc rgb "#d62728"'
	add_plot "$TB_STATE/siplb-proxy.dat" "siplb, 3 Kamailio proxies + sipp callee" \
		'pt 6 lw 2 dt 3 lc rgb "#1f77b4"'
	add_plot "$TB_STATE/kamailio-proxy.dat" "Kamailio dispatcher, 3 Kamailio proxies + sipp callee" \
		'pt 4 lw 2 dt 3 lc rgb "#d62728"'
	gnuplot <<EOF || say "gnuplot failed: no plot"
set terminal pngcairo size 900,600 font "sans,11"
set output "$PNG"
set title "SIP calls through a stateless balancer: sipp UAC -> balancer -> 3 backends\n$(nproc) vCPUs shared by clients, balancer and backends; ${STEP_S} s per step"
set xlabel "offered calls/s (created by sipp)"
set ylabel "completed calls/s (created x share successful)"
set key left top box opaque
set grid
set xrange [0:$((MAXR * 11 / 10))]
set yrange [0:$((MAXR * 11 / 10))]
plot $plots
EOF
	[ -s "$PNG" ] && say "plot: $PNG"
else
	say "gnuplot not found (apt-get install gnuplot-nox): no plot"
fi
say "done in $((SECONDS - T0)) s"
