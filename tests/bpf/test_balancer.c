// SPDX-License-Identifier: GPL-2.0
/*
 * test_balancer.c: the XDP balancer (bpf/siplb.bpf.c, program siplb_xdp) on
 * BPF_PROG_TEST_RUN: every message of a dialog reaches one backend from both
 * sides, REGISTER follows the To AOR where asked, the encapsulated frames are
 * exactly what the backend must get, packets not for a VIP pass untouched,
 * drops and slow-path packets are counted once by reason, and backend state
 * changes and table swaps keep (or move) dialogs as the steering rules say.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lbtest.h"
#include "pkt.h"

/* The VIPs of every test and their backends. */
#define VIP4 "198.18.0.1"	/* VIP_V4: backends 1..4 at 198.18.1.<id> */
#define VIP6 "2001:db8::1"	/* VIP_V6: backends 11..14 at 2001:db8:1::<id> */
#define VIP4_EMPTY "198.18.0.2"	/* VIP_EMPTY: no backend at all */
#define VIP4_NONH "198.18.0.3"	/* VIP_NONH: one backend, next hop unknown */
#define OTHER4 "198.18.0.99"	/* no VIP */
#define OTHER6 "2001:db8::99"

enum { VIP_V4 = 0, VIP_V6 = 1, VIP_EMPTY = 2, VIP_NONH = 3 };
#define BE_V4_FIRST 1
#define BE_V6_FIRST 11
#define N_BE 4
#define BE_NONH 30
#define LO_IFINDEX 1		/* ingress of every test run, and egress of the next hops */
#define MAGLEV_SIZE 4093	/* prime, small enough to publish fast */

/* Where a frame comes from and goes to. */
struct path {
	int family;
	const char *src;
	const char *dst;
	__u16 sport, dport;
	__u16 vlan;
};

/* Caller (Alice) and callee (Bob) sides of the dialogs: two hosts, two ports. */
static const struct path caller4 = {
	.family = AF_INET, .src = "198.18.0.10", .dst = VIP4, .sport = 5060, .dport = 5060,
};
static const struct path callee4 = {
	.family = AF_INET, .src = "198.18.0.20", .dst = VIP4, .sport = 40312, .dport = 5060,
};
static const struct path caller6 = {
	.family = AF_INET6, .src = "2001:db8::10", .dst = VIP6, .sport = 5060, .dport = 5060,
};
static const struct path callee6 = {
	.family = AF_INET6, .src = "2001:db8::20", .dst = VIP6, .sport = 40312, .dport = 5060,
};
static const struct path phone4 = {
	.family = AF_INET, .src = "198.18.0.30", .dst = VIP4, .sport = 5062, .dport = 5060,
};

struct frame {
	__u8 buf[LBT_FRAME_MAX];
	__u32 len;
};

static void build(const struct path *p, const void *payload, size_t len, struct frame *f)
{
	struct pkt_addrs a;
	int n;

	pkt_default_addrs(&a, p->family);
	if (p->family == AF_INET) {
		cr_assert_eq(inet_pton(AF_INET, p->src, &a.src4), 1, "%s", p->src);
		cr_assert_eq(inet_pton(AF_INET, p->dst, &a.dst4), 1, "%s", p->dst);
	} else {
		cr_assert_eq(inet_pton(AF_INET6, p->src, &a.src6), 1, "%s", p->src);
		cr_assert_eq(inet_pton(AF_INET6, p->dst, &a.dst6), 1, "%s", p->dst);
	}
	a.sport = p->sport;
	a.dport = p->dport;
	a.vlan = p->vlan;
	n = pkt_build_udp(&a, payload, len, f->buf);
	cr_assert_gt(n, 0, "frame of a %zu-byte payload", len);
	f->len = n;
}

static __u32 l2_len(const struct frame *f)
{
	__u16 proto = f->buf[12] << 8 | f->buf[13];

	return proto == ETH_P_8021Q || proto == ETH_P_8021AD ? 18 : 14;
}

static struct iphdr *ip4_of(struct frame *f)
{
	return (struct iphdr *)(f->buf + l2_len(f));
}

static struct ipv6hdr *ip6_of(struct frame *f)
{
	return (struct ipv6hdr *)(f->buf + l2_len(f));
}

static void ip4_csum(struct iphdr *ip)
{
	ip->check = 0;
	ip->check = htons(~pkt_csum_fold(pkt_csum_add(0, ip, ip->ihl * 4)));
}

/* SIP messages ------------------------------------------------------------ */

enum side { CALLER, CALLEE };

/* How the headers the balancer reads are written. */
enum form {
	FORM_LONG = 0,		/* "Call-ID: value" */
	FORM_COMPACT,		/* "i: value", "v:", "t:", "f:" */
	FORM_SPACED,		/* "CALL-ID   :   value   " (whitespace the parser skips) */
};

static const char sdp[] =
	"v=0\r\n"
	"o=alice 2890844526 2890844526 IN IP4 198.18.0.10\r\n"
	"s=-\r\n"
	"c=IN IP4 198.18.0.10\r\n"
	"t=0 0\r\n"
	"m=audio 49170 RTP/AVP 0 8 101\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=sendrecv\r\n";

/* A request of dialog callid, sent by the caller or the callee. INVITEs carry SDP. */
static int sip_request(char *buf, size_t size, const char *method, const char *callid,
		       enum side side, enum form form)
{
	const char *alice = "Alice <sip:alice@atlanta.example.com>;tag=1928301774";
	const char *bob = "Bob <sip:bob@biloxi.example.com>;tag=a6c85cf";
	const char *host = side == CALLER ? "198.18.0.10" : "198.18.0.20";
	const char *user = side == CALLER ? "alice" : "bob";
	const char *ruri = side == CALLER ? "sip:bob@biloxi.example.com" :
					    "sip:alice@198.18.0.10:5060";
	const char *body = strcmp(method, "INVITE") ? "" : sdp;
	const char *via_h = "Via: ", *cid_h = "Call-ID: ", *to_h = "To: ", *from_h = "From: ";
	const char *cid_tail = "";
	int n;

	if (form == FORM_COMPACT) {
		via_h = "v: ";
		cid_h = "i: ";
		to_h = "t: ";
		from_h = "f: ";
	} else if (form == FORM_SPACED) {
		cid_h = "CALL-ID   :   ";
		via_h = "VIA\t: ";
		cid_tail = "   ";
	}
	n = snprintf(buf, size,
		     "%s %s SIP/2.0\r\n"
		     "%sSIP/2.0/UDP %s:5060;branch=z9hG4bK%s%08x;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "%s%s\r\n"
		     "%s%s\r\n"
		     "%s%s%s\r\n"
		     "CSeq: %d %s\r\n"
		     "Contact: <sip:%s@%s:5060>\r\n"
		     "User-Agent: siplb-test/1.0\r\n"
		     "%s"
		     "Content-Length: %zu\r\n"
		     "\r\n%s",
		     method, ruri,
		     via_h, host, method, (unsigned int)strlen(callid) * 2654435761u,
		     to_h, side == CALLER ? "Bob <sip:bob@biloxi.example.com>" : alice,
		     from_h, side == CALLER ? alice : bob,
		     cid_h, callid, cid_tail,
		     side == CALLER ? 314159 : 231, method,
		     user, host,
		     *body ? "Content-Type: application/sdp\r\n" : "",
		     strlen(body), body);
	cr_assert(n > 0 && (size_t)n < size);
	return n;
}

/* A response of dialog callid to a request of the caller (sent by the callee side). */
static int sip_response(char *buf, size_t size, int code, const char *text,
			const char *method, const char *callid)
{
	int n = snprintf(buf, size,
			 "SIP/2.0 %d %s\r\n"
			 "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK776asdhds;"
			 "received=198.18.0.10;rport=5060\r\n"
			 "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
			 "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: 314159 %s\r\n"
			 "Contact: <sip:bob@198.18.0.20:5060>\r\n"
			 "Content-Length: 0\r\n"
			 "\r\n",
			 code, text, callid, method);

	cr_assert(n > 0 && (size_t)n < size);
	return n;
}

/* A REGISTER of user@biloxi.example.com with its own Call-ID. */
static int sip_register(char *buf, size_t size, const char *user, const char *callid,
			int cseq)
{
	int n = snprintf(buf, size,
			 "REGISTER sip:registrar.biloxi.example.com SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 198.18.0.30:5062;branch=z9hG4bKreg%d\r\n"
			 "Max-Forwards: 70\r\n"
			 "To: \"%s\" <sip:%s@biloxi.example.com>\r\n"
			 "From: \"%s\" <sip:%s@biloxi.example.com>;tag=456248\r\n"
			 "Call-ID: %s\r\n"
			 "CSeq: %d REGISTER\r\n"
			 "Contact: <sip:%s@198.18.0.30:5062>\r\n"
			 "Expires: 3600\r\n"
			 "Content-Length: 0\r\n"
			 "\r\n",
			 cseq, user, user, user, user, callid, cseq, user);

	cr_assert(n > 0 && (size_t)n < size);
	return n;
}

/* An INVITE of exactly len payload bytes: SDP padded with an attribute line. */
static int sip_invite_sized(char *buf, size_t len, const char *callid)
{
	char head[1024], body[LBT_FRAME_MAX];
	size_t hlen, blen;
	int n;

	/* the Content-Length digits depend on the body: assume 4 of them */
	n = snprintf(head, sizeof(head),
		     "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bKsized;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "To: Bob <sip:bob@biloxi.example.com>\r\n"
		     "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: 1 INVITE\r\n"
		     "Contact: <sip:alice@198.18.0.10:5060>\r\n"
		     "Content-Type: application/sdp\r\n"
		     "Content-Length: 0000\r\n"
		     "\r\n", callid);
	hlen = n;
	cr_assert_gt(len, hlen + sizeof(sdp) + 12);
	blen = len - hlen;
	memcpy(body, sdp, sizeof(sdp) - 1);
	memcpy(body + sizeof(sdp) - 1, "a=x-pad:", 8);
	memset(body + sizeof(sdp) - 1 + 8, 'x', blen - (sizeof(sdp) - 1) - 10);
	memcpy(body + blen - 2, "\r\n", 2);
	snprintf(head + hlen - 8, 9, "%04zu\r\n\r\n", blen);
	memcpy(buf, head, hlen);
	memcpy(buf + hlen, body, blen);
	return len;
}

/* Deterministic Call-IDs in the shapes UAs use. */
static void gen_callid(char *buf, size_t size, unsigned int *seed)
{
	unsigned int a = rand_r(seed), b = rand_r(seed), c = rand_r(seed);

	switch (a % 3) {
	case 0:		/* sipp */
		snprintf(buf, size, "%u-%u@198.18.0.10", b % 100000, c);
		break;
	case 1:		/* UUID */
		snprintf(buf, size, "%08x-%04x-4%03x-a%03x-%04x%08x", b, c & 0xffff,
			 (b >> 4) & 0xfff, (c >> 8) & 0xfff, a & 0xffff, b ^ c);
		break;
	default:	/* Asterisk / Kamailio style */
		snprintf(buf, size, "%08x%08x@pc33.atlanta.example.com", b, c);
		break;
	}
}

/* Setup ------------------------------------------------------------------- */

static void add_backends(struct lbt *t, __u32 vip, __u32 first, int family)
{
	char addr[64];
	__u32 id;

	for (id = first; id < first + N_BE; id++) {
		if (family == AF_INET)
			snprintf(addr, sizeof(addr), "198.18.1.%u", id);
		else
			snprintf(addr, sizeof(addr), "2001:db8:1::%x", id);
		lbt_backend_add(t, id, vip, addr, SIPLB_BE_UP, LO_IFINDEX);
	}
}

/*
 * The balancer with four VIPs: an IPv4 and an IPv6 one in the given mode
 * with four backends each, one without backends, one whose only backend has
 * no next hop yet.
 */
static struct lbt *setup(__u8 mode, __u8 reg_key)
{
	struct siplb_config cfg;
	struct lbt *t;

	lbt_default_config(&cfg, MAGLEV_SIZE);
	t = lbt_open(&cfg, 65536);
	lbt_vip_add(t, VIP_V4, AF_INET, VIP4, 5060, mode, reg_key);
	lbt_vip_add(t, VIP_V6, AF_INET6, VIP6, 5060, mode, reg_key);
	lbt_vip_add(t, VIP_EMPTY, AF_INET, VIP4_EMPTY, 5060, SIPLB_FWD_IPIP, 0);
	lbt_vip_add(t, VIP_NONH, AF_INET, VIP4_NONH, 5060, SIPLB_FWD_IPIP, 0);
	add_backends(t, VIP_V4, BE_V4_FIRST, AF_INET);
	add_backends(t, VIP_V6, BE_V6_FIRST, AF_INET6);
	lbt_backend_add(t, BE_NONH, VIP_NONH, "198.18.1.30", SIPLB_BE_UP, 0);
	lbt_publish(t, VIP_V4);
	lbt_publish(t, VIP_V6);
	lbt_publish(t, VIP_EMPTY);
	lbt_publish(t, VIP_NONH);
	return t;
}

