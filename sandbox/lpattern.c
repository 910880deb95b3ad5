/*
 * sandbox/lpattern.c: budgeted Lua 5.4 pattern matching behind find, match, gmatch and gsub.
 *
 * A backtracking interpreter over the pattern text, written from the 5.4 manual (section 6.4.1):
 * it reports malformed patterns lazily, as the stock library does, bounds its nesting like 5.4's
 * MAXCCALLS, and charges every step to a tick callback so the host can abort runaway matches.
 */
#include "lpattern.h"

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "lcompat.h"

/* Lua 5.4's limits: LUA_MAXCAPTURES captures and MAXCCALLS nested matcher calls. */
#define MAX_CAPTURES 32
#define MAX_DEPTH 200

/* Capture lengths that are not lengths: still open, or a "()" position capture. */
#define CAP_OPEN (-1)
#define CAP_POSITION (-2)

/* A pattern with none of these is searched for as plain text by find. */
#define SPECIALS "^$*+?.([%-"

/* Bytes skipped with memchr are charged at this rate, since they cost far less than a step. */
#define SKIP_RATE 16

/* Shared by the four functions of one tm_pattern_open call (a full userdata upvalue). Steps
 * below a whole tick are carried from call to call in `pending`, so many short calls add up. */
struct budget {
    tm_pattern_tick_fn tick;
    void *ud;
    unsigned pending;
};

struct capture {
    const char *at;
    ptrdiff_t len; /* Or CAP_OPEN / CAP_POSITION. */
};

/* Everything one match attempt needs; it lives on the C stack, so a longjmp leaks nothing. */
struct matcher {
    lua_State *L;
    struct budget *bud;
    const char *subj;
    const char *subj_end;
    const char *pat;
    const char *pat_end;
    unsigned fuel;  /* Steps left before the next tick, 1..TM_PATTERN_TICK at rest. */
    int depth_left; /* Nested match() calls still allowed. */
    int ncap;
    struct capture cap[MAX_CAPTURES];
};

/* Budget. */

static void report(struct matcher *m, size_t extra)
{
    size_t done = (size_t)(TM_PATTERN_TICK - m->fuel) + extra;
    m->fuel = TM_PATTERN_TICK;
    /* The tick may not return, so the shared state must already be settled. */
    m->bud->pending = 0;
    if (m->bud->tick)
        m->bud->tick(m->L, m->bud->ud, done > UINT_MAX ? UINT_MAX : (unsigned)done);
}

/* One unit of matching work; kept a macro because it sits in every inner loop. */
#define STEP(m)                                                                                    \
    do {                                                                                           \
        if (--(m)->fuel == 0)                                                                      \
            report((m), 0);                                                                        \
    } while (0)

static void charge(struct matcher *m, size_t n)
{
    if (n < m->fuel)
        m->fuel -= (unsigned)n;
    else
        report(m, n);
}

/* Hands the unreported steps back to the shared state, before returning or calling out to Lua
 * code that may itself match patterns. */
static void park(struct matcher *m)
{
    m->bud->pending = TM_PATTERN_TICK - m->fuel;
}

static void unpark(struct matcher *m)
{
    m->fuel = TM_PATTERN_TICK - m->bud->pending;
}

static void matcher_init(struct matcher *m, lua_State *L, struct budget *bud, const char *s,
                         size_t sl, const char *p, size_t pl)
{
    m->L = L;
    m->bud = bud;
    m->subj = s;
    m->subj_end = s + sl;
    m->pat = p;
    m->pat_end = p + pl;
    m->depth_left = MAX_DEPTH;
    m->ncap = 0;
    unpark(m);
}

/* Single-character items. */

/* Tests byte c against the letter of a "%x" item. Letters without a class stand for themselves;
 * an upper-case class letter means the complement. The C library decides membership, as in the
 * stock matcher, so both follow the current locale alike. The class letters are ASCII, so
 * setting bit 5 folds their case without a call to tolower, on the hottest path there is. */
