// SPDX-License-Identifier: GPL-2.0
/* streams.c: siplbd's SIP over TCP and TLS (epoll, OpenSSL), the relay to backends, and the UDP slow path. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "daemon.h"
#include "flowtoken.h"
#include "framing.h"
#include "ipfrag.h"
#include "log.h"
#include "relay.h"
#include "sip_parse.h"
#include "tlsctx.h"

/* What the epoll data of a stream socket names (bits 32..39), the index below. */
enum { ST_LISTEN = 1, ST_CONN, ST_RELAY, ST_SLOW };
#define ST_EV(type, idx) (SD_EV_STREAM | (__u64)(type) << 32 | (__u32)(idx))

/* Listeners: per VIP, TCP and TLS. */
#define ST_MAX_LISTEN (SIPLB_MAX_VIPS * 2)
/* Largest datagram: a UDP payload. */
#define ST_DGRAM_MAX 65535
/* Output room for a relayed message beyond its own size (Via, Record-Route). */
#define ST_RELAY_EXTRA 1024
/* Reads, messages per wakeup of one connection: others get their turn. */
#define ST_READS_PER_EVENT 16
#define ST_MSGS_PER_EVENT 64
/* Bytes waiting to be written to a client before it counts as not reading. */
#define ST_WBUF_MAX (1u << 20)
/* Receive buffer of the relay and slow-path sockets. */
#define ST_UDP_RCVBUF (8 << 20)
/* Timeouts are checked this often. */
#define ST_SWEEP_MS 250

/* What happened on the streams; index of siplb_stream_events_total. */
enum st_event {
	ST_ACCEPTED, ST_REFUSED_LIMIT, ST_CLOSED_BY_PEER, ST_CLOSED_ERROR,
	ST_IDLE_TIMEOUT, ST_MESSAGE_TIMEOUT, ST_HANDSHAKE_OK, ST_HANDSHAKE_FAILED,
	ST_FRAMING_ERROR, ST_PING, ST_MESSAGES_IN,
	ST_REQ_RELAYED, ST_RESP_TO_BACKEND, ST_RESP_TO_CLIENT, ST_REQ_TO_CLIENT,
	ST_REPLY_400, ST_REPLY_483, ST_REPLY_503, ST_REPLY_513,
	ST_FLOW_STALE, ST_FLOW_FORGED, ST_NOT_OURS, ST_RESP_STALE, ST_SEND_FAILED,
	ST_SLOW_RECEIVED, ST_SLOW_FORWARDED, ST_SLOW_FRAGMENTED, ST_SLOW_DROPPED_NO_KEY,
	ST_SLOW_NO_BACKEND, ST_SLOW_L2, ST_WRITE_OVERFLOW,
	ST__MAX,
};

static const char *const st_event_names[ST__MAX] = {
	[ST_ACCEPTED] = "accepted",
	[ST_REFUSED_LIMIT] = "refused_max_connections",
	[ST_CLOSED_BY_PEER] = "closed_by_peer",
	[ST_CLOSED_ERROR] = "closed_error",
	[ST_IDLE_TIMEOUT] = "idle_timeout",
	[ST_MESSAGE_TIMEOUT] = "message_timeout",
	[ST_HANDSHAKE_OK] = "tls_handshake_ok",
	[ST_HANDSHAKE_FAILED] = "tls_handshake_failed",
	[ST_FRAMING_ERROR] = "framing_error",
	[ST_PING] = "keepalive_ping",
	[ST_MESSAGES_IN] = "messages_from_clients",
	[ST_REQ_RELAYED] = "requests_to_backends",
	[ST_RESP_TO_BACKEND] = "responses_to_backends",
	[ST_RESP_TO_CLIENT] = "responses_to_clients",
	[ST_REQ_TO_CLIENT] = "requests_to_clients",
	[ST_REPLY_400] = "replied_400_bad_request",
	[ST_REPLY_483] = "replied_483_too_many_hops",
	[ST_REPLY_503] = "replied_503_no_backend",
	[ST_REPLY_513] = "replied_513_too_large",
	[ST_FLOW_STALE] = "flow_token_stale",
	[ST_FLOW_FORGED] = "flow_token_forged",
	[ST_NOT_OURS] = "relay_request_not_ours",
	[ST_RESP_STALE] = "response_for_closed_connection",
	[ST_SEND_FAILED] = "send_failed",
	[ST_SLOW_RECEIVED] = "udp_slow_received",
	[ST_SLOW_FORWARDED] = "udp_slow_forwarded",
	[ST_SLOW_FRAGMENTED] = "udp_slow_fragmented",
	[ST_SLOW_DROPPED_NO_KEY] = "udp_slow_dropped_no_call_id",
	[ST_SLOW_NO_BACKEND] = "udp_slow_no_backend",
	[ST_SLOW_L2] = "udp_slow_l2_unsupported",
	[ST_WRITE_OVERFLOW] = "client_not_reading",
};

/* Why a TLS handshake failed; index of siplb_tls_handshake_failures_total. */
enum hs_fail {
	HS_PLAINTEXT, HS_PROTOCOL_VERSION, HS_NO_SHARED_CIPHER, HS_BAD_CLIENT_CERT,
	HS_NO_CLIENT_CERT, HS_TIMEOUT, HS_EOF, HS_OTHER, HS__MAX,
};

static const char *const hs_fail_names[HS__MAX] = {
	[HS_PLAINTEXT] = "not_tls",
	[HS_PROTOCOL_VERSION] = "protocol_version",
	[HS_NO_SHARED_CIPHER] = "no_shared_cipher",
	[HS_BAD_CLIENT_CERT] = "bad_client_certificate",
	[HS_NO_CLIENT_CERT] = "no_client_certificate",
	[HS_TIMEOUT] = "timeout",
	[HS_EOF] = "closed_during_handshake",
	[HS_OTHER] = "other",
};

struct st_listener {
	int fd;			/* -1: slot unused */
	__u32 vip;
	bool tls;
	struct siplb_cfg_addr addr;
	__u16 port;
	bool seen;		/* still configured (apply) */
};

