// SPDX-License-Identifier: GPL-2.0
/*
 * test_veth.c: on real veth links in network namespaces that the test makes,
 * siplb_xdp attached natively on the balancer's link IPIP / IP6IP6
 * encapsulates real UDP SIP datagrams and sends them back out (XDP_TX) to the
 * backend its Maglev table names; siplb_decap attached natively on each
 * backend's link strips the outer header, and a socket bound to the VIP on the
 * backend receives the client's datagram exactly once, byte for byte, from the
 * client's address and port. Non-SIP datagrams to the VIP are dropped and
 * counted; traffic to other addresses reaches the balancer's own stack.
 *
 * Topology (prefix "sbv<pid>-", so concurrent runs never meet):
 *
 *   cl 198.18.0.10 --+                +-- be1 198.18.0.3, VIP on lo, siplb_decap
 *   2001:db8::10     |   net: br0     |   2001:db8::3
 *                    +--- (bridge) ---+
 *   lb 198.18.0.1 ---+                +-- be2 198.18.0.4, VIP on lo, siplb_decap
 *   2001:db8::1, siplb_xdp                2001:db8::4
 *
 * The client routes the VIPs (198.18.0.100, 2001:db8::100) via the balancer.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "decap.skel.h"
#include "lbtest.h"
#include "maglev.h"
#include "siplb_maps.h"

#define SIP_PORT 5060
#define PASS_PORT 5080		/* a port on the balancer's own address: no VIP */
#define N_INVITES 20		/* distinct dialogs per family, plus one BYE */
#define N_MSGS (N_INVITES + 1)
#define MSG_MAX 1500
#define WAIT_MS 3000		/* longest wait for the datagrams we expect */
#define QUIET_MS 300		/* how long "nothing more arrives" is watched */
#define N_BE 2

enum ns_id { NS_NET, NS_CL, NS_LB, NS_BE1, NS_BE2, NS__MAX };

/* Namespace suffixes; the endpoint ones also name the bridge port. */
static const char *const ns_names[NS__MAX] = {
	[NS_NET] = "net", [NS_CL] = "cl", [NS_LB] = "lb",
	[NS_BE1] = "be1", [NS_BE2] = "be2",
};

/* Endpoint addresses; their link is "eth0" in their namespace. */
struct host {
	enum ns_id ns;
	const char *mac;	/* set explicitly: the client and the nexthops pin it */
	const char *ip4, *ip6;
};

static const struct host hosts[] = {
	{ NS_CL, "02:53:42:00:00:10", "198.18.0.10", "2001:db8::10" },
	{ NS_LB, "02:53:42:00:00:01", "198.18.0.1", "2001:db8::1" },
	{ NS_BE1, "02:53:42:00:00:03", "198.18.0.3", "2001:db8::3" },
	{ NS_BE2, "02:53:42:00:00:04", "198.18.0.4", "2001:db8::4" },
};
#define H_CL 0
#define H_LB 1
#define H_BE 2			/* hosts[H_BE + b] is backend b */

#define VIP4 "198.18.0.100"
#define VIP6 "2001:db8::100"

/*
 * Everything the test made, so that .fini can take it all down. Per-family
 * arrays are indexed by f: 0 IPv4, 1 IPv6; the balancer has VIP id f, and
 * backend id f * N_BE + b sits in namespace be<b+1>.
 */
static struct topo {
	char prefix[24];
	int self_ns;		/* the test's own network namespace */
	bool made[NS__MAX];
	int ns_fd[NS__MAX];
	struct lbt *lb;		/* the balancer: skeleton, maps, tables (lbtest.h) */
	struct decap *dc[N_BE];
	int lb_ifindex;		/* eth0 in the lb namespace */
	int cl_sock[2];		/* client, per family */
	int be_sock[N_BE][2];	/* bound to the VIP on each backend, per family */
	int lb_sock[2];		/* on the balancer's own address, PASS_PORT */
	int pass_fd;		/* XDP_PASS program on the balancer's bridge port */
} t = { .self_ns = -1 };

/* One datagram the client sent and where it must come out. */
struct sent {
	char buf[MSG_MAX];
	int len;
	int be;			/* backend the balancer must choose */
	int got;		/* times received */
};

