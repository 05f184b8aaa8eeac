// SPDX-License-Identifier: GPL-2.0
/* siplbctl.c: the operator's CLI. main() only dispatches through the command table. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "sipmsg.h"

struct cmd {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(int argc, char **argv);
};

/* Options given before the command (and accepted after it by daemon commands). */
static struct {
	const char *sock;	/* -s PATH; NULL: from the instance */
	const char *instance;	/* -i NAME */
	bool json;
	int timeout_ms;
} g = { .instance = "default", .timeout_ms = 30000 };

static int cmd_parse(int argc, char **argv);
static int cmd_help(int argc, char **argv);
static int cmd_status(int argc, char **argv);
static int cmd_backends(int argc, char **argv);
static int cmd_add(int argc, char **argv);
static int cmd_remove(int argc, char **argv);
static int cmd_weight(int argc, char **argv);
static int cmd_stats(int argc, char **argv);
static int cmd_top(int argc, char **argv);
static int cmd_reload(int argc, char **argv);
static int cmd_explain(int argc, char **argv);
static int cmd_ban(int argc, char **argv);
static int cmd_unban(int argc, char **argv);
static int cmd_bans(int argc, char **argv);

static const struct cmd cmds[] = {
	{ "status", "",
	  "Show the daemon: version, uptime, config file, interfaces and their\n"
	  "\t\tXDP mode, each VIP with its backends up, Maglev table\n"
	  "\t\tfingerprint (equal on instances that agree), earlier table\n"
	  "\t\tgenerations still steering in-dialog requests, whether its\n"
	  "\t\troute is announced (BGP), dialogs in the affinity map, reloads.",
	  cmd_status },
	{ "backends", "[VIP]",
	  "List the backends (of one VIP): address, weight, state, health with\n"
	  "\t\tthe last checks (+ ok, x timeout, - bad status; newest last) and\n"
	  "\t\twhy, dialogs, packets.",
	  cmd_backends },
	{ "add", "VIP ADDRESS[:PORT] [--port N] [--weight N] [--name NAME]",
	  "Add a backend to a VIP at run time (not written to the config file).",
	  cmd_add },
	{ "remove", "BACKEND",
	  "Remove a backend. BACKEND is its name, address, address:port or id.",
	  cmd_remove },
	{ "drain", "BACKEND [--at MS]",
	  "Send no new dialogs to a backend; its existing dialogs stay on it.\n"
	  "\t\t--at MS: at that wall-clock time (ms since the epoch), so that\n"
	  "\t\tinstances behind one ECMP route change their tables together.",
	  cmd_remove },
	{ "undrain", "BACKEND [--at MS]",
	  "Give a drained backend new dialogs again (--at as for drain).",
	  cmd_remove },
	{ "weight", "BACKEND N",
	  "Set a backend's weight (its share of new dialogs).",
	  cmd_weight },
	{ "stats", "[--all]",
	  "Counters: drops and slow-path packets per reason, events, packets and\n"
	  "\t\tbytes per VIP and per backend. Zero counters are left out unless --all.",
	  cmd_stats },
	{ "top", "[--interval SEC] [--count N]",
	  "Live rates, refreshed every SEC seconds (default 1): packets/s and\n"
	  "\t\tbytes/s per VIP and per backend, drops/s by reason, the top talkers\n"
	  "\t\t(sources over their rate budget, most drops first). Runs until\n"
	  "\t\tCtrl-C or N refreshes. With --json, one JSON object per line and interval.",
	  cmd_top },
	{ "ban", "PREFIX [--for DURATION]",
	  "Drop everything from PREFIX (ADDR or ADDR/LEN, IPv4 or IPv6) in XDP,\n"
	  "\t\tbefore parsing. DURATION is seconds or N[smhd] (default: until\n"
	  "\t\tunbanned). Kept in the bans file across restarts.",
	  cmd_ban },
	{ "unban", "PREFIX",
	  "Lift a ban (PREFIX as it was banned).",
	  cmd_unban },
	{ "bans", "",
	  "List the bans: prefix, manual or auto (auto-bans of sources that stayed\n"
	  "\t\tover their rate budget), time left.",
	  cmd_bans },
	{ "reload", "",
	  "Reload the configuration file (as SIGHUP does) and print what changed,\n"
	  "\t\tor why the new file was refused (the running config stays).",
	  cmd_reload },
	{ "explain", "FILE [--src IP:PORT] [--dst IP:PORT]",
	  "Ask the daemon where each message would go and why: VIP, path (xdp,\n"
	  "\t\tslow, drop, pass), reason, affinity key and hash, backend. FILE is a\n"
	  "\t\traw SIP message (then --dst, the VIP, is required; --src defaults to\n"
	  "\t\t198.18.0.1:5060; IPv6 as [ADDR]:PORT) or a pcap/pcapng capture (every\n"
	  "\t\tUDP packet over IPv4/IPv6; --src/--dst then select packets).\n"
	  "\t\t--json prints the answer, or for a capture an array of answers with\n"
	  "\t\ttheir packet number and addresses.",
	  cmd_explain },
	{ "parse", "[--json] [--key HEX32] FILE",
	  "Run the XDP program's SIP parser (compiled for userspace) over one raw\n"
	  "\t\tmessage (a UDP payload, exact bytes) and print what it found: kind,\n"
	  "\t\tmethod or status, Call-ID, top Via sent-by and branch, To AOR, and the\n"
	  "\t\tpath the balancer takes (xdp, slow or drop) with its reason.\n"
	  "\t\t--key prints the keyed hash of the Call-ID. Needs no daemon, no root.",
	  cmd_parse },
	{ "help", "", "This text.", cmd_help },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: siplbctl [-s PATH | -i INSTANCE] [--json] [--timeout SEC] COMMAND [ARGS]\n\n"
		   "Control and inspect the siplb SIP load balancer.\n\n"
		   "Options:\n"
		   "  -s, --socket PATH\n\t\tsiplbd's control socket (default " CTL_DIR "/INSTANCE.sock)\n"
		   "  -i, --instance NAME\n\t\tthe siplbd instance to talk to (default \"default\")\n"
		   "  -j, --json\tprint the daemon's answer as JSON instead of text\n"
		   "  -t, --timeout SEC\n\t\thow long to wait for an answer (default 30)\n"
		   "\nCommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %s %s\n\t\t%s\n", cmds[i].name, cmds[i].args, cmds[i].help);
	fprintf(f, "\nEvery command but parse talks to siplbd, which needs root.\n"
		   "Exit status: 0 on success, 1 on a failed command, 2 on bad usage.\n");
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

/* Read a whole file of at most max bytes into buf. Returns its length or -errno. */
static long read_file(const char *path, void *buf, size_t max)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	int c;

	if (!f)
		return -errno;
	n = fread(buf, 1, max, f);
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	c = fgetc(f);
	fclose(f);
	if (c != EOF)
		return -EMSGSIZE;
	return (long)n;
}

static void print_str(const char *label, const struct sipmsg_str *s)
{
	if (s->set)
		printf("%-12s %.*s\n", label, (int)s->len, s->p);
	else
		printf("%-12s -\n", label);
}

static int cmd_parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	static __u8 buf[SIPMSG_MAX + 1];
	struct siplb_hash_key key, *kp = NULL;
	struct sipmsg_info info;
	int json = g.json, opt;
	long len;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jk:", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'k':
			if (sipmsg_parse_key(optarg, &key)) {
				fprintf(stderr, "siplbctl parse: --key wants 32 hex digits, got '%s'\n",
					optarg);
				return 2;
			}
			kp = &key;
			break;
		default:
			fprintf(stderr, "Usage: siplbctl parse [--json] [--key HEX32] FILE\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "Usage: siplbctl parse [--json] [--key HEX32] FILE\n");
		return 2;
	}
	len = read_file(argv[optind], buf, SIPMSG_MAX);
	if (len == -EMSGSIZE) {
		fprintf(stderr, "siplbctl parse: %s: larger than a UDP datagram (%d bytes)\n",
			argv[optind], SIPMSG_MAX);
		return 1;
	}
	if (len < 0) {
		fprintf(stderr, "siplbctl parse: %s: %s\n", argv[optind], strerror(-len));
		return 1;
	}
	sipmsg_parse(buf, len, &info);

	if (json) {
		struct json_object *o = sipmsg_to_json(&info, kp);

		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return 0;
	}
	printf("%-12s %s\n", "valid", info.valid ? "yes" : "no");
	print_str("method", &info.method);
	if (info.msg.kind == SIP_KIND_RESPONSE)
		printf("%-12s %u\n", "status", info.msg.status);
	else
		printf("%-12s -\n", "status");
	print_str("call-id", &info.call_id);
	print_str("via sent-by", &info.via_sent_by);
	print_str("via branch", &info.via_branch);
	print_str("to aor", &info.to_aor);
	printf("%-12s %s\n", "to tag", info.to_tag ? "yes (in-dialog)" : "no");
	printf("%-12s %s%s%s\n", "path", info.path, info.reason ? ": " : "",
	       info.reason ? info.reason : "");
	if (kp && info.call_id.set)
		printf("%-12s %016llx\n", "hash",
		       (unsigned long long)siplb_hash_buf(info.call_id.p,
							   info.call_id.len, kp));
	return 0;
}

