-- hostile: infinite loop built with goto, default limits
-- expect: limit any
-- defence: instruction hook (backward jump is ordinary VM code)
::top::
goto top
