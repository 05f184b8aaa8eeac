/* siplb_types.h: types, inlining and load helpers shared by bpf/ and user/. */
#ifndef SIPLB_TYPES_H
#define SIPLB_TYPES_H

#include <linux/types.h>

#ifdef __bpf__
#include <bpf/bpf_helpers.h>
/* BPF: a subprogram the verifier checks once, on its own (global function).
 * Its arguments may only be the context, scalars and pointers to sized memory. */
#define SIPLB_SUBPROG __attribute__((noinline))
#define SIPLB_INLINE static __always_inline
/* The verifier allows unaligned packet loads on x86; one 8-byte load, not 8. */
#define SIPLB_LD64(p) (*(const __u64 *)(p))
/* Stops clang from rewriting "p + n > end" into arithmetic on end,
 * which the verifier refuses. */
#define SIPLB_BARRIER_VAR(v) asm volatile("" : "+r"(v))
/* v &= mask in a way clang cannot drop when it already knows v <= mask:
 * the verifier needs to see the mask to bound v. */
#define SIPLB_CLAMP(v, mask)              \
	do {                              \
		SIPLB_BARRIER_VAR(v);     \
		(v) &= (mask);            \
	} while (0)
/*
 * Loop condition for scans: the may_goto instruction (Linux 6.9), spelled in
 * bytes for assemblers that do not know it. The verifier checks such a loop
 * until its state converges instead of once per iteration, so the body may
 * branch freely as long as what it carries to the next iteration is bounded
 * (masked offsets, state in memory). False only after ~8M iterations.
 */
#define SIPLB_CAN_LOOP                                                        \
	({                                                                    \
		__label__ l_break, l_continue;                                \
		int ret__ = 1;                                                \
		asm volatile goto("1:.byte 0xe5; .byte 0;"                    \
				  ".long ((%l[l_break] - 1b - 8) / 8) & 0xffff;" \
				  ".short 0" :::: l_break);                   \
		goto l_continue;                                              \
l_break:                                                                      \
		ret__ = 0;                                                    \
l_continue:                                                                   \
		ret__;                                                        \
	})
#define SIPLB_LD32(p) (*(const __u32 *)(p))
#else
#include <stddef.h>
#include <string.h>
#define SIPLB_SUBPROG static inline
#define SIPLB_INLINE static inline __attribute__((always_inline))
SIPLB_INLINE __u64 siplb_ld64(const __u8 *p)
{
	__u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}
#define SIPLB_LD64(p) siplb_ld64(p)
SIPLB_INLINE __u32 siplb_ld32(const __u8 *p)
{
	__u32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}
#define SIPLB_LD32(p) siplb_ld32(p)
#define SIPLB_CAN_LOOP 1
#define SIPLB_BARRIER_VAR(v) ((void)0)
#define SIPLB_CLAMP(v, mask) ((v) &= (mask))
#endif

#define SIPLB_STATIC_ASSERT(c, m) _Static_assert(c, m)

/* Eight ASCII bytes as the little-endian word an 8-byte load returns. */
#define SIPLB_W8(a, b, c, d, e, f, g, h)                                      \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 | \
	 (__u64)(e) << 32 | (__u64)(f) << 40 | (__u64)(g) << 48 |           \
	 (__u64)(h) << 56)

#endif /* SIPLB_TYPES_H */
