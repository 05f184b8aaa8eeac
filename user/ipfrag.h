/* ipfrag.h: a UDP datagram as IPv4 or IPv6 packets for the tunnel, fragmented to fit (pure, no sockets). */
#ifndef SIPLB_IPFRAG_H
#define SIPLB_IPFRAG_H

/*
 * siplbd's slow path and relay hand packets to backends the way XDP does:
 * the client's (or the relay's) UDP datagram to the VIP, whole, inside an
 * outer IPv4/IPv6 header that the kernel adds (a raw IPPROTO_IPIP or
 * IPPROTO_IPV6 socket). When the inner packet plus the outer header would
 * not fit the MTU, the inner packet is fragmented here, so every outer
 * packet fits and the backend's decapsulator (bpf/decap.bpf.c, which passes
 * outer fragments untouched) strips each one; the backend's stack then
 * reassembles the inner datagram.
 */

#include <stddef.h>
#include <linux/types.h>

#include "config.h"

/* Largest UDP payload in one IPv4 datagram. */
#define IPFRAG_MAX_PAYLOAD 65507u

struct ipfrag_flow {
	struct siplb_cfg_addr src, dst;	/* inner addresses, same family */
	__u16 sport, dport;		/* host order */
	__u32 id;			/* IPv4 id (low 16 bits) or IPv6 fragment id */
	__u8 tos;			/* IPv4 TOS / IPv6 traffic class */
	__u8 ttl;			/* IPv4 TTL / IPv6 hop limit */
};

/* Called once per packet in order; a nonzero return stops and is returned. */
typedef int (*ipfrag_emit_fn)(void *arg, const void *pkt, size_t len);

/*
 * Build the inner packet(s) of UDP payload p[0..len) for flow f, each at
 * most max_pkt bytes (the MTU less the outer header), and emit them.
 * Returns the number of packets, or -EMSGSIZE (payload too large),
 * -EINVAL (max_pkt too small), or what emit returned.
 */
int ipfrag_build(const struct ipfrag_flow *f, const void *p, size_t len, size_t max_pkt,
		 ipfrag_emit_fn emit, void *arg);

/* The UDP checksum of payload p with the pseudo header of f (network order). */
__u16 ipfrag_udp_csum(const struct ipfrag_flow *f, const void *p, size_t len);

#endif /* SIPLB_IPFRAG_H */
