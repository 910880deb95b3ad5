-- Specs for scripts/channels: every template (sms, email, letter, voice, push,
-- whatsapp) passes its checks and renders in en and es, with the disclosures
-- the gate asks for; every disclosure the regulations can require has a text
-- (or fails closed on purpose).
local catalog = require("channels.catalog")
local disclosures = require("channels.disclosures")
local template = require("lib.template")

local CHANNELS = { "sms", "email", "letter", "voice", "push", "whatsapp" }

local function each(fn)
    for _, ch in ipairs(CHANNELS) do
        local ids = {}
        for id in pairs(catalog.templates[ch] or {}) do ids[#ids + 1] = id end
        table.sort(ids)
        for _, id in ipairs(ids) do fn(catalog.templates[ch][id], ch, id) end
    end
end

describe("the catalog", function()
    it("has at least one template on every channel", function()
        for _, ch in ipairs(CHANNELS) do
            assert_true(catalog.templates[ch] and next(catalog.templates[ch]) ~= nil, "no " .. ch .. " template")
        end
    end)
    it("finds call sends among the voice scripts, and nothing that is not there", function()
        assert_true(catalog.find("call", "early_call") ~= nil)
        assert_true(catalog.find("voice", "early_call") ~= nil)
        assert_eq(catalog.find("sms", "early_call"), nil)
        assert_eq(catalog.find("fax", "x"), nil)
    end)
    it("every template passes check()", function()
        assert_eq(catalog.check(), {})
    end)
end)

describe("every template renders", function()
    local values = template.sample_values()
    it("in en and es, with the electronic opt-out notice where the gate requires it", function()
        each(function(T, ch, id)
            for _, lang in ipairs({ "en", "es" }) do
                local req = {}
                if ch == "sms" or ch == "email" or ch == "push" or ch == "whatsapp" then req = { "optout_notice" } end
                local r = T:render(lang, values, { requires = req })
                local what = ch .. "/" .. id .. "/" .. lang
                assert_true(type(r.text) == "string" and #r.text > 0, what)
                assert_true(r.fields.mini_miranda, what .. ": mini-Miranda")
                if #req > 0 then assert_true(r.fields.optout_notice, what .. ": opt-out") end
                if ch == "email" then
                    assert_true(r.subject ~= "" and r.html:find("</body></html>$") ~= nil, what)
                    assert_true(r.html:find("STOP", 1, true) ~= nil, what .. ": opt-out in html")
                end
                if ch == "sms" or ch == "whatsapp" then
                    assert_true(r.segments <= T.max_segments, what .. ": " .. r.segments .. " segments")
                end
            end
        end)
    end)
    it("an SMS with the gate's time-barred notice is still checked (it grows past 2 segments)", function()
        local T = catalog.find("sms", "early_reminder")
        local r = T:render("en", values, { requires = { "optout_notice", "time_barred_notice" }, state = "NY" })
        assert_true(r.segments > 2, "the engine must measure again after adding required disclosures")
        assert_true(r.over_limit)
        assert_eq(T:render("en", values, { requires = { "optout_notice" } }).over_limit, nil)
    end)
end)

describe("disclosures", function()
    it("have en and es texts for every channel and state variant", function()
        for name, d in pairs(disclosures.texts) do
            if not d.unavailable then
                for _, ch in ipairs(CHANNELS) do
                    for _, st in ipairs({ "CA", "NY", "TX", "MA" }) do
                        for _, lang in ipairs({ "en", "es" }) do
                            local t, err = template.disclosure_text(name, lang, ch, st)
                            assert_true(t ~= nil, tostring(err))
                        end
                    end
                end
            end
        end
    end)
    it("cover every `requires` name in the regulations", function()
        for _, n in ipairs({ "optout_notice", "time_barred_notice", "colorado_fdcpa_notice",
                             "debt_buyer_records", "ca_license_number", "caller_identity_disclosure",
                             "debt_collection_disclosure" }) do
            assert_true(disclosures.texts[n] ~= nil, n)
        end
    end)
    it("the SMS opt-out is a reply-STOP line; email's is a simple reply", function()
        assert_eq(template.disclosure_text("optout_notice", "en", "sms"), "Reply STOP to opt out of texts.")
        assert_true(template.disclosure_text("optout_notice", "en", "email"):find("reply with the word STOP", 1, true))
    end)
    it("CA's time-barred notice is the 1788.14(d)(1) text; other states get the generic one", function()
        assert_true(template.disclosure_text("time_barred_notice", "en", "letter", "CA"):find("^The law limits how long you can be sued on a debt%."))
        assert_true(template.disclosure_text("time_barred_notice", "en", "letter", "WV"):find("You are not required to pay", 1, true))
    end)
end)

describe("with the gate", function()
    local NY = { channel = "email", now = "2026-11-23T15:00:00Z", collector = "third_party",
                 consumer = { state = "NY", timezones = { "America/New_York" } },
                 debt = { id = "D1", time_barred = true } }
    it("renders what a NY time-barred email requires", function()
        local d = decide(NY)
        assert_requires(d, "optout_notice")
        assert_requires(d, "time_barred_notice")
        local r = catalog.find("email", "early_reminder"):render("en", template.sample_values(),
                                                              { requires = d.requires, state = "NY" })
        for _, f in ipairs(d.requires) do assert_true(r.fields[f], f) end
        assert_true(r.text:find("statute of limitations on this debt has expired", 1, true))
    end)
    it("a debt that is not time-barred gets no time-barred notice", function()
        local d = decide(merge(NY, { debt = { id = "D1", time_barred = false } }))
        assert_not_requires(d, "time_barred_notice")
        local r = catalog.find("email", "early_reminder"):render("en", template.sample_values(),
                                                              { requires = d.requires, state = "NY" })
        assert_eq(r.fields.time_barred_notice, nil)
    end)
    it("a CA letter carries the license number", function()
        local d = decide(merge(NY, { channel = "letter", consumer = { state = "CA", timezones = { "America/Los_Angeles" } } }))
        assert_requires(d, "ca_license_number")
        local r = catalog.find("letter", "mid_letter"):render("en", template.sample_values(), { requires = d.requires, state = "CA" })
        assert_true(r.fields.ca_license_number, "field")
        assert_true(r.text:find("California Debt Collection License No. 10000-00", 1, true), r.text)
    end)
end)
