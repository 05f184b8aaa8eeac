// SPDX-License-Identifier: GPL-2.0
/*
 * test_parser.c: the SIP parser (include/sip_parse.h) against a table of
 * messages with what an RFC 3261-careful SIP engineer expects of them
 * (sec. 7.3 header syntax, 20.8 Call-ID, 20.39 To, 20.42 Via), plus whole
 * realistic messages read from tests/msgs/.
 *
 * Every case is checked field by field: verdict, reason, kind, method, status,
 * hdr_end, the Call-ID value, the top Via sent-by and branch, the To AOR.
 * Every case is also scanned a second time at a payload offset inside a
 * larger frame, which must give the same answer.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_parse.h"
#include "siplb_hash.h"

/* ------------------------------------------------------------------------ */
/* The table                                                                */

#define FAST .verdict = SIP_VERDICT_FAST, .reason = 0
#define DROP(r) .verdict = SIP_VERDICT_DROP, .reason = SIPLB_DROP_##r
#define SLOW(r) .verdict = SIP_VERDICT_SLOW, .reason = SIPLB_SLOW_##r
#define REQ(m) .kind = SIP_KIND_REQUEST, .method = SIP_METHOD_##m
#define RSP(code) .kind = SIP_KIND_RESPONSE, .status = (code)
/* A literal message: its bytes, NULs included. */
#define MSG(s) .msg = (s), .len = sizeof(s) - 1

/* hdr_end: 0 = the usual rule (see expected_hdr_end()), >0 = exactly, HE_ZERO = 0. */
#define HE_ZERO (-1)

struct pcase;
typedef size_t (*gen_fn)(char *buf, size_t cap);

struct pcase {
	const char *name;
	const char *msg;
	size_t len;
	gen_fn gen;		/* builds the message at run time instead */
	int verdict;
	int reason;
	int kind;
	int method;
	int status;
	int any_kind;		/* kind, method and status not checked */
	int hdr_end;
	int or_long_ws;		/* SLOW long_whitespace is an acceptable answer too */
	/*
	 * Expected substrings. For a FAST verdict NULL means "absent"; for
	 * other verdicts NULL means "not checked".
	 */
	const char *callid;
	const char *sent_by;
	const char *branch;
	const char *to_aor;
};

/* Building blocks (RFC 3665 / RFC 3261 sec. 24 style). */
#define CRLF "\r\n"
#define RURI "sip:bob@biloxi.example.com"
#define VIA_A "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds" CRLF
#define SB_A "pc33.atlanta.example.com"
#define BR_A "z9hG4bK776asdhds"
#define TO_B "To: Bob <sip:bob@biloxi.example.com>" CRLF
#define AOR_B "bob@biloxi.example.com"
#define FROM_A "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
#define CID_A "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF
#define ID_A "a84b4c76e66710@pc33.atlanta.example.com"
#define MF "Max-Forwards: 70" CRLF
#define CL0 "Content-Length: 0" CRLF CRLF
#define RLINE(m) m " " RURI " SIP/2.0" CRLF
#define STD_REQ(m) RLINE(m) VIA_A MF TO_B FROM_A CID_A "CSeq: 314159 " m CRLF CL0
#define STD_REQ_FIELDS .callid = ID_A, .sent_by = SB_A, .branch = BR_A, .to_aor = AOR_B
#define RSP_HDRS                                                          \
	"Via: SIP/2.0/UDP server10.biloxi.example.com;branch=z9hG4bKnashds8" \
	";received=192.0.2.3" CRLF                                        \
	"To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf" CRLF FROM_A CID_A \
	"CSeq: 314159 INVITE" CRLF CL0
#define RSP_FIELDS                                                      \
	.callid = ID_A, .sent_by = "server10.biloxi.example.com",       \
	.branch = "z9hG4bKnashds8", .to_aor = AOR_B
/* Request line + Via + Call-ID, for cases that vary one other header. */
#define PRE RLINE("INVITE") VIA_A
#define PRE_FIELDS .callid = ID_A, .sent_by = SB_A, .branch = BR_A

/* Generators for messages too long to write out. */
static size_t gen_beyond_window_early(char *b, size_t cap);
static size_t gen_beyond_window_callid(char *b, size_t cap);
static size_t gen_big_body(char *b, size_t cap);
static size_t gen_hdr_end_2048(char *b, size_t cap);
static size_t gen_hdr_end_2048_body(char *b, size_t cap);
static size_t gen_no_blank_2048(char *b, size_t cap);
static size_t gen_no_blank_2049(char *b, size_t cap);
static size_t gen_long_callid(char *b, size_t cap);
static size_t gen_lf_3000(char *b, size_t cap);
static size_t gen_start_lf_3000(char *b, size_t cap);
static size_t gen_body_lf_3000(char *b, size_t cap);
static size_t gen_space_lines(char *b, size_t cap);
static size_t gen_spaces_3000(char *b, size_t cap);
static size_t gen_binary(char *b, size_t cap);
static size_t gen_token_then_binary(char *b, size_t cap);
static size_t gen_long_display_name(char *b, size_t cap);
static size_t gen_long_via_params(char *b, size_t cap);
static size_t gen_long_method(char *b, size_t cap);
static size_t gen_display_name_110(char *b, size_t cap);
static size_t gen_via_params_straddle(char *b, size_t cap);

