/*
 * sandbox/lutf8.h: the `utf8` library of Lua 5.4 (char, charpattern, codes,
 * codepoint, len, offset) written for the sandbox, so that a build on a Lua
 * without one (LuaJIT 2.1) offers scripts the same functions, results and
 * error messages. The Lua 5.4 build keeps the stock library; this one is
 * checked against it (tests/sandbox/test_utf8.c).
 */
#ifndef TM_LUTF8_H
#define TM_LUTF8_H

#include <lua.h>

/* Pushes a new table with the utf8 functions and `charpattern`, in the
 * luaopen_ style (returns 1). Integer arguments follow Lua 5.4: a number
 * with no integer representation (2.5, 2^63) is refused on every build. */
int tm_lutf8_open(lua_State *L);

#endif
