/*
 * tests/sandbox/test_channel.c: the tm.template and tm.sms libraries
 * (sandbox/lb_channel.c) as scripts see them: SMS measuring, rendering with
 * typed filters, raw value lookup, error messages and hostile templates.
 */
#include "harness.h"

#include "lb_channel.h"
#include "lcompat.h"
#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

/* Error positions: LuaJIT drops the calling frame on a tail call, so in
 * `return tm.x(...)` an error there has no `t.lua:N:` prefix. Tests that check
 * the position call through a local (`local r = tm.x(...) return r`). */

/* Runs `src` and returns its single result as JSON text (static buffer), or
 * "ERR <code>: <message>". */
static const char *run(tm_sandbox *sb, const char *src)
{
    static char buf[8192];
    char *out = NULL;
    size_t len = 0;
    struct tm_err e = {0};
    int rc = tm_sandbox_eval_json(sb, "t.lua", src, strlen(src), &out, &len, &e);
    if (rc != TM_OK) {
        snprintf(buf, sizeof buf, "ERR %d: %s", rc, e.msg);
        return buf;
    }
    if (len && out[len - 1] == '\n')
        out[len - 1] = '\0';
    snprintf(buf, sizeof buf, "%s", out);
    free(out);
    return buf;
}

static tm_sandbox *new_sb(void)
{
    struct tm_err e = {0};
    tm_lb_channel_register();
    tm_sandbox *sb = tm_sandbox_new(NULL, NULL, &e);
    if (!sb)
        TM_FAIL_("tm_sandbox_new: %s", e.msg);
    return sb;
}

/* Frees the sandbox; under AddressSanitizer also checks for leaks now, since
 * the runner ends each test with _exit(), which skips LeakSanitizer. */
static void done(tm_sandbox *sb)
{
    tm_sandbox_free(sb);
#if defined(__SANITIZE_ADDRESS__)
    __lsan_do_leak_check();
#endif
}

#define MEASURE "local m = tm.sms.measure(%s) return string.format('%%s %%d %%d %%d %%d %%d', " \
                "m.encoding, m.chars, m.units, m.segments, m.per_segment, m.remaining)"

static const char *measure(tm_sandbox *sb, const char *arg)
{
    char src[512];
    snprintf(src, sizeof src, MEASURE, arg);
    return run(sb, src);
}

/* ---- tm.sms ------------------------------------------------------------- */

TEST(sms_gsm7_160_and_161)
{
    tm_sandbox *sb = new_sb();
    ASSERT_STR_EQ(measure(sb, "('a'):rep(160)"), "\"gsm7 160 160 1 160 0\"");
    ASSERT_STR_EQ(measure(sb, "('a'):rep(161)"), "\"gsm7 161 161 2 153 145\"");
    ASSERT_STR_EQ(measure(sb, "''"), "\"gsm7 0 0 1 160 160\"");
    done(sb);
}

TEST(sms_emoji_is_ucs2_and_euro_counts_two)
{
    tm_sandbox *sb = new_sb();
    /* U+1F600 is a surrogate pair: 2 UTF-16 units. */
    ASSERT_STR_EQ(measure(sb, "'Hi \\u{1F600}'"), "\"ucs2 4 5 1 70 65\"");
    ASSERT_STR_EQ(measure(sb, "'\\u{20AC}5'"), "\"gsm7 2 3 1 160 157\"");
    /* 152 plain characters then a euro: the escape pair opens segment 2. */
    ASSERT_STR_EQ(measure(sb, "('a'):rep(152) .. '\\u{20AC}' .. ('a'):rep(7)"),
                  "\"gsm7 160 161 2 153 144\"");
    done(sb);
}

TEST(sms_errors)
{
    tm_sandbox *sb = new_sb();
    const char *r = run(sb, "local r = tm.sms.measure('ab\\xff') return r");
    ASSERT_CONTAINS(r, "t.lua:1: bad argument #1 to 'tm.sms.measure' (invalid UTF-8");
    ASSERT_CONTAINS(r, "byte offset 2");
    ASSERT_CONTAINS(run(sb, "\nlocal r = tm.sms.measure(42) return r"),
                    "t.lua:2: bad argument #1 to 'tm.sms.measure' (string expected, got number)");
    done(sb);
}

