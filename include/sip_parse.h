/* sip_parse.h: the one SIP parser, compiled into the XDP program and into siplbd/siplbctl. */
#ifndef SIP_PARSE_H
#define SIP_PARSE_H

/*
 * The parser reads the UDP payload of one datagram, in place. It never copies
 * and never writes the packet. It finds the start line, then walks the header
 * block looking for line feeds 32 bytes at a time (SWAR, 8 bytes per word),
 * and only at the start of a line does it look at a header name. Offsets in
 * struct sip_msg are from the first payload byte. docs/architecture.md tells
 * the whole way.
 *
 * Built twice from this one text:
 *  - under clang -target bpf, the SIPLB_SUBPROG functions (sip_scan, sip_tiny,
 *    sip_via, sip_to_aor and their steps) are BPF global functions: the
 *    verifier checks each once, on its own; everything sip_scan needs for a
 *    usual message is inline in it, so the fast path makes one BPF call (each
 *    costs ~9 ns on CPUs with the SRSO return thunk);
 *  - in userspace they are plain static inline functions over a buffer.
 * Every read is bounds-checked against the end of the data; every offset is
 * masked with SIP_POS_MASK (never changing its value) so that the verifier can
 * see it is bounded.
 */

#include "siplb_types.h"
#include "siplb_reasons.h"

#ifdef __bpf__
#include <linux/bpf.h>
#endif

/* Payload bytes the parser scans for the end of the headers: beyond it, slow path. */
#define SIP_WINDOW 2048u
/* Bounds every payload offset for the verifier; larger than window + longest read. */
#define SIP_POS_MASK 4095u
/* Bytes the line scan looks at per iteration (one bounds check). */
#define SIP_CHUNK 32u
/* Largest offset of the UDP payload within the frame (L2 + L3 + L4 headers). */
#define SIP_MAX_PAYLOAD_OFF 255u
/* Whitespace bytes skipped on each side of a colon before handing to the slow path. */
#define SIP_WS_MAX 15
/* Bytes of a Via or To value examined for sent-by, branch and the AOR. */
#define SIP_VALUE_MAX 512u
/* Longest method token + 1; trailing whitespace trimmed off a value. */
#define SIP_METHOD_MAX 32
#define SIP_TRIM_MAX 16
/* Shortest datagram that can hold a SIP message with Call-ID and Via. */
#define SIP_MIN_LEN 32u

enum sip_kind {
	SIP_KIND_NONE = 0,	/* not SIP */
	SIP_KIND_REQUEST,
	SIP_KIND_RESPONSE,
	SIP_KIND_KEEPALIVE,	/* RFC 5626 CRLF ping or pong */
};

enum sip_method {
	SIP_METHOD_NONE = 0,	/* not a request */
	SIP_METHOD_OTHER,	/* an extension method: a valid token we do not know */
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_REGISTER,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_PRACK,
	SIP_METHOD_UPDATE,
	SIP_METHOD_INFO,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_REFER,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_PUBLISH,
	SIP_METHOD__MAX,
};

enum sip_verdict {
	SIP_VERDICT_FAST = 0,	/* steer in XDP */
	SIP_VERDICT_SLOW,	/* hand to siplbd; reason is an enum siplb_slow */
	SIP_VERDICT_DROP,	/* reason is an enum siplb_drop */
};

/* Which header a line holds, as far as the balancer cares. */
enum sip_hdr {
	SIP_HDR_NONE = 0,
	SIP_HDR_CALLID,
	SIP_HDR_VIA,		/* the first Via line only */
	SIP_HDR_TO,
	SIP_HDR_OTHER,
};

#define SIP_SEEN_CALLID 0x1
#define SIP_SEEN_VIA	0x2
#define SIP_SEEN_TO	0x4

/* What the scan found. All offsets are from the first UDP payload byte. */
struct sip_msg {
	__u8 kind;		/* enum sip_kind */
	__u8 method;		/* enum sip_method */
	__u8 verdict;		/* enum sip_verdict */
	__u8 reason;		/* enum siplb_drop or enum siplb_slow, by verdict */
	__u16 status;		/* response status code, 0 for requests */
	__u16 hdr_end;		/* first byte after the blank line; 0 if not reached */
	__u16 method_len;	/* bytes of the method token */
	__u16 callid_off;	/* Call-ID value, trimmed */
	__u16 callid_len;
	__u16 via_off;		/* top Via value (the whole first Via line), trimmed */
	__u16 via_len;
	__u16 to_off;		/* To value, trimmed */
	__u16 to_len;
	/*
	 * Scanner scratch, private to sip_scan(). Kept in memory rather than in
	 * locals: the verifier does not track it, so the paths through a line
	 * meet again in one verifier state.
	 */
	__u8 lines;		/* line feeds seen, saturating at 1 */
	__u8 open;		/* enum sip_hdr whose value the next line feed ends */
	__u8 last;		/* enum sip_hdr of the line before (folding) */
	__u8 seen;		/* SIP_SEEN_* */
	__u8 done;		/* verdict is final */
	__u8 pad;
	__u16 cur;		/* next payload byte the line scan looks at */
};
SIPLB_STATIC_ASSERT(sizeof(struct sip_msg) == 30, "sip_msg layout");

/* Details of the top Via value: sent-by host[:port] and the branch parameter. */
struct sip_via {
	__u16 sent_by_off;
	__u16 sent_by_len;
	__u16 branch_off;	/* 0/0 when there is no branch */
	__u16 branch_len;
	/* scanner state, private to sip_via(): kept in memory, see SIP_VOL */
	__u16 s_tok;
	__u8 s_st;
	__u8 s_slashes;
	__u8 s_bracket;
	__u8 s_notbr;
	__u8 s_done;
	__u8 s_pad;
};

/* The To address-of-record: user@host (or host) of the URI, no scheme, port or params. */
struct sip_aor {
	__u16 off;
	__u16 len;		/* 0 when the To value holds no usable URI */
	/* scanner state, private to sip_to_aor(): kept in memory, see SIP_VOL */
	__u16 s_us;
	__u16 s_ue;
	__u16 s_colon;
	__u16 s_at;
	__u16 s_tok;
	__u16 s_semi;
	__u8 s_st;
	__u8 s_prev;
	__u8 s_angle;
	__u8 s_pad[3];
};

/*
 * The window: in BPF the XDP context (packet pointers cannot cross a global
 * function call), in userspace a plain buffer.
 */
#ifdef __bpf__
#define SIP_WIN_PARAM struct xdp_md *ctx
#define SIP_WIN_ARG ctx
#define SIP_WIN_OPEN                                              \
	const __u8 *data = (const __u8 *)(long)ctx->data;         \
	const __u8 *end = (const __u8 *)(long)ctx->data_end
/* The same, read again: packet pointers without what the verifier learnt. */
#define SIP_WIN_FRESH                                                         \
	const __u8 *data = (const __u8 *)(long)*(volatile __u32 *)&ctx->data; \
	const __u8 *end = (const __u8 *)(long)*(volatile __u32 *)&ctx->data_end
#else
struct sip_win {
	const __u8 *data;
	const __u8 *end;
};
#define SIP_WIN_PARAM const struct sip_win *win
#define SIP_WIN_ARG win
#define SIP_WIN_OPEN                      \
	const __u8 *data = win->data;     \
	const __u8 *end = win->end
