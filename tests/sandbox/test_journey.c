/*
 * tests/sandbox/test_journey.c: the engine's side of journeys
 * (sandbox/lb_journey.h) over the shipped lib/journey.lua: loading and
 * priorities, segmentation, start/event/timer/blocked results as C structs,
 * errors kept to the debt, and graphs.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lb_gate.h"
#include "lb_journey.h"
#include "lb_util.h"
#include "sandbox.h"
#include "scriptset.h"

static char tmpdir[256];

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

/* A tree with the shipped journey library and two journeys. */
static tm_journeys *load(tm_sandbox **sbp)
{
    tm_lb_gate_register(); /* days(n), hours(n) */
    tm_lb_util_register(); /* tm.bucket, business_days(n) */
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tm-jtest-%d", (int)getpid());
    char cmd[1024];
    /* fresh each time: a pid can come round again in the LuaJIT pass */
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s/lib && cp scripts/lib/journey.lua %s/lib/",
             tmpdir, tmpdir, tmpdir);
    ASSERT_EQ(system(cmd), 0);
    write_file("strategies/early.lua",
               "local journey = require('lib.journey')\n"
               "return journey { id = 'early', priority = 20,\n"
               "  segment = function(d) return (d.days_past_due or 0) >= 1 and d.days_past_due <= 30 end,\n"
               "  variants = { champion = 90, sms_first = 10 },\n"
               "  start = 'remind',\n"
               "  states = {\n"
               "    remind = { enter = function(j) j:send('sms', 'early_reminder') end,\n"
               "               after = { days(3), 'call' }, on = { payment = 'paid', dispute = 'hold' } },\n"
               "    call = { enter = function(j) j:send('call', 'early_call') j:queue('agents') end },\n"
               "    hold = {},\n"
               "    paid = { final = 'paid' },\n"
               "  } }\n");
    write_file("strategies/late.lua",
               "local journey = require('lib.journey')\n"
               "return journey { id = 'late', priority = 50, start = 'letter',\n"
               "  states = { letter = { enter = function(j, d) if d.flags.boom then error('boom') end\n"
               "                          j:send('letter', 'late_letter') end } } }\n");
    write_file("strategies/late_spec.lua", "describe('x', function() end)\n");
    write_file("strategies/helpers.lua", "return { n = 1 }\n");
    tm_gen *g = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_gen_load(tmpdir, &g, &e));
    tm_sandbox *sb = tm_sandbox_new(g, NULL, &e);
    tm_gen_release(g);
    ASSERT(sb != NULL);
    tm_journeys *js = NULL;
    ASSERT_OK(tm_journeys_load(sb, &js, NULL, NULL, &e));
    *sbp = sb;
    return js;
}

static tm_jdebt debt(const char *id, int64_t dpd)
{
    tm_jdebt d = {.debt_id = id, .state = "NY", .debt_type = "credit_card", .currency = "USD",
                  .zone = "America/New_York", .flags = "", .balance = 10000,
                  .placed_balance = 10000, .days_past_due = dpd};
    return d;
}

#define NOW 1795446000 /* 2026-11-23T15:00:00Z, 10:00 in New York */

TEST(load_orders_by_priority_and_skips_modules)
{
    tm_sandbox *sb;
    tm_journeys *js = load(&sb);
    ASSERT_EQ(tm_journeys_count(js), 2);
    int v = 0;
    ASSERT_STR_EQ(tm_journeys_id(js, 0, &v), "early");
    ASSERT_EQ(v, 1);
    ASSERT_STR_EQ(tm_journeys_id(js, 1, NULL), "late");
    tm_journeys_free(js);
    tm_sandbox_free(sb);
}

TEST(segmentation_both_sides_of_the_boundary)
{
    tm_sandbox *sb;
    tm_journeys *js = load(&sb);
    tm_jstate st;
    struct tm_err e = {0};
    tm_jdebt d30 = debt("D1", 30), d31 = debt("D2", 31);
    ASSERT_OK(tm_journeys_assign(js, &d30, &st, &e));
    ASSERT_STR_EQ(st.journey, "early");
    ASSERT(strcmp(st.variant, "champion") == 0 || strcmp(st.variant, "sms_first") == 0);
    ASSERT_OK(tm_journeys_assign(js, &d31, &st, &e));
    ASSERT_STR_EQ(st.journey, "late");
    ASSERT_STR_EQ(st.variant, "default");
    tm_journeys_free(js);
    tm_sandbox_free(sb);
}

