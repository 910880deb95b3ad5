/*
 * sandbox/lb_journey.c: loads journeys and calls them for one debt at a time
 * (lb_journey.h). All Lua work, including reading the journey objects and the
 * result tables, happens inside one C function run under tm_sandbox_pcall,
 * so a strategy script's metamethods and errors stay inside the limits.
 * Results are read with raw access only.
 */
#include "lb_journey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lb_common.h"
#include "lcompat.h"
#include "scriptset.h"

#define REG_KEY "tallyman.journeys"

struct tm_journeys {
    tm_sandbox *sb;
    size_t n;
    char (*ids)[64];
    int *versions;
};

enum { OP_LOAD, OP_ASSIGN, OP_START, OP_EVENT, OP_TIMER, OP_BLOCKED, OP_EDGES };

typedef struct call_ctx {
    int op;
    tm_journeys *js;
    const char *path;        /* OP_LOAD */
    int index;               /* journey, 1-based in the registry array */
    const tm_jdebt *d;
    const tm_jstate *st;
    const tm_jevent *ev;
    const tm_jaction *send;
    int64_t next_allowed;
    const char *blocked_by;
    int64_t now;
    tm_jresult *res;
    tm_jstate *assign;       /* OP_ASSIGN out */
    int dot;                 /* OP_EDGES */
    char *graph;             /* OP_EDGES out (malloc'd) */
    char loaded_id[64];      /* OP_LOAD out */
    int loaded_version, loaded;
    double loaded_priority;
} call_ctx;

static void copy(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

/* ---------------------------------------------------------------------------
 * C -> Lua
 */
static void set_s(lua_State *L, const char *k, const char *v)
{
    if (v && *v) {
        lua_pushstring(L, v);
        lua_setfield(L, -2, k);
    }
}
static void set_i(lua_State *L, const char *k, int64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

static void push_debt(lua_State *L, const tm_jdebt *d)
{
    lua_createtable(L, 0, 20);
    set_s(L, "debt_id", d->debt_id);
    set_s(L, "id", d->debt_id);
    set_s(L, "state", d->state);
    set_s(L, "debt_type", d->debt_type);
    set_s(L, "currency", d->currency);
    set_s(L, "creditor", d->creditor);
    set_s(L, "dispute", d->dispute ? d->dispute : "none");
    set_s(L, "status", d->status);
    set_s(L, "zone", d->zone);
    set_s(L, "language", d->language);
    set_s(L, "charge_off_date", d->charge_off_date);
    set_s(L, "last_payment_date", d->last_payment_date);
    set_i(L, "balance", d->balance);
    set_i(L, "placed_balance", d->placed_balance);
    if (d->days_past_due >= 0)
        set_i(L, "days_past_due", d->days_past_due);
    /* debt.promise = {amount =, due =} while a promise to pay is open */
    if (d->promise_amount > 0 && d->promise_due && d->promise_due[0]) {
        lua_createtable(L, 0, 2);
        set_i(L, "amount", d->promise_amount);
        set_s(L, "due", d->promise_due);
        lua_setfield(L, -2, "promise");
    }
    if (d->hardship) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "hardship");
    }
    /* flags as a set: debt.flags.cease == true */
    lua_newtable(L);
    const char *f = d->flags ? d->flags : "";
    while (*f) {
        const char *e = strchr(f, ',');
        size_t n = e ? (size_t)(e - f) : strlen(f);
        if (n) {
            lua_pushlstring(L, f, n);
            lua_pushboolean(L, 1);
            lua_rawset(L, -3);
        }
        f += n + (e ? 1 : 0);
    }
    lua_setfield(L, -2, "flags");
}

static void push_jstate(lua_State *L, const tm_jstate *st)
{
    lua_createtable(L, 0, 5);
    set_s(L, "state", st->state);
    set_s(L, "variant", st->variant);
    if (st->timer_go[0]) {
        set_s(L, "timer_go", st->timer_go);
        set_i(L, "timer_at", st->timer_at);
    }
}

