/*
 * tests/unit/test_gate_wire.c: the decide wire format (core/gate_wire.h) on
 * its own, without Lua: a request line into a tm_request (fields, defaults,
 * times of day, errors naming the field), and a decision out as its JSON
 * line, checked against jansson's reading of it.
 */
#include "harness.h"

#include <jansson.h>

#include "calendar.h"
#include "gate.h"
#include "gate_wire.h"

static int parse(const char *line, tm_request *req, struct tm_err *err)
{
    char *id = NULL;
    int rc = tm_gate_request_parse(line, strlen(line), 1795392000, req, &id, err);
    free(id);
    return rc;
}

TEST(request_fields_and_times_of_day)
{
    tm_request req;
    struct tm_err err = {0};
    ASSERT_OK(parse("{\"id\":\"r1\",\"now\":\"2026-11-23T14:05:00Z\",\"channel\":\"sms\","
                    "\"consumer\":{\"state\":\"MA\",\"flags\":[\"attorney\"],"
                    "\"inconvenient\":[{\"days\":[\"sun\"]},{\"from\":\"9:00\",\"to\":\"24:00\"},"
                    "{\"from\":\"12:30\",\"to\":\"13:00\"}]}}",
                    &req, &err));
    ASSERT_STR_EQ(req.id_json, "\"r1\"");
    ASSERT_EQ(req.now, 1795442700);
    ASSERT_EQ(req.channel, TM_CH_SMS);
    ASSERT_EQ(req.place, TM_PLACE_PERSONAL);
    ASSERT_EQ(req.purpose, TM_PU_COLLECTION);
    ASSERT_STR_EQ(req.state, "MA");
    ASSERT_EQ(req.flags, 1u << TM_FL_ATTORNEY);
    ASSERT(req.nzones >= 1);
    ASSERT_EQ(req.inconvenient_days, 1);
    ASSERT_EQ(req.nranges, 2);
    ASSERT_EQ(req.range_from[0], 9 * 3600);
    ASSERT_EQ(req.range_to[0], 86400);
    ASSERT_EQ(req.range_from[1], 12 * 3600 + 1800);
    ASSERT_EQ(req.range_to[1], 13 * 3600);
    tm_gate_request_free(&req);
    /* No "now": the default is used. */
    ASSERT_OK(parse("{\"id\":7,\"channel\":\"call\",\"consumer\":{\"state\":\"TX\"}}", &req, NULL));
    ASSERT_EQ(req.now, 1795392000);
    ASSERT_STR_EQ(req.id_json, "7");
    tm_gate_request_free(&req);
}

