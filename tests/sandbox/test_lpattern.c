/*
 * tests/unit/test_lpattern.c: the budgeted pattern matcher (sandbox/lpattern.c).
 *
 * Semantics are checked against the stock Lua 5.4 library on a large corpus (and, under LuaJIT,
 * whose stock library has 5.1 semantics, against a digest of that corpus and a table of expected
 * values); the budget and depth tests check that hostile patterns are stopped, not run.
 */
#include "harness.h"

#include "lpattern.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <time.h>

/* Lua sources for the corpus tests, kept as C strings so the test is a single file. */

static const char CORPUS_LUA[] =
    "-- The differential corpus: returns a function that runs about 200000 calls through a\n"
    "-- library table (stock `string` or `pat`) and returns one line per call, 'name(args)\n"
    "-- result #n', where n counts replacement-function calls so far. A result is R: plus the\n"
    "-- values (strings quoted and escaped, other values as type:value) or E: plus the error\n"
    "-- message without its position prefix and function name.\n"
    "local unpack = table.unpack or unpack\n"
    "local function esc(s)\n"
    "  s = s:gsub('\\\\', '\\\\\\\\')\n"
    "  return (s:gsub('[^ -~]', function(c) return ('\\\\%03d'):format(c:byte()) end))\n"
    "end\n"
    "local function ser(v)\n"
    "  if type(v) == 'string' then return '\"' .. esc(v) .. '\"' end\n"
    "  if type(v) ~= 'number' and type(v) ~= 'boolean' and type(v) ~= 'nil' then\n"
    "    return type(v)\n"
    "  end\n"
    "  return type(v):sub(1, 1) .. ':' .. tostring(v)\n"
    "end\n"
    "local function norm(e)\n"
    "  e = tostring(e):gsub('^[^:\\n]*:%d+: ', '')\n"
    "  return (e:gsub(\"to '[^']*'\", \"to '?'\"))\n"
    "end\n"
    "local function res(ok, ...)\n"
    "  if not ok then return 'E:' .. esc(norm((...))) end\n"
    "  local t, a = {}, {...}\n"
    "  for i = 1, select('#', ...) do t[i] = ser(a[i]) end\n"
    "  return 'R:' .. table.concat(t, ',')\n"
    "end\n"
    "local function argstr(n, ...)\n"
    "  local t, a = {}, {...}\n"
    "  for i = 1, n do\n"
    "    local v = a[i]\n"
    "    -- Labels print integral numbers alike in 5.4 (float or integer) and LuaJIT.\n"
    "    if type(v) == 'number' and v == math.floor(v) then\n"
    "      t[i] = ('n:%.0f'):format(v)\n"
    "    else\n"
    "      t[i] = ser(v)\n"
    "    end\n"
    "  end\n"
    "  return table.concat(t, ', ')\n"
    "end\n"
    "\n"
    "local calls\n"
    "local function frep(...)\n"
    "  local t = {}\n"
    "  for i = 1, select('#', ...) do\n"
    "    local v = select(i, ...)\n"
    "    t[i] = type(v):sub(1, 1) .. tostring(v)\n"
    "  end\n"
    "  calls = calls + 1\n"
    "  return '{' .. table.concat(t, ',') .. '}'\n"
    "end\n"
    "local function fnil() calls = calls + 1 end\n"
    "local function ffalse() calls = calls + 1; return false end\n"
    "local function fnum() calls = calls + 1; return 7 end\n"
    "local function fodd(x)\n"
    "  calls = calls + 1\n"
    "  if calls % 2 == 1 then return '<' .. tostring(x) .. '>' end\n"
    "end\n"
    "local function ferr() error('boom') end\n"
    "local function ftab() return {} end\n"
    "local tab = {a = 'A', b = false, l = 'ELL', hello = 'HI', [1] = 'one', [2] = 22,\n"
    "             x = {}, y = true, ['1'] = 'strone', [' '] = '_', [''] = 'empty'}\n"
    "local named = {[frep] = 'frep', [fnil] = 'fnil', [ffalse] = 'ffalse', [fnum] = 'fnum',\n"
    "               [fodd] = 'fodd', [ferr] = 'ferr', [ftab] = 'ftab', [tab] = 'tab'}\n"
    "\n"
    "local S = {\n"
    "  '', 'a', 'ab', 'abc', 'aaa', 'aaab', 'hello world', '  x = 10, y = 20  ',\n"
    "  'a.b-c+d*e?f', 'THE (quick) [brown] {fox}', 'f(a(b)c)d(e', 'x\\0y\\0z', '\\0', '\\0\\0a',\n"
    "  'abc123def456', 'one two  three   ', '\\t\\n\\r x\\1\\2\\127',\n"
    "  'caf\\195\\169 \\255\\128 \\200',\n"
    "  '[[x]]%', '%a%b%%', 'a,b,,c,', 'key=val; k2=v2;k3 = v3', '<<a>><b>', 'ab ab ab',\n"
    "  '$^$', '-+-*?', 'mIxEd CaSe 09 AF af gG', \"''\\\"\\\"\", 'x', '(a)(b)', ']-^[',\n"
    "}\n"
    "\n"
    "local P = {\n"
    "  '', 'a', 'b', 'ab', 'abc', 'x', 'z', '.', '..', '...', 'a.', '.b', '\\0', 'x\\0y', 'a\\0',\n"
    "  '%a', '%A', '%c', '%C', '%d', '%D', '%g', '%G', '%l', '%L', '%p', '%P', '%s', '%S', '%u',\n"
    "  '%U', '%w', '%W', '%x', '%X', '%z', '%Z', '%.', '%%', '%-', '%]', '%q', '%Q', '%\\0',\n"
    "  '%^',\n"
    "  '%a+', '%a*', '%a-', '%a?', '%d+', '%s+', '%S+', '%w+', '%p+', '%l+%u', '[%a%d]+',\n"
    "  'a*', 'a+', 'a-', 'a?', 'a-b', 'a*b', 'a+b', 'a?b', '.-', '.*', '.+', '.?', '.-b', '.*b',\n"
    "  'a.-b', 'a.*b', '.-.-', '(.-)%s', '(.*)%s', '%s*(.-)%s*$', '^%s*(.-)%s*$', '(%w+)=(%w+)',\n"
    "  '^a', '^b', '^', '^$', '$', 'a$', '^a$', '^.-$', '$a', 'a$b', '^^', '^^a', '%$', 'a^',\n"
    "  '^*',\n"
    "  '^%a+', '^(%a+)', '^()', '()$', '$$', 'a$$',\n"
    "  '[abc]', '[abc]+', '[^abc]', '[^abc]+', '[a-c]', '[a-]', '[-a]', '[]]', '[^]]', '[]a]',\n"
    "  '[^]a]', '[%a]', '[%A]', '[%]]', '[%%]', '[a%-z]', '[a-%%]', '[%w_]+', '[^%s]+',\n"
    "  '[\\0-\\31]',\n"
    "  '[\\128-\\255]+', '[z-a]', '[.]', '[%.]', '[a-z%d]+', '[^%a%s]', '[[]', '[]', '[^]', '[a',\n"
    "  '[^', '[%', '[a%', '[%]', '[a-', '[]-a]', '[^-]', '[%a-z]', '[a-%a]', '[\\0]', '[^\\0]+',\n"
    "  '()', '(a)', '(a)(b)', '(a(b)c)', '()a()', '(%a+)', '(%a*)', '((a)(b))', '(a*(.)%w(%s*))',\n"
    "  '(.)%1', '(%a+)%s*%1', '(a)%1', '()%1', '(()a)', '(a)%2', '%1', '%0', '(a%0)', '(a%1)',\n"
    "  '(', '(a', ')', 'a)', '(()', '(a))', '((a)', '%)', '%(', '(%(%))', '(a)()(b)', '(x?)',\n"
    "  '%bxy', '%b()', '%b[]', '%b{}', \"%b''\", '%b\"\"', '%b<>', '%b', '%b(', '(%b())',\n"
    "  '%b()%b()',\n"
    "  '%b))', '%b()+', '%b\\0\\0',\n"
    "  '%f[%w]', '%f[%W]', '%f[%a]%a+', '%f[%w]%w+%f[%W]', '%f[%z]', '%f[\\0]', '%f[^\\0]',\n"
    "  '%f[%s]',\n"
    "  '%f[a]', '%f[^a]', '%f', '%fa', '%f[a', '%f[]', '%f[]]', '%f[%w]*', '%f[%l]%u',\n"
    "  '%', 'a%', '%a%', 'x%', '%b()%',\n"
    "  '-', '*', '+', '?', 'a**', 'a+-', 'a-?', '.-.-.-.-b$', 'a?a?a?aaa', '(a?)(b?)',\n"
    "  '(h)(e)(l)(l)(o)', '(%s*)', '(%S*)', '(%d+)(%a+)', '[%d%.]+', '%[(.-)%]', '%((.-)%)',\n"
    "  '=%s*(%w+)', '(%w+)%s*=%s*(%w+)', '([^,]*)', '([^,]*),?', ',', ',,', '[^;]+', '%s*;%s*',\n"
    "}\n"
    "\n"
    "local R = {'-', '', '<%0>', '%1', '[%1|%2]', '%%', '%', '%x', '%9', 'a%', '%0%0%1', 5,\n"
    "           tab, frep, fnil, ffalse, fnum, fodd, ferr, ftab}\n"
    "local N = {false, 0, 1, 2, -1}\n"
    "local INITS = {false, 2, -3, 0, -100}\n"
    "\n"
    "return function(L, extra_cases)\n"
    "  local out = {}\n"
    "  calls = 0\n"
    "  local function rec(fname, n, ...)\n"
    "    local r\n"
    "    if fname == 'gmatch' then\n"
    "      local ok, it = pcall(L.gmatch, ...)\n"
    "      if not ok then\n"
    "        r = 'E:' .. esc(norm(it))\n"
    "      else\n"
    "        local parts = {}\n"
    "        for _ = 1, 80 do\n"
    "          local x = res(pcall(it))\n"
    "          parts[#parts + 1] = x\n"
    "          if x == 'R:' or x:sub(1, 2) == 'E:' then break end\n"
    "        end\n"
    "        r = table.concat(parts, ' | ')\n"
    "      end\n"
    "    else\n"
    "      r = res(pcall(L[fname], ...))\n"
    "    end\n"
    "    local a = {...}\n"
    "    for i = 1, n do if named[a[i]] then a[i] = named[a[i]] end end\n"
    "    out[#out + 1] = fname .. '(' .. argstr(n, unpack(a, 1, n)) .. ') ' .. r .. ' #' .. calls\n"
    "  end\n"
    "\n"
    "  if extra_cases then\n"
    "    extra_cases(rec)\n"
    "    return out\n"
    "  end\n"
    "  -- Every subject against every pattern, through all four functions.\n"
    "  for _, s in ipairs(S) do\n"
    "    for _, p in ipairs(P) do\n"
    "      rec('find', 2, s, p)\n"
    "      for _, i in ipairs(INITS) do if i then rec('find', 3, s, p, i) end end\n"
    "      rec('find', 3, s, p, #s)\n"
    "      rec('find', 3, s, p, #s + 1)\n"
    "      rec('find', 3, s, p, #s + 2)\n"
    "      rec('find', 4, s, p, 1, true)\n"
    "      rec('find', 4, s, p, -2, true)\n"
    "      rec('match', 2, s, p)\n"
    "      rec('match', 3, s, p, 3)\n"
    "      rec('match', 3, s, p, -1)\n"
    "      rec('match', 3, s, p, #s + 1)\n"
    "      rec('gmatch', 2, s, p)\n"
    "      rec('gmatch', 3, s, p, 3)\n"
    "      rec('gmatch', 3, s, p, -2)\n"
    "      rec('gmatch', 3, s, p, #s + 1)\n"
    "      rec('gmatch', 3, s, p, #s + 7)\n"
    "      rec('gsub', 3, s, p, '<%0>')\n"
    "      rec('gsub', 3, s, p, frep)\n"
    "      rec('gsub', 4, s, p, tab, 3)\n"
    "    end\n"
    "  end\n"
    "  -- Replacement kinds and limits on a few subjects and capture-heavy patterns.\n"
    "  local S2 = {'', 'abc', 'hello world', 'a,b,,c,', 'x\\0y', '  x = 10, y = 20  ', 'l1l2'}\n"
    "  local P2 = {'', '%w', '%w+', '(%w)(%w)', '(%w+)', '()', '()(%w)', '(%w)()', '%s*', 'x*',\n"
    "              '^%w', '^', '(', '%w)', '[', '%f[%w]', '(l)(%d)', '.-', '$', '^(.)'}\n"
    "  for _, s in ipairs(S2) do\n"
    "    for _, p in ipairs(P2) do\n"
    "      for _, r in ipairs(R) do\n"
    "        for _, n in ipairs(N) do\n"
    "          if n then rec('gsub', 4, s, p, r, n) else rec('gsub', 3, s, p, r) end\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  -- Limits: nesting depth and capture count, at and around the boundaries.\n"
    "  for k = 196, 204 do\n"
    "    rec('find', 2, ('a'):rep(k), ('a?'):rep(k))\n"
    "    rec('match', 2, ('a'):rep(k), '(a)' .. ('a-'):rep(k))\n"
    "  end\n"
    "  for k = 30, 34 do\n"
    "    rec('find', 2, ('a'):rep(40), ('()'):rep(k))\n"
    "    rec('match', 2, ('a'):rep(40), ('(a)'):rep(k))\n"
    "    rec('gsub', 3, ('a'):rep(40), ('(a)'):rep(k), '%9')\n"
    "    rec('match', 2, 'x', ('('):rep(k) .. 'x' .. (')'):rep(k))\n"
    "  end\n"
    "  rec('match', 2, ('a'):rep(5000), ('a'):rep(5000))\n"
    "  rec('match', 2, ('ab'):rep(3000), ('%a'):rep(6000) .. '$')\n"
    "  rec('find', 2, ('a'):rep(3000) .. 'b', ('a'):rep(2000) .. 'b')\n"
    "  rec('find', 4, ('a'):rep(3000) .. 'b', ('a'):rep(2000) .. 'b', 1, true)\n"
    "  rec('find', 3, 'abc', 'b', 2 ^ 40)\n"
    "  rec('find', 3, 'abc', 'b', -2 ^ 40)\n"
    "  rec('gmatch', 3, 'abc', '.', 2 ^ 40)\n"
    "  rec('gmatch', 3, 'abc', '.', -2 ^ 40)\n"
    "  rec('gsub', 3, 123, 'x', 'y')\n"
    "  rec('gsub', 3, 123, '2', 'y')\n"
    "  rec('gsub', 3, 123, '2', fnil)\n"
    "  rec('gsub', 3, 12.5, '%.', ',')\n"
    "  rec('find', 2, 12345, 34)\n"
    "  rec('match', 2, 12345, 3)\n"
    "  rec('gmatch', 2, 1010, 1)\n"
    "  rec('gsub', 3, 'abc', '%w', '%1%0')\n"
    "  rec('gsub', 3, 'abc', '(%w)', 9)\n"
    "  rec('gsub', 4, 'abc', '%w', 'x', 1.0)\n"
    "  rec('gsub', 4, 'abc', '%w', 'x', -2 ^ 40)\n"
    "  rec('gsub', 4, 'abc', '%w', 'x', 2 ^ 40)\n"
    "  rec('gsub', 3, 'abc', '%w', {})\n"
    "  rec('gsub', 3, 'abc', '()', {[1] = 'one', [2] = false, [4] = 'four'})\n"
    "  rec('gsub', 3, 'hello world', '%w+', '%0 %0', 1)\n"
    "  rec('gsub', 3, 'abc', '', '-')\n"
    "  rec('gsub', 3, 'abc', '%w*', '-')\n"
    "  rec('gsub', 3, 'abc d', '%w*', '-')\n"
    "  rec('gsub', 3, 'hello world', 'o*', '-')\n"
    "  rec('gsub', 3, 'abc', 'b*', '-')\n"
    "  rec('gsub', 3, 'abc', '$', '!')\n"
    "  rec('gsub', 3, 'abc', '^', '!')\n"
    "  rec('gsub', 3, 'abc', '^%w', '!')\n"
    "\n"
    "  -- Random patterns over a small alphabet: mostly broken in odd places, which exercises the\n"
    "  -- lazy reporting of malformed patterns and the backtracking order.\n"
    "  local seed = 12345\n"
    "  local function rnd(n)\n"
    "    seed = (seed * 16807) % 2147483647\n"
    "    return seed % n + 1\n"
    "  end\n"
    "  local TOK = {'a', 'b', '.', '%a', '%d', '%s', '[ab]', '[^a]', '[a-c]', '%w', '(', ')',\n"
    "               '()', '%1', '%2', '%b()', '%f[%w]', '%f[%s]', '*', '+', '-', '?', '^', '$',\n"
    "               '%', '[', ']', ' ', '1', 'x', '%x', '[%d]'}\n"
    "  local CH = {'a', 'b', ' ', '(', ')', '1', 'x', 'a', 'b'}\n"
    "  for _ = 1, 4000 do\n"
    "    local pt, st = {}, {}\n"
    "    for k = 1, rnd(8) do pt[k] = TOK[rnd(#TOK)] end\n"
    "    for k = 1, rnd(13) - 1 do st[k] = CH[rnd(#CH)] end\n"
    "    local p, s = table.concat(pt), table.concat(st)\n"
    "    rec('find', 2, s, p)\n"
    "    rec('find', 3, s, p, rnd(#s + 3) - 2)\n"
    "    rec('match', 2, s, p)\n"
    "    rec('gmatch', 2, s, p)\n"
    "    rec('gsub', 3, s, p, '<%0>')\n"
    "    rec('gsub', 3, s, p, frep)\n"
    "  end\n"
    "  return out\n"
    "end\n";

