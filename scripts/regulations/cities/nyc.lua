-- New York City: Department of Consumer and Worker Protection (DCWP) rules on
-- debt collection, 6 RCNY 5-76 to 5-77 (Consumer Protection Law Regulations
-- Part 6), and their amendment adopted 2024-08-12, whose effective date moved
-- several times (2024-12-01, 2025-04-01, 2025-10-01) and is now 2026-09-01.
--
-- Who: every "debt collector" under 5-76, which takes in creditors collecting their
-- own debts: 5-77(f)(1) sets validation duties for "debt collectors who are
-- creditors", and DCWP's FAQ on the amended rules says creditors collecting in
-- their own name "are still covered". No applies.collectors restriction. Rules that
-- only repeat a federal rule are written for creditors (the FDCPA already binds the
-- others); the frequency caps and the electronic-consent rule bind everyone.
--
-- Sources read:
-- * 6 RCNY 5-77(b), (c), (d), (e), (f) as in force BEFORE the amendment: full text
--   in a compiled copy of Title 6 (soundpress/nyccharter_merged_test) - status V.
--   5-77(b)(1)(iv): "more than twice during a seven-calendar-day period is
--   excessively frequent", not counting communications answering the consumer,
--   returned unopened mail, limited messages left with third parties, and
--   communications required by law.
-- * The amended rules: DCWP FAQ page (creditors covered), Orrick InfoBytes
--   2025-04-18 (consent for electronic communications with opt-out), Americollect
--   2026-04 (effective 2026-09-01; frequency cap now applies per account; consent to
--   electronic communication; an opt-out is specific to one electronic medium) -
--   status S. The amended TEXT was not read: the number of the amended frequency cap
--   is UNVERIFIED.
--
-- Interpretations chosen (each also on its rule):
-- * "Seven-calendar-day period": a rolling window of 7 local calendar dates, the
--   earlier communication's date being day 1 (as Regulation F counts).
-- * Communications counted: every outbound contact in any channel that reached the
--   consumer (attempt, voicemail, conversation, delivered); calls never connected and
--   failed messages (the "returned unopened mail" exclusion) are not counted, nor
--   inbound contacts. The gate records a sent letter or email as an "attempt" unless
--   told "delivered", so attempts must count; an unanswered call therefore counts
--   too (stricter). Communications required by law (validation notice,
--   verification, cease notices) are not limited - the rules apply to purpose
--   "collection" - but the history does not say why an earlier contact was made, so
--   all earlier contacts count.
-- * Before 2026-09-01 the cap counts all of the consumer's debts together (the
--   amendment made it per account, so it was per consumer); from 2026-09-01 per
--   debt. The amended number is unverified: the pre-amendment 2-in-7 is carried over
--   (marked in the rule's status) until counsel confirms it.
-- * Electronic consent (amended rules): email, texts, WhatsApp and push messages need
--   the consumer's consent for that channel (consent.<channel>); an opt-out of one
--   electronic medium stops that medium only.
-- * The `effective`/`expires` dates are meant as the consumer's local date in New
--   York (the rules take effect on 2026-09-01 in the City).
--
-- Not encoded: the time-barred disclosure in every communication (6 RCNY 2-191 /
-- 5-77, generated from sol.lua into time_barred.lua); language-access duties
-- (recording the language preference); the amended workplace rule (text not read).
local ELECTRONIC = { "email", "sms", "whatsapp", "push" }

return regulation {
    id = "US-NY-NYC",
    name = "New York City (6 RCNY 5-76 - 5-77)",
    applies = { state = "NY", cities = { "New York", "New York City", "NYC", "Manhattan", "Brooklyn",
                                         "Bronx", "The Bronx", "Queens", "Staten Island" } },
    rules = {
        {
            id = "communication-frequency",
            cite = "6 RCNY 5-77(b)(1)(iv)",
            purposes = { "collection" },
            expires = "2026-09-01",
            cap = { count = 2, days = 7,
                    outcomes = { "attempt", "voicemail", "conversation", "delivered" },
                    direction = "outbound", per_debt = false, except_required = true },
            reason = "2 communications with the consumer already in this seven-calendar-day period (presumed excessively frequent)",
            interpretation = "Rolling 7 local calendar dates; every outbound contact in any channel that reached the consumer counts, about any of the consumer's debts; not connected and failed (returned) are not counted, nor the consumer's own contacts (history[].direction), nor communications required by law (history[].required_by_law; an entry that does not say counts and is named in `assumed`); contacts required by law are not limited.",
            status = "V (pre-amendment text read); replaced by communication-frequency-per-account on 2026-09-01",
        },
        {
            id = "communication-frequency-per-account",
            cite = "6 RCNY 5-77 (amended rules, eff. 2026-09-01)",
            purposes = { "collection" },
            effective = "2026-09-01",
            cap = { count = 2, days = 7,
                    outcomes = { "attempt", "voicemail", "conversation", "delivered" },
                    direction = "outbound", per_debt = true, except_required = true },
            reason = "2 communications about this account already in this seven-calendar-day period",
            interpretation = "As communication-frequency, counted per account (per debt) as the amended rules provide; the exceptions (the consumer's own contacts, communications required by law) are the pre-amendment ones.",
            verified = false,
            missing = "the amended 6 RCNY 5-77 text was not found (City Record 2024-08-12 and its later amendments); the number 2 and the exceptions are carried over from the pre-amendment rule; only the per-account basis is from a secondary source (Americollect 2026-04)",
            status = "NUMBER UNVERIFIED: the amended text was not read; the per-account basis is from a secondary source (Americollect 2026-04, S); the pre-amendment limit of 2 in 7 calendar days is carried over until counsel confirms the amended figure",
        },
        {
            id = "inconvenient-time-creditor",
            cite = "6 RCNY 5-77(b)(1)(i)",
            collectors = { "creditor" },
            channels = { "call", "sms", "email", "push", "whatsapp", "visit" },
            window = { from = "08:00", to = "21:00" },
            reason = "outside 8:00 a.m. to 9:00 p.m. at the consumer's location",
            interpretation = "As US-FED/inconvenient-time (08:00:00 allowed, 21:00:00 blocked, every zone, letters not timed), for creditors, whom the federal rule does not bind.",
            status = "V",
        },
        {
            id = "attorney-represented-creditor",
            cite = "6 RCNY 5-77(b)(1)(ii)",
            collectors = { "creditor" },
            flags = { "attorney" },
            purposes = { "collection" },
            block = true,
            reason = "the consumer is represented by an attorney for this debt: communicate with the attorney",
            interpretation = "Communications required by law (validation notice, verification, cease notice) are excepted by the rule.",
            status = "V",
        },
        {
            id = "workplace-prohibited-creditor",
            cite = "6 RCNY 5-77(b)(1)(iii)",
            collectors = { "creditor" },
            places = { "work" },
            flags = { "no_work_contact" },
            block = true,
            reason = "the employer prohibits the consumer from receiving such communications at work",
            status = "V",
        },
        {
            id = "cease-communication-creditor",
            cite = "6 RCNY 5-77(b)(4)",
            collectors = { "creditor" },
            flags = { "cease" },
            purposes = { "collection" },
            block = true,
            reason = "the consumer asked in writing that communication about this debt stop",
            interpretation = "The notice that collection ends or that a remedy will be invoked (purpose cease_notice) and communications required by law stay allowed.",
            status = "V",
        },
        {
            id = "dispute-pending-creditor",
            cite = "6 RCNY 5-77(f)(3)",
            collectors = { "creditor" },
            dispute = "pending",
            purposes = { "collection" },
            block = true,
            reason = "the debt is disputed: no attempt to collect the disputed amount until verification is mailed",
            status = "V (pre-amendment text; the amendment reworked 5-77(f) - S)",
        },
        {
            id = "language-access-notice",
            cite = "6 RCNY 5-77 (language access, in force since 2020-06-27); 6 RCNY 2-193",
            purposes = { "collection", "validation_notice" },
            channels = { "letter", "email", "sms", "whatsapp", "push" },
            check = function(c)
                local lang = c.language
                if lang ~= nil and (lang == "en" or lang:sub(1, 3) == "en-") then
                    return nil
                end
                local r = { blocked = false, requires = { "language_access_notice" } }
                if lang == nil then
                    r.assumed = { "consumer.language" }
                end
                return r
            end,
            reason = "a consumer whose preferred language is not English is told that language-access services and DCWP's glossary and translations are available",
            verified = false,
            missing = "the 2020 language-access rules were read only in summaries (Hudson Cook, Ballard Spahr); the amended rules' language provisions ('more flexibility to communicate in languages other than English', Americollect 2026-04) were not read",
            interpretation = "The rules require collectors to ask for and record the consumer's language preference (the store keeps it: consumer.language) and to say that language-access services are available; they do not require communicating in that language. The gate asks for the notice in written communications to a consumer whose language is not English, or not recorded (then consumer.language is named in `assumed`).",
        },
        {
            id = "electronic-consent",
            cite = "6 RCNY 5-77 (amended rules, eff. 2026-09-01)",
            effective = "2026-09-01",
            channels = ELECTRONIC,
            consent = true,
            reason = "electronic communication needs the consumer's consent to that medium",
            interpretation = "consent.<channel> on file records the consumer's consent to that electronic medium.",
            status = "S (DCWP FAQ summary by Orrick; Americollect); amended text not read",
        },
        {
            id = "electronic-optout-creditor",
            cite = "6 RCNY 5-77 (amended rules, eff. 2026-09-01)",
            effective = "2026-09-01",
            collectors = { "creditor" },
            channels = ELECTRONIC,
            optout = true,
            reason = "the consumer asked that this electronic medium no longer be used",
            interpretation = "An opt-out stops only that medium; for debt collectors US-FED/medium-optout already applies.",
            status = "S (Americollect 2026-04); amended text not read",
        },
    },
}
