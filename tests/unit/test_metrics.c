// SPDX-License-Identifier: GPL-2.0
/* test_metrics.c: Prometheus text rendering of a metrics snapshot, and reading one from maps. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>

#include "metrics.h"

/* Limits of the little exposition-format parser below. */
#define T_MAX_SAMPLES 256
#define T_MAX_METRICS 64
#define T_MAX_LABELS 8
#define T_KEY_LEN 32
#define T_VAL_LEN 128
#define T_NAME_LEN 64
#define T_BUF_LEN 65536
#define T_CANARY 32

struct t_label {
	char key[T_KEY_LEN];
	char val[T_VAL_LEN];	/* unescaped */
};

struct t_sample {
	char name[T_NAME_LEN];
	struct t_label l[T_MAX_LABELS];
	int nl;
	unsigned long long v;
};

struct t_metric {
	char name[T_NAME_LEN];
	char type[16];
	int help;		/* HELP lines seen */
	int typ;		/* TYPE lines seen */
	int samples;
};

struct t_parsed {
	struct t_sample s[T_MAX_SAMPLES];
	int ns;
	struct t_metric m[T_MAX_METRICS];
	int nm;
};

static char t_buf[T_BUF_LEN];
static struct t_parsed t_p;

static bool t_ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static bool t_name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == ':' || (!first && c >= '0' && c <= '9');
}

static struct t_metric *t_metric(struct t_parsed *p, const char *name)
{
	int i;

	for (i = 0; i < p->nm; i++)
		if (!strcmp(p->m[i].name, name))
			return &p->m[i];
	return NULL;
}

/* Copies a metric or label name from *pp into out; advances *pp. */
static void t_word(const char **pp, char *out, size_t len)
{
	const char *p = *pp;
	size_t n = 0;

	cr_assert(t_name_char(*p, true), "bad name start at \"%.20s\"", p);
	while (t_name_char(*p, n == 0)) {
		cr_assert_lt(n + 1, len);
		out[n++] = *p++;
	}
	out[n] = '\0';
	*pp = p;
}

/* `{k="v",...}` at *pp: unescapes each value; advances *pp past the brace. */
static void t_labels(const char **pp, struct t_sample *s)
{
	const char *p = *pp + 1;
	struct t_label *l;
	size_t n;

	while (*p != '}') {
		cr_assert_lt(s->nl, T_MAX_LABELS);
		l = &s->l[s->nl++];
		t_word(&p, l->key, sizeof(l->key));
		cr_assert_eq(*p, '=', "no = after label %s", l->key);
		cr_assert_eq(p[1], '"', "label %s not quoted", l->key);
		p += 2;
		n = 0;
		while (*p != '"') {
			cr_assert(*p && *p != '\n', "unterminated label value");
			cr_assert_lt(n + 1, sizeof(l->val));
			if (*p == '\\') {
				p++;
				cr_assert(*p == '\\' || *p == '"' || *p == 'n',
					  "bad escape \\%c", *p);
				l->val[n++] = *p == 'n' ? '\n' : *p;
			} else {
				l->val[n++] = *p;
			}
			p++;
		}
		l->val[n] = '\0';
		p++;
		if (*p == ',')
			p++;
		else
			cr_assert_eq(*p, '}', "labels end without }");
	}
	*pp = p + 1;
}

/*
 * Parse exposition text: every line ends in \n; "# HELP name text" then
 * "# TYPE name counter|gauge" once per name, before its samples, which come
 * together; counters end in _total and gauges do not; a sample is
 * name{labels} value with the labels as the format quotes them.
 */
