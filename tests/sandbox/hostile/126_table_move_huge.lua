-- hostile: table.move over 1e12 empty slots: a pure C loop (geti/seti of nil) with no hook
-- expect: limit any
-- args: --time-limit 500
-- defence: watchdog or a table.move wrapper that budgets the range
table.move({}, 1, 1e12, 2)
return "moved"