static int fam_idx(int family)
{
	return family == AF_INET6;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Run a shell command; returns its exit status, output (if wanted) in out. */
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

static const char *ns(enum ns_id n)
{
	static char name[NS__MAX][40];

	snprintf(name[n], sizeof(name[n]), "%s%s", t.prefix, ns_names[n]);
	return name[n];
}

/* Switch this thread into namespace n; leave() comes back. */
static void enter(enum ns_id n)
{
	cr_assert_eq(setns(t.ns_fd[n], CLONE_NEWNET), 0, "setns %s: %s",
		     ns(n), strerror(errno));
}

static void leave(void)
{
	cr_assert_eq(setns(t.self_ns, CLONE_NEWNET), 0, "setns back: %s",
		     strerror(errno));
}

static void sockaddr_of(int family, const char *ip, int port,
			struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET, ip, &s->sin_addr), 1, "%s", ip);
		*len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		cr_assert_eq(inet_pton(AF_INET6, ip, &s->sin6_addr), 1, "%s", ip);
		*len = sizeof(*s);
	}
}

/* A UDP socket made in namespace n and bound to ip:port (0 = any port). */
static int udp_socket(enum ns_id n, int family, const char *ip, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, err;

	sockaddr_of(family, ip, port, &ss, &len);
	enter(n);
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	err = errno;
	leave();
	cr_assert_geq(fd, 0, "socket in %s: %s", ns(n), strerror(err));
	if (family == AF_INET6)
		cr_assert_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
					sizeof(one)), 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&ss, len), 0, "bind %s:%d in %s: %s",
		     ip, port, ns(n), strerror(errno));
	return fd;
}

/* A legacy ethtool boolean (ETHTOOL_S*) on a link of namespace n. */
static void ethtool_set(enum ns_id n, const char *ifname, __u32 cmd, __u32 on)
{
	struct ethtool_value ev = { .cmd = cmd, .data = on };
	struct ifreq ifr = { 0 };
	int fd, rc, err;

	enter(n);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	err = errno;
	leave();
	cr_assert_geq(fd, 0, "socket in %s: %s", ns(n), strerror(err));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	rc = ioctl(fd, SIOCETHTOOL, &ifr);
	err = errno;
	close(fd);
	cr_assert_eq(rc, 0, "ethtool 0x%x on %s in %s: %s", cmd, ifname, ns(n),
		     strerror(err));
}

static int ifindex_in(enum ns_id n, const char *ifname)
{
	int idx;

	enter(n);
	idx = if_nametoindex(ifname);
	leave();
	cr_assert_gt(idx, 0, "%s in %s", ifname, ns(n));
	return idx;
}

/* Attach prog natively (driver mode) to a link of namespace n and check the mode. */
static void attach_native_on(enum ns_id n, const char *ifname, int prog_fd)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int idx = ifindex_in(n, ifname), err;

	enter(n);
	err = bpf_xdp_attach(idx, prog_fd, XDP_FLAGS_DRV_MODE, NULL);
	if (!err)
		err = bpf_xdp_query(idx, 0, &q);
	leave();
	cr_assert_eq(err, 0, "attach XDP natively to %s in %s: %s", ifname, ns(n),
		     strerror(-err));
	cr_assert_eq(q.attach_mode, XDP_ATTACHED_DRV, "%s in %s: mode %u",
		     ifname, ns(n), q.attach_mode);
}

static void attach_native(enum ns_id n, int prog_fd)
{
	attach_native_on(n, "eth0", prog_fd);
}

/* r0 = XDP_PASS; exit: all that a NAPI-enabling peer program needs. */
static int xdp_pass_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xdp_pass", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	cr_assert_geq(fd, 0, "load XDP_PASS program: %s", strerror(errno));
	return fd;
}

static void mac_of(const char *s, __u8 *mac)
{
	cr_assert_eq(sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
			    &mac[2], &mac[3], &mac[4], &mac[5]), 6, "%s", s);
}

static void addr_of(int family, const char *s, __be32 *addr)
{
	cr_assert_eq(inet_pton(family, s, addr), 1, "%s", s);
}

