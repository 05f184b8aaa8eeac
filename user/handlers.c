// SPDX-License-Identifier: GPL-2.0
/* handlers.c: what siplbd answers on its control socket (the protocol is control.h's). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include <systemd/sd-daemon.h>

#include "control.h"
#include "daemon.h"
#include "log.h"
#include "sipmsg.h"

#define ADD(o, k, v) json_object_object_add((o), (k), (v))
#define JINT(v) json_object_new_int64((int64_t)(v))
#define JSTR(v) json_object_new_string(v)


/* Earlier Maglev generations of a VIP still steering in-dialog requests. */
static int earlier_generations(const struct siplbd *d, const struct sd_vip *v)
{
	__u32 now = (__u32)(sd_now_ms() * 1000000ULL >> 30);
	struct vip_info vi;
	int g, n = 0;

	if (lb_vip_get(&d->maps, &v->key, &vi))
		return 0;
	for (g = 0; g < SIPLB_MAGLEV_GENS; g++)
		if (vi.gen_until[g] != SIPLB_GEN_LIVE && vi.gen_until[g] > now)
			n++;
	return n;
}
static const char *req_str(struct json_object *req, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(req, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool req_int(struct json_object *req, const char *k, int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(req, k, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

static const char *mode_name(__u8 m)
{
	return m == SIPLB_FWD_L2 ? "l2" : "ipip";
}

static void vip_addr(const struct sd_vip *v, struct siplb_cfg_addr *a)
{
	a->family = v->key.family;
	memcpy(a->addr, v->key.addr, sizeof(a->addr));
}

/* Affinity entries per backend id, by walking the map in batches. */
static __u64 *dialogs_per_backend(struct siplbd *d, __u64 *total)
{
	enum { CHUNK = 4096 };
	__u64 *cnt = calloc(SIPLB_MAX_BACKENDS, sizeof(*cnt));
	__u64 *keys = malloc(CHUNK * sizeof(*keys)), in = 0, out = 0;
	struct affinity *vals = malloc(CHUNK * sizeof(*vals));
	bool first = true;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	*total = 0;
	if (!cnt || !keys || !vals)
		goto out;
	for (;;) {
		__u32 n = CHUNK, i;
		int err = bpf_map_lookup_batch(d->maps.affinity, first ? NULL : &in, &out,
					       keys, vals, &n, &opts);

		if (err && errno != ENOENT)
			break;
		for (i = 0; i < n; i++) {
			if (vals[i].backend < SIPLB_MAX_BACKENDS)
				cnt[vals[i].backend]++;
			(*total)++;
		}
		if (err)
			break;	/* ENOENT: that was the last batch */
		in = out;
		first = false;
	}
out:
	free(keys);
	free(vals);
	return cnt;
}

static int h_status(void *arg, struct json_object *req, struct json_object *r, char *err,
		    size_t errlen)
{
	struct siplbd *d = arg;
	struct json_object *ifs = json_object_new_array(), *vips = json_object_new_array();
	struct timespec now;
	__u64 total = 0, *per;
	char buf[80];
	size_t i;
	__u32 j, id;

	(void)req;
	(void)err;
	(void)errlen;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ADD(r, "instance", JSTR(d->cfg.instance));
	ADD(r, "version", JSTR(SIPLBD_VERSION));
	ADD(r, "pid", JINT(getpid()));
	ADD(r, "uptime_s", JINT(now.tv_sec - d->started.tv_sec));
	ADD(r, "config", JSTR(d->cfg_path));
	ADD(r, "pin_dir", JSTR(d->pin_dir));
	for (i = 0; i < d->n_ifaces; i++) {
		struct json_object *o = json_object_new_object();

		ADD(o, "name", JSTR(d->ifaces[i].name));
		ADD(o, "ifindex", JINT(d->ifaces[i].ifindex));
		ADD(o, "mode", JSTR(d->ifaces[i].mode == SIPLB_ATTACH_GENERIC ? "generic" : "native"));
		ADD(o, "attached", json_object_new_boolean(d->ifaces[i].link_fd >= 0));
		ADD(o, "link_up", json_object_new_boolean(d->ifaces[i].link_up));
		ADD(o, "events", JINT(d->ifaces[i].events));
		json_object_array_add(ifs, o);
	}
	ADD(r, "interfaces", ifs);
	per = dialogs_per_backend(d, &total);
	for (j = 0; j < SIPLB_MAX_VIPS; j++) {
		struct sd_vip *v = &d->vips[j];
		struct json_object *o, *tr;
		struct siplb_cfg_addr a;
		unsigned int nbe = 0;

		if (!v->used)
			continue;
		for (id = 0; id < SIPLB_MAX_BACKENDS; id++)
			nbe += d->be[id].used && d->be[id].vip == j;
		o = json_object_new_object();
		vip_addr(v, &a);
		ADD(o, "id", JINT(j));
		ADD(o, "name", JSTR(v->name));
		ADD(o, "address", JSTR(sd_addr_str(&a, buf, sizeof(buf))));
		ADD(o, "port", JINT(ntohs(v->key.port)));
		tr = json_object_new_array();
		if (v->transports & SIPLB_TRANSPORT_UDP)
			json_object_array_add(tr, JSTR("udp"));
		if (v->transports & SIPLB_TRANSPORT_TCP)
			json_object_array_add(tr, JSTR("tcp"));
		if (v->transports & SIPLB_TRANSPORT_TLS)
			json_object_array_add(tr, JSTR("tls"));
		ADD(o, "transports", tr);
		ADD(o, "mode", JSTR(mode_name(v->mode)));
		ADD(o, "register_key", JSTR(v->reg_key == SIPLB_REGKEY_AOR ? "to-aor" : "call-id"));
		ADD(o, "backends_total", JINT(nbe));
		ADD(o, "backends_up", JINT(v->up));
		snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)v->fingerprint);
		ADD(o, "table_fingerprint", JSTR(buf));
		ADD(o, "table_rebuilds", JINT(v->rebuilds));
		ADD(o, "announced", json_object_new_boolean(v->announced));
		ADD(o, "earlier_generations", JINT(earlier_generations(d, v)));
		json_object_array_add(vips, o);
	}
	free(per);
	ADD(r, "vips", vips);
	ADD(r, "affinity_entries", JINT(total));
	ADD(r, "affinity_capacity", JINT(d->cfg.aff_capacity));
	ADD(r, "maglev_rebuilds", JINT(d->maglev_rebuilds));
	ADD(r, "dialog_window_s", JINT(d->cfg.dialog_window));
	ADD(r, "announce_table", JINT(d->cfg.announce_table));
	ADD(r, "reloads", JINT(d->reloads));
	ADD(r, "reload_failures", JINT(d->reload_failures));
	ADD(r, "last_reload_error",
	    d->last_reload_error[0] ? JSTR(d->last_reload_error) : NULL);
	ADD(r, "link_events", JINT(d->link_events));
	ADD(r, "nexthop_updates", JINT(d->neigh_updates));
	return 0;
}

static struct json_object *health_json(const struct sd_backend *b, __u64 now)
{
	struct json_object *h = json_object_new_object(), *hist = json_object_new_array();
	struct health_event ev[HEALTH_HISTORY];
	__u32 n = health_history(&b->hc, ev), i;

	ADD(h, "state", JSTR(b->hc.state == SIPLB_BE_UP ? "up" : "down"));
	ADD(h, "probed", json_object_new_boolean(b->hc.probed));
	ADD(h, "reason", JSTR(b->hc.reason));
	ADD(h, "changed_ago_ms", b->hc.changed_ms ? JINT(now - b->hc.changed_ms) : NULL);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object();

		ADD(e, "result", JSTR(health_result_name(ev[i].result)));
		ADD(e, "status", JINT(ev[i].status));
		ADD(e, "rtt_ms", JINT(ev[i].rtt_ms));
		ADD(e, "ago_ms", JINT(now - ev[i].at_ms));
		json_object_array_add(hist, e);
	}
	ADD(h, "history", hist);
	ADD(h, "sent", JINT(b->hc.cnt.sent));
	ADD(h, "ok", JINT(b->hc.cnt.ok));
	ADD(h, "timeouts", JINT(b->hc.cnt.timeouts));
	ADD(h, "bad_status", JINT(b->hc.cnt.bad_status));
	ADD(h, "transitions", JINT(b->hc.cnt.transitions));
	return h;
}

static int h_backends(void *arg, struct json_object *req, struct json_object *r, char *err,
		      size_t errlen)
{
	struct siplbd *d = arg;
	struct json_object *arr = json_object_new_array();
	const char *vname = req_str(req, "vip");
	__u64 now = sd_now_ms(), total, *per;
	int only = -1;
	char buf[80];
	__u32 id;

	if (vname) {
		only = sd_vip_find(d, vname);
		if (only < 0) {
			json_object_put(arr);
			snprintf(err, errlen, "no VIP '%s'", vname);
			return -ENOENT;
		}
	}
	per = dialogs_per_backend(d, &total);
	for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
		struct sd_backend *b = &d->be[id];
		struct json_object *o;
		struct traffic t = {};

		if (!b->used || (only >= 0 && b->vip != (__u32)only))
			continue;
		o = json_object_new_object();
		lb_traffic_sum(d->maps.backend_stats, id, &t);
		ADD(o, "id", JINT(id));
		ADD(o, "vip", JSTR(d->vips[b->vip].name));
		ADD(o, "name", JSTR(b->ident));
		ADD(o, "address", JSTR(sd_addr_str(&b->addr, buf, sizeof(buf))));
		ADD(o, "port", JINT(b->port));
		ADD(o, "weight", JINT(b->weight));
		ADD(o, "state", JSTR(sd_state_name(b->state)));
		ADD(o, "drain", json_object_new_boolean(b->drain));
		ADD(o, "runtime", json_object_new_boolean(b->runtime));
		ADD(o, "health", health_json(b, now));
		ADD(o, "dialogs", JINT(per ? per[id] : 0));
		ADD(o, "packets", JINT(t.packets));
		ADD(o, "bytes", JINT(t.bytes));
		if (b->nh_ok) {
			struct json_object *nh = json_object_new_object();
			const __u8 *m = b->nh.dmac;

			snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
				 m[2], m[3], m[4], m[5]);
			ADD(nh, "mac", JSTR(buf));
			ADD(nh, "ifindex", JINT(b->nh.ifindex));
			ADD(o, "nexthop", nh);
		} else {
			ADD(o, "nexthop", NULL);
		}
		json_object_array_add(arr, o);
	}
	free(per);
	ADD(r, "backends", arr);
	return 0;
}

