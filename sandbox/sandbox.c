/*
 * sandbox/sandbox.c: the lua_State lifecycle, the allow-listed library, per-script
 * environments, and the limits on every call.
 *
 * How each threat is met (numbers refer to ../shared/domain/sandbox.md §2):
 *
 * - Only text chunks load (luaL_loadbufferx mode "t"), `string.dump` is gone,
 *   and the `load` scripts get is a wrapper that refuses anything but a string
 *   of source (#1, #22).
 * - No io, os, debug, package, dofile, loadfile, collectgarbage, rawset,
 *   print; LuaJIT's getfenv/setfenv/newproxy/jit/ffi are never installed.
 * - Shared tables (string, table, math, utf8, coroutine, tm.*) reach scripts
 *   only as read-only proxies; the string metatable is protected with
 *   __metatable; each script has its own environment whose metatable is
 *   protected and whose __newindex refuses the shared names (#2-#8).
 * - Memory: a per-state allocator with a cap (#15-#18). A failed allocation
 *   raises LUA_ERRMEM; our pcall/xpcall/resume see that status and turn it into
 *   a sticky trip, so a script cannot swallow it.
 * - CPU: a count hook installed on the main thread at creation and never
 *   removed (coroutines inherit it, #13) counts instructions and checks the
 *   wall clock. When a limit trips the hook is re-armed to fire on every
 *   instruction and raise again, so pcall cannot swallow it (#12).
 * - Hook blind spots: `setmetatable` refuses __gc (#10); xpcall runs its
 *   handler after unwinding, outside any hook (#11); string.find/match/gmatch/
 *   gsub are our own budgeted matcher whose steps count as instructions and
 *   check the clock (#14); LuaJIT runs with the JIT compiler off so hooks fire
 *   (§3b). `tallyman eval` also runs each script in a supervised child process
 *   that is killed past its deadline (core/supervise.c), the stop from outside
 *   the VM for whatever the in-VM layers miss.
 * - The host never calls user code to format an error: error values that are
 *   not strings or numbers are reported by type (#20).
 */
#include "sandbox.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lcompat.h"
#include "scriptset.h"
#include "text.h"

#include "lpattern.h"
#include "lsurface.h"

#ifdef TM_LUAJIT
#include <luajit.h>
#endif

/* How many VM instructions run between two hook calls. In Lua 5.4 the cost of
 * a count hook does not depend on this (every instruction traps once a hook
 * is set), so it only sets the granularity of the limits. */
#define HOOK_STEP 1000

#define MAX_LIBRARIES 64
#define ERRMSG_MAX 400

enum trip { TRIP_NONE = 0, TRIP_MEM, TRIP_INSTR, TRIP_TIME };

struct tm_sandbox {
    lua_State *L;
    tm_gen *gen;
    tm_limits limits;

    /* Allocator accounting. `mem_cap` is SIZE_MAX outside calls. */
    size_t mem_used, mem_peak, mem_cap;

    /* The budget of the call in progress. `in_call`, `armed` and
     * `call_start_ns` are read by the watchdog thread too. */
    atomic_int in_call;
    atomic_int armed;          /* the count hook is set on the running thread */
    atomic_uint call_seq;      /* increases with every call */
    atomic_llong call_start_ns; /* 0 until someone looked at the clock for this call */
    int deadline_set;          /* `deadline` is known for the call in progress */
    unsigned wd_seen_seq;      /* the watchdog's own notes (only it touches these) */
    int64_t wd_seen_ns;
    lua_State *running;        /* the thread running now; changed under arm_lock */
    atomic_flag arm_lock;
    int registered;            /* on the watchdog's list */
    enum trip tripped;
    char trip_where[300];      /* "file:line" where the call was stopped, "" unknown */
    int co_depth;              /* coroutines resumed inside one another */
    uint64_t instr_used;
    uint64_t instr_limit;
    struct timespec deadline;
    int hook_step;

    tm_sandbox_slot_fn slot_check; /* the host's gate question; NULL outside a step */
    void *slot_ud;
    int trip_msg_ref[4];    /* preallocated error strings, one per trip */
    int base_ref;           /* the hidden table of shared globals */
    int env_mt_ref;         /* metatable shared by every script environment */
    int scripts_ref;        /* cache: relpath -> first result of the script */

    uint64_t calls, limit_hits;

    /* The definition problems of the last call that failed with a problem
     * list (tm_sandbox_problem), each "file:line: message". */
    char **problems;
    size_t nproblems;
    /* The script tm_sandbox_script is loading (its top level), for a
     * problem list that cannot say where it was raised. */
    const tm_script *loading;
};

static struct {
    const char *name;
    tm_lib_opener open;
} libraries[MAX_LIBRARIES], globals[MAX_LIBRARIES];
static int nlibraries, nglobals;

int tm_sandbox_add_global(const char *name, tm_lib_opener push)
{
    for (int i = 0; i < nglobals; i++) {
        if (strcmp(globals[i].name, name) == 0) {
            globals[i].open = push;
            return TM_OK;
        }
    }
    if (nglobals >= MAX_LIBRARIES || !name || !push)
        return TM_EINVAL;
    globals[nglobals].name = name;
    globals[nglobals].open = push;
    nglobals++;
    return TM_OK;
}

int tm_sandbox_add_library(const char *name, tm_lib_opener open)
{
    for (int i = 0; i < nlibraries; i++) {
        if (strcmp(libraries[i].name, name) == 0) {
            libraries[i].open = open;
            return TM_OK;
        }
    }
    if (nlibraries >= MAX_LIBRARIES || !name || !open)
        return TM_EINVAL;
    libraries[nlibraries].name = name;
    libraries[nlibraries].open = open;
    nlibraries++;
    return TM_OK;
}

/* ---------------------------------------------------------------------------
 * Allocator: counts every byte the state holds and refuses growth past the cap.
 * Frees and shrinks always succeed, as Lua requires.
 */
static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    tm_sandbox *sb = ud;
    if (ptr == NULL)
        osize = 0; /* Lua 5.4 passes the object type here, not a size. */
    if (nsize == 0) {
        free(ptr);
        sb->mem_used -= osize;
        return NULL;
    }
    if (nsize > osize && sb->mem_used - osize + nsize > sb->mem_cap) {
        /* Reaching the cap ends the call, even if the script catches the
         * error (pcall, coroutine.resume or close all see the trip) or
         * Lua's emergency collection could have made room: a policy
         * function that needs its whole cap is broken either way. */
        if (sb->in_call && sb->tripped == TRIP_NONE)
            sb->tripped = TRIP_MEM;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p == NULL)
        return NULL;
    sb->mem_used = sb->mem_used - osize + nsize;
    if (sb->mem_used > sb->mem_peak)
        sb->mem_peak = sb->mem_used;
    return p;
}

