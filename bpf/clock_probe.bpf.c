// SPDX-License-Identifier: GPL-2.0
/* clock_probe.bpf.c: reads the balancer's jiffies clock once per test run, for lb_clock_offset() (user/lbclock.c). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "lb_clock.h"

/* Jiffies in ns at the last run: lb_jiffies_ns(), the balancer's own code. */
__u64 jiffies_ns;

SEC("xdp")
int clock_probe(struct xdp_md *ctx)
{
	jiffies_ns = lb_jiffies_ns();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