static void t_parse(const char *text, struct t_parsed *p)
{
	const char *line = text, *nl, *q;
	struct t_metric *cur = NULL, *m;
	char name[T_NAME_LEN], kw[8], type[16];
	struct t_sample *s;
	char *end;

	memset(p, 0, sizeof(*p));
	for (; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		cr_assert_not_null(nl, "last line without \\n");
		if (line[0] == '#') {
			cr_assert_eq(sscanf(line, "# %7s %63s", kw, name), 2,
				     "bad comment line %.40s", line);
			m = t_metric(p, name);
			if (!strcmp(kw, "HELP")) {
				cr_assert_null(m, "second HELP for %s", name);
				cr_assert_lt(p->nm, T_MAX_METRICS);
				m = &p->m[p->nm++];
				snprintf(m->name, sizeof(m->name), "%s", name);
				m->help = 1;
				cur = m;
				continue;
			}
			cr_assert_str_eq(kw, "TYPE");
			cr_assert_not_null(m, "TYPE before HELP for %s", name);
			cr_assert_eq(m, cur, "TYPE of %s away from its HELP", name);
			cr_assert_eq(m->typ, 0, "second TYPE for %s", name);
			cr_assert_eq(sscanf(line, "# TYPE %*s %15s", type), 1);
			m->typ = 1;
			snprintf(m->type, sizeof(m->type), "%s", type);
			if (!strcmp(type, "counter"))
				cr_assert(t_ends_with(name, "_total"),
					  "counter %s without _total", name);
			else
				cr_assert(!strcmp(type, "gauge") &&
					  !t_ends_with(name, "_total"),
					  "%s: type %s", name, type);
			continue;
		}
		cr_assert_lt(p->ns, T_MAX_SAMPLES);
		s = &p->s[p->ns++];
		q = line;
		t_word(&q, s->name, sizeof(s->name));
		cr_assert(!strncmp(s->name, "siplb_", 6), "%s unprefixed", s->name);
		cr_assert_not_null(cur, "sample %s before any HELP", s->name);
		cr_assert_str_eq(s->name, cur->name,
				 "sample %s not under its HELP/TYPE", s->name);
		cr_assert_eq(cur->typ, 1, "sample %s before TYPE", s->name);
		cur->samples++;
		if (*q == '{')
			t_labels(&q, s);
		cr_assert_eq(*q, ' ', "no space before value of %s", s->name);
		q++;
		cr_assert(*q >= '0' && *q <= '9', "bad value of %s", s->name);
		errno = 0;
		s->v = strtoull(q, &end, 10);
		cr_assert(!errno && end == nl, "bad value of %s", s->name);
	}
}

/* The sample called name whose labels include the NULL-ended key, value pairs. */
static const struct t_sample *t_find(const struct t_parsed *p, const char *name, ...)
{
	const char *key, *val;
	bool ok, hit;
	va_list ap;
	int i, j;

	for (i = 0; i < p->ns; i++) {
		if (strcmp(p->s[i].name, name))
			continue;
		ok = true;
		va_start(ap, name);
		while (ok && (key = va_arg(ap, const char *))) {
			val = va_arg(ap, const char *);
			hit = false;
			for (j = 0; j < p->s[i].nl; j++)
				if (!strcmp(p->s[i].l[j].key, key) &&
				    !strcmp(p->s[i].l[j].val, val))
					hit = true;
			ok = hit;
		}
		va_end(ap);
		if (ok)
			return &p->s[i];
	}
	return NULL;
}

static int t_count(const struct t_parsed *p, const char *name)
{
	int i, n = 0;

	for (i = 0; i < p->ns; i++)
		n += !strcmp(p->s[i].name, name);
	return n;
}

static struct metrics_vip t_vips[2];
static struct metrics_backend t_bes[3];

/* Two VIPs; three backends on the first: up, draining, down. */
static void t_snapshot(struct metrics_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	memset(t_vips, 0, sizeof(t_vips));
	memset(t_bes, 0, sizeof(t_bes));
	snprintf(s->instance, sizeof(s->instance), "edge1");
	s->drops[SIPLB_DROP_NOT_SIP] = 7;
	s->drops[SIPLB_DROP_NO_BACKEND] = 18446744073709551615ULL;
	s->slow[SIPLB_SLOW_TCP] = 11;
	s->events[SIPLB_EV_FORWARDED] = 1000;
	s->events[SIPLB_EV_AFFINITY_HIT] = 900;
	snprintf(t_vips[0].name, METRICS_NAME_LEN, "pbx");
	snprintf(t_vips[0].addr, METRICS_NAME_LEN, "198.18.2.1:5060");
	t_vips[0].packets = 1000;
	t_vips[0].bytes = 650000;
	t_vips[0].backends_up = 1;
	snprintf(t_vips[1].name, METRICS_NAME_LEN, "reg6");
	snprintf(t_vips[1].addr, METRICS_NAME_LEN, "[2001:db8::1]:5060");
	snprintf(t_bes[0].name, METRICS_NAME_LEN, "a");
	snprintf(t_bes[0].addr, METRICS_NAME_LEN, "198.18.1.1:5060");
	t_bes[0].state = SIPLB_BE_UP;
	t_bes[0].weight = 100;
	t_bes[0].packets = 600;
	t_bes[0].bytes = 390000;
	t_bes[0].probes_ok = 50;
	t_bes[0].probes_failed = 2;
	t_bes[0].transitions = 3;
	snprintf(t_bes[1].name, METRICS_NAME_LEN, "b");
	snprintf(t_bes[1].addr, METRICS_NAME_LEN, "198.18.1.2:5060");
	t_bes[1].state = SIPLB_BE_DRAINING;
	t_bes[1].weight = 50;
	t_bes[1].packets = 400;
	snprintf(t_bes[2].name, METRICS_NAME_LEN, "c");
	snprintf(t_bes[2].addr, METRICS_NAME_LEN, "198.18.1.3:5060");
	t_bes[2].state = SIPLB_BE_DOWN;
	t_bes[2].probes_failed = 9;
	for (int i = 0; i < 3; i++)
		snprintf(t_bes[i].vip, METRICS_NAME_LEN, "pbx");
	s->vips = t_vips;
	s->nvips = 2;
	s->backends = t_bes;
	s->nbackends = 3;
	s->maglev_rebuilds = 4;
	s->affinity_entries = 123;
}

