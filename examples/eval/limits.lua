-- A runaway script: the sandbox stops it at its instruction limit, and the
-- error names the file. Run: ./tallyman eval examples/eval/limits.lua
local n = 0
while true do
    n = n + 1
end
