/*
 * core/portfolio_import.c: account imports (portfolio.h, tm_import_accounts).
 *
 * A row goes through: field checks (validate.h) -> personal data into one
 * JSON object, encrypted with the consumer as associated data (keys.h) ->
 * upsert of the consumer by external_id and of the debt by debt_id, each
 * compared with what is stored so that unchanged data writes nothing ->
 * audit records for whatever changed, with no personal data in them. Rows
 * are committed in batches; the audit head is stored before each commit.
 */
#include "portfolio_int.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "jscan.h"
#include "jsonl.h"
#include "pay.h"
#include "stopat.h"
#include "validate.h"

#define MAX_COLS 256

/* ---------------------------------------------------------------------------
 * A row, whatever the input format: name -> NUL-terminated value.
 */
enum known_col {
    K_EXTERNAL_ID,
    K_DEBT_ID,
    K_STATE,
    K_BALANCE,
    K_CURRENCY,
    K_FIRST_NAME,
    K_LAST_NAME,
    K_ADDRESS1,
    K_CITY,
    K_ZIP,
    K_DATE_OF_BIRTH,
    K_PHONE,
    K_EMAIL,
    K_TIMEZONE,
    K_LANGUAGE,
    K_CREDITOR,
    K_DEBT_TYPE,
    K_DAYS_PAST_DUE,
    K_CHARGE_OFF_DATE,
    K_LAST_PAYMENT_DATE,
    K_ADDRESS2,
    K_WORK_PHONE,
    K_WORK_EMAIL,
    K_DEVICE_TOKEN,
    K_SMS_CONSENT,
    K_AUTODIAL_CONSENT,
    K_EMAIL_CONSENT,
    K_CONSENT_DATE,
    K_CONSENT_SOURCE,
    K_PREFERRED_CHANNEL,
    NKNOWN
};

typedef struct row {
    const char *names[MAX_COLS];
    const char *values[MAX_COLS];
    int8_t kind[MAX_COLS];        /* which known column each field is, or -1 */
    const char *known[NKNOWN];    /* the known columns' values (NULL: absent or empty) */
    int n;
    long line;
} row;

#define GET(r, k) ((r)->known[k])

/* The columns the importer knows; any other column is kept as an attribute. */
static const char *const known_cols[] = {
    "external_id", "debt_id", "state", "balance", "currency", "first_name", "last_name",
    "address1", "city", "zip", "date_of_birth", "phone", "email", "timezone", "language",
    "creditor", "debt_type", "days_past_due", "charge_off_date", "last_payment_date",
    "address2", "work_phone", "work_email", "device_token", "sms_consent", "autodial_consent",
    "email_consent", "consent_date", "consent_source", "preferred_channel", NULL};

/* The known column of each personal data field, in tm__pf_pii_cols order
 * (-1: a field only events write). */
static const int pii_kind[] = {K_FIRST_NAME, K_LAST_NAME, K_ADDRESS1, K_CITY, K_ZIP,
                               K_DATE_OF_BIRTH, K_PHONE, K_EMAIL, K_ADDRESS2, K_WORK_PHONE,
                               K_WORK_EMAIL, K_DEVICE_TOKEN, -1, -1, -1, -1, -1, -1, -1};

/* The consent columns and the channel each gives (consumers.consent). */
static const struct {
    int kind;
    const char *channel;
} consent_cols[] = {{K_SMS_CONSENT, "sms"}, {K_AUTODIAL_CONSENT, "autodial"}, {K_EMAIL_CONSENT, "email"}};

/* A consent column's value: 1 yes, 0 no, -1 not one of yes/no/true/false/1/0
 * (any case). */
