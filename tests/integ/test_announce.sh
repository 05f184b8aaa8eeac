#!/usr/bin/env bash
# test_announce.sh: siplbd keeps each VIP's route in announce.table (for BGP) exactly
# while it can serve the VIP: announced once a backend is up; withdrawn when all
# backends are down, back when one returns; SIGUSR1 (restart) keeps it, SIGTERM
# (stop) withdraws it; siplbd --detach withdraws it.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

BPFFS=
trap 'tb_down; tb_bpffs_free "$BPFFS"' EXIT

tb_up 2
BPFFS=$(tb_bpffs_new)
CFG=$TB_STATE/siplb.yaml
SOCK=$TB_STATE/ctl.sock
TABLE=100

cat >"$CFG" <<EOF
instance: an$$
interfaces:
  - name: eth0
hash_key: 00112233445566778899aabbccddeeff
health: {interval_ms: 100, timeout_ms: 80, fall: 2, rise: 2}
control: $SOCK
metrics: 127.0.0.1:9111
src4: $TB_LB4
src6: $TB_LB6
announce: {table: $TABLE}
vips:
  - name: v4
    address: $TB_VIP4
    backends:
      - {address: ${TB_BE4[1]}, name: be1}
      - {address: ${TB_BE4[2]}, name: be2}
  - name: v6
    address: $TB_VIP6
    backends:
      - {address: ${TB_BE6[1]}, name: be1-6}
EOF

ctl() { tb_exec lb "$TB_BUILD/siplbctl" -s "$SOCK" "$@"; }
# the routes siplbd keeps in the table, one "blackhole ADDR" a line, sorted
routes() {
	{ tb_exec lb ip -4 route show table "$TABLE" proto 186; tb_exec lb ip -6 route show table "$TABLE" proto 186; } |
		awk '{print $1, $2}' | sort | tr '\n' ';'
}
BOTH="blackhole $TB_VIP4;blackhole $TB_VIP6;"
routes_are() { [ "$(routes)" = "$1" ]; }

start_responders() {
	local i
	for i in 1 2; do
		tb_bg "be$i" "sipresp-be$i.log" "$TB_BUILD/tools/sipresp" --bind "${TB_BE4[$i]}:5060" \
			--bind "[${TB_BE6[$i]}]:5060" --name "be$i"
		eval "RESP$i=$TB_PID"
	done
}

start_siplbd() {
	tb_bg lb siplbd.log "$TB_BUILD/siplbd" -c "$CFG" --pin-root "$BPFFS"
	SIPLBD=$TB_PID
	wait_until 10 ctl status || fail "siplbd did not answer on $SOCK"
}

start_responders
start_siplbd
wait_until 10 routes_are "$BOTH" || fail "routes in table $TABLE: '$(routes)', want '$BOTH'"
assert_eq "$(ctl --json status | jq -c '[.vips[].announced]')" '[true,true]' "status: announced"
assert_eq "$(tb_exec lb ip -4 route get "$TB_VIP4" 2>&1 | grep -c blackhole)" 0 \
	"the main table does not route the VIP into the blackhole"
ok "both VIPs announced in table $TABLE once their backends are up"

# all backends of a VIP down: its route goes; the other VIP's too (be1-6 is its only one)
tb_stop "$RESP1"
tb_stop "$RESP2"
wait_until 10 routes_are "" || fail "routes with every backend down: '$(routes)'"
grep -q "withdrawn (route in table $TABLE): no backend is up" "$TB_STATE/siplbd.log" ||
	fail "no withdrawal logged"
start_responders
wait_until 10 routes_are "$BOTH" || fail "routes after the backends returned: '$(routes)'"
ok "all backends down: withdrawn; a backend back: announced again"

# restart in place: SIGUSR1 keeps the routes (and XDP)
kill -USR1 "$SIPLBD"
wait_until 5 sh -c "! kill -0 $SIPLBD 2>/dev/null" || fail "siplbd did not stop on SIGUSR1"
assert_eq "$(routes)" "$BOTH" "routes after SIGUSR1"
start_siplbd
sleep 0.5	# a few ticks: the new siplbd decides again (and replaces the routes)
assert_eq "$(routes)" "$BOTH" "routes after the restart"
ok "SIGUSR1 (restart): routes kept"

# stop: SIGTERM withdraws
tb_stop "$SIPLBD"
assert_eq "$(routes)" "" "routes after SIGTERM"
ok "SIGTERM (stop): routes withdrawn"

# --detach withdraws what a killed siplbd left
start_siplbd
wait_until 10 routes_are "$BOTH" || fail "routes after start: '$(routes)'"
kill -KILL "$SIPLBD"
wait "$SIPLBD" 2>/dev/null || true
wait_until 5 sh -c "! kill -0 $SIPLBD 2>/dev/null" || true
assert_eq "$(routes)" "$BOTH" "routes left by a killed siplbd"
tb_exec lb "$TB_BUILD/siplbd" --detach -c "$CFG" --pin-root "$BPFFS" >/dev/null 2>&1 ||
	fail "siplbd --detach failed"
assert_eq "$(routes)" "" "routes after --detach"
ok "siplbd --detach withdraws the routes a killed siplbd left"