/* ---- tm.template.render: values and modes --------------------------------- */

TEST(render_text_nested_and_types)
{
    tm_sandbox *sb = new_sb();
    ASSERT_STR_EQ(run(sb, "return tm.template.render('Hi {{ debtor.first_name }}, ref {{ref}} "
                          "{{ok}} {{items.1.name}} \\\\{{x}}', "
                          "{debtor = {first_name = 'Ana'}, ref = 42, ok = false, "
                          "items = {{name = 'first'}}})"),
                  "\"Hi Ana, ref 42 false first {{x}}\"");
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{a.b.c.d}}', "
                          "{a = {b = {c = {d = 'deep'}}}})"),
                  "\"deep\"");
    /* Text mode inserts values as they are. */
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{v}}', {v = 'a & <b>'})"),
                  "\"a & <b>\"");
    /* upper / lower (ASCII letters only). */
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{n|upper}} {{n|lower}}', "
                          "{n = 'Ana Pe\\u{F1}a'})"),
                  "\"ANA PE\xC3\xB1" "A ana pe\xC3\xB1" "a\"");
    done(sb);
}

TEST(render_html_escapes_values_not_markup)
{
    tm_sandbox *sb = new_sb();
    const char *r = run(sb, "return tm.template.render('<p>{{name}}</p>', "
                            "{name = '<script>alert(1)</script> & \"co\"'}, {mode = 'html'})");
    ASSERT_STR_EQ(r, "\"<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;co&quot;</p>\"");
    /* Filtered values are escaped too. */
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{n|upper}}', {n = 'a&b'}, {mode = 'html'})"),
                  "\"A&amp;B\"");
    done(sb);
}

/* ---- Filters -------------------------------------------------------------- */

TEST(render_money)
{
    tm_sandbox *sb = new_sb();
    ASSERT_STR_EQ(run(sb, "return tm.template.render('Balance: {{debt.balance|money}}', "
                          "{debt = {balance = 123456}}, {currency = 'USD'})"),
                  "\"Balance: 1,234.56 USD\"");
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{b|money}}', {b = 1000}, "
                          "{currency = 'JPY'})"),
                  "\"1,000 JPY\"");
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{b|money}}', {b = -5}, "
                          "{currency = 'USD', language = 'es'})"),
                  "\"-0.05 USD\"");
    const char *r = run(sb, "local r = tm.template.render('{{b|money}}', {b = 10}) return r");
    ASSERT_CONTAINS(r, "t.lua:1: tm.template.render: line 1, column 1: {{b|money}}: ");
    ASSERT_CONTAINS(r, "needs opts.currency");
    r = run(sb, "return tm.template.render('x {{b|money}}', {b = 12.5}, {currency = 'USD'})");
    ASSERT_CONTAINS(r, "line 1, column 3: {{b|money}}: the money filter needs an integer amount "
                       "in minor units, got 12.5");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{b|money}}', {b = '12'}, "
                            "{currency = 'USD'})"),
                    "needs an integer amount in minor units, got string");
    ASSERT_CONTAINS(run(sb, "local r = tm.template.render('{{b|money}}', {b = 1}, "
                            "{currency = 'XYZ'}) return r"),
                    "t.lua:1: bad argument #3 to 'tm.template.render' (field 'currency': ");
    done(sb);
}

