// SPDX-License-Identifier: GPL-2.0
/* siplbctl.c: the operator's CLI. main() only dispatches through the command table. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipmsg.h"

struct cmd {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(int argc, char **argv);
};

static int cmd_parse(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct cmd cmds[] = {
	{ "parse", "[--json] [--key HEX32] FILE",
	  "Run the XDP program's SIP parser (compiled for userspace) over one raw\n"
	  "\t\tmessage (a UDP payload, exact bytes) and print what it found: kind,\n"
	  "\t\tmethod or status, Call-ID, top Via sent-by and branch, To AOR, and the\n"
	  "\t\tpath the balancer takes (xdp, slow or drop) with its reason.\n"
	  "\t\t--key prints the keyed hash of the Call-ID. Needs no daemon, no root.",
	  cmd_parse },
	{ "help", "", "This text.", cmd_help },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: siplbctl COMMAND [ARGS]\n\n"
		   "Control and inspect the siplb SIP load balancer.\n\nCommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %s %s\n\t\t%s\n", cmds[i].name, cmds[i].args, cmds[i].help);
	fprintf(f, "\nExit status: 0 on success, 1 on a failed command, 2 on bad usage.\n");
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
}

/* Read a whole file of at most max bytes into buf. Returns its length or -errno. */
static long read_file(const char *path, void *buf, size_t max)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	int c;

	if (!f)
		return -errno;
	n = fread(buf, 1, max, f);
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	c = fgetc(f);
	fclose(f);
	if (c != EOF)
		return -EMSGSIZE;
	return (long)n;
}

static void print_str(const char *label, const struct sipmsg_str *s)
{
	if (s->set)
		printf("%-12s %.*s\n", label, (int)s->len, s->p);
	else
		printf("%-12s -\n", label);
}

static int cmd_parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	static __u8 buf[SIPMSG_MAX + 1];
	struct siplb_hash_key key, *kp = NULL;
	struct sipmsg_info info;
	int json = 0, opt;
	long len;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jk:", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 'k':
			if (sipmsg_parse_key(optarg, &key)) {
				fprintf(stderr, "siplbctl parse: --key wants 32 hex digits, got '%s'\n",
					optarg);
				return 2;
			}
			kp = &key;
			break;
		default:
			fprintf(stderr, "Usage: siplbctl parse [--json] [--key HEX32] FILE\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "Usage: siplbctl parse [--json] [--key HEX32] FILE\n");
		return 2;
	}
	len = read_file(argv[optind], buf, SIPMSG_MAX);
	if (len == -EMSGSIZE) {
		fprintf(stderr, "siplbctl parse: %s: larger than a UDP datagram (%d bytes)\n",
			argv[optind], SIPMSG_MAX);
		return 1;
	}
	if (len < 0) {
		fprintf(stderr, "siplbctl parse: %s: %s\n", argv[optind], strerror(-len));
		return 1;
	}
	sipmsg_parse(buf, len, &info);

	if (json) {
		struct json_object *o = sipmsg_to_json(&info, kp);

		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return 0;
	}
	printf("%-12s %s\n", "valid", info.valid ? "yes" : "no");
	print_str("method", &info.method);
	if (info.msg.kind == SIP_KIND_RESPONSE)
		printf("%-12s %u\n", "status", info.msg.status);
	else
		printf("%-12s -\n", "status");
	print_str("call-id", &info.call_id);
	print_str("via sent-by", &info.via_sent_by);
	print_str("via branch", &info.via_branch);
	print_str("to aor", &info.to_aor);
	printf("%-12s %s%s%s\n", "path", info.path, info.reason ? ": " : "",
	       info.reason ? info.reason : "");
	if (kp && info.call_id.set)
		printf("%-12s %016llx\n", "hash",
		       (unsigned long long)siplb_hash_buf(info.call_id.p,
							   info.call_id.len, kp));
	return 0;
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "siplbctl: unknown command '%s' (try 'siplbctl help')\n", argv[1]);
	return 2;
}
