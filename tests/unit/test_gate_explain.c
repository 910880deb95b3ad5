/*
 * tests/unit/test_gate_explain.c: a decision explained (core/gate.h,
 * tm_gate_explain) on a gate built by hand: which regulations apply and
 * why, each rule's verdict and why a rule does not apply, and that the
 * explanation's blocked rules are exactly the decision's.
 */
#include "harness.h"

#include <jansson.h>

#include "explain.h"
#include "gate.h"
#include "gate_wire.h"

static tm_rule *add_rule(tm_regulation *reg, const char *qid, int kind)
{
    tm_rule *r = &reg->rules[reg->nrules++];
    memset(r, 0, sizeof *r);
    snprintf(r->qid, sizeof r->qid, "%s", qid);
    r->cite = strdup("Test Code 1.1");
    r->kind = kind;
    r->effective_day = INT64_MIN;
    r->expires_day = INT64_MAX;
    r->of_direction = -1;
    return r;
}

/* US-MA (state MA): calls 08:00-21:00; at most 1 call in 7 days; email
 * needs an opt-out notice; sms only to consumers flagged attorney (blocked);
 * a rule in force from 2030 only. US-CA (state CA), and a creditor's policy
 * (creditor "Acme"), neither of which applies to a consumer in MA without
 * a creditor. */
static tm_gate *test_gate(void)
{
    tm_gate *g = tm_gate_new();
    tm_gate_set_scripts_hash(g, "feedbeef");
    struct tm_err e = {0};
    tm_regulation ma = {0};
    snprintf(ma.id, sizeof ma.id, "US-MA");
    ma.name = strdup("Massachusetts");
    ma.script = strdup("/tree/regulations/states/ma.lua");
    snprintf(ma.states[0], 3, "MA");
    ma.nstates = 1;
    ma.rules = calloc(8, sizeof *ma.rules);
    tm_rule *r = add_rule(&ma, "US-MA/call-window", TM_RULE_WINDOW);
    r->channels = 1u << TM_CH_CALL;
    r->from_s = 8 * 3600;
    r->to_s = 21 * 3600;
    r = add_rule(&ma, "US-MA/call-frequency", TM_RULE_CAP);
    r->channels = 1u << TM_CH_CALL;
    r->count = 1;
    r->window_days = 7;
    r->of_channels = 1u << TM_CH_CALL;
    r = add_rule(&ma, "US-MA/email-optout", TM_RULE_REQUIRES);
    r->channels = 1u << TM_CH_EMAIL;
    snprintf(r->fields[0], sizeof r->fields[0], "optout_notice");
    r->nfields = 1;
    r = add_rule(&ma, "US-MA/attorney", TM_RULE_BLOCK);
    r->flags_any = 1u << TM_FL_ATTORNEY;
    r = add_rule(&ma, "US-MA/future", TM_RULE_BLOCK);
    r->effective_day = 21915; /* 2030-01-01 */
    ASSERT_OK(tm_gate_add(g, &ma, &e));
    tm_regulation ca = {0};
    snprintf(ca.id, sizeof ca.id, "US-CA");
    ca.script = strdup("/tree/regulations/states/ca.lua");
    snprintf(ca.states[0], 3, "CA");
    ca.nstates = 1;
    ca.rules = calloc(1, sizeof *ca.rules);
    add_rule(&ca, "US-CA/block", TM_RULE_BLOCK);
    ASSERT_OK(tm_gate_add(g, &ca, &e));
    tm_regulation acme = {0};
    snprintf(acme.id, sizeof acme.id, "POLICY-ACME");
    acme.creditors[0] = strdup("Acme");
    acme.ncreditors = 1;
    acme.rules = calloc(1, sizeof *acme.rules);
    add_rule(&acme, "POLICY-ACME/block", TM_RULE_BLOCK);
    ASSERT_OK(tm_gate_add(g, &acme, &e));
    return g;
}

