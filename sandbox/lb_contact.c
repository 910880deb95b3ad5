/*
 * sandbox/lb_contact.c: `tm.contact.best_slot` for scripts (journeys reach it
 * as j:best_slot, scripts/lib/journey.lua).
 *
 * The model is a models/<name>.json of type "contact" in the script set
 * (core/contact_model.h, written by `tallyman score train-contact`), loaded
 * with the generation like a scoring model. Whether a moment is lawful is
 * the host's question to the compliance gate for the debt being worked
 * (tm_sandbox_slot_check): this file only reads the arguments, calls
 * tm_cm_best_slot and pushes its answer. Nothing here allocates, so a Lua
 * error cannot leak.
 */
#include "lb_contact.h"

#include <stdio.h>
#include <string.h>

#include "contact_model.h"
#include "lb_common.h"
#include "lcompat.h"
#include "sandbox.h"
#include "score.h"
#include "scriptset.h"

#define MAX_CHANNELS 8

/* debt[field] as a string, or NULL (raw access: a script's metamethods do not run here). */
static const char *field_str(lua_State *L, int t, const char *field)
{
    lua_pushstring(L, field);
    lua_rawget(L, t);
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1); /* the string stays alive: the debt table holds it */
    return v;
}

/***
 * @function tm.contact.best_slot(model, debt, channels, from, within [, outcome])
 * The channel and moment with the highest probability of a response, from
 * the contact model `model`, among the moments from `from` to `from +
 * within` that the compliance gate allows for this debt (checked = true; in
 * a spec, where there is no gate to ask, checked = false). Channels the
 * debt cannot be reached on (debt.channels, when known) are not tried.
 * @param model {string} name of models/<model>.json (type "contact")
 * @param debt {tm.Debt} the debt (debt_id, debt_type, zone, channels are read)
 * @param channels {string[]} channels to choose among: call, voice, sms, email, letter, push, whatsapp
 * @param from {integer} the first moment, seconds since 1970
 * @param within {integer} the window in seconds, 1 to 31 days
 * @param outcome {string?} "rpc" (a right-party contact, the default) or "pay" (a payment within the model's window)
 * @return {table|nil} {channel =, at =, probability =, pay_probability =, checked =}
 * @return {string?} when nil: why no slot (no channel the consumer can be reached on, no
 *   allowed moment in the window, or no such model in the script set)
 */
static int l_best_slot(lua_State *L)
{
    const char *fn = "tm.contact.best_slot";
    const char *name = tm_lb_checklstring(L, 1, fn, NULL);
    tm_lb_checktable(L, 2, fn);
    tm_lb_checktable(L, 3, fn);
    lua_Integer from = tm_lb_checkinteger(L, 4, fn);
    lua_Integer within = tm_lb_checkinteger(L, 5, fn);
    const char *outcome = tm_lb_optlstring(L, 6, fn, "rpc", NULL);
    if (within < 1 || within > 31 * 86400)
        return tm_lb_argerror(L, 5, fn, "a window of 1 second to 31 days expected, got %lld",
                              (long long)within);
    if (from < 0 || from > INT64_C(253402300799) - 31 * 86400)
        return tm_lb_argerror(L, 4, fn, "a time from 1970 to 9999 expected");
    int out = strcmp(outcome, "rpc") == 0 ? TM_CM_RPC : strcmp(outcome, "pay") == 0 ? TM_CM_PAY : -1;
    if (out < 0)
        return tm_lb_argerror(L, 6, fn, "\"rpc\" or \"pay\" expected, got \"%.40s\"", outcome);
    int chs[MAX_CHANNELS], nch = 0;
    size_t n = (size_t)tm_lua_rawlen(L, 3);
    if (n == 0 || n > MAX_CHANNELS)
        return tm_lb_argerror(L, 3, fn, "a list of 1 to %d channels expected", MAX_CHANNELS);
    /* The channels the consumer can be reached on, when the host knows them. */
    lua_pushstring(L, "channels");
    lua_rawget(L, 2);
    int usable = lua_type(L, -1) == LUA_TTABLE ? lua_gettop(L) : 0;
    char unreachable[200] = "";
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, 3, (lua_Integer)i);
        const char *c = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        int ch = tm_cm_channel(c);
        if (ch < 0)
            return tm_lb_argerror(L, 3, fn, "channels[%zu]: not a channel: %.40s", i,
                                  c ? c : luaL_typename(L, -1));
        int ok = 1;
        if (usable) {
            lua_pushstring(L, strcmp(c, "voice") == 0 ? "call" : c);
            lua_rawget(L, usable);
            ok = lua_toboolean(L, -1);
            lua_pop(L, 1);
        }
        if (ok) {
            int dup = 0;
            for (int k = 0; k < nch; k++)
                dup |= chs[k] == ch;
            if (!dup)
                chs[nch++] = ch;
        } else {
            size_t l = strlen(unreachable);
            snprintf(unreachable + l, sizeof unreachable - l, "%s%s", l ? ", " : "", c);
        }
        lua_pop(L, 1);
    }
    const char *debt_id = field_str(L, 2, "debt_id");
    const char *segment = field_str(L, 2, "debt_type");
    const char *zone = field_str(L, 2, "zone");
    if (nch == 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "the consumer cannot be reached on any channel asked (%s)", unreachable);
        return 2;
    }
    tm_sandbox *sb = tm_sandbox_from_lua(L);
    const tm_model *mm = tm_gen_model(sb ? tm_sandbox_gen(sb) : NULL, name);
    const tm_contact_model *m = tm_model_contact(mm);
    if (mm == NULL) {
        /* Not fitted yet (or the history was too short to fit): the journey falls back to
         * its fixed times. */
        lua_pushnil(L);
        lua_pushfstring(L, "no contact model '%s' in the script set (models/%s.json, from "
                        "tallyman score train-contact)", name, name);
        return 2;
    }
    if (m == NULL)
        return tm_lb_argerror(L, 1, fn, "model '%.100s' is a scoring model, not a contact model "
                              "(tallyman score train-contact)", name);
    void *ud = NULL;
    tm_sandbox_slot_fn check = tm_sandbox_slot_check(sb, &ud);
    tm_cm_slot best;
    char why[300];
    int rc = tm_cm_best_slot(m, debt_id, segment, zone, chs, nch, (int64_t)from,
                             (int64_t)(from + within), out, check, ud, &best, why, sizeof why);
    if (rc == TM_ENOENT) {
        lua_pushnil(L);
        lua_pushstring(L, why);
        return 2;
    }
    if (rc != TM_OK)
        return tm_lb_error(L, fn, "the gate could not be asked: %s", why[0] ? why : tm_strerror(rc));
    lua_createtable(L, 0, 5);
    lua_pushstring(L, tm_cm_channel_name(best.ch));
    lua_setfield(L, -2, "channel");
    lua_pushinteger(L, (lua_Integer)best.at);
    lua_setfield(L, -2, "at");
    lua_pushnumber(L, best.p_rpc);
    lua_setfield(L, -2, "probability");
    lua_pushnumber(L, best.p_pay);
    lua_setfield(L, -2, "pay_probability");
    lua_pushboolean(L, best.checked);
    lua_setfield(L, -2, "checked");
    return 1;
}

static const luaL_Reg contact_funcs[] = {
    {"best_slot", l_best_slot},
    {NULL, NULL},
};

static int open_contact(lua_State *L)
{
    lua_createtable(L, 0, 1);
    luaL_setfuncs(L, contact_funcs, 0);
    return 1;
}

void tm_lb_contact_register(void)
{
    tm_sandbox_add_library("contact", open_contact);
}
