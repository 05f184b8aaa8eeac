#!/usr/bin/env bash
# test_testbed.sh: the testbed itself: reachability, SIP responders, backend decapsulation (DSR).
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

trap tb_down EXIT
tb_up 2

T=$TB_BUILD/tools
P=$TB_SIP_PORT
SIPLOG=$TB_STATE/sip.log	# every responder's message lines (shared, O_APPEND)
CLPORT=5099			# the client's port for answers that come back by DSR

# 1. Plain reachability from the client.
if command -v ping >/dev/null; then
	for i in 1 2; do
		tb_exec cl1 ping -c1 -W1 "${TB_BE4[i]}" >/dev/null || fail "ping be$i ${TB_BE4[i]}"
		tb_exec cl1 ping -6 -c1 -W1 "${TB_BE6[i]}" >/dev/null || fail "ping be$i ${TB_BE6[i]}"
	done
	ok "client pings both backends (IPv4, IPv6)"
else
	info "ping not installed (iputils-ping): reachability checked by SIP below"
fi

# 2. A responder on each backend: real addresses and the VIPs.
declare -a RESP
for i in 1 2; do
	tb_bg "be$i" "sipresp-be$i.log" "$T/sipresp" --name "be$i" --log "$SIPLOG" \
		--bind "${TB_BE4[i]}:$P" --bind "[${TB_BE6[i]}]:$P" \
		--bind "$TB_VIP4:$P" --bind "[$TB_VIP6]:$P"
	RESP[i]=$TB_PID
done
# The client listens for what backends answer it directly (from the VIP).
tb_bg cl1 sipresp-cl1.log "$T/sipresp" --name cl1 --log "$TB_STATE/cl1.log" \
	--bind "$TB_CL4:$CLPORT" --bind "[$TB_CL6]:$CLPORT"
for f in be1 be2 cl1; do
	wait_lines 5 "$TB_STATE/sipresp-$f.log" listening 1 || fail "sipresp on $f did not start"
done

# OPTIONS from the client to each backend's real address; every one answered.
for i in 1 2; do
	for dst in "${TB_BE4[i]}:$P" "[${TB_BE6[i]}]:$P"; do
		out=$(tb_exec cl1 "$T/sipstream" --dst "$dst" --method OPTIONS --count 5 \
			--rate 500 --prefix "opt-be$i" --wait 2000)
		assert_match "$out" "sent 5"$'\n'"received 5" "OPTIONS to $dst"
	done
done
wait_lines 5 "$SIPLOG" "^be1 OPTIONS opt-be1-" 10 || fail "be1 did not log 10 OPTIONS"
wait_lines 5 "$SIPLOG" "^be2 OPTIONS opt-be2-" 10 || fail "be2 did not log 10 OPTIONS"
assert_eq "$(count_lines "$SIPLOG" "^be1 OPTIONS opt-be2-")" 0 "be1 saw be2's OPTIONS"
ok "sipresp on each backend answers the client's OPTIONS (IPv4, IPv6)"

# The balancer's own health-check path: lb -> backend real address.
out=$(tb_exec lb "$T/sipstream" --dst "${TB_BE4[1]}:$P" --method OPTIONS --count 3 \
	--rate 100 --prefix hc --wait 2000)
assert_match "$out" "received 3" "OPTIONS from lb to be1"
# A muted responder is a dead backend to health checks; unmuted, alive again.
kill -USR1 "${RESP[1]}"
wait_lines 5 "$TB_STATE/sipresp-be1.log" "^sipresp be1: muted" 1 || fail "be1 not muted"
out=$(tb_exec lb "$T/sipstream" --dst "${TB_BE4[1]}:$P" --method OPTIONS --count 2 \
	--rate 100 --prefix hcmute --wait 500)
assert_match "$out" "received 0" "muted be1 still answers OPTIONS"
kill -USR1 "${RESP[1]}"
wait_lines 5 "$TB_STATE/sipresp-be1.log" "^sipresp be1: unmuted" 1 || fail "be1 not unmuted"
out=$(tb_exec lb "$T/sipstream" --dst "[${TB_BE6[1]}]:$P" --method OPTIONS --count 2 \
	--rate 100 --prefix hcback --wait 2000)
