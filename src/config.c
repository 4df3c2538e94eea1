/* config.c - see config.h. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "resp.h"
#include "util.h"
#include "version.h"

enum cfg_type { CFG_INT, CFG_MEM, CFG_BOOL, CFG_ENUM, CFG_STR };

typedef struct cfg_row {
    const char *name;
    enum cfg_type type;
    size_t offset;
    const char *def;
    long long min, max;
    const char *enums;   /* ENUM: space-separated words, index = value */
    int flags;
    const char *info_section, *info_field;
    const char *help;
} cfg_row;

#define CFG_RANGE_INT(a, b) .min = (a), .max = (b), .enums = NULL
#define CFG_RANGE_MEM(a, b) .min = (a), .max = (b), .enums = NULL
#define CFG_RANGE_BOOL(a, b) .min = (a), .max = (b), .enums = NULL
#define CFG_RANGE_STR(a, b) .min = (a), .max = (b), .enums = NULL
#define CFG_RANGE_ENUM(a, b) .min = 0, .max = (b), .enums = (a)

static const cfg_row rows[] = {
#define X(f_, nm_, t_, dflt_, lo_, hi_, fl_, sect_, info_, hlp_)                             \
    {.name = nm_, .type = CFG_##t_, .offset = offsetof(config, f_), .def = dflt_,            \
     CFG_RANGE_##t_(lo_, hi_), .flags = fl_, .info_section = sect_, .info_field = info_,     \
     .help = hlp_},
    CONFIG_DIRECTIVES(X)
#undef X
};
#define NROWS (sizeof rows / sizeof rows[0])

/* Guards the string directives CONFIG SET may replace at run time. */
static pthread_mutex_t str_lock = PTHREAD_MUTEX_INITIALIZER;

char *config_str(config *cfg, char *const *field)
{
    char *copy;
    (void)cfg;
    pthread_mutex_lock(&str_lock);
    copy = xstrdup(*field ? *field : "");
    pthread_mutex_unlock(&str_lock);
    return copy;
}

/* "save": pairs of seconds and changes, or nothing. */
static int check_save(const char *v, char *err, size_t errlen)
{
    char *copy = xstrdup(v), *save = NULL;
    int n = 0, ok = 1;
    for (char *w = strtok_r(copy, " ", &save); w && ok; w = strtok_r(NULL, " ", &save), n++) {
        long long x;
        ok = util_str2ll(w, strlen(w), &x) == 0 && x >= (n % 2 ? 0 : 1);
    }
    free(copy);
    if (!ok || n % 2) {
        snprintf(err, errlen, "Invalid save parameters");
        return -1;
    }
    return 0;
}

static const cfg_row *find_row(const char *name)
{
    for (size_t i = 0; i < NROWS; i++)
        if (strcasecmp(rows[i].name, name) == 0) return &rows[i];
    return NULL;
}

static long long *ll_field(config *cfg, const cfg_row *r)
{
    return (long long *)((char *)cfg + r->offset);
}

static char **str_field(config *cfg, const cfg_row *r)
{
    return (char **)((char *)cfg + r->offset);
}

/* Index of word in a space-separated list, or -1. */
static int enum_index(const char *list, const char *word)
{
    size_t wl = strlen(word);
    int idx = 0;
    for (const char *p = list; *p; idx++) {
        size_t n = strcspn(p, " ");
        if (n == wl && strncasecmp(p, word, n) == 0) return idx;
        p += n;
        while (*p == ' ') p++;
    }
    return -1;
}

static int parse_value(const cfg_row *r, const char *v, long long *out, char *err, size_t errlen)
{
    long long x;
    switch (r->type) {
    case CFG_INT:
        if (util_str2ll(v, strlen(v), &x) < 0) {
            snprintf(err, errlen, "argument couldn't be parsed into an integer");
            return -1;
        }
        break;
    case CFG_MEM:
        if (util_parse_memory(v, &x) < 0) {
            snprintf(err, errlen, "argument must be a memory value");
            return -1;
        }
        break;
    case CFG_BOOL:
        if (strcasecmp(v, "yes") == 0) x = 1;
        else if (strcasecmp(v, "no") == 0) x = 0;
        else {
            snprintf(err, errlen, "argument must be 'yes' or 'no'");
            return -1;
        }
        break;
    case CFG_ENUM:
        x = enum_index(r->enums, v);
        if (x < 0) {
            snprintf(err, errlen, "argument must be one of: %s", r->enums);
            return -1;
        }
        *out = x;
        return 0;
    default:
        return -1;
    }
    if (x < r->min || x > r->max) {
        snprintf(err, errlen, "argument must be between %lld and %lld inclusive", r->min, r->max);
        return -1;
    }
    *out = x;
    return 0;
}

