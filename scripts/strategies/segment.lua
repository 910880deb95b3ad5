-- scripts/strategies/segment.lua: how the strategy library reads a debt, so
-- that every journey's segment and every branch inside a journey use the same
-- words for the same thing. Not a journey (the engine loads it as a module).
--
-- Four questions, each answered from what the engine hands a journey:
--
-- * risk: how likely the debt is to be paid. The shipped propensity model
--   (models/ptp.json) scored on what the debt carries without a clock
--   (days past due, balance as placed, debt type, state): a segment function
--   gets no `now`, so the date features are left to the model's catch-all bin
--   for every debt alike, which keeps the ranking. Bands are cut at the
--   demo portfolio's tertiles of that score (see strategies.md, "The
--   strategy library"): high risk below 0.10, low risk from 0.17.
-- * self-cure: how likely an early-stage debt is to be paid without collection
--   work (models/self_cure.json); from 0.34, the top quarter of the portfolio's
--   1-30 days past due debts, a debt gets the light touch.
-- * capacity: whether the consumer can pay the balance at once. A hardship
--   event says not; so does a balance of $5,000 or more with a propensity
--   under the low-risk band (a large debt the consumer is unlikely to clear in
--   one payment: offer a plan first).
-- * willingness: whether the consumer has shown they will pay: a payment since
--   placement (balance below the placed balance), a promise open, or no
--   payment ever on record (no last_payment_date: the first contact decides).
-- * contactability: the channels the consumer may be reached on
--   (debt.channels: consent, opt-outs, contact points that work) and the
--   channel they asked for (debt.preferred_channel).
local strategy = require("lib.strategy")

local M = {}

M.RISK_HIGH_BELOW = 0.10     -- ptp under this: high risk
M.RISK_LOW_FROM = 0.17       -- ptp from this: low risk
M.SELF_CURE_FROM = 0.34      -- self_cure from this: light touch
M.HIGH_BALANCE = 500000      -- minor units ($5,000)
M.DIGITAL = { "email", "sms", "whatsapp", "push" }
M.REACH = { "call", "sms", "email", "letter", "whatsapp", "push" }

-- The features a segment can score a debt on (no clock: see above).
function M.features(d)
    local f = { days_past_due = d.days_past_due, debt_type = d.debt_type, state = d.state }
    local bal = d.placed_balance or d.balance
    if type(bal) == "number" and bal > 0 then f.balance = bal / 100 end
    return f
end

-- The propensity to pay, 0..1.
function M.ptp(d)
    local p = tm.score("ptp", M.features(d))
    return p
end

-- The probability an early-stage debt pays without collection work, 0..1.
function M.self_cure(d)
    local p = tm.score("self_cure", M.features(d))
    return p
end

-- "high", "medium" or "low" risk, by the propensity to pay.
function M.risk(d)
    local p = M.ptp(d)
    if p < M.RISK_HIGH_BELOW then return "high" end
    if p >= M.RISK_LOW_FROM then return "low" end
    return "medium"
end

-- The risk band of a debt not yet past due. Current accounts score higher
-- than any past-due one (no current debt of the demo portfolio scores under
-- 0.14), so they are banded among themselves: high risk below 0.20, low from
-- 0.30.
M.PRE_RISK_HIGH_BELOW = 0.20
M.PRE_RISK_LOW_FROM = 0.30
function M.pre_risk(d)
    local p = M.ptp(d)
    if p < M.PRE_RISK_HIGH_BELOW then return "high" end
    if p >= M.PRE_RISK_LOW_FROM then return "low" end
    return "medium"
end

-- Whether the debt is a likely self-curer: 1 to 30 days past due, not a large
-- balance, and a self-cure score in the top quarter.
function M.likely_self_cure(d)
    local dpd = d.days_past_due
    return dpd ~= nil and dpd >= 1 and dpd <= 30 and (d.balance or 0) < M.HIGH_BALANCE
        and M.self_cure(d) >= M.SELF_CURE_FROM
end

-- "low" when the consumer is unlikely to clear the balance at once (a
-- hardship, or a large balance with a propensity under the low-risk band),
-- else "normal".
function M.capacity(d)
    if d.hardship == true then return "low" end
    if (d.balance or 0) >= M.HIGH_BALANCE and M.ptp(d) < M.RISK_LOW_FROM then return "low" end
    return "normal"
end

-- "paying" (paid since placement), "promised" (a promise open), "never"
-- (no payment on record) or "lapsed" (paid once, not since placement).
function M.willingness(d)
    if type(d.promise) == "table" then return "promised" end
    if type(d.placed_balance) == "number" and (d.balance or 0) < d.placed_balance then return "paying" end
    if d.last_payment_date == nil then return "never" end
    return "lapsed"
