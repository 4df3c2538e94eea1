/* config.h - the server's directives, declared once.
 *
 * Each row of CONFIG_DIRECTIVES is the single definition of a directive: it
 * generates the field of struct config, the `name value` line of a config
 * file, the `--name value` flag, CONFIG GET/SET and (when an INFO section is
 * named) the INFO field. Adding a directive is adding a row; what a change
 * must also do at run time (re-bind, start the AOF ...) is an apply hook
 * that the module concerned installs with config_on_change().
 *
 * Columns: field, name, type, default, min, max, flags, check, INFO
 * section, INFO field, help. Types: INT (decimal), OCT (octal digits, as
 * file modes are written), MEM (bytes, with k/kb/m/mb/g/gb), BOOL (yes/no),
 * ENUM (one of the words in the min column), STR. check names a validator
 * for STR values (NULL: any). */
#ifndef KASI_CONFIG_H
#define KASI_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "lib/buf.h"
#include "store/keyspace.h"   /* the eviction policies' words */

#define CFG_MUTABLE 1     /* CONFIG SET may change it at run time */

/* appendfsync's values and words, defined once (the AOF reads the enum). */
#define CFG_FSYNC(X) X(FSYNC_ALWAYS, "always") X(FSYNC_EVERYSEC, "everysec") X(FSYNC_NO, "no")
enum cfg_fsync {
#define X(id, name) CFG_##id,
    CFG_FSYNC(X)
#undef X
};
#define CFG_FSYNC_WORD(id, name) name " "
#define CFG_FSYNC_WORDS CFG_FSYNC(CFG_FSYNC_WORD)
#define CFG_PROTECTED 2   /* ... only as enable-protected-configs allows (Redis 7) */
#define CFG_EMPTY_UNSET 4 /* "" means unset: CONFIG REWRITE drops its line (Redis's EMPTY_STRING_IS_NULL) */

