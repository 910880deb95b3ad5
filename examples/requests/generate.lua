-- Generates examples/requests.jsonl: a few hundred realistic contact requests
-- for `tallyman decide`, with a fixed seed so the file is reproducible:
--   ./tallyman eval examples/requests/generate.lua > examples/requests.jsonl
-- Run it in the sandbox like any script: it only computes and returns tables.
math.randomseed(20261123)
local N = 400

-- States weighted roughly by population, with the ones that have their own
-- rules (MA WA NY CA TX CT NV IL CO OR MN NC) well represented.
local states = {
    { "CA", 12 }, { "TX", 10 }, { "FL", 7 }, { "NY", 8 }, { "PA", 4 }, { "IL", 4 }, { "OH", 3 },
    { "GA", 3 }, { "NC", 3 }, { "MI", 3 }, { "NJ", 3 }, { "VA", 2 }, { "WA", 3 }, { "AZ", 2 },
    { "MA", 3 }, { "TN", 2 }, { "IN", 2 }, { "MO", 2 }, { "MD", 2 }, { "WI", 2 }, { "CO", 2 },
    { "MN", 2 }, { "SC", 1 }, { "AL", 1 }, { "LA", 1 }, { "KY", 1 }, { "OR", 2 }, { "OK", 1 },
    { "CT", 2 }, { "NV", 2 }, { "UT", 1 }, { "NM", 1 }, { "WV", 1 }, { "DC", 1 },
}
local nyc_boroughs = { "New York", "Brooklyn", "Queens", "Bronx", "Staten Island" }
local channels = { { "call", 45 }, { "sms", 20 }, { "email", 20 }, { "letter", 10 }, { "push", 2 },
                   { "whatsapp", 2 }, { "visit", 1 } }
local types = { { "credit_card", 40 }, { "personal_loan", 15 }, { "auto_loan", 10 }, { "medical", 20 },
                { "utility", 6 }, { "telecom", 6 }, { "other", 3 } }
local collectors = { { "third_party", 60 }, { "debt_buyer", 25 }, { "creditor", 15 } }

local function pick(list)
    local total = 0
    for _, e in ipairs(list) do total = total + e[2] end
    local r = math.random() * total
    for _, e in ipairs(list) do
        r = r - e[2]
        if r <= 0 then return e[1] end
    end
    return list[#list][1]
end

local function chance(p) return math.random() < p end

-- Monday 2026-11-23 00:00:00Z plus a spread over a week, at any hour.
local base = tm.time.parse("2026-11-23T00:00:00Z")

local out = {}
for i = 1, N do
    local state = pick(states)
    local now = base + math.random(0, 7 * 86400 - 1)
    local consumer = { state = state }
    if state == "NY" and chance(0.5) then consumer.city = nyc_boroughs[math.random(#nyc_boroughs)] end
    if chance(0.7) then
        local zones = tm.time.state_zones(state)
        consumer.timezones = { zones[math.random(#zones)] }
        if chance(0.1) then consumer.timezones[2] = "America/Los_Angeles" end
    end
    local flags = {}
    if chance(0.03) then flags[#flags + 1] = "cease" end
    if chance(0.03) then flags[#flags + 1] = "attorney" end
    if chance(0.02) then flags[#flags + 1] = "bankruptcy" end
    if chance(0.01) then flags[#flags + 1] = "deceased" end
    if chance(0.02) then flags[#flags + 1] = "scra" end
    if chance(0.05) then flags[#flags + 1] = "no_work_contact" end
    if #flags > 0 then consumer.flags = flags end
    consumer.consent = { sms = chance(0.6), email = chance(0.7), autodial = chance(0.3) }
    if chance(0.05) then consumer.optout = { chance(0.5) and "sms" or "email" } end
    if chance(0.08) then consumer.inconvenient = { { from = "12:00", to = "13:00" } } end
    if chance(0.04) then consumer.inconvenient = { { days = { "sun" } } } end

    local channel = pick(channels)
    local dtype = pick(types)
    local years_ago = math.random(0, 9)
    local last_payment = tm.time.add_days("2026-11-23", -(years_ago * 365 + math.random(0, 364)))
    local debt = { id = string.format("D%05d", i), type = dtype, last_payment_date = last_payment,
                   dispute = chance(0.05) and "pending" or (chance(0.03) and "verified" or "none") }

    -- History: 0 to 9 earlier contacts over the past 10 days, before now.
    local history = {}
    for _ = 1, math.random(0, 9) do
        local at = now - math.random(3600, 10 * 86400)
        local ch = chance(0.7) and "call" or (chance(0.5) and "sms" or "email")
        local outcome
        if ch == "call" then
            local r = math.random()
            outcome = r < 0.55 and "attempt" or r < 0.75 and "voicemail" or r < 0.9 and "not_connected" or "conversation"
        else
            outcome = chance(0.9) and "delivered" or "failed"
        end
        history[#history + 1] = { channel = ch, at = tm.time.format(at), outcome = outcome,
                                  place = chance(0.9) and "personal" or "work" }
    end
    table.sort(history, function(a, b) return a.at < b.at end)

    local req = {
        id = string.format("req-%04d", i),
        now = tm.time.format(now),
        channel = channel,
        place = (channel == "call" or channel == "email") and chance(0.1) and "work" or "personal",
        collector = pick(collectors),
        consumer = consumer,
        debt = debt,
    }
    if #history > 0 then req.history = history end
    if channel ~= "call" and channel ~= "visit" and chance(0.7) then
        req.message = { optout_notice = chance(0.85) }
        if chance(0.05) then req.message.threatens_suit = true end
    end
    if channel == "letter" and chance(0.15) then req.purpose = "validation_notice" end
    out[#out + 1] = req
end
return table.unpack(out)
