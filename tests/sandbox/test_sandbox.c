/*
 * tests/sandbox/test_sandbox.c: the sandbox C API: limits, isolation, the
 * allow-list, errors, script sets, generations and hot reload.
 */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lb_score.h"
#include "lcompat.h"
#include "sandbox.h"
#include "scriptset.h"

/* Runs `src` and returns its single result as JSON text (static buffer), or
 * "ERR <code>: <message>". */
static const char *run(tm_sandbox *sb, const char *src)
{
    static char buf[1024];
    char *out = NULL;
    size_t len = 0;
    struct tm_err e = {0};
    int rc = tm_sandbox_eval_json(sb, "t.lua", src, strlen(src), &out, &len, &e);
    if (rc != TM_OK) {
        snprintf(buf, sizeof buf, "ERR %d: %s", rc, e.msg);
        return buf;
    }
    if (len && out[len - 1] == '\n')
        out[len - 1] = '\0';
    snprintf(buf, sizeof buf, "%s", out);
    free(out);
    return buf;
}

static tm_sandbox *new_sb(void)
{
    struct tm_err e = {0};
    tm_sandbox *sb = tm_sandbox_new(NULL, NULL, &e);
    if (!sb)
        TM_FAIL_("tm_sandbox_new: %s", e.msg);
    return sb;
}

TEST(values_round_trip)
{
    tm_sandbox *sb = new_sb();
    ASSERT_STR_EQ(run(sb, "return 1 + 2"), "3");
    ASSERT_STR_EQ(run(sb, "return {x = {1, 2}}"), "{\"x\":[1,2]}");
    ASSERT_STR_EQ(run(sb, "return ('abc'):upper()"), "\"ABC\"");
    tm_sandbox_free(sb);
}

TEST(limit_then_normal_call_in_same_state)
{
    tm_sandbox *sb = new_sb();
    tm_limits lim = {16u << 20, 1000000, 1000, TM_LIMIT_PRECISE};
    tm_sandbox_set_limits(sb, &lim);
    ASSERT_CONTAINS(run(sb, "while true do end"), "instruction limit exceeded");
    ASSERT_STR_EQ(run(sb, "return 40 + 2"), "42");
    /* The memory cap must come first here: the other limits are out of its way, the time
     * limit too, since a loaded machine or a sanitizer build can take a second to fill 16 MiB. */
    lim.instructions = 1000000000;
    lim.time_ms = 60000;
    tm_sandbox_set_limits(sb, &lim);
    ASSERT_CONTAINS(run(sb, "local t = {} while true do t[#t + 1] = ('x'):rep(4096) end"),
                    "memory limit exceeded");
    ASSERT_STR_EQ(run(sb, "return 43"), "43");
    tm_sandbox_stats st;
    tm_sandbox_stats_get(sb, &st);
    ASSERT(st.mem_used < (4u << 20)); /* the garbage of the failed call is gone */
    ASSERT_EQ(st.limit_hits, 2);
    lim.instructions = 100000000000ull;
    lim.time_ms = 200;
    tm_sandbox_set_limits(sb, &lim);
    ASSERT_CONTAINS(run(sb, "while true do end"), "time limit exceeded");
    ASSERT_STR_EQ(run(sb, "return 44"), "44");
    tm_sandbox_free(sb);
}

TEST(limit_codes)
{
    tm_sandbox *sb = new_sb();
    tm_limits lim = {8u << 20, 100000, 5000, TM_LIMIT_PRECISE};
    tm_sandbox_set_limits(sb, &lim);
    char *out;
    size_t len;
    struct tm_err e = {0};
    const char *loop = "while true do end";
    ASSERT_EQ(tm_sandbox_eval_json(sb, "x", loop, strlen(loop), &out, &len, &e), TM_ELIMIT_INSTR);
    const char *bomb = "local s = 'x' while true do s = s .. s end";
    ASSERT_EQ(tm_sandbox_eval_json(sb, "x", bomb, strlen(bomb), &out, &len, &e), TM_ELIMIT_MEM);
    ASSERT_STR_EQ(e.msg, "memory limit exceeded");
    tm_sandbox_free(sb);
}

/* A limit names where the script was stopped (the cycle and the gate print
 * it with the script's name); the error itself stays the limit's name. */
