-- Washington: Collection Agency Act, RCW 19.16.250 (prohibited practices of
-- licensees).
--
-- Who: "licensees" - collection agencies licensed under RCW 19.16, which include
-- debt buyers (RCW 19.16.100(4)(d), (7)) and out-of-state collection agencies. A
-- creditor collecting its own claim in its own name is not a collection agency
-- (RCW 19.16.100(5)(c)) unless it uses another name (19.16.100(4)(c)), which the
-- request cannot express: applies.collectors = third_party, debt_buyer.
--
-- Source read: RCW 19.16.100 and 19.16.250 as codified through 2020 c 30 / 2019
-- c 227 (tannewt/wa-law.org copy of the RCW; status V - check later amendments on
-- app.leg.wa.gov before relying on it).
--
-- RCW 19.16.250(13) bars harassing communications and PRESUMES harassment when a
-- communication:
--   (a) is made with a debtor or spouse in any form, manner, or place, more than
--       three times in a single week, unless responding to the debtor or spouse;
--   (b) is made with a debtor at the place of employment more than one time in a
--       single week, unless responding to the debtor;
--   (c) is made with the debtor or spouse at the residence between 9:00 p.m. and
--       7:30 a.m.
-- RCW 19.16.250(18): no call, text or other electronic communication to a cellular
-- telephone or other wireless device more than twice in any day, unless responding.
--
-- Interpretations chosen where the law is unsettled (each also on its rule):
-- * "A single week" is read as a rolling window of 7 local calendar dates, counted
--   as Regulation F counts "seven consecutive days" (the earlier contact's date is
--   day 1): cap = { count = 3, days = 7 }. The statute does not say calendar week
--   or rolling; the rolling reading is stricter (a calendar week would allow 3 + 3
--   contacts on a Saturday and the next Sunday). (17)(a), which says "calendar
--   week", shows the legislature used "single week" differently.
-- * "Communication ... made with a debtor": every outbound contact that reached the
--   debtor's number or address counts (attempt, voicemail, conversation, delivered)
--   in every channel - letters and email included ("in any form, manner, or
--   place"). Calls never connected and failed messages are not counted. Inbound
--   contacts are not counted; an outbound contact that answers the debtor cannot be
--   told apart, so it counts (stricter).
-- * (13)(a) and (b) count communications with the DEBTOR, not per claim: every debt
--   of the consumer counts (per_debt = false). Communications with the spouse are
--   not in the history.
-- * (18) "in any day" is the local calendar date. The gate cannot tell a cellular
--   number from a landline, so every call, text, WhatsApp message and push
--   notification counts (most personal numbers are cellular); email is addressed to
--   a mailbox, not to a device, and does not count. Every call placed counts,
--   connected or not ("call ... more than twice").
--
-- Not encoded, with the reason:
-- * (13)(c) 9:00 p.m. - 7:30 a.m. at the residence: licensees are FDCPA debt
--   collectors, and US-FED/inconvenient-time (8:00-21:00) is stricter in the
--   morning and the same in the evening; the statute does not bind creditors.
-- * (17)(a) charges to a cell phone more than 3 times a calendar week: the gate
--   cannot see charges, and (13)(a) already caps all communications at 3 a week.
-- * (12) attorney (same as US-FED/attorney-represented for the same collectors);
--   (23) no suit on a time-barred claim (US-FED/time-barred-suit-threat forbids the
--   threat for the same collectors).
-- * (28)(b) medical debt: cease collection until the requested itemized statement
--   is sent; (29)(b) hospital debt: no collection while a charity-care application
--   is pending - the request has no field for either.
return regulation {
    id = "US-WA",
    name = "Washington Collection Agency Act (RCW 19.16.250)",
    applies = { state = "WA", collectors = { "third_party", "debt_buyer" } },
    rules = {
        {
            id = "communication-frequency",
            cite = "RCW 19.16.250(13)(a)",
            cap = { count = 3, days = 7,
                    outcomes = { "attempt", "voicemail", "conversation", "delivered" },
                    direction = "outbound", per_debt = false },
            reason = "3 communications with the debtor already made in this week (presumed harassment)",
            interpretation = "The week is ROLLING: any 7 consecutive local calendar dates. RCW 19.16.250(13)(a) says 'more than three times in a single week' and does not define it, while (17)(a) of the same section says 'calendar week' (text read, tannewt/wa-law.org mirror): the legislature used a different expression, no case or rule defines 'single week', and a rolling week is never looser than a calendar one. Every outbound contact in any channel and place that reached the debtor counts (not connected and failed excluded); contacts the debtor initiated do not (history[].direction = inbound), nor does a contact that responds to one, which the gate cannot tell and so counts (stricter); all of the debtor's debts count together; every purpose is limited (the statute excepts only responses to the debtor).",
            status = "V (statute text read)",
        },
        {
            id = "workplace-frequency",
            cite = "RCW 19.16.250(13)(b)",
            places = { "work" },
            cap = { count = 1, days = 7, place = "work",
                    outcomes = { "attempt", "voicemail", "conversation", "delivered" },
                    direction = "outbound", per_debt = false },
            reason = "a communication with the debtor at the place of employment already made in this week (presumed harassment)",
            interpretation = "The week is ROLLING (any 7 consecutive local dates), for the reason given on communication-frequency (RCW 19.16.250(13)(b) also says 'single week'); any outbound contact at place 'work' that reached the debtor counts, inbound ones do not; all of the debtor's debts count together.",
            status = "V (statute text read)",
        },
        {
            id = "cell-daily-limit",
            cite = "RCW 19.16.250(18)",
            channels = { "call", "sms", "whatsapp", "push" },
            cap = { count = 2, days = 1, of = { "call", "sms", "whatsapp", "push" },
                    direction = "outbound", per_debt = false },
            reason = "2 calls or texts to the debtor's phone already today",
            interpretation = "The local calendar date; every phone number is treated as possibly cellular; calls, texts, WhatsApp messages and push notifications count whatever their outcome; email does not; all of the debtor's debts count together.",
            status = "V (statute text read)",
        },
    },
}
