// SPDX-License-Identifier: GPL-2.0
/* dos.c: siplbd's side of DoS absorption: bans (blocklist maps, the bans file), auto-bans from the offenders map, per-VIP limits. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "daemon.h"
#include "log.h"

/* An offender not reported for this long is quiet again: its episode ends. */
#define OFFENDER_QUIET_NS (3ULL * 1000000000ULL)
#define NS 1000000000ULL

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NS + ts.tv_nsec;
}

void sd_vip_policy_write(struct siplbd *d, __u32 id, const struct siplb_cfg_vip *cv)
{
	struct vip_policy p = {};
	int c;

	if (cv) {
		for (c = 0; c < SIPLB_CLASS__MAX; c++) {
			if (!cv->rate[c])
				continue;
			p.interval_ns[c] = (__u32)(NS / cv->rate[c]);
			if (!p.interval_ns[c])
				p.interval_ns[c] = 1;
			p.burst_ns[c] = (__u64)cv->burst[c] * p.interval_ns[c];
		}
		p.max_len = cv->max_msg;
		p.flags = cv->drop_unknown_resp ? SIPLB_POL_F_DROP_UNKNOWN_RESP : 0;
		if (cv->n_scanners)
			p.flags |= SIPLB_POL_F_SCANNERS;
		d->vips[id].ban_after = cv->ban_after;
		d->vips[id].ban_for = cv->ban_for;
	}
	/* signatures first: the flag that makes XDP read them comes after */
	{
		struct scanner_sigs sigs = {};
		size_t i;

		for (i = 0; cv && i < cv->n_scanners && i < SIPLB_SCANNER_SIGS; i++)
			siplb_scanner_sig_set(&sigs, i, cv->scanners[i], strlen(cv->scanners[i]));
		sigs.n = i;
		if (bpf_map_update_elem(d->maps.vip_scanners, &id, &sigs, BPF_ANY))
			log_err("cannot write the scanner signatures of VIP id %u: %s", id,
				strerror(errno));
	}
	if (bpf_map_update_elem(d->maps.vip_policy, &id, &p, BPF_ANY))
		log_err("cannot write the policy of VIP id %u: %s", id, strerror(errno));
}

int sd_ban_parse(const char *text, struct sd_ban *b, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long plen;
	int max, i;

	memset(b, 0, sizeof(*b));
	if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf))
		goto bad;
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (inet_pton(AF_INET, buf, b->addr) == 1)
		b->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, b->addr) == 1)
		b->family = AF_INET6;
	else
		goto bad;
	max = b->family == AF_INET ? 32 : 128;
	plen = max;
	if (slash) {
		errno = 0;
		plen = strtoul(slash, &end, 10);
		if (!*slash || *end || errno || plen > (unsigned long)max)
			goto bad;
	}
	b->plen = plen;
	/* the prefix only: host bits cleared, so one prefix is one entry */
	for (i = 0; i < max; i++)
		if (i >= (int)plen)
			((__u8 *)b->addr)[i / 8] &= ~(0x80 >> (i % 8));
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address or prefix (ADDR[/LEN])", text);
	return -EINVAL;
}

const char *sd_ban_str(const struct sd_ban *b, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(b->family, b->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, b->plen);
	return buf;
}

static int ban_map_write(struct siplbd *d, const struct sd_ban *b, bool add)
{
	struct ban v = { .flags = b->autob ? SIPLB_BAN_F_AUTO : 0 };
	time_t now = time(NULL);

	if (b->expires)
		v.expires_ns = mono_ns() + (b->expires > now ? (__u64)(b->expires - now) * NS : 0);
	if (b->family == AF_INET) {
		struct ban_key4 k = { .prefixlen = b->plen, .addr = b->addr[0] };

		return lb_ban_write(&d->maps, AF_INET, &k, add ? &v : NULL);
	} else {
		struct ban_key6 k = { .prefixlen = b->plen };

		memcpy(k.addr, b->addr, sizeof(k.addr));
		return lb_ban_write(&d->maps, AF_INET6, &k, add ? &v : NULL);
	}
}

