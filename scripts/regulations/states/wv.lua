-- West Virginia: the West Virginia Consumer Credit and Protection Act, W. Va. Code
-- 46A-2-122 to 46A-2-129a, whose "debt collector" includes creditors collecting their
-- own debts (46A-2-122, from secondary sources). 46A-2-125(d) text read on
-- instalawyer.io (SOURCES.md); the time-barred notice (46A-2-128(f)) is in
-- time_barred.lua.
--
-- Interpretations chosen:
-- * 46A-2-125(d) makes calling more than 30 times a week, or more than 10 telephone
--   conversations a week, evidence of oppression "with intent to annoy": the gate
--   holds them as caps (the intent is not something it can weigh). "Week" is not
--   defined: rolling 7 local dates (stricter than a calendar week).
-- * Calls placed count (outbound; calls that never connected do not); conversations
--   in either direction count, as the statute says "engaging any person in telephone
--   conversation".
-- * Hours: 8 a.m. to 9 p.m. local, the "unusual times" of 46A-2-125(d), binding
--   creditors too.
return regulation {
    id = "US-WV",
    name = "West Virginia (W. Va. Code 46A-2-125)",
    applies = { state = "WV" },
    rules = {
        {
            id = "calls-per-week",
            cite = "W. Va. Code 46A-2-125(d)",
            channels = { "call" },
            cap = { count = 30, days = 7, of = { "call" }, outcomes = { "attempt", "voicemail", "conversation" },
                    direction = "outbound" },
            reason = "30 calls already placed in this week",
            verified = true,
            interpretation = "Rolling 7 local dates; every debt of the consumer (the statute counts calls to 'any person'); calls never connected are not calls made to the person.",
        },
        {
            id = "conversations-per-week",
            cite = "W. Va. Code 46A-2-125(d)",
            channels = { "call" },
            cap = { count = 10, days = 7, of = { "call" }, outcomes = { "conversation" } },
            reason = "10 telephone conversations already in this week",
            verified = true,
            interpretation = "Rolling 7 local dates; conversations in either direction.",
        },
        {
            id = "hours",
            cite = "W. Va. Code 46A-2-125(d)",
            channels = { "call", "sms", "whatsapp", "visit" },
            window = { from = "08:00", to = "21:00" },
            reason = "calls at unusual times: 8 a.m. to 9 p.m. local",
            verified = false,
            missing = "46A-2-125(d) says 'unusual times' without hours; 8-21 is the federal reading, applied to creditors",
        },
    },
}
