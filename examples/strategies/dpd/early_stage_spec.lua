-- Specs for strategies/early_stage.lua. Times: 2026-11-23 is a Monday; New York
-- is UTC-5, so 15:00Z is 10:00 local. Thanksgiving is Thursday 2026-11-26.
local J = require("strategies.early_stage")
local journeys = require("lib.journeys")
local jspec = require("lib.jspec")
local ctx, debt, iso = jspec.ctx, jspec.debt, jspec.iso

-- Debt ids in each arm, found with the same function the runtime uses.
local function id_in(variant)
    for i = 1, 1000 do
        local id = "D" .. i
        if J:variant_for(id) == variant then return id end
    end
end
local CHAMP, CHALL = id_in("champion"), id_in("sms_first")

describe("a debt without days_past_due", function()
    it("is taken here unless charged off", function()
        assert_true(J:matches(jspec.bare()))
        assert_true(not J:matches(jspec.bare({ charge_off_date = "2025-01-31" })))
    end)
end)

describe("segment", function()
    it("0 dpd is pre-delinquency, 1 is early", function()
        assert_eq(journeys.select(debt({ days_past_due = 0 })).id, "pre_delinquency")
        assert_eq(journeys.select(debt({ days_past_due = 1 })).id, "early_stage")
    end)
    it("30 dpd is early, 31 is mid", function()
        assert_eq(journeys.select(debt({ days_past_due = 30 })).id, "early_stage")
        assert_eq(journeys.select(debt({ days_past_due = 31 })).id, "mid_stage")
    end)
    it("a no-contact flag, a dispute, a hardship, a promise take precedence", function()
        assert_true(J:matches(debt({ days_past_due = 10 })))
        assert_true(not J:matches(debt({ days_past_due = 10, flags = { cease = true } })))
        assert_eq(journeys.select(debt({ days_past_due = 10, flags = { attorney = true } })).id, "no_contact")
        assert_eq(journeys.select(debt({ days_past_due = 10, dispute = "pending" })).id, "dispute_hold")
        assert_eq(journeys.select(debt({ days_past_due = 10, dispute = "verified" })).id, "early_stage")
        assert_eq(journeys.select(debt({ days_past_due = 10, hardship = true })).id, "hardship")
        assert_eq(journeys.select(debt({ days_past_due = 10, promise = { due = "2026-12-01" } })).id, "promise_watch")
    end)
end)

describe("champion/challenger split", function()
    it("follows tm.bucket: below 9000 champion, from 9000 sms_first", function()
        for i = 1, 200 do
            local id = "D" .. i
            local b = tm.bucket("early_stage:" .. id)
            assert_eq(J:variant_for(id), b < 9000 and "champion" or "sms_first", id)
        end
    end)
    it("is stable: the same debt always gets the same arm", function()
        for _ = 1, 3 do
            assert_eq(J:variant_for(CHAMP), "champion")
            assert_eq(J:variant_for(CHALL), "sms_first")
            assert_eq(J:start(debt({ debt_id = CHALL }), ctx()).variant, "sms_first")
        end
    end)
    it("puts about 10% in sms_first", function()
        local n = 0
        for i = 1, 2000 do
            if J:variant_for("D" .. i) == "sms_first" then n = n + 1 end
        end
        assert_true(n > 140 and n < 260, "sms_first: " .. n .. " of 2000")
    end)
end)

