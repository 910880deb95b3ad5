-- Time-barred debt: the state disclosures and state bars on suit, generated from the
-- statute-of-limitations data in regulations/sol.lua (`time_barred` block of each state).
--
-- One regulation per state whose sol.states[XX].time_barred.disclosure is true, with id
-- "US-XX" (the same id as the state's own script in states/, if any: the rule ids here,
-- "time-barred-disclosure" and "time-barred-no-suit", are used by no state script) and
-- applies = { state = "XX" }:
--   time-barred-disclosure  time_barred = true, requires = { "time_barred_notice" }
--   time-barred-no-suit     only where sol says suit_prohibited; time_barred = true,
--                           forbid = { "threatens_suit" }
-- The gate works out whether a debt is time-barred when the request does not say (the
-- state's period for debt.type from the earlier of the last payment and the charge-off),
-- so these rules apply without the caller classifying the debt.
--
-- Citations are the state's time_barred.cite in sol.lua (several are marked UNVERIFIED
-- there: CO, WA, and the CT disclosure; see SOURCES.md "Open items for counsel"); this
-- file adds nothing to them except where noted under SCOPE.
--
-- Who and where (SCOPE below; the reading chosen for each state, also on the rule):
-- * Collectors: the rule binds the collectors the state law binds. Where the law or its
--   scope is unverified the rule binds every collector (protective: an extra truthful
--   disclosure costs little). The FDCPA's own bar (12 CFR 1006.26(b)) is in federal.lua
--   and binds third parties and debt buyers everywhere; the no-suit rules here matter
--   where state law also reaches creditors (CA), and they keep the state citation on the
--   block for third parties acting for a debt buyer.
-- * Channels: where the state requires the notice in a written communication (CA, TX,
--   WV) the rule covers every written channel (letter, email, sms, whatsapp, push); the
--   gate cannot tell the first written communication from later ones, so every written
--   communication on a time-barred debt must carry it. Elsewhere every channel (NM
--   requires it orally too; NY in the medium that accepts payment; the others are
--   unverified as to medium).
-- * Purposes: collection, validation notice and verification; never the notice that
--   collection stops (cease_notice), which must stay possible.
-- * NC: 58-70-115 binds collection agencies (debt buyers included); G.S. 75-55(1), the
--   same acknowledgment disclosure in the Debt Collection Act, binds creditors (verified
--   text, unicourt/cic-code-nc title 75), so the NC disclosure binds every collector and
--   its citation adds 75-55(1). The NC ban on collecting time-barred debt at all by debt
--   buyers (58-70-115(4)) is in states/nc.lua.
local sol = require("regulations.sol")

local WRITTEN = { "letter", "email", "sms", "whatsapp", "push" }
local PURPOSES = { "collection", "validation_notice", "verification" }
local AGENCIES = { "third_party", "debt_buyer" }