/* What one run did. */
struct result {
	__u32 action;
	int backend;		/* -1 unless forwarded */
	struct frame out;
};

static void run(struct lbt *t, const struct frame *in, struct result *r)
{
	r->action = lbt_run(t, in->buf, in->len, LO_IFINDEX, r->out.buf, &r->out.len);
	r->backend = -1;
	if (r->action == XDP_TX || r->action == XDP_REDIRECT)
		r->backend = lbt_backend_of(t, r->out.buf, r->out.len);
}

/* Send one SIP message along p: the backend it went to (asserts it was forwarded). */
static int send_sip(struct lbt *t, const struct path *p, const char *msg, int len,
		    const char *what)
{
	struct frame f;
	struct result r;

	build(p, msg, len, &f);
	run(t, &f, &r);
	cr_assert_eq(r.action, XDP_TX, "%s: action %u, want XDP_TX", what, r.action);
	cr_assert_geq(r.backend, 0, "%s: forwarded to no known backend", what);
	return r.backend;
}

static int send_request(struct lbt *t, const struct path *p, const char *method,
			const char *callid, enum side side)
{
	char msg[2048];
	int n = sip_request(msg, sizeof(msg), method, callid, side, FORM_LONG);

	return send_sip(t, p, msg, n, method);
}

static __u64 hash_str(const struct lbt *t, const char *s)
{
	return lbt_hash(t, s, strlen(s));
}

static __u64 delta(const __u64 *after, const __u64 *before, int i)
{
	return after[i] - before[i];
}

/*
 * Between two snapshots exactly one drop counter (drop_reason, -1 for none)
 * and one slow-path counter (slow_reason, -1 for none) moved, by one.
 */
static void expect_counted_once(const struct lbt_counters *b, const struct lbt_counters *a,
				int drop_reason, int slow_reason, const char *what)
{
	int i;

	for (i = 0; i < SIPLB_DROP__MAX; i++)
		cr_expect_eq(delta(a->drop, b->drop, i), i == drop_reason ? 1u : 0u,
			     "%s: drop_stats[%s] moved by %llu", what, siplb_drop_names[i],
			     (unsigned long long)delta(a->drop, b->drop, i));
	for (i = 0; i < SIPLB_SLOW__MAX; i++)
		cr_expect_eq(delta(a->slow, b->slow, i), i == slow_reason ? 1u : 0u,
			     "%s: slow_stats[%s] moved by %llu", what, siplb_slow_names[i],
			     (unsigned long long)delta(a->slow, b->slow, i));
}

/* Dialogs ------------------------------------------------------------------ */

enum step_kind { REQ, RESP };

struct dialog_step {
	const char *what;
	enum { FROM_CALLER, FROM_CALLEE } from;
	enum step_kind kind;
	const char *method;	/* the request's method, or the CSeq method of a response */
	int code;		/* responses */
	const char *text;
	enum form form;		/* requests */
};

#define REQUEST(w, f, m, ...) { .what = w, .from = f, .kind = REQ, .method = m, __VA_ARGS__ }
#define RESPONSE(w, f, m, c, txt) \
	{ .what = w, .from = f, .kind = RESP, .method = m, .code = c, .text = txt }

static const struct dialog_step dialog[] = {
	REQUEST("INVITE from the caller opens the dialog", FROM_CALLER, "INVITE"),
	RESPONSE("100 Trying from the callee side", FROM_CALLEE, "INVITE", 100, "Trying"),
	RESPONSE("180 Ringing from the callee side", FROM_CALLEE, "INVITE", 180, "Ringing"),
	RESPONSE("200 OK to the INVITE", FROM_CALLEE, "INVITE", 200, "OK"),
	REQUEST("ACK from the caller", FROM_CALLER, "ACK"),
	REQUEST("INFO from the caller in compact form (i:, v:)", FROM_CALLER, "INFO",
		.form = FORM_COMPACT),
	RESPONSE("200 OK to the INFO", FROM_CALLEE, "INFO", 200, "OK"),
	REQUEST("re-INVITE from the callee (other address and port)", FROM_CALLEE, "INVITE"),
	RESPONSE("200 OK to the re-INVITE from the caller side", FROM_CALLER, "INVITE", 200,
		 "OK"),
	REQUEST("ACK from the callee", FROM_CALLEE, "ACK"),
	REQUEST("UPDATE from the caller, whitespace around the colons", FROM_CALLER, "UPDATE",
		.form = FORM_SPACED),
	REQUEST("BYE from the callee", FROM_CALLEE, "BYE"),
	RESPONSE("200 OK to the BYE from the caller side", FROM_CALLER, "BYE", 200, "OK"),
};

/* Play the dialog of callid; returns its backend. */
static int play_dialog(struct lbt *t, const struct path *caller, const struct path *callee,
		       __u32 vip, const char *callid)
{
	struct lbt_counters b, a;
	char msg[2048], what[256];
	int be = -1, got, n;
	size_t i;

	for (i = 0; i < sizeof(dialog) / sizeof(dialog[0]); i++) {
		const struct dialog_step *s = &dialog[i];
		const struct path *p = s->from == FROM_CALLER ? caller : callee;

		if (s->kind == REQ)
			n = sip_request(msg, sizeof(msg), s->method, callid,
					s->from == FROM_CALLER ? CALLER : CALLEE, s->form);
		else
			n = sip_response(msg, sizeof(msg), s->code, s->text, s->method, callid);
		snprintf(what, sizeof(what), "%s (Call-ID %s)", s->what, callid);
		lbt_counters_read(t, &b);
		got = send_sip(t, p, msg, n, what);
		lbt_counters_read(t, &a);
		if (i == 0) {
			be = got;
			cr_assert_eq(got, lbt_maglev_pick(t, vip, hash_str(t, callid)),
				     "%s: not the backend of the table's slot", what);
			cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_MAGLEV_PICK), 1, "%s", what);
			cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_AFFINITY_NEW), 1, "%s", what);
			cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_AFFINITY_HIT), 0, "%s", what);
		} else {
			cr_assert_eq(got, be, "%s: backend %d, the dialog is on %d", what, got,
				     be);
			cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_AFFINITY_HIT), 1,
				     "%s: not an affinity hit", what);
			cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_MAGLEV_PICK), 0, "%s", what);
		}
		cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_FORWARDED), 1, "%s", what);
	}
	return be;
}

Test(balancer, every_message_of_a_dialog_from_both_sides_reaches_one_backend, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	unsigned int seed = 1, used4 = 0, used6 = 0;
	char callid[128];
	int i;

	for (i = 0; i < 16; i++) {
		gen_callid(callid, sizeof(callid), &seed);
		used4 |= 1u << play_dialog(t, &caller4, &callee4, VIP_V4, callid);
	}
	for (i = 0; i < 8; i++) {
		gen_callid(callid, sizeof(callid), &seed);
		used6 |= 1u << (play_dialog(t, &caller6, &callee6, VIP_V6, callid) -
				BE_V6_FIRST);
	}
	cr_expect_gt(__builtin_popcount(used4), 1, "16 IPv4 dialogs all on one backend");
	cr_expect_gt(__builtin_popcount(used6), 1, "8 IPv6 dialogs all on one backend");
	lbt_close(t);
}

Test(balancer, a_response_without_a_dialog_follows_the_table_and_records_only_with_a_to_tag,
     .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	const char *callid = "stray-200-ok@198.18.0.20";
	__u64 akey = lbt_affinity_key(hash_str(t, callid), VIP_V4);
	struct lbt_counters b, a;
	struct affinity aff;
	char msg[1024], *tag;
	int n, be;

	/* 100 Trying without a To tag: hop by hop, no dialog yet */
	n = sip_response(msg, sizeof(msg), 100, "Trying", "INVITE", callid);
	tag = strstr(msg, ";tag=a6c85cf");
	cr_assert_not_null(tag);
	memset(tag, ' ', strlen(";tag=a6c85cf"));
	lbt_counters_read(t, &b);
	be = send_sip(t, &callee4, msg, n, "100 Trying for no known dialog");
	lbt_counters_read(t, &a);
	cr_assert_eq(be, lbt_maglev_pick(t, VIP_V4, hash_str(t, callid)));
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_MAGLEV_PICK), 1);
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_AFFINITY_NEW), 0,
		     "a response without a To tag must not create an affinity entry");
	cr_expect_neq(bpf_map_lookup_elem(t->maps.affinity, &akey, &aff), 0,
		      "affinity entry created for a response without a To tag");

	/* 200 OK with one: the callee side of a dialog beginning now (it may
	 * reach another instance than the caller's INVITE did): remembered */
	n = sip_response(msg, sizeof(msg), 200, "OK", "INVITE", callid);
	lbt_counters_read(t, &b);
	be = send_sip(t, &callee4, msg, n, "200 OK for no known dialog");
	lbt_counters_read(t, &a);
	cr_assert_eq(be, lbt_maglev_pick(t, VIP_V4, hash_str(t, callid)),
		     "a response follows the live table");
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_AFFINITY_NEW), 1);
	cr_assert_eq(bpf_map_lookup_elem(t->maps.affinity, &akey, &aff), 0);
	cr_expect_eq(aff.backend, (__u32)be);
	lbt_close(t);
}

/* A Call-ID whose pick in the table "before" is not "after"'s, from *seed on. */
static void moved_callid(struct lbt *t, const __u32 *before, char *callid, size_t size,
			 unsigned int *seed)
{
	int i;

	for (i = 0; i < 100000; i++) {
		__u64 h;

		gen_callid(callid, size, seed);
		h = hash_str(t, callid);
		if (before[h % MAGLEV_SIZE] != lbt_maglev_pick(t, VIP_V4, h))
			return;
	}
	cr_assert_fail("no Call-ID moved between the two tables");
}

/* A callee-side in-dialog request (To tag) of callid: where it went. */
static int send_in_dialog(struct lbt *t, const char *callid)
{
	return send_request(t, &callee4, "BYE", callid, CALLEE);
}

Test(balancer, in_dialog_request_without_affinity_follows_the_generation_its_dialog_began_in,
     .timeout = 60)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	__u32 *gen1 = malloc(sizeof(*gen1) * MAGLEV_SIZE);
	__u32 old_be, new_be = BE_V4_FIRST + N_BE;	/* the backend scale-up adds */
	unsigned int seed = 7;
	char old_call[128], new_call[128];
	struct lbt_counters b, a;
	struct vip_info vi;
	__u64 h;
	int be, g;

	cr_assert_not_null(gen1);
	t->window_units = 3600;
	/* generation 1: backends 1..4; a dialog begins on another instance */
	memcpy(gen1, lbt_table(t, VIP_V4), sizeof(*gen1) * MAGLEV_SIZE);
	/* scale-up: generation 2 adds backend 5 */
	lbt_backend_add(t, new_be, VIP_V4, "198.18.1.5", SIPLB_BE_UP, LO_IFINDEX);
	lbt_publish(t, VIP_V4);
	moved_callid(t, gen1, old_call, sizeof(old_call), &seed);
	h = hash_str(t, old_call);
	old_be = gen1[h % MAGLEV_SIZE];

	/* in-dialog (To tag), no affinity here: where the dialog began */
	lbt_counters_read(t, &b);
	be = send_in_dialog(t, old_call);
	lbt_counters_read(t, &a);
	cr_assert_eq(be, (int)old_be, "in-dialog BYE went to %d, its dialog began on %u", be,
		     old_be);
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_IN_DIALOG_GEN), 1);
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_AFFINITY_NEW), 1, "remembered");

	/* a new dialog (INVITE, no To tag) on a moved key takes the live table */
	moved_callid(t, gen1, new_call, sizeof(new_call), &seed);
	be = send_request(t, &caller4, "INVITE", new_call, CALLER);
	cr_assert_eq(be, (int)lbt_maglev_pick(t, VIP_V4, hash_str(t, new_call)));

	/* drain of the old backend: it leaves the table, its dialogs stay */
	lbt_backend_state(t, old_be, SIPLB_BE_DRAINING);
	lbt_publish(t, VIP_V4);
	bpf_map_delete_elem(t->maps.affinity, &(__u64){ lbt_affinity_key(h, VIP_V4) });
	be = send_in_dialog(t, old_call);
	cr_assert_eq(be, (int)old_be, "in-dialog BYE left the draining backend for %d", be);

	/* the old backend goes down: the next generation whose pick lives */
	lbt_backend_state(t, old_be, SIPLB_BE_DOWN);
	bpf_map_delete_elem(t->maps.affinity, &(__u64){ lbt_affinity_key(h, VIP_V4) });
	be = send_in_dialog(t, old_call);
	cr_assert_neq(be, (int)old_be, "sent to a down backend");
	cr_assert_eq(be, (int)new_be, "not the scale-up generation's pick");

	/* the window passes: only the live table is left */
	lbt_backend_state(t, old_be, SIPLB_BE_UP);
	cr_assert_eq(lb_vip_get(&t->maps, &t->vip[VIP_V4].key, &vi), 0);
	for (g = 0; g < SIPLB_MAGLEV_GENS; g++)
		if (g != vi.gen && vi.gen_until[g])
			vi.gen_until[g] = 1;
	cr_assert_eq(lb_vip_set(&t->maps, &t->vip[VIP_V4].key, &vi), 0);
	bpf_map_delete_elem(t->maps.affinity, &(__u64){ lbt_affinity_key(h, VIP_V4) });
	lbt_counters_read(t, &b);
	be = send_in_dialog(t, old_call);
	lbt_counters_read(t, &a);
	cr_assert_eq(be, (int)lbt_maglev_pick(t, VIP_V4, h), "not the live table's pick");
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_IN_DIALOG_GEN), 0);
	free(gen1);
	lbt_close(t);
}