TEST(limit_names_the_line_it_stopped)
{
    tm_sandbox *sb = new_sb();
    tm_limits lim = {8u << 20, 100000, 5000, TM_LIMIT_PRECISE};
    tm_sandbox_set_limits(sb, &lim);
    ASSERT_STR_EQ(run(sb, "local x = 1\nwhile true do\n  x = x + 1\nend"), "ERR -8: instruction limit exceeded");
    const char *w = tm_sandbox_trip_where(sb);
    ASSERT(strcmp(w, "t.lua:2") == 0 || strcmp(w, "t.lua:3") == 0);
    /* In a C function (string.rep charged past the budget): its caller's line. */
    run(sb, "local a = 1\n\nlocal s = ('x'):rep(1e9)\nreturn s");
    ASSERT_STR_EQ(tm_sandbox_trip_where(sb), "t.lua:3");
    /* Through a pcall in the script: where the limit was hit, not the pcall. */
    run(sb, "pcall(function()\n  while true do end\nend)");
    ASSERT_STR_EQ(tm_sandbox_trip_where(sb), "t.lua:2");
    /* A memory limit caught by a pcall: the pcall's line. */
    run(sb, "local s = 'x'\npcall(function() while true do s = s .. s end end)");
    ASSERT_STR_EQ(tm_sandbox_trip_where(sb), "t.lua:2");
    /* A call that hit no limit names nothing. */
    ASSERT_STR_EQ(run(sb, "return 1"), "1");
    ASSERT_STR_EQ(tm_sandbox_trip_where(sb), "");
    tm_sandbox_free(sb);
}

TEST(pcall_and_coroutines_cannot_swallow_limits)
{
    tm_sandbox *sb = new_sb();
    ASSERT_CONTAINS(run(sb, "for i = 1, 1e12 do pcall(function() while true do end end) end"),
                    "limit exceeded");
    ASSERT_CONTAINS(run(sb, "local co = coroutine.create(function() while true do end end)\n"
                            "while true do coroutine.resume(co) end"),
                    "limit exceeded");
    ASSERT_CONTAINS(run(sb, "return xpcall(function() while true do end end, function(e) return e end)"),
                    "limit exceeded");
    ASSERT_CONTAINS(run(sb, "local t = {} return pcall(function() while true do t[#t+1] = {} end end)"),
                    "memory limit exceeded");
    ASSERT_STR_EQ(run(sb, "return 1"), "1");
    tm_sandbox_free(sb);
}

TEST(xpcall_handler_runs_after_unwinding)
{
    tm_sandbox *sb = new_sb();
    ASSERT_STR_EQ(run(sb, "return {xpcall(error, function(e) return 'handled ' .. e end, 'boom')}"),
                  "[false,\"handled boom\"]");
    ASSERT_STR_EQ(run(sb, "return {xpcall(function(a, b) return a + b end, function(e) return e end, 2, 3)}"), "[true,5]");
    ASSERT_CONTAINS(run(sb, "return xpcall(error, function() while true do end end)"), "limit exceeded");
    tm_sandbox_free(sb);
}

TEST(allow_list)
{
    tm_sandbox *sb = new_sb();
    ASSERT_STR_EQ(run(sb, "return {io, os, debug, package, dofile, loadfile, collectgarbage, rawset,"
                          " print, string.dump, getfenv, setfenv, newproxy, jit, ffi, loadstring}"),
                  "{}");
    ASSERT_STR_EQ(run(sb, "return type(getmetatable(''))"), "\"string\"");
    ASSERT_CONTAINS(run(sb, "string.len = nil"), "read-only table 'string'");
    ASSERT_CONTAINS(run(sb, "math = {}"), "read-only global 'math'");
    ASSERT_CONTAINS(run(sb, "setmetatable({}, {__gc = true})"), "__gc");
    ASSERT_CONTAINS(run(sb, "return setmetatable(_G, {})"), "protected metatable");
    ASSERT_STR_EQ(run(sb, "return select(2, load('\\27Lua'))"), "\"load: binary chunks are not allowed\"");
    ASSERT_STR_EQ(run(sb, "return select(2, load(function() return 'x' end))"),
                  "\"load: only source text (a string) can be loaded\"");
    ASSERT_STR_EQ(run(sb, "return load('return 1 + 1')()"), "2");
    ASSERT_STR_EQ(run(sb, "return load('return x', 'c', 't', {x = 5})()"), "5");
    ASSERT_STR_EQ(run(sb, "local n = 0 for k in pairs(math) do n = n + 1 end return n > 10"), "true");
    tm_sandbox_free(sb);
}

