/*
 * sandbox/lb_channel.c: the `tm.template` and `tm.sms` libraries, channel
 * templates (SMS, email and letter bodies) for strategy scripts. Glue over
 * core/tmpl.h (parse, list, render), core/sms.h (segment counting),
 * core/pay.h (money), core/calendar.h and core/tz.h (dates and times).
 *
 * Design. Rendering is done by tm_tmpl_render() in C, which asks a callback
 * for each placeholder. The callback must not raise: a longjmp through the
 * core renderer would skip its clean-up and leave C memory behind. Looking a
 * value up, though, pushes strings (path segments) and can run out of Lua
 * memory, which raises. So the callback runs the lookup and formatting
 * (l_lookup) under lua_pcall and turns any error into a status code; the
 * renderer then returns normally and only l_template_render raises, after
 * the render is over. The output and scratch buffers (plain malloc, outside
 * the Lua allocator) live in a userdata whose __gc frees them, so even the
 * final lua_pushlstring running out of memory leaks nothing; they are freed
 * explicitly on every normal path as well.
 *
 * Values are read with raw access only (lua_rawget, lua_next): no __index,
 * __pairs or other metamethod of a script's table runs here. A consequence:
 * a read-only proxy (an empty table with __index) looks empty; copy such data
 * into a plain table first.
 *
 * Bounds against hostile templates: at most TM_LB_TMPL_MAX_PLACEHOLDERS
 * placeholders (counted in one linear pass before anything else), output at
 * most opts.max bytes (<= TM_LB_TMPL_MAX_CEILING), a filtered value longer
 * than opts.max is refused before it is copied. Path walking is linear in the
 * name's length. Everything else (the template and the values) is already
 * inside the Lua memory cap.
 *
 * An argument the functions cannot take raises at the caller's position,
 * naming the function and, for options, the field: `file:line: bad argument
 * #3 to 'tm.template.render' (field 'mode': "text" or "html" expected, got
 * 'pdf')`; a malformed template is a bad argument #1. A template that does
 * not render with the values given raises `file:line: tm.template.render:
 * line L, column C: ...`.
 */
#include "lb_channel.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "lb_common.h"
#include "lcompat.h"
#include "pay.h"
#include "sandbox.h"
#include "sms.h"
#include "tmpl.h"
#include "tz.h"

#define BOX_MT "tm.ChannelBuffers"


/* 1 and *out when the number at idx is an exact integer. LuaJIT has only
 * doubles: there an integral value within +-2^53 counts. */
static int exact_integer(lua_State *L, int idx, int64_t *out)
{
    if (lua_type(L, idx) != LUA_TNUMBER)
        return 0;
#if LUA_VERSION_NUM >= 503
    if (!lua_isinteger(L, idx))
        return 0;
    *out = (int64_t)lua_tointeger(L, idx);
    return 1;
#else
    lua_Number n = lua_tonumber(L, idx);
    if (!(n >= -9007199254740992.0 && n <= 9007199254740992.0))
        return 0;
    int64_t v = (int64_t)n;
    if ((lua_Number)v != n)
        return 0;
    *out = v;
    return 1;
#endif
}

/***
 * @class tm.TemplateOpts
 * The options of tm.template.render; an unknown field is a bad argument.
 * @field mode {string?} "text" (default) or "html" (every inserted value
 *   HTML-escaped; the template's own text is not)
 * @field currency {string?} ISO 4217 code, for the money filter
 * @field zone {string?} IANA zone, for the date and time filters on Unix times
 * @field language {string?} "en" (default) or "es"
 * @field max {integer?} output cap in bytes (default 65536, at most 16 MiB)
 */

/***
 * @class tm.TemplateDef
 * What `template { ... }` (scripts/lib/template.lua) takes: one channel
 * template in every language. A template that breaks a rule fails to load,
 * and `tallyman lint` names the field.
 * @field id {string} the name a journey's j:send(channel, id) uses
 * @field channel {string} "sms", "email", "letter", "voice", "push" or "whatsapp"
 * @field placeholders {table<string, string>} each value the text uses,
 *   with its type: "text", "money", "date", "time" or "integer"
 * @field disclosures {string[]?} names from channels/disclosures.lua, put where
 *   the channel wants them
 * @field claims {string[]?} what the message asserts that a rule may forbid
 *   ("threatens_suit"), sent to the gate as message fields
 * @field max_segments {integer?} SMS and WhatsApp: the most segments with
 *   sample values (default 2)
 * @field en {tm.TemplateText} the English text
 * @field es {tm.TemplateText} the Spanish text
 */

