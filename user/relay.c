// SPDX-License-Identifier: GPL-2.0
/* relay.c: siplbd's stateless SIP relay: Via, Record-Route, Route and flow tokens (see relay.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "relay.h"
#include "siphdr.h"

/* Output under construction: bounded, remembers an overflow. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool full;
};

static void sb_put(struct sbuf *b, const void *d, size_t n)
{
	if (b->full || n > b->cap - b->len) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void sb_fmt(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len)
		b->full = true;
	else
		b->len += (size_t)n;
}

static long sb_done(struct sbuf *b)
{
	return b->full ? -ENOSPC : (long)b->len;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Offset after the start line's line end. */
static size_t start_line_end(const char *msg, size_t hdr_len)
{
	const char *lf = memchr(msg, '\n', hdr_len);

	return lf ? (size_t)(lf - msg) + 1 : hdr_len;
}

/* Copy the start line, and later the blank line and body, unchanged. */
static void put_start(struct sbuf *b, const char *msg, size_t hdr_len)
{
	sb_put(b, msg, start_line_end(msg, hdr_len));
}

/* Is the request's method one of the words in `list` (space separated)? */
static bool method_is(const char *msg, const char *m)
{
	size_t n = strlen(m);

	return !strncmp(msg, m, n) && msg[n] == ' ';
}

/* The URI inside a Route/Record-Route element: after "<" and "sip:"/"sips:", up to ';' or '>'. */
static void elem_uri(const char *e, size_t len, const char **u, size_t *ulen)
{
	const char *p = memchr(e, '<', len), *end = e + len, *q;

	if (p)
		p++;
	else
		p = e;
	while (p < end && is_ws(*p))
		p++;
	if (end - p >= 4 && !strncasecmp(p, "sip:", 4))
		p += 4;
	else if (end - p >= 5 && !strncasecmp(p, "sips:", 5))
		p += 5;
	for (q = p; q < end && *q != ';' && *q != '>' && *q != '?' && !is_ws(*q); q++)
		;
	*u = p;
	*ulen = (size_t)(q - p);
}

/*
 * What a Route element is to us: 1 our relay address, 2 a flow token (slot
 * and gen set), -EBADMSG a token-shaped user part that does not verify on a
 * URI naming us otherwise, 0 someone else's.
 */
static int route_elem_ours(const struct relay_ctx *rc, const char *e, size_t len,
			   __u32 *slot, __u32 *gen)
{
	char self[RELAY_HOST_MAX + 8];
	const char *u, *at;
	size_t ulen;
	int n;

	elem_uri(e, len, &u, &ulen);
	n = snprintf(self, sizeof(self), "%s:%u", rc->udp_host, rc->udp_port);
	if ((size_t)n == ulen && !strncasecmp(u, self, ulen))
		return 1;
	at = memchr(u, '@', ulen);
	if (!at || at - u != FLOWTOKEN_LEN)
		return 0;
	if (flowtoken_parse(rc->ftkey, u, FLOWTOKEN_LEN, slot, gen))
		return -EBADMSG;
	return 2;
}

/* The branch parameter of the first element of a Via value, or NULL. */
static const char *via_branch(const char *v, size_t vlen, size_t *blen)
{
	const char *pv;
	size_t n = sip_value_elem_end(v, vlen);

	if (sip_param_find(v, n, "branch", &pv, blen) < 0)
		return NULL;
	return pv;
}

/* sent-by of a Via element "SIP/2.0/UDP host:port;...": host (brackets kept) and port (0 if none). */
static int via_sent_by(const char *v, size_t len, const char **host, size_t *hlen,
		       __u16 *port)
{
	const char *p = v, *end = v + len, *h, *q;
	unsigned int slashes = 0, pv = 0;

	while (p < end && slashes < 2)
		if (*p++ == '/')
			slashes++;
	while (p < end && !is_ws(*p))	/* the transport */
		p++;
	while (p < end && is_ws(*p))
		p++;
	h = p;
	if (p < end && *p == '[') {
		q = memchr(p, ']', (size_t)(end - p));
		if (!q)
			return -EINVAL;
		p = q + 1;
	} else {
		while (p < end && *p != ':' && *p != ';' && *p != ',' && !is_ws(*p))
			p++;
	}
	*host = h;
	*hlen = (size_t)(p - h);
	*port = 0;
	if (p < end && *p == ':') {
		for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
			pv = pv * 10 + (unsigned int)(*p - '0');
			if (pv > 65535)
				return -EINVAL;
		}
		*port = (__u16)pv;
	}
	return *hlen ? 0 : -EINVAL;
}

