// SPDX-License-Identifier: GPL-2.0
/*
 * test_netlink.c: user/netlink.c against a real kernel: links, routes and
 * neighbours of a network namespace the test makes, the events their changes
 * raise, and the nexthops (dmac, smac, ifindex) built from them.
 *
 * Topology (prefix "sltnl<pid>-", so concurrent runs never meet):
 *
 *   ns a: nl0 198.18.5.1/24 2001:db8:5::1/64 ==veth== ns b: eth0 198.18.5.2/24 2001:db8:5::2/64
 *         198.19.7.0/24 via 198.18.5.2, 2001:db8:7::/64 via 2001:db8:5::2
 *
 * The netlink sockets are opened inside ns a; no default route, so anything
 * else is unreachable and nothing leaves the namespaces.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "netlink.h"

#define WAIT_MS 3000		/* longest wait for any event */
#define MAC_A "02:4e:4c:00:00:01"
#define MAC_B "02:4e:4c:00:00:02"
#define MAX_EV 256

static struct nlt {
	char prefix[24];
	int self_ns;
	bool made[2];		/* ns a, ns b */
	struct nl_ctx *nl;	/* opened in ns a */
	int ifindex;		/* nl0 in ns a */
} t = { .self_ns = -1 };

/* Every event nl_process() dispatched, in order. */
static struct {
	struct nl_link l;
	bool removed;
} links[MAX_EV];
static int n_links;

static struct {
	struct nl_neigh n;
	bool removed;
} neighs[MAX_EV];
static int n_neighs;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Run a shell command; returns its exit status, its output in out. */
static int sh(char *out, size_t size, const char *fmt, ...)
{
	char cmd[512], line[256];
	size_t used = 0;
	va_list ap;
	FILE *p;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd) - 8, fmt, ap);
	va_end(ap);
	strcat(cmd, " 2>&1");
	if (out && size)
		out[0] = '\0';
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		size_t n = strlen(line);

		if (out && used + n < size) {
			memcpy(out + used, line, n + 1);
			used += n;
		}
	}
	rc = pclose(p);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

#define RUN(...)                                                          \
	do {                                                              \
		char out_[512], cmd_[512];                                \
		snprintf(cmd_, sizeof(cmd_), __VA_ARGS__);                \
		cr_assert_eq(sh(out_, sizeof(out_), "%s", cmd_), 0,       \
			     "%s: %s", cmd_, out_);                       \
	} while (0)

static const char *ns(int i)
{
	static char name[2][40];

	snprintf(name[i], sizeof(name[i]), "%s%c", t.prefix, 'a' + i);
	return name[i];
}

#define NS_A ns(0)
#define NS_B ns(1)

static void mac_of(const char *s, __u8 *mac)
{
	cr_assert_eq(sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
			    &mac[2], &mac[3], &mac[4], &mac[5]), 6, "%s", s);
}

static void addr_of(int family, const char *s, __be32 *addr)
{
	memset(addr, 0, 16);
	cr_assert_eq(inet_pton(family, s, addr), 1, "%s", s);
}

static void on_link(void *arg, const struct nl_link *l, bool removed)
{
	(void)arg;
	if (n_links < MAX_EV) {
		links[n_links].l = *l;
		links[n_links++].removed = removed;
	}
}

static void on_neigh(void *arg, const struct nl_neigh *n, bool removed)
{
	(void)arg;
	if (n_neighs < MAX_EV) {
		neighs[n_neighs].n = *n;
		neighs[n_neighs++].removed = removed;
	}
}

/* Route events, per family and kind: [0] IPv4, [1] IPv6; [.][1] removals. */
static int n_routes[2][2];

static void on_route(void *arg, __u8 family, bool removed)
{
	(void)arg;
	n_routes[family == AF_INET6][removed]++;
}

static const struct nl_callbacks cbs = {
	.link = on_link, .neigh = on_neigh, .route = on_route,
};

