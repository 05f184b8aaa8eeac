// SPDX-License-Identifier: GPL-2.0
/* decap.bpf.c: backend-side XDP decapsulator for siplb's IPv4-in-IPv4 and IPv6-in-IPv6 packets. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "siplb_maps.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

#define IP_MF 0x2000		/* more fragments (host order, of frag_off) */
#define IP_OFFSET 0x1fff	/* fragment offset in 8-byte units (host order) */
#define IP6_MAX_EXT 2		/* extension headers skipped before the inner packet */

#ifndef DECAP_MAX_SOURCES
#define DECAP_MAX_SOURCES 256	/* balancer addresses allowed to tunnel to this backend */
#endif

/* Balancers allowed to tunnel to us: nobody else may inject packets to the VIP. Value 1. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DECAP_MAX_SOURCES);
	__type(key, struct decap_key);
	__type(value, __u32);
} decap_sources SEC(".maps");

/* Packets per enum decap_stat, kept per CPU: no atomics on the hot path. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DECAP_STAT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} decap_stats SEC(".maps");

/* The link-layer header kept in front of the inner packet. */
struct l2hdr {
	struct ethhdr eth;
	__be16 vlan_tci;	/* 802.1Q tag control, when tagged */
	__be16 vlan_proto;	/* ethertype after the tag, when tagged */
};

/* Where the outer header lies and what follows it. */
struct outer {
	__u32 l2len;		/* Ethernet header, plus 4 with an 802.1Q tag */
	__u32 len;		/* outer IP header and its extension headers, bytes */
	__be16 inner_proto;	/* ethertype of the inner packet, network order */
};

static int source_allowed(const __be32 *addr, __u8 family)
{
	struct decap_key key = { .family = family };

	key.addr[0] = addr[0];
	if (family == AF_INET6) {
		key.addr[1] = addr[1];
		key.addr[2] = addr[2];
		key.addr[3] = addr[3];
	}
	return bpf_map_lookup_elem(&decap_sources, &key) != NULL;
}

/* Is a whole inner header of the family that next (an IPPROTO_*) names at p? */
static int inner_ok(const __u8 *p, const void *data_end, __u8 next, __u32 room)
{
	if (next == IPPROTO_IPIP)
		return room >= sizeof(struct iphdr) &&
		       p + sizeof(struct iphdr) <= (const __u8 *)data_end &&
		       (p[0] >> 4) == 4 && (p[0] & 0xf) >= 5;
	return room >= sizeof(struct ipv6hdr) &&
	       p + sizeof(struct ipv6hdr) <= (const __u8 *)data_end &&
	       (p[0] >> 4) == 6;
}

