/*
 * tests/unit/test_engine_fault.c: an engine (app/engine.h) whose start fails
 * part way. The three steps that can run out of memory once the scripts are
 * read (making a sandbox, building a gate, loading the journeys) are wrapped
 * at link time (-Wl,--wrap, see the Makefile) so the Nth call fails as it
 * would without memory, for the caller's engine or a worker's. Each failure
 * must name its step, set *out to NULL and leave nothing behind (the
 * sanitizer build checks for leaks and double frees); an optional gate's
 * failure must leave the rest of the engine working.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "lb_channel.h"
#include "lb_gate.h"
#include "lb_pay.h"
#include "lb_score.h"
#include "lb_util.h"

/* Under the sanitizers, what a failed start left unfreed fails the test
 * (the harness's children end with _exit, which skips the leak check). */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECK() ASSERT_EQ(__lsan_do_recoverable_leak_check(), 0)
#else
#define LEAK_CHECK() ((void)0)
#endif

/* ---- The failing steps ------------------------------------------------------ */

tm_sandbox *__real_tm_sandbox_new(tm_gen *gen, const tm_limits *limits, struct tm_err *err);
tm_sandbox *__wrap_tm_sandbox_new(tm_gen *gen, const tm_limits *limits, struct tm_err *err);
tm_gate *__real_tm_gate_new(void);
tm_gate *__wrap_tm_gate_new(void);
int __real_tm_journeys_load(tm_sandbox *sb, tm_journeys **out,
                            void (*report)(void *ud, const char *message), void *ud,
                            struct tm_err *err);
int __wrap_tm_journeys_load(tm_sandbox *sb, tm_journeys **out,
                            void (*report)(void *ud, const char *message), void *ud,
                            struct tm_err *err);

enum { SANDBOX, GATE, JOURNEYS, NSTEPS };
static int calls[NSTEPS], fail_at[NSTEPS]; /* fail_at 0: never */

static int failing(int step) { return ++calls[step] == fail_at[step]; }

tm_sandbox *__wrap_tm_sandbox_new(tm_gen *gen, const tm_limits *limits, struct tm_err *err)
{
    if (failing(SANDBOX)) {
        tm_err_set(err, TM_ENOMEM, "out of memory creating a sandbox");
        return NULL;
    }
    return __real_tm_sandbox_new(gen, limits, err);
}

tm_gate *__wrap_tm_gate_new(void) { return failing(GATE) ? NULL : __real_tm_gate_new(); }

int __wrap_tm_journeys_load(tm_sandbox *sb, tm_journeys **out,
                            void (*report)(void *ud, const char *message), void *ud,
                            struct tm_err *err)
{
    if (failing(JOURNEYS)) {
        *out = NULL;
        return tm_err_set(err, TM_ENOMEM, "out of memory loading the journeys");
    }
    return __real_tm_journeys_load(sb, out, report, ud, err);
}

static void arm(int step, int n)
{
    memset(calls, 0, sizeof calls);
    memset(fail_at, 0, sizeof fail_at);
    fail_at[step] = n;
}

static void setup(void)
{
    tm_lb_gate_register();
    tm_lb_pay_register();
    tm_lb_score_register();
    tm_lb_channel_register();
    tm_lb_util_register();
}

/* Opens the shipped tree with `load` and `workers`; returns the status. */
static int open_engine(unsigned load, int workers, tm_engine **e, int *at, struct tm_err *err)
{
    tm_engine_opts o = {.scripts = "scripts", .workers = workers};
    *e = (tm_engine *)err; /* to see it set to NULL */
    *at = 0;
    memset(err, 0, sizeof *err);
    return tm_engine_open(&o, load, e, at, err);
}

/* ---- Tests ------------------------------------------------------------------ */

TEST(engine_fault_sandbox)
{
    setup();
    tm_engine *e;
    int at;
    struct tm_err err;
    arm(SANDBOX, 1);
    ASSERT_EQ(open_engine(TM_ENGINE_GATE | TM_ENGINE_JOURNEYS, 2, &e, &at, &err), TM_ENOMEM);
    ASSERT(e == NULL);
    ASSERT_EQ(at, TM_ENGINE_AT_SANDBOX);
    ASSERT_CONTAINS(err.msg, "sandbox");
    LEAK_CHECK();
}

