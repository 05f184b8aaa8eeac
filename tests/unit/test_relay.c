// SPDX-License-Identifier: GPL-2.0
/* test_relay.c: the TCP/TLS relay's header rewriting (relay.c): Via, received/rport, double Record-Route, flow tokens. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>

#include "framing.h"
#include "relay.h"
#include "sip_parse.h"
#include "siphdr.h"

#define T_OUT 4096

static struct flowtoken_key t_ftkey;
static struct siplb_hash_key t_hkey;
static struct relay_ctx t_rc;
static struct relay_client t_cl;
static char t_out[T_OUT], t_out2[T_OUT];

static void t_setup(void)
{
	memset(&t_ftkey, 0x5a, sizeof(t_ftkey));
	memset(&t_hkey, 0x11, sizeof(t_hkey));
	t_rc = (struct relay_ctx){ .ftkey = &t_ftkey, .hkey = &t_hkey, .udp_port = 5060 };
	strcpy(t_rc.udp_host, "198.18.0.1");
	t_cl = (struct relay_client){ .slot = 42, .gen = 7, .tls = true, .vip_port = 5061,
				      .peer_port = 40001 };
	strcpy(t_cl.vip_host, "198.18.2.10");
	strcpy(t_cl.peer_ip, "198.18.0.100");
}

TestSuite(relay, .init = t_setup);

#define T_INVITE                                                               \
	"INVITE sip:bob@example.com SIP/2.0\r\n"                                \
	"Via: SIP/2.0/TLS client.invalid;branch=z9hG4bK776asdhds;rport\r\n"     \
	"Max-Forwards: 70\r\n"                                                  \
	"To: Bob <sip:bob@example.com>\r\n"                                     \
	"From: Alice <sip:alice@example.com>;tag=1928301774\r\n"                \
	"Call-ID: a84b4c76e66710@pc33\r\n"                                      \
	"CSeq: 314159 INVITE\r\n"                                               \
	"Contact: <sip:alice@client.invalid;transport=tls>\r\n"                 \
	"Content-Length: 4\r\n"                                                 \
	"\r\n"                                                                  \
	"v=0\n"

static size_t t_hdr_len(const char *m, size_t len)
{
	static const struct frame_limits lim = { 8192, 8192 };
	struct frame f;

	cr_assert_eq(frame_next(m, len, &lim, &f), FRAME_MESSAGE, "%.*s", (int)len, m);
	return f.hdr_len;
}

/* Value of the n-th header named so (0 first), NUL-terminated into one of 4 static buffers. */
static const char *t_hdr(const char *m, size_t len, const char *name, char c, int n)
{
	static char bufs[4][1024];
	static unsigned int next;
	char *v = bufs[next++ % 4];
	struct sip_hline h;
	size_t pos = 0, hl = t_hdr_len(m, len);

	while (sip_hline_find(m, hl, &pos, name, c, &h))
		if (n-- == 0) {
			snprintf(v, sizeof(bufs[0]), "%.*s", (int)h.val_len, m + h.val_off);
			return v;
		}
	return NULL;
}

static long t_client_request(const char *m)
{
	size_t len = strlen(m);

	return relay_client_request(&t_rc, &t_cl, m, len, t_hdr_len(m, len), t_out, T_OUT);
}