TEST(scripts_are_isolated)
{
    tm_sandbox *sb = new_sb();
    ASSERT_STR_EQ(run(sb, "shared_name = 'a' return shared_name"), "\"a\"");
    ASSERT_STR_EQ(run(sb, "return shared_name"), "null");
#if LUA_VERSION_NUM >= 502
    ASSERT_STR_EQ(run(sb, "return _G == _ENV"), "true");
#endif
    tm_sandbox_free(sb);
}

TEST(error_messages)
{
    tm_sandbox *sb = new_sb();
    ASSERT_CONTAINS(run(sb, "\n\nerror('bad thing')"), "t.lua:3: bad thing");
    ASSERT_CONTAINS(run(sb, "local x = nil; return x.y"), "t.lua:1: attempt to index");
    ASSERT_CONTAINS(run(sb, "error(setmetatable({}, {__tostring = function() while true do end end}))"),
                    "error object is a table value");
    ASSERT_CONTAINS(run(sb, "return 1 +"), "t.lua:1:");
    const char *r = run(sb, "error(('x'):rep(100000))");
    ASSERT(strlen(r) < 600);
    ASSERT_CONTAINS(run(sb, "error('line one\\nline two')"), "line one line two");
    tm_sandbox_free(sb);
}

/* ---------------------------------------------------------------------------
 * Script sets.
 */
static char tmpdir[256];

static void write_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    mkdir(dir, 0755);
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void count_report(void *ud, const char *message)
{
    (void)message;
    (*(int *)ud)++;
}

static void make_tree(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tm-sbtest-%d", (int)getpid());
    /* A fresh tree: a pid can come round again (the LuaJIT pass of the suite
     * runs the same tests) and must not find an earlier test's files. */
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ASSERT_EQ(system(cmd), 0);
    mkdir(tmpdir, 0755);
    write_file("regulations/a.lua", "local c = require('lib.common') return {name = 'a', n = c.n}");
    write_file("lib/common.lua", "return {n = 7}");
    write_file("strategies/b.lua", "return {name = 'b'}");
}

TEST(generation_loads_and_hashes)
{
    make_tree();
    tm_gen *g;
    struct tm_err e = {0};
    ASSERT_OK(tm_gen_load(tmpdir, &g, &e));
    ASSERT_EQ(tm_gen_count(g), 3);
    ASSERT_STR_EQ(tm_gen_script(g, 0)->path, "lib/common.lua");
    ASSERT_EQ(strlen(tm_gen_hash(g)), 64);
    ASSERT(tm_gen_find(g, "strategies/b.lua") != NULL);
    char h1[65];
    snprintf(h1, sizeof h1, "%s", tm_gen_hash(g));
    tm_gen_release(g);
    write_file("strategies/b.lua", "return {name = 'b2'}");
    ASSERT_OK(tm_gen_load(tmpdir, &g, &e));
    ASSERT(strcmp(h1, tm_gen_hash(g)) != 0);
    tm_gen_release(g);
}

TEST(models_join_the_generation)
{
    make_tree();
    tm_gen *g;
    struct tm_err e = {0};
    ASSERT_OK(tm_gen_load(tmpdir, &g, &e));
    char h0[65];
    snprintf(h0, sizeof h0, "%s", tm_gen_hash(g));
    ASSERT_EQ(tm_gen_model_count(g), 0);
    tm_gen_release(g);

    const char *model = "{\"type\":\"logistic\",\"name\":\"ptp\",\"intercept\":0,"
                        "\"coefficients\":{\"dpd\":-0.1}}";
    write_file("models/ptp.json", model);
    write_file("data/ignored.json", "not a model and not loaded");
    ASSERT_OK(tm_gen_load(tmpdir, &g, &e));
    ASSERT_EQ(tm_gen_count(g), 3);
    ASSERT_EQ(tm_gen_model_count(g), 1);
    ASSERT_STR_EQ(tm_gen_model_name(g, 0), "ptp");
    ASSERT(tm_gen_model(g, "ptp") != NULL);
    ASSERT(tm_gen_model(g, "other") == NULL);
    char h1[65];
    snprintf(h1, sizeof h1, "%s", tm_gen_hash(g));
    ASSERT(strcmp(h0, h1) != 0);

    /* Scripts score with it by name. */
    tm_lb_score_register();
    tm_sandbox *sb = tm_sandbox_new(g, NULL, &e);
    tm_gen_release(g);
    ASSERT_STR_EQ(run(sb, "local p, r = tm.score('ptp', {dpd = 10}) "
                          "return string.format('%.4f %s', p, r[1].feature)"),
                  "\"0.2689 dpd\"");
    tm_sandbox_free(sb);

    /* Editing the model changes the set's identity. */
    write_file("models/ptp.json", "{\"type\":\"logistic\",\"name\":\"ptp\",\"intercept\":1,"
                                  "\"coefficients\":{\"dpd\":-0.1}}");
    ASSERT_OK(tm_gen_load(tmpdir, &g, &e));
    ASSERT(strcmp(h1, tm_gen_hash(g)) != 0);
    tm_gen_release(g);

    /* A broken model fails the load and names the file and field. */
    write_file("models/ptp.json", "{\"type\":\"logistic\",\"name\":\"ptp\",\"intercept\":0,"
                                  "\"coefficients\":{\"dpd\":\"x\"}}");
    ASSERT_EQ(tm_gen_load(tmpdir, &g, &e), TM_ESYNTAX);
    ASSERT(strstr(e.msg, "models/ptp.json") != NULL);
    ASSERT(strstr(e.msg, "dpd") != NULL);
}

