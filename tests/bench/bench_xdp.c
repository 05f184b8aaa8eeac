// SPDX-License-Identifier: GPL-2.0
/*
 * bench_xdp.c: `make bench`: the XDP fast path under BPF_PROG_TEST_RUN against
 * a MAC-swap-and-XDP_TX baseline measured in the same run, Maglev rebuild
 * time and affinity entry memory. Prints a table and writes $BUILD/bench.json
 * (build/bench.json by default).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "bench_baseline.skel.h"
#include "siplb.skel.h"
#include "lbclock.h"
#include "lbmaps.h"
#include "maglev.h"
#include "siplb_hash.h"
#include "../bpf/pkt.h"

#define REPEAT 1000000	/* runs per measurement */
#define ROUNDS 7	/* measurements per case; the median is reported */

struct figure {
	const char *name;
	double value;
	const char *unit;
	double baseline;
};

static struct figure figs[32];
static int nfigs;

static void add(const char *name, double value, const char *unit, double baseline)
{
	figs[nfigs++] = (struct figure){ name, value, unit, baseline };
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* ns per run of prog on frame; -1 if the action is not the expected one. */
static double run_ns(int prog_fd, const __u8 *frame, int len, __u32 want, __u32 repeat)
{
	static __u8 out[PKT_MAX + 256];
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	opts.data_in = frame;
	opts.data_size_in = len;
	opts.data_out = out;
	opts.data_size_out = sizeof(out);
	opts.ctx_in = &ctx;
	opts.ctx_size_in = sizeof(ctx);
	opts.repeat = repeat;
	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		fprintf(stderr, "bench: test run: %s\n", strerror(errno));
		return -1;
	}
	if (opts.retval != want) {
		fprintf(stderr, "bench: action %u, expected %u\n", opts.retval, want);
		return -1;
	}
	return opts.duration;	/* average ns per run */
}

static int read_msg(const char *path, __u8 *buf, size_t max)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, max, f);
	fclose(f);
	return (int)n;
}

struct xcase {
	const char *name;
	const char *file;
	__u32 action;
	__u8 frame[PKT_MAX];
	int len;
};

static int setup_balancer(struct siplb *skel)
{
	static const char *const names[] = { "198.18.1.2:5060", "198.18.1.3:5060",
					     "198.18.1.4:5060" };
	struct siplb_config cfg = { .mtu = 1500, .maglev_size = SIPLB_MAGLEV_SIZE };
	struct vip_key vk = { .proto = IPPROTO_UDP, .family = AF_INET };
	struct vip_info vi = { .vip_id = 0, .mode = SIPLB_FWD_IPIP };
	struct siplb_hash_key key = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	struct maglev_backend mb[3];
	struct lb_maps m;
	__u32 *table, i;
	int err;

	err = lb_maps_from_object(skel->obj, &m);
	if (err)
		return err;
	cfg.hash_k0 = key.k0;
	cfg.hash_k1 = key.k1;
	inet_pton(AF_INET, "198.18.0.1", &cfg.src4);
	err = lb_clock_offset(&cfg.clock_off_ns) ?: lb_config_set(&m, &cfg);
	inet_pton(AF_INET, "198.18.0.100", &vk.addr[0]);
	vk.port = htons(5060);
	err = err ?: lb_vip_set(&m, &vk, &vi);
	for (i = 0; i < 3 && !err; i++) {
		struct backend b = { .family = AF_INET, .state = SIPLB_BE_UP, .weight = 1 };
		struct nexthop nh = { .dmac = { 2, 0, 0, 0, 1, i }, .smac = { 2, 0, 0, 0, 0, 1 },
				      .ifindex = 1 };

		inet_pton(AF_INET, names[i], &b.addr[0]);	/* stops at ':' */
		b.addr[0] = htonl(0xc6120102 + i);
		err = lb_backend_set(&m, i, &b) ?: lb_nexthop_set(&m, i, &nh);
		mb[i] = (struct maglev_backend){ .id = i, .weight = 1, .name = names[i],
						 .name_len = strlen(names[i]) };
	}
	if (err)
		return err;
	table = malloc(sizeof(*table) * SIPLB_MAGLEV_SIZE);
	if (!table)
		return -ENOMEM;
	err = maglev_build(mb, 3, table, SIPLB_MAGLEV_SIZE, &key) ?:
	      lb_maglev_publish(&m, &vk, table, SIPLB_MAGLEV_SIZE, 3);
	free(table);
	return err;
}