static void push_ctx(lua_State *L, const tm_jdebt *d, int64_t now)
{
    lua_createtable(L, 0, 2);
    set_i(L, "now", now);
    /* A debt without a zone is planned in its state's first zone. */
    const char *zone = d->zone;
    lua_pushstring(L, zone && *zone ? zone : "America/New_York");
    lua_setfield(L, -2, "zone");
}

/* ---------------------------------------------------------------------------
 * Lua -> C (raw reads only)
 */
static const char *raw_s(lua_State *L, int t, const char *k, char *buf, size_t cap)
{
    lua_pushstring(L, k);
    lua_rawget(L, t);
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    copy(buf, cap, v);
    lua_pop(L, 1);
    return v ? buf : NULL;
}
static int64_t raw_i(lua_State *L, int t, const char *k, int64_t dflt)
{
    lua_pushstring(L, k);
    lua_rawget(L, t);
    int64_t v = lua_type(L, -1) == LUA_TNUMBER ? (int64_t)lua_tonumber(L, -1) : dflt;
    lua_pop(L, 1);
    return v;
}
static int raw_b(lua_State *L, int t, const char *k)
{
    lua_pushstring(L, k);
    lua_rawget(L, t);
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static const struct {
    const char *name;
    int type;
} action_types[] = {
    {"send", TM_JA_SEND},     {"offer_plan", TM_JA_OFFER_PLAN}, {"offer_settlement", TM_JA_OFFER_SETTLEMENT},
    {"score", TM_JA_SCORE},   {"queue", TM_JA_QUEUE},           {"close", TM_JA_CLOSE},
    {"note", TM_JA_NOTE},
};

/* Reads the result table at the top of the stack into *res. */
static void read_result(lua_State *L, call_ctx *c)
{
    int t = lua_gettop(L);
    tm_jresult *res = c->res;
    if (!lua_istable(L, t))
        luaL_error(L, "journey %s returned no result table", c->js->ids[c->index - 1]);
    /* A debt the journey cannot place (its state is gone from the loaded
     * text) is an error for the cycle to park, not an event to ignore. */
    char why[300];
    if (raw_s(L, t, "error", why, sizeof why))
        luaL_error(L, "%s", why);
    memset(res, 0, sizeof *res);
    copy(res->st.journey, sizeof res->st.journey, c->js->ids[c->index - 1]);
    res->st.version = (int)raw_i(L, t, "version", 1);
    raw_s(L, t, "state", res->st.state, sizeof res->st.state);
    raw_s(L, t, "variant", res->st.variant, sizeof res->st.variant);
    if (!res->st.variant[0])
        copy(res->st.variant, sizeof res->st.variant, c->st ? c->st->variant : "default");
    char reason[64];
    if (raw_s(L, t, "closed", reason, sizeof reason)) {
        res->closed = 1;
        copy(res->closed_reason, sizeof res->closed_reason, reason);
    }
    res->ignored = raw_b(L, t, "ignored");
    lua_pushstring(L, "timer");
    lua_rawget(L, t);
    if (lua_istable(L, -1)) {
        int tt = lua_gettop(L);
        raw_s(L, tt, "go", res->st.timer_go, sizeof res->st.timer_go);
        res->st.timer_at = raw_i(L, tt, "at", 0);
    }
    lua_pop(L, 1);
    lua_pushstring(L, "moves");
    lua_rawget(L, t);
    if (lua_istable(L, -1)) {
        int mt = lua_gettop(L);
        size_t off = 0;
        for (int i = 1; i <= (int)tm_lua_rawlen(L, mt) && off < sizeof res->moves - 1; i++) {
            lua_rawgeti(L, mt, i);
            if (lua_type(L, -1) == LUA_TSTRING)
                off += (size_t)snprintf(res->moves + off, sizeof res->moves - off, "%s%s",
                                        off ? "," : "", lua_tostring(L, -1));
            lua_pop(L, 1);
            if (off >= sizeof res->moves)
                off = sizeof res->moves - 1;
        }
    }
    lua_pop(L, 1);
    lua_pushstring(L, "actions");
    lua_rawget(L, t);
    if (lua_istable(L, -1)) {
        int at = lua_gettop(L);
        int n = (int)tm_lua_rawlen(L, at);
        if (n > TM_JOURNEY_MAX_ACTIONS)
            luaL_error(L, "journey %s: %d actions in one step, at most %d",
                       c->js->ids[c->index - 1], n, TM_JOURNEY_MAX_ACTIONS);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, at, i);
            int a = lua_gettop(L);
            if (!lua_istable(L, a))
                luaL_error(L, "journey %s: action %d is not a table", c->js->ids[c->index - 1], i);
            tm_jaction *x = &res->actions[res->nactions];
            memset(x, 0, sizeof *x);
            char type[32];
            raw_s(L, a, "type", type, sizeof type);
            for (size_t k = 0; k < sizeof action_types / sizeof *action_types; k++)
                if (strcmp(type, action_types[k].name) == 0)
                    x->type = action_types[k].type;
            if (x->type == 0)
                luaL_error(L, "journey %s: unknown action type '%s'", c->js->ids[c->index - 1], type);
            raw_s(L, a, "channel", x->channel, sizeof x->channel);
            raw_s(L, a, "template", x->template_id, sizeof x->template_id);
            raw_s(L, a, "purpose", x->purpose, sizeof x->purpose);
            x->at = raw_i(L, a, "at", c->now);
            x->rescheduled = raw_b(L, a, "rescheduled");
            char *js = NULL;
            size_t jl = 0;
            struct tm_err e = {0};
            if (tm_lb_json_encode(L, a, &js, &jl, &e) == TM_OK && jl < sizeof x->json)
                memcpy(x->json, js, jl + 1);
            else
                snprintf(x->json, sizeof x->json, "{\"type\":\"%s\"}", type);
            free(js);
            res->nactions++;
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

/* Pushes registry journey `index` (1-based). */
static void push_journey(lua_State *L, int index)
{
    lua_getfield(L, LUA_REGISTRYINDEX, REG_KEY);
    lua_rawgeti(L, -1, index);
    lua_remove(L, -2);
}

/* Pushes method `name` of the journey at `j` (through its metatable, as the
 * library defines it: our own code, under the call's limits). */
static void push_method(lua_State *L, int j, const char *name)
{
    lua_getfield(L, j, name);
    if (!lua_isfunction(L, -1))
        luaL_error(L, "journey object has no %s method", name);
}

static void buf_add(char **b, size_t *n, size_t *cap, const char *s)
{
    size_t l = strlen(s);
    if (*n + l + 1 > *cap) {
        size_t nc = (*cap ? *cap * 2 : 1024) + l;
        char *q = realloc(*b, nc);
        if (!q)
            return;
        *b = q;
        *cap = nc;
    }
    memcpy(*b + *n, s, l + 1);
    *n += l;
}

static int jcall(lua_State *L)
{
    call_ctx *c = lua_touserdata(L, 1);
    lua_settop(L, 0);
    if (c->op == OP_LOAD) {
        /* the script's value is in the registry slot "tallyman.journey.tmp" */
        lua_getfield(L, LUA_REGISTRYINDEX, "tallyman.journey.tmp");
        int v = lua_gettop(L);
        c->loaded = 0;
        if (!lua_istable(L, v))
            return 0;
        lua_getfield(L, v, "start");
        lua_getfield(L, v, "event");
        lua_getfield(L, v, "id");
        int ok = lua_isfunction(L, -3) && lua_isfunction(L, -2) && lua_type(L, -1) == LUA_TSTRING;
        if (ok) {
            copy(c->loaded_id, sizeof c->loaded_id, lua_tostring(L, -1));
            lua_getfield(L, v, "version");
            c->loaded_version = lua_isnumber(L, -1) ? (int)lua_tonumber(L, -1) : 1;
            lua_getfield(L, v, "priority");
            c->loaded_priority = lua_isnumber(L, -1) ? (double)lua_tonumber(L, -1) : 100.0;
            c->loaded = 1;
        }
        return 0;
    }
    push_journey(L, c->index);
    int j = lua_gettop(L);
    switch (c->op) {
    case OP_ASSIGN: {
        push_method(L, j, "matches");
        lua_pushvalue(L, j);
        push_debt(L, c->d);
        lua_call(L, 2, 1);
        int takes = lua_toboolean(L, -1);
        lua_pop(L, 1);
        if (takes) {
            push_method(L, j, "variant_for");
            lua_pushvalue(L, j);
            lua_pushstring(L, c->d->debt_id);
            lua_call(L, 2, 1);
            copy(c->assign->journey, sizeof c->assign->journey, c->js->ids[c->index - 1]);
            copy(c->assign->variant, sizeof c->assign->variant,
                 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "default");
            c->assign->version = c->js->versions[c->index - 1];
        }
        return 0;
    }
    case OP_START:
        push_method(L, j, "start");
        lua_pushvalue(L, j);
        push_debt(L, c->d);
        push_ctx(L, c->d, c->now);
        lua_call(L, 3, 1);
        /* start picks the variant itself; keep the assigned one if given */
        break;
    case OP_EVENT:
        push_method(L, j, "event");
        lua_pushvalue(L, j);
        push_jstate(L, c->st);
        push_debt(L, c->d);
        lua_createtable(L, 0, 6);
        set_s(L, "type", c->ev->type);
        set_i(L, "at", c->ev->at);
        if (c->ev->has_amount) {
            set_i(L, "amount", c->ev->amount);
            set_i(L, "balance", c->ev->balance);
        }
        set_s(L, "channel", c->ev->channel);
        set_s(L, "outcome", c->ev->outcome);
        push_ctx(L, c->d, c->now);
        lua_call(L, 5, 1);
        break;
    case OP_TIMER:
        push_method(L, j, "timer");
        lua_pushvalue(L, j);
        push_jstate(L, c->st);
        push_debt(L, c->d);
        push_ctx(L, c->d, c->now);
        lua_call(L, 4, 1);
        break;
    case OP_BLOCKED:
        push_method(L, j, "blocked");
        lua_pushvalue(L, j);
        push_jstate(L, c->st);
        push_debt(L, c->d);
        lua_createtable(L, 0, 4);
        set_s(L, "channel", c->send->channel);
        set_s(L, "template", c->send->template_id);
        set_s(L, "purpose", c->send->purpose);
        set_i(L, "at", c->send->at);
        lua_createtable(L, 0, 2);
        if (c->next_allowed != INT64_MAX)
            set_i(L, "next_allowed_at", c->next_allowed);
        set_s(L, "blocked_by", c->blocked_by);
        push_ctx(L, c->d, c->now);
        lua_call(L, 6, 1);
        break;
    case OP_EDGES: {
        push_method(L, j, "edges");
        lua_pushvalue(L, j);
        lua_call(L, 1, 1);
        int e = lua_gettop(L);
        char *b = NULL;
        size_t n = 0, cap = 0;
        const char *id = c->js->ids[c->index - 1];
        char line[512];
        if (c->dot)
            snprintf(line, sizeof line,
                     "digraph \"%s\" {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n"
                     "  \"(start)\" [shape=point];\n  \"(end)\" [shape=doublecircle, label=\"\"];\n",
                     id);
        else
            snprintf(line, sizeof line, "stateDiagram-v2\n  %%%% journey %s\n", id);
        buf_add(&b, &n, &cap, line);
        for (int i = 1; i <= (int)tm_lua_rawlen(L, e); i++) {
            lua_rawgeti(L, e, i);
            int x = lua_gettop(L);
            char from[64], to[64], label[96];
            raw_s(L, x, "from", from, sizeof from);
            raw_s(L, x, "to", to, sizeof to);
            raw_s(L, x, "label", label, sizeof label);
            lua_pop(L, 1);
            if (c->dot)
                snprintf(line, sizeof line, "  \"%s\" -> \"%s\" [label=\"%s\"%s];\n",
                         strcmp(from, "*") == 0 ? "(any state)" : strcmp(from, "[*]") == 0 ? "(start)" : from,
                         strcmp(to, "[*]") == 0 ? "(end)" : to, label,
                         strcmp(from, "*") == 0 ? ", style=dashed" : "");
            else
                snprintf(line, sizeof line, "  %s --> %s : %s\n",
                         strcmp(from, "*") == 0 ? "any_state" : from, to, label);
            buf_add(&b, &n, &cap, line);
        }
        if (c->dot)
            buf_add(&b, &n, &cap, "}\n");
        c->graph = b;
        return 0;
    }
    default:
        return 0;
    }
    read_result(L, c);
    return 0;
}

/* Runs jcall for `c` under the sandbox's limits. */
static int run(tm_journeys *js, call_ctx *c, struct tm_err *err)
{
    lua_State *L = tm_sandbox_lua(js->sb);
    lua_pushcfunction(L, jcall);
    lua_pushlightuserdata(L, c);
    return tm_sandbox_pcall(js->sb, 1, 0, err);
}

int tm_journeys_load(tm_sandbox *sb, tm_journeys **out,
                     void (*report)(void *ud, const char *message), void *ud, struct tm_err *err)
{
    *out = NULL;
    tm_journeys *js = calloc(1, sizeof *js);
    if (!js)
        return tm_err_set(err, TM_ENOMEM, "out of memory loading journeys");
    js->sb = sb;
    lua_State *L = tm_sandbox_lua(sb);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, REG_KEY);
    tm_gen *gen = tm_sandbox_gen(sb);
    size_t cap = 0;
    double *prio = NULL;
    for (size_t i = 0; gen && i < tm_gen_count(gen); i++) {
        const tm_script *s = tm_gen_script(gen, i);
        size_t pl = strlen(s->path);
        if (strncmp(s->path, "strategies/", 11) != 0 ||
            (pl > 9 && strcmp(s->path + pl - 9, "_spec.lua") == 0))
            continue;
        struct tm_err e = {0};
        if (tm_sandbox_script(sb, s->path, &e) != TM_OK) {
            if (report) {
                char m[700];
                snprintf(m, sizeof m, "%s", e.msg);
                report(ud, m);
            }
            continue;
        }
        lua_setfield(L, LUA_REGISTRYINDEX, "tallyman.journey.tmp");
        call_ctx c = {.op = OP_LOAD, .js = js, .path = s->path};
        int rc = run(js, &c, &e);
        if (rc != TM_OK || !c.loaded) {
            if (rc != TM_OK && report) {
                char m[700];
                snprintf(m, sizeof m, "%s/%s: %s", tm_gen_root(gen), s->path, e.msg);
                report(ud, m);
            }
            continue; /* a module that is not a journey */
        }
        for (size_t k = 0; k < js->n; k++) {
            if (strcmp(js->ids[k], c.loaded_id) == 0) {
                if (report) {
                    char m[300];
                    snprintf(m, sizeof m, "%s/%s: journey id '%s' is used twice; this one is left out",
                             tm_gen_root(gen), s->path, c.loaded_id);
                    report(ud, m);
                }
                c.loaded = 0;
            }
        }
        if (!c.loaded)
            continue;
        if (js->n == cap) {
            cap = cap ? cap * 2 : 16;
            void *a = realloc(js->ids, cap * sizeof *js->ids);
            if (a)
                js->ids = a;
            void *b = realloc(js->versions, cap * sizeof *js->versions);
            if (b)
                js->versions = b;
            void *p = realloc(prio, cap * sizeof *prio);
            if (p)
                prio = p;
            if (!a || !b || !p) {
                free(prio);
                tm_journeys_free(js);
                return tm_err_set(err, TM_ENOMEM, "out of memory loading journeys");
            }
        }
        /* insertion sort by (priority, id); the registry array follows */
        size_t at = js->n;
        while (at > 0 && (prio[at - 1] > c.loaded_priority ||
                          (prio[at - 1] == c.loaded_priority && strcmp(js->ids[at - 1], c.loaded_id) > 0)))
            at--;
        memmove(js->ids + at + 1, js->ids + at, (js->n - at) * sizeof *js->ids);
        memmove(js->versions + at + 1, js->versions + at, (js->n - at) * sizeof *js->versions);
        memmove(prio + at + 1, prio + at, (js->n - at) * sizeof *prio);
        copy(js->ids[at], sizeof js->ids[at], c.loaded_id);
        js->versions[at] = c.loaded_version;
        prio[at] = c.loaded_priority;
        lua_getfield(L, LUA_REGISTRYINDEX, REG_KEY);
        for (size_t k = js->n; k > at; k--) {
            lua_rawgeti(L, -1, (int)k);
            lua_rawseti(L, -2, (int)k + 1);
        }
        lua_getfield(L, LUA_REGISTRYINDEX, "tallyman.journey.tmp");
        lua_rawseti(L, -2, (int)at + 1);
        lua_pop(L, 1);
        js->n++;
    }
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "tallyman.journey.tmp");
    free(prio);
    *out = js;
    return TM_OK;
}

