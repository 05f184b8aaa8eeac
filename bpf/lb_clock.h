/* lb_clock.h: the balancer's clock: CLOCK_MONOTONIC_COARSE made from jiffies, without a helper call. */
#ifndef SIPLB_LB_CLOCK_H
#define SIPLB_LB_CLOCK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "siplb_maps.h"

/*
 * The kernel's tick rate, from its build configuration. libbpf reads it
 * from /boot/config-$(uname -r) (Debian's kernel packages install it) or
 * /proc/config.gz (kernels built with IKCONFIG_PROC, as this one), before
 * load; with neither the load fails and says so, rather than run on a
 * guessed rate. Chosen over a rate siplbd would measure and set in .rodata:
 * HZ is fixed when the kernel is built, so this value cannot be wrong. The
 * .kconfig map is frozen read-only: the verifier knows the value.
 */
extern unsigned int CONFIG_HZ __kconfig;

/*
 * The kernel's TICK_NSEC: ns per jiffy, (10^9 + HZ / 2) / HZ. The usual
 * rates as constants: the verifier, knowing CONFIG_HZ, removes the other
 * branches, so no division is left in the program.
 */
static __always_inline __u64 lb_jiffy_ns(void)
{
	switch (CONFIG_HZ) {
	case 100:
		return 10000000;
	case 250:
		return 4000000;
	case 300:
		return 3333333;
	case 1000:
		return 1000000;
	default:
		return (1000000000u + CONFIG_HZ / 2) / CONFIG_HZ;
	}
}

/*
 * Jiffies in ns: bpf_jiffies64() is a plain load on x86-64 (the verifier
 * inlines it), where bpf_ktime_get_coarse_ns() is a helper call (~9 ns each
 * here, with the SRSO mitigation).
 */
static __always_inline __u64 lb_jiffies_ns(void)
{
	return bpf_jiffies64() * lb_jiffy_ns();
}

/*
 * CLOCK_MONOTONIC_COARSE in ns, as userspace reads it: jiffies and the
 * coarse clock both move at the tick, so they differ by an offset that
 * siplbd measures (lb_clock_offset(), user/lbclock.h), keeps in the config
 * and measures again every minute.
 */
static __always_inline __u64 lb_now_ns(const struct siplb_config *cfg)
{
	return lb_jiffies_ns() + (__u64)cfg->clock_off_ns;
}

#endif /* SIPLB_LB_CLOCK_H */
