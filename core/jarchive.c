/*
 * core/jarchive.c: the journey archive between the store and the loaded
 * journeys (jarchive.h).
 */
#include "jarchive.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

int tm_jarchive_keep(tm_store *s, const tm_journeys *js, tm_audit_writer *audit, int64_t now,
                     struct tm_err *err)
{
    int rc = TM_OK;
    for (size_t i = 0; rc == TM_OK && i < tm_journeys_count(js); i++) {
        tm_jsource src;
        if (tm_journeys_source(js, i, &src) != TM_OK)
            continue;
        tm_journey_text t = {.hash = src.sha256, .journey = src.id, .version = src.version,
                             .path = src.path, .text = src.text, .len = src.len};
        int is_new = 0;
        rc = tm_store_journey_archive(s, &t, now, &is_new, err);
        if (rc != TM_OK || !is_new)
            continue;
        /* Ids are lower-case names and paths come from the script tree, but
         * jansson does the quoting so nothing depends on that. */
        json_t *d = json_pack("{s:s, s:i, s:s, s:s}", "journey", src.id, "version", src.version,
                              "hash", src.sha256, "path", src.path);
        char *details = d ? json_dumps(d, JSON_COMPACT) : NULL;
        json_decref(d);
        if (!details)
            return tm_err_set(err, TM_ENOMEM, "out of memory");
        char subject[96];
        snprintf(subject, sizeof subject, "journey:%s", src.id);
        rc = tm_audit_write(audit, now, "cycle", "journey.archived", subject, details, err);
        free(details);
    }
    return rc;
}

int tm_jarchive_lookup(void *ud, const char *sha256, char **text, size_t *len, char *path,
                       size_t path_cap, struct tm_err *err)
{
    tm_journey_text t;
    int found = 0;
    *text = NULL;
    int rc = tm_store_journey_text(ud, sha256, &t, &found, err);
    if (rc == TM_OK && found) {
        snprintf(path, path_cap, "%s", t.path);
        *text = (char *)t.text; /* the block starts with the text: free() releases it all */
        *len = t.len;
    }
    return rc;
}

int tm_jarchive_parked(tm_audit_writer *audit, const tm_work_debt *w, const struct tm_err *step,
                       int64_t now, struct tm_err *err)
{
    if (step->code != TM_ENOENT)
        return TM_OK;
    json_t *d = json_pack("{s:s, s:i, s:s, s:s, s:s}", "journey", w->journey, "version",
                          w->journey_version, "hash", w->journey_hash, "state", w->journey_state,
                          "error", step->msg);
    char *details = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    if (!details)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    char subject[160];
    snprintf(subject, sizeof subject, "debt:%s", w->debt_id);
    int rc = tm_audit_write(audit, now, "cycle", "journey.parked", subject, details, err);
    free(details);
    return rc;
}
