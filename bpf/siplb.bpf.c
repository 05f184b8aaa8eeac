// SPDX-License-Identifier: GPL-2.0
/* siplb.bpf.c: the XDP balancer: parse SIP, steer each dialog to one backend, forward by IPIP or L2. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sip_parse.h"
#include "siplb_hash.h"
#include "siplb_maps.h"
#include "lb_maps.h"
#include "lb_encap.h"
#include "lb_clock.h"
#include "lb_dos.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/*
 * Benchmarks only (make bench): BPF_PROG_TEST_RUN with a repeat count runs
 * the program again on the frame it has just rewritten, so after
 * encapsulating, take the outer header off again to leave the input as it
 * was. Set before load; false in siplbd, where the verifier removes the code.
 */
const volatile bool bench_undo_encap = false;

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_DEST 60

static __always_inline void count(void *map, __u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(map, &idx);

	if (c)
		*c += 1;
}

static __always_inline void count_traffic(void *map, __u32 idx, __u32 bytes)
{
	struct traffic *t = bpf_map_lookup_elem(map, &idx);

	if (t) {
		t->packets++;
		t->bytes += bytes;
	}
}

static __always_inline int drop(__u32 reason)
{
	count(&drop_stats, reason);
	return XDP_DROP;
}

static __always_inline int slow(__u32 reason)
{
	count(&slow_stats, reason);
	return XDP_PASS;
}

/* Is this address a VIP at all (its port-0 entry)? For packets without a UDP port. */
static __always_inline int is_vip_addr(struct vip_key *k)
{
	k->port = 0;
	k->proto = IPPROTO_UDP;
	return bpf_map_lookup_elem(&vips, k) != NULL;
}

/*
 * The vips value of a (address, port) key: from vip_index (array lookups,
 * inlined by the verifier: no helper call), else from the vips hash. The
 * index copy is rewritten in place, so the fields read later for this packet
 * may mix two successive versions of it; siplbd orders its writes so that
 * every mix names complete tables of this VIP (lb_maglev_publish_window(),
 * docs/architecture.md). used is read before the key: a slot is filled with
 * used 0 and only then marked used, and a delete clears only used.
 */
static __always_inline struct vip_info *vip_lookup(const struct vip_key *k)
{
	__u32 base = siplb_vip_slot(k), i, idx, tail, stail;
	struct vip_slot *s;

	__builtin_memcpy(&tail, &k->port, sizeof(tail));
#pragma unroll
	for (i = 0; i < SIPLB_VIP_PROBES; i++) {
		idx = (base + i) & (SIPLB_VIP_INDEX_SLOTS - 1);
		s = bpf_map_lookup_elem(&vip_index, &idx);
		if (!s)
			break;
		if (!*(volatile __u32 *)&s->used)
			continue;
		asm volatile("" ::: "memory");
		__builtin_memcpy(&stail, &s->key.port, sizeof(stail));
		if (s->key.addr[0] == k->addr[0] && stail == tail &&
		    s->key.addr[1] == k->addr[1] && s->key.addr[2] == k->addr[2] &&
		    s->key.addr[3] == k->addr[3])
			return &s->info;
	}
	return bpf_map_lookup_elem(&vips, k);
}

/* What the L2/L3 parse found about a packet for a VIP. */
struct pkt_meta {
	__u32 l2len;		/* Ethernet header, with its VLAN tag if any */
	__u32 off;		/* UDP payload offset in the frame */
	__u32 ip_len;		/* IP packet length (header + payload) */
	__u8 family;
	__be32 src[2];		/* IPv4 source in src[0], or the IPv6 source's /64 */
};

/* Backend id in slot h of the VIP's table generation gen, or SIPLB_NO_BACKEND. */
static __always_inline __u32 maglev_pick(const struct vip_info *vi,
					 const struct siplb_config *cfg,
					 __u32 gen, __u32 slot)
{
	__u32 idx = siplb_maglev_index(vi->vip_id, gen & (SIPLB_MAGLEV_GENS - 1),
				       cfg->maglev_size, slot);
	__u32 *id = bpf_map_lookup_elem(&maglev, &idx);

	return id ? *id : SIPLB_NO_BACKEND;
}