/* Options every daemon command takes, before or after the command name. */
#define COMMON_LONGOPTS \
	{ "json", no_argument, NULL, 'j' }, \
	{ "socket", required_argument, NULL, 's' }, \
	{ "instance", required_argument, NULL, 'i' }
#define COMMON_SHORTOPTS "js:i:"

static int common_opt(int opt)
{
	switch (opt) {
	case 'j':
		g.json = true;
		return 1;
	case 's':
		g.sock = optarg;
		return 1;
	case 'i':
		g.instance = optarg;
		g.sock = NULL;
		return 1;
	}
	return 0;
}

static int bad_usage(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name))
			fprintf(stderr, "Usage: siplbctl %s %s\n", name, cmds[i].args);
	return 2;
}

/* A daemon command with no options of its own: only the common ones, then positionals. */
static int common_args(int argc, char **argv)
{
	static const struct option opts[] = { COMMON_LONGOPTS, { NULL, 0, NULL, 0 } };
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, COMMON_SHORTOPTS, opts, NULL)) != -1)
		if (!common_opt(opt))
			return -1;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

/* Connect to siplbd: the fd, or -1 after printing why (-2: bad usage). */
static int connect_daemon(void)
{
	static char path[108];
	char err[512];
	int fd;

	if (!g.sock) {
		if (ctl_socket_path(path, sizeof(path), g.instance)) {
			fprintf(stderr, "siplbctl: bad instance name '%s'\n", g.instance);
			return -2;
		}
		g.sock = path;
	}
	fd = ctl_client_connect(g.sock, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "siplbctl: %s\n", err);
		return -1;
	}
	return fd;
}

static struct json_object *new_req(const char *cmd)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	return o;
}

/* Send req (consumed); the result without "ok", or NULL after printing the error. */
static struct json_object *request(int fd, struct json_object *req)
{
	struct json_object *resp, *v;
	char err[512];
	int ret;

	ret = ctl_client_call(fd, req, &resp, g.timeout_ms, err, sizeof(err));
	json_object_put(req);
	if (ret) {
		fprintf(stderr, "siplbctl: %s\n", err);
		return NULL;
	}
	if (!json_object_object_get_ex(resp, "ok", &v) || !json_object_get_boolean(v)) {
		if (json_object_object_get_ex(resp, "error", &v) && v)
			fprintf(stderr, "siplbctl: %s\n", json_object_get_string(v));
		else
			fprintf(stderr, "siplbctl: siplbd refused the request without saying why\n");
		json_object_put(resp);
		return NULL;
	}
	json_object_object_del(resp, "ok");
	return resp;
}

static void print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* One request, one answer: print it as JSON or through human(). Returns the exit status. */
static int run_simple(struct json_object *req, void (*human)(struct json_object *res))
{
	struct json_object *res;
	int fd = connect_daemon();

	if (fd < 0) {
		json_object_put(req);
		return fd == -2 ? 2 : 1;
	}
	res = request(fd, req);
	close(fd);
	if (!res)
		return 1;
	if (g.json)
		print_json(res);
	else
		human(res);
	json_object_put(res);
	return 0;
}

/* Field accessors that tolerate a missing field, a null, or a non-object. */
static struct json_object *jget(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	if (o && json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, k, &v);
	return v;
}

static const char *jstr(struct json_object *o, const char *k, const char *def)
{
	struct json_object *v = jget(o, k);

	return v ? json_object_get_string(v) : def;
}

