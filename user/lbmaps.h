/* lbmaps.h: writing and reading the balancer's maps (layouts in include/siplb_maps.h). */
#ifndef SIPLB_LBMAPS_H
#define SIPLB_LBMAPS_H

#include <stdbool.h>
#include <bpf/libbpf.h>

#include "siplb_maps.h"

/* File descriptors of the balancer's maps, from a loaded object or from pins. */
struct lb_maps {
	int vips;
	int backends;
	int maglev;
	int affinity;
	int nexthops;
	int config;
	int drop_stats;
	int slow_stats;
	int event_stats;
	int vip_stats;
	int backend_stats;
	int vip_policy;
	int src_buckets;
	int offenders;
	int blocklist4;
	int blocklist6;
	int aff_budget;
	int vip_scanners;
	int vip_index;
};

/* Map names, in struct lb_maps order: also the pin names. */
extern const char *const lb_map_names[];
#define LB_NMAPS 19

/* Fill m from a loaded (or opened-with-reused-maps) siplb object. Returns 0 or -ENOENT. */
int lb_maps_from_object(struct bpf_object *obj, struct lb_maps *m);

/* Write the config; its bans4/bans6 flags are set from what the blocklists hold. */
int lb_config_set(const struct lb_maps *m, const struct siplb_config *cfg);
int lb_config_get(const struct lb_maps *m, struct siplb_config *cfg);
/*
 * Every write and delete of a vips entry goes through these two: they keep
 * vip_index (the copy XDP reads first) in step with the hash. lb_vip_set
 * writes the hash, then the index copy of a (address, port) key (port-0
 * entries are in the hash only); a key with no free slot in its probe
 * window stays out of the index and is served by the hash. lb_vip_del
 * removes the index copy, then the hash entry. Both return 0 or -errno
 * (the hash's; -ENOENT: lb_vip_del found no such entry).
 */
int lb_vip_set(const struct lb_maps *m, const struct vip_key *k,
	       const struct vip_info *vi);
int lb_vip_del(const struct lb_maps *m, const struct vip_key *k);
int lb_vip_get(const struct lb_maps *m, const struct vip_key *k, struct vip_info *vi);
/* The vip_index slot holding k, or -ENOENT when k is only in the hash. */
int lb_vip_index_slot(const struct lb_maps *m, const struct vip_key *k);
/*
 * Make vip_index agree with the vips hash: free every slot, then place every
 * (address, port) entry of the hash. For siplbd's start, before its program
 * runs: heals an index left behind by a crash between the two writes, or by
 * a siplbd that did not keep one. Returns how many keys found no slot, or -errno.
 */
int lb_vip_index_rebuild(const struct lb_maps *m);
int lb_backend_set(const struct lb_maps *m, __u32 id, const struct backend *b);
int lb_nexthop_set(const struct lb_maps *m, __u32 id, const struct nexthop *nh);

/*
 * Add or replace (v) or delete (v NULL) the blocklist entry at key: a struct
 * ban_key4 for AF_INET, a struct ban_key6 for AF_INET6. Every blocklist
 * write goes through here: it keeps the config's flag of the family, which
 * XDP reads before the trie, set from before the family's first entry until
 * its last is gone. Returns 0 or -errno.
 */
int lb_ban_write(const struct lb_maps *m, int family, const void *key, const struct ban *v);

/*
 * Publish a new Maglev table for the VIP at k: write it into the generation
 * the packets are not reading, then switch vip_info.gen (and .up). Each
 * packet steers by the old table or the new one, never a mix of the two.
 */
int lb_maglev_publish(const struct lb_maps *m, const struct vip_key *k,
		      const __u32 *table, __u32 size, __u32 up);
/*
 * The same, keeping the generation it replaces for window_units (2^30 ns
 * units of CLOCK_MONOTONIC, from now_units) for in-dialog steering; 0: not
 * kept. lb_maglev_publish keeps none.
 */
int lb_maglev_publish_window(const struct lb_maps *m, const struct vip_key *k,
			     const __u32 *table, __u32 size, __u32 up,
			     __u32 now_units, __u32 window_units);

/* Sum of a per-CPU __u64 counter over all CPUs. */
int lb_percpu_sum(int fd, __u32 idx, __u64 *out);
/* Sum of a per-CPU struct traffic over all CPUs. */
int lb_traffic_sum(int fd, __u32 idx, struct traffic *out);

#endif /* SIPLB_LBMAPS_H */