TEST(start_timer_event_and_blocked)
{
    tm_sandbox *sb;
    tm_journeys *js = load(&sb);
    tm_jstate st;
    tm_jresult r;
    struct tm_err e = {0};
    tm_jdebt d = debt("D1", 10);
    ASSERT_OK(tm_journeys_assign(js, &d, &st, &e));
    ASSERT_OK(tm_journeys_start(js, &d, &st, NOW, &r, &e));
    ASSERT_STR_EQ(r.st.state, "remind");
    ASSERT_EQ(r.nactions, 1);
    ASSERT_EQ(r.actions[0].type, TM_JA_SEND);
    ASSERT_STR_EQ(r.actions[0].channel, "sms");
    ASSERT_STR_EQ(r.actions[0].template_id, "early_reminder");
    ASSERT_EQ(r.actions[0].at, NOW);
    ASSERT_STR_EQ(r.st.timer_go, "call");
    ASSERT_EQ(r.st.timer_at, NOW + 3 * 86400);
    ASSERT_CONTAINS(r.actions[0].json, "\"template\":\"early_reminder\"");

    tm_jstate s2 = r.st, started = r.st;
    ASSERT_OK(tm_journeys_timer(js, &d, &s2, s2.timer_at, &r, &e));
    ASSERT_STR_EQ(r.st.state, "call");
    ASSERT_EQ(r.nactions, 2);
    ASSERT_EQ(r.actions[1].type, TM_JA_QUEUE);
    ASSERT_STR_EQ(r.st.timer_go, "");

    tm_jevent ev = {.type = "payment", .at = NOW, .has_amount = 1, .amount = 10000, .balance = 0};
    ASSERT_OK(tm_journeys_event(js, &d, &started, &ev, NOW, &r, &e));
    ASSERT_EQ(r.closed, 1);
    ASSERT_STR_EQ(r.closed_reason, "paid");
    ASSERT_STR_EQ(r.moves, "remind>paid");

    tm_jevent other = {.type = "contact", .at = NOW};
    tm_jstate s3 = st;
    snprintf(s3.state, sizeof s3.state, "remind");
    snprintf(s3.timer_go, sizeof s3.timer_go, "call");
    s3.timer_at = NOW + 100;
    ASSERT_OK(tm_journeys_event(js, &d, &s3, &other, NOW, &r, &e));
    ASSERT_EQ(r.ignored, 1);
    ASSERT_STR_EQ(r.st.timer_go, "call");
    ASSERT_EQ(r.st.timer_at, NOW + 100);

    tm_jaction send = {.type = TM_JA_SEND, .channel = "sms", .template_id = "early_reminder", .at = NOW};
    ASSERT_OK(tm_journeys_blocked(js, &d, &s3, &send, NOW + 7200, "US/x", NOW, &r, &e));
    ASSERT_EQ(r.nactions, 1);
    ASSERT_EQ(r.actions[0].at, NOW + 7200);
    ASSERT_EQ(r.actions[0].rescheduled, 1);
    tm_journeys_free(js);
    tm_sandbox_free(sb);
}

TEST(script_error_is_one_debts_problem)
{
    tm_sandbox *sb;
    tm_journeys *js = load(&sb);
    tm_jstate st = {0};
    snprintf(st.journey, sizeof st.journey, "late");
    tm_jresult r;
    struct tm_err e = {0};
    tm_jdebt bad = debt("D9", 200);
    bad.flags = "boom,cease";
    ASSERT_EQ(tm_journeys_start(js, &bad, &st, NOW, &r, &e), TM_ESCRIPT);
    ASSERT_CONTAINS(e.msg, "strategies/late.lua:3:");
    ASSERT_CONTAINS(e.msg, "boom");
    tm_jdebt good = debt("D10", 200);
    ASSERT_OK(tm_journeys_start(js, &good, &st, NOW, &r, &e));
    ASSERT_STR_EQ(r.actions[0].channel, "letter");
    snprintf(st.journey, sizeof st.journey, "gone");
    ASSERT_EQ(tm_journeys_start(js, &good, &st, NOW, &r, &e), TM_ENOENT);
    tm_journeys_free(js);
    tm_sandbox_free(sb);
}

TEST(graphs)
{
    tm_sandbox *sb;
    tm_journeys *js = load(&sb);
    char *g = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_journeys_graph(js, "early", 1, &g, &e));
    ASSERT_CONTAINS(g, "digraph \"early\"");
    ASSERT_CONTAINS(g, "\"remind\" -> \"call\" [label=\"after 3 days\"]");
    ASSERT_CONTAINS(g, "\"paid\" -> \"(end)\"");
    free(g);
    ASSERT_OK(tm_journeys_graph(js, "early", 0, &g, &e));
    ASSERT_CONTAINS(g, "stateDiagram-v2");
    ASSERT_CONTAINS(g, "[*] --> remind : start");
    ASSERT_CONTAINS(g, "remind --> hold : dispute");
    free(g);
    ASSERT_EQ(tm_journeys_graph(js, "nope", 1, &g, &e), TM_ENOENT);
    tm_journeys_free(js);
    tm_sandbox_free(sb);
}

