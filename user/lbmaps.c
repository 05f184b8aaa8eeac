// SPDX-License-Identifier: GPL-2.0
/* lbmaps.c: writes and reads the balancer's maps for siplbd, siplbctl and the tests. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "lbmaps.h"

const char *const lb_map_names[LB_NMAPS] = {
	"vips", "backends", "maglev", "affinity", "nexthops", "config",
	"drop_stats", "slow_stats", "event_stats", "vip_stats", "backend_stats",
	"vip_policy", "src_buckets", "offenders", "blocklist4", "blocklist6", "aff_budget",
	"vip_scanners", "vip_index",
};

int lb_maps_from_object(struct bpf_object *obj, struct lb_maps *m)
{
	int *fds = (int *)m;
	int i;

	for (i = 0; i < LB_NMAPS; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, lb_map_names[i]);

		if (!map)
			return -ENOENT;
		fds[i] = bpf_map__fd(map);
		if (fds[i] < 0)
			return -ENOENT;
	}
	return 0;
}

static int update(int fd, const void *k, const void *v)
{
	return bpf_map_update_elem(fd, k, v, BPF_ANY) ? -errno : 0;
}

static int lookup(int fd, const void *k, void *v)
{
	return bpf_map_lookup_elem(fd, k, v) ? -errno : 0;
}

/* Does the blocklist of fd hold an entry? (An LPM trie's first key.) */
static bool bans_present(int fd, bool v6)
{
	struct ban_key6 k6;
	struct ban_key4 k4;

	return !bpf_map_get_next_key(fd, NULL, v6 ? (void *)&k6 : (void *)&k4);
}

int lb_config_set(const struct lb_maps *m, const struct siplb_config *cfg)
{
	struct siplb_config c = *cfg;
	__u32 zero = 0;

	/* the flags say what the blocklists hold, whoever writes the rest */
	c.bans4 = bans_present(m->blocklist4, false);
	c.bans6 = bans_present(m->blocklist6, true);
	return update(m->config, &zero, &c);
}

/* Set the config's bans flag of a family to on (one read and one write of the config). */
static int bans_flag(const struct lb_maps *m, bool v6, bool on)
{
	struct siplb_config c;
	__u8 *flag = v6 ? &c.bans6 : &c.bans4;
	__u32 zero = 0;
	int err;

	err = lookup(m->config, &zero, &c);
	if (err || *flag == on)
		return err;
	*flag = on;
	return update(m->config, &zero, &c);
}

int lb_ban_write(const struct lb_maps *m, int family, const void *key, const struct ban *v)
{
	bool v6 = family == AF_INET6;
	int fd = v6 ? m->blocklist6 : m->blocklist4, err;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (v) {
		/* the flag first: XDP looks at the trie only once it is set */
		err = bans_flag(m, v6, true);
		if (err)
			return err;
		err = update(fd, key, v);
	} else {
		err = bpf_map_delete_elem(fd, key) ? -errno : 0;
	}
	/* the last entry gone (or the first one refused): the flag goes */
	if (!bans_present(fd, v6)) {
		int e = bans_flag(m, v6, false);

		err = err ?: e;
	}
	return err;
}

int lb_config_get(const struct lb_maps *m, struct siplb_config *cfg)
{
	__u32 zero = 0;

	return lookup(m->config, &zero, cfg);
}

/*
 * vip_index. XDP reads a slot in place while it is written (an array
 * update is a memcpy), so a write may only change what a mixed read
 * cannot misuse: XDP reads used before the key and takes the slot only
 * when used is 1 and the whole key matches.
 *  - A key enters a free slot in two writes: key and info with used 0
 *    (no reader takes the slot), then used 1 alone.
 *  - A key leaves its slot by one write of used 0 alone: key and info stay
 *    as they were until the slot is filled again.
 *  - The value of a key in place: the key and used stay, the info changes,
 *    and a packet may read a mix of the old and the new info. That is
 *    harmless for the writes siplbd makes: lb_maglev_publish_window().
 */

/* The slot holding k (its content in *cur), or -ENOENT; *free: the first free slot, or -1. */
static int index_find(const struct lb_maps *m, const struct vip_key *k,
		      struct vip_slot *cur, int *free)
{
	__u32 base = siplb_vip_slot(k), i, idx;
	struct vip_slot s;
	int err;

