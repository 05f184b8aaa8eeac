// SPDX-License-Identifier: GPL-2.0
/* test_health.c: SIP OPTIONS probes, response matching and UP/DOWN thresholds of health.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "sip_parse.h"
#include "health.h"

/* Bytes of a probe or a response the tests build. */
#define T_BUF 1024

/* Settings: timeout 500 ms, fall and rise as given, accept list {200}. */
static struct siplb_cfg_health t_cfg(__u32 fall, __u32 rise)
{
	struct siplb_cfg_health c = {
		.interval_ms = 1000,
		.timeout_ms = 500,
		.fall = fall,
		.rise = rise,
		.accept = { 200 },
		.n_accept = 1,
	};

	return c;
}

/* A probe id from 198.18.0.1:5060 to 198.18.2.7:5070 (or the IPv6 pair). */
static struct health_probe_id t_id(bool v6)
{
	struct health_probe_id id = {
		.src_port = 5060,
		.dst_port = 5070,
		.backend_id = 3,
		.nonce = 0xdeadbeef,
		.seq = 0,
	};
	int fam = v6 ? AF_INET6 : AF_INET;

	id.src.family = fam;
	id.dst.family = fam;
	cr_assert_eq(inet_pton(fam, v6 ? "2001:db8::1" : "198.18.0.1", id.src.addr), 1);
	cr_assert_eq(inet_pton(fam, v6 ? "2001:db8::7" : "198.18.2.7", id.dst.addr), 1);
	return id;
}

/* Parse buf with the shared parser. */
static int t_scan(const char *buf, size_t len, struct sip_msg *m)
{
	struct sip_win w = { (const __u8 *)buf, (const __u8 *)buf + len };

	return sip_scan(&w, 0, m);
}

/* Begin a probe on h at now_ms; returns its branch in branch[HEALTH_BRANCH_MAX]. */
static void t_probe(struct health_state *h, __u64 now_ms, char *branch)
{
	struct health_probe_id id = t_id(false);
	char buf[T_BUF];
	int n;

	n = health_probe_begin(h, &id, buf, sizeof(buf), now_ms);
	cr_assert_gt(n, 0, "probe: %d", n);
	cr_assert_gt(health_branch(&id, branch, HEALTH_BRANCH_MAX), 0);
}

/* A response with the given status line code and top Via branch. */
static size_t t_response(char *buf, unsigned int status, const char *branch)
{
	int n = snprintf(buf, T_BUF,
			 "SIP/2.0 %u Whatever\r\n"
			 "Via: SIP/2.0/UDP 198.18.0.1:5060;branch=%s;rport=5060\r\n"
			 "From: <sip:siplb@198.18.0.1:5060>;tag=x\r\n"
			 "To: <sip:198.18.2.7:5070>;tag=y\r\n"
			 "Call-ID: hc-whatever@siplb\r\n"
			 "CSeq: 1 OPTIONS\r\n"
			 "Content-Length: 0\r\n"
			 "\r\n",
			 status, branch);

	cr_assert(n > 0 && n < T_BUF);
	return n;
}

/* Probe at now_ms and answer with status at now_ms + 10; returns health_on_response(). */
static int t_answer(struct health_state *h, const struct siplb_cfg_health *cfg,
		    __u64 now_ms, unsigned int status, char *reason)
{
	char branch[HEALTH_BRANCH_MAX], buf[T_BUF];
	size_t len;

	t_probe(h, now_ms, branch);
	len = t_response(buf, status, branch);
	return health_on_response(h, buf, len, cfg, now_ms + 10, reason, HEALTH_REASON_MAX);
}

/* Probe at now_ms and let it time out; returns health_on_timeout(). */
static int t_timeout(struct health_state *h, const struct siplb_cfg_health *cfg,
		     __u64 now_ms, char *reason)
{
	char branch[HEALTH_BRANCH_MAX];

	t_probe(h, now_ms, branch);
	return health_on_timeout(h, cfg, now_ms + cfg->timeout_ms, reason, HEALTH_REASON_MAX);
}

