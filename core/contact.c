/*
 * core/contact.c: a consumer's contact points, a message's recipient and the
 * channels a journey may use (contact.h). The points come from the decrypted
 * personal data and are copied into fixed buffers the caller wipes; nothing
 * here keeps or logs one.
 */
#include "contact.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static void copy_field(json_t *o, const char *name, char *out, size_t cap)
{
    const char *v = json_string_value(json_object_get(o, name));
    snprintf(out, cap, "%s", v ? v : "");
}

static int64_t since_field(json_t *o, const char *name)
{
    const char *v = json_string_value(json_object_get(o, name));
    return v ? strtoll(v, NULL, 10) : 0;
}

int tm_contact_points_read(const char *json, size_t len, const char *state, tm_contact_points *p,
                           struct tm_err *err)
{
    memset(p, 0, sizeof *p);
    snprintf(p->state, sizeof p->state, "%s", state ? state : "");
    if (!json || !len)
        return TM_OK;
    json_t *o = json_loadb(json, len, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return tm_err_set(err, TM_EINVAL, "the personal data is not a JSON object");
    }
    copy_field(o, "first_name", p->first_name, sizeof p->first_name);
    copy_field(o, "last_name", p->last_name, sizeof p->last_name);
    copy_field(o, "phone", p->phone, sizeof p->phone);
    copy_field(o, "work_phone", p->work_phone, sizeof p->work_phone);
    copy_field(o, "phone_prev", p->phone_prev, sizeof p->phone_prev);
    copy_field(o, "email", p->email, sizeof p->email);
    copy_field(o, "work_email", p->work_email, sizeof p->work_email);
    copy_field(o, "email_prev", p->email_prev, sizeof p->email_prev);
    copy_field(o, "address1", p->address1, sizeof p->address1);
    copy_field(o, "address2", p->address2, sizeof p->address2);
    copy_field(o, "city", p->city, sizeof p->city);
    copy_field(o, "zip", p->zip, sizeof p->zip);
    copy_field(o, "address_prev", p->address_prev, sizeof p->address_prev);
    copy_field(o, "device_token", p->device_token, sizeof p->device_token);
    if (json_string_value(json_object_get(o, "address_state")))
        copy_field(o, "address_state", p->state, sizeof p->state);
    p->phone_since = since_field(o, "phone_since");
    p->email_since = since_field(o, "email_since");
    p->address_since = since_field(o, "address_since");
    /* jansson keeps its own copies of the strings: they go with the object. */
    json_decref(o);
    return TM_OK;
}

void tm_contact_points_wipe(tm_contact_points *p)
{
    OPENSSL_cleanse(p, sizeof *p);
}

void tm_contact_postal_block(const tm_contact_points *p, char *out, size_t cap)
{
    out[0] = '\0';
    if (!p->address1[0] || !p->city[0] || !p->state[0] || !p->zip[0])
        return;
    char name[260];
    snprintf(name, sizeof name, "%s%s%s", p->first_name, p->first_name[0] && p->last_name[0] ? " " : "",
             p->last_name);
    snprintf(out, cap, "%s%s%s\n%s%s%s, %s %s", name, name[0] ? "\n" : "", p->address1, p->address2,
             p->address2[0] ? "\n" : "", p->city, p->state, p->zip);
    OPENSSL_cleanse(name, sizeof name);
}

int tm_contact_resolve(const tm_contact_points *p, const char *channel, const char *place,
                       int64_t at, const tm_contact_use *use, char *to, size_t cap,
                       const char **why)
{
    static const tm_contact_use none = {0};
    if (!use)
        use = &none;
    int work = place && strcmp(place, "work") == 0;
    to[0] = '\0';
    *why = NULL;
    const char *v = NULL;
    if (strcmp(channel, "call") == 0 || strcmp(channel, "sms") == 0 ||
        strcmp(channel, "whatsapp") == 0) {
        if (work) {
            v = p->work_phone;
            *why = "no work phone on file";
        } else if (p->phone_since && at < p->phone_since && p->phone_prev[0]) {
            v = p->phone_prev; /* the change holds from its time on */
        } else {
            v = p->phone;
            *why = use->phone_bad ? "the phone failed (not used until it changes)" : "no phone on file";
            if (use->phone_bad)
                v = NULL;
        }
    } else if (strcmp(channel, "email") == 0) {
        if (work) {
            v = p->work_email;
            *why = "no work email on file";
        } else if (p->email_since && at < p->email_since && p->email_prev[0]) {
            v = p->email_prev;
        } else {
            v = p->email;
            *why = use->email_bad ? "the email bounced (not used until it changes)" : "no email on file";
            if (use->email_bad)
                v = NULL;
        }
    } else if (strcmp(channel, "letter") == 0 || strcmp(channel, "visit") == 0) {
        *why = work ? "no work address on file" : "no complete postal address on file";
        if (work)
            v = NULL;
        else if (p->address_since && at < p->address_since && p->address_prev[0])
            v = p->address_prev;
        else {
            tm_contact_postal_block(p, to, cap);
            if (to[0]) {
                *why = NULL;
                return 1;
            }
        }
    } else if (strcmp(channel, "push") == 0) {
        v = work ? NULL : p->device_token;
        *why = "no device token on file";
    } else {
        *why = "unknown channel";
    }
    if (!v || !v[0]) {
        to[0] = '\0';
        return 0;
    }
    snprintf(to, cap, "%s", v);
    *why = NULL;
    return 1;
}