/***
 * @class tm.TemplateText
 * One language of a template.
 * @field text {string} the body
 * @field subject {string?} email: the subject line
 * @field html {string?} email: the HTML body (every value HTML-escaped)
 */

/* ---------------------------------------------------------------------------
 * C buffers anchored in a userdata (freed by __gc if an error unwinds).
 */

typedef struct chan_box {
    tm_tmpl_buf out;     /* rendered text */
    tm_tmpl_buf scratch; /* one formatted value at a time */
    tm_tmpl_ref *refs;   /* tm_tmpl_list() result */
    size_t nrefs;
} chan_box;

static void box_release(chan_box *b)
{
    tm_tmpl_buf_free(&b->out);
    tm_tmpl_buf_free(&b->scratch);
    tm_tmpl_list_free(b->refs);
    b->refs = NULL;
    b->nrefs = 0;
}

static int box_gc(lua_State *L)
{
    chan_box *b = lua_touserdata(L, 1);
    if (b != NULL)
        box_release(b);
    return 0;
}

/* Pushes a new, empty box. */
static chan_box *new_box(lua_State *L)
{
    chan_box *b = lua_newuserdata(L, sizeof *b); /* box */
    memset(b, 0, sizeof *b);
    if (luaL_newmetatable(L, BOX_MT)) {          /* box mt */
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2); /* box */
    return b;
}

/* ---------------------------------------------------------------------------
 * Template checks shared by render and placeholders.
 */

/* Raises against argument 1 for a malformed template ("line L, column C:
 * ...") or one with too many placeholders. */
static void check_template(lua_State *L, const char *fn, const char *t, size_t len)
{
    struct tm_err e = {0};
    if (tm_tmpl_check(t, len, &e) != TM_OK)
        tm_lb_argerror(L, 1, fn, "%s", e.msg);
    size_t n = tm_tmpl_count(t, len);
    if (n > TM_LB_TMPL_MAX_PLACEHOLDERS)
        tm_lb_argerror(L, 1, fn, "at most %d placeholders expected, got %zu",
                       TM_LB_TMPL_MAX_PLACEHOLDERS, n);
}

/* ---------------------------------------------------------------------------
 * Rendering: options, the lookup (run under lua_pcall) and the callback.
 */

enum { F_NONE, F_MONEY, F_DATE, F_TIME, F_UPPER, F_LOWER };

typedef struct render_opts {
    int mode;           /* TM_TMPL_TEXT or TM_TMPL_HTML */
    int lang;           /* TM_TMPL_EN or TM_TMPL_ES */
    int has_currency;   /* opts.currency given (and valid) */
    char currency[4];
    const tm_zone *zone; /* NULL when opts.zone is absent */
    size_t max;
} render_opts;

typedef struct render_ctx {
    lua_State *L;
    int lookup_fn; /* stack index of l_lookup */
    int values;    /* stack index of the values table */
    int base;      /* stack top between lookups */
    const render_opts *o;
    tm_tmpl_buf *scratch;
    const tm_tmpl_ref *ref; /* the placeholder being looked up */
    const char *text;       /* its text, from l_lookup */
    size_t text_len;
    int rc; /* TM_OK or the failure l_lookup found */
    struct tm_err err;
} render_ctx;

static const char *opt_string(lua_State *L, const char *fn, const char *k, size_t *len)
{
    if (lua_type(L, -1) != LUA_TSTRING)
        tm_lb_argerror(L, 3, fn, "field '%s': string expected, got %s", k, luaL_typename(L, -1));
    return lua_tolstring(L, -1, len);
}

/* Reads opts (stack index idx: nil or a table, walked raw). Unknown fields
 * are an error, so a misspelt option does not pass silently. */
