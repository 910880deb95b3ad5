---@meta
-- scripts/types/tm.lua: what the tallyman sandbox gives scripts (tm.*, the
-- regulation and journey languages, spec helpers), for lua-language-server.
-- Written by tools/luadoc.sh from the /*** blocks of sandbox/lb_*.c and
-- sandbox/rulec.c: do not edit; change the block and run `make luadoc`.
-- `make test` fails when this file is stale. The engine never runs it.

--- Where a regulation applies; an unknown field makes it block everything.
---@class tm.Applies
---@field state? string a USPS state code
---@field states? string[] USPS state codes
---@field city? string a city (compared ignoring case, spaces and dots)
---@field cities? string[] cities
---@field collectors? string|string[] third_party, debt_buyer, creditor
---@field creditor? string for a creditor's policy: the request's creditor
---@field creditors? string[] creditors

--- What block() returns.
---@class tm.Blocked
---@field blocked boolean true
---@field reason string shown with the block
---@field next_allowed? string|integer when the contact may be tried again
---@field requires? string[] message fields the contact must carry
---@field assumed? string[] request fields the check judged without (set it on the table block() returns: the decision lists them in `assumed`)

--- The counting of a cap (or after) effect.
---@class tm.Cap
---@field count? integer cap: at most this many, 0 to 1000
---@field days? integer the window in local calendar dates (the day of a contact is day 1), 1 to 3660
---@field hours? integer cap: a rolling window in hours instead
---@field per? tm.Duration days(n) or hours(n), instead of days or hours
---@field of? string|string[] the channels of earlier contacts that count
---@field outcomes? string|string[] their outcomes: attempt not_connected voicemail conversation delivered failed
---@field outcome? string|string[] the same
---@field places? string|string[] where they reached the consumer
---@field place? string|string[] the same
---@field direction? string "outbound" or "inbound"
---@field per_debt? boolean only contacts about this debt count (default true)

--- What a journey sees of a debt (no personal data). Only debt_id, state,
--- balance, currency, dispute, status, zone and flags are always there.
---@class tm.Debt
---@field debt_id string
---@field state string the consumer's USPS state code
---@field debt_type? string
---@field currency string ISO 4217 code
---@field creditor? string
---@field dispute string none, pending or verified
---@field status string
---@field zone string the consumer's IANA zone
---@field language? string
---@field balance integer minor units
---@field placed_balance? integer minor units
---@field days_past_due? integer
---@field charge_off_date? string "YYYY-MM-DD"
---@field last_payment_date? string "YYYY-MM-DD"
---@field flags table<string, boolean> the consumer's flags as a set
---@field promise? table {amount =, due =} while a promise to pay is open
---@field hardship? boolean true once a hardship event arrived
---@field channels? table<string, boolean> the channels a message may go on as a set (consent on file for SMS and WhatsApp, no opt-out, a contact point on file that did not bounce or fail): debt.channels.sms == true; absent when not known (specs), when any may be tried
---@field preferred_channel? string the consumer's preferred channel, from the placement

--- What decide() returns in a spec.
---@class tm.Decision
---@field allow boolean true only when no rule blocks
---@field blocked_by table the blocking rules: {rule, cite, reason, next_allowed_at, failed}
---@field blocked table<string, boolean> the same as a set of rule ids
---@field next_allowed_at? string RFC 3339, nil when no time will do
---@field requires string[] content the message must carry
---@field assumed string[] request fields a rule assumed (absent)
---@field time_barred boolean whether the debt is time-barred
---@field time_barred_on? string the date the law makes the debt time-barred from ("YYYY-MM-DD"), when worked out
---@field time_barred_by? string when time-barred: request, law or policy
---@field time_barred_policy? table a creditor policy's margin: {rule, margin_days, on}

--- What days(n), hours(n), business_days(n) and minutes(n) return.
---@class tm.Duration
---@field unit string "days", "hours", "business_days" or "minutes"
---@field n integer how many

--- What `journey { ... }` (scripts/lib/journey.lua) takes (strategies.md,
--- "Journeys"). It is checked when the script loads: an unknown field, event,
--- channel or state is an error naming the journey and the field.
---@class tm.JourneyDef
---@field id string lower-case name, recorded on each debt
---@field version? integer bump on every change (default 1)
---@field description? string documentation
---@field priority? number journeys are tried in priority order, lower first (default 100)
---@field segment? fun(debt: tm.Debt): boolean # which debts this journey takes (absent: every debt)
---@field variants? table<string, number> champion/challenger split, name -> percent, adding up to 100
---@field send_window? string[] {"HH:MM", "HH:MM"}: when sends are planned, local time
---@field start string the state a debt starts in
---@field states table<string, tm.JourneyStateDef> the states, by name
---@field on? table<string, string|fun(j: tm.JourneyHandle, debt: tm.Debt, ev: table)> # events handled in any state: event -> state, or a function
---@field blocked? fun(j: tm.JourneyHandle, debt: tm.Debt, contact: table, decision: table): string # when the gate blocks a send: return "skip", "reschedule" (the default) or send on another channel with j:send
---@field migrate? table<integer, table> [old version] = {states = {old = "new"}} or {state_for = function(debt, old_state)}

--- `j` in enter, on and blocked functions: what a step can do.
---@class tm.JourneyHandle
---@field variant string the debt's variant
---@field state string the state being entered or handled
---@field now integer seconds since 1970
---@field zone string the consumer's IANA zone
---@field send fun(self: tm.JourneyHandle, channel: string, template: string, opts?: table) # a contact on call, sms, email, letter, voice, push or whatsapp, through the gate at its planned time; opts: {at = "HH:MM" or a time (j:best_slot's at), purpose = ...}
---@field best_slot? fun(self: tm.JourneyHandle, opts: table): table?, string # the channel and moment most likely to reach the consumer among those the gate allows: opts {channels = {...}, within = days(3), outcome = "rpc" or "pay", model = "contact"}; returns {channel =, at =, probability =, pay_probability =, checked =} or nil and why (tm.contact.best_slot)
---@field after fun(self: tm.JourneyHandle, duration: tm.Duration, state: string) # sets the timer
---@field at fun(self: tm.JourneyHandle, clock: string, state: string, days?: integer) # sets the timer at a local time
---@field move fun(self: tm.JourneyHandle, state: string) # goes to another state now (its enter runs)
---@field offer_plan fun(self: tm.JourneyHandle, p: table) # offers an installment plan: {count =, frequency =, first =}
---@field offer_settlement fun(self: tm.JourneyHandle, p: table) # offers a settlement: {percent =, role =, override =}, checked against lib/authority.lua
---@field score fun(self: tm.JourneyHandle, model: string, features?: table): number, table # scores the debt now; recorded with the step
---@field queue fun(self: tm.JourneyHandle, name: string, opts?: table) # hands the debt to an agent queue
---@field close fun(self: tm.JourneyHandle, reason: string) # ends the journey
---@field note fun(self: tm.JourneyHandle, text: string) # a line in the debt's history

--- One state of a journey.
---@class tm.JourneyStateDef
---@field enter? fun(j: tm.JourneyHandle, debt: tm.Debt) # runs when a debt enters the state
---@field after? table {duration, "state"}: the state's timer
---@field at? table {"HH:MM", "state"}: the state's timer at a local time
---@field on? table<string, string|fun(j: tm.JourneyHandle, debt: tm.Debt, ev: table)> # event -> state, or a function
---@field final? string closes the journey when entered, with this reason
---@field description? string documentation

--- What `regulation { ... }` takes (strategies.md, "Regulations: the rule
--- language"). An unknown field is reported and ignored.
---@class tm.Regulation
---@field id string "US-MA": rule ids are shown as US-MA/<rule id>
---@field name? string "Massachusetts"
---@field applies? tm.Applies where it applies; absent: everywhere
---@field rules tm.Rule[] the rules
---@field effective? string documentation: when the regulation took effect
---@field version? string|integer documentation
---@field interpretation? string documentation: the reading chosen
---@field notes? string documentation
---@field sources? table documentation: where the text comes from

--- The contact a rule's check function judges (`c`), at the instant `now`.
---@class tm.Request
---@field now integer seconds since 1970 (later ones when the gate searches for the next allowed moment)
---@field now_iso string the same as RFC 3339
---@field channel string call, sms, email, letter, push, whatsapp or visit
---@field place string personal or work
---@field purpose string collection, validation_notice, verification or cease_notice
---@field collector string third_party, debt_buyer or creditor
---@field state string the consumer's USPS state code
---@field city? string the consumer's city
---@field creditor? string the creditor
---@field flags table<string, boolean> the consumer's flags as a set (c.flags.cease)
---@field consent table<string, boolean> consents on file, by channel (and autodial)
---@field optout table<string, boolean> channels opted out of
---@field local_times table one entry per zone of the consumer: {zone, date, hour, min, sec, wday, offset}
---@field debt table {id, type, dispute, time_barred, last_payment_date, charge_off_date, default_date, owner, notices}: `owner` is original_creditor or debt_buyer when known, `notices` notice name -> "YYYY-MM-DD"
---@field dialer? string manual, autodialer or prerecorded, nil when not given
---@field line? string cell, landline or voip, nil when not given
---@field language? string the consumer's BCP 47 language tag
---@field more_calls_at? integer when the consumer last consented directly to more calls (seconds since 1970)
---@field attorney? table consumer.attorney: {since, consented, responded, asked_at}
---@field requests table the consumer's requests about contact: {type, at, form, from, to, channels} (from/to: seconds of the local day)
---@field message table<string, boolean> message field -> true or false
---@field history table earlier contacts: {channel, outcome, place, direction, at, other_debt, required_by_law, purpose}

--- One rule: an id, a citation, conditions (all must hold; absent means any)
--- and exactly one effect (window, days/holidays, cap, after, block,
--- requires, forbid, consent, optout, inconvenient, requests or check). An unknown
--- field, a missing citation or not exactly one effect makes the rule block
--- every contact it could apply to.
---@class tm.Rule
---@field id string unique within the regulation
---@field cite string the legal citation, shown with every block
---@field reason? string the text shown when it blocks
---@field channels? string|string[] call sms email letter push whatsapp visit
---@field channel? string|string[] the same
---@field places? string|string[] personal work
---@field place? string|string[] the same
---@field purposes? string|string[] collection validation_notice verification cease_notice
---@field purpose? string|string[] the same
---@field collectors? string|string[] third_party debt_buyer creditor
---@field debt_types? string|string[] credit_card personal_loan auto_loan medical utility telecom other
---@field dispute? string|string[] none pending verified
---@field flags? string|string[] applies only if the consumer has one of these: deceased bankruptcy cease attorney scra no_work_contact incarcerated
---@field unless_flags? string|string[] does not apply if the consumer has one of these
---@field time_barred? boolean true: only time-barred debts; false: only others
---@field message? string|string[] applies only if one of these message fields is true
---@field effective? string "YYYY-MM-DD": applies from this date
---@field expires? string "YYYY-MM-DD": applies until this date (exclusive)
---@field window? tm.Window effect: allowed only inside from..to, local time
---@field days? string|string[] effect: blocked on these weekdays ("sun")
---@field holidays? string effect: "federal" (observed) or "federal_actual"
---@field cap? tm.Cap effect: at most count matching contacts in a window
---@field after? tm.Cap effect: blocked for days dates after a matching contact
---@field block? boolean effect: true blocks whenever the rule applies
---@field requires? string|string[] effect: message fields the message must carry
---@field forbid? string|string[] effect: message fields it must not carry
---@field consent? boolean|string effect: true, "autodial" or a channel: that consent must be on file
---@field optout? boolean effect: a channel opted out of is blocked
---@field inconvenient? boolean effect: times the consumer designated are blocked
---@field requests? boolean effect: the consumer's own requests about contact (consumer.requests: not at work, no calls at a time of day, only by some media) are honoured
---@field check? (fun(c: tm.Request): tm.Blocked|boolean|string|nil) # effect: a function that returns block(...), false or a string to block
---@field interpretation? string documentation
---@field notes? string documentation
---@field status? string documentation
---@field source? string documentation

--- What `template { ... }` (scripts/lib/template.lua) takes: one channel
--- template in every language. A template that breaks a rule fails to load,
--- and `tallyman lint` names the field.
---@class tm.TemplateDef
---@field id string the name a journey's j:send(channel, id) uses
---@field channel string "sms", "email", "letter", "voice", "push" or "whatsapp"
---@field placeholders table<string, string> each value the text uses, with its type: "text", "money", "date", "time" or "integer"
---@field disclosures? string[] names from channels/disclosures.lua, put where the channel wants them
---@field claims? string[] what the message asserts that a rule may forbid ("threatens_suit"), sent to the gate as message fields
---@field max_segments? integer SMS and WhatsApp: the most segments with sample values (default 2)
---@field en tm.TemplateText the English text
---@field es tm.TemplateText the Spanish text

--- The options of tm.template.render; an unknown field is a bad argument.
---@class tm.TemplateOpts
---@field mode? string "text" (default) or "html" (every inserted value HTML-escaped; the template's own text is not)
---@field currency? string ISO 4217 code, for the money filter
---@field zone? string IANA zone, for the date and time filters on Unix times
---@field language? string "en" (default) or "es"
---@field max? integer output cap in bytes (default 65536, at most 16 MiB)

--- One language of a template.
---@class tm.TemplateText
---@field text string the body
---@field subject? string email: the subject line
---@field html? string email: the HTML body (every value HTML-escaped)

--- A time window of the consumer's local day.
---@class tm.Window
---@field from string "HH:MM" (included)
---@field to string "HH:MM" (excluded; "24:00" is midnight; earlier than from: an overnight window)

tm = {}
tm.contact = {}
tm.money = {}
tm.pay = {}
tm.sms = {}
tm.template = {}
tm.time = {}

--- In spec files: the decision allows the contact.
---@param d tm.Decision what decide() returned
---@param msg? string names the check in the failure
---@return nil
function assert_allowed(d, msg) end

--- In spec files: the decision blocks the contact (by `rule` when given; a
--- rule no loaded regulation has fails, naming it).
---@param d tm.Decision what decide() returned
---@param rule? string "US-MA/call-frequency"
---@param msg? string names the check in the failure
---@return nil
function assert_blocked(d, rule, msg) end

--- In spec files: deep equality of values and tables.
---@param actual any
---@param expected any
---@param msg? string names the check in the failure
---@return nil
function assert_eq(actual, expected, msg) end

--- In spec files: the decision's next_allowed_at.
---@param d tm.Decision what decide() returned
---@param when? string RFC 3339, or nil for "no time will do"
---@param msg? string names the check in the failure
---@return nil
function assert_next(d, when, msg) end

--- In spec files: no rule whose id starts with `prefix` blocks.
---@param d tm.Decision what decide() returned
---@param prefix string "US-MA/"
---@param msg? string names the check in the failure
---@return nil
function assert_none(d, prefix, msg) end

--- In spec files: `rule` does not block (others may). A rule no loaded
--- regulation has fails, naming it, with a "did you mean".
---@param d tm.Decision what decide() returned
---@param rule string "US-MA/call-frequency"
---@param msg? string names the check in the failure
---@return nil
function assert_not_blocked(d, rule, msg) end

--- In spec files: `field` is not in the decision's requires.
---@param d tm.Decision what decide() returned
---@param field string a message field
---@param msg? string names the check in the failure
---@return nil
function assert_not_requires(d, field, msg) end

--- In spec files: `field` is in the decision's requires.
---@param d tm.Decision what decide() returned
---@param field string a message field ("optout_notice")
---@param msg? string names the check in the failure
---@return nil
function assert_requires(d, field, msg) end

--- In journey specs: the step's sends, in order, as "channel:template". A
--- template that no loaded channel file defines for that channel fails,
--- naming it, with a "did you mean".
---@param res table what J:start, J:event, J:timer or J:blocked returned
---@param sends string[] { "email:early_reminder" }; {} for none
---@param msg? string names the check in the failure
---@return nil
function assert_sends(res, sends, msg) end

--- In journey specs: the journey is in `state` after the step. A state the
--- journey that made `res` does not have fails, naming it.
---@param res table what J:start, J:event, J:timer or J:blocked returned
---@param state string "remind"
---@param msg? string names the check in the failure
---@return nil
function assert_state(res, state, msg) end

--- In journey specs: the step left a timer to state `go` (at `at` when
--- given), or none when `go` is nil. A state the journey does not have fails,
--- naming it.
---@param res table what J:start, J:event, J:timer or J:blocked returned
---@param go? string the state the timer goes to; nil for "no timer"
---@param at? string RFC 3339, "2026-11-26T15:00:00Z"
---@param msg? string names the check in the failure
---@return nil
function assert_timer(res, go, at, msg) end

--- In spec files: v is neither nil nor false.
---@param v any
---@param msg? string names the check in the failure
---@return nil
function assert_true(v, msg) end

--- What a rule's check function returns to block the contact.
---@param reason? string shown with the block (default "blocked")
---@param next_allowed? string|integer when the contact may be tried again: an RFC 3339 time or seconds since 1970; absent: never
---@return tm.Blocked # {blocked = true, reason =, next_allowed =}
function block(reason, next_allowed) end

--- A journey duration: n business days (weekends and federal holidays
--- skipped), at the same local time.
---@param n integer 1 to 3660
---@return tm.Duration # {unit = "business_days", n = n}
function business_days(n) end

--- A duration of n days: a cap's window (per = days(7), counted in local
--- calendar dates) or a journey timer.
---@param n integer 1 to 3660
---@return tm.Duration # {unit = "days", n = n}
function days(n) end

--- In spec files: asks the gate built from the same script tree, parsing the
--- request exactly as `tallyman decide` parses a line (a missing `id` is
--- "spec"; a missing `now` is the clock, so give one).
---@param request table a decide request (CONTRACT.md): channel, now, consumer, debt, message, history, ...
---@return tm.Decision? # the decision; or nil and the message when the gate refuses the request
---@return string?
function decide(request) end

--- In spec files: groups cases; names nest ("MA > call frequency > ...").
---@param name string the group's name
---@param fn function declares the cases (it) and groups inside
---@return nil
function describe(name, fn) end

--- In spec files: whether a rule with this id is among the loaded
--- regulations' rules (to assert that a rule does not exist: the asserts
--- that take a rule id fail on an id no regulation has).
---@param id string "US-MA/call-frequency"
---@return boolean
function has_rule(id) end

--- A duration of n hours: a cap's rolling window (per = hours(24)) or a
--- journey timer.
---@param n integer 1 to 3660
---@return tm.Duration # {unit = "hours", n = n}
function hours(n) end

--- In journey specs: a debt's journey state in `state` of J, to pass to
--- J:event, J:timer or J:blocked. A state (or timer_go) J does not have, or
--- a variant it does not split into, fails, naming it, with a "did you mean".
---@param J table the journey (what require("strategies.NAME") returns)
---@param state string "remind"
---@param fields? table variant (needed when J has variants), timer_go, timer_at
---@return table # { state =, variant =, timer_go =, timer_at = }
function in_state(J, state, fields) end

--- In spec files: one case, run as its own call under the sandbox's limits.
---@param name string the case's name
---@param fn function the case: it fails when it raises
---@return nil
function it(name, fn) end

--- In spec files: a copy of base with the fields of over replaced (nested
--- objects merged, lists replaced).
---@param base table
---@param over? table
---@return table
function merge(base, over) end

--- A journey duration: n minutes.
---@param n integer 1 to 100000
---@return tm.Duration # {unit = "minutes", n = n}
function minutes(n) end

--- Marks the table as a regulation (and records the line it was declared on)
--- for the compiler; a regulation script returns it, or a list of them.
---@param def tm.Regulation the regulation
---@return tm.Regulation # the same table
function regulation(def) end

--- In spec files: a value as readable text (tables with sorted keys).
---@param v any
---@return string
function show(v) end

--- A number fixed by the key's SHA-256: the same on every run, machine and
--- build, so a debt's variant never moves by accident.
---@param key string e.g. "early_stage:D000000042"
---@return integer # 0..9999
function tm.bucket(key) end

--- The channel and moment with the highest probability of a response, from
--- the contact model `model`, among the moments from `from` to `from +
--- within` that the compliance gate allows for this debt (checked = true; in
--- a spec, where there is no gate to ask, checked = false). Channels the
--- debt cannot be reached on (debt.channels, when known) are not tried.
---@param model string name of models/<model>.json (type "contact")
---@param debt tm.Debt the debt (debt_id, debt_type, zone, channels are read)
---@param channels string[] channels to choose among: call, voice, sms, email, letter, push, whatsapp
---@param from integer the first moment, seconds since 1970
---@param within integer the window in seconds, 1 to 31 days
---@param outcome? string "rpc" (a right-party contact, the default) or "pay" (a payment within the model's window)
---@return table|nil # {channel =, at =, probability =, pay_probability =, checked =}
---@return string? # when nil: why no slot (no channel the consumer can be reached on, no allowed moment in the window, or no such model in the script set)
function tm.contact.best_slot(model, debt, channels, from, within, outcome) end

---@param currency string ISO 4217 code
---@return integer # decimal places of the currency (USD 2, JPY 0, KWD 3)
function tm.money.exponent(currency) end

--- Writes an amount for people, with the currency's decimals and comma
--- thousands separators.
---@param minor integer the amount in minor units (cents for USD)
---@param currency string ISO 4217 code ("USD")
---@return string # "1,234.56 USD", "-0.05 USD", "1,000 JPY"
function tm.money.format(minor, currency) end

--- Reads an amount written in major units; a negative amount is accepted
--- ("-5.00"); more decimals than the currency has is an error.
---@param text string "12.34"
---@param currency string ISO 4217 code
---@return integer # minor units ("12.34", "USD" -> 1234)
function tm.money.parse(text, currency) end

--- The integer way to take "60% of the balance" (bps 6000).
---@param minor integer the amount in minor units
---@param bps integer basis points, 0 to 1000000 (10000 = 100%)
---@return integer # minor * bps / 10000, rounded half away from zero
function tm.money.percent(minor, bps) end

--- "Did you mean": the name in the list nearest to `word` by edit distance
--- (an insertion, deletion, substitution or swap of two neighbours counts
--- one), when it is near enough to be a slip (1 edit up to 4 letters, 2 up
--- to 8, 3 beyond); nil otherwise, or when `word` is in the list.
---@param word string e.g. "afterr"
---@param names string[] the names expected, at most 256 (others are ignored)
---@return string|nil # e.g. "after"
function tm.nearest(word, names) end

---@class tm.pay.apply.args
---@field amount integer the payment, minor units
---@field currency string ISO 4217 code
---@field fees? integer owed, minor units (default 0)
---@field interest? integer owed, minor units (default 0)
---@field principal? integer owed, minor units (default 0)

--- A payment goes to fees, then interest, then principal.
---@param args tm.pay.apply.args
---@return table # {fees =, interest =, principal =, overpayment =}: what remains of each, and what the payment left over
function tm.pay.apply(args) end

---@class tm.pay.plan.args
---@field total integer the amount to split, minor units (more than zero)
---@field currency string ISO 4217 code
---@field count integer installments, 1 to 120
---@field first string the first due date, "YYYY-MM-DD"
---@field frequency? string "weekly", "biweekly" or "monthly" (default)
---@field business_days? boolean true moves a due date off weekends and federal holidays without shifting the next one

--- An installment plan: count installments of total // count, the remainder
--- on the last, so they always add up; a monthly plan keeps its day of month,
--- clamped to short months.
---@param args tm.pay.plan.args
---@return table # array of {due = "YYYY-MM-DD", amount = minor}
function tm.pay.plan(args) end

---@class tm.pay.plan_check.args
---@field total integer minor units
---@field currency string ISO 4217 code
---@field installments table array of {due = "YYYY-MM-DD", amount = minor}

--- Checks a plan written by hand (or changed by an agent): 1..120
--- installments, each a positive whole amount, due dates strictly in order,
--- amounts adding up to total exactly.
---@param args tm.pay.plan_check.args
---@return boolean # true; or false and a message naming the installment and field ("installments[3].amount: ...", "installments: add up to ...")
---@return string?
function tm.pay.plan_check(args) end

---@class tm.pay.promise.args
---@field amount integer the amount promised, minor units
---@field currency string ISO 4217 code
---@field due string "YYYY-MM-DD"
---@field grace? integer days of grace, 0 (default) to 366
---@field today string "YYYY-MM-DD"
---@field payments? table array of {amount = minor, date = "YYYY-MM-DD"}

--- A promise to pay is open until due + grace days, then kept, partially kept
--- or broken; payments count when made by the end of the grace period and not
--- after today.
---@param args tm.pay.promise.args
---@return string # "open", "kept", "partially_kept" or "broken"
---@return integer # the minor units counted towards the promise
function tm.pay.promise(args) end

---@param aba string a US ABA routing number, nine digits
---@return boolean # whether it passes its checksum
---@return string? # the reason when it does not
function tm.pay.routing_valid(aba) end

---@class tm.pay.settlement.args
---@field balance integer the debt's balance, minor units
---@field offer integer the amount offered, minor units
---@field currency string ISO 4217 code
---@field role string "agent", "supervisor" or "manager"
---@field state? string the consumer's state, for rules limited to one
---@field creditor? string the creditor, for rules limited to one
---@field override? boolean a supervisor override (the caller audits it)
---@field floor_bps? integer a hard floor no one goes below, 0 to 10000
---@field rules table array of {role = "agent"|"supervisor"|"manager"|"any", state =, creditor =, min_bps = 0 to 10000}

--- Whether a settlement offer is within the authority of the one making it.
--- The authority rules are policy data the script passes in; the strictest
--- applicable minimum wins.
---@param args tm.pay.settlement.args
---@return table # {verdict = "allowed"|"needs_override"|"refused", overridden = boolean, min_bps = integer or -1, reason = string}
function tm.pay.settlement(args) end

---@param model string name of models/<model>.json in the script tree
---@param features table feature name -> number, string or boolean (1/0)
---@param nreasons? integer reason codes wanted (default 4, at most 16)
---@return number # probability in [0, 1]
---@return table # reasons, most adverse first: {feature=, text=, impact=}
function tm.score(model, features, nreasons) end

--- Counts an SMS as the network will: GSM 03.38 default alphabet and
--- extension table, else UCS-2 (see core/sms.h); no national shift tables.
--- Invalid UTF-8 is a bad argument naming the byte offset.
---@param text string the message, UTF-8
---@return table # {encoding = "gsm7"|"ucs2", chars =, units = (septets or UTF-16 units), segments =, per_segment = (160/153 or 70/67), remaining = (units still free in the last segment)}
function tm.sms.measure(text) end

--- The placeholders a template uses, for checks of your own. A malformed
--- template is a bad argument "line L, column C: ...".
---@param text string the template
---@return table # array of {name =, filter = (nil when absent), line =, column =}, one per distinct name in order of first appearance (the filter and position are those of that first occurrence)
function tm.template.placeholders(text) end

--- Renders a channel template (syntax in core/tmpl.h: {{name}}, {{name|filter}},
--- \{{ for a literal "{{"). Dotted names walk nested tables of `values` with
--- raw access (no metamethods run); an all-digit segment indexes an array
--- (items.1.amount). Without a filter a string is inserted as it is, an
--- integer in decimal, a boolean as true/false; a float, table, function or
--- other type is an error, and a missing value is "unknown placeholder".
--- Filters: money (integer minor units, formatted "1,234.56 USD" in
--- opts.currency, which it requires; the same format in both languages),
--- date ("YYYY-MM-DD" or an integer Unix time placed in opts.zone, which that
--- requires: "November 23, 2026" / "23 de noviembre de 2026"), time (integer
--- Unix time in opts.zone: "3:05 PM" / "15:05"), upper and lower (ASCII
--- letters only; other bytes are left as they are). Date and time patterns are
--- CLDR's long date and short time for en and es.
---@param text string the template
---@param values table what the placeholders name (plain tables)
---@param opts? tm.TemplateOpts how to render
---@return string # the rendered text
function tm.template.render(text, values, opts) end

---@param date string "YYYY-MM-DD"
---@param n integer -3660 to 3660
---@return string # the n-th business day after (n > 0) or before (n < 0) the date, "YYYY-MM-DD"
function tm.time.add_business_days(date, n) end

---@param date string "YYYY-MM-DD"
---@param n integer calendar days
---@return string # the date n days later (earlier when n < 0), "YYYY-MM-DD"
function tm.time.add_days(date, n) end

---@param t integer|string seconds since 1970, or an RFC 3339 time
---@return string # the UTC instant as RFC 3339 ("2026-11-23T14:05:00Z")
function tm.time.format(t) end

--- The instant of a local date and time in an IANA zone. A time skipped by a
--- change to summer time moves forward by the gap; a time that happens twice
--- is the earlier occurrence unless `which` is "later".
---@param zone string IANA zone
---@param date string "YYYY-MM-DD"
---@param clock string "HH:MM" or "HH:MM:SS"
---@param which? string "earlier" (default) or "later"
---@return integer # seconds since 1970
function tm.time.from_local(zone, date, clock, which) end

---@param date string "YYYY-MM-DD"
---@return string? # the US federal holiday on that date, and the one observed on it (a holiday on a weekend is observed on a Friday or Monday)
---@return string?
function tm.time.holiday(date) end

---@param date string "YYYY-MM-DD"
---@return boolean # Monday to Friday and not an observed federal holiday
function tm.time.is_business_day(date) end

--- The local civil time of an instant in an IANA zone.
---@param zone string IANA zone ("America/New_York")
---@param t integer|string seconds since 1970, or an RFC 3339 time
---@return table # {date = "YYYY-MM-DD", year, month, day, hour, min, sec, wday = "sun".."sat", offset = seconds east of UTC, dst = boolean}
function tm.time.local_time(zone, t) end

---@param t string|integer an RFC 3339 time ("2026-11-23T14:05:00Z", "2026-11-23T09:05:00-05:00"), or seconds since 1970 (returned as they are)
---@return integer # seconds since 1970-01-01T00:00:00Z
function tm.time.parse(t) end

---@param usps string a USPS state code ("TX")
---@return string[]? # the IANA zones in use in the state, or nil for an unknown code
function tm.time.state_zones(usps) end
