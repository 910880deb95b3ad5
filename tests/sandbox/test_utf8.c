/*
 * tests/sandbox/test_utf8.c: the sandbox's utf8 library (sandbox/lutf8.c),
 * which LuaJIT builds give scripts in place of Lua 5.4's. On a Lua 5.4 build
 * it is run side by side with the stock library over a few hundred thousand
 * calls (valid, invalid, overlong and truncated sequences; positions at and
 * past every edge; lax and strict) and every result and error message must
 * be the same. On both builds, fixed cases with the answers 5.4 gives.
 */
#include "harness.h"

#include "lcompat.h"
#include "lutf8.h"

/* A bare state with the stock libraries; `ours` replaces utf8 by lutf8. */
static lua_State *new_state(int ours)
{
    lua_State *L = luaL_newstate();
    if (!L)
        TM_FAIL_("luaL_newstate failed");
    luaL_openlibs(L);
    if (ours) {
        lua_pushcfunction(L, tm_lutf8_open);
        lua_call(L, 0, 1);
#if LUA_VERSION_NUM >= 502
        lua_getglobal(L, "package");
        lua_getfield(L, -1, "loaded");
        lua_pushvalue(L, -3);
        lua_setfield(L, -2, "utf8"); /* error messages name it utf8.len, as the stock one */
        lua_pop(L, 2);
#endif
        lua_setglobal(L, "utf8");
    }
    /* all(...): every value, nil included, as text. */
    if (luaL_dostring(L, "function all(...) local t = {} for i = 1, select('#', ...) do "
                         "t[i] = tostring((select(i, ...))) end return table.concat(t, ',') end"))
        TM_FAIL_("all(): %s", lua_tostring(L, -1));
    return L;
}

/* Runs `src` in L; returns its string result (static buffer, grown). */
static const char *run(lua_State *L, const char *src)
{
    static char *buf;
    if (luaL_loadstring(L, src) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK)
        TM_FAIL_("driver failed: %s", lua_tostring(L, -1));
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    free(buf);
    buf = malloc(n + 1);
    memcpy(buf, s, n + 1);
    lua_pop(L, 1);
    return buf;
}

/* Fixed cases: an expression and what 5.4 answers; in an error message `*`
 * stands for the function's name, which each VM works out its own way. */
static const char *const fixed[][2] = {
    {"utf8.char(72, 233, 0x20AC, 0x1F600)", "H\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"},
    {"#utf8.char(0x7FFFFFFF)", "6"},
    {"utf8.char()", ""},
    {"select(2, pcall(utf8.char, 0x80000000))", "bad argument #1 to * (value out of range)"},
    {"select(2, pcall(utf8.char, 65, -1))", "bad argument #2 to * (value out of range)"},
    {"select(2, pcall(utf8.char, 65.5))", "bad argument #1 to * (number has no integer representation)"},
    {"utf8.len('h\xC3\xA9llo')", "5"},
    {"all(utf8.len('ab\xFF' .. 'c'))", "nil,3"},
    {"all(utf8.len('\xED\xA0\x80'))", "nil,1"},
    {"utf8.len('\xED\xA0\x80', 1, -1, true)", "1"},
    {"all(utf8.len('\xC0\x80'))", "nil,1"},
    {"utf8.len('abc', 4)", "0"},
    {"select(2, pcall(utf8.len, 'abc', 5))", "bad argument #2 to * (initial position out of bounds)"},
    {"select(2, pcall(utf8.len, 'abc', 1, 4))", "bad argument #3 to * (final position out of bounds)"},
    {"all(utf8.codepoint('h\xC3\xA9\xE2\x82\xAC', 1, -1))", "104,233,8364"},
    {"utf8.codepoint('abc', 3)", "99"},
    {"select('#', utf8.codepoint('abc', 3, 2))", "0"},
    {"select(2, pcall(utf8.codepoint, '\xFF'))", "invalid UTF-8 code"},
    {"select(2, pcall(utf8.codepoint, 'abc', 0))", "bad argument #2 to * (out of bounds)"},
    {"select(2, pcall(utf8.codepoint, 'abc', 1, 4))", "bad argument #3 to * (out of bounds)"},
    {"utf8.offset('a\xC3\xA9z', 3)", "4"},
    {"utf8.offset('a\xC3\xA9z', -1)", "4"},
    {"utf8.offset('a\xC3\xA9z', 0, 3)", "2"},
    {"tostring(utf8.offset('abc', 5))", "nil"},
    {"select(2, pcall(utf8.offset, 'a\xC3\xA9', 1, 3))", "initial position is a continuation byte"},
    {"select(2, pcall(utf8.offset, 'abc', 1, 1e15))", "bad argument #3 to * (position out of bounds)"},
    {"(function() local t = {} for p, c in utf8.codes('a\xC3\xA9" "b') do t[#t + 1] = p .. ':' .. c end "
     "return table.concat(t, ' ') end)()",
     "1:97 2:233 4:98"},
    {"select(2, pcall(function() for _ in utf8.codes('a\xFF') do end end))", "invalid UTF-8 code"},
    {"#utf8.charpattern", "14"},
};

TEST(fixed_cases_as_lua_5_4_answers)
{
    lua_State *L = new_state(1);
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        char src[600];
        snprintf(src, sizeof src, "return tostring((%s))", fixed[i][0]);
        const char *got = run(L, src);
        /* An error may carry a position first: compare the message's end. */
        const char *want = fixed[i][1];
        const char *star = strchr(want, '*');
        const char *tail = star ? star + 1 : want;
        size_t gl = strlen(got), tl = strlen(tail);
        int ok = gl >= tl && strcmp(got + gl - tl, tail) == 0;
        if (ok && star) {
            char head[200];
            snprintf(head, sizeof head, "%.*s", (int)(star - want), want);
            ok = strstr(got, head) != NULL;
        }
        if (!ok)
            TM_FAIL_("%s: got '%s', want '%s'", fixed[i][0], got, want);
    }
    lua_close(L);
}