/* Render s into t_buf and parse it into t_p; returns the rendered length. */
static int t_render_parse(const struct metrics_snapshot *s)
{
	int n = metrics_render(s, t_buf, sizeof(t_buf));

	cr_assert_gt(n, 0, "render: %d", n);
	cr_assert_eq((size_t)n, strlen(t_buf));
	t_parse(t_buf, &t_p);
	return n;
}

static void t_expect(const struct t_sample *smp, unsigned long long v, const char *what)
{
	cr_assert_not_null(smp, "%s missing", what);
	cr_expect_eq(smp->v, v, "%s = %llu, want %llu", what, smp->v, v);
}

TestSuite(metrics);

Test(metrics, format_is_valid_and_complete)
{
	static const char *const names[] = {
		"siplb_info", "siplb_drops_total", "siplb_slow_path_total",
		"siplb_events_total", "siplb_vip_packets_total",
		"siplb_vip_bytes_total", "siplb_vip_backends_up",
		"siplb_backend_packets_total", "siplb_backend_bytes_total",
		"siplb_backend_up", "siplb_backend_state", "siplb_backend_weight",
		"siplb_health_probes_total", "siplb_backend_transitions_total",
		"siplb_maglev_rebuilds_total", "siplb_affinity_entries",
	};
	struct metrics_snapshot s;
	struct t_metric *m;
	size_t i;

	t_snapshot(&s);
	t_render_parse(&s);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		m = t_metric(&t_p, names[i]);
		cr_assert_not_null(m, "%s missing", names[i]);
		cr_expect(m->help == 1 && m->typ == 1 && m->samples > 0,
			  "%s: help %d type %d samples %d", names[i], m->help,
			  m->typ, m->samples);
	}
	cr_expect_str_eq(t_metric(&t_p, "siplb_backend_up")->type, "gauge");
	cr_expect_str_eq(t_metric(&t_p, "siplb_affinity_entries")->type, "gauge");
	cr_expect_str_eq(t_metric(&t_p, "siplb_drops_total")->type, "counter");
	cr_expect_eq(t_count(&t_p, "siplb_backend_state"), 3 * 3);
	cr_expect_eq(t_count(&t_p, "siplb_health_probes_total"), 3 * 2);
	cr_expect_eq(t_count(&t_p, "siplb_vip_packets_total"), 2);
}

