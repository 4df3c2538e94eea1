/* config.h - the server's directives, declared once.
 *
 * Each row of CONFIG_DIRECTIVES is the single definition of a directive: it
 * generates the field of struct config, the `name value` line of a config
 * file, the `--name value` flag, CONFIG GET/SET and (when an INFO section is
 * named) the INFO field. Adding a directive is adding a row.
 *
 * Columns: field, name, type, default, min, max, flags, INFO section, INFO
 * field, help. Types: INT (decimal), MEM (bytes, with k/kb/m/mb/g/gb), BOOL
 * (yes/no), ENUM (one of the words in the min column), STR. */
#ifndef KASI_CONFIG_H
#define KASI_CONFIG_H

#include <stddef.h>

#include "buf.h"

#define CFG_MUTABLE 1   /* CONFIG SET may change it at run time */

#define CONFIG_DIRECTIVES(X)                                                                 \
    X(port, "port", INT, "5000", 0, 65535, 0, "server", "tcp_port",                          \
      "TCP port to listen on (0 disables TCP)")                                              \
    X(bind, "bind", STR, "127.0.0.1 -::1", 0, 0, 0, NULL, NULL,                              \
      "addresses to listen on, space separated; a leading '-' means optional")               \
    X(unixsocket, "unixsocket", STR, "", 0, 0, 0, NULL, NULL,                                \
      "path of a unix socket to listen on as well")                                          \
    X(unixsocketperm, "unixsocketperm", INT, "0", 0, 0777, 0, NULL, NULL,                    \
      "permissions of the unix socket, octal digits read as decimal (e.g. 700)")             \
    X(daemonize, "daemonize", BOOL, "no", 0, 1, 0, NULL, NULL,                               \
      "detach from the terminal and run in the background")                                  \
    X(pidfile, "pidfile", STR, "", 0, 0, 0, NULL, NULL, "file to write the pid to")          \
    X(logfile, "logfile", STR, "", 0, 0, 0, NULL, NULL,                                      \
      "log file (empty: standard error, or /dev/null when daemonized)")                      \
    X(loglevel, "loglevel", ENUM, "notice", "debug verbose notice warning", 0, CFG_MUTABLE,  \
      NULL, NULL, "log verbosity")                                                           \
    X(requirepass, "requirepass", STR, "", 0, 0, 0, NULL, NULL,                              \
      "password clients must AUTH with (empty: none)")                                       \
    X(maxclients, "maxclients", INT, "10000", 1, 1000000, CFG_MUTABLE, "clients",            \
      "maxclients", "maximum number of connected clients")                                   \
    X(timeout, "timeout", INT, "0", 0, 2000000000, CFG_MUTABLE, NULL, NULL,                  \
      "close clients idle for this many seconds (0: never)")                                 \
    X(threads, "threads", INT, "0", 0, 256, 0, "server", "io_threads_active",                \
      "worker threads (0: one per core)")                                                    \
    X(max_domains, "max-domains", INT, "1024", 1, 1000000, CFG_MUTABLE, "kasi",              \
      "max_domains", "maximum number of domains")                                            \
    X(proto_max_bulk_len, "proto-max-bulk-len", MEM, "512mb", 1024 * 1024, 512LL << 20,      \
      CFG_MUTABLE, NULL, NULL, "largest bulk string a client may send")                      \
    X(client_query_buffer_limit, "client-query-buffer-limit", MEM, "1gb", 1024 * 1024,       \
      1LL << 40, CFG_MUTABLE, NULL, NULL, "close a client whose unparsed input exceeds this") \
    X(client_output_buffer_limit, "client-output-buffer-limit", MEM, "256mb", 0, 1LL << 40,  \
      CFG_MUTABLE, NULL, NULL,                                                               \
      "close a client whose unsent replies exceed this (0: no limit)")                       \
    X(hz, "hz", INT, "10", 1, 500, CFG_MUTABLE, "server", "hz",                              \
      "background task frequency (expiry, timeouts)")                                        \
    X(tcp_backlog, "tcp-backlog", INT, "511", 1, 65535, 0, NULL, NULL, "listen() backlog")   \
    X(maxmemory, "maxmemory", MEM, "0", 0, 1LL << 50, CFG_MUTABLE, "memory", "maxmemory",    \
      "bound on the memory used by keys (0: none); see maxmemory-policy")                    \
    X(maxmemory_policy, "maxmemory-policy", ENUM, "s3fifo",                                  \
      "noeviction allkeys-lru allkeys-lfu allkeys-random volatile-lru volatile-lfu "          \
      "volatile-random volatile-ttl s3fifo",                                                  \
      0, CFG_MUTABLE, "memory", "maxmemory_policy",                                          \
      "what to evict at maxmemory: s3fifo (default) or one of Redis's policies")              \
    X(dir, "dir", STR, ".", 0, 0, CFG_MUTABLE, NULL, NULL,                                   \
      "directory of the snapshot and the AOF")                                               \
    X(dbfilename, "dbfilename", STR, "dump.kasi", 0, 0, CFG_MUTABLE, NULL, NULL,             \
      "snapshot file name")                                                                  \
    X(save, "save", STR, "3600 1 300 100 60 10000", 0, 0, CFG_MUTABLE, NULL, NULL,           \
      "snapshot after <seconds> if <changes> writes, for each pair (\"\": never)")            \
    X(stop_writes_on_bgsave_error, "stop-writes-on-bgsave-error", BOOL, "yes", 0, 1,         \
      CFG_MUTABLE, NULL, NULL, "refuse writes while the last background snapshot failed")    \
    X(appendonly, "appendonly", BOOL, "no", 0, 1, CFG_MUTABLE, NULL, NULL,                   \
      "log every write to the append-only file")                                             \
    X(appendfsync, "appendfsync", ENUM, "everysec", "always everysec no", 0, CFG_MUTABLE,    \
      NULL, NULL, "fsync the AOF before each reply (always), once a second, or never")       \
    X(appenddirname, "appenddirname", STR, "appendonlydir", 0, 0, 0, NULL, NULL,             \
      "directory (inside dir) of the AOF files")                                             \
    X(appendfilename, "appendfilename", STR, "appendonly.aof", 0, 0, 0, NULL, NULL,          \
      "base name of the AOF files")                                                          \
    X(auto_aof_rewrite_percentage, "auto-aof-rewrite-percentage", INT, "100", 0, 1000000,    \
      CFG_MUTABLE, NULL, NULL, "rewrite the AOF when it grew this much since the last (0: never)") \
    X(auto_aof_rewrite_min_size, "auto-aof-rewrite-min-size", MEM, "64mb", 0, 1LL << 50,     \
      CFG_MUTABLE, NULL, NULL, "but not before it is this big")