/* A set kept in the store comes back from its texts: the same files give
 * the same hash, models included; a text changed after it was stored, or a
 * path that is not a script's, is refused. */
TEST(generation_from_stored_texts)
{
    make_tree();
    write_file("models/ptp.json", "{\"type\":\"logistic\",\"name\":\"ptp\",\"intercept\":0,"
                                  "\"coefficients\":{\"dpd\":-0.1}}");
    tm_gen *g, *back;
    struct tm_err e = {0};
    ASSERT_OK(tm_gen_load(tmpdir, &g, &e));
    ASSERT_EQ(tm_gen_file_count(g), 4);
    ASSERT_STR_EQ(tm_gen_file(g, 3)->path, "models/ptp.json");
    ASSERT(tm_gen_file(g, 4) == NULL);
    tm_script files[4];
    for (size_t i = 0; i < 4; i++)
        files[3 - i] = *tm_gen_file(g, i); /* any order */
    ASSERT_OK(tm_gen_from_files("stored", files, 4, tm_gen_hash(g), &back, &e));
    ASSERT_STR_EQ(tm_gen_hash(back), tm_gen_hash(g));
    ASSERT(tm_gen_model(back, "ptp") != NULL);
    ASSERT_STR_EQ(tm_gen_find(back, "lib/common.lua")->display, "stored/lib/common.lua");
    tm_gen_release(back);

    tm_script changed[4];
    memcpy(changed, files, sizeof changed);
    ASSERT_STR_EQ(changed[1].path, "strategies/b.lua");
    changed[1].text = "return {name = 'b', changed = true}";
    changed[1].len = strlen(changed[1].text);
    ASSERT_EQ(tm_gen_from_files("stored", changed, 4, tm_gen_hash(g), &back, &e), TM_ECRYPTO);
    ASSERT(back == NULL);
    ASSERT_CONTAINS(e.msg, tm_gen_hash(g));
    /* Without a hash to match, the texts load as they are. */
    ASSERT_OK(tm_gen_from_files("stored", changed, 4, NULL, &back, &e));
    tm_gen_release(back);

    tm_script bad = files[1];
    bad.path = "../etc/x.lua";
    ASSERT_EQ(tm_gen_from_files("stored", &bad, 1, NULL, &back, &e), TM_EINVAL);
    bad.path = "notes.txt";
    ASSERT_EQ(tm_gen_from_files("stored", &bad, 1, NULL, &back, &e), TM_EINVAL);
    tm_script twice[2] = {files[1], files[1]};
    ASSERT_EQ(tm_gen_from_files("stored", twice, 2, NULL, &back, &e), TM_EINVAL);
    bad = files[1];
    bad.text = "return {";
    bad.len = strlen(bad.text);
    ASSERT_EQ(tm_gen_from_files("stored", &bad, 1, NULL, &back, &e), TM_ESYNTAX);
    ASSERT_CONTAINS(e.msg, "stored/strategies/b.lua");
    tm_gen_release(g);
}

/* A strategy folder laid over a set: its files replace strategies/ (and
 * nothing else), named by their own paths; a broken file is reported and
 * left out when asked, else fails the overlay. */
