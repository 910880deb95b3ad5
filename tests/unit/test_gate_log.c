/*
 * tests/unit/test_gate_log.c: the gate's decision log (core/gate_log.h):
 * a request encoded and decoded again is the request the gate judged
 * (every field the gate reads), a decision kept in a store reads back with
 * its rules and generation by name, a batch's digest changes when a kept
 * row is changed, and bytes that are damaged or cut short are an error,
 * never a crash.
 */
#include "harness.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gate_log.h"
#include "gate_wire.h"
#include "store.h"

static const char full_request[] =
    "{\"id\":\"r1\",\"now\":\"2026-11-23T14:05:00Z\",\"channel\":\"call\",\"place\":\"work\","
    "\"purpose\":\"collection\",\"collector\":\"debt_buyer\","
    "\"consumer\":{\"state\":\"TX\",\"city\":\"Austin\",\"timezones\":[\"America/Chicago\",\"America/Denver\"],"
    "\"flags\":[\"attorney\",\"scra\"],\"consent\":{\"sms\":true,\"autodial\":true},\"optout\":[\"email\"],"
    "\"inconvenient\":[{\"days\":[\"sun\",\"sat\"]},{\"from\":\"12:00\",\"to\":\"13:30\"}]},"
    "\"creditor\":\"Acme Bank\","
    "\"debt\":{\"id\":\"D-77\",\"type\":\"medical\",\"dispute\":\"pending\",\"last_payment_date\":\"2019-05-01\","
    "\"charge_off_date\":\"2019-09-30\",\"time_barred\":false},"
    "\"message\":{\"optout_notice\":true,\"threatens_suit\":false},"
    "\"history\":[{\"channel\":\"call\",\"at\":\"2026-11-20T15:00:00Z\",\"outcome\":\"voicemail\",\"place\":\"personal\"},"
    "{\"channel\":\"sms\",\"at\":\"2026-11-22T09:00:07Z\",\"outcome\":\"delivered\",\"debt\":\"D-9\"}]}";

/* An in-memory name table for the encoding alone. */
typedef struct names {
    char *v[64];
    int n;
} names;

static int mem_intern(void *ud, const char *name, int64_t *id, struct tm_err *err)
{
    (void)err;
    names *t = ud;
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->v[i], name) == 0) {
            *id = i + 1;
            return TM_OK;
        }
    t->v[t->n] = strdup(name);
    *id = ++t->n;
    return TM_OK;
}

static const char *mem_name(void *ud, int64_t id)
{
    names *t = ud;
    return id >= 1 && id <= t->n ? t->v[id - 1] : NULL;
}

static void names_free(names *t)
{
    for (int i = 0; i < t->n; i++)
        free(t->v[i]);
}

/* The same request with every field the gate reads given, the optional
 * facts too (each one not its "not given" value). */
