// SPDX-License-Identifier: GPL-2.0
/* lbclock.c: measures the offset between the XDP program's jiffies clock and CLOCK_MONOTONIC_COARSE, for siplbd and the tests. */
#include <errno.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lbclock.h"
#include "clock_probe.skel.h"

#define SAMPLES 5

static __u64 coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/*
 * Jiffies and the coarse clock both move at the tick, so their difference
 * is fixed between ticks (it can drift slowly as NTP corrects the clock's
 * frequency: siplbd measures it again every minute). Each sample reads the coarse clock,
 * jiffies (the probe) and the coarse clock again; the midpoint of the two
 * reads goes with the jiffies. A sample with no tick between the reads
 * (spread 0) is exact, except when the probe ran in the instant between the
 * tick's jiffies update and its clock update: then it is one tick low, so
 * of the samples with the smallest spread the highest offset is kept.
 */
int lb_clock_offset(__s64 *off_ns)
{
	static const __u8 frame[64];	/* XDP test runs want an Ethernet header's worth */
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = 1);
	__u64 t0, t1, spread, best_spread = ~0ULL;
	struct clock_probe *skel;
	__s64 off, best = 0;
	int i, fd, err = 0;

	skel = clock_probe__open_and_load();
	if (!skel)
		return errno ? -errno : -EINVAL;
	fd = bpf_program__fd(skel->progs.clock_probe);
	for (i = 0; i < SAMPLES; i++) {
		t0 = coarse_ns();
		err = bpf_prog_test_run_opts(fd, &opts);
		t1 = coarse_ns();
		if (err)
			break;
		spread = t1 - t0;
		off = (__s64)(t0 + spread / 2 - skel->bss->jiffies_ns);
		if (spread < best_spread || (spread == best_spread && off > best)) {
			best_spread = spread;
			best = off;
		}
	}
	clock_probe__destroy(skel);
	if (err)
		return err;
	*off_ns = best;
	return 0;
}