static void read_opts(lua_State *L, int idx, const char *fn, render_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = TM_TMPL_TEXT;
    o->lang = TM_TMPL_EN;
    o->max = (size_t)TM_LB_TMPL_MAX_DEFAULT;
    if (lua_isnoneornil(L, idx))
        return;
    if (lua_type(L, idx) != LUA_TTABLE)
        tm_lb_typeerror(L, idx, fn, "table of options");
    lua_pushnil(L); /* nil */
    while (lua_next(L, idx) != 0) { /* key value */
        if (lua_type(L, -2) != LUA_TSTRING)
            tm_lb_argerror(L, idx, fn, "field names must be strings, got a %s key",
                           luaL_typename(L, -2));
        const char *k = lua_tostring(L, -2);
        size_t n;
        if (strcmp(k, "mode") == 0) {
            const char *s = opt_string(L, fn, k, &n);
            if (strcmp(s, "text") == 0)
                o->mode = TM_TMPL_TEXT;
            else if (strcmp(s, "html") == 0)
                o->mode = TM_TMPL_HTML;
            else
                tm_lb_argerror(L, idx, fn, "field 'mode': \"text\" or \"html\" expected, got '%.40s'",
                               s);
        } else if (strcmp(k, "language") == 0) {
            const char *s = opt_string(L, fn, k, &n);
            if (strcmp(s, "en") == 0)
                o->lang = TM_TMPL_EN;
            else if (strcmp(s, "es") == 0)
                o->lang = TM_TMPL_ES;
            else
                tm_lb_argerror(L, idx, fn,
                               "field 'language': \"en\" or \"es\" expected, got '%.40s'", s);
        } else if (strcmp(k, "currency") == 0) {
            const char *s = opt_string(L, fn, k, &n);
            struct tm_err e = {0};
            if (n != 3 || strlen(s) != 3 || tm_valid_currency(s, NULL, &e) != TM_OK)
                tm_lb_argerror(L, idx, fn, "field 'currency': %s",
                               e.msg[0] ? e.msg : "not a 3-letter ISO 4217 code");
            memcpy(o->currency, s, 4);
            o->has_currency = 1;
        } else if (strcmp(k, "zone") == 0) {
            const char *s = opt_string(L, fn, k, &n);
            struct tm_err e = {0};
            if (strlen(s) != n || tm_tz_get(s, &o->zone, &e) != TM_OK)
                tm_lb_argerror(L, idx, fn, "field 'zone': unknown time zone '%.80s'%s%s", s,
                               e.msg[0] ? ": " : "", e.msg);
        } else if (strcmp(k, "max") == 0) {
            int64_t v = 0;
            if (!exact_integer(L, -1, &v) && lua_type(L, -1) == LUA_TNUMBER)
                tm_lb_argerror(L, idx, fn, "field 'max': whole number of bytes expected, got %.14g",
                               (double)lua_tonumber(L, -1));
            if (!exact_integer(L, -1, &v))
                tm_lb_argerror(L, idx, fn, "field 'max': whole number of bytes expected, got %s",
                               luaL_typename(L, -1));
            if (v < 0 || v > TM_LB_TMPL_MAX_CEILING)
                tm_lb_argerror(L, idx, fn, "field 'max': 0 to %ld bytes expected, got %lld",
                               TM_LB_TMPL_MAX_CEILING, (long long)v);
            o->max = (size_t)v;
        } else {
            tm_lb_argerror(L, idx, fn,
                           "unknown field '%.60s' (fields: mode, currency, zone, language, max)", k);
        }
        lua_pop(L, 1); /* key */
    }
}

static int filter_id(const tm_tmpl_ref *r)
{
    static const struct {
        const char *name;
        int id;
    } filters[] = {{"money", F_MONEY}, {"date", F_DATE},   {"time", F_TIME},
                   {"upper", F_UPPER}, {"lower", F_LOWER}};
    if (r->filter == NULL)
        return F_NONE;
    for (size_t i = 0; i < sizeof filters / sizeof *filters; i++)
        if (strlen(filters[i].name) == r->filter_len &&
            memcmp(filters[i].name, r->filter, r->filter_len) == 0)
            return filters[i].id;
    return -1;
}

/* Sets the lookup's failure; l_lookup then returns and the callback reports it. */
static int fail(render_ctx *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(render_ctx *c, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err.msg, sizeof c->err.msg, fmt, ap);
    va_end(ap);
    c->err.code = rc;
    c->rc = rc;
    return 0;
}

/* Pushes the value at the placeholder's dotted path, starting at the table
 * at index 1, with raw gets only. An all-digit segment is tried as an integer
 * key first ("items.1.amount" is values.items[1].amount), then as a string.
 * Returns 0 (with c->rc set, stack unchanged) when the path does not lead to
 * a value. */