static int h_add(void *arg, struct json_object *req, struct json_object *r, char *err,
		 size_t errlen)
{
	struct siplbd *d = arg;
	const char *vname = req_str(req, "vip"), *addr = req_str(req, "address");
	const char *name = req_str(req, "name");
	struct siplb_cfg_addr a = {};
	int64_t port = SIPLB_CFG_PORT, weight = SIPLB_CFG_WEIGHT;
	int vip, id;

	if (!vname || !addr) {
		snprintf(err, errlen, "add needs a VIP and an address");
		return -EINVAL;
	}
	vip = sd_vip_find(d, vname);
	if (vip < 0) {
		snprintf(err, errlen, "no VIP '%s'", vname);
		return -ENOENT;
	}
	if (inet_pton(AF_INET, addr, a.addr) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, addr, a.addr) == 1)
		a.family = AF_INET6;
	else {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", addr);
		return -EINVAL;
	}
	req_int(req, "port", &port);
	req_int(req, "weight", &weight);
	if (port < 1 || port > 65535 || weight < 1 || weight > 65535) {
		snprintf(err, errlen, "port and weight must be 1..65535");
		return -EINVAL;
	}
	if (name && (!*name || strlen(name) > SIPLB_CFG_NAME_MAX)) {
		snprintf(err, errlen, "a name is 1 to %d bytes", SIPLB_CFG_NAME_MAX);
		return -EINVAL;
	}
	id = sd_backend_add(d, (__u32)vip, &a, (__u16)port, (__u16)weight, name, err, errlen);
	if (id < 0)
		return id;
	ADD(r, "id", JINT(id));
	return 0;
}

