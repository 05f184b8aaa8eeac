/* config.h: siplbd's configuration file (YAML, read with libyaml), validated into one struct. */
#ifndef SIPLB_CONFIG_H
#define SIPLB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "siplb_hash.h"

/* Defaults; docs/configuration.md lists them with every other setting. */
#define SIPLB_CFG_INSTANCE	"default"
#define SIPLB_CFG_MAGLEV_SIZE	65537
#define SIPLB_CFG_AFF_CAPACITY	1048576
#define SIPLB_CFG_AFF_IDLE	1800	/* seconds */
#define SIPLB_CFG_DIALOG_WINDOW	300	/* seconds: about the typical call length */
#define SIPLB_CFG_HC_INTERVAL	1000	/* ms */
#define SIPLB_CFG_HC_TIMEOUT	500	/* ms */
#define SIPLB_CFG_HC_FALL	3
#define SIPLB_CFG_HC_RISE	2
#define SIPLB_CFG_METRICS	"127.0.0.1:9100"
#define SIPLB_CFG_CONTROL_FMT	"/run/siplb/%s.sock"
#define SIPLB_CFG_MTU		1500
#define SIPLB_CFG_PORT		5060
#define SIPLB_CFG_WEIGHT	100

#define SIPLB_CFG_INSTANCE_MAX	32	/* bytes of an instance name: it names pin paths */
#define SIPLB_CFG_NAME_MAX	63	/* bytes of a VIP or backend name */
#define SIPLB_CFG_ACCEPT_MAX	32	/* status codes in health.accept */

enum siplb_attach_mode {
	SIPLB_ATTACH_NATIVE = 0,	/* XDP in the driver */
	SIPLB_ATTACH_GENERIC = 1,	/* XDP in the stack (skb mode) */
};

enum siplb_all_down {
	SIPLB_ALL_DOWN_CLOSED = 0,	/* no backend up: drop the VIP's traffic */
	SIPLB_ALL_DOWN_OPEN = 1,	/* no backend up: use every configured one */
};

enum siplb_log_level {
	SIPLB_LOG_ERROR = 0,
	SIPLB_LOG_WARN,
	SIPLB_LOG_INFO,
	SIPLB_LOG_DEBUG,
};

/* Bits of siplb_cfg_vip.transports. */
#define SIPLB_TRANSPORT_UDP 0x1
#define SIPLB_TRANSPORT_TCP 0x2
#define SIPLB_TRANSPORT_TLS 0x4

/* An address as the maps hold it: network order, IPv4 in addr[0]. */
struct siplb_cfg_addr {
	__be32 addr[4];
	__u8 family;		/* AF_INET or AF_INET6; 0 = not set */
};

struct siplb_cfg_iface {
	char *name;
	enum siplb_attach_mode attach;
	unsigned int line;	/* where it is in the file, for later messages */
};

struct siplb_cfg_backend {
	struct siplb_cfg_addr addr;	/* same family as its VIP */
	__u16 port;
	__u16 weight;		/* 1..65535 */
	__u8 state;		/* enum siplb_backend_state: SIPLB_BE_UP or SIPLB_BE_DRAINING */
	char *name;		/* NULL when not given */
	unsigned int line;
};

struct siplb_cfg_vip {
	char *name;		/* NULL when not given */
	struct siplb_cfg_addr addr;
	__u16 port;
	__u8 transports;	/* SIPLB_TRANSPORT_* */
	__u8 mode;		/* enum siplb_fwd_mode */
	__u8 reg_key;		/* enum siplb_reg_key */
	struct siplb_cfg_backend *backends;
	size_t n_backends;	/* may be 0 */
	unsigned int line;
};

struct siplb_cfg_health {
	__u32 interval_ms;
	__u32 timeout_ms;	/* <= interval_ms */
	__u32 fall;		/* consecutive failures that mark a backend down */
	__u32 rise;		/* consecutive successes that mark it up again */
	bool accept_any;	/* any final response (200-699) counts as alive */
	__u16 accept[SIPLB_CFG_ACCEPT_MAX]; /* otherwise: these codes only */
	size_t n_accept;
};

struct siplb_cfg {
	char *instance;
	struct siplb_cfg_iface *ifaces;
	size_t n_ifaces;
	struct siplb_hash_key hash_key;	/* as sipmsg_parse_key() reads it */
	__u32 maglev_size;		/* prime */
	__u32 aff_capacity;		/* affinity map entries */
	__u32 aff_idle;			/* seconds; 0 = never expire */
	__u32 dialog_window;		/* seconds earlier Maglev generations steer in-dialog requests */
	__u32 announce_table;		/* routing table for the VIP routes BGP announces; 0 = none */
	struct siplb_cfg_health health;
	enum siplb_all_down all_down;
	char *metrics;			/* "ADDR:PORT" as written */
	struct siplb_cfg_addr metrics_addr;
	__u16 metrics_port;
	char *control;			/* Unix socket path */
	enum siplb_log_level log_level;
	struct siplb_cfg_addr src4;	/* family 0 when not given */
	struct siplb_cfg_addr src6;
	__u32 mtu;
	struct siplb_cfg_vip *vips;
	size_t n_vips;
};

/*
 * Read and validate the file at path into cfg (which need not be initialised).
 * Returns 0, or a negative errno with cfg left empty and err holding one line:
 * "FILE:LINE: setting 'vips[0].port': <what is wrong>" (lines from 1).
 */
int siplb_config_load(const char *path, struct siplb_cfg *cfg, char *err,
		      size_t errlen);

/* Release what siplb_config_load() allocated; cfg is left zeroed. */
void siplb_config_free(struct siplb_cfg *cfg);

/* Names for the enums, for logs and `siplbctl status`. */
const char *siplb_log_level_name(enum siplb_log_level level);

#endif /* SIPLB_CONFIG_H */
