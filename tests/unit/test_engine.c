/*
 * tests/unit/test_engine.c: starting an engine (app/engine.h), the way run,
 * simulate, decide and test start their scripts: what each `load` flag gives,
 * the worker engines sharing one generation, the step a failure names, the
 * problems told once through the callbacks, and a generation given by the
 * caller left to the caller.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "lb_channel.h"
#include "lb_gate.h"
#include "lb_pay.h"
#include "lb_score.h"
#include "lb_util.h"

static char tmpdir[256];

/* The DSL globals, as main() registers them before any sandbox. */
static void setup(void)
{
    tm_lb_gate_register();
    tm_lb_pay_register();
    tm_lb_score_register();
    tm_lb_channel_register();
    tm_lb_util_register();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tm-engine-%d", (int)getpid());
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s/lib && cp scripts/lib/journey.lua %s/lib/",
             tmpdir, tmpdir, tmpdir);
    ASSERT_EQ(system(cmd), 0);
}

static void write_file(const char *rel, const char *text)
{
    char path[512], dir[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    mkdir(dir, 0755);
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
}

static const char regulation[] =
    "return regulation { id = 'HOUSE', name = 'house rules',\n"
    "  rules = { { id = 'no-sundays', cite = 'house 1', channels = { 'call' }, days = { 'sun' } } } }\n";

static const char journey[] =
    "local journey = require('lib.journey')\n"
    "return journey { id = 'early', priority = 20,\n"
    "  segment = function(d) return true end,\n"
    "  start = 'remind',\n"
    "  states = { remind = { enter = function(j) j:send('sms', 'early_reminder') end } } }\n";

/* What the callbacks were told. */
typedef struct told {
    int scripts, gates, journeys;
    char last[600];
} told;

static void script_problem(void *ud, const char *m)
{
    told *t = ud;
    t->scripts++;
    snprintf(t->last, sizeof t->last, "%s", m);
}

static void gate_problem(void *ud, const char *m, int fatal)
{
    told *t = ud;
    t->gates += fatal != 0;
    snprintf(t->last, sizeof t->last, "%s", m);
}

static void journey_problem(void *ud, const char *m)
{
    told *t = ud;
    t->journeys++;
    snprintf(t->last, sizeof t->last, "%s", m);
}

TEST(engine_opens_the_shipped_tree_with_workers_on_one_generation)
{
    setup();
    tm_engine_opts o = {.scripts = "scripts", .workers = 3};
    tm_engine *e = NULL;
    int at = -1;
    struct tm_err err = {0};
    ASSERT_OK(tm_engine_open(&o, TM_ENGINE_GATE | TM_ENGINE_JOURNEYS, &e, &at, &err));
    ASSERT(e != NULL && e->gen != NULL && e->sb != NULL && e->gate != NULL && e->js != NULL);
    ASSERT_EQ(at, -1); /* told only on failure */
    ASSERT(tm_journeys_count(e->js) > 0);
    ASSERT_STR_EQ(tm_gate_scripts_hash(e->gate), tm_gen_hash(e->gen));
    ASSERT_EQ(e->nworkers, 3);
    /* The first worker is the caller's engine; the others are their own
     * sandboxes with their own gate and journeys, from the same scripts. */
    ASSERT(e->workers[0].sb == e->sb && e->workers[0].gate == e->gate && e->workers[0].js == e->js);
    for (int k = 1; k < 3; k++) {
        ASSERT(e->workers[k].sb != e->sb && e->workers[k].gate != e->gate && e->workers[k].js != e->js);
        ASSERT(e->workers[k].sb != e->workers[3 - k].sb);
        ASSERT(tm_sandbox_gen(e->workers[k].sb) == e->gen);
        ASSERT_EQ(tm_journeys_count(e->workers[k].js), tm_journeys_count(e->js));
        ASSERT_STR_EQ(tm_gate_scripts_hash(e->workers[k].gate), tm_gen_hash(e->gen));
    }
    tm_engine_close(e);
}

TEST(engine_loads_only_what_is_asked)
{
    setup();
    write_file("regulations/house.lua", regulation);
    write_file("strategies/early.lua", journey);
    tm_engine_opts o = {.scripts = tmpdir};
    tm_engine *e = NULL;
    struct tm_err err = {0};
    ASSERT_OK(tm_engine_open(&o, 0, &e, NULL, &err));
    ASSERT(e->sb != NULL && e->gate == NULL && e->js == NULL && e->workers == NULL);
    ASSERT_EQ(e->nworkers, 0);
    tm_engine_close(e);
    ASSERT_OK(tm_engine_open(&o, TM_ENGINE_GATE, &e, NULL, &err));
    ASSERT(e->gate != NULL && e->js == NULL);
    tm_engine_close(e);
    ASSERT_OK(tm_engine_open(&o, TM_ENGINE_JOURNEYS, &e, NULL, &err));
    ASSERT(e->gate == NULL && e->js != NULL);
    ASSERT_EQ(tm_journeys_count(e->js), 1);
    tm_engine_close(e);
}

TEST(engine_script_that_does_not_compile_fails_at_scripts_unless_lenient)
{
    setup();
    write_file("regulations/house.lua", regulation);
    write_file("regulations/broken.lua", "return regulation {\n  rule { id = \n");
    told t = {0};
    tm_engine_opts o = {.scripts = tmpdir, .script_problem = script_problem, .ud = &t};
    tm_engine *e = (tm_engine *)&t; /* set to NULL on failure */
    int at = 0;
    struct tm_err err = {0};
    int rc = tm_engine_open(&o, TM_ENGINE_GATE, &e, &at, &err);
    ASSERT_EQ(rc, TM_ESYNTAX);
    ASSERT(e == NULL);
    ASSERT_EQ(at, TM_ENGINE_AT_SCRIPTS);
    ASSERT_CONTAINS(err.msg, "regulations/broken.lua:");
    ASSERT_EQ(t.scripts, 0); /* a strict load tells no callback */
    /* Lenient: the script is left out and told once; the rest loads. */
    memset(&err, 0, sizeof err);
    ASSERT_OK(tm_engine_open(&o, TM_ENGINE_GATE | TM_ENGINE_LENIENT, &e, &at, &err));
    ASSERT_EQ(t.scripts, 1);
    ASSERT_CONTAINS(t.last, "regulations/broken.lua:");
    ASSERT(e->gate != NULL);
    ASSERT(tm_gen_find(e->gen, "regulations/house.lua") != NULL);
    ASSERT(tm_gen_find(e->gen, "regulations/broken.lua") == NULL);
    tm_engine_close(e);
}

TEST(engine_missing_tree_fails_at_scripts)
{
    setup();
    char none[300];
    snprintf(none, sizeof none, "%s/none", tmpdir);
    tm_engine_opts o = {.scripts = none};
    tm_engine *e = NULL;
    int at = 0;
    struct tm_err err = {0};
    ASSERT_EQ(tm_engine_open(&o, TM_ENGINE_GATE | TM_ENGINE_JOURNEYS, &e, &at, &err), TM_ENOENT);
    ASSERT_EQ(at, TM_ENGINE_AT_SCRIPTS);
    ASSERT_CONTAINS(err.msg, none);
    ASSERT(e == NULL);
}

TEST(engine_workers_need_the_gate_and_the_journeys)
{
    setup();
    write_file("strategies/early.lua", journey);
    tm_engine_opts o = {.scripts = tmpdir, .workers = 2};
    tm_engine *e = NULL;
    int at = 0;
    struct tm_err err = {0};
    ASSERT_EQ(tm_engine_open(&o, TM_ENGINE_JOURNEYS, &e, &at, &err), TM_EINVAL);
    ASSERT_EQ(at, TM_ENGINE_AT_WORKERS);
    ASSERT(e == NULL);
    ASSERT_OK(tm_engine_open(&o, TM_ENGINE_GATE | TM_ENGINE_JOURNEYS, &e, &at, &err));
    ASSERT_EQ(e->nworkers, 2);
    tm_engine_close(e);
}

TEST(engine_problems_are_told_once_and_the_load_goes_on)
{
    setup();
    write_file("regulations/house.lua", regulation);
    write_file("regulations/fails.lua", "error('the regulation cannot load')\n");
    write_file("strategies/early.lua", journey);
    write_file("strategies/fails.lua", "error('the journey cannot load')\n");
    told t = {0};
    tm_engine_opts o = {.scripts = tmpdir, .workers = 3, .gate_problem = gate_problem,
                        .journey_problem = journey_problem, .ud = &t};
    tm_engine *e = NULL;
    struct tm_err err = {0};
    ASSERT_OK(tm_engine_open(&o, TM_ENGINE_GATE | TM_ENGINE_JOURNEYS, &e, NULL, &err));
    /* Once for the caller's engine, not again for each worker's. */
    ASSERT_EQ(t.gates, 1);
    ASSERT_EQ(t.journeys, 1);
    ASSERT_CONTAINS(t.last, "strategies/fails.lua");
    ASSERT_EQ(tm_journeys_count(e->js), 1);
    ASSERT_EQ(tm_journeys_count(e->workers[2].js), 1);
    tm_engine_close(e);
}

TEST(engine_on_a_generation_the_caller_keeps)
{
    setup();
    write_file("regulations/house.lua", regulation);
    tm_gen *gen = NULL;
    struct tm_err err = {0};
    ASSERT_OK(tm_gen_load(tmpdir, &gen, &err));
    /* `scripts` is not read when a generation is given. */
    tm_engine_opts o = {.gen = gen, .scripts = "/nonexistent"};
    tm_engine *e = NULL;
    ASSERT_OK(tm_engine_open(&o, TM_ENGINE_GATE, &e, NULL, &err));
    ASSERT(e->gen == gen);
    ASSERT(tm_sandbox_gen(e->sb) == gen);
    tm_engine_close(e);
    /* The caller's reference is still good after the engine is gone. */
    ASSERT(tm_gen_find(gen, "regulations/house.lua") != NULL);
    tm_gen_release(gen);
}

TEST(engine_without_scripts)
{
    setup();
    tm_engine_opts o = {0};
    tm_engine *e = NULL;
    struct tm_err err = {0};
    ASSERT_OK(tm_engine_open(&o, TM_ENGINE_GATE | TM_ENGINE_JOURNEYS, &e, NULL, &err));
    ASSERT(e->gen == NULL && e->sb != NULL && e->gate != NULL && e->js != NULL);
    ASSERT_EQ(tm_journeys_count(e->js), 0);
    tm_engine_close(e);
    tm_engine_close(NULL);
}