static struct sd_backend *req_backend(struct siplbd *d, struct json_object *req, char *err,
				      size_t errlen)
{
	const char *what = req_str(req, "backend");

	if (!what) {
		snprintf(err, errlen, "which backend? (a name, an id, an address or address:port)");
		return NULL;
	}
	return sd_backend_find(d, what, err, errlen);
}

static int h_remove(void *arg, struct json_object *req, struct json_object *r, char *err,
		    size_t errlen)
{
	struct sd_backend *b = req_backend(arg, req, err, errlen);

	if (!b)
		return -ENOENT;
	ADD(r, "id", JINT(sd_backend_id(arg, b)));
	sd_backend_remove(arg, b);
	return 0;
}

static int set_drain(struct siplbd *d, struct json_object *req, struct json_object *r,
		     bool drain, char *err, size_t errlen)
{
	struct sd_backend *b = req_backend(d, req, err, errlen);

	struct json_object *at;

	if (!b)
		return -ENOENT;
	if (json_object_object_get_ex(req, "at_ms", &at)) {
		__u64 when = (__u64)json_object_get_int64(at);

		if (when > sd_realtime_ms()) {
			b->drain_at_ms = when;
			b->drain_to = drain;
			log_info("backend %s: %s at %llu ms (wall clock)", b->ident,
				 drain ? "draining" : "undraining", (unsigned long long)when);
			ADD(r, "id", JINT(sd_backend_id(d, b)));
			ADD(r, "state", JSTR("scheduled"));
			return 0;
		}
	}
	b->drain_at_ms = 0;
	if (b->drain != drain) {
		b->drain = drain;
		log_info("backend %s %s by siplbctl", b->ident, drain ? "draining" : "undrained");
		sd_vip_sync(d, b->vip);
	}
	ADD(r, "id", JINT(sd_backend_id(d, b)));
	ADD(r, "state", JSTR(sd_state_name(b->state)));
	return 0;
}

