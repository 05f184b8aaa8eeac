#!/usr/bin/env bash
# test_streams.sh: SIP over TCP and TLS through siplbd's relay, and the UDP slow path,
# with Kamailio backends and sipp. sipp (cl1) calls over TCP straight to the VIP (IPv4
# and IPv6) and over TLS through tlspipe (this sipp has no TLS): every call completes
# at both ends, BYEs from both sides reach the right client, every dialog stays on one
# backend. A 4000-byte INVITE over UDP, fragmented by cl1's stack, arrives whole at the
# backend the steering rule names; so does one whose Call-ID is past the XDP window; a
# dialog over UDP and TCP stays on one backend. While a TLS load runs: a client with a
# certificate from another CA, a plain-text client on the TLS port, a broken stream
# and slowloris clients are refused and counted, SIGHUP swaps the certificate without
# dropping the load's connection, and the load's calls all complete. A forged and a
# stale flow token are refused by SIP errors (403, 430); a reload with a mismatched
# key is refused; max_connections holds.
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
sb_callee_start 6 || fail "callee (IPv6)"
st_siplbd_start || fail "siplbd"
ok "testbed, certificates, 3 Kamailio proxies, callee and siplbd (udp, tcp, tls) up in $((SECONDS - t0)) s"

# --- TCP: sipp straight to the VIP
rc=0
SB_CALLER_PORT=5062 sb_sipp_calls tcp 4 "$CALLS" "$RATE" -t t1 \
	-trace_msg -message_file "$TB_STATE/msgs-tcp.log" || rc=$?
[ "$rc" = 0 ] || fail "sipp over TCP exited $rc: $(sb_sipp_summary tcp); $(head -c 600 "$TB_STATE/sipp-tcp.err" 2>/dev/null)"
check_calls tcp "$CALLS"
ok "TCP: $CALLS calls complete, each dialog on one backend, BYEs from both sides"

# --- TCP over IPv6 (the relay from src6, IP6IP6 to the backends)
CALLS6=$((CALLS / 2))
rc=0
SB_CALLER_PORT=5062 sb_sipp_calls tcp6 6 "$CALLS6" "$RATE" -t t1 || rc=$?
[ "$rc" = 0 ] || fail "sipp over TCP/IPv6 exited $rc: $(sb_sipp_summary tcp6); $(head -c 600 "$TB_STATE/sipp-tcp6.err" 2>/dev/null)"
check_calls tcp6 "$CALLS6"
ok "TCP over IPv6: $CALLS6 calls complete, each dialog on one backend, BYEs from both sides"

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

# --- UDP slow path: a 4000-byte INVITE, fragmented by cl1's stack, reassembled on lb,
# steered by siplbd like XDP and sent IPIP (inner fragments) to the backend
# req FILE CALL-ID CSEQ BODY-BYTES [VIA-HOST:PORT [ROUTE]]: a request for the backends
req() {
	local f=$1 cid=$2 cseq=$3 n=$4 via=${5:-$TB_CL4:5099} route=${6:-}
	{
		printf 'INVITE sip:frag@%s SIP/2.0\r\n' "$TB_VIP4"
		printf 'Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%s;rport\r\n' "$via" "$cid" "$cseq"
		[ -n "$route" ] && printf 'Route: %s\r\n' "$route"
		printf 'Max-Forwards: 70\r\nFrom: <sip:frag@siplb.test>;tag=f%s\r\n' "$cseq"
		printf 'To: <sip:frag@%s>\r\n' "$TB_VIP4"
		# REQ_PAD bytes of header before the Call-ID: past the XDP parser's window
		[ "${REQ_PAD:-0}" -gt 0 ] && printf 'X-Pad: %s\r\n' "$(head -c "$REQ_PAD" /dev/zero | tr '\0' 'p')"
		printf 'Call-ID: %s\r\nCSeq: %s INVITE\r\n' "$cid" "$cseq"
		printf 'Content-Type: text/plain\r\nContent-Length: %s\r\n\r\n' "$n"
		head -c "$n" /dev/zero | tr '\0' 'x'
	} >"$f"
}

