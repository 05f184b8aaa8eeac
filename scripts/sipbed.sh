#!/usr/bin/env bash
# sipbed.sh: real SIP software on the siplb testbed: Kamailio backends, a sipp
# callee, sipp call and registration loads, siplbd, and the log analysis that
# tells whether every dialog stayed on one backend.
#
# A library, sourced after scripts/testbed.sh (tests/integ/lib.sh sources that):
#
#	source scripts/testbed.sh; source scripts/sipbed.sh
#	trap sb_down EXIT		# tb_down, and the private bpffs of sb_siplbd_start
#	tb_up 3
#	sb_callee_up			# node "callee" on the bridge: 198.18.0.200, 2001:db8::200
#	sb_kam_start_all proxy		# Kamailio on be1..beN (proxy | registrar)
#	sb_callee_start 4		# sipp UAS on the callee (4: IPv4, 6: IPv6)
#	sb_siplbd_start			# siplbd on lb, VIPs v4 and v6 over all backends
#	sb_sipp_calls a 4 2000 300	# sipp UAC in cl1: 2000 calls at 300/s, Call-IDs a-...
#	sb_dialogs a			# dialogs=2000 split=0 incomplete=0 ... be1=.. be2=.. be3=..
#
# Topology added to testbed.sh's: node "callee" (its bridge port in sw is named
# "callee"), MAC 02:53:4c:42:00:c8, routes to the VIPs via lb like cl1. A call
# runs caller (cl1) -> VIP -> siplb -> beI (Kamailio, Record-Route = VIP, sends
# from the VIP) -> callee; everything from the callee goes to the VIP again, so
# siplb steers it, by Call-ID, to the same beI, which relays it to the caller
# directly (direct server return).
#
# Functions (each wait is bounded; every process is started by tb_bg):
#	sb_check			kamailio, kamcmd and sipp installed (1 if not)
#	sb_callee_up			add the callee node
#	sb_kam_start I [MODE] [CHILDREN]	Kamailio on beI, MODE proxy (default) or
#					registrar; waits until it answers on its ctl socket
#	sb_kam_start_all MODE [CHILDREN]	... on every backend
#	sb_kam_stop I			stop beI's Kamailio
#	sb_kamcmd I CMD...		kamcmd against beI's Kamailio (ctl socket under $TB_STATE)
#	sb_kam_log I			path of beI's Kamailio log
#	sb_callee_start 4|6 [HOLD_MS]	sipp UAS (scripts/sipp/uas_call.xml) on the callee
#	sb_callee_stop 4|6
#	sb_siplbd_config FILE [RK4 [RK6]]	write a siplbd config: VIP v4 (TB_VIP4) and
#					v6 (TB_VIP6), ipip, every backend, health checks to
#					the backends' own addresses (SB_HC_* variables);
#					RK4/RK6: register_key of each VIP (default call-id)
#	sb_siplbd_start [RK4 [RK6]]	write $TB_STATE/siplb.yaml, start siplbd on lb with a
#					private bpffs, wait until all backends are probed up
#	sb_ctl ARGS...			siplbctl against that siplbd
#	sb_sipp_calls NAME 4|6 COUNT RATE [SIPP-ARGS...]
#					sipp UAC (scripts/sipp/uac_call.xml) in cl1 to the VIP:
#					COUNT calls at RATE/s, Call-IDs NAME-<n>-<pid>@...;
#					SB_REINV, SB_CBYE (probabilities, default 0.5),
#					SB_HOLD_MS (pause after ACK / re-INVITE, default 100),
#					SB_CALL_LIMIT (concurrent calls, default 2000);
#					returns sipp's status (0: every call succeeded)
#	sb_sipp_register NAME 4|6 USERS [RATE] [SIPP-ARGS...]
#					sipp UAC registers user1..userUSERS (To sip:userN@reg.siplb.test;
#					SB_USER_PREFIX replaces "user")
#	sb_sipp_stat NAME FIELD		a field of sipp's last statistics line, e.g.
#					SuccessfulCall(C), FailedCall(C), Retransmissions(C)
#	sb_sipp_summary NAME		"total=.. ok=.. failed=.. retrans=.. elapsed=HH:MM:SS"
#	sb_events [PREFIX]		the backends' SIPLB log lines (Call-IDs starting with
#					PREFIX-): "be t m s cs ci src tu", one per line
#	sb_dialogs PREFIX		per-dialog analysis of the Kamailio logs: one line
#					"dialogs= split= incomplete= reinvites= callee_byes=
#					caller_byes= msgs= beI=<dialogs>..."; split and
#					incomplete Call-IDs go to stderr (first 10)
#	sb_register_aors PREFIX		per-AOR analysis of REGISTERs: "aors= regs= split=
#					beI=<aors>..."; also writes $TB_STATE/aor-PREFIX.map
#					(aor backend) for the lookup check
#	sb_down				tb_down, then unmount the private bpffs
#
# For tests that change things under load (failover, scale-up, drain, restart):
#	SB_BES="1 2"			backends that sb_siplbd_config puts in the file
#					(default: all TB_NBE); sb_siplbd_start waits for
#					these (on both VIPs) to be probed up
#	sb_kam_kill I			crash beI's Kamailio: SIGKILL to its main process
#					and to every worker at once, by PID (a main process
#					killed alone leaves its workers serving)
#	sb_siplbd_stop			SIGTERM siplbd: XDP and maps stay pinned, traffic flows
#	sb_siplbd_restart [GAP]		sb_siplbd_stop (if it runs), sleep GAP seconds
#					(default 0), start siplbd again with the same config
#					and bpffs; waits until it answers (not for health
#					checks)
#	sb_be_state NAME		state of a backend (up, down, draining; empty if none)
#	sb_be_packets NAME		packets siplb sent to a backend (siplbctl backends)
#	sb_kam_mark MARK		remember how far each Kamailio log is written now
#					(line counts, $TB_STATE/mark-MARK): a point in time
#					for sb_dialog_list
#	sb_dialog_list PREFIX [MARK]	one line per dialog (Call-IDs PREFIX-...), over all
#					backends' logs:
#					"CALLID INVITE-BES ALL-BES COMPLETE BYE200-BES WHEN LAST"
#					INVITE-BES: backends that logged its INVITE (CSeq 1;
#					several when a retransmission went elsewhere), ALL-BES:
#					every backend that logged one of its messages (comma
#					lists, "-" if none), COMPLETE: 1 when every message of
#					the dialog (as in sb_dialogs) was logged by some
#					backend, BYE200-BES: backends that logged the 200 to
#					its BYE, WHEN: "pre" when an INVITE of it was logged
#					before MARK, "post" otherwise; LAST: "post" when a
#					message of it was logged after MARK, "pre" otherwise
#					(WHEN and LAST are "-" without MARK)
#	sb_sipp_errors NAME [N]		the first N (default 3) aborted calls in sipp's error
#					file (NAME of a UAC run, or callee4 / callee6): why
#	sb_sipp_calls can run in the background (&, then wait): give each load that
#	runs at the same time its own NAME and SB_CALLER_PORT.
#
# Logs: $TB_STATE/kam-beI.log (Kamailio), callee4.log / callee6.log (sipp UAS
# output), sipp-NAME.log / sipp-NAME.csv / sipp-NAME.err (each UAC run),
# siplbd.log. Every Kamailio line of interest reads
#	SIPLB be=be1 t=req m=INVITE cs=1 ci=<Call-ID> src=198.18.0.100 tu=service
#	SIPLB be=be1 t=rpl m=INVITE s=200 cs=1 ci=<Call-ID> src=198.18.0.200

