// SPDX-License-Identifier: GPL-2.0
/* test_tlsctx.c: siplbd's TLS context (tlsctx.c): versions, key check, cipher errors, SNI, client certificates, in memory. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tlsctx.h"

static char t_dir[64];

/* A P-256 key and a certificate for cn, signed by (ca, cakey) or self-signed; PEM files under t_dir. */
static void t_issue(const char *name, const char *cn, X509 *ca, EVP_PKEY *cakey, X509 **out,
		    EVP_PKEY **outkey)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	char path[128];
	FILE *f;

	cr_assert_not_null(k);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(strlen(name) * 7 + cn[0]));
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : n);
	if (!ca) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
							"critical,CA:TRUE");

		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	cr_assert(X509_sign(x, ca ? cakey : k, EVP_sha256()));
	snprintf(path, sizeof(path), "%s/%s.pem", t_dir, name);
	f = fopen(path, "w");
	PEM_write_X509(f, x);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s.key", t_dir, name);
	f = fopen(path, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	*out = x;
	*outkey = k;
}

static X509 *t_ca, *t_srv, *t_cli, *t_sni, *t_rogue, *t_bad;
static EVP_PKEY *t_cak, *t_srvk, *t_clik, *t_snik, *t_roguek, *t_badk;
static char t_path[8][160];

static const char *t_file(int i, const char *name)
{
	snprintf(t_path[i], sizeof(t_path[i]), "%s/%s", t_dir, name);
	return t_path[i];
}

static void t_setup(void)
{
	snprintf(t_dir, sizeof(t_dir), "/tmp/siplb-tlsctx.XXXXXX");
	cr_assert_not_null(mkdtemp(t_dir));
	t_issue("ca", "test CA", NULL, NULL, &t_ca, &t_cak);
	t_issue("rogue", "rogue CA", NULL, NULL, &t_rogue, &t_roguek);
	t_issue("server", "sip.siplb.test", t_ca, t_cak, &t_srv, &t_srvk);
	t_issue("sni", "other.siplb.test", t_ca, t_cak, &t_sni, &t_snik);
	t_issue("client", "client", t_ca, t_cak, &t_cli, &t_clik);
	t_issue("bad", "client", t_rogue, t_roguek, &t_bad, &t_badk);
}

static void t_teardown(void)
{
	static const char *const names[] = { "ca", "rogue", "server", "sni", "client", "bad" };
	char p[160];
	size_t i;

	for (i = 0; i < 6; i++) {
		snprintf(p, sizeof(p), "%s/%s.pem", t_dir, names[i]);
		unlink(p);
		snprintf(p, sizeof(p), "%s/%s.key", t_dir, names[i]);
		unlink(p);
	}
	rmdir(t_dir);
	X509_free(t_ca); X509_free(t_srv); X509_free(t_cli); X509_free(t_sni);
	X509_free(t_rogue); X509_free(t_bad);
	EVP_PKEY_free(t_cak); EVP_PKEY_free(t_srvk); EVP_PKEY_free(t_clik);
	EVP_PKEY_free(t_snik); EVP_PKEY_free(t_roguek); EVP_PKEY_free(t_badk);
}

TestSuite(tlsctx, .init = t_setup, .fini = t_teardown);

static struct siplb_cfg_tls t_cfg(void)
{
	struct siplb_cfg_tls t = { .min_version = TLS1_2_VERSION, .handshake_ms = 5000 };

	t.cert = (char *)t_file(0, "server.pem");
	t.key = (char *)t_file(1, "server.key");
	return t;
}

/*
 * Handshake a client (version range, certificate, SNI) with a server SSL of
 * ctx over an in-memory BIO pair. Returns 1 on success; version and the
 * server certificate's CN come back.
 */
static int t_handshake(SSL_CTX *ctx, int cmin, int cmax, X509 *cert, EVP_PKEY *key,
		       const char *sni, char *cn, size_t cnlen)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *s = SSL_new(ctx), *c;
	BIO *bs, *bc;
	int i, rs = 0, rc = 0, ok;

	SSL_CTX_set_security_level(cctx, 0);
	SSL_CTX_set_min_proto_version(cctx, cmin);
	SSL_CTX_set_max_proto_version(cctx, cmax);
	if (cert) {
		SSL_CTX_use_certificate(cctx, cert);
		SSL_CTX_use_PrivateKey(cctx, key);
	}
	c = SSL_new(cctx);
	if (sni)
		SSL_set_tlsext_host_name(c, sni);
	BIO_new_bio_pair(&bs, 0, &bc, 0);
	SSL_set_bio(s, bs, bs);
	SSL_set_bio(c, bc, bc);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (i = 0; i < 20 && (rs != 1 || rc != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(c);
		if (rs != 1)
			rs = SSL_do_handshake(s);
	}
	/* TLS 1.3: the server checks the client's certificate after the client is done */
	ok = rs == 1 && rc == 1;
	if (ok && cn) {
		X509 *peer = SSL_get1_peer_certificate(c);

		X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, (int)cnlen);
		X509_free(peer);
	}
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	ERR_clear_error();
	return ok;
}

