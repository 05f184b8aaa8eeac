/* flowtoken.h: authenticated flow tokens naming a client connection (RFC 5626 style). */
#ifndef SIPLB_FLOWTOKEN_H
#define SIPLB_FLOWTOKEN_H

/*
 * A flow token names one client connection of siplbd: its slot in the
 * connection table and the slot's generation (a counter that changes every
 * time the slot is given to a new connection, so the token of a closed
 * connection never names its successor). The 8 bytes are followed by the
 * first FLOWTOKEN_MAC_LEN bytes of HMAC-SHA256 over them under the key from
 * the configuration (tls.flow_token_key), and the 18 bytes are written as 24
 * characters of unpadded base64url: letters, digits, '-' and '_', all
 * unreserved in a SIP URI user part and in a Via branch.
 */

#include <stddef.h>
#include <linux/types.h>

#define FLOWTOKEN_KEY_LEN 32	/* bytes of the HMAC key */
#define FLOWTOKEN_MAC_LEN 10	/* bytes of HMAC-SHA256 kept: 80 bits */
#define FLOWTOKEN_LEN 24	/* characters of a token */

struct flowtoken_key {
	__u8 k[FLOWTOKEN_KEY_LEN];
};

/* Write the token of (slot, gen) to out[FLOWTOKEN_LEN + 1], NUL-terminated. 0 or -EIO. */
int flowtoken_make(const struct flowtoken_key *key, __u32 slot, __u32 gen, char *out);

/*
 * Read a token: 0 with slot and gen set; -EINVAL when s[0..len) is no token
 * at all (length, alphabet); -EBADMSG when its MAC is wrong (forged, or made
 * under another key). The comparison takes the same time wherever it differs.
 */
int flowtoken_parse(const struct flowtoken_key *key, const char *s, size_t len,
		    __u32 *slot, __u32 *gen);

/* Parse 64 hex digits into a key. 0 or -EINVAL. */
int flowtoken_key_parse(const char *hex, struct flowtoken_key *key);

#endif /* SIPLB_FLOWTOKEN_H */