static int class_match(int c, int letter)
{
    int hit;
    switch (letter | 0x20) {
    case 'a':
        hit = isalpha(c);
        break;
    case 'c':
        hit = iscntrl(c);
        break;
    case 'd':
        hit = isdigit(c);
        break;
    case 'g':
        hit = isgraph(c);
        break;
    case 'l':
        hit = islower(c);
        break;
    case 'p':
        hit = ispunct(c);
        break;
    case 's':
        hit = isspace(c);
        break;
    case 'u':
        hit = isupper(c);
        break;
    case 'w':
        hit = isalnum(c);
        break;
    case 'x':
        hit = isxdigit(c);
        break;
    case 'z':
        /* Deprecated since 5.2 but still honoured by 5.4: the '\0' byte. */
        hit = c == 0;
        break;
    default:
        return letter == c;
    }
    if ((letter & 0x20) == 0)
        hit = !hit;
    return hit != 0;
}

/* Tests byte c against the set from `open` ('[') to `close` (its ']'). The pattern was checked
 * by item_end, so every escape inside has its letter before `close`. */
static int set_match(int c, const char *open, const char *close)
{
    const char *p = open + 1;
    int on_hit = 1;
    if (*p == '^') {
        on_hit = 0;
        p++;
    }
    for (; p < close; p++) {
        if (*p == '%') {
            p++;
            if (class_match(c, (unsigned char)*p))
                return on_hit;
        } else if (p[1] == '-' && p + 2 < close) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return on_hit;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return on_hit;
        }
    }
    return !on_hit;
}

/* Returns the end of the single-character item at p: '.', a literal, "%x" or a set. This is
 * where a malformed item is reported, only once the matcher actually reaches it. */
static const char *item_end(struct matcher *m, const char *p)
{
    const char *pe = m->pat_end;
    if (*p == '%') {
        if (p + 1 >= pe)
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        return p + 2;
    }
    if (*p == '[') {
        const char *q = p + 1;
        if (q < pe && *q == '^')
            q++;
        /* The first member is taken as it is, so "[]]" and "[^]]" are sets holding ']'. */
        for (;;) {
            if (q >= pe) {
                luaL_error(m->L, "malformed pattern (missing ']')");
                return pe;
            }
            q += (*q == '%' && q + 1 < pe) ? 2 : 1;
            if (q < pe && *q == ']')
                return q + 1;
        }
    }
    return p + 1;
}

static int item_match(int c, const char *p, const char *ep)
{
    switch (*p) {
    case '.':
        return 1;
    case '%':
        return class_match(c, (unsigned char)p[1]);
    case '[':
        return set_match(c, p, ep - 1);
    default:
        return (unsigned char)*p == c;
    }
}

/* Returns the byte that any match of the pattern [p, pe) must start with, or -1. Only a plain
 * literal item that must occur at least once qualifies: a match attempt anywhere else fails on
 * its first comparison, so greedy and lazy repetitions skip those attempts. */
static int lead_byte(const char *p, const char *pe)
{
    if (p >= pe || memchr("()%[.", *p, 5) != NULL)
        return -1;
    if (*p == '$' && p + 1 == pe)
        return -1;
    if (p + 1 < pe && memchr("*?-", p[1], 3) != NULL)
        return -1;
    return (unsigned char)*p;
}

/* The matcher proper. */

static const char *match(struct matcher *m, const char *s, const char *p);

/* Returns where the run of bytes of class "%letter" that starts at q ends. The same tests as
 * class_match, but chosen once per run instead of once per byte: runs such as "%a+" are the
 * bulk of ordinary matching. */
static const char *class_run(const char *q, const char *end, int letter)
{
    int want = (letter & 0x20) != 0;
#define CLASS_RUN(test)                                                                            \
    while (q < end && ((test((unsigned char)*q) != 0) == want))                                    \
        q++;                                                                                       \
    break
    switch (letter | 0x20) {
    case 'a':
        CLASS_RUN(isalpha);
    case 'c':
        CLASS_RUN(iscntrl);
    case 'd':
        CLASS_RUN(isdigit);
    case 'g':
        CLASS_RUN(isgraph);
    case 'l':
        CLASS_RUN(islower);
    case 'p':
        CLASS_RUN(ispunct);
    case 's':
        CLASS_RUN(isspace);
    case 'u':
        CLASS_RUN(isupper);
    case 'w':
        CLASS_RUN(isalnum);
    case 'x':
        CLASS_RUN(isxdigit);
    case 'z':
        while (q < end && ((*q == 0) == want))
            q++;
        break;
    default:
        while (q < end && (unsigned char)*q == letter)
            q++;
        break;
    }
#undef CLASS_RUN
    return q;
}

