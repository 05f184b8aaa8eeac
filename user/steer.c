// SPDX-License-Identifier: GPL-2.0
/* steer.c: the XDP program's steering rule in siplbd (slow path, TCP/TLS relay): same parser, hash and maps. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "daemon.h"
#include "sip_parse.h"
#include "siphdr.h"

/* The maps' time units (include/siplb_maps.h): XDP's clock reads the same
 * after calibration (bpf/lb_clock.h), to within a unit at a boundary. */
static __u32 coarse_units(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u32)(((__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec) >> 30);
}

/* Does the To header (found by the header walk) carry a tag? sip_to_tag's scan. */
static bool walk_to_tag(const char *msg, size_t hdr_len)
{
	struct sip_hline h;
	size_t pos = 0, i, n;
	__u8 st = TS_PLAIN;

	if (!sip_hline_find(msg, hdr_len, &pos, "To", 't', &h))
		return false;
	n = h.val_len < SIP_VALUE_MAX ? h.val_len : SIP_VALUE_MAX;
	for (i = 0; i < n; i++)
		if (sip_tag_step((__u8)msg[h.val_off + i], &st))
			return true;
	return false;
}

int sd_steer_key(const struct siplbd *d, __u32 vip, const char *msg, size_t len,
		 const char **key, size_t *klen, struct sip_msg *m, bool *to_tag)
{
	struct sip_win w = { (const __u8 *)msg, (const __u8 *)msg + len };
	struct sip_hline h;
	size_t pos = 0, hdr_len;
	const char *blank;
	bool tag_dummy;

	if (!to_tag)
		to_tag = &tag_dummy;
	*to_tag = false;
	sip_scan(&w, 0, m);
	if (m->verdict == SIP_VERDICT_DROP)
		return -EINVAL;
	if (m->verdict == SIP_VERDICT_FAST && m->callid_len) {
		*to_tag = m->to_len && sip_to_tag(&w, 0, m);
		*key = msg + m->callid_off;
		*klen = m->callid_len;
		if (m->method == SIP_METHOD_REGISTER && d->vips[vip].reg_key == SIPLB_REGKEY_AOR) {
			struct sip_aor a;

			if (sip_to_aor(&w, 0, m, &a) == 0 && a.len) {
				*key = msg + a.off;
				*klen = a.len;
			}
		}
		return 0;
	}
	/* beyond the parser's window, or folded: find the Call-ID ourselves */
	blank = memmem(msg, len, "\r\n\r\n", 4);
	hdr_len = blank ? (size_t)(blank - msg) + 4 : len;
	if (!sip_hline_find(msg, hdr_len, &pos, "Call-ID", 'i', &h) || !h.val_len)
		return -EINVAL;
	*key = msg + h.val_off;
	*klen = h.val_len;
	*to_tag = walk_to_tag(msg, hdr_len);
	return 0;
}

/* Is backend id one of the VIP's and not down? */
static bool usable(const struct siplbd *d, __u32 vip, __u32 id)
{
	return id < SIPLB_MAX_BACKENDS && d->be[id].used && d->be[id].vip == vip &&
	       d->be[id].state != SIPLB_BE_DOWN;
}

int sd_steer(struct siplbd *d, __u32 vip, const char *key, size_t klen, bool request,
	     bool to_tag, __u32 *backend)
{
	struct affinity aff, fresh;
	struct vip_info vi;
	__u32 id, idx, slot, live, g, i, now = coarse_units();
	__u32 idle = sd_window_units(d->cfg.aff_idle);	/* the config's idle_units */
	__u64 h, akey;
	bool had = false, older = false;

	h = siplb_hash_buf(key, (__u32)klen, &d->cfg.hash_key);
	akey = h ^ ((__u64)vip * SIPLB_VIP_MIX);
	if (!bpf_map_lookup_elem(d->maps.affinity, &akey, &aff)) {
		had = true;
		id = aff.backend;
		/* signed: XDP's stamp may be a unit ahead of this clock */
		if (!(idle && (__s32)(now - aff.seen) > (__s32)idle) &&
		    id < SIPLB_MAX_BACKENDS && d->be[id].used && d->be[id].vip == vip &&
		    d->be[id].state != SIPLB_BE_DOWN) {
			if (aff.seen != now) {
				aff.seen = now;
				bpf_map_update_elem(d->maps.affinity, &akey, &aff, BPF_EXIST);
			}
			*backend = id;
			return 0;
		}
	}
	if (lb_vip_get(&d->maps, &d->vips[vip].key, &vi) || !vi.up || !d->cfg.maglev_size)
		return -ENOENT;
	slot = (__u32)(h % d->cfg.maglev_size);
	live = vi.gen & (SIPLB_MAGLEV_GENS - 1);
	/* an in-dialog request without an entry: the oldest generation in the
	 * dialog window whose pick is not down, as XDP's pick_in_dialog(); an
	 * entry whose backend is down moves by the live table, as in XDP */
	for (i = 1; !had && request && to_tag && i < SIPLB_MAGLEV_GENS; i++) {
		g = (live + i) & (SIPLB_MAGLEV_GENS - 1);
		if (vi.gen_until[g] <= now)
			continue;
		idx = siplb_maglev_index(vip, g, d->cfg.maglev_size, slot);
		if (!bpf_map_lookup_elem(d->maps.maglev, &idx, &id) && usable(d, vip, id)) {
			older = true;
			break;
		}
	}
	if (!older) {
		idx = siplb_maglev_index(vip, live, d->cfg.maglev_size, slot);
		if (bpf_map_lookup_elem(d->maps.maglev, &idx, &id) || id >= SIPLB_MAX_BACKENDS ||
		    !d->be[id].used || d->be[id].state == SIPLB_BE_DOWN)
			return -ENOENT;
	}
	/* XDP's recording rule, without its per-CPU budget: dialog-creating
	 * and out-of-dialog requests, tagged responses (the callee side learns
	 * the dialog), in-dialog requests an earlier generation placed */
	if (had || older || (request && !to_tag) || (!request && to_tag)) {
		fresh.backend = id;
		fresh.seen = now;
		bpf_map_update_elem(d->maps.affinity, &akey, &fresh, BPF_ANY);
	}
	*backend = id;
	return 0;
}
