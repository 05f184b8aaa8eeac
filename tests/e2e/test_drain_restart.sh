#!/usr/bin/env bash
# test_drain_restart.sh: operator actions under sipp load (IPv4 and IPv6 VIPs at once).
# 1. drain be1 (siplbctl drain, both VIPs): no dialog that begins after the drain lands on
#    be1; the dialogs on be1 stay there and complete there, some of them up across it;
# 2. undrain: new dialogs reach be1 again;
# 3. hitless restart (SIGTERM siplbd, 1 s without it, start it again with the same config
#    and bpffs): the calls go on in that second (the backends log their messages), the
#    pinned program and maps are reused and every call completes.
# Over the whole run: zero failed calls, zero dialogs split, and siplb's per-VIP packet
# counts (kept across the restart) equal the messages the backends logged.
# Knobs: E2E_DR_CALLS (3000) E2E_DR_RATE (200/s) E2E_DR_CALLS6 (1200) E2E_DR_RATE6 (80/s)
# E2E_DR_HOLD_MS (1000: calls last about 3 s) E2E_DR_SETTLE (0.5 s).
# shellcheck source-path=SCRIPTDIR/../integ
source "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=../../scripts/sipbed.sh
source "$IT_DIR/../../scripts/sipbed.sh"

sb_check || skip "Kamailio or sipp missing (apt-get install kamailio sip-tester)"
trap sb_down EXIT

CALLS=${E2E_DR_CALLS:-3000}
RATE=${E2E_DR_RATE:-200}
CALLS6=${E2E_DR_CALLS6:-1200}
RATE6=${E2E_DR_RATE6:-80}
# Kamailio logs a message at most this long after siplb steered it (CPU may be contended)
SETTLE=${E2E_DR_SETTLE:-0.5}
# calls last about 3 holds: many are up across each change
export SB_HOLD_MS=${E2E_DR_HOLD_MS:-1000}

load_done() { # load_done NAME PID CALLS
	local rc=0
	wait "$2" || rc=$?
	info "sipp $1 (exit $rc): $(sb_sipp_summary "$1")"
	[ "$rc" = 0 ] || fail "sipp $1 exited $rc: $(sb_sipp_summary "$1"); caller: $(sb_sipp_errors "$1");" \
		"callee: $(sb_sipp_errors callee4) $(sb_sipp_errors callee6)"
	assert_eq "$(sb_sipp_stat "$1" 'SuccessfulCall(C)')" "$3" "$1: successful calls"
	assert_eq "$(sb_sipp_stat "$1" 'FailedCall(C)')" 0 "$1: failed calls"
}

t0=$SECONDS
tb_up 3
sb_callee_up || fail "callee node"
sb_kam_start_all proxy || fail "Kamailio backends"
sb_callee_start 4 || fail "callee (IPv4)"
sb_callee_start 6 || fail "callee (IPv6)"
sb_siplbd_start call-id || fail "siplbd"
ok "testbed, 3 Kamailio proxies, callee and siplbd up in $((SECONDS - t0)) s"

SB_CALLER_PORT=5060 sb_sipp_calls d4 4 "$CALLS" "$RATE" &
L4=$!
SB_CALLER_PORT=5060 sb_sipp_calls d6 6 "$CALLS6" "$RATE6" &
L6=$!
sleep 3

# --- 1. drain be1
sb_kam_mark predrain
for be in be1 be1-6; do
	out=$(sb_ctl drain "$be") || fail "siplbctl drain $be: $out"
	assert_eq "$(sb_be_state "$be")" draining "$be's state after drain"
done
# what Kamailio logs from here on was steered after the drain
sleep "$SETTLE"
sb_kam_mark drain
sleep 3
for be in be1 be1-6; do
	assert_eq "$(sb_be_state "$be")" draining "$be's state 3 s into the drain"
done
sb_kam_mark undrain
for be in be1 be1-6; do
	out=$(sb_ctl undrain "$be") || fail "siplbctl undrain $be: $out"
	assert_eq "$(sb_be_state "$be")" up "$be's state after undrain"
done
ok "be1 drained for 3 s, then undrained (about $(sb_sipp_stat d4 TotalCallCreated) calls in)"

# --- 3. hitless restart
sleep 1.5
sb_kam_mark restart
sb_siplbd_stop
# no siplbd for a second: XDP goes on steering with the pinned maps
sb_kam_mark stopped
sleep 1
sb_kam_mark gap
sb_siplbd_restart 0 || fail "siplbd restart"
restarted_at=$(sb_sipp_stat d4 TotalCallCreated)
in_gap=$(paste "$TB_STATE/mark-stopped" "$TB_STATE/mark-gap" | awk '{ s += $4 - $2 } END { print s + 0 }')
assert_ge "$in_gap" "$RATE" "messages the backends logged in the second without siplbd"
grep -q "program replaced in the pinned link" "$TB_STATE/siplbd.log" || fail "the restart did not reuse the pinned link"
grep -q "maps reused" "$TB_STATE/siplbd.log" || fail "the restart did not reuse the maps"
sb_wait 10 sb_all_up 6 || fail "after the restart not all backends are probed up: $(sb_ctl backends)"
ok "siplbd restarted (about $restarted_at calls in) after 1 s away, in which the backends logged" \
	"$in_gap messages: pinned link and maps reused, 6 backends up again"

