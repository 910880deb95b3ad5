-- hostile: NaN, infinities and numbers past 2^63 as amounts, basis points and counts
-- expect: ok
-- output: "bad argument #2 to 'tm.money.percent'"\n"bad argument #1 to 'tm.money.format'"\n"bad argument #2 to 'tm.time.add_days'"\n"bad argument #1 to 'days'"
-- defence: every binding reads its arguments through lb_common.c, which refuses them in one shape
local function shape(f, ...)
    local ok, e = pcall(f, ...)
    assert(not ok, "accepted")
    return (tostring(e):match("bad argument #%d to '[^']+'"))
end
return shape(tm.money.percent, 100, 0 / 0),
    shape(tm.money.format, 1 / 0, "USD"),
    shape(tm.time.add_days, "2026-01-01", 2 ^ 70),
    shape(days, -(2 ^ 63))
