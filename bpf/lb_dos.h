/* lb_dos.h: DoS absorption in XDP: blocklist, message classes, per-source token buckets, the affinity insertion cap. */
#ifndef SIPLB_LB_DOS_H
#define SIPLB_LB_DOS_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sip_parse.h"
#include "siplb_maps.h"
#include "lb_maps.h"

#define DOS_ONES 0x0101010101010101ULL
#define DOS_HIGH 0x8080808080808080ULL

/*
 * Is an unexpired blocklist entry the longest prefix covering the source?
 * The expiry is siplbd's CLOCK_MONOTONIC, read with a helper call: only a
 * source that a ban covers gets here, and it is dropped anyway, so the
 * exact clock (no calibration in the way of a ban's end) costs no traffic.
 */
static __always_inline bool dos_banned(const struct ban *b)
{
	return b && (!b->expires_ns || b->expires_ns > bpf_ktime_get_coarse_ns());
}

/* The LPM lookup only while the family has bans (cfg->bans4, kept by siplbd):
 * with an empty blocklist a packet pays a load, not the trie. */
static __always_inline bool dos_banned4(const struct siplb_config *cfg, __be32 saddr)
{
	struct ban_key4 k = { .prefixlen = 32, .addr = saddr };

	if (!cfg->bans4)
		return false;
	return dos_banned(bpf_map_lookup_elem(&blocklist4, &k));
}

static __always_inline bool dos_banned6(const struct siplb_config *cfg,
					const struct in6_addr *saddr)
{
	struct ban_key6 k = { .prefixlen = 128 };

	if (!cfg->bans6)
		return false;
	__builtin_memcpy(k.addr, saddr, sizeof(k.addr));
	return dos_banned(bpf_map_lookup_elem(&blocklist6, &k));
}

/*
 * A word-at-a-time look for ';' in the To value, before sip_to_tag's
 * byte-at-a-time scan: a tag parameter needs a ';', so a value without one
 * has none (the usual dialog-creating request), and sip_to_tag only runs on
 * the others. Not a second detector: it can only say "no ';'". One step: the
 * eight bytes at frame offset at + x; returns x + 8 (none there),
 * DOS_SEMI_SEEN (a ';' within len bytes from at: ask sip_to_tag) or
 * DOS_SEMI_END (the packet ends within the word: ask sip_to_tag too).
 * A global function: the verifier checks it once.
 */
#define DOS_SEMI_SEEN (-1)
#define DOS_SEMI_END (-2)
__noinline int dos_semi_step(struct xdp_md *ctx, __u32 at, __u32 x, __u32 len)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	const __u8 *p;
	__u64 w, low;
	__u32 j;

	if (at > SIP_MAX_PAYLOAD_OFF + SIP_POS_MASK || x > SIP_VALUE_MAX)
		return DOS_SEMI_END;
	SIPLB_CLAMP(at, 8191);
	SIPLB_CLAMP(x, 1023);
	p = data + at + x;
	if (p + 8 > end)
		return DOS_SEMI_END;
	w = SIPLB_LD64(p) ^ (DOS_ONES * ';');
	low = (w - DOS_ONES) & ~w & DOS_HIGH;	/* 0x80 in each ';' byte, from the lowest */
	if (!low)
		return x + 8;
	low &= -low;
	/* byte index of the lowest ';': 1 << 8j times 0x0001..07 puts j on top */
	j = ((low >> 7) * 0x0001020304050607ULL) >> 56;
	return x + j < len ? DOS_SEMI_SEEN : (int)(x + 8);
}

/* Does the To value carry a tag? sip_to_tag, unless it has no ';' at all.
 * A global function (0 or 1): verified once for its two callers. */