/* Is backend id one of this VIP's and not down? */
static __always_inline bool usable(const struct vip_info *vi, __u32 id)
{
	struct backend *be = bpf_map_lookup_elem(&backends, &id);

	return be && be->family && be->vip_id == vi->vip_id &&
	       be->state != SIPLB_BE_DOWN;
}

/*
 * An in-dialog request that no affinity entry places (another instance saw
 * its dialog begin, or this one lost the entry): the oldest generation still
 * within the dialog window whose pick is not down, so a dialog that began
 * before a drain or scale-up stays where it began. The live generation last.
 * Every instance computes the same function of the key, the generations and
 * the backend states. Rule and limits: docs/architecture.md.
 */
static __always_inline __u32 pick_in_dialog(const struct vip_info *vi,
					    const struct siplb_config *cfg,
					    __u32 slot, __u32 now, bool *older)
{
	__u32 i, g, id, live = vi->gen & (SIPLB_MAGLEV_GENS - 1);

	for (i = 1; i < SIPLB_MAGLEV_GENS; i++) {
		g = (live + i) & (SIPLB_MAGLEV_GENS - 1);
		/* an empty generation, or one whose window has passed */
		if (vi->gen_until[g] <= now)
			continue;
		id = maglev_pick(vi, cfg, g, slot);
		if (id != SIPLB_NO_BACKEND && usable(vi, id)) {
			count(&event_stats, SIPLB_EV_IN_DIALOG_GEN);
			*older = true;
			return id;
		}
	}
	return maglev_pick(vi, cfg, live, slot);
}

/* steer() found a response for no known dialog and the VIP drops those. */
#define STEER_UNKNOWN 0xfffffffeu

/*
 * Choose the backend for a SIP message of a VIP. Returns the backend id, or
 * SIPLB_NO_BACKEND with *verdict set to the XDP action already counted.
 */
static __always_inline __u32 steer(struct xdp_md *ctx, const struct vip_info *vi,
				   const struct siplb_config *cfg,
				   const struct vip_policy *pol,
				   __u32 cls, /* enum siplb_class; __MAX: not worked out yet */
				   int tag, /* To tag: 1, 0, or -1: not looked for yet */
				   struct sip_msg *m, __u32 off, __u64 *hash)
{
	__u32 key_off = off + m->callid_off, key_len = m->callid_len;
	struct affinity *aff, fresh;
	struct backend *be;
	__u32 id, now, slot;
	__u64 h, akey, now_ns;
	bool older = false;

	if (m->method == SIP_METHOD_REGISTER && vi->reg_key == SIPLB_REGKEY_AOR) {
		struct sip_aor a;

		if (sip_to_aor(ctx, off, m, &a) == 0 && a.len) {
			key_off = off + a.off;
			key_len = a.len;
			count(&event_stats, SIPLB_EV_KEY_AOR);
		}
	}
	h = siplb_hash_inline(ctx, key_off, key_len, cfg->hash_k0, cfg->hash_k1);
	*hash = h;
	akey = h ^ ((__u64)vi->vip_id * SIPLB_VIP_MIX);
	now_ns = lb_now_ns(cfg);
	now = now_ns >> 30;

	aff = bpf_map_lookup_elem(&affinity, &akey);
	if (aff) {
		id = aff->backend;
		be = bpf_map_lookup_elem(&backends, &id);
		/* signed: siplbd's stamp may be a unit ahead of this clock */
		if (cfg->idle_units && (__s32)(now - aff->seen) > (__s32)cfg->idle_units) {
			count(&event_stats, SIPLB_EV_IDLE_EXPIRED);
		} else if (be && be->state != SIPLB_BE_DOWN) {
			if (be->state == SIPLB_BE_DRAINING)
				count(&event_stats, SIPLB_EV_KEEP_DRAINING);
			/* write only when the second changes: the line stays shared */
			if (aff->seen != now)
				aff->seen = now;
			count(&event_stats, SIPLB_EV_AFFINITY_HIT);
			return id;
		} else {
			count(&event_stats, SIPLB_EV_REPICK_DOWN);
		}
	}

