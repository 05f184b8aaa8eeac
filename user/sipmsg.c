// SPDX-License-Identifier: GPL-2.0
/* sipmsg.c: runs the shared parser (include/sip_parse.h) in userspace and names its findings. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sipmsg.h"

static const char *const method_names[SIP_METHOD__MAX] = {
	[SIP_METHOD_INVITE] = "INVITE",
	[SIP_METHOD_ACK] = "ACK",
	[SIP_METHOD_BYE] = "BYE",
	[SIP_METHOD_CANCEL] = "CANCEL",
	[SIP_METHOD_REGISTER] = "REGISTER",
	[SIP_METHOD_OPTIONS] = "OPTIONS",
	[SIP_METHOD_PRACK] = "PRACK",
	[SIP_METHOD_UPDATE] = "UPDATE",
	[SIP_METHOD_INFO] = "INFO",
	[SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
	[SIP_METHOD_NOTIFY] = "NOTIFY",
	[SIP_METHOD_REFER] = "REFER",
	[SIP_METHOD_MESSAGE] = "MESSAGE",
	[SIP_METHOD_PUBLISH] = "PUBLISH",
};

const char *sipmsg_method_name(unsigned int method)
{
	return method < SIP_METHOD__MAX ? method_names[method] : NULL;
}

static struct sipmsg_str range(const void *buf, __u32 off, __u32 len)
{
	struct sipmsg_str s = { .p = (const char *)buf + off, .len = len, .set = true };

	return s;
}

void sipmsg_parse(const void *buf, size_t len, struct sipmsg_info *info)
{
	struct sip_win win = { .data = buf, .end = (const __u8 *)buf + len };
	struct sip_msg *m = &info->msg;

	memset(info, 0, sizeof(*info));
	if (len > SIPMSG_MAX)
		len = SIPMSG_MAX;
	win.end = (const __u8 *)buf + len;
	sip_scan(&win, 0, m);

	if (m->kind == SIP_KIND_REQUEST)
		info->method = range(buf, 0, m->method_len);
	if (m->callid_len)
		info->call_id = range(buf, m->callid_off, m->callid_len);
	if (m->via_len && sip_via(&win, 0, m, &info->via) == 0) {
		info->via_sent_by = range(buf, info->via.sent_by_off,
					  info->via.sent_by_len);
		if (info->via.branch_len)
			info->via_branch = range(buf, info->via.branch_off,
						 info->via.branch_len);
	}
	if (m->to_len && sip_to_aor(&win, 0, m, &info->aor) == 0)
		info->to_aor = range(buf, info->aor.off, info->aor.len);
	info->to_tag = m->to_len && sip_to_tag(&win, 0, m);

	switch (m->verdict) {
	case SIP_VERDICT_FAST:
		info->path = "xdp";
		info->reason = NULL;
		info->valid = true;
		break;
	case SIP_VERDICT_SLOW:
		info->path = "slow";
		info->reason = m->reason < SIPLB_SLOW__MAX ?
			       siplb_slow_names[m->reason] : "unknown";
		info->valid = true;
		break;
	default:
		info->path = "drop";
		info->reason = m->reason < SIPLB_DROP__MAX ?
			       siplb_drop_names[m->reason] : "unknown";
		info->valid = false;
		break;
	}
}

static struct json_object *jstr(const struct sipmsg_str *s)
{
	return s->set ? json_object_new_string_len(s->p, (int)s->len) : NULL;
}

struct json_object *sipmsg_to_json(const struct sipmsg_info *info,
				   const struct siplb_hash_key *key)
{
	static const char *const kinds[] = { "none", "request", "response", "keepalive" };
	const struct sip_msg *m = &info->msg;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "valid", json_object_new_boolean(info->valid));
	json_object_object_add(o, "kind", json_object_new_string(
				       m->kind < 4 ? kinds[m->kind] : "none"));
	json_object_object_add(o, "method", jstr(&info->method));
	json_object_object_add(o, "status", m->kind == SIP_KIND_RESPONSE ?
				json_object_new_int(m->status) : NULL);
	json_object_object_add(o, "call_id", jstr(&info->call_id));
	json_object_object_add(o, "via_branch", jstr(&info->via_branch));
	json_object_object_add(o, "via_sent_by", jstr(&info->via_sent_by));
	json_object_object_add(o, "to_aor", jstr(&info->to_aor));
	json_object_object_add(o, "to_tag", json_object_new_boolean(info->to_tag));
	json_object_object_add(o, "path", json_object_new_string(info->path));
	json_object_object_add(o, "reason", info->reason ?
				json_object_new_string(info->reason) : NULL);
	json_object_object_add(o, "headers_end", m->hdr_end ?
				json_object_new_int(m->hdr_end) : NULL);
	if (key && info->call_id.set) {
		char hex[17];

		snprintf(hex, sizeof(hex), "%016llx",
			 (unsigned long long)siplb_hash_buf(info->call_id.p,
							     info->call_id.len, key));
		json_object_object_add(o, "call_id_hash", json_object_new_string(hex));
	}
	return o;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sipmsg_parse_key(const char *hex, struct siplb_hash_key *key)
{
	__u8 b[16];
	int i;

	if (strlen(hex) != 32)
		return -EINVAL;
	for (i = 0; i < 16; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		b[i] = hi << 4 | lo;
	}
	memcpy(&key->k0, b, 8);
	memcpy(&key->k1, b + 8, 8);
	return 0;
}
