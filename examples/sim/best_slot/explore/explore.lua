-- A journey that tries every hour: a text or a call every two days at a
-- local hour from 08:00 to 20:00 that moves with the day and the debt, so
-- the history shows how consumers answer at each hour (for
-- `tallyman score train-contact`).
local journey = require("lib.journey")

local function send(j, debt)
    local n = tonumber(debt.debt_id:match("%d+")) or 0
    local day = math.floor(j.now / 86400)
    local ch = (n + day) % 2 == 0 and "sms" or "call"
    j:send(ch, ch == "sms" and "early_reminder" or "early_call",
           { at = string.format("%02d:00", 8 + (n * 5 + day) % 13) })
end

return journey {
    id = "explore", start = "a",
    states = {
        a = { enter = send, after = { days(2), "b" } },
        b = { enter = send, after = { days(2), "a" } },
    },
}
