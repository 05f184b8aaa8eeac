/* health.h: SIP OPTIONS health checking of backends, as pure logic (no sockets, no clock). */
#ifndef SIPLB_HEALTH_H
#define SIPLB_HEALTH_H

/*
 * One struct health_state per backend. The caller owns the socket, the timer
 * and the clock: it asks health_due() whether a probe is due, sends what
 * health_probe_begin() built, feeds every datagram from the backend to
 * health_on_response() and calls health_on_timeout() when the probe's timeout
 * has passed. Time is always passed in as now_ms (a monotonic clock), so
 * the logic is deterministic and testable.
 *
 * Settings are config.h's struct siplb_cfg_health (interval_ms, timeout_ms,
 * fall, rise, accept_any, accept[], n_accept), used as is.
 *
 * Initial state: the caller chooses it in health_init(); siplbd passes
 * SIPLB_BE_UP, so a configured backend takes traffic at once and is taken
 * out after `fall` consecutive failures (the usual practice: a restart of
 * siplbd does not empty the pool while the first probes are in flight).
 * Until the first verdict, probed is false: the state is the configured one,
 * not one the probes have confirmed. Health state is only UP or DOWN;
 * draining is an operator's state, kept elsewhere.
 */

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "config.h"
#include "siplb_maps.h"

/* Results kept per backend, newest last. */
#define HEALTH_HISTORY 16
/* Bytes of a transition reason, with its terminator. */
#define HEALTH_REASON_MAX 64
/* Bytes of a Via branch we generate, with its terminator. */
#define HEALTH_BRANCH_MAX 48
/* The RFC 3261 magic cookie every branch starts with. */
#define HEALTH_BRANCH_COOKIE "z9hG4bK"

enum health_result {
	HEALTH_OK = 0,		/* an accepted final response */
	HEALTH_TIMEOUT,		/* no final response within timeout_ms */
	HEALTH_BAD_STATUS,	/* a final response whose code is not accepted */
};

struct health_event {
	__u64 at_ms;		/* when the verdict was reached */
	__u32 rtt_ms;		/* probe sent to verdict */
	__u16 status;		/* response code; 0 for a timeout */
	__u8 result;		/* enum health_result */
};

struct health_counters {
	__u64 sent;		/* probes begun */
	__u64 ok;
	__u64 timeouts;
	__u64 bad_status;
	__u64 ignored;		/* datagrams not answering the outstanding probe */
	__u64 transitions;	/* UP -> DOWN and DOWN -> UP */
};

/* Who a probe is from and to, and what makes its identifiers unique. */
struct health_probe_id {
	struct siplb_cfg_addr src;	/* our address: Via sent-by and From */
	__u16 src_port;
	struct siplb_cfg_addr dst;	/* the backend: Request-URI and To */
	__u16 dst_port;
	__u32 backend_id;
	/*
	 * Random per process: a siplbd restarted with the same sequence
	 * numbers does not take an old probe's answer for a new one.
	 */
	__u32 nonce;
	__u64 seq;			/* per backend, one per probe */
};

struct health_state {
	__u32 backend_id;
	__u8 state;		/* enum siplb_backend_state: SIPLB_BE_UP or SIPLB_BE_DOWN */
	bool probed;		/* a verdict has been reached since health_init() */
	bool pending;		/* a probe is outstanding */
	__u32 ok_run;		/* consecutive successes */
	__u32 fail_run;		/* consecutive failures */
	__u8 fail_kinds;	/* 1 << enum health_result of each failure in fail_run */
	__u16 last_bad;		/* last unaccepted status code in fail_run */
	__u64 seq;		/* the next probe's sequence number */
	__u64 sent_ms;		/* when the outstanding (or last) probe was sent */
	bool ever_sent;
	char branch[HEALTH_BRANCH_MAX];	/* the outstanding probe's Via branch */
	__u8 branch_len;
	__u64 changed_ms;	/* last state change; 0 = none yet */
	char reason[HEALTH_REASON_MAX];	/* why of the last state change */
	struct health_event hist[HEALTH_HISTORY];	/* ring */
	__u32 hist_next;	/* next slot to write */
	__u32 hist_len;		/* valid entries, at most HEALTH_HISTORY */
	struct health_counters cnt;
};

/* Start tracking backend_id in state (SIPLB_BE_UP or SIPLB_BE_DOWN). */
void health_init(struct health_state *h, __u32 backend_id, __u8 state);

/*
 * Write the branch ("z9hG4bK" + token) of the probe id into out. Returns its
 * length, or -ENOSPC.
 */
int health_branch(const struct health_probe_id *id, char *out, size_t len);

/*
 * Build a SIP OPTIONS request for id into buf: Request-URI sip:DST:PORT,
 * Via with sent-by SRC:PORT and the id's branch, Max-Forwards 70, From with
 * a tag, To, a Call-ID unique per probe, CSeq, User-Agent siplb and
 * Content-Length 0. IPv6 addresses in brackets. buf is NUL-terminated.
 * Returns the length (without the NUL), -EINVAL for an address of no
 * family, or -ENOSPC.
 */
int health_build_options(char *buf, size_t len, const struct health_probe_id *id);

/*
 * True when a probe should be sent: none outstanding, and none sent yet or
 * the last one sent interval_ms ago or more.
 */
bool health_due(const struct health_state *h, const struct siplb_cfg_health *cfg,
		__u64 now_ms);

/*
 * Begin a probe: take the next sequence number into id->seq (id->backend_id
 * is set from h), build the OPTIONS into buf and remember its branch as the
 * outstanding one. A probe still outstanding is forgotten without a verdict.
 * Returns the length to send, or what health_build_options() returns.
 */
int health_probe_begin(struct health_state *h, struct health_probe_id *id,
		       char *buf, size_t len, __u64 now_ms);

/*
 * A datagram from the backend. It is parsed with the shared parser; only a
 * response whose top Via branch is the outstanding probe's counts.
 * A final response accepted by cfg is a success; another final response is
 * a failure ("bad status 503"); a final response after timeout_ms is a
 * timeout. reason (may be NULL) receives the transition's reason when the
 * state changes, else a description of the result.
 *
 * Returns 1 when the state changed, 0 for a verdict without change,
 * -EINPROGRESS for a provisional (1xx) response (still waiting), -ENOENT when
 * it does not answer the outstanding probe (none outstanding, no branch or
 * another branch: stale or forged), -EBADMSG when it is not a SIP response.
 */
int health_on_response(struct health_state *h, const void *msg, size_t len,
		       const struct siplb_cfg_health *cfg, __u64 now_ms,
		       char *reason, size_t reason_len);

/*
 * The outstanding probe's timeout. Returns 1 when the state changed, 0 when
 * not, -ENOENT when no probe is outstanding, -EAGAIN when timeout_ms has not
 * yet passed since it was sent. reason as for health_on_response().
 */
int health_on_timeout(struct health_state *h, const struct siplb_cfg_health *cfg,
		      __u64 now_ms, char *reason, size_t reason_len);

/* Copy the history, oldest first, into out[HEALTH_HISTORY]; returns the count. */
__u32 health_history(const struct health_state *h, struct health_event *out);

/* "ok", "timeout" or "bad-status". */
const char *health_result_name(__u8 result);

#endif /* SIPLB_HEALTH_H */
