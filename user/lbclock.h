/* lbclock.h: the offset between the XDP program's jiffies clock and CLOCK_MONOTONIC_COARSE. */
#ifndef SIPLB_LBCLOCK_H
#define SIPLB_LBCLOCK_H

#include <linux/types.h>

/*
 * Measure siplb_config.clock_off_ns: CLOCK_MONOTONIC_COARSE ns minus the
 * XDP program's jiffies in ns (bpf/lb_clock.h) at one instant, so that XDP
 * stamps and checks time in the units siplbd and the tests read from
 * clock_gettime(). Loads bpf/clock_probe.bpf.c and runs it a few times
 * (BPF_PROG_TEST_RUN; root). Returns 0 or -errno.
 */
int lb_clock_offset(__s64 *off_ns);

#endif /* SIPLB_LBCLOCK_H */