load_done d4 "$L4" "$CALLS"
load_done d6 "$L6" "$CALLS6"

# --- the dialogs, from the Kamailio logs
# drain_check NAME: dialogs on be1 across the drain; none new on be1 while drained
drain_check() {
	local name=$1 out
	sb_dialog_list "$name" drain >"$TB_STATE/dl-$name-drain" || fail "log analysis"
	sb_dialog_list "$name" undrain >"$TB_STATE/dl-$name-undrain" || fail "log analysis"
	sb_dialog_list "$name" predrain >"$TB_STATE/dl-$name-predrain" || fail "log analysis"
	sb_dialog_list "$name" restart >"$TB_STATE/dl-$name-restart" || fail "log analysis"
	# every dialog: complete, on one backend
	out=$(awk '$4 != 1 { inc++; if (inc <= 5) print "incomplete: " $0 > "/dev/stderr" }
		$3 ~ /,/ { sp++; if (sp <= 5) print "split: " $0 > "/dev/stderr" }
		END { print NR, inc + 0, sp + 0 }' "$TB_STATE/dl-$name-drain")
	read -r n inc sp <<<"$out"
	assert_eq "$n" "$2" "$name: dialogs in the backends' logs"
	assert_eq "$inc" 0 "$name: incomplete dialogs"
	assert_eq "$sp" 0 "$name: dialogs split across backends"
	# begun while drained: INVITE after the "drain" mark and before the "undrain" mark
	drained_new=$(join <(awk '$6 == "post" { print $1 }' "$TB_STATE/dl-$name-drain" | sort) \
		<(awk '$6 == "pre" { print $1, $2 }' "$TB_STATE/dl-$name-undrain" | sort))
	n_new=$(grep -c . <<<"$drained_new" || true)
	on_be1=$(awk '$2 ~ /be1/' <<<"$drained_new" | wc -l)
	assert_ge "$n_new" 1 "$name: dialogs begun while be1 was drained"
	[ "$on_be1" = 0 ] || fail "$name: $on_be1 dialogs begun while be1 was drained went to be1:" \
		"$(awk '$2 ~ /be1/' <<<"$drained_new" | head -n 3)"
	# on be1 before the drain (INVITE before the "predrain" mark), still up after it
	# (a message after the "drain" mark): they stayed and completed on be1
	kept=$(join <(awk '$6 == "pre" && $2 == "be1" && $3 == "be1" && $5 == "be1" { print $1 }' \
		"$TB_STATE/dl-$name-predrain" | sort) \
		<(awk '$7 == "post" { print $1 }' "$TB_STATE/dl-$name-drain" | sort) | wc -l)
	assert_ge "$kept" 1 "$name: dialogs on be1 that stayed up across the drain"
	bad=$(awk '$6 == "pre" && $2 ~ /be1/ && ($3 != "be1" || $5 != "be1")' "$TB_STATE/dl-$name-predrain" | wc -l)
	assert_eq "$bad" 0 "$name: dialogs begun on be1 before the drain that did not end there"
	# after the undrain be1 takes new dialogs again
	back=$(awk '$6 == "post" && $2 == "be1"' "$TB_STATE/dl-$name-undrain" | wc -l)
	assert_ge "$back" 1 "$name: new dialogs on be1 after the undrain"
	across=$(awk '$6 == "pre" && $7 == "post"' "$TB_STATE/dl-$name-restart" | wc -l)
	assert_ge "$across" 1 "$name: dialogs up across the restart"
	ok "$name: $n calls complete, none split; while be1 was drained $n_new dialogs began, none" \
		"on be1, and $kept dialogs up on be1 across the drain ended there; after the undrain" \
		"be1 took $back new ones; $across dialogs were up across the restart"
}
drain_check d4 "$CALLS"
drain_check d6 "$CALLS6"

stats=$(sb_ctl --json stats) || fail "siplbctl stats"
for v in 4 6; do
	vip_pkts=$(jq --arg v "v$v" '.vips[] | select(.name == $v) | .packets' <<<"$stats")
	logged=$(sb_events "d$v" | wc -l)
	assert_eq "$vip_pkts" "$logged" "IPv$v: packets siplb counted at the VIP (across the restart) vs messages logged"
done
assert_ge "$(jq '.events.kept_on_draining' <<<"$stats")" 1 "kept_on_draining events"
ok "siplb counted at the VIPs exactly the messages the backends logged, across the restart"
info "siplbctl stats: $(jq -c '.events' <<<"$stats")"
info "total $((SECONDS - t0)) s"
