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
	r = sd_steer_key(&t_d, 0, msg, len, &k, &kl, &m);
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