struct st_conn {
	int fd;			/* -1: slot free */
	__u32 gen;		/* flow token generation */
	__u32 vip;
	bool tls, hs_done;
	SSL *ssl;
	struct relay_client rc;
	char *rbuf;
	size_t rlen, rcap;
	char *wbuf;
	size_t wlen, wcap;
	__u32 events;		/* the epoll mask set */
	__u64 accepted_ms, last_rx_ms, msg_start_ms;	/* msg_start_ms: 0 when between messages */
	__u32 next_free;
};

struct sd_streams {
	SSL_CTX *tls, *tls_next;
	struct st_listener lis[ST_MAX_LISTEN];
	struct st_conn *conns;
	__u32 cap, used, free_head;
	__u32 gen_next;
	int relay_fd[2];	/* UDP from and to src4/src6:relay_port */
	int raw_fd[2];		/* raw IPIP / IP6IP6, send only */
	int slow_fd[SIPLB_MAX_VIPS];	/* UDP on VIP:port: what XDP passes up */
	__u16 relay_port;
	struct flowtoken_key ftkey;
	struct relay_ctx rctx[2];
	__u64 cnt[ST__MAX];
	__u64 hs_fail[HS__MAX];
	__u64 frame_err[FRAME_ERR__MAX];
	__u64 last_sweep_ms;
	__u32 ipid;
	char in[ST_DGRAM_MAX + 1];
	char out[ST_DGRAM_MAX + ST_RELAY_EXTRA];
};

#define NO_SLOT 0xffffffffu

static int fam_idx(int family)
{
	return family == AF_INET6;
}

/* "198.18.2.10" or "[2001:db8::10]" for URIs and Via sent-by. */
static void host_text(const struct siplb_cfg_addr *a, char *buf, size_t len, bool brackets)
{
	char t[INET6_ADDRSTRLEN];

	inet_ntop(a->family, a->addr, t, sizeof(t));
	snprintf(buf, len, a->family == AF_INET6 && brackets ? "[%s]" : "%s", t);
}

static int ep_set(struct siplbd *d, int fd, int op, __u32 events, __u64 data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(d->epfd, op, fd, &ev) ? -errno : 0;
}

/* --- sockets of the relay and the slow path --------------------------------- */