#define SIP_WIN_FRESH SIP_WIN_OPEN
#endif

SIPLB_INLINE int sip_is_ws(__u8 c)
{
	return c == ' ' || c == '\t';
}

/*
 * Scanner state kept in caller memory: the verifier does not track values in
 * such memory, so every iteration of a scan loop starts from one verifier
 * state instead of one per combination of scanner variables; verification
 * stays linear in the bytes scanned rather than exponential.
 */
#define SIP_VOL(x) (*(volatile __typeof__(x) *)&(x))

/* Byte-wise little-endian masks: line feeds in w become 0x80 in their byte. */
#define SIP_ONES 0x0101010101010101ULL
#define SIP_LOW7 0x7f7f7f7f7f7f7f7fULL
#define SIP_HIGH 0x8080808080808080ULL

/* Exact (no false positive) per-byte test for byte value b: 0x80 where equal. */
SIPLB_INLINE __u64 sip_bytes_eq(__u64 w, __u64 b)
{
	__u64 t = w ^ (b * SIP_ONES);

	return ~(((t & SIP_LOW7) + SIP_LOW7) | t) & SIP_HIGH;
}

/* Index (0..7) of the lowest byte flagged 0x80 in a non-zero mask. */
SIPLB_INLINE __u32 sip_first_byte(__u64 mask)
{
	__u64 low = mask & (~mask + 1);

	return (__u32)(((low >> 7) * 0x0001020304050607ULL) >> 56);
}

/* Byte at payload offset x, or -1 past the end. */
#define SIP_BYTE(base, end, x, out)                                   \
	do {                                                          \
		const __u8 *q__ = (base) + ((x) & SIP_POS_MASK);      \
		SIPLB_BARRIER_VAR(q__);                               \
		if (q__ + 1 > (end))                                  \
			(out) = -1;                                   \
		else                                                  \
			(out) = *q__;                                 \
	} while (0)

/*
 * Eight bytes at payload offset x (< payload length), zero-padded past the
 * end. Branch-free (one verifier path, whatever the call site): within 8
 * bytes of the end it loads the last 8 bytes of the payload and shifts.
 * Payloads shorter than 8 bytes read as zeros: see sip_word_short().
 */
SIPLB_INLINE __u64 sip_word(const __u8 *base, const __u8 *end, __u32 x)
{
	__s64 plen = end - base, room, back;
	const __u8 *q;
	__u32 at;

	SIPLB_BARRIER_VAR(plen);
	room = plen - 8 - x;		/* < 0: that many bytes short */
	back = room & (room >> 63);	/* min(room, 0) */
	back += 8;
	back = (back & ~(back >> 63)) - 8;	/* max(back, -8): x == plen reads 0 */
	at = x + back;
	SIPLB_BARRIER_VAR(at);
	q = base + (at & SIP_POS_MASK);
	SIPLB_BARRIER_VAR(q);
	if (q + 8 > end)
		return 0;
	/* two shifts: a shift by 64 is undefined, by 32 + 32 gives 0 */
	return (SIPLB_LD64(q) >> ((-back * 4) & 63)) >> ((-back * 4) & 63);
}

/* sip_word() for the start of tiny datagrams, byte by byte. */
SIPLB_INLINE __u64 sip_word_short(const __u8 *base, const __u8 *end, __u32 x)
{
	__u64 w = 0;
	int i;

	for (i = 0; i < 8; i++) {
		const __u8 *b = base + ((x + i) & SIP_POS_MASK);

		SIPLB_BARRIER_VAR(b);
		if (b + 1 > end)
			break;
		w |= (__u64)*b << (8 * i);
	}
	return w;
}

/* The 0x80 flags of the 8 bytes of a sip_bytes_eq() mask gathered into one byte (no carries). */
#define SIP_GATHER(w) (((w) >> 7) * 0x0102040810204080ULL >> 56)

/* One bit per byte: bit k set when byte k of the SIP_CHUNK bytes at p is a line feed. */
SIPLB_INLINE __u64 sip_lf_bits(const __u8 *p)
{
	return SIP_GATHER(sip_bytes_eq(SIPLB_LD64(p), '\n')) |
	       SIP_GATHER(sip_bytes_eq(SIPLB_LD64(p + 8), '\n')) << 8 |
	       SIP_GATHER(sip_bytes_eq(SIPLB_LD64(p + 16), '\n')) << 16 |
	       SIP_GATHER(sip_bytes_eq(SIPLB_LD64(p + 24), '\n')) << 24;
}

/*
 * Byte tables of the line scan, in one array (clang 14 gives a second static
 * array of .rodata a wrong BTF offset, and BPF global functions need BTF):
 * [0, 256) the class of a line's first byte and [SIP_TBL_C1, +256) that of its
 * second, as bits that meet (a non-zero AND) when the line may be Call-ID, Via
 * or To, or ends the headers: "ca" (Call-ID), "vi" (Via), "to" (To), or c i v
 * t followed by ':', space or tab (compact forms and "Via :"), or a first byte
 * CR or LF (the blank line, or a malformed line end: SIP_C_END meets any
 * second byte). One load each and an AND: no chain of compares per line feed.
 * [SIP_TBL_DEBRUIJN, +32) the bit index for each value of sip_ctz32()'s hash.
 */
#define SIP_C_A 0x01		/* second byte 'a': "Call-ID" */
#define SIP_C_I 0x02		/* second byte 'i': "Via" */
#define SIP_C_O 0x04		/* second byte 'o': "To" */
#define SIP_C_SHORT 0x08	/* second byte ':', space or tab: a compact form */
#define SIP_C_END 0x10		/* first byte CR or LF */
#define SIP_TBL_DEBRUIJN 256
#define SIP_TBL_C1 288
#define SIP_DEBRUIJN32 0x077CB531u
#define SIP_C1(c) [SIP_TBL_C1 + (c)]
static const __u8 sip_tbl[SIP_TBL_C1 + 256] __attribute__((unused)) = {
	['c'] = SIP_C_A, ['C'] = SIP_C_A,
	['v'] = SIP_C_I | SIP_C_SHORT, ['V'] = SIP_C_I | SIP_C_SHORT,
	['t'] = SIP_C_O | SIP_C_SHORT, ['T'] = SIP_C_O | SIP_C_SHORT,
	['i'] = SIP_C_SHORT, ['I'] = SIP_C_SHORT,
	['\r'] = SIP_C_END, ['\n'] = SIP_C_END,
	[SIP_TBL_DEBRUIJN] =
	0, 1, 28, 2, 29, 14, 24, 3, 30, 22, 20, 15, 25, 17, 4, 8,
	31, 27, 13, 23, 21, 19, 16, 7, 26, 12, 18, 6, 11, 5, 10, 9,
	SIP_C1('a') = SIP_C_A, SIP_C1('A') = SIP_C_A,
	SIP_C1('i') = SIP_C_I, SIP_C1('I') = SIP_C_I,
	SIP_C1('o') = SIP_C_O, SIP_C1('O') = SIP_C_O,
	SIP_C1(':') = SIP_C_SHORT, SIP_C1(' ') = SIP_C_SHORT, SIP_C1('\t') = SIP_C_SHORT,
};
#undef SIP_C1

