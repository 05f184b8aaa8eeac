#!/usr/bin/env bash
# ecmpbed.sh: scale-out on the siplb testbed: a second balancer, a router that
# spreads the VIP over both by ECMP, and BGP (BIRD 2) between them.
#
# A library, sourced after scripts/testbed.sh and scripts/sipbed.sh:
#
#	trap eb_down EXIT	# sb_down, and the second private bpffs
#	tb_up 3; sb_callee_up; sb_kam_start_all proxy; sb_callee_start 4
#	eb_up			# nodes rt and lb2, BIRD on rt, lb and lb2
#	eb_siplbd_start 1; eb_siplbd_start 2	# siplbd on lb / lb2, announcing the VIPs
#	eb_wait_paths 2		# the router has an ECMP route over both
#
# Topology added (IPv4; the IPv6 VIP stays routed via lb as before):
#
#	cl1, callee --(VIP via rt)--> rt 198.18.0.254  ECMP: VIP via lb, lb2
#	                               |  (fib_multipath_hash_policy=1: L4 hash)
#	                lb 198.18.0.1 -+- lb2 198.18.0.2   both run siplbd + XDP,
#	                               |                   IPIP to the backends
#	                          be1..beN (Kamailio, DSR straight to the clients)
#
# Every node sits on the testbed's bridge. BGP: rt is AS 65000, lb and lb2
# are AS 65001; each balancer's BIRD learns kernel table EB_TABLE (where
# siplbd puts a route for each VIP it can serve: announce.table) and exports
# it; rt's BIRD installs the routes with merge paths (ECMP) into its main
# table. rt sends no ICMP redirects (clients and balancers share its segment).
#
# Functions:
#	eb_check			bird installed (1 if not)
#	eb_up				add rt and lb2, allow lb2's tunnels on the backends,
#					route the clients' VIP traffic via rt, start BIRD x3
#	eb_siplbd_config I FILE		siplbd config of instance I (1: lb, 2: lb2);
#					EB_DIALOG_WINDOW: its affinity.dialog_window
#	eb_siplbd_start I		start it (private bpffs each), wait for the backends
#	eb_siplbd_stop I		SIGTERM it: its routes are withdrawn
#	eb_ctl I ARGS...		siplbctl against instance I
#	eb_paths			next hops of the router's VIP route, e.g.
#					"198.18.0.1 198.18.0.2" (empty: no route)
#	eb_wait_paths N [SECONDS]	wait until the route has N next hops
#	eb_down				stop everything (BIRD too), sb_down

EB_RT4=198.18.0.254
EB_RT_MAC=02:53:4c:42:00:fe
EB_LB2_4=198.18.0.2
EB_LB2_6=2001:db8::2
EB_LB2_MAC=02:53:4c:42:00:02
EB_TABLE=100
EB_BPFFS2=
declare -a EB_SIPLBD_PID=()

eb_log() {
	echo "ecmpbed: $*" >&2
}

eb_check() {
	command -v bird >/dev/null || { eb_log "bird not found (apt-get install bird2)"; return 1; }
}

# eb_node NAME ADDR4 ADDR6 MAC: a node on the bridge, as testbed.sh makes them.
eb_node() {
	local node=$1 a4=$2 a6=$3 mac=$4 ns
	ns=$(tb_ns "$node")
	echo "$ns" >>"$TB_STATE/netns"
	ip netns add "$ns" || return 1
	tb_exec "$node" ip link set lo up || return 1
	tb_sysctl "$node" net/ipv6/conf/all/accept_dad 0 || return 1
	tb_sysctl "$node" net/ipv6/conf/default/accept_dad 0 || return 1
	tb_exec sw ip link add "$node" numtxqueues 2 numrxqueues 2 type veth \
		peer name eth0 numtxqueues 2 numrxqueues 2 address "$mac" netns "$ns" || return 1
	tb_exec sw ip link set "$node" master br0 up || return 1
	tb_exec "$node" ip addr add "$a4/24" dev eth0 || return 1
	tb_exec "$node" ip addr add "$a6/64" dev eth0 nodad || return 1
	tb_exec "$node" ip link set eth0 up || return 1
}

eb_bird_conf_lb() { # eb_bird_conf_lb ROUTER-ID
	cat <<EOF
router id $1;
log "$TB_STATE/bird-$1.log" all;
protocol device { scan time 10; }
# siplbd's VIP routes (announce.table): learned, never written back
protocol kernel vips {
	kernel table $EB_TABLE;
	learn;
	scan time 1;
	ipv4 { import all; export none; };
}
protocol bgp uplink {
	local as 65001;
	neighbor $EB_RT4 as 65000;
	connect delay time 1; connect retry time 1; error wait time 1, 3;
	hold time 3; keepalive time 1;
	ipv4 { import none; export all; };
}
EOF
}

eb_bird_conf_rt() {
	cat <<EOF
router id $EB_RT4;
log "$TB_STATE/bird-rt.log" all;
protocol device { scan time 10; }
protocol kernel {
	merge paths on;
	ipv4 { import none; export all; };
}
template bgp lbs {
	local as 65000;
	connect delay time 1; connect retry time 1; error wait time 1, 3;
	hold time 3; keepalive time 1;
	ipv4 { import all; export none; };
}
protocol bgp lb1 from lbs { neighbor $TB_LB4 as 65001; }
protocol bgp lb2 from lbs { neighbor $EB_LB2_4 as 65001; }
EOF
}

# eb_bird NODE NAME: BIRD in NODE with $TB_STATE/bird-NAME.conf, in the foreground (tb_bg).
eb_bird() {
	local node=$1 name=$2
	bird -p -c "$TB_STATE/bird-$name.conf" || return 1
	tb_bg "$node" "bird-$name.out" bird -f -c "$TB_STATE/bird-$name.conf" \
		-s "$TB_STATE/bird-$name.ctl" -P "$TB_STATE/bird-$name.pid"
}

