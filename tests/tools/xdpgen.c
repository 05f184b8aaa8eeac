// SPDX-License-Identifier: GPL-2.0
/* xdpgen.c: a live-frames SIP traffic generator (BPF_F_TEST_XDP_LIVE_FRAMES) and an XDP_DROP sink. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdpgen.skel.h"

#define MAX_COUNT 200000000ULL	/* --count bound */
#define MAX_SECONDS 120.0	/* --seconds bound */
#define MAX_THREADS 64
#define MAX_FRAME 1500		/* one page per frame in live mode; stay within an MTU */
#define CHUNK 32768		/* frames per BPF_PROG_TEST_RUN call */
#define DIGITS "00000000"	/* placeholder of the per-frame Call-ID number */
#define MAX_TEMPLATES 3

enum tmpl { T_INVITE, T_OK, T_BYE, T_GARBAGE, T_UDP };

static const char *const tmpl_names[] = {
	[T_INVITE] = "invite", [T_OK] = "ok", [T_BYE] = "bye",
	[T_GARBAGE] = "garbage", [T_UDP] = "udp",
};

struct frame {
	enum tmpl kind;
	unsigned char buf[MAX_FRAME];
	size_t len;
	unsigned digits_off;	/* 0: none */
};

static struct {
	const char *iface;
	int ifindex;
	unsigned char src_mac[ETH_ALEN], dst_mac[ETH_ALEN];
	bool have_dst_mac;
	struct in_addr src, dst;
	bool have_src, have_dst;
	unsigned sport, dport;
	const char *template;
	unsigned long long count;	/* 0: bounded by time only */
	double seconds;			/* 0: bounded by count only */
	unsigned long long callids;
	const char *prefix;
	const char *user_agent;
	uint32_t spoof_base, spoof_mask;
	bool spoof;
	int threads;
	int cpus[MAX_THREADS];
	int ncpus_given;
	unsigned batch;
	bool udp_csum, json, bpf_stats;
} o = {
	.sport = 5060, .dport = 5060, .template = "invite", .callids = 10000,
	.prefix = "xg", .user_agent = "siplb-xdpgen/1.0", .threads = 1, .batch = 64,
};

static struct frame frames[MAX_TEMPLATES];
static int nframes;
static int rxqueues = 1;
static int prog_fd;
static atomic_ullong claimed;	/* frames handed to threads so far */
static atomic_bool stop;
static double deadline;		/* CLOCK_MONOTONIC seconds; 0: none */

