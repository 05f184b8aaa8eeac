#!/usr/bin/env bash
# test_scaleout.sh: two siplb instances behind a router that spreads the VIP over
# them by ECMP (routes learned over BGP from BIRD; L4 hash), three Kamailio backends.
# The caller opens a socket per call, so its calls hash to both instances, while
# the callee's one socket reaches one of them: caller and callee legs of many
# dialogs cross different instances, which share no state.
# 1. both instances announce the VIP and show the same table fingerprint; calls
#    keep every dialog on one backend (from the backends' logs);
# 2. scale-up (be3 joins) and drain (be1) on both instances during calls: nothing
#    split, nothing begun before the drain leaves be1;
# 3. stopping instance 1 (SIGTERM) withdraws its route; calls continue through
#    instance 2 with nothing split.
# The dialog window is set to what these dialogs last (a few seconds), as the
# operator sets it to the dialogs' lifetime (docs/architecture.md): by step 3 the
# generations of step 2 are out of it.
# Knobs: E2E_SO_CALLS (default 400) E2E_SO_RATE (40/s) E2E_SO_WINDOW (4 s).
# shellcheck source-path=SCRIPTDIR/../integ
source "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=../../scripts/sipbed.sh
source "$IT_DIR/../../scripts/sipbed.sh"
# shellcheck source=../../scripts/ecmpbed.sh
source "$IT_DIR/../../scripts/ecmpbed.sh"

sb_check || skip "Kamailio or sipp missing (apt-get install kamailio sip-tester)"
eb_check || skip "BIRD missing (apt-get install bird2)"
trap eb_down EXIT

CALLS=${E2E_SO_CALLS:-400}
RATE=${E2E_SO_RATE:-40}
export SB_HOLD_MS=${E2E_SO_HOLD_MS:-300}
# probes every 100 ms: the instances' verdicts on a joining backend differ by
# at most about one interval (docs/architecture.md, health disagreement)
export SB_HC_INTERVAL=100 SB_HC_TIMEOUT=80
export EB_DIALOG_WINDOW=${E2E_SO_WINDOW:-4}

kv() {
	sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $2"
}

fp() { # fp I: instance I's IPv4 table fingerprint
	eb_ctl "$1" --json status | jq -r '.vips[] | select(.name == "v4") | .table_fingerprint'
}

vip_packets() { # vip_packets I
	eb_ctl "$1" --json stats | jq '.vips[] | select(.name == "v4") | .packets'
}

# check_dialogs NAME CALLS: every call succeeded, every dialog on one backend
check_dialogs() {
	local name=$1 calls=$2 out
	info "sipp $name: $(sb_sipp_summary "$name")"
	assert_eq "$(sb_sipp_stat "$name" 'SuccessfulCall(C)')" "$calls" "$name: calls successful at the caller"
	out=$(sb_dialogs "$name" 2>"$TB_STATE/dialogs-$name.err") || fail "$name: log analysis failed"
	[ -s "$TB_STATE/dialogs-$name.err" ] && cat "$TB_STATE/dialogs-$name.err" >&2
	info "backends' logs, $name: $out"
	assert_eq "$(kv dialogs "$out")" "$calls" "$name: dialogs in the backends' logs"
	assert_eq "$(kv split "$out")" 0 "$name: dialogs split across backends"
	assert_eq "$(kv incomplete "$out")" 0 "$name: dialogs with a message missing at their backend"
	assert_ge "$(kv callee_byes "$out")" 1 "$name: dialogs ended by the callee"
}

# both CMD ARGS...: CMD on instances 1 and 2 at the same time ({} is the instance)
both() {
	local i pids=() rc=0 args
	for i in 1 2; do
		args=("${@//\{\}/$i}")
		"${args[@]}" >"$TB_STATE/both-$i.out" 2>&1 &
		pids+=($!)
	done
	for i in 0 1; do
		wait "${pids[i]}" || { rc=1; cat "$TB_STATE/both-$((i + 1)).out" >&2; }
	done
	return "$rc"
}

# run_load NAME: CALLS calls in the background, caller socket per call
run_load() {
	SB_CALLER_PORT=5070 sb_sipp_calls "$1" 4 "$CALLS" "$RATE" -t un -max_socket 2000 &
	LOAD=$!
}

load_wait() {
	local rc=0
	wait "$LOAD" || rc=$?
	[ "$rc" = 0 ] || fail "sipp $1 exited $rc: $(sb_sipp_summary "$1"); caller: $(sb_sipp_errors "$1");" \
		"callee: $(sb_sipp_errors callee4)"
}

t0=$SECONDS
tb_up 3
sb_callee_up || fail "callee node"
eb_up || fail "router, second balancer, BIRD"
sb_kam_start_all proxy || fail "Kamailio backends"
sb_callee_start 4 || fail "callee (IPv4)"
export SB_BES="1 2"
eb_siplbd_start 1 || fail "siplbd 1"
eb_siplbd_start 2 || fail "siplbd 2"
eb_wait_paths 2 60 || fail "the router has no ECMP route over both instances: '$(eb_paths)'"
assert_eq "$(eb_paths)" "$TB_LB4 $EB_LB2_4" "the router's next hops for the VIP"
ok "testbed, router (BGP, ECMP), 2 instances, 3 Kamailio proxies up in $((SECONDS - t0)) s"