static int walk(lua_State *L, render_ctx *c)
{
    const char *name = c->ref->name, *end = name + c->ref->name_len, *seg = name;
    lua_pushvalue(L, 1); /* cur */
    for (;;) {
        const char *dot = memchr(seg, '.', (size_t)(end - seg));
        size_t sl = (size_t)((dot ? dot : end) - seg);
        if (lua_type(L, -1) != LUA_TTABLE) {
            int plen = (int)(seg - 1 - name);
            fail(c, TM_EINVAL, "'%.*s%s' is a %s, not a table", plen > 80 ? 80 : plen, name,
                 plen > 80 ? "..." : "", luaL_typename(L, -1));
            lua_pop(L, 1);
            return 0;
        }
        int found = 0;
        if (sl <= 15 && strspn(seg, "0123456789") >= sl && (sl == 1 || seg[0] != '0')) {
            lua_Integer k = 0;
            for (size_t i = 0; i < sl; i++)
                k = k * 10 + (seg[i] - '0');
            lua_pushinteger(L, k); /* cur k */
            lua_rawget(L, -2);     /* cur v */
            found = !lua_isnil(L, -1);
            if (!found)
                lua_pop(L, 1); /* cur */
        }
        if (!found) {
            lua_pushlstring(L, seg, sl); /* cur k */
            lua_rawget(L, -2);           /* cur v */
        }
        lua_remove(L, -2); /* v */
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            if (dot == NULL) {
                c->rc = TM_ENOENT; /* the renderer names the placeholder */
                c->err.code = TM_ENOENT;
                c->err.msg[0] = '\0';
            } else {
                int plen = (int)(dot - name);
                fail(c, TM_ENOENT, "'%.*s%s' is nil", plen > 80 ? 80 : plen, name,
                     plen > 80 ? "..." : "");
            }
            return 0;
        }
        if (dot == NULL)
            return 1;
        seg = dot + 1;
    }
}

static int scratch_put(render_ctx *c, const char *s, size_t n)
{
    tm_buf_reset(c->scratch);
    struct tm_err e = {0};
    if (tm_tmpl_buf_append(c->scratch, s, n, &e) != TM_OK)
        return fail(c, TM_ENOMEM, "%s", e.msg);
    c->text = c->scratch->data;
    c->text_len = n;
    return 1;
}

/* The value at the top as plain text: strings as they are, integers in
 * decimal (written into num), booleans as true/false. Anything else fails. */
static int plain_text(lua_State *L, render_ctx *c, char num[32], const char **s, size_t *n)
{
    int64_t v = 0;
    switch (lua_type(L, -1)) {
    case LUA_TSTRING:
        *s = lua_tolstring(L, -1, n);
        return 1;
    case LUA_TBOOLEAN:
        *s = lua_toboolean(L, -1) ? "true" : "false";
        *n = strlen(*s);
        return 1;
    case LUA_TNUMBER:
        if (!exact_integer(L, -1, &v))
            return fail(c, TM_EINVAL,
                        "the value is a non-integer number (%.14g); format it in the script",
                        (double)lua_tonumber(L, -1));
        *n = (size_t)snprintf(num, 32, "%lld", (long long)v);
        *s = num;
        return 1;
    default:
        return fail(c, TM_EINVAL, "the value is a %s, which cannot be inserted as text",
                    luaL_typename(L, -1));
    }
}

/* A Unix time at the top -> local civil time in opts.zone. */
static int to_civil(lua_State *L, render_ctx *c, const char *filter, tm_civil *cv)
{
    int64_t t;
    if (!exact_integer(L, -1, &t)) {
        if (lua_type(L, -1) == LUA_TNUMBER)
            return fail(c, TM_EINVAL, "the %s filter needs an integer Unix time, got %.14g",
                        filter, (double)lua_tonumber(L, -1));
        return fail(c, TM_EINVAL, "the %s filter needs %s, got %s", filter,
                    strcmp(filter, "date") == 0 ? "a \"YYYY-MM-DD\" string or an integer Unix time"
                                                : "an integer Unix time",
                    luaL_typename(L, -1));
    }
    if (c->o->zone == NULL)
        return fail(c, TM_EINVAL, "the %s filter needs opts.zone to place a Unix time", filter);
    if (tm_tz_to_local(c->o->zone, t, cv) != TM_OK)
        return fail(c, TM_EINVAL, "Unix time %lld is out of range", (long long)t);
    return 1;
}

