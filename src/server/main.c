/* main.c - start-up: the command line (--version, --test-config ...),
 * configuration, logging, daemon mode, pidfile and signals; then the
 * server runs until SHUTDOWN, SIGTERM or SIGINT. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "persist/aof.h"
#include "cmd/cmdstats.h"
#include "cmd/command.h"
#include "conf/config.h"
#include "lib/log.h"
#include "server/server.h"
#include "types/types.h"
#include "lib/version.h"

/* What --version reports of the build; the Makefile passes the commit and
 * the flavour's flags (a build without it still compiles). */
#ifndef KASI_GIT_SHA
#define KASI_GIT_SHA "00000000"
#define KASI_GIT_DIRTY 0
#endif
#ifndef KASI_BUILD
#define KASI_BUILD "unknown"
#define KASI_CFLAGS ""
#endif
#if defined(KASI_LUAJIT)
#define KASI_SCRIPTING "luajit-2.1"
#elif defined(KASI_LUA)
#define KASI_SCRIPTING "lua-5.1"
#else
#define KASI_SCRIPTING "none"
#endif

static server *the_server;   /* for the signal handler only */

/* One line, Redis's key=value form ("Redis server v=... sha=...:0 malloc=..."). */
static void print_version(void)
{
    printf("Kasi server v=%s sha=%s:%d redis=%s malloc=libc bits=%d build=%s cflags=\"%s\" "
           "cc=\"%s\" scripting=%s tls=no\n",
           KASI_VERSION, KASI_GIT_SHA, KASI_GIT_DIRTY, KASI_REDIS_VERSION, (int)(sizeof(void *) * 8),
           KASI_BUILD, KASI_CFLAGS, __VERSION__, KASI_SCRIPTING);
}

static void on_signal(int sig)
{
    (void)sig;
    if (the_server) server_stop(the_server);
}

/* Fork into the background. The parent waits until the child reports that
 * it is listening (or failed) through a pipe, and exits accordingly, so a
 * daemonized start-up still fails loudly. Returns the pipe's write end in
 * the child. */
static int daemonize(void)
{
    int p[2];
    pid_t pid;
    char status = 1;
    if (pipe(p) < 0) return -1;
    pid = fork();
    if (pid < 0) return -1;
    if (pid > 0) {
        close(p[1]);
        if (read(p[0], &status, 1) != 1) status = 1;
        _exit(status ? 1 : 0);
    }
    close(p[0]);
    setsid();
    if (fork() > 0) _exit(0);   /* no controlling terminal, ever */
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > 2) close(fd);
    }
    return p[1];
}

static int write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "%d\n", (int)getpid());
    return fclose(f);
}

int main(int argc, char **argv)
{
    static server srv;
    char err[512];
    int exit_now = 0, ready_fd = -1, rc = 0, test_only;
    struct sigaction sa;

    /* Items live in segments, so malloc serves few, large requests: one
     * arena is enough and keeps freed memory reusable by every thread. */
    mallopt(M_ARENA_MAX, 1);
    /* Values of 40 KB and more (past a full segment) get their own mapping, returned to the
     * kernel the moment they are freed (a fixed threshold also stops glibc
     * from raising it after the first free). */
    mallopt(M_MMAP_THRESHOLD, 40 * 1024);
    if (argc >= 3 && (!strcmp(argv[1], "--check-aof") || !strcmp(argv[1], "--check-snapshot"))) {
        int fix = argc >= 4 && !strcmp(argv[2], "--fix");
        if (argc != 3 + fix) {
            fprintf(stderr, "Usage: %s --check-aof [--fix] <file> | --check-snapshot <file>\n",
                    argv[0]);
            return 1;
        }
        return aof_check_file(argv[2 + fix], fix);
    }
    if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))) {
        print_version();
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "--sample-config")) {
        config_sample();
        return 0;
    }
    /* --test-config: the rest of the command line is read as for a start,
     * and checked, but nothing starts */
    test_only = argc > 1 && !strcmp(argv[1], "--test-config");
    if (test_only) {
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    config_init(&srv.cfg);
    rc = config_from_args(&srv.cfg, argc, argv, err, sizeof err, &exit_now);
    if (rc < 0) fprintf(stderr, "kasi-server: %s\nRun '%s --help' for the directives.\n", err, argv[0]);
    else if (test_only) printf("OK\n");
    if (rc < 0 || test_only || exit_now) {
        config_free(&srv.cfg);
        return rc < 0 ? 1 : 0;
    }

    if (srv.cfg.logfile[0]) {
        int e = log_open(srv.cfg.logfile);
        if (e < 0) {
            fprintf(stderr, "kasi-server: can't open the log file '%s': %s\n", srv.cfg.logfile,
                    strerror(-e));
            return 1;
        }
    }
    log_set_level((int)srv.cfg.loglevel);
    if (srv.cfg.daemonize) {
        ready_fd = daemonize();
        if (ready_fd < 0) {
            fprintf(stderr, "kasi-server: can't daemonize: %s\n", strerror(errno));
            return 1;
        }
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGXFSZ, &sa, NULL);   /* past a file size limit, write() fails with EFBIG */

    log_notice("Kasi %s (Redis %s protocol) starting, pid=%d", KASI_VERSION, KASI_REDIS_VERSION,
               (int)getpid());
    command_init();
    cmdstats_init();
    types_init();
    srv.git_sha = KASI_GIT_SHA;
    srv.git_dirty = KASI_GIT_DIRTY;
    if (server_init(&srv) < 0) {
        log_warn("Start-up failed; exiting");
        if (ready_fd >= 0) {
            char bad = 1;
            if (write(ready_fd, &bad, 1) < 0) { /* the parent sees EOF */ }
        }
        return 1;
    }
    if (srv.cfg.pidfile[0] && write_pidfile(srv.cfg.pidfile) < 0)
        log_warn("Could not write pidfile %s: %s", srv.cfg.pidfile, strerror(errno));

    the_server = &srv;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    if (ready_fd >= 0) {
        char ok = 0;
        if (write(ready_fd, &ok, 1) < 0) { /* parent gone */ }
        close(ready_fd);
    }
    server_run(&srv);

    log_notice("Shutting down: %s", atomic_load(&srv.exiting) ? "SHUTDOWN command" : "signal");
    the_server = NULL;
    /* After SHUTDOWN the command already saved (it could still refuse). */
    if (!atomic_load(&srv.exiting) && persist_shutdown(srv.ps, -1, 0) < 0) {
        log_warn("The final snapshot failed: exiting without it");
        rc = 1;
    }
    persist_free(&srv.ps);
    server_cleanup(&srv);
    if (srv.cfg.pidfile[0]) unlink(srv.cfg.pidfile);
    log_notice("Kasi is now ready to exit, bye bye...");
    config_free(&srv.cfg);
    return rc;
}
