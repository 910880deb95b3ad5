-- The states (and DC's neighbours in the table) that have no script of their own:
-- each is accounted for by a statement naming the statute checked and what it adds
-- to federal law (FDCPA, Regulation F, TCPA: federal.lua, federal_all.lua), so a
-- user can tell "checked and found to add no contact rule" from "never looked at".
-- `tallyman lint` fails when a state or DC has neither rules nor a statement.
--
-- Time-barred rules of these states (disclosures, bars on suit) come from sol.lua
-- through time_barred.lua; limitation periods are in sol.lua. What a statement
-- says is about contact rules: hours, frequency, workplace, electronic
-- communications, time-barred disclosures, licensing-related content.
--
-- verified = true: the statute's text (or a verbatim copy) was read; false: only
-- a secondary source or memory, and `missing` says what was not read. Sources:
-- SOURCES.md, "Every state accounted for". NOT LEGAL ADVICE: counsel reviews
-- every row (`tallyman regulations table`).
local function state(code, name, checked, finding, verified, missing, extra)
    local st = { checked = checked, finding = finding, verified = verified, missing = missing }
    for k, v in pairs(extra or {}) do
        st[k] = v
    end
    return regulation {
        id = "US-" .. code,
        name = name,
        applies = { state = code },
        statement = st,
    }
end

local NOT_READ = "the statute's text was not read (memory only); no state contact rule is known"

return {
    state("AL", "Alabama", "Ala. Code 40-12-80 (collection agency licence tax); no consumer debt-collection practices act known",
          "no contact rule beyond federal law", false, NOT_READ),
    state("AK", "Alaska", "AS 08.24 (collection agencies); 12 AAC 14",
          "no contact rule beyond federal law", false, NOT_READ),
    state("AR", "Arkansas", "Ark. Code 17-24-501 to 17-24-512 (Arkansas Fair Debt Collection Practices Act), 17-24-504",
          "17-24-504 copies 15 U.S.C. 1692c word for word (hours 8-21, attorney, workplace, cease): no contact rule beyond federal law",
          true),
    state("AZ", "Arizona", "A.R.S. 32-1001 et seq.; Ariz. Admin. Code R20-4-1501, R20-4-1513, R20-4-1520",
          "R20-4-1513(A): a licensed collection agency stops contacting the debtor once the debtor says, orally, that a lawyer represents him and he wants contact through the lawyer; the gate holds this through the consumer's attorney flag (US-FED/attorney-represented binds the same agencies). No hour or frequency rule beyond federal law was seen.",
          false, "R20-4-1512 was not read; the oral-statement trigger is held only as far as the caller sets the attorney flag"),
    state("DE", "Delaware", "no collection-practices statute known",
          "no contact rule beyond federal law", false, NOT_READ),
    state("GA", "Georgia", "O.C.G.A. 10-1-390 et seq. (Fair Business Practices Act, general)",
          "no contact rule beyond federal law", false, NOT_READ),
    state("HI", "Hawaii", "HRS 443B-16 to 443B-18 (collection agencies); HRS 480D-3 (other debt collectors, creditors included)",
          "FDCPA-like conduct rules that reach creditors; no hour or frequency number beyond federal law known",
          false, "HRS 480D-3 read only in a secondary copy; whether HB 173 (2014, no contact at the place of employment) was enacted is not verified"),
    state("ID", "Idaho", "Idaho Code 26-2222 et seq. (Idaho Collection Agency Act), 26-2229A",
          "no contact rule beyond federal law", false, NOT_READ),
    state("IN", "Indiana", "no debt-collection practices act known (collection agency licensing repealed)",
          "no contact rule beyond federal law", false, NOT_READ),
    state("IA", "Iowa", "Iowa Code 537.7102(5), 537.7103 (Iowa Debt Collection Practices Act)",
          "the act reaches creditors collecting their own debts (537.7102(5), read); 537.7103(2) (harassment, hours) and (3) (publication, employer contact) set no number beyond federal law as far as read",
          false, "537.7103(3) was not reached in the copies read"),
    state("KS", "Kansas", "K.S.A. 50-626, 50-627 (Kansas Consumer Protection Act, general)",
          "no contact rule beyond federal law", false, NOT_READ),
    state("KY", "Kentucky", "KRS 367.170 (general unfair practices)",
          "no contact rule beyond federal law", false, NOT_READ),
    state("LA", "Louisiana", "La. R.S. 9:3562",
          "binds creditors: no discussion of the debt with anyone outside the debtor's household (employer included) except credit and whereabouts inquiries; after a cease notice sent by registered or certified mail, at most one mailed notice a month and four personal contacts. The gate models neither third-party disclosure nor the certified-mail cease notice, so the statement records them for counsel; third-party collectors are held to the stricter federal cease rule.",
          true),
    state("ME", "Maine", "32 M.R.S. 11001 to 11054 (Maine Fair Debt Collection Practices Act); 32 M.R.S. 11013(7), (8)",
          "time-barred rules only (no suit more than 6 years after the last activity, no revival: sol.lua); the contact rules mirror the federal Act",
          false, "32 M.R.S. 11013 contact paragraphs were not re-read (the time-barred paragraphs were)"),
    state("MI", "Michigan", "MCL 445.251 to 445.258 (Regulation of Collection Practices Act), 445.252(n); MCL 339.915 (licensed agencies)",
          "reaches creditors; harassing calls and inconvenient times without a number beyond federal law",
          false, "MCL 445.252 and 339.915 were not re-read"),
    state("MO", "Missouri", "no debt-collection practices act known",
          "no contact rule beyond federal law", false, NOT_READ),
    state("MS", "Mississippi", "Miss. Code 15-1-3 (limitation extinguishes the right); no contact statute known",
          "time-barred rules only (sol.lua); no contact rule beyond federal law", false,
          "no Mississippi collection-practices statute was searched for"),
    state("MT", "Montana", "no debt-collection practices act known",
          "no contact rule beyond federal law", false, NOT_READ),
    state("NE", "Nebraska", "Neb. Rev. Stat. 45-601 et seq. (Collection Agency Act)",
          "no contact rule beyond federal law", false, NOT_READ),
    state("NH", "New Hampshire", "RSA 358-C:1 to 358-C:4",
          "reaches creditors and collection agencies, nearly parallel to the FDCPA; no hour or frequency number beyond federal law known",
          false, "RSA 358-C:3 was read only in the Department of Justice's summary"),
    state("NJ", "New Jersey", "N.J.S.A. 45:18-1 et seq. (collection agency bonding); N.J.S.A. 56:8 (Consumer Fraud Act)",
          "no contact rule beyond federal law", false, NOT_READ),
    state("NM", "New Mexico", "12.2.12 NMAC (time-barred debt); NMSA 37-1-16",
          "time-barred disclosure in writing and orally, binding every collector (time_barred.lua); no contact rule beyond federal law known",
          false, "no New Mexico collection-practices statute beyond 12.2.12 NMAC was searched for"),
    state("ND", "North Dakota", "N.D.C.C. ch. 13-05 (collection agencies)",
          "no contact rule beyond federal law", false, NOT_READ),
    state("OH", "Ohio", "R.C. 1345 (Consumer Sales Practices Act; applied to third-party collectors, not creditors)",
          "no statewide contact rule beyond federal law; Toledo Municipal Code 795.11 (frequency, employer contact only to verify employment) is a city rule not scripted",
          false, "R.C. 1345 was not re-read; Toledo 795.11 read only in an excerpt, its scope section not read"),
    state("OK", "Oklahoma", "no collection-practices act known; Okla. Admin. Code 160:70-11-3 (lender licensees)",
          "no rule for collection agencies beyond federal law; 160:70-11-3 binds licensed lenders collecting their own loans (attorney exception after 5 business days, written consent, no due-date reminder calls without written authorization), which the gate cannot tell from other creditors",
          false, "which licensees OAC 160:70 covers was not confirmed; no Oklahoma collection-practices act was searched for"),
    state("PA", "Pennsylvania", "73 P.S. 2270.1 to 2270.6 (Fair Credit Extension Uniformity Act), 2270.4(b)",
          "2270.4(b) holds creditors to FDCPA-equivalent conduct (hours 8-21, represented consumers, workplace when the employer prohibits); no number beyond federal law (a web claim of 'one conversation a week' is not in the Act and is not encoded)",
          false, "2270.4 was read in a secondary copy of the Act; creditors' hours are not encoded as a rule"),
    state("RI", "Rhode Island", "R.I. Gen. Laws 19-14.9-1 et seq. (Fair Debt Collection Practices Act), 19-14.9-5",
          "19-14.9-5 copies 15 U.S.C. 1692c: no contact rule beyond federal law", true),
    state("SC", "South Carolina", "S.C. Code 37-5-108 (unconscionable debt collection)",
          "no numeric contact rule beyond federal law known", false, NOT_READ),
    state("SD", "South Dakota", "no debt-collection practices act known",
          "no contact rule beyond federal law", false, NOT_READ),
    state("TN", "Tennessee", "Tenn. Code 62-20-101 et seq. (Collection Service Act); Tenn. Comp. R. & Regs. 0320-05-.01 to .06",
          "the Collection Service Board's rules mirror the FDCPA (hours 8-21, attorney, workplace, third parties once) and bind persons acting for licensed collection services: no contact rule beyond federal law",
          true),
    state("UT", "Utah", "Utah Consumer Sales Practices Act (general); collection agency licensing repealed in 2008",
          "no contact rule beyond federal law", false, NOT_READ),
    state("VA", "Virginia", "no debt-collection practices act known",
          "no contact rule beyond federal law", false, NOT_READ),
    state("VT", "Vermont", "Vt. Consumer Protection Rule CF 104 (Code Vt. R. 06-031-004), under 9 V.S.A. 2453",
          "reaches creditors; threats and harassment without a number beyond federal law as far as read",
          false, "CF 104.02 (harassment) was cut off in the copy read"),
    state("WI", "Wisconsin", "Wis. Stat. 427.104(1)(d), (g); Wis. Admin. Code DFI-Bkg 74.16(4), (5), (9g)",
          "reaches creditors; no contact with the employer before judgment except to verify employment; licensed agencies stop telephone contact when the debtor asks, orally or in writing, that collection efforts stop. The gate models neither employer contact nor an oral cease request, so the statement records them for counsel.",
          true),
    state("WY", "Wyoming", "Wyo. Stat. 33-11-101 et seq. (Collection Agency Board)",
          "no contact rule beyond federal law", false, NOT_READ),
}
