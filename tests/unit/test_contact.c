/*
 * tests/unit/test_contact.c: a message's recipient from a consumer's contact
 * points (by channel, place, the time a change holds from, and bad marks),
 * the postal block, the channels a journey may use, and which replies revoke
 * consent.
 */
#include <string.h>

#include "harness.h"

#include "contact.h"

static const char PII[] =
    "{\"first_name\":\"Zenobia\",\"last_name\":\"Quillfeather\",\"address1\":\"12 Juniper Ln\","
    "\"city\":\"Boston\",\"zip\":\"02110\",\"phone\":\"+16175550101\",\"email\":\"z@example.com\","
    "\"address2\":\"Apt 4\",\"work_email\":\"zq@employer.example\","
    "\"phone_prev\":\"+16175550100\",\"phone_since\":\"2000\"}";

static tm_contact_points points(void)
{
    tm_contact_points p;
    struct tm_err e = {0};
    int rc = tm_contact_points_read(PII, strlen(PII), "MA", &p, &e);
    if (rc != TM_OK)
        memset(&p, 0, sizeof p);
    return p;
}

TEST(recipient_by_channel)
{
    tm_contact_points p = points();
    char to[600];
    const char *why;
    ASSERT_EQ(tm_contact_resolve(&p, "sms", NULL, 3000, NULL, to, sizeof to, &why), 1);
    ASSERT_STR_EQ(to, "+16175550101");
    ASSERT_EQ(tm_contact_resolve(&p, "call", "personal", 3000, NULL, to, sizeof to, &why), 1);
    ASSERT_STR_EQ(to, "+16175550101");
    ASSERT_EQ(tm_contact_resolve(&p, "email", NULL, 3000, NULL, to, sizeof to, &why), 1);
    ASSERT_STR_EQ(to, "z@example.com");
    ASSERT_EQ(tm_contact_resolve(&p, "letter", NULL, 3000, NULL, to, sizeof to, &why), 1);
    ASSERT_STR_EQ(to, "Zenobia Quillfeather\n12 Juniper Ln\nApt 4\nBoston, MA 02110");
    ASSERT(why == NULL);
}

TEST(recipient_at_work_only_from_a_work_point)
{
    tm_contact_points p = points();
    char to[600];
    const char *why;
    ASSERT_EQ(tm_contact_resolve(&p, "email", "work", 3000, NULL, to, sizeof to, &why), 1);
    ASSERT_STR_EQ(to, "zq@employer.example");
    ASSERT_EQ(tm_contact_resolve(&p, "call", "work", 3000, NULL, to, sizeof to, &why), 0);
    ASSERT_STR_EQ(to, "");
    ASSERT_STR_EQ(why, "no work phone on file");
    ASSERT_EQ(tm_contact_resolve(&p, "letter", "work", 3000, NULL, to, sizeof to, &why), 0);
}

TEST(recipient_change_holds_from_its_time)
{
    tm_contact_points p = points();
    char to[600];
    const char *why;
    ASSERT_EQ(tm_contact_resolve(&p, "sms", NULL, 1999, NULL, to, sizeof to, &why), 1);
    ASSERT_STR_EQ(to, "+16175550100");
    ASSERT_EQ(tm_contact_resolve(&p, "sms", NULL, 2000, NULL, to, sizeof to, &why), 1);
    ASSERT_STR_EQ(to, "+16175550101");
}

TEST(recipient_bad_point_not_used)
{
    tm_contact_points p = points();
    char to[600];
    const char *why;
    tm_contact_use bad = {.phone_bad = 1, .email_bad = 1};
    ASSERT_EQ(tm_contact_resolve(&p, "sms", NULL, 3000, &bad, to, sizeof to, &why), 0);
    ASSERT_CONTAINS(why, "failed");
    ASSERT_EQ(tm_contact_resolve(&p, "email", NULL, 3000, &bad, to, sizeof to, &why), 0);
    ASSERT_CONTAINS(why, "bounced");
    ASSERT_STR_EQ(to, "");
    /* the letter does not depend on them */
    ASSERT_EQ(tm_contact_resolve(&p, "letter", NULL, 3000, &bad, to, sizeof to, &why), 1);
}