	*free = -1;
	for (i = 0; i < SIPLB_VIP_PROBES; i++) {
		idx = (base + i) & (SIPLB_VIP_INDEX_SLOTS - 1);
		err = lookup(m->vip_index, &idx, &s);
		if (err)
			return err;
		if (s.used && !memcmp(&s.key, k, sizeof(*k))) {
			*cur = s;
			return (int)idx;
		}
		if (!s.used && *free < 0)
			*free = (int)idx;
	}
	return -ENOENT;
}

/* Free slot idx (holding s): used 0 alone. */
static int index_free(const struct lb_maps *m, __u32 idx, struct vip_slot *s)
{
	s->used = 0;
	return update(m->vip_index, &idx, s);
}

/* Place k -> vi in the index. Returns 0, -ENOSPC (no free slot: hash only) or -errno. */
static int index_put(const struct lb_maps *m, const struct vip_key *k,
		     const struct vip_info *vi)
{
	struct vip_slot s;
	int at, free;
	__u32 idx;

	at = index_find(m, k, &s, &free);
	if (at >= 0 && s.info.vip_id == vi->vip_id) {
		/* the same VIP: only its info changes */
		s.info = *vi;
		idx = (__u32)at;
		return update(m->vip_index, &idx, &s);
	}
	if (at >= 0) {
		/* another VIP id takes the key: out, then in as a new one */
		int err = index_free(m, (__u32)at, &s);

		if (err)
			return err;
		free = at;
	} else if (at != -ENOENT) {
		return at;
	}
	if (free < 0)
		return -ENOSPC;
	idx = (__u32)free;
	memset(&s, 0, sizeof(s));
	s.key = *k;
	s.info = *vi;
	if (update(m->vip_index, &idx, &s))
		return -errno;
	s.used = 1;
	return update(m->vip_index, &idx, &s);
}

int lb_vip_set(const struct lb_maps *m, const struct vip_key *k,
	       const struct vip_info *vi)
{
	int err = update(m->vips, k, vi);

	if (err || !k->port)
		return err;
	/* the hash first: a key the index cannot take is still served */
	err = index_put(m, k, vi);
	return err == -ENOSPC ? 0 : err;
}

int lb_vip_del(const struct lb_maps *m, const struct vip_key *k)
{
	struct vip_slot s;
	int at, free;

	/* the index first: a packet that misses it still finds the hash entry */
	at = index_find(m, k, &s, &free);
	if (at >= 0)
		at = index_free(m, (__u32)at, &s);
	if (at < 0 && at != -ENOENT)
		return at;
	return bpf_map_delete_elem(m->vips, k) ? -errno : 0;
}

int lb_vip_index_slot(const struct lb_maps *m, const struct vip_key *k)
{
	struct vip_slot s;
	int free;

	return index_find(m, k, &s, &free);
}

int lb_vip_index_rebuild(const struct lb_maps *m)
{
	struct vip_key k, next, *prev = NULL;
	struct vip_info vi;
	struct vip_slot s;
	int err, missed = 0;
	__u32 idx;

	for (idx = 0; idx < SIPLB_VIP_INDEX_SLOTS; idx++) {
		err = lookup(m->vip_index, &idx, &s);
		if (!err && s.used)
			err = index_free(m, idx, &s);
		if (err)
			return err;
	}
	while (!bpf_map_get_next_key(m->vips, prev, &next)) {
		k = next;
		prev = &k;
		if (!k.port || lookup(m->vips, &k, &vi))
			continue;
		err = index_put(m, &k, &vi);
		if (err == -ENOSPC)
			missed++;
		else if (err)
			return err;
	}
	return missed;
}

int lb_vip_get(const struct lb_maps *m, const struct vip_key *k, struct vip_info *vi)
{
	return lookup(m->vips, k, vi);
}

int lb_backend_set(const struct lb_maps *m, __u32 id, const struct backend *b)
{
	return update(m->backends, &id, b);
}

int lb_nexthop_set(const struct lb_maps *m, __u32 id, const struct nexthop *nh)
{
	return update(m->nexthops, &id, nh);
}

int lb_maglev_publish(const struct lb_maps *m, const struct vip_key *k,
		      const __u32 *table, __u32 size, __u32 up)
{
	return lb_maglev_publish_window(m, k, table, size, up, 0, 0);
}

