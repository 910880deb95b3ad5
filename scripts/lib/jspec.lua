-- scripts/lib/jspec.lua: helpers for journey specs (not a spec itself).
local catalog = require("channels.catalog")
local M = {}

M.ZONE = "America/New_York"

-- A context at an RFC 3339 time (default Monday 2026-11-23 10:00 New York).
function M.ctx(iso, zone)
    return { now = tm.time.parse(iso or "2026-11-23T15:00:00Z"), zone = zone or M.ZONE }
end

function M.iso(t) return tm.time.format(t) end

-- A debt with defaults; fields in `over` replace them.
function M.debt(over)
    local d = { debt_id = "D000001", id = "D000001", days_past_due = 10, balance = 125000,
                currency = "USD", flags = {} }
    for k, v in pairs(over or {}) do d[k] = v end
    return d
end

-- A debt as the engine hands it to a journey when the import gave only the
-- required fields (external_id, debt_id, state, balance, currency): no
-- days_past_due, dates, debt_type, creditor, hardship or promise. Fields in
-- `over` are added.
function M.bare(over)
    local d = { debt_id = "D000002", id = "D000002", state = "MA", currency = "USD",
                dispute = "none", status = "open", zone = M.ZONE, language = "en",
                balance = 125000, placed_balance = 125000, flags = {} }
    for k, v in pairs(over or {}) do d[k] = v end
    return d
end

-- The actions of type `ty` in a result.
function M.actions(res, ty)
    local out = {}
    for _, a in ipairs(res.actions) do
        if a.type == ty then out[#out + 1] = a end
    end
    return out
end

-- "channel:template" of each send in a result, in order.
function M.sends(res)
    local out = {}
    for _, a in ipairs(res.actions) do
        if a.type == "send" then out[#out + 1] = a.channel .. ":" .. a.template end
    end
    return out
end

-- The journey state after `res`, for the next call.
function M.js(res)
    return { state = res.state, variant = res.variant,
             timer_go = res.timer and res.timer.go, timer_at = res.timer and res.timer.at }
end

-- Enters every state of J for every variant (as if a timer went there) and
-- returns each send made; then checks that each template is in the catalog.
function M.all_sends(J, debt, ctx)
    local out = {}
    local variants = { "default" }
    if #J.variants > 0 then
        variants = {}
        for i, v in ipairs(J.variants) do variants[i] = v.name end
    end
    for _, v in ipairs(variants) do
        for name in pairs(J.def.states) do
            local res = J:timer({ state = J.def.start, variant = v, timer_go = name }, debt, ctx)
            for _, a in ipairs(res.actions) do
                if a.type == "send" then out[#out + 1] = a end
            end
        end
    end
    return out
end

function M.missing_templates(J, debt, ctx)
    local missing = {}
    for _, a in ipairs(M.all_sends(J, debt, ctx)) do
        if not catalog.find(a.channel, a.template) then
            missing[#missing + 1] = a.channel .. ":" .. a.template
        end
    end
    return missing
end


-- Problems with the stop events in each state of J: each of cease, attorney,
-- bankruptcy, deceased must lead to a state that sends nothing and sets no
-- timer, and there the events that would restart contact must send nothing.
-- `handoffs` (optional) names the closing reason a stop event may have
-- instead ({ bankruptcy = "handoff:bankruptcy" }): the debt goes to the
-- journey for it, which sends nothing either (its own spec says so).
local CONTACT_EVENTS = { "promise", "dispute", "hardship", "broken_promise", "inbound_reply",
                         "consent", "contact", "partial_payment", "dispute_verified", "placement" }
function M.stop_problems(J, debt, ctx, handoffs)
    local probs = {}
    local function add(s) probs[#probs + 1] = s end
    local states = {}
    for name, st in pairs(J.def.states) do
        if not st.final then states[#states + 1] = name end
    end
    table.sort(states)
    for _, s in ipairs(states) do
        for _, ev in ipairs({ "cease", "attorney", "bankruptcy", "deceased" }) do
            local js = { state = s, variant = "default", timer_go = J.def.start, timer_at = ctx.now + 86400 }
            local res = J:event(js, debt, { type = ev }, ctx)
            if handoffs and handoffs[ev] and res.closed == handoffs[ev] and #M.sends(res) == 0 then
                goto next_event
            end
            if #M.sends(res) > 0 then add(s .. "+" .. ev .. ": sends " .. table.concat(M.sends(res), ",")) end
            if res.timer then add(s .. "+" .. ev .. ": keeps a timer to " .. tostring(res.timer.go)) end
            if res.closed then add(s .. "+" .. ev .. ": closes (" .. res.closed .. ")") end
            if res.ignored then add(s .. "+" .. ev .. ": ignored") end
            for _, ev2 in ipairs(CONTACT_EVENTS) do
                local r2 = J:event(M.js(res), debt, { type = ev2 }, ctx)
                if #M.sends(r2) > 0 or r2.state ~= res.state or r2.timer then
                    add(s .. "+" .. ev .. "+" .. ev2 .. ": contact restarts (" .. tostring(r2.state) .. ")")
                end
            end
            ::next_event::
        end
    end
    return probs
end

return M
