-- hostile: find "(.-)*$" over 100 KB: quadratic backtracking in C
-- expect: limit any
-- args: --time-limit 500
-- defence: pattern matching budget (patched match() step counter or subject/pattern limits) or watchdog
return string.find(("a"):rep(100000), "(.-)*$")
