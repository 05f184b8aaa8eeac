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

/* A copy of the vips (address, port) entries XDP reads without a helper
 * call; a miss falls back to vips. Layout and placement: siplb_maps.h. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SIPLB_VIP_INDEX_SLOTS);
	__type(key, __u32);
	__type(value, struct vip_slot);
} vip_index SEC(".maps");

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

/* DoS absorption ---------------------------------------------------------- */

#ifndef SIPLB_SOURCES_DEFAULT
#define SIPLB_SOURCES_DEFAULT 65536	/* sources with a token bucket (LRU) */
#endif
#ifndef SIPLB_OFFENDERS_MAX
#define SIPLB_OFFENDERS_MAX 16384	/* sources over budget tracked for siplbd */
#endif
#ifndef SIPLB_BANS_MAX
#define SIPLB_BANS_MAX 65536		/* prefixes per blocklist */
#endif

/* VIP id -> rate limits, size limit, flags. All zero: no limits. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SIPLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct vip_policy);
} vip_policy SEC(".maps");

/* VIP id -> scanner signatures (User-Agent substrings). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SIPLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct scanner_sigs);
} vip_scanners SEC(".maps");

/* (source, VIP) -> token buckets. Per CPU: a CPU updates its own copy without
 * atomics, and each CPU grants the whole configured rate (a source's packets
 * stay on one CPU when RSS hashes its address and ports, see operations.md).
 * LRU: a flood of new sources evicts old buckets, which only refills them. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, SIPLB_SOURCES_DEFAULT);
	__type(key, struct src_key);
	__type(value, struct src_bucket);
} src_buckets SEC(".maps");

/* (source, VIP) over budget -> when and how much: read by siplbd for auto-bans and top. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SIPLB_OFFENDERS_MAX);
	__type(key, struct src_key);
	__type(value, struct offender);
} offenders SEC(".maps");

/* Banned IPv4 prefixes -> expiry. Written by siplbd only. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SIPLB_BANS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ban_key4);
	__type(value, struct ban);
} blocklist4 SEC(".maps");

/* Banned IPv6 prefixes -> expiry. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SIPLB_BANS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ban_key6);
	__type(value, struct ban);
} blocklist6 SEC(".maps");

/* This CPU's count of new affinity entries in the current second (aff_new_max). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct aff_budget);
} aff_budget SEC(".maps");

#endif /* SIPLB_LB_MAPS_H */
