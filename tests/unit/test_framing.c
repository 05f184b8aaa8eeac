// SPDX-License-Identifier: GPL-2.0
/* test_framing.c: stream framing (framing.c): Content-Length, keepalives, limits, split and coalesced reads. */
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>

#include "framing.h"
#include "siphdr.h"

static const struct frame_limits t_lim = { .max_header = 1024, .max_body = 2048 };

#define T_INVITE                                                          \
	"INVITE sip:bob@198.18.2.10 SIP/2.0\r\n"                           \
	"Via: SIP/2.0/TLS 198.18.0.100:40000;branch=z9hG4bK-1\r\n"         \
	"Call-ID: a84b4c76e66710@cl1\r\n"                                  \
	"Content-Length: 5\r\n"                                            \
	"\r\n"                                                             \
	"v=0\r\n"

static int t_frame(const char *s, size_t len, struct frame *f)
{
	return frame_next(s, len, &t_lim, f);
}

Test(framing, whole_message_with_body_is_one_frame)
{
	struct frame f;

	cr_assert_eq(t_frame(T_INVITE, strlen(T_INVITE), &f), FRAME_MESSAGE);
	cr_assert_eq(f.len, strlen(T_INVITE));
	cr_assert_eq(f.body_len, 5);
	cr_assert_eq(f.hdr_len, strlen(T_INVITE) - 5);
}

Test(framing, every_split_point_asks_for_more_until_the_last_byte)
{
	size_t n = strlen(T_INVITE), i;
	struct frame f;

	for (i = 0; i < n; i++)
		cr_assert_eq(t_frame(T_INVITE, i, &f), FRAME_MORE, "split at %zu", i);
	cr_assert_eq(t_frame(T_INVITE, n, &f), FRAME_MESSAGE);
}

Test(framing, coalesced_messages_come_out_one_at_a_time)
{
	char buf[1024];
	size_t n = strlen(T_INVITE), off = 0;
	struct frame f;
	int count = 0;

	snprintf(buf, sizeof(buf), "%s\r\n\r\n%s\r\n%s", T_INVITE, T_INVITE, T_INVITE);
	while (off < strlen(buf) && count < 10) {
		int k = t_frame(buf + off, strlen(buf) - off, &f);

		cr_assert_neq(k, FRAME_ERROR);
		cr_assert_neq(k, FRAME_MORE, "at %zu", off);
		if (k == FRAME_MESSAGE) {
			cr_assert_eq(f.len, n);
			cr_assert_eq(memcmp(buf + off, T_INVITE, n), 0);
		}
		off += f.len;
		count++;
	}
	cr_assert_eq(off, strlen(buf));
	cr_assert_eq(count, 5, "3 messages, a ping and a pong");
}

Test(framing, double_crlf_is_a_ping_and_single_crlf_a_pong)
{
	struct frame f;

	cr_assert_eq(t_frame("\r\n\r\n", 4, &f), FRAME_PING);
	cr_assert_eq(f.len, 4);
	cr_assert_eq(t_frame("\r\n", 2, &f), FRAME_MORE, "could still become a ping");
	cr_assert_eq(t_frame("\r\n\r", 3, &f), FRAME_MORE);
	cr_assert_eq(t_frame("\r\nINVITE", 8, &f), FRAME_PONG);
	cr_assert_eq(f.len, 2);
	cr_assert_eq(t_frame("\r", 1, &f), FRAME_MORE);
	cr_assert_eq(t_frame("\rX", 2, &f), FRAME_ERROR);
}

Test(framing, missing_content_length_closes_the_stream)
{
	const char *m = "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP a\r\n\r\n";
	struct frame f;

	cr_assert_eq(t_frame(m, strlen(m), &f), FRAME_ERROR);
	cr_assert_eq(f.error, FRAME_ERR_NO_CONTENT_LENGTH);
	cr_assert_str_eq(frame_error_names[f.error], "no_content_length");
}

Test(framing, compact_and_spaced_content_length_are_read)
{
	const char *m = "OPTIONS sip:x SIP/2.0\r\nl :  3 \r\n\r\nabc";
	const char *m2 = "OPTIONS sip:x SIP/2.0\r\ncontent-LENGTH:0\r\n\r\n";
	struct frame f;

	cr_assert_eq(t_frame(m, strlen(m), &f), FRAME_MESSAGE);
	cr_assert_eq(f.body_len, 3);
	cr_assert_eq(t_frame(m2, strlen(m2), &f), FRAME_MESSAGE);
	cr_assert_eq(f.body_len, 0);
}

