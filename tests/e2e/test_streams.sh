#!/usr/bin/env bash
# test_streams.sh: SIP over TCP and TLS through siplbd's relay, and the UDP slow path,
# with Kamailio backends and sipp. sipp (cl1) calls over TCP straight to the VIP and
# over TLS through tlspipe (this sipp has no TLS): every call completes at both ends,
# BYEs from both sides reach the right client, every dialog stays on one backend. A
# 4000-byte INVITE over UDP, fragmented by cl1's stack, arrives whole at the backend
# the steering rule names. While a TLS load runs: a client with a certificate from
# another CA, a plain-text client on the TLS port and a slowloris client are refused
# and counted, and the load's calls all complete. A forged and a stale flow token are
# refused by SIP errors (403, 430).
# Knobs: E2E_STREAM_CALLS (default 200), E2E_STREAM_RATE (50/s).
# shellcheck source-path=SCRIPTDIR/../integ
source "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=../../scripts/sipbed.sh
source "$IT_DIR/../../scripts/sipbed.sh"
# shellcheck source=../../scripts/sipbed_tls.sh
source "$IT_DIR/../../scripts/sipbed_tls.sh"

sb_check || skip "Kamailio or sipp missing (apt-get install kamailio sip-tester)"
command -v openssl >/dev/null || skip "openssl missing"
trap sb_down EXIT

CALLS=${E2E_STREAM_CALLS:-200}
RATE=${E2E_STREAM_RATE:-50}
PIPE_PORT=5070

kv() {
	sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $2"
}

ev() {
	st_metric siplb_stream_events_total "event=\"$1\""
}

# check_calls NAME CALLS: sipp's counts and the backends' logs for one load
check_calls() {
	local name=$1 calls=$2 out b
	info "sipp $name: $(sb_sipp_summary "$name")"
	assert_eq "$(sb_sipp_stat "$name" 'SuccessfulCall(C)')" "$calls" "$name: calls successful at the caller"
	assert_eq "$(sb_sipp_stat "$name" 'FailedCall(C)')" 0 "$name: calls failed at the caller"
	out=$(sb_dialogs "$name" 2>"$TB_STATE/dialogs-$name.err") || fail "$name: log analysis failed"
	info "backends' logs, $name: $out"
	assert_eq "$(kv dialogs "$out")" "$calls" "$name: dialogs in the backends' logs"
	assert_eq "$(kv split "$out")" 0 "$name: dialogs split across backends"
	assert_eq "$(kv incomplete "$out")" 0 "$name: dialogs with a message missing at their backend"
	assert_ge "$(kv callee_byes "$out")" 1 "$name: dialogs ended by the callee"
	assert_ge "$(kv caller_byes "$out")" 1 "$name: dialogs ended by the caller"
	for ((b = 1; b <= TB_NBE; b++)); do
		assert_ge "$(kv "be$b" "$out")" 1 "$name: dialogs on be$b"
	done
}

t0=$SECONDS
tb_up 3
st_certs || fail "test certificates: $(tail -n 5 "$TB_STATE/certs.log")"
sb_callee_up || fail "callee node"
sb_kam_start_all proxy || fail "Kamailio backends"
sb_callee_start 4 || fail "callee (IPv4)"
st_siplbd_start || fail "siplbd"
ok "testbed, certificates, 3 Kamailio proxies, callee and siplbd (udp, tcp, tls) up in $((SECONDS - t0)) s"

# --- TCP: sipp straight to the VIP
rc=0
SB_CALLER_PORT=5062 sb_sipp_calls tcp 4 "$CALLS" "$RATE" -t t1 || rc=$?
[ "$rc" = 0 ] || fail "sipp over TCP exited $rc: $(sb_sipp_summary tcp); $(head -c 600 "$TB_STATE/sipp-tcp.err" 2>/dev/null)"
check_calls tcp "$CALLS"
ok "TCP: $CALLS calls complete, each dialog on one backend, BYEs from both sides"

# --- TLS: sipp over TCP to tlspipe, TLS from there to the VIP
st_tlspipe_start "$PIPE_PORT" || fail "tlspipe"
rc=0
sb_sipp_run tls 4 "$((CALLS / RATE + 30))" -sf "$(sb_scenario uac_call.xml)" -t t1 \
	-p 5063 -m "$CALLS" -r "$RATE" -l 2000 -cid_str "tls-%u-%p@%s" -recv_timeout 12000 \
	-rsa "127.0.0.1:$PIPE_PORT" || rc=$?
[ "$rc" = 0 ] || fail "sipp over TLS exited $rc: $(sb_sipp_summary tls); $(head -c 600 "$TB_STATE/sipp-tls.err" 2>/dev/null)"
check_calls tls "$CALLS"
assert_ge "$(ev tls_handshake_ok)" 1 "TLS handshakes"
ok "TLS: $CALLS calls complete, each dialog on one backend, BYEs from both sides"
