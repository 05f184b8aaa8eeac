#!/usr/bin/env bash
# test_registrar.sh: a Kamailio registrar cluster (3 nodes, in-memory location
# tables) behind the VIP with register_key: to-aor. sipp registers N users, then
# registers them again with new Call-IDs: the Kamailio logs show both REGISTERs of
# every AOR on one registrar, all 3 registrars used; each registrar's location table
# (kamcmd ul.dump / ul.lookup over its ctl socket) holds exactly the AORs it logged,
# one binding each (the re-registration replaced the first), and no other registrar
# has them. Control: the IPv6 VIP keys REGISTER by Call-ID, and there
# re-registrations do split (so the check above can fail).
# Knobs: E2E_USERS (default 100).
# shellcheck source-path=SCRIPTDIR/../integ
source "$(dirname "$0")/../integ/lib.sh"
# shellcheck source=../../scripts/sipbed.sh
source "$IT_DIR/../../scripts/sipbed.sh"

sb_check || skip "Kamailio or sipp missing (apt-get install kamailio sip-tester)"
trap sb_down EXIT

USERS=${E2E_USERS:-100}

kv() {
	sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $2"
}

# register NAME FAMILY: all USERS registrations succeed
register() {
	local rc=0
	sb_sipp_register "$1" "$2" "$USERS" 200 || rc=$?
	[ "$rc" = 0 ] || fail "sipp $1 exited $rc: $(sb_sipp_summary "$1")"
	assert_eq "$(sb_sipp_stat "$1" 'SuccessfulCall(C)')" "$USERS" "$1: successful REGISTERs"
}

# AORs in registrar I's location table, sorted (ul.dump brief: "AoR: user1" lines)
table_aors() {
	sb_kamcmd "$1" ul.dump brief | sed -n 's/^[[:space:]]*AoR: \([^[:space:]]*\).*/\1/p' | sort
}

t0=$SECONDS
tb_up 3
sb_kam_start_all registrar || fail "Kamailio registrars"
sb_siplbd_start to-aor call-id || fail "siplbd"
ok "testbed, 3 Kamailio registrars and siplbd up in $((SECONDS - t0)) s"

# --- IPv4 VIP, register_key: to-aor
register r1 4
register r2 4
out=$(sb_register_aors r1 r2 2>"$TB_STATE/aors.err") || fail "log analysis"
info "backends' logs: $out"
[ -s "$TB_STATE/aors.err" ] && cat "$TB_STATE/aors.err" >&2
assert_eq "$(kv aors "$out")" "$USERS" "AORs registered"
assert_eq "$(kv regs "$out")" "$((2 * USERS))" "REGISTERs at the registrars"
assert_eq "$(kv split "$out")" 0 "AORs whose registrations went to two registrars"
for b in 1 2 3; do
	assert_ge "$(kv "be$b" "$out")" 1 "AORs on be$b"
done
# the two REGISTERs of an AOR carried different Call-IDs
ncid=$({ sb_events r1; sb_events r2; } | awk '$3 == "REGISTER" { print $6 }' | sort -u | wc -l)
assert_eq "$ncid" "$((2 * USERS))" "distinct Call-IDs of the REGISTERs"
ok "$USERS AORs registered twice with new Call-IDs: each AOR's REGISTERs on one registrar ($out)"

# --- the bindings: each registrar holds exactly the AORs it logged, one contact each
map=$TB_STATE/aor-r1.map
for b in 1 2 3; do
	table_aors "$b" | grep -E '^user[0-9]+$' >"$TB_STATE/table-be$b" || true
	awk -v b="be$b" '$2 == b { print $1 }' "$map" | sort >"$TB_STATE/logged-be$b"
	diff -q "$TB_STATE/table-be$b" "$TB_STATE/logged-be$b" >/dev/null ||
		fail "be$b: location table and log differ: $(diff "$TB_STATE/table-be$b" "$TB_STATE/logged-be$b" | head -n 5)"
done
# a lookup of every AOR: found on its registrar with one binding (the re-registration
# replaced the first), absent from the others
nfound=0
while read -r aor be; do
	b=${be#be}
	res=$(sb_kamcmd "$b" ul.lookup location "$aor" 2>&1) || fail "kamcmd on $be: $res"
	ncontacts=$(grep -c "Address: sip:$aor@$TB_CL4:5060" <<<"$res" || true)
	assert_eq "$ncontacts" 1 "bindings of $aor on $be"
	for o in 1 2 3; do
		[ "$o" = "$b" ] && continue
		# kamcmd exits 0 on RPC errors too: read what it says
		res=$(sb_kamcmd "$o" ul.lookup location "$aor" 2>&1) || fail "kamcmd on be$o: $res"
		grep -q "AOR not found" <<<"$res" || fail "$aor also on be$o: $res"
	done
	nfound=$((nfound + 1))
done <"$map"
assert_eq "$nfound" "$USERS" "AORs looked up"
ok "ul.lookup finds each of the $USERS AORs on its registrar (1 binding, $TB_CL4) and on no other"

# --- control: keyed by Call-ID (IPv6 VIP), re-registrations scatter
SB_USER_PREFIX=cid register k1 6
SB_USER_PREFIX=cid register k2 6
out=$(sb_register_aors k1 k2 2>/dev/null) || fail "log analysis (control)"
assert_ge "$(kv split "$out")" 1 "AORs split when REGISTER is keyed by Call-ID (control)"
ok "control: with register_key call-id (IPv6 VIP) $(kv split "$out") of $USERS AORs split ($out)"
info "siplbctl stats: $(sb_ctl --json stats | jq -c '.events')"
info "total $((SECONDS - t0)) s"
