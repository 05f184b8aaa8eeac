// SPDX-License-Identifier: GPL-2.0
/* parse_test.bpf.c: runs the shared SIP parser in the kernel so tests can compare it with userspace. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sip_parse.h"
#include "siplb_hash.h"

/* What the kernel build of the parser extracted from the last packet. */
struct parse_result {
	struct sip_msg msg;
	struct sip_via via;
	struct sip_aor aor;
	__u32 payload_off;	/* UDP payload offset in the frame */
	__s32 via_rc;
	__s32 aor_rc;
	__s32 tag_rc;		/* sip_to_tag */
	__u64 callid_hash;	/* keyed hash of the Call-ID value */
};

/* One slot: the test runs one packet at a time. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct parse_result);
} results SEC(".maps");

/* Hash key for the Call-ID, set by the test before load. */
const volatile __u64 hash_k0;
const volatile __u64 hash_k1;

SEC("xdp")
int parse_test(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct parse_result *r;
	__u32 zero = 0, off;

	r = bpf_map_lookup_elem(&results, &zero);
	if (!r)
		return XDP_ABORTED;
	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return XDP_ABORTED;
		off = sizeof(*eth) + ip->ihl * 4 + sizeof(struct udphdr);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		off = sizeof(*eth) + sizeof(struct ipv6hdr) + sizeof(struct udphdr);
	} else {
		return XDP_ABORTED;
	}
	r->payload_off = off;
	sip_scan(ctx, off, &r->msg);
	r->via_rc = sip_via(ctx, off, &r->msg, &r->via);
	r->aor_rc = sip_to_aor(ctx, off, &r->msg, &r->aor);
	r->tag_rc = sip_to_tag(ctx, off, &r->msg);
	r->callid_hash = 0;
	if (r->msg.callid_len)
		r->callid_hash = siplb_hash(ctx, off + r->msg.callid_off,
					    r->msg.callid_len, hash_k0, hash_k1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
