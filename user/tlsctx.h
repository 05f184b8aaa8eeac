/* tlsctx.h: siplbd's TLS server context (OpenSSL) from the tls: settings. */
#ifndef SIPLB_TLSCTX_H
#define SIPLB_TLSCTX_H

#include <stddef.h>
#include <openssl/ssl.h>

#include "config.h"

/*
 * A server SSL_CTX for t: TLS 1.2 (or 1.3, by min_version) to 1.3, the
 * cipher lists, the certificate chain and key (checked to match), client
 * verification, and one context per SNI name that the servername callback
 * switches to. Returns NULL with err set (file and OpenSSL's reason).
 * Free with tlsctx_free(). Connections keep a reference to the context they
 * were accepted with, so a reload never touches established connections.
 */
SSL_CTX *tlsctx_new(const struct siplb_cfg_tls *t, char *err, size_t errlen);
void tlsctx_free(SSL_CTX *ctx);

#endif /* SIPLB_TLSCTX_H */
