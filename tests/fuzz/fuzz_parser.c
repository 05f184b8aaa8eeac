// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_parser.c: libFuzzer target for the SIP parser (include/sip_parse.h)
 * and the Call-ID hash (include/siplb_hash.h), userspace build.
 *
 *   clang -g -O1 -I include -fsanitize=fuzzer,address,undefined \
 *         -fno-sanitize-recover=all tests/fuzz/fuzz_parser.c -o fuzz_parser
 *   ./fuzz_parser -max_len=4096 corpus-dir tests/corpus
 *
 * libFuzzer hands over an exact-size heap buffer, so ASan reports any read
 * past the datagram. On top of memory safety the target checks invariants
 * that every caller of the parser relies on; a broken one aborts with a
 * message naming it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_parse.h"
#include "siplb_hash.h"

#define FUZZ_OFF 42u	/* Ethernet + IPv4 + UDP in front of the payload */

#define INV(cond)                                                              \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "invariant broken: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                           \
			abort();                                               \
		}                                                              \
	} while (0)

static const struct siplb_hash_key fuzz_key = {
	.k0 = 0x0706050403020100ULL,
	.k1 = 0x0f0e0d0c0b0a0908ULL,
};

/* [off, off + len) lies inside [lo, hi). */
static int inside(uint32_t off, uint32_t len, uint32_t lo, uint32_t hi)
{
	return off >= lo && off + len <= hi && off + len >= off;
}

static void check_msg(const uint8_t *p, size_t size, const struct sip_msg *m, int ret)
{
	INV(ret == m->verdict);
	INV(m->done == 1);
	INV(m->verdict <= SIP_VERDICT_DROP);
	INV(m->kind <= SIP_KIND_KEEPALIVE);
	INV(m->method < SIP_METHOD__MAX);
	INV(m->hdr_end <= size);
	INV(inside(m->callid_off, m->callid_len, 0, size));
	INV(inside(m->via_off, m->via_len, 0, size));
	INV(inside(m->to_off, m->to_len, 0, size));

	switch (m->verdict) {
	case SIP_VERDICT_FAST:
		INV(m->reason == 0);
		break;
	case SIP_VERDICT_SLOW:
		INV(m->reason > SIPLB_SLOW_NONE && m->reason < SIPLB_SLOW__MAX);
		/* the parser itself only knows these three */
		INV(m->reason == SIPLB_SLOW_BEYOND_WINDOW || m->reason == SIPLB_SLOW_FOLDED ||
		    m->reason == SIPLB_SLOW_LONG_WS);
		break;
	case SIP_VERDICT_DROP:
		INV(m->reason > SIPLB_DROP_NONE && m->reason < SIPLB_DROP__MAX);
		INV(m->reason != SIPLB_DROP_BAD_L3 && m->reason != SIPLB_DROP_NO_BACKEND);
		break;
	}

	/* kind and the start line */
	INV((m->kind == SIP_KIND_KEEPALIVE) ==
	    (m->verdict == SIP_VERDICT_DROP && m->reason == SIPLB_DROP_KEEPALIVE));
	if (m->kind == SIP_KIND_KEEPALIVE)
		INV((size == 2 && !memcmp(p, "\r\n", 2)) || (size == 4 && !memcmp(p, "\r\n\r\n", 4)));
	if (m->kind != SIP_KIND_REQUEST)
		INV(m->method == SIP_METHOD_NONE && m->method_len == 0);
	if (m->kind == SIP_KIND_REQUEST) {
		INV(m->method != SIP_METHOD_NONE);
		INV(m->method_len > 0 && m->method_len < size && p[m->method_len] == ' ');
		INV(m->status == 0);
	}
	if (m->kind == SIP_KIND_RESPONSE && m->status)
		INV(m->status >= 100 && m->status <= 699);
	if (m->kind == SIP_KIND_RESPONSE && !(m->verdict == SIP_VERDICT_DROP &&
					      m->reason == SIPLB_DROP_MALFORMED))
		INV(m->status >= 100 && m->status <= 699);

	/* the blank line */
	if (m->hdr_end) {
		INV(m->hdr_end >= 2);
		INV(p[m->hdr_end - 1] == '\n');
		INV(p[m->hdr_end - 2] == '\n' ||
		    (m->hdr_end >= 3 && p[m->hdr_end - 2] == '\r' && p[m->hdr_end - 3] == '\n'));
		INV(m->hdr_end <= SIP_WINDOW + 2);
	}

	if (m->verdict == SIP_VERDICT_FAST) {
		INV(m->kind == SIP_KIND_REQUEST || m->kind == SIP_KIND_RESPONSE);
		INV(m->hdr_end > 0);
		INV(m->callid_len > 0 && m->via_len > 0);
		/* every value lies in the header block and holds no line feed */
		INV(m->callid_off > 0 && m->callid_off + m->callid_len < m->hdr_end);
		INV(m->via_off > 0 && m->via_off + m->via_len < m->hdr_end);
		if (m->to_len)
			INV(m->to_off > 0 && m->to_off + m->to_len < m->hdr_end);
		INV(!memchr(p + m->callid_off, '\n', m->callid_len));
		INV(!memchr(p + m->via_off, '\n', m->via_len));
		INV(!memchr(p + m->to_off, '\n', m->to_len));
		/* trimmed: no whitespace at the start of a value */
		INV(!sip_is_ws(p[m->callid_off]) && !sip_is_ws(p[m->via_off]));
	} else if (m->verdict == SIP_VERDICT_SLOW) {
		INV(m->kind == SIP_KIND_REQUEST || m->kind == SIP_KIND_RESPONSE);
		INV(m->hdr_end == 0);
	}
	if (m->verdict == SIP_VERDICT_SLOW && m->reason == SIPLB_SLOW_BEYOND_WINDOW)
		INV(size > SIP_WINDOW);
}

