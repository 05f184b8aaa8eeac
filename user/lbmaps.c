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
	"vip_scanners",
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

int lb_vip_set(const struct lb_maps *m, const struct vip_key *k,
	       const struct vip_info *vi)
{
	return update(m->vips, k, vi);
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
		err = update(m->vips, k, &vi);
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
	/* the switch: one update of the VIP's value; the generation it
	 * replaces steers in-dialog messages until the window has passed */
	if (vi.gen_until[vi.gen] == SIPLB_GEN_LIVE)
		vi.gen_until[vi.gen] = window_units ? now_units + window_units : 0;
	vi.gen_until[gen] = SIPLB_GEN_LIVE;
	vi.gen = gen;
	vi.up = up;
	return update(m->vips, k, &vi);
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
