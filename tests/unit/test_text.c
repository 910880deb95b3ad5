/*
 * tests/unit/test_text.c: the small text helpers the script checks use
 * (core/text.h): "did you mean" suggests a near name and only a near one,
 * and a field is found at the line where it is assigned, not where its name
 * is only mentioned (a comparison, a longer name, a comment, a string).
 */
#include "harness.h"

#include <string.h>

#include "text.h"

static const char *const applies_keys[] = {"state", "states", "city", "cities", "collectors",
                                           "creditor", "creditors", NULL};
static const char *const reg_keys[] = {"id", "name", "applies", "rules", "interpretation",
                                       "notes", "sources", "version", "effective", NULL};

TEST(nearest_suggests_slips)
{
    ASSERT_EQ(tm_text_nearest("appliez", reg_keys), 2);        /* a substitution */
    ASSERT_EQ(tm_text_nearest("aplies", reg_keys), 2);         /* a deletion */
    ASSERT_EQ(tm_text_nearest("rulles", reg_keys), 3);         /* an insertion */
    ASSERT_EQ(tm_text_nearest("ruels", reg_keys), 3);          /* a swap */
    ASSERT_EQ(tm_text_nearest("stat", applies_keys), 0);
    ASSERT_EQ(tm_text_nearest("creditros", applies_keys), 6);
    ASSERT_EQ(tm_text_nearest("interpretatoin", reg_keys), 4);
}

TEST(nearest_refuses_far_words)
{
    ASSERT_EQ(tm_text_nearest("zzz", reg_keys), -1);
    ASSERT_EQ(tm_text_nearest("x", applies_keys), -1);
    /* two edits in a short word is another word, not a slip */
    ASSERT_EQ(tm_text_nearest("ux", reg_keys), -1);
    ASSERT_EQ(tm_text_nearest("state", applies_keys), -1); /* a name itself */
    ASSERT_EQ(tm_text_nearest(NULL, applies_keys), -1);
    char long_word[80];
    memset(long_word, 'a', sizeof long_word - 1);
    long_word[sizeof long_word - 1] = '\0';
    ASSERT_EQ(tm_text_nearest(long_word, applies_keys), -1);
}

TEST(key_line_finds_assignments)
{
    const char *src = "return regulation {\n"            /* 1 */
                      "  id = \"US-XX\",\n"               /* 2 */
                      "  -- appliez = { } is a comment\n" /* 3 */
                      "  note = \"appliez = x\",\n"       /* 4 */
                      "  if a.appliez == 1 then end\n"    /* 5 */
                      "  my_appliez = 1,\n"               /* 6 */
                      "  appliez = { state = \"MA\" },\n" /* 7 */
                      "  [\"cap\"] = 2, ['days'] = 3,\n"  /* 8 */
                      "}\n";
    size_t n = strlen(src);
    ASSERT_EQ(tm_text_key_line(src, n, 1, "appliez"), 7);
    ASSERT_EQ(tm_text_key_line(src, n, 1, "state"), 7);
    ASSERT_EQ(tm_text_key_line(src, n, 1, "cap"), 8);
    ASSERT_EQ(tm_text_key_line(src, n, 1, "days"), 8);
    ASSERT_EQ(tm_text_key_line(src, n, 1, "id"), 2);
    ASSERT_EQ(tm_text_key_line(src, n, 3, "id"), 0);  /* only from line 3 on */
    ASSERT_EQ(tm_text_key_line(src, n, 1, "nothing"), 0);
    ASSERT_EQ(tm_text_key_line(src, n, 1, ""), 0);
    ASSERT_EQ(tm_text_key_line(NULL, 0, 1, "id"), 0);
    /* no final newline, and a text cut short after the key */
    ASSERT_EQ(tm_text_key_line("x = 1", 5, 1, "x"), 1);
    ASSERT_EQ(tm_text_key_line("x", 1, 1, "x"), 0);
}

static const char *near(const char *w, const char *const *c) { return tm_text_nearest_name(w, strlen(w), c); }

TEST(nearest_name_within_two_edits)
{
    static const char *const fields[] = {"state", "city", "timezones", "flags", "consent", NULL};
    ASSERT_STR_EQ(near("timezone", fields), "timezones");  /* a deletion */
    ASSERT_STR_EQ(near("timezonez", fields), "timezones"); /* a change */
    ASSERT_STR_EQ(near("cosnent", fields), "consent");     /* two neighbours swapped: one edit */
    ASSERT_STR_EQ(near("Flags", fields), "flags");         /* case is not an edit */
    ASSERT_STR_EQ(near("stat", fields), "state");
    ASSERT(near("zzzzzz", fields) == NULL);                /* nothing near */
    ASSERT_STR_EQ(near("cty", fields), "city");            /* 1 edit of 3 letters */
    static const char *const ab[] = {"ab", NULL};
    ASSERT(near("ax", ab) == NULL);                        /* 1 edit of 2 letters: too short to guess */
    ASSERT(near("tz", fields) == NULL);
    ASSERT(near("", fields) == NULL);
    /* Two edits at most. */
    ASSERT_STR_EQ(near("timezon", fields), "timezones");
    ASSERT(near("timezo", fields) == NULL);
    /* The first of equally near candidates. */
    static const char *const two[] = {"from", "form", NULL};
    ASSERT_STR_EQ(near("frm", two), "from");
    /* A name too long to compare gets no suggestion, and no overflow. */
    char longw[200];
    memset(longw, 'a', sizeof longw - 1);
    longw[sizeof longw - 1] = '\0';
    ASSERT(near(longw, fields) == NULL);
}