static const char all_request[] =
    "{\"id\":\"r2\",\"now\":\"2026-11-23T14:05:00Z\",\"channel\":\"call\",\"place\":\"work\","
    "\"purpose\":\"collection\",\"collector\":\"debt_buyer\",\"dialer\":\"autodialer\",\"line\":\"voip\","
    "\"consumer\":{\"state\":\"TX\",\"city\":\"Austin\",\"timezones\":[\"America/Chicago\",\"America/Denver\"],"
    "\"flags\":[\"scra\"],\"consent\":{\"sms\":true,\"autodial\":true,\"more_calls_at\":\"2026-11-21T16:00:09Z\"},"
    "\"optout\":[\"email\"],\"language\":\"es-US\","
    "\"inconvenient\":[{\"days\":[\"sun\",\"sat\"]},{\"from\":\"12:00\",\"to\":\"13:30\"}],"
    "\"attorney\":{\"since\":\"2026-10-01\",\"consented\":true,\"responded\":false,"
    "\"asked_at\":\"2026-11-01T10:00:00Z\"},"
    "\"requests\":[{\"type\":\"no_calls_at\",\"at\":\"2026-11-02T10:00:00Z\",\"form\":\"written\","
    "\"from\":\"18:00\",\"to\":\"20:30\"},"
    "{\"type\":\"contact_only_by\",\"at\":\"2026-11-03T10:00:30Z\",\"channels\":[\"email\",\"letter\"]},"
    "{\"type\":\"no_work_contact\",\"at\":\"2026-11-04T00:00:00Z\",\"form\":\"oral\"}]},"
    "\"creditor\":\"Acme Bank\","
    "\"debt\":{\"id\":\"D-77\",\"type\":\"medical\",\"dispute\":\"pending\",\"last_payment_date\":\"2019-05-01\","
    "\"charge_off_date\":\"2019-09-30\",\"default_date\":\"2019-06-01\",\"time_barred\":true,"
    "\"owner\":\"debt_buyer\",\"notices\":{\"validation\":\"2026-10-15\",\"medical_60_day\":\"2026-09-01\"}},"
    "\"message\":{\"optout_notice\":true,\"threatens_suit\":false},"
    "\"history\":[{\"channel\":\"call\",\"at\":\"2026-11-20T15:00:00Z\",\"outcome\":\"voicemail\","
    "\"place\":\"personal\",\"required_by_law\":false,\"purpose\":\"collection\"},"
    "{\"channel\":\"letter\",\"at\":\"2026-11-21T09:00:00Z\",\"outcome\":\"delivered\","
    "\"required_by_law\":true,\"purpose\":\"validation_notice\",\"direction\":\"outbound\"},"
    "{\"channel\":\"sms\",\"at\":\"2026-11-22T09:00:07Z\",\"outcome\":\"delivered\",\"debt\":\"D-9\","
    "\"direction\":\"inbound\"}]}";

/* full_request encoded by version 1 (before the optional facts were kept),
 * inline debt, with the names numbered as mem_intern numbers them in
 * v1_names: a row of an older store. */
static const uint8_t v1_full[] = "\x01\xee\xa7\x0d\x54\x58\x01\x02\x04\x44\x2d\x37\x37\x02\x03\x04\x18\x82"
                                 "\x80\x04\x04\x41\x01\xc0\xd1\x02\xd8\xfb\x02\xc2\x99\x02\xf2\x9b\x02\x02"
                                 "\x0b\x0c\x02\x10\xa5\x85\x01\xa1\x02\xd4\xc7\x19";
static const char *const v1_names[] = {"Austin", "Acme Bank", "America/Chicago", "America/Denver",
                                       "optout_notice", "threatens_suit", NULL};

