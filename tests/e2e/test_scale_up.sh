#!/usr/bin/env bash
# test_scale_up.sh: a backend joins under load. siplbd starts with be1 and be2 on both
# VIPs (be3's Kamailio runs, unused); sipp calls through the IPv4 and the IPv6 VIP; in the
# middle be3 joins: on the IPv4 VIP by `siplbctl add`, on the IPv6 VIP by a reload of a
# file that lists it (and lists be3 on the IPv4 VIP too: the reload must keep the backend
# that siplbctl added, same id). Checked from the Kamailio logs: every call completes on
# one backend; the dialogs that began before be3 joined (INVITE logged before) all stay
# on be1/be2, some of them while they were still up across the change; new dialogs reach
# be3 (about a third of them); siplb's per-VIP packet counts equal the messages logged.
# Knobs: E2E_SU_CALLS (2000) E2E_SU_RATE (200/s) E2E_SU_CALLS6 (700) E2E_SU_RATE6 (100/s)
# E2E_SU_ADD_AT (4 s into the load) E2E_SU_HOLD_MS (300).
# shellcheck source-path=SCRIPTDIR/../integ
source "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=../../scripts/sipbed.sh
source "$IT_DIR/../../scripts/sipbed.sh"

sb_check || skip "Kamailio or sipp missing (apt-get install kamailio sip-tester)"
trap sb_down EXIT

CALLS=${E2E_SU_CALLS:-2000}
RATE=${E2E_SU_RATE:-200}
CALLS6=${E2E_SU_CALLS6:-700}
RATE6=${E2E_SU_RATE6:-100}
ADD_AT=${E2E_SU_ADD_AT:-4}
# calls last about 3 holds (1 s): many are up across the change, and a busy machine does
# not reorder an ACK and the re-INVITE behind it
export SB_HOLD_MS=${E2E_SU_HOLD_MS:-300}

# load_done NAME PID CALLS: wait for a background sipp; every call must succeed
load_done() {
	local rc=0 calls=$3
	wait "$2" || rc=$?
	info "sipp $1 (exit $rc): $(sb_sipp_summary "$1")"
	[ "$rc" = 0 ] || fail "sipp $1 exited $rc: $(sb_sipp_summary "$1"); caller: $(sb_sipp_errors "$1");" \
		"callee: $(sb_sipp_errors callee4) $(sb_sipp_errors callee6)"
	assert_eq "$(sb_sipp_stat "$1" 'SuccessfulCall(C)')" "$calls" "$1: successful calls"
}

be_json() { # be_json NAME FIELD
	sb_ctl --json backends | jq -r --arg n "$1" ".backends[] | select(.name == \$n) | .$2"
}

t0=$SECONDS
tb_up 3
sb_callee_up || fail "callee node"
sb_kam_start_all proxy || fail "Kamailio backends"
sb_callee_start 4 || fail "callee (IPv4)"
sb_callee_start 6 || fail "callee (IPv6)"
SB_BES="1 2" sb_siplbd_start call-id || fail "siplbd"
assert_eq "$(sb_ctl --json backends | jq -c '[.backends[].name]')" '["be1","be2","be1-6","be2-6"]' "backends at the start"
ok "testbed, 3 Kamailio proxies, callee up; siplbd with be1 and be2 only, in $((SECONDS - t0)) s"

SB_CALLER_PORT=5060 sb_sipp_calls s4 4 "$CALLS" "$RATE" &
L4=$!
SB_CALLER_PORT=5060 sb_sipp_calls s6 6 "$CALLS6" "$RATE6" &
L6=$!
sleep "$ADD_AT"

# --- be3 joins: IPv4 by siplbctl add, IPv6 by reloading a file that has it
sb_kam_mark add
out=$(sb_ctl --json add v4 "${TB_BE4[3]}" --name be3) || fail "siplbctl add: $out"
id3=$(jq -r .id <<<"$out")
[[ $id3 =~ ^[0-9]+$ ]] || fail "siplbctl add answered $out"
SB_BES="1 2 3" sb_siplbd_config "$TB_STATE/siplb.yaml" call-id || fail "config"
summary=$(sb_ctl reload | tr '\n' ' ') || fail "reload refused: $summary"
assert_match "$summary" "6 backends \(1 added, 0 removed" "reload summary (be3-6 added, be3 kept)"
assert_eq "$(be_json be3 id)" "$id3" "be3's id after the reload"
assert_eq "$(be_json be3 runtime)" false "be3 is in the file now"
ok "be3 added by siplbctl (id $id3) about $(sb_sipp_stat s4 TotalCallCreated) calls in;" \
	"be3-6 by reload ($summary)"

load_done s4 "$L4" "$CALLS"
load_done s6 "$L6" "$CALLS6"

# --- the dialogs, from the Kamailio logs
check() { # check NAME CALLS
	local name=$1 calls=$2 out
	sb_dialog_list "$name" add >"$TB_STATE/dl-$name" || fail "log analysis of $name"
	out=$(awk '
		{ n++; if ($4 != 1) inc++; if ($3 ~ /,/) { split_n++; if (split_n <= 5) print "split: " $0 > "/dev/stderr" } }
		$6 == "pre" { pre++; if ($3 !~ /^be[12]$/) { moved++; print "moved: " $0 > "/dev/stderr" }
			if ($7 == "post") across++ }
		$6 == "post" { post++; if ($2 == "be3") new3++ }
		END { print n + 0, inc + 0, split_n + 0, pre + 0, moved + 0, across + 0, post + 0, new3 + 0 }' \
		"$TB_STATE/dl-$name") || fail "analysis of $name"
	read -r n inc split_n pre moved across post new3 <<<"$out"
	assert_eq "$n" "$calls" "$name: dialogs in the backends' logs"
	assert_eq "$inc" 0 "$name: incomplete dialogs"
	assert_eq "$split_n" 0 "$name: dialogs split across backends"
	assert_ge "$pre" 1 "$name: dialogs begun before be3 joined"
	assert_eq "$moved" 0 "$name: dialogs begun before be3 joined that left be1/be2"
	assert_ge "$across" 1 "$name: dialogs up across the change"
	# Maglev gives be3 a third of the new dialogs; ask for a fifth
	[ $((new3 * 5)) -ge "$post" ] || fail "$name: be3 took $new3 of $post new dialogs, want >= 1/5"
	ok "$name: $calls calls complete, none split; $pre began before be3 joined and stayed on" \
		"be1/be2 ($across of them still up across the change); be3 took $new3 of the $post after"
}
check s4 "$CALLS"
check s6 "$CALLS6"

stats=$(sb_ctl --json stats) || fail "siplbctl stats"
for v in 4 6; do
	vip_pkts=$(jq --arg v "v$v" '.vips[] | select(.name == $v) | .packets' <<<"$stats")
	logged=$(sb_events "s$v" | wc -l)
	assert_eq "$vip_pkts" "$logged" "IPv$v: packets siplb counted at the VIP vs messages the backends logged"
done
for be in be3 be3-6; do
	assert_eq "$(be_json "$be" state)" up "$be's state"
	assert_eq "$(be_json "$be" health.probed)" true "$be probed"
	assert_ge "$(be_json "$be" dialogs)" 1 "$be's dialogs in the affinity map"
done
ok "siplb counted at the VIPs exactly the messages the backends logged; be3 and be3-6 up" \
	"and probed, with $(be_json be3 dialogs) + $(be_json be3-6 dialogs) dialogs in the affinity map"
info "siplbctl stats: $(jq -c '.events' <<<"$stats")"
info "total $((SECONDS - t0)) s"
