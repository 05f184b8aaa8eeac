// SPDX-License-Identifier: GPL-2.0
/* xdp_pass.bpf.c: an XDP program that passes everything, for veth peers of XDP_TX senders. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/*
 * veth delivers XDP_TX and XDP_REDIRECT frames through the receiving peer's
 * NAPI, which runs only while that peer has an XDP program: this one.
 */
SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
