/* persist.c - see persist.h. */
#include "persist/persist.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "persist/aof.h"
#include "lib/durable.h"
#include "persist/load.h"
#include "lib/log.h"
#include "conf/config.h"
#include "lib/gates.h"
#include "lib/latency.h"
#include "store/keyspace.h"
#include "persist/snapshot.h"
#include "lib/util.h"

#define BGSAVE_RETRY_MS 5000   /* after a failed background save, as Redis */

enum job_kind { JOB_NONE, JOB_BGSAVE, JOB_REWRITE, JOB_ENABLE_AOF, JOB_SAVE };

struct persist {
    keyspace *ks;
    config *cfg;
    gates *g;
    const atomic_int *stopping;
    pthread_mutex_t mu;         /* guards everything below */
    aof *aof;                   /* while appendonly is on */
    _Atomic(aof *) live;        /* the same, for the hot path (read without mu) */
    aof *retired[8];            /* turned off at run time; freed at exit */
    int nretired;
    uint64_t lsn_end;           /* where the last AOF turned off ended: the next starts there */
    int job;                    /* the running job */
    pthread_t job_thread;
    atomic_int job_done;
    int job_rc;
    char job_err[256];
    snapshot_result job_res;
    snapshot *job_sn;           /* what the job thread finishes */
    aof_rewrite *job_rw;
    aof *job_aof;               /* the AOF a rewrite job belongs to */
    int64_t job_start_ms;
    uint64_t job_changes;       /* ks_changes() when the job began */
    int bgsave_scheduled, rewrite_scheduled;
    int toggling;               /* CONFIG SET appendonly waits to run: no job may start */

    int64_t lastsave_ms;        /* last successful snapshot's instant */
    uint64_t changes_saved;     /* ks_changes() at that instant */
    atomic_int last_bgsave_ok;
    int64_t last_bgsave_try_ms;
    long long last_bgsave_secs, last_rewrite_secs;
    int last_rewrite_ok;
    unsigned long long rewrite_failures;   /* in a row, since the last that worked (INFO) */
    uint64_t saves, rewrites;
    uint64_t aof_size_at_rewrite;
    char snap_err[256];         /* why the last background save failed */
    uint64_t loaded_keys, loaded_expired;
    double fork_rate;           /* persist_fork_rate */
};

static char *snapshot_path(persist *p)
{
    char *dir = config_str(p->cfg, &p->cfg->dir);
    char *name = config_str(p->cfg, &p->cfg->dbfilename);
    char *path = durable_join(dir, name);
    free(dir);
    free(name);
    return path;
}

/* A new AOF; its records continue the LSNs of the one before it, so a
 * worker's record of what it made durable stays valid across toggles. */
static aof *new_aof(persist *p)
{
    char *dir = config_str(p->cfg, &p->cfg->dir);
    aof *a = aof_create(dir, p->cfg->appenddirname, p->cfg->appendfilename,
                        &p->cfg->appendfsync, p->lsn_end);
    free(dir);
    return a;
}

static void count_keys(domain *d, void *opaque) { *(uint64_t *)opaque += ks_domain_size(d); }

