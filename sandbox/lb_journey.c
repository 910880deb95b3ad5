/*
 * sandbox/lb_journey.c: loads journeys and calls them for one debt at a time
 * (lb_journey.h). All Lua work, including reading the journey objects and the
 * result tables, happens inside one C function run under tm_sandbox_pcall,
 * so a strategy script's metamethods and errors stay inside the limits.
 * Results are read with raw access only.
 *
 * Old versions (lb_journey.h, "Versions"): a step first resolves which
 * journey object runs, inside the same protected call. When that is an old
 * text not yet loaded, the call returns asking for it; the text is fetched
 * through the archive callback outside Lua (so no malloc'd buffer is ever
 * held across a Lua error), checked against its hash, loaded with
 * tm_sandbox_run as its own chunk ("strategies/x.lua@<hash12>", so errors
 * name the file and the text) and cached in the registry by hash, and the
 * step is run again.
 */
#include "lb_journey.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "jw.h"
#include "lb_common.h"
#include "lcompat.h"
#include "scriptset.h"

#define REG_KEY "tallyman.journeys"
#define ARCHIVE_KEY "tallyman.journeys.archive" /* sha256 -> old journey object */
#define TMP_KEY "tallyman.journey.tmp"

/***
 * @class tm.JourneyDef
 * What `journey { ... }` (scripts/lib/journey.lua) takes (strategies.md,
 * "Journeys"). It is checked when the script loads: an unknown field, event,
 * channel or state is an error naming the journey and the field.
 * @field id {string} lower-case name, recorded on each debt
 * @field version {integer?} bump on every change (default 1)
 * @field description {string?} documentation
 * @field priority {number?} journeys are tried in priority order, lower first
 *   (default 100)
 * @field segment {fun(debt: tm.Debt): boolean?} which debts this journey takes
 *   (absent: every debt)
 * @field variants {table<string, number>?} champion/challenger split, name ->
 *   percent, adding up to 100
 * @field send_window {string[]?} {"HH:MM", "HH:MM"}: when sends are planned,
 *   local time
 * @field start {string} the state a debt starts in
 * @field states {table<string, tm.JourneyStateDef>} the states, by name
 * @field on {table<string, string|fun(j: tm.JourneyHandle, debt: tm.Debt, ev: table)>?}
 *   events handled in any state: event -> state, or a function
 * @field blocked {fun(j: tm.JourneyHandle, debt: tm.Debt, contact: table, decision: table): string?}
 *   when the gate blocks a send: return "skip", "reschedule" (the default) or
 *   send on another channel with j:send
 * @field migrate {table<integer, table>?} [old version] = {states = {old =
 *   "new"}} or {state_for = function(debt, old_state)}
 */

/***
 * @class tm.JourneyStateDef
 * One state of a journey.
 * @field enter {fun(j: tm.JourneyHandle, debt: tm.Debt)?} runs when a debt
 *   enters the state
 * @field after {table?} {duration, "state"}: the state's timer
 * @field at {table?} {"HH:MM", "state"}: the state's timer at a local time
 * @field on {table<string, string|fun(j: tm.JourneyHandle, debt: tm.Debt, ev: table)>?}
 *   event -> state, or a function
 * @field final {string?} closes the journey when entered, with this reason
 * @field description {string?} documentation
 */

