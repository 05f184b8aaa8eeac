// SPDX-License-Identifier: GPL-2.0
/* tlsctx.c: siplbd's TLS server context (OpenSSL) from the tls: settings (see tlsctx.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tlsctx.h"

/* The SNI contexts of a main context: ex_data slot holds this. */
struct sni_set {
	size_t n;
	char **names;
	SSL_CTX **ctx;
};

static int sni_idx = -1;

static void ossl_err(char *err, size_t errlen, const char *what, const char *file)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s%s%s: %s", what, file ? " " : "", file ? file : "",
		 e ? buf : "failed");
	ERR_clear_error();
}

static int verify_mode(enum siplb_tls_verify v)
{
	switch (v) {
	case SIPLB_TLS_VERIFY_OPTIONAL:
		return SSL_VERIFY_PEER;
	case SIPLB_TLS_VERIFY_REQUIRE:
		return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	default:
		return SSL_VERIFY_NONE;
	}
}

/* A context with the protocol, cipher and verification settings and one certificate. */
static SSL_CTX *one_ctx(const struct siplb_cfg_tls *t, const char *cert, const char *key,
			char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		ossl_err(err, errlen, "SSL_CTX_new", NULL);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, t->min_version);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
				 SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if (t->ciphers && !SSL_CTX_set_cipher_list(ctx, t->ciphers)) {
		ossl_err(err, errlen, "tls.ciphers", t->ciphers);
		goto fail;
	}
	if (t->ciphersuites && !SSL_CTX_set_ciphersuites(ctx, t->ciphersuites)) {
		ossl_err(err, errlen, "tls.ciphersuites", t->ciphersuites);
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ossl_err(err, errlen, "certificate", cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ossl_err(err, errlen, "key", key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ossl_err(err, errlen, "key does not match the certificate", key);
		goto fail;
	}
	if (t->client_ca) {
		STACK_OF(X509_NAME) *names;

		if (SSL_CTX_load_verify_locations(ctx, t->client_ca, NULL) != 1) {
			ossl_err(err, errlen, "tls.client_ca", t->client_ca);
			goto fail;
		}
		names = SSL_load_client_CA_file(t->client_ca);
		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
	}
	SSL_CTX_set_verify(ctx, verify_mode(t->verify), NULL);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"siplb", 5);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static int on_servername(SSL *ssl, int *alert, void *arg)
{
	SSL_CTX *main_ctx = arg;
	struct sni_set *s = SSL_CTX_get_ex_data(main_ctx, sni_idx);
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	size_t i;

	(void)alert;
	if (!s || !name)
		return SSL_TLSEXT_ERR_OK;
	for (i = 0; i < s->n; i++) {
		if (!strcasecmp(s->names[i], name)) {
			SSL_set_SSL_CTX(ssl, s->ctx[i]);
			/* the verification settings follow the new context */
			SSL_set_verify(ssl, SSL_CTX_get_verify_mode(s->ctx[i]), NULL);
			break;
		}
	}
	return SSL_TLSEXT_ERR_OK;
}

static void sni_free(struct sni_set *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->names[i]);
		SSL_CTX_free(s->ctx[i]);
	}
	free(s->names);
	free(s->ctx);
	free(s);
}

static void sni_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	sni_free(ptr);
}

SSL_CTX *tlsctx_new(const struct siplb_cfg_tls *t, char *err, size_t errlen)
{
	struct sni_set *s = NULL;
	SSL_CTX *ctx;
	size_t i;

	if (sni_idx < 0)
		sni_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, sni_ex_free);
	ctx = one_ctx(t, t->cert, t->key, err, errlen);
	if (!ctx)
		return NULL;
	if (t->n_sni) {
		s = calloc(1, sizeof(*s));
		if (!s)
			goto nomem;
		s->names = calloc(t->n_sni, sizeof(*s->names));
		s->ctx = calloc(t->n_sni, sizeof(*s->ctx));
		if (!s->names || !s->ctx)
			goto nomem;
		for (i = 0; i < t->n_sni; i++) {
			s->ctx[i] = one_ctx(t, t->sni[i].cert, t->sni[i].key, err, errlen);
			if (!s->ctx[i])
				goto fail;
			s->names[i] = strdup(t->sni[i].name);
			s->n++;
			if (!s->names[i])
				goto nomem;
		}
		SSL_CTX_set_ex_data(ctx, sni_idx, s);
		SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
		SSL_CTX_set_tlsext_servername_arg(ctx, ctx);
	}
	return ctx;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	sni_free(s);
	SSL_CTX_free(ctx);
	return NULL;
}

void tlsctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);	/* the SNI set goes with the last reference (sni_ex_free) */
}
