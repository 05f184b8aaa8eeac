#!/usr/bin/env bash
# testbed.sh: the network-namespace topology of siplb's integration tests, demo and bench.
#
# A library: source it, then
#
#	trap tb_down EXIT	# always: removes namespaces and stops what tb_bg started
#	tb_up 3			# client, balancer, 3 backends
#	tb_bg be1 be1.log "$TB_BUILD/tools/sipresp" --bind "$TB_VIP4:5060" --name be1
#	tb_exec cl1 "$TB_BUILD/tools/sipstream" --dst "$TB_VIP4:5060" --count 10 --rate 100
#
# or run it: scripts/testbed.sh up [N] | down [STATE-DIR...] | shell [N].
#
# Topology (one L2 segment, a bridge in its own namespace):
#
#	cl1 198.18.0.100 ---+                 +--- be1 198.18.0.11  VIP on lo, siplb_decap on eth0
#	    2001:db8::100   |   sw: br0       |        2001:db8::11
#	                    +--- (bridge) ----+--- be2 198.18.0.12 ...
#	lb  198.18.0.1 -----+                 +--- beN 198.18.0.(10+N)
#	    2001:db8::1
#
# Every node has one link, eth0, whose peer in sw is named after the node (lb,
# be1, ...) and enslaved to br0. The client routes the VIPs (198.18.2.10,
# 2001:db8:2::10) via lb; every backend owns the VIPs on lo, answers the client
# directly from them (direct server return) and strips siplb's IPIP/IP6IP6
# tunnels with build/siplb-decap (allowed source: lb's addresses). The bridge
# ports of lb and of the backends run an XDP_PASS program, so that lb's XDP_TX
# frames are received (veth needs XDP on the receiving peer); the client's eth0
# checksums UDP in software (XDP_TX loses the "fill in the checksum" note).
#
# Variables after tb_up (read-only by convention):
#	TB_PREFIX  namespace prefix of this run, e.g. slb4242x1f3-
#	TB_STATE   state dir (/tmp/siplb-tb.<prefix>): logs, pids, namespaces
#	TB_BUILD   absolute build dir ($BUILD, default build)
#	TB_NBE     number of backends;  TB_NODES: sw cl1 lb be1 ... beN
#	TB_VIP4 TB_VIP6          198.18.2.10 2001:db8:2::10
#	TB_CL4 TB_CL6 TB_LB4 TB_LB6
#	TB_BE4[i] TB_BE6[i]      backend i (1..N) real addresses
#	TB_SIP_PORT              5060
#	TB_PID     PID of the last tb_bg
# Functions: tb_up [N], tb_down, tb_ns NODE, tb_exec NODE CMD..., tb_bg NODE
# LOG CMD..., tb_stop PID, tb_mac NODE, tb_addr4 NODE, tb_addr6 NODE,
# tb_ifindex NODE [IFACE], tb_neigh_pin NODE PEER..., tb_logs, tb_load STATE-DIR.
# Node MACs are fixed: 02:53:4c:42:00:<host number in hex> (lb :01, be1 :0b).
#
# Only the namespaces of this run are touched: never the host's links or
# addresses. Addresses are 198.18.0.0/15 and 2001:db8::/32 (documentation and
# benchmarking ranges); nothing is sent elsewhere.

# shellcheck disable=SC2034 # the addresses are for the scripts that source us
TB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TB_VIP4=198.18.2.10
TB_VIP6=2001:db8:2::10
TB_LB4=198.18.0.1
TB_LB6=2001:db8::1
# shellcheck disable=SC2034
{
	TB_CL4=198.18.0.100
	TB_CL6=2001:db8::100
	TB_SIP_PORT=5060
}
TB_MAX_BE=32
TB_STOP_WAIT=3		# seconds a process gets after SIGTERM before SIGKILL
TB_PREFIX=${TB_PREFIX:-}
TB_STATE=${TB_STATE:-}
TB_PID=

tb_log() {
	echo "testbed: $*" >&2
}

