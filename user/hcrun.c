// SPDX-License-Identifier: GPL-2.0
/* hcrun.c: siplbd's SIP OPTIONS probes on the wire; the state machine is health.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

static int fam_idx(__u8 family)
{
	return family == AF_INET6;
}

int sd_health_open(struct siplbd *d)
{
	int i, one = 1;

	if (getrandom(&d->nonce, sizeof(d->nonce), 0) != sizeof(d->nonce))
		d->nonce = (__u32)getpid() ^ (__u32)sd_now_ms();
	for (i = 0; i < 2; i++) {
		int fam = i ? AF_INET6 : AF_INET;
		struct sockaddr_storage ss = {};
		socklen_t len = i ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

		d->hc_fd[i] = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (d->hc_fd[i] < 0) {
			log_warn("no %s health-check socket: %s", i ? "IPv6" : "IPv4",
				 strerror(errno));
			continue;
		}
		if (i)
			setsockopt(d->hc_fd[i], IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		ss.ss_family = fam;
		/* port 0: the kernel picks; the Via says which */
		if (bind(d->hc_fd[i], (struct sockaddr *)&ss, len)) {
			log_err("cannot bind the %s health-check socket: %s",
				i ? "IPv6" : "IPv4", strerror(errno));
			close(d->hc_fd[i]);
			d->hc_fd[i] = -1;
		}
	}
	return d->hc_fd[0] >= 0 || d->hc_fd[1] >= 0 ? 0 : -EIO;
}

/* Our address towards the backend, as the kernel would choose it: the Via sent-by. */
void sd_health_prepare(struct siplbd *d, struct sd_backend *b)
{
	struct sockaddr_storage ss, local;
	socklen_t len, llen = sizeof(local);
	int fd, i = fam_idx(b->addr.family);
	__u16 port;

	memset(&b->hc_src, 0, sizeof(b->hc_src));
	sd_to_sockaddr(&b->addr, b->port, &ss, &len);
	fd = socket(b->addr.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&ss, len) &&
	    !getsockname(fd, (struct sockaddr *)&local, &llen))
		sd_from_sockaddr(&local, &b->hc_src, &port);
	if (fd >= 0)
		close(fd);
	if (!b->hc_src.family)
		b->hc_src = b->addr.family == AF_INET ? d->cfg.src4 : d->cfg.src6;
	b->hc_src_port = 0;
	llen = sizeof(local);
	if (d->hc_fd[i] >= 0 && !getsockname(d->hc_fd[i], (struct sockaddr *)&local, &llen))
		sd_from_sockaddr(&local, &(struct siplb_cfg_addr){}, &b->hc_src_port);
}

static void transition(struct siplbd *d, struct sd_backend *b, const char *reason)
{
	if (b->hc.state == SIPLB_BE_DOWN)
		log_warn("backend %s (VIP %s) is DOWN: %s", b->ident, d->vips[b->vip].name, reason);
	else
		log_info("backend %s (VIP %s) is UP: %s", b->ident, d->vips[b->vip].name, reason);
	sd_vip_sync(d, b->vip);
}

/*
 * Probes go out at the same wall-clock instants on every instance: slots of
 * interval_ms, offset per backend by a hash of its identity (so the probes
 * of many backends spread over the interval). The instances' verdicts on a
 * backend that comes or goes then differ by the timer tick and the answers'
 * timing, not by up to a whole interval (docs/architecture.md, health-check
 * disagreement). The first probe goes at once; a wall clock stepped back
 * still gets a probe every two intervals. Synchronised clocks (NTP) assumed.
 */
static bool probe_due(struct siplbd *d, struct sd_backend *b, __u64 now_ms, __u64 *slot)
{
	__u32 ivl = d->cfg.health.interval_ms ? d->cfg.health.interval_ms : 1;
	const char *p;

	if (!b->hc_hash) {
		b->hc_hash = 2166136261u;
		for (p = b->ident; *p; p++)
			b->hc_hash = (b->hc_hash ^ (__u8)*p) * 16777619u;
		b->hc_hash |= 1;
	}
	*slot = (sd_realtime_ms() + b->hc_hash % ivl) / ivl;
	if (b->hc.pending)
		return false;
	if (!b->hc.ever_sent || *slot > b->hc_slot)
		return true;
	return now_ms >= b->hc.sent_ms + 2 * (__u64)ivl;
}

void sd_health_tick(struct siplbd *d, __u64 now_ms)
{
	char buf[1024], reason[HEALTH_REASON_MAX];
	struct sockaddr_storage ss;
	socklen_t len;
	__u32 id;

	for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
		struct sd_backend *b = &d->be[id];
		struct health_probe_id pid = {};
		__u64 slot;
		int n, fd;

		if (!b->used)
			continue;
		if (b->hc.pending &&
		    health_on_timeout(&b->hc, &d->cfg.health, now_ms, reason, sizeof(reason)) == 1)
			transition(d, b, reason);
		if (!probe_due(d, b, now_ms, &slot))
			continue;
		b->hc_slot = slot;
		fd = d->hc_fd[fam_idx(b->addr.family)];
		if (fd < 0)
			continue;
		pid.src = b->hc_src;
		pid.src_port = b->hc_src_port;
		pid.dst = b->addr;
		pid.dst_port = b->port;
		pid.nonce = d->nonce;
		n = health_probe_begin(&b->hc, &pid, buf, sizeof(buf), now_ms);
		if (n < 0)
			continue;
		sd_to_sockaddr(&b->addr, b->port, &ss, &len);
		/* A send error is a probe without answer: the timeout counts it. */
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&ss, len) < 0)
			log_dbg("probe to %s: %s", b->ident, strerror(errno));
	}
}

void sd_health_recv(struct siplbd *d, int i, __u64 now_ms)
{
	char buf[4096], reason[HEALTH_REASON_MAX];
	struct sockaddr_storage ss;
	struct siplb_cfg_addr from;
	socklen_t len;
	ssize_t n;
	__u16 port;
	__u32 id;
	int rc;

	for (;;) {
		len = sizeof(ss);
		n = recvfrom(d->hc_fd[i], buf, sizeof(buf), 0, (struct sockaddr *)&ss, &len);
		if (n < 0)
			return;
		sd_from_sockaddr(&ss, &from, &port);
		/* The branch decides which probe it answers; the address narrows the search. */
		for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
			struct sd_backend *b = &d->be[id];

			if (!b->used || b->addr.family != from.family ||
			    memcmp(b->addr.addr, from.addr, sizeof(from.addr)))
				continue;
			rc = health_on_response(&b->hc, buf, (size_t)n, &d->cfg.health, now_ms,
						reason, sizeof(reason));
			if (rc == -ENOENT)
				continue;
			if (rc == 1)
				transition(d, b, reason);
			break;
		}
	}
}
