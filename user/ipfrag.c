// SPDX-License-Identifier: GPL-2.0
/* ipfrag.c: a UDP datagram as IPv4 or IPv6 packets, fragmented to fit (see ipfrag.h). */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>

#include "ipfrag.h"

/* Largest packet built here: an IPv6 header, a fragment header and 64 KiB. */
#define PKT_MAX (40 + 8 + 65536)

static __u32 sum16(const void *p, size_t len, __u32 sum)
{
	const __u8 *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (__u32)b[len - 1] << 8;
	return sum;
}

static __u16 fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

__u16 ipfrag_udp_csum(const struct ipfrag_flow *f, const void *p, size_t len)
{
	size_t alen = f->src.family == AF_INET ? 4 : 16;
	__u32 ulen = (__u32)len + 8, sum = 0;
	__u8 hdr[8];
	__u16 c;

	sum = sum16(f->src.addr, alen, sum);
	sum = sum16(f->dst.addr, alen, sum);
	sum += IPPROTO_UDP;
	sum += ulen >> 16;
	sum += ulen & 0xffff;
	hdr[0] = (__u8)(f->sport >> 8);
	hdr[1] = (__u8)f->sport;
	hdr[2] = (__u8)(f->dport >> 8);
	hdr[3] = (__u8)f->dport;
	hdr[4] = (__u8)(ulen >> 8);
	hdr[5] = (__u8)ulen;
	hdr[6] = 0;
	hdr[7] = 0;
	sum = sum16(hdr, 8, sum);
	sum = sum16(p, len, sum);
	c = fold(sum);
	return htons(c ? c : 0xffff);
}

int ipfrag_build(const struct ipfrag_flow *f, const void *p, size_t len, size_t max_pkt,
		 ipfrag_emit_fn emit, void *arg)
{
	static __u8 pkt[PKT_MAX];
	bool v4 = f->src.family == AF_INET;
	size_t iph = v4 ? sizeof(struct iphdr) : sizeof(struct ip6_hdr);
	size_t total = 8 + len, off = 0, chunk, n;
	struct udphdr udp;
	int count = 0, r;

	if (len > IPFRAG_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (max_pkt < iph + 8 + 8 + 8)
		return -EINVAL;
	udp.source = htons(f->sport);
	udp.dest = htons(f->dport);
	udp.len = htons((__u16)total);
	udp.check = ipfrag_udp_csum(f, p, len);
	if (iph + total <= max_pkt)
		chunk = total;			/* one whole packet */
	else
		chunk = (max_pkt - iph - (v4 ? 0 : 8)) & ~(size_t)7;
	while (off < total) {
		bool frag = chunk < total, more;
		size_t h = iph + (frag && !v4 ? 8 : 0), dlen, ulen_in, at;

		n = total - off < chunk ? total - off : chunk;
		more = off + n < total;
		if (v4) {
			struct iphdr ip = {
				.ihl = 5, .version = 4, .tos = f->tos,
				.tot_len = htons((__u16)(h + n)),
				.id = htons((__u16)f->id),
				.frag_off = htons((__u16)((more ? IP_MF : 0) | (off >> 3))),
				.ttl = f->ttl, .protocol = IPPROTO_UDP,
				.saddr = f->src.addr[0], .daddr = f->dst.addr[0],
			};

			ip.check = htons(fold(sum16(&ip, sizeof(ip), 0)));
			memcpy(pkt, &ip, sizeof(ip));
		} else {
			struct ip6_hdr ip6 = {};

			ip6.ip6_flow = htonl(6u << 28 | (__u32)f->tos << 20);
			ip6.ip6_plen = htons((__u16)(h - iph + n));
			ip6.ip6_nxt = frag ? IPPROTO_FRAGMENT : IPPROTO_UDP;
			ip6.ip6_hlim = f->ttl;
			memcpy(&ip6.ip6_src, f->src.addr, 16);
			memcpy(&ip6.ip6_dst, f->dst.addr, 16);
			memcpy(pkt, &ip6, sizeof(ip6));
			if (frag) {
				struct ip6_frag fh = {
					.ip6f_nxt = IPPROTO_UDP,
					.ip6f_offlg = htons((__u16)(off | (more ? 1 : 0))),
					.ip6f_ident = htonl(f->id),
				};

				memcpy(pkt + iph, &fh, sizeof(fh));
			}
		}
		/* the data of this piece: part of the UDP header and/or payload */
		dlen = 0;
		at = h;
		if (off < 8) {
			ulen_in = 8 - off < n ? 8 - off : n;
			memcpy(pkt + at, (const __u8 *)&udp + off, ulen_in);
			at += ulen_in;
			dlen = ulen_in;
		}
		if (n > dlen)
			memcpy(pkt + at, (const __u8 *)p + (off + dlen - 8), n - dlen);
		r = emit(arg, pkt, h + n);
		if (r)
			return r;
		count++;
		off += n;
	}
	return count;
}