static int fmt_money(lua_State *L, render_ctx *c)
{
    tm_money m;
    if (!exact_integer(L, -1, &m.minor)) {
        if (lua_type(L, -1) == LUA_TNUMBER)
            return fail(c, TM_EINVAL,
                        "the money filter needs an integer amount in minor units, got %.14g",
                        (double)lua_tonumber(L, -1));
        return fail(c, TM_EINVAL,
                    "the money filter needs an integer amount in minor units, got %s",
                    luaL_typename(L, -1));
    }
    if (!c->o->has_currency)
        return fail(c, TM_EINVAL, "the money filter needs opts.currency");
    memcpy(m.currency, c->o->currency, sizeof m.currency);
    char buf[TM_MONEY_FMT_MAX];
    struct tm_err e = {0};
    if (tm_money_format(m, buf, sizeof buf, &e) != TM_OK)
        return fail(c, TM_EINVAL, "%s", e.msg);
    return scratch_put(c, buf, strlen(buf));
}

static int fmt_date(lua_State *L, render_ctx *c)
{
    tm_date d;
    if (lua_type(L, -1) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        struct tm_err e = {0};
        if (strlen(s) != n)
            return fail(c, TM_EINVAL, "the date text holds a NUL byte");
        if (tm_calendar_parse_date(s, &d, &e) != TM_OK)
            return fail(c, TM_EINVAL, "%s", e.msg);
    } else {
        tm_civil cv;
        if (!to_civil(L, c, "date", &cv))
            return 0;
        d.year = cv.year;
        d.month = cv.month;
        d.day = cv.day;
    }
    char buf[TM_TMPL_VALUE_MAX];
    struct tm_err e = {0};
    if (tm_tmpl_format_date(d, c->o->lang, buf, sizeof buf, &e) != TM_OK)
        return fail(c, TM_EINVAL, "%s", e.msg);
    return scratch_put(c, buf, strlen(buf));
}

static int fmt_time(lua_State *L, render_ctx *c)
{
    tm_civil cv;
    if (!to_civil(L, c, "time", &cv))
        return 0;
    char buf[TM_TMPL_VALUE_MAX];
    struct tm_err e = {0};
    if (tm_tmpl_format_time(cv.hour, cv.min, c->o->lang, buf, sizeof buf, &e) != TM_OK)
        return fail(c, TM_EINVAL, "%s", e.msg);
    return scratch_put(c, buf, strlen(buf));
}

static int fmt_case(lua_State *L, render_ctx *c, int upper)
{
    const char *s;
    size_t n;
    char num[32];
    if (!plain_text(L, c, num, &s, &n))
        return 0;
    if (n > c->o->max)
        return fail(c, TM_ELIMIT_MEM, "the value (%zu bytes) is longer than the %zu-byte limit",
                    n, c->o->max);
    if (!scratch_put(c, s, n))
        return 0;
    tm_tmpl_ascii_case(c->scratch->data, n, upper);
    return 1;
}

/* lua_pcall'd by the callback with (values, ctx). Looks c->ref up and formats
 * it into c->text/c->text_len, or sets c->rc. Returns the value when the
 * text points into it (a Lua string), so it stays anchored on the stack. */
static int l_lookup(lua_State *L)
{
    render_ctx *c = lua_touserdata(L, 2);
    int f = filter_id(c->ref);
    if (f < 0) {
        int fl = (int)c->ref->filter_len;
        return fail(c, TM_EINVAL,
                    "unknown filter '%.*s' (filters: money, date, time, upper, lower)",
                    fl > 60 ? 60 : fl, c->ref->filter);
    }
    if (!walk(L, c)) /* value */
        return 0;
    switch (f) {
    case F_MONEY:
        fmt_money(L, c);
        return 0;
    case F_DATE:
        fmt_date(L, c);
        return 0;
    case F_TIME:
        fmt_time(L, c);
        return 0;
    case F_UPPER:
    case F_LOWER:
        fmt_case(L, c, f == F_UPPER);
        return 0;
    default: {
        const char *s;
        size_t n;
        char num[32];
        if (!plain_text(L, c, num, &s, &n))
            return 0;
        if (lua_type(L, -1) == LUA_TSTRING) {
            c->text = s;
            c->text_len = n;
            return 1; /* keeps the string on the caller's stack */
        }
        scratch_put(c, s, n);
        return 0;
    }
    }
}