Test(relay, client_invite_gets_our_via_received_rport_and_double_record_route)
{
	long n = t_client_request(T_INVITE);
	char tok[FLOWTOKEN_LEN + 1], want[256];
	const char *v;

	cr_assert_gt(n, 0);
	cr_assert_eq(flowtoken_make(&t_ftkey, 42, 7, tok), 0);
	v = t_hdr(t_out, (size_t)n, "Via", 'v', 0);
	snprintf(want, sizeof(want), "SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bKslb%s.", tok);
	cr_assert_eq(strncmp(v, want, strlen(want)), 0, "top Via: %s", v);
	cr_assert_str_eq(t_hdr(t_out, (size_t)n, "Via", 'v', 1),
			 "SIP/2.0/TLS client.invalid;branch=z9hG4bK776asdhds;rport=40001"
			 ";received=198.18.0.100");
	cr_assert_str_eq(t_hdr(t_out, (size_t)n, "Record-Route", 0, 0), "<sip:198.18.0.1:5060;lr>");
	snprintf(want, sizeof(want), "<sip:%s@198.18.2.10:5061;transport=tls;lr>", tok);
	cr_assert_str_eq(t_hdr(t_out, (size_t)n, "Record-Route", 0, 1), want);
	cr_assert_str_eq(t_hdr(t_out, (size_t)n, "Max-Forwards", 0, 0), "69");
	cr_assert_eq(memcmp(t_out + n - 4, "v=0\n", 4), 0, "body unchanged");
	cr_assert_str_eq(t_hdr(t_out, (size_t)n, "Content-Length", 'l', 0), "4");
}

Test(relay, relayed_request_still_parses_with_the_xdp_parser_and_keeps_its_call_id)
{
	long n = t_client_request(T_INVITE);
	struct sip_win w = { (const __u8 *)t_out, (const __u8 *)t_out + n };
	struct sip_msg m;

	cr_assert_gt(n, 0);
	sip_scan(&w, 0, &m);
	cr_assert_eq(m.verdict, SIP_VERDICT_FAST);
	cr_assert_eq(strncmp(t_out + m.callid_off, "a84b4c76e66710@pc33", m.callid_len), 0);
}

Test(relay, retransmission_and_cancel_get_the_same_branch)
{
	char c[1024], b1[1024], b2[1024];
	long n;

	n = t_client_request(T_INVITE);
	snprintf(b1, sizeof(b1), "%s", t_hdr(t_out, (size_t)n, "Via", 'v', 0));
	snprintf(c, sizeof(c),
		 "CANCEL sip:bob@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS client.invalid;branch=z9hG4bK776asdhds;rport\r\n"
		 "Call-ID: a84b4c76e66710@pc33\r\nCSeq: 314159 CANCEL\r\nContent-Length: 0\r\n\r\n");
	n = t_client_request(c);
	snprintf(b2, sizeof(b2), "%s", t_hdr(t_out, (size_t)n, "Via", 'v', 0));
	cr_assert_str_eq(b1, b2);
	/* another client transaction gets another branch */
	snprintf(c, sizeof(c),
		 "BYE sip:bob@example.com SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS client.invalid;branch=z9hG4bKother\r\n"
		 "Call-ID: a84b4c76e66710@pc33\r\nCSeq: 314160 BYE\r\nContent-Length: 0\r\n\r\n");
	n = t_client_request(c);
	cr_assert_str_neq(b1, t_hdr(t_out, (size_t)n, "Via", 'v', 0));
}

Test(relay, backend_response_loses_our_via_and_names_the_connection)
{
	long n = t_client_request(T_INVITE), r;
	char resp[3 * T_OUT];
	__u32 slot = 0, gen = 0;

	cr_assert_gt(n, 0);
	/* the backend answers with the Vias of the request it got */
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 200 OK\r\nVia: %s\r\nVia: %s\r\nCall-ID: a84b4c76e66710@pc33\r\n"
		 "Record-Route: <sip:198.18.2.10;lr>\r\nContent-Length: 0\r\n\r\n",
		 t_hdr(t_out, (size_t)n, "Via", 'v', 0), t_hdr(t_out, (size_t)n, "Via", 'v', 1));
	r = relay_backend_response(&t_rc, resp, strlen(resp), t_hdr_len(resp, strlen(resp)),
				   t_out2, T_OUT, &slot, &gen);
	cr_assert_gt(r, 0);
	cr_assert_eq(slot, 42);
	cr_assert_eq(gen, 7);
	cr_assert_str_eq(t_hdr(t_out2, (size_t)r, "Via", 'v', 0),
			 "SIP/2.0/TLS client.invalid;branch=z9hG4bK776asdhds;rport=40001"
			 ";received=198.18.0.100");
	cr_assert_null(t_hdr(t_out2, (size_t)r, "Via", 'v', 1));
}

