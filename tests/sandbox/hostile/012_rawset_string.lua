-- hostile: bypass read-only protection of the string library with rawset
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment (rawset absent)
rawset(string, "upper", function() return "pwned" end)