static int str_differ(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* The first field the gate reads that differs between `a` and `b` (its
 * path), or "" when they are the same: every field of tm_request but the
 * id and the warnings, which are not kept. A field added to tm_request
 * belongs here (see the sizes checked below). */
static const char *request_diff(const tm_request *a, const tm_request *b)
{
#define F(cond, name)                                                                              \
    do {                                                                                           \
        if (cond)                                                                                  \
            return name;                                                                           \
    } while (0)
    F(a->now != b->now, "now");
    F(a->channel != b->channel, "channel");
    F(a->place != b->place, "place");
    F(a->purpose != b->purpose, "purpose");
    F(a->collector != b->collector, "collector");
    F(strcmp(a->state, b->state) != 0, "consumer.state");
    F(str_differ(a->city, b->city), "consumer.city");
    F(str_differ(a->creditor, b->creditor), "creditor");
    F(a->nzones != b->nzones, "consumer.timezones");
    for (int i = 0; i < a->nzones; i++)
        F(a->zones[i] != b->zones[i], "consumer.timezones[]");
    F(a->flags != b->flags, "consumer.flags");
    F(a->consent != b->consent, "consumer.consent");
    F(a->optout != b->optout, "consumer.optout");
    F(a->inconvenient_days != b->inconvenient_days, "consumer.inconvenient.days");
    F(a->nranges != b->nranges, "consumer.inconvenient ranges");
    for (int i = 0; i < a->nranges; i++)
        F(a->range_from[i] != b->range_from[i] || a->range_to[i] != b->range_to[i],
          "consumer.inconvenient[].from/to");
    F(str_differ(a->debt_id, b->debt_id), "debt.id");
    F(a->debt_type != b->debt_type, "debt.type");
    F(a->dispute != b->dispute, "debt.dispute");
    F(a->last_payment_day != b->last_payment_day, "debt.last_payment_date");
    F(a->charge_off_day != b->charge_off_day, "debt.charge_off_date");
    F(a->time_barred_given != b->time_barred_given, "debt.time_barred (given)");
    F(a->time_barred_given && a->time_barred != b->time_barred, "debt.time_barred");
    F(a->nmsg != b->nmsg, "message");
    for (int i = 0; i < a->nmsg; i++)
        F(strcmp(a->msg[i].name, b->msg[i].name) != 0 || a->msg[i].value != b->msg[i].value,
          "message.*");
    F(a->nhistory != b->nhistory, "history");
    for (int i = 0; i < a->nhistory; i++) {
        const tm_history *x = &a->history[i], *y = &b->history[i];
        F(x->channel != y->channel, "history[].channel");
        F(x->outcome != y->outcome, "history[].outcome");
        F(x->place != y->place, "history[].place");
        F(x->direction != y->direction, "history[].direction");
        F((x->other_debt != 0) != (y->other_debt != 0), "history[].debt");
        F(x->at != y->at, "history[].at");
        F(x->required_by_law != y->required_by_law, "history[].required_by_law");
        F(x->purpose != y->purpose, "history[].purpose");
    }
    F(a->owner != b->owner, "debt.owner");
    F(a->dialer != b->dialer, "dialer");
    F(a->line != b->line, "line");
    F(strcmp(a->language, b->language) != 0, "consumer.language");
    F(a->default_day != b->default_day, "debt.default_date");
    F(a->nnotices != b->nnotices, "debt.notices");
    for (int i = 0; i < a->nnotices; i++)
        F(strcmp(a->notices[i].name, b->notices[i].name) != 0 || a->notices[i].day != b->notices[i].day,
          "debt.notices.*");
    F(a->attorney.present != b->attorney.present, "consumer.attorney");
    F(a->attorney.since_day != b->attorney.since_day, "consumer.attorney.since");
    F(a->attorney.consented != b->attorney.consented, "consumer.attorney.consented");
    F(a->attorney.responded != b->attorney.responded, "consumer.attorney.responded");
    F(a->attorney.asked_at != b->attorney.asked_at, "consumer.attorney.asked_at");
    F(a->nrequests != b->nrequests, "consumer.requests");
    for (int i = 0; i < a->nrequests; i++) {
        const tm_consumer_request *x = &a->requests[i], *y = &b->requests[i];
        F(x->type != y->type, "consumer.requests[].type");
        F(x->at != y->at, "consumer.requests[].at");
        F(x->form != y->form, "consumer.requests[].form");
        F(x->from_s != y->from_s || x->to_s != y->to_s, "consumer.requests[].from/to");
        F(x->channels != y->channels, "consumer.requests[].channels");
    }
    F(a->more_calls_at != b->more_calls_at, "consumer.consent.more_calls_at");
#undef F
    return "";
}

/* A tripwire for request_diff and the encoding: a field added to the
 * request (or its parts) changes these sizes, and the test says to keep
 * it. The layout is the same on every LP64 target. */
TEST(the_request_has_the_fields_the_encoding_knows)
{
#if UINTPTR_MAX == UINT64_MAX
    ASSERT_EQ(sizeof(tm_history), 40);
    ASSERT_EQ(sizeof(tm_notice), 40);
    ASSERT_EQ(sizeof(tm_consumer_request), 32);
    ASSERT_EQ(sizeof(tm_attorney), 32);
    ASSERT_EQ(sizeof(tm_request), 1864);
#endif
}

/* Parses, encodes (each way the debt's id may go) and decodes `json`: the
 * request decoded is the request parsed, field by field. *len gets the
 * inline encoding's size. */
static void round_trip(const char *json, size_t *len_out)
{
    tm_request req, back;
    char *id = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_gate_request_parse(json, strlen(json), 0, &req, &id, &e));
    names t = {0};
    uint8_t *bytes = NULL;
    size_t len = 0;
    for (int inline_debt = 0; inline_debt < 2; inline_debt++) {
        ASSERT_OK(tm_gate_log_encode(&req, inline_debt, mem_intern, &t, &bytes, &len, &e));
        ASSERT_EQ(bytes[0], TM_GATE_LOG_VERSION);
        ASSERT_OK(tm_gate_log_decode(bytes, len, req.now, req.channel,
                                     inline_debt || !req.debt_id ? NULL : req.debt_id, id, mem_name,
                                     &t, &back, &e));
        ASSERT_STR_EQ(request_diff(&req, &back), "");
        ASSERT_STR_EQ(back.id_json, id);
        tm_gate_request_free(&back);
        free(bytes);
    }
    *len_out = len;
    names_free(&t);
    free(id);
    tm_gate_request_free(&req);
}

