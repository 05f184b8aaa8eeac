// SPDX-License-Identifier: GPL-2.0
/* flowtoken.c: authenticated flow tokens (HMAC-SHA256 from OpenSSL; see flowtoken.h). */
#include <errno.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "flowtoken.h"

#define RAW_LEN (8 + FLOWTOKEN_MAC_LEN)

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

static int mac(const struct flowtoken_key *key, const __u8 *msg, __u8 *out)
{
	__u8 full[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!HMAC(EVP_sha256(), key->k, sizeof(key->k), msg, 8, full, &n) ||
	    n < FLOWTOKEN_MAC_LEN)
		return -EIO;
	memcpy(out, full, FLOWTOKEN_MAC_LEN);
	return 0;
}

static void put32(__u8 *p, __u32 v)
{
	p[0] = (__u8)(v >> 24);
	p[1] = (__u8)(v >> 16);
	p[2] = (__u8)(v >> 8);
	p[3] = (__u8)v;
}

static __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

int flowtoken_make(const struct flowtoken_key *key, __u32 slot, __u32 gen, char *out)
{
	__u8 raw[RAW_LEN];
	int i, o = 0;

	put32(raw, slot);
	put32(raw + 4, gen);
	if (mac(key, raw, raw + 8))
		return -EIO;
	/* 18 bytes are 6 groups of 3: 24 characters, no padding */
	for (i = 0; i < RAW_LEN; i += 3) {
		__u32 v = (__u32)raw[i] << 16 | (__u32)raw[i + 1] << 8 | raw[i + 2];

		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	out[o] = 0;
	return 0;
}

int flowtoken_parse(const struct flowtoken_key *key, const char *s, size_t len,
		    __u32 *slot, __u32 *gen)
{
	__u8 raw[RAW_LEN], want[FLOWTOKEN_MAC_LEN];
	int i, o = 0;

	if (len != FLOWTOKEN_LEN)
		return -EINVAL;
	for (i = 0; i < FLOWTOKEN_LEN; i += 4) {
		int a = b64val(s[i]), b = b64val(s[i + 1]), c = b64val(s[i + 2]),
		    d = b64val(s[i + 3]);
		__u32 v;

		if (a < 0 || b < 0 || c < 0 || d < 0)
			return -EINVAL;
		v = (__u32)a << 18 | (__u32)b << 12 | (__u32)c << 6 | (__u32)d;
		raw[o++] = (__u8)(v >> 16);
		raw[o++] = (__u8)(v >> 8);
		raw[o++] = (__u8)v;
	}
	if (mac(key, raw, want))
		return -EIO;
	if (CRYPTO_memcmp(want, raw + 8, FLOWTOKEN_MAC_LEN))
		return -EBADMSG;
	*slot = get32(raw);
	*gen = get32(raw + 4);
	return 0;
}

int flowtoken_key_parse(const char *hex, struct flowtoken_key *key)
{
	size_t i;

	if (!hex || strlen(hex) != 2 * FLOWTOKEN_KEY_LEN)
		return -EINVAL;
	for (i = 0; i < 2 * FLOWTOKEN_KEY_LEN; i++) {
		char c = hex[i];
		int v = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (v < 0)
			return -EINVAL;
		if (i % 2 == 0)
			key->k[i / 2] = (__u8)(v << 4);
		else
			key->k[i / 2] |= (__u8)v;
	}
	return 0;
}
