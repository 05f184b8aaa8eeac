// SPDX-License-Identifier: GPL-2.0
/*
 * test_decap.c: the backend decapsulator (bpf/decap.bpf.c) turns an IPv4-in-IPv4
 * or IPv6-in-IPv6 frame from an allowed balancer back into the client's frame
 * byte for byte, passes everything else untouched, and counts every packet
 * once, under the reason that fits.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "decap.skel.h"
#include "pkt.h"
#include "siplb_maps.h"

static const char *const stat_names[DECAP_STAT__MAX] = {
	[DECAP_STAT_DECAPSULATED] = "DECAP_STAT_DECAPSULATED",
	[DECAP_STAT_NOT_TUNNEL] = "DECAP_STAT_NOT_TUNNEL",
	[DECAP_STAT_UNKNOWN_SOURCE] = "DECAP_STAT_UNKNOWN_SOURCE",
	[DECAP_STAT_FRAGMENT] = "DECAP_STAT_FRAGMENT",
	[DECAP_STAT_MALFORMED] = "DECAP_STAT_MALFORMED",
};



/* The balancer (allowed outer source) and this backend, per family. */
#define LB4 "10.0.0.1"
#define BE4 "10.0.0.2"
#define LB6 "fd00::1"
#define BE6 "fd00::2"

static const char sip_payload[] =
	"INVITE sip:bob@example.com SIP/2.0\r\n"
	"Via: SIP/2.0/UDP 198.18.0.10:5060;branch=z9hG4bK-decap\r\n"
	"Call-ID: decap-test@198.18.0.10\r\n"
	"Content-Length: 0\r\n\r\n";

/* A test frame and where its headers lie. */
struct frame {
	__u8 buf[PKT_MAX];
	int len;
	int l2;			/* Ethernet header, plus 4 with a VLAN tag */
	int outer;		/* outer IP header with options or extension headers; 0 = none */
};

enum v6ext {
	EXT6_NONE = 0,
	EXT6_DSTOPTS,		/* tunnel encapsulation limit option, as Linux ip6tnl sends */
	EXT6_FRAGMENT,		/* first fragment of a fragmented outer packet */
};

struct decap_case {
	const char *what;
	int inner;		/* AF_INET or AF_INET6: the client's packet */
	int outer;		/* AF_INET or AF_INET6: the tunnel; 0 = plain, no tunnel */
	__u16 vlan;		/* 802.1Q VLAN id, 0 for none */
	const char *src;	/* outer source; NULL = the allowed balancer */
	int opt_words;		/* outer IPv4 options, 4-byte words */
	enum v6ext ext;		/* outer IPv6 extension header */
	void (*mangle)(struct frame *f);	/* damage the built frame */
	enum decap_stat expect;	/* DECAPSULATED: out == inner frame; else out == in */
};

static void csum4(struct iphdr *ip)
{
	ip->check = 0;
	ip->check = htons(~pkt_csum_fold(pkt_csum_add(0, ip, ip->ihl * 4)));
}

static struct iphdr *outer4(struct frame *f)
{
	return (struct iphdr *)(f->buf + f->l2);
}

static void addr(int family, const char *s, void *dst)
{
	cr_assert_eq(inet_pton(family, s, dst), 1, "address %s", s);
}

/* The client's frame as it left the client: what the backend must get. */
static void build_inner(const struct decap_case *c, struct frame *f)
{
	struct pkt_addrs a;

	pkt_default_addrs(&a, c->inner);
	a.vlan = c->vlan;
	f->len = pkt_build_udp(&a, sip_payload, sizeof(sip_payload) - 1, f->buf);
	cr_assert_gt(f->len, 0);
	f->l2 = c->vlan ? 18 : 14;
	f->outer = 0;
}

/* The frame as the balancer sends it: inner's link header, outer IP, inner IP packet. */
static void build_encap(const struct decap_case *c, const struct frame *inner,
			struct frame *f)
{
	const __u8 *pkt = inner->buf + inner->l2;
	size_t plen = inner->len - inner->l2;
	__u8 next = c->inner == AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	__u16 ethertype = c->outer == AF_INET ? ETH_P_IP : ETH_P_IPV6;
	__u8 *o = f->buf + inner->l2;
	size_t hlen;

