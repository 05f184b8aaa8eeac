// SPDX-License-Identifier: GPL-2.0
/* test_siplbctl.c: siplbctl as a user runs it: exit status, JSON fields, errors, a fake daemon. */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <libgen.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "control.h"

/* The siplbctl of this build: BUILD/tests/unit and BUILD/asan/unit both sit two below BUILD. */
static const char *bin(void)
{
	static char path[1024];
	char exe[1000];
	ssize_t n;

	if (path[0])
		return path;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		snprintf(path, sizeof(path), "%s/siplbctl", dirname(dirname(exe)));
		if (!access(path, X_OK))
			return path;
	}
	snprintf(path, sizeof(path), "build/siplbctl");
	return path;
}

/* Run a shell command; its stdout into out (size n). Returns the exit status. */
static int run(const char *cmd, char *out, size_t n)
{
	FILE *p = popen(cmd, "r");
	size_t len;
	int st;

	cr_assert_not_null(p, "popen %s", cmd);
	len = fread(out, 1, n - 1, p);
	out[len] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Run siplbctl with args (a shell fragment); its stdout into out. Returns the exit status. */
static int run_ctl(const char *args, char *out, size_t n)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "%s %s", bin(), args);
	return run(cmd, out, n);
}

static struct json_object *parse_json(const char *file)
{
	char cmd[2048], out[8192];
	struct json_object *o;

	snprintf(cmd, sizeof(cmd), "%s parse --json %s", bin(), file);
	cr_assert_eq(run(cmd, out, sizeof(out)), 0, "%s exits 0", cmd);
	o = json_tokener_parse(out);
	cr_assert_not_null(o, "one JSON object from %s: %s", cmd, out);
	return o;
}

static const char *str(struct json_object *o, const char *k)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, k, &v), "field %s present", k);
	return v ? json_object_get_string(v) : NULL;
}

Test(siplbctl, parse_json_reports_an_invite_for_the_fast_path)
{
	struct json_object *o = parse_json("tests/msgs/invite.sip"), *v;

	cr_assert(json_object_object_get_ex(o, "valid", &v) && json_object_get_boolean(v));
	cr_assert_str_eq(str(o, "method"), "INVITE");
	cr_assert(json_object_object_get_ex(o, "status", &v) && v == NULL, "status null");
	cr_assert_str_eq(str(o, "call_id"), "a84b4c76e66710@pc33.atlanta.example.com");
	cr_assert_str_eq(str(o, "via_branch"), "z9hG4bK776asdhds");
	cr_assert_str_eq(str(o, "via_sent_by"), "pc33.atlanta.example.com:5060");
	cr_assert_str_eq(str(o, "to_aor"), "bob@biloxi.example.com");
	cr_assert(json_object_object_get_ex(o, "to_tag", &v) && !json_object_get_boolean(v),
		  "an initial INVITE has no To tag");
	cr_assert_str_eq(str(o, "path"), "xdp");
	json_object_put(o);
}

Test(siplbctl, parse_json_marks_an_in_dialog_request_by_its_to_tag)
{
	struct json_object *o = parse_json("tests/msgs/bye.sip"), *v;

	cr_assert_str_eq(str(o, "method"), "BYE");
	cr_assert(json_object_object_get_ex(o, "to_tag", &v) && json_object_get_boolean(v),
		  "a BYE carries a To tag");
	json_object_put(o);
}

Test(siplbctl, parse_json_reports_a_response_status_and_no_method)
{
	struct json_object *o = parse_json("tests/msgs/ok200.sip"), *v;

	cr_assert(json_object_object_get_ex(o, "status", &v) && json_object_get_int(v) == 200);
	cr_assert(json_object_object_get_ex(o, "method", &v) && v == NULL, "method null");
	cr_assert_str_eq(str(o, "path"), "xdp");
	json_object_put(o);
}