static int udp_bound(const struct siplb_cfg_addr *a, __u16 port, bool nonlocal)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, rcvbuf = ST_UDP_RCVBUF;

	fd = socket(a->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (a->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (nonlocal) {
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
		if (a->family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* bursts of answers for thousands of connections: the default 208 KiB overflows */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sd_to_sockaddr(a, port, &ss, &len);
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* A raw socket that sends the inner packet inside an outer header from src; never reads. */
static int raw_tunnel(const struct siplb_cfg_addr *src)
{
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop };
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, v = IP_PMTUDISC_DONT;

	fd = socket(src->family, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    src->family == AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
	if (src->family == AF_INET) {
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
	} else {
		v = IPV6_PMTUDISC_DONT;
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof(v));
	}
	sd_to_sockaddr(src, 0, &ss, &len);
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

struct raw_emit {
	int fd;
	struct sockaddr_storage dst;
	socklen_t dlen;
};

static int emit_raw(void *arg, const void *pkt, size_t len)
{
	struct raw_emit *e = arg;

	if (sendto(e->fd, pkt, len, 0, (struct sockaddr *)&e->dst, e->dlen) < 0)
		return -errno;
	return 0;
}

/*
 * A UDP datagram from isrc:isport to the VIP, to backend be as XDP sends it:
 * inside IPIP/IP6IP6 (fragmented to fit the MTU) for ipip VIPs. l2 VIPs
 * get it from the relay socket to the backend's own address and port when
 * isrc is the relay's (the client's source cannot be kept from userspace).
 * Returns the packets sent, or -errno.
 */
static int send_backend(struct siplbd *d, __u32 vip, __u32 be,
			const struct siplb_cfg_addr *isrc, __u16 isport, const void *msg,
			size_t len)
{
	struct sd_streams *st = d->st;
	const struct sd_vip *v = &d->vips[vip];
	const struct sd_backend *b = &d->be[be];
	int fi = fam_idx(b->addr.family);
	struct ipfrag_flow f = { .src = *isrc, .sport = isport, .ttl = 64 };
	struct raw_emit e;

	if (v->mode != SIPLB_FWD_IPIP) {
		struct sockaddr_storage ss;
		socklen_t sl;

		if (st->relay_fd[fi] < 0 || isport != st->relay_port)
			return -EOPNOTSUPP;
		sd_to_sockaddr(&b->addr, b->port, &ss, &sl);
		return sendto(st->relay_fd[fi], msg, len, 0, (struct sockaddr *)&ss, sl) < 0 ?
		       -errno : 1;
	}
	if (st->raw_fd[fi] < 0)
		return -ENOTCONN;
	f.dst.family = v->key.family;
	memcpy(f.dst.addr, v->key.addr, sizeof(f.dst.addr));
	f.dport = ntohs(v->key.port);
	f.id = ++st->ipid;
	e.fd = st->raw_fd[fi];
	sd_to_sockaddr(&b->addr, 0, &e.dst, &e.dlen);
	return ipfrag_build(&f, msg, len, d->cfg.mtu - (fi ? 40 : 20), emit_raw, &e);
}

/* The VIP (id) whose UDP address is host:port, or -1. */
static int vip_at(struct siplbd *d, const char *host, __u16 port)
{
	struct siplb_cfg_addr a = {};
	__u32 i;

	if (inet_pton(AF_INET, host, a.addr) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, host, a.addr) == 1)
		a.family = AF_INET6;
	else
		return -1;
	for (i = 0; i < SIPLB_MAX_VIPS; i++) {
		const struct sd_vip *v = &d->vips[i];

		if (v->used && v->key.family == a.family && ntohs(v->key.port) == port &&
		    !memcmp(v->key.addr, a.addr, sizeof(a.addr)))
			return (int)i;
	}
	return -2;
}

/*
 * A message from the relay towards the backend side, addressed to host:port:
 * to a VIP it goes the way XDP would steer it (the backend that holds the
 * dialog); elsewhere straight from the relay socket.
 */
static int send_toward(struct siplbd *d, const char *host, __u16 port, const char *msg,
		       size_t len, bool request)
{
	struct sd_streams *st = d->st;
	struct siplb_cfg_addr a = {};
	struct sockaddr_storage ss;
	struct sip_msg m;
	bool tag;
	const char *key;
	size_t klen;
	socklen_t sl;
	__u32 be;
	int vip = vip_at(d, host, port), fi;

	if (vip == -1)
		return -EINVAL;
	if (vip >= 0) {
		const struct siplb_cfg_addr *src;

		if (sd_steer_key(d, (__u32)vip, msg, len, &key, &klen, &m, &tag) ||
		    sd_steer(d, (__u32)vip, key, klen, request, tag, &be))
			return -ENOENT;
		src = d->vips[vip].key.family == AF_INET ? &d->cfg.src4 : &d->cfg.src6;
		return send_backend(d, (__u32)vip, be, src, st->relay_port, msg, len);
	}
	if (inet_pton(AF_INET, host, a.addr) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, host, a.addr) == 1)
		a.family = AF_INET6;
	fi = fam_idx(a.family);
	if (st->relay_fd[fi] < 0)
		return -ENOTCONN;
	sd_to_sockaddr(&a, port, &ss, &sl);
	return sendto(st->relay_fd[fi], msg, len, 0, (struct sockaddr *)&ss, sl) < 0 ? -errno : 1;
}

/* End of the header block of a datagram (after the blank line), or 0. */
static size_t dgram_hdr_len(const char *msg, size_t len)
{
	const char *p = memmem(msg, len, "\r\n\r\n", 4);

	if (p)
		return (size_t)(p - msg) + 4;
	p = memmem(msg, len, "\n\n", 2);
	return p ? (size_t)(p - msg) + 2 : 0;
}

/* --- connections ------------------------------------------------------------ */

static struct st_conn *conn_get(struct sd_streams *st, __u32 slot, __u32 gen)
{
	struct st_conn *c;

	if (slot >= st->cap)
		return NULL;
	c = &st->conns[slot];
	return c->fd >= 0 && c->gen == gen && c->hs_done ? c : NULL;
}

static void conn_close(struct siplbd *d, struct st_conn *c, enum st_event why)
{
	struct sd_streams *st = d->st;
	__u32 slot = (__u32)(c - st->conns);

	if (c->fd < 0)
		return;
	st->cnt[why]++;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->ssl) {
		if (c->hs_done)
			SSL_shutdown(c->ssl);	/* best effort close_notify, never waited for */
		SSL_free(c->ssl);
	}
	close(c->fd);
	free(c->rbuf);
	free(c->wbuf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->next_free = st->free_head;
	st->free_head = slot;
	st->used--;
}

static void conn_events(struct siplbd *d, struct st_conn *c, __u32 want)
{
	if (want == c->events)
		return;
	if (!ep_set(d, c->fd, EPOLL_CTL_MOD, want, ST_EV(ST_CONN, c - d->st->conns)))
		c->events = want;
}

/* Write what we can now; 0, or -1 when the connection is broken. */
static int conn_flush(struct siplbd *d, struct st_conn *c)
{
	while (c->wlen) {
		ssize_t n;

		if (c->ssl) {
			int r;

			ERR_clear_error();
			r = SSL_write(c->ssl, c->wbuf, (int)c->wlen);
			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
					break;
				return -1;
			}
			n = r;
		} else {
			n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				return -1;
			}
		}
		memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
		c->wlen -= (size_t)n;
	}
	conn_events(d, c, EPOLLIN | EPOLLRDHUP | (c->wlen ? EPOLLOUT : 0));
	return 0;
}

/* Queue bytes for the client and write what fits now. */
static int conn_write(struct siplbd *d, struct st_conn *c, const void *p, size_t len)
{
	if (c->wlen + len > ST_WBUF_MAX) {
		conn_close(d, c, ST_WRITE_OVERFLOW);
		return -ENOBUFS;
	}
	if (c->wlen + len > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 4096;
		char *nb;

		while (cap < c->wlen + len)
			cap *= 2;
		nb = realloc(c->wbuf, cap);
		if (!nb) {
			conn_close(d, c, ST_CLOSED_ERROR);
			return -ENOMEM;
		}
		c->wbuf = nb;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, p, len);
	c->wlen += len;
	if (conn_flush(d, c)) {
		conn_close(d, c, ST_CLOSED_ERROR);
		return -EPIPE;
	}
	return 0;
}

/* A stateless error answer to a client's request, over its connection. */
static void reply_client(struct siplbd *d, struct st_conn *c, const char *msg, size_t hdr_len,
			 int status, const char *reason, enum st_event ev)
{
	struct sd_streams *st = d->st;
	long n;

	st->cnt[ev]++;
	if (!strncmp(msg, "ACK ", 4))
		return;
	n = relay_reply(msg, hdr_len, status, reason, st->out, sizeof(st->out));
	if (n > 0)
		conn_write(d, c, st->out, (size_t)n);
}

