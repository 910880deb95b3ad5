-- Specs for lib/journey.lua: the journey language's checks and runtime.
-- 2026-11-23 is a Monday; 15:00Z is 10:00 in New York (EST). Thanksgiving is
-- Thursday 2026-11-26.
local lib = require("lib.journey")
local journey = lib.journey
local T = tm.time.parse
local NY = "America/New_York"
local function ctx(at) return { now = T(at), zone = NY } end

local function sample(extra)
    local def = {
        id = "sample",
        start = "a",
        states = {
            a = { enter = function(j) j:send("sms", "t_a") end, after = { days(3), "b" },
                  on = { payment = "done", dispute = "hold", promise = function(j, d, ev)
                      if ev.amount and ev.amount >= 100 then return "hold" end
                  end } },
            b = { enter = function(j) j:send("call", "t_b") end, after = { business_days(2), "a" } },
            hold = {},
            done = { final = "paid" },
            loop1 = { enter = function(j) j:move("loop2") end },
            loop2 = { enter = function(j) j:move("loop1") end },
        },
        on = { cease = "hold" },
    }
    for k, v in pairs(extra or {}) do def[k] = v end
    return def
end

local function fails(fn, needle)
    local ok, err = pcall(fn)
    assert_true(not ok, "expected an error")
    assert_true(tostring(err):find(needle, 1, true) ~= nil, "error '" .. tostring(err) .. "' lacks '" .. needle .. "'")
end

