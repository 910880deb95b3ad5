-- scripts/channels/email.lua: email templates. Each has a subject, a plain text
-- part and an HTML part; the engine's disclosures (mini-Miranda, the 1006.6(e)
-- opt-out notice, ...) are added as footers to both parts by lib/template.lua.
local template = require("lib.template")

local P = {
    ["consumer.first_name"] = "text", ["debt.balance"] = "money", ["debt.creditor"] = "text",
    ["company.name"] = "text", ["company.phone"] = "text", ["company.hours"] = "text",
    ["payment.link"] = "text", ["offer.amount"] = "money", ["offer.due"] = "date",
    ["plan.first_due"] = "date", ["plan.count"] = "integer", ["plan.amount"] = "money",
}

-- One email from paragraphs: the text part joins them, the HTML part wraps each
-- in <p> (the paragraphs are our text: no markup in them).
local function email(id, subject, paras)
    local def = { id = id, channel = "email", placeholders = P,
                  disclosures = { "mini_miranda", "optout_notice" } }
    for _, lang in ipairs({ "en", "es" }) do
        local html = {}
        for i, p in ipairs(paras[lang]) do html[i] = "<p>" .. p .. "</p>" end
        def[lang] = { subject = subject[lang], text = table.concat(paras[lang], "\n\n"),
                      html = "<html><body>" .. table.concat(html) .. "</body></html>" }
    end
    return template(def)
end

return {
    email("pre_due_reminder",
        { en = "Your {{debt.creditor}} payment is due soon", es = "Su pago de {{debt.creditor}} vence pronto" },
        { en = { "Hello {{consumer.first_name}},",
                 "This is a friendly reminder from {{company.name}} that a payment on your {{debt.creditor}} account is due soon. Your balance is {{debt.balance|money}}.",
                 "You can pay at {{payment.link}} or call us at {{company.phone}} ({{company.hours}})." },
          es = { "Hola {{consumer.first_name}}:",
                 "{{company.name}} le recuerda que pronto vence un pago de su cuenta de {{debt.creditor}}. Su saldo es de {{debt.balance|money}}.",
                 "Puede pagar en {{payment.link}} o llamarnos al {{company.phone}} ({{company.hours}})." } }),
    email("early_reminder",
        { en = "Your {{debt.creditor}} account is past due", es = "Su cuenta de {{debt.creditor}} está vencida" },
        { en = { "Hello {{consumer.first_name}},",
                 "Your {{debt.creditor}} account has a past-due balance of {{debt.balance|money}}.",
                 "Pay now at {{payment.link}}, or call {{company.phone}} ({{company.hours}}) if you need help." },
          es = { "Hola {{consumer.first_name}}:",
                 "Su cuenta de {{debt.creditor}} tiene un saldo vencido de {{debt.balance|money}}.",
                 "Pague ahora en {{payment.link}} o llame al {{company.phone}} ({{company.hours}}) si necesita ayuda." } }),
    email("mid_reminder",
        { en = "We can help with your {{debt.creditor}} balance", es = "Podemos ayudarle con su saldo de {{debt.creditor}}" },
        { en = { "Hello {{consumer.first_name}},",
                 "Your {{debt.creditor}} balance of {{debt.balance|money}} is still unpaid. If paying it all at once is hard, we can set up a payment plan.",
                 "Visit {{payment.link}} or call {{company.phone}} ({{company.hours}})." },
          es = { "Hola {{consumer.first_name}}:",
                 "Su saldo de {{debt.creditor}} de {{debt.balance|money}} sigue sin pagar. Si le resulta difícil pagarlo de una vez, podemos acordar un plan de pagos.",
                 "Visite {{payment.link}} o llame al {{company.phone}} ({{company.hours}})." } }),
    email("settlement_offer",
        { en = "An offer to settle your {{debt.creditor}} account", es = "Una oferta para liquidar su cuenta de {{debt.creditor}}" },
        { en = { "Hello {{consumer.first_name}},",
                 "We can accept {{offer.amount|money}} to settle your {{debt.creditor}} balance of {{debt.balance|money}} if we receive it by {{offer.due|date}}.",
                 "Accept the offer at {{payment.link}} or call {{company.phone}} ({{company.hours}})." },
          es = { "Hola {{consumer.first_name}}:",
                 "Podemos aceptar {{offer.amount|money}} para liquidar su saldo de {{debt.creditor}} de {{debt.balance|money}} si lo recibimos antes del {{offer.due|date}}.",
                 "Acepte la oferta en {{payment.link}} o llame al {{company.phone}} ({{company.hours}})." } }),
    email("plan_offer",
        { en = "A payment plan for your {{debt.creditor}} account", es = "Un plan de pagos para su cuenta de {{debt.creditor}}" },
        { en = { "Hello {{consumer.first_name}},",
                 "We are sorry to hear things are hard right now. We can spread your balance of {{debt.balance|money}} over {{plan.count}} payments of {{plan.amount|money}}, the first on {{plan.first_due|date}}.",
                 "Accept the plan at {{payment.link}} or call {{company.phone}} ({{company.hours}})." },
          es = { "Hola {{consumer.first_name}}:",
                 "Lamentamos que esté pasando por un momento difícil. Podemos dividir su saldo de {{debt.balance|money}} en {{plan.count}} pagos de {{plan.amount|money}}, el primero el {{plan.first_due|date}}.",
                 "Acepte el plan en {{payment.link}} o llame al {{company.phone}} ({{company.hours}})." } }),
    email("broken_promise",
        { en = "We did not receive your payment", es = "No recibimos su pago" },
        { en = { "Hello {{consumer.first_name}},",
                 "We did not receive the payment of {{offer.amount|money}} you planned for {{offer.due|date}}. If something changed, we can find another date.",
                 "Pay at {{payment.link}} or call {{company.phone}} ({{company.hours}})." },
          es = { "Hola {{consumer.first_name}}:",
                 "No recibimos el pago de {{offer.amount|money}} que tenía previsto para el {{offer.due|date}}. Si algo cambió, podemos buscar otra fecha.",
                 "Pague en {{payment.link}} o llame al {{company.phone}} ({{company.hours}})." } }),
}
