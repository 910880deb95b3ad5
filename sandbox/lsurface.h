/*
 * sandbox/lsurface.h: one library surface for scripts, whatever Lua the
 * engine is built on. strategies.md promises Lua 5.4's standard functions;
 * a LuaJIT 2.1 build lacks some of them and reads integer arguments
 * differently (a count of 2^31 wraps to a negative number, 2.5 is cut to 2),
 * so a script that works on one build could fail, or silently answer
 * otherwise, on the other.
 */
#ifndef TM_LSURFACE_H
#define TM_LSURFACE_H

#include <lua.h>

#include "lpattern.h"

/* Aligns the stock libraries held in the table at stack index `globals`
 * (the state's real globals, before the sandbox copies and wraps them) with
 * Lua 5.4's, so scripts see the same functions and the same errors on every
 * build. On Lua 5.4 it does nothing. On LuaJIT it
 *   - adds `utf8` (sandbox/lutf8.h), `rawlen` and `table.pack`, and removes
 *     the Lua 5.0 leftovers table.foreach, foreachi, getn and maxn;
 *   - checks the integer arguments of string.sub, byte, char and format,
 *     table.concat, insert, remove, move, unpack, select and math.random as
 *     5.4 does ("number has no integer representation" for 2.5 or 2^63,
 *     5.4's range errors), and gives positions beyond LuaJIT's 32-bit
 *     reach the meaning 5.4 gives them instead of letting them wrap.
 * string.rep is checked by the sandbox's charged wrapper on both builds.
 * The few loops it runs in C report their steps to `tick` (may be NULL) as
 * the pattern matcher does. Stack unchanged. Call once, at state creation
 * (it may raise only on out of memory). */
void tm_surface_align(lua_State *L, int globals, tm_pattern_tick_fn tick, void *ud);

#endif
