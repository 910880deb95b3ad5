-- Oregon: unlawful collection practices, ORS 646.639, and legal action on charged-off debt,
-- ORS 646A.670 (HB 2356, 2017).
--
-- Who: ORS 646.639(1)(h) (text verified, oregon.public.law): "Debt collector" means a
-- person that by direct or indirect action, conduct or practice collects or attempts to
-- collect a debt owed, or alleged to be owed, to a creditor or debt buyer. A creditor
-- collecting its own debt collects a debt owed to a creditor, so the workplace rules bind
-- every collector, creditors included (they differ from federal law in scope as well as
-- in number). The suit bar binds debt buyers (646.639(1)(g)).
--
-- Rules:
-- * work-contact-weekly: no contact at the debtor's place of employment more than once a
--   week. Oregon DOJ, "Debt Collection" (doj.state.or.us): a debt collector must "not call
--   you more than one time a week at work". Statute wording from memory (M): "not contact
--   the debtor at the debtor's place of employment more frequently than once each business
--   week" (646.639(2), the employment paragraph; its letter was not seen). Status S.
-- * work-call-after-home-attempt: a debt collector may telephone the place of employment
--   only after failing to reach the debtor at home. Oregon DOJ: "Only contact you at work
--   if he or she cannot reach you at home in the between 8:00 a.m. and 9:00 p.m." Statute
--   wording from memory (M): "only if the debt collector in good faith has made an
--   unsuccessful attempt to telephone the debtor at the debtor's residence during the day
--   or during the evening between the hours of 6 p.m. and 9 p.m.", unless the debtor gave
--   permission. Status S.
-- * debt-buyer-no-suit: a debt buyer may not bring legal action on a debt when the statute
--   of limitations bars it (ORS 646A.670; HB 2356 as reported by Ballard Spahr, 2017-07;
--   646A.670's title "Legal action to collect debt" verified in 646.639(1); status S, as in
--   sol.lua). Federal law already forbids the threat of suit for debt buyers
--   (12 CFR 1006.26(b)); kept for the Oregon citation and because the Oregon bar reaches
--   every "debt buyer" whether or not it is an FDCPA debt collector.
--
-- Interpretations chosen (also on the rules):
-- * "Once each business week" is read as at most one contact in any 7 consecutive local
--   dates (a rolling window): stricter than one per Monday-Friday week, never looser.
-- * Every channel counts and is limited (a call, a visit, an email to a work address, a
--   letter to the workplace): the DOJ speaks of calls, the statute of contact. Contacts
--   counted: outbound, about any debt of the consumer (the limit is per debtor), that
--   reached the place (attempt, voicemail, conversation, delivered; not not_connected or
--   failed).
-- * The home attempt: the latest outbound call to a personal number (any debt) must be
--   unsuccessful (attempt, voicemail or not_connected): a conversation at home shows the
--   debtor can be reached there. Its time of day is not checked. The debtor's permission to
--   call at work has no field in the request, so it cannot lift the rule.
-- Not encoded: the debtor's instruction not to be called at work (no field: the
-- no_work_contact flag is the employer's prohibition, which federal law covers for third
-- parties only); the hours 8-21 and harassment (646.639(2)(e), no number) duplicate federal
-- law for third parties and carry no number for creditors.
return regulation {
    id = "US-OR",
    name = "Oregon unlawful collection practices (ORS 646.639, 646A.670)",
    applies = { state = "OR" },
    rules = {
        {
            id = "work-contact-weekly",
            cite = "ORS 646.639(2)",
            places = { "work" },
            cap = { count = 1, days = 7, place = "work", direction = "outbound",
                    outcomes = { "attempt", "voicemail", "conversation", "delivered" },
                    per_debt = false },
            reason = "a contact at the place of employment already within the last 7 days (at most once a week)",
            status = "S",
            interpretation = "The week is ROLLING: 'once each business week' (ORS 646.639(2), wording from the Oregon DOJ's summary; the paragraph's text was not reached) read as once in any 7 consecutive local dates. If the words are 'business week', a Monday-to-Friday calendar week is the literal reading; a rolling week is never looser. Every channel counts; per debtor, not per debt.",
        },
        {
            id = "work-call-after-home-attempt",
            cite = "ORS 646.639(2)",
            channels = { "call" },
            places = { "work" },
            status = "S",
            interpretation = "The latest outbound call to a personal number (any debt) must have been unsuccessful (attempt, voicemail, not_connected); without one, or after a conversation there, no call to the workplace.",
            check = function(c)
                local last
                for _, h in ipairs(c.history) do
                    if h.channel == "call" and h.place == "personal" and h.direction == "outbound"
                        and h.at <= c.now and (last == nil or h.at > last.at) then
                        last = h
                    end
                end
                if last == nil then
                    return block("Oregon: call the debtor's residence first; the workplace may be called only after an unsuccessful attempt at home")
                end
                if last.outcome == "conversation" then
                    return block("Oregon: the debtor was reached at home on the latest call; do not call the workplace")
                end
            end,
        },
        {
            id = "debt-buyer-no-suit",
            cite = "ORS 646A.670",
            collectors = { "debt_buyer", "third_party" },
            owners = { "debt_buyer" },
            time_barred = true,
            forbid = { "threatens_suit" },
            reason = "Oregon: a debt buyer may not bring legal action on a time-barred debt, so no threat of suit",
            status = "S",
        },
    },
}