struct thread {
	pthread_t tid;
	int idx, cpu;
	unsigned long long sent;
	int err;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xdpgen send --iface IFACE --dst-mac MAC --dst IP [options]\n"
		"       xdpgen sink attach|stats|detach IFACE\n"
		"       xdpgen switch PORT[=MAC[,sink]] [PORT[=MAC[,sink]]...]\n"
		"       xdpgen switch-sink on|off|stats PORT\n"
		"       xdpgen progstats IFACE\n"
		"\n"
		"A traffic generator for siplb's benchmarks and flood tests: an XDP program\n"
		"(bpf/xdpgen.bpf.c) run with BPF_PROG_TEST_RUN in live-frames mode\n"
		"(BPF_F_TEST_XDP_LIVE_FRAMES) restores each recycled frame from the template,\n"
		"rewrites it and returns XDP_TX, so the kernel transmits it out of IFACE, a few million\n"
		"frames per second per core on veth. For a veth IFACE the peer must run an\n"
		"XDP program (e.g. tbnet xdp-pass PEER), else the frames are dropped.\n"
		"\n"
		"send: frames Ethernet/IPv4/UDP to DST:DPORT. Per frame the program writes a\n"
		"Call-ID number (8 hex digits: <prefix>-<n>@<src>, n cycling 0..K-1 per CPU)\n"
		"and with --spoof-src a random source address of the prefix, fixing the IPv4\n"
		"checksum (and the UDP checksum with --udp-csum; otherwise it is 0).\n"
		"  -i, --iface IFACE       send out of IFACE (XDP_TX on its ingress)\n"
		"  -m, --dst-mac MAC       destination MAC (the balancer's)\n"
		"  -s, --src IP            source IPv4 (default: IFACE's first address)\n"
		"  -d, --dst IP            destination IPv4 (the VIP)\n"
		"      --sport N, --dport N  UDP ports (default 5060, 5060)\n"
		"  -t, --template T        invite (default; 822-byte frame, SDP, Call-ID 272\n"
		"                          bytes into the SIP message), ok (200 OK to INVITE, SDP),\n"
		"                          bye, mix (invite, ok, bye in turn, by chunks of %d),\n"
		"                          garbage (binary, not SIP), udp (18-byte non-SIP\n"
		"                          payload: a 60-byte frame)\n"
		"  -n, --count N           frames to send in all (at most %llu)\n"
		"  -S, --seconds S         stop after S seconds (at most %.0f; default 5 if\n"
		"                          no --count)\n"
		"  -k, --callids K         distinct Call-IDs (default 10000; 1..2^32)\n"
		"  -p, --prefix P          Call-ID prefix (default xg)\n"
		"  -u, --user-agent UA     User-Agent of the SIP templates (default\n"
		"                          siplb-xdpgen/1.0; friendly-scanner for a scanner)\n"
		"      --spoof-src CIDR    random source address per frame out of CIDR, which\n"
		"                          must lie within 198.18.0.0/15\n"
		"  -T, --threads N         sending threads (default 1), one per CPU\n"
		"  -c, --cpus LIST         CPUs for the threads, e.g. 0,1 (default 0..N-1)\n"
		"  -b, --batch N           frames per kernel batch (default 64, at most 256)\n"
		"      --udp-csum          send with UDP checksums (default: 0, none)\n"
		"      --bpf-stats         keep BPF run-time statistics on while sending\n"
		"                          (BPF_ENABLE_STATS), for progstats of other programs\n"
		"  -j, --json              print the result as one JSON object\n"
		"Prints frames sent (by the program; frames a full veth ring drops are\n"
		"not noticed), the time and the rate.\n"
		"\n"
		"sink attach IFACE: attach xdpgen_sink natively: counts every frame and\n"
		"drops it (ARP too: pin neighbours). It stays after xdpgen exits.\n"
		"sink stats IFACE: print \"frames N\" counted by the attached sink.\n"
		"sink detach IFACE: remove it (refuses another program).\n"
		"switch PORT[=MAC]...: attach xdpgen_switch to every PORT (bridge ports of\n"
		"veths, natively): a frame to one of the MACs is redirected to its PORT\n"
		"(a PORT without MAC only receives: its peer need not run XDP)\n"
		"switch-sink on|off PORT: while on, frames to MACs marked \",sink\" are\n"
		"counted and dropped by the switch instead of forwarded (what a balancer\n"
		"sends, counted on the wire); stats prints \"frames N\" so counted.\n"
		"without becoming an skb; anything else goes on to the bridge. A cheap\n"
		"wire for benchmarks; the ports' peers must run XDP.\n"
		"progstats IFACE: the XDP program attached to IFACE: \"id N name NAME\n"
		"run_cnt N run_time_ns N\" (run time counts only while statistics are on).\n",
		CHUNK, MAX_COUNT, MAX_SECONDS);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop, true);
}

static int parse_mac(const char *s, unsigned char *mac)
{
	unsigned v[ETH_ALEN];
	char extra;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &extra) != 6)
		return -1;
	for (i = 0; i < ETH_ALEN; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = v[i];
	}
	return 0;
}

static int iface_mac(const char *ifname, unsigned char *mac)
{
	char path[128], line[64];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	f = fopen(path, "r");
	if (!f)
		return -1;
	rc = fgets(line, sizeof(line), f) ? parse_mac(strtok(line, "\n"), mac) : -1;
	fclose(f);
	return rc;
}

static int iface_rxqueues(const char *ifname)
{
	char path[128];
	int n;

	for (n = 0; n < 1024; n++) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/queues/rx-%d", ifname, n);
		if (access(path, F_OK))
			break;
	}
	return n ? n : 1;
}

static int iface_addr4(const char *ifname, struct in_addr *a)
{
	struct ifaddrs *ifa, *p;
	int rc = -1;

	if (getifaddrs(&ifa))
		return -1;
	for (p = ifa; p; p = p->ifa_next) {
		if (p->ifa_addr && p->ifa_addr->sa_family == AF_INET &&
		    !strcmp(p->ifa_name, ifname)) {
			*a = ((struct sockaddr_in *)p->ifa_addr)->sin_addr;
			rc = 0;
			break;
		}
	}
	freeifaddrs(ifa);
	return rc;
}

static int parse_ull(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' || *out > max ? -1 : 0;
}

static int parse_cpus(const char *s)
{
	char *copy = strdup(s), *tok, *save = NULL;
	int n = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long long v;

		if (n == MAX_THREADS || parse_ull(tok, CPU_SETSIZE - 1, &v)) {
			free(copy);
			return -1;
		}
		o.cpus[n++] = v;
	}
	free(copy);
	o.ncpus_given = n;
	return n ? 0 : -1;
}