TEST(render_date_string_and_unix_across_midnight)
{
    tm_sandbox *sb = new_sb();
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{d|date}}', {d = '2026-11-23'})"),
                  "\"November 23, 2026\"");
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{d|date}}', {d = '2026-11-23'}, "
                          "{language = 'es'})"),
                  "\"23 de noviembre de 2026\"");
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{d|date}}', {d = '2027-01-01'}, "
                          "{language = 'es'})"),
                  "\"1 de enero de 2027\"");
    /* 2026-11-24T04:59:59Z is 23:59:59 EST on the 23rd; one second later it is the 24th. */
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{a|date}} / {{b|date}}', "
                          "{a = 1795496399, b = 1795496400}, {zone = 'America/New_York'})"),
                  "\"November 23, 2026 / November 24, 2026\"");
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{a|date}} / {{b|date}}', "
                          "{a = 1795496399, b = 1795496400}, "
                          "{zone = 'America/New_York', language = 'es'})"),
                  "\"23 de noviembre de 2026 / 24 de noviembre de 2026\"");
    /* The same instant is already the 24th in UTC. */
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{a|date}}', {a = 1795496399}, "
                          "{zone = 'UTC'})"),
                  "\"November 24, 2026\"");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{a|date}}', {a = 1795496399})"),
                    "needs opts.zone");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{a|date}}', {a = '2026-02-30'})"),
                    "{{a|date}}: ");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{a}}', {a = 1}, {zone = 'Mars/Base'})"),
                    "field 'zone': unknown time zone 'Mars/Base'");
    done(sb);
}

TEST(render_time_en_es)
{
    tm_sandbox *sb = new_sb();
    /* 2026-11-23T20:05:00Z is 15:05 EST. */
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{t|time}}', {t = 1795464300}, "
                          "{zone = 'America/New_York'})"),
                  "\"3:05 PM\"");
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{t|time}}', {t = 1795464300}, "
                          "{zone = 'America/New_York', language = 'es'})"),
                  "\"15:05\"");
    /* Midnight and noon in 12-hour English; 24-hour Spanish without a leading zero. */
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{a|time}} {{b|time}} {{c|time}}', "
                          "{a = 1795496400, b = 1795539600 + 60, c = 1795496400 + 9 * 3600}, "
                          "{zone = 'America/New_York'})"),
                  "\"12:00 AM 12:01 PM 9:00 AM\"");
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{c|time}}', {c = 1795496400 + 9 * 3600}, "
                          "{zone = 'America/New_York', language = 'es'})"),
                  "\"9:00\"");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{t|time}}', {t = '15:05'}, "
                            "{zone = 'America/New_York'})"),
                    "the time filter needs an integer Unix time, got string");
    done(sb);
}

/* ---- Errors --------------------------------------------------------------- */

TEST(render_unknown_placeholder_and_filter)
{
    tm_sandbox *sb = new_sb();
    ASSERT_STR_EQ(run(sb, "local ok, e = pcall(tm.template.render, 'Hi {{x}}', {}) return e"),
                  "\"t.lua:1: tm.template.render: line 1, column 4: unknown placeholder {{x}}\"");
    ASSERT_CONTAINS(run(sb, "\n\nlocal r = tm.template.render('Hi\\n  {{x}}', {}) return r"),
                    "t.lua:3: tm.template.render: line 2, column 3: unknown placeholder {{x}}");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{debt.balance}}', {})"),
                    "unknown placeholder {{debt.balance}}: 'debt' is nil");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{debt.balance}}', {debt = 5})"),
                    "{{debt.balance}}: 'debt' is a number, not a table");
    ASSERT_CONTAINS(run(sb, "local x = 1\n"
                            "local r = tm.template.render('{{a|bold}}', {a = 'x'}) return r"),
                    "t.lua:2: tm.template.render: line 1, column 1: {{a|bold}}: unknown filter "
                    "'bold'");
    /* An unknown filter is reported even when the value is missing. */
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{zz|bold}}', {})"),
                    "unknown filter 'bold'");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{t}}', {t = {}})"),
                    "{{t}}: the value is a table, which cannot be inserted as text");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{f}}', {f = print or tostring})"),
                    "{{f}}: the value is a function");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{f}}', {f = 0.5})"),
                    "{{f}}: the value is a non-integer number (0.5)");
    done(sb);
}