Test(relay, our_via_in_a_comma_list_comes_off_alone)
{
	char tok[FLOWTOKEN_LEN + 1], resp[1024];
	__u32 s, g;
	long r;

	flowtoken_make(&t_ftkey, 1, 2, tok);
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bKslb%s.0"
		 ", SIP/2.0/TCP c;branch=z9hG4bKc\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n", tok);
	r = relay_backend_response(&t_rc, resp, strlen(resp), t_hdr_len(resp, strlen(resp)),
				   t_out2, T_OUT, &s, &g);
	cr_assert_gt(r, 0);
	cr_assert_str_eq(t_hdr(t_out2, (size_t)r, "Via", 'v', 0), "SIP/2.0/TCP c;branch=z9hG4bKc");
}

Test(relay, response_with_a_forged_or_foreign_via_is_refused)
{
	char resp[1024], tok[FLOWTOKEN_LEN + 1];
	struct flowtoken_key other;
	__u32 s, g;
	long r;

	memset(&other, 1, sizeof(other));
	flowtoken_make(&other, 42, 7, tok);
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bKslb%s.0\r\n"
		 "Call-ID: x\r\nContent-Length: 0\r\n\r\n", tok);
	r = relay_backend_response(&t_rc, resp, strlen(resp), t_hdr_len(resp, strlen(resp)),
				   t_out2, T_OUT, &s, &g);
	cr_assert_eq(r, -EBADMSG, "a token under another key is forged");
	snprintf(resp, sizeof(resp),
		 "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.9:5060;branch=z9hG4bKslb%s.0\r\n"
		 "Call-ID: x\r\nContent-Length: 0\r\n\r\n", tok);
	r = relay_backend_response(&t_rc, resp, strlen(resp), t_hdr_len(resp, strlen(resp)),
				   t_out2, T_OUT, &s, &g);
	cr_assert_eq(r, -ENOENT, "another host's Via is not ours");
}

/* The callee's BYE as the backend forwards it to us along the record-route. */
static void t_backend_bye(char *buf, size_t cap, const char *tok)
{
	snprintf(buf, cap,
		 "BYE sip:alice@client.invalid;transport=tls SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 198.18.2.10:5060;branch=z9hG4bKkam1\r\n"
		 "Via: SIP/2.0/UDP 198.18.0.200:5060;branch=z9hG4bKcallee;rport=5060\r\n"
		 "Route: <sip:198.18.0.1:5060;lr>,<sip:%s@198.18.2.10:5061;transport=tls;lr>\r\n"
		 "Route: <sip:elsewhere.invalid;lr>\r\n"
		 "Max-Forwards: 69\r\n"
		 "From: Bob <sip:bob@example.com>;tag=b1\r\n"
		 "To: Alice <sip:alice@example.com>;tag=1928301774\r\n"
		 "Call-ID: a84b4c76e66710@pc33\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n", tok);
}

