/* metrics.h: a snapshot of siplb's counters and its Prometheus text rendering. */
#ifndef SIPLB_METRICS_H
#define SIPLB_METRICS_H

#include <stddef.h>
#include <linux/types.h>

#include "siplb_maps.h"
#include "lbmaps.h"

/* Bytes of a name or address text, with its terminator ("[v6addr]:port" fits). */
#define METRICS_NAME_LEN 64

/* One VIP: names from the config, counters from vip_stats[id]. */
struct metrics_vip {
	char name[METRICS_NAME_LEN];	/* config name */
	char addr[METRICS_NAME_LEN];	/* "198.18.2.1:5060" */
	__u32 id;			/* vip_id: index of vip_stats */
	__u64 packets;
	__u64 bytes;
	__u32 backends_up;		/* backends in the live Maglev table */
};

/* One backend: names and health from siplbd, counters from backend_stats[id]. */
struct metrics_backend {
	char name[METRICS_NAME_LEN];	/* config name */
	char addr[METRICS_NAME_LEN];	/* "address:port" */
	char vip[METRICS_NAME_LEN];	/* name of the VIP it serves */
	__u32 id;			/* backend id: index of backend_stats */
	enum siplb_backend_state state;
	__u32 weight;
	__u64 packets;
	__u64 bytes;
	__u64 probes_ok;		/* health probes answered as accepted */
	__u64 probes_failed;		/* timed out or refused */
	__u64 transitions;		/* state changes */
};

/*
 * Everything one scrape shows. The VIP and backend arrays belong to the
 * caller (up to SIPLB_MAX_BACKENDS backends is too much for a stack).
 */
struct metrics_snapshot {
	char instance[METRICS_NAME_LEN];
	__u64 drops[SIPLB_DROP__MAX];
	__u64 slow[SIPLB_SLOW__MAX];
	__u64 events[SIPLB_EV__MAX];
	struct metrics_vip *vips;
	size_t nvips;
	struct metrics_backend *backends;
	size_t nbackends;
	__u64 maglev_rebuilds;		/* Maglev tables published */
	__u64 affinity_entries;		/* dialogs in the affinity map */
	__u64 bans;			/* prefixes in the blocklist */
	__u64 bans_auto;		/* auto-bans made */
	__u64 bans_expired;		/* bans lifted on expiry */
};

/*
 * Fill the map counters of s: drops, slow, events, and packets/bytes of each
 * vips[i] (by .id) and backends[i] (by .id). Names, states, weights, health
 * and the other fields are left as the caller set them. Returns 0 or the
 * first negative errno of a map read (the rest of s is still filled).
 */
int metrics_snapshot_read(struct metrics_snapshot *s, const struct lb_maps *m);

/*
 * Render s in the Prometheus text exposition format 0.0.4 into buf.
 * Returns the bytes written (without the NUL), or -ENOSPC when buf is too
 * small: then buf holds an empty string (when len > 0). Never writes past len.
 */
int metrics_render(const struct metrics_snapshot *s, char *buf, size_t len);

#endif /* SIPLB_METRICS_H */