static const struct pcase cases[] = {
	/* --- every method (RFC 3261, 3262, 3311, 2976, 6665, 3515, 3428, 3903) --- */
	{ "INVITE", MSG(STD_REQ("INVITE")), FAST, REQ(INVITE), STD_REQ_FIELDS },
	{ "ACK", MSG(STD_REQ("ACK")), FAST, REQ(ACK), STD_REQ_FIELDS },
	{ "BYE", MSG(STD_REQ("BYE")), FAST, REQ(BYE), STD_REQ_FIELDS },
	{ "CANCEL", MSG(STD_REQ("CANCEL")), FAST, REQ(CANCEL), STD_REQ_FIELDS },
	{ "REGISTER", MSG(STD_REQ("REGISTER")), FAST, REQ(REGISTER), STD_REQ_FIELDS },
	{ "OPTIONS", MSG(STD_REQ("OPTIONS")), FAST, REQ(OPTIONS), STD_REQ_FIELDS },
	{ "PRACK", MSG(STD_REQ("PRACK")), FAST, REQ(PRACK), STD_REQ_FIELDS },
	{ "UPDATE", MSG(STD_REQ("UPDATE")), FAST, REQ(UPDATE), STD_REQ_FIELDS },
	{ "INFO", MSG(STD_REQ("INFO")), FAST, REQ(INFO), STD_REQ_FIELDS },
	{ "SUBSCRIBE", MSG(STD_REQ("SUBSCRIBE")), FAST, REQ(SUBSCRIBE), STD_REQ_FIELDS },
	{ "NOTIFY", MSG(STD_REQ("NOTIFY")), FAST, REQ(NOTIFY), STD_REQ_FIELDS },
	{ "REFER", MSG(STD_REQ("REFER")), FAST, REQ(REFER), STD_REQ_FIELDS },
	{ "MESSAGE", MSG(STD_REQ("MESSAGE")), FAST, REQ(MESSAGE), STD_REQ_FIELDS },
	{ "PUBLISH", MSG(STD_REQ("PUBLISH")), FAST, REQ(PUBLISH), STD_REQ_FIELDS },
	{ "extension method", MSG(STD_REQ("FOOBAR")), FAST, REQ(OTHER), STD_REQ_FIELDS },
	/* Methods are case-sensitive (RFC 3261 sec. 7.1): "invite" is an extension. */
	{ "lower-case invite is an extension", MSG(STD_REQ("invite")), FAST, REQ(OTHER),
	  STD_REQ_FIELDS },
	{ "INVITES is not INVITE", MSG(STD_REQ("INVITES")), FAST, REQ(OTHER), STD_REQ_FIELDS },
	{ "INVIT is not INVITE", MSG(STD_REQ("INVIT")), FAST, REQ(OTHER), STD_REQ_FIELDS },
	{ "REGISTERS is not REGISTER", MSG(STD_REQ("REGISTERS")), FAST, REQ(OTHER),
	  STD_REQ_FIELDS },
	{ "SUBSCRIBX is not SUBSCRIBE", MSG(STD_REQ("SUBSCRIBX")), FAST, REQ(OTHER),
	  STD_REQ_FIELDS },
	{ "extension method with token punctuation", MSG(STD_REQ("X-FOO.BAR!")), FAST,
	  REQ(OTHER), STD_REQ_FIELDS },
	{ "20-character extension method (a valid token)", .gen = gen_long_method, FAST,
	  REQ(OTHER), STD_REQ_FIELDS },

	/* --- responses --- */
	{ "100 Trying", MSG("SIP/2.0 100 Trying" CRLF RSP_HDRS), FAST, RSP(100), RSP_FIELDS },
	{ "180 Ringing", MSG("SIP/2.0 180 Ringing" CRLF RSP_HDRS), FAST, RSP(180), RSP_FIELDS },
	{ "183 Session Progress", MSG("SIP/2.0 183 Session Progress" CRLF RSP_HDRS), FAST,
	  RSP(183), RSP_FIELDS },
	{ "200 OK", MSG("SIP/2.0 200 OK" CRLF RSP_HDRS), FAST, RSP(200), RSP_FIELDS },
	{ "302 Moved Temporarily", MSG("SIP/2.0 302 Moved Temporarily" CRLF RSP_HDRS), FAST,
	  RSP(302), RSP_FIELDS },
	{ "481 Call/Transaction Does Not Exist",
	  MSG("SIP/2.0 481 Call/Transaction Does Not Exist" CRLF RSP_HDRS), FAST, RSP(481),
	  RSP_FIELDS },
	{ "603 Decline", MSG("SIP/2.0 603 Decline" CRLF RSP_HDRS), FAST, RSP(603), RSP_FIELDS },
	{ "699 (highest class 6 code)", MSG("SIP/2.0 699 Whatever" CRLF RSP_HDRS), FAST, RSP(699),
	  RSP_FIELDS },
	{ "empty reason phrase", MSG("SIP/2.0 200 " CRLF RSP_HDRS), FAST, RSP(200), RSP_FIELDS },
	/* SIP-Version is case-insensitive (RFC 3261 sec. 7.1). */
	{ "lower-case sip/2.0 status line", MSG("sip/2.0 200 OK" CRLF RSP_HDRS), FAST, RSP(200),
	  RSP_FIELDS },
	{ "status 700", MSG("SIP/2.0 700 Nope" CRLF RSP_HDRS), DROP(MALFORMED), .any_kind = 1 },
	{ "status 099", MSG("SIP/2.0 099 Nope" CRLF RSP_HDRS), DROP(MALFORMED), .any_kind = 1 },
	{ "two-digit status", MSG("SIP/2.0 20 OK" CRLF RSP_HDRS), DROP(MALFORMED),
	  .any_kind = 1 },
	{ "four-digit status", MSG("SIP/2.0 2000 OK" CRLF RSP_HDRS), DROP(MALFORMED),
	  .any_kind = 1 },
	{ "letters for status", MSG("SIP/2.0 abc OK" CRLF RSP_HDRS), DROP(MALFORMED),
	  .any_kind = 1 },

	/* --- header names and whitespace (RFC 3261 sec. 7.3.1, 7.3.3) --- */
	{ "compact i: v: t:",
	  MSG(RLINE("INVITE") "v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKc" CRLF
	      "t: <sip:bob@biloxi.example.com>" CRLF "f: <sip:alice@atlanta.example.com>;tag=1"
	      CRLF "i: compact-1@atlanta" CRLF "l: 0" CRLF CRLF),
	  FAST, REQ(INVITE), .callid = "compact-1@atlanta", .sent_by = SB_A,
	  .branch = "z9hG4bKc", .to_aor = AOR_B },
	{ "compact upper-case I: V: T:",
	  MSG(RLINE("INVITE") "V: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKc" CRLF
	      "T: <sip:bob@biloxi.example.com>" CRLF "I: compact-2@atlanta" CRLF CRLF),
	  FAST, REQ(INVITE), .callid = "compact-2@atlanta", .sent_by = SB_A,
	  .branch = "z9hG4bKc", .to_aor = AOR_B },
	{ "CALL-ID VIA TO upper case",
	  MSG(RLINE("BYE") "VIA: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKu" CRLF
	      "TO: <sip:bob@biloxi.example.com>" CRLF "CALL-ID: upper@x" CRLF CRLF),
	  FAST, REQ(BYE), .callid = "upper@x", .sent_by = SB_A, .branch = "z9hG4bKu",
	  .to_aor = AOR_B },
	{ "call-id via to lower case",
	  MSG(RLINE("BYE") "via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKl" CRLF
	      "to: <sip:bob@biloxi.example.com>" CRLF "call-id: lower@x" CRLF CRLF),
	  FAST, REQ(BYE), .callid = "lower@x", .sent_by = SB_A, .branch = "z9hG4bKl",
	  .to_aor = AOR_B },
	{ "cAlL-iD vIa tO mixed case",
	  MSG(RLINE("BYE") "vIa: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKm" CRLF
	      "tO: <sip:bob@biloxi.example.com>" CRLF "cAlL-iD: mixed@x" CRLF CRLF),
	  FAST, REQ(BYE), .callid = "mixed@x", .sent_by = SB_A, .branch = "z9hG4bKm",
	  .to_aor = AOR_B },
	{ "whitespace before and after the colon",
	  MSG(PRE "Call-ID :  abc" CRLF "To :  <sip:bob@biloxi.example.com>" CRLF CRLF),
	  FAST, REQ(INVITE), .callid = "abc", .sent_by = SB_A, .branch = BR_A,
	  .to_aor = AOR_B },
	{ "no whitespace after the colon",
	  MSG(RLINE("INVITE") "Via:SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds"
	      CRLF "Call-ID:abc" CRLF "To:<sip:bob@biloxi.example.com>" CRLF CRLF),
	  FAST, REQ(INVITE), .callid = "abc", .sent_by = SB_A, .branch = BR_A,
	  .to_aor = AOR_B },
	{ "tabs around the colon",
	  MSG(PRE "Call-ID\t:\tabc-tab" CRLF "Via\t:\tSIP/2.0/UDP ignored.example.com" CRLF CRLF),
	  FAST, REQ(INVITE), .callid = "abc-tab", .sent_by = SB_A, .branch = BR_A },
	{ "trailing whitespace trimmed",
	  MSG(PRE "Call-ID: trail@x  \t " CRLF "To: <sip:bob@biloxi.example.com> \t" CRLF CRLF),
	  FAST, REQ(INVITE), .callid = "trail@x", .sent_by = SB_A, .branch = BR_A,
	  .to_aor = AOR_B },
	{ "15 spaces after the colon",
	  MSG(PRE "Call-ID:               ws15" CRLF CRLF), FAST, REQ(INVITE),
	  .callid = "ws15", .sent_by = SB_A, .branch = BR_A },
	{ "16 (SIP_WS_MAX) spaces after the colon",
	  MSG(PRE "Call-ID:                ws16" CRLF CRLF), FAST, REQ(INVITE), .or_long_ws = 1,
	  .callid = "ws16", .sent_by = SB_A, .branch = BR_A },
	{ "17 spaces after the colon",
	  MSG(PRE "Call-ID:                 ws17" CRLF CRLF), SLOW(LONG_WS), REQ(INVITE) },
	{ "17 spaces before the colon",
	  MSG(PRE "Call-ID                 : ws17" CRLF CRLF), SLOW(LONG_WS), REQ(INVITE) },
	{ "17 tabs after the Via colon",
	  MSG(RLINE("INVITE") "Via:\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\tSIP/2.0/UDP h" CRLF CID_A
	      CRLF), SLOW(LONG_WS), REQ(INVITE) },
	{ "long whitespace in an unrelated header",
	  MSG(PRE CID_A "Subject:                          hi" CRLF CRLF), FAST, REQ(INVITE),
	  PRE_FIELDS },
	{ "20 trailing spaces after the Call-ID",
	  MSG(PRE "Call-ID: trail20@x                    " CRLF CRLF), FAST, REQ(INVITE),
	  .or_long_ws = 1, .callid = "trail20@x", .sent_by = SB_A, .branch = BR_A },
	{ "LF-only line endings",
	  MSG("INVITE sip:bob@biloxi.example.com SIP/2.0\n"
	      "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\n"
	      "To: Bob <sip:bob@biloxi.example.com>\n" "Call-ID: lf-only@x\n"
	      "Content-Length: 4\n\nbody"),
	  FAST, REQ(INVITE), .callid = "lf-only@x", .sent_by = SB_A, .branch = BR_A,
	  .to_aor = AOR_B },
	{ "CRLF headers ended by a bare LF blank line",
	  MSG(PRE CID_A "Content-Length: 4" CRLF "\nbody"), FAST, REQ(INVITE), PRE_FIELDS },

	/* --- Call-ID look-alikes (RFC 3261 sec. 20.8) --- */
	{ "Call-Info is not Call-ID",
	  MSG(PRE "Call-Info: <http://wwww.example.com/alice/photo.jpg>;purpose=icon" CRLF CID_A
	      CRLF), FAST, REQ(INVITE), PRE_FIELDS },
	{ "X-Call-ID is not Call-ID",
	  MSG(PRE "X-Call-ID: fake" CRLF CRLF), DROP(NO_CALLID), REQ(INVITE) },
	{ "Call-IDs is not Call-ID", MSG(PRE "Call-IDs: fake" CRLF CRLF), DROP(NO_CALLID),
	  REQ(INVITE) },
	{ "i-foo is not i", MSG(PRE "i-foo: fake" CRLF CRLF), DROP(NO_CALLID), REQ(INVITE) },
	{ "Info is not i", MSG(PRE "Info: fake" CRLF CRLF), DROP(NO_CALLID), REQ(INVITE) },
	{ "Identity is not i", MSG(PRE "Identity: fake" CRLF CRLF), DROP(NO_CALLID), REQ(INVITE) },
	{ "Call-ID look-alikes before the real one",
	  MSG(PRE "X-Call-ID: fake1" CRLF "Info: fake2" CRLF "Call-Info: <sip:x>" CRLF
	      "i-foo: fake3" CRLF "Call-ID: real@x" CRLF CRLF),
	  FAST, REQ(INVITE), .callid = "real@x", .sent_by = SB_A, .branch = BR_A },
	{ "Call-ID with RFC example value",
	  MSG(RLINE("INVITE") VIA_A "Call-ID: f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com"
	      CRLF CRLF), FAST, REQ(INVITE),
	  .callid = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com", .sent_by = SB_A,
	  .branch = BR_A },
	{ "1500-byte Call-ID", .gen = gen_long_callid, FAST, REQ(INVITE), .sent_by = SB_A,
	  .branch = BR_A, .callid = "(generated)" },

	/* --- Via (RFC 3261 sec. 20.42, 18.2.1) --- */
	{ "Via look-alikes: Via-Foo, Vias, v-x",
	  MSG(RLINE("INVITE") "Via-Foo: SIP/2.0/UDP fake1;branch=z9hG4bKf1" CRLF
	      "Vias: SIP/2.0/UDP fake2;branch=z9hG4bKf2" CRLF "v-x: SIP/2.0/UDP fake3" CRLF
	      VIA_A CID_A CRLF), FAST, REQ(INVITE), PRE_FIELDS },
	{ "Via look-alike only", MSG(RLINE("INVITE") "Via-Foo: SIP/2.0/UDP fake" CRLF CID_A CRLF),
	  DROP(NO_VIA), REQ(INVITE), .callid = ID_A },
	{ "IPv6 sent-by",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKv6" CRLF CID_A
	      CRLF), FAST, REQ(INVITE), .callid = ID_A, .sent_by = "[2001:db8::1]:5060",
	  .branch = "z9hG4bKv6" },
	{ "IPv6 sent-by without port",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP [2001:db8::1];branch=z9hG4bKv6b" CRLF CID_A
	      CRLF), FAST, REQ(INVITE), .callid = ID_A, .sent_by = "[2001:db8::1]",
	  .branch = "z9hG4bKv6b" },
	{ "sent-by with port",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bKp" CRLF CID_A CRLF),
	  FAST, REQ(INVITE), .callid = ID_A, .sent_by = "192.0.2.1:5062",
	  .branch = "z9hG4bKp" },
	{ "several via-parms on one line: the first wins",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP first.example.com:5060;branch=z9hG4bKfirst, "
	      "SIP/2.0/UDP second.example.com;branch=z9hG4bKsecond" CRLF CID_A CRLF),
	  FAST, REQ(INVITE), .callid = ID_A, .sent_by = "first.example.com:5060",
	  .branch = "z9hG4bKfirst" },
	{ "first via-parm has no branch, the second has",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP first.example.com;rport,SIP/2.0/UDP "
	      "second.example.com;branch=z9hG4bKsecond" CRLF CID_A CRLF),
	  FAST, REQ(INVITE), .callid = ID_A, .sent_by = "first.example.com", .branch = NULL },
	{ "two Via lines: the first wins",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP first.example.com;branch=z9hG4bKfirst" CRLF
	      "Via: SIP/2.0/UDP second.example.com;branch=z9hG4bKsecond" CRLF CID_A CRLF),
	  FAST, REQ(INVITE), .callid = ID_A, .sent_by = "first.example.com",
	  .branch = "z9hG4bKfirst" },
	{ "Via and compact v: the first wins",
	  MSG(RLINE("INVITE") "v: SIP/2.0/UDP first.example.com;branch=z9hG4bKfirst" CRLF
	      "Via: SIP/2.0/UDP second.example.com;branch=z9hG4bKsecond" CRLF CID_A CRLF),
	  FAST, REQ(INVITE), .callid = ID_A, .sent_by = "first.example.com",
	  .branch = "z9hG4bKfirst" },
	{ "branch with odd spacing",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP host.example.com:5060 ; branch = z9hG4bK1" CRLF
	      CID_A CRLF), FAST, REQ(INVITE), .callid = ID_A,
	  .sent_by = "host.example.com:5060", .branch = "z9hG4bK1" },
	{ "spaces around the protocol slashes",
	  MSG(RLINE("INVITE") "Via: SIP / 2.0 / UDP host.example.com;branch=z9hG4bKs" CRLF CID_A
	      CRLF), FAST, REQ(INVITE), .callid = ID_A, .sent_by = "host.example.com",
	  .branch = "z9hG4bKs" },
	{ "Via without branch (RFC 2543 style)",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP old.example.com:5060" CRLF CID_A CRLF),
	  FAST, REQ(INVITE), .callid = ID_A, .sent_by = "old.example.com:5060", .branch = NULL },
	{ "Via without branch but with params",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP old.example.com;rport;received=192.0.2.9" CRLF
	      CID_A CRLF), FAST, REQ(INVITE), .callid = ID_A, .sent_by = "old.example.com",
	  .branch = NULL },
	{ "rport before branch (pjsip style)",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bKPj1" CRLF
	      CID_A CRLF), FAST, REQ(INVITE), .callid = ID_A, .sent_by = "10.0.0.1:5060",
	  .branch = "z9hG4bKPj1" },
	{ "received before branch",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP h.example.com;received=192.0.2.1;branch=z9hG4bKr"
	      CRLF CID_A CRLF), FAST, REQ(INVITE), .callid = ID_A, .sent_by = "h.example.com",
	  .branch = "z9hG4bKr" },
	{ "branch first, then rport",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bKf;rport" CRLF CID_A
	      CRLF), FAST, REQ(INVITE), .callid = ID_A, .sent_by = "h.example.com",
	  .branch = "z9hG4bKf" },
	{ "branch after rport, received, maddr, ttl",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP 192.0.2.1;rport;received=192.0.2.2;"
	      "maddr=224.2.0.1;ttl=16;branch=z9hG4bKlate" CRLF CID_A CRLF),
	  FAST, REQ(INVITE), .callid = ID_A, .sent_by = "192.0.2.1", .branch = "z9hG4bKlate" },
	{ "BRANCH parameter name in upper case",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP h.example.com;BRANCH=z9hG4bKup" CRLF CID_A CRLF),
	  FAST, REQ(INVITE), .callid = ID_A, .sent_by = "h.example.com",
	  .branch = "z9hG4bKup" },
	{ "branchx and branches are not branch",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP h.example.com;branchx=1;branches=2;"
	      "branch=z9hG4bKreal" CRLF CID_A CRLF),
	  FAST, REQ(INVITE), .callid = ID_A, .sent_by = "h.example.com",
	  .branch = "z9hG4bKreal" },
	{ "branch inside a quoted parameter value is not the branch",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP h.example.com;x-note=\"a;branch=evil\";"
	      "branch=z9hG4bKreal" CRLF CID_A CRLF),
	  FAST, REQ(INVITE), .callid = ID_A, .sent_by = "h.example.com",
	  .branch = "z9hG4bKreal" },
	{ "TLS transport, lower case",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/tls client.example.com:5061;branch=z9hG4bKt" CRLF
	      CID_A CRLF), FAST, REQ(INVITE), .callid = ID_A,
	  .sent_by = "client.example.com:5061", .branch = "z9hG4bKt" },
	{ "tab between transport and sent-by",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP\th.example.com;branch=z9hG4bKtab" CRLF CID_A CRLF),
	  FAST, REQ(INVITE), .callid = ID_A, .sent_by = "h.example.com",
	  .branch = "z9hG4bKtab" },
	{ "branch as the only and last parameter, trailing spaces",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP h.example.com;branch=z9hG4bKend   " CRLF CID_A
	      CRLF), FAST, REQ(INVITE), .callid = ID_A, .sent_by = "h.example.com",
	  .branch = "z9hG4bKend" },
	{ "quoted-pair inside a quoted parameter value",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP h.example.com;x=\"a\\\";branch=evil\";"
	      "branch=z9hG4bKreal" CRLF CID_A CRLF),
	  FAST, REQ(INVITE), .callid = ID_A, .sent_by = "h.example.com",
	  .branch = "z9hG4bKreal" },
	{ "pjsip Via: rport and received before a 45-byte branch",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP 10.20.30.40:5060;rport=5060;received=203.0.113.77;"
	      "branch=z9hG4bKPj4f3ca2c9-e1a8-4e25-b1f4-5d4b4c1c8e77" CRLF CID_A CRLF),
	  FAST, REQ(INVITE), .callid = ID_A, .sent_by = "10.20.30.40:5060",
	  .branch = "z9hG4bKPj4f3ca2c9-e1a8-4e25-b1f4-5d4b4c1c8e77" },
	{ "branch straddling byte 128 of the Via value", .gen = gen_via_params_straddle, FAST,
	  REQ(INVITE), .callid = ID_A, .sent_by = "h.example.com",
	  .branch = "z9hG4bKafter-long-params" },
	{ "branch parameters beyond 256 bytes of Via value", .gen = gen_long_via_params, FAST,
	  REQ(INVITE), .callid = ID_A, .sent_by = "h.example.com",
	  .branch = "z9hG4bKafter-long-params" },

	/* --- To (RFC 3261 sec. 20.39, 20.10, 19.1) --- */
	{ "To name-addr with quoted display name, URI params, tag",
	  MSG(PRE CID_A "To: \"Bob\" <sip:bob@example.com;transport=udp>;tag=1" CRLF CRLF),
	  FAST, REQ(INVITE), PRE_FIELDS, .to_aor = "bob@example.com" },
	{ "To addr-spec with tag",
	  MSG(PRE CID_A "To: sip:bob@example.com;tag=1" CRLF CRLF), FAST, REQ(INVITE),
	  PRE_FIELDS, .to_aor = "bob@example.com" },
	{ "To addr-spec, nothing else",
	  MSG(PRE CID_A "To: sip:bob@example.com" CRLF CRLF), FAST, REQ(INVITE), PRE_FIELDS,
	  .to_aor = "bob@example.com" },
	{ "To display name with < > inside the quotes",
	  MSG(PRE CID_A "To: \"Bob <the boss>\" <sip:bob@example.com>" CRLF CRLF), FAST,
	  REQ(INVITE), PRE_FIELDS, .to_aor = "bob@example.com" },
	{ "To display name with @ and : inside the quotes",
	  MSG(PRE CID_A "To: \"bob@home: sip:x@y\" <sip:bob@example.com>" CRLF CRLF), FAST,
	  REQ(INVITE), PRE_FIELDS, .to_aor = "bob@example.com" },
	{ "To display name with escaped quotes",
	  MSG(PRE CID_A "To: \"Bob \\\"B\\\" <x@y>\" <sip:bob@example.com>" CRLF CRLF), FAST,
	  REQ(INVITE), PRE_FIELDS, .to_aor = "bob@example.com" },
	{ "To token display name",
	  MSG(PRE CID_A "To: Bob Smith <sip:bob@example.com>;tag=x" CRLF CRLF), FAST,
	  REQ(INVITE), PRE_FIELDS, .to_aor = "bob@example.com" },
	{ "To sips:", MSG(PRE CID_A "To: <sips:bob@example.com>" CRLF CRLF), FAST, REQ(INVITE),
	  PRE_FIELDS, .to_aor = "bob@example.com" },
	{ "To scheme in upper case", MSG(PRE CID_A "To: <SIP:bob@example.com>" CRLF CRLF), FAST,
	  REQ(INVITE), PRE_FIELDS, .to_aor = "bob@example.com" },
	{ "To host-only URI", MSG(PRE CID_A "To: <sip:example.com>" CRLF CRLF), FAST, REQ(INVITE),
	  PRE_FIELDS, .to_aor = "example.com" },
	{ "To host-only URI with port",
	  MSG(PRE CID_A "To: <sip:example.com:5060;transport=tcp>" CRLF CRLF), FAST,
	  REQ(INVITE), PRE_FIELDS, .to_aor = "example.com" },
	{ "To addr-spec with port: port stripped",
	  MSG(PRE CID_A "To: sip:bob@example.com:5070" CRLF CRLF), FAST, REQ(INVITE),
	  PRE_FIELDS, .to_aor = "bob@example.com" },
	{ "To name-addr with port and params",
	  MSG(PRE CID_A "To: <sip:bob@example.com:5070;user=ip>;tag=9" CRLF CRLF), FAST,
	  REQ(INVITE), PRE_FIELDS, .to_aor = "bob@example.com" },
	{ "To IPv6 host with port",
	  MSG(PRE CID_A "To: <sip:bob@[2001:db8::5]:5060>" CRLF CRLF), FAST, REQ(INVITE),
	  PRE_FIELDS, .to_aor = "bob@[2001:db8::5]" },
	{ "To IPv6 host-only",
	  MSG(PRE CID_A "To: <sip:[2001:db8::5]>" CRLF CRLF), FAST, REQ(INVITE), PRE_FIELDS,
	  .to_aor = "[2001:db8::5]" },
	{ "To with URI headers",
	  MSG(PRE CID_A "To: <sip:bob@example.com?subject=project%20x>" CRLF CRLF), FAST,
	  REQ(INVITE), PRE_FIELDS, .to_aor = "bob@example.com" },
	{ "To without whitespace after the colon",
	  MSG(PRE CID_A "To:<sip:bob@example.com>" CRLF CRLF), FAST, REQ(INVITE), PRE_FIELDS,
	  .to_aor = "bob@example.com" },
	/* RFC 3261 sec. 19.1.6: the user part may hold ';' (user-unreserved). */
	{ "To user part with ; (telephone-subscriber, RFC 3261 19.1.6)",
	  MSG(PRE CID_A "To: <sip:+358-555-1234567;postd=pp22@foo.com;user=phone>" CRLF CRLF),
	  FAST, REQ(INVITE), PRE_FIELDS, .to_aor = "+358-555-1234567;postd=pp22@foo.com" },
	{ "To compact t: in REGISTER",
	  MSG(RLINE("REGISTER") VIA_A "t: sip:carol@chicago.example.com" CRLF CID_A CRLF), FAST,
	  REQ(REGISTER), PRE_FIELDS, .to_aor = "carol@chicago.example.com" },
	{ "To look-alikes: To-Tag, Tox, Timestamp",
	  MSG(PRE CID_A "To-Tag: <sip:fake1@x>" CRLF "Tox: <sip:fake2@x>" CRLF
	      "Timestamp: 54" CRLF "To: <sip:bob@example.com>" CRLF CRLF),
	  FAST, REQ(INVITE), PRE_FIELDS, .to_aor = "bob@example.com" },
	{ "two To lines: the first wins",
	  MSG(PRE CID_A "To: <sip:bob@example.com>" CRLF "To: <sip:mallory@example.com>" CRLF
	      CRLF), FAST, REQ(INVITE), PRE_FIELDS, .to_aor = "bob@example.com" },
	{ "no To: still fast, no AOR", MSG(PRE CID_A CRLF), FAST, REQ(INVITE), PRE_FIELDS,
	  .to_aor = NULL },
	{ "To display name longer than 240 bytes", .gen = gen_long_display_name, FAST,
	  REQ(REGISTER), PRE_FIELDS, .to_aor = "bob@example.com" },
	{ "To from a SIP trunk: display name and a long telephone-subscriber URI",
	  MSG(RLINE("INVITE") VIA_A CID_A "To: \"Customer Service (Main Line)\" "
	      "<sip:+15551234567;phone-context=example.com@trunk.provider.example.net;user=phone>"
	      CRLF CRLF), FAST, REQ(INVITE), PRE_FIELDS,
	  .to_aor = "+15551234567;phone-context=example.com@trunk.provider.example.net" },
	{ "To URI straddling byte 128 of the To value", .gen = gen_display_name_110, FAST,
	  REQ(REGISTER), PRE_FIELDS, .to_aor = "bob@example.com" },

	/* --- bodies --- */
	{ "INVITE with SDP body",
	  MSG(RLINE("INVITE") VIA_A TO_B CID_A "Content-Type: application/sdp" CRLF
	      "Content-Length: 60" CRLF CRLF "v=0" CRLF "o=- 1 1 IN IP4 192.0.2.1" CRLF "s=-" CRLF
	      "c=IN IP4 192.0.2.1" CRLF "t=0 0" CRLF),
	  FAST, REQ(INVITE), STD_REQ_FIELDS },
	{ "Call-ID in the body is not the Call-ID",
	  MSG(RLINE("MESSAGE") VIA_A TO_B CID_A "Content-Type: text/plain" CRLF
	      "Content-Length: 29" CRLF CRLF "Call-ID: fake" CRLF "Via: fake" CRLF "i: x" CRLF),
	  FAST, REQ(MESSAGE), STD_REQ_FIELDS },
	{ "Call-ID only in the body",
	  MSG(RLINE("MESSAGE") VIA_A TO_B "Content-Type: text/plain" CRLF "Content-Length: 15"
	      CRLF CRLF "Call-ID: fake" CRLF),
	  DROP(NO_CALLID), REQ(MESSAGE) },
	{ "Via only in the body",
	  MSG(RLINE("MESSAGE") TO_B CID_A "Content-Length: 35" CRLF CRLF
	      "Via: SIP/2.0/UDP h;branch=z9hG4bKx" CRLF),
	  DROP(NO_VIA), REQ(MESSAGE) },
	{ "big body beyond the window, headers inside", .gen = gen_big_body, FAST, REQ(INVITE),
	  PRE_FIELDS, .to_aor = AOR_B },

	/* --- folding (RFC 3261 sec. 7.3.1) --- */
	{ "folded Call-ID",
	  MSG(PRE "Call-ID: abc" CRLF " def@x" CRLF CRLF), SLOW(FOLDED), REQ(INVITE) },
	{ "Call-ID value on the continuation line",
	  MSG(PRE "Call-ID:" CRLF "\tabc@x" CRLF CRLF), SLOW(FOLDED), REQ(INVITE) },
	{ "folded compact i:",
	  MSG(PRE "i: abc" CRLF "  def" CRLF CRLF), SLOW(FOLDED), REQ(INVITE) },
	{ "folded top Via",
	  MSG(RLINE("INVITE") "Via: SIP/2.0/UDP h.example.com;" CRLF " branch=z9hG4bK1" CRLF CID_A
	      CRLF), SLOW(FOLDED), REQ(INVITE) },
	{ "folded To",
	  MSG(PRE CID_A "To: Bob" CRLF "\t<sip:bob@example.com>" CRLF CRLF), SLOW(FOLDED),
	  REQ(INVITE) },
	{ "folded Subject stays fast (RFC 3261 7.3.1 example)",
	  MSG(PRE "Subject: I know you're there," CRLF "         pick up the phone" CRLF
	      "         and talk to me!" CRLF CID_A CRLF), FAST, REQ(INVITE), PRE_FIELDS },
	{ "folded second Via stays fast",
	  MSG(PRE "Via: SIP/2.0/UDP second.example.com;" CRLF " branch=z9hG4bKsecond" CRLF CID_A
	      CRLF), FAST, REQ(INVITE), PRE_FIELDS },
	{ "folded header right after the Call-ID's successor stays fast",
	  MSG(PRE CID_A "Subject: a" CRLF " b" CRLF CRLF), FAST, REQ(INVITE), PRE_FIELDS },
	{ "line of only spaces after the Call-ID is a fold",
	  MSG(PRE CID_A "      " CRLF CRLF), SLOW(FOLDED), REQ(INVITE) },
	{ "lines of only spaces after an unrelated header", .gen = gen_space_lines, FAST,
	  REQ(INVITE), PRE_FIELDS },

	/* --- duplicates and missing headers --- */
	{ "two Call-ID headers", MSG(PRE CID_A "Call-ID: other@x" CRLF CRLF), DROP(DUP_CALLID),
	  REQ(INVITE) },
	{ "two identical Call-ID headers", MSG(PRE CID_A CID_A CRLF), DROP(DUP_CALLID),
	  REQ(INVITE) },
	{ "Call-ID and compact i", MSG(PRE CID_A "i: other@x" CRLF CRLF), DROP(DUP_CALLID),
	  REQ(INVITE) },
	{ "no Via", MSG(RLINE("INVITE") TO_B CID_A CRLF), DROP(NO_VIA), REQ(INVITE),
	  .callid = ID_A },
	{ "empty Via", MSG(RLINE("INVITE") "Via: " CRLF TO_B CID_A CRLF), DROP(NO_VIA),
	  REQ(INVITE) },
	{ "no Call-ID", MSG(PRE TO_B CRLF), DROP(NO_CALLID), REQ(INVITE) },
	{ "empty Call-ID", MSG(PRE "Call-ID:" CRLF CRLF), DROP(NO_CALLID), REQ(INVITE) },
	{ "blank Call-ID", MSG(PRE "Call-ID:   \t " CRLF CRLF), DROP(NO_CALLID), REQ(INVITE) },
	{ "response without Via", MSG("SIP/2.0 200 OK" CRLF CID_A CRLF), DROP(NO_VIA), RSP(200) },
	{ "response without Call-ID", MSG("SIP/2.0 200 OK" CRLF VIA_A CRLF), DROP(NO_CALLID),
	  RSP(200) },
	{ "status line straight into the blank line",
	  MSG("SIP/2.0 200 OK, but no headers at all" CRLF CRLF),
	  DROP(NO_CALLID), RSP(200) },

	/* --- truncated datagrams --- */
	{ "ends after the last header, no blank line", MSG(PRE CID_A), DROP(TRUNCATED),
	  REQ(INVITE), .hdr_end = HE_ZERO },
	{ "ends inside a header", MSG(PRE "Call-ID: a84b4c76e667"), DROP(TRUNCATED), REQ(INVITE),
	  .hdr_end = HE_ZERO },
	{ "ends inside the blank line", MSG(PRE CID_A "\r"), DROP(TRUNCATED), REQ(INVITE),
	  .hdr_end = HE_ZERO },
	{ "ends inside the start line (no SIP-Version yet)",
	  MSG("INVITE sip:bob@biloxi.example.com SIP/2"), DROP(NOT_SIP), .any_kind = 1,
	  .hdr_end = HE_ZERO },

	/* --- not SIP --- */
	{ "empty datagram", .msg = "", .len = 0, DROP(NOT_SIP) },
	{ "one byte", MSG("I"), DROP(NOT_SIP) },
	{ "tiny", MSG("INVITE sip:"), DROP(NOT_SIP) },
	{ "a lone LF", MSG("\n"), DROP(NOT_SIP) },
	{ "three CRLFs are not a keepalive", MSG("\r\n\r\n\r\n"), DROP(NOT_SIP) },
	{ "RFC 5626 ping CRLFCRLF", MSG("\r\n\r\n"), DROP(KEEPALIVE), .kind = SIP_KIND_KEEPALIVE },
	{ "RFC 5626 pong CRLF", MSG("\r\n"), DROP(KEEPALIVE), .kind = SIP_KIND_KEEPALIVE },
	{ "HTTP request",
	  MSG("GET / HTTP/1.1" CRLF "Host: example.com" CRLF "User-Agent: curl/8.0" CRLF
	      "Accept: */*" CRLF CRLF), DROP(NOT_SIP), .any_kind = 1 },
	{ "tiny HTTP request", MSG("GET / HTTP/1.0" CRLF CRLF), DROP(NOT_SIP), .any_kind = 1 },
	{ "HTTP response", MSG("HTTP/1.1 200 OK" CRLF "Content-Length: 0" CRLF CRLF),
	  DROP(NOT_SIP), .any_kind = 1 },
	{ "text without a line feed", MSG("hello there, this is not a SIP message at all"),
	  DROP(NOT_SIP), .any_kind = 1 },
	{ "STUN binding request",
	  MSG("\x00\x01\x00\x00\x21\x12\xa4\x42" "abcdefghijkl"), DROP(NOT_SIP) },
	{ "TLS ClientHello",
	  MSG("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" "0123456789abcdef0123456789"),
	  DROP(NOT_SIP) },
	{ "pseudo-random binary", .gen = gen_binary, DROP(NOT_SIP), .any_kind = 1 },
	{ "request line ending in HTTP/1.1",
	  MSG("INVITE sip:bob@biloxi.example.com HTTP/1.1" CRLF VIA_A CID_A CRLF),
	  DROP(NOT_SIP), .any_kind = 1 },
	{ "request line without version",
	  MSG("INVITE sip:bob@biloxi.example.com" CRLF VIA_A CID_A CRLF), DROP(NOT_SIP),
	  .any_kind = 1 },
	{ "request line with SIP/3.0",
	  MSG("INVITE sip:bob@biloxi.example.com SIP/3.0" CRLF VIA_A CID_A CRLF), DROP(NOT_SIP),
	  .any_kind = 1 },
	{ "request line with SIP/2.0x",
	  MSG("INVITE sip:bob@biloxi.example.com SIP/2.0x" CRLF VIA_A CID_A CRLF),
	  DROP(NOT_SIP), .any_kind = 1 },
	{ "request line version in lower case", MSG("INVITE " RURI " sip/2.0" CRLF VIA_A CID_A
	  CRLF), FAST, REQ(INVITE), PRE_FIELDS },
	{ "request line without Request-URI", MSG("INVITE SIP/2.0" CRLF VIA_A CID_A CRLF),
	  DROP(NOT_SIP), .any_kind = 1 },
	{ "method with a ( in it", MSG("INV(TE " RURI " SIP/2.0" CRLF VIA_A CID_A CRLF),
	  DROP(NOT_SIP), .any_kind = 1 },
	{ "leading space before the method", MSG(" INVITE " RURI " SIP/2.0" CRLF VIA_A CID_A CRLF),
	  DROP(NOT_SIP), .any_kind = 1 },
	{ "NUL in the method", MSG("INV\0TE " RURI " SIP/2.0" CRLF VIA_A CID_A CRLF),
	  DROP(NOT_SIP), .any_kind = 1 },
	{ "garbage after a token and a space, no line feed, past the window",
	  .gen = gen_token_then_binary, DROP(NOT_SIP), .any_kind = 1 },

	/* --- malformed line structure --- */
	{ "bare CR at the start of a header line",
	  MSG(PRE "\rX-Foo: bar" CRLF CID_A CRLF), DROP(MALFORMED), REQ(INVITE) },
	{ "bare CR inside the Call-ID value",
	  MSG(PRE "Call-ID: abc\rdef@x" CRLF CRLF), DROP(MALFORMED), REQ(INVITE) },
	{ "bare CR as the line end of the Call-ID",
	  MSG(PRE "Call-ID: abc@x\rTo: <sip:bob@example.com>" CRLF CRLF), DROP(MALFORMED),
	  REQ(INVITE) },

	/* --- the parse window (SIP_WINDOW = 2048) --- */
	{ "headers end beyond the window, Call-ID early", .gen = gen_beyond_window_early,
	  SLOW(BEYOND_WINDOW), REQ(INVITE) },
	{ "Call-ID beyond the window", .gen = gen_beyond_window_callid, SLOW(BEYOND_WINDOW),
	  REQ(INVITE) },
	{ "2048-byte datagram, headers end at its end", .gen = gen_hdr_end_2048, FAST,
	  REQ(INVITE), PRE_FIELDS },
	{ "headers end at 2048, body after", .gen = gen_hdr_end_2048_body, FAST, REQ(INVITE),
	  PRE_FIELDS },
	{ "2048-byte datagram without blank line", .gen = gen_no_blank_2048, DROP(TRUNCATED),
	  REQ(INVITE), .hdr_end = HE_ZERO },
	{ "2049-byte datagram without blank line", .gen = gen_no_blank_2049,
	  SLOW(BEYOND_WINDOW), REQ(INVITE), .hdr_end = HE_ZERO },

	/* --- hostile input --- */
	{ "NUL bytes in the body",
	  MSG(PRE CID_A "Content-Length: 8" CRLF CRLF "\0\0\0\0\0\0\0\0"), FAST, REQ(INVITE),
	  PRE_FIELDS },
	{ "NUL before a Call-ID name: not a Call-ID",
	  MSG(PRE "\0Call-ID: abc" CRLF CRLF), DROP(NO_CALLID), REQ(INVITE) },
	{ "3000 line feeds", .gen = gen_lf_3000, DROP(NOT_SIP) },
	{ "start line then 3000 line feeds", .gen = gen_start_lf_3000, DROP(NO_CALLID),
	  REQ(OPTIONS) },
	{ "headers then 3000 line feeds of body", .gen = gen_body_lf_3000, FAST, REQ(INVITE),
	  PRE_FIELDS },
	{ "3000 spaces", .gen = gen_spaces_3000, DROP(NOT_SIP) },
	{ "CR CR LF line end", MSG(PRE "Subject: x\r\r\n" CID_A CRLF), DROP(MALFORMED),
	  REQ(INVITE) },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* ------------------------------------------------------------------------ */
