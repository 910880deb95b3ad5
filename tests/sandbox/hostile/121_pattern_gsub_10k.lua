-- hostile: gsub with many .- over a 10 KB string
-- expect: limit any
-- args: --time-limit 500
-- defence: pattern matching budget (patched match() step counter or subject/pattern limits) or watchdog
return (("x"):rep(10240)):gsub(".-.-.-.-.-y", "")
