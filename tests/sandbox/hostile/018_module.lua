-- hostile: use module/package.seeall to get the real globals
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
module("x", package.seeall)
