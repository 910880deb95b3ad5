-- scripts/channels/sms.lua: SMS templates (GSM-7 where the Spanish allows it:
-- á, í, ó, ú are outside GSM-7 and make the whole message UCS-2).
local template = require("lib.template")

local P = {
    ["consumer.first_name"] = "text", ["debt.balance"] = "money", ["company.name"] = "text",
    ["payment.link"] = "text", ["company.phone"] = "text", ["debt.creditor"] = "text",
    ["offer.due"] = "date", ["offer.amount"] = "money",
}

return {
    template {
        id = "pre_due_reminder", channel = "sms", placeholders = P,
        disclosures = { "mini_miranda", "optout_notice" },
        en = { text = "{{company.name}}: Hi {{consumer.first_name}}, your {{debt.creditor}} payment is due soon. Pay: {{payment.link}}" },
        es = { text = "{{company.name}}: Hola {{consumer.first_name}}, su pago de {{debt.creditor}} vence pronto. Pague: {{payment.link}}" },
    },
    template {
        id = "early_reminder", channel = "sms", max_segments = 3, placeholders = P,
        disclosures = { "mini_miranda", "optout_notice" },
        en = { text = "{{company.name}}: Hi {{consumer.first_name}}, your balance of {{debt.balance|money}} is past due. Pay: {{payment.link}}" },
        es = { text = "{{company.name}}: Hola {{consumer.first_name}}, su saldo de {{debt.balance|money}} esta vencido. Pague: {{payment.link}}" },
    },
    template {
        id = "mid_reminder", channel = "sms", placeholders = P,
        disclosures = { "mini_miranda", "optout_notice" },
        en = { text = "{{company.name}}: {{consumer.first_name}}, {{debt.balance|money}} is still unpaid. Call {{company.phone}} or pay at {{payment.link}}" },
        es = { text = "{{company.name}}: {{consumer.first_name}}, {{debt.balance|money}} sigue sin pagar. Llame al {{company.phone}} o pague en {{payment.link}}" },
    },
    template {
        id = "promise_reminder", channel = "sms", placeholders = P,
        disclosures = { "mini_miranda", "optout_notice" },
        en = { text = "{{company.name}}: Hi {{consumer.first_name}}, a reminder of your payment of {{offer.amount|money}} due {{offer.due|date}}. Pay: {{payment.link}}" },
        es = { text = "{{company.name}}: Hola {{consumer.first_name}}, le recordamos su pago de {{offer.amount|money}} que vence el {{offer.due|date}}. Pague: {{payment.link}}" },
    },
}
