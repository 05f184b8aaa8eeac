// SPDX-License-Identifier: GPL-2.0
/* lbtest.c: shared setup for the XDP balancer tests (see lbtest.h). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "siplb.skel.h"
#include "lbclock.h"
#include "maglev.h"
#include "lbtest.h"

/* A fixed key, so that a failing run can be replayed. */
static const struct siplb_hash_key lbt_key = {
	.k0 = 0x8a1b2c3d4e5f6071ULL, .k1 = 0x1827364554637281ULL,
};

void lbt_default_config(struct siplb_config *cfg, __u32 maglev_size)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->hash_k0 = lbt_key.k0;
	cfg->hash_k1 = lbt_key.k1;
	cr_assert_eq(inet_pton(AF_INET, LBT_SRC4, &cfg->src4), 1);
	cr_assert_eq(inet_pton(AF_INET6, LBT_SRC6, cfg->src6), 1);
	cfg->mtu = 1500;
	cfg->maglev_size = maglev_size;
	cfg->idle_units = 0;
}

struct lbt *lbt_open(const struct siplb_config *cfg, __u32 affinity_max)
{
	struct lbt *t = calloc(1, sizeof(*t));

	cr_assert_not_null(t);
	t->skel = siplb__open();
	cr_assert_not_null(t->skel, "open the siplb skeleton");
	if (affinity_max)
		cr_assert_eq(bpf_map__set_max_entries(t->skel->maps.affinity,
						      affinity_max), 0);
	cr_assert_eq(siplb__load(t->skel), 0,
		     "the verifier must accept siplb.bpf.o (run as root)");
	cr_assert_eq(lb_maps_from_object(t->skel->obj, &t->maps), 0);
	t->prog_fd = bpf_program__fd(t->skel->progs.siplb_xdp);
	if (cfg)
		t->cfg = *cfg;
	else
		lbt_default_config(&t->cfg, 4093);
	/* as siplbd does before its first config write */
	cr_assert_eq(lb_clock_offset(&t->cfg.clock_off_ns), 0, "measure XDP's clock offset");
	t->key.k0 = t->cfg.hash_k0;
	t->key.k1 = t->cfg.hash_k1;
	lbt_config_write(t);
	return t;
}

void lbt_close(struct lbt *t)
{
	int i;

	if (!t)
		return;
	for (i = 0; i < LBT_MAX_VIPS; i++)
		free(t->vip[i].table);
	siplb__destroy(t->skel);
	free(t);
}

void lbt_config_write(struct lbt *t)
{
	cr_assert(maglev_is_prime(t->cfg.maglev_size), "Maglev size %u is not prime",
		  t->cfg.maglev_size);
	cr_assert_eq(lb_config_set(&t->maps, &t->cfg), 0, "write config");
	t->key.k0 = t->cfg.hash_k0;
	t->key.k1 = t->cfg.hash_k1;
}

/* Write the VIP's info to both of its entries. */
static void lbt_vip_write(struct lbt *t, __u32 vip_id, const struct vip_info *vi)
{
	struct vip_key k = t->vip[vip_id].key;
	struct vip_info v0 = *vi;

	cr_assert_eq(lb_vip_set(&t->maps, &k, vi), 0, "write VIP %u", vip_id);
	k.port = 0;
	v0.flags |= SIPLB_VIP_F_ADDR_ONLY;
	cr_assert_eq(lb_vip_set(&t->maps, &k, &v0), 0, "write VIP %u port 0", vip_id);
}

void lbt_vip_add(struct lbt *t, __u32 vip_id, int family, const char *addr,
		 __u16 port, __u8 mode, __u8 reg_key)
{
	struct lbt_vip *v;
	struct vip_info vi = {
		.vip_id = vip_id, .mode = mode, .reg_key = reg_key,
	};

	cr_assert_lt(vip_id, LBT_MAX_VIPS);
	v = &t->vip[vip_id];
	memset(&v->key, 0, sizeof(v->key));
	cr_assert_eq(inet_pton(family, addr, v->key.addr), 1, "VIP address %s", addr);
	v->key.port = htons(port);
	v->key.proto = IPPROTO_UDP;
	v->key.family = family;
	v->used = true;
	lbt_vip_write(t, vip_id, &vi);
}