assert_match "$out" "received 2" "unmuted be1 does not answer"
ok "lb reaches the backends; SIGUSR1 mutes and unmutes a responder"

# 3. Decapsulation, end to end: lb tunnels the client's datagrams to each
# backend as the balancer does (sipstream --encap, a raw socket); the
# backend's XDP strips the outer header, its responder sees the client's
# address and answers the client directly from the VIP.
for i in 1 2; do
	tb_exec lb "$T/sipstream" --encap "${TB_BE4[i]}" --src "$TB_CL4:$CLPORT" \
		--dst "$TB_VIP4:$P" --count 4 --rate 200 --prefix "dec4-be$i" --quiet >/dev/null ||
		fail "IPIP to be$i"
	tb_exec lb "$T/sipstream" --encap "${TB_BE6[i]}" --src "[$TB_CL6]:$CLPORT" \
		--dst "[$TB_VIP6]:$P" --count 4 --rate 200 --prefix "dec6-be$i" --quiet >/dev/null ||
		fail "IP6IP6 to be$i"
done
for i in 1 2; do
	wait_lines 5 "$SIPLOG" "^be$i INVITE dec4-be$i-[0-9]+@siplb.test $TB_CL4:$CLPORT\$" 4 ||
		fail "be$i did not receive 4 decapsulated INVITEs from $TB_CL4:$CLPORT"
	wait_lines 5 "$SIPLOG" "^be$i INVITE dec6-be$i-[0-9]+@siplb.test \\[$TB_CL6\\]:$CLPORT\$" 4 ||
		fail "be$i did not receive 4 decapsulated IPv6 INVITEs"
	wait_lines 5 "$TB_STATE/cl1.log" "^cl1 200 dec4-be$i-[0-9]+@siplb.test $TB_VIP4:$P\$" 4 ||
		fail "client did not get be$i's answers from the VIP (IPv4 DSR)"
	wait_lines 5 "$TB_STATE/cl1.log" "^cl1 200 dec6-be$i-[0-9]+@siplb.test \\[$TB_VIP6\\]:$P\$" 4 ||
		fail "client did not get be$i's answers from the VIP (IPv6 DSR)"
	stats=$(must tb_exec "be$i" "$TB_BUILD/siplb-decap" stats eth0)
	dec=$(awk '$1 == "decapsulated" {print $2}' <<<"$stats")
	assert_ge "${dec:-0}" 8 "be$i decapsulated counter"
done
assert_eq "$(count_lines "$SIPLOG" "^be1 INVITE dec[46]-be2-")" 0 "be1 got be2's tunnel"
ok "IPIP and IP6IP6 from lb are decapsulated on each backend; answers go straight to the client"

# A tunnel from a source that is not allowed (the client) is not decapsulated.
tb_exec cl1 "$T/sipstream" --encap "${TB_BE4[2]}" --src "$TB_CL4:$CLPORT" \
	--dst "$TB_VIP4:$P" --count 3 --rate 100 --prefix spoof --quiet >/dev/null ||
	fail "IPIP from cl1"
wait_until 5 sh -c "ip netns exec '$(tb_ns be2)' '$TB_BUILD/siplb-decap' stats eth0 |
	awk '\$1 == \"unknown_source\" && \$2 >= 3 {f = 1} END {exit !f}'" ||
	fail "be2 did not count 3 unknown_source tunnels"
sleep 0.3
assert_eq "$(count_lines "$SIPLOG" " spoof-")" 0 "a tunnel from a non-allowed source got through"
ok "tunnels from other sources are counted as unknown_source and not decapsulated"

# 4. Stopping is clean: a responder exits 0 on SIGTERM and reports its counts.
tb_stop "${RESP[2]}"
wait_lines 5 "$TB_STATE/sipresp-be2.log" "^sipresp be2: received [0-9]+ answered" 1 ||
	fail "be2's responder did not exit cleanly"
ok "testbed checks passed"
