-- Florida: the Florida Consumer Collection Practices Act, Fla. Stat. 559.72, which
-- binds every person collecting a consumer debt ("no person shall"), original
-- creditors included. Text read: syfert.com copy of 559.72 (2024) and the 2016 bill
-- text showing (18) unamended; the 2025 amendment (CS/CS/SB 232) from law-firm
-- summaries (SOURCES.md).
--
-- Interpretations chosen:
-- * (17) hours: 9 p.m. to 8 a.m. in the debtor's zone, checked in every zone of the
--   consumer (the area-code presumption is not modelled: the request's zones are
--   used); since 2025-05-16 (CS/CS/SB 232) e-mail is outside (17).
-- * (18) attorney: contact resumes once the attorney consents, or fails to respond
--   within 30 days of the collector's communication (consumer.attorney); the
--   debtor initiating the communication is not modelled.
local function attorney(c)
    local a = c.attorney
    if a and a.consented == true then
        return nil
    end
    if a and a.responded == false and a.asked_at then
        local from = a.asked_at + 30 * 86400
        if c.now >= from then
            return nil
        end
        return block("the debtor is represented: the attorney has 30 days to respond", from)
    end
    local b = block("the debtor is represented by an attorney (Florida: until the attorney consents or fails to respond within 30 days)")
    b.assumed = { a == nil and "consumer.attorney" or "consumer.attorney.consented" }
    return b
end

return regulation {
    id = "US-FL",
    name = "Florida (Fla. Stat. 559.72)",
    applies = { state = "FL" },
    rules = {
        {
            id = "hours",
            cite = "Fla. Stat. 559.72(17)",
            channels = { "call", "sms", "push", "whatsapp", "visit" },
            window = { from = "08:00", to = "21:00" },
            reason = "no communication with the debtor between 9 p.m. and 8 a.m. in the debtor's time zone",
            verified = false,
            missing = "the 2025 amendment excluding e-mail (CS/CS/SB 232) was read only in law-firm summaries",
            interpretation = "Binds creditors too; e-mail is excluded since 2025-05-16; letters are not judged by time of day.",
        },
        {
            id = "email-hours-before-2025",
            cite = "Fla. Stat. 559.72(17) (before CS/CS/SB 232)",
            channels = { "email" },
            expires = "2025-05-15",
            window = { from = "08:00", to = "21:00" },
            reason = "before 2025-05-16 e-mail was a communication under 559.72(17)",
            verified = false,
            missing = "the effective date of CS/CS/SB 232 (on signing, 2025-05-16) is from summaries",
        },
        {
            id = "attorney-represented",
            cite = "Fla. Stat. 559.72(18)",
            flags = { "attorney" },
            check = attorney,
            verified = true,
            interpretation = "30 days from the collector's communication to the attorney (consumer.attorney.asked_at) with no response (responded = false), or the attorney's consent; binds creditors too.",
        },
    },
}