# send FILE: from cl1 to the VIP over UDP; prints the status line(s) of the answer
send() {
	tb_exec cl1 "$TB_BUILD/tools/udpxchg" --dst "$TB_VIP4:5060" --src "$TB_CL4:5099" --wait-ms 1500 "$1"
}

# backend_of PREFIX: the backends that logged requests of Call-IDs PREFIX-*, with their source
backend_of() {
	sb_events "$1" | awk '$2 == "req" { print $1, $7 }' | sort -u
}

TB_CL4=$(tb_addr4 cl1)
frag0=$(ev udp_slow_fragmented)
req "$TB_STATE/a-small" fraga-1 1 200
req "$TB_STATE/a-big" fraga-1 2 4000
req "$TB_STATE/b-big" fragb-1 1 4000
req "$TB_STATE/b-small" fragb-1 2 200
REQ_PAD=2500 req "$TB_STATE/c-far" fragc-1 1 100
req "$TB_STATE/c-small" fragc-1 2 100
assert_ge "$(stat -c %s "$TB_STATE/a-big")" 4000 "the big INVITE's size"
# a: XDP first (affinity written in the kernel), then the slow path
assert_match "$(send "$TB_STATE/a-small")" "SIP/2.0 404" "the small INVITE's answer"
assert_match "$(send "$TB_STATE/a-big")" "SIP/2.0 404" "the 4000-byte INVITE's answer (the backend parsed it whole)"
# b: the slow path first (affinity written by siplbd), then XDP
assert_match "$(send "$TB_STATE/b-big")" "SIP/2.0 404" "the 4000-byte INVITE's answer"
assert_match "$(send "$TB_STATE/b-small")" "SIP/2.0 404" "the small INVITE's answer"
# c: the Call-ID 2500 bytes in, past the XDP window: siplbd finds it, then XDP agrees
assert_match "$(send "$TB_STATE/c-far")" "SIP/2.0 404" "the INVITE whose Call-ID is past the window"
assert_match "$(send "$TB_STATE/c-small")" "SIP/2.0 404" "the small INVITE's answer"
for d in fraga fragb fragc; do
	got=$(backend_of "$d")
	info "$d: $(sb_events "$d" | awk '$2 == "req"' | tr '\n' ';')"
	assert_eq "$(wc -l <<<"$got")" 1 "$d: one backend, one source for both INVITEs"
	assert_match "$got" " $TB_CL4\$" "$d: the backend sees the client's address"
	assert_eq "$(sb_events "$d" | awk '$2 == "req"' | wc -l)" 2 "$d: both INVITEs reached it"
done
assert_ge "$(($(ev udp_slow_fragmented) - frag0))" 2 "slow-path messages sent in fragments"
ok "fragmented 4000-byte INVITEs and a Call-ID past the XDP window arrive whole, from the client's address, at the backend of their dialog (XDP and slow path agree)"

# --- one dialog over two transports: UDP (XDP) first, then TCP (siplbd's relay)
req "$TB_STATE/d-udp" mixd-1 1 100
req "$TB_STATE/d-tcp" mixd-1 2 100 "$TB_CL4:5098"
sed -i 's|SIP/2.0/UDP|SIP/2.0/TCP|' "$TB_STATE/d-tcp"
assert_match "$(send "$TB_STATE/d-udp")" "SIP/2.0 404" "the dialog's UDP INVITE"
got=$(tb_exec cl1 timeout 5 bash -c "exec 3<>/dev/tcp/$TB_VIP4/5060; cat '$TB_STATE/d-tcp' >&3;
	IFS= read -r line <&3; echo \"\$line\"" || true)
assert_match "$got" "^SIP/2.0 404" "the dialog's TCP INVITE, answered over its connection"
info "mixd: $(sb_events mixd | awk '$2 == "req"' | tr '\n' ';')"
assert_eq "$(sb_events mixd | awk '$2 == "req" { print $1 }' | sort -u | wc -l)" 1 "mixd: one backend for both transports"
assert_eq "$(sb_events mixd | awk '$2 == "req"' | wc -l)" 2 "mixd: both INVITEs reached it"
ok "a dialog that mixes UDP and TCP stays on one backend"

