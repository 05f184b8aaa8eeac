/* lb_encap.h: checksum helpers and the IPIP / IP6IP6 / L2 rewrites of a frame in place. */
#ifndef SIPLB_LB_ENCAP_H
#define SIPLB_LB_ENCAP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "siplb_maps.h"

#define SIPLB_OUTER_TTL 64

/* One's-complement sum folded to 16 bits (not inverted). */
static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Header checksum of a 20-byte IPv4 header whose check field is zero. */
static __always_inline __u16 ipv4_csum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)sizeof(*ip) / 2; i++)
		sum += w[i];
	return ~csum_fold(sum);
}

/* Set the Ethernet addresses of the frame at data. */
static __always_inline void set_macs(struct ethhdr *eth, const struct nexthop *nh)
{
	__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
}

/*
 * Grow the frame by outer bytes in front, move the L2 header (l2len bytes:
 * Ethernet, maybe one VLAN tag, kept as it was) to the new front with the
 * next-hop MACs and ethertype proto. Returns the room for the outer header,
 * followed by the inner IP header (both checked to be in the frame), or NULL.
 */
static __always_inline void *encap_push(struct xdp_md *ctx, __u32 l2len, __u32 outer,
					__be16 proto, const struct nexthop *nh)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 vlan = 0;
	void *hdr;

	if (l2len == sizeof(struct ethhdr) + 4) {
		if (data + 18 > data_end)
			return NULL;
		vlan = *(__u32 *)(data + 12);	/* TPID + TCI */
	}
	if (bpf_xdp_adjust_head(ctx, -(int)outer))
		return NULL;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (l2len == sizeof(struct ethhdr) + 4) {
		hdr = data + 18;
		if (hdr + 2 * outer > data_end)
			return NULL;
		*(__u32 *)(data + 12) = vlan;
		*(__be16 *)(data + 16) = proto;
	} else {
		hdr = data + sizeof(struct ethhdr);
		if (hdr + 2 * outer > data_end)
			return NULL;
		((struct ethhdr *)data)->h_proto = proto;
	}
	set_macs(data, nh);
	return hdr;
}

/* Prepend an outer IPv4 header (protocol 4); inner DF and TOS copied out. Returns 0 or -1. */
static __always_inline int encap_ipip4(struct xdp_md *ctx, __u32 l2len,
				       const struct nexthop *nh, __be32 saddr,
				       __be32 daddr)
{
	struct iphdr *outer, *inner;

	outer = encap_push(ctx, l2len, sizeof(*outer), bpf_htons(ETH_P_IP), nh);
	if (!outer)
		return -1;
	inner = outer + 1;
	outer->version = 4;
	outer->ihl = 5;
	outer->tos = inner->tos;
	outer->tot_len = bpf_htons(bpf_ntohs(inner->tot_len) + sizeof(*outer));
	outer->id = 0;
	outer->frag_off = inner->frag_off & bpf_htons(0x4000);	/* DF */
	outer->ttl = SIPLB_OUTER_TTL;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = saddr;
	outer->daddr = daddr;
	outer->check = ipv4_csum(outer);
	return 0;
}

/* Prepend an outer IPv6 header (next header 41). flow is the flow label. Returns 0 or -1. */
static __always_inline int encap_ip6ip6(struct xdp_md *ctx, __u32 l2len,
					const struct nexthop *nh,
					const __be32 *saddr, const __be32 *daddr,
					__u32 flow)
{
	struct ipv6hdr *outer, *inner;

	outer = encap_push(ctx, l2len, sizeof(*outer), bpf_htons(ETH_P_IPV6), nh);
	if (!outer)
		return -1;
	inner = outer + 1;
	/* version 6, the inner traffic class, our flow label */
	*(__be32 *)outer = bpf_htonl(0x60000000 |
				     (bpf_ntohl(*(__be32 *)inner) & 0x0ff00000) |
				     (flow & 0xfffff));
	outer->payload_len = bpf_htons(bpf_ntohs(inner->payload_len) + sizeof(*inner));
	outer->nexthdr = IPPROTO_IPV6;
	outer->hop_limit = SIPLB_OUTER_TTL;
	__builtin_memcpy(&outer->saddr, saddr, 16);
	__builtin_memcpy(&outer->daddr, daddr, 16);
	return 0;
}

#endif /* SIPLB_LB_ENCAP_H */
