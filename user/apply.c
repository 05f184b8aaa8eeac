// SPDX-License-Identifier: GPL-2.0
/* apply.c: siplbd turns its configuration and the operator's changes into map contents. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "daemon.h"
#include "lbclock.h"
#include "log.h"
#include "maglev.h"

/*
 * Ids are what the maps and the affinity entries hold, so they must not
 * change under a running dialog: a VIP keeps its id as long as its address,
 * port and protocol stay; a backend keeps its id as long as its VIP and
 * address stay (the same backend across reloads and restarts). New backends
 * take ids after the last one handed out, so a freed id is not soon given to
 * another backend that stale affinity entries would then reach.
 */

__u64 sd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__u64 sd_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sd_drain_due(struct siplbd *d)
{
	__u64 now = 0;
	__u32 id;

	for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
		struct sd_backend *b = &d->be[id];

		if (!b->used || !b->drain_at_ms)
			continue;
		if (!now)
			now = sd_realtime_ms();
		if (now < b->drain_at_ms)
			continue;
		b->drain_at_ms = 0;
		if (b->drain == b->drain_to)
			continue;
		b->drain = b->drain_to;
		log_info("backend %s %s by siplbctl (scheduled)", b->ident,
			 b->drain ? "draining" : "undrained");
		sd_vip_sync(d, b->vip);
	}
}

const char *sd_addr_str(const struct siplb_cfg_addr *a, char *buf, size_t len)
{
	if (!a->family || !inet_ntop(a->family, a->addr, buf, len))
		snprintf(buf, len, "-");
	return buf;
}

const char *sd_addr_port_str(const struct siplb_cfg_addr *a, __u16 port, char *buf,
			     size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	sd_addr_str(a, ip, sizeof(ip));
	snprintf(buf, len, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
	return buf;
}

void sd_to_sockaddr(const struct siplb_cfg_addr *a, __u16 port,
		    struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr.s_addr = a->addr[0];
		*len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->addr, 16);
		*len = sizeof(*s6);
	}
}

void sd_from_sockaddr(const struct sockaddr_storage *ss, struct siplb_cfg_addr *a,
		      __u16 *port)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		a->family = AF_INET;
		a->addr[0] = s4->sin_addr.s_addr;
		*port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		a->family = AF_INET6;
		memcpy(a->addr, &s6->sin6_addr, 16);
		*port = ntohs(s6->sin6_port);
	}
}

const char *sd_state_name(__u8 state)
{
	switch (state) {
	case SIPLB_BE_UP:
		return "up";
	case SIPLB_BE_DRAINING:
		return "draining";
	default:
		return "down";
	}
}

__u32 sd_backend_id(const struct siplbd *d, const struct sd_backend *b)
{
	return (__u32)(b - d->be);
}

static void vip_key_of(const struct siplb_cfg_vip *v, struct vip_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, v->addr.addr, sizeof(k->addr));
	k->family = v->addr.family;
	k->port = htons(v->port);
	k->proto = IPPROTO_UDP;
}

static bool same_addr(const struct siplb_cfg_addr *a, const struct siplb_cfg_addr *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* Read what a previous siplbd left in pinned maps, so ids and states carry over. */
int sd_adopt_maps(struct siplbd *d)
{
	struct vip_key k, next, *prev = NULL;
	struct vip_info vi;
	struct backend be;
	__u32 id, nv = 0, nb = 0;

	while (!bpf_map_get_next_key(d->maps.vips, prev, &next)) {
		k = next;
		prev = &k;
		if (!k.port || bpf_map_lookup_elem(d->maps.vips, &k, &vi))
			continue;
		if (vi.vip_id >= SIPLB_MAX_VIPS)
			continue;
		d->vips[vi.vip_id].used = true;
		d->vips[vi.vip_id].key = k;
		d->vips[vi.vip_id].mode = vi.mode;
		d->vips[vi.vip_id].reg_key = vi.reg_key;
		d->vips[vi.vip_id].up = vi.up;
		{
			struct siplb_cfg_addr a = { .family = k.family };

			memcpy(a.addr, k.addr, sizeof(a.addr));
			sd_addr_port_str(&a, ntohs(k.port), d->vips[vi.vip_id].name,
					 sizeof(d->vips[vi.vip_id].name));
		}
		nv++;
	}
	for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
		struct sd_backend *b = &d->be[id];

		if (bpf_map_lookup_elem(d->maps.backends, &id, &be) || !be.family)
			continue;
		memset(b, 0, sizeof(*b));
		b->used = true;
		b->adopted = true;
		b->vip = be.vip_id;
		b->addr.family = be.family;
		memcpy(b->addr.addr, be.addr, sizeof(be.addr));
		b->weight = be.weight;
		b->state = be.state;
		bpf_map_lookup_elem(d->maps.nexthops, &id, &b->nh);
		b->nh_ok = b->nh.ifindex != 0;
		d->next_be = id + 1;
		nb++;
	}
	if (nv || nb)
		log_info("found %u VIPs and %u backends in the pinned maps: ids and states carry over",
			 nv, nb);
	return 0;
}