static struct sd_ban *ban_find(struct siplbd *d, const struct sd_ban *b)
{
	size_t i;

	for (i = 0; i < d->n_bans; i++)
		if (d->bans[i].family == b->family && d->bans[i].plen == b->plen &&
		    !memcmp(d->bans[i].addr, b->addr, sizeof(b->addr)))
			return &d->bans[i];
	return NULL;
}

/* Write the bans file: a temporary file renamed over the old one. */
int sd_bans_save(struct siplbd *d)
{
	char tmp[PATH_MAX + 8], buf[64], dir[PATH_MAX], *slash;
	const char *path = d->cfg.bans_file;
	FILE *f;
	size_t i;

	if (!path)
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0750);	/* one level, e.g. /var/lib/siplb */
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		log_err("cannot write the bans file %s: %s", tmp, strerror(errno));
		return -errno;
	}
	fprintf(f, "# siplbd bans: PREFIX EXPIRES (unix seconds, 0 = never) manual|auto\n");
	for (i = 0; i < d->n_bans; i++)
		fprintf(f, "%s %lld %s\n", sd_ban_str(&d->bans[i], buf, sizeof(buf)),
			(long long)d->bans[i].expires, d->bans[i].autob ? "auto" : "manual");
	if (fflush(f) || fsync(fileno(f))) {
		log_err("cannot write the bans file %s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return -EIO;
	}
	fclose(f);
	if (rename(tmp, path)) {
		log_err("cannot replace the bans file %s: %s", path, strerror(errno));
		unlink(tmp);
		return -errno;
	}
	return 0;
}

int sd_ban_add(struct siplbd *d, const struct sd_ban *b, bool save)
{
	struct sd_ban *cur = ban_find(d, b);
	int err;

	if (!cur) {
		if (d->n_bans == d->cap_bans) {
			size_t cap = d->cap_bans ? d->cap_bans * 2 : 64;
			struct sd_ban *n = realloc(d->bans, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			d->bans = n;
			d->cap_bans = cap;
		}
		cur = &d->bans[d->n_bans++];
	}
	*cur = *b;
	err = ban_map_write(d, cur, true);
	if (err) {
		*cur = d->bans[--d->n_bans];
		return err;
	}
	return save ? sd_bans_save(d) : 0;
}

int sd_ban_del(struct siplbd *d, const struct sd_ban *b)
{
	struct sd_ban *cur = ban_find(d, b);

	if (!cur)
		return -ENOENT;
	ban_map_write(d, cur, false);
	*cur = d->bans[--d->n_bans];
	return sd_bans_save(d);
}

/* Empty both blocklists: the bans file is what holds. */
static void blocklists_clear(struct siplbd *d)
{
	struct ban_key6 k6, n6;
	struct ban_key4 k4, n4;

	while (!bpf_map_get_next_key(d->maps.blocklist4, NULL, &n4)) {
		k4 = n4;
		if (lb_ban_write(&d->maps, AF_INET, &k4, NULL))
			break;
	}
	while (!bpf_map_get_next_key(d->maps.blocklist6, NULL, &n6)) {
		k6 = n6;
		if (lb_ban_write(&d->maps, AF_INET6, &k6, NULL))
			break;
	}
}

int sd_bans_load(struct siplbd *d)
{
	char line[256], prefix[128], kind[16], err[128];
	const char *path = d->cfg.bans_file;
	time_t now = time(NULL);
	unsigned int lineno = 0, n = 0;
	long long exp;
	FILE *f;

	blocklists_clear(d);
	d->n_bans = 0;
	if (!path)
		return 0;
	f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		log_err("cannot read the bans file %s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		struct sd_ban b;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%127s %lld %15s", prefix, &exp, kind) != 3 ||
		    sd_ban_parse(prefix, &b, err, sizeof(err)) || exp < 0 ||
		    (strcmp(kind, "auto") && strcmp(kind, "manual"))) {
			log_warn("%s:%u: not a ban line, skipped", path, lineno);
			continue;
		}
		if (exp && exp <= now)
			continue;	/* expired while siplbd was away */
		b.expires = exp;
		b.autob = !strcmp(kind, "auto");
		if (!sd_ban_add(d, &b, false))
			n++;
	}
	fclose(f);
	log_info("%u bans restored from %s", n, path);
	return sd_bans_save(d);
}

