/*
 * sandbox/lb_json.c: writes Lua values as JSON text, for `tallyman eval` and
 * for any binding that hands script results to the outside.
 *
 * Tables whose keys are exactly 1..n become arrays; other tables become
 * objects with sorted keys (integer keys written as decimal strings), so the
 * output is stable. The walk is raw (no metamethods run), bounded in depth,
 * and refuses what JSON cannot hold: functions, userdata, threads, cycles,
 * NaN and infinities, text that is not UTF-8, and keys that are neither
 * strings nor integers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lcompat.h"
#include "lb_common.h"
#include "sandbox.h"
#include "text.h"

#define JSON_MAX_DEPTH 100

typedef struct jbuf {
    char *p;
    size_t len, cap;
    size_t limit; /* the most it may hold (0: no limit) */
    int oom;      /* out of memory, or past the limit */
} jbuf;

static void jput(jbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->limit && b->len + n > b->limit) {
        b->oom = 2;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (q == NULL) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void jputs(jbuf *b, const char *s) { jput(b, s, strlen(s)); }

typedef struct walk {
    lua_State *L;
    jbuf *out;
    const void *path[JSON_MAX_DEPTH + 1];
    int depth;
    struct tm_err *err;
    const char *what; /* "result 1" etc., for messages */
    struct timespec deadline; /* writing results counts against the time limit */
    unsigned ticks;
} walk;

static int fail(walk *w, const char *msg)
{
    return tm_err_set(w->err, TM_ECONVERT, "%s: %s", w->what, msg);
}

static int put_string(walk *w, const char *s, size_t n)
{
    if (!tm_utf8_valid(s, n, NULL))
        return fail(w, "cannot print a string that is not valid UTF-8");
    jbuf *b = w->out;
    jput(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                snprintf(u, sizeof u, "\\u%04x", c);
                esc = u;
            }
        }
        if (esc) {
            jput(b, s + i - run, run);
            run = 0;
            jputs(b, esc);
        } else {
            run++;
        }
    }
    jput(b, s + n - run, run);
    jput(b, "\"", 1);
    return TM_OK;
}

static int put_number(walk *w, int idx)
{
    char num[64];
    if (tm_lua_isinteger(w->L, idx)) {
        snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(w->L, idx));
    } else {
        double d = (double)lua_tonumber(w->L, idx);
        if (isnan(d) || isinf(d))
            return fail(w, isnan(d) ? "cannot print nan (JSON has no such number)"
                                    : "cannot print inf (JSON has no such number)");
        /* Shortest of %.14g (what Lua prints) and %.17g that reads back exactly. */
        snprintf(num, sizeof num, "%.14g", d);
        if (strtod(num, NULL) != d)
            snprintf(num, sizeof num, "%.17g", d);
        if (!strpbrk(num, ".eE"))
            strcat(num, ".0");
    }
    jputs(w->out, num);
    return TM_OK;
}

static int put_value(walk *w, int idx);

typedef struct key {
    int is_int;
    long long i;
    const char *s;
    size_t len;
} key;

static int key_cmp(const void *a, const void *b)
{
    const key *x = a, *y = b;
    if (x->is_int != y->is_int)
        return x->is_int ? -1 : 1;
    if (x->is_int)
        return (x->i > y->i) - (x->i < y->i);
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int put_table(walk *w, int idx)
{
    lua_State *L = w->L;
    const void *self = lua_topointer(L, idx);
    for (int i = 0; i < w->depth; i++)
        if (w->path[i] == self)
            return fail(w, "cannot print a cyclic table");
    if (w->depth >= JSON_MAX_DEPTH)
        return fail(w, "cannot print: tables nested too deep (more than 100 levels)");
    if (!lua_checkstack(L, 8))
        return fail(w, "cannot print: out of stack space");
    w->path[w->depth++] = self;

    /* First pass: count keys, check types, decide array or object. */
    size_t n = 0, nint = 0;
    long long maxint = 0;
    int nonpositive = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int kt = lua_type(L, -2);
        if (kt == LUA_TNUMBER && tm_lua_isinteger(L, -2)) {
            long long k = (long long)lua_tointeger(L, -2);
            nint++;
            if (k > maxint)
                maxint = k;
            if (k < 1)
                nonpositive = 1; /* not an array */
        } else if (kt != LUA_TSTRING) {
            lua_pop(L, 2);
            w->depth--;
            char m[80];
            snprintf(m, sizeof m, "cannot print a table with a %s key", lua_typename(L, kt));
            return fail(w, m);
        }
        n++;
        lua_pop(L, 1);
    }
    int rc = TM_OK;
    if (n > 0 && nint == n && !nonpositive && maxint == (long long)n) {
        jput(w->out, "[", 1);
        for (size_t i = 1; i <= n && rc == TM_OK; i++) {
            if (i > 1)
                jput(w->out, ",", 1);
            lua_rawgeti(L, idx, (int)i);
            rc = put_value(w, lua_gettop(L));
            lua_pop(L, 1);
        }
        jput(w->out, "]", 1);
    } else {
        key *keys = n ? calloc(n, sizeof *keys) : NULL;
        if (n && !keys) {
            w->depth--;
            return fail(w, "cannot print: out of memory");
        }
        size_t k = 0;
        lua_pushnil(L);
        while (lua_next(L, idx) && k < n) {
            if (lua_type(L, -2) == LUA_TSTRING) {
                keys[k].s = lua_tolstring(L, -2, &keys[k].len); /* anchored by the table */
            } else {
                keys[k].is_int = 1;
                keys[k].i = (long long)lua_tointeger(L, -2);
            }
            k++;
            lua_pop(L, 1);
        }
        if (k > 1)
            qsort(keys, k, sizeof *keys, key_cmp);
        jput(w->out, "{", 1);
        for (size_t i = 0; i < k && rc == TM_OK; i++) {
            if (i)
                jput(w->out, ",", 1);
            if (keys[i].is_int) {
                char num[32];
                snprintf(num, sizeof num, "\"%lld\"", keys[i].i);
                jputs(w->out, num);
                lua_pushinteger(L, (lua_Integer)keys[i].i);
            } else {
                rc = put_string(w, keys[i].s, keys[i].len);
                lua_pushlstring(L, keys[i].s, keys[i].len);
            }
            jput(w->out, ":", 1);
            lua_rawget(L, idx);
            if (rc == TM_OK)
                rc = put_value(w, lua_gettop(L));
            lua_pop(L, 1);
        }
        jput(w->out, "}", 1);
        free(keys);
    }
    w->depth--;
    return rc;
}