/* Generators                                                               */

static size_t put(char *b, size_t at, size_t cap, const char *s)
{
	size_t n = strlen(s);

	cr_assert(at + n <= cap, "generator overflow");
	memcpy(b + at, s, n);
	return at + n;
}

static size_t put_n(char *b, size_t at, size_t cap, int c, size_t n)
{
	cr_assert(at + n <= cap, "generator overflow");
	memset(b + at, c, n);
	return at + n;
}

/* "X-Pad: ppp...\r\n" so that the message reaches exactly target bytes. */
static size_t pad_to(char *b, size_t at, size_t cap, size_t target)
{
	size_t n;

	cr_assert(target >= at + 9, "pad target too small");
	n = target - at - 9;
	at = put(b, at, cap, "X-Pad: ");
	at = put_n(b, at, cap, 'p', n);
	return put(b, at, cap, CRLF);
}

static size_t gen_beyond_window_early(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, PRE CID_A);

	at = pad_to(b, at, cap, 2500);
	return put(b, at, cap, CRLF);
}

static size_t gen_beyond_window_callid(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, PRE);

	at = pad_to(b, at, cap, 2200);
	at = put(b, at, cap, CID_A);
	return put(b, at, cap, CRLF);
}

static size_t gen_big_body(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, PRE TO_B CID_A "Content-Type: text/plain" CRLF
				   "Content-Length: 2600" CRLF CRLF);
	size_t body = at;

	at = put_n(b, at, cap, 'b', 2000);
	at = put(b, at, cap, CRLF "Call-ID: fake" CRLF CRLF);
	return put_n(b, at, cap, 'c', 2600 - (at - body));
}

