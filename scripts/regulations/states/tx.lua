-- Texas: Texas Debt Collection Act, Tex. Fin. Code ch. 392, as amended by HB 996
-- (Fair Consumer Debt Collection Act, 2019; Tex. Fin. Code 392.307, in force
-- 2019-09-01).
--
-- Who: the TDCA's "debt collector" (392.001(6)) includes creditors collecting their
-- own debts, but the Act has no contact-time, frequency, attorney or cease rule
-- stated as a number or a clear condition; 392.307 binds DEBT BUYERS: "a person who
-- purchases or otherwise acquires a consumer debt from a creditor or other
-- subsequent owner", whether it collects itself, hires a collector or hires an
-- attorney (except incidental portfolio purchases and check-services companies).
--
-- Sources read: HB 996 enrolled text, 392.307(a)-(d) (capitol.texas.gov, V);
-- insideARM / receivablesinfo summaries (S). 392.301(a)(8) ("threatening to take an
-- action prohibited by law") is cited from memory (M).
--
-- Interpretations chosen (each also on its rule):
-- * 392.307(c) bars a debt buyer from commencing an action or arbitration once the
--   CPRC 16.004 / Bus. & Com. Code 3.118 period has run; a threat of suit on such a
--   debt is then a threat of an action prohibited by law (392.301(a)(8)). The rule
--   stands on state law, so it binds a debt buyer even where the FDCPA might not
--   (a buyer collecting debts it owns, Henson v. Santander, 2017); the engine's
--   US-FED/time-barred-suit-threat gives the same answer for debt buyers today.
-- * "Time-barred" is the gate's own status (debt.time_barred, or worked out from
--   sol.lua: 4 years, CPRC 16.004).
--
-- Overlap: regulations/time_barred.lua (generated from sol.lua by another engineer)
-- also emits US-TX/time-barred-no-suit (392.307, third parties and debt buyers), so
-- a debt buyer's threat is blocked by both rules and by US-FED/time-barred-suit-threat.
-- This rule is kept because it is the only Texas rule that is a number or a clear
-- condition (lint refuses a regulation without rules) and it carries the exact
-- paragraph; the lead engineer may keep either one.
--
-- Not encoded: 392.302(4) (calls "repeatedly or continuously ... with the intent to
-- harass" - no number); the 392.307(d) notices on time-barred debt (generated from
-- sol.lua into time_barred.lua); 392.307(e) no revival (informational, sol.lua).
return regulation {
    id = "US-TX",
    name = "Texas Debt Collection Act (Tex. Fin. Code ch. 392)",
    applies = { state = "TX" },
    rules = {
        {
            id = "debt-buyer-time-barred-suit",
            cite = "Tex. Fin. Code 392.307(c); 392.301(a)(8)",
            collectors = { "debt_buyer", "third_party" },
            owners = { "debt_buyer" },
            time_barred = true,
            forbid = { "threatens_suit" },
            reason = "a debt buyer may not sue or arbitrate on a time-barred consumer debt, so it may not threaten to",
            interpretation = "A threat of the suit 392.307(c) prohibits is a threat of an action prohibited by law (392.301(a)(8)); binds debt buyers whether or not the FDCPA does, and a collector they hire (debt.owner = debt_buyer; absent, assumed and named in `assumed`).",
            status = "V for 392.307(c); M for the paragraph number 392.301(a)(8)",
        },
    },
}
