/* siplb_reasons.h: drop and slow-path reasons; each is a counter index and a metrics label. */
#ifndef SIPLB_REASONS_H
#define SIPLB_REASONS_H

/* Why a packet for a VIP was dropped. Index of the per-CPU drop counters. */
enum siplb_drop {
	SIPLB_DROP_NONE = 0,
	SIPLB_DROP_NOT_SIP,	/* payload is not a SIP start line */
	SIPLB_DROP_NO_CALLID,	/* no Call-ID header, or an empty one */
	SIPLB_DROP_NO_VIA,	/* no Via header */
	SIPLB_DROP_DUP_CALLID,	/* two Call-ID headers */
	SIPLB_DROP_TRUNCATED,	/* datagram ends inside the headers */
	SIPLB_DROP_MALFORMED,	/* broken line structure (bare CR, bad status) */
	SIPLB_DROP_KEEPALIVE,	/* CRLF keepalive over UDP: nothing to forward */
	SIPLB_DROP_NO_BACKEND,	/* VIP has no usable backend (fail closed) */
	SIPLB_DROP_BAD_L3,	/* IP/UDP headers inconsistent or truncated */
	SIPLB_DROP_BLOCKED,	/* source in the blocklist (siplbctl ban, auto-ban) */
	SIPLB_DROP_RATE_DIALOG,	/* source over its budget of dialog-creating requests */
	SIPLB_DROP_RATE_OTHER,	/* source over its budget of other messages */
	SIPLB_DROP_OVERSIZED,	/* UDP payload larger than the VIP's max_message_bytes */
	SIPLB_DROP_UNKNOWN_DIALOG, /* response with no affinity entry (drop_unknown_responses) */
	SIPLB_DROP_SCANNER,	/* User-Agent matches a scanner signature of the VIP */
	SIPLB_DROP__MAX,
};

/* Why a packet for a VIP went up the stack to siplbd. Index of the slow-path counters. */
enum siplb_slow {
	SIPLB_SLOW_NONE = 0,
	SIPLB_SLOW_BEYOND_WINDOW, /* headers do not end within the parse window */
	SIPLB_SLOW_FOLDED,	/* a header we need is folded onto a continuation line */
	SIPLB_SLOW_LONG_WS,	/* more whitespace around a colon than the parser skips */
	SIPLB_SLOW_FRAGMENT,	/* IP fragment: reassembled by the stack */
	SIPLB_SLOW_TCP,		/* SIP over TCP or TLS: terminated by siplbd */
	SIPLB_SLOW_MTU,		/* encapsulated packet would exceed the MTU */
	SIPLB_SLOW_NO_NEXTHOP,	/* next-hop MAC not known yet */
	SIPLB_SLOW_IP_EXT,	/* IPv6 extension headers before UDP */
	SIPLB_SLOW_MANY_LINES,	/* more Call-ID/Via/To-like lines than the parser records */
	SIPLB_SLOW__MAX,
};

#ifndef __bpf__
/* Metrics labels, indexed by the enums above. */
static const char *const siplb_drop_names[SIPLB_DROP__MAX] = {
	[SIPLB_DROP_NONE] = "none",
	[SIPLB_DROP_NOT_SIP] = "not_sip",
	[SIPLB_DROP_NO_CALLID] = "no_call_id",
	[SIPLB_DROP_NO_VIA] = "no_via",
	[SIPLB_DROP_DUP_CALLID] = "duplicate_call_id",
	[SIPLB_DROP_TRUNCATED] = "truncated",
	[SIPLB_DROP_MALFORMED] = "malformed",
	[SIPLB_DROP_KEEPALIVE] = "keepalive",
	[SIPLB_DROP_NO_BACKEND] = "no_backend",
	[SIPLB_DROP_BAD_L3] = "bad_l3",
	[SIPLB_DROP_BLOCKED] = "blocked",
	[SIPLB_DROP_RATE_DIALOG] = "rate_dialog_creating",
	[SIPLB_DROP_RATE_OTHER] = "rate_other",
	[SIPLB_DROP_OVERSIZED] = "oversized",
	[SIPLB_DROP_UNKNOWN_DIALOG] = "unknown_dialog_response",
	[SIPLB_DROP_SCANNER] = "scanner",
};

static const char *const siplb_slow_names[SIPLB_SLOW__MAX] = {
	[SIPLB_SLOW_NONE] = "none",
	[SIPLB_SLOW_BEYOND_WINDOW] = "beyond_window",
	[SIPLB_SLOW_FOLDED] = "folded_header",
	[SIPLB_SLOW_LONG_WS] = "long_whitespace",
	[SIPLB_SLOW_FRAGMENT] = "ip_fragment",
	[SIPLB_SLOW_TCP] = "tcp",
	[SIPLB_SLOW_MTU] = "mtu",
	[SIPLB_SLOW_NO_NEXTHOP] = "no_nexthop",
	[SIPLB_SLOW_IP_EXT] = "ipv6_extension_headers",
	[SIPLB_SLOW_MANY_LINES] = "many_candidate_lines",
};

#endif /* !__bpf__ */

#endif /* SIPLB_REASONS_H */
