-- Illinois: Collection Agency Act, 205 ILCS 740 (recodified from 225 ILCS 425; the Act
-- lists sections 2 to 9.7 at lawserver.com and ilga.gov).
--
-- Who: "collection agencies" (205 ILCS 740/2: "any person who, in the ordinary course of
-- business, regularly, on behalf of himself or herself or others, engages in the collection
-- of a debt"; section 3 counts anyone who "buys accounts, bills or other debt"), so third
-- parties and debt buyers. Creditors whose collection is confined to their own business are
-- exempt (205 ILCS 740/2.03; per a summary of 225 ILCS 425/2.03(1) for banks: S). Same scope
-- as the FDCPA in the gate's terms.
--
-- Rules:
-- * debt-buyer-no-suit: 205 ILCS 740/8.6(a) (P.A. 97-1070, eff. 2013-01-01; text verified
--   at ilga.gov as 225 ILCS 425/8.6, see sol.lua): a debt buyer's action on consumer debt
--   must be commenced within the applicable limitations period. So a debt buyer may not
--   threaten suit on a time-barred debt. Federal law forbids the same threat
--   (12 CFR 1006.26(b)); the Illinois rule is kept because it reaches every debt buyer,
--   whether or not it is an FDCPA "debt collector" (Henson v. Santander, 2017), and it puts
--   the Illinois citation on the block.
--
-- No Illinois contact rule beyond federal law was verified:
-- * 205 ILCS 740/9.2(a) (text verified, lawserver.com and ilga.gov): a collection agency may
--   not communicate with a debtor at an unusual time, place or manner; convenient time is
--   "after 8:00 a.m. and before 9:00 p.m. in the debtor's local time"; not when represented
--   by an attorney; not at work if the employer prohibits it. Same hours, scope and
--   conditions as US-FED inconvenient-time, attorney-represented and workplace-prohibited:
--   not duplicated.
-- * 815 ILCS 505/2I (Consumer Fraud Act, text verified at ilga.gov) binds every person,
--   creditors included: no attempt to collect by communicating with the debtor's EMPLOYER
--   unless the payment has been in default at least 30 days and the employee had at least 5
--   days' prior notice. The gate models contacts with the consumer only (place = "work" is
--   the consumer's own work number or address, not the employer), so this cannot be
--   encoded: a DSL gap (no recipient other than the consumer), reported.
-- * 205 ILCS 740/9.4 (identity theft: stop collecting on a report) and 9.5 ("Statute of
--   limitations") exist by their titles; their text was not seen and nothing is encoded.
--   Illinois has no time-barred disclosure statute (sol.lua), so time_barred.lua has no
--   Illinois regulation.
return regulation {
    id = "US-IL",
    name = "Illinois Collection Agency Act (205 ILCS 740)",
    applies = { state = "IL", collectors = { "third_party", "debt_buyer" } },
    rules = {
        {
            id = "debt-buyer-no-suit",
            cite = "205 ILCS 740/8.6(a)",
            collectors = { "debt_buyer", "third_party" },
            owners = { "debt_buyer" },
            time_barred = true,
            forbid = { "threatens_suit" },
            reason = "Illinois: a debt buyer's action must be brought within the limitations period; the debt is time-barred, so no threat of suit",
            status = "V",
            interpretation = "A debt buyer that may not sue may not threaten to: the bar on the action is enforced on the message (threatens_suit).",
        },
    },
}
