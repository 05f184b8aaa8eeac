#!/usr/bin/env bash
# test_flood.sh: real calls through siplb while a flood runs. The live-frames generator
# (xdpgen, BPF_F_TEST_XDP_LIVE_FRAMES, the fastest sender here) floods the VIP from cl1 with
# INVITEs from random spoofed sources (198.19.0.0/17) carrying a scanner's User-Agent, and
# with garbage (198.19.128.0/17), one generator thread per CPU, while sipp in cl1 (a
# legitimate client within its rate limits) places calls to the sipp callee through 3
# Kamailio proxies. Checked: at least 99% of the calls succeed (E2E_FLOOD_MIN_PCT), the
# backends' logs hold none of the flood's Call-IDs and exactly the legitimate load's
# messages, and siplb counted the flood as scanner and not_sip drops.
# Knobs: E2E_FLOOD_CALLS (600) E2E_FLOOD_RATE (60/s) E2E_FLOOD_MIN_PCT (99).
# With FLOOD_BENCH=FILE it also writes its figures there as JSON (scripts/bench_flood.sh).
# shellcheck source-path=SCRIPTDIR/../integ
source "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=../../scripts/sipbed.sh
source "$IT_DIR/../../scripts/sipbed.sh"

sb_check || skip "Kamailio or sipp missing (apt-get install kamailio sip-tester)"
trap sb_down EXIT

CALLS=${E2E_FLOOD_CALLS:-600}
RATE=${E2E_FLOOD_RATE:-60}
MIN_PCT=${E2E_FLOOD_MIN_PCT:-99}
FLOOD_S=$((CALLS / RATE + 6))	# covers the load and the calls' hold times
[ "$FLOOD_S" -le 60 ] || fail "E2E_FLOOD_CALLS / E2E_FLOOD_RATE: the flood would last over 60 s"

# siplbd with the DoS settings: sb_siplbd_config's file plus limits on VIP v4.
flood_siplbd_start() {
	local cfg=$TB_STATE/siplb.yaml
	sb_siplbd_config "$cfg" || return 1
	awk '{ print }
		/register_key:/ && !done {
			print "    rate_limit:"
			print "      dialog_creating: {rate: 500, burst: 1000}"
			print "      other: {rate: 5000, burst: 10000}"
			print "    auto_ban: {after: 5, duration: 60}"
			print "    scanner_user_agents: [friendly-scanner, sipvicious, sipcli]"
			done = 1
		}' "$cfg" >"$cfg.new" && mv "$cfg.new" "$cfg"
	echo "bans_file: $TB_STATE/bans" >>"$cfg"
	SB_BPFFS=$(tb_bpffs_new) || return 1
	tb_bg lb siplbd.log "$TB_BUILD/siplbd" -c "$cfg" --pin-root "$SB_BPFFS"
	SB_SIPLBD_PID=$TB_PID
	sb_wait 10 sb_ctl status || return 1
	sb_wait 15 sb_all_up $((2 * TB_NBE))
}

drops() { sb_ctl --json stats | jq -r --arg r "$1" '.drops[$r]'; }
vip_packets() { sb_ctl --json stats | jq -r '.vips[] | select(.name == "v4") | .packets'; }
# flood TEMPLATE CIDR CPU [ARGS...]: one generator thread in the background
flood() {
	local tmpl=$1 cidr=$2 cpu=$3
	shift 3
	tb_bg cl1 "xdpgen-$tmpl.json" "$TB_BUILD/tools/xdpgen" send --iface eth0 \
		--dst-mac "$(tb_mac lb)" --dst "$TB_VIP4" --template "$tmpl" --spoof-src "$cidr" \
		--callids 1000000 --prefix fl --seconds "$FLOOD_S" --threads 1 --cpus "$cpu" \
		--json "$@"
}

t0=$SECONDS
tb_up 3
sb_callee_up || fail "callee node"
sb_kam_start_all proxy || fail "Kamailio backends"
sb_callee_start 4 || fail "callee (IPv4)"
flood_siplbd_start || fail "siplbd: $(tail -n 5 "$TB_STATE/siplbd.log")"
# live frames need an XDP program on the veth peer; lb's MAC pinned on the bridge
tb_exec sw "$TB_BUILD/tools/tbnet" xdp-pass cl1 || fail "xdp-pass on sw's cl1 port"
tb_exec sw bridge fdb replace "$(tb_mac lb)" dev lb master static || fail "fdb"
ok "testbed, 3 Kamailio proxies, callee and siplbd (rate limits, scanner signatures) up in $((SECONDS - t0)) s"

