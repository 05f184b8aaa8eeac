// SPDX-License-Identifier: GPL-2.0
/* health.c: SIP OPTIONS probes of backends and the UP/DOWN verdicts drawn from their answers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "sip_parse.h"
#include "health.h"

/* Bytes of a probe's token: "%08x.%x.%llx", at most 8 + 1 + 8 + 1 + 16. */
#define HEALTH_TOKEN_MAX 40
/* Bytes of "[v6]:port" with its terminator. */
#define HEALTH_HOSTPORT_MAX (INET6_ADDRSTRLEN + 8)

static const char *const result_names[] = {
	[HEALTH_OK] = "ok",
	[HEALTH_TIMEOUT] = "timeout",
	[HEALTH_BAD_STATUS] = "bad-status",
};

const char *health_result_name(__u8 result)
{
	if (result >= sizeof(result_names) / sizeof(result_names[0]))
		return "?";
	return result_names[result];
}

void health_init(struct health_state *h, __u32 backend_id, __u8 state)
{
	memset(h, 0, sizeof(*h));
	h->backend_id = backend_id;
	h->state = state == SIPLB_BE_DOWN ? SIPLB_BE_DOWN : SIPLB_BE_UP;
}

/* The part of the branch, Call-ID and tag that makes them unique per probe. */
static int probe_token(const struct health_probe_id *id, char *out, size_t len)
{
	int n;

	n = snprintf(out, len, "%08x.%x.%llx", id->nonce, id->backend_id,
		     (unsigned long long)id->seq);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

int health_branch(const struct health_probe_id *id, char *out, size_t len)
{
	char tok[HEALTH_TOKEN_MAX];
	int n;

	n = probe_token(id, tok, sizeof(tok));
	if (n < 0)
		return n;
	n = snprintf(out, len, HEALTH_BRANCH_COOKIE "%s", tok);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

/* "a.b.c.d:port" or "[v6]:port" (port omitted when 0). */
static int host_port(const struct siplb_cfg_addr *a, __u16 port, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (a->family != AF_INET && a->family != AF_INET6)
		return -EINVAL;
	if (!inet_ntop(a->family, a->addr, ip, sizeof(ip)))
		return -EINVAL;
	if (a->family == AF_INET6)
		n = port ? snprintf(out, len, "[%s]:%u", ip, port) : snprintf(out, len, "[%s]", ip);
	else
		n = port ? snprintf(out, len, "%s:%u", ip, port) : snprintf(out, len, "%s", ip);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return 0;
}

int health_build_options(char *buf, size_t len, const struct health_probe_id *id)
{
	char src[HEALTH_HOSTPORT_MAX], dst[HEALTH_HOSTPORT_MAX];
	char tok[HEALTH_TOKEN_MAX];
	int n, err;

	err = host_port(&id->src, id->src_port, src, sizeof(src));
	if (!err)
		err = host_port(&id->dst, id->dst_port, dst, sizeof(dst));
	if (err)
		return err;
	n = probe_token(id, tok, sizeof(tok));
	if (n < 0)
		return n;
	n = snprintf(buf, len,
		     "OPTIONS sip:%s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP %s;branch=" HEALTH_BRANCH_COOKIE "%s;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:siplb@%s>;tag=%s\r\n"
		     "To: <sip:%s>\r\n"
		     "Call-ID: hc-%s@siplb\r\n"
		     "CSeq: 1 OPTIONS\r\n"
		     "Accept: application/sdp\r\n"
		     "User-Agent: siplb\r\n"
		     "Content-Length: 0\r\n"
		     "\r\n",
		     dst, src, tok, src, tok, dst, tok);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

bool health_due(const struct health_state *h, const struct siplb_cfg_health *cfg,
		__u64 now_ms)
{
	if (h->pending)
		return false;
	if (!h->ever_sent)
		return true;
	return now_ms >= h->sent_ms + cfg->interval_ms;
}

int health_probe_begin(struct health_state *h, struct health_probe_id *id,
		       char *buf, size_t len, __u64 now_ms)
{
	char branch[HEALTH_BRANCH_MAX];
	int n, blen;

	id->backend_id = h->backend_id;
	id->seq = h->seq;
	blen = health_branch(id, branch, sizeof(branch));
	if (blen < 0)
		return blen;
	n = health_build_options(buf, len, id);
	if (n < 0)
		return n;
	memcpy(h->branch, branch, blen + 1);
	h->branch_len = blen;
	h->seq++;
	h->pending = true;
	h->ever_sent = true;
	h->sent_ms = now_ms;
	h->cnt.sent++;
	return n;
}

static bool status_accepted(const struct siplb_cfg_health *cfg, __u16 status)
{
	size_t i;

	if (cfg->accept_any)
		return true;
	for (i = 0; i < cfg->n_accept && i < SIPLB_CFG_ACCEPT_MAX; i++)
		if (cfg->accept[i] == status)
			return true;
	return false;
}

static void put_reason(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void put_reason(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!out || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

/* One result: "OK 200", "timeout", "bad status 503". */
static void describe_result(char *out, size_t len, __u8 result, __u16 status)
{
	if (result == HEALTH_OK)
		put_reason(out, len, "OK %u", status);
	else if (result == HEALTH_TIMEOUT)
		put_reason(out, len, "timeout");
	else
		put_reason(out, len, "bad status %u", status);
}

/* Why fail_run failures took the backend down. */
static void describe_fall(const struct health_state *h, char *out, size_t len)
{
	__u8 t = 1u << HEALTH_TIMEOUT, b = 1u << HEALTH_BAD_STATUS;

	if (h->fail_run == 1 && h->fail_kinds == b)
		put_reason(out, len, "bad status %u", h->last_bad);
	else if (h->fail_run == 1)
		put_reason(out, len, "timeout");
	else if (h->fail_kinds == t)
		put_reason(out, len, "%u consecutive timeouts", h->fail_run);
	else if (h->fail_kinds == b)
		put_reason(out, len, "%u consecutive bad status, last %u",
			   h->fail_run, h->last_bad);
	else
		put_reason(out, len, "%u consecutive failures, last bad status %u",
			   h->fail_run, h->last_bad);
}

/* Record a verdict on the outstanding probe; 1 when the state changed. */
static int verdict(struct health_state *h, const struct siplb_cfg_health *cfg,
		   __u8 result, __u16 status, __u64 now_ms, char *reason,
		   size_t reason_len)
{
	struct health_event *e = &h->hist[h->hist_next];
	__u64 rtt = now_ms > h->sent_ms ? now_ms - h->sent_ms : 0;
	__u32 fall = cfg->fall ? cfg->fall : 1, rise = cfg->rise ? cfg->rise : 1;
	int changed = 0;

	h->pending = false;
	h->probed = true;
	e->at_ms = now_ms;
	e->rtt_ms = rtt > 0xffffffffULL ? 0xffffffffU : (__u32)rtt;
	e->status = status;
	e->result = result;
	h->hist_next = (h->hist_next + 1) % HEALTH_HISTORY;
	if (h->hist_len < HEALTH_HISTORY)
		h->hist_len++;

	if (result == HEALTH_OK) {
		h->cnt.ok++;
		h->fail_run = 0;
		h->fail_kinds = 0;
		h->ok_run++;
		if (h->state == SIPLB_BE_DOWN && h->ok_run >= rise) {
			h->state = SIPLB_BE_UP;
			changed = 1;
			if (h->ok_run == 1)
				snprintf(h->reason, sizeof(h->reason), "OK %u", status);
			else
				snprintf(h->reason, sizeof(h->reason),
					 "%u consecutive OK", h->ok_run);
		}
	} else {
		if (result == HEALTH_TIMEOUT)
			h->cnt.timeouts++;
		else
			h->cnt.bad_status++;
		h->ok_run = 0;
		h->fail_run++;
		h->fail_kinds |= 1u << result;
		if (result == HEALTH_BAD_STATUS)
			h->last_bad = status;
		if (h->state == SIPLB_BE_UP && h->fail_run >= fall) {
			h->state = SIPLB_BE_DOWN;
			changed = 1;
			describe_fall(h, h->reason, sizeof(h->reason));
		}
	}
	if (changed) {
		h->changed_ms = now_ms;
		h->cnt.transitions++;
		put_reason(reason, reason_len, "%s", h->reason);
	} else {
		describe_result(reason, reason_len, result, status);
	}
	return changed;
}

int health_on_response(struct health_state *h, const void *msg, size_t len,
		       const struct siplb_cfg_health *cfg, __u64 now_ms,
		       char *reason, size_t reason_len)
{
	struct sip_win w = { msg, (const __u8 *)msg + len };
	struct sip_msg m;
	struct sip_via via;
	const char *base = msg;

	if (!msg || len > 0xffff) {
		h->cnt.ignored++;
		return -EBADMSG;
	}
	if (sip_scan(&w, 0, &m) == SIP_VERDICT_DROP || m.kind != SIP_KIND_RESPONSE ||
	    m.status < 100 || m.status > 699) {
		h->cnt.ignored++;
		return -EBADMSG;
	}
	if (!h->pending || !m.via_len || sip_via(&w, 0, &m, &via) ||
	    !via.branch_len || via.branch_len != h->branch_len ||
	    memcmp(base + via.branch_off, h->branch, h->branch_len)) {
		h->cnt.ignored++;
		return -ENOENT;
	}
	if (m.status < 200)
		return -EINPROGRESS;
	if (now_ms > h->sent_ms + cfg->timeout_ms)
		return verdict(h, cfg, HEALTH_TIMEOUT, 0, now_ms, reason, reason_len);
	if (status_accepted(cfg, m.status))
		return verdict(h, cfg, HEALTH_OK, m.status, now_ms, reason, reason_len);
	return verdict(h, cfg, HEALTH_BAD_STATUS, m.status, now_ms, reason, reason_len);
}

int health_on_timeout(struct health_state *h, const struct siplb_cfg_health *cfg,
		      __u64 now_ms, char *reason, size_t reason_len)
{
	if (!h->pending)
		return -ENOENT;
	if (now_ms < h->sent_ms + cfg->timeout_ms)
		return -EAGAIN;
	return verdict(h, cfg, HEALTH_TIMEOUT, 0, now_ms, reason, reason_len);
}

__u32 health_history(const struct health_state *h, struct health_event *out)
{
	__u32 start = (h->hist_next + HEALTH_HISTORY - h->hist_len) % HEALTH_HISTORY;
	__u32 i;

	for (i = 0; i < h->hist_len; i++)
		out[i] = h->hist[(start + i) % HEALTH_HISTORY];
	return h->hist_len;
}
