/*
 * tests/unit/test_gate_wire.c: the decide wire format (core/gate_wire.h) on
 * its own, without Lua: a request line into a tm_request (fields, defaults,
 * times of day, errors naming the field), and a decision out as its JSON
 * line, checked against jansson's reading of it.
 */
#include "harness.h"

#include <jansson.h>

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
