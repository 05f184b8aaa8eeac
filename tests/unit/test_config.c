// SPDX-License-Identifier: GPL-2.0
/* test_config.c: the YAML configuration loader: every field, defaults, and errors naming file, line and setting. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "siplb_maps.h"
#include "config.h"

#define T_DIR "tests/config/"

static struct siplb_cfg t_cfg;
static char t_err[512];

static void t_free(void)
{
	siplb_config_free(&t_cfg);
}

/* Load a fixture that must be valid. */
static void t_load_ok(const char *file)
{
	int ret = siplb_config_load(file, &t_cfg, t_err, sizeof(t_err));

	cr_assert_eq(ret, 0, "%s: %d: %s", file, ret, t_err);
}

/* Network-order address from text, for comparisons. */
static void t_addr_is(const struct siplb_cfg_addr *a, const char *text)
{
	struct siplb_cfg_addr want = { 0 };

	want.family = strchr(text, ':') ? AF_INET6 : AF_INET;
	cr_assert_eq(inet_pton(want.family, text, want.addr), 1);
	cr_assert_eq(a->family, want.family, "family of %s", text);
	cr_assert_arr_eq(a->addr, want.addr, sizeof(want.addr), "%s", text);
}

/*
 * Load a fixture that must fail with -EINVAL and the one-line message
 * "tests/config/FILE:LINE: setting 'SETTING': ..." containing what.
 */
static void t_bad(const char *file, unsigned int line, const char *setting,
		  const char *what)
{
	char path[128], prefix[256];
	int ret;

	snprintf(path, sizeof(path), T_DIR "%s", file);
	ret = siplb_config_load(path, &t_cfg, t_err, sizeof(t_err));
	cr_assert_eq(ret, -EINVAL, "%s: got %d (%s)", path, ret, t_err);
	if (setting)
		snprintf(prefix, sizeof(prefix), "%s:%u: setting '%s': ", path,
			 line, setting);
	else
		snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
	cr_assert_eq(strncmp(t_err, prefix, strlen(prefix)), 0,
		     "want prefix \"%s\", got \"%s\"", prefix, t_err);
	cr_assert_not_null(strstr(t_err, what), "want \"%s\" in \"%s\"", what,
			   t_err);
	cr_assert_null(strchr(t_err, '\n'), "one line: \"%s\"", t_err);
	cr_assert_null(t_cfg.vips, "cfg left empty on error");
	cr_assert_null(t_cfg.instance, "cfg left empty on error");
}

