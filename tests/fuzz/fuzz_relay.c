// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_relay.c: libFuzzer target for what a hostile TCP/TLS client or backend
 * can feed siplbd's relay: stream framing (user/framing.c), the header walk
 * (user/siphdr.c) and every rewriting of user/relay.c, on exact-size buffers.
 *
 *   make fuzz-relay   (FUZZ_SECONDS as for the parser)
 *
 * Invariants on top of memory safety: a frame never claims more bytes than
 * were given, and every rewritten message fits the buffer it was written to.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "relay.h"

#define INV(cond)                                                              \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "invariant broken: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                           \
			abort();                                               \
		}                                                              \
	} while (0)

#define OUT_CAP 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct frame_limits lim = { 4096, 4096 };
	static struct flowtoken_key ftkey = { { 1, 2, 3 } };
	static const struct siplb_hash_key hkey = { 1, 2 };
	struct relay_ctx rc = { .ftkey = &ftkey, .hkey = &hkey, .udp_port = 5060 };
	struct relay_client cl = { .slot = 1, .gen = 2, .tls = true, .vip_port = 5061,
				   .peer_port = 40000 };
	const char *msg = (const char *)data;
	static char out[OUT_CAP];
	struct relay_dest dst;
	struct frame f;
	__u32 slot, gen;
	long n;

	strcpy(rc.udp_host, "198.18.0.1");
	strcpy(cl.vip_host, "198.18.2.10");
	strcpy(cl.peer_ip, "198.18.0.100");
	frame_next(msg, size, &lim, &f);
	INV(f.kind <= FRAME_ERROR);
	if (f.kind != FRAME_MESSAGE)
		return 0;
	INV(f.len <= size && f.hdr_len <= f.len && f.hdr_len + f.body_len == f.len);
	n = relay_client_request(&rc, &cl, msg, f.len, f.hdr_len, out, OUT_CAP);
	INV(n < 0 || n <= OUT_CAP);
	n = relay_backend_response(&rc, msg, f.len, f.hdr_len, out, OUT_CAP, &slot, &gen);
	INV(n < 0 || n <= OUT_CAP);
	relay_route_token(&rc, msg, f.hdr_len, &slot, &gen);
	n = relay_backend_request(&rc, &cl, msg, f.len, f.hdr_len, "198.18.0.11", 5060, out,
				  OUT_CAP);
	INV(n < 0 || n <= OUT_CAP);
	n = relay_client_response(&rc, &cl, msg, f.len, f.hdr_len, out, OUT_CAP, &dst);
	INV(n < 0 || (n <= OUT_CAP && strlen(dst.host) < sizeof(dst.host)));
	n = relay_reply(msg, f.hdr_len, 430, "Flow Failed", out, OUT_CAP);
	INV(n < 0 || n <= OUT_CAP);
	relay_via_dest(msg, f.hdr_len, &dst);
	return 0;
}