persist *persist_init(keyspace *ks, config *cfg, gates *g, const atomic_int *stopping,
                      char *err, size_t errlen)
{
    persist *p = xcalloc(1, sizeof *p);
    int64_t t0 = util_mono_us();
    int found = 0;
    p->ks = ks;
    p->cfg = cfg;
    p->g = g;
    p->stopping = stopping;
    pthread_mutex_init(&p->mu, NULL);
    p->last_bgsave_ok = 1;
    p->last_rewrite_ok = 1;
    p->last_bgsave_secs = p->last_rewrite_secs = -1;
    p->lastsave_ms = util_now_ms();
    if (cfg->appendonly) {
        p->aof = new_aof(p);
        if (aof_load(p->aof, ks, &found, err, errlen) < 0) goto fail;
        if (found)
            log_notice("DB loaded from append only file: %.3f seconds",
                       (double)(util_mono_us() - t0) / 1e6);
    }
    if (!found) {
        char *path = snapshot_path(p);
        uint64_t keys;
        int rc = load_snapshot(ks, path, 1, &found, &keys, err, errlen);
        if (rc == 0 && found)
            log_notice("DB loaded from disk: %llu keys from %s in %.3f seconds",
                       (unsigned long long)keys, path, (double)(util_mono_us() - t0) / 1e6);
        free(path);
        if (rc < 0) goto fail;
    }
    p->changes_saved = ks_changes(ks);
    ks_foreach_domain(ks, count_keys, &p->loaded_keys);
    p->loaded_expired = load_expired_keys();
    if (p->aof) {
        aof_status st;
        if (aof_start(p->aof, ks, err, errlen) < 0) goto fail;
        atomic_store(&p->live, p->aof);
        aof_get_status(p->aof, &st);
        p->aof_size_at_rewrite = st.current_size;
    }
    return p;
fail:
    persist_free(&p);
    return NULL;
}

/* ---- jobs ----
 *
 * A snapshot's instant must fall between commands everywhere (so that it
 * never splits a MULTI/EXEC, and a BGSAVE's instant comes before its
 * reply): it is taken in the server's exclusive section, entered from a
 * command (whose worker holds its gate) or from worker 0's cron (which
 * takes its gate first). The lock order is gates, then p->mu. */

static void excl_enter(persist *p, int self) { gates_exclusive_begin(p->g, self); }

static void excl_leave(persist *p, int self) { gates_exclusive_end(p->g, self); }

static void reap_job(persist *p, int wait);

static void *job_main(void *arg)
{
    persist *p = arg;
    /* Clients come first: on a busy machine the save takes longer, instead
     * of the workers waiting for a core (Linux applies nice per thread). */
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), 19) < 0) { /* not fatal */ }
    if (p->job_sn)
        p->job_rc = snapshot_finish(p->job_sn, &p->job_res, p->job_err, sizeof p->job_err);
    else
        p->job_rc = aof_rewrite_finish(p->job_rw, p->job_err, sizeof p->job_err);
    atomic_store(&p->job_done, 1);
    return NULL;
}

/* Start a background job: take its instant and start its thread. Called
 * in the exclusive section (or before the workers run) with p->mu held and
 * no job running. Returns 0, or -1 when the job could not start (msg says
 * why). */
static int start_job_locked(persist *p, int kind, uint64_t changes, const char *path, char *msg,
                            size_t len)
{
    int64_t t0 = util_mono_us(), pause;
        p->job_err[0] = '\0';
    p->job_sn = NULL;
    p->job_rw = NULL;
    p->job_aof = kind == JOB_BGSAVE ? NULL : p->aof;
    if (kind == JOB_BGSAVE) {
        p->job_sn = snapshot_begin(p->ks, path, NULL, NULL, p->job_err, sizeof p->job_err);
        p->last_bgsave_try_ms = util_now_ms();
        p->bgsave_scheduled = 0;
    } else {
        p->job_rw = kind == JOB_ENABLE_AOF
                        ? aof_enable(p->aof, p->ks, p->job_err, sizeof p->job_err)
                        : aof_rewrite_begin(p->aof, p->ks, p->job_err, sizeof p->job_err);
        p->rewrite_scheduled = 0;
    }
    if (!p->job_sn && !p->job_rw) {
        if (kind == JOB_BGSAVE) {
            atomic_store(&p->last_bgsave_ok, 0);
            snprintf(p->snap_err, sizeof p->snap_err, "%s", p->job_err);
            log_warn("Background saving error: %s", p->job_err);
        } else {
            p->last_rewrite_ok = 0;
            p->rewrite_failures++;
            log_warn("Background AOF rewrite failed: %s", p->job_err);
        }
        snprintf(msg, len, "ERR %s", p->job_err);
        return -1;
    }
    p->job = kind;
    p->job_start_ms = util_now_ms();
    p->job_changes = changes;
    atomic_store(&p->job_done, 0);
    log_notice(kind == JOB_BGSAVE ? "Background saving started"
                                  : "Background append only file rewriting started");
    pthread_create(&p->job_thread, NULL, job_main, p);
    /* Where Redis forks, Kasi pauses every worker to take the instant:
     * the stall its clients see, so it is the "fork" latency event (the
     * name Redis's operators watch for it), and its rate DOCTOR's. */
    pause = util_mono_us() - t0;
    p->fork_rate = (double)ks_used_memory(p->ks) * 1000000 / (double)(pause ? pause : 1) / (1024 * 1024 * 1024);
    latency_add_if_needed("fork", pause / 1000);
    return 0;
}