#define CONFIG_DIRECTIVES(X)                                                                 \
    X(port, "port", INT, "5000", 0, 65535, CFG_MUTABLE, NULL, "server", "tcp_port",          \
      "TCP port to listen on (0 disables TCP); CONFIG SET re-binds")                         \
    X(metrics_port, "metrics-port", INT, "0", 0, 65535, CFG_MUTABLE, NULL, "kasi",            \
      "metrics_port",                                                                        \
      "HTTP port of GET /metrics (Prometheus) and the status page, on the bind addresses "   \
      "(0: off); CONFIG SET re-binds, as for port")                                          \
    X(bind, "bind", STR, "127.0.0.1 -::1", 0, 0, 0, NULL, NULL, NULL,                        \
      "addresses to listen on, space separated; a leading '-' means optional")               \
    X(protected_mode, "protected-mode", BOOL, "yes", 0, 1, CFG_MUTABLE, NULL, NULL, NULL,    \
      "with no password set, refuse clients that are not on loopback or a unix socket")      \
    X(enable_protected_configs, "enable-protected-configs", ENUM, "no", "no yes local", 0,   \
      0, NULL, NULL, NULL,                                                                    \
      "whether CONFIG SET may change dir and dbfilename (local: from loopback clients only)") \
    X(enable_debug_command, "enable-debug-command", ENUM, "no", "no yes local", 0, 0, NULL,   \
      NULL, NULL, "whether clients may run DEBUG (local: from loopback clients only)")       \
    X(unixsocket, "unixsocket", STR, "", 0, 0, CFG_EMPTY_UNSET, NULL, NULL, NULL,            \
      "path of a unix socket to listen on as well")                                          \
    X(unixsocketperm, "unixsocketperm", OCT, "0", 0, 0777, 0, NULL, NULL, NULL,              \
      "permissions of the unix socket, in octal (e.g. 700)")                                 \
    X(daemonize, "daemonize", BOOL, "no", 0, 1, 0, NULL, NULL, NULL,                         \
      "detach from the terminal and run in the background")                                  \
    X(pidfile, "pidfile", STR, "", 0, 0, CFG_EMPTY_UNSET, NULL, NULL, NULL,                  \
      "file to write the pid to")                                                            \
    X(logfile, "logfile", STR, "", 0, 0, 0, NULL, NULL, NULL,                                \
      "log file (empty: standard error, or /dev/null when daemonized)")                      \
    X(loglevel, "loglevel", ENUM, "notice", "debug verbose notice warning", 0, CFG_MUTABLE,  \
      NULL, NULL, NULL, "log verbosity")                                                     \
    X(requirepass, "requirepass", STR, "", 0, 0, CFG_MUTABLE | CFG_EMPTY_UNSET, NULL, NULL,   \
      NULL,                                                                                  \
      "password clients must AUTH with (empty: none); a change applies to new AUTHs")        \
    X(maxclients, "maxclients", INT, "10000", 1, 1000000, CFG_MUTABLE, NULL, "clients",      \
      "maxclients", "maximum number of connected clients")                                   \
    X(timeout, "timeout", INT, "0", 0, 2147483647, CFG_MUTABLE, NULL, NULL, NULL,            \
      "close clients idle for this many seconds (0: never)")                                 \
    X(threads, "threads", INT, "0", 0, 256, 0, NULL, "server", "io_threads_active",          \
      "worker threads (0: one per core)")                                                    \
    X(max_domains, "max-domains", INT, "1024", 1, 1000000, CFG_MUTABLE, NULL, "kasi",        \
      "max_domains", "maximum number of domains")                                            \
    X(proto_max_bulk_len, "proto-max-bulk-len", MEM, "512mb", 1024 * 1024, 512LL << 20,      \
      CFG_MUTABLE, NULL, NULL, NULL, "largest bulk string a client may send")                \
    X(client_query_buffer_limit, "client-query-buffer-limit", MEM, "1gb", 1024 * 1024,       \
      1LL << 40, CFG_MUTABLE, NULL, NULL, NULL,                                              \
      "close a client whose unparsed input exceeds this")                                    \
    X(client_output_buffer_limit, "client-output-buffer-limit", STR,                       \
      "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", 0, 0,           \
      CFG_MUTABLE, check_obuf, NULL, NULL,                                                   \
      "<class> <hard> <soft> <soft seconds> for normal, replica (slave) and pubsub clients: "  \
      "unsent copied replies beyond hard, or beyond soft for longer than the seconds, close "  \
      "the client (0: no limit); a setting changes the classes it names")                    \
    X(tracking_table_max_keys, "tracking-table-max-keys", INT, "1000000", 0, 4294967295LL,   \
      CFG_MUTABLE, NULL, NULL, NULL,                                                         \
      "keys client-side caching tracks at most; past it the oldest are invalidated (0: no limit)") \
    X(busy_reply_threshold, "busy-reply-threshold", INT, "5000", 0, LLONG_MAX, CFG_MUTABLE,  \
      NULL, NULL, NULL,                                                                      \
      "ms a script may run before other clients are answered BUSY (SCRIPT KILL may stop it)") \
    X(script_memory_max, "script-memory-max", MEM, "256mb", 1024 * 1024, 1LL << 40, CFG_MUTABLE, NULL,  \
      NULL, NULL,                                                                            \
      "bound on each Lua heap (scripts, functions): past it a script fails with 'not enough memory', "   \
      "and EVAL's script cache is emptied when it passes half")                             \
    X(hz, "hz", INT, "10", 0, 2147483647, CFG_MUTABLE, NULL, "server", "hz",                 \
      "background task frequency (expiry, timeouts); used within 1-500")                     \
    X(tcp_backlog, "tcp-backlog", INT, "511", 1, 65535, 0, NULL, NULL, NULL,                 \
      "listen() backlog")                                                                    \
    X(maxmemory, "maxmemory", MEM, "0", 0, 1LL << 50, CFG_MUTABLE, NULL, "memory",           \
      "maxmemory", "bound on the memory used by keys (0: none); see maxmemory-policy")       \
    X(maxmemory_policy, "maxmemory-policy", ENUM, "s3fifo", KS_POLICY_WORDS,                 \
      0, CFG_MUTABLE, NULL, "memory", "maxmemory_policy",                                    \
      "what to evict at maxmemory: s3fifo (default) or one of Redis's policies")              \
    X(dir, "dir", STR, ".", 0, 0, CFG_MUTABLE | CFG_PROTECTED, check_dir, NULL, NULL,        \
      "directory of the snapshot and the AOF")                                               \
    X(dbfilename, "dbfilename", STR, "dump.kasi", 0, 0, CFG_MUTABLE | CFG_PROTECTED,         \
      check_filename, NULL, NULL, "snapshot file name (a name, not a path)")                 \
    X(save, "save", STR, "3600 1 300 100 60 10000", 0, 0, CFG_MUTABLE, check_save, NULL,     \
      NULL, "snapshot after <seconds> if <changes> writes, for each pair (\"\": never)")      \
    X(stop_writes_on_bgsave_error, "stop-writes-on-bgsave-error", BOOL, "yes", 0, 1,         \
      CFG_MUTABLE, NULL, NULL, NULL, "refuse writes while the last background snapshot failed") \
    X(appendonly, "appendonly", BOOL, "no", 0, 1, CFG_MUTABLE, NULL, NULL, NULL,             \
      "log every write to the append-only file")                                             \
    X(appendfsync, "appendfsync", ENUM, "everysec", CFG_FSYNC_WORDS, 0, CFG_MUTABLE,         \
      NULL, NULL, NULL, "fsync the AOF before each reply (always), once a second, or never") \
    X(appenddirname, "appenddirname", STR, "appendonlydir", 0, 0, 0, check_dirname, NULL,    \
      NULL, "directory (inside dir) of the AOF files (a name, not a path)")                  \
    X(appendfilename, "appendfilename", STR, "appendonly.aof", 0, 0, 0, check_filename,      \
      NULL, NULL, "base name of the AOF files (a name, not a path)")                         \
    X(auto_aof_rewrite_percentage, "auto-aof-rewrite-percentage", INT, "100", 0, 1000000,    \
      CFG_MUTABLE, NULL, NULL, NULL,                                                         \
      "rewrite the AOF when it grew this much since the last (0: never)")                    \
    X(auto_aof_rewrite_min_size, "auto-aof-rewrite-min-size", MEM, "64mb", 0, 1LL << 50,     \
      CFG_MUTABLE, NULL, NULL, NULL, "but not before it is this big")                        \
    X(hash_max_listpack_entries, "hash-max-listpack-entries", INT, "512", 0, LLONG_MAX,      \
      CFG_MUTABLE, NULL, NULL, NULL, "a hash stays compact up to this many fields")          \
    X(hash_max_listpack_value, "hash-max-listpack-value", MEM, "64", 0, LLONG_MAX,          \
      CFG_MUTABLE, NULL, NULL, NULL, "... and while no field or value is longer")            \
    X(list_max_listpack_size, "list-max-listpack-size", INT, "-2", INT_MIN, INT_MAX,         \
      CFG_MUTABLE, NULL, NULL, NULL,                                                         \
      "a list node's size: -1..-5 for 4..64 KB, or a count of elements")                    \
    X(list_compress_depth, "list-compress-depth", INT, "0", 0, INT_MAX, CFG_MUTABLE, NULL,   \
      NULL, NULL, "accepted for Redis's sake; Kasi does not compress list nodes")           \
    X(set_max_intset_entries, "set-max-intset-entries", INT, "512", 0, LLONG_MAX,           \
      CFG_MUTABLE, NULL, NULL, NULL, "a set of integers stays compact up to this many")     \
    X(zset_max_listpack_entries, "zset-max-listpack-entries", INT, "128", 0, LLONG_MAX,     \
      CFG_MUTABLE, NULL, NULL, NULL, "a sorted set stays compact up to this many members")  \
    X(zset_max_listpack_value, "zset-max-listpack-value", MEM, "64", 0, LLONG_MAX,          \
      CFG_MUTABLE, NULL, NULL, NULL, "... and while no member is longer")                \
    X(hll_sparse_max_bytes, "hll-sparse-max-bytes", MEM, "3000", 0, LLONG_MAX, CFG_MUTABLE, \
      NULL, NULL, NULL, "a HyperLogLog stays sparse up to this many bytes") \
    X(stream_node_max_bytes, "stream-node-max-bytes", MEM, "4096", 0, LLONG_MAX,            \
      CFG_MUTABLE, NULL, NULL, NULL,                                                         \
      "a stream node takes no entry that would bring it to this many bytes (0: 1 GB)")        \
    X(stream_node_max_entries, "stream-node-max-entries", INT, "100", 0, LLONG_MAX,         \
      CFG_MUTABLE, NULL, NULL, NULL, "... nor more than this many entries (0: no bound)") \
    X(notify_keyspace_events, "notify-keyspace-events", STR, "", 0, 0, CFG_MUTABLE,        \
      check_notify, NULL, NULL,                                                              \
      "keyspace events to publish, as Redis's class letters (K E g $ l s h z x e t m d n A)") \
    X(slowlog_log_slower_than, "slowlog-log-slower-than", INT, "10000", -1, LLONG_MAX,      \
      CFG_MUTABLE, NULL, NULL, NULL,                                                         \
      "SLOWLOG logs the commands that run this many microseconds or more (0: all, -1: none)") \
    X(slowlog_max_len, "slowlog-max-len", INT, "128", 0, LLONG_MAX, CFG_MUTABLE, NULL, NULL, \
      NULL, "... and keeps this many of them, the newest")                                  \
    X(log_slow_commands, "log-slow-commands", BOOL, "no", 0, 1, CFG_MUTABLE, NULL, NULL, NULL, \
      "also write each command the slow log takes to the log, at notice level")             \
    X(latency_monitor_threshold, "latency-monitor-threshold", INT, "0", 0, LLONG_MAX,       \
      CFG_MUTABLE, NULL, NULL, NULL,                                                         \
      "LATENCY records the events that take this many milliseconds or more (0: none)")     \
    X(latency_tracking, "latency-tracking", BOOL, "yes", 0, 1, CFG_MUTABLE, NULL, NULL, NULL, \
      "keep a latency histogram per command (INFO latencystats)")                           \
    X(latency_tracking_info_percentiles, "latency-tracking-info-percentiles", STR,          \
      "50 99 99.9", 0, 0, CFG_MUTABLE, check_percentiles, NULL, NULL,                        \
      "the percentiles INFO latencystats reports, space separated")