static size_t gen_hdr_end_2048(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, PRE CID_A);

	at = pad_to(b, at, cap, 2046);
	return put(b, at, cap, CRLF);
}

static size_t gen_hdr_end_2048_body(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, PRE CID_A "Content-Length: 100" CRLF);

	at = pad_to(b, at, cap, 2046);
	at = put(b, at, cap, CRLF);
	return put_n(b, at, cap, 'x', 100);
}

static size_t gen_no_blank_2048(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, PRE CID_A);

	return pad_to(b, at, cap, 2048);
}

static size_t gen_no_blank_2049(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, PRE CID_A);

	return pad_to(b, at, cap, 2049);
}

static char long_callid[1501];

static size_t gen_long_callid(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, PRE "Call-ID: ");
	int i;

	for (i = 0; i < 1500; i++)
		long_callid[i] = "0123456789abcdef"[i % 16];
	long_callid[1500] = 0;
	at = put(b, at, cap, long_callid);
	return put(b, at, cap, CRLF CRLF);
}

static size_t gen_lf_3000(char *b, size_t cap)
{
	return put_n(b, 0, cap, '\n', 3000);
}

static size_t gen_start_lf_3000(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, "OPTIONS sip:carol@chicago.example.com SIP/2.0" CRLF);

	return put_n(b, at, cap, '\n', 3000);
}