/* start_job_locked from worker self (its gate held; -1 before the
 * workers run), entering the exclusive section and taking p->mu itself. Returns 0
 * when it started, 1 when a rewrite had to be scheduled instead (another
 * job started meanwhile, or appendonly is being switched), -1 on error. */
static int start_job(persist *p, int kind, int self, char *msg, size_t len)
{
        uint64_t changes = ks_changes(p->ks);
    char *path = kind == JOB_BGSAVE ? snapshot_path(p) : NULL;
    int rc;
    excl_enter(p, self);
    pthread_mutex_lock(&p->mu);
    reap_job(p, 0);
    if (kind == JOB_REWRITE && p->aof && (p->job != JOB_NONE || p->toggling)) {
        p->rewrite_scheduled = 1;
        snprintf(msg, len, "Background append only file rewriting scheduled");
        rc = 1;
    } else if (p->job != JOB_NONE || p->toggling || (kind != JOB_BGSAVE && !p->aof)) {
        snprintf(msg, len, "ERR Background save already in progress");
        rc = -1;
    } else {
        rc = start_job_locked(p, kind, changes, path, msg, len);
    }
    pthread_mutex_unlock(&p->mu);
    excl_leave(p, self);
    free(path);
    return rc;
}

/* Collect a finished job; p->mu is held. wait: even if still running. */
static void reap_job(persist *p, int wait)
{
    long long secs;
    if (p->job == JOB_NONE || p->job == JOB_SAVE || (!wait && !atomic_load(&p->job_done))) return;
    pthread_join(p->job_thread, NULL);
    secs = (util_now_ms() - p->job_start_ms + 500) / 1000;
    if (p->job == JOB_BGSAVE) {
        atomic_store(&p->last_bgsave_ok, p->job_rc == 0);
        p->last_bgsave_secs = secs;
        if (p->job_rc == 0) {
            p->lastsave_ms = p->job_res.start_ms;
            p->changes_saved = p->job_changes;
            p->saves++;
            log_notice("Background saving terminated with success: %llu keys in %.3f s",
                       (unsigned long long)p->job_res.keys, (double)p->job_res.took_us / 1e6);
        } else {
            snprintf(p->snap_err, sizeof p->snap_err, "%s", p->job_err);
            log_warn("Background saving error: %s", p->job_err);
        }
    } else {
        p->last_rewrite_ok = p->job_rc == 0;
        p->rewrite_failures = p->job_rc == 0 ? 0 : p->rewrite_failures + 1;
        p->last_rewrite_secs = secs;
        if (p->job_rc == 0) {
            aof_status st;
            p->rewrites++;
            aof_get_status(p->job_aof, &st);
            p->aof_size_at_rewrite = st.current_size;
            log_notice("Background AOF rewrite finished successfully");
        } else {
            log_warn("Background AOF rewrite failed: %s", p->job_err);
        }
    }
    p->job = JOB_NONE;
    p->job_aof = NULL;
}