/* The tm_tmpl_lookup_fn. Never raises: everything that can is inside the
 * lua_pcall, and the stack room was reserved before the render started. */
static int lookup_cb(void *ud, const tm_tmpl_ref *ref, const char **text, size_t *text_len,
                     struct tm_err *err)
{
    render_ctx *c = ud;
    lua_State *L = c->L;
    lua_settop(L, c->base); /* drops the previous value */
    c->ref = ref;
    c->rc = TM_OK;
    c->err.code = 0;
    c->err.msg[0] = '\0';
    c->text = NULL;
    c->text_len = 0;
    lua_pushvalue(L, c->lookup_fn);      /* f */
    lua_pushvalue(L, c->values);         /* f values */
    lua_pushlightuserdata(L, c);         /* f values ctx */
    int status = lua_pcall(L, 2, 1, 0); /* result-or-nil | error */
    if (status != 0) {
        const char *m = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        return tm_err_set(err, status == LUA_ERRMEM ? TM_ENOMEM : TM_ESCRIPT, "%s",
                          m ? m : "error while looking the value up");
    }
    if (c->rc != TM_OK) {
        if (c->err.msg[0] != '\0')
            tm_err_set(err, c->rc, "%s", c->err.msg);
        return c->rc;
    }
    *text = c->text;
    *text_len = c->text_len;
    return TM_OK;
}

/***
 * @function tm.template.render(text, values [, opts])
 * Renders a channel template (syntax in core/tmpl.h: {{name}}, {{name|filter}},
 * \{{ for a literal "{{"). Dotted names walk nested tables of `values` with
 * raw access (no metamethods run); an all-digit segment indexes an array
 * (items.1.amount). Without a filter a string is inserted as it is, an
 * integer in decimal, a boolean as true/false; a float, table, function or
 * other type is an error, and a missing value is "unknown placeholder".
 * Filters: money (integer minor units, formatted "1,234.56 USD" in
 * opts.currency, which it requires; the same format in both languages),
 * date ("YYYY-MM-DD" or an integer Unix time placed in opts.zone, which that
 * requires: "November 23, 2026" / "23 de noviembre de 2026"), time (integer
 * Unix time in opts.zone: "3:05 PM" / "15:05"), upper and lower (ASCII
 * letters only; other bytes are left as they are). Date and time patterns are
 * CLDR's long date and short time for en and es.
 * @param text {string} the template
 * @param values {table} what the placeholders name (plain tables)
 * @param opts {tm.TemplateOpts?} how to render
 * @return {string} the rendered text
 */
static int l_template_render(lua_State *L)
{
    const char *fn = "tm.template.render";
    size_t len;
    const char *t = tm_lb_checkstring(L, 1, fn, &len);
    tm_lb_checktable(L, 2, fn);
    render_opts o;
    read_opts(L, 3, fn, &o);
    check_template(L, fn, t, len);
    lua_settop(L, 3);
    chan_box *box = new_box(L);     /* 4: box */
    lua_pushcfunction(L, l_lookup); /* 5: lookup */
    if (!lua_checkstack(L, 8))
        return tm_lb_error(L, fn, "out of Lua stack");
    render_ctx c;
    memset(&c, 0, sizeof c);
    c.L = L;
    c.lookup_fn = 5;
    c.values = 2;
    c.base = 5;
    c.o = &o;
    c.scratch = &box->scratch;
    struct tm_err e = {0};
    int rc = tm_tmpl_render(t, len, o.mode, lookup_cb, &c, o.max, &box->out, &e);
    lua_settop(L, 5);
    if (rc != TM_OK) {
        box_release(box);
        return tm_lb_error(L, fn, "%s", e.msg);
    }
    lua_pushlstring(L, box->out.data ? box->out.data : "", box->out.len); /* ... text */
    box_release(box);
    return 1;
}