/* One whole message from client c. Returns -1 when c was closed. */
static int conn_message(struct siplbd *d, struct st_conn *c, const char *msg, size_t len,
			size_t hdr_len)
{
	struct sd_streams *st = d->st;
	const struct relay_ctx *rc = &st->rctx[fam_idx(d->vips[c->vip].key.family)];
	struct relay_dest dst;
	struct sip_msg m;
	bool tag;
	const char *key;
	size_t klen;
	__u32 be;
	long n;
	int r;

	st->cnt[ST_MESSAGES_IN]++;
	if (sd_steer_key(d, c->vip, msg, len, &key, &klen, &m, &tag)) {
		if (!strncmp(msg, "SIP/2.0 ", 8))
			return 0;
		reply_client(d, c, msg, hdr_len, 400, "Bad Request", ST_REPLY_400);
		return c->fd >= 0 ? 0 : -1;
	}
	if (m.kind == SIP_KIND_RESPONSE) {
		n = relay_client_response(rc, &c->rc, msg, len, hdr_len, st->out, sizeof(st->out),
					  &dst);
		if (n < 0) {
			st->cnt[ST_NOT_OURS]++;
			return 0;
		}
		if (send_toward(d, dst.host, dst.port, st->out, (size_t)n, false) < 0)
			st->cnt[ST_SEND_FAILED]++;
		else
			st->cnt[ST_RESP_TO_BACKEND]++;
		return 0;
	}
	if (!d->vips[c->vip].used || sd_steer(d, c->vip, key, klen, true, tag, &be)) {
		reply_client(d, c, msg, hdr_len, 503, "Service Unavailable", ST_REPLY_503);
		return c->fd >= 0 ? 0 : -1;
	}
	n = relay_client_request(rc, &c->rc, msg, len, hdr_len, st->out, IPFRAG_MAX_PAYLOAD);
	if (n == -ELOOP) {
		reply_client(d, c, msg, hdr_len, 483, "Too Many Hops", ST_REPLY_483);
	} else if (n == -ENOSPC) {
		reply_client(d, c, msg, hdr_len, 513, "Message Too Large", ST_REPLY_513);
	} else if (n < 0) {
		reply_client(d, c, msg, hdr_len, 400, "Bad Request", ST_REPLY_400);
	} else {
		r = send_backend(d, c->vip, be, d->vips[c->vip].key.family == AF_INET6 ?
				 &d->cfg.src6 : &d->cfg.src4, st->relay_port, st->out, (size_t)n);
		st->cnt[r < 0 ? ST_SEND_FAILED : ST_REQ_RELAYED]++;
	}
	return c->fd >= 0 ? 0 : -1;
}

/* Frame and handle what c has read. Returns -1 when c was closed. */
static int conn_process(struct siplbd *d, struct st_conn *c)
{
	struct sd_streams *st = d->st;
	struct frame_limits lim = { d->cfg.streams.max_header, d->cfg.streams.max_body };
	size_t off = 0;
	struct frame f;
	int i;

	for (i = 0; i < ST_MSGS_PER_EVENT && off < c->rlen; i++) {
		frame_next(c->rbuf + off, c->rlen - off, &lim, &f);
		if (f.kind == FRAME_MORE)
			break;
		if (f.kind == FRAME_ERROR) {
			st->frame_err[f.error]++;
			conn_close(d, c, ST_FRAMING_ERROR);
			return -1;
		}
		if (f.kind == FRAME_PING) {
			st->cnt[ST_PING]++;
			if (conn_write(d, c, "\r\n", 2))
				return -1;
		} else if (f.kind == FRAME_MESSAGE) {
			if (conn_message(d, c, c->rbuf + off, f.len, f.hdr_len))
				return -1;
		}
		off += f.len;
	}
	if (off) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
		c->msg_start_ms = 0;
	}
	if (c->rlen && !c->msg_start_ms)
		c->msg_start_ms = sd_now_ms();
	if (!c->rlen && c->rcap > 65536) {	/* an idle connection keeps little */
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
	}
	return 0;
}

static enum hs_fail hs_reason(unsigned long e, int ssl_err)
{
	int r = ERR_GET_REASON(e);

	if (!e)
		return ssl_err == SSL_ERROR_SYSCALL || ssl_err == SSL_ERROR_ZERO_RETURN ?
		       HS_EOF : HS_OTHER;
	switch (r) {
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_RECORD_LENGTH_MISMATCH:
		return HS_PLAINTEXT;
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
	case SSL_R_VERSION_TOO_LOW:
		return HS_PROTOCOL_VERSION;
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_NO_SHARED_GROUPS:
		return HS_NO_SHARED_CIPHER;
	case SSL_R_CERTIFICATE_VERIFY_FAILED:
		return HS_BAD_CLIENT_CERT;
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		return HS_NO_CLIENT_CERT;
	case SSL_R_UNEXPECTED_EOF_WHILE_READING:
		return HS_EOF;
	default:
		return HS_OTHER;
	}
}

/* Drive c's TLS handshake. 1 done, 0 in progress, -1 closed. */
static int conn_handshake(struct siplbd *d, struct st_conn *c)
{
	struct sd_streams *st = d->st;
	unsigned long e;
	int r, se;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->hs_done = true;
		st->cnt[ST_HANDSHAKE_OK]++;
		conn_events(d, c, EPOLLIN | EPOLLRDHUP);
		return 1;
	}
	se = SSL_get_error(c->ssl, r);
	if (se == SSL_ERROR_WANT_READ) {
		conn_events(d, c, EPOLLIN | EPOLLRDHUP);
		return 0;
	}
	if (se == SSL_ERROR_WANT_WRITE) {
		conn_events(d, c, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
		return 0;
	}
	e = ERR_peek_error();
	st->hs_fail[hs_reason(e, se)]++;
	if (log_max_level >= SIPLB_LOG_DEBUG) {
		char buf[256];

		ERR_error_string_n(e, buf, sizeof(buf));
		log_dbg("TLS handshake from %s:%u failed: %s", c->rc.peer_ip, c->rc.peer_port,
			e ? buf : "connection closed");
	}
	ERR_clear_error();
	conn_close(d, c, ST_HANDSHAKE_FAILED);
	return -1;
}