SB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SB_KAM_CFG=$SB_ROOT/scripts/kamailio/backend.cfg
SB_SIPP_DIR=$SB_ROOT/scripts/sipp
# shellcheck disable=SC2034 # for the scripts that source us
{
	SB_CALLEE4=198.18.0.200
	SB_CALLEE6=2001:db8::200
	SB_CALLEE_DOMAIN=callee.siplb.test
	SB_REG_DOMAIN=reg.siplb.test
}
SB_CALLEE_MAC=02:53:4c:42:00:c8
SB_KAM_SHM=${SB_KAM_SHM:-64}	# MB of shared memory per Kamailio (32 runs out near 800 calls/s)
SB_KAM_PKG=${SB_KAM_PKG:-4}	# MB of private memory per Kamailio process
SB_HC_INTERVAL=${SB_HC_INTERVAL:-500}
SB_HC_TIMEOUT=${SB_HC_TIMEOUT:-300}
SB_HC_FALL=${SB_HC_FALL:-2}
SB_HC_RISE=${SB_HC_RISE:-2}
SB_BPFFS=
SB_SIPLBD_PID=
SB_CALLEE_PID4=
SB_CALLEE_PID6=
declare -a SB_KAM_PID=()

sb_log() {
	echo "sipbed: $*" >&2
}