static void backend_ident(struct sd_backend *b)
{
	if (b->name[0])
		snprintf(b->ident, sizeof(b->ident), "%s", b->name);
	else
		sd_addr_port_str(&b->addr, b->port, b->ident, sizeof(b->ident));
}

/* The next free backend id, searching from next_be. */
static int alloc_backend(struct siplbd *d, const bool *taken)
{
	__u32 i, id;

	for (i = 0; i < SIPLB_MAX_BACKENDS; i++) {
		id = (d->next_be + i) % SIPLB_MAX_BACKENDS;
		if (!d->be[id].used && !(taken && taken[id])) {
			d->next_be = id + 1;
			return (int)id;
		}
	}
	return -ENOSPC;
}

/* FNV-1a over the table: a fingerprint operators compare between instances. */
static __u64 table_fingerprint(const __u32 *t, __u32 size, __u32 up)
{
	const unsigned char *p = (const unsigned char *)t;
	__u64 h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < (size_t)size * sizeof(*t); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return (h ^ up) * 0x100000001b3ULL;
}

static int write_backend(struct siplbd *d, struct sd_backend *b, __u8 state)
{
	struct backend v = {
		.family = b->addr.family,
		.state = state,
		.weight = b->weight,
		.vip_id = b->vip,
	};
	int err;

	memcpy(v.addr, b->addr.addr, sizeof(v.addr));
	err = lb_backend_set(&d->maps, sd_backend_id(d, b), &v);
	if (err)
		log_err("cannot write backend %s: %s", b->ident, strerror(-err));
	else
		b->state = state;
	return err;
}

/*
 * Bring the maps in line with the VIP's backends: states, then the Maglev
 * table. Order matters to the packets in flight: a backend coming up is
 * marked up before a table names it; one going down leaves the table first,
 * so a Maglev pick never lands on a backend marked down.
 */