__noinline int dos_to_tag(struct xdp_md *ctx, __u32 off, const struct sip_msg *m)
{
	__u32 len;
	int x = 0, i;

	if (!m)
		return 0;
	len = m->to_len < SIP_VALUE_MAX ? m->to_len : SIP_VALUE_MAX;
	if (!len)
		return 0;
	for (i = 0; i < SIP_VALUE_MAX / 8; i++) {
		x = dos_semi_step(ctx, off + m->to_off, x, len);
		if (x < 0)
			break;
		if ((__u32)x >= len)
			return 0;
	}
	return sip_to_tag(ctx, off, m);
}

/* Scanner signatures ------------------------------------------------------ */

/* Bytes of the User-Agent value searched for a signature: scanners name themselves first. */
#define DOS_UA_SPAN 64u
#define DOS_LOWER 0x2020202020202020ULL
#define DOS_UA_FOUND (-1)
#define DOS_UA_END (-2)

/*
 * One step of the search for the User-Agent line in the header block: the
 * 32 bytes at frame offset at + x, a word at a time. A line feed followed by
 * 'u' or 'U' is a candidate (found for all eight bytes of a word at once:
 * the word at p against '\n', the word at p + 1 against 'u'); only a
 * candidate is compared with "User-Agent". Returns the next x, DOS_UA_END,
 * or DOS_UA_FOUND with *vpos set to the value's offset from at (after the
 * colon and whitespace). A global function: the verifier checks it once,
 * and x stays unknown to it in the caller's loop.
 */
__noinline int dos_ua_step(struct xdp_md *ctx, __u32 at, __u32 x, __u32 *vpos)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	const __u8 *p, *q;
	__u64 w0, w1, cand;
	__u32 j, k, i;

	if (!vpos || at > SIP_MAX_PAYLOAD_OFF || x > SIP_WINDOW)
		return DOS_UA_END;
	SIPLB_CLAMP(at, SIP_MAX_PAYLOAD_OFF);
	SIPLB_CLAMP(x, 4095);
	for (i = 0; i < 4; i++) {
		p = data + at + x + 8 * i;
		if (p + 9 > end)
			return DOS_UA_END;
		w0 = SIPLB_LD64(p) ^ (DOS_ONES * '\n');
		w1 = (SIPLB_LD64(p + 1) | DOS_LOWER) ^ (DOS_ONES * 'u');
		cand = (w0 - DOS_ONES) & ~w0 & (w1 - DOS_ONES) & ~w1 & DOS_HIGH;
		if (cand)
			break;
	}
	if (i == 4)
		return x + 32;
	cand &= -cand;
	j = ((cand >> 7) * 0x0001020304050607ULL) >> 56;
	SIPLB_CLAMP(j, 7);
	q = p + j + 1;
	if (q + 17 > end)
		return DOS_UA_END;
	x += 8 * i + j + 1;	/* the candidate line's first byte */
	if ((SIPLB_LD64(q) | DOS_LOWER) != SIPLB_W8('u', 's', 'e', 'r', '-', 'a', 'g', 'e') ||
	    (q[8] | 0x20) != 'n' || (q[9] | 0x20) != 't')
		return x;
	/* "User-Agent" [ws] ":" [ws] */
	for (k = 10; k < 16; k++) {
		if (q[k] == ':')
			break;
		if (q[k] != ' ' && q[k] != '\t')
			return x;	/* User-Agentx: another header */
	}
	if (k == 16)
		return x;
	for (k++; k < 16; k++) {
		SIPLB_CLAMP(k, 15);
		if (q[k] != ' ' && q[k] != '\t')
			break;
	}
	*vpos = x + k;
	return DOS_UA_FOUND;
}

/*
 * Does a signature start at frame offset at + pos? Two lowercased words are
 * compared with each signature's words under its masks. A global function:
 * checked once; sigs is the VIP's map value.
 */
