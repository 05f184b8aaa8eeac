// SPDX-License-Identifier: GPL-2.0
/* sipresp.c: a UDP SIP responder for tests: answers OPTIONS (and more) and logs every message. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sipmsg.h"

#define MAX_BINDS 16
#define RECV_MAX 65536
#define REPLY_MAX 8192
#define LOG_BUF 65536		/* log lines gathered per wakeup, written at once */
#define BATCH 256		/* datagrams read from one socket per wakeup */
#define RCVBUF (8 << 20)	/* room for bursts from sipstream */

static volatile sig_atomic_t got_term, got_usr1;

static struct {
	const char *name;
	int log_fd;
	bool muted;		/* SIGUSR1: do not answer OPTIONS (a dead backend) */
	bool answer_other;	/* answer requests other than OPTIONS (not ACK) */
	int options_status;	/* status code of the OPTIONS answer */
	char logbuf[LOG_BUF];
	size_t loglen;
	unsigned long long received, answered;
} s = { .name = "sipresp", .log_fd = -1, .answer_other = true, .options_status = 200 };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sipresp --bind ADDR:PORT [--bind ADDR:PORT...] [--log FILE] [--name NAME]\n"
		"               [--no-answer-other] [--options-status CODE] [--muted]\n"
		"\n"
		"A UDP SIP responder for siplb's tests, demo and bench. Answers OPTIONS with\n"
		"\"200 OK\" (Via, From, To with a tag added, Call-ID and CSeq copied;\n"
		"Content-Length: 0) and every other request except ACK with 200 OK too.\n"
		"Appends one line per SIP message received to the log:\n"
		"  NAME METHOD-OR-STATUS CALL-ID SRC-IP:PORT   (IPv6 as [addr]:port, '-' if none)\n"
		"Lines are written (O_APPEND) after each batch of datagrams, so several\n"
		"responders may share one log file.\n"
		"\n"
		"  -b, --bind ADDR:PORT      IPv4 a.b.c.d:port or IPv6 [addr]:port; repeatable.\n"
		"                            Binds with IP_FREEBIND: the address (e.g. a VIP on\n"
		"                            lo) need not exist yet.\n"
		"  -l, --log FILE            append the per-message lines to FILE\n"
		"  -n, --name NAME           first word of each log line (default sipresp)\n"
		"  -N, --no-answer-other     answer OPTIONS only\n"
		"  -s, --options-status CODE status of the OPTIONS answer (default 200)\n"
		"  -m, --muted               start muted\n"
		"  -h, --help                this text\n"
		"\n"
		"Signals: SIGUSR1 toggles \"mute\" (no answer to OPTIONS: a dead backend for\n"
		"health checks); SIGTERM or SIGINT exits with status 0.\n");
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

/* "a.b.c.d:port" or "[v6]:port" into ss. Returns 0 or -1. */
static int parse_hostport(const char *arg, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = arg;
	size_t hl;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (*arg == '[') {
		const char *rb = strchr(arg, ']');

		if (!rb || rb[1] != ':')
			return -1;
		h = arg + 1;
		hl = rb - h;
		colon = rb + 1;
	} else {
		colon = strrchr(arg, ':');
		if (!colon)
			return -1;
		hl = colon - arg;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
		return -1;
	if (*arg != '[') {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -1;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -1;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		*len = sizeof(*a);
	}
	return 0;
}

static void fmt_addr(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const void *)ss;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(a->sin_port));
	}
}

static int open_socket(const char *arg)
{
	struct sockaddr_storage ss;
	int fd, one = 1, rcv = RCVBUF;
	socklen_t len;

	if (parse_hostport(arg, &ss, &len)) {
		fprintf(stderr, "sipresp: bad --bind '%s' (want a.b.c.d:port or [v6]:port)\n",
			arg);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "sipresp: socket: %s\n", strerror(errno));
		return -1;
	}
	/* FREEBIND: a VIP may be added to lo after we start. */
	if (ss.ss_family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
	} else {
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		fprintf(stderr, "sipresp: bind %s: %s\n", arg, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void log_flush(void)
{
	size_t off = 0;

	while (s.log_fd >= 0 && off < s.loglen) {
		ssize_t n = write(s.log_fd, s.logbuf + off, s.loglen - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "sipresp: write log: %s\n", strerror(errno));
			break;
		}
		off += n;
	}
	s.loglen = 0;
}

static void log_line(const char *what, const char *cid, size_t cid_len,
		     const struct sockaddr_storage *src)
{
	char from[INET6_ADDRSTRLEN + 10];
	int n;

	if (s.log_fd < 0)
		return;
	if (s.loglen > LOG_BUF - 1024)
		log_flush();
	if (!cid_len) {
		cid = "-";
		cid_len = 1;
	}
	if (cid_len > 512)
		cid_len = 512;
	fmt_addr(src, from, sizeof(from));
	n = snprintf(s.logbuf + s.loglen, LOG_BUF - s.loglen, "%s %s %.*s %s\n", s.name,
		     what, (int)cid_len, cid, from);
	if (n > 0 && (size_t)n < LOG_BUF - s.loglen)
		s.loglen += n;
}

static bool name_is(const char *p, size_t len, const char *full, const char *compact)
{
	return (strlen(full) == len && !strncasecmp(p, full, len)) ||
	       (compact && strlen(compact) == len && !strncasecmp(p, compact, len));
}

/* Does the To value [p, p+len) carry a tag parameter? */
static bool has_tag(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i + 4 <= len; i++)
		if (p[i] == ';' && i + 5 <= len) {
			size_t j = i + 1;

			while (j < len && (p[j] == ' ' || p[j] == '\t'))
				j++;
			if (j + 4 <= len && !strncasecmp(p + j, "tag", 3) &&
			    (p[j + 3] == '=' || p[j + 3] == ' '))
				return true;
		}
	return false;
}

