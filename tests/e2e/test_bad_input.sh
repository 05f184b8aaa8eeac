#!/usr/bin/env bash
# test_bad_input.sh: bad datagrams to the VIPs while real calls run. sipp calls through
# the IPv4 and IPv6 VIPs; meanwhile tests/e2e/badsend.py (in cl1, the callers' node) sends
# to both VIPs' SIP port: random binary garbage, HTTP, a TLS ClientHello and a DNS query
# over UDP (not_sip), SIP cut inside its headers (truncated), SIP without a Call-ID or with
# an empty one (no_call_id), without Via (no_via), with two Call-IDs (duplicate_call_id),
# a broken status line (malformed), and UDP lengths that disagree with the IP length
# (bad_l3, raw sockets). Checked: every call completes; siplb's drop counter of each
# reason (siplbctl --json stats, and the Prometheus metrics) went up by exactly what was
# sent for it, the other reasons and the slow path not at all; no backend saw a bad
# datagram (their logs never show the payloads' mark, nor a parse error), and siplb's
# per-VIP packet counts equal the messages the backends logged for the calls.
# Knobs: E2E_BI_CALLS (2000) E2E_BI_RATE (200/s) E2E_BI_CALLS6 (600) E2E_BI_RATE6 (100/s)
# E2E_BI_ROUNDS (100 rounds of 24 datagrams) E2E_BI_PPS (800 datagrams/s) E2E_BI_HOLD_MS (300).
# shellcheck source-path=SCRIPTDIR/../integ
source "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=../../scripts/sipbed.sh
source "$IT_DIR/../../scripts/sipbed.sh"

sb_check || skip "Kamailio or sipp missing (apt-get install kamailio sip-tester)"
command -v python3 >/dev/null || skip "python3 missing (it sends the bad datagrams)"
trap sb_down EXIT

CALLS=${E2E_BI_CALLS:-2000}
RATE=${E2E_BI_RATE:-200}
CALLS6=${E2E_BI_CALLS6:-600}
RATE6=${E2E_BI_RATE6:-100}
ROUNDS=${E2E_BI_ROUNDS:-100}
PPS=${E2E_BI_PPS:-800}
# calls of about 1 s: a busy machine does not reorder an ACK and the re-INVITE behind it
export SB_HOLD_MS=${E2E_BI_HOLD_MS:-300}
SENDER=$IT_DIR/../e2e/badsend.py
MARK=siplb-bad-input
# the drop reasons, as siplbctl and the metrics name them (include/siplb_reasons.h)
REASONS="not_sip no_call_id no_via duplicate_call_id truncated malformed keepalive no_backend bad_l3"

load_done() { # load_done NAME PID CALLS
	local rc=0
	wait "$2" || rc=$?
	info "sipp $1 (exit $rc): $(sb_sipp_summary "$1")"
	[ "$rc" = 0 ] || fail "sipp $1 exited $rc: $(sb_sipp_summary "$1"); caller: $(sb_sipp_errors "$1");" \
		"callee: $(sb_sipp_errors callee4) $(sb_sipp_errors callee6)"
	assert_eq "$(sb_sipp_stat "$1" 'SuccessfulCall(C)')" "$3" "$1: successful calls"
	assert_eq "$(sb_sipp_stat "$1" 'FailedCall(C)')" 0 "$1: failed calls"
}

# Kamailio log lines that are not our SIPLB lines (errors and warnings: parse failures)
kam_other() {
	local i n=0
	for ((i = 1; i <= TB_NBE; i++)); do
		n=$((n + $(grep -cv ' SIPLB be=' "$(sb_kam_log "$i")" || true)))
	done
	echo "$n"
}

t0=$SECONDS
tb_up 3
sb_callee_up || fail "callee node"
sb_kam_start_all proxy || fail "Kamailio backends"
sb_callee_start 4 || fail "callee (IPv4)"
sb_callee_start 6 || fail "callee (IPv6)"
sb_siplbd_start call-id || fail "siplbd"
ok "testbed, 3 Kamailio proxies, callee and siplbd up in $((SECONDS - t0)) s"

