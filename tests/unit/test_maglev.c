// SPDX-License-Identifier: GPL-2.0
/* test_maglev.c: evenness, disruption, weights, determinism and errors of the Maglev builder. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>

#include "siplb_hash.h"
#include "maglev.h"

/* Most backends any test builds a table for. */
#define T_MAX_BACKENDS 128
/* Bytes of a test backend name, "198.18.x.y:5060" and its terminator. */
#define T_NAME_LEN 24

static const struct siplb_hash_key t_seed = {
	.k0 = 0x0706050403020100ULL,
	.k1 = 0x0f0e0d0c0b0a0908ULL,
};

static char t_names[T_MAX_BACKENDS][T_NAME_LEN];
static __u32 t_table[MAGLEV_DEFAULT_SIZE];
static __u32 t_other[MAGLEV_DEFAULT_SIZE];

/* Backend i: id i, the given weight, named by a per-index address. */
static void t_backends(struct maglev_backend *b, __u32 n, __u32 weight)
{
	__u32 i;

	cr_assert_leq(n, T_MAX_BACKENDS);
	for (i = 0; i < n; i++) {
		snprintf(t_names[i], T_NAME_LEN, "198.18.%u.%u:5060",
			 1 + i / 200, 1 + i % 200);
		b[i] = (struct maglev_backend){
			.id = i,
			.weight = weight,
			.name = t_names[i],
			.name_len = strlen(t_names[i]),
		};
	}
}

/* Slots per id; every slot must hold an id below n. */
static void t_count(const __u32 *table, __u32 size, __u32 n, __u32 *count)
{
	__u32 i;

	memset(count, 0, n * sizeof(*count));
	for (i = 0; i < size; i++) {
		cr_assert_lt(table[i], n, "slot %u holds unknown id %u", i,
			     table[i]);
		count[table[i]]++;
	}
}

static __u32 t_diff(const __u32 *a, const __u32 *b, __u32 size)
{
	__u32 i, d = 0;

	for (i = 0; i < size; i++)
		d += a[i] != b[i];
	return d;
}

