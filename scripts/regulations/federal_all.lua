-- Federal law that binds every collector, creditors collecting their own
-- debts included: the bankruptcy automatic stay and discharge injunction
-- (11 U.S.C. 362, 524), the Telephone Consumer Protection Act (47 U.S.C. 227)
-- and the Servicemembers Civil Relief Act (50 U.S.C. 3901 et seq.).
--
-- Interpretations chosen:
-- * TCPA: texts are sent through platforms that count as automatic telephone
--   dialing systems, so a text needs the consumer's prior express consent
--   (consent.sms). A call made with an autodialer or a prerecorded voice
--   (message.autodialed / message.prerecorded) needs consent.autodial.
-- * SCRA does not bar contact; it protects servicemembers against default
--   judgments and caps interest. The gate blocks any threat of suit to a
--   consumer flagged scra (a default judgment needs an affidavit of military
--   status first, 50 U.S.C. 3931).
return regulation {
    id = "US-FED-ALL",
    name = "Federal law binding every collector",
    rules = {
        {
            id = "bankruptcy-stay",
            cite = "11 U.S.C. 362(a)(6); 11 U.S.C. 524(a)(2)",
            flags = { "bankruptcy" },
            block = true,
            reason = "bankruptcy: the automatic stay (or discharge injunction) bars any act to collect",
        },
        {
            id = "tcpa-sms-consent",
            cite = "47 U.S.C. 227(b)(1)(A)(iii); 47 CFR 64.1200(a)(1)",
            channels = { "sms" },
            consent = true,
            reason = "no prior express consent to text messages on file",
        },
        {
            id = "tcpa-autodialed-call",
            cite = "47 U.S.C. 227(b)(1)(A)(iii); 47 CFR 64.1200(a)(1)",
            channels = { "call" },
            message = { "autodialed", "prerecorded" },
            consent = "autodial",
            reason = "an autodialed or prerecorded call needs prior express consent",
        },
        {
            id = "scra-no-suit-threat",
            cite = "50 U.S.C. 3931",
            flags = { "scra" },
            forbid = { "threatens_suit" },
            reason = "servicemember: no threat of suit or default judgment without SCRA compliance",
        },
    },
}
