/*
 * tests/unit/test_tmpl.c: the template renderer: substitution, filters passed through, the
 * "\{{" escape, HTML escaping of values only, placeholder listing for lint, syntax errors with
 * line:column, the output cap and the output buffer.
 *
 * The lookup callback here is a fixed name -> value table; the "upper" filter upper-cases
 * into a scratch buffer (the way a real channel would format money or dates) and any other
 * filter is refused. Expected outputs and positions are written out by hand.
 */
#include "harness.h"

#include "tmpl.h"

#include <stdint.h>

/* ---- A table-driven lookup ------------------------------------------------------------------ */

struct kv {
    const char *name;
    const char *value;
    size_t value_len; /* 0: strlen(value) */
};

struct env {
    const struct kv *vars;
    size_t nvars;
    tm_tmpl_buf scratch;
    int calls;
    char filters[256]; /* every filter seen, each followed by ';' */
    tm_tmpl_ref last;
    int null_text;     /* return NULL text with len 1 */
};

static int lookup(void *ud, const tm_tmpl_ref *ref, const char **text, size_t *text_len,
                  struct tm_err *err)
{
    struct env *e = ud;
    e->calls++;
    e->last = *ref;
    if (ref->filter != NULL) {
        size_t l = strlen(e->filters);
        snprintf(e->filters + l, sizeof e->filters - l, "%.*s;", (int)ref->filter_len,
                 ref->filter);
    }
    if (e->null_text) {
        *text = NULL;
        *text_len = 1;
        return TM_OK;
    }
    for (size_t i = 0; i < e->nvars; i++) {
        const struct kv *v = &e->vars[i];
        if (strlen(v->name) != ref->name_len || memcmp(v->name, ref->name, ref->name_len) != 0)
            continue;
        size_t vl = v->value_len ? v->value_len : strlen(v->value);
        if (ref->filter == NULL) {
            *text = v->value;
            *text_len = vl;
            return TM_OK;
        }
        if (ref->filter_len == 5 && memcmp(ref->filter, "upper", 5) == 0) {
            e->scratch.len = 0;
            for (size_t k = 0; k < vl; k++) {
                char c = v->value[k];
                if (c >= 'a' && c <= 'z')
                    c = (char)(c - 'a' + 'A');
                int rc = tm_tmpl_buf_append(&e->scratch, &c, 1, err);
                if (rc != TM_OK)
                    return rc;
            }
            *text = e->scratch.data;
            *text_len = e->scratch.len;
            return TM_OK;
        }
        return tm_err_set(err, TM_EINVAL, "unknown filter '%.*s'", (int)ref->filter_len,
                          ref->filter);
    }
    return TM_ENOENT;
}

static const struct kv vars[] = {
    {"debtor.first_name", "Ana", 0},
    {"debtor.last_name", "Mu\xC3\xB1oz", 0},
    {"balance", "$1,234.56", 0},
    {"creditor", "<b>\"Tom\" & 'Jerry'</b>", 0},
    {"amp", "&", 0},
    {"empty", "", 0},
    {"items.0.amount", "12.00", 0},
    {"nul", "a\0b", 3},
    {"_x", "underscore", 0},
};

static struct env env_new(void)
{
    struct env e;
    memset(&e, 0, sizeof e);
    e.vars = vars;
    e.nvars = sizeof vars / sizeof vars[0];
    return e;
}

/* Renders `t` with the table and returns the status; *out keeps the output. */
static int render(const char *t, int mode, size_t max_out, struct env *e, tm_tmpl_buf *out,
                  struct tm_err *err)
{
    return tm_tmpl_render(t, strlen(t), mode, lookup, e, max_out, out, err);
}

/* Renders `t` expecting success and compares the whole output with `want`. */
static void expect_render(const char *t, int mode, const char *want)
{
    struct env e = env_new();
    tm_tmpl_buf out = TM_TMPL_BUF_INIT;
    struct tm_err err = {0};
    int rc = render(t, mode, TM_TMPL_MAX_OUT_DEFAULT, &e, &out, &err);
    if (rc != TM_OK)
        TM_FAIL_("render of \"%s\" failed: %d %s", t, rc, err.msg);
    ASSERT_STR_EQ(out.data, want);
    ASSERT_EQ(out.len, strlen(want));
    tm_tmpl_buf_free(&out);
    tm_tmpl_buf_free(&e.scratch);
}

