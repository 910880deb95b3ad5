/*
 * sandbox/scriptset.c: loading, checking and swapping script sets (see
 * scriptset.h). A generation is built completely (read, hashed, compiled in a
 * scratch state) before anyone can see it, and is never changed afterwards,
 * so readers need no lock; only the host's "current" pointer is guarded.
 */
#include "scriptset.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "crypto.h"
#include "lcompat.h"
#include "score.h"
#include "text.h"

/* A scoring model shipped in the tree: parsed once when the set loads, so a
 * bad model fails the load like a bad script, and hashed into the set's
 * identity, so a decision names the exact model that scored it. */
typedef struct gen_model {
    char *name;     /* path under models/ without ".json": "ptp", "bank/ptp" */
    tm_script file; /* path "models/ptp.json", its text (kept, so the set can be stored) */
    tm_model *model;
} gen_model;

struct tm_gen {
    atomic_int refs;
    uint64_t id;
    char *root;
    char hash[TM_SHA256_HEX_LEN + 1];
    tm_script *scripts; /* sorted by path */
    size_t count, cap;
    gen_model *models;  /* models/<name>.json, sorted by name */
    size_t nmodels, mcap;
};

static atomic_ullong next_gen_id = 1;

static void script_free(tm_script *s)
{
    free((char *)s->path);
    free((char *)s->text);
    free((char *)s->display);
}

static void gen_free(tm_gen *g)
{
    for (size_t i = 0; i < g->count; i++)
        script_free(&g->scripts[i]);
    free(g->scripts);
    for (size_t i = 0; i < g->nmodels; i++) {
        free(g->models[i].name);
        script_free(&g->models[i].file);
        tm_model_free(g->models[i].model);
    }
    free(g->models);
    free(g->root);
    free(g);
}

const tm_model *tm_gen_model(const tm_gen *g, const char *name)
{
    if (g == NULL || name == NULL)
        return NULL;
    size_t lo = 0, hi = g->nmodels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, g->models[mid].name);
        if (c == 0)
            return g->models[mid].model;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t tm_gen_model_count(const tm_gen *g) { return g ? g->nmodels : 0; }

const char *tm_gen_model_name(const tm_gen *g, size_t i)
{
    return g && i < g->nmodels ? g->models[i].name : NULL;
}

size_t tm_gen_file_count(const tm_gen *g) { return g ? g->count + g->nmodels : 0; }

const tm_script *tm_gen_file(const tm_gen *g, size_t i)
{
    if (g == NULL)
        return NULL;
    if (i < g->count)
        return &g->scripts[i];
    return i - g->count < g->nmodels ? &g->models[i - g->count].file : NULL;
}

void tm_gen_retain(tm_gen *g)
{
    if (g)
        atomic_fetch_add(&g->refs, 1);
}

void tm_gen_release(tm_gen *g)
{
    if (g && atomic_fetch_sub(&g->refs, 1) == 1)
        gen_free(g);
}

const char *tm_gen_root(const tm_gen *g) { return g->root; }
const char *tm_gen_hash(const tm_gen *g) { return g->hash; }
uint64_t tm_gen_id(const tm_gen *g) { return g->id; }
size_t tm_gen_count(const tm_gen *g) { return g->count; }

const tm_script *tm_gen_script(const tm_gen *g, size_t i)
{
    return i < g->count ? &g->scripts[i] : NULL;
}

static int script_cmp(const void *a, const void *b)
{
    return strcmp(((const tm_script *)a)->path, ((const tm_script *)b)->path);
}

const tm_script *tm_gen_find(const tm_gen *g, const char *relpath)
{
    if (g->count == 0) /* bsearch must not get a NULL array */
        return NULL;
    tm_script key = {.path = relpath};
    return bsearch(&key, g->scripts, g->count, sizeof key, script_cmp);
}

static int read_file(const char *path, char **text, size_t *len, struct tm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return tm_err_set(err, errno == ENOENT ? TM_ENOENT : TM_EIO, "%s: cannot open: %s", path,
                          strerror(errno));
    tm_buf b = TM_BUF_INIT;
    int rc = tm_buf_read(&b, f);
    fclose(f);
    if (rc == TM_OK && !(*text = tm_buf_take(&b, len)))
        rc = TM_ENOMEM;
    tm_buf_free(&b);
    if (rc == TM_EIO)
        return tm_err_set(err, TM_EIO, "%s: read error", path);
    if (rc != TM_OK)
        return tm_err_set(err, TM_ENOMEM, "%s: out of memory", path);
    return TM_OK;
}