TEST(render_argument_and_option_errors)
{
    tm_sandbox *sb = new_sb();
    ASSERT_CONTAINS(run(sb, "local r = tm.template.render(nil, {}) return r"),
                    "t.lua:1: bad argument #1 to 'tm.template.render' (string expected, got nil)");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('x')"),
                    "bad argument #2 to 'tm.template.render' (table expected, got no value)");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('x', {}, {curency = 'USD'})"),
                    "bad argument #3 to 'tm.template.render' (unknown field 'curency'");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('x', {}, {mode = 'pdf'})"),
                    "(field 'mode': \"text\" or \"html\" expected, got 'pdf')");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('x', {}, {language = 'fr'})"),
                    "(field 'language': \"en\" or \"es\" expected, got 'fr')");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('x', {}, {max = 1.5})"),
                    "(field 'max': whole number of bytes expected, got 1.5)");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('x', {}, {max = 1099511627776})"),
                    "(field 'max': 0 to 16777216 bytes expected, got 1099511627776)");
    ASSERT_CONTAINS(run(sb, "local r = tm.template.render('a {{', {}) return r"),
                    "t.lua:1: bad argument #1 to 'tm.template.render' (line 1, column 3: unterminated");
    done(sb);
}

TEST(render_output_cap)
{
    tm_sandbox *sb = new_sb();
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{a}}', {a = 'abcd'}, {max = 4})"),
                  "\"abcd\"");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{a}}!', {a = 'abcd'}, {max = 4})"),
                    "output would exceed the 4-byte limit");
    /* HTML escaping counts towards the cap. */
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{a}}', {a = '&'}, "
                            "{max = 4, mode = 'html'})"),
                    "output would exceed the 4-byte limit");
    /* Default cap: 64 KiB. */
    ASSERT_STR_EQ(run(sb, "return #tm.template.render('{{a}}', {a = ('x'):rep(65536)})"), "65536");
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{a}}.', {a = ('x'):rep(65536)})"),
                    "output would exceed the 65536-byte limit");
    /* A filtered value longer than the cap is refused before it is copied. */
    ASSERT_CONTAINS(run(sb, "return tm.template.render('{{a|upper}}', {a = ('x'):rep(100)}, "
                            "{max = 10})"),
                    "longer than the 10-byte limit");
    done(sb);
}

TEST(render_does_not_run_metamethods)
{
    tm_sandbox *sb = new_sb();
    const char *src =
        "local called = 0\n"
        "local mt = {__index = function(t, k) called = called + 1 return 'leak' end}\n"
        "local v = setmetatable({}, mt)\n"
        "local ok1, e1 = pcall(tm.template.render, '{{name}}', v)\n"
        "local nested = {debt = setmetatable({}, mt)}\n"
        "local ok2 = pcall(tm.template.render, '{{debt.balance}}', nested)\n"
        "local opts = setmetatable({}, {__index = function() called = called + 1 end})\n"
        "local s = tm.template.render('{{x}}', {x = 'ok'}, opts)\n"
        "return string.format('%s %s %d %s', tostring(ok1), tostring(ok2), called, s)";
    ASSERT_STR_EQ(run(sb, src), "\"false false 0 ok\"");
    done(sb);
}

/* ---- tm.template.placeholders --------------------------------------------- */

TEST(placeholders_list)
{
    tm_sandbox *sb = new_sb();
    const char *src =
        "local p = tm.template.placeholders('Hi {{ debtor.name | upper }}\\n"
        "{{bal|money}} {{debtor.name}} \\\\{{not_me}} {{bal}}')\n"
        "local out = {}\n"
        "for i, r in ipairs(p) do\n"
        "  out[i] = string.format('%s|%s|%d|%d', r.name, tostring(r.filter), r.line, r.column)\n"
        "end\n"
        "return table.concat(out, ' ')";
    ASSERT_STR_EQ(run(sb, src), "\"debtor.name|upper|1|4 bal|money|2|1\"");
    ASSERT_STR_EQ(run(sb, "return #tm.template.placeholders('no placeholders')"), "0");
    ASSERT_CONTAINS(run(sb, "\nlocal r = tm.template.placeholders('ok\\n  {{a..b}}') return r"),
                    "t.lua:2: bad argument #1 to 'tm.template.placeholders' (line 2, column ");
    ASSERT_CONTAINS(run(sb, "local r = tm.template.placeholders('{{}}') return r"),
                    "t.lua:1: bad argument #1 to 'tm.template.placeholders' (line 1, column 1: empty "
                    "placeholder name");
    ASSERT_CONTAINS(run(sb, "return tm.template.placeholders('a\\xff')"),
                    "bad argument #1 to 'tm.template.placeholders' (line 1, column 2: invalid UTF-8");
    done(sb);
}