sb_check() {
	local c
	for c in kamailio kamcmd sipp; do
		command -v "$c" >/dev/null || { sb_log "$c not found (apt-get install kamailio sip-tester)"; return 1; }
	done
}

# The callee: a node on the bridge, made like testbed.sh makes cl1.
sb_callee_up() {
	local node=callee ns i
	[ -n "$TB_STATE" ] || { sb_log "sb_callee_up: no testbed (tb_up first)"; return 1; }
	ns=$(tb_ns "$node")
	echo "$ns" >>"$TB_STATE/netns"	# tb_down removes it
	ip netns add "$ns" || return 1
	tb_exec "$node" ip link set lo up || return 1
	tb_sysctl "$node" net/ipv6/conf/all/accept_dad 0 || return 1
	tb_sysctl "$node" net/ipv6/conf/default/accept_dad 0 || return 1
	tb_exec sw ip link add "$node" numtxqueues 2 numrxqueues 2 type veth \
		peer name eth0 numtxqueues 2 numrxqueues 2 address "$SB_CALLEE_MAC" \
		netns "$ns" || return 1
	tb_exec sw ip link set "$node" master br0 up || return 1
	tb_exec "$node" ip addr add "$SB_CALLEE4/24" dev eth0 || return 1
	tb_exec "$node" ip addr add "$SB_CALLEE6/64" dev eth0 nodad || return 1
	tb_exec "$node" ip link set eth0 up || return 1
	# The VIPs are behind lb (whose XDP may eat ARP/ND): pinned like cl1's.
	tb_exec "$node" ip route add "$TB_VIP4/32" via "$TB_LB4" || return 1
	tb_exec "$node" ip -6 route add "$TB_VIP6/128" via "$TB_LB6" || return 1
	tb_exec "$node" ip neigh replace "$TB_LB4" lladdr "$(tb_mac lb)" dev eth0 nud permanent || return 1
	tb_exec "$node" ip neigh replace "$TB_LB6" lladdr "$(tb_mac lb)" dev eth0 nud permanent || return 1
	# its packets to the VIP leave lb by XDP_TX: no checksum offload
	tb_exec "$node" "$TB_BUILD/tools/tbnet" txcsum eth0 off || return 1
	# backends send from the VIP to the callee and the caller: no ARP/ND from
	# an address the segment does not know
	for ((i = 1; i <= TB_NBE; i++)); do
		tb_exec "be$i" ip neigh replace "$SB_CALLEE4" lladdr "$SB_CALLEE_MAC" dev eth0 nud permanent || return 1
		tb_exec "be$i" ip neigh replace "$SB_CALLEE6" lladdr "$SB_CALLEE_MAC" dev eth0 nud permanent || return 1
		tb_neigh_pin "be$i" cl1 || return 1
	done
}

sb_kam_log() {
	echo "$TB_STATE/kam-be$1.log"
}

sb_kam_ctl() {
	echo "$TB_STATE/kam-be$1/ctl.sock"
}

sb_kamcmd() {
	local i=$1
	shift
	tb_exec "be$i" kamcmd -s "unixs:$(sb_kam_ctl "$i")" "$@"
}

