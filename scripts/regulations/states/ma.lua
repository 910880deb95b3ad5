-- Massachusetts: the Attorney General's debt collection regulations (940 CMR
-- 7.00, under G.L. c. 93A) and the Division of Banks' rules for licensed debt
-- collectors (209 CMR 18.00, under G.L. c. 93 s. 24-28).
--
-- Who: 940 CMR 7.00 binds CREDITORS collecting their own debts (7.04: "for a
-- creditor to contact a debtor"); 209 CMR 18.00 binds DEBT COLLECTORS (third-party
-- collectors and debt buyers). The two rule sets carry the same contact limits,
-- so every rule here applies to every collector unless it says otherwise. Rules
-- that only repeat a federal rule for FDCPA collectors are written for creditors
-- only (the federal rule already binds the others).
--
-- Sources read (see the report of 2026-11-23):
--   940 CMR 7.04(1)(a)-(f) opening, 7.05, 7.06 - Justia / Casetext copies (V);
--   209 CMR 18.16(1)(a)-(d) - law.cornell.edu (V); 209 CMR 18.17(6), (7) - Casetext (V);
--   Armata v. Target (SJC 2019) and Watkins v. Glenn Assocs. - summaries (S);
--   masslegalhelp.org and lawinfo summaries of both rule sets (S).
--   The paragraph letters of 940 CMR 7.04(1) after (f) (household visits, workplace
--   visits, the work-call request of 7.04(1)(h)) could not be read; those rules cite
--   the 209 CMR paragraph that was read and "940 CMR 7.04(1)" for creditors.
--
-- Interpretations chosen where the law is unsettled (each also on its rule):
-- * "Each seven-day period" / "each 30-day period" are rolling windows of local
--   calendar dates, counted as Regulation F counts "seven consecutive days" (the
--   date of an earlier contact is day 1): cap = { count = 2, days = 7 }. The
--   regulations do not say whether the period is rolling or fixed; rolling is the
--   stricter reading (a fixed week would allow 2 + 2 calls on consecutive days).
-- * Texts count as calls: 940 CMR 7.04(1)(f) covers communication "via telephone,
--   either in person or via text messaging or recorded audio message", 209 CMR
--   18.16(1)(d) "via telephone or via text messaging". WhatsApp messages to the
--   debtor's phone number are text messaging too.
-- * "Initiating a communication": every outbound call or text that reached the
--   number counts (outcomes attempt, voicemail, conversation, delivered), because
--   Armata v. Target held that a call on which the creditor could have left a
--   message is a communication even if it chose not to. Calls that never connected
--   (busy, out of service) and texts that failed are the "truly unable to reach"
--   case of the AG's 2013 guidance and are not counted. Calls made at the debtor's
--   request are excluded by the regulation, but the history cannot tell them apart,
--   so they count (the stricter reading).
-- * Personal numbers (residence, cell, other personal number) are place "personal";
--   every other number (work) is place "work" and has its own 2-in-30 bucket.
-- * Call hours for creditors: 940 CMR 7.05(1) lets a creditor assume that calls to
--   the household reach household members, and 7.05(3)(e) bars calls to them
--   outside 8:00-21:00 Eastern time; calls to a personal number are therefore held
--   to 8:00-21:00 (in every zone of the consumer, which for a Massachusetts
--   resident is Eastern time).
--
-- Not encoded: the debtor's request not to be called at work (209 CMR 18.16(1)(c),
-- 940 CMR 7.04(1)(h); an oral request lapses after 10 days unless confirmed in
-- writing within 7) - the request has no field (the no_work_contact flag means the
-- EMPLOYER prohibits contact); consent in writing to more frequent visits (18.17(6));
-- the time-barred disclosure (generated from sol.lua into time_barred.lua).
return regulation {
    id = "US-MA",
    name = "Massachusetts (940 CMR 7.00; 209 CMR 18.00)",
    applies = { state = "MA" },
    rules = {
        {
            id = "call-frequency-personal",
            cite = "940 CMR 7.04(1)(f); 209 CMR 18.16(1)(d)",
            channels = { "call", "sms", "whatsapp" },
            places = { "personal" },
            cap = { count = 2, days = 7, of = { "call", "sms", "whatsapp" },
                    outcomes = { "attempt", "voicemail", "conversation", "delivered" },
                    place = "personal", direction = "outbound" },
            reason = "2 calls or texts already initiated to the debtor's personal numbers about this debt in this 7-day period",
            interpretation = "The seven-day period is ROLLING: 7 consecutive local calendar dates, the earlier contact's date being day 1. Neither 940 CMR 7.04(1)(f) nor 209 CMR 18.16(1)(d) defines 'each seven-day period' (text read, Cornell LII and Justia copies); the Attorney General's consumer guide paraphrases it as 'within 7 days' (Mass. Legal Help, S), and a rolling period is never looser than a calendar week. Only communications the creditor or collector INITIATED count (history[].direction = outbound; the consumer's own calls do not). Texts and WhatsApp messages count as calls; every call or text that reached the number counts (Armata v. Target), calls not connected and failed texts do not; per debt.",
            status = "V (940 CMR 7.04(1)(f) opening and 209 CMR 18.16(1)(d) read; Armata/Watkins from summaries, S)",
        },
        {
            id = "call-frequency-other",
            cite = "940 CMR 7.04(1)(f); 209 CMR 18.16(1)(d)",
            channels = { "call", "sms", "whatsapp" },
            places = { "work" },
            cap = { count = 2, days = 30, of = { "call", "sms", "whatsapp" },
                    outcomes = { "attempt", "voicemail", "conversation", "delivered" },
                    place = "work", direction = "outbound" },
            reason = "2 calls or texts already initiated to numbers other than the debtor's personal numbers about this debt in this 30-day period",
            interpretation = "Rolling 30 local calendar dates; numbers other than the residence, cell or personal number are place 'work' and form their own bucket; counting as for call-frequency-personal.",
            status = "V (209 CMR 18.16(1)(d) read; 940 CMR 7.05(3)(d) carries the same 2-in-30 for household members)",
        },
        {
            id = "workplace-request",
            cite = "209 CMR 18.16(1)(c); 940 CMR 7.04(1)(h)",
            channels = { "call" },
            places = { "work" },
            check = function(c)
                -- Local date numbers (days since 1970) in the consumer's first zone.
                local off = c.local_times[1] and c.local_times[1].offset or 0
                local function day(t) return math.floor((t + off) / 86400) end
                local today = day(c.now)
                local written, oral = {}, {}
                for _, q in ipairs(c.requests) do
                    if q.type == "no_work_contact" and q.at <= c.now then
                        if q.form == "oral" then oral[#oral + 1] = q else written[#written + 1] = q end
                    end
                end
                for _, q in ipairs(written) do
                    local b = block("the consumer asked in writing that calls not be made at work")
                    if q.form == nil then
                        b.assumed = { "consumer.requests[].form" }
                    end
                    return b
                end
                for _, q in ipairs(oral) do
                    local first = day(q.at)
                    if today <= first + 9 then
                        local b = block("the consumer asked orally that calls not be made at work (valid for ten days)",
                                        (first + 10) * 86400 - off)
                        return b
                    end
                end
                return nil
            end,
            verified = true,
            interpretation = "An oral request blocks calls to the workplace for ten local dates, the request's date being day 1; a written request (a no_work_contact request with form = written, which is also how a written confirmation is recorded) blocks them until withdrawn. A confirmation is taken as valid whenever it came: the 7-day limit for confirming is not applied (stricter). A request that does not say its form is taken as written and consumer.requests[].form is named in `assumed`. 209 CMR 18.16(1)(c) read (Cornell LII); 940 CMR 7.04(1)(h), the creditors' counterpart, is known from its cross-reference in 7.06(2)(a) (Justia), its wording not read.",
        },
        {
            id = "call-hours-creditor",
            cite = "940 CMR 7.05(1), (3)(e)",
            collectors = { "creditor" },
            channels = { "call" },
            places = { "personal" },
            window = { from = "08:00", to = "21:00" },
            reason = "a creditor's call to the household may reach a household member: only 8:00 a.m. to 9:00 p.m. Eastern time",
            interpretation = "Calls to a personal number are presumed to reach the household (7.05(1)), so the household-member window of 7.05(3)(e) applies; 08:00:00 allowed, 21:00:00 blocked, as the federal window. Debt collectors are held to the same window by 209 CMR 18.16(1)(a) and US-FED/inconvenient-time.",
            status = "V for 7.05 text; S that creditors' calls to the debtor are limited to 8-21 (masslegalhelp.org, lawinfo)",
        },
        {
            id = "visit-frequency",
            cite = "209 CMR 18.17(6); 940 CMR 7.04(1)",
            channels = { "visit" },
            places = { "personal" },
            cap = { count = 1, days = 30, of = { "visit" }, outcomes = { "conversation" },
                    place = "personal", direction = "outbound" },
            reason = "a visit to the household about this debt in the last 30 days",
            interpretation = "Rolling 30 local calendar dates; 'excluding visits where no person is contacted in the household': only visits recorded as a conversation count; the consumer's written consent to more visits is not modelled.",
            status = "V (209 CMR 18.17(6)); S for the creditor rule in 940 CMR 7.04(1) (masslegalhelp.org), paragraph letter not read",
        },
        {
            id = "visit-hours-creditor",
            cite = "940 CMR 7.04(1); 209 CMR 18.17(6)",
            collectors = { "creditor" },
            channels = { "visit" },
            window = { from = "08:00", to = "21:00" },
            reason = "household visits only during normal waking hours, or 8:00 a.m. to 9:00 p.m. when they are not known",
            interpretation = "Waking hours are not recorded, so 8:00-21:00 local; debt collectors are held to it by US-FED/inconvenient-time.",
            status = "V (209 CMR 18.17(6)); S for the creditor rule (masslegalhelp.org)",
        },
        {
            id = "workplace-visit",
            cite = "209 CMR 18.17(7); 940 CMR 7.04(1)",
            channels = { "visit" },
            places = { "work" },
            consent = true,
            reason = "no visit to the debtor's place of employment unless the debtor requested it",
            interpretation = "consent.visit on file records the debtor's request for a visit at work.",
            status = "V for the opening words of 209 CMR 18.17(7) (the exclusions were truncated in the copy read); S for 940 CMR 7.04(1)",
        },
    },
}