/***
 * @class tm.JourneyHandle
 * `j` in enter, on and blocked functions: what a step can do.
 * @field variant {string} the debt's variant
 * @field state {string} the state being entered or handled
 * @field now {integer} seconds since 1970
 * @field zone {string} the consumer's IANA zone
 * @field send {fun(self: tm.JourneyHandle, channel: string, template: string, opts?: table)}
 *   a contact on call, sms, email, letter, voice, push or whatsapp, through
 *   the gate at its planned time; opts: {at = "HH:MM" or a time (j:best_slot's
 *   at), purpose = ...}
 * @field best_slot {fun(self: tm.JourneyHandle, opts: table): table?, string?}
 *   the channel and moment most likely to reach the consumer among those the
 *   gate allows: opts {channels = {...}, within = days(3), outcome = "rpc" or
 *   "pay", model = "contact"}; returns {channel =, at =, probability =,
 *   pay_probability =, checked =} or nil and why (tm.contact.best_slot)
 * @field after {fun(self: tm.JourneyHandle, duration: tm.Duration, state: string)}
 *   sets the timer
 * @field at {fun(self: tm.JourneyHandle, clock: string, state: string, days?: integer)}
 *   sets the timer at a local time
 * @field move {fun(self: tm.JourneyHandle, state: string)} goes to another
 *   state now (its enter runs)
 * @field offer_plan {fun(self: tm.JourneyHandle, p: table)} offers an
 *   installment plan: {count =, frequency =, first =}
 * @field offer_settlement {fun(self: tm.JourneyHandle, p: table)} offers a
 *   settlement: {percent =, role =, override =}, checked against
 *   lib/authority.lua
 * @field score {fun(self: tm.JourneyHandle, model: string, features?: table): number, table}
 *   scores the debt now; recorded with the step
 * @field queue {fun(self: tm.JourneyHandle, name: string, opts?: table)} hands
 *   the debt to an agent queue
 * @field close {fun(self: tm.JourneyHandle, reason: string)} ends the journey
 * @field note {fun(self: tm.JourneyHandle, text: string)} a line in the debt's history
 */

/***
 * @class tm.Debt
 * What a journey sees of a debt (no personal data). Only debt_id, state,
 * balance, currency, dispute, status, zone and flags are always there.
 * @field debt_id {string}
 * @field state {string} the consumer's USPS state code
 * @field debt_type {string?}
 * @field currency {string} ISO 4217 code
 * @field creditor {string?}
 * @field dispute {string} none, pending or verified
 * @field status {string}
 * @field zone {string} the consumer's IANA zone
 * @field language {string?}
 * @field balance {integer} minor units
 * @field placed_balance {integer?} minor units
 * @field days_past_due {integer?}
 * @field charge_off_date {string?} "YYYY-MM-DD"
 * @field last_payment_date {string?} "YYYY-MM-DD"
 * @field flags {table<string, boolean>} the consumer's flags as a set
 * @field promise {table?} {amount =, due =} while a promise to pay is open
 * @field hardship {boolean?} true once a hardship event arrived
 * @field channels {table<string, boolean>?} the channels a message may go on
 *   as a set (consent on file for SMS and WhatsApp, no opt-out, a contact
 *   point on file that did not bounce or fail): debt.channels.sms == true;
 *   absent when not known (specs), when any may be tried
 * @field preferred_channel {string?} the consumer's preferred channel, from the placement
 */

/* A loaded journey. */
typedef struct jinfo {
    char id[64];
    int version;
    const tm_script *script; /* borrowed from the sandbox's script set */
    char note[400];          /* "" when none */
} jinfo;

struct tm_journeys {
    tm_sandbox *sb;
    size_t n;
    jinfo *j;                /* by (priority, id), as the registry array */
    tm_jarchive_fn archive;  /* may be NULL: no old texts to be had */
    void *archive_ud;
    tm_jbench *bench;        /* may be NULL: nothing is stopped */
};

/* ---------------------------------------------------------------------------
 * Journeys stopped for the rest of a run (lb_journey.h).
 */
#define BENCH_MAX 32

struct tm_jbench {
    pthread_mutex_t lock;
    int n;
    struct {
        char id[64];
        int code;
        char msg[sizeof ((struct tm_err *)0)->msg];
        long hits, skipped;
    } e[BENCH_MAX];
};

tm_jbench *tm_jbench_new(void)
{
    tm_jbench *b = calloc(1, sizeof *b);
    if (b && pthread_mutex_init(&b->lock, NULL) != 0) {
        free(b);
        return NULL;
    }
    return b;
}

void tm_jbench_free(tm_jbench *b)
{
    if (!b)
        return;
    pthread_mutex_destroy(&b->lock);
    free(b);
}

void tm_journeys_set_bench(tm_journeys *js, tm_jbench *b) { js->bench = b; }