Test(balancer, a_dialog_whose_backend_dies_moves_by_the_live_table_not_to_an_older_pick,
     .timeout = 60)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	__u32 *gen1 = malloc(sizeof(*gen1) * MAGLEV_SIZE);
	unsigned int seed = 11;
	char callid[128];
	__u32 drained = BE_V4_FIRST, first;
	int be, i;
	__u64 h;

	cr_assert_not_null(gen1);
	t->window_units = 3600;
	memcpy(gen1, lbt_table(t, VIP_V4), sizeof(*gen1) * MAGLEV_SIZE);
	/* generation 2: the first backend drains */
	lbt_backend_state(t, drained, SIPLB_BE_DRAINING);
	lbt_publish(t, VIP_V4);
	/* a Call-ID the drained backend had in generation 1: it moved */
	for (i = 0; i < 100000; i++) {
		gen_callid(callid, sizeof(callid), &seed);
		h = hash_str(t, callid);
		if (gen1[h % MAGLEV_SIZE] == drained)
			break;
	}
	cr_assert_lt(i, 100000, "no Call-ID of the drained backend");
	/* the dialog begins after the drain, here: on the live pick */
	first = lbt_maglev_pick(t, VIP_V4, h);
	cr_assert_neq(first, drained);
	be = send_request(t, &caller4, "INVITE", callid, CALLER);
	cr_assert_eq(be, (int)first);
	/* its backend dies (generation 3); this instance's entry knows where the
	 * dialog was, so it moves by the live table, not to generation 1's
	 * (draining) pick, where it never was */
	lbt_backend_state(t, first, SIPLB_BE_DOWN);
	lbt_publish(t, VIP_V4);
	be = send_in_dialog(t, callid);
	cr_assert_neq(be, (int)drained, "moved to the draining backend of an older generation");
	cr_assert_eq(be, (int)lbt_maglev_pick(t, VIP_V4, h), "not the live table's pick");
	free(gen1);
	lbt_close(t);
}

Test(balancer, the_ring_keeps_the_newest_generations_and_marks_one_live, .timeout = 60)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	struct vip_info vi;
	int i, g, live = 0, kept = 0;

	t->window_units = 100;
	for (i = 0; i < 2 * SIPLB_MAGLEV_GENS; i++) {
		lbt_backend_weight(t, BE_V4_FIRST, 1 + i % 3);
		lbt_publish(t, VIP_V4);
	}
	cr_assert_eq(lb_vip_get(&t->maps, &t->vip[VIP_V4].key, &vi), 0);
	for (g = 0; g < SIPLB_MAGLEV_GENS; g++) {
		if (vi.gen_until[g] == SIPLB_GEN_LIVE) {
			live++;
			cr_expect_eq(g, vi.gen, "the live mark is not on the live generation");
		} else if (vi.gen_until[g]) {
			kept++;
			cr_expect_leq(vi.gen_until[g], lbt_now_units() + 100);
		}
	}
	cr_expect_eq(live, 1);
	cr_expect_eq(kept, SIPLB_MAGLEV_GENS - 1, "earlier generations kept");
	lbt_close(t);
}

Test(balancer, different_call_ids_spread_over_all_backends, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	unsigned int seed = 2, hits[N_BE] = { 0 };
	const int n = 800;
	char callid[128];
	int i;

	for (i = 0; i < n; i++) {
		gen_callid(callid, sizeof(callid), &seed);
		hits[send_request(t, &caller4, "INVITE", callid, CALLER) - BE_V4_FIRST]++;
	}
	/* 200 expected each; 120 and 280 are more than 6 sigma away */
	for (i = 0; i < N_BE; i++)
		cr_expect(hits[i] > n * 15 / 100 && hits[i] < n * 35 / 100,
			  "backend %d got %u of %d new dialogs", BE_V4_FIRST + i, hits[i], n);
	lbt_close(t);
}

Test(balancer, xdp_picks_the_backend_userspace_computes_from_hash_and_table,
     .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	unsigned int seed = 3;
	char callid[128];
	int i, be;

	for (i = 0; i < 300; i++) {
		const struct path *p = i & 1 ? &caller6 : &caller4;
		__u32 vip = i & 1 ? VIP_V6 : VIP_V4;
		__u64 h, akey;
		struct affinity aff;

		gen_callid(callid, sizeof(callid), &seed);
		h = hash_str(t, callid);
		be = send_request(t, p, "INVITE", callid, CALLER);
		cr_assert_eq(be, lbt_maglev_pick(t, vip, h),
			     "Call-ID %s: XDP chose %d, slot %llu holds %u", callid, be,
			     (unsigned long long)(h % MAGLEV_SIZE), lbt_maglev_pick(t, vip, h));
		/* and recorded it under hash ^ VIP mix */
		akey = lbt_affinity_key(h, vip);
		cr_assert_eq(bpf_map_lookup_elem(t->maps.affinity, &akey, &aff), 0,
			     "Call-ID %s: no affinity entry under the expected key", callid);
		cr_assert_eq(aff.backend, (__u32)be);
	}
	lbt_close(t);
}

Test(balancer, one_call_id_on_two_vips_is_two_dialogs, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	const char *callid = "shared-by-two-vips@198.18.0.10";
	__u64 h = hash_str(t, callid);
	__u64 k4 = lbt_affinity_key(h, VIP_V4), k6 = lbt_affinity_key(h, VIP_V6);
	struct affinity a4, a6;
	int be4, be6;

	be4 = send_request(t, &caller4, "INVITE", callid, CALLER);
	be6 = send_request(t, &caller6, "INVITE", callid, CALLER);
	cr_assert_neq(k4, k6);
	cr_assert_eq(bpf_map_lookup_elem(t->maps.affinity, &k4, &a4), 0);
	cr_assert_eq(bpf_map_lookup_elem(t->maps.affinity, &k6, &a6), 0);
	cr_expect_eq(a4.backend, (__u32)be4);
	cr_expect_eq(a6.backend, (__u32)be6);
	cr_expect_geq(be6, BE_V6_FIRST, "the IPv6 VIP's dialog went to another VIP's backend");
	lbt_close(t);
}

/* REGISTER ----------------------------------------------------------------- */

Test(balancer, register_by_aor_keeps_every_binding_of_an_aor_on_one_backend,
     .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_AOR);
	unsigned int seed = 4, used = 0;
	struct lbt_counters b, a;
	char user[32], aor[64], c1[128], c2[128], msg[1024];
	int i, n, be1, be2;

	for (i = 0; i < 24; i++) {
		snprintf(user, sizeof(user), "user%03d", i);
		snprintf(aor, sizeof(aor), "%s@biloxi.example.com", user);
		gen_callid(c1, sizeof(c1), &seed);
		gen_callid(c2, sizeof(c2), &seed);
		lbt_counters_read(t, &b);
		n = sip_register(msg, sizeof(msg), user, c1, 1);
		be1 = send_sip(t, &phone4, msg, n, "first REGISTER");
		n = sip_register(msg, sizeof(msg), user, c2, 1);
		be2 = send_sip(t, &phone4, msg, n, "REGISTER of another device");
		lbt_counters_read(t, &a);
		cr_assert_eq(be1, be2, "AOR %s: bindings on backends %d and %d", aor, be1, be2);
		cr_assert_eq(be1, lbt_maglev_pick(t, VIP_V4, hash_str(t, aor)),
			     "AOR %s: not steered by the hash of \"%s\"", aor, aor);
		cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_KEY_AOR), 2);
		used |= 1u << be1;
	}
	cr_expect_gt(__builtin_popcount(used), 1, "24 AORs all on one backend");

	/* an INVITE on the same VIP still follows its Call-ID */
	lbt_counters_read(t, &b);
	be1 = send_request(t, &caller4, "INVITE", c1, CALLER);
	lbt_counters_read(t, &a);
	cr_expect_eq(be1, lbt_maglev_pick(t, VIP_V4, hash_str(t, c1)));
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_KEY_AOR), 0);
	lbt_close(t);
}

Test(balancer, register_by_call_id_follows_the_call_id, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	unsigned int seed = 5, split = 0;
	struct lbt_counters b, a;
	char user[32], c1[128], c2[128], msg[1024];
	int i, n, be1, be2;

	lbt_counters_read(t, &b);
	for (i = 0; i < 24; i++) {
		snprintf(user, sizeof(user), "user%03d", i);
		gen_callid(c1, sizeof(c1), &seed);
		gen_callid(c2, sizeof(c2), &seed);
		n = sip_register(msg, sizeof(msg), user, c1, 1);
		be1 = send_sip(t, &phone4, msg, n, "REGISTER");
		n = sip_register(msg, sizeof(msg), user, c2, 1);
		be2 = send_sip(t, &phone4, msg, n, "REGISTER");
		cr_assert_eq(be1, lbt_maglev_pick(t, VIP_V4, hash_str(t, c1)));
		cr_assert_eq(be2, lbt_maglev_pick(t, VIP_V4, hash_str(t, c2)));
		split += be1 != be2;
	}
	lbt_counters_read(t, &a);
	cr_expect_gt(split, 0, "two Call-IDs of one AOR always on one backend");
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_KEY_AOR), 0);
	lbt_close(t);
}

/* Output frames ------------------------------------------------------------ */

/* The frame the backend must get by IPIP: nexthop MACs, outer IPv4, the client's packet. */
static void expect_ipip4(const struct lbt *t, __u32 be, const struct frame *in,
			 struct frame *exp)
{
	const struct nexthop *nh = &t->be[be].nh;
	__u32 l2 = l2_len(in);
	const struct iphdr *inner = (const struct iphdr *)(in->buf + l2);
	__u32 ip_len = ntohs(inner->tot_len);
	struct iphdr *o = (struct iphdr *)(exp->buf + l2);

	memcpy(exp->buf, nh->dmac, 6);
	memcpy(exp->buf + 6, nh->smac, 6);
	memcpy(exp->buf + 12, in->buf + 12, l2 - 12);	/* VLAN tag kept */
	exp->buf[l2 - 2] = ETH_P_IP >> 8;
	exp->buf[l2 - 1] = ETH_P_IP & 0xff;
	memset(o, 0, sizeof(*o));
	o->version = 4;
	o->ihl = 5;
	o->tos = inner->tos;
	o->tot_len = htons(ip_len + sizeof(*o));
	o->id = 0;
	o->frag_off = inner->frag_off & htons(0x4000);
	o->ttl = 64;
	o->protocol = IPPROTO_IPIP;
	o->saddr = t->cfg.src4;
	o->daddr = t->be[be].be.addr[0];
	ip4_csum(o);
	memcpy(o + 1, inner, ip_len);
	exp->len = l2 + sizeof(*o) + ip_len;
}

/* The same for IP6IP6; the flow label is the given one. */
static void expect_ip6ip6(const struct lbt *t, __u32 be, const struct frame *in,
			  __u32 flow, struct frame *exp)
{
	const struct nexthop *nh = &t->be[be].nh;
	__u32 l2 = l2_len(in);
	const struct ipv6hdr *inner = (const struct ipv6hdr *)(in->buf + l2);
	__u32 ip_len = sizeof(*inner) + ntohs(inner->payload_len);
	struct ipv6hdr *o = (struct ipv6hdr *)(exp->buf + l2);
	__u32 tc = ntohl(*(const __be32 *)inner) >> 20 & 0xff;

	memcpy(exp->buf, nh->dmac, 6);
	memcpy(exp->buf + 6, nh->smac, 6);
	memcpy(exp->buf + 12, in->buf + 12, l2 - 12);
	exp->buf[l2 - 2] = ETH_P_IPV6 >> 8;
	exp->buf[l2 - 1] = ETH_P_IPV6 & 0xff;
	memset(o, 0, sizeof(*o));
	*(__be32 *)o = htonl(6u << 28 | tc << 20 | (flow & 0xfffff));
	o->payload_len = htons(ip_len);
	o->nexthdr = IPPROTO_IPV6;
	o->hop_limit = 64;
	memcpy(&o->saddr, t->cfg.src6, 16);
	memcpy(&o->daddr, t->be[be].be.addr, 16);
	memcpy(o + 1, inner, ip_len);
	exp->len = l2 + sizeof(*o) + ip_len;
}

