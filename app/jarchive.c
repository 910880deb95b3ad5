/*
 * app/jarchive.c: the journey archive between the store and the loaded
 * journeys (jarchive.h).
 */
#include "jarchive.h"

#include <errno.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"

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

/* ---------------------------------------------------------------------------
 * Whole generations.
 */
static int read_all(const char *path, char **out, size_t *len, struct tm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tm_err_set(err, TM_EIO, "%s: %s", path, strerror(errno));
    char *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            char *q = realloc(b, cap);
            if (!q) {
                free(b);
                fclose(f);
                return tm_err_set(err, TM_ENOMEM, "out of memory reading %s", path);
            }
            b = q;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return tm_err_set(err, TM_EIO, "%s: read error", path);
    }
    *out = b;
    *len = n;
    return TM_OK;
}

int tm_jarchive_keep_gen(tm_store *s, const tm_gen *g, tm_audit_writer *audit, int64_t now,
                         const char *actor, struct tm_err *err)
{
    const char *hash = tm_gen_hash(g);
    int kept = 0;
    int rc = tm_store_script_set_kept(s, hash, &kept, err);
    if (rc != TM_OK || kept)
        return rc;
    size_t nfiles = tm_gen_count(g);
    for (size_t i = 0; rc == TM_OK && i < nfiles; i++) {
        const tm_script *sc = tm_gen_script(g, i);
        rc = tm_store_script_text_put(s, hash, sc->path, sc->sha256, sc->text, sc->len, err);
    }
    /* Models are parsed when the set loads and only their hash is kept in
     * memory: their bytes are read again, and must hash as they did, else
     * the kept set would not be the one that ran. */
    for (size_t i = 0; rc == TM_OK && i < tm_gen_model_count(g); i++) {
        char rel[600], full[4200], hex[65];
        snprintf(rel, sizeof rel, "models/%s.json", tm_gen_model_name(g, i));
        snprintf(full, sizeof full, "%s/%s", tm_gen_root(g), rel);
        char *text = NULL;
        size_t len = 0;
        if ((rc = read_all(full, &text, &len, err)) != TM_OK)
            break;
        tm_sha256_hex(text, len, hex);
        rc = tm_store_script_text_put(s, hash, rel, hex, text, len, err);
        free(text);
    }
    if (rc != TM_OK)
        return rc;
    json_t *d = json_pack("{s:s, s:I, s:I}", "hash", hash, "scripts", (json_int_t)nfiles, "models",
                          (json_int_t)tm_gen_model_count(g));
    char *details = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    char subject[80];
    snprintf(subject, sizeof subject, "scripts:%.12s", hash);
    rc = details ? tm_audit_write(audit, now, actor, "scripts.kept", subject, details, err)
                 : tm_err_set(err, TM_ENOMEM, "out of memory");
    free(details);
    return rc;
}

typedef struct gen_dir {
    const char *dir;
    struct tm_err *err;
} gen_dir;

/* Writes one kept file under the directory, making its folders. */
static int put_file(void *ud, const char *path, const char *sha256, const char *text, size_t len)
{
    gen_dir *gd = ud;
    (void)sha256;
    if (path[0] == '/' || strstr(path, "..") || !*path)
        return tm_err_set(gd->err, TM_EINVAL, "a kept script path '%s' leaves its tree", path);
    char full[4200];
    int n = snprintf(full, sizeof full, "%s/%s", gd->dir, path);
    if (n < 0 || (size_t)n >= sizeof full)
        return tm_err_set(gd->err, TM_EINVAL, "a kept script path is too long");
    for (char *p = full + strlen(gd->dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        int bad = mkdir(full, 0700) != 0 && errno != EEXIST;
        *p = '/';
        if (bad)
            return tm_err_set(gd->err, TM_EIO, "%s: %s", full, strerror(errno));
    }
    FILE *f = fopen(full, "wb");
    if (!f)
        return tm_err_set(gd->err, TM_EIO, "%s: %s", full, strerror(errno));
    int bad = fwrite(text, 1, len, f) != len;
    bad |= fclose(f) != 0;
    return bad ? tm_err_set(gd->err, TM_EIO, "%s: write error", full) : TM_OK;
}

int tm_jarchive_gen_dir(tm_store *s, const char *hash, const char *tmpdir, char *dir, size_t cap,
                        int *found, struct tm_err *err)
{
    *found = 0;
    dir[0] = '\0';
    int kept = 0;
    int rc = tm_store_script_set_kept(s, hash, &kept, err);
    if (rc != TM_OK || !kept)
        return rc;
    if (!tmpdir)
        tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    int n = snprintf(dir, cap, "%s/tallyman-gen-XXXXXX", tmpdir);
    if (n < 0 || (size_t)n >= cap || !mkdtemp(dir)) {
        dir[0] = '\0';
        return tm_err_set(err, TM_EIO, "cannot make a directory under %s: %s", tmpdir, strerror(errno));
    }
    gen_dir gd = {dir, err};
    rc = tm_store_script_texts(s, hash, put_file, &gd, err);
    if (rc != TM_OK) {
        tm_jarchive_gen_dir_remove(dir);
        dir[0] = '\0';
        return rc;
    }
    *found = 1;
    return TM_OK;
}

/* Removes `path` and, for a directory, what it holds (the files and
 * folders tm_jarchive_gen_dir made: no links follow). */
static void rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[4200];
            int n = snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            if (n > 0 && (size_t)n < sizeof sub)
                rm_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

void tm_jarchive_gen_dir_remove(const char *dir)
{
    if (dir && *dir)
        rm_tree(dir);
}
