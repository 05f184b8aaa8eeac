/* pkt.h: builds Ethernet/IPv4/IPv6/UDP test frames with correct checksums. */
#ifndef SIPLB_TEST_PKT_H
#define SIPLB_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* Largest frame BPF_PROG_TEST_RUN takes for XDP here (one page less head/tailroom). */
#define PKT_MAX 3500

struct pkt_addrs {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t src_mac[6], dst_mac[6];
	struct in_addr src4, dst4;
	struct in6_addr src6, dst6;
	uint16_t sport, dport;	/* host order */
	uint16_t vlan;		/* 802.1Q VLAN id, 0 for none */
};

/* Frame with payload into buf (size PKT_MAX). Returns its length, or -1 if too big. */
int pkt_build_udp(const struct pkt_addrs *a, const void *payload, size_t len,
		  uint8_t *buf);

/* Internet checksum over len bytes (folded, not inverted). */
uint32_t pkt_csum_add(uint32_t sum, const void *p, size_t len);
uint16_t pkt_csum_fold(uint32_t sum);

/* Fill addrs with the test defaults: client 198.18.0.10:5060 -> VIP 198.18.0.1:5060. */
void pkt_default_addrs(struct pkt_addrs *a, int family);

#endif