/* ---- Hostile templates ---------------------------------------------------- */

TEST(hostile_millions_of_placeholders)
{
    tm_sandbox *sb = new_sb();
    ASSERT_CONTAINS(run(sb, "return tm.template.render(('{{a}}'):rep(2000000), {a = ''})"),
                    "bad argument #1 to 'tm.template.render' (at most 10000 placeholders expected, got "
                    "2000000)");
    ASSERT_CONTAINS(run(sb, "local t = {} for i = 1, 200000 do t[i] = '{{a' .. i .. '}}' end\n"
                            "local r = tm.template.placeholders(table.concat(t)) return r"),
                    "t.lua:2: bad argument #1 to 'tm.template.placeholders' (at most 10000 placeholders "
                    "expected, got 200000)");
    /* At the limit it works. */
    ASSERT_STR_EQ(run(sb, "return #tm.template.render(('{{a}}'):rep(10000), {a = 'xy'})"),
                  "20000");
    ASSERT_STR_EQ(run(sb, "local t = {} for i = 1, 10000 do t[i] = '{{a' .. i .. '}}' end\n"
                          "return #tm.template.placeholders(table.concat(t))"),
                  "10000");
    done(sb);
}

TEST(hostile_deep_names_and_huge_output)
{
    tm_sandbox *sb = new_sb();
    /* 500000 segments through a self-referencing table. */
    ASSERT_STR_EQ(run(sb, "local t = {} t.a = t t.v = 'end'\n"
                          "local name = ('a.'):rep(500000) .. 'v'\n"
                          "return tm.template.render('{{' .. name .. '}}', t)"),
                  "\"end\"");
    ASSERT_CONTAINS(run(sb, "local t = {} t.a = t\n"
                            "local name = ('a.'):rep(500000) .. 'zz'\n"
                            "return tm.template.render('{{' .. name .. '}}', t)"),
                    "unknown placeholder {{a.a.a.");
    /* 10000 copies of a 1 MiB value against the 16 MiB ceiling. */
    ASSERT_CONTAINS(run(sb, "return tm.template.render(('{{a}}'):rep(10000), "
                            "{a = ('x'):rep(1048576)}, {max = 16 * 1024 * 1024})"),
                    "output would exceed the 16777216-byte limit");
    done(sb);
}

TEST(hostile_memory_limit_ends_cleanly)
{
    tm_sandbox *sb = new_sb();
    tm_limits lim = {4u << 20, 0, 0, 0};
    tm_sandbox_set_limits(sb, &lim);
    /* Placeholder lists that outgrow the Lua memory cap while being built. */
    const char *src = "local t = {} for i = 1, 10000 do t[i] = '{{a' .. i .. '}}' end\n"
                      "local s = table.concat(t) t = nil\n"
                      "local keep = {}\n"
                      "for i = 1, 1000 do keep[i] = tm.template.placeholders(s) end";
    ASSERT_CONTAINS(run(sb, src), "memory limit exceeded");
    /* A render whose result string does not fit. */
    ASSERT_CONTAINS(run(sb, "local keep = {} for i = 1, 100 do keep[i] = "
                            "tm.template.render('{{a}}{{a}}{{a}}', {a = ('x'):rep(262144) .. i}, "
                            "{max = 1048576}) end"),
                    "memory limit exceeded");
    /* The sandbox is still usable. */
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{a}}', {a = 'fine'})"), "\"fine\"");
    done(sb);
}