static const char EXPECT_LUA[] =
    "-- Hand-checked expectations: Lua 5.4 semantics, one feature or corner per line.\n"
    "local function A(...) return {n = select('#', ...), ...} end\n"
    "local function esc(s)\n"
    "  s = s:gsub('\\\\', '\\\\\\\\')\n"
    "  return (s:gsub('[^ -~]', function(c) return ('\\\\%03d'):format(c:byte()) end))\n"
    "end\n"
    "local function show(ok, ...)\n"
    "  if not ok then\n"
    "    return 'error: ' .. tostring((...)):gsub('^[^:\\n]*:%d+: ', '')\n"
    "  end\n"
    "  local t = {}\n"
    "  for i = 1, select('#', ...) do\n"
    "    local v = select(i, ...)\n"
    "    t[i] = type(v) == 'string' and '\"' .. esc(v) .. '\"' or tostring(v)\n"
    "  end\n"
    "  return table.concat(t, ' ')\n"
    "end\n"
    "local function upper_index(_, k) return k:upper() end\n"
    "local CASES = {\n"
    "  {'find', A('hello world', 'o w'), '5 7'},\n"
    "  {'find', A('hello world', 'o', 6), '8 8'},\n"
    "  {'find', A('hello world', 'l', -3), '10 10'},\n"
    "  {'find', A('hello', '', 10), 'nil'},\n"
    "  {'find', A('hello', '', 6), '6 5'},\n"
    "  {'find', A('hello', '', -100), '1 0'},\n"
    "  {'find', A('a.b', '.', 1, true), '2 2'},\n"
    "  {'find', A('a.b', '.'), '1 1'},\n"
    "  {'find', A('a+b', '+', 1, true), '2 2'},\n"
    "  {'find', A('a)b', ')'), '2 2'},\n"
    "  {'find', A('key = val', '(%w+)%s*=%s*(%w+)'), '1 9 \"key\" \"val\"'},\n"
    "  {'find', A('abc', '()b()'), '2 2 2 3'},\n"
    "  {'find', A('x\\0y', '%z'), '2 2'},\n"
    "  {'find', A('x\\0y', '\\0y'), '2 3'},\n"
    "  {'find', A('x\\0y', '[\\0]'), '2 2'},\n"
    "  {'find', A('abc', '^b'), 'nil'},\n"
    "  {'find', A('abc', '^b', 2), '2 2'},\n"
    "  {'find', A('abc', 'c$'), '3 3'},\n"
    "  {'find', A('a$c', '$c'), '2 3'},\n"
    "  {'find', A('a^c', 'a^'), '1 2'},\n"
    "  {'find', A('tab\\there', '%c'), '4 4'},\n"
    "  {'find', A('a b', '%g+', 2), '3 3'},\n"
    "  {'find', A('AbC', '%l'), '2 2'},\n"
    "  {'find', A('abC', '%u'), '3 3'},\n"
    "  {'find', A('x1F', '%x+'), '2 3'},\n"
    "  {'find', A('a,b', '%p'), '2 2'},\n"
    "  {'find', A('ab12', '%D+'), '1 2'},\n"
    "  {'find', A('  ab', '%S'), '3 3'},\n"
    "  {'match', A('hello world', '%a+'), '\"hello\"'},\n"
    "  {'match', A('hello world', '%a+', 6), '\"world\"'},\n"
    "  {'match', A('  trim me  ', '^%s*(.-)%s*$'), '\"trim me\"'},\n"
    "  {'match', A('2024-01-15', '(%d+)-(%d+)-(%d+)'), '\"2024\" \"01\" \"15\"'},\n"
    "  {'match', A('f(a(b)c)d', '%b()'), '\"(a(b)c)\"'},\n"
    "  {'match', A('f(a(b)c', '%b()'), '\"(b)\"'},\n"
    "  {'match', A('THE (quick) fox', '%f[%a]%a+', 5), '\"quick\"'},\n"
    "  {'match', A('THE (quick) fox', '%f[%a]%a+%f[%A]$'), '\"fox\"'},\n"
    "  {'match', A('hello', '()ll()'), '3 5'},\n"
    "  {'match', A('abcabc', '(abc)%1'), '\"abc\"'},\n"
    "  {'match', A('abab', '()a%1'), 'nil'},\n"
    "  {'match', A('aaa', 'a-'), '\"\"'},\n"
    "  {'match', A('aaa', 'a-$'), '\"aaa\"'},\n"
    "  {'match', A('aaab', 'a*'), '\"aaa\"'},\n"
    "  {'match', A('aaab', 'a+b'), '\"aaab\"'},\n"
    "  {'match', A('b', 'a?b'), '\"b\"'},\n"
    "  {'match', A('[]', '[]]'), '\"]\"'},\n"
    "  {'match', A(']x', '[^]]'), '\"x\"'},\n"
    "  {'match', A('a-z', '[a-]+'), '\"a-\"'},\n"
    "  {'match', A('b-', '[%a-]+'), '\"b-\"'},\n"
    "  {'match', A('x%y', '%%'), '\"%\"'},\n"
    "  {'match', A('caf\\195\\169!', '[\\128-\\255]+'), '\"\\\\195\\\\169\"'},\n"
    "  {'match', A('hello', '.-(l+)(.*)'), '\"ll\" \"o\"'},\n"
    "  {'match', A('abc', '%w', 10), 'nil'},\n"
    "  {'match', A('abc', '((a)(b))'), '\"ab\" \"a\" \"b\"'},\n"
    "  {'match', A('<<a>>', '%b<>'), '\"<<a>>\"'},\n"
    "  {'match', A(\"x = 'a' 'b'\", \"%b''\"), '\"\\'a\\'\"'},\n"
    "  {'match', A('x', '()'), '1'},\n"
    "  {'match', A('xyz', '()', 4), '4'},\n"
    "  {'match', A('xyz', '()', 5), 'nil'},\n"
    "  {'gmatch', A('one two  three', '%a+'), '\"one\" | \"two\" | \"three\" | '},\n"
    "  {'gmatch', A('abc', ''), '\"\" | \"\" | \"\" | \"\" | '},\n"
    "  {'gmatch', A('k1=v1, k2=v2', '(%w+)=(%w+)'), '\"k1\" \"v1\" | \"k2\" \"v2\" | '},\n"
    "  {'gmatch', A('abc', '.', 2), '\"b\" | \"c\" | '},\n"
    "  {'gmatch', A('abc', '.', -1), '\"c\" | '},\n"
    "  {'gmatch', A('abc', '.', 10), ''},\n"
    "  {'gmatch', A('^a^a', '^a'), '\"^a\" | \"^a\" | '},\n"
    "  {'gmatch', A('abc', '%w*'), '\"abc\" | '},\n"
    "  {'gmatch', A('a b', '()'), '1 | 2 | 3 | 4 | '},\n"
    "  {'gsub', A('hello world', 'o', '0'), '\"hell0 w0rld\" 2'},\n"
    "  {'gsub', A('hello world', '(%w+)', '<%1>'), '\"<hello> <world>\" 2'},\n"
    "  {'gsub', A('hello world', '%w+', '%0 %0', 1), '\"hello hello world\" 1'},\n"
    "  {'gsub', A('abc', '%w*', '-'), '\"-\" 1'},\n"
    "  {'gsub', A('abc', '', '-'), '\"-a-b-c-\" 4'},\n"
    "  {'gsub', A('abc d', '%w*', '-'), '\"- -\" 2'},\n"
    "  {'gsub', A('hello world', 'o*', '-'), '\"-h-e-l-l- -w-r-l-d-\" 10'},\n"
    "  {'gsub', A('abc', '%w', {a = '1', c = false}), '\"1bc\" 3'},\n"
    "  {'gsub', A('abc', '%w', setmetatable({}, {__index = upper_index})), '\"ABC\" 3'},\n"
    "  {'gsub', A('abc', '%w', function(c) if c == 'b' then return 'B' end end), '\"aBc\" 3'},\n"
    "  {'gsub', A('abc', '%w', function() return 7 end), '\"777\" 3'},\n"
    "  {'gsub', A('a=1, b=2', '(%w+)=(%w+)', '%2=%1'), '\"1=a, 2=b\" 2'},\n"
    "  {'gsub', A('abc', 'x', 'y'), '\"abc\" 0'},\n"
    "  {'gsub', A(123, 'x', 'y'), '\"123\" 0'},\n"
    "  {'gsub', A(123, '2', 'x'), '\"1x3\" 1'},\n"
    "  {'gsub', A('abc', 'b', '%%'), '\"a%c\" 1'},\n"
    "  {'gsub', A('abc', 'b', '[%1]'), '\"a[b]c\" 1'},\n"
    "  {'gsub', A('abc', '()b', '%1'), '\"a2c\" 1'},\n"
    "  {'gsub', A('abc', '%w', 'x', 2), '\"xxc\" 2'},\n"
    "  {'gsub', A('abc', '%w', 'x', 0), '\"abc\" 0'},\n"
    "  {'gsub', A('abc', '%w', 'x', -1), '\"abc\" 0'},\n"
    "  {'gsub', A('abc', '^%w', 'x'), '\"xbc\" 1'},\n"
    "  {'gsub', A('abc', '^', '>'), '\">abc\" 1'},\n"
    "  {'gsub', A('abc', '$', '!'), '\"abc!\" 1'},\n"
    "  {'gsub', A('a\\0b', '%z', '0'), '\"a0b\" 1'},\n"
    "  {'gsub', A('a\\0b', '\\0', '%%0'), '\"a%0b\" 1'},\n"
    "  {'gsub', A('abc', '(', 'x'), '\"xaxbxcx\" 4'},\n"
    "  {'find', A('abc', '%'), \"error: malformed pattern (ends with '%')\"},\n"
    "  {'find', A('b', 'a%'), 'nil'},\n"
    "  {'find', A('abc', '[a'), \"error: malformed pattern (missing ']')\"},\n"
    "  {'find', A('abc', '[%]'), \"error: malformed pattern (missing ']')\"},\n"
    "  {'find', A('abc', '%f'), \"error: missing '[' after '%f' in pattern\"},\n"
    "  {'find', A('abc', '%b'), \"error: malformed pattern (missing arguments to '%b')\"},\n"
    "  {'find', A('abc', '(a)%2'), 'error: invalid capture index %2'},\n"
    "  {'match', A('abc', '%0'), 'error: invalid capture index %0'},\n"
    "  {'match', A('abc', '(a%1)'), 'error: invalid capture index %1'},\n"
    "  {'match', A('abc', 'a)'), 'error: invalid pattern capture'},\n"
    "  {'find', A('abc', '(a'), 'error: unfinished capture'},\n"
    "  {'gsub', A('abc', '(', '%1'), 'error: unfinished capture'},\n"
    "  {'match', A('x', ('('):rep(33) .. 'x' .. (')'):rep(33)), 'error: too many captures'},\n"
    "  {'match', A(('a'):rep(300), ('a?'):rep(300)), 'error: pattern too complex'},\n"
    "  {'gsub', A('abc', 'b', '%'), \"error: invalid use of '%' in replacement string\"},\n"
    "  {'gsub', A('abc', 'b', '%x'), \"error: invalid use of '%' in replacement string\"},\n"
    "  {'gsub', A('abc', '(b)', '%2'), 'error: invalid capture index %2'},\n"
    "  {'gsub', A('abc', '%w', {a = {}}), 'error: invalid replacement value (a table)'},\n"
    "  {'gsub', A('abc', '%w', {b = true}), 'error: invalid replacement value (a boolean)'},\n"
    "}\n"
    "-- Runs every case through lib; returns the list of mismatches (empty when all pass).\n"
    "return function(lib)\n"
    "  local bad = {}\n"
    "  for i, c in ipairs(CASES) do\n"
    "    local fname, args, want = c[1], c[2], c[3]\n"
    "    local got\n"
    "    if fname == 'gmatch' then\n"
    "      local it = lib.gmatch((unpack or table.unpack)(args, 1, args.n))\n"
    "      local parts = {}\n"
    "      for _ = 1, 20 do\n"
    "        local r = show(pcall(it))\n"
    "        parts[#parts + 1] = r\n"
    "        if r == '' or r:sub(1, 6) == 'error:' then break end\n"
    "      end\n"
    "      got = table.concat(parts, ' | ')\n"
    "    else\n"
    "      got = show(pcall(lib[fname], (unpack or table.unpack)(args, 1, args.n)))\n"
    "    end\n"
    "    if got ~= want then\n"
    "      bad[#bad + 1] = ('case %d %s: want [%s] got [%s]'):format(i, fname, want, got)\n"
    "    end\n"
    "  end\n"
    "  return bad\n"
    "end\n";

