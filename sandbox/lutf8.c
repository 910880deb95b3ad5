/*
 * sandbox/lutf8.c: the utf8 library for builds without one (lutf8.h).
 *
 * What it does is what the Lua 5.4 reference manual (6.5) says, down to the
 * edge cases a script can observe, checked against the stock 5.4 library by
 * tests/sandbox/test_utf8.c:
 *   - decoding is "lax" UTF-8 as Lua understands it: sequences of up to six
 *     bytes for values up to 2^31 - 1, overlong forms refused; the strict
 *     form (the default) also refuses values past U+10FFFF and surrogates;
 *   - positions count bytes from 1; negative ones count from the end;
 *   - argument errors carry 5.4's messages ("initial position out of
 *     bounds", "value out of range", ...), runtime ones too ("invalid UTF-8
 *     code", "initial position is a continuation byte").
 * Nothing here allocates outside Lua, so any argument error may longjmp.
 */
#include "lutf8.h"

#include <stdint.h>
#include <string.h>

#include "lcompat.h"

#define MAX_UNICODE 0x10FFFFu
#define MAX_UTF 0x7FFFFFFFu
#define CHARPATTERN "[\0-\x7F\xC2-\xFD][\x80-\xBF]*"

static int is_cont(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

/* The byte at s[i], or 0 past the end (Lua strings end with a NUL, which
 * is never a continuation byte: reading it is what 5.4 does). */
static unsigned char at(const char *s, size_t len, size_t i)
{
    return i < len ? (unsigned char)s[i] : 0;
}

/* Decodes the sequence at s[i] (s has `len` bytes). Returns the index just
 * after it and sets *code, or returns (size_t)-1 for an invalid sequence. */
static size_t decode(const char *s, size_t len, size_t i, uint32_t *code, int strict)
{
    static const uint32_t least[] = {0, 0x80, 0x800, 0x10000, 0x200000, 0x4000000};
    unsigned char c = at(s, len, i);
    if (c < 0x80) {
        *code = c;
        return i + 1;
    }
    /* The lead byte's high ones give the length: 110xxxxx is followed by one
     * continuation byte ... 1111110x by five. 10xxxxxx (a continuation byte
     * in the lead's place) and 1111111x lead nothing valid. */
    int more = 0;
    while (more < 7 && (c & (0x40u >> more)))
        more++;
    if (more == 0 || more > 5)
        return (size_t)-1;
    uint32_t v = c & (0x3Fu >> more);
    for (int k = 1; k <= more; k++) {
        unsigned char cc = at(s, len, i + (size_t)k);
        if (!is_cont(cc))
            return (size_t)-1;
        v = (v << 6) | (cc & 0x3Fu);
    }
    if (v > MAX_UTF || v < least[more])
        return (size_t)-1; /* an overlong form */
    if (strict && (v > MAX_UNICODE || (v >= 0xD800 && v <= 0xDFFF)))
        return (size_t)-1;
    *code = v;
    return i + (size_t)more + 1;
}

/* Writes `code` (at most MAX_UTF) as 1 to 6 bytes into buf; returns how many. */
static int encode(char *buf, uint32_t code)
{
    if (code < 0x80) {
        buf[0] = (char)code;
        return 1;
    }
    int n = code < 0x800 ? 2 : code < 0x10000 ? 3 : code < 0x200000 ? 4 : code < 0x4000000 ? 5 : 6;
    for (int k = n - 1; k > 0; k--) {
        buf[k] = (char)(0x80u | (code & 0x3Fu));
        code >>= 6;
    }
    buf[0] = (char)(((0xFFu << (8 - n)) & 0xFFu) | code);
    return n;
}

/* A position relative to the string: negative counts from the end, and one
 * before the start becomes 0. */
static lua_Integer relpos(lua_Integer pos, size_t len)
{
    if (pos >= 0)
        return pos;
    if ((size_t)0 - (size_t)pos > len)
        return 0;
    return (lua_Integer)len + pos + 1;
}

/***
 * @function utf8.len(s [, i [, j [, lax]]])
 * @return {integer|nil, integer} the number of characters from byte i to j;
 *   or nil and the position of the first invalid byte
 */
static int l_len(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_Integer i = relpos(tm_lua_optinteger(L, 2, 1), len);
    lua_Integer j = relpos(tm_lua_optinteger(L, 3, -1), len);
    int lax = lua_toboolean(L, 4);
    luaL_argcheck(L, 1 <= i && i - 1 <= (lua_Integer)len, 2, "initial position out of bounds");
    luaL_argcheck(L, j - 1 < (lua_Integer)len, 3, "final position out of bounds");
    lua_Integer n = 0;
    size_t p = (size_t)(i - 1);
    while ((lua_Integer)p <= j - 1) {
        uint32_t code;
        size_t next = decode(s, len, p, &code, !lax);
        if (next == (size_t)-1) {
            lua_pushnil(L);
            lua_pushinteger(L, (lua_Integer)p + 1);
            return 2;
        }
        p = next;
        n++;
    }
    lua_pushinteger(L, n);
    return 1;
}

/***
 * @function utf8.char(...)
 * @return {string} the characters with these code points (each 0 to 2^31 - 1)
 */
static int l_char(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int k = 1; k <= n; k++) {
        uint64_t code = (uint64_t)tm_lua_checkinteger(L, k);
        luaL_argcheck(L, code <= MAX_UTF, k, "value out of range");
        char buf[8];
        luaL_addlstring(&b, buf, (size_t)encode(buf, (uint32_t)code));
    }
    luaL_pushresult(&b);
    return 1;
}