TEST(request_errors_name_the_field)
{
    static const struct {
        const char *line, *msg;
    } bad[] = {
        {"[1]", "request: must be a JSON object"},
        {"{\"channel\":\"call\",\"consumer\":{\"state\":\"MA\"}}", "id: is required"},
        {"{\"id\":\"x\",\"channel\":\"fax\",\"consumer\":{\"state\":\"MA\"}}", "channel"},
        {"{\"id\":\"x\",\"channel\":\"call\",\"consumer\":{\"state\":\"ZZ\"}}",
         "consumer.state: unknown state 'ZZ'"},
        {"{\"id\":\"x\",\"channel\":\"call\",\"consumer\":{\"state\":\"MA\","
         "\"inconvenient\":[{\"from\":\" 9:00\",\"to\":\"10:00\"}]}}",
         "consumer.inconvenient[0].from: must be a local time \"HH:MM\""},
        {"{\"id\":\"x\",\"channel\":\"call\",\"consumer\":{\"state\":\"MA\","
         "\"inconvenient\":[{\"from\":\"09:00\",\"to\":\"24:30\"}]}}",
         "consumer.inconvenient[0].to: must be a local time \"HH:MM\""},
        {"{\"id\":\"x\",\"channel\":\"call\",\"consumer\":{\"state\":\"MA\"}", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tm_request req;
        struct tm_err err = {0};
        ASSERT_EQ(parse(bad[i].line, &req, &err), TM_EINVAL);
        ASSERT_CONTAINS(err.msg, bad[i].msg);
        tm_gate_request_free(&req); /* nothing left to free: harmless */
    }
}

TEST(decision_json_reads_back)
{
    tm_gate *g = tm_gate_new();
    ASSERT(g != NULL);
    tm_gate_set_scripts_hash(g, "abc123");
    tm_request req;
    ASSERT_OK(parse("{\"id\":\"r\\\"1\",\"now\":\"2026-11-23T14:05:00Z\",\"channel\":\"call\","
                    "\"consumer\":{\"state\":\"MA\"}}",
                    &req, NULL));
    tm_rule rule = {0};
    snprintf(rule.qid, sizeof rule.qid, "US-MA/quote\"rule");
    rule.cite = (char *)"940 CMR 7.04(1)(f)";
    tm_rule_result blocked = {0};
    blocked.rule = &rule;
    blocked.blocked = 1;
    blocked.next = 1795449600; /* 2026-11-23T16:00:00Z */
    snprintf(blocked.reason, sizeof blocked.reason, "tab\there");
    tm_decision d = {0};
    d.allow = 0;
    d.next_allowed = TM_GATE_NEVER;
    d.blocked = &blocked;
    d.nblocked = 1;
    snprintf(d.requires[0], sizeof d.requires[0], "optout_notice");
    d.nrequires = 1;
    char buf[1024];
    int n = tm_gate_decision_json(g, &req, &d, buf, sizeof buf);
    ASSERT(n > 0);
    ASSERT_EQ(strlen(buf), n);
    json_error_t je;
    json_t *j = json_loads(buf, 0, &je);
    ASSERT(j != NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "id")), "r\"1");
    ASSERT(json_is_false(json_object_get(j, "allow")));
    ASSERT(json_is_null(json_object_get(j, "next_allowed_at")));
    json_t *b = json_array_get(json_object_get(j, "blocked_by"), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(b, "rule")), "US-MA/quote\"rule");
    ASSERT_STR_EQ(json_string_value(json_object_get(b, "reason")), "tab\there");
    ASSERT_STR_EQ(json_string_value(json_object_get(b, "next_allowed_at")), "2026-11-23T16:00:00Z");
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(j, "requires"), 0)),
                  "optout_notice");
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "scripts")), "abc123");
    json_decref(j);
    /* Too small a buffer is -1, at every size short of the whole line. */
    for (int cap = 0; cap <= n; cap++)
        ASSERT_EQ(tm_gate_decision_json(g, &req, &d, buf, (size_t)cap), -1);
    tm_gate_request_free(&req);
    tm_gate_free(g);
}

TEST(unknown_fields_are_warnings_with_did_you_mean)
{
    tm_request req;
    struct tm_err err = {0};
    /* "timezone" for "timezones": the decision is still given, the field named. */
    ASSERT_OK(parse("{\"id\":\"w\",\"channel\":\"call\",\"consumer\":{\"state\":\"NY\","
                    "\"timezone\":[\"America/Chicago\"],\"inconvenient\":[{\"form\":\"09:00\","
                    "\"to\":\"10:00\",\"from\":\"08:00\"}]},\"debt\":{\"tpye\":\"medical\"},"
                    "\"history\":[{\"channel\":\"call\",\"at\":\"2026-11-20T15:00:00Z\","
                    "\"outcomes\":\"attempt\"}],\"zzzzzz\":1,\"Channel\":2}",
                    &req, &err));
    ASSERT_STR_EQ(req.warnings, "zzzzzz: unknown field, not read\n"
                                "Channel: unknown field, not read (did you mean \"channel\"?)\n"
                                "consumer.timezone: unknown field, not read (did you mean \"timezones\"?)\n"
                                "consumer.inconvenient[0].form: unknown field, not read (did you mean \"from\"?)\n"
                                "debt.tpye: unknown field, not read (did you mean \"type\"?)\n"
                                "history[0].outcomes: unknown field, not read (did you mean \"outcome\"?)");
    /* The zones are the state's, as if the field were absent. */
    ASSERT(req.nzones >= 1);
    tm_gate *g = tm_gate_new();
    tm_decision d = {0};
    d.allow = 1;
    d.next_allowed = req.now;
    char buf[2048];
    ASSERT(tm_gate_decision_json(g, &req, &d, buf, sizeof buf) > 0);
    json_t *j = json_loads(buf, 0, NULL);
    ASSERT(j != NULL);
    json_t *w = json_object_get(j, "warnings");
    ASSERT_EQ(json_array_size(w), 6);
    ASSERT_STR_EQ(json_string_value(json_array_get(w, 2)),
                  "consumer.timezone: unknown field, not read (did you mean \"timezones\"?)");
    json_decref(j);
    tm_gate_request_free(&req);
    /* A request with only known fields has no warnings member at all. */
    ASSERT_OK(parse("{\"id\":1,\"channel\":\"call\",\"consumer\":{\"state\":\"NY\"},"
                    "\"message\":{\"anything\":true}}", &req, NULL));
    ASSERT(req.warnings == NULL);
    ASSERT(tm_gate_decision_json(g, &req, &d, buf, sizeof buf) > 0);
    ASSERT(strstr(buf, "warnings") == NULL);
    tm_gate_request_free(&req);
    tm_gate_free(g);
}