/* Non-zero when a line starting with bytes c0 c1 may be Call-ID, Via or To, or ends the headers. */
SIPLB_INLINE __u8 sip_line_class(__u8 c0, __u8 c1)
{
	return sip_tbl[c0] & (sip_tbl[SIP_TBL_C1 + c1] | SIP_C_END);
}

/* Index of the single set bit of b (a power of two below 2^32). */
SIPLB_INLINE __u32 sip_ctz32(__u64 b)
{
	return sip_tbl[SIP_TBL_DEBRUIJN + ((((__u32)b * SIP_DEBRUIJN32) >> 27) & 31)];
}

SIPLB_INLINE void sip_set(struct sip_msg *m, __u8 verdict, __u8 reason)
{
	m->verdict = verdict;
	m->reason = reason;
	m->done = 1;
}

/* Method of a request line whose token has len bytes; w0 is its first 8 bytes. */
SIPLB_INLINE __u8 sip_method_of(__u64 w0, __u64 w1, __u32 len)
{
#define M(n) ((n) >= 8 ? ~0ULL : ((1ULL << (8 * (n))) - 1))
	switch (len) {
	case 3:
		if ((w0 & M(3)) == SIPLB_W8('A', 'C', 'K', 0, 0, 0, 0, 0))
			return SIP_METHOD_ACK;
		if ((w0 & M(3)) == SIPLB_W8('B', 'Y', 'E', 0, 0, 0, 0, 0))
			return SIP_METHOD_BYE;
		break;
	case 4:
		if ((w0 & M(4)) == SIPLB_W8('I', 'N', 'F', 'O', 0, 0, 0, 0))
			return SIP_METHOD_INFO;
		break;
	case 5:
		if ((w0 & M(5)) == SIPLB_W8('P', 'R', 'A', 'C', 'K', 0, 0, 0))
			return SIP_METHOD_PRACK;
		if ((w0 & M(5)) == SIPLB_W8('R', 'E', 'F', 'E', 'R', 0, 0, 0))
			return SIP_METHOD_REFER;
		break;
	case 6:
		if ((w0 & M(6)) == SIPLB_W8('I', 'N', 'V', 'I', 'T', 'E', 0, 0))
			return SIP_METHOD_INVITE;
		if ((w0 & M(6)) == SIPLB_W8('C', 'A', 'N', 'C', 'E', 'L', 0, 0))
			return SIP_METHOD_CANCEL;
		if ((w0 & M(6)) == SIPLB_W8('U', 'P', 'D', 'A', 'T', 'E', 0, 0))
			return SIP_METHOD_UPDATE;
		if ((w0 & M(6)) == SIPLB_W8('N', 'O', 'T', 'I', 'F', 'Y', 0, 0))
			return SIP_METHOD_NOTIFY;
		break;
	case 7:
		if ((w0 & M(7)) == SIPLB_W8('O', 'P', 'T', 'I', 'O', 'N', 'S', 0))
			return SIP_METHOD_OPTIONS;
		if ((w0 & M(7)) == SIPLB_W8('M', 'E', 'S', 'S', 'A', 'G', 'E', 0))
			return SIP_METHOD_MESSAGE;
		if ((w0 & M(7)) == SIPLB_W8('P', 'U', 'B', 'L', 'I', 'S', 'H', 0))
			return SIP_METHOD_PUBLISH;
		break;
	case 8:
		if (w0 == SIPLB_W8('R', 'E', 'G', 'I', 'S', 'T', 'E', 'R'))
			return SIP_METHOD_REGISTER;
		break;
	case 9:
		if (w0 == SIPLB_W8('S', 'U', 'B', 'S', 'C', 'R', 'I', 'B') &&
		    (w1 & 0xff) == 'E')
			return SIP_METHOD_SUBSCRIBE;
		break;
	}
	return SIP_METHOD_OTHER;
#undef M
}

/* RFC 3261 token characters (method names). */
SIPLB_INLINE int sip_is_token(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	switch (c) {
	case '-': case '.': case '!': case '%': case '*':
	case '_': case '+': case '`': case '\'': case '~':
		return 1;
	}
	return 0;
}

/* Classify the start line. Returns 1 when the verdict is final. */
SIPLB_INLINE int sip_start(const __u8 *base, const __u8 *end, __u32 plen,
			   struct sip_msg *m)
{
	__u64 w0, w1;
	__u32 i;

	if (base + 8 <= end)
		w0 = SIPLB_LD64(base);
	else
		w0 = sip_word_short(base, end, 0);
	/* RFC 5626 keepalives: a CRLF pong or a double-CRLF ping, nothing else. */
	if ((plen == 2 && (w0 & 0xffff) == 0x0a0d) ||
	    (plen == 4 && (w0 & 0xffffffff) == 0x0a0d0a0d)) {
		m->kind = SIP_KIND_KEEPALIVE;
		sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_KEEPALIVE);
		return 1;
	}
	if (plen < 16) {
		sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_NOT_SIP);
		return 1;
	}
	w1 = sip_word(base, end, 8);

	/* "SIP/2.0 " with the letters folded to lower case. */
	if ((w0 | 0x202020ULL) == SIPLB_W8('s', 'i', 'p', '/', '2', '.', '0', ' ')) {
		__u32 d0 = (w1 & 0xff) - '0', d1 = ((w1 >> 8) & 0xff) - '0';
		__u32 d2 = ((w1 >> 16) & 0xff) - '0';
		__u8 sp = (w1 >> 24) & 0xff;

		m->kind = SIP_KIND_RESPONSE;
		if (d0 < 1 || d0 > 6 || d1 > 9 || d2 > 9 ||
		    (sp != ' ' && sp != '\r' && sp != '\n')) {
			sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_MALFORMED);
			return 1;
		}
		m->status = d0 * 100 + d1 * 10 + d2;
		return 0;
	}

	/* Request: a token, one space, then the Request-URI. */
	for (i = 0; i < SIP_METHOD_MAX; i++) {
		int c;

		SIP_BYTE(base, end, i, c);
		if (c == ' ')
			break;
		if (!sip_is_token(c)) {
			sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_NOT_SIP);
			return 1;
		}
	}
	if (i == 0 || i == SIP_METHOD_MAX) {
		sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_NOT_SIP);
		return 1;
	}
	m->kind = SIP_KIND_REQUEST;
	m->method_len = i;
	m->method = sip_method_of(w0, w1, i);
	return 0;		/* " SIP/2.0" is checked at the first line feed */
}

/* 0x80 in each byte of w that is not a space or a tab. */
SIPLB_INLINE __u64 sip_not_ws(__u64 w)
{
	return ~(sip_bytes_eq(w, ' ') | sip_bytes_eq(w, '\t')) & SIP_HIGH;
}

/*
 * Skip up to SIP_WS_MAX spaces and tabs from x, 8 bytes at a time (no byte
 * loop: one verifier path). Returns the first other offset, or -1.
 */
SIPLB_INLINE int sip_skip_ws(const __u8 *base, const __u8 *end, __u32 x)
{
	__u64 nw = sip_not_ws(sip_word(base, end, x));

	if (nw)
		return x + sip_first_byte(nw);
	nw = sip_not_ws(sip_word(base, end, x + 8));
	if (nw)
		return x + 8 + sip_first_byte(nw);
	return -1;
}