	if (!aff && m->kind == SIP_KIND_RESPONSE &&
	    (pol->flags & SIPLB_POL_F_DROP_UNKNOWN_RESP))
		return STEER_UNKNOWN;
	if (!vi->up || !cfg->maglev_size)
		return SIPLB_NO_BACKEND;
	slot = h % cfg->maglev_size;
	/*
	 * Only now, with no affinity entry: is there a To tag? An entry whose
	 * backend went down (or idled out) says where the dialog was, so it
	 * moves by the live table, never to an older generation's pick (which
	 * could be a draining backend the dialog never saw).
	 */
	if (!aff && tag < 0)
		tag = dos_to_tag(ctx, off, m);
	if (!aff && tag && m->kind == SIP_KIND_REQUEST)
		id = pick_in_dialog(vi, cfg, slot, now, &older);
	else
		id = maglev_pick(vi, cfg, vi->gen, slot);
	be = bpf_map_lookup_elem(&backends, &id);
	if (!be || be->state == SIPLB_BE_DOWN)
		return SIPLB_NO_BACKEND;
	count(&event_stats, SIPLB_EV_MAGLEV_PICK);

	/*
	 * Remember where a message went when it begins a dialog here or tells
	 * this instance about one (each new entry within this CPU's budget of
	 * aff_new_max a second): a dialog-creating request (it has passed the
	 * rate limits); a response with a To tag (the callee's side of a dialog
	 * often reaches another instance than the caller's); an in-dialog
	 * request that an earlier generation placed. And where an entry that
	 * idled out or pointed at a down backend moves to. Anything else for an
	 * unknown dialog only follows the table: a flood of fresh Call-IDs in
	 * BYEs or untagged responses creates nothing, and above aff_new_max
	 * nothing new is recorded at all. Rule: docs/architecture.md.
	 */
	if (!aff && cls == SIPLB_CLASS__MAX)
		cls = dos_class(ctx, off, m, &tag);
	if (aff || older || (m->kind == SIP_KIND_RESPONSE && tag) ||
	    (cls == SIPLB_CLASS_DIALOG && m->kind == SIP_KIND_REQUEST)) {
		if (!aff && !dos_aff_budget(cfg, now_ns)) {
			count(&event_stats, SIPLB_EV_AFFINITY_CAPPED);
			return id;
		}
		fresh.backend = id;
		fresh.seen = now;
		bpf_map_update_elem(&affinity, &akey, &fresh, BPF_ANY);
		count(&event_stats, SIPLB_EV_AFFINITY_NEW);
	} else {
		count(&event_stats, SIPLB_EV_NOT_RECORDED);
	}
	return id;
}

/* Benchmarks only: drop the outer header again (see bench_undo_encap). Inline:
 * a BPF call would add its own ~9 ns to every figure; siplbd never has it. */
static __always_inline int bench_decap(struct xdp_md *ctx, struct pkt_meta *pm)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 outer = pm->family == AF_INET ? sizeof(struct iphdr) :
					      sizeof(struct ipv6hdr);
	struct ethhdr eth;

	if (data + sizeof(eth) > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(&eth, data, sizeof(eth));
	if (bpf_xdp_adjust_head(ctx, outer))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(eth) > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(data, &eth, sizeof(eth));
	return XDP_TX;
}

