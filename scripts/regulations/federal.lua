-- Federal: the Fair Debt Collection Practices Act (15 U.S.C. 1692-1692p) and
-- Regulation F (12 CFR part 1006), in force since 2021-11-30.
--
-- Who: "debt collectors" (15 U.S.C. 1692a(6)): third-party collectors and debt
-- buyers. A creditor collecting its own debt in its own name is outside the
-- FDCPA (state law may still reach it: see states/). The bankruptcy stay, the
-- TCPA and the SCRA bind everyone and are in federal_all.lua.
--
-- Interpretations chosen where the law is not a number (each also noted on
-- its rule):
-- * Times: allowed iff 08:00:00 <= local time < 21:00:00 in EVERY time zone
--   the consumer may be in (comment 6(b)(1)(i)-1 on conflicting locations).
--   The statute says "after 8 o'clock antemeridian and before 9 o'clock
--   postmeridian", Regulation F "before 8:00 a.m. or after 9:00 p.m."; 08:00:00
--   is allowed (Reg F bans only times before 8:00) and 21:00:00 is blocked (the
--   statute's "before 9 o'clock").
-- * The 7-in-7 presumption counts telephone calls PLACED to the person about
--   this debt (outcomes attempt, voicemail, conversation; a call that did not
--   connect to the number is excluded, 1006.14(b)(3)(ii)), by local calendar
--   date: a new call on date D is presumed compliant only while fewer than 7
--   calls fall on dates D-6 .. D. A telephone conversation (either direction)
--   blocks calls on its date and the 6 dates after it (its date is day 1).
-- * Letters are not judged by time of day (they are not received at a time
--   the collector chooses); every other channel is.
-- 15 U.S.C. 1692c(a)(2): days after the collector's communication to the attorney
-- after which an attorney who has not responded no longer bars direct contact.
local ATTORNEY_WAIT_DAYS = 30

-- The attorney exceptions: nil (allowed) when the attorney consented to direct
-- contact, or did not respond within `wait_days` of the collector's communication;
-- otherwise a block naming what the request left out (consumer.attorney...).
local function attorney_exception(c, wait_days, reason)
    local a = c.attorney
    if a and a.consented == true then
        return nil
    end
    if a and a.responded == false and a.asked_at then
        local from = a.asked_at + wait_days * 86400
        if c.now >= from then
            return nil
        end
        return block(reason .. " (the attorney has until " .. wait_days .. " days after the request to respond)", from)
    end
    local b = block(reason)
    if a == nil then
        b.assumed = { "consumer.attorney" }
    elseif a.consented == nil then
        b.assumed = { "consumer.attorney.consented" }
    end
    return b
end

return regulation {
    id = "US-FED",
    name = "FDCPA and Regulation F",
    applies = { collectors = { "third_party", "debt_buyer" } },
    rules = {
        {
            id = "inconvenient-time",
            cite = "12 CFR 1006.6(b)(1)(i); 15 U.S.C. 1692c(a)(1)",
            channels = { "call", "sms", "email", "push", "whatsapp", "visit" },
            window = { from = "08:00", to = "21:00" },
        },
        {
            id = "consumer-designated-inconvenient",
            cite = "12 CFR 1006.6(b)(1); 15 U.S.C. 1692c(a)(1)",
            channels = { "call", "sms", "email", "push", "whatsapp", "visit" },
            inconvenient = true,
            interpretation = "Times and days the consumer designated are blocked in the consumer's local time, in every zone.",
        },
        {
            id = "consumer-requests",
            cite = "15 U.S.C. 1692c(a)(1); 12 CFR 1006.6(b)(1)(i); 12 CFR 1006.14(h)",
            channels = { "call", "sms", "email", "push", "whatsapp", "visit", "letter" },
            purposes = { "collection" },
            requests = true,
            verified = true,
            interpretation = "The consumer's own requests (consumer.requests), oral or written: not at work makes the workplace an inconvenient place; no calls between from and to makes those local times inconvenient (in every zone); contact only by some media is a request that the others not be used (1006.14(h)). None lapses under federal law.",
        },
        {
            id = "call-frequency",
            cite = "12 CFR 1006.14(b)(2)(i)(A)",
            channels = { "call" },
            cap = { count = 7, days = 7, of = { "call" },
                    outcomes = { "attempt", "voicemail", "conversation" }, direction = "outbound",
                    consent_days = 7 },
            interpretation = "Calls placed (outbound) count; calls the consumer made do not (history[].direction). Calls placed within 7 consecutive local dates of the consumer's direct consent to more calls (consumer.consent.more_calls_at; its date is day 1) do not count, 1006.14(b)(3)(i).",
            reason = "7 calls already placed about this debt within 7 consecutive days",
        },
        {
            id = "call-after-conversation",
            cite = "12 CFR 1006.14(b)(2)(i)(B)",
            channels = { "call" },
            after = { outcome = "conversation", of = { "call" }, days = 7, consent_days = 7 },
            interpretation = "A conversation in either direction starts the 7 days; a call placed within 7 local dates of the consumer's direct consent (consumer.consent.more_calls_at) is excluded, 1006.14(b)(3)(i).",
            reason = "a telephone conversation about this debt within the last 7 days (its date is day 1)",
        },
        {
            id = "cease-communication",
            cite = "15 U.S.C. 1692c(c); 12 CFR 1006.6(c)",
            flags = { "cease" },
            purposes = { "collection", "validation_notice", "verification" },
            block = true,
            reason = "the consumer asked in writing that communication stop; only a notice that collection ends or that a remedy will be invoked may be sent",
        },
        {
            id = "attorney-represented",
            cite = "15 U.S.C. 1692c(a)(2); 12 CFR 1006.6(b)(2)",
            flags = { "attorney" },
            check = function(c)
                return attorney_exception(c, ATTORNEY_WAIT_DAYS,
                    "the consumer is represented by an attorney for this debt: communicate with the attorney")
            end,
            verified = false,
            missing = "1692c(a)(2) and 1006.6(b)(2) give no number for the attorney's 'reasonable period'; no case fixes one (Lee v. Medicredit, N.D. Ga. 2022: a question of fact)",
            interpretation = "Contact is allowed once the attorney consents (consumer.attorney.consented), or when the attorney has not responded (responded = false) 30 days after the collector's communication (asked_at): 30 days is the longest period a state statute gives for the same exception (Fla. Stat. 559.72(18)), the consumer's side of a question the federal text leaves open. The attorney flag alone, or an exception not shown, keeps the block and names consumer.attorney in `assumed`.",
        },
        {
            id = "dispute-pending-verification",
            cite = "15 U.S.C. 1692g(b); 12 CFR 1006.38(d)(2)",
            dispute = "pending",
            purposes = { "collection" },
            block = true,
            reason = "the debt is disputed: collection stops until verification is mailed",
        },
        {
            id = "deceased-consumer",
            cite = "12 CFR 1006.6(a)(4); 12 CFR 1006.2(e)",
            flags = { "deceased" },
            block = true,
            reason = "the consumer is deceased: communicate only with the executor, administrator or a person with authority to pay from the estate",
        },
        {
            id = "workplace-prohibited",
            cite = "15 U.S.C. 1692c(a)(3); 12 CFR 1006.6(b)(3)",
            places = { "work" },
            flags = { "no_work_contact" },
            block = true,
            reason = "the employer prohibits the consumer from receiving such communications at work",
        },
        {
            id = "work-email",
            cite = "12 CFR 1006.22(f)(3)",
            channels = { "email" },
            places = { "work" },
            consent = true,
            reason = "email to an address the employer provided needs the consumer's consent (or the consumer's own use of it)",
        },
        {
            id = "incarcerated",
            cite = "15 U.S.C. 1692c(a)(1); 12 CFR 1006.6(b)(1)",
            flags = { "incarcerated" },
            channels = { "call", "sms", "email", "push", "whatsapp", "visit" },
            block = true,
            reason = "the consumer is known to be incarcerated, a place known to be inconvenient; write instead",
            interpretation = "Letters stay allowed; every other channel reaches the consumer at a place known to be inconvenient.",
        },
        {
            id = "electronic-optout-notice",
            cite = "12 CFR 1006.6(e)",
            channels = { "sms", "email", "push", "whatsapp" },
            requires = { "optout_notice" },
        },
        {
            id = "medium-optout",
            cite = "12 CFR 1006.14(h)",
            optout = true,
        },
        {
            id = "time-barred-suit-threat",
            cite = "12 CFR 1006.26(b); 15 U.S.C. 1692e(5)",
            time_barred = true,
            forbid = { "threatens_suit" },
            reason = "the debt is time-barred: no suit and no threat of suit",
        },
    },
}