int sd_vip_sync(struct siplbd *d, __u32 vip)
{
	struct sd_vip *v = &d->vips[vip];
	struct maglev_backend *mb;
	__u8 *want;
	__u32 *table, size = d->cfg.maglev_size, n = 0, id;
	bool any_up = false, open;
	__u64 fp;
	int err = 0;

	mb = calloc(SIPLB_MAX_BACKENDS, sizeof(*mb));
	want = calloc(SIPLB_MAX_BACKENDS, 1);
	table = malloc(sizeof(*table) * size);
	if (!mb || !want || !table) {
		err = -ENOMEM;
		goto out;
	}
	for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
		struct sd_backend *b = &d->be[id];

		if (b->used && b->vip == vip && b->hc.state == SIPLB_BE_UP && !b->drain &&
		    b->weight)
			any_up = true;
	}
	/* All down and fail-open: every configured backend takes traffic anyway. */
	open = !any_up && d->cfg.all_down == SIPLB_ALL_DOWN_OPEN;
	for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
		struct sd_backend *b = &d->be[id];

		if (!b->used || b->vip != vip)
			continue;
		if (b->hc.state == SIPLB_BE_UP)
			want[id] = b->drain ? SIPLB_BE_DRAINING : SIPLB_BE_UP;
		else
			want[id] = open && !b->drain ? SIPLB_BE_UP : SIPLB_BE_DOWN;
		if (want[id] == SIPLB_BE_UP && b->weight) {
			mb[n].id = id;
			mb[n].weight = b->weight;
			mb[n].name = b->ident;
			mb[n].name_len = strlen(b->ident);
			n++;
		}
		if (want[id] != SIPLB_BE_DOWN && write_backend(d, b, want[id]))
			err = -EIO;
	}
	if (n) {
		err = maglev_build(mb, n, table, size, &d->cfg.hash_key);
		if (err) {
			log_err("VIP %s: cannot build its Maglev table: %s", v->name, strerror(-err));
			goto out;
		}
	} else {
		for (id = 0; id < size; id++)
			table[id] = SIPLB_NO_BACKEND;
	}
	fp = table_fingerprint(table, size, n);
	if (fp != v->fingerprint || v->up != n) {
		err = lb_maglev_publish_window(&d->maps, &v->key, table, size, n,
					       (__u32)(sd_now_ms() * 1000000ULL >> 30),
					       sd_window_units(d->cfg.dialog_window));
		if (err) {
			log_err("VIP %s: cannot publish its Maglev table: %s", v->name,
				strerror(-err));
			goto out;
		}
		v->fingerprint = fp;
		v->rebuilds++;
		d->maglev_rebuilds++;
		log_info("VIP %s: Maglev table published, %u backend%s in it (fingerprint %016llx)",
			 v->name, n, n == 1 ? "" : "s", (unsigned long long)fp);
	}
	if (!n)
		log_err("VIP %s: NO BACKEND IS UP: its traffic is %s", v->name,
			d->cfg.all_down == SIPLB_ALL_DOWN_OPEN ?
			"dropped (no backend configured)" : "dropped (all_down: closed)");
	else if (open)
		log_err("VIP %s: NO BACKEND IS HEALTHY: failing open over all %u configured backends",
			v->name, n);
	v->up = n;
	for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
		struct sd_backend *b = &d->be[id];

		if (b->used && b->vip == vip && want[id] == SIPLB_BE_DOWN &&
		    write_backend(d, b, SIPLB_BE_DOWN))
			err = -EIO;
	}
out:
	free(mb);
	free(want);
	free(table);
	return err;
}

/* Free a backend's id: the maps forget it (callers republish its VIP's table first). */
static void backend_clear(struct siplbd *d, struct sd_backend *b)
{
	struct backend zero = {};
	struct nexthop nz = {};
	__u32 id = sd_backend_id(d, b);

	lb_backend_set(&d->maps, id, &zero);
	lb_nexthop_set(&d->maps, id, &nz);
	memset(b, 0, sizeof(*b));
}

static void vip_write_info(struct siplbd *d, __u32 id, bool fresh)
{
	struct sd_vip *v = &d->vips[id];
	struct vip_info vi = {}, cur;
	struct vip_key k0 = v->key;
	int err;

	if (!fresh && !lb_vip_get(&d->maps, &v->key, &cur))
		vi = cur;	/* keep the live generation and count */
	else
		vi.gen = SIPLB_MAGLEV_GENS - 1;	/* the first publish flips to 0 */
	vi.vip_id = id;
	vi.flags = 0;
	vi.mode = v->mode;
	vi.reg_key = v->reg_key;
	if (fresh)
		vi.up = 0;
	err = lb_vip_set(&d->maps, &v->key, &vi);
	if (err)
		log_err("VIP %s: cannot write its vips entry: %s", v->name, strerror(-err));
	else if (lb_vip_index_slot(&d->maps, &v->key) < 0)
		log_warn("VIP %s: no free slot in vip_index: its packets take the "
			 "slower hash lookup", v->name);
	/* The address-only entry: fragments and TCP to the VIP go to the slow path. */
	k0.port = 0;
	vi.flags = SIPLB_VIP_F_ADDR_ONLY;
	lb_vip_set(&d->maps, &k0, &vi);
}