/*
 * A line starts at s. If its name (lower case name in nm, n bytes) is the
 * header's, returns the offset of its value (after the colon and whitespace);
 * 0 if not this header; -1 if the whitespace is too long to follow here.
 */
SIPLB_INLINE int sip_name_is(const __u8 *base, const __u8 *end, __u32 s,
			     __u64 w, __u64 nm, __u32 n)
{
	__u64 mask = (1ULL << (8 * n)) - 1;
	__u8 next = (w >> (8 * n)) & 0xff;
	int x, c;

	if (((w | 0x2020202020202020ULL) ^ nm) & mask)
		return 0;
	if (next != ':' && !sip_is_ws(next))
		return 0;
	if (next == ':') {
		/* the usual "Name: value" */
		__u64 after = n < 6 ? w >> (8 * n + 8) : sip_word(base, end, s + n + 1);
		__u8 a = after & 0xff, b = (after >> 8) & 0xff;

		if (a == ' ' && !sip_is_ws(b))
			return s + n + 2;
		if (!sip_is_ws(a))
			return s + n + 1;
	}
	x = sip_skip_ws(base, end, s + n);
	if (x < 0)
		return -1;
	SIP_BYTE(base, end, x, c);
	if (c != ':')
		return 0;
	return sip_skip_ws(base, end, x + 1);
}

/* Is there a CR in payload bytes [vs, ve)? (A bare CR is no line end in SIP.) */
SIPLB_INLINE int sip_has_cr(const __u8 *base, const __u8 *end, __u32 vs, __u32 ve)
{
	__u32 x = vs & SIP_POS_MASK;

	/* whole words: plain loads; x carried masked, so the loop converges */
	while (x + 8 <= ve && SIPLB_CAN_LOOP) {
		const __u8 *q = base + x;

		SIPLB_BARRIER_VAR(q);
		if (q + 8 > end)
			return 0;
		if (sip_bytes_eq(SIPLB_LD64(q), '\r'))
			return 1;
		x = (x + 8) & SIP_POS_MASK;
	}
	/* the last 1..7 bytes, zero-padded */
	if (x < ve && (sip_bytes_eq(sip_word(base, end, x), '\r') &
		       ((1ULL << (8 * ((ve - x) & 7))) - 1)))
		return 1;
	return 0;
}

/*
 * End of a value that runs to the line feed at nl: before the CR of CRLF and
 * before trailing whitespace, never before vs. Returns -1 when there is more
 * trailing whitespace than SIP_TRIM_MAX.
 */
SIPLB_INLINE int sip_value_end(const __u8 *base, const __u8 *end, __u32 vs, __u32 nl)
{
	const __u8 *q = base + ((nl - 2) & SIP_POS_MASK);
	__u32 ve = nl;
	__u64 w, nw;
	int c;

	/* the usual end, "x CR LF": nothing to trim but the CR */
	SIPLB_BARRIER_VAR(q);
	if (nl >= vs + 2 && q + 2 <= end && q[1] == '\r' && q[0] != '\r' && !sip_is_ws(q[0]))
		return nl - 1;
	if (ve > vs) {
		SIP_BYTE(base, end, ve - 1, c);
		if (c == '\r')
			ve--;
	}
	if (ve <= vs)
		return vs;
	/* the 8 bytes before ve, last byte first: count the whitespace */
	w = ve >= 8 ? __builtin_bswap64(sip_word(base, end, ve - 8)) : 0;
	nw = sip_not_ws(w);
	if (nw)
		ve -= sip_first_byte(nw);
	else if (ve >= 16 && (nw = sip_not_ws(__builtin_bswap64(sip_word(base, end, ve - 16)))))
		ve -= 8 + sip_first_byte(nw);
	else if (ve >= 16)
		return -1;
	return ve > vs ? ve : vs;
}

/* Request lines end in " SIP/2.0" (letters in any case) before CRLF at nl. */
SIPLB_INLINE int sip_request_line_ok(const __u8 *base, const __u8 *end, __u32 nl,
				     __u32 method_len)
{
	__u32 ve = nl;
	__u64 w;
	int c;

	if (ve > 0) {
		SIP_BYTE(base, end, ve - 1, c);
		if (c == '\r')
			ve--;
	}
	if (ve < 9u + method_len)
		return 0;
	w = sip_word(base, end, ve - 8);
	return (w | 0x20202000ULL) == SIPLB_W8(' ', 's', 'i', 'p', '/', '2', '.', '0');
}

/*
 * A header line that may be Call-ID, Via or To starts at s: match its name,
 * note where its value starts, catch a second Call-ID. The value's end is
 * noted at the next line feed (sip_lines), its trim done in sip_finish().
 * Returns 1 when the verdict is final. Inline in the line scan: as a function
 * of its own it verifies in a quarter of the instructions but costs a BPF
 * call (~9 ns here) for each of the 3-4 lines per message that get here.
 */
SIPLB_INLINE int sip_hdr(const __u8 *base, const __u8 *end, __u32 s, struct sip_msg *m)
{
	const __u8 *q = base + (s & SIP_POS_MASK);
	__u8 type = SIP_HDR_OTHER, lc;
	__u64 w;
	int v = 0;

	SIPLB_BARRIER_VAR(q);
	if (q + 8 <= end)
		w = SIPLB_LD64(q);
	else
		w = sip_word(base, end, s);
	lc = (w & 0xff) | 0x20;
	if (lc == 'c') {
		/* "call-id"; byte 4 must really be '-' (a CR would fold to it) */
		if (((w >> 32) & 0xff) == '-')
			v = sip_name_is(base, end, s, w,
					SIPLB_W8('c', 'a', 'l', 'l', '-', 'i', 'd', 0), 7);
		type = SIP_HDR_CALLID;
	} else if (lc == 'i') {
		v = sip_name_is(base, end, s, w, 'i', 1);
		type = SIP_HDR_CALLID;
	} else if (lc == 'v') {
		v = sip_name_is(base, end, s, w, SIPLB_W8('v', 'i', 'a', 0, 0, 0, 0, 0), 3);
		if (!v)
			v = sip_name_is(base, end, s, w, 'v', 1);
		type = SIP_HDR_VIA;
	} else if (lc == 't') {
		v = sip_name_is(base, end, s, w, SIPLB_W8('t', 'o', 0, 0, 0, 0, 0, 0), 2);
		if (!v)
			v = sip_name_is(base, end, s, w, 't', 1);
		type = SIP_HDR_TO;
	}
	if (v < 0) {
		sip_set(m, SIP_VERDICT_SLOW, SIPLB_SLOW_LONG_WS);
		return 1;
	}
	if (!v)
		return 0;
	switch (type) {
	case SIP_HDR_CALLID:
		if (m->seen & SIP_SEEN_CALLID) {
			sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_DUP_CALLID);
			return 1;
		}
		m->seen |= SIP_SEEN_CALLID;
		m->callid_off = v;
		break;
	case SIP_HDR_VIA:
		if (m->seen & SIP_SEEN_VIA)
			return 0;	/* only the top Via counts */
		m->seen |= SIP_SEEN_VIA;
		m->via_off = v;
		break;
	case SIP_HDR_TO:
		if (m->seen & SIP_SEEN_TO)
			return 0;
		m->seen |= SIP_SEEN_TO;
		m->to_off = v;
		break;
	default:
		return 0;
	}
	m->open = type;
	return 0;
}

