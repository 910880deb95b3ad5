-- hostile: plain infinite loop with an instruction budget too big to matter
-- expect: limit time
-- args: --instr-limit 10000000000 --time-limit 300
-- defence: deadline check in the hook / watchdog
while true do end