/* Dispatch events until done() holds or WAIT_MS pass; the verdict of done(). */
static bool wait_until(bool (*done)(const void *), const void *arg)
{
	struct pollfd p = { .fd = nl_event_fd(t.nl), .events = POLLIN };
	long long end = now_ms() + WAIT_MS, left;
	int n;

	for (;;) {
		n = nl_process(t.nl, &cbs, NULL);
		cr_assert(n >= 0 || n == -ENOBUFS, "nl_process: %s", strerror(-n));
		if (done(arg))
			return true;
		left = end - now_ms();
		if (left <= 0)
			return false;
		poll(&p, 1, (int)left);
	}
}

struct link_want {
	int ifindex;
	bool up;
	bool removed;
};

static bool link_seen(const void *arg)
{
	const struct link_want *w = arg;
	int i;

	for (i = 0; i < n_links; i++)
		if (links[i].l.ifindex == w->ifindex && links[i].removed == w->removed &&
		    (w->removed || links[i].l.up == w->up))
			return true;
	return false;
}

struct neigh_want {
	__u8 family;
	__be32 addr[4];
	__u8 mac[6];
	__u16 states;		/* NUD_* accepted; 0: any that holds a MAC */
};

/* A neigh event for the address that carries a usable MAC. */
static bool neigh_seen(const void *arg)
{
	const struct neigh_want *w = arg;
	int i;

	for (i = 0; i < n_neighs; i++) {
		const struct nl_neigh *n = &neighs[i].n;

		if (!neighs[i].removed && n->family == w->family &&
		    !memcmp(n->addr, w->addr, sizeof(n->addr)) && n->has_mac &&
		    (n->state & (w->states ?: NUD_REACHABLE | NUD_STALE | NUD_PERMANENT)) &&
		    !memcmp(n->mac, w->mac, 6))
			return true;
	}
	return false;
}

static bool neigh_removed(const void *arg)
{
	const struct neigh_want *w = arg;
	int i;

	for (i = 0; i < n_neighs; i++)
		if (neighs[i].removed && neighs[i].n.family == w->family &&
		    !memcmp(neighs[i].n.addr, w->addr, sizeof(w->addr)))
			return true;
	return false;
}

static bool routes_seen(const void *arg)
{
	const int *want = arg;	/* [family][removed], as n_routes */

	return n_routes[0][0] >= want[0] && n_routes[0][1] >= want[1] &&
	       n_routes[1][0] >= want[2] && n_routes[1][1] >= want[3];
}

static bool link_running(const void *arg)
{
	struct nl_link l;

	(void)arg;
	return nl_link_get(t.nl, t.ifindex, NULL, &l) == 0 && l.running;
}

/*
 * Namespaces of earlier runs whose process died before .fini could run (a
 * Criterion timeout kills the worker): recognised by the prefix, orphaned
 * when the pid in it is gone.
 */
static void remove_orphans(void)
{
	struct dirent *e;
	DIR *d;

	d = opendir("/var/run/netns");
	if (!d)
		return;
	while ((e = readdir(d))) {
		int pid, end = 0;

		if (sscanf(e->d_name, "sltnl%d-%n", &pid, &end) != 1 || !end ||
		    pid <= 0 || pid == getpid())
			continue;
		if (strcmp(e->d_name + end, "a") && strcmp(e->d_name + end, "b"))
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		if (sh(NULL, 0, "ip netns del %s", e->d_name))
			cr_log_warn("could not remove orphan namespace %s", e->d_name);
	}
	closedir(d);
}

