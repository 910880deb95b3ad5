-- Specs for lib/template.lua: both sides of every load check, rendering with
-- disclosures per channel, HTML escaping.
local template = require("lib.template")

local function sms(over)
    local def = { id = "t_sms", channel = "sms",
                  placeholders = { ["consumer.first_name"] = "text", ["debt.balance"] = "money" },
                  en = { text = "Hi {{consumer.first_name}}, you owe {{debt.balance|money}}." },
                  es = { text = "Hola {{consumer.first_name}}, debe {{debt.balance|money}}." } }
    for k, v in pairs(over or {}) do def[k] = v end
    return def
end

local function email(over)
    local def = { id = "t_mail", channel = "email", placeholders = { ["consumer.first_name"] = "text" },
                  disclosures = { "mini_miranda", "optout_notice" },
                  en = { subject = "Hello", text = "Hi {{consumer.first_name}}",
                         html = "<html><body><p>Hi {{consumer.first_name}}</p></body></html>" },
                  es = { subject = "Hola", text = "Hola {{consumer.first_name}}",
                         html = "<p>Hola {{consumer.first_name}}</p>" } }
    for k, v in pairs(over or {}) do def[k] = v end
    return def
end

-- Whether some problem contains `needle` (plain text).
local function has(problems, needle)
    for _, p in ipairs(problems) do
        if p:find(needle, 1, true) then return true end
    end
    return false
end

local VALUES = { consumer = { first_name = "Ana" }, debt = { balance = 123456, currency = "USD" },
                 company = { name = "Acme Recovery", phone = "1-800-555-0100" } }

describe("load checks", function()
    it("a valid template has no problems and builds", function()
        assert_eq(template.problems(sms()), {})
        local T = template(sms())
        assert_eq(T:check(), {})
        assert_eq(T.max_segments, 2, "sms default max_segments")
    end)
    it("template{} raises naming the template id and the field", function()
        local ok, err = pcall(template, sms({ es = false }))
        assert_true(not ok)
        assert_true(tostring(err):find("template t_sms: es: missing", 1, true), tostring(err))
    end)
    it("unknown channel vs known", function()
        assert_true(has(template.problems(sms({ channel = "fax" })), "channel: unknown channel 'fax'"))
        assert_eq(template.problems(sms({ channel = "push" })), {})
    end)
    it("unknown field vs known", function()
        assert_true(has(template.problems(sms({ colour = "red" })), "unknown field 'colour'"))
        assert_true(has(template.problems(sms({ en = { text = "x", subject = "y" } })), "en.subject: unknown field 'subject' for sms"))
        assert_true(has(template.problems(sms({ en = { txt = "x" } })), "en.txt: unknown field 'txt' (did you mean 'text'?) for sms"))
        assert_true(has(template.problems(sms({ chanel = "sms" })), "unknown field 'chanel' (did you mean 'channel'?)"))
    end)
    it("en and es are both required", function()
        local e = sms(); e.es = nil
        assert_true(has(template.problems(e), "es: missing"))
        local d = sms(); d.en = nil
        assert_true(has(template.problems(d), "en: missing"))
    end)
    it("an undeclared placeholder vs a declared one", function()
        local d = sms({ placeholders = { ["debt.balance"] = "money" } })
        assert_true(has(template.problems(d), "'consumer.first_name' is not declared in placeholders"))
        assert_eq(template.problems(sms()), {})
    end)
    it("a name outside the engine vocabulary, used or declared", function()
        local d = sms({ en = { text = "Hi {{consumer.nickname}}" } })
        assert_true(has(template.problems(d), "'consumer.nickname' is not a value the engine provides"))
        local d2 = sms({ placeholders = { ["consumer.ssn"] = "text" } })
        assert_true(has(template.problems(d2), "placeholders.consumer.ssn: not a value the engine provides"))
    end)
    it("a declared type that is not the engine's", function()
        local d = sms({ placeholders = { ["consumer.first_name"] = "text", ["debt.balance"] = "integer" } })
        assert_true(has(template.problems(d), "placeholders.debt.balance: declared integer, but the engine provides a money"))
    end)
    it("money needs |money; a date needs |date; text takes no money filter", function()
        local d = sms({ en = { text = "You owe {{debt.balance}}" } })
        assert_true(has(template.problems(d), "'debt.balance' is a money placeholder: use |money"))
        local d2 = sms({ placeholders = { ["offer.due"] = "date" },
                         en = { text = "Due {{offer.due}}" }, es = { text = "Vence {{offer.due|date}}" } })
        assert_true(has(template.problems(d2), "en.text:1:5: 'offer.due' is a date placeholder: use |date"))
        assert_true(not has(template.problems(d2), "es.text"), "es uses |date")
        local d3 = sms({ en = { text = "{{consumer.first_name|money}}" } })
        assert_true(has(template.problems(d3), "'consumer.first_name' is a text placeholder: use no filter"))
        local d4 = sms({ en = { text = "{{consumer.first_name|upper}} {{debt.balance|money}}" } })
        assert_eq(template.problems(d4), {})
    end)
    it("email needs subject, text and html", function()
        assert_eq(template.problems(email()), {})
        local d = email(); d.en = { subject = "s", text = "t" }
        assert_true(has(template.problems(d), "en.html: missing"))
        local d2 = email(); d2.es = { text = "t", html = "h" }
        assert_true(has(template.problems(d2), "es.subject: missing"))
    end)
    it("an unknown disclosure vs a known one", function()
        assert_true(has(template.problems(sms({ disclosures = { "miranda" } })), "unknown disclosure 'miranda'"))
        assert_eq(template.problems(sms({ disclosures = { "mini_miranda" } })), {})
    end)
    it("max_segments only for sms and whatsapp", function()
        assert_true(has(template.problems(email({ max_segments = 2 })), "max_segments: only for sms and whatsapp"))
    end)
end)