__noinline int dos_sig_at(struct xdp_md *ctx, __u32 at, __u32 pos, const struct scanner_sigs *sigs)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	const __u8 *p;
	__u64 w0, w1;
	__u32 i, n;

	if (!sigs || at > SIP_MAX_PAYLOAD_OFF || pos > SIP_POS_MASK)
		return 0;
	SIPLB_CLAMP(at, SIP_MAX_PAYLOAD_OFF);
	SIPLB_CLAMP(pos, SIP_POS_MASK);
	p = data + at + pos;
	if (p + 8 > end)
		return 0;
	w0 = SIPLB_LD64(p) | DOS_LOWER;
	if (p + 16 <= end) {
		w1 = SIPLB_LD64(p + 8) | DOS_LOWER;
	} else {
		/* the packet ends within the second word: zeros match no signature byte */
		w1 = 0;
		for (i = 0; i < 8; i++) {
			if (p + 9 + i > end)
				break;
			w1 |= (__u64)(p[8 + i] | 0x20) << (8 * i);
		}
	}
	n = sigs->n;
	for (i = 0; i < SIPLB_SCANNER_SIGS; i++) {
		if (i >= n)
			break;
		if ((w0 & sigs->mask[i][0]) == sigs->word[i][0] &&
		    (w1 & sigs->mask[i][1]) == sigs->word[i][1])
			return 1;
	}
	return 0;
}

/*
 * Does a signature start within the first DOS_UA_SPAN bytes of the
 * User-Agent value at frame offset at + vpos, before the end of its line?
 * A byte that starts no signature (the first-byte bitmap) costs a load and
 * a test; only the others go to dos_sig_at(). A global function.
 */
__noinline int dos_sig_scan(struct xdp_md *ctx, __u32 at, __u32 vpos,
			    const struct scanner_sigs *sigs)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *end = (const __u8 *)(long)ctx->data_end;
	const __u8 *p;
	__u32 i, c;

	if (!sigs || at > SIP_MAX_PAYLOAD_OFF || vpos > SIP_POS_MASK)
		return 0;
	SIPLB_CLAMP(at, SIP_MAX_PAYLOAD_OFF);
	SIPLB_CLAMP(vpos, SIP_POS_MASK);
	for (i = 0; i < DOS_UA_SPAN; i++) {
		p = data + at + vpos + i;
		if (p + 1 > end)
			return 0;
		c = p[0];
		if (c == '\r' || c == '\n')
			return 0;	/* the end of the User-Agent line */
		c |= 0x20;
		if ((sigs->first[(c >> 6) & 3] & (1ULL << (c & 63))) &&
		    dos_sig_at(ctx, at, vpos + i, sigs))
			return 1;
	}
	return 0;
}

/*
 * Is the request's User-Agent a scanner's? Finds the User-Agent line within
 * the header block (hdr_end: its end, from the parser), then tries every
 * signature at each of the first DOS_UA_SPAN bytes of its value. Bounded:
 * SIP_WINDOW / 32 + 64 steps. A global function: its loops are checked once.
 * Lowercasing is "| 0x20" per byte, exact for letters; signatures are
 * stored the same way, and digits, '-', '/', '.' have that bit already.
 */
__noinline int dos_scanner(struct xdp_md *ctx, __u32 off, __u32 hdr_end,
			   const struct scanner_sigs *sigs)
{
	__u32 vpos = 0;
	int x = 0, i;

	if (!sigs)
		return 0;
	if (!hdr_end || hdr_end > SIP_WINDOW)
		hdr_end = SIP_WINDOW;

	for (i = 0; i < SIP_WINDOW / 32 + 64; i++) {
		x = dos_ua_step(ctx, off, x, &vpos);
		if (x == DOS_UA_FOUND)
			break;
		if (x < 0 || (__u32)x >= hdr_end)
			return 0;
	}
	if (x != DOS_UA_FOUND || vpos >= hdr_end)
		return 0;
	return dos_sig_scan(ctx, off, vpos, sigs);
}

/*
 * The budget a message draws on. Dialog-creating: INVITE, SUBSCRIBE,
 * OPTIONS and MESSAGE outside a dialog (no To tag), and every REGISTER.
 * *tag: whether To carries a tag, -1 while not looked for; looked for here
 * (sip_to_tag, the one To tag detector, shared with steering; dos_to_tag
 * skips it for a value without ';') only when the
 * class depends on it, and kept for the caller.
 */
