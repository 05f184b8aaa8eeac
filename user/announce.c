// SPDX-License-Identifier: GPL-2.0
/* announce.c: the VIP routes BGP announces: present while this instance can serve the VIP. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "netlink.h"

/*
 * With announce.table set, siplbd keeps a blackhole host route for each VIP
 * address in that table while the address can be served here: XDP attached
 * on an interface whose link is up, and a healthy backend (up, not draining)
 * in one of the address's VIPs. BIRD's kernel protocol learns the table and
 * exports it over BGP; the router spreads the VIP over the instances that
 * announce it (ECMP). docs/operations.md has the BIRD side.
 */

static bool attached(const struct siplbd *d)
{
	size_t i;

	for (i = 0; i < d->n_ifaces; i++)
		if (d->ifaces[i].link_fd >= 0 && d->ifaces[i].link_up)
			return true;
	return false;
}

static bool vip_healthy(const struct siplbd *d, __u32 vip)
{
	__u32 id;

	for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
		const struct sd_backend *b = &d->be[id];

		if (b->used && b->vip == vip && b->hc.state == SIPLB_BE_UP && !b->drain &&
		    b->weight)
			return true;
	}
	return false;
}

static bool same_addr(const struct vip_key *a, const struct vip_key *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static void vip_addr_str(const struct vip_key *k, char *buf, size_t len)
{
	if (!inet_ntop(k->family, k->addr, buf, len))
		snprintf(buf, len, "?");
}

int sd_announce_route(struct siplbd *d, const struct vip_key *k, bool add, const char *why)
{
	char a[INET6_ADDRSTRLEN];
	int err;

	vip_addr_str(k, a, sizeof(a));
	err = nl_route_announce(d->nl, k->family, k->addr, d->cfg.announce_table, add);
	if (err)
		log_err("VIP %s: cannot %s its route in table %u: %s", a,
			add ? "add" : "remove", d->cfg.announce_table, strerror(-err));
	else
		log_info("VIP %s: %s (route in table %u): %s", a,
			 add ? "announced" : "withdrawn", d->cfg.announce_table, why);
	return err;
}

void sd_announce_sync(struct siplbd *d, bool stopping)
{
	bool att, want[SIPLB_MAX_VIPS] = {};
	__u32 i, j;

	if (!d->cfg.announce_table || !d->nl)
		return;
	att = attached(d);
	for (i = 0; i < SIPLB_MAX_VIPS; i++)
		if (d->vips[i].used && !stopping && att && vip_healthy(d, i))
			want[i] = true;
	/* an address is announced while any of its VIPs (ports) wants it */
	for (i = 0; i < SIPLB_MAX_VIPS; i++)
		for (j = 0; j < SIPLB_MAX_VIPS && d->vips[i].used && !want[i]; j++)
			if (want[j] && same_addr(&d->vips[i].key, &d->vips[j].key))
				want[i] = true;
	for (i = 0; i < SIPLB_MAX_VIPS; i++) {
		struct sd_vip *v = &d->vips[i];
		bool done = false;

		if (!v->used || v->announced == want[i])
			continue;
		/* one route per address: the first VIP of the address does it */
		for (j = 0; j < i; j++)
			if (d->vips[j].used && same_addr(&v->key, &d->vips[j].key) &&
			    d->vips[j].announced == want[i])
				done = true;
		if (done || !sd_announce_route(d, &v->key, want[i],
					       want[i] ? "attached, a backend is up" :
					       stopping ? "siplbd stops" :
					       !att ? "XDP is not attached on a running link" :
					       "no backend is up"))
			v->announced = want[i];
	}
}

int sd_announce_withdraw_cfg(const struct siplb_cfg *cfg)
{
	struct nl_ctx *nl;
	size_t i;
	int err, rc = 0;

	if (!cfg->announce_table)
		return 0;
	err = nl_open(&nl);
	if (err)
		return err;
	for (i = 0; i < cfg->n_vips; i++) {
		err = nl_route_announce(nl, cfg->vips[i].addr.family,
					(const __be32 *)cfg->vips[i].addr.addr,
					cfg->announce_table, false);
		if (err)
			rc = err;
	}
	nl_close(nl);
	return rc;
}