void lbt_backend_add(struct lbt *t, __u32 id, __u32 vip_id, const char *addr,
		     __u8 state, __u32 ifindex)
{
	static const __u8 lb_mac[6] = LBT_LB_MAC;
	struct lbt_backend *b;
	char ip[INET6_ADDRSTRLEN];
	int family;

	cr_assert_lt(id, LBT_MAX_BACKENDS);
	cr_assert(vip_id < LBT_MAX_VIPS && t->vip[vip_id].used, "no VIP %u", vip_id);
	family = t->vip[vip_id].key.family;
	b = &t->be[id];
	memset(b, 0, sizeof(*b));
	cr_assert_eq(inet_pton(family, addr, b->be.addr), 1, "backend address %s", addr);
	b->be.family = family;
	b->be.state = state;
	b->be.weight = 1;
	b->be.vip_id = vip_id;
	inet_ntop(family, b->be.addr, ip, sizeof(ip));
	snprintf(b->name, sizeof(b->name), family == AF_INET ? "%s:5060" : "[%s]:5060", ip);
	b->nh.dmac[0] = 0x02;
	b->nh.dmac[4] = 0x01;
	b->nh.dmac[5] = id;
	memcpy(b->nh.smac, lb_mac, 6);
	b->nh.ifindex = ifindex;
	b->used = true;
	cr_assert_eq(lb_backend_set(&t->maps, id, &b->be), 0, "write backend %u", id);
	cr_assert_eq(lb_nexthop_set(&t->maps, id, &b->nh), 0, "write nexthop %u", id);
}

void lbt_backend_state(struct lbt *t, __u32 id, __u8 state)
{
	cr_assert(id < LBT_MAX_BACKENDS && t->be[id].used, "no backend %u", id);
	t->be[id].be.state = state;
	cr_assert_eq(lb_backend_set(&t->maps, id, &t->be[id].be), 0);
}

void lbt_backend_weight(struct lbt *t, __u32 id, __u16 weight)
{
	cr_assert(id < LBT_MAX_BACKENDS && t->be[id].used, "no backend %u", id);
	t->be[id].be.weight = weight;
	cr_assert_eq(lb_backend_set(&t->maps, id, &t->be[id].be), 0);
}

void lbt_nexthop_set(struct lbt *t, __u32 id, const struct nexthop *nh)
{
	cr_assert(id < LBT_MAX_BACKENDS && t->be[id].used, "no backend %u", id);
	t->be[id].nh = *nh;
	cr_assert_eq(lb_nexthop_set(&t->maps, id, nh), 0);
}

void lbt_publish(struct lbt *t, __u32 vip_id)
{
	struct maglev_backend mb[LBT_MAX_BACKENDS];
	struct lbt_vip *v;
	struct vip_key k0;
	struct vip_info vi;
	__u32 size = t->cfg.maglev_size, n = 0, id;

	cr_assert(vip_id < LBT_MAX_VIPS && t->vip[vip_id].used, "no VIP %u", vip_id);
	v = &t->vip[vip_id];
	for (id = 0; id < LBT_MAX_BACKENDS; id++) {
		const struct lbt_backend *b = &t->be[id];

		if (!b->used || b->be.vip_id != vip_id || b->be.state != SIPLB_BE_UP ||
		    !b->be.weight)
			continue;
		mb[n].id = id;
		mb[n].weight = b->be.weight;
		mb[n].name = b->name;
		mb[n].name_len = strlen(b->name);
		n++;
	}
	if (!n) {
		/* nothing to build: fail closed */
		cr_assert_eq(lb_vip_get(&t->maps, &v->key, &vi), 0);
		vi.up = 0;
		lbt_vip_write(t, vip_id, &vi);
		free(v->table);
		v->table = NULL;
		v->table_size = 0;
		v->up = 0;
		return;
	}
	if (v->table_size != size) {
		free(v->table);
		v->table = malloc(sizeof(*v->table) * size);
		cr_assert_not_null(v->table);
		v->table_size = size;
	}
	cr_assert_eq(maglev_build(mb, n, v->table, size, &t->key), 0, "build Maglev table");
	cr_assert_eq(lb_maglev_publish_window(&t->maps, &v->key, v->table, size, n,
					      lbt_now_units(), t->window_units), 0,
		     "publish Maglev table of VIP %u", vip_id);
	v->up = n;
	/* the address-only entry follows: same generation, same count */
	cr_assert_eq(lb_vip_get(&t->maps, &v->key, &vi), 0);
	k0 = v->key;
	k0.port = 0;
	vi.flags |= SIPLB_VIP_F_ADDR_ONLY;
	cr_assert_eq(lb_vip_set(&t->maps, &k0, &vi), 0);
}

const __u32 *lbt_table(const struct lbt *t, __u32 vip_id)
{
	return vip_id < LBT_MAX_VIPS ? t->vip[vip_id].table : NULL;
}

__u64 lbt_hash(const struct lbt *t, const void *p, __u32 len)
{
	return siplb_hash_buf(p, len, &t->key);
}

__u64 lbt_affinity_key(__u64 hash, __u32 vip_id)
{
	return hash ^ ((__u64)vip_id * SIPLB_VIP_MIX);
}

__u32 lbt_maglev_pick(const struct lbt *t, __u32 vip_id, __u64 hash)
{
	const __u32 *table = lbt_table(t, vip_id);

	cr_assert_not_null(table, "VIP %u has no table", vip_id);
	return table[hash % t->vip[vip_id].table_size];
}