Test(siplbctl, parse_json_says_why_a_message_is_dropped_or_goes_slow)
{
	struct json_object *o = parse_json("tests/msgs/no_callid.sip"), *v;

	cr_assert(json_object_object_get_ex(o, "valid", &v) && !json_object_get_boolean(v));
	cr_assert_str_eq(str(o, "path"), "drop");
	cr_assert_str_eq(str(o, "reason"), "no_call_id");
	json_object_put(o);
	o = parse_json("tests/msgs/folded.sip");
	cr_assert_str_eq(str(o, "path"), "slow");
	cr_assert_str_eq(str(o, "reason"), "folded_header");
	json_object_put(o);
	o = parse_json("tests/msgs/garbage.bin");
	cr_assert_str_eq(str(o, "path"), "drop");
	cr_assert_str_eq(str(o, "reason"), "not_sip");
	json_object_put(o);
}

Test(siplbctl, parse_key_prints_the_same_hash_as_the_library)
{
	char out[8192];

	cr_assert_eq(run_ctl("parse --json --key 000102030405060708090a0b0c0d0e0f "
			     "tests/msgs/invite.sip", out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "\"call_id_hash\":\""), "%s", out);
	cr_assert_eq(run_ctl("parse --json --key 0001 tests/msgs/invite.sip 2>/dev/null",
			     out, sizeof(out)), 2, "a short key is bad usage");
}

Test(siplbctl, parse_of_a_missing_file_names_it_and_fails)
{
	char out[8192];

	cr_assert_eq(run_ctl("parse --json /nonexistent/x.sip 2>&1", out, sizeof(out)), 1);
	cr_assert_not_null(strstr(out, "/nonexistent/x.sip"), "error names the file: %s", out);
	cr_assert_eq(run_ctl("parse 2>&1", out, sizeof(out)), 2, "no file: usage");
	cr_assert_eq(run_ctl("frobnicate 2>&1", out, sizeof(out)), 2);
}

Test(siplbctl, an_unknown_command_or_option_is_bad_usage)
{
	char out[8192];

	cr_assert_eq(run_ctl("frobnicate 2>&1", out, sizeof(out)), 2);
	cr_assert_not_null(strstr(out, "unknown command 'frobnicate'"), "%s", out);
	cr_assert_eq(run_ctl("--frob status 2>&1", out, sizeof(out)), 2);
	cr_assert_eq(run_ctl("weight b1 lots 2>&1", out, sizeof(out)), 2);
	cr_assert_eq(run_ctl("2>&1", out, sizeof(out)), 2, "no command");
}

Test(siplbctl, help_lists_every_command)
{
	static const char *const names[] = { "status", "backends", "add", "remove", "drain",
		"undrain", "weight", "stats", "top", "reload", "explain", "parse", "ban", "unban",
		"bans" };
	char out[16384], want[32];
	size_t i;

	cr_assert_eq(run_ctl("help", out, sizeof(out)), 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(want, sizeof(want), "\n  %s ", names[i]);
		cr_assert_not_null(strstr(out, want), "help lists %s", names[i]);
	}
}

Test(siplbctl, a_command_without_a_daemon_says_it_is_not_running)
{
	char out[8192];

	cr_assert_eq(run_ctl("-s /nonexistent/siplb.sock status 2>&1", out, sizeof(out)), 1);
	cr_assert_str_eq(out, "siplbctl: siplbd is not running (no socket at "
			 "/nonexistent/siplb.sock)\n");
	cr_assert_eq(run_ctl("backends --socket /nonexistent/siplb.sock 2>&1", out, sizeof(out)), 1,
		     "the socket option also after the command");
	cr_assert_not_null(strstr(out, "not running"), "%s", out);
}

/*
 * A fake siplbd: the real control server in a thread, with handlers that
 * record each request and answer from canned JSON.
 */
static char fdir[64], fsock[128];
static struct ctl_server *fsrv;
static pthread_t fthread;
static atomic_int fstop;
static pthread_mutex_t flock = PTHREAD_MUTEX_INITIALIZER;
static struct json_object *freqs;	/* every request the fake siplbd got */
static unsigned long long ftick;	/* grows with each stats answer, for top */