# --- the payloads are what they claim to be, by the parser the XDP program runs
mkdir -p "$TB_STATE/bad"
python3 "$SENDER" dump "$TB_STATE/bad" 3 || fail "badsend.py dump"
nfiles=0
for f in "$TB_STATE"/bad/*.bin; do
	want=$(basename "$f")
	want=${want%%-*}
	got=$("$TB_BUILD/siplbctl" parse --json "$f" | jq -r '.path + " " + (.reason // "-")') ||
		fail "siplbctl parse $f"
	assert_eq "$got" "drop $want" "siplbctl parse of $(basename "$f")"
	nfiles=$((nfiles + 1))
done
ok "siplbctl parse drops each of the $nfiles sample payloads for the reason it is sent as"

stats0=$(sb_ctl --json stats) || fail "siplbctl stats"
SB_CALLER_PORT=5060 sb_sipp_calls b4 4 "$CALLS" "$RATE" &
L4=$!
SB_CALLER_PORT=5060 sb_sipp_calls b6 6 "$CALLS6" "$RATE6" &
L6=$!
sleep 2
other0=$(kam_other)
sent=$(tb_exec cl1 env CL4="$TB_CL4" CL6="$TB_CL6" python3 "$SENDER" send "$TB_VIP4" "$TB_VIP6" \
	"$TB_SIP_PORT" "$ROUNDS" "$PPS") || fail "badsend.py: $sent"
total=$(jq '[.[]] | add' <<<"$sent")
ok "sent $total bad datagrams during the load: $sent"
load_done b4 "$L4" "$CALLS"
load_done b6 "$L6" "$CALLS6"

# --- siplb counted each one, under its reason
stats1=$(sb_ctl --json stats) || fail "siplbctl stats"
metrics=$(tb_exec lb curl -sf "http://127.0.0.1:9109/metrics") || fail "metrics endpoint"
for r in $REASONS; do
	d=$(($(jq ".drops.$r" <<<"$stats1") - $(jq ".drops.$r" <<<"$stats0")))
	want=$(jq ".$r // 0" <<<"$sent")
	assert_eq "$d" "$want" "drops counted as $r (siplbctl stats) vs datagrams sent as $r"
	m=$(awk -v r="$r" '$1 == "siplb_drops_total{reason=\"" r "\"}" { print $2 }' <<<"$metrics")
	assert_eq "${m:-missing}" "$(jq ".drops.$r" <<<"$stats1")" "siplb_drops_total{reason=\"$r\"} vs siplbctl"
done
slow=$(jq -n --argjson a "$stats0" --argjson b "$stats1" '[$b.slow[]] | add - ([$a.slow[]] | add)')
assert_eq "$slow" 0 "slow-path packets during the run"
ok "siplb dropped all $total, counted by reason (siplbctl and metrics agree):" \
	"$(jq -n -c --argjson a "$stats0" --argjson b "$stats1" '$b.drops | with_entries(.value -= $a.drops[.key]) | with_entries(select(.value > 0))')"

# --- and no backend saw any
seen=$(cat "$TB_STATE"/kam-be*.log | grep -c "$MARK" || true)
assert_eq "$seen" 0 "backend log lines with the bad payloads' mark"
other1=$(kam_other)
assert_eq "$((other1 - other0))" 0 "Kamailio log lines other than SIPLB ones (parse errors) during the run"
for v in 4 6; do
	vip_pkts=$(jq --arg v "v$v" '.vips[] | select(.name == $v) | .packets' <<<"$stats1")
	logged=$(sb_events "b$v" | wc -l)
	assert_eq "$vip_pkts" "$logged" "IPv$v: packets siplb forwarded from the VIP vs messages the backends logged"
done
ok "no backend saw a bad datagram: no mark, no parse error in the Kamailio logs; siplb" \
	"forwarded exactly the $(sb_events b4 | wc -l) + $(sb_events b6 | wc -l) messages of the calls"

# --- control: one round sent straight to be1's own addresses does show in its log
sent=$(tb_exec cl1 env CL4="$TB_CL4" CL6="$TB_CL6" python3 "$SENDER" send "${TB_BE4[1]}" "${TB_BE6[1]}" \
	"$TB_SIP_PORT" 1 "$PPS") || fail "badsend.py (control): $sent"
seen_ctl() { [ "$(grep -c "$MARK" "$(sb_kam_log 1)" || true)" -ge 1 ] && [ "$(kam_other)" -gt "$other1" ]; }
sb_wait 5 seen_ctl || fail "control: be1 logged neither the mark nor an error for bad datagrams sent to it directly"
ok "control: sent straight to be1, the same datagrams left $(grep -c "$MARK" "$(sb_kam_log 1)" || true)" \
	"marked and $(($(kam_other) - other1)) other lines in its log"
info "total $((SECONDS - t0)) s"