Test(health, options_probe_parses_as_options_with_callid_and_branch)
{
	struct health_probe_id id = t_id(false);
	char buf[T_BUF], branch[HEALTH_BRANCH_MAX];
	struct sip_win w;
	struct sip_msg m;
	struct sip_via v;
	int n, blen;

	n = health_build_options(buf, sizeof(buf), &id);
	cr_assert_gt(n, 0);
	cr_assert_eq((size_t)n, strlen(buf));
	cr_assert_neq(t_scan(buf, n, &m), SIP_VERDICT_DROP, "%s", buf);
	cr_expect_eq(m.kind, SIP_KIND_REQUEST);
	cr_expect_eq(m.method, SIP_METHOD_OPTIONS);
	cr_expect_gt(m.callid_len, 0);
	cr_expect(!strncmp(buf, "OPTIONS sip:198.18.2.7:5070 SIP/2.0\r\n",
			   strlen("OPTIONS sip:198.18.2.7:5070 SIP/2.0\r\n")), "%s", buf);
	cr_expect(strstr(buf, "\r\nMax-Forwards: 70\r\n"));
	cr_expect(strstr(buf, "\r\nContent-Length: 0\r\n\r\n"));
	cr_expect(strstr(buf, "\r\nUser-Agent: siplb\r\n"));
	cr_expect(strstr(buf, ";tag="));

	w.data = (const __u8 *)buf;
	w.end = (const __u8 *)buf + n;
	cr_assert_eq(sip_via(&w, 0, &m, &v), 0);
	cr_expect_eq(v.sent_by_len, strlen("198.18.0.1:5060"));
	cr_expect(!memcmp(buf + v.sent_by_off, "198.18.0.1:5060", v.sent_by_len));
	blen = health_branch(&id, branch, sizeof(branch));
	cr_assert_gt(blen, 7);
	cr_expect(!strncmp(branch, "z9hG4bK", 7));
	cr_assert_eq(v.branch_len, blen);
	cr_expect(!memcmp(buf + v.branch_off, branch, blen));
}

Test(health, options_probe_brackets_ipv6_addresses)
{
	struct health_probe_id id = t_id(true);
	char buf[T_BUF];
	struct sip_win w;
	struct sip_msg m;
	struct sip_via v;
	int n;

	n = health_build_options(buf, sizeof(buf), &id);
	cr_assert_gt(n, 0);
	cr_assert_neq(t_scan(buf, n, &m), SIP_VERDICT_DROP, "%s", buf);
	cr_expect_eq(m.method, SIP_METHOD_OPTIONS);
	cr_expect(!strncmp(buf, "OPTIONS sip:[2001:db8::7]:5070 SIP/2.0\r\n", 40), "%s", buf);
	w.data = (const __u8 *)buf;
	w.end = (const __u8 *)buf + n;
	cr_assert_eq(sip_via(&w, 0, &m, &v), 0);
	cr_expect_eq(v.sent_by_len, strlen("[2001:db8::1]:5060"));
	cr_expect(!memcmp(buf + v.sent_by_off, "[2001:db8::1]:5060", v.sent_by_len));
	cr_expect_gt(v.branch_len, 0);
}

Test(health, each_probe_gets_its_own_branch_and_callid)
{
	struct health_state h;
	struct health_probe_id a = t_id(false), b = t_id(false);
	char ba[T_BUF], bb[T_BUF], bra[HEALTH_BRANCH_MAX], brb[HEALTH_BRANCH_MAX];
	struct sip_msg ma, mb;
	int na, nb;

	health_init(&h, 3, SIPLB_BE_UP);
	na = health_probe_begin(&h, &a, ba, sizeof(ba), 0);
	nb = health_probe_begin(&h, &b, bb, sizeof(bb), 1000);
	cr_assert(na > 0 && nb > 0);
	cr_expect_neq(a.seq, b.seq);
	health_branch(&a, bra, sizeof(bra));
	health_branch(&b, brb, sizeof(brb));
	cr_expect_str_neq(bra, brb);
	t_scan(ba, na, &ma);
	t_scan(bb, nb, &mb);
	cr_expect(ma.callid_len != mb.callid_len ||
		  memcmp(ba + ma.callid_off, bb + mb.callid_off, ma.callid_len));
	/* another backend with the same sequence number differs too */
	b = a;
	b.backend_id = 4;
	health_branch(&b, brb, sizeof(brb));
	cr_expect_str_neq(bra, brb);
}