__u32 lbt_run(struct lbt *t, const void *in, __u32 len, __u32 ifindex,
	      void *out, __u32 *out_len)
{
	static __u8 scratch[LBT_FRAME_MAX];
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in,
		.data_size_in = len,
		.data_out = out ? out : scratch,
		.data_size_out = LBT_FRAME_MAX,
		.repeat = 1,
	);
	int err;

	if (ifindex) {
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	err = bpf_prog_test_run_opts(t->prog_fd, &opts);
	cr_assert_eq(err, 0, "test run of a %u-byte frame: %s", len, strerror(-err));
	if (out_len)
		*out_len = opts.data_size_out;
	return opts.retval;
}

int lbt_backend_of(const struct lbt *t, const void *frame, __u32 len)
{
	const __u8 *f = frame;
	__u32 l2 = sizeof(struct ethhdr);
	__u16 proto;
	int id;

	if (len < l2)
		return -1;
	proto = f[12] << 8 | f[13];
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		l2 += 4;
		if (len < l2)
			return -1;
		proto = f[16] << 8 | f[17];
	}
	for (id = 0; id < LBT_MAX_BACKENDS; id++) {
		const struct lbt_backend *b = &t->be[id];
		const __u8 *ip = f + l2;

		if (!b->used)
			continue;
		if (proto == ETH_P_IP && len >= l2 + sizeof(struct iphdr) &&
		    ip[9] == IPPROTO_IPIP && b->be.family == AF_INET &&
		    !memcmp(ip + 16, b->be.addr, 4))
			return id;
		if (proto == ETH_P_IPV6 && len >= l2 + sizeof(struct ipv6hdr) &&
		    ip[6] == IPPROTO_IPV6 && b->be.family == AF_INET6 &&
		    !memcmp(ip + 24, b->be.addr, 16))
			return id;
	}
	/* not encapsulated: L2 mode, by destination MAC */
	for (id = 0; id < LBT_MAX_BACKENDS; id++) {
		if (t->be[id].used && !memcmp(f, t->be[id].nh.dmac, 6))
			return id;
	}
	return -1;
}

void lbt_counters_read(const struct lbt *t, struct lbt_counters *c)
{
	__u32 i;

	for (i = 0; i < SIPLB_DROP__MAX; i++)
		cr_assert_eq(lb_percpu_sum(t->maps.drop_stats, i, &c->drop[i]), 0);
	for (i = 0; i < SIPLB_SLOW__MAX; i++)
		cr_assert_eq(lb_percpu_sum(t->maps.slow_stats, i, &c->slow[i]), 0);
	for (i = 0; i < SIPLB_EV__MAX; i++)
		cr_assert_eq(lb_percpu_sum(t->maps.event_stats, i, &c->ev[i]), 0);
}

struct traffic lbt_traffic(int fd, __u32 idx)
{
	struct traffic tr;

	cr_assert_eq(lb_traffic_sum(fd, idx, &tr), 0);
	return tr;
}

/* The blocklist key of addr/plen: its family, the key in k4 or k6. */
static int ban_key(const char *addr, __u32 plen, struct ban_key4 *k4, struct ban_key6 *k6)
{
	memset(k4, 0, sizeof(*k4));
	memset(k6, 0, sizeof(*k6));
	k4->prefixlen = k6->prefixlen = plen;
	if (inet_pton(AF_INET, addr, &k4->addr) == 1)
		return AF_INET;
	cr_assert_eq(inet_pton(AF_INET6, addr, k6->addr), 1, "ban address %s", addr);
	return AF_INET6;
}

void lbt_ban(struct lbt *t, const char *addr, __u32 plen, __u64 expires_ns)
{
	struct ban b = { .expires_ns = expires_ns };
	struct ban_key4 k4;
	struct ban_key6 k6;
	int family = ban_key(addr, plen, &k4, &k6);

	cr_assert_eq(lb_ban_write(&t->maps, family, family == AF_INET ? (void *)&k4 : (void *)&k6,
				  &b), 0, "ban %s/%u", addr, plen);
}

void lbt_unban(struct lbt *t, const char *addr, __u32 plen)
{
	struct ban_key4 k4;
	struct ban_key6 k6;
	int family = ban_key(addr, plen, &k4, &k6);

	cr_assert_eq(lb_ban_write(&t->maps, family, family == AF_INET ? (void *)&k4 : (void *)&k6,
				  NULL), 0, "lift the ban of %s/%u", addr, plen);
}

__u32 lbt_now_units(void)
{
	struct timespec ts;

	/* as siplbd: XDP's jiffies clock reads the same after lb_clock_offset() */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u32)(((__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec) >> 30);
}
