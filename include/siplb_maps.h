/* siplb_maps.h: every map's key and value, shared by the XDP program and siplbd. */
#ifndef SIPLB_MAPS_H
#define SIPLB_MAPS_H

#include "siplb_types.h"
#include "siplb_reasons.h"

/* Map sizes; siplbd may shrink or grow the sized-by-config ones before load. */
#ifndef SIPLB_MAX_VIPS
#define SIPLB_MAX_VIPS 64	/* VIP ids 0..63; also (vip, port) entries in vips */
#endif
#ifndef SIPLB_MAX_BACKENDS
#define SIPLB_MAX_BACKENDS 4096	/* backend ids 0..4095, shared by all VIPs */
#endif
#define SIPLB_MAGLEV_SIZE 65537	/* default Maglev table size (prime) */
/* Table generations per VIP, a ring: the live one, the one being built, and
 * earlier ones kept for the dialog window (in-dialog steering). Power of 2. */
#define SIPLB_MAGLEV_GENS 8
#define SIPLB_AFFINITY_DEFAULT (1u << 20) /* dialogs in the affinity map by default */

/* A backend id that names no backend: an empty Maglev slot. */
#define SIPLB_NO_BACKEND 0xffffffffu

/* Key of the vips map: where a VIP listens. Addresses in network byte order. */
struct vip_key {
	__be32 addr[4];		/* IPv4 in addr[0], the rest zero; or IPv6 */
	__be16 port;		/* UDP port; 0 = the address-only entry (fragments) */
	__u8 proto;		/* IPPROTO_UDP */
	__u8 family;		/* AF_INET or AF_INET6 */
};
SIPLB_STATIC_ASSERT(sizeof(struct vip_key) == 20, "vip_key layout");

enum siplb_fwd_mode {
	SIPLB_FWD_IPIP = 0,	/* IPv4-in-IPv4 / IPv6-in-IPv6 to the backend (DSR) */
	SIPLB_FWD_L2 = 1,	/* destination MAC rewrite on the same segment (DSR) */
};

enum siplb_reg_key {
	SIPLB_REGKEY_CALLID = 0, /* REGISTER steered by Call-ID like everything else */
	SIPLB_REGKEY_AOR = 1,	/* REGISTER steered by the To AOR (registrar clusters) */
};

#define SIPLB_VIP_F_ADDR_ONLY 0x1 /* the port-0 entry: matches fragments to the address */

/* Value of the vips map. Replaced whole by siplbd, so a reader sees one version. */
struct vip_info {
	__u32 vip_id;		/* index of per-VIP tables and counters */
	__u32 flags;		/* SIPLB_VIP_F_* */
	__u8 mode;		/* enum siplb_fwd_mode */
	__u8 reg_key;		/* enum siplb_reg_key */
	__u8 gen;		/* live Maglev generation, 0..SIPLB_MAGLEV_GENS-1 */
	__u8 pad;
	__u32 up;		/* backends in the live table; 0 = none: fail closed */
	/* Until when generation g may steer in-dialog messages that no affinity
	 * entry places: 2^30 ns units (~1.07 s) of CLOCK_MONOTONIC; 0 = empty or
	 * out of the window; SIPLB_GEN_LIVE for the live one. */
	__u32 gen_until[SIPLB_MAGLEV_GENS];
};
SIPLB_STATIC_ASSERT(sizeof(struct vip_info) == 16 + 4 * SIPLB_MAGLEV_GENS, "vip_info layout");

/* gen_until of the live generation: never out of the window. */
#define SIPLB_GEN_LIVE 0xffffffffu

enum siplb_backend_state {
	SIPLB_BE_DOWN = 0,	/* health check failed: never chosen, affinity moves off it */
	SIPLB_BE_UP = 1,
	SIPLB_BE_DRAINING = 2,	/* not in the Maglev table; its dialogs stay */
};

/* Value of the backends array map, indexed by backend id. */
struct backend {
	__be32 addr[4];		/* IPv4 in addr[0], or IPv6; network order */
	__u8 family;		/* AF_INET or AF_INET6; 0 = unused slot */
	__u8 state;		/* enum siplb_backend_state */
	__u16 weight;		/* relative Maglev weight */
	__u32 vip_id;		/* the VIP this backend serves */
};
SIPLB_STATIC_ASSERT(sizeof(struct backend) == 24, "backend layout");

/*
 * Affinity map (LRU hash): key is the keyed 64-bit hash of the steering key
 * (Call-ID, or To AOR for REGISTER) mixed with the VIP id; value below. The
 * whole entry is 16 bytes of key and value: see docs/architecture.md for the
 * kernel's per-element overhead.
 */
struct affinity {
	__u32 backend;		/* backend id */
	__u32 seen;		/* last packet, in 2^30 ns units (~1.07 s) of CLOCK_MONOTONIC */
};
SIPLB_STATIC_ASSERT(sizeof(struct affinity) == 8, "affinity layout");