/* .init: every step is undone by nlt_down(), even half done. */
static void nlt_up(void)
{
	char path[256];
	int fd, err, i;

	snprintf(t.prefix, sizeof(t.prefix), "sltnl%d-", (int)getpid());
	remove_orphans();
	n_links = n_neighs = 0;
	memset(n_routes, 0, sizeof(n_routes));
	t.self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(t.self_ns, 0, "own netns: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		RUN("ip netns add %s", ns(i));
		t.made[i] = true;
		RUN("ip -n %s link set lo up", ns(i));
		/*
		 * A solicitation with no packet behind it (NTF_USE) is sent
		 * from the link-local address, which DAD keeps tentative for
		 * about two seconds after the link comes up.
		 */
		RUN("ip netns exec %s sysctl -qw net.ipv6.conf.all.accept_dad=0 "
		    "net.ipv6.conf.default.accept_dad=0", ns(i));
	}
	RUN("ip -n %s link add nl0 address %s type veth peer name eth0 address %s netns %s",
	    NS_A, MAC_A, MAC_B, NS_B);
	RUN("ip -n %s addr add 198.18.5.1/24 dev nl0", NS_A);
	RUN("ip -n %s addr add 2001:db8:5::1/64 dev nl0 nodad", NS_A);
	RUN("ip -n %s addr add 198.18.5.2/24 dev eth0", NS_B);
	RUN("ip -n %s addr add 2001:db8:5::2/64 dev eth0 nodad", NS_B);
	RUN("ip -n %s link set eth0 up", NS_B);
	RUN("ip -n %s link set nl0 up", NS_A);
	RUN("ip -n %s route add 198.19.7.0/24 via 198.18.5.2", NS_A);
	RUN("ip -n %s route add 2001:db8:7::/64 via 2001:db8:5::2", NS_A);

	/* the sockets belong to the namespace they are made in */
	snprintf(path, sizeof(path), "/var/run/netns/%s", NS_A);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(setns(fd, CLONE_NEWNET), 0, "setns %s: %s", NS_A, strerror(errno));
	close(fd);
	err = nl_open(&t.nl);
	cr_assert_eq(setns(t.self_ns, CLONE_NEWNET), 0, "setns back: %s", strerror(errno));
	cr_assert_eq(err, 0, "nl_open: %s", strerror(-err));

	t.ifindex = 0;
	{
		struct nl_link l;

		err = nl_link_get(t.nl, 0, "nl0", &l);
		cr_assert_eq(err, 0, "nl_link_get nl0: %s", strerror(-err));
		t.ifindex = l.ifindex;
	}
	/* carrier comes through linkwatch, up to a second later */
	cr_assert(wait_until(link_running, NULL), "nl0 never got a carrier");
}

/* .fini: runs after the test body, also when an assertion failed. */
static void nlt_down(void)
{
	char out[256];
	int i;

	if (t.self_ns >= 0 && setns(t.self_ns, CLONE_NEWNET))
		cr_log_warn("setns back: %s", strerror(errno));
	nl_close(t.nl);
	t.nl = NULL;
	/* deleting a namespace deletes its end of the veth, and so the other */
	for (i = 0; i < 2; i++) {
		if (t.made[i] && sh(out, sizeof(out), "ip netns del %s", ns(i)))
			cr_log_warn("ip netns del %s: %s", ns(i), out);
		t.made[i] = false;
	}
	if (t.self_ns >= 0)
		close(t.self_ns);
	t.self_ns = -1;
}

TestSuite(netlink, .init = nlt_up, .fini = nlt_down, .timeout = 30);

Test(netlink, link_get_finds_a_link_by_name_and_by_index_and_says_enodev_when_absent)
{
	struct nl_link l, m;
	__u8 mac[6];

	mac_of(MAC_A, mac);
	cr_assert_eq(nl_link_get(t.nl, 0, "nl0", &l), 0);
	cr_assert_gt(l.ifindex, 0);
	cr_assert_str_eq(l.name, "nl0");
	cr_assert(l.up && l.running);
	cr_assert_eq(l.mtu, 1500);
	cr_assert_arr_eq(l.mac, mac, 6);

	cr_assert_eq(nl_link_get(t.nl, l.ifindex, NULL, &m), 0);
	cr_assert_str_eq(m.name, "nl0");
	cr_assert_eq(m.ifindex, l.ifindex);
	cr_assert_arr_eq(m.mac, mac, 6);

	cr_assert_eq(nl_link_get(t.nl, 0, "lo", &m), 0);
	cr_assert_eq(m.ifindex, 1, "lo is 1 in every namespace");
	cr_assert_eq(nl_link_get(t.nl, 0, "nosuch0", &m), -ENODEV);
	cr_assert_eq(nl_link_get(t.nl, 99999, NULL, &m), -ENODEV);
	cr_assert_eq(nl_link_get(t.nl, 0, NULL, &m), -EINVAL);
}