# sb_kam_start I [proxy|registrar] [CHILDREN]
sb_kam_start() {
	local i=$1 mode=${2:-proxy} children=${3:-2} dir cfg
	dir=$TB_STATE/kam-be$i
	cfg=$dir/kamailio.cfg
	mkdir -p "$dir" || return 1
	case $mode in
	proxy) : >"$cfg" ;;
	registrar) echo '#!define WITH_REGISTRAR' >"$cfg" ;;
	*) sb_log "sb_kam_start: mode '$mode': proxy or registrar"; return 1 ;;
	esac
	sed -e "s|@NAME@|be$i|g; s|@VIP4@|$TB_VIP4|g; s|@VIP6@|$TB_VIP6|g" \
		-e "s|@ADDR4@|${TB_BE4[i]}|g; s|@ADDR6@|${TB_BE6[i]}|g" \
		-e "s|@CALLEE4@|$SB_CALLEE4|g; s|@CALLEE6@|$SB_CALLEE6|g" \
		-e "s|@CALLEE_DOMAIN@|$SB_CALLEE_DOMAIN|g; s|@REG_DOMAIN@|$SB_REG_DOMAIN|g" \
		-e "s|@CTL@|$(sb_kam_ctl "$i")|g; s|@CHILDREN@|$children|g" \
		"$SB_KAM_CFG" >>"$cfg" || return 1
	tb_exec "be$i" kamailio -c -f "$cfg" >"$dir/check.log" 2>&1 || {
		sb_log "kamailio config check failed for be$i:"
		cat "$dir/check.log" >&2
		return 1
	}
	tb_bg "be$i" "kam-be$i.log" kamailio -f "$cfg" -DD -E -m "$SB_KAM_SHM" -M "$SB_KAM_PKG" \
		-Y "$dir" -P "$dir/kamailio.pid" -w "$dir"
	SB_KAM_PID[i]=$TB_PID
	sb_wait 10 sb_kamcmd "$i" core.uptime || {
		sb_log "Kamailio on be$i does not answer on $(sb_kam_ctl "$i")"
		tail -n 20 "$(sb_kam_log "$i")" >&2
		return 1
	}
}

sb_kam_start_all() {
	local i
	for ((i = 1; i <= TB_NBE; i++)); do
		sb_kam_start "$i" "$@" || return 1
	done
}

sb_kam_stop() {
	[ -n "${SB_KAM_PID[$1]:-}" ] || return 0
	tb_stop "${SB_KAM_PID[$1]}"
	SB_KAM_PID[$1]=
}

# sb_wait SECONDS CMD...: poll CMD every 0.1 s; 1 on timeout.
sb_wait() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# Render a sipp scenario: @REINV@ @CBYE@ @HOLD@ from SB_REINV SB_CBYE SB_HOLD_MS.
sb_scenario() {
	local name=$1 out=$TB_STATE/$1
	sed -e "s|@REINV@|${SB_REINV:-0.5}|g; s|@CBYE@|${SB_CBYE:-0.5}|g" \
		-e "s|@HOLD@|${SB_HOLD_MS:-100}|g; s|@HOLD2@|$((2 * ${SB_HOLD_MS:-100}))|g" "$SB_SIPP_DIR/$name" >"$out" || return 1
	echo "$out"
}

# sb_callee_start 4|6 [HOLD_MS]: the UAS stays up until sb_callee_stop / tb_down.
sb_callee_start() {
	local fam=$1 sf addr
	sf=$(SB_HOLD_MS=${2:-${SB_HOLD_MS:-100}} sb_scenario uas_call.xml) || return 1
	if [ "$fam" = 6 ]; then addr=$SB_CALLEE6; else addr=$SB_CALLEE4; fi
	tb_bg callee "callee$fam.log" sipp -sf "$sf" -i "$addr" -p 5060 -nostdin \
		-trace_stat -stf "$TB_STATE/callee$fam.csv" -fd 1 \
		-trace_err -error_file "$TB_STATE/callee$fam.err" -max_recv_loops 10000 \
		-recv_timeout 15000 -timeout_error -timeout 3600s
	if [ "$fam" = 6 ]; then SB_CALLEE_PID6=$TB_PID; else SB_CALLEE_PID4=$TB_PID; fi
	sb_wait 5 sb_udp_bound callee "$addr" || { sb_log "callee sipp (IPv$fam) not listening"; return 1; }
}

sb_callee_stop() {
	local pid
	if [ "$1" = 6 ]; then pid=$SB_CALLEE_PID6; SB_CALLEE_PID6=; else pid=$SB_CALLEE_PID4; SB_CALLEE_PID4=; fi
	[ -z "$pid" ] || tb_stop "$pid"
}

# Is something bound to ADDR:5060/udp in NODE?
sb_udp_bound() {
	local a=$2
	case $a in *:*) a="[$a]" ;; esac
	tb_exec "$1" ss -Hlun "src $a:5060" | grep -q .
}

sb_vip() {
	if [ "$1" = 6 ]; then echo "[$TB_VIP6]:5060"; else echo "$TB_VIP4:5060"; fi
}

sb_cl() {
	if [ "$1" = 6 ]; then echo "$TB_CL6"; else echo "$TB_CL4"; fi
}

