/*
 * app/serve_input.c: POST /v1/events and POST /v1/accounts: a JSON array or
 * JSON lines through the same import as `tallyman event` and `tallyman
 * import accounts` (same validation, same idempotency), with a result per
 * item.
 */
#include "serve_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "portfolio.h"

/* What the import said about each item. */
typedef struct item_notes {
    int n;            /* items */
    char **why;       /* per item: the rejection ("field: reason"), or NULL */
    const char *name; /* as given to the import (its messages start "NAME:LINE: ") */
} item_notes;

static void note_reject(void *ud, const char *message)
{
    item_notes *in = ud;
    size_t nl = strlen(in->name);
    if (strncmp(message, in->name, nl) != 0 || message[nl] != ':')
        return;
    char *end;
    long line = strtol(message + nl + 1, &end, 10);
    if (line < 1 || line > in->n || strncmp(end, ": ", 2) != 0)
        return;
    if (!in->why[line - 1])
        in->why[line - 1] = strdup(end + 2);
}

/* POST /v1/events and /v1/accounts: the body through the same import as
 * `tallyman event` / `import accounts`, with a result per item. */
static void h_input(tm_sv_req *r, int events)
{
    tm_serve_worker *w = r->w;
    tm_buf lines = TM_BUF_INIT;
    char **keys = NULL;
    int n = tm_sv_body_items(r, events, &lines, &keys);
    if (n < 0) {
        free(lines.data);
        return;
    }
    if (n == 0 || lines.failed) {
        free(lines.data);
        tm_sv_free_keys(keys, n);
        if (n == 0)
            tm_sv_error(r, 400, "invalid_request", "no items in the body", NULL);
        else
            tm_sv_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    /* Which keys were applied before this request: those items are duplicates
     * unless the import rejects them (a key used for other content). */
    char *before = calloc((size_t)n, 1);
    item_notes notes = {.n = n, .why = calloc((size_t)n, sizeof(char *)), .name = "item"};
    struct tm_err e = {0};
    int rc = before && notes.why ? TM_OK : tm_err_set(&e, TM_ENOMEM, "out of memory");
    for (int i = 0; rc == TM_OK && events && i < n; i++) {
        int exists = 0;
        if (keys[i] && (rc = tm_store_event_exists(w->store, keys[i], &exists, &e)) == TM_OK)
            before[i] = (char)exists;
    }
    FILE *in = rc == TM_OK ? fmemopen(lines.data, lines.len, "r") : NULL;
    if (rc == TM_OK && !in)
        rc = tm_err_set(&e, TM_ENOMEM, "out of memory");
    char actor[160];
    snprintf(actor, sizeof actor, "serve:%s", r->token);
    tm_import_opts io = {.name = "item", .actor = actor, .now = (int64_t)time(NULL),
                         .reject = note_reject, .ud = &notes, .size = lines.len, .origin = NULL};
    tm_import_stats is = {0};
    tm_event_stats es = {0};
    if (rc == TM_OK)
        rc = events ? tm_apply_events(w->store, w->sv->keys, in, &io, &es, &e)
                    : tm_import_accounts(w->store, w->sv->keys, in, &io, &is, &e);
    if (in)
        fclose(in);
    if (rc != TM_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%.300s", e.msg);
        if (rc == TM_ESTORE)
            tm_sv_error(r, 503, "store_unavailable", msg, NULL);
        else if (rc == TM_ENOMEM)
            tm_sv_error(r, 500, "internal", msg, NULL);
        else
            tm_sv_error(r, 400, "invalid_request", msg, NULL);
    } else {
        json_t *items = json_array();
        long rejected = 0;
        for (int i = 0; i < n && items; i++) {
            json_t *it;
            if (notes.why[i]) {
                char fbuf[128];
                const char *field = tm_sv_field_of(notes.why[i], fbuf, sizeof fbuf);
                it = json_pack("{s:i,s:s,s:{s:s,s:s,s:o}}", "index", i, "status", "rejected",
                               "error", "code", "invalid_item", "message", notes.why[i], "field",
                               field ? json_string(field) : json_null());
                rejected++;
            } else {
                it = json_pack("{s:i,s:s}", "index", i, "status",
                               events ? (before[i] ? "duplicate" : "applied") : "accepted");
            }
            json_array_append_new(items, it);
        }
        json_t *v = events ? json_pack("{s:i,s:I,s:I,s:I,s:o}", "items", n, "applied",
                                       (json_int_t)es.applied, "duplicates",
                                       (json_int_t)es.duplicates, "rejected",
                                       (json_int_t)es.rejected, "results", items)
                           : json_pack("{s:i,s:I,s:I,s:I,s:I,s:I,s:o}", "items", n, "accepted",
                                       (json_int_t)is.accepted, "rejected", (json_int_t)is.rejected,
                                       "debts_created", (json_int_t)is.debts_created,
                                       "debts_updated", (json_int_t)is.debts_updated, "unchanged",
                                       (json_int_t)is.unchanged, "results", items);
        (void)rejected;
        tm_sv_reply_value(r, 200, v);
    }
    for (int i = 0; notes.why && i < n; i++)
        free(notes.why[i]);
    free(notes.why);
    free(before);
    tm_sv_free_keys(keys, n);
    free(lines.data);
}

void tm_sv_events(tm_sv_req *r)
{
    h_input(r, 1);
}

void tm_sv_accounts(tm_sv_req *r)
{
    h_input(r, 0);
}