static __always_inline __u32 dos_class(struct xdp_md *ctx, __u32 off,
				       const struct sip_msg *m, int *tag)
{
	if (m->kind != SIP_KIND_REQUEST)
		return SIPLB_CLASS_OTHER;
	switch (m->method) {
	case SIP_METHOD_REGISTER:
		return SIPLB_CLASS_DIALOG;
	case SIP_METHOD_INVITE:
	case SIP_METHOD_SUBSCRIBE:
	case SIP_METHOD_OPTIONS:
	case SIP_METHOD_MESSAGE:
		if (*tag < 0)
			*tag = dos_to_tag(ctx, off, m);
		return *tag ? SIPLB_CLASS_OTHER : SIPLB_CLASS_DIALOG;
	default:
		return SIPLB_CLASS_OTHER;
	}
}

/* Tell siplbd that a source went over budget: n drops since the last report. */
static __always_inline void dos_report(const struct src_key *k, __u32 n, __u64 now)
{
	struct offender *o = bpf_map_lookup_elem(&offenders, k);

	if (o) {
		o->last_ns = now;
		__sync_fetch_and_add(&o->over, n);
	} else {
		struct offender fresh = { .first_ns = now, .last_ns = now, .over = n };

		bpf_map_update_elem(&offenders, k, &fresh, BPF_NOEXIST);
	}
}

/*
 * Charge one message of class cls to the source's bucket on this CPU (GCRA).
 * Returns 0 within budget, else the drop reason. A source seen for the first
 * time starts with a full bucket.
 */
static __always_inline __u32 dos_admit(const struct vip_policy *pol,
				       const struct src_key *k, __u32 cls)
{
	__u64 interval, now, tat;
	struct src_bucket *b;

	cls &= 1;
	interval = pol->interval_ns[cls];
	if (!interval)
		return 0;
	now = bpf_ktime_get_ns();
	b = bpf_map_lookup_elem(&src_buckets, k);
	if (!b) {
		struct src_bucket fresh = { .passed = 1 };

		fresh.tat[cls] = now + interval;
		bpf_map_update_elem(&src_buckets, k, &fresh, BPF_NOEXIST);
		return 0;
	}
	tat = b->tat[cls];
	if (tat < now)
		tat = now;
	if (tat + interval - now <= pol->burst_ns[cls]) {
		b->tat[cls] = tat + interval;
		b->passed++;
		return 0;
	}
	b->over++;
	b->pending++;
	if (b->reported != (__u32)(now >> 30)) {
		b->reported = now >> 30;
		dos_report(k, b->pending, now);
		b->pending = 0;
	}
	return cls == SIPLB_CLASS_DIALOG ? SIPLB_DROP_RATE_DIALOG : SIPLB_DROP_RATE_OTHER;
}

/*
 * May this CPU create one more affinity entry this second? Counts it if so.
 * Above the cap a flood of fresh Call-IDs cannot push real dialogs out of
 * the LRU: new dialogs follow the Maglev table alone, which picks the same
 * backend as long as the table does not change. now_ns: lb_now_ns(), the
 * coarse clock without a helper call (this is on every new dialog's way).
 */
static __always_inline bool dos_aff_budget(const struct siplb_config *cfg, __u64 now_ns)
{
	struct aff_budget *ab;
	__u32 zero = 0, sec;

	if (!cfg->aff_new_max)
		return true;
	ab = bpf_map_lookup_elem(&aff_budget, &zero);
	if (!ab)
		return true;
	sec = now_ns / 1000000000ULL;
	if (ab->window != sec) {
		ab->window = sec;
		ab->created = 0;
	}
	if (ab->created >= cfg->aff_new_max)
		return false;
	ab->created++;
	return true;
}

#endif /* SIPLB_LB_DOS_H */
