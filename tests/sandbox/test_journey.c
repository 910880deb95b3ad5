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
