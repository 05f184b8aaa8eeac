// SPDX-License-Identifier: GPL-2.0
/* netlink.c: rtnetlink events and queries over libmnl, and nexthops for the maps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <net/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "netlink.h"

/* Large enough for one link message with many VFs, and for event bursts. */
#define NL_BUF_SIZE 65536
/* Event socket buffer: a flood of neighbour changes should not overrun it. */
#define NL_EV_RCVBUF (4 << 20)
/* A query the kernel does not answer must not hang the daemon. */
#define NL_REQ_TIMEOUT_S 2
/* Datagrams read per nl_process() call: epoll reports whatever is left. */
#define NL_EV_BATCH 64

struct nl_ctx {
	struct mnl_socket *ev;
	struct mnl_socket *req;
	unsigned int req_portid;
	unsigned int seq;
	/* separate buffers: event callbacks may run queries */
	char evbuf[NL_BUF_SIZE];
	char reqbuf[NL_BUF_SIZE];
};

static int addr_len(__u8 family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Keep an attribute of a known type in tb[]; unknown (newer) types are skipped. */
struct attr_tb {
	const struct nlattr **tb;
	unsigned int max;
};

static int attr_keep(const struct nlattr *a, struct attr_tb *t)
{
	if (mnl_attr_type_valid(a, t->max) < 0)
		return 0;
	t->tb[mnl_attr_get_type(a)] = a;
	return 1;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	if (!attr_keep(a, data))
		return MNL_CB_OK;
	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_ERROR;
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_validate(a, MNL_TYPE_BINARY) < 0)
			return MNL_CB_ERROR;
		break;
	}
	return MNL_CB_OK;
}

/* Fill l from an RTM_NEWLINK/RTM_DELLINK. -EINVAL when malformed. */
static int parse_link(const struct nlmsghdr *nlh, struct nl_link *l)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct attr_tb t = { tb, IFLA_MAX };
	const struct ifinfomsg *ifm;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)))
		return -EINVAL;
	ifm = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, &t) < 0)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->ifindex = ifm->ifi_index;
	l->up = ifm->ifi_flags & IFF_UP;
	l->running = ifm->ifi_flags & IFF_RUNNING;
	if (tb[IFLA_IFNAME])
		snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		l->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	/* only Ethernet addresses: a tunnel's IPv4 "address" is not a MAC */
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	return 0;
}

static int neigh_attr_cb(const struct nlattr *a, void *data)
{
	if (!attr_keep(a, data))
		return MNL_CB_OK;
	switch (mnl_attr_get_type(a)) {
	case NDA_DST:
	case NDA_LLADDR:
		if (mnl_attr_validate(a, MNL_TYPE_BINARY) < 0)
			return MNL_CB_ERROR;
		break;
	}
	return MNL_CB_OK;
}

/*
 * Fill n from an RTM_NEWNEIGH/RTM_DELNEIGH. -EINVAL when malformed,
 * -EAFNOSUPPORT for what is not an IPv4/IPv6 neighbour (bridge FDB entries
 * share the group), -EOPNOTSUPP for proxy entries.
 */
static int parse_neigh(const struct nlmsghdr *nlh, struct nl_neigh *n)
{
	const struct nlattr *tb[NDA_MAX + 1] = { 0 };
	struct attr_tb t = { tb, NDA_MAX };
	const struct ndmsg *ndm;
	int alen;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ndm)))
		return -EINVAL;
	ndm = mnl_nlmsg_get_payload(nlh);
	alen = addr_len(ndm->ndm_family);
	if (!alen)
		return -EAFNOSUPPORT;
	if (ndm->ndm_flags & NTF_PROXY)
		return -EOPNOTSUPP;
	if (mnl_attr_parse(nlh, sizeof(*ndm), neigh_attr_cb, &t) < 0)
		return -EINVAL;
	if (!tb[NDA_DST] || mnl_attr_get_payload_len(tb[NDA_DST]) != alen)
		return -EINVAL;
	memset(n, 0, sizeof(*n));
	n->ifindex = ndm->ndm_ifindex;
	n->family = ndm->ndm_family;
	n->state = ndm->ndm_state;
	memcpy(n->addr, mnl_attr_get_payload(tb[NDA_DST]), alen);
	if (tb[NDA_LLADDR] && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == 6) {
		memcpy(n->mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
		n->has_mac = true;
	}
	return 0;
}

