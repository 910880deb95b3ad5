-- scripts/lib/template.lua: the channel template language.
--
-- A channel script returns templates built with `template { ... }`:
--
--   template {
--     id = "early_reminder_sms", channel = "sms", max_segments = 2,
--     placeholders = { ["consumer.first_name"] = "text", ["debt.balance"] = "money" },
--     disclosures = { "mini_miranda", "optout_notice" },
--     en = { text = "Hi {{consumer.first_name}}, ... {{debt.balance|money}} ..." },
--     es = { text = "..." },
--   }
--
-- The definition is checked when the script loads (an error names the template id
-- and the field); T:check() lists the same problems without raising (for lint and
-- specs); T:render(lang, values, opts) renders one language with the required
-- disclosures put where the channel wants them.
--
-- Placeholders: only the names the engine fills (VOCAB below), each declared in
-- `placeholders` with its type; the filter must fit the type (money -> |money,
-- date -> |date, time -> |time; text may use |upper or |lower; integer no filter).
-- Written for Lua 5.4 and LuaJIT alike.

-- For the editor (types/tm.lua): template { ... } takes a tm.TemplateDef.
---@class tm.template_module
---@overload fun(def: tm.TemplateDef): table
local M = {}
local fmt = string.format

-- What the engine puts in `values` when it renders a template, and the type of each.
local VOCAB = {
    ["consumer.first_name"] = "text", ["consumer.last_name"] = "text",
    ["consumer.language"] = "text",
    ["debt.id"] = "text", ["debt.creditor"] = "text", ["debt.balance"] = "money",
    ["debt.currency"] = "text", ["debt.days_past_due"] = "integer",
    ["company.name"] = "text", ["company.phone"] = "text", ["company.hours"] = "text",
    ["company.ca_license"] = "text",
    ["payment.link"] = "text",
    ["offer.amount"] = "money", ["offer.due"] = "date",
    ["plan.first_due"] = "date", ["plan.count"] = "integer", ["plan.amount"] = "money",
    ["today"] = "date",
}
M.vocabulary = VOCAB

local TYPES = { money = true, date = true, text = true, time = true, integer = true }
-- Filters each type may use; `false` is "no filter".
local FILTERS = {
    money = { money = true }, date = { date = true }, time = { time = true },
    text = { [false] = true, upper = true, lower = true }, integer = { [false] = true },
}

-- Long-ish realistic values, for measuring SMS length at load.
local SAMPLE = {
    ["consumer.first_name"] = "Maximiliano", ["consumer.last_name"] = "Villanueva-Rodriguez",
    ["consumer.language"] = "en", ["debt.id"] = "D000001234567",
    ["debt.creditor"] = "First National Bank of Example", ["debt.balance"] = 12345678,
    ["debt.currency"] = "USD", ["debt.days_past_due"] = 180,
    ["company.name"] = "Northeast Recovery Services LLC", ["company.phone"] = "1-800-555-0199",
    ["company.hours"] = "Mon-Fri 8am-8pm ET", ["company.ca_license"] = "10000-00", ["payment.link"] = "https://pay.example.com/p/AB12CD34EF",
    ["offer.amount"] = 7407407, ["offer.due"] = "2026-09-30", ["plan.first_due"] = "2026-09-30",
    ["plan.count"] = 12, ["plan.amount"] = 1028807, ["today"] = "2026-09-30",
}
M.sample_values = function()
    local v = {}
    for name, val in pairs(SAMPLE) do
        local t, last = v, nil
        local parts = {}
        for p in name:gmatch("[^.]+") do parts[#parts + 1] = p end
        for i = 1, #parts - 1 do
            t[parts[i]] = t[parts[i]] or {}
            t = t[parts[i]]
        end
        last = parts[#parts]
        t[last] = val
    end
    return v
end

-- Channel -> the fields each language must have (and may have).
local CHANNELS = {
    sms = { "text" }, push = { "text" }, whatsapp = { "text" }, voice = { "text" },
    letter = { "text" }, email = { "subject", "text", "html" },
}
M.channels = CHANNELS
local LANGS = { "en", "es" }
local FIELDS = { id = true, channel = true, max_segments = true, placeholders = true,
                 disclosures = true, en = true, es = true, description = true, purpose = true,
                 claims = true }

local function sorted_keys(t)
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    return keys
end

local disclosures_mod -- loaded lazily: channels.disclosures
local function disclosures()
    if not disclosures_mod then disclosures_mod = require("channels.disclosures") end
    return disclosures_mod
end
M.set_disclosures = function(d) disclosures_mod = d end

local function html_escape(s)
    return (s:gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
                                 ['"'] = "&quot;", ["'"] = "&#39;" }))
