-- scripts/lib/claims.lua: what a channel template's message says that the
-- law may forbid (its `claims`, e.g. "threatens_suit"). The daily cycle asks
-- before it sends the contact to the compliance gate, so a rule that forbids
-- the claim refuses the contact (a threat of suit on a time-barred debt).
-- Returns nil for an unknown template (the render reports it).
local catalog = require("channels.catalog")

return function(channel, id)
    local t = catalog.find(channel, id)
    if not t then return nil end
    return t.claims or {}
end