/*
 * Copy the first Via header h with received=ip (when the sent-by host is
 * not that address) and rport=port (when the element has an empty rport)
 * added to its first element.
 */
static void put_via_received(struct sbuf *b, const char *msg, const struct sip_hline *h,
			     const char *ip, __u16 port)
{
	const char *v = msg + h->val_off, *host, *pv;
	size_t vlen = h->val_len, e = sip_value_elem_end(v, vlen), hlen, pvlen;
	__u16 sport;
	long rp;
	bool same = false;

	if (!via_sent_by(v, e, &host, &hlen, &sport)) {
		if (hlen >= 2 && host[0] == '[')
			same = hlen - 2 == strlen(ip) && !strncasecmp(host + 1, ip, hlen - 2);
		else
			same = hlen == strlen(ip) && !strncasecmp(host, ip, hlen);
	}
	/* an existing received says what the hop before us saw: keep it */
	if (sip_param_find(v, e, "received", &pv, &pvlen) >= 0)
		same = true;
	sb_put(b, msg + h->off, h->val_off - h->off);
	rp = sip_param_find(v, e, "rport", &pv, &pvlen);
	if (rp >= 0 && pvlen == 0) {
		size_t at = (size_t)(pv - v);

		sb_put(b, v, at);
		sb_fmt(b, "=%u", port);
		sb_put(b, v + at, e - at);
	} else {
		sb_put(b, v, e);
	}
	if (!same)
		sb_fmt(b, ";received=%s", ip);
	sb_put(b, v + e, vlen - e);
	sb_str(b, "\r\n");
}

/* Copy a header, with Max-Forwards decremented; -ELOOP when it is 0. */
static int put_max_forwards(struct sbuf *b, const char *msg, const struct sip_hline *h)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; i < h->val_len; i++) {
		char c = msg[h->val_off + i];

		if (c < '0' || c > '9' || v > 255) {	/* not a number: leave it alone */
			sb_put(b, msg + h->off, h->end - h->off);
			return 0;
		}
		v = v * 10 + (unsigned long)(c - '0');
	}
	if (!h->val_len) {
		sb_put(b, msg + h->off, h->end - h->off);
		return 0;
	}
	if (v == 0)
		return -ELOOP;
	sb_fmt(b, "Max-Forwards: %lu\r\n", v - 1);
	return 0;
}

/*
 * A Route header while the top of the route set is still being looked at:
 * our elements come off the front; the first foreign one ends the stripping.
 * Returns 1 while stripping goes on, 0 when it ended, -EBADMSG on a forged
 * token. The first token found goes to slot and gen (found set).
 */
static int put_route_stripped(const struct relay_ctx *rc, struct sbuf *b, const char *msg,
			      const struct sip_hline *h, bool *found, __u32 *slot,
			      __u32 *gen)
{
	const char *v = msg + h->val_off;
	size_t vlen = h->val_len, e;
	__u32 s, g;
	int r;

	while (vlen) {
		e = sip_value_elem_end(v, vlen);
		r = route_elem_ours(rc, v, e, &s, &g);
		if (r < 0)
			return r;
		if (r == 0) {
			sb_str(b, "Route: ");
			sb_put(b, v, vlen);
			sb_str(b, "\r\n");
			return 0;
		}
		if (r == 2 && !*found) {
			*found = true;
			*slot = s;
			*gen = g;
		}
		v += e;
		vlen -= e;
		while (vlen && (*v == ',' || is_ws(*v))) {
			v++;
			vlen--;
		}
	}
	return 1;
}

/* A stateless proxy's branch: our prefix, a label, and a keyed hash of the top Via's sent-by and branch. */
static void put_branch_hash(const struct relay_ctx *rc, struct sbuf *b, const char *msg,
			    const struct sip_hline *via)
{
	const char *v = msg + via->val_off;
	size_t e = sip_value_elem_end(v, via->val_len);

	sb_fmt(b, "%016llx", (unsigned long long)siplb_hash_buf(v, (__u32)e, rc->hkey));
}

