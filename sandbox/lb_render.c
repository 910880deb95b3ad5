/*
 * sandbox/lb_render.c: tm_render (lb_render.h). Builds the values table the
 * templates expect, calls lib/render.lua under the sandbox's limits and
 * copies the strings out. The personal data in `values` lives only in the
 * Lua state for the call.
 */
#include "lb_render.h"

#include <stdlib.h>
#include <string.h>

#include "lcompat.h"

typedef struct rctx {
    const tm_render_in *in;
    tm_rendered *out;
} rctx;

static void set_s(lua_State *L, const char *k, const char *v)
{
    if (v && *v) {
        lua_pushstring(L, v);
        lua_setfield(L, -2, k);
    }
}

static char *dup_at(lua_State *L, int idx)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        return NULL;
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/* Runs inside tm_sandbox_pcall: arg 1 the render function, arg 2 the ctx. */
static int call_render(lua_State *L)
{
    rctx *c = lua_touserdata(L, 2);
    const tm_render_in *in = c->in;
    lua_settop(L, 1);
    lua_pushstring(L, in->channel);
    lua_pushstring(L, in->template_id);
    lua_pushstring(L, in->language && *in->language ? in->language : "en");
    lua_createtable(L, 0, 4); /* values */
    lua_createtable(L, 0, 3);
    set_s(L, "first_name", in->first_name);
    set_s(L, "last_name", in->last_name);
    set_s(L, "language", in->language);
    lua_setfield(L, -2, "consumer");
    lua_createtable(L, 0, 5);
    set_s(L, "id", in->debt_id);
    set_s(L, "creditor", in->creditor);
    set_s(L, "currency", in->currency);
    lua_pushinteger(L, (lua_Integer)in->balance);
    lua_setfield(L, -2, "balance");
    if (in->days_past_due >= 0) {
        lua_pushinteger(L, (lua_Integer)in->days_past_due);
        lua_setfield(L, -2, "days_past_due");
    }
    lua_setfield(L, -2, "debt");
    set_s(L, "today", in->today);
    if (in->has_offer) {
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, (lua_Integer)in->offer_amount);
        lua_setfield(L, -2, "amount");
        set_s(L, "due", in->offer_due);
        lua_setfield(L, -2, "offer");
    }
    if (in->has_plan) {
        lua_createtable(L, 0, 3);
        lua_pushinteger(L, (lua_Integer)in->plan_count);
        lua_setfield(L, -2, "count");
        lua_pushinteger(L, (lua_Integer)in->plan_amount);
        lua_setfield(L, -2, "amount");
        set_s(L, "first_due", in->plan_first_due);
        lua_setfield(L, -2, "plan");
    }
    lua_createtable(L, 0, 4); /* opts */
    set_s(L, "state", in->state);
    set_s(L, "zone", in->zone);
    set_s(L, "currency", in->currency);
    lua_createtable(L, in->nrequires, 0);
    for (int i = 0; i < in->nrequires; i++) {
        lua_pushstring(L, in->requires[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "requires");
    lua_call(L, 5, 5);
    c->out->subject = dup_at(L, -5);
    c->out->text = dup_at(L, -4);
    c->out->html = dup_at(L, -3);
    c->out->over_limit = lua_toboolean(L, -2);
    c->out->segments = (int)lua_tonumber(L, -1);
    return 0;
}

int tm_render(tm_sandbox *sb, const tm_render_in *in, tm_rendered *out, struct tm_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = tm_sandbox_script(sb, "lib/render.lua", err);
    if (rc != TM_OK)
        return rc;
    lua_State *L = tm_sandbox_lua(sb);
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        return tm_err_set(err, TM_ESCRIPT, "lib/render.lua must return a function");
    }
    rctx c = {.in = in, .out = out};
    lua_pushcfunction(L, call_render);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, &c);
    rc = tm_sandbox_pcall(sb, 2, 0, err);
    if (rc == TM_OK && !out->text)
        rc = tm_err_set(err, TM_ESCRIPT, "template %s rendered no text", in->template_id);
    if (rc != TM_OK)
        tm_rendered_free(out);
    return rc;
}

typedef struct cctx {
    const char *channel, *template_id;
    char (*names)[TM_RENDER_CLAIM_LEN];
    int max, n, found;
} cctx;

/* Runs inside tm_sandbox_pcall: arg 1 the claims function, arg 2 the ctx. */
static int call_claims(lua_State *L)
{
    cctx *c = lua_touserdata(L, 2);
    lua_settop(L, 1);
    lua_pushstring(L, c->channel);
    lua_pushstring(L, c->template_id);
    lua_call(L, 2, 1);
    if (!lua_istable(L, -1))
        return 0;
    c->found = 1;
    int n = (int)tm_lua_rawlen(L, -1);
    for (int i = 1; i <= n && c->n < c->max; i++) {
        lua_rawgeti(L, -1, i);
        size_t len;
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (s && len > 0 && len < TM_RENDER_CLAIM_LEN)
            memcpy(c->names[c->n++], s, len + 1);
        lua_pop(L, 1);
    }
    return 0;
}

int tm_render_claims(tm_sandbox *sb, const char *channel, const char *template_id,
                     char names[][TM_RENDER_CLAIM_LEN], int max, int *n, int *found, struct tm_err *err)
{
    *n = 0;
    *found = 0;
    int rc = tm_sandbox_script(sb, "lib/claims.lua", err);
    if (rc != TM_OK)
        return rc;
    lua_State *L = tm_sandbox_lua(sb);
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        return tm_err_set(err, TM_ESCRIPT, "lib/claims.lua must return a function");
    }
    cctx c = {.channel = channel, .template_id = template_id, .names = names, .max = max};
    lua_pushcfunction(L, call_claims);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, &c);
    rc = tm_sandbox_pcall(sb, 2, 0, err);
    if (rc == TM_OK) {
        *n = c.n;
        *found = c.found;
    }
    return rc;
}

void tm_rendered_free(tm_rendered *r)
{
    if (!r)
        return;
    free(r->subject);
    free(r->text);
    free(r->html);
    memset(r, 0, sizeof *r);
}