static void vip_delete(struct siplbd *d, __u32 id)
{
	struct sd_vip *v = &d->vips[id];
	struct vip_key k0 = v->key;
	__u32 j;
	bool shared = false;

	lb_vip_del(&d->maps, &v->key);
	/* The address-only entry stays while another VIP uses the address. */
	for (j = 0; j < SIPLB_MAX_VIPS; j++)
		if (j != id && d->vips[j].used && d->vips[j].key.family == v->key.family &&
		    !memcmp(d->vips[j].key.addr, v->key.addr, sizeof(v->key.addr)))
			shared = true;
	k0.port = 0;
	if (!shared)
		lb_vip_del(&d->maps, &k0);
	if (v->announced && !shared)
		sd_announce_route(d, &v->key, false, "VIP removed");
	memset(v, 0, sizeof(*v));
	sd_vip_policy_write(d, id, NULL);
}

/* Seconds to 2^30 ns units, rounded up so nothing expires early. */
__u32 sd_window_units(__u32 seconds)
{
	return (__u32)(((__u64)seconds * 1000000000ULL + (1ULL << 30) - 1) >> 30);
}

static void write_config_map(struct siplbd *d, const struct siplb_cfg *cfg)
{
	struct siplb_config c = {
		.hash_k0 = cfg->hash_key.k0,
		.hash_k1 = cfg->hash_key.k1,
		.src4 = cfg->src4.addr[0],
		.mtu = cfg->mtu,
		/* seconds to 2^30 ns units, rounded up so an entry never expires early */
		.idle_units = sd_window_units(cfg->aff_idle),
		.maglev_size = cfg->maglev_size,
		.aff_new_max = cfg->aff_new_max,
		.clock_off_ns = d->clock_off_ns,
	};

	memcpy(c.src6, cfg->src6.addr, sizeof(c.src6));
	/* bans4/bans6: lb_config_set() sets them from the blocklists */
	if (lb_config_set(&d->maps, &c))
		log_err("cannot write the config map: %s", strerror(errno));
}

int sd_clock_sync(struct siplbd *d)
{
	__s64 off;
	int err;

	d->clock_sync_ms = sd_now_ms();
	err = lb_clock_offset(&off);
	if (err)
		return err;
	if (off == d->clock_off_ns)
		return 0;
	log_dbg("XDP clock: jiffies + %lld ns (moved by %lld ns)", (long long)off,
		(long long)(off - d->clock_off_ns));
	d->clock_off_ns = off;
	if (d->cfg.instance)	/* else the first sd_apply_config() writes it */
		write_config_map(d, &d->cfg);
	return 0;
}

/*
 * Make cfg the running configuration. Everything that can fail is checked
 * before the first map write, so a refused configuration changes nothing.
 * On success cfg is moved into d->cfg (and the old one freed).
 */