static void add_canned(struct json_object *resp, const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	cr_assert_not_null(o, "canned JSON parses: %s", text);
	json_object_object_foreach(o, k, v)
		json_object_object_add(resp, k, json_object_get(v));
	json_object_put(o);
}

static int fake(void *arg, struct json_object *req, struct json_object *resp,
		char *err, size_t errlen)
{
	const char *cmd = json_object_get_string(json_object_object_get(req, "cmd"));
	char buf[1024];

	(void)arg;
	pthread_mutex_lock(&flock);
	json_object_array_add(freqs, json_object_get(req));
	pthread_mutex_unlock(&flock);
	if (!strcmp(cmd, "reload")) {
		snprintf(err, errlen, "/etc/siplb.yaml:12: setting 'x': not a number");
		return -EINVAL;
	}
	if (!strcmp(cmd, "explain")) {
		add_canned(resp, "{\"vip\":\"v1\",\"path\":\"xdp\",\"reason\":null,\"key\":\"call-id\","
			   "\"key_value\":\"abc@host\",\"hash\":\"0123456789abcdef\",\"backend\":"
			   "{\"id\":3,\"name\":\"b3\",\"address\":\"10.0.0.3\",\"port\":5060,"
			   "\"state\":\"up\"},\"why\":\"by Call-ID\"}");
	} else if (!strcmp(cmd, "status")) {
		/* Sparse on purpose: the CLI must cope with missing fields. */
		add_canned(resp, "{\"instance\":\"t\",\"vips\":[{\"name\":\"v1\"}],\"interfaces\":[]}");
	} else if (!strcmp(cmd, "backends")) {
		snprintf(buf, sizeof(buf), "{\"backends\":[{\"id\":3,\"vip\":\"v1\",\"name\":\"b3\","
			 "\"address\":\"10.0.0.3\",\"port\":5060,\"state\":\"up\",\"packets\":%llu,"
			 "\"bytes\":%llu,\"health\":{\"state\":\"up\",\"probed\":true,"
			 "\"history\":[{\"result\":\"ok\",\"ago_ms\":10},"
			 "{\"result\":\"timeout\",\"ago_ms\":2000}]}},{\"name\":\"bare\"}]}",
			 ftick * 100, ftick * 10000);
		add_canned(resp, buf);
	} else if (!strcmp(cmd, "stats")) {
		ftick++;
		snprintf(buf, sizeof(buf), "{\"drops\":{\"not_sip\":%llu,\"no_via\":0},\"slow\":{},"
			 "\"events\":{},\"vips\":[{\"name\":\"v1\",\"packets\":%llu,\"bytes\":0}],"
			 "\"backends\":[]}", ftick * 5, ftick * 100);
		add_canned(resp, buf);
	} else if (!strcmp(cmd, "add")) {
		add_canned(resp, "{\"id\":9}");
	} else if (!strcmp(cmd, "bans")) {
		add_canned(resp, "{\"bans\":[{\"prefix\":\"198.18.7.0/24\",\"origin\":\"manual\","
			   "\"expires\":0,\"expires_in_s\":null},{\"prefix\":\"198.18.9.9/32\","
			   "\"origin\":\"auto\",\"expires\":1,\"expires_in_s\":3599}],"
			   "\"auto_bans\":4,\"expired\":2,\"file\":\"/var/lib/siplb/t.bans\"}");
	} else if (!strcmp(cmd, "offenders")) {
		add_canned(resp, "{\"offenders\":[{\"source\":\"198.18.66.6/32\",\"vip\":\"v1\","
			   "\"over\":12345,\"over_for_s\":7,\"last_seen_ms_ago\":300}],\"total\":1}");
	}
	return 0;
}

static const struct ctl_command fake_cmds[] = {
	{ "status", fake }, { "backends", fake }, { "stats", fake }, { "add", fake },
	{ "remove", fake }, { "drain", fake }, { "undrain", fake }, { "weight", fake },
	{ "reload", fake }, { "explain", fake }, { "ban", fake }, { "unban", fake },
	{ "bans", fake }, { "offenders", fake },
};