static int h_drain(void *arg, struct json_object *req, struct json_object *r, char *err,
		   size_t errlen)
{
	return set_drain(arg, req, r, true, err, errlen);
}

static int h_undrain(void *arg, struct json_object *req, struct json_object *r, char *err,
		     size_t errlen)
{
	return set_drain(arg, req, r, false, err, errlen);
}

static int h_weight(void *arg, struct json_object *req, struct json_object *r, char *err,
		    size_t errlen)
{
	struct siplbd *d = arg;
	struct sd_backend *b = req_backend(d, req, err, errlen);
	int64_t w;

	if (!b)
		return -ENOENT;
	if (!req_int(req, "weight", &w) || w < 0 || w > 65535) {
		snprintf(err, errlen, "weight must be 0..65535 (0 takes it out of the table)");
		return -EINVAL;
	}
	if (b->weight != w) {
		log_info("backend %s: weight %u -> %lld by siplbctl", b->ident, b->weight,
			 (long long)w);
		b->weight = (__u16)w;
		sd_vip_sync(d, b->vip);
	}
	ADD(r, "id", JINT(sd_backend_id(d, b)));
	ADD(r, "weight", JINT(b->weight));
	return 0;
}

static struct json_object *counters(int fd, const char *const *names, __u32 n)
{
	struct json_object *o = json_object_new_object();
	__u32 i;

	for (i = 0; i < n; i++) {
		__u64 v = 0;

		lb_percpu_sum(fd, i, &v);
		ADD(o, names[i], JINT(v));
	}
	return o;
}