Test(metrics, sample_values)
{
	struct metrics_snapshot s;

	t_snapshot(&s);
	t_render_parse(&s);
	t_expect(t_find(&t_p, "siplb_info", "siplb_instance", "edge1", NULL), 1, "info");
	t_expect(t_find(&t_p, "siplb_drops_total", "reason", "not_sip", NULL), 7, "not_sip");
	t_expect(t_find(&t_p, "siplb_drops_total", "reason", "no_backend", NULL),
		 18446744073709551615ULL, "no_backend (u64 max)");
	t_expect(t_find(&t_p, "siplb_drops_total", "reason", "truncated", NULL), 0, "truncated");
	t_expect(t_find(&t_p, "siplb_slow_path_total", "reason", "tcp", NULL), 11, "tcp");
	t_expect(t_find(&t_p, "siplb_events_total", "event", "affinity_hit", NULL), 900,
		 "affinity_hit");
	t_expect(t_find(&t_p, "siplb_vip_packets_total", "vip", "pbx",
			"address", "198.18.2.1:5060", NULL), 1000, "vip packets");
	t_expect(t_find(&t_p, "siplb_vip_bytes_total", "vip", "pbx", NULL), 650000, "vip bytes");
	t_expect(t_find(&t_p, "siplb_vip_packets_total", "vip", "reg6",
			"address", "[2001:db8::1]:5060", NULL), 0, "reg6 packets");
	t_expect(t_find(&t_p, "siplb_vip_backends_up", "vip", "pbx", NULL), 1, "up");
	t_expect(t_find(&t_p, "siplb_backend_packets_total", "vip", "pbx", "backend", "a",
			"address", "198.18.1.1:5060", NULL), 600, "a packets");
	t_expect(t_find(&t_p, "siplb_backend_bytes_total", "backend", "a", NULL), 390000,
		 "a bytes");
	t_expect(t_find(&t_p, "siplb_backend_up", "backend", "a", NULL), 1, "a up");
	t_expect(t_find(&t_p, "siplb_backend_up", "backend", "b", NULL), 0, "b up");
	t_expect(t_find(&t_p, "siplb_backend_up", "backend", "c", NULL), 0, "c up");
	t_expect(t_find(&t_p, "siplb_backend_state", "backend", "b", "state", "draining",
			NULL), 1, "b draining");
	t_expect(t_find(&t_p, "siplb_backend_state", "backend", "b", "state", "up", NULL),
		 0, "b state up");
	t_expect(t_find(&t_p, "siplb_backend_state", "backend", "c", "state", "down", NULL),
		 1, "c down");
	t_expect(t_find(&t_p, "siplb_backend_weight", "backend", "b", NULL), 50, "b weight");
	t_expect(t_find(&t_p, "siplb_health_probes_total", "backend", "a", "result", "ok",
			NULL), 50, "a ok");
	t_expect(t_find(&t_p, "siplb_health_probes_total", "backend", "c", "result", "fail",
			NULL), 9, "c fail");
	t_expect(t_find(&t_p, "siplb_backend_transitions_total", "backend", "a", NULL), 3,
		 "a transitions");
	t_expect(t_find(&t_p, "siplb_maglev_rebuilds_total", NULL), 4, "rebuilds");
	t_expect(t_find(&t_p, "siplb_affinity_entries", NULL), 123, "affinity");
}

Test(metrics, every_reason_label_present_at_zero)
{
	struct metrics_snapshot s;
	int k;

	memset(&s, 0, sizeof(s));
	t_render_parse(&s);
	for (k = 1; k < SIPLB_DROP__MAX; k++)
		t_expect(t_find(&t_p, "siplb_drops_total", "reason", siplb_drop_names[k],
				NULL), 0, siplb_drop_names[k]);
	for (k = 1; k < SIPLB_SLOW__MAX; k++)
		t_expect(t_find(&t_p, "siplb_slow_path_total", "reason",
				siplb_slow_names[k], NULL), 0, siplb_slow_names[k]);
	for (k = 0; k < SIPLB_EV__MAX; k++)
		t_expect(t_find(&t_p, "siplb_events_total", "event", siplb_event_names[k],
				NULL), 0, siplb_event_names[k]);
	cr_expect_eq(t_count(&t_p, "siplb_drops_total"), SIPLB_DROP__MAX - 1);
	cr_expect_eq(t_count(&t_p, "siplb_slow_path_total"), SIPLB_SLOW__MAX - 1);
	cr_expect_eq(t_count(&t_p, "siplb_events_total"), SIPLB_EV__MAX);
	/* no VIPs, no backends: still one HELP and TYPE for each */
	cr_expect_not_null(t_metric(&t_p, "siplb_backend_up"));
	cr_expect_eq(t_count(&t_p, "siplb_backend_up"), 0);
}

Test(metrics, label_values_escaped)
{
	static const char odd[] = "a\"b\\c\nd";
	struct metrics_snapshot s;

	t_snapshot(&s);
	snprintf(t_bes[1].name, METRICS_NAME_LEN, "%s", odd);
	snprintf(s.instance, sizeof(s.instance), "x\\\"y");
	t_render_parse(&s);
	cr_expect_not_null(strstr(t_buf, "backend=\"a\\\"b\\\\c\\nd\""),
			   "escaped label not found in:\n%s", t_buf);
	cr_expect_not_null(strstr(t_buf, "siplb_instance=\"x\\\\\\\"y\""));
	t_expect(t_find(&t_p, "siplb_backend_weight", "backend", odd, NULL), 50,
		 "weight of the odd backend");
	t_expect(t_find(&t_p, "siplb_info", "siplb_instance", "x\\\"y", NULL), 1, "info");
}