static void expect_frame(const struct frame *got, const struct frame *exp, const char *what)
{
	__u32 i;

	cr_expect_eq(got->len, exp->len, "%s: %u bytes out, want %u", what, got->len,
		     exp->len);
	if (got->len != exp->len)
		return;
	for (i = 0; i < exp->len; i++) {
		cr_expect_eq(got->buf[i], exp->buf[i], "%s: byte %u is %02x, want %02x", what,
			     i, got->buf[i], exp->buf[i]);
		if (got->buf[i] != exp->buf[i])
			return;
	}
}

/* Edits of a built frame (headers' checksums fixed). */
static void tos_ef_ect(struct frame *f)
{
	ip4_of(f)->tos = 0xb9;	/* DSCP EF, ECT(1) */
	ip4_csum(ip4_of(f));
}

static void no_df(struct frame *f)
{
	ip4_of(f)->frag_off = 0;
	ip4_csum(ip4_of(f));
}

/* Four bytes of IPv4 options (NOP NOP NOP EOL): ihl 6; UDP is untouched. */
static void ip_options(struct frame *f)
{
	__u32 l2 = l2_len(f);
	struct iphdr *ip = ip4_of(f);
	__u8 *opt = f->buf + l2 + 20;

	memmove(opt + 4, opt, f->len - l2 - 20);
	memcpy(opt, "\x01\x01\x01\x00", 4);
	f->len += 4;
	ip->ihl = 6;
	ip->tot_len = htons(ntohs(ip->tot_len) + 4);
	ip4_csum(ip);
}

/* Ethernet trailer bytes after the IP packet (not counted by tot_len). */
static void trailer(struct frame *f)
{
	memset(f->buf + f->len, 0xee, 6);
	f->len += 6;
}

static void tclass_and_label(struct frame *f)
{
	*(__be32 *)ip6_of(f) = htonl(6u << 28 | 0xb8u << 20 | 0x12345);
}

enum msg_kind { MSG_INVITE, MSG_OK, MSG_SIZED };

struct encap_case {
	const char *what;
	const struct path *path;
	__u16 vlan;		/* replaces the path's */
	__u16 tpid;		/* 0: 802.1Q */
	enum msg_kind msg;
	__u32 ip_len;		/* MSG_SIZED: IP packet length */
	void (*edit)(struct frame *f);
};

static const struct encap_case encap4_cases[] = {
	{ "INVITE: outer IPv4 from src4 to the backend, the client's packet inside",
	  &caller4, .msg = MSG_INVITE },
	{ "200 OK from the callee side", &callee4, .msg = MSG_OK },
	{ "TOS (DSCP EF, ECT) copied to the outer header", &caller4, .edit = tos_ef_ect },
	{ "no DF on the client's packet: none outside", &caller4, .edit = no_df },
	{ "802.1Q tag kept in front of the outer header", &caller4, .vlan = 100 },
	{ "802.1ad tag kept in front of the outer header", &caller4, .vlan = 7,
	  .tpid = ETH_P_8021AD },
	{ "client's header with options: carried whole", &caller4, .edit = ip_options },
	{ "Ethernet trailer after the IP packet: not carried", &caller4, .edit = trailer },
	{ "1480-byte packet: 1500 bytes encapsulated, exactly the MTU", &caller4,
	  .msg = MSG_SIZED, .ip_len = 1480 },
};

static const struct encap_case encap6_cases[] = {
	{ "INVITE: outer IPv6 from src6 to the backend, the client's packet inside",
	  &caller6, .msg = MSG_INVITE },
	{ "200 OK from the callee side", &callee6, .msg = MSG_OK },
	{ "traffic class copied, the client's flow label not", &caller6,
	  .edit = tclass_and_label },
	{ "802.1Q tag kept in front of the outer header", &caller6, .vlan = 4094 },
	{ "Ethernet trailer after the IP packet: not carried", &caller6, .edit = trailer },
	{ "1460-byte packet: 1500 bytes encapsulated, exactly the MTU", &caller6,
	  .msg = MSG_SIZED, .ip_len = 1460 },
};

/* The case's frame; its Call-ID in callid. */
static void encap_frame(const struct encap_case *c, int i, char *callid, size_t size,
			struct frame *f)
{
	struct path p = *c->path;
	char msg[LBT_FRAME_MAX];
	int n;

	snprintf(callid, size, "encap-%d-%s@198.18.0.10", i,
		 p.family == AF_INET ? "v4" : "v6");
	switch (c->msg) {
	case MSG_INVITE:
		n = sip_request(msg, sizeof(msg), "INVITE", callid, CALLER, FORM_LONG);
		break;
	case MSG_OK:
		n = sip_response(msg, sizeof(msg), 200, "OK", "INVITE", callid);
		break;
	default:
		n = sip_invite_sized(msg, c->ip_len - (p.family == AF_INET ? 28 : 48),
				     callid);
		break;
	}
	p.vlan = c->vlan;
	build(&p, msg, n, f);
	if (c->tpid) {
		f->buf[12] = c->tpid >> 8;
		f->buf[13] = c->tpid & 0xff;
	}
	if (c->edit)
		c->edit(f);
}

Test(balancer, ipip_output_is_exactly_outer_ipv4_plus_the_clients_packet, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	struct frame in, exp;
	struct result r;
	char callid[64];
	size_t i;

	for (i = 0; i < sizeof(encap4_cases) / sizeof(encap4_cases[0]); i++) {
		const struct encap_case *c = &encap4_cases[i];
		__u32 be;

		encap_frame(c, i, callid, sizeof(callid), &in);
		be = lbt_maglev_pick(t, VIP_V4, hash_str(t, callid));
		run(t, &in, &r);
		cr_assert_eq(r.action, XDP_TX, "%s: action %u", c->what, r.action);
		expect_ipip4(t, be, &in, &exp);
		expect_frame(&r.out, &exp, c->what);
	}
	lbt_close(t);
}

Test(balancer, ip6ip6_output_is_exactly_outer_ipv6_plus_the_clients_packet,
     .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	struct frame in, exp;
	struct result r;
	char callid[64];
	size_t i;

	for (i = 0; i < sizeof(encap6_cases) / sizeof(encap6_cases[0]); i++) {
		const struct encap_case *c = &encap6_cases[i];
		__u64 h;
		__u32 be;

		encap_frame(c, i, callid, sizeof(callid), &in);
		h = hash_str(t, callid);
		be = lbt_maglev_pick(t, VIP_V6, h);
		run(t, &in, &r);
		cr_assert_eq(r.action, XDP_TX, "%s: action %u", c->what, r.action);
		/* flow label: the top 20 bits of the Call-ID's hash */
		expect_ip6ip6(t, be, &in, (__u32)(h >> 44), &exp);
		expect_frame(&r.out, &exp, c->what);
	}
	lbt_close(t);
}

Test(balancer, ip6ip6_flow_label_is_the_same_for_every_packet_of_a_dialog,
     .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	static const char *const methods[] = { "INVITE", "ACK", "BYE" };
	char msg[2048], callid[128];
	unsigned int seed = 6, labels = 0;
	__u32 first = 0, label;
	struct frame in;
	struct result r;
	int d, i, n;

	for (d = 0; d < 8; d++) {
		gen_callid(callid, sizeof(callid), &seed);
		for (i = 0; i < 3; i++) {
			n = sip_request(msg, sizeof(msg), methods[i], callid,
					i == 2 ? CALLEE : CALLER, FORM_LONG);
			build(i == 2 ? &callee6 : &caller6, msg, n, &in);
			run(t, &in, &r);
			cr_assert_eq(r.action, XDP_TX);
			label = ntohl(*(__be32 *)(r.out.buf + 14)) & 0xfffff;
			if (!i)
				first = label;
			cr_assert_eq(label, first, "%s of %s: flow label %05x, INVITE had %05x",
				     methods[i], callid, label, first);
		}
		labels |= 1u << (first & 31);
	}
	cr_expect_gt(__builtin_popcount(labels), 1, "8 dialogs share one flow label");
	lbt_close(t);
}

Test(balancer, l2_mode_rewrites_only_the_macs, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_L2, SIPLB_REGKEY_CALLID);
	static const struct {
		const char *what;
		const struct path *path;
		__u16 vlan;
	} cases[] = {
		{ "IPv4 INVITE", &caller4, .vlan = 0 },
		{ "IPv6 INVITE", &caller6, .vlan = 0 },
		{ "IPv4 INVITE with an 802.1Q tag", &caller4, .vlan = 100 },
		{ "IPv6 INVITE with an 802.1Q tag", &caller6, .vlan = 200 },
	};
	char msg[2048], callid[64];
	struct frame in, exp;
	struct result r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct path p = *cases[i].path;
		__u32 vip = p.family == AF_INET ? VIP_V4 : VIP_V6, be;
		int n;

		snprintf(callid, sizeof(callid), "l2-%zu@198.18.0.10", i);
		n = sip_request(msg, sizeof(msg), "INVITE", callid, CALLER, FORM_LONG);
		p.vlan = cases[i].vlan;
		build(&p, msg, n, &in);
		run(t, &in, &r);
		cr_assert_eq(r.action, XDP_TX, "%s: action %u", cases[i].what, r.action);
		be = lbt_maglev_pick(t, vip, hash_str(t, callid));
		exp = in;
		memcpy(exp.buf, t->be[be].nh.dmac, 6);
		memcpy(exp.buf + 6, t->be[be].nh.smac, 6);
		expect_frame(&r.out, &exp, cases[i].what);
	}
	lbt_close(t);
}

Test(balancer, a_next_hop_on_another_interface_is_redirected_there, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	const char *callid = "redirect@198.18.0.10";
	__u32 be = lbt_maglev_pick(t, VIP_V4, hash_str(t, callid));
	struct nexthop nh = t->be[be].nh;
	char msg[2048];
	struct frame in, exp;
	struct result r;
	int n;

	nh.ifindex = LO_IFINDEX + 1;
	lbt_nexthop_set(t, be, &nh);
	n = sip_request(msg, sizeof(msg), "INVITE", callid, CALLER, FORM_LONG);
	build(&caller4, msg, n, &in);
	run(t, &in, &r);
	cr_assert_eq(r.action, XDP_REDIRECT, "action %u", r.action);
	expect_ipip4(t, be, &in, &exp);
	expect_frame(&r.out, &exp, "redirected frame");
	lbt_close(t);
}

/* Packets not for a VIP ---------------------------------------------------- */

static void to_tcp(struct frame *f)
{
	struct iphdr *ip = ip4_of(f);

	ip->protocol = IPPROTO_TCP;
	ip4_csum(ip);
}

static void to_icmp(struct frame *f)
{
	struct iphdr *ip = ip4_of(f);

	ip->protocol = IPPROTO_ICMP;
	ip4_csum(ip);
}

static void to_arp(struct frame *f)
{
	static const __u8 arp[28] = {
		0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 0x10, 198, 18, 0, 10,
		0, 0, 0, 0, 0, 0, 198, 18, 0, 1,
	};

	memset(f->buf, 0xff, 6);
	f->buf[12] = ETH_P_ARP >> 8;
	f->buf[13] = ETH_P_ARP & 0xff;
	memcpy(f->buf + 14, arp, sizeof(arp));
	f->len = 14 + sizeof(arp) + 18;	/* padded to 60 */
	memset(f->buf + 42, 0, 18);
}

static void cut_to_ethernet(struct frame *f)
{
	f->len = 14;
}

static void cut_in_ipv4_header(struct frame *f)
{
	f->len = 14 + 12;
}

static void ihl_4(struct frame *f)
{
	struct iphdr *ip = ip4_of(f);

	ip->ihl = 4;
	ip4_csum(ip);
}

struct pass_case {
	const char *what;
	int family;
	const char *dst;
	__u16 dport;
	__u16 vlan;
	void (*edit)(struct frame *f);
};

static const struct pass_case pass_cases[] = {
	{ "IPv4 UDP to another address on port 5060", AF_INET, OTHER4, 5060, .vlan = 0 },
	{ "IPv4 UDP to the VIP address on another port", AF_INET, VIP4, 5080, .vlan = 0 },
	{ "IPv4 UDP to the VIP address on 5061", AF_INET, VIP4, 5061, .vlan = 0 },
	{ "IPv4 UDP with a VLAN tag to another address", AF_INET, OTHER4, 5060, .vlan = 100 },
	{ "IPv4 TCP to another address", AF_INET, OTHER4, 5060, .edit = to_tcp },
	{ "IPv4 ICMP to another address", AF_INET, OTHER4, 5060, .edit = to_icmp },
	{ "IPv6 UDP to another address", AF_INET6, OTHER6, 5060, .vlan = 0 },
	{ "IPv6 UDP to the VIP address on another port", AF_INET6, VIP6, 5080, .vlan = 0 },
	{ "ARP request for the VIP", AF_INET, VIP4, 5060, .edit = to_arp },
	{ "Ethernet header alone", AF_INET, VIP4, 5060, .edit = cut_to_ethernet },
	{ "IPv4 header cut short", AF_INET, VIP4, 5060, .edit = cut_in_ipv4_header },
	{ "IPv4 header length 16 (ihl 4) to another address", AF_INET, OTHER4, 5060,
	  .edit = ihl_4 },
};

