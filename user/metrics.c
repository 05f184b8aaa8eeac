// SPDX-License-Identifier: GPL-2.0
/* metrics.c: reading the counter maps into a snapshot and rendering it for Prometheus. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

int metrics_snapshot_read(struct metrics_snapshot *s, const struct lb_maps *m)
{
	struct traffic t;
	int err = 0, e;
	size_t i;
	__u32 k;

	for (k = 0; k < SIPLB_DROP__MAX; k++) {
		e = lb_percpu_sum(m->drop_stats, k, &s->drops[k]);
		if (e && !err)
			err = e;
	}
	for (k = 0; k < SIPLB_SLOW__MAX; k++) {
		e = lb_percpu_sum(m->slow_stats, k, &s->slow[k]);
		if (e && !err)
			err = e;
	}
	for (k = 0; k < SIPLB_EV__MAX; k++) {
		e = lb_percpu_sum(m->event_stats, k, &s->events[k]);
		if (e && !err)
			err = e;
	}
	for (i = 0; i < s->nvips; i++) {
		e = lb_traffic_sum(m->vip_stats, s->vips[i].id, &t);
		if (e) {
			if (!err)
				err = e;
			continue;
		}
		s->vips[i].packets = t.packets;
		s->vips[i].bytes = t.bytes;
	}
	for (i = 0; i < s->nbackends; i++) {
		e = lb_traffic_sum(m->backend_stats, s->backends[i].id, &t);
		if (e) {
			if (!err)
				err = e;
			continue;
		}
		s->backends[i].packets = t.packets;
		s->backends[i].bytes = t.bytes;
	}
	return err;
}

/* Output buffer: once something does not fit, nothing more is written. */
struct out {
	char *buf;
	size_t len;
	size_t pos;
	bool full;
};

static void out_printf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
	size_t room;
	va_list ap;
	int n;

	if (o->full)
		return;
	room = o->len - o->pos;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, room, fmt, ap);
	va_end(ap);
	/* the NUL must fit too */
	if (n < 0 || (size_t)n >= room) {
		o->full = true;
		return;
	}
	o->pos += n;
}

static void out_char(struct out *o, char c)
{
	if (o->full)
		return;
	if (o->len - o->pos < 2) {
		o->full = true;
		return;
	}
	o->buf[o->pos++] = c;
	o->buf[o->pos] = '\0';
}

/* key="value", the value escaped as the format asks: \\, \" and \n. */
static void out_label(struct out *o, bool first, const char *key, const char *val)
{
	const char *p;

	out_printf(o, "%s%s=\"", first ? "" : ",", key);
	for (p = val; *p; p++) {
		switch (*p) {
		case '\\':
			out_printf(o, "\\\\");
			break;
		case '"':
			out_printf(o, "\\\"");
			break;
		case '\n':
			out_printf(o, "\\n");
			break;
		default:
			out_char(o, *p);
		}
	}
	out_char(o, '"');
}