tm_sandbox *tm_sandbox_from_lua(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

/* ---------------------------------------------------------------------------
 * The watchdog: one thread per process that arms the count hook of calls
 * which have run longer than TM_SANDBOX_ARM_AFTER_MS (see sandbox.h). It
 * calls lua_sethook from another thread, which Lua documents as safe enough
 * to do from a signal handler; the thread it arms (`running`) is read under
 * the sandbox's arm_lock, which the coroutine wrappers take when they switch
 * threads, so it is never a thread that has gone away.
 */
#define WD_TICK_NS 500000L

static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static tm_sandbox **wd_list;
static size_t wd_n, wd_cap;
static int wd_started;
static volatile sig_atomic_t wd_forked;

static void hook(lua_State *L, lua_Debug *ar);

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void arm_lock(tm_sandbox *sb)
{
    while (atomic_flag_test_and_set_explicit(&sb->arm_lock, memory_order_acquire)) {
    }
}

static void arm_unlock(tm_sandbox *sb)
{
    atomic_flag_clear_explicit(&sb->arm_lock, memory_order_release);
}

/* The watchdog never makes a call read the clock: it notes when it first
 * sees a call (by its sequence number) in progress, and arms the hook when
 * it sees the same call still running TM_SANDBOX_ARM_AFTER_MS later, telling
 * the call when it started (at most one tick before it was first seen). */
static void *wd_main(void *arg)
{
    (void)arg;
    const int64_t after = (int64_t)TM_SANDBOX_ARM_AFTER_MS * 1000000LL;
    for (;;) {
        struct timespec ts = {0, WD_TICK_NS};
        nanosleep(&ts, NULL);
        int64_t now = mono_ns();
        pthread_mutex_lock(&wd_lock);
        for (size_t i = 0; i < wd_n; i++) {
            tm_sandbox *sb = wd_list[i];
            if (!atomic_load_explicit(&sb->in_call, memory_order_relaxed) ||
                atomic_load_explicit(&sb->armed, memory_order_relaxed))
                continue;
            unsigned seq = atomic_load_explicit(&sb->call_seq, memory_order_relaxed);
            if (seq != sb->wd_seen_seq) {
                sb->wd_seen_seq = seq;
                sb->wd_seen_ns = now;
                continue;
            }
            if (now - sb->wd_seen_ns < after)
                continue;
            arm_lock(sb);
            if (atomic_load(&sb->in_call) && !atomic_load(&sb->armed) &&
                atomic_load(&sb->call_seq) == seq) {
                if (atomic_load(&sb->call_start_ns) == 0)
                    atomic_store(&sb->call_start_ns, sb->wd_seen_ns - WD_TICK_NS);
                lua_sethook(sb->running, hook, LUA_MASKCOUNT, sb->hook_step);
                atomic_store(&sb->armed, 1);
            }
            arm_unlock(sb);
        }
        pthread_mutex_unlock(&wd_lock);
    }
    return NULL;
}

/* A forked child has no watchdog thread: note it, and start a new one when
 * the child next registers a sandbox. */
static void wd_atfork_child(void)
{
    wd_forked = 1;
}

static void wd_register(tm_sandbox *sb)
{
    pthread_mutex_lock(&wd_lock);
    if (wd_forked) {
        wd_forked = 0;
        wd_started = 0;
    }
    if (!wd_started) {
        static int atfork_done;
        if (!atfork_done) {
            pthread_atfork(NULL, NULL, wd_atfork_child);
            atfork_done = 1;
        }
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        if (pthread_create(&t, &attr, wd_main, NULL) == 0)
            wd_started = 1;
        pthread_attr_destroy(&attr);
    }
    if (wd_n == wd_cap) {
        size_t cap = wd_cap ? wd_cap * 2 : 16;
        tm_sandbox **q = realloc(wd_list, cap * sizeof *q);
        if (q) {
            wd_list = q;
            wd_cap = cap;
        }
    }
    if (wd_n < wd_cap) {
        wd_list[wd_n++] = sb;
        sb->registered = 1;
    }
    pthread_mutex_unlock(&wd_lock);
}

static void wd_unregister(tm_sandbox *sb)
{
    if (!sb->registered)
        return;
    pthread_mutex_lock(&wd_lock);
    for (size_t i = 0; i < wd_n; i++) {
        if (wd_list[i] == sb) {
            wd_list[i] = wd_list[--wd_n];
            break;
        }
    }
    pthread_mutex_unlock(&wd_lock);
}

/* ---------------------------------------------------------------------------
 * Limits.
 */
static int past_deadline(tm_sandbox *sb)
{
    if (!sb->deadline_set) {
        /* The first clock check of this call: take the start the watchdog
         * noted, or now when nobody has looked yet. */
        int64_t start = atomic_load(&sb->call_start_ns);
        if (start == 0) {
            start = mono_ns();
            atomic_store(&sb->call_start_ns, start);
        }
        int64_t end = start + (int64_t)sb->limits.time_ms * 1000000LL;
        sb->deadline.tv_sec = (time_t)(end / 1000000000LL);
        sb->deadline.tv_nsec = (long)(end % 1000000000LL);
        sb->deadline_set = 1;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > sb->deadline.tv_sec ||
           (now.tv_sec == sb->deadline.tv_sec && now.tv_nsec >= sb->deadline.tv_nsec);
}

/* Makes the trip sticky on thread L: the hook now fires on every instruction
 * and raises again, so no pcall in the script can get past it. */
static void arm_sticky(tm_sandbox *sb, lua_State *L)
{
    lua_sethook(L, hook, LUA_MASKCOUNT, 1);
    atomic_store(&sb->armed, 1);
}

/* Notes where the call was stopped: the innermost function with a source
 * line (a C function such as string.rep has none; its caller does). Only
 * the first trip of a call is noted: re-raises happen further out. */
static void note_where(tm_sandbox *sb, lua_State *L)
{
    if (sb->trip_where[0])
        return;
    lua_Debug ar;
    for (int level = 0; level < 64 && lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0)
            continue;
        const char *src = ar.source && ar.source[0] == '@' ? ar.source + 1 : ar.short_src;
        snprintf(sb->trip_where, sizeof sb->trip_where, "%s:%d", src, ar.currentline);
        return;
    }
}

static int raise_trip(tm_sandbox *sb, lua_State *L)
{
    note_where(sb, L);
    arm_sticky(sb, L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->trip_msg_ref[sb->tripped]);
    return lua_error(L);
}

/* Charges `n` units of work to the call and raises if a limit is passed. */
static void charge(tm_sandbox *sb, lua_State *L, uint64_t n)
{
    if (!sb->in_call)
        return;
    if (sb->tripped)
        raise_trip(sb, L);
    sb->instr_used += n;
    if (sb->instr_used > sb->instr_limit)
        sb->tripped = TRIP_INSTR;
    else if (past_deadline(sb))
        sb->tripped = TRIP_TIME;
    if (sb->tripped)
        raise_trip(sb, L);
}

static void hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    tm_sandbox *sb = tm_sandbox_from_lua(L);
    charge(sb, L, (uint64_t)sb->hook_step);
}

static void pattern_tick(lua_State *L, void *ud, unsigned steps)
{
    charge(ud, L, steps);
}

/* After a protected call inside the script returned `status`: a memory error
 * during a call is a trip; a trip is re-raised (the error value is on top). */
static void check_status(tm_sandbox *sb, lua_State *L, int status)
{
    if (status == LUA_ERRMEM && sb->in_call && !sb->tripped)
        sb->tripped = TRIP_MEM;
    if (sb->tripped && sb->in_call)
        raise_trip(sb, L);
}

/* ---------------------------------------------------------------------------
 * Replacement base functions.
 */
#if LUA_VERSION_NUM >= 502
static int pcall_finish(lua_State *L, int status, lua_KContext extra)
{
    tm_sandbox *sb = tm_sandbox_from_lua(L);
    if (status != LUA_OK && status != LUA_YIELD) {
        check_status(sb, L, status);
        lua_pushboolean(L, 0);
        lua_pushvalue(L, -2);
        return 2;
    }
    return lua_gettop(L) - (int)extra;
}
#endif

/* pcall(f, ...): as Lua's, except that a limit cannot be caught. */
static int l_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_pushboolean(L, 1);
    lua_insert(L, 1); /* stack: true f args... */
#if LUA_VERSION_NUM >= 502
    int status = lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, pcall_finish);
    return pcall_finish(L, status, 0);
#else
    int status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
    if (status != LUA_OK) {
        check_status(tm_sandbox_from_lua(L), L, status);
        lua_pushboolean(L, 0);
        lua_pushvalue(L, -2);
        return 2;
    }
    return lua_gettop(L);
#endif
}