	memcpy(f->buf, inner->buf, inner->l2);
	f->buf[inner->l2 - 2] = ethertype >> 8;
	f->buf[inner->l2 - 1] = ethertype & 0xff;
	f->l2 = inner->l2;
	if (c->outer == AF_INET) {
		struct iphdr *ip = (struct iphdr *)o;

		hlen = sizeof(*ip) + 4 * c->opt_words;
		memset(o, 0, sizeof(*ip));
		memset(o + sizeof(*ip), 1, hlen - sizeof(*ip));	/* NOP options */
		ip->version = 4;
		ip->ihl = hlen / 4;
		ip->ttl = 64;
		ip->protocol = next;
		ip->tot_len = htons(hlen + plen);
		ip->frag_off = htons(0x4000);	/* DF */
		addr(AF_INET, c->src ? c->src : LB4, &ip->saddr);
		addr(AF_INET, BE4, &ip->daddr);
		csum4(ip);
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)o;
		__u8 *ext = o + sizeof(*ip6);

		hlen = sizeof(*ip6);
		memset(o, 0, sizeof(*ip6));
		ip6->version = 6;
		ip6->hop_limit = 64;
		ip6->nexthdr = next;
		addr(AF_INET6, c->src ? c->src : LB6, &ip6->saddr);
		addr(AF_INET6, BE6, &ip6->daddr);
		if (c->ext == EXT6_DSTOPTS) {
			static const __u8 encap_limit[6] = { 4, 1, 4, 1, 1, 0 };

			ip6->nexthdr = IPPROTO_DSTOPTS;
			ext[0] = next;
			ext[1] = 0;	/* 8 bytes */
			memcpy(ext + 2, encap_limit, sizeof(encap_limit));
			hlen += 8;
		} else if (c->ext == EXT6_FRAGMENT) {
			ip6->nexthdr = IPPROTO_FRAGMENT;
			memset(ext, 0, 8);
			ext[0] = next;
			ext[3] = 1;	/* offset 0, more fragments */
			ext[7] = 42;	/* identification */
			hlen += 8;
		}
		ip6->payload_len = htons(hlen - sizeof(*ip6) + plen);
	}
	memcpy(o + hlen, pkt, plen);
	f->outer = hlen;
	f->len = f->l2 + hlen + plen;
}

/* Damage done to built frames. */
static void cut_outer_header(struct frame *f)
{
	f->len = f->l2 + 12;
}

/* ihl 4, with a valid checksum over those 16 bytes and a destination address
 * that reads as the start of an IPv4 header: only the ihl check can refuse it. */
static void ihl_4(struct frame *f)
{
	struct iphdr *ip = outer4(f);

	ip->ihl = 4;
	((__u8 *)&ip->daddr)[0] = 0x45;
	csum4(ip);
}

static void more_fragments(struct frame *f)
{
	outer4(f)->frag_off = htons(0x2000);
	csum4(outer4(f));
}

static void fragment_offset(struct frame *f)
{
	outer4(f)->frag_off = htons(185);	/* 1480 bytes in */
	csum4(outer4(f));
}

static void bad_checksum(struct frame *f)
{
	outer4(f)->check ^= htons(1);
}

static void tot_len_past_frame(struct frame *f)
{
	struct iphdr *ip = outer4(f);

	ip->tot_len = htons(ntohs(ip->tot_len) + 1);
	csum4(ip);
}

static void tot_len_below_inner(struct frame *f)
{
	struct iphdr *ip = outer4(f);

	ip->tot_len = htons(ip->ihl * 4 + 12);
	csum4(ip);
}

static void tot_len_below_header(struct frame *f)
{
	struct iphdr *ip = outer4(f);

	ip->tot_len = htons(ip->ihl * 4 - 4);
	csum4(ip);
}

static void outer_says_v6(struct frame *f)
{
	struct iphdr *ip = outer4(f);

	ip->version = 6;
	csum4(ip);
}

static void cut_inner_header(struct frame *f)
{
	struct iphdr *ip = outer4(f);

	ip->tot_len = htons(ip->ihl * 4 + 12);
	csum4(ip);
	f->len = f->l2 + ip->ihl * 4 + 12;
}

static void inner_says_v6(struct frame *f)
{
	__u8 *inner = f->buf + f->l2 + f->outer;

	*inner = (*inner & 0x0f) | 0x60;
}

static void inner_says_v4(struct frame *f)
{
	__u8 *inner = f->buf + f->l2 + f->outer;

	*inner = (*inner & 0x0f) | 0x40;
}

