// SPDX-License-Identifier: GPL-2.0
/* test_control.c: the control socket, a server thread and clients in one process, no network. */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control.h"

static int h_echo(void *arg, struct json_object *req, struct json_object *resp,
		  char *err, size_t errlen)
{
	struct json_object *x;

	(void)err;
	(void)errlen;
	(*(int *)arg)++;
	if (json_object_object_get_ex(req, "x", &x))
		json_object_object_add(resp, "x", json_object_get(x));
	return 0;
}

static int h_fail(void *arg, struct json_object *req, struct json_object *resp,
		  char *err, size_t errlen)
{
	(void)arg;
	(void)req;
	(void)resp;
	snprintf(err, errlen, "no backend 'b9' in vip 'v1'");
	return -ENOENT;
}

static int h_fail_plain(void *arg, struct json_object *req, struct json_object *resp,
			char *err, size_t errlen)
{
	(void)arg;
	(void)req;
	(void)resp;
	(void)err;
	(void)errlen;
	return -EINVAL;
}

/* An answer of 1 MiB: enough to fill socket buffers quickly. */
static int h_big(void *arg, struct json_object *req, struct json_object *resp,
		 char *err, size_t errlen)
{
	static char blob[1 << 20];

	(void)arg;
	(void)req;
	(void)err;
	(void)errlen;
	if (!blob[0])
		memset(blob, 'a', sizeof(blob) - 1);
	json_object_object_add(resp, "blob", json_object_new_string(blob));
	return 0;
}

static const struct ctl_command cmds[] = {
	{ "echo", h_echo },
	{ "fail", h_fail },
	{ "fail_plain", h_fail_plain },
	{ "big", h_big },
};

static char dir[64], path[128];
static struct ctl_server *srv;
static pthread_t thread;
static atomic_int stop;
static int calls;

static void *serve(void *p)
{
	struct pollfd pfd = { .fd = ctl_server_fd(p), .events = POLLIN };

	while (!atomic_load(&stop)) {
		poll(&pfd, 1, 10);
		cr_assert_eq(ctl_server_process(p), 0);
	}
	return NULL;
}

static void mkdir_tmp(void)
{
	snprintf(dir, sizeof(dir), "/tmp/siplb-ctl-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/run/test.sock", dir);
}

static void start(void)
{
	char err[256] = "";

	mkdir_tmp();
	cr_assert_eq(ctl_server_open(&srv, path, cmds, 4, &calls, err, sizeof(err)), 0, "%s", err);
	atomic_store(&stop, 0);
	cr_assert_eq(pthread_create(&thread, NULL, serve, srv), 0);
}

static void finish(void)
{
	char cmd[128];

	if (srv) {
		atomic_store(&stop, 1);
		pthread_join(thread, NULL);
		ctl_server_close(srv);
		srv = NULL;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static int connect_ok(void)
{
	char err[256] = "";
	int fd = ctl_client_connect(path, err, sizeof(err));

	cr_assert_geq(fd, 0, "connect: %s", err);
	return fd;
}

/* Send {"cmd":cmd,"x":x} and return the answer object. */
static struct json_object *call(int fd, const char *cmd, int x)
{
	struct json_object *req = json_object_new_object(), *resp;
	char err[256] = "";

	json_object_object_add(req, "cmd", json_object_new_string(cmd));
	json_object_object_add(req, "x", json_object_new_int(x));
	cr_assert_eq(ctl_client_call(fd, req, &resp, 5000, err, sizeof(err)), 0, "%s", err);
	json_object_put(req);
	return resp;
}

static bool ok_of(struct json_object *o)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, "ok", &v), "ok present");
	return json_object_get_boolean(v);
}

static const char *error_of(struct json_object *o)
{
	struct json_object *v;

	cr_assert(!ok_of(o));
	cr_assert(json_object_object_get_ex(o, "error", &v), "error present");
	return json_object_get_string(v);
}

static int x_of(struct json_object *o)
{
	struct json_object *v;

	cr_assert(ok_of(o), "%s", json_object_to_json_string(o));
	cr_assert(json_object_object_get_ex(o, "x", &v), "x present");
	return json_object_get_int(v);
}

/* Read one raw line from fd (test side, blocking with a 5 s limit). */
static void read_line(int fd, char *buf, size_t n)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t len = 0;

	while (len < n - 1) {
		cr_assert_gt(poll(&p, 1, 5000), 0, "answer within 5 s");
		cr_assert_eq(recv(fd, buf + len, 1, 0), 1, "one more byte");
		if (buf[len++] == '\n')
			break;
	}
	buf[len] = 0;
}

