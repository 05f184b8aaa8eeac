// SPDX-License-Identifier: GPL-2.0
/*
 * test_parser_bpf.c: the kernel build of the shared parser (bpf/parse_test.bpf.c,
 * accepted by the verifier) extracts exactly what the userspace build extracts,
 * on every message file in tests/msgs and tests/corpus and on random mutations
 * of them.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sip_parse.h"
#include "siplb_hash.h"
#include "parse_test.skel.h"
#include "pkt.h"

/* Must match struct parse_result in bpf/parse_test.bpf.c. */
struct parse_result {
	struct sip_msg msg;
	struct sip_via via;
	struct sip_aor aor;
	__u32 payload_off;
	__s32 via_rc;
	__s32 aor_rc;
	__s32 tag_rc;		/* sip_to_tag */
	__u64 callid_hash;
};

static const struct siplb_hash_key test_key = {
	.k0 = 0x0706050403020100ULL, .k1 = 0x0f0e0d0c0b0a0908ULL,
};

static struct parse_test *load(void)
{
	struct parse_test *skel = parse_test__open();

	cr_assert_not_null(skel, "open parse_test skeleton");
	skel->rodata->hash_k0 = test_key.k0;
	skel->rodata->hash_k1 = test_key.k1;
	cr_assert_eq(parse_test__load(skel), 0,
		     "the verifier must accept the shared parser (run as root)");
	return skel;
}

/* Run one payload through the kernel and userspace builds; assert they agree. */
static void agree(struct parse_test *skel, const __u8 *payload, size_t len,
		  int family, const char *what)
{
	static __u8 frame[PKT_MAX];
	struct pkt_addrs a;
	struct parse_result r;
	struct sip_win win = { payload, payload + len };
	struct sip_msg m;
	struct sip_via v;
	struct sip_aor aor;
	__u32 zero = 0;
	int flen, via_rc, aor_rc;
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	pkt_default_addrs(&a, family);
	flen = pkt_build_udp(&a, payload, len, frame);
	if (flen < 0)
		return;		/* larger than a test frame can be */
	opts.data_in = frame;
	opts.data_size_in = flen;
	opts.repeat = 1;
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.parse_test), &opts),
		     0, "%s: test run", what);
	cr_assert_eq(opts.retval, XDP_PASS, "%s: wrapper returned %u", what, opts.retval);
	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.results), &zero, &r), 0);

	sip_scan(&win, 0, &m);
	via_rc = sip_via(&win, 0, &m, &v);
	aor_rc = sip_to_aor(&win, 0, &m, &aor);

	cr_assert_eq(r.msg.verdict, m.verdict, "%s: verdict kernel %u user %u", what,
		     r.msg.verdict, m.verdict);
	cr_assert_eq(r.msg.reason, m.reason, "%s: reason kernel %u user %u", what,
		     r.msg.reason, m.reason);
	cr_assert_eq(r.msg.kind, m.kind, "%s: kind", what);
	cr_assert_eq(r.msg.method, m.method, "%s: method", what);
	cr_assert_eq(r.msg.status, m.status, "%s: status", what);
	cr_assert_eq(r.msg.hdr_end, m.hdr_end, "%s: headers end", what);
	cr_assert_eq(r.msg.callid_off, m.callid_off, "%s: Call-ID offset", what);
	cr_assert_eq(r.msg.callid_len, m.callid_len, "%s: Call-ID length", what);
	cr_assert_eq(r.msg.via_off, m.via_off, "%s: Via offset", what);
	cr_assert_eq(r.msg.via_len, m.via_len, "%s: Via length", what);
	cr_assert_eq(r.msg.to_off, m.to_off, "%s: To offset", what);
	cr_assert_eq(r.msg.to_len, m.to_len, "%s: To length", what);
	cr_assert_eq(r.via_rc, via_rc, "%s: Via parse result", what);
	cr_assert_eq(r.via.sent_by_off, v.sent_by_off, "%s: sent-by offset", what);
	cr_assert_eq(r.via.sent_by_len, v.sent_by_len, "%s: sent-by length", what);
	cr_assert_eq(r.via.branch_off, v.branch_off, "%s: branch offset", what);
	cr_assert_eq(r.via.branch_len, v.branch_len, "%s: branch length", what);
	cr_assert_eq(r.aor_rc, aor_rc, "%s: AOR result", what);
	cr_assert_eq(r.aor.off, aor.off, "%s: AOR offset", what);
	cr_assert_eq(r.aor.len, aor.len, "%s: AOR length", what);
	cr_assert_eq(r.tag_rc, sip_to_tag(&win, 0, &m), "%s: To tag", what);
	if (m.callid_len && (size_t)m.callid_off + m.callid_len <= len)
		cr_assert_eq(r.callid_hash,
			     siplb_hash_buf(payload + m.callid_off, m.callid_len, &test_key),
			     "%s: Call-ID hash", what);
}

