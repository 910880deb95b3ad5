-- hostile: reach the registry (host objects, string metatable) via debug.getregistry
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
return debug.getregistry()
