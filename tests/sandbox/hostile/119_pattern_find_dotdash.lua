-- hostile: string.find with .-.-.-.-b$ on 300 chars: O(n^5) inside one C call
-- expect: limit any
-- args: --time-limit 500
-- defence: pattern matching budget (patched match() step counter or subject/pattern limits) or watchdog
return string.find(("a"):rep(300), ".-.-.-.-b$")
