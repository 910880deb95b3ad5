-- California: Rosenthal Fair Debt Collection Practices Act, Cal. Civ. Code
-- 1788-1788.33 (and the Fair Debt Buying Practices Act, 1788.50-1788.64).
--
-- Who: a Rosenthal "debt collector" (1788.2(c)) is anyone who regularly collects
-- on its own behalf or for others, so CREDITORS collecting their own debts are
-- bound. 1788.17 makes every debt collector comply with 15 U.S.C. 1692b-1692j (as
-- they read on 2001-01-01), except that 1692e(11) and 1692g do not apply to a
-- creditor and its own employees or affiliates (1692a(6)(A), (B)). The FDCPA rules
-- of federal.lua therefore also bind creditors here, and are written below for
-- creditors only (the federal rules already bind third-party collectors and debt
-- buyers); 1692g (validation, disputes) is not extended to creditors. Regulation F
-- (its 7-in-7 call presumptions) is not incorporated. Since 2025-01-01 1788.11 and
-- 1788.14 speak of "covered debt", which adds some small-business debts; the
-- request has no such debt type.
--
-- Sources read: 1788.17 (onecle copy, V); 1788.11 as amended (FindLaw, current as
-- of 2025-01-01, V); 1788.14 (self-law.org, via the domain reference S14, V);
-- 1788.52(a) (SB 890 text, domain reference S15, V).
--
-- Interpretations chosen (each also on its rule):
-- * 1692c(a)(1) via 1788.17: the same 08:00:00 <= local time < 21:00:00 window in
--   every zone as US-FED/inconvenient-time; letters are not timed.
-- * 1788.14(c) and 1692c(a)(2): the consumer flag "attorney" means the creditor has
--   the attorney's written notice with name and address; statements of account,
--   which 1788.14(c) allows, are not a purpose the request can name, so every
--   contact is blocked.
-- * 1788.52(a): a debt buyer may make no written statement to collect unless it
--   holds the listed information (sole ownership, charge-off balance and
--   post-charge-off interest and fees, date of default or last payment, charge-off
--   creditor, debtor's name and address at charge-off, every later owner). The gate
--   cannot see the file: the message must certify it with debt_buyer_records =
--   true. Written statements are letters and electronic messages.
-- * 1788.11(f): written or digital communications must show the collector's
--   California license number in 12-point type "if applicable" - licensees under
--   the Debt Collection Licensing Act; required of third-party collectors and debt
--   buyers (ca_license_number = true); whether a creditor needs a licence depends
--   on DCLA exemptions the request cannot express, so creditors are not asked.
--
-- Not encoded here: 1788.11(d)-(e) (repeated calls, "unreasonable" frequency - no
-- number); 1788.52(c) (notice in the first written communication - the gate cannot
-- tell a first communication reliably); the time-barred disclosures of 1788.14(d)
-- and 1788.52(d), and the bar on suing (so on threatening suit) on a time-barred
-- debt, CCP 337(d) - both generated from sol.lua into regulations/time_barred.lua
-- (US-CA/time-barred-disclosure, US-CA/time-barred-no-suit, every collector,
-- creditors included).
local TIMED = { "call", "sms", "email", "push", "whatsapp", "visit" }
local WRITTEN = { "letter", "email", "sms", "whatsapp", "push" }

return regulation {
    id = "US-CA",
    name = "California Rosenthal Act (Cal. Civ. Code 1788 et seq.)",
    applies = { state = "CA" },
    rules = {
        {
            id = "inconvenient-time-creditor",
            cite = "Cal. Civ. Code 1788.17; 15 U.S.C. 1692c(a)(1)",
            collectors = { "creditor" },
            channels = TIMED,
            window = { from = "08:00", to = "21:00" },
            reason = "outside 8:00 a.m. to 9:00 p.m. at the consumer's location",
            interpretation = "As US-FED/inconvenient-time (08:00:00 allowed, 21:00:00 blocked, every zone, letters not timed), for creditors bound through 1788.17.",
            status = "V",
        },
        {
            id = "attorney-represented-creditor",
            cite = "Cal. Civ. Code 1788.14(c); 1788.17 (15 U.S.C. 1692c(a)(2))",
            collectors = { "creditor" },
            flags = { "attorney" },
            block = true,
            reason = "the consumer's attorney gave written notice of representation: communicate with the attorney",
            interpretation = "The attorney flag stands for the attorney's written notice; statements of account are not modelled and are blocked too.",
            status = "V",
        },
        {
            id = "workplace-prohibited-creditor",
            cite = "Cal. Civ. Code 1788.17; 15 U.S.C. 1692c(a)(3)",
            collectors = { "creditor" },
            places = { "work" },
            flags = { "no_work_contact" },
            block = true,
            reason = "the employer prohibits the consumer from receiving such communications at work",
            status = "V",
        },
        {
            id = "cease-communication-creditor",
            cite = "Cal. Civ. Code 1788.17; 15 U.S.C. 1692c(c)",
            collectors = { "creditor" },
            flags = { "cease" },
            purposes = { "collection", "validation_notice", "verification" },
            block = true,
            reason = "the consumer asked in writing that communication stop; only a notice that collection ends or that a remedy will be invoked may be sent",
            status = "V",
        },
        {
            id = "debt-buyer-records",
            cite = "Cal. Civ. Code 1788.52(a)",
            collectors = { "debt_buyer" },
            channels = WRITTEN,
            purposes = { "collection", "validation_notice" },
            requires = { "debt_buyer_records" },
            reason = "a debt buyer may make no written statement to collect without holding the information 1788.52(a) lists",
            interpretation = "The message certifies with debt_buyer_records = true that the debt buyer holds that information; letters and electronic messages are written statements.",
            status = "V",
        },
        {
            id = "license-number",
            cite = "Cal. Civ. Code 1788.11(f)",
            collectors = { "third_party", "debt_buyer" },
            channels = WRITTEN,
            requires = { "ca_license_number" },
            reason = "written and digital communications must display the California debt collector license number in at least 12-point type",
            interpretation = "Required of third-party collectors and debt buyers (licensees under the Debt Collection Licensing Act); creditors' licensing depends on exemptions not modelled.",
            status = "V",
        },
    },
}