TEST(a_request_encoded_and_decoded_is_the_request_judged)
{
    size_t len_full = 0, len_all = 0, len_min = 0;
    round_trip(full_request, &len_full);
    /* compact: well under the size of the JSON request; the optional facts
     * cost one byte when none is given */
    ASSERT(len_full < 64);
    ASSERT_EQ(len_full, sizeof v1_full - 1 + 1);
    round_trip(all_request, &len_all);
    ASSERT(len_all < 128);
    /* nothing given stays "not given" (not the enums' first value) */
    static const char minimal[] = "{\"id\":3,\"channel\":\"sms\",\"consumer\":{\"state\":\"NY\"}}";
    round_trip(minimal, &len_min);
    ASSERT(len_min < 16);
}

TEST(every_optional_fact_is_kept)
{
    /* all_request gives each fact: none of them is its "not given" value,
     * so the round trip above compares them for real. */
    tm_request req, none;
    char *id = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_gate_request_parse(all_request, strlen(all_request), 0, &req, &id, &e));
    tm_gate_request_init(&none);
    ASSERT_EQ(req.owner, TM_OWNER_DEBT_BUYER);
    ASSERT_EQ(req.dialer, TM_DIALER_AUTODIALER);
    ASSERT_EQ(req.line, TM_LINE_VOIP);
    ASSERT_STR_EQ(req.language, "es-US");
    ASSERT(req.default_day != INT64_MIN && req.nnotices == 2);
    ASSERT(req.attorney.present && req.attorney.since_day != INT64_MIN &&
           req.attorney.asked_at != INT64_MIN && req.attorney.consented == TM_TRI_TRUE &&
           req.attorney.responded == TM_TRI_FALSE);
    ASSERT_EQ(req.nrequests, 3);
    ASSERT(req.requests[0].form == TM_FORM_WRITTEN && req.requests[0].to_s == 20 * 3600 + 1800);
    ASSERT(req.requests[1].channels != 0 && req.requests[1].form == TM_GATE_ABSENT);
    ASSERT(req.more_calls_at != INT64_MIN);
    ASSERT(req.time_barred_given && req.time_barred == TM_TRI_TRUE);
    ASSERT(req.history[0].required_by_law == TM_TRI_FALSE && req.history[1].required_by_law == TM_TRI_TRUE &&
           req.history[2].required_by_law == TM_TRI_ABSENT);
    ASSERT(req.history[1].purpose == TM_PU_VALIDATION_NOTICE && req.history[2].purpose == TM_GATE_ABSENT);

    /* Each fact alone, set in C on a request that gives nothing else: kept
     * (the decoded request differs from one without it), whatever its
     * neighbours hold. */
    names t = {0};
    for (int k = 0; k < 14; k++) {
        tm_request r;
        tm_gate_request_init(&r);
        r.now = req.now;
        memcpy(r.state, "NY", 3);
        switch (k) {
        case 0: r.owner = TM_OWNER_ORIGINAL_CREDITOR; break;
        case 1: r.dialer = TM_DIALER_MANUAL; break;
        case 2: r.line = TM_LINE_CELL; break;
        case 3: memcpy(r.language, "zh-Hant-TW", 11); break;
        case 4: r.default_day = 0; break;
        case 5: r.notices[r.nnotices++] = (tm_notice){"validation", -3}; break;
        case 6: r.attorney.present = 1; break;
        case 7: r.attorney.since_day = 20000; break;
        case 8: r.attorney.asked_at = r.now - 7; break;
        case 9: r.attorney.responded = TM_TRI_TRUE; break;
        case 10: r.requests[r.nrequests++] = (tm_consumer_request){.type = TM_CREQ_NO_WORK_CONTACT,
                                                                   .at = r.now, .form = TM_GATE_ABSENT};
            break;
        case 11: r.more_calls_at = r.now - 86400 * 400; break;
        case 12: r.time_barred_given = 1; r.time_barred = TM_TRI_FALSE; break;
        case 13: r.requests[r.nrequests++] = (tm_consumer_request){.type = TM_CREQ_NO_CALLS_AT,
                                                                   .at = r.now - 1, .form = TM_FORM_ORAL,
                                                                   .from_s = 0, .to_s = 86400};
            break;
        }
        uint8_t *bytes = NULL;
        size_t len = 0;
        tm_request back;
        ASSERT_OK(tm_gate_log_encode(&r, 1, mem_intern, &t, &bytes, &len, &e));
        ASSERT_OK(tm_gate_log_decode(bytes, len, r.now, r.channel, NULL, NULL, mem_name, &t, &back, &e));
        ASSERT_STR_EQ(request_diff(&r, &back), "");
        none.now = r.now;
        memcpy(none.state, "NY", 3);
        if (!*request_diff(&none, &back))
            TM_FAIL_("fact %d was not kept", k);
        tm_gate_request_free(&back);
        free(bytes);
    }
    names_free(&t);
    free(id);
    tm_gate_request_free(&req);
}

