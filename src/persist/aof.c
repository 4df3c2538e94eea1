/* aof.c - see aof.h. */
#include "persist/aof.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/config.h"
#include "lib/durable.h"
#include "lib/latency.h"
#include "store/hooks.h"
#include "store/keyspace.h"
#include "store/pit.h"
#include "persist/load.h"
#include "lib/log.h"
#include "persist/record.h"
#include "persist/snapshot.h"
#include "lib/util.h"

#define WRITE_PERIOD_MS 20
#define WAKE_BYTES (1u << 20)   /* wake the writer early past this much log */
#define MAX_FILES 1024

struct aof {
    ks_effects fx;           /* what the keyspace calls: logs each write */
    char *dir;               /* dir/appenddirname */
    char *name;              /* appendfilename */
    const long long *policy;
    keyspace *ks;

    pthread_mutex_t mu;      /* guards the fields up to io_mu */
    pthread_cond_t cond;
    buf log;                 /* records not yet taken by a writer */
    uint64_t appended;       /* log position (LSN): where the next record starts */
    uint64_t hold;           /* nothing past this goes to the file (aof_hold), else UINT64_MAX */
    uint64_t cut_lsn;        /* where a rewrite cut the log (cut_seq starts there) */
    unsigned cut_seq;
    int cut_pending;
    int stopping;

    pthread_mutex_t io_mu;   /* held while writing; guards below, up to sync_mu */
    buf io;                  /* taken from log, not yet written */
    int fd;                  /* the incremental file appended to, or -1 */
    unsigned cur_seq;
    unsigned base_seq;       /* 0: no base file */
    unsigned incrs[MAX_FILES];
    int nincrs;
    unsigned next_seq;
    atomic_int thread_started;
    pthread_t thread;

    /* Held while an fsync runs (taken with io_mu held, after it), so that
     * writes go on during an fsync and the file is not switched under it. */
    pthread_mutex_t sync_mu;
    atomic_llong last_fsync_us;

    atomic_ullong written;   /* log position written to the file (the kernel has it) */
    atomic_ullong synced;    /* log position known to be on disk */
    atomic_ullong base_size, incr_size;
    atomic_int err;          /* errno of the failing write or fsync */
    atomic_llong fsync_ok_ms;
};

static __thread uint64_t tls_lsn;

static void log_put(void *ctx, const domain *d, const item *it);
static void log_del(void *ctx, const domain *d, const char *key, size_t klen, int reason);
static void log_expire(void *ctx, const domain *d, const char *key, size_t klen, int64_t when);
static void log_splice(void *ctx, const domain *d, const char *key, size_t klen, uint64_t total,
                       uint64_t off, const char *p, size_t n);
static void log_flush(void *ctx, const domain *d);
static void log_command(void *ctx, const domain *d, int argc, const slice *argv);

aof *aof_create(const char *dir, const char *dirname, const char *filename,
                const long long *policy, uint64_t start_lsn)
{
    aof *a = xcalloc(1, sizeof *a);
    a->dir = durable_join(dir, dirname);
    a->name = xstrdup(filename);
    a->policy = policy;
    a->fd = -1;
    a->next_seq = 1;
    a->appended = start_lsn;
    a->hold = UINT64_MAX;
    a->fx = (ks_effects){a, log_put, log_splice, log_expire, log_del, log_flush, log_command};
    atomic_init(&a->written, start_lsn);
    atomic_init(&a->synced, start_lsn);
    {
        /* held for a memcpy by every writer: spin briefly before sleeping */
        pthread_mutexattr_t at;
        pthread_mutexattr_init(&at);
        pthread_mutexattr_settype(&at, PTHREAD_MUTEX_ADAPTIVE_NP);
        pthread_mutex_init(&a->mu, &at);
        pthread_mutexattr_destroy(&at);
    }
    pthread_cond_init(&a->cond, NULL);
    pthread_mutex_init(&a->io_mu, NULL);
    pthread_mutex_init(&a->sync_mu, NULL);
    atomic_store(&a->fsync_ok_ms, util_now_ms());
    return a;
}