TEST(recipient_none_on_file)
{
    tm_contact_points p;
    struct tm_err e = {0};
    ASSERT_OK(tm_contact_points_read("{\"first_name\":\"A\",\"address1\":\"1 Main\"}", 38, "MA", &p, &e));
    char to[600];
    const char *why;
    ASSERT_EQ(tm_contact_resolve(&p, "sms", NULL, 1, NULL, to, sizeof to, &why), 0);
    ASSERT_STR_EQ(why, "no phone on file");
    ASSERT_EQ(tm_contact_resolve(&p, "email", NULL, 1, NULL, to, sizeof to, &why), 0);
    /* an address without city or ZIP reaches nobody */
    ASSERT_EQ(tm_contact_resolve(&p, "letter", NULL, 1, NULL, to, sizeof to, &why), 0);
    ASSERT_STR_EQ(why, "no complete postal address on file");
    ASSERT_EQ(tm_contact_resolve(&p, "push", NULL, 1, NULL, to, sizeof to, &why), 0);
    ASSERT_EQ(tm_contact_points_read(NULL, 0, "MA", &p, &e), TM_OK);
    ASSERT_EQ(tm_contact_points_read("[1]", 3, "MA", &p, &e), TM_EINVAL);
}

TEST(usable_channels)
{
    char out[64];
    tm_contact_reach r = {.consent = "email", .optout = "", .has_phone = 1, .has_email = 1, .has_address = 1};
    tm_contact_usable(&r, out, sizeof out);
    ASSERT_STR_EQ(out, "call,email,letter"); /* no SMS without consent */
    r.consent = "sms,autodial";
    tm_contact_usable(&r, out, sizeof out);
    ASSERT_STR_EQ(out, "call,sms,email,letter");
    r.optout = "sms,letter";
    tm_contact_usable(&r, out, sizeof out);
    ASSERT_STR_EQ(out, "call,email");
    r.phone_bad = 1;
    r.email_bad = 1;
    tm_contact_usable(&r, out, sizeof out);
    ASSERT_STR_EQ(out, "");
    tm_contact_reach none = {0};
    tm_contact_usable(&none, out, sizeof out);
    ASSERT_STR_EQ(out, "");
}

TEST(stop_replies)
{
    static const char *const stop[] = {"STOP", "stop", " Stop. ", "STOP ALL", "Unsubscribe",
                                       "stop texting me", "Please stop calling me!", "cancel", "END",
                                       "quit", "opt out", "I want to opt out", "Don't text me again",
                                       "remove me from your list", "REVOKE", NULL};
    static const char *const go_on[] = {"Who is this?", "I will pay friday", "unstoppable", "stopwatch",
                                        "", "can you send the bill again", "the end of the month", NULL};
    for (int i = 0; stop[i]; i++)
        if (!tm_contact_is_stop(stop[i]))
            TM_FAIL_("'%s' should revoke consent", stop[i]);
    for (int i = 0; go_on[i]; i++)
        if (tm_contact_is_stop(go_on[i]))
            TM_FAIL_("'%s' should not revoke consent", go_on[i]);
    ASSERT_EQ(tm_contact_is_stop(NULL), 0);
}

TEST(personal_data_masked_for_display)
{
    char out[64];
    tm_contact_mask("+16175550174", out, sizeof out);
    ASSERT_STR_EQ(out, "***-***-0174");
    tm_contact_mask("(617) 555-0174", out, sizeof out);
    ASSERT_STR_EQ(out, "***-***-0174");
    tm_contact_mask("c1@example.com", out, sizeof out);
    ASSERT_STR_EQ(out, "c***@example.com");
    tm_contact_mask("Ann", out, sizeof out);
    ASSERT_STR_EQ(out, "A***");
    tm_contact_mask("01101", out, sizeof out);
    ASSERT_STR_EQ(out, "0***");
    tm_contact_mask("", out, sizeof out);
    ASSERT_STR_EQ(out, "");
    tm_contact_points p;
    const char *json = "{\"first_name\":\"Ann\",\"last_name\":\"Lee\",\"phone\":\"+16175550174\","
                       "\"email\":\"c1@example.com\",\"address1\":\"1 Main St\",\"zip\":\"01101\"}";
    ASSERT_OK(tm_contact_points_read(json, strlen(json), "TX", &p, NULL));
    tm_contact_points_mask(&p);
    ASSERT_STR_EQ(p.first_name, "A***");
    ASSERT_STR_EQ(p.last_name, "L***");
    ASSERT_STR_EQ(p.phone, "***-***-0174");
    ASSERT_STR_EQ(p.email, "c***@example.com");
    ASSERT_STR_EQ(p.address1, "1***");
    ASSERT_STR_EQ(p.work_phone, "");
}
