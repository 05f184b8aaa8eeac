/* siplb_hash.h: the keyed 64-bit hash of the steering key (SipHash-1-3), for bpf/ and user/. */
#ifndef SIPLB_HASH_H
#define SIPLB_HASH_H

/*
 * SipHash-1-3 (Aumasson and Bernstein; the variant Rust and CPython use for
 * hash tables): a keyed PRF, so without the 128-bit key nobody can craft
 * Call-IDs that all land on one backend or collide in the affinity map. Every
 * siplb instance with the same key computes the same value, in XDP and in
 * siplbd alike. The rounds are parameters only so that the tests can check
 * the code against SipHash-2-4's published vectors.
 */

#include "sip_parse.h"

#ifndef SIPLB_SIPHASH_C
#define SIPLB_SIPHASH_C 1	/* compression rounds per 8-byte word */
#endif
#ifndef SIPLB_SIPHASH_D
#define SIPLB_SIPHASH_D 3	/* finalization rounds */
#endif

/* Offsets into the frame: payload offset (<= 255) plus payload offset (<= 4095). */
#define SIPLB_FRAME_MASK 8191u

/* The 128-bit key, as two little-endian words of its 16 bytes. */
struct siplb_hash_key {
	__u64 k0;
	__u64 k1;
};
SIPLB_STATIC_ASSERT(sizeof(struct siplb_hash_key) == 16, "hash key layout");

#define SIPLB_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIPLB_SIPROUND(v0, v1, v2, v3)                                  \
	do {                                                            \
		v0 += v1; v1 = SIPLB_ROTL(v1, 13); v1 ^= v0;            \
		v0 = SIPLB_ROTL(v0, 32);                                \
		v2 += v3; v3 = SIPLB_ROTL(v3, 16); v3 ^= v2;            \
		v0 += v3; v3 = SIPLB_ROTL(v3, 21); v3 ^= v0;            \
		v2 += v1; v1 = SIPLB_ROTL(v1, 17); v1 ^= v2;            \
		v2 = SIPLB_ROTL(v2, 32);                                \
	} while (0)

/*
 * Hash len bytes at frame offset aoff of the window with key (k0, k1).
 * Returns 0 when the bytes are not all inside the window (callers never
 * ask for that: the parser vouched for them). Inline for the XDP program
 * (its word loop runs under may_goto, so it is verified once per call
 * site); siplb_hash() below is the same as a function of its own.
 */
SIPLB_INLINE __u64 siplb_hash_inline(SIP_WIN_PARAM, __u32 aoff, __u32 len,
				     __u64 k0, __u64 k1)
{
	SIP_WIN_OPEN;
	__u64 v0 = k0 ^ 0x736f6d6570736575ULL;
	__u64 v1 = k1 ^ 0x646f72616e646f6dULL;
	__u64 v2 = k0 ^ 0x6c7967656e657261ULL;
	__u64 v3 = k1 ^ 0x7465646279746573ULL;
	__u64 b = (__u64)len << 56, mw;
	__u32 rem, i, r, x, n;
	const __u8 *q;

	if (len > SIP_WINDOW || aoff > SIPLB_FRAME_MASK)
		return 0;
	rem = len & 7;
	/* offset and count carried masked/bounded, so the loop converges */
	for (x = aoff, n = len; n >= 8 && SIPLB_CAN_LOOP; n -= 8) {
		SIPLB_CLAMP(x, SIPLB_FRAME_MASK);
		q = data + x;
		SIPLB_BARRIER_VAR(q);
		if (q + 8 > end)
			return 0;
		mw = SIPLB_LD64(q);
		v3 ^= mw;
		for (r = 0; r < SIPLB_SIPHASH_C; r++)
			SIPLB_SIPROUND(v0, v1, v2, v3);
		v0 ^= mw;
		x = (x + 8) & SIPLB_FRAME_MASK;
	}
	if (rem && len >= 8) {
		/* The last 8 bytes, overlapping the last full word: keep the tail. */
		q = data + ((aoff + len - 8) & SIPLB_FRAME_MASK);
		SIPLB_BARRIER_VAR(q);
		if (q + 8 > end)
			return 0;
		b |= SIPLB_LD64(q) >> (8 * (8 - rem));
	} else if (rem) {
		for (i = 0; i < 7; i++) {
			if (i >= rem)
				break;
			q = data + ((aoff + i) & SIPLB_FRAME_MASK);
			SIPLB_BARRIER_VAR(q);
			if (q + 1 > end)
				return 0;
			b |= (__u64)*q << (8 * i);
		}
	}
	v3 ^= b;
	for (r = 0; r < SIPLB_SIPHASH_C; r++)
		SIPLB_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (r = 0; r < SIPLB_SIPHASH_D; r++)
		SIPLB_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

SIPLB_SUBPROG __u64 siplb_hash(SIP_WIN_PARAM, __u32 aoff, __u32 len, __u64 k0,
			       __u64 k1)
{
	return siplb_hash_inline(SIP_WIN_ARG, aoff, len, k0, k1);
}

#ifndef __bpf__
/* The same hash over a plain buffer (siplbd, siplbctl, tests). */
static inline __u64 siplb_hash_buf(const void *p, __u32 len,
				   const struct siplb_hash_key *key)
{
	struct sip_win w = { .data = p, .end = (const __u8 *)p + len };

	return siplb_hash(&w, 0, len, key->k0, key->k1);
}
#endif

#endif /* SIPLB_HASH_H */
