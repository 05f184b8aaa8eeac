#!/usr/bin/env bash
# test_daemon.sh: siplbd on the testbed: attach and pin, health checks up/down/up, drain,
# hitless restart under a steady stream (every packet counted at the backends), reloads
# good and bad, metrics over HTTP, siplbctl, --detach.
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

BPFFS=
trap 'tb_down; tb_bpffs_free "$BPFFS"' EXIT

tb_up 3
BPFFS=$(tb_bpffs_new)

CFG=$TB_STATE/siplb.yaml
SOCK=$TB_STATE/ctl.sock
SIPLOG=$TB_STATE/sip.log
METRICS_PORT=9109
INTERVAL=200
TIMEOUT=150
FALL=2
RISE=2

write_config() { # write_config [extra yaml for be3]
	cat >"$CFG" <<EOF
instance: it$$
interfaces:
  - name: eth0
hash_key: 00112233445566778899aabbccddeeff
affinity: {capacity: 65536, idle_timeout: 600}
health: {interval_ms: $INTERVAL, timeout_ms: $TIMEOUT, fall: $FALL, rise: $RISE}
control: $SOCK
metrics: 127.0.0.1:$METRICS_PORT
src4: $TB_LB4
src6: $TB_LB6
vips:
  - name: v4
    address: $TB_VIP4
    mode: ipip
    backends:
      - {address: ${TB_BE4[1]}, name: be1}
      - {address: ${TB_BE4[2]}, name: be2}
      - address: ${TB_BE4[3]}  # be3
        name: be3${1:-}
  - name: v6
    address: $TB_VIP6
    mode: ipip
    backends:
      - {address: ${TB_BE6[1]}, name: be1-6}
      - {address: ${TB_BE6[2]}, name: be2-6}
EOF
}

ctl() { tb_exec lb "$TB_BUILD/siplbctl" -s "$SOCK" "$@"; }
ctlj() { ctl --json "$@"; }
# state of a backend by name: up, down or draining
be_state() { ctlj backends | jq -r --arg n "$1" '.backends[] | select(.name == $n) | .state'; }
be_is() { [ "$(be_state "$1")" = "$2" ]; }
all_probed_up() {
	[ "$(ctlj backends | jq '[.backends[] | select(.state == "up" and .health.probed)] | length')" = "$1" ]
}

start_siplbd() {
	tb_bg lb siplbd.log "$TB_BUILD/siplbd" -c "$CFG" --pin-root "$BPFFS"
	SIPLBD=$TB_PID
	wait_until 10 ctl status || fail "siplbd did not answer on $SOCK"
}

# Every Call-ID with PREFIX in the backends' log went to exactly one backend.
# Prints "<lines> <backends used>".
check_consistent() {
	local prefix=$1
	awk -v p="$prefix" '$3 ~ "^"p"-" { n++; if (!($3 in where)) where[$3] = $1;
		else if (where[$3] != $1) { split_n++; print "split: " $3 " on " where[$3] " and " $1 > "/dev/stderr" }
		used[$1] = 1 }
		END { k = 0; for (b in used) k++; if (split_n) exit 1; print n + 0, k }' "$SIPLOG"
}

for i in 1 2 3; do
	tb_bg "be$i" "sipresp-be$i.log" "$TB_BUILD/tools/sipresp" --bind "${TB_BE4[$i]}:5060" \
		--bind "[${TB_BE6[$i]}]:5060" --bind "$TB_VIP4:5060" --bind "[$TB_VIP6]:5060" \
		--log "$SIPLOG" --name "be$i"
	eval "RESP$i=$TB_PID"
done

# --- configuration checks without the kernel
write_config
must "$TB_BUILD/siplbd" --check-config "$CFG" >/dev/null
write_config $'\n        weight: 0'
out=$("$TB_BUILD/siplbd" --check-config "$CFG" 2>&1) && fail "weight 0 accepted"
assert_match "$out" "siplb.yaml:[0-9]+: setting 'vips\[0\]\.backends\[2\]\.weight'" "check-config error names file:line and setting"
ok "--check-config: good file accepted, bad one refused with file:line ($out)"
write_config

# --- start: attach, pins, health
start_siplbd
ls "$BPFFS/it$$/link_eth0" "$BPFFS/it$$/map_affinity" "$BPFFS/it$$/prog_siplb_xdp" >/dev/null ||
	fail "pins missing under $BPFFS/it$$"
tb_exec lb ip link show eth0 | grep -q "xdp" || fail "no XDP on lb's eth0"
wait_until 10 all_probed_up 5 || fail "backends not all probed up: $(ctl backends)"
ok "siplbd attached natively, pinned, and all 5 backends answered OPTIONS"