# "run_cnt run_time_ns" of siplb's XDP program (counted while --bpf-stats holds stats on)
prog_stats() { tb_exec lb "$TB_BUILD/tools/xdpgen" progstats eth0 | awk '{print $6, $8}'; }
BENCH_ARGS=()
[ -z "${FLOOD_BENCH:-}" ] || BENCH_ARGS=(--bpf-stats)
read -r -a p0 < <(prog_stats)
scan0=$(drops scanner)
junk0=$(drops not_sip)
pkts0=$(vip_packets)
flood invite 198.19.0.0/17 1 --user-agent friendly-scanner "${BENCH_ARGS[@]}"
FLOOD_INV=$TB_PID
flood garbage 198.19.128.0/17 0
FLOOD_JUNK=$TB_PID
sleep 1

rc=0
sb_sipp_calls fl4 4 "$CALLS" "$RATE" || rc=$?
info "sipp under the flood (exit $rc): $(sb_sipp_summary fl4)"
wait "$FLOOD_INV" || fail "xdpgen (INVITEs) failed: $(cat "$TB_STATE/xdpgen-invite.json")"
wait "$FLOOD_JUNK" || fail "xdpgen (garbage) failed: $(cat "$TB_STATE/xdpgen-garbage.json")"
read -r -a p1 < <(prog_stats)
sleep 2	# the last calls' BYEs and the counters

inv=$(jq -s 'map(select(.frames)) | .[-1]' "$TB_STATE/xdpgen-invite.json")
junk=$(jq -s 'map(select(.frames)) | .[-1]' "$TB_STATE/xdpgen-garbage.json")
sent_inv=$(jq .frames <<<"$inv")
sent_junk=$(jq .frames <<<"$junk")
flood_s=$(jq -n --argjson a "$inv" --argjson b "$junk" '[$a.seconds, $b.seconds] | max')
scanned=$(($(drops scanner) - scan0))
junked=$(($(drops not_sip) - junk0))
info "flood: $sent_inv scanner INVITEs ($(jq .pps <<<"$inv") pps) + $sent_junk garbage" \
	"($(jq .pps <<<"$junk") pps) in ${flood_s} s; siplb dropped $scanned as scanner, $junked as not_sip"

# --- the legitimate calls
ok_calls=$(sb_sipp_stat fl4 'SuccessfulCall(C)')
failed=$(sb_sipp_stat fl4 'FailedCall(C)')
pct=$(jq -n --argjson o "$ok_calls" --argjson n "$CALLS" '$o * 100 / $n')
jq -n -e --argjson p "$pct" --argjson m "$MIN_PCT" '$p >= $m' >/dev/null ||
	fail "only $ok_calls of $CALLS calls ($pct%) succeeded under the flood ($failed failed), want >= $MIN_PCT%"
ok "$ok_calls of $CALLS calls ($pct%) succeeded while the flood ran"

# --- the backends saw none of the flood
flood_logged=$(sb_events fl | wc -l)
assert_eq "$flood_logged" 0 "flood messages in the Kamailio logs"
out=$(sb_dialogs fl4 2>/dev/null) || fail "log analysis failed"
assert_eq "$(sed -n 's/.* split=\([0-9]*\).*/\1/p' <<<" $out")" 0 "dialogs split across backends"
# every packet siplb forwarded for v4 is a message of the legitimate load
legit=$(sb_events fl4 | wc -l)
fwd=$(($(vip_packets) - pkts0))
assert_eq "$fwd" "$legit" "packets siplb forwarded for v4 vs messages of the calls the backends logged"
# and the flood reached siplb: counted as dropped (a full veth ring loses some frames
# before siplb sees them, which the generator does not notice)
assert_ge "$scanned" "$((sent_inv / 2))" "scanner drops (of $sent_inv sent)"
assert_ge "$junked" "$((sent_junk / 2))" "not_sip drops (of $sent_junk sent)"
ok "the backends logged none of the flood: $fwd packets forwarded, all $legit of them the calls';" \
	"$scanned scanner INVITEs and $junked garbage frames dropped in XDP"

if [ -n "${FLOOD_BENCH:-}" ]; then
	# siplb's own CPU time per packet while the flood ran (BPF run-time statistics)
	jq -n --argjson inv "$inv" --argjson junk "$junk" --argjson sc "$scanned" \
		--argjson nj "$junked" --argjson pct "$pct" --argjson calls "$CALLS" \
		--argjson pc "$((p1[0] - p0[0]))" --argjson pt "$((p1[1] - p0[1]))" '
		{ offered_pps: ($inv.pps + $junk.pps), dropped: ($sc + $nj),
		  seconds: ([$inv.seconds, $junk.seconds] | max), success_pct: $pct,
		  calls: $calls, prog_runs: $pc,
		  prog_ns: (if $pc > 0 then $pt / $pc else 0 end) }' >"$FLOOD_BENCH"
fi
info "total $((SECONDS - t0)) s"