describe("SMS length with sample values", function()
    -- sample first name "Maximiliano" is 11 characters: 11 + 149 = 160, one GSM-7 segment
    local function one_seg(pad)
        return sms({ max_segments = 1, placeholders = { ["consumer.first_name"] = "text" },
                     en = { text = "{{consumer.first_name}}" .. string.rep("a", pad) },
                     es = { text = "{{consumer.first_name}}" } })
    end
    it("exactly at the limit (160 characters, 1 segment) passes", function()
        assert_eq(template.problems(one_seg(149)), {})
    end)
    it("one character over (161) fails", function()
        assert_true(has(template.problems(one_seg(150)), "en.text: 2 SMS segments with sample values (161 gsm7 characters), more than max_segments 1"))
    end)
    it("the default of 2 segments: 306 characters pass, 307 fail", function()
        local function two(n)
            return sms({ placeholders = {}, en = { text = string.rep("b", n) }, es = { text = "x" } })
        end
        assert_eq(template.problems(two(306)), {})
        assert_true(has(template.problems(two(307)), "3 SMS segments"))
    end)
    it("the template's own disclosures count toward the length", function()
        local d = sms({ max_segments = 1, placeholders = {}, disclosures = { "optout_notice" },
                        en = { text = string.rep("c", 140) }, es = { text = "x" } })
        assert_true(has(template.problems(d), "en.text: 2 SMS segments"))
        d.disclosures = nil
        assert_eq(template.problems(d), {})
    end)
    it("a character outside GSM-7 makes it UCS-2 (70 per segment)", function()
        local d = sms({ max_segments = 1, placeholders = {},
                        en = { text = string.rep("d", 69) .. "á" }, es = { text = string.rep("d", 70) .. "á" } })
        local p = template.problems(d)
        assert_true(has(p, "es.text: 2 SMS segments"), show(p))
        assert_true(not has(p, "en.text"), show(p))
    end)
end)

