#!/usr/bin/env bash
# test_netlink.sh: siplbd follows the kernel over netlink (libmnl): a backend's
# neighbour entry changes MAC and the next-hop map follows; a neighbour entry that
# goes away is resolved again; the attached interface goes down and up (logged,
# counted, XDP stays); a second configured interface is removed (logged, its link
# forgotten) and created again (XDP attached again). Traffic is checked after each.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

BPFFS=
trap 'tb_down; tb_bpffs_free "$BPFFS"' EXIT

tb_up 2
BPFFS=$(tb_bpffs_new)

CFG=$TB_STATE/siplb.yaml
SOCK=$TB_STATE/ctl.sock
SIPLOG=$TB_STATE/sip.log
FAKE_MAC=02:53:4c:42:00:fe

# A second interface on lb that siplbd attaches to: one end of a veth pair whose
# both ends live in lb (nothing is routed over it; it only has to exist).
add_spare() {
	tb_exec lb ip link add spare0 type veth peer name spare1 &&
		tb_exec lb ip link set spare0 up && tb_exec lb ip link set spare1 up
}
add_spare || fail "cannot create the spare veth in lb"

cat >"$CFG" <<EOF
instance: nl$$
interfaces:
  - name: eth0
  - name: spare0
    attach: generic
hash_key: 00112233445566778899aabbccddeeff
health: {interval_ms: 200, timeout_ms: 150, fall: 2, rise: 2}
control: $SOCK
src4: $TB_LB4
src6: $TB_LB6
vips:
  - name: v4
    address: $TB_VIP4
    mode: ipip
    backends:
      - {address: ${TB_BE4[1]}, name: be1}
      - {address: ${TB_BE4[2]}, name: be2}
EOF

ctl() { tb_exec lb "$TB_BUILD/siplbctl" -s "$SOCK" "$@"; }
ctlj() { ctl --json "$@"; }
be_mac() { ctlj backends | jq -r --arg n "$1" '.backends[] | select(.name == $n) | .nexthop.mac // "none"'; }
be_mac_is() { [ "$(be_mac "$1")" = "$2" ]; }
status_field() { ctlj status | jq -r ".$1"; }
xdp_on() { tb_exec lb ip -d link show dev "$1" | grep -q "prog/xdp"; }
log_has() { grep -qE -- "$1" "$TB_STATE/siplbd.log"; }

tb_bg lb siplbd.log "$TB_BUILD/siplbd" -c "$CFG" --pin-root "$BPFFS"
SIPLBD=$TB_PID
wait_until 10 ctl status || fail "siplbd did not answer on $SOCK"
tb_bg be1 resp1.log "$TB_BUILD/tools/sipresp" --name be1 --log "$SIPLOG" \
	--bind "$TB_VIP4:5060" --bind "${TB_BE4[1]}:5060"
tb_bg be2 resp2.log "$TB_BUILD/tools/sipresp" --name be2 --log "$SIPLOG" \
	--bind "$TB_VIP4:5060" --bind "${TB_BE4[2]}:5060"
xdp_on eth0 || fail "no XDP on eth0"
xdp_on spare0 || fail "no XDP on spare0"

# send N dialogs with PREFIX and wait until the backends logged them all
traffic() {
	tb_exec cl1 "$TB_BUILD/tools/sipstream" --dst "$TB_VIP4:5060" --count "$2" --rate 2000 \
		--callids "$2" --prefix "$1" >/dev/null || fail "sipstream failed"
	wait_lines 10 "$SIPLOG" " $1-[0-9]+@" "$2" ||
		fail "$1: $(count_lines "$SIPLOG" " $1-[0-9]+@") of $2 messages reached the backends"
}

be1_mac=$(tb_mac be1)
wait_until 10 be_mac_is be1 "$be1_mac" || fail "be1's next hop is $(be_mac be1), want $be1_mac"
traffic a 200
ok "next hops from the neighbour table; 200 messages delivered"

# 1. the neighbour entry changes MAC: the map follows within the event
updates=$(status_field nexthop_updates)
tb_exec lb ip neigh replace "${TB_BE4[1]}" lladdr "$FAKE_MAC" dev eth0 nud permanent
wait_until 3 be_mac_is be1 "$FAKE_MAC" || fail "be1's next hop did not follow: $(be_mac be1)"
assert_ge "$(status_field nexthop_updates)" "$((updates + 1))" "nexthop_updates"
tb_exec lb ip neigh replace "${TB_BE4[1]}" lladdr "$be1_mac" dev eth0 nud permanent
wait_until 3 be_mac_is be1 "$be1_mac" || fail "be1's next hop did not come back: $(be_mac be1)"
traffic b 200
ok "a neighbour's new MAC reached the next-hop map, and back again"

# 2. the neighbour entry goes away: siplbd resolves it again (ARP from lb)
tb_exec lb ip neigh del "${TB_BE4[1]}" dev eth0
neigh_back() { tb_exec lb ip neigh show "${TB_BE4[1]}" dev eth0 | grep -q "$be1_mac"; }
wait_until 5 neigh_back || fail "be1's neighbour entry was not resolved again"
wait_until 3 be_mac_is be1 "$be1_mac" || fail "be1's next hop after resolution: $(be_mac be1)"
traffic c 200
ok "a deleted neighbour entry was resolved again; traffic flows"

# 3. the attached interface goes down and up: logged and counted, XDP stays
events=$(status_field link_events)
tb_exec lb ip link set eth0 down
wait_until 3 log_has "interface eth0 is DOWN" || fail "link down not logged"
tb_exec lb ip link set eth0 up
wait_until 3 log_has "interface eth0 is up" || fail "link up not logged"
assert_ge "$(status_field link_events)" "$((events + 2))" "link_events"
xdp_on eth0 || fail "XDP gone from eth0 after down/up"
# the testbed pins lb's neighbours; a link down flushes them: pin again
tb_neigh_pin lb be1 be2 cl1
wait_until 5 be_mac_is be1 "$be1_mac" || fail "be1's next hop after link up: $(be_mac be1)"
traffic d 200
ok "eth0 down and up: logged, counted, XDP still attached, traffic flows"

# 4. a configured interface is removed, then created again: attached again
tb_exec lb ip link del spare0
wait_until 3 log_has "interface spare0 removed" || fail "interface removal not logged"
add_spare || fail "cannot create spare0 again"
wait_until 5 xdp_on spare0 || fail "spare0 came back without XDP"
log_has "interface spare0 appeared \(ifindex [0-9]+\): attaching" || fail "re-attach not logged"
traffic e 200
ok "spare0 removed and created again: siplbd attached XDP to the new one"

tb_stop "$SIPLBD"
ok "netlink checks passed"