-- Per-state scope. `disclosure` / `suit`: { collectors = ..., owners = ..., channels = ..., message = ...,
-- cite_add = ..., interpretation = ... } (owners: whose debt a third party collects, when
-- the state's bar binds debt buyers only). A state absent here gets every collector and every channel.
local SCOPE = {
    CA = {
        disclosure = { channels = WRITTEN,
            interpretation = "The Rosenthal Act (Civ. Code 1788.2(c)) reaches creditors collecting their own debts (domain reference CA-SCOPE, not re-read here), so every collector; 1788.14(d) requires the notice in the first written communication after the debt becomes time-barred: every written communication must carry it because the gate cannot tell the first." },
        suit = { interpretation = "CCP 337(d) bars any suit or arbitration after the period, whoever brings it: every collector, creditors included." },
    },
    CO = {
        disclosure = { collectors = AGENCIES,
            interpretation = "Citation and wording unverified (sol.lua status M); kept as a requirement for the collectors the Colorado FDCPA binds (debt collectors and collection agencies, not creditors), in every medium." },
    },
    CT = {
        disclosure = {
            interpretation = "The Connecticut notice is reported by two law-firm sources but its section was not located: every collector (Connecticut regulates creditors too, 36a-645 to 36a-647) and every medium, protective." },
        suit = { collectors = AGENCIES, owners = { "debt_buyer" },
            interpretation = "36a-814 bars suit by debt buyers (creditors or consumer collection agencies that purchased the debt); third parties acting for them are included (debt.owner; when absent, assumed)." },
    },
    MA = {
        disclosure = {
            interpretation = "940 CMR 7.00 (Attorney General) binds creditors and collectors alike: every collector; medium unverified, so every medium." },
    },
    NC = {
        disclosure = { cite_add = "N.C. Gen. Stat. 75-55(1) (creditors)",
            interpretation = "58-70-115(1) (collection agencies) and 75-55(1) (creditors) require the disclosure before seeking any acknowledgment of a time-barred debt: every collector, every medium, on every collection communication (the gate cannot tell which will seek an acknowledgment)." },
        suit = { collectors = AGENCIES, owners = { "debt_buyer" },
            interpretation = "58-70-115(4) binds debt buyers and collection agencies acting for them (debt.owner; when absent, assumed)." },
    },
    NM = {
        disclosure = {
            interpretation = "12.2.12 NMAC binds any person collecting from a New Mexico consumer, original creditors included, and requires the disclosure in writing and orally: every collector, every medium." },
    },
    NY = {
        disclosure = { collectors = AGENCIES, message = { "accepts_payment" },
            interpretation = "23 NYCRR Part 1 binds debt collectors (third parties and debt buyers), not original creditors; 1.3 ties the disclosure to accepting payment on a time-barred debt, in the medium used to accept it: required on a contact that will take a payment (message.accepts_payment), in any medium; when the request does not say, the contact is taken to accept one and message.accepts_payment is named in `assumed`." },
    },
    TX = {
        disclosure = { collectors = { "debt_buyer" }, channels = WRITTEN,
            interpretation = "Fin. Code 392.307 binds debt buyers and requires a written notice: every written communication by a debt buyer on a time-barred debt." },
        suit = { collectors = AGENCIES, owners = { "debt_buyer" },
            interpretation = "392.307(c) bars suit and arbitration by debt buyers; third parties acting for them are included (debt.owner; when absent, assumed)." },
    },
    WA = {
        disclosure = { collectors = AGENCIES,
            interpretation = "RCW 19.16 binds licensed collection agencies (debt buyers included); text unverified (sol.lua status M), so every medium." },
    },
    WV = {
        disclosure = { channels = WRITTEN,
            interpretation = "W. Va. Code 46A-2-128(f) (WVCCPA, whose debt collectors include creditors) requires the statements in the initial written communication: every collector, every written communication (the gate cannot tell the first)." },
    },
}

local function cite_of(tb, add)
    if add then
        return tb.cite .. "; " .. add
    end
    return tb.cite
end

local codes = {}
for code, st in pairs(sol.states) do
    if st.time_barred and st.time_barred.disclosure == true then
        codes[#codes + 1] = code
    end
end
table.sort(codes)

local regs = {}
for _, code in ipairs(codes) do
    local st = sol.states[code]
    local tb = st.time_barred
    local scope = SCOPE[code] or {}
    local d = scope.disclosure or {}
    local rules = {
        {
            id = "time-barred-disclosure",
            cite = cite_of(tb, d.cite_add),
            time_barred = true,
            purposes = PURPOSES,
            collectors = d.collectors,
            channels = d.channels,
            message = d.message,
            requires = { "time_barred_notice" },
            reason = "the debt is time-barred: " .. st.name .. " requires the time-barred disclosure",
            status = tb.status,
            interpretation = d.interpretation,
            notes = tb.notes,
        },
    }
    if tb.suit_prohibited then
        local s = scope.suit or {}
        rules[#rules + 1] = {
            id = "time-barred-no-suit",
            cite = cite_of(tb, s.cite_add),
            time_barred = true,
            collectors = s.collectors,
            owners = s.owners,
            forbid = { "threatens_suit" },
            reason = "the debt is time-barred: " .. st.name .. " law bars suit on it, so no threat of suit",
            status = tb.status,
            interpretation = s.interpretation,
        }
    end
    regs[#regs + 1] = regulation {
        id = "US-" .. code,
        name = st.name .. " time-barred debt",
        applies = { state = code },
        rules = rules,
    }
end

return regs