static int route_attr_cb(const struct nlattr *a, void *data)
{
	if (!attr_keep(a, data))
		return MNL_CB_OK;
	switch (mnl_attr_get_type(a)) {
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	case RTA_GATEWAY:
	case RTA_PREFSRC:
	case RTA_VIA:
		if (mnl_attr_validate(a, MNL_TYPE_BINARY) < 0)
			return MNL_CB_ERROR;
		break;
	}
	return MNL_CB_OK;
}

/* Fill r from the RTM_NEWROUTE answering an RTM_GETROUTE. */
static int parse_route(const struct nlmsghdr *nlh, struct nl_route *r)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	struct attr_tb t = { tb, RTA_MAX };
	const struct rtmsg *rtm;
	int alen;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return -EINVAL;
	rtm = mnl_nlmsg_get_payload(nlh);
	alen = addr_len(rtm->rtm_family);
	if (!alen)
		return -EINVAL;
	if (mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, &t) < 0)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->family = rtm->rtm_family;
	r->type = rtm->rtm_type;
	if (tb[RTA_OIF])
		r->ifindex = mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_GATEWAY]) {
		if (mnl_attr_get_payload_len(tb[RTA_GATEWAY]) != alen)
			return -EINVAL;
		memcpy(r->gw, mnl_attr_get_payload(tb[RTA_GATEWAY]), alen);
		r->has_gw = true;
	} else if (tb[RTA_VIA]) {
		/* IPv4 via an IPv6 next hop (RFC 5549) */
		const struct rtvia *via = mnl_attr_get_payload(tb[RTA_VIA]);
		int plen = mnl_attr_get_payload_len(tb[RTA_VIA]);
		int vlen;

		if (plen < (int)sizeof(*via))
			return -EINVAL;
		vlen = addr_len(via->rtvia_family);
		if (!vlen || plen != (int)sizeof(*via) + vlen)
			return -EINVAL;
		r->family = via->rtvia_family;
		memcpy(r->gw, via->rtvia_addr, vlen);
		r->has_gw = true;
	}
	if (tb[RTA_PREFSRC] && mnl_attr_get_payload_len(tb[RTA_PREFSRC]) == alen) {
		memcpy(r->prefsrc, mnl_attr_get_payload(tb[RTA_PREFSRC]), alen);
		r->has_prefsrc = true;
	}
	return 0;
}

static int open_socket(struct mnl_socket **out, int flags)
{
	struct mnl_socket *nl;
	int err;

	nl = mnl_socket_open2(NETLINK_ROUTE, flags | SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		mnl_socket_close(nl);
		return err;
	}
	*out = nl;
	return 0;
}

int nl_open(struct nl_ctx **out)
{
	static const int groups[] = {
		RTNLGRP_LINK, RTNLGRP_NEIGH, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,
	};
	struct timeval tv = { .tv_sec = NL_REQ_TIMEOUT_S };
	int rcvbuf = NL_EV_RCVBUF, fd, err;
	struct nl_ctx *c;
	size_t i;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	err = open_socket(&c->ev, SOCK_NONBLOCK);
	if (err)
		goto err_free;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (mnl_socket_setsockopt(c->ev, NETLINK_ADD_MEMBERSHIP, (void *)&groups[i],
					  sizeof(groups[i])) < 0) {
			err = -errno;
			goto err_ev;
		}
	}
	/* FORCE passes rmem_max as root; the plain one is the fallback */
	fd = mnl_socket_get_fd(c->ev);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	/* bound to no group: multicast never lands between a query and its answer */
	err = open_socket(&c->req, 0);
	if (err)
		goto err_ev;
	c->req_portid = mnl_socket_get_portid(c->req);
	if (setsockopt(mnl_socket_get_fd(c->req), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		err = -errno;
		goto err_req;
	}
	*out = c;
	return 0;

err_req:
	mnl_socket_close(c->req);
err_ev:
	mnl_socket_close(c->ev);
err_free:
	free(c);
	return err;
}

void nl_close(struct nl_ctx *c)
{
	if (!c)
		return;
	mnl_socket_close(c->req);
	mnl_socket_close(c->ev);
	free(c);
}

int nl_event_fd(const struct nl_ctx *c)
{
	return mnl_socket_get_fd(c->ev);
}

struct ev_state {
	const struct nl_callbacks *cb;
	void *arg;
	int handled;
};

