/* control.h: siplbd's control channel: one JSON object per line over a Unix stream socket. */
#ifndef SIPLB_CONTROL_H
#define SIPLB_CONTROL_H

#include <stddef.h>
#include <json-c/json.h>

/*
 * Protocol: the client sends {"cmd":"NAME", ...args} + "\n"; the server
 * answers one line, {"ok":true, ...result} or {"ok":false,"error":"text"}.
 * A connection carries any number of requests in sequence. A request line
 * longer than CTL_MAX_LINE bytes gets an error and the connection is closed.
 */
#define CTL_MAX_LINE (4u << 20)
/* Sockets live here as <instance>.sock unless siplbd is told otherwise. */
#define CTL_DIR "/run/siplb"

/*
 * A handler fills resp (a JSON object; "ok" is added by the server) and
 * returns 0, or returns -errno with err filled (becomes
 * {"ok":false,"error":err}; an empty err becomes strerror).
 */
typedef int (*ctl_handler_fn)(void *arg, struct json_object *req,
			      struct json_object *resp, char *err, size_t errlen);

struct ctl_command {
	const char *name;
	ctl_handler_fn fn;
};

struct ctl_server;

/* "/run/siplb/<instance>.sock" into buf. Returns 0 or -ENAMETOOLONG / -EINVAL. */
int ctl_socket_path(char *buf, size_t len, const char *instance);

/*
 * Create the socket's directory (0755) if missing. A live server on path
 * gives -EADDRINUSE ("another siplbd is listening on PATH"); a stale socket
 * file is removed. Binds, makes the socket 0600, listens, never blocks.
 * cmds (and arg) must outlive the server. Returns 0 or -errno with err set.
 */
int ctl_server_open(struct ctl_server **out, const char *path,
		    const struct ctl_command *cmds, size_t ncmds, void *arg,
		    char *err, size_t errlen);

/* The one fd to put in the daemon's epoll (readable when there is work). */
int ctl_server_fd(const struct ctl_server *s);

/*
 * Accept, read and answer whatever is ready; never blocks. Handlers run
 * here. Returns 0, or -errno if the server itself failed.
 */
int ctl_server_process(struct ctl_server *s);

/* Number of connected clients (for tests and status). */
size_t ctl_server_clients(const struct ctl_server *s);

/* Close every client and the socket; unlink the path if it is still ours. NULL is fine. */
void ctl_server_close(struct ctl_server *s);

/*
 * Connect to the server at path. Returns the fd or -errno with err saying
 * what an operator should know: not running, permission, not answering.
 */
int ctl_client_connect(const char *path, char *err, size_t errlen);

/*
 * Send one request and read one answer line within timeout_ms (< 0: no
 * limit). Returns 0 with *resp (the caller puts it) even when "ok" is
 * false, or -errno with err set (timeout, closed, malformed answer).
 */
int ctl_client_call(int fd, struct json_object *req, struct json_object **resp,
		    int timeout_ms, char *err, size_t errlen);

#endif /* SIPLB_CONTROL_H */
