// SPDX-License-Identifier: GPL-2.0
/* siplb-decap.c: attach, detach and inspect the backend-side XDP decapsulator. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "decap.skel.h"
#include "siplb_maps.h"

#define PROG_NAME "siplb_decap"	/* the XDP function in bpf/decap.bpf.c */
#define MAX_ALLOW 256		/* DECAP_MAX_SOURCES in bpf/decap.bpf.c */
#define MAX_MAPS 16		/* maps one program may use that we look at */

static const char *const stat_names[DECAP_STAT__MAX] = {
	[DECAP_STAT_DECAPSULATED] = "decapsulated",
	[DECAP_STAT_NOT_TUNNEL] = "not_tunnel",
	[DECAP_STAT_UNKNOWN_SOURCE] = "unknown_source",
	[DECAP_STAT_FRAGMENT] = "fragment",
	[DECAP_STAT_MALFORMED] = "malformed",
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: siplb-decap attach IFACE --allow ADDR [--allow ADDR...] [--generic]\n"
		"       siplb-decap detach IFACE [--force]\n"
		"       siplb-decap stats IFACE\n"
		"       siplb-decap --help\n"
		"\n"
		"Backend-side decapsulator for siplb's direct server return, for backends\n"
		"whose kernel has no ipip/ip6_tunnel modules. An XDP program strips the outer\n"
		"IPv4-in-IPv4 or IPv6-in-IPv6 header of packets that a balancer tunnels to\n"
		"this host, so that the inner packet (client -> VIP) reaches the local stack;\n"
		"the VIP must be configured on this host (e.g. on lo) and the SIP server bound\n"
		"to it answers the client directly. Tunnels from any source not allowed are\n"
		"passed up untouched (and counted); the program never drops a packet.\n"
		"\n"
		"Commands:\n"
		"  attach IFACE   load the program, allow the given outer source addresses\n"
		"                 (the balancers' IPv4 or IPv6 addresses) and attach it to\n"
		"                 IFACE, natively (driver mode) unless --generic. It stays\n"
		"                 attached after siplb-decap exits; attaching again replaces\n"
		"                 it (with the new allow list).\n"
		"  detach IFACE   remove the XDP program from IFACE; refuses a program that is\n"
		"                 not siplb's decapsulator unless --force.\n"
		"  stats IFACE    print the allowed sources and the decapsulator's counters\n"
		"                 (summed over CPUs):\n"
		"                   decapsulated    outer header stripped, inner packet passed on\n"
		"                   not_tunnel      not IPIP/IP6IP6: passed untouched\n"
		"                   unknown_source  tunnel from a source not allowed: passed untouched\n"
		"                   fragment        fragmented outer packet: passed to the stack\n"
		"                   malformed       truncated or inconsistent headers: passed untouched\n"
		"\n"
		"Options:\n"
		"  -a, --allow ADDR   an allowed outer source address (repeatable, up to %d)\n"
		"  -g, --generic      attach in generic (skb) mode, for drivers without XDP\n"
		"  -f, --force        detach whatever XDP program is on IFACE\n"
		"  -h, --help         this text\n"
		"\n"
		"Needs root (CAP_NET_ADMIN and CAP_BPF). Exit status: 0 on success, 1 on\n"
		"failure, 2 on bad usage.\n",
		MAX_ALLOW);
}

static int iface_index(const char *name)
{
	int idx = if_nametoindex(name);

	if (!idx)
		fprintf(stderr, "siplb-decap: unknown interface '%s': %s\n", name,
			strerror(errno));
	return idx;
}

static int parse_addr(const char *s, struct decap_key *k)
{
	memset(k, 0, sizeof(*k));
	if (inet_pton(AF_INET, s, k->addr) == 1) {
		k->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, k->addr) == 1) {
		k->family = AF_INET6;
		return 0;
	}
	return -1;
}

static const char *key_str(const struct decap_key *k, char *buf, size_t size)
{
	if (!inet_ntop(k->family == AF_INET6 ? AF_INET6 : AF_INET, k->addr, buf, size))
		snprintf(buf, size, "(family %u)", k->family);
	return buf;
}

static const char *mode_name(__u8 mode)
{
	switch (mode) {
	case XDP_ATTACHED_DRV: return "native";
	case XDP_ATTACHED_SKB: return "generic";
	case XDP_ATTACHED_HW: return "offload";
	case XDP_ATTACHED_MULTI: return "multi";
	default: return "none";
	}
}

