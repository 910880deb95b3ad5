-- hostile: remove the instruction hook with debug.sethook() and then loop
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
debug.sethook()
while true do end