Test(netlink, link_events_follow_set_down_set_up_and_deletion)
{
	struct link_want w = { .ifindex = t.ifindex };
	struct nl_link l;
	int n;

	/* nothing pending must not block */
	n = nl_process(t.nl, &cbs, NULL);
	cr_assert_geq(n, 0, "nl_process: %s", strerror(-n));

	RUN("ip -n %s link set nl0 down", NS_A);
	w.up = false;
	cr_assert(wait_until(link_seen, &w), "no link event with nl0 down");
	cr_assert_eq(nl_link_get(t.nl, t.ifindex, NULL, &l), 0);
	cr_assert(!l.up && !l.running);

	n_links = 0;
	RUN("ip -n %s link set nl0 up", NS_A);
	w.up = true;
	cr_assert(wait_until(link_seen, &w), "no link event with nl0 up");

	RUN("ip -n %s link add nlx0 type veth peer name nlx1", NS_A);
	cr_assert_eq(nl_link_get(t.nl, 0, "nlx0", &l), 0);
	n_links = 0;
	RUN("ip -n %s link del nlx0", NS_A);
	w.ifindex = l.ifindex;
	w.removed = true;
	cr_assert(wait_until(link_seen, &w), "no removal event for nlx0");
	cr_assert_eq(nl_link_get(t.nl, l.ifindex, NULL, &l), -ENODEV);
}

Test(netlink, an_event_overrun_is_reported_as_enobufs_and_reading_goes_on)
{
	struct link_want w = { .ifindex = t.ifindex, .up = false };
	char path[64];
	int i, n, err = 0;
	FILE *f;

	/* more neighbour events than the 4 MiB event buffer holds, unread */
	snprintf(path, sizeof(path), "/tmp/%sbatch", t.prefix);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	for (i = 0; i < 32768; i++)
		fprintf(f, "neigh add 198.19.%d.%d lladdr 02:4e:4c:00:%02x:%02x dev nl0 nud permanent\n",
			64 + i / 256, i % 256, i / 256, i % 256);
	fclose(f);
	n = sh(NULL, 0, "ip -n %s -batch %s", NS_A, path);
	unlink(path);
	cr_assert_eq(n, 0, "ip -batch");

	for (i = 0; i < 1000 && !err; i++) {
		n = nl_process(t.nl, &cbs, NULL);
		if (n < 0)
			err = n;
		else if (n == 0)
			break;
	}
	cr_assert_eq(err, -ENOBUFS, "overrun: %s", strerror(-err));
	/* after the report, what is queued is read, and new events flow again */
	for (i = 0; i < 1000; i++) {
		n = nl_process(t.nl, &cbs, NULL);
		cr_assert_geq(n, 0, "nl_process after the overrun: %s", strerror(-n));
		if (n == 0)
			break;
	}
	cr_assert_eq(n, 0, "the queue never emptied");
	RUN("ip -n %s link set nl0 down", NS_A);
	cr_assert(wait_until(link_seen, &w), "no link event after the overrun");
}