static int save_points_due(persist *p, int64_t now)
{
    char *spec = config_str(p->cfg, &p->cfg->save), *save = NULL;
    uint64_t dirty = ks_changes(p->ks) - p->changes_saved;
    int due = 0;
    if (!atomic_load(&p->last_bgsave_ok) && now - p->last_bgsave_try_ms < BGSAVE_RETRY_MS) {
        free(spec);
        return 0;
    }
    for (char *w = strtok_r(spec, " ", &save); w && !due; w = strtok_r(NULL, " ", &save)) {
        char *c = strtok_r(NULL, " ", &save);
        long long secs = atoll(w), changes = c ? atoll(c) : 0;
        due = dirty >= (uint64_t)changes && dirty > 0 && now - p->lastsave_ms >= secs * 1000;
    }
    free(spec);
    return due;
}

static int rewrite_due(persist *p)
{
    long long pct = cfg_ll(&p->cfg->auto_aof_rewrite_percentage);
    long long min = cfg_ll(&p->cfg->auto_aof_rewrite_min_size);
    aof_status st;
    uint64_t base;
    if (!p->aof || pct == 0) return 0;
    aof_get_status(p->aof, &st);
    base = p->aof_size_at_rewrite ? p->aof_size_at_rewrite : 1;
    return st.current_size >= (uint64_t)min && st.current_size > base &&
           (st.current_size - base) * 100 / base >= (uint64_t)pct;
}

void persist_cron(persist *p, int self, const atomic_int *busy)
{
    int64_t now = util_now_ms();
    int kind = JOB_NONE;
    char msg[300];
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    reap_job(p, 0);
    if (p->job == JOB_NONE && !atomic_load(p->stopping)) {
        if (p->rewrite_scheduled && p->aof) kind = JOB_REWRITE;
        else if (p->bgsave_scheduled || save_points_due(p, now)) kind = JOB_BGSAVE;
        else if (rewrite_due(p)) kind = JOB_REWRITE;
    }
    pthread_mutex_unlock(&p->mu);
    if (kind != JOB_NONE) {
        /* as if running a command (after a long script, should one run) */
        if (!gates_enter_unless(p->g, self, busy)) return;
        start_job(p, kind, self, msg, sizeof msg);
        gates_leave(p->g, self);
    }
}

/* ---- commands ---- */