Test(balancer, packets_not_for_a_vip_pass_untouched_and_uncounted, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	struct lbt_counters b, a;
	char msg[2048];
	struct frame in;
	struct result r;
	size_t i;
	int n, k;

	n = sip_request(msg, sizeof(msg), "INVITE", "not-for-a-vip@198.18.0.10", CALLER,
			FORM_LONG);
	for (i = 0; i < sizeof(pass_cases) / sizeof(pass_cases[0]); i++) {
		const struct pass_case *c = &pass_cases[i];
		struct path p = { c->family, c->family == AF_INET ? "198.18.0.10" :
				  "2001:db8::10", c->dst, 5060, c->dport, c->vlan };

		build(&p, msg, n, &in);
		if (c->edit)
			c->edit(&in);
		lbt_counters_read(t, &b);
		run(t, &in, &r);
		lbt_counters_read(t, &a);
		cr_expect_eq(r.action, XDP_PASS, "%s: action %u", c->what, r.action);
		expect_frame(&r.out, &in, c->what);
		expect_counted_once(&b, &a, -1, -1, c->what);
		for (k = 0; k < SIPLB_EV__MAX; k++)
			cr_expect_eq(delta(a.ev, b.ev, k), 0, "%s: event %s counted", c->what,
				     siplb_event_names[k]);
	}
	lbt_close(t);
}

/* Drops --------------------------------------------------------------------- */

static void udp_len_plus_one(struct frame *f)
{
	struct udphdr *udp = (struct udphdr *)(f->buf + l2_len(f) + ip4_of(f)->ihl * 4);

	udp->len = htons(ntohs(udp->len) + 1);
}

static void tot_len_past_frame(struct frame *f)
{
	struct iphdr *ip = ip4_of(f);

	ip->tot_len = htons(ntohs(ip->tot_len) + 1);
	ip4_csum(ip);
}

static void tot_len_below_udp(struct frame *f)
{
	struct iphdr *ip = ip4_of(f);

	ip->tot_len = htons(24);
	ip4_csum(ip);
}

static void payload_len_past_frame(struct frame *f)
{
	struct ipv6hdr *ip6 = ip6_of(f);

	ip6->payload_len = htons(ntohs(ip6->payload_len) + 1);
}

static void udp6_len_minus_one(struct frame *f)
{
	struct udphdr *udp = (struct udphdr *)(f->buf + l2_len(f) + 40);

	udp->len = htons(ntohs(udp->len) - 1);
}

struct reason_case {
	const char *what;
	const struct path *path;
	const char *payload;	/* NULL: a valid INVITE */
	size_t len;		/* 0: strlen(payload) */
	void (*edit)(struct frame *f);
	int reason;		/* enum siplb_drop or enum siplb_slow */
};

#define RAW(s) s, sizeof(s) - 1

static const char tls_hello[] =
	"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x71\x47\x1d\x94\xec"
	"\x89\x93\xc7\x44\xbc\xd8\xcf\xcb\x3c\xc5\xa6\x68\x19\xa8\xe6\xca"
	"\xa4\xe2\x3b\x69\xbd\x41\x89\x41\xda\x1e\xdc\x4e\xd8\x36\x13\xc6";

static const struct path empty4 = {
	.family = AF_INET, .src = "198.18.0.10", .dst = VIP4_EMPTY, .sport = 5060, .dport = 5060,
};
static const struct path nonh4 = {
	.family = AF_INET, .src = "198.18.0.10", .dst = VIP4_NONH, .sport = 5060, .dport = 5060,
};

static const struct reason_case drop_cases[] = {
	{ "TLS ClientHello on the SIP port (garbage)", &caller4, RAW(tls_hello),
	  .reason = SIPLB_DROP_NOT_SIP },
	{ "HTTP request on the SIP port", &caller4,
	  "GET / HTTP/1.1\r\nHost: 198.18.0.1\r\nUser-Agent: curl/8.0\r\n\r\n",
	  .reason = SIPLB_DROP_NOT_SIP },
	{ "OPTIONS without a Call-ID (scanner)", &caller4,
	  "OPTIONS sip:100@198.18.0.1 SIP/2.0\r\n"
	  "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK-scan\r\n"
	  "To: <sip:100@198.18.0.1>\r\n"
	  "From: <sip:100@203.0.113.5>;tag=scan\r\n"
	  "CSeq: 1 OPTIONS\r\n"
	  "User-Agent: friendly-scanner\r\n"
	  "Content-Length: 0\r\n\r\n", .reason = SIPLB_DROP_NO_CALLID },
	{ "INVITE with an empty Call-ID", &caller4,
	  "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bKempty\r\n"
	  "To: <sip:bob@biloxi.example.com>\r\n"
	  "Call-ID: \r\n"
	  "CSeq: 1 INVITE\r\n"
	  "Content-Length: 0\r\n\r\n", .reason = SIPLB_DROP_NO_CALLID },
	{ "INVITE without a Via", &caller4,
	  "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	  "Max-Forwards: 70\r\n"
	  "To: <sip:bob@biloxi.example.com>\r\n"
	  "From: <sip:alice@atlanta.example.com>;tag=1\r\n"
	  "Call-ID: no-via@198.18.0.10\r\n"
	  "CSeq: 1 INVITE\r\n"
	  "Content-Length: 0\r\n\r\n", .reason = SIPLB_DROP_NO_VIA },
	{ "INVITE with two Call-IDs", &caller4,
	  "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bKdup\r\n"
	  "Call-ID: first@198.18.0.10\r\n"
	  "To: <sip:bob@biloxi.example.com>\r\n"
	  "i: second@198.18.0.10\r\n"
	  "CSeq: 1 INVITE\r\n"
	  "Content-Length: 0\r\n\r\n", .reason = SIPLB_DROP_DUP_CALLID },
	{ "datagram ending inside the headers", &caller4,
	  "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bKcut\r\n"
	  "Call-ID: truncated@198.18.0.10\r\n"
	  "CSeq: 1 INV", .reason = SIPLB_DROP_TRUNCATED },
	{ "CRLF CRLF keepalive ping", &caller4, RAW("\r\n\r\n"),
	  .reason = SIPLB_DROP_KEEPALIVE },
	{ "CRLF keepalive pong", &caller4, RAW("\r\n"), .reason = SIPLB_DROP_KEEPALIVE },
	{ "status code 999", &callee4,
	  "SIP/2.0 999 Nope\r\n"
	  "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK999\r\n"
	  "Call-ID: bad-status@198.18.0.10\r\n"
	  "CSeq: 1 INVITE\r\n"
	  "Content-Length: 0\r\n\r\n", .reason = SIPLB_DROP_MALFORMED },
	{ "IPv4: UDP length one more than the IP payload", &caller4,
	  .edit = udp_len_plus_one, .reason = SIPLB_DROP_BAD_L3 },
	{ "IPv4: total length past the frame", &caller4, .edit = tot_len_past_frame,
	  .reason = SIPLB_DROP_BAD_L3 },
	{ "IPv4: total length shorter than IP + UDP headers", &caller4,
	  .edit = tot_len_below_udp, .reason = SIPLB_DROP_BAD_L3 },
	{ "IPv6: payload length past the frame", &caller6, .edit = payload_len_past_frame,
	  .reason = SIPLB_DROP_BAD_L3 },
	{ "IPv6: UDP length one less than the payload length", &caller6,
	  .edit = udp6_len_minus_one, .reason = SIPLB_DROP_BAD_L3 },
	{ "INVITE to a VIP without backends (fail closed)", &empty4,
	  .reason = SIPLB_DROP_NO_BACKEND },
};

static void reason_frame(const struct reason_case *c, int i, struct frame *f)
{
	char msg[LBT_FRAME_MAX], callid[64];
	size_t n;

	if (c->payload) {
		n = c->len ? c->len : strlen(c->payload);
		memcpy(msg, c->payload, n);
	} else {
		snprintf(callid, sizeof(callid), "case-%d@198.18.0.10", i);
		n = sip_request(msg, sizeof(msg), "INVITE", callid, CALLER, FORM_LONG);
	}
	build(c->path, msg, n, f);
	if (c->edit)
		c->edit(f);
}

Test(balancer, drops_are_counted_once_by_reason, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	struct lbt_counters b, a;
	struct frame in;
	struct result r;
	size_t i;

	for (i = 0; i < sizeof(drop_cases) / sizeof(drop_cases[0]); i++) {
		const struct reason_case *c = &drop_cases[i];

		reason_frame(c, i, &in);
		lbt_counters_read(t, &b);
		run(t, &in, &r);
		lbt_counters_read(t, &a);
		cr_expect_eq(r.action, XDP_DROP, "%s: action %u, want XDP_DROP", c->what,
			     r.action);
		expect_counted_once(&b, &a, c->reason, -1, c->what);
		cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_FORWARDED), 0, "%s", c->what);
	}
	lbt_close(t);
}

/* Slow path ---------------------------------------------------------------- */

static void more_fragments(struct frame *f)
{
	struct iphdr *ip = ip4_of(f);

	ip->frag_off = htons(0x2000);
	ip4_csum(ip);
}

static void later_fragment(struct frame *f)
{
	struct iphdr *ip = ip4_of(f);

	ip->frag_off = htons(185);	/* 1480 bytes in, the last fragment */
	ip4_csum(ip);
}

/* TCP SYN to port dport of the IPv4 destination. */
static void tcp_syn(struct frame *f, __u16 dport)
{
	struct iphdr *ip = ip4_of(f);
	struct tcphdr *tcp = (struct tcphdr *)(ip + 1);

	memset(tcp, 0, sizeof(*tcp));
	tcp->source = htons(40000);
	tcp->dest = htons(dport);
	tcp->seq = htonl(1);
	tcp->doff = 5;
	tcp->syn = 1;
	tcp->window = htons(64240);
	ip->protocol = IPPROTO_TCP;
	ip->tot_len = htons(sizeof(*ip) + sizeof(*tcp));
	ip4_csum(ip);
	f->len = l2_len(f) + sizeof(*ip) + sizeof(*tcp);
}

static void tcp_syn_5060(struct frame *f)
{
	tcp_syn(f, 5060);
}

static void tcp_syn_5061(struct frame *f)
{
	tcp_syn(f, 5061);
}

static void tcp6(struct frame *f)
{
	ip6_of(f)->nexthdr = IPPROTO_TCP;
}

/* An 8-byte extension header (nexthdr) between the IPv6 header and UDP. */
static void ext6(struct frame *f, __u8 nexthdr)
{
	__u32 l2 = l2_len(f);
	struct ipv6hdr *ip6 = ip6_of(f);
	__u8 *ext = f->buf + l2 + 40;

	memmove(ext + 8, ext, f->len - l2 - 40);
	memset(ext, 0, 8);
	ext[0] = IPPROTO_UDP;
	if (nexthdr == IPPROTO_FRAGMENT) {
		ext[3] = 1;	/* offset 0, more fragments */
		ext[7] = 42;
	} else {
		ext[2] = 1;	/* PadN, 4 bytes */
		ext[3] = 4;
	}
	ip6->nexthdr = nexthdr;
	ip6->payload_len = htons(ntohs(ip6->payload_len) + 8);
	f->len += 8;
}

static void fragment6(struct frame *f)
{
	ext6(f, IPPROTO_FRAGMENT);
}

static void hop_by_hop6(struct frame *f)
{
	ext6(f, IPPROTO_HOPOPTS);
}

static void dest_opts6(struct frame *f)
{
	ext6(f, IPPROTO_DSTOPTS);
}

/* The headers of a message whose Call-ID is beyond the 2048-byte window. */
static char beyond_window[3000];
static char mtu4[1500], mtu6[1500];

static void build_big_payloads(void)
{
	char *p = beyond_window;
	int i;

	p += sprintf(p, "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bKbig\r\n");
	for (i = 0; p - beyond_window < 2100; i++)
		p += sprintf(p, "Record-Route: <sip:proxy%02d.atlanta.example.com;lr;"
			     "ftag=1928301774>\r\n", i);
	sprintf(p, "Call-ID: beyond-window@198.18.0.10\r\nCSeq: 1 INVITE\r\n"
		"Content-Length: 0\r\n\r\n");
	/* 1501 bytes encapsulated: one over the MTU */
	sip_invite_sized(mtu4, 1481 - 28, "mtu-v4@198.18.0.10");
	mtu4[1481 - 28] = 0;
	sip_invite_sized(mtu6, 1461 - 48, "mtu-v6@198.18.0.10");
	mtu6[1461 - 48] = 0;
}