end
M.html_escape = html_escape

-- The text of disclosure `name` in `lang` for `channel` (and the consumer's state,
-- for state-specific texts). Returns text, or nil and a message.
local function disclosure_text(name, lang, channel, state)
    local d = disclosures().texts[name]
    if d == nil then return nil, fmt("unknown disclosure '%s'", tostring(name)) end
    if d.unavailable then return nil, fmt("disclosure '%s': %s", name, d.unavailable) end
    local entry = d
    if d.by_state then entry = (state and d.by_state[state]) or d.default end
    if entry and entry.by_channel then entry = entry.by_channel[channel] or entry.by_channel.default end
    if not entry or type(entry[lang]) ~= "string" then
        return nil, fmt("disclosure '%s' has no %s text for %s%s", name, lang, channel,
                        state and (" in " .. state) or "")
    end
    return entry[lang]
end
M.disclosure_text = disclosure_text

-- "unknown field 'x'", with a "did you mean" when x is a slip for one of `names`.
local function unknown(k, names)
    local near = type(k) == "string" and tm.nearest(k, names) or nil
    if near then return fmt("unknown field '%s' (did you mean '%s'?)", k, near) end
    return fmt("unknown field '%s'", tostring(k))
end

-- Problems of a definition: a list of "template ID: field: message" strings,
-- and for each the path to the field it is about ({ "en", "txt" }; false
-- when it is about the whole definition), so it can be told at its line.
local function problems_of(def)
    local out, paths = {}, {}
    local function add(...) out[#out + 1] = fmt(...); paths[#out] = false end
    local function add_at(path, ...) out[#out + 1] = fmt(...); paths[#out] = path end
    if type(def) ~= "table" then return { "template expects a table" }, { false } end
    local id = type(def.id) == "string" and def.id or "?"
    local w = "template " .. id
    if type(def.id) ~= "string" or not def.id:match("^[a-z][a-z0-9_]*$") then
        add("%s: id must be a lower-case name (letters, digits, _)", w)
    end
    for _, k in ipairs(sorted_keys(def)) do
        if not FIELDS[k] then add_at({ tostring(k) }, "%s: %s", w, unknown(k, sorted_keys(FIELDS))) end
    end
    local fields = CHANNELS[def.channel]
    if not fields then
        add_at({ "channel" }, "%s: channel: unknown channel '%s' (sms, email, letter, voice, push, whatsapp)", w,
            tostring(def.channel))
        return out, paths
    end
    -- claims: what the message says that a rule may forbid (the compliance
    -- gate's message fields, e.g. "threatens_suit"); the cycle tells the
    -- gate, so a letter threatening suit is refused on a time-barred debt.
    if def.claims ~= nil then
        if type(def.claims) ~= "table" or #def.claims > 8 then
            add("%s: claims must be a list of at most 8 message fields", w)
        else
            for i, c in ipairs(def.claims) do
                if type(c) ~= "string" or not c:match("^[a-z][a-z0-9_]*$") or #c > 31 then
                    add("%s: claims[%d] must be a message field name (lower case, at most 31 characters)", w, i)
                end
            end
        end
    end
    local max_seg = def.max_segments
    if def.channel == "sms" or def.channel == "whatsapp" then
        if max_seg == nil and def.channel == "sms" then max_seg = 2 end
        if max_seg ~= nil and (type(max_seg) ~= "number" or max_seg < 1 or max_seg ~= math.floor(max_seg)) then
            add("%s: max_segments must be a whole number from 1", w)
            max_seg = nil
        end
    elseif max_seg ~= nil then
        add("%s: max_segments: only for sms and whatsapp", w)
    end
    local decl = def.placeholders or {}
    if type(decl) ~= "table" then add("%s: placeholders must be { name = type }", w); decl = {} end
    for _, name in ipairs(sorted_keys(decl)) do
        local ty = decl[name]
        if not VOCAB[name] then
            local near = type(name) == "string" and tm.nearest(name, sorted_keys(VOCAB)) or nil
            add_at({ "placeholders", tostring(name) }, "%s: placeholders.%s: not a value the engine provides%s",
                   w, tostring(name), near and fmt(" (did you mean '%s'?)", near) or "")
        elseif not TYPES[ty] then
            add_at({ "placeholders", tostring(name) }, "%s: placeholders.%s: unknown type '%s' (money, date, text, time, integer)", w, name, tostring(ty))
        elseif VOCAB[name] ~= ty then
            add_at({ "placeholders", tostring(name) }, "%s: placeholders.%s: declared %s, but the engine provides a %s", w, name, ty, VOCAB[name])
        end
    end
    local discl = def.disclosures or {}
    if type(discl) ~= "table" then add("%s: disclosures must be a list of names", w); discl = {} end
    for i, name in ipairs(discl) do
        if disclosures().texts[name] == nil then
            add_at({ "disclosures" }, "%s: disclosures[%d]: unknown disclosure '%s'", w, i, tostring(name))
        end
    end
    for _, lang in ipairs(LANGS) do
        local L = def[lang]
        if type(L) ~= "table" then
            add("%s: %s: missing (en and es are both required)", w, lang)
        else
            local allowed = {}
            for _, f in ipairs(fields) do allowed[f] = true end
            for _, k in ipairs(sorted_keys(L)) do
                if not allowed[k] then
                    add_at({ lang, tostring(k) }, "%s: %s.%s: %s for %s", w, lang, tostring(k),
                           unknown(k, fields), def.channel)
                end
            end
            for _, f in ipairs(fields) do
                local text = L[f]
                if type(text) ~= "string" or text == "" then
                    add_at({ lang }, "%s: %s.%s: missing", w, lang, f)
                else
                    local ok, list = pcall(tm.template.placeholders, text)
                    if not ok then
                        add("%s: %s.%s: %s", w, lang, f, tostring(list))
                    else
                        for _, p in ipairs(list) do
                            local where = fmt("%s: %s.%s:%d:%d", w, lang, f, p.line, p.column)
                            local ty = decl[p.name]
                            if not VOCAB[p.name] then
                                add("%s: '%s' is not a value the engine provides", where, p.name)
                            elseif ty == nil then
                                add("%s: '%s' is not declared in placeholders", where, p.name)
                            elseif TYPES[ty] and not FILTERS[ty][p.filter or false] then
                                add("%s: '%s' is a %s placeholder: use %s", where, p.name, ty,
                                    (ty == "money" or ty == "date" or ty == "time") and ("|" .. ty)
                                    or "no filter" .. (ty == "text" and " (or |upper, |lower)" or ""))
                            end
                        end
                    end
                end
            end
        end
    end
    if #out > 0 then return out, paths end
    -- Render every language with sample values: SMS length, and anything the
    -- renderer refuses.
    local T = setmetatable({ def = def, id = def.id, channel = def.channel, max_segments = max_seg }, M.Template)
    for _, lang in ipairs(LANGS) do
        local ok, r = pcall(T.render, T, lang, M.sample_values(), { currency = "USD" })
        if not ok then
            add("%s: %s: does not render with sample values: %s", w, lang, tostring(r))
        elseif max_seg and (def.channel == "sms" or def.channel == "whatsapp") then
            local m = tm.sms.measure(r.text)
            if m.segments > max_seg then
                add("%s: %s.text: %d SMS segments with sample values (%d %s characters), more than max_segments %d",
                    w, lang, m.segments, m.chars, m.encoding, max_seg)
            end
        end
    end
    return out, paths
end
M.problems = problems_of

-- Raises a definition's problems as one list, each told at its own line
-- (the engine finds a field's line from its path; `level` is that of the
-- script that called template, for where the definition is). A spec's pcall
-- sees the messages.
local Problems = { __tostring = function(p)
    local msgs = {}
    for i, e in ipairs(p.tm_problems) do msgs[i] = e.msg end
    return table.concat(msgs, "; ")
end }
local function raise(probs, paths, level)
    local list = {}
    for i, msg in ipairs(probs) do list[i] = { msg = msg, path = paths[i] or nil } end
    local _, where = pcall(error, "", level + 2) -- past pcall and raise
    error(setmetatable({ tm_problems = list, where = where }, Problems), 0)
end

local Template = {}
Template.__index = Template
M.Template = Template

-- template { ... }: checks the definition; a problem is raised at the line of
-- the script that called template.
---@param def tm.TemplateDef
function M.template(def)
    local probs, paths = problems_of(def)
    if #probs > 0 then raise(probs, paths, 2) end
    local ms = def.max_segments
    if ms == nil and def.channel == "sms" then ms = 2 end
    local t = setmetatable({ def = def, id = def.id, channel = def.channel, max_segments = ms,
                             claims = def.claims or {} }, Template)
    return t
end

function Template:check()
    return problems_of(self.def)
end

-- The disclosures a render carries: the template's own, then opts.requires
-- (the gate's `requires`), each once.
local function required(self, opts)
    local list, seen = {}, {}
    local function add(n)
        if not seen[n] then seen[n] = true; list[#list + 1] = n end
    end
    for _, n in ipairs(self.def.disclosures or {}) do add(n) end
    for _, n in ipairs(opts.requires or {}) do add(n) end
    return list
end

-- T:render(lang, values, opts) -> { subject, text, html, fields, segments, over_limit }
-- opts: currency (default values.debt.currency), zone, requires (the gate's
-- list), state (the consumer's state, for state-specific disclosure texts).
-- `fields` is the set of disclosure names the message carries: the message
-- fields to give the gate (message = { optout_notice = true, ... }).
function Template:render(lang, values, opts)
    opts = opts or {}
    if lang ~= "en" and lang ~= "es" then
        error(fmt("template %s: render: language must be en or es, not %s", self.id, tostring(lang)), 2)
    end
    local L = self.def[lang]
    local currency = opts.currency or (type(values.debt) == "table" and values.debt.currency) or "USD"
    local ropts = { currency = currency, zone = opts.zone, language = lang }
    local hopts = { currency = currency, zone = opts.zone, language = lang, mode = "html" }
    local out = { fields = {} }
    local texts = {}
    for _, name in ipairs(required(self, opts)) do
        local src, err = disclosure_text(name, lang, self.channel, opts.state)
        if not src then error(fmt("template %s: %s", self.id, err), 2) end
        texts[#texts + 1] = tm.template.render(src, values, ropts)
        out.fields[name] = true
    end
    local body = tm.template.render(L.text, values, ropts)
    local ch = self.channel
    if #texts == 0 then
        out.text = body
    elseif ch == "voice" then
        -- a script: the disclosures are said first
        out.text = table.concat(texts, " ") .. " " .. body
    elseif ch == "letter" or ch == "email" then
        out.text = body .. "\n\n" .. table.concat(texts, "\n\n")
    else -- sms, push, whatsapp
        out.text = body .. " " .. table.concat(texts, " ")
    end
    if ch == "email" then
        out.subject = tm.template.render(L.subject, values, ropts)
        local html = tm.template.render(L.html, values, hopts)
        if #texts > 0 then
            local foot = {}
            for i, t in ipairs(texts) do foot[i] = "<p>" .. html_escape(t) .. "</p>" end
            local footer = '<div class="disclosures">' .. table.concat(foot) .. "</div>"
            local pos = html:find("</body>", 1, true)
            if pos then html = html:sub(1, pos - 1) .. footer .. html:sub(pos)
            else html = html .. footer end
        end
        out.html = html
    end
    if ch == "sms" or ch == "whatsapp" then
        out.segments = tm.sms.measure(out.text).segments
        -- the gate's disclosures can push a message past its limit: the engine
        -- must then send it on another channel or split it, never truncate it
        out.over_limit = self.max_segments ~= nil and out.segments > self.max_segments or nil
    end
    return out
end

setmetatable(M, { __call = function(_, def)
    local probs, paths = problems_of(def)
    if #probs > 0 then raise(probs, paths, 2) end
    return M.template(def)
end })
return M
