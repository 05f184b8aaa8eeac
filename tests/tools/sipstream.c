// SPDX-License-Identifier: GPL-2.0
/* sipstream.c: send a paced, bounded stream of SIP requests over UDP (or IPIP from userspace). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT 10000000ULL
#define MAX_RATE 2000000ULL
#define MAX_WAIT_MS 60000
#define MSG_MAX 2048
#define PKT_MAX (MSG_MAX + 128)
#define RCVBUF (8 << 20)	/* socket receive buffer for responses */
#define SLACK_S 5		/* the run may last 2 * count / rate + this, then stops */

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char host[INET6_ADDRSTRLEN + 4];	/* as SIP writes it: v6 in brackets */
	unsigned int port;
};

static struct {
	struct addr dst, src, encap;
	bool have_src, have_encap;
	unsigned long long count, rate, callids;
	const char *prefix, *method;
	long wait_ms;
	bool quiet;
} o = { .count = 1, .rate = 1000, .callids = 100, .prefix = "ss", .method = "INVITE" };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sipstream --dst ADDR:PORT [--src ADDR:PORT] --count N --rate PPS\n"
		"                 [--callids K] [--prefix P] [--method M] [--wait MS]\n"
		"                 [--encap OUTER-DST]\n"
		"\n"
		"Sends N SIP requests over UDP to ADDR:PORT, paced at PPS per second, and prints\n"
		"\"sent N\" at the end (and \"received M\", the responses, with --wait). Request i\n"
		"(0-based) has Call-ID \"P-<i mod K>@siplb.test\", CSeq \"<i+1> METHOD\" and Via\n"
		"branch z9hG4bK-P-<i+1>; an INVITE carries an SDP body (about 600 bytes in all),\n"
		"other methods a short text body (about 450 bytes). Bounded: N <= %llu,\n"
		"PPS <= %llu, and the run stops after 2 * N / PPS + %d s whatever was sent.\n"
		"\n"
		"  -d, --dst ADDR:PORT     destination (a.b.c.d:port or [v6]:port), e.g. a VIP\n"
		"  -s, --src ADDR:PORT     bind the sending socket (port 0: any)\n"
		"  -c, --count N           requests to send (default 1)\n"
		"  -r, --rate PPS          requests per second (default 1000)\n"
		"  -k, --callids K         distinct Call-IDs, reused round robin (default 100)\n"
		"  -p, --prefix P          Call-ID prefix (default ss)\n"
		"  -m, --method M          INVITE (default), OPTIONS, MESSAGE, REGISTER, ...\n"
		"  -w, --wait MS           then wait up to MS ms for responses (stops early once\n"
		"                          one per request arrived) and print \"received M\"\n"
		"  -e, --encap OUTER-DST   do what the balancer does: wrap each datagram\n"
		"                          (inner source --src, needed, inner destination --dst)\n"
		"                          in IPv4-in-IPv4 or IPv6-in-IPv6 to OUTER-DST, sent\n"
		"                          from a raw socket (root); responses then go to --src\n"
		"  -q, --quiet             print only the final counts\n"
		"  -h, --help              this text\n"
		"\n"
		"Exit status: 0 when all N were sent, 1 otherwise, 2 on bad usage.\n",
		MAX_COUNT, MAX_RATE, SLACK_S);
}

static int parse_hostport(const char *arg, struct addr *a)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *h = arg;
	size_t hl;
	char *end;
	long port;

	memset(a, 0, sizeof(*a));
	if (*arg == '[') {
		const char *rb = strchr(arg, ']');

		if (!rb || rb[1] != ':')
			return -1;
		h = arg + 1;
		hl = rb - h;
		colon = rb + 1;
	} else {
		colon = strrchr(arg, ':');
		if (!colon)
			return -1;
		hl = colon - arg;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
		return -1;
	a->port = port;
	if (*arg != '[') {
		struct sockaddr_in *s = (struct sockaddr_in *)&a->ss;

		if (inet_pton(AF_INET, host, &s->sin_addr) != 1)
			return -1;
		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		a->len = sizeof(*s);
		snprintf(a->host, sizeof(a->host), "%s", host);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a->ss;

		if (inet_pton(AF_INET6, host, &s->sin6_addr) != 1)
			return -1;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		a->len = sizeof(*s);
		snprintf(a->host, sizeof(a->host), "[%s]", host);
	}
	return 0;
}

