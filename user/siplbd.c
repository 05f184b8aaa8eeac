// SPDX-License-Identifier: GPL-2.0
/* siplbd.c: the siplb daemon: loads and attaches the balancer, health-checks backends, answers siplbctl. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>

#include "control.h"
#include "daemon.h"
#include "log.h"
#include "netlink.h"
#include "tlsctx.h"

#define DEFAULT_CONFIG "/etc/siplb/siplb.yaml"
/* Health probes and timeouts are checked this often. */
#define TICK_MS 20
/* Routes and neighbours are looked up again this often, besides the events. */
#define NEXTHOP_REFRESH_MS 30000
/* XDP's clock offset is measured again this often: it drifts slowly, if at all. */
#define CLOCK_SYNC_MS 60000

/* epoll data: what became ready. */
enum { EV_SIGNAL, EV_TIMER, EV_CONTROL, EV_NETLINK, EV_HC4, EV_HC6, EV_HTTP };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: siplbd [-c FILE] [--pin-root DIR]    run (in the foreground)\n"
		"       siplbd --check-config FILE           validate FILE, touch nothing\n"
		"       siplbd --detach [-c FILE] [--pin-root DIR]\n"
		"                                             detach XDP and remove every pin of the instance\n"
		"\n"
		"  -c, --config FILE   configuration (default " DEFAULT_CONFIG ")\n"
		"  --pin-root DIR      bpffs directory for pins (default " SD_PIN_ROOT ");\n"
		"                      pins go to DIR/<instance>\n"
		"\n"
		"Signals: SIGHUP reloads the configuration; SIGTERM and SIGINT stop siplbd and\n"
		"leave the XDP program attached with its last state (a restart is hitless);\n"
		"with announce.table set they also withdraw the VIP routes (BGP), so the\n"
		"router moves the VIPs' traffic to the other instances. SIGUSR1 stops siplbd\n"
		"for a restart: XDP and the VIP routes stay. --detach withdraws the routes too.\n");
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];

	if (level == LIBBPF_DEBUG && log_max_level < SIPLB_LOG_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = 0;
	log_msg(level == LIBBPF_WARN ? SIPLB_LOG_WARN : SIPLB_LOG_DEBUG, "libbpf: %s", line);
	return 0;
}

static int check_config(const char *path)
{
	struct siplb_cfg cfg;
	char err[512];
	size_t i, nb = 0;

	if (siplb_config_load(path, &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (i = 0; i < cfg.n_vips; i++)
		nb += cfg.vips[i].n_backends;
	for (i = 0; i < cfg.n_vips; i++) {
		if (cfg.vips[i].transports & SIPLB_TRANSPORT_TLS) {
			/* the certificates as siplbd would load them */
			SSL_CTX *ctx = tlsctx_new(&cfg.tls, err, sizeof(err));

			if (!ctx) {
				fprintf(stderr, "%s: tls: %s\n", path, err);
				siplb_config_free(&cfg);
				return 1;
			}
			tlsctx_free(ctx);
			break;
		}
	}
	printf("%s: ok (instance %s, %zu interface%s, %zu VIP%s, %zu backend%s)\n", path,
	       cfg.instance, cfg.n_ifaces, cfg.n_ifaces == 1 ? "" : "s", cfg.n_vips,
	       cfg.n_vips == 1 ? "" : "s", nb, nb == 1 ? "" : "s");
	siplb_config_free(&cfg);
	return 0;
}

static int epoll_add(struct siplbd *d, int fd, __u64 what)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = what };

	if (fd < 0)
		return 0;
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void on_signal(struct siplbd *d)
{
	struct signalfd_siginfo si;
	char err[512];

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			log_info("SIGHUP: reloading %s", d->cfg_path);
			sd_reload(d, err, sizeof(err));
			break;
		case SIGTERM:
		case SIGINT:
			log_info("%s: stopping; XDP stays attached with the last state%s",
				 strsignal((int)si.ssi_signo),
				 d->cfg.announce_table ? ", the VIP routes are withdrawn" : "");
			d->stop = true;
			break;
		case SIGUSR1:
			log_info("SIGUSR1: stopping for a restart; XDP and the VIP routes stay");
			d->stop = true;
			d->keep_routes = true;
			break;
		}
	}
}