TEST(a_version_1_row_still_decodes)
{
    tm_request req, back;
    char *id = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_gate_request_parse(full_request, strlen(full_request), 0, &req, &id, &e));
    names t = {0};
    for (int i = 0; v1_names[i]; i++) {
        int64_t n;
        ASSERT_OK(mem_intern(&t, v1_names[i], &n, &e));
    }
    ASSERT_OK(tm_gate_log_decode(v1_full, sizeof v1_full - 1, req.now, req.channel, NULL, id, mem_name,
                                 &t, &back, &e));
    /* every field as parsed, the ones version 1 does not carry "not given"
     * as the request leaves them out */
    ASSERT_STR_EQ(request_diff(&req, &back), "");
    ASSERT_EQ(back.owner, TM_GATE_ABSENT);
    ASSERT_EQ(back.dialer, TM_GATE_ABSENT);
    ASSERT_EQ(back.line, TM_GATE_ABSENT);
    ASSERT(back.default_day == INT64_MIN && back.more_calls_at == INT64_MIN &&
           back.attorney.since_day == INT64_MIN && back.attorney.asked_at == INT64_MIN);
    ASSERT_EQ(back.history[0].purpose, TM_GATE_ABSENT);
    ASSERT_EQ(back.history[0].required_by_law, TM_TRI_ABSENT);
    tm_gate_request_free(&back);
    /* a version 1 row with version 2's history bits is damaged */
    uint8_t bytes[sizeof v1_full];
    memcpy(bytes, v1_full, sizeof bytes);
    ASSERT_EQ(bytes[44], 0x02); /* the second history entry's enums: bits 7-13 */
    bytes[44] = 0x06;           /* and required_by_law's bit */
    ASSERT_EQ(tm_gate_log_decode(bytes, sizeof bytes - 1, req.now, req.channel, NULL, id, mem_name, &t,
                                 &back, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "history entry out of range");
    names_free(&t);
    free(id);
    tm_gate_request_free(&req);
}