/* Read what is there (bounded), then frame it. */
static void conn_read(struct siplbd *d, struct st_conn *c)
{
	size_t limit = (size_t)d->cfg.streams.max_header + d->cfg.streams.max_body + 4;
	int i;

	for (i = 0; i < ST_READS_PER_EVENT; i++) {
		ssize_t n;

		if (c->rlen == c->rcap) {
			size_t cap = c->rcap ? c->rcap * 2 : 4096;
			char *nb;

			if (c->rcap >= limit) {
				/* a full buffer without a whole message: framing says why */
				if (conn_process(d, c))
					return;
				if (c->rlen == c->rcap) {
					d->st->frame_err[FRAME_ERR_HEADER_TOO_BIG]++;
					conn_close(d, c, ST_FRAMING_ERROR);
					return;
				}
				continue;
			}
			if (cap > limit)
				cap = limit;
			nb = realloc(c->rbuf, cap);
			if (!nb) {
				conn_close(d, c, ST_CLOSED_ERROR);
				return;
			}
			c->rbuf = nb;
			c->rcap = cap;
		}
		if (c->ssl) {
			int r, se;

			ERR_clear_error();
			r = SSL_read(c->ssl, c->rbuf + c->rlen, (int)(c->rcap - c->rlen));
			if (r <= 0) {
				se = SSL_get_error(c->ssl, r);
				if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE)
					break;
				ERR_clear_error();
				conn_close(d, c, se == SSL_ERROR_ZERO_RETURN ||
						 se == SSL_ERROR_SYSCALL ?
						 ST_CLOSED_BY_PEER : ST_CLOSED_ERROR);
				return;
			}
			n = r;
		} else {
			n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				conn_close(d, c, ST_CLOSED_ERROR);
				return;
			}
			if (n == 0) {
				conn_close(d, c, ST_CLOSED_BY_PEER);
				return;
			}
		}
		c->rlen += (size_t)n;
		c->last_rx_ms = sd_now_ms();
		if (!c->ssl && c->rlen < c->rcap)
			break;	/* the socket had no more */
	}
	conn_process(d, c);
}

