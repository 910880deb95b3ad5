-- hostile: gmatch with .-.-.-b over 5000 chars
-- expect: limit any
-- args: --time-limit 500
-- defence: pattern matching budget (patched match() step counter or subject/pattern limits) or watchdog
for m in (("a"):rep(5000)):gmatch(".-.-.-b") do end