describe("render", function()
    it("sms: disclosures appended, fields reported", function()
        local T = template(sms({ disclosures = { "optout_notice" } }))
        local r = T:render("en", VALUES, { requires = { "mini_miranda", "optout_notice" } })
        assert_eq(r.text, "Hi Ana, you owe 1,234.56 USD. Reply STOP to opt out of texts. This is from a debt collector.")
        assert_eq(r.fields, { optout_notice = true, mini_miranda = true })
        assert_eq(r.segments, 1)
    end)
    it("es uses the Spanish texts and dates", function()
        local T = template(sms({ placeholders = { ["offer.due"] = "date" },
                                 en = { text = "Due {{offer.due|date}}" }, es = { text = "Vence el {{offer.due|date}}" },
                                 disclosures = { "optout_notice" } }))
        local r = T:render("es", { offer = { due = "2026-11-26" } })
        assert_eq(r.text, "Vence el 26 de noviembre de 2026 Responda STOP para dejar de recibir textos.")
    end)
    it("email: html escapes a consumer name, text does not", function()
        local T = template(email())
        local r = T:render("en", { consumer = { first_name = "<b>&" } })
        assert_eq(r.subject, "Hello")
        assert_true(r.html:find("<p>Hi &lt;b&gt;&amp;</p>", 1, true), r.html)
        assert_true(r.text:find("Hi <b>&", 1, true), r.text)
    end)
    it("email: disclosures as footers in text and html, before </body>, html-escaped", function()
        local T = template(email())
        local r = T:render("en", { consumer = { first_name = "Ana" }, company = { name = "A<&>B" } },
                           { requires = { "caller_identity_disclosure" } })
        assert_true(r.text:find("Hi Ana\n\nThis communication is from a debt collector.", 1, true), r.text)
        assert_true(r.text:find("This call is from A<&>B.", 1, true), r.text)
        assert_true(r.html:find("<p>This call is from A&lt;&amp;&gt;B.</p></div></body></html>", 1, true), r.html)
        assert_true(r.html:find("reply with the word STOP", 1, true), r.html)
        local r2 = template(email()):render("es", { consumer = { first_name = "Ana" } })
        assert_true(r2.html:find("</p><div class=\"disclosures\"><p>Esta comunicación", 1, true), r2.html)
    end)
    it("letter: disclosures as paragraphs after the body", function()
        local T = template { id = "l", channel = "letter", placeholders = {}, disclosures = { "mini_miranda" },
                             en = { text = "Dear reader," }, es = { text = "Estimado lector:" } }
        assert_eq(T:render("en", {}).text, "Dear reader,\n\nThis communication is from a debt collector. This is an attempt to collect a debt and any information obtained will be used for that purpose.")
    end)
    it("voice: disclosures said first", function()
        local T = template { id = "v", channel = "voice", placeholders = {}, disclosures = { "mini_miranda" },
                             en = { text = "Can we help?" }, es = { text = "¿Podemos ayudar?" } }
        local r = T:render("en", {})
        assert_true(r.text:find("^This communication is from a debt collector") ~= nil, r.text)
        assert_true(r.text:find("Can we help%?$") ~= nil, r.text)
    end)
    it("the time-barred notice follows the consumer's state", function()
        local T = template { id = "l2", channel = "letter", placeholders = {},
                             en = { text = "Body" }, es = { text = "Cuerpo" } }
        local ca = T:render("en", { company = { name = "Acme" } }, { requires = { "time_barred_notice" }, state = "CA" })
        assert_true(ca.text:find("Acme may continue to report it", 1, true), ca.text)
        local tx = T:render("en", { company = { name = "Acme" } }, { requires = { "time_barred_notice" }, state = "TX" })
        assert_true(tx.text:find("we will not sue you for it. You are not required to pay", 1, true), tx.text)
        assert_true(tx.fields.time_barred_notice)
    end)
    it("a required disclosure with no approved text fails the render", function()
        local T = template(sms())
        local ok, err = pcall(T.render, T, "en", VALUES, { requires = { "debt_buyer_records" } })
        assert_true(not ok)
        assert_true(err:find("debt_buyer_records", 1, true), err)
    end)
    it("a disclosure whose value is missing fails the render", function()
        local T = template(sms())
        local ok, err = pcall(T.render, T, "en", VALUES, { requires = { "ca_license_number" } })
        assert_true(not ok)
        assert_true(err:find("company.ca_license", 1, true), err)
    end)
    it("a language other than en/es is refused", function()
        local ok = pcall(template(sms()).render, template(sms()), "fr", VALUES)
        assert_true(not ok)
    end)
end)
