// SPDX-License-Identifier: GPL-2.0
/*
 * test_hash13.c: siplb_hash() as siplb builds it, SipHash-1-3 (the default
 * rounds), against published vectors and for the properties the balancer
 * relies on.
 *
 * The vectors: key 00 01 .. 0f, message 00 01 .. (n-1), n = 0..63, as
 * published in Rust's libcore tests (library/core/tests/hash/sip.rs,
 * test_siphash_1_3, written there as little-endian bytes) and in Firedancer's
 * test_siphash13.c (as 64-bit integers); the two lists agree.
 *
 * This translation unit only: everything below is static.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "siplb_hash.h"

static const __u64 sip13_vectors[64] = {
	0xabac0158050fc4dcULL, 0xc9f49bf37d57ca93ULL, 0x82cb9b024dc7d44dULL,
	0x8bf80ab8e7ddf7fbULL, 0xcf75576088d38328ULL, 0xdef9d52f49533b67ULL,
	0xc50d2b50c59f22a7ULL, 0xd3927d989bb11140ULL, 0x369095118d299a8eULL,
	0x25a48eb36c063de4ULL, 0x79de85ee92ff097fULL, 0x70c118c1f94dc352ULL,
	0x78a384b157b4d9a2ULL, 0x306f760c1229ffa7ULL, 0x605aa111c0f95d34ULL,
	0xd320d86d2a519956ULL, 0xcc4fdd1a7d908b66ULL, 0x9cf2689063dbd80cULL,
	0x8ffc389cb473e63eULL, 0xf21f9de58d297d1cULL, 0xc0dc2f46a6cce040ULL,
	0xb992abfe2b45f844ULL, 0x7ffe7b9ba320872eULL, 0x525a0e7fdae6c123ULL,
	0xf464aeb267349c8cULL, 0x45cd5928705b0979ULL, 0x3a3e35e3ca9913a5ULL,
	0xa91dc74e4ade3b35ULL, 0xfb0bed02ef6cd00dULL, 0x88d93cb44ab1e1f4ULL,
	0x540f11d643c5e663ULL, 0x2370dd1f8c21d1bcULL, 0x81157b6c16a7b60dULL,
	0x4d54b9e57a8ff9bfULL, 0x759f12781f2a753eULL, 0xcea1a3bebf186b91ULL,
	0x2cf508d3ada26206ULL, 0xb6101c2da3c33057ULL, 0xb3f47496ae3a36a1ULL,
	0x626b57547b108392ULL, 0xc1d2363299e41531ULL, 0x667cc1923f1ad944ULL,
	0x65704ffec8138825ULL, 0x24f280d1c28949a6ULL, 0xc2ca1cedfaf8876bULL,
	0xc2164bfc9f042196ULL, 0xa16e9c9368b1d623ULL, 0x49fb169c8b5114fdULL,
	0x9f3143f8df074c46ULL, 0xc6fdaf2412cc86b3ULL, 0x7eaf49d10a52098fULL,
	0x1cf313559d292f9aULL, 0xc44a30dda2f41f12ULL, 0x36fae98943a71ed0ULL,
	0x318fb34c73f0bce6ULL, 0xa27abf3670a7e980ULL, 0xb4bcc0db243c6d75ULL,
	0x23f8d852fdb71513ULL, 0x8f035f4da67d8a08ULL, 0xd89cd0e5b7e8f148ULL,
	0xf6f4e6bcf7a644eeULL, 0xaec59ad80f1837f2ULL, 0xc3b2f6154b6694e0ULL,
	0x9d199062b7bbb3a8ULL,
};

static const struct siplb_hash_key sip13_key = {
	.k0 = 0x0706050403020100ULL,
	.k1 = 0x0f0e0d0c0b0a0908ULL,
};

/* Hash len bytes of src from an exact-size heap copy (ASan sees over-reads). */
static __u64 sip13_copy(const void *src, __u32 len, const struct siplb_hash_key *k)
{
	__u8 *p = malloc(len ? len : 1);
	__u64 h;

	cr_assert(p);
	memcpy(p, src, len);
	h = siplb_hash_buf(p, len, k);
	free(p);
	return h;
}

static void sip13_fill(__u8 *p, __u32 n, __u32 seed)
{
	__u32 i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = seed >> 16;
	}
}

Test(siphash13, default_rounds_are_1_3)
{
	cr_expect(SIPLB_SIPHASH_C == 1 && SIPLB_SIPHASH_D == 3);
}

Test(siphash13, all_64_vectors)
{
	__u8 msg[64];
	__u32 n;

	for (n = 0; n < 64; n++)
		msg[n] = n;
	for (n = 0; n < 64; n++) {
		__u64 h = sip13_copy(msg, n, &sip13_key);

		cr_expect(h == sip13_vectors[n], "n=%u: got %016llx, want %016llx", n,
			  (unsigned long long)h, (unsigned long long)sip13_vectors[n]);
	}
}

Test(siphash13, same_input_same_output)
{
	static const char cid[] = "a84b4c76e66710@pc33.atlanta.example.com";
	__u64 a = siplb_hash_buf(cid, sizeof(cid) - 1, &sip13_key);
	__u64 b = sip13_copy(cid, sizeof(cid) - 1, &sip13_key);

	cr_expect(a == b);
	cr_expect(a == siplb_hash_buf(cid, sizeof(cid) - 1, &sip13_key));
}