static void send_all(int fd, const char *s)
{
	cr_assert_eq(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

TestSuite(control, .init = start, .fini = finish, .timeout = 60);

Test(control, round_trip_of_a_command)
{
	int fd = connect_ok();
	struct json_object *r = call(fd, "echo", 42);

	cr_assert_eq(x_of(r), 42);
	json_object_put(r);
	close(fd);
}

Test(control, the_answer_is_one_line_with_ok_first)
{
	int fd = connect_ok();
	char line[256];

	send_all(fd, "{\"cmd\":\"echo\",\"x\":\"a/b\"}\n");
	read_line(fd, line, sizeof(line));
	cr_assert_str_eq(line, "{\"ok\":true,\"x\":\"a/b\"}\n");
	close(fd);
}

Test(control, an_unknown_command_is_named_in_the_error)
{
	int fd = connect_ok();
	struct json_object *r = call(fd, "frobnicate", 1);

	cr_assert_str_eq(error_of(r), "unknown command 'frobnicate'");
	json_object_put(r);
	r = call(fd, "echo", 2);
	cr_assert_eq(x_of(r), 2, "the connection still works");
	json_object_put(r);
	close(fd);
}

Test(control, bad_json_gets_an_error_and_the_connection_goes_on)
{
	int fd = connect_ok();
	char line[512];

	send_all(fd, "{\"cmd\": nope}\n");
	read_line(fd, line, sizeof(line));
	cr_assert_not_null(strstr(line, "\"ok\":false"), "%s", line);
	cr_assert_not_null(strstr(line, "not valid JSON"), "%s", line);
	send_all(fd, "[1,2]\n");
	read_line(fd, line, sizeof(line));
	cr_assert_not_null(strstr(line, "expected a JSON object"), "%s", line);
	send_all(fd, "{\"x\":1}\n");
	read_line(fd, line, sizeof(line));
	cr_assert_not_null(strstr(line, "no \\\"cmd\\\""), "%s", line);
	send_all(fd, "{\"cmd\":\"echo\"} {\"cmd\":\"echo\"}\n");
	read_line(fd, line, sizeof(line));
	cr_assert_not_null(strstr(line, "text after the JSON"), "%s", line);
	send_all(fd, "\n\r\n{\"cmd\":\"echo\",\"x\":7}\r\n");
	read_line(fd, line, sizeof(line));
	cr_assert_str_eq(line, "{\"ok\":true,\"x\":7}\n", "blank lines ignored, CRLF fine");
	close(fd);
}

Test(control, two_requests_on_one_connection)
{
	int fd = connect_ok();
	struct json_object *r;
	char line[256];

	r = call(fd, "echo", 1);
	cr_assert_eq(x_of(r), 1);
	json_object_put(r);
	r = call(fd, "echo", 2);
	cr_assert_eq(x_of(r), 2);
	json_object_put(r);
	/* Pipelined in one write: answered in order. */
	send_all(fd, "{\"cmd\":\"echo\",\"x\":3}\n{\"cmd\":\"echo\",\"x\":4}\n");
	read_line(fd, line, sizeof(line));
	cr_assert_str_eq(line, "{\"ok\":true,\"x\":3}\n");
	read_line(fd, line, sizeof(line));
	cr_assert_str_eq(line, "{\"ok\":true,\"x\":4}\n");
	close(fd);
}

Test(control, fifty_clients_at_once)
{
	int fds[50], i;

	for (i = 0; i < 50; i++)
		fds[i] = connect_ok();
	for (i = 0; i < 50; i++) {
		char req[64];

		snprintf(req, sizeof(req), "{\"cmd\":\"echo\",\"x\":%d}\n", i);
		send_all(fds[i], req);
	}
	for (i = 49; i >= 0; i--) {
		char line[64], want[64];

		read_line(fds[i], line, sizeof(line));
		snprintf(want, sizeof(want), "{\"ok\":true,\"x\":%d}\n", i);
		cr_assert_str_eq(line, want);
	}
	for (i = 0; i < 50; i++)
		close(fds[i]);
}

Test(control, a_stalled_half_line_does_not_block_another_client)
{
	int slow = connect_ok(), fast = connect_ok();
	struct json_object *r;
	char line[64];

	send_all(slow, "{\"cmd\":\"ec");
	r = call(fast, "echo", 5);
	cr_assert_eq(x_of(r), 5);
	json_object_put(r);
	send_all(slow, "ho\",\"x\":6}\n");
	read_line(slow, line, sizeof(line));
	cr_assert_str_eq(line, "{\"ok\":true,\"x\":6}\n");
	close(slow);
	close(fast);
}

Test(control, a_client_that_does_not_read_does_not_block_another)
{
	static const char empty[] = "{\"ok\":true,\"blob\":\"\"}\n";
	int lazy = connect_ok(), fast = connect_ok(), i;
	struct json_object *r;
	char *line = malloc(2 << 20);

	/* 20 MiB of answers queued for a client that reads nothing yet. */
	for (i = 0; i < 20; i++)
		send_all(lazy, "{\"cmd\":\"big\"}\n");
	usleep(100000);
	r = call(fast, "echo", 8);
	cr_assert_eq(x_of(r), 8);
	json_object_put(r);
	for (i = 0; i < 20; i++) {
		read_line(lazy, line, 2 << 20);
		cr_assert_eq(strlen(line), (1u << 20) - 1 + strlen(empty));
	}
	free(line);
	close(lazy);
	close(fast);
}

Test(control, an_oversize_line_gets_an_error_and_is_closed)
{
	size_t n = CTL_MAX_LINE + 100000, off = 0;
	char *big = malloc(n), line[256];
	int fd = connect_ok();
	struct json_object *r;
	ssize_t w;

	memset(big, ' ', n);
	memcpy(big, "{\"cmd\":\"echo\",\"x\":\"", 19);
	while (off < n) {
		w = send(fd, big + off, n - off, MSG_NOSIGNAL);

		if (w < 0) {
			cr_assert(errno == EPIPE || errno == ECONNRESET, "%s", strerror(errno));
			break;
		}
		off += w;
	}
	free(big);
	read_line(fd, line, sizeof(line));
	cr_assert_not_null(strstr(line, "\"ok\":false"), "%s", line);
	cr_assert_not_null(strstr(line, "longer than 4 MiB"), "%s", line);
	/* Closed with our unread bytes in its queue: a reset, not a clean EOF. */
	w = recv(fd, line, 1, 0);
	cr_assert(w == 0 || (w < 0 && errno == ECONNRESET), "then closed: %zd", w);
	close(fd);
	fd = connect_ok();
	r = call(fd, "echo", 9);
	cr_assert_eq(x_of(r), 9, "others still served");
	json_object_put(r);
	close(fd);
}

Test(control, a_line_of_just_under_the_limit_is_accepted)
{
	size_t n = CTL_MAX_LINE - 1000;
	char *big = malloc(n + 1), line[256];
	int fd = connect_ok();

	memset(big, ' ', n);
	memcpy(big, "{\"cmd\":\"echo\",\"x\":7}", 20);
	big[n] = '\n';
	cr_assert_eq(send(fd, big, n + 1, MSG_NOSIGNAL), (ssize_t)(n + 1));
	free(big);
	read_line(fd, line, sizeof(line));
	cr_assert_str_eq(line, "{\"ok\":true,\"x\":7}\n");
	close(fd);
}

Test(control, handler_error_text_passes_through)
{
	int fd = connect_ok();
	struct json_object *r = call(fd, "fail", 0);

	cr_assert_str_eq(error_of(r), "no backend 'b9' in vip 'v1'");
	json_object_put(r);
	r = call(fd, "fail_plain", 0);
	cr_assert_str_eq(error_of(r), strerror(EINVAL), "errno text when the handler says nothing");
	json_object_put(r);
	close(fd);
}

Test(control, the_socket_is_0600_in_a_created_0755_directory)
{
	struct stat st;
	char run[160];

	cr_assert_eq(stat(path, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
	snprintf(run, sizeof(run), "%s/run", dir);
	cr_assert_eq(stat(run, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0755, "mode %o", st.st_mode & 07777);
}

Test(control, a_second_server_on_a_live_path_fails_and_leaves_the_first)
{
	struct ctl_server *two = NULL;
	struct json_object *r;
	char err[256] = "", want[256];
	int fd;

	cr_assert_eq(ctl_server_open(&two, path, cmds, 4, &calls, err, sizeof(err)), -EADDRINUSE);
	cr_assert_null(two);
	snprintf(want, sizeof(want), "another siplbd is listening on %s", path);
	cr_assert_str_eq(err, want);
	fd = connect_ok();
	r = call(fd, "echo", 10);
	cr_assert_eq(x_of(r), 10);
	json_object_put(r);
	close(fd);
}

Test(control, close_unlinks_the_socket)
{
	atomic_store(&stop, 1);
	pthread_join(thread, NULL);
	ctl_server_close(srv);
	srv = NULL;
	cr_assert_eq(access(path, F_OK), -1);
	cr_assert_eq(errno, ENOENT);
}

/* Leave a socket file behind with nobody listening, as a killed siplbd does. */
static void make_stale(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
}

Test(control, a_stale_socket_is_replaced)
{
	struct ctl_server *two = NULL;
	char p2[160], err[256] = "", line[64];
	int fd, i;

	snprintf(p2, sizeof(p2), "%s/stale.sock", dir);
	make_stale(p2);
	cr_assert_eq(ctl_server_open(&two, p2, cmds, 4, &calls, err, sizeof(err)), 0, "%s", err);
	/* Driven by hand: connect is queued by the kernel, process answers it. */
	fd = ctl_client_connect(p2, err, sizeof(err));
	cr_assert_geq(fd, 0, "%s", err);
	send_all(fd, "{\"cmd\":\"echo\",\"x\":11}\n");
	for (i = 0; i < 10; i++)
		cr_assert_eq(ctl_server_process(two), 0);
	read_line(fd, line, sizeof(line));
	cr_assert_str_eq(line, "{\"ok\":true,\"x\":11}\n");
	close(fd);
	ctl_server_close(two);
}

Test(control, a_file_that_is_not_a_socket_is_left_alone)
{
	struct ctl_server *two = NULL;
	char p2[160], err[256] = "";
	FILE *f;

	snprintf(p2, sizeof(p2), "%s/plain", dir);
	f = fopen(p2, "w");
	fclose(f);
	cr_assert_eq(ctl_server_open(&two, p2, cmds, 4, &calls, err, sizeof(err)), -EEXIST);
	cr_assert_not_null(strstr(err, "is not a socket"), "%s", err);
	cr_assert_eq(access(p2, F_OK), 0);
}

Test(control, connect_errors_say_what_is_wrong)
{
	char p2[160], err[256] = "", want[256];

	snprintf(p2, sizeof(p2), "%s/none.sock", dir);
	cr_assert_eq(ctl_client_connect(p2, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "siplbd is not running (no socket at %s)", p2);
	cr_assert_str_eq(err, want);

	make_stale(p2);
	cr_assert_eq(ctl_client_connect(p2, err, sizeof(err)), -ECONNREFUSED);
	snprintf(want, sizeof(want), "siplbd is not answering on %s", p2);
	cr_assert_str_eq(err, want);
}

Test(control, connect_as_non_root_to_a_root_socket_says_permission)
{
	char err[256] = "", want[256];

	/* Root passes every permission check. (cr_skip_test would skip .fini too.) */
	if (geteuid() == 0)
		return;
	cr_assert_eq(chmod(path, 0), 0);
	cr_assert_eq(ctl_client_connect(path, err, sizeof(err)), -EACCES);
	snprintf(want, sizeof(want), "permission denied on %s (siplbctl needs root)", path);
	cr_assert_str_eq(err, want);
}

Test(control, a_server_that_does_not_answer_times_out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct json_object *req = json_object_new_object(), *resp = NULL;
	char err[256] = "";
	int l = socket(AF_UNIX, SOCK_STREAM, 0), fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/mute.sock", dir);
	cr_assert_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(l, 4), 0);
	fd = ctl_client_connect(sa.sun_path, err, sizeof(err));
	cr_assert_geq(fd, 0, "%s", err);
	json_object_object_add(req, "cmd", json_object_new_string("status"));
	cr_assert_eq(ctl_client_call(fd, req, &resp, 100, err, sizeof(err)), -ETIMEDOUT);
	cr_assert_null(resp);
	cr_assert_str_eq(err, "siplbd did not answer within 100 ms");
	json_object_put(req);
	close(fd);
	close(l);
}

Test(control, socket_path_of_an_instance)
{
	char p[108];

	cr_assert_eq(ctl_socket_path(p, sizeof(p), "default"), 0);
	cr_assert_str_eq(p, "/run/siplb/default.sock");
	cr_assert_eq(ctl_socket_path(p, sizeof(p), "../x"), -EINVAL);
	cr_assert_eq(ctl_socket_path(p, sizeof(p), ""), -EINVAL);
}