Test(health, options_too_small_buffer_is_enospc)
{
	struct health_probe_id id = t_id(true);
	char buf[64];

	cr_expect_eq(health_build_options(buf, sizeof(buf), &id), -ENOSPC);
	id.dst.family = 0;
	cr_expect_eq(health_build_options(buf, sizeof(buf), &id), -EINVAL);
}

Test(health, starts_up_unprobed)
{
	struct health_state h;

	health_init(&h, 9, SIPLB_BE_UP);
	cr_expect_eq(h.state, SIPLB_BE_UP);
	cr_expect_not(h.probed);
	cr_expect_not(h.pending);
	cr_expect_eq(h.backend_id, 9);
}

Test(health, ok_200_with_matching_branch_is_success)
{
	struct siplb_cfg_health cfg = t_cfg(3, 2);
	struct health_state h;
	char reason[HEALTH_REASON_MAX];
	struct health_event ev[HEALTH_HISTORY];

	health_init(&h, 3, SIPLB_BE_UP);
	cr_expect_eq(t_answer(&h, &cfg, 1000, 200, reason), 0);
	cr_expect(h.probed);
	cr_expect_not(h.pending);
	cr_expect_eq(h.ok_run, 1);
	cr_expect_eq(h.cnt.ok, 1);
	cr_expect_eq(h.cnt.sent, 1);
	cr_assert_eq(health_history(&h, ev), 1);
	cr_expect_eq(ev[0].result, HEALTH_OK);
	cr_expect_eq(ev[0].status, 200);
	cr_expect_eq(ev[0].rtt_ms, 10);
}

Test(health, response_with_another_branch_is_ignored)
{
	struct siplb_cfg_health cfg = t_cfg(3, 2);
	struct health_state h;
	char branch[HEALTH_BRANCH_MAX], buf[T_BUF];
	size_t len;

	health_init(&h, 3, SIPLB_BE_UP);
	t_probe(&h, 0, branch);
	len = t_response(buf, 200, "z9hG4bKforged");
	cr_expect_eq(health_on_response(&h, buf, len, &cfg, 10, NULL, 0), -ENOENT);
	/* a branch that is a prefix of ours does not match either */
	branch[strlen(branch) - 1] = '\0';
	len = t_response(buf, 200, branch);
	cr_expect_eq(health_on_response(&h, buf, len, &cfg, 10, NULL, 0), -ENOENT);
	cr_expect(h.pending);
	cr_expect_eq(h.cnt.ok, 0);
	cr_expect_eq(h.cnt.ignored, 2);
}

Test(health, answer_to_an_earlier_probe_is_stale)
{
	struct siplb_cfg_health cfg = t_cfg(3, 2);
	struct health_state h;
	char old[HEALTH_BRANCH_MAX], cur[HEALTH_BRANCH_MAX], buf[T_BUF];
	size_t len;

	health_init(&h, 3, SIPLB_BE_UP);
	t_probe(&h, 0, old);
	health_on_timeout(&h, &cfg, 500, NULL, 0);
	t_probe(&h, 1000, cur);
	len = t_response(buf, 200, old);
	cr_expect_eq(health_on_response(&h, buf, len, &cfg, 1010, NULL, 0), -ENOENT);
	len = t_response(buf, 200, cur);
	cr_expect_eq(health_on_response(&h, buf, len, &cfg, 1010, NULL, 0), 0);
	/* nothing outstanding now: a duplicate is ignored */
	cr_expect_eq(health_on_response(&h, buf, len, &cfg, 1011, NULL, 0), -ENOENT);
	cr_expect_eq(h.cnt.ok, 1);
}