static void dispatch_route(const struct nlmsghdr *nlh, struct ev_state *s)
{
	const struct rtmsg *rtm;

	if (!s->cb->route || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (!addr_len(rtm->rtm_family) || (rtm->rtm_flags & RTM_F_CLONED))
		return;
	switch (rtm->rtm_type) {
	case RTN_UNICAST:
	case RTN_UNREACHABLE:
	case RTN_BLACKHOLE:
	case RTN_PROHIBIT:
		s->cb->route(s->arg, rtm->rtm_family, nlh->nlmsg_type == RTM_DELROUTE);
		s->handled++;
	}
}

/* One event message; malformed or foreign ones are skipped, never fatal. */
static int ev_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ev_state *s = data;
	const struct ifinfomsg *ifm;
	struct nl_neigh n;
	struct nl_link l;

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		if (!s->cb->link || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)))
			break;
		/* AF_BRIDGE messages are about bridge ports, not the link itself */
		ifm = mnl_nlmsg_get_payload(nlh);
		if (ifm->ifi_family != AF_UNSPEC || parse_link(nlh, &l))
			break;
		s->cb->link(s->arg, &l, nlh->nlmsg_type == RTM_DELLINK);
		s->handled++;
		break;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		if (!s->cb->neigh || parse_neigh(nlh, &n))
			break;
		s->cb->neigh(s->arg, &n, nlh->nlmsg_type == RTM_DELNEIGH);
		s->handled++;
		break;
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		dispatch_route(nlh, s);
		break;
	}
	return MNL_CB_OK;
}

int nl_process(struct nl_ctx *c, const struct nl_callbacks *cb, void *arg)
{
	static const struct nl_callbacks none;
	struct ev_state s = { .cb = cb ? cb : &none, .arg = arg };
	ssize_t n;
	int i;

	for (i = 0; i < NL_EV_BATCH; i++) {
		n = mnl_socket_recvfrom(c->ev, c->evbuf, sizeof(c->evbuf));
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* events: any sequence number, any sender */
		mnl_cb_run(c->evbuf, n, 0, 0, ev_cb, &s);
	}
	return s.handled;
}

/* Throw away answers to an earlier query that gave up half way (timeout). */
static void req_drain(struct nl_ctx *c)
{
	int fd = mnl_socket_get_fd(c->req);

	while (recv(fd, c->reqbuf, sizeof(c->reqbuf), MSG_DONTWAIT) > 0)
		;
}

/*
 * Send one request and feed the answers to cb until the kernel's ACK (every
 * request asks for one) or error. Answers must carry our sequence number and
 * port id; mnl_cb_run() fails with ESRCH otherwise.
 */
