-- scripts/strategies/library.lua: the journeys of this strategy set, for
-- lib/journeys.lua (specs route a debt with it as the engine does: the first
-- journey, in priority order, whose segment takes the debt). Not a journey.
-- A strategy folder lists its own (examples/strategies/dpd/library.lua).
return {
    "no_contact", "bankruptcy", "deceased_estate", "dispute_hold", "hardship",
    "settlement_watch", "promise_watch", "skip_trace", "reaged_returned", "pre_delinquency",
    "self_cure", "digital_first", "high_balance", "first_contact", "early_stage", "mid_stage",
    "late_stage", "settlement_campaign",
}