static int past(const struct timespec *d)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

static int put_value(walk *w, int idx)
{
    lua_State *L = w->L;
    if (w->deadline.tv_sec && (++w->ticks & 4095) == 0 && past(&w->deadline))
        return tm_err_set(w->err, TM_ELIMIT_TIME, "time limit exceeded");
    if (w->out->oom)
        return fail(w, w->out->oom == 2 ? "cannot print: the result is larger than the memory limit"
                                        : "cannot print: out of memory");
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        jputs(w->out, "null");
        return TM_OK;
    case LUA_TBOOLEAN:
        jputs(w->out, lua_toboolean(L, idx) ? "true" : "false");
        return TM_OK;
    case LUA_TNUMBER:
        return put_number(w, idx);
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        return put_string(w, s, n);
    }
    case LUA_TTABLE:
        return put_table(w, idx);
    default:
    {
        char m[80];
        snprintf(m, sizeof m, "cannot print a %s value", lua_typename(L, lua_type(L, idx)));
        return fail(w, m);
    }
    }
}

static int eval_impl(tm_sandbox *sb, const char *name, const char *src, size_t len, char **out,
                     size_t *outlen, struct tm_err *err, int raw);

int tm_sandbox_eval_json(tm_sandbox *sb, const char *name, const char *src, size_t len,
                         char **out, size_t *outlen, struct tm_err *err)
{
    return eval_impl(sb, name, src, len, out, outlen, err, 0);
}

int tm_sandbox_eval_raw(tm_sandbox *sb, const char *name, const char *src, size_t len, char **out,
                        size_t *outlen, struct tm_err *err)
{
    return eval_impl(sb, name, src, len, out, outlen, err, 1);
}

static int eval_impl(tm_sandbox *sb, const char *name, const char *src, size_t len, char **out,
                     size_t *outlen, struct tm_err *err, int raw)
{
    lua_State *L = tm_sandbox_lua(sb);
    int base = lua_gettop(L);
    int nres = 0;
    *out = NULL;
    *outlen = 0;
    int rc = tm_sandbox_run(sb, name, src, len, &nres, err);
    if (rc != TM_OK)
        return rc;
    jbuf b = {0};
    /* Shared subtables can make a small value print enormously (a DAG of
     * 60 levels is 2^60 leaves): the text may not outgrow the memory cap. */
    b.limit = tm_sandbox_limits(sb)->mem_bytes;
    jput(&b, "", 0);
    walk w = {.L = L, .out = &b, .err = err};
    clock_gettime(CLOCK_MONOTONIC, &w.deadline);
    w.deadline.tv_sec += tm_sandbox_limits(sb)->time_ms / 1000;
    w.deadline.tv_nsec += (long)(tm_sandbox_limits(sb)->time_ms % 1000) * 1000000L;
    if (w.deadline.tv_nsec >= 1000000000L) {
        w.deadline.tv_sec++;
        w.deadline.tv_nsec -= 1000000000L;
    }
    char what[32];
    for (int i = 1; i <= nres && rc == TM_OK; i++) {
        snprintf(what, sizeof what, "result %d", i);
        w.what = what;
        if (raw && lua_type(L, base + i) == LUA_TSTRING) {
            size_t n;
            const char *str = lua_tolstring(L, base + i, &n);
            jput(&b, str, n);
        } else {
            rc = put_value(&w, base + i);
        }
        jput(&b, "\n", 1);
    }
    lua_settop(L, base);
    if (rc == TM_OK && b.oom)
        rc = b.oom == 2 ? tm_err_set(err, TM_ECONVERT, "the results are larger than the memory limit")
                        : tm_err_set(err, TM_ENOMEM, "out of memory writing the results");
    if (rc != TM_OK) {
        free(b.p);
        return rc;
    }
    *out = b.p;
    *outlen = b.len;
    return TM_OK;
}

int tm_lb_json_encode(lua_State *L, int idx, char **out, size_t *outlen, struct tm_err *err)
{
    idx = tm_lua_absindex(L, idx);
    jbuf b = {0};
    jput(&b, "", 0);
    walk w = {.L = L, .out = &b, .err = err, .what = "value"};
    int rc = put_value(&w, idx);
    if (rc == TM_OK && b.oom)
        rc = tm_err_set(err, TM_ENOMEM, "out of memory writing JSON");
    if (rc != TM_OK) {
        free(b.p);
        *out = NULL;
        return rc;
    }
    *out = b.p;
    *outlen = b.len;
    return TM_OK;
}
