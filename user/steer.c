// SPDX-License-Identifier: GPL-2.0
/* steer.c: the XDP program's steering rule in siplbd (slow path, TCP/TLS relay): same parser, hash and maps. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "daemon.h"
#include "sip_parse.h"
#include "siphdr.h"

/* bpf_ktime_get_coarse_ns() >> 30, as the XDP program stamps affinity entries. */
static __u32 coarse_units(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u32)(((__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec) >> 30);
}

int sd_steer_key(const struct siplbd *d, __u32 vip, const char *msg, size_t len,
		 const char **key, size_t *klen, struct sip_msg *m)
{
	struct sip_win w = { (const __u8 *)msg, (const __u8 *)msg + len };
	struct sip_hline h;
	size_t pos = 0, hdr_len;
	const char *blank;

	sip_scan(&w, 0, m);
	if (m->verdict == SIP_VERDICT_DROP)
		return -EINVAL;
	if (m->verdict == SIP_VERDICT_FAST && m->callid_len) {
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
	return 0;
}

int sd_steer(struct siplbd *d, __u32 vip, const char *key, size_t klen, bool request,
	     __u32 *backend)
{
	struct affinity aff, fresh;
	struct vip_info vi;
	__u32 id, idx, now = coarse_units();
	__u32 idle = (__u32)(((__u64)d->cfg.aff_idle * 1000000000ULL + (1ULL << 30) - 1) >> 30);
	__u64 h, akey;
	bool had = false;

	h = siplb_hash_buf(key, (__u32)klen, &d->cfg.hash_key);
	akey = h ^ ((__u64)vip * SIPLB_VIP_MIX);
	if (!bpf_map_lookup_elem(d->maps.affinity, &akey, &aff)) {
		had = true;
		id = aff.backend;
		if (!(idle && now - aff.seen > idle) &&
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
	idx = siplb_maglev_index(vip, vi.gen & (SIPLB_MAGLEV_GENS - 1), d->cfg.maglev_size,
				 (__u32)(h % d->cfg.maglev_size));
	if (bpf_map_lookup_elem(d->maps.maglev, &idx, &id) || id >= SIPLB_MAX_BACKENDS ||
	    !d->be[id].used || d->be[id].state == SIPLB_BE_DOWN)
		return -ENOENT;
	if (request || had) {
		fresh.backend = id;
		fresh.seen = now;
		bpf_map_update_elem(d->maps.affinity, &akey, &fresh, BPF_ANY);
	}
	*backend = id;
	return 0;
}