TEST(errors_caught_by_pcall_do_not_leak)
{
    tm_sandbox *sb = new_sb();
    ASSERT_STR_EQ(run(sb, "local n = 0\n"
                          "for i = 1, 2000 do\n"
                          "  if not pcall(tm.template.render, ('{{a}}'):rep(50) .. '{{b|money}}', "
                          "{a = 'abc', b = 1.5}, {currency = 'USD'}) then n = n + 1 end\n"
                          "  if not pcall(tm.template.render, ('{{a|upper}}'):rep(50) .. '!', "
                          "{a = 'abc'}, {max = 150}) then n = n + 1 end\n"
                          "end\n"
                          "return n"),
                  "4000");
    done(sb);
}

/* Fault injection: the same work under memory caps from tiny to enough, so
 * the cap trips at every point of the bindings in turn (box, options, lookups
 * under the inner pcall, the result string, the placeholder list). Each run
 * must either succeed with the right answer or end on the memory limit, and
 * leave nothing behind (checked by LeakSanitizer in sanitizer builds). */
TEST(memory_limit_sweep)
{
    tm_sandbox *sb = new_sb();
    const char *src =
        "local v = {a = {b = {}}, items = {}}\n"
        "local long = ('k'):rep(48)\n" /* long strings are not interned: each lookup allocates */
        "for i = 1, 60 do v.a.b[long .. i] = ('v'):rep(i) v.items[i] = {n = i} end\n"
        "local t = {}\n"
        "for i = 1, 60 do\n"
        "  t[#t + 1] = '{{a.b.' .. long .. i .. '|upper}}{{items.' .. i .. '.n}}'\n"
        "end\n"
        "local s = table.concat(t, ',')\n"
        "local out = tm.template.render(s, v, {mode = 'html'})\n"
        "local p = tm.template.placeholders(s)\n"
        "return #out .. ' ' .. #p";
    int ok = 0, tripped = 0;
    for (size_t cap = 2048; cap <= 96 * 1024; cap += 512) {
        tm_limits lim = {cap, 0, 0, 0};
        tm_sandbox_set_limits(sb, &lim);
        const char *r = run(sb, src);
        if (strcmp(r, "\"2000 120\"") == 0)
            ok++;
        else if (strstr(r, "memory limit exceeded") != NULL)
            tripped++;
        else
            TM_FAIL_("cap %zu: unexpected result %s", cap, r);
    }
    ASSERT(ok > 0);
    ASSERT(tripped > 0);
    tm_sandbox_set_limits(sb, NULL);
    ASSERT_STR_EQ(run(sb, "return tm.template.render('{{a}}', {a = 'fine'})"), "\"fine\"");
    done(sb);
}

/* The cap reached around a lookup: the path segment is a long string (not
 * interned), so looking it up allocates a fresh 200 KB copy. Depending on the
 * padding the cap trips before the render, inside the lookup (Lua's emergency
 * collection may then still satisfy the allocation, but the trip is sticky)
 * or not at all; every case must end in the right text or the memory limit. */
TEST(memory_limit_around_lookup)
{
    tm_sandbox *sb = new_sb();
    tm_limits lim = {1u << 20, 0, 0, 0};
    tm_sandbox_set_limits(sb, &lim);
#define AROUND_SRC                                                                          \
    "local key = ('k'):rep(200000)\n"                                                    \
    "local v = {[key] = 'x'}\n"                                                          \
    "local tmpl = '{{' .. key .. '}}'\n"                                                 \
    "local pad = ('p'):rep(%d)\n"                                                        \
    "return tm.template.render(tmpl, v)"
    int tripped = 0, ok = 0;
    for (int pad = 300000; pad <= 600000; pad += 20000) {
        char s[512];
        snprintf(s, sizeof s, AROUND_SRC, pad);
        const char *r = run(sb, s);
        if (strcmp(r, "\"x\"") == 0)
            ok++;
        else if (strstr(r, "memory limit exceeded") != NULL)
            tripped++;
        else
            TM_FAIL_("pad %d: unexpected result %s", pad, r);
    }
    ASSERT(ok > 0);
    ASSERT(tripped > 0);
    done(sb);
}