/* Does the header block say Supported: path (or k: path)? */
static bool supports_path(const char *msg, size_t hdr_len)
{
	struct sip_hline h;
	size_t pos = 0, i, n;

	while (sip_hline_find(msg, hdr_len, &pos, "Supported", 'k', &h)) {
		const char *v = msg + h.val_off;

		for (i = 0; i < h.val_len; i = n + 1) {
			size_t s, e;

			for (n = i; n < h.val_len && v[n] != ','; n++)
				;
			for (s = i; s < n && is_ws(v[s]); s++)
				;
			for (e = n; e > s && is_ws(v[e - 1]); e--)
				;
			if (e - s == 4 && !strncasecmp(v + s, "path", 4))
				return true;
		}
	}
	return false;
}

long relay_client_request(const struct relay_ctx *rc, const struct relay_client *c,
			  const char *msg, size_t len, size_t hdr_len, char *out,
			  size_t cap)
{
	struct sbuf b = { .p = out, .cap = cap };
	struct sip_hline h, via;
	size_t pos = 0;
	bool via_done = false, stripping = true, found = false;
	char tok[FLOWTOKEN_LEN + 1];
	const char *rr_name = "Record-Route";
	__u32 s, g;
	int r;

	if (!sip_hline_find(msg, hdr_len, &pos, "Via", 'v', &via))
		return -EINVAL;
	if (flowtoken_make(rc->ftkey, c->slot, c->gen, tok))
		return -EIO;
	put_start(&b, msg, hdr_len);
	sb_fmt(&b, "Via: SIP/2.0/UDP %s:%u;branch=" RELAY_BRANCH "%s.", rc->udp_host,
	       rc->udp_port, tok);
	put_branch_hash(rc, &b, msg, &via);
	sb_str(&b, "\r\n");
	if (method_is(msg, "REGISTER"))
		rr_name = supports_path(msg, hdr_len) ? "Path" : NULL;
	if (rr_name)
		sb_fmt(&b, "%s: <sip:%s:%u;lr>\r\n%s: <sip:%s@%s:%u;transport=%s;lr>\r\n",
		       rr_name, rc->udp_host, rc->udp_port, rr_name, tok, c->vip_host,
		       c->vip_port, c->tls ? "tls" : "tcp");
	pos = 0;
	while (sip_hline_next(msg, hdr_len, &pos, &h)) {
		if (!via_done && sip_hline_is(msg, &h, "Via", 'v')) {
			put_via_received(&b, msg, &h, c->peer_ip, c->peer_port);
			via_done = true;
		} else if (stripping && sip_hline_is(msg, &h, "Route", 0)) {
			r = put_route_stripped(rc, &b, msg, &h, &found, &s, &g);
			if (r < 0)
				return r;
			stripping = r == 1;
		} else if (sip_hline_is(msg, &h, "Max-Forwards", 0)) {
			r = put_max_forwards(&b, msg, &h);
			if (r)
				return r;
		} else {
			sb_put(&b, msg + h.off, h.end - h.off);
		}
	}
	sb_put(&b, msg + pos, len - pos);
	return sb_done(&b);
}

/* Copy the Via header h without its first element (or drop it when that was all). */
static void put_via_popped(struct sbuf *b, const char *msg, const struct sip_hline *h)
{
	const char *v = msg + h->val_off;
	size_t vlen = h->val_len, e = sip_value_elem_end(v, vlen);

	if (e == vlen)
		return;
	e++;
	while (e < vlen && is_ws(v[e]))
		e++;
	sb_str(b, "Via: ");
	sb_put(b, v + e, vlen - e);
	sb_str(b, "\r\n");
}

/* Is the Via element v ours with the given sent-by? Sets the branch after our prefix. */
static bool via_is_ours(const char *v, size_t vlen, const char *host, __u16 port,
			const char **rest, size_t *rlen)
{
	size_t e = sip_value_elem_end(v, vlen), hlen, blen;
	const char *sb, *br;
	__u16 sport;

	if (via_sent_by(v, e, &sb, &hlen, &sport) || hlen != strlen(host) ||
	    strncasecmp(sb, host, hlen) || sport != port)
		return false;
	br = via_branch(v, e, &blen);
	if (!br || blen < strlen(RELAY_BRANCH) || strncmp(br, RELAY_BRANCH, strlen(RELAY_BRANCH)))
		return false;
	*rest = br + strlen(RELAY_BRANCH);
	*rlen = blen - strlen(RELAY_BRANCH);
	return true;
}

