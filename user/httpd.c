// SPDX-License-Identifier: GPL-2.0
/* httpd.c: siplbd serves its metrics for Prometheus over HTTP (libmicrohttpd, in siplbd's own loop). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <microhttpd.h>

#include "daemon.h"
#include "log.h"
#include "metrics.h"

/* Dialogs remembered in the affinity map: counted by walking its keys. */
static __u64 affinity_entries(struct siplbd *d)
{
	__u64 key, next, *prev = NULL, n = 0;

	while (!bpf_map_get_next_key(d->maps.affinity, prev, &next)) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

/* Render the current metrics into a malloc'd buffer; NULL on failure. */
static char *render(struct siplbd *d, size_t *out_len)
{
	struct metrics_snapshot s = {};
	size_t cap = 1 << 16, nv = 0, nb = 0;
	char *buf = NULL;
	__u32 id;
	int n;

	s.vips = calloc(SIPLB_MAX_VIPS, sizeof(*s.vips));
	s.backends = calloc(SIPLB_MAX_BACKENDS, sizeof(*s.backends));
	if (!s.vips || !s.backends)
		goto out;
	snprintf(s.instance, sizeof(s.instance), "%s", d->cfg.instance);
	for (id = 0; id < SIPLB_MAX_VIPS; id++) {
		struct sd_vip *v = &d->vips[id];
		struct siplb_cfg_addr a = { .family = v->key.family };

		if (!v->used)
			continue;
		memcpy(a.addr, v->key.addr, sizeof(a.addr));
		snprintf(s.vips[nv].name, METRICS_NAME_LEN, "%s", v->name);
		sd_addr_port_str(&a, ntohs(v->key.port), s.vips[nv].addr, METRICS_NAME_LEN);
		s.vips[nv].id = id;
		s.vips[nv].backends_up = v->up;
		nv++;
	}
	for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
		struct sd_backend *b = &d->be[id];
		struct metrics_backend *mb = &s.backends[nb];

		if (!b->used)
			continue;
		snprintf(mb->name, METRICS_NAME_LEN, "%s", b->ident);
		sd_addr_port_str(&b->addr, b->port, mb->addr, METRICS_NAME_LEN);
		snprintf(mb->vip, METRICS_NAME_LEN, "%s", d->vips[b->vip].name);
		mb->id = id;
		mb->state = b->state;
		mb->weight = b->weight;
		mb->probes_ok = b->hc.cnt.ok;
		mb->probes_failed = b->hc.cnt.timeouts + b->hc.cnt.bad_status;
		mb->transitions = b->hc.cnt.transitions;
		nb++;
	}
	s.nvips = nv;
	s.nbackends = nb;
	s.maglev_rebuilds = d->maglev_rebuilds;
	s.affinity_entries = affinity_entries(d);
	s.bans = d->n_bans;
	s.bans_auto = d->bans_auto;
	s.bans_expired = d->bans_expired;
	metrics_snapshot_read(&s, &d->maps);
	for (;;) {
		char *nbuf = realloc(buf, cap);

		if (!nbuf) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nbuf;
		n = metrics_render(&s, buf, cap);
		if (n >= 0) {
			int m = sd_streams_metrics(d, buf + n, cap - (size_t)n);

			if (m >= 0) {
				*out_len = (size_t)n + (size_t)m;
				break;
			}
		}
		cap *= 2;
	}
out:
	free(s.vips);
	free(s.backends);
	return buf;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version,
			      const char *upload_data, size_t *upload_data_size,
			      void **con_cls)
{
	static const char not_found[] = "siplb: metrics are at /metrics\n";
	struct siplbd *d = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len = 0;
	char *body;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return MHD_NO;
	if (strcmp(url, "/metrics")) {
		resp = MHD_create_response_from_buffer(sizeof(not_found) - 1, (void *)not_found,
						       MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	body = render(d, &len);
	if (!body)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

int sd_http_open(struct siplbd *d)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	char buf[80];

	sd_to_sockaddr(&d->cfg.metrics_addr, d->cfg.metrics_port, &ss, &sslen);
	if (d->cfg.metrics_addr.family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* No thread of its own: siplbd's epoll drives it, so handlers see a consistent state. */
	d->mhd = MHD_start_daemon(flags, d->cfg.metrics_port, NULL, NULL, answer, d,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				  MHD_OPTION_END);
	if (!d->mhd) {
		log_err("cannot serve metrics on %s (is the port in use?)",
			sd_addr_port_str(&d->cfg.metrics_addr, d->cfg.metrics_port, buf,
					 sizeof(buf)));
		return -EADDRINUSE;
	}
	log_info("metrics on http://%s/metrics",
		 sd_addr_port_str(&d->cfg.metrics_addr, d->cfg.metrics_port, buf, sizeof(buf)));
	return 0;
}

int sd_http_fd(struct siplbd *d)
{
	const union MHD_DaemonInfo *info;

	if (!d->mhd)
		return -1;
	info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	return info ? info->epoll_fd : -1;
}

void sd_http_run(struct siplbd *d)
{
	if (d->mhd)
		MHD_run(d->mhd);
}

void sd_http_close(struct siplbd *d)
{
	if (d->mhd)
		MHD_stop_daemon(d->mhd);
	d->mhd = NULL;
}
