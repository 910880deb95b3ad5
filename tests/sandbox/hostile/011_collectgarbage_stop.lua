-- hostile: stop the collector so garbage piles up (and affects other scripts)
-- expect: error a nil value
-- defence: environment allowlist: the name is not in the script environment
collectgarbage("stop")