#define CFG_CTYPE_INT long long
#define CFG_CTYPE_MEM long long
#define CFG_CTYPE_BOOL long long
#define CFG_CTYPE_ENUM long long
#define CFG_CTYPE_STR char *

typedef struct config {
#define X(f_, nm_, t_, dflt_, lo_, hi_, fl_, sect_, info_, hlp_) CFG_CTYPE_##t_ f_;
    CONFIG_DIRECTIVES(X)
#undef X
    char *config_file;   /* absolute path of the file we loaded, or NULL */
} config;

/* Fill cfg with the defaults. */
void config_init(config *cfg);
/* Free the strings. */
void config_free(config *cfg);
/* Apply the command line (a config file first, then --flags). Returns 0, or
 * -1 with a message in err. Sets *exit_now for --help/--version. */
int config_from_args(config *cfg, int argc, char **argv, char *err, size_t errlen,
                     int *exit_now);
/* Set one directive from its textual value(s). Returns 0 or -1 with err. */
int config_set(config *cfg, const char *name, const char *value, int runtime, char *err,
               size_t errlen);
/* CONFIG GET: append the name/value pairs matching any of the names or
 * glob patterns to out; returns the number of strings appended. */
int config_get(config *cfg, const char *const *pats, const size_t *lens, int npats, buf *out);
/* Append "field:value\r\n" lines for the directives shown in an INFO section. */
void config_info(config *cfg, const char *section, buf *out);
/* Print --help. */
void config_usage(const char *prog);

/* A copy of a string directive that CONFIG SET may change (free it). */
char *config_str(config *cfg, char *const *field);

/* Atomic read of a numeric directive that CONFIG SET may change. */
static inline long long cfg_ll(const long long *field)
{
    return __atomic_load_n(field, __ATOMIC_RELAXED);
}

#endif