static void conn_event(struct siplbd *d, __u32 slot, __u32 events)
{
	struct st_conn *c;

	if (slot >= d->st->cap)
		return;
	c = &d->st->conns[slot];
	if (c->fd < 0)
		return;
	if (c->ssl && !c->hs_done) {
		if (conn_handshake(d, c) <= 0)
			return;
		events |= EPOLLIN;	/* records that came with the handshake */
	}
	if (events & EPOLLOUT) {
		if (conn_flush(d, c)) {
			conn_close(d, c, ST_CLOSED_ERROR);
			return;
		}
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		conn_read(d, c);
}

static void on_accept(struct siplbd *d, __u32 li)
{
	struct sd_streams *st = d->st;
	struct st_listener *l = &st->lis[li];
	int i, one = 1;

	for (i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct siplb_cfg_addr peer;
		struct st_conn *c;
		__u32 slot;
		int fd;

		fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (st->free_head == NO_SLOT || st->used >= d->cfg.streams.max_conns ||
		    (l->tls && !st->tls)) {
			st->cnt[ST_REFUSED_LIMIT]++;
			close(fd);
			continue;
		}
		slot = st->free_head;
		c = &st->conns[slot];
		st->free_head = c->next_free;
		st->used++;
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->gen = ++st->gen_next;
		c->vip = l->vip;
		c->tls = l->tls;
		c->accepted_ms = c->last_rx_ms = sd_now_ms();
		c->rc.slot = slot;
		c->rc.gen = c->gen;
		c->rc.tls = l->tls;
		host_text(&l->addr, c->rc.vip_host, sizeof(c->rc.vip_host), true);
		c->rc.vip_port = l->port;
		sd_from_sockaddr(&ss, &peer, &c->rc.peer_port);
		host_text(&peer, c->rc.peer_ip, sizeof(c->rc.peer_ip), false);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		st->cnt[ST_ACCEPTED]++;
		if (l->tls) {
			c->ssl = SSL_new(st->tls);
			if (!c->ssl || !SSL_set_fd(c->ssl, fd)) {
				conn_close(d, c, ST_CLOSED_ERROR);
				continue;
			}
			SSL_set_accept_state(c->ssl);
		} else {
			c->hs_done = true;
		}
		c->events = EPOLLIN | EPOLLRDHUP;
		if (ep_set(d, fd, EPOLL_CTL_ADD, c->events, ST_EV(ST_CONN, slot)))
			conn_close(d, c, ST_CLOSED_ERROR);
	}
}

/* --- datagrams: the relay socket and the slow path --------------------------- */

static void reply_backend(struct siplbd *d, const char *msg, size_t hdr_len, int status,
			  const char *reason)
{
	struct sd_streams *st = d->st;
	struct relay_dest dst;
	long n;

	if (!strncmp(msg, "ACK ", 4))
		return;
	n = relay_reply(msg, hdr_len, status, reason, st->out, sizeof(st->out));
	if (n > 0 && !relay_via_dest(st->out, (size_t)n, &dst))
		send_toward(d, dst.host, dst.port, st->out, (size_t)n, false);
}

/* One datagram from the backend side on the relay socket. */
static void relay_datagram(struct siplbd *d, int fi, const char *msg, size_t len,
			   const struct siplb_cfg_addr *src, __u16 sport)
{
	struct sd_streams *st = d->st;
	const struct relay_ctx *rc = &st->rctx[fi];
	size_t hdr_len = dgram_hdr_len(msg, len);
	char src_ip[RELAY_HOST_MAX];
	struct st_conn *c;
	__u32 slot, gen;
	long n;
	int r;

	if (!hdr_len || len < 12)
		return;
	if (!strncmp(msg, "SIP/2.0 ", 8)) {
		n = relay_backend_response(rc, msg, len, hdr_len, st->out, sizeof(st->out), &slot,
					   &gen);
		if (n < 0) {
			st->cnt[n == -EBADMSG ? ST_FLOW_FORGED : ST_NOT_OURS]++;
			return;
		}
		c = conn_get(st, slot, gen);
		if (!c) {
			st->cnt[ST_RESP_STALE]++;
			return;
		}
		st->cnt[ST_RESP_TO_CLIENT]++;
		conn_write(d, c, st->out, (size_t)n);
		return;
	}
	r = relay_route_token(rc, msg, hdr_len, &slot, &gen);
	if (r == -EBADMSG) {
		st->cnt[ST_FLOW_FORGED]++;
		reply_backend(d, msg, hdr_len, 403, "Forbidden (invalid flow token)");
		return;
	}
	if (r) {
		st->cnt[ST_NOT_OURS]++;
		reply_backend(d, msg, hdr_len, 404, "Not Found (no flow token)");
		return;
	}
	c = conn_get(st, slot, gen);
	if (!c) {
		/* RFC 5626 section 5.3: the flow is gone */
		st->cnt[ST_FLOW_STALE]++;
		reply_backend(d, msg, hdr_len, 430, "Flow Failed");
		return;
	}
	host_text(src, src_ip, sizeof(src_ip), false);
	n = relay_backend_request(rc, &c->rc, msg, len, hdr_len, src_ip, sport, st->out,
				  sizeof(st->out));
	if (n == -ELOOP) {
		reply_backend(d, msg, hdr_len, 483, "Too Many Hops");
		return;
	}
	if (n < 0) {
		reply_backend(d, msg, hdr_len, 400, "Bad Request");
		return;
	}
	st->cnt[ST_REQ_TO_CLIENT]++;
	conn_write(d, c, st->out, (size_t)n);
}

/* One datagram XDP passed up for VIP vip (a reassembled fragment, a long header block...). */
static void slow_datagram(struct siplbd *d, __u32 vip, const char *msg, size_t len,
			  const struct siplb_cfg_addr *src, __u16 sport)
{
	struct sd_streams *st = d->st;
	struct sip_msg m;
	bool tag;
	const char *key;
	size_t klen;
	__u32 be;
	int n;

	st->cnt[ST_SLOW_RECEIVED]++;
	if (sd_steer_key(d, vip, msg, len, &key, &klen, &m, &tag)) {
		st->cnt[ST_SLOW_DROPPED_NO_KEY]++;
		return;
	}
	if (sd_steer(d, vip, key, klen, m.kind == SIP_KIND_REQUEST, tag, &be)) {
		st->cnt[ST_SLOW_NO_BACKEND]++;
		return;
	}
	n = send_backend(d, vip, be, src, sport, msg, len);
	if (n == -EOPNOTSUPP) {
		st->cnt[ST_SLOW_L2]++;
		return;
	}
	if (n < 0) {
		st->cnt[ST_SEND_FAILED]++;
		return;
	}
	st->cnt[ST_SLOW_FORWARDED]++;
	if (n > 1)
		st->cnt[ST_SLOW_FRAGMENTED]++;
}

static void on_datagrams(struct siplbd *d, int fd, bool relay, __u32 idx)
{
	struct sd_streams *st = d->st;
	int i;

	for (i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct siplb_cfg_addr src;
		__u16 sport;
		ssize_t n;

		n = recvfrom(fd, st->in, ST_DGRAM_MAX, 0, (struct sockaddr *)&ss, &sl);
		if (n < 0)
			return;
		st->in[n] = 0;
		sd_from_sockaddr(&ss, &src, &sport);
		if (relay)
			relay_datagram(d, (int)idx, st->in, (size_t)n, &src, sport);
		else
			slow_datagram(d, idx, st->in, (size_t)n, &src, sport);
	}
}

void sd_streams_event(struct siplbd *d, __u64 data, __u32 events)
{
	struct sd_streams *st = d->st;
	__u32 type = (__u32)(data >> 32) & 0xff, idx = (__u32)data;

	if (!st)
		return;
	switch (type) {
	case ST_LISTEN:
		if (idx < ST_MAX_LISTEN && st->lis[idx].fd >= 0)
			on_accept(d, idx);
		break;
	case ST_CONN:
		conn_event(d, idx, events);
		break;
	case ST_RELAY:
		if (idx < 2 && st->relay_fd[idx] >= 0)
			on_datagrams(d, st->relay_fd[idx], true, idx);
		break;
	case ST_SLOW:
		if (idx < SIPLB_MAX_VIPS && st->slow_fd[idx] >= 0)
			on_datagrams(d, st->slow_fd[idx], false, idx);
		break;
	}
}

void sd_streams_tick(struct siplbd *d, __u64 now)
{
	struct sd_streams *st = d->st;
	__u64 idle, msg_to, hs_to;
	__u32 i;

	if (!st || now - st->last_sweep_ms < ST_SWEEP_MS)
		return;
	st->last_sweep_ms = now;
	idle = (__u64)d->cfg.streams.idle_s * 1000;
	msg_to = d->cfg.streams.msg_timeout_ms;
	hs_to = d->cfg.tls.handshake_ms;
	for (i = 0; i < st->cap && st->used; i++) {
		struct st_conn *c = &st->conns[i];

		if (c->fd < 0)
			continue;
		if (c->ssl && !c->hs_done && now - c->accepted_ms > hs_to) {
			st->hs_fail[HS_TIMEOUT]++;
			conn_close(d, c, ST_HANDSHAKE_FAILED);
		} else if (c->msg_start_ms && now - c->msg_start_ms > msg_to) {
			conn_close(d, c, ST_MESSAGE_TIMEOUT);
		} else if (now - c->last_rx_ms > idle) {
			conn_close(d, c, ST_IDLE_TIMEOUT);
		}
	}
}

/* --- setup, reload, teardown ------------------------------------------------ */

static struct sd_streams *streams_new(void)
{
	struct sd_streams *st = calloc(1, sizeof(*st));
	size_t i;

	if (!st)
		return NULL;
	st->relay_fd[0] = st->relay_fd[1] = -1;
	st->raw_fd[0] = st->raw_fd[1] = -1;
	for (i = 0; i < ST_MAX_LISTEN; i++)
		st->lis[i].fd = -1;
	for (i = 0; i < SIPLB_MAX_VIPS; i++)
		st->slow_fd[i] = -1;
	st->free_head = NO_SLOT;
	if (getrandom(&st->gen_next, sizeof(st->gen_next), 0) != sizeof(st->gen_next))
		st->gen_next = (__u32)getpid() * 2654435761u;
	st->ipid = st->gen_next;
	return st;
}

int sd_streams_prepare(struct siplbd *d, const struct siplb_cfg *cfg, char *err,
		       size_t errlen)
{
	SSL_CTX *ctx = NULL;
	size_t i;
	bool tls = false;

	for (i = 0; i < cfg->n_vips; i++)
		tls |= !!(cfg->vips[i].transports & SIPLB_TRANSPORT_TLS);
	if (!d->st) {
		d->st = streams_new();
		if (!d->st) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	if (tls) {
		ctx = tlsctx_new(&cfg->tls, err, errlen);
		if (!ctx)
			return -EINVAL;
	}
	if (d->st->tls_next)
		tlsctx_free(d->st->tls_next);
	d->st->tls_next = ctx;
	return 0;
}

/* Grow the connection table to cap slots (it never shrinks: slots are in use). */
static int conns_grow(struct sd_streams *st, __u32 cap)
{
	struct st_conn *nc;
	__u32 i;

	if (cap <= st->cap)
		return 0;
	nc = realloc(st->conns, (size_t)cap * sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	st->conns = nc;
	for (i = cap; i-- > st->cap;) {
		memset(&nc[i], 0, sizeof(nc[i]));
		nc[i].fd = -1;
		nc[i].next_free = st->free_head;
		st->free_head = i;
	}
	st->cap = cap;
	return 0;
}

static void listener_close(struct siplbd *d, struct st_listener *l)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, l->fd, NULL);
	close(l->fd);
	l->fd = -1;
}

static int listener_open(struct siplbd *d, __u32 vip, bool tls, const struct siplb_cfg_addr *a,
			 __u16 port)
{
	struct sd_streams *st = d->st;
	struct sockaddr_storage ss;
	socklen_t sl;
	char t[64];
	int fd, one = 1, i, slot = -1;

	for (i = 0; i < ST_MAX_LISTEN; i++) {
		struct st_listener *l = &st->lis[i];

		if (l->fd >= 0 && l->port == port && l->tls == tls &&
		    l->addr.family == a->family && !memcmp(l->addr.addr, a->addr, 16)) {
			l->seen = true;
			l->vip = vip;
			return 0;
		}
		if (l->fd < 0 && slot < 0)
			slot = i;
	}
	if (slot < 0)
		return -ENOSPC;
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (a->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	sd_to_sockaddr(a, port, &ss, &sl);
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 4096) ||
	    ep_set(d, fd, EPOLL_CTL_ADD, EPOLLIN, ST_EV(ST_LISTEN, slot))) {
		int err = -errno;

		close(fd);
		log_err("%s listener on %s: %s", tls ? "TLS" : "TCP",
			sd_addr_port_str(a, port, t, sizeof(t)), strerror(-err));
		return err;
	}
	st->lis[slot] = (struct st_listener){ .fd = fd, .vip = vip, .tls = tls, .addr = *a,
					      .port = port, .seen = true };
	log_info("SIP over %s on %s", tls ? "TLS" : "TCP", sd_addr_port_str(a, port, t, sizeof(t)));
	return 0;
}