/* xpcall(f, handler, ...): the handler runs after the stack has unwound, not
 * at the point of the error: Lua runs message handlers with hooks disabled
 * when the error came from a hook, so a looping handler could never be
 * stopped. Only traceback-style information is lost, which scripts cannot
 * read anyway (no debug library). */
static int l_xpcall(lua_State *L)
{
    tm_sandbox *sb = tm_sandbox_from_lua(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    int n = lua_gettop(L);
    lua_pushvalue(L, 2);             /* the handler, kept for later */
    lua_pushvalue(L, 1);             /* f */
    for (int i = 3; i <= n; i++)
        lua_pushvalue(L, i);         /* args */
    int base = n + 1;                /* index of the saved handler */
    int status = lua_pcall(L, n - 2, LUA_MULTRET, 0);
    if (status == LUA_OK) {
        lua_pushboolean(L, 1);
        lua_replace(L, base);        /* true replaces the saved handler */
        return lua_gettop(L) - base + 1;
    }
    check_status(sb, L, status);
    /* stack: ... handler err */
    status = lua_pcall(L, 1, 1, 0);
    check_status(sb, L, status);
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
}

/* setmetatable(t, mt): refuses __gc, whose finalizers run with hooks off and
 * at unpredictable times (during another call, or at close). */
static int l_setmetatable(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    int t = lua_type(L, 2);
    luaL_argcheck(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table expected");
    if (t == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        lua_rawget(L, 2);
        if (!lua_isnil(L, -1))
            return luaL_error(L, "__gc metamethods are not allowed in scripts");
        lua_pop(L, 1);
        /* A __call that is not a function makes Lua 5.4 retry the call in a C
         * loop that no hook sees (a table whose __call is itself never ends). */
        lua_pushliteral(L, "__call");
        lua_rawget(L, 2);
        if (!lua_isnil(L, -1) && !lua_isfunction(L, -1))
            return luaL_error(L, "__call must be a function");
        lua_pop(L, 1);
    }
    if (lua_getmetatable(L, 1)) {
        lua_pushliteral(L, "__metatable");
        lua_rawget(L, -2);
        if (!lua_isnil(L, -1))
            return luaL_error(L, "cannot change a protected metatable");
        lua_pop(L, 2);
    }
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

#if LUA_VERSION_NUM < 502
/* pairs(t) honouring __pairs, as in 5.2+, so read-only proxies iterate. */
static int l_pairs(lua_State *L)
{
    luaL_checkany(L, 1);
    if (luaL_getmetafield(L, 1, "__pairs")) {
        lua_pushvalue(L, 1);
        lua_call(L, 1, 3);
        return 3;
    }
    lua_getglobal(L, "next");
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}
#endif

/* Gives thread T the call's count hook (on) or none (off). Setting a hook
 * restarts its count, so a thread that already has the right one is left
 * alone: re-setting it on every resume would keep the count from ever
 * running out. */
static void set_thread_hook(tm_sandbox *sb, lua_State *T, int on)
{
    if (on) {
        if (lua_gethook(T) == hook && lua_gethookmask(T) == LUA_MASKCOUNT &&
            lua_gethookcount(T) == sb->hook_step)
            return;
        lua_sethook(T, hook, LUA_MASKCOUNT, sb->hook_step);
    } else if (lua_gethookmask(T) != 0) {
        lua_sethook(T, NULL, 0, 0);
    }
}

/* Coroutines. Each resume goes through here: it sets or clears the count
 * hook of the coroutine to match the call (a coroutine created before the
 * hook was armed would otherwise run unhooked, threat #13), records which
 * thread is running for the watchdog, and re-raises a trip the coroutine hit
 * so resume cannot swallow it. coroutine.wrap is built on the same path. */
static int l_co_create(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    return 1;
}

/* Resumes `co` with the `nargs` values on top of L's stack (popped). Pushes
 * true plus results, or false plus the error value; returns how many. */
static int co_resume(lua_State *L, lua_State *co, int nargs)
{
    tm_sandbox *sb = tm_sandbox_from_lua(L);
    if (sb->tripped && sb->in_call)
        return raise_trip(sb, L);
    /* Each nested resume takes C stack; LuaJIT has no limit of its own. */
    if (sb->co_depth >= 150)
        return luaL_error(L, "C stack overflow (too many nested coroutines)");
    /* A resume is charged like a few instructions and checks the clock:
     * a yield/resume ping-pong runs so few instructions per thread that
     * a count hook alone might never fire. */
    charge(sb, L, 8);
    int base = lua_gettop(L) - nargs;
    lua_pushvalue(L, lua_upvalueindex(1)); /* the stock resume */
    lua_insert(L, base + 1);
    lua_pushthread(co);
    lua_xmove(co, L, 1);
    lua_insert(L, base + 2);               /* stock_resume co args... */
    arm_lock(sb);
    lua_State *prev = sb->running;
    sb->running = co;
    set_thread_hook(sb, co, atomic_load(&sb->armed));
    arm_unlock(sb);
    sb->co_depth++;
    int status = lua_pcall(L, nargs + 1, LUA_MULTRET, 0);
    sb->co_depth--;
    arm_lock(sb);
    sb->running = prev;
    /* The watchdog may have armed the coroutine while it ran; hooks belong
     * to each thread, so carry the hook over to the thread that goes on. */
    if (atomic_load(&sb->armed) && sb->in_call) {
        if (sb->tripped)
            lua_sethook(L, hook, LUA_MASKCOUNT, 1);
        else
            set_thread_hook(sb, L, 1);
    }
    arm_unlock(sb);
    if (status != LUA_OK) {
        check_status(sb, L, status);
        return lua_error(L);
    }
    if (sb->tripped && sb->in_call)
        return raise_trip(sb, L);
    return lua_gettop(L) - base;
}

#if LUA_VERSION_NUM >= 504
/* coroutine.close(co): closing runs the coroutine's pending __close
 * handlers on its own thread, so it gets the hook like a resume does, and a
 * trip inside them is re-raised rather than returned as (false, err). */
static int l_co_close(lua_State *L)
{
    tm_sandbox *sb = tm_sandbox_from_lua(L);
    lua_State *co = lua_tothread(L, 1);
    luaL_argcheck(L, co != NULL, 1, "coroutine expected");
    lua_settop(L, 1);
    if (sb->tripped && sb->in_call)
        return raise_trip(sb, L);
    charge(sb, L, 8);
    arm_lock(sb);
    lua_State *prev = sb->running;
    sb->running = co; /* the __close handlers run on the coroutine's thread */
    set_thread_hook(sb, co, atomic_load(&sb->armed));
    arm_unlock(sb);
    lua_pushvalue(L, lua_upvalueindex(1)); /* the stock close */
    lua_insert(L, 1);
    int status = lua_pcall(L, 1, LUA_MULTRET, 0);
    arm_lock(sb);
    sb->running = prev;
    arm_unlock(sb);
    if (status != LUA_OK) {
        check_status(sb, L, status);
        return lua_error(L);
    }
    if (sb->tripped && sb->in_call)
        return raise_trip(sb, L);
    return lua_gettop(L);
}
#endif

static int l_co_resume(lua_State *L)
{
    lua_State *co = lua_tothread(L, 1);
    luaL_argcheck(L, co != NULL, 1, "coroutine expected");
    return co_resume(L, co, lua_gettop(L) - 1);
}

static int co_wrap_call(lua_State *L)
{
    lua_State *co = lua_tothread(L, lua_upvalueindex(2));
    int n = lua_gettop(L);
    int base = 0;
    /* co_resume expects the stock resume as upvalue 1, as in l_co_resume. */
    int nres = co_resume(L, co, n);
    base = lua_gettop(L) - nres;
    if (!lua_toboolean(L, base + 1)) {
        lua_pushvalue(L, base + 2);
        return lua_error(L); /* propagate the coroutine's error, as wrap does */
    }
    return nres - 1;
}

static int l_co_wrap(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_pushvalue(L, lua_upvalueindex(1)); /* the stock resume */
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushcclosure(L, co_wrap_call, 2);
    return 1;
}

/* load(chunk [, name [, mode [, env]]]): source text only. */
static int l_load(lua_State *L)
{
    tm_sandbox *sb = tm_sandbox_from_lua(L);
    int top = lua_gettop(L);
    if (lua_type(L, 1) != LUA_TSTRING) {
        lua_pushnil(L);
        lua_pushstring(L, "load: only source text (a string) can be loaded");
        return 2;
    }
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    const char *name = luaL_optstring(L, 2, "=(load)");
    const char *mode = luaL_optstring(L, 3, "t");
    if ((len > 0 && s[0] == '\033') || strchr(mode, 't') == NULL) {
        lua_pushnil(L);
        lua_pushstring(L, "load: binary chunks are not allowed");
        return 2;
    }
    int status = luaL_loadbufferx(L, s, len, name, "t");
    if (status != LUA_OK) {
        check_status(sb, L, status);
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (top >= 4) {
#if LUA_VERSION_NUM < 502
        luaL_checktype(L, 4, LUA_TTABLE);
#endif
        lua_pushvalue(L, 4);
    } else {
        lua_pushvalue(L, lua_upvalueindex(1)); /* the caller's environment */
    }
    tm_lua_setfenv(L, -2);
    return 1;
}

/* ---------------------------------------------------------------------------
 * Library functions that loop in C. A count hook never fires inside a C
 * function, so string.rep("", 1e18) or table.move over 1e12 slots would run
 * unstopped. These wrappers charge the work to the call's instruction budget
 * before it starts (so an impossible request trips the limit at once) and
 * then call the stock function.
 */
enum cost_kind { COST_REP, COST_RANGE_2_3, COST_RANGE_MOVE, COST_SORT };

/* The longest string.rep result, on every build: LuaJIT's longest string
 * (5.4's own limit, INT_MAX, is a little higher). */
#define REP_MAX ((uint64_t)0x7fffff00)

/* A number argument as an integer for costing only (the function itself
 * checks it): past the 64-bit range it is clamped, never cast. */
static lua_Integer opt_int(lua_State *L, int i, lua_Integer def)
{
    if (lua_type(L, i) != LUA_TNUMBER)
        return def;
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(L, i))
        return lua_tointeger(L, i);
#endif
    lua_Number x = lua_tonumber(L, i);
    if (!(x > -4e18))
        return x != x ? def : -(lua_Integer)4e18;
    return x < 4e18 ? (lua_Integer)x : (lua_Integer)4e18;
}

/* Refuses a write into a read-only proxy: in LuaJIT the table functions
 * write raw, past __newindex (Lua 5.4 goes through the metamethods). */
static void check_writable(lua_State *L, int i)
{
    if (lua_type(L, i) != LUA_TTABLE || !lua_getmetatable(L, i))
        return;
    lua_pushliteral(L, "__metatable");
    lua_rawget(L, -2);
    int protected = lua_type(L, -1) == LUA_TSTRING;
    lua_pop(L, 2);
    if (protected)
        luaL_error(L, "attempt to modify a read-only table");
}

static int l_charged(lua_State *L)
{
    tm_sandbox *sb = tm_sandbox_from_lua(L);
    int kind = (int)lua_tointeger(L, lua_upvalueindex(2));
    double work = 0;
    switch (kind) {
    case COST_REP: {
        /* Lua 5.4's checks, made here so every build answers alike: LuaJIT
         * reads the count as a 32-bit int, so 2^31 wrapped to a negative
         * count and rep answered "" instead of refusing. */
        size_t l = 0, ls = 0;
        luaL_checklstring(L, 1, &l);
        lua_Integer count = tm_lua_checkinteger(L, 2);
        luaL_optlstring(L, 3, "", &ls);
        if (count <= 0 || l + ls == 0) { /* stock rep would loop n times copying nothing */
            lua_pushliteral(L, "");
            return 1;
        }
        if (l + ls > REP_MAX / (uint64_t)count)
            return luaL_error(L, "resulting string too large");
        double n = (double)count;
        work = n / 64 + n * (double)(l + ls) / 1024; /* about what memcpy costs */
        break;
    }
    case COST_RANGE_2_3: { /* table.concat(t, sep, i, j) / table.unpack(t, i, j) */
        int first = lua_type(L, 2) == LUA_TSTRING ? 3 : 2;
        if (lua_type(L, 1) == LUA_TTABLE) {
            lua_Integer i = opt_int(L, first, 1);
            lua_Integer j = opt_int(L, first + 1, (lua_Integer)tm_lua_rawlen(L, 1));
            work = j >= i ? (double)j - (double)i + 1 : 0;
        }
        break;
    }
    case COST_RANGE_MOVE: { /* table.move(a1, f, e, t [, a2]) */
        /* 5.4's range checks come before the charge, so a move no build
         * would make gets 5.4's error on every build, not a limit. */
        lua_Integer f = tm_lua_checkinteger(L, 2), e = tm_lua_checkinteger(L, 3);
        lua_Integer t = tm_lua_checkinteger(L, 4);
        if (e >= f) {
            luaL_argcheck(L, f > 0 || e < INT64_MAX + f, 3, "too many elements to move");
            luaL_argcheck(L, t <= INT64_MAX - (e - f), 4, "destination wrap around");
            work = (double)e - (double)f + 1;
        }
        check_writable(L, lua_isnoneornil(L, 5) ? 1 : 5);
        break;
    }
    case COST_SORT: {
        check_writable(L, 1);
        double n = lua_type(L, 1) == LUA_TTABLE ? (double)tm_lua_rawlen(L, 1) : 0;
        for (double m = n; m > 1; m /= 2)
            work += n;
        break;
    }
    }
    if (work > 0)
        charge(sb, L, work > 1e18 ? (uint64_t)1e18 : (uint64_t)work);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* Replaces t[name] (t at index `t`) by a charged wrapper of the same. */
static void wrap_charged(lua_State *L, int t, const char *name, int kind)
{
    lua_getfield(L, t, name);
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_pushinteger(L, kind);
    lua_pushcclosure(L, l_charged, 2);
    lua_setfield(L, t, name);
}

#if LUA_VERSION_NUM < 502
/* LuaJIT's table.insert and table.remove write raw: refuse read-only tables. */
static int l_guarded_write(lua_State *L)
{
    check_writable(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

static void wrap_guarded(lua_State *L, int t, const char *name)
{
    lua_getfield(L, t, name);
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    lua_pushcclosure(L, l_guarded_write, 1);
    lua_setfield(L, t, name);
}
#endif

/* ---------------------------------------------------------------------------
 * Read-only proxies.
 */
static int ro_newindex(lua_State *L)
{
    return luaL_error(L, "attempt to modify read-only table '%s'",
                      lua_tostring(L, lua_upvalueindex(1)));
}

static int ro_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)tm_lua_rawlen(L, lua_upvalueindex(1)));
    return 1;
}

static int ro_pairs(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1)); /* next */
    lua_pushvalue(L, lua_upvalueindex(2)); /* the real table */
    lua_pushnil(L);
    return 3;
}

/* Replaces the table at the top of the stack with a read-only proxy of it,
 * named `name` in error messages. The real table stays reachable only from
 * C and through the proxy's reads. */
static void push_readonly(lua_State *L, const char *name)
{
    int real = lua_gettop(L);
    lua_newtable(L);                        /* real proxy */
    lua_createtable(L, 0, 5);               /* real proxy mt */
    lua_pushvalue(L, real);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, name);
    lua_pushcclosure(L, ro_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, real);
    lua_pushcclosure(L, ro_len, 1);
    lua_setfield(L, -2, "__len");
    lua_getglobal(L, "next");
    lua_pushvalue(L, real);
    lua_pushcclosure(L, ro_pairs, 2);
    lua_setfield(L, -2, "__pairs");
    lua_pushliteral(L, "protected");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);                /* real proxy */
    lua_remove(L, real);                    /* proxy */
}