Test(health, provisional_100_trying_waits_for_final)
{
	struct siplb_cfg_health cfg = t_cfg(1, 1);
	struct health_state h;
	char branch[HEALTH_BRANCH_MAX], buf[T_BUF];
	size_t len;

	health_init(&h, 3, SIPLB_BE_UP);
	t_probe(&h, 0, branch);
	len = t_response(buf, 100, branch);
	cr_expect_eq(health_on_response(&h, buf, len, &cfg, 10, NULL, 0), -EINPROGRESS);
	cr_expect(h.pending);
	cr_expect_eq(h.hist_len, 0);
	len = t_response(buf, 200, branch);
	cr_expect_eq(health_on_response(&h, buf, len, &cfg, 20, NULL, 0), 0);
	cr_expect_eq(h.cnt.ok, 1);
}

Test(health, status_503_outside_accept_list_is_failure_with_reason)
{
	struct siplb_cfg_health cfg = t_cfg(1, 1);
	struct health_state h;
	char reason[HEALTH_REASON_MAX];
	struct health_event ev[HEALTH_HISTORY];

	health_init(&h, 3, SIPLB_BE_UP);
	cr_expect_eq(t_answer(&h, &cfg, 0, 503, reason), 1);
	cr_expect_eq(h.state, SIPLB_BE_DOWN);
	cr_expect_str_eq(reason, "bad status 503");
	cr_expect_str_eq(h.reason, "bad status 503");
	cr_expect_eq(h.changed_ms, 10);
	cr_expect_eq(h.cnt.bad_status, 1);
	cr_expect_eq(h.cnt.transitions, 1);
	health_history(&h, ev);
	cr_expect_eq(ev[0].result, HEALTH_BAD_STATUS);
	cr_expect_eq(ev[0].status, 503);
}

Test(health, accept_any_counts_503_as_success)
{
	struct siplb_cfg_health cfg = t_cfg(1, 1);
	struct health_state h;
	char reason[HEALTH_REASON_MAX];

	cfg.accept_any = true;
	cfg.n_accept = 0;
	health_init(&h, 3, SIPLB_BE_DOWN);
	cr_expect_eq(t_answer(&h, &cfg, 0, 503, reason), 1);
	cr_expect_eq(h.state, SIPLB_BE_UP);
	cr_expect_eq(h.cnt.ok, 1);
	cr_expect_eq(h.cnt.bad_status, 0);
}

Test(health, fall_3_needs_three_consecutive_failures)
{
	struct siplb_cfg_health cfg = t_cfg(3, 2);
	struct health_state h;
	char reason[HEALTH_REASON_MAX];
	__u64 t = 0;

	health_init(&h, 3, SIPLB_BE_UP);
	cr_expect_eq(t_timeout(&h, &cfg, t += 1000, reason), 0);
	cr_expect_eq(t_timeout(&h, &cfg, t += 1000, reason), 0);
	cr_expect_eq(t_answer(&h, &cfg, t += 1000, 200, reason), 0);	/* resets */
	cr_expect_eq(h.fail_run, 0);
	cr_expect_eq(t_timeout(&h, &cfg, t += 1000, reason), 0);
	cr_expect_eq(t_timeout(&h, &cfg, t += 1000, reason), 0);
	cr_expect_eq(h.state, SIPLB_BE_UP);
	cr_expect_eq(t_timeout(&h, &cfg, t += 1000, reason), 1);
	cr_expect_eq(h.state, SIPLB_BE_DOWN);
	cr_expect_str_eq(reason, "3 consecutive timeouts");
	/* further failures do not change it again */
	cr_expect_eq(t_timeout(&h, &cfg, t += 1000, reason), 0);
	cr_expect_eq(h.cnt.transitions, 1);
}