int tm_jbench_get(tm_jbench *b, int i, char *journey, size_t jcap, char *msg, size_t mcap,
                  long *hits, long *skipped)
{
    int rc = TM_ENOENT;
    pthread_mutex_lock(&b->lock);
    if (i >= 0 && i < b->n) {
        snprintf(journey, jcap, "%s", b->e[i].id);
        snprintf(msg, mcap, "%s", b->e[i].msg);
        *hits = b->e[i].hits;
        *skipped = b->e[i].skipped;
        rc = TM_OK;
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

static int is_limit(int rc)
{
    return rc == TM_ELIMIT_MEM || rc == TM_ELIMIT_INSTR || rc == TM_ELIMIT_TIME;
}

/* When journey `id` is stopped: its code, with its message in err, and the
 * skip counted. TM_OK otherwise. */
static int bench_check(tm_jbench *b, const char *id, struct tm_err *err)
{
    if (!b)
        return TM_OK;
    int rc = TM_OK;
    pthread_mutex_lock(&b->lock);
    for (int i = 0; i < b->n; i++) {
        if (strcmp(b->e[i].id, id) == 0) {
            b->e[i].skipped++;
            rc = tm_err_set(err, b->e[i].code, "%s", b->e[i].msg);
            break;
        }
    }
    pthread_mutex_unlock(&b->lock);
    return rc;
}

/* After a step of journey `id` that returned rc: a limit stops the journey
 * (the first message stays; a second worker's hit is counted). */
static void bench_note(tm_jbench *b, const char *id, int rc, const struct tm_err *err)
{
    if (!b || !is_limit(rc))
        return;
    pthread_mutex_lock(&b->lock);
    int i = 0;
    while (i < b->n && strcmp(b->e[i].id, id) != 0)
        i++;
    if (i < b->n) {
        b->e[i].hits++;
    } else if (i < BENCH_MAX) {
        snprintf(b->e[i].id, sizeof b->e[i].id, "%s", id);
        b->e[i].code = rc;
        snprintf(b->e[i].msg, sizeof b->e[i].msg, "%s", err ? err->msg : tm_strerror(rc));
        b->e[i].hits = 1;
        b->n++;
    }
    pthread_mutex_unlock(&b->lock);
}

enum { OP_LOAD, OP_ADOPT, OP_ASSIGN, OP_START, OP_EVENT, OP_TIMER, OP_BLOCKED, OP_EDGES };

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
    char loaded_id[64];      /* OP_LOAD, OP_ADOPT out */
    int loaded_version, loaded;
    double loaded_priority;
    char loaded_note[400];
    const char *jid;         /* the journey's id, for results and messages */
    const char *adopt_hash;  /* OP_ADOPT: the hash the text is cached under */
    const char *ran_hash;    /* steps out: the text that ran */
    int need_archive;        /* steps out: fetch the old text, then run again */
    int migrate_from;        /* steps out: the version migrated from, 0 when none */
    char mapped[64];         /* steps out: the state the migration gave */
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
    if (d->channels) {
        /* channels as a set too: debt.channels.sms == true */
        lua_newtable(L);
        for (const char *c = d->channels; *c;) {
            const char *e = strchr(c, ',');
            size_t n = e ? (size_t)(e - c) : strlen(c);
            if (n) {
                lua_pushlstring(L, c, n);
                lua_pushboolean(L, 1);
                lua_rawset(L, -3);
            }
            c += n + (e ? 1 : 0);
        }
        lua_setfield(L, -2, "channels");
    }
    if (d->preferred_channel && d->preferred_channel[0])
        set_s(L, "preferred_channel", d->preferred_channel);
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

/* Whether the debt's recorded text is the loaded journey's: the same hash,
 * or (for a debt recorded before texts were kept) the same version. */
static int same_text(const jinfo *ji, const tm_jstate *st)
{
    if (st->hash[0])
        return strcmp(st->hash, ji->script->sha256) == 0;
    return st->version == 0 || st->version == ji->version;
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
/* {"type":TYPE} in json (cap bytes): an action whose JSON cannot be written whole is
 * recorded by its type alone. */
static void action_type_json(char *json, size_t cap, const char *type)
{
    tm_buf b;
    tm_buf_fixed(&b, json, cap);
    tm_jw w;
    tm_jw_init(&w, &b, 0);
    tm_jw_obj(&w);
    tm_jw_key(&w, "type");
    tm_jw_str(&w, type);
    tm_jw_obj_end(&w);
    if (tm_buf_failed(&b))
        snprintf(json, cap, "{}");
}

static void read_result(lua_State *L, call_ctx *c)
{
    int t = lua_gettop(L);
    tm_jresult *res = c->res;
    if (!lua_istable(L, t))
        luaL_error(L, "journey %s returned no result table", c->jid);
    /* A debt the journey cannot place (its state is gone from the loaded
     * text) is an error for the cycle to park, not an event to ignore. */
    char why[300];
    if (raw_s(L, t, "error", why, sizeof why))
        luaL_error(L, "%s", why);
    memset(res, 0, sizeof *res);
    copy(res->st.journey, sizeof res->st.journey, c->jid);
    copy(res->st.hash, sizeof res->st.hash, c->ran_hash);
    res->migrated_from = c->migrate_from;
    copy(res->migrated_state, sizeof res->migrated_state, c->migrate_from ? c->mapped : "");
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
                       c->jid, n, TM_JOURNEY_MAX_ACTIONS);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, at, i);
            int a = lua_gettop(L);
            if (!lua_istable(L, a))
                luaL_error(L, "journey %s: action %d is not a table", c->jid, i);
            tm_jaction *x = &res->actions[res->nactions];
            memset(x, 0, sizeof *x);
            char type[32];
            raw_s(L, a, "type", type, sizeof type);
            for (size_t k = 0; k < sizeof action_types / sizeof *action_types; k++)
                if (strcmp(type, action_types[k].name) == 0)
                    x->type = action_types[k].type;
            if (x->type == 0)
                luaL_error(L, "journey %s: unknown action type '%s'", c->jid, type);
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
                action_type_json(x->json, sizeof x->json, type);
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

/* Pushes the journey object a step runs on (lb_journey.h, "Versions") and
 * returns its index. Returns 0 with nothing pushed and c->need_archive set
 * when the debt's old text is not loaded yet (or cannot be: step() says
 * which). */
static int push_target(lua_State *L, call_ctx *c)
{
    const tm_jstate *st = c->st;
    c->migrate_from = 0;
    if (c->index) {
        const jinfo *ji = &c->js->j[c->index - 1];
        push_journey(L, c->index);
        int j = lua_gettop(L);
        c->ran_hash = ji->script->sha256;
        if (c->op == OP_START || same_text(ji, st))
            return j;
        int declared = 0;
        lua_getfield(L, j, "migrates");
        if (lua_istable(L, -1) && st->version > 0) {
            lua_rawgeti(L, -1, st->version);
            declared = lua_toboolean(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        if (declared) {
            c->migrate_from = st->version;
            return j;
        }
        lua_pop(L, 1);
    }
    if (st->hash[0]) {
        lua_getfield(L, LUA_REGISTRYINDEX, ARCHIVE_KEY);
        lua_getfield(L, -1, st->hash);
        lua_remove(L, -2);
        if (lua_istable(L, -1)) {
            c->ran_hash = st->hash;
            return lua_gettop(L);
        }
        lua_pop(L, 1);
    }
    c->need_archive = 1;
    return 0;
}

/* Pushes the debt's journey state for a step on the journey at `j`: as
 * recorded, or mapped from the old version by j:migrate(). */
static void push_step_state(lua_State *L, call_ctx *c, int j)
{
    if (!c->migrate_from) {
        push_jstate(L, c->st);
        return;
    }
    push_method(L, j, "migrate");
    lua_pushvalue(L, j);
    push_jstate(L, c->st);
    push_debt(L, c->d);
    lua_pushinteger(L, c->migrate_from);
    lua_call(L, 4, 1); /* stack: +1 the mapped state */
    if (!lua_istable(L, -1))
        luaL_error(L, "journey %s: migrate gave no state table", c->jid);
    raw_s(L, lua_gettop(L), "state", c->mapped, sizeof c->mapped);
}

/* Reads the journey object (or not) at `v` into c->loaded_*. */
static void read_loaded(lua_State *L, call_ctx *c, int v)
{
    c->loaded = 0;
    if (!lua_istable(L, v))
        return;
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
        lua_getfield(L, v, "note");
        copy(c->loaded_note, sizeof c->loaded_note,
             lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "");
        c->loaded = 1;
    }
}

static int jcall(lua_State *L)
{
    call_ctx *c = lua_touserdata(L, 1);
    lua_settop(L, 0);
    if (c->op == OP_LOAD || c->op == OP_ADOPT) {
        /* the script's value is in the registry slot TMP_KEY */
        lua_getfield(L, LUA_REGISTRYINDEX, TMP_KEY);
        int v = lua_gettop(L);
        read_loaded(L, c, v);
        if (c->op == OP_ADOPT && c->loaded && strcmp(c->loaded_id, c->jid) == 0) {
            lua_getfield(L, LUA_REGISTRYINDEX, ARCHIVE_KEY);
            lua_pushvalue(L, v);
            lua_setfield(L, -2, c->adopt_hash); /* archive[hash] = journey */
        }
        return 0;
    }
    int j;
    if (c->op == OP_ASSIGN || c->op == OP_EDGES) {
        push_journey(L, c->index);
        j = lua_gettop(L);
    } else if ((j = push_target(L, c)) == 0) {
        return 0; /* the old text first */
    }
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
            const jinfo *ji = &c->js->j[c->index - 1];
            copy(c->assign->journey, sizeof c->assign->journey, ji->id);
            copy(c->assign->variant, sizeof c->assign->variant,
                 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "default");
            c->assign->version = ji->version;
            copy(c->assign->hash, sizeof c->assign->hash, ji->script->sha256);
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
        push_step_state(L, c, j);
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
        push_step_state(L, c, j);
        push_debt(L, c->d);
        push_ctx(L, c->d, c->now);
        lua_call(L, 4, 1);
        break;
    case OP_BLOCKED:
        push_method(L, j, "blocked");
        lua_pushvalue(L, j);
        push_step_state(L, c, j);
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
        tm_buf b = TM_BUF_INIT; /* checked once, when handed over */
        const char *id = c->jid;
        if (c->dot)
            tm_buf_printf(&b,
                     "digraph \"%s\" {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n"
                     "  \"(start)\" [shape=point];\n  \"(end)\" [shape=doublecircle, label=\"\"];\n",
                     id);
        else
            tm_buf_printf(&b, "stateDiagram-v2\n  %%%% journey %s\n", id);
        for (int i = 1; i <= (int)tm_lua_rawlen(L, e); i++) {
            lua_rawgeti(L, e, i);
            int x = lua_gettop(L);
            char from[64], to[64], label[200], node[64];
            raw_s(L, x, "from", from, sizeof from);
            raw_s(L, x, "to", to, sizeof to);
            raw_s(L, x, "label", label, sizeof label);
            int is_node = raw_s(L, x, "node", node, sizeof node) != NULL;
            lua_pop(L, 1);
            for (char *q = label; *q; q++) /* the label goes inside quotes */
                if (*q == '"' || *q == '\\' || *q == '\n')
                    *q = '\'';
            if (is_node && c->dot)
                tm_buf_printf(&b, "  \"%s\" [label=\"%s\\n%s\"];\n", node, node, label);
            else if (is_node)
                tm_buf_printf(&b, "  %s : %s\n", node, label);
            else if (c->dot)
                tm_buf_printf(&b, "  \"%s\" -> \"%s\" [label=\"%s\"%s];\n",
                         strcmp(from, "*") == 0 ? "(any state)" : strcmp(from, "[*]") == 0 ? "(start)" : from,
                         strcmp(to, "[*]") == 0 ? "(end)" : to, label,
                         strcmp(from, "*") == 0 ? ", style=dashed" : "");
            else
                tm_buf_printf(&b, "  %s --> %s : %s\n",
                         strcmp(from, "*") == 0 ? "any_state" : from, to, label);
        }
        if (c->dot)
            tm_buf_puts(&b, "}\n");
        c->graph = tm_buf_take(&b, NULL); /* NULL when memory ran out: no cut-short graph */
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
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, ARCHIVE_KEY);
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
            /* A definition with several problems tells each at its line. */
            size_t np = tm_sandbox_problem_count(sb);
            for (size_t k = 0; report && k < np; k++)
                report(ud, tm_sandbox_problem(sb, k));
            if (report && np == 0) {
                char m[700];
                snprintf(m, sizeof m, "%s", e.msg);
                report(ud, m);
            }
            continue;
        }
        lua_setfield(L, LUA_REGISTRYINDEX, TMP_KEY);
        call_ctx c = {.op = OP_LOAD, .js = js, .path = s->path};
        int rc = run(js, &c, &e);
        if (rc != TM_OK || !c.loaded) {
            if (rc != TM_OK && report) {
                char m[700];
                snprintf(m, sizeof m, "%s: %s", s->display, e.msg);
                report(ud, m);
            }
            continue; /* a module that is not a journey */
        }
        for (size_t k = 0; k < js->n; k++) {
            if (strcmp(js->j[k].id, c.loaded_id) == 0) {
                if (report) {
                    char m[300];
                    snprintf(m, sizeof m, "%s: journey id '%s' is used twice; this one is left out",
                             s->display, c.loaded_id);
                    report(ud, m);
                }
                c.loaded = 0;
            }
        }
        if (!c.loaded)
            continue;
        if (js->n == cap) {
            cap = cap ? cap * 2 : 16;
            void *a = realloc(js->j, cap * sizeof *js->j);
            if (a)
                js->j = a;
            void *p = realloc(prio, cap * sizeof *prio);
            if (p)
                prio = p;
            if (!a || !p) {
                free(prio);
                tm_journeys_free(js);
                return tm_err_set(err, TM_ENOMEM, "out of memory loading journeys");
            }
        }
        /* insertion sort by (priority, id); the registry array follows */
        size_t at = js->n;
        while (at > 0 && (prio[at - 1] > c.loaded_priority ||
                          (prio[at - 1] == c.loaded_priority && strcmp(js->j[at - 1].id, c.loaded_id) > 0)))
            at--;
        memmove(js->j + at + 1, js->j + at, (js->n - at) * sizeof *js->j);
        memmove(prio + at + 1, prio + at, (js->n - at) * sizeof *prio);
        jinfo *ji = &js->j[at];
        memset(ji, 0, sizeof *ji);
        copy(ji->id, sizeof ji->id, c.loaded_id);
        ji->version = c.loaded_version;
        ji->script = s;
        copy(ji->note, sizeof ji->note, c.loaded_note);
        prio[at] = c.loaded_priority;
        lua_getfield(L, LUA_REGISTRYINDEX, REG_KEY);
        for (size_t k = js->n; k > at; k--) {
            lua_rawgeti(L, -1, (int)k);
            lua_rawseti(L, -2, (int)k + 1);
        }
        lua_getfield(L, LUA_REGISTRYINDEX, TMP_KEY);
        lua_rawseti(L, -2, (int)at + 1);
        lua_pop(L, 1);
        js->n++;
    }
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, TMP_KEY);
    free(prio);
    *out = js;
    return TM_OK;
}