# --- dialog consistency through XDP (IPIP to the backends, DSR answers)
tb_exec cl1 "$TB_BUILD/tools/sipstream" --dst "$TB_VIP4:5060" --count 3000 --rate 3000 \
	--callids 300 --prefix a >/dev/null
wait_lines 10 "$SIPLOG" ' a-[0-9]+@' 3000 || fail "only $(count_lines "$SIPLOG" ' a-') of 3000 reached a backend"
read -r n used < <(check_consistent a) || fail "a dialog was split across backends"
assert_eq "$n" 3000 "messages at the backends"
assert_eq "$used" 3 "backends used"
tb_exec cl1 "$TB_BUILD/tools/sipstream" --dst "[$TB_VIP6]:5060" --count 500 --rate 2000 \
	--callids 50 --prefix six >/dev/null
wait_lines 10 "$SIPLOG" ' six-[0-9]+@' 500 || fail "IPv6: only $(count_lines "$SIPLOG" ' six-') of 500 arrived"
check_consistent six >/dev/null || fail "IPv6 dialog split"
ok "3000 IPv4 + 500 IPv6 messages, 350 dialogs, each on one backend, all 3 backends used"

# --- health: a backend that stops answering is down within interval x fall (+ timeout)
kill -USR1 "$RESP2"
t0=$(date +%s%N)
wait_until 5 be_is be2 down || fail "be2 not marked down: $(ctl backends)"
ms=$((($(date +%s%N) - t0) / 1000000))
bound=$((INTERVAL * FALL + TIMEOUT + 400))
[ "$ms" -le "$bound" ] || fail "be2 marked down after $ms ms, bound $bound ms"
ctlj backends | jq -e '.backends[] | select(.name == "be2") | .health.reason | test("timeout")' >/dev/null ||
	fail "no reason for be2's state: $(ctl backends)"
grep -q "backend be2 (VIP v4) is DOWN" "$TB_STATE/siplbd.log" || fail "the transition is not logged"
# new dialogs avoid it
tb_exec cl1 "$TB_BUILD/tools/sipstream" --dst "$TB_VIP4:5060" --count 600 --rate 3000 \
	--callids 600 --prefix d >/dev/null
wait_lines 10 "$SIPLOG" ' d-[0-9]+@' 600 || fail "while be2 is down, new dialogs were lost"
[ "$(count_lines "$SIPLOG" '^be2 .* d-')" = 0 ] || fail "new dialogs reached the down backend"
kill -USR1 "$RESP2"
wait_until 5 be_is be2 up || fail "be2 did not come back: $(ctl backends)"
ok "be2 down after $ms ms (bound $bound), logged with its reason, avoided, and up again"

# --- drain: existing dialogs stay, new ones go elsewhere
tb_exec cl1 "$TB_BUILD/tools/sipstream" --dst "$TB_VIP4:5060" --count 300 --rate 3000 \
	--callids 300 --prefix e >/dev/null
wait_lines 10 "$SIPLOG" ' e-[0-9]+@' 300 || fail "drain setup lost messages"
on_be1=$(count_lines "$SIPLOG" '^be1 .* e-')
assert_ge "$on_be1" 1 "dialogs on be1 before the drain"
ctl drain be1 >/dev/null
be_is be1 draining || fail "be1 not draining: $(ctl backends)"
tb_exec cl1 "$TB_BUILD/tools/sipstream" --dst "$TB_VIP4:5060" --count 300 --rate 3000 \
	--callids 300 --prefix e >/dev/null
tb_exec cl1 "$TB_BUILD/tools/sipstream" --dst "$TB_VIP4:5060" --count 300 --rate 3000 \
	--callids 300 --prefix f >/dev/null
wait_lines 10 "$SIPLOG" ' e-[0-9]+@' 600 || fail "in-dialog messages lost while draining"
wait_lines 10 "$SIPLOG" ' f-[0-9]+@' 300 || fail "new dialogs lost while draining"
check_consistent e >/dev/null || fail "a dialog moved off the draining backend"
assert_eq "$(count_lines "$SIPLOG" '^be1 .* e-')" "$((on_be1 * 2))" "in-dialog messages on the draining be1"
assert_eq "$(count_lines "$SIPLOG" '^be1 .* f-')" 0 "new dialogs on the draining be1"
ctl undrain be1 >/dev/null
be_is be1 up || fail "be1 not up after undrain"
ok "drain kept $on_be1 dialogs on be1 and sent none of 300 new ones there; undrain"

# --- hitless restart under a steady stream: count every packet; an operator's drain stays
ctl drain be1 >/dev/null
tb_bg cl1 stream.log "$TB_BUILD/tools/sipstream" --dst "$TB_VIP4:5060" --count 16000 \
	--rate 4000 --callids 400 --prefix r
