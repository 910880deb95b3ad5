/*
 * tests/unit/test_text.c: the nearest known name for a "did you mean"
 * (core/text.h, tm_text_nearest).
 */
#include "harness.h"

#include "text.h"

static const char *near(const char *w, const char *const *c) { return tm_text_nearest(w, strlen(w), c); }

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
