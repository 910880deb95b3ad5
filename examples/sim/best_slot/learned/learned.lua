-- The same cadence and channels as fixed/fixed.lua, at the hour learned from
-- the history (j:best_slot, models/contact.json) within the next day; the
-- fixed time when no slot is found.
local journey = require("lib.journey")

local TEMPLATE = { sms = "early_reminder", call = "early_call" }

local function send(j, debt)
    local n = tonumber(debt.debt_id:match("%d+")) or 0
    local ch = (n + math.floor(j.now / 86400)) % 2 == 0 and "sms" or "call"
    local slot = j:best_slot { channels = { ch }, within = days(1) }
    j:send(ch, TEMPLATE[ch], { at = slot and slot.at or "10:00" })
end

return journey {
    id = "cadence", start = "a",
    states = {
        a = { enter = send, after = { days(2), "b" } },
        b = { enter = send, after = { days(2), "a" } },
    },
}