# Host number of a node: its last IPv4 byte, also its IPv6 and MAC suffix.
tb_host() {
	case $1 in
	lb) echo 1 ;;
	cl1) echo 100 ;;
	be[0-9]*) echo $((10 + ${1#be})) ;;
	*) return 1 ;;
	esac
}

tb_ns() {
	echo "${TB_PREFIX}$1"
}

tb_addr4() {
	echo "198.18.0.$(tb_host "$1")"
}

tb_addr6() {
	echo "2001:db8::$(tb_host "$1")"
}

tb_mac() {
	printf '02:53:4c:42:00:%02x\n' "$(tb_host "$1")"
}

# Run a command in a node's namespace (sw, cl1, lb, be1...).
tb_exec() {
	local node=$1
	shift
	ip netns exec "$(tb_ns "$node")" "$@"
}

tb_ifindex() {
	tb_exec "$1" cat "/sys/class/net/${2:-eth0}/ifindex"
}

# Write a sysctl of a node's namespace (/proc/sys/net is per namespace).
tb_sysctl() {
	tb_exec "$1" sh -c "echo '$3' > /proc/sys/$2"
}

# Start CMD in the background in NODE, output to LOG (a bare name goes into
# $TB_STATE); records its PID in TB_PID and for tb_down. Call it directly, not
# in $(...): the process must be a child of this shell.
tb_bg() {
	local node=$1 log=$2 start
	shift 2
	[ -n "$TB_STATE" ] || { tb_log "tb_bg: no testbed (tb_up first)"; return 1; }
	case $log in
	*/*) ;;
	*) log=$TB_STATE/$log ;;
	esac
	# ip netns exec execs the command: $! is the command itself.
	ip netns exec "$(tb_ns "$node")" "$@" </dev/null >>"$log" 2>&1 &
	TB_PID=$!
	start=$(tb_proc_field "$TB_PID" 20)
	echo "$TB_PID ${start:-0} $node $1" >>"$TB_STATE/pids"
}

# Field N of /proc/PID/stat counted after the command name: 1 = state, 20 = start time.
tb_proc_field() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	awk -v n="$2" '{print $n}' <<<"$stat"
}

# Is PID still the process tb_bg started (same start time), and not a zombie?
tb_ours() {
	local pid=$1 start=$2 now
	now=$(tb_proc_field "$pid" 20) || return 1
	[ "$start" = 0 ] || [ "$now" = "$start" ] || return 1
	[ "$(tb_proc_field "$pid" 1)" != Z ]
}

# Stop one process started by tb_bg: SIGTERM, then SIGKILL after TB_STOP_WAIT s.
tb_stop() {
	local pid=$1 start i
	start=$(awk -v p="$pid" '$1 == p {print $2}' "$TB_STATE/pids" 2>/dev/null | tail -n1)
	[ -n "$start" ] || { tb_log "tb_stop: $pid was not started by tb_bg"; return 1; }
	tb_ours "$pid" "$start" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < TB_STOP_WAIT * 10; i++)); do
		tb_ours "$pid" "$start" || break
		sleep 0.1
	done
	if tb_ours "$pid" "$start"; then
		tb_log "pid $pid ignored SIGTERM: SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# Pin NODE's neighbour entries (IPv4 and IPv6) for the other nodes given:
# no ARP or ND needed (an XDP program that drops everything drops those too).
tb_neigh_pin() {
	local node=$1 peer
	shift
	for peer in "$@"; do
		tb_exec "$node" ip neigh replace "$(tb_addr4 "$peer")" lladdr "$(tb_mac "$peer")" \
			dev eth0 nud permanent || return 1
		tb_exec "$node" ip neigh replace "$(tb_addr6 "$peer")" lladdr "$(tb_mac "$peer")" \
			dev eth0 nud permanent || return 1
	done
}

# Print every log of the state dir (for a failing test's output).
tb_logs() {
	local f
	[ -n "$TB_STATE" ] && [ -d "$TB_STATE" ] || return 0
	for f in "$TB_STATE"/*.log; do
		[ -e "$f" ] || continue
		echo "----- $f (last 40 lines)"
		tail -n 40 "$f"
	done
}

# Namespaces of runs whose shell died before tb_down (SIGKILL, timeout):
# named slb<pid>x..., the pid gone, and not made by `testbed.sh up`.
tb_gc() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns =~ ^slb([0-9]+)x[0-9a-f]+- ]] || continue
		pid=${BASH_REMATCH[1]}
		kill -0 "$pid" 2>/dev/null && continue
		[ -e "/tmp/siplb-tb.${ns%%-*}-/keep" ] && continue
		tb_log "removing orphan namespace $ns"
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
}

tb_check() {
	local f
	if [ "$(id -u)" -ne 0 ]; then
		tb_log "needs root (network namespaces, XDP)"
		return 1
	fi
	command -v ip >/dev/null || { tb_log "ip (iproute2) not found"; return 1; }
	for f in siplb-decap tools/tbnet tools/sipresp tools/sipstream xdp_pass.bpf.o; do
		[ -e "$TB_BUILD/$f" ] || { tb_log "$TB_BUILD/$f missing: run make all"; return 1; }
	done
}

# Build the topology with N backends (default 3). Undone by tb_down, even half built.
tb_up() {
	local n=${1:-3} node ns i h
	TB_BUILD=$(cd "$TB_ROOT" && realpath -m "${BUILD:-build}")
	if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt "$TB_MAX_BE" ]; then
		tb_log "tb_up: backends must be 1..$TB_MAX_BE, not '$n'"
		return 1
	fi
	[ -z "$TB_STATE" ] || { tb_log "tb_up: a testbed is up already ($TB_STATE)"; return 1; }
	tb_check || return 1
	tb_gc
	TB_PREFIX=slb$$x$(printf '%04x' $((RANDOM & 0xffff)))-
	TB_STATE=/tmp/siplb-tb.$TB_PREFIX
	mkdir -m 0700 "$TB_STATE" || { TB_STATE=; return 1; }
	: >"$TB_STATE/pids"
	TB_NBE=$n
	TB_NODES=(sw cl1 lb)
	TB_BE4=()
	TB_BE6=()
	for ((i = 1; i <= n; i++)); do
		TB_NODES+=("be$i")
		TB_BE4[i]=$(tb_addr4 "be$i")
		TB_BE6[i]=$(tb_addr6 "be$i")
	done

	for node in "${TB_NODES[@]}"; do
		ns=$(tb_ns "$node")
		echo "$ns" >>"$TB_STATE/netns"	# recorded first: tb_down removes it even half made
		ip netns add "$ns" || return 1
		tb_exec "$node" ip link set lo up || return 1
		# No DAD: addresses usable at once (links move in with these defaults).
		tb_sysctl "$node" net/ipv6/conf/all/accept_dad 0 || return 1
		tb_sysctl "$node" net/ipv6/conf/default/accept_dad 0 || return 1
	done
	tb_exec sw ip link add br0 type bridge || return 1
	tb_exec sw ip link set br0 up || return 1
	for node in "${TB_NODES[@]:1}"; do
		h=$(tb_host "$node")
		# Two queues a side: two CPUs may send into one link (bench).
		tb_exec sw ip link add "$node" numtxqueues 2 numrxqueues 2 type veth \
			peer name eth0 numtxqueues 2 numrxqueues 2 address "$(tb_mac "$node")" \
			netns "$(tb_ns "$node")" || return 1
		tb_exec sw ip link set "$node" master br0 up || return 1
		tb_exec "$node" ip addr add "198.18.0.$h/24" dev eth0 || return 1
		tb_exec "$node" ip addr add "2001:db8::$h/64" dev eth0 nodad || return 1
		tb_exec "$node" ip link set eth0 up || return 1
	done

	# Client: the VIPs are behind lb, whose MAC is pinned (its XDP may eat ARP).
	tb_exec cl1 ip route add "$TB_VIP4/32" via "$TB_LB4" || return 1
	tb_exec cl1 ip -6 route add "$TB_VIP6/128" via "$TB_LB6" || return 1
	tb_exec cl1 ip neigh replace "$TB_LB4" lladdr "$(tb_mac lb)" dev eth0 nud permanent || return 1
	tb_exec cl1 ip neigh replace "$TB_LB6" lladdr "$(tb_mac lb)" dev eth0 nud permanent || return 1
	tb_exec cl1 "$TB_BUILD/tools/tbnet" txcsum eth0 off || return 1

	for ((i = 1; i <= n; i++)); do
		node=be$i
		tb_exec "$node" ip addr add "$TB_VIP4/32" dev lo || return 1
		tb_exec "$node" ip addr add "$TB_VIP6/128" dev lo nodad || return 1
		# The VIP is not ours to announce on the segment (LVS-DR practice).
		tb_sysctl "$node" net/ipv4/conf/all/arp_ignore 1 || return 1
		tb_sysctl "$node" net/ipv4/conf/all/arp_announce 2 || return 1
		tb_exec "$node" "$TB_BUILD/siplb-decap" attach eth0 \
			--allow "$TB_LB4" --allow "$TB_LB6" >>"$TB_STATE/decap.log" 2>&1 || {
			tb_log "siplb-decap attach on $node failed:"
			cat "$TB_STATE/decap.log" >&2
			return 1
		}
		tb_exec sw "$TB_BUILD/tools/tbnet" xdp-pass "$node" || return 1
	done
	tb_exec sw "$TB_BUILD/tools/tbnet" xdp-pass lb || return 1
	tb_save
	tb_log "up: prefix $TB_PREFIX, $n backends, state $TB_STATE"
}

# Variables for another shell: source testbed.sh, then tb_load STATE-DIR.
tb_save() {
	# -g: tb_load sources it inside a function
	declare -p TB_PREFIX TB_STATE TB_BUILD TB_NBE TB_NODES TB_BE4 TB_BE6 |
		sed -E 's/^declare -(-|[a-zA-Z]+) /declare -g\1 /; s/^declare -g- /declare -g /' \
		>"$TB_STATE/env"
}

tb_load() {
	[ -r "$1/env" ] || { tb_log "tb_load: no testbed state in $1"; return 1; }
	# shellcheck disable=SC1091
	source "$1/env"
}

# A private bpffs for one siplbd's pins (--pin-root): nothing of this run
# lands in /sys/fs/bpf, and unmounting drops whatever is still pinned.
# tb_bpffs_new prints the mounted directory; tb_bpffs_free DIR unmounts and
# removes it (nothing for an empty DIR; safe twice).
tb_bpffs_new() {
	local d
	d=$(mktemp -d /tmp/siplb-bpffs.XXXXXX) || return 1
	mount -t bpf bpf "$d" || { rmdir "$d"; return 1; }
	echo "$d"
}

tb_bpffs_free() {
	[ -n "${1:-}" ] || return 0
	if mountpoint -q "$1"; then umount "$1" || true; fi
	rmdir "$1" 2>/dev/null || true
}

# Take everything down: processes started by tb_bg, anything else left in
# our namespaces, the namespaces (and with them veths and XDP programs).
# Idempotent; safe on a half-built testbed and with no testbed at all.
tb_down() {
	local pid start rest ns
	if [ -z "$TB_STATE" ] || [ ! -d "$TB_STATE" ]; then
		TB_STATE=
		return 0
	fi
	if [ -s "$TB_STATE/pids" ]; then
		while read -r pid start rest; do
			[ -n "$pid" ] && tb_stop "$pid"
		done <"$TB_STATE/pids"
	fi
	if [ -s "$TB_STATE/netns" ]; then
		while read -r ns; do
			case $ns in slb*) ;; *) continue ;; esac
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
			ip netns del "$ns" 2>/dev/null || true
		done <"$TB_STATE/netns"
	fi
	if [ "${TB_KEEP:-0}" = 1 ]; then
		tb_log "down: logs kept in $TB_STATE"
	else
		rm -rf -- "$TB_STATE"
	fi
	TB_STATE=
	TB_PREFIX=
}

tb_main() {
	set -euo pipefail
	local cmd=${1:-}
	case $cmd in
	up)
		tb_up "${2:-3}" || { tb_down; exit 1; }
		touch "$TB_STATE/keep"	# survives this shell: tb_gc leaves it alone
		echo "$TB_STATE"
		echo "testbed: take it down with: $0 down $TB_STATE" >&2
		;;
	down)
		shift
		local d
		if [ $# -eq 0 ]; then
			for d in /tmp/siplb-tb.slb*; do
				[ -e "$d/keep" ] && set -- "$@" "$d"
			done
		fi
		for d in "$@"; do
			TB_STATE=
			tb_load "$d" && tb_down
		done
		;;
	shell)
		trap tb_down EXIT
		tb_up "${2:-3}"
		tb_log "a shell with the testbed's functions; exit to take it down"
		bash --rcfile <(printf 'source %q\ntb_load %q\nPS1="[testbed \\W]# "\n' \
			"$TB_ROOT/scripts/testbed.sh" "$TB_STATE") -i || true
		;;
	*)
		echo "Usage: $0 up [N] | down [STATE-DIR...] | shell [N]" >&2
		echo "       (or source it: see the comment at its top)" >&2
		exit 2
		;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	tb_main "$@"
fi