/* Lift the bans that expired. */
static void bans_expire(struct siplbd *d, time_t now)
{
	char buf[64];
	bool changed = false;
	size_t i = 0;

	while (i < d->n_bans) {
		struct sd_ban *b = &d->bans[i];

		if (!b->expires || b->expires > now) {
			i++;
			continue;
		}
		log_info("ban of %s lifted: expired", sd_ban_str(b, buf, sizeof(buf)));
		ban_map_write(d, b, false);
		d->bans_expired++;
		*b = d->bans[--d->n_bans];
		changed = true;
	}
	if (changed)
		sd_bans_save(d);
}

/* Ban the offenders of VIPs with auto_ban that stayed over budget long enough;
 * forget those that went quiet. */
static void auto_bans(struct siplbd *d, time_t now)
{
	size_t cap = 1024, n = 0, i;
	struct src_key *keys = malloc(cap * sizeof(*keys)), k;
	__u64 mono = mono_ns();
	bool changed = false;
	int err;

	if (!keys)
		return;
	/* the keys first: deleting while walking would restart the walk */
	for (err = bpf_map_get_next_key(d->maps.offenders, NULL, &k); !err;
	     err = bpf_map_get_next_key(d->maps.offenders, &keys[n - 1], &k)) {
		if (n == cap) {
			struct src_key *more = n < 65536 ? realloc(keys, 2 * cap * sizeof(*keys)) : NULL;

			if (!more)
				break;
			keys = more;
			cap *= 2;
		}
		keys[n++] = k;
	}
	for (i = 0; i < n; i++) {
		struct sd_ban b = { .autob = true };
		struct offender o;
		struct sd_vip *v;
		char buf[64];

		if (bpf_map_lookup_elem(d->maps.offenders, &keys[i], &o))
			continue;
		if (mono > o.last_ns + OFFENDER_QUIET_NS) {
			bpf_map_delete_elem(d->maps.offenders, &keys[i]);
			continue;
		}
		v = keys[i].vip_id < SIPLB_MAX_VIPS ? &d->vips[keys[i].vip_id] : NULL;
		if (!v || !v->used || !v->ban_after ||
		    o.last_ns - o.first_ns < (__u64)v->ban_after * NS)
			continue;
		b.family = keys[i].family;
		memcpy(b.addr, keys[i].addr, sizeof(keys[i].addr));
		b.plen = b.family == AF_INET ? 32 : 64;
		b.expires = now + v->ban_for;
		if (sd_ban_add(d, &b, false))
			continue;
		d->bans_auto++;
		changed = true;
		log_warn("auto-ban of %s for %u s: over its budget on VIP %s for %llu s (%llu drops reported)",
			 sd_ban_str(&b, buf, sizeof(buf)), v->ban_for, v->name,
			 (unsigned long long)((o.last_ns - o.first_ns) / NS),
			 (unsigned long long)o.over);
		bpf_map_delete_elem(d->maps.offenders, &keys[i]);
	}
	free(keys);
	if (changed)
		sd_bans_save(d);
}

void sd_dos_tick(struct siplbd *d)
{
	time_t now = time(NULL);

	if (now == d->last_dos_tick)
		return;
	d->last_dos_tick = now;
	bans_expire(d, now);
	auto_bans(d, now);
}