void tm_journeys_free(tm_journeys *js)
{
    if (!js)
        return;
    free(js->ids);
    free(js->versions);
    free(js);
}

size_t tm_journeys_count(const tm_journeys *js) { return js ? js->n : 0; }

const char *tm_journeys_id(const tm_journeys *js, size_t i, int *version)
{
    if (!js || i >= js->n)
        return NULL;
    if (version)
        *version = js->versions[i];
    return js->ids[i];
}

static int find(tm_journeys *js, const char *id)
{
    for (size_t i = 0; i < js->n; i++)
        if (strcmp(js->ids[i], id) == 0)
            return (int)i + 1;
    return 0;
}

int tm_journeys_assign(tm_journeys *js, const tm_jdebt *d, tm_jstate *st, struct tm_err *err)
{
    memset(st, 0, sizeof *st);
    for (size_t i = 0; i < js->n; i++) {
        call_ctx c = {.op = OP_ASSIGN, .js = js, .index = (int)i + 1, .d = d, .assign = st};
        int rc = run(js, &c, err);
        if (rc != TM_OK)
            return rc;
        if (st->journey[0])
            return TM_OK;
    }
    return TM_OK;
}

static int step(tm_journeys *js, call_ctx *c, struct tm_err *err)
{
    c->index = find(js, c->st->journey);
    if (!c->index)
        return tm_err_set(err, TM_ENOENT, "journey '%s' is not in the script set", c->st->journey);
    int rc = run(js, c, err);
    if (rc == TM_OK && c->op == OP_START && c->st->variant[0])
        copy(c->res->st.variant, sizeof c->res->st.variant, c->st->variant);
    return rc;
}

