/* config.c - see config.h. */
#include "conf/config_int.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "proto/resp.h"
#include "lib/util.h"
#include "lib/version.h"

static cfg_check_fn check_save, check_dir, check_filename, check_dirname, check_obuf, check_notify,
    check_percentiles;

#define CFG_RANGE_INT(a, b) .min = (a), .max = (b), .enums = NULL
#define CFG_RANGE_OCT(a, b) .min = (a), .max = (b), .enums = NULL
#define CFG_RANGE_MEM(a, b) .min = (a), .max = (b), .enums = NULL
#define CFG_RANGE_BOOL(a, b) .min = (a), .max = (b), .enums = NULL
#define CFG_RANGE_STR(a, b) .min = (a), .max = (b), .enums = NULL
#define CFG_RANGE_ENUM(a, b) .min = 0, .max = (b), .enums = (a)

static const cfg_row rows[] = {
#define X(f_, nm_, t_, dflt_, lo_, hi_, fl_, chk_, sect_, info_, hlp_)                       \
    {.name = nm_, .type = CFG_##t_, .offset = offsetof(config, f_), .def = dflt_,            \
     CFG_RANGE_##t_(lo_, hi_), .flags = fl_, .check = chk_, .info_section = sect_,           \
     .info_field = info_, .help = hlp_},
    CONFIG_DIRECTIVES(X)
#undef X
};
#define NROWS (sizeof rows / sizeof rows[0])
const cfg_row *const config__rows = rows;

static const struct alias {
    const char *name;
    int idx;
} aliases[] = {
#define A(nm_, f_) {nm_, CFG_##f_},
    CONFIG_ALIASES(A)
#undef A
};
#define NALIASES (sizeof aliases / sizeof aliases[0])
#define NNAMES (NROWS + NALIASES)

