// SPDX-License-Identifier: GPL-2.0
/* tbnet.c: link knobs for the testbed without ethtool or xdp-loader: tx checksum, XDP_PASS. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp_pass.skel.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tbnet txcsum IFACE on|off\n"
		"       tbnet xdp-pass IFACE\n"
		"       tbnet xdp-off IFACE\n"
		"\n"
		"Link settings for siplb's network-namespace testbed (run it inside the\n"
		"namespace, e.g. with ip netns exec):\n"
		"  txcsum    turn transmit checksum offload on or off (ethtool -K IFACE tx).\n"
		"            veth leaves UDP checksums to be filled \"on the wire\"; a frame\n"
		"            that XDP turns around (XDP_TX) loses that note, so a sender\n"
		"            whose packets a balancer bounces must checksum in software.\n"
		"  xdp-pass  attach an XDP program that passes everything, natively: a veth\n"
		"            receives XDP_TX/redirected frames only while it runs XDP.\n"
		"            It stays attached after tbnet exits.\n"
		"  xdp-off   remove whatever native XDP program IFACE has.\n");
}

static int txcsum(const char *ifname, const char *onoff)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_STXCSUM };
	struct ifreq ifr = { 0 };
	int fd, rc;

	if (!strcmp(onoff, "on"))
		ev.data = 1;
	else if (strcmp(onoff, "off")) {
		usage(stderr);
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "tbnet: socket: %s\n", strerror(errno));
		return 1;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	rc = ioctl(fd, SIOCETHTOOL, &ifr);
	if (rc)
		fprintf(stderr, "tbnet: tx checksum %s on %s: %s\n", onoff, ifname,
			strerror(errno));
	close(fd);
	return rc ? 1 : 0;
}

static int xdp_pass_attach(int ifindex, const char *ifname)
{
	struct xdp_pass *skel = xdp_pass__open_and_load();
	int err;

	if (!skel) {
		fprintf(stderr, "tbnet: load xdp_pass: %s\n", strerror(errno));
		return 1;
	}
	err = bpf_xdp_attach(ifindex, bpf_program__fd(skel->progs.xdp_pass),
			     XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		fprintf(stderr, "tbnet: attach xdp_pass to %s: %s\n", ifname, strerror(-err));
	xdp_pass__destroy(skel);	/* the attachment keeps the program */
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	int ifindex, err;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	ifindex = if_nametoindex(argv[2]);
	if (!ifindex) {
		fprintf(stderr, "tbnet: unknown interface '%s'\n", argv[2]);
		return 1;
	}
	if (!strcmp(argv[1], "txcsum") && argc == 4)
		return txcsum(argv[2], argv[3]);
	if (!strcmp(argv[1], "xdp-pass") && argc == 3)
		return xdp_pass_attach(ifindex, argv[2]);
	if (!strcmp(argv[1], "xdp-off") && argc == 3) {
		err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
		if (err)
			fprintf(stderr, "tbnet: detach XDP from %s: %s\n", argv[2], strerror(-err));
		return err ? 1 : 0;
	}
	usage(stderr);
	return 2;
}
