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

/*
 * Time in the maps (affinity.seen, vip_info.gen_until, siplb_config.idle_units):
 * units of 2^30 ns (~1.07 s) of CLOCK_MONOTONIC, a __u32 (wraps after 146
 * years of uptime). XDP reads the clock from jiffies (bpf/lb_clock.h),
 * siplbd and the tests from clock_gettime(CLOCK_MONOTONIC_COARSE); the two
 * agree to within a tick, so the same instant may read one unit apart near
 * a boundary: an age is (__s32)(now - seen), never an unsigned difference.
 */

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

/*
 * Value of the vips map, and copied into vip_index (below). A hash value is
 * replaced whole, but the index copy is rewritten in place: XDP may read a
 * mix of two successive versions. siplbd writes them so that any mix is
 * harmless: see lb_maglev_publish_window() and docs/architecture.md.
 */
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
	 * out of the window; SIPLB_GEN_LIVE for the live one. Compared
	 * unsigned: a unit of skew moves the window's end by ~1 s. */
	__u32 gen_until[SIPLB_MAGLEV_GENS];
};
SIPLB_STATIC_ASSERT(sizeof(struct vip_info) == 16 + 4 * SIPLB_MAGLEV_GENS, "vip_info layout");

/*
 * vip_index: an array in front of the vips hash, because XDP's array
 * lookups are inlined and a hash lookup is a helper call (~28 ns a packet on
 * CPUs with SRSO "Safe RET"). A (address, port) key lives in one of the
 * SIPLB_VIP_PROBES slots from siplb_vip_slot(key) on (wrapping); a key that
 * found none free is only in the hash, which XDP falls back to on a miss, so
 * nothing depends on placement. The port-0 entries stay in the hash only.
 * Written by lb_vip_set() / lb_vip_del() after / before the hash entry.
 */
#define SIPLB_VIP_INDEX_BITS 10
#define SIPLB_VIP_INDEX_SLOTS (1u << SIPLB_VIP_INDEX_BITS) /* well above SIPLB_MAX_VIPS * 4 */
#define SIPLB_VIP_PROBES 4

struct vip_slot {
	struct vip_key key;	/* valid while used */
	__u32 used;		/* 1: key and info hold a VIP; 0: free */
	struct vip_info info;	/* a copy of the key's vips value */
};
SIPLB_STATIC_ASSERT(sizeof(struct vip_slot) == 24 + sizeof(struct vip_info), "vip_slot layout");

/* The key's first slot in vip_index: multiply-shift over its five words. */
SIPLB_INLINE __u32 siplb_vip_slot(const struct vip_key *k)
{
	__u64 tail = (__u64)k->port | (__u64)k->proto << 16 | (__u64)k->family << 24;
	__u64 h;

	h = ((__u64)k->addr[0] << 32 | k->addr[1]) * 0x9e3779b97f4a7c15ULL;
	h ^= ((__u64)k->addr[2] << 32 | k->addr[3]) * 0xc2b2ae3d27d4eb4fULL;
	h ^= tail * 0x165667b19e3779f9ULL;
	return (__u32)(h >> (64 - SIPLB_VIP_INDEX_BITS));
}

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
	__u32 seen;		/* last packet, 2^30 ns units (~1.07 s) of CLOCK_MONOTONIC (above) */
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
	__u32 idle_units;	/* affinity entry idle timeout, 2^30 ns units (as seen); 0 = never */
	__u32 maglev_size;	/* slots per Maglev table (prime), the same for every VIP */
	/* New affinity entries a CPU may create per second (fixed 1 s windows of
	 * CLOCK_MONOTONIC_COARSE); above it the Maglev pick alone steers. 0 = no cap. */
	__u32 aff_new_max;
	/* 1 while blocklist4 / blocklist6 holds an entry: XDP skips the LPM
	 * lookup of a family without bans. Kept by lb_ban_write() (set before a
	 * family's first entry, cleared after its last) and lb_config_set(). */
	__u8 bans4;
	__u8 bans6;
	__u16 pad;		/* zero */
	/* CLOCK_MONOTONIC_COARSE ns - jiffies * TICK_NSEC, measured by
	 * lb_clock_offset(): XDP's clock (bpf/lb_clock.h) is jiffies plus this. */
	__s64 clock_off_ns;
};
SIPLB_STATIC_ASSERT(sizeof(struct siplb_config) == 64, "config layout");

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
	SIPLB_EV_AFFINITY_CAPPED, /* not recorded: this CPU is over aff_new_max this second */
	SIPLB_EV_NOT_RECORDED,	/* not recorded: neither dialog-creating nor in-dialog learning */
	SIPLB_EV_OFFENDER,	/* a source's over-budget drops reported to offenders */
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
	[SIPLB_EV_AFFINITY_CAPPED] = "affinity_new_capped",
	[SIPLB_EV_NOT_RECORDED] = "affinity_not_recorded",
	[SIPLB_EV_OFFENDER] = "offender_reports",
	[SIPLB_EV_IN_DIALOG_GEN] = "in_dialog_earlier_generation",
};
#endif

/* DoS absorption ---------------------------------------------------------- */

/* Message classes with a budget of their own in the per-source token buckets. */
enum siplb_class {
	SIPLB_CLASS_DIALOG = 0,	/* INVITE, REGISTER, SUBSCRIBE, MESSAGE, OPTIONS without To tag */
	SIPLB_CLASS_OTHER = 1,	/* everything else: in-dialog requests, responses */
	SIPLB_CLASS__MAX,
};

#define SIPLB_POL_F_DROP_UNKNOWN_RESP 0x1 /* drop responses with no affinity entry */
#define SIPLB_POL_F_SCANNERS 0x2	/* the VIP has scanner signatures (vip_scanners) */