/*
 * The cost of DoS absorption turned on for VIP 0: rate limits no benchmark
 * frame exceeds (10^7 per second and burst, per class) and three scanner
 * signatures. Returns 0 or -errno.
 */
static int setup_dos(struct siplb *skel)
{
	static const char *const sigs[] = { "friendly-scanner", "sipvicious", "sipcli" };
	struct vip_policy p = { .flags = SIPLB_POL_F_SCANNERS };
	struct scanner_sigs s = { .n = 3 };
	__u32 vip = 0, c;

	for (c = 0; c < SIPLB_CLASS__MAX; c++) {
		p.interval_ns[c] = 100;			/* 10^7 per second */
		p.burst_ns[c] = 10000000ULL * 100;	/* 10^7 at once */
	}
	for (c = 0; c < 3; c++)
		siplb_scanner_sig_set(&s, c, sigs[c], strlen(sigs[c]));
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.vip_scanners), &vip, &s, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.vip_policy), &vip, &p, BPF_ANY))
		return -errno;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double maglev_ms(__u32 n)
{
	struct siplb_hash_key key = { 1, 2 };
	struct maglev_backend *b = calloc(n, sizeof(*b));
	char (*names)[32] = calloc(n, 32);
	__u32 *table = malloc(sizeof(*table) * SIPLB_MAGLEV_SIZE), i;
	double t[ROUNDS];
	int r;

	for (i = 0; i < n; i++) {
		snprintf(names[i], 32, "198.18.%u.%u:5060", 1 + i / 250, 1 + i % 250);
		b[i] = (struct maglev_backend){ .id = i, .weight = 1, .name = names[i],
						.name_len = strlen(names[i]) };
	}
	for (r = 0; r < ROUNDS; r++) {
		double t0 = now_ms();

		if (maglev_build(b, n, table, SIPLB_MAGLEV_SIZE, &key))
			return -1;
		t[r] = now_ms() - t0;
	}
	free(b);
	free(names);
	free(table);
	return median(t, ROUNDS);
}

/* Kernel memory of a map per entry, from the memlock line of its fdinfo. */
static double map_bytes_per_entry(int fd, __u32 entries)
{
	char path[64], line[256];
	unsigned long long memlock = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &memlock) == 1)
			break;
	fclose(f);
	return (double)memlock / entries;
}