STREAM=$TB_PID
sleep 1
tb_stop "$SIPLBD"
sleep 0.5
start_siplbd
grep -q "program replaced in the pinned link" "$TB_STATE/siplbd.log" || fail "the link was not reused"
grep -q "maps reused" "$TB_STATE/siplbd.log" || fail "the maps were not reused"
wait "$STREAM" || fail "the stream failed: $(cat "$TB_STATE/stream.log")"
wait_lines 10 "$SIPLOG" ' r-[0-9]+@' 16000 || true
got=$(count_lines "$SIPLOG" ' r-[0-9]+@')
assert_eq "$got" 16000 "packets at the backends across the restart"
check_consistent r >/dev/null || fail "a dialog moved during the restart"
ok "siplbd restarted under 4000 packets/s: 16000 of 16000 arrived, no dialog moved"
be_is be1 draining || fail "the drain of be1 did not survive the restart: $(ctl backends)"
grep -q "be1 (id [0-9]*) stays draining" "$TB_STATE/siplbd.log" || fail "kept drain not logged"
ctl undrain be1 >/dev/null
ok "a drain set with siplbctl survives the restart"

# after the restart, states and health carry on
wait_until 10 all_probed_up 5 || fail "after restart: $(ctl backends)"

# --- reload: a bad file is refused and the running configuration stays
cp "$CFG" "$CFG.good"
write_config $'\n        weight: 70000'
reload_failed_once() { [ "$(ctlj status | jq .reload_failures)" = 1 ]; }
kill -HUP "$SIPLBD"
wait_until 5 reload_failed_once || fail "bad reload not counted: $(ctl status)"
err=$(ctlj status | jq -r .last_reload_error)
assert_match "$err" "siplb.yaml:[0-9]+: setting 'vips\[0\]\.backends\[2\]\.weight'" "reload error"
[ "$(ctlj backends | jq '.backends | length')" = 5 ] || fail "backends changed after a bad reload"
out=$(ctl reload 2>&1) && fail "siplbctl reload accepted a bad file"
assert_match "$out" "weight" "siplbctl reload says why"
ok "bad config refused on SIGHUP and on siplbctl reload ($err); 5 backends still there"

# --- reload: remove be3 and change a weight; be1 and be2 keep their ids and dialogs
cp "$CFG.good" "$CFG"
ids_before=$(ctlj backends | jq -c '[.backends[] | select(.name == "be1" or .name == "be2") | .id]')
sed -i '/# be3/,+1d; s/name: be2}/name: be2, weight: 150}/' "$CFG"
out=$(ctl reload) || fail "good reload refused: $out"
assert_match "$out" "1 removed" "reload summary"
[ "$(ctlj backends v4 | jq '.backends | length')" = 2 ] || fail "be3 still there"
assert_eq "$(ctlj backends | jq -c '[.backends[] | select(.name == "be1" or .name == "be2") | .id]')" "$ids_before" "ids after reload"
[ "$(ctlj backends | jq '.backends[] | select(.name == "be2") | .weight')" = 150 ] || fail "weight not applied"
ok "reload removed be3, set be2's weight, kept ids ($out)"

# --- metrics
scrape() { tb_exec lb curl -sf "http://127.0.0.1:$METRICS_PORT/metrics"; }
m=$(scrape) || fail "metrics endpoint not answering"
echo "$m" | grep -q '^# TYPE siplb_backend_packets_total counter' || fail "no backend packet counter"
sum=$(echo "$m" | awk '/^siplb_vip_packets_total\{.*vip="v4"/ { s += $NF } END { print s + 0 }')
assert_ge "$sum" 20000 "v4 packets in metrics"
bsum=$(echo "$m" | awk '/^siplb_backend_packets_total\{.*vip="v4"/ { s += $NF } END { print s + 0 }')
assert_ge "$sum" "$bsum" "backend packets <= VIP packets"
echo "$m" | grep -qE '^siplb_drops_total\{reason="no_backend"\} [0-9]+' || fail "drop reasons missing"
ok "metrics scraped: $sum packets for v4"

# --- siplbctl human output and stats
ctl status | grep -q "v4" || fail "status does not name the VIP"
ctl stats >/dev/null || fail "stats"

# --- detach: everything attached and pinned goes
tb_stop "$SIPLBD"
must "$TB_BUILD/siplbd" --detach -c "$CFG" --pin-root "$BPFFS" >/dev/null
[ ! -e "$BPFFS/it$$" ] || fail "pins left after --detach: $(ls "$BPFFS/it$$")"
tb_exec lb ip link show eth0 | grep -q "xdp" && fail "XDP still attached after --detach"
ok "--detach removed the XDP link and every pin"
