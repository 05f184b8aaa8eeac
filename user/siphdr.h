/* siphdr.h: header lines of a SIP message in userspace: iterate, match names, split values. */
#ifndef SIPLB_SIPHDR_H
#define SIPLB_SIPHDR_H

/*
 * The shared parser (include/sip_parse.h) finds only what XDP needs: the
 * Call-ID, the top Via and To. The relay needs more (Route, Record-Route,
 * Content-Length, From, CSeq, every Via), and only in userspace, so it walks
 * the header block here. Line ends are LF or CRLF; a line that starts with
 * a space or a tab continues the header before it (folding).
 */

#include <stdbool.h>
#include <stddef.h>

/* One header, possibly folded over several lines. Offsets from the message start. */
struct sip_hline {
	size_t off;		/* first byte of the name */
	size_t end;		/* first byte after the header's last line end */
	size_t name_len;	/* bytes of the name, without whitespace */
	size_t val_off;		/* value, whitespace and line end trimmed */
	size_t val_len;
};

/*
 * Next header of buf[0..hdr_len) at or after *pos; *pos = 0 starts after the
 * start line. Returns 1 and advances *pos, or 0 at the blank line or the end.
 */
int sip_hline_next(const char *buf, size_t hdr_len, size_t *pos, struct sip_hline *h);

/* Is h's name `name` or its compact form (`compact`, 0 for none), any case? */
bool sip_hline_is(const char *buf, const struct sip_hline *h, const char *name,
		  char compact);

/* First header named so at or after *pos (0: from the top); 1 found, 0 not. */
int sip_hline_find(const char *buf, size_t hdr_len, size_t *pos, const char *name,
		   char compact, struct sip_hline *h);

/*
 * End of the first element of a comma-separated header value at v[0..len)
 * (Via, Route, Record-Route): the offset of the comma, or len. Commas inside
 * quotes and <...> do not count.
 */
size_t sip_value_elem_end(const char *v, size_t len);

/*
 * Find parameter `name` (";name" or ";name=value", any case) in an element
 * v[0..len) outside quotes and <...>. Returns the offset of its ';' or -1;
 * pv and pvlen get the value (length 0 when it has none).
 */
long sip_param_find(const char *v, size_t len, const char *name, const char **pv,
		    size_t *pvlen);

#endif /* SIPLB_SIPHDR_H */
