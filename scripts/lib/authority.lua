-- scripts/lib/authority.lua: settlement authority, as policy data.
--
-- Who may offer to settle a debt for how little, as a share of the balance in
-- basis points (7000 = 70%). Every settlement a journey offers is checked
-- against these rows by the engine (tm.pay.settlement) before it is made: an
-- offer below the authority of the role it names stops the step, and the debt
-- is parked with the reason in the audit log until the journey or this policy
-- is changed. Deployed like any script: no recompile.
--
--   role      agent, supervisor, manager, or any
--   state     a USPS code: the row applies to debts of that state only
--   creditor  the row applies to that creditor's debts only
--   min_bps   the least the role may accept; the strictest applicable row wins
--
-- floor_bps is a hard floor no role and no override goes below.
return {
    floor_bps = 2500,
    rules = {
        { role = "agent", min_bps = 5000 },
        { role = "supervisor", min_bps = 4000 },
        { role = "manager", min_bps = 2500 },
        -- A creditor's stricter house rule narrows the defaults for its debts.
        { role = "any", creditor = "Example Bank", min_bps = 4500 },
    },
}