void aof_destroy(aof *a)
{
    if (!a) return;
    if (a->fd >= 0) close(a->fd);
    buf_free(&a->log);
    buf_free(&a->io);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->io_mu);
    pthread_mutex_destroy(&a->sync_mu);
    free(a->dir);
    free(a->name);
    free(a);
}

static char *file_path(aof *a, unsigned seq, int base)
{
    char name[512];
    snprintf(name, sizeof name, "%s.%u.%s", a->name, seq, base ? "base.kasi" : "incr.aof");
    return durable_join(a->dir, name);
}

static char *manifest_path(aof *a)
{
    char name[512];
    snprintf(name, sizeof name, "%s.manifest", a->name);
    return durable_join(a->dir, name);
}

/* ---- logging ---- */

static inline size_t log_begin(aof *a)
{
    pthread_mutex_lock(&a->mu);
    return a->log.len;
}

static inline void log_end(aof *a, size_t before)
{
    a->appended += a->log.len - before;
    tls_lsn = a->appended;
    if (a->log.len >= WAKE_BYTES && before < WAKE_BYTES) pthread_cond_signal(&a->cond);
    pthread_mutex_unlock(&a->mu);
}

/* The effects hooks the keyspace calls (shard locked): each appends one
 * record. */
static void log_put(void *ctx, const domain *d, const item *it)
{
    aof *a = ctx;
    size_t dlen, b = log_begin(a);
    const char *dom = ks_domain_name(d, &dlen);
    rec_item(&a->log, dom, dlen, it, item_expire(it), 0);
    log_end(a, b);
}

static void log_del(void *ctx, const domain *d, const char *key, size_t klen, int reason)
{
    aof *a = ctx;
    size_t dlen, b = log_begin(a);
    const char *dom = ks_domain_name(d, &dlen);
    (void)reason;
    rec_del(&a->log, dom, dlen, key, klen);
    log_end(a, b);
}

static void log_expire(void *ctx, const domain *d, const char *key, size_t klen, int64_t when)
{
    aof *a = ctx;
    size_t dlen, b = log_begin(a);
    const char *dom = ks_domain_name(d, &dlen);
    rec_expire(&a->log, dom, dlen, key, klen, when);
    log_end(a, b);
}

static void log_splice(void *ctx, const domain *d, const char *key, size_t klen, uint64_t total,
                       uint64_t off, const char *p, size_t n)
{
    aof *a = ctx;
    size_t dlen, b = log_begin(a);
    const char *dom = ks_domain_name(d, &dlen);
    rec_splice(&a->log, dom, dlen, key, klen, total, off, p, n);
    log_end(a, b);
}

static void log_flush(void *ctx, const domain *d)
{
    aof *a = ctx;
    size_t dlen, b = log_begin(a);
    const char *dom = ks_domain_name(d, &dlen);
    rec_flush(&a->log, dom, dlen);
    log_end(a, b);
}

static void log_command(void *ctx, const domain *d, int argc, const slice *argv)
{
    aof *a = ctx;
    size_t dlen, b = log_begin(a);
    const char *dom = ks_domain_name(d, &dlen);
    rec_cmd(&a->log, dom, dlen, argc, argv);
    log_end(a, b);
}

uint64_t aof_thread_lsn(void) { return tls_lsn; }

int aof_is_always(aof *a) { return cfg_ll(a->policy) == CFG_FSYNC_ALWAYS; }

/* ---- files ---- */

static void set_err(aof *a, int e, const char *what)
{
    if (atomic_exchange(&a->err, e) != e)
        log_warn("AOF: %s failed: %s; writes are refused until it works again", what, strerror(e));
}

static int write_manifest(aof *a)
{
    char *path = manifest_path(a), tmp[1024];
    buf b = {0};
    char line[600];
    int fd, rc = -1;
    buf_append(&b, "# Kasi AOF manifest: the files to load, in order\n", 49);
    if (a->base_seq) {
        int n = snprintf(line, sizeof line, "base %s.%u.base.kasi\n", a->name, a->base_seq);
        buf_append(&b, line, (size_t)n);
    }
    for (int i = 0; i < a->nincrs; i++) {
        int n = snprintf(line, sizeof line, "incr %s.%u.incr.aof\n", a->name, a->incrs[i]);
        buf_append(&b, line, (size_t)n);
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        if (durable_write(fd, b.data, b.len) == 0 && fsync(fd) == 0) rc = 0;
        if (close(fd) < 0) rc = -1;
        if (rc == 0) rc = durable_replace(tmp, path);
        if (rc < 0) {
            int e = errno;
            unlink(tmp);
            errno = e;
        }
    }
    buf_free(&b);
    free(path);
    return rc;
}

