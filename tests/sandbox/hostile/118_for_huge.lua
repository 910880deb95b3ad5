-- hostile: numeric for loop to 2^53
-- expect: limit instructions
-- args: --instr-limit 5000000 --time-limit 10000
-- defence: instruction hook
for i = 1, 2^53 do end