static void outer_says_v4(struct frame *f)
{
	__u8 *ip6 = f->buf + f->l2;

	*ip6 = (*ip6 & 0x0f) | 0x40;
}

static void payload_len_past_frame(struct frame *f)
{
	struct ipv6hdr *ip6 = (struct ipv6hdr *)(f->buf + f->l2);

	ip6->payload_len = htons(ntohs(ip6->payload_len) + 1);
}

static void payload_len_inside_ext(struct frame *f)
{
	struct ipv6hdr *ip6 = (struct ipv6hdr *)(f->buf + f->l2);

	ip6->payload_len = htons(4);
}

static void cut_inner_v6(struct frame *f)
{
	struct ipv6hdr *ip6 = (struct ipv6hdr *)(f->buf + f->l2);

	ip6->payload_len = htons(f->outer - sizeof(*ip6) + 30);
	f->len = f->l2 + f->outer + 30;
}

static void arp_ethertype(struct frame *f)
{
	f->buf[12] = ETH_P_ARP >> 8;
	f->buf[13] = ETH_P_ARP & 0xff;
}

static void cut_vlan_tag(struct frame *f)
{
	f->len = 16;
}

static const struct decap_case cases[] = {
	{ "IPv4-in-IPv4 from the balancer", AF_INET, AF_INET,
	  .expect = DECAP_STAT_DECAPSULATED },
	{ "IPv6-in-IPv6 from the balancer", AF_INET6, AF_INET6,
	  .expect = DECAP_STAT_DECAPSULATED },
	{ "IPv4-in-IPv4 with a VLAN tag, tag kept", AF_INET, AF_INET, .vlan = 100,
	  .expect = DECAP_STAT_DECAPSULATED },
	{ "IPv6-in-IPv6 with a VLAN tag, tag kept", AF_INET6, AF_INET6, .vlan = 4094,
	  .expect = DECAP_STAT_DECAPSULATED },
	{ "IPv6-in-IPv4 (protocol 41): ethertype rewritten", AF_INET6, AF_INET,
	  .expect = DECAP_STAT_DECAPSULATED },
	{ "IPv4-in-IPv6 (next header 4): ethertype rewritten", AF_INET, AF_INET6,
	  .expect = DECAP_STAT_DECAPSULATED },
	{ "IPv6-in-IPv4 with a VLAN tag: tagged ethertype rewritten", AF_INET6, AF_INET,
	  .vlan = 7, .expect = DECAP_STAT_DECAPSULATED },
	{ "outer IPv4 with options: all of ihl stripped", AF_INET, AF_INET,
	  .opt_words = 3, .expect = DECAP_STAT_DECAPSULATED },
	{ "outer IPv6 with an encapsulation-limit option (Linux ip6tnl)", AF_INET6,
	  AF_INET6, .ext = EXT6_DSTOPTS, .expect = DECAP_STAT_DECAPSULATED },
	{ "IPv4-in-IPv4 from a source not in the allowlist", AF_INET, AF_INET,
	  .src = "10.0.0.99", .expect = DECAP_STAT_UNKNOWN_SOURCE },
	{ "IPv6-in-IPv6 from a source not in the allowlist", AF_INET6, AF_INET6,
	  .src = "fd00::99", .expect = DECAP_STAT_UNKNOWN_SOURCE },
	{ "IPv6 source whose first word is an allowed IPv4 address", AF_INET6, AF_INET6,
	  .src = "a00:1::", .expect = DECAP_STAT_UNKNOWN_SOURCE },
	{ "plain IPv4/UDP to the VIP", AF_INET, 0, .expect = DECAP_STAT_NOT_TUNNEL },
	{ "plain IPv6/UDP to the VIP", AF_INET6, 0, .expect = DECAP_STAT_NOT_TUNNEL },
	{ "plain IPv4/UDP with a VLAN tag", AF_INET, 0, .vlan = 100,
	  .expect = DECAP_STAT_NOT_TUNNEL },
	{ "not IP (ARP ethertype)", AF_INET, 0, .mangle = arp_ethertype,
	  .expect = DECAP_STAT_NOT_TUNNEL },
	{ "802.1Q ethertype with the tag cut off", AF_INET, 0, .vlan = 100,
	  .mangle = cut_vlan_tag, .expect = DECAP_STAT_NOT_TUNNEL },
	{ "outer IPv4 header truncated", AF_INET, AF_INET, .mangle = cut_outer_header,
	  .expect = DECAP_STAT_MALFORMED },
	{ "outer IPv6 header truncated", AF_INET6, AF_INET6, .mangle = cut_outer_header,
	  .expect = DECAP_STAT_MALFORMED },
	{ "outer IPv4 ihl 4", AF_INET, AF_INET, .mangle = ihl_4,
	  .expect = DECAP_STAT_MALFORMED },
	{ "outer IPv4 bad header checksum", AF_INET, AF_INET, .mangle = bad_checksum,
	  .expect = DECAP_STAT_MALFORMED },
	{ "outer IPv4 total length past the frame", AF_INET, AF_INET,
	  .mangle = tot_len_past_frame, .expect = DECAP_STAT_MALFORMED },
	{ "outer IPv4 total length shorter than its header", AF_INET, AF_INET,
	  .mangle = tot_len_below_header, .expect = DECAP_STAT_MALFORMED },
	{ "IPv4 ethertype but the outer header says version 6", AF_INET, AF_INET,
	  .mangle = outer_says_v6, .expect = DECAP_STAT_MALFORMED },
	{ "outer IPv4 total length ends inside the inner header", AF_INET, AF_INET,
	  .mangle = tot_len_below_inner, .expect = DECAP_STAT_MALFORMED },
	{ "inner IPv4 header cut short", AF_INET, AF_INET, .mangle = cut_inner_header,
	  .expect = DECAP_STAT_MALFORMED },
	{ "protocol 4 but the inner packet says IPv6", AF_INET, AF_INET,
	  .mangle = inner_says_v6, .expect = DECAP_STAT_MALFORMED },
	{ "next header 41 but the inner packet says IPv4", AF_INET6, AF_INET6,
	  .mangle = inner_says_v4, .expect = DECAP_STAT_MALFORMED },
	{ "IPv6 ethertype but the outer header says version 4", AF_INET6, AF_INET6,
	  .mangle = outer_says_v4, .expect = DECAP_STAT_MALFORMED },
	{ "outer IPv6 payload length past the frame", AF_INET6, AF_INET6,
	  .mangle = payload_len_past_frame, .expect = DECAP_STAT_MALFORMED },
	{ "outer IPv6 payload length ends inside its extension header", AF_INET6,
	  AF_INET6, .ext = EXT6_DSTOPTS, .mangle = payload_len_inside_ext,
	  .expect = DECAP_STAT_MALFORMED },
	{ "inner IPv6 header cut short", AF_INET6, AF_INET6, .mangle = cut_inner_v6,
	  .expect = DECAP_STAT_MALFORMED },
	{ "outer IPv4 first fragment (more fragments set)", AF_INET, AF_INET,
	  .mangle = more_fragments, .expect = DECAP_STAT_FRAGMENT },
	{ "outer IPv4 later fragment (offset set)", AF_INET, AF_INET,
	  .mangle = fragment_offset, .expect = DECAP_STAT_FRAGMENT },
	{ "outer IPv6 with a fragment header", AF_INET6, AF_INET6, .ext = EXT6_FRAGMENT,
	  .expect = DECAP_STAT_FRAGMENT },
};