static void on_tick(struct siplbd *d)
{
	__u64 now = sd_now_ms(), ticks;

	if (read(d->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_dbg("timer: %s", strerror(errno));
	sd_health_tick(d, now);
	sd_drain_due(d);
	sd_announce_sync(d, false);
	sd_dos_tick(d);
	sd_streams_tick(d, now);
	if (now - d->last_nh_refresh_ms >= NEXTHOP_REFRESH_MS)
		sd_nexthop_refresh_all(d);
	if (now - d->clock_sync_ms >= CLOCK_SYNC_MS) {
		int err = sd_clock_sync(d);

		if (err)
			log_warn("cannot measure XDP's clock again (the last offset stays): %s",
				 strerror(-err));
	}
	sd_http_run(d);	/* its connection timeouts */
}

static int loop(struct siplbd *d)
{
	struct epoll_event evs[16];
	int n, i;

	while (!d->stop) {
		n = epoll_wait(d->epfd, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll: %s", strerror(errno));
			return -errno;
		}
		for (i = 0; i < n; i++) {
			switch (evs[i].data.u64) {
			case EV_SIGNAL:
				on_signal(d);
				break;
			case EV_TIMER:
				on_tick(d);
				break;
			case EV_CONTROL:
				ctl_server_process(d->ctl);
				break;
			case EV_NETLINK:
				sd_netlink_process(d);
				break;
			case EV_HC4:
			case EV_HC6:
				sd_health_recv(d, evs[i].data.u64 == EV_HC6, sd_now_ms());
				break;
			case EV_HTTP:
				sd_http_run(d);
				break;
			default:
				if (evs[i].data.u64 & SD_EV_STREAM)
					sd_streams_event(d, evs[i].data.u64, evs[i].events);
				break;
			}
		}
	}
	return 0;
}

static int setup(struct siplbd *d, struct siplb_cfg *cfg)
{
	struct itimerspec its = { .it_interval.tv_nsec = TICK_MS * 1000000L,
				  .it_value.tv_nsec = TICK_MS * 1000000L };
	char err[512], summary[512];
	sigset_t mask;
	int rc;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->signal_fd < 0 || d->timer_fd < 0 || d->epfd < 0)
		return -errno;

	/* First the socket: it also tells us when another siplbd runs this instance. */
	d->cfg.control = cfg->control;
	rc = sd_control_open(d, err, sizeof(err));
	d->cfg.control = NULL;
	if (rc) {
		log_err("control socket: %s", err);
		return rc;
	}
	rc = nl_open(&d->nl);
	if (rc) {
		log_err("cannot open netlink: %s", strerror(-rc));
		return rc;
	}
	rc = sd_health_open(d);
	if (rc)
		return rc;
	rc = sd_bpf_load(d, cfg);
	if (rc)
		return rc;
	if (d->reused)
		sd_adopt_maps(d);
	/* before the first config write: XDP's clock is jiffies plus this offset */
	rc = sd_clock_sync(d);
	if (rc) {
		log_err("cannot measure the offset of XDP's clock: %s", strerror(-rc));
		return rc;
	}
	rc = sd_streams_prepare(d, cfg, err, sizeof(err));
	if (rc) {
		log_err("%s: %s", d->cfg_path, err);
		return rc;
	}
	rc = sd_apply_config(d, cfg, summary, sizeof(summary));
	if (rc) {
		log_err("%s: %s", d->cfg_path, summary);
		return rc;
	}
	log_info("configuration applied: %s", summary);
	sd_bans_load(d);
	rc = sd_streams_apply(d);
	if (rc)
		return rc;
	rc = sd_ifaces_sync(d);
	if (rc)
		return rc;
	rc = sd_http_open(d);
	if (rc)
		return rc;
	timerfd_settime(d->timer_fd, 0, &its, NULL);
	d->last_nh_refresh_ms = sd_now_ms();
	if (epoll_add(d, d->signal_fd, EV_SIGNAL) || epoll_add(d, d->timer_fd, EV_TIMER) ||
	    epoll_add(d, ctl_server_fd(d->ctl), EV_CONTROL) ||
	    epoll_add(d, nl_event_fd(d->nl), EV_NETLINK) ||
	    epoll_add(d, d->hc_fd[0], EV_HC4) || epoll_add(d, d->hc_fd[1], EV_HC6) ||
	    epoll_add(d, sd_http_fd(d), EV_HTTP))
		return -errno;
	return 0;
}

static void teardown(struct siplbd *d)
{
	sd_streams_close(d);
	sd_http_close(d);
	if (d->ctl)
		ctl_server_close(d->ctl);
	if (d->nl)
		nl_close(d->nl);
	if (d->skel)
		sd_bpf_close(d);
	if (d->hc_fd[0] >= 0)
		close(d->hc_fd[0]);
	if (d->hc_fd[1] >= 0)
		close(d->hc_fd[1]);
	siplb_config_free(&d->cfg);
	free(d->bans);
	free(d->ifaces);
	free(d->be);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'k' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pin-root", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *cfg_path = DEFAULT_CONFIG, *pin_root = SD_PIN_ROOT;
	struct siplb_cfg cfg;
	struct siplbd d = { .hc_fd = { -1, -1 }, .signal_fd = -1, .timer_fd = -1, .epfd = -1 };
	bool detach = false;
	char err[512];
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cfg_path = optarg;
			break;
		case 'k':
			return check_config(optarg);
		case 'd':
			detach = true;
			break;
		case 'p':
			pin_root = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (siplb_config_load(cfg_path, &cfg, err, sizeof(err))) {
		fprintf(stderr, "siplbd: %s\n", err);
		return 1;
	}
	log_max_level = cfg.log_level;
	libbpf_set_print(libbpf_log);
	d.cfg_path = cfg_path;
	snprintf(d.pin_root, sizeof(d.pin_root), "%s", pin_root);
	if (snprintf(d.pin_dir, sizeof(d.pin_dir), "%s/%s", pin_root, cfg.instance) >=
	    (int)sizeof(d.pin_dir)) {
		fprintf(stderr, "siplbd: --pin-root is too long\n");
		return 2;
	}
	if (detach) {
		rc = sd_announce_withdraw_cfg(&cfg);
		if (rc)
			fprintf(stderr, "siplbd: withdrawing the VIP routes: %s\n", strerror(-rc));
		siplb_config_free(&cfg);
		return sd_detach_all(d.pin_dir) || rc ? 1 : 0;
	}
	d.be = calloc(SIPLB_MAX_BACKENDS, sizeof(*d.be));
	if (!d.be)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &d.started);
	rc = setup(&d, &cfg);
	siplb_config_free(&cfg);	/* empty once applied */
	if (rc) {
		log_err("siplbd did not start");
		teardown(&d);
		return 1;
	}
	log_info("siplbd %s running: instance %s, %zu VIPs, control %s", SIPLBD_VERSION,
		 d.cfg.instance, d.cfg.n_vips, d.cfg.control);
	sd_notify(0, "READY=1");
	rc = loop(&d);
	sd_notify(0, "STOPPING=1");
	if (!d.keep_routes)
		sd_announce_sync(&d, true);
	teardown(&d);
	return rc ? 1 : 0;
}