/* Whether `name` is one of the comma-separated `csv`. */
static int in_csv(const char *csv, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = csv ? csv : ""; *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len + (c ? 1 : 0);
    }
    return 0;
}

void tm_contact_usable(const tm_contact_reach *r, char *out, size_t cap)
{
    int phone = r->has_phone && !r->phone_bad, email = r->has_email && !r->email_bad;
    const struct {
        const char *name;
        int ok;
    } ch[] = {
        {"call", phone},
        {"sms", phone && in_csv(r->consent, "sms")},
        {"whatsapp", phone && in_csv(r->consent, "whatsapp")},
        {"email", email},
        {"letter", r->has_address},
    };
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof ch / sizeof *ch; i++) {
        if (!ch[i].ok || in_csv(r->optout, ch[i].name))
            continue;
        int n = snprintf(out + off, cap - off, "%s%s", off ? "," : "", ch[i].name);
        if (n < 0 || (size_t)n >= cap - off)
            break;
        off += (size_t)n;
    }
}

int tm_contact_is_stop(const char *text)
{
    if (!text)
        return 0;
    /* The words, lower case, each run of anything else one space. */
    char w[200];
    size_t n = 0;
    for (const char *p = text; *p && n < sizeof w - 1; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            w[n++] = (char)c;
        else if (c >= 'A' && c <= 'Z')
            w[n++] = (char)(c - 'A' + 'a');
        else if (c == '\'') /* "don't" is one word */
            continue;
        else if (n && w[n - 1] != ' ')
            w[n++] = ' ';
    }
    while (n && w[n - 1] == ' ')
        n--;
    w[n] = '\0';
    /* A whole reply that is one of the keywords carriers and the FCC name. */
    static const char *const whole[] = {"stop", "stopall", "stop all", "unsubscribe", "cancel", "end",
                                        "quit", "revoke", "opt out", "optout", "remove me",
                                        "stop please", "please stop", NULL};
    for (int i = 0; whole[i]; i++)
        if (strcmp(w, whole[i]) == 0)
            return 1;
    /* A sentence asking to stop: "stop texting me", "please stop calling",
     * "unsubscribe me from these", "i want to opt out", "dont contact me". */
    static const char *const phrase[] = {"stop texting", "stop calling", "stop emailing", "stop contacting",
                                         "stop messaging", "stop sending", "unsubscribe", "opt out",
                                         "dont text", "dont call", "dont email", "dont contact",
                                         "do not text", "do not call", "do not email", "do not contact",
                                         "remove me", NULL};
    char padded[204];
    snprintf(padded, sizeof padded, " %s ", w);
    for (int i = 0; phrase[i]; i++) {
        char pat[64];
        snprintf(pat, sizeof pat, " %s", phrase[i]);
        if (strstr(padded, pat))
            return 1;
    }
    return 0;
}

void tm_contact_mask(const char *value, char *out, size_t cap)
{
    if (!cap)
        return;
    size_t n = strlen(value);
    const char *at = strchr(value, '@');
    char digits[8];
    int nd = 0;
    for (size_t i = n; i > 0 && nd < 4; i--)
        if (value[i - 1] >= '0' && value[i - 1] <= '9')
            digits[nd++] = value[i - 1];
    size_t alldigits = 0;
    for (size_t i = 0; i < n; i++)
        alldigits += (value[i] >= '0' && value[i] <= '9');
    if (!n) {
        out[0] = '\0';
    } else if (at && at > value) {
        snprintf(out, cap, "%c***%s", value[0], at);
    } else if (alldigits >= 7 && nd == 4) {
        /* A phone number: its last four digits, as on a card statement. */
        snprintf(out, cap, "***-***-%c%c%c%c", digits[3], digits[2], digits[1], digits[0]);
    } else {
        snprintf(out, cap, "%c***", value[0]);
    }
    OPENSSL_cleanse(digits, sizeof digits);
}

/* Masks field f (an array of the struct) in place. */
#define MASK(f) mask_in_place(p->f, sizeof p->f)
static void mask_in_place(char *field, size_t cap)
{
    char m[300];
    tm_contact_mask(field, m, sizeof m);
    OPENSSL_cleanse(field, cap);
    size_t n = strlen(m) < cap ? strlen(m) : cap - 1; /* cut to the field, as its value was */
    memcpy(field, m, n);
    field[n] = '\0';
}

void tm_contact_points_mask(tm_contact_points *p)
{
    MASK(first_name);
    MASK(last_name);
    MASK(phone);
    MASK(work_phone);
    MASK(phone_prev);
    MASK(email);
    MASK(work_email);
    MASK(email_prev);
    MASK(address1);
    MASK(address2);
    MASK(city);
    MASK(zip);
    MASK(address_prev);
    MASK(device_token);
}
#undef MASK