/*
 * All headers seen: trim the values (their raw ends were noted at their line
 * feeds), refuse a bare CR in the Call-ID, and give the verdict. Returns it.
 */
SIPLB_INLINE int sip_finish(SIP_WIN_PARAM, __u32 off, struct sip_msg *m)
{
	SIP_WIN_OPEN;
	const __u8 *base;
	int ve;

	if (!m || off > SIP_MAX_PAYLOAD_OFF)
		return SIP_VERDICT_DROP;
	SIPLB_CLAMP(off, SIP_MAX_PAYLOAD_OFF);
	base = data + off;
	if (base > end)
		return SIP_VERDICT_DROP;
	if (m->seen & SIP_SEEN_CALLID) {
		ve = sip_value_end(base, end, m->callid_off, m->callid_off + m->callid_len);
		if (ve < 0)
			goto long_ws;
		m->callid_len = ve - m->callid_off;
		/* re-read from memory: one verifier state whatever the trim did */
		if (sip_has_cr(base, end, SIP_VOL(m->callid_off),
			       SIP_VOL(m->callid_off) + SIP_VOL(m->callid_len))) {
			m->hdr_end = 0;	/* nothing of it is to be trusted */
			sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_MALFORMED);
			return m->verdict;
		}
	}
	if (m->seen & SIP_SEEN_VIA) {
		ve = sip_value_end(base, end, SIP_VOL(m->via_off),
				   SIP_VOL(m->via_off) + SIP_VOL(m->via_len));
		if (ve < 0)
			goto long_ws;
		m->via_len = ve - m->via_off;
	}
	if (m->seen & SIP_SEEN_TO) {
		ve = sip_value_end(base, end, SIP_VOL(m->to_off),
				   SIP_VOL(m->to_off) + SIP_VOL(m->to_len));
		if (ve < 0)
			goto long_ws;
		m->to_len = ve - m->to_off;
	}
	if (!(m->seen & SIP_SEEN_CALLID) || m->callid_len == 0)
		sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_NO_CALLID);
	else if (!(m->seen & SIP_SEEN_VIA) || m->via_len == 0)
		sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_NO_VIA);
	else
		sip_set(m, SIP_VERDICT_FAST, 0);
	return m->verdict;
long_ws:
	/* the values are not trimmed: report none */
	m->hdr_end = 0;
	m->callid_len = 0;
	m->via_len = 0;
	m->to_len = 0;
	sip_set(m, SIP_VERDICT_SLOW, SIPLB_SLOW_LONG_WS);
	return m->verdict;
}

/* Are the two bytes before the line feed at nl (>= 2) both CR? */
SIPLB_INLINE int sip_crcr(const __u8 *base, const __u8 *end, __u32 nl)
{
	const __u8 *q = base + ((nl - 2) & SIP_POS_MASK);

	SIPLB_BARRIER_VAR(q);
	return q + 2 <= end && q[0] == '\r' && q[1] == '\r';
}

/*
 * The line feed at nl ends a line: note the value end of the header it held,
 * check the request line (first line feed), find the blank line, catch CR CR
 * LF and folding of a header we need, hand lines that may be Call-ID/Via/To
 * to sip_hdr(). Returns 1 when the scan is over (headers ended, or the
 * verdict is final).
 */
SIPLB_INLINE int sip_at_lf(const __u8 *base, const __u8 *end, __u32 nl,
			   struct sip_msg *m)
{
	const __u8 *q;
	__u32 s;
	__u8 c0, c1;

	s = nl + 1;
	/* the line before this line feed held the value of an open header */
	m->last = m->open;
	if (m->open == SIP_HDR_CALLID)
		m->callid_len = nl - m->callid_off;
	else if (m->open == SIP_HDR_VIA)
		m->via_len = nl - m->via_off;
	else if (m->open == SIP_HDR_TO)
		m->to_len = nl - m->to_off;
	m->open = 0;
	if (!m->lines) {
		m->lines = 1;
		if (m->kind == SIP_KIND_REQUEST &&
		    !sip_request_line_ok(base, end, nl, m->method_len)) {
			sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_NOT_SIP);
			return 1;
		}
	} else if (nl >= 2 && sip_crcr(base, end, nl)) {
		/* CR CR LF: a bare CR before the line end */
		sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_MALFORMED);
		return 1;
	}
	q = base + (s & SIP_POS_MASK);
	SIPLB_BARRIER_VAR(q);
	if (q + 2 > end) {
		if (q + 1 <= end && *q == '\n') {
			m->hdr_end = s + 1;
			return 1;
		}
		sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_TRUNCATED);
		return 1;
	}
	c0 = q[0];
	c1 = q[1];
	if (c0 == '\n') {
		m->hdr_end = s + 1;
		return 1;
	}
	if (c0 == '\r') {
		if (c1 == '\n') {
			m->hdr_end = s + 2;
			return 1;
		}
		sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_MALFORMED);
		return 1;
	}
	if (sip_is_ws(c0)) {
		if (m->last) {
			/* a continuation of Call-ID, top Via or To */
			sip_set(m, SIP_VERDICT_SLOW, SIPLB_SLOW_FOLDED);
			return 1;
		}
		return 0;
	}
	if (sip_line_class(c0, c1))
		return sip_hdr(base, end, s, m);
	return 0;
}

/*
 * The line scan of sip_scan(), after the start line: SIP_CHUNK bytes per
 * iteration (one bounds check), their line feeds gathered into a bit map and
 * taken in order. Most line feeds are settled right here with one 8-byte
 * load around them: no value open, no CR CR before it, and the next line
 * cannot be Call-ID, Via or To nor end the headers (its first two bytes, by
 * sip_line_class). The others go through sip_at_lf(). Both loops
 * run under may_goto; what they carry is bounded (the chunk's offset lives in
 * m->cur, the verifier does not follow it, so the loop converges instead of
 * unrolling), and the scan starts from fresh packet pointers, so that it is
 * verified once, not once per way the start line ended.
 */
