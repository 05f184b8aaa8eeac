// SPDX-License-Identifier: GPL-2.0
/* test_siplbctl.c: `siplbctl parse` as a user runs it: exit status, JSON fields, errors. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Run a shell command; its stdout into out (size n). Returns the exit status. */
static int run(const char *cmd, char *out, size_t n)
{
	FILE *p = popen(cmd, "r");
	size_t len;
	int st;

	cr_assert_not_null(p, "popen %s", cmd);
	len = fread(out, 1, n - 1, p);
	out[len] = 0;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static struct json_object *parse_json(const char *file)
{
	char cmd[512], out[8192];
	struct json_object *o;

	snprintf(cmd, sizeof(cmd), "build/siplbctl parse --json %s", file);
	cr_assert_eq(run(cmd, out, sizeof(out)), 0, "%s exits 0", cmd);
	o = json_tokener_parse(out);
	cr_assert_not_null(o, "one JSON object from %s: %s", cmd, out);
	return o;
}

static const char *str(struct json_object *o, const char *k)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(o, k, &v), "field %s present", k);
	return v ? json_object_get_string(v) : NULL;
}

Test(siplbctl, parse_json_reports_an_invite_for_the_fast_path)
{
	struct json_object *o = parse_json("tests/msgs/invite.sip"), *v;

	cr_assert(json_object_object_get_ex(o, "valid", &v) && json_object_get_boolean(v));
	cr_assert_str_eq(str(o, "method"), "INVITE");
	cr_assert(json_object_object_get_ex(o, "status", &v) && v == NULL, "status null");
	cr_assert_str_eq(str(o, "call_id"), "a84b4c76e66710@pc33.atlanta.example.com");
	cr_assert_str_eq(str(o, "via_branch"), "z9hG4bK776asdhds");
	cr_assert_str_eq(str(o, "via_sent_by"), "pc33.atlanta.example.com:5060");
	cr_assert_str_eq(str(o, "to_aor"), "bob@biloxi.example.com");
	cr_assert_str_eq(str(o, "path"), "xdp");
	json_object_put(o);
}

Test(siplbctl, parse_json_reports_a_response_status_and_no_method)
{
	struct json_object *o = parse_json("tests/msgs/ok200.sip"), *v;

	cr_assert(json_object_object_get_ex(o, "status", &v) && json_object_get_int(v) == 200);
	cr_assert(json_object_object_get_ex(o, "method", &v) && v == NULL, "method null");
	cr_assert_str_eq(str(o, "path"), "xdp");
	json_object_put(o);
}

Test(siplbctl, parse_json_says_why_a_message_is_dropped_or_goes_slow)
{
	struct json_object *o = parse_json("tests/msgs/no_callid.sip"), *v;

	cr_assert(json_object_object_get_ex(o, "valid", &v) && !json_object_get_boolean(v));
	cr_assert_str_eq(str(o, "path"), "drop");
	cr_assert_str_eq(str(o, "reason"), "no_call_id");
	json_object_put(o);
	o = parse_json("tests/msgs/folded.sip");
	cr_assert_str_eq(str(o, "path"), "slow");
	cr_assert_str_eq(str(o, "reason"), "folded_header");
	json_object_put(o);
	o = parse_json("tests/msgs/garbage.bin");
	cr_assert_str_eq(str(o, "path"), "drop");
	cr_assert_str_eq(str(o, "reason"), "not_sip");
	json_object_put(o);
}

Test(siplbctl, parse_key_prints_the_same_hash_as_the_library)
{
	char out[8192];

	cr_assert_eq(run("build/siplbctl parse --json --key 000102030405060708090a0b0c0d0e0f "
			 "tests/msgs/invite.sip", out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "\"call_id_hash\":\""), "%s", out);
	cr_assert_eq(run("build/siplbctl parse --json --key 0001 tests/msgs/invite.sip 2>/dev/null",
			 out, sizeof(out)), 2, "a short key is bad usage");
}

Test(siplbctl, parse_of_a_missing_file_names_it_and_fails)
{
	char out[8192];

	cr_assert_eq(run("build/siplbctl parse --json /nonexistent/x.sip 2>&1", out, sizeof(out)), 1);
	cr_assert_not_null(strstr(out, "/nonexistent/x.sip"), "error names the file: %s", out);
	cr_assert_eq(run("build/siplbctl parse 2>&1", out, sizeof(out)), 2, "no file: usage");
	cr_assert_eq(run("build/siplbctl frobnicate 2>&1", out, sizeof(out)), 2);
}