static void allow(struct decap *skel, int family, const char *s)
{
	struct decap_key key = { .family = family };
	__u32 one = 1;

	addr(family, s, key.addr);
	cr_assert_eq(bpf_map__update_elem(skel->maps.decap_sources, &key, sizeof(key),
					  &one, sizeof(one), BPF_ANY), 0, "allow %s", s);
}

static struct decap *load(void)
{
	struct decap *skel = decap__open_and_load();

	cr_assert_not_null(skel, "the verifier must accept decap.bpf.o (run as root)");
	allow(skel, AF_INET, LB4);
	allow(skel, AF_INET6, LB6);
	return skel;
}

/* Sum over CPUs of every counter. */
static void read_stats(struct decap *skel, __u64 sums[DECAP_STAT__MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 vals[ncpu];
	__u32 i;
	int c;

	cr_assert_gt(ncpu, 0);
	for (i = 0; i < DECAP_STAT__MAX; i++) {
		cr_assert_eq(bpf_map__lookup_elem(skel->maps.decap_stats, &i, sizeof(i),
						  vals, sizeof(vals), 0), 0);
		sums[i] = 0;
		for (c = 0; c < ncpu; c++)
			sums[i] += vals[c];
	}
}

/* Runs one frame; returns the output length in out. */
static __u32 run(struct decap *skel, const struct frame *in, __u8 *out, __u32 out_size,
		 const char *what)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in->buf,
		.data_size_in = in->len,
		.data_out = out,
		.data_size_out = out_size,
		.repeat = 1,
	);

	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.siplb_decap),
					    &opts), 0, "%s: test run", what);
	cr_assert_eq(opts.retval, XDP_PASS, "%s: returned %u, not XDP_PASS", what,
		     opts.retval);
	return opts.data_size_out;
}

