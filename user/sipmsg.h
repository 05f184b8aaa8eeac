/* sipmsg.h: the shared parser's findings on one message, as strings for people and JSON. */
#ifndef SIPLB_SIPMSG_H
#define SIPLB_SIPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "sip_parse.h"
#include "siplb_hash.h"

/* Largest message siplbctl reads: one UDP datagram. */
#define SIPMSG_MAX 65535

/* A byte range of the message; len 0 and set false when absent. */
struct sipmsg_str {
	const char *p;
	size_t len;
	bool set;
};

struct sipmsg_info {
	struct sip_msg msg;	/* what sip_scan() reported */
	struct sip_via via;
	struct sip_aor aor;
	struct sipmsg_str method;
	struct sipmsg_str call_id;
	struct sipmsg_str via_sent_by;
	struct sipmsg_str via_branch;
	struct sipmsg_str to_aor;
	bool to_tag;		/* the To value has a tag: a request is in-dialog */
	const char *path;	/* "xdp", "slow" or "drop" */
	const char *reason;	/* counter label, NULL on the fast path */
	bool valid;		/* a SIP request or response we can steer */
};

/* Run the shared parser over buf (a UDP payload). Never fails: see info->path. */
void sipmsg_parse(const void *buf, size_t len, struct sipmsg_info *info);

/* Name of a method (enum sip_method); NULL for none. */
const char *sipmsg_method_name(unsigned int method);

/* One JSON object with the fields of `siplbctl parse --json`. key may be NULL. */
struct json_object *sipmsg_to_json(const struct sipmsg_info *info,
				   const struct siplb_hash_key *key);

/* Parse "32 hex digits" into a hash key. Returns 0 or -EINVAL. */
int sipmsg_parse_key(const char *hex, struct siplb_hash_key *key);

#endif /* SIPLB_SIPMSG_H */
