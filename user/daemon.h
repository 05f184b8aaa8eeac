/* daemon.h: siplbd's running state, shared by its parts (one file per concern). */
#ifndef SIPLB_DAEMON_H
#define SIPLB_DAEMON_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "health.h"
#include "lbmaps.h"
#include "siplb_maps.h"

#define SIPLBD_VERSION "0.4.0"
#define SD_NAME_MAX 64
#define SD_PIN_ROOT "/sys/fs/bpf/siplb"
/* VIP slots of the maglev map at least (it is sized once, when created). */
#define SD_MIN_VIP_SLOTS 16

struct nl_ctx;
struct ctl_server;
struct MHD_Daemon;

struct sd_backend {
	bool used;
	__u32 vip;			/* its VIP's id (index of siplbd.vips) */
	struct siplb_cfg_addr addr;
	__u16 port;			/* where health probes go; DSR keeps the VIP port */
	__u16 weight;
	bool drain;			/* operator's choice: config state drain or siplbctl drain */
	__u64 drain_at_ms;		/* siplbctl drain/undrain --at: when (wall clock); 0 = none */
	bool drain_to;			/* ... to what */
	bool runtime;			/* added by siplbctl, not in the file */
	bool adopted;			/* found in pinned maps at start, not yet matched */
	char name[SD_NAME_MAX];		/* configured name, or "" */
	char ident[SD_NAME_MAX];	/* Maglev identity: the name, else "addr:port" */
	__u8 state;			/* what the backends map says (enum siplb_backend_state) */
	struct health_state hc;
	__u64 hc_slot;			/* wall-clock probe slot of the last probe */
	__u32 hc_hash;			/* of ident: its probes' phase in the interval; 0 = not yet */
	struct siplb_cfg_addr hc_src;	/* our address towards it (Via sent-by) */
	__u16 hc_src_port;
	struct nexthop nh;
	bool nh_ok;			/* nh holds a resolved MAC */
	bool nh_wait;			/* a neighbour event for hop is awaited */
	__u8 hop_family;		/* the next hop: gateway or the backend itself */
	__be32 hop[4];
	int hop_ifindex;
};

struct sd_vip {
	bool used;
	char name[SD_NAME_MAX];		/* configured name, else "addr:port" */
	struct vip_key key;		/* the UDP entry of the vips map */
	__u8 transports, mode, reg_key;
	__u32 up;			/* backends in the live table */
	__u64 fingerprint;		/* of the live table: equal on every instance */
	__u64 rebuilds;
	unsigned int line;
	bool announced;			/* its address's route is in announce.table */
};

struct sd_iface {
	char name[IF_NAMESIZE];
	enum siplb_attach_mode mode;
	int ifindex;			/* 0 while the interface is absent */
	int link_fd;			/* the XDP bpf_link, pinned; -1 when not attached */
	bool link_up;
	__u64 events;			/* link events seen for it */
	__u64 reattached;
};

struct siplbd {
	const char *cfg_path;
	char pin_root[PATH_MAX];
	char pin_dir[PATH_MAX];		/* pin_root/instance */
	struct siplb_cfg cfg;
	struct siplb *skel;
	struct lb_maps maps;
	int prog_fd;
	__u32 vip_slots;		/* VIPs the maglev map has room for */
	bool reused;			/* maps were found pinned: a restart */
	struct sd_vip vips[SIPLB_MAX_VIPS];
	struct sd_backend *be;		/* [SIPLB_MAX_BACKENDS] */
	__u32 next_be;			/* where the search for a free backend id starts */
	struct sd_iface *ifaces;
	size_t n_ifaces;

	int hc_fd[2];			/* health probe sockets: [0] IPv4, [1] IPv6 */
	__u32 nonce;
	struct nl_ctx *nl;
	struct ctl_server *ctl;
	struct MHD_Daemon *mhd;
	int epfd, timer_fd, signal_fd;

	struct timespec started;
	__u64 maglev_rebuilds;
	__u64 reloads, reload_failures;
	char last_reload_error[512];
	__u64 link_events, neigh_updates;
	__u64 last_nh_refresh_ms;
	bool stop;
	bool keep_routes;		/* stopping for a restart (SIGUSR1): routes stay */
};

/* Milliseconds of CLOCK_MONOTONIC. */
__u64 sd_now_ms(void);
/* Milliseconds of CLOCK_REALTIME (since the epoch). */
__u64 sd_realtime_ms(void);
/* Apply the drains and undrains scheduled with --at whose time has come. */
void sd_drain_due(struct siplbd *d);
/* "198.18.0.11" or "2001:db8::11"; "[v6]:port" with a port. */
const char *sd_addr_str(const struct siplb_cfg_addr *a, char *buf, size_t len);
const char *sd_addr_port_str(const struct siplb_cfg_addr *a, __u16 port, char *buf,
			     size_t len);
const char *sd_state_name(__u8 state);

/* bpfload.c: load with reused pins, pin, attach, detach. */
int sd_bpf_load(struct siplbd *d, const struct siplb_cfg *cfg);
int sd_ifaces_sync(struct siplbd *d);
int sd_iface_attach(struct siplbd *d, struct sd_iface *ifc);
void sd_iface_forget(struct siplbd *d, struct sd_iface *ifc);
int sd_detach_all(const char *pin_dir);
void sd_bpf_close(struct siplbd *d);

/* apply.c: configuration and runtime changes into the maps. */
int sd_adopt_maps(struct siplbd *d);
int sd_apply_config(struct siplbd *d, struct siplb_cfg *cfg, char *summary, size_t len);
int sd_vip_sync(struct siplbd *d, __u32 vip);
/* Seconds to the maps' 2^30 ns time units, rounded up. */
__u32 sd_window_units(__u32 seconds);
struct sd_backend *sd_backend_find(struct siplbd *d, const char *what, char *err,
				   size_t errlen);
int sd_backend_add(struct siplbd *d, __u32 vip, const struct siplb_cfg_addr *addr,
		   __u16 port, __u16 weight, const char *name, char *err, size_t errlen);
void sd_backend_remove(struct siplbd *d, struct sd_backend *b);
int sd_vip_find(struct siplbd *d, const char *what);
__u32 sd_backend_id(const struct siplbd *d, const struct sd_backend *b);

/* announce.c: VIP routes for BGP (announce.table). */
void sd_announce_sync(struct siplbd *d, bool stopping);
int sd_announce_route(struct siplbd *d, const struct vip_key *k, bool add, const char *why);
int sd_announce_withdraw_cfg(const struct siplb_cfg *cfg);

/* nexthops.c: next-hop MACs from netlink into the nexthops map. */
void sd_nexthop_refresh(struct siplbd *d, struct sd_backend *b);
void sd_nexthop_refresh_all(struct siplbd *d);
int sd_netlink_process(struct siplbd *d);

/* hcrun.c: health probes on the wire. */
int sd_health_open(struct siplbd *d);
void sd_health_tick(struct siplbd *d, __u64 now_ms);
void sd_health_recv(struct siplbd *d, int fam_idx, __u64 now_ms);
void sd_health_prepare(struct siplbd *d, struct sd_backend *b);

/* handlers.c: the control socket's commands. */
int sd_control_open(struct siplbd *d, char *err, size_t errlen);
int sd_reload(struct siplbd *d, char *err, size_t errlen);

/* httpd.c: Prometheus metrics over HTTP. */
int sd_http_open(struct siplbd *d);
void sd_http_close(struct siplbd *d);
int sd_http_fd(struct siplbd *d);
void sd_http_run(struct siplbd *d);

#endif /* SIPLB_DAEMON_H */
