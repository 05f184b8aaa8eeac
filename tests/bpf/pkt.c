// SPDX-License-Identifier: GPL-2.0
/* pkt.c: test frame builder. */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <string.h>

#include "pkt.h"

uint32_t pkt_csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

uint16_t pkt_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

void pkt_default_addrs(struct pkt_addrs *a, int family)
{
	static const uint8_t cmac[6] = { 0x02, 0, 0, 0, 0, 0x10 };
	static const uint8_t lmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->src_mac, cmac, 6);
	memcpy(a->dst_mac, lmac, 6);
	inet_pton(AF_INET, "198.18.0.10", &a->src4);
	inet_pton(AF_INET, "198.18.0.1", &a->dst4);
	inet_pton(AF_INET6, "2001:db8::10", &a->src6);
	inet_pton(AF_INET6, "2001:db8::1", &a->dst6);
	a->sport = 5060;
	a->dport = 5060;
}

int pkt_build_udp(const struct pkt_addrs *a, const void *payload, size_t len,
		  uint8_t *buf)
{
	size_t l3 = a->family == AF_INET ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	size_t l2 = sizeof(struct ethhdr) + (a->vlan ? 4 : 0);
	size_t total = l2 + l3 + sizeof(struct udphdr) + len;
	struct ethhdr *eth = (struct ethhdr *)buf;
	struct udphdr *udp = (struct udphdr *)(buf + l2 + l3);
	uint16_t proto = a->family == AF_INET ? ETH_P_IP : ETH_P_IPV6;
	uint32_t sum;

	if (total > PKT_MAX)
		return -1;
	memset(buf, 0, total);
	memcpy(eth->h_dest, a->dst_mac, 6);
	memcpy(eth->h_source, a->src_mac, 6);
	if (a->vlan) {
		eth->h_proto = htons(ETH_P_8021Q);
		buf[14] = (a->vlan >> 8) & 0x0f;
		buf[15] = a->vlan & 0xff;
		buf[16] = proto >> 8;
		buf[17] = proto & 0xff;
	} else {
		eth->h_proto = htons(proto);
	}
	udp->source = htons(a->sport);
	udp->dest = htons(a->dport);
	udp->len = htons(sizeof(*udp) + len);
	memcpy(udp + 1, payload, len);

	if (a->family == AF_INET) {
		struct iphdr *ip = (struct iphdr *)(buf + l2);

		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->tot_len = htons(l3 + sizeof(*udp) + len);
		ip->frag_off = htons(0x4000);	/* DF */
		ip->saddr = a->src4.s_addr;
		ip->daddr = a->dst4.s_addr;
		ip->check = htons(~pkt_csum_fold(pkt_csum_add(0, ip, sizeof(*ip))));
		sum = pkt_csum_add(0, &ip->saddr, 8);
		sum += IPPROTO_UDP + sizeof(*udp) + len;
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(buf + l2);

		ip6->version = 6;
		ip6->hop_limit = 64;
		ip6->nexthdr = IPPROTO_UDP;
		ip6->payload_len = htons(sizeof(*udp) + len);
		ip6->saddr = a->src6;
		ip6->daddr = a->dst6;
		sum = pkt_csum_add(0, &ip6->saddr, 32);
		sum += IPPROTO_UDP + sizeof(*udp) + len;
	}
	sum = pkt_csum_add(sum, udp, sizeof(*udp) + len);
	udp->check = htons(~pkt_csum_fold(sum));
	if (!udp->check)
		udp->check = 0xffff;
	return (int)total;
}