Test(tlsctx, tls12_and_tls13_accepted_tls11_refused)
{
	struct siplb_cfg_tls t = t_cfg();
	char err[256];
	SSL_CTX *ctx = tlsctx_new(&t, err, sizeof(err));

	cr_assert_not_null(ctx, "%s", err);
	cr_assert(t_handshake(ctx, TLS1_3_VERSION, TLS1_3_VERSION, NULL, NULL, NULL, NULL, 0));
	cr_assert(t_handshake(ctx, TLS1_2_VERSION, TLS1_2_VERSION, NULL, NULL, NULL, NULL, 0));
	cr_assert_not(t_handshake(ctx, TLS1_VERSION, TLS1_1_VERSION, NULL, NULL, NULL, NULL, 0));
	tlsctx_free(ctx);
}

Test(tlsctx, min_version_13_refuses_tls12)
{
	struct siplb_cfg_tls t = t_cfg();
	char err[256];
	SSL_CTX *ctx;

	t.min_version = TLS1_3_VERSION;
	ctx = tlsctx_new(&t, err, sizeof(err));
	cr_assert_not_null(ctx, "%s", err);
	cr_assert_not(t_handshake(ctx, TLS1_2_VERSION, TLS1_2_VERSION, NULL, NULL, NULL, NULL, 0));
	cr_assert(t_handshake(ctx, TLS1_2_VERSION, TLS1_3_VERSION, NULL, NULL, NULL, NULL, 0));
	tlsctx_free(ctx);
}

Test(tlsctx, key_of_another_certificate_is_refused_naming_the_file)
{
	struct siplb_cfg_tls t = t_cfg();
	char err[256];

	t.key = (char *)t_file(1, "client.key");
	cr_assert_null(tlsctx_new(&t, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "client.key"), "%s", err);
	cr_assert_not_null(strstr(err, "match"), "%s", err);
}

Test(tlsctx, missing_file_and_bad_cipher_list_are_errors)
{
	struct siplb_cfg_tls t = t_cfg();
	char err[256];

	t.cert = (char *)t_file(0, "nonexistent.pem");
	cr_assert_null(tlsctx_new(&t, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "nonexistent.pem"), "%s", err);
	t = t_cfg();
	t.ciphers = "NO-SUCH-CIPHER";
	cr_assert_null(tlsctx_new(&t, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "tls.ciphers"), "%s", err);
}

Test(tlsctx, required_client_certificate_must_chain_to_client_ca)
{
	struct siplb_cfg_tls t = t_cfg();
	char err[256];
	SSL_CTX *ctx;

	t.client_ca = (char *)t_file(2, "ca.pem");
	t.verify = SIPLB_TLS_VERIFY_REQUIRE;
	ctx = tlsctx_new(&t, err, sizeof(err));
	cr_assert_not_null(ctx, "%s", err);
	cr_assert(t_handshake(ctx, TLS1_2_VERSION, TLS1_2_VERSION, t_cli, t_clik, NULL, NULL, 0));
	cr_assert_not(t_handshake(ctx, TLS1_2_VERSION, TLS1_2_VERSION, t_bad, t_badk, NULL, NULL, 0));
	cr_assert_not(t_handshake(ctx, TLS1_2_VERSION, TLS1_2_VERSION, NULL, NULL, NULL, NULL, 0));
	tlsctx_free(ctx);
}

Test(tlsctx, sni_name_gets_its_certificate_others_the_default)
{
	struct siplb_cfg_tls t = t_cfg();
	struct siplb_cfg_sni sn = { .name = "other.siplb.test" };
	char err[256], cn[64];
	SSL_CTX *ctx;

	sn.cert = (char *)t_file(3, "sni.pem");
	sn.key = (char *)t_file(4, "sni.key");
	t.sni = &sn;
	t.n_sni = 1;
	ctx = tlsctx_new(&t, err, sizeof(err));
	cr_assert_not_null(ctx, "%s", err);
	cr_assert(t_handshake(ctx, TLS1_2_VERSION, TLS1_3_VERSION, NULL, NULL, "OTHER.siplb.test",
			      cn, sizeof(cn)));
	cr_assert_str_eq(cn, "other.siplb.test");
	cr_assert(t_handshake(ctx, TLS1_2_VERSION, TLS1_3_VERSION, NULL, NULL, "sip.siplb.test",
			      cn, sizeof(cn)));
	cr_assert_str_eq(cn, "sip.siplb.test");
	cr_assert(t_handshake(ctx, TLS1_2_VERSION, TLS1_3_VERSION, NULL, NULL, NULL, cn, sizeof(cn)));
	cr_assert_str_eq(cn, "sip.siplb.test");
	tlsctx_free(ctx);
}
