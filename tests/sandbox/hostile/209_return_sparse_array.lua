-- hostile: return {[1]=1, [1e9]=2}: a printer that pads arrays with null would write 1e9 entries
-- expect: ok
-- output: {"1":1,"1000000000":2}
-- defence: printer treats sparse integer keys as an object (or pads nothing)
return {[1] = 1, [1000000000] = 2}