static int h_stats(void *arg, struct json_object *req, struct json_object *r, char *err,
		   size_t errlen)
{
	struct siplbd *d = arg;
	struct json_object *vips = json_object_new_array(), *bes = json_object_new_array();
	__u32 id;

	(void)req;
	(void)err;
	(void)errlen;
	ADD(r, "drops", counters(d->maps.drop_stats, siplb_drop_names, SIPLB_DROP__MAX));
	ADD(r, "slow", counters(d->maps.slow_stats, siplb_slow_names, SIPLB_SLOW__MAX));
	ADD(r, "events", counters(d->maps.event_stats, siplb_event_names, SIPLB_EV__MAX));
	for (id = 0; id < SIPLB_MAX_VIPS; id++) {
		struct json_object *o;
		struct traffic t = {};

		if (!d->vips[id].used)
			continue;
		lb_traffic_sum(d->maps.vip_stats, id, &t);
		o = json_object_new_object();
		ADD(o, "name", JSTR(d->vips[id].name));
		ADD(o, "packets", JINT(t.packets));
		ADD(o, "bytes", JINT(t.bytes));
		json_object_array_add(vips, o);
	}
	for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
		struct json_object *o;
		struct traffic t = {};

		if (!d->be[id].used)
			continue;
		lb_traffic_sum(d->maps.backend_stats, id, &t);
		o = json_object_new_object();
		ADD(o, "name", JSTR(d->be[id].ident));
		ADD(o, "vip", JSTR(d->vips[d->be[id].vip].name));
		ADD(o, "state", JSTR(sd_state_name(d->be[id].state)));
		ADD(o, "packets", JINT(t.packets));
		ADD(o, "bytes", JINT(t.bytes));
		json_object_array_add(bes, o);
	}
	ADD(r, "vips", vips);
	ADD(r, "backends", bes);
	return 0;
}

static struct json_object *ban_json(const struct sd_ban *b, time_t now)
{
	struct json_object *o = json_object_new_object();
	char buf[64];

	ADD(o, "prefix", JSTR(sd_ban_str(b, buf, sizeof(buf))));
	ADD(o, "origin", JSTR(b->autob ? "auto" : "manual"));
	ADD(o, "expires", JINT(b->expires));
	ADD(o, "expires_in_s", b->expires ? JINT(b->expires > now ? b->expires - now : 0) : NULL);
	return o;
}

/* ban {"prefix": "ADDR[/LEN]", "duration": seconds (0 or absent: never)} */
static int h_ban(void *arg, struct json_object *req, struct json_object *r, char *err,
		 size_t errlen)
{
	struct siplbd *d = arg;
	const char *prefix = req_str(req, "prefix");
	struct sd_ban b;
	int64_t dur = 0;
	time_t now = time(NULL);
	char buf[64];
	int rc;

	if (!prefix) {
		snprintf(err, errlen, "ban needs a prefix");
		return -EINVAL;
	}
	rc = sd_ban_parse(prefix, &b, err, errlen);
	if (rc)
		return rc;
	if (json_object_object_get_ex(req, "duration", NULL) &&
	    (!req_int(req, "duration", &dur) || dur < 0 || dur > 10LL * 365 * 86400)) {
		snprintf(err, errlen, "duration wants 0..%lld seconds", 10LL * 365 * 86400);
		return -EINVAL;
	}
	b.expires = dur ? now + dur : 0;
	rc = sd_ban_add(d, &b, true);
	if (rc) {
		snprintf(err, errlen, "cannot ban %s: %s", prefix, strerror(-rc));
		return rc;
	}
	if (dur)
		log_info("ban of %s for %lld s by siplbctl", sd_ban_str(&b, buf, sizeof(buf)),
			 (long long)dur);
	else
		log_info("ban of %s until unbanned by siplbctl", sd_ban_str(&b, buf, sizeof(buf)));
	ADD(r, "ban", ban_json(&b, now));
	return 0;
}

static int h_unban(void *arg, struct json_object *req, struct json_object *r, char *err,
		   size_t errlen)
{
	struct siplbd *d = arg;
	const char *prefix = req_str(req, "prefix");
	struct sd_ban b;
	char buf[64];
	int rc;

	if (!prefix) {
		snprintf(err, errlen, "unban needs a prefix");
		return -EINVAL;
	}
	rc = sd_ban_parse(prefix, &b, err, errlen);
	if (rc)
		return rc;
	rc = sd_ban_del(d, &b);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "%s is not banned", sd_ban_str(&b, buf, sizeof(buf)));
		return rc;
	}
	log_info("ban of %s lifted by siplbctl", sd_ban_str(&b, buf, sizeof(buf)));
	ADD(r, "prefix", JSTR(buf));
	return 0;
}

