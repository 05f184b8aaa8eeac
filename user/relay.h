/* relay.h: siplbd's stateless SIP relay between client streams (TCP, TLS) and backends (UDP). */
#ifndef SIPLB_RELAY_H
#define SIPLB_RELAY_H

/*
 * Pure message rewriting, no sockets: siplbd's connection code calls these.
 *
 * A request from a client connection goes to the backend with
 *   - our Via on top: "SIP/2.0/UDP <relay host:port>;branch=z9hG4bKslb<TOKEN>.<H>",
 *     TOKEN the connection's flow token, H a keyed hash of the client's top
 *     Via (sent-by and branch), so a retransmission, the CANCEL and the ACK of
 *     a failed INVITE get the same branch as the INVITE (RFC 3261 16.11);
 *   - received and rport (when asked for) on the client's Via (RFC 3581);
 *   - two Record-Route entries (RFC 5658) except on REGISTER: the top one
 *     names our relay address (the backend side), the second the VIP and the
 *     client's transport, with the flow token as user part; on a REGISTER
 *     that says Supported: path, the same pair as Path (RFC 3327);
 *   - Route entries that name us removed from the top;
 *   - Max-Forwards decremented (0: the caller answers 483).
 * A response from the backend has our Via on top: it comes off, and its
 * token names the connection to send the rest over.
 * A request from the backend side (an in-dialog request routed by the
 * Record-Route above) carries Route entries naming us: they come off, the
 * token names the connection; our Via goes on top (the client's transport,
 * the VIP), received goes on the backend's. The client's response to it
 * loses our Via and goes to the Via below.
 */

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "flowtoken.h"
#include "siplb_hash.h"

/* Every branch we write starts so; the magic cookie first (RFC 3261). */
#define RELAY_BRANCH "z9hG4bKslb"
/* Text of a host (IPv6 in brackets) or an IP address, with the terminator. */
#define RELAY_HOST_MAX 48

struct relay_ctx {
	const struct flowtoken_key *ftkey;
	const struct siplb_hash_key *hkey;
	char udp_host[RELAY_HOST_MAX];	/* our address towards backends; IPv6 in [] */
	__u16 udp_port;
};

/* The client connection a message came from or goes to. */
struct relay_client {
	__u32 slot, gen;		/* the connection's flow token */
	bool tls;			/* transport: TLS, else TCP */
	char vip_host[RELAY_HOST_MAX];	/* where the client connected; IPv6 in [] */
	__u16 vip_port;
	char peer_ip[RELAY_HOST_MAX];	/* the client's address, no brackets */
	__u16 peer_port;
};

/* Where a response goes: the next Via's received/rport, else its sent-by. */
struct relay_dest {
	char host[RELAY_HOST_MAX];	/* no brackets */
	__u16 port;
};

/*
 * Rewrite a request from client c (msg[0..len), headers hdr_len bytes) for
 * the backend into out[0..cap). Returns the length written, -ENOSPC when out
 * is too small, -EINVAL when it has no Via, -ELOOP when Max-Forwards is 0.
 */
long relay_client_request(const struct relay_ctx *rc, const struct relay_client *c,
			  const char *msg, size_t len, size_t hdr_len, char *out,
			  size_t cap);

/*
 * A response from a backend: when its top Via is ours, write the message
 * without it to out and the connection's token to slot and gen; returns the
 * length written, -ENOENT when the top Via is not ours, -EBADMSG when its
 * token does not verify, -ENOSPC.
 */
long relay_backend_response(const struct relay_ctx *rc, const char *msg, size_t len,
			    size_t hdr_len, char *out, size_t cap, __u32 *slot,
			    __u32 *gen);

/*
 * The connection a request from the backend side is for: the flow token of
 * the first Route entry that carries one, at the top of the route set after
 * entries naming our relay address. 0 with slot and gen; -ENOENT when there is
 * none; -EBADMSG when it does not verify (forged).
 */
int relay_route_token(const struct relay_ctx *rc, const char *msg, size_t hdr_len,
		      __u32 *slot, __u32 *gen);

/*
 * Rewrite a request from the backend side (received from src_ip:src_port)
 * for client connection c: our Routes off, our Via on, received on the
 * backend's. Returns the length, or -ENOSPC, -EINVAL, -ELOOP.
 */
long relay_backend_request(const struct relay_ctx *rc, const struct relay_client *c,
			   const char *msg, size_t len, size_t hdr_len,
			   const char *src_ip, __u16 src_port, char *out, size_t cap);

/*
 * A response from client c: drop our top Via (-ENOENT when it is not ours)
 * and tell where the next Via wants it. Returns the length or -ENOSPC,
 * -EINVAL (no Via below ours).
 */
long relay_client_response(const struct relay_ctx *rc, const struct relay_client *c,
			   const char *msg, size_t len, size_t hdr_len, char *out,
			   size_t cap, struct relay_dest *dst);

/* Where a response with this top Via goes (received/rport, else sent-by). 0 or -EINVAL. */
int relay_via_dest(const char *msg, size_t hdr_len, struct relay_dest *dst);

/*
 * A stateless response to request msg (RFC 3261 8.2.6): status and reason,
 * every Via, From, To (with a tag when it has none), Call-ID, CSeq, no body.
 * Returns the length or -ENOSPC, -EINVAL.
 */
long relay_reply(const char *msg, size_t hdr_len, int status, const char *reason,
		 char *out, size_t cap);

#endif /* SIPLB_RELAY_H */
