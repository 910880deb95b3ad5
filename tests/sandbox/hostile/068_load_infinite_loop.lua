-- hostile: run an infinite loop inside a loaded chunk
-- expect: limit instructions
-- args: --instr-limit 1000000 --time-limit 10000
-- defence: instruction hook covers loaded functions
load("while true do end")()