static void parse(const char *line, tm_request *req)
{
    char *id = NULL;
    struct tm_err err = {0};
    int rc = tm_gate_request_parse(line, strlen(line), 1795392000, req, &id, &err);
    if (rc != TM_OK)
        fprintf(stderr, "%s\n", err.msg);
    ASSERT_OK(rc);
    free(id);
}

static const tm_rule_explain *find(const tm_explain *x, const char *qid)
{
    for (int i = 0; i < x->nregs; i++)
        for (int k = 0; k < x->regs[i].nrules; k++)
            if (strcmp(x->regs[i].rules[k].rule->qid, qid) == 0)
                return &x->regs[i].rules[k];
    return NULL;
}

TEST(explain_gives_each_regulation_and_rule_its_verdict_and_why)
{
    tm_gate *g = test_gate();
    tm_request req;
    /* A call at 07:30 in Boston with a call two days before. */
    parse("{\"id\":\"r1\",\"now\":\"2026-11-23T12:30:00Z\",\"channel\":\"call\","
          "\"consumer\":{\"state\":\"MA\",\"timezones\":[\"America/New_York\"]},"
          "\"history\":[{\"channel\":\"call\",\"at\":\"2026-11-21T15:00:00Z\"}]}",
          &req);
    tm_explain x;
    ASSERT_OK(tm_gate_explain(g, &req, &x));
    ASSERT_EQ(x.nregs, 3);
    ASSERT(x.regs[0].applies);
    ASSERT_CONTAINS(x.regs[0].why, "the consumer's state is MA");
    ASSERT(!x.regs[1].applies);
    ASSERT_STR_EQ(x.regs[1].why, "applies in CA only; the consumer's state is MA");
    ASSERT_EQ(x.regs[1].nrules, 0);
    ASSERT(!x.regs[2].applies);
    ASSERT_STR_EQ(x.regs[2].why, "applies to creditor Acme only; the request names no creditor");
    const tm_rule_explain *e = find(&x, "US-MA/call-window");
    ASSERT_EQ(e->verdict, TM_VERDICT_BLOCKED);
    ASSERT_CONTAINS(e->res.reason, "outside 08:00-21:00 local time in America/New_York (07:30");
    ASSERT_EQ(e->res.next, 1795438800); /* 2026-11-23T13:00:00Z, 08:00 in Boston */
    e = find(&x, "US-MA/call-frequency");
    ASSERT_EQ(e->verdict, TM_VERDICT_BLOCKED);
    ASSERT_CONTAINS(e->res.reason, "1 calls in the last 7 days");
    e = find(&x, "US-MA/email-optout");
    ASSERT_EQ(e->verdict, TM_VERDICT_NOT_APPLICABLE);
    ASSERT_STR_EQ(e->why, "applies to channel email only; this one is call");
    e = find(&x, "US-MA/attorney");
    ASSERT_EQ(e->verdict, TM_VERDICT_NOT_APPLICABLE);
    ASSERT_STR_EQ(e->why, "applies when the consumer is flagged attorney; no such flag");
    e = find(&x, "US-MA/future");
    ASSERT_EQ(e->verdict, TM_VERDICT_NOT_APPLICABLE);
    ASSERT_STR_EQ(e->why, "in force from 2030-01-01 only");
    /* The decision is tm_gate_decide's, and the blocked verdicts are its
     * blocked_by, in the same order. */
    tm_decision d;
    tm_request again;
    parse("{\"id\":\"r1\",\"now\":\"2026-11-23T12:30:00Z\",\"channel\":\"call\","
          "\"consumer\":{\"state\":\"MA\",\"timezones\":[\"America/New_York\"]},"
          "\"history\":[{\"channel\":\"call\",\"at\":\"2026-11-21T15:00:00Z\"}]}",
          &again);
    ASSERT_OK(tm_gate_decide(g, &again, &d));
    ASSERT_EQ(x.d.allow, d.allow);
    ASSERT_EQ(x.d.next_allowed, d.next_allowed);
    ASSERT_EQ(x.d.nblocked, d.nblocked);
    int nb = 0;
    for (int i = 0; i < x.nregs; i++)
        for (int k = 0; k < x.regs[i].nrules; k++)
            if (x.regs[i].rules[k].verdict == TM_VERDICT_BLOCKED) {
                ASSERT(nb < d.nblocked);
                ASSERT_STR_EQ(x.regs[i].rules[k].rule->qid, d.blocked[nb].rule->qid);
                nb++;
            }
    ASSERT_EQ(nb, d.nblocked);
    tm_gate_decision_free(&d);
    tm_gate_request_free(&again);
    tm_gate_explain_free(&x);
    tm_gate_request_free(&req);
    tm_gate_free(g);
}

