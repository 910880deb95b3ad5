-- hostile: plain infinite loop, small instruction limit
-- expect: limit instructions
-- args: --instr-limit 1000000 --time-limit 10000
-- defence: instruction hook
while true do end
