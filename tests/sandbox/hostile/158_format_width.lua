-- hostile: string.format("%99999d", 1): huge width into a fixed buffer
-- expect: error invalid
-- defence: stock 5.4 format spec check (2-digit width)
return string.format("%99999d", 1)
