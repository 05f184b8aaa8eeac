#!/usr/bin/env bash
# bench_streams.sh: SIP over TLS through siplbd, each figure beside the same measurement
# over plain TCP in the same run: full TLS handshakes per second, SIP transactions per
# second (OPTIONS relayed to Kamailio backends and answered), connections held at once,
# and sipp calls per second (over tests/tools/tlspipe: this sipp has no TLS).
#
# Usage: scripts/bench_streams.sh   (root; BUILD=dir, default build; make all first)
# Appends its figures to $BUILD/bench.json (replacing earlier stream_* entries) and
# prints them as a table. Bounded (about a minute); the testbed goes away on exit.
#
# Knobs: STREAM_CONNS (connections held, 2000), STREAM_REQUESTS (20000),
# STREAM_CALLS (1500 sipp calls), STREAM_RATE (300 calls/s offered).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
CONNS=${STREAM_CONNS:-2000}
REQUESTS=${STREAM_REQUESTS:-20000}
CALLS=${STREAM_CALLS:-1500}
RATE=${STREAM_RATE:-300}
JSON=$BUILD/bench.json

if [ "$(id -u)" -ne 0 ]; then
	echo "bench_streams: needs root (namespaces, XDP)" >&2
	exit 1
fi
for v in CONNS REQUESTS CALLS RATE; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || [ "${!v}" -lt 1 ] || [ "${!v}" -gt 50000 ]; then
		echo "bench_streams: STREAM_$v must be 1..50000" >&2
		exit 2
	fi
done
for f in siplbd siplbctl tools/streambench tools/tlspipe; do
	[ -x "$BUILD/$f" ] || { echo "bench_streams: $BUILD/$f missing: make all" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "bench_streams: jq missing" >&2; exit 1; }

# shellcheck source=scripts/testbed.sh
source scripts/testbed.sh
# shellcheck source=scripts/sipbed.sh
source scripts/sipbed.sh
# shellcheck source=scripts/sipbed_tls.sh
source scripts/sipbed_tls.sh
sb_check || { echo "bench_streams: Kamailio or sipp missing: skipped"; exit 0; }
trap sb_down EXIT
say() { echo "bench_streams: $*"; }

tb_up 3 >/dev/null
st_certs || { say "certificates failed"; exit 1; }
if ! { sb_callee_up && sb_kam_start_all proxy && sb_callee_start 4; }; then
	say "backends failed"
	exit 1
fi
ST_IDLE=600 st_siplbd_start || { say "siplbd failed"; exit 1; }
D=$TB_STATE/tls

# run NAME ARGS...: streambench in cl1; its figures as "k=v" words
run() {
	tb_exec cl1 "$TB_BUILD/tools/streambench" --dst "$TB_VIP4:$1" --conns "$CONNS" \
		--requests "$REQUESTS" "${@:2}"
}
kv() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<" $2"; }

TCP=$(run 5060)
say "tcp: $TCP"
TLS=$(run 5061 --tls --ca "$D/ca.pem" --cert "$D/client.pem" --key "$D/client.key")
say "tls: $TLS"

# calls: sipp over TCP straight to the VIP, and over TLS through tlspipe
calls() {
	local name=$1 secs
	shift
	secs=$((CALLS / RATE + 30))
	SB_REINV=0 SB_HOLD_MS=0 sb_sipp_run "$name" 4 "$secs" -sf "$(sb_scenario uac_call.xml)" \
		-t t1 -m "$CALLS" -r "$RATE" -l 2000 -cid_str "$name-%u-%p@%s" -recv_timeout 12000 "$@" ||
		say "$name: sipp exited $? ($(sb_sipp_summary "$name"))"
	# calls completed per second of the run
	awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "SuccessfulCall(C)") s = i;
		if ($i == "ElapsedTime(C)") e = i }; next }
		{ ok = $s; split($e, t, ":"); el = t[1] * 3600 + t[2] * 60 + t[3] }
		END { printf "%.1f\n", (el > 0 ? ok / el : 0) }' "$TB_STATE/sipp-$name.csv"
}
st_tlspipe_start 5070
TCPC=$(calls bcalltcp -p 5062)
TLSC=$(calls bcalltls -p 5063 -rsa 127.0.0.1:5070)
say "calls/s: tcp $TCPC, tls $TLSC (offered $RATE/s)"

ROWS=$(jq -n --argjson hs "$(kv conn_per_s "$TLS")" --argjson hsb "$(kv conn_per_s "$TCP")" \
	--argjson rq "$(kv req_per_s "$TLS")" --argjson rqb "$(kv req_per_s "$TCP")" \
	--argjson al "$(kv alive "$TLS")" --argjson alb "$(kv alive "$TCP")" \
	--argjson c "$TLSC" --argjson cb "$TCPC" '
	def row($n; $v; $u; $b): {name: $n, value: $v, unit: $u, baseline: $b,
		ratio: (if $b != 0 then $v / $b else null end)};
	[row("stream_tls_handshakes_per_s"; $hs; "conn/s"; $hsb),
	 row("stream_tls_requests_per_s"; $rq; "trans/s"; $rqb),
	 row("stream_tls_concurrent_connections"; $al; "conns"; $alb),
	 row("stream_tls_calls_per_s"; $c; "calls/s"; $cb)]')
OLD='[]'
[ -s "$JSON" ] && OLD=$(cat "$JSON")
jq --argjson new "$ROWS" '[.[] | select(.name | startswith("stream_") | not)] + $new' \
	<<<"$OLD" >"$JSON.tmp" && mv "$JSON.tmp" "$JSON"

echo "baselines: the same over plain TCP to the same siplbd, same run"
printf '%-36s %12s %-12s %12s %8s\n' name value unit baseline ratio
jq -r '.[] | [.name, .value, .unit, .baseline, .ratio] | @tsv' <<<"$ROWS" |
	while IFS=$'\t' read -r n v u b x; do
		printf '%-36s %12.2f %-12s %12.2f %8.3f\n' "$n" "$v" "$u" "$b" "$x"
	done
say "appended to $JSON"