TEST(generation_overlay)
{
    make_tree();
    write_file("strategies/c.lua", "return {name = 'c'}");
    tm_gen *g, *o;
    struct tm_err e = {0};
    ASSERT_OK(tm_gen_load(tmpdir, &g, &e));
    char dir[300];
    snprintf(dir, sizeof dir, "%s-folder", tmpdir);
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "rm -rf %s && mkdir -p %s && echo \"return {name = 'b-challenger'}\" >%s/b.lua", dir,
             dir, dir);
    ASSERT_EQ(system(cmd), 0);
    ASSERT_OK(tm_gen_overlay(g, dir, "strategies", NULL, NULL, &o, &e));
    ASSERT_EQ(tm_gen_count(o), 3); /* lib/common, regulations/a, strategies/b */
    ASSERT(tm_gen_find(o, "strategies/c.lua") == NULL);
    const tm_script *b = tm_gen_find(o, "strategies/b.lua");
    ASSERT(b != NULL);
    ASSERT_CONTAINS(b->text, "b-challenger");
    char want[400];
    snprintf(want, sizeof want, "%s/b.lua", dir);
    ASSERT_STR_EQ(b->display, want);
    ASSERT_STR_EQ(tm_gen_root(o), tm_gen_root(g));
    ASSERT(strcmp(tm_gen_hash(o), tm_gen_hash(g)) != 0);
    tm_gen_release(o);

    snprintf(cmd, sizeof cmd, "echo 'return {' >%s/broken.lua", dir);
    ASSERT_EQ(system(cmd), 0);
    ASSERT_EQ(tm_gen_overlay(g, dir, "strategies", NULL, NULL, &o, &e), TM_ESYNTAX);
    ASSERT_CONTAINS(e.msg, "broken.lua");
    int told = 0;
    ASSERT_OK(tm_gen_overlay(g, dir, "strategies", count_report, &told, &o, &e));
    ASSERT_EQ(told, 1);
    ASSERT(tm_gen_find(o, "strategies/broken.lua") == NULL);
    tm_gen_release(o);
    snprintf(cmd, sizeof cmd, "%s/nothing-here", dir);
    ASSERT_EQ(tm_gen_overlay(g, cmd, "strategies", NULL, NULL, &o, &e), TM_ENOENT);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ASSERT_EQ(system(cmd), 0);
    tm_gen_release(g);
}

TEST(script_and_require)
{
    make_tree();
    tm_gen *g;
    struct tm_err e = {0};
    ASSERT_OK(tm_gen_load(tmpdir, &g, &e));
    tm_sandbox *sb = tm_sandbox_new(g, NULL, &e);
    tm_gen_release(g); /* the sandbox holds its own reference */
    ASSERT_OK(tm_sandbox_script(sb, "regulations/a.lua", &e));
    lua_State *L = tm_sandbox_lua(sb);
    lua_getfield(L, -1, "n");
    ASSERT_EQ(lua_tointeger(L, -1), 7);
    lua_pop(L, 2);
    ASSERT_EQ(tm_sandbox_script(sb, "nope.lua", &e), TM_ENOENT);
    ASSERT_EQ(lua_gettop(L), 0);
    tm_sandbox_free(sb);
}

/* A definition's problem list: each problem told at the line where its field
 * is written, found along its path from the definition's line; one raised
 * where no line is known (after a tail call) is the loading script's, its
 * fields looked up from the top; a later failure of another kind clears it. */
TEST(problem_lists_told_at_their_lines)
{
    make_tree();
    write_file("strategies/p.lua",
               "local function def(t)\n"
               "  error({ tm_problems = {\n"
               "    { msg = 'unknown field afterr', path = { 'states', 'a', 'afterr' } },\n"
               "    { msg = 'unknown field sendwindow', path = { 'sendwindow' } },\n"
               "    { msg = 'whole' } }, where = 'WHERE' }, 0)\n"
               "end\n"
               "return def {\n"
               "  sendwindow = 1,\n"
               "  states = {\n"
               "    a = {\n"
               "      afterr = 2,\n"
               "    },\n"
               "  },\n"
               "}\n");
    tm_gen *g;
    struct tm_err e = {0};
    ASSERT_OK(tm_gen_load(tmpdir, &g, &e));
    tm_sandbox *sb = tm_sandbox_new(g, NULL, &e);
    const tm_script *p = tm_gen_find(g, "strategies/p.lua");
    tm_gen_release(g);
    ASSERT(p != NULL);
    ASSERT(tm_sandbox_script(sb, "strategies/p.lua", &e) != TM_OK);
    ASSERT_EQ(tm_sandbox_problem_count(sb), 3);
    char want[600];
    snprintf(want, sizeof want, "%s:11: unknown field afterr", p->display);
    ASSERT_STR_EQ(tm_sandbox_problem(sb, 0), want);
    snprintf(want, sizeof want, "%s:8: unknown field sendwindow", p->display);
    ASSERT_STR_EQ(tm_sandbox_problem(sb, 1), want);
    snprintf(want, sizeof want, "%s: whole", p->display);
    ASSERT_STR_EQ(tm_sandbox_problem(sb, 2), want);
    ASSERT(tm_sandbox_problem(sb, 3) == NULL);
    snprintf(want, sizeof want, "%s:11: unknown field afterr (and 2 more problems)", p->display);
    ASSERT_STR_EQ(e.msg, want);
    /* A failure of another kind leaves no list behind. */
    ASSERT(strncmp(run(sb, "error('plain')"), "ERR", 3) == 0);
    ASSERT_EQ(tm_sandbox_problem_count(sb), 0);
    tm_sandbox_free(sb);
}