void tm_journeys_free(tm_journeys *js)
{
    if (!js)
        return;
    free(js->j);
    free(js);
}

size_t tm_journeys_count(const tm_journeys *js) { return js ? js->n : 0; }

const char *tm_journeys_id(const tm_journeys *js, size_t i, int *version)
{
    if (!js || i >= js->n)
        return NULL;
    if (version)
        *version = js->j[i].version;
    return js->j[i].id;
}

int tm_journeys_source(const tm_journeys *js, size_t i, tm_jsource *out)
{
    memset(out, 0, sizeof *out);
    if (!js || i >= js->n)
        return TM_ENOENT;
    const jinfo *ji = &js->j[i];
    out->id = ji->id;
    out->version = ji->version;
    out->path = ji->script->path;
    out->sha256 = ji->script->sha256;
    out->text = ji->script->text;
    out->len = ji->script->len;
    return TM_OK;
}

const char *tm_journeys_note(const tm_journeys *js, size_t i)
{
    if (!js || i >= js->n || !js->j[i].note[0])
        return NULL;
    return js->j[i].note;
}

void tm_journeys_set_archive(tm_journeys *js, tm_jarchive_fn fn, void *ud)
{
    js->archive = fn;
    js->archive_ud = fn ? ud : NULL;
}

static int find(tm_journeys *js, const char *id)
{
    for (size_t i = 0; i < js->n; i++)
        if (strcmp(js->j[i].id, id) == 0)
            return (int)i + 1;
    return 0;
}

