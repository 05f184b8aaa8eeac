/* daemon.h: siplbd's running state, shared by its parts (one file per concern). */
#ifndef SIPLB_DAEMON_H
#define SIPLB_DAEMON_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <sys/socket.h>
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
struct sd_streams;
struct sip_msg;
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
	__u32 ban_after;		/* auto-ban after this many seconds over budget; 0 = never */
	__u32 ban_for;			/* seconds an auto-ban lasts */
	unsigned int line;
	bool announced;			/* its address's route is in announce.table */
};

/* A banned prefix: in the blocklist maps and in the bans file. */
struct sd_ban {
	__be32 addr[4];			/* network order, host bits zero */
	__u8 family;
	__u8 plen;
	bool autob;			/* made by an auto-ban */
	time_t expires;			/* unix seconds; 0 = never */
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
	struct sd_streams *st;		/* TCP/TLS relay and UDP slow path (streams.c) */

	struct timespec started;
	__u64 maglev_rebuilds;
	__u64 reloads, reload_failures;
	char last_reload_error[512];
	__u64 link_events, neigh_updates;
	__u64 last_nh_refresh_ms;
	struct sd_ban *bans;
	size_t n_bans, cap_bans;
	__u64 bans_auto;		/* auto-bans made */
	__u64 bans_expired;		/* bans lifted on expiry */
	time_t last_dos_tick;
	__s64 clock_off_ns;		/* the config's clock_off_ns (sd_clock_sync) */
	__u64 clock_sync_ms;		/* when it was last measured */
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
/* An address and port as a sockaddr (IPv4 or IPv6), and back. */
void sd_to_sockaddr(const struct siplb_cfg_addr *a, __u16 port, struct sockaddr_storage *ss,
		    socklen_t *len);
void sd_from_sockaddr(const struct sockaddr_storage *ss, struct siplb_cfg_addr *a,
		      __u16 *port);

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
/*
 * Measure the offset of XDP's jiffies clock from CLOCK_MONOTONIC_COARSE
 * (lb_clock_offset()) and, once a configuration is applied, write the config
 * map again when it moved. At start, before the first configuration, and
 * every minute. 0 or -errno (the offset kept as it was).
 */
int sd_clock_sync(struct siplbd *d);
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

/* dos.c: per-VIP limits, bans, auto-bans. */
/* Write the VIP's DoS limits (cv NULL: none) into vip_policy. */
void sd_vip_policy_write(struct siplbd *d, __u32 id, const struct siplb_cfg_vip *cv);
/* "ADDR[/LEN]" into b (host bits cleared). Returns 0 or -EINVAL with err set. */
int sd_ban_parse(const char *text, struct sd_ban *b, char *err, size_t errlen);
const char *sd_ban_str(const struct sd_ban *b, char *buf, size_t len);
/* Add or replace a ban (maps, list; the file when save). Returns 0 or -errno. */
int sd_ban_add(struct siplbd *d, const struct sd_ban *b, bool save);
/* Lift a ban. Returns 0, -ENOENT when there is none for that prefix. */
int sd_ban_del(struct siplbd *d, const struct sd_ban *b);
/* The bans file: written atomically (temporary file + rename), read at start. */
int sd_bans_save(struct siplbd *d);
int sd_bans_load(struct siplbd *d);
/* Once a second: lift expired bans, make auto-bans, forget quiet offenders. */
void sd_dos_tick(struct siplbd *d);

/* handlers.c: the control socket's commands. */
int sd_control_open(struct siplbd *d, char *err, size_t errlen);
int sd_reload(struct siplbd *d, char *err, size_t errlen);

/* steer.c: the XDP steering rule in userspace. */
/*
 * The steering key of a message for VIP vip: the Call-ID (or the To AOR of
 * a REGISTER where the VIP says so) as the shared parser finds it, or, past
 * its window, as the header walk finds it. 0, or -EINVAL (no key: drop).
 */
int sd_steer_key(const struct siplbd *d, __u32 vip, const char *msg, size_t len,
		 const char **key, size_t *klen, struct sip_msg *m, bool *to_tag);
/* The backend for key on vip, reading and writing the affinity map as XDP
 * does, with its in-dialog rule for a request with a To tag (to_tag). 0 or -ENOENT. */
int sd_steer(struct siplbd *d, __u32 vip, const char *key, size_t klen, bool request,
	     bool to_tag, __u32 *backend);

/* streams.c: SIP over TCP and TLS, the relay to backends, the UDP slow path. */
/* epoll data of the streams' sockets: SD_EV_STREAM in the top bits. */
#define SD_EV_STREAM (1ull << 40)
/* Check the stream settings of cfg (TLS files); 0 or -errno with err set. Builds the TLS context it will use. */
int sd_streams_prepare(struct siplbd *d, const struct siplb_cfg *cfg, char *err, size_t errlen);
/* Open and close listeners to match d->cfg; swap in the prepared TLS context. */
int sd_streams_apply(struct siplbd *d);
void sd_streams_event(struct siplbd *d, __u64 data, __u32 events);
void sd_streams_tick(struct siplbd *d, __u64 now_ms);
void sd_streams_close(struct siplbd *d);
/* Append the streams' counters to a Prometheus text: bytes written, or -ENOSPC. */
int sd_streams_metrics(struct siplbd *d, char *buf, size_t len);

/* httpd.c: Prometheus metrics over HTTP. */
int sd_http_open(struct siplbd *d);
void sd_http_close(struct siplbd *d);
int sd_http_fd(struct siplbd *d);
void sd_http_run(struct siplbd *d);

#endif /* SIPLB_DAEMON_H */
