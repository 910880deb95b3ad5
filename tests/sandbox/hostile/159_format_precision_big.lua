-- hostile: string.format("%.99f", 1e308): longest legal float conversion
-- expect: ok
-- output: 409
-- defence: stock buffer sizing (MAX_ITEMF)
return #string.format("%.99f", 1e308)