static void make_links(void)
{
	size_t i;

	RUN("ip -n %s link add br0 type bridge", ns(NS_NET));
	RUN("ip -n %s link set br0 up", ns(NS_NET));
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		const struct host *h = &hosts[i];
		const char *port = ns_names[h->ns], *n = ns(h->ns);

		RUN("ip -n %s link add name %s type veth peer name eth0 address %s netns %s",
		    ns(NS_NET), port, h->mac, n);
		RUN("ip -n %s link set %s master br0 up", ns(NS_NET), port);
		RUN("ip -n %s link set lo up", n);
		RUN("ip -n %s addr add %s/24 dev eth0", n, h->ip4);
		RUN("ip -n %s addr add %s/64 dev eth0 nodad", n, h->ip6);
		RUN("ip -n %s link set eth0 up", n);
	}
	/* The client reaches the VIPs through the balancer, whose MAC it knows. */
	RUN("ip -n %s route add %s/32 via %s", ns(NS_CL), VIP4, hosts[H_LB].ip4);
	RUN("ip -n %s route add %s/128 via %s", ns(NS_CL), VIP6, hosts[H_LB].ip6);
	RUN("ip -n %s neigh replace %s lladdr %s dev eth0 nud permanent", ns(NS_CL),
	    hosts[H_LB].ip4, hosts[H_LB].mac);
	RUN("ip -n %s neigh replace %s lladdr %s dev eth0 nud permanent", ns(NS_CL),
	    hosts[H_LB].ip6, hosts[H_LB].mac);
	/* Backends own the VIPs on lo: the decapsulated packet is local there. */
	for (i = 0; i < N_BE; i++) {
		const char *n = ns(hosts[H_BE + i].ns);

		RUN("ip -n %s addr add %s/32 dev lo", n, VIP4);
		RUN("ip -n %s addr add %s/128 dev lo nodad", n, VIP6);
	}
	/*
	 * veth offloads the UDP checksum: the client's frame holds only the
	 * pseudo-header sum, and the skb's CHECKSUM_PARTIAL says "fill it in
	 * on transmit". XDP works on the bytes; XDP_TX makes a new frame that
	 * has lost that note, so the backend's stack would find a bad checksum
	 * and drop the datagram. A real NIC computes the checksum on the wire;
	 * with offload off, so does the client's kernel here.
	 */
	ethtool_set(NS_CL, "eth0", ETHTOOL_STXCSUM, 0);
	/*
	 * veth hands XDP_TX frames to its peer's NAPI ring, and kicks that
	 * NAPI only when the peer runs an XDP program: with GRO alone the
	 * frames wait in the ring (seen on 6.18). So the balancer's bridge
	 * port gets an XDP_PASS program.
	 */
	t.pass_fd = xdp_pass_prog();
	attach_native_on(NS_NET, ns_names[NS_LB], t.pass_fd);
}

static void load_decap(int b)
{
	struct decap_key k = { .family = AF_INET };
	__u32 one = 1;
	struct decap *d;

	d = decap__open_and_load();
	cr_assert_not_null(d, "load decap (run as root)");
	t.dc[b] = d;
	addr_of(AF_INET, hosts[H_LB].ip4, k.addr);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(d->maps.decap_sources), &k,
					 &one, BPF_ANY), 0);
	memset(&k, 0, sizeof(k));
	k.family = AF_INET6;
	addr_of(AF_INET6, hosts[H_LB].ip6, k.addr);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(d->maps.decap_sources), &k,
					 &one, BPF_ANY), 0);
	attach_native(hosts[H_BE + b].ns, bpf_program__fd(d->progs.siplb_decap));
}