static const struct reason_case slow_cases[] = {
	{ "IPv4 first fragment (more fragments) to the VIP", &caller4,
	  .edit = more_fragments, .reason = SIPLB_SLOW_FRAGMENT },
	{ "IPv4 later fragment (offset set) to the VIP", &caller4, .edit = later_fragment,
	  .reason = SIPLB_SLOW_FRAGMENT },
	{ "IPv6 fragment header to the VIP", &caller6, .edit = fragment6,
	  .reason = SIPLB_SLOW_FRAGMENT },
	{ "IPv6 hop-by-hop header before UDP", &caller6, .edit = hop_by_hop6,
	  .reason = SIPLB_SLOW_IP_EXT },
	{ "IPv6 destination options header before UDP", &caller6, .edit = dest_opts6,
	  .reason = SIPLB_SLOW_IP_EXT },
	{ "TCP SYN to the VIP on 5060", &caller4, .edit = tcp_syn_5060,
	  .reason = SIPLB_SLOW_TCP },
	{ "TCP SYN to the VIP on 5061 (TLS)", &caller4, .edit = tcp_syn_5061,
	  .reason = SIPLB_SLOW_TCP },
	{ "IPv6 TCP to the VIP", &caller6, .edit = tcp6, .reason = SIPLB_SLOW_TCP },
	{ "Call-ID folded onto a continuation line", &caller4,
	  "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bKfold1\r\n"
	  "Max-Forwards: 70\r\n"
	  "To: Bob <sip:bob@biloxi.example.com>\r\n"
	  "From: Alice <sip:alice@atlanta.example.com>;tag=88sja8x\r\n"
	  "Call-ID:\r\n"
	  "  f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com\r\n"
	  "CSeq: 1 INVITE\r\n"
	  "Content-Length: 0\r\n\r\n", .reason = SIPLB_SLOW_FOLDED },
	{ "top Via folded onto a continuation line", &caller4,
	  "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/UDP 198.18.0.10:5060;\r\n"
	  " branch=z9hG4bKfold2\r\n"
	  "Call-ID: folded-via@198.18.0.10\r\n"
	  "CSeq: 1 INVITE\r\n"
	  "Content-Length: 0\r\n\r\n", .reason = SIPLB_SLOW_FOLDED },
	{ "20 spaces before the Call-ID colon", &caller4,
	  "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
	  "Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bKws\r\n"
	  "Call-ID                    : long-ws@198.18.0.10\r\n"
	  "CSeq: 1 INVITE\r\n"
	  "Content-Length: 0\r\n\r\n", .reason = SIPLB_SLOW_LONG_WS },
	{ "headers beyond the 2048-byte window", &caller4, beyond_window,
	  .reason = SIPLB_SLOW_BEYOND_WINDOW },
	{ "IPv4 packet of 1481 bytes: 1501 encapsulated, MTU 1500", &caller4, mtu4,
	  .reason = SIPLB_SLOW_MTU },
	{ "IPv6 packet of 1461 bytes: 1501 encapsulated, MTU 1500", &caller6, mtu6,
	  .reason = SIPLB_SLOW_MTU },
	{ "backend whose next hop is not known yet", &nonh4,
	  .reason = SIPLB_SLOW_NO_NEXTHOP },
};

Test(balancer, slow_path_packets_pass_untouched_and_are_counted_once_by_reason,
     .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	struct lbt_counters b, a;
	struct frame in;
	struct result r;
	size_t i;

	build_big_payloads();
	for (i = 0; i < sizeof(slow_cases) / sizeof(slow_cases[0]); i++) {
		const struct reason_case *c = &slow_cases[i];

		reason_frame(c, i, &in);
		lbt_counters_read(t, &b);
		run(t, &in, &r);
		lbt_counters_read(t, &a);
		cr_expect_eq(r.action, XDP_PASS, "%s: action %u, want XDP_PASS", c->what,
			     r.action);
		expect_frame(&r.out, &in, c->what);
		expect_counted_once(&b, &a, -1, c->reason, c->what);
		cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_FORWARDED), 0, "%s", c->what);
	}
	lbt_close(t);
}

Test(balancer, a_small_mtu_sends_what_no_longer_fits_to_the_slow_path, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	struct lbt_counters b, a;
	char msg[2048];
	struct frame in;
	struct result r;
	__u32 ip_len;
	int n;

	n = sip_request(msg, sizeof(msg), "INVITE", "small-mtu@198.18.0.10", CALLER,
			FORM_LONG);
	build(&caller4, msg, n, &in);
	ip_len = in.len - 14;

	t->cfg.mtu = ip_len + 19;
	lbt_config_write(t);
	lbt_counters_read(t, &b);
	run(t, &in, &r);
	lbt_counters_read(t, &a);
	cr_expect_eq(r.action, XDP_PASS, "MTU one byte short: action %u", r.action);
	expect_frame(&r.out, &in, "MTU one byte short");
	expect_counted_once(&b, &a, -1, SIPLB_SLOW_MTU, "MTU one byte short");

	t->cfg.mtu = ip_len + 20;
	lbt_config_write(t);
	run(t, &in, &r);
	cr_expect_eq(r.action, XDP_TX, "MTU just large enough: action %u", r.action);
	cr_expect_eq(r.out.len, in.len + 20);
	lbt_close(t);
}

/* Counters ----------------------------------------------------------------- */

Test(balancer, forwarded_packets_and_bytes_are_counted_per_vip_and_per_backend,
     .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	struct traffic be_want[LBT_MAX_BACKENDS] = { 0 }, vip_want[2] = { 0 };
	unsigned int seed = 7;
	char msg[2048], callid[128];
	struct frame in;
	struct result r;
	int i, n, id, vip;

	for (i = 0; i < 60; i++) {
		const struct path *p = i % 3 ? &caller4 : &caller6;

		gen_callid(callid, sizeof(callid), &seed);
		n = sip_request(msg, sizeof(msg), i & 1 ? "INVITE" : "BYE", callid, CALLER,
				FORM_LONG);
		build(p, msg, n, &in);
		run(t, &in, &r);
		cr_assert_eq(r.action, XDP_TX);
		cr_assert_geq(r.backend, 0);
		vip = p->family == AF_INET ? VIP_V4 : VIP_V6;
		/* IP bytes as received */
		be_want[r.backend].packets++;
		be_want[r.backend].bytes += in.len - 14;
		vip_want[vip].packets++;
		vip_want[vip].bytes += in.len - 14;
	}
	/* neither drops nor the slow path count as traffic */
	build(&caller4, "\r\n\r\n", 4, &in);
	run(t, &in, &r);
	cr_assert_eq(r.action, XDP_DROP);
	reason_frame(&slow_cases[0], 0, &in);
	run(t, &in, &r);
	cr_assert_eq(r.action, XDP_PASS);

	for (vip = VIP_V4; vip <= VIP_V6; vip++) {
		struct traffic got = lbt_traffic(t->maps.vip_stats, vip);

		cr_expect_eq(got.packets, vip_want[vip].packets, "VIP %d packets", vip);
		cr_expect_eq(got.bytes, vip_want[vip].bytes, "VIP %d bytes", vip);
	}
	for (id = 0; id < LBT_MAX_BACKENDS; id++) {
		struct traffic got = lbt_traffic(t->maps.backend_stats, id);

		cr_expect_eq(got.packets, be_want[id].packets, "backend %d packets", id);
		cr_expect_eq(got.bytes, be_want[id].bytes, "backend %d bytes", id);
	}
	lbt_close(t);
}

/* Events: how each backend was chosen. */
enum ev_action { EV_SEND, EV_SEND_RESPONSE, EV_DRAIN, EV_DOWN };
enum ev_dialog { DLG_A, DLG_B, DLG_STRAY, N_DLG };

struct ev_step {
	const char *what;
	enum ev_action act;
	const char *method;
	enum ev_dialog dlg;
	/* expected moves of the event counters */
	__u64 ev[SIPLB_EV__MAX];
};

static const struct ev_step ev_steps[] = {
	{ "INVITE of a new dialog", EV_SEND, "INVITE", DLG_A,
	  { [SIPLB_EV_FORWARDED] = 1, [SIPLB_EV_MAGLEV_PICK] = 1,
	    [SIPLB_EV_AFFINITY_NEW] = 1 } },
	{ "ACK of that dialog", EV_SEND, "ACK", DLG_A,
	  { [SIPLB_EV_FORWARDED] = 1, [SIPLB_EV_AFFINITY_HIT] = 1 } },
	{ "200 OK (To tag) of an unknown dialog: remembered", EV_SEND_RESPONSE, "INVITE",
	  DLG_STRAY, { [SIPLB_EV_FORWARDED] = 1, [SIPLB_EV_MAGLEV_PICK] = 1,
		       [SIPLB_EV_AFFINITY_NEW] = 1 } },
	{ "INVITE of a second dialog", EV_SEND, "INVITE", DLG_B,
	  { [SIPLB_EV_FORWARDED] = 1, [SIPLB_EV_MAGLEV_PICK] = 1,
	    [SIPLB_EV_AFFINITY_NEW] = 1 } },
	{ "the first dialog's backend drains", EV_DRAIN, NULL, DLG_A, { 0 } },
	{ "BYE of the first dialog: kept on the draining backend", EV_SEND, "BYE", DLG_A,
	  { [SIPLB_EV_FORWARDED] = 1, [SIPLB_EV_AFFINITY_HIT] = 1,
	    [SIPLB_EV_KEEP_DRAINING] = 1 } },
	{ "the second dialog's backend goes down", EV_DOWN, NULL, DLG_B, { 0 } },
	{ "BYE of the second dialog: moved off the down backend", EV_SEND, "BYE", DLG_B,
	  { [SIPLB_EV_FORWARDED] = 1, [SIPLB_EV_REPICK_DOWN] = 1,
	    [SIPLB_EV_MAGLEV_PICK] = 1, [SIPLB_EV_AFFINITY_NEW] = 1 } },
	{ "200 OK to that BYE: where the dialog moved", EV_SEND_RESPONSE, "BYE", DLG_B,
	  { [SIPLB_EV_FORWARDED] = 1, [SIPLB_EV_AFFINITY_HIT] = 1 } },
};

static __u32 affinity_of(const struct lbt *t, __u32 vip, const char *callid)
{
	__u64 akey = lbt_affinity_key(hash_str(t, callid), vip);
	struct affinity aff;

	cr_assert_eq(bpf_map_lookup_elem(t->maps.affinity, &akey, &aff), 0,
		     "no affinity entry for %s", callid);
	return aff.backend;
}

Test(balancer, events_count_how_each_backend_was_chosen, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	char callid[N_DLG][64], msg[2048];
	struct lbt_counters b, a;
	__u32 pick_a;
	size_t i;
	int k, n;

	/* the two dialogs start on different backends, for the story to hold */
	snprintf(callid[DLG_A], sizeof(callid[DLG_A]), "ev-a@198.18.0.10");
	snprintf(callid[DLG_STRAY], sizeof(callid[DLG_STRAY]), "ev-stray@198.18.0.20");
	pick_a = lbt_maglev_pick(t, VIP_V4, hash_str(t, callid[DLG_A]));
	for (k = 0; k < 100; k++) {
		snprintf(callid[DLG_B], sizeof(callid[DLG_B]), "ev-b%d@198.18.0.10", k);
		if (lbt_maglev_pick(t, VIP_V4, hash_str(t, callid[DLG_B])) != pick_a)
			break;
	}
	for (i = 0; i < sizeof(ev_steps) / sizeof(ev_steps[0]); i++) {
		const struct ev_step *s = &ev_steps[i];
		const char *cid = callid[s->dlg];

		lbt_counters_read(t, &b);
		switch (s->act) {
		case EV_SEND:
			n = sip_request(msg, sizeof(msg), s->method, cid, CALLER, FORM_LONG);
			send_sip(t, &caller4, msg, n, s->what);
			break;
		case EV_SEND_RESPONSE:
			n = sip_response(msg, sizeof(msg), 200, "OK", s->method, cid);
			send_sip(t, &callee4, msg, n, s->what);
			break;
		case EV_DRAIN:
		case EV_DOWN:
			lbt_backend_state(t, affinity_of(t, VIP_V4, cid),
					  s->act == EV_DRAIN ? SIPLB_BE_DRAINING :
					  SIPLB_BE_DOWN);
			lbt_publish(t, VIP_V4);
			break;
		}
		lbt_counters_read(t, &a);
		for (k = 0; k < SIPLB_EV__MAX; k++)
			cr_expect_eq(delta(a.ev, b.ev, k), s->ev[k],
				     "%s: %s moved by %llu, want %llu", s->what,
				     siplb_event_names[k],
				     (unsigned long long)delta(a.ev, b.ev, k),
				     (unsigned long long)s->ev[k]);
	}
	lbt_close(t);
}