/* Every one of the 128 key bits changes the hash, for short and long inputs. */
Test(siphash13, key_changes_output)
{
	static const __u32 lens[] = { 0, 3, 7, 8, 15, 39 };
	__u8 msg[40];
	__u32 b, l;

	sip13_fill(msg, sizeof(msg), 1);
	for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		__u64 base = siplb_hash_buf(msg, lens[l], &sip13_key);

		for (b = 0; b < 128; b++) {
			struct siplb_hash_key k = sip13_key;

			if (b < 64)
				k.k0 ^= 1ULL << b;
			else
				k.k1 ^= 1ULL << (b - 64);
			cr_expect(siplb_hash_buf(msg, lens[l], &k) != base,
				  "len %u: flipping key bit %u leaves the hash unchanged",
				  lens[l], b);
		}
	}
	/* Two unrelated keys. */
	{
		struct siplb_hash_key k2 = { 0x1111111111111111ULL, 0x2222222222222222ULL };

		cr_expect(siplb_hash_buf("call-1", 6, &sip13_key) !=
			  siplb_hash_buf("call-1", 6, &k2));
	}
}

/* Every message bit and the length change the hash. */
Test(siphash13, message_changes_output)
{
	__u8 msg[41];
	__u32 len, bit;

	sip13_fill(msg, sizeof(msg), 2);
	for (len = 1; len <= 40; len += 13) {
		__u64 base = siplb_hash_buf(msg, len, &sip13_key);

		for (bit = 0; bit < 8 * len; bit++) {
			msg[bit / 8] ^= 1u << (bit % 8);
			cr_expect(siplb_hash_buf(msg, len, &sip13_key) != base,
				  "len %u: bit %u does not change the hash", len, bit);
			msg[bit / 8] ^= 1u << (bit % 8);
		}
	}
	/* A trailing NUL is part of the message: the length is hashed. */
	cr_expect(siplb_hash_buf("abc\0", 3, &sip13_key) !=
		  siplb_hash_buf("abc\0", 4, &sip13_key));
	cr_expect(siplb_hash_buf("\0\0\0\0\0\0\0\0", 7, &sip13_key) !=
		  siplb_hash_buf("\0\0\0\0\0\0\0\0", 8, &sip13_key));
}

/*
 * The in-packet path: hashing len bytes at offset off of a window equals
 * hashing a copy of them. Lengths 0..7 take the byte-wise short path, 9..15
 * and up the overlapping 8-byte tail load; the window ends right after the
 * bytes so that any read past them would be outside it (and outside the heap
 * block, for ASan).
 */
Test(siphash13, window_offset_equals_copy)
{
	static const __u32 offs[] = { 0, 1, 2, 5, 7, 8, 13, 42, 54, 62, 255, 1000, 2047, 4095 };
	__u32 k, len;

	for (k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
		__u32 off = offs[k];

		for (len = 0; len <= 64; len++) {
			__u8 *frame = malloc(off + len ? off + len : 1);
			struct sip_win w = { frame, frame + off + len };
			__u64 in_place, copy;

			cr_assert(frame);
			sip13_fill(frame, off + len, off * 131 + len);
			in_place = siplb_hash(&w, off, len, sip13_key.k0, sip13_key.k1);
			copy = sip13_copy(frame + off, len, &sip13_key);
			cr_expect(in_place == copy, "off %u len %u: window %016llx, copy %016llx",
				  off, len, (unsigned long long)in_place,
				  (unsigned long long)copy);
			free(frame);
		}
	}
}

/* The vectors themselves, in place at payload-like offsets. */
Test(siphash13, vectors_in_place)
{
	static const __u32 offs[] = { 42, 46, 62, 297 };
	__u32 k, n, i;

	for (k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
		__u32 off = offs[k];
		__u8 *frame = malloc(off + 64);

		cr_assert(frame);
		memset(frame, 0xff, off);
		for (i = 0; i < 64; i++)
			frame[off + i] = i;
		for (n = 0; n < 64; n++) {
			struct sip_win w = { frame, frame + off + n };

			cr_expect(siplb_hash(&w, off, n, sip13_key.k0, sip13_key.k1) ==
				  sip13_vectors[n], "off %u n %u", off, n);
		}
		free(frame);
	}
}

/* Long keys, up to the window: in place equals copy. */
Test(siphash13, long_inputs)
{
	static const __u32 lens[] = { 100, 255, 256, 257, 1000, 1023, 2047, SIP_WINDOW };
	__u32 k;

	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		__u32 len = lens[k], off = 42;
		__u8 *frame = malloc(off + len);
		struct sip_win w = { frame, frame + off + len };

		cr_assert(frame);
		sip13_fill(frame, off + len, len);
		cr_expect(siplb_hash(&w, off, len, sip13_key.k0, sip13_key.k1) ==
			  sip13_copy(frame + off, len, &sip13_key), "len %u", len);
		free(frame);
	}
}

/* Bytes not inside the window are never read: the hash is 0 instead. */
Test(siphash13, refuses_bytes_outside_the_window)
{
	__u8 *frame = malloc(100);
	struct sip_win w = { frame, frame + 100 };
	__u32 len;

	cr_assert(frame);
	sip13_fill(frame, 100, 3);
	for (len = 1; len <= 40; len++)
		cr_expect(siplb_hash(&w, 100 - len + 1, len, 1, 2) == 0,
			  "len %u one byte past the end", len);
	cr_expect(siplb_hash(&w, 0, SIP_WINDOW + 1, 1, 2) == 0, "longer than the window");
	cr_expect(siplb_hash(&w, SIPLB_FRAME_MASK + 1, 4, 1, 2) == 0, "offset past the mask");
	free(frame);
}
