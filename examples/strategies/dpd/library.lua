-- examples/strategies/dpd/library.lua: the journeys of the days-past-due
-- strategy set (the library shipped before the segmented one), for
-- lib/journeys.lua. Not a journey.
return {
    "no_contact", "dispute_hold", "hardship", "promise_watch", "pre_delinquency",
    "early_stage", "mid_stage", "late_stage",
}