static void check_route(int family, const char *dst, const char *gw, const char *src)
{
	__be32 d[4], want[4];
	struct nl_route r;
	int err;

	addr_of(family, dst, d);
	err = nl_route_get(t.nl, family, d, &r);
	cr_assert_eq(err, 0, "route to %s: %s", dst, strerror(-err));
	cr_assert_eq(r.ifindex, t.ifindex, "route to %s leaves by nl0", dst);
	cr_assert_eq(r.type, RTN_UNICAST);
	cr_assert_eq(r.has_gw, gw != NULL, "route to %s: gateway", dst);
	if (gw) {
		addr_of(family, gw, want);
		cr_assert_eq(r.family, family);
		cr_assert_arr_eq(r.gw, want, sizeof(want), "gateway to %s", dst);
	}
	cr_assert(r.has_prefsrc, "route to %s: source", dst);
	addr_of(family, src, want);
	cr_assert_arr_eq(r.prefsrc, want, sizeof(want), "source to %s", dst);
}

Test(netlink, route_get_gives_the_link_and_the_gateway_if_any_for_ipv4_and_ipv6)
{
	__be32 d[4];
	struct nl_route r;

	check_route(AF_INET, "198.18.5.2", NULL, "198.18.5.1");
	check_route(AF_INET, "198.19.7.9", "198.18.5.2", "198.18.5.1");
	check_route(AF_INET6, "2001:db8:5::2", NULL, "2001:db8:5::1");
	check_route(AF_INET6, "2001:db8:7::9", "2001:db8:5::2", "2001:db8:5::1");

	addr_of(AF_INET, "198.19.200.1", d);
	cr_assert_eq(nl_route_get(t.nl, AF_INET, d, &r), -ENETUNREACH);
	addr_of(AF_INET6, "2001:db8:ffff::1", d);
	cr_assert_eq(nl_route_get(t.nl, AF_INET6, d, &r), -ENETUNREACH);
}

Test(netlink, route_events_say_which_family_gained_or_lost_a_route)
{
	int added[4] = { 1, 0, 1, 0 }, removed[4] = { 1, 1, 1, 1 };

	memset(n_routes, 0, sizeof(n_routes));
	RUN("ip -n %s route add 198.19.8.0/24 via 198.18.5.2", NS_A);
	RUN("ip -n %s route add 2001:db8:8::/64 via 2001:db8:5::2", NS_A);
	cr_assert(wait_until(routes_seen, added), "route additions: %d %d",
		  n_routes[0][0], n_routes[1][0]);
	RUN("ip -n %s route del 198.19.8.0/24", NS_A);
	RUN("ip -n %s route del 2001:db8:8::/64", NS_A);
	cr_assert(wait_until(routes_seen, removed), "route removals: %d %d",
		  n_routes[0][1], n_routes[1][1]);
}

static void check_permanent(int family, const char *addr, const char *mac_s)
{
	struct neigh_want w = { .family = family };
	struct nl_neigh n;
	int err;

	RUN("ip -n %s neigh replace %s lladdr %s dev nl0 nud permanent", NS_A, addr, mac_s);
	addr_of(family, addr, w.addr);
	mac_of(mac_s, w.mac);
	err = nl_neigh_get(t.nl, t.ifindex, family, w.addr, &n);
	cr_assert_eq(err, 0, "neighbour %s: %s", addr, strerror(-err));
	cr_assert_eq(n.ifindex, t.ifindex);
	cr_assert_eq(n.family, family);
	cr_assert_arr_eq(n.addr, w.addr, sizeof(w.addr));
	cr_assert(n.has_mac);
	cr_assert_arr_eq(n.mac, w.mac, 6);
	cr_assert_eq(n.state, NUD_PERMANENT);
	cr_assert(wait_until(neigh_seen, &w), "no neigh event for %s", addr);

	/* a static entry stays static when asked to resolve it */
	cr_assert_eq(nl_neigh_resolve(t.nl, t.ifindex, family, w.addr), 0);
	err = nl_neigh_get(t.nl, t.ifindex, family, w.addr, &n);
	cr_assert_eq(err, 0, "neighbour %s after resolve: %s (state 0x%x)", addr,
		     strerror(-err), n.state);
	cr_assert_eq(n.state, NUD_PERMANENT);
	cr_assert_arr_eq(n.mac, w.mac, 6);

	RUN("ip -n %s neigh del %s dev nl0", NS_A, addr);
	cr_assert(wait_until(neigh_removed, &w), "no removal event for %s", addr);
	cr_assert_eq(nl_neigh_get(t.nl, t.ifindex, family, w.addr, &n), -ENOENT);
}

