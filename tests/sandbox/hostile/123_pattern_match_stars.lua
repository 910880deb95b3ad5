-- hostile: match a*a*a*a*a*c over 1000 chars (greedy backtracking)
-- expect: limit any
-- args: --time-limit 500
-- defence: pattern matching budget (patched match() step counter or subject/pattern limits) or watchdog
return string.match(("a"):rep(1000), "a*a*a*a*a*c")
