-- hostile: obtain bytecode with string.dump (source of bytecode attacks)
-- expect: error a nil value
-- defence: string library copy without dump
return string.dump(function() return 1 end)