/* notify-keyspace-events' classes, Redis's bits and letters: K and E say
 * where events go (__keyspace@ and __keyevent@ channels), the others which
 * events; A is g$lshzxetd (not m, not n). */
#define CFG_NOTIFY_CLASSES(X)                                                                \
    X(KEYSPACE, 'K', 1 << 0) X(KEYEVENT, 'E', 1 << 1) X(GENERIC, 'g', 1 << 2)              \
    X(STRING, '$', 1 << 3) X(LIST, 'l', 1 << 4) X(SET, 's', 1 << 5) X(HASH, 'h', 1 << 6)   \
    X(ZSET, 'z', 1 << 7) X(EXPIRED, 'x', 1 << 8) X(EVICTED, 'e', 1 << 9)                    \
    X(STREAM, 't', 1 << 10) X(KEY_MISS, 'm', 1 << 11) X(MODULE, 'd', 1 << 12)              \
    X(NEW, 'n', 1 << 13)
enum {
#define X(id, ch, bit) CFG_NOTIFY_##id = (bit),
    CFG_NOTIFY_CLASSES(X)
#undef X
    CFG_NOTIFY_ALL = CFG_NOTIFY_GENERIC | CFG_NOTIFY_STRING | CFG_NOTIFY_LIST | CFG_NOTIFY_SET |
                     CFG_NOTIFY_HASH | CFG_NOTIFY_ZSET | CFG_NOTIFY_EXPIRED |
                     CFG_NOTIFY_EVICTED | CFG_NOTIFY_STREAM | CFG_NOTIFY_MODULE
};
/* The classes of a notify-keyspace-events value, or -1 for a letter that
 * is none. */