/* Makes a failed step's message name its script: a limit gets the line the
 * sandbox stopped at (or, when unknown, where `fn`, pushed by the caller or
 * nil, begins; else just the file), and `what` ("segment") is said. */
static void name_failure(tm_journeys *js, int index, const char *what, int rc, struct tm_err *err)
{
    lua_State *L = tm_sandbox_lua(js->sb);
    tm_lb_limit_where(js->sb, L, err); /* pops the function or nil */
    const jinfo *ji = index ? &js->j[index - 1] : NULL;
    char msg[sizeof err->msg];
    if (is_limit(rc) && ji && strcmp(err->msg, tm_strerror(rc)) == 0) {
        snprintf(msg, sizeof msg, "%.450s: %.40s", ji->script->display, err->msg);
        memcpy(err->msg, msg, sizeof msg);
    }
    if (what && ji) {
        snprintf(msg, sizeof msg, "%.400s (in the %s of journey %s)", err->msg, what, ji->id);
        memcpy(err->msg, msg, sizeof msg);
    }
}

/* Pushes journey `index`'s segment function (nil when it has none), read
 * raw, outside any call: no script code runs. */
static void push_segment(tm_journeys *js, int index)
{
    lua_State *L = tm_sandbox_lua(js->sb);
    push_journey(L, index);
    if (lua_istable(L, -1)) {
        lua_pushliteral(L, "def");
        lua_rawget(L, -2);
        if (lua_istable(L, -1)) {
            lua_pushliteral(L, "segment");
            lua_rawget(L, -2);
            lua_remove(L, -2);
        }
    } else {
        lua_pushnil(L);
    }
    lua_remove(L, -2);
}