/* Returns where the run of bytes matching item [p, ep) that starts at s ends. */
static const char *run_end(struct matcher *m, const char *s, const char *p, const char *ep)
{
    const char *end = m->subj_end, *q = s;
    if (ep - p == 1 && *p == '.') {
        q = end;
    } else if (ep - p == 1) {
        char c = *p;
        while (q < end && *q == c)
            q++;
    } else if (*p == '%') {
        q = class_run(q, end, (unsigned char)p[1]);
    } else {
        while (q < end && set_match((unsigned char)*q, p, ep - 1))
            q++;
    }
    charge(m, (size_t)(q - s) + 1);
    return q;
}

/* Item [p, ep) with '*' or '+': takes the longest run from `from`, then gives back one byte at a
 * time, down to `least`, until the rest of the pattern matches. */
static const char *greedy(struct matcher *m, const char *least, const char *from, const char *p,
                          const char *ep)
{
    const char *rest = ep + 1;
    /* Skipping a call is only safe while that call could not fail on the depth limit. */
    int lead = m->depth_left > 0 ? lead_byte(rest, m->pat_end) : -1;
    const char *q = run_end(m, from, p, ep);
    if (rest == m->pat_end && m->depth_left > 0)
        return q; /* Nothing follows, so the longest run is the match. */
    for (;;) {
        if (lead < 0 || (q < m->subj_end && (unsigned char)*q == lead)) {
            const char *r = match(m, q, rest);
            if (r != NULL)
                return r;
        } else {
            STEP(m);
        }
        if (q == least)
            return NULL;
        q--;
    }
}

/* Item [p, ep) with '-': tries the rest of the pattern first, then one more byte, and so on. */
static const char *lazy(struct matcher *m, const char *s, const char *p, const char *ep)
{
    const char *rest = ep + 1, *end = m->subj_end;
    int lead = m->depth_left > 0 ? lead_byte(rest, m->pat_end) : -1;
    int any = ep - p == 1 && *p == '.';
    for (;;) {
        if (lead >= 0 && any) {
            /* '.' takes every byte, so only the bytes equal to the lead can end the run. */
            const char *hit = s < end ? memchr(s, lead, (size_t)(end - s)) : NULL;
            charge(m, (size_t)((hit ? hit : end) - s) / SKIP_RATE + 1);
            if (hit == NULL)
                return NULL;
            s = hit;
        }
        if (lead < 0 || (s < end && (unsigned char)*s == lead)) {
            const char *r = match(m, s, rest);
            if (r != NULL)
                return r;
        }
        STEP(m);
        if (s >= end || !item_match((unsigned char)*s, p, ep))
            return NULL;
        s++;
    }
}

/* "%bxy" at p ("xy..."): a run from x to the y that balances it. */
static const char *balance(struct matcher *m, const char *s, const char *p)
{
    const char *end = m->subj_end;
    int depth = 1;
    if (p + 1 >= m->pat_end)
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= end || *s != p[0])
        return NULL;
    while (++s < end) {
        STEP(m);
        /* The closer is tested first, so "%b''" stops at the next quote. */
        if (*s == p[1]) {
            if (--depth == 0)
                return s + 1;
        } else if (*s == p[0]) {
            depth++;
        }
    }
    return NULL;
}

static const char *open_capture(struct matcher *m, const char *s, const char *p, ptrdiff_t kind)
{
    const char *r;
    if (m->ncap >= MAX_CAPTURES)
        luaL_error(m->L, "too many captures");
    m->cap[m->ncap].at = s;
    m->cap[m->ncap].len = kind;
    m->ncap++;
    r = match(m, s, p);
    if (r == NULL)
        m->ncap--;
    return r;
}

static const char *close_capture(struct matcher *m, const char *s, const char *p)
{
    const char *r;
    int i = m->ncap - 1;
    while (i >= 0 && m->cap[i].len != CAP_OPEN)
        i--;
    if (i < 0) {
        luaL_error(m->L, "invalid pattern capture");
        return NULL;
    }
    m->cap[i].len = s - m->cap[i].at;
    r = match(m, s, p);
    if (r == NULL)
        m->cap[i].len = CAP_OPEN;
    return r;
}

