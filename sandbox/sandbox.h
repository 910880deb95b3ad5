/*
 * sandbox/sandbox.h: the Lua boundary. Every call from the engine into a policy
 * script goes through this module.
 *
 * A tm_sandbox owns one lua_State, used by one thread at a time (one sandbox per
 * worker thread). The state holds only an allow-listed standard library
 * (string, table, math, utf8, coroutine and safe base functions), read-only
 * shared tables, and the engine libraries registered with
 * tm_sandbox_add_library(). Each script runs in its own environment. Every call
 * runs under three limits (memory, VM instructions, wall time); hitting one is
 * an error for that call only, which the script cannot catch with pcall.
 *
 * The design and the threats it answers are described in strategies.md
 * ("What the sandbox allows") and ../shared/domain/sandbox.md.
 */
#ifndef TM_SANDBOX_H
#define TM_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

struct lua_State;
typedef struct tm_sandbox tm_sandbox;
typedef struct tm_gen tm_gen; /* a loaded script set: see scriptset.h */

/* Per-call limits. A zero field means "the default" (TM_LIMIT_DEFAULT_*).
 *
 * Instruction counting needs a count hook, and in Lua 5.4 any count hook
 * makes every instruction trap, which would double the cost of a small rule
 * function. So by default a call starts without the hook, and a watchdog
 * thread arms it once the call has run for TM_SANDBOX_ARM_AFTER_MS; from then
 * on instructions are counted and the clock checked. Memory is capped from
 * the first allocation and pattern matching is budgeted from the first step
 * either way. TM_LIMIT_PRECISE arms the hook at the start instead, so the
 * instruction limit counts every instruction (`tallyman eval` uses it). */
typedef struct tm_limits {
    size_t mem_bytes;      /* what a call may allocate on top of what the state held before */
    uint64_t instructions; /* VM instructions per call; pattern-matching steps count too */
    uint32_t time_ms;      /* wall-clock time per call */
    unsigned flags;        /* TM_LIMIT_PRECISE */
} tm_limits;

#define TM_LIMIT_PRECISE 1u
#define TM_SANDBOX_ARM_AFTER_MS 1

#define TM_LIMIT_DEFAULT_MEM ((size_t)64 << 20)
#define TM_LIMIT_DEFAULT_INSTR ((uint64_t)100000000)
#define TM_LIMIT_DEFAULT_TIME_MS 2000u

/* An engine library: pushes one table (its functions) onto the stack and
 * returns 1, in the luaopen_ style. Installed read-only as tm.<name>. It may
 * push a single C function instead (tm.score), installed as it is. */
typedef int (*tm_lib_opener)(struct lua_State *L);

/* Registers an engine library for every sandbox created afterwards. Call at
 * start-up, before any sandbox exists (not thread-safe). Up to 64 libraries;
 * `name` must be a static string. Returns TM_OK or TM_EINVAL when full. */
int tm_sandbox_add_library(const char *name, tm_lib_opener open);

/* Registers a shared global for every sandbox created afterwards (the DSL
 * functions: `regulation`, `block`, ...). `push` pushes one value and
 * returns 1. Same rules as tm_sandbox_add_library. */
int tm_sandbox_add_global(const char *name, tm_lib_opener push);

/* Creates a sandbox. `gen` (may be NULL: then `require` finds nothing) is the
 * script set that `require` and tm_sandbox_script() read; the sandbox takes a
 * reference on it and drops it in tm_sandbox_free(). `limits` may be NULL
 * (defaults). Returns NULL with `err` filled on failure (out of memory).
 * The caller owns the sandbox and frees it with tm_sandbox_free(). */
tm_sandbox *tm_sandbox_new(tm_gen *gen, const tm_limits *limits, struct tm_err *err);

/* Frees the sandbox and its lua_State. NULL is a no-op. */
void tm_sandbox_free(tm_sandbox *sb);

/* Sets the limits for later calls (NULL or zero fields: defaults). */
void tm_sandbox_set_limits(tm_sandbox *sb, const tm_limits *limits);

/* The limits in force (never NULL; borrowed). */
const tm_limits *tm_sandbox_limits(const tm_sandbox *sb);

/* The script set this sandbox was built from (borrowed; may be NULL). */
tm_gen *tm_sandbox_gen(const tm_sandbox *sb);

/* Whether a contact would be allowed now: the host's question to the
 * compliance gate for the debt being worked (core/contact_model.h,
 * tm_cm_check_fn: 1 allowed, 0 refused with the next allowed time, < 0 an
 * error). The host sets it (fn NULL: clears) around a journey step, on the
 * thread that runs the step; `ud` must outlive its use. tm.contact.best_slot
 * asks it so the slot it returns is one the gate allows. */
typedef int (*tm_sandbox_slot_fn)(void *ud, const char *channel, int64_t at, int64_t *next_allowed,
                                  char *why, size_t whycap);
void tm_sandbox_set_slot_check(tm_sandbox *sb, tm_sandbox_slot_fn fn, void *ud);
/* The check set by tm_sandbox_set_slot_check (NULL when none) and its ud. */
tm_sandbox_slot_fn tm_sandbox_slot_check(const tm_sandbox *sb, void **ud);

/* The lua_State, for binding code in sandbox/ only. Borrowed. Code that uses
 * it must enter Lua only through tm_sandbox_pcall(). */