/* __newindex of every script environment: a script may make its own globals
 * but not reassign a shared one (which would only shadow it, and confuse). */
static int env_newindex(lua_State *L)
{
    tm_sandbox *sb = tm_sandbox_from_lua(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->base_ref);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    if (!lua_isnil(L, -1) && lua_type(L, 2) == LUA_TSTRING)
        return luaL_error(L, "attempt to assign to read-only global '%s'", lua_tostring(L, 2));
    lua_pop(L, 2);
    lua_rawset(L, 1);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Environments and require.
 */
static int l_require(lua_State *L);

/* Pushes a new script environment. `cache_idx` is the module cache shared by
 * a script and the modules it requires (0: make a new one). */
static void push_env(tm_sandbox *sb, lua_State *L, int cache_idx)
{
    if (cache_idx == 0) {
        lua_newtable(L);
        cache_idx = lua_gettop(L);
    } else {
        cache_idx = tm_lua_absindex(L, cache_idx);
        lua_pushnil(L); /* keep the stack shape the same in both cases */
    }
    lua_newtable(L); /* env */
    int env = lua_gettop(L);
    lua_pushvalue(L, env);
    lua_setfield(L, env, "_G");
    lua_pushvalue(L, env);
    lua_pushcclosure(L, l_load, 1);
    lua_setfield(L, env, "load");
    lua_pushvalue(L, cache_idx);
    lua_pushcclosure(L, l_require, 1);
    lua_setfield(L, env, "require");
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->env_mt_ref);
    lua_setmetatable(L, env);
    lua_remove(L, env - 1); /* drop the cache (or the placeholder) */
}