eb_up() {
	local i
	[ -n "$TB_STATE" ] || { eb_log "eb_up: no testbed (tb_up first)"; return 1; }
	eb_node rt "$EB_RT4" 2001:db8::fe "$EB_RT_MAC" || return 1
	eb_node lb2 "$EB_LB2_4" "$EB_LB2_6" "$EB_LB2_MAC" || return 1
	tb_exec sw "$TB_BUILD/tools/tbnet" xdp-pass lb2 || return 1
	tb_sysctl rt net/ipv4/ip_forward 1 || return 1
	tb_sysctl rt net/ipv4/fib_multipath_hash_policy 1 || return 1
	tb_sysctl rt net/ipv4/conf/all/send_redirects 0 || return 1
	tb_sysctl rt net/ipv4/conf/eth0/send_redirects 0 || return 1
	# the backends take tunnels from both balancers, and answer lb2's probes
	for ((i = 1; i <= TB_NBE; i++)); do
		tb_exec "be$i" "$TB_BUILD/siplb-decap" attach eth0 --allow "$TB_LB4" --allow "$TB_LB6" \
			--allow "$EB_LB2_4" --allow "$EB_LB2_6" >>"$TB_STATE/decap.log" 2>&1 || return 1
	done
	# the clients reach the IPv4 VIP through the router
	for node in cl1 callee; do
		tb_exec "$node" ip route replace "$TB_VIP4/32" via "$EB_RT4" || return 1
		tb_sysctl "$node" net/ipv4/conf/all/accept_redirects 0 || return 1
	done
	eb_bird_conf_lb "$TB_LB4" >"$TB_STATE/bird-lb.conf"
	eb_bird_conf_lb "$EB_LB2_4" >"$TB_STATE/bird-lb2.conf"
	eb_bird_conf_rt >"$TB_STATE/bird-rt.conf"
	eb_bird rt rt || return 1
	eb_bird lb lb || return 1
	eb_bird lb2 lb2 || return 1
}

# eb_siplbd_config I FILE: sipbed's config plus announce; instance 2 speaks from lb2.
eb_siplbd_config() {
	local i=$1 cfg=$2
	sb_siplbd_config "$cfg" call-id || return 1
	printf 'announce: {table: %s}\n' "$EB_TABLE" >>"$cfg"
	[ -z "${EB_DIALOG_WINDOW:-}" ] ||
		sed -i "s|^affinity: {\(.*\)}|affinity: {\1, dialog_window: $EB_DIALOG_WINDOW}|" "$cfg"
	[ "$i" = 1 ] && return 0
	sed -i -e "s|^src4: .*|src4: $EB_LB2_4|; s|^src6: .*|src6: $EB_LB2_6|" \
		-e "s|^control: .*|control: $TB_STATE/ctl2.sock|" \
		-e "s|^metrics: .*|metrics: 127.0.0.1:9110|" "$cfg"
}

eb_ctl() {
	local i=$1
	shift
	if [ "$i" = 1 ]; then
		sb_ctl "$@"
	else
		tb_exec lb2 "$TB_BUILD/siplbctl" -s "$TB_STATE/ctl2.sock" "$@"
	fi
}

eb_all_up() {
	[ "$(eb_ctl "$1" --json backends | jq '[.backends[] | select(.state == "up" and .health.probed)] | length')" = "$2" ]
}

eb_siplbd_start() {
	local i=$1 cfg=$TB_STATE/siplb$1.yaml node=lb fs
	eb_siplbd_config "$i" "$cfg" || return 1
	if [ "$i" = 1 ]; then
		if [ -z "$SB_BPFFS" ]; then
			SB_BPFFS=$(tb_bpffs_new) || return 1
		fi
		fs=$SB_BPFFS
	else
		node=lb2
		if [ -z "$EB_BPFFS2" ]; then
			EB_BPFFS2=$(tb_bpffs_new) || return 1
		fi
		fs=$EB_BPFFS2
	fi
	tb_bg "$node" "siplbd$i.log" "$TB_BUILD/siplbd" -c "$cfg" --pin-root "$fs"
	EB_SIPLBD_PID[i]=$TB_PID
	# shellcheck disable=SC2034 # sipbed.sh's, for sb_siplbd_stop
	[ "$i" = 1 ] && SB_SIPLBD_PID=$TB_PID
	sb_wait 10 eb_ctl "$i" status || { eb_log "siplbd $i does not answer"; tail -n 20 "$TB_STATE/siplbd$i.log" >&2; return 1; }
	sb_wait 15 eb_all_up "$i" $((2 * $(sb_bes | wc -w))) || {
		eb_log "siplbd $i: not all backends probed up:"
		eb_ctl "$i" backends >&2
		return 1
	}
}

eb_siplbd_stop() {
	[ -z "${EB_SIPLBD_PID[$1]:-}" ] || tb_stop "${EB_SIPLBD_PID[$1]}"
}

eb_paths() {
	tb_exec rt ip -4 route show "$TB_VIP4/32" 2>/dev/null |
		grep -o 'via [0-9.]*' | awk '{print $2}' | sort | tr '\n' ' ' | sed 's/ $//'
}

eb_npaths() {
	[ "$(eb_paths | wc -w)" = "$1" ]
}

eb_wait_paths() {
	sb_wait "${2:-30}" eb_npaths "$1"
}

eb_down() {
	sb_down
	tb_bpffs_free "$EB_BPFFS2"
	EB_BPFFS2=
}
