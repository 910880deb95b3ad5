-- scripts/channels/whatsapp.lua: WhatsApp templates (measured like SMS).
local template = require("lib.template")

return {
    template {
        -- WhatsApp has no SMS segments; the cap only keeps the message readable,
        -- and leaves room for the longest state disclosures the gate may add
        -- (Colorado's time-barred notice with the rest took 7).
        id = "mid_reminder", channel = "whatsapp", max_segments = 12,
        placeholders = { ["consumer.first_name"] = "text", ["debt.balance"] = "money",
                         ["company.name"] = "text", ["payment.link"] = "text", ["company.phone"] = "text" },
        disclosures = { "mini_miranda", "optout_notice" },
        en = { text = "Hello {{consumer.first_name}}, this is {{company.name}}. Your balance of {{debt.balance|money}} is past due. You can pay or set up a plan at {{payment.link}} or call {{company.phone}}." },
        es = { text = "Hola {{consumer.first_name}}, le escribe {{company.name}}. Su saldo de {{debt.balance|money}} está vencido. Puede pagar o acordar un plan en {{payment.link}} o llamar al {{company.phone}}." },
    },
}
