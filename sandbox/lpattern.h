/*
 * sandbox/lpattern.h: Lua 5.4 pattern matching (find, match, gmatch, gsub) with a step budget.
 *
 * The stock matcher runs entirely in C where no Lua hook can interrupt it, so a hostile pattern
 * can stall a worker for minutes; these replacements report their work to a tick callback instead.
 */
#ifndef TM_LPATTERN_H
#define TM_LPATTERN_H

#include <lua.h>

/* The matcher reports its work to the tick callback once per this many steps. */
#define TM_PATTERN_TICK 1024

/* Called by the matcher every TM_PATTERN_TICK (1024) matching steps with the number of steps
 * done since the last call. It may raise a Lua error (lua_error/luaL_error) to abort the match;
 * the matcher holds no malloc'd resources, so the longjmp is safe. */
typedef void (*tm_pattern_tick_fn)(lua_State *L, void *ud, unsigned steps);

/* Replaces find, match, gmatch and gsub in the table at stack index `strtab` with budgeted
 * versions that call `tick(L, ud, steps)`. tick may be NULL (no budget). Stack unchanged. */
void tm_pattern_open(lua_State *L, int strtab, tm_pattern_tick_fn tick, void *ud);

#endif
