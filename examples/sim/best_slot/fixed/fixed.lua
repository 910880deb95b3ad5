-- The same cadence as learned/learned.lua at a fixed time: a text or a call
-- every two days at 10:00 local.
local journey = require("lib.journey")

local function send(j, debt)
    local n = tonumber(debt.debt_id:match("%d+")) or 0
    local ch = (n + math.floor(j.now / 86400)) % 2 == 0 and "sms" or "call"
    j:send(ch, ch == "sms" and "early_reminder" or "early_call", { at = "10:00" })
end

return journey {
    id = "cadence", start = "a",
    states = {
        a = { enter = send, after = { days(2), "b" } },
        b = { enter = send, after = { days(2), "a" } },
    },
}
