#!/usr/bin/env bash
# test_calls.sh: real SIP calls through siplb. sipp (caller, cl1) -> VIP -> siplbd's
# XDP -> one of 3 Kamailio record-routing proxies -> sipp (callee); everything from the
# callee (180/200, the 200 to re-INVITEs, its own BYEs and the replies to the caller's
# BYE) goes to the VIP again. Checked from the Kamailio logs: every message of every
# dialog, both directions, reached one backend; all 3 backends took calls; sipp on both
# sides counts every call successful. IPv4 and IPv6.
# Knobs: E2E_CALLS (default 3000) E2E_RATE (300/s) E2E_CALLS6 (400) E2E_RATE6 (200/s).
# shellcheck source-path=SCRIPTDIR/../integ
source "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=../../scripts/sipbed.sh
source "$IT_DIR/../../scripts/sipbed.sh"

sb_check || skip "Kamailio or sipp missing (apt-get install kamailio sip-tester)"
trap sb_down EXIT

# 300 ms between ACK, re-INVITE and BYE: with 100 ms, two Kamailio workers on a
# starved CPU can reorder a call's requests and sipp aborts the call.
export SB_HOLD_MS=${SB_HOLD_MS:-300}
CALLS=${E2E_CALLS:-3000}
RATE=${E2E_RATE:-300}
CALLS6=${E2E_CALLS6:-400}
RATE6=${E2E_RATE6:-200}

# value of KEY in a "k=v k=v" line
kv() {
	sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $2"
}

# check_load NAME CALLS FAMILY: sipp's counts and the backends' logs for one load
check_load() {
	local name=$1 calls=$2 fam=$3 out b n callee_ok
	info "sipp $name: $(sb_sipp_summary "$name")"
	assert_eq "$(sb_sipp_stat "$name" 'SuccessfulCall(C)')" "$calls" "$name: calls successful at the caller"
	assert_eq "$(sb_sipp_stat "$name" 'FailedCall(C)')" 0 "$name: calls failed at the caller"
	# the callee's statistics are dumped every second; its calls end 1 s after the BYE
	callee_done() { [ "$(sb_sipp_stat "callee$fam" 'SuccessfulCall(C)')" -ge "$1" ]; }
	sb_wait 10 callee_done "$((CALLEE_BASE[fam] + calls))" ||
		fail "$name: the callee counts $(sb_sipp_stat "callee$fam" 'SuccessfulCall(C)') successful calls, want $((CALLEE_BASE[fam] + calls))"
	callee_ok=$(($(sb_sipp_stat "callee$fam" 'SuccessfulCall(C)') - CALLEE_BASE[fam]))
	CALLEE_BASE[fam]=$((CALLEE_BASE[fam] + callee_ok))
	assert_eq "$(sb_sipp_stat "callee$fam" 'FailedCall(C)')" 0 "callee (IPv$fam): failed calls"

	out=$(sb_dialogs "$name" 2>"$TB_STATE/dialogs-$name.err") || fail "$name: log analysis failed"
	info "backends' logs, $name: $out"
	[ -s "$TB_STATE/dialogs-$name.err" ] && cat "$TB_STATE/dialogs-$name.err" >&2
	assert_eq "$(kv dialogs "$out")" "$calls" "$name: dialogs in the backends' logs"
	assert_eq "$(kv split "$out")" 0 "$name: dialogs split across backends"
	assert_eq "$(kv incomplete "$out")" 0 "$name: dialogs with a message missing at their backend"
	assert_ge "$(kv reinvites "$out")" 1 "$name: dialogs with a re-INVITE"
	assert_ge "$(kv callee_byes "$out")" 1 "$name: dialogs ended by the callee"
	assert_ge "$(kv caller_byes "$out")" 1 "$name: dialogs ended by the caller"
	for ((b = 1; b <= TB_NBE; b++)); do
		n=$(kv "be$b" "$out")
		assert_ge "$n" 1 "$name: dialogs on be$b"
	done
	ok "$name: $calls calls, $callee_ok completed at the callee too; $(kv msgs "$out") messages" \
		"logged, each dialog on one backend ($(kv reinvites "$out") re-INVITEs," \
		"$(kv callee_byes "$out") BYEs from the callee)"
}

t0=$SECONDS
tb_up 3
sb_callee_up || fail "callee node"
sb_kam_start_all proxy || fail "Kamailio backends"
sb_callee_start 4 || fail "callee (IPv4)"
sb_callee_start 6 || fail "callee (IPv6)"
sb_siplbd_start call-id || fail "siplbd"
declare -a CALLEE_BASE=([4]=0 [6]=0)
ok "testbed, 3 Kamailio proxies, callee and siplbd up in $((SECONDS - t0)) s"

# --- IPv4: the load
t1=$SECONDS
rc=0
sb_sipp_calls c4 4 "$CALLS" "$RATE" || rc=$?
took=$((SECONDS - t1))
[ "$rc" = 0 ] || fail "sipp (IPv4) exited $rc: $(sb_sipp_summary c4); $(grep -ao "Aborting call[^']*" \
	"$TB_STATE/sipp-c4.err" 2>/dev/null | head -n 3)"
check_load c4 "$CALLS" 4
info "IPv4: $CALLS calls offered at $RATE/s ran in $took s"

# --- IPv6
rc=0
sb_sipp_calls c6 6 "$CALLS6" "$RATE6" || rc=$?
[ "$rc" = 0 ] || fail "sipp (IPv6) exited $rc: $(sb_sipp_summary c6)"
check_load c6 "$CALLS6" 6

# siplb's own count agrees: every packet that reached a VIP was logged by one backend
stats=$(sb_ctl --json stats) || fail "siplbctl stats"
for v in 4 6; do
	vip_pkts=$(jq --arg v "v$v" '.vips[] | select(.name == $v) | .packets' <<<"$stats")
	logged=$(sb_events "c$v" | wc -l)
	assert_eq "$vip_pkts" "$logged" "IPv$v: packets siplb counted at the VIP vs messages the backends logged"
	ok "IPv$v: siplb counted $vip_pkts packets at the VIP, the backends logged $logged"
done
info "siplbctl stats: $(jq -c '.events' <<<"$stats")"
info "total $((SECONDS - t0)) s"
