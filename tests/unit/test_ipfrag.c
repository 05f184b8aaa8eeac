// SPDX-License-Identifier: GPL-2.0
/* test_ipfrag.c: inner IPv4/IPv6 packets and fragments for the tunnel (ipfrag.c), reassembled and checked. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <criterion/criterion.h>

#include "ipfrag.h"

struct t_asm {
	__u8 data[70000];	/* reassembled UDP header + payload */
	size_t have, end;
	int packets;
	size_t largest;
	bool v4, last_seen;
};

static int t_collect(void *arg, const void *pkt, size_t len)
{
	struct t_asm *a = arg;
	const __u8 *b = pkt;
	size_t off, h, dlen;
	bool more;

	a->packets++;
	if (len > a->largest)
		a->largest = len;
	if (a->v4) {
		const struct iphdr *ip = pkt;
		__u16 fo = ntohs(ip->frag_off);

		cr_assert_eq(ntohs(ip->tot_len), len);
		cr_assert_eq(ip->protocol, IPPROTO_UDP);
		off = (fo & 0x1fff) * 8u;
		more = fo & IP_MF;
		h = 20;
	} else {
		const struct ip6_hdr *ip6 = pkt;

		cr_assert_eq(ntohs(ip6->ip6_plen) + 40u, len);
		if (ip6->ip6_nxt == IPPROTO_FRAGMENT) {
			const struct ip6_frag *fh = (const void *)(b + 40);
			__u16 ol = ntohs(fh->ip6f_offlg);

			cr_assert_eq(fh->ip6f_nxt, IPPROTO_UDP);
			off = ol & 0xfff8;
			more = ol & 1;
			h = 48;
		} else {
			cr_assert_eq(ip6->ip6_nxt, IPPROTO_UDP);
			off = 0;
			more = false;
			h = 40;
		}
	}
	dlen = len - h;
	cr_assert(more ? dlen % 8 == 0 : true, "a middle fragment holds 8-byte units");
	cr_assert_eq(off, a->have, "fragments in order, no gap");
	memcpy(a->data + off, b + h, dlen);
	a->have = off + dlen;
	if (!more)
		a->last_seen = true;
	return 0;
}

static void t_roundtrip(bool v4, size_t len, size_t max_pkt, int want_packets)
{
	static struct t_asm a;
	static __u8 payload[65507];
	struct ipfrag_flow f = { .sport = 40000, .dport = 5060, .id = 77, .ttl = 64 };
	const struct udphdr *u;
	size_t i;
	int n;

	memset(&a, 0, sizeof(a));
	a.v4 = v4;
	f.src.family = f.dst.family = v4 ? AF_INET : AF_INET6;
	inet_pton(f.src.family, v4 ? "198.18.0.100" : "2001:db8::100", f.src.addr);
	inet_pton(f.src.family, v4 ? "198.18.2.10" : "2001:db8:2::10", f.dst.addr);
	for (i = 0; i < len; i++)
		payload[i] = (__u8)(i * 7 + 3);
	n = ipfrag_build(&f, payload, len, max_pkt, t_collect, &a);
	cr_assert_eq(n, want_packets);
	cr_assert_eq(a.packets, want_packets);
	cr_assert(a.last_seen);
	cr_assert_leq(a.largest, max_pkt);
	cr_assert_eq(a.have, len + 8);
	u = (const void *)a.data;
	cr_assert_eq(ntohs(u->len), len + 8);
	cr_assert_eq(ntohs(u->dest), 5060);
	cr_assert_eq(memcmp(a.data + 8, payload, len), 0, "payload reassembles whole");
	cr_assert_eq(u->check, ipfrag_udp_csum(&f, payload, len));
}

Test(ipfrag, small_datagram_is_one_whole_ipv4_packet)
{
	t_roundtrip(true, 500, 1480, 1);
}

Test(ipfrag, invite_of_4000_bytes_becomes_three_ipv4_fragments_that_fit)
{
	/* MTU 1500 less the outer IPv4 header: 1480; 1456 data bytes each */
	t_roundtrip(true, 4000, 1480, 3);
}

Test(ipfrag, invite_of_4000_bytes_becomes_ipv6_fragments_that_fit)
{
	/* MTU 1500 less the outer IPv6 header: 1460; 1408 data bytes each */
	t_roundtrip(false, 4000, 1460, 3);
}

Test(ipfrag, largest_datagram_and_one_byte_more)
{
	static const __u8 p[65508];
	struct ipfrag_flow f = { .sport = 1, .dport = 2 };

	t_roundtrip(true, 65507, 1480, 45);
	f.src.family = f.dst.family = AF_INET;
	cr_assert_eq(ipfrag_build(&f, p, 65508, 1480, t_collect, NULL), -EMSGSIZE);
}

Test(ipfrag, checksum_of_a_known_datagram)
{
	/* 198.18.0.1:1000 -> 198.18.0.2:2000, payload "ab": computed by hand */
	struct ipfrag_flow f = { .sport = 1000, .dport = 2000 };
	__u32 sum;

	f.src.family = f.dst.family = AF_INET;
	inet_pton(AF_INET, "198.18.0.1", f.src.addr);
	inet_pton(AF_INET, "198.18.0.2", f.dst.addr);
	sum = 0xc612 + 0x0001 + 0xc612 + 0x0002 + 17 + 10 + 1000 + 2000 + 10 + 0x6162;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	cr_assert_eq(ntohs(ipfrag_udp_csum(&f, "ab", 2)), (__u16)~sum);
}
