-- hostile: a script using utf8 (strategies.md lists it) failed on the LuaJIT build, where it was missing
-- expect: ok
-- output: 5\n"104,233,108,108,111"\n"1:104 2:233 4:108 5:108 6:111"\n5\ntrue\n3\n"héllo"
-- defence: the sandbox's own utf8 library on LuaJIT, checked against Lua 5.4's (tests/sandbox/test_utf8.c)
local s = "h\xC3\xA9llo"
local cps, pos = {}, {}
for p, c in utf8.codes(s) do pos[#pos + 1] = p .. ":" .. c end
for _, c in ipairs({utf8.codepoint(s, 1, -1)}) do cps[#cps + 1] = c end
local _, chars = s:gsub(utf8.charpattern, "")
return utf8.len(s), table.concat(cps, ","), table.concat(pos, " "), chars, utf8.len("ab\xFFc") == nil, select(2, utf8.len("ab\xFFc")),
  utf8.char(104, 233, 108, 108, 111)
