#!/bin/sh
# tests/e2e/test_eval.sh: `tallyman eval`, --help and --version, as in CONTRACT.md.
. "$(dirname "$0")/lib.sh"
T="$TM_BIN"
D="$E2E_TMP"
w() { printf '%s' "$2" >"$D/$1"; }

# Command line basics.
expect_run "version" 0 "*" "" -- "$T" --version
expect_run "help" 0 "*" "" -- "$T" --help
expect_run "no command is usage" 2 "" "usage:" -- "$T"
expect_run "unknown command" 2 "" "unknown command 'frobnicate'" -- "$T" frobnicate
expect_run "eval help" 0 "*" "" -- "$T" eval --help
expect_run "eval without file" 2 "" "eval needs a FILE" -- "$T" eval
expect_run "eval bad limit" 2 "" "positive whole number" -- "$T" eval --mem-limit lots x.lua
expect_run "eval unknown option" 2 "" "unknown option" -- "$T" eval --frob x.lua

# Values, one JSON line each.
w values.lua 'return 1, -2, 2.5, "h\"i\n", true, false, nil, {1, 2, 3}, {b = 1, a = {x = "y"}}, {}, 1e300'
expect_run "values" 0 '1
-2
2.5
"h\"i\n"
true
false
null
[1,2,3]
{"a":{"x":"y"},"b":1}
{}
1e+300' "" -- "$T" eval "$D/values.lua"
# Lua 5.4 tells integers from floats; LuaJIT has only doubles.
w floats.lua 'return 3.0, math.maxinteger'
if "$T" --version | grep -q LuaJIT; then
    expect_run "floats (LuaJIT)" 0 "*" "" -- "$T" eval "$D/floats.lua"
else
    expect_run "floats" 0 '3.0
9223372036854775807' "" -- "$T" eval "$D/floats.lua"
fi
w mixed.lua 'return {1, 2, x = 3}, {[1] = "a", [3] = "c"}, "héllo ☃"'
expect_run "mixed tables become objects" 0 '{"1":1,"2":2,"x":3}
{"1":"a","3":"c"}
"héllo ☃"' "" -- "$T" eval "$D/mixed.lua"
w empty.lua ''
expect_run "empty file returns nothing" 0 "" "" -- "$T" eval "$D/empty.lua"
w nothing.lua 'local x = 1'
expect_run "no return prints nothing" 0 "" "" -- "$T" eval "$D/nothing.lua"
printf '#!/usr/bin/env tallyman\nreturn 7\n' >"$D/shebang.lua"
expect_run "shebang line skipped" 0 "7" "" -- "$T" eval "$D/shebang.lua"
printf '\357\273\277return 8\n' >"$D/bom.lua"
expect_run "UTF-8 BOM accepted" 0 "8" "" -- "$T" eval "$D/bom.lua"

w raw.lua 'return "a,b\n1,2", {x = 1}'
expect_run "raw strings" 0 'a,b
1,2
{"x":1}' "" -- "$T" eval --raw "$D/raw.lua"

# Errors: one line, FILE:LINE: message.
w err.lua 'local a = 1
error("went wrong")'
expect_run "runtime error" 1 "" "$D/err.lua:2: went wrong" -- "$T" eval "$D/err.lua"
w syn.lua 'local x =
= 2'
expect_run "syntax error" 1 "" "$D/syn.lua:2:" -- "$T" eval "$D/syn.lua"
expect_run "missing file" 1 "" "$D/none.lua: cannot read the file" -- "$T" eval "$D/none.lua"
printf '\033Lua\124\000' >"$D/bin.lua"
expect_run "binary chunk" 1 "" "binary chunks are not allowed" -- "$T" eval "$D/bin.lua"
printf 'return 1\n-- caf\351\n' >"$D/latin1.lua"
expect_run "not UTF-8" 1 "" "$D/latin1.lua:2: the file is not valid UTF-8" -- "$T" eval "$D/latin1.lua"
w fn.lua 'return 1, function() end'
expect_run "function result" 1 "" "result 2: cannot print a function value" -- "$T" eval "$D/fn.lua"
w cyc.lua 'local t = {} t[1] = t return t'
expect_run "cyclic result" 1 "" "cannot print a cyclic table" -- "$T" eval "$D/cyc.lua"
w tabobj.lua 'error({code = 1})'
expect_run "table error object" 1 "" "error object is a table value" -- "$T" eval "$D/tabobj.lua"

# Limits, with their exact messages.
w loop.lua 'while true do end'
expect_run "instruction limit" 1 "" "$D/loop.lua: instruction limit exceeded" -- "$T" eval "$D/loop.lua"
expect_run "time limit" 1 "" "$D/loop.lua: time limit exceeded" -- "$T" eval --instr-limit 100000000000 --time-limit 300 "$D/loop.lua"
w mem.lua 'local t = {} for i = 1, 1e9 do t[i] = {i} end'
expect_run "memory limit" 1 "" "$D/mem.lua: memory limit exceeded" -- "$T" eval --mem-limit 8000000 "$D/mem.lua"
w small.lua 'local s = 0 for i = 1, 100 do s = s + i end return s'
expect_run "small instruction limit" 1 "" "instruction limit exceeded" -- "$T" eval --instr-limit 50 "$D/small.lua"
expect_run "within limits" 0 "5050" "" -- "$T" eval --instr-limit 100000 "$D/small.lua"
w swallow.lua 'local n = 0 while true do n = n + 1 pcall(function() while true do end end) end'
expect_run "pcall cannot swallow a limit" 1 "" "instruction limit exceeded" -- "$T" eval "$D/swallow.lua"

