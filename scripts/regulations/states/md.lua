-- Maryland: the Maryland Consumer Debt Collection Act, Md. Code, Com. Law 14-201 to
-- 14-204. Its "collector" includes creditors collecting their own debts, and
-- 14-202(11) makes conduct that violates FDCPA sections 804 to 812 a violation of the
-- Act (text read at mgaleg.maryland.gov, cut off in (11); SOURCES.md). So the
-- federal conduct rules reach original creditors in Maryland: the gate applies to
-- creditors the federal hours, the represented-consumer rule and the cease rule
-- (third parties and debt buyers already have them from US-FED).
--
-- Not modelled: 14-202(4) (no contact with the employer before final judgment): the
-- gate does not judge communications with third parties.
return regulation {
    id = "US-MD",
    name = "Maryland (Md. Code, Com. Law 14-202)",
    applies = { state = "MD", collectors = { "creditor" } },
    rules = {
        {
            id = "creditor-hours",
            cite = "Md. Code, Com. Law 14-202(11); 15 U.S.C. 1692c(a)(1)",
            channels = { "call", "sms", "email", "push", "whatsapp", "visit" },
            window = { from = "08:00", to = "21:00" },
            reason = "a creditor in Maryland is held to the FDCPA's hours: 8 a.m. to 9 p.m. local",
            verified = false,
            missing = "14-202(11) was read only up to 'viol...' and 14-201's definition of collector was not re-read",
        },
        {
            id = "creditor-attorney",
            cite = "Md. Code, Com. Law 14-202(11); 15 U.S.C. 1692c(a)(2)",
            flags = { "attorney" },
            block = true,
            reason = "the consumer is represented by an attorney: a creditor in Maryland is held to 1692c(a)(2)",
            verified = false,
            missing = "as for creditor-hours; the attorney exceptions are not extended to creditors here (the federal rule's 30-day reading is not law in Maryland)",
        },
        {
            id = "creditor-cease",
            cite = "Md. Code, Com. Law 14-202(11); 15 U.S.C. 1692c(c)",
            flags = { "cease" },
            purposes = { "collection", "validation_notice", "verification" },
            block = true,
            reason = "the consumer asked in writing that communication stop: a creditor in Maryland is held to 1692c(c)",
            verified = false,
            missing = "as for creditor-hours",
        },
    },
}
