-- scripts/channels/push.lua: app push notifications (short: no money amounts on a
-- lock screen that others may see).
local template = require("lib.template")

return {
    template {
        id = "pre_due_reminder", channel = "push",
        placeholders = { ["consumer.first_name"] = "text", ["company.name"] = "text" },
        disclosures = { "mini_miranda", "optout_notice" },
        en = { text = "{{company.name}}: {{consumer.first_name}}, a payment is due soon. Open the app to review it." },
        es = { text = "{{company.name}}: {{consumer.first_name}}, un pago vence pronto. Abra la aplicación para revisarlo." },
    },
}