int main(void)
{
	static struct xcase cases[] = {
		{ .name = "xdp_invite_800_ns", .file = "tests/msgs/invite.sip", .action = XDP_TX },
		{ .name = "xdp_invite_1400_ns", .file = "tests/msgs/invite_1400.sip", .action = XDP_TX },
		{ .name = "xdp_bye_ns", .file = "tests/msgs/bye.sip", .action = XDP_TX },
		{ .name = "xdp_200ok_ns", .file = "tests/msgs/ok200.sip", .action = XDP_TX },
		{ .name = "xdp_garbage_drop_ns", .file = "tests/msgs/garbage.bin", .action = XDP_DROP },
	};
	const int ncases = sizeof(cases) / sizeof(cases[0]);
	double base[ROUNDS], t[8][ROUNDS], bl;
	struct bench_baseline *bskel;
	struct siplb *skel;
	struct pkt_addrs a;
	__u8 payload[PKT_MAX];
	struct json_object *arr;
	char json_path[4096];
	int i, r, len, afd;
	FILE *f;

	libbpf_set_print(NULL);
	bskel = bench_baseline__open_and_load();
	skel = siplb__open();
	if (!bskel || !skel) {
		fprintf(stderr, "bench: cannot open the BPF objects (root?)\n");
		return 1;
	}
	skel->rodata->bench_undo_encap = true;
	if (siplb__load(skel) || setup_balancer(skel)) {
		fprintf(stderr, "bench: cannot load or set up the balancer\n");
		return 1;
	}
	pkt_default_addrs(&a, AF_INET);
	inet_pton(AF_INET, "198.18.0.100", &a.dst4);
	for (i = 0; i < ncases; i++) {
		len = read_msg(cases[i].file, payload, sizeof(payload));
		if (len < 0)
			return 1;
		cases[i].len = pkt_build_udp(&a, payload, len, cases[i].frame);
	}

	/* Interleave rounds so that machine noise hits every case alike. */
	for (r = 0; r < ROUNDS; r++) {
		base[r] = run_ns(bpf_program__fd(bskel->progs.swap_macs_tx),
				 cases[0].frame, cases[0].len, XDP_TX, REPEAT);
		for (i = 0; i < ncases; i++)
			t[i][r] = run_ns(bpf_program__fd(skel->progs.siplb_xdp),
					 cases[i].frame, cases[i].len, cases[i].action, REPEAT);
		if (base[r] < 0)
			return 1;
		for (i = 0; i < ncases; i++)
			if (t[i][r] < 0)
				return 1;
	}
	bl = median(base, ROUNDS);
	add("xdp_baseline_swap_tx_ns", bl, "ns/packet", bl);
	for (i = 0; i < ncases; i++) {
		double v = median(t[i], ROUNDS);
		char *mpps = malloc(64);

		add(cases[i].name, v, "ns/packet", bl);
		snprintf(mpps, 64, "%.*s_mpps", (int)strlen(cases[i].name) - 3, cases[i].name);
		add(mpps, 1e3 / v, "Mpps/core", 1e3 / bl);
	}

	/* The same INVITE with rate limits and scanner signatures on; a scanner's
	 * INVITE dropped. Baseline: the INVITE with nothing on, this run. */
	{
		static struct xcase dos[] = {
			{ .name = "xdp_invite_800_dos_ns", .file = "tests/msgs/invite.sip",
			  .action = XDP_TX },
			{ .name = "xdp_scanner_drop_ns", .file = "tests/msgs/invite_scanner.sip",
			  .action = XDP_DROP },
		};
		double td[2][ROUNDS], plain = median(t[0], ROUNDS);

		if (setup_dos(skel)) {
			fprintf(stderr, "bench: cannot turn the DoS limits on\n");
			return 1;
		}
		for (i = 0; i < 2; i++) {
			len = read_msg(dos[i].file, payload, sizeof(payload));
			if (len < 0)
				return 1;
			dos[i].len = pkt_build_udp(&a, payload, len, dos[i].frame);
		}
		for (r = 0; r < ROUNDS; r++)
			for (i = 0; i < 2; i++) {
				td[i][r] = run_ns(bpf_program__fd(skel->progs.siplb_xdp),
						  dos[i].frame, dos[i].len, dos[i].action, REPEAT);
				if (td[i][r] < 0)
					return 1;
			}
		for (i = 0; i < 2; i++)
			add(dos[i].name, median(td[i], ROUNDS), "ns/packet", plain);
	}

	add("maglev_rebuild_1000_ms", maglev_ms(1000), "ms", maglev_ms(2));

	afd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "aff_probe", sizeof(__u64),
			     sizeof(struct affinity), SIPLB_AFFINITY_DEFAULT, NULL);
	if (afd >= 0)
		add("affinity_entry_bytes", map_bytes_per_entry(afd, SIPLB_AFFINITY_DEFAULT),
		    "bytes", sizeof(__u64) + sizeof(struct affinity));

	printf("%-28s %12s %-10s %12s %8s\n", "name", "value", "unit", "baseline", "ratio");
	arr = json_object_new_array();
	for (i = 0; i < nfigs; i++) {
		struct json_object *o = json_object_new_object();
		double ratio = figs[i].baseline ? figs[i].value / figs[i].baseline : 0;

		printf("%-28s %12.2f %-10s %12.2f %8.2f\n", figs[i].name, figs[i].value,
		       figs[i].unit, figs[i].baseline, ratio);
		json_object_object_add(o, "name", json_object_new_string(figs[i].name));
		json_object_object_add(o, "value", json_object_new_double(figs[i].value));
		json_object_object_add(o, "unit", json_object_new_string(figs[i].unit));
		json_object_object_add(o, "baseline", json_object_new_double(figs[i].baseline));
		json_object_object_add(o, "ratio", json_object_new_double(ratio));
		json_object_array_add(arr, o);
	}
	snprintf(json_path, sizeof(json_path), "%s/bench.json",
		 getenv("BUILD") ? getenv("BUILD") : "build");
	f = fopen(json_path, "w");
	if (!f) {
		fprintf(stderr, "bench: %s: %s\n", json_path, strerror(errno));
		return 1;
	}
	fprintf(f, "%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
	fclose(f);
	json_object_put(arr);
	siplb__destroy(skel);
	bench_baseline__destroy(bskel);
	return 0;
}