/* FNV-1a 64 of the corpus output of our matcher, as produced by the Lua 5.4 build after it has
 * checked that output line by line against the stock library. The LuaJIT build, which has no
 * 5.4 library to compare with, must reproduce it exactly. Update it (the 5.4 test prints the new
 * value) whenever the corpus changes. */
#define CORPUS_DIGEST 0x598cd02bf4fccdc2ULL
#define CORPUS_MIN_LINES 190000

/* Counts tick calls and steps; raises once `calls` reaches `max_calls` (0: never). */
struct tally {
    unsigned calls;
    unsigned long long steps;
    unsigned max_calls;
};

static void tally_tick(lua_State *L, void *ud, unsigned steps)
{
    struct tally *t = ud;
    t->calls++;
    t->steps += steps;
    if (t->max_calls != 0 && t->calls >= t->max_calls)
        luaL_error(L, "pattern budget exhausted");
}

/* A state with the stock libraries plus a global `pat` table holding our four functions. */
static lua_State *open_state(tm_pattern_tick_fn tick, void *ud)
{
    lua_State *L = luaL_newstate();
    ASSERT(L != NULL);
    luaL_openlibs(L);
    lua_newtable(L);
    tm_pattern_open(L, -1, tick, ud);
    lua_setglobal(L, "pat");
    return L;
}

