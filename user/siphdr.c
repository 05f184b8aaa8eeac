// SPDX-License-Identifier: GPL-2.0
/* siphdr.c: header lines of a SIP message in userspace (see siphdr.h). */
#include <string.h>
#include <strings.h>

#include "siphdr.h"

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* Offset after the line end of the line holding pos, or len when there is none. */
static size_t line_next(const char *buf, size_t len, size_t pos)
{
	const char *lf = memchr(buf + pos, '\n', len - pos);

	return lf ? (size_t)(lf - buf) + 1 : len;
}

int sip_hline_next(const char *buf, size_t hdr_len, size_t *pos, struct sip_hline *h)
{
	size_t p = *pos, e, colon, v, ve;

	if (p == 0)
		p = line_next(buf, hdr_len, 0);	/* skip the start line */
	/* a stray continuation line right after the start line is skipped */
	while (p < hdr_len && is_ws(buf[p]))
		p = line_next(buf, hdr_len, p);
	if (p >= hdr_len || buf[p] == '\r' || buf[p] == '\n')
		return 0;
	e = line_next(buf, hdr_len, p);
	while (e < hdr_len && is_ws(buf[e]))	/* folded: the next line belongs to it */
		e = line_next(buf, hdr_len, e);
	for (colon = p; colon < e && buf[colon] != ':' && buf[colon] != '\n'; colon++)
		;
	h->off = p;
	h->end = e;
	if (colon >= e || buf[colon] != ':') {	/* no colon: a name-only line */
		h->name_len = 0;
		h->val_off = p;
		h->val_len = 0;
		*pos = e;
		return 1;
	}
	ve = colon;
	while (ve > p && is_ws(buf[ve - 1]))
		ve--;
	h->name_len = ve - p;
	v = colon + 1;
	ve = e;
	while (v < ve && (is_ws(buf[v]) || buf[v] == '\r' || buf[v] == '\n'))
		v++;
	while (ve > v && (is_ws(buf[ve - 1]) || buf[ve - 1] == '\r' || buf[ve - 1] == '\n'))
		ve--;
	h->val_off = v;
	h->val_len = ve - v;
	*pos = e;
	return 1;
}

bool sip_hline_is(const char *buf, const struct sip_hline *h, const char *name,
		  char compact)
{
	size_t n = strlen(name);

	if (h->name_len == n && !strncasecmp(buf + h->off, name, n))
		return true;
	return compact && h->name_len == 1 &&
	       (buf[h->off] | 0x20) == (compact | 0x20);
}

int sip_hline_find(const char *buf, size_t hdr_len, size_t *pos, const char *name,
		   char compact, struct sip_hline *h)
{
	while (sip_hline_next(buf, hdr_len, pos, h))
		if (sip_hline_is(buf, h, name, compact))
			return 1;
	return 0;
}

size_t sip_value_elem_end(const char *v, size_t len)
{
	bool quoted = false, angle = false;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = v[i];

		if (quoted) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '"')
				quoted = false;
		} else if (c == '"') {
			quoted = true;
		} else if (c == '<') {
			angle = true;
		} else if (c == '>') {
			angle = false;
		} else if (c == ',' && !angle) {
			return i;
		}
	}
	return len;
}

long sip_param_find(const char *v, size_t len, const char *name, const char **pv,
		    size_t *pvlen)
{
	size_t n = strlen(name), i, j, k;
	bool quoted = false, angle = false;

	for (i = 0; i < len; i++) {
		char c = v[i];

		if (quoted) {
			if (c == '\\' && i + 1 < len)
				i++;
			else if (c == '"')
				quoted = false;
			continue;
		}
		if (c == '"') {
			quoted = true;
			continue;
		}
		if (c == '<' || c == '>') {
			angle = c == '<';
			continue;
		}
		if (c != ';' || angle)
			continue;
		j = i + 1;
		while (j < len && is_ws(v[j]))
			j++;
		if (len - j < n || strncasecmp(v + j, name, n))
			continue;
		k = j + n;
		while (k < len && is_ws(v[k]))
			k++;
		if (k < len && v[k] != '=' && v[k] != ';' && v[k] != ',')
			continue;	/* a longer name that starts the same */
		*pv = v + k;
		*pvlen = 0;
		if (k < len && v[k] == '=') {
			k++;
			while (k < len && is_ws(v[k]))
				k++;
			*pv = v + k;
			while (k < len && v[k] != ';' && v[k] != ',' && !is_ws(v[k]) &&
			       v[k] != '>')
				k++;
			*pvlen = (size_t)(v + k - *pv);
		}
		return (long)i;
	}
	return -1;
}