int sd_apply_config(struct siplbd *d, struct siplb_cfg *cfg, char *summary, size_t len)
{
	int vip_id[SIPLB_MAX_VIPS], *be_id = NULL, err = 0;
	bool vip_taken[SIPLB_MAX_VIPS] = {}, *be_taken = NULL, vip_fresh[SIPLB_MAX_VIPS] = {};
	bool *to_clear = NULL;
	bool vip_dirty[SIPLB_MAX_VIPS] = {};
	size_t i, j, nb = 0, k;
	unsigned int added = 0, removed = 0, changed = 0, vadded = 0, vremoved = 0;
	bool first = !d->cfg.instance;
	__u32 id;

	if (cfg->n_vips > d->vip_slots) {
		snprintf(summary, len, "%zu VIPs do not fit the %u VIP slots of the running maglev map: restart siplbd",
			 cfg->n_vips, d->vip_slots);
		return -ENOSPC;
	}
	if (!first && cfg->maglev_size != d->cfg.maglev_size) {
		snprintf(summary, len, "maglev_size changed from %u to %u: that needs a restart",
			 d->cfg.maglev_size, cfg->maglev_size);
		return -EINVAL;
	}
	if (!first && strcmp(cfg->instance, d->cfg.instance)) {
		snprintf(summary, len, "instance changed from '%s' to '%s': that needs a restart",
			 d->cfg.instance, cfg->instance);
		return -EINVAL;
	}
	for (i = 0; i < cfg->n_vips; i++)
		nb += cfg->vips[i].n_backends;
	be_id = calloc(nb ? nb : 1, sizeof(*be_id));
	be_taken = calloc(SIPLB_MAX_BACKENDS, sizeof(*be_taken));
	to_clear = calloc(SIPLB_MAX_BACKENDS, sizeof(*to_clear));
	if (!be_id || !be_taken || !to_clear) {
		err = -ENOMEM;
		goto out;
	}

	/* 1. Match VIPs by key; new ones take free ids. */
	for (i = 0; i < cfg->n_vips; i++) {
		struct vip_key key;

		vip_key_of(&cfg->vips[i], &key);
		vip_id[i] = -1;
		for (j = 0; j < SIPLB_MAX_VIPS; j++)
			if (d->vips[j].used && !memcmp(&d->vips[j].key, &key, sizeof(key))) {
				vip_id[i] = (int)j;
				vip_taken[j] = true;
			}
	}
	for (i = 0; i < cfg->n_vips; i++) {
		if (vip_id[i] >= 0)
			continue;
		for (j = 0; j < d->vip_slots; j++)
			if (!d->vips[j].used && !vip_taken[j])
				break;
		if (j == d->vip_slots) {
			snprintf(summary, len, "no free VIP slot for vips[%zu]", i);
			err = -ENOSPC;
			goto out;
		}
		vip_id[i] = (int)j;
		vip_taken[j] = true;
		vip_fresh[j] = true;
	}

	/* 2. Match backends by VIP and address; new ones take free ids. */
	for (i = 0, k = 0; i < cfg->n_vips; i++)
		for (j = 0; j < cfg->vips[i].n_backends; j++, k++) {
			const struct siplb_cfg_backend *cb = &cfg->vips[i].backends[j];

			be_id[k] = -1;
			for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
				struct sd_backend *b = &d->be[id];

				if (b->used && !be_taken[id] && b->vip == (__u32)vip_id[i] &&
				    !vip_fresh[vip_id[i]] && same_addr(&b->addr, &cb->addr)) {
					be_id[k] = (int)id;
					be_taken[id] = true;
					break;
				}
			}
		}
	{
		__u32 saved = d->next_be;

		for (k = 0; k < nb; k++) {
			if (be_id[k] >= 0)
				continue;
			be_id[k] = alloc_backend(d, be_taken);
			if (be_id[k] < 0) {
				d->next_be = saved;
				snprintf(summary, len, "more than %u backends", SIPLB_MAX_BACKENDS);
				err = -ENOSPC;
				goto out;
			}
			be_taken[be_id[k]] = true;
		}
	}

	/* Nothing can fail from here on: commit. */
	write_config_map(d, cfg);

	/* 3. Backends that are not in the new file: out of their VIP (cleared after the tables). */
	for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
		struct sd_backend *b = &d->be[id];

		if (b->used && !be_taken[id]) {
			if (b->adopted)
				log_warn("backend %s (id %u, VIP id %u) left in the pinned maps is not in the file (added by siplbctl?): removed, its dialogs move",
					 b->ident[0] ? b->ident : "?", id, b->vip);
			else
				log_info("backend %s (id %u) removed", b->ident[0] ? b->ident : "?", id);
			b->used = false;
			if (b->vip < SIPLB_MAX_VIPS)
				vip_dirty[b->vip] = true;
			removed++;
			to_clear[id] = true;
		}
	}

	/* 4. VIPs: new, changed, gone. */
	for (j = 0; j < SIPLB_MAX_VIPS; j++)
		if (d->vips[j].used && !vip_taken[j]) {
			log_info("VIP %s removed", d->vips[j].name);
			vip_delete(d, (__u32)j);
			vremoved++;
		}
	for (i = 0; i < cfg->n_vips; i++) {
		const struct siplb_cfg_vip *cv = &cfg->vips[i];
		struct sd_vip *v = &d->vips[vip_id[i]];
		bool fresh = vip_fresh[vip_id[i]];

		if (fresh || !v->used)
			memset(v, 0, sizeof(*v));
		v->used = true;
		vip_key_of(cv, &v->key);
		v->transports = cv->transports;
		v->mode = cv->mode;
		v->reg_key = cv->reg_key;
		v->line = cv->line;
		if (cv->name)
			snprintf(v->name, sizeof(v->name), "%s", cv->name);
		else
			sd_addr_port_str(&cv->addr, cv->port, v->name, sizeof(v->name));
		vip_write_info(d, (__u32)vip_id[i], fresh);
		sd_vip_policy_write(d, (__u32)vip_id[i], cv);
		if (fresh) {
			log_info("VIP %s added (id %d)", v->name, vip_id[i]);
			vadded++;
		}
		vip_dirty[vip_id[i]] = true;
	}

	/* 5. Backends: new ones start UP (or as a previous siplbd left them). */
	for (i = 0, k = 0; i < cfg->n_vips; i++)
		for (j = 0; j < cfg->vips[i].n_backends; j++, k++) {
			const struct siplb_cfg_backend *cb = &cfg->vips[i].backends[j];
			struct sd_backend *b = &d->be[be_id[k]];
			bool fresh = !b->used;
			bool was_adopted = b->used && b->adopted;

			if (fresh) {
				memset(b, 0, sizeof(*b));
				health_init(&b->hc, (__u32)be_id[k], SIPLB_BE_UP);
				added++;
			} else if (was_adopted) {
				/* left by a previous siplbd: a down backend stays down until it rises */
				health_init(&b->hc, (__u32)be_id[k],
					    b->state == SIPLB_BE_DOWN ? SIPLB_BE_DOWN : SIPLB_BE_UP);
			} else if (b->weight != cb->weight || b->port != cb->port ||
				   b->drain != (cb->state == SIPLB_BE_DRAINING)) {
				changed++;
			}
			b->used = true;
			b->adopted = false;
			b->runtime = false;
			b->vip = (__u32)vip_id[i];
			b->addr = cb->addr;
			b->port = cb->port;
			b->weight = cb->weight;
			/* a drain set by siplbctl before a restart stays (the map remembers it) */
			b->drain = cb->state == SIPLB_BE_DRAINING ||
				   (was_adopted && b->state == SIPLB_BE_DRAINING);
			snprintf(b->name, sizeof(b->name), "%s", cb->name ? cb->name : "");
			backend_ident(b);
			if (was_adopted && b->drain && cb->state != SIPLB_BE_DRAINING)
				log_info("backend %s (id %d) stays draining as the previous siplbd left it",
					 b->ident, be_id[k]);
			if (fresh)
				log_info("backend %s (id %d) added to VIP %s", b->ident, be_id[k],
					 d->vips[b->vip].name);
			sd_health_prepare(d, b);
			sd_nexthop_refresh(d, b);
		}

	/* 6. Tables, then forget removed backends. */
	if (d->cfg.instance && d->cfg.instance != cfg->instance)
		siplb_config_free(&d->cfg);
	d->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	log_max_level = d->cfg.log_level;
	for (j = 0; j < SIPLB_MAX_VIPS; j++)
		if (vip_dirty[j] && d->vips[j].used)
			sd_vip_sync(d, (__u32)j);
	for (id = 0; id < SIPLB_MAX_BACKENDS; id++)
		if (to_clear[id] && !d->be[id].used)
			backend_clear(d, &d->be[id]);
	snprintf(summary, len,
		 "%zu VIPs (%u added, %u removed), %zu backends (%u added, %u removed, %u changed)",
		 d->cfg.n_vips, vadded, vremoved, nb, added, removed, changed);
