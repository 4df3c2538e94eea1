/* log.c - see log.h. The level and the fd are process-wide: logging is the
 * one facility every module may use without being handed a context. */
#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_fd = STDERR_FILENO;
static _Atomic int log_level = LOG_NOTICE;

int log_open(const char *path)
{
    int fd;
    if (!path || !*path) {
        atomic_store(&log_fd, STDERR_FILENO);
        return 0;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    atomic_store(&log_fd, fd);
    return 0;
}

void log_set_level(int level) { atomic_store(&log_level, level); }
int log_get_level(void) { return atomic_load(&log_level); }

void log_msg(int level, const char *fmt, ...)
{
    static const char marks[] = ".-*#";
    char line[1024];
    struct timeval tv;
    struct tm tm;
    va_list ap;
    int n;

    if (level < atomic_load(&log_level)) return;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    n = snprintf(line, sizeof line, "%d:M ", (int)getpid());
    n += (int)strftime(line + n, sizeof line - (size_t)n, "%d %b %Y %H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03d %c ", (int)(tv.tv_usec / 1000),
                  marks[level & 3]);
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
    line[n++] = '\n';
    if (write(atomic_load(&log_fd), line, (size_t)n) < 0) { /* nowhere to report */ }
}