/* xorshift32: a fixed, repeatable shuffle. */
static __u32 t_rand(__u32 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Each backend's share of the slots within 5% (relative) of weight / sum. */
static void t_assert_shares(const struct maglev_backend *b, __u32 n)
{
	__u32 count[T_MAX_BACKENDS], i;
	double sum = 0, want;

	cr_assert_eq(maglev_build(b, n, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     0);
	for (i = 0; i < n; i++)
		sum += b[i].weight;
	t_count(t_table, MAGLEV_DEFAULT_SIZE, n, count);
	for (i = 0; i < n; i++) {
		want = MAGLEV_DEFAULT_SIZE * (b[i].weight / sum);
		if (!b[i].weight) {
			cr_assert_eq(count[i], 0, "weight 0 backend %u holds %u slots",
				     i, count[i]);
			continue;
		}
		cr_assert(count[i] >= 0.95 * want && count[i] <= 1.05 * want,
			  "backend %u weight %u: %u slots, want %.1f", i,
			  b[i].weight, count[i], want);
	}
}

Test(maglev, equal_weights_2_to_100_backends_most_loaded_within_5_percent_of_least)
{
	struct maglev_backend b[T_MAX_BACKENDS];
	__u32 count[T_MAX_BACKENDS], n, i, lo, hi;

	t_backends(b, 100, 1);
	for (n = 2; n <= 100; n++) {
		cr_assert_eq(maglev_build(b, n, t_table, MAGLEV_DEFAULT_SIZE,
					  &t_seed), 0);
		t_count(t_table, MAGLEV_DEFAULT_SIZE, n, count);
		lo = hi = count[0];
		for (i = 1; i < n; i++) {
			lo = count[i] < lo ? count[i] : lo;
			hi = count[i] > hi ? count[i] : hi;
		}
		cr_assert(lo > 0 && hi <= 1.05 * lo,
			  "n=%u: least %u slots, most %u", n, lo, hi);
	}
}

Test(maglev, removing_one_of_n_backends_changes_at_most_1_over_n_plus_1_percent)
{
	static const __u32 sizes[] = { 3, 10, 50, 100 };
	struct maglev_backend b[T_MAX_BACKENDS], less[T_MAX_BACKENDS];
	__u32 k, r, i, j, n, gone, d;
	double limit;

	t_backends(b, 100, 1);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		n = sizes[k];
		limit = MAGLEV_DEFAULT_SIZE * (1.0 / n + 0.01);
		cr_assert_eq(maglev_build(b, n, t_table, MAGLEV_DEFAULT_SIZE,
					  &t_seed), 0);
		/* Remove the first, a middle and the last of the list. */
		for (r = 0; r < 3; r++) {
			gone = r == 0 ? 0 : r == 1 ? n / 2 : n - 1;
			for (i = 0, j = 0; i < n; i++) {
				if (i != gone)
					less[j++] = b[i];
			}
			cr_assert_eq(maglev_build(less, n - 1, t_other,
						  MAGLEV_DEFAULT_SIZE, &t_seed), 0);
			d = t_diff(t_table, t_other, MAGLEV_DEFAULT_SIZE);
			cr_assert(d <= limit,
				  "n=%u, removing %u: %u slots changed, limit %.0f",
				  n, gone, d, limit);
		}
	}
}

Test(maglev, weights_1_2_3_4_get_slot_shares_within_5_percent_of_weight_over_sum)
{
	struct maglev_backend b[4];
	__u32 i;

	t_backends(b, 4, 0);
	for (i = 0; i < 4; i++)
		b[i].weight = i + 1;
	t_assert_shares(b, 4);
}

Test(maglev, mixed_weights_get_proportional_shares_and_weight_0_gets_no_slot)
{
	static const __u32 w[] = { 5, 1, 10, 0, 3, 7, 2, 20, 1, 0, 13 };
	struct maglev_backend b[11];
	__u32 i;

	t_backends(b, 11, 0);
	for (i = 0; i < 11; i++)
		b[i].weight = w[i];
	t_assert_shares(b, 11);
}

Test(maglev, weights_near_2_pow_32_keep_proportional_shares)
{
	static const __u32 w[] = { 4000000000u, 1000000000u, 2000000000u, 1u };
	struct maglev_backend b[4];
	__u32 count[4], i;

	t_backends(b, 4, 0);
	for (i = 0; i < 3; i++)
		b[i].weight = w[i];
	t_assert_shares(b, 3);
	/* A weight of 1 among 7e9: a share of 1.4e-10, so no slot. */
	b[3].weight = w[3];
	cr_assert_eq(maglev_build(b, 4, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     0);
	t_count(t_table, MAGLEV_DEFAULT_SIZE, 4, count);
	cr_assert_eq(count[3], 0);
}

Test(maglev, same_backend_set_in_any_order_gives_identical_table)
{
	struct maglev_backend b[50], shuf[50], tmp;
	__u32 s = 0x9e3779b9, round, i, j;

	t_backends(b, 50, 1);
	for (i = 0; i < 50; i++)
		b[i].weight = 1 + i % 4;
	cr_assert_eq(maglev_build(b, 50, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     0);
	memcpy(shuf, b, sizeof(b));
	for (round = 0; round < 5; round++) {
		for (i = 49; i > 0; i--) {
			j = t_rand(&s) % (i + 1);
			tmp = shuf[i];
			shuf[i] = shuf[j];
			shuf[j] = tmp;
		}
		cr_assert_eq(maglev_build(shuf, 50, t_other, MAGLEV_DEFAULT_SIZE,
					  &t_seed), 0);
		cr_assert_eq(t_diff(t_table, t_other, MAGLEV_DEFAULT_SIZE), 0,
			     "shuffle %u gave a different table", round);
	}
}

Test(maglev, same_inputs_give_identical_table_on_rebuild)
{
	struct maglev_backend b[10];

	t_backends(b, 10, 1);
	cr_assert_eq(maglev_build(b, 10, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     0);
	cr_assert_eq(maglev_build(b, 10, t_other, MAGLEV_DEFAULT_SIZE, &t_seed),
		     0);
	cr_assert_eq(t_diff(t_table, t_other, MAGLEV_DEFAULT_SIZE), 0);
}

Test(maglev, different_seed_gives_a_different_table)
{
	struct siplb_hash_key other = t_seed;
	struct maglev_backend b[10];
	__u32 d;

	other.k0 ^= 1;
	t_backends(b, 10, 1);
	cr_assert_eq(maglev_build(b, 10, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     0);
	cr_assert_eq(maglev_build(b, 10, t_other, MAGLEV_DEFAULT_SIZE, &other),
		     0);
	/* Independent tables of 10 backends agree on about 1 slot in 10. */
	d = t_diff(t_table, t_other, MAGLEV_DEFAULT_SIZE);
	cr_assert_gt(d, MAGLEV_DEFAULT_SIZE / 2, "only %u slots differ", d);
}

Test(maglev, single_backend_fills_every_slot)
{
	struct maglev_backend b[1];
	__u32 i;

	t_backends(b, 1, 3);
	b[0].id = 42;
	memset(t_table, 0xff, sizeof(t_table));
	cr_assert_eq(maglev_build(b, 1, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     0);
	for (i = 0; i < MAGLEV_DEFAULT_SIZE; i++)
		cr_assert_eq(t_table[i], 42, "slot %u", i);
}

Test(maglev, more_backends_than_slots_gives_each_slot_a_distinct_backend)
{
	struct maglev_backend b[10];
	__u32 count[10], i;

	t_backends(b, 10, 1);
	cr_assert_eq(maglev_build(b, 10, t_table, 7, &t_seed), 0);
	t_count(t_table, 7, 10, count);
	for (i = 0; i < 10; i++)
		cr_assert_leq(count[i], 1, "backend %u holds %u of 7 slots", i,
			      count[i]);
}

Test(maglev, smallest_prime_size_2_is_filled)
{
	struct maglev_backend b[2];
	__u32 count[2];

	t_backends(b, 2, 1);
	cr_assert_eq(maglev_build(b, 2, t_table, 2, &t_seed), 0);
	t_count(t_table, 2, 2, count);
	cr_assert(count[0] == 1 && count[1] == 1);
}

Test(maglev, non_prime_size_is_rejected_and_table_untouched)
{
	static const __u32 sizes[] = { 0, 1, 4, 9, 65535, 65536, 65541 };
	struct maglev_backend b[3];
	__u32 k, i;

	t_backends(b, 3, 1);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		memset(t_table, 0xab, sizeof(t_table));
		cr_assert_eq(maglev_build(b, 3, t_table, sizes[k], &t_seed),
			     -EINVAL, "size %u", sizes[k]);
		for (i = 0; i < MAGLEV_DEFAULT_SIZE; i++)
			cr_assert_eq(t_table[i], 0xabababab);
	}
}

Test(maglev, empty_backend_list_is_rejected)
{
	struct maglev_backend b[1];

	t_backends(b, 1, 1);
	cr_assert_eq(maglev_build(b, 0, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     -EINVAL);
	cr_assert_eq(maglev_build(NULL, 0, t_table, MAGLEV_DEFAULT_SIZE,
				  &t_seed), -EINVAL);
}

Test(maglev, all_weights_zero_is_rejected_and_table_untouched)
{
	struct maglev_backend b[5];
	__u32 i;

	t_backends(b, 5, 0);
	memset(t_table, 0xab, sizeof(t_table));
	cr_assert_eq(maglev_build(b, 5, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     -EINVAL);
	for (i = 0; i < MAGLEV_DEFAULT_SIZE; i++)
		cr_assert_eq(t_table[i], 0xabababab);
}

Test(maglev, duplicate_names_are_rejected_wherever_they_sit)
{
	struct maglev_backend b[20];

	t_backends(b, 20, 1);
	b[17].name = t_names[3];
	b[17].name_len = strlen(t_names[3]);
	cr_assert_eq(maglev_build(b, 20, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     -EINVAL);
	/* Same bytes at a different address are the same identity. */
	t_backends(b, 20, 1);
	memcpy(t_names[19], t_names[0], T_NAME_LEN);
	b[19].name_len = b[0].name_len;
	cr_assert_eq(maglev_build(b, 20, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     -EINVAL);
	/* A weight of 0 does not excuse a duplicate. */
	b[19].weight = 0;
	cr_assert_eq(maglev_build(b, 20, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     -EINVAL);
}

Test(maglev, name_that_is_a_prefix_of_another_is_a_distinct_backend)
{
	struct maglev_backend b[2] = {
		{ .id = 0, .weight = 1, .name = "10.0.0.1:5060", .name_len = 13 },
		{ .id = 1, .weight = 1, .name = "10.0.0.1:50601", .name_len = 14 },
	};
	__u32 count[2];

	cr_assert_eq(maglev_build(b, 2, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     0);
	t_count(t_table, MAGLEV_DEFAULT_SIZE, 2, count);
	cr_assert(count[0] > 0 && count[1] > 0);
}

Test(maglev, empty_missing_or_overlong_name_is_rejected)
{
	static char longname[MAGLEV_NAME_MAX + 1];
	struct maglev_backend b[2];

	t_backends(b, 2, 1);
	b[1].name_len = 0;
	cr_assert_eq(maglev_build(b, 2, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     -EINVAL);
	t_backends(b, 2, 1);
	b[1].name = NULL;
	cr_assert_eq(maglev_build(b, 2, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     -EINVAL);
	memset(longname, 'x', sizeof(longname));
	t_backends(b, 2, 1);
	b[1].name = longname;
	b[1].name_len = MAGLEV_NAME_MAX + 1;
	cr_assert_eq(maglev_build(b, 2, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     -EINVAL);
	b[1].name_len = MAGLEV_NAME_MAX;
	cr_assert_eq(maglev_build(b, 2, t_table, MAGLEV_DEFAULT_SIZE, &t_seed),
		     0);
}

Test(maglev, missing_table_or_seed_is_rejected)
{
	struct maglev_backend b[2];

	t_backends(b, 2, 1);
	cr_assert_eq(maglev_build(b, 2, NULL, MAGLEV_DEFAULT_SIZE, &t_seed),
		     -EINVAL);
	cr_assert_eq(maglev_build(b, 2, t_table, MAGLEV_DEFAULT_SIZE, NULL),
		     -EINVAL);
}

Test(maglev, prime_check_matches_known_primes_and_composites)
{
	cr_assert(!maglev_is_prime(0));
	cr_assert(!maglev_is_prime(1));
	cr_assert(maglev_is_prime(2));
	cr_assert(maglev_is_prime(3));
	cr_assert(!maglev_is_prime(4));
	cr_assert(!maglev_is_prime(25));
	cr_assert(maglev_is_prime(251));
	cr_assert(maglev_is_prime(MAGLEV_DEFAULT_SIZE));
	cr_assert(!maglev_is_prime(65535));
	cr_assert(!maglev_is_prime(65536));
	cr_assert(!maglev_is_prime(65537u * 65521u));	/* 4293918577 */
	cr_assert(maglev_is_prime(4294967291u));	/* largest below 2^32 */
	cr_assert(!maglev_is_prime(4294967295u));
}