/* A bare address (no port) for --encap. */
static int parse_host(const char *arg, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, arg, &((struct sockaddr_in *)&a->ss)->sin_addr) == 1) {
		a->ss.ss_family = AF_INET;
		a->len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, arg, &((struct sockaddr_in6 *)&a->ss)->sin6_addr) == 1) {
		a->ss.ss_family = AF_INET6;
		a->len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -1;
}

static unsigned long long parse_num(const char *arg, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || end == arg || *arg == '-') {
		fprintf(stderr, "sipstream: bad %s '%s'\n", what, arg);
		exit(2);
	}
	return v;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Request i: a realistic INVITE with SDP, or the same headers with a text body. */
static int build_msg(char *buf, size_t size, unsigned long long i, const char *via_host,
		     unsigned int via_port)
{
	static const char sdp[] =
		"v=0\r\n"
		"o=sipstream 2890844526 2890844526 IN IP4 198.18.0.100\r\n"
		"s=siplb test call\r\n"
		"c=IN IP4 198.18.0.100\r\n"
		"t=0 0\r\n"
		"m=audio 49170 RTP/AVP 0 8 101\r\n"
		"a=rtpmap:0 PCMU/8000\r\n"
		"a=rtpmap:8 PCMA/8000\r\n"
		"a=rtpmap:101 telephone-event/8000\r\n"
		"a=sendrecv\r\n";
	static const char text[] = "siplb sipstream test message\r\n";
	bool invite = !strcmp(o.method, "INVITE");
	const char *body = invite ? sdp : text;
	unsigned long long cid = i % o.callids, seq = i + 1;
	int n;

	n = snprintf(buf, size,
		     "%s sip:service@%s:%u SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s:%u;branch=z9hG4bK-%s-%llu;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: \"sipstream\" <sip:sipstream@siplb.test>;tag=%llx\r\n"
		     "To: <sip:service@siplb.test>\r\n"
		     "Call-ID: %s-%llu@siplb.test\r\n"
		     "CSeq: %llu %s\r\n"
		     "Contact: <sip:sipstream@%s:%u>\r\n"
		     "User-Agent: siplb-sipstream\r\n"
		     "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE\r\n"
		     "Content-Type: %s\r\n"
		     "Content-Length: %zu\r\n"
		     "\r\n%s",
		     o.method, o.dst.host, o.dst.port, via_host, via_port, o.prefix, seq,
		     cid * 2654435761ULL + 1, o.prefix, cid, seq, o.method, via_host,
		     via_port, invite ? "application/sdp" : "text/plain", strlen(body), body);
	return n > 0 && (size_t)n < size ? n : -1;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint64_t csum_add(uint64_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (b[i] << 8) | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	return sum;
}

/* The inner IP + UDP packet client -> VIP, as the balancer would tunnel it. */
static int build_inner(uint8_t *pkt, const char *msg, int mlen)
{
	struct udphdr *udp;
	uint64_t sum = 0;
	int hl, ulen = sizeof(*udp) + mlen;

	if (o.dst.ss.ss_family == AF_INET) {
		struct iphdr *ip = (struct iphdr *)pkt;
		const struct sockaddr_in *s = (const void *)&o.src.ss, *d = (const void *)&o.dst.ss;

		hl = sizeof(*ip);
		memset(ip, 0, hl);
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons(hl + ulen);
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->saddr = s->sin_addr.s_addr;
		ip->daddr = d->sin_addr.s_addr;
		ip->check = htons(~csum_fold(csum_add(0, ip, hl)));
		sum = csum_add(sum, &ip->saddr, 8);
	} else {
		struct ip6_hdr *ip6 = (struct ip6_hdr *)pkt;
		const struct sockaddr_in6 *s = (const void *)&o.src.ss, *d = (const void *)&o.dst.ss;

		hl = sizeof(*ip6);
		memset(ip6, 0, hl);
		ip6->ip6_flow = htonl(6u << 28);
		ip6->ip6_plen = htons(ulen);
		ip6->ip6_nxt = IPPROTO_UDP;
		ip6->ip6_hlim = 64;
		ip6->ip6_src = s->sin6_addr;
		ip6->ip6_dst = d->sin6_addr;
		sum = csum_add(sum, &ip6->ip6_src, 32);
	}
	udp = (struct udphdr *)(pkt + hl);
	udp->source = htons(o.src.port);
	udp->dest = htons(o.dst.port);
	udp->len = htons(ulen);
	udp->check = 0;
	memcpy(udp + 1, msg, mlen);
	sum += IPPROTO_UDP + ulen;
	sum = csum_add(sum, udp, ulen);
	udp->check = htons(~csum_fold(sum));
	if (!udp->check)
		udp->check = 0xffff;
	return hl + ulen;
}

static int open_socket(const char **via_host, unsigned int *via_port, char *host_buf)
{
	int fd, one = 1, rcv = RCVBUF;

	if (o.have_encap) {
		int proto = o.encap.ss.ss_family == AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;

		fd = socket(o.encap.ss.ss_family, SOCK_RAW | SOCK_CLOEXEC, proto);
		if (fd < 0) {
			fprintf(stderr, "sipstream: raw socket (root needed): %s\n",
				strerror(errno));
			return -1;
		}
		*via_host = o.src.host;
		*via_port = o.src.port;
		return fd;
	}
	fd = socket(o.dst.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "sipstream: socket: %s\n", strerror(errno));
		return -1;
	}
	if (o.dst.ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* Responses pile up while we pace: room for seconds of them. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (o.have_src && bind(fd, (struct sockaddr *)&o.src.ss, o.src.len)) {
		fprintf(stderr, "sipstream: bind %s:%u: %s\n", o.src.host, o.src.port,
			strerror(errno));
		close(fd);
		return -1;
	}
	/* Learn the address and port the Via must name. */
	{
		struct sockaddr_storage me;
		socklen_t len = sizeof(me);
		char ip[INET6_ADDRSTRLEN];

		if (connect(fd, (struct sockaddr *)&o.dst.ss, o.dst.len) ||
		    getsockname(fd, (struct sockaddr *)&me, &len)) {
			fprintf(stderr, "sipstream: connect %s:%u: %s\n", o.dst.host, o.dst.port,
				strerror(errno));
			close(fd);
			return -1;
		}
		if (me.ss_family == AF_INET6) {
			const struct sockaddr_in6 *a = (const void *)&me;

			inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
			snprintf(host_buf, INET6_ADDRSTRLEN + 2, "[%s]", ip);
			*via_port = ntohs(a->sin6_port);
		} else {
			const struct sockaddr_in *a = (const void *)&me;

			inet_ntop(AF_INET, &a->sin_addr, host_buf, INET6_ADDRSTRLEN + 2);
			*via_port = ntohs(a->sin_port);
		}
		*via_host = host_buf;
	}
	return fd;
}

/* Read every response waiting; returns how many. */
static unsigned long long drain(int fd)
{
	unsigned long long n = 0;
	char buf[4096];

	if (o.have_encap)
		return 0;
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	return n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, 'd' },
		{ "src", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'r' },
		{ "callids", required_argument, NULL, 'k' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "method", required_argument, NULL, 'm' },
		{ "wait", required_argument, NULL, 'w' },
		{ "encap", required_argument, NULL, 'e' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long sent = 0, received = 0, errors = 0, i;
	char msg[MSG_MAX], host_buf[INET6_ADDRSTRLEN + 2];
	static uint8_t pkt[PKT_MAX];
	bool have_dst = false;
	const char *via_host;
	unsigned int via_port;
	long long start, deadline;
	int opt, fd;

	while ((opt = getopt_long(argc, argv, "d:s:c:r:k:p:m:w:e:qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (parse_hostport(optarg, &o.dst)) {
				fprintf(stderr, "sipstream: bad --dst '%s'\n", optarg);
				return 2;
			}
			have_dst = true;
			break;
		case 's':
			if (parse_hostport(optarg, &o.src)) {
				fprintf(stderr, "sipstream: bad --src '%s'\n", optarg);
				return 2;
			}
			o.have_src = true;
			break;
		case 'c':
			o.count = parse_num(optarg, "--count");
			break;
		case 'r':
			o.rate = parse_num(optarg, "--rate");
			break;
		case 'k':
			o.callids = parse_num(optarg, "--callids");
			break;
		case 'p':
			o.prefix = optarg;
			break;
		case 'm':
			o.method = optarg;
			break;
		case 'w':
			o.wait_ms = parse_num(optarg, "--wait");
			break;
		case 'e':
			if (parse_host(optarg, &o.encap)) {
				fprintf(stderr, "sipstream: bad --encap '%s'\n", optarg);
				return 2;
			}
			o.have_encap = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!have_dst || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (o.count == 0 || o.count > MAX_COUNT || o.rate == 0 || o.rate > MAX_RATE ||
	    o.callids == 0 || o.wait_ms > MAX_WAIT_MS || strlen(o.prefix) > 64 ||
	    strlen(o.method) > 20 || !*o.method) {
		fprintf(stderr, "sipstream: out of bounds: 1 <= count <= %llu, 1 <= rate <= %llu, "
			"callids >= 1, wait <= %d ms, prefix <= 64 and method <= 20 chars\n",
			MAX_COUNT, MAX_RATE, MAX_WAIT_MS);
		return 2;
	}
	if (o.have_src && o.src.ss.ss_family != o.dst.ss.ss_family) {
		fprintf(stderr, "sipstream: --src and --dst are of different families\n");
		return 2;
	}
	if (o.have_encap && (!o.have_src || o.encap.ss.ss_family != o.dst.ss.ss_family)) {
		fprintf(stderr, "sipstream: --encap needs --src, and the same family as --dst\n");
		return 2;
	}
	fd = open_socket(&via_host, &via_port, host_buf);
	if (fd < 0)
		return 1;

	start = now_ns();
	deadline = start + (long long)(2 * o.count * 1000000000ULL / o.rate) +
		   SLACK_S * 1000000000LL;
	for (i = 0; i < o.count; i++) {
		long long due = start + (long long)(i * 1000000000ULL / o.rate), now;
		int len = build_msg(msg, sizeof(msg), i, via_host, via_port);
		ssize_t n;

		if (len < 0) {
			fprintf(stderr, "sipstream: message too long\n");
			break;
		}
		now = now_ns();
		if (now > deadline) {
			fprintf(stderr, "sipstream: time is up\n");
			break;
		}
		/* Ahead of schedule: sleep, unless it is too short to bother. */
		if (due - now > 50000) {
			struct timespec ts = { .tv_sec = (due - now) / 1000000000LL,
					       .tv_nsec = (due - now) % 1000000000LL };

			received += drain(fd);
			nanosleep(&ts, NULL);
		}
		if (o.have_encap) {
			int plen = build_inner(pkt, msg, len);

			n = sendto(fd, pkt, plen, 0, (struct sockaddr *)&o.encap.ss, o.encap.len);
			n = n == plen ? len : -1;
		} else {
			n = send(fd, msg, len, 0);
		}
		if (n == len) {
			sent++;
		} else if (errno == EAGAIN || errno == ENOBUFS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			poll(&p, 1, 10);	/* queue full: wait a little, retry */
			i--;
		} else if (++errors <= 5) {
			fprintf(stderr, "sipstream: send: %s\n", strerror(errno));
		}
		if ((i & 63) == 0)
			received += drain(fd);
	}
	if (o.wait_ms && !o.have_encap) {
		long long end = now_ns() + o.wait_ms * 1000000LL;

		received += drain(fd);
		while (received < sent) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			long long left = end - now_ns();

			if (left <= 0)
				break;
			if (poll(&p, 1, (int)(left / 1000000) + 1) > 0)
				received += drain(fd);
		}
	}
	if (!o.quiet && errors)
		fprintf(stderr, "sipstream: %llu send errors\n", errors);
	printf("sent %llu\n", sent);
	if (o.wait_ms && !o.have_encap)
		printf("received %llu\n", received);
	close(fd);
	return sent == o.count ? 0 : 1;
}
