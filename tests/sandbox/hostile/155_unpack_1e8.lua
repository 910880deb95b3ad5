-- hostile: table.unpack({}, 1, 1e8): 1e8 results on the C stack
-- expect: error too many results
-- defence: stock check in unpack
return table.unpack({}, 1, 1e8)
