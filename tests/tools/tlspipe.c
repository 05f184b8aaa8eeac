// SPDX-License-Identifier: GPL-2.0
/* tlspipe.c: test tool: accept TCP on a local port, carry each connection over TLS to a server (sipp has no TLS here). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* Connections carried at once; a test needs a handful. */
#define MAX_PIPES 64
#define BUF 65536

struct pipe_ {
	int cfd, sfd;
	SSL *ssl;
};

static int parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
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

static void usage(void)
{
	fprintf(stderr,
		"Usage: tlspipe --listen ADDR:PORT --connect ADDR:PORT --ca FILE\n"
		"               [--cert FILE --key FILE] [--sni NAME] [--once]\n"
		"Accepts TCP on --listen and carries each connection over TLS 1.2+ to\n"
		"--connect, verifying the server against --ca; --cert/--key: our client\n"
		"certificate. --once: connect one TLS session, print the handshake result\n"
		"(\"ok\" or the error) and exit (0 ok, 1 failed).\n");
}

static void pipe_close(struct pipe_ *p)
{
	if (p->ssl)
		SSL_free(p->ssl);
	if (p->cfd >= 0)
		close(p->cfd);
	if (p->sfd >= 0)
		close(p->sfd);
	p->cfd = p->sfd = -1;
	p->ssl = NULL;
}

static SSL *tls_connect(SSL_CTX *ctx, const struct sockaddr_storage *dst, socklen_t dl,
			const char *sni, int *fdp)
{
	int fd = socket(dst->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	SSL *ssl;

	if (fd < 0 || connect(fd, (const struct sockaddr *)dst, dl)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (sni)
		SSL_set_tlsext_host_name(ssl, sni);
	if (SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	/* non-blocking from now: a read may find only TLS 1.3 session tickets */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	*fdp = fd;
	return ssl;
}

/* Write all of buf on a non-blocking TLS socket, waiting (bounded) when it is full. */
static int ssl_write_all(SSL *ssl, int fd, const char *buf, int len)
{
	int off = 0, tries = 0;

	while (off < len) {
		int r = SSL_write(ssl, buf + off, len - off), e;
		struct pollfd p = { .fd = fd, .events = POLLOUT | POLLIN };

		if (r > 0) {
			off += r;
			continue;
		}
		e = SSL_get_error(ssl, r);
		if ((e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) || ++tries > 1000)
			return -1;
		poll(&p, 1, 10);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' }, { "connect", required_argument, NULL, 'c' },
		{ "ca", required_argument, NULL, 'a' },     { "cert", required_argument, NULL, 'e' },
		{ "key", required_argument, NULL, 'k' },    { "sni", required_argument, NULL, 's' },
		{ "once", no_argument, NULL, 'o' },         {}
	};
	const char *listen_at = NULL, *connect_to = NULL, *ca = NULL, *cert = NULL, *key = NULL,
		   *sni = NULL;
	struct sockaddr_storage lss, dss;
	socklen_t ll, dl;
	struct pipe_ pipes[MAX_PIPES];
	static char buf[BUF];
	bool once = false;
	SSL_CTX *ctx;
	int c, lfd = -1, one = 1, i;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_at = optarg; break;
		case 'c': connect_to = optarg; break;
		case 'a': ca = optarg; break;
		case 'e': cert = optarg; break;
		case 'k': key = optarg; break;
		case 's': sni = optarg; break;
		case 'o': once = true; break;
		default: usage(); return 2;
		}
	}
	if (!connect_to || !ca || (!once && !listen_at) || parse_hostport(connect_to, &dss, &dl) ||
	    (listen_at && parse_hostport(listen_at, &lss, &ll))) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		fprintf(stderr, "tlspipe: cannot load %s\n", ca);
		return 2;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (cert && (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
		     SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)) {
		fprintf(stderr, "tlspipe: cannot load %s / %s\n", cert, key);
		return 2;
	}
	if (once) {
		int fd;
		SSL *ssl = tls_connect(ctx, &dss, dl, sni, &fd);
		char b[16];

		if (!ssl) {
			printf("failed: %s\n", ERR_reason_error_string(ERR_get_error()) ?: "?");
			return 1;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		/* TLS 1.3: the server's verdict on our certificate comes after the handshake */
		SSL_write(ssl, "\r\n\r\n", 4);
		if (SSL_read(ssl, b, sizeof(b)) <= 0) {
			printf("failed: %s\n", ERR_reason_error_string(ERR_get_error()) ?: "closed");
			return 1;
		}
		{
			X509 *peer = SSL_get1_peer_certificate(ssl);
			BIGNUM *bn = peer ? ASN1_INTEGER_to_BN(X509_get_serialNumber(peer), NULL) : NULL;
			char *hex = bn ? BN_bn2hex(bn) : NULL;

			printf("ok %s serial=%s\n", SSL_get_version(ssl), hex ? hex : "?");
			OPENSSL_free(hex);
			BN_free(bn);
			X509_free(peer);
		}
		return 0;
	}
	lfd = socket(lss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&lss, ll) || listen(lfd, 16)) {
		perror("tlspipe: listen");
		return 1;
	}
	for (i = 0; i < MAX_PIPES; i++) {
		pipes[i].cfd = -1;
		pipes[i].sfd = -1;
		pipes[i].ssl = NULL;
	}
	for (;;) {
		struct pollfd pfd[1 + 2 * MAX_PIPES];
		int n = 1;

		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (i = 0; i < MAX_PIPES; i++) {
			pfd[1 + 2 * i] = (struct pollfd){ .fd = pipes[i].cfd, .events = POLLIN };
			pfd[2 + 2 * i] = (struct pollfd){ .fd = pipes[i].sfd, .events = POLLIN };
			n += 2;
		}
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			return 1;
		if (pfd[0].revents & POLLIN) {
			int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			for (i = 0; cfd >= 0 && i < MAX_PIPES && pipes[i].cfd >= 0; i++)
				;
			if (cfd >= 0 && i < MAX_PIPES) {
				pipes[i].ssl = tls_connect(ctx, &dss, dl, sni, &pipes[i].sfd);
				pipes[i].cfd = cfd;
				setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				if (!pipes[i].ssl) {
					fprintf(stderr, "tlspipe: TLS to %s failed: %s\n", connect_to,
						ERR_reason_error_string(ERR_get_error()) ?: "?");
					pipe_close(&pipes[i]);
				}
			} else if (cfd >= 0) {
				close(cfd);
			}
		}
		for (i = 0; i < MAX_PIPES; i++) {
			struct pipe_ *p = &pipes[i];
			ssize_t r;

			if (p->cfd < 0)
				continue;
			if (pfd[1 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR)) {
				r = read(p->cfd, buf, sizeof(buf));
				if (r <= 0 || ssl_write_all(p->ssl, p->sfd, buf, (int)r)) {
					pipe_close(p);
					continue;
				}
			}
			if (pfd[2 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR)) {
				for (;;) {
					r = SSL_read(p->ssl, buf, sizeof(buf));
					if (r <= 0) {
						int e = SSL_get_error(p->ssl, (int)r);

						if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
							pipe_close(p);
						break;
					}
					if (write(p->cfd, buf, (size_t)r) != r) {
						pipe_close(p);
						break;
					}
				}
			}
		}
	}
}