/* "%1".."%9" (and the invalid "%0") at p: the text of an earlier, closed capture. */
static const char *back_reference(struct matcher *m, const char *s, const char *p)
{
    int i = p[1] - '1';
    size_t len;
    if (i < 0 || i >= m->ncap || m->cap[i].len == CAP_OPEN) {
        luaL_error(m->L, "invalid capture index %%%d", i + 1);
        return NULL;
    }
    /* A position capture holds no text and, as in 5.4, never matches. */
    if (m->cap[i].len < 0)
        return NULL;
    len = (size_t)m->cap[i].len;
    charge(m, len / SKIP_RATE);
    if ((size_t)(m->subj_end - s) < len || memcmp(m->cap[i].at, s, len) != 0)
        return NULL;
    return s + len;
}

/* "%f[set]" at p: succeeds, consuming nothing, where the previous byte is outside the set and the
 * current one inside; both ends of the subject count as a '\0' byte. */
static const char *frontier(struct matcher *m, const char *s, const char *p)
{
    const char *set = p + 2, *after;
    int prev, cur;
    if (set >= m->pat_end || *set != '[') {
        luaL_error(m->L, "missing '[' after '%%f' in pattern");
        return NULL;
    }
    after = item_end(m, set);
    prev = s == m->subj ? 0 : (unsigned char)s[-1];
    cur = s < m->subj_end ? (unsigned char)*s : 0;
    if (!set_match(prev, set, after - 1) && set_match(cur, set, after - 1))
        return after;
    return NULL;
}

/* Matches pattern [p, pat_end) at s; returns the end of the match or NULL. Every construct that
 * has to try alternatives recurses (and counts against the depth limit at the same places as
 * 5.4, so "pattern too complex" comes at the same point); everything else loops. */
static const char *match(struct matcher *m, const char *s, const char *p)
{
    const char *pe = m->pat_end;
    const char *res = NULL;
    if (m->depth_left-- == 0)
        luaL_error(m->L, "pattern too complex");
    for (;;) {
        const char *ep;
        int quant;
        STEP(m);
        if (p >= pe) {
            res = s;
            goto out;
        }
        switch (*p) {
        case '(':
            if (p + 1 < pe && p[1] == ')')
                res = open_capture(m, s, p + 2, CAP_POSITION);
            else
                res = open_capture(m, s, p + 1, CAP_OPEN);
            goto out;
        case ')':
            res = close_capture(m, s, p + 1);
            goto out;
        case '$':
            if (p + 1 == pe) {
                res = s == m->subj_end ? s : NULL;
                goto out;
            }
            break; /* Anywhere else '$' is a literal. */
        case '%':
            if (p + 1 >= pe)
                break; /* item_end reports it. */
            if (p[1] == 'b') {
                s = balance(m, s, p + 2);
                if (s == NULL)
                    goto out;
                p += 4;
                continue;
            }
            if (p[1] == 'f') {
                p = frontier(m, s, p);
                if (p == NULL)
                    goto out;
                continue;
            }
            if (p[1] >= '0' && p[1] <= '9') {
                s = back_reference(m, s, p);
                if (s == NULL)
                    goto out;
                p += 2;
                continue;
            }
            break;
        default:
            break;
        }
        /* A single-character item with an optional quantifier. */
        ep = item_end(m, p);
        quant = ep < pe ? *ep : 0;
        if (s >= m->subj_end || !item_match((unsigned char)*s, p, ep)) {
            if (quant == '*' || quant == '?' || quant == '-') {
                p = ep + 1;
                continue;
            }
            goto out;
        }
        switch (quant) {
        case '?':
            res = match(m, s + 1, ep + 1);
            if (res != NULL)
                goto out;
            p = ep + 1;
            continue;
        case '+':
            res = greedy(m, s + 1, s + 1, p, ep);
            goto out;
        case '*':
            res = greedy(m, s, s + 1, p, ep);
            goto out;
        case '-':
            res = lazy(m, s, p, ep);
            goto out;
        default:
            s++;
            p = ep;
            continue;
        }
    }
out:
    m->depth_left++;
    return res;
}

/* Start positions. */

/* What every match must begin with, when that is cheap to look for: attempts anywhere else
 * fail at once, so they can be skipped without changing any result. */
struct start {
    const char *item; /* The first item, or NULL when there is nothing to look for. */
    const char *end;  /* Its end; for "%f[set]", just past the ']'. */
    int frontier;     /* The item is "%f[set]" rather than a single-character item. */
};

/* Finds the start condition. A first item that has no quantifier, or '+', must match one byte;
 * a first "%f[set]" must hold. Called only right before a first attempt, which would report a
 * malformed first item in just the same way. */
