-- New York State: Department of Financial Services, 23 NYCRR Part 1 ("Debt
-- collection by third-party debt collectors and debt buyers", in force since
-- 2015).
--
-- Who: "debt collectors" as Part 1 defines them - third-party collectors and debt
-- buyers. DFS's own FAQ says Part 1 does not apply to original creditors
-- collecting their own debts: applies.collectors = third_party, debt_buyer. Part 1
-- also excludes debts arising from credit a seller extended directly for its own
-- goods or services (e.g. some medical and dealer-financed debts); the request
-- cannot tell those apart, so every debt type is covered (stricter).
--
-- Sources: DFS FAQ on 23 NYCRR 1 (copy read: creditors and seller-financed debts
-- excluded, S); sessions.legal and consumerfsblog.com 2015 summaries (Part 1
-- "created a structure for the use of email"; scope: third-party collectors and
-- debt buyers, S); domain reference row NY-EMAIL (S). The text of 23 NYCRR 1.6
-- itself could not be read in the stored copies: both rules below are status S and
-- must be checked against the official text.
--
-- Interpretations chosen (each also on its rule):
-- * 1.6(a) allows email only if the consumer voluntarily provided the address and
--   consented in writing to email about the specific debt: consent.email on file is
--   taken to record both (the request cannot carry a per-debt consent).
-- * 1.6(b) bars email to an address the collector knows or has reason to know the
--   employer provides: place "work" on an email is exactly such an address, and
--   the bar holds even with consent (unlike 12 CFR 1006.22(f)(3), which consent
--   lifts).
--
-- Not encoded: the time-barred disclosure of 23 NYCRR 1.3 (generated from sol.lua
-- into time_barred.lua); GBL 601(6) (frequency "as can reasonably be expected to
-- abuse or harass" - no number); the DFS 2021/2022 proposed amendments (one call and
-- three attempts per 7 days, limits on electronic messages), which were never
-- adopted.
return regulation {
    id = "US-NY",
    name = "New York State (23 NYCRR Part 1)",
    applies = { state = "NY", collectors = { "third_party", "debt_buyer" } },
    rules = {
        {
            id = "email-consent",
            cite = "23 NYCRR 1.6(a)",
            channels = { "email" },
            consent = true,
            reason = "email only to an address the consumer provided, with the consumer's written consent to email about this debt",
            interpretation = "consent.email on file records the voluntarily provided address and the written consent.",
            status = "S (secondary summaries; 23 NYCRR 1.6 text not read)",
        },
        {
            id = "work-email",
            cite = "23 NYCRR 1.6(b)",
            channels = { "email" },
            places = { "work" },
            block = true,
            reason = "no email to an address provided by the consumer's employer",
            interpretation = "Blocked even with the consumer's consent.",
            status = "S (domain reference NY-EMAIL; 23 NYCRR 1.6 text not read)",
        },
    },
}