TEST(format_time)
{
    char b[40];
    tm_gate_format_time(0, b, sizeof b);
    ASSERT_STR_EQ(b, "1970-01-01T00:00:00Z");
    tm_gate_format_time(1795442700, b, sizeof b);
    ASSERT_STR_EQ(b, "2026-11-23T14:05:00Z");
    tm_gate_format_time(-1, b, sizeof b);
    ASSERT_STR_EQ(b, "1969-12-31T23:59:59Z");
}

TEST(optional_fields_parse)
{
    tm_request req;
    struct tm_err err = {0};
    ASSERT_OK(parse("{\"id\":\"r\",\"now\":\"2026-11-23T14:05:00Z\",\"channel\":\"call\","
                    "\"dialer\":\"prerecorded\",\"line\":\"landline\",\"collector\":\"third_party\","
                    "\"consumer\":{\"state\":\"MA\",\"language\":\"es-US\","
                    "\"consent\":{\"more_calls_at\":\"2026-11-20T10:00:00Z\"},"
                    "\"attorney\":{\"since\":\"2026-10-01\",\"consented\":false,\"responded\":false,"
                    "\"asked_at\":\"2026-10-02T15:00:00Z\"},"
                    "\"requests\":[{\"type\":\"no_calls_at\",\"at\":\"2026-11-01T12:00:00Z\",\"form\":\"oral\","
                    "\"from\":\"18:00\",\"to\":\"20:30\"},{\"type\":\"contact_only_by\","
                    "\"at\":\"2026-11-02T12:00:00Z\",\"channels\":[\"letter\",\"email\"]}]},"
                    "\"debt\":{\"owner\":\"debt_buyer\",\"last_payment_date\":\"2022-01-10\","
                    "\"default_date\":\"2022-02-10\",\"notices\":{\"validation\":\"2026-11-01\"}},"
                    "\"history\":[{\"channel\":\"letter\",\"at\":\"2026-11-01T12:00:00Z\","
                    "\"required_by_law\":true,\"purpose\":\"validation_notice\"}]}",
                    &req, &err));
    ASSERT_EQ(req.dialer, TM_DIALER_PRERECORDED);
    ASSERT_EQ(req.line, TM_LINE_LANDLINE);
    ASSERT_STR_EQ(req.language, "es-US");
    ASSERT_EQ(req.owner, TM_OWNER_DEBT_BUYER);
    ASSERT_EQ(req.default_day - req.last_payment_day, 31);
    ASSERT_EQ(req.more_calls_at, 1795392000 - 3 * 86400 + 10 * 3600);
    ASSERT(req.attorney.present);
    ASSERT(req.flags & (1u << TM_FL_ATTORNEY));
    ASSERT_EQ(req.attorney.consented, TM_TRI_FALSE);
    ASSERT_EQ(req.attorney.responded, TM_TRI_FALSE);
    ASSERT_EQ(req.nrequests, 2);
    ASSERT_EQ(req.requests[0].type, TM_CREQ_NO_CALLS_AT);
    ASSERT_EQ(req.requests[0].form, TM_FORM_ORAL);
    ASSERT_EQ(req.requests[0].from_s, 18 * 3600);
    ASSERT_EQ(req.requests[0].to_s, 20 * 3600 + 1800);
    ASSERT_EQ(req.requests[1].form, TM_GATE_ABSENT);
    ASSERT_EQ(req.requests[1].channels, (1u << TM_CH_LETTER) | (1u << TM_CH_EMAIL));
    ASSERT(tm_gate_notice(&req, "validation") != INT64_MIN);
    ASSERT_EQ(tm_gate_notice(&req, "medical_60_day"), INT64_MIN);
    ASSERT_EQ(req.nhistory, 1);
    ASSERT_EQ(req.history[0].required_by_law, TM_TRI_TRUE);
    ASSERT_EQ(req.history[0].purpose, TM_PU_VALIDATION_NOTICE);
    tm_gate_request_free(&req);
    /* Not given: absent, not a default value. */
    ASSERT_OK(parse("{\"id\":\"r\",\"channel\":\"call\",\"consumer\":{\"state\":\"MA\"},"
                    "\"history\":[{\"channel\":\"call\",\"at\":\"2026-11-01T12:00:00Z\"}]}", &req, NULL));
    ASSERT_EQ(req.dialer, TM_GATE_ABSENT);
    ASSERT_EQ(req.line, TM_GATE_ABSENT);
    ASSERT_EQ(req.owner, TM_GATE_ABSENT);
    ASSERT_EQ(req.default_day, INT64_MIN);
    ASSERT_EQ(req.more_calls_at, INT64_MIN);
    ASSERT(!req.attorney.present);
    ASSERT_EQ(req.language[0], '\0');
    ASSERT_EQ(req.history[0].required_by_law, TM_TRI_ABSENT);
    ASSERT_EQ(req.history[0].purpose, TM_GATE_ABSENT);
    tm_gate_request_free(&req);
}

