// SPDX-License-Identifier: GPL-2.0
/* streambench.c: bench tool: many TCP or TLS connections to a SIP server, then SIP requests over them. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_CONNS 100000
#define IN_FLIGHT 64		/* connections handshaking at once */
#define RBUF 4096
#define RUN_MAX_S 120		/* every phase stops after this */

enum { C_CONNECTING, C_HANDSHAKE, C_UP, C_DEAD };

struct conn {
	int fd, state;
	SSL *ssl;
	size_t rlen;
	bool waiting;		/* a request is out */
	char rbuf[RBUF];
};

static struct conn *conns;
static int nconns, epfd;
static SSL_CTX *ctx;
static struct sockaddr_storage dst;
static socklen_t dlen;
static char vip[64];
static unsigned long seq;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse(const char *s)
{
	const char *colon = strrchr(s, ':');
	size_t hl;

	if (!colon || (size_t)(colon - s) >= sizeof(vip))
		return -1;
	hl = (size_t)(colon - s);
	memcpy(vip, s, hl);
	vip[hl] = 0;
	memset(&dst, 0, sizeof(dst));
	((struct sockaddr_in *)&dst)->sin_family = AF_INET;
	((struct sockaddr_in *)&dst)->sin_port = htons((unsigned short)atoi(colon + 1));
	dlen = sizeof(struct sockaddr_in);
	return inet_pton(AF_INET, vip, &((struct sockaddr_in *)&dst)->sin_addr) == 1 ? 0 : -1;
}

static int conn_start(struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&dst, dlen) && errno != EINPROGRESS)
		return -1;
	c->state = C_CONNECTING;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

static void set_events(struct conn *c, unsigned int e)
{
	struct epoll_event ev = { .events = e, .data.ptr = c };

	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void kill_conn(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->state = C_DEAD;
}

/* Advance a connection; returns 1 when it just came up. */
static int step(struct conn *c)
{
	int r, e;

	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t l = sizeof(err);

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err) {
			kill_conn(c);
			return 0;
		}
		if (!ctx) {
			c->state = C_UP;
			set_events(c, EPOLLIN);
			return 1;
		}
		c->ssl = SSL_new(ctx);
		SSL_set_fd(c->ssl, c->fd);
		SSL_set_connect_state(c->ssl);
		c->state = C_HANDSHAKE;
	}
	if (c->state == C_HANDSHAKE) {
		r = SSL_do_handshake(c->ssl);
		if (r == 1) {
			c->state = C_UP;
			set_events(c, EPOLLIN);
			return 1;
		}
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			set_events(c, EPOLLIN);
		else if (e == SSL_ERROR_WANT_WRITE)
			set_events(c, EPOLLOUT);
		else
			kill_conn(c);
	}
	return 0;
}

static int c_write(struct conn *c, const char *p, int len)
{
	return c->ssl ? SSL_write(c->ssl, p, len) : (int)send(c->fd, p, (size_t)len, MSG_NOSIGNAL);
}

static int c_read(struct conn *c)
{
	int r;

	if (c->rlen >= RBUF - 1)
		c->rlen = 0;
	if (c->ssl) {
		r = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(RBUF - 1 - c->rlen));
		if (r <= 0)
			return SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ ? 0 : -1;
	} else {
		r = (int)recv(c->fd, c->rbuf + c->rlen, RBUF - 1 - c->rlen, 0);
		if (r < 0)
			return errno == EAGAIN ? 0 : -1;
		if (r == 0)
			return -1;
	}
	c->rlen += (size_t)r;
	c->rbuf[c->rlen] = 0;
	return r;
}