/* Names are the rows' and then the aliases': name i and its row. */
static const char *name_at(size_t i) { return i < NROWS ? rows[i].name : aliases[i - NROWS].name; }
static const cfg_row *row_at(size_t i) { return i < NROWS ? &rows[i] : &rows[aliases[i - NROWS].idx]; }

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
static int check_save(const char *name, const char *v, char *err, size_t errlen)
{
    char *copy = xstrdup(v), *save = NULL;
    int n = 0, ok = 1;
    (void)name;
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

/* latency-tracking-info-percentiles: numbers from 0 to 100, or none. */
static int check_percentiles(const char *name, const char *v, char *err, size_t errlen)
{
    char *copy = xstrdup(v), *save = NULL;
    int rc = 0;
    (void)name;
    for (char *w = strtok_r(copy, " ", &save); w && rc == 0; w = strtok_r(NULL, " ", &save)) {
        long double p;
        if (util_str2ld(w, strlen(w), &p) < 0) {
            snprintf(err, errlen, "Invalid latency-tracking-info-percentiles parameters");
            rc = -1;
        } else if (p < 0 || p > 100) {
            snprintf(err, errlen, "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
            rc = -1;
        }
    }
    free(copy);
    return rc;
}

/* ---- notify-keyspace-events ---- */

int config_notify_flags(const char *v)
{
    int flags = 0;
    for (; *v; v++) {
        int bit = *v == 'A' ? CFG_NOTIFY_ALL : 0;
#define X(id, ch, b) if (*v == (ch)) bit = (b);
        CFG_NOTIFY_CLASSES(X)
#undef X
        if (!bit) return -1;
        flags |= bit;
    }
    return flags;
}

static int check_notify(const char *name, const char *v, char *err, size_t errlen)
{
    (void)name;
    if (config_notify_flags(v) >= 0) return 0;
    snprintf(err, errlen, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    return -1;
}

/* As Redis prints the classes: A or the event letters (n among them, so A
 * hides it), then K, E and m. */
static const char *notify_format(const char *v, char *out)
{
    static const char order[] = "g$lshzxetdn";
    int flags = config_notify_flags(v), n = 0;
    if ((flags & CFG_NOTIFY_ALL) == CFG_NOTIFY_ALL) out[n++] = 'A';
    else
        for (const char *c = order; *c; c++)
            if (flags & config_notify_flags((char[]){*c, 0})) out[n++] = *c;
    if (flags & CFG_NOTIFY_KEYSPACE) out[n++] = 'K';
    if (flags & CFG_NOTIFY_KEYEVENT) out[n++] = 'E';
    if (flags & CFG_NOTIFY_KEY_MISS) out[n++] = 'm';
    out[n] = 0;
    return out;
}

/* ---- client-output-buffer-limit: groups of <class> <hard> <soft> <seconds> ---- */

static const char *const obuf_names[CFG_OBUF_CLASSES] = {"normal", "slave", "pubsub"};

static int obuf_class(const char *w)
{
    if (strcasecmp(w, "replica") == 0) return CFG_OBUF_REPLICA;
    for (int i = 0; i < CFG_OBUF_CLASSES; i++)
        if (strcasecmp(w, obuf_names[i]) == 0) return i;
    return -1;   /* "master" too, as in Redis */
}

/* Apply the groups of v to out; with check, only validate (Redis's texts).
 * The seconds are checked as a memory value but read as a number, as Redis
 * does. */
static int obuf_apply(const char *v, cfg_obuf *out, char *err, size_t errlen)
{
    char *copy = xstrdup(v), *save = NULL, *w[4];
    int n = 0, rc = 0;
    for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        long long x;
        w[n % 4] = t;
        if (n % 4 == 0 && obuf_class(t) < 0) {
            snprintf(err, errlen, "Invalid client class specified in buffer limit configuration.");
            rc = -1;
            break;
        }
        if (n % 4 && util_parse_memory(t, &x) < 0) {
            snprintf(err, errlen,
                     "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
            rc = -1;
            break;
        }
        if (n++ % 4 == 3 && out) {
            cfg_obuf *c = &out[obuf_class(w[0])];
            util_parse_memory(w[1], &c->hard);
            util_parse_memory(w[2], &c->soft);
            c->soft_secs = strtoll(w[3], NULL, 10);
        }
    }
    if (rc == 0 && n % 4) {
        snprintf(err, errlen, "Wrong number of arguments in buffer limit configuration.");
        rc = -1;
    }
    free(copy);
    return rc;
}

static int check_obuf(const char *name, const char *v, char *err, size_t errlen)
{
    (void)name;
    return obuf_apply(v, NULL, err, errlen);
}

void config_obuf_parse(const char *v, cfg_obuf out[CFG_OBUF_CLASSES])
{
    char ignored[128];
    memset(out, 0, sizeof(cfg_obuf) * CFG_OBUF_CLASSES);
    obuf_apply(v, out, ignored, sizeof ignored);
}

/* A setting names some classes and leaves the others: the value stored
 * is old with v's classes changed, all three written out, as CONFIG GET
 * shows them. */
static char *obuf_merge(const char *old, const char *v)
{
    cfg_obuf c[CFG_OBUF_CLASSES];
    char ignored[128];
    buf b = {0};
    config_obuf_parse(old ? old : "", c);
    obuf_apply(v, c, ignored, sizeof ignored);
    for (int i = 0; i < CFG_OBUF_CLASSES; i++)
        buf_printf(&b, "%s%s %lld %lld %lld", i ? " " : "", obuf_names[i], c[i].hard, c[i].soft,
                   c[i].soft_secs);
    buf_append(&b, "", 1);
    return b.data;
}

/* The string to store for a checked value v of r (replacing cur). */
static char *stored_str(const cfg_row *r, const char *cur, char *v)
{
    char *m;
    if (r->check != check_obuf) return v;
    m = obuf_merge(cur, v);
    free(v);
    return m;
}

static int check_dir(const char *name, const char *v, char *err, size_t errlen)
{
    struct stat st;
    (void)name;
    errno = 0;
    if (stat(v, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s", errno ? strerror(errno) : strerror(ENOTDIR));
        return -1;
    }
    return 0;
}

/* A plain name, never a path, so that the file stays inside dir. */
static int plain_name(const char *name, const char *v, const char *what, char *err, size_t errlen)
{
    if (strchr(v, '/') || strchr(v, '\\')) {
        snprintf(err, errlen, "%s can't be a path, just a %s", name, what);
        return -1;
    }
    return 0;
}

static int check_filename(const char *name, const char *v, char *err, size_t errlen)
{
    return plain_name(name, v, "filename", err, errlen);
}

static int check_dirname(const char *name, const char *v, char *err, size_t errlen)
{
    return plain_name(name, v, "dirname", err, errlen);
}

/* The name index of a directive or alias, or -1. */
static long find_name(const char *name, size_t len)
{
    for (size_t i = 0; i < NNAMES; i++)
        if (strlen(name_at(i)) == len && strncasecmp(name_at(i), name, len) == 0) return (long)i;
    return -1;
}

const cfg_row *config__find(const char *name, size_t len)
{
    long i = find_name(name, len);
    return i < 0 ? NULL : row_at((size_t)i);
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

/* Parse and check a value for r; numeric results go to *out. Error texts
 * are Redis's. */
static int parse_value(const cfg_row *r, const char *v, long long *out, char *err, size_t errlen)
{
    long long x;
    char *end;
    switch (r->type) {
    case CFG_STR:
        return r->check ? r->check(r->name, v, err, errlen) : 0;
    case CFG_INT:
        if (util_str2ll(v, strlen(v), &x) < 0) {
            snprintf(err, errlen, "argument couldn't be parsed into an integer");
            return -1;
        }
        break;
    case CFG_OCT:
        errno = 0;
        x = strtoll(v, &end, 8);
        if (!*v || *end || errno) {
            snprintf(err, errlen, "argument couldn't be parsed into an integer");
            return -1;
        }
        break;
    case CFG_MEM:
        if (util_parse_memory(v, &x) < 0) {
            /* Redis reads digits too big for a long long (under 128 of
             * them) and a known unit as a value out of range */
            size_t nd = strspn(v, "0123456789");
            if (nd > 0 && nd < 128 && util_parse_memory(v + nd - 1, &x) == 0)
                snprintf(err, errlen, "argument must be between %lld and %lld inclusive", r->min,
                         r->max);
            else
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
            size_t o = (size_t)snprintf(err, errlen, "argument(s) must be one of the following: ");
            for (const char *p = r->enums; *p && o < errlen; ) {
                size_t n = strcspn(p, " ");
                o += (size_t)snprintf(err + o, errlen - o, "%s%.*s", p == r->enums ? "" : ", ",
                                      (int)n, p);
                p += n;
                while (*p == ' ') p++;
            }
            return -1;
        }
        *out = x;
        return 0;
    default:
        return -1;
    }
    if (x < r->min || x > r->max) {
        if (r->type == CFG_OCT)
            snprintf(err, errlen, "argument must be between %llo and %llo inclusive",
                     (unsigned long long)r->min, (unsigned long long)r->max);
        else
            snprintf(err, errlen, "argument must be between %lld and %lld inclusive", r->min, r->max);
        return -1;
    }
    *out = x;
    return 0;
}

/* A value as a C string: NULL (with err) if it holds a NUL byte, which no
 * directive can take. */
static char *value_cstr(const char *v, size_t n, char *err, size_t errlen)
{
    char *s;
    if (memchr(v, '\0', n)) {
        snprintf(err, errlen, "argument must not contain NUL bytes");
        return NULL;
    }
    s = xmalloc(n + 1);
    memcpy(s, v, n);
    s[n] = '\0';
    return s;
}

/* Store a checked value (v: the new string for STR, else x). */
static void store_value(config *cfg, const cfg_row *r, char *v, long long x, char **old_str)
{
    if (r->type == CFG_STR) {
        char **f = str_field(cfg, r);
        pthread_mutex_lock(&str_lock);
        *old_str = *f;
        *f = v;
        pthread_mutex_unlock(&str_lock);
    } else {
        __atomic_store_n(ll_field(cfg, r), x, __ATOMIC_RELAXED);
    }
}

/* Set one directive at start-up (config file or flag). */
static int set_startup(config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
    const cfg_row *r = config__find(name, strlen(name));
    char why[300], *old = NULL;
    long long v = 0;
    if (!r) {
        snprintf(err, errlen, "unknown directive '%s'", name);
        return -1;
    }
    if (parse_value(r, value, &v, why, sizeof why) < 0) {
        snprintf(err, errlen, "invalid value '%s' for '%s': %s", value, r->name, why);
        return -1;
    }
    /* at start-up, before any other thread: the field is read as it is */
    store_value(cfg, r, r->type == CFG_STR ? stored_str(r, *str_field(cfg, r), xstrdup(value)) : NULL,
                v, &old);
    free(old);
    return 0;
}

void config_on_change(config *cfg, int idx, cfg_apply_fn *fn, void *owner)
{
    cfg->hooks[idx].fn = fn;
    cfg->hooks[idx].owner = owner;
}

/* The quoted name in an error: as the client gave it, printable part only. */
static int name_len(const cfg_pair *p)
{
    const char *z = memchr(p->name, '\0', p->nlen);
    size_t n = z ? (size_t)(z - p->name) : p->nlen;
    return (int)(n > 128 ? 128 : n);
}

int config_set_many(config *cfg, const cfg_pair *pairs, int n, int allow_protected, void *caller,
                    char *err, size_t errlen)
{
    const cfg_row **r = xcalloc((size_t)n, sizeof *r);
    char **newv = xcalloc((size_t)n, sizeof *newv), **olds = xcalloc((size_t)n, sizeof *olds);
    long long *nums = xcalloc((size_t)n, sizeof *nums), *oldn = xcalloc((size_t)n, sizeof *oldn);
    char why[300];
    const char *errstr = NULL;
    int bad = -1, unknown = -1, set = 0, applied = 0, rc = -1;

    /* Like Redis: the first unknown name wins over any other complaint;
     * otherwise the first immutable, protected or repeated one. */
    for (int i = 0; i < n; i++) {
        r[i] = config__find(pairs[i].name, pairs[i].nlen);
        if (!r[i]) {
            if (bad < 0 && unknown < 0) unknown = i;
            continue;
        }
        if (bad >= 0 || unknown >= 0) continue;
        if (!(r[i]->flags & CFG_MUTABLE) || ((r[i]->flags & CFG_PROTECTED) && !allow_protected)) {
            errstr = !(r[i]->flags & CFG_MUTABLE) ? "can't set immutable config"
                                                   : "can't set protected config";
            bad = i;
            continue;
        }
        /* the same name twice (an alias and its directive are two names,
         * as in Redis) */
        for (int j = 0; j < i; j++)
            if (find_name(pairs[j].name, pairs[j].nlen) == find_name(pairs[i].name, pairs[i].nlen)) {
                errstr = "duplicate parameter";
                bad = i;
                break;
            }
    }
    if (unknown >= 0) {
        snprintf(err, errlen, "ERR Unknown option or number of arguments for CONFIG SET - '%.*s'",
                 name_len(&pairs[unknown]), pairs[unknown].name);
        goto out;
    }
    if (bad >= 0) {
        snprintf(err, errlen, "ERR CONFIG SET failed (possibly related to argument '%.*s') - %s",
                 name_len(&pairs[bad]), pairs[bad].name, errstr);
        goto out;
    }
    /* Set every value (checked first), then run the hooks. */
    for (set = 0; set < n; set++) {
        char *v = value_cstr(pairs[set].value, pairs[set].vlen, why, sizeof why);
        if (!v || parse_value(r[set], v, &nums[set], why, sizeof why) < 0) {
            free(v);
            bad = set;
            break;
        }
        if (r[set]->type == CFG_STR) {
            char *cur = config_str(cfg, str_field(cfg, r[set]));
            newv[set] = stored_str(r[set], cur, v);
            free(cur);
        } else {
            free(v);
            oldn[set] = cfg_ll(ll_field(cfg, r[set]));
        }
        store_value(cfg, r[set], newv[set], nums[set], &olds[set]);
    }
    while (bad < 0 && applied < n) {
        int i = applied++;
        cfg_apply_fn *fn = cfg->hooks[r[i] - rows].fn;
        if (fn && fn(cfg->hooks[r[i] - rows].owner, caller, why, sizeof why) < 0) {
            log_warn("Failed applying new configuration. Possibly related to new %s setting. "
                     "Restoring previous settings.", r[i]->name);
            bad = i;
        }
    }
    if (bad >= 0) {
        /* Restore what was set, then let the hooks that ran see the old values. */
        for (int i = 0; i < set; i++) {
            char *cur = NULL;
            store_value(cfg, r[i], olds[i], oldn[i], &cur);
            if (r[i]->type == CFG_STR) free(cur);
            olds[i] = NULL;
        }
        for (int i = 0; i < applied; i++) {
            cfg_apply_fn *fn = cfg->hooks[r[i] - rows].fn;
            char ignored[300];
            if (fn) fn(cfg->hooks[r[i] - rows].owner, caller, ignored, sizeof ignored);
        }
        snprintf(err, errlen, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                 r[bad]->name, why);
        goto out;
    }
    rc = 0;
out:
    for (int i = 0; i < n; i++) free(olds[i]);
    free(r);
    free(newv);
    free(olds);
    free(nums);
    free(oldn);
    return rc;
}

void config_init(config *cfg)
{
    char err[256];
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NROWS; i++)
        if (set_startup(cfg, rows[i].name, rows[i].def, err, sizeof err) < 0) abort();
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
    if (r->check == check_notify)
        return notify_format(*str_field(cfg, r) ? *str_field(cfg, r) : "", out);
    if (r->type == CFG_STR) return *str_field(cfg, r) ? *str_field(cfg, r) : "";
    v = cfg_ll(ll_field(cfg, r));
    if (r->type == CFG_BOOL) return v ? "yes" : "no";
    if (r->type == CFG_OCT) {
        snprintf(out, outlen, "%llo", (unsigned long long)v);
        return out;
    }
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

char *config__value(config *cfg, const cfg_row *r)
{
    char tmp[64], *v;
    pthread_mutex_lock(&str_lock);
    v = xstrdup(format_value(cfg, r, tmp, sizeof tmp));
    pthread_mutex_unlock(&str_lock);
    return v;
}

int config_get(config *cfg, const char *const *pats, const size_t *lens, int npats, buf *out)
{
    char tmp[64];
    const char *shown[NNAMES];
    size_t shown_len[NNAMES];
    int n = 0;
    memset(shown, 0, sizeof shown);
    for (int p = 0; p < npats; p++) {
        /* Like Redis: a plain name is looked up (and echoed as given), a
         * pattern is matched against every name, aliases too; each name once. */
        int plain = !memchr(pats[p], '*', lens[p]) && !memchr(pats[p], '?', lens[p]) &&
                    !memchr(pats[p], '[', lens[p]);
        for (size_t i = 0; i < NNAMES; i++) {
            const char *name = name_at(i);
            size_t nl = strlen(name);
            if (shown[i]) continue;
            if (plain ? !(lens[p] == nl && strncasecmp(pats[p], name, nl) == 0)
                      : !util_glob_match(pats[p], lens[p], name, nl, 1))
                continue;
            shown[i] = plain ? pats[p] : name;
            shown_len[i] = plain ? lens[p] : nl;
        }
    }
    pthread_mutex_lock(&str_lock);
    for (size_t i = 0; i < NNAMES; i++) {
        if (!shown[i]) continue;
        resp_bulk(out, shown[i], shown_len[i]);
        resp_bulk_cstr(out, format_value(cfg, row_at(i), tmp, sizeof tmp));
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
           "       %s --test-config [/path/to/kasi.conf] [--directive value ...]\n"
           "       %s --help | --version | --sample-config\n"
           "       %s --check-aof [--fix] <file> | --check-snapshot <file>\n\n"
           "Kasi %s, a RESP (Redis protocol) cache server.\n\n"
           "Directives (config file lines 'name value', or flags '--name value'):\n",
           prog, prog, prog, prog, KASI_VERSION);
    for (size_t i = 0; i < NROWS; i++)
        printf("  %-28s %s (default: %s)\n", rows[i].name, rows[i].help,
               *rows[i].def ? rows[i].def : "\"\"");
    printf("\nOlder names, as Redis accepts them:\n");
    for (size_t i = 0; i < NALIASES; i++)
        printf("  %-28s %s\n", aliases[i].name, rows[aliases[i].idx].name);
    printf("\nExamples:\n  %s --port 6380 --bind \"127.0.0.1 ::1\"\n"
           "  %s /etc/kasi.conf --loglevel verbose\n"
           "  %s --sample-config > kasi.conf    # every directive at its default\n",
           prog, prog, prog);
}

void config_sample(void)
{
    buf b = {0};
    buf_printf(&b, "# kasi.conf - every directive of Kasi %s, at its default, with what it is for.\n"
                   "# Written by `kasi-server --sample-config` from the table the server reads\n"
                   "# its configuration with (a test checks that the two match). Lines are\n"
                   "# 'name value', as in redis.conf; flags '--name value' after the file win\n"
                   "# (but save: its lines add up, as in Redis). CONFIG REWRITE keeps these\n"
                   "# comments and rewrites the values in place.\n",
               KASI_VERSION);
    for (size_t i = 0; i < NROWS; i++) {
        const char *d = rows[i].def;
        buf_printf(&b, "\n# %s\n%s ", rows[i].help, rows[i].name);
        /* multi-word values need no quotes: the words are joined again */
        if (!*d || strpbrk(d, "\"'\\#\t")) buf_append_repr(&b, d, strlen(d));
        else buf_append(&b, d, strlen(d));
        buf_append(&b, "\n", 1);
    }
    fwrite(b.data, 1, b.len, stdout);
    buf_free(&b);
}

/* Apply "name arg1 arg2 ..." (args joined by spaces). *saves counts the
 * save lines so far: as in Redis, the first replaces the default pairs and
 * each further one adds its own (CONFIG REWRITE writes one line a pair),
 * unless it is save "", which removes them all. */
static int apply(config *cfg, char **words, int n, int *saves, const char *where, char *err,
                 size_t errlen)
{
    char why[400];
    buf value = {0};
    int rc = 0;
    if (n < 2) {
        snprintf(err, errlen, "%s: directive '%s' needs a value", where, words[0]);
        return -1;
    }
    if (config__find(words[0], strlen(words[0])) == &rows[CFG_save] && (*saves)++ &&
        (n > 2 || *words[1]) && *cfg->save)
        buf_printf(&value, "%s ", cfg->save);
    for (int i = 1; i < n; i++) {
        if (i > 1) buf_append(&value, " ", 1);
        buf_append(&value, words[i], strlen(words[i]));
    }
    buf_append(&value, "", 1);
    if (set_startup(cfg, words[0], value.data, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", where, why);
        rc = -1;
    }
    buf_free(&value);
    return rc;
}

int config__split(char *line, size_t n, char **words, int cap)
{
    resp_arg args[64];
    resp_parser p;
    resp_limits lim = {.max_bulk = LLONG_MAX, .unauthenticated = 0};
    memset(&p, 0, sizeof p);
    resp_parser_reset(&p);
    p.argv = args;
    p.argv_cap = cap < 64 ? cap : 64;
    if (resp_parse(&p, line, n, &lim) != RESP_OK) return -1;
    for (int i = 0; i < p.nargs; i++) {
        words[i] = line + args[i].off;
        words[i][args[i].len] = '\0';
    }
    return p.nargs;
}

static int load_file(config *cfg, const char *path, int *saves, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, where[300];
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, rc = 0;

    if (!f) {
        snprintf(err, errlen, "can't open config file '%s': %s", path, strerror(errno));
        return -1;
    }
    while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
        char *words[64];
        int nw;
        lineno++;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (n == 0 || line[n - 1] != '\n') {   /* the inline splitter wants a newline */
            line = xrealloc(line, (size_t)n + 2);
            line[n++] = '\n';
            line[n] = '\0';
        }
        size_t s = strspn(line, " \t");
        if (line[s] == '#' || line[s] == '\n' || line[s] == '\r') continue;
        nw = config__split(line + s, (size_t)n - s, words, 64);
        if (nw <= 0) {
            snprintf(err, errlen, "%s: can't parse line (unbalanced quotes or too many words)",
                     where);
            rc = -1;
            break;
        }
        rc = apply(cfg, words, nw, saves, where, err, errlen);
    }
    free(line);
    fclose(f);
    return rc;
}

int config_from_args(config *cfg, int argc, char **argv, char *err, size_t errlen,
                     int *exit_now)
{
    int i = 1, saves = 0;
    *exit_now = 0;
    cfg->umask = (unsigned)umask(0);   /* start-up has one thread: nothing creates files meanwhile */
    umask((mode_t)cfg->umask);
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        config_usage(argv[0]);
        *exit_now = 1;
        return 0;
    }
    if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
        char *abs = realpath(argv[1], NULL);
        if (load_file(cfg, argv[1], &saves, err, errlen) < 0) {
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
        if (apply(cfg, words, n, &saves, "command line", err, errlen) < 0) return -1;
    }
    return 0;
}
