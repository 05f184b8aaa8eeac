/* maglev.h: the weighted Maglev lookup table (Eisenbud et al., NSDI 2016), built in userspace. */
#ifndef SIPLB_MAGLEV_H
#define SIPLB_MAGLEV_H

#include <stdbool.h>
#include <linux/types.h>

struct siplb_hash_key;

/* Slots per table: prime, and about 650 slots per backend at 100 backends. */
#define MAGLEV_DEFAULT_SIZE 65537
/* Longest backend name, in bytes: the most the keyed hash reads (SIP_WINDOW). */
#define MAGLEV_NAME_MAX 2048

/* One backend as the table builder sees it. */
struct maglev_backend {
	__u32 id;		/* index in the backends map: the value stored in the table */
	__u32 weight;		/* relative share of slots; 0 = not in the table */
	/*
	 * Stable identity bytes ("198.18.1.2:5060" or the configured name). The
	 * permutation comes from these, not from the position in the list, so
	 * the table does not depend on the order of the list.
	 */
	const void *name;
	__u32 name_len;		/* bytes at name, 1 to MAGLEV_NAME_MAX */
};

/* True when n is prime (0 and 1 are not). */
bool maglev_is_prime(__u32 n);

/*
 * Fill table[0..size) with backend ids. Each backend with a weight gets a share
 * of the slots proportional to its weight, and the same set of backends gives
 * the same table whatever their order in b[], for a given seed.
 *
 * Returns 0, or -EINVAL when size is not prime, n is 0, every weight is 0, or
 * a name is empty, too long or given twice, or -ENOMEM. On error the table is
 * left untouched: the caller decides whether to fail open or closed.
 */
int maglev_build(const struct maglev_backend *b, __u32 n, __u32 *table,
		 __u32 size, const struct siplb_hash_key *seed);

#endif /* SIPLB_MAGLEV_H */