/* CIDR within 198.18.0.0/15 (the benchmarking range). */
static int parse_spoof(const char *s)
{
	char buf[64], *slash;
	struct in_addr a;
	unsigned long long len;
	uint32_t addr, mask;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = 0;
	if (inet_pton(AF_INET, buf, &a) != 1 || parse_ull(slash + 1, 32, &len) || len < 15)
		return -1;
	addr = ntohl(a.s_addr);
	mask = len == 32 ? 0xffffffffu : ~(0xffffffffu >> len);
	if ((addr & 0xfffe0000u) != 0xc6120000u)	/* 198.18.0.0/15 */
		return -1;
	o.spoof_base = addr & mask;
	o.spoof_mask = ~mask;
	o.spoof = true;
	return 0;
}

/* --- templates --------------------------------------------------------------- */

static const char sdp_fmt[] =
	"v=0\r\n"
	"o=- 2890844526 2890844526 IN IP4 %s\r\n"
	"s=-\r\n"
	"c=IN IP4 %s\r\n"
	"t=0 0\r\n"
	"m=audio 49170 RTP/AVP 0 8 101\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-16\r\n"
	"a=ptime:20\r\n"
	"a=maxptime:150\r\n"
	"a=sendrecv\r\n";

/* The SIP message of a template; the Call-ID holds DIGITS. Returns its length. */
static int sip_message(enum tmpl kind, const char *prefix, char *out, size_t size)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN], sdp[1024];
	int sdplen;

	inet_ntop(AF_INET, &o.src, src, sizeof(src));
	inet_ntop(AF_INET, &o.dst, dst, sizeof(dst));
	sdplen = snprintf(sdp, sizeof(sdp), sdp_fmt, src, src);
	switch (kind) {
	case T_INVITE:
		return snprintf(out, size,
			"INVITE sip:bob@%s:5060 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-524287-1---6c0a5a1c0b8f3e21;rport\r\n"
			"Max-Forwards: 70\r\n"
			"From: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
			"To: <sip:bob@biloxi.example.com>\r\n"
			"Contact: <sip:alice@%s:%u;transport=udp>\r\n"
			"Call-ID: %s-" DIGITS "@%s\r\n"
			"CSeq: 1 INVITE\r\n"
			"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, UPDATE, PRACK\r\n"
			"Supported: replaces, timer, 100rel\r\n"
			"User-Agent: %s\r\n"
			"Content-Type: application/sdp\r\n"
			"Content-Length: %d\r\n"
			"\r\n%s",
			dst, src, o.sport, src, o.sport, prefix, src, o.user_agent, sdplen, sdp);
	case T_OK:
		return snprintf(out, size,
			"SIP/2.0 200 OK\r\n"
			"Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-524287-1---6c0a5a1c0b8f3e21;rport=5060\r\n"
			"From: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
			"To: <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
			"Call-ID: %s-" DIGITS "@%s\r\n"
			"CSeq: 1 INVITE\r\n"
			"Contact: <sip:bob@%s:%u;transport=udp>\r\n"
			"Record-Route: <sip:%s;lr>\r\n"
			"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, UPDATE, PRACK\r\n"
			"Supported: replaces, timer\r\n"
			"User-Agent: %s\r\n"
			"Content-Type: application/sdp\r\n"
			"Content-Length: %d\r\n"
			"\r\n%s",
			dst, prefix, dst, src, o.sport, dst, o.user_agent, sdplen, sdp);
	case T_BYE:
		return snprintf(out, size,
			"BYE sip:bob@%s:5060 SIP/2.0\r\n"
			"Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-524287-1---9b1e44f0a3d2c7a2;rport\r\n"
			"Max-Forwards: 70\r\n"
			"From: \"Alice\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
			"To: <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
			"Call-ID: %s-" DIGITS "@%s\r\n"
			"CSeq: 2 BYE\r\n"
			"User-Agent: %s\r\n"
			"Content-Length: 0\r\n"
			"\r\n",
			dst, src, o.sport, prefix, src, o.user_agent);
	default:
		return -1;
	}
}

