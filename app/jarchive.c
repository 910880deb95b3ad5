/*
 * app/jarchive.c: the journey archive between the store and the loaded
 * journeys (jarchive.h).
 */
#include "jarchive.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct tm_jarchive_cache {
    size_t n;
    struct cached_text {
        char hash[65];
        tm_journey_text t; /* t.text owns the block */
    } *e;
};

int tm_jarchive_cache_load(tm_store *s, tm_jarchive_cache **out, struct tm_err *err)
{
    *out = NULL;
    char *hashes = NULL;
    size_t n = 0;
    int rc = tm_store_journey_hashes(s, &hashes, &n, err);
    if (rc != TM_OK)
        return rc;
    tm_jarchive_cache *c = calloc(1, sizeof *c);
    if (!c || (n && !(c->e = calloc(n, sizeof *c->e)))) {
        free(c);
        free(hashes);
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && rc == TM_OK; i++) {
        int found = 0;
        struct cached_text *e = &c->e[c->n];
        rc = tm_store_journey_text(s, hashes + i * 65, &e->t, &found, err);
        if (rc == TM_OK && found) {
            snprintf(e->hash, sizeof e->hash, "%s", hashes + i * 65);
            c->n++;
        }
    }
    free(hashes);
    if (rc != TM_OK) {
        tm_jarchive_cache_free(c);
        return rc;
    }
    *out = c;
    return TM_OK;
}

void tm_jarchive_cache_free(tm_jarchive_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free((char *)c->e[i].t.text);
    free(c->e);
    free(c);
}

int tm_jarchive_cache_lookup(void *ud, const char *sha256, char **text, size_t *len, char *path,
                             size_t path_cap, struct tm_err *err)
{
    const tm_jarchive_cache *c = ud;
    *text = NULL;
    for (size_t i = 0; c && i < c->n; i++) {
        if (strcmp(c->e[i].hash, sha256) != 0)
            continue;
        const tm_journey_text *t = &c->e[i].t;
        char *copy = malloc(t->len + 1);
        if (!copy)
            return tm_err_set(err, TM_ENOMEM, "out of memory");
        memcpy(copy, t->text, t->len);
        copy[t->len] = '\0';
        snprintf(path, path_cap, "%s", t->path);
        *text = copy;
        *len = t->len;
        return TM_OK;
    }
    return TM_OK;
}
