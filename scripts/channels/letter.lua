-- scripts/channels/letter.lua: letters. The disclosures follow the body as their
-- own paragraphs; the validation notice itself (12 CFR 1006.34, model form B-1)
-- is produced by the engine's letter service, not by these templates.
local template = require("lib.template")

local P = {
    ["consumer.first_name"] = "text", ["consumer.last_name"] = "text", ["debt.balance"] = "money",
    ["debt.creditor"] = "text", ["debt.id"] = "text", ["company.name"] = "text",
    ["company.phone"] = "text", ["company.hours"] = "text", ["payment.link"] = "text",
    ["offer.amount"] = "money", ["offer.due"] = "date", ["today"] = "date",
    ["plan.first_due"] = "date", ["plan.count"] = "integer", ["plan.amount"] = "money",
}

return {
    template {
        id = "mid_letter", channel = "letter", placeholders = P,
        disclosures = { "mini_miranda", "validation_notice_reference" },
        en = { text = "{{today|date}}\n\nDear {{consumer.first_name}} {{consumer.last_name}},\n\nRe: {{debt.creditor}} account {{debt.id}}\n\nYour account has a balance of {{debt.balance|money}}. We would like to help you resolve it, in full or with a payment plan.\n\nPay at {{payment.link}} or call {{company.phone}} ({{company.hours}}).\n\nSincerely,\n{{company.name}}" },
        es = { text = "{{today|date}}\n\nEstimado/a {{consumer.first_name}} {{consumer.last_name}}:\n\nRef.: cuenta de {{debt.creditor}} {{debt.id}}\n\nSu cuenta tiene un saldo de {{debt.balance|money}}. Queremos ayudarle a resolverlo, de una vez o con un plan de pagos.\n\nPague en {{payment.link}} o llame al {{company.phone}} ({{company.hours}}).\n\nAtentamente,\n{{company.name}}" },
    },
    template {
        id = "settlement_offer", channel = "letter", placeholders = P,
        disclosures = { "mini_miranda" },
        en = { text = "{{today|date}}\n\nDear {{consumer.first_name}} {{consumer.last_name}},\n\nRe: {{debt.creditor}} account {{debt.id}}\n\nWe can accept {{offer.amount|money}} to settle your balance of {{debt.balance|money}} if we receive it by {{offer.due|date}}.\n\nAccept at {{payment.link}} or call {{company.phone}} ({{company.hours}}).\n\nSincerely,\n{{company.name}}" },
        es = { text = "{{today|date}}\n\nEstimado/a {{consumer.first_name}} {{consumer.last_name}}:\n\nRef.: cuenta de {{debt.creditor}} {{debt.id}}\n\nPodemos aceptar {{offer.amount|money}} para liquidar su saldo de {{debt.balance|money}} si lo recibimos antes del {{offer.due|date}}.\n\nAcepte en {{payment.link}} o llame al {{company.phone}} ({{company.hours}}).\n\nAtentamente,\n{{company.name}}" },
    },
    template {
        id = "plan_offer", channel = "letter", placeholders = P,
        disclosures = { "mini_miranda" },
        en = { text = "{{today|date}}\n\nDear {{consumer.first_name}} {{consumer.last_name}},\n\nRe: {{debt.creditor}} account {{debt.id}}\n\nWe can spread your balance of {{debt.balance|money}} over {{plan.count}} payments of {{plan.amount|money}}, the first due {{plan.first_due|date}}.\n\nAccept at {{payment.link}} or call {{company.phone}} ({{company.hours}}).\n\nSincerely,\n{{company.name}}" },
        es = { text = "{{today|date}}\n\nEstimado/a {{consumer.first_name}} {{consumer.last_name}}:\n\nRef.: cuenta de {{debt.creditor}} {{debt.id}}\n\nPodemos dividir su saldo de {{debt.balance|money}} en {{plan.count}} pagos de {{plan.amount|money}}, el primero el {{plan.first_due|date}}.\n\nAcepte en {{payment.link}} o llame al {{company.phone}} ({{company.hours}}).\n\nAtentamente,\n{{company.name}}" },
    },
}