static uint16_t csum16(const void *p, size_t len, uint32_t sum)
{
	const unsigned char *b = p;

	for (; len > 1; len -= 2, b += 2)
		sum += (uint32_t)b[0] << 8 | b[1];
	if (len)
		sum += (uint32_t)b[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static int build_frame(struct frame *fr, enum tmpl kind)
{
	const size_t hdr = sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr);
	struct ethhdr *eth = (void *)fr->buf;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	unsigned char *payload = (void *)(udp + 1);
	size_t plen = 0, i;
	char prefix[64];

	memset(fr, 0, sizeof(*fr));
	fr->kind = kind;
	if (kind == T_GARBAGE) {
		uint32_t x = 2463534242u;	/* xorshift: fixed bytes, not SIP */

		plen = 160;
		for (i = 0; i < plen; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			payload[i] = x;
		}
		payload[0] = 0x80;	/* not a letter: no SIP start line */
	} else if (kind == T_UDP) {
		plen = 18;	/* 60-byte frame, the Ethernet minimum without FCS */
		memcpy(payload, "xdpgen non-SIP UDP", plen);
	} else {
		char *digits;
		int n;

		snprintf(prefix, sizeof(prefix), "%s", o.prefix);
		for (;;) {
			n = sip_message(kind, prefix, (char *)payload, MAX_FRAME - hdr);
			if (n < 0 || (size_t)n >= MAX_FRAME - hdr) {
				fprintf(stderr, "xdpgen: %s template does not fit in %d bytes\n",
					tmpl_names[kind], MAX_FRAME);
				return -1;
			}
			digits = strstr((char *)payload, "-" DIGITS "@") + 1;
			/* even offset from the UDP header: whole checksum words */
			if ((digits - (char *)udp) % 2 == 0)
				break;
			if (strlen(prefix) + 2 > sizeof(prefix))
				return -1;
			strcat(prefix, "x");
		}
		plen = n;
		fr->digits_off = digits - (char *)fr->buf;
	}
	fr->len = hdr + plen;
	memcpy(eth->h_dest, o.dst_mac, ETH_ALEN);
	memcpy(eth->h_source, o.src_mac, ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(fr->len - sizeof(*eth));
	ip->frag_off = htons(0x4000);	/* DF */
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = o.spoof ? htonl(o.spoof_base) : o.src.s_addr;
	ip->daddr = o.dst.s_addr;
	ip->check = htons(csum16(ip, sizeof(*ip), 0));
	udp->source = htons(o.sport);
	udp->dest = htons(o.dport);
	udp->len = htons(sizeof(*udp) + plen);
	if (o.udp_csum) {
		uint32_t sum = 0;
		uint16_t c;

		/* pseudo header */
		sum += ntohl(ip->saddr) >> 16;
		sum += ntohl(ip->saddr) & 0xffff;
		sum += ntohl(ip->daddr) >> 16;
		sum += ntohl(ip->daddr) & 0xffff;
		sum += IPPROTO_UDP;
		sum += sizeof(*udp) + plen;
		c = csum16(udp, sizeof(*udp) + plen, sum);
		udp->check = htons(c ? c : 0xffff);
	}
	return 0;
}

/* --- sending ----------------------------------------------------------------- */

static void *sender(void *arg)
{
	struct thread *t = arg;
	struct xdp_md ctx = { 0 };
	cpu_set_t set;
	unsigned long long round = 0;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) {
		t->err = EINVAL;
		return NULL;
	}
	ctx.ingress_ifindex = o.ifindex;
	ctx.rx_queue_index = t->idx % rxqueues;
	while (!atomic_load(&stop)) {
		struct frame *fr = &frames[(t->idx + round++) % nframes];
		unsigned long long chunk = CHUNK, got;
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			.data_in = fr->buf,
			.data_size_in = fr->len,
			.ctx_in = &ctx,
			.ctx_size_in = sizeof(ctx),
			.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
			.batch_size = o.batch,
		);

		if (deadline && now_s() >= deadline)
			break;
		if (o.count) {
			got = atomic_fetch_add(&claimed, chunk);
			if (got >= o.count)
				break;
			if (got + chunk > o.count)
				chunk = o.count - got;
		}
		ctx.data_end = fr->len;
		opts.repeat = chunk;
		if (bpf_prog_test_run_opts(prog_fd, &opts)) {
			t->err = errno;
			atomic_store(&stop, true);
			break;
		}
		t->sent += chunk;
	}
	return NULL;
}

static int ncpus_possible(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : 1;
}