static bool jnum(struct json_object *o, const char *k, long long *out)
{
	struct json_object *v = jget(o, k);

	if (!v || !(json_object_is_type(v, json_type_int) ||
		    json_object_is_type(v, json_type_double)))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

static uint64_t ju64(struct json_object *o, const char *k)
{
	struct json_object *v = jget(o, k);

	return v ? json_object_get_uint64(v) : 0;
}

static size_t jlen(struct json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* Small formatted strings for table cells: a ring, each valid for a few calls. */
static char *ring(void)
{
	static char bufs[16][64];
	static unsigned int i;

	return bufs[i++ % 16];
}

static const char *fnum(struct json_object *o, const char *k)
{
	long long v;
	char *b;

	if (!jnum(o, k, &v))
		return "-";
	b = ring();
	snprintf(b, 64, "%lld", v);
	return b;
}

static const char *fbytes(double v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	char *b = ring();
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(b, 64, "%.0f B", v);
	else
		snprintf(b, 64, "%.1f %s", v, units[u]);
	return b;
}

static const char *fago(long long ms)
{
	char *b = ring();
	long long s = ms / 1000;

	if (ms < 1000)
		snprintf(b, 64, "%lldms", ms);
	else if (s < 60)
		snprintf(b, 64, "%llds", s);
	else if (s < 3600)
		snprintf(b, 64, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(b, 64, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(b, 64, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
	return b;
}

/* "addr:port", "[v6]:port", or just the address without a port. */
static const char *faddr(const char *addr, long long port, bool has_port)
{
	char *b = ring();

	if (!has_port)
		snprintf(b, 64, "%s", addr);
	else if (strchr(addr, ':'))
		snprintf(b, 64, "[%s]:%lld", addr, port);
	else
		snprintf(b, 64, "%s:%lld", addr, port);
	return b;
}

static const char *faddr_of(struct json_object *o)
{
	long long port = 0;
	bool has = jnum(o, "port", &port);

	return faddr(jstr(o, "address", "-"), port, has);
}

/* An aligned text table; the first row is the header. Cells are copied. */
#define TBL_MAXCOL 16
struct table {
	size_t ncol;
	const char *align;	/* 'l' or 'r' per column */
	char **cell;
	size_t n, cap;
};

static void tbl_cell(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tbl_cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cell = realloc(t->cell, t->cap * sizeof(*t->cell));
		if (!t->cell) {
			fprintf(stderr, "siplbctl: out of memory\n");
			exit(1);
		}
	}
	t->cell[t->n++] = s;
}

static size_t tbl_rows(const struct table *t)
{
	return t->n / t->ncol;
}

static void tbl_print(struct table *t, const char *indent)
{
	size_t w[TBL_MAXCOL] = { 0 }, i, c;

	for (i = 0; i < t->n; i++) {
		size_t l = t->cell[i] ? strlen(t->cell[i]) : 1;

		if (l > w[i % t->ncol])
			w[i % t->ncol] = l;
	}
	for (i = 0; i + t->ncol <= t->n; i += t->ncol) {
		fputs(indent, stdout);
		for (c = 0; c < t->ncol; c++) {
			const char *s = t->cell[i + c] ? t->cell[i + c] : "?";
			bool last = c == t->ncol - 1;

			if (t->align[c] == 'r')
				printf("%*s", (int)w[c], s);
			else if (last)
				fputs(s, stdout);
			else
				printf("%-*s", (int)w[c], s);
			if (!last)
				fputs("  ", stdout);
		}
		putchar('\n');
	}
	for (i = 0; i < t->n; i++)
		free(t->cell[i]);
	free(t->cell);
	t->cell = NULL;
	t->n = t->cap = 0;
}

static void kv(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void kv(const char *label, const char *fmt, ...)
{
	va_list ap;

	printf("%-12s ", label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void show_status(struct json_object *r)
{
	struct json_object *ifs = jget(r, "interfaces"), *vips = jget(r, "vips");
	struct table t = { .ncol = 5, .align = "lrlll" };
	long long v, f;
	size_t i, j;

	printf("siplbd %s", jstr(r, "instance", "?"));
	if (jget(r, "version"))
		printf(", version %s", jstr(r, "version", "?"));
	if (jnum(r, "pid", &v))
		printf(", pid %lld", v);
	if (jnum(r, "uptime_s", &v)) {
		if (v >= 86400)
			printf(", up %lldd %02lld:%02lld:%02lld", v / 86400, v % 86400 / 3600,
			       v % 3600 / 60, v % 60);
		else
			printf(", up %02lld:%02lld:%02lld", v / 3600, v % 3600 / 60, v % 60);
	}
	putchar('\n');
	kv("config", "%s", jstr(r, "config", "-"));
	kv("pin dir", "%s", jstr(r, "pin_dir", "-"));
	if (jnum(r, "affinity_entries", &v))
		kv("dialogs", "%lld in the affinity map", v);
	if (jnum(r, "maglev_rebuilds", &v))
		kv("maglev", "%lld table rebuilds", v);
	if (jnum(r, "reloads", &v)) {
		if (jnum(r, "reload_failures", &f) && f)
			kv("reloads", "%lld, %lld failed", v, f);
		else
			kv("reloads", "%lld", v);
	}
	if (jget(r, "last_reload_error"))
		kv("last error", "%s", jstr(r, "last_reload_error", ""));

	putchar('\n');
	if (!jlen(ifs)) {
		printf("no interfaces attached\n");
	} else {
		tbl_cell(&t, "INTERFACE");
		tbl_cell(&t, "IFINDEX");
		tbl_cell(&t, "MODE");
		tbl_cell(&t, "XDP");
		tbl_cell(&t, "LINK");
		for (i = 0; i < jlen(ifs); i++) {
			struct json_object *o = json_object_array_get_idx(ifs, i);
			struct json_object *a = jget(o, "attached"), *l = jget(o, "link_up");

			tbl_cell(&t, "%s", jstr(o, "name", "?"));
			tbl_cell(&t, "%s", fnum(o, "ifindex"));
			tbl_cell(&t, "%s", jstr(o, "mode", "-"));
			tbl_cell(&t, "%s", !a ? "-" : json_object_get_boolean(a) ?
				 "attached" : "NOT ATTACHED");
			tbl_cell(&t, "%s", !l ? "-" : json_object_get_boolean(l) ? "up" : "DOWN");
		}
		tbl_print(&t, "");
	}

	putchar('\n');
	if (!jlen(vips)) {
		printf("no VIPs configured\n");
		return;
	}
	t = (struct table){ .ncol = 10, .align = "rlllllrlrl" };
	tbl_cell(&t, "ID");
	tbl_cell(&t, "VIP");
	tbl_cell(&t, "ADDRESS");
	tbl_cell(&t, "TRANSPORTS");
	tbl_cell(&t, "MODE");
	tbl_cell(&t, "KEY");
	tbl_cell(&t, "UP/ALL");
	tbl_cell(&t, "TABLE");
	tbl_cell(&t, "OLDER");
	tbl_cell(&t, "BGP");
	for (i = 0; i < jlen(vips); i++) {
		struct json_object *o = json_object_array_get_idx(vips, i);
		struct json_object *tr = jget(o, "transports");
		char trs[64] = "";

		for (j = 0; j < jlen(tr); j++) {
			struct json_object *x = json_object_array_get_idx(tr, j);

			snprintf(trs + strlen(trs), sizeof(trs) - strlen(trs), "%s%s",
				 j ? "," : "", json_object_get_string(x));
		}
		tbl_cell(&t, "%s", fnum(o, "id"));
		tbl_cell(&t, "%s", jstr(o, "name", "?"));
		tbl_cell(&t, "%s", faddr_of(o));
		tbl_cell(&t, "%s", trs[0] ? trs : "-");
		tbl_cell(&t, "%s", jstr(o, "mode", "-"));
		tbl_cell(&t, "%s", jstr(o, "register_key", "-"));
		tbl_cell(&t, "%s/%s", fnum(o, "backends_up"), fnum(o, "backends_total"));
		tbl_cell(&t, "%s", jstr(o, "table_fingerprint", "-"));
		tbl_cell(&t, "%s", fnum(o, "earlier_generations"));
		tbl_cell(&t, "%s", json_object_get_boolean(jget(o, "announced")) ?
			 "announced" : "-");
	}
	tbl_print(&t, "");
}

static int cmd_status(int argc, char **argv)
{
	if (common_args(argc, argv) || optind != argc)
		return bad_usage("status");
	return run_simple(new_req("status"), show_status);
}

/* Health history oldest first, newest last: + ok, x timeout, - bad status. */
static int by_age(const void *a, const void *b)
{
	long long x = 0, y = 0;

	jnum(*(struct json_object *const *)a, "ago_ms", &x);
	jnum(*(struct json_object *const *)b, "ago_ms", &y);
	return x < y ? 1 : x > y ? -1 : 0;
}

static const char *fchecks(struct json_object *hist)
{
	struct json_object *h[64];
	size_t n = jlen(hist), i, from;
	char *b = ring();

	if (!n)
		return "-";
	if (n > 64)
		n = 64;
	for (i = 0; i < n; i++)
		h[i] = json_object_array_get_idx(hist, i);
	qsort(h, n, sizeof(h[0]), by_age);
	from = n > 10 ? n - 10 : 0;
	for (i = from; i < n; i++) {
		const char *r = jstr(h[i], "result", "");

		b[i - from] = !strcmp(r, "ok") ? '+' : !strcmp(r, "timeout") ? 'x' :
			      !strcmp(r, "bad-status") ? '-' : '?';
	}
	b[n - from] = 0;
	return b;
}

static void show_backends(struct json_object *r)
{
	struct json_object *bs = jget(r, "backends");
	struct table t = { .ncol = 11, .align = "rlllrllrrll" };
	size_t i;

	if (!jlen(bs)) {
		printf("no backends\n");
		return;
	}
	tbl_cell(&t, "ID");
	tbl_cell(&t, "VIP");
	tbl_cell(&t, "NAME");
	tbl_cell(&t, "ADDRESS");
	tbl_cell(&t, "WEIGHT");
	tbl_cell(&t, "STATE");
	tbl_cell(&t, "HEALTH");
	tbl_cell(&t, "DIALOGS");
	tbl_cell(&t, "PACKETS");
	tbl_cell(&t, "CHECKS");
	tbl_cell(&t, "REASON");
	for (i = 0; i < jlen(bs); i++) {
		struct json_object *o = json_object_array_get_idx(bs, i);
		struct json_object *h = jget(o, "health"), *probed = jget(h, "probed");
		const char *reason = jstr(h, "reason", "");
		long long ago;

		tbl_cell(&t, "%s", fnum(o, "id"));
		tbl_cell(&t, "%s", jstr(o, "vip", "-"));
		tbl_cell(&t, "%s", jstr(o, "name", "-"));
		tbl_cell(&t, "%s", faddr_of(o));
		tbl_cell(&t, "%s", fnum(o, "weight"));
		tbl_cell(&t, "%s", jstr(o, "state", "-"));
		if (!h || (probed && !json_object_get_boolean(probed)))
			tbl_cell(&t, "unchecked");
		else
			tbl_cell(&t, "%s", jstr(h, "state", "-"));
		tbl_cell(&t, "%s", fnum(o, "dialogs"));
		tbl_cell(&t, "%s", fnum(o, "packets"));
		tbl_cell(&t, "%s", fchecks(jget(h, "history")));
		if (jnum(h, "changed_ago_ms", &ago))
			tbl_cell(&t, "%s%s(changed %s ago)", reason, *reason ? " " : "", fago(ago));
		else
			tbl_cell(&t, "%s", *reason ? reason : "-");
	}
	tbl_print(&t, "");
	printf("\nCHECKS: last health checks, newest last: + ok, x timeout, - bad status\n");
}

static int cmd_backends(int argc, char **argv)
{
	struct json_object *req;

	if (common_args(argc, argv) || argc - optind > 1)
		return bad_usage("backends");
	req = new_req("backends");
	if (optind < argc)
		json_object_object_add(req, "vip", json_object_new_string(argv[optind]));
	return run_simple(req, show_backends);
}

/* What add, remove, drain, undrain and weight did, for the human output. */
static char done_msg[512];

static void show_done(struct json_object *r)
{
	(void)r;
	printf("%s\n", done_msg);
}

static void show_added(struct json_object *r)
{
	printf("added backend %s %s\n", fnum(r, "id"), done_msg);
}

/* "ADDR:PORT" or "[V6]:PORT" into address and port; a bare address is left whole. */
static int split_hostport(const char *s, char *addr, size_t len, unsigned long *port)
{
	const char *colon;

	*port = 0;
	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (!end || (end[1] && end[1] != ':') || (size_t)(end - s - 1) >= len)
			return -EINVAL;
		snprintf(addr, len, "%.*s", (int)(end - s - 1), s + 1);
		if (end[1] == ':' && parse_uint(end + 2, 65535, port))
			return -EINVAL;
		return 0;
	}
	colon = strchr(s, ':');
	if (colon && !strchr(colon + 1, ':')) {
		if ((size_t)(colon - s) >= len || parse_uint(colon + 1, 65535, port))
			return -EINVAL;
		snprintf(addr, len, "%.*s", (int)(colon - s), s);
		return 0;
	}
	if (strlen(s) >= len)
		return -EINVAL;
	snprintf(addr, len, "%s", s);
	return 0;
}

static int cmd_add(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "port", required_argument, NULL, 'p' },
		{ "weight", required_argument, NULL, 'w' },
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long port = 0, hport, weight = 0;
	bool has_weight = false;
	const char *name = NULL;
	struct json_object *req;
	char addr[256];
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, COMMON_SHORTOPTS "p:w:n:", opts, NULL)) != -1) {
		if (common_opt(opt))
			continue;
		switch (opt) {
		case 'p':
			if (parse_uint(optarg, 65535, &port) || !port) {
				fprintf(stderr, "siplbctl add: --port wants 1..65535, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'w':
			if (parse_uint(optarg, INT32_MAX, &weight)) {
				fprintf(stderr, "siplbctl add: --weight wants a number, got '%s'\n", optarg);
				return 2;
			}
			has_weight = true;
			break;
		case 'n':
			name = optarg;
			break;
		default:
			return bad_usage("add");
		}
	}
	if (argc - optind != 2)
		return bad_usage("add");
	if (split_hostport(argv[optind + 1], addr, sizeof(addr), &hport) || !*addr) {
		fprintf(stderr, "siplbctl add: bad address '%s'\n", argv[optind + 1]);
		return 2;
	}
	if (hport && port && hport != port) {
		fprintf(stderr, "siplbctl add: port given twice (%lu and --port %lu)\n", hport, port);
		return 2;
	}
	if (hport)
		port = hport;
	req = new_req("add");
	json_object_object_add(req, "vip", json_object_new_string(argv[optind]));
	json_object_object_add(req, "address", json_object_new_string(addr));
	if (port)
		json_object_object_add(req, "port", json_object_new_int((int)port));
	if (has_weight)
		json_object_object_add(req, "weight", json_object_new_int64(weight));
	if (name)
		json_object_object_add(req, "name", json_object_new_string(name));
	snprintf(done_msg, sizeof(done_msg), "(%s) to VIP %s", faddr(addr, port, port != 0),
		 argv[optind]);
	return run_simple(req, show_added);
}

/* remove, drain and undrain: one BACKEND argument; drain and undrain take --at MS. */
static int cmd_remove(int argc, char **argv)
{
	static const struct option opts[] = { COMMON_LONGOPTS,
		{ "at", required_argument, NULL, 'a' }, { NULL, 0, NULL, 0 } };
	const char *verb = !strcmp(argv[0], "remove") ? "removed" :
			   !strcmp(argv[0], "drain") ? "draining" : "undrained";
	struct json_object *req;
	unsigned long at = 0;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, COMMON_SHORTOPTS, opts, NULL)) != -1) {
		if (opt == 'a' && strcmp(argv[0], "remove") &&
		    !parse_uint(optarg, ~0UL, &at) && at)
			continue;
		if (opt == 'a' || !common_opt(opt))
			return bad_usage(argv[0]);
	}
	if (argc - optind != 1)
		return bad_usage(argv[0]);
	req = new_req(argv[0]);
	json_object_object_add(req, "backend", json_object_new_string(argv[optind]));
	if (at)
		json_object_object_add(req, "at_ms", json_object_new_int64((int64_t)at));
	snprintf(done_msg, sizeof(done_msg), "%s backend %s", verb, argv[optind]);
	return run_simple(req, show_done);
}

/* "3600", "90s", "10m", "2h", "7d" -> seconds. */
static int parse_duration(const char *s, unsigned long *out)
{
	unsigned long v, mult = 1;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -1;
	if (*end) {
		if (end[1])
			return -1;
		switch (*end) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		default: return -1;
		}
	}
	if (!v || v > 10UL * 365 * 86400 / mult)
		return -1;
	*out = v * mult;
	return 0;
}