/* Runs a chunk that must succeed and leaves its results on the stack. */
static void run_ok(lua_State *L, const char *code)
{
    if (luaL_loadbuffer(L, code, strlen(code), "=test") != 0 ||
        lua_pcall(L, 0, LUA_MULTRET, 0) != 0)
        TM_FAIL_("lua error: %s", lua_tostring(L, -1));
}

/* Runs a chunk that must fail; returns the error message (valid until the state is closed). */
static const char *run_err(lua_State *L, const char *code)
{
    ASSERT_OK(luaL_loadbuffer(L, code, strlen(code), "=test"));
    if (lua_pcall(L, 0, 0, 0) == 0)
        TM_FAIL_("chunk succeeded but should have failed: %s", code);
    ASSERT(lua_isstring(L, -1));
    return lua_tostring(L, -1);
}

/* Loads one of the Lua sources above and leaves the value it returns on the stack. */
static void load_source(lua_State *L, const char *src, const char *name)
{
    if (luaL_loadbuffer(L, src, strlen(src), name) != 0 || lua_pcall(L, 0, 1, 0) != 0)
        TM_FAIL_("%s: %s", name, lua_tostring(L, -1));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long fnv1a(const char *s, size_t n)
{
    unsigned long long h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Semantics. */

TEST(expected_values)
{
    lua_State *L = open_state(NULL, NULL);
    load_source(L, EXPECT_LUA, "=expect");
    lua_setglobal(L, "expect");
    /* The stock library must agree too under 5.4, so the expectations themselves are checked. */
    run_ok(L, "local libs = {pat}\n"
              "if _VERSION == 'Lua 5.4' and not jit then libs[2] = string end\n"
              "for _, lib in ipairs(libs) do\n"
              "  local bad = expect(lib)\n"
              "  if #bad > 0 then\n"
              "    error((lib == pat and 'ours' or 'stock') .. ': ' .. table.concat(bad, '\\n'))\n"
              "  end\n"
              "end\n");
    lua_close(L);
}

/* Runs the corpus through `pat` (and, under 5.4, the stock library, comparing line by line) and
 * checks the digest of our output. */
TEST(differential_corpus)
{
    lua_State *L = open_state(NULL, NULL);
    size_t n;
    const char *out;
    unsigned long long digest;
    load_source(L, CORPUS_LUA, "=corpus");
    lua_setglobal(L, "corpus");
    run_ok(L, "local ours = corpus(pat)\n"
              "if _VERSION == 'Lua 5.4' and not jit then\n"
              "  local stock = corpus(string)\n"
              "  for i = 1, math.max(#stock, #ours) do\n"
              "    if stock[i] ~= ours[i] then\n"
              "      error(('line %d differs\\nstock: %s\\nours:  %s'):format(i,\n"
              "            tostring(stock[i]), tostring(ours[i])))\n"
              "    end\n"
              "  end\n"
              "end\n"
              "return #ours, table.concat(ours, '\\n')\n");
    ASSERT(lua_tointeger(L, -2) >= CORPUS_MIN_LINES);
    out = lua_tolstring(L, -1, &n);
    digest = fnv1a(out, n);
    if (digest != CORPUS_DIGEST)
        TM_FAIL_("corpus digest 0x%llxULL, expected 0x%llxULL (%d lines)", digest,
                 CORPUS_DIGEST, (int)lua_tointeger(L, -2));
    lua_close(L);
}

#if LUA_VERSION_NUM >= 504
static const char ARGCASES_LUA[] =
    "-- Argument checking and coercion, compared with the stock library under Lua 5.4 only\n"
    "-- (LuaJIT's auxiliary library words these errors differently and truncates fractions).\n"
    "return function(rec)\n"
    "  local upper = setmetatable({}, {__index = function(_, k) return k:upper() end})\n"
    "  rec('find', 0)\n"
    "  rec('find', 1, 'a')\n"
    "  rec('find', 2, nil, 'a')\n"
    "  rec('find', 2, 'a', nil)\n"
    "  rec('find', 2, {}, 'a')\n"
    "  rec('find', 3, 'abc', 'b', 1.5)\n"
    "  rec('find', 3, 'abc', 'b', '2')\n"
    "  rec('find', 3, 'abc', 'b', 'x')\n"
    "  rec('find', 3, 'abc', 'b', {})\n"
    "  rec('find', 4, 'abc', 'b', 1, nil)\n"
    "  rec('find', 4, 'a.c', '.', 1, 0)\n"
    "  rec('find', 4, 'a.c', '.', 1, false)\n"
    "  rec('find', 4, 'a.c', '.', nil, true)\n"
    "  rec('match', 3, 'abc', 'b', 2.0)\n"
    "  rec('match', 3, 'abc', 'b', 2.5)\n"
    "  rec('match', 1, 'abc')\n"
    "  rec('gmatch', 1, 'abc')\n"
    "  rec('gmatch', 3, 'abc', '.', 1.5)\n"
    "  rec('gmatch', 3, 'abc', '.', '2')\n"
    "  rec('gsub', 2, 'abc', 'b')\n"
    "  rec('gsub', 3, 'abc', 'b', true)\n"
    "  rec('gsub', 3, 'abc', 'b', nil)\n"
    "  rec('gsub', 4, 'abc', 'b', 'x', 1.5)\n"
    "  rec('gsub', 4, 'abc', 'b', 'x', '1')\n"
    "  rec('gsub', 4, 'abc', 'b', true, 1.5)\n"
    "  rec('gsub', 3, 1.5, '%.', 'x')\n"
    "  rec('gsub', 3, 1.5, 'x', 'y')\n"
    "  rec('gsub', 3, 'abc', 'b', 2.5)\n"
    "  rec('gsub', 3, 'abc', 'b', function() return 1.5 end)\n"
    "  rec('gsub', 3, 'abc', 'b', function() return 2 ^ 63 end)\n"
    "  rec('gsub', 3, 'abc', 'b', function() return math.mininteger end)\n"
    "  rec('gsub', 3, 'abc', '%w', upper)\n"
    "  rec('gsub', 3, 'abc', '()', upper)\n"
    "  rec('gsub', 3, 'abc', '%w', setmetatable({}, {__tostring = function() return 't' end}))\n"
    "  rec('gsub', 3, 'abc', 'b', coroutine.create(print))\n"
    "  rec('match', 3, 'abc', '()', math.maxinteger)\n"
    "  rec('find', 3, 'abc', 'b', math.mininteger)\n"
    "  rec('find', 3, 'abc', '', math.maxinteger)\n"
    "  rec('gsub', 4, 'abc', '', '-', math.maxinteger)\n"
    "  rec('gsub', 4, 'abc', 'b', 'x', math.mininteger)\n"
    "  rec('gmatch', 3, 'abc', '', math.maxinteger)\n"
    "  rec('gmatch', 3, 'abc', '', math.mininteger)\n"
    "end\n";

/* Argument checks and coercions, where LuaJIT's auxiliary library differs from 5.4's. */
TEST(differential_arguments)
{
    lua_State *L = open_state(NULL, NULL);
    load_source(L, CORPUS_LUA, "=corpus");
    lua_setglobal(L, "corpus");
    load_source(L, ARGCASES_LUA, "=argcases");
    lua_setglobal(L, "argcases");
    run_ok(L, "local ours, stock = corpus(pat, argcases), corpus(string, argcases)\n"
              "assert(#ours >= 40)\n"
              "for i = 1, math.max(#stock, #ours) do\n"
              "  if stock[i] ~= ours[i] then\n"
              "    error(('line %d differs\\nstock: %s\\nours:  %s'):format(i,\n"
              "          tostring(stock[i]), tostring(ours[i])))\n"
              "  end\n"
              "end\n");
    lua_close(L);
}
#endif

TEST(open_replaces_only_the_four_and_keeps_the_stack)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_getglobal(L, "string");
    lua_pushinteger(L, 42);
    tm_pattern_open(L, -2, NULL, NULL);
    ASSERT_EQ(lua_gettop(L), 2);
    ASSERT_EQ(lua_tointeger(L, -1), 42);
    lua_settop(L, 0);
    /* Opened on the real string table, the method syntax picks the new functions up. */
    run_ok(L, "local s, n = ('hello world'):gsub('o', '0')\n"
              "assert(s == 'hell0 w0rld' and n == 2)\n"
              "assert(('x=1'):match('(%w)=(%d)') == 'x')\n"
              "assert(select(2, ('abc'):find('b')) == 2)\n"
              "local t = {} for w in ('a b c'):gmatch('%a') do t[#t + 1] = w end\n"
              "assert(table.concat(t) == 'abc')\n"
              "assert(string.rep('a', 3) == 'aaa' and string.format('%d', 5) == '5')\n"
              "assert(debug.getinfo(string.find).what == 'C')\n");
    /* An absolute index works as well. */
    lua_newtable(L);
    tm_pattern_open(L, 1, NULL, NULL);
    ASSERT_EQ(lua_gettop(L), 1);
    lua_getfield(L, 1, "gsub");
    ASSERT(lua_iscfunction(L, -1));
    lua_close(L);
}

/* Budget. */

TEST(budget_aborts_hostile_find)
{
    struct tally t = {0, 0, 200};
    lua_State *L = open_state(tally_tick, &t);
    double t0 = now_s();
    const char *err = run_err(L, "return pat.find(('a'):rep(300), '.-.-.-.-b$')");
    ASSERT_CONTAINS(err, "pattern budget exhausted");
    ASSERT_EQ(t.calls, 200);
    ASSERT(t.steps >= 200ULL * TM_PATTERN_TICK);
    ASSERT(now_s() - t0 < 5.0);
    /* The state stays usable after the abort. */
    t.max_calls = 0;
    run_ok(L, "assert(select(2, pat.find('abc', 'b')) == 2)");
    lua_close(L);
}

TEST(budget_aborts_hostile_match_gmatch_gsub)
{
    static const char *const chunks[] = {
        "return pat.match(('a'):rep(200), '(.-)(.-)(.-)(.-)(.-)b')",
        "for _ in pat.gmatch(('a'):rep(300), '.-.-.-.-b') do end",
        "return pat.gsub(('a'):rep(300), 'a*a*a*a*a*b', 'x')",
        "return pat.gsub(('a'):rep(300), '(a-)%1(a-)%2b', '%1')",
        "return pat.find(('(('):rep(3000), '%b()%b()%b()x')",
        /* Plain search: O(n * m) byte comparisons without the budget. */
        "return pat.find(('a'):rep(1000000), ('a'):rep(100000) .. 'b', 1, true)",
        "local a = ('a'):rep(50000) return pat.find(a:rep(20), a .. 'b' .. a, 1, true)",
        "return pat.find(('a'):rep(1000000), ('a'):rep(100000) .. 'b')",
        "return pat.find(('a'):rep(1000000), ('a'):rep(100000) .. 'b$')",
    };
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        struct tally t = {0, 0, 100};
        lua_State *L = open_state(tally_tick, &t);
        double t0 = now_s();
        const char *err = run_err(L, chunks[i]);
        if (strstr(err, "pattern budget exhausted") == NULL)
            TM_FAIL_("chunk %zu: unexpected error %s", i, err);
        ASSERT_EQ(t.calls, 100);
        ASSERT(now_s() - t0 < 5.0);
        lua_close(L);
    }
}