static int consent_value(const char *v)
{
    static const char *const yes[] = {"yes", "true", "1"}, *const no[] = {"no", "false", "0"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return 1;
        if (strcasecmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

static int known_index(const char *name)
{
    for (int i = 0; known_cols[i]; i++)
        if (strcmp(known_cols[i], name) == 0)
            return i;
    return -1;
}

/* Fills r->known from the fields, with r->kind already set. */
static void index_row(row *r)
{
    for (int k = 0; k < NKNOWN; k++)
        r->known[k] = NULL;
    for (int i = 0; i < r->n; i++)
        if (r->kind[i] >= 0 && r->values[i] && r->values[i][0])
            r->known[r->kind[i]] = r->values[i];
}

typedef struct importer {
    tm__pf_run run;
    tm_import_stats *st;
    /* debt ids seen in this input (open addressing; 64-bit hashes and lines) */
    uint64_t *seen_hash;
    long *seen_line;
    size_t seen_cap, seen_n;
    int seen_oom; /* the table of ids seen could not grow: the import stops */
    tm_buf pii, attrs, details; /* the records of a row, built as JSON (pii and attrs wiped) */
    int wipe; /* the row held a card number: wipe the buffers it was read into */
} importer;

static void reject(importer *im, long line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void reject(importer *im, long line, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tm__pf_vreject(im->run.o, &im->st->rejected, line, field, fmt, ap);
    va_end(ap);
}

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
}

/* Records debt_id as seen on `line`; returns the earlier line when it was
 * already seen, else 0. A 64-bit hash stands for the id: two different ids
 * colliding would make the second one look duplicated, a risk of about one
 * in 10^8 for a file of a million rows. */
static long seen_before(importer *im, const char *debt_id, long line)
{
    if (im->seen_n * 2 >= im->seen_cap) {
        size_t cap = im->seen_cap ? im->seen_cap * 2 : 1 << 14;
        uint64_t *h = calloc(cap, sizeof *h);
        long *l = calloc(cap, sizeof *l);
        if (!h || !l) {
            /* Not "not seen": a debt twice in the file would slip through. */
            free(h);
            free(l);
            im->seen_oom = 1;
            return 0;
        }
        for (size_t i = 0; i < im->seen_cap; i++) {
            if (!im->seen_hash[i])
                continue;
            size_t k = im->seen_hash[i] & (cap - 1);
            while (h[k])
                k = (k + 1) & (cap - 1);
            h[k] = im->seen_hash[i];
            l[k] = im->seen_line[i];
        }
        free(im->seen_hash);
        free(im->seen_line);
        im->seen_hash = h;
        im->seen_line = l;
        im->seen_cap = cap;
    }
    uint64_t x = fnv(debt_id);
    size_t k = x & (im->seen_cap - 1);
    while (im->seen_hash[k]) {
        if (im->seen_hash[k] == x)
            return im->seen_line[k];
        k = (k + 1) & (im->seen_cap - 1);
    }
    im->seen_hash[k] = x;
    im->seen_line[k] = line;
    im->seen_n++;
    return 0;
}

static int same_str(const char *stored, const char *v)
{
    return strcmp(stored, v ? v : "") == 0;
}

/* Checks the row; on a problem reports it and returns -1. Fills the parsed
 * numbers. */
typedef struct parsed {
    int64_t balance;
    int64_t dpd;
    tm_hash16 phone_hash, email_hash;
} parsed;

static int check_row(importer *im, const row *r, parsed *p)
{
    /* No column holds a card number: an account file has no place for one, and whatever a
     * column holds is kept (extra columns as attributes). Checked first, so that no other
     * message repeats the number. */
    for (int i = 0; i < r->n; i++) {
        const char *name = r->names[i], *v = r->values[i];
        if (tm_pay_holds_card_number(name, strlen(name)) ||
            (v && tm_pay_holds_card_number(v, strlen(v)))) {
            im->wipe = 1;
            reject(im, r->line, tm_pay_holds_card_number(name, strlen(name)) ? "(a column name)" : name,
                   "holds a card number: refused (card numbers are not kept; card payments are "
                   "taken with tallyman pay)");
            return -1;
        }
    }
    for (int i = 0; i <= K_CURRENCY; i++) { /* the first five columns are required */
        if (!r->known[i]) {
            reject(im, r->line, known_cols[i], "is required");
            return -1;
        }
    }
    struct tm_err e = {0};
    const char *v;
#define CHECK(field, call)                                                                      \
    do {                                                                                        \
        memset(&e, 0, sizeof e);                                                                \
        if ((call) != TM_OK) {                                                                  \
            reject(im, r->line, field, "%s", e.msg[0] ? e.msg : "is not valid");                \
            return -1;                                                                          \
        }                                                                                       \
    } while (0)
    if (strlen(GET(r, K_EXTERNAL_ID)) > 128) {
        reject(im, r->line, "external_id", "is longer than 128 bytes");
        return -1;
    }
    if (strlen(GET(r, K_DEBT_ID)) > 128) {
        reject(im, r->line, "debt_id", "is longer than 128 bytes");
        return -1;
    }
    CHECK("state", tm_valid_state(GET(r, K_STATE), &e));
    int exponent = 0;
    CHECK("currency", tm_valid_currency(GET(r, K_CURRENCY), &exponent, &e));
    CHECK("balance", tm_parse_money(GET(r, K_BALANCE), exponent, 0, &p->balance, &e));
    int64_t day;
    if ((v = GET(r, K_DATE_OF_BIRTH)))
        CHECK("date_of_birth", tm_valid_date(v, &day, &e));
    if ((v = GET(r, K_CHARGE_OFF_DATE)))
        CHECK("charge_off_date", tm_valid_date(v, &day, &e));
    if ((v = GET(r, K_LAST_PAYMENT_DATE)))
        CHECK("last_payment_date", tm_valid_date(v, &day, &e));
    if ((v = GET(r, K_TIMEZONE)))
        CHECK("timezone", tm_valid_zone(v, &e));
    if ((v = GET(r, K_LANGUAGE)))
        CHECK("language", tm_valid_language(v, &e));
    if ((v = GET(r, K_DEBT_TYPE)))
        CHECK("debt_type", tm_valid_debt_type(v, &e));
    if ((v = GET(r, K_ZIP)))
        CHECK("zip", tm_valid_zip(v, &e));
    p->dpd = -1;
    if ((v = GET(r, K_DAYS_PAST_DUE)))
        CHECK("days_past_due", tm_parse_int(v, 0, 100000, &p->dpd, &e));
    p->phone_hash.set = p->email_hash.set = 0;
    if ((v = GET(r, K_PHONE))) {
        CHECK("phone", tm_valid_phone_e164(v, &e));
        tm__pf_hash16(im->run.keys, v, &p->phone_hash);
    }
    if ((v = GET(r, K_WORK_PHONE)))
        CHECK("work_phone", tm_valid_phone_e164(v, &e));
    if ((v = GET(r, K_WORK_EMAIL)))
        CHECK("work_email", tm_valid_email(v, &e));
    for (size_t i = 0; i < sizeof consent_cols / sizeof *consent_cols; i++) {
        if ((v = GET(r, consent_cols[i].kind)) && consent_value(v) < 0) {
            reject(im, r->line, known_cols[consent_cols[i].kind],
                   "'%.40s' is not a consent: yes, no, true, false, 1 or 0", v);
            return -1;
        }
    }
    if ((v = GET(r, K_CONSENT_DATE)))
        CHECK("consent_date", tm_valid_date(v, &day, &e));
    if ((v = GET(r, K_CONSENT_SOURCE)) && strlen(v) > 200) {
        reject(im, r->line, "consent_source", "is longer than 200 bytes");
        return -1;
    }
    if ((v = GET(r, K_PREFERRED_CHANNEL))) {
        static const char *const chans[] = {"call", "sms", "email", "letter", "push", "whatsapp", NULL};
        int ok = 0;
        for (int i = 0; chans[i]; i++)
            ok |= strcmp(chans[i], v) == 0;
        if (!ok) {
            reject(im, r->line, "preferred_channel",
                   "'%.40s' is not a channel: call, sms, email, letter, push or whatsapp", v);
            return -1;
        }
    }
    if ((v = GET(r, K_EMAIL))) {
        CHECK("email", tm_valid_email(v, &e));
        char norm[320];
        if (tm_email_normalise(v, norm, sizeof norm, NULL) != TM_OK)
            snprintf(norm, sizeof norm, "%s", v);
        tm__pf_hash16(im->run.keys, norm, &p->email_hash);
    }
#undef CHECK
    long first = seen_before(im, GET(r, K_DEBT_ID), r->line);
    if (first) {
        reject(im, r->line, "debt_id", "'%s' appears twice in this file (first on line %ld)",
               GET(r, K_DEBT_ID), first);
        return -1;
    }
    return 0;
}

/* Upserts the consumer of the row; *id gets its row id. */
/* What happened to a record: nothing, created, updated. */
enum change { CH_NONE, CH_CREATED, CH_UPDATED };

/* The row's consents (each consent column given sets or clears its channel
 * in the consumer's consent set), their date and source and the preferred
 * channel, and whether a postal address is on file (has_address -1: as it
 * is). Writes only what changes; a consent that changes makes the consumer
 * count as updated. */
static int put_reach(importer *im, const row *r, int64_t consumer, int has_address, int fresh,
                     enum change *what, struct tm_err *err)
{
    int any = 0;
    for (size_t i = 0; i < sizeof consent_cols / sizeof *consent_cols; i++)
        any |= GET(r, consent_cols[i].kind) != NULL;
    if (any) {
        char cur[256], next[300];
        /* A consumer created by this row has no consent yet: nothing to read. */
        cur[0] = '\0';
        int rc = fresh ? TM_OK
                       : tm_store_consumer_get_set(im->run.s, consumer, TM_CONSUMER_CONSENT, cur, sizeof cur, err);
        if (rc != TM_OK)
            return rc;
        snprintf(next, sizeof next, "%s", cur);
        for (size_t i = 0; i < sizeof consent_cols / sizeof *consent_cols; i++) {
            const char *v = GET(r, consent_cols[i].kind);
            if (v) {
                char tmp[300];
                tm__pf_set_edit(next, consent_cols[i].channel, consent_value(v) == 1, tmp, sizeof tmp);
                snprintf(next, sizeof next, "%s", tmp);
            }
        }
        if (strcmp(cur, next) != 0) {
            rc = tm_store_consumer_put_set(im->run.s, consumer, TM_CONSUMER_CONSENT, next, err);
            if (rc != TM_OK)
                return rc;
            if (*what == CH_NONE) {
                *what = CH_UPDATED;
                im->st->consumers_updated++;
            }
        }
    }
    if (has_address < 0 && !GET(r, K_CONSENT_DATE) && !GET(r, K_CONSENT_SOURCE) &&
        !GET(r, K_PREFERRED_CHANNEL))
        return TM_OK;
    tm_consumer_contact c = {.has_address = has_address, .consent_date = GET(r, K_CONSENT_DATE),
                             .consent_source = GET(r, K_CONSENT_SOURCE),
                             .preferred_channel = GET(r, K_PREFERRED_CHANNEL)};
    return tm_store_consumer_set_contact(im->run.s, consumer, &c, err);
}

static int upsert_consumer(importer *im, const row *r, const parsed *p, int64_t *id,
                           enum change *what, struct tm_err *err)
{
    *what = CH_NONE;
    const char *ext = GET(r, K_EXTERNAL_ID);
    /* Personal data as one JSON object, in a fixed field order so the keyed
     * hash of the text tells whether it changed. */
    tm_buf_reset(&im->pii);
    tm_jw w;
    tm_jw_init(&w, &im->pii, 0);
    tm_jw_obj(&w);
    for (int i = 0; tm__pf_pii_cols[i]; i++) {
        const char *v = pii_kind[i] >= 0 ? r->known[pii_kind[i]] : NULL;
        if (!v)
            continue;
        tm_jw_key(&w, tm__pf_pii_cols[i]);
        tm_jw_str(&w, v);
    }
    tm_jw_obj_end(&w);
    /* Personal data cut short would be encrypted and stored as the whole. */
    int rc = tm_buf_done(&im->pii, "the consumer's personal data", err);
    if (rc != TM_OK)
        return rc;
    tm_consumer_rec rec, old;
    memset(&rec, 0, sizeof rec);
    tm__pf_hash16(im->run.keys, im->pii.data, &rec.pii_hash);
    const char *state = GET(r, K_STATE), *tz = GET(r, K_TIMEZONE);
    const char *lang = GET(r, K_LANGUAGE) ? GET(r, K_LANGUAGE) : "en";
    int found = 0;
    rc = tm_store_consumer_find(im->run.s, ext, &old, &found, err);
    if (rc != TM_OK)
        return rc;
    if (found) {
        *id = old.id;
        if (tm__pf_same_hash(&old.pii_hash, &rec.pii_hash) && same_str(old.state, state) &&
            same_str(old.timezone, tz) && same_str(old.language, lang) &&
            tm__pf_same_hash(&old.phone_hash, &p->phone_hash) && tm__pf_same_hash(&old.email_hash, &p->email_hash))
            return put_reach(im, r, old.id, -1, 0, what, err);
    }
    char aad[200];
    snprintf(aad, sizeof aad, "consumer:%s", ext);
    uint8_t *blob = NULL;
    size_t bloblen = 0;
    rc = tm_keys_encrypt(im->run.keys, im->pii.data, im->pii.len, aad, &blob, &bloblen, err);
    if (rc != TM_OK)
        return rc;
    rec.id = found ? old.id : 0;
    snprintf(rec.external_id, sizeof rec.external_id, "%s", ext);
    snprintf(rec.state, sizeof rec.state, "%s", state);
    snprintf(rec.timezone, sizeof rec.timezone, "%s", tz ? tz : "");
    snprintf(rec.language, sizeof rec.language, "%s", lang);
    rec.pii = blob;
    rec.pii_len = bloblen;
    rec.key_version = tm_keys_current(im->run.keys);
    rec.phone_hash = p->phone_hash;
    rec.email_hash = p->email_hash;
    rc = tm_store_consumer_put(im->run.s, &rec, im->run.o->now, err);
    free(blob);
    if (rc != TM_OK)
        return rc;
    *id = rec.id;
    if (found) {
        im->st->consumers_updated++;
        *what = CH_UPDATED;
    } else {
        im->st->consumers_created++;
        *what = CH_CREATED;
    }
    int has_address = GET(r, K_ADDRESS1) && GET(r, K_CITY) && GET(r, K_ZIP);
    return put_reach(im, r, rec.id, has_address, !found, what, err);
}

static int upsert_debt(importer *im, const row *r, const parsed *p, int64_t consumer,
                       enum change consumer_change, struct tm_err *err)
{
    const char *debt_id = GET(r, K_DEBT_ID);
    /* Extra columns, kept as the debt's attributes (encrypted: they may hold
     * anything). */
    tm_buf_reset(&im->attrs);
    tm_jw w;
    tm_jw_init(&w, &im->attrs, 0);
    tm_jw_obj(&w);
    int nattrs = 0;
    for (int i = 0; i < r->n; i++) {
        if (r->kind[i] >= 0 || !r->values[i] || !r->values[i][0])
            continue;
        nattrs++;
        tm_jw_key(&w, r->names[i]);
        tm_jw_str(&w, r->values[i]);
    }
    tm_jw_obj_end(&w);
    int rc = tm_buf_done(&im->attrs, "the debt's attributes", err);
    if (rc != TM_OK)
        return rc;
    tm_debt_rec rec, old;
    memset(&rec, 0, sizeof rec);
    if (nattrs)
        tm__pf_hash16(im->run.keys, im->attrs.data, &rec.attributes_hash);
    snprintf(rec.debt_id, sizeof rec.debt_id, "%s", debt_id);
    rec.consumer_id = consumer;
    snprintf(rec.creditor, sizeof rec.creditor, "%s", GET(r, K_CREDITOR) ? GET(r, K_CREDITOR) : "");
    snprintf(rec.debt_type, sizeof rec.debt_type, "%s",
             GET(r, K_DEBT_TYPE) ? GET(r, K_DEBT_TYPE) : "other");
    rec.placed_balance = p->balance;
    snprintf(rec.currency, sizeof rec.currency, "%s", GET(r, K_CURRENCY));
    rec.days_past_due = p->dpd;
    snprintf(rec.charge_off_date, sizeof rec.charge_off_date, "%s",
             GET(r, K_CHARGE_OFF_DATE) ? GET(r, K_CHARGE_OFF_DATE) : "");
    snprintf(rec.last_payment_date, sizeof rec.last_payment_date, "%s",
             GET(r, K_LAST_PAYMENT_DATE) ? GET(r, K_LAST_PAYMENT_DATE) : "");
    int found = 0;
    rc = tm_store_debt_find(im->run.s, debt_id, &old, &found, err);
    if (rc != TM_OK)
        return rc;
    int changed = !found ||
                  old.consumer_id != rec.consumer_id || strcmp(old.creditor, rec.creditor) != 0 ||
                  strcmp(old.debt_type, rec.debt_type) != 0 || old.placed_balance != rec.placed_balance ||
                  strcmp(old.currency, rec.currency) != 0 || old.days_past_due != rec.days_past_due ||
                  strcmp(old.charge_off_date, rec.charge_off_date) != 0 ||
                  strcmp(old.last_payment_date, rec.last_payment_date) != 0 ||
                  !tm__pf_same_hash(&old.attributes_hash, &rec.attributes_hash);
    if (!changed) {
        im->st->unchanged++;
        if (consumer_change == CH_NONE)
            return TM_OK;
    } else {
        uint8_t *blob = NULL;
        size_t bloblen = 0;
        if (nattrs) {
            char aad[200];
            snprintf(aad, sizeof aad, "debt:%s", debt_id);
            rc = tm_keys_encrypt(im->run.keys, im->attrs.data, im->attrs.len, aad, &blob, &bloblen, err);
            if (rc != TM_OK)
                return rc;
        }
        rec.id = found ? old.id : 0;
        rec.attributes = blob;
        rec.attributes_len = bloblen;
        rc = tm_store_debt_put(im->run.s, &rec, im->run.o->now, err);
        free(blob);
        if (rc != TM_OK)
            return rc;
        if (found)
            im->st->debts_updated++;
        else
            im->st->debts_created++;
    }
    /* One audit record per row, for both records it touched; no personal data. */
    static const char *const change_names[] = {"none", "created", "updated"};
    enum change debt_change = !found ? CH_CREATED : changed ? CH_UPDATED : CH_NONE;
    char subject[200];
    snprintf(subject, sizeof subject, "debt:%s", debt_id);
    tm_buf_reset(&im->details);
    tm_jw_init(&w, &im->details, 0);
    tm_jw_obj(&w);
    tm_jw_key(&w, "debt");
    tm_jw_str(&w, change_names[debt_change]);
    tm_jw_key(&w, "consumer");
    tm_jw_str(&w, change_names[consumer_change]);
    tm_jw_key(&w, "balance_minor");
    tm_jw_int(&w, p->balance);
    tm_jw_key(&w, "currency");
    tm_jw_str(&w, rec.currency);
    tm_jw_key(&w, "external_id");
    tm_jw_str(&w, GET(r, K_EXTERNAL_ID));
    tm_jw_obj_end(&w);
    if ((rc = tm_buf_done(&im->details, "the row's audit record", err)) != TM_OK)
        return rc;
    return tm__pf_audit(&im->run, debt_change == CH_CREATED ? "account.created" : "account.updated", subject,
                 im->details.data, err);
}

static int import_row(importer *im, const row *r, struct tm_err *err)
{
    parsed p;
    int checked = check_row(im, r, &p);
    if (im->seen_oom)
        return tm_err_set(err, TM_ENOMEM, "out of memory checking %s:%ld", im->run.o->name, r->line);
    if (checked != 0)
        return TM_OK; /* rejected and reported; the import goes on */
    int64_t consumer = 0;
    enum change cc;
    int rc = upsert_consumer(im, r, &p, &consumer, &cc, err);
    if (rc == TM_OK)
        rc = upsert_debt(im, r, &p, consumer, cc, err);
    if (rc == TM_OK)
        im->st->accepted++;
    tm_stopat("import.row"); /* import: after each row, inside its uncommitted batch */
    return rc;
}

/* Reads CSV rows into `r`. Header names become the row's names. */
static int run_csv(importer *im, FILE *in, struct tm_err *err)
{
    tm_csv *c = tm_csv_open(in, err);
    if (!c)
        return err ? err->code : TM_EIO;
    struct tm_err e = {0};
    int got = tm_csv_next(c, &e);
    if (got <= 0) {
        tm_csv_close(c);
        if (got == 0)
            return tm_err_set(err, TM_EINVAL, "%s: the file is empty (a header row is required)",
                              im->run.o->name);
        return tm_err_set(err, TM_EINVAL, "%s:1: header: %s", im->run.o->name, e.msg);
    }
    int ncols = tm_csv_nfields(c);
    if (ncols > MAX_COLS) {
        tm_csv_close(c);
        return tm_err_set(err, TM_EINVAL, "%s:1: header: more than %d columns", im->run.o->name, MAX_COLS);
    }
    char *names[MAX_COLS];
    for (int i = 0; i < ncols; i++) {
        size_t len;
        const char *f = tm_csv_field(c, i, &len);
        names[i] = strndup(f, len);
        if (!names[i]) {
            for (int k = 0; k < i; k++)
                free(names[k]);
            tm_csv_close(c);
            return tm_err_set(err, TM_ENOMEM, "%s:1: header: out of memory", im->run.o->name);
        }
        /* trim spaces around header names */
        char *q = names[i];
        while (*q == ' ')
            memmove(q, q + 1, strlen(q));
        size_t l = strlen(q);
        while (l && q[l - 1] == ' ')
            q[--l] = '\0';
    }
    int rc = TM_OK;
    for (int i = 0; i < ncols && rc == TM_OK; i++) {
        if (!names[i][0])
            rc = tm_err_set(err, TM_EINVAL, "%s:1: header: column %d has no name", im->run.o->name, i + 1);
        else if (tm_pay_holds_card_number(names[i], strlen(names[i])))
            rc = tm_err_set(err, TM_EINVAL, "%s:1: header: column %d holds a card number: refused",
                            im->run.o->name, i + 1);
        for (int j = 0; j < i && rc == TM_OK; j++)
            if (strcmp(names[i], names[j]) == 0)
                rc = tm_err_set(err, TM_EINVAL, "%s:1: header: column '%s' appears twice",
                                im->run.o->name, names[i]);
    }
    static const char *const required[] = {"external_id", "debt_id", "state", "balance", "currency",
                                           NULL};
    for (int k = 0; required[k] && rc == TM_OK; k++) {
        int have = 0;
        for (int i = 0; i < ncols; i++)
            have |= strcmp(names[i], required[k]) == 0;
        if (!have)
            rc = tm_err_set(err, TM_EINVAL, "%s:1: header: missing column '%s'", im->run.o->name,
                            required[k]);
    }
    int8_t kinds[MAX_COLS];
    for (int i = 0; i < ncols; i++)
        kinds[i] = (int8_t)known_index(names[i]);
    char *vals = NULL;
    size_t valcap = 0;
    long in_batch = 0;
    if (rc == TM_OK)
        rc = tm__pf_begin_batch(&im->run, err);
    while (rc == TM_OK) {
        memset(&e, 0, sizeof e);
        got = tm_csv_next(c, &e);
        if (got == 0)
            break;
        im->st->rows++;
        if (got < 0) {
            if (got == TM_EIO || got == TM_ENOMEM) { /* the file itself failed */
                rc = tm_err_set(err, got, "%s: %s", im->run.o->name, e.msg);
                break;
            }
            int f = tm_csv_err_field(c);
            reject(im, tm_csv_line(c), f >= 0 && f < ncols ? names[f] : "row", "%s",
                   tm_csv_err_reason(c));
            continue;
        }
        row r;
        r.n = ncols;
        r.line = tm_csv_line(c);
        int nf = tm_csv_nfields(c);
        if (nf != ncols) {
            reject(im, r.line, NULL, "the row has %d fields, the header has %d", nf, ncols);
            continue;
        }
        /* Copy the fields out as NUL-terminated strings. */
        size_t need = 0;
        for (int i = 0; i < nf; i++) {
            size_t len;
            tm_csv_field(c, i, &len);
            need += len + 1;
        }
        if (need > valcap) {
            char *q = realloc(vals, need * 2);
            if (!q) {
                rc = tm_err_set(err, TM_ENOMEM, "out of memory");
                break;
            }
            vals = q;
            valcap = need * 2;
        }
        size_t off = 0;
        for (int i = 0; i < nf; i++) {
            size_t len;
            const char *f = tm_csv_field(c, i, &len);
            memcpy(vals + off, f, len);
            vals[off + len] = '\0';
            r.names[i] = names[i];
            r.values[i] = vals + off;
            r.kind[i] = kinds[i];
            off += len + 1;
        }
        index_row(&r);
        im->wipe = 0;
        rc = import_row(im, &r, err);
        if (im->wipe)
            OPENSSL_cleanse(vals, valcap);
        if (rc == TM_OK)
            rc = tm__pf_row_done(&im->run, in, &in_batch, err);
    }
    rc = tm__pf_finish_batches(&im->run, rc, err);
    free(vals);
    for (int i = 0; i < ncols; i++)
        free(names[i]);
    tm_csv_close(c);
    return rc;
}

static int run_jsonl(importer *im, FILE *in, struct tm_err *err)
{
    long in_batch = 0;
    static tm_jtok toks[4 * MAX_COLS + 8];
    char *vals = NULL;
    size_t valcap = 0;
    char *names_buf = NULL;
    size_t namecap = 0;
    tm_jsonl *rd = NULL;
    int rc = tm_jsonl_open(in, im->run.o->name, 0, &rd, err);
    if (rc == TM_OK)
        rc = tm__pf_begin_batch(&im->run, err);
    while (rc == TM_OK) {
        char *line;
        size_t len;
        long lineno;
        struct tm_err e = {0};
        int got = tm_jsonl_next(rd, &line, &len, &lineno, &e);
        if (got == 0)
            break;
        if (got == TM_EINVAL) { /* a line too long: rejected, the rest goes on */
            im->st->rows++;
            reject(im, lineno, NULL, "%s", tm_jsonl_reason(rd));
            continue;
        }
        if (got < 0) { /* the file cannot be read: not an empty one */
            rc = tm_err_set(err, got, "%s", e.msg);
            break;
        }
        im->st->rows++;
        tm_json j;
        if (tm_json_scan(line, len, toks, (int)(sizeof toks / sizeof *toks), &j, &e) != TM_OK) {
            reject(im, lineno, NULL, "not valid JSON: %s", e.msg);
            continue;
        }
        if (j.tok[0].type != TM_J_OBJECT || j.tok[0].count > MAX_COLS) {
            reject(im, lineno, NULL, "a line must be one JSON object (at most %d fields)", MAX_COLS);
            continue;
        }
        if (len * 2 + 16 > valcap) {
            char *q = realloc(vals, len * 2 + 16);
            if (!q) {
                rc = tm_err_set(err, TM_ENOMEM, "out of memory");
                break;
            }
            vals = q;
            valcap = len * 2 + 16;
        }
        if (len + 16 > namecap) {
            char *q = realloc(names_buf, len + 16);
            if (!q) {
                rc = tm_err_set(err, TM_ENOMEM, "out of memory");
                break;
            }
            names_buf = q;
            namecap = len + 16;
        }
        row r;
        r.n = 0;
        r.line = lineno;
        size_t voff = 0, noff = 0;
        int bad = 0;
        uint32_t t = 1;
        for (uint32_t m = 0; m < j.tok[0].count && !bad; m++) {
            uint32_t v = t + 1;
            int kl = tm_json_str(&j, (int)t, names_buf + noff, namecap - noff);
            const char *name = names_buf + noff;
            noff += (size_t)(kl >= 0 ? kl : 0) + 1;
            const tm_jtok *vt = &j.tok[v];
            if (vt->type == TM_J_STRING) {
                int vl = tm_json_str(&j, (int)v, vals + voff, valcap - voff);
                if (vl < 0) {
                    reject(im, lineno, name, "is not a valid string");
                    bad = 1;
                    break;
                }
                r.values[r.n] = vals + voff;
                voff += (size_t)vl + 1;
            } else if (vt->type == TM_J_NUMBER) {
                /* The number's own text: "1234.56" stays exact, no floating point. */
                size_t rl;
                const char *raw = tm_json_raw(&j, (int)v, &rl);
                memcpy(vals + voff, raw, rl);
                vals[voff + rl] = '\0';
                r.values[r.n] = vals + voff;
                voff += rl + 1;
            } else if (vt->type == TM_J_NULL) {
                r.values[r.n] = NULL;
            } else {
                reject(im, lineno, name, "must be a string or a number");
                bad = 1;
                break;
            }
            r.kind[r.n] = (int8_t)known_index(name);
            r.names[r.n++] = name;
            t = j.tok[v].next;
        }
        if (bad)
            continue;
        index_row(&r);
        im->wipe = 0;
        rc = import_row(im, &r, err);
        if (im->wipe) {
            OPENSSL_cleanse(line, len);
            OPENSSL_cleanse(vals, valcap);
        }
        if (rc == TM_OK)
            rc = tm__pf_row_done(&im->run, in, &in_batch, err);
    }
    rc = tm__pf_finish_batches(&im->run, rc, err);
    tm_jsonl_close(rd);
    free(vals);
    free(names_buf);
    return rc;
}

int tm_import_accounts(tm_store *s, const tm_keys *keys, FILE *in, const tm_import_opts *opts,
                       tm_import_stats *stats, struct tm_err *err)
{
    memset(stats, 0, sizeof *stats);
    importer im = {.run = {.s = s, .keys = keys, .o = opts}, .st = stats};
    tm_buf_init(&im.pii, TM_BUF_SECRET);
    tm_buf_init(&im.attrs, TM_BUF_SECRET);
    uint8_t akey[32];
    tm_portfolio_audit_key(keys, akey);
    int rc = tm_audit_writer_open(s, akey, &im.run.audit, err);
    if (rc == TM_OK) {
        int c;
        while ((c = getc(in)) == ' ' || c == '\t' || c == '\r' || c == '\n') {
        }
        if (c == 0xEF) { /* a UTF-8 BOM: CSV */
            ungetc(c, in);
            c = 0;
        } else if (c != EOF) {
            ungetc(c, in);
        }
        rc = c == '{' ? run_jsonl(&im, in, err) : run_csv(&im, in, err);
    }
    if (rc == TM_OK) {
        /* The import itself is audited, with its counts. */
        char subject[300];
        snprintf(subject, sizeof subject, "import:%s", opts->name);
        tm_buf_reset(&im.details);
        tm_jw w;
        tm_jw_init(&w, &im.details, 0);
        tm_jw_obj(&w);
        const struct {
            const char *name;
            long n;
        } counts[] = {{"rows", stats->rows},
                      {"accepted", stats->accepted},
                      {"rejected", stats->rejected},
                      {"consumers_created", stats->consumers_created},
                      {"consumers_updated", stats->consumers_updated},
                      {"debts_created", stats->debts_created},
                      {"debts_updated", stats->debts_updated},
                      {"unchanged", stats->unchanged}};
        for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
            tm_jw_key(&w, counts[i].name);
            tm_jw_int(&w, counts[i].n);
        }
        tm_jw_obj_end(&w);
        rc = tm_buf_done(&im.details, "the import's audit record", err);
        if (rc == TM_OK)
            rc = tm_store_begin(s, err);
        if (rc == TM_OK)
            rc = tm_audit_write(im.run.audit, opts->now, opts->actor ? opts->actor : "import",
                                "import.finished", subject, im.details.data, err);
        if (rc == TM_OK)
            rc = tm__pf_end_batch(&im.run, err);
    }
    tm_audit_writer_close(im.run.audit);
    free(im.seen_hash);
    free(im.seen_line);
    tm_buf_free(&im.pii);
    tm_buf_free(&im.attrs);
    tm_buf_free(&im.details);
    return rc;
}