/* VIP f (IPv4 or IPv6) with one backend on be1 and one on be2. */
static void setup_vip(int family)
{
	struct nexthop nh = { .ifindex = t.lb_ifindex };
	int f = fam_idx(family), b;

	lbt_vip_add(t.lb, f, family, family == AF_INET ? VIP4 : VIP6, SIP_PORT,
		    SIPLB_FWD_IPIP, SIPLB_REGKEY_CALLID);
	mac_of(hosts[H_LB].mac, nh.smac);
	for (b = 0; b < N_BE; b++) {
		const struct host *h = &hosts[H_BE + b];
		__u32 id = f * N_BE + b;

		lbt_backend_add(t.lb, id, f, family == AF_INET ? h->ip4 : h->ip6,
				SIPLB_BE_UP, t.lb_ifindex);
		/* the real link: XDP_TX out of the balancer's eth0 to the backend's MAC */
		mac_of(h->mac, nh.dmac);
		lbt_nexthop_set(t.lb, id, &nh);
	}
	lbt_publish(t.lb, f);
}

static void load_balancer(void)
{
	struct siplb_config cfg;

	lbt_default_config(&cfg, MAGLEV_DEFAULT_SIZE);
	addr_of(AF_INET, hosts[H_LB].ip4, &cfg.src4);
	addr_of(AF_INET6, hosts[H_LB].ip6, cfg.src6);
	t.lb = lbt_open(&cfg, 4096);
	t.lb_ifindex = ifindex_in(NS_LB, "eth0");
	setup_vip(AF_INET);
	setup_vip(AF_INET6);
	attach_native(NS_LB, t.lb->prog_fd);
}

/*
 * Namespaces of earlier runs whose process died before its .fini could run
 * (a Criterion timeout kills the worker): ours by the prefix, orphans by the
 * pid in it.
 */
