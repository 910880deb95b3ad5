-- hostile: creating a script's own global is allowed and visible through _G
-- expect: ok
-- output: 42\n42\n"mine"
-- defence: per-script environment
tally_counter = 41
tally_counter = tally_counter + 1
_G.other_value = "mine"
return tally_counter, _G.tally_counter, other_value