# Run sipp in cl1 in the foreground, bounded. sb_sipp_run NAME FAM SECS SIPP-ARGS...
sb_sipp_run() {
	local name=$1 fam=$2 secs=$3 rc=0
	shift 3
	rm -f "$TB_STATE/sipp-$name".{csv,err,log}
	# sipp writes its trace files into the working directory
	(cd "$TB_STATE" && timeout -k 5 "$((secs + 10))" ip netns exec "$(tb_ns cl1)" \
		sipp "$(sb_vip "$fam")" -i "$(sb_cl "$fam")" -nostdin \
		-trace_stat -stf "$TB_STATE/sipp-$name.csv" -fd 1 \
		-trace_err -error_file "$TB_STATE/sipp-$name.err" \
		-timeout "${secs}s" -timeout_error "$@" </dev/null >"$TB_STATE/sipp-$name.log" 2>&1) || rc=$?
	return "$rc"
}

# sb_sipp_calls NAME 4|6 COUNT RATE [SIPP-ARGS...]
sb_sipp_calls() {
	local name=$1 fam=$2 count=$3 rate=$4 sf secs
	shift 4
	sf=$(sb_scenario uac_call.xml) || return 1
	# the load, plus calls of a few hold times, plus slack
	secs=$((count / rate + 30))
	sb_sipp_run "$name" "$fam" "$secs" -sf "$sf" -p "${SB_CALLER_PORT:-5060}" \
		-m "$count" -r "$rate" -l "${SB_CALL_LIMIT:-2000}" -cid_str "$name-%u-%p@%s" \
		-recv_timeout 12000 -max_recv_loops 10000 "$@"
}

# sb_sipp_register NAME 4|6 USERS [RATE] [SIPP-ARGS...]: REGISTER user1..userUSERS
# once each, with Call-IDs NAME-<n>-<pid>@...
sb_sipp_register() {
	local name=$1 fam=$2 users=$3 rate=${4:-200} inf i
	shift 3
	[ $# -eq 0 ] || shift
	inf=$TB_STATE/users-$name.csv
	{
		echo SEQUENTIAL
		for ((i = 1; i <= users; i++)); do echo "${SB_USER_PREFIX:-user}$i"; done
	} >"$inf"
	sb_sipp_run "$name" "$fam" "$((users / rate + 20))" -sf "$SB_SIPP_DIR/uac_register.xml" \
		-inf "$inf" -p "${SB_CALLER_PORT:-5060}" -m "$users" -r "$rate" -l 500 \
		-cid_str "$name-%u-%p@%s" -recv_timeout 5000 "$@"
}

# sb_sipp_stat NAME FIELD: FIELD of the last line of sipp's statistics file
# ($TB_STATE/sipp-NAME.csv of a UAC run, or $TB_STATE/NAME.csv: callee4, callee6).
sb_sipp_stat() {
	local f=$TB_STATE/sipp-$1.csv
	[ -e "$f" ] || f=$TB_STATE/$1.csv
	[ -s "$f" ] || { echo 0; return; }
	awk -F';' -v want="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == want) col = i; next }
		{ last = $col } END { print (col && last != "") ? last + 0 : 0 }' "$f"
}

sb_sipp_errors() {
	local f=$TB_STATE/sipp-$1.err
	[ -e "$f" ] || f=$TB_STATE/$1.err
	[ -e "$f" ] || return 0
	# the records are not always separated by newlines
	grep -aoE "Aborting call.{0,200}|Call-Id: [^ ]+ [^:]{0,80}aborting call" "$f" | tr -d '\r' | head -n "${2:-3}" || true
}

sb_sipp_summary() {
	local elapsed
	elapsed=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "ElapsedTime(C)") col = i; next }
		{ last = $col } END { print last }' "$TB_STATE/sipp-$1.csv" 2>/dev/null)
	echo "total=$(sb_sipp_stat "$1" 'TotalCallCreated') ok=$(sb_sipp_stat "$1" 'SuccessfulCall(C)')" \
		"failed=$(sb_sipp_stat "$1" 'FailedCall(C)') retrans=$(sb_sipp_stat "$1" 'Retransmissions(C)')" \
		"elapsed=${elapsed:-?}"
}