/*
 * A reported value is whole: it ends at the end of its header value or at a
 * delimiter, never in the middle of a token (a cut-off branch or AOR would
 * silently steer or report the wrong thing). -DFUZZ_LENIENT_ENDS turns this
 * check off, to look for other problems while a known one is being fixed.
 */
static int ends_at(const uint8_t *pl, uint32_t end, uint32_t value_end, const char *delims)
{
#ifdef FUZZ_LENIENT_ENDS
	(void)pl, (void)end, (void)value_end, (void)delims;
	return 1;
#else
	return end == value_end || (end < value_end && pl[end] && strchr(delims, pl[end]));
#endif
}

/* Via and To details: inside their values, and whole. */
static void check_details(const struct sip_win *w, uint32_t off, const struct sip_msg *m,
			  struct sip_via *v, struct sip_aor *a, int *vr, int *ar)
{
	const uint8_t *pl = w->data + off;
	uint32_t via_end = m->via_off + m->via_len, to_end = m->to_off + m->to_len;

	*vr = sip_via(w, off, m, v);
	INV(*vr == 0 || *vr == -1);
	if (*vr == 0) {
		INV(v->sent_by_len > 0);
		INV(inside(v->sent_by_off, v->sent_by_len, m->via_off, m->via_off + m->via_len));
		if (v->branch_len)
			INV(inside(v->branch_off, v->branch_len, m->via_off,
				   m->via_off + m->via_len));
		else
			INV(v->branch_off == 0);
		if (v->branch_len)
			INV(v->branch_off >= v->sent_by_off + v->sent_by_len);
		INV(ends_at(pl, v->sent_by_off + v->sent_by_len, via_end, ";, \t"));
		if (v->branch_len)
			INV(ends_at(pl, v->branch_off + v->branch_len, via_end, ";, \t"));
	}
	*ar = sip_to_aor(w, off, m, a);
	INV(*ar == 0 || *ar == -1);
	if (*ar == 0) {
		INV(a->len > 0);
		INV(inside(a->off, a->len, m->to_off, m->to_off + m->to_len));
		INV(ends_at(pl, a->off + a->len, to_end, ":;?>, \t"));
	} else {
		INV(a->len == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_win w = { data, data + size };
	struct sip_msg m, m2;
	struct sip_via v, v2;
	struct sip_aor a, a2;
	int ret, vr, ar, vr2, ar2;
	uint8_t *frame;

	if (size > 65535)
		return 0;
	ret = sip_scan(&w, 0, &m);
	check_msg(data, size, &m, ret);
	check_details(&w, 0, &m, &v, &a, &vr, &ar);

	/* Deterministic. */
	INV(sip_scan(&w, 0, &m2) == ret && !memcmp(&m, &m2, sizeof(m)));

	/* The Call-ID hash reads only the Call-ID, in place or copied. */
	if (m.callid_len) {
		uint8_t *copy = malloc(m.callid_len);
		uint64_t in_place, copied;

		if (!copy)
			return 0;
		memcpy(copy, data + m.callid_off, m.callid_len);
		copied = siplb_hash_buf(copy, m.callid_len, &fuzz_key);
		in_place = siplb_hash(&w, m.callid_off, m.callid_len, fuzz_key.k0, fuzz_key.k1);
		if (m.callid_len <= SIP_WINDOW)
			INV(in_place == copied);
		free(copy);
	}
	/* The AOR hash likewise. */
	if (!ar) {
		struct sip_win aw = { data + a.off, data + a.off + a.len };

		(void)siplb_hash(&aw, 0, a.len, fuzz_key.k0, fuzz_key.k1);
	}

	/* The same payload behind a frame header gives the same answer. */
	frame = malloc(FUZZ_OFF + size);
	if (!frame)
		return 0;
	memset(frame, 0x0a, FUZZ_OFF);	/* line feeds in front must not count */
	memcpy(frame + FUZZ_OFF, data, size);
	{
		struct sip_win fw = { frame, frame + FUZZ_OFF + size };

		INV(sip_scan(&fw, FUZZ_OFF, &m2) == ret);
		INV(!memcmp(&m, &m2, sizeof(m)));
		check_details(&fw, FUZZ_OFF, &m2, &v2, &a2, &vr2, &ar2);
		INV(vr2 == vr && ar2 == ar);
		if (!vr)
			INV(v.sent_by_off == v2.sent_by_off && v.sent_by_len == v2.sent_by_len &&
			    v.branch_off == v2.branch_off && v.branch_len == v2.branch_len);
		if (!ar)
			INV(a.off == a2.off && a.len == a2.len);
		if (m.callid_len && m.callid_len <= SIP_WINDOW)
			INV(siplb_hash(&fw, FUZZ_OFF + m.callid_off, m.callid_len, fuzz_key.k0,
				       fuzz_key.k1) ==
			    siplb_hash(&w, m.callid_off, m.callid_len, fuzz_key.k0,
				       fuzz_key.k1));
	}
	free(frame);

	/* A payload offset past the limit is refused, not read. */
	INV(sip_scan(&w, SIP_MAX_PAYLOAD_OFF + 1, &m2) == SIP_VERDICT_DROP &&
	    m2.reason == SIPLB_DROP_BAD_L3);
	return 0;
}