SIPLB_INLINE void sip_lines(SIP_WIN_PARAM, __u32 off, struct sip_msg *m)
{
	SIP_WIN_FRESH;
	const __u8 *base, *q;
	__u64 plen, lim, pos, at, keep, bits, b;
	__u32 nl;

	SIPLB_CLAMP(off, SIP_MAX_PAYLOAD_OFF);
	base = data + off;
	if (base > end)
		return;
	plen = end - base;
	if (plen < SIP_MIN_LEN)
		return;
	lim = plen < SIP_WINDOW ? plen : SIP_WINDOW;
	while (SIPLB_CAN_LOOP) {
		pos = SIP_VOL(m->cur);
		if (pos >= lim)
			break;
		at = pos;
		keep = 0xffffffffULL;
		if (pos + SIP_CHUNK > lim) {
			/* the last bytes: the payload's last 32, from pos to lim */
			at = plen - SIP_CHUNK;
			if (pos < at)
				at = pos;
			keep = (keep << (pos - at)) & (keep >> (SIP_CHUNK - (lim - at)));
		}
		SIPLB_CLAMP(at, SIP_POS_MASK);
		q = base + at;
		SIPLB_BARRIER_VAR(q);
		if (q + SIP_CHUNK > end)
			break;
		SIP_VOL(m->cur) = at + SIP_CHUNK;
		bits = sip_lf_bits(q) & keep;
		while (bits && SIPLB_CAN_LOOP) {
			b = bits & -bits;
			bits ^= b;
			nl = (at + sip_ctz32(b)) & SIP_POS_MASK;
			/* CR, CR?, LF, the next line's first bytes */
			q = base + ((nl - 2) & SIP_POS_MASK);
			SIPLB_BARRIER_VAR(q);
			if (nl >= 2 && q + 8 <= end &&
			    !(SIP_VOL(m->open) | (SIP_VOL(m->lines) ^ 1))) {
				__u64 x = SIPLB_LD64(q);

				if ((x & 0xffff) != 0x0d0d &&
				    !sip_line_class(x >> 24, x >> 32))
					continue;
			}
			if (sip_at_lf(base, end, nl, m))
				return;
		}
	}
}

/*
 * A datagram too short for a SIP message: not SIP, or a truncated one if its
 * start line is one. Out of line: rare, and its byte loop would otherwise be
 * verified again for each way sip_scan() gets here.
 */
SIPLB_SUBPROG int sip_tiny(SIP_WIN_PARAM, __u32 off, struct sip_msg *m)
{
	SIP_WIN_OPEN;
	const __u8 *base;
	__u32 i, plen;

	if (!m || off > SIP_MAX_PAYLOAD_OFF)
		return SIP_VERDICT_DROP;
	SIPLB_CLAMP(off, SIP_MAX_PAYLOAD_OFF);
	base = data + off;
	if (base > end)
		return SIP_VERDICT_DROP;
	plen = end - base;
	for (i = 0; i < SIP_MIN_LEN; i++) {
		int c;

		SIP_BYTE(base, end, i, c);
		if (c < 0 || c == '\n')
			break;
	}
	if (i >= plen || (m->kind == SIP_KIND_REQUEST &&
			  !sip_request_line_ok(base, end, i, m->method_len)))
		sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_NOT_SIP);
	else
		sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_TRUNCATED);
	return m->verdict;
}

/*
 * Scan the UDP payload that starts off bytes into the window. Fills m and
 * returns its verdict (enum sip_verdict).
 */
SIPLB_SUBPROG int sip_scan(SIP_WIN_PARAM, __u32 off, struct sip_msg *m)
{
	SIP_WIN_OPEN;
	const __u8 *base;
	__u32 plen, lim;

	if (!m)
		return SIP_VERDICT_DROP;
	__builtin_memset(m, 0, sizeof(*m));
	if (off > SIP_MAX_PAYLOAD_OFF) {
		sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_BAD_L3);
		return SIP_VERDICT_DROP;
	}
	SIPLB_CLAMP(off, SIP_MAX_PAYLOAD_OFF);
	base = data + off;
	if (base > end) {
		sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_BAD_L3);
		return SIP_VERDICT_DROP;
	}
	plen = end - base;
	if (sip_start(base, end, plen, m))
		return m->verdict;
	if (plen < SIP_MIN_LEN)
		return sip_tiny(SIP_WIN_ARG, off, m);

	sip_lines(SIP_WIN_ARG, off, m);
	lim = plen < SIP_WINDOW ? plen : SIP_WINDOW;
	if (SIP_VOL(m->done))
		return m->verdict;
	if (SIP_VOL(m->hdr_end))
		return sip_finish(SIP_WIN_ARG, off, m);
	if (!SIP_VOL(m->lines))		/* no line feed after the start line */
		sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_NOT_SIP);
	else if (SIP_VOL(m->cur) < lim)
		sip_set(m, SIP_VERDICT_SLOW, SIPLB_SLOW_MANY_LINES);
	else if (plen > SIP_WINDOW)
		sip_set(m, SIP_VERDICT_SLOW, SIPLB_SLOW_BEYOND_WINDOW);
	else
		sip_set(m, SIP_VERDICT_DROP, SIPLB_DROP_TRUNCATED);
	return m->verdict;
}

/* "branch", lower case, as a little-endian word. */
#define SIP_BRANCH_W SIPLB_W8('b', 'r', 'a', 'n', 'c', 'h', 0, 0)

/* Via scanner states: one pass, one byte per step (one loop keeps the verifier linear). */
enum sip_via_state {
	VS_PROTO,	/* "SIP/2.0/" up to the second '/' */
	VS_TWS,		/* whitespace before the transport */
	VS_TRANS,	/* transport token */
	VS_SWS,		/* whitespace before sent-by */
	VS_SB,		/* sent-by */
	VS_PARAMS,	/* between parameters */
	VS_PNWS,	/* whitespace after ';' */
	VS_PNAME,	/* parameter name */
	VS_PEQ,		/* whitespace between name and '=' */
	VS_PVWS,	/* whitespace after the branch's '=' */
	VS_BRANCH,	/* branch value */
	VS_PSKIP,	/* another parameter's value */
	VS_PQUOTE,	/* a quoted parameter value */
	VS_PQESC,	/* after a backslash in a quoted value */
};

/* Save the Via scanner's state and report the via-parm complete. */
SIPLB_INLINE int sip_via_done(struct sip_via *v, __u8 st, __u32 slashes, __u32 tok,
			      __u32 bracket, __u32 notbr)
{
	SIP_VOL(v->s_st) = st;
	SIP_VOL(v->s_slashes) = slashes;
	SIP_VOL(v->s_tok) = tok;
	SIP_VOL(v->s_bracket) = bracket;
	SIP_VOL(v->s_notbr) = notbr;
	v->s_done = 1;
	return 1;
}

/*
 * One byte c at payload offset x of the top Via value; state in *v. Returns
 * 1 when the first via-parm is complete, 0 to go on. A function of its own:
 * the verifier checks the state machine once, not once per byte.
 */
