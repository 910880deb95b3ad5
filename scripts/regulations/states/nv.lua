-- Nevada: collection agencies, NRS chapter 649 (and NAC chapter 649).
--
-- Who: "collection agencies" licensed under NRS 649 (third-party collectors). NRS 649.031
-- defines "debt buyer" (the chapter's index, leg.state.nv.us, 2023 revision); whether a
-- debt buyer collecting its own purchased debt is a "collection agency" was not verified,
-- so the rules bind debt buyers too (protective). A creditor collecting its own debt, a
-- hospital or other provider of health care, is outside NRS 649 (consumerfsblog.com on
-- SB 248: "Health care providers themselves are not covered").
--
-- Rules (the statute of limitations is in sol.lua; Nevada has no time-barred disclosure):
-- * medical-debt-notice-wait, NRS 649.366(1) (SB 248, 2021; A 2023): "Not less than 60 days
--   before taking any action to collect a medical debt, a collection agency shall send by
--   mail to the medical debtor written notification" (text verified: courtgpt.ai copy of
--   NRS 649.366, history "A 2023"; a 2023 bill summarized by fastdemocracy.com dropped
--   "registered or certified" mail).
--
-- Interpretations chosen (also on the rule):
-- * Counting: the Nevada Financial Institutions Division's answers on SB 248 say "The
--   60-days starts from the date of mailing (the next day is day 1) ... when the 60-days
--   has ended then an agency may proceed" (accountsrecovery.net, 2021-06-28). So a notice
--   mailed on local date D allows collection from local midnight starting D + 61, in every
--   zone of the consumer (one day later than a bare "60 days after mailing" reading:
--   protective).
-- * The notice date: the gate has no field for it, so the earliest letter about this debt
--   in the history (outbound, not failed) is taken as the 649.366 notice: a compliant
--   agency can send nothing else about a Nevada medical debt before it. Without such a
--   letter every collection contact on the debt is blocked (next allowed: never, until the
--   notice is sent). The notice itself is a letter carrying message.nv_medical_debt_notice
--   = true, which the rule lets through (it must go by mail: only a letter qualifies).
-- * "Any action to collect": every channel, for the purposes collection and
--   validation_notice (a validation notice is itself an action to collect).
-- * Local dates use each zone's offset at the moment judged; a notice mailed within an hour
--   of local midnight across a daylight-saving change may be dated one day off.
--
-- Verified but not encodable: during the 60 days a collection agency may accept a
-- voluntary payment only on contact the debtor starts, after telling the debtor payment is
-- not required (kevinhernandezlaw.com summary of SB 248: S); the gate sees no inbound
-- contact purpose. SB 248 also bars suits on medical debt under $10,000 (same source, S):
-- the request carries no balance, so it is not encoded.
-- Not verified, not encoded: NRS 649.370 (violation of the federal FDCPA is a violation of
-- the chapter: from memory); any NAC 649 contact-time or frequency rule. No Nevada
-- contact-time or call-frequency rule beyond federal law was found.
local AGENCIES = { "third_party", "debt_buyer" }

local WAIT_DAYS = 61 -- the mailing date is day 0, day 60 ends the period: D + 61 is allowed

-- Days since 1970-01-01 of a "YYYY-MM-DD" date (the proleptic Gregorian calendar).
local function day_number(s)
    local y, m, d = s:match("^(%d%d%d%d)-(%d%d)-(%d%d)$")
    y, m, d = tonumber(y), tonumber(m), tonumber(d)
    if m <= 2 then y = y - 1 end
    local era = math.floor(y / 400)
    local yoe = y - era * 400
    local doy = math.floor((153 * (m + (m > 2 and -3 or 9)) + 2) / 5) + d - 1
    local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
    return era * 146097 + doe - 719468
end

return regulation {
    id = "US-NV",
    name = "Nevada collection agencies (NRS 649)",
    applies = { state = "NV", collectors = AGENCIES },
    rules = {
        {
            id = "medical-debt-notice-wait",
            cite = "NRS 649.366(1)",
            debt_types = { "medical" },
            purposes = { "collection", "validation_notice" },
            status = "V",
            interpretation = "The notice's mailing date is debt.notices.medical_60_day when the request gives it; otherwise the earliest outbound letter about this debt is taken as the 649.366 notice (and debt.notices.medical_60_day is named in `assumed` when the rule blocks); collection may start at local midnight of the mailing date + 61 days (the day after mailing is day 1, per the Financial Institutions Division), in every zone; the notice itself is a letter with message.nv_medical_debt_notice = true.",
            check = function(c)
                if c.channel == "letter" and c.message.nv_medical_debt_notice == true then
                    return -- the 60-day notice itself
                end
                local notices = c.debt.notices or {}
                local assumed
                if notices.medical_60_day then
                    -- The request gives the mailing date (the consumer's local date).
                    local first_day = day_number(notices.medical_60_day) + WAIT_DAYS
                    local next_t
                    for _, lt in ipairs(c.local_times) do
                        if math.floor((c.now + lt.offset) / 86400) < first_day then
                            local t = first_day * 86400 - lt.offset
                            if next_t == nil or t > next_t then
                                next_t = t
                            end
                        end
                    end
                    if next_t then
                        return block("Nevada medical debt: 60 days must pass after the NRS 649.366 notice was mailed", next_t)
                    end
                    return nil
                end
                assumed = { "debt.notices.medical_60_day" }
                local mailed
                for _, h in ipairs(c.history) do
                    if h.channel == "letter" and h.direction == "outbound" and not h.other_debt
                        and h.outcome ~= "failed" and h.at <= c.now
                        and (mailed == nil or h.at < mailed) then
                        mailed = h.at
                    end
                end
                if mailed == nil then
                    local b = block("Nevada medical debt: no action to collect before the NRS 649.366 notice is mailed (send it as a letter with message.nv_medical_debt_notice = true)")
                    b.assumed = assumed
                    return b
                end
                local next_t
                for _, lt in ipairs(c.local_times) do
                    local today = math.floor((c.now + lt.offset) / 86400)
                    local first_day = math.floor((mailed + lt.offset) / 86400) + WAIT_DAYS
                    if today < first_day then
                        local t = first_day * 86400 - lt.offset
                        if next_t == nil or t > next_t then
                            next_t = t
                        end
                    end
                end
                if next_t then
                    local b = block("Nevada medical debt: 60 days must pass after the NRS 649.366 notice was mailed", next_t)
                    b.assumed = assumed
                    return b
                end
            end,
        },
    },
}