static void *fake_loop(void *p)
{
	struct pollfd pfd = { .fd = ctl_server_fd(p), .events = POLLIN };

	while (!atomic_load(&fstop)) {
		poll(&pfd, 1, 10);
		ctl_server_process(p);
	}
	return NULL;
}

static void fake_start(void)
{
	char err[256] = "";

	snprintf(fdir, sizeof(fdir), "/tmp/siplbctl-XXXXXX");
	cr_assert_not_null(mkdtemp(fdir));
	snprintf(fsock, sizeof(fsock), "%s/siplbd.sock", fdir);
	freqs = json_object_new_array();
	cr_assert_eq(ctl_server_open(&fsrv, fsock, fake_cmds,
				     sizeof(fake_cmds) / sizeof(fake_cmds[0]), NULL,
				     err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(pthread_create(&fthread, NULL, fake_loop, fsrv), 0);
}

static void fake_stop(void)
{
	char cmd[128];

	atomic_store(&fstop, 1);
	pthread_join(fthread, NULL);
	ctl_server_close(fsrv);
	json_object_put(freqs);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fdir);
	cr_assert_eq(system(cmd), 0);
}

/* Run siplbctl against the fake daemon; args after "-s SOCKET". */
static int run_fake(const char *args, char *out, size_t n)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "-t 10 -s %s %s", fsock, args);
	return run_ctl(cmd, out, n);
}

static struct json_object *req_at(size_t i)
{
	struct json_object *r;

	pthread_mutex_lock(&flock);
	cr_assert_gt(json_object_array_length(freqs), i, "request %zu came", i);
	r = json_object_array_get_idx(freqs, i);
	pthread_mutex_unlock(&flock);
	return r;
}

static const char *req_str(size_t i, const char *k)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(req_at(i), k, &v), "request has %s", k);
	return json_object_get_string(v);
}

static int req_int(size_t i, const char *k)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(req_at(i), k, &v), "request has %s", k);
	return json_object_get_int(v);
}

static size_t nreqs(void)
{
	size_t n;

	pthread_mutex_lock(&flock);
	n = json_object_array_length(freqs);
	pthread_mutex_unlock(&flock);
	return n;
}

/* No .timeout: libcriterion 2.4 leaks when two suites set one; -t bounds siplbctl. */
TestSuite(siplbctl_daemon, .init = fake_start, .fini = fake_stop);