out:
	free(be_id);
	free(be_taken);
	free(to_clear);
	return err;
}

/* A VIP by name, "addr:port" or id; -1 when none. */
int sd_vip_find(struct siplbd *d, const char *what)
{
	char buf[SD_NAME_MAX];
	__u32 j;

	for (j = 0; j < SIPLB_MAX_VIPS; j++) {
		struct sd_vip *v = &d->vips[j];
		struct siplb_cfg_addr a = { .family = v->key.family };

		if (!v->used)
			continue;
		memcpy(a.addr, v->key.addr, sizeof(a.addr));
		if (!strcmp(v->name, what) ||
		    !strcmp(sd_addr_port_str(&a, ntohs(v->key.port), buf, sizeof(buf)), what) ||
		    !strcmp(sd_addr_str(&a, buf, sizeof(buf)), what))
			return (int)j;
		snprintf(buf, sizeof(buf), "%u", j);
		if (!strcmp(buf, what))
			return (int)j;
	}
	return -1;
}

/* A backend by name, id, "addr:port" or address (which must then be unique). */
struct sd_backend *sd_backend_find(struct siplbd *d, const char *what, char *err,
				   size_t errlen)
{
	struct sd_backend *found = NULL;
	char buf[SD_NAME_MAX];
	unsigned int n = 0;
	__u32 id;

	for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
		struct sd_backend *b = &d->be[id];

		if (!b->used)
			continue;
		snprintf(buf, sizeof(buf), "%u", id);
		if (!strcmp(b->name, what) || !strcmp(b->ident, what) || !strcmp(buf, what))
			return b;
		if (!strcmp(sd_addr_str(&b->addr, buf, sizeof(buf)), what) ||
		    !strcmp(sd_addr_port_str(&b->addr, b->port, buf, sizeof(buf)), what)) {
			found = b;
			n++;
		}
	}
	if (n == 1)
		return found;
	snprintf(err, errlen, n ? "'%s' names %u backends (of different VIPs): use a name or an id"
				: "no backend '%s' (give a name, an id, an address or address:port)",
		 what, n);
	return NULL;
}