static const char *fleft(long long s)
{
	char *b = ring();

	if (s >= 86400)
		snprintf(b, 32, "%lldd%lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(b, 32, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(b, 32, "%lldm%llds", s / 60, s % 60);
	else
		snprintf(b, 32, "%llds", s);
	return b;
}

static int cmd_ban(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "for", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct json_object *req;
	unsigned long dur = 0;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, COMMON_SHORTOPTS "f:", opts, NULL)) != -1) {
		if (common_opt(opt))
			continue;
		if (opt != 'f')
			return bad_usage("ban");
		if (parse_duration(optarg, &dur)) {
			fprintf(stderr, "siplbctl ban: --for wants seconds or N[smhd], got '%s'\n",
				optarg);
			return 2;
		}
	}
	if (argc - optind != 1)
		return bad_usage("ban");
	req = new_req("ban");
	json_object_object_add(req, "prefix", json_object_new_string(argv[optind]));
	if (dur)
		json_object_object_add(req, "duration", json_object_new_int64(dur));
	snprintf(done_msg, sizeof(done_msg), "banned %s%s%s", argv[optind],
		 dur ? " for " : "", dur ? fleft(dur) : "");
	return run_simple(req, show_done);
}

static int cmd_unban(int argc, char **argv)
{
	struct json_object *req;

	if (common_args(argc, argv) || argc - optind != 1)
		return bad_usage(argv[0]);
	req = new_req("unban");
	json_object_object_add(req, "prefix", json_object_new_string(argv[optind]));
	snprintf(done_msg, sizeof(done_msg), "unbanned %s", argv[optind]);
	return run_simple(req, show_done);
}

static void show_bans(struct json_object *r)
{
	struct json_object *a = jget(r, "bans");
	struct table t = { .ncol = 3, .align = "lll" };
	long long left;
	size_t i;

	tbl_cell(&t, "PREFIX");
	tbl_cell(&t, "ORIGIN");
	tbl_cell(&t, "EXPIRES IN");
	for (i = 0; i < jlen(a); i++) {
		struct json_object *o = json_object_array_get_idx(a, i);

		tbl_cell(&t, "%s", jstr(o, "prefix", "?"));
		tbl_cell(&t, "%s", jstr(o, "origin", "?"));
		tbl_cell(&t, "%s", jnum(o, "expires_in_s", &left) ? fleft(left) : "never");
	}
	if (tbl_rows(&t) > 1)
		tbl_print(&t, "");
	else
		printf("no bans\n");
	printf("auto-bans made %s, bans expired %s, file %s\n", fnum(r, "auto_bans"),
	       fnum(r, "expired"), jstr(r, "file", "-"));
}

static int cmd_bans(int argc, char **argv)
{
	if (common_args(argc, argv) || argc != optind)
		return bad_usage(argv[0]);
	return run_simple(new_req("bans"), show_bans);
}