/* The id of the running VIP configured as cv, or -1. */
static int vip_id_of(struct siplbd *d, const struct siplb_cfg_vip *cv)
{
	__u32 i;

	for (i = 0; i < SIPLB_MAX_VIPS; i++) {
		const struct sd_vip *v = &d->vips[i];

		if (v->used && v->key.family == cv->addr.family && ntohs(v->key.port) == cv->port &&
		    !memcmp(v->key.addr, cv->addr.addr, 16))
			return (int)i;
	}
	return -1;
}

/* Does any VIP take TCP or TLS (so the relay socket is needed)? */
static bool wants_relay(const struct siplb_cfg *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_vips; i++)
		if (cfg->vips[i].transports & (SIPLB_TRANSPORT_TCP | SIPLB_TRANSPORT_TLS))
			return true;
	return false;
}

static void open_datagram_sockets(struct siplbd *d)
{
	struct sd_streams *st = d->st;
	const struct siplb_cfg_addr *src[2] = { &d->cfg.src4, &d->cfg.src6 };
	bool relay = wants_relay(&d->cfg);
	char t[64];
	int i, fd;

	for (i = 0; i < 2; i++) {
		if (!src[i]->family)
			continue;
		if (st->relay_fd[i] >= 0 && !relay) {
			epoll_ctl(d->epfd, EPOLL_CTL_DEL, st->relay_fd[i], NULL);
			close(st->relay_fd[i]);
			st->relay_fd[i] = -1;
		}
		if (relay &&
		    (st->relay_fd[i] < 0 || st->relay_port != d->cfg.streams.relay_port)) {
			if (st->relay_fd[i] >= 0) {
				epoll_ctl(d->epfd, EPOLL_CTL_DEL, st->relay_fd[i], NULL);
				close(st->relay_fd[i]);
				st->relay_fd[i] = -1;
			}
			fd = udp_bound(src[i], d->cfg.streams.relay_port, true);
			if (fd < 0) {
				log_err("relay socket on %s: %s",
					sd_addr_port_str(src[i], d->cfg.streams.relay_port, t, sizeof(t)),
					strerror(-fd));
			} else if (ep_set(d, fd, EPOLL_CTL_ADD, EPOLLIN, ST_EV(ST_RELAY, i))) {
				close(fd);
			} else {
				st->relay_fd[i] = fd;
			}
		}
		if (st->raw_fd[i] < 0) {
			fd = raw_tunnel(src[i]);
			if (fd < 0)
				log_err("raw %s tunnel socket: %s", i ? "IP6IP6" : "IPIP",
					strerror(-fd));
			else
				st->raw_fd[i] = fd;
		}
	}
	st->relay_port = d->cfg.streams.relay_port;
}