/* Checks that a script is text that compiles; "path:line: message" on error. */
static int check_script(lua_State *L, const char *display, const char *text, size_t len,
                        struct tm_err *err)
{
    if (len > 0 && text[0] == '\033')
        return tm_err_set(err, TM_ESYNTAX, "%s: binary chunks are not allowed", display);
    size_t bad;
    if (!tm_utf8_valid(text, len, &bad))
        return tm_err_set(err, TM_EENCODING, "%s:%d: the file is not valid UTF-8", display,
                          tm_text_line_of(text, len, bad));
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        text += 3, len -= 3;
    if (len > 0 && text[0] == '#')
        while (len > 0 && text[0] != '\n')
            text++, len--;
    char chunk[1100];
    snprintf(chunk, sizeof chunk, "@%s", display);
    int status = luaL_loadbufferx(L, text, len, chunk, "t");
    if (status != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        tm_err_set(err, TM_ESYNTAX, "%s", m ? m : "cannot compile");
        lua_pop(L, 1);
        return TM_ESYNTAX;
    }
    lua_pop(L, 1);
    return TM_OK;
}

typedef struct loader {
    tm_gen *g;
    lua_State *L;
    void (*report)(void *, const char *);
    void *ud;
} loader;

/* Whether `rel` names a scoring model: models/<name>.json. */
static int is_model_path(const char *rel)
{
    size_t n = strlen(rel);
    return n > 12 && strncmp(rel, "models/", 7) == 0 && strcmp(rel + n - 5, ".json") == 0;
}

/* Fills a new tm_script with copies of `rel` and `display`, taking `text`. */
static int fill_script(tm_script *s, const char *rel, const char *display, char *text, size_t len)
{
    memset(s, 0, sizeof *s);
    s->path = strdup(rel);
    s->display = strdup(display);
    if (s->path == NULL || s->display == NULL) {
        free((char *)s->path);
        free((char *)s->display);
        s->path = s->display = NULL;
        return TM_ENOMEM;
    }
    s->text = text;
    s->len = len;
    tm_sha256_hex(text, len, s->sha256);
    return TM_OK;
}

/* Adds the script or model `rel` (shown as `display` in messages) with its
 * bytes `text` (malloc'd, NUL-terminated at len; the generation takes it,
 * or frees it on failure) after checking it: a script must be UTF-8 text
 * that compiles, a model must parse. */
static int add_text(loader *ld, const char *rel, const char *display, char *text, size_t len,
                    struct tm_err *err)
{
    tm_gen *g = ld->g;
    if (is_model_path(rel)) {
        tm_model *m = NULL;
        struct tm_err me = {0};
        int rc = tm_model_parse(text, len, &m, &me);
        if (rc != TM_OK) {
            free(text);
            return tm_err_set(err, rc == TM_ENOMEM ? TM_ENOMEM : TM_ESYNTAX, "%s: %s", display,
                              me.msg);
        }
        if (g->nmodels == g->mcap) {
            size_t cap = g->mcap ? g->mcap * 2 : 8;
            gen_model *q = realloc(g->models, cap * sizeof *q);
            if (q == NULL) {
                free(text);
                tm_model_free(m);
                return tm_err_set(err, TM_ENOMEM, "out of memory loading models");
            }
            g->models = q;
            g->mcap = cap;
        }
        gen_model *gm = &g->models[g->nmodels];
        size_t rl = strlen(rel);
        gm->name = strndup(rel + 7, rl - 7 - 5);
        if (gm->name == NULL || fill_script(&gm->file, rel, display, text, len) != TM_OK) {
            free(gm->name);
            free(text);
            tm_model_free(m);
            return tm_err_set(err, TM_ENOMEM, "out of memory loading models");
        }
        gm->model = m;
        g->nmodels++;
        return TM_OK;
    }
    int rc = check_script(ld->L, display, text, len, err);
    if (rc != TM_OK) {
        free(text);
        return rc;
    }
    if (g->count == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        tm_script *q = realloc(g->scripts, cap * sizeof *q);
        if (q == NULL) {
            free(text);
            return tm_err_set(err, TM_ENOMEM, "out of memory loading scripts");
        }
        g->scripts = q;
        g->cap = cap;
    }
    if (fill_script(&g->scripts[g->count], rel, display, text, len) != TM_OK) {
        free(text);
        return tm_err_set(err, TM_ENOMEM, "out of memory loading scripts");
    }
    g->count++;
    return TM_OK;
}