/* Every cut of `bytes` is an error; every bit flipped an error or a
 * request, never a crash (the sanitizer build checks the reads). */
static void damage(uint8_t *bytes, size_t len, int64_t now, int channel, names *t)
{
    tm_request back;
    struct tm_err e = {0};
    for (size_t cut = 0; cut < len; cut++) {
        int rc = tm_gate_log_decode(bytes, cut, now, channel, NULL, NULL, mem_name, t, &back, &e);
        ASSERT_EQ(rc, TM_EINVAL);
        ASSERT_CONTAINS(e.msg, "recorded request");
    }
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            bytes[i] ^= (uint8_t)(1u << bit);
            int rc = tm_gate_log_decode(bytes, len, now, channel, NULL, NULL, mem_name, t, &back, &e);
            if (rc == TM_OK)
                tm_gate_request_free(&back);
            else
                ASSERT_EQ(rc, TM_EINVAL);
            bytes[i] ^= (uint8_t)(1u << bit);
        }
    }
}

TEST(damaged_bytes_are_an_error_never_a_crash)
{
    tm_request req, back;
    char *id = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_gate_request_parse(all_request, strlen(all_request), 0, &req, &id, &e));
    names t = {0};
    uint8_t *bytes = NULL;
    size_t len = 0;
    ASSERT_OK(tm_gate_log_encode(&req, 1, mem_intern, &t, &bytes, &len, &e));
    damage(bytes, len, req.now, req.channel, &t);
    /* the same over a version 1 row */
    uint8_t v1[sizeof v1_full];
    memcpy(v1, v1_full, sizeof v1);
    damage(v1, sizeof v1 - 1, req.now, req.channel, &t);
    /* a version this build does not read */
    bytes[0] = 9;
    ASSERT_EQ(tm_gate_log_decode(bytes, len, req.now, req.channel, NULL, NULL, mem_name, &t, &back, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "encoding 9");
    bytes[0] = 0;
    ASSERT_EQ(tm_gate_log_decode(bytes, len, req.now, req.channel, NULL, NULL, mem_name, &t, &back, &e), TM_EINVAL);
    /* a version 2 row read as version 1: its history's new bits, or its
     * tail, are damage */
    bytes[0] = 1;
    ASSERT_EQ(tm_gate_log_decode(bytes, len, req.now, req.channel, NULL, NULL, mem_name, &t, &back, &e), TM_EINVAL);
    /* a date past year 9999 and instants outside years 0000-9999 (only
     * damage makes them) are refused before the gate's calendar sees them */
    for (int k = 0; k < 3; k++) {
        tm_request r;
        tm_gate_request_init(&r);
        r.now = req.now;
        memcpy(r.state, "NY", 3);
        if (k == 0)
            r.default_day = 2932897; /* 10000-01-01 */
        else if (k == 1)
            r.more_calls_at = -719529LL * 86400;
        else
            r.attorney.asked_at = 400000000000LL; /* in the year 14645 */
        uint8_t *b = NULL;
        size_t n = 0;
        ASSERT_OK(tm_gate_log_encode(&r, 1, mem_intern, &t, &b, &n, &e));
        ASSERT_EQ(tm_gate_log_decode(b, n, r.now, r.channel, NULL, NULL, mem_name, &t, &back, &e), TM_EINVAL);
        free(b);
    }
    free(bytes);
    names_free(&t);
    free(id);
    tm_gate_request_free(&req);
}

typedef struct seen {
    int n;
    int allow[4];
    char rules[4][200];
    int64_t next[4];
    int has_next[4];
    int64_t gen[4];
    tm_gate_names *names;
} seen;