int sd_streams_apply(struct siplbd *d)
{
	struct sd_streams *st = d->st;
	bool slow_seen[SIPLB_MAX_VIPS] = {};
	size_t i;
	int fi, id, rc = 0;
	char t[64];

	if (!st)
		return 0;
	if (st->tls_next) {
		if (st->tls)
			tlsctx_free(st->tls);	/* connections keep their own reference */
		st->tls = st->tls_next;
		st->tls_next = NULL;
	}
	if (d->cfg.streams.have_flow_key)
		memcpy(st->ftkey.k, d->cfg.streams.flow_key, sizeof(st->ftkey.k));
	for (fi = 0; fi < 2; fi++) {
		const struct siplb_cfg_addr *src = fi ? &d->cfg.src6 : &d->cfg.src4;

		st->rctx[fi].ftkey = &st->ftkey;
		st->rctx[fi].hkey = &d->cfg.hash_key;
		st->rctx[fi].udp_port = d->cfg.streams.relay_port;
		if (src->family)
			host_text(src, st->rctx[fi].udp_host, sizeof(st->rctx[fi].udp_host), true);
	}
	if (conns_grow(st, d->cfg.streams.max_conns))
		return -ENOMEM;
	open_datagram_sockets(d);
	for (i = 0; i < ST_MAX_LISTEN; i++)
		st->lis[i].seen = false;
	for (i = 0; i < d->cfg.n_vips; i++) {
		const struct siplb_cfg_vip *cv = &d->cfg.vips[i];

		id = vip_id_of(d, cv);
		if (id < 0)
			continue;
		if (cv->transports & SIPLB_TRANSPORT_TCP)
			rc |= listener_open(d, (__u32)id, false, &cv->addr, cv->port);
		if ((cv->transports & SIPLB_TRANSPORT_TLS) && st->tls)
			rc |= listener_open(d, (__u32)id, true, &cv->addr, cv->tls_port);
		if (cv->transports & SIPLB_TRANSPORT_UDP) {
			slow_seen[id] = true;
			if (st->slow_fd[id] < 0) {
				int fd = udp_bound(&cv->addr, cv->port, true);

				if (fd < 0) {
					log_warn("slow path socket on %s: %s",
						 sd_addr_port_str(&cv->addr, cv->port, t, sizeof(t)),
						 strerror(-fd));
				} else if (ep_set(d, fd, EPOLL_CTL_ADD, EPOLLIN, ST_EV(ST_SLOW, id))) {
					close(fd);
				} else {
					st->slow_fd[id] = fd;
				}
			}
		}
	}
	for (i = 0; i < ST_MAX_LISTEN; i++)
		if (st->lis[i].fd >= 0 && !st->lis[i].seen)
			listener_close(d, &st->lis[i]);	/* its connections stay */
	for (i = 0; i < SIPLB_MAX_VIPS; i++) {
		if (st->slow_fd[i] >= 0 && !slow_seen[i]) {
			epoll_ctl(d->epfd, EPOLL_CTL_DEL, st->slow_fd[i], NULL);
			close(st->slow_fd[i]);
			st->slow_fd[i] = -1;
		}
	}
	return rc ? -EIO : 0;
}

void sd_streams_close(struct siplbd *d)
{
	struct sd_streams *st = d->st;
	__u32 i;

	if (!st)
		return;
	for (i = 0; i < st->cap; i++)
		if (st->conns[i].fd >= 0)
			conn_close(d, &st->conns[i], ST_CLOSED_ERROR);
	for (i = 0; i < ST_MAX_LISTEN; i++)
		if (st->lis[i].fd >= 0)
			listener_close(d, &st->lis[i]);
	for (i = 0; i < 2; i++) {
		if (st->relay_fd[i] >= 0)
			close(st->relay_fd[i]);
		if (st->raw_fd[i] >= 0)
			close(st->raw_fd[i]);
	}
	for (i = 0; i < SIPLB_MAX_VIPS; i++)
		if (st->slow_fd[i] >= 0)
			close(st->slow_fd[i]);
	tlsctx_free(st->tls);
	tlsctx_free(st->tls_next);
	free(st->conns);
	free(st);
	d->st = NULL;
}

int sd_streams_metrics(struct siplbd *d, char *buf, size_t len)
{
	struct sd_streams *st = d->st;
	size_t off = 0;
	int i, n;

#define PUT(...)                                                          \
	do {                                                              \
		n = snprintf(buf + off, len - off, __VA_ARGS__);          \
		if (n < 0 || (size_t)n >= len - off)                      \
			return -ENOSPC;                                   \
		off += (size_t)n;                                         \
	} while (0)

	if (!st)
		return 0;
	PUT("# HELP siplb_stream_connections Client connections over TCP and TLS now open.\n"
	    "# TYPE siplb_stream_connections gauge\n"
	    "siplb_stream_connections{instance=\"%s\"} %u\n", d->cfg.instance, st->used);
	PUT("# HELP siplb_stream_events_total What siplbd's TCP/TLS relay and UDP slow path did, by event.\n"
	    "# TYPE siplb_stream_events_total counter\n");
	for (i = 0; i < ST__MAX; i++)
		PUT("siplb_stream_events_total{instance=\"%s\",event=\"%s\"} %llu\n",
		    d->cfg.instance, st_event_names[i], (unsigned long long)st->cnt[i]);
	PUT("# HELP siplb_tls_handshake_failures_total TLS handshakes that failed, by reason.\n"
	    "# TYPE siplb_tls_handshake_failures_total counter\n");
	for (i = 0; i < HS__MAX; i++)
		PUT("siplb_tls_handshake_failures_total{instance=\"%s\",reason=\"%s\"} %llu\n",
		    d->cfg.instance, hs_fail_names[i], (unsigned long long)st->hs_fail[i]);
	PUT("# HELP siplb_stream_framing_errors_total Connections closed for a broken stream, by reason.\n"
	    "# TYPE siplb_stream_framing_errors_total counter\n");
	for (i = 1; i < FRAME_ERR__MAX; i++)
		PUT("siplb_stream_framing_errors_total{instance=\"%s\",reason=\"%s\"} %llu\n",
		    d->cfg.instance, frame_error_names[i], (unsigned long long)st->frame_err[i]);
#undef PUT
	return (int)off;
}