/* Parse, steer and forward one UDP packet to a VIP. */
static __always_inline int balance(struct xdp_md *ctx, const struct vip_info *vi,
				   const struct siplb_config *cfg, struct pkt_meta *pm)
{
	const struct vip_policy *pol;
	const struct nexthop *nh;
	const struct backend *be;
	struct sip_msg m;
	struct src_key sk;
	__u32 id, vip_id = vi->vip_id, cls, why;
	__u64 h = 0;
	int verdict, err, tag = -1;

	pol = bpf_map_lookup_elem(&vip_policy, &vip_id);
	if (!pol)
		return XDP_PASS;
	if (pol->max_len && pm->l2len + pm->ip_len - pm->off > pol->max_len)
		return drop(SIPLB_DROP_OVERSIZED);

	verdict = sip_scan(ctx, pm->off, &m);
	if (verdict == SIP_VERDICT_DROP)
		return drop(m.reason);
	if (verdict == SIP_VERDICT_SLOW)
		return slow(m.reason);

	/* the class costs a look at the To value: only when a limit or the
	 * scanner check needs it now, else steer() works it out when a new
	 * dialog would be recorded */
	cls = SIPLB_CLASS__MAX;
	if ((pol->interval_ns[SIPLB_CLASS_DIALOG] | pol->interval_ns[SIPLB_CLASS_OTHER]) ||
	    (pol->flags & SIPLB_POL_F_SCANNERS))
		cls = dos_class(ctx, pm->off, &m, &tag);
	/* scanners probe with requests that open dialogs: only those pay the search */
	if ((pol->flags & SIPLB_POL_F_SCANNERS) && cls == SIPLB_CLASS_DIALOG) {
		const struct scanner_sigs *sigs = bpf_map_lookup_elem(&vip_scanners, &vip_id);

		if (sigs && dos_scanner(ctx, pm->off, m.hdr_end, sigs))
			return drop(SIPLB_DROP_SCANNER);
	}
	if (cls != SIPLB_CLASS__MAX && pol->interval_ns[cls & 1]) {
		sk.addr[0] = pm->src[0];
		sk.addr[1] = pm->src[1];
		sk.vip_id = vip_id;
		sk.family = pm->family;
		why = dos_admit(pol, &sk, cls);
		if (why)
			return drop(why);
	}

	id = steer(ctx, vi, cfg, pol, cls, tag, &m, pm->off, &h);
	if (id == STEER_UNKNOWN)
		return drop(SIPLB_DROP_UNKNOWN_DIALOG);
	if (id == SIPLB_NO_BACKEND)
		return drop(SIPLB_DROP_NO_BACKEND);
	be = bpf_map_lookup_elem(&backends, &id);
	nh = bpf_map_lookup_elem(&nexthops, &id);
	if (!be || !nh || !nh->ifindex)
		return slow(SIPLB_SLOW_NO_NEXTHOP);

	if (vi->mode == SIPLB_FWD_L2) {
		void *data = (void *)(long)ctx->data;
		void *data_end = (void *)(long)ctx->data_end;

		if (data + sizeof(struct ethhdr) > data_end)
			return XDP_ABORTED;
		set_macs(data, nh);
	} else if (pm->family == AF_INET) {
		if (pm->ip_len + sizeof(struct iphdr) > cfg->mtu)
			return slow(SIPLB_SLOW_MTU);
		err = encap_ipip4(ctx, pm->l2len, nh, cfg->src4, be->addr[0]);
		if (err)
			return XDP_ABORTED;
	} else {
		if (pm->ip_len + sizeof(struct ipv6hdr) > cfg->mtu)
			return slow(SIPLB_SLOW_MTU);
		err = encap_ip6ip6(ctx, pm->l2len, nh, cfg->src6, be->addr,
				   (__u32)(h >> 44));
		if (err)
			return XDP_ABORTED;
	}
	count(&event_stats, SIPLB_EV_FORWARDED);
	count_traffic(&vip_stats, vip_id, pm->ip_len);
	count_traffic(&backend_stats, id, pm->ip_len);
	if (bench_undo_encap && vi->mode == SIPLB_FWD_IPIP)
		return bench_decap(ctx, pm);
	if (nh->ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(nh->ifindex, 0);
}

SEC("xdp")
int siplb_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	const struct siplb_config *cfg;
	struct vip_key vk = {};
	struct pkt_meta pm = {};
	struct vip_info *vi;
	struct udphdr *udp;
	__u16 proto;
	__u32 frame_len = data_end - data, zero = 0;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	proto = eth->h_proto;
	pm.l2len = sizeof(*eth);
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		if (data + sizeof(*eth) + 4 > data_end)
			return XDP_PASS;
		proto = *(__be16 *)(data + sizeof(*eth) + 2);
		pm.l2len += 4;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + pm.l2len;
		__u32 ihl;

		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		ihl = ip->ihl * 4;
		vk.family = AF_INET;
		vk.addr[0] = ip->daddr;
		if (ip->protocol != IPPROTO_UDP || ihl < sizeof(*ip) ||
		    (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))) {
			if (!is_vip_addr(&vk))
				return XDP_PASS;
			if (ihl < sizeof(*ip))
				return drop(SIPLB_DROP_BAD_L3);
			if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
				return slow(SIPLB_SLOW_FRAGMENT);
			if (ip->protocol == IPPROTO_TCP)
				return slow(SIPLB_SLOW_TCP);
			return XDP_PASS;	/* ICMP and the like: the stack's */
		}
		udp = (void *)ip + (ihl & 0x3c);
		if ((void *)(udp + 1) > data_end)
			return XDP_PASS;
		vk.port = udp->dest;
		vk.proto = IPPROTO_UDP;
		vi = vip_lookup(&vk);
		if (!vi || (vi->flags & SIPLB_VIP_F_ADDR_ONLY))
			return XDP_PASS;
		/* an array: the verifier inlines the lookup */
		cfg = bpf_map_lookup_elem(&config, &zero);
		if (!cfg)
			return XDP_PASS;
		/* first, and before any parsing: a banned source costs one lookup */
		if (dos_banned4(cfg, ip->saddr))
			return drop(SIPLB_DROP_BLOCKED);
		pm.src[0] = ip->saddr;
		pm.family = AF_INET;
		pm.ip_len = bpf_ntohs(ip->tot_len);
		pm.off = pm.l2len + ihl + sizeof(*udp);
		if (pm.ip_len < ihl + sizeof(*udp) ||
		    pm.l2len + pm.ip_len > frame_len ||
		    bpf_ntohs(udp->len) != pm.ip_len - ihl)
			return drop(SIPLB_DROP_BAD_L3);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + pm.l2len;

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		vk.family = AF_INET6;
		__builtin_memcpy(vk.addr, &ip6->daddr, 16);
		if (ip6->nexthdr != IPPROTO_UDP) {
			if (!is_vip_addr(&vk))
				return XDP_PASS;
			switch (ip6->nexthdr) {
			case IPPROTO_TCP:
				return slow(SIPLB_SLOW_TCP);
			case NEXTHDR_FRAGMENT:
				return slow(SIPLB_SLOW_FRAGMENT);
			case NEXTHDR_HOP:
			case NEXTHDR_ROUTING:
			case NEXTHDR_DEST:
				return slow(SIPLB_SLOW_IP_EXT);
			default:
				return XDP_PASS;	/* ICMPv6 and the like: the stack's */
			}
		}
		udp = (void *)(ip6 + 1);
		if ((void *)(udp + 1) > data_end)
			return XDP_PASS;
		vk.port = udp->dest;
		vk.proto = IPPROTO_UDP;
		vi = vip_lookup(&vk);
		if (!vi || (vi->flags & SIPLB_VIP_F_ADDR_ONLY))
			return XDP_PASS;
		cfg = bpf_map_lookup_elem(&config, &zero);
		if (!cfg)
			return XDP_PASS;
		if (dos_banned6(cfg, &ip6->saddr))
			return drop(SIPLB_DROP_BLOCKED);
		/* token buckets group an IPv6 source by its /64 */
		pm.src[0] = ip6->saddr.in6_u.u6_addr32[0];
		pm.src[1] = ip6->saddr.in6_u.u6_addr32[1];
		pm.family = AF_INET6;
		pm.ip_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		pm.off = pm.l2len + sizeof(*ip6) + sizeof(*udp);
		if (pm.l2len + pm.ip_len > frame_len ||
		    bpf_ntohs(udp->len) != pm.ip_len - sizeof(*ip6))
			return drop(SIPLB_DROP_BAD_L3);
	} else {
		return XDP_PASS;
	}
	/* Ethernet padding after a short IP packet is not SIP payload. */
	if (pm.l2len + pm.ip_len < frame_len &&
	    bpf_xdp_adjust_tail(ctx, -(int)(frame_len - pm.l2len - pm.ip_len)))
		return drop(SIPLB_DROP_BAD_L3);
	return balance(ctx, vi, cfg, &pm);
}

char LICENSE[] SEC("license") = "GPL";