/* Maps a dotted module name to a script in the set; NULL when none. */
static const tm_script *find_module(tm_gen *gen, const char *name, char *path, size_t cap)
{
    size_t n = strlen(name);
    if (n == 0 || n > 200 || gen == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || (c == '.' && i > 0 && i + 1 < n && name[i - 1] != '.');
        if (!ok)
            return NULL;
    }
    char rel[256];
    for (size_t i = 0; i <= n; i++)
        rel[i] = name[i] == '.' ? '/' : name[i];
    snprintf(path, cap, "%s.lua", rel);
    const tm_script *s = tm_gen_find(gen, path);
    if (s == NULL) {
        snprintf(path, cap, "%s/init.lua", rel);
        s = tm_gen_find(gen, path);
    }
    return s;
}

/* Pushes the chunk name for a script of the set: "@" and the name messages
 * give it (the file it was read from, or root/path). */
static void push_chunkname(lua_State *L, const tm_script *s)
{
    lua_pushfstring(L, "@%s", s->display);
}

static int l_require(lua_State *L)
{
    tm_sandbox *sb = tm_sandbox_from_lua(L);
    const char *name = luaL_checkstring(L, 1);
    lua_settop(L, 1);
    int cache = lua_upvalueindex(1);
    lua_getfield(L, cache, name);
    if (lua_type(L, -1) == LUA_TLIGHTUSERDATA)
        return luaL_error(L, "loop requiring module '%s'", name);
    if (!lua_isnil(L, -1))
        return 1;
    lua_pop(L, 1);
    char path[300];
    const tm_script *s = find_module(sb->gen, name, path, sizeof path);
    if (s == NULL)
    {
        char shown[96];
        snprintf(shown, sizeof shown, "%.80s%s", name, strlen(name) > 80 ? "..." : "");
        return luaL_error(L, "module '%s' not found in the script tree", shown);
    }
    lua_pushlightuserdata(L, (void *)s);  /* marks "loading" */
    lua_setfield(L, cache, name);
    push_chunkname(L, s);
    const char *chunkname = lua_tostring(L, -1);
    int status = luaL_loadbufferx(L, s->text, s->len, chunkname, "t");
    if (status != LUA_OK) {
        check_status(sb, L, status);
        lua_pushnil(L);
        lua_setfield(L, cache, name);
        return lua_error(L);
    }
    push_env(sb, L, cache);
    tm_lua_setfenv(L, -2);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, cache, name);
    return 1;
}

/* ---------------------------------------------------------------------------
 * State construction.
 */
static void copy_field(lua_State *L, int from, int to, const char *name)
{
    lua_getfield(L, from, name);
    lua_setfield(L, to, name);
}

/* Builds the shared globals table (registry: base_ref) from the stock
 * libraries opened into the real globals. */
static void build_base(tm_sandbox *sb, lua_State *L)
{
    static const char *const safe_base[] = {
        "assert", "error", "ipairs", "next", "pairs", "select", "tonumber", "tostring",
        "type", "getmetatable", "rawequal", "rawget", "rawlen", "_VERSION", NULL};
    lua_pushglobaltable(L);
    int g = lua_gettop(L);
    /* The same functions and argument checks on every build (lsurface.h). */
    tm_surface_align(L, g, pattern_tick, sb);
    lua_newtable(L);
    int base = lua_gettop(L);
    for (int i = 0; safe_base[i]; i++)
        copy_field(L, g, base, safe_base[i]);
#if LUA_VERSION_NUM < 502
    lua_pushcfunction(L, l_pairs);
    lua_setfield(L, base, "pairs");
#endif
    lua_pushcfunction(L, l_pcall);
    lua_setfield(L, base, "pcall");
    lua_pushcfunction(L, l_xpcall);
    lua_setfield(L, base, "xpcall");
    lua_pushcfunction(L, l_setmetatable);
    lua_setfield(L, base, "setmetatable");

    /* string: our budgeted matcher replaces the stock one; no dump. */
    lua_getfield(L, g, "string");
    int str = lua_gettop(L);
    lua_pushnil(L);
    lua_setfield(L, str, "dump");
    tm_pattern_open(L, str, pattern_tick, sb);
    wrap_charged(L, str, "rep", COST_REP);
    lua_getfield(L, g, "table");
    int tab = lua_gettop(L);
#if LUA_VERSION_NUM < 502
    /* LuaJIT keeps unpack as a global; scripts find it where 5.4 has it. */
    lua_getfield(L, g, "unpack");
    lua_setfield(L, tab, "unpack");
    wrap_guarded(L, tab, "insert");
    wrap_guarded(L, tab, "remove");
#endif
    wrap_charged(L, tab, "concat", COST_RANGE_2_3);
    wrap_charged(L, tab, "unpack", COST_RANGE_2_3);
    wrap_charged(L, tab, "move", COST_RANGE_MOVE);
    wrap_charged(L, tab, "sort", COST_SORT);
    lua_pop(L, 1);
    /* The string metatable's __index is the real string table; protect the
     * metatable so getmetatable("") cannot reach it. */
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushliteral(L, "protected");
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    push_readonly(L, "string");
    lua_setfield(L, base, "string");

    static const char *const libs[] = {"table", "math", "utf8", NULL};
    for (int i = 0; libs[i]; i++) {
        lua_getfield(L, g, libs[i]);
        if (lua_istable(L, -1)) {
            push_readonly(L, libs[i]);
            lua_setfield(L, base, libs[i]);
        } else {
            lua_pop(L, 1);
        }
    }

    /* coroutine: create and resume wrapped, the rest as is. */
    lua_getfield(L, g, "coroutine");
    int co = lua_gettop(L);
    lua_newtable(L);
    int nco = lua_gettop(L);
    static const char *const co_keep[] = {"isyieldable", "running", "status", "yield", NULL};
    for (int i = 0; co_keep[i]; i++)
        copy_field(L, co, nco, co_keep[i]);
    lua_pushcfunction(L, l_co_create);
    lua_setfield(L, nco, "create");
    lua_getfield(L, co, "resume");
    lua_pushcclosure(L, l_co_resume, 1);
    lua_setfield(L, nco, "resume");
    lua_getfield(L, co, "resume");
    lua_pushcclosure(L, l_co_wrap, 1);
    lua_setfield(L, nco, "wrap");
#if LUA_VERSION_NUM >= 504
    lua_getfield(L, co, "close");
    lua_pushcclosure(L, l_co_close, 1);
    lua_setfield(L, nco, "close");
#endif
    push_readonly(L, "coroutine");
    lua_setfield(L, base, "coroutine");
    lua_pop(L, 1); /* stock coroutine */

    /* Engine libraries under tm.<name>. */
    lua_newtable(L);
    int tm = lua_gettop(L);
    for (int i = 0; i < nlibraries; i++) {
        lua_pushcfunction(L, libraries[i].open);
        lua_call(L, 0, 1);
        if (lua_istable(L, -1)) {
            char qualified[80];
            snprintf(qualified, sizeof qualified, "tm.%s", libraries[i].name);
            push_readonly(L, qualified);
            lua_setfield(L, tm, libraries[i].name);
        } else if (lua_iscfunction(L, -1)) {
            /* A library may be a single function (tm.score). */
            lua_setfield(L, tm, libraries[i].name);
        } else {
            lua_pop(L, 1);
        }
    }
    push_readonly(L, "tm");
    lua_setfield(L, base, "tm");
    for (int i = 0; i < nglobals; i++) {
        lua_pushcfunction(L, globals[i].open);
        lua_call(L, 0, 1);
        if (lua_istable(L, -1))
            push_readonly(L, globals[i].name);
        lua_setfield(L, base, globals[i].name);
    }

    sb->base_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* pops base */

    /* The metatable of every script environment. */
    lua_createtable(L, 0, 3);
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->base_ref);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, env_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushliteral(L, "protected");
    lua_setfield(L, -2, "__metatable");
    sb->env_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_settop(L, g - 1);
}