Test(relay, backend_side_bye_finds_the_connection_and_loses_our_routes)
{
	char tok[FLOWTOKEN_LEN + 1], bye[2048], want[128];
	size_t hl;
	__u32 s = 0, g = 0;
	long n;

	flowtoken_make(&t_ftkey, 42, 7, tok);
	t_backend_bye(bye, sizeof(bye), tok);
	hl = t_hdr_len(bye, strlen(bye));
	cr_assert_eq(relay_route_token(&t_rc, bye, hl, &s, &g), 0);
	cr_assert_eq(s, 42);
	cr_assert_eq(g, 7);
	n = relay_backend_request(&t_rc, &t_cl, bye, strlen(bye), hl, "198.18.0.11", 5060,
				  t_out, T_OUT);
	cr_assert_gt(n, 0);
	snprintf(want, sizeof(want), "SIP/2.0/TLS 198.18.2.10:5061;branch=z9hG4bKslbx");
	cr_assert_eq(strncmp(t_hdr(t_out, (size_t)n, "Via", 'v', 0), want, strlen(want)), 0);
	cr_assert_str_eq(t_hdr(t_out, (size_t)n, "Via", 'v', 1),
			 "SIP/2.0/UDP 198.18.2.10:5060;branch=z9hG4bKkam1;received=198.18.0.11");
	cr_assert_str_eq(t_hdr(t_out, (size_t)n, "Route", 0, 0), "<sip:elsewhere.invalid;lr>");
	cr_assert_null(t_hdr(t_out, (size_t)n, "Route", 0, 1));
	cr_assert_str_eq(t_hdr(t_out, (size_t)n, "Max-Forwards", 0, 0), "68");
}

Test(relay, client_response_to_a_backend_request_goes_to_the_next_via)
{
	char tok[FLOWTOKEN_LEN + 1], bye[2048], resp[4096];
	struct relay_dest d;
	long n, r;

	flowtoken_make(&t_ftkey, 42, 7, tok);
	t_backend_bye(bye, sizeof(bye), tok);
	n = relay_backend_request(&t_rc, &t_cl, bye, strlen(bye), t_hdr_len(bye, strlen(bye)),
				  "198.18.0.11", 5060, t_out, T_OUT);
	cr_assert_gt(n, 0);
	snprintf(resp, sizeof(resp), "SIP/2.0 200 OK\r\nVia: %s\r\nVia: %s\r\nv: %s\r\n"
		 "Call-ID: a84b4c76e66710@pc33\r\nContent-Length: 0\r\n\r\n",
		 t_hdr(t_out, (size_t)n, "Via", 'v', 0), t_hdr(t_out, (size_t)n, "Via", 'v', 1),
		 t_hdr(t_out, (size_t)n, "Via", 'v', 2));
	r = relay_client_response(&t_rc, &t_cl, resp, strlen(resp),
				  t_hdr_len(resp, strlen(resp)), t_out2, T_OUT, &d);
	cr_assert_gt(r, 0);
	cr_assert_str_eq(d.host, "198.18.0.11", "received wins over sent-by");
	cr_assert_eq(d.port, 5060);
	cr_assert_str_eq(t_hdr(t_out2, (size_t)r, "Via", 'v', 0),
			 "SIP/2.0/UDP 198.18.2.10:5060;branch=z9hG4bKkam1;received=198.18.0.11");
	/* a response whose top Via is not ours is refused */
	r = relay_client_response(&t_rc, &t_cl, t_out2, (size_t)r,
				  t_hdr_len(t_out2, (size_t)r), t_out, T_OUT, &d);
	cr_assert_eq(r, -ENOENT);
}

Test(relay, forged_route_token_is_refused_and_foreign_route_has_none)
{
	char tok[FLOWTOKEN_LEN + 1], bye[2048];
	__u32 s, g;

	memcpy(tok, "AAAAAAAAAAAAAAAAAAAAAAAA", sizeof(tok));
	t_backend_bye(bye, sizeof(bye), tok);
	cr_assert_eq(relay_route_token(&t_rc, bye, t_hdr_len(bye, strlen(bye)), &s, &g),
		     -EBADMSG);
	cr_assert_eq(relay_backend_request(&t_rc, &t_cl, bye, strlen(bye),
					   t_hdr_len(bye, strlen(bye)), "198.18.0.11", 5060,
					   t_out, T_OUT), -EBADMSG);
	snprintf(bye, sizeof(bye), "BYE sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKa\r\n"
		 "Route: <sip:other.invalid;lr>\r\nContent-Length: 0\r\n\r\n");
	cr_assert_eq(relay_route_token(&t_rc, bye, t_hdr_len(bye, strlen(bye)), &s, &g),
		     -ENOENT);
}

