#!/usr/bin/env bash
# sipbed_tls.sh: SIP over TCP and TLS, and the UDP slow path, on the sipbed testbed:
# a test CA and certificates, siplbd with tcp and tls on the IPv4 VIP, a TLS pipe
# for sipp (this sipp has no TLS), and the lb-side setup the slow path needs.
#
# A library, sourced after scripts/sipbed.sh:
#
#	st_certs			test CA, server and client certificates under $TB_STATE/tls
#	st_siplbd_start			siplbd on lb: VIP v4 takes udp, tcp and tls, v6 udp and tcp (ST_* knobs),
#					the VIPs on lb's lo; waits until every backend is up
#	st_tlspipe_start PORT		in cl1: 127.0.0.1:PORT carried over TLS to VIP4:5061
#					with the good client certificate (tests/tools/tlspipe)
#	st_tls_once [ARGS...]		one TLS session from cl1: "ok VERSION" or "failed: why"
#	st_metric NAME LABEL		a counter from siplbd's /metrics, e.g.
#					st_metric siplb_stream_events_total 'event="accepted"'
#
# Knobs: ST_IDLE (s, default 30), ST_MSG_TIMEOUT_MS (2000), ST_VERIFY (require).
#
# What the lb node needs for the slow path and the stream listeners: the VIPs
# as local addresses (here on lo), and accept_local, because the Kamailio
# backends send from the VIP (their Record-Route and Via), so their answers
# reach siplbd's relay address with the VIP as the source.

ST_TLS_PORT=5061

st_certs() {
	local d=$TB_STATE/tls
	mkdir -p "$d" || return 1
	(
		cd "$d" || exit 1
		subj() { echo "/O=siplb test/CN=$1"; }
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-keyout ca.key -out ca.pem -subj "$(subj 'siplb test CA')" || exit 1
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-keyout rogue-ca.key -out rogue-ca.pem -subj "$(subj 'rogue CA')" || exit 1
		# issue NAME CA SAN: NAME.key, NAME.pem signed by CA
		issue() {
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-keyout "$1.key" -out "$1.csr" -subj "$(subj "$1")" || return 1
			printf 'subjectAltName=%s\n' "$3" >"$1.ext"
			openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial \
				-days 2 -extfile "$1.ext" -out "$1.pem" || return 1
		}
		issue server ca "IP:$TB_VIP4,DNS:sip.siplb.test" &&
			issue sni ca "DNS:other.siplb.test" &&
			issue client ca "DNS:client.siplb.test" &&
			issue badclient rogue-ca "DNS:client.siplb.test"
	) >"$TB_STATE/certs.log" 2>&1
}

# st_siplbd_config FILE: sb_siplbd_config's file, with tcp and tls on the IPv4 VIP, tcp on the IPv6 one.
st_siplbd_config() {
	local cfg=$1 d=$TB_STATE/tls
	sb_siplbd_config "$cfg" || return 1
	sed -i -e '/^  - name: v4$/a\    transports: [udp, tcp, tls]' \
		-e '/^  - name: v6$/a\    transports: [udp, tcp]' "$cfg" || return 1
	cat >>"$cfg" <<EOF
tls:
  certificate: $d/server.pem
  key: $d/server.key
  min_version: "1.2"
  client_ca: $d/ca.pem
  verify_client: ${ST_VERIFY:-require}
  handshake_timeout_ms: 2000
  sni:
    - {name: other.siplb.test, certificate: $d/sni.pem, key: $d/sni.key}
streams:
  flow_token_key: 3c0ffee0d15ea5e5ca11ab1efeedface8badf00d0ddba11cafebabedeadbeef0
  relay_port: 5060
  idle_timeout: ${ST_IDLE:-30}
  message_timeout_ms: ${ST_MSG_TIMEOUT_MS:-2000}
EOF
}

# The VIPs as local addresses of lb, for the listeners and the slow path.
st_lb_local() {
	tb_exec lb ip addr add "$TB_VIP4/32" dev lo 2>/dev/null
	tb_exec lb ip addr add "$TB_VIP6/128" dev lo nodad 2>/dev/null
	tb_sysctl lb net/ipv4/conf/all/accept_local 1 &&
		tb_sysctl lb net/ipv4/conf/eth0/accept_local 1 &&
		tb_sysctl lb net/ipv4/conf/all/rp_filter 0 &&
		tb_sysctl lb net/ipv4/conf/eth0/rp_filter 0 &&
		tb_sysctl lb net/ipv4/conf/all/arp_ignore 1
}

st_siplbd_start() {
	local cfg=$TB_STATE/siplb.yaml
	st_lb_local || return 1
	st_siplbd_config "$cfg" || return 1
	if [ -z "$SB_BPFFS" ]; then
		SB_BPFFS=$(tb_bpffs_new) || return 1
	fi
	tb_bg lb siplbd.log "$TB_BUILD/siplbd" -c "$cfg" --pin-root "$SB_BPFFS"
	# shellcheck disable=SC2034 # for the scripts that source us
	SB_SIPLBD_PID=$TB_PID
	sb_wait 10 sb_ctl status || { sb_log "siplbd does not answer"; tail -n 20 "$TB_STATE/siplbd.log" >&2; return 1; }
	sb_wait 15 sb_all_up $((2 * TB_NBE)) || { sb_log "not all backends probed up"; return 1; }
}

# st_tlspipe_start PORT [ARGS...]: TLS pipe in cl1 from 127.0.0.1:PORT to the VIP.
st_tlspipe_start() {
	local port=$1 d=$TB_STATE/tls
	shift
	tb_bg cl1 "tlspipe-$port.log" "$TB_BUILD/tools/tlspipe" --listen "127.0.0.1:$port" \
		--connect "$TB_VIP4:$ST_TLS_PORT" --ca "$d/ca.pem" --cert "$d/client.pem" \
		--key "$d/client.key" "$@"
	# shellcheck disable=SC2034 # for the scripts that source us
	ST_TLSPIPE_PID=$TB_PID
	sleep 0.2
}

# st_tls_once [ARGS...]: one TLS session from cl1 to the VIP; prints "ok ..." or "failed: ...".
st_tls_once() {
	tb_exec cl1 timeout 10 "$TB_BUILD/tools/tlspipe" --once --connect "$TB_VIP4:$ST_TLS_PORT" \
		--ca "$TB_STATE/tls/ca.pem" "$@"
}

# st_metric NAME LABEL: the value of NAME{...LABEL...} in siplbd's metrics (0 when absent).
st_metric() {
	tb_exec lb curl -s --max-time 5 http://127.0.0.1:9109/metrics |
		awk -v n="$1" -v l="$2" 'index($0, n "{") == 1 && index($0, l) { v = $NF } END { print v + 0 }'
}