Test(framing, bad_content_length_values_close_the_stream)
{
	static const char *const bad[] = { "-1", "12a", "0x10", "1 2", "", "+3" };
	char m[256];
	struct frame f;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(m, sizeof(m), "BYE sip:x SIP/2.0\r\nContent-Length: %s\r\n\r\n", bad[i]);
		cr_assert_eq(t_frame(m, strlen(m), &f), FRAME_ERROR, "'%s'", bad[i]);
		cr_assert_eq(f.error, FRAME_ERR_BAD_CONTENT_LENGTH, "'%s'", bad[i]);
	}
}

Test(framing, conflicting_content_lengths_close_the_stream_equal_ones_do_not)
{
	const char *m = "BYE sip:x SIP/2.0\r\nContent-Length: 0\r\nl: 4\r\n\r\nabcd";
	const char *m2 = "BYE sip:x SIP/2.0\r\nContent-Length: 4\r\nl: 4\r\n\r\nabcd";
	struct frame f;

	cr_assert_eq(t_frame(m, strlen(m), &f), FRAME_ERROR);
	cr_assert_eq(f.error, FRAME_ERR_DUP_CONTENT_LENGTH);
	cr_assert_eq(t_frame(m2, strlen(m2), &f), FRAME_MESSAGE);
}

Test(framing, oversized_body_is_refused_before_it_arrives)
{
	const char *m = "INVITE sip:x SIP/2.0\r\nContent-Length: 2049\r\n\r\n";
	const char *huge = "INVITE sip:x SIP/2.0\r\nContent-Length: 99999999999999999999999\r\n\r\n";
	struct frame f;

	cr_assert_eq(t_frame(m, strlen(m), &f), FRAME_ERROR);
	cr_assert_eq(f.error, FRAME_ERR_BODY_TOO_BIG);
	cr_assert_eq(t_frame(huge, strlen(huge), &f), FRAME_ERROR);
	cr_assert_eq(f.error, FRAME_ERR_BODY_TOO_BIG);
}

Test(framing, header_block_without_end_within_the_limit_is_refused)
{
	static char m[2048];
	struct frame f;

	memset(m, 'a', sizeof(m));
	memcpy(m, "INVITE sip:x SIP/2.0\r\nX: ", 25);
	cr_assert_eq(t_frame(m, 1023, &f), FRAME_MORE);
	cr_assert_eq(t_frame(m, 1024, &f), FRAME_ERROR);
	cr_assert_eq(f.error, FRAME_ERR_HEADER_TOO_BIG);
}

Test(framing, control_bytes_in_headers_close_the_stream)
{
	const char m[] = "INVITE sip:x SIP/2.0\r\nX: a\0b\r\n\r\n";
	const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	struct frame f;

	cr_assert_eq(t_frame(m, sizeof(m) - 1, &f), FRAME_ERROR);
	cr_assert_eq(f.error, FRAME_ERR_BINARY);
	cr_assert_eq(t_frame(tls, sizeof(tls) - 1, &f), FRAME_ERROR, "a TLS hello on the TCP port");
}

Test(framing, body_text_that_looks_like_a_header_does_not_count)
{
	const char *m = "MESSAGE sip:x SIP/2.0\r\nContent-Length: 20\r\n\r\nContent-Length: 999\r\n";
	struct frame f;

	cr_assert_eq(t_frame(m, strlen(m), &f), FRAME_MESSAGE);
	cr_assert_eq(f.body_len, 20);
}

Test(siphdr, folded_header_and_compact_names)
{
	const char *m = "BYE sip:x SIP/2.0\r\nv: SIP/2.0/UDP a\r\n ;branch=z9hG4bK1\r\n"
			"i :  abc  \r\n\r\n";
	struct sip_hline h;
	size_t pos = 0;

	cr_assert(sip_hline_find(m, strlen(m), &pos, "Via", 'v', &h));
	cr_assert_eq(h.val_len, strlen("SIP/2.0/UDP a\r\n ;branch=z9hG4bK1"));
	pos = 0;
	cr_assert(sip_hline_find(m, strlen(m), &pos, "Call-ID", 'i', &h));
	cr_assert_eq(h.val_len, 3);
	cr_assert_eq(strncmp(m + h.val_off, "abc", 3), 0);
}

Test(siphdr, params_and_elements_skip_quotes_and_angle_brackets)
{
	const char *v = "\"a;b,c\" <sip:x;lr;y=1>;tag=9 , <sip:z>";
	const char *pv;
	size_t e = sip_value_elem_end(v, strlen(v)), pl;

	cr_assert_eq(e, strlen("\"a;b,c\" <sip:x;lr;y=1>;tag=9 "));
	cr_assert_geq(sip_param_find(v, e, "tag", &pv, &pl), 0);
	cr_assert_eq(pl, 1);
	cr_assert_eq(*pv, '9');
	cr_assert_lt(sip_param_find(v, e, "lr", &pv, &pl), 0, "inside <...>");
	cr_assert_lt(sip_param_find(v, e, "ta", &pv, &pl), 0, "a prefix is not the name");
}
