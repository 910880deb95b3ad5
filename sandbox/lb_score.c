/*
 * sandbox/lb_score.c: `tm.score(model, features [, nreasons])` for scripts.
 *
 * Models are not files a script opens: they ship in the script tree as
 * models/<name>.json, are parsed and checked when the script set loads, and
 * belong to the generation (see scriptset.h), so a reload swaps scripts and
 * models together and the set's hash names both. A script asks for a model
 * by name and passes its features as a table of numbers and strings.
 *
 * The feature map is one tm_features per Lua state, kept in the registry in
 * a userdata whose __gc frees it, so a Lua error half-way through filling it
 * cannot leak it.
 */
#include "lb_score.h"

#include <stdio.h>
#include <string.h>

#include "lb_common.h"
#include "lcompat.h"
#include "sandbox.h"
#include "score.h"
#include "scriptset.h"

#define FEATURES_KEY "tallyman.score.features"
#define LB_SCORE_MAX_REASONS 16

static int features_gc(lua_State *L)
{
    tm_features **box = lua_touserdata(L, 1);
    if (box && *box) {
        tm_features_free(*box);
        *box = NULL;
    }
    return 0;
}

/* The state's feature map, cleared; created on first use. */
static tm_features *state_features(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, FEATURES_KEY);
    tm_features **box = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (box && *box) {
        tm_features_clear(*box);
        return *box;
    }
    box = lua_newuserdata(L, sizeof *box);
    *box = NULL;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, features_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    *box = tm_features_new();
    if (*box == NULL)
        tm_lb_error(L, "tm.score", "out of memory");
    lua_setfield(L, LUA_REGISTRYINDEX, FEATURES_KEY);
    return *box;
}

/***
 * @function tm.score(model, features [, nreasons])
 * @param model {string} name of models/<model>.json in the script tree
 * @param features {table} feature name -> number, string or boolean (1/0)
 * @param nreasons {integer} reason codes wanted (default 4, at most 16)
 * @return {number} probability in [0, 1]
 * @return {table} reasons, most adverse first: {feature=, text=, impact=}
 */
static int l_score(lua_State *L)
{
    const char *fn = "tm.score";
    const char *name = tm_lb_checklstring(L, 1, fn, NULL);
    tm_lb_checktable(L, 2, fn);
    lua_Integer nr = tm_lb_optinteger(L, 3, fn, 4);
    if (nr < 0 || nr > LB_SCORE_MAX_REASONS)
        return tm_lb_argerror(L, 3, fn, "0 to %d reasons expected, got %lld", LB_SCORE_MAX_REASONS,
                              (long long)nr);
    tm_sandbox *sb = tm_sandbox_from_lua(L);
    const tm_model *m = tm_gen_model(sb ? tm_sandbox_gen(sb) : NULL, name);
    if (m == NULL)
        return tm_lb_argerror(L, 1, fn, "no model '%.100s': expected models/%.100s.json in the script tree",
                              name, name);
    tm_features *f = state_features(L);
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING)
            return tm_lb_argerror(L, 2, fn, "feature names must be strings, got a %s key",
                                  luaL_typename(L, -2));
        const char *k = lua_tostring(L, -2);
        int rc;
        switch (lua_type(L, -1)) {
        case LUA_TNUMBER:
            rc = tm_features_set_num(f, k, (double)lua_tonumber(L, -1));
            break;
        case LUA_TSTRING:
            rc = tm_features_set_str(f, k, lua_tostring(L, -1));
            break;
        case LUA_TBOOLEAN:
            rc = tm_features_set_num(f, k, lua_toboolean(L, -1) ? 1.0 : 0.0);
            break;
        default:
            return tm_lb_argerror(L, 2, fn,
                                  "feature '%.63s': number, string or boolean expected, got %s", k,
                                  luaL_typename(L, -1));
        }
        if (rc == TM_ENOMEM)
            return tm_lb_error(L, fn, "feature '%.63s': out of memory", k);
        if (rc != TM_OK)
            return tm_lb_argerror(L, 2, fn,
                                  "feature '%.63s': bad name or value (NaN, infinite, empty or over "
                                  "63 bytes, or too many features)",
                                  k);
        lua_pop(L, 1);
    }
    double p = 0;
    tm_reason reasons[LB_SCORE_MAX_REASONS];
    int nout = 0;
    struct tm_err e = {0};
    int rc = tm_model_score(m, f, &p, reasons, (int)nr, &nout, &e);
    if (rc == TM_ENOMEM)
        return tm_lb_error(L, fn, "model '%s': %s", name, e.msg);
    if (rc != TM_OK)
        return tm_lb_argerror(L, 2, fn, "model '%.100s': %s", name, e.msg);
    lua_pushnumber(L, p);
    lua_createtable(L, nout, 0);
    for (int i = 0; i < nout; i++) {
        lua_createtable(L, 0, 3);
        lua_pushstring(L, reasons[i].feature);
        lua_setfield(L, -2, "feature");
        lua_pushstring(L, reasons[i].text);
        lua_setfield(L, -2, "text");
        lua_pushnumber(L, reasons[i].impact);
        lua_setfield(L, -2, "impact");
        lua_rawseti(L, -2, i + 1);
    }
    return 2;
}

static int push_score_fn(lua_State *L)
{
    lua_pushcfunction(L, l_score);
    return 1;
}

void tm_lb_score_register(void)
{
    tm_sandbox_add_library("score", push_score_fn);
}