static size_t gen_body_lf_3000(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, PRE CID_A "Content-Length: 3000" CRLF CRLF);

	return put_n(b, at, cap, '\n', 3000);
}

static size_t gen_space_lines(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, PRE "Subject: spaces follow" CRLF);
	int i;

	for (i = 0; i < 40; i++)
		at = put(b, at, cap, "                    " CRLF);
	at = put(b, at, cap, CID_A);
	return put(b, at, cap, CRLF);
}

static size_t gen_spaces_3000(char *b, size_t cap)
{
	return put_n(b, 0, cap, ' ', 3000);
}

static __u32 prng(__u32 *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

static size_t gen_binary(char *b, size_t cap)
{
	__u32 s = 42;
	size_t i;

	cr_assert(cap >= 512);
	b[0] = (char)0x80;
	for (i = 1; i < 512; i++)
		b[i] = (char)prng(&s);
	return 512;
}

static size_t gen_token_then_binary(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, "A ");
	__u32 s = 7;

	while (at < 3000) {
		char c = (char)prng(&s);

		b[at++] = c == '\n' ? 0 : c;
	}
	return at;
}

static size_t gen_long_display_name(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, RLINE("REGISTER") VIA_A CID_A "To: \"");

	at = put_n(b, at, cap, 'N', 245);
	return put(b, at, cap, "\" <sip:bob@example.com>" CRLF CRLF);
}