/* ---------------------------------------------------------------------------
 * Versions: a debt stays on the text it started on unless the loaded journey
 * declares a migration from its version.
 */
#define V1                                                                                   \
    "local journey = require('lib.journey')\n"                                                \
    "return journey { id = 'ver', version = 1, start = 'remind',\n"                           \
    "  states = {\n"                                                                          \
    "    remind = { enter = function(j) j:send('sms', 'v1_reminder') end,\n"                   \
    "               after = { days(3), 'nudge' }, on = { payment = 'paid' } },\n"              \
    "    nudge = { enter = function(j) j:send('email', 'v1_nudge') end,\n"                     \
    "              on = { payment = 'paid' } },\n"                                            \
    "    paid = { final = 'paid' },\n"                                                        \
    "  } }\n"

/* Version 2 renames nudge to second (with a new template); MIGRATE is its
 * migrate field, or empty. */
#define V2(MIGRATE)                                                                          \
    "local journey = require('lib.journey')\n"                                                \
    "return journey { id = 'ver', version = 2, start = 'remind',\n"                           \
    "  states = {\n"                                                                          \
    "    remind = { enter = function(j) j:send('sms', 'v2_reminder') end,\n"                   \
    "               after = { days(2), 'second' }, on = { payment = 'paid' } },\n"             \
    "    second = { enter = function(j) j:send('email', 'v2_second') end,\n"                   \
    "               on = { payment = 'paid' } },\n"                                           \
    "    paid = { final = 'paid' },\n"                                                        \
    "  }" MIGRATE " }\n"

static struct {
    char hash[65];
    char *text;
} archive[4];
static int narchive;
static char reported[2048];

static int archive_get(void *ud, const char *sha256, char **text, size_t *len, char *path,
                       size_t cap, struct tm_err *err)
{
    (void)err;
    ASSERT_EQ(*(int *)ud, 42);
    *text = NULL;
    for (int i = 0; i < narchive; i++)
        if (strcmp(archive[i].hash, sha256) == 0) {
            *text = strdup(archive[i].text);
            *len = strlen(*text);
            snprintf(path, cap, "strategies/ver.lua");
        }
    return TM_OK;
}

static void forget(void)
{
    for (int i = 0; i < narchive; i++)
        free(archive[i].text);
    narchive = 0;
}

static void keep(const tm_journeys *js)
{
    tm_jsource src;
    ASSERT_OK(tm_journeys_source(js, 0, &src));
    ASSERT(narchive < 4);
    snprintf(archive[narchive].hash, sizeof archive[0].hash, "%s", src.sha256);
    archive[narchive++].text = strdup(src.text);
}

static void on_report(void *ud, const char *message)
{
    (void)ud;
    snprintf(reported + strlen(reported), sizeof reported - strlen(reported), "%s\n", message);
}

/* Loads a tree whose only journey is `text` (the tree is made fresh on the
 * first call of a test and the journey file replaced on later ones, as a
 * deploy would). */
static tm_journeys *load_ver(const char *text, tm_sandbox **sbp, int fresh)
{
    tm_lb_gate_register();
    tm_lb_util_register();
    if (fresh) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/tm-jver-%d", (int)getpid());
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s/lib && cp scripts/lib/journey.lua %s/lib/",
                 tmpdir, tmpdir, tmpdir);
        ASSERT_EQ(system(cmd), 0);
        forget();
    }
    write_file("strategies/ver.lua", text);
    reported[0] = '\0';
    tm_gen *g = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_gen_load(tmpdir, &g, &e));
    tm_sandbox *sb = tm_sandbox_new(g, NULL, &e);
    tm_gen_release(g);
    ASSERT(sb != NULL);
    tm_journeys *js = NULL;
    ASSERT_OK(tm_journeys_load(sb, &js, on_report, NULL, &e));
    static int ud = 42;
    tm_journeys_set_archive(js, archive_get, &ud);
    *sbp = sb;
    return js;
}