static struct start find_start(struct matcher *m)
{
    struct start st = {NULL, NULL, 0};
    const char *p = m->pat, *pe = m->pat_end, *ep;
    if (p >= pe || *p == '(' || *p == ')' || *p == '.' || (*p == '$' && p + 1 == pe))
        return st;
    if (*p == '%' && p + 1 < pe && p[1] == 'f') {
        if (p + 2 >= pe || p[2] != '[')
            return st; /* The attempt reports it. */
        st.item = p + 2;
        st.end = item_end(m, p + 2);
        st.frontier = 1;
        return st;
    }
    if (*p == '%' && p + 1 < pe && (p[1] == 'b' || (p[1] >= '0' && p[1] <= '9')))
        return st;
    ep = item_end(m, p);
    if (ep < pe && (*ep == '*' || *ep == '?' || *ep == '-'))
        return st;
    st.item = p;
    st.end = ep;
    return st;
}

/* Returns the first position from s where the start condition holds, or NULL if none does. A
 * frontier can hold at the very end of the subject; a single-character item cannot. */
static const char *seek_start(struct matcher *m, const char *s, const struct start *st)
{
    const char *p = st->item, *ep = st->end, *end = m->subj_end, *q = s;
    int literal;
    if (st->frontier) {
        const char *close = ep - 1;
        int was_in = set_match(s == m->subj ? 0 : (unsigned char)s[-1], p, close);
        for (;; q++) {
            int is_in = set_match(q < end ? (unsigned char)*q : 0, p, close);
            if (!was_in && is_in)
                break;
            if (q >= end) {
                q = NULL;
                break;
            }
            was_in = is_in;
        }
        charge(m, (size_t)((q != NULL ? q : end) - s) + 1);
        return q;
    }
    if (s >= end)
        return NULL;
    literal = ep - p == 1 ||
              (*p == '%' && memchr("acdglpsuwxz", (unsigned char)p[1] | 0x20, 11) == NULL);
    if (literal) {
        /* A literal byte, possibly escaped. */
        q = memchr(s, (unsigned char)ep[-1], (size_t)(end - s));
        charge(m, (size_t)((q != NULL ? q : end) - s) / SKIP_RATE + 1);
        return q;
    }
    if (*p == '%') {
        /* Toggling the case of a class letter gives its complement. */
        q = class_run(s, end, (unsigned char)p[1] ^ 0x20);
    } else {
        while (q < end && !set_match((unsigned char)*q, p, ep - 1))
            q++;
    }
    charge(m, (size_t)(q - s) + 1);
    return q < end ? q : NULL;
}

/* Tries the pattern at `from` and each later start (only at `from` when anchored), skipping a
 * match that ends at `avoid`. Returns the start of the first match and sets *endp, or NULL. */
static const char *scan(struct matcher *m, const char *from, int anchored, const char *avoid,
                        const char **endp)
{
    const char *s = from, *end = m->subj_end;
    struct start st = {NULL, NULL, 0};
    if (!anchored)
        st = find_start(m);
    for (;;) {
        const char *e;
        if (st.item != NULL) {
            s = seek_start(m, s, &st);
            if (s == NULL)
                return NULL;
        }
        m->ncap = 0;
        m->depth_left = MAX_DEPTH;
        e = match(m, s, m->pat);
        if (e != NULL && e != avoid) {
            *endp = e;
            return s;
        }
        if (anchored || s >= end)
            return NULL;
        s++;
    }
}

/* Plain search (find with `plain` or without specials), charged by the bytes compared. */
static const char *plain_find(struct matcher *m, const char *s, size_t sl, const char *p,
                              size_t pl)
{
    const char *cur = s, *last;
    if (pl == 0)
        return s;
    if (pl > sl)
        return NULL;
    last = s + (sl - pl);
    while (cur <= last) {
        const char *hit = memchr(cur, (unsigned char)p[0], (size_t)(last - cur) + 1);
        size_t k;
        charge(m, (size_t)((hit ? hit : last) - cur) / SKIP_RATE + 1);
        if (hit == NULL)
            return NULL;
        /* The last byte is a cheap filter; the rest is compared in blocks so that the charge
         * follows the real work on near misses. */
        if (hit[pl - 1] == p[pl - 1]) {
            for (k = 1; k < pl; k += SKIP_RATE) {
                size_t n = pl - k < SKIP_RATE ? pl - k : SKIP_RATE;
                STEP(m);
                if (memcmp(hit + k, p + k, n) != 0)
                    break;
            }
            if (k >= pl)
                return hit;
        }
        cur = hit + 1;
    }
    return NULL;
}