static size_t gen_long_via_params(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, RLINE("INVITE") "Via: SIP/2.0/UDP h.example.com;x-long=");

	at = put_n(b, at, cap, 'L', 240);
	at = put(b, at, cap, ";branch=z9hG4bKafter-long-params" CRLF CID_A);
	return put(b, at, cap, CRLF);
}

/* The URI starts around byte 114 of the To value and ends around 134. */
static size_t gen_display_name_110(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, RLINE("REGISTER") VIA_A CID_A "To: \"");

	at = put_n(b, at, cap, 'N', 110);
	return put(b, at, cap, "\" <sip:bob@example.com>;tag=1" CRLF CRLF);
}

/* The branch value starts around byte 120 of the Via value. */
static size_t gen_via_params_straddle(char *b, size_t cap)
{
	size_t at = put(b, 0, cap, RLINE("INVITE") "Via: SIP/2.0/UDP h.example.com;x-long=");

	at = put_n(b, at, cap, 'L', 80);
	at = put(b, at, cap, ";branch=z9hG4bKafter-long-params" CRLF CID_A);
	return put(b, at, cap, CRLF);
}

static size_t gen_long_method(char *b, size_t cap)
{
	return put(b, 0, cap, STD_REQ("VERYLONGEXTMETHOD123"));
}

/* ------------------------------------------------------------------------ */
/* The checker                                                              */

static const char *vname(int verdict, int reason, int slot)
{
	static char s[2][64];

	if (verdict == SIP_VERDICT_FAST)
		snprintf(s[slot], sizeof(s[slot]), "fast");
	else if (verdict == SIP_VERDICT_SLOW && reason >= 0 && reason < SIPLB_SLOW__MAX)
		snprintf(s[slot], sizeof(s[slot]), "slow/%s", siplb_slow_names[reason]);
	else if (verdict == SIP_VERDICT_DROP && reason >= 0 && reason < SIPLB_DROP__MAX)
		snprintf(s[slot], sizeof(s[slot]), "drop/%s", siplb_drop_names[reason]);
	else
		snprintf(s[slot], sizeof(s[slot]), "?%d/%d", verdict, reason);
	return s[slot];
}