/* Reads the file `full` and adds it as `rel`; a problem is reported and
 * the file left out when the loader is lenient (out of memory never is). */
static int add_file(loader *ld, const char *rel, const char *full, struct tm_err *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(full, &text, &len, err);
    if (rc == TM_OK)
        rc = add_text(ld, rel, full, text, len, err);
    if (rc != TM_OK && ld->report && rc != TM_ENOMEM) {
        ld->report(ld->ud, err->msg);
        rc = TM_OK;
    }
    return rc;
}

static int model_cmp(const void *a, const void *b)
{
    return strcmp(((const gen_model *)a)->name, ((const gen_model *)b)->name);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks `dir` (relative part `rel`, "" at the root) in sorted order. */
static int walk_dir(loader *ld, const char *dir, const char *rel, int depth, struct tm_err *err)
{
    if (depth > 32)
        return tm_err_set(err, TM_EIO, "%s: directories nested too deep", dir);
    DIR *d = opendir(dir);
    if (d == NULL)
        return tm_err_set(err, TM_EIO, "%s: cannot open directory: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = TM_OK;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **q = realloc(names, cap * sizeof *q);
            if (q == NULL) {
                rc = tm_err_set(err, TM_ENOMEM, "out of memory");
                break;
            }
            names = q;
        }
        if ((names[n] = strdup(e->d_name)) == NULL) {
            rc = tm_err_set(err, TM_ENOMEM, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == TM_OK && n)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n && rc == TM_OK; i++) {
        char full[1024], sub[1024];
        int a = snprintf(full, sizeof full, "%s/%s", dir, names[i]);
        int b = snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", names[i]);
        if (a < 0 || b < 0 || (size_t)a >= sizeof full || (size_t)b >= sizeof sub) {
            rc = tm_err_set(err, TM_EIO, "%s/%s: path too long", dir, names[i]);
            break;
        }
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(ld, full, sub, depth + 1, err);
        } else if (S_ISREG(st.st_mode)) {
            size_t len = strlen(names[i]);
            int is_lua = len > 4 && strcmp(names[i] + len - 4, ".lua") == 0;
            if (is_lua || is_model_path(sub))
                rc = add_file(ld, sub, full, err);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

static void set_hash(tm_gen *g)
{
    /* The set's identity: SHA-256 over "path\0sha256\n" for each script in
     * path order, so a rename, an edit, an addition or a removal changes it. */
    size_t total = 1;
    for (size_t i = 0; i < g->count; i++)
        total += strlen(g->scripts[i].path) + 1 + TM_SHA256_HEX_LEN + 1;
    for (size_t i = 0; i < g->nmodels; i++)
        total += strlen(g->models[i].file.path) + 1 + TM_SHA256_HEX_LEN + 1;
    char *buf = malloc(total);
    if (buf == NULL) {
        memset(g->hash, '0', TM_SHA256_HEX_LEN);
        g->hash[TM_SHA256_HEX_LEN] = '\0';
        return;
    }
    size_t off = 0;
    for (size_t i = 0; i < g->count; i++) {
        size_t pl = strlen(g->scripts[i].path) + 1;
        memcpy(buf + off, g->scripts[i].path, pl);
        off += pl;
        memcpy(buf + off, g->scripts[i].sha256, TM_SHA256_HEX_LEN);
        off += TM_SHA256_HEX_LEN;
        buf[off++] = '\n';
    }
    /* Models follow the scripts, so a tree without models keeps the hash it
     * had before models existed. */
    for (size_t i = 0; i < g->nmodels; i++) {
        size_t pl = strlen(g->models[i].file.path) + 1;
        memcpy(buf + off, g->models[i].file.path, pl);
        off += pl;
        memcpy(buf + off, g->models[i].file.sha256, TM_SHA256_HEX_LEN);
        off += TM_SHA256_HEX_LEN;
        buf[off++] = '\n';
    }
    tm_sha256_hex(buf, off, g->hash);
    free(buf);
}

/* A new, empty generation named `root`, with its loader (a scratch Lua
 * state to compile in). */
static int gen_begin(const char *root, loader *ld, void (*report)(void *, const char *), void *ud,
                     struct tm_err *err)
{
    memset(ld, 0, sizeof *ld);
    tm_gen *g = calloc(1, sizeof *g);
    if (g == NULL || (g->root = strdup(root)) == NULL) {
        free(g);
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    atomic_init(&g->refs, 1);
    g->id = atomic_fetch_add(&next_gen_id, 1);
    ld->g = g;
    ld->report = report;
    ld->ud = ud;
    ld->L = luaL_newstate();
    if (ld->L == NULL) {
        gen_free(g);
        ld->g = NULL;
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    return TM_OK;
}

/* Ends the load begun by gen_begin: on TM_OK sorts and hashes the set into
 * *out; otherwise frees it. Returns rc. */
static int gen_end(loader *ld, int rc, tm_gen **out)
{
    lua_close(ld->L);
    tm_gen *g = ld->g;
    if (rc != TM_OK) {
        gen_free(g);
        return rc;
    }
    if (g->count) /* qsort must not get NULL, even for no elements */
        qsort(g->scripts, g->count, sizeof *g->scripts, script_cmp);
    if (g->nmodels)
        qsort(g->models, g->nmodels, sizeof *g->models, model_cmp);
    set_hash(g);
    *out = g;
    return TM_OK;
}

static int load_impl(const char *root, tm_gen **out, void (*report)(void *, const char *),
                     void *ud, struct tm_err *err)
{
    *out = NULL;
    struct stat st;
    if (stat(root, &st) != 0)
        return tm_err_set(err, TM_ENOENT, "%s: no such script file or directory", root);
    loader ld;
    int rc = gen_begin(root, &ld, report, ud, err);
    if (rc != TM_OK)
        return rc;
    if (S_ISDIR(st.st_mode)) {
        size_t rl = strlen(root);
        char trimmed[1024];
        snprintf(trimmed, sizeof trimmed, "%.*s", (int)(rl > 1 && root[rl - 1] == '/' ? rl - 1 : rl),
                 root);
        rc = walk_dir(&ld, trimmed, "", 0, err);
    } else {
        const char *base = strrchr(root, '/');
        rc = add_file(&ld, base ? base + 1 : root, root, err);
    }
    return gen_end(&ld, rc, out);
}

int tm_gen_load(const char *root, tm_gen **out, struct tm_err *err)
{
    return load_impl(root, out, NULL, NULL, err);
}

int tm_gen_load_lenient(const char *root, tm_gen **out, void (*report)(void *, const char *),
                        void *ud, struct tm_err *err)
{
    return load_impl(root, out, report, ud, err);
}

/* A copy of `len` bytes at `text`, NUL-terminated; NULL when out of memory. */
static char *copy_text(const char *text, size_t len)
{
    char *t = malloc(len + 1);
    if (t) {
        memcpy(t, text, len);
        t[len] = '\0';
    }
    return t;
}

int tm_gen_from_files(const char *root, const tm_script *files, size_t n, const char *expect_hash,
                      tm_gen **out, struct tm_err *err)
{
    *out = NULL;
    loader ld;
    int rc = gen_begin(root, &ld, NULL, NULL, err);
    if (rc != TM_OK)
        return rc;
    for (size_t i = 0; i < n && rc == TM_OK; i++) {
        const char *rel = files[i].path;
        size_t rl = rel ? strlen(rel) : 0;
        if (rl == 0 || rel[0] == '/' || strstr(rel, "..") != NULL ||
            !(is_model_path(rel) || (rl > 4 && strcmp(rel + rl - 4, ".lua") == 0))) {
            rc = tm_err_set(err, TM_EINVAL, "%s: '%s' is not a script or model path", root,
                            rel ? rel : "(null)");
            break;
        }
        for (size_t k = 0; k < i; k++)
            if (strcmp(files[k].path, rel) == 0)
                rc = tm_err_set(err, TM_EINVAL, "%s: '%s' is given twice", root, rel);
        if (rc != TM_OK)
            break;
        char display[1200];
        snprintf(display, sizeof display, "%s/%s", root, rel);
        char *text = copy_text(files[i].text, files[i].len);
        rc = text ? add_text(&ld, rel, display, text, files[i].len, err)
                  : tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    rc = gen_end(&ld, rc, out);
    if (rc == TM_OK && expect_hash && strcmp(expect_hash, (*out)->hash) != 0) {
        rc = tm_err_set(err, TM_ECRYPTO,
                        "%s: the scripts do not hash to %s (they hash to %s): they were changed "
                        "after they were stored",
                        root, expect_hash, (*out)->hash);
        tm_gen_release(*out);
        *out = NULL;
    }
    return rc;
}

int tm_gen_overlay(const tm_gen *base, const char *dir, const char *under,
                   void (*report)(void *ud, const char *message), void *ud, tm_gen **out,
                   struct tm_err *err)
{
    *out = NULL;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return tm_err_set(err, TM_ENOENT, "%s: no such directory", dir);
    size_t ul = strlen(under);
    loader ld;
    int rc = gen_begin(base->root, &ld, report, ud, err);
    if (rc != TM_OK)
        return rc;
    /* The base's files, but those under `under`/, already checked. */
    for (size_t i = 0; i < tm_gen_file_count(base) && rc == TM_OK; i++) {
        const tm_script *f = tm_gen_file(base, i);
        if (strncmp(f->path, under, ul) == 0 && f->path[ul] == '/')
            continue;
        char *text = copy_text(f->text, f->len);
        rc = text ? add_text(&ld, f->path, f->display, text, f->len, err)
                  : tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    if (rc == TM_OK) {
        size_t dl = strlen(dir);
        char trimmed[1024];
        snprintf(trimmed, sizeof trimmed, "%.*s", (int)(dl > 1 && dir[dl - 1] == '/' ? dl - 1 : dl),
                 dir);
        rc = walk_dir(&ld, trimmed, under, 0, err);
    }
    return gen_end(&ld, rc, out);
}

/* ---------------------------------------------------------------------------
 * Host.
 */
struct tm_host {
    pthread_mutex_t lock;
    char *root;
    tm_gen *current;
};

int tm_host_open(const char *root, tm_host **out, struct tm_err *err)
{
    *out = NULL;
    tm_host *h = calloc(1, sizeof *h);
    if (h == NULL || (h->root = strdup(root)) == NULL) {
        free(h);
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    int rc = tm_gen_load(root, &h->current, err);
    if (rc != TM_OK) {
        free(h->root);
        free(h);
        return rc;
    }
    pthread_mutex_init(&h->lock, NULL);
    *out = h;
    return TM_OK;
}

void tm_host_close(tm_host *h)
{
    if (h == NULL)
        return;
    tm_gen_release(h->current);
    pthread_mutex_destroy(&h->lock);
    free(h->root);
    free(h);
}

int tm_host_reload(tm_host *h, struct tm_err *err)
{
    tm_gen *g;
    int rc = tm_gen_load(h->root, &g, err);
    if (rc != TM_OK)
        return rc; /* the working generation stays */
    pthread_mutex_lock(&h->lock);
    tm_gen *old = h->current;
    h->current = g;
    pthread_mutex_unlock(&h->lock);
    tm_gen_release(old); /* freed once the last sandbox on it lets go */
    return TM_OK;
}

tm_gen *tm_host_acquire(tm_host *h)
{
    pthread_mutex_lock(&h->lock);
    tm_gen *g = h->current;
    tm_gen_retain(g);
    pthread_mutex_unlock(&h->lock);
    return g;
}

int tm_host_sandbox(tm_host *h, tm_sandbox **sbp, const tm_limits *limits, struct tm_err *err)
{
    tm_gen *g = tm_host_acquire(h);
    if (*sbp && tm_sandbox_gen(*sbp) == g) {
        tm_gen_release(g);
        return TM_OK;
    }
    tm_sandbox *sb = tm_sandbox_new(g, limits, err);
    tm_gen_release(g);
    if (sb == NULL)
        return err ? err->code : TM_ENOMEM;
    tm_sandbox_free(*sbp);
    *sbp = sb;
    return TM_OK;
}