Test(netlink, neigh_get_reads_permanent_entries_and_says_enoent_when_absent)
{
	struct nl_neigh n;
	__be32 a[4];

	check_permanent(AF_INET, "198.18.5.77", "02:4e:4c:00:00:77");
	check_permanent(AF_INET6, "2001:db8:5::77", "02:4e:4c:00:00:78");

	addr_of(AF_INET, "198.18.5.78", a);
	cr_assert_eq(nl_neigh_get(t.nl, t.ifindex, AF_INET, a, &n), -ENOENT);
	addr_of(AF_INET6, "2001:db8:5::78", a);
	cr_assert_eq(nl_neigh_get(t.nl, t.ifindex, AF_INET6, a, &n), -ENOENT);
}

Test(netlink, neigh_resolve_of_the_ipv4_peer_raises_its_mac_then_nexthop_has_it)
{
	struct neigh_want w = { .family = AF_INET };
	struct nl_neigh n, hop;
	struct nexthop nh;
	__u8 mac_a[6];
	__be32 d[4];
	int err;

	addr_of(AF_INET, "198.18.5.2", w.addr);
	mac_of(MAC_B, w.mac);
	mac_of(MAC_A, mac_a);
	cr_assert_eq(nl_neigh_get(t.nl, t.ifindex, AF_INET, w.addr, &n), -ENOENT);
	err = nl_neigh_resolve(t.nl, t.ifindex, AF_INET, w.addr);
	cr_assert_eq(err, 0, "nl_neigh_resolve: %s", strerror(-err));
	cr_assert(wait_until(neigh_seen, &w), "no neigh event with the peer's MAC");

	err = nl_nexthop(t.nl, AF_INET, w.addr, &nh, &hop);
	cr_assert_eq(err, 0, "nl_nexthop: %s", strerror(-err));
	cr_assert_arr_eq(nh.dmac, w.mac, 6);
	cr_assert_arr_eq(nh.smac, mac_a, 6);
	cr_assert_eq(nh.ifindex, (__u32)t.ifindex);
	cr_assert_arr_eq(hop.addr, w.addr, sizeof(w.addr));

	/* through the gateway: the gateway's MAC, the gateway as next hop */
	addr_of(AF_INET, "198.19.7.9", d);
	err = nl_nexthop(t.nl, AF_INET, d, &nh, &hop);
	cr_assert_eq(err, 0, "nl_nexthop via gateway: %s", strerror(-err));
	cr_assert_arr_eq(nh.dmac, w.mac, 6);
	cr_assert_arr_eq(nh.smac, mac_a, 6);
	cr_assert_eq(nh.ifindex, (__u32)t.ifindex);
	cr_assert_eq(hop.family, AF_INET);
	cr_assert_arr_eq(hop.addr, w.addr, sizeof(w.addr));
}

Test(netlink, neigh_resolve_probes_a_stale_entry_until_it_is_reachable_again)
{
	struct neigh_want w = { .family = AF_INET, .states = NUD_REACHABLE };
	struct nl_neigh n;
	int err;

	/* the first probe of a STALE entry waits this long: 5 s by default */
	RUN("ip netns exec %s sysctl -qw net.ipv4.neigh.nl0.delay_first_probe_time=0", NS_A);
	RUN("ip -n %s neigh replace 198.18.5.2 lladdr %s dev nl0 nud stale", NS_A, MAC_B);
	addr_of(AF_INET, "198.18.5.2", w.addr);
	mac_of(MAC_B, w.mac);
	err = nl_neigh_get(t.nl, t.ifindex, AF_INET, w.addr, &n);
	cr_assert_eq(err, 0, "a STALE entry is usable: %s", strerror(-err));
	cr_assert_eq(n.state, NUD_STALE);

	cr_assert_eq(nl_neigh_resolve(t.nl, t.ifindex, AF_INET, w.addr), 0);
	cr_assert(wait_until(neigh_seen, &w), "the entry never became REACHABLE");
	cr_assert_eq(nl_neigh_get(t.nl, t.ifindex, AF_INET, w.addr, &n), 0);
	cr_assert_arr_eq(n.mac, w.mac, 6);
}