/* Which of Redis's finer aof-write latency events a write is also: one
 * while an fsync runs, one while a background job reads the keyspace
 * (where Redis has a child), or one alone. Called with io_mu held. */
static const char *write_event(aof *a)
{
    if (pthread_mutex_trylock(&a->sync_mu) != 0) return "aof-write-pending-fsync";
    pthread_mutex_unlock(&a->sync_mu);
    return a->ks && ks_pit_running(a->ks) ? "aof-write-active-child" : "aof-write-alone";
}

/* Write the first n bytes of io; keeps what could not be written. Its
 * time is the "aof-write" latency event (Redis's, for its one write of
 * the AOF buffer), and one of write_event's. */
static int io_write(aof *a, size_t n)
{
    int64_t t0 = latency_begin();
    const char *also = t0 ? write_event(a) : NULL;
    int rc = 0;
    while (n) {
        ssize_t w = write(a->fd, buf_head(&a->io), n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            set_err(a, w < 0 ? errno : EIO, "writing the AOF");
            rc = -1;
            break;
        }
        buf_consume(&a->io, (size_t)w);
        atomic_fetch_add(&a->written, (uint64_t)w);
        atomic_fetch_add(&a->incr_size, (uint64_t)w);
        n -= (size_t)w;
    }
    if (t0) {
        long long ms = (util_mono_us() - t0) / 1000;
        latency_add_if_needed(also, ms);
        latency_add_if_needed("aof-write", ms);
    }
    return rc;
}

/* Start the incremental file the pending cut asked for. */
static int switch_file(aof *a, unsigned seq)
{
    char *path = file_path(a, seq, 0);
    buf h = {0};
    int fd;
    pthread_mutex_lock(&a->sync_mu);   /* no fsync may run on the file being left */
    if (a->fd >= 0 && fdatasync(a->fd) < 0) {
        pthread_mutex_unlock(&a->sync_mu);
        set_err(a, errno, "fsync of the AOF");
        free(path);
        return -1;
    }
    rec_header(&h, REC_KIND_LOG, util_now_ms());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || durable_write(fd, h.data, h.len) < 0 || fdatasync(fd) < 0) {
        pthread_mutex_unlock(&a->sync_mu);
        set_err(a, errno, "creating a new AOF file");
        if (fd >= 0) close(fd);
        unlink(path);
        buf_free(&h);
        free(path);
        return -1;
    }
    if (a->nincrs == MAX_FILES) {   /* rewrites kept failing: should not happen */
        memmove(a->incrs, a->incrs + 1, sizeof a->incrs[0] * (MAX_FILES - 1));
        a->nincrs--;
    }
    a->incrs[a->nincrs++] = seq;
    if (write_manifest(a) < 0) {
        pthread_mutex_unlock(&a->sync_mu);
        set_err(a, errno, "writing the AOF manifest");
        a->nincrs--;
        close(fd);
        unlink(path);
        buf_free(&h);
        free(path);
        return -1;
    }
    if (a->fd >= 0) close(a->fd);
    a->fd = fd;
    a->cur_seq = seq;
    atomic_fetch_add(&a->incr_size, h.len);
    atomic_store(&a->synced, atomic_load(&a->written));
    pthread_mutex_unlock(&a->sync_mu);
    buf_free(&h);
    free(path);
    return 0;
}

/* Hand what is logged to the kernel (following a cut if one is pending).
 * With sync, then fsync what was written. Returns 0, or -1 when a write or
 * the fsync failed (the error is kept; unwritten records stay queued). */