/* What is attached to ifindex: prog id (0 = nothing) and the mode flag to detach it. */
static int xdp_current(int ifindex, __u32 *prog_id, __u32 *flags, __u8 *mode)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err = bpf_xdp_query(ifindex, 0, &q);

	if (err)
		return err;
	*mode = q.attach_mode;
	*prog_id = q.prog_id;
	*flags = 0;
	if (q.drv_prog_id) {
		*prog_id = q.drv_prog_id;
		*flags = XDP_FLAGS_DRV_MODE;
	} else if (q.skb_prog_id) {
		*prog_id = q.skb_prog_id;
		*flags = XDP_FLAGS_SKB_MODE;
	} else if (q.hw_prog_id) {
		*prog_id = q.hw_prog_id;
		*flags = XDP_FLAGS_HW_MODE;
	}
	return 0;
}

static __u32 prog_id_of(int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static int cmd_attach(const char *ifname, struct decap_key *allow, int n_allow,
		      bool generic)
{
	__u32 flags = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	__u32 old_id, old_flags, one = 1;
	char buf[INET6_ADDRSTRLEN];
	struct decap *skel;
	int ifindex, err, i;
	__u8 mode;

	ifindex = iface_index(ifname);
	if (!ifindex)
		return 1;
	skel = decap__open_and_load();
	if (!skel) {
		fprintf(stderr, "siplb-decap: cannot load the decapsulator: %s\n",
			strerror(errno));
		return 1;
	}
	for (i = 0; i < n_allow; i++) {
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.decap_sources),
					  &allow[i], &one, BPF_ANY);
		if (err) {
			fprintf(stderr, "siplb-decap: allow %s: %s\n",
				key_str(&allow[i], buf, sizeof(buf)), strerror(errno));
			goto fail;
		}
	}
	if (xdp_current(ifindex, &old_id, &old_flags, &mode))
		old_id = 0;
	/* A program in the other mode would block ours: remove a decapsulator there. */
	if (old_id && old_flags && old_flags != flags) {
		fprintf(stderr, "siplb-decap: %s already has an XDP program (id %u, %s mode); "
			"detach it first\n", ifname, old_id, mode_name(mode));
		goto fail;
	}
	/* No bpf_link: the netlink attachment keeps the program after we exit. */
	err = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.siplb_decap), flags, NULL);
	if (err) {
		fprintf(stderr, "siplb-decap: attach to %s in %s mode: %s%s\n", ifname,
			generic ? "generic" : "native", strerror(-err),
			generic ? "" : " (try --generic)");
		goto fail;
	}
	printf("siplb-decap: %s %s (ifindex %d) in %s mode, program id %u\n",
	       old_id ? "replaced the XDP program on" : "attached to", ifname, ifindex,
	       generic ? "generic" : "native",
	       prog_id_of(bpf_program__fd(skel->progs.siplb_decap)));
	for (i = 0; i < n_allow; i++)
		printf("siplb-decap: allowed tunnel source %s\n",
		       key_str(&allow[i], buf, sizeof(buf)));
	decap__destroy(skel);
	return 0;
fail:
	decap__destroy(skel);
	return 1;
}

static int prog_name_of(__u32 id, char *name, size_t size, __u32 *map_ids, __u32 *n_maps)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd, err;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	if (map_ids) {
		info.nr_map_ids = *n_maps;
		info.map_ids = (__u64)(unsigned long)map_ids;
	}
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err)
		return err;
	snprintf(name, size, "%s", info.name);
	if (n_maps)
		*n_maps = info.nr_map_ids < *n_maps ? info.nr_map_ids : *n_maps;
	return 0;
}

static int cmd_detach(const char *ifname, bool force)
{
	__u32 id, flags;
	char name[BPF_OBJ_NAME_LEN];
	int ifindex, err;
	__u8 mode;

	ifindex = iface_index(ifname);
	if (!ifindex)
		return 1;
	err = xdp_current(ifindex, &id, &flags, &mode);
	if (err) {
		fprintf(stderr, "siplb-decap: query %s: %s\n", ifname, strerror(-err));
		return 1;
	}
	if (!id) {
		printf("siplb-decap: no XDP program on %s\n", ifname);
		return 0;
	}
	if (!force && (prog_name_of(id, name, sizeof(name), NULL, NULL) ||
		       strcmp(name, PROG_NAME))) {
		fprintf(stderr, "siplb-decap: the XDP program on %s (id %u) is not siplb's "
			"decapsulator; use --force to remove it anyway\n", ifname, id);
		return 1;
	}
	err = bpf_xdp_detach(ifindex, flags, NULL);
	if (err) {
		fprintf(stderr, "siplb-decap: detach from %s: %s\n", ifname, strerror(-err));
		return 1;
	}
	printf("siplb-decap: detached program id %u (%s mode) from %s\n", id,
	       mode_name(mode), ifname);
	return 0;
}

