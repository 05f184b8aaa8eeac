// SPDX-License-Identifier: GPL-2.0
/* framing.c: SIP message framing on a byte stream (see framing.h). */
#include <string.h>

#include "framing.h"
#include "siphdr.h"

const char *const frame_error_names[FRAME_ERR__MAX] = {
	[FRAME_ERR_NONE] = "none",
	[FRAME_ERR_HEADER_TOO_BIG] = "header_too_big",
	[FRAME_ERR_BODY_TOO_BIG] = "body_too_big",
	[FRAME_ERR_NO_CONTENT_LENGTH] = "no_content_length",
	[FRAME_ERR_BAD_CONTENT_LENGTH] = "bad_content_length",
	[FRAME_ERR_DUP_CONTENT_LENGTH] = "duplicate_content_length",
	[FRAME_ERR_BINARY] = "binary_header",
};

static int fail(struct frame *f, enum frame_error why)
{
	f->kind = FRAME_ERROR;
	f->error = why;
	return FRAME_ERROR;
}

/*
 * End of the header block: the offset after the blank line (CRLF CRLF, or LF
 * LF, or a mix), 0 when buf[0..len) does not hold it yet, -1 on a control
 * byte that has no place in a header block.
 */
static long header_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n') {
			if (i + 1 < len && buf[i + 1] == '\n')
				return (long)(i + 2);
			if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
				return (long)(i + 3);
		} else if (c < 0x20 && c != '\r' && c != '\t') {
			return -1;
		} else if (c == 0x7f) {
			return -1;
		}
	}
	return 0;
}

/* Content-Length of the header block; 0 ok, or an enum frame_error. */
static int content_length(const char *buf, size_t hdr_len, __u32 max_body, __u32 *out)
{
	struct sip_hline h;
	size_t pos = 0, i;
	bool seen = false;
	__u64 v;

	while (sip_hline_find(buf, hdr_len, &pos, "Content-Length", 'l', &h)) {
		if (!h.val_len)
			return FRAME_ERR_BAD_CONTENT_LENGTH;
		v = 0;
		for (i = 0; i < h.val_len; i++) {
			char c = buf[h.val_off + i];

			if (c < '0' || c > '9')
				return FRAME_ERR_BAD_CONTENT_LENGTH;
			v = v * 10 + (__u64)(c - '0');
			if (v > max_body)
				return FRAME_ERR_BODY_TOO_BIG;
		}
		if (seen && v != *out)
			return FRAME_ERR_DUP_CONTENT_LENGTH;
		seen = true;
		*out = (__u32)v;
	}
	return seen ? 0 : FRAME_ERR_NO_CONTENT_LENGTH;
}

int frame_next(const char *buf, size_t len, const struct frame_limits *lim,
	       struct frame *f)
{
	long end;
	size_t scan;
	__u32 body = 0;
	int err;

	memset(f, 0, sizeof(*f));
	if (!len)
		return f->kind = FRAME_MORE;
	if (buf[0] == '\r' || buf[0] == '\n') {
		/* keepalives: CRLF CRLF is a ping; a lone CRLF is a pong */
		if (len >= 4 && !memcmp(buf, "\r\n\r\n", 4)) {
			f->len = 4;
			return f->kind = FRAME_PING;
		}
		if (buf[0] == '\n') {
			f->len = 1;
			return f->kind = FRAME_PONG;
		}
		if (len < 2 || (len < 4 && !memcmp(buf, "\r\n\r", len < 3 ? len : 3)))
			return f->kind = FRAME_MORE;
		if (buf[1] != '\n')
			return fail(f, FRAME_ERR_BINARY);
		f->len = 2;
		return f->kind = FRAME_PONG;
	}
	scan = len < lim->max_header ? len : lim->max_header;
	end = header_end(buf, scan);
	if (end < 0)
		return fail(f, FRAME_ERR_BINARY);
	if (end == 0)
		return len >= lim->max_header ? fail(f, FRAME_ERR_HEADER_TOO_BIG) :
						(f->kind = FRAME_MORE);
	err = content_length(buf, (size_t)end, lim->max_body, &body);
	if (err)
		return fail(f, err);
	f->hdr_len = (__u32)end;
	f->body_len = body;
	if (len < (size_t)end + body)
		return f->kind = FRAME_MORE;
	f->len = (__u32)end + body;
	return f->kind = FRAME_MESSAGE;
}
