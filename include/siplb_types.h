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