static void out_head(struct out *o, const char *name, const char *type,
		     const char *help)
{
	out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void out_value(struct out *o, __u64 v)
{
	out_printf(o, "} %llu\n", (unsigned long long)v);
}

/* A sample with one label. */
static void out_one(struct out *o, const char *name, const char *key,
		    const char *val, __u64 v)
{
	out_printf(o, "%s{", name);
	out_label(o, true, key, val);
	out_value(o, v);
}

static void out_vip(struct out *o, const char *name, const struct metrics_vip *vip)
{
	out_printf(o, "%s{", name);
	out_label(o, true, "vip", vip->name);
	out_label(o, false, "address", vip->addr);
}

/* Opens a backend sample: name{vip="",backend="",address="" (no closing brace). */
static void out_backend(struct out *o, const char *name,
			const struct metrics_backend *b)
{
	out_printf(o, "%s{", name);
	out_label(o, true, "vip", b->vip);
	out_label(o, false, "backend", b->name);
	out_label(o, false, "address", b->addr);
}

static const char *const state_names[] = {
	[SIPLB_BE_DOWN] = "down",
	[SIPLB_BE_UP] = "up",
	[SIPLB_BE_DRAINING] = "draining",
};
#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

static void render_reasons(struct out *o, const struct metrics_snapshot *s)
{
	unsigned int k;

	/* index 0 ("none") is no reason: it never counts */
	out_head(o, "siplb_drops_total", "counter",
		 "Packets for a VIP dropped by the XDP program, by reason.");
	for (k = 1; k < SIPLB_DROP__MAX; k++)
		out_one(o, "siplb_drops_total", "reason", siplb_drop_names[k],
			s->drops[k]);
	out_head(o, "siplb_slow_path_total", "counter",
		 "Packets for a VIP passed up to siplbd, by reason.");
	for (k = 1; k < SIPLB_SLOW__MAX; k++)
		out_one(o, "siplb_slow_path_total", "reason", siplb_slow_names[k],
			s->slow[k]);
	out_head(o, "siplb_events_total", "counter",
		 "Forwarding decisions of the XDP program, by event.");
	for (k = 0; k < SIPLB_EV__MAX; k++)
		out_one(o, "siplb_events_total", "event", siplb_event_names[k],
			s->events[k]);
}

static void render_vips(struct out *o, const struct metrics_snapshot *s)
{
	size_t i;

	out_head(o, "siplb_vip_packets_total", "counter",
		 "Packets forwarded for a VIP.");
	for (i = 0; i < s->nvips; i++) {
		out_vip(o, "siplb_vip_packets_total", &s->vips[i]);
		out_value(o, s->vips[i].packets);
	}
	out_head(o, "siplb_vip_bytes_total", "counter",
		 "IP bytes forwarded for a VIP, as received.");
	for (i = 0; i < s->nvips; i++) {
		out_vip(o, "siplb_vip_bytes_total", &s->vips[i]);
		out_value(o, s->vips[i].bytes);
	}
	out_head(o, "siplb_vip_backends_up", "gauge",
		 "Backends in the live Maglev table of a VIP.");
	for (i = 0; i < s->nvips; i++) {
		out_vip(o, "siplb_vip_backends_up", &s->vips[i]);
		out_value(o, s->vips[i].backends_up);
	}
}

static void render_backends(struct out *o, const struct metrics_snapshot *s)
{
	const struct metrics_backend *b;
	unsigned int k;
	size_t i;

	out_head(o, "siplb_backend_packets_total", "counter",
		 "Packets forwarded to a backend.");
	for (i = 0; i < s->nbackends; i++) {
		out_backend(o, "siplb_backend_packets_total", &s->backends[i]);
		out_value(o, s->backends[i].packets);
	}
	out_head(o, "siplb_backend_bytes_total", "counter",
		 "IP bytes forwarded to a backend, before encapsulation.");
	for (i = 0; i < s->nbackends; i++) {
		out_backend(o, "siplb_backend_bytes_total", &s->backends[i]);
		out_value(o, s->backends[i].bytes);
	}
	out_head(o, "siplb_backend_up", "gauge",
		 "1 when the backend is up (in the Maglev table), else 0.");
	for (i = 0; i < s->nbackends; i++) {
		out_backend(o, "siplb_backend_up", &s->backends[i]);
		out_value(o, s->backends[i].state == SIPLB_BE_UP);
	}
	out_head(o, "siplb_backend_state", "gauge",
		 "1 for the backend's current state, 0 for the others.");
	for (i = 0; i < s->nbackends; i++) {
		b = &s->backends[i];
		for (k = 0; k < N_STATES; k++) {
			out_backend(o, "siplb_backend_state", b);
			out_label(o, false, "state", state_names[k]);
			out_value(o, b->state == k);
		}
	}
	out_head(o, "siplb_backend_weight", "gauge",
		 "Relative Maglev weight of a backend.");
	for (i = 0; i < s->nbackends; i++) {
		out_backend(o, "siplb_backend_weight", &s->backends[i]);
		out_value(o, s->backends[i].weight);
	}
	out_head(o, "siplb_health_probes_total", "counter",
		 "SIP OPTIONS health probes sent to a backend, by result.");
	for (i = 0; i < s->nbackends; i++) {
		b = &s->backends[i];
		out_backend(o, "siplb_health_probes_total", b);
		out_label(o, false, "result", "ok");
		out_value(o, b->probes_ok);
		out_backend(o, "siplb_health_probes_total", b);
		out_label(o, false, "result", "fail");
		out_value(o, b->probes_failed);
	}
	out_head(o, "siplb_backend_transitions_total", "counter",
		 "Health state changes of a backend.");
	for (i = 0; i < s->nbackends; i++) {
		out_backend(o, "siplb_backend_transitions_total", &s->backends[i]);
		out_value(o, s->backends[i].transitions);
	}
}

int metrics_render(const struct metrics_snapshot *s, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';

	out_head(&o, "siplb_info", "gauge", "Always 1; names the siplb instance.");
	out_one(&o, "siplb_info", "siplb_instance", s->instance, 1);
	render_reasons(&o, s);
	render_vips(&o, s);
	render_backends(&o, s);
	out_head(&o, "siplb_maglev_rebuilds_total", "counter",
		 "Maglev tables built and published.");
	out_printf(&o, "siplb_maglev_rebuilds_total %llu\n",
		   (unsigned long long)s->maglev_rebuilds);
	out_head(&o, "siplb_affinity_entries", "gauge",
		 "Dialogs in the affinity map.");
	out_printf(&o, "siplb_affinity_entries %llu\n",
		   (unsigned long long)s->affinity_entries);
	out_head(&o, "siplb_bans", "gauge", "Prefixes in the blocklist (siplbctl ban and auto-bans).");
	out_printf(&o, "siplb_bans %llu\n", (unsigned long long)s->bans);
	out_head(&o, "siplb_auto_bans_total", "counter",
		 "Sources banned by siplbd for staying over their rate budget.");
	out_printf(&o, "siplb_auto_bans_total %llu\n", (unsigned long long)s->bans_auto);
	out_head(&o, "siplb_bans_expired_total", "counter", "Bans lifted on expiry.");
	out_printf(&o, "siplb_bans_expired_total %llu\n", (unsigned long long)s->bans_expired);

	if (o.full) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	if (o.pos > INT_MAX)
		return -EOVERFLOW;
	return (int)o.pos;
}
