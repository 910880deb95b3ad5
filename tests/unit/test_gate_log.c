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

/* Every field the gate reads is the same in `a` and `b`. */
static int same_request(const tm_request *a, const tm_request *b)
{
    if (a->now != b->now || a->channel != b->channel || a->place != b->place || a->purpose != b->purpose ||
        a->collector != b->collector || strcmp(a->state, b->state) != 0 || a->nzones != b->nzones ||
        a->flags != b->flags || a->consent != b->consent || a->optout != b->optout ||
        a->inconvenient_days != b->inconvenient_days || a->nranges != b->nranges ||
        a->debt_type != b->debt_type || a->dispute != b->dispute ||
        a->last_payment_day != b->last_payment_day || a->charge_off_day != b->charge_off_day ||
        a->time_barred_given != b->time_barred_given || a->nmsg != b->nmsg || a->nhistory != b->nhistory)
        return 0;
    if ((a->city == NULL) != (b->city == NULL) || (a->city && strcmp(a->city, b->city) != 0))
        return 0;
    if ((a->creditor == NULL) != (b->creditor == NULL) || (a->creditor && strcmp(a->creditor, b->creditor) != 0))
        return 0;
    if ((a->debt_id == NULL) != (b->debt_id == NULL) || (a->debt_id && strcmp(a->debt_id, b->debt_id) != 0))
        return 0;
    if (a->time_barred_given && a->time_barred != b->time_barred)
        return 0;
    for (int i = 0; i < a->nzones; i++)
        if (a->zones[i] != b->zones[i])
            return 0;
    for (int i = 0; i < a->nranges; i++)
        if (a->range_from[i] != b->range_from[i] || a->range_to[i] != b->range_to[i])
            return 0;
    for (int i = 0; i < a->nmsg; i++)
        if (strcmp(a->msg[i].name, b->msg[i].name) != 0 || a->msg[i].value != b->msg[i].value)
            return 0;
    for (int i = 0; i < a->nhistory; i++) {
        const tm_history *x = &a->history[i], *y = &b->history[i];
        if (x->channel != y->channel || x->outcome != y->outcome || x->place != y->place ||
            x->direction != y->direction || (x->other_debt != 0) != (y->other_debt != 0) || x->at != y->at)
            return 0;
    }
    return 1;
}

TEST(a_request_encoded_and_decoded_is_the_request_judged)
{
    tm_request req, back;
    char *id = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_gate_request_parse(full_request, strlen(full_request), 0, &req, &id, &e));
    ASSERT(req.creditor && req.city && req.nhistory == 2 && req.nmsg == 2 && req.nranges == 1);
    names t = {0};
    uint8_t *bytes = NULL;
    size_t len = 0;
    for (int inline_debt = 0; inline_debt < 2; inline_debt++) {
        ASSERT_OK(tm_gate_log_encode(&req, inline_debt, mem_intern, &t, &bytes, &len, &e));
        /* compact: well under the size of the JSON request */
        ASSERT(len < 64);
        ASSERT_OK(tm_gate_log_decode(bytes, len, req.now, req.channel, inline_debt ? NULL : "D-77", id,
                                     mem_name, &t, &back, &e));
        ASSERT(same_request(&req, &back));
        ASSERT_STR_EQ(back.id_json, id);
        tm_gate_request_free(&back);
        free(bytes);
    }
    names_free(&t);
    free(id);
    tm_gate_request_free(&req);
}

TEST(damaged_bytes_are_an_error_never_a_crash)
{
    tm_request req, back;
    char *id = NULL;
    struct tm_err e = {0};
    ASSERT_OK(tm_gate_request_parse(full_request, strlen(full_request), 0, &req, &id, &e));
    names t = {0};
    uint8_t *bytes = NULL;
    size_t len = 0;
    ASSERT_OK(tm_gate_log_encode(&req, 1, mem_intern, &t, &bytes, &len, &e));
    /* every cut */
    for (size_t cut = 0; cut < len; cut++) {
        int rc = tm_gate_log_decode(bytes, cut, req.now, req.channel, NULL, NULL, mem_name, &t, &back, &e);
        ASSERT_EQ(rc, TM_EINVAL);
    }
    /* every byte flipped: an error or a request, never a crash (the
     * sanitizer build checks the reads) */
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            bytes[i] ^= (uint8_t)(1u << bit);
            if (tm_gate_log_decode(bytes, len, req.now, req.channel, NULL, NULL, mem_name, &t, &back, &e) == TM_OK)
                tm_gate_request_free(&back);
            bytes[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* a version this build does not read */
    bytes[0] = 9;
    ASSERT_EQ(tm_gate_log_decode(bytes, len, req.now, req.channel, NULL, NULL, mem_name, &t, &back, &e), TM_EINVAL);
    ASSERT_CONTAINS(e.msg, "encoding 9");
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