static int send_options(struct conn *c)
{
	char m[600];
	int n = snprintf(m, sizeof(m),
			 "OPTIONS sip:bench@%s SIP/2.0\r\n"
			 "Via: SIP/2.0/%s bench.invalid;branch=z9hG4bK-b%lu\r\n"
			 "Max-Forwards: 70\r\nFrom: <sip:bench@siplb.test>;tag=b%lu\r\n"
			 "To: <sip:bench@%s>\r\nCall-ID: bench-%lu@streambench\r\n"
			 "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
			 vip, ctx ? "TLS" : "TCP", seq, seq, vip, seq);

	seq++;
	c->rlen = 0;
	c->waiting = true;
	return c_write(c, m, n) == n ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, 'd' }, { "tls", no_argument, NULL, 't' },
		{ "ca", required_argument, NULL, 'a' },  { "cert", required_argument, NULL, 'e' },
		{ "key", required_argument, NULL, 'k' }, { "conns", required_argument, NULL, 'n' },
		{ "requests", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' }, {}
	};
	const char *ca = NULL, *cert = NULL, *key = NULL;
	bool tls = false;
	long requests = 0, done = 0, sent = 0, window = 100;
	int c, i, started = 0, up = 0, failed = 0, inflight = 0, alive = 0;
	struct epoll_event evs[256];
	struct rlimit rl;
	double t0, t_up, t_req = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': if (parse(optarg)) goto usage; break;
		case 't': tls = true; break;
		case 'a': ca = optarg; break;
		case 'e': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'n': nconns = atoi(optarg); break;
		case 'r': requests = atol(optarg); break;
		case 'w': window = atol(optarg); break;
		default: goto usage;
		}
	}
	if (!dlen || nconns < 1 || nconns > MAX_CONNS || requests < 0 || window < 1 || (tls && !ca))
		goto usage;
	rl.rlim_cur = rl.rlim_max = (rlim_t)nconns + 64;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (tls) {
		ctx = SSL_CTX_new(TLS_client_method());
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
		SSL_CTX_load_verify_locations(ctx, ca, NULL);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (cert && (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
			     SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1))
			goto usage;
		/* every connection a full handshake: no session resumption */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	}
	conns = calloc((size_t)nconns, sizeof(*conns));
	epfd = epoll_create1(0);
	for (i = 0; i < nconns; i++)
		conns[i].fd = -1;
	t0 = now_s();
	/* phase 1: every connection up, IN_FLIGHT at a time */
	while (up + failed < nconns && now_s() - t0 < RUN_MAX_S) {
		int n;

		while (inflight < IN_FLIGHT && started < nconns) {
			if (conn_start(&conns[started])) {
				kill_conn(&conns[started]);
				failed++;
			} else {
				inflight++;
			}
			started++;
		}
		n = epoll_wait(epfd, evs, 256, 1000);
		for (i = 0; i < n; i++) {
			struct conn *cn = evs[i].data.ptr;

			if (cn->state == C_UP)
				continue;
			if (step(cn)) {
				up++;
				inflight--;
			} else if (cn->state == C_DEAD) {
				failed++;
				inflight--;
			}
		}
	}
	t_up = now_s() - t0;
	/* phase 2: requests, one outstanding per connection */
	if (requests) {
		double t1 = now_s();

		for (i = 0; i < nconns && sent < requests && sent < window; i++)
			if (conns[i].state == C_UP && !send_options(&conns[i]))
				sent++;
		while (done < sent && now_s() - t1 < RUN_MAX_S) {
			int n = epoll_wait(epfd, evs, 256, 1000);

			if (n <= 0)
				break;
			for (i = 0; i < n; i++) {
				struct conn *cn = evs[i].data.ptr;
				int r;

				do {
					r = c_read(cn);
				} while (r > 0 && cn->ssl && SSL_pending(cn->ssl));
				if (r < 0) {
					kill_conn(cn);
					continue;
				}
				if (cn->waiting && strstr(cn->rbuf, "\r\n\r\n")) {
					cn->waiting = false;
					done++;
					if (sent < requests && !send_options(cn))
						sent++;
				}
			}
		}
		t_req = now_s() - t1;
	}
	/* phase 3: who is still up (a ping each, a pong back) */
	for (i = 0; i < nconns; i++) {
		if (conns[i].state == C_UP && c_write(&conns[i], "\r\n\r\n", 4) == 4) {
			conns[i].rlen = 0;
			conns[i].waiting = true;
		}
	}
	{
		double t2 = now_s();
		int waiting = 0;

		for (i = 0; i < nconns; i++)
			waiting += conns[i].state == C_UP && conns[i].waiting;
		while (waiting && now_s() - t2 < 10) {
			int n = epoll_wait(epfd, evs, 256, 500);

			for (i = 0; i < n; i++) {
				struct conn *cn = evs[i].data.ptr;

				if (c_read(cn) < 0) {
					kill_conn(cn);
					waiting--;
				} else if (cn->waiting && strstr(cn->rbuf, "\r\n")) {
					cn->waiting = false;
					alive++;
					waiting--;
				}
			}
		}
	}
	printf("conns=%d up=%d failed=%d up_s=%.3f conn_per_s=%.1f requests=%ld answered=%ld "
	       "req_s=%.3f req_per_s=%.1f alive=%d\n",
	       nconns, up, failed, t_up, up / (t_up > 0 ? t_up : 1), sent, done, t_req,
	       t_req > 0 ? done / t_req : 0.0, alive);
	return 0;
usage:
	fprintf(stderr,
		"Usage: streambench --dst IPV4:PORT --conns N [--requests R [--window W]]\n"
		"                   [--tls --ca FILE [--cert FILE --key FILE]]\n"
		"Opens N connections (TCP, or TLS with a full handshake each; %d at a time),\n"
		"sends R SIP OPTIONS over them (at most W outstanding, default 100, one per\n"
		"connection; each answer sends the next on its connection), then a\n"
		"keepalive ping on each and counts the pongs. Prints one line of figures.\n",
		IN_FLIGHT);
	return 2;
}
