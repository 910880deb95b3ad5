-- Specs for strategies/promise_watch.lua. 2026-11-23 is a Monday; 15:00Z is
-- 10:00 in New York. Thanksgiving is Thursday 2026-11-26.
local J = require("strategies.promise_watch")
local journeys = require("lib.journeys")
local jspec = require("lib.jspec")
local ctx, debt, sends, iso = jspec.ctx, jspec.debt, jspec.sends, jspec.iso

local function P(due) return debt({ days_past_due = 20, promise = { amount = 5000, due = due } }) end

describe("segment", function()
    it("takes a debt with an open promise, not one without", function()
        assert_eq(journeys.select(P("2026-11-30")).id, "promise_watch")
        assert_eq(journeys.select(debt({ days_past_due = 20 })).id, "early_stage")
        assert_eq(journeys.select(debt({ days_past_due = 200, promise = { due = "2026-12-01" } })).id, "promise_watch")
    end)
    it("hardship comes first", function()
        assert_eq(journeys.select(debt({ days_past_due = 20, hardship = true, promise = {} })).id, "hardship")
    end)
end)

describe("states", function()
    it("a reminder at 10:00 the day before the due date", function()
        local r = J:start(P("2026-11-30"), ctx())
        assert_eq(r.state, "watching")
        assert_eq(sends(r), {})
        assert_eq(r.timer.go, "remind")
        assert_eq(iso(r.timer.at), "2026-11-29T15:00:00Z")
    end)
    it("due tomorrow: the reminder is today at 10:00 if that is still ahead, else at once", function()
        local r = J:start(P("2026-11-24"), ctx("2026-11-23T14:00:00Z")) -- 09:00 local
        assert_eq(iso(r.timer.at), "2026-11-23T15:00:00Z")
        local r2 = J:start(P("2026-11-24"), ctx("2026-11-23T16:00:00Z")) -- 11:00: next 10:00 is tomorrow
        assert_eq(iso(r2.timer.at), "2026-11-24T15:00:00Z")
    end)
    it("due today or no due date: remind now", function()
        assert_eq(sends(J:start(P("2026-11-23"), ctx())), { "sms:promise_reminder" })
        assert_eq(sends(J:start(debt({ promise = {} }), ctx())), { "sms:promise_reminder" })
    end)
    it("broken: an email, then back to the dpd journey after 3 business days", function()
        local r = J:event({ state = "remind", variant = "default" }, P("2026-11-24"), { type = "broken_promise" },
                          ctx("2026-11-25T15:00:00Z"))
        assert_eq(r.state, "broken")
        assert_eq(sends(r), { "email:broken_promise" })
        assert_eq(r.timer.go, "back")
        assert_eq(iso(r.timer.at), "2026-12-01T15:00:00Z") -- Fri 27, Mon 30, Tue 1
        local r2 = J:timer(jspec.js(r), P("2026-11-24"), ctx("2026-12-01T15:00:00Z"))
        assert_eq(r2.closed, "handoff:dpd_journey")
    end)
    it("every template it sends exists in scripts/channels", function()
        assert_eq(jspec.missing_templates(J, P("2026-11-30"), ctx()), {})
    end)
end)

describe("events", function()
    local js = { state = "watching", variant = "default", timer_go = "remind", timer_at = 4 }
    it("payment keeps the promise; a partial payment changes nothing", function()
        assert_eq(J:event(js, P("2026-11-30"), { type = "payment" }, ctx()).closed, "promise_kept")
        local r = J:event(js, P("2026-11-30"), { type = "partial_payment" }, ctx())
        assert_eq({ r.state, r.closed, r.timer.go }, { "watching", nil, "remind" })
    end)
    it("a new promise sets the reminder again", function()
        local r = J:event({ state = "broken", variant = "default" }, P("2026-12-10"), { type = "promise" }, ctx())
        assert_eq(r.state, "watching")
        assert_eq(iso(r.timer.at), "2026-12-09T15:00:00Z")
    end)
    it("cease, attorney, bankruptcy, deceased stop contact in every state", function()
        assert_eq(jspec.stop_problems(J, P("2026-11-30"), ctx()), {})
    end)
end)
