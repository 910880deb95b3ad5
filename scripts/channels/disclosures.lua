-- scripts/channels/disclosures.lua: the disclosure texts the template language
-- (lib/template.lua) adds to a message: the template's own `disclosures` list plus
-- whatever the compliance gate's `requires` names at send time.
--
-- Each entry: { en =, es = } or { by_channel = { sms = {en, es}, ..., default = ... } }
-- or { by_state = { CA = {...}, ... }, default = {...} }; an entry with
-- `unavailable = "why"` makes every render that needs it fail (the gate keeps
-- blocking: no message goes out without a required disclosure).
-- Texts may use the engine's placeholders (company.name, company.phone).
--
-- STATUS: texts marked GENERIC are not statutory wording: COUNSEL MUST CONFIRM them
-- (and the Spanish translations of every text) before use.

local M = {}

M.texts = {
    -- FDCPA 15 U.S.C. 1692e(11); 12 CFR 1006.18(e). The statute's words: the
    -- initial communication discloses that "the debt collector is attempting to
    -- collect a debt and that any information obtained will be used for that
    -- purpose"; later communications that they are "from a debt collector".
    -- One text covers both (it is true in every communication).
    -- Short messages (sms, whatsapp, push) are never the initial communication in
    -- these journeys (a letter or email goes first), so they carry the later-
    -- communication form; COUNSEL MUST CONFIRM that reading.
    mini_miranda = {
        by_channel = {
            default = {
                en = "This communication is from a debt collector. This is an attempt to collect a debt and any information obtained will be used for that purpose.",
                es = "Esta comunicación proviene de un cobrador de deudas. Es un intento de cobrar una deuda y cualquier información obtenida se utilizará con ese fin.",
            },
            sms = { en = "This is from a debt collector.", es = "Esto es de un cobrador de deudas." },
            whatsapp = { en = "This is from a debt collector.", es = "Esto es de un cobrador de deudas." },
            push = { en = "From a debt collector.", es = "De un cobrador de deudas." },
        },
    },
    -- 12 CFR 1006.6(e): a clear and conspicuous statement of a reasonable and simple
    -- method to opt out of further electronic communications to that address or
    -- number, with no fee and no information beyond the preference and the address
    -- or number. (The rule prescribes no wording: the wording is ours; COUNSEL MUST CONFIRM.)
    optout_notice = {
        by_channel = {
            sms = { en = "Reply STOP to opt out of texts.",
                    es = "Responda STOP para dejar de recibir textos." },
            whatsapp = { en = "Reply STOP to opt out of these messages.",
                         es = "Responda STOP para no recibir más mensajes." },
            push = { en = "To stop these notifications, turn them off in the app settings.",
                     es = "Para no recibir estas notificaciones, desactívelas en la configuración de la aplicación." },
            email = { en = "To stop emails from us to this address, reply with the word STOP. It is free and we need nothing else from you.",
                      es = "Para dejar de recibir nuestros correos en esta dirección, responda con la palabra STOP. Es gratis y no necesitamos nada más de usted." },
            default = { en = "Reply STOP to opt out of electronic messages.",
                        es = "Responda STOP para no recibir más mensajes electrónicos." },
        },
    },
    -- GENERIC (12 CFR 1006.34 gives the notice's content, not a reference sentence):
    -- COUNSEL MUST CONFIRM.
    validation_notice_reference = {
        en = "We have sent you a notice that explains how to dispute this debt and request the name and address of the original creditor. Call {{company.phone}} if you did not receive it.",
        es = "Le enviamos un aviso que explica cómo disputar esta deuda y solicitar el nombre y la dirección del acreedor original. Llame al {{company.phone}} si no lo recibió.",
    },
    -- The gate's `requires = { "time_barred_notice" }` (regulations/time_barred.lua),
    -- by the consumer's state.
    time_barred_notice = {
        by_state = {
            -- Cal. Civ. Code 1788.14(d)(1) (regulations.md CA-TBD, status V): the notice
            -- for a debt still within the FCRA reporting period. A debt past that period
            -- needs (d)(2) ("...and we will not report it to any credit reporting agency"):
            -- the engine does not say which applies, so (d)(1) is used; COUNSEL MUST
            -- CONFIRM the choice and the Spanish translation.
            CA = {
                en = "The law limits how long you can be sued on a debt. Because of the age of your debt, we will not sue you for it. If you do not pay the debt, {{company.name}} may continue to report it to the credit reporting agencies as unpaid for as long as the law permits this reporting.",
                es = "La ley limita el tiempo durante el cual se le puede demandar por una deuda. Debido a la antigüedad de su deuda, no le demandaremos por ella. Si no paga la deuda, {{company.name}} puede seguir informándola como impaga a las agencias de informes de crédito durante el tiempo que la ley lo permita.",
            },
            -- GENERIC: 23 NYCRR 1.3(b) lists what the notice says; the 1.3(c) safe-harbor
            -- wording is not in our reference, and CPLR 214-i (no revival) changes point (5).
            -- COUNSEL MUST CONFIRM.
            NY = {
                en = "We believe the statute of limitations on this debt has expired. Suing to collect a debt whose limitations period has expired violates the Fair Debt Collection Practices Act; if you are sued, you may stop the suit by responding that the time to sue has expired. You are not required to admit the debt, promise to pay or pay it. Under New York law a payment or acknowledgment does not restart the time to sue.",
                es = "Creemos que el plazo de prescripción de esta deuda ha vencido. Demandar para cobrar una deuda prescrita viola la Ley de Prácticas Justas en el Cobro de Deudas; si le demandan, puede detener la demanda respondiendo que el plazo para demandar ha vencido. No está obligado a reconocer la deuda, prometer pagarla ni pagarla. Según la ley de Nueva York, un pago o reconocimiento no reinicia el plazo para demandar.",
            },
        },
        -- GENERIC for the other states (CO, CT, MA, NC, NM, TX, WA, WV, ...): the
        -- statutory wording of each is unverified (regulations.md 2.5, 2.6, open item 4).
        -- COUNSEL MUST CONFIRM per state.
        default = {
            en = "The law limits how long you can be sued on a debt. Because of the age of your debt, we will not sue you for it. You are not required to pay, and in some states a payment or promise to pay may restart the time to sue.",
            es = "La ley limita el tiempo durante el cual se le puede demandar por una deuda. Debido a la antigüedad de su deuda, no le demandaremos por ella. No está obligado a pagar, y en algunos estados un pago o una promesa de pago puede reiniciar el plazo para demandar.",
        },
    },
    -- GENERIC (regulations/states/co.lua, C.R.S. 5-16-105, status S: the statement and
    -- the Attorney General's web address). COUNSEL MUST CONFIRM wording and address.
    colorado_fdcpa_notice = {
        en = "For information about the Colorado Fair Debt Collection Practices Act, see www.coloradoattorneygeneral.gov/ccc.",
        es = "Para obtener información sobre la Ley de Prácticas Justas en el Cobro de Deudas de Colorado, visite www.coloradoattorneygeneral.gov/ccc.",
    },
    -- GENERIC (regulations/states/nc.lua, N.C. Gen. Stat. 75-54(2)). COUNSEL MUST CONFIRM.
    debt_collection_disclosure = {
        en = "This is an attempt to collect a debt.",
        es = "Este es un intento de cobrar una deuda.",
    },
    -- GENERIC (regulations/states/ct.lua, 36a-647-5(6): a creditor's call discloses the
    -- caller's identity). COUNSEL MUST CONFIRM.
    caller_identity_disclosure = {
        en = "This call is from {{company.name}}.",
        es = "Esta llamada es de {{company.name}}.",
    },
    -- Cal. Civ. Code 1788.11(f) (and Cal. Fin. Code 100000 et seq.): the
    -- collector's California Debt Collection License number in written
    -- communications. The number is company.ca_license (channels/company.lua).
    -- GENERIC wording: COUNSEL MUST CONFIRM.
    ca_license_number = {
        en = "California Debt Collection License No. {{company.ca_license}}.",
        es = "Licencia de Cobranza de Deudas de California n.º {{company.ca_license}}.",
    },
    -- Cal. Civ. Code 1788.52(a): a certification that the debt buyer holds the
    -- listed records, not a text: the engine must set the message field itself.
    debt_buyer_records = {
        unavailable = "a certification that the debt buyer holds the 1788.52(a) records, not a text a template can add",
    },
}

return M