/* Starts debt `id` on the loaded journey and follows nothing else. */
static tm_jstate started(tm_journeys *js, const char *id)
{
    tm_jdebt d = debt(id, 10);
    tm_jstate st;
    tm_jresult r;
    struct tm_err e = {0};
    ASSERT_OK(tm_journeys_assign(js, &d, &st, &e));
    ASSERT_OK(tm_journeys_start(js, &d, &st, NOW, &r, &e));
    return r.st;
}

TEST(old_version_keeps_running_its_old_transitions)
{
    tm_sandbox *sb;
    tm_journeys *js = load_ver(V1, &sb, 1);
    keep(js);
    tm_jstate old = started(js, "D1");
    ASSERT_EQ(old.version, 1);
    ASSERT_STR_EQ(old.hash, archive[0].hash);
    ASSERT_STR_EQ(old.timer_go, "nudge");
    tm_journeys_free(js);
    tm_sandbox_free(sb);

    /* The tree changes: version 2 has no state nudge, and no migration. */
    js = load_ver(V2(""), &sb, 0);
    ASSERT_CONTAINS(tm_journeys_note(js, 0), "no migration from version 1");
    tm_jdebt d = debt("D1", 10);
    tm_jresult r;
    struct tm_err e = {0};
    ASSERT_OK(tm_journeys_timer(js, &d, &old, old.timer_at, &r, &e));
    ASSERT_STR_EQ(r.st.state, "nudge");
    ASSERT_EQ(r.nactions, 1);
    ASSERT_STR_EQ(r.actions[0].template_id, "v1_nudge");
    ASSERT_EQ(r.st.version, 1);
    ASSERT_STR_EQ(r.st.hash, archive[0].hash);
    ASSERT_EQ(r.migrated_from, 0);
    /* Events go to the old text too, now from its cached object. */
    tm_jevent pay = {.type = "payment", .at = NOW, .has_amount = 1, .amount = 10000};
    tm_jstate on_nudge = r.st;
    ASSERT_OK(tm_journeys_event(js, &d, &on_nudge, &pay, NOW, &r, &e));
    ASSERT_EQ(r.closed, 1);
    ASSERT_STR_EQ(r.st.hash, archive[0].hash);

    /* A new debt starts on version 2. */
    tm_jstate fresh = started(js, "D2");
    ASSERT_EQ(fresh.version, 2);
    ASSERT(strcmp(fresh.hash, archive[0].hash) != 0);
    ASSERT_STR_EQ(fresh.timer_go, "second");
    tm_journeys_free(js);
    tm_sandbox_free(sb);
    forget();
}

TEST(a_declared_migration_maps_states)
{
    tm_sandbox *sb;
    tm_journeys *js = load_ver(V1, &sb, 1);
    keep(js);
    tm_jstate old = started(js, "D1");
    tm_journeys_free(js);
    tm_sandbox_free(sb);

    js = load_ver(V2(", migrate = { [1] = { states = { nudge = 'second' } } }"), &sb, 0);
    ASSERT(tm_journeys_note(js, 0) == NULL);
    tm_jdebt d = debt("D1", 10);
    tm_jresult r;
    struct tm_err e = {0};
    /* remind exists in version 2 and keeps its name; the timer's target
     * nudge is mapped to second, so the timer enters second. */
    ASSERT_OK(tm_journeys_timer(js, &d, &old, old.timer_at, &r, &e));
    ASSERT_EQ(r.migrated_from, 1);
    ASSERT_STR_EQ(r.migrated_state, "remind");
    ASSERT_STR_EQ(r.st.state, "second");
    ASSERT_STR_EQ(r.actions[0].template_id, "v2_second");
    ASSERT_EQ(r.st.version, 2);
    ASSERT(strcmp(r.st.hash, archive[0].hash) != 0);

    /* An event that changes nothing still moves the debt (ignored, migrated). */
    tm_jstate on_nudge = old;
    snprintf(on_nudge.state, sizeof on_nudge.state, "nudge");
    on_nudge.timer_go[0] = '\0';
    tm_jevent other = {.type = "contact", .at = NOW};
    ASSERT_OK(tm_journeys_event(js, &d, &on_nudge, &other, NOW, &r, &e));
    ASSERT_EQ(r.ignored, 1);
    ASSERT_EQ(r.migrated_from, 1);
    ASSERT_STR_EQ(r.st.state, "second");
    ASSERT_EQ(r.st.version, 2);
    tm_journeys_free(js);
    tm_sandbox_free(sb);

    /* The function form decides per debt. */
    js = load_ver(V2(", migrate = { [1] = function(debt, s)\n"
                     "  if s == 'nudge' then return debt.balance > 5000 and 'second' or 'remind' end end }"),
                  &sb, 0);
    ASSERT_OK(tm_journeys_event(js, &d, &on_nudge, &other, NOW, &r, &e));
    ASSERT_STR_EQ(r.st.state, "second");
    tm_journeys_free(js);
    tm_sandbox_free(sb);
    forget();
}