/* Find the map called name among the program's maps; returns an fd or -1. */
static int map_by_name(const __u32 *ids, __u32 n, const char *name)
{
	__u32 i;

	for (i = 0; i < n; i++) {
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && !strcmp(info.name, name))
			return fd;
		close(fd);
	}
	return -1;
}

static int cmd_stats(const char *ifname)
{
	__u32 ids[MAX_MAPS], n = MAX_MAPS, id, flags, k;
	char name[BPF_OBJ_NAME_LEN], buf[INET6_ADDRSTRLEN];
	struct decap_key key, next, *prev = NULL;
	int ifindex, err, ncpu, sfd, afd;
	__u64 *vals;
	__u8 mode;

	ifindex = iface_index(ifname);
	if (!ifindex)
		return 1;
	err = xdp_current(ifindex, &id, &flags, &mode);
	if (err) {
		fprintf(stderr, "siplb-decap: query %s: %s\n", ifname, strerror(-err));
		return 1;
	}
	if (!id) {
		fprintf(stderr, "siplb-decap: no XDP program on %s\n", ifname);
		return 1;
	}
	err = prog_name_of(id, name, sizeof(name), ids, &n);
	if (err) {
		fprintf(stderr, "siplb-decap: program id %u: %s\n", id, strerror(-err));
		return 1;
	}
	sfd = map_by_name(ids, n, "decap_stats");
	if (strcmp(name, PROG_NAME) || sfd < 0) {
		fprintf(stderr, "siplb-decap: the XDP program on %s (id %u, %s) is not "
			"siplb's decapsulator\n", ifname, id, name);
		return 1;
	}
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		fprintf(stderr, "siplb-decap: cannot count CPUs\n");
		return 1;
	}
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 1;
	printf("interface %s (ifindex %d): program id %u, %s mode\n", ifname, ifindex,
	       id, mode_name(mode));
	afd = map_by_name(ids, n, "decap_sources");
	if (afd >= 0) {
		int count = 0;

		while (!bpf_map_get_next_key(afd, prev, &next)) {
			printf("allowed source %s\n", key_str(&next, buf, sizeof(buf)));
			key = next;
			prev = &key;
			count++;
		}
		if (!count)
			printf("allowed sources: none (every tunnel counts as unknown_source)\n");
		close(afd);
	}
	for (k = 0; k < DECAP_STAT__MAX; k++) {
		__u64 sum = 0;
		int c;

		if (bpf_map_lookup_elem(sfd, &k, vals)) {
			fprintf(stderr, "siplb-decap: read counter %u: %s\n", k, strerror(errno));
			free(vals);
			close(sfd);
			return 1;
		}
		for (c = 0; c < ncpu; c++)
			sum += vals[c];
		printf("%-16s %llu\n", stat_names[k], (unsigned long long)sum);
	}
	free(vals);
	close(sfd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow", required_argument, NULL, 'a' },
		{ "generic", no_argument, NULL, 'g' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct decap_key allow[MAX_ALLOW];
	bool generic = false, force = false;
	const char *cmd, *ifname;
	int n_allow = 0, opt;

	while ((opt = getopt_long(argc, argv, "a:gfh", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			if (n_allow == MAX_ALLOW) {
				fprintf(stderr, "siplb-decap: at most %d --allow\n", MAX_ALLOW);
				return 2;
			}
			if (parse_addr(optarg, &allow[n_allow])) {
				fprintf(stderr, "siplb-decap: bad address '%s' (want IPv4 or IPv6)\n",
					optarg);
				return 2;
			}
			n_allow++;
			break;
		case 'g':
			generic = true;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	ifname = argv[optind + 1];
	if (strcmp(cmd, "attach") && strcmp(cmd, "detach") && strcmp(cmd, "stats")) {
		fprintf(stderr, "siplb-decap: unknown command '%s' (see --help)\n", cmd);
		return 2;
	}
	if (!strcmp(cmd, "attach") && !n_allow) {
		fprintf(stderr, "siplb-decap: attach needs at least one --allow ADDR "
			"(the balancers' addresses)\n");
		return 2;
	}
	if ((n_allow || generic) && strcmp(cmd, "attach")) {
		fprintf(stderr, "siplb-decap: --allow and --generic go with attach only\n");
		return 2;
	}
	if (force && strcmp(cmd, "detach")) {
		fprintf(stderr, "siplb-decap: --force goes with detach only\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "siplb-decap: must run as root (CAP_NET_ADMIN, CAP_BPF)\n");
		return 1;
	}
	if (!strcmp(cmd, "attach"))
		return cmd_attach(ifname, allow, n_allow, generic);
	if (!strcmp(cmd, "detach"))
		return cmd_detach(ifname, force);
	return cmd_stats(ifname);
}
