-- hostile: swallow the memory error of a 1 GB rep (below any fixed size cap) with pcall
-- expect: limit memory
-- defence: capped lua_Alloc (per state), reported as the memory limit; sticky limit
local ok = pcall(string.rep, "x", 1e9)
return ok, "survived"
