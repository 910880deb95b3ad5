LuaT
-- hostile: the script file itself is a binary chunk (first byte ESC)
-- expect: error binary
-- defence: host loads files in text mode only
return 1