static int flush_io(aof *a, int sync)
{
    uint64_t end, cut = 0, upto;
    unsigned cut_seq = 0;
    int ok = 1, fd;
    pthread_mutex_lock(&a->io_mu);
    pthread_mutex_lock(&a->mu);
    if (buf_pending(&a->io) == 0) {
        /* the usual case: swap, so writers never wait for a copy */
        buf t = a->io;
        a->io = a->log;
        a->log = t;
        a->log.len = a->log.off = 0;
    } else if (a->log.len) {
        buf_append(&a->io, a->log.data, a->log.len);
        a->log.len = 0;
    }
    if (a->log.cap > 4 * WAKE_BYTES) buf_free(&a->log);
    end = a->appended < a->hold ? a->appended : a->hold;
    if (a->cut_pending) {
        cut = a->cut_lsn;
        cut_seq = a->cut_seq;
    }
    pthread_mutex_unlock(&a->mu);
    if (cut_seq) {
        if (a->fd >= 0) ok = io_write(a, (size_t)(cut - atomic_load(&a->written))) == 0;
        if (ok) ok = switch_file(a, cut_seq) == 0;
        if (ok) {
            pthread_mutex_lock(&a->mu);
            if (a->cut_seq == cut_seq) a->cut_pending = 0;
            pthread_mutex_unlock(&a->mu);
        }
    }
    if (ok && a->fd >= 0) ok = io_write(a, (size_t)(end - atomic_load(&a->written))) == 0;
    if (buf_pending(&a->io) == 0 && a->io.cap > 4 * WAKE_BYTES) buf_free(&a->io);   /* after a burst */
    fd = a->fd;
    upto = atomic_load(&a->written);
    if (!ok || !sync || fd < 0 || atomic_load(&a->synced) >= upto) {
        pthread_mutex_unlock(&a->io_mu);
        return ok ? 0 : -1;
    }
    /* The fsync runs without io_mu, so writes to the kernel go on meanwhile;
     * sync_mu keeps the file from being switched under it. */
    pthread_mutex_lock(&a->sync_mu);
    pthread_mutex_unlock(&a->io_mu);
    if (atomic_load(&a->synced) < upto) {   /* another fsync may have covered it */
        /* with appendfsync always, a worker waits for it: Redis's
         * "aof-fsync-always" (everysec's runs in the background, as Redis's) */
        int64_t t0 = cfg_ll(a->policy) == CFG_FSYNC_ALWAYS ? latency_begin() : 0;
        int rc = fdatasync(fd);
        latency_end("aof-fsync-always", t0);
        if (rc < 0) {
            set_err(a, errno, "fsync of the AOF");
            ok = 0;
        } else {
            atomic_store(&a->synced, upto);
            atomic_store(&a->fsync_ok_ms, util_now_ms());
        }
    }
    pthread_mutex_unlock(&a->sync_mu);
    return ok ? 0 : -1;
}

int aof_commit(aof *a, uint64_t lsn, int durable)
{
    atomic_ullong *done = durable ? &a->synced : &a->written;
    if (atomic_load(done) >= lsn) return 0;
    flush_io(a, durable);
    return atomic_load(done) >= lsn ? 0 : -1;
}

void aof_hold(aof *a, int on)
{
    pthread_mutex_lock(&a->mu);
    a->hold = on ? a->appended : UINT64_MAX;
    if (!on) pthread_cond_signal(&a->cond);   /* what was held goes out soon */
    pthread_mutex_unlock(&a->mu);
}

uint64_t aof_end_lsn(aof *a)
{
    uint64_t lsn;
    pthread_mutex_lock(&a->mu);
    lsn = a->appended;
    pthread_mutex_unlock(&a->mu);
    return lsn;
}

static void *writer_main(void *arg)
{
    aof *a = arg;
    for (;;) {
        int stop, sync;
        pthread_mutex_lock(&a->mu);
        if (!a->stopping && a->log.len < WAKE_BYTES) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += WRITE_PERIOD_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&a->cond, &a->mu, &ts);
        }
        stop = a->stopping;
        pthread_mutex_unlock(&a->mu);
        /* Workers write what their commands logged before replying (see
         * aof_commit); this writes what is left, and with everysec fsyncs
         * once a second, off the request path. A failing write or fsync
         * is retried on the next pass, and the error is cleared once a
         * whole pass works. */
        sync = stop || atomic_load(&a->err) ||
               (cfg_ll(a->policy) == CFG_FSYNC_EVERYSEC &&
                util_mono_us() - atomic_load(&a->last_fsync_us) >= 1000000);
        if (flush_io(a, sync) == 0 && sync) {
            atomic_store(&a->last_fsync_us, util_mono_us());
            if (atomic_load(&a->err) && a->fd >= 0) {
                atomic_store(&a->err, 0);
                log_notice("AOF: writing works again");
            }
        }
        if (stop) break;
    }
    return NULL;
}