Test(relay, client_in_dialog_request_drops_our_routes_keeps_the_backends)
{
	char tok[FLOWTOKEN_LEN + 1], bye[2048];
	long n;

	flowtoken_make(&t_ftkey, 42, 7, tok);
	snprintf(bye, sizeof(bye),
		 "BYE sip:bob@198.18.0.200 SIP/2.0\r\n"
		 "Via: SIP/2.0/TLS client.invalid;branch=z9hG4bKbye\r\n"
		 "Route: <sip:%s@198.18.2.10:5061;transport=tls;lr>\r\n"
		 "Route: <sip:198.18.0.1:5060;lr>, <sip:198.18.2.10;lr>\r\n"
		 "Call-ID: a84b4c76e66710@pc33\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n", tok);
	n = t_client_request(bye);
	cr_assert_gt(n, 0);
	cr_assert_str_eq(t_hdr(t_out, (size_t)n, "Route", 0, 0), "<sip:198.18.2.10;lr>");
	cr_assert_null(t_hdr(t_out, (size_t)n, "Route", 0, 1));
}

Test(relay, max_forwards_zero_is_a_loop)
{
	const char *m = "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP a;branch=z9hG4bKa\r\n"
			"Max-Forwards: 0\r\nContent-Length: 0\r\n\r\n";

	cr_assert_eq(t_client_request(m), -ELOOP);
}

Test(relay, register_gets_path_only_when_supported_and_no_record_route)
{
	const char *r1 = "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/TLS a;branch=z9hG4bKr\r\n"
			 "Supported: gruu, path\r\nContent-Length: 0\r\n\r\n";
	const char *r2 = "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/TLS a;branch=z9hG4bKr\r\n"
			 "Content-Length: 0\r\n\r\n";
	long n;

	n = t_client_request(r1);
	cr_assert_gt(n, 0);
	cr_assert_str_eq(t_hdr(t_out, (size_t)n, "Path", 0, 0), "<sip:198.18.0.1:5060;lr>");
	cr_assert_not_null(t_hdr(t_out, (size_t)n, "Path", 0, 1));
	cr_assert_null(t_hdr(t_out, (size_t)n, "Record-Route", 0, 0));
	n = t_client_request(r2);
	cr_assert_gt(n, 0);
	cr_assert_null(t_hdr(t_out, (size_t)n, "Path", 0, 0));
	cr_assert_null(t_hdr(t_out, (size_t)n, "Record-Route", 0, 0));
}

Test(relay, output_that_does_not_fit_is_refused)
{
	size_t len = strlen(T_INVITE);

	cr_assert_eq(relay_client_request(&t_rc, &t_cl, T_INVITE, len, t_hdr_len(T_INVITE, len),
					  t_out, len), -ENOSPC);
}

Test(relay, stateless_reply_copies_the_transaction_headers_and_adds_a_to_tag)
{
	size_t len = strlen(T_INVITE);
	long n = relay_reply(T_INVITE, t_hdr_len(T_INVITE, len), 430, "Flow Failed", t_out, T_OUT);
	struct sip_win w;
	struct sip_msg m;

	cr_assert_gt(n, 0);
	cr_assert_eq(strncmp(t_out, "SIP/2.0 430 Flow Failed\r\n", 25), 0);
	cr_assert_str_eq(t_hdr(t_out, (size_t)n, "CSeq", 0, 0), "314159 INVITE");
	cr_assert_not_null(strstr(t_hdr(t_out, (size_t)n, "To", 't', 0), ";tag="));
	cr_assert_null(t_hdr(t_out, (size_t)n, "Contact", 0, 0));
	w = (struct sip_win){ (const __u8 *)t_out, (const __u8 *)t_out + n };
	sip_scan(&w, 0, &m);
	cr_assert_eq(m.kind, SIP_KIND_RESPONSE);
	cr_assert_eq(m.status, 430);
}