struct lua_State *tm_sandbox_lua(tm_sandbox *sb);

/* The sandbox that owns `L` (any thread of it). For bindings. */
tm_sandbox *tm_sandbox_from_lua(struct lua_State *L);

/* Compiles `src` (text only: a binary chunk, text that is not UTF-8, or a
 * syntax error is refused) as the chunk `name` (shown in errors as
 * "name:line: message"), in a new environment, and runs it under the limits.
 * On TM_OK the chunk's results are on the Lua stack and *nres says how many
 * (the caller pops them). On failure nothing is left on the stack and `err`
 * holds a one-line message; the code is TM_ESYNTAX, TM_EENCODING,
 * TM_ESCRIPT, or TM_ELIMIT_MEM / TM_ELIMIT_INSTR / TM_ELIMIT_TIME (then the
 * message is just the limit's name, e.g. "memory limit exceeded"). */
int tm_sandbox_run(tm_sandbox *sb, const char *name, const char *src, size_t len, int *nres,
                   struct tm_err *err);

/* Like tm_sandbox_run, but the new environment also gets every field of
 * the table at stack index `extra` (for spec files: describe, it, ...). */
int tm_sandbox_run_with(tm_sandbox *sb, const char *name, const char *src, size_t len, int extra,
                        int *nres, struct tm_err *err);

/* Loads the script at `relpath` (relative to the script set's root, e.g.
 * "regulations/federal.lua") once per sandbox, in its own environment, and
 * pushes its first return value (nil when it returns nothing). Later calls
 * push the cached value. Errors as for tm_sandbox_run (TM_ENOENT when the set
 * has no such script); nothing is pushed on failure. */
int tm_sandbox_script(tm_sandbox *sb, const char *relpath, struct tm_err *err);

/* As tm_sandbox_script, leaving nothing on the stack: whether the script at
 * `relpath` loads (for lint). */
int tm_sandbox_script_check(tm_sandbox *sb, const char *relpath, struct tm_err *err);

/* Calls the function below `nargs` arguments on the stack, like lua_pcall,
 * under the limits, leaving `nres` results (LUA_MULTRET allowed) on success.
 * On failure the function and arguments are popped, nothing is pushed, and
 * `err` holds the message and code as for tm_sandbox_run. The state stays
 * usable after any failure. */
int tm_sandbox_pcall(tm_sandbox *sb, int nargs, int nres, struct tm_err *err);

/* Where the last call that ended on a limit was stopped, as "file:line"
 * (the script and line running when the limit tripped; for a memory limit,
 * the line that called the pcall or coroutine that ran out, when there was
 * one), or "" when not known or when the last call hit no limit. The limit
 * errors themselves stay just the limit's name (tallyman eval's contract);
 * callers that can name a script add this. Borrowed, valid until the next
 * call. */
const char *tm_sandbox_trip_where(const tm_sandbox *sb);

/* Definition problems. A script library that checks a definition (journey
 * { ... }, template { ... }) raises every problem it finds at once, as
 *   { tm_problems = { { msg = "...", path = { "states", "collect" } }, ... },
 *     where = "file:line:" }
 * (`where`: the definition's line; `path`: the field the problem is about).
 * A call that fails so gives its first problem in `err` (with how many more
 * there are), and each one, told at the line where its field is written in
 * the script (tm_text_key_line along the path), through these: the count,
 * and the i-th as "file:line: message" (NULL out of range). When `where`
 * names no script (raised after a tail call), the script tm_sandbox_script
 * is running is meant, and each field is looked up from its top. They stay
 * until the next call that fails (which clears them when it raised no such
 * list), so a count above 0 right after a failure is that failure's. At
 * most 64 are kept. */
size_t tm_sandbox_problem_count(const tm_sandbox *sb);
const char *tm_sandbox_problem(const tm_sandbox *sb, size_t i);

/* Usage figures, for benchmarks and tests. */
typedef struct tm_sandbox_stats {
    size_t mem_used;        /* bytes the state holds now */
    size_t mem_peak;        /* the most it ever held */
    uint64_t calls;         /* calls made through the sandbox */
    uint64_t limit_hits;    /* calls that ended on a limit */
    uint64_t last_instructions; /* instructions (approximate) the last call used */
} tm_sandbox_stats;

void tm_sandbox_stats_get(const tm_sandbox *sb, tm_sandbox_stats *out);

/* Runs `src` like tm_sandbox_run and writes each result as one JSON line
 * into a new buffer (*out, *outlen; caller frees with free()). A result that
 * cannot be written as JSON (a function, a cyclic table, NaN, text that is not
 * UTF-8, nesting deeper than 100) is TM_ECONVERT with a message naming it.
 * Used by `tallyman eval`. */
int tm_sandbox_eval_json(tm_sandbox *sb, const char *name, const char *src, size_t len,
                         char **out, size_t *outlen, struct tm_err *err);

/* Like tm_sandbox_eval_json, but a result that is a string is written as it
 * is (no quotes, no escapes) followed by a newline: for scripts that produce
 * text such as CSV. Other results are still JSON. */
int tm_sandbox_eval_raw(tm_sandbox *sb, const char *name, const char *src, size_t len, char **out,
                        size_t *outlen, struct tm_err *err);

/* The Lua implementation the sandbox was built with, e.g. "Lua 5.4". Static. */
const char *tm_sandbox_lua_version(void);

#endif