int config_set(config *cfg, const char *name, const char *value, int runtime, char *err,
               size_t errlen)
{
    const cfg_row *r = find_row(name);
    char why[160];
    long long v;
    if (!r) {
        snprintf(err, errlen, "unknown directive '%s'", name);
        return -1;
    }
    if (runtime && !(r->flags & CFG_MUTABLE)) {
        snprintf(err, errlen, "can't set immutable config");
        return -1;
    }
    if (r->type == CFG_STR) {
        char **f = str_field(cfg, r), *old;
        struct stat st;
        if (!strcmp(r->name, "save") && check_save(value, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s", why);
            return -1;
        }
        if (!strcmp(r->name, "dir") && (stat(value, &st) < 0 || !S_ISDIR(st.st_mode))) {
            snprintf(err, errlen, "can't use '%s' as dir: %s", value,
                     errno ? strerror(errno) : "not a directory");
            return -1;
        }
        pthread_mutex_lock(&str_lock);
        old = *f;
        *f = xstrdup(value);
        pthread_mutex_unlock(&str_lock);
        free(old);
        return 0;
    }
    if (parse_value(r, value, &v, why, sizeof why) < 0) {
        snprintf(err, errlen, "invalid value '%s' for '%s': %s", value, r->name, why);
        return -1;
    }
    __atomic_store_n(ll_field(cfg, r), v, __ATOMIC_RELAXED);
    return 0;
}

void config_init(config *cfg)
{
    char err[256];
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NROWS; i++)
        if (config_set(cfg, rows[i].name, rows[i].def, 0, err, sizeof err) < 0) abort();
}

void config_free(config *cfg)
{
    for (size_t i = 0; i < NROWS; i++) {
        if (rows[i].type != CFG_STR) continue;
        free(*str_field(cfg, &rows[i]));
        *str_field(cfg, &rows[i]) = NULL;
    }
    free(cfg->config_file);
    cfg->config_file = NULL;
}

/* Format a directive's value into out. */
static const char *format_value(config *cfg, const cfg_row *r, char *out, size_t outlen)
{
    long long v;
    if (r->type == CFG_STR) return *str_field(cfg, r) ? *str_field(cfg, r) : "";
    v = cfg_ll(ll_field(cfg, r));
    if (r->type == CFG_BOOL) return v ? "yes" : "no";
    if (r->type == CFG_ENUM) {
        const char *p = r->enums;
        for (long long i = 0; i < v && *p; i++) {
            p += strcspn(p, " ");
            while (*p == ' ') p++;
        }
        snprintf(out, outlen, "%.*s", (int)strcspn(p, " "), p);
        return out;
    }
    snprintf(out, outlen, "%lld", v);
    return out;
}

int config_get(config *cfg, const char *const *pats, const size_t *lens, int npats, buf *out)
{
    char tmp[64];
    const char *shown[NROWS];
    size_t shown_len[NROWS];
    int n = 0;
    memset(shown, 0, sizeof shown);
    for (int p = 0; p < npats; p++) {
        /* Like Redis: a plain name is looked up (and echoed as given), a
         * pattern is matched against every name; each directive once. */
        int plain = !memchr(pats[p], '*', lens[p]) && !memchr(pats[p], '?', lens[p]) &&
                    !memchr(pats[p], '[', lens[p]);
        for (size_t i = 0; i < NROWS; i++) {
            const cfg_row *r = &rows[i];
            size_t nl = strlen(r->name);
            if (shown[i]) continue;
            if (plain ? !(lens[p] == nl && strncasecmp(pats[p], r->name, nl) == 0)
                      : !util_glob_match(pats[p], lens[p], r->name, nl, 1))
                continue;
            shown[i] = plain ? pats[p] : r->name;
            shown_len[i] = plain ? lens[p] : nl;
        }
    }
    pthread_mutex_lock(&str_lock);
    for (size_t i = 0; i < NROWS; i++) {
        if (!shown[i]) continue;
        resp_bulk(out, shown[i], shown_len[i]);
        resp_bulk_cstr(out, format_value(cfg, &rows[i], tmp, sizeof tmp));
        n += 2;
    }
    pthread_mutex_unlock(&str_lock);
    return n;
}