static void open_stock(lua_State *L)
{
#if LUA_VERSION_NUM >= 502
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},       {LUA_COLIBNAME, luaopen_coroutine},
                                    {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
                                    {LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8},
                                    {NULL, NULL}};
    for (const luaL_Reg *l = libs; l->func; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
#else
    static const luaL_Reg libs[] = {{"", luaopen_base},
                                    {LUA_TABLIBNAME, luaopen_table},
                                    {LUA_STRLIBNAME, luaopen_string},
                                    {LUA_MATHLIBNAME, luaopen_math},
                                    {NULL, NULL}};
    for (const luaL_Reg *l = libs; l->func; l++) {
        lua_pushcfunction(L, l->func);
        lua_pushstring(L, l->name);
        lua_call(L, 1, 0);
    }
    /* The JIT compiler is off: compiled traces never run hooks, so limits
     * could not be enforced inside them. */
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
#endif
}

static void apply_limits(tm_sandbox *sb, const tm_limits *lim)
{
    sb->limits.mem_bytes = lim && lim->mem_bytes ? lim->mem_bytes : TM_LIMIT_DEFAULT_MEM;
    sb->limits.instructions = lim && lim->instructions ? lim->instructions : TM_LIMIT_DEFAULT_INSTR;
    sb->limits.time_ms = lim && lim->time_ms ? lim->time_ms : TM_LIMIT_DEFAULT_TIME_MS;
    sb->limits.flags = lim ? lim->flags : 0;
    uint64_t step = HOOK_STEP;
    if (sb->limits.instructions < step)
        step = sb->limits.instructions;
    sb->hook_step = (int)step;
}

