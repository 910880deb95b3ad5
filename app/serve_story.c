/*
 * app/serve_story.c: GET /v1/debts/{id}/story (what `tallyman why --json`
 * shows, through the same builder, app/story.h) and POST
 * /v1/debts/{id}/explain (what `tallyman decide --explain --json` shows for a
 * request about that debt, through the same reader and explainer). Neither
 * shows personal data: ids, times, rules and amounts.
 */
#include "serve_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "explain.h"
#include "gate_wire.h"
#include "story.h"

/* GET /v1/debts/{id}/story: {"debt": the story's head, "entries": [...]},
 * the same objects as `tallyman why --json` writes, one to a line there. */
void tm_sv_story(tm_sv_req *r)
{
    tm_story s;
    int found = 0;
    struct tm_err e = {0};
    int rc = tm_story_build(r->w->store, r->arg[0], &s, &found, &e);
    if (rc == TM_ENOMEM) {
        tm_sv_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    if (rc != TM_OK) {
        tm_sv_error(r, 503, "store_unavailable", "the store cannot be read now", NULL);
        return;
    }
    if (!found) {
        tm_sv_error(r, 404, "not_found", "no such debt", "id");
        return;
    }
    json_t *entries = json_array();
    for (size_t i = 0; i < s.n && entries; i++)
        if (json_array_append(entries, s.v[i].obj) != 0) {
            json_decref(entries);
            entries = NULL;
        }
    json_t *head = tm_story_head(&s);
    tm_story_free(&s);
    tm_sv_reply_value(r, 200,
                      head && entries ? json_pack("{s:o,s:o}", "debt", head, "entries", entries)
                                      : (json_decref(head), json_decref(entries), NULL));
}

/* POST /v1/debts/{id}/explain: the body is a contact request as `tallyman
 * decide` reads it, about this debt: its "debt"."id" is the path's (given
 * when the body leaves it out; another id is a 400). The answer is the
 * explanation `decide --explain --json` writes for it. */
void tm_sv_explain(tm_sv_req *r)
{
    tm_serve_worker *w = r->w;
    if (tm_sv_need_type(r, tm_sv_json_types) != 0)
        return;
    if (!w->eng || !w->eng->gate) {
        tm_sv_error(r, 503, "not_ready", "no script generation is loaded", NULL);
        return;
    }
    const char *id = r->arg[0];
    tm_debt_rec d;
    int found = 0;
    struct tm_err e = {0};
    if (strlen(id) < sizeof d.debt_id && tm_store_debt_find(w->store, id, &d, &found, &e) != TM_OK) {
        tm_sv_error(r, 503, "store_unavailable", "the store cannot be read now", NULL);
        return;
    }
    if (!found) {
        tm_sv_error(r, 404, "not_found", "no such debt", "id");
        return;
    }
    json_t *v = tm_sv_json_object(r, 0);
    if (!v)
        return;
    json_t *debt = json_object_get(v, "debt");
    if (!debt) {
        debt = json_object();
        json_object_set_new(v, "debt", debt);
    }
    if (!json_is_object(debt)) {
        json_decref(v);
        tm_sv_error(r, 400, "invalid_request", "debt: must be an object", "debt");
        return;
    }
    json_t *given = json_object_get(debt, "id");
    if (given && !(json_is_string(given) && strcmp(json_string_value(given), id) == 0)) {
        json_decref(v);
        tm_sv_error(r, 400, "invalid_request", "debt.id: another debt than the path's", "debt.id");
        return;
    }
    json_object_set_new(debt, "id", json_string(id));
    char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);
    if (!text) {
        tm_sv_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    tm_request req;
    char *id_json = NULL;
    int rc = tm_gate_request_parse(text, strlen(text), (int64_t)time(NULL), &req, &id_json, &e);
    free(text);
    free(id_json);
    if (rc != TM_OK) {
        char fbuf[128];
        tm_sv_error(r, 400, "invalid_request", e.msg, tm_sv_field_of(e.msg, fbuf, sizeof fbuf));
        return;
    }
    tm_explain x;
    json_t *out = NULL;
    if (tm_gate_explain(w->eng->gate, &req, &x) == TM_OK) {
        out = tm_explain_json(w->eng->gate, w->eng->gen ? tm_gen_root(w->eng->gen) : NULL, &req, &x);
        tm_gate_explain_free(&x);
    }
    tm_gate_request_free(&req);
    tm_sv_reply_value(r, 200, out);
}