/* Append len bytes to out (size REPLY_MAX); false when it does not fit. */
static bool put(char *out, size_t *used, const char *p, size_t len)
{
	if (*used + len > REPLY_MAX)
		return false;
	memcpy(out + *used, p, len);
	*used += len;
	return true;
}

static const char *reason_of(int code)
{
	switch (code) {
	case 200: return "OK";
	case 404: return "Not Found";
	case 480: return "Temporarily Unavailable";
	case 486: return "Busy Here";
	case 500: return "Server Internal Error";
	case 503: return "Service Unavailable";
	default: return "Response";
	}
}

/*
 * Build the answer to a request in buf: the status line, then the Via, From,
 * To (tagged), Call-ID and CSeq lines copied in order (folded lines too).
 * Also finds the Call-ID value when the shared parser gave none (beyond its
 * window). Returns the reply length, 0 if it cannot be built.
 */
static size_t build_reply(const char *buf, size_t len, int code, char *out,
			  const char **cid, size_t *cid_len)
{
	const char *end = buf + len, *p, *line;
	bool copying = false, to_open = false;
	size_t used = 0;
	char tmp[128];
	int n;

	n = snprintf(tmp, sizeof(tmp), "SIP/2.0 %d %s\r\n", code, reason_of(code));
	put(out, &used, tmp, n);
	p = memchr(buf, '\n', len);
	if (!p)
		return 0;
	p++;
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p), *le, *colon, *ne;

		line = p;
		le = nl ? nl : end;
		p = nl ? nl + 1 : end;
		if (le > line && le[-1] == '\r')
			le--;
		if (le == line)
			break;				/* the blank line */
		if (*line == ' ' || *line == '\t') {	/* folded onto the last header */
			if (copying && (!put(out, &used, line, le - line) ||
					!put(out, &used, "\r\n", 2)))
				return 0;
			continue;
		}
		/* Close a To line whose value ended without a tag. */
		if (to_open) {
			used -= 2;
			n = snprintf(tmp, sizeof(tmp), ";tag=sr%lx\r\n",
				     (unsigned long)(s.answered * 2654435761u + 1));
			if (!put(out, &used, tmp, n))
				return 0;
			to_open = false;
		}
		colon = memchr(line, ':', le - line);
		copying = false;
		if (!colon)
			continue;
		ne = colon;
		while (ne > line && (ne[-1] == ' ' || ne[-1] == '\t'))
			ne--;
		if (name_is(line, ne - line, "Via", "v") || name_is(line, ne - line, "From", "f") ||
		    name_is(line, ne - line, "CSeq", NULL) ||
		    name_is(line, ne - line, "Call-ID", "i") || name_is(line, ne - line, "To", "t"))
			copying = true;
		if (!copying)
			continue;
		if (!put(out, &used, line, le - line) || !put(out, &used, "\r\n", 2))
			return 0;
		if (name_is(line, ne - line, "To", "t") && !has_tag(colon + 1, le - colon - 1))
			to_open = true;
		if (name_is(line, ne - line, "Call-ID", "i") && !*cid_len) {
			const char *v = colon + 1, *ve = le;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*cid = v;
			*cid_len = ve - v;
		}
	}
	if (to_open) {
		used -= 2;
		n = snprintf(tmp, sizeof(tmp), ";tag=sr%lx\r\n",
			     (unsigned long)(s.answered * 2654435761u + 1));
		if (!put(out, &used, tmp, n))
			return 0;
	}
	n = snprintf(tmp, sizeof(tmp), "Server: siplb-sipresp %.40s\r\nContent-Length: 0\r\n\r\n",
		     s.name);
	if (!put(out, &used, tmp, n))
		return 0;
	return used;
}