/* Backend state and table changes ------------------------------------------ */

#define N_DIALOGS 200

struct dialogs {
	char callid[N_DIALOGS][128];
	int be[N_DIALOGS];
};

static void start_dialogs(struct lbt *t, struct dialogs *d, int n, unsigned int seed)
{
	int i;

	for (i = 0; i < n; i++) {
		gen_callid(d->callid[i], sizeof(d->callid[i]), &seed);
		d->be[i] = send_request(t, &caller4, "INVITE", d->callid[i], CALLER);
	}
}

Test(balancer, a_draining_backend_keeps_its_dialogs_and_gets_no_new_ones, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	static struct dialogs d, fresh;
	__u32 *old = malloc(sizeof(*old) * MAGLEV_SIZE);
	struct lbt_counters b, a;
	int i, be, drained, kept = 0, moved = 0;
	unsigned int seed = 900;

	cr_assert_not_null(old);
	start_dialogs(t, &d, N_DIALOGS, 8);
	drained = d.be[0];
	memcpy(old, lbt_table(t, VIP_V4), sizeof(*old) * MAGLEV_SIZE);
	lbt_backend_state(t, drained, SIPLB_BE_DRAINING);
	lbt_publish(t, VIP_V4);

	lbt_counters_read(t, &b);
	for (i = 0; i < N_DIALOGS; i++) {
		be = send_request(t, i & 1 ? &caller4 : &callee4, "BYE", d.callid[i],
				  i & 1 ? CALLER : CALLEE);
		cr_assert_eq(be, d.be[i], "dialog %s moved from %d to %d", d.callid[i],
			     d.be[i], be);
		kept += be == drained;
	}
	lbt_counters_read(t, &a);
	cr_assert_gt(kept, 0);
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_KEEP_DRAINING), (__u64)kept);

	/* new dialogs: those the old table gave the draining backend go elsewhere */
	for (i = 0; i < N_DIALOGS; i++) {
		__u64 h;

		gen_callid(fresh.callid[i], sizeof(fresh.callid[i]), &seed);
		h = hash_str(t, fresh.callid[i]);
		be = send_request(t, &caller4, "INVITE", fresh.callid[i], CALLER);
		cr_assert_neq(be, drained, "new dialog %s on the draining backend",
			      fresh.callid[i]);
		cr_assert_eq(be, lbt_maglev_pick(t, VIP_V4, h));
		moved += old[h % MAGLEV_SIZE] == (__u32)drained;
	}
	cr_expect_gt(moved, 0, "no new Call-ID would have gone to the drained backend");
	free(old);
	lbt_close(t);
}

Test(balancer, a_down_backend_loses_its_dialogs_to_a_live_one_for_good, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	static struct dialogs d;
	struct lbt_counters b, a;
	int i, be, down, lost = 0, now[N_DIALOGS];

	start_dialogs(t, &d, N_DIALOGS, 9);
	down = d.be[0];
	lbt_backend_state(t, down, SIPLB_BE_DOWN);
	lbt_publish(t, VIP_V4);

	lbt_counters_read(t, &b);
	for (i = 0; i < N_DIALOGS; i++) {
		be = send_request(t, &callee4, "BYE", d.callid[i], CALLEE);
		now[i] = be;
		if (d.be[i] == down) {
			lost++;
			cr_assert_neq(be, down, "dialog %s still on the down backend",
				      d.callid[i]);
			cr_assert_eq(be, lbt_maglev_pick(t, VIP_V4, hash_str(t, d.callid[i])));
		} else {
			cr_assert_eq(be, d.be[i], "dialog %s on a live backend moved",
				     d.callid[i]);
		}
	}
	lbt_counters_read(t, &a);
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_REPICK_DOWN), (__u64)lost);

	/* the backend comes back: the moved dialogs stay where they are now */
	lbt_backend_state(t, down, SIPLB_BE_UP);
	lbt_publish(t, VIP_V4);
	for (i = 0; i < N_DIALOGS; i++) {
		char msg[1024];
		int n = sip_response(msg, sizeof(msg), 200, "OK", "BYE", d.callid[i]);

		be = send_sip(t, &caller4, msg, n, "200 OK to the BYE");
		cr_assert_eq(be, now[i], "dialog %s moved again, from %d to %d", d.callid[i],
			     now[i], be);
	}
	lbt_close(t);
}

Test(balancer, a_dialog_whose_only_backends_are_down_is_dropped_as_no_backend,
     .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	const char *callid = "all-down@198.18.0.10";
	struct lbt_counters b, a;
	char msg[2048];
	struct frame in;
	struct result r;
	int id, n;

	send_request(t, &caller4, "INVITE", callid, CALLER);
	for (id = BE_V4_FIRST; id < BE_V4_FIRST + N_BE; id++)
		lbt_backend_state(t, id, SIPLB_BE_DOWN);
	lbt_publish(t, VIP_V4);
	n = sip_request(msg, sizeof(msg), "BYE", callid, CALLER, FORM_LONG);
	build(&caller4, msg, n, &in);
	lbt_counters_read(t, &b);
	run(t, &in, &r);
	lbt_counters_read(t, &a);
	cr_expect_eq(r.action, XDP_DROP, "action %u", r.action);
	expect_counted_once(&b, &a, SIPLB_DROP_NO_BACKEND, -1, "all backends down");
	lbt_close(t);
}

Test(balancer, a_maglev_swap_keeps_existing_dialogs_and_new_ones_use_the_new_table,
     .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	static struct dialogs d, fresh;
	const __u32 added = BE_V4_FIRST + N_BE;
	int i, be, on_added = 0, changed = 0;
	unsigned int seed = 500;
	__u32 *old = malloc(sizeof(*old) * MAGLEV_SIZE);

	cr_assert_not_null(old);
	start_dialogs(t, &d, 50, 10);
	memcpy(old, lbt_table(t, VIP_V4), sizeof(*old) * MAGLEV_SIZE);
	lbt_backend_add(t, added, VIP_V4, "198.18.1.5", SIPLB_BE_UP, LO_IFINDEX);
	lbt_publish(t, VIP_V4);

	for (i = 0; i < 50; i++) {
		__u64 h = hash_str(t, d.callid[i]);

		be = send_request(t, &callee4, "BYE", d.callid[i], CALLEE);
		cr_assert_eq(be, d.be[i], "dialog %s moved from %d to %d by the swap",
			     d.callid[i], d.be[i], be);
		changed += lbt_maglev_pick(t, VIP_V4, h) != old[h % MAGLEV_SIZE];
	}
	for (i = 0; i < N_DIALOGS; i++) {
		gen_callid(fresh.callid[i], sizeof(fresh.callid[i]), &seed);
		be = send_request(t, &caller4, "INVITE", fresh.callid[i], CALLER);
		cr_assert_eq(be, lbt_maglev_pick(t, VIP_V4, hash_str(t, fresh.callid[i])),
			     "new dialog %s not on the new table's backend", fresh.callid[i]);
		on_added += be == (int)added;
	}
	cr_expect_gt(on_added, 0, "no new dialog reached the added backend");
	cr_expect_gt(changed, 0, "the new table moved none of the 50 slots: proves nothing");
	free(old);
	lbt_close(t);
}

/* vip_index ------------------------------------------------------------------ */

/* The vip_index slot of a VIP's (address, port) key, read from the map; asserts it is there. */
static __u32 index_slot_of(struct lbt *t, __u32 vip, struct vip_slot *s)
{
	const struct vip_key *k = &t->vip[vip].key;
	__u32 base = siplb_vip_slot(k);
	int at = lb_vip_index_slot(&t->maps, k);
	__u32 idx;

	cr_assert_geq(at, 0, "VIP %u is not in vip_index", vip);
	idx = (__u32)at;
	cr_assert_lt((idx - base) & (SIPLB_VIP_INDEX_SLOTS - 1), SIPLB_VIP_PROBES,
		     "VIP %u in slot %u, outside its probe window from %u", vip, idx, base);
	cr_assert_eq(bpf_map_lookup_elem(t->maps.vip_index, &idx, s), 0);
	cr_assert_eq(s->used, 1);
	cr_assert_eq(memcmp(&s->key, k, sizeof(*k)), 0, "slot %u holds another key", idx);
	return idx;
}

/* The index copy of a VIP's value is what the vips hash holds. */
static void expect_index_matches_hash(struct lbt *t, __u32 vip)
{
	struct vip_info vi;
	struct vip_slot s;

	index_slot_of(t, vip, &s);
	cr_assert_eq(lb_vip_get(&t->maps, &t->vip[vip].key, &vi), 0);
	cr_expect_eq(memcmp(&s.info, &vi, sizeof(vi)), 0, "VIP %u: index copy differs", vip);
}

/* Make the hash alone say "address only": a packet XDP takes from the hash passes. */
static void spoil_hash_entry(struct lbt *t, __u32 vip)
{
	struct vip_info vi;

	cr_assert_eq(lb_vip_get(&t->maps, &t->vip[vip].key, &vi), 0);
	vi.flags |= SIPLB_VIP_F_ADDR_ONLY;
	cr_assert_eq(bpf_map_update_elem(t->maps.vips, &t->vip[vip].key, &vi, BPF_ANY), 0);
}

Test(vip_index, a_vip_is_steered_from_its_index_copy, .timeout = 60)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	const char *callid = "via-index@198.18.0.10";
	struct vip_slot s;
	int be;

	expect_index_matches_hash(t, VIP_V4);
	expect_index_matches_hash(t, VIP_V6);
	index_slot_of(t, VIP_V4, &s);
	/* only the index still says the VIP takes SIP */
	spoil_hash_entry(t, VIP_V4);
	spoil_hash_entry(t, VIP_V6);
	be = send_request(t, &caller4, "INVITE", callid, CALLER);
	cr_expect_eq(be, (int)lbt_maglev_pick(t, VIP_V4, hash_str(t, callid)));
	be = send_request(t, &caller6, "INVITE", callid, CALLER);
	cr_expect_eq(be, (int)lbt_maglev_pick(t, VIP_V6, hash_str(t, callid)));
	lbt_close(t);
}

Test(vip_index, a_vip_that_found_no_free_slot_is_steered_from_the_hash, .timeout = 60)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	const struct vip_key *k = &t->vip[VIP_V4].key;
	const char *callid = "via-hash@198.18.0.10";
	struct vip_slot other = { .used = 1 };
	__u32 base = siplb_vip_slot(k), i, idx;
	int be;

	/* the VIP's probe window full of other keys, then the VIP written again */
	cr_assert_eq(lb_vip_del(&t->maps, k), 0);
	for (i = 0; i < SIPLB_VIP_PROBES; i++) {
		other.key = *k;
		other.key.addr[0] = htonl(0xcb007100 + i);	/* 203.0.113.i */
		other.info.vip_id = VIP_EMPTY;
		idx = (base + i) & (SIPLB_VIP_INDEX_SLOTS - 1);
		cr_assert_eq(bpf_map_update_elem(t->maps.vip_index, &idx, &other, BPF_ANY), 0);
	}
	lbt_vip_add(t, VIP_V4, AF_INET, VIP4, 5060, SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	lbt_publish(t, VIP_V4);
	cr_assert_eq(lb_vip_index_slot(&t->maps, k), -ENOENT, "placed in a full window");
	be = send_request(t, &caller4, "INVITE", callid, CALLER);
	cr_expect_eq(be, (int)lbt_maglev_pick(t, VIP_V4, hash_str(t, callid)));
	/* the index's own VIPs are untouched */
	expect_index_matches_hash(t, VIP_V6);
	lbt_close(t);
}

Test(vip_index, a_deleted_vip_is_no_longer_steered_and_frees_its_slot, .timeout = 60)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	const struct vip_key *k = &t->vip[VIP_V4].key;
	char msg[2048];
	struct vip_info vi;
	struct vip_slot s;
	struct frame f;
	struct result r;
	__u32 idx;
	int n;

	idx = index_slot_of(t, VIP_V4, &s);
	cr_assert_eq(lb_vip_del(&t->maps, k), 0);
	cr_assert_eq(lb_vip_del(&t->maps, k), -ENOENT, "deleted twice");
	cr_assert_eq(bpf_map_lookup_elem(t->maps.vip_index, &idx, &s), 0);
	cr_expect_eq(s.used, 0, "slot %u still used", idx);
	cr_expect_eq(lb_vip_index_slot(&t->maps, k), -ENOENT);
	cr_expect_eq(lb_vip_get(&t->maps, k, &vi), -ENOENT, "still in the hash");
	n = sip_request(msg, sizeof(msg), "INVITE", "deleted@198.18.0.10", CALLER, FORM_LONG);
	build(&caller4, msg, n, &f);
	run(t, &f, &r);
	cr_expect_eq(r.action, XDP_PASS, "a deleted VIP's INVITE: action %u", r.action);
	/* the slot is free for the next key of its window */
	lbt_vip_add(t, VIP_V4, AF_INET, VIP4, 5060, SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	cr_expect_eq(index_slot_of(t, VIP_V4, &s), idx);
	lbt_close(t);
}