/* Read every regular file of dir; calls fn for each. Returns how many. */
static int each_file(const char *dir, void (*fn)(const char *, const __u8 *, size_t, void *),
		     void *arg)
{
	static __u8 buf[65536];
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	cr_assert_not_null(d, "open %s (run from the repository root)", dir);
	while ((de = readdir(d))) {
		char path[512];
		FILE *f;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		fn(path, buf, len, arg);
		n++;
	}
	closedir(d);
	return n;
}

static void agree_both_families(const char *path, const __u8 *buf, size_t len, void *arg)
{
	agree(arg, buf, len, AF_INET, path);
	agree(arg, buf, len, AF_INET6, path);
}

Test(parser_bpf, kernel_and_userspace_builds_agree_on_every_message_file, .timeout = 120)
{
	struct parse_test *skel = load();
	int n = 0;

	n += each_file("tests/msgs", agree_both_families, skel);
	n += each_file("tests/corpus", agree_both_families, skel);
	cr_assert_gt(n, 10, "expected the message files of tests/msgs and tests/corpus");
	parse_test__destroy(skel);
}

struct mutate_ctx {
	struct parse_test *skel;
	unsigned int seed;
	int runs;
};

/* Random byte edits that hit what the parser looks at: CR, LF, ':', ' ', ';', '<', '@'. */
static void mutate_and_agree(const char *path, const __u8 *buf, size_t len, void *arg)
{
	static const char special[] = "\r\n: \t;<>@[]\"\\,=/";
	struct mutate_ctx *c = arg;
	static __u8 mut[65536];
	char what[600];
	int k, e;

	if (!len || len > 3000)
		return;
	for (k = 0; k < 40; k++) {
		size_t mlen = len;
		int edits = 1 + rand_r(&c->seed) % 4;

		memcpy(mut, buf, len);
		for (e = 0; e < edits; e++) {
			size_t at = rand_r(&c->seed) % mlen;

			switch (rand_r(&c->seed) % 4) {
			case 0:
				mut[at] = special[rand_r(&c->seed) % (sizeof(special) - 1)];
				break;
			case 1:
				mut[at] = rand_r(&c->seed) & 0xff;
				break;
			case 2:	/* cut the datagram short */
				mlen = at + 1;
				break;
			case 3:
				mut[at] = mut[at] ^ 0x20;	/* flip case */
				break;
			}
		}
		snprintf(what, sizeof(what), "%s mutation %d", path, k);
		agree(c->skel, mut, mlen, k & 1 ? AF_INET6 : AF_INET, what);
		c->runs++;
	}
}

Test(parser_bpf, kernel_and_userspace_builds_agree_on_mutated_messages, .timeout = 120)
{
	struct mutate_ctx c = { .skel = load(), .seed = 20261125 };

	each_file("tests/msgs", mutate_and_agree, &c);
	each_file("tests/corpus", mutate_and_agree, &c);
	cr_assert_gt(c.runs, 200);
	parse_test__destroy(c.skel);
}