static void remove_orphans(void)
{
	struct dirent *e;
	DIR *d;

	d = opendir("/var/run/netns");
	if (!d)
		return;
	while ((e = readdir(d))) {
		int pid, end = 0, i;

		if (sscanf(e->d_name, "sbv%d-%n", &pid, &end) != 1 || !end ||
		    pid <= 0 || pid == getpid())
			continue;
		for (i = 0; i < NS__MAX; i++)
			if (!strcmp(e->d_name + end, ns_names[i]))
				break;
		if (i == NS__MAX || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		if (sh(NULL, 0, "ip netns del %s", e->d_name))
			cr_log_warn("could not remove orphan namespace %s", e->d_name);
	}
	closedir(d);
}

/* Build the whole topology; every step is undone by topo_down, even half done. */
static void topo_up(void)
{
	int i, b;

	snprintf(t.prefix, sizeof(t.prefix), "sbv%d-", (int)getpid());
	for (i = 0; i < NS__MAX; i++)
		t.ns_fd[i] = -1;
	t.pass_fd = -1;
	for (i = 0; i < 2; i++) {
		t.lb_sock[i] = -1;
		t.cl_sock[i] = -1;
		for (b = 0; b < N_BE; b++)
			t.be_sock[b][i] = -1;
	}
	remove_orphans();
	t.self_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(t.self_ns, 0, "own netns: %s", strerror(errno));
	for (i = 0; i < NS__MAX; i++) {
		char path[256];

		RUN("ip netns add %s", ns(i));
		t.made[i] = true;
		snprintf(path, sizeof(path), "/var/run/netns/%s", ns(i));
		t.ns_fd[i] = open(path, O_RDONLY | O_CLOEXEC);
		cr_assert_geq(t.ns_fd[i], 0, "%s: %s", path, strerror(errno));
	}
	make_links();
	for (b = 0; b < N_BE; b++)
		load_decap(b);
	load_balancer();

	for (i = 0; i < 2; i++) {
		int family = i ? AF_INET6 : AF_INET;

		t.cl_sock[i] = udp_socket(NS_CL, family,
					  i ? hosts[H_CL].ip6 : hosts[H_CL].ip4, 0);
		for (b = 0; b < N_BE; b++)
			t.be_sock[b][i] = udp_socket(hosts[H_BE + b].ns, family,
						     i ? VIP6 : VIP4, SIP_PORT);
		t.lb_sock[i] = udp_socket(NS_LB, family,
					  i ? hosts[H_LB].ip6 : hosts[H_LB].ip4, PASS_PORT);
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* .fini: runs after the test body, also when an assertion failed in it. */
static void topo_down(void)
{
	int i, b;

	/* An assertion may have fired inside a namespace. */
	if (t.self_ns >= 0 && setns(t.self_ns, CLONE_NEWNET))
		cr_log_warn("setns back: %s", strerror(errno));
	close_fd(&t.pass_fd);
	for (i = 0; i < 2; i++) {
		close_fd(&t.lb_sock[i]);
		close_fd(&t.cl_sock[i]);
		for (b = 0; b < N_BE; b++)
			close_fd(&t.be_sock[b][i]);
	}
	lbt_close(t.lb);
	t.lb = NULL;
	for (b = 0; b < N_BE; b++) {
		decap__destroy(t.dc[b]);
		t.dc[b] = NULL;
	}
	/* Deleting a namespace deletes its veths (and both ends of each pair),
	 * which detaches the XDP programs. */
	for (i = 0; i < NS__MAX; i++) {
		char out[256];

		close_fd(&t.ns_fd[i]);
		if (t.made[i] && sh(out, sizeof(out), "ip netns del %s", ns(i)))
			cr_log_warn("ip netns del %s: %s", ns(i), out);
		t.made[i] = false;
	}
	close_fd(&t.self_ns);
}

/* A SIP request from the client; INVITEs carry an SDP body. */
static int sip_request(char *buf, size_t size, int family, const char *method,
		       int call, int cseq, int sport, char *callid, size_t idsize)
{
	const char *cl = family == AF_INET ? "198.18.0.10" : "[2001:db8::10]";
	const char *vip = family == AF_INET ? VIP4 : "[" VIP6 "]";
	const char *host = family == AF_INET ? hosts[H_CL].ip4 : hosts[H_CL].ip6;
	char body[256] = "";
	int n;

	snprintf(callid, idsize, "veth-%d-%02d-4f1c9a@%s", family == AF_INET ? 4 : 6,
		 call, family == AF_INET ? "198.18.0.10" : "2001:db8::10");
	if (!strcmp(method, "INVITE"))
		snprintf(body, sizeof(body),
			 "v=0\r\no=alice %d 1 IN IP%d %s\r\ns=-\r\nc=IN IP%d %s\r\n"
			 "t=0 0\r\nm=audio %d RTP/AVP 0\r\n",
			 call, family == AF_INET ? 4 : 6, host,
			 family == AF_INET ? 4 : 6, host, 20000 + 2 * call);
	n = snprintf(buf, size,
		     "%s sip:bob@%s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%d-%d\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:alice@example.com>;tag=a%d\r\n"
		     "To: <sip:bob@example.com>%s\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %d %s\r\n"
		     "Contact: <sip:alice@%s:%d>\r\n"
		     "%s"
		     "Content-Length: %zu\r\n\r\n%s",
		     method, vip, cl, sport, call, cseq, call,
		     cseq > 1 ? ";tag=b1" : "", callid, cseq, method, cl, sport,
		     body[0] ? "Content-Type: application/sdp\r\n" : "",
		     strlen(body), body);
	cr_assert(n > 0 && (size_t)n < size);
	return n;
}

/* Backend (0..N_BE-1) the published table gives a Call-ID. */
static int chosen_backend(int family, const char *callid)
{
	int f = fam_idx(family);
	__u32 id = lbt_maglev_pick(t.lb, f, lbt_hash(t.lb, callid, strlen(callid)));

	cr_assert(id / N_BE == (__u32)f, "the table of VIP %d holds backend %u", f, id);
	return id % N_BE;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void send_to(int fd, int family, const char *ip, int port,
		    const void *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t slen;
	ssize_t n;

	sockaddr_of(family, ip, port, &ss, &slen);
	n = sendto(fd, buf, len, 0, (struct sockaddr *)&ss, slen);
	cr_assert_eq(n, (ssize_t)len, "sendto %s:%d: %s", ip, port, strerror(errno));
}

/* Did the datagram come from the client's address and port? */
static bool from_client(const struct sockaddr_storage *ss, int family, int port)
{
	__u8 want[16];

	addr_of(family, family == AF_INET ? hosts[H_CL].ip4 : hosts[H_CL].ip6,
		(__be32 *)want);
	if (ss->ss_family != family)
		return false;
	if (family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		return !memcmp(&s->sin_addr, want, 4) && ntohs(s->sin_port) == port;
	}
	return !memcmp(&((const struct sockaddr_in6 *)ss)->sin6_addr, want, 16) &&
	       ntohs(((const struct sockaddr_in6 *)ss)->sin6_port) == port;
}

/*
 * Read datagrams from fds[0..n) until `want` arrived or ms passed; each is
 * matched to the message with the same bytes in msgs[]. Returns how many
 * datagrams were read; asserts each came from the client and on the backend
 * its message was meant for.
 */
static int collect(const int *fds, int n, int family, int sport,
		   struct sent *msgs, int nmsgs, int want, int ms)
{
	long long end = now_ms() + ms;
	int got = 0;

	while (got < want || want < 0) {
		struct pollfd pfd[N_BE];
		long long left = end - now_ms();
		int i, rc;

		if (left <= 0)
			break;
		for (i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		rc = poll(pfd, n, (int)left);
		cr_assert_geq(rc, 0, "poll: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			struct sockaddr_storage ss;
			socklen_t slen = sizeof(ss);
			char buf[MSG_MAX + 1];
			ssize_t len;
			int j;

			if (!(pfd[i].revents & POLLIN))
				continue;
			len = recvfrom(fds[i], buf, sizeof(buf), 0,
				       (struct sockaddr *)&ss, &slen);
			if (len < 0 && errno == EAGAIN)
				continue;
			cr_assert_geq(len, 0, "recvfrom: %s", strerror(errno));
			got++;
			cr_assert(from_client(&ss, family, sport),
				  "datagram on backend %d not from the client's address and port", i);
			for (j = 0; j < nmsgs; j++)
				if (msgs[j].len == len && !memcmp(msgs[j].buf, buf, len))
					break;
			cr_assert_lt(j, nmsgs, "socket %d got an unexpected datagram "
				     "(%zd bytes): %.*s", i, len,
				     (int)(len > 200 ? 200 : len), buf);
			msgs[j].got++;
			cr_assert_eq(msgs[j].got, 1, "message %d received twice", j);
			cr_assert_eq(msgs[j].be, i, "message %d on backend %d, its "
				     "Call-ID's backend is %d", j, i, msgs[j].be);
		}
	}
	return got;
}

static __u64 percpu(int fd, __u32 idx)
{
	__u64 v = 0;

	cr_assert_eq(lb_percpu_sum(fd, idx, &v), 0);
	return v;
}

static __u64 drops_total(void)
{
	__u64 sum = 0;
	__u32 i;

	for (i = 0; i < SIPLB_DROP__MAX; i++)
		sum += percpu(t.lb->maps.drop_stats, i);
	return sum;
}

static __u64 slow_total(void)
{
	__u64 sum = 0;
	__u32 i;

	for (i = 0; i < SIPLB_SLOW__MAX; i++)
		sum += percpu(t.lb->maps.slow_stats, i);
	return sum;
}

/* Wait (bounded) until a per-CPU counter reaches want; returns its value. */
static __u64 wait_counter(int fd, __u32 idx, __u64 want)
{
	long long end = now_ms() + WAIT_MS;
	__u64 v;

	while ((v = percpu(fd, idx)) < want && now_ms() < end)
		usleep(5000);
	return v;
}

/* 20 INVITEs with distinct Call-IDs and a BYE in the first dialog, one family. */
static void sip_through_the_balancer(int family)
{
	static struct sent msgs[N_MSGS];
	int f = fam_idx(family), sport = local_port(t.cl_sock[f]);
	int fds[N_BE] = { t.be_sock[0][f], t.be_sock[1][f] };
	int per_be[N_BE] = { 0 }, i, b, got;
	__u64 bytes[N_BE] = { 0 }, all_bytes = 0;
	const char *vip = family == AF_INET ? VIP4 : VIP6;
	size_t iphdr = family == AF_INET ? 20 : 40;
	struct traffic tr;

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < N_MSGS; i++) {
		struct sent *s = &msgs[i];
		char callid[96];

		/* the last one is the BYE of dialog 0 */
		s->len = sip_request(s->buf, sizeof(s->buf), family,
				     i < N_INVITES ? "INVITE" : "BYE",
				     i < N_INVITES ? i : 0, i < N_INVITES ? 1 : 2,
				     sport, callid, sizeof(callid));
		s->be = chosen_backend(family, callid);
		per_be[s->be]++;
		bytes[s->be] += iphdr + 8 + s->len;
		all_bytes += iphdr + 8 + s->len;
	}
	cr_assert(per_be[0] && per_be[1],
		  "the Call-IDs must spread over both backends (%d, %d)",
		  per_be[0], per_be[1]);

	for (i = 0; i < N_MSGS; i++)
		send_to(t.cl_sock[f], family, vip, SIP_PORT, msgs[i].buf, msgs[i].len);
	got = collect(fds, N_BE, family, sport, msgs, N_MSGS, N_MSGS, WAIT_MS);
	for (i = 0; i < N_MSGS; i++)
		cr_expect_eq(msgs[i].got, 1, "message %d (backend %d) received %d "
			     "times", i, msgs[i].be, msgs[i].got);
	cr_assert_eq(got, N_MSGS, "received %d of %d datagrams (decap stats: "
		     "be1 %llu, be2 %llu; forwarded %llu)", got, N_MSGS,
		     (unsigned long long)percpu(bpf_map__fd(t.dc[0]->maps.decap_stats),
						DECAP_STAT_DECAPSULATED),
		     (unsigned long long)percpu(bpf_map__fd(t.dc[1]->maps.decap_stats),
						DECAP_STAT_DECAPSULATED),
		     (unsigned long long)percpu(t.lb->maps.event_stats, SIPLB_EV_FORWARDED));
	/* nothing more: no duplicates on their way */
	got = collect(fds, N_BE, family, sport, msgs, N_MSGS, -1, QUIET_MS);
	cr_assert_eq(got, 0, "%d datagrams more than sent", got);

	/* The balancer's counters tell the same story. */
	cr_assert_eq(percpu(t.lb->maps.event_stats, SIPLB_EV_FORWARDED), N_MSGS);
	cr_assert_eq(percpu(t.lb->maps.event_stats, SIPLB_EV_MAGLEV_PICK), N_INVITES);
	cr_assert_eq(percpu(t.lb->maps.event_stats, SIPLB_EV_AFFINITY_NEW), N_INVITES);
	cr_assert_eq(percpu(t.lb->maps.event_stats, SIPLB_EV_AFFINITY_HIT), 1,
		     "the BYE follows its INVITE through the affinity map");
	cr_assert_eq(drops_total(), 0);
	cr_assert_eq(slow_total(), 0);
	cr_assert_eq(lb_traffic_sum(t.lb->maps.vip_stats, f, &tr), 0);
	cr_assert_eq(tr.packets, N_MSGS);
	cr_assert_eq(tr.bytes, all_bytes);
	for (b = 0; b < N_BE; b++) {
		int dfd = bpf_map__fd(t.dc[b]->maps.decap_stats);

		cr_assert_eq(lb_traffic_sum(t.lb->maps.backend_stats, f * N_BE + b, &tr), 0);
		cr_assert_eq(tr.packets, (__u64)per_be[b], "backend %d packets", b);
		cr_assert_eq(tr.bytes, bytes[b], "backend %d bytes", b);
		cr_assert_eq(percpu(dfd, DECAP_STAT_DECAPSULATED), (__u64)per_be[b],
			     "backend %d decapsulated", b);
		cr_assert_eq(percpu(dfd, DECAP_STAT_UNKNOWN_SOURCE), 0);
		cr_assert_eq(percpu(dfd, DECAP_STAT_MALFORMED), 0);
	}
}

/*
 * A non-SIP datagram to the VIP: dropped by XDP as not_sip, never at a
 * backend. A SIP message sent after it marks when the drop must have happened.
 */
static void non_sip_is_dropped(int family)
{
	static const char rtp[] = "\x80\x00\x00\x01\x00\x00\x00\xa0\x12\x34\x56\x78"
				  "not a SIP message";
	static struct sent marker;
	int f = fam_idx(family), sport = local_port(t.cl_sock[f]);
	int fds[N_BE] = { t.be_sock[0][f], t.be_sock[1][f] };
	const char *vip = family == AF_INET ? VIP4 : VIP6;
	struct lbt_counters c0, c;
	char callid[96];
	int got;

	lbt_counters_read(t.lb, &c0);
	send_to(t.cl_sock[f], family, vip, SIP_PORT, rtp, sizeof(rtp) - 1);
	memset(&marker, 0, sizeof(marker));
	marker.len = sip_request(marker.buf, sizeof(marker.buf), family, "INVITE",
				 99, 1, sport, callid, sizeof(callid));
	marker.be = chosen_backend(family, callid);
	send_to(t.cl_sock[f], family, vip, SIP_PORT, marker.buf, marker.len);
	got = collect(fds, N_BE, family, sport, &marker, 1, 1, WAIT_MS);
	cr_assert_eq(got, 1, "the SIP message sent after the non-SIP one must arrive");
	cr_assert_eq(wait_counter(t.lb->maps.drop_stats, SIPLB_DROP_NOT_SIP,
				  c0.drop[SIPLB_DROP_NOT_SIP] + 1),
		     c0.drop[SIPLB_DROP_NOT_SIP] + 1, "drop_stats not_sip");
	got = collect(fds, N_BE, family, sport, &marker, 1, -1, QUIET_MS);
	cr_assert_eq(got, 0, "the non-SIP datagram reached a backend");
	lbt_counters_read(t.lb, &c);
	cr_assert_eq(c.ev[SIPLB_EV_FORWARDED], c0.ev[SIPLB_EV_FORWARDED] + 1,
		     "only the SIP message is forwarded");
	cr_assert_eq(drops_total(), 1, "only the non-SIP datagram is dropped");
	cr_assert_eq(slow_total(), 0);
}

/*
 * A SIP INVITE to the balancer's own address (a port that is no VIP): XDP
 * passes it, the balancer's own socket receives it as sent, no backend does.
 */
static void own_address_passes(int family)
{
	static struct sent msg;
	int f = fam_idx(family), sport = local_port(t.cl_sock[f]);
	int fds[N_BE] = { t.be_sock[0][f], t.be_sock[1][f] };
	const char *own = family == AF_INET ? hosts[H_LB].ip4 : hosts[H_LB].ip6;
	struct lbt_counters c0, c;
	char callid[96];
	int got;

	lbt_counters_read(t.lb, &c0);
	memset(&msg, 0, sizeof(msg));
	msg.len = sip_request(msg.buf, sizeof(msg.buf), family, "INVITE", 7, 1,
			      sport, callid, sizeof(callid));
	msg.be = 0;		/* index of the balancer's socket in collect() */
	send_to(t.cl_sock[f], family, own, PASS_PORT, msg.buf, msg.len);
	got = collect(&t.lb_sock[f], 1, family, sport, &msg, 1, 1, WAIT_MS);
	cr_assert_eq(got, 1, "the balancer's own socket must get the datagram");
	msg.got = 0;
	got = collect(fds, N_BE, family, sport, &msg, 1, -1, QUIET_MS);
	cr_assert_eq(got, 0, "a datagram not for the VIP reached a backend");
	lbt_counters_read(t.lb, &c);
	cr_assert(!memcmp(&c, &c0, sizeof(c)), "a datagram not for the VIP was counted");
}

/*
 * One test per family: the setup (five namespaces, three programs through the
 * verifier) costs more than the checks, so each test runs them all.
 */
Test(veth, ipv4_sip_arrives_unchanged_non_sip_is_dropped_other_udp_passes,
     .fini = topo_down, .timeout = 25)
{
	topo_up();
	sip_through_the_balancer(AF_INET);
	non_sip_is_dropped(AF_INET);
	own_address_passes(AF_INET);
}

Test(veth, ipv6_sip_arrives_unchanged_non_sip_is_dropped_other_udp_passes,
     .fini = topo_down, .timeout = 25)
{
	topo_up();
	sip_through_the_balancer(AF_INET6);
	non_sip_is_dropped(AF_INET6);
	own_address_passes(AF_INET6);
}
