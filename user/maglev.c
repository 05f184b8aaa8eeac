// SPDX-License-Identifier: GPL-2.0
/* maglev.c: the weighted Maglev table builder (population loop of the NSDI 2016 paper). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "siplb_hash.h"
#include "maglev.h"

_Static_assert(MAGLEV_NAME_MAX <= SIP_WINDOW,
	       "siplb_hash_buf() returns 0 for longer buffers");

/* XORed into the seed's k0: two keys, so offset and skip are independent hashes. */
#define MAGLEV_OFFSET_TWEAK 0x6d61676c65766f66ULL	/* "maglevof" */
#define MAGLEV_SKIP_TWEAK 0x6d61676c65767370ULL		/* "maglevsp" */

/* One backend while the table is filled. */
struct maglev_state {
	const struct maglev_backend *b;	/* the caller's entry */
	__u64 turn;	/* round of its next claim: ceil((taken + 1) * max weight / weight) */
	__u32 next;	/* next slot of its permutation, (offset + j * skip) % size */
	__u32 skip;	/* permutation step, 1 to size - 1: visits every slot once */
	__u32 taken;	/* slots it holds so far */
};

bool maglev_is_prime(__u32 n)
{
	__u32 d;

	if (n < 2)
		return false;
	if (n % 2 == 0)
		return n == 2;
	for (d = 3; d <= n / d; d += 2) {
		if (n % d == 0)
			return false;
	}
	return true;
}

/* Identity order: bytes, then length. The order of the table's population. */
static int maglev_cmp_name(const void *pa, const void *pb)
{
	const struct maglev_backend *a = ((const struct maglev_state *)pa)->b;
	const struct maglev_backend *b = ((const struct maglev_state *)pb)->b;
	__u32 len = a->name_len < b->name_len ? a->name_len : b->name_len;
	int r = memcmp(a->name, b->name, len);

	if (r)
		return r;
	return (a->name_len > b->name_len) - (a->name_len < b->name_len);
}

/* Whether backend a claims before b: earlier round, then identity order. */
static inline bool maglev_before(const struct maglev_state *st, __u32 a,
				 __u32 b)
{
	if (st[a].turn != st[b].turn)
		return st[a].turn < st[b].turn;
	return a < b;
}

/* Restore the min-heap of state indices below position i. */
static void maglev_sift_down(const struct maglev_state *st, __u32 *heap,
			     size_t len, size_t i)
{
	__u32 v = heap[i];
	size_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= len)
			break;
		if (c + 1 < len && maglev_before(st, heap[c + 1], heap[c]))
			c++;
		if (!maglev_before(st, heap[c], v))
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = v;
}

/* The slot after pos in a permutation with this skip, without overflowing. */
static inline __u32 maglev_step(__u32 pos, __u32 skip, __u32 size)
{
	return pos < size - skip ? pos + skip : pos - (size - skip);
}

/*
 * Weighted population: backend i claims its k-th slot in round
 * ceil(k * max_weight / weight_i) (a credit of weight_i per round, one slot
 * per max_weight of credit), backends within a round in identity order. A
 * heap keyed on (round, identity) yields the claims in that order in
 * O(size log n), whatever the spread of the weights. A claim takes the
 * backend's next free slot in its permutation, as in the paper.
 */
int maglev_build(const struct maglev_backend *b, __u32 n, __u32 *table,
		 __u32 size, const struct siplb_hash_key *seed)
{
	struct siplb_hash_key koff, kskip;
	struct maglev_state *st = NULL, *s;
	__u32 *heap = NULL, i, live, pos, filled;
	__u8 *used = NULL;
	__u32 max_w = 0;
	int err;

	if (!b || !n || !table || !seed || !maglev_is_prime(size))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!b[i].name || !b[i].name_len ||
		    b[i].name_len > MAGLEV_NAME_MAX)
			return -EINVAL;
		if (b[i].weight > max_w)
			max_w = b[i].weight;
	}
	if (!max_w)
		return -EINVAL;

	st = calloc(n, sizeof(*st));
	heap = calloc(n, sizeof(*heap));
	used = calloc(size, sizeof(*used));
	if (!st || !heap || !used) {
		err = -ENOMEM;
		goto out;
	}

	for (i = 0; i < n; i++)
		st[i].b = &b[i];
	qsort(st, n, sizeof(*st), maglev_cmp_name);
	for (i = 1; i < n; i++) {
		if (!maglev_cmp_name(&st[i - 1], &st[i])) {
			err = -EINVAL;
			goto out;
		}
	}

	koff = *seed;
	koff.k0 ^= MAGLEV_OFFSET_TWEAK;
	kskip = *seed;
	kskip.k0 ^= MAGLEV_SKIP_TWEAK;
	live = 0;
	for (i = 0; i < n; i++) {
		const struct maglev_backend *be = st[i].b;

		if (!be->weight)
			continue;
		s = &st[live];
		s->b = be;
		s->next = siplb_hash_buf(be->name, be->name_len, &koff) % size;
		s->skip = siplb_hash_buf(be->name, be->name_len, &kskip) %
				  (size - 1) + 1;
		s->taken = 0;
		s->turn = ((__u64)max_w + be->weight - 1) / be->weight;
		heap[live] = live;
		live++;
	}
	for (i = live / 2; i-- > 0;)
		maglev_sift_down(st, heap, live, i);

	filled = 0;
	for (;;) {
		s = &st[heap[0]];
		pos = s->next;
		while (used[pos])
			pos = maglev_step(pos, s->skip, size);
		used[pos] = 1;
		table[pos] = s->b->id;
		s->next = maglev_step(pos, s->skip, size);
		s->taken++;
		if (++filled == size)
			break;
		/* (taken + 1) * max_w + weight - 1 < 2^64: both factors < 2^32. */
		s->turn = ((__u64)(s->taken + 1) * max_w + s->b->weight - 1) /
			  s->b->weight;
		maglev_sift_down(st, heap, live, 0);
	}
	err = 0;
out:
	free(used);
	free(heap);
	free(st);
	return err;
}
