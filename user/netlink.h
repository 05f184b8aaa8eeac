/* netlink.h: links, routes and neighbours from rtnetlink (libmnl), and nexthops from them. */
#ifndef SIPLB_NETLINK_H
#define SIPLB_NETLINK_H

#include <stdbool.h>
#include <linux/types.h>

#include "siplb_maps.h"

/*
 * Two NETLINK_ROUTE sockets in the network namespace of the caller of
 * nl_open(): a non-blocking event socket subscribed to link, neighbour and
 * route changes, for the daemon's epoll; and a request socket, in no
 * multicast group, for synchronous queries (each bounded by a 2 s timeout).
 * Addresses are in network order, IPv4 in addr[0], as in the maps.
 * Every function returns 0 (or a count) or a negative errno.
 */
struct nl_ctx;

int nl_open(struct nl_ctx **out);
void nl_close(struct nl_ctx *c);
int nl_event_fd(const struct nl_ctx *c);

struct nl_link {
	int ifindex;
	char name[16];		/* IFNAMSIZ */
	bool up;		/* IFF_UP: administratively up */
	bool running;		/* IFF_RUNNING: carrier and operationally up */
	__u8 mac[6];		/* zero when the link has no Ethernet address */
	__u32 mtu;
};

struct nl_neigh {
	int ifindex;
	__u8 family;		/* AF_INET or AF_INET6 */
	__be32 addr[4];
	__u8 mac[6];
	bool has_mac;
	__u16 state;		/* NUD_* */
};

struct nl_route {
	int ifindex;		/* egress link */
	bool has_gw;
	__u8 family;		/* of gw: that of the destination but for RTA_VIA */
	__be32 gw[4];
	__be32 prefsrc[4];	/* same family as the destination */
	bool has_prefsrc;
	__u8 type;		/* RTN_UNICAST, RTN_LOCAL, ... */
};

/* Any callback may be NULL; callbacks may call the query functions below. */
struct nl_callbacks {
	/* RTM_NEWLINK / RTM_DELLINK (AF_UNSPEC only, not bridge port messages) */
	void (*link)(void *arg, const struct nl_link *l, bool removed);
	/* RTM_NEWNEIGH / RTM_DELNEIGH, IPv4 and IPv6, not proxy entries */
	void (*neigh)(void *arg, const struct nl_neigh *n, bool removed);
	/*
	 * A unicast, unreachable, blackhole or prohibit route was added or
	 * removed in family: the routes towards backends may have changed.
	 */
	void (*route)(void *arg, __u8 family, bool removed);
};

/*
 * Read and dispatch the pending events without blocking, at most a bounded
 * batch per call (epoll reports the rest). Returns the number of events
 * dispatched, or -ENOBUFS when the kernel dropped events (the caller then
 * re-reads the state it cares about), or another -errno.
 */
int nl_process(struct nl_ctx *c, const struct nl_callbacks *cb, void *arg);

/* The link with ifindex, or named name when ifindex is 0. -ENODEV when absent. */
int nl_link_get(struct nl_ctx *c, int ifindex, const char *name, struct nl_link *out);

/* The kernel's route to dst (RTM_GETROUTE). -ENETUNREACH (or what the kernel says) when none. */
int nl_route_get(struct nl_ctx *c, __u8 family, const __be32 *dst, struct nl_route *out);

/*
 * The neighbour entry for addr on ifindex. 0 when it holds a usable MAC
 * (REACHABLE, STALE, DELAY, PROBE, PERMANENT, NOARP); -EAGAIN when it exists
 * but is INCOMPLETE, FAILED or has no MAC (out is filled all the same);
 * -ENOENT when there is none.
 */
int nl_neigh_get(struct nl_ctx *c, int ifindex, __u8 family, const __be32 *addr,
		 struct nl_neigh *out);

/*
 * Ask the kernel to resolve addr on ifindex (RTM_NEWNEIGH with NTF_USE: an
 * entry is created if needed and a solicitation sent, as if a packet were
 * waiting). The MAC arrives later as a neigh event. A STALE entry is probed
 * again: XDP traffic never confirms entries, so the daemon may call this to
 * refresh them. PERMANENT and NOARP entries are left alone (returns 0).
 */
int nl_neigh_resolve(struct nl_ctx *c, int ifindex, __u8 family, const __be32 *addr);

/*
 * The nexthop to reach dst: route -> egress link (smac, ifindex) and next hop
 * (gateway or dst itself) -> its MAC (dmac). hop, if not NULL, receives the
 * next hop's neighbour (address always; MAC and state when known). When the
 * MAC is not known yet, resolution is started and -EAGAIN returned with
 * everything but out->dmac filled: the daemon waits for the neigh event that
 * matches hop. -EHOSTUNREACH when dst is one of our own addresses, -ENETUNREACH
 * (or the kernel's error) when there is no route.
 */
int nl_nexthop(struct nl_ctx *c, __u8 family, const __be32 *dst, struct nexthop *out,
	       struct nl_neigh *hop);

/* rtm_protocol of the announcement routes: tells them from anyone else's. */
#define NL_RTPROT_SIPLB 186

/*
 * Add (or replace) or remove the host route dst/32 or /128 in table as a
 * blackhole route of protocol NL_RTPROT_SIPLB: nothing forwards by that
 * table; a routing daemon (BIRD's kernel protocol with "learn") reads it and
 * announces dst over BGP. Removing a route that is not there is no error.
 */
int nl_route_announce(struct nl_ctx *c, __u8 family, const __be32 *dst, __u32 table,
		      bool add);

#endif /* SIPLB_NETLINK_H */