# The sandbox surface.
w surface.lua 'return io == nil, os == nil, debug == nil, package == nil, dofile == nil, loadfile == nil, collectgarbage == nil, string.dump == nil, rawset == nil'
expect_run "forbidden globals absent" 0 'true
true
true
true
true
true
true
true
true' "" -- "$T" eval "$D/surface.lua"
# Every name strategies.md lists, on every build (the LuaJIT build lacked
# utf8, rawlen and table.pack).
w listed.lua 'local missing = {}
for _, n in ipairs({"assert", "error", "ipairs", "next", "pairs", "select", "tonumber", "tostring",
    "type", "getmetatable", "setmetatable", "rawequal", "rawget", "rawlen", "pcall", "xpcall",
    "load", "require", "string", "table", "math", "utf8", "coroutine", "tm"}) do
  if _G[n] == nil then missing[#missing + 1] = n end
end
for _, n in ipairs({"char", "charpattern", "codepoint", "codes", "len", "offset"}) do
  if not utf8 or utf8[n] == nil then missing[#missing + 1] = "utf8." .. n end
end
for _, n in ipairs({"concat", "insert", "move", "pack", "remove", "sort", "unpack"}) do
  if table[n] == nil then missing[#missing + 1] = "table." .. n end
end
for _, n in ipairs({"foreach", "foreachi", "getn", "maxn"}) do
  if table[n] ~= nil then missing[#missing + 1] = "extra table." .. n end
end
return table.concat(missing, " ")'
expect_run "every listed name is there, nothing more in table" 0 '""' "" -- "$T" eval "$D/listed.lua"
w repwrap.lua 'return #string.rep("x", 2^31)'
expect_run "string.rep with a count of 2^31 is refused, not wrapped" 1 "" "resulting string too large" -- "$T" eval "$D/repwrap.lua"
w utf8use.lua 'local n = 0 for _, c in utf8.codes("h\195\169") do n = n + c end return utf8.len("h\195\169"), n, utf8.char(0x20AC)'
expect_run "utf8 works" 0 '2
337
"€"' "" -- "$T" eval "$D/utf8use.lua"
w ro.lua 'table.insert = nil'
expect_run "shared tables read-only" 1 "" "read-only table 'table'" -- "$T" eval "$D/ro.lua"
w own.lua 'counter = 41 counter = counter + 1 return counter'
expect_run "own globals allowed" 0 "42" "" -- "$T" eval "$D/own.lua"

# tm.time refuses what it cannot answer exactly: a date past 0000-9999 is an
# error, not "" (which a script would take for a date), and a string with a
# NUL byte is refused rather than read up to the NUL.
w past9999.lua 'return tm.time.add_days("9999-12-31", 1)'
expect_run "add_days past 9999-12-31 raises" 1 "" "(the resulting date is out of range: year 10000" -- "$T" eval "$D/past9999.lua"
w before0000.lua 'return tm.time.add_days("0000-01-01", -1)'
expect_run "add_days before 0000-01-01 raises" 1 "" "the resulting date is out of range: year -1" -- "$T" eval "$D/before0000.lua"
w edge.lua 'return tm.time.add_days("9999-12-30", 1), tm.time.add_days("0000-01-02", -1)'
expect_run "add_days up to the edges still answers" 0 '"9999-12-31"
"0000-01-01"' "" -- "$T" eval "$D/edge.lua"
w farlocal.lua 'return tm.time.local_time("UTC", 1e12).date'
expect_run "local_time past year 9999 raises" 1 "" "bad argument #2" -- "$T" eval "$D/farlocal.lua"
printf 'return tm.time.parse("2026-01-01T00:00:00Z\\0junk")' >"$D/nul.lua"
expect_run "parse refuses a NUL and more after the Z" 1 "" "(contains a NUL byte (at byte 21))" -- "$T" eval "$D/nul.lua"
printf 'return tm.time.add_days("2026-01-01\\0", 1)' >"$D/nuldate.lua"
expect_run "a date with a NUL is refused" 1 "" "contains a NUL byte" -- "$T" eval "$D/nuldate.lua"
printf 'return tm.time.local_time("UTC\\0x", 0)' >"$D/nulzone.lua"
expect_run "a zone with a NUL is refused" 1 "" "contains a NUL byte" -- "$T" eval "$D/nulzone.lua"
w hmjunk.lua 'local t = tm.time.from_local("UTC", "2026-01-01", "09:00x") return t'
expect_run "from_local refuses junk after HH:MM" 1 "" "hmjunk.lua:1: bad argument #3 to 'tm.time.from_local' (HH:MM or HH:MM:SS expected, got '09:00x')" -- "$T" eval "$D/hmjunk.lua"
w which.lua 'local t = tm.time.from_local("UTC", "2026-01-01", "09:00", "latre") return t'
expect_run "from_local refuses an unknown choice" 1 "" "which.lua:1: bad argument #4 to 'tm.time.from_local' (\"earlier\" or \"later\" expected, got 'latre')" -- "$T" eval "$D/which.lua"
w hms.lua 'return tm.time.from_local("UTC", "2026-01-01", "09:00:30"), tm.time.from_local("UTC", "2026-01-01", "09:00", "later")'
expect_run "from_local reads HH:MM:SS and HH:MM" 0 '1767258030
1767258000' "" -- "$T" eval "$D/hms.lua"

# require reads the script tree given by --scripts.
mkdir -p "$D/tree/lib"
w tree/lib/util.lua 'local M = {} function M.double(x) return 2 * x end return M'
w usereq.lua 'return require("lib.util").double(21)'
expect_run "require from the tree" 0 "42" "" -- "$T" eval --scripts "$D/tree" "$D/usereq.lua"
w badreq.lua 'return require("lib.missing")'
expect_run "require missing" 1 "" "module 'lib.missing' not found" -- "$T" eval --scripts "$D/tree" "$D/badreq.lua"

finish
