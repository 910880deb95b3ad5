-- scripts/channels/catalog.lua: every channel template, by channel and id.
-- A journey's send(channel, id) finds its template with catalog.find(channel, id);
-- `call` and `voice` sends both use the voice scripts.
local M = {}

local FILES = { "sms", "email", "letter", "voice", "push", "whatsapp" }
local by = {}
for _, f in ipairs(FILES) do
    for _, t in ipairs(require("channels." .. f)) do
        by[t.channel] = by[t.channel] or {}
        if by[t.channel][t.id] then
            error("channels/" .. f .. ".lua: template " .. t.id .. " defined twice for " .. t.channel)
        end
        by[t.channel][t.id] = t
    end
end
M.templates = by

local ALIAS = { call = "voice" }

function M.find(channel, id)
    local ch = ALIAS[channel] or channel
    return by[ch] and by[ch][id]
end

-- Every problem of every template (for lint-like checks).
function M.check()
    local out = {}
    for _, ch in ipairs(FILES) do
        for _, id in ipairs((function()
            local k = {}
            for name in pairs(by[ch] or {}) do k[#k + 1] = name end
            table.sort(k)
            return k
        end)()) do
            for _, p in ipairs(by[ch][id]:check()) do out[#out + 1] = p end
        end
    end
    return out
end

return M
