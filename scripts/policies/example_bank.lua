-- A creditor's own policy, stricter than the law: how a compliance officer
-- adds house rules for one creditor's portfolio. It applies to requests whose
-- "creditor" (or debt.creditor) is "Example Bank", on top of every federal,
-- state and city rule. Rename and copy it for a real creditor.
return regulation {
    id = "POLICY-EXAMPLE-BANK",
    name = "Example Bank collection policy",
    applies = { creditor = "Example Bank" },
    rules = {
        {
            id = "no-sundays-or-holidays",
            cite = "Example Bank Collections Policy 4.1",
            channels = { "call", "sms", "visit" },
            days = { "sun" },
            holidays = "federal",
            reason = "no calls, texts or visits on Sundays or federal holidays",
        },
        {
            id = "calling-hours",
            cite = "Example Bank Collections Policy 4.2",
            channels = { "call", "sms" },
            window = { from = "09:00", to = "20:00" },
        },
        {
            id = "three-calls-a-week",
            cite = "Example Bank Collections Policy 4.3",
            channels = { "call" },
            cap = { count = 3, days = 7, of = { "call" },
                    outcomes = { "attempt", "voicemail", "conversation" } },
        },
        {
            id = "time-barred-margin",
            cite = "Example Bank Collections Policy 6.1",
            time_barred_margin = 30,
            reason = "debts are treated as time-barred 30 days before the statute of limitations runs",
            interpretation = "Policy, not law: the decision says time_barred_by = policy while the law would not yet bar the debt.",
        },
        {
            id = "no-suit-language",
            cite = "Example Bank Collections Policy 6.2",
            forbid = { "threatens_suit" },
            reason = "no message may mention legal action",
        },
    },
}
