-- scripts/lib/journey.lua: the journey language and its runtime.
--
-- A strategy script returns `journey { ... }` (see strategies.md, "Journeys").
-- This module checks the definition when the script loads, so a misspelt
-- state or field is an error at `file:line` of the journey, not a silent
-- gap at 3 a.m., and gives the engine four entry points, each returning a
-- plain result table the engine applies in one transaction:
--
--   J:start(debt, ctx)                -> enter the start state
--   J:event(js, debt, ev, ctx)        -> an event (payment, dispute, ...)
--   J:timer(js, debt, ctx)            -> the pending timer came due
--   J:blocked(js, debt, contact, decision, ctx) -> the gate refused a send
--
--   J:migrate(js, debt, from_version) -> js mapped from an old version
--
-- js (the debt's journey state) = { state =, variant =, timer_go =, timer_at = },
-- ctx = { now = Unix seconds, zone = "America/Chicago" }.
-- result = { state =, variant =, version =, actions = {...},
--            timer = { at =, go = } or nil, closed = reason or nil,
--            moves = { "from>to", ... }, ignored = true when nothing applied }
--
-- Written in Lua on purpose: it runs inside the sandbox under the same limits
-- as the strategies, and strategy managers can read exactly what their
-- journey does.

-- For the editor (types/tm.lua): journey { ... } takes a tm.JourneyDef.
---@class tm.journey_module
---@overload fun(def: tm.JourneyDef): table
local M = {}

local time = tm.time
local fmt = string.format

local EVENTS = {
    payment = true, partial_payment = true, promise = true, broken_promise = true,
    dispute = true, dispute_verified = true, cease = true, attorney = true,
    bankruptcy = true, deceased = true, contact = true, inbound_reply = true,
    optout = true, consent = true, hardship = true, address_change = true,
    phone_change = true, email_change = true, placement = true,
}
M.events = EVENTS

local PURPOSES = { collection = true, validation_notice = true, verification = true,
                   cease_notice = true }

local CHANNELS = { call = true, sms = true, email = true, letter = true, voice = true,
                   push = true, whatsapp = true }
M.channels = CHANNELS

local JOURNEY_FIELDS = { id = true, version = true, description = true, segment = true,
                         priority = true, variants = true, start = true, states = true,
                         on = true, blocked = true, send_window = true, migrate = true }
local STATE_FIELDS = { enter = true, on = true, after = true, at = true, final = true,
                       description = true }

local MAX_MOVES = 32

-- Durations: days(n), hours(n), business_days(n) and minutes(n) are globals
-- of the script language: { unit = ..., n = ... }.
local function is_duration(v)
    return type(v) == "table" and (v.unit == "days" or v.unit == "hours" or v.unit == "minutes"
        or v.unit == "business_days") and type(v.n) == "number"
end

-- The Unix time `dur` after `now`, for a consumer in `zone`. Days and
-- business days keep the local time of day (10:00 stays 10:00 across a DST
-- change); business days skip weekends and federal holidays; hours and
-- minutes are elapsed time.
local function add_duration(now, dur, zone)
    if dur.unit == "minutes" then return now + dur.n * 60 end
    if dur.unit == "hours" then return now + dur.n * 3600 end
    -- days and business days keep the local time of day, across DST too
    local l = time.local_time(zone, now)
    local date = dur.unit == "days" and time.add_days(l.date, dur.n)
                 or time.add_business_days(l.date, dur.n)
    return time.from_local(zone, date, fmt("%02d:%02d:%02d", l.hour, l.min, l.sec))
end
M.add_duration = add_duration

-- The next moment it is `hm` ("09:30") in `zone`, after `now`; with `days`
-- days in between at least.
local function next_local(now, hm, zone, days)
    local l = time.local_time(zone, now)
    local date = days and days > 0 and time.add_days(l.date, days) or l.date
    local t = time.from_local(zone, date, hm)
    if t <= now then t = time.from_local(zone, time.add_days(date, 1), hm) end
    return t
end

-- Raises `msg` at the script line `level` levels up (1: the caller of
-- the function calling fail).
local function fail(msg, level)
    error(msg, (level or 1) + 1)
end

-- Definition checks raise without a position; build() re-raises at the
-- journey script's line.
local function bad(msg)
    error(msg, 0)
end

local function sorted_keys(t)
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    return keys
end

-- Checks an `on` table: event name -> state name or function.
local function check_on(on, states, what)
    if on == nil then return end
    if type(on) ~= "table" then bad(what .. ".on must be a table of event = target") end
    for ev, target in pairs(on) do
        if not EVENTS[ev] then
            bad(fmt("%s.on: unknown event '%s' (known: %s)", what, tostring(ev),
                     table.concat(sorted_keys(EVENTS), ", ")))
        end
        if type(target) == "string" then
            if not states[target] then
                bad(fmt("%s.on.%s: no state '%s'", what, ev, target))
            end
        elseif type(target) ~= "function" then
            bad(fmt("%s.on.%s must be a state name or a function", what, ev))
        end
    end
end

-- "HH:MM" with an hour 00-23 and minutes 00-59.
local function is_clock(hm)
    if type(hm) ~= "string" then return false end
    local h, m = hm:match("^(%d%d):(%d%d)$")
    return h ~= nil and tonumber(h) <= 23 and tonumber(m) <= 59
end

local function check_timer(spec, states, what, field)
    if spec == nil then return end
    if type(spec) ~= "table" then bad(fmt("%s.%s must be a table", what, field)) end
    local go = spec[2] or spec.go
    if field == "after" then
        local dur = spec[1] or spec.wait
        if not is_duration(dur) then
            bad(fmt("%s.after[1] must be a duration: days(n), hours(n), business_days(n) or minutes(n)", what))
        end
    else
        local hm = spec[1] or spec.time
        if not is_clock(hm) then
            bad(fmt("%s.at[1] must be a local time \"HH:MM\" (00:00 to 23:59)", what))
        end
    end
    if type(go) ~= "string" or not states[go] then
        bad(fmt("%s.%s: no state '%s' to go to", what, field, tostring(go)))
    end
end

local Journey = {}
Journey.__index = Journey

local NAME = "^[a-z][a-z0-9_]*$"

-- Checks `migrate = { [old_version] = spec }` (strategies.md, "Changing a
-- live journey"). A spec is a function(debt, old_state) returning the new
-- state's name (nil keeps the name), or a table
-- { states = { old = "new", ... }, state_for = function(debt, old_state) }
-- with either or both. Only the new side can be checked here: the old
-- version's states are in its archived text, so an old name that matches
-- nothing simply never applies. Returns the set of versions migrated from.
local function check_migrate(def, what, version)
    local set = {}
    if def.migrate == nil then return set end
    if type(def.migrate) ~= "table" then
        bad(what .. ": migrate must be a table { [old_version] = { states = { old = \"new\" } } }")
    end
    for v, m in pairs(def.migrate) do
        local mw = fmt("%s: migrate[%s]", what, tostring(v))
        if type(v) ~= "number" or v ~= math.floor(v) or v < 1 then
            bad(mw .. ": the key must be the old version's number")
        end
        mw = fmt("%s: migrate[%d]", what, v)
        if v >= version then
            bad(fmt("%s: a migration comes from an older version, and this journey is version %d",
                    mw, version))
        end
        if type(m) == "table" then
            for k in pairs(m) do
                if k ~= "states" and k ~= "state_for" then
                    bad(fmt("%s: unknown field '%s' (states, state_for)", mw, tostring(k)))
                end
            end
            if m.states ~= nil and type(m.states) ~= "table" then
                bad(mw .. ".states must be a table of old_state = \"new_state\"")
            end
            for _, old in ipairs(m.states and sorted_keys(m.states) or {}) do
                local new = m.states[old]
                if type(old) ~= "string" or not old:match(NAME) then
                    bad(fmt("%s.states: '%s' is not a state name", mw, tostring(old)))
                end
                if type(new) ~= "string" or not def.states[new] then
                    bad(fmt("%s.states.%s: no state '%s' in version %d", mw, old, tostring(new),
                            version))
                end
            end
            if m.state_for ~= nil and type(m.state_for) ~= "function" then
                bad(mw .. ".state_for must be a function(debt, old_state) returning a state name")
            end
        elseif type(m) ~= "function" then
            bad(mw .. " must be { states = { old = \"new\" } } or a function(debt, old_state)")
        end
        set[v] = true
    end
    return set
end

-- For `tallyman lint`: a journey past version 1 that leaves older versions
-- without a migration. Not an error (keeping debts on their old text is
-- often what is wanted), but the author should know.
local function version_note(id, version, migrates)
    local missing = {}
    for v = version - 1, 1, -1 do
        if not migrates[v] then
            if #missing == 8 then missing[#missing + 1] = "..." break end
            missing[#missing + 1] = tostring(v)
        end
    end
    if #missing == 0 then return nil end
    local many = #missing > 1
    return fmt("journey %s is at version %d and declares no migration from %s %s: debts "
               .. "started on %s keep running the text they started on", id, version,
               many and "versions" or "version", table.concat(missing, ", "), many and "them" or "it")
end

-- "unknown field 'x'" with a "did you mean" when x is a slip for one of
-- the fields a table takes.
local function unknown(k, fields)
    local near = type(k) == "string" and tm.nearest(k, sorted_keys(fields)) or nil
    if near then return fmt("unknown field '%s' (did you mean '%s'?)", k, near) end
    return fmt("unknown field '%s'", tostring(k))
end

-- Every unknown field of the journey and of its states, each with the path
-- to it (so it is told at its own line), in a stable order; nil when none.
local function unknown_fields(def)
    local list = {}
    local jw = type(def.id) == "string" and ("journey " .. def.id) or "journey"
    for _, k in ipairs(sorted_keys(def)) do
        if not JOURNEY_FIELDS[k] then
            list[#list + 1] = { msg = fmt("%s: %s", jw, unknown(k, JOURNEY_FIELDS)),
                                path = { tostring(k) } }
        end
    end
    if type(def.states) == "table" then
        for _, name in ipairs(sorted_keys(def.states)) do
            local st = def.states[name]
            if type(st) == "table" then
                for _, k in ipairs(sorted_keys(st)) do
                    if not STATE_FIELDS[k] then
                        list[#list + 1] = {
                            msg = fmt("%s: states.%s: %s", jw, tostring(name), unknown(k, STATE_FIELDS)),
                            path = { "states", tostring(name), tostring(k) } }
                    end
                end
            end
        end
    end
    if #list == 0 then return nil end
    return list
end

-- A problem list raised as an error reads as its messages (a spec's pcall
-- sees them); the engine reads the list itself, each at its own line.
local Problems = { __tostring = function(p)
    local msgs = {}
    for i, e in ipairs(p.tm_problems) do msgs[i] = e.msg end
    return table.concat(msgs, "; ")
end }

local function validate(def)
    if type(def) ~= "table" then bad("journey expects a table") end
    -- A misspelt field would be ignored and change what the journey does:
    -- every one is an error, all told at once.
    local unknowns = unknown_fields(def)
    if unknowns then error(setmetatable({ tm_problems = unknowns }, Problems), 0) end
    if type(def.id) ~= "string" or not def.id:match(NAME) then
        bad("journey: id must be a lower-case name (letters, digits, _)")
    end
    local what = "journey " .. def.id
    if def.version ~= nil and (type(def.version) ~= "number" or def.version < 1
                               or def.version ~= math.floor(def.version)) then
        bad(what .. ": version must be a whole number from 1")
    end
    if def.segment ~= nil and type(def.segment) ~= "function" then
        bad(what .. ": segment must be a function(debt) returning true or false")
    end
    if def.priority ~= nil and type(def.priority) ~= "number" then
        bad(what .. ": priority must be a number (lower is tried first)")
    end
    if type(def.states) ~= "table" or next(def.states) == nil then
        bad(what .. ": states must be a table of state_name = { ... }")
    end
    if type(def.start) ~= "string" or not def.states[def.start] then
        bad(fmt("%s: start must name a state (got %s)", what, tostring(def.start)))
    end
    local variants, total = {}, 0
    if def.variants ~= nil then
        if type(def.variants) ~= "table" then bad(what .. ": variants must be { name = percent }") end
        for _, name in ipairs(sorted_keys(def.variants)) do
            local pct = def.variants[name]
            if type(name) ~= "string" or type(pct) ~= "number" or pct < 0 or pct > 100 then
                bad(fmt("%s: variants.%s must be a percentage from 0 to 100", what, tostring(name)))
            end
            variants[#variants + 1] = { name = name, bps = math.floor(pct * 100 + 0.5) }
            total = total + math.floor(pct * 100 + 0.5)
        end
        if total ~= 10000 then
            bad(fmt("%s: variants add up to %g%%, not 100%%", what, total / 100))
        end
    end
    for name, st in pairs(def.states) do
        local sw = what .. ": states." .. tostring(name)
        if type(name) ~= "string" or not name:match(NAME) then
            bad(what .. ": state names must be lower-case names")
        end
        if type(st) ~= "table" then bad(sw .. " must be a table") end
        if st.enter ~= nil and type(st.enter) ~= "function" then
            bad(sw .. ".enter must be a function(j, debt)")
        end
        check_on(st.on, def.states, sw)
        check_timer(st.after, def.states, sw, "after")
        check_timer(st.at, def.states, sw, "at")
        if st.after and st.at then bad(sw .. ": give after or at, not both") end
    end
    check_on(def.on, def.states, what)
    if def.blocked ~= nil and type(def.blocked) ~= "function" then
        bad(what .. ": blocked must be a function(j, debt, contact, decision)")
    end
    if def.send_window ~= nil then
        local w = def.send_window
        if type(w) ~= "table" or type(w[1]) ~= "string" or type(w[2]) ~= "string"
           or not w[1]:match("^%d%d:%d%d$") or not w[2]:match("^%d%d:%d%d$") or w[1] >= w[2] then
            bad(what .. ": send_window must be { \"HH:MM\", \"HH:MM\" }, the first earlier")
        end
    end
    local version = def.version or 1
    local migrates = check_migrate(def, what, version)
    return setmetatable({ def = def, id = def.id, version = version, variants = variants,
                          priority = def.priority or 100, migrates = migrates,
                          note = version_note(def.id, version, migrates) }, Journey)
end

-- Checks `def`; a problem is raised at the line `level` levels up.
local function build(def, level)
    local ok, res = pcall(validate, def)
    if not ok then
        if type(res) == "table" and res.tm_problems then
            -- A problem list: where the definition is ("file:line:", the
            -- journey script's line) goes with it; each problem's own line
            -- is found from its path.
            local _, where = pcall(error, "", level + 1)
            res.where = where
            error(res, 0)
        end
        error(res, level)
    end
    return res
end

-- journey { ... }: checks the definition and returns the journey object.
---@param def tm.JourneyDef
function M.journey(def)
    local j = build(def, 3) -- not a tail call: level 3 is the journey script
    return j
end

-- Whether the journey takes this debt (its segment), when it has none.
function Journey:matches(debt)
    if not self.def.segment then return true end
    return self.def.segment(debt) and true or false
end

-- The debt's variant: stable, from tm.bucket(journey id .. ":" .. debt id).
function Journey:variant_for(debt_id)
    if #self.variants == 0 then return "default" end
    if type(debt_id) ~= "string" or debt_id == "" then
        fail(fmt("journey %s: a variant needs the debt's id", self.id), 2)
    end
    local b = tm.bucket(self.id .. ":" .. tostring(debt_id))
    local acc = 0
    for _, v in ipairs(self.variants) do
        acc = acc + v.bps
        if b < acc then return v.name end
    end
    return self.variants[#self.variants].name
end

-- The handle a journey's functions get: j:send(...), j:move(...), ...
local Handle = {}
Handle.__index = Handle

-- The journey that made each result, for the spec helpers: assert_state and
-- assert_timer check the state they name against it. Weak keys: a result
-- nobody keeps is not kept here either; the result itself is unchanged.
local made_by = setmetatable({}, { __mode = "k" })

-- The journey whose J:start, J:event, J:timer or J:blocked returned `res`;
-- nil for any other table.
function M.journey_of(res)
    return made_by[res]
end

local function new_result(self, js)
    local res = { state = js.state, variant = js.variant, version = self.version, actions = {},
                  moves = {}, timer = nil, closed = nil }
    made_by[res] = self
    return res
end

local function handle(self, res, debt, ctx)
    return setmetatable({ journey = self, res = res, debt = debt, ctx = ctx,
                          variant = res.variant, state = res.state, now = ctx.now,
                          zone = ctx.zone }, Handle)
end

-- The planned send time: now, or inside the journey's send window.
local function planned(self, ctx)
    local w = self.def.send_window
    if not w then return ctx.now end
    local l = time.local_time(ctx.zone, ctx.now)
    local hm = fmt("%02d:%02d", l.hour, l.min)
    if hm >= w[1] and hm < w[2] then return ctx.now end
    return next_local(ctx.now, w[1], ctx.zone)
end

function Handle:send(channel, template, opts)
    if not CHANNELS[channel] then
        fail(fmt("send: unknown channel '%s'", tostring(channel)), 2)
    end
    if type(template) ~= "string" or template == "" then
        fail("send: the template must be named (a string)", 2)
    end
    if opts ~= nil and type(opts) ~= "table" then fail("send: options must be a table", 2) end
    -- the purposes the compliance gate judges (core/gate.c): anything else
    -- could not be judged, so it is refused where it is written
    if opts and opts.purpose ~= nil and not PURPOSES[opts.purpose] then
        fail(fmt("send: purpose must be collection, validation_notice, verification or cease_notice, not '%s'",
                 tostring(opts.purpose)), 2)
    end
    -- A voice script is what an agent (or a recorded message) says on a
    -- call: the gate judges it as a call, and the call's templates are the
    -- voice scripts.
    if channel == "voice" then channel = "call" end
    -- where the message goes: the consumer's own number or address, or the
    -- one at work (the gate judges contact at work apart)
    if opts and opts.place ~= nil and opts.place ~= "personal" and opts.place ~= "work" then
        fail(fmt("send: place must be personal or work, not '%s'", tostring(opts.place)), 2)
    end
    local a = { type = "send", channel = channel, template = template,
                at = planned(self.journey, self.ctx), purpose = opts and opts.purpose or "collection",
                state = self.res.state, place = opts and opts.place or nil }
    if opts and type(opts.at) == "number" and opts.at == math.floor(opts.at) then
        -- a moment (j:best_slot's `at`): not before now
        if opts.at < self.ctx.now then
            fail("send: at, as a time, must not be before now", 2)
        end
        a.at = opts.at
    elseif opts and opts.at then
        if not is_clock(opts.at) then
            fail("send: at must be a local time \"HH:MM\" (00:00 to 23:59) or a time from j:best_slot", 2)
        end
        a.at = next_local(self.ctx.now - 1, opts.at, self.ctx.zone)
    end
    local acts = self.res.actions
    acts[#acts + 1] = a
    return a
end

-- The channel and moment most likely to reach the consumer (the contact
-- model, models/contact.json from `tallyman score train-contact`) among the
-- moments the gate allows in the window: {channel =, at =, probability =,
-- pay_probability =, checked =}, or nil and why (no channel asked on which the
-- consumer can be reached, no allowed moment, no model). Send with
-- j:send(slot.channel, template, {at = slot.at}).
function Handle:best_slot(opts)
    if type(opts) ~= "table" then
        fail("best_slot expects a table {channels = {...}, within = days(n)}", 2)
    end
    local chs = opts.channels
    if type(chs) ~= "table" or #chs == 0 then
        fail("best_slot: channels must be a list of channels", 2)
    end
    for i = 1, #chs do
        if not CHANNELS[chs[i]] then
            fail(fmt("best_slot: unknown channel '%s'", tostring(chs[i])), 2)
        end
    end
    local within = opts.within or { unit = "days", n = 3 }
    if not is_duration(within) or within.unit == "business_days" then
        fail("best_slot: within must be days(n), hours(n) or minutes(n)", 2)
    end
    if opts.outcome ~= nil and opts.outcome ~= "rpc" and opts.outcome ~= "pay" then
        fail("best_slot: outcome must be \"rpc\" or \"pay\"", 2)
    end
    local from = planned(self.journey, self.ctx)
    local span = add_duration(from, within, self.ctx.zone) - from
    if span > 31 * 86400 then fail("best_slot: within must be at most 31 days", 2) end
    return tm.contact.best_slot(opts.model or "contact", self.debt, chs, from, span, opts.outcome)
end

function Handle:after(dur, go)
    if not is_duration(dur) then fail("after: the first argument must be a duration", 2) end
    if type(go) ~= "string" or not self.journey.def.states[go] then
        fail(fmt("after: no state '%s'", tostring(go)), 2)
    end
    self.res.timer = { at = add_duration(self.ctx.now, dur, self.ctx.zone), go = go }
end

function Handle:at(hm, go, days)
    if not is_clock(hm) then fail("at: expects a local time \"HH:MM\" (00:00 to 23:59)", 2) end
    if days ~= nil and (type(days) ~= "number" or days < 0 or days ~= math.floor(days)) then
        -- a timer is always ahead of now: a negative day count would set it in the past
        fail("at: the day count must be a whole number from 0", 2)
    end
    if type(go) ~= "string" or not self.journey.def.states[go] then
        fail(fmt("at: no state '%s'", tostring(go)), 2)
    end
    self.res.timer = { at = next_local(self.ctx.now, hm, self.ctx.zone, days), go = go }
end

function Handle:move(go)
    if type(go) ~= "string" or not self.journey.def.states[go] then
        fail(fmt("move: no state '%s'", tostring(go)), 2)
    end
    self.res.pending_move = go
end

local function simple(self, a)
    local acts = self.res.actions
    acts[#acts + 1] = a
    return a
end

function Handle:offer_plan(p)
    if type(p) ~= "table" then fail("offer_plan expects { count =, frequency =, first = }", 2) end
    return simple(self, { type = "offer_plan", plan = p })
end

-- A settlement is checked against the authority policy (lib/authority.lua)
-- for the role it names before it is offered: one below it stops the step.
function Handle:offer_settlement(p)
    if type(p) ~= "table" or type(p.percent) ~= "number" or p.percent <= 0 or p.percent > 100 then
        fail("offer_settlement expects { percent = n } with n above 0 and at most 100", 2)
    end
    local role = p.role or "agent"
    if role ~= "agent" and role ~= "supervisor" and role ~= "manager" then
        fail(fmt("offer_settlement: role must be agent, supervisor or manager, not '%s'", tostring(role)), 2)
    end
    local d = self.debt
    local balance = d.balance
    if type(balance) ~= "number" or balance <= 0 or balance ~= math.floor(balance) then
        fail("offer_settlement: the debt has no balance to settle", 2)
    end
    -- the least whole amount that is at least the percent of the balance, as
    -- the engine computes it (exact below 2^53: balances up to 900 billion
    -- minor units), so rounding never takes an offer below its authority
    local bps = math.floor(p.percent * 100 + 0.5)
    local offer = math.floor((balance * bps + 9999) / 10000)
    if offer < 1 then offer = 1 end
    if p.override ~= nil and type(p.override) ~= "boolean" then
        fail("offer_settlement: override must be true or false", 2)
    end
    local policy = require("lib.authority")
    local v = tm.pay.settlement { balance = balance, offer = offer, currency = d.currency or "USD",
                                  role = role, state = d.state, creditor = d.creditor,
                                  floor_bps = policy.floor_bps, rules = policy.rules,
                                  override = p.override == true }
    if v.verdict ~= "allowed" then
        fail(fmt("offer_settlement: %s%% by %s is beyond authority: %s (lib/authority.lua)",
                 tostring(p.percent), role, v.reason), 2)
    end
    -- A supervisor's override below the usual minimum is marked, and the
    -- engine audits it (settlement.override).
    return simple(self, { type = "offer_settlement", percent = p.percent, role = role,
                          min_bps = v.min_bps, overridden = v.overridden or nil })
end

-- The features a propensity model is scored on, from what a journey knows of
-- the debt, named as `tallyman score train` names them: days past due,
-- balance as placed in major units, days since the last payment and since
-- charge-off at `now`, debt type and state. History counts are left out (a
-- model scores a missing feature in its catch-all bin).
function M.features(d, now)
    local f = { days_past_due = d.days_past_due, debt_type = d.debt_type, state = d.state }
    local bal = d.placed_balance or d.balance
    if type(bal) == "number" and bal > 0 then f.balance = bal / 100 end
    local function since(date)
        if type(date) ~= "string" or not date:match("^%d%d%d%d%-%d%d%-%d%d$") or not now then return nil end
        local t = time.parse(date .. "T00:00:00Z")
        return t and math.floor((now - t) / 86400) or nil
    end
    f.days_since_last_payment = since(d.last_payment_date)
    f.days_since_charge_off = since(d.charge_off_date)
    return f
end

-- Scores the debt now with models/<model>.json and returns the probability
-- and reason codes, so the journey can act on them; the score is recorded
-- with the step (and kept on the debt by the engine).
function Handle:score(model, features)
    if type(model) ~= "string" then fail("score expects a model name", 2) end
    if features ~= nil and type(features) ~= "table" then fail("score: features must be a table", 2) end
    local p, reasons = tm.score(model, features or M.features(self.debt, self.now))
    local texts = {}
    for i, r in ipairs(reasons) do texts[i] = r.text end
    simple(self, { type = "score", model = model, probability = p, reasons = texts })
    return p, reasons
end

function Handle:queue(name, opts)
    if type(name) ~= "string" then fail("queue expects a queue name", 2) end
    return simple(self, { type = "queue", queue = name, reason = opts and opts.reason })
end

function Handle:close(reason)
    self.res.closed = type(reason) == "string" and reason or "closed"
    self.res.timer = nil
    return simple(self, { type = "close", reason = self.res.closed })
end

function Handle:note(text)
    return simple(self, { type = "note", text = tostring(text) })
end

-- Enters `name` and follows every move its enter asks for.
local function enter(self, res, name, debt, ctx)
    local moves = 0
    while name do
        moves = moves + 1
        if moves > MAX_MOVES then
            fail(fmt("journey %s: more than %d moves in one step (a loop between states?)",
                     self.id, MAX_MOVES), 0)
        end
        if res.state ~= name then res.moves[#res.moves + 1] = (res.state or "(start)") .. ">" .. name end
        res.state = name
        res.timer = nil
        res.pending_move = nil
        local st = self.def.states[name]
        local h = handle(self, res, debt, ctx)
        if st.enter then st.enter(h, debt) end
        if res.closed then break end
        if not res.timer and not res.pending_move then
            if st.after then
                res.timer = { at = add_duration(ctx.now, st.after[1] or st.after.wait, ctx.zone),
                              go = st.after[2] or st.after.go }
            elseif st.at then
                res.timer = { at = next_local(ctx.now, st.at[1] or st.at.time, ctx.zone),
                              go = st.at[2] or st.at.go }
            end
        end
        if st.final and not res.closed then
            res.closed = type(st.final) == "string" and st.final or name
            res.actions[#res.actions + 1] = { type = "close", reason = res.closed }
            break
        end
        name = res.pending_move
    end
    res.pending_move = nil
    return res
end

local function check_ctx(ctx)
    if type(ctx) ~= "table" or type(ctx.now) ~= "number" or type(ctx.zone) ~= "string" then
        fail("the engine context needs now (Unix seconds) and zone", 3)
    end
end

function Journey:start(debt, ctx)
    check_ctx(ctx)
    local js = { state = nil, variant = self:variant_for(debt.debt_id or debt.id) }
    local res = new_result(self, js)
    return enter(self, res, self.def.start, debt, ctx)
end

-- The target for event `ev` in state `state`: the state's own `on`, then the
-- journey's. A partial payment falls back to `payment` handlers.
local function target_for(self, state, ev)
    local st = self.def.states[state]
    local names = { ev.type }
    if ev.type == "partial_payment" then names[2] = "payment" end
    -- the state's own handlers first (partial_payment, then payment), then
    -- the journey's
    local tables = { st and st.on or false, self.def.on or false }
    for i = 1, 2 do
        local on = tables[i]
        for _, n in ipairs(names) do
            if on and on[n] ~= nil then return on[n] end
        end
    end
    return nil
end

function Journey:event(js, debt, ev, ctx)
    check_ctx(ctx)
    if type(ev) ~= "table" or not EVENTS[ev.type] then
        fail(fmt("journey %s: unknown event type '%s'", self.id, tostring(ev and ev.type)), 2)
    end
    local res = new_result(self, js)
    if not self.def.states[js.state] then
        res.ignored = true
        res.error = fmt("state '%s' is not in journey %s", tostring(js.state), self.id)
        return res
    end
    res.timer = js.timer_go and { at = js.timer_at, go = js.timer_go } or nil
    if self.def.states[js.state].final then
        res.ignored = true -- a closed journey stays closed
        return res
    end
    local target = target_for(self, js.state, ev)
    if target == nil then
        res.ignored = true
        return res
    end
    if type(target) == "function" then
        local h = handle(self, res, debt, ctx)
        local r = target(h, debt, ev)
        local go = res.pending_move or (type(r) == "string" and r or nil)
        if go then
            if not self.def.states[go] then
                fail(fmt("journey %s: the %s handler moved to unknown state '%s'", self.id, ev.type,
                         tostring(go)), 0)
            end
            return enter(self, res, go, debt, ctx)
        end
        return res
    end
    return enter(self, res, target, debt, ctx)
end

function Journey:timer(js, debt, ctx)
    check_ctx(ctx)
    local res = new_result(self, js)
    local go = js.timer_go
    if not go then
        res.ignored = true
        return res
    end
    if not self.def.states[go] then
        res.ignored = true
        res.error = fmt("the timer goes to state '%s', which is not in journey %s", tostring(go), self.id)
        return res
    end
    return enter(self, res, go, debt, ctx)
end

-- The gate refused a send. The journey's `blocked` function may return
-- "skip", "reschedule" (the default) or call j:send on another channel.
function Journey:blocked(js, debt, contact, decision, ctx)
    check_ctx(ctx)
    local res = new_result(self, js)
    res.timer = js.timer_go and { at = js.timer_at, go = js.timer_go } or nil
    local choice = "reschedule"
    if self.def.blocked then
        local h = handle(self, res, debt, ctx)
        choice = self.def.blocked(h, debt, contact, decision) or (#res.actions > 0 and "handled") or "reschedule"
        if res.pending_move then
            enter(self, res, res.pending_move, debt, ctx)
            if choice == "reschedule" then choice = "handled" end
        end
    end
    if choice == "reschedule" then
        if decision.next_allowed_at then
            res.actions[#res.actions + 1] = { type = "send", channel = contact.channel,
                template = contact.template, at = decision.next_allowed_at,
                purpose = contact.purpose, state = js.state, rescheduled = true }
        else
            res.actions[#res.actions + 1] = { type = "note",
                text = "contact never allowed: " .. tostring(contact.channel) }
        end
    elseif choice ~= "skip" and choice ~= "handled" then
        fail(fmt("journey %s: blocked must return \"reschedule\", \"skip\" or nothing, not %s",
                 self.id, tostring(choice)), 0)
    end
    return res
end

-- Maps a debt's journey state `js` from old version `from` into this
-- version, by migrate[from]: a state the table names goes where it says,
-- else state_for(debt, name) decides, else the name stays, and must exist
-- here. The pending timer's target is mapped the same way; its time is
-- kept. Returns a new js table; raises naming the state that has no place.
function Journey:migrate(js, debt, from)
    local m = self.def.migrate and self.def.migrate[from]
    if m == nil then
        fail(fmt("journey %s: version %d declares no migration from version %s", self.id,
                 self.version, tostring(from)), 0)
    end
    local states = type(m) == "table" and m.states or nil
    local state_for = type(m) == "function" and m or (type(m) == "table" and m.state_for or nil)
    local function map(name, what)
        if type(name) ~= "string" then
            fail(fmt("journey %s: migrating from version %d: the debt has no %s", self.id, from,
                     what), 0)
        end
        local to = states and states[name]
        if to == nil and state_for then
            to = state_for(debt, name)
            if to ~= nil and (type(to) ~= "string" or not self.def.states[to]) then
                fail(fmt("journey %s: migrate[%d] gave '%s' for %s '%s', not a state of version %d",
                         self.id, from, tostring(to), what, name, self.version), 0)
            end
        end
        to = to or name
        if not self.def.states[to] then
            fail(fmt("journey %s: migrating from version %d: %s '%s' is not in version %d and "
                     .. "migrate[%d] does not map it", self.id, from, what, name, self.version,
                     from), 0)
        end
        return to
    end
    local out = { state = map(js.state, "state"), variant = js.variant }
    if js.timer_go then
        out.timer_go = map(js.timer_go, "timer target")
        out.timer_at = js.timer_at
    end
    return out
end

-- For `tallyman graph` and authors: states, their transitions and timers.
-- What a state's `enter` sends, for the graph: the function is run once for
-- each variant against a recorder (every method but send does nothing, the
-- debt and the context are empty), so a state whose sends depend on the debt
-- says "(depends on the debt)" for that variant. "" when it sends nothing.
local function sends_of(self, st)
    if type(st.enter) ~= "function" then return "" end
    local variants = #self.variants > 0 and self.variants or { { name = "" } }
    local texts, all_same = {}, true
    for i, v in ipairs(variants) do
        local out = {}
        local rec = setmetatable({ variant = v.name ~= "" and v.name or "default" }, {
            __index = function(_, k)
                if k == "send" then
                    return function(_, channel, template) out[#out + 1] = tostring(channel) .. " " .. tostring(template) end
                end
                return function() end
            end })
        local ok = pcall(st.enter, rec, {}, {})
        texts[i] = ok and table.concat(out, ", ") or "(depends on the debt)"
        if texts[i] ~= texts[1] then all_same = false end
    end
    if all_same then return texts[1] end
    local parts = {}
    for i, v in ipairs(variants) do
        parts[#parts + 1] = v.name .. ": " .. (texts[i] ~= "" and texts[i] or "nothing")
    end
    return table.concat(parts, "; ")
end

function Journey:edges()
    -- the start edge carries the variant split, so the graph shows it
    local start = "start"
    if #self.variants > 0 then
        local parts = {}
        for _, v in ipairs(self.variants) do
            parts[#parts + 1] = fmt("%s %g%%", v.name, v.bps / 100)
        end
        start = "start: " .. table.concat(parts, ", ")
    end
    local out = {}
    for _, name in ipairs(sorted_keys(self.def.states)) do
        local sends = sends_of(self, self.def.states[name])
        if sends ~= "" then out[#out + 1] = { node = name, label = "sends " .. sends } end
    end
    out[#out + 1] = { from = "[*]", to = self.def.start, label = start }
    for _, name in ipairs(sorted_keys(self.def.states)) do
        local st = self.def.states[name]
        if st.on then
            for _, ev in ipairs(sorted_keys(st.on)) do
                if type(st.on[ev]) == "string" then
                    out[#out + 1] = { from = name, to = st.on[ev], label = ev }
                end
            end
        end
        if st.final then
            out[#out + 1] = { from = name, to = "[*]",
                              label = type(st.final) == "string" and st.final or "closed" }
        end
        local t = st.after or st.at
        if t then
            local label
            if st.after then
                local d = st.after[1] or st.after.wait
                label = fmt("after %d %s", d.n, d.unit:gsub("_", " "))
            else
                label = "at " .. (st.at[1] or st.at.time)
            end
            out[#out + 1] = { from = name, to = t[2] or t.go, label = label }
        end
    end
    if self.def.on then
        for _, ev in ipairs(sorted_keys(self.def.on)) do
            if type(self.def.on[ev]) == "string" then
                out[#out + 1] = { from = "*", to = self.def.on[ev], label = ev }
            end
        end
    end
    return out
end

setmetatable(M, { __call = function(_, def)
    local j = build(def, 3)
    return j
end })
return M
