-- hostile: call next with a key that is not in the table
-- expect: error invalid key
-- defence: stock luaH_next check
return next({}, "missing")
