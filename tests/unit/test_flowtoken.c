// SPDX-License-Identifier: GPL-2.0
/* test_flowtoken.c: flow tokens (flowtoken.c): round trip, forged and tampered tokens, another key. */
#include <errno.h>
#include <string.h>
#include <criterion/criterion.h>

#include "flowtoken.h"

static struct flowtoken_key t_key(char fill)
{
	struct flowtoken_key k;

	memset(k.k, fill, sizeof(k.k));
	return k;
}

Test(flowtoken, round_trip_keeps_slot_and_generation)
{
	struct flowtoken_key k = t_key(7);
	char tok[FLOWTOKEN_LEN + 1];
	__u32 s, g;
	size_t i;

	cr_assert_eq(flowtoken_make(&k, 12345, 0xfffffffe, tok), 0);
	cr_assert_eq(strlen(tok), FLOWTOKEN_LEN);
	for (i = 0; i < FLOWTOKEN_LEN; i++)
		cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
				 tok[i]), "URI-safe alphabet: %s", tok);
	cr_assert_eq(flowtoken_parse(&k, tok, strlen(tok), &s, &g), 0);
	cr_assert_eq(s, 12345);
	cr_assert_eq(g, 0xfffffffe);
}

Test(flowtoken, every_single_character_change_is_refused)
{
	struct flowtoken_key k = t_key(1);
	char tok[FLOWTOKEN_LEN + 1], bad[FLOWTOKEN_LEN + 1];
	__u32 s, g;
	size_t i;

	cr_assert_eq(flowtoken_make(&k, 3, 9, tok), 0);
	for (i = 0; i < FLOWTOKEN_LEN; i++) {
		memcpy(bad, tok, sizeof(bad));
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		cr_assert_eq(flowtoken_parse(&k, bad, FLOWTOKEN_LEN, &s, &g), -EBADMSG,
			     "changed at %zu", i);
	}
}

Test(flowtoken, token_made_under_another_key_is_refused)
{
	struct flowtoken_key k = t_key(1), other = t_key(2);
	char tok[FLOWTOKEN_LEN + 1];
	__u32 s, g;

	cr_assert_eq(flowtoken_make(&other, 3, 9, tok), 0);
	cr_assert_eq(flowtoken_parse(&k, tok, FLOWTOKEN_LEN, &s, &g), -EBADMSG);
}

Test(flowtoken, wrong_length_or_alphabet_is_no_token)
{
	struct flowtoken_key k = t_key(1);
	char tok[FLOWTOKEN_LEN + 1];
	__u32 s, g;

	cr_assert_eq(flowtoken_make(&k, 3, 9, tok), 0);
	cr_assert_eq(flowtoken_parse(&k, tok, FLOWTOKEN_LEN - 1, &s, &g), -EINVAL);
	tok[5] = '.';
	cr_assert_eq(flowtoken_parse(&k, tok, FLOWTOKEN_LEN, &s, &g), -EINVAL);
	cr_assert_eq(flowtoken_parse(&k, "", 0, &s, &g), -EINVAL);
}

Test(flowtoken, generations_make_different_tokens_for_one_slot)
{
	struct flowtoken_key k = t_key(1);
	char a[FLOWTOKEN_LEN + 1], b[FLOWTOKEN_LEN + 1];

	cr_assert_eq(flowtoken_make(&k, 3, 9, a), 0);
	cr_assert_eq(flowtoken_make(&k, 3, 10, b), 0);
	cr_assert_str_neq(a, b);
}

Test(flowtoken, key_is_64_hex_digits)
{
	struct flowtoken_key k;

	cr_assert_eq(flowtoken_key_parse("000102030405060708090a0b0c0d0e0f"
					 "101112131415161718191A1B1C1D1E1F", &k), 0);
	cr_assert_eq(k.k[0], 0);
	cr_assert_eq(k.k[31], 0x1f);
	cr_assert_eq(flowtoken_key_parse("0001", &k), -EINVAL);
	cr_assert_eq(flowtoken_key_parse("g00102030405060708090a0b0c0d0e0f"
					 "101112131415161718191A1B1C1D1E1F", &k), -EINVAL);
}