describe("states", function()
    it("remind: champion emails, the challenger texts; nudge in 3 days", function()
        local r = J:start(debt({ debt_id = CHAMP }), ctx())
        assert_state(r, "remind")
        assert_sends(r, { "email:early_reminder" })
        assert_timer(r, "nudge", "2026-11-26T15:00:00Z")
        assert_sends(J:start(debt({ debt_id = CHALL }), ctx()), { "sms:early_reminder" })
    end)
    it("a send outside 09:00-19:00 is planned for 09:00", function()
        local r = J:start(debt({ debt_id = CHAMP }), ctx("2026-11-23T11:00:00Z")) -- 06:00 local
        assert_eq(iso(r.actions[1].at), "2026-11-23T14:00:00Z")
        local r2 = J:start(debt({ debt_id = CHAMP }), ctx("2026-11-24T00:30:00Z")) -- 19:30 local
        assert_eq(iso(r2.actions[1].at), "2026-11-24T14:00:00Z")
    end)
    it("nudge: the other channel; the call 2 business days later", function()
        local r = J:timer(in_state(J, "remind", { variant = "champion", timer_go = "nudge" }), debt(), ctx())
        assert_sends(r, { "sms:early_reminder" })
        assert_timer(r, "call", "2026-11-25T15:00:00Z")
        local r2 = J:timer(in_state(J, "remind", { variant = "sms_first", timer_go = "nudge" }), debt(), ctx())
        assert_sends(r2, { "email:early_reminder" })
    end)
    it("business days skip Thanksgiving and the weekend", function()
        local r = J:timer(in_state(J, "remind", { variant = "champion", timer_go = "nudge" }), debt(),
                          ctx("2026-11-25T15:00:00Z"))
        -- Wed 25 + 2 business days: Thu 26 is Thanksgiving, Fri 27 is 1, Mon 30 is 2
        assert_eq(iso(r.timer.at), "2026-11-30T15:00:00Z")
    end)
    it("call: a call, then the cycle again after 7 days", function()
        local r = J:timer(in_state(J, "nudge", { variant = "champion", timer_go = "call" }), debt(), ctx())
        assert_sends(r, { "call:early_call" })
        assert_timer(r, "remind", "2026-11-30T15:00:00Z")
    end)
    it("every template it sends exists in scripts/channels", function()
        assert_true(#jspec.all_sends(J, debt(), ctx()) >= 4)
        assert_eq(jspec.missing_templates(J, debt(), ctx()), {})
    end)
end)

describe("channels the consumer may be reached on", function()
    it("texts only a consumer who may be texted; else email, else a letter", function()
        local only_email = { email = true, call = true, letter = true }
        assert_sends(J:start(debt({ debt_id = CHALL, channels = only_email }), ctx()),
                     { "email:early_reminder" })
        assert_sends(J:start(debt({ debt_id = CHAMP, channels = { letter = true } }), ctx()),
                     { "letter:mid_letter" })
        local r = J:timer(in_state(J, "remind", { variant = "champion", timer_go = "nudge" }),
                          debt({ channels = { sms = true, email = true } }), ctx())
        assert_sends(r, { "sms:early_reminder" })
        local r2 = J:timer(in_state(J, "remind", { variant = "champion", timer_go = "nudge" }),
                           debt({ channels = { email = true, letter = true } }), ctx())
        assert_sends(r2, { "letter:mid_letter" })
    end)
    it("sends nothing, with a note, when no channel may be used", function()
        local r = J:start(debt({ debt_id = CHAMP, channels = {} }), ctx())
        assert_sends(r, {})
        assert_eq(jspec.actions(r, "note")[1].text, "no channel may be used for early_reminder")
    end)
    it("a send refused for good moves to the next channel the consumer may be reached on", function()
        local js = in_state(J, "remind", { variant = "sms_first" })
        local contact = { channel = "sms", template = "early_reminder", purpose = "collection", at = 1 }
        local r = J:blocked(js, debt({ channels = { email = true, letter = true } }), contact,
                            { blocked_by = "no-contact-point" }, ctx())
        assert_sends(r, { "email:early_reminder" })
        local r2 = J:blocked(js, debt({ channels = { letter = true } }), contact,
                             { blocked_by = "US/tcpa-consent" }, ctx())
        assert_sends(r2, { "letter:mid_letter" })
        local r3 = J:blocked(js, debt({ channels = {} }), contact, { blocked_by = "no-contact-point" }, ctx())
        assert_sends(r3, {})
    end)
    it("a refusal with a later time is rescheduled on the same channel", function()
        local contact = { channel = "sms", template = "early_reminder", purpose = "collection", at = 1 }
        local r = J:blocked(in_state(J, "remind", { variant = "sms_first" }), debt({ channels = { email = true } }),
                            contact, { blocked_by = "US/time", next_allowed_at = 1000 }, ctx())
        assert_sends(r, { "sms:early_reminder" })
        assert_true(r.actions[1].rescheduled)
    end)
end)

describe("events", function()
    local js = in_state(J, "nudge", { variant = "champion", timer_go = "call", timer_at = 1 })
    it("payment closes as paid", function()
        local r = J:event(js, debt(), { type = "payment" }, ctx())
        assert_eq(r.closed, "paid")
        assert_sends(r, {})
    end)
    it("a partial payment is noted; the timer stays", function()
        local r = J:event(js, debt(), { type = "partial_payment" }, ctx())
        assert_state(r, "nudge")
        assert_eq(r.closed, nil)
        assert_timer(r, "call", iso(1))
        assert_eq(jspec.actions(r, "note")[1].text, "partial payment")
    end)
    it("promise, dispute and hardship hand the debt over", function()
        assert_eq(J:event(js, debt(), { type = "promise" }, ctx()).closed, "handoff:promise_watch")
        assert_eq(J:event(js, debt(), { type = "dispute" }, ctx()).closed, "handoff:dispute_hold")
        assert_eq(J:event(js, debt(), { type = "hardship" }, ctx()).closed, "handoff:hardship")
    end)
    it("cease, attorney, bankruptcy and deceased stop all contact in every state", function()
        assert_eq(jspec.stop_problems(J, debt(), ctx()), {})
        local r = J:event(js, debt(), { type = "cease" }, ctx())
        assert_state(r, "stopped")
    end)
    it("an event it does not handle is ignored", function()
        local r = J:event(js, debt(), { type = "address_change" }, ctx())
        assert_true(r.ignored)
        assert_state(r, "nudge")
    end)
end)