Test(metrics, enospc_never_overflows)
{
	unsigned char *mem;
	struct metrics_snapshot s;
	size_t size, i;
	int n, r;

	t_snapshot(&s);
	snprintf(t_bes[0].name, METRICS_NAME_LEN, "q\"\\\n");
	n = metrics_render(&s, t_buf, sizeof(t_buf));
	cr_assert_gt(n, 0);
	mem = malloc((size_t)n + 1 + T_CANARY);
	cr_assert_not_null(mem);
	cr_expect_eq(metrics_render(&s, (char *)mem, 0), -ENOSPC);
	/* every size that is too small by one or more, then the exact fit */
	for (size = 1; size <= (size_t)n + 1; size++) {
		memset(mem, 0x5a, size);
		memset(mem + size, 0xa5, T_CANARY);
		r = metrics_render(&s, (char *)mem, size);
		for (i = 0; i < T_CANARY; i++)
			cr_assert_eq(mem[size + i], 0xa5, "canary hit at size %zu", size);
		if (size <= (size_t)n) {
			cr_assert_eq(r, -ENOSPC, "size %zu: %d", size, r);
			cr_assert_eq(mem[0], '\0', "size %zu: partial text left", size);
		} else {
			cr_assert_eq(r, n);
			cr_assert_eq(mem[n], '\0');
			cr_assert_str_eq((char *)mem, t_buf);
		}
	}
	free(mem);
}

/* A per-CPU array map whose entry k holds, on CPU c, (k + 1) * (c + 1) in every field. */
static int t_percpu_map(__u32 entries, __u32 fields)
{
	int cpus = libbpf_num_possible_cpus(), fd, c;
	__u64 *v;
	__u32 k, f;

	cr_assert_gt(cpus, 0);
	fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "t_metrics", sizeof(__u32),
			    fields * sizeof(__u64), entries, NULL);
	if (fd < 0)
		return -errno;
	v = calloc((size_t)cpus * fields, sizeof(*v));
	cr_assert_not_null(v);
	for (k = 0; k < entries; k++) {
		for (c = 0; c < cpus; c++)
			for (f = 0; f < fields; f++)
				v[c * fields + f] = (__u64)(k + 1) * (c + 1) * (f + 1);
		cr_assert_eq(bpf_map_update_elem(fd, &k, v, 0), 0);
	}
	free(v);
	return fd;
}

Test(metrics, snapshot_read_sums_cpus)
{
	struct lb_maps m = { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 };
	struct metrics_vip vip = { .id = 3 };
	struct metrics_backend be = { .id = 5, .weight = 7 };
	struct metrics_snapshot s = { .vips = &vip, .nvips = 1,
				      .backends = &be, .nbackends = 1 };
	__u64 cpus = libbpf_num_possible_cpus(), tri = cpus * (cpus + 1) / 2;
	int k;

	cr_expect_lt(metrics_snapshot_read(&s, &m), 0, "bad fds read");
	m.drop_stats = t_percpu_map(SIPLB_DROP__MAX, 1);
	if (m.drop_stats < 0)
		cr_skip_test("cannot create BPF maps: %s", strerror(-m.drop_stats));
	m.slow_stats = t_percpu_map(SIPLB_SLOW__MAX, 1);
	m.event_stats = t_percpu_map(SIPLB_EV__MAX, 1);
	m.vip_stats = t_percpu_map(8, 2);
	m.backend_stats = t_percpu_map(8, 2);
	cr_assert(m.slow_stats >= 0 && m.event_stats >= 0 && m.vip_stats >= 0 &&
		  m.backend_stats >= 0);
	cr_assert_eq(metrics_snapshot_read(&s, &m), 0);
	for (k = 0; k < SIPLB_DROP__MAX; k++)
		cr_expect_eq(s.drops[k], (__u64)(k + 1) * tri);
	for (k = 0; k < SIPLB_SLOW__MAX; k++)
		cr_expect_eq(s.slow[k], (__u64)(k + 1) * tri);
	for (k = 0; k < SIPLB_EV__MAX; k++)
		cr_expect_eq(s.events[k], (__u64)(k + 1) * tri);
	cr_expect_eq(vip.packets, 4 * tri);
	cr_expect_eq(vip.bytes, 4 * tri * 2);
	cr_expect_eq(be.packets, 6 * tri);
	cr_expect_eq(be.bytes, 6 * tri * 2);
	cr_expect_eq(be.weight, 7, "fields not from maps are left alone");
	/* an id past the map's end: an error, the rest still read */
	vip.id = 100;
	be.packets = 0;
	cr_expect_eq(metrics_snapshot_read(&s, &m), -ENOENT);
	cr_expect_eq(be.packets, 6 * tri);
	close(m.drop_stats);
	close(m.slow_stats);
	close(m.event_stats);
	close(m.vip_stats);
	close(m.backend_stats);
}