static int cmd_weight(int argc, char **argv)
{
	struct json_object *req;
	unsigned long w;

	if (common_args(argc, argv) || argc - optind != 2)
		return bad_usage("weight");
	if (parse_uint(argv[optind + 1], INT32_MAX, &w)) {
		fprintf(stderr, "siplbctl weight: N must be a number, got '%s'\n", argv[optind + 1]);
		return 2;
	}
	req = new_req("weight");
	json_object_object_add(req, "backend", json_object_new_string(argv[optind]));
	json_object_object_add(req, "weight", json_object_new_int64(w));
	snprintf(done_msg, sizeof(done_msg), "backend %s: weight %lu", argv[optind], w);
	return run_simple(req, show_done);
}

struct counter {
	const char *name;
	uint64_t v;
};

static int by_count(const void *a, const void *b)
{
	const struct counter *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? 1 : -1;
	return strcmp(x->name, y->name);
}

static bool stats_all;

/* One section of name -> count, largest first, zeros only with --all. */
static void show_counters(const char *title, struct json_object *o)
{
	struct table t = { .ncol = 2, .align = "lr" };
	struct counter *c;
	size_t n = 0, zero = 0, i;

	printf("%s:\n", title);
	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_length(o)) {
		printf("  (none reported)\n");
		return;
	}
	c = calloc(json_object_object_length(o), sizeof(*c));
	if (!c)
		exit(1);
	json_object_object_foreach(o, key, val) {
		c[n].name = key;
		c[n].v = val ? json_object_get_uint64(val) : 0;
		zero += !c[n].v;
		n++;
	}
	qsort(c, n, sizeof(*c), by_count);
	for (i = 0; i < n; i++) {
		if (!c[i].v && !stats_all)
			continue;
		tbl_cell(&t, "%s", c[i].name);
		tbl_cell(&t, "%llu", (unsigned long long)c[i].v);
	}
	tbl_print(&t, "  ");
	if (zero == n && !stats_all)
		printf("  (all zero)\n");
	else if (zero && !stats_all)
		printf("  (%zu more at zero)\n", zero);
	free(c);
}

static void show_traffic(const char *title, struct json_object *a, bool with_vip)
{
	struct table t = { .ncol = with_vip ? 4 : 3, .align = with_vip ? "llrr" : "lrr" };
	size_t i;

	printf("%s:\n", title);
	if (!jlen(a)) {
		printf("  (none)\n");
		return;
	}
	tbl_cell(&t, "NAME");
	if (with_vip)
		tbl_cell(&t, "VIP");
	tbl_cell(&t, "PACKETS");
	tbl_cell(&t, "BYTES");
	for (i = 0; i < jlen(a); i++) {
		struct json_object *o = json_object_array_get_idx(a, i);

		tbl_cell(&t, "%s", jstr(o, "name", "?"));
		if (with_vip)
			tbl_cell(&t, "%s", jstr(o, "vip", "-"));
		tbl_cell(&t, "%llu", (unsigned long long)ju64(o, "packets"));
		tbl_cell(&t, "%s", fbytes((double)ju64(o, "bytes")));
	}
	tbl_print(&t, "  ");
}

static void show_stats(struct json_object *r)
{
	show_counters("Drops", jget(r, "drops"));
	putchar('\n');
	show_counters("Slow path", jget(r, "slow"));
	putchar('\n');
	show_counters("Events", jget(r, "events"));
	putchar('\n');
	show_traffic("VIPs", jget(r, "vips"), false);
	putchar('\n');
	show_traffic("Backends", jget(r, "backends"), true);
}

static int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, COMMON_SHORTOPTS "a", opts, NULL)) != -1) {
		if (common_opt(opt))
			continue;
		if (opt != 'a')
			return bad_usage("stats");
		stats_all = true;
	}
	if (optind != argc)
		return bad_usage("stats");
	return run_simple(new_req("stats"), show_stats);
}

static void show_reload(struct json_object *r)
{
	const char *ch = jstr(r, "changes", "");
	size_t n = strlen(ch);

	if (!n)
		printf("reloaded (no changes)\n");
	else
		printf("reloaded:\n%s%s", ch, ch[n - 1] == '\n' ? "" : "\n");
}

static int cmd_reload(int argc, char **argv)
{
	if (common_args(argc, argv) || optind != argc)
		return bad_usage("reload");
	return run_simple(new_req("reload"), show_reload);
}

static volatile sig_atomic_t top_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A rate as a JSON number printed with two decimals, not seventeen digits. */
static struct json_object *jrate(double v)
{
	char b[48];

	snprintf(b, sizeof(b), "%.2f", v);
	return json_object_new_double_s(v, b);
}

static double rate(uint64_t now, uint64_t before, double dt)
{
	/* A counter that went backwards was reset (daemon restart): no rate. */
	return now >= before && dt > 0 ? (double)(now - before) / dt : 0;
}

static const char *backend_key(struct json_object *b)
{
	char *k = ring();
	long long id;

	if (jnum(b, "id", &id))
		snprintf(k, 64, "#%lld", id);
	else
		snprintf(k, 64, "%s/%s", jstr(b, "vip", ""), jstr(b, "name", ""));
	return k;
}

/* packets_per_s and bytes_per_s of v since pv (none yet: zero) into o. */
static void add_rates(struct json_object *o, struct json_object *v, struct json_object *pv,
		      double dt)
{
	json_object_object_add(o, "packets_per_s",
			       jrate(pv ? rate(ju64(v, "packets"), ju64(pv, "packets"), dt) : 0));
	json_object_object_add(o, "bytes_per_s",
			       jrate(pv ? rate(ju64(v, "bytes"), ju64(pv, "bytes"), dt) : 0));
}

/* The rates between two samples; each sample is the stats and the backends answer. */
static struct json_object *top_rates(struct json_object *ps, struct json_object *pb,
				     struct json_object *s, struct json_object *b, double dt)
{
	struct json_object *out = json_object_new_object(), *reasons = json_object_new_object();
	struct json_object *vips = json_object_new_array(), *bes = json_object_new_array();
	struct json_object *prev = json_object_new_object(), *a, *pa;
	struct json_object *drops = jget(s, "drops"), *slow = jget(s, "slow");
	double total = 0, r;
	size_t i, j;

	json_object_object_add(out, "time", json_object_new_int64(time(NULL)));
	json_object_object_add(out, "interval_s", jrate(dt));
	if (drops && json_object_is_type(drops, json_type_object)) {
		json_object_object_foreach(drops, key, val) {
			r = rate(val ? json_object_get_uint64(val) : 0,
				 ju64(jget(ps, "drops"), key), dt);
			total += r;
			if (r > 0)
				json_object_object_add(reasons, key, jrate(r));
		}
	}
	json_object_object_add(out, "drops_per_s", jrate(total));
	json_object_object_add(out, "drop_reasons", reasons);
	total = 0;
	if (slow && json_object_is_type(slow, json_type_object)) {
		json_object_object_foreach(slow, key, val)
			total += rate(val ? json_object_get_uint64(val) : 0,
				      ju64(jget(ps, "slow"), key), dt);
	}
	json_object_object_add(out, "slow_per_s", jrate(total));

	a = jget(s, "vips");
	pa = jget(ps, "vips");
	for (i = 0; i < jlen(a); i++) {
		struct json_object *v = json_object_array_get_idx(a, i), *pv = NULL, *o;
		const char *name = jstr(v, "name", "?");

		for (j = 0; j < jlen(pa) && !pv; j++)
			if (!strcmp(jstr(json_object_array_get_idx(pa, j), "name", ""), name))
				pv = json_object_array_get_idx(pa, j);
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name));
		add_rates(o, v, pv, dt);
		json_object_array_add(vips, o);
	}
	json_object_object_add(out, "vips", vips);

	/* Backends come and go between samples: match them by id through a map. */
	pa = jget(pb, "backends");
	for (i = 0; i < jlen(pa); i++) {
		struct json_object *o = json_object_array_get_idx(pa, i);

		json_object_object_add(prev, backend_key(o), json_object_get(o));
	}
	a = jget(b, "backends");
	for (i = 0; i < jlen(a); i++) {
		struct json_object *v = json_object_array_get_idx(a, i), *o;
		struct json_object *pv = jget(prev, backend_key(v));
		long long n;

		o = json_object_new_object();
		if (jnum(v, "id", &n))
			json_object_object_add(o, "id", json_object_new_int64(n));
		json_object_object_add(o, "vip", json_object_new_string(jstr(v, "vip", "")));
		json_object_object_add(o, "name", json_object_new_string(jstr(v, "name", "")));
		json_object_object_add(o, "address", json_object_new_string(faddr_of(v)));
		json_object_object_add(o, "state", json_object_new_string(jstr(v, "state", "")));
		if (jnum(v, "dialogs", &n))
			json_object_object_add(o, "dialogs", json_object_new_int64(n));
		add_rates(o, v, pv, dt);
		json_object_array_add(bes, o);
	}
	json_object_object_add(out, "backends", bes);
	json_object_put(prev);
	return out;
}

