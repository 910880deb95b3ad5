-- scripts/lib/strategy.lua: pieces every journey in scripts/strategies shares.
--
-- * STOP: the events that end all contact (cease, attorney, bankruptcy,
--   deceased) go to the state "stopped", which sends nothing, sets no timer and
--   ignores the events that would restart contact. A journey puts
--   `on = strategy.stop_events()` (plus its own) and `stopped = strategy.stopped()`
--   in its states.
-- * Hand-offs: a journey that learns of a dispute, a hardship or a promise closes
--   with a reason "handoff:<journey>"; the engine segments the debt again and the
--   journey with the higher priority takes it (see lib/journeys.lua).
-- * flagged(d): a debt with a no-contact flag is taken by no_contact only.
-- * stage(d): pre, early, mid or late by days past due, which an import may
--   leave out (see below).
local M = {}

-- The collection stage of a debt: "pre" (not yet past due, days_past_due
-- <= 0), "early" (1 to 30), "mid" (31 to 90) or "late" (91 and more).
-- days_past_due is optional in an import. A debt placed without it is past
-- due all the same (it was placed for collection): a charged-off one
-- (charge_off_date known) is late, as charge-off comes months into
-- delinquency; any other starts early, the gentlest collection treatment,
-- until the creditor says more. Never a reminder that a payment is coming
-- due, which would be false.
function M.stage(d)
    local dpd = d.days_past_due
    if dpd == nil then
        return d.charge_off_date and "late" or "early"
    end
    if dpd <= 0 then return "pre" end
    if dpd <= 30 then return "early" end
    if dpd <= 90 then return "mid" end
    return "late"
end

M.STOP_FLAGS = { "cease", "attorney", "bankruptcy", "deceased" }

function M.flagged(d)
    local f = d.flags or {}
    for _, name in ipairs(M.STOP_FLAGS) do
        if f[name] then return true end
    end
    return false
end

function M.stop_events(extra)
    local on = { cease = "stopped", attorney = "stopped", bankruptcy = "stopped", deceased = "stopped" }
    for k, v in pairs(extra or {}) do on[k] = v end
    return on
end

local function ignore() end
M.ignore = ignore

-- The no-contact state: a note, no send, no timer. Events that would restart
-- contact (promise, dispute, hardship, broken promise, inbound reply, consent...)
-- are ignored here; a payment still closes the journey if the journey says so.
function M.stopped(description)
    return {
        description = description or "no contact: cease, attorney, bankruptcy or deceased",
        enter = function(j) j:note("contact stopped in " .. tostring(j.journey.id)) end,
        on = { promise = ignore, broken_promise = ignore, dispute = ignore, dispute_verified = ignore,
               hardship = ignore, inbound_reply = ignore, consent = ignore, contact = ignore,
               placement = ignore, partial_payment = ignore },
    }
end

-- A state that closes the journey, handing the debt to another journey.
function M.handoff(to)
    return { description = "hand the debt to " .. to, final = "handoff:" .. to }
end

-- The consumer's local date ("YYYY-MM-DD") at the journey's now.
function M.today(j)
    return tm.time.local_time(j.zone, j.now).date
end

-- Whole days from local date a to local date b (b later gives a positive number).
function M.days_between(zone, a, b)
    local ta = tm.time.from_local(zone, a, "12:00")
    local tb = tm.time.from_local(zone, b, "12:00")
    return math.floor((tb - ta) / 86400 + 0.5)
end

return M
