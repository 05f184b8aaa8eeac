// SPDX-License-Identifier: GPL-2.0
/* log.c: one line per event on stderr, "<N>level: text" so journald keeps the priority. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

enum siplb_log_level log_max_level = SIPLB_LOG_INFO;

/* sd-daemon(3) priority prefixes: err, warning, info, debug. */
static const char prio[] = { '3', '4', '6', '7' };

void log_msg(enum siplb_log_level level, const char *fmt, ...)
{
	static int prefixes = -1;
	char line[1024];
	va_list ap;

	if (level > log_max_level)
		return;
	/* The <N> prefix is for journald; a terminal gets plain text. */
	if (prefixes < 0)
		prefixes = !isatty(STDERR_FILENO);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (prefixes)
		fprintf(stderr, "<%c>%s: %s\n", prio[level], siplb_log_level_name(level), line);
	else
		fprintf(stderr, "%s: %s\n", siplb_log_level_name(level), line);
}
