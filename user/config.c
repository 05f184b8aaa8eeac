// SPDX-License-Identifier: GPL-2.0
/* config.c: load siplbd's YAML configuration with libyaml's document API and validate it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <net/if.h>
#include <yaml.h>

#include "siplb_maps.h"
#include "maglev.h"
#include "config.h"

/* Longest dotted setting name in a message: "vips[63].backends[4095].weight". */
#define CFG_PATH_MAX 96
/* Largest Maglev table the maps are sized for. */
#define CFG_MAGLEV_MAX (1u << 24)

struct cfg_ctx {
	const char *file;
	char *err;
	size_t errlen;
	yaml_document_t *doc;
	struct siplb_cfg *cfg;
	yaml_node_t *interval_node;	/* health.*: checked together */
	yaml_node_t *timeout_node;
};

/* Handles the value of the key keys[idx] of a mapping; path names the setting. */
typedef int (*cfg_key_fn)(struct cfg_ctx *c, int idx, yaml_node_t *val,
			  const char *path, void *obj);

static unsigned int node_line(const yaml_node_t *n)
{
	return n ? n->start_mark.line + 1 : 1;
}

static int __attribute__((format(printf, 4, 5)))
cfg_err(struct cfg_ctx *c, const yaml_node_t *n, const char *path,
	const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->errlen)
		snprintf(c->err, c->errlen, "%s:%u: setting '%s': %s", c->file,
			 node_line(n), path, msg);
	return -EINVAL;
}

/* Name a setting in buf (CFG_PATH_MAX bytes); a long user key is cut short. */
static void __attribute__((format(printf, 2, 3)))
spath(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, CFG_PATH_MAX, fmt, ap);
	va_end(ap);
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a scalar";
	}
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A plain ~, null or empty value: "no value" in YAML. */
static bool is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = scalar(n);
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int want_scalar(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		       const char *what)
{
	if (n->type != YAML_SCALAR_NODE)
		return cfg_err(c, n, path, "expected %s, got %s", what,
			       node_kind(n));
	if (is_null(n))
		return cfg_err(c, n, path, "expected %s, got no value", what);
	return 0;
}