/* Expects tm_tmpl_check (and render, without any callback) to refuse `t` with a message
 * holding `where` and `what`. */
static void expect_syntax(const char *t, size_t len, const char *where, const char *what)
{
    struct tm_err err = {0};
    ASSERT_EQ(tm_tmpl_check(t, len, &err), TM_EINVAL);
    ASSERT_EQ(err.code, TM_EINVAL);
    ASSERT_CONTAINS(err.msg, where);
    ASSERT_CONTAINS(err.msg, what);

    struct env e = env_new();
    tm_tmpl_buf out = TM_TMPL_BUF_INIT;
    struct tm_err err2 = {0};
    ASSERT_EQ(tm_tmpl_render(t, len, TM_TMPL_TEXT, lookup, &e, SIZE_MAX, &out, &err2),
              TM_EINVAL);
    ASSERT_STR_EQ(err2.msg, err.msg);
    ASSERT_EQ(e.calls, 0);
    ASSERT_EQ(out.len, 0);
    tm_tmpl_buf_free(&out);

    tm_tmpl_ref *refs = (tm_tmpl_ref *)&err; /* any non-NULL value: must be reset to NULL */
    size_t n = 99;
    ASSERT_EQ(tm_tmpl_list(t, len, 0, &refs, &n, NULL), TM_EINVAL);
    ASSERT(refs == NULL);
    ASSERT_EQ(n, 0);
}

#define SYNTAX(lit, where, what) expect_syntax((lit), sizeof(lit) - 1, (where), (what))

/* ---- Rendering ------------------------------------------------------------------------------ */

TEST(render_plain)
{
    expect_render("Hello {{debtor.first_name}} {{debtor.last_name}}, you owe {{balance}}.",
                  TM_TMPL_TEXT, "Hello Ana Mu\xC3\xB1oz, you owe $1,234.56.");
    expect_render("", TM_TMPL_TEXT, "");
    expect_render("no placeholders at all\n", TM_TMPL_TEXT, "no placeholders at all\n");
    expect_render("{{balance}}", TM_TMPL_TEXT, "$1,234.56");
    expect_render("{{empty}}", TM_TMPL_TEXT, "");
    expect_render("[{{items.0.amount}}][{{_x}}]", TM_TMPL_TEXT, "[12.00][underscore]");
    expect_render("{{amp}}{{amp}}", TM_TMPL_TEXT, "&&");
    /* Spaces and tabs around the name, the bar and the filter. */
    expect_render("{{ balance }}|{{\tdebtor.first_name\t}}|{{ debtor.first_name | upper }}",
                  TM_TMPL_TEXT, "$1,234.56|Ana|ANA");
    /* Multi-line template with placeholders on several lines. */
    expect_render("Dear {{debtor.first_name}},\r\n\r\nBalance: {{balance}}\r\n", TM_TMPL_TEXT,
                  "Dear Ana,\r\n\r\nBalance: $1,234.56\r\n");
}

TEST(render_value_with_nul_bytes)
{
    struct env e = env_new();
    tm_tmpl_buf out = TM_TMPL_BUF_INIT;
    ASSERT_OK(render("<{{nul}}>", TM_TMPL_TEXT, SIZE_MAX, &e, &out, NULL));
    ASSERT_EQ(out.len, 5);
    ASSERT(memcmp(out.data, "<a\0b>", 6) == 0);
    tm_tmpl_buf_free(&out);
}

TEST(render_filter_passed_through)
{
    struct env e = env_new();
    tm_tmpl_buf out = TM_TMPL_BUF_INIT;
    struct tm_err err = {0};
    ASSERT_OK(render("{{debtor.last_name|upper}} {{debtor.first_name | upper}} {{balance}}",
                     TM_TMPL_TEXT, SIZE_MAX, &e, &out, &err));
    ASSERT_STR_EQ(out.data, "MU\xC3\xB1OZ ANA $1,234.56"); /* ñ untouched by the ASCII filter */
    ASSERT_STR_EQ(e.filters, "upper;upper;");
    ASSERT_EQ(e.calls, 3);
    ASSERT(e.last.filter == NULL);
    ASSERT_EQ(e.last.filter_len, 0);

    /* The callback refuses a filter: its code and message come back with the position. */
    out.len = 0;
    ASSERT_EQ(render("ok\n  {{balance|money_fmt}}", TM_TMPL_TEXT, SIZE_MAX, &e, &out, &err),
              TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "line 2, column 3");
    ASSERT_CONTAINS(err.msg, "{{balance|money_fmt}}");
    ASSERT_CONTAINS(err.msg, "unknown filter 'money_fmt'");
    ASSERT_EQ(out.len, 0);
    ASSERT_STR_EQ(out.data, "");
    tm_tmpl_buf_free(&out);
    tm_tmpl_buf_free(&e.scratch);
}