static int h_bans(void *arg, struct json_object *req, struct json_object *r, char *err,
		  size_t errlen)
{
	struct siplbd *d = arg;
	struct json_object *a = json_object_new_array();
	time_t now = time(NULL);
	size_t i;

	(void)req;
	(void)err;
	(void)errlen;
	for (i = 0; i < d->n_bans; i++)
		json_object_array_add(a, ban_json(&d->bans[i], now));
	ADD(r, "bans", a);
	ADD(r, "auto_bans", JINT(d->bans_auto));
	ADD(r, "expired", JINT(d->bans_expired));
	ADD(r, "file", d->cfg.bans_file ? JSTR(d->cfg.bans_file) : NULL);
	return 0;
}

struct talker {
	struct src_key k;
	struct offender o;
};

static int by_over(const void *a, const void *b)
{
	const struct talker *x = a, *y = b;

	return x->o.over < y->o.over ? 1 : x->o.over > y->o.over ? -1 : 0;
}

/* offenders {"limit": N}: the sources over budget now, most drops first. */
static int h_offenders(void *arg, struct json_object *req, struct json_object *r, char *err,
		       size_t errlen)
{
	struct siplbd *d = arg;
	struct json_object *a = json_object_new_array();
	size_t cap = 256, n = 0, i;
	struct talker *t = malloc(cap * sizeof(*t));
	struct src_key k, cur;
	bool first = true;
	struct timespec ts;
	int64_t limit = 20;
	__u64 now;

	(void)err;
	(void)errlen;
	if (!t)
		return -ENOMEM;
	req_int(req, "limit", &limit);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	while (!bpf_map_get_next_key(d->maps.offenders, first ? NULL : &cur, &k)) {
		first = false;
		cur = k;
		if (n == cap) {
			struct talker *m = n < 65536 ? realloc(t, 2 * cap * sizeof(*t)) : NULL;

			if (!m)
				break;
			t = m;
			cap *= 2;
		}
		t[n].k = k;
		if (!bpf_map_lookup_elem(d->maps.offenders, &k, &t[n].o))
			n++;
	}
	qsort(t, n, sizeof(*t), by_over);
	for (i = 0; i < n && (int64_t)i < limit; i++) {
		struct json_object *o = json_object_new_object();
		struct sd_ban b = { .family = t[i].k.family };
		char buf[64];

		memcpy(b.addr, t[i].k.addr, sizeof(t[i].k.addr));
		b.plen = b.family == AF_INET ? 32 : 64;
		ADD(o, "source", JSTR(sd_ban_str(&b, buf, sizeof(buf))));
		ADD(o, "vip", JSTR(t[i].k.vip_id < SIPLB_MAX_VIPS ?
				   d->vips[t[i].k.vip_id].name : "?"));
		ADD(o, "over", JINT(t[i].o.over));
		ADD(o, "over_for_s", JINT((t[i].o.last_ns - t[i].o.first_ns) / 1000000000ULL));
		ADD(o, "last_seen_ms_ago",
		    JINT(now > t[i].o.last_ns ? (now - t[i].o.last_ns) / 1000000ULL : 0));
		json_object_array_add(a, o);
	}
	free(t);
	ADD(r, "offenders", a);
	ADD(r, "total", JINT(n));
	return 0;
}

int sd_reload(struct siplbd *d, char *err, size_t errlen)
{
	struct siplb_cfg cfg;
	char summary[512];
	int rc;

	sd_notify(0, "RELOADING=1");
	rc = siplb_config_load(d->cfg_path, &cfg, err, errlen);
	if (!rc) {
		/* TLS files first: a certificate that does not load changes nothing */
		rc = sd_streams_prepare(d, &cfg, summary, sizeof(summary));
		if (!rc)
			rc = sd_apply_config(d, &cfg, summary, sizeof(summary));
		if (!rc && sd_ifaces_sync(d))
			log_warn("reload: not every interface could be attached");
		if (!rc && sd_streams_apply(d))
			log_warn("reload: not every TCP/TLS listener could be opened");
		if (rc)
			snprintf(err, errlen, "%s: %s", d->cfg_path, summary);
		siplb_config_free(&cfg);	/* empty when applied */
	}
	if (rc) {
		d->reload_failures++;
		snprintf(d->last_reload_error, sizeof(d->last_reload_error), "%s", err);
		log_err("reload refused, the running configuration stays: %s", err);
	} else {
		d->reloads++;
		d->last_reload_error[0] = 0;
		snprintf(err, errlen, "%s", summary);
		log_info("configuration reloaded: %s", summary);
	}
	sd_notify(0, "READY=1");
	return rc;
}