void config_info(config *cfg, const char *section, buf *out)
{
    char tmp[64], line[256];
    for (size_t i = 0; i < NROWS; i++) {
        const cfg_row *r = &rows[i];
        if (!r->info_section || strcmp(r->info_section, section) != 0) continue;
        int n = snprintf(line, sizeof line, "%s:%s\r\n", r->info_field,
                         format_value(cfg, r, tmp, sizeof tmp));
        buf_append(out, line, (size_t)n);
    }
}

void config_usage(const char *prog)
{
    printf("Usage: %s [/path/to/kasi.conf] [--directive value ...]\n"
           "       %s --help | --version\n"
           "       kasi-server --check-aof [--fix] <file> | --check-snapshot <file>\n\n"
           "Kasi %s, a RESP (Redis protocol) cache server.\n\n"
           "Directives (config file lines 'name value', or flags '--name value'):\n",
           prog, prog, KASI_VERSION);
    for (size_t i = 0; i < NROWS; i++)
        printf("  %-28s %s (default: %s)\n", rows[i].name, rows[i].help,
               *rows[i].def ? rows[i].def : "\"\"");
    printf("\nExamples:\n  %s --port 6380 --bind \"127.0.0.1 ::1\"\n"
           "  %s /etc/kasi.conf --loglevel verbose\n",
           prog, prog);
}

/* Apply "name arg1 arg2 ..." (args joined by spaces). */
static int apply(config *cfg, char **words, int n, const char *where, char *err, size_t errlen)
{
    char value[4096] = "", why[256];
    size_t len = 0;
    if (n < 2) {
        snprintf(err, errlen, "%s: directive '%s' needs a value", where, words[0]);
        return -1;
    }
    for (int i = 1; i < n; i++) {
        int w = snprintf(value + len, sizeof value - len, "%s%s", i > 1 ? " " : "", words[i]);
        if (w < 0 || (size_t)w >= sizeof value - len) {
            snprintf(err, errlen, "%s: value of '%s' is too long", where, words[0]);
            return -1;
        }
        len += (size_t)w;
    }
    if (config_set(cfg, words[0], value, 0, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", where, why);
        return -1;
    }
    return 0;
}

static int load_file(config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, where[300];
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, rc = 0;
    resp_arg args[64];
    resp_parser p;
    resp_limits lim = {.max_bulk = LLONG_MAX, .unauthenticated = 0};

    if (!f) {
        snprintf(err, errlen, "can't open config file '%s': %s", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        char *words[64];
        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (n == 0 || line[n - 1] != '\n') {   /* the inline splitter wants a newline */
            line = xrealloc(line, (size_t)n + 2);
            line[n++] = '\n';
            line[n] = '\0';
        }
        size_t s = strspn(line, " \t");
        if (line[s] == '#' || line[s] == '\n' || line[s] == '\r') continue;
        memset(&p, 0, sizeof p);
        resp_parser_reset(&p);
        p.argv = args;
        p.argv_cap = 64;
        if (resp_parse(&p, line + s, (size_t)n - s, &lim) != RESP_OK || p.nargs == 0) {
            snprintf(err, errlen, "%s: can't parse line (unbalanced quotes or too many words)",
                     where);
            rc = -1;
            break;
        }
        for (int i = 0; i < p.nargs; i++) {
            words[i] = line + s + args[i].off;
            words[i][args[i].len] = '\0';
        }
        rc = apply(cfg, words, p.nargs, where, err, errlen);
    }
    free(line);
    fclose(f);
    return rc;
}

int config_from_args(config *cfg, int argc, char **argv, char *err, size_t errlen,
                     int *exit_now)
{
    int i = 1;
    *exit_now = 0;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        config_usage(argv[0]);
        *exit_now = 1;
        return 0;
    }
    if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))) {
        printf("kasi-server v=%s redis_compat=%s bits=%d\n", KASI_VERSION, KASI_REDIS_VERSION,
               (int)(sizeof(void *) * 8));
        *exit_now = 1;
        return 0;
    }
    if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
        char *abs = realpath(argv[1], NULL);
        if (load_file(cfg, argv[1], err, errlen) < 0) {
            free(abs);
            return -1;
        }
        cfg->config_file = abs ? abs : xstrdup(argv[1]);
        i = 2;
    }
    while (i < argc) {
        char *words[64];
        int n = 0;
        if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0') {
            snprintf(err, errlen, "unexpected argument '%s' (directives are given as --name value)",
                     argv[i]);
            return -1;
        }
        words[n++] = argv[i++] + 2;
        while (i < argc && strncmp(argv[i], "--", 2) != 0 && n < 64) words[n++] = argv[i++];
        /* "--save ''" style: an empty value is a value */
        if (apply(cfg, words, n, "command line", err, errlen) < 0) return -1;
    }
    return 0;
}