#if LUA_VERSION_NUM >= 504
/* The driver: deterministic pseudo-random strings and arguments; every call
 * in pcall, every outcome written down. */
static const char driver[] =
    "local seed = 12345\n"
    "local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % n end\n"
    "local interesting = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED,\n"
    "  0xEF, 0xF0, 0xF4, 0xF5, 0xF7, 0xF8, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF, 0xA0, 0x90}\n"
    "local pool = {'', 'abc', 'h\\xC3\\xA9llo', '\\xF0\\x9F\\x98\\x80', '\\xC0\\x80', '\\xED\\xA0\\x80',\n"
    "  '\\xF4\\x90\\x80\\x80', '\\xF8\\x88\\x80\\x80\\x80', '\\xFC\\x84\\x80\\x80\\x80\\x80',\n"
    "  '\\xFD\\xBF\\xBF\\xBF\\xBF\\xBF', '\\xFE', '\\xFF', '\\x80', '\\xE2\\x82', 'a\\0b', '\\xC3\\xA9\\x80',\n"
    "  '\\xE0\\x80\\x80', '\\xF0\\x80\\x80\\x80', '\\xF7\\xBF\\xBF\\xBF', '\\xFB\\xBF\\xBF\\xBF\\xBF'}\n"
    "for _ = 1, 250 do\n"
    "  local b = {}\n"
    "  for k = 1, rnd(9) do\n"
    "    b[k] = rnd(3) == 0 and rnd(256) or interesting[rnd(#interesting) + 1]\n"
    "  end\n"
    "  pool[#pool + 1] = string.char(table.unpack(b))\n"
    "end\n"
    "local pos = {nil, 0, 1, 2, 3, 4, 5, -1, -2, -3, -4, -10, 10, 100, 2^40, -2^40,\n"
    "  math.maxinteger, math.mininteger, 1.5, '2', 'x', 2^63}\n"
    "local npos = 22\n"
    "local out = {}\n"
    "local function show(ok, ...)\n"
    "  local r = {ok and 'ok' or 'err'}\n"
    "  for k = 1, select('#', ...) do\n"
    "    local v = select(k, ...)\n"
    "    r[#r + 1] = type(v) == 'function' and 'function' or tostring(v)\n"
    "  end\n"
    "  out[#out + 1] = table.concat(r, ' ')\n"
    "end\n"
    "for si = 1, #pool do\n"
    "  local s = pool[si]\n"
    "  for a = 1, npos do\n"
    "    for c = 1, npos, 3 do\n"
    "      for _, lax in ipairs({false, true}) do\n"
    "        show(pcall(utf8.len, s, pos[a], pos[c], lax))\n"
    "        show(pcall(utf8.codepoint, s, pos[a], pos[c], lax))\n"
    "      end\n"
    "      show(pcall(utf8.offset, s, pos[a], pos[c]))\n"
    "    end\n"
    "    show(pcall(utf8.len, s, pos[a]))\n"
    "    show(pcall(utf8.codepoint, s, pos[a]))\n"
    "    show(pcall(utf8.offset, s, pos[a]))\n"
    "    local f, st = utf8.codes(s, a % 2 == 0)\n"
    "    show(pcall(f, st, pos[a]))\n"
    "  end\n"
    "  for _, lax in ipairs({false, true}) do\n"
    "    show(pcall(function() local t = {} for p, c in utf8.codes(s, lax) do t[#t + 1] = p .. '=' .. c end\n"
    "      return table.concat(t, ',') end))\n"
    "  end\n"
    "end\n"
    "local codes = {0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF, 0x110000, 0x1FFFFF,\n"
    "  0x200000, 0x3FFFFFF, 0x4000000, 0x7FFFFFFF, 0x80000000, -1, 1.5, '65', 'x', math.maxinteger,\n"
    "  math.mininteger, 2^53}\n"
    "for a = 1, #codes do\n"
    "  show(pcall(utf8.char, codes[a]))\n"
    "  for c = 1, #codes do show(pcall(utf8.char, codes[a], codes[c], 66)) end\n"
    "end\n"
    "show(pcall(utf8.char))\n"
    "show(pcall(utf8.len))\n"
    "show(pcall(utf8.codes))\n"
    "show(pcall(utf8.codes, {}))\n"
    "show(pcall(utf8.offset, 'abc'))\n"
    "out[#out + 1] = utf8.charpattern\n"
    "return table.concat(out, '\\n')\n";

TEST(same_as_stock_lua_5_4)
{
    lua_State *stock = new_state(0), *ours = new_state(1);
    const char *a = run(stock, driver);
    char *want = strdup(a);
    const char *got = run(ours, driver);
    if (strcmp(want, got) != 0) {
        /* Show the first line that differs. */
        const char *p = want, *q = got;
        int line = 1;
        while (*p && *p == *q) {
            if (*p == '\n')
                line++;
            p++, q++;
        }
        while (p > want && p[-1] != '\n')
            p--, q--;
        TM_FAIL_("line %d differs:\n  stock: %.200s\n  ours:  %.200s", line, p, q);
    }
    size_t lines = 1;
    for (const char *p = want; *p; p++)
        lines += *p == '\n';
    ASSERT(lines > 100000); /* the comparison covered what it says */
    free(want);
    lua_close(stock);
    lua_close(ours);
}
#endif