Test(vip_index, a_maglev_publish_updates_the_index_copy, .timeout = 60)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	const __u32 added = BE_V4_FIRST + N_BE;
	struct vip_slot before, after;
	unsigned int seed = 900;
	char callid[128];
	__u32 *old = malloc(sizeof(*old) * MAGLEV_SIZE);
	int i, moved = 0, be;

	cr_assert_not_null(old);
	memcpy(old, lbt_table(t, VIP_V4), sizeof(*old) * MAGLEV_SIZE);
	index_slot_of(t, VIP_V4, &before);
	lbt_backend_add(t, added, VIP_V4, "198.18.1.5", SIPLB_BE_UP, LO_IFINDEX);
	lbt_publish(t, VIP_V4);
	index_slot_of(t, VIP_V4, &after);
	expect_index_matches_hash(t, VIP_V4);
	cr_expect_eq(after.info.gen, (before.info.gen + 1) % SIPLB_MAGLEV_GENS);
	cr_expect_eq(after.info.up, N_BE + 1);
	/* XDP reads the index alone now: new dialogs follow the new table */
	spoil_hash_entry(t, VIP_V4);
	for (i = 0; i < 64; i++) {
		__u64 h;

		gen_callid(callid, sizeof(callid), &seed);
		h = hash_str(t, callid);
		be = send_request(t, &caller4, "INVITE", callid, CALLER);
		cr_assert_eq(be, (int)lbt_maglev_pick(t, VIP_V4, h), "%s", callid);
		moved += lbt_maglev_pick(t, VIP_V4, h) != old[h % MAGLEV_SIZE];
	}
	cr_expect_gt(moved, 0, "no Call-ID moved by the new table: proves nothing");
	free(old);
	lbt_close(t);
}

Test(vip_index, a_rebuild_makes_the_index_agree_with_the_hash, .timeout = 60)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	struct vip_key stray = t->vip[VIP_V4].key, k0 = t->vip[VIP_V4].key;
	struct vip_slot s, junk = { .used = 1 };
	__u32 idx, v;

	/* what a crash between the two writes, or an older siplbd, leaves: a
	 * VIP missing, one stale, a key the hash no longer has */
	idx = index_slot_of(t, VIP_V4, &s);
	s.used = 0;
	cr_assert_eq(bpf_map_update_elem(t->maps.vip_index, &idx, &s, BPF_ANY), 0);
	idx = index_slot_of(t, VIP_V6, &s);
	s.info.up = 0;
	cr_assert_eq(bpf_map_update_elem(t->maps.vip_index, &idx, &s, BPF_ANY), 0);
	stray.port = htons(5999);
	junk.key = stray;
	idx = siplb_vip_slot(&stray);
	cr_assert_eq(bpf_map_update_elem(t->maps.vip_index, &idx, &junk, BPF_ANY), 0);
	cr_assert_geq(lb_vip_index_slot(&t->maps, &stray), 0);

	cr_assert_eq(lb_vip_index_rebuild(&t->maps), 0);
	for (v = 0; v < LBT_MAX_VIPS; v++)
		expect_index_matches_hash(t, v);
	cr_expect_eq(lb_vip_index_slot(&t->maps, &stray), -ENOENT);
	k0.port = 0;
	cr_expect_eq(lb_vip_index_slot(&t->maps, &k0), -ENOENT, "a port-0 entry indexed");
	for (idx = 0, v = 0; idx < SIPLB_VIP_INDEX_SLOTS; idx++) {
		cr_assert_eq(bpf_map_lookup_elem(t->maps.vip_index, &idx, &s), 0);
		v += s.used;
	}
	cr_expect_eq(v, LBT_MAX_VIPS, "%u slots used, want one per VIP", v);
	lbt_close(t);
}

Test(balancer, an_affinity_entry_idle_past_the_timeout_is_replaced, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	const char *stale = "idle-stale@198.18.0.10", *recent = "idle-recent@198.18.0.10";
	__u32 now = lbt_now_units(), pick_s, pick_r, other_s, other_r;
	struct affinity aff;
	struct lbt_counters b, a;
	__u64 ks, kr;
	int be;

	cr_assert_gt(now, 10, "monotonic clock too young for this test");
	t->cfg.idle_units = 2;
	lbt_config_write(t);
	pick_s = lbt_maglev_pick(t, VIP_V4, hash_str(t, stale));
	pick_r = lbt_maglev_pick(t, VIP_V4, hash_str(t, recent));
	/* entries pointing at a backend the table would not choose */
	other_s = BE_V4_FIRST + (pick_s - BE_V4_FIRST + 1) % N_BE;
	other_r = BE_V4_FIRST + (pick_r - BE_V4_FIRST + 1) % N_BE;
	ks = lbt_affinity_key(hash_str(t, stale), VIP_V4);
	kr = lbt_affinity_key(hash_str(t, recent), VIP_V4);
	aff = (struct affinity){ .backend = other_s, .seen = now - 10 };
	cr_assert_eq(bpf_map_update_elem(t->maps.affinity, &ks, &aff, BPF_ANY), 0);
	aff = (struct affinity){ .backend = other_r, .seen = now };
	cr_assert_eq(bpf_map_update_elem(t->maps.affinity, &kr, &aff, BPF_ANY), 0);

	lbt_counters_read(t, &b);
	be = send_request(t, &caller4, "ACK", stale, CALLER);
	lbt_counters_read(t, &a);
	cr_expect_eq(be, (int)pick_s, "idle entry kept: went to %d, table says %u", be,
		     pick_s);
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_IDLE_EXPIRED), 1);
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_AFFINITY_NEW), 1);
	cr_assert_eq(bpf_map_lookup_elem(t->maps.affinity, &ks, &aff), 0);
	cr_expect_eq(aff.backend, pick_s, "the entry must now hold the new backend");
	cr_expect_geq(aff.seen, now, "the entry's last-seen must be refreshed");

	lbt_counters_read(t, &b);
	be = send_request(t, &caller4, "ACK", recent, CALLER);
	lbt_counters_read(t, &a);
	cr_expect_eq(be, (int)other_r, "recent entry not kept: went to %d", be);
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_IDLE_EXPIRED), 0);
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_AFFINITY_HIT), 1);

	/* with no timeout, an entry as old as the stale one stays */
	t->cfg.idle_units = 0;
	lbt_config_write(t);
	aff = (struct affinity){ .backend = other_s, .seen = now - 10 };
	cr_assert_eq(bpf_map_update_elem(t->maps.affinity, &ks, &aff, BPF_ANY), 0);
	be = send_request(t, &caller4, "BYE", stale, CALLER);
	cr_expect_eq(be, (int)other_s, "idle_units 0 must mean never expire");
	lbt_close(t);
}

Test(balancer, xdp_stamps_affinity_entries_in_the_monotonic_clocks_units, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	const char *cid = "clock-units@198.18.0.10";
	__u32 before, after;
	struct affinity aff;
	__u64 k = lbt_affinity_key(hash_str(t, cid), VIP_V4);

	/* XDP's clock is jiffies plus the offset lbt_open() measured */
	before = lbt_now_units();
	cr_assert_geq(send_request(t, &caller4, "INVITE", cid, CALLER), 0);
	after = lbt_now_units();
	cr_assert_eq(bpf_map_lookup_elem(t->maps.affinity, &k, &aff), 0);
	cr_expect(aff.seen >= before && aff.seen <= after,
		  "stamped %u, CLOCK_MONOTONIC_COARSE read %u..%u (2^30 ns units)", aff.seen,
		  before, after);
	lbt_close(t);
}

Test(balancer, an_entry_stamped_a_unit_ahead_of_xdps_clock_is_not_idle, .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	const char *cid = "ahead@198.18.0.10";
	__u64 k = lbt_affinity_key(hash_str(t, cid), VIP_V4);
	__u32 pick = lbt_maglev_pick(t, VIP_V4, hash_str(t, cid)), other;
	struct affinity aff;
	struct lbt_counters b, a;

	t->cfg.idle_units = 2;
	lbt_config_write(t);
	/* siplbd's slow path and XDP read two clocks that may be a unit apart */
	other = BE_V4_FIRST + (pick - BE_V4_FIRST + 1) % N_BE;
	aff = (struct affinity){ .backend = other, .seen = lbt_now_units() + 1 };
	cr_assert_eq(bpf_map_update_elem(t->maps.affinity, &k, &aff, BPF_ANY), 0);
	lbt_counters_read(t, &b);
	cr_expect_eq(send_request(t, &caller4, "ACK", cid, CALLER), (int)other,
		     "an entry from a clock a unit ahead went idle");
	lbt_counters_read(t, &a);
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_IDLE_EXPIRED), 0);
	cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_AFFINITY_HIT), 1);
	lbt_close(t);
}

/* Packets to a VIP address that are not SIP over UDP ----------------------- */

static void to_port_0(struct frame *f)
{
	struct udphdr *udp = (struct udphdr *)(f->buf + l2_len(f) + ip4_of(f)->ihl * 4);

	udp->dest = 0;		/* the UDP checksum is not checked on the way */
}

static void to_port_0_v6(struct frame *f)
{
	struct udphdr *udp = (struct udphdr *)(f->buf + l2_len(f) + 40);

	udp->dest = 0;
}

static void icmp_echo(struct frame *f)
{
	struct iphdr *ip = ip4_of(f);
	__u8 *icmp = (__u8 *)(ip + 1);

	memset(icmp, 0, 8);
	icmp[0] = 8;		/* echo request */
	icmp[6] = 0;
	icmp[7] = 1;
	ip->protocol = IPPROTO_ICMP;
	ip->tot_len = htons(sizeof(*ip) + 64);
	ip4_csum(ip);
	f->len = l2_len(f) + sizeof(*ip) + 64;
}

static void icmp6_echo(struct frame *f)
{
	struct ipv6hdr *ip6 = ip6_of(f);
	__u8 *icmp = (__u8 *)(ip6 + 1);

	memset(icmp, 0, 8);
	icmp[0] = 128;		/* echo request */
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->payload_len = htons(64);
	f->len = l2_len(f) + sizeof(*ip6) + 64;
}

struct vip_addr_case {
	const char *what;
	const struct path *path;
	void (*edit)(struct frame *f);
	__u32 action;
	int drop;		/* enum siplb_drop counted once, or -1 */
};

static const struct vip_addr_case vip_addr_cases[] = {
	{ "UDP with a SIP message to port 0 of the VIP address: no SIP port, not balanced",
	  &caller4, to_port_0, XDP_PASS, -1 },
	{ "IPv6 UDP with a SIP message to port 0 of the VIP address: not balanced",
	  &caller6, to_port_0_v6, XDP_PASS, -1 },
	{ "ICMP echo to the VIP address: passed, not counted as a fragment", &caller4,
	  icmp_echo, XDP_PASS, -1 },
	{ "ICMPv6 echo to the VIP address: passed, not counted as an extension header",
	  &caller6, icmp6_echo, XDP_PASS, -1 },
	{ "IPv4 header length 16 (ihl 4) to the VIP: bad_l3, not a fragment", &caller4,
	  ihl_4, XDP_DROP, SIPLB_DROP_BAD_L3 },
};

Test(balancer, packets_to_a_vip_address_that_are_not_udp_sip_are_not_miscounted,
     .timeout = 30)
{
	struct lbt *t = setup(SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	struct lbt_counters b, a;
	char msg[2048];
	struct frame in;
	struct result r;
	size_t i;
	int n;

	n = sip_request(msg, sizeof(msg), "INVITE", "vip-addr@198.18.0.10", CALLER,
			FORM_LONG);
	for (i = 0; i < sizeof(vip_addr_cases) / sizeof(vip_addr_cases[0]); i++) {
		const struct vip_addr_case *c = &vip_addr_cases[i];

		build(c->path, msg, n, &in);
		c->edit(&in);
		lbt_counters_read(t, &b);
		run(t, &in, &r);
		lbt_counters_read(t, &a);
		cr_expect_eq(r.action, c->action, "%s: action %u, want %u", c->what, r.action,
			     c->action);
		if (c->action == XDP_PASS)
			expect_frame(&r.out, &in, c->what);
		if (c->drop >= 0)
			cr_expect_eq(delta(a.drop, b.drop, c->drop), 1, "%s: drop_stats[%s]",
				     c->what, siplb_drop_names[c->drop]);
		cr_expect_eq(delta(a.slow, b.slow, SIPLB_SLOW_FRAGMENT), 0,
			     "%s: counted as ip_fragment", c->what);
		cr_expect_eq(delta(a.slow, b.slow, SIPLB_SLOW_IP_EXT), 0,
			     "%s: counted as ipv6_extension_headers", c->what);
		cr_expect_eq(delta(a.ev, b.ev, SIPLB_EV_FORWARDED), 0, "%s: forwarded",
			     c->what);
	}
	lbt_close(t);
}