TEST(optional_field_errors_name_the_field)
{
#define R(extra) "{\"id\":\"x\",\"now\":\"2026-11-23T14:05:00Z\",\"channel\":\"call\"," extra "}"
#define C(extra) R("\"consumer\":{\"state\":\"MA\"," extra "}")
#define D(extra) R("\"consumer\":{\"state\":\"MA\"},\"debt\":{" extra "}")
    static const struct {
        const char *line, *msg;
    } bad[] = {
        {R("\"dialer\":\"robot\",\"consumer\":{\"state\":\"MA\"}"), "dialer: unknown value 'robot'"},
        {R("\"line\":\"fax\",\"consumer\":{\"state\":\"MA\"}"), "line: unknown value 'fax'"},
        {D("\"owner\":\"bank\""), "debt.owner: unknown value 'bank'"},
        {R("\"collector\":\"debt_buyer\",\"consumer\":{\"state\":\"MA\"},\"debt\":{\"owner\":\"original_creditor\"}"),
         "debt.owner"},
        {D("\"default_date\":\"2026-02-30\""), "debt.default_date"},
        {D("\"last_payment_date\":\"2025-05-01\",\"default_date\":\"2025-04-01\""), "debt.default_date"},
        {D("\"notices\":{\"validation\":\"2026-13-01\"}"), "debt.notices.validation"},
        {D("\"notices\":{\"validation\":\"2026-11-24\"}"), "debt.notices.validation: is after now"},
        {D("\"notices\":{\"Bad Name\":\"2026-11-01\"}"), "debt.notices.Bad Name"},
        {C("\"language\":\"Spanish!\""), "consumer.language"},
        {C("\"attorney\":{\"since\":\"2026-11-24\"}"), "consumer.attorney.since: is after now"},
        {C("\"attorney\":{\"since\":\"2026-11-31\"}"), "consumer.attorney.since"},
        {C("\"attorney\":{\"nickname\":\"Bob\"}"), "consumer.attorney.nickname: unknown field"},
        {C("\"attorney\":{\"consented\":\"yes\"}"), "consumer.attorney.consented"},
        {C("\"attorney\":{\"asked_at\":\"2026-11-24T00:00:00Z\"}"), "consumer.attorney.asked_at"},
        {C("\"attorney\":true"), "consumer.attorney: must be an object"},
        {C("\"requests\":[{\"type\":\"be_nice\",\"at\":\"2026-11-01T00:00:00Z\"}]"), "consumer.requests[0].type"},
        {C("\"requests\":[{\"type\":\"no_work_contact\"}]"), "consumer.requests[0].at: is required"},
        {C("\"requests\":[{\"type\":\"no_work_contact\",\"at\":\"2026-11-01T00:00:00Z\",\"form\":\"sung\"}]"),
         "consumer.requests[0].form"},
        {C("\"requests\":[{\"type\":\"no_calls_at\",\"at\":\"2026-11-01T00:00:00Z\",\"from\":\"18:00\"}]"),
         "consumer.requests[0]: no_calls_at needs both from and to"},
        {C("\"requests\":[{\"type\":\"contact_only_by\",\"at\":\"2026-11-01T00:00:00Z\",\"channels\":[\"fax\"]}]"),
         "consumer.requests[0].channels"},
        {C("\"requests\":[{\"type\":\"no_work_contact\",\"at\":\"2026-12-01T00:00:00Z\"}]"),
         "consumer.requests[0].at"},
        {C("\"consent\":{\"more_calls_at\":\"yesterday\"}"), "consumer.consent.more_calls_at"},
        {R("\"consumer\":{\"state\":\"MA\"},\"history\":[{\"channel\":\"call\",\"at\":\"2026-11-01T00:00:00Z\","
           "\"required_by_law\":\"yes\"}]"),
         "history[0].required_by_law"},
        {R("\"consumer\":{\"state\":\"MA\"},\"history\":[{\"channel\":\"call\",\"at\":\"2026-11-01T00:00:00Z\","
           "\"direction\":\"sideways\"}]"),
         "history[0].direction"},
    };
#undef R
#undef C
#undef D
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tm_request req;
        struct tm_err err = {0};
        int rc = parse(bad[i].line, &req, &err);
        if (rc != TM_EINVAL)
            fprintf(stderr, "case %zu accepted: %s\n", i, bad[i].line);
        ASSERT_EQ(rc, TM_EINVAL);
        if (!strstr(err.msg, bad[i].msg))
            fprintf(stderr, "case %zu: %s\n", i, err.msg);
        ASSERT_CONTAINS(err.msg, bad[i].msg);
        tm_gate_request_free(&req);
    }
}

