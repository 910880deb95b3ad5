-- Federal law that binds every collector, creditors collecting their own
-- debts included: the bankruptcy automatic stay and discharge injunction
-- (11 U.S.C. 362, 524), the Telephone Consumer Protection Act (47 U.S.C. 227)
-- and the Servicemembers Civil Relief Act (50 U.S.C. 3901 et seq.).
--
-- Interpretations chosen:
-- * TCPA: texts are sent through platforms that count as automatic telephone
--   dialing systems, so a text needs the consumer's prior express consent
--   (consent.sms). A call made with an autodialer or a prerecorded voice
--   (the request's `dialer`) to a cell phone or VoIP number (`line`), or with
--   a prerecorded voice to a landline, needs consent.autodial; a manually
--   dialled call needs none. An absent dialer or line is assumed to be the
--   case that needs consent (listed in the decision's `assumed`).
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
            dialers = { "autodialer", "prerecorded" },
            lines = { "cell", "voip" },
            consent = "autodial",
            reason = "an autodialed or prerecorded call to a cell phone needs prior express consent",
            verified = true,
            interpretation = "227(b)(1)(A)(iii) reaches calls made with an automatic telephone dialing system or an artificial or prerecorded voice to a cellular telephone service or any service for which the called party is charged; a VoIP number is treated as such a service (protective). A manually dialled call needs no TCPA consent. When the request does not say how the call is dialled (dialer) or to what line (line), the gate assumes an autodialled call to a cell phone and names the field in `assumed`.",
        },
        {
            id = "tcpa-prerecorded-landline",
            cite = "47 U.S.C. 227(b)(1)(B); 47 CFR 64.1200(a)(3)",
            channels = { "call" },
            dialers = { "prerecorded" },
            lines = { "landline" },
            consent = "autodial",
            reason = "a prerecorded call to a residential line needs prior express consent",
            verified = false,
            missing = "47 CFR 64.1200(a)(3)(iii), the exemption for commercial calls without telemarketing (3 calls in 30 days with an opt-out), was not read; the gate does not count prerecorded calls by kind, so it asks for consent on every one",
            interpretation = "227(b)(1)(B) (text seen) bars prerecorded-voice calls to a residential line without prior express consent unless the FCC exempts them; the exemption's limits are unverified, so consent is required (protective).",
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
