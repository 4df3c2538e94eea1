/* scripting.h - what EVAL's commands (scripting.c) and FUNCTION's
 * (functions.c) share: the Lua states, running a script or a function
 * with Redis's checks, and stopping one. */
#ifndef KASI_CMD_SCRIPTING_H
#define KASI_CMD_SCRIPTING_H

#include "cmd/command.h"
#include "script/script.h"

/* The row flags of what runs a script (EVAL, EVALSHA, FCALL and their _RO
 * forms, which add CMD_READONLY): Redis's, and the exclusive section. */
#define SCRIPTING_RUN_FLAGS \
    (CMD_NOSCRIPT | CMD_STALE | CMD_SKIP_MONITOR | CMD_NO_MANDATORY_KEYS | CMD_EXCLUSIVE)

/* EVAL's state (functions 0) or FUNCTION's, made on first use; NULL (and
 * the error replied) when Kasi was built without Lua. */
script_vm *scripting_vm(cmd_call *x, int functions);
/* The same, or NULL when not made yet (any thread). */
script_vm *scripting_vm_if_made(int functions);
/* argv[2] as the number of keys, with Redis's texts (not_int when it is
 * no integer); -1 after replying. */
int scripting_numkeys(cmd_call *x, int *n, const char *not_int);
/* Run the script of SHA-1 sha (any case; NOSCRIPT when it is not kept) or
 * the function fn for x, whose keys start at argv[3], with its flags'
 * checks first. */
void scripting_run(cmd_call *x, const char *sha, int is_ro, int nkeys, const script_fn *fn);
/* SCRIPT KILL (functions 0) or FUNCTION KILL. */
void scripting_kill(cmd_call *x, int functions);
/* FUNCTION STATS's running_script: the function running, or null. */
void scripting_running(cmd_call *x);

#endif
