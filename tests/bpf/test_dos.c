// SPDX-License-Identifier: GPL-2.0
/*
 * test_dos.c: DoS absorption in the XDP balancer on BPF_PROG_TEST_RUN: the
 * blocklist (IPv4, IPv6, expiry), oversized messages, responses for unknown
 * dialogs, the per-source token buckets (burst then steady rate, the two
 * classes, per-source isolation, IPv6 /64 grouping, offender reports) and
 * the affinity map's defences (only dialog-creating requests insert, the
 * per-CPU cap on new entries keeps real dialogs in the map under a flood).
 */
#include <criterion/criterion.h>
#include <sched.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lbtest.h"
#include "pkt.h"

#define VIP4 "198.18.0.1"
#define VIP6 "2001:db8::1"
enum { V4 = 0, V6 = 1 };
#define LO_IFINDEX 1

/*
 * Each CPU keeps its own buckets (and its own affinity budget): the test
 * stays on one CPU, as a source's packets stay on one RX queue's CPU.
 */
static void pin_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0);
}

static struct lbt *setup(__u32 aff_max)
{
	struct siplb_config cfg;
	struct lbt *t;

	pin_cpu();
	lbt_default_config(&cfg, 4093);
	t = lbt_open(&cfg, aff_max);
	lbt_vip_add(t, V4, AF_INET, VIP4, 5060, SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	lbt_vip_add(t, V6, AF_INET6, VIP6, 5060, SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	lbt_backend_add(t, 1, V4, "198.18.1.1", SIPLB_BE_UP, LO_IFINDEX);
	lbt_backend_add(t, 2, V4, "198.18.1.2", SIPLB_BE_UP, LO_IFINDEX);
	lbt_backend_add(t, 11, V6, "2001:db8:1::11", SIPLB_BE_UP, LO_IFINDEX);
	lbt_backend_add(t, 12, V6, "2001:db8:1::12", SIPLB_BE_UP, LO_IFINDEX);
	lbt_publish(t, V4);
	lbt_publish(t, V6);
	return t;
}

static void policy_set(struct lbt *t, __u32 vip, const struct vip_policy *p)
{
	cr_assert_eq(bpf_map_update_elem(t->maps.vip_policy, &vip, p, BPF_ANY), 0);
}

/* A policy limiting dialog-creating messages to rate/s with burst (0: no limit),
 * and the others likewise. */
static struct vip_policy limits(__u32 d_rate, __u32 d_burst, __u32 o_rate, __u32 o_burst)
{
	struct vip_policy p = {};

	if (d_rate) {
		p.interval_ns[SIPLB_CLASS_DIALOG] = 1000000000u / d_rate;
		p.burst_ns[SIPLB_CLASS_DIALOG] = (__u64)d_burst * (1000000000u / d_rate);
	}
	if (o_rate) {
		p.interval_ns[SIPLB_CLASS_OTHER] = 1000000000u / o_rate;
		p.burst_ns[SIPLB_CLASS_OTHER] = (__u64)o_burst * (1000000000u / o_rate);
	}
	return p;
}

/* One SIP message from src (IPv4 or IPv6 by its text) to the VIP of its family. */
static __u32 send_from(struct lbt *t, const char *src, const char *msg, size_t len)
{
	struct pkt_addrs a;
	__u8 buf[PKT_MAX];
	int n, fam = strchr(src, ':') ? AF_INET6 : AF_INET;

	pkt_default_addrs(&a, fam);
	if (fam == AF_INET) {
		cr_assert_eq(inet_pton(AF_INET, src, &a.src4), 1, "%s", src);
		cr_assert_eq(inet_pton(AF_INET, VIP4, &a.dst4), 1);
	} else {
		cr_assert_eq(inet_pton(AF_INET6, src, &a.src6), 1, "%s", src);
		cr_assert_eq(inet_pton(AF_INET6, VIP6, &a.dst6), 1);
	}
	n = pkt_build_udp(&a, msg, len, buf);
	cr_assert_gt(n, 0);
	return lbt_run(t, buf, n, LO_IFINDEX, NULL, NULL);
}

/* A request; to_tag adds a tag to To (in-dialog); pad adds a header of that many bytes. */
static int request(char *buf, size_t size, const char *method, const char *callid,
		   bool to_tag, size_t pad)
{
	char padding[2048];
	int n;

	cr_assert_lt(pad, sizeof(padding));
	memset(padding, 'x', pad);
	padding[pad] = 0;
	n = snprintf(buf, size,
		     "%s sip:bob@biloxi.example.com SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK%s\r\n"
		     "Max-Forwards: 70\r\n"
		     "To: Bob <sip:bob@biloxi.example.com>%s\r\n"
		     "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: 1 %s\r\n"
		     "%s%s%s"
		     "Content-Length: 0\r\n"
		     "\r\n",
		     method, callid, to_tag ? ";tag=a6c85cf" : "", callid, method,
		     pad ? "X-Pad: " : "", padding, pad ? "\r\n" : "");
	cr_assert(n > 0 && (size_t)n < size);
	return n;
}

static __u32 send_req(struct lbt *t, const char *src, const char *method,
		      const char *callid, bool to_tag)
{
	char msg[4096];
	int n = request(msg, sizeof(msg), method, callid, to_tag, 0);

	return send_from(t, src, msg, n);
}

static __u32 send_resp(struct lbt *t, const char *src, const char *callid,
			const char *status, bool to_tag)
{
	char msg[1024];
	int n = snprintf(msg, sizeof(msg),
			 "SIP/2.0 %s\r\n"
			 "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK776asdhds\r\n"
			 "To: Bob <sip:bob@biloxi.example.com>%s\r\n"
			 "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: 1 INVITE\r\n"
			 "Content-Length: 0\r\n"
			 "\r\n", status, to_tag ? ";tag=a6c85cf" : "", callid);

	return send_from(t, src, msg, n);
}

static __u32 send_200(struct lbt *t, const char *src, const char *callid)
{
	return send_resp(t, src, callid, "200 OK", true);
}

static __u64 drops(struct lbt *t, int reason)
{
	struct lbt_counters c;

	lbt_counters_read(t, &c);
	return c.drop[reason];
}

static __u64 events(struct lbt *t, int ev)
{
	struct lbt_counters c;

	lbt_counters_read(t, &c);
	return c.ev[ev];
}

/* Of n INVITEs with fresh Call-IDs from src, how many were forwarded. */
static int invites_passed(struct lbt *t, const char *src, int n, const char *tag)
{
	char cid[64];
	int i, ok = 0;

	for (i = 0; i < n; i++) {
		snprintf(cid, sizeof(cid), "%s-%d@%s", tag, i, src);
		ok += send_req(t, src, "INVITE", cid, false) == XDP_TX;
	}
	return ok;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Blocklist ---------------------------------------------------------------- */

Test(dos, a_banned_ipv4_prefix_is_dropped_before_parsing_and_its_neighbours_pass,
     .timeout = 30)
{
	struct lbt *t = setup(4096);
	static const char garbage[] = "\x16\x03\x01 not SIP at all, a TLS hello perhaps";
	__u64 b0 = drops(t, SIPLB_DROP_BLOCKED), ns0 = drops(t, SIPLB_DROP_NOT_SIP);

	lbt_ban(t, "198.18.7.0", 24, 0);
	cr_expect_eq(send_req(t, "198.18.7.5", "INVITE", "b1@x", false), XDP_DROP);
	cr_expect_eq(send_from(t, "198.18.7.200", garbage, sizeof(garbage) - 1), XDP_DROP);
	cr_expect_eq(drops(t, SIPLB_DROP_BLOCKED) - b0, 2, "both counted as blocked");
	cr_expect_eq(drops(t, SIPLB_DROP_NOT_SIP), ns0, "the garbage was never parsed");
	cr_expect_eq(send_req(t, "198.18.8.5", "INVITE", "b2@x", false), XDP_TX,
		     "outside the /24");
	cr_expect_eq(send_req(t, "198.18.6.255", "INVITE", "b3@x", false), XDP_TX);
	lbt_close(t);
}

Test(dos, an_expired_ban_no_longer_drops_even_before_siplbd_removes_it, .timeout = 30)
{
	struct lbt *t = setup(4096);

	lbt_ban(t, "198.18.7.5", 32, mono_ns() - 1000000000ULL);
	cr_expect_eq(send_req(t, "198.18.7.5", "INVITE", "e1@x", false), XDP_TX);
	lbt_ban(t, "198.18.7.5", 32, mono_ns() + 60ULL * 1000000000ULL);
	cr_expect_eq(send_req(t, "198.18.7.5", "INVITE", "e2@x", false), XDP_DROP,
		     "a ban for the next minute holds");
	lbt_close(t);
}

Test(dos, a_banned_ipv6_prefix_is_dropped, .timeout = 30)
{
	struct lbt *t = setup(4096);
	__u64 b0 = drops(t, SIPLB_DROP_BLOCKED);

	lbt_ban(t, "2001:db8:66::", 48, 0);
	cr_expect_eq(send_req(t, "2001:db8:66:1::5", "INVITE", "v6a@x", false), XDP_DROP);
	cr_expect_eq(send_req(t, "2001:db8:67::5", "INVITE", "v6b@x", false), XDP_TX);
	cr_expect_eq(drops(t, SIPLB_DROP_BLOCKED) - b0, 1);
	lbt_close(t);
}

static struct siplb_config config_now(const struct lbt *t)
{
	struct siplb_config c;

	cr_assert_eq(lb_config_get(&t->maps, &c), 0);
	return c;
}

Test(dos, lifting_the_last_ban_of_a_family_clears_its_flag_and_its_sources_pass,
     .timeout = 30)
{
	struct lbt *t = setup(4096);

	cr_expect(!config_now(t).bans4 && !config_now(t).bans6, "no bans: both flags clear");
	lbt_ban(t, "198.18.7.0", 24, 0);
	lbt_ban(t, "198.18.9.9", 32, 0);
	cr_expect(config_now(t).bans4, "a ban written as siplbd does sets the IPv4 flag");
	cr_expect(!config_now(t).bans6, "and not the IPv6 one");
	cr_expect_eq(send_req(t, "198.18.7.5", "INVITE", "f1@x", false), XDP_DROP);
	cr_expect_eq(send_req(t, "2001:db8:66::5", "INVITE", "f2@x", false), XDP_TX);

	/* the config written again (reload, clock offset): the flag stays */
	lbt_config_write(t);
	cr_expect(config_now(t).bans4, "a config rewrite keeps the flag of a family with bans");
	cr_expect_eq(send_req(t, "198.18.9.9", "INVITE", "f3@x", false), XDP_DROP);

	lbt_unban(t, "198.18.7.0", 24);
	cr_expect(config_now(t).bans4, "one IPv4 ban left: the flag stays");
	cr_expect_eq(send_req(t, "198.18.7.5", "INVITE", "f4@x", false), XDP_TX);
	cr_expect_eq(send_req(t, "198.18.9.9", "INVITE", "f5@x", false), XDP_DROP);
	lbt_unban(t, "198.18.9.9", 32);
	cr_expect(!config_now(t).bans4, "the last IPv4 ban lifted: the flag is cleared");
	cr_expect_eq(send_req(t, "198.18.9.9", "INVITE", "f6@x", false), XDP_TX);

	lbt_ban(t, "2001:db8:66::", 48, 0);
	cr_expect(config_now(t).bans6 && !config_now(t).bans4, "the IPv6 flag alone");
	cr_expect_eq(send_req(t, "2001:db8:66::5", "INVITE", "f7@x", false), XDP_DROP);
	lbt_unban(t, "2001:db8:66::", 48);
	cr_expect(!config_now(t).bans6);
	cr_expect_eq(send_req(t, "2001:db8:66::5", "INVITE", "f8@x", false), XDP_TX);
	lbt_close(t);
}

Test(dos, xdp_skips_the_blocklist_of_a_family_whose_flag_is_clear, .timeout = 30)
{
	struct lbt *t = setup(4096);
	struct ban_key4 k = { .prefixlen = 32 };
	struct ban b = {};

	/* an entry written behind lb_ban_write()'s back: the flag stays clear */
	cr_assert_eq(inet_pton(AF_INET, "198.18.7.5", &k.addr), 1);
	cr_assert_eq(bpf_map_update_elem(t->maps.blocklist4, &k, &b, BPF_ANY), 0);
	cr_expect_eq(send_req(t, "198.18.7.5", "INVITE", "s1@x", false), XDP_TX,
		     "with the flag clear the trie is not looked at");
	/* a config write sets the flags from what the blocklists hold */
	lbt_config_write(t);
	cr_expect(config_now(t).bans4);
	cr_expect_eq(send_req(t, "198.18.7.5", "INVITE", "s2@x", false), XDP_DROP);
	lbt_close(t);
}

/* Size, unknown dialogs ---------------------------------------------------- */

Test(dos, a_message_over_max_message_bytes_is_dropped_as_oversized, .timeout = 30)
{
	struct lbt *t = setup(4096);
	struct vip_policy p = { .max_len = 800 };
	char msg[4096];
	__u64 o0 = drops(t, SIPLB_DROP_OVERSIZED);
	int n;

	policy_set(t, V4, &p);
	n = request(msg, sizeof(msg), "INVITE", "big@x", false, 600);
	cr_assert_gt(n, 800);
	cr_expect_eq(send_from(t, "198.18.0.10", msg, n), XDP_DROP);
	cr_expect_eq(drops(t, SIPLB_DROP_OVERSIZED) - o0, 1);
	n = request(msg, sizeof(msg), "INVITE", "small@x", false, 300);
	cr_assert_leq(n, 800);
	cr_expect_eq(send_from(t, "198.18.0.10", msg, n), XDP_TX);
	lbt_close(t);
}

Test(dos, responses_of_unknown_dialogs_are_dropped_only_where_asked, .timeout = 30)
{
	struct lbt *t = setup(4096);
	struct vip_policy p = { .flags = SIPLB_POL_F_DROP_UNKNOWN_RESP };
	__u64 u0 = drops(t, SIPLB_DROP_UNKNOWN_DIALOG);

	cr_expect_eq(send_200(t, "198.18.0.20", "stray-1@x"), XDP_TX, "default: follows the table");
	policy_set(t, V4, &p);
	cr_expect_eq(send_200(t, "198.18.0.20", "stray-2@x"), XDP_DROP);
	cr_expect_eq(drops(t, SIPLB_DROP_UNKNOWN_DIALOG) - u0, 1);
	cr_expect_eq(send_req(t, "198.18.0.10", "INVITE", "known@x", false), XDP_TX);
	cr_expect_eq(send_200(t, "198.18.0.20", "known@x"), XDP_TX, "the dialog is known now");
	cr_expect_eq(send_200(t, "2001:db8::20", "stray-3@x"), XDP_TX, "the other VIP did not ask");
	lbt_close(t);
}

/* Token buckets -------------------------------------------------------------- */

Test(dos, a_source_gets_its_burst_then_the_steady_rate, .timeout = 30)
{
	struct lbt *t = setup(4096);
	struct vip_policy p = limits(10, 5, 0, 0);
	__u64 t0, t1, t2, d0 = drops(t, SIPLB_DROP_RATE_DIALOG);
	int ok, lo, hi, burst;

	policy_set(t, V4, &p);
	t0 = mono_ns();
	ok = invites_passed(t, "198.18.5.5", 20, "burst");
	t1 = mono_ns();
	/* 5 of burst, plus what 10/s refilled while the 20 ran (about nothing) */
	hi = 5 + (int)((t1 - t0) / 100000000ULL) + 1;
	cr_expect(ok >= 5 && ok <= hi, "burst: %d passed, want 5..%d", ok, hi);
	cr_expect_eq(drops(t, SIPLB_DROP_RATE_DIALOG) - d0, (__u64)(20 - ok));
	burst = ok;

	/* now steady: 40 INVITEs over about a second pass at 10/s */
	t1 = mono_ns();
	ok = 0;
	for (int i = 0; i < 40; i++) {
		char cid[32];

		snprintf(cid, sizeof(cid), "steady-%d", i);
		ok += send_req(t, "198.18.5.5", "INVITE", cid, false) == XDP_TX;
		usleep(25000);
	}
	t2 = mono_ns();
	/* one per 100 ms of the second phase; in all never more than burst + rate */
	lo = (int)((t2 - t1) / 100000000ULL) - 1;
	hi = 5 + (int)((t2 - t0) / 100000000ULL) + 1 - burst;
	cr_expect(ok >= lo && ok <= hi, "steady: %d passed in %.2f s, want %d..%d", ok,
		  (t2 - t1) / 1e9, lo, hi);
	cr_expect_lt(ok, 20, "far fewer than the 40 sent");
	lbt_close(t);
}

Test(dos, the_two_classes_have_separate_budgets, .timeout = 30)
{
	struct lbt *t = setup(4096);
	struct vip_policy p = limits(1, 2, 1, 3);
	const char *src = "198.18.5.6";
	__u64 o0 = drops(t, SIPLB_DROP_RATE_OTHER);
	int ok = 0, i;

	policy_set(t, V4, &p);
	cr_expect_eq(invites_passed(t, src, 5, "cls"), 2, "dialog budget: burst 2");
	/* in-dialog requests, a re-INVITE (To tag) and responses draw on the other */
	ok += send_req(t, src, "BYE", "cls-0@x", true) == XDP_TX;
	ok += send_req(t, src, "INVITE", "cls-1@x", true) == XDP_TX;
	ok += send_200(t, src, "cls-0@x") == XDP_TX;
	cr_expect_eq(ok, 3, "other budget: burst 3, untouched by the INVITEs");
	for (i = 0; i < 3; i++)
		cr_expect_eq(send_req(t, src, "ACK", "cls-0@x", true), XDP_DROP);
	cr_expect_eq(drops(t, SIPLB_DROP_RATE_OTHER) - o0, 3);
	/* OPTIONS and REGISTER outside a dialog are dialog-creating: no budget left */
	cr_expect_eq(send_req(t, src, "OPTIONS", "cls-o@x", false), XDP_DROP);
	cr_expect_eq(send_req(t, src, "REGISTER", "cls-r@x", false), XDP_DROP);
	lbt_close(t);
}

Test(dos, one_source_over_budget_does_not_touch_another, .timeout = 30)
{
	struct lbt *t = setup(4096);
	struct vip_policy p = limits(1, 4, 0, 0);

	policy_set(t, V4, &p);
	cr_expect_eq(invites_passed(t, "198.18.5.7", 10, "a"), 4);
	cr_expect_eq(invites_passed(t, "198.18.5.8", 10, "b"), 4, "its own full burst");
	cr_expect_eq(invites_passed(t, "198.18.5.7", 3, "c"), 0, "the first is still empty");
	lbt_close(t);
}

Test(dos, ipv6_sources_share_a_bucket_per_64, .timeout = 30)
{
	struct lbt *t = setup(4096);
	struct vip_policy p = limits(1, 4, 0, 0);

	policy_set(t, V6, &p);
	cr_expect_eq(invites_passed(t, "2001:db8:5:1::1", 3, "x"), 3);
	cr_expect_eq(invites_passed(t, "2001:db8:5:1:ffff::2", 3, "y"), 1,
		     "the same /64: what the first left");
	cr_expect_eq(invites_passed(t, "2001:db8:5:2::1", 5, "z"), 4, "another /64");
	lbt_close(t);
}

Test(dos, an_over_budget_source_is_reported_in_offenders_and_counted_per_source,
     .timeout = 30)
{
	struct lbt *t = setup(4096);
	struct vip_policy p = limits(1, 2, 0, 0);
	struct src_key k = { .vip_id = V4, .family = AF_INET };
	struct offender o;
	struct src_bucket *b;
	int ncpu = libbpf_num_possible_cpus(), i;
	__u64 over = 0, passed = 0;

	policy_set(t, V4, &p);
	cr_assert_eq(inet_pton(AF_INET, "198.18.5.9", &k.addr[0]), 1);
	cr_expect_eq(invites_passed(t, "198.18.5.9", 12, "off"), 2);
	cr_assert_eq(bpf_map_lookup_elem(t->maps.offenders, &k, &o), 0, "reported");
	cr_expect_geq(o.over, 1);
	cr_expect_leq(o.over, 10);
	cr_expect_geq(o.last_ns, o.first_ns);
	b = calloc(ncpu, sizeof(*b));
	cr_assert_eq(bpf_map_lookup_elem(t->maps.src_buckets, &k, b), 0);
	for (i = 0; i < ncpu; i++) {
		over += b[i].over;
		passed += b[i].passed;
	}
	cr_expect_eq(over, 10);
	cr_expect_eq(passed, 2);
	free(b);
	k.addr[0] ^= htonl(1);
	cr_expect_neq(bpf_map_lookup_elem(t->maps.offenders, &k, &o), 0,
		      "a source within budget is not an offender");
	lbt_close(t);
}

/* Affinity map defences -------------------------------------------------- */

static bool has_affinity(struct lbt *t, __u32 vip, const char *cid)
{
	__u64 k = lbt_affinity_key(lbt_hash(t, cid, strlen(cid)), vip);
	struct affinity a;

	return bpf_map_lookup_elem(t->maps.affinity, &k, &a) == 0;
}

/*
 * Dialog-creating requests create entries, and (scale-out: the callee side's
 * instance learns the dialog) tagged responses; in-dialog requests only when
 * an earlier table generation placed them, which there is none of here.
 */
Test(dos, only_dialog_creating_requests_and_tagged_responses_create_affinity_entries,
     .timeout = 30)
{
	struct lbt *t = setup(4096);

	cr_expect_eq(send_req(t, "198.18.0.10", "BYE", "stray-bye@x", true), XDP_TX);
	cr_expect_not(has_affinity(t, V4, "stray-bye@x"), "BYE of an unknown dialog");
	cr_expect_eq(send_req(t, "198.18.0.10", "INVITE", "reinv@x", true), XDP_TX);
	cr_expect_not(has_affinity(t, V4, "reinv@x"), "re-INVITE (To tag) of an unknown dialog");
	cr_expect_eq(send_resp(t, "198.18.0.20", "stray-100@x", "100 Trying", false), XDP_TX);
	cr_expect_not(has_affinity(t, V4, "stray-100@x"), "untagged response of an unknown dialog");
	cr_expect_eq(send_200(t, "198.18.0.20", "stray-200@x"), XDP_TX);
	cr_expect(has_affinity(t, V4, "stray-200@x"), "tagged response: the dialog is learnt");
	cr_expect_eq(send_req(t, "198.18.0.10", "INVITE", "new@x", false), XDP_TX);
	cr_expect(has_affinity(t, V4, "new@x"), "INVITE without To tag");
	cr_expect_eq(send_req(t, "198.18.0.10", "SUBSCRIBE", "sub@x", false), XDP_TX);
	cr_expect(has_affinity(t, V4, "sub@x"), "SUBSCRIBE without To tag");
	lbt_close(t);
}

/* An INVITE with To value to: the DoS class and steering see the tag as sip_to_tag does. */
static __u32 send_invite_to(struct lbt *t, const char *callid, const char *to)
{
	char msg[1024];
	int n = snprintf(msg, sizeof(msg),
			 "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK%s\r\n"
			 "Max-Forwards: 70\r\n"
			 "To: %s\r\n"
			 "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: 1 INVITE\r\n"
			 "Content-Length: 0\r\n"
			 "\r\n", callid, to, callid);

	return send_from(t, "198.18.0.10", msg, n);
}

Test(dos, the_to_tag_is_sip_to_tags_also_with_the_semicolon_prefilter, .timeout = 30)
{
	struct lbt *t = setup(4096);

	cr_expect_eq(send_invite_to(t, "ws@x", "<sip:b@c> ; TAG = x1"), XDP_TX);
	cr_expect_not(has_affinity(t, V4, "ws@x"), "tag with whitespace: in-dialog");
	cr_expect_eq(send_invite_to(t, "q@x", "\"a;tag=no\" <sip:b@c;tag=no>"), XDP_TX);
	cr_expect(has_affinity(t, V4, "q@x"), "';tag=' in quotes and <>: no tag");
	cr_expect_eq(send_invite_to(t, "semi@x", "<sip:b@c>;foo=1;tagx=2"), XDP_TX);
	cr_expect(has_affinity(t, V4, "semi@x"), "';' but no tag parameter");
	cr_expect_eq(send_invite_to(t, "late@x",
				    "\"A very long display name to push the tag past one word\" "
				    "<sip:bob@biloxi.example.com>;tag=late"), XDP_TX);
	cr_expect_not(has_affinity(t, V4, "late@x"), "a tag after many words");
	lbt_close(t);
}

Test(dos, a_rate_limited_invite_creates_no_affinity_entry, .timeout = 30)
{
	struct lbt *t = setup(4096);
	struct vip_policy p = limits(1, 1, 0, 0);

	policy_set(t, V4, &p);
	cr_expect_eq(send_req(t, "198.18.0.10", "INVITE", "first@x", false), XDP_TX);
	cr_expect_eq(send_req(t, "198.18.0.10", "INVITE", "second@x", false), XDP_DROP);
	cr_expect_not(has_affinity(t, V4, "second@x"));
	lbt_close(t);
}

static __u64 coarse_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

Test(dos, above_max_new_per_cpu_new_dialogs_follow_maglev_without_an_entry,
     .timeout = 30)
{
	struct lbt *t = setup(4096);
	__u64 c0, s0;
	int try, n;

	t->cfg.aff_new_max = 5;
	lbt_config_write(t);
	/* all 10 in one second of the coarse clock, else once more */
	for (try = 0; try < 3; try++) {
		char tag[16];

		snprintf(tag, sizeof(tag), "cap%d", try);
		c0 = events(t, SIPLB_EV_AFFINITY_CAPPED);
		s0 = coarse_sec();
		n = invites_passed(t, "198.18.0.10", 10, tag);
		if (coarse_sec() == s0 && c0 == events(t, SIPLB_EV_AFFINITY_CAPPED) - 5)
			break;
		cr_assert_eq(n, 10, "capped INVITEs are still forwarded");
		sleep(1);
	}
	cr_expect_lt(try, 3, "5 of 10 new dialogs in one second went unrecorded");
	cr_expect_eq(n, 10, "capped INVITEs are still forwarded");
	lbt_close(t);
}

Test(dos, tagged_responses_of_unknown_dialogs_draw_on_the_same_budget, .timeout = 30)
{
	struct lbt *t = setup(4096);
	__u64 c0, s0;
	int try, i, n;

	t->cfg.aff_new_max = 5;
	lbt_config_write(t);
	for (try = 0; try < 3; try++) {
		char cid[64];

		c0 = events(t, SIPLB_EV_AFFINITY_CAPPED);
		s0 = coarse_sec();
		for (i = n = 0; i < 10; i++) {
			snprintf(cid, sizeof(cid), "resp%d-%d@x", try, i);
			n += send_200(t, "198.18.0.20", cid) == XDP_TX;
		}
		if (coarse_sec() == s0 && c0 == events(t, SIPLB_EV_AFFINITY_CAPPED) - 5)
			break;
		sleep(1);
	}
	cr_expect_lt(try, 3, "5 of 10 tagged responses in one second went unrecorded");
	cr_expect_eq(n, 10, "capped responses are still forwarded");
	lbt_close(t);
}

/*
 * A flood of fresh Call-IDs into a small affinity map: without the cap it
 * pushes the real dialogs out, with it they stay.
 */
static int real_dialogs_left(__u32 cap)
{
	struct lbt *t = setup(512);
	char cid[64];
	int i, left = 0;

	t->cfg.aff_new_max = cap;
	lbt_config_write(t);
	for (i = 0; i < 20; i++) {
		snprintf(cid, sizeof(cid), "real-%d@198.18.0.10", i);
		cr_assert_eq(send_req(t, "198.18.0.10", "INVITE", cid, false), XDP_TX);
	}
	invites_passed(t, "198.18.9.9", 4000, "flood");
	for (i = 0; i < 20; i++) {
		snprintf(cid, sizeof(cid), "real-%d@198.18.0.10", i);
		left += has_affinity(t, V4, cid);
	}
	lbt_close(t);
	return left;
}

Test(dos, a_flood_of_fresh_call_ids_does_not_evict_real_dialogs_under_the_cap,
     .timeout = 60)
{
	cr_expect_lt(real_dialogs_left(0), 20, "without a cap the flood evicts (control)");
	cr_expect_eq(real_dialogs_left(100), 20, "with the cap every real dialog stays");
}

/* Scanner signatures -------------------------------------------------------- */

static void scanners_set(struct lbt *t, __u32 vip, const char *const *sigs, __u32 n)
{
	struct scanner_sigs s = { .n = n };
	struct vip_policy p = { .flags = SIPLB_POL_F_SCANNERS };
	__u32 i;

	for (i = 0; i < n; i++)
		siplb_scanner_sig_set(&s, i, sigs[i], strlen(sigs[i]));
	cr_assert_eq(bpf_map_update_elem(t->maps.vip_scanners, &vip, &s, BPF_ANY), 0);
	policy_set(t, vip, &p);
}

/* A request whose headers end with extra (a header line, or ""), without body. */
static __u32 send_with(struct lbt *t, const char *method, bool to_tag, const char *extra)
{
	char msg[2048];
	int n = snprintf(msg, sizeof(msg),
			 "%s sip:100@198.18.0.1 SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 198.18.66.6:5070;branch=z9hG4bK-1\r\n"
			 "From: <sip:100@198.18.0.1>;tag=abc\r\n"
			 "To: <sip:100@198.18.0.1>%s\r\n"
			 "Call-ID: scan-%u@x\r\n"
			 "CSeq: 1 %s\r\n"
			 "Max-Forwards: 70\r\n"
			 "%s%s"
			 "\r\n",
			 method, to_tag ? ";tag=xyz" : "", (unsigned int)rand(), method, extra,
			 *extra ? "\r\n" : "");

	return send_from(t, "198.18.66.6", msg, n);
}

struct ua_case {
	const char *what;
	const char *method;
	bool to_tag;
	const char *extra;
	__u32 want;
};

static const struct ua_case ua_cases[] = {
	{ "friendly-scanner OPTIONS", "OPTIONS", false, "User-Agent: friendly-scanner", XDP_DROP },
	{ "sipvicious INVITE, any case", "INVITE", false, "USER-AGENT: SIPVicious 0.3.4", XDP_DROP },
	{ "sipcli REGISTER, last header, no body", "REGISTER", false, "User-Agent: sipcli/v1.8",
	  XDP_DROP },
	{ "signature after a product token", "OPTIONS", false,
	  "User-Agent: Asterisk PBX friendly-scanner", XDP_DROP },
	{ "whitespace before the colon", "OPTIONS", false, "User-Agent :  sipcli", XDP_DROP },
	{ "a real phone", "INVITE", false, "User-Agent: Linphone/5.2.0 (belle-sip/5.2.0)", XDP_TX },
	{ "no User-Agent at all", "INVITE", false, "", XDP_TX },
	{ "the signature in another header", "OPTIONS", false, "Subject: friendly-scanner",
	  XDP_TX },
	{ "the signature in the next header, within 64 bytes", "OPTIONS", false,
	  "User-Agent: x\r\nSubject: friendly-scanner", XDP_TX },
	{ "Unsupported before User-Agent", "OPTIONS", false,
	  "Unsupported: foo\r\nuser-agent:sipcli", XDP_DROP },
	{ "a header that only ends in User-Agent", "OPTIONS", false,
	  "X-User-Agent: friendly-scanner", XDP_TX },
	{ "in-dialog requests are not searched", "BYE", true, "User-Agent: friendly-scanner",
	  XDP_TX },
};

Test(dos, scanner_user_agents_are_dropped_in_dialog_creating_requests, .timeout = 30)
{
	static const char *const sigs[] = { "friendly-scanner", "sipvicious", "sipcli" };
	struct lbt *t = setup(4096);
	__u64 s0;
	size_t i;

	scanners_set(t, V4, sigs, 3);
	for (i = 0; i < sizeof(ua_cases) / sizeof(ua_cases[0]); i++) {
		const struct ua_case *c = &ua_cases[i];

		s0 = drops(t, SIPLB_DROP_SCANNER);
		cr_expect_eq(send_with(t, c->method, c->to_tag, c->extra), c->want, "%s", c->what);
		cr_expect_eq(drops(t, SIPLB_DROP_SCANNER) - s0, c->want == XDP_DROP, "%s: counted",
			     c->what);
	}
	lbt_close(t);
}

Test(dos, without_signatures_a_scanner_passes, .timeout = 30)
{
	struct lbt *t = setup(4096);

	cr_expect_eq(send_with(t, "OPTIONS", false, "User-Agent: friendly-scanner"), XDP_TX);
	lbt_close(t);
}
