/*
 * bench/bench_sandbox.c: what the sandbox costs. Prints figures; asserts nothing.
 *
 *  1. One sandboxed call of a small rule function from C (tm_sandbox_pcall:
 *     limits armed, count hook, protected call) against a bare lua_State
 *     calling the same function with lua_pcall.
 *  2. Building a generation of 100 scripts and loading them all into a sandbox.
 *  3. Reload latency while a worker thread runs a call loop.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lcompat.h"
#ifdef TM_LUAJIT
#include <luajit.h>
#endif
#include "sandbox.h"
#include "scriptset.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char rule_src[] =
    "return function(c)\n"
    "  if c.channel == 'call' and (c.hour < 8 or c.hour >= 21) then return false, 'inconvenient time' end\n"
    "  if c.attempts >= 7 then return false, 'seven calls in seven days' end\n"
    "  return true\n"
    "end\n";

static void push_request(lua_State *L)
{
    lua_createtable(L, 0, 3);
    lua_pushstring(L, "call");
    lua_setfield(L, -2, "channel");
    lua_pushinteger(L, 14);
    lua_setfield(L, -2, "hour");
    lua_pushinteger(L, 3);
    lua_setfield(L, -2, "attempts");
}

static double bench_bare(long n, int jit_off)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
#ifdef TM_LUAJIT
    if (jit_off)
        luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
#else
    (void)jit_off;
#endif
    if (luaL_loadstring(L, rule_src) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK)
        return -1;
    int fn = lua_gettop(L);
    push_request(L);
    int req = lua_gettop(L);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        lua_pushvalue(L, fn);
        lua_pushvalue(L, req);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK)
            return -1;
        lua_pop(L, 1);
    }
    double dt = now_s() - t0;
    lua_close(L);
    return dt / (double)n * 1e9;
}

static double bench_sandboxed(long n)
{
    struct tm_err e = {0};
    tm_sandbox *sb = tm_sandbox_new(NULL, NULL, &e);
    lua_State *L = tm_sandbox_lua(sb);
    int nres = 0;
    if (tm_sandbox_run(sb, "rule.lua", rule_src, strlen(rule_src), &nres, &e) != TM_OK)
        return -1;
    int fn = lua_gettop(L);
    push_request(L);
    int req = lua_gettop(L);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        lua_pushvalue(L, fn);
        lua_pushvalue(L, req);
        if (tm_sandbox_pcall(sb, 1, 1, &e) != TM_OK)
            return -1;
        lua_pop(L, 1);
    }
    double dt = now_s() - t0;
    tm_sandbox_free(sb);
    return dt / (double)n * 1e9;
}

static char dir[256];

static void write_scripts(int count, int version)
{
    mkdir(dir, 0755);
    for (int i = 0; i < count; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/rule%03d.lua", dir, i);
        FILE *f = fopen(path, "w");
        if (!f)
            continue;
        fprintf(f,
                "-- generated rule %d, version %d\n"
                "local M = { id = 'rule-%d', cite = '12 CFR 1006.14(b)(2)' }\n"
                "local limits = { call = 7, sms = 10, email = 20 }\n"
                "function M.check(c)\n"
                "  local cap = limits[c.channel] or 5\n"
                "  if (c.attempts or 0) >= cap then return false, 'cap of ' .. cap .. ' reached' end\n"
                "  for _, f in ipairs(c.flags or {}) do if f == 'cease' then return false, 'cease' end end\n"
                "  return true\n"
                "end\n"
                "return M\n",
                i, version, i);
        fclose(f);
    }
}

static tm_host *host;
static atomic_int stop;
static atomic_ullong calls_done;

static void *call_loop(void *arg)
{
    (void)arg;
    tm_sandbox *sb = NULL;
    struct tm_err e = {0};
    while (!atomic_load(&stop)) {
        if (tm_host_sandbox(host, &sb, NULL, &e) != TM_OK)
            break;
        if (tm_sandbox_script(sb, "rule000.lua", &e) != TM_OK)
            break;
        lua_State *L = tm_sandbox_lua(sb);
        lua_getfield(L, -1, "check");
        push_request(L);
        if (tm_sandbox_pcall(sb, 1, 1, &e) != TM_OK)
            break;
        lua_pop(L, 2);
        atomic_fetch_add(&calls_done, 1);
    }
    tm_sandbox_free(sb);
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    const char *impl = tm_sandbox_lua_version();
    double bare = 1e18, sandboxed = 1e18;
    double bare_off = 1e18;
    for (int r = 0; r < 3; r++) { /* best of three: less noise from the other core */
        double b = bench_bare(n, 0), s = bench_sandboxed(n), o = bench_bare(n, 1);
        if (o < bare_off)
            bare_off = o;
        if (b < bare)
            bare = b;
        if (s < sandboxed)
            sandboxed = s;
    }
    printf("sandbox call [%s]: bare lua_pcall %.1f ns/call, sandboxed %.1f ns/call, overhead %+.1f%%"
           " (target <= 15%%)\n",
           impl, bare, sandboxed, (sandboxed / bare - 1) * 100);
#ifdef TM_LUAJIT
    printf("sandbox call [%s]: bare lua_pcall with the JIT off too %.1f ns/call, sandbox overhead "
           "%+.1f%% (the rest is the JIT compiler the sandbox turns off)\n",
           impl, bare_off, (sandboxed / bare_off - 1) * 100);
#else
    (void)bare_off;
#endif
    if (getenv("TM_BENCH_CALLS_ONLY"))
        return 0;

    snprintf(dir, sizeof dir, "/tmp/tm-bench-gen-%d", (int)getpid());
    write_scripts(100, 1);
    struct tm_err e = {0};
    int reps = 20;
    double t0 = now_s();
    for (int r = 0; r < reps; r++) {
        tm_gen *g;
        if (tm_gen_load(dir, &g, &e) != TM_OK) {
            fprintf(stderr, "load: %s\n", e.msg);
            return 1;
        }
        tm_sandbox *sb = tm_sandbox_new(g, NULL, &e);
        for (size_t i = 0; i < tm_gen_count(g); i++) {
            tm_sandbox_script(sb, tm_gen_script(g, i)->path, &e);
            lua_pop(tm_sandbox_lua(sb), 1);
        }
        tm_sandbox_free(sb);
        tm_gen_release(g);
    }
    double per = (now_s() - t0) / reps;
    printf("generation of 100 scripts [%s]: %.2f ms to read, hash, check and load into a sandbox\n",
           impl, per * 1e3);

    if (tm_host_open(dir, &host, &e) != TM_OK)
        return 1;
    pthread_t t;
    pthread_create(&t, NULL, call_loop, NULL);
    usleep(100000);
    double worst = 0, total = 0;
    int reloads = 20;
    for (int r = 0; r < reloads; r++) {
        write_scripts(100, r + 2);
        double a = now_s();
        if (tm_host_reload(host, &e) != TM_OK)
            fprintf(stderr, "reload: %s\n", e.msg);
        double dt = now_s() - a;
        total += dt;
        if (dt > worst)
            worst = dt;
        usleep(20000);
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("reload under a call loop [%s]: mean %.2f ms, worst %.2f ms over %d reloads; "
           "%llu calls ran meanwhile, none failed\n",
           impl, total / reloads * 1e3, worst * 1e3, reloads,
           (unsigned long long)atomic_load(&calls_done));
    tm_host_close(host);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 0;
    return 0;
}