Test(health, rise_2_needs_two_consecutive_successes)
{
	struct siplb_cfg_health cfg = t_cfg(3, 2);
	struct health_state h;
	char reason[HEALTH_REASON_MAX];
	__u64 t = 0;

	health_init(&h, 3, SIPLB_BE_DOWN);
	cr_expect_eq(t_answer(&h, &cfg, t += 1000, 200, reason), 0);
	cr_expect_eq(t_answer(&h, &cfg, t += 1000, 500, reason), 0);	/* resets */
	cr_expect_str_eq(reason, "bad status 500");
	cr_expect_eq(t_answer(&h, &cfg, t += 1000, 200, reason), 0);
	cr_expect_eq(h.state, SIPLB_BE_DOWN);
	cr_expect_eq(t_answer(&h, &cfg, t += 1000, 200, reason), 1);
	cr_expect_eq(h.state, SIPLB_BE_UP);
	cr_expect_str_eq(reason, "2 consecutive OK");
	cr_expect_eq(h.changed_ms, t + 10);
}

Test(health, mixed_failures_name_the_last_bad_status)
{
	struct siplb_cfg_health cfg = t_cfg(2, 2);
	struct health_state h;
	char reason[HEALTH_REASON_MAX];

	health_init(&h, 3, SIPLB_BE_UP);
	cr_expect_eq(t_answer(&h, &cfg, 0, 503, reason), 0);
	cr_expect_eq(t_answer(&h, &cfg, 1000, 503, reason), 1);
	cr_expect_str_eq(reason, "2 consecutive bad status, last 503");
	health_init(&h, 3, SIPLB_BE_UP);
	cr_expect_eq(t_timeout(&h, &cfg, 0, reason), 0);
	cr_expect_eq(t_answer(&h, &cfg, 1000, 404, reason), 1);
	cr_expect_str_eq(reason, "2 consecutive failures, last bad status 404");
}

Test(health, flapping_backend_never_changes_state)
{
	struct siplb_cfg_health cfg = t_cfg(2, 2);
	struct health_state up, down;
	char reason[HEALTH_REASON_MAX];
	__u64 t = 0;
	int i;

	health_init(&up, 1, SIPLB_BE_UP);
	health_init(&down, 2, SIPLB_BE_DOWN);
	for (i = 0; i < 100; i++, t += 1000) {
		if (i % 2) {
			cr_expect_eq(t_answer(&up, &cfg, t, 200, reason), 0);
			cr_expect_eq(t_answer(&down, &cfg, t, 200, reason), 0);
		} else {
			cr_expect_eq(t_timeout(&up, &cfg, t, reason), 0);
			cr_expect_eq(t_answer(&down, &cfg, t, 503, reason), 0);
		}
	}
	cr_expect_eq(up.state, SIPLB_BE_UP);
	cr_expect_eq(down.state, SIPLB_BE_DOWN);
	cr_expect_eq(up.cnt.transitions, 0);
	cr_expect_eq(down.cnt.transitions, 0);
}

Test(health, timeout_only_after_timeout_ms)
{
	struct siplb_cfg_health cfg = t_cfg(1, 1);
	struct health_state h;
	char branch[HEALTH_BRANCH_MAX], reason[HEALTH_REASON_MAX];
	struct health_event ev[HEALTH_HISTORY];

	health_init(&h, 3, SIPLB_BE_UP);
	cr_expect_eq(health_on_timeout(&h, &cfg, 5000, reason, sizeof(reason)), -ENOENT);
	t_probe(&h, 1000, branch);
	cr_expect_eq(health_on_timeout(&h, &cfg, 1499, reason, sizeof(reason)), -EAGAIN);
	cr_expect_eq(health_on_timeout(&h, &cfg, 1500, reason, sizeof(reason)), 1);
	cr_expect_eq(h.state, SIPLB_BE_DOWN);
	cr_expect_str_eq(reason, "timeout");
	cr_expect_not(h.pending);
	cr_expect_eq(h.cnt.timeouts, 1);
	health_history(&h, ev);
	cr_expect_eq(ev[0].result, HEALTH_TIMEOUT);
	cr_expect_eq(ev[0].status, 0);
	cr_expect_eq(ev[0].rtt_ms, 500);
}

