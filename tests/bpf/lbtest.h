/* lbtest.h: shared setup for balancer tests: skeleton, config, VIPs, backends, Maglev, runs. */
#ifndef SIPLB_TEST_LBTEST_H
#define SIPLB_TEST_LBTEST_H

/*
 * Every helper asserts (Criterion) instead of returning an error: a test
 * whose setup failed stops at the line that failed, with the reason.
 *
 * Backend ids index both this file's bookkeeping and the maps; a VIP id is
 * also the index of its Maglev tables (the object's maglev map holds 4 VIPs).
 */

#include <stdbool.h>
#include <linux/types.h>

#include "siplb_maps.h"
#include "siplb_hash.h"
#include "lbmaps.h"

struct siplb;			/* build/siplb.skel.h, included by lbtest.c only */

#define LBT_MAX_VIPS 4		/* VIP ids 0..3: what the object's maglev map holds */
#define LBT_MAX_BACKENDS 64	/* backend ids 0..63 */
#define LBT_FRAME_MAX 4096	/* output buffer: the largest test frame plus an outer header */

/* The balancer's own addresses in the default config (outer source). */
#define LBT_SRC4 "198.18.0.1"
#define LBT_SRC6 "2001:db8::1"
/* The balancer's MAC: source MAC of every next hop by default. */
#define LBT_LB_MAC { 0x02, 0, 0, 0, 0, 0x01 }

struct lbt_vip {
	bool used;
	struct vip_key key;	/* the (address, port) entry; the port-0 entry beside it */
	__u32 *table;		/* the last table published; NULL = none */
	__u32 table_size;	/* its slots: cfg.maglev_size when it was built */
	__u32 up;		/* backends in it */
};

struct lbt_backend {
	bool used;
	struct backend be;	/* as written to the backends map */
	struct nexthop nh;	/* as written to the nexthops map */
	char name[64];		/* Maglev identity: "198.18.1.2:5060", "[2001:db8::2]:5060" */
};

struct lbt {
	struct siplb *skel;
	struct lb_maps maps;
	int prog_fd;
	struct siplb_config cfg;	/* as written to the config map */
	struct siplb_hash_key key;	/* cfg's hash key; also the Maglev seed */
	struct lbt_vip vip[LBT_MAX_VIPS];
	struct lbt_backend be[LBT_MAX_BACKENDS];
	__u32 window_units;	/* lbt_publish keeps the replaced generation this long; 0 = not */
};

/* Counters of one snapshot, each summed over the CPUs. */
struct lbt_counters {
	__u64 drop[SIPLB_DROP__MAX];
	__u64 slow[SIPLB_SLOW__MAX];
	__u64 ev[SIPLB_EV__MAX];
};

/* Test defaults: a fixed hash key, src4/src6 above, MTU 1500, Maglev size
 * (prime), no idle timeout. */
void lbt_default_config(struct siplb_config *cfg, __u32 maglev_size);

/*
 * Load the balancer (the verifier runs here), with the affinity map sized to
 * affinity_max entries (0: as the object has it), and write cfg (NULL: the
 * defaults with a 4093-slot table). Free with lbt_close().
 */
struct lbt *lbt_open(const struct siplb_config *cfg, __u32 affinity_max);
void lbt_close(struct lbt *t);

/* Write t->cfg again after a test changed it (its bans flags come from the
 * blocklists, as lb_config_set() does for siplbd). */
void lbt_config_write(struct lbt *t);

/*
 * Add a VIP: its (addr, port, UDP) entry and the address-only port-0 entry,
 * both with up = 0 (no table yet: fail closed) until lbt_publish().
 */
void lbt_vip_add(struct lbt *t, __u32 vip_id, int family, const char *addr,
		 __u16 port, __u8 mode, __u8 reg_key);

/*
 * Add a backend of a VIP with weight 1 in state, addressed addr (the family
 * is the VIP's), port 5060 in its Maglev name. Its next hop: dmac
 * 02:00:00:00:01:<id>, smac LBT_LB_MAC, the given ifindex (0: none known).
 */
void lbt_backend_add(struct lbt *t, __u32 id, __u32 vip_id, const char *addr,
		     __u8 state, __u32 ifindex);
void lbt_backend_state(struct lbt *t, __u32 id, __u8 state);
void lbt_backend_weight(struct lbt *t, __u32 id, __u16 weight);
void lbt_nexthop_set(struct lbt *t, __u32 id, const struct nexthop *nh);

/*
 * Build the VIP's Maglev table over its backends in state up (weight > 0) and
 * publish it as siplbd does (idle generation, then the switch), on both of
 * the VIP's entries. With no backend up, the VIP's entries get up = 0.
 */
void lbt_publish(struct lbt *t, __u32 vip_id);

/* The last published table of a VIP (maglev_size slots), or NULL. */
const __u32 *lbt_table(const struct lbt *t, __u32 vip_id);

/* The keyed hash of len bytes, as XDP computes it. */
__u64 lbt_hash(const struct lbt *t, const void *p, __u32 len);
/* The affinity map key of a steering-key hash on a VIP. */
__u64 lbt_affinity_key(__u64 hash, __u32 vip_id);
/* The backend the published table gives a steering-key hash. */
__u32 lbt_maglev_pick(const struct lbt *t, __u32 vip_id, __u64 hash);

/*
 * Run one frame through siplb_xdp with ingress_ifindex (0: no context) and
 * return the XDP action; the frame as the program left it goes to out
 * (LBT_FRAME_MAX bytes) and its length to *out_len. out may be NULL.
 */
__u32 lbt_run(struct lbt *t, const void *in, __u32 len, __u32 ifindex,
	      void *out, __u32 *out_len);

/*
 * The backend a forwarded frame goes to: by the outer destination address
 * (IPIP, IP6IP6), else by the destination MAC (L2). -1 if none matches.
 */
int lbt_backend_of(const struct lbt *t, const void *frame, __u32 len);

void lbt_counters_read(const struct lbt *t, struct lbt_counters *c);
/* Traffic of one VIP or backend (map fd from t->maps), summed over the CPUs. */
struct traffic lbt_traffic(int fd, __u32 idx);

/*
 * Ban the prefix addr/plen (IPv4 or IPv6, by the address) until expires_ns
 * of CLOCK_MONOTONIC (0: for good), or lift its ban: as siplbd writes bans,
 * through lb_ban_write(), which keeps the config's bans flags.
 */
void lbt_ban(struct lbt *t, const char *addr, __u32 plen, __u64 expires_ns);
void lbt_unban(struct lbt *t, const char *addr, __u32 plen);

/* Current time in the affinity map's units (2^30 ns of CLOCK_MONOTONIC). */
__u32 lbt_now_units(void);

#endif /* SIPLB_TEST_LBTEST_H */