static int on_row(void *ud, const tm_gate_log_row *r)
{
    seen *s = ud;
    if (s->n >= 4)
        return TM_OK;
    s->allow[s->n] = r->allow;
    s->has_next[s->n] = r->has_next;
    s->next[s->n] = r->next;
    s->gen[s->n] = r->gen;
    /* rules by name */
    char *out = s->rules[s->n];
    out[0] = '\0';
    for (const char *p = r->rules; *p;) {
        char *end;
        long long id = strtoll(p, &end, 10);
        const char *name = tm_gate_names_get(s->names, id);
        strcat(out, out[0] ? "," : "");
        strcat(out, name ? name : "?");
        p = *end == ',' ? end + 1 : end;
    }
    s->n++;
    return TM_OK;
}

TEST(decisions_kept_in_a_store_read_back_and_are_sealed)
{
    char path[] = "/tmp/tm_gate_log_XXXXXX";
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    close(fd);
    unlink(path);
    tm_store *s = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_store_open(path, &s, &e));
    tm_request req;
    char *id = NULL;
    ASSERT_OK(tm_gate_request_parse(full_request, strlen(full_request), 0, &req, &id, &e));
    tm_gate_log *l = NULL;
    ASSERT_OK(tm_gate_log_open(s, &l, &e));
    const char *gen = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    ASSERT_OK(tm_store_begin(s, &e));
    ASSERT_OK(tm_gate_log_add(l, 0, &req, 0, "US-TX/call-window,US-FED/attorney", req.now + 3600, gen, NULL, &e));
    ASSERT_OK(tm_gate_log_add(l, 0, &req, 0, "US-FED/attorney", TM_GATE_NEVER, gen, NULL, &e));
    ASSERT_OK(tm_gate_log_add(l, 0, &req, 1, "", req.now, gen, NULL, &e));
    ASSERT_OK(tm_store_commit(s, &e));
    /* A transaction rolled back takes its names with it: the writer adds
     * them again. */
    ASSERT_OK(tm_store_begin(s, &e));
    ASSERT_OK(tm_gate_log_add(l, 0, &req, 0, "US-TX/new-rule", req.now + 60, gen, NULL, &e));
    tm_store_rollback(s);
    tm_gate_log_reset(l);
    ASSERT_OK(tm_store_begin(s, &e));
    ASSERT_OK(tm_gate_log_add(l, 0, &req, 0, "US-TX/new-rule", req.now + 60, gen, NULL, &e));
    ASSERT_OK(tm_store_commit(s, &e));

    seen sn = {0};
    ASSERT_OK(tm_gate_names_load(s, &sn.names, &e));
    ASSERT_OK(tm_store_gate_log_scan(s, 0, 0, 0, on_row, &sn, &e));
    ASSERT_EQ(sn.n, 4);
    ASSERT_STR_EQ(sn.rules[0], "US-TX/call-window,US-FED/attorney");
    ASSERT_EQ(sn.has_next[0], 1);
    ASSERT_EQ(sn.next[0], 3600);
    ASSERT_EQ(sn.has_next[1], 0);
    ASSERT_EQ(sn.allow[2], 1);
    ASSERT_STR_EQ(sn.rules[2], "");
    ASSERT_STR_EQ(sn.rules[3], "US-TX/new-rule");
    ASSERT_STR_EQ(tm_gate_names_get(sn.names, sn.gen[0]), gen);
    tm_gate_names_free(sn.names);

    /* The digest covers the stored bytes: a row changed by hand changes it. */
    char before[65], after[65];
    int64_t n = 0;
    ASSERT_OK(tm_gate_log_digest(s, 1, 3, before, &n, &e));
    ASSERT_EQ(n, 3);
    tm_gate_log_close(l);
    tm_store_close(s);
    sqlite3 *db;
    ASSERT_EQ(sqlite3_open(path, &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE gate_log SET allow = 1 WHERE id = 2", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    ASSERT_OK(tm_store_open(path, &s, &e));
    ASSERT_OK(tm_gate_log_digest(s, 1, 3, after, &n, &e));
    ASSERT(strcmp(before, after) != 0);
    tm_store_close(s);
    unlink(path);
    free(id);
    tm_gate_request_free(&req);
}