static int cmd_send(void)
{
	struct thread th[MAX_THREADS];
	struct xdpgen *skel;
	struct gen_state { __u32 next, pad; __u64 frames, errors; } *st;
	unsigned long long sent = 0, prog_frames = 0, prog_errors = 0;
	int ncpu = ncpus_possible(), i, err = 0, stats_fd = -1;
	double t0, t1;
	size_t bytes = 0;
	__u32 key = 0;

	if (!o.iface || !o.have_dst_mac || !o.have_dst) {
		fprintf(stderr, "xdpgen: send needs --iface, --dst-mac and --dst\n");
		return 2;
	}
	o.ifindex = if_nametoindex(o.iface);
	if (!o.ifindex) {
		fprintf(stderr, "xdpgen: unknown interface '%s'\n", o.iface);
		return 1;
	}
	if (iface_mac(o.iface, o.src_mac)) {
		fprintf(stderr, "xdpgen: no MAC address for %s\n", o.iface);
		return 1;
	}
	if (!o.have_src && iface_addr4(o.iface, &o.src)) {
		fprintf(stderr, "xdpgen: %s has no IPv4 address: give --src\n", o.iface);
		return 1;
	}
	rxqueues = iface_rxqueues(o.iface);
	if (!o.count && !o.seconds)
		o.seconds = 5;
	if (!o.ncpus_given)
		for (i = 0; i < o.threads; i++)
			o.cpus[i] = i;
	else if (o.ncpus_given < o.threads) {
		fprintf(stderr, "xdpgen: --cpus names %d CPUs for %d threads\n",
			o.ncpus_given, o.threads);
		return 2;
	}
	if (!strcmp(o.template, "mix")) {
		nframes = 3;
		err = build_frame(&frames[0], T_INVITE) || build_frame(&frames[1], T_OK) ||
		      build_frame(&frames[2], T_BYE);
	} else {
		enum tmpl k;

		for (k = T_INVITE; k <= T_UDP; k++)
			if (!strcmp(o.template, tmpl_names[k]))
				break;
		if (k > T_UDP) {
			fprintf(stderr, "xdpgen: unknown template '%s'\n", o.template);
			return 2;
		}
		nframes = 1;
		err = build_frame(&frames[0], k);
	}
	if (err)
		return 1;

	skel = xdpgen__open();
	if (!skel) {
		fprintf(stderr, "xdpgen: open BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->callids = o.callids > 0xffffffffULL ? 0xffffffffu : o.callids;
	skel->rodata->spoof_base = o.spoof_base;
	skel->rodata->spoof_mask = o.spoof_mask;
	err = xdpgen__load(skel);
	if (err) {
		fprintf(stderr, "xdpgen: load BPF object: %s\n", strerror(-err));
		xdpgen__destroy(skel);
		return 1;
	}
	prog_fd = bpf_program__fd(skel->progs.xdpgen_tx);
	/* the program copies the template back into every frame (xdpgen.bpf.c) */
	for (i = 0; i < nframes; i++) {
		struct {
			__u32 len, digits_off;
			__u8 data[2048];	/* TMPL_FRAME_MAX */
		} t = { .len = frames[i].len, .digits_off = frames[i].digits_off };
		__u32 k = i;
		int j;

		for (j = 0; j < i; j++)
			if (frames[j].len == frames[i].len) {
				fprintf(stderr, "xdpgen: two templates of %zu bytes\n",
					frames[i].len);
				err = 1;
			}
		memcpy(t.data, frames[i].buf, frames[i].len);
		if (!err && bpf_map_update_elem(bpf_map__fd(skel->maps.templates), &k, &t, 0)) {
			fprintf(stderr, "xdpgen: templates map: %s\n", strerror(errno));
			err = 1;
		}
	}
	if (err) {
		xdpgen__destroy(skel);
		return 1;
	}
	/* each CPU starts at its own place in the Call-ID cycle */
	st = calloc(ncpu, sizeof(*st));
	if (!st) {
		xdpgen__destroy(skel);
		return 1;
	}
	for (i = 0; i < ncpu; i++)
		st[i].next = (__u32)((o.callids * i) / ncpu);
	bpf_map_update_elem(bpf_map__fd(skel->maps.gen_state), &key, st, 0);

	if (o.bpf_stats) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0)
			fprintf(stderr, "xdpgen: BPF_ENABLE_STATS: %s (continuing)\n",
				strerror(errno));
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = now_s();
	deadline = o.seconds ? t0 + o.seconds : 0;
	for (i = 0; i < o.threads; i++) {
		th[i] = (struct thread){ .idx = i, .cpu = o.cpus[i] };
		if (pthread_create(&th[i].tid, NULL, sender, &th[i])) {
			fprintf(stderr, "xdpgen: pthread_create failed\n");
			atomic_store(&stop, true);
			o.threads = i;
			err = 1;
			break;
		}
	}
	for (i = 0; i < o.threads; i++) {
		pthread_join(th[i].tid, NULL);
		sent += th[i].sent;
		if (th[i].err && !err) {
			fprintf(stderr, "xdpgen: thread %d (CPU %d): BPF_PROG_TEST_RUN: %s\n", i,
				th[i].cpu, strerror(th[i].err));
			err = 1;
		}
	}
	t1 = now_s();
	if (stats_fd >= 0)
		close(stats_fd);
	if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.gen_state), &key, st))
		for (i = 0; i < ncpu; i++) {
			prog_frames += st[i].frames;
			prog_errors += st[i].errors;
		}
	free(st);
	xdpgen__destroy(skel);

	for (i = 0; i < nframes; i++)
		bytes += frames[i].len;
	if (o.json) {
		printf("{\"frames\": %llu, \"tx\": %llu, \"errors\": %llu, \"seconds\": %.6f, "
		       "\"pps\": %.0f, \"template\": \"%s\", \"frame_bytes\": %zu, "
		       "\"threads\": %d}\n",
		       sent, prog_frames, prog_errors, t1 - t0, sent / (t1 - t0), o.template,
		       bytes / nframes, o.threads);
	} else {
		printf("xdpgen: sent %llu frames (%s, %zu bytes%s) in %.3f s: %.3f Mpps, "
		       "%.2f Gbit/s, %d thread%s\n",
		       sent, o.template, bytes / nframes, nframes > 1 ? " on average" : "",
		       t1 - t0, sent / (t1 - t0) / 1e6,
		       sent * (double)(bytes / nframes) * 8 / (t1 - t0) / 1e9, o.threads,
		       o.threads == 1 ? "" : "s");
		if (prog_errors)
			printf("xdpgen: %llu frames matched no template (dropped)\n",
			       prog_errors);
	}
	return err;
}