int config_notify_flags(const char *v);

/* Older names Redis still accepts for some directives: alias, directive. */
#define CONFIG_ALIASES(A)                                                                    \
    A("hash-max-ziplist-entries", hash_max_listpack_entries)                                 \
    A("hash-max-ziplist-value", hash_max_listpack_value)                                     \
    A("list-max-ziplist-size", list_max_listpack_size)                                       \
    A("zset-max-ziplist-entries", zset_max_listpack_entries)                                 \
    A("zset-max-ziplist-value", zset_max_listpack_value)                                     \
    A("lua-time-limit", busy_reply_threshold)

#define CFG_CTYPE_INT long long
#define CFG_CTYPE_OCT long long
#define CFG_CTYPE_MEM long long
#define CFG_CTYPE_BOOL long long
#define CFG_CTYPE_ENUM long long
#define CFG_CTYPE_STR char *

/* Index of each directive's row: CFG_port, CFG_bind, ... */
enum {
#define X(f_, nm_, t_, dflt_, lo_, hi_, fl_, chk_, sect_, info_, hlp_) CFG_##f_,
    CONFIG_DIRECTIVES(X)
#undef X
    CFG_COUNT
};

/* Called after CONFIG SET changed a directive (owner: what config_on_change
 * was given; caller: what config_set_many was). Returns 0, or -1 with a
 * message in err: then every directive of that CONFIG SET is restored (and
 * its hook called again). */