int tm_journeys_assign(tm_journeys *js, const tm_jdebt *d, tm_jstate *st, struct tm_err *err)
{
    memset(st, 0, sizeof *st);
    for (size_t i = 0; i < js->n; i++) {
        int rc = bench_check(js->bench, js->j[i].id, err);
        if (rc != TM_OK)
            return rc;
        call_ctx c = {.op = OP_ASSIGN, .js = js, .index = (int)i + 1, .d = d, .assign = st};
        rc = run(js, &c, err);
        if (rc != TM_OK) {
            push_segment(js, (int)i + 1);
            name_failure(js, (int)i + 1, "segment", rc, err);
            bench_note(js->bench, js->j[i].id, rc, err);
            return rc;
        }
        if (st->journey[0])
            return TM_OK;
    }
    return TM_OK;
}

/* Fetches the debt's old journey text (c->st->hash) through the archive
 * callback and loads it into the sandbox as a journey object cached under
 * its hash. TM_ENOENT, naming journey, version and hash, when there is no
 * text to be had: the caller parks the debt. The text is loaded as its own
 * chunk, so its `require`s resolve in the current tree. */
static int adopt(tm_journeys *js, call_ctx *c, struct tm_err *err)
{
    const tm_jstate *st = c->st;
    if (!st->hash[0])
        return tm_err_set(err, TM_ENOENT,
                          "journey %s version %d: the debt records no text hash (it started before "
                          "journey texts were kept) and the loaded version declares no migrate[%d]; "
                          "the debt is parked in state '%s'",
                          st->journey, st->version, st->version, st->state);
    char *text = NULL;
    size_t len = 0;
    char path[256] = "";
    int rc = js->archive ? js->archive(js->archive_ud, st->hash, &text, &len, path, sizeof path, err)
                         : TM_OK;
    if (rc != TM_OK) {
        free(text);
        return rc;
    }
    if (!text)
        return tm_err_set(err, TM_ENOENT,
                          "journey %s version %d (text sha256 %s): the archived text is missing; "
                          "the debt is parked in state '%s'",
                          st->journey, st->version, st->hash, st->state);
    /* A text that is not what its hash says would run other code than the
     * debt started on: refuse it like a missing one. */
    char got[TM_SHA256_HEX_LEN + 1];
    tm_sha256_hex(text, len, got);
    if (strcmp(got, st->hash) != 0) {
        free(text);
        return tm_err_set(err, TM_ENOENT,
                          "journey %s version %d (text sha256 %s): the archived text does not match "
                          "its hash; the debt is parked in state '%s'",
                          st->journey, st->version, st->hash, st->state);
    }
    char name[320];
    snprintf(name, sizeof name, "%s@%.12s", path[0] ? path : st->journey, st->hash);
    lua_State *L = tm_sandbox_lua(js->sb);
    int base = lua_gettop(L), nres = 0;
    struct tm_err e = {0};
    rc = tm_sandbox_run(js->sb, name, text, len, &nres, &e);
    free(text);
    if (rc != TM_OK)
        return tm_err_set(err, rc, "journey %s version %d (text sha256 %.12s): %s", st->journey,
                          st->version, st->hash, e.msg);
    lua_settop(L, base + (nres > 0 ? 1 : 0));
    if (nres == 0)
        lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, TMP_KEY);
    call_ctx a = {.op = OP_ADOPT, .js = js, .jid = st->journey, .adopt_hash = st->hash};
    rc = run(js, &a, &e);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, TMP_KEY);
    if (rc != TM_OK)
        return tm_err_set(err, rc, "journey %s version %d (text sha256 %.12s): %s", st->journey,
                          st->version, st->hash, e.msg);
    if (!a.loaded || strcmp(a.loaded_id, st->journey) != 0)
        return tm_err_set(err, TM_ESCRIPT,
                          "journey %s version %d (text sha256 %.12s): the archived text is %s%s, "
                          "not journey %s", st->journey, st->version, st->hash,
                          a.loaded ? "journey " : "not a journey", a.loaded ? a.loaded_id : "",
                          st->journey);
    return TM_OK;
}