describe("definition checks", function()
    it("accepts a good journey", function()
        assert_eq(journey(sample()).id, "sample")
    end)
    it("names an unknown field", function()
        fails(function() journey(sample({ stat = "a" })) end,
              "journey sample: unknown field 'stat' (did you mean 'start'?)")
    end)
    it("names every unknown field at once, in the journey and its states", function()
        local d = sample({ sendwindow = { "10:00", "18:00" } })
        d.states.hold = { descripton = "waits", zzzz = 1 }
        fails(function() journey(d) end, "journey sample: unknown field 'sendwindow' (did you mean "
              .. "'send_window'?); journey sample: states.hold: unknown field 'descripton' (did you "
              .. "mean 'description'?); journey sample: states.hold: unknown field 'zzzz'")
    end)
    it("names a missing target state", function()
        local d = sample()
        d.states.a.on.dispute = "hodl"
        fails(function() journey(d) end, "states.a.on.dispute: no state 'hodl'")
    end)
    it("names an unknown event", function()
        local d = sample()
        d.states.a.on.payed = "done"
        fails(function() journey(d) end, "unknown event 'payed'")
    end)
    it("needs variants to add up to 100", function()
        fails(function() journey(sample({ variants = { a = 90, b = 9 } })) end, "variants add up to 99%")
        assert_eq(#journey(sample({ variants = { a = 90, b = 10 } })).variants, 2)
    end)
    it("checks the start state and timer durations", function()
        fails(function() journey(sample({ start = "z" })) end, "start must name a state")
        local d = sample()
        d.states.b.after = { 3, "a" }
        fails(function() journey(d) end, "after[1] must be a duration")
    end)
    it("checks the send window", function()
        fails(function() journey(sample({ send_window = { "19:00", "09:00" } })) end, "send_window")
    end)
end)

describe("start, timers and business days", function()
    local J = journey(sample())
    it("enters the start state and sets its timer", function()
        local r = J:start({ debt_id = "D1" }, ctx("2026-11-23T15:00:00Z"))
        assert_eq(r.state, "a")
        assert_eq(#r.actions, 1)
        assert_eq(r.actions[1].channel, "sms")
        assert_eq(r.actions[1].template, "t_a")
        assert_eq(tm.time.format(r.timer.at), "2026-11-26T15:00:00Z")
        assert_eq(r.timer.go, "b")
    end)
    it("2 business days from Wednesday skip Thanksgiving: Monday", function()
        local r = J:timer({ state = "a", variant = "default", timer_go = "b" }, { debt_id = "D1" },
                          ctx("2026-11-25T15:00:00Z"))
        assert_eq(r.state, "b")
        assert_eq(r.actions[1].channel, "call")
        assert_eq(tm.time.format(r.timer.at), "2026-11-30T15:00:00Z")
    end)
    it("2 business days from Monday: Wednesday", function()
        local r = J:timer({ state = "a", timer_go = "b" }, { debt_id = "D1" }, ctx("2026-11-23T15:00:00Z"))
        assert_eq(tm.time.format(r.timer.at), "2026-11-25T15:00:00Z")
    end)
    it("days(3) across the DST change keeps the local time (10:00 EDT to 10:00 EST)", function()
        local r = J:start({ debt_id = "D1" }, ctx("2026-10-31T14:00:00Z"))
        assert_eq(tm.time.format(r.timer.at), "2026-11-03T15:00:00Z")
    end)
    it("hours(72) across the DST change is 72 hours", function()
        local d = sample()
        d.states.a.after = { hours(72), "b" }
        local r = journey(d):start({ debt_id = "D1" }, ctx("2026-10-31T14:00:00Z"))
        assert_eq(tm.time.format(r.timer.at), "2026-11-03T14:00:00Z")
    end)
end)

describe("events", function()
    local J = journey(sample())
    local js = { state = "a", variant = "default", timer_go = "b", timer_at = T("2026-11-26T15:00:00Z") }
    it("a payment closes the journey", function()
        local r = J:event(js, { debt_id = "D1" }, { type = "payment" }, ctx("2026-11-24T15:00:00Z"))
        assert_eq(r.state, "done")
        assert_eq(r.closed, "paid")
        assert_eq(r.timer, nil)
    end)
    it("a partial payment falls back to the payment handler", function()
        assert_eq(J:event(js, { debt_id = "D1" }, { type = "partial_payment" }, ctx("2026-11-24T15:00:00Z")).state, "done")
    end)
    it("journey-wide handlers apply in every state", function()
        assert_eq(J:event({ state = "b" }, { debt_id = "D1" }, { type = "cease" }, ctx("2026-11-24T15:00:00Z")).state, "hold")
    end)
    it("an unhandled event is ignored and keeps the timer", function()
        local r = J:event(js, { debt_id = "D1" }, { type = "contact" }, ctx("2026-11-24T15:00:00Z"))
        assert_eq(r.ignored, true)
        assert_eq(r.state, "a")
        assert_eq(r.timer.go, "b")
    end)
    it("a handler function decides: 99 stays, 100 moves", function()
        assert_eq(J:event(js, { debt_id = "D1" }, { type = "promise", amount = 99 }, ctx("2026-11-24T15:00:00Z")).state, "a")
        assert_eq(J:event(js, { debt_id = "D1" }, { type = "promise", amount = 100 }, ctx("2026-11-24T15:00:00Z")).state, "hold")
    end)
    it("a closed journey stays closed: no handler reopens it", function()
        local r = J:event({ state = "done" }, { debt_id = "D1" }, { type = "cease" }, ctx("2026-11-24T15:00:00Z"))
        assert_eq(r.ignored, true)
        assert_eq(r.state, "done")
    end)
    it("a state's payment handler beats the journey's partial_payment", function()
        local d = sample({ on = { cease = "hold", partial_payment = "hold" } })
        assert_eq(journey(d):event(js, { debt_id = "D1" }, { type = "partial_payment" }, ctx("2026-11-24T15:00:00Z")).state, "done")
    end)
    it("a variant needs a debt id", function()
        fails(function() journey(sample({ variants = { a = 50, b = 50 } })):start({}, ctx("2026-11-24T15:00:00Z")) end, "needs the debt's id")
    end)
    it("an unknown event type is an error", function()
        fails(function() J:event(js, { debt_id = "D1" }, { type = "payed" }, ctx("2026-11-24T15:00:00Z")) end, "unknown event type 'payed'")
    end)
    it("a loop of moves is stopped", function()
        local d = sample()
        d.start = "loop1"
        fails(function() journey(d):start({ debt_id = "D1" }, ctx("2026-11-24T15:00:00Z")) end, "more than 32 moves")
    end)
end)

describe("variants", function()
    local J = journey(sample({ variants = { champion = 90, challenger = 10 } }))
    it("are stable per debt and split about 90/10", function()
        local n = 0
        for i = 1, 2000 do
            local id = string.format("D%09d", i)
            local v = J:variant_for(id)
            assert_eq(J:variant_for(id), v)
            if v == "challenger" then n = n + 1 end
        end
        assert_true(n > 140 and n < 260, "challenger share " .. n .. " of 2000")
    end)
    it("moving 10% to 20% keeps every earlier challenger a challenger", function()
        local J2 = journey(sample({ variants = { champion = 80, challenger = 20 } }))
        for i = 1, 2000 do
            local id = string.format("D%09d", i)
            if J:variant_for(id) == "challenger" then assert_eq(J2:variant_for(id), "challenger") end
        end
    end)
end)

describe("send window and blocked sends", function()
    local J = journey(sample({ send_window = { "09:00", "19:00" } }))
    it("a send at 08:59 local is planned for 09:00", function()
        local r = J:start({ debt_id = "D1" }, ctx("2026-11-23T13:59:00Z"))
        assert_eq(tm.time.format(r.actions[1].at), "2026-11-23T14:00:00Z")
    end)
    it("a send at 09:00 local is planned now", function()
        local r = J:start({ debt_id = "D1" }, ctx("2026-11-23T14:00:00Z"))
        assert_eq(tm.time.format(r.actions[1].at), "2026-11-23T14:00:00Z")
    end)
    it("a send at 19:00 local waits for the next morning", function()
        local r = J:start({ debt_id = "D1" }, ctx("2026-11-24T00:00:00Z"))
        assert_eq(tm.time.format(r.actions[1].at), "2026-11-24T14:00:00Z")
    end)
    it("blocked sends are rescheduled at next_allowed_at by default", function()
        local r = J:blocked({ state = "a" }, { debt_id = "D1" }, { channel = "sms", template = "t_a" },
                            { next_allowed_at = T("2026-11-24T14:00:00Z") }, ctx("2026-11-23T15:00:00Z"))
        assert_eq(r.actions[1].type, "send")
        assert_eq(r.actions[1].rescheduled, true)
        assert_eq(tm.time.format(r.actions[1].at), "2026-11-24T14:00:00Z")
    end)
    it("a blocked handler may move the debt", function()
        local J3 = journey(sample({ blocked = function(j) j:move("hold") end }))
        local r = J3:blocked({ state = "a" }, { debt_id = "D1" }, { channel = "sms", template = "t_a" }, {}, ctx("2026-11-23T15:00:00Z"))
        assert_eq(r.state, "hold")
        assert_eq(#r.actions, 0)
    end)
    it("a journey may skip or switch channel", function()
        local J2 = journey(sample({ blocked = function(j, d, c)
            if c.channel == "sms" then j:send("email", "t_a") return nil end
            return "skip"
        end }))
        local r = J2:blocked({ state = "a" }, { debt_id = "D1" }, { channel = "sms", template = "t_a" }, {}, ctx("2026-11-23T15:00:00Z"))
        assert_eq(r.actions[1].channel, "email")
        local r2 = J2:blocked({ state = "a" }, { debt_id = "D1" }, { channel = "call", dialer = "manual", template = "t_b" }, {}, ctx("2026-11-23T15:00:00Z"))
        assert_eq(#r2.actions, 0)
    end)
end)

describe("edges for graphs", function()
    it("lists event and timer transitions", function()
        local e = journey(sample()):edges()
        local seen, nodes = {}, {}
        for _, x in ipairs(e) do
            if x.node then nodes[x.node] = x.label else seen[x.from .. ">" .. x.to .. ":" .. x.label] = true end
        end
        assert_eq(nodes.a, "sends sms t_a")
        assert_eq(nodes.b, "sends call t_b")
        assert_eq(nodes.loop1, nil) -- it moves, sends nothing
        assert_eq(nodes.hold, nil)
        assert_true(seen["a>b:after 3 days"], "timer edge")
        assert_true(seen["b>a:after 2 business days"], "business-day edge")
        assert_true(seen["a>done:payment"], "event edge")
        assert_true(seen["*>hold:cease"], "journey-wide edge")
    end)
end)

describe("settlement authority (lib/authority.lua)", function()
    local function offering(pct, role, extra)
        local j = journey(sample({ start = "o", states = {
            o = { enter = function(h) h:offer_settlement { percent = pct, role = role } end },
            hold = {},
        } }))
        local d = { debt_id = "D1", balance = 100000, currency = "USD", state = "TX", creditor = "Acme" }
        for k, v in pairs(extra or {}) do d[k] = v end
        return j:start(d, ctx("2026-11-23T15:00:00Z"))
    end
    it("an agent may offer 50%, not 49.99%", function()
        local r = offering(50, "agent")
        assert_eq(r.actions[1].type, "offer_settlement")
        assert_eq(r.actions[1].min_bps, 5000)
        fails(function() offering(49.99, "agent") end, "beyond authority")
    end)
    it("a supervisor may go to 40%, a manager to 25%, nobody below the floor", function()
        assert_eq(offering(40, "supervisor").actions[1].role, "supervisor")
        fails(function() offering(39.99, "supervisor") end, "beyond authority")
        assert_eq(offering(25, "manager").actions[1].min_bps, 2500)
        fails(function() offering(24.99, "manager") end, "beyond authority")
    end)
    it("a creditor's stricter row wins for its debts", function()
        fails(function() offering(40, "supervisor", { creditor = "Example Bank" }) end, "beyond authority")
        assert_eq(offering(45, "supervisor", { creditor = "Example Bank" }).actions[1].min_bps, 4500)
    end)
    it("names what is wrong with a bad offer", function()
        fails(function() offering(0, "agent") end, "above 0 and at most 100")
        fails(function() offering(101, "agent") end, "above 0 and at most 100")
        fails(function() offering(60, "clerk") end, "role must be agent, supervisor or manager")
        fails(function() offering(60, "agent", { balance = 0 }) end, "no balance to settle")
    end)
end)

describe("scores in a journey", function()
    local function scoring(d)
        local j = journey(sample({ start = "s", states = {
            s = { enter = function(h)
                      local p = h:score("ptp")
                      if p >= 0.3 then h:move("a") else h:move("hold") end
                  end },
            a = {}, hold = {},
        } }))
        return j:start(d, ctx("2026-11-23T15:00:00Z"))
    end
    local base = { debt_id = "D1", state = "TX", debt_type = "credit_card", currency = "USD" }
    local function with(t) local d = {} for k, v in pairs(base) do d[k] = v end for k, v in pairs(t) do d[k] = v end return d end
    it("scores the debt now and records the probability and reasons", function()
        local r = scoring(with({ days_past_due = 5, balance = 30000, last_payment_date = "2026-11-01" }))
        local a = r.actions[1]
        assert_eq(a.type, "score")
        assert_eq(a.model, "ptp")
        assert_true(a.probability > 0 and a.probability < 1)
        assert_true(#a.reasons >= 1)
    end)
    it("the journey acts on the score: young debts and old ones go different ways", function()
        local young = scoring(with({ days_past_due = 5, balance = 30000, last_payment_date = "2026-11-01" }))
        local old = scoring(with({ days_past_due = 400, balance = 900000, charge_off_date = "2025-06-01" }))
        assert_true(young.actions[1].probability > old.actions[1].probability)
        assert_eq(young.state, "a")
        assert_eq(old.state, "hold")
    end)
    it("features come from the debt, named as training names them", function()
        local f = lib.features({ days_past_due = 40, placed_balance = 12345, balance = 100, state = "NY",
                                 debt_type = "medical", last_payment_date = "2026-11-13",
                                 charge_off_date = "" }, T("2026-11-23T15:00:00Z"))
        assert_eq({ f.days_past_due, f.balance, f.state, f.debt_type, f.days_since_last_payment,
                    f.days_since_charge_off }, { 40, 123.45, "NY", "medical", 10, nil })
    end)
    it("an unknown model stops the step with its name", function()
        local j = journey(sample({ start = "s", states = { s = { enter = function(h) h:score("nope") end }, hold = {} } }))
        fails(function() j:start(base, ctx("2026-11-23T15:00:00Z")) end, "nope")
    end)
end)

describe("a debt the journey cannot place", function()
    local J = journey(sample())
    local c = ctx("2026-11-23T15:00:00Z")
    it("an event in a state the journey no longer has is an error for the engine to park", function()
        local r = J:event({ state = "gone", variant = "default" }, { debt_id = "D1" }, { type = "payment" }, c)
        assert_true(r.ignored)
        assert_true(r.error:find("state 'gone' is not in journey sample", 1, true) ~= nil)
    end)
    it("so is a timer to a state it no longer has", function()
        local r = J:timer({ state = "a", variant = "default", timer_go = "gone", timer_at = c.now }, { debt_id = "D1" }, c)
        assert_true(r.error:find("state 'gone', which is not in journey sample", 1, true) ~= nil)
    end)
    it("a closed journey ignores events quietly", function()
        local r = J:event({ state = "done", variant = "default" }, { debt_id = "D1" }, { type = "payment" }, c)
        assert_true(r.ignored)
        assert_eq(r.error, nil)
    end)
    it("each result knows the journey that made it, for the spec helpers", function()
        local r = J:event({ state = "gone", variant = "default" }, { debt_id = "D1" }, { type = "payment" }, c)
        assert_true(lib.journey_of(r) == J)
        assert_true(lib.journey_of(J:start({ debt_id = "D1" }, c)) == J)
        assert_eq(lib.journey_of({ state = "a", actions = {} }), nil)
    end)
end)

describe("versions and migrations", function()
    it("checks migrate: old versions only, target states must exist", function()
        fails(function() journey(sample({ version = 2, migrate = { [1] = { states = { x = "nowhere" } } } })) end,
              "journey sample: migrate[1].states.x: no state 'nowhere' in version 2")
        fails(function() journey(sample({ version = 2, migrate = { [2] = {} } })) end,
              "migrate[2]: a migration comes from an older version")
        fails(function() journey(sample({ version = 2, migrate = { one = {} } })) end,
              "migrate[one]: the key must be the old version's number")
        fails(function() journey(sample({ version = 2, migrate = { [1] = { stats = {} } } })) end,
              "migrate[1]: unknown field 'stats'")
        fails(function() journey(sample({ version = 2, migrate = { [1] = "b" } })) end,
              "migrate[1] must be")
    end)
    it("notes a version with no migration from an older one", function()
        assert_eq(journey(sample()).note, nil)
        local n = journey(sample({ version = 3, migrate = { [2] = {} } })).note
        assert_true(n:find("declares no migration from version 1:", 1, true) ~= nil, n)
        assert_eq(journey(sample({ version = 2, migrate = { [1] = {} } })).note, nil)
    end)
    it("maps states and the timer target; an unmapped state keeps its name", function()
        local J = journey(sample({ version = 2, migrate = {
            [1] = { states = { old_b = "b" } },
        } }))
        local js = J:migrate({ state = "old_b", variant = "default", timer_go = "a", timer_at = 99 }, {}, 1)
        assert_eq(js.state, "b")
        assert_eq(js.timer_go, "a")
        assert_eq(js.timer_at, 99)
        assert_eq(J:migrate({ state = "hold" }, {}, 1).state, "hold")
    end)
    it("a function decides per debt; a state that has no place is named", function()
        local J = journey(sample({ version = 2, migrate = {
            [1] = function(debt, s) if s == "gone" then return debt.balance > 10 and "b" or "a" end end,
        } }))
        assert_eq(J:migrate({ state = "gone" }, { balance = 20 }, 1).state, "b")
        assert_eq(J:migrate({ state = "gone" }, { balance = 5 }, 1).state, "a")
        fails(function() J:migrate({ state = "lost" }, {}, 1) end,
              "migrating from version 1: state 'lost' is not in version 2")
        fails(function() J:migrate({ state = "a" }, {}, 7) end, "declares no migration from version 7")
    end)
end)

describe("a supervisor's override", function()
    local function offering(pct, role, override)
        local j = journey(sample({ start = "o", states = {
            o = { enter = function(h) h:offer_settlement { percent = pct, role = role, override = override } end },
            hold = {},
        } }))
        return j:start({ debt_id = "D1", balance = 100000, currency = "USD", state = "TX", creditor = "Acme" },
                       ctx("2026-11-23T15:00:00Z"))
    end
    it("lets a supervisor go below the minimum, marked for the audit log", function()
        local a = offering(30, "supervisor", true).actions[1]
        assert_eq({ a.type, a.overridden }, { "offer_settlement", true })
        assert_eq(offering(45, "supervisor").actions[1].overridden, nil)
    end)
    it("not below the floor, and not for an agent", function()
        fails(function() offering(24, "supervisor", true) end, "beyond authority")
        fails(function() offering(30, "agent", true) end, "beyond authority")
        fails(function() offering(30, "supervisor", "yes") end, "override must be true or false")
    end)
end)

describe("timers are always ahead", function()
    it("a clock time must be a real one", function()
        fails(function() journey(sample({ states = { a = { at = { "25:00", "a" } }, hold = {} } })) end, "00:00 to 23:59")
        fails(function() journey(sample({ states = { a = { at = { "10:60", "a" } }, hold = {} } })) end, "00:00 to 23:59")
    end)
    it("j:at refuses a day count that would set it in the past", function()
        local j = journey(sample({ start = "s", states = { s = { enter = function(h) h:at("10:00", "s", -1) end }, hold = {} } }))
        fails(function() j:start({ debt_id = "D1" }, ctx("2026-11-23T15:00:00Z")) end, "whole number from 0")
        local k = journey(sample({ start = "s", states = { s = { enter = function(h) h:at("24:00", "s") end }, hold = {} } }))
        fails(function() k:start({ debt_id = "D1" }, ctx("2026-11-23T15:00:00Z")) end, "00:00 to 23:59")
    end)
    it("durations below one are refused where they are written", function()
        local ok, err = pcall(days, 0)
        assert_true(not ok and tostring(err):find("bad argument #1 to 'days' (1 to 3660 expected, got 0)", 1, true) ~= nil)
    end)
end)

describe("a send the gate could not judge", function()
    it("an unknown purpose is refused where it is written", function()
        local j = journey(sample({ start = "s", states = { s = { enter = function(h) h:send("email", "x", { purpose = "marketing" }) end }, hold = {} } }))
        fails(function() j:start({ debt_id = "D1" }, ctx("2026-11-23T15:00:00Z")) end, "purpose must be collection")
        local k = journey(sample({ start = "s", states = { s = { enter = function(h) h:send("letter", "x", { purpose = "validation_notice" }) end }, hold = {} } }))
        assert_eq(k:start({ debt_id = "D1" }, ctx("2026-11-23T15:00:00Z")).actions[1].purpose, "validation_notice")
    end)
end)

describe("best slot", function()
    local function one(enter)
        return journey { id = "slot", start = "a", states = { a = { enter = enter } } }
    end
    it("without a contact model in the set: nil and why, and the journey can fall back", function()
        local got
        local J = one(function(j)
            local slot, why = j:best_slot { channels = { "sms" }, within = days(3) }
            got = why
            j:send("sms", "t_a", { at = slot and slot.at or "10:00" })
        end)
        local r = J:start({ debt_id = "D1" }, ctx("2026-11-23T13:00:00Z"))
        assert_true(got:find("no contact model 'contact'", 1, true) ~= nil, got)
        assert_eq(tm.time.format(r.actions[1].at), "2026-11-23T15:00:00Z")
    end)
    it("a channel the consumer cannot be reached on: nil and why", function()
        local got
        local J = one(function(j)
            local _, why = j:best_slot { channels = { "email", "voice" }, within = days(1) }
            got = why
        end)
        J:start({ debt_id = "D1", channels = { sms = true } }, ctx("2026-11-23T13:00:00Z"))
        assert_eq(got, "the consumer cannot be reached on any channel asked (email, voice)")
    end)
    it("checks its arguments where they are written", function()
        local J = one(function(j) j:best_slot { channels = { "fax" } } end)
        fails(function() J:start({ debt_id = "D1" }, ctx("2026-11-23T13:00:00Z")) end,
              "best_slot: unknown channel 'fax'")
        J = one(function(j) j:best_slot { channels = { "sms" }, within = days(40) } end)
        fails(function() J:start({ debt_id = "D1" }, ctx("2026-11-23T13:00:00Z")) end,
              "best_slot: within must be at most 31 days")
        J = one(function(j) j:best_slot { channels = { "sms" }, outcome = "reply" } end)
        fails(function() J:start({ debt_id = "D1" }, ctx("2026-11-23T13:00:00Z")) end,
              "best_slot: outcome must be \"rpc\" or \"pay\"")
    end)
    it("send takes a time from it, not one before now", function()
        local J = one(function(j) j:send("sms", "t_a", { at = j.now + 7200 }) end)
        local r = J:start({ debt_id = "D1" }, ctx("2026-11-23T13:00:00Z"))
        assert_eq(tm.time.format(r.actions[1].at), "2026-11-23T15:00:00Z")
        J = one(function(j) j:send("sms", "t_a", { at = j.now - 1 }) end)
        fails(function() J:start({ debt_id = "D1" }, ctx("2026-11-23T13:00:00Z")) end,
              "send: at, as a time, must not be before now")
    end)
end)