SIPLB_SUBPROG int sip_via_step(__u32 x, int c, struct sip_via *v)
{
	__u32 slashes, tok, bracket, notbr;
	__u8 st;

	if (!v)
		return 1;
	st = SIP_VOL(v->s_st);
	slashes = SIP_VOL(v->s_slashes);
	tok = SIP_VOL(v->s_tok);
	bracket = SIP_VOL(v->s_bracket);
	notbr = SIP_VOL(v->s_notbr);
	switch (st) {
	case VS_PROTO:
		if (c == '/' && ++slashes == 2)
			st = VS_TWS;
		break;
	case VS_TWS:
		if (!sip_is_ws(c))
			st = VS_TRANS;
		break;
	case VS_TRANS:
		if (sip_is_ws(c))
			st = VS_SWS;
		break;
	case VS_SWS:
		if (!sip_is_ws(c)) {
			v->sent_by_off = x;
			bracket = c == '[';
			st = VS_SB;
		}
		break;
	case VS_SB:
		if (bracket) {
			bracket = c != ']';
			break;
		}
		if (c == ';' || c == ',' || sip_is_ws(c)) {
			v->sent_by_len = x - v->sent_by_off;
			if (c == ',')
				return sip_via_done(v, st, slashes, tok, bracket, notbr);
			st = c == ';' ? VS_PNWS : VS_PARAMS;
		}
		break;
	case VS_PARAMS:
	case VS_PSKIP:
		if (c == ',')
			return sip_via_done(v, st, slashes, tok, bracket, notbr);
		if (c == ';')
			st = VS_PNWS;
		else if (c == '"' && st == VS_PSKIP)
			st = VS_PQUOTE;
		break;
	case VS_PQUOTE:
		if (c == '"')
			st = VS_PSKIP;
		else if (c == '\\')
			st = VS_PQESC;
		break;
	case VS_PQESC:
		st = VS_PQUOTE;
		break;
	case VS_PNWS:
		if (c == ',')
			return sip_via_done(v, st, slashes, tok, bracket, notbr);
		if (!sip_is_ws(c) && c != ';') {
			tok = x;
			notbr = (c | 0x20) ^ 'b';
			st = c == '=' ? VS_PSKIP : VS_PNAME;
		}
		break;
	case VS_PNAME:
	case VS_PEQ:
		if (st == VS_PNAME && !(c == '=' || c == ';' || c == ',' ||
					sip_is_ws(c))) {
			/* compare with "branch" as the name goes by */
			__u32 k = x - tok;

			if (k < 6)
				notbr |= (c | 0x20) ^ ((SIP_BRANCH_W >> (8 * k)) & 0xff);
			else
				notbr = 1;
			break;
		}
		if (st == VS_PNAME)
			notbr = notbr || x - tok != 6;	/* 0 = it is "branch" */
		if (c == '=')
			st = !notbr ? VS_PVWS : VS_PSKIP;
		else if (c == ';')
			st = VS_PNWS;
		else if (c == ',')
			return sip_via_done(v, st, slashes, tok, bracket, notbr);
		else if (sip_is_ws(c))
			st = VS_PEQ;
		else
			st = VS_PSKIP;
		break;
	case VS_PVWS:
		if (sip_is_ws(c))
			break;
		v->branch_off = x;
		st = VS_BRANCH;
		/* an empty value ends at once */
		__attribute__((fallthrough));
	case VS_BRANCH:
		if (c == ';' || c == ',' || sip_is_ws(c)) {
			v->branch_len = x - v->branch_off;
			if (!v->branch_len)
				v->branch_off = 0;
			return sip_via_done(v, st, slashes, tok, bracket, notbr);
		}
		break;
	}
	SIP_VOL(v->s_st) = st;
	SIP_VOL(v->s_slashes) = slashes;
	SIP_VOL(v->s_tok) = tok;
	SIP_VOL(v->s_bracket) = bracket;
	SIP_VOL(v->s_notbr) = notbr;
	return 0;
}

/*
 * Top Via details: sent-by and branch of the first via-parm in the value at
 * [m->via_off, m->via_off + m->via_len). Returns 0, or -1 if the value is not
 * "SIP/2.0/transport sent-by". Only the first SIP_VALUE_MAX bytes are read:
 * a sent-by or branch that runs past them is reported absent, never cut.
 */
SIPLB_SUBPROG int sip_via(SIP_WIN_PARAM, __u32 off, const struct sip_msg *m,
			  struct sip_via *v)
{
	SIP_WIN_OPEN;
	const __u8 *base;
	__u32 x = 0, ve, i;
	int c, capped;
	__u8 st;

	if (!m || !v || off > SIP_MAX_PAYLOAD_OFF)
		return -1;
	__builtin_memset(v, 0, sizeof(*v));
	SIPLB_CLAMP(off, SIP_MAX_PAYLOAD_OFF);
	base = data + off;
	capped = m->via_len > SIP_VALUE_MAX;
	ve = capped ? SIP_VALUE_MAX : m->via_len;

	for (i = 0; i < SIP_VALUE_MAX; i++) {
		if (i >= ve)
			break;
		x = m->via_off + i;
		SIP_BYTE(base, end, x, c);
		if (c < 0)
			break;
		if (sip_via_step(x, c, v))
			break;
	}
	if (v->s_done)
		return v->sent_by_len ? 0 : -1;
	st = v->s_st;
	x = m->via_off + i;
	if (capped) {
		/* the value goes on past what we read */
		if (st == VS_SB || st < VS_SB)
			return -1;
		if (st == VS_BRANCH)
			v->branch_off = 0;
		return v->sent_by_len ? 0 : -1;
	}
	if (st == VS_SB)
		v->sent_by_len = x - v->sent_by_off;
	else if (st == VS_BRANCH)
		v->branch_len = x - v->branch_off;
	else if (st < VS_SB)
		return -1;
	return v->sent_by_len ? 0 : -1;
}

/* To AOR scanner states. */
enum sip_aor_state {
	AS_LEAD,	/* before the URI: display name, or the scheme of an addr-spec */
	AS_QUOTE,	/* inside a quoted display name */
	AS_QESC,	/* after a backslash in the quoted display name */
	AS_SCHEME,	/* scheme, up to ':' */
	AS_USERHOST,	/* user, or host when no '@' follows */
	AS_HOST,	/* host after '@' */
	AS_V6,		/* inside [ ] */
	AS_DONE,	/* the AOR ends at s_ue */
};

/*
 * The To AOR: user@host of the URI in the To value (name-addr or addr-spec),
 * without display name, scheme, port, parameters or headers. In a name-addr
 * the user part may hold ';' and '?' (RFC 3261 19.1.1, telephone-subscriber);
 * in an addr-spec ';' starts the header's parameters. A URI with a password
 * ("user:pw@host") has no contiguous AOR and gives -1, as does a value
 * without a URI. Returns 0 or -1.
 */
/*
 * One byte c at payload offset x (c is '>' at the end of the value) of the
 * To AOR scan; the scan's state lives in *a. Returns 1 when the AOR is
 * complete, -1 when there is none, 0 to go on. A function of its own: the
 * verifier checks the state machine once instead of once per byte.
 */
