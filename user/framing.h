/* framing.h: SIP message framing on a byte stream (TCP, TLS): Content-Length, CRLF keepalives, limits. */
#ifndef SIPLB_FRAMING_H
#define SIPLB_FRAMING_H

/*
 * RFC 3261 section 18.3: on a stream every message carries Content-Length and
 * the body is exactly that many bytes after the blank line. RFC 5626 section
 * 3.5.1: a client sends a double CRLF ("ping") and the server answers one
 * CRLF ("pong"); a lone CRLF between messages is skipped.
 *
 * frame_next() looks at the bytes received so far (from the start of the
 * next message) and says whether they hold a whole message, a keepalive, not
 * enough yet, or something the connection must be closed for. It is pure:
 * no allocation, no state, so split and coalesced reads are the caller's
 * buffer management only.
 */

#include <stddef.h>
#include <linux/types.h>

/* Defaults of tcp.max_header / tcp.max_body in the configuration. */
#define FRAME_MAX_HEADER_DEFAULT 16384u
#define FRAME_MAX_BODY_DEFAULT 65536u

enum frame_kind {
	FRAME_MORE = 0,		/* not enough bytes yet: read more */
	FRAME_MESSAGE,		/* a whole message: len bytes, headers hdr_len of them */
	FRAME_PING,		/* CRLF CRLF: answer CRLF, consume len */
	FRAME_PONG,		/* a lone CRLF: consume len, nothing to answer */
	FRAME_ERROR,		/* close the connection; reason says why */
};

/* Why a stream was given up; the index of a counter and its metrics label. */
enum frame_error {
	FRAME_ERR_NONE = 0,
	FRAME_ERR_HEADER_TOO_BIG,	/* no blank line within max_header bytes */
	FRAME_ERR_BODY_TOO_BIG,		/* Content-Length over max_body */
	FRAME_ERR_NO_CONTENT_LENGTH,	/* mandatory on streams */
	FRAME_ERR_BAD_CONTENT_LENGTH,	/* not a decimal number */
	FRAME_ERR_DUP_CONTENT_LENGTH,	/* two Content-Length headers that disagree */
	FRAME_ERR_BINARY,		/* a NUL or other control byte in the headers */
	FRAME_ERR__MAX,
};

extern const char *const frame_error_names[FRAME_ERR__MAX];

struct frame_limits {
	__u32 max_header;	/* bytes of start line + headers + blank line */
	__u32 max_body;		/* bytes of body */
};

struct frame {
	__u8 kind;		/* enum frame_kind */
	__u8 error;		/* enum frame_error when kind is FRAME_ERROR */
	__u32 len;		/* bytes to consume (message, ping or pong) */
	__u32 hdr_len;		/* FRAME_MESSAGE: up to and including the blank line */
	__u32 body_len;		/* FRAME_MESSAGE: Content-Length */
};

/* Frame the bytes buf[0..len). Returns f->kind. */
int frame_next(const char *buf, size_t len, const struct frame_limits *lim,
	       struct frame *f);

#endif /* SIPLB_FRAMING_H */