static void check_case(struct decap *skel, const struct decap_case *c)
{
	static struct frame inner, in;
	static __u8 out[PKT_MAX + 256];
	const struct frame *want;
	__u64 before[DECAP_STAT__MAX], after[DECAP_STAT__MAX];
	__u32 len, i;

	build_inner(c, &inner);
	if (c->outer)
		build_encap(c, &inner, &in);
	else
		in = inner;
	if (c->mangle)
		c->mangle(&in);
	want = c->expect == DECAP_STAT_DECAPSULATED ? &inner : &in;

	read_stats(skel, before);
	memset(out, 0xa5, sizeof(out));
	len = run(skel, &in, out, sizeof(out), c->what);
	read_stats(skel, after);

	cr_assert_eq(len, (__u32)want->len, "%s: output %u bytes, want %d (%s)", c->what,
		     len, want->len, want == &inner ? "the inner frame" : "unchanged");
	cr_assert_arr_eq(out, want->buf, want->len, "%s: output differs from %s", c->what,
			 want == &inner ? "the inner frame" : "the input");
	for (i = 0; i < DECAP_STAT__MAX; i++)
		cr_assert_eq(after[i] - before[i], i == c->expect,
			     "%s: %s went up by %llu", c->what, stat_names[i],
			     (unsigned long long)(after[i] - before[i]));
}

Test(decap, each_frame_is_decapsulated_exactly_or_passed_untouched_and_counted_once)
{
	struct decap *skel = load();
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(skel, &cases[i]);
	decap__destroy(skel);
}

Test(decap, a_balancer_removed_from_the_allowlist_can_no_longer_tunnel)
{
	struct decap *skel = load();
	struct decap_key key = { .family = AF_INET };
	struct decap_case c = { "IPv4-in-IPv4 from the balancer", AF_INET, AF_INET,
				.expect = DECAP_STAT_DECAPSULATED };

	check_case(skel, &c);
	addr(AF_INET, LB4, key.addr);
	cr_assert_eq(bpf_map__delete_elem(skel->maps.decap_sources, &key, sizeof(key), 0), 0);
	c.what = "IPv4-in-IPv4 after the balancer was removed";
	c.expect = DECAP_STAT_UNKNOWN_SOURCE;
	check_case(skel, &c);
	decap__destroy(skel);
}

Test(decap, counter_indices_match_the_enum_in_the_objects_btf)
{
	struct decap *skel = load();
	const struct btf *btf = bpf_object__btf(skel->obj);
	const struct btf_enum *e;
	const struct btf_type *t;
	int id, i, j, found = 0;

	cr_assert_not_null(btf);
	id = btf__find_by_name_kind(btf, "decap_stat", BTF_KIND_ENUM);
	cr_assert_gt(id, 0, "enum decap_stat must be in the object's BTF");
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++) {
		const char *name = btf__name_by_offset(btf, e[i].name_off);

		if (!strcmp(name, "DECAP_STAT__MAX")) {
			cr_assert_eq(e[i].val, DECAP_STAT__MAX, "counter count");
			continue;
		}
		for (j = 0; j < DECAP_STAT__MAX; j++)
			if (!strcmp(name, stat_names[j]))
				break;
		cr_assert_lt(j, DECAP_STAT__MAX, "%s is not known to the test", name);
		cr_assert_eq(e[i].val, j, "%s is %d in the object, %d here", name, e[i].val, j);
		found++;
	}
	cr_assert_eq(found, DECAP_STAT__MAX);
	cr_assert_eq(bpf_map__max_entries(skel->maps.decap_stats), DECAP_STAT__MAX);
	decap__destroy(skel);
}