/* Captures. */

/* Finds capture i for output. Returns 1 for a position capture (its value in *len), else 0 with
 * its text in *text and *len. Without captures, capture 0 stands for the whole match [s, e). */
static int capture_value(struct matcher *m, int i, const char *s, const char *e,
                         const char **text, size_t *len)
{
    if (i >= m->ncap) {
        if (i != 0)
            luaL_error(m->L, "invalid capture index %%%d", i + 1);
        *text = s;
        *len = (size_t)(e - s);
        return 0;
    }
    if (m->cap[i].len == CAP_OPEN)
        luaL_error(m->L, "unfinished capture");
    if (m->cap[i].len == CAP_POSITION) {
        *len = (size_t)(m->cap[i].at - m->subj) + 1;
        return 1;
    }
    *text = m->cap[i].at;
    *len = (size_t)m->cap[i].len;
    return 0;
}

static void push_capture(struct matcher *m, int i, const char *s, const char *e)
{
    const char *text = NULL;
    size_t len;
    if (capture_value(m, i, s, e, &text, &len))
        lua_pushinteger(m->L, (lua_Integer)len);
    else
        lua_pushlstring(m->L, text, len);
}

/* Pushes every capture, or the whole match [s, e) when there are none and s is not NULL (find
 * passes NULL because it has already returned the positions). */
static int push_captures(struct matcher *m, const char *s, const char *e)
{
    int i, n = (m->ncap == 0 && s != NULL) ? 1 : m->ncap;
    luaL_checkstack(m->L, n, "too many captures");
    for (i = 0; i < n; i++)
        push_capture(m, i, s, e);
    return n;
}

/* The library functions. */

/* Converts a 1-based, possibly negative, init argument to a 0-based offset; past the end stays
 * past the end, so callers can tell. */
static size_t start_offset(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos - 1;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 0;
    return len - (size_t)(-pos);
}

static int has_specials(const char *p, size_t pl)
{
    size_t i;
    for (i = 0; i < pl; i++)
        if (memchr(SPECIALS, p[i], sizeof SPECIALS - 1) != NULL)
            return 1;
    return 0;
}

static int find_or_match(lua_State *L, int find)
{
    struct budget *bud = lua_touserdata(L, lua_upvalueindex(1));
    struct matcher m;
    size_t sl, pl;
    const char *s = luaL_checklstring(L, 1, &sl);
    const char *p = luaL_checklstring(L, 2, &pl);
    size_t init = start_offset(tm_lua_optinteger(L, 3, 1), sl);
    const char *start, *e = NULL;
    int anchored;
    if (init > sl) {
        lua_pushnil(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !has_specials(p, pl))) {
        matcher_init(&m, L, bud, s, sl, p, pl);
        start = plain_find(&m, s + init, sl - init, p, pl);
        park(&m);
        if (start == NULL) {
            lua_pushnil(L);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(start - s) + 1);
        lua_pushinteger(L, (lua_Integer)(start - s) + (lua_Integer)pl);
        return 2;
    }
    anchored = pl > 0 && p[0] == '^';
    if (anchored) {
        p++;
        pl--;
    }
    matcher_init(&m, L, bud, s, sl, p, pl);
    start = scan(&m, s + init, anchored, NULL, &e);
    park(&m);
    if (start == NULL) {
        lua_pushnil(L);
        return 1;
    }
    if (!find)
        return push_captures(&m, start, e);
    lua_pushinteger(L, (lua_Integer)(start - s) + 1);
    lua_pushinteger(L, (lua_Integer)(e - s));
    return push_captures(&m, NULL, NULL) + 2;
}

static int str_find(lua_State *L)
{
    return find_or_match(L, 1);
}

static int str_match(lua_State *L)
{
    return find_or_match(L, 0);
}

/* Iterator state. The subject and pattern strings are upvalues of the iterator, which keeps
 * them alive (and Lua strings never move), so their addresses can be kept here. A match ending
 * where the previous one did is skipped, so an empty match cannot repeat. */
struct gmatch_state {
    struct budget *bud;
    const char *s, *p;
    size_t sl, pl;
    size_t pos;  /* Offset where the next search starts. */
    size_t last; /* Offset where the last match ended; SIZE_MAX before the first. */
};

