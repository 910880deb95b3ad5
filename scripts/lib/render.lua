-- scripts/lib/render.lua: how the engine renders an outbox message. Called by
-- the daily cycle (sandbox/lb_render.c) with what it knows of the consumer
-- and the debt; finds the template (channels/catalog.lua), adds the company
-- details (channels/company.lua) and renders with the disclosures the
-- template carries plus the gate's `requires`.
local catalog = require("channels.catalog")
local company = require("channels.company")

return function(channel, id, lang, values, opts)
    local t = catalog.find(channel, id)
    if not t then
        error(string.format("no template '%s' for channel %s in channels/", tostring(id), tostring(channel)), 0)
    end
    -- What the file did not say still reads well (the import keeps what it
    -- was given; a debt may come without a creditor name or a consumer name).
    local es = lang == "es"
    values.debt = values.debt or {}
    values.consumer = values.consumer or {}
    if not values.debt.creditor then values.debt.creditor = es and "su acreedor" or "your creditor" end
    if not values.consumer.first_name then values.consumer.first_name = es and "cliente" or "customer" end
    if not values.consumer.last_name then values.consumer.last_name = "" end
    values.company = { name = company.name, phone = company.phone, hours = company.hours,
                       ca_license = company.ca_license }
    values.payment = { link = company.payment_link .. tostring(values.debt and values.debt.id or "") }
    local out = t:render(lang == "es" and "es" or "en", values, opts)
    return out.subject, out.text, out.html, out.over_limit and true or false, out.segments or 0
end