Test(siplbctl_daemon, explain_sends_a_raw_message_byte_for_byte)
{
	static const char hex[] = "0123456789abcdef";
	char out[8192], file[65536], want[sizeof(file) * 2 + 1];
	FILE *f = fopen("tests/msgs/invite.sip", "rb");
	size_t len, i;

	cr_assert_not_null(f);
	len = fread(file, 1, sizeof(file), f);
	fclose(f);
	for (i = 0; i < len; i++) {
		want[2 * i] = hex[(unsigned char)file[i] >> 4];
		want[2 * i + 1] = hex[file[i] & 15];
	}
	want[2 * len] = 0;

	cr_assert_eq(run_fake("explain tests/msgs/invite.sip --dst 198.18.2.1:5060",
			      out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(req_str(0, "cmd"), "explain");
	cr_assert_str_eq(req_str(0, "payload_hex"), want);
	cr_assert_str_eq(req_str(0, "src"), "198.18.0.1", "the default source");
	cr_assert_eq(req_int(0, "sport"), 5060);
	cr_assert_str_eq(req_str(0, "dst"), "198.18.2.1");
	cr_assert_eq(req_int(0, "dport"), 5060);
	cr_assert_not_null(strstr(out, "INVITE"), "%s", out);
	cr_assert_not_null(strstr(out, "b3 10.0.0.3:5060 (up)"), "%s", out);

	cr_assert_eq(run_fake("--json explain --src [2001:db8::7]:5070 --dst [2001:db8::1]:5062 "
			      "tests/msgs/invite.sip", out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(req_str(1, "src"), "2001:db8::7");
	cr_assert_eq(req_int(1, "sport"), 5070);
	cr_assert_str_eq(req_str(1, "dst"), "2001:db8::1");
	cr_assert_eq(req_int(1, "dport"), 5062);
	{
		struct json_object *o = json_tokener_parse(out);

		cr_assert_not_null(o, "--json prints JSON: %s", out);
		cr_assert_str_eq(str(o, "path"), "xdp");
		cr_assert(!json_object_object_get_ex(o, "ok", NULL), "the result, without ok");
		json_object_put(o);
	}
	cr_assert_eq(run_fake("explain tests/msgs/invite.sip 2>/dev/null", out, sizeof(out)), 2,
		     "a raw message needs --dst");
}

/* Append one UDP datagram to a capture: IPv4 or IPv6, behind the link header l2. */
static void dump_udp(pcap_dumper_t *d, const unsigned char *l2, size_t l2len, int v6,
		     const char *payload)
{
	unsigned char frame[2048] = { 0 }, *ip = frame + l2len, *udp;
	size_t plen = strlen(payload), iplen = v6 ? 40 : 20;
	struct pcap_pkthdr h = { 0 };

	memcpy(frame, l2, l2len);
	udp = ip + iplen;
	if (v6) {
		ip[0] = 0x60;
		ip[4] = (8 + plen) >> 8;
		ip[5] = (8 + plen) & 0xff;
		ip[6] = 17;
		ip[7] = 64;
		ip[8] = 0x20, ip[9] = 0x01, ip[10] = 0x0d, ip[11] = 0xb8, ip[23] = 2;
		ip[24] = 0x20, ip[25] = 0x01, ip[26] = 0x0d, ip[27] = 0xb8, ip[39] = 1;
	} else {
		ip[0] = 0x45;
		ip[2] = (20 + 8 + plen) >> 8;
		ip[3] = (20 + 8 + plen) & 0xff;
		ip[8] = 64;
		ip[9] = 17;
		ip[12] = 198, ip[13] = 18, ip[14] = 0, ip[15] = 1;
		ip[16] = 198, ip[17] = 18, ip[18] = 2, ip[19] = 1;
	}
	udp[0] = 5070 >> 8, udp[1] = 5070 & 0xff;
	udp[2] = 5060 >> 8, udp[3] = 5060 & 0xff;
	udp[4] = (8 + plen) >> 8, udp[5] = (8 + plen) & 0xff;
	memcpy(udp + 8, payload, plen);
	h.caplen = h.len = l2len + iplen + 8 + plen;
	pcap_dump((unsigned char *)d, &h, frame);
}

Test(siplbctl_daemon, explain_walks_a_pcap_over_ethernet_vlan_and_linux_cooked)
{
	static const unsigned char eth4[14] = { [12] = 0x08, [13] = 0x00 };
	static const unsigned char vlan6[18] = { [12] = 0x81, [13] = 0x00, [15] = 5,
						 [16] = 0x86, [17] = 0xdd };
	static const unsigned char arp[14] = { [12] = 0x08, [13] = 0x06 };
	static const unsigned char sll2[20] = { [0] = 0x08, [1] = 0x00 };
	char file[160], out[16384];
	pcap_dumper_t *d;
	pcap_t *p;

	snprintf(file, sizeof(file), "%s/eth.pcap", fdir);
	p = pcap_open_dead(DLT_EN10MB, 65535);
	d = pcap_dump_open(p, file);
	cr_assert_not_null(d);
	dump_udp(d, eth4, sizeof(eth4), 0, "OPTIONS sip:a SIP/2.0\r\n\r\n");
	dump_udp(d, arp, sizeof(arp), 0, "not ip at all");
	dump_udp(d, vlan6, sizeof(vlan6), 1, "BYE sip:b SIP/2.0\r\n\r\n");
	pcap_dump_close(d);
	pcap_close(p);

	snprintf(out, sizeof(out), "explain %s", file);
	cr_assert_eq(run_fake(out, out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(nreqs(), 2, "two UDP packets, the ARP frame skipped");
	cr_assert_str_eq(req_str(0, "src"), "198.18.0.1");
	cr_assert_eq(req_int(0, "sport"), 5070);
	cr_assert_str_eq(req_str(0, "dst"), "198.18.2.1");
	cr_assert_str_eq(req_str(0, "payload_hex"),
			 "4f5054494f4e53207369703a61205349502f322e300d0a0d0a");
	cr_assert_str_eq(req_str(1, "src"), "2001:db8::2");
	cr_assert_str_eq(req_str(1, "dst"), "2001:db8::1");
	cr_assert_not_null(strstr(out, "packet 1: 198.18.0.1:5070 -> 198.18.2.1:5060, OPTIONS"),
			   "%s", out);
	cr_assert_not_null(strstr(out, "packet 3: [2001:db8::2]:5070 -> [2001:db8::1]:5060, BYE"),
			   "%s", out);
	cr_assert_not_null(strstr(out, "3 packets: 2 explained, 1 not UDP"), "%s", out);

	/* --dst selects packets of a capture. */
	snprintf(out, sizeof(out), "--json explain --dst [2001:db8::1] %s", file);
	cr_assert_eq(run_fake(out, out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(nreqs(), 3);
	{
		struct json_object *a = json_tokener_parse(out), *o;

		cr_assert(json_object_is_type(a, json_type_array), "%s", out);
		cr_assert_eq(json_object_array_length(a), 1);
		o = json_object_array_get_idx(a, 0);
		cr_assert_eq(json_object_get_int(json_object_object_get(o, "packet")), 3);
		cr_assert_str_eq(str(o, "dst"), "2001:db8::1");
		json_object_put(a);
	}

	snprintf(file, sizeof(file), "%s/sll2.pcap", fdir);
	p = pcap_open_dead(DLT_LINUX_SLL2, 65535);
	d = pcap_dump_open(p, file);
	cr_assert_not_null(d);
	dump_udp(d, sll2, sizeof(sll2), 0, "INVITE sip:c SIP/2.0\r\n\r\n");
	pcap_dump_close(d);
	pcap_close(p);
	snprintf(out, sizeof(out), "explain %s", file);
	cr_assert_eq(run_fake(out, out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(nreqs(), 4);
	cr_assert_str_eq(req_str(3, "dst"), "198.18.2.1");
}

Test(siplbctl_daemon, commands_send_their_arguments)
{
	char out[8192];

	cr_assert_eq(run_fake("add v1 10.0.0.9:5080 --weight 5 --name b9", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "added backend 9 (10.0.0.9:5080) to VIP v1\n");
	cr_assert_str_eq(req_str(0, "vip"), "v1");
	cr_assert_str_eq(req_str(0, "address"), "10.0.0.9");
	cr_assert_eq(req_int(0, "port"), 5080);
	cr_assert_eq(req_int(0, "weight"), 5);
	cr_assert_str_eq(req_str(0, "name"), "b9");
	cr_assert_eq(run_fake("drain 10.0.0.9:5080", out, sizeof(out)), 0);
	cr_assert_str_eq(req_str(1, "cmd"), "drain");
	cr_assert_str_eq(req_str(1, "backend"), "10.0.0.9:5080");
	cr_assert_eq(run_fake("weight b9 7", out, sizeof(out)), 0);
	cr_assert_eq(req_int(2, "weight"), 7);
	cr_assert_eq(run_fake("backends v1", out, sizeof(out)), 0);
	cr_assert_str_eq(req_str(3, "vip"), "v1");
	cr_assert_not_null(strstr(out, "x+"), "checks oldest first: %s", out);
	cr_assert_eq(run_fake("--json remove 3", out, sizeof(out)), 0);
	cr_assert_str_eq(req_str(4, "backend"), "3");
	cr_assert_str_eq(out, "{\n}\n");
}

Test(siplbctl_daemon, ban_unban_and_bans_send_prefix_and_duration)
{
	char out[8192];

	cr_assert_eq(run_fake("ban 198.18.7.0/24 --for 2h", out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(req_str(0, "cmd"), "ban");
	cr_assert_str_eq(req_str(0, "prefix"), "198.18.7.0/24");
	cr_assert_eq(req_int(0, "duration"), 7200);
	cr_assert_str_eq(out, "banned 198.18.7.0/24 for 2h0m\n");
	cr_assert_eq(run_fake("ban 2001:db8::/48", out, sizeof(out)), 0);
	cr_assert_null(json_object_object_get(json_object_array_get_idx(freqs, 1), "duration"),
		       "no --for: until unbanned");
	cr_assert_eq(run_fake("unban 198.18.7.0/24", out, sizeof(out)), 0);
	cr_assert_str_eq(req_str(2, "cmd"), "unban");
	cr_assert_str_eq(req_str(2, "prefix"), "198.18.7.0/24");
	cr_assert_eq(run_fake("bans", out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "198.18.7.0/24"), "%s", out);
	cr_assert_not_null(strstr(out, "never"), "%s", out);
	cr_assert_not_null(strstr(out, "59m59s"), "%s", out);
	cr_assert_not_null(strstr(out, "auto-bans made 4"), "%s", out);
	cr_assert_eq(run_fake("ban 198.18.7.0/24 --for soon 2>&1", out, sizeof(out)), 2);
	cr_assert_eq(run_fake("ban 2>&1", out, sizeof(out)), 2);
}

Test(siplbctl_daemon, top_shows_the_top_talkers)
{
	char out[16384];
	struct json_object *o, *t;

	cr_assert_eq(run_fake("top --json --interval 0.1 --count 1", out, sizeof(out)), 0);
	o = json_tokener_parse(out);
	cr_assert_not_null(o, "%s", out);
	t = json_object_array_get_idx(json_object_object_get(o, "top_talkers"), 0);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(t, "source")),
			 "198.18.66.6/32");
	cr_assert_eq(json_object_get_int64(json_object_object_get(t, "over")), 12345);
	json_object_put(o);
	cr_assert_eq(run_fake("top -n 0.1 -c 1", out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "TOP TALKER"), "%s", out);
	cr_assert_not_null(strstr(out, "198.18.66.6/32"), "%s", out);
}

Test(siplbctl_daemon, sparse_answers_still_print)
{
	char out[8192];

	cr_assert_eq(run_fake("status", out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "siplbd t"), "%s", out);
	cr_assert_not_null(strstr(out, "v1"), "%s", out);
	cr_assert_eq(run_fake("stats", out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "not_sip"), "%s", out);
	cr_assert_not_null(strstr(out, "(1 more at zero)"), "%s", out);
	cr_assert_not_null(strstr(out, "(all zero)") || strstr(out, "(none reported)"), "%s", out);
}

Test(siplbctl_daemon, a_daemon_error_is_printed_and_exits_1)
{
	char out[8192];

	cr_assert_eq(run_fake("reload 2>&1", out, sizeof(out)), 1);
	cr_assert_str_eq(out, "siplbctl: /etc/siplb.yaml:12: setting 'x': not a number\n");
}

Test(siplbctl_daemon, top_prints_rates_per_interval)
{
	char out[16384], *line;
	struct json_object *o;
	int n = 0;

	cr_assert_eq(run_fake("top --json --interval 0.1 --count 2", out, sizeof(out)), 0,
		     "%s", out);
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		struct json_object *b;

		o = json_tokener_parse(line);
		cr_assert_not_null(o, "one JSON object per line: %s", line);
		/* 5 drops and 100 packets per stats call, one call per 0.1 s. */
		cr_assert_gt(json_object_get_double(json_object_object_get(o, "drops_per_s")), 10);
		b = json_object_array_get_idx(json_object_object_get(o, "backends"), 0);
		b = json_object_object_get(b, "packets_per_s");
		cr_assert_gt(json_object_get_double(b), 100);
		json_object_put(o);
		n++;
	}
	cr_assert_eq(n, 2);
	cr_assert_eq(run_fake("top -n 0.1 -c 1", out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "PKT/S"), "%s", out);
}