/* --- sink and progstats ------------------------------------------------------ */

static int attached_prog(int ifindex, __u32 *id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query(ifindex, 0, &q);

	if (err)
		return err;
	*id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id ? q.skb_prog_id : q.prog_id;
	return 0;
}

/* fd and info of the XDP program on IFACE; map_ids filled (up to *n). */
static int prog_of(const char *ifname, struct bpf_prog_info *info, __u32 *map_ids, __u32 *n)
{
	int ifindex = if_nametoindex(ifname), fd;
	__u32 id = 0, len = sizeof(*info);

	if (!ifindex) {
		fprintf(stderr, "xdpgen: unknown interface '%s'\n", ifname);
		return -1;
	}
	if (attached_prog(ifindex, &id) || !id) {
		fprintf(stderr, "xdpgen: no XDP program on %s\n", ifname);
		return -1;
	}
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0) {
		fprintf(stderr, "xdpgen: program %u: %s\n", id, strerror(errno));
		return -1;
	}
	memset(info, 0, sizeof(*info));
	if (map_ids) {
		info->nr_map_ids = *n;
		info->map_ids = (__u64)(unsigned long)map_ids;
	}
	if (bpf_obj_get_info_by_fd(fd, info, &len)) {
		fprintf(stderr, "xdpgen: program %u info: %s\n", id, strerror(errno));
		close(fd);
		return -1;
	}
	if (n)
		*n = info->nr_map_ids < *n ? info->nr_map_ids : *n;
	return fd;
}

static int cmd_progstats(const char *ifname)
{
	struct bpf_prog_info info;
	int fd = prog_of(ifname, &info, NULL, NULL);

	if (fd < 0)
		return 1;
	printf("id %u name %s run_cnt %llu run_time_ns %llu\n", info.id, info.name,
	       (unsigned long long)info.run_cnt, (unsigned long long)info.run_time_ns);
	close(fd);
	return 0;
}

static int sink_stats(const char *ifname)
{
	struct bpf_prog_info info;
	__u32 ids[16], n = 16, i, key = 0;
	int fd = prog_of(ifname, &info, ids, &n), ncpu = ncpus_possible(), rc = 1;

	if (fd < 0)
		return 1;
	close(fd);
	if (strcmp(info.name, "xdpgen_sink")) {
		fprintf(stderr, "xdpgen: %s runs %s, not xdpgen_sink\n", ifname, info.name);
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct bpf_map_info mi = { 0 };
		__u32 len = sizeof(mi);
		int mfd = bpf_map_get_fd_by_id(ids[i]);
		__u64 *v, sum = 0;
		int c;

		if (mfd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(mfd, &mi, &len) || strcmp(mi.name, "sink_count")) {
			close(mfd);
			continue;
		}
		v = calloc(ncpu, sizeof(*v));
		if (v && !bpf_map_lookup_elem(mfd, &key, v)) {
			for (c = 0; c < ncpu; c++)
				sum += v[c];
			printf("frames %llu\n", (unsigned long long)sum);
			rc = 0;
		}
		free(v);
		close(mfd);
	}
	if (rc)
		fprintf(stderr, "xdpgen: no sink_count map on %s\n", ifname);
	return rc;
}