long relay_backend_response(const struct relay_ctx *rc, const char *msg, size_t len,
			    size_t hdr_len, char *out, size_t cap, __u32 *slot,
			    __u32 *gen)
{
	struct sbuf b = { .p = out, .cap = cap };
	struct sip_hline h;
	size_t pos = 0, rlen;
	const char *rest;
	bool done = false;

	if (!sip_hline_find(msg, hdr_len, &pos, "Via", 'v', &h))
		return -ENOENT;
	if (!via_is_ours(msg + h.val_off, h.val_len, rc->udp_host, rc->udp_port, &rest, &rlen))
		return -ENOENT;
	if (rlen < FLOWTOKEN_LEN + 1 || rest[FLOWTOKEN_LEN] != '.')
		return -EBADMSG;
	if (flowtoken_parse(rc->ftkey, rest, FLOWTOKEN_LEN, slot, gen))
		return -EBADMSG;
	put_start(&b, msg, hdr_len);
	pos = 0;
	while (sip_hline_next(msg, hdr_len, &pos, &h)) {
		if (!done && sip_hline_is(msg, &h, "Via", 'v')) {
			put_via_popped(&b, msg, &h);
			done = true;
		} else {
			sb_put(&b, msg + h.off, h.end - h.off);
		}
	}
	sb_put(&b, msg + pos, len - pos);
	return sb_done(&b);
}

int relay_route_token(const struct relay_ctx *rc, const char *msg, size_t hdr_len,
		      __u32 *slot, __u32 *gen)
{
	struct sip_hline h;
	size_t pos = 0, vlen, e;
	const char *v;
	int r;

	while (sip_hline_find(msg, hdr_len, &pos, "Route", 0, &h)) {
		v = msg + h.val_off;
		vlen = h.val_len;
		while (vlen) {
			e = sip_value_elem_end(v, vlen);
			r = route_elem_ours(rc, v, e, slot, gen);
			if (r < 0)
				return r;
			if (r == 2)
				return 0;
			if (r == 0)
				return -ENOENT;
			v += e;
			vlen -= e;
			while (vlen && (*v == ',' || is_ws(*v))) {
				v++;
				vlen--;
			}
		}
	}
	return -ENOENT;
}

long relay_backend_request(const struct relay_ctx *rc, const struct relay_client *c,
			   const char *msg, size_t len, size_t hdr_len,
			   const char *src_ip, __u16 src_port, char *out, size_t cap)
{
	struct sbuf b = { .p = out, .cap = cap };
	struct sip_hline h, via;
	size_t pos = 0;
	bool via_done = false, stripping = true, found = false;
	__u32 s, g;
	int r;

	if (!sip_hline_find(msg, hdr_len, &pos, "Via", 'v', &via))
		return -EINVAL;
	put_start(&b, msg, hdr_len);
	sb_fmt(&b, "Via: SIP/2.0/%s %s:%u;branch=" RELAY_BRANCH "x", c->tls ? "TLS" : "TCP",
	       c->vip_host, c->vip_port);
	put_branch_hash(rc, &b, msg, &via);
	sb_str(&b, "\r\n");
	pos = 0;
	while (sip_hline_next(msg, hdr_len, &pos, &h)) {
		if (!via_done && sip_hline_is(msg, &h, "Via", 'v')) {
			put_via_received(&b, msg, &h, src_ip, src_port);
			via_done = true;
		} else if (stripping && sip_hline_is(msg, &h, "Route", 0)) {
			r = put_route_stripped(rc, &b, msg, &h, &found, &s, &g);
			if (r < 0)
				return r;
			stripping = r == 1;
		} else if (sip_hline_is(msg, &h, "Max-Forwards", 0)) {
			r = put_max_forwards(&b, msg, &h);
			if (r)
				return r;
		} else {
			sb_put(&b, msg + h.off, h.end - h.off);
		}
	}
	sb_put(&b, msg + pos, len - pos);
	return sb_done(&b);
}