TEST(render_ref_positions)
{
    struct env e = env_new();
    tm_tmpl_buf out = TM_TMPL_BUF_INIT;
    /* "é" is two bytes but one column. */
    const char *t = "line one\n\xC3\xA9t\xC3\xA9 {{ balance }}\n";
    ASSERT_OK(render(t, TM_TMPL_TEXT, SIZE_MAX, &e, &out, NULL));
    ASSERT_EQ(e.last.line, 2);
    ASSERT_EQ(e.last.column, 5);
    ASSERT_EQ(e.last.offset, 15);
    ASSERT_EQ(e.last.name_len, 7);
    ASSERT(memcmp(e.last.name, "balance", 7) == 0);
    tm_tmpl_buf_free(&out);
}

TEST(render_escape_literal_braces)
{
    expect_render("\\{{", TM_TMPL_TEXT, "{{");
    expect_render("\\{{balance}} is {{balance}}", TM_TMPL_TEXT, "{{balance}} is $1,234.56");
    expect_render("a\\{{b", TM_TMPL_TEXT, "a{{b");
    /* A backslash not before "{{" is kept, and so are lone braces and a stray "}}". */
    expect_render("C:\\path \\{ { } }} {x}", TM_TMPL_TEXT, "C:\\path \\{ { } }} {x}");
    expect_render("\\\\{{balance}}", TM_TMPL_TEXT, "\\{{balance}}");
    expect_render("\\{{{balance}}", TM_TMPL_TEXT, "{{{balance}}");
    /* In HTML mode the escape still gives literal text, unescaped. */
    expect_render("<i>\\{{</i>", TM_TMPL_HTML, "<i>{{</i>");
}

TEST(render_html_escapes_values_only)
{
    expect_render("<p class=\"x\">{{creditor}} &amp; co</p>", TM_TMPL_HTML,
                  "<p class=\"x\">&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt; "
                  "&amp; co</p>");
    expect_render("<p class=\"x\">{{creditor}} &amp; co</p>", TM_TMPL_TEXT,
                  "<p class=\"x\"><b>\"Tom\" & 'Jerry'</b> &amp; co</p>");
    expect_render("<a title='{{amp}}'>{{debtor.last_name}}</a>", TM_TMPL_HTML,
                  "<a title='&amp;'>Mu\xC3\xB1oz</a>");
    /* Filter output is escaped too. */
    expect_render("{{creditor|upper}}", TM_TMPL_HTML,
                  "&lt;B&gt;&quot;TOM&quot; &amp; &#39;JERRY&#39;&lt;/B&gt;");
}

TEST(render_unknown_placeholder)
{
    struct env e = env_new();
    tm_tmpl_buf out = TM_TMPL_BUF_INIT;
    struct tm_err err = {0};
    ASSERT_OK(tm_tmpl_buf_append(&out, "PRE:", 4, NULL));
    ASSERT_EQ(render("Hi {{debtor.first_name}},\n\tyour {{account.number}} is late", TM_TMPL_TEXT,
                     SIZE_MAX, &e, &out, &err),
              TM_ENOENT);
    ASSERT_EQ(err.code, TM_ENOENT);
    ASSERT_CONTAINS(err.msg, "line 2, column 7");
    ASSERT_CONTAINS(err.msg, "unknown placeholder {{account.number}}");
    /* Output is back to its content on entry. */
    ASSERT_EQ(out.len, 4);
    ASSERT_STR_EQ(out.data, "PRE:");
    /* Existing content is kept on success too. */
    ASSERT_OK(render("{{balance}}", TM_TMPL_TEXT, SIZE_MAX, &e, &out, &err));
    ASSERT_STR_EQ(out.data, "PRE:$1,234.56");
    tm_tmpl_buf_free(&out);
}