static int run_step(tm_journeys *js, call_ctx *c, struct tm_err *err);

static int step(tm_journeys *js, call_ctx *c, struct tm_err *err)
{
    c->index = find(js, c->st->journey);
    c->jid = c->st->journey;
    /* A journey gone from the tree can still run a debt's archived text;
     * nothing else can. */
    if (!c->index && (c->op == OP_START || !c->st->hash[0]))
        return tm_err_set(err, TM_ENOENT, "journey '%s' is not in the script set", c->st->journey);
    int rc = bench_check(js->bench, c->jid, err);
    if (rc != TM_OK)
        return rc;
    rc = run_step(js, c, err);
    if (is_limit(rc)) {
        lua_pushnil(tm_sandbox_lua(js->sb));
        name_failure(js, c->index, NULL, rc, err);
        bench_note(js->bench, c->jid, rc, err);
    }
    return rc;
}

/* A step, fetching the debt's old text first when it needs one. */
static int run_step(tm_journeys *js, call_ctx *c, struct tm_err *err)
{
    int rc = run(js, c, err);
    if (rc == TM_OK && c->need_archive) {
        rc = adopt(js, c, err);
        c->need_archive = 0;
        if (rc == TM_OK)
            rc = run(js, c, err);
        if (rc == TM_OK && c->need_archive) /* adopt() cached it: cannot happen */
            rc = tm_err_set(err, TM_ESCRIPT, "journey %s: the archived text did not stay loaded",
                            c->jid);
    }
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
    call_ctx c = {.op = OP_EDGES, .js = js, .index = index, .dot = dot, .jid = js->j[index - 1].id};
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
