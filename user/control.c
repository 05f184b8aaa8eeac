// SPDX-License-Identifier: GPL-2.0
/* control.c: the control socket: the server in siplbd's epoll loop, the client in siplbctl. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control.h"

/* Bytes read per read() call, and per client per ctl_server_process() (fairness). */
#define CTL_CHUNK	 65536
#define CTL_READ_BUDGET	 (1u << 20)
/* Stop taking requests from a client that does not read its answers. */
#define CTL_WBUF_HIGH	 (4u << 20)
/* Beyond this many clients, new connections are closed at once. */
#define CTL_MAX_CLIENTS	 1024
/* The client accepts answers up to this size (a big backends list). */
#define CTL_MAX_ANSWER	 (256u << 20)

struct ctl_client {
	struct ctl_client *next, *prev;
	int fd;
	char *rbuf;
	size_t rlen, rcap;
	size_t scanned;		/* rbuf[0..scanned) holds no newline */
	char *wbuf;
	size_t wlen, woff, wcap;
	bool eof;		/* peer will send nothing more */
	bool closing;		/* close once wbuf is flushed */
	uint32_t events;	/* what epoll watches now */
};

struct ctl_server {
	int lfd;
	int ep;
	char *path;
	dev_t dev;		/* the socket file we bound, so close unlinks only ours */
	ino_t ino;
	const struct ctl_command *cmds;
	size_t ncmds;
	void *arg;
	struct ctl_client *clients;
	size_t nclients;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int ctl_socket_path(char *buf, size_t len, const char *instance)
{
	int n;

	if (!instance || !*instance || strchr(instance, '/'))
		return -EINVAL;
	n = snprintf(buf, len, "%s/%s.sock", CTL_DIR, instance);
	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (!*path || strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* mkdir -p of the directory holding path, new directories 0755. */
static int mkdir_parents(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *p, c;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = 0;
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p)
			continue;
		c = *p;
		*p = 0;
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

/* Is a server answering on path? 1 yes, 0 stale (refused), -errno otherwise. */
static int probe_live(const char *path)
{
	struct sockaddr_un sa;
	int fd, ret;

	if (fill_addr(&sa, path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		ret = 1;
	else if (errno == EAGAIN)
		ret = 1;	/* backlog full: very much alive */
	else if (errno == ECONNREFUSED)
		ret = 0;
	else
		ret = -errno;
	close(fd);
	return ret;
}

int ctl_server_open(struct ctl_server **out, const char *path,
		    const struct ctl_command *cmds, size_t ncmds, void *arg,
		    char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ctl_server *s;
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int ret;

	*out = NULL;
	if (fill_addr(&sa, path)) {
		seterr(err, errlen, "control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	ret = mkdir_parents(path);
	if (ret) {
		seterr(err, errlen, "cannot create the directory of %s: %s", path, strerror(-ret));
		return ret;
	}
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			seterr(err, errlen, "%s exists and is not a socket", path);
			return -EEXIST;
		}
		ret = probe_live(path);
		if (ret == 1) {
			seterr(err, errlen, "another siplbd is listening on %s", path);
			return -EADDRINUSE;
		}
		if (ret < 0) {
			seterr(err, errlen, "cannot check %s: %s", path, strerror(-ret));
			return ret;
		}
		/* Left behind by a siplbd that died: take its place. */
		if (unlink(path) && errno != ENOENT) {
			ret = -errno;
			seterr(err, errlen, "cannot remove stale %s: %s", path, strerror(errno));
			return ret;
		}
	}

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lfd = s->ep = -1;
	s->cmds = cmds;
	s->ncmds = ncmds;
	s->arg = arg;
	s->path = strdup(path);
	if (!s->path) {
		ret = -ENOMEM;
		goto fail;
	}
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		ret = -errno;
		seterr(err, errlen, "control socket: %s", strerror(errno));
		goto fail;
	}
	/* Never let the socket exist with wider permissions, not even briefly. */
	old = umask(0177);
	ret = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (ret) {
		seterr(err, errlen, "cannot bind %s: %s", path, strerror(-ret));
		goto fail;
	}
	if (chmod(path, 0600) || stat(path, &st)) {
		ret = -errno;
		seterr(err, errlen, "cannot chmod %s: %s", path, strerror(errno));
		unlink(path);
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (listen(s->lfd, SOMAXCONN)) {
		ret = -errno;
		seterr(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		unlink(path);
		goto fail;
	}
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.ptr = NULL;
	if (s->ep < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev)) {
		ret = -errno;
		seterr(err, errlen, "control epoll: %s", strerror(errno));
		unlink(path);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->ep >= 0)
		close(s->ep);
	if (s->lfd >= 0)
		close(s->lfd);
	free(s->path);
	free(s);
	return ret;
}

int ctl_server_fd(const struct ctl_server *s)
{
	return s->ep;
}

size_t ctl_server_clients(const struct ctl_server *s)
{
	return s->nclients;
}

static void client_free(struct ctl_server *s, struct ctl_client *c)
{
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nclients--;
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

void ctl_server_close(struct ctl_server *s)
{
	struct stat st;

	if (!s)
		return;
	while (s->clients)
		client_free(s, s->clients);
	close(s->ep);
	close(s->lfd);
	/* A successor may already have replaced the file: leave it alone then. */
	if (!lstat(s->path, &st) && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	free(s->path);
	free(s);
}

static void accept_all(struct ctl_server *s)
{
	int i;

	for (i = 0; i < 64; i++) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct ctl_client *c;
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		int fd;

		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		/* The 0600 mode is the gate; this is the second lock on it. */
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
		    (cred.uid != 0 && cred.uid != geteuid()) ||
		    s->nclients >= CTL_MAX_CLIENTS) {
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->events = ev.events;
		ev.data.ptr = c;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			continue;
		}
		c->next = s->clients;
		if (s->clients)
			s->clients->prev = c;
		s->clients = c;
		s->nclients++;
	}
}

static int wbuf_append(struct ctl_client *c, const char *p, size_t n)
{
	if (c->woff && c->woff == c->wlen)
		c->woff = c->wlen = 0;
	if (c->wlen + n > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 4096;
		char *nb;

		/* Reclaim what was already sent before growing. */
		if (c->woff) {
			memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
			c->wlen -= c->woff;
			c->woff = 0;
		}
		while (cap < c->wlen + n)
			cap *= 2;
		if (cap > c->wcap) {
			nb = realloc(c->wbuf, cap);
			if (!nb)
				return -ENOMEM;
			c->wbuf = nb;
			c->wcap = cap;
		}
	}
	memcpy(c->wbuf + c->wlen, p, n);
	c->wlen += n;
	return 0;
}

static int send_obj(struct ctl_client *c, struct json_object *o)
{
	size_t n;
	const char *txt = json_object_to_json_string_length(o,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);

	if (!txt || wbuf_append(c, txt, n) || wbuf_append(c, "\n", 1))
		return -ENOMEM;
	return 0;
}

static int send_error(struct ctl_client *c, const char *msg)
{
	struct json_object *o = json_object_new_object();
	int ret;

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	ret = send_obj(c, o);
	json_object_put(o);
	return ret;
}

/* One request line (without its newline): parse, dispatch, queue the answer. */
static int handle_line(struct ctl_server *s, struct ctl_client *c, const char *line, size_t len)
{
	struct json_object *req, *resp, *cmd;
	struct json_tokener *tok;
	const struct ctl_command *cc = NULL;
	enum json_tokener_error jerr;
	char err[1024];
	const char *name;
	size_t i;
	int ret;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len)
		return 0;	/* blank lines are harmless: typed by hand into socat */
	if (len > INT_MAX)
		return send_error(c, "bad request: line too long");

	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	req = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!req && jerr == json_tokener_success)
		jerr = json_tokener_error_parse_null;	/* "null" parses to NULL */
	if (jerr == json_tokener_success && json_tokener_get_parse_end(tok) != len) {
		json_object_put(req);
		json_tokener_free(tok);
		return send_error(c, "bad request: text after the JSON object");
	}
	json_tokener_free(tok);
	if (jerr != json_tokener_success) {
		json_object_put(req);
		snprintf(err, sizeof(err), "bad request: not valid JSON (%s)",
			 jerr == json_tokener_continue ? "incomplete" :
			 json_tokener_error_desc(jerr));
		return send_error(c, err);
	}
	if (!json_object_is_type(req, json_type_object)) {
		json_object_put(req);
		return send_error(c, "bad request: expected a JSON object");
	}
	if (!json_object_object_get_ex(req, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string)) {
		json_object_put(req);
		return send_error(c, "bad request: no \"cmd\" string");
	}
	name = json_object_get_string(cmd);
	for (i = 0; i < s->ncmds; i++)
		if (!strcmp(s->cmds[i].name, name)) {
			cc = &s->cmds[i];
			break;
		}
	if (!cc) {
		snprintf(err, sizeof(err), "unknown command '%.200s'", name);
		json_object_put(req);
		return send_error(c, err);
	}

	resp = json_object_new_object();
	if (!resp) {
		json_object_put(req);
		return -ENOMEM;
	}
	/* "ok" first, so a person reading the line sees it first. */
	json_object_object_add(resp, "ok", json_object_new_boolean(1));
	err[0] = 0;
	ret = cc->fn(s->arg, req, resp, err, sizeof(err));
	json_object_put(req);
	if (ret < 0) {
		json_object_put(resp);
		return send_error(c, err[0] ? err : strerror(-ret));
	}
	ret = send_obj(c, resp);
	json_object_put(resp);
	return ret;
}

/* Answer every complete line, unless the client is behind on reading answers. */
static int handle_lines(struct ctl_server *s, struct ctl_client *c)
{
	size_t start = 0;
	int ret = 0;

	while (!c->closing && c->wlen - c->woff < CTL_WBUF_HIGH) {
		size_t from = start + c->scanned;
		char *nl = c->rlen > from ? memchr(c->rbuf + from, '\n', c->rlen - from) : NULL;

		if (!nl) {
			c->scanned = c->rlen - start;
			if (c->scanned > CTL_MAX_LINE) {
				ret = send_error(c, "request line longer than 4 MiB");
				c->closing = true;
			} else if (c->eof && c->scanned) {
				/* Last request without its newline: answer it anyway. */
				ret = handle_line(s, c, c->rbuf + start, c->scanned);
				start = c->rlen;
				c->scanned = 0;
			}
			break;
		}
		ret = handle_line(s, c, c->rbuf + start, nl - (c->rbuf + start));
		start = nl + 1 - c->rbuf;
		c->scanned = 0;
		if (ret)
			break;
	}
	if (start) {
		memmove(c->rbuf, c->rbuf + start, c->rlen - start);
		c->rlen -= start;
	}
	return ret;
}

static int read_some(struct ctl_server *s, struct ctl_client *c)
{
	size_t total = 0;
	ssize_t n;
	int ret;

	while (total < CTL_READ_BUDGET && !c->eof && !c->closing &&
	       c->wlen - c->woff < CTL_WBUF_HIGH) {
		if (c->rcap - c->rlen < CTL_CHUNK) {
			size_t cap = c->rcap ? c->rcap * 2 : CTL_CHUNK * 2;
			char *nb = realloc(c->rbuf, cap);

			if (!nb)
				return -ENOMEM;
			c->rbuf = nb;
			c->rcap = cap;
		}
		n = recv(c->fd, c->rbuf + c->rlen, CTL_CHUNK, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		if (n == 0)
			c->eof = true;
		c->rlen += n;
		total += n;
		ret = handle_lines(s, c);
		if (ret)
			return ret;
	}
	/* Shrink the buffer a big request left behind. */
	if (c->rcap > 4 * CTL_CHUNK && c->rlen < CTL_CHUNK) {
		char *nb = realloc(c->rbuf, CTL_CHUNK * 2);

		if (nb) {
			c->rbuf = nb;
			c->rcap = CTL_CHUNK * 2;
		}
	}
	return 0;
}

static int flush(struct ctl_client *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		c->woff += n;
	}
	c->woff = c->wlen = 0;
	if (c->wcap > (1u << 20)) {
		free(c->wbuf);
		c->wbuf = NULL;
		c->wcap = 0;
	}
	return 0;
}

static void client_event(struct ctl_server *s, struct ctl_client *c, uint32_t events)
{
	struct epoll_event ev;
	uint32_t want;

	if (events & EPOLLERR)
		goto drop;
	if ((events & (EPOLLIN | EPOLLHUP)) && read_some(s, c))
		goto drop;
	/* Answers may have drained below the mark: take the waiting requests. */
	if (handle_lines(s, c) || flush(c))
		goto drop;
	if (c->woff == c->wlen && handle_lines(s, c))
		goto drop;
	if (flush(c))
		goto drop;
	if ((c->closing || c->eof) && c->woff == c->wlen)
		goto drop;
	if ((events & EPOLLHUP) && c->eof && c->woff < c->wlen)
		goto drop;	/* nobody will read what is left */

	want = 0;
	if (!c->eof && !c->closing && c->wlen - c->woff < CTL_WBUF_HIGH)
		want |= EPOLLIN;
	if (c->woff < c->wlen)
		want |= EPOLLOUT;
	if (want != c->events) {
		ev.events = want;
		ev.data.ptr = c;
		if (epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev))
			goto drop;
		c->events = want;
	}
	return;
drop:
	client_free(s, c);
}

int ctl_server_process(struct ctl_server *s)
{
	struct epoll_event evs[64];
	int n, i;

	n = epoll_wait(s->ep, evs, 64, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		if (!evs[i].data.ptr)
			accept_all(s);
		else
			client_event(s, evs[i].data.ptr, evs[i].events);
	}
	return 0;
}

int ctl_client_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int fd, ret;

	if (fill_addr(&sa, path)) {
		seterr(err, errlen, "control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		seterr(err, errlen, "socket: %s", strerror(errno));
		return ret;
	}
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fd;
	ret = -errno;
	close(fd);
	switch (-ret) {
	case ENOENT:
		seterr(err, errlen, "siplbd is not running (no socket at %s)", path);
		break;
	case EACCES:
	case EPERM:
		seterr(err, errlen, "permission denied on %s (siplbctl needs root)", path);
		break;
	case ECONNREFUSED:
		seterr(err, errlen, "siplbd is not answering on %s", path);
		break;
	default:
		seterr(err, errlen, "cannot connect to %s: %s", path, strerror(-ret));
	}
	return ret;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for events until deadline (< 0: forever). 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n, t;

	for (;;) {
		if (deadline < 0) {
			t = -1;
		} else {
			long long left = deadline - now_ms();

			t = left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
		}
		n = poll(&p, 1, t);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

int ctl_client_call(int fd, struct json_object *req, struct json_object **resp,
		    int timeout_ms, char *err, size_t errlen)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	char *buf = NULL, *nl = NULL;
	size_t len, off = 0, cap = 0, scanned = 0;
	const char *txt;
	int ret;

	*resp = NULL;
	txt = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN |
						JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!txt)
		return -ENOMEM;
	if (len > CTL_MAX_LINE) {
		seterr(err, errlen, "request longer than 4 MiB");
		return -EMSGSIZE;
	}
	/* Request and newline in one buffer: one send for small requests. */
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, txt, len);
	buf[len++] = '\n';
	while (off < len) {
		ssize_t n;

		ret = wait_fd(fd, POLLOUT, deadline);
		if (ret)
			goto io_fail;
		n = send(fd, buf + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			ret = -errno;
			goto io_fail;
		}
		off += n;
	}
	free(buf);
	buf = NULL;

	len = 0;
	for (;;) {
		ssize_t n;

		if (cap - len < CTL_CHUNK) {
			char *nb;

			if (cap >= CTL_MAX_ANSWER) {
				seterr(err, errlen, "answer from siplbd is larger than %u MiB",
				       CTL_MAX_ANSWER >> 20);
				ret = -EMSGSIZE;
				goto out;
			}
			cap = cap ? cap * 2 : CTL_CHUNK * 2;
			nb = realloc(buf, cap);
			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		ret = wait_fd(fd, POLLIN, deadline);
		if (ret)
			goto io_fail;
		n = recv(fd, buf + len, CTL_CHUNK, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			ret = -errno;
			goto io_fail;
		}
		if (n == 0) {
			seterr(err, errlen, "siplbd closed the connection without an answer");
			ret = -ECONNRESET;
			goto out;
		}
		len += n;
		nl = memchr(buf + scanned, '\n', len - scanned);
		if (nl)
			break;
		scanned = len;
	}

	len = nl - buf;
	if (len > INT_MAX) {
		ret = -EMSGSIZE;
		goto out;
	}
	tok = json_tokener_new();
	if (!tok) {
		ret = -ENOMEM;
		goto out;
	}
	*resp = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (jerr != json_tokener_success || !json_object_is_type(*resp, json_type_object)) {
		json_object_put(*resp);
		*resp = NULL;
		seterr(err, errlen, "siplbd sent a malformed answer");
		ret = -EPROTO;
		goto out;
	}
	ret = 0;
	goto out;

io_fail:
	if (ret == -ETIMEDOUT)
		seterr(err, errlen, "siplbd did not answer within %d ms", timeout_ms);
	else if (ret == -EPIPE || ret == -ECONNRESET)
		seterr(err, errlen, "siplbd closed the connection");
	else
		seterr(err, errlen, "control socket: %s", strerror(-ret));
out:
	free(buf);
	return ret;
}