static int gmatch_next(lua_State *L)
{
    struct gmatch_state *g = lua_touserdata(L, lua_upvalueindex(3));
    struct matcher m;
    const char *start, *e = NULL;
    if (g->pos > g->sl)
        return 0;
    /* No anchor here: the manual says a leading '^' would stop the iteration, so it is literal. */
    matcher_init(&m, L, g->bud, g->s, g->sl, g->p, g->pl);
    start = scan(&m, g->s + g->pos, 0, g->last == SIZE_MAX ? NULL : g->s + g->last, &e);
    park(&m);
    if (start == NULL)
        return 0;
    g->pos = g->last = (size_t)(e - g->s);
    return push_captures(&m, start, e);
}

static int str_gmatch(lua_State *L)
{
    struct gmatch_state *g;
    size_t sl, pl;
    const char *s = luaL_checklstring(L, 1, &sl);
    const char *p = luaL_checklstring(L, 2, &pl);
    size_t init = start_offset(tm_lua_optinteger(L, 3, 1), sl);
    lua_settop(L, 2);
    g = lua_newuserdata(L, sizeof *g);
    g->bud = lua_touserdata(L, lua_upvalueindex(1));
    g->s = s;
    g->p = p;
    g->sl = sl;
    g->pl = pl;
    g->pos = init > sl ? sl + 1 : init;
    g->last = SIZE_MAX;
    /* Upvalues: the subject and pattern, then the state, then the budget; all must stay alive
     * as long as the iterator, even if the library functions themselves are dropped. */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, gmatch_next, 4);
    return 1;
}

/* The output of gsub: a growable byte array in a userdata that sits in a fixed stack slot, so
 * the collector frees it whether gsub returns or an error unwinds it. It stands in for
 * luaL_Buffer, whose LuaJIT version appends byte by byte. */
struct outbuf {
    lua_State *L;
    int slot;
    char *data;
    size_t len, cap;
};

static void out_init(struct outbuf *o, lua_State *L)
{
    o->L = L;
    lua_pushnil(L);
    o->slot = lua_gettop(L);
    o->data = NULL;
    o->len = o->cap = 0;
}

static void out_add(struct outbuf *o, const char *s, size_t n)
{
    if (n == 0)
        return;
    if (n > o->cap - o->len) {
        size_t cap = o->cap != 0 ? o->cap : 256;
        char *d;
        if (n > SIZE_MAX / 2 - o->len)
            luaL_error(o->L, "buffer too large");
        while (cap - o->len < n)
            cap *= 2;
        d = lua_newuserdata(o->L, cap);
        if (o->len != 0)
            memcpy(d, o->data, o->len);
        lua_replace(o->L, o->slot);
        o->data = d;
        o->cap = cap;
    }
    memcpy(o->data + o->len, s, n);
    o->len += n;
}

/* Appends the value on top of the stack (a string or a number) and pops it. */
static void out_add_value(struct outbuf *o)
{
    size_t n;
    const char *s = lua_tolstring(o->L, -1, &n);
    out_add(o, s, n);
    lua_pop(o->L, 1);
}

/* Appends capture i (see capture_value) to the output. */
static void add_capture(struct matcher *m, struct outbuf *b, int i, const char *s, const char *e)
{
    const char *text = NULL;
    size_t len;
    if (capture_value(m, i, s, e, &text, &len)) {
        lua_pushinteger(m->L, (lua_Integer)len);
        out_add_value(b);
    } else {
        charge(m, len / SKIP_RATE);
        out_add(b, text, len);
    }
}

/* Appends a replacement string for the match [s, e), expanding "%0".."%9" and "%%". */
static void add_template(struct matcher *m, struct outbuf *b, const char *s, const char *e,
                         const char *r, size_t rl)
{
    const char *rend = r + rl;
    charge(m, rl / SKIP_RATE + 1);
    for (;;) {
        const char *pct = memchr(r, '%', (size_t)(rend - r));
        int d;
        if (pct == NULL)
            break;
        out_add(b, r, (size_t)(pct - r));
        d = pct + 1 < rend ? (unsigned char)pct[1] : 0;
        if (d == '%') {
            out_add(b, "%", 1);
        } else if (d >= '0' && d <= '9') {
            /* "%0" is always the whole match; "%1" is too when there are no captures. */
            if (d == '0') {
                charge(m, (size_t)(e - s) / SKIP_RATE);
                out_add(b, s, (size_t)(e - s));
            } else {
                add_capture(m, b, d - '1', s, e);
            }
        } else {
            luaL_error(m->L, "invalid use of '%%' in replacement string");
        }
        r = pct + 2;
    }
    out_add(b, r, (size_t)(rend - r));
}