/* Mixes the VIP id into the affinity key: one Call-ID on two VIPs, two dialogs. */
#define SIPLB_VIP_MIX 0x9e3779b97f4a7c15ULL

/* Value of the nexthop array map, indexed by backend id: filled from netlink. */
struct nexthop {
	__u8 dmac[6];		/* MAC of the backend, or of the gateway towards it */
	__u8 smac[6];		/* MAC of the interface the frame leaves by */
	__u32 ifindex;		/* that interface; XDP_TX when it is the ingress one */
};
SIPLB_STATIC_ASSERT(sizeof(struct nexthop) == 16, "nexthop layout");

/* Value of the one-element config array map: set by siplbd, read per packet. */
struct siplb_config {
	__u64 hash_k0;		/* SipHash key, first 8 bytes little-endian */
	__u64 hash_k1;		/* SipHash key, last 8 bytes */
	__be32 src4;		/* outer IPv4 source of encapsulated packets */
	__u32 mtu;		/* largest IP packet the link takes (bytes) */
	__be32 src6[4];		/* outer IPv6 source */
	__u32 idle_units;	/* affinity entry idle timeout, 2^30 ns units; 0 = never */
	__u32 maglev_size;	/* slots per Maglev table (prime), the same for every VIP */
};
SIPLB_STATIC_ASSERT(sizeof(struct siplb_config) == 48, "config layout");

/* Per-VIP and per-backend traffic, per CPU (no atomics on the hot path). */
struct traffic {
	__u64 packets;
	__u64 bytes;		/* IP bytes as received, before encapsulation */
};

/* What happened to packets for a VIP, besides drops and slow-path reasons. */
enum siplb_event {
	SIPLB_EV_FORWARDED = 0,	/* sent to a backend */
	SIPLB_EV_AFFINITY_HIT,	/* backend taken from the affinity map */
	SIPLB_EV_MAGLEV_PICK,	/* backend taken from the Maglev table */
	SIPLB_EV_REPICK_DOWN,	/* affinity pointed at a down backend: moved */
	SIPLB_EV_KEEP_DRAINING,	/* affinity kept on a draining backend */
	SIPLB_EV_AFFINITY_NEW,	/* affinity entry created */
	SIPLB_EV_IDLE_EXPIRED,	/* affinity entry older than the idle timeout */
	SIPLB_EV_KEY_AOR,	/* REGISTER steered by the To AOR */
	SIPLB_EV_IN_DIALOG_GEN,	/* in-dialog request without affinity: steered by an earlier generation */
	SIPLB_EV__MAX,
};

#ifndef __bpf__
static const char *const siplb_event_names[SIPLB_EV__MAX] = {
	[SIPLB_EV_FORWARDED] = "forwarded",
	[SIPLB_EV_AFFINITY_HIT] = "affinity_hit",
	[SIPLB_EV_MAGLEV_PICK] = "maglev_pick",
	[SIPLB_EV_REPICK_DOWN] = "repick_backend_down",
	[SIPLB_EV_KEEP_DRAINING] = "kept_on_draining",
	[SIPLB_EV_AFFINITY_NEW] = "affinity_new",
	[SIPLB_EV_IDLE_EXPIRED] = "affinity_idle_expired",
	[SIPLB_EV_KEY_AOR] = "register_by_aor",
	[SIPLB_EV_IN_DIALOG_GEN] = "in_dialog_earlier_generation",
};
#endif

/* Backend side (bpf/decap.bpf.c). */
/* What happened to a packet; also the index of its counter in decap_stats. */
enum decap_stat {
	DECAP_STAT_DECAPSULATED = 0,	/* outer header stripped, inner packet passed on */
	DECAP_STAT_NOT_TUNNEL,		/* not IPIP / IP6IP6 (or not IP at all): passed untouched */
	DECAP_STAT_UNKNOWN_SOURCE,	/* tunnel from a source not in decap_sources: passed untouched */
	DECAP_STAT_FRAGMENT,		/* fragmented outer packet: passed untouched to the stack */
	DECAP_STAT_MALFORMED,		/* truncated or inconsistent outer/inner header: passed untouched */
	DECAP_STAT__MAX,
};

/* Key of decap_sources: an outer source address. Network byte order. */
struct decap_key {
	__be32 addr[4];		/* IPv4 in addr[0], the rest zero; or IPv6 */
	__u8 family;		/* AF_INET or AF_INET6 */
	__u8 pad[3];		/* zero */
};
SIPLB_STATIC_ASSERT(sizeof(struct decap_key) == 20, "decap_key layout");

/* Index of a Maglev slot in the flat maglev array map. */
static inline __u32 siplb_maglev_index(__u32 vip_id, __u32 gen, __u32 size,
				       __u32 slot)
{
	return (vip_id * SIPLB_MAGLEV_GENS + gen) * size + slot;
}

#endif /* SIPLB_MAPS_H */