/* Ordinary work over 1 MB finishes, and the ticks follow the size of the input. */
TEST(budget_megabyte_gsub_is_proportional)
{
    unsigned long long steps[2];
    unsigned calls[2];
    for (int k = 0; k < 2; k++) {
        struct tally t = {0, 0, 0};
        lua_State *L = open_state(tally_tick, &t);
        lua_pushinteger(L, k == 0 ? 256 * 1024 : 1024 * 1024);
        lua_setglobal(L, "size");
        run_ok(L, "local unit = 'lorem ipsum  dolor sit amet, consectetur\\n'\n"
                  "local text = unit:rep(math.floor(size / #unit))\n"
                  "local words = select(2, text:gsub('%a+', ''))\n"
                  "local s, n = pat.gsub(text, '%s+', ' ')\n"
                  "assert(n == select(2, text:gsub('%s+', ' ')) and s == text:gsub('%s+', ' '))\n"
                  "s, n = pat.gsub(text, '(%w+)', '<%1>')\n"
                  "assert(n == words and s == text:gsub('(%w+)', '<%1>'))\n"
                  "s, n = pat.gsub(text, 'amet', {amet = 'AMET'})\n"
                  "assert(n == #text / #unit)\n"
                  "local c = 0 for _ in pat.gmatch(text, '%f[%w]%w+') do c = c + 1 end\n"
                  "assert(c == words)\n");
        steps[k] = t.steps;
        calls[k] = t.calls;
        /* At least a step per byte (the '%s+' pass alone tries every position). */
        ASSERT(t.steps >= 1024ULL * 1024 * (k == 0 ? 1 : 4) / 4);
        ASSERT(t.calls >= t.steps / TM_PATTERN_TICK / 2);
        lua_close(L);
    }
    /* Four times the text, about four times the steps and the ticks. */
    ASSERT(steps[1] > steps[0] * 3 && steps[1] < steps[0] * 5);
    ASSERT(calls[1] > calls[0] * 3 && calls[1] < calls[0] * 5);
}

