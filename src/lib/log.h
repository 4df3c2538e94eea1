/* log.h - leveled, timestamped log lines ("pid:M dd Mon yyyy hh:mm:ss.mmm * msg")
 * written with one write() each, so threads never interleave within a line. */
#ifndef KASI_LOG_H
#define KASI_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_VERBOSE, LOG_NOTICE, LOG_WARNING };

/* Open path for appending ("" or NULL means stderr). Returns 0 or -errno. */
int log_open(const char *path);
void log_set_level(int level);
int log_get_level(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...)   log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_verbose(...) log_msg(LOG_VERBOSE, __VA_ARGS__)
#define log_notice(...)  log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warn(...)    log_msg(LOG_WARNING, __VA_ARGS__)

#endif