# The Kamailio SIPLB lines, normalized: be t m s cs ci src tu ("-" when absent).
sb_events() {
	local prefix=${1:-} i files=()
	for ((i = 1; i <= TB_NBE; i++)); do
		[ -e "$(sb_kam_log "$i")" ] && files+=("$(sb_kam_log "$i")")
	done
	[ ${#files[@]} -gt 0 ] || return 0
	grep -h ' SIPLB be=' "${files[@]}" | awk -v p="$prefix" '{
		sub(/^.* SIPLB /, "")
		delete f
		for (i = 1; i <= NF; i++) { k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v); f[k] = v }
		if (p != "" && index(f["ci"], p "-") != 1) next
		s = ("s" in f) ? f["s"] : "-"; tu = ("tu" in f && f["tu"] != "") ? f["tu"] : "-"
		print f["be"], f["t"], f["m"], s, f["cs"], f["ci"], f["src"], tu
	}'
}

# sb_dialogs PREFIX: is every dialog complete and on one backend? (see the top)
sb_dialogs() {
	sb_events "$1" | awk -v ce4="$SB_CALLEE4" -v ce6="$SB_CALLEE6" -v nbe="$TB_NBE" '
	{
		be = $1; t = $2; m = $3; s = $4; cs = $5; ci = $6; src = $7
		msgs++
		if (!(ci in first)) { first[ci] = be; order[++n] = ci }
		else if (first[ci] != be) splitset[ci] = splitset[ci] " " be
		if (t == "req") {
			k = m cs; seen[ci, k] = 1
			if (m == "BYE") { bye[ci] = (src == ce4 || src == ce6) ? "callee" : "caller" }
		} else if (s == 200) seen[ci, "200" m cs] = 1
	}
	END {
		for (j = 1; j <= n; j++) {
			ci = order[j]
			perbe[first[ci]]++
			if (ci in splitset) { split_n++; if (split_n <= 10) print "split: " ci " on " first[ci] splitset[ci] > "/dev/stderr" }
			ok = seen[ci, "INVITE1"] && seen[ci, "200INVITE1"] && seen[ci, "ACK1"] && (ci in bye)
			byecs = (bye[ci] == "callee") ? 1 : 3
			ok = ok && seen[ci, "200BYE" byecs]
			if (seen[ci, "INVITE2"]) { reinv++; ok = ok && seen[ci, "200INVITE2"] && seen[ci, "ACK2"] }
			if (bye[ci] == "callee") cbye++; else if (bye[ci] == "caller") ubye++
			if (!ok) { inc++; if (inc <= 10) print "incomplete: " ci > "/dev/stderr" }
		}
		line = sprintf("dialogs=%d split=%d incomplete=%d reinvites=%d callee_byes=%d caller_byes=%d msgs=%d",
			n, split_n, inc, reinv, cbye, ubye, msgs)
		for (b = 1; b <= nbe; b++) line = line sprintf(" be%d=%d", b, perbe["be" b])
		print line
	}'
}

# sb_register_aors PREFIX...: where did the REGISTERs of each AOR (To user) go?
sb_register_aors() {
	local map=$TB_STATE/aor-$1.map p
	for p in "$@"; do sb_events "$p"; done | awk -v nbe="$TB_NBE" -v map="$map" '
	$2 == "req" && $3 == "REGISTER" {
		aor = $8; regs++
		if (!(aor in where)) { where[aor] = $1; order[++n] = aor }
		else if (where[aor] != $1 && !(aor in bad)) { bad[aor] = 1; split_n++
			if (split_n <= 10) print "split AOR: " aor " on " where[aor] " and " $1 > "/dev/stderr" }
	}
	END {
		printf "" > map
		for (j = 1; j <= n; j++) { per[where[order[j]]]++; print order[j], where[order[j]] > map }
		line = sprintf("aors=%d regs=%d split=%d", n, regs, split_n)
		for (b = 1; b <= nbe; b++) line = line sprintf(" be%d=%d", b, per["be" b])
		print line
	}'
}

# The backends in siplbd's config: SB_BES, or all of them.
sb_bes() {
	if [ -n "${SB_BES:-}" ]; then echo "$SB_BES"; else seq 1 "$TB_NBE"; fi
}

