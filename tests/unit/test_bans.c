// SPDX-License-Identifier: GPL-2.0
/* test_bans.c: siplbd's ban prefixes (ADDR[/LEN], host bits cleared) and the bans file it writes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "daemon.h"

static void parse_is(const char *in, const char *want)
{
	struct sd_ban b;
	char err[128], buf[64];

	cr_assert_eq(sd_ban_parse(in, &b, err, sizeof(err)), 0, "%s: %s", in, err);
	cr_assert_str_eq(sd_ban_str(&b, buf, sizeof(buf)), want, "%s", in);
}

Test(bans, prefixes_are_normalized_to_their_network)
{
	parse_is("198.18.7.5", "198.18.7.5/32");
	parse_is("198.18.7.5/24", "198.18.7.0/24");
	parse_is("198.18.7.5/0", "0.0.0.0/0");
	parse_is("2001:db8::1", "2001:db8::1/128");
	parse_is("2001:db8:5:1:ffff::2/64", "2001:db8:5:1::/64");
	parse_is("2001:db8:abcd::/36", "2001:db8:a000::/36");
}

Test(bans, bad_prefixes_are_refused_naming_the_input)
{
	static const char *const bad[] = { "", "foo", "198.18.7.0/33", "198.18.7.0/",
		"/24", "2001:db8::/129", "198.18.7.0/24x", "198.18.7.0/-1", "198.18.7" };
	struct sd_ban b;
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(sd_ban_parse(bad[i], &b, err, sizeof(err)), -EINVAL, "'%s'", bad[i]);
		cr_assert_not_null(strstr(err, "is not an IPv4 or IPv6"), "%s", err);
	}
}

Test(bans, the_bans_file_is_replaced_whole_with_every_ban)
{
	struct siplbd *d = calloc(1, sizeof(*d));
	char path[] = "/tmp/siplb-bans-test.XXXXXX", line[256], tmp[64], err[128];
	struct sd_ban b[2];
	FILE *f;
	int fd, n = 0;

	cr_assert_not_null(d);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(sd_ban_parse("198.18.7.0/24", &b[0], err, sizeof(err)), 0);
	b[0].expires = 0;
	cr_assert_eq(sd_ban_parse("2001:db8:5:1::/64", &b[1], err, sizeof(err)), 0);
	b[1].expires = 2000000000;
	b[1].autob = true;
	d->bans = b;
	d->n_bans = 2;
	d->cfg.bans_file = path;
	cr_assert_eq(sd_bans_save(d), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	cr_assert_neq(access(tmp, F_OK), 0, "the temporary file was renamed");
	f = fopen(path, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (n == 0)
			cr_assert_str_eq(line, "198.18.7.0/24 0 manual\n");
		else
			cr_assert_str_eq(line, "2001:db8:5:1::/64 2000000000 auto\n");
		n++;
	}
	fclose(f);
	cr_assert_eq(n, 2);
	d->n_bans = 0;
	cr_assert_eq(sd_bans_save(d), 0);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	n = 0;
	while (fgets(line, sizeof(line), f))
		n += line[0] != '#';
	fclose(f);
	cr_assert_eq(n, 0, "no bans: an empty list, not the old one");
	unlink(path);
	free(d);
}