/* The header block ends after the first empty line (CRLF CRLF, or LF LF). */
static int blank_line_end(const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static int expected_hdr_end(const struct pcase *c, const __u8 *p, size_t len)
{
	if (c->hdr_end > 0)
		return c->hdr_end;
	if (c->hdr_end == HE_ZERO)
		return 0;
	if (c->verdict == SIP_VERDICT_FAST ||
	    (c->verdict == SIP_VERDICT_DROP && (c->reason == SIPLB_DROP_NO_CALLID ||
						c->reason == SIPLB_DROP_NO_VIA)))
		return blank_line_end(p, len);
	return 0;
}

/* Printable copy of a span for failure messages. */
static const char *show(const __u8 *p, size_t len, int slot)
{
	static char s[4][200];
	size_t i, o = 0;

	if (!p)
		return "(absent)";
	for (i = 0; i < len && o + 5 < sizeof(s[slot]); i++) {
		__u8 ch = p[i];

		if (ch >= 0x20 && ch < 0x7f) {
			s[slot][o++] = ch;
		} else {
			snprintf(s[slot] + o, 5, "\\x%02x", ch);
			o += 4;
		}
	}
	if (i < len && o + 4 < sizeof(s[slot])) {
		memcpy(s[slot] + o, "...", 3);
		o += 3;
	}
	s[slot][o] = 0;
	return s[slot];
}

struct got {
	const __u8 *callid, *sent_by, *branch, *aor;
	size_t callid_len, sent_by_len, branch_len, aor_len;
};

static void extract(const struct sip_win *w, __u32 off, const struct sip_msg *m,
		    struct got *g)
{
	const __u8 *pl = w->data + off;
	struct sip_via v;
	struct sip_aor a;

	memset(g, 0, sizeof(*g));
	if (m->callid_len) {
		g->callid = pl + m->callid_off;
		g->callid_len = m->callid_len;
	}
	if (!sip_via(w, off, m, &v)) {
		if (v.sent_by_len) {
			g->sent_by = pl + v.sent_by_off;
			g->sent_by_len = v.sent_by_len;
		}
		if (v.branch_len) {
			g->branch = pl + v.branch_off;
			g->branch_len = v.branch_len;
		}
	}
	if (!sip_to_aor(w, off, m, &a) && a.len) {
		g->aor = pl + a.off;
		g->aor_len = a.len;
	}
}

/* Compare an extracted span with the expected string; 1 if it matches. */
static int span_ok(int fast, const char *want, const __u8 *got, size_t got_len)
{
	if (!want)
		return !fast || !got;
	return got && got_len == strlen(want) && !memcmp(got, want, got_len);
}

static int failures;

#define EXPECT(cond, ...)                                         \
	do {                                                      \
		if (!(cond)) {                                    \
			bad++;                                    \
			cr_expect(0, __VA_ARGS__);                \
		}                                                 \
	} while (0)

/* Scan one message; returns the number of mismatches. */
static int check_bytes(const struct pcase *c, const __u8 *src, size_t len)
{
	__u8 *buf = malloc(len ? len : 1);	/* exact size: ASan sees over-reads */
	__u8 *frame;
	struct sip_win w;
	struct sip_msg m, m2;
	struct got g, g2;
	int v, fast, bad = 0, he;
	int ok_verdict;
	const __u32 off = 42;	/* Ethernet + IPv4 + UDP */

	cr_assert(buf);
	memcpy(buf, src, len);
	w.data = buf;
	w.end = buf + len;
	v = sip_scan(&w, 0, &m);
	fast = c->verdict == SIP_VERDICT_FAST;

	EXPECT(v == m.verdict, "%s: returned %d but m.verdict %d", c->name, v, m.verdict);
	ok_verdict = m.verdict == c->verdict && m.reason == c->reason;
	if (!ok_verdict && c->or_long_ws && m.verdict == SIP_VERDICT_SLOW &&
	    m.reason == SIPLB_SLOW_LONG_WS)
		ok_verdict = 2;
	EXPECT(ok_verdict, "%s: verdict %s, want %s", c->name, vname(m.verdict, m.reason, 0),
	       vname(c->verdict, c->reason, 1));
	if (ok_verdict == 2)
		fast = 0;
	if (!c->any_kind) {
		EXPECT(m.kind == c->kind, "%s: kind %d, want %d", c->name, m.kind, c->kind);
		EXPECT(m.method == c->method, "%s: method %d, want %d", c->name, m.method,
		       c->method);
		EXPECT(m.status == c->status, "%s: status %d, want %d", c->name, m.status,
		       c->status);
	}
	EXPECT(m.done == 1, "%s: verdict not final", c->name);
	if (ok_verdict != 2) {
		he = expected_hdr_end(c, buf, len);
		EXPECT(m.hdr_end == he, "%s: hdr_end %d, want %d", c->name, m.hdr_end, he);
	}
	EXPECT(m.hdr_end <= len, "%s: hdr_end %d past the end %zu", c->name, m.hdr_end, len);
	EXPECT((size_t)m.callid_off + m.callid_len <= len && (size_t)m.via_off + m.via_len <= len &&
	       (size_t)m.to_off + m.to_len <= len, "%s: a value lies past the end", c->name);

	extract(&w, 0, &m, &g);
	if (ok_verdict == 2) {
		/* the acceptable slow answer: no values to compare */
	} else if (c->gen == gen_long_callid) {
		EXPECT(span_ok(fast, long_callid, g.callid, g.callid_len),
		       "%s: Call-ID of %zu bytes, want 1500", c->name, g.callid_len);
	} else {
		EXPECT(span_ok(fast, c->callid, g.callid, g.callid_len),
		       "%s: Call-ID [%s], want [%s]", c->name, show(g.callid, g.callid_len, 0),
		       c->callid ? c->callid : "(absent)");
	}
	if (ok_verdict != 2) {
		EXPECT(span_ok(fast, c->sent_by, g.sent_by, g.sent_by_len),
		       "%s: Via sent-by [%s], want [%s]", c->name,
		       show(g.sent_by, g.sent_by_len, 1), c->sent_by ? c->sent_by : "(absent)");
		EXPECT(span_ok(fast, c->branch, g.branch, g.branch_len),
		       "%s: Via branch [%s], want [%s]", c->name,
		       show(g.branch, g.branch_len, 2), c->branch ? c->branch : "(absent)");
		EXPECT(span_ok(fast, c->to_aor, g.aor, g.aor_len), "%s: To AOR [%s], want [%s]",
		       c->name, show(g.aor, g.aor_len, 3), c->to_aor ? c->to_aor : "(absent)");
	}

	/* The same payload at an offset in a frame gives the same answer. */
	frame = malloc(off + len);
	cr_assert(frame);
	memset(frame, 0xee, off);
	memcpy(frame + off, src, len);
	w.data = frame;
	w.end = frame + off + len;
	sip_scan(&w, off, &m2);
	EXPECT(m2.verdict == m.verdict && m2.reason == m.reason && m2.kind == m.kind &&
	       m2.method == m.method && m2.status == m.status && m2.hdr_end == m.hdr_end &&
	       m2.callid_off == m.callid_off && m2.callid_len == m.callid_len &&
	       m2.via_off == m.via_off && m2.via_len == m.via_len && m2.to_off == m.to_off &&
	       m2.to_len == m.to_len,
	       "%s: scan at payload offset %u differs", c->name, off);
	extract(&w, off, &m2, &g2);
	EXPECT(g2.sent_by_len == g.sent_by_len && g2.branch_len == g.branch_len &&
	       g2.aor_len == g.aor_len &&
	       (!g.sent_by || g2.sent_by - (frame + off) == g.sent_by - buf) &&
	       (!g.branch || g2.branch - (frame + off) == g.branch - buf) &&
	       (!g.aor || g2.aor - (frame + off) == g.aor - buf),
	       "%s: Via/To details at payload offset %u differ", c->name, off);
	free(frame);
	free(buf);
	return bad;
}

static int check_case(const struct pcase *c)
{
	static char gbuf[8192];
	size_t len;

	if (c->gen) {
		len = c->gen(gbuf, sizeof(gbuf));
		return check_bytes(c, (const __u8 *)gbuf, len);
	}
	return check_bytes(c, (const __u8 *)c->msg, c->len);
}

Test(parser, table)
{
	size_t i;
	int bad_cases = 0;

	cr_assert(NCASES >= 80, "only %zu cases", NCASES);
	for (i = 0; i < NCASES; i++) {
		if (check_case(&cases[i])) {
			bad_cases++;
			cr_log_warn("parser case %zu failed: %s", i, cases[i].name);
		}
	}
	failures = bad_cases;
	cr_expect(bad_cases == 0, "%d of %zu parser cases failed", bad_cases, NCASES);
}

/* ------------------------------------------------------------------------ */
/* Message files under tests/msgs/ (tests run from the repository root)      */

struct fcase {
	const char *file;
	int verdict;
	int reason;
	int kind;
	int method;
	int status;
	const char *callid;
	const char *sent_by;
	const char *branch;
	const char *to_aor;
	int callid_min, callid_max;	/* where the Call-ID value must start, if set */
	int size;			/* exact file size, if set */
};

static const struct fcase files[] = {
	{ "invite.sip", FAST, REQ(INVITE), .callid = ID_A,
	  .sent_by = "pc33.atlanta.example.com:5060", .branch = BR_A, .to_aor = AOR_B,
	  .callid_min = 200, .callid_max = 300 },
	{ "invite_1400.sip", FAST, REQ(INVITE),
	  .callid = "3848276298220188511@atlanta.example.com",
	  .sent_by = "edge1.atlanta.example.com:5060", .branch = "z9hG4bK2d4790.1",
	  .to_aor = "+15551230000@biloxi.example.com", .callid_min = 950, .callid_max = 1050,
	  .size = 1400 },
	{ "ack.sip", FAST, REQ(ACK), .callid = ID_A, .sent_by = SB_A, .branch = "z9hG4bKnashds9",
	  .to_aor = AOR_B },
	{ "bye.sip", FAST, REQ(BYE), .callid = ID_A, .sent_by = "192.0.2.4",
	  .branch = "z9hG4bKnashds10", .to_aor = "alice@atlanta.example.com" },
	{ "cancel.sip", FAST, REQ(CANCEL), .callid = ID_A, .sent_by = SB_A, .branch = BR_A,
	  .to_aor = AOR_B },
	{ "ok200.sip", FAST, RSP(200), .callid = ID_A, .sent_by = "server10.biloxi.example.com",
	  .branch = "z9hG4bKnashds8", .to_aor = AOR_B },
	{ "ringing180.sip", FAST, RSP(180), .callid = ID_A, .sent_by = SB_A, .branch = BR_A,
	  .to_aor = AOR_B },
	{ "register.sip", FAST, REQ(REGISTER), .callid = "843817637684230@998sdasdh09",
	  .sent_by = "bobspc.biloxi.example.com:5060", .branch = "z9hG4bKnashds7",
	  .to_aor = AOR_B },
	{ "options.sip", FAST, REQ(OPTIONS), .callid = "a84b4c76e66710", .sent_by = SB_A,
	  .branch = "z9hG4bKhjhs8ass877", .to_aor = "carol@chicago.example.com" },
	{ "compact.sip", FAST, REQ(INVITE), .callid = ID_A, .sent_by = SB_A,
	  .branch = "z9hG4bKcompact", .to_aor = AOR_B },
	{ "ipv6_via.sip", FAST, REQ(INVITE), .callid = "v6call-1@2001:db8::1",
	  .sent_by = "[2001:db8::1]:5060", .branch = "z9hG4bKv6abc",
	  .to_aor = "bob@[2001:db8::5]" },
	{ "folded_subject.sip", FAST, REQ(INVITE),
	  .callid = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com", .sent_by = SB_A,
	  .branch = "z9hG4bKfold2", .to_aor = AOR_B },
	{ "folded.sip", SLOW(FOLDED), REQ(INVITE) },
	{ "no_callid.sip", DROP(NO_CALLID), REQ(OPTIONS) },
	{ "garbage.bin", DROP(NOT_SIP) },
	{ "keepalive.bin", DROP(KEEPALIVE), .kind = SIP_KIND_KEEPALIVE },
};

static __u8 *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	__u8 *p;
	long n;

	cr_assert(f, "cannot open %s (run from the repository root)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc(n ? n : 1);
	cr_assert(p);
	cr_assert(fread(p, 1, n, f) == (size_t)n);
	fclose(f);
	*len = n;
	return p;
}

/* Content-Length (or compact l) of the header block [0, hdr_end), -1 if none. */
static long content_length(const __u8 *p, size_t hdr_end)
{
	size_t i;

	for (i = 0; i + 3 < hdr_end; i++) {
		const char *s = (const char *)p + i + 1;
		size_t rest = hdr_end - i - 1;

		if (p[i] != '\n')
			continue;
		if (rest > 15 && !strncasecmp(s, "Content-Length:", 15))
			return strtol(s + 15, NULL, 10);
		if (rest > 2 && (s[0] == 'l' || s[0] == 'L') && s[1] == ':')
			return strtol(s + 2, NULL, 10);
	}
	return -1;
}

Test(parser, message_files)
{
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const struct fcase *f = &files[i];
		struct pcase c = {
			.name = f->file, .verdict = f->verdict, .reason = f->reason,
			.kind = f->kind, .method = f->method, .status = f->status,
			.callid = f->callid, .sent_by = f->sent_by, .branch = f->branch,
			.to_aor = f->to_aor,
		};
		char path[256];
		struct sip_win w;
		struct sip_msg m;
		size_t len;
		__u8 *p;

		snprintf(path, sizeof(path), "tests/msgs/%s", f->file);
		p = read_file(path, &len);
		cr_expect(check_bytes(&c, p, len) == 0, "%s: mismatches (see above)", f->file);
		w.data = p;
		w.end = p + len;
		sip_scan(&w, 0, &m);
		if (f->size)
			cr_expect(len == (size_t)f->size, "%s: %zu bytes, want %d", f->file, len,
				  f->size);
		if (f->callid_max)
			cr_expect(m.callid_off >= f->callid_min && m.callid_off <= f->callid_max,
				  "%s: Call-ID at %d, want %d..%d", f->file, m.callid_off,
				  f->callid_min, f->callid_max);
		if (f->verdict == SIP_VERDICT_FAST) {
			/* the body is exactly Content-Length bytes after hdr_end */
			long cl = content_length(p, m.hdr_end);

			cr_expect(cl >= 0, "%s: no Content-Length", f->file);
			cr_expect(m.hdr_end + cl == (long)len,
				  "%s: hdr_end %d + Content-Length %ld != size %zu", f->file,
				  m.hdr_end, cl, len);
		}
		free(p);
	}
}