/***
 * @function tm.template.placeholders(text)
 * The placeholders a template uses, for checks of your own. A malformed
 * template is a bad argument "line L, column C: ...".
 * @param text {string} the template
 * @return {table} array of {name =, filter = (nil when absent), line =,
 *   column =}, one per distinct name in order of first appearance (the
 *   filter and position are those of that first occurrence)
 */
static int l_template_placeholders(lua_State *L)
{
    const char *fn = "tm.template.placeholders";
    size_t len;
    const char *t = tm_lb_checkstring(L, 1, fn, &len);
    check_template(L, fn, t, len);
    lua_settop(L, 1);
    chan_box *box = new_box(L); /* text box */
    struct tm_err e = {0};
    if (tm_tmpl_list(t, len, TM_TMPL_LIST_UNIQUE, &box->refs, &box->nrefs, &e) != TM_OK) {
        box_release(box);
        if (e.code == TM_ENOMEM)
            return tm_lb_error(L, fn, "%s", e.msg);
        return tm_lb_argerror(L, 1, fn, "%s", e.msg);
    }
    lua_createtable(L, (int)box->nrefs, 0); /* text box list */
    for (size_t i = 0; i < box->nrefs; i++) {
        const tm_tmpl_ref *r = &box->refs[i];
        lua_createtable(L, 0, 4); /* text box list ref */
        lua_pushlstring(L, r->name, r->name_len);
        lua_setfield(L, -2, "name");
        if (r->filter != NULL) {
            lua_pushlstring(L, r->filter, r->filter_len);
            lua_setfield(L, -2, "filter");
        }
        lua_pushinteger(L, r->line);
        lua_setfield(L, -2, "line");
        lua_pushinteger(L, r->column);
        lua_setfield(L, -2, "column");
        lua_rawseti(L, -2, (int)i + 1); /* text box list */
    }
    box_release(box);
    return 1;
}

static const luaL_Reg template_funcs[] = {
    {"render", l_template_render},
    {"placeholders", l_template_placeholders},
    {NULL, NULL},
};

int tm_lb_open_template(lua_State *L)
{
    lua_createtable(L, 0, 2);
    luaL_setfuncs(L, template_funcs, 0);
    return 1;
}

/* ---------------------------------------------------------------------------
 * tm.sms
 */

/***
 * @function tm.sms.measure(text)
 * Counts an SMS as the network will: GSM 03.38 default alphabet and
 * extension table, else UCS-2 (see core/sms.h); no national shift tables.
 * Invalid UTF-8 is a bad argument naming the byte offset.
 * @param text {string} the message, UTF-8
 * @return {table} {encoding = "gsm7"|"ucs2", chars =, units = (septets or
 *   UTF-16 units), segments =, per_segment = (160/153 or 70/67), remaining =
 *   (units still free in the last segment)}
 */
static int l_sms_measure(lua_State *L)
{
    const char *fn = "tm.sms.measure";
    size_t len;
    const char *s = tm_lb_checkstring(L, 1, fn, &len);
    tm_sms_info info;
    struct tm_err e = {0};
    if (tm_sms_measure(s, len, &info, &e) != TM_OK)
        return tm_lb_argerror(L, 1, fn, "%s", e.msg);
    lua_createtable(L, 0, 6);
    lua_pushstring(L, info.encoding == TM_SMS_GSM7 ? "gsm7" : "ucs2");
    lua_setfield(L, -2, "encoding");
    lua_pushinteger(L, (lua_Integer)info.chars);
    lua_setfield(L, -2, "chars");
    lua_pushinteger(L, (lua_Integer)info.units);
    lua_setfield(L, -2, "units");
    lua_pushinteger(L, (lua_Integer)info.segments);
    lua_setfield(L, -2, "segments");
    lua_pushinteger(L, (lua_Integer)info.per_segment);
    lua_setfield(L, -2, "per_segment");
    lua_pushinteger(L, (lua_Integer)info.remaining);
    lua_setfield(L, -2, "remaining");
    return 1;
}

static const luaL_Reg sms_funcs[] = {
    {"measure", l_sms_measure},
    {NULL, NULL},
};

int tm_lb_open_sms(lua_State *L)
{
    lua_createtable(L, 0, 1);
    luaL_setfuncs(L, sms_funcs, 0);
    return 1;
}

void tm_lb_channel_register(void)
{
    tm_sandbox_add_library("template", tm_lb_open_template);
    tm_sandbox_add_library("sms", tm_lb_open_sms);
}
