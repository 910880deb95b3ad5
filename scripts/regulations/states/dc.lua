-- District of Columbia: D.C. Code 28-3814 (as amended by D.C. Law 24-154, applying
-- from 2023-01-01). It binds every "debt collector", original creditors and debt
-- buyers included (28-3814(b)(5)), on consumer debts more than 30 days past due.
-- Text read: DCCouncil/law-xml-codified, titles/28/sections/28-3814.xml (SOURCES.md).
--
-- Interpretations chosen:
-- * "Any 7-day period" (calls, electronic messages) is not defined: rolling 7 local
--   calendar dates, the earlier contact's date being day 1 (the stricter reading).
-- * Calls "when there is no connection or ability to leave a message" do not count:
--   outcome not_connected is left out; an unanswered call (attempt) counts, since the
--   gate cannot tell whether a message could have been left (protective).
-- * (k) fixes the window to Eastern time; a DC consumer's zone is Eastern, and the
--   federal local-time window applies on top for a consumer known to be elsewhere.
-- * The electronic-message rules ((d)(4)(B)): express consent per method is required
--   for texts, e-mails and private messages; the one consent-seeking message a week
--   the law allows is not modelled (a request for consent is not sent through the gate).
return regulation {
    id = "US-DC",
    name = "District of Columbia (D.C. Code 28-3814)",
    applies = { state = "DC" },
    rules = {
        {
            id = "call-cap",
            cite = "D.C. Code 28-3814(d)(4)(A)(i)",
            channels = { "call" },
            cap = { count = 4, days = 7, of = { "call" }, outcomes = { "attempt", "voicemail", "conversation" },
                    direction = "outbound", per_debt = true },
            reason = "4 calls already placed about this account in this 7-day period",
            verified = true,
            interpretation = "Rolling 7 local dates; calls the consumer made, and calls that never connected, do not count; per account (debt).",
        },
        {
            id = "call-after-conversation",
            cite = "D.C. Code 28-3814(d)(4)(A)(ii), (iv)",
            channels = { "call" },
            after = { outcome = "conversation", of = { "call" }, days = 7 },
            reason = "a completed call with the consumer within the last 7 days (its date is day 1)",
            verified = true,
            interpretation = "A completed call is a telephone conversation; the consumer's request for a call back is not modelled, so none is assumed.",
        },
        {
            id = "call-text-hours",
            cite = "D.C. Code 28-3814(k)",
            channels = { "call", "sms", "whatsapp" },
            window = { from = "08:00", to = "21:00" },
            reason = "no call or text message before 8 a.m. or after 9 p.m. Eastern time",
            verified = true,
            interpretation = "E-mail is not covered by (k); WhatsApp messages are treated as text messages.",
        },
        {
            id = "no-visits",
            cite = "D.C. Code 28-3814(d)(5), (d)(6)",
            channels = { "visit" },
            block = true,
            reason = "no visit to the consumer's home or place of employment (except to serve process)",
            verified = true,
        },
        {
            id = "electronic-consent",
            cite = "D.C. Code 28-3814(d)(4)(B)(i), (ii)",
            channels = { "sms", "email", "whatsapp" },
            consent = true,
            reason = "no text message, e-mail or private message without the consumer's express consent to that method",
            verified = true,
            interpretation = "Consent on file for the channel is the express consent; the one consent-seeking message per 7 days is not modelled.",
        },
        {
            id = "electronic-cap",
            cite = "D.C. Code 28-3814(d)(4)(B)(iii)(I), (II)",
            channels = { "sms", "email", "whatsapp" },
            cap = { count = 5, days = 7, of = { "sms", "email", "whatsapp" }, outcomes = { "attempt", "delivered" },
                    direction = "outbound", per_debt = true },
            reason = "5 texts, e-mails or private messages already sent about this account in this 7-day period",
            verified = true,
            interpretation = "Rolling 7 local dates; messages from the consumer do not count; the consumer's agreement to more is not modelled.",
        },
        {
            id = "electronic-optout",
            cite = "D.C. Code 28-3814(d)(4)(B)(iii)(III)",
            channels = { "sms", "email", "whatsapp" },
            requires = { "optout_notice" },
            reason = "every e-mail, text message and private message must carry opt-out language",
            verified = true,
        },
        {
            id = "attorney-represented",
            cite = "D.C. Code 28-3814(g)(5)",
            flags = { "attorney" },
            block = true,
            reason = "the consumer is represented by an attorney: the District's law has no exception for an attorney who does not respond",
            verified = true,
            interpretation = "Binds creditors too; unlike 15 U.S.C. 1692c(a)(2) there is no exception, so consumer.attorney does not lift it.",
        },
    },
}