static void handle(int fd, char *buf, size_t len, const struct sockaddr_storage *src,
		   socklen_t srclen)
{
	static char reply[REPLY_MAX];
	struct sipmsg_info info;
	const char *cid = NULL;
	size_t cid_len = 0, rlen;
	char what[SIP_METHOD_MAX + 8];
	bool answer = false;
	int code = 200;

	s.received++;
	sipmsg_parse(buf, len, &info);
	if (info.call_id.set) {
		cid = info.call_id.p;
		cid_len = info.call_id.len;
	}
	switch (info.msg.kind) {
	case SIP_KIND_REQUEST:
		snprintf(what, sizeof(what), "%.*s", (int)info.method.len, info.method.p);
		if (info.msg.method == SIP_METHOD_OPTIONS) {
			answer = !s.muted;
			code = s.options_status;
		} else {
			answer = s.answer_other && info.msg.method != SIP_METHOD_ACK;
		}
		break;
	case SIP_KIND_RESPONSE:
		snprintf(what, sizeof(what), "%u", info.msg.status);
		break;
	case SIP_KIND_KEEPALIVE:
		snprintf(what, sizeof(what), "KEEPALIVE");
		break;
	default:
		snprintf(what, sizeof(what), "NOTSIP");
		break;
	}
	/* build_reply also finds a Call-ID the parser's window missed. */
	rlen = info.msg.kind == SIP_KIND_REQUEST ?
	       build_reply(buf, len, code, reply, &cid, &cid_len) : 0;
	log_line(what, cid, cid_len, src);
	if (answer && rlen) {
		if (sendto(fd, reply, rlen, 0, (const struct sockaddr *)src, srclen) == (ssize_t)rlen)
			s.answered++;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "log", required_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'n' },
		{ "no-answer-other", no_argument, NULL, 'N' },
		{ "options-status", required_argument, NULL, 's' },
		{ "muted", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *binds[MAX_BINDS], *log_path = NULL;
	struct pollfd pfd[MAX_BINDS];
	static char buf[RECV_MAX];
	int n_binds = 0, opt, i;
	struct sigaction sa;
	sigset_t block, empty;

	while ((opt = getopt_long(argc, argv, "b:l:n:Ns:mh", opts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			if (n_binds == MAX_BINDS) {
				fprintf(stderr, "sipresp: at most %d --bind\n", MAX_BINDS);
				return 2;
			}
			binds[n_binds++] = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'n':
			s.name = optarg;
			break;
		case 'N':
			s.answer_other = false;
			break;
		case 's':
			s.options_status = atoi(optarg);
			if (s.options_status < 100 || s.options_status > 699) {
				fprintf(stderr, "sipresp: bad status '%s'\n", optarg);
				return 2;
			}
			break;
		case 'm':
			s.muted = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!n_binds || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (log_path) {
		s.log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (s.log_fd < 0) {
			fprintf(stderr, "sipresp: open %s: %s\n", log_path, strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < n_binds; i++) {
		pfd[i].fd = open_socket(binds[i]);
		pfd[i].events = POLLIN;
		if (pfd[i].fd < 0)
			return 1;
	}

	/* Signals only interrupt ppoll: no race between a check and the wait. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&empty);

	fprintf(stderr, "sipresp %s: listening on", s.name);
	for (i = 0; i < n_binds; i++)
		fprintf(stderr, " %s", binds[i]);
	fprintf(stderr, "%s\n", s.muted ? " (muted)" : "");

	while (!got_term) {
		int rc = ppoll(pfd, n_binds, NULL, &empty);

		if (got_usr1) {
			got_usr1 = 0;
			s.muted = !s.muted;
			fprintf(stderr, "sipresp %s: %s\n", s.name, s.muted ? "muted" : "unmuted");
		}
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "sipresp: poll: %s\n", strerror(errno));
			break;
		}
		for (i = 0; i < n_binds; i++) {
			int k;

			if (!(pfd[i].revents & POLLIN))
				continue;
			for (k = 0; k < BATCH; k++) {
				struct sockaddr_storage src;
				socklen_t srclen = sizeof(src);
				ssize_t n = recvfrom(pfd[i].fd, buf, sizeof(buf), 0,
						     (struct sockaddr *)&src, &srclen);

				if (n < 0)
					break;
				handle(pfd[i].fd, buf, n, &src, srclen);
			}
		}
		log_flush();
	}
	log_flush();
	fprintf(stderr, "sipresp %s: received %llu answered %llu\n", s.name, s.received,
		s.answered);
	return 0;
}