end

-- Whether no channel at all may be used (the engine knows the consumer's
-- channels and none is left): the consumer must be found again first.
function M.unreachable(d)
    if d.channels == nil then return false end
    for _, ch in ipairs(M.REACH) do
        if d.channels[ch] then return false end
    end
    return true
end

-- The consumer's digital channel when they asked for one and may be reached
-- on it (a preferred email, SMS, WhatsApp or push), else nil.
function M.digital_preference(d)
    local p = d.preferred_channel
    for _, ch in ipairs(M.DIGITAL) do
        if p == ch and strategy.can(d, ch) then return ch end
    end
    return nil
end

-- Whether a phone call may be made (a number on file that works).
function M.callable(d)
    return strategy.can(d, "call")
end

-- A re-aged account: charged off, yet its days past due are under the 180 at
-- which charge-off comes. The creditor reset the delinquency (re-aged it after
-- payments, or placed it again after it came back from another agency), so the
-- days past due no longer tell how old the debt is.
function M.reaged(d)
    return d.charge_off_date ~= nil and d.days_past_due ~= nil and d.days_past_due < 180
end

-- Settlement territory: charged off, or more than 180 days past due.
function M.settlement_stage(d)
    return d.charge_off_date ~= nil or (d.days_past_due ~= nil and d.days_past_due > 180)
end

-- A promise for less than the balance on a debt in settlement territory: the
-- consumer accepted a settlement.
function M.settlement_promise(d)
    local p = d.promise
    return type(p) == "table" and type(p.amount) == "number" and p.amount < (d.balance or 0)
        and M.settlement_stage(d)
end

-- Stop flags. cease and attorney end all contact (no_contact); bankruptcy and
-- deceased have journeys of their own.
function M.stopped(d)
    local f = d.flags or {}
    return f.cease == true or f.attorney == true
end

function M.flag(d, name)
    return (d.flags or {})[name] == true
end

-- Whether any stop flag is set (the contact journeys take no such debt).
function M.any_stop(d)
    return strategy.flagged(d)
end

-- The events that end or change all contact in a contact journey: cease and
-- attorney stop it; bankruptcy and deceased hand the debt to their journeys.
function M.stop_events(extra)
    local on = { cease = "stopped", attorney = "stopped", bankruptcy = "to_bankruptcy", deceased = "to_estate" }
    for k, v in pairs(extra or {}) do on[k] = v end
    return on
end

-- The states every contact journey has for the events above.
function M.common_states(states)
    states.stopped = states.stopped or strategy.stopped()
    states.to_bankruptcy = strategy.handoff("bankruptcy")
    states.to_estate = strategy.handoff("deceased_estate")
    states.paid = states.paid or { final = "paid" }
    return states
end

-- The events every contact journey handles the same way: a payment that
-- clears the balance ends it; a promise, a dispute or a hardship hands the
-- debt to the journey for it; a partial payment is noted; the stop events as
-- above. `extra` adds or replaces handlers.
function M.contact_on(extra)
    local on = M.stop_events({ payment = "paid", promise = "promised", dispute = "disputed",
                               hardship = "hardship",
                               partial_payment = function(j) j:note("partial payment") end })
    for k, v in pairs(extra or {}) do on[k] = v end
    return on
end

-- The states M.contact_on leads to, added to a journey's own.
function M.contact_states(states)
    states.promised = states.promised or strategy.handoff("promise_watch")
    states.disputed = states.disputed or strategy.handoff("dispute_hold")
    states.hardship = states.hardship or strategy.handoff("hardship")
    return M.common_states(states)
end

-- The local hour the library sends at: 17:30, the start of the evening, when
-- consumers answer most (the simulated consumer's hours; the fixed time until
-- the engine learns it). best_slot: once j:best_slot{channels = ..., within =
-- days(3)} is in the engine, the sends below ask it for the channel and the
-- moment the gate allows with the highest expected response, in place of this
-- fixed hour.
M.SEND_AT = "17:30"

-- Sends `template` on the first of `channels` the debt may be reached on
-- (strategy.send_first), at M.SEND_AT; returns the channel or nil.
function M.send(j, template, channels)
    return strategy.send_first(j, template, channels, { at = M.SEND_AT })
end

-- The hand-offs a stop event may make, for jspec.stop_problems.
M.STOP_HANDOFFS = { bankruptcy = "handoff:bankruptcy", deceased = "handoff:deceased_estate" }

return M