int sd_backend_add(struct siplbd *d, __u32 vip, const struct siplb_cfg_addr *addr,
		   __u16 port, __u16 weight, const char *name, char *err, size_t errlen)
{
	struct sd_backend *b;
	__u32 id;
	int nid;

	if (vip >= SIPLB_MAX_VIPS || !d->vips[vip].used) {
		snprintf(err, errlen, "no such VIP");
		return -ENOENT;
	}
	if (addr->family != d->vips[vip].key.family) {
		snprintf(err, errlen, "the backend's address family is not the VIP's");
		return -EINVAL;
	}
	for (id = 0; id < SIPLB_MAX_BACKENDS; id++) {
		b = &d->be[id];
		if (b->used && b->vip == vip && same_addr(&b->addr, addr)) {
			snprintf(err, errlen, "VIP %s already has this backend (id %u)",
				 d->vips[vip].name, id);
			return -EEXIST;
		}
		if (b->used && name && *name && !strcmp(b->name, name)) {
			snprintf(err, errlen, "the name '%s' is taken by backend %u", name, id);
			return -EEXIST;
		}
	}
	nid = alloc_backend(d, NULL);
	if (nid < 0) {
		snprintf(err, errlen, "no free backend id (%u in use)", SIPLB_MAX_BACKENDS);
		return nid;
	}
	b = &d->be[nid];
	memset(b, 0, sizeof(*b));
	b->used = true;
	b->runtime = true;
	b->vip = vip;
	b->addr = *addr;
	b->port = port;
	b->weight = weight;
	snprintf(b->name, sizeof(b->name), "%s", name ? name : "");
	backend_ident(b);
	health_init(&b->hc, (__u32)nid, SIPLB_BE_UP);
	sd_health_prepare(d, b);
	sd_nexthop_refresh(d, b);
	log_info("backend %s (id %d) added to VIP %s by siplbctl", b->ident, nid,
		 d->vips[vip].name);
	sd_vip_sync(d, vip);
	return nid;
}

void sd_backend_remove(struct siplbd *d, struct sd_backend *b)
{
	__u32 vip = b->vip;

	log_info("backend %s (id %u) removed by siplbctl", b->ident, sd_backend_id(d, b));
	b->used = false;
	sd_vip_sync(d, vip);
	backend_clear(d, b);
}
