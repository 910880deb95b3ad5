-- A first script: what `tallyman eval` prints for each kind of value.
-- Run it with: ./tallyman eval examples/eval/hello.lua
local debt = { id = "D-1001", balance = 125050, currency = "USD", days_past_due = 42 }

local function bucket(dpd)
    if dpd <= 0 then return "current"
    elseif dpd <= 30 then return "1-30"
    elseif dpd <= 90 then return "31-90"
    elseif dpd <= 180 then return "91-180"
    else return "180+" end
end

return debt.id, bucket(debt.days_past_due), { balance = debt.balance, currency = debt.currency }