static double jdbl(struct json_object *o, const char *k)
{
	struct json_object *v = jget(o, k);

	return v ? json_object_get_double(v) : 0;
}

static void show_top(struct json_object *r, bool tty)
{
	struct json_object *reasons = jget(r, "drop_reasons"), *a;
	struct table t = { .ncol = 3, .align = "lrr" };
	char when[32];
	time_t now = time(NULL);
	size_t i;
	int n = 0;

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	if (tty)
		printf("\033[H\033[2J");
	printf("siplb top  %s  %s  every %.1f s\n", g.sock, when, jdbl(r, "interval_s"));
	printf("drops %.1f/s", jdbl(r, "drops_per_s"));
	json_object_object_foreach(reasons, key, val) {
		printf("%s%s %.1f/s", n++ ? ", " : " (", key, json_object_get_double(val));
	}
	printf("%s   slow path %.1f/s\n\n", n ? ")" : "", jdbl(r, "slow_per_s"));

	a = jget(r, "vips");
	tbl_cell(&t, "VIP");
	tbl_cell(&t, "PKT/S");
	tbl_cell(&t, "BYTES/S");
	for (i = 0; i < jlen(a); i++) {
		struct json_object *o = json_object_array_get_idx(a, i);

		tbl_cell(&t, "%s", jstr(o, "name", "?"));
		tbl_cell(&t, "%.1f", jdbl(o, "packets_per_s"));
		tbl_cell(&t, "%s/s", fbytes(jdbl(o, "bytes_per_s")));
	}
	tbl_print(&t, "");
	putchar('\n');

	a = jget(r, "backends");
	t = (struct table){ .ncol = 8, .align = "rlllrrrl" };
	tbl_cell(&t, "ID");
	tbl_cell(&t, "VIP");
	tbl_cell(&t, "NAME");
	tbl_cell(&t, "ADDRESS");
	tbl_cell(&t, "DIALOGS");
	tbl_cell(&t, "PKT/S");
	tbl_cell(&t, "BYTES/S");
	tbl_cell(&t, "STATE");
	for (i = 0; i < jlen(a); i++) {
		struct json_object *o = json_object_array_get_idx(a, i);

		tbl_cell(&t, "%s", fnum(o, "id"));
		tbl_cell(&t, "%s", jstr(o, "vip", "-"));
		tbl_cell(&t, "%s", jstr(o, "name", "-"));
		tbl_cell(&t, "%s", jstr(o, "address", "-"));
		tbl_cell(&t, "%s", fnum(o, "dialogs"));
		tbl_cell(&t, "%.1f", jdbl(o, "packets_per_s"));
		tbl_cell(&t, "%s/s", fbytes(jdbl(o, "bytes_per_s")));
		tbl_cell(&t, "%s", jstr(o, "state", "-"));
	}
	if (tbl_rows(&t) > 1)
		tbl_print(&t, "");
	else
		printf("no backends\n");

	a = jget(r, "top_talkers");
	putchar('\n');
	t = (struct table){ .ncol = 5, .align = "llrrr" };
	tbl_cell(&t, "TOP TALKER");
	tbl_cell(&t, "VIP");
	tbl_cell(&t, "OVER BUDGET");
	tbl_cell(&t, "FOR");
	tbl_cell(&t, "LAST");
	for (i = 0; i < jlen(a); i++) {
		struct json_object *o = json_object_array_get_idx(a, i);
		long long v = 0;

		tbl_cell(&t, "%s", jstr(o, "source", "?"));
		tbl_cell(&t, "%s", jstr(o, "vip", "?"));
		tbl_cell(&t, "%s", fnum(o, "over"));
		jnum(o, "over_for_s", &v);
		tbl_cell(&t, "%lld s", v);
		jnum(o, "last_seen_ms_ago", &v);
		tbl_cell(&t, "%s", fago(v));
	}
	if (tbl_rows(&t) > 1)
		tbl_print(&t, "");
	else
		printf("no source over its rate budget\n");
	if (!tty)
		putchar('\n');
	fflush(stdout);
}

