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

-- Channels. debt.channels is the engine's set of the channels a message may
-- go on for the consumer: consent on file for SMS and WhatsApp, no opt-out,
-- a contact point on file that did not bounce or fail (it is absent where
-- the engine does not know, as in specs: then every channel may be tried).
function M.can(d, channel)
    return d.channels == nil or d.channels[channel] == true
end

-- The template a channel sends for `template`: the same one where the
-- channel has it, a letter's general one (mid_letter) for a letter.
local function template_on(channel, template)
    local catalog = require("channels.catalog")
    if catalog.find(channel, template) then return template end
    if channel == "letter" then return "mid_letter" end
    return nil
end

-- Sends `template` on the first of `channels` the debt may use that has it
-- (a letter: its general letter); returns the channel, or nil when none may
-- be used (a note says so, nothing is sent). `opts` as for j:send.
function M.send_first(j, template, channels, opts)
    for _, ch in ipairs(channels) do
        local t = M.can(j.debt, ch) and template_on(ch, template)
        if t then
            j:send(ch, t, opts)
            return ch
        end
    end
    j:note("no channel may be used for " .. template)
    return nil
end

-- Where a refused send goes next, by the refused channel.
M.FALLBACK = { sms = { "email", "letter" }, whatsapp = { "sms", "email", "letter" },
               email = { "sms", "letter" }, call = { "sms", "email", "letter" },
               push = { "sms", "email" }, letter = { "email" } }

-- A journey's `blocked` function: a send the gate refused for good (no time
-- will allow it: no consent, an opt-out, no usable contact point) goes on the
-- next channel of `order` (default M.FALLBACK) the debt may use; a refusal
-- with a later allowed time is rescheduled as usual.
function M.fallback(order)
    order = order or M.FALLBACK
    return function(j, debt, contact, decision)
        if decision.next_allowed_at then return "reschedule" end
        for _, ch in ipairs(order[contact.channel] or {}) do
            local t = ch ~= contact.channel and M.can(debt, ch) and template_on(ch, contact.template)
            if t then
                j:send(ch, t, { purpose = contact.purpose })
                return
            end
        end
        return "skip"
    end
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