SIPLB_SUBPROG int sip_aor_step(__u32 x, int c, int at_end, struct sip_aor *a)
{
	__u32 us, ue, colon, semi, at, tok, angle;
	__u8 st, prev;
	int stop = 0;

	if (!a)
		return -1;
	st = SIP_VOL(a->s_st);
	prev = SIP_VOL(a->s_prev);
	us = SIP_VOL(a->s_us);
	ue = SIP_VOL(a->s_ue);
	colon = SIP_VOL(a->s_colon);
	semi = SIP_VOL(a->s_semi);
	at = SIP_VOL(a->s_at);
	tok = SIP_VOL(a->s_tok);
	angle = SIP_VOL(a->s_angle);
	switch (st) {
	case AS_LEAD:
		if (at_end)
			return -1;
		if (c == '"') {
			st = AS_QUOTE;
		} else if (c == '<') {
			angle = 1;
			tok = x + 1;
			st = AS_SCHEME;
		} else if (c == ':' && tok) {
			/* "scheme:" of an addr-spec */
			us = x + 1;
			st = AS_USERHOST;
		} else if (sip_is_ws(c)) {
			tok = 0;	/* that was a display-name token */
		} else if (!tok) {
			tok = x;
		}
		break;
	case AS_QUOTE:
		if (c == '\\')
			st = AS_QESC;
		else if (c == '"')
			st = AS_LEAD;
		break;
	case AS_QESC:
		st = AS_QUOTE;
		break;
	case AS_SCHEME:
		if (c == ':' && x != tok) {
			us = x + 1;
			st = AS_USERHOST;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '-' ||
			     c == '.')) {
			return -1;
		}
		break;
	case AS_V6:
		if (c == ']')
			st = prev;
		else if (at_end)
			return -1;
		break;
	case AS_USERHOST:
		if (c == '[') {
			prev = st;
			st = AS_V6;
		} else if (c == '@') {
			if (colon && (!semi || colon < semi))
				return -1;	/* user:password@host */
			at = x;
			st = AS_HOST;
		} else if (c == ':') {
			if (!colon && !semi)
				colon = x;	/* a port, or a password if '@' follows */
		} else if (c == ';' || c == '?') {
			if (!angle)
				stop = 1;
			else if (!semi)
				semi = x;	/* URI params, or a user part with ';' */
		} else if (c == '>' || c == ',' || sip_is_ws(c)) {
			stop = 1;
		}
		if (stop) {
			/* no '@': this was the host; a colon before ends it */
			ue = x;
			if (semi && semi < ue)
				ue = semi;
			if (colon && colon < ue)
				ue = colon;
			st = AS_DONE;
		}
		break;
	case AS_HOST:
		if (c == '[') {
			prev = st;
			st = AS_V6;
		} else if (c == ':' || c == ';' || c == '?' || c == '>' ||
			   c == ',' || sip_is_ws(c)) {
			ue = x;
			st = AS_DONE;
		}
		break;
	}
	SIP_VOL(a->s_st) = st;
	SIP_VOL(a->s_prev) = prev;
	SIP_VOL(a->s_us) = us;
	SIP_VOL(a->s_ue) = ue;
	SIP_VOL(a->s_colon) = colon;
	SIP_VOL(a->s_semi) = semi;
	SIP_VOL(a->s_at) = at;
	SIP_VOL(a->s_tok) = tok;
	SIP_VOL(a->s_angle) = angle;
	return st == AS_DONE;
}

/*
 * The To AOR: user@host of the URI in the To value (name-addr or addr-spec),
 * without display name, scheme, port, parameters or headers. In a name-addr
 * the user part may hold ';' and '?' (RFC 3261 19.1.1, telephone-subscriber);
 * in an addr-spec ';' starts the header's parameters. A URI with a password
 * ("user:pw@host") has no contiguous AOR and gives -1, as does a value
 * without a URI. Returns 0 or -1.
 */
SIPLB_SUBPROG int sip_to_aor(SIP_WIN_PARAM, __u32 off, const struct sip_msg *m,
			     struct sip_aor *a)
{
	SIP_WIN_OPEN;
	const __u8 *base;
	__u32 ve, i, us, ue, at;
	int c, r = 0;

	if (!m || !a || off > SIP_MAX_PAYLOAD_OFF)
		return -1;
	__builtin_memset(a, 0, sizeof(*a));
	SIPLB_CLAMP(off, SIP_MAX_PAYLOAD_OFF);
	base = data + off;
	ve = m->to_len < SIP_VALUE_MAX ? m->to_len : SIP_VALUE_MAX;

	for (i = 0; i <= SIP_VALUE_MAX; i++) {
		if (i > ve)
			break;
		if (i == ve) {
			if (m->to_len > SIP_VALUE_MAX)
				return -1;	/* the URI runs past what we read */
			c = '>';	/* the end of the value ends the URI */
		} else {
			SIP_BYTE(base, end, m->to_off + i, c);
			if (c < 0)
				break;
		}
		r = sip_aor_step(m->to_off + i, c, i == ve, a);
		if (r)
			break;
	}
	if (r != 1)
		return -1;
	us = a->s_us;
	ue = a->s_ue;
	at = a->s_at;
	if (ue <= us || (at && ue <= at + 1))
		return -1;
	a->off = us;
	a->len = ue - us;
	return 0;
}

/* To tag scanner states (sip_to_tag). */
enum sip_tag_state {
	TS_PLAIN,	/* outside quotes and <>: a ';' starts a header parameter */
	TS_QUOTE,	/* inside a quoted display name */
	TS_QESC,	/* after a backslash in it */
	TS_ANGLE,	/* inside <...>: URI parameters are not header parameters */
	TS_SEMI,	/* after ';' (and whitespace) */
	TS_T,		/* ";t" */
	TS_TA,		/* ";ta" */
	TS_TAG,		/* ";tag" (and whitespace): '=' makes it a tag */
};

/*
 * One byte c of the To tag scan; the state is *st. Returns 1 when a tag
 * parameter is found, 0 to go on. A function of its own, like sip_aor_step.
 */
SIPLB_SUBPROG int sip_tag_step(int c, __u8 *st)
{
	__u8 s;

	if (!st)
		return 0;
	s = SIP_VOL(*st);
	switch (s) {
	case TS_QUOTE:
		s = c == '\\' ? TS_QESC : c == '"' ? TS_PLAIN : TS_QUOTE;
		break;
	case TS_QESC:
		s = TS_QUOTE;
		break;
	case TS_ANGLE:
		if (c == '>')
			s = TS_PLAIN;
		break;
	case TS_SEMI:
	case TS_TAG:
		if (sip_is_ws(c))
			break;
		if (s == TS_TAG && c == '=')
			return 1;
		s = (s == TS_SEMI && (c | 0x20) == 't') ? TS_T :
		    c == ';' ? TS_SEMI : TS_PLAIN;
		break;
	case TS_T:
		s = (c | 0x20) == 'a' ? TS_TA : c == ';' ? TS_SEMI : TS_PLAIN;
		break;
	case TS_TA:
		s = (c | 0x20) == 'g' ? TS_TAG : c == ';' ? TS_SEMI : TS_PLAIN;
		break;
	default:
		s = c == '"' ? TS_QUOTE : c == '<' ? TS_ANGLE : c == ';' ? TS_SEMI : TS_PLAIN;
		break;
	}
	SIP_VOL(*st) = s;
	return 0;
}

/*
 * Does the To value carry a tag parameter (";tag=", any case, whitespace
 * allowed around '=')? A request with one is in-dialog (RFC 3261 12.2). Only
 * the first SIP_VALUE_MAX bytes of the value are looked at. Returns 1 or 0.
 */
SIPLB_SUBPROG int sip_to_tag(SIP_WIN_PARAM, __u32 off, const struct sip_msg *m)
{
	SIP_WIN_OPEN;
	const __u8 *base;
	__u32 ve, i;
	__u8 st = TS_PLAIN;
	int c;

	if (!m || off > SIP_MAX_PAYLOAD_OFF)
		return 0;
	SIPLB_CLAMP(off, SIP_MAX_PAYLOAD_OFF);
	base = data + off;
	ve = m->to_len < SIP_VALUE_MAX ? m->to_len : SIP_VALUE_MAX;
	for (i = 0; i < SIP_VALUE_MAX; i++) {
		if (i >= ve)
			break;
		SIP_BYTE(base, end, m->to_off + i, c);
		if (c < 0)
			break;
		if (sip_tag_step(c, &st))
			return 1;
	}
	return 0;
}

#endif /* SIP_PARSE_H */
