// SPDX-License-Identifier: GPL-2.0
/* xdpgen.bpf.c: the live-frames traffic generator's XDP program, and a counting XDP_DROP sink. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/*
 * tests/tools/xdpgen.c runs xdpgen_tx with BPF_PROG_TEST_RUN in live-frames
 * mode (BPF_F_TEST_XDP_LIVE_FRAMES): the kernel hands it frames from a page
 * pool filled with the template, and every XDP_TX goes out of the
 * generator's interface. The pages come back to the pool after the receivers
 * are done with them, holding whatever those wrote (a balancer's new MACs,
 * an outer header, a decapsulator's moved Ethernet header): the kernel resets
 * only the frame's bounds. So per frame the program first copies the whole
 * template back (found by its length, which the kernel does reset), then
 * writes the Call-ID number (8 lowercase hex digits) where the template says,
 * optionally a random source address out of a prefix, and fixes the IPv4
 * header checksum and, if the template has one (non-zero), the UDP checksum,
 * incrementally from the template's.
 *
 * Template contract (xdpgen.c fills the map): Ethernet + IPv4 without
 * options + UDP, 1 to TMPL_FRAME_MAX bytes, lengths distinct; the digits
 * (if digits_off is not 0) lie an even number of bytes past the UDP header,
 * so they are whole 16-bit checksum words.
 */

#define TMPL_MAX 4
#define TMPL_FRAME_MAX 2048	/* a power of two */

struct tmpl {
	__u32 len;		/* frame bytes; 0: unused slot */
	__u32 digits_off;	/* offset of the 8 Call-ID digits; 0: none */
	__u8 data[TMPL_FRAME_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TMPL_MAX);
	__type(key, __u32);
	__type(value, struct tmpl);
} templates SEC(".maps");

const volatile __u32 callids = 1;	/* K: Call-ID numbers cycle through 0..K-1 */
const volatile __u32 spoof_base = 0;	/* host order; spoof_mask 0: keep the source */
const volatile __u32 spoof_mask = 0;	/* host bits of the spoofed-source prefix */

struct gen_state {
	__u32 next;		/* next Call-ID number of this CPU */
	__u32 pad;
	__u64 frames;		/* frames sent by this CPU */
	__u64 errors;		/* frames matching no template (dropped) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_state);
} gen_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_count SEC(".maps");

/* RFC 1624: HC' = ~(~HC + ~m + m'), on raw (network order) 16-bit words. */
static __always_inline __u32 csum_add16(__u32 sum, __u16 old, __u16 new)
{
	return sum + (__u16)~old + new;
}

static __always_inline __u16 csum_finish(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* 8 lowercase hex digits of v, first digit in the lowest byte (memory order). */
static __always_inline __u64 hex8(__u32 v)
{
	__u64 out = 0;
	int i;

#pragma unroll
	for (i = 0; i < 8; i++) {
		__u32 d = (v >> (28 - 4 * i)) & 0xf;

		out |= (__u64)(d < 10 ? '0' + d : 'a' - 10 + d) << (8 * i);
	}
	return out;
}

SEC("xdp")
int xdpgen_tx(struct xdp_md *ctx)
{
	__u32 key = 0, len = ctx->data_end - ctx->data, udp_sum, ip_sum, off, n, i;
	struct tmpl *t = NULL;
	struct gen_state *st;
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;
	void *data, *data_end;
	__u16 *w;

	st = bpf_map_lookup_elem(&gen_state, &key);
	if (!st)
		return XDP_DROP;
	for (i = 0; i < TMPL_MAX; i++) {
		t = bpf_map_lookup_elem(&templates, &i);
		if (t && t->len == len)
			break;
		t = NULL;
	}
	/* len in 1..TMPL_FRAME_MAX for the verifier; equal to t->len for a real template */
	if (!t || bpf_xdp_store_bytes(ctx, 0, t->data, ((len - 1) & (TMPL_FRAME_MAX - 1)) + 1)) {
		st->errors++;
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	ip = (void *)(eth + 1);
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end) {
		st->errors++;
		return XDP_DROP;
	}
	udp_sum = (__u16)~udp->check;

	off = t->digits_off & 0x7ff;
	if (off) {
		__u8 *p = data + off;
		__u64 digits;

		if ((void *)(p + 8) > data_end) {
			st->errors++;
			return XDP_DROP;
		}
		n = st->next;
		st->next = n + 1 >= callids ? 0 : n + 1;
		digits = hex8(n);
		w = (__u16 *)p;
#pragma unroll
		for (i = 0; i < 4; i++) {
			__u16 nw = digits >> (16 * i);

			udp_sum = csum_add16(udp_sum, w[i], nw);
			w[i] = nw;
		}
	}
	if (spoof_mask) {
		__u32 src = bpf_htonl(spoof_base | (bpf_get_prandom_u32() & spoof_mask));
		__u16 *o = (__u16 *)&ip->saddr, *s = (__u16 *)&src;

		ip_sum = (__u16)~ip->check;
		ip_sum = csum_add16(ip_sum, o[0], s[0]);
		ip_sum = csum_add16(ip_sum, o[1], s[1]);
		udp_sum = csum_add16(udp_sum, o[0], s[0]);
		udp_sum = csum_add16(udp_sum, o[1], s[1]);
		ip->saddr = src;
		ip->check = csum_finish(ip_sum);
	}
	if (udp->check) {	/* 0: no UDP checksum (IPv4), leave it so */
		__u16 c = csum_finish(udp_sum);

		udp->check = c ? c : 0xffff;
	}
	st->frames++;
	return XDP_TX;
}

/* The link ceiling's receiver: count and drop everything (ARP too). */
SEC("xdp")
int xdpgen_sink(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *c = bpf_map_lookup_elem(&sink_count, &key);

	if (c)
		*c += 1;
	return XDP_DROP;
}

/*
 * A fast path for the testbed's bridge, for benchmarks: a frame whose
 * destination MAC is in switch_fdb is redirected to that port (a veth, whose
 * peer must run XDP), never becoming an skb; anything else (broadcast, ARP,
 * unknown MACs) goes on to the kernel bridge. Attached to the bridge ports by
 * `xdpgen switch`. A real wire costs the balancer nothing; the kernel bridge
 * costs the shared CPUs about 1 us per frame per hop. While switch_cfg[0] is
 * not 0, frames to the MACs marked "sink" are counted (switch_count) and
 * dropped instead: what a balancer sends, counted on the wire, without the
 * receivers' costs on the same CPUs.
 */
struct switch_port {
	__u32 ifindex;
	__u32 sink;		/* 1: counted and dropped while sinking is on */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);	/* MAC in the low 6 bytes (memory order), 0 above */
	__type(value, struct switch_port);
} switch_fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} switch_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} switch_count SEC(".maps");

SEC("xdp")
int xdpgen_switch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct switch_port *port;
	__u32 key = 0, *sinking;
	__u64 mac = 0, *c;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	__builtin_memcpy(&mac, eth->h_dest, ETH_ALEN);
	port = bpf_map_lookup_elem(&switch_fdb, &mac);
	if (!port)
		return XDP_PASS;
	if (port->sink) {
		sinking = bpf_map_lookup_elem(&switch_cfg, &key);
		if (sinking && *sinking) {
			c = bpf_map_lookup_elem(&switch_count, &key);
			if (c)
				*c += 1;
			return XDP_DROP;
		}
	}
	return bpf_redirect(port->ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