# --- 1. the same table, calls across both
f1=$(fp 1)
f2=$(fp 2)
assert_match "$f1" '^[0-9a-f]{16}$' "instance 1's fingerprint"
assert_eq "$f2" "$f1" "both instances' table fingerprint"
assert_eq "$(eb_ctl 1 --json status | jq '.vips[] | select(.name == "v4") | .announced')" true "instance 1 announces"
ok "both instances announce the VIP with table fingerprint $f1"

run_load a
load_wait a
check_dialogs a "$CALLS"
# the callee's one socket is one flow, on one instance: packets on both
# instances mean that callers' legs crossed to the other one
p1=$(vip_packets 1)
p2=$(vip_packets 2)
assert_ge "$p1" 1 "packets through instance 1"
assert_ge "$p2" 1 "packets through instance 2"
ok "a: $CALLS calls, none split; instance 1 steered $p1 packets, instance 2 $p2"

# --- 2. scale-up and drain on both instances during calls
run_load b
sleep 3
sb_kam_mark add
# on both instances at once: they disagree for as long as the commands are apart
both eb_ctl {} --json add v4 "${TB_BE4[3]}" --name be3 || fail "siplbctl add be3"
sb_wait 10 eb_all_up 1 5 || fail "instance 1: be3 not up"
sb_wait 10 eb_all_up 2 5 || fail "instance 2: be3 not up"
assert_eq "$(fp 2)" "$(fp 1)" "fingerprints after the scale-up"
sleep 3
# at one wall-clock instant on both instances (--at): they agree to the 20 ms tick
at=$(($(date +%s%3N) + 500))
for i in 1 2; do
	out=$(eb_ctl "$i" --json drain be1 --at "$at") || fail "instance $i: siplbctl drain be1 --at: $out"
	assert_eq "$(jq -r .state <<<"$out")" scheduled "instance $i: drain scheduled"
done
sb_wait 5 sh -c "[ \$(date +%s%3N) -gt $((at + 200)) ]"
for i in 1 2; do
	assert_eq "$(eb_ctl "$i" --json backends | jq -r '.backends[] | select(.name == "be1") | .state')" \
		draining "instance $i: be1's state after the scheduled drain"
done
# what the backends log from here on was steered after the drain
sb_kam_mark drain
assert_eq "$(fp 2)" "$(fp 1)" "fingerprints after the drain"
drained_at=$SECONDS
for i in 1 2; do
	older=$(eb_ctl "$i" --json status | jq '.vips[] | select(.name == "v4") | .earlier_generations')
	assert_ge "$older" 1 "instance $i: earlier generations in the window"
done
load_wait b
check_dialogs b "$CALLS"
sb_dialog_list b drain >"$TB_STATE/dl-b" || fail "log analysis"
new_on_be1=$(awk '$6 == "post" && $2 == "be1"' "$TB_STATE/dl-b" | wc -l)
assert_eq "$new_on_be1" 0 "dialogs begun after the drain on be1"
sb_dialog_list b add >"$TB_STATE/dl-b-add" || fail "log analysis"
on_be3=$(awk '$6 == "post" && $2 == "be3"' "$TB_STATE/dl-b-add" | wc -l)
assert_ge "$on_be3" 1 "dialogs on be3 after it joined"
ok "b: scale-up (be3 took $on_be3 dialogs) and drain of be1 on both instances during" \
	"$CALLS calls: none split"

# --- 3. stop instance 1: its route goes, the calls go on through instance 2
# (dialogs begun since the changes of step 2 would be steered by the generation
# before them on an instance that never saw them while that is in the window)
while [ $((SECONDS - drained_at)) -le "$EB_DIALOG_WINDOW" ]; do sleep 1; done
assert_eq "$(eb_ctl 2 --json status | jq .dialog_window_s)" "$EB_DIALOG_WINDOW" "instance 2's dialog window"
run_load c
sleep 3
before=$(vip_packets 2)
eb_siplbd_stop 1
grep -q "withdrawn" "$TB_STATE/siplbd1.log" || fail "instance 1 did not log the withdrawal"
eb_wait_paths 1 15 || fail "the router still routes via: '$(eb_paths)'"
assert_eq "$(eb_paths)" "$EB_LB2_4" "the router's next hop after instance 1 stopped"
load_wait c
check_dialogs c "$CALLS"
after=$(vip_packets 2)
assert_ge "$((after - before))" 1 "packets through instance 2 after the stop"
ok "c: instance 1 stopped mid-load, its route withdrawn; $CALLS calls completed, none split"
info "total $((SECONDS - t0)) s"