int lb_maglev_publish_window(const struct lb_maps *m, const struct vip_key *k,
			     const __u32 *table, __u32 size, __u32 up,
			     __u32 now_units, __u32 window_units)
{
	struct vip_info vi;
	__u32 *keys, gen, i, count;
	int err;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	err = lookup(m->vips, k, &vi);
	if (err)
		return err;
	gen = (vi.gen + 1) % SIPLB_MAGLEV_GENS;
	/* The slot to overwrite is the oldest: out of the window first, so no
	 * packet takes a half-written table for an earlier generation. */
	if (vi.gen_until[gen]) {
		vi.gen_until[gen] = 0;
		err = lb_vip_set(m, k, &vi);
		if (err)
			return err;
	}
	keys = malloc(sizeof(*keys) * size);
	if (!keys)
		return -ENOMEM;
	for (i = 0; i < size; i++)
		keys[i] = siplb_maglev_index(vi.vip_id, gen, size, i);
	count = size;
	err = bpf_map_update_batch(m->maglev, keys, table, &count, &opts);
	if (err) {
		/* no batch support (older kernels): one by one */
		for (i = 0, err = 0; i < size && !err; i++)
			err = update(m->maglev, &keys[i], &table[i]);
	}
	free(keys);
	if (err)
		return err;
	/*
	 * The switch. The hash's value is replaced whole, but vip_index's copy
	 * is rewritten in place, and a packet may read any mix of one write's
	 * old and new fields, at different moments too. So the switch is made
	 * of writes that each change only fields whose every mix steers by a
	 * complete table of this VIP (the new one is written by now, the old
	 * one stays intact until SIPLB_MAGLEV_GENS - 1 more publishes, after
	 * its window is closed by the write above). Every state between the
	 * writes is one the steering rules allow, so the hash, replaced whole
	 * at each write, is safe too:
	 */
	/* 1. The replaced generation's window (0: none). XDP reads gen_until
	 *    of the other generations only, so while it is live this is unseen.
	 *    (Together with 3, a packet could read the new gen with the old
	 *    LIVE here and take it in-dialog although no window was asked for.) */
	if (vi.gen_until[vi.gen] == SIPLB_GEN_LIVE) {
		vi.gen_until[vi.gen] = window_units ? now_units + window_units : 0;
		err = lb_vip_set(m, k, &vi);
		if (err)
			return err;
	}
	/* 2. An empty new table: fail closed before the switch, so that no
	 *    packet pairs the new (empty) gen with the old up, which would try
	 *    earlier generations for in-dialog requests. */
	if (!up && vi.up) {
		vi.up = 0;
		err = lb_vip_set(m, k, &vi);
		if (err)
			return err;
	}
	/* 3. gen alone: the old table or the new one, both complete. Not with
	 *    gen_until[gen] = LIVE: a packet reading the old gen with it would
	 *    take the new table as an earlier generation in-dialog. And not with
	 *    up: a first publish (up 0 -> n) read with the old gen would steer
	 *    by a generation never written (zeros: backend 0, another VIP's). */
	vi.gen = gen;
	err = lb_vip_set(m, k, &vi);
	if (err)
		return err;
	/* 4. up, and the LIVE mark (unseen: it is the live generation's) */
	vi.gen_until[gen] = SIPLB_GEN_LIVE;
	vi.up = up;
	return lb_vip_set(m, k, &vi);
}

/* Sum over all CPUs of a per-CPU value made of n __u64 fields, field by field. */
static int percpu_sum(int fd, __u32 idx, __u64 *out, int n)
{
	int cpus = libbpf_num_possible_cpus(), c, f;
	__u64 *v;

	if (cpus <= 0)
		return -EINVAL;
	v = calloc((size_t)cpus * n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &idx, v)) {
		free(v);
		return -errno;
	}
	memset(out, 0, sizeof(*out) * n);
	for (c = 0; c < cpus; c++)
		for (f = 0; f < n; f++)
			out[f] += v[c * n + f];
	free(v);
	return 0;
}

int lb_percpu_sum(int fd, __u32 idx, __u64 *out)
{
	return percpu_sum(fd, idx, out, 1);
}

int lb_traffic_sum(int fd, __u32 idx, struct traffic *out)
{
	__u64 v[2];
	int err = percpu_sum(fd, idx, v, 2);

	if (!err) {
		out->packets = v[0];
		out->bytes = v[1];
	}
	return err;
}