TEST(render_bad_arguments)
{
    struct env e = env_new();
    tm_tmpl_buf out = TM_TMPL_BUF_INIT;
    struct tm_err err = {0};
    ASSERT_EQ(tm_tmpl_render("x", 1, TM_TMPL_TEXT, lookup, &e, SIZE_MAX, NULL, &err), TM_EINVAL);
    ASSERT_EQ(tm_tmpl_render("x", 1, TM_TMPL_TEXT, NULL, &e, SIZE_MAX, &out, &err), TM_EINVAL);
    ASSERT_EQ(tm_tmpl_render("x", 1, 2, lookup, &e, SIZE_MAX, &out, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "mode");
    ASSERT_EQ(tm_tmpl_render("x", 1, -1, lookup, &e, SIZE_MAX, &out, &err), TM_EINVAL);
    ASSERT_EQ(tm_tmpl_render(NULL, 1, TM_TMPL_TEXT, lookup, &e, SIZE_MAX, &out, &err), TM_EINVAL);
    ASSERT_EQ(out.len, 0);
    /* NULL with len 0 is the empty template, and the buffer is still a C string after it. */
    ASSERT_OK(tm_tmpl_render(NULL, 0, TM_TMPL_TEXT, lookup, &e, SIZE_MAX, &out, &err));
    ASSERT(out.data != NULL);
    ASSERT_STR_EQ(out.data, "");
    /* A callback returning TM_OK with NULL text and a length is refused. */
    e.null_text = 1;
    ASSERT_EQ(render("a{{balance}}", TM_TMPL_TEXT, SIZE_MAX, &e, &out, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "NULL text");
    ASSERT_EQ(out.len, 0);
    tm_tmpl_buf_free(&out);
    /* len is honoured: bytes past it are not template. */
    e.null_text = 0;
    ASSERT_OK(tm_tmpl_render("ab{{", 2, TM_TMPL_TEXT, lookup, &e, SIZE_MAX, &out, &err));
    ASSERT_STR_EQ(out.data, "ab");
    tm_tmpl_buf_free(&out);
}

/* ---- The output cap ------------------------------------------------------------------------- */

TEST(output_cap)
{
    struct env e = env_new();
    tm_tmpl_buf out = TM_TMPL_BUF_INIT;
    struct tm_err err = {0};
    /* "Owe $1,234.56!" is 14 bytes: a cap of 14 passes, 13 fails in the value. */
    ASSERT_OK(render("Owe {{balance}}!", TM_TMPL_TEXT, 14, &e, &out, &err));
    ASSERT_STR_EQ(out.data, "Owe $1,234.56!");
    out.len = 0;
    ASSERT_EQ(render("Owe {{balance}}!", TM_TMPL_TEXT, 13, &e, &out, &err), TM_ELIMIT_MEM);
    ASSERT_CONTAINS(err.msg, "13-byte limit");
    ASSERT_CONTAINS(err.msg, "line 1, column 16");
    ASSERT_EQ(out.len, 0);
    ASSERT_EQ(render("Owe {{balance}}!", TM_TMPL_TEXT, 12, &e, &out, &err), TM_ELIMIT_MEM);
    ASSERT_CONTAINS(err.msg, "line 1, column 5");
    ASSERT_CONTAINS(err.msg, "placeholder value");
    ASSERT_EQ(render("abcdef", TM_TMPL_TEXT, 5, &e, &out, &err), TM_ELIMIT_MEM);
    ASSERT_CONTAINS(err.msg, "template text");
    ASSERT_OK(render("abcdef", TM_TMPL_TEXT, 6, &e, &out, &err));
    out.len = 0;
    /* The cap counts escaped bytes: "&" becomes the 5 bytes "&amp;". */
    ASSERT_OK(render("{{amp}}", TM_TMPL_HTML, 5, &e, &out, &err));
    ASSERT_STR_EQ(out.data, "&amp;");
    out.len = 0;
    ASSERT_EQ(render("{{amp}}", TM_TMPL_HTML, 4, &e, &out, &err), TM_ELIMIT_MEM);
    ASSERT_OK(render("{{amp}}", TM_TMPL_TEXT, 1, &e, &out, &err));
    out.len = 0;
    /* A cap of 0 admits only empty output. */
    ASSERT_OK(render("{{empty}}", TM_TMPL_TEXT, 0, &e, &out, &err));
    ASSERT_EQ(render("x", TM_TMPL_TEXT, 0, &e, &out, &err), TM_ELIMIT_MEM);
    /* The cap applies to what this call appends, not to what the buffer already held. */
    ASSERT_OK(tm_tmpl_buf_append(&out, "0123456789", 10, NULL));
    ASSERT_OK(render("abc", TM_TMPL_TEXT, 3, &e, &out, &err));
    ASSERT_STR_EQ(out.data, "0123456789abc");
    ASSERT_EQ(render("abcd", TM_TMPL_TEXT, 3, &e, &out, &err), TM_ELIMIT_MEM);
    ASSERT_STR_EQ(out.data, "0123456789abc");
    tm_tmpl_buf_free(&out);
}

TEST(output_cap_hostile_value)
{
    /* A 4 MiB value against a 1000-byte cap: refused before it is copied, so the output
     * buffer never grows anywhere near the value's size. */
    size_t big = (size_t)4 << 20;
    char *v = malloc(big + 1);
    ASSERT(v != NULL);
    memset(v, '<', big);
    v[big] = '\0';
    struct kv one[] = {{"blob", v, 0}};
    struct env e = env_new();
    e.vars = one;
    e.nvars = 1;
    tm_tmpl_buf out = TM_TMPL_BUF_INIT;
    struct tm_err err = {0};
    ASSERT_EQ(render("x{{blob}}", TM_TMPL_HTML, 1000, &e, &out, &err), TM_ELIMIT_MEM);
    ASSERT(out.cap <= 1024);
    ASSERT_EQ(out.len, 0);
    /* A template that repeats a placeholder until it crosses the cap fails cleanly too. */
    char t[4096];
    size_t o = 0;
    while (o + 8 < sizeof t) {
        memcpy(t + o, "{{blob}}", 8);
        o += 8;
    }
    t[o] = '\0';
    memset(v, 'a', big);
    v[1000] = '\0'; /* 1000-byte value, used ~500 times: 500 kB against a 64 kB cap */
    ASSERT_EQ(render(t, TM_TMPL_TEXT, 64 * 1024, &e, &out, &err), TM_ELIMIT_MEM);
    ASSERT(out.cap <= 128 * 1024);
    ASSERT_EQ(out.len, 0);
    tm_tmpl_buf_free(&out);
    free(v);
}

/* ---- Syntax errors -------------------------------------------------------------------------- */

TEST(syntax_unterminated)
{
    SYNTAX("Hi {{name", "line 1, column 4", "unterminated");
    SYNTAX("{{", "line 1, column 1", "unterminated");
    SYNTAX("{{ ", "line 1, column 1", "unterminated");
    SYNTAX("a\nbb {{x\n}}", "line 2, column 4", "unterminated");
    SYNTAX("{{x }", "line 1, column 1", "unterminated");
    SYNTAX("{{x}\n}", "line 1, column 1", "unterminated");
    SYNTAX("{{x|upper", "line 1, column 1", "unterminated");
    SYNTAX("{{x|", "line 1, column 1", "unterminated");
    SYNTAX("ok {{a}}\n\n  x {{b\r\n}}", "line 3, column 5", "unterminated");
}

TEST(syntax_empty_name_or_filter)
{
    SYNTAX("{{}}", "line 1, column 1", "empty placeholder name");
    SYNTAX("x\n  {{  }}", "line 2, column 3", "empty placeholder name");
    SYNTAX("{{|upper}}", "line 1, column 1", "empty placeholder name");
    SYNTAX("{{a|}}", "line 1, column 4", "empty filter name");
    SYNTAX("{{a | }}", "line 1, column 5", "empty filter name");
}

TEST(syntax_bad_characters)
{
    SYNTAX("{{Name}}", "line 1, column 3", "bad character 'N' in placeholder name");
    SYNTAX("{{nAme}}", "line 1, column 4", "bad character 'A'");
    SYNTAX("{{a-b}}", "line 1, column 4", "bad character '-'");
    SYNTAX("{{1a}}", "line 1, column 3", "bad character '1'");
    SYNTAX("{{.a}}", "line 1, column 3", "bad character '.'");
    SYNTAX("{{a..b}}", "line 1, column 4", "empty path segment");
    SYNTAX("{{a.}}", "line 1, column 4", "empty path segment");
    SYNTAX("{{a b}}", "line 1, column 5", "bad character 'b'");
    SYNTAX("{{a}b}}", "line 1, column 5", "bad character 'b'");
    SYNTAX("{{{a}}}", "line 1, column 3", "bad character '{'");
    SYNTAX("{{a|Upper}}", "line 1, column 5", "bad character 'U' in placeholder filter");
    SYNTAX("{{a|up.per}}", "line 1, column 7", "bad character '.' in placeholder after filter");
    SYNTAX("{{a|b|c}}", "line 1, column 6", "bad character '|'");
    SYNTAX("{{a\x01}}", "line 1, column 4", "bad character U+0001");
    SYNTAX("{{\xC3\xA9}}", "line 1, column 3", "bad character '\xC3\xA9'");
    /* Columns count characters: "héllo " is 6 characters, 7 bytes. */
    SYNTAX("h\xC3\xA9llo {{x y}}", "line 1, column 11", "bad character 'y'");
    SYNTAX("\xF0\x9F\x98\x80{{X}}", "line 1, column 4", "bad character 'X'");
    /* The first error wins, after valid placeholders. */
    SYNTAX("{{a}} {{b}}\n{{c}} {{D}} {{", "line 2, column 9", "bad character 'D'");
}

TEST(syntax_invalid_utf8)
{
    SYNTAX("ab\ncd\xFF", "line 2, column 3", "invalid UTF-8 (byte offset 5)");
    SYNTAX("\xC3\xA9\xC3", "line 1, column 2", "invalid UTF-8");
    SYNTAX("{{a}}\xED\xA0\x80", "line 1, column 6", "invalid UTF-8");
}

TEST(check_accepts)
{
    const char *ok[] = {
        "",
        "plain",
        "{{a}}",
        "{{_}}",
        "{{a.b.c}}",
        "{{items.0}}",
        "{{a_1.b_2|f_3}}",
        "{{ a | f }}",
        "\\{{",
        "}} { } \\",
        "{{a}}{{b}}",
        "x{{a}}\n{{b|c}}y\n",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct tm_err err = {0};
        if (tm_tmpl_check(ok[i], strlen(ok[i]), &err) != TM_OK)
            TM_FAIL_("check refused \"%s\": %s", ok[i], err.msg);
    }
    ASSERT_OK(tm_tmpl_check(NULL, 0, NULL));
    ASSERT_EQ(tm_tmpl_check(NULL, 3, NULL), TM_EINVAL);
}

/* ---- Listing -------------------------------------------------------------------------------- */

static int ref_is(const tm_tmpl_ref *r, const char *name, const char *filter, int line, int col)
{
    if (r->name_len != strlen(name) || memcmp(r->name, name, r->name_len) != 0)
        return 0;
    if (filter == NULL)
        return r->filter == NULL && r->filter_len == 0 && r->line == line && r->column == col;
    return r->filter != NULL && r->filter_len == strlen(filter) &&
           memcmp(r->filter, filter, r->filter_len) == 0 && r->line == line && r->column == col;
}

TEST(list_placeholders)
{
    const char *t = "Dear {{debtor.name}},\n"
                    "You owe {{balance|money}} by {{ due_date | date }}.\n"
                    "\\{{not.a.placeholder}} {{debtor.name|upper}}";
    tm_tmpl_ref *refs = NULL;
    size_t n = 0;
    ASSERT_OK(tm_tmpl_list(t, strlen(t), 0, &refs, &n, NULL));
    ASSERT_EQ(n, 4);
    ASSERT(ref_is(&refs[0], "debtor.name", NULL, 1, 6));
    ASSERT(ref_is(&refs[1], "balance", "money", 2, 9));
    ASSERT(ref_is(&refs[2], "due_date", "date", 2, 30));
    ASSERT(ref_is(&refs[3], "debtor.name", "upper", 3, 24));
    ASSERT_EQ(refs[0].offset, 5);
    tm_tmpl_list_free(refs);

    ASSERT_OK(tm_tmpl_list(t, strlen(t), TM_TMPL_LIST_UNIQUE, &refs, &n, NULL));
    ASSERT_EQ(n, 3);
    ASSERT(ref_is(&refs[0], "debtor.name", NULL, 1, 6));
    ASSERT(ref_is(&refs[1], "balance", "money", 2, 9));
    ASSERT(ref_is(&refs[2], "due_date", "date", 2, 30));

    /* Lint: the names a channel does not know. */
    static const char *known[] = {"debtor.name", "balance"};
    int unknown = 0;
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (size_t k = 0; k < 2; k++)
            found |= strlen(known[k]) == refs[i].name_len &&
                     memcmp(known[k], refs[i].name, refs[i].name_len) == 0;
        if (!found) {
            unknown++;
            ASSERT(ref_is(&refs[i], "due_date", "date", 2, 30));
        }
    }
    ASSERT_EQ(unknown, 1);
    tm_tmpl_list_free(refs);
}

TEST(list_many_and_empty)
{
    tm_tmpl_ref *refs = (tm_tmpl_ref *)&refs;
    size_t n = 7;
    ASSERT_OK(tm_tmpl_list("no placeholders", 15, 0, &refs, &n, NULL));
    ASSERT_EQ(n, 0);
    ASSERT(refs == NULL);
    tm_tmpl_list_free(refs);
    ASSERT_OK(tm_tmpl_list(NULL, 0, 0, &refs, &n, NULL));
    ASSERT_EQ(n, 0);

    /* 300 placeholders: the array grows several times; 3 distinct names. */
    char t[300 * 6 + 1];
    size_t o = 0;
    for (int i = 0; i < 300; i++) {
        memcpy(t + o, i % 3 == 0 ? "{{a}} " : i % 3 == 1 ? "{{b}} " : "{{c}} ", 6);
        o += 6;
    }
    t[o] = '\0';
    ASSERT_OK(tm_tmpl_list(t, o, 0, &refs, &n, NULL));
    ASSERT_EQ(n, 300);
    ASSERT_EQ(refs[299].column, 299 * 6 + 1);
    ASSERT(ref_is(&refs[299], "c", NULL, 1, 299 * 6 + 1));
    tm_tmpl_list_free(refs);
    ASSERT_OK(tm_tmpl_list(t, o, TM_TMPL_LIST_UNIQUE, &refs, &n, NULL));
    ASSERT_EQ(n, 3);
    tm_tmpl_list_free(refs);
    tm_tmpl_list_free(NULL);

    struct tm_err err = {0};
    ASSERT_EQ(tm_tmpl_list("x", 1, 0, NULL, &n, &err), TM_EINVAL);
    ASSERT_EQ(tm_tmpl_list("x", 1, 0, &refs, NULL, &err), TM_EINVAL);
    ASSERT_EQ(tm_tmpl_list("x", 1, 2u, &refs, &n, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "flags");
}

/* ---- The buffer ----------------------------------------------------------------------------- */

TEST(buffer_append_and_free)
{
    tm_tmpl_buf b = TM_TMPL_BUF_INIT;
    ASSERT_OK(tm_tmpl_buf_append(&b, NULL, 0, NULL));
    ASSERT(b.data != NULL);
    ASSERT_STR_EQ(b.data, "");
    for (int i = 0; i < 10000; i++)
        ASSERT_OK(tm_tmpl_buf_append(&b, "0123456789", 10, NULL));
    ASSERT_EQ(b.len, 100000);
    ASSERT(b.cap > b.len);
    ASSERT_EQ(b.data[b.len], '\0');
    ASSERT(memcmp(b.data + 99990, "0123456789", 10) == 0);
    struct tm_err err = {0};
    ASSERT_EQ(tm_tmpl_buf_append(&b, NULL, 1, &err), TM_EINVAL);
    ASSERT_EQ(tm_tmpl_buf_append(NULL, "x", 1, &err), TM_EINVAL);
    /* A size that would overflow is refused without touching the buffer. */
    ASSERT_EQ(tm_tmpl_buf_append(&b, "x", SIZE_MAX - 5, &err), TM_ENOMEM);
    ASSERT_EQ(b.len, 100000);
    tm_tmpl_buf_free(&b);
    ASSERT(b.data == NULL);
    ASSERT_EQ(b.len, 0);
    ASSERT_EQ(b.cap, 0);
    tm_tmpl_buf_free(&b);
    tm_tmpl_buf_free(NULL);
}

/* ---- Counting and value formats ------------------------------------------------------------ */

TEST(count_placeholders_as_the_scanner_finds_them)
{
    ASSERT_EQ(tm_tmpl_count(NULL, 0), 0);
    ASSERT_EQ(tm_tmpl_count("{{", 2), 1);
    ASSERT_EQ(tm_tmpl_count("\\{{a}} {{b}}", 12), 1);
    ASSERT_EQ(tm_tmpl_count("{{{{", 4), 2);
    ASSERT_EQ(tm_tmpl_count("{ {a}", 5), 0);
    /* Agrees with tm_tmpl_list on well-formed templates. */
    static const char *const ok[] = {"Hi {{a}}, {{ b | upper }} \\{{c}} {{d.e}}{{f}}", "", "x",
                                     "{{a}}\n{{a}}\n\\{{"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        tm_tmpl_ref *refs = NULL;
        size_t n = 0;
        ASSERT_OK(tm_tmpl_list(ok[i], strlen(ok[i]), 0, &refs, &n, NULL));
        ASSERT_EQ(tm_tmpl_count(ok[i], strlen(ok[i])), n);
        tm_tmpl_list_free(refs);
    }
}

TEST(format_long_date_and_short_time)
{
    char b[TM_TMPL_VALUE_MAX];
    struct tm_err err = {0};
    ASSERT_OK(tm_tmpl_format_date((tm_date){2026, 11, 23}, TM_TMPL_EN, b, sizeof b, NULL));
    ASSERT_STR_EQ(b, "November 23, 2026");
    ASSERT_OK(tm_tmpl_format_date((tm_date){2026, 1, 5}, TM_TMPL_ES, b, sizeof b, NULL));
    ASSERT_STR_EQ(b, "5 de enero de 2026");
    ASSERT_OK(tm_tmpl_format_date((tm_date){2028, 2, 29}, TM_TMPL_ES, b, sizeof b, NULL));
    ASSERT_STR_EQ(b, "29 de febrero de 2028");
    ASSERT_EQ(tm_tmpl_format_date((tm_date){2026, 2, 29}, TM_TMPL_EN, b, sizeof b, &err), TM_EINVAL);
    ASSERT_STR_EQ(b, "");
    ASSERT_EQ(tm_tmpl_format_date((tm_date){2026, 1, 1}, 7, b, sizeof b, NULL), TM_EINVAL);
    ASSERT_EQ(tm_tmpl_format_date((tm_date){2026, 11, 23}, TM_TMPL_EN, b, 17, NULL), TM_EINVAL);
    ASSERT_STR_EQ(b, "");
    ASSERT_OK(tm_tmpl_format_date((tm_date){2026, 11, 23}, TM_TMPL_EN, b, 18, NULL));
    static const struct {
        int h, m;
        const char *en, *es;
    } times[] = {{0, 0, "12:00 AM", "0:00"},   {0, 5, "12:05 AM", "0:05"},
                 {11, 59, "11:59 AM", "11:59"}, {12, 0, "12:00 PM", "12:00"},
                 {15, 5, "3:05 PM", "15:05"},  {23, 59, "11:59 PM", "23:59"}};
    for (size_t i = 0; i < sizeof times / sizeof *times; i++) {
        ASSERT_OK(tm_tmpl_format_time(times[i].h, times[i].m, TM_TMPL_EN, b, sizeof b, NULL));
        ASSERT_STR_EQ(b, times[i].en);
        ASSERT_OK(tm_tmpl_format_time(times[i].h, times[i].m, TM_TMPL_ES, b, sizeof b, NULL));
        ASSERT_STR_EQ(b, times[i].es);
    }
    ASSERT_EQ(tm_tmpl_format_time(24, 0, TM_TMPL_EN, b, sizeof b, NULL), TM_EINVAL);
    ASSERT_EQ(tm_tmpl_format_time(10, 60, TM_TMPL_ES, b, sizeof b, NULL), TM_EINVAL);
    ASSERT_EQ(tm_tmpl_format_time(10, 0, -1, b, sizeof b, NULL), TM_EINVAL);
    ASSERT_EQ(tm_tmpl_format_time(10, 0, TM_TMPL_EN, NULL, 0, NULL), TM_EINVAL);
}

TEST(ascii_case_leaves_other_bytes)
{
    char s[] = "Ab z\xc3\xa9Z9";
    tm_tmpl_ascii_case(s, strlen(s), 1);
    ASSERT_STR_EQ(s, "AB Z\xc3\xa9Z9");
    tm_tmpl_ascii_case(s, strlen(s), 0);
    ASSERT_STR_EQ(s, "ab z\xc3\xa9z9");
}