/***
 * @function utf8.codepoint(s [, i [, j [, lax]]])
 * @return {integer...} the code points of the characters starting between
 *   bytes i and j (default j = i)
 */
static int l_codepoint(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_Integer i = relpos(tm_lua_optinteger(L, 2, 1), len);
    lua_Integer j = relpos(tm_lua_optinteger(L, 3, i), len);
    int lax = lua_toboolean(L, 4);
    luaL_argcheck(L, i >= 1, 2, "out of bounds");
    luaL_argcheck(L, j <= (lua_Integer)len, 3, "out of bounds");
    if (i > j)
        return 0;
    if (j - i >= 0x7FFFFFFF)
        return luaL_error(L, "string slice too long");
    int most = (int)(j - i) + 1;
    luaL_checkstack(L, most, "string slice too long");
    int n = 0;
    size_t p = (size_t)(i - 1);
    while (p < (size_t)j) {
        uint32_t code;
        size_t next = decode(s, len, p, &code, !lax);
        if (next == (size_t)-1)
            return luaL_error(L, "invalid UTF-8 code");
        lua_pushinteger(L, (lua_Integer)code);
        n++;
        p = next;
    }
    return n;
}

/***
 * @function utf8.offset(s, n [, i])
 * @return {integer|nil} the byte position where the n-th character counted
 *   from byte i starts (n = 0: the start of the character holding byte i)
 */
static int l_offset(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_Integer n = tm_lua_checkinteger(L, 2);
    lua_Integer i = relpos(tm_lua_optinteger(L, 3, n >= 0 ? 1 : (lua_Integer)len + 1), len);
    luaL_argcheck(L, 1 <= i && i - 1 <= (lua_Integer)len, 3, "position out of bounds");
    lua_Integer p = i - 1;
    if (n == 0) {
        while (p > 0 && is_cont(at(s, len, (size_t)p)))
            p--;
    } else {
        if (is_cont(at(s, len, (size_t)p)))
            return luaL_error(L, "initial position is a continuation byte");
        if (n < 0) {
            while (n < 0 && p > 0) {
                do
                    p--;
                while (p > 0 && is_cont(at(s, len, (size_t)p)));
                n++;
            }
        } else {
            n--;
            while (n > 0 && p < (lua_Integer)len) {
                do
                    p++;
                while (is_cont(at(s, len, (size_t)p)));
                n--;
            }
        }
    }
    if (n == 0)
        lua_pushinteger(L, p + 1);
    else
        lua_pushnil(L);
    return 1;
}

/* The iterator of utf8.codes: `control` is the byte position of the last
 * character (0 at the start); the next one starts at the first byte from
 * there on that is not a continuation byte. Read as an unsigned number, as
 * 5.4 does, so a negative control ends the loop. */
static int codes_step(lua_State *L, int strict)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    uint64_t p = (uint64_t)tm_lua_tointeger(L, 2);
    if (p < len) {
        while (is_cont(at(s, len, (size_t)p)))
            p++;
    }
    if (p >= len)
        return 0;
    uint32_t code;
    if (decode(s, len, (size_t)p, &code, strict) == (size_t)-1)
        return luaL_error(L, "invalid UTF-8 code");
    lua_pushinteger(L, (lua_Integer)p + 1);
    lua_pushinteger(L, (lua_Integer)code);
    return 2;
}

static int codes_strict(lua_State *L) { return codes_step(L, 1); }
static int codes_lax(lua_State *L) { return codes_step(L, 0); }

/***
 * @function utf8.codes(s [, lax])
 * @return {function, string, integer} for p, c in utf8.codes(s): each
 *   character's byte position and code point; an invalid byte raises
 */
static int l_codes(lua_State *L)
{
    int lax = lua_toboolean(L, 2);
    luaL_checkstring(L, 1);
    lua_pushcfunction(L, lax ? codes_lax : codes_strict);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    return 3;
}

static const luaL_Reg utf8_funcs[] = {
    {"offset", l_offset}, {"codepoint", l_codepoint}, {"char", l_char},
    {"len", l_len},       {"codes", l_codes},         {NULL, NULL},
};

int tm_lutf8_open(lua_State *L)
{
    lua_createtable(L, 0, 6);
    luaL_setfuncs(L, utf8_funcs, 0);
    lua_pushlstring(L, CHARPATTERN, sizeof CHARPATTERN - 1);
    lua_setfield(L, -2, "charpattern");
    return 1;
}
