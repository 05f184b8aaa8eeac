// SPDX-License-Identifier: GPL-2.0
/*
 * test_hash.c: siplb_hash() built as SipHash-2-4, checked against the
 * published 64-bit test vectors of the SipHash reference implementation
 * (Aumasson and Bernstein, github.com/veorq/SipHash, vectors.h, vectors_sip64;
 * also in the SipHash paper, appendix A, for n = 15): key 00 01 .. 0f, message
 * 00 01 .. (n-1), n = 0..63. The rounds are the only difference from the
 * SipHash-1-3 that siplb uses (tests/unit/test_hash13.c), so this checks the
 * word loading, the tail handling and the finalization.
 *
 * This translation unit only: everything below is static.
 */
#define SIPLB_SIPHASH_C 2
#define SIPLB_SIPHASH_D 4

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "siplb_hash.h"

/* vectors_sip64[n], as little-endian 64-bit integers. */
static const __u64 sip24_vectors[64] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
	0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
	0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
	0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
	0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
	0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
	0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
	0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
	0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
	0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
	0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
	0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
	0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
	0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL,
	0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
	0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL,
	0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
	0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL,
	0x958a324ceb064572ULL,
};

/* Key bytes 00..0f as the two little-endian words. */
static const struct siplb_hash_key sip24_key = {
	.k0 = 0x0706050403020100ULL,
	.k1 = 0x0f0e0d0c0b0a0908ULL,
};

/* Hash the n-byte message 00..(n-1) from an exact-size heap copy (ASan). */
static __u64 sip24_n(__u32 n)
{
	__u8 *p = malloc(n ? n : 1);
	__u64 h;
	__u32 i;

	cr_assert(p);
	for (i = 0; i < n; i++)
		p[i] = i;
	h = siplb_hash_buf(p, n, &sip24_key);
	free(p);
	return h;
}

Test(siphash24, named_vectors)
{
	cr_expect(sip24_n(0) == 0x726fdb47dd0e0e31ULL, "n=0: %016llx",
		  (unsigned long long)sip24_n(0));
	cr_expect(sip24_n(7) == 0xab0200f58b01d137ULL, "n=7: %016llx",
		  (unsigned long long)sip24_n(7));
	cr_expect(sip24_n(8) == 0x93f5f5799a932462ULL, "n=8: %016llx",
		  (unsigned long long)sip24_n(8));
	/* The paper's example: 15 bytes. */
	cr_expect(sip24_n(15) == 0xa129ca6149be45e5ULL, "n=15: %016llx",
		  (unsigned long long)sip24_n(15));
	cr_expect(sip24_n(63) == 0x958a324ceb064572ULL, "n=63: %016llx",
		  (unsigned long long)sip24_n(63));
}

Test(siphash24, all_64_vectors)
{
	__u32 n;

	for (n = 0; n < 64; n++) {
		__u64 h = sip24_n(n);

		cr_expect(h == sip24_vectors[n], "n=%u: got %016llx, want %016llx", n,
			  (unsigned long long)h, (unsigned long long)sip24_vectors[n]);
	}
}

/* The vectors again, with the message inside a window at an offset. */
Test(siphash24, vectors_at_offsets)
{
	static const __u32 offs[] = { 1, 3, 8, 42, 255, 1000, 4000 };
	__u8 *frame = malloc(4096 + 64);
	__u32 i, n, k;

	cr_assert(frame);
	for (k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
		__u32 off = offs[k];

		memset(frame, 0xa5, 4096 + 64);
		for (i = 0; i < 64; i++)
			frame[off + i] = i;
		for (n = 0; n < 64; n++) {
			/* window ends right after the message: no read may pass it */
			struct sip_win w = { frame, frame + off + n };
			__u64 h = siplb_hash(&w, off, n, sip24_key.k0, sip24_key.k1);

			cr_expect(h == sip24_vectors[n], "off=%u n=%u: got %016llx", off, n,
				  (unsigned long long)h);
		}
	}
	free(frame);
}