tm_sandbox *tm_sandbox_new(tm_gen *gen, const tm_limits *limits, struct tm_err *err)
{
    tm_sandbox *sb = calloc(1, sizeof *sb);
    if (sb == NULL) {
        tm_err_set(err, TM_ENOMEM, "out of memory creating a sandbox");
        return NULL;
    }
    sb->mem_cap = SIZE_MAX;
    apply_limits(sb, limits);
    sb->L = lua_newstate(sb_alloc, sb);
    if (sb->L == NULL) {
        free(sb);
        tm_err_set(err, TM_ENOMEM, "out of memory creating a Lua state");
        return NULL;
    }
    lua_State *L = sb->L;
    sb->running = L;
    atomic_flag_clear(&sb->arm_lock);
    open_stock(L);
    static const char *const trip_msgs[] = {"", "memory limit exceeded",
                                            "instruction limit exceeded", "time limit exceeded"};
    for (int i = 0; i < 4; i++) {
        lua_pushstring(L, trip_msgs[i]);
        sb->trip_msg_ref[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    build_base(sb, L);
    lua_newtable(L);
    sb->scripts_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (gen) {
        tm_gen_retain(gen);
        sb->gen = gen;
    }
    lua_gc(L, LUA_GCCOLLECT, 0);
    wd_register(sb);
    return sb;
}

void tm_sandbox_free(tm_sandbox *sb)
{
    if (sb == NULL)
        return;
    wd_unregister(sb);
    sb->mem_cap = SIZE_MAX;
    atomic_store(&sb->in_call, 0);
    lua_close(sb->L);
    tm_gen_release(sb->gen);
    for (size_t i = 0; i < sb->nproblems; i++)
        free(sb->problems[i]);
    free(sb->problems);
    free(sb);
}

size_t tm_sandbox_problem_count(const tm_sandbox *sb) { return sb->nproblems; }

const char *tm_sandbox_problem(const tm_sandbox *sb, size_t i)
{
    return i < sb->nproblems ? sb->problems[i] : NULL;
}

void tm_sandbox_set_limits(tm_sandbox *sb, const tm_limits *limits)
{
    apply_limits(sb, limits);
}

const tm_limits *tm_sandbox_limits(const tm_sandbox *sb) { return &sb->limits; }
const char *tm_sandbox_trip_where(const tm_sandbox *sb) { return sb->trip_where; }
tm_gen *tm_sandbox_gen(const tm_sandbox *sb) { return sb->gen; }
lua_State *tm_sandbox_lua(tm_sandbox *sb) { return sb->L; }

void tm_sandbox_set_slot_check(tm_sandbox *sb, tm_sandbox_slot_fn fn, void *ud)
{
    sb->slot_check = fn;
    sb->slot_ud = fn ? ud : NULL;
}

tm_sandbox_slot_fn tm_sandbox_slot_check(const tm_sandbox *sb, void **ud)
{
    if (ud)
        *ud = sb ? sb->slot_ud : NULL;
    return sb ? sb->slot_check : NULL;
}

void tm_sandbox_stats_get(const tm_sandbox *sb, tm_sandbox_stats *out)
{
    out->mem_used = sb->mem_used;
    out->mem_peak = sb->mem_peak;
    out->calls = sb->calls;
    out->limit_hits = sb->limit_hits;
    out->last_instructions = sb->instr_used;
}

/* ---------------------------------------------------------------------------
 * Calls.
 */
static void begin_call(tm_sandbox *sb)
{
    sb->tripped = TRIP_NONE;
    sb->trip_where[0] = '\0';
    sb->co_depth = 0;
    sb->instr_used = 0;
    sb->instr_limit = sb->limits.instructions;
    /* The memory limit is what the call may add to the state: a long-lived
     * state holds loaded scripts and caches that are not the call's doing.
     * A state that has grown past a whole limit is collected first. */
    if (sb->mem_used > sb->limits.mem_bytes)
        lua_gc(sb->L, LUA_GCCOLLECT, 0);
    sb->mem_cap = sb->mem_used + sb->limits.mem_bytes;
    sb->calls++;
    sb->deadline_set = 0;
    /* Relaxed stores: the watchdog tolerates seeing these a tick late, and a
     * call must not pay for fences (this path is the cost of every call). */
    atomic_store_explicit(&sb->call_start_ns, 0, memory_order_relaxed);
    atomic_store_explicit(&sb->call_seq, sb->calls & 0xffffffffu, memory_order_relaxed);
    atomic_store_explicit(&sb->in_call, 1, memory_order_relaxed);
    if (sb->limits.flags & TM_LIMIT_PRECISE) {
        past_deadline(sb); /* fixes the deadline from now */
        if (!atomic_load_explicit(&sb->armed, memory_order_relaxed)) {
            lua_sethook(sb->L, hook, LUA_MASKCOUNT, sb->hook_step);
            atomic_store_explicit(&sb->armed, 1, memory_order_relaxed);
        }
    }
}

/* Ends a call: lifts the cap, takes the hook off, and after a trip collects
 * the garbage the call left so the next call starts clean. */
static void end_call(tm_sandbox *sb)
{
    enum trip t = sb->tripped;
    atomic_store_explicit(&sb->in_call, 0, memory_order_relaxed);
    sb->mem_cap = SIZE_MAX;
    if (atomic_load_explicit(&sb->armed, memory_order_relaxed)) {
        /* The watchdog may arm again just after this; the hook then does
         * nothing until the next call, which disarms it at its end. */
        lua_sethook(sb->L, NULL, 0, 0);
        atomic_store_explicit(&sb->armed, 0, memory_order_relaxed);
    }
    if (t != TRIP_NONE) {
        sb->limit_hits++;
        lua_gc(sb->L, LUA_GCCOLLECT, 0);
        malloc_trim(0);
    }
}

/* ---------------------------------------------------------------------------
 * Problem lists. A script library that checks a definition (a journey, a
 * template) reports every problem it finds at once by raising
 *   { tm_problems = { { msg = "...", path = { "states", "collect", "afterr" } }, ... },
 *     where = "file:line:" }
 * where `where` is the line of the definition (the call of journey { ... })
 * and each path names the field a problem is about. The field's own line is
 * then found in the script's text (tm_text_key_line, each key of the path at
 * or after the line of the one before), so every problem is told at its own
 * line. At most MAX_PROBLEMS are kept.
 */
#define MAX_PROBLEMS 64
#define MAX_PROBLEM_PATH 8

typedef struct raw_problem {
    char *msg;
    char *path[MAX_PROBLEM_PATH];
    int npath;
} raw_problem;

typedef struct problem_read {
    raw_problem list[MAX_PROBLEMS];
    int n;
    char where[600];
} problem_read;

static char *copy_lua_string(lua_State *L, int idx, size_t max)
{
    size_t len;
    const char *str = lua_tolstring(L, idx, &len);
    if (str == NULL)
        return NULL;
    if (len > max)
        len = max;
    char *c = malloc(len + 1);
    if (c) {
        memcpy(c, str, len);
        c[len] = '\0';
        for (size_t i = 0; i < len; i++) /* one line each */
            if (c[i] == '\n' || c[i] == '\r' || c[i] == '\t')
                c[i] = ' ';
    }
    return c;
}

/* Protected: reads the problem list at index 1 into the problem_read at 2
 * (raw access only: no script code runs). Returns 1 value: whether it is one. */
static int read_problems(lua_State *L)
{
    problem_read *pr = lua_touserdata(L, 2);
    lua_pushliteral(L, "tm_problems");
    lua_rawget(L, 1);
    if (!lua_istable(L, -1)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    int list = lua_gettop(L);
    lua_pushliteral(L, "where");
    lua_rawget(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING)
        snprintf(pr->where, sizeof pr->where, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    int n = (int)tm_lua_rawlen(L, list);
    for (int i = 1; i <= n && pr->n < MAX_PROBLEMS; i++) {
        lua_rawgeti(L, list, i);
        if (lua_istable(L, -1)) {
            int e = lua_gettop(L);
            lua_pushliteral(L, "msg");
            lua_rawget(L, e);
            raw_problem *rp = &pr->list[pr->n];
            if (lua_type(L, -1) == LUA_TSTRING && (rp->msg = copy_lua_string(L, -1, ERRMSG_MAX))) {
                pr->n++;
                lua_pushliteral(L, "path");
                lua_rawget(L, e);
                if (lua_istable(L, -1)) {
                    int k = (int)tm_lua_rawlen(L, -1);
                    for (int j = 1; j <= k && rp->npath < MAX_PROBLEM_PATH; j++) {
                        lua_rawgeti(L, -1, j);
                        if (lua_type(L, -1) == LUA_TSTRING &&
                            (rp->path[rp->npath] = copy_lua_string(L, -1, 64)))
                            rp->npath++;
                        lua_pop(L, 1);
                    }
                }
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static void problems_clear(tm_sandbox *sb)
{
    for (size_t i = 0; i < sb->nproblems; i++)
        free(sb->problems[i]);
    free(sb->problems);
    sb->problems = NULL;
    sb->nproblems = 0;
}

/* The script of the set whose display name is `name`, or NULL. */
static const tm_script *script_named(tm_gen *gen, const char *name, size_t len)
{
    for (size_t i = 0; gen && i < tm_gen_count(gen); i++) {
        const tm_script *s = tm_gen_script(gen, i);
        if (strlen(s->display) == len && memcmp(s->display, name, len) == 0)
            return s;
    }
    return NULL;
}

/* Makes sb->problems from a problem list read; sets `err` to the first and
 * how many more there are. Returns 1 when there was at least one. */
static int problems_take(tm_sandbox *sb, problem_read *pr, int code, struct tm_err *err)
{
    problems_clear(sb);
    /* "file:line:" -> the script and the definition's line. */
    const char *w = pr->where;
    size_t wl = strlen(w);
    while (wl > 0 && (w[wl - 1] == ' ' || w[wl - 1] == ':'))
        wl--;
    size_t colon = wl;
    while (colon > 0 && w[colon - 1] >= '0' && w[colon - 1] <= '9')
        colon--;
    int line = colon < wl && colon > 0 && w[colon - 1] == ':' ? atoi(w + colon) : 0;
    size_t namelen = line ? colon - 1 : wl;
    const tm_script *s = script_named(sb->gen, w, namelen);
    if (s == NULL && sb->loading) {
        /* Raised where no line is known (a definition returned by a tail
         * call): the script being run, each field looked up from its top. */
        s = sb->loading;
        w = s->display;
        namelen = strlen(w);
        line = 0;
    }
    if (pr->n > 0)
        sb->problems = calloc((size_t)pr->n, sizeof *sb->problems);
    for (int i = 0; sb->problems && i < pr->n; i++) {
        raw_problem *rp = &pr->list[i];
        int at = line;
        for (int k = 0; s && k < rp->npath; k++) {
            int l = tm_text_key_line(s->text, s->len, at > 0 ? at : 1, rp->path[k]);
            if (l == 0)
                break;
            at = l;
        }
        char buf[ERRMSG_MAX + 700];
        if (namelen && at)
            snprintf(buf, sizeof buf, "%.*s:%d: %s", (int)namelen, w, at, rp->msg);
        else if (namelen)
            snprintf(buf, sizeof buf, "%.*s: %s", (int)namelen, w, rp->msg);
        else
            snprintf(buf, sizeof buf, "%s", rp->msg);
        if ((sb->problems[sb->nproblems] = strdup(buf)) != NULL)
            sb->nproblems++;
    }
    for (int i = 0; i < pr->n; i++) {
        free(pr->list[i].msg);
        for (int k = 0; k < pr->list[i].npath; k++)
            free(pr->list[i].path[k]);
    }
    if (sb->nproblems == 0)
        return 0;
    if (sb->nproblems == 1)
        tm_err_set(err, code, "%s", sb->problems[0]);
    else
        tm_err_set(err, code, "%s (and %zu more problem%s)", sb->problems[0], sb->nproblems - 1,
                   sb->nproblems == 2 ? "" : "s");
    return 1;
}

/* Copies the error value at the top into `err` as one line, and pops it. */
static int take_error(tm_sandbox *sb, lua_State *L, int status, struct tm_err *err)
{
    problems_clear(sb); /* the list is this failure's or none */
    static const int trip_codes[] = {TM_ESCRIPT, TM_ELIMIT_MEM, TM_ELIMIT_INSTR, TM_ELIMIT_TIME};
    if (status == LUA_ERRMEM && !sb->tripped)
        sb->tripped = TRIP_MEM;
    if (sb->tripped) {
        lua_pop(L, 1);
        lua_rawgeti(L, LUA_REGISTRYINDEX, sb->trip_msg_ref[sb->tripped]);
        tm_err_set(err, trip_codes[sb->tripped], "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return trip_codes[sb->tripped];
    }
    int code = status == LUA_ERRSYNTAX ? TM_ESYNTAX : TM_ESCRIPT;
    int t = lua_type(L, -1);
    if (t == LUA_TSTRING || t == LUA_TNUMBER) {
        size_t len;
        const char *m = lua_tolstring(L, -1, &len);
        if (err) {
            size_t n = len < ERRMSG_MAX ? len : ERRMSG_MAX;
            size_t j = 0;
            for (size_t i = 0; i < n && j + 1 < sizeof err->msg; i++) {
                unsigned char c = (unsigned char)m[i];
                err->msg[j++] = (c == '\n' || c == '\r' || c == '\t') ? ' ' : (char)c;
            }
            err->msg[j] = '\0';
            if (len > n && j + 4 < sizeof err->msg)
                strcpy(err->msg + j, "...");
            err->code = code;
        }
    } else {
        int listed = 0;
        if (t == LUA_TTABLE) {
            problem_read *pr = calloc(1, sizeof *pr);
            if (pr) {
                lua_pushcfunction(L, read_problems);
                lua_pushvalue(L, -2);
                lua_pushlightuserdata(L, pr);
                if (lua_pcall(L, 2, 1, 0) == LUA_OK && lua_toboolean(L, -1))
                    listed = problems_take(sb, pr, code, err);
                else
                    problems_take(sb, pr, code, NULL); /* frees what was read */
                lua_pop(L, 1);
                free(pr);
            }
        }
        if (!listed)
            tm_err_set(err, code, "error object is a %s value", lua_typename(L, t));
    }
    lua_pop(L, 1);
    return code;
}

int tm_sandbox_pcall(tm_sandbox *sb, int nargs, int nres, struct tm_err *err)
{
    lua_State *L = sb->L;
    int outer = sb->in_call;
    if (!outer)
        begin_call(sb);
    int base = lua_gettop(L) - nargs - 1;
    int status = lua_pcall(L, nargs, nres, 0);
    int rc = TM_OK;
    if (status != LUA_OK) {
        rc = take_error(sb, L, status, err);
    } else if (sb->tripped && !outer) {
        /* The script caught the trip somewhere we could not re-raise it;
         * the call still fails. */
        lua_settop(L, base);
        lua_pushnil(L);
        rc = take_error(sb, L, LUA_ERRRUN, err);
    }
    if (!outer)
        end_call(sb);
    return rc;
}

/* Checks that `src` is loadable text, and compiles it as `chunkname`. On
 * success pushes the function; on failure pushes nothing and fills err. */
static int compile(tm_sandbox *sb, const char *name, const char *chunkname, const char *src,
                   size_t len, struct tm_err *err)
{
    lua_State *L = sb->L;
    if (len > 0 && src[0] == '\033')
        return tm_err_set(err, TM_ESYNTAX, "%s: binary chunks are not allowed", name);
    size_t bad;
    if (!tm_utf8_valid(src, len, &bad))
        return tm_err_set(err, TM_EENCODING, "%s:%d: the file is not valid UTF-8 (byte %zu)", name,
                          tm_text_line_of(src, len, bad), bad + 1);
    /* A UTF-8 byte-order mark is not Lua; a first line starting with '#'
     * (a shebang) is skipped as the standalone interpreter does, keeping its
     * newline so line numbers stay right. */
    if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0)
        src += 3, len -= 3;
    if (len > 0 && src[0] == '#') {
        while (len > 0 && src[0] != '\n')
            src++, len--;
    }
    int outer = sb->in_call;
    if (!outer)
        begin_call(sb);
    int status = luaL_loadbufferx(L, src, len, chunkname, "t");
    int rc = TM_OK;
    if (status != LUA_OK)
        rc = take_error(sb, L, status, err);
    if (!outer)
        end_call(sb);
    return rc;
}

int tm_sandbox_run(tm_sandbox *sb, const char *name, const char *src, size_t len, int *nres,
                   struct tm_err *err)
{
    return tm_sandbox_run_with(sb, name, src, len, 0, nres, err);
}

int tm_sandbox_run_with(tm_sandbox *sb, const char *name, const char *src, size_t len, int extra,
                        int *nres, struct tm_err *err)
{
    lua_State *L = sb->L;
    if (extra)
        extra = tm_lua_absindex(L, extra);
    int base = lua_gettop(L);
    lua_pushfstring(L, "@%s", name);
    int rc = compile(sb, name, lua_tostring(L, -1), src, len, err);
    lua_remove(L, base + 1);
    if (rc != TM_OK)
        return rc;
    push_env(sb, L, 0);
    if (extra && lua_istable(L, extra)) {
        lua_pushnil(L);
        while (lua_next(L, extra)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, -4); /* env[k] = v */
        }
    }
    tm_lua_setfenv(L, -2);
    rc = tm_sandbox_pcall(sb, 0, LUA_MULTRET, err);
    if (rc == TM_OK && nres)
        *nres = lua_gettop(L) - base;
    if (rc != TM_OK)
        lua_settop(L, base);
    return rc;
}

int tm_sandbox_script(tm_sandbox *sb, const char *relpath, struct tm_err *err)
{
    lua_State *L = sb->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->scripts_ref);
    lua_getfield(L, -1, relpath);
    if (!lua_isnil(L, -1)) {
        lua_remove(L, -2);
        return TM_OK;
    }
    lua_pop(L, 2);
    const tm_script *s = sb->gen ? tm_gen_find(sb->gen, relpath) : NULL;
    if (s == NULL)
        return tm_err_set(err, TM_ENOENT, "no script '%s' in the script set", relpath);
    int base = lua_gettop(L);
    push_chunkname(L, s);
    const char *chunkname = lua_tostring(L, -1);
    int rc = compile(sb, chunkname + 1, chunkname, s->text, s->len, err);
    lua_remove(L, base + 1);
    if (rc != TM_OK)
        return rc;
    push_env(sb, L, 0);
    tm_lua_setfenv(L, -2);
    const tm_script *outer = sb->loading;
    sb->loading = s;
    rc = tm_sandbox_pcall(sb, 0, 1, err);
    sb->loading = outer;
    if (rc != TM_OK)
        return rc;
    lua_rawgeti(L, LUA_REGISTRYINDEX, sb->scripts_ref);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, relpath);
    lua_pop(L, 1);
    return TM_OK;
}

const char *tm_sandbox_lua_version(void)
{
#ifdef TM_LUAJIT
    return LUAJIT_VERSION " (JIT compiler off inside the sandbox)";
#else
    return LUA_RELEASE;
#endif
}

int tm_sandbox_script_check(tm_sandbox *sb, const char *relpath, struct tm_err *err)
{
    int rc = tm_sandbox_script(sb, relpath, err);
    if (rc == TM_OK)
        lua_pop(sb->L, 1);
    return rc;
}
