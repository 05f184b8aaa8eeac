/* config.h: siplbd's configuration file (YAML, read with libyaml), validated into one struct. */
#ifndef SIPLB_CONFIG_H
#define SIPLB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "siplb_hash.h"
#include "siplb_maps.h"

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
#define SIPLB_CFG_AFF_NEW_MAX	125000	/* new affinity entries per CPU per second */
#define SIPLB_CFG_BANS_FMT	"/var/lib/siplb/%s.bans"
#define SIPLB_CFG_BAN_FOR	3600	/* seconds an auto-ban lasts */
#define SIPLB_CFG_TLS_PORT	5061
#define SIPLB_CFG_RELAY_PORT	5060	/* our UDP port towards backends, on src4/src6 */
#define SIPLB_CFG_MAX_CONNS	10000
#define SIPLB_CFG_MAX_HEADER	16384	/* bytes */
#define SIPLB_CFG_MAX_BODY	65536	/* bytes */
#define SIPLB_CFG_IDLE		600	/* s without a byte from the client */
#define SIPLB_CFG_MSG_TIMEOUT	10000	/* ms from a message's first byte to its last */
#define SIPLB_CFG_HS_TIMEOUT	5000	/* ms for a TLS handshake */
#define SIPLB_CFG_SNI_MAX	16	/* tls.sni entries */

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
	__u16 port;		/* UDP and TCP */
	__u16 tls_port;
	__u8 transports;	/* SIPLB_TRANSPORT_* */
	__u8 mode;		/* enum siplb_fwd_mode */
	__u8 reg_key;		/* enum siplb_reg_key */
	struct siplb_cfg_backend *backends;
	size_t n_backends;	/* may be 0 */
	/* DoS limits: per-source messages per second and burst, by class
	 * (enum siplb_class); rate 0 = no limit */
	__u32 rate[2];
	__u32 burst[2];
	__u32 ban_after;	/* seconds over budget before an auto-ban; 0 = never */
	__u32 ban_for;		/* seconds an auto-ban lasts */
	__u32 max_msg;		/* largest UDP payload (bytes); 0 = no limit */
	bool drop_unknown_resp;	/* drop responses with no affinity entry */
	char *scanners[SIPLB_SCANNER_SIGS]; /* User-Agent substrings of scanners */
	size_t n_scanners;
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

enum siplb_tls_verify {
	SIPLB_TLS_VERIFY_NONE = 0,	/* no client certificate asked for */
	SIPLB_TLS_VERIFY_OPTIONAL,	/* asked for; when sent, it must verify */
	SIPLB_TLS_VERIFY_REQUIRE,	/* must be sent and verify */
};

/* A certificate for one server name (SNI). */
struct siplb_cfg_sni {
	char *name;		/* host name the client asks for */
	char *cert;		/* PEM chain, leaf first */
	char *key;
	unsigned int line;
};

/* tls: how siplbd terminates SIP over TLS. */
struct siplb_cfg_tls {
	char *cert;		/* PEM chain, leaf first; NULL when not given */
	char *key;		/* PEM private key */
	char *ciphers;		/* TLS 1.2 cipher list (OpenSSL syntax); NULL = OpenSSL's */
	char *ciphersuites;	/* TLS 1.3 suites; NULL = OpenSSL's */
	int min_version;	/* TLS1_2_VERSION or TLS1_3_VERSION */
	char *client_ca;	/* PEM CAs that client certificates must chain to */
	enum siplb_tls_verify verify;
	struct siplb_cfg_sni *sni;
	size_t n_sni;
	__u32 handshake_ms;
	unsigned int line;	/* of the tls: key, for later messages */
};

/* streams: connections of SIP over TCP and TLS, and the relay to backends. */
struct siplb_cfg_streams {
	__u8 flow_key[32];	/* HMAC key of the flow tokens */
	bool have_flow_key;
	__u16 relay_port;	/* UDP port on src4/src6 the relay sends from and listens on */
	__u32 max_conns;	/* client connections, over all VIPs */
	__u32 max_header;	/* bytes of a message's start line and headers */
	__u32 max_body;		/* bytes of its body */
	__u32 idle_s;		/* close a connection silent this long */
	__u32 msg_timeout_ms;	/* close when a started message takes longer */
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
	__u32 aff_new_max;		/* new entries per CPU per second; 0 = no cap */
	char *bans_file;		/* where bans persist across restarts */
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
	struct siplb_cfg_tls tls;
	struct siplb_cfg_streams streams;
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