static int cmd_sink(const char *op, const char *ifname)
{
	int ifindex = if_nametoindex(ifname), err;

	if (!ifindex) {
		fprintf(stderr, "xdpgen: unknown interface '%s'\n", ifname);
		return 1;
	}
	if (!strcmp(op, "attach")) {
		struct xdpgen *skel = xdpgen__open_and_load();

		if (!skel) {
			fprintf(stderr, "xdpgen: load BPF object: %s\n", strerror(errno));
			return 1;
		}
		err = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.xdpgen_sink),
				     XDP_FLAGS_DRV_MODE, NULL);
		if (err)
			fprintf(stderr, "xdpgen: attach sink to %s: %s\n", ifname, strerror(-err));
		xdpgen__destroy(skel);	/* the attachment keeps program and map */
		return err ? 1 : 0;
	}
	if (!strcmp(op, "stats"))
		return sink_stats(ifname);
	if (!strcmp(op, "detach")) {
		struct bpf_prog_info info;
		int fd = prog_of(ifname, &info, NULL, NULL);

		if (fd < 0)
			return 1;
		close(fd);
		if (strcmp(info.name, "xdpgen_sink")) {
			fprintf(stderr, "xdpgen: %s runs %s, not xdpgen_sink: left alone\n",
				ifname, info.name);
			return 1;
		}
		err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
		if (err)
			fprintf(stderr, "xdpgen: detach from %s: %s\n", ifname, strerror(-err));
		return err ? 1 : 0;
	}
	usage(stderr);
	return 2;
}

/* switch-sink on|off|stats PORT: the sinking of the switch attached to PORT. */
static int cmd_switch_sink(const char *op, const char *ifname)
{
	struct bpf_prog_info info;
	__u32 ids[16], n = 16, i, key = 0;
	int fd = prog_of(ifname, &info, ids, &n), ncpu = ncpus_possible(), rc = 1;

	if (fd < 0)
		return 1;
	close(fd);
	if (strcmp(info.name, "xdpgen_switch")) {
		fprintf(stderr, "xdpgen: %s runs %s, not xdpgen_switch\n", ifname, info.name);
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct bpf_map_info mi = { 0 };
		__u32 len = sizeof(mi), on = !strcmp(op, "on");
		int mfd = bpf_map_get_fd_by_id(ids[i]);

		if (mfd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(mfd, &mi, &len)) {
			close(mfd);
			continue;
		}
		if (!strcmp(mi.name, "switch_cfg") && strcmp(op, "stats")) {
			rc = bpf_map_update_elem(mfd, &key, &on, 0) ? 1 : 0;
		} else if (!strcmp(mi.name, "switch_count") && !strcmp(op, "stats")) {
			__u64 *v = calloc(ncpu, sizeof(*v)), sum = 0;
			int c;

			if (v && !bpf_map_lookup_elem(mfd, &key, v)) {
				for (c = 0; c < ncpu; c++)
					sum += v[c];
				printf("frames %llu\n", (unsigned long long)sum);
				rc = 0;
			}
			free(v);
		}
		close(mfd);
	}
	if (rc)
		fprintf(stderr, "xdpgen: switch-sink %s on %s failed\n", op, ifname);
	return rc;
}