TEST(broken_generation_never_replaces_a_working_one)
{
    make_tree();
    tm_host *h;
    struct tm_err e = {0};
    ASSERT_OK(tm_host_open(tmpdir, &h, &e));
    tm_gen *g1 = tm_host_acquire(h);
    write_file("strategies/b.lua", "return {name = ");
    ASSERT_EQ(tm_host_reload(h, &e), TM_ESYNTAX);
    ASSERT_CONTAINS(e.msg, "strategies/b.lua:1:");
    tm_gen *g2 = tm_host_acquire(h);
    ASSERT(g1 == g2);
    tm_gen_release(g2);
    write_file("strategies/b.lua", "return {name = 'fixed'}");
    ASSERT_OK(tm_host_reload(h, &e));
    g2 = tm_host_acquire(h);
    ASSERT(g1 != g2);
    /* The old generation stays usable for whoever still holds it. */
    ASSERT(tm_gen_find(g1, "strategies/b.lua") != NULL);
    tm_gen_release(g1);
    tm_gen_release(g2);
    tm_host_close(h);
}

TEST(non_utf8_script_refused)
{
    make_tree();
    write_file("bad.lua", "return '\xff'");
    tm_gen *g;
    struct tm_err e = {0};
    ASSERT_EQ(tm_gen_load(tmpdir, &g, &e), TM_EENCODING);
    ASSERT_CONTAINS(e.msg, "bad.lua:1: the file is not valid UTF-8");
}

/* A worker loop keeps calling while the main thread reloads: every call
 * succeeds, and the worker moves to the new generation between calls. */
static tm_host *shared_host;
static atomic_int stop_worker;
static atomic_int seen_b2;
static atomic_long calls_done; /* calls that saw the first generation's script */

static void *worker(void *arg)
{
    (void)arg;
    tm_sandbox *sb = NULL;
    struct tm_err e = {0};
    long calls = 0;
    while (!atomic_load(&stop_worker)) {
        if (tm_host_sandbox(shared_host, &sb, NULL, &e) != TM_OK)
            return (void *)1;
        if (tm_sandbox_script(sb, "strategies/b.lua", &e) != TM_OK)
            return (void *)2;
        lua_State *L = tm_sandbox_lua(sb);
        lua_getfield(L, -1, "name");
        if (strcmp(lua_tostring(L, -1), "b2") == 0)
            atomic_store(&seen_b2, 1);
        else if (!atomic_load(&seen_b2))
            atomic_fetch_add(&calls_done, 1);
        else
            return (void *)4; /* back to the old generation after the new one */
        lua_pop(L, 2);
        calls++;
    }
    tm_sandbox_free(sb);
    return calls > 0 ? NULL : (void *)3;
}

TEST(reload_under_a_running_call_loop)
{
    make_tree();
    struct tm_err e = {0};
    ASSERT_OK(tm_host_open(tmpdir, &shared_host, &e));
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, worker, NULL), 0);
    /* The reload must land while the loop runs: wait for calls on the first generation. */
    for (int i = 0; i < 1000 && atomic_load(&calls_done) < 20; i++)
        usleep(5000);
    ASSERT(atomic_load(&calls_done) >= 20);
    write_file("strategies/b.lua", "return {name = 'b2'}");
    ASSERT_OK(tm_host_reload(shared_host, &e));
    for (int i = 0; i < 200 && !atomic_load(&seen_b2); i++)
        usleep(5000);
    atomic_store(&stop_worker, 1);
    void *res;
    pthread_join(t, &res);
    ASSERT(res == NULL);
    ASSERT(atomic_load(&seen_b2));
    tm_host_close(shared_host);
}
