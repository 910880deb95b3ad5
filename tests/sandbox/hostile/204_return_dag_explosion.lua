-- hostile: a 60-level DAG of shared subtables: 2^60 leaves when printed; printer must stop (any clean failure)
-- expect: error .lua:
-- args: --time-limit 500
-- defence: output size/time budget in the printer
local t = {1}
for i = 1, 60 do t = {t, t} end
return t