/* Destination of a response by Via element v: received/rport, else sent-by. */
static int via_dest(const char *v, size_t vlen, struct relay_dest *d)
{
	size_t e = sip_value_elem_end(v, vlen), hlen, pvlen, i;
	const char *host, *pv;
	__u16 port;
	unsigned int rp = 0;

	if (via_sent_by(v, e, &host, &hlen, &port))
		return -EINVAL;
	if (sip_param_find(v, e, "received", &pv, &pvlen) >= 0 && pvlen) {
		host = pv;
		hlen = pvlen;
	}
	if (hlen >= 2 && host[0] == '[') {
		host++;
		hlen -= 2;
	}
	if (hlen >= sizeof(d->host))
		return -EINVAL;
	memcpy(d->host, host, hlen);
	d->host[hlen] = 0;
	d->port = port ? port : 5060;
	if (sip_param_find(v, e, "rport", &pv, &pvlen) >= 0 && pvlen) {
		for (i = 0; i < pvlen; i++) {
			if (pv[i] < '0' || pv[i] > '9' || rp > 65535)
				return -EINVAL;
			rp = rp * 10 + (unsigned int)(pv[i] - '0');
		}
		if (rp == 0 || rp > 65535)
			return -EINVAL;
		d->port = (__u16)rp;
	}
	return 0;
}

int relay_via_dest(const char *msg, size_t hdr_len, struct relay_dest *dst)
{
	struct sip_hline h;
	size_t pos = 0;

	if (!sip_hline_find(msg, hdr_len, &pos, "Via", 'v', &h))
		return -EINVAL;
	return via_dest(msg + h.val_off, h.val_len, dst);
}

long relay_client_response(const struct relay_ctx *rc, const struct relay_client *c,
			   const char *msg, size_t len, size_t hdr_len, char *out,
			   size_t cap, struct relay_dest *dst)
{
	struct sbuf b = { .p = out, .cap = cap };
	struct sip_hline h;
	size_t pos = 0, rlen, e;
	const char *rest, *v;
	bool popped = false, have_dest = false;

	(void)rc;
	if (!sip_hline_find(msg, hdr_len, &pos, "Via", 'v', &h))
		return -ENOENT;
	if (!via_is_ours(msg + h.val_off, h.val_len, c->vip_host, c->vip_port, &rest, &rlen))
		return -ENOENT;
	put_start(&b, msg, hdr_len);
	pos = 0;
	while (sip_hline_next(msg, hdr_len, &pos, &h)) {
		if (!sip_hline_is(msg, &h, "Via", 'v')) {
			sb_put(&b, msg + h.off, h.end - h.off);
			continue;
		}
		v = msg + h.val_off;
		if (!popped) {
			popped = true;
			e = sip_value_elem_end(v, h.val_len);
			if (e < h.val_len && !via_dest(v + e + 1, h.val_len - e - 1, dst))
				have_dest = true;
			put_via_popped(&b, msg, &h);
			continue;
		}
		if (!have_dest) {
			if (via_dest(v, h.val_len, dst))
				return -EINVAL;
			have_dest = true;
		}
		sb_put(&b, msg + h.off, h.end - h.off);
	}
	if (!have_dest)
		return -EINVAL;
	sb_put(&b, msg + pos, len - pos);
	return sb_done(&b);
}

long relay_reply(const char *msg, size_t hdr_len, int status, const char *reason,
		 char *out, size_t cap)
{
	struct sbuf b = { .p = out, .cap = cap };
	struct sip_hline h;
	size_t pos = 0, n = 0;
	const char *pv;
	size_t pvlen;

	sb_fmt(&b, "SIP/2.0 %d %s\r\n", status, reason);
	while (sip_hline_next(msg, hdr_len, &pos, &h)) {
		if (sip_hline_is(msg, &h, "Via", 'v') || sip_hline_is(msg, &h, "From", 'f') ||
		    sip_hline_is(msg, &h, "Call-ID", 'i') || sip_hline_is(msg, &h, "CSeq", 0)) {
			sb_put(&b, msg + h.off, h.end - h.off);
			n++;
		} else if (sip_hline_is(msg, &h, "To", 't')) {
			sb_put(&b, msg + h.off, h.val_off + h.val_len - h.off);
			if (sip_param_find(msg + h.val_off, h.val_len, "tag", &pv, &pvlen) < 0)
				sb_fmt(&b, ";tag=slb%08x", (unsigned int)(h.val_len * 2654435761u));
			sb_str(&b, "\r\n");
			n++;
		}
	}
	if (n < 5)
		return -EINVAL;
	sb_str(&b, "Content-Length: 0\r\n\r\n");
	return sb_done(&b);
}