static void sleep_until(double when)
{
	struct timespec ts = { .tv_sec = (time_t)when,
			       .tv_nsec = (long)((when - (time_t)when) * 1e9) };

	while (!top_stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "interval", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct json_object *ps, *pb, *s = NULL, *b = NULL;
	struct sigaction sa = { .sa_handler = on_stop_signal };
	double interval = 1, tprev, next, t;
	unsigned long count = 0, i;
	bool tty = isatty(STDOUT_FILENO);
	char *end;
	int opt, fd, rc = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, COMMON_SHORTOPTS "n:c:", opts, NULL)) != -1) {
		if (common_opt(opt))
			continue;
		switch (opt) {
		case 'n':
			interval = strtod(optarg, &end);
			if (*end || !(interval >= 0.05 && interval <= 3600)) {
				fprintf(stderr, "siplbctl top: --interval wants 0.05..3600 seconds, got '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'c':
			if (parse_uint(optarg, ULONG_MAX, &count) || !count) {
				fprintf(stderr, "siplbctl top: --count wants a positive number, got '%s'\n",
					optarg);
				return 2;
			}
			break;
		default:
			return bad_usage("top");
		}
	}
	if (optind != argc)
		return bad_usage("top");
	fd = connect_daemon();
	if (fd < 0)
		return fd == -2 ? 2 : 1;
	/* Ctrl-C ends top normally; no SA_RESTART so the sleep ends at once. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	ps = request(fd, new_req("stats"));
	pb = ps ? request(fd, new_req("backends")) : NULL;
	if (!pb) {
		json_object_put(ps);
		close(fd);
		return 1;
	}
	tprev = next = mono_s();
	for (i = 0; !count || i < count; i++) {
		struct json_object *r;

		next += interval;
		t = mono_s();
		if (next < t)
			next = t;	/* a slow answer: do not try to catch up */
		sleep_until(next);
		if (top_stop)
			break;
		s = request(fd, new_req("stats"));
		b = s ? request(fd, new_req("backends")) : NULL;
		if (!b) {
			rc = 1;
			break;
		}
		t = mono_s();
		r = top_rates(ps, pb, s, b, t - tprev);
		{
			struct json_object *req = new_req("offenders"), *o;

			json_object_object_add(req, "limit", json_object_new_int(10));
			o = request(fd, req);
			json_object_object_add(r, "top_talkers",
					       o ? json_object_get(jget(o, "offenders")) : NULL);
			json_object_put(o);
		}
		if (g.json) {
			/* One line per interval, for tools that read lines. */
			printf("%s\n", json_object_to_json_string_ext(r,
				JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
			fflush(stdout);
		} else {
			show_top(r, tty);
		}
		json_object_put(r);
		json_object_put(ps);
		json_object_put(pb);
		ps = s;
		pb = b;
		s = b = NULL;
		tprev = t;
	}
	json_object_put(s);
	json_object_put(b);
	json_object_put(ps);
	json_object_put(pb);
	close(fd);
	return rc;
}

/* An address and port given on the command line or found in a packet. */
struct endpoint {
	bool set;
	int af;
	unsigned char addr[16];
	char ip[INET6_ADDRSTRLEN];
	unsigned long port;	/* 0: any (as a filter) */
};

static int parse_endpoint(const char *s, struct endpoint *e)
{
	char a[INET6_ADDRSTRLEN + 2];

	memset(e, 0, sizeof(*e));
	if (split_hostport(s, a, sizeof(a), &e->port))
		return -EINVAL;
	if (inet_pton(AF_INET, a, e->addr) == 1)
		e->af = AF_INET;
	else if (inet_pton(AF_INET6, a, e->addr) == 1)
		e->af = AF_INET6;
	else
		return -EINVAL;
	inet_ntop(e->af, e->addr, e->ip, sizeof(e->ip));
	e->set = true;
	return 0;
}

static void set_endpoint(struct endpoint *e, int af, const unsigned char *addr, unsigned int port)
{
	memset(e, 0, sizeof(*e));
	e->set = true;
	e->af = af;
	memcpy(e->addr, addr, af == AF_INET ? 4 : 16);
	inet_ntop(af, e->addr, e->ip, sizeof(e->ip));
	e->port = port;
}

static bool endpoint_match(const struct endpoint *filter, const struct endpoint *e)
{
	if (!filter->set)
		return true;
	return filter->af == e->af &&
	       !memcmp(filter->addr, e->addr, e->af == AF_INET ? 4 : 16) &&
	       (!filter->port || filter->port == e->port);
}

struct pkt {
	struct endpoint src, dst;
	const unsigned char *payload;
	size_t len;
};

enum pkt_kind { PKT_UDP, PKT_OTHER, PKT_FRAGMENT, PKT_TRUNCATED };

static enum pkt_kind decode_ip(const unsigned char *p, size_t n, struct pkt *k)
{
	const unsigned char *src, *dst;
	size_t off, ulen;
	int af;

	if (n < 1)
		return PKT_TRUNCATED;
	if (p[0] >> 4 == 4) {
		size_t tot;

		if (n < 20)
			return PKT_TRUNCATED;
		off = (p[0] & 15) * 4;
		tot = p[2] << 8 | p[3];
		if (off < 20 || tot < off || n < off)
			return PKT_TRUNCATED;
		if (tot < n)
			n = tot;	/* Ethernet padding */
		if (((p[6] << 8 | p[7]) & 0x3fff))
			return PKT_FRAGMENT;
		if (p[9] != 17)
			return PKT_OTHER;
		af = AF_INET;
		src = p + 12;
		dst = p + 16;
	} else if (p[0] >> 4 == 6) {
		unsigned int nh;

		if (n < 40)
			return PKT_TRUNCATED;
		if (40 + (size_t)(p[4] << 8 | p[5]) < n)
			n = 40 + (p[4] << 8 | p[5]);
		nh = p[6];
		off = 40;
		/* Hop-by-hop, routing and destination options carry nothing for us. */
		while (nh == 0 || nh == 43 || nh == 60) {
			if (n < off + 2)
				return PKT_TRUNCATED;
			nh = p[off];
			off += (p[off + 1] + 1) * 8;
		}
		if (nh == 44)
			return PKT_FRAGMENT;
		if (nh != 17)
			return PKT_OTHER;
		af = AF_INET6;
		src = p + 8;
		dst = p + 24;
	} else {
		return PKT_OTHER;
	}
	if (n < off + 8)
		return PKT_TRUNCATED;
	ulen = p[off + 4] << 8 | p[off + 5];
	if (ulen < 8 || ulen > n - off)
		return PKT_TRUNCATED;
	set_endpoint(&k->src, af, src, p[off] << 8 | p[off + 1]);
	set_endpoint(&k->dst, af, dst, p[off + 2] << 8 | p[off + 3]);
	k->payload = p + off + 8;
	k->len = ulen - 8;
	return PKT_UDP;
}

static bool link_supported(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 ||
	       dlt == DLT_RAW || dlt == DLT_IPV4 || dlt == DLT_IPV6 ||
	       dlt == DLT_NULL || dlt == DLT_LOOP;
}

static enum pkt_kind decode_frame(int dlt, const unsigned char *p, size_t n, struct pkt *k)
{
	unsigned int et;
	size_t off;

	switch (dlt) {
	case DLT_EN10MB:
		if (n < 14)
			return PKT_TRUNCATED;
		et = p[12] << 8 | p[13];
		off = 14;
		/* 802.1Q, 802.1ad and the old QinQ tag, stacked as they come. */
		while (et == 0x8100 || et == 0x88a8 || et == 0x9100) {
			if (n < off + 4)
				return PKT_TRUNCATED;
			et = p[off + 2] << 8 | p[off + 3];
			off += 4;
		}
		break;
	case DLT_LINUX_SLL:
		if (n < 16)
			return PKT_TRUNCATED;
		et = p[14] << 8 | p[15];
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (n < 20)
			return PKT_TRUNCATED;
		et = p[0] << 8 | p[1];
		off = 20;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		if (n < 4)
			return PKT_TRUNCATED;
		return decode_ip(p + 4, n - 4, k);
	default:
		return decode_ip(p, n, k);
	}
	if (et != 0x0800 && et != 0x86dd)
		return PKT_OTHER;
	return decode_ip(p + off, n - off, k);
}

static void show_explain(const char *label, const struct pkt *k, struct json_object *r)
{
	struct json_object *b = jget(r, "backend");
	struct sipmsg_info info;
	char what[64];

	sipmsg_parse(k->payload, k->len, &info);
	if (info.msg.kind == SIP_KIND_RESPONSE)
		snprintf(what, sizeof(what), "%u response", info.msg.status);
	else if (info.method.set)
		snprintf(what, sizeof(what), "%.*s", (int)info.method.len, info.method.p);
	else
		snprintf(what, sizeof(what), "no SIP start line");
	printf("%s: %s -> %s, %s, %zu bytes\n", label, faddr(k->src.ip, k->src.port, true),
	       faddr(k->dst.ip, k->dst.port, true), what, k->len);
	printf("  %-8s %s\n", "vip", jstr(r, "vip", "none"));
	printf("  %-8s %s\n", "path", jstr(r, "path", "?"));
	if (jget(r, "reason") && *jstr(r, "reason", ""))
		printf("  %-8s %s\n", "reason", jstr(r, "reason", ""));
	if (jget(r, "key"))
		printf("  %-8s %s = %s\n", "key", jstr(r, "key", ""), jstr(r, "key_value", "-"));
	if (jget(r, "hash"))
		printf("  %-8s %s\n", "hash", jstr(r, "hash", ""));
	if (b)
		printf("  %-8s %s %s %s (%s)\n", "backend", fnum(b, "id"), jstr(b, "name", "-"),
		       faddr_of(b), jstr(b, "state", "-"));
	else
		printf("  %-8s none\n", "backend");
	if (jget(r, "why"))
		printf("  %-8s %s\n", "why", jstr(r, "why", ""));
}

/*
 * Ask the daemon about one message. 0 answered, 1 refused (printed),
 * -1 the connection failed (printed). arr collects the answers of a pcap.
 */
static int explain_one(int fd, const struct pkt *k, const char *label, long pktno,
		       struct json_object *arr)
{
	static const char hex[] = "0123456789abcdef";
	struct json_object *req = new_req("explain"), *resp, *v, *o;
	char *h = malloc(k->len * 2 + 1), err[512];
	size_t i;
	int ret;

	if (!h)
		exit(1);
	for (i = 0; i < k->len; i++) {
		h[2 * i] = hex[k->payload[i] >> 4];
		h[2 * i + 1] = hex[k->payload[i] & 15];
	}
	h[2 * k->len] = 0;
	json_object_object_add(req, "payload_hex", json_object_new_string(h));
	free(h);
	json_object_object_add(req, "src", json_object_new_string(k->src.ip));
	json_object_object_add(req, "sport", json_object_new_int((int)k->src.port));
	json_object_object_add(req, "dst", json_object_new_string(k->dst.ip));
	json_object_object_add(req, "dport", json_object_new_int((int)k->dst.port));
	ret = ctl_client_call(fd, req, &resp, g.timeout_ms, err, sizeof(err));
	json_object_put(req);
	if (ret) {
		fprintf(stderr, "siplbctl: %s\n", err);
		return -1;
	}
	if (!json_object_object_get_ex(resp, "ok", &v) || !json_object_get_boolean(v)) {
		fprintf(stderr, "siplbctl: %s%s%s\n", pktno ? label : "", pktno ? ": " : "",
			jstr(resp, "error", "siplbd refused the request without saying why"));
		json_object_put(resp);
		return 1;
	}
	json_object_object_del(resp, "ok");
	if (!g.json) {
		show_explain(label, k, resp);
	} else if (!arr) {
		print_json(resp);
	} else {
		o = json_object_new_object();
		json_object_object_add(o, "packet", json_object_new_int64(pktno));
		json_object_object_add(o, "src", json_object_new_string(k->src.ip));
		json_object_object_add(o, "sport", json_object_new_int((int)k->src.port));
		json_object_object_add(o, "dst", json_object_new_string(k->dst.ip));
		json_object_object_add(o, "dport", json_object_new_int((int)k->dst.port));
		json_object_object_foreach(resp, key, val)
			json_object_object_add(o, key, json_object_get(val));
		json_object_array_add(arr, o);
	}
	json_object_put(resp);
	return 0;
}

static int explain_pcap(int fd, const char *file, const struct endpoint *fsrc,
			const struct endpoint *fdst)
{
	unsigned long total = 0, done = 0, other = 0, frags = 0, trunc = 0, filtered = 0;
	struct json_object *arr = g.json ? json_object_new_array() : NULL;
	char errbuf[PCAP_ERRBUF_SIZE], label[64];
	const unsigned char *data;
	struct pcap_pkthdr *hdr;
	int dlt, ret, opt, rc = 0;
	pcap_t *pc;

	pc = pcap_open_offline(file, errbuf);
	if (!pc) {
		fprintf(stderr, "siplbctl explain: %s: %s\n", file, errbuf);
		return 1;
	}
	dlt = pcap_datalink(pc);
	if (!link_supported(dlt)) {
		fprintf(stderr, "siplbctl explain: %s: link type %s is not supported "
			"(Ethernet, Linux cooked or raw IP are)\n", file,
			pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?");
		pcap_close(pc);
		return 1;
	}
	while ((ret = pcap_next_ex(pc, &hdr, &data)) == 1) {
		struct pkt k;

		total++;
		switch (decode_frame(dlt, data, hdr->caplen, &k)) {
		case PKT_OTHER:
			other++;
			continue;
		case PKT_FRAGMENT:
			frags++;
			continue;
		case PKT_TRUNCATED:
			trunc++;
			continue;
		case PKT_UDP:
			break;
		}
		if (!endpoint_match(fsrc, &k.src) || !endpoint_match(fdst, &k.dst)) {
			filtered++;
			continue;
		}
		snprintf(label, sizeof(label), "packet %lu", total);
		if (done && !g.json)
			putchar('\n');
		opt = explain_one(fd, &k, label, total, arr);
		if (opt < 0) {
			rc = 1;
			break;
		}
		rc |= opt;
		done++;
	}
	if (ret == -1) {
		fprintf(stderr, "siplbctl explain: %s: %s\n", file, pcap_geterr(pc));
		rc = 1;
	}
	pcap_close(pc);
	if (arr) {
		print_json(arr);
		json_object_put(arr);
		return rc;
	}
	printf("%s%lu packets: %lu explained", done ? "\n" : "", total, done);
	if (filtered)
		printf(", %lu not matching --src/--dst", filtered);
	if (other)
		printf(", %lu not UDP", other);
	if (frags)
		printf(", %lu IP fragments skipped", frags);
	if (trunc)
		printf(", %lu truncated in the capture", trunc);
	printf("\n");
	return rc;
}

static int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "src", required_argument, NULL, 'S' },
		{ "dst", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	static unsigned char buf[SIPMSG_MAX + 1];
	struct endpoint src = { 0 }, dst = { 0 };
	unsigned char magic[4] = { 0 };
	const char *file;
	struct pkt k;
	FILE *f;
	long len;
	int opt, fd, rc;
	bool pcap;

	optind = 1;
	while ((opt = getopt_long(argc, argv, COMMON_SHORTOPTS, opts, NULL)) != -1) {
		if (common_opt(opt))
			continue;
		switch (opt) {
		case 'S':
		case 'D':
			if (parse_endpoint(optarg, opt == 'S' ? &src : &dst)) {
				fprintf(stderr, "siplbctl explain: --%s wants IP:PORT or [IPV6]:PORT, got '%s'\n",
					opt == 'S' ? "src" : "dst", optarg);
				return 2;
			}
			break;
		default:
			return bad_usage("explain");
		}
	}
	if (argc - optind != 1)
		return bad_usage("explain");
	file = argv[optind];
	f = fopen(file, "rb");
	if (!f) {
		fprintf(stderr, "siplbctl explain: %s: %s\n", file, strerror(errno));
		return 1;
	}
	len = (long)fread(magic, 1, 4, f);
	fclose(f);
	/* pcap in either byte order, micro- or nanosecond, and pcapng's section header. */
	pcap = len == 4 && (!memcmp(magic, "\xd4\xc3\xb2\xa1", 4) ||
			    !memcmp(magic, "\xa1\xb2\xc3\xd4", 4) ||
			    !memcmp(magic, "\x4d\x3c\xb2\xa1", 4) ||
			    !memcmp(magic, "\xa1\xb2\x3c\x4d", 4) ||
			    !memcmp(magic, "\x0a\x0d\x0d\x0a", 4));
	if (!pcap) {
		if (!dst.set) {
			fprintf(stderr, "siplbctl explain: a raw message needs --dst VIP:PORT "
				"(where it was sent)\n");
			return 2;
		}
		if (!dst.port)
			dst.port = 5060;
		/* A source from the benchmarking ranges (RFC 2544, RFC 5180). */
		if (!src.set)
			parse_endpoint(dst.af == AF_INET ? "198.18.0.1:5060" : "[2001:2::1]:5060",
				       &src);
		if (!src.port)
			src.port = 5060;
		if (src.af != dst.af) {
			fprintf(stderr, "siplbctl explain: --src and --dst are not the same IP version\n");
			return 2;
		}
		len = read_file(file, buf, SIPMSG_MAX);
		if (len == -EMSGSIZE) {
			fprintf(stderr, "siplbctl explain: %s: larger than a UDP datagram (%d bytes)\n",
				file, SIPMSG_MAX);
			return 1;
		}
		if (len < 0) {
			fprintf(stderr, "siplbctl explain: %s: %s\n", file, strerror(-len));
			return 1;
		}
	}
	fd = connect_daemon();
	if (fd < 0)
		return fd == -2 ? 2 : 1;
	if (pcap) {
		rc = explain_pcap(fd, file, &src, &dst);
	} else {
		k.src = src;
		k.dst = dst;
		k.payload = buf;
		k.len = len;
		rc = explain_one(fd, &k, file, 0, NULL) ? 1 : 0;
	}
	close(fd);
	return rc;
}

/* The options before the command; returns the index of the command or -1 (usage). */
static int global_opts(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *val = NULL;
		unsigned long t;

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			g.json = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return -2;
		if (!strcmp(a, "-s") || !strcmp(a, "--socket") || !strcmp(a, "-i") ||
		    !strcmp(a, "--instance") || !strcmp(a, "-t") || !strcmp(a, "--timeout")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "siplbctl: %s needs a value\n", a);
				return -1;
			}
			val = argv[++i];
		} else if (!strncmp(a, "--socket=", 9) || !strncmp(a, "--instance=", 11) ||
			   !strncmp(a, "--timeout=", 10)) {
			val = strchr(a, '=') + 1;
		} else {
			fprintf(stderr, "siplbctl: unknown option '%s' (try 'siplbctl help')\n", a);
			return -1;
		}
		if (a[1] == 's' || !strncmp(a, "--socket", 8)) {
			g.sock = val;
		} else if (a[1] == 'i' || !strncmp(a, "--instance", 10)) {
			g.instance = val;
			g.sock = NULL;
		} else {
			if (parse_uint(val, 86400, &t) || !t) {
				fprintf(stderr, "siplbctl: --timeout wants seconds, got '%s'\n", val);
				return -1;
			}
			g.timeout_ms = (int)t * 1000;
		}
	}
	return i;
}

int main(int argc, char **argv)
{
	size_t j;
	int i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	i = global_opts(argc, argv);
	if (i == -2) {
		usage(stdout);
		return 0;
	}
	if (i < 0)
		return 2;
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (j = 0; j < sizeof(cmds) / sizeof(cmds[0]); j++)
		if (!strcmp(argv[i], cmds[j].name))
			return cmds[j].run(argc - i, argv + i);
	fprintf(stderr, "siplbctl: unknown command '%s' (try 'siplbctl help')\n", argv[i]);
	return 2;
}