static int get_u32(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		   __u32 min, __u32 max, __u32 *out)
{
	unsigned long long v;
	const char *s;
	char *end;
	int err;

	err = want_scalar(c, n, path, "a number");
	if (err)
		return err;
	s = scalar(n);
	if (*s < '0' || *s > '9')
		return cfg_err(c, n, path, "'%s' is not a number", s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return cfg_err(c, n, path, "'%s' is not a number", s);
	if (errno || v < min || v > max)
		return cfg_err(c, n, path, "%s is out of range %u..%u", s, min,
			       max);
	*out = v;
	return 0;
}

static int get_u16(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		   __u16 min, __u16 max, __u16 *out)
{
	__u32 v;
	int err;

	err = get_u32(c, n, path, min, max, &v);
	if (!err)
		*out = v;
	return err;
}

/* One of names[0..n); *out is its index. */
static int get_enum(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		    const char *const *names, int count, int *out)
{
	char list[128] = "";
	size_t off = 0;
	int i, err;

	err = want_scalar(c, n, path, "a word");
	if (err)
		return err;
	for (i = 0; i < count; i++) {
		if (!strcmp(scalar(n), names[i])) {
			*out = i;
			return 0;
		}
		off += snprintf(list + off, sizeof(list) - off, "%s%s",
				i ? (i == count - 1 ? " or " : ", ") : "",
				names[i]);
		if (off >= sizeof(list))
			break;
	}
	return cfg_err(c, n, path, "'%s' is not one of %s", scalar(n), list);
}

/*
 * A string of 1..max bytes. With charset, only those characters (plus
 * alphanumerics); otherwise any printable ASCII but space.
 */
static int get_str(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		   size_t max, const char *charset, char **out)
{
	const char *s;
	size_t len, i;
	int err;

	err = want_scalar(c, n, path, "a string");
	if (err)
		return err;
	s = scalar(n);
	len = strlen(s);
	if (len > max)
		return cfg_err(c, n, path, "longer than %zu bytes", max);
	for (i = 0; i < len; i++) {
		unsigned char ch = s[i];

		if (charset ? !((ch >= 'a' && ch <= 'z') ||
				(ch >= 'A' && ch <= 'Z') ||
				(ch >= '0' && ch <= '9') ||
				strchr(charset, ch)) :
			      (ch <= ' ' || ch >= 0x7f))
			return cfg_err(c, n, path,
				       "character '%c' not allowed in '%s'",
				       ch > ' ' && ch < 0x7f ? ch : '?', s);
	}
	free(*out);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int parse_addr(const char *s, int family, struct siplb_cfg_addr *a)
{
	memset(a, 0, sizeof(*a));
	if ((!family || family == AF_INET) && inet_pton(AF_INET, s, a->addr) == 1)
		a->family = AF_INET;
	else if ((!family || family == AF_INET6) &&
		 inet_pton(AF_INET6, s, a->addr) == 1)
		a->family = AF_INET6;
	return a->family ? 0 : -EINVAL;
}

static bool addr_unspecified(const struct siplb_cfg_addr *a)
{
	return !(a->addr[0] | a->addr[1] | a->addr[2] | a->addr[3]);
}

/* An IPv4 or IPv6 literal (family 0: either), not 0.0.0.0 or ::. */
static int get_addr(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		    int family, struct siplb_cfg_addr *out)
{
	static const char *const fam[] = { "an IPv4 or IPv6", "an IPv4",
					   "an IPv6" };
	int err;

	err = want_scalar(c, n, path, "an address");
	if (err)
		return err;
	if (parse_addr(scalar(n), family, out))
		return cfg_err(c, n, path, "'%s' is not %s address", scalar(n),
			       fam[family == AF_INET ? 1 :
				   family == AF_INET6 ? 2 : 0]);
	if (addr_unspecified(out))
		return cfg_err(c, n, path, "'%s' is the unspecified address",
			       scalar(n));
	return 0;
}

static bool addr_eq(const struct siplb_cfg_addr *a,
		    const struct siplb_cfg_addr *b)
{
	return a->family == b->family &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static const char *addr_str(const struct siplb_cfg_addr *a, char *buf,
			    size_t len)
{
	if (!inet_ntop(a->family, a->addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* Walk a mapping whose keys must come from keys[]: unknown or repeated keys fail. */
static int map_walk(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		    const char *const *keys, int nkeys, cfg_key_fn fn, void *obj)
{
	char child[CFG_PATH_MAX];
	yaml_node_pair_t *p, *q;
	int i, err;

	if (n->type != YAML_MAPPING_NODE)
		return cfg_err(c, n, *path ? path : "(top level)",
			       "expected a mapping of settings, got %s",
			       is_null(n) ? "no value" : node_kind(n));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
		const char *name;

		if (k->type != YAML_SCALAR_NODE)
			return cfg_err(c, k, *path ? path : "(top level)",
				       "a setting name must be a word, got %s",
				       node_kind(k));
		name = scalar(k);
		spath(child, "%s%s%s", path, *path ? "." : "",
			 name);
		for (q = n->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *qk = yaml_document_get_node(c->doc, q->key);

			if (qk->type == YAML_SCALAR_NODE &&
			    !strcmp(scalar(qk), name))
				return cfg_err(c, k, child,
					       "given twice (first at line %u)",
					       node_line(qk));
		}
		for (i = 0; i < nkeys; i++)
			if (!strcmp(keys[i], name))
				break;
		if (i == nkeys)
			return cfg_err(c, k, child, "unknown setting");
		err = fn(c, i, v, child, obj);
		if (err)
			return err;
	}
	return 0;
}

/* A list (null = empty); *count its length. */
static int want_list(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		     size_t *count)
{
	if (is_null(n)) {
		*count = 0;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return cfg_err(c, n, path, "expected a list, got %s",
			       node_kind(n));
	*count = n->data.sequence.items.top - n->data.sequence.items.start;
	return 0;
}

static yaml_node_t *list_item(struct cfg_ctx *c, yaml_node_t *n, size_t i)
{
	return yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
}

static int hex_val(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The same byte order as sipmsg_parse_key(): 16 bytes, two little-endian words. */
static int get_key(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		   struct siplb_hash_key *key)
{
	const char *s;
	__u8 b[16];
	int i, err;

	err = want_scalar(c, n, path, "32 hex digits");
	if (err)
		return err;
	s = scalar(n);
	if (strlen(s) != 32)
		return cfg_err(c, n, path, "expected 32 hex digits, got %zu characters",
			       strlen(s));
	for (i = 0; i < 16; i++) {
		int hi = hex_val(s[2 * i]), lo = hex_val(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return cfg_err(c, n, path, "'%c' is not a hex digit",
				       hi < 0 ? s[2 * i] : s[2 * i + 1]);
		b[i] = hi << 4 | lo;
	}
	memcpy(&key->k0, b, 8);
	memcpy(&key->k1, b + 8, 8);
	return 0;
}

/* --- interfaces ---------------------------------------------------------- */

static const char *const attach_names[] = { "native", "generic" };
static const char *const iface_keys[] = { "name", "attach" };

static int iface_key(struct cfg_ctx *c, int idx, yaml_node_t *v,
		     const char *path, void *obj)
{
	struct siplb_cfg_iface *ifc = obj;
	int val, err;

	switch (idx) {
	case 0:
		return get_str(c, v, path, IFNAMSIZ - 1, "_.-@", &ifc->name);
	default:
		err = get_enum(c, v, path, attach_names, 2, &val);
		ifc->attach = val;
		return err;
	}
}

static int load_ifaces(struct cfg_ctx *c, yaml_node_t *n, const char *path)
{
	struct siplb_cfg *cfg = c->cfg;
	char child[CFG_PATH_MAX];
	size_t i, j, count;
	int err;

	err = want_list(c, n, path, &count);
	if (err || !count)
		return err;
	cfg->ifaces = calloc(count, sizeof(*cfg->ifaces));
	if (!cfg->ifaces)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		struct siplb_cfg_iface *ifc = &cfg->ifaces[i];
		yaml_node_t *it = list_item(c, n, i);

		cfg->n_ifaces++;
		spath(child, "%s[%zu]", path, i);
		ifc->line = node_line(it);
		/* "- eth0" is short for "- name: eth0". */
		if (it->type == YAML_SCALAR_NODE)
			err = get_str(c, it, child, IFNAMSIZ - 1, "_.-@",
				      &ifc->name);
		else
			err = map_walk(c, it, child, iface_keys, 2, iface_key,
				       ifc);
		if (err)
			return err;
		if (!ifc->name)
			return cfg_err(c, it, child,
				       "missing required setting 'name'");
		for (j = 0; j < i; j++)
			if (!strcmp(cfg->ifaces[j].name, ifc->name))
				return cfg_err(c, it, child,
					       "interface %s given twice (first at line %u)",
					       ifc->name, cfg->ifaces[j].line);
	}
	return 0;
}

/* --- health -------------------------------------------------------------- */

static const char *const health_keys[] = { "interval_ms", "timeout_ms", "fall",
					   "rise", "accept" };

static int load_accept(struct cfg_ctx *c, yaml_node_t *v, const char *path,
		       struct siplb_cfg_health *h)
{
	char child[CFG_PATH_MAX];
	size_t i, j, count;
	int err;

	if (v->type == YAML_SCALAR_NODE && !strcmp(scalar(v), "any")) {
		h->accept_any = true;
		h->n_accept = 0;
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return cfg_err(c, v, path,
			       "expected 'any' or a list of status codes, got %s",
			       v->type == YAML_SCALAR_NODE ? "a scalar" :
							     node_kind(v));
	err = want_list(c, v, path, &count);
	if (err)
		return err;
	if (!count)
		return cfg_err(c, v, path, "the list of status codes is empty");
	if (count > SIPLB_CFG_ACCEPT_MAX)
		return cfg_err(c, v, path, "more than %d status codes",
			       SIPLB_CFG_ACCEPT_MAX);
	h->accept_any = false;
	for (i = 0; i < count; i++) {
		yaml_node_t *it = list_item(c, v, i);

		spath(child, "%s[%zu]", path, i);
		err = get_u16(c, it, child, 100, 699, &h->accept[i]);
		if (err)
			return err;
		for (j = 0; j < i; j++)
			if (h->accept[j] == h->accept[i])
				return cfg_err(c, it, child,
					       "status %u given twice",
					       h->accept[i]);
	}
	h->n_accept = count;
	return 0;
}

static int health_key(struct cfg_ctx *c, int idx, yaml_node_t *v,
		      const char *path, void *obj)
{
	struct siplb_cfg_health *h = obj;

	switch (idx) {
	case 0:
		c->interval_node = v;
		return get_u32(c, v, path, 10, 3600000, &h->interval_ms);
	case 1:
		c->timeout_node = v;
		return get_u32(c, v, path, 1, 3600000, &h->timeout_ms);
	case 2:
		return get_u32(c, v, path, 1, 100, &h->fall);
	case 3:
		return get_u32(c, v, path, 1, 100, &h->rise);
	default:
		return load_accept(c, v, path, h);
	}
}

/* --- affinity ------------------------------------------------------------ */

static const char *const aff_keys[] = { "capacity", "idle_timeout", "max_new_per_cpu",
					"dialog_window" };

static int aff_key(struct cfg_ctx *c, int idx, yaml_node_t *v,
		   const char *path, void *obj)
{
	struct siplb_cfg *cfg = obj;

	if (idx == 0)
		return get_u32(c, v, path, 1024, 1u << 28, &cfg->aff_capacity);
	if (idx == 1)
		return get_u32(c, v, path, 0, 365 * 86400, &cfg->aff_idle);
	if (idx == 3)
		return get_u32(c, v, path, 0, 7 * 86400, &cfg->dialog_window);
	return get_u32(c, v, path, 0, 100000000, &cfg->aff_new_max);
}

/* --- announce ------------------------------------------------------------ */

static const char *const announce_keys[] = { "table" };

static int announce_key(struct cfg_ctx *c, int idx, yaml_node_t *v,
			const char *path, void *obj)
{
	struct siplb_cfg *cfg = obj;

	(void)idx;
	/* 0, 253 (default), 254 (main) and 255 (local) route real traffic */
	return get_u32(c, v, path, 1, 252, &cfg->announce_table);
}

/* --- vips and backends --------------------------------------------------- */

static const char *const mode_names[] = { "ipip", "l2" };
static const char *const regkey_names[] = { "call-id", "to-aor" };
static const char *const state_names[] = { "up", "drain" };
static const char *const transport_names[] = { "udp", "tcp", "tls" };
static const char *const backend_keys[] = { "address", "port", "weight",
					    "name", "state" };
static const char *const vip_keys[] = { "name", "address", "port",
					"transports", "mode", "register_key",
					"backends", "tls_port", "rate_limit", "auto_ban",
					"max_message_bytes", "drop_unknown_responses",
					"scanner_user_agents" };
#define N_VIP_KEYS 13

/* --- DoS limits of a VIP ----------------------------------------------- */

static const char *const class_keys[] = { "dialog_creating", "other" };
static const char *const bucket_keys[] = { "rate", "burst" };
static const char *const ban_keys[] = { "after", "duration" };
static const char *const bool_names[] = { "false", "true" };

struct bucket_load {
	__u32 *rate, *burst;
	bool have_rate, have_burst;
};

static int bucket_key(struct cfg_ctx *c, int idx, yaml_node_t *v,
		      const char *path, void *obj)
{
	struct bucket_load *bl = obj;

	if (idx == 0) {
		bl->have_rate = true;
		return get_u32(c, v, path, 1, 10000000, bl->rate);
	}
	bl->have_burst = true;
	return get_u32(c, v, path, 1, 10000000, bl->burst);
}

static int class_key(struct cfg_ctx *c, int idx, yaml_node_t *v,
		     const char *path, void *obj)
{
	struct siplb_cfg_vip *vip = obj;
	struct bucket_load bl = { .rate = &vip->rate[idx], .burst = &vip->burst[idx] };
	int err;

	err = map_walk(c, v, path, bucket_keys, 2, bucket_key, &bl);
	if (err)
		return err;
	if (!bl.have_rate)
		return cfg_err(c, v, path, "missing required setting 'rate' (messages per second)");
	if (!bl.have_burst)
		vip->burst[idx] = vip->rate[idx];	/* one second's worth */
	return 0;
}

/* A list of 1..16-byte strings (printable ASCII, no spaces), matched case-insensitively. */
static int load_scanners(struct cfg_ctx *c, yaml_node_t *n, const char *path,
			 struct siplb_cfg_vip *vip)
{
	char child[CFG_PATH_MAX];
	size_t count, i;
	int err;

	err = want_list(c, n, path, &count);
	if (err)
		return err;
	if (count > SIPLB_SCANNER_SIGS)
		return cfg_err(c, n, path, "more than %d signatures", SIPLB_SCANNER_SIGS);
	for (i = 0; i < count; i++) {
		yaml_node_t *it = list_item(c, n, i);

		spath(child, "%s[%zu]", path, i);
		err = get_str(c, it, child, SIPLB_SCANNER_LEN, NULL, &vip->scanners[i]);
		if (err)
			return err;
		vip->n_scanners++;
		if (!vip->scanners[i][0])
			return cfg_err(c, it, child, "an empty signature would match everything");
	}
	return 0;
}

static int ban_key(struct cfg_ctx *c, int idx, yaml_node_t *v,
		   const char *path, void *obj)
{
	struct siplb_cfg_vip *vip = obj;

	if (idx == 0)
		return get_u32(c, v, path, 1, 86400, &vip->ban_after);
	return get_u32(c, v, path, 1, 365 * 86400, &vip->ban_for);
}

struct vip_load {
	struct siplb_cfg_vip *vip;
	yaml_node_t *backends;	/* read once the address (and family) is known */
	const yaml_node_t *addr_node;
	const yaml_node_t *tls_port_node;
	char backends_path[CFG_PATH_MAX];
};

struct backend_load {
	struct siplb_cfg_backend *be;
	int family;
	const yaml_node_t *addr_node;
};

static int backend_key(struct cfg_ctx *c, int idx, yaml_node_t *v,
		       const char *path, void *obj)
{
	struct backend_load *bl = obj;
	struct siplb_cfg_backend *be = bl->be;
	struct siplb_cfg_addr any;
	int val, err;

	switch (idx) {
	case 0:
		bl->addr_node = v;
		err = get_addr(c, v, path, bl->family, &be->addr);
		if (err && v->type == YAML_SCALAR_NODE &&
		    !parse_addr(scalar(v), 0, &any))
			return cfg_err(c, v, path,
				       "'%s' is an %s address under an %s VIP",
				       scalar(v),
				       any.family == AF_INET ? "IPv4" : "IPv6",
				       bl->family == AF_INET ? "IPv4" : "IPv6");
		return err;
	case 1:
		return get_u16(c, v, path, 1, 65535, &be->port);
	case 2:
		return get_u16(c, v, path, 1, 65535, &be->weight);
	case 3:
		return get_str(c, v, path, SIPLB_CFG_NAME_MAX, "_.:-@",
			       &be->name);
	default:
		err = get_enum(c, v, path, state_names, 2, &val);
		be->state = val ? SIPLB_BE_DRAINING : SIPLB_BE_UP;
		return err;
	}
}

static int load_backends(struct cfg_ctx *c, struct vip_load *vl)
{
	struct siplb_cfg_vip *vip = vl->vip;
	const char *path = vl->backends_path;
	yaml_node_t *n = vl->backends;
	char child[CFG_PATH_MAX], a[INET6_ADDRSTRLEN];
	size_t i, j, count;
	int err;

	err = want_list(c, n, path, &count);
	if (err || !count)
		return err;
	if (count > SIPLB_MAX_BACKENDS)
		return cfg_err(c, n, path, "more than %d backends",
			       SIPLB_MAX_BACKENDS);
	vip->backends = calloc(count, sizeof(*vip->backends));
	if (!vip->backends)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		struct siplb_cfg_backend *be = &vip->backends[i];
		struct backend_load bl = { .be = be,
					   .family = vip->addr.family };
		yaml_node_t *it = list_item(c, n, i);

		vip->n_backends++;
		be->port = SIPLB_CFG_PORT;
		be->weight = SIPLB_CFG_WEIGHT;
		be->state = SIPLB_BE_UP;
		be->line = node_line(it);
		spath(child, "%s[%zu]", path, i);
		err = map_walk(c, it, child, backend_keys, 5, backend_key, &bl);
		if (err)
			return err;
		spath(child, "%s[%zu].address", path, i);
		if (!be->addr.family)
			return cfg_err(c, it, child, "missing required setting");
		for (j = 0; j < i; j++) {
			const struct siplb_cfg_backend *o = &vip->backends[j];

			spath(child, "%s[%zu]", path, i);
			if (addr_eq(&o->addr, &be->addr) && o->port == be->port)
				return cfg_err(c, bl.addr_node, child,
					       "backend %s port %u given twice (first at line %u)",
					       addr_str(&be->addr, a, sizeof(a)),
					       be->port, o->line);
			if (be->name && o->name && !strcmp(be->name, o->name))
				return cfg_err(c, it, child,
					       "backend name '%s' given twice (first at line %u)",
					       be->name, o->line);
		}
	}
	return 0;
}

static int load_transports(struct cfg_ctx *c, yaml_node_t *v, const char *path,
			   struct siplb_cfg_vip *vip)
{
	char child[CFG_PATH_MAX];
	size_t i, count;
	int t, err;

	err = want_list(c, v, path, &count);
	if (err)
		return err;
	if (!count)
		return cfg_err(c, v, path, "the list of transports is empty");
	vip->transports = 0;
	for (i = 0; i < count; i++) {
		yaml_node_t *it = list_item(c, v, i);

		spath(child, "%s[%zu]", path, i);
		err = get_enum(c, it, child, transport_names, 3, &t);
		if (err)
			return err;
		if (vip->transports & (1u << t))
			return cfg_err(c, it, child, "%s given twice",
				       transport_names[t]);
		vip->transports |= 1u << t;
	}
	return 0;
}

static int vip_key(struct cfg_ctx *c, int idx, yaml_node_t *v,
		   const char *path, void *obj)
{
	struct vip_load *vl = obj;
	struct siplb_cfg_vip *vip = vl->vip;
	int val, err;

	switch (idx) {
	case 0:
		return get_str(c, v, path, SIPLB_CFG_NAME_MAX, "_.:-",
			       &vip->name);
	case 1:
		vl->addr_node = v;
		return get_addr(c, v, path, 0, &vip->addr);
	case 2:
		return get_u16(c, v, path, 1, 65535, &vip->port);
	case 3:
		return load_transports(c, v, path, vip);
	case 4:
		err = get_enum(c, v, path, mode_names, 2, &val);
		vip->mode = val ? SIPLB_FWD_L2 : SIPLB_FWD_IPIP;
		return err;
	case 5:
		err = get_enum(c, v, path, regkey_names, 2, &val);
		vip->reg_key = val ? SIPLB_REGKEY_AOR : SIPLB_REGKEY_CALLID;
		return err;
	case 6:
		vl->backends = v;
		spath(vl->backends_path, "%s", path);
		return 0;
	case 7:
		vl->tls_port_node = v;
		return get_u16(c, v, path, 1, 65535, &vip->tls_port);
	case 8:
		return map_walk(c, v, path, class_keys, 2, class_key, vip);
	case 9:
		err = map_walk(c, v, path, ban_keys, 2, ban_key, vip);
		if (!err && !vip->ban_after)
			return cfg_err(c, v, path, "missing required setting 'after' (seconds)");
		return err;
	case 10:
		return get_u32(c, v, path, 0, 65535, &vip->max_msg);
	case 11:
		err = get_enum(c, v, path, bool_names, 2, &val);
		vip->drop_unknown_resp = val;
		return err;
	default:
		return load_scanners(c, v, path, vip);
	}
}

static int load_vips(struct cfg_ctx *c, yaml_node_t *n, const char *path)
{
	struct siplb_cfg *cfg = c->cfg;
	char child[CFG_PATH_MAX], a[INET6_ADDRSTRLEN];
	size_t i, j, count, total = 0;
	int err;

	err = want_list(c, n, path, &count);
	if (err || !count)
		return err;
	if (count > SIPLB_MAX_VIPS)
		return cfg_err(c, n, path, "more than %d VIPs", SIPLB_MAX_VIPS);
	cfg->vips = calloc(count, sizeof(*cfg->vips));
	if (!cfg->vips)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		struct siplb_cfg_vip *vip = &cfg->vips[i];
		struct vip_load vl = { .vip = vip };
		yaml_node_t *it = list_item(c, n, i);

		cfg->n_vips++;
		vip->port = SIPLB_CFG_PORT;
		vip->tls_port = SIPLB_CFG_TLS_PORT;
		vip->transports = SIPLB_TRANSPORT_UDP;
		vip->mode = SIPLB_FWD_IPIP;
		vip->reg_key = SIPLB_REGKEY_CALLID;
		vip->line = node_line(it);
		vip->ban_for = SIPLB_CFG_BAN_FOR;
		spath(child, "%s[%zu]", path, i);
		err = map_walk(c, it, child, vip_keys, N_VIP_KEYS, vip_key, &vl);
		if (err)
			return err;
		if (!vip->addr.family) {
			spath(child, "%s[%zu].address", path,
				 i);
			return cfg_err(c, it, child, "missing required setting");
		}
		if ((vip->transports & SIPLB_TRANSPORT_TLS) &&
		    (vip->transports & SIPLB_TRANSPORT_TCP) &&
		    vip->tls_port == vip->port) {
			spath(child, "%s[%zu].tls_port", path, i);
			return cfg_err(c, vl.tls_port_node ? vl.tls_port_node : it, child,
				       "%u is also the VIP's TCP port", vip->tls_port);
		}
		for (j = 0; j < i; j++) {
			const struct siplb_cfg_vip *o = &cfg->vips[j];

			spath(child, "%s[%zu]", path, i);

			if (addr_eq(&o->addr, &vip->addr) &&
			    o->port == vip->port)
				return cfg_err(c, vl.addr_node, child,
					       "VIP %s port %u given twice (first at line %u)",
					       addr_str(&vip->addr, a, sizeof(a)),
					       vip->port, o->line);
			if (vip->name && o->name && !strcmp(vip->name, o->name))
				return cfg_err(c, it, child,
					       "VIP name '%s' given twice (first at line %u)",
					       vip->name, o->line);
		}
		if (vl.backends) {
			err = load_backends(c, &vl);
			if (err)
				return err;
		}
		total += vip->n_backends;
		if (total > SIPLB_MAX_BACKENDS)
			return cfg_err(c, it, child,
				       "more than %d backends in all VIPs",
				       SIPLB_MAX_BACKENDS);
	}
	return 0;
}

/* --- tls and streams ---------------------------------------------------- */

/* TLS versions as OpenSSL numbers them (TLS1_2_VERSION, TLS1_3_VERSION). */
#define CFG_TLS12 0x0303
#define CFG_TLS13 0x0304

static const char *const tls_keys[] = { "certificate", "key", "ciphers", "ciphersuites",
					"min_version", "client_ca", "verify_client", "sni",
					"handshake_timeout_ms" };
static const char *const sni_keys[] = { "name", "certificate", "key" };
static const char *const verify_names[] = { "none", "optional", "require" };
static const char *const version_names[] = { "1.2", "1.3" };

/*
 * An absolute path to a PEM file. Not opened here: siplbd reads it when it
 * sets TLS up, at start and on every reload, and says then what is wrong.
 */
static int get_file(struct cfg_ctx *c, yaml_node_t *n, const char *path, char **out)
{
	int err = want_scalar(c, n, path, "a file name");

	if (err)
		return err;
	if (scalar(n)[0] != '/')
		return cfg_err(c, n, path, "'%s' is not an absolute path", scalar(n));
	free(*out);
	*out = strdup(scalar(n));
	return *out ? 0 : -ENOMEM;
}

/* An OpenSSL cipher list or suite list: printable, no spaces. */
static int get_ciphers(struct cfg_ctx *c, yaml_node_t *n, const char *path, char **out)
{
	return get_str(c, n, path, 1024, NULL, out);
}

static int sni_key(struct cfg_ctx *c, int idx, yaml_node_t *v, const char *path,
		   void *obj)
{
	struct siplb_cfg_sni *sn = obj;

	switch (idx) {
	case 0:
		return get_str(c, v, path, 253, ".-_*", &sn->name);
	case 1:
		return get_file(c, v, path, &sn->cert);
	default:
		return get_file(c, v, path, &sn->key);
	}
}

static int load_sni(struct cfg_ctx *c, yaml_node_t *n, const char *path,
		    struct siplb_cfg_tls *t)
{
	char child[CFG_PATH_MAX];
	size_t i, j, count;
	int err;

	err = want_list(c, n, path, &count);
	if (err || !count)
		return err;
	if (count > SIPLB_CFG_SNI_MAX)
		return cfg_err(c, n, path, "more than %d names", SIPLB_CFG_SNI_MAX);
	t->sni = calloc(count, sizeof(*t->sni));
	if (!t->sni)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		struct siplb_cfg_sni *sn = &t->sni[i];
		yaml_node_t *it = list_item(c, n, i);

		t->n_sni++;
		sn->line = node_line(it);
		spath(child, "%s[%zu]", path, i);
		err = map_walk(c, it, child, sni_keys, 3, sni_key, sn);
		if (err)
			return err;
		if (!sn->name || !sn->cert || !sn->key)
			return cfg_err(c, it, child,
				       "needs name, certificate and key");
		for (j = 0; j < i; j++)
			if (!strcasecmp(t->sni[j].name, sn->name))
				return cfg_err(c, it, child,
					       "name %s given twice (first at line %u)",
					       sn->name, t->sni[j].line);
	}
	return 0;
}

static int tls_key(struct cfg_ctx *c, int idx, yaml_node_t *v, const char *path,
		   void *obj)
{
	struct siplb_cfg_tls *t = obj;
	int val, err;

	switch (idx) {
	case 0:
		return get_file(c, v, path, &t->cert);
	case 1:
		return get_file(c, v, path, &t->key);
	case 2:
		return get_ciphers(c, v, path, &t->ciphers);
	case 3:
		return get_ciphers(c, v, path, &t->ciphersuites);
	case 4:
		err = get_enum(c, v, path, version_names, 2, &val);
		t->min_version = val ? CFG_TLS13 : CFG_TLS12;
		return err;
	case 5:
		return get_file(c, v, path, &t->client_ca);
	case 6:
		err = get_enum(c, v, path, verify_names, 3, &val);
		t->verify = val;
		return err;
	case 7:
		return load_sni(c, v, path, t);
	default:
		return get_u32(c, v, path, 100, 60000, &t->handshake_ms);
	}
}

static const char *const streams_keys[] = { "flow_token_key", "relay_port",
					    "max_connections", "max_header", "max_body",
					    "idle_timeout", "message_timeout_ms" };

static int get_flow_key(struct cfg_ctx *c, yaml_node_t *n, const char *path,
			struct siplb_cfg_streams *st)
{
	const char *s;
	int i, err;

	err = want_scalar(c, n, path, "64 hex digits");
	if (err)
		return err;
	s = scalar(n);
	if (strlen(s) != 64)
		return cfg_err(c, n, path, "expected 64 hex digits, got %zu characters",
			       strlen(s));
	for (i = 0; i < 32; i++) {
		int hi = hex_val(s[2 * i]), lo = hex_val(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return cfg_err(c, n, path, "'%c' is not a hex digit",
				       hi < 0 ? s[2 * i] : s[2 * i + 1]);
		st->flow_key[i] = hi << 4 | lo;
	}
	st->have_flow_key = true;
	return 0;
}

static int streams_key(struct cfg_ctx *c, int idx, yaml_node_t *v, const char *path,
		       void *obj)
{
	struct siplb_cfg_streams *st = obj;

	switch (idx) {
	case 0:
		return get_flow_key(c, v, path, st);
	case 1:
		return get_u16(c, v, path, 1, 65535, &st->relay_port);
	case 2:
		return get_u32(c, v, path, 1, 1000000, &st->max_conns);
	case 3:
		return get_u32(c, v, path, 1024, 1u << 20, &st->max_header);
	case 4:
		return get_u32(c, v, path, 0, 1u << 24, &st->max_body);
	case 5:
		return get_u32(c, v, path, 1, 86400, &st->idle_s);
	default:
		return get_u32(c, v, path, 100, 600000, &st->msg_timeout_ms);
	}
}

/* The tls: and streams: settings against the VIPs that use them. */
static int check_streams(struct cfg_ctx *c, yaml_node_t *root)
{
	struct siplb_cfg *cfg = c->cfg;
	struct siplb_cfg_tls *t = &cfg->tls;
	yaml_mark_t m = { .line = t->line ? t->line - 1 : 0 };
	yaml_node_t at_tls = { .start_mark = m };
	size_t i;

	if (t->line && (!t->cert != !t->key))
		return cfg_err(c, &at_tls, t->cert ? "tls.key" : "tls.certificate",
			       "missing: certificate and key go together");
	if (t->verify != SIPLB_TLS_VERIFY_NONE && !t->client_ca)
		return cfg_err(c, &at_tls, "tls.client_ca",
			       "missing: verify_client %s needs the CAs to verify with",
			       verify_names[t->verify]);
	for (i = 0; i < cfg->n_vips; i++) {
		const struct siplb_cfg_vip *vip = &cfg->vips[i];
		bool v4 = vip->addr.family == AF_INET;
		yaml_mark_t vm = { .line = vip->line - 1 };
		yaml_node_t at = { .start_mark = vm };

		if (!(vip->transports & (SIPLB_TRANSPORT_TCP | SIPLB_TRANSPORT_TLS)))
			continue;
		if ((vip->transports & SIPLB_TRANSPORT_TLS) && !t->cert)
			return cfg_err(c, &at, "tls.certificate",
				       "missing: vips[%zu] takes tls", i);
		if (!cfg->streams.have_flow_key)
			return cfg_err(c, &at, "streams.flow_token_key",
				       "missing: vips[%zu] takes %s, whose relay signs flow tokens with it",
				       i, vip->transports & SIPLB_TRANSPORT_TCP ? "tcp" : "tls");
		if (!(v4 ? cfg->src4.family : cfg->src6.family))
			return cfg_err(c, &at, v4 ? "src4" : "src6",
				       "missing: vips[%zu] takes tcp or tls, relayed to the backends from this address",
				       i);
	}
	(void)root;
	return 0;
}

/* --- top level ----------------------------------------------------------- */

enum top_key {
	K_INSTANCE, K_INTERFACES, K_HASH_KEY, K_MAGLEV_SIZE, K_AFFINITY,
	K_HEALTH, K_ALL_DOWN, K_METRICS, K_CONTROL, K_LOG_LEVEL, K_SRC4,
	K_SRC6, K_MTU, K_VIPS, K_TLS, K_STREAMS, K_BANS_FILE, K_ANNOUNCE, K__MAX,
};

static const char *const top_keys[K__MAX] = {
	[K_INSTANCE] = "instance",	[K_INTERFACES] = "interfaces",
	[K_HASH_KEY] = "hash_key",	[K_MAGLEV_SIZE] = "maglev_size",
	[K_AFFINITY] = "affinity",	[K_HEALTH] = "health",
	[K_ALL_DOWN] = "all_down",	[K_METRICS] = "metrics",
	[K_CONTROL] = "control",	[K_LOG_LEVEL] = "log_level",
	[K_SRC4] = "src4",		[K_SRC6] = "src6",
	[K_MTU] = "mtu",		[K_VIPS] = "vips",
	[K_TLS] = "tls",		[K_STREAMS] = "streams",
	[K_BANS_FILE] = "bans_file",	[K_ANNOUNCE] = "announce",
};

static const char *const all_down_names[] = { "closed", "open" };
static const char *const log_names[] = { "error", "warn", "info", "debug" };

const char *siplb_log_level_name(enum siplb_log_level level)
{
	return level <= SIPLB_LOG_DEBUG ? log_names[level] : "?";
}

/* "ADDR:PORT" or "[ADDR6]:PORT". */
static int get_listen(struct cfg_ctx *c, yaml_node_t *v, const char *path)
{
	struct siplb_cfg *cfg = c->cfg;
	char host[INET6_ADDRSTRLEN + 2];
	const char *s, *colon;
	unsigned long port;
	size_t hlen;
	char *end;
	int err;

	err = get_str(c, v, path, sizeof(host) + 6, NULL, &cfg->metrics);
	if (err)
		return err;
	s = cfg->metrics;
	colon = strrchr(s, ':');
	if (!colon)
		goto bad;
	hlen = colon - s;
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']')
			goto bad;
		s++;
		hlen -= 2;
	}
	if (!hlen || hlen >= sizeof(host))
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = 0;
	if (parse_addr(host, s == cfg->metrics ? AF_INET : AF_INET6,
		       &cfg->metrics_addr))
		goto bad;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || errno || !port ||
	    port > 65535)
		goto bad;
	cfg->metrics_port = port;
	return 0;
bad:
	return cfg_err(c, v, path,
		       "'%s' is not IPV4:PORT or [IPV6]:PORT with port 1..65535",
		       scalar(v));
}

static int top_key(struct cfg_ctx *c, int idx, yaml_node_t *v,
		   const char *path, void *obj)
{
	struct siplb_cfg *cfg = obj;
	int val, err;

	switch (idx) {
	case K_INSTANCE:
		return get_str(c, v, path, SIPLB_CFG_INSTANCE_MAX, "_-",
			       &cfg->instance);
	case K_INTERFACES:
		return load_ifaces(c, v, path);
	case K_HASH_KEY:
		return get_key(c, v, path, &cfg->hash_key);
	case K_MAGLEV_SIZE:
		err = get_u32(c, v, path, 3, CFG_MAGLEV_MAX, &cfg->maglev_size);
		if (!err && !maglev_is_prime(cfg->maglev_size))
			return cfg_err(c, v, path, "%u is not prime",
				       cfg->maglev_size);
		return err;
	case K_AFFINITY:
		return map_walk(c, v, path, aff_keys, 4, aff_key, cfg);
	case K_ANNOUNCE:
		return map_walk(c, v, path, announce_keys, 1, announce_key, cfg);
	case K_HEALTH:
		c->timeout_node = NULL;
		c->interval_node = NULL;
		err = map_walk(c, v, path, health_keys, 5, health_key,
			       &cfg->health);
		if (!err && cfg->health.timeout_ms > cfg->health.interval_ms)
			return cfg_err(c, c->timeout_node ? c->timeout_node :
					  c->interval_node,
				       c->timeout_node ? "health.timeout_ms" :
							 "health.interval_ms",
				       "a timeout of %u ms is longer than the interval of %u ms",
				       cfg->health.timeout_ms,
				       cfg->health.interval_ms);
		return err;
	case K_ALL_DOWN:
		err = get_enum(c, v, path, all_down_names, 2, &val);
		cfg->all_down = val;
		return err;
	case K_METRICS:
		return get_listen(c, v, path);
	case K_CONTROL:
		err = get_str(c, v, path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1,
			      NULL, &cfg->control);
		if (!err && cfg->control[0] != '/')
			return cfg_err(c, v, path, "'%s' is not an absolute path",
				       cfg->control);
		return err;
	case K_LOG_LEVEL:
		err = get_enum(c, v, path, log_names, 4, &val);
		cfg->log_level = val;
		return err;
	case K_SRC4:
		return get_addr(c, v, path, AF_INET, &cfg->src4);
	case K_SRC6:
		return get_addr(c, v, path, AF_INET6, &cfg->src6);
	case K_MTU:
		return get_u32(c, v, path, 576, 65535, &cfg->mtu);
	case K_TLS:
		cfg->tls.line = node_line(v);
		return map_walk(c, v, path, tls_keys, 9, tls_key, &cfg->tls);
	case K_STREAMS:
		return map_walk(c, v, path, streams_keys, 7, streams_key, &cfg->streams);
	case K_BANS_FILE:
		err = get_str(c, v, path, 4095, NULL, &cfg->bans_file);
		if (!err && cfg->bans_file[0] != '/')
			return cfg_err(c, v, path, "'%s' is not an absolute path",
				       cfg->bans_file);
		return err;
	default:
		return load_vips(c, v, path);
	}
}

static void set_defaults(struct siplb_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->maglev_size = SIPLB_CFG_MAGLEV_SIZE;
	cfg->aff_capacity = SIPLB_CFG_AFF_CAPACITY;
	cfg->aff_idle = SIPLB_CFG_AFF_IDLE;
	cfg->dialog_window = SIPLB_CFG_DIALOG_WINDOW;
	cfg->aff_new_max = SIPLB_CFG_AFF_NEW_MAX;
	cfg->health.interval_ms = SIPLB_CFG_HC_INTERVAL;
	cfg->health.timeout_ms = SIPLB_CFG_HC_TIMEOUT;
	cfg->health.fall = SIPLB_CFG_HC_FALL;
	cfg->health.rise = SIPLB_CFG_HC_RISE;
	cfg->health.accept_any = true;
	cfg->all_down = SIPLB_ALL_DOWN_CLOSED;
	cfg->log_level = SIPLB_LOG_INFO;
	cfg->mtu = SIPLB_CFG_MTU;
	cfg->tls.min_version = CFG_TLS12;
	cfg->tls.handshake_ms = SIPLB_CFG_HS_TIMEOUT;
	cfg->streams.relay_port = SIPLB_CFG_RELAY_PORT;
	cfg->streams.max_conns = SIPLB_CFG_MAX_CONNS;
	cfg->streams.max_header = SIPLB_CFG_MAX_HEADER;
	cfg->streams.max_body = SIPLB_CFG_MAX_BODY;
	cfg->streams.idle_s = SIPLB_CFG_IDLE;
	cfg->streams.msg_timeout_ms = SIPLB_CFG_MSG_TIMEOUT;
}

/* Settings that are absent, or valid alone but not together. */
static int check_whole(struct cfg_ctx *c, yaml_node_t *root)
{
	struct siplb_cfg *cfg = c->cfg;
	yaml_node_pair_t *p;
	bool have_key = false;
	size_t i, j;
	int err;

	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);

		if (!strcmp(scalar(k), "hash_key"))
			have_key = true;
	}
	if (!have_key)
		return cfg_err(c, root, "hash_key",
			       "missing required setting (32 hex digits, the same on every instance)");
	for (i = 0; i < cfg->n_vips; i++) {
		const struct siplb_cfg_vip *vip = &cfg->vips[i];
		bool v4 = vip->addr.family == AF_INET;
		yaml_mark_t m = { .line = vip->line - 1 };
		yaml_node_t at = { .start_mark = m };

		if (vip->n_backends >= cfg->maglev_size)
			return cfg_err(c, &at, "maglev_size",
				       "%u slots are too few for the %zu backends of vips[%zu]",
				       cfg->maglev_size, vip->n_backends, i);
		if (vip->mode != SIPLB_FWD_IPIP)
			continue;
		if (!(v4 ? cfg->src4.family : cfg->src6.family))
			return cfg_err(c, &at, v4 ? "src4" : "src6",
				       "missing: vips[%zu] is an %s VIP in mode ipip, which needs an outer source address",
				       i, v4 ? "IPv4" : "IPv6");
		for (j = 0; j < vip->n_backends; j++)
			if (addr_eq(&vip->backends[j].addr,
				    v4 ? &cfg->src4 : &cfg->src6))
				return cfg_err(c, &at, v4 ? "src4" : "src6",
					       "is also the address of vips[%zu].backends[%zu]",
					       i, j);
	}
	err = check_streams(c, root);
	if (err)
		return err;
	if (!cfg->instance) {
		cfg->instance = strdup(SIPLB_CFG_INSTANCE);
		if (!cfg->instance)
			return -ENOMEM;
	}
	if (!cfg->control &&
	    asprintf(&cfg->control, SIPLB_CFG_CONTROL_FMT, cfg->instance) < 0) {
		cfg->control = NULL;
		return -ENOMEM;
	}
	if (!cfg->bans_file &&
	    asprintf(&cfg->bans_file, SIPLB_CFG_BANS_FMT, cfg->instance) < 0) {
		cfg->bans_file = NULL;
		return -ENOMEM;
	}
	if (!cfg->metrics) {
		cfg->metrics = strdup(SIPLB_CFG_METRICS);
		if (!cfg->metrics)
			return -ENOMEM;
		parse_addr("127.0.0.1", AF_INET, &cfg->metrics_addr);
		cfg->metrics_port = 9100;
	}
	return 0;
}

static int yaml_fail(struct cfg_ctx *c, yaml_parser_t *parser)
{
	if (parser->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (c->errlen)
		snprintf(c->err, c->errlen, "%s:%zu: YAML syntax error: %s%s%s",
			 c->file, parser->problem_mark.line + 1,
			 parser->problem ? parser->problem : "malformed",
			 parser->context ? " " : "",
			 parser->context ? parser->context : "");
	return -EINVAL;
}

int siplb_config_load(const char *path, struct siplb_cfg *cfg, char *err,
		      size_t errlen)
{
	struct cfg_ctx c = { .file = path, .err = err, .errlen = errlen,
			     .cfg = cfg };
	yaml_document_t doc, extra;
	yaml_parser_t parser;
	yaml_node_t *root;
	FILE *f;
	int ret;

	set_defaults(cfg);
	if (errlen)
		err[0] = 0;
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		if (errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (!yaml_parser_initialize(&parser)) {
		ret = -ENOMEM;
		goto out_file;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = yaml_fail(&c, &parser);
		goto out_parser;
	}
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		if (errlen)
			snprintf(err, errlen,
				 "%s:1: setting 'hash_key': missing required setting (the file is empty)",
				 path);
		ret = -EINVAL;
		goto out_doc;
	}
	/* One document per file: a second one is almost surely a mistake. */
	if (!yaml_parser_load(&parser, &extra)) {
		ret = yaml_fail(&c, &parser);
		goto out_doc;
	}
	if (yaml_document_get_root_node(&extra)) {
		if (errlen)
			snprintf(err, errlen,
				 "%s:%zu: a second YAML document: put everything in one",
				 path,
				 yaml_document_get_root_node(&extra)->start_mark.line + 1);
		ret = -EINVAL;
		yaml_document_delete(&extra);
		goto out_doc;
	}
	yaml_document_delete(&extra);
	ret = map_walk(&c, root, "", top_keys, K__MAX, top_key, cfg);
	if (!ret)
		ret = check_whole(&c, root);
out_doc:
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
out_file:
	fclose(f);
	if (ret) {
		if (ret == -ENOMEM && errlen)
			snprintf(err, errlen, "%s: out of memory", path);
		siplb_config_free(cfg);
	}
	return ret;
}

void siplb_config_free(struct siplb_cfg *cfg)
{
	size_t i, j;

	for (i = 0; i < cfg->n_ifaces; i++)
		free(cfg->ifaces[i].name);
	free(cfg->ifaces);
	for (i = 0; i < cfg->n_vips; i++) {
		for (j = 0; j < cfg->vips[i].n_backends; j++)
			free(cfg->vips[i].backends[j].name);
		free(cfg->vips[i].backends);
		free(cfg->vips[i].name);
		for (j = 0; j < cfg->vips[i].n_scanners; j++)
			free(cfg->vips[i].scanners[j]);
	}
	free(cfg->vips);
	for (i = 0; i < cfg->tls.n_sni; i++) {
		free(cfg->tls.sni[i].name);
		free(cfg->tls.sni[i].cert);
		free(cfg->tls.sni[i].key);
	}
	free(cfg->tls.sni);
	free(cfg->tls.cert);
	free(cfg->tls.key);
	free(cfg->tls.ciphers);
	free(cfg->tls.ciphersuites);
	free(cfg->tls.client_ca);
	free(cfg->instance);
	free(cfg->metrics);
	free(cfg->control);
	free(cfg->bans_file);
	memset(cfg, 0, sizeof(*cfg));
}