TEST(decision_json_time_barred_fields)
{
    tm_gate *g = tm_gate_new();
    ASSERT(g != NULL);
    tm_request req;
    ASSERT_OK(parse("{\"id\":\"r\",\"now\":\"2026-11-23T14:05:00Z\",\"channel\":\"call\","
                    "\"consumer\":{\"state\":\"MA\"}}", &req, NULL));
    req.time_barred = TM_TRI_TRUE;
    tm_rule margin = {0};
    snprintf(margin.qid, sizeof margin.qid, "POLICY-X/margin");
    margin.kind = TM_RULE_MARGIN;
    margin.margin_days = 30;
    tm_decision d = {0};
    d.allow = 1;
    d.next_allowed = TM_GATE_NEVER;
    snprintf(d.assumed[0], sizeof d.assumed[0], "debt.owner");
    snprintf(d.assumed[1], sizeof d.assumed[1], "history[].required_by_law");
    d.nassumed = 2;
    d.barred_by = TM_BARRED_POLICY;
    d.time_barred_on = 20423; /* 2025-12-01 */
    d.margin = &margin;
    d.margin_on = 20423 - 30;
    char buf[1024];
    ASSERT(tm_gate_decision_json(g, &req, &d, buf, sizeof buf) > 0);
    json_error_t je;
    json_t *j = json_loads(buf, 0, &je);
    ASSERT(j != NULL);
    json_t *a = json_object_get(j, "assumed");
    ASSERT_EQ(json_array_size(a), 2);
    ASSERT_STR_EQ(json_string_value(json_array_get(a, 1)), "history[].required_by_law");
    ASSERT(json_is_true(json_object_get(j, "time_barred")));
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "time_barred_on")), "2025-12-01");
    ASSERT_STR_EQ(json_string_value(json_object_get(j, "time_barred_by")), "policy");
    json_t *p = json_object_get(j, "time_barred_policy");
    ASSERT_STR_EQ(json_string_value(json_object_get(p, "rule")), "POLICY-X/margin");
    ASSERT_EQ(json_integer_value(json_object_get(p, "margin_days")), 30);
    ASSERT_STR_EQ(json_string_value(json_object_get(p, "on")), "2025-11-01");
    json_decref(j);
    /* Not worked out: null, and no policy. */
    d.time_barred_on = INT64_MIN;
    d.margin = NULL;
    req.time_barred = TM_TRI_FALSE;
    ASSERT(tm_gate_decision_json(g, &req, &d, buf, sizeof buf) > 0);
    j = json_loads(buf, 0, &je);
    ASSERT(j != NULL);
    ASSERT(json_is_null(json_object_get(j, "time_barred_on")));
    ASSERT(json_object_get(j, "time_barred_policy") == NULL);
    ASSERT(json_object_get(j, "time_barred_by") == NULL);
    json_decref(j);
    tm_gate_request_free(&req);
    tm_gate_free(g);
}

