// SPDX-License-Identifier: GPL-2.0
/* test_steer.c: the steering key siplbd takes for the slow path and the relay (steer.c): the same bytes XDP hashes, also past its window. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>

#include "daemon.h"
#include "sip_parse.h"

static struct siplbd t_d;

static int t_key(const char *msg, size_t len, __u8 reg_key, char *out, size_t cap)
{
	struct sip_msg m;
	const char *k;
	size_t kl;
	int r;

	t_d.vips[0].reg_key = reg_key;
	r = sd_steer_key(&t_d, 0, msg, len, &k, &kl, &m, NULL);
	if (!r)
		snprintf(out, cap, "%.*s", (int)kl, k);
	return r;
}

Test(steer, fast_path_message_keys_on_the_trimmed_call_id)
{
	const char *m = "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			"Call-ID:   abc@host  \r\nContent-Length: 0\r\n\r\n";
	char k[64];

	cr_assert_eq(t_key(m, strlen(m), SIPLB_REGKEY_CALLID, k, sizeof(k)), 0);
	cr_assert_str_eq(k, "abc@host");
}

Test(steer, call_id_beyond_the_xdp_window_is_found_with_the_same_bytes)
{
	static char m[8192];
	char pad[3000], k[64];
	size_t n;

	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	n = (size_t)snprintf(m, sizeof(m),
			     "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			     "X-Pad: %s\r\ni : far-away@host\t\r\nContent-Length: 0\r\n\r\n", pad);
	cr_assert_eq(t_key(m, n, SIPLB_REGKEY_CALLID, k, sizeof(k)), 0);
	cr_assert_str_eq(k, "far-away@host");
}

Test(steer, register_keys_on_the_to_aor_where_the_vip_says_so)
{
	const char *m = "REGISTER sip:reg SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n"
			"To: \"Al\" <sip:alice@example.com;transport=tls>\r\nCall-ID: r1@h\r\n"
			"Content-Length: 0\r\n\r\n";
	char k[64];

	cr_assert_eq(t_key(m, strlen(m), SIPLB_REGKEY_AOR, k, sizeof(k)), 0);
	cr_assert_str_eq(k, "alice@example.com");
	cr_assert_eq(t_key(m, strlen(m), SIPLB_REGKEY_CALLID, k, sizeof(k)), 0);
	cr_assert_str_eq(k, "r1@h");
}

Test(steer, message_without_call_id_has_no_key)
{
	const char *m = "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			"Content-Length: 0\r\n\r\n";
	char k[64];

	cr_assert_eq(t_key(m, strlen(m), SIPLB_REGKEY_CALLID, k, sizeof(k)), -EINVAL);
}

static bool t_tag(const char *msg, size_t len)
{
	struct sip_msg m;
	const char *k;
	size_t kl;
	bool tag = false;

	t_d.vips[0].reg_key = SIPLB_REGKEY_CALLID;
	cr_assert_eq(sd_steer_key(&t_d, 0, msg, len, &k, &kl, &m, &tag), 0);
	return tag;
}

Test(steer, to_tag_is_found_as_xdp_finds_it_also_past_the_window)
{
	static char m[8192];
	char pad[3000];
	const char *in = "BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			 "To: <sip:b@c>; TAG = x1\r\nCall-ID: d@h\r\nContent-Length: 0\r\n\r\n";
	const char *quoted = "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			     "To: \"a;tag=no\" <sip:b@c;tag=no>\r\nCall-ID: d@h\r\n"
			     "Content-Length: 0\r\n\r\n";
	size_t n;

	cr_expect(t_tag(in, strlen(in)), "tag with whitespace around '='");
	cr_expect_not(t_tag(quoted, strlen(quoted)), "in quotes and <> it is no tag");
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	n = (size_t)snprintf(m, sizeof(m),
			     "ACK sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			     "X-Pad: %s\r\nt: <sip:b@c>;tag=far\r\ni: far@h\r\n"
			     "Content-Length: 0\r\n\r\n", pad);
	cr_expect(t_tag(m, n), "compact To past the window");
	n = (size_t)snprintf(m, sizeof(m),
			     "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			     "X-Pad: %s\r\nTo: <sip:b@c>\r\ni: far@h\r\n"
			     "Content-Length: 0\r\n\r\n", pad);
	cr_expect_not(t_tag(m, n), "no tag past the window");
}