/* switch PORT[=MAC]...: xdpgen_switch on every PORT, frames to MAC redirected to PORT. */
static int cmd_switch(int n, char **ports)
{
	struct xdpgen *skel = xdpgen__open_and_load();
	int i, fdb, err = 0;

	if (!skel) {
		fprintf(stderr, "xdpgen: load BPF object: %s\n", strerror(errno));
		return 1;
	}
	fdb = bpf_map__fd(skel->maps.switch_fdb);
	for (i = 0; i < n && !err; i++) {
		char name[IF_NAMESIZE + 1], *eq = strchr(ports[i], '=');
		struct { __u32 ifindex, sink; } port = { 0 };
		__u64 mac = 0;
		const char *suffix;
		char *mac_s;
		__u32 ifindex;

		if (!eq) {	/* a port frames come in by, no MAC behind it */
			if (!if_nametoindex(ports[i])) {
				fprintf(stderr, "xdpgen: unknown interface '%s'\n", ports[i]);
				err = 1;
			}
			continue;
		}
		suffix = strlen(eq + 1) > 17 ? eq + 18 : "";
		port.sink = !strcmp(suffix, ",sink");
		mac_s = strndup(eq + 1, 17);
		if (eq - ports[i] > IF_NAMESIZE || !mac_s || (*suffix && !port.sink) ||
		    parse_mac(mac_s, (void *)&mac)) {
			free(mac_s);
			fprintf(stderr, "xdpgen: switch wants PORT=MAC[,sink], not '%s'\n",
				ports[i]);
			err = 2;
			break;
		}
		free(mac_s);
		snprintf(name, sizeof(name), "%.*s", (int)(eq - ports[i]), ports[i]);
		ifindex = if_nametoindex(name);
		if (!ifindex) {
			fprintf(stderr, "xdpgen: unknown interface '%s'\n", name);
			err = 1;
			break;
		}
		port.ifindex = ifindex;
		if (bpf_map_update_elem(fdb, &mac, &port, 0)) {
			fprintf(stderr, "xdpgen: switch_fdb: %s\n", strerror(errno));
			err = 1;
		}
	}
	for (i = 0; i < n && !err; i++) {
		char name[IF_NAMESIZE + 1];

		char *eq = strchr(ports[i], '=');

		snprintf(name, sizeof(name), "%.*s",
			 (int)(eq ? eq - ports[i] : (long)strlen(ports[i])), ports[i]);
		err = bpf_xdp_attach(if_nametoindex(name),
				     bpf_program__fd(skel->progs.xdpgen_switch),
				     XDP_FLAGS_DRV_MODE, NULL);
		if (err) {
			fprintf(stderr, "xdpgen: attach switch to %s: %s\n", name,
				strerror(-err));
			err = 1;
		}
	}
	xdpgen__destroy(skel);	/* the attachments keep program and map */
	return err;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iface", required_argument, NULL, 'i' },
		{ "dst-mac", required_argument, NULL, 'm' },
		{ "src", required_argument, NULL, 's' },
		{ "dst", required_argument, NULL, 'd' },
		{ "sport", required_argument, NULL, 1 },
		{ "dport", required_argument, NULL, 2 },
		{ "template", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "callids", required_argument, NULL, 'k' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "user-agent", required_argument, NULL, 'u' },
		{ "spoof-src", required_argument, NULL, 3 },
		{ "threads", required_argument, NULL, 'T' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "batch", required_argument, NULL, 'b' },
		{ "udp-csum", no_argument, NULL, 4 },
		{ "bpf-stats", no_argument, NULL, 5 },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned long long v;
	char *end;
	int c;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "sink")) {
		if (argc != 4) {
			usage(stderr);
			return 2;
		}
		return cmd_sink(argv[2], argv[3]);
	}
	if (argc >= 2 && !strcmp(argv[1], "progstats")) {
		if (argc != 3) {
			usage(stderr);
			return 2;
		}
		return cmd_progstats(argv[2]);
	}
	if (argc >= 2 && !strcmp(argv[1], "switch-sink")) {
		if (argc != 4 || (strcmp(argv[2], "on") && strcmp(argv[2], "off") &&
				  strcmp(argv[2], "stats"))) {
			usage(stderr);
			return 2;
		}
		return cmd_switch_sink(argv[2], argv[3]);
	}
	if (argc >= 3 && !strcmp(argv[1], "switch"))
		return cmd_switch(argc - 2, argv + 2);
	if (argc < 2 || strcmp(argv[1], "send")) {
		usage(stderr);
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "i:m:s:d:t:n:S:k:p:u:T:c:b:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o.iface = optarg;
			break;
		case 'm':
			if (parse_mac(optarg, o.dst_mac))
				goto bad;
			o.have_dst_mac = true;
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &o.src) != 1)
				goto bad;
			o.have_src = true;
			break;
		case 'd':
			if (inet_pton(AF_INET, optarg, &o.dst) != 1)
				goto bad;
			o.have_dst = true;
			break;
		case 1:
		case 2:
			if (parse_ull(optarg, 65535, &v) || !v)
				goto bad;
			*(c == 1 ? &o.sport : &o.dport) = v;
			break;
		case 't':
			o.template = optarg;
			break;
		case 'n':
			if (parse_ull(optarg, MAX_COUNT, &o.count) || !o.count)
				goto bad;
			break;
		case 'S':
			errno = 0;
			o.seconds = strtod(optarg, &end);
			if (errno || *end || !(o.seconds > 0 && o.seconds <= MAX_SECONDS))
				goto bad;
			break;
		case 'k':
			if (parse_ull(optarg, 0x100000000ULL, &o.callids) || !o.callids)
				goto bad;
			break;
		case 'p':
			if (strlen(optarg) > 40 || strpbrk(optarg, " \t\r\n@"))
				goto bad;
			o.prefix = optarg;
			break;
		case 'u':
			if (!*optarg || strlen(optarg) > 64 || strpbrk(optarg, "\r\n"))
				goto bad;
			o.user_agent = optarg;
			break;
		case 3:
			if (parse_spoof(optarg)) {
				fprintf(stderr, "xdpgen: --spoof-src wants a CIDR within "
						"198.18.0.0/15, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'T':
			if (parse_ull(optarg, MAX_THREADS, &v) || !v)
				goto bad;
			o.threads = v;
			break;
		case 'c':
			if (parse_cpus(optarg))
				goto bad;
			break;
		case 'b':
			if (parse_ull(optarg, 256, &v) || !v)
				goto bad;
			o.batch = v;
			break;
		case 4:
			o.udp_csum = true;
			break;
		case 5:
			o.bpf_stats = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		continue;
bad:
		fprintf(stderr, "xdpgen: bad value for %s: '%s'\n", argv[optind - 1], optarg);
		return 2;
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return cmd_send();
}