# sb_siplbd_config FILE [REGISTER_KEY4 [REGISTER_KEY6]]
sb_siplbd_config() {
	local cfg=$1 rk=${2:-call-id} rk6=${3:-${2:-call-id}} i
	{
		cat <<EOF
instance: sb$$
interfaces:
  - name: eth0
hash_key: 0f1e2d3c4b5a69788796a5b4c3d2e1f0
affinity: {capacity: 65536, idle_timeout: 600}
health: {interval_ms: $SB_HC_INTERVAL, timeout_ms: $SB_HC_TIMEOUT, fall: $SB_HC_FALL, rise: $SB_HC_RISE}
control: $TB_STATE/ctl.sock
metrics: 127.0.0.1:9109
src4: $TB_LB4
src6: $TB_LB6
vips:
  - name: v4
    address: $TB_VIP4
    mode: ipip
    register_key: $rk
    backends:
EOF
		for i in $(sb_bes); do
			echo "      - {address: ${TB_BE4[i]}, name: be$i}"
		done
		cat <<EOF
  - name: v6
    address: $TB_VIP6
    mode: ipip
    register_key: $rk6
    backends:
EOF
		for i in $(sb_bes); do
			echo "      - {address: ${TB_BE6[i]}, name: be$i-6}"
		done
	} >"$cfg"
}

sb_ctl() {
	tb_exec lb "$TB_BUILD/siplbctl" -s "$TB_STATE/ctl.sock" "$@"
}

sb_all_up() {
	[ "$(sb_ctl --json backends | jq '[.backends[] | select(.state == "up" and .health.probed)] | length')" = "$1" ]
}

# sb_siplbd_start [REGISTER_KEY4 [REGISTER_KEY6]]: siplbd on lb with a private
# bpffs (sb_down unmounts it).
sb_siplbd_start() {
	local cfg=$TB_STATE/siplb.yaml
	sb_siplbd_config "$cfg" "$@" || return 1
	if [ -z "$SB_BPFFS" ]; then
		SB_BPFFS=$(tb_bpffs_new) || return 1
	fi
	tb_bg lb siplbd.log "$TB_BUILD/siplbd" -c "$cfg" --pin-root "$SB_BPFFS"
	# shellcheck disable=SC2034 # for the scripts that source us (tb_stop it)
	SB_SIPLBD_PID=$TB_PID
	sb_wait 10 sb_ctl status || { sb_log "siplbd does not answer"; tail -n 20 "$TB_STATE/siplbd.log" >&2; return 1; }
	sb_wait 15 sb_all_up $((2 * $(sb_bes | wc -w))) || {
		sb_log "not all backends probed up:"
		sb_ctl backends >&2
		return 1
	}
}

sb_down() {
	tb_down
	tb_bpffs_free "$SB_BPFFS"
	SB_BPFFS=
}

sb_siplbd_stop() {
	[ -z "$SB_SIPLBD_PID" ] || tb_stop "$SB_SIPLBD_PID"
}

# sb_siplbd_restart [GAP]: a hitless restart, as an operator does it.
sb_siplbd_restart() {
	if [ -z "$SB_SIPLBD_PID" ] || [ -z "$SB_BPFFS" ]; then
		sb_log "sb_siplbd_restart: no siplbd"
		return 1
	fi
	sb_siplbd_stop
	[ "${1:-0}" = 0 ] || sleep "$1"
	tb_bg lb siplbd.log "$TB_BUILD/siplbd" -c "$TB_STATE/siplb.yaml" --pin-root "$SB_BPFFS"
	SB_SIPLBD_PID=$TB_PID
	sb_wait 10 sb_ctl status || { sb_log "siplbd does not answer after the restart"; tail -n 20 "$TB_STATE/siplbd.log" >&2; return 1; }
}

sb_be_state() {
	sb_ctl --json backends | jq -r --arg n "$1" '.backends[] | select(.name == $n) | .state'
}

sb_be_packets() {
	sb_ctl --json backends | jq -r --arg n "$1" '.backends[] | select(.name == $n) | .packets'
}

