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
#include "jw.h"
#include "lb_common.h"
#include "sandbox.h"
#include "text.h"

#define JSON_MAX_DEPTH 100
#define JSON_ESCAPES (TM_JW_SHORT_ESCAPES | TM_JW_ESCAPE_DEL)

typedef struct walk {
    lua_State *L;
    tm_jw *out; /* escaping as script results always were: \n, \t... and 0x7f escaped */
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
    tm_jw_strn(w->out, s, n);
    return TM_OK;
}

static int put_number(walk *w, int idx)
{
    if (tm_lua_isinteger(w->L, idx)) {
        tm_jw_int(w->out, (int64_t)lua_tointeger(w->L, idx));
        return TM_OK;
    }
    double d = (double)lua_tonumber(w->L, idx);
    if (isnan(d) || isinf(d))
        return fail(w, isnan(d) ? "cannot print nan (JSON has no such number)"
                                : "cannot print inf (JSON has no such number)");
    tm_jw_real(w->out, d);
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
        tm_jw_arr(w->out);
        for (size_t i = 1; i <= n && rc == TM_OK; i++) {
            lua_rawgeti(L, idx, (int)i);
            rc = put_value(w, lua_gettop(L));
            lua_pop(L, 1);
        }
        tm_jw_arr_end(w->out);
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
        tm_jw_obj(w->out);
        for (size_t i = 0; i < k && rc == TM_OK; i++) {
            if (keys[i].is_int) {
                char num[32];
                snprintf(num, sizeof num, "%lld", keys[i].i);
                tm_jw_key(w->out, num);
                lua_pushinteger(L, (lua_Integer)keys[i].i);
            } else {
                if (!tm_utf8_valid(keys[i].s, keys[i].len, NULL))
                    rc = fail(w, "cannot print a string that is not valid UTF-8");
                else
                    tm_jw_keyn(w->out, keys[i].s, keys[i].len);
                lua_pushlstring(L, keys[i].s, keys[i].len);
            }
            lua_rawget(L, idx);
            if (rc == TM_OK)
                rc = put_value(w, lua_gettop(L));
            lua_pop(L, 1);
        }
        tm_jw_obj_end(w->out);
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
    if (tm_buf_failed(w->out->b))
        return fail(w, tm_buf_failed(w->out->b) == TM_ELIMIT_MEM
                           ? "cannot print: the result is larger than the memory limit"
                           : "cannot print: out of memory");
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        tm_jw_null(w->out);
        return TM_OK;
    case LUA_TBOOLEAN:
        tm_jw_bool(w->out, lua_toboolean(L, idx));
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
    tm_buf b = TM_BUF_INIT;
    /* Shared subtables can make a small value print enormously (a DAG of
     * 60 levels is 2^60 leaves): the text may not outgrow the memory cap. */
    tm_buf_limit(&b, tm_sandbox_limits(sb)->mem_bytes);
    tm_jw jw;
    walk w = {.L = L, .out = &jw, .err = err};
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
        tm_jw_init(&jw, &b, JSON_ESCAPES); /* one value per line: no comma between them */
        if (raw && lua_type(L, base + i) == LUA_TSTRING) {
            size_t n;
            const char *str = lua_tolstring(L, base + i, &n);
            tm_buf_put(&b, str, n);
        } else {
            rc = put_value(&w, base + i);
        }
        tm_buf_putc(&b, '\n');
    }
    lua_settop(L, base);
    if (rc == TM_OK && tm_buf_failed(&b))
        rc = tm_buf_failed(&b) == TM_ELIMIT_MEM
                 ? tm_err_set(err, TM_ECONVERT, "the results are larger than the memory limit")
                 : tm_err_set(err, TM_ENOMEM, "out of memory writing the results");
    if (rc == TM_OK && !(*out = tm_buf_take(&b, outlen)))
        rc = tm_err_set(err, TM_ENOMEM, "out of memory writing the results");
    tm_buf_free(&b);
    return rc;
}

int tm_lb_json_encode(lua_State *L, int idx, char **out, size_t *outlen, struct tm_err *err)
{
    idx = tm_lua_absindex(L, idx);
    tm_buf b = TM_BUF_INIT;
    tm_jw jw;
    tm_jw_init(&jw, &b, JSON_ESCAPES);
    walk w = {.L = L, .out = &jw, .err = err, .what = "value"};
    *out = NULL;
    int rc = put_value(&w, idx);
    if (rc == TM_OK && (tm_buf_failed(&b) || !(*out = tm_buf_take(&b, outlen))))
        rc = tm_err_set(err, TM_ENOMEM, "out of memory writing JSON");
    tm_buf_free(&b);
    return rc;
}
