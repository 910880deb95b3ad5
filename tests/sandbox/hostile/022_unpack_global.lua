-- hostile: use the 5.1 global unpack (only table.unpack exists)
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
return unpack({1, 2})
