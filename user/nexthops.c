// SPDX-License-Identifier: GPL-2.0
/* nexthops.c: siplbd keeps the nexthops map and its XDP links in step with netlink events. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "netlink.h"

static const char *mac_str(const __u8 *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	return buf;
}

static void nh_write(struct siplbd *d, struct sd_backend *b, const struct nexthop *nh)
{
	char mac[18];

	if (b->nh_ok && !memcmp(&b->nh, nh, sizeof(*nh)))
		return;
	if (lb_nexthop_set(&d->maps, sd_backend_id(d, b), nh)) {
		log_err("cannot write the next hop of %s: %s", b->ident, strerror(errno));
		return;
	}
	b->nh = *nh;
	b->nh_ok = true;
	d->neigh_updates++;
	log_info("backend %s: next hop %s via ifindex %u", b->ident,
		 mac_str(nh->dmac, mac, sizeof(mac)), nh->ifindex);
}

/*
 * Route, then neighbour, for one backend. An unresolved neighbour is asked
 * for and its event awaited; until then the backend's packets take the slow
 * path (counted as no_nexthop), never a wrong MAC.
 */
void sd_nexthop_refresh(struct siplbd *d, struct sd_backend *b)
{
	struct nl_neigh hop = {};
	struct nexthop nh = {};
	char ip[64];
	int err;

	if (!d->nl || !b->used)
		return;
	err = nl_nexthop(d->nl, b->addr.family, b->addr.addr, &nh, &hop);
	if (!err || err == -EAGAIN) {
		b->hop_family = hop.family;
		memcpy(b->hop, hop.addr, sizeof(b->hop));
		b->hop_ifindex = hop.ifindex;
	}
	b->nh_wait = err == -EAGAIN;
	if (!err) {
		nh_write(d, b, &nh);
		return;
	}
	if (err == -EAGAIN) {
		/* Keep the last MAC meanwhile, with the new egress if it moved. */
		if (b->nh_ok && b->nh.ifindex == nh.ifindex)
			return;
		log_info("backend %s: resolving its next hop", b->ident);
		return;
	}
	log_warn("backend %s: no next hop (%s): its packets take the slow path",
		 sd_addr_str(&b->addr, ip, sizeof(ip)), strerror(-err));
}

void sd_nexthop_refresh_all(struct siplbd *d)
{
	__u32 id;

	for (id = 0; id < SIPLB_MAX_BACKENDS; id++)
		if (d->be[id].used)
			sd_nexthop_refresh(d, &d->be[id]);
	d->last_nh_refresh_ms = sd_now_ms();
}

static void on_neigh(void *arg, const struct nl_neigh *n, bool removed)
{
	struct siplbd *d = arg;
	__u32 id;

	for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
		struct sd_backend *b = &d->be[id];
		bool ours = b->hop_family == n->family && b->hop_ifindex == n->ifindex &&
			    !memcmp(b->hop, n->addr, sizeof(b->hop));

		if (!b->used || !ours)
			continue;
		if (removed || !n->has_mac) {
			/* Keep the MAC we have (it is most likely still right); ask again
			 * unless a resolution is already under way. */
			if (!b->nh_wait)
				sd_nexthop_refresh(d, b);
			continue;
		}
		b->nh_wait = false;
		{
			struct nexthop nh = b->nh;

			memcpy(nh.dmac, n->mac, sizeof(nh.dmac));
			if (!b->nh_ok)
				sd_nexthop_refresh(d, b);	/* fills smac and ifindex too */
			else
				nh_write(d, b, &nh);
		}
	}
}

static void on_link(void *arg, const struct nl_link *l, bool removed)
{
	struct siplbd *d = arg;
	size_t i;

	for (i = 0; i < d->n_ifaces; i++) {
		struct sd_iface *ifc = &d->ifaces[i];

		if (strcmp(ifc->name, l->name) && ifc->ifindex != l->ifindex)
			continue;
		ifc->events++;
		d->link_events++;
		if (removed) {
			log_warn("interface %s removed: its XDP link is gone", ifc->name);
			sd_iface_forget(d, ifc);
			continue;
		}
		if (ifc->link_fd < 0 || ifc->ifindex != l->ifindex) {
			log_info("interface %s appeared (ifindex %d): attaching", l->name,
				 l->ifindex);
			if (!sd_iface_attach(d, ifc))
				ifc->reattached++;
		}
		if (ifc->link_up != l->running)
			log_warn("interface %s is %s", ifc->name, l->running ? "up" : "DOWN");
		ifc->link_up = l->running;
	}
}

static void on_route(void *arg, __u8 family, bool removed)
{
	(void)family;
	(void)removed;
	/* Routes to backends may have moved: look them all up again. */
	sd_nexthop_refresh_all(arg);
}

int sd_netlink_process(struct siplbd *d)
{
	static const struct nl_callbacks cb = {
		.link = on_link,
		.neigh = on_neigh,
		.route = on_route,
	};
	int n = nl_process(d->nl, &cb, d);

	if (n == -ENOBUFS) {
		log_warn("netlink events were lost: reading links and next hops again");
		sd_nexthop_refresh_all(d);
	}
	return n;
}