/* The same Call-ID hashes the same in a request and in its responses. */
Test(parser, callid_hash_same_across_dialog)
{
	static const char *names[] = { "invite.sip", "ack.sip", "bye.sip", "ok200.sip",
				       "ringing180.sip", "cancel.sip", "compact.sip" };
	struct siplb_hash_key key = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };
	__u64 first = 0;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[256];
		struct sip_win w;
		struct sip_msg m;
		size_t len;
		__u8 *p;
		__u64 h;

		snprintf(path, sizeof(path), "tests/msgs/%s", names[i]);
		p = read_file(path, &len);
		w.data = p;
		w.end = p + len;
		cr_expect(sip_scan(&w, 0, &m) == SIP_VERDICT_FAST, "%s not fast", names[i]);
		h = siplb_hash(&w, m.callid_off, m.callid_len, key.k0, key.k1);
		cr_expect(h == siplb_hash_buf(ID_A, strlen(ID_A), &key),
			  "%s: Call-ID hash differs from the hash of the Call-ID string",
			  names[i]);
		if (i == 0)
			first = h;
		cr_expect(h == first, "%s: hash differs from invite.sip", names[i]);
		free(p);
	}
}

/* Every truncation of a valid message is a drop or a slow verdict, never out of bounds. */
Test(parser, every_prefix_of_invite)
{
	size_t len, n;
	__u8 *p = read_file("tests/msgs/invite.sip", &len);

	for (n = 0; n <= len; n++) {
		__u8 *q = malloc(n ? n : 1);
		struct sip_win w = { q, q + n };
		struct sip_msg m;
		int v;

		memcpy(q, p, n);
		v = sip_scan(&w, 0, &m);
		if (n < len && (size_t)blank_line_end(p, n) == 0)
			cr_expect(v == SIP_VERDICT_DROP &&
				  (m.reason == SIPLB_DROP_TRUNCATED ||
				   m.reason == SIPLB_DROP_NOT_SIP),
				  "prefix %zu: %s", n, vname(m.verdict, m.reason, 0));
		else
			cr_expect(v == SIP_VERDICT_FAST, "prefix %zu: %s", n,
				  vname(m.verdict, m.reason, 0));
		free(q);
	}
	free(p);
}

/* ------------------------------------------------------------------------ */
/* The To tag: a request with one is in-dialog (RFC 3261 12.2)              */

struct tag_case {
	const char *to;		/* the To value */
	int tag;		/* sip_to_tag's answer */
};

static const struct tag_case tag_cases[] = {
	{ "Bob <sip:bob@biloxi.example.com>", 0 },
	{ "Bob <sip:bob@biloxi.example.com>;tag=a6c85cf", 1 },
	{ "<sip:bob@biloxi.example.com>;TAG=x", 1 },
	{ "sip:bob@biloxi.example.com;tag=x", 1 },
	{ "sip:bob@biloxi.example.com ; tag = x", 1 },
	{ "<sip:bob@biloxi.example.com>;transport=udp;tag=x", 1 },
	{ "<sip:bob@biloxi.example.com;tag=x>", 0 },		/* a URI parameter */
	{ "\"A ;tag=x\" <sip:bob@biloxi.example.com>", 0 },	/* inside the display name */
	{ "\"A \\\";tag=x\" <sip:bob@b.example.com>", 0 },	/* escaped quote */
	{ "<sip:bob@biloxi.example.com>;tagx=1", 0 },
	{ "<sip:bob@biloxi.example.com>;xtag=1", 0 },
	{ "<sip:bob@biloxi.example.com>;tag", 0 },
	{ "<sip:bob@biloxi.example.com>;;tag=1", 1 },
	{ "<sip:bob@biloxi.example.com>;ta;tag=1", 1 },
};

Test(parser, to_tag_marks_in_dialog_requests)
{
	char msg[1024];
	size_t i;

	for (i = 0; i < sizeof(tag_cases) / sizeof(tag_cases[0]); i++) {
		const struct tag_case *c = &tag_cases[i];
		struct sip_win win;
		struct sip_msg m;
		int n;

		n = snprintf(msg, sizeof(msg),
			     RLINE("BYE") VIA_A MF "To: %s" CRLF FROM_A CID_A
			     "CSeq: 2 BYE" CRLF CL0, c->to);
		cr_assert(n > 0 && (size_t)n < sizeof(msg));
		win.data = (const __u8 *)msg;
		win.end = (const __u8 *)msg + n;
		cr_assert_eq(sip_scan(&win, 0, &m), SIP_VERDICT_FAST, "To: %s", c->to);
		cr_expect_eq(sip_to_tag(&win, 0, &m), c->tag, "To: %s: tag %d, want %d",
			     c->to, !c->tag, c->tag);
	}
}