Test(health, final_response_after_timeout_counts_as_timeout)
{
	struct siplb_cfg_health cfg = t_cfg(3, 2);
	struct health_state h;
	char branch[HEALTH_BRANCH_MAX], buf[T_BUF];
	size_t len;

	health_init(&h, 3, SIPLB_BE_UP);
	t_probe(&h, 0, branch);
	len = t_response(buf, 200, branch);
	cr_expect_eq(health_on_response(&h, buf, len, &cfg, 501, NULL, 0), 0);
	cr_expect_eq(h.cnt.timeouts, 1);
	cr_expect_eq(h.cnt.ok, 0);
}

Test(health, due_after_interval_and_not_while_pending)
{
	struct siplb_cfg_health cfg = t_cfg(3, 2);
	struct health_state h;
	char branch[HEALTH_BRANCH_MAX];

	health_init(&h, 3, SIPLB_BE_UP);
	cr_expect(health_due(&h, &cfg, 0));
	t_probe(&h, 100, branch);
	cr_expect_not(health_due(&h, &cfg, 5000));
	health_on_timeout(&h, &cfg, 600, NULL, 0);
	cr_expect_not(health_due(&h, &cfg, 1099));
	cr_expect(health_due(&h, &cfg, 1100));
}

Test(health, history_keeps_last_16_in_order)
{
	struct siplb_cfg_health cfg = t_cfg(100, 100);
	struct health_state h;
	struct health_event ev[HEALTH_HISTORY];
	char reason[HEALTH_REASON_MAX];
	__u32 i, n;

	health_init(&h, 3, SIPLB_BE_UP);
	for (i = 0; i < 5; i++)
		t_answer(&h, &cfg, i * 1000, 200 + i, reason);
	cr_assert_eq(health_history(&h, ev), 5);
	for (i = 0; i < 5; i++)
		cr_expect_eq(ev[i].at_ms, i * 1000 + 10);
	for (i = 5; i < 40; i++)
		t_answer(&h, &cfg, i * 1000, 200 + i, reason);
	n = health_history(&h, ev);
	cr_assert_eq(n, HEALTH_HISTORY);
	for (i = 0; i < n; i++) {
		cr_expect_eq(ev[i].at_ms, (40 - HEALTH_HISTORY + i) * 1000 + 10, "entry %u", i);
		cr_expect_eq(ev[i].status, 200 + 40 - HEALTH_HISTORY + i);
	}
	cr_expect_eq(ev[0].result, HEALTH_BAD_STATUS);
	cr_expect_eq(h.cnt.sent, 40);
	cr_expect_eq(h.cnt.ok, 1);
	cr_expect_eq(h.cnt.bad_status, 39);
}

Test(health, garbage_is_ignored)
{
	static const char *const junk[] = {
		"",
		"\r\n\r\n",
		"hello world, this is not SIP at all, not even close\r\n\r\n",
		"SIP/2.0 200\r\n",
		"SIP/2.0 999 Nope\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKx\r\n\r\n",
	};
	struct siplb_cfg_health cfg = t_cfg(1, 1);
	struct health_state h;
	char branch[HEALTH_BRANCH_MAX], buf[T_BUF];
	size_t i, len;
	int r;

	health_init(&h, 3, SIPLB_BE_UP);
	t_probe(&h, 0, branch);
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		r = health_on_response(&h, junk[i], strlen(junk[i]), &cfg, 10, NULL, 0);
		cr_expect(r == -EBADMSG || r == -ENOENT, "junk %zu: %d", i, r);
	}
	/* a request carrying our branch is not an answer */
	len = snprintf(buf, sizeof(buf),
		       "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.1:5060;branch=%s\r\n"
		       "Call-ID: a\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", branch);
	cr_expect_eq(health_on_response(&h, buf, len, &cfg, 10, NULL, 0), -EBADMSG);
	/* our response cut in the middle of the headers */
	len = t_response(buf, 200, branch);
	cr_expect_lt(health_on_response(&h, buf, 40, &cfg, 10, NULL, 0), 0);
	cr_expect(h.pending);
	cr_expect_eq(h.state, SIPLB_BE_UP);
	cr_expect_eq(h.hist_len, 0);
	cr_expect_eq(health_on_response(&h, buf, len, &cfg, 10, NULL, 0), 0);
}