/*
 * Value of the vip_policy array map, indexed by VIP id: the VIP's DoS limits.
 * A token bucket is kept as GCRA: one "theoretical arrival time" per class,
 * advanced by interval_ns per message; a message passes while that time runs
 * at most burst_ns ahead of now. interval_ns = 1e9 / rate; burst_ns =
 * burst * interval_ns. interval_ns 0 = no limit for the class.
 */
struct vip_policy {
	__u32 interval_ns[SIPLB_CLASS__MAX]; /* ns per token (1e9 / messages per second) */
	__u64 burst_ns[SIPLB_CLASS__MAX];    /* burst * interval_ns */
	__u32 max_len;		/* largest UDP payload accepted (bytes); 0 = no limit */
	__u32 flags;		/* SIPLB_POL_F_* */
};
SIPLB_STATIC_ASSERT(sizeof(struct vip_policy) == 32, "vip_policy layout");

#define SIPLB_SCANNER_SIGS 8	/* signatures per VIP */
#define SIPLB_SCANNER_LEN 16	/* bytes of a signature at most */

/*
 * Value of vip_scanners, indexed by VIP id: User-Agent substrings that mark
 * a scanner (friendly-scanner, sipvicious, sipcli). Each is kept lowercase
 * as two little-endian words and masks: bytes past its length are masked out.
 */
struct scanner_sigs {
	__u32 n;		/* signatures in use, 0..SIPLB_SCANNER_SIGS */
	__u32 pad;
	__u64 first[4];		/* bitmap of the signatures' first bytes (| 0x20) */
	__u64 word[SIPLB_SCANNER_SIGS][2];
	__u64 mask[SIPLB_SCANNER_SIGS][2];
};
SIPLB_STATIC_ASSERT(sizeof(struct scanner_sigs) == 296, "scanner_sigs layout");

#ifndef __bpf__
/* Set signature i (len 1..SIPLB_SCANNER_LEN bytes) as XDP compares it: each byte | 0x20.
 * Signatures are set once each, on a zeroed struct (first is only ever added to). */
static inline void siplb_scanner_sig_set(struct scanner_sigs *s, __u32 i, const char *sig,
					 __u32 len)
{
	__u32 k;

	s->word[i][0] = s->word[i][1] = s->mask[i][0] = s->mask[i][1] = 0;
	if (len) {
		__u8 c = (__u8)sig[0] | 0x20;

		s->first[c >> 6] |= 1ULL << (c & 63);
	}
	for (k = 0; k < len && k < SIPLB_SCANNER_LEN; k++) {
		s->word[i][k / 8] |= (__u64)((__u8)sig[k] | 0x20) << (8 * (k % 8));
		s->mask[i][k / 8] |= 0xffULL << (8 * (k % 8));
	}
}
#endif

/* Key of the per-source maps: an IPv4 address or an IPv6 /64, on one VIP. */
struct src_key {
	__be32 addr[2];		/* IPv4 in addr[0] (addr[1] zero); IPv6: the first 64 bits */
	__u32 vip_id;
	__u32 family;		/* AF_INET or AF_INET6 */
};
SIPLB_STATIC_ASSERT(sizeof(struct src_key) == 16, "src_key layout");

/* Value of src_buckets (LRU, per CPU: each CPU keeps its own bucket of a source). */
struct src_bucket {
	__u64 tat[SIPLB_CLASS__MAX]; /* GCRA theoretical arrival time, ns of CLOCK_MONOTONIC */
	__u64 passed;		/* messages within budget, this CPU */
	__u64 over;		/* messages dropped over budget, this CPU */
	__u32 pending;		/* over-budget drops not yet reported to offenders */
	__u32 reported;		/* second (2^30 ns) of the last report to offenders */
};
SIPLB_STATIC_ASSERT(sizeof(struct src_bucket) == 40, "src_bucket layout");

/*
 * Value of offenders (LRU shared by all CPUs): sources that went over budget.
 * Each CPU reports a source at most once per second (2^30 ns), so a flood
 * costs one shared write per source per CPU per second, not one per packet.
 * siplbd reads it for auto-bans and siplbctl top, and deletes quiet entries.
 */
struct offender {
	__u64 first_ns;		/* first report, CLOCK_MONOTONIC */
	__u64 last_ns;		/* latest report */
	__u64 over;		/* over-budget drops reported, all CPUs */
};
SIPLB_STATIC_ASSERT(sizeof(struct offender) == 24, "offender layout");

/* Keys of the blocklist LPM tries; prefixlen counts the address bits. */
struct ban_key4 {
	__u32 prefixlen;	/* 0..32 */
	__be32 addr;
};
SIPLB_STATIC_ASSERT(sizeof(struct ban_key4) == 8, "ban_key4 layout");

struct ban_key6 {
	__u32 prefixlen;	/* 0..128 */
	__be32 addr[4];
};
SIPLB_STATIC_ASSERT(sizeof(struct ban_key6) == 20, "ban_key6 layout");

#define SIPLB_BAN_F_AUTO 0x1	/* set by an auto-ban, not by siplbctl ban */

/* Value of the blocklists. XDP ignores an expired entry on its own. */
struct ban {
	__u64 expires_ns;	/* CLOCK_MONOTONIC; 0 = never */
	__u32 flags;		/* SIPLB_BAN_F_* */
	__u32 pad;
};
SIPLB_STATIC_ASSERT(sizeof(struct ban) == 16, "ban layout");

/* Value of aff_budget (per-CPU array, one entry): this CPU's new affinity entries. */
struct aff_budget {
	__u32 window;		/* second of CLOCK_MONOTONIC_COARSE being counted */
	__u32 created;		/* entries created in it */
};
SIPLB_STATIC_ASSERT(sizeof(struct aff_budget) == 8, "aff_budget layout");

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