static int h_reload(void *arg, struct json_object *req, struct json_object *r, char *err,
		    size_t errlen)
{
	int rc;

	(void)req;
	rc = sd_reload(arg, err, errlen);
	if (!rc)
		ADD(r, "changes", JSTR(err));
	return rc;
}

static int parse_hex(const char *hex, unsigned char *out, size_t max)
{
	size_t n = strlen(hex), i;

	if (n % 2 || n / 2 > max)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (unsigned char)v;
	}
	return (int)(n / 2);
}

/* Where would this datagram go, and why: the XDP program's rule, read-only. */
static int h_explain(void *arg, struct json_object *req, struct json_object *r, char *err,
		     size_t errlen)
{
	struct siplbd *d = arg;
	const char *hex = req_str(req, "payload_hex"), *dst = req_str(req, "dst");
	static unsigned char msg[SIPMSG_MAX];
	struct siplb_cfg_addr da = {};
	struct sipmsg_info info;
	const struct sipmsg_str *key;
	struct affinity aff;
	int64_t dport = 0;
	int n, vip = -1;
	__u32 j, bid = SIPLB_NO_BACKEND;
	__u64 h, akey;
	char buf[320];
	const char *why;

	if (!hex || !dst || !req_int(req, "dport", &dport)) {
		snprintf(err, errlen, "explain needs payload_hex, dst and dport");
		return -EINVAL;
	}
	n = parse_hex(hex, msg, sizeof(msg));
	if (n < 0) {
		snprintf(err, errlen, "payload_hex is not hex of at most %d bytes", SIPMSG_MAX);
		return n;
	}
	if (inet_pton(AF_INET, dst, da.addr) == 1)
		da.family = AF_INET;
	else if (inet_pton(AF_INET6, dst, da.addr) == 1)
		da.family = AF_INET6;
	for (j = 0; j < SIPLB_MAX_VIPS && da.family; j++) {
		struct sd_vip *v = &d->vips[j];

		if (v->used && v->key.family == da.family && ntohs(v->key.port) == dport &&
		    !memcmp(v->key.addr, da.addr, sizeof(da.addr)))
			vip = (int)j;
	}
	ADD(r, "vip", vip >= 0 ? JSTR(d->vips[vip].name) : NULL);
	if (vip < 0) {
		ADD(r, "path", JSTR("pass"));
		ADD(r, "reason", JSTR("not_a_vip"));
		snprintf(buf, sizeof(buf), "%s port %lld is no VIP of this instance: the packet passes untouched",
			 dst, (long long)dport);
		ADD(r, "why", JSTR(buf));
		return 0;
	}
	sipmsg_parse(msg, (size_t)n, &info);
	ADD(r, "path", JSTR(info.path));
	ADD(r, "reason", info.reason ? JSTR(info.reason) : NULL);
	if (strcmp(info.path, "xdp")) {
		snprintf(buf, sizeof(buf), "the XDP program %s it: %s",
			 strcmp(info.path, "drop") ? "passes it to the slow path" : "drops",
			 info.reason ? info.reason : "?");
		ADD(r, "why", JSTR(buf));
		return 0;
	}
	key = &info.call_id;
	ADD(r, "key", JSTR("call-id"));
	if (info.msg.method == SIP_METHOD_REGISTER && d->vips[vip].reg_key == SIPLB_REGKEY_AOR &&
	    info.to_aor.set && info.to_aor.len) {
		key = &info.to_aor;
		json_object_object_del(r, "key");
		ADD(r, "key", JSTR("to-aor"));
	}
	ADD(r, "key_value", json_object_new_string_len(key->p, (int)key->len));
	h = siplb_hash_buf(key->p, (__u32)key->len, &d->cfg.hash_key);
	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)h);
	ADD(r, "hash", JSTR(buf));
	akey = h ^ ((__u64)(__u32)vip * SIPLB_VIP_MIX);
	why = NULL;
	if (!bpf_map_lookup_elem(d->maps.affinity, &akey, &aff) &&
	    aff.backend < SIPLB_MAX_BACKENDS && d->be[aff.backend].used &&
	    d->be[aff.backend].state != SIPLB_BE_DOWN) {
		bid = aff.backend;
		why = d->be[bid].state == SIPLB_BE_DRAINING ?
		      "affinity hit: the dialog stays on its draining backend" :
		      "affinity hit: the dialog is already on this backend";
	} else {
		struct vip_info vi;
		__u32 idx, slot = (__u32)(h % d->cfg.maglev_size), val;

		int g_used = -1;

		if (!lb_vip_get(&d->maps, &d->vips[vip].key, &vi) && vi.up) {
			__u32 live = vi.gen & (SIPLB_MAGLEV_GENS - 1), i, g, now;

			/* the XDP program's rule for in-dialog requests (steer()) */
			now = (__u32)(sd_now_ms() * 1000000ULL >> 30);
			for (i = 1; info.to_tag && info.msg.kind == SIP_KIND_REQUEST &&
				    i < SIPLB_MAGLEV_GENS; i++) {
				g = (live + i) & (SIPLB_MAGLEV_GENS - 1);
				if (vi.gen_until[g] <= now)
					continue;
				idx = siplb_maglev_index((__u32)vip, g, d->cfg.maglev_size, slot);
				if (!bpf_map_lookup_elem(d->maps.maglev, &idx, &val) &&
				    val < SIPLB_MAX_BACKENDS && d->be[val].used &&
				    d->be[val].vip == (__u32)vip &&
				    d->be[val].state != SIPLB_BE_DOWN) {
					bid = val;
					g_used = (int)((live + SIPLB_MAGLEV_GENS - g) %
						       SIPLB_MAGLEV_GENS);
					break;
				}
			}
			idx = siplb_maglev_index((__u32)vip, live, d->cfg.maglev_size, slot);
			if (g_used < 0 && !bpf_map_lookup_elem(d->maps.maglev, &idx, &val))
				bid = val;
		}
		if (g_used > 0)
			snprintf(buf, sizeof(buf),
				 "no affinity entry for this in-dialog request (To tag); Maglev pick, slot %u of %u, of the table %d generation%s before the live one (the oldest in the dialog window whose pick is not down)",
				 slot, d->cfg.maglev_size, g_used, g_used == 1 ? "" : "s");
		else
			snprintf(buf, sizeof(buf), "%s; Maglev pick, slot %u of %u",
				 key == &info.to_aor ?
				 "no affinity entry for this AOR" : "no affinity entry for this dialog",
				 slot, d->cfg.maglev_size);
		why = buf;
		if (bid == SIPLB_NO_BACKEND || bid >= SIPLB_MAX_BACKENDS || !d->be[bid].used) {
			ADD(r, "path", JSTR("drop"));
			json_object_object_del(r, "reason");
			ADD(r, "reason", JSTR("no_backend"));
			ADD(r, "backend", NULL);
			ADD(r, "why", JSTR("no backend of the VIP is up: dropped"));
			return 0;
		}
	}
	{
		struct json_object *b = json_object_new_object();
		struct sd_backend *be = &d->be[bid];
		char a[64];

		ADD(b, "id", JINT(bid));
		ADD(b, "name", JSTR(be->ident));
		ADD(b, "address", JSTR(sd_addr_str(&be->addr, a, sizeof(a))));
		ADD(b, "port", JINT(be->port));
		ADD(b, "state", JSTR(sd_state_name(be->state)));
		ADD(r, "backend", b);
	}
	ADD(r, "why", JSTR(why));
	return 0;
}

static const struct ctl_command commands[] = {
	{ "status", h_status },
	{ "backends", h_backends },
	{ "add", h_add },
	{ "remove", h_remove },
	{ "drain", h_drain },
	{ "undrain", h_undrain },
	{ "weight", h_weight },
	{ "stats", h_stats },
	{ "reload", h_reload },
	{ "explain", h_explain },
	{ "ban", h_ban },
	{ "unban", h_unban },
	{ "bans", h_bans },
	{ "offenders", h_offenders },
};

int sd_control_open(struct siplbd *d, char *err, size_t errlen)
{
	return ctl_server_open(&d->ctl, d->cfg.control, commands,
			       sizeof(commands) / sizeof(commands[0]), d, err, errlen);
}