TEST(budget_steps_carry_over_between_calls)
{
    struct tally t = {0, 0, 0};
    lua_State *L = open_state(tally_tick, &t);
    /* Each call does a handful of steps, far below a tick; together they must still report. */
    run_ok(L, "for i = 1, 20000 do assert(pat.find('abc', '%a', 2) == 2) end");
    ASSERT(t.steps >= 20000ULL * 2 - TM_PATTERN_TICK);
    ASSERT(t.calls >= 20000U * 2 / TM_PATTERN_TICK - 1);
    lua_close(L);
}

TEST(budget_null_tick_runs_unbounded)
{
    lua_State *L = open_state(NULL, NULL);
    run_ok(L, "local s = ('x'):rep(100000)\n"
              "assert(pat.gsub(s, 'x', 'yy') == ('y'):rep(200000))\n"
              "assert(pat.find(('a'):rep(40), '.-.-b') == nil)\n");
    lua_close(L);
}

/* A replacement function that matches patterns itself shares the same budget. */
TEST(budget_reentrant_replacement_function)
{
    struct tally t = {0, 0, 0};
    lua_State *L = open_state(tally_tick, &t);
    run_ok(L, "local text = ('key=value; '):rep(2000)\n"
              "local s, n = pat.gsub(text, '(%w+)=(%w+)', function(k, v)\n"
              "  return (pat.gsub(v, '%w', '%0%0')) .. '=' .. pat.match(k, '^(.-)$')\n"
              "end)\n"
              "assert(n == 2000 and s == ('vvaalluuee=key; '):rep(2000))\n");
    ASSERT(t.calls > 20);
    t.max_calls = t.calls + 5;
    ASSERT_CONTAINS(run_err(L, "pat.gsub(('ab'):rep(5000), '%w', function(c)\n"
                               "  return pat.gsub(('a'):rep(40), '.-.-.-b', '')\n"
                               "end)"),
                    "pattern budget exhausted");
    lua_close(L);
}