int persist_save(persist *p, int self, char *msg, size_t len)
{
    snapshot_result res;
    snapshot *sn;
    char *path, err[256];
    uint64_t changes;
    int rc;
    pthread_mutex_lock(&p->mu);
    reap_job(p, 0);
    if (p->job != JOB_NONE) {
        pthread_mutex_unlock(&p->mu);
        snprintf(msg, len, "ERR Background save already in progress");
        return -1;
    }
    p->job = JOB_SAVE;   /* one snapshot at a time */
    pthread_mutex_unlock(&p->mu);

    changes = ks_changes(p->ks);
    path = snapshot_path(p);
    excl_enter(p, self);
    sn = snapshot_begin(p->ks, path, NULL, NULL, err, sizeof err);
    excl_leave(p, self);
    free(path);
    rc = sn ? snapshot_finish(sn, &res, err, sizeof err) : -1;

    pthread_mutex_lock(&p->mu);
    p->job = JOB_NONE;
    if (rc == 0) {
        p->lastsave_ms = res.start_ms;
        p->changes_saved = changes;
        p->saves++;
        atomic_store(&p->last_bgsave_ok, 1);   /* a good save clears a failed one, as in Redis */
        log_notice("DB saved on disk: %llu keys in %.3f s", (unsigned long long)res.keys,
                   (double)res.took_us / 1e6);
    } else {
        log_warn("Error saving DB on disk: %s", err);
        snprintf(msg, len, "ERR %s", err);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int persist_bgsave(persist *p, int self, int schedule, char *msg, size_t len)
{
    pthread_mutex_lock(&p->mu);
    reap_job(p, 0);
    if (p->job == JOB_BGSAVE || p->job == JOB_SAVE) {
        pthread_mutex_unlock(&p->mu);
        snprintf(msg, len, "ERR Background save already in progress");
        return -1;
    }
    if (p->job != JOB_NONE || p->toggling) {
        int rc = 0;
        if (schedule) {
            p->bgsave_scheduled = 1;
            snprintf(msg, len, "Background saving scheduled");
        } else {
            snprintf(msg, len,
                     "ERR Another child process is active (AOF?): can't BGSAVE right now. Use "
                     "BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
            rc = -1;
        }
        pthread_mutex_unlock(&p->mu);
        return rc;
    }
    pthread_mutex_unlock(&p->mu);
    if (start_job(p, JOB_BGSAVE, self, msg, len) < 0) return -1;
    snprintf(msg, len, "Background saving started");
    return 0;
}

int persist_bgrewriteaof(persist *p, int self, char *msg, size_t len)
{
    int rc;
    pthread_mutex_lock(&p->mu);
    reap_job(p, 0);
    if (!p->aof) {
        pthread_mutex_unlock(&p->mu);
        snprintf(msg, len, "ERR The append only file is off: set appendonly yes first");
        return -1;
    }
    if (p->job == JOB_REWRITE || p->job == JOB_ENABLE_AOF) {
        pthread_mutex_unlock(&p->mu);
        snprintf(msg, len, "ERR Background append only file rewriting already in progress");
        return -1;
    }
    if (p->job != JOB_NONE || p->toggling) {
        p->rewrite_scheduled = 1;
        pthread_mutex_unlock(&p->mu);
        snprintf(msg, len, "Background append only file rewriting scheduled");
        return 0;
    }
    pthread_mutex_unlock(&p->mu);
    rc = start_job(p, JOB_REWRITE, self, msg, len);
    if (rc == 0) snprintf(msg, len, "Background append only file rewriting started");
    return rc < 0 ? -1 : 0;
}

long long persist_lastsave(persist *p)
{
    long long t;
    pthread_mutex_lock(&p->mu);
    t = p->lastsave_ms / 1000;
    pthread_mutex_unlock(&p->mu);
    return t;
}

/* Whether a running job keeps appendonly from being switched on (any
 * job: one runs at a time) or off (a rewrite, which writes the AOF). */
static int job_blocks_toggle(int job, int on)
{
    return on ? job != JOB_NONE : job == JOB_REWRITE || job == JOB_ENABLE_AOF;
}

int persist_set_appendonly(persist *p, int self, int on, char *msg, size_t len)
{
    uint64_t changes = ks_changes(p->ks);
    int rc = 0;
    /* Wait for a job outside the exclusive section (the other workers keep
     * serving meanwhile), then check again inside it: a job may have
     * started in between (one already asked for), and none can start while
     * it is held. While this waits, new jobs are scheduled, not started. */
    for (;;) {
        pthread_mutex_lock(&p->mu);
        if (on && p->job == JOB_SAVE) {
            p->toggling = 0;
            pthread_mutex_unlock(&p->mu);
            snprintf(msg, len, "ERR a SAVE is in progress");
            return -1;
        }
        p->toggling = 1;
        reap_job(p, 1);
        pthread_mutex_unlock(&p->mu);
        excl_enter(p, self);
        pthread_mutex_lock(&p->mu);
        reap_job(p, 0);
        if (!job_blocks_toggle(p->job, on)) break;
        pthread_mutex_unlock(&p->mu);
        excl_leave(p, self);
    }
    if (on && !p->aof) {
        p->aof = new_aof(p);
        atomic_store(&p->live, p->aof);
        rc = start_job_locked(p, JOB_ENABLE_AOF, changes, NULL, msg, len);
        if (rc < 0) {   /* nothing logs to it yet */
            atomic_store(&p->live, NULL);
            aof_destroy(p->aof);
            p->aof = NULL;
        }
    } else if (!on && p->aof) {
        if (p->nretired == 8) {
            snprintf(msg, len, "ERR appendonly was switched too often");
            rc = -1;
        } else {
            atomic_store(&p->live, NULL);
            aof_stop(p->aof, p->ks);
            p->lsn_end = aof_end_lsn(p->aof);
            p->retired[p->nretired++] = p->aof;   /* a worker may still be looking at it */
            p->aof = NULL;
            p->rewrite_scheduled = 0;
        }
    }
    p->toggling = 0;
    pthread_mutex_unlock(&p->mu);
    excl_leave(p, self);
    return rc;
}

/* ---- the hot path ---- */

const char *persist_write_denied(persist *p)
{
    static __thread char msg[200];
    aof *a;
    if (!p) return NULL;
    a = atomic_load(&p->live);
    if (a) {
        int e = aof_write_error(a);
        if (e) {
            snprintf(msg, sizeof msg, "MISCONF Errors writing to the AOF file: %s", strerror(e));
            return msg;
        }
    }
    if (!p->last_bgsave_ok && cfg_ll(&p->cfg->stop_writes_on_bgsave_error)) {
        char *spec = config_str(p->cfg, &p->cfg->save);
        int has_points = spec[0] != '\0';
        free(spec);
        if (has_points)
            return "MISCONF Kasi is configured to save snapshots, but it's currently unable to "
                   "persist to disk. Commands that may modify the data set are disabled, because "
                   "this instance is configured to report errors during writes if snapshotting "
                   "fails (stop-writes-on-bgsave-error option). Please check the Kasi logs for "
                   "details about the snapshot error.";
    }
    return NULL;
}

uint64_t persist_thread_lsn(void) { return aof_thread_lsn(); }

void persist_hold(persist *p, int on)
{
    aof *a = p ? atomic_load(&p->live) : NULL;
    if (a) aof_hold(a, on);
}

int persist_commit(persist *p, uint64_t lsn)
{
    aof *a = p ? atomic_load(&p->live) : NULL;
    /* No AOF: the one turned off was written and fsynced when it stopped. */
    if (!a) return 0;
    return aof_commit(a, lsn, aof_is_always(a));
}

/* ---- shutdown ---- */

int persist_shutdown(persist *p, int self, int mode)
{
    int rc = 0;
    char *spec;
    if (!p) return 0;
    pthread_mutex_lock(&p->mu);
    reap_job(p, 1);
    pthread_mutex_unlock(&p->mu);
    spec = config_str(p->cfg, &p->cfg->save);
    if (mode == 1 || (mode != -1 && spec[0])) {
        char msg[300];
        log_notice("Saving the final snapshot before exiting");
        rc = persist_save(p, self, msg, sizeof msg);
    }
    free(spec);
    if (rc < 0 && mode != 2) return -1;   /* still running: the AOF keeps going */
    excl_enter(p, self);   /* the lock order: gates, then p->mu */
    pthread_mutex_lock(&p->mu);
    if (p->aof) {
        atomic_store(&p->live, NULL);
        aof_stop(p->aof, p->ks);
        log_notice("Append only file written and fsynced");
    }
    pthread_mutex_unlock(&p->mu);
    excl_leave(p, self);
    return rc;
}

void persist_free(persist **pp)
{
    persist *p = *pp;
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    reap_job(p, 1);
    pthread_mutex_unlock(&p->mu);
    aof_destroy(p->aof);
    for (int i = 0; i < p->nretired; i++) aof_destroy(p->retired[i]);
    pthread_mutex_destroy(&p->mu);
    free(p);
    *pp = NULL;
}

/* ---- INFO ---- */

/* The status, with mu held (a finished job reaped first). */
static void status_locked(persist *p, persist_status *st, aof_status *as)
{
    memset(as, 0, sizeof *as);
    reap_job(p, 0);
    if (p->aof) aof_get_status(p->aof, as);
    *st = (persist_status){
        .changes_since_save = (unsigned long long)(ks_changes(p->ks) - p->changes_saved),
        .saves = (unsigned long long)p->saves,
        .rewrites = (unsigned long long)p->rewrites,
        .aof_size = (unsigned long long)as->current_size,
        .last_save_time = (long long)(p->lastsave_ms / 1000),
        .bgsave_in_progress = p->job == JOB_BGSAVE,
        .last_bgsave_ok = atomic_load(&p->last_bgsave_ok),
        .aof_enabled = p->aof != NULL,
        .rewrite_in_progress = p->job == JOB_REWRITE || p->job == JOB_ENABLE_AOF,
        .last_rewrite_ok = p->last_rewrite_ok,
        .aof_last_write_ok = !as->write_err,
    };
}

void persist_get_status(persist *p, persist_status *st)
{
    aof_status as;
    pthread_mutex_lock(&p->mu);
    status_locked(p, st, &as);
    pthread_mutex_unlock(&p->mu);
}

double persist_fork_rate(persist *p)
{
    double r;
    pthread_mutex_lock(&p->mu);
    r = p->fork_rate;
    pthread_mutex_unlock(&p->mu);
    return r;
}

void persist_info(persist *p, buf *out)
{
    char line[1024];
    int n;
    aof_status as;
    persist_status st;
    int64_t now = util_now_ms();
    pthread_mutex_lock(&p->mu);
    status_locked(p, &st, &as);
    n = snprintf(line, sizeof line,
                 "loading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\n"
                 "current_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\n"
                 "current_save_keys_total:0\r\n"
                 "rdb_changes_since_last_save:%llu\r\nrdb_bgsave_in_progress:%d\r\n"
                 "rdb_last_save_time:%lld\r\nrdb_last_bgsave_status:%s\r\n"
                 "rdb_last_bgsave_time_sec:%lld\r\nrdb_current_bgsave_time_sec:%lld\r\n"
                 "rdb_saves:%llu\r\nrdb_last_cow_size:0\r\n"
                 "rdb_last_load_keys_expired:%llu\r\nrdb_last_load_keys_loaded:%llu\r\n"
                 "aof_enabled:%d\r\naof_rewrite_in_progress:%d\r\naof_rewrite_scheduled:%d\r\n"
                 "aof_last_rewrite_time_sec:%lld\r\naof_current_rewrite_time_sec:%lld\r\n"
                 "aof_last_bgrewrite_status:%s\r\naof_rewrites:%llu\r\naof_rewrites_consecutive_failures:%llu\r\n"
                 "aof_last_write_status:%s\r\n"
                 "aof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
                 st.changes_since_save, st.bgsave_in_progress, st.last_save_time,
                 st.last_bgsave_ok ? "ok" : "err", p->last_bgsave_secs,
                 p->job == JOB_BGSAVE ? (long long)((now - p->job_start_ms) / 1000) : -1LL, st.saves,
                 (unsigned long long)p->loaded_expired, (unsigned long long)p->loaded_keys,
                 st.aof_enabled, st.rewrite_in_progress, p->rewrite_scheduled, p->last_rewrite_secs,
                 p->job == JOB_REWRITE ? (long long)((now - p->job_start_ms) / 1000) : -1LL,
                 st.last_rewrite_ok ? "ok" : "err", st.rewrites, p->rewrite_failures,
                 st.aof_last_write_ok ? "ok" : "err");
    buf_append(out, line, (size_t)n);
    if (p->aof) {
        n = snprintf(line, sizeof line,
                     "aof_current_size:%llu\r\naof_base_size:%llu\r\naof_pending_rewrite:%d\r\n"
                     "aof_buffer_length:0\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:0\r\n"
                     "aof_fsync_lag_ms:%llu\r\n",
                     st.aof_size, (unsigned long long)as.base_size, p->rewrite_scheduled,
                     (unsigned long long)as.fsync_lag_ms);
        buf_append(out, line, (size_t)n);
    }
    pthread_mutex_unlock(&p->mu);
}