/* ---- loading ---- */

static int parse_manifest(aof *a, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int lineno = 0;
    size_t plen = strlen(a->name);
    if (!f) {
        snprintf(err, errlen, "can't open %s: %s", path, strerror(errno));
        return -1;
    }
    a->base_seq = 0;
    a->nincrs = 0;
    while (fgets(line, sizeof line, f)) {
        char kind[16], name[600];
        unsigned seq;
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        if (sscanf(line, "%15s %599s", kind, name) != 2 || strchr(name, '/') ||
            strncmp(name, a->name, plen) != 0 || sscanf(name + plen, ".%u.", &seq) != 1 ||
            seq == 0 || (strcmp(kind, "base") && strcmp(kind, "incr")) ||
            (!strcmp(kind, "incr") && a->nincrs == MAX_FILES)) {
            snprintf(err, errlen, "%s:%d: can't parse the manifest line", path, lineno);
            fclose(f);
            return -1;
        }
        if (!strcmp(kind, "base")) a->base_seq = seq;
        else a->incrs[a->nincrs++] = seq;
        if (seq >= a->next_seq) a->next_seq = seq + 1;
    }
    fclose(f);
    return 0;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int aof_load(aof *a, keyspace *ks, int *found, char *err, size_t errlen)
{
    char *mpath = manifest_path(a);
    int rc = 0;
    uint64_t incr_total = 0;
    *found = 0;
    if (access(mpath, F_OK) < 0) {
        free(mpath);
        return 0;
    }
    *found = 1;
    if (parse_manifest(a, mpath, err, errlen) < 0) {
        free(mpath);
        return -1;
    }
    free(mpath);
    if (a->base_seq) {
        char *p = file_path(a, a->base_seq, 1);
        rc = load_aof_base(ks, p, err, errlen);
        atomic_store(&a->base_size, file_size(p));
        free(p);
        if (rc < 0) return -1;
    }
    for (int i = 0; i < a->nincrs && rc == 0; i++) {
        char *p = file_path(a, a->incrs[i], 0);
        loader l;
        rec_file_info info;
        loader_init_frozen(&l, ks);
        rec_read_file(p, loader_apply, &l, &info);
        loader_done(&l);
        if (info.status == REC_FILE_OK && info.kind != REC_KIND_LOG && info.size) {
            snprintf(err, errlen, "%s is not an AOF log file", p);
            rc = -1;
        } else if (info.status == REC_FILE_TORN && i == a->nincrs - 1) {
            /* What a crash while appending leaves: keep what came before. */
            log_warn("AOF ends with an %s; loaded the %zu bytes before it and cut it off",
                     info.err, info.good);
            if (truncate(p, (off_t)info.good) < 0) {
                snprintf(err, errlen, "can't truncate %s: %s", p, strerror(errno));
                rc = -1;
            } else if (info.good == 0) {
                unlink(p);   /* not even its header: the next start-up makes it anew */
                a->nincrs--;
                rc = write_manifest(a);
                if (rc < 0) snprintf(err, errlen, "can't rewrite the manifest: %s", strerror(errno));
            }
            info.size = info.good;
        } else if (info.status != REC_FILE_OK) {
            if (info.status == REC_FILE_IOERR)
                snprintf(err, errlen, "%s", info.err);
            else
                snprintf(err, errlen,
                         "AOF is damaged: %s. Run 'kasi-server --check-aof --fix %s' to truncate "
                         "it at that offset (losing what follows), then start again",
                         info.err, p);
            rc = -1;
        }
        incr_total += info.size;
        free(p);
    }
    atomic_store(&a->incr_size, incr_total);
    if (rc == 0) load_sweep_expired(ks);   /* the frozen load kept what has expired since */
    return rc;
}

/* ---- starting, stopping, rewriting ---- */

static void start_thread(aof *a)
{
    if (atomic_load(&a->thread_started)) return;
    a->stopping = 0;
    atomic_store(&a->last_fsync_us, util_mono_us());
    pthread_create(&a->thread, NULL, writer_main, a);
    atomic_store(&a->thread_started, 1);
}

struct aof_rewrite {
    aof *a;
    unsigned seq;
    char *base;
    snapshot *sn;
};

/* At the snapshot's instant: log from here on into the new file. */
static void rewrite_start(keyspace *ks, void *arg)
{
    aof_rewrite *rw = arg;
    if (ks_effects_of(ks) != &rw->a->fx) ks_set_effects(ks, &rw->a->fx);
    pthread_mutex_lock(&rw->a->mu);
    rw->a->cut_lsn = rw->a->appended;
    rw->a->cut_seq = rw->seq;
    rw->a->cut_pending = 1;
    pthread_mutex_unlock(&rw->a->mu);
}

aof_rewrite *aof_rewrite_begin(aof *a, keyspace *ks, char *err, size_t errlen)
{
    aof_rewrite *rw;
    a->ks = ks;
    if (mkdir(a->dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "can't create %s: %s", a->dir, strerror(errno));
        return NULL;
    }
    rw = xcalloc(1, sizeof *rw);
    rw->a = a;
    pthread_mutex_lock(&a->io_mu);
    rw->seq = a->next_seq++;
    pthread_mutex_unlock(&a->io_mu);
    rw->base = file_path(a, rw->seq, 1);
    rw->sn = snapshot_begin(ks, rw->base, rewrite_start, rw, err, errlen);
    if (!rw->sn) {
        free(rw->base);
        free(rw);
        return NULL;
    }
    return rw;
}

int aof_rewrite_finish(aof_rewrite *rw, char *err, size_t errlen)
{
    aof *a = rw->a;
    snapshot_result res;
    int rc = snapshot_finish(rw->sn, &res, err, errlen);
    flush_io(a, 1);   /* makes sure the log has moved to the new file */
    pthread_mutex_lock(&a->io_mu);
    if (a->cur_seq != rw->seq) {
        if (rc == 0)
            snprintf(err, errlen, "can't start a new AOF file: %s", strerror(atomic_load(&a->err)));
        unlink(rw->base);
        rc = -1;
    } else if (rc == 0) {
        unsigned old_base = a->base_seq, old[MAX_FILES];
        int nold = a->nincrs - 1;
        memcpy(old, a->incrs, sizeof(unsigned) * (size_t)nold);
        a->base_seq = rw->seq;
        a->incrs[0] = rw->seq;
        a->nincrs = 1;
        if (write_manifest(a) < 0) {
            snprintf(err, errlen, "can't write the AOF manifest: %s", strerror(errno));
            a->base_seq = old_base;
            memmove(a->incrs + nold, a->incrs, sizeof(unsigned));
            memcpy(a->incrs, old, sizeof(unsigned) * (size_t)nold);
            a->nincrs = nold + 1;
            unlink(rw->base);
            rc = -1;
        } else {
            char *cur = file_path(a, rw->seq, 0);
            if (old_base) {
                char *p = file_path(a, old_base, 1);
                unlink(p);
                free(p);
            }
            for (int i = 0; i < nold; i++) {
                char *p = file_path(a, old[i], 0);
                unlink(p);
                free(p);
            }
            atomic_store(&a->base_size, res.bytes);
            atomic_store(&a->incr_size, file_size(cur));
            free(cur);
        }
    } else {
        unlink(rw->base);
    }
    pthread_mutex_unlock(&a->io_mu);
    free(rw->base);
    free(rw);
    return rc;
}

int aof_start(aof *a, keyspace *ks, char *err, size_t errlen)
{
    aof_rewrite *rw;
    a->ks = ks;
    if (a->nincrs) {   /* loaded from its manifest: append to the last file */
        char *p = file_path(a, a->incrs[a->nincrs - 1], 0);
        a->fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (a->fd < 0) {
            snprintf(err, errlen, "can't open %s: %s", p, strerror(errno));
            free(p);
            return -1;
        }
        a->cur_seq = a->incrs[a->nincrs - 1];
        free(p);
        ks_set_effects(ks, &a->fx);
        start_thread(a);
        return 0;
    }
    start_thread(a);
    rw = aof_rewrite_begin(a, ks, err, errlen);
    return rw ? aof_rewrite_finish(rw, err, errlen) : -1;
}

aof_rewrite *aof_enable(aof *a, keyspace *ks, char *err, size_t errlen)
{
    char *m = manifest_path(a), tmp[256];
    a->ks = ks;
    /* Old files are replaced: learn their names so the rewrite deletes them. */
    if (access(m, F_OK) == 0 && parse_manifest(a, m, tmp, sizeof tmp) < 0) {
        a->base_seq = 0;
        a->nincrs = 0;
    }
    free(m);
    start_thread(a);
    return aof_rewrite_begin(a, ks, err, errlen);
}

void aof_stop(aof *a, keyspace *ks)
{
    if (ks_effects_of(ks) == &a->fx) ks_set_effects(ks, NULL);
    if (atomic_load(&a->thread_started)) {
        pthread_mutex_lock(&a->mu);
        a->stopping = 1;
        pthread_cond_signal(&a->cond);
        pthread_mutex_unlock(&a->mu);
        pthread_join(a->thread, NULL);
        atomic_store(&a->thread_started, 0);
    }
    flush_io(a, 1);
    pthread_mutex_lock(&a->io_mu);
    if (a->fd >= 0) close(a->fd);
    a->fd = -1;
    pthread_mutex_unlock(&a->io_mu);
}

int aof_write_error(aof *a) { return atomic_load_explicit(&a->err, memory_order_relaxed); }

void aof_get_status(aof *a, aof_status *st)
{
    memset(st, 0, sizeof *st);
    st->running = atomic_load(&a->thread_started);
    st->write_err = atomic_load(&a->err);
    st->base_size = atomic_load(&a->base_size);
    st->current_size = st->base_size + atomic_load(&a->incr_size);
    st->fsync_lag_ms = (uint64_t)(util_now_ms() - atomic_load(&a->fsync_ok_ms));
}

/* ---- checking ---- */

static int count_rec(const rec *r, void *opaque)
{
    uint64_t *c = opaque;
    if (r->type == REC_PUT) c[0]++;
    if (r->type == REC_END) {
        c[1] = 1;
        c[2] = r->count;
    }
    return 0;
}

int aof_check_file(const char *path, int fix)
{
    rec_file_info info;
    uint64_t c[3] = {0, 0, 0};
    rec_read_file(path, count_rec, c, &info);
    if (info.status == REC_FILE_IOERR) {
        fprintf(stderr, "%s\n", info.err);
        return 1;
    }
    if (info.status == REC_FILE_OK) {
        if (info.kind == REC_KIND_SNAPSHOT && (!c[1] || c[2] != c[0])) {
            printf("%s: snapshot without a valid end record (%llu keys): incomplete\n", path,
                   (unsigned long long)c[0]);
            return 1;
        }
        printf("%s: OK, %llu records, %zu bytes (%s)\n", path, (unsigned long long)info.records,
               info.size, info.kind == REC_KIND_SNAPSHOT ? "snapshot" : "log");
        return 0;
    }
    printf("%s: %s; the %zu bytes before it hold %llu valid records\n", path, info.err,
           info.good, (unsigned long long)info.records);
    if (info.kind == REC_KIND_SNAPSHOT || info.good == 0) {
        printf("A snapshot (or a file without a valid header) can't be repaired by truncation.\n");
        return 1;
    }
    if (!fix) {
        printf("Run again with --fix to truncate the file to %zu bytes (losing %zu bytes).\n",
               info.good, info.size - info.good);
        return 1;
    }
    if (truncate(path, (off_t)info.good) < 0) {
        fprintf(stderr, "can't truncate %s: %s\n", path, strerror(errno));
        return 1;
    }
    printf("Truncated %s to %zu bytes.\n", path, info.good);
    return 0;
}