typedef int cfg_apply_fn(void *owner, void *caller, char *err, size_t errlen);

typedef struct config {
#define X(f_, nm_, t_, dflt_, lo_, hi_, fl_, chk_, sect_, info_, hlp_) CFG_CTYPE_##t_ f_;
    CONFIG_DIRECTIVES(X)
#undef X
    char *config_file;   /* absolute path of the file we loaded, or NULL */
    unsigned umask;      /* the process's at start-up: CONFIG REWRITE's file mode */
    struct {
        cfg_apply_fn *fn;
        void *owner;
    } hooks[CFG_COUNT];
} config;

/* Fill cfg with the defaults. */
void config_init(config *cfg);
/* Free the strings. */
void config_free(config *cfg);
/* Apply the command line (a config file first, then --flags). Returns 0, or
 * -1 with a message in err. Sets *exit_now for --help. */
int config_from_args(config *cfg, int argc, char **argv, char *err, size_t errlen,
                     int *exit_now);
/* Install the hook called after CONFIG SET changes directive idx (CFG_x). */
void config_on_change(config *cfg, int idx, cfg_apply_fn *fn, void *owner);

/* One name/value pair of a CONFIG SET (counted: either may hold any byte). */
typedef struct cfg_pair {
    const char *name, *value;
    size_t nlen, vlen;
} cfg_pair;
/* CONFIG SET, with Redis 7's rules: every name must be known, mutable,
 * unprotected unless allow_protected, and given once; every value is
 * checked, then all are set and their hooks called; if one fails, all are
 * restored. Returns 0, or -1 with the error reply (no leading '-') in err. */
int config_set_many(config *cfg, const cfg_pair *pairs, int n, int allow_protected, void *caller,
                    char *err, size_t errlen);
/* CONFIG GET: append the name/value pairs matching any of the names or
 * glob patterns to out; returns the number of strings appended. */
int config_get(config *cfg, const char *const *pats, const size_t *lens, int npats, buf *out);
/* Append "field:value\r\n" lines for the directives shown in an INFO section. */
void config_info(config *cfg, const char *section, buf *out);
/* Print --help. */
void config_usage(const char *prog);
/* Print a config file with every directive at its default, each under a
 * comment saying what it is for (--sample-config; etc/kasi.conf). */
void config_sample(void);
/* Rewrite config_file with the values in cfg as Redis's CONFIG REWRITE
 * does (see rewrite.c). Returns 0, or -errno. */
int config_rewrite(config *cfg);

/* client-output-buffer-limit's classes, as Redis numbers them. */
enum { CFG_OBUF_NORMAL, CFG_OBUF_REPLICA, CFG_OBUF_PUBSUB, CFG_OBUF_CLASSES };
typedef struct cfg_obuf {
    long long hard, soft, soft_secs;
} cfg_obuf;
/* The classes of a client-output-buffer-limit value as stored (all three). */
void config_obuf_parse(const char *v, cfg_obuf out[CFG_OBUF_CLASSES]);

/* A copy of a string directive that CONFIG SET may change (free it). */
char *config_str(config *cfg, char *const *field);

/* Atomic read of a numeric directive that CONFIG SET may change. */
static inline long long cfg_ll(const long long *field)
{
    return __atomic_load_n(field, __ATOMIC_RELAXED);
}

#endif
