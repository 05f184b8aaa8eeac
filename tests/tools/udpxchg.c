// SPDX-License-Identifier: GPL-2.0
/* udpxchg.c: test tool: send one file as one UDP datagram (the stack fragments it), print the first line of each answer. */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DGRAM_MAX 65507

static int parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t hl;

	if (!colon)
		return -1;
	hl = (size_t)(colon - s);
	if (s[0] == '[') {
		s++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = 0;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((unsigned short)atoi(colon + 1));
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((unsigned short)atoi(colon + 1));
		*len = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, 'd' }, { "src", required_argument, NULL, 's' },
		{ "wait-ms", required_argument, NULL, 'w' }, {}
	};
	static char buf[DGRAM_MAX + 1];
	struct sockaddr_storage dst, src;
	socklen_t dl = 0, sl = 0;
	const char *dsts = NULL, *srcs = NULL;
	long wait_ms = 0;
	FILE *f;
	size_t n;
	int c, fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dsts = optarg; break;
		case 's': srcs = optarg; break;
		case 'w': wait_ms = atol(optarg); break;
		default: goto usage;
		}
	}
	if (!dsts || optind != argc - 1 || parse(dsts, &dst, &dl) || (srcs && parse(srcs, &src, &sl)) ||
	    wait_ms < 0 || wait_ms > 30000)
		goto usage;
	f = fopen(argv[optind], "rb");
	if (!f) {
		perror(argv[optind]);
		return 2;
	}
	n = fread(buf, 1, DGRAM_MAX, f);
	fclose(f);
	fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || (srcs && bind(fd, (struct sockaddr *)&src, sl)) ||
	    sendto(fd, buf, n, 0, (struct sockaddr *)&dst, dl) != (ssize_t)n) {
		perror("udpxchg");
		return 1;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, (int)wait_ms) <= 0)
			break;
		r = recv(fd, buf, DGRAM_MAX, 0);
		if (r <= 0)
			break;
		buf[r] = 0;
		buf[strcspn(buf, "\r\n")] = 0;
		printf("%s\n", buf);
	}
	return 0;
usage:
	fprintf(stderr, "Usage: udpxchg --dst ADDR:PORT [--src ADDR:PORT] [--wait-ms MS] FILE\n"
			"Sends FILE as one datagram, then prints the first line of each datagram\n"
			"received within MS ms of the last (0: none).\n");
	return 2;
}
