-- scripts/channels/voice.lua: call scripts, used for both `call` (an agent reads
-- it) and `voice` (prerecorded / IVR) sends. Disclosures are said first.
local template = require("lib.template")

local P = { ["consumer.first_name"] = "text", ["consumer.last_name"] = "text", ["company.name"] = "text",
            ["debt.balance"] = "money", ["debt.creditor"] = "text", ["company.phone"] = "text",
            ["offer.amount"] = "money", ["offer.due"] = "date" }

return {
    template {
        id = "early_call", channel = "voice", placeholders = P, disclosures = { "mini_miranda" },
        en = { text = "May I speak with {{consumer.first_name}} {{consumer.last_name}}? This is {{company.name}} calling about your {{debt.creditor}} account, with a balance of {{debt.balance|money}}. Can we help you make a payment today?" },
        es = { text = "¿Puedo hablar con {{consumer.first_name}} {{consumer.last_name}}? Le llama {{company.name}} por su cuenta de {{debt.creditor}}, con un saldo de {{debt.balance|money}}. ¿Podemos ayudarle a hacer un pago hoy?" },
    },
    template {
        id = "mid_call", channel = "voice", placeholders = P, disclosures = { "mini_miranda" },
        en = { text = "May I speak with {{consumer.first_name}} {{consumer.last_name}}? This is {{company.name}} about your {{debt.creditor}} account of {{debt.balance|money}}. We can set up a payment plan that fits your budget. You can reach us at {{company.phone}}." },
        es = { text = "¿Puedo hablar con {{consumer.first_name}} {{consumer.last_name}}? Le llama {{company.name}} por su cuenta de {{debt.creditor}} de {{debt.balance|money}}. Podemos acordar un plan de pagos a su medida. Puede llamarnos al {{company.phone}}." },
    },
    template {
        id = "settlement_call", channel = "voice", placeholders = P, disclosures = { "mini_miranda" },
        en = { text = "May I speak with {{consumer.first_name}} {{consumer.last_name}}? This is {{company.name}} about your {{debt.creditor}} account. We can accept {{offer.amount|money}} to settle it if paid by {{offer.due|date}}." },
        es = { text = "¿Puedo hablar con {{consumer.first_name}} {{consumer.last_name}}? Le llama {{company.name}} por su cuenta de {{debt.creditor}}. Podemos aceptar {{offer.amount|money}} para liquidarla si paga antes del {{offer.due|date}}." },
    },
}