/* Ones' complement sum of an IPv4 header of ihl words: 0xffff when intact. */
static __u16 ip_csum_sum(const __u32 *w, const void *data_end, __u32 ihl)
{
	__u64 sum = 0;
	__u32 i;

	for (i = 0; i < 15; i++) {
		if (i >= ihl || (const void *)(w + i + 1) > data_end)
			break;
		sum += w[i];
	}
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/*
 * Checks an outer IPv4 header at ip; fills o.
 * Returns a decap_stat, DECAP_STAT__MAX if a tunnel to strip.
 */
static enum decap_stat outer_ipv4(struct iphdr *ip, void *data_end, struct outer *o)
{
	__u32 hlen, tot;

	if ((void *)(ip + 1) > data_end)
		return DECAP_STAT_MALFORMED;
	if (ip->protocol != IPPROTO_IPIP && ip->protocol != IPPROTO_IPV6)
		return DECAP_STAT_NOT_TUNNEL;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (ip->version != 4 || hlen < sizeof(*ip) || tot < hlen ||
	    (void *)ip + tot > data_end)
		return DECAP_STAT_MALFORMED;
	if (ip_csum_sum((__u32 *)ip, data_end, ip->ihl) != 0xffff)
		return DECAP_STAT_MALFORMED;
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return DECAP_STAT_FRAGMENT;
	if (!inner_ok((__u8 *)ip + hlen, data_end, ip->protocol, tot - hlen))
		return DECAP_STAT_MALFORMED;
	if (!source_allowed(&ip->saddr, AF_INET))
		return DECAP_STAT_UNKNOWN_SOURCE;
	o->len = hlen;
	o->inner_proto = ip->protocol == IPPROTO_IPIP ? bpf_htons(ETH_P_IP)
						       : bpf_htons(ETH_P_IPV6);
	return DECAP_STAT__MAX;
}

/*
 * Checks an outer IPv6 header at ip6; fills o. Skips hop-by-hop and
 * destination options (Linux ip6tnl adds a tunnel encapsulation limit).
 * Returns a decap_stat, DECAP_STAT__MAX if a tunnel to strip.
 */
static enum decap_stat outer_ipv6(struct ipv6hdr *ip6, void *data_end, struct outer *o)
{
	__u8 *p = (__u8 *)(ip6 + 1);
	__u32 len, plen, i;
	__u8 next;

	if ((void *)(ip6 + 1) > data_end)
		return DECAP_STAT_MALFORMED;
	next = ip6->nexthdr;
	len = sizeof(*ip6);
	for (i = 0; i < IP6_MAX_EXT; i++) {
		struct ipv6_opt_hdr *ext = (void *)p;

		if (next != IPPROTO_HOPOPTS && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_FRAGMENT)
			break;
		if ((void *)(ext + 1) > data_end)
			return DECAP_STAT_MALFORMED;
		if (next == IPPROTO_FRAGMENT)	/* fragment header: 8 bytes */
			return ext->nexthdr == IPPROTO_IPV6 || ext->nexthdr == IPPROTO_IPIP ?
			       DECAP_STAT_FRAGMENT : DECAP_STAT_NOT_TUNNEL;
		next = ext->nexthdr;
		len += (ext->hdrlen + 1) * 8;
		p += (ext->hdrlen + 1) * 8;
	}
	if (next != IPPROTO_IPV6 && next != IPPROTO_IPIP)
		return DECAP_STAT_NOT_TUNNEL;
	plen = bpf_ntohs(ip6->payload_len);
	if (ip6->version != 6 || sizeof(*ip6) + plen < len ||
	    (void *)(ip6 + 1) + plen > data_end)
		return DECAP_STAT_MALFORMED;
	if (!inner_ok(p, data_end, next, sizeof(*ip6) + plen - len))
		return DECAP_STAT_MALFORMED;
	if (!source_allowed(ip6->saddr.in6_u.u6_addr32, AF_INET6))
		return DECAP_STAT_UNKNOWN_SOURCE;
	o->len = len;
	o->inner_proto = next == IPPROTO_IPV6 ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP);
	return DECAP_STAT__MAX;
}

/*
 * Strips the outer header of a tunnel packet from an allowed source and
 * returns what it did. Not inlined: a plain BPF-to-BPF call, which also puts
 * enum decap_stat into the object's BTF for the tests and tools to read.
 */
static __noinline enum decap_stat decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct outer o = { .l2len = sizeof(*eth) };
	struct l2hdr l2;
	enum decap_stat st;
	__be16 proto;

	if ((void *)(eth + 1) > data_end)
		return DECAP_STAT_NOT_TUNNEL;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct l2hdr *tagged = data;

		if ((void *)(tagged + 1) > data_end)
			return DECAP_STAT_NOT_TUNNEL;
		proto = tagged->vlan_proto;
		o.l2len = sizeof(*tagged);
	}
	if (proto == bpf_htons(ETH_P_IP))
		st = outer_ipv4(data + o.l2len, data_end, &o);
	else if (proto == bpf_htons(ETH_P_IPV6))
		st = outer_ipv6(data + o.l2len, data_end, &o);
	else
		return DECAP_STAT_NOT_TUNNEL;
	if (st != DECAP_STAT__MAX)
		return st;

	/* Keep the link-layer header, with the inner packet's ethertype. */
	if (data + sizeof(l2) > data_end)
		return DECAP_STAT_MALFORMED;
	__builtin_memcpy(&l2, data, sizeof(l2));
	if (o.l2len == sizeof(l2))
		l2.vlan_proto = o.inner_proto;
	else
		l2.eth.h_proto = o.inner_proto;
	/* Cannot fail: the inner IP header (20 bytes or more) stays in the frame. */
	if (bpf_xdp_adjust_head(ctx, o.len))
		return DECAP_STAT_MALFORMED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(l2) > data_end)
		return DECAP_STAT_MALFORMED;
	if (o.l2len == sizeof(l2))
		__builtin_memcpy(data, &l2, sizeof(l2));
	else
		__builtin_memcpy(data, &l2.eth, sizeof(l2.eth));
	return DECAP_STAT_DECAPSULATED;
}

SEC("xdp")
int siplb_decap(struct xdp_md *ctx)
{
	__u32 idx = decap(ctx);
	__u64 *n;

	/* Never drops: whatever is not ours is the kernel's to judge. */
	n = bpf_map_lookup_elem(&decap_stats, &idx);
	if (n)
		*n += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