Test(netlink, nexthop_via_an_unresolved_ipv6_gateway_resolves_it_and_then_succeeds)
{
	struct neigh_want w = { .family = AF_INET6 };
	struct nl_neigh hop;
	struct nexthop nh;
	__u8 mac_a[6];
	__be32 d[4];
	int err;

	addr_of(AF_INET6, "2001:db8:5::2", w.addr);
	mac_of(MAC_B, w.mac);
	mac_of(MAC_A, mac_a);
	addr_of(AF_INET6, "2001:db8:7::9", d);

	err = nl_nexthop(t.nl, AF_INET6, d, &nh, &hop);
	cr_assert_eq(err, -EAGAIN, "first nl_nexthop: %s", strerror(-err));
	cr_assert_eq(nh.ifindex, (__u32)t.ifindex);
	cr_assert_arr_eq(nh.smac, mac_a, 6);
	cr_assert_eq(hop.ifindex, t.ifindex);
	cr_assert_eq(hop.family, AF_INET6);
	cr_assert_arr_eq(hop.addr, w.addr, sizeof(w.addr), "the gateway is the next hop");
	cr_assert(wait_until(neigh_seen, &w), "no neigh event with the gateway's MAC");

	err = nl_nexthop(t.nl, AF_INET6, d, &nh, &hop);
	cr_assert_eq(err, 0, "nl_nexthop: %s", strerror(-err));
	cr_assert_arr_eq(nh.dmac, w.mac, 6);
	cr_assert_arr_eq(nh.smac, mac_a, 6);
	cr_assert_eq(nh.ifindex, (__u32)t.ifindex);
	cr_assert(hop.has_mac);
	cr_assert_arr_eq(hop.mac, w.mac, 6);
}

Test(netlink, nexthop_fails_fast_without_a_route_to_a_local_address_or_an_absent_host)
{
	static const struct {
		int family;
		const char *dst;
		int err;
	} cases[] = {
		{ AF_INET, "198.19.200.1", -ENETUNREACH },	/* no route */
		{ AF_INET6, "2001:db8:ffff::1", -ENETUNREACH },
		{ AF_INET, "198.18.5.1", -EHOSTUNREACH },	/* our own */
		{ AF_INET6, "2001:db8:5::1", -EHOSTUNREACH },
		{ AF_INET, "198.18.5.99", -EAGAIN },		/* on-link, nobody there */
		{ AF_INET6, "2001:db8:5::99", -EAGAIN },
	};
	long long start = now_ms();
	struct nl_neigh hop, n;
	struct nexthop nh;
	size_t i;
	__be32 d[4];
	int err;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		addr_of(cases[i].family, cases[i].dst, d);
		err = nl_nexthop(t.nl, cases[i].family, d, &nh, &hop);
		cr_assert_eq(err, cases[i].err, "nl_nexthop %s: %s", cases[i].dst,
			     strerror(-err));
		if (err != -EAGAIN)
			continue;
		/* the resolution started is pending, not answered */
		err = nl_neigh_get(t.nl, t.ifindex, cases[i].family, d, &n);
		cr_assert_eq(err, -EAGAIN, "neighbour %s: %s", cases[i].dst, strerror(-err));
		cr_assert(!n.has_mac);
	}
	cr_assert_lt(now_ms() - start, 1000, "answers took %lld ms", now_ms() - start);
}