# sb_children PID: its direct children, from /proc (one PID a line).
sb_children() {
	local f stat fields
	for f in /proc/[0-9]*/stat; do
		read -r stat 2>/dev/null <"$f" || continue	# no fork: quick over many processes
		read -r -a fields <<<"${stat##*) }"	# state ppid ...
		[ "${fields[1]:-}" = "$1" ] || continue
		f=${f#/proc/}
		echo "${f%/stat}"
	done
}

# sb_kam_kill I: beI's Kamailio dies as in a crash.
sb_kam_kill() {
	local i=$1 pid=${SB_KAM_PID[$1]:-} start kids=() k
	[ -n "$pid" ] || { sb_log "sb_kam_kill: no Kamailio on be$i"; return 1; }
	start=$(awk -v p="$pid" '$1 == p {print $2}' "$TB_STATE/pids" | tail -n1)
	tb_ours "$pid" "${start:-0}" || { sb_log "sb_kam_kill: Kamailio on be$i ($pid) is gone"; return 1; }
	# its workers (Kamailio's workers fork no further)
	for k in $(sb_children "$pid"); do kids+=("$k"); done
	kill -KILL "$pid" "${kids[@]}" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	SB_KAM_PID[i]=
	return 0
}

# sb_kam_mark MARK: line counts of the Kamailio logs now.
sb_kam_mark() {
	local i f
	for ((i = 1; i <= TB_NBE; i++)); do
		f=$(sb_kam_log "$i")
		if [ -e "$f" ]; then echo "$f $(wc -l <"$f")"; else echo "$f 0"; fi
	done >"$TB_STATE/mark-$1"
}

# sb_dialog_list PREFIX [MARK]: see the top.
sb_dialog_list() {
	local prefix=$1 mark=${2:-} i files=() marks=
	for ((i = 1; i <= TB_NBE; i++)); do
		[ -e "$(sb_kam_log "$i")" ] && files+=("$(sb_kam_log "$i")")
	done
	[ ${#files[@]} -gt 0 ] || return 0
	if [ -n "$mark" ]; then
		[ -r "$TB_STATE/mark-$mark" ] || { sb_log "sb_dialog_list: no mark $mark"; return 1; }
		marks=$(tr '\n' ' ' <"$TB_STATE/mark-$mark")
	fi
	awk -v p="$prefix" -v marks="$marks" -v ce4="$SB_CALLEE4" -v ce6="$SB_CALLEE6" -v nbe="$TB_NBE" '
	BEGIN { nm = split(marks, mk, " "); for (j = 1; j < nm; j += 2) lim[mk[j]] = mk[j + 1] }
	!/ SIPLB be=/ { next }
	{
		line = $0
		sub(/^.* SIPLB /, "", line)
		nf = split(line, w, " ")
		delete f
		for (j = 1; j <= nf; j++) { k = w[j]; sub(/=.*/, "", k); v = w[j]; sub(/^[^=]*=/, "", v); f[k] = v }
		ci = f["ci"]
		if (index(ci, p "-") != 1) next
		be = f["be"]; t = f["t"]; m = f["m"]; cs = f["cs"]
		if (!(ci in all)) { order[++n] = ci; all[ci] = "" }
		bes[ci, be] = 1
		if (marks != "" && !((FILENAME in lim) && FNR <= lim[FILENAME])) after[ci] = 1
		if (t == "req") {
			seen[ci, m cs] = 1
			if (m == "INVITE" && cs == 1) {
				inv[ci, be] = 1
				if ((FILENAME in lim) && FNR <= lim[FILENAME]) when[ci] = "pre"
			}
			if (m == "BYE") bye[ci] = (f["src"] == ce4 || f["src"] == ce6) ? "callee" : "caller"
		} else if (f["s"] == 200) {
			seen[ci, "200" m cs] = 1
			if (m == "BYE") byeok[ci, be] = 1
		}
	}
	function list(arr, ci,   b, out) {
		out = ""
		for (b = 1; b <= nbe; b++) if ((ci, "be" b) in arr) out = out (out == "" ? "" : ",") "be" b
		return out == "" ? "-" : out
	}
	END {
		for (j = 1; j <= n; j++) {
			ci = order[j]
			ok = seen[ci, "INVITE1"] && seen[ci, "200INVITE1"] && seen[ci, "ACK1"] && (ci in bye)
			ok = ok && seen[ci, "200BYE" ((bye[ci] == "callee") ? 1 : 3)]
			if (seen[ci, "INVITE2"]) ok = ok && seen[ci, "200INVITE2"] && seen[ci, "ACK2"]
			print ci, list(inv, ci), list(bes, ci), ok ? 1 : 0, list(byeok, ci),
				(marks == "") ? "-" : ((ci in when) ? when[ci] : "post"),
				(marks == "") ? "-" : ((ci in after) ? "post" : "pre")
		}
	}' "${files[@]}"
}
