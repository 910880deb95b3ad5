-- Minnesota: collection agencies, Minn. Stat. 332.31 to 332.45; prohibited practices,
-- Minn. Stat. 332.37.
--
-- Who: "collection agency" (332.31 subd. 3: "any person engaged in the business of
-- collection for others any account, bill or other indebtedness", per collectionagency.info's
-- copy) and "collectors" acting under its authority (332.31 subd. 6, Laws 1987 c. 37,
-- revisor.mn.gov). Creditors collecting their own debts are outside. Whether a debt buyer
-- collecting its own purchased debts is a collection agency was not verified; the rule binds
-- debt buyers too (protective: it only forbids a false threat).
--
-- Rules:
-- * unretained-lawyer-threat, 332.37(1) (text verified: revisor.mn.gov, 2015 HF 301 and
--   2013 SF 2820 reprint the section): no collection agency or collector shall "in
--   collection letters or publications, or in any communication, oral or written threaten
--   wage garnishment or legal suit by a particular lawyer, unless it has actually retained
--   the lawyer". Encoded on the message: message.unretained_lawyer_threat = true means the
--   message threatens garnishment or suit by a named lawyer the agency has not retained.
--
-- Interpretation: every channel and purpose ("any communication, oral or written").
--
-- No Minnesota contact-time or call-frequency rule beyond federal law was verified: the
-- copies of 332.37 read (items (1) to (6)) contain none. From memory and NOT verified, so not
-- encoded: 332.37 forbids a recorded message by an automatic dialing-announcing device unless
-- a live operator first identifies the agency and obtains the debtor's consent to hear it;
-- other items of 332.37 (communication with the employer, disclosure of the agency's name).
-- Minnesota has no time-barred disclosure (sol.lua), so time_barred.lua has no MN regulation.
return regulation {
    id = "US-MN",
    name = "Minnesota collection agencies (Minn. Stat. 332.37)",
    applies = { state = "MN", collectors = { "third_party", "debt_buyer" } },
    rules = {
        {
            id = "unretained-lawyer-threat",
            cite = "Minn. Stat. 332.37(1)",
            forbid = { "unretained_lawyer_threat" },
            reason = "Minnesota: no threat of garnishment or suit by a particular lawyer the agency has not actually retained",
            status = "V",
            interpretation = "Every channel and purpose; the message field unretained_lawyer_threat marks a threat of garnishment or suit by a named lawyer not actually retained.",
        },
    },
}
