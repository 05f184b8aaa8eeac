/* lb_maps.h: the balancer's maps; their keys and values are laid out in include/siplb_maps.h. */
#ifndef SIPLB_LB_MAPS_H
#define SIPLB_LB_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "siplb_maps.h"

/* Where VIPs listen -> VIP id, mode, live table generation. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SIPLB_MAX_VIPS * 4);
	__type(key, struct vip_key);
	__type(value, struct vip_info);
} vips SEC(".maps");

/* Backend id -> address and state. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SIPLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

/* Flat Maglev tables: siplb_maglev_index(vip, gen, size, slot) -> backend id.
 * Sized for 4 VIPs here; siplbd sizes it for its config before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4 * SIPLB_MAGLEV_GENS * SIPLB_MAGLEV_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} maglev SEC(".maps");

/* Dialog affinity: keyed hash of the steering key ^ VIP mix -> backend.
 * One LRU shared by all CPUs: the two legs of a dialog arrive from different
 * sources, so on different CPUs, and must find the same entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SIPLB_AFFINITY_DEFAULT);
	__type(key, __u64);
	__type(value, struct affinity);
} affinity SEC(".maps");

/* Backend id -> next-hop MACs and egress interface (from netlink). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SIPLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct nexthop);
} nexthops SEC(".maps");

/* Instance settings: hash key, outer source addresses, MTU, Maglev size. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct siplb_config);
} config SEC(".maps");

/* Counters, kept per CPU: no atomics on the hot path. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SIPLB_DROP__MAX);
	__type(key, __u32);
	__type(value, __u64);
} drop_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SIPLB_SLOW__MAX);
	__type(key, __u32);
	__type(value, __u64);
} slow_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SIPLB_EV__MAX);
	__type(key, __u32);
	__type(value, __u64);
} event_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SIPLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct traffic);
} vip_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SIPLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct traffic);
} backend_stats SEC(".maps");

#endif /* SIPLB_LB_MAPS_H */
