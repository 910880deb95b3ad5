/*
 * core/contact.h: reaching a consumer. A consumer's contact points (phone,
 * email, postal address, each personal or at work, and the point used before
 * a change with the time the change holds from) are read from their
 * decrypted personal data; a message's recipient is chosen from them by
 * channel, place and time; and the channels a journey may use are worked out
 * from the consents, opt-outs and points on file. No store, no keys: the
 * caller decrypts (core/keys.h) and wipes what it decrypted.
 *
 * Depends on jansson (the personal data is one JSON object).
 */
#ifndef TM_CONTACT_H
#define TM_CONTACT_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

/* The personal data fields that hold contact points, besides the import's
 * first_name, last_name, address1, city, zip, phone and email: a second
 * address line, the address's own state (the consumer's residence state when
 * absent), work phone and email, a device token for push, and for each kind
 * the point before the last change ("<kind>_prev") with the time the change
 * holds from ("<kind>_since", Unix seconds as text). */

/* Every string is "" when absent. */
typedef struct tm_contact_points {
    char first_name[128], last_name[128];
    char phone[40], work_phone[40], phone_prev[40];
    char email[260], work_email[260], email_prev[260];
    char address1[160], address2[160], city[96], state[8], zip[16];
    char address_prev[600]; /* the postal block used before the change */
    int64_t phone_since, email_since, address_since; /* 0: no change recorded */
    char device_token[256];
} tm_contact_points;

/* Reads the points from the personal data object `json` (len bytes; NULL or
 * empty: none); `state` (may be NULL) is the consumer's residence state, the
 * address's when the data names none. TM_OK (a field of the wrong type is
 * taken as absent); TM_EINVAL when the text is not a JSON object. *p is
 * zeroed first. */
int tm_contact_points_read(const char *json, size_t len, const char *state, tm_contact_points *p,
                           struct tm_err *err);

/* Overwrites *p so no point outlives its use. */
void tm_contact_points_wipe(tm_contact_points *p);

/* Writes the postal block of the points' current address into `out` (cap
 * bytes): the name, the lines, "City, ST ZIP", one a line. "" when the
 * address lacks its first line, city, state or ZIP. */
void tm_contact_postal_block(const tm_contact_points *p, char *out, size_t cap);

/* What a message's point is and whether it may be used. */
typedef struct tm_contact_use {
    int phone_bad, email_bad; /* the consumer's current phone or email bounced or failed */
} tm_contact_use;

/* Chooses the recipient of a message on `channel` ("call", "sms", "email",
 * "letter", "push", "whatsapp", "visit") at `place` ("personal" or "work";
 * NULL: personal) sent at `at`: the phone for call, SMS and WhatsApp, the
 * email for email, the postal block for letter and visit, the device token
 * for push; before a change's time the point it replaced. Returns 1 with
 * `to` filled (cap bytes), or 0 with `to` "" and *why (static text: "no work
 * phone on file", "the email bounced", ...) when no usable point exists. */
int tm_contact_resolve(const tm_contact_points *p, const char *channel, const char *place,
                       int64_t at, const tm_contact_use *use, char *to, size_t cap,
                       const char **why);

/* What the store knows about reaching a consumer without decrypting: */
typedef struct tm_contact_reach {
    const char *consent;  /* comma-separated channels (and "autodial") consented to */
    const char *optout;   /* comma-separated channels opted out of */
    int has_phone, has_email, has_address, phone_bad, email_bad;
} tm_contact_reach;

/* The channels a message may go on for the consumer, comma-separated into
 * `out` (cap bytes) in the order call, sms, whatsapp, email, letter: a
 * channel not opted out whose point is on file and not bad, and for SMS and
 * WhatsApp with the consumer's consent (47 U.S.C. 227: texts to a mobile
 * number need prior express consent). The gate still judges each contact. */
void tm_contact_usable(const tm_contact_reach *r, char *out, size_t cap);

/* Whether a reply's `text` revokes consent to be contacted on its channel:
 * "STOP", "stop texting me", "unsubscribe", "opt out", "cancel", "end",
 * "quit", "revoke", "remove me", ... in any case, with spaces and
 * punctuation around (12 CFR 1006.6(e); 47 CFR 64.1200(a)(10): revocation
 * by any reasonable means). 1 or 0; NULL is 0. */
int tm_contact_is_stop(const char *text);

/* Masks one personal data value into `out` (cap bytes) for a reader who may
 * not see it in clear, keeping only what identifies it to someone who
 * already knows it: a phone keeps its last four digits ("***-***-0174"), an
 * email its first character and domain ("c***@example.com"), anything else
 * (a name, an address) its first character ("A***"). "" stays "". The one
 * place a consumer's data is masked for display. */
void tm_contact_mask(const char *value, char *out, size_t cap);

/* Masks the points in *p in place with tm_contact_mask (names, phones,
 * emails, the address, the device token), wiping what they held. */
void tm_contact_points_mask(tm_contact_points *p);

#endif