int tm_journeys_start(tm_journeys *js, const tm_jdebt *d, const tm_jstate *st, int64_t now,
                      tm_jresult *res, struct tm_err *err)
{
    call_ctx c = {.op = OP_START, .js = js, .d = d, .st = st, .now = now, .res = res};
    return step(js, &c, err);
}

int tm_journeys_event(tm_journeys *js, const tm_jdebt *d, const tm_jstate *st,
                      const tm_jevent *ev, int64_t now, tm_jresult *res, struct tm_err *err)
{
    call_ctx c = {.op = OP_EVENT, .js = js, .d = d, .st = st, .ev = ev, .now = now, .res = res};
    return step(js, &c, err);
}

int tm_journeys_timer(tm_journeys *js, const tm_jdebt *d, const tm_jstate *st, int64_t now,
                      tm_jresult *res, struct tm_err *err)
{
    call_ctx c = {.op = OP_TIMER, .js = js, .d = d, .st = st, .now = now, .res = res};
    return step(js, &c, err);
}

int tm_journeys_blocked(tm_journeys *js, const tm_jdebt *d, const tm_jstate *st,
                        const tm_jaction *send, int64_t next_allowed, const char *blocked_by,
                        int64_t now, tm_jresult *res, struct tm_err *err)
{
    call_ctx c = {.op = OP_BLOCKED, .js = js, .d = d, .st = st, .send = send,
                  .next_allowed = next_allowed, .blocked_by = blocked_by, .now = now, .res = res};
    return step(js, &c, err);
}

int tm_journeys_graph(tm_journeys *js, const char *id, int dot, char **out, struct tm_err *err)
{
    *out = NULL;
    int index = find(js, id);
    if (!index)
        return tm_err_set(err, TM_ENOENT, "no journey '%s'", id);
    call_ctx c = {.op = OP_EDGES, .js = js, .index = index, .dot = dot};
    int rc = run(js, &c, err);
    if (rc != TM_OK) {
        free(c.graph);
        return rc;
    }
    if (!c.graph)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    *out = c.graph;
    return TM_OK;
}