/* An abort inside the iterator leaves it where it was, so it can go on afterwards. */
TEST(budget_abort_leaves_gmatch_iterator_usable)
{
    struct tally t = {0, 0, 0};
    lua_State *L = open_state(tally_tick, &t);
    run_ok(L, "it = pat.gmatch(('x'):rep(5000) .. ' word', '%a+')");
    t.max_calls = t.calls + 1;
    ASSERT_CONTAINS(run_err(L, "return it()"), "pattern budget exhausted");
    t.max_calls = 0;
    run_ok(L, "assert(it() == ('x'):rep(5000)) assert(it() == 'word') assert(it() == nil)");
    lua_close(L);
}

/* The iterator keeps what it points into alive (subject, pattern and budget), even when the
 * library table and functions that made it are gone. ASan reports any use after free. */
TEST(gmatch_iterator_outlives_library)
{
    struct tally t = {0, 0, 0};
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_newtable(L);
    tm_pattern_open(L, 1, tally_tick, &t);
    lua_getfield(L, 1, "gmatch");
    lua_pushfstring(L, "word word word %s", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
    lua_pushfstring(L, "%s", "%a+");
    lua_call(L, 2, 1);
    lua_remove(L, 1);
    ASSERT_EQ(lua_gettop(L), 1);
    lua_gc(L, LUA_GCCOLLECT, 0);
    lua_gc(L, LUA_GCCOLLECT, 0);
    for (int i = 0; i < 5; i++) {
        size_t n = 0;
        lua_pushvalue(L, 1);
        ASSERT_OK(lua_pcall(L, 0, 1, 0));
        lua_tolstring(L, -1, &n);
        if (i < 3)
            ASSERT_STR_EQ(lua_tostring(L, -1), "word");
        else if (i == 3)
            ASSERT_EQ(n, 46);
        else
            ASSERT(lua_isnil(L, -1));
        lua_pop(L, 1);
    }
    lua_close(L);
}

/* Depth. */

TEST(deep_patterns_raise_instead_of_overflowing)
{
    static const char *const chunks[] = {
        "return pat.find(('a'):rep(100000), ('a?'):rep(100000))",
        "return pat.match(('a'):rep(100000), ('a-'):rep(100000) .. '$')",
        "return pat.gsub(('a'):rep(1000), ('a?'):rep(1000), 'x')",
        "return pat.match(('ab'):rep(50000), ('(a)()(b)()'):rep(3) .. ('(%a)'):rep(50000))",
        "for _ in pat.gmatch(('a'):rep(100000), ('a?'):rep(100000)) do end",
        "return pat.find(('ab'):rep(50000), ('%f[a]a?b?'):rep(50000))",
    };
    static const char *const want[] = {
        "pattern too complex", "pattern too complex", "pattern too complex",
        "too many captures",   "pattern too complex", "pattern too complex",
    };
    lua_State *L = open_state(NULL, NULL);
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        const char *err = run_err(L, chunks[i]);
        if (strstr(err, want[i]) == NULL)
            TM_FAIL_("chunk %zu: expected \"%s\", got \"%s\"", i, want[i], err);
        lua_settop(L, 0);
    }
    lua_close(L);
}

TEST(long_flat_patterns_do_not_count_as_deep)
{
    lua_State *L = open_state(NULL, NULL);
    /* Plain items, frontiers, back-references and balances continue in a loop, not a call. */
    run_ok(L, "local s = ('a'):rep(100000)\n"
              "assert(pat.match(s, s .. '$') == s)\n"
              "assert(pat.match(s, '^' .. ('%a'):rep(100000)) == s)\n"
              "assert(pat.match(s, '^' .. ('[a]'):rep(99999) .. '.$') == s)\n"
              "assert(pat.find(('(x)'):rep(20000), ('%b()'):rep(20000)) == 1)\n"
              "assert(pat.match('xx' .. ('x'):rep(20000), '^(x)' .. ('%1'):rep(20000)) == 'x')\n");
    lua_close(L);
}