/* Appends the replacement for the match [s, e); returns whether it differs from the original
 * text (a false or nil value from a table or function keeps the match). */
static int add_value(struct matcher *m, struct outbuf *b, const char *s, const char *e, int rtype,
                     const char *repl, size_t rl)
{
    lua_State *L = m->L;
    if (rtype == LUA_TSTRING || rtype == LUA_TNUMBER) {
        add_template(m, b, s, e, repl, rl);
        return 1;
    }
    park(m);
    if (rtype == LUA_TFUNCTION) {
        int n;
        lua_pushvalue(L, 3);
        n = push_captures(m, s, e);
        lua_call(L, n, 1);
    } else {
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    }
    unpark(m);
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        out_add(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1))
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    out_add_value(b);
    return 1;
}

static int str_gsub(lua_State *L)
{
    struct budget *bud = lua_touserdata(L, lua_upvalueindex(1));
    struct matcher m;
    struct outbuf b;
    size_t sl, pl, rl = 0;
    const char *src = luaL_checklstring(L, 1, &sl);
    const char *p = luaL_checklstring(L, 2, &pl);
    int rtype = lua_type(L, 3);
    lua_Integer max_n = tm_lua_optinteger(L, 4, (lua_Integer)sl + 1);
    const char *repl = NULL, *s = src, *end = src + sl, *last = NULL, *copied = src;
    struct start st = {NULL, NULL, 0};
    lua_Integer n = 0;
    int anchored, changed = 0;
    if (rtype != LUA_TNUMBER && rtype != LUA_TSTRING && rtype != LUA_TFUNCTION &&
        rtype != LUA_TTABLE) {
#if LUA_VERSION_NUM >= 504
        luaL_typeerror(L, 3, "string/function/table");
#else
        luaL_argerror(L, 3,
                      lua_pushfstring(L, "string/function/table expected, got %s",
                                      luaL_typename(L, 3)));
#endif
    }
    if (rtype == LUA_TSTRING || rtype == LUA_TNUMBER)
        repl = lua_tolstring(L, 3, &rl);
    anchored = pl > 0 && p[0] == '^';
    if (anchored) {
        p++;
        pl--;
    }
    out_init(&b, L);
    matcher_init(&m, L, bud, src, sl, p, pl);
    if (!anchored && max_n > 0)
        st = find_start(&m);
    /* Bytes that no match covers are not copied one by one: [copied, s) is appended in one go
     * just before the next replacement or at the end. */
    while (n < max_n) {
        const char *e;
        if (st.item != NULL) {
            s = seek_start(&m, s, &st);
            if (s == NULL)
                break;
        }
        m.ncap = 0;
        m.depth_left = MAX_DEPTH;
        e = match(&m, s, p);
        if (e != NULL && e != last) {
            n++;
            out_add(&b, copied, (size_t)(s - copied));
            changed |= add_value(&m, &b, s, e, rtype, repl, rl);
            s = last = copied = e;
        } else if (s < end) {
            s++;
        } else {
            break;
        }
        if (anchored)
            break;
    }
    park(&m);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        out_add(&b, copied, (size_t)(end - copied));
        lua_pushlstring(L, b.data != NULL ? b.data : "", b.len);
    }
    lua_pushinteger(L, n);
    return 2;
}

void tm_pattern_open(lua_State *L, int strtab, tm_pattern_tick_fn tick, void *ud)
{
    static const luaL_Reg fns[] = {
        {"find", str_find},
        {"match", str_match},
        {"gmatch", str_gmatch},
        {"gsub", str_gsub},
        {NULL, NULL},
    };
    const luaL_Reg *f;
    struct budget *bud;
    if (strtab < 0 && strtab > LUA_REGISTRYINDEX)
        strtab = lua_gettop(L) + strtab + 1;
    bud = lua_newuserdata(L, sizeof *bud);
    bud->tick = tick;
    bud->ud = ud;
    bud->pending = 0;
    for (f = fns; f->name != NULL; f++) {
        lua_pushvalue(L, -1);
        lua_pushcclosure(L, f->func, 1);
        lua_setfield(L, strtab, f->name);
    }
    lua_pop(L, 1);
}