/* Days since 1970 of a civil date. */
static int64_t D(int y, int m, int d)
{
    return tm_calendar_days_from_civil(y, m, d);
}

TEST(limitation_last_day)
{
    tm_sol sol = {0};
    snprintf(sol.state, sizeof sol.state, "XX");
    for (int k = 0; k < TM_DT__COUNT; k++)
        sol.years[k] = 4;
    sol.years[TM_DT_MEDICAL] = 0;
    /* No roll: the anniversary, whatever day it is (a Sunday here). */
    ASSERT_EQ(tm_gate_sol_last_day(&sol, TM_DT_CREDIT_CARD, D(2022, 11, 22)), D(2026, 11, 22));
    /* A leap day: the last day of February. */
    ASSERT_EQ(tm_gate_sol_last_day(&sol, TM_DT_CREDIT_CARD, D(2024, 2, 29)), D(2028, 2, 29));
    sol.years[TM_DT_OTHER] = 3;
    ASSERT_EQ(tm_gate_sol_last_day(&sol, TM_DT_OTHER, D(2024, 2, 29)), D(2027, 2, 28));
    /* Unknown period. */
    ASSERT_EQ(tm_gate_sol_last_day(&sol, TM_DT_MEDICAL, D(2024, 2, 29)), INT64_MIN);
    /* Weekends and federal holidays: Sunday -> Monday; Thanksgiving Thursday -> Friday. */
    sol.roll = 1;
    sol.roll_weekdays = (1u << 0) | (1u << 6);
    sol.roll_federal = 1;
    ASSERT_EQ(tm_gate_sol_last_day(&sol, TM_DT_CREDIT_CARD, D(2022, 11, 22)), D(2026, 11, 23));
    ASSERT_EQ(tm_gate_sol_last_day(&sol, TM_DT_CREDIT_CARD, D(2022, 11, 26)), D(2026, 11, 27));
    /* The state's own: the day after Thanksgiving, and Dec 25 observed. */
    sol.holidays[0] = (tm_sol_holiday){.month = 11, .nth = 4, .wday = 4, .offset = 1};
    sol.holidays[1] = (tm_sol_holiday){.month = 12, .day = 25, .observed = 1};
    sol.nholidays = 2;
    ASSERT_EQ(tm_gate_sol_last_day(&sol, TM_DT_CREDIT_CARD, D(2022, 11, 26)), D(2026, 11, 30));
    ASSERT(tm_gate_sol_is_holiday(&sol, D(2027, 12, 24))); /* Christmas 2027 is a Saturday */
    ASSERT(!tm_gate_sol_is_holiday(&sol, D(2027, 12, 23)));
    ASSERT(tm_gate_sol_is_holiday(&sol, D(2022, 12, 26))); /* Christmas 2022 is a Sunday */
    /* Years limit a holiday. */
    sol.holidays[2] = (tm_sol_holiday){.month = 9, .nth = 4, .wday = 5, .from_year = 2015};
    sol.nholidays = 3;
    ASSERT(tm_gate_sol_is_holiday(&sol, D(2026, 9, 25)));
    ASSERT(!tm_gate_sol_is_holiday(&sol, D(2014, 9, 26)));
}
