/* log.h: siplbd's log lines on stderr, with levels (journald adds the time). */
#ifndef SIPLB_LOG_H
#define SIPLB_LOG_H

#include "config.h"

/* Lines above this level are not printed; set from the config's log_level. */
extern enum siplb_log_level log_max_level;

void log_msg(enum siplb_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(SIPLB_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(SIPLB_LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(SIPLB_LOG_INFO, __VA_ARGS__)
#define log_dbg(...)	log_msg(SIPLB_LOG_DEBUG, __VA_ARGS__)

#endif /* SIPLB_LOG_H */