TEST(explain_says_what_the_message_must_carry)
{
    tm_gate *g = test_gate();
    tm_request req;
    parse("{\"id\":\"r2\",\"now\":\"2026-11-23T15:00:00Z\",\"channel\":\"email\","
          "\"consumer\":{\"state\":\"MA\",\"flags\":[\"attorney\"]}}",
          &req);
    tm_explain x;
    ASSERT_OK(tm_gate_explain(g, &req, &x));
    const tm_rule_explain *e = find(&x, "US-MA/email-optout");
    ASSERT_EQ(e->verdict, TM_VERDICT_ALLOWED);
    ASSERT_EQ(e->res.nrequires, 1);
    ASSERT_STR_EQ(e->res.requires[0], "optout_notice");
    ASSERT_EQ(find(&x, "US-MA/attorney")->verdict, TM_VERDICT_BLOCKED);
    ASSERT_EQ(find(&x, "US-MA/call-window")->verdict, TM_VERDICT_NOT_APPLICABLE);
    ASSERT_EQ(x.d.nrequires, 1);
    /* The text names the rule that asks, and scripts relative to the tree. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    tm_explain_text(f, g, "/tree", &req, &x);
    fclose(f);
    ASSERT_CONTAINS(text, "decision: blocked by 1 rule; next allowed: no time will do");
    ASSERT_CONTAINS(text, "generation: feedbeef");
    ASSERT_CONTAINS(text, "US-MA  Massachusetts  (regulations/states/ma.lua)");
    ASSERT_CONTAINS(text, "  optout_notice (US-MA/email-optout)");
    ASSERT_CONTAINS(text, "  not applicable  call-window: applies to channel call only; this one is email");
    ASSERT_CONTAINS(text, "2 regulations do not apply:");
    free(text);
    /* The JSON is the decision line plus the explanation. */
    json_t *j = tm_explain_json(g, "/tree", &req, &x);
    ASSERT(j != NULL);
    ASSERT(json_is_false(json_object_get(j, "allow")));
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "scripts")), "feedbeef");
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "generation")), "feedbeef");
    json_t *regs = json_object_get(j, "regulations");
    ASSERT_EQ(json_array_size(regs), 3);
    json_t *ma = json_array_get(regs, 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(ma, "script")), "regulations/states/ma.lua");
    json_t *rules = json_object_get(ma, "rules");
    ASSERT_EQ(json_array_size(rules), 5);
    json_t *opt = json_array_get(rules, 2);
    ASSERT_STR_EQ(json_string_value(json_object_get(opt, "verdict")), "allowed");
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(opt, "requires"), 0)),
                  "optout_notice");
    json_t *att = json_array_get(rules, 3);
    ASSERT_STR_EQ(json_string_value(json_object_get(att, "verdict")), "blocked");
    ASSERT(json_is_null(json_object_get(att, "next_allowed_at")));
    ASSERT(json_object_get(json_array_get(regs, 1), "rules") == NULL);
    json_decref(j);
    tm_gate_explain_free(&x);
    tm_gate_request_free(&req);
    tm_gate_free(g);
}