# --- flow tokens: a stale one (the TCP load's connection is closed) and a forged one
tok=$(grep -o 'sip:[A-Za-z0-9_-]\{24\}@' "$TB_STATE/msgs-tcp.log" | awk 'NR == 1 { print substr($0, 5, 24) }')
[ ${#tok} = 24 ] || fail "no flow token in the TCP load's Record-Route"
forged="${tok:0:10}$([ "${tok:10:1}" = A ] && echo B || echo A)${tok:11}"
BE1=$(tb_addr4 be1)
route="<sip:$TB_LB4:5060;lr>,<sip:$tok@$TB_VIP4:5060;transport=tcp;lr>"
req "$TB_STATE/stale" tok-stale 1 0 "$BE1:5098" "$route"
req "$TB_STATE/forged" tok-forged 1 0 "$BE1:5098" "${route/$tok/$forged}"
got=$(tb_exec be1 "$TB_BUILD/tools/udpxchg" --dst "$TB_LB4:5060" --src "$BE1:5098" --wait-ms 1500 "$TB_STATE/stale")
assert_match "$got" "^SIP/2.0 430 Flow Failed" "a request for a closed connection"
got=$(tb_exec be1 "$TB_BUILD/tools/udpxchg" --dst "$TB_LB4:5060" --src "$BE1:5098" --wait-ms 1500 "$TB_STATE/forged")
assert_match "$got" "^SIP/2.0 403" "a request with a forged flow token"
assert_ge "$(ev flow_token_stale)" 1 "stale flow tokens counted"
assert_ge "$(ev flow_token_forged)" 1 "forged flow tokens counted"
ok "a closed connection's flow token gets 430 Flow Failed, a forged one 403"

# --- hostile clients and a certificate reload while a TLS load runs
LOAD=$((CALLS * 2))
sb_sipp_run tlsload 4 "$((LOAD / RATE + 30))" -sf "$(sb_scenario uac_call.xml)" -t t1 \
	-p 5064 -m "$LOAD" -r "$RATE" -l 2000 -cid_str "tlsload-%u-%p@%s" -recv_timeout 12000 \
	-rsa "127.0.0.1:$PIPE_PORT" &
load_pid=$!
sleep 1
# a client certificate from another CA
got=$(st_tls_once --cert "$TB_STATE/tls/badclient.pem" --key "$TB_STATE/tls/badclient.key" || true)
assert_match "$got" "^failed" "TLS with a rogue client certificate"
# plain text on the TLS port
tb_exec cl1 timeout 5 bash -c "exec 3<>/dev/tcp/$TB_VIP4/5061; printf 'OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n' >&3; cat <&3 >/dev/null" || true
# a broken stream: a Content-Length that is no number
tb_exec cl1 timeout 5 bash -c "exec 3<>/dev/tcp/$TB_VIP4/5060; printf 'OPTIONS sip:x SIP/2.0\r\nContent-Length: 12abc\r\n\r\n' >&3; cat <&3 >/dev/null" || true
# slowloris: a message that never ends (TCP), and a TLS handshake that never starts
tb_exec cl1 timeout 8 bash -c "exec 3<>/dev/tcp/$TB_VIP4/5060; printf 'INVITE sip:x SIP/2.0\r\n' >&3;
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do printf 'X' >&3 || exit 0; sleep 0.5; done" 2>/dev/null &
slow_pid=$!
tb_exec cl1 timeout 8 bash -c "exec 3<>/dev/tcp/$TB_VIP4/5061; cat <&3 >/dev/null" &
hs_pid=$!
# a new server certificate, reloaded while the load's TLS connection is up
old_serial=$(openssl x509 -noout -serial -in "$TB_STATE/tls/server.pem" | cut -d= -f2)
( cd "$TB_STATE/tls" && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-days 2 -extfile server.ext -out server.pem ) >>"$TB_STATE/certs.log" 2>&1 || fail "new server certificate"
new_serial=$(openssl x509 -noout -serial -in "$TB_STATE/tls/server.pem" | cut -d= -f2)
[ "$old_serial" != "$new_serial" ] || fail "the new certificate has the old serial"
kill -HUP "$SB_SIPLBD_PID"
sb_wait 5 grep -q "configuration reloaded" "$TB_STATE/siplbd.log" || fail "siplbd did not reload"
got=$(st_tls_once --cert "$TB_STATE/tls/client.pem" --key "$TB_STATE/tls/client.key" || true)
assert_match "$got" "^ok TLSv1\.[23] serial=$new_serial\$" "a new handshake after the reload gets the new certificate"
wait "$hs_pid" || true
wait "$slow_pid" || true
rc=0
wait "$load_pid" || rc=$?
[ "$rc" = 0 ] || fail "TLS load exited $rc: $(sb_sipp_summary tlsload); $(head -c 600 "$TB_STATE/sipp-tlsload.err" 2>/dev/null)"
check_calls tlsload "$LOAD"
assert_ge "$(st_metric siplb_tls_handshake_failures_total 'reason="bad_client_certificate"')" 1 "rogue certificates counted"
assert_ge "$(st_metric siplb_tls_handshake_failures_total 'reason="not_tls"')" 1 "plain text on the TLS port counted"
assert_ge "$(st_metric siplb_tls_handshake_failures_total 'reason="timeout"')" 1 "handshakes that never came counted"
assert_ge "$(ev message_timeout)" 1 "the slowloris connection closed"
assert_ge "$(st_metric siplb_stream_framing_errors_total 'reason="bad_content_length"')" 1 "the broken stream closed"
assert_eq "$(ev tls_handshake_failed)" "$(tb_exec lb curl -s http://127.0.0.1:9109/metrics | awk '/^siplb_tls_handshake_failures_total/ { s += $NF } END { print s + 0 }')" "every failed handshake has a reason"
ok "rogue certificate, plain text on 5061, a bad Content-Length, slowloris and a silent TLS client refused and counted; certificate reloaded on SIGHUP; all $LOAD calls of the TLS load completed on their connection"

# --- a reload with a broken key is refused; TLS goes on with the certificate it has
cp "$TB_STATE/tls/server.key" "$TB_STATE/tls/server.key.good"
cp "$TB_STATE/tls/client.key" "$TB_STATE/tls/server.key"
kill -HUP "$SB_SIPLBD_PID"
sb_wait 5 grep -q "reload refused" "$TB_STATE/siplbd.log" || fail "a reload with a key of another certificate was not refused"
got=$(st_tls_once --cert "$TB_STATE/tls/client.pem" --key "$TB_STATE/tls/client.key" || true)
assert_match "$got" "^ok TLSv1\.[23] serial=$new_serial\$" "TLS after the refused reload"
cp "$TB_STATE/tls/server.key.good" "$TB_STATE/tls/server.key"
ok "a reload whose key does not match its certificate is refused; TLS keeps the running certificate"

# --- streams.max_connections: the connections past it are refused at accept
sed -i 's/^  idle_timeout:/  max_connections: 5\n  idle_timeout:/' "$TB_STATE/siplb.yaml"
refused0=$(ev refused_max_connections)
kill -HUP "$SB_SIPLBD_PID"
sb_wait 5 bash -c "[ \$(grep -c 'configuration reloaded' '$TB_STATE/siplbd.log') -ge 2 ]" ||
	fail "siplbd did not reload max_connections"
got=$(tb_exec cl1 "$TB_BUILD/tools/streambench" --dst "$TB_VIP4:5060" --conns 20)
info "20 connections against max_connections 5: $got"
assert_eq "$(sed -n 's/.* alive=\([0-9]*\).*/\1/p' <<<"$got")" 5 "connections that stay up"
assert_ge "$(($(ev refused_max_connections) - refused0))" 15 "connections refused at accept"
ok "max_connections: 5 of 20 connections stay up, 15 are refused and counted"