static int nl_talk(struct nl_ctx *c, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned int seq;
	ssize_t n;
	int ret;

	req_drain(c);
	/* 0 would mean "any sequence number" to mnl_cb_run() */
	if (++c->seq == 0)
		c->seq = 1;
	seq = c->seq;
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(c->req, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(c->req, c->reqbuf, sizeof(c->reqbuf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		ret = mnl_cb_run(c->reqbuf, n, seq, c->req_portid, cb, data);
		if (ret < 0)
			return -errno;
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

/* Answer of a query: one message of type want, parsed by parse. */
struct answer {
	__u16 want;
	bool got;
	int err;
	int (*parse)(const struct nlmsghdr *nlh, void *out);
	void *out;
};

static int answer_cb(const struct nlmsghdr *nlh, void *data)
{
	struct answer *a = data;

	if (nlh->nlmsg_type != a->want || a->got)
		return MNL_CB_OK;
	a->err = a->parse(nlh, a->out);
	a->got = true;
	return MNL_CB_OK;
}

static int query(struct nl_ctx *c, struct nlmsghdr *nlh, struct answer *a)
{
	int err = nl_talk(c, nlh, answer_cb, a);

	if (err)
		return err;
	if (!a->got)
		return -ENODATA;
	return a->err;
}

static int parse_link_any(const struct nlmsghdr *nlh, void *out)
{
	return parse_link(nlh, out);
}

static int parse_neigh_any(const struct nlmsghdr *nlh, void *out)
{
	return parse_neigh(nlh, out);
}

static int parse_route_any(const struct nlmsghdr *nlh, void *out)
{
	return parse_route(nlh, out);
}

int nl_link_get(struct nl_ctx *c, int ifindex, const char *name, struct nl_link *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct answer a = { .want = RTM_NEWLINK, .parse = parse_link_any, .out = out };
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	if (ifindex <= 0 && (!name || !*name || strlen(name) >= IFNAMSIZ))
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex > 0 ? ifindex : 0;
	if (ifindex <= 0)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	/* counters are not wanted: a smaller answer */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return query(c, nlh, &a);
}

int nl_route_get(struct nl_ctx *c, __u8 family, const __be32 *dst, struct nl_route *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct answer a = { .want = RTM_NEWROUTE, .parse = parse_route_any, .out = out };
	int alen = addr_len(family), err;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (!alen)
		return -EAFNOSUPPORT;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = alen * 8;
	mnl_attr_put(nlh, RTA_DST, alen, dst);
	err = query(c, nlh, &a);
	if (err)
		return err;
	/* an unreachable/blackhole/prohibit answer has no egress link */
	if (!out->ifindex)
		return -ENETUNREACH;
	return 0;
}

static bool nud_usable(__u16 state)
{
	return state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
			NUD_PERMANENT | NUD_NOARP);
}

int nl_neigh_get(struct nl_ctx *c, int ifindex, __u8 family, const __be32 *addr,
		 struct nl_neigh *out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct answer a = { .want = RTM_NEWNEIGH, .parse = parse_neigh_any, .out = out };
	int alen = addr_len(family), err;
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	if (!alen)
		return -EAFNOSUPPORT;
	if (ifindex <= 0)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNEIGH;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, alen, addr);
	err = query(c, nlh, &a);
	if (err)
		return err;
	return out->has_mac && nud_usable(out->state) ? 0 : -EAGAIN;
}

int nl_neigh_resolve(struct nl_ctx *c, int ifindex, __u8 family, const __be32 *addr)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int alen = addr_len(family), err;
	struct nlmsghdr *nlh;
	struct nl_neigh n;
	struct ndmsg *ndm;

	if (!alen)
		return -EAFNOSUPPORT;
	if (ifindex <= 0)
		return -EINVAL;
	/*
	 * NTF_USE strips NUD_PERMANENT from an entry before probing it (seen
	 * on 6.18): an operator's static entry would turn dynamic, then
	 * INCOMPLETE. Those, and NOARP ones, have nothing to resolve.
	 */
	err = nl_neigh_get(c, ifindex, family, addr, &n);
	if ((err == 0 || err == -EAGAIN) && (n.state & (NUD_PERMANENT | NUD_NOARP)))
		return 0;
	if (err && err != -EAGAIN && err != -ENOENT)
		return err;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	/*
	 * NTF_USE: the kernel creates the entry (NLM_F_CREATE) and calls
	 * neigh_event_send() on it, as if a packet were waiting: an ARP request
	 * or neighbour solicitation goes out (a STALE entry is re-probed). The
	 * state given is not used.
	 */
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = NUD_NONE;
	ndm->ndm_flags = NTF_USE;
	mnl_attr_put(nlh, NDA_DST, alen, addr);
	return nl_talk(c, nlh, NULL, NULL);
}

int nl_nexthop(struct nl_ctx *c, __u8 family, const __be32 *dst, struct nexthop *out,
	       struct nl_neigh *hop)
{
	struct nl_neigh n = { 0 };
	struct nl_route r;
	struct nl_link l;
	int err;

	err = nl_route_get(c, family, dst, &r);
	if (err)
		return err;
	/* our own address: the route says lo, there is nowhere to forward to */
	if (r.type == RTN_LOCAL)
		return -EHOSTUNREACH;
	err = nl_link_get(c, r.ifindex, NULL, &l);
	if (err)
		return err;

	memset(out, 0, sizeof(*out));
	memcpy(out->smac, l.mac, sizeof(out->smac));
	out->ifindex = l.ifindex;

	n.ifindex = r.ifindex;
	n.family = r.has_gw ? r.family : family;
	memcpy(n.addr, r.has_gw ? r.gw : dst, addr_len(n.family));
	err = nl_neigh_get(c, n.ifindex, n.family, n.addr, &n);
	if (err == 0)
		memcpy(out->dmac, n.mac, sizeof(out->dmac));
	if (hop)
		*hop = n;
	if (err != -EAGAIN && err != -ENOENT)
		return err;

	err = nl_neigh_resolve(c, n.ifindex, n.family, n.addr);
	return err ? err : -EAGAIN;
}

int nl_route_announce(struct nl_ctx *c, __u8 family, const __be32 *dst, __u32 table,
		      bool add)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	int alen = addr_len(family), err;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (!alen)
		return -EAFNOSUPPORT;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = add ? NLM_F_CREATE | NLM_F_REPLACE : 0;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = family;
	rtm->rtm_dst_len = alen * 8;
	rtm->rtm_table = table < 256 ? table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = NL_RTPROT_SIPLB;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_BLACKHOLE;
	mnl_attr_put(nlh, RTA_DST, alen, dst);
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	err = nl_talk(c, nlh, NULL, NULL);
	if (!add && (err == -ESRCH || err == -ENOENT))
		return 0;	/* not there: withdrawn already */
	return err;
}