TEST(a_missing_archived_text_parks_the_debt)
{
    tm_sandbox *sb;
    tm_journeys *js = load_ver(V1, &sb, 1);
    tm_jstate old = started(js, "D1"); /* not kept: keep() is not called */
    tm_journeys_free(js);
    tm_sandbox_free(sb);
    js = load_ver(V2(""), &sb, 0);
    tm_jdebt d = debt("D1", 10);
    tm_jresult r;
    struct tm_err e = {0};
    ASSERT_EQ(tm_journeys_timer(js, &d, &old, old.timer_at, &r, &e), TM_ENOENT);
    ASSERT_CONTAINS(e.msg, "journey ver version 1");
    ASSERT_CONTAINS(e.msg, old.hash);
    ASSERT_CONTAINS(e.msg, "parked in state 'remind'");
    /* A text that does not match its hash is refused the same way. */
    forget();
    snprintf(archive[0].hash, sizeof archive[0].hash, "%s", old.hash);
    archive[0].text = strdup("return 1\n");
    narchive = 1;
    ASSERT_EQ(tm_journeys_timer(js, &d, &old, old.timer_at, &r, &e), TM_ENOENT);
    ASSERT_CONTAINS(e.msg, "does not match its hash");
    /* A debt recorded before texts were kept, on another version. */
    tm_jstate legacy = old;
    legacy.hash[0] = '\0';
    ASSERT_EQ(tm_journeys_timer(js, &d, &legacy, old.timer_at, &r, &e), TM_ENOENT);
    ASSERT_CONTAINS(e.msg, "records no text hash");
    /* ... and on the loaded version: runs it. */
    legacy.version = 2;
    snprintf(legacy.timer_go, sizeof legacy.timer_go, "second");
    ASSERT_OK(tm_journeys_timer(js, &d, &legacy, old.timer_at, &r, &e));
    ASSERT_STR_EQ(r.st.state, "second");
    ASSERT_EQ(r.st.hash[0] != '\0', 1);
    /* The run goes on: other debts are not affected. */
    tm_jstate fresh = started(js, "D2");
    ASSERT_EQ(fresh.version, 2);
    tm_journeys_free(js);
    tm_sandbox_free(sb);
    forget();
}

TEST(a_migration_naming_a_missing_state_is_rejected)
{
    tm_sandbox *sb;
    tm_journeys *js = load_ver(V2(", migrate = { [1] = { states = { nudge = 'nowhere' } } }"), &sb, 1);
    ASSERT_EQ(tm_journeys_count(js), 0);
    ASSERT_CONTAINS(reported, "journey ver: migrate[1].states.nudge: no state 'nowhere' in version 2");
    tm_journeys_free(js);
    tm_sandbox_free(sb);
    js = load_ver(V2(", migrate = { [2] = { states = {} } }"), &sb, 0);
    ASSERT_EQ(tm_journeys_count(js), 0);
    ASSERT_CONTAINS(reported, "migrate[2]: a migration comes from an older version");
    tm_journeys_free(js);
    tm_sandbox_free(sb);
    js = load_ver(V2(", migrate = { [1] = { state = {} } }"), &sb, 0);
    ASSERT_CONTAINS(reported, "migrate[1]: unknown field 'state'");
    tm_journeys_free(js);
    tm_sandbox_free(sb);

    /* At run time: a state neither mapped nor in the new version. */
    js = load_ver(V1, &sb, 0);
    keep(js);
    tm_jstate old = started(js, "D1");
    tm_journeys_free(js);
    tm_sandbox_free(sb);
    js = load_ver(V2(", migrate = { [1] = { states = { remind = 'remind' } } }"), &sb, 0);
    snprintf(old.state, sizeof old.state, "nudge");
    old.timer_go[0] = '\0';
    tm_jdebt d = debt("D1", 10);
    tm_jresult r;
    struct tm_err e = {0};
    tm_jevent pay = {.type = "payment", .at = NOW, .has_amount = 1, .amount = 10000};
    ASSERT_EQ(tm_journeys_event(js, &d, &old, &pay, NOW, &r, &e), TM_ESCRIPT);
    ASSERT_CONTAINS(e.msg, "journey ver: migrating from version 1: state 'nudge' is not in version 2");
    tm_journeys_free(js);
    tm_sandbox_free(sb);
    forget();
}