TEST(engine_fault_gate)
{
    setup();
    tm_engine *e;
    int at;
    struct tm_err err;
    arm(GATE, 1);
    ASSERT_EQ(open_engine(TM_ENGINE_GATE | TM_ENGINE_JOURNEYS, 0, &e, &at, &err), TM_ENOMEM);
    ASSERT(e == NULL);
    ASSERT_EQ(at, TM_ENGINE_AT_GATE);
    ASSERT_CONTAINS(err.msg, "gate");
    ASSERT_EQ(calls[JOURNEYS], 0); /* nothing after the step that failed */
    LEAK_CHECK();
}

TEST(engine_fault_optional_gate_leaves_the_rest)
{
    setup();
    tm_engine *e;
    int at;
    struct tm_err err;
    arm(GATE, 1);
    ASSERT_OK(open_engine(TM_ENGINE_GATE | TM_ENGINE_GATE_OPTIONAL | TM_ENGINE_JOURNEYS, 0, &e, &at,
                          &err));
    ASSERT(e != NULL && e->sb != NULL && e->gate == NULL && e->js != NULL);
    ASSERT_EQ(e->gate_err.code, TM_ENOMEM);
    ASSERT_CONTAINS(e->gate_err.msg, "gate");
    ASSERT_EQ(err.code, 0); /* the open itself did not fail */
    ASSERT(tm_journeys_count(e->js) > 0);
    tm_engine_close(e);
    /* A gate that loads leaves gate_err empty. */
    arm(GATE, 0);
    ASSERT_OK(open_engine(TM_ENGINE_GATE | TM_ENGINE_GATE_OPTIONAL, 0, &e, &at, &err));
    ASSERT(e->gate != NULL);
    ASSERT_EQ(e->gate_err.code, 0);
    tm_engine_close(e);
    /* Workers cannot do without a gate. */
    ASSERT_EQ(open_engine(TM_ENGINE_GATE | TM_ENGINE_GATE_OPTIONAL | TM_ENGINE_JOURNEYS, 2, &e, &at,
                          &err),
              TM_EINVAL);
    ASSERT(e == NULL);
    ASSERT_EQ(at, TM_ENGINE_AT_WORKERS);
    LEAK_CHECK();
}

TEST(engine_fault_journeys)
{
    setup();
    tm_engine *e;
    int at;
    struct tm_err err;
    arm(JOURNEYS, 1);
    ASSERT_EQ(open_engine(TM_ENGINE_GATE | TM_ENGINE_JOURNEYS, 2, &e, &at, &err), TM_ENOMEM);
    ASSERT(e == NULL);
    ASSERT_EQ(at, TM_ENGINE_AT_JOURNEYS);
    ASSERT_CONTAINS(err.msg, "journeys");
    ASSERT_EQ(calls[SANDBOX], 1); /* no worker was started */
    LEAK_CHECK();
}

/* Every step of every worker: the third worker's sandbox, gate or journeys
 * failing names that worker, and the two engines made before it are freed. */
TEST(engine_fault_each_worker_step)
{
    setup();
    for (int step = 0; step < NSTEPS; step++) {
        for (int n = 2; n <= 3; n++) {
            tm_engine *e;
            int at;
            struct tm_err err;
            arm(step, n);
            ASSERT_EQ(open_engine(TM_ENGINE_GATE | TM_ENGINE_JOURNEYS, 3, &e, &at, &err), TM_ENOMEM);
            ASSERT(e == NULL);
            ASSERT_EQ(at, TM_ENGINE_AT_WORKERS);
            char want[32];
            snprintf(want, sizeof want, "worker %d: ", n);
            ASSERT_CONTAINS(err.msg, want);
            LEAK_CHECK();
        }
    }
    /* Without failures the same open works, and each step ran once a worker. */
    tm_engine *e;
    int at;
    struct tm_err err;
    arm(SANDBOX, 0);
    ASSERT_OK(open_engine(TM_ENGINE_GATE | TM_ENGINE_JOURNEYS, 3, &e, &at, &err));
    ASSERT_EQ(calls[SANDBOX], 3);
    ASSERT_EQ(calls[GATE], 3);
    ASSERT_EQ(calls[JOURNEYS], 3);
    tm_engine_close(e);
    LEAK_CHECK();
}