Test(config, full_file_sets_every_field, .fini = t_free)
{
	static const __u8 key[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
				      0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
				      0x0c, 0x0d, 0x0e, 0x0f };
	const struct siplb_cfg_vip *v;
	const struct siplb_cfg_backend *b;

	t_load_ok(T_DIR "full.yaml");
	cr_assert_str_eq(t_cfg.instance, "edge-1");
	cr_assert_eq(t_cfg.n_ifaces, 2);
	cr_assert_str_eq(t_cfg.ifaces[0].name, "eth0");
	cr_assert_eq(t_cfg.ifaces[0].attach, SIPLB_ATTACH_GENERIC);
	cr_assert_str_eq(t_cfg.ifaces[1].name, "eth1");
	cr_assert_eq(t_cfg.ifaces[1].attach, SIPLB_ATTACH_NATIVE);
	cr_assert_arr_eq(&t_cfg.hash_key, key, sizeof(key));
	cr_assert_eq(t_cfg.maglev_size, 251);
	cr_assert_eq(t_cfg.aff_capacity, 65536);
	cr_assert_eq(t_cfg.aff_idle, 600);
	cr_assert_eq(t_cfg.health.interval_ms, 2000);
	cr_assert_eq(t_cfg.health.timeout_ms, 750);
	cr_assert_eq(t_cfg.health.fall, 5);
	cr_assert_eq(t_cfg.health.rise, 4);
	cr_assert_not(t_cfg.health.accept_any);
	cr_assert_eq(t_cfg.health.n_accept, 2);
	cr_assert_eq(t_cfg.health.accept[0], 200);
	cr_assert_eq(t_cfg.health.accept[1], 404);
	cr_assert_eq(t_cfg.all_down, SIPLB_ALL_DOWN_OPEN);
	cr_assert_str_eq(t_cfg.metrics, "[::1]:9200");
	t_addr_is(&t_cfg.metrics_addr, "::1");
	cr_assert_eq(t_cfg.metrics_port, 9200);
	cr_assert_str_eq(t_cfg.control, "/tmp/siplb-edge.sock");
	cr_assert_eq(t_cfg.log_level, SIPLB_LOG_DEBUG);
	t_addr_is(&t_cfg.src4, "198.18.0.1");
	t_addr_is(&t_cfg.src6, "2001:db8::1");
	cr_assert_eq(t_cfg.mtu, 9000);

	cr_assert_eq(t_cfg.n_vips, 2);
	v = &t_cfg.vips[0];
	cr_assert_str_eq(v->name, "public");
	t_addr_is(&v->addr, "198.18.2.10");
	cr_assert_eq(v->port, 5080);
	cr_assert_eq(v->transports, SIPLB_TRANSPORT_UDP | SIPLB_TRANSPORT_TCP |
					    SIPLB_TRANSPORT_TLS);
	cr_assert_eq(v->mode, SIPLB_FWD_L2);
	cr_assert_eq(v->reg_key, SIPLB_REGKEY_AOR);
	cr_assert_eq(v->line, 26);
	cr_assert_eq(v->n_backends, 2);
	b = &v->backends[0];
	t_addr_is(&b->addr, "198.18.1.1");
	cr_assert_eq(b->port, 5070);
	cr_assert_eq(b->weight, 65535);
	cr_assert_str_eq(b->name, "sbc-a");
	cr_assert_eq(b->state, SIPLB_BE_DRAINING);
	b = &v->backends[1];
	t_addr_is(&b->addr, "198.18.1.2");
	cr_assert_eq(b->port, 5060);
	cr_assert_eq(b->weight, 100);
	cr_assert_null(b->name);
	cr_assert_eq(b->state, SIPLB_BE_UP);

	v = &t_cfg.vips[1];
	cr_assert_null(v->name);
	t_addr_is(&v->addr, "2001:db8::10");
	cr_assert_eq(v->port, 5060);
	cr_assert_eq(v->transports, SIPLB_TRANSPORT_UDP);
	cr_assert_eq(v->mode, SIPLB_FWD_IPIP);
	cr_assert_eq(v->reg_key, SIPLB_REGKEY_CALLID);
	cr_assert_eq(v->n_backends, 0, "an empty backends list is allowed");
	cr_assert_null(v->backends);

	cr_assert_eq(t_cfg.vips[0].tls_port, 5081);
	cr_assert_eq(t_cfg.vips[1].tls_port, 5061);
	cr_assert_str_eq(t_cfg.tls.cert, "/etc/siplb/chain.pem");
	cr_assert_str_eq(t_cfg.tls.key, "/etc/siplb/key.pem");
	cr_assert_str_eq(t_cfg.tls.ciphers, "ECDHE+AESGCM:ECDHE+CHACHA20");
	cr_assert_str_eq(t_cfg.tls.ciphersuites,
			 "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
	cr_assert_eq(t_cfg.tls.min_version, 0x0304);
	cr_assert_str_eq(t_cfg.tls.client_ca, "/etc/siplb/clients-ca.pem");
	cr_assert_eq(t_cfg.tls.verify, SIPLB_TLS_VERIFY_REQUIRE);
	cr_assert_eq(t_cfg.tls.handshake_ms, 2500);
	cr_assert_eq(t_cfg.tls.n_sni, 1);
	cr_assert_str_eq(t_cfg.tls.sni[0].name, "sip.example.com");
	cr_assert_str_eq(t_cfg.tls.sni[0].cert, "/etc/siplb/sip.pem");
	cr_assert_str_eq(t_cfg.tls.sni[0].key, "/etc/siplb/sip.key");
	cr_assert(t_cfg.streams.have_flow_key);
	cr_assert_eq(t_cfg.streams.flow_key[0], 0);
	cr_assert_eq(t_cfg.streams.flow_key[31], 0x1f);
	cr_assert_eq(t_cfg.streams.relay_port, 5070);
	cr_assert_eq(t_cfg.streams.max_conns, 500);
	cr_assert_eq(t_cfg.streams.max_header, 8192);
	cr_assert_eq(t_cfg.streams.max_body, 4096);
	cr_assert_eq(t_cfg.streams.idle_s, 120);
	cr_assert_eq(t_cfg.streams.msg_timeout_ms, 3000);
}

Test(config, minimal_file_gets_documented_defaults, .fini = t_free)
{
	const struct siplb_cfg_vip *v;

	t_load_ok(T_DIR "minimal.yaml");
	cr_assert_str_eq(t_cfg.instance, "default");
	cr_assert_eq(t_cfg.n_ifaces, 0);
	cr_assert_eq(t_cfg.hash_key.k0, ~0ULL);
	cr_assert_eq(t_cfg.hash_key.k1, ~0ULL);
	cr_assert_eq(t_cfg.maglev_size, 65537);
	cr_assert_eq(t_cfg.aff_capacity, 1048576);
	cr_assert_eq(t_cfg.aff_idle, 1800);
	cr_assert_eq(t_cfg.dialog_window, 300);
	cr_assert_eq(t_cfg.announce_table, 0);
	cr_assert_eq(t_cfg.health.interval_ms, 1000);
	cr_assert_eq(t_cfg.health.timeout_ms, 500);
	cr_assert_eq(t_cfg.health.fall, 3);
	cr_assert_eq(t_cfg.health.rise, 2);
	cr_assert(t_cfg.health.accept_any);
	cr_assert_eq(t_cfg.health.n_accept, 0);
	cr_assert_eq(t_cfg.all_down, SIPLB_ALL_DOWN_CLOSED);
	cr_assert_str_eq(t_cfg.metrics, "127.0.0.1:9100");
	t_addr_is(&t_cfg.metrics_addr, "127.0.0.1");
	cr_assert_eq(t_cfg.metrics_port, 9100);
	cr_assert_str_eq(t_cfg.control, "/run/siplb/default.sock");
	cr_assert_eq(t_cfg.log_level, SIPLB_LOG_INFO);
	cr_assert_str_eq(siplb_log_level_name(t_cfg.log_level), "info");
	t_addr_is(&t_cfg.src4, "198.18.0.1");
	cr_assert_eq(t_cfg.src6.family, 0);
	cr_assert_eq(t_cfg.mtu, 1500);
	cr_assert_eq(t_cfg.n_vips, 1);
	v = &t_cfg.vips[0];
	cr_assert_null(v->name);
	cr_assert_eq(v->port, 5060);
	cr_assert_eq(v->transports, SIPLB_TRANSPORT_UDP);
	cr_assert_eq(v->mode, SIPLB_FWD_IPIP);
	cr_assert_eq(v->reg_key, SIPLB_REGKEY_CALLID);
	cr_assert_eq(v->n_backends, 1);
	cr_assert_eq(v->backends[0].port, 5060);
	cr_assert_eq(v->backends[0].weight, 100);
	cr_assert_eq(v->backends[0].state, SIPLB_BE_UP);
	/* DoS: no per-source limits, affinity cap on, bans persisted per instance */
	cr_assert_eq(t_cfg.aff_new_max, 125000);
	cr_assert_str_eq(t_cfg.bans_file, "/var/lib/siplb/default.bans");
	cr_assert_eq(v->rate[0], 0);
	cr_assert_eq(v->rate[1], 0);
	cr_assert_eq(v->ban_after, 0);
	cr_assert_eq(v->max_msg, 0);
	cr_assert_not(v->drop_unknown_resp);
}

Test(config, dos_settings_are_read_per_vip, .fini = t_free)
{
	const struct siplb_cfg_vip *v;

	t_load_ok(T_DIR "dos.yaml");
	cr_assert_eq(t_cfg.aff_new_max, 50000);
	cr_assert_str_eq(t_cfg.bans_file, "/tmp/siplb-test.bans");
	v = &t_cfg.vips[0];
	cr_assert_eq(v->rate[SIPLB_CLASS_DIALOG], 20);
	cr_assert_eq(v->burst[SIPLB_CLASS_DIALOG], 40);
	cr_assert_eq(v->rate[SIPLB_CLASS_OTHER], 500);
	cr_assert_eq(v->burst[SIPLB_CLASS_OTHER], 500, "burst defaults to one second's worth");
	cr_assert_eq(v->ban_after, 10);
	cr_assert_eq(v->ban_for, 600);
	cr_assert_eq(v->max_msg, 4000);
	cr_assert(v->drop_unknown_resp);
	v = &t_cfg.vips[1];
	cr_assert_eq(v->rate[0], 0);
	cr_assert_eq(v->ban_after, 5);
	cr_assert_eq(v->ban_for, 3600, "auto-bans last an hour by default");
	cr_assert_not(v->drop_unknown_resp);
	cr_assert_eq(v->n_scanners, 0);
	v = &t_cfg.vips[2];
	cr_assert_eq(v->n_scanners, 3);
	cr_assert_str_eq(v->scanners[0], "friendly-scanner");
	cr_assert_str_eq(v->scanners[2], "SIPcli");
}

Test(config, rejects_a_scanner_signature_over_16_bytes, .fini = t_free)
{
	t_bad("bad-scanner-long.yaml", 7, "vips[0].scanner_user_agents[1]", "longer than 16 bytes");
}

Test(config, rejects_a_rate_of_zero, .fini = t_free)
{
	t_bad("bad-rate-zero.yaml", 6, "vips[0].rate_limit.other.rate", "0 is out of range");
}

Test(config, rejects_a_bucket_without_rate, .fini = t_free)
{
	t_bad("bad-rate-missing.yaml", 7, "vips[0].rate_limit.dialog_creating",
	      "missing required setting 'rate'");
}

Test(config, rejects_auto_ban_without_after, .fini = t_free)
{
	t_bad("bad-ban-after.yaml", 6, "vips[0].auto_ban", "missing required setting 'after'");
}

Test(config, rejects_a_boolean_that_is_not_one, .fini = t_free)
{
	t_bad("bad-drop-unknown.yaml", 5, "vips[0].drop_unknown_responses",
	      "'maybe' is not one of false or true");
}

Test(config, rejects_a_relative_bans_file, .fini = t_free)
{
	t_bad("bad-bans-file.yaml", 3, "bans_file", "not an absolute path");
}

Test(config, example_file_is_valid, .fini = t_free)
{
	t_load_ok("scripts/siplb.example.yaml");
	cr_assert_gt(t_cfg.n_vips, 0);
}

Test(config, control_default_follows_instance_name, .fini = t_free)
{
	t_load_ok(T_DIR "instance.yaml");
	cr_assert_str_eq(t_cfg.control, "/run/siplb/pop-2.sock");
}

Test(config, missing_file_returns_enoent)
{
	int ret = siplb_config_load(T_DIR "no-such-file.yaml", &t_cfg, t_err,
				    sizeof(t_err));

	cr_assert_eq(ret, -ENOENT);
	cr_assert_not_null(strstr(t_err, "no-such-file.yaml"));
}

Test(config, rejects_unknown_key_naming_it, .fini = t_free)
{
	t_bad("bad-unknown-key.yaml", 5, "vips[0].bakends", "unknown setting");
}

Test(config, rejects_hash_key_with_non_hex_digit, .fini = t_free)
{
	t_bad("bad-key-hex.yaml", 2, "hash_key", "not a hex digit");
}

Test(config, rejects_hash_key_of_wrong_length, .fini = t_free)
{
	t_bad("bad-key-len.yaml", 1, "hash_key", "32 hex digits");
}

Test(config, rejects_non_prime_maglev_size, .fini = t_free)
{
	t_bad("bad-not-prime.yaml", 3, "maglev_size", "65536 is not prime");
}

Test(config, rejects_bad_ipv4_address, .fini = t_free)
{
	t_bad("bad-ipv4.yaml", 4, "vips[0].address", "'198.18.2.300'");
}

Test(config, rejects_ipv6_backend_under_ipv4_vip, .fini = t_free)
{
	t_bad("bad-family.yaml", 7, "vips[0].backends[1].address",
	      "IPv6 address under an IPv4 VIP");
}

Test(config, rejects_weight_zero, .fini = t_free)
{
	t_bad("bad-weight0.yaml", 7, "vips[0].backends[0].weight",
	      "out of range 1..65535");
}

Test(config, rejects_weight_above_65535, .fini = t_free)
{
	t_bad("bad-weight-big.yaml", 8, "vips[0].backends[1].weight",
	      "65536 is out of range");
}

Test(config, rejects_port_70000, .fini = t_free)
{
	t_bad("bad-port.yaml", 5, "vips[0].port", "70000 is out of range");
}

Test(config, rejects_unknown_mode, .fini = t_free)
{
	t_bad("bad-mode.yaml", 4, "vips[0].mode", "'foo' is not one of ipip or l2");
}

Test(config, rejects_unknown_register_key, .fini = t_free)
{
	t_bad("bad-regkey.yaml", 5, "vips[0].register_key",
	      "'foo' is not one of call-id or to-aor");
}

Test(config, rejects_vip_without_address, .fini = t_free)
{
	t_bad("bad-no-address.yaml", 5, "vips[1].address",
	      "missing required setting");
}

Test(config, rejects_file_without_hash_key, .fini = t_free)
{
	t_bad("bad-no-key.yaml", 2, "hash_key", "missing required setting");
}

Test(config, rejects_empty_file_for_missing_hash_key, .fini = t_free)
{
	t_bad("bad-empty.yaml", 1, "hash_key", "missing required setting");
}

Test(config, rejects_duplicate_vip_address_and_port, .fini = t_free)
{
	t_bad("bad-dup-vip.yaml", 6, "vips[1]",
	      "198.18.2.10 port 5060 given twice (first at line 4)");
}

Test(config, rejects_duplicate_backend_in_a_vip, .fini = t_free)
{
	t_bad("bad-dup-backend.yaml", 8, "vips[0].backends[2]",
	      "198.18.1.1 port 5060 given twice (first at line 6)");
}

Test(config, reports_yaml_syntax_error_with_line, .fini = t_free)
{
	t_bad("bad-syntax.yaml", 4, NULL, "YAML syntax error");
}

Test(config, rejects_scalar_where_list_expected, .fini = t_free)
{
	t_bad("bad-not-list.yaml", 5, "vips[0].backends",
	      "expected a list, got a scalar");
}

Test(config, rejects_text_where_number_expected, .fini = t_free)
{
	t_bad("bad-not-number.yaml", 2, "mtu", "'1500bytes' is not a number");
}

Test(config, rejects_ipip_vip_without_outer_source, .fini = t_free)
{
	t_bad("bad-no-src4.yaml", 5, "src4", "vips[1] is an IPv4 VIP in mode ipip");
}

Test(config, rejects_setting_given_twice, .fini = t_free)
{
	t_bad("bad-dup-key.yaml", 3, "mtu", "given twice (first at line 2)");
}

Test(config, rejects_timeout_longer_than_interval, .fini = t_free)
{
	t_bad("bad-timeout.yaml", 4, "health.timeout_ms", "longer than");
}

Test(config, rejects_status_code_out_of_range, .fini = t_free)
{
	t_bad("bad-accept.yaml", 5, "health.accept[1]", "99 is out of range");
}

Test(config, rejects_metrics_host_name, .fini = t_free)
{
	t_bad("bad-metrics.yaml", 2, "metrics", "'localhost:9100'");
}

Test(config, rejects_unknown_transport, .fini = t_free)
{
	t_bad("bad-transport.yaml", 5, "vips[0].transports[1]", "'sctp'");
}

Test(config, rejects_unknown_attach_mode, .fini = t_free)
{
	t_bad("bad-attach.yaml", 4, "interfaces[0].attach", "'offload'");
}

Test(config, rejects_second_yaml_document, .fini = t_free)
{
	t_bad("bad-two-docs.yaml", 3, NULL, "second YAML document");
}

Test(config, rejects_an_announce_table_that_routes_traffic, .fini = t_free)
{
	t_bad("bad-announce-table.yaml", 4, "announce.table", "254");
}

Test(config, rejects_a_dialog_window_over_a_week, .fini = t_free)
{
	t_bad("bad-dialog-window.yaml", 4, "affinity.dialog_window", "604801");
}

Test(config, stream_settings_have_documented_defaults, .fini = t_free)
{
	t_load_ok(T_DIR "minimal.yaml");
	cr_assert_eq(t_cfg.vips[0].tls_port, 5061);
	cr_assert_null(t_cfg.tls.cert);
	cr_assert_eq(t_cfg.tls.min_version, 0x0303);
	cr_assert_eq(t_cfg.tls.verify, SIPLB_TLS_VERIFY_NONE);
	cr_assert_eq(t_cfg.tls.handshake_ms, 5000);
	cr_assert_not(t_cfg.streams.have_flow_key);
	cr_assert_eq(t_cfg.streams.relay_port, 5060);
	cr_assert_eq(t_cfg.streams.max_conns, 10000);
	cr_assert_eq(t_cfg.streams.max_header, 16384);
	cr_assert_eq(t_cfg.streams.max_body, 65536);
	cr_assert_eq(t_cfg.streams.idle_s, 600);
	cr_assert_eq(t_cfg.streams.msg_timeout_ms, 10000);
}

Test(config, rejects_tls_vip_without_certificate, .fini = t_free)
{
	t_bad("bad-tls-nocert.yaml", 4, "tls.certificate", "vips[0] takes tls");
}

Test(config, rejects_tcp_vip_without_flow_token_key, .fini = t_free)
{
	t_bad("bad-no-flowkey.yaml", 4, "streams.flow_token_key", "missing");
}

Test(config, rejects_flow_token_key_of_wrong_length, .fini = t_free)
{
	t_bad("bad-flowkey.yaml", 10, "streams.flow_token_key", "expected 64 hex digits");
}

Test(config, rejects_verify_client_without_client_ca, .fini = t_free)
{
	t_bad("bad-verify-noca.yaml", 4, "tls.client_ca", "verify_client require");
}

Test(config, rejects_unknown_tls_version_and_relative_path, .fini = t_free)
{
	t_bad("bad-tls-version.yaml", 6, "tls.min_version", "'1.1' is not one of 1.2 or 1.3");
	t_bad("bad-tls-relpath.yaml", 4, "tls.key", "not an absolute path");
}

Test(config, rejects_tls_port_equal_to_tcp_port, .fini = t_free)
{
	t_bad("bad-tls-port.yaml", 5, "vips[0].tls_port", "also the VIP's TCP port");
}
