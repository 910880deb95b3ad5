/*
 * core/portfolio.c: account imports and events (see portfolio.h).
 *
 * A row goes through: field checks (validate.h) -> personal data into one
 * JSON object, encrypted with the consumer as associated data (keys.h) ->
 * upsert of the consumer by external_id and of the debt by debt_id, each
 * compared with what is stored so that unchanged data writes nothing ->
 * audit records for whatever changed, with no personal data in them. Rows
 * are committed in batches; the audit head is stored before each commit.
 */
#include "portfolio.h"

#include <openssl/crypto.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "calendar.h"
#include "csv.h"
#include "jscan.h"
#include "pay.h"
#include "stopat.h"
#include "validate.h"

#define MAX_COLS 256
#define DEFAULT_BATCH 50000

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
    "creditor", "debt_type", "days_past_due", "charge_off_date", "last_payment_date", NULL};

static const char *const pii_cols[] = {"first_name", "last_name", "address1", "city",
                                       "zip", "date_of_birth", "phone", "email", NULL};
static const int pii_kind[] = {K_FIRST_NAME, K_LAST_NAME, K_ADDRESS1, K_CITY,
                               K_ZIP,        K_DATE_OF_BIRTH, K_PHONE, K_EMAIL};

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

/* A growing text buffer for the JSON we build. A growth that fails sets
 * `oom` and drops everything put after it: the text is then cut short, and
 * sb_done() makes the caller fail rather than store or encrypt it. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_reset(sbuf *b)
{
    b->n = 0;
    b->oom = 0;
}

static void sb_put(sbuf *b, const char *s, size_t len)
{
    if (b->oom)
        return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap < b->n + len + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

/* TM_OK when the text was built whole; TM_ENOMEM (with `err`) when a growth
 * failed. */
static int sb_done(const sbuf *b, struct tm_err *err)
{
    return b->oom || !b->p ? tm_err_set(err, TM_ENOMEM, "out of memory building a record") : TM_OK;
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c != '"' && c != '\\' && c >= 0x20)
            continue;
        sb_put(b, run, (size_t)(s - run));
        char e[8];
        if (c == '"' || c == '\\')
            e[0] = '\\', e[1] = (char)c, e[2] = 0;
        else
            snprintf(e, sizeof e, "\\u%04x", c);
        sb_put(b, e, strlen(e));
        run = s + 1;
    }
    sb_put(b, run, (size_t)(s - run));
    sb_put(b, "\"", 1);
}

/* ---------------------------------------------------------------------------
 * The import.
 */
typedef struct importer {
    tm_store *s;
    const tm_keys *keys;
    const tm_import_opts *o;
    tm_import_stats *st;
    tm_audit_writer *audit;
    /* debt ids seen in this input (open addressing; 64-bit hashes and lines) */
    uint64_t *seen_hash;
    long *seen_line;
    size_t seen_cap, seen_n;
    int seen_oom; /* the table of ids seen could not grow: the import stops */
    sbuf pii, attrs, details;
    int wipe; /* the row held a card number: wipe the buffers it was read into */
} importer;

/* Names the rejected record (file:line: field: why) to the caller and counts it. */
static void vreject(const tm_import_opts *o, long *rejected, long line, const char *field, const char *fmt,
                    va_list ap) __attribute__((format(printf, 5, 0)));

static void vreject(const tm_import_opts *o, long *rejected, long line, const char *field, const char *fmt,
                    va_list ap)
{
    char why[400], msg[1000];
    vsnprintf(why, sizeof why, fmt, ap);
    if (field)
        snprintf(msg, sizeof msg, "%s:%ld: %s: %s", o->name, line, field, why);
    else
        snprintf(msg, sizeof msg, "%s:%ld: %s", o->name, line, why);
    (*rejected)++;
    if (o->reject)
        o->reject(o->ud, msg);
}

static void reject(importer *im, long line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void reject(importer *im, long line, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreject(im->o, &im->st->rejected, line, field, fmt, ap);
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

/* A lookup hash as stored: the first TM_STORE_HASH_LEN bytes of the keyed
 * hash (128 bits: collisions are out of reach for any portfolio), which
 * keeps rows and indexes small. */
static void hash16(const tm_keys *k, const char *value, tm_hash16 *out)
{
    uint8_t md[32];
    out->set = 0;
    if (!value || tm_keys_lookup_raw(k, value, strlen(value), md) != TM_OK)
        return;
    memcpy(out->b, md, TM_STORE_HASH_LEN);
    out->set = 1;
}

static int same_hash(const tm_hash16 *a, const tm_hash16 *b)
{
    if (a->set != b->set)
        return 0;
    return !a->set || memcmp(a->b, b->b, TM_STORE_HASH_LEN) == 0;
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
        hash16(im->keys, v, &p->phone_hash);
    }
    if ((v = GET(r, K_EMAIL))) {
        CHECK("email", tm_valid_email(v, &e));
        char norm[320];
        if (tm_email_normalise(v, norm, sizeof norm, NULL) != TM_OK)
            snprintf(norm, sizeof norm, "%s", v);
        hash16(im->keys, norm, &p->email_hash);
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

static int audit(importer *im, const char *action, const char *subject, const char *details,
                 struct tm_err *err)
{
    return tm_audit_write(im->audit, im->o->now, im->o->actor ? im->o->actor : "import", action,
                          subject, details, err);
}

/* Upserts the consumer of the row; *id gets its row id. */
/* What happened to a record: nothing, created, updated. */
enum change { CH_NONE, CH_CREATED, CH_UPDATED };

static int upsert_consumer(importer *im, const row *r, const parsed *p, int64_t *id,
                           enum change *what, struct tm_err *err)
{
    *what = CH_NONE;
    const char *ext = GET(r, K_EXTERNAL_ID);
    /* Personal data as one JSON object, in a fixed field order so the keyed
     * hash of the text tells whether it changed. */
    sb_reset(&im->pii);
    sb_put(&im->pii, "{", 1);
    int any = 0;
    for (int i = 0; pii_cols[i]; i++) {
        const char *v = r->known[pii_kind[i]];
        if (!v)
            continue;
        if (any++)
            sb_put(&im->pii, ",", 1);
        sb_str(&im->pii, pii_cols[i]);
        sb_put(&im->pii, ":", 1);
        sb_str(&im->pii, v);
    }
    sb_put(&im->pii, "}", 1);
    int rc = sb_done(&im->pii, err);
    if (rc != TM_OK)
        return rc;
    tm_consumer_rec rec, old;
    memset(&rec, 0, sizeof rec);
    hash16(im->keys, im->pii.p, &rec.pii_hash);
    const char *state = GET(r, K_STATE), *tz = GET(r, K_TIMEZONE);
    const char *lang = GET(r, K_LANGUAGE) ? GET(r, K_LANGUAGE) : "en";
    int found = 0;
    rc = tm_store_consumer_find(im->s, ext, &old, &found, err);
    if (rc != TM_OK)
        return rc;
    if (found) {
        *id = old.id;
        if (same_hash(&old.pii_hash, &rec.pii_hash) && same_str(old.state, state) &&
            same_str(old.timezone, tz) && same_str(old.language, lang) &&
            same_hash(&old.phone_hash, &p->phone_hash) && same_hash(&old.email_hash, &p->email_hash))
            return TM_OK;
    }
    char aad[200];
    snprintf(aad, sizeof aad, "consumer:%s", ext);
    uint8_t *blob = NULL;
    size_t bloblen = 0;
    rc = tm_keys_encrypt(im->keys, im->pii.p, im->pii.n, aad, &blob, &bloblen, err);
    if (rc != TM_OK)
        return rc;
    rec.id = found ? old.id : 0;
    snprintf(rec.external_id, sizeof rec.external_id, "%s", ext);
    snprintf(rec.state, sizeof rec.state, "%s", state);
    snprintf(rec.timezone, sizeof rec.timezone, "%s", tz ? tz : "");
    snprintf(rec.language, sizeof rec.language, "%s", lang);
    rec.pii = blob;
    rec.pii_len = bloblen;
    rec.key_version = tm_keys_current(im->keys);
    rec.phone_hash = p->phone_hash;
    rec.email_hash = p->email_hash;
    rc = tm_store_consumer_put(im->s, &rec, im->o->now, err);
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
    return TM_OK;
}

static int upsert_debt(importer *im, const row *r, const parsed *p, int64_t consumer,
                       enum change consumer_change, struct tm_err *err)
{
    const char *debt_id = GET(r, K_DEBT_ID);
    /* Extra columns, kept as the debt's attributes (encrypted: they may hold
     * anything). */
    sb_reset(&im->attrs);
    sb_put(&im->attrs, "{", 1);
    int nattrs = 0;
    for (int i = 0; i < r->n; i++) {
        if (r->kind[i] >= 0 || !r->values[i] || !r->values[i][0])
            continue;
        if (nattrs++)
            sb_put(&im->attrs, ",", 1);
        sb_str(&im->attrs, r->names[i]);
        sb_put(&im->attrs, ":", 1);
        sb_str(&im->attrs, r->values[i]);
    }
    sb_put(&im->attrs, "}", 1);
    int rc = sb_done(&im->attrs, err);
    if (rc != TM_OK)
        return rc;
    tm_debt_rec rec, old;
    memset(&rec, 0, sizeof rec);
    if (nattrs)
        hash16(im->keys, im->attrs.p, &rec.attributes_hash);
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
    rc = tm_store_debt_find(im->s, debt_id, &old, &found, err);
    if (rc != TM_OK)
        return rc;
    int changed = !found ||
                  old.consumer_id != rec.consumer_id || strcmp(old.creditor, rec.creditor) != 0 ||
                  strcmp(old.debt_type, rec.debt_type) != 0 || old.placed_balance != rec.placed_balance ||
                  strcmp(old.currency, rec.currency) != 0 || old.days_past_due != rec.days_past_due ||
                  strcmp(old.charge_off_date, rec.charge_off_date) != 0 ||
                  strcmp(old.last_payment_date, rec.last_payment_date) != 0 ||
                  !same_hash(&old.attributes_hash, &rec.attributes_hash);
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
            rc = tm_keys_encrypt(im->keys, im->attrs.p, im->attrs.n, aad, &blob, &bloblen, err);
            if (rc != TM_OK)
                return rc;
        }
        rec.id = found ? old.id : 0;
        rec.attributes = blob;
        rec.attributes_len = bloblen;
        rc = tm_store_debt_put(im->s, &rec, im->o->now, err);
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
    sb_reset(&im->details);
    char num[160];
    snprintf(num, sizeof num, "{\"debt\":\"%s\",\"consumer\":\"%s\",\"balance_minor\":%lld,\"currency\":",
             change_names[debt_change], change_names[consumer_change], (long long)p->balance);
    sb_put(&im->details, num, strlen(num));
    sb_str(&im->details, rec.currency);
    sb_put(&im->details, ",\"external_id\":", 15);
    sb_str(&im->details, GET(r, K_EXTERNAL_ID));
    sb_put(&im->details, "}", 1);
    if ((rc = sb_done(&im->details, err)) != TM_OK)
        return rc;
    return audit(im, debt_change == CH_CREATED ? "account.created" : "account.updated", subject,
                 im->details.p, err);
}

static int import_row(importer *im, const row *r, struct tm_err *err)
{
    parsed p;
    int checked = check_row(im, r, &p);
    if (im->seen_oom)
        return tm_err_set(err, TM_ENOMEM, "out of memory checking %s:%ld", im->o->name, r->line);
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

static int begin_batch(importer *im, struct tm_err *err)
{
    return tm_store_begin(im->s, err);
}

static int end_batch(importer *im, struct tm_err *err)
{
    int rc = tm_audit_writer_flush(im->audit, err);
    if (rc == TM_OK)
        rc = tm_store_commit(im->s, err);
    if (rc != TM_OK) {
        tm_store_rollback(im->s);
        tm_audit_writer_reset(im->audit);
        return rc;
    }
    tm_stopat("batch.committed"); /* import, event: after each committed batch */
    return rc;
}

/* After each row: commit the batch once it is full (with the audit head),
 * start the next, and report progress. */
static int row_done(importer *im, FILE *in, long *in_batch, struct tm_err *err)
{
    if (++*in_batch < (im->o->batch > 0 ? im->o->batch : DEFAULT_BATCH))
        return TM_OK;
    int rc = end_batch(im, err);
    if (rc == TM_OK)
        rc = begin_batch(im, err);
    *in_batch = 0;
    if (im->o->progress)
        im->o->progress(im->o->ud, (uint64_t)ftell(in), im->o->size);
    return rc;
}

/* At the end of the input: commit the last batch, or roll it back after a
 * failure of the store. */
static int finish_batches(importer *im, int rc, struct tm_err *err)
{
    if (rc == TM_OK)
        return end_batch(im, err);
    tm_store_rollback(im->s);
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
                              im->o->name);
        return tm_err_set(err, TM_EINVAL, "%s:1: header: %s", im->o->name, e.msg);
    }
    int ncols = tm_csv_nfields(c);
    if (ncols > MAX_COLS) {
        tm_csv_close(c);
        return tm_err_set(err, TM_EINVAL, "%s:1: header: more than %d columns", im->o->name, MAX_COLS);
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
            return tm_err_set(err, TM_ENOMEM, "%s:1: header: out of memory", im->o->name);
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
            rc = tm_err_set(err, TM_EINVAL, "%s:1: header: column %d has no name", im->o->name, i + 1);
        else if (tm_pay_holds_card_number(names[i], strlen(names[i])))
            rc = tm_err_set(err, TM_EINVAL, "%s:1: header: column %d holds a card number: refused",
                            im->o->name, i + 1);
        for (int j = 0; j < i && rc == TM_OK; j++)
            if (strcmp(names[i], names[j]) == 0)
                rc = tm_err_set(err, TM_EINVAL, "%s:1: header: column '%s' appears twice",
                                im->o->name, names[i]);
    }
    static const char *const required[] = {"external_id", "debt_id", "state", "balance", "currency",
                                           NULL};
    for (int k = 0; required[k] && rc == TM_OK; k++) {
        int have = 0;
        for (int i = 0; i < ncols; i++)
            have |= strcmp(names[i], required[k]) == 0;
        if (!have)
            rc = tm_err_set(err, TM_EINVAL, "%s:1: header: missing column '%s'", im->o->name,
                            required[k]);
    }
    int8_t kinds[MAX_COLS];
    for (int i = 0; i < ncols; i++)
        kinds[i] = (int8_t)known_index(names[i]);
    char *vals = NULL;
    size_t valcap = 0;
    long in_batch = 0;
    if (rc == TM_OK)
        rc = begin_batch(im, err);
    while (rc == TM_OK) {
        memset(&e, 0, sizeof e);
        got = tm_csv_next(c, &e);
        if (got == 0)
            break;
        im->st->rows++;
        if (got < 0) {
            if (got == TM_EIO || got == TM_ENOMEM) { /* the file itself failed */
                rc = tm_err_set(err, got, "%s: %s", im->o->name, e.msg);
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
            rc = row_done(im, in, &in_batch, err);
    }
    rc = finish_batches(im, rc, err);
    free(vals);
    for (int i = 0; i < ncols; i++)
        free(names[i]);
    tm_csv_close(c);
    return rc;
}

static int run_jsonl(importer *im, FILE *in, struct tm_err *err)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0, in_batch = 0;
    static tm_jtok toks[4 * MAX_COLS + 8];
    char *vals = NULL;
    size_t valcap = 0;
    char *names_buf = NULL;
    size_t namecap = 0;
    int rc = begin_batch(im, err);
    while (rc == TM_OK && (n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t'))
            k++;
        if (k == len)
            continue;
        im->st->rows++;
        tm_json j;
        struct tm_err e = {0};
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
            rc = row_done(im, in, &in_batch, err);
    }
    if (rc == TM_OK && ferror(in))
        rc = tm_err_set(err, TM_EIO, "%s: cannot read: %s", im->o->name, strerror(errno));
    rc = finish_batches(im, rc, err);
    free(line);
    free(vals);
    free(names_buf);
    return rc;
}

void tm_portfolio_audit_key(const tm_keys *keys, uint8_t out[32])
{
    char hex[TM_KEYS_HASH_HEX_LEN + 1];
    tm_keys_lookup_hash(keys, "tallyman audit chain key v1", hex);
    for (int i = 0; i < 32; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

int tm_import_accounts(tm_store *s, const tm_keys *keys, FILE *in, const tm_import_opts *opts,
                       tm_import_stats *stats, struct tm_err *err)
{
    memset(stats, 0, sizeof *stats);
    importer im = {.s = s, .keys = keys, .o = opts, .st = stats};
    uint8_t akey[32];
    tm_portfolio_audit_key(keys, akey);
    int rc = tm_audit_writer_open(s, akey, &im.audit, err);
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
        char details[400], subject[300];
        snprintf(subject, sizeof subject, "import:%s", opts->name);
        snprintf(details, sizeof details,
                 "{\"rows\":%ld,\"accepted\":%ld,\"rejected\":%ld,\"consumers_created\":%ld,"
                 "\"consumers_updated\":%ld,\"debts_created\":%ld,\"debts_updated\":%ld,"
                 "\"unchanged\":%ld}",
                 stats->rows, stats->accepted, stats->rejected, stats->consumers_created,
                 stats->consumers_updated, stats->debts_created, stats->debts_updated,
                 stats->unchanged);
        rc = tm_store_begin(s, err);
        if (rc == TM_OK)
            rc = tm_audit_write(im.audit, opts->now, opts->actor ? opts->actor : "import",
                                "import.finished", subject, details, err);
        if (rc == TM_OK)
            rc = end_batch(&im, err);
    }
    tm_audit_writer_close(im.audit);
    free(im.seen_hash);
    free(im.seen_line);
    free(im.pii.p);
    free(im.attrs.p);
    free(im.details.p);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Events.
 */
static const char *const event_types[] = {
    "payment", "promise", "dispute", "dispute_verified", "cease", "attorney", "bankruptcy",
    "deceased", "contact", "optout", "consent", "address_change", "phone_change", "email_change",
    "hardship", "inbound_reply", "broken_promise", NULL};

static const char *const ev_channels[] = {"call", "sms", "email", "letter", "push",
                                          "whatsapp", "visit", NULL};
static const char *const ev_outcomes[] = {"attempt", "not_connected", "voicemail", "conversation",
                                          "delivered", "failed", NULL};

static int in_list(const char *const *list, const char *v)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], v) == 0)
            return 1;
    return 0;
}

/* Adds or removes `item` in a comma-separated set held in `cur`. */
static void set_edit(const char *cur, const char *item, int add, char *out, size_t cap)
{
    out[0] = '\0';
    size_t n = 0;
    int present = 0;
    const char *p = cur ? cur : "";
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int same = len == strlen(item) && strncmp(p, item, len) == 0;
        present |= same;
        if (len && !(same && !add) && n + len + 2 < cap) {
            if (n)
                out[n++] = ',';
            memcpy(out + n, p, len);
            n += len;
            out[n] = '\0';
        }
        p += len + (comma ? 1 : 0);
    }
    if (add && !present && n + strlen(item) + 2 < cap) {
        if (n)
            out[n++] = ',';
        memcpy(out + n, item, strlen(item) + 1);
    }
}

typedef struct evctx {
    importer im;
    tm_event_stats *st;
    int wipe; /* the line held a card number where none belongs: wipe all of it */
} evctx;

static void ev_reject(evctx *x, long line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void ev_reject(evctx *x, long line, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreject(x->im.o, &x->st->rejected, line, field, fmt, ap);
    va_end(ap);
}

/* Replaces some personal fields of a consumer: decrypt, edit, re-encrypt. */
static int edit_pii(evctx *x, int64_t consumer, const char *const *fields, const char *const *values,
                    int n, struct tm_err *err)
{
    char ext[129], aad[220];
    uint8_t *old = NULL;
    size_t oldlen = 0;
    int rc = tm_store_consumer_pii(x->im.s, consumer, ext, &old, &oldlen, err);
    if (rc != TM_OK)
        return rc;
    snprintf(aad, sizeof aad, "consumer:%s", ext);
    char *plain = NULL;
    size_t plen = 0;
    if (old)
        rc = tm_keys_decrypt(x->im.keys, old, oldlen, aad, &plain, &plen, err);
    free(old);
    if (rc != TM_OK)
        return rc;
    /* Rebuild the object: the fields from before, replaced or added. */
    tm_jtok toks[64];
    tm_json j;
    struct tm_err e = {0};
    int have = plain && tm_json_scan(plain, plen, toks, 64, &j, &e) == TM_OK &&
               j.tok[0].type == TM_J_OBJECT;
    sbuf out = {0};
    sb_put(&out, "{", 1);
    int any = 0;
    for (int i = 0; pii_cols[i]; i++) {
        const char *v = NULL;
        char buf[1024];
        for (int k = 0; k < n; k++)
            if (strcmp(fields[k], pii_cols[i]) == 0)
                v = values[k];
        if (!v && have) {
            int t = tm_json_get(&j, 0, pii_cols[i]);
            if (t >= 0 && tm_json_str(&j, t, buf, sizeof buf) >= 0)
                v = buf;
        }
        if (!v || !*v)
            continue;
        if (any++)
            sb_put(&out, ",", 1);
        sb_str(&out, pii_cols[i]);
        sb_put(&out, ":", 1);
        sb_str(&out, v);
    }
    sb_put(&out, "}", 1);
    if (plain) {
        memset(plain, 0, plen);
        free(plain);
    }
    /* Personal data cut short would be encrypted and stored as the whole. */
    if ((rc = sb_done(&out, err)) != TM_OK) {
        if (out.p)
            OPENSSL_cleanse(out.p, out.n);
        free(out.p);
        return rc;
    }
    uint8_t *blob = NULL;
    size_t bloblen = 0;
    tm_hash16 h;
    hash16(x->im.keys, out.p, &h);
    rc = tm_keys_encrypt(x->im.keys, out.p, out.n, aad, &blob, &bloblen, err);
    memset(out.p, 0, out.n);
    free(out.p);
    if (rc == TM_OK)
        rc = tm_store_consumer_set_pii(x->im.s, consumer, blob, bloblen, &h,
                                       tm_keys_current(x->im.keys), x->im.o->now, err);
    free(blob);
    return rc;
}

/* The amount of a payment or promise, from a string or the number's text. */
static int event_amount(const tm_json *j, const char *currency, int64_t *minor, struct tm_err *e,
                        char *text, size_t cap)
{
    int v = tm_json_get(j, 0, "amount");
    text[0] = '\0';
    if (v < 0 || j->tok[v].type == TM_J_NULL)
        return tm_err_set(e, TM_EINVAL, "is required");
    if (j->tok[v].type == TM_J_STRING) {
        if (tm_json_str(j, v, text, cap) < 0)
            return tm_err_set(e, TM_EINVAL, "is too large (%u characters)", j->tok[v].len);
    } else if (j->tok[v].type == TM_J_NUMBER) {
        size_t rl;
        const char *raw = tm_json_raw(j, v, &rl);
        if (rl >= cap)
            return tm_err_set(e, TM_EINVAL, "is too large (%zu characters)", rl);
        memcpy(text, raw, rl);
        text[rl] = '\0';
    } else {
        return tm_err_set(e, TM_EINVAL, "must be an amount (\"25.00\" or 25.00)");
    }
    if (!text[0])
        return tm_err_set(e, TM_EINVAL, "is required");
    int exponent = 2;
    tm_valid_currency(currency, &exponent, NULL);
    if (tm_parse_money(text, exponent, 0, minor, e) != TM_OK)
        return TM_EINVAL;
    if (*minor <= 0)
        return tm_err_set(e, TM_EINVAL, "must be more than zero");
    return TM_OK;
}

/* One top-level member, for putting an event's members in name order. */
typedef struct member {
    const char *name;
    int value;
} member;

static int member_cmp(const void *a, const void *b)
{
    return strcmp(((const member *)a)->name, ((const member *)b)->name);
}

/* A keyed hash of what the event says: its members but the key, in name order, each value as
 * decoded text (a number as written, a card number as its digits), so the same event sent
 * again hashes the same however its members are ordered or escaped, and the hash reveals
 * nothing of personal data or a card number without the key file. */
static int event_content(evctx *x, const tm_json *j, tm_hash16 *out, struct tm_err *err)
{
    out->set = 0;
    uint32_t n = j->tok[0].count;
    size_t room = 1; /* the decoded names, each no longer than its text */
    for (uint32_t i = 0, k = 1; i < n; i++, k = j->tok[k + 1].next)
        room += (size_t)j->tok[k].len + 1;
    member *m = calloc(n ? n : 1, sizeof *m);
    char *names = malloc(room);
    sbuf b = {0};
    int rc = TM_OK;
    if (!m || !names) {
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
        goto out;
    }
    size_t noff = 0;
    uint32_t k = 1, used = 0;
    for (uint32_t i = 0; i < n; i++) {
        int len = tm_json_str(j, (int)k, names + noff, room - noff);
        if (len >= 0 && strcmp(names + noff, "key") != 0) {
            m[used].name = names + noff;
            m[used++].value = (int)k + 1;
            noff += (size_t)len + 1;
        }
        k = j->tok[k + 1].next;
    }
    qsort(m, used, sizeof *m, member_cmp);
    for (uint32_t i = 0; i < used; i++) {
        const tm_jtok *t = &j->tok[m[i].value];
        sb_put(&b, m[i].name, strlen(m[i].name) + 1);
        size_t start = b.n;
        if (t->type == TM_J_STRING) {
            char *v = malloc((size_t)t->len + 1);
            int vl = v ? tm_json_str(j, m[i].value, v, (size_t)t->len + 1) : -1;
            if (vl >= 0)
                sb_put(&b, v, (size_t)vl);
            if (v) {
                OPENSSL_cleanse(v, (size_t)t->len + 1);
                free(v);
            }
        } else {
            size_t rl;
            const char *raw = tm_json_raw(j, m[i].value, &rl);
            sb_put(&b, raw, rl);
        }
        if (strcmp(m[i].name, "card_number") == 0) { /* digits only: one card, one content */
            size_t w = start;
            for (size_t r = start; r < b.n; r++)
                if (b.p[r] != ' ' && b.p[r] != '-')
                    b.p[w++] = b.p[r];
            b.n = w;
        }
        sb_put(&b, "", 1);
    }
    if (!b.p && used) {
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
        goto out;
    }
    uint8_t md[32];
    if (tm_keys_lookup_raw(x->im.keys, b.p ? b.p : "", b.n, md) != TM_OK) {
        rc = tm_err_set(err, TM_ECRYPTO, "hashing the event failed");
        goto out;
    }
    memcpy(out->b, md, TM_STORE_HASH_LEN);
    out->set = 1;
out:
    if (b.p) {
        OPENSSL_cleanse(b.p, b.cap);
        free(b.p);
    }
    free(names);
    free(m);
    return rc;
}

/* Overwrites the bytes of value `v` in the line buffer the scanner reads in
 * place, so a card number does not linger in memory after it is tokenised.
 * The buffer is the reader's own, writable line; tm_json only hands out
 * const views of it. */
static void wipe_value(const tm_json *j, int v)
{
    size_t rl = 0;
    const char *raw = v >= 0 ? tm_json_raw(j, v, &rl) : NULL;
    if (raw && rl)
        OPENSSL_cleanse((char *)(uintptr_t)raw, rl);
}

/* A payment's instrument, tokenised at the edge: a "card_number" is checked
 * (brand, length, Luhn) and replaced by a token (core/pay.h), and the number
 * is wiped from the line; no table, audit record or message ever holds it.
 * A "routing_number" must pass the ABA checksum. TM_OK with token "" when
 * the event names no instrument; TM_EINVAL (already reported) otherwise. */
static int payment_instrument(evctx *x, const tm_json *j, long line, char token[TM_PAY_TOKEN_LEN])
{
    token[0] = '\0';
    struct tm_err e = {0};
    int rv = tm_json_get(j, 0, "routing_number");
    if (rv >= 0) {
        char routing[16];
        if (tm_json_str(j, rv, routing, sizeof routing) <= 0 || tm_pay_aba_check(routing, &e) != TM_OK) {
            ev_reject(x, line, "routing_number", "%s",
                      e.msg[0] ? e.msg : "must be a 9-digit ABA routing number as a string");
            return TM_EINVAL;
        }
    }
    int cv = tm_json_get(j, 0, "card_number");
    int tv = tm_json_get(j, 0, "instrument_token");
    if (cv < 0 && tv >= 0) {
        /* A token made before (tallyman pay): only one this key file issued, never any other
         * string (which could be anything, a card number included). tallyman pay's own charges
         * carry the token it charged. */
        int ok = tm_json_str(j, tv, token, TM_PAY_TOKEN_LEN) > 0;
        memset(&e, 0, sizeof e);
        if (!ok || (!x->im.o->payments_taken && tm_pay_token_check(x->im.keys, token, &e) != TM_OK)) {
            token[0] = '\0';
            ev_reject(x, line, "instrument_token", "%s",
                      ok ? e.msg : "is not a token (tok_<24 hex digits>_<last four>_<brand>)");
            return TM_EINVAL;
        }
        return TM_OK;
    }
    if (cv < 0)
        return TM_OK;
    char pan[64];
    int n = tm_json_str(j, cv, pan, sizeof pan);
    int rc = n > 0 ? tm_pay_tokenize(x->im.keys, pan, token, &e) : TM_EINVAL;
    OPENSSL_cleanse(pan, sizeof pan);
    wipe_value(j, cv);
    if (rc != TM_OK) {
        ev_reject(x, line, "card_number", "%s",
                  n > 0 ? e.msg : "must be a card number as a string of digits");
        return TM_EINVAL;
    }
    return TM_OK;
}

static int apply_event(evctx *x, const tm_json *j, long line, struct tm_err *err)
{
    char key[256], type[64], debt_id[129], at_s[64], buf[600];
    tm_store *s = x->im.s;
    /* A card number belongs only in a payment's card_number, where it becomes a token: one
     * anywhere else would be stored or echoed as it stands. The field is named, the number
     * never repeated. */
    char where[200], itoken[TM_PAY_TOKEN_LEN];
    /* A token this engine issued stands for a card; it is not one, whatever digits its hash
     * happens to show (tallyman pay's own charges carry the token they charged). */
    int tv = tm_json_get(j, 0, "instrument_token");
    int token_ok = tv >= 0 && tm_json_str(j, tv, itoken, sizeof itoken) > 0 &&
                   (x->im.o->payments_taken || tm_pay_token_check(x->im.keys, itoken, NULL) == TM_OK);
    const char *const except[] = {"card_number", token_ok ? "instrument_token" : NULL, NULL};
    int pan = tm_pay_json_find_card_number(j, except, where, sizeof where);
    if (pan < 0)
        return tm_err_set(err, pan, "out of memory");
    if (pan) {
        x->wipe = 1;
        ev_reject(x, line, where, "holds a card number: refused (a card number is taken only in "
                                  "a payment's card_number, and kept nowhere)");
        return TM_OK;
    }
    if (tm_json_str(j, tm_json_get(j, 0, "key"), key, sizeof key) <= 0) {
        ev_reject(x, line, "key", "is required (a string of at most 255 bytes)");
        return TM_OK;
    }
    if (tm_json_str(j, tm_json_get(j, 0, "type"), type, sizeof type) < 0 || !in_list(event_types, type)) {
        ev_reject(x, line, "type", "is required and must be one of payment, promise, dispute, "
                                   "dispute_verified, cease, attorney, bankruptcy, deceased, contact, "
                                   "optout, consent, address_change, phone_change, email_change, "
                                   "hardship, inbound_reply, broken_promise");
        return TM_OK;
    }
    if (tm_json_str(j, tm_json_get(j, 0, "debt_id"), debt_id, sizeof debt_id) <= 0) {
        ev_reject(x, line, "debt_id", "is required");
        return TM_OK;
    }
    int64_t at;
    int32_t ns;
    int off;
    struct tm_err e = {0};
    if (tm_json_str(j, tm_json_get(j, 0, "at"), at_s, sizeof at_s) < 0 ||
        tm_calendar_parse_rfc3339(at_s, &at, &ns, &off, &e) != TM_OK) {
        ev_reject(x, line, "at", "is required (an RFC 3339 time)%s%s", e.msg[0] ? ": " : "", e.msg);
        return TM_OK;
    }
    /* A key names one event: the same event again is a duplicate, the key on another event
     * (another debt, amount, time, ...) is refused, naming where the key was first used. */
    tm_hash16 content;
    int rc = event_content(x, j, &content, err);
    if (rc != TM_OK)
        return rc;
    char origin[300];
    if (x->im.o->origin)
        snprintf(origin, sizeof origin, "%s", x->im.o->origin);
    else
        snprintf(origin, sizeof origin, "%s:%ld", x->im.o->name, line);
    tm_event_ref prev;
    int dup = 0, late = 0;
    if ((rc = tm_store_event_find(s, key, &prev, &dup, err)) != TM_OK)
        return rc;
    if (dup && prev.content.set && !same_hash(&prev.content, &content)) {
        char when[40];
        tm_calendar_format_rfc3339(prev.at, 0, when, sizeof when, NULL);
        ev_reject(x, line, "key", "'%s' was first used %s%s for another event (at %s): a key names "
                                  "one event, so this one is refused as a conflicting reuse",
                  key, prev.origin[0] ? "on " : "before", prev.origin, when);
        return TM_OK;
    }
    if (dup) {
        /* A card payment already charged but kept unapplied (out of order) by an earlier
         * build is applied now: the money was taken. */
        if (!(x->im.o->payments_taken && prev.status == TM_EVENT_OUT_OF_ORDER)) {
            x->st->duplicates++;
            return TM_OK;
        }
        late = 1;
    }
    tm_debt_rec d;
    int found = 0;
    rc = tm_store_debt_find(s, debt_id, &d, &found, err);
    if (rc != TM_OK)
        return rc;
    enum tm_event_status status = TM_EVENT_APPLIED;
    if (!found) {
        ev_reject(x, line, "debt_id", "unknown debt '%s' (the event is kept, not applied)", debt_id);
        status = TM_EVENT_UNKNOWN_DEBT;
    } else if (d.has_last_event && at < d.last_event_at && !x->im.o->payments_taken) {
        char lb[40];
        tm_calendar_format_rfc3339(d.last_event_at, 0, lb, sizeof lb, NULL);
        ev_reject(x, line, "at", "older than the last event applied to debt '%s' (%s): kept, not applied",
                  debt_id, lb);
        status = TM_EVENT_OUT_OF_ORDER;
    }
    char details[600];
    snprintf(details, sizeof details, "{\"type\":\"%s\"}", type);
    if (status == TM_EVENT_APPLIED) {
        if (strcmp(type, "payment") == 0 || strcmp(type, "promise") == 0) {
            int64_t minor;
            char amount[64];
            memset(&e, 0, sizeof e);
            if (event_amount(j, d.currency, &minor, &e, amount, sizeof amount) != TM_OK) {
                ev_reject(x, line, "amount", "%s", e.msg);
                return TM_OK;
            }
            if (type[1] == 'a') { /* payment */
                char token[TM_PAY_TOKEN_LEN] = "";
                if (payment_instrument(x, j, line, token) != TM_OK)
                    return TM_OK; /* rejected and reported */
                int64_t balance = 0;
                rc = tm_store_payment_apply(s, d.id, minor, d.currency, at, token, &balance, err);
                if (token[0])
                    snprintf(details, sizeof details,
                             "{\"type\":\"payment\",\"amount_minor\":%lld,\"balance_minor\":%lld,"
                             "\"instrument\":\"%s\"}",
                             (long long)minor, (long long)balance, token);
                else
                    snprintf(details, sizeof details,
                             "{\"type\":\"payment\",\"amount_minor\":%lld,\"balance_minor\":%lld}",
                             (long long)minor, (long long)balance);
            } else {
                char due[32];
                tm_date dd;
                if (tm_json_str(j, tm_json_get(j, 0, "due"), due, sizeof due) < 0 ||
                    tm_calendar_parse_date(due, &dd, NULL) != TM_OK) {
                    ev_reject(x, line, "due", "is required (YYYY-MM-DD, a real date)");
                    return TM_OK;
                }
                rc = tm_store_promise_add(s, d.id, minor, d.currency, due, at, err);
                snprintf(details, sizeof details,
                         "{\"type\":\"promise\",\"amount_minor\":%lld,\"due\":\"%s\"}", (long long)minor,
                         due);
            }
        } else if (strcmp(type, "dispute") == 0 || strcmp(type, "dispute_verified") == 0) {
            rc = tm_store_debt_set_dispute(
                s, d.id, type[7] ? TM_DEBT_DISPUTE_VERIFIED : TM_DEBT_DISPUTE_PENDING, err);
        } else if (strcmp(type, "cease") == 0 || strcmp(type, "attorney") == 0 ||
                   strcmp(type, "bankruptcy") == 0 || strcmp(type, "deceased") == 0) {
            char cur[256], next[300];
            rc = tm_store_consumer_get_set(s, d.consumer_id, TM_CONSUMER_FLAGS, cur, sizeof cur, err);
            set_edit(cur, type, 1, next, sizeof next);
            if (rc == TM_OK)
                rc = tm_store_consumer_put_set(s, d.consumer_id, TM_CONSUMER_FLAGS, next, err);
        } else if (strcmp(type, "contact") == 0 || strcmp(type, "optout") == 0 ||
                   strcmp(type, "consent") == 0) {
            char ch[32];
            if (tm_json_str(j, tm_json_get(j, 0, "channel"), ch, sizeof ch) < 0 ||
                !(in_list(ev_channels, ch) || (strcmp(type, "consent") == 0 && strcmp(ch, "autodial") == 0))) {
                ev_reject(x, line, "channel", "is required: call, sms, email, letter, push, whatsapp or visit");
                return TM_OK;
            }
            if (strcmp(type, "contact") == 0) {
                char outcome[32];
                if (tm_json_str(j, tm_json_get(j, 0, "outcome"), outcome, sizeof outcome) < 0 ||
                    !in_list(ev_outcomes, outcome)) {
                    ev_reject(x, line, "outcome", "is required: attempt, not_connected, voicemail, "
                                                  "conversation, delivered or failed");
                    return TM_OK;
                }
                rc = tm_store_contact_add(s, d.id, ch, at, outcome, err);
                snprintf(details, sizeof details, "{\"type\":\"contact\",\"channel\":\"%s\",\"outcome\":\"%s\"}",
                         ch, outcome);
            } else {
                int given = 1;
                if (strcmp(type, "consent") == 0) {
                    int g = tm_json_get(j, 0, "given");
                    if (g < 0 || (j->tok[g].type != TM_J_TRUE && j->tok[g].type != TM_J_FALSE)) {
                        ev_reject(x, line, "given", "is required (true or false)");
                        return TM_OK;
                    }
                    given = j->tok[g].type == TM_J_TRUE;
                }
                enum tm_consumer_set which =
                    strcmp(type, "optout") == 0 ? TM_CONSUMER_OPTOUT : TM_CONSUMER_CONSENT;
                char cur[256], next[300];
                rc = tm_store_consumer_get_set(s, d.consumer_id, which, cur, sizeof cur, err);
                set_edit(cur, ch, given, next, sizeof next);
                if (rc == TM_OK)
                    rc = tm_store_consumer_put_set(s, d.consumer_id, which, next, err);
                snprintf(details, sizeof details, "{\"type\":\"%s\",\"channel\":\"%s\",\"given\":%s}", type,
                         ch, given ? "true" : "false");
            }
        } else if (strcmp(type, "hardship") == 0 || strcmp(type, "broken_promise") == 0) {
            /* Kept as the event itself: journeys see debt.hardship, the
             * journey's handler sees the broken promise, and training counts
             * broken promises. Nothing else changes. */
        } else if (strcmp(type, "inbound_reply") == 0) {
            char ch[32];
            if (tm_json_str(j, tm_json_get(j, 0, "channel"), ch, sizeof ch) < 0 || !in_list(ev_channels, ch)) {
                ev_reject(x, line, "channel", "is required: call, sms, email, letter, push, whatsapp or visit");
                return TM_OK;
            }
            /* The reply's words are the consumer's: not kept here. */
            snprintf(details, sizeof details, "{\"type\":\"inbound_reply\",\"channel\":\"%s\"}", ch);
        } else { /* address_change, phone_change, email_change */
            const char *fields[5], *values[5];
            char vals[5][256];
            int n = 0;
            static const char *const addr[] = {"address1", "city", "zip", NULL};
            static const char *const phone[] = {"phone", NULL};
            static const char *const email[] = {"email", NULL};
            const char *const *want = type[0] == 'a' ? addr : type[0] == 'p' ? phone : email;
            for (int i = 0; want[i]; i++) {
                if (tm_json_str(j, tm_json_get(j, 0, want[i]), vals[n], sizeof vals[n]) > 0) {
                    memset(&e, 0, sizeof e);
                    int ok = strcmp(want[i], "phone") == 0   ? tm_valid_phone_e164(vals[n], &e)
                             : strcmp(want[i], "email") == 0 ? tm_valid_email(vals[n], &e)
                             : strcmp(want[i], "zip") == 0   ? tm_valid_zip(vals[n], &e)
                                                             : TM_OK;
                    if (ok != TM_OK) {
                        ev_reject(x, line, want[i], "%s", e.msg);
                        return TM_OK;
                    }
                    fields[n] = want[i];
                    values[n] = vals[n];
                    n++;
                }
            }
            if (n == 0) {
                ev_reject(x, line, want[0], "is required for %s", type);
                return TM_OK;
            }
            rc = edit_pii(x, d.consumer_id, fields, values, n, err);
            if (rc == TM_OK && type[0] != 'a') {
                tm_hash16 h;
                if (type[0] == 'e') {
                    char norm[320];
                    if (tm_email_normalise(values[0], norm, sizeof norm, NULL) != TM_OK)
                        snprintf(norm, sizeof norm, "%s", values[0]);
                    hash16(x->im.keys, norm, &h);
                } else {
                    hash16(x->im.keys, values[0], &h);
                }
                rc = tm_store_consumer_set_lookup(
                    s, d.consumer_id, type[0] == 'e' ? TM_LOOKUP_EMAIL : TM_LOOKUP_PHONE, &h, err);
            }
            snprintf(details, sizeof details, "{\"type\":\"%s\",\"personal_data\":\"encrypted\"}", type);
        }
        if (rc == TM_OK)
            rc = tm_store_debt_touch(s, d.id, at, x->im.o->now, err);
    }
    if (rc != TM_OK)
        return rc;
    /* Every event is kept, applied or not, so a rerun skips it. */
    if (late)
        rc = tm_store_event_set_applied(s, key, details, x->im.o->now, err);
    else
        rc = tm_store_event_add(s, key, type, found ? d.id : 0, at, details, status, &content,
                                origin, x->im.o->now, err);
    if (rc != TM_OK)
        return rc;
    char subject[200], action[80];
    snprintf(subject, sizeof subject, "debt:%s", debt_id);
    snprintf(action, sizeof action, "event.%s%s", type, status != TM_EVENT_APPLIED ? ".kept" : "");
    snprintf(buf, sizeof buf, "%.500s", details);
    rc = audit(&x->im, action, subject, buf, err);
    if (rc == TM_OK && status == TM_EVENT_APPLIED)
        x->st->applied++;
    return rc;
}

int tm_apply_events(tm_store *s, const tm_keys *keys, FILE *in, const tm_import_opts *opts,
                    tm_event_stats *stats, struct tm_err *err)
{
    memset(stats, 0, sizeof *stats);
    tm_import_stats ignored = {0};
    evctx x = {.im = {.s = s, .keys = keys, .o = opts, .st = &ignored}, .st = stats};
    uint8_t akey[32];
    tm_portfolio_audit_key(keys, akey);
    int rc = tm_audit_writer_open(s, akey, &x.im.audit, err);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0, in_batch = 0;
    static tm_jtok toks[256];
    if (rc == TM_OK)
        rc = begin_batch(&x.im, err);
    while (rc == TM_OK && (n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t'))
            k++;
        if (k == len)
            continue;
        stats->events++;
        tm_json j;
        struct tm_err e = {0};
        if (tm_json_scan(line, len, toks, 256, &j, &e) != TM_OK || j.tok[0].type != TM_J_OBJECT) {
            ev_reject(&x, lineno, NULL, "not a valid JSON object: %s", e.msg[0] ? e.msg : "not an object");
            OPENSSL_cleanse(line, len); /* it may hold a card number we cannot find */
            continue;
        }
        x.wipe = 0;
        rc = apply_event(&x, &j, lineno, err);
        /* Whatever became of the event (applied, duplicate, rejected), a card
         * number in it does not outlive this line. */
        wipe_value(&j, tm_json_get(&j, 0, "card_number"));
        if (x.wipe)
            OPENSSL_cleanse(line, len);
        tm_stopat("event.row"); /* event: after each event, inside its uncommitted batch */
        if (rc == TM_OK)
            rc = row_done(&x.im, in, &in_batch, err);
    }
    /* A file that cannot be read (a directory, an I/O error) is not an empty one. */
    if (rc == TM_OK && ferror(in))
        rc = tm_err_set(err, TM_EIO, "%s: cannot read: %s", opts->name, strerror(errno));
    rc = finish_batches(&x.im, rc, err);
    free(line);
    tm_audit_writer_close(x.im.audit);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Key rotation: re-encrypt in batches. Every column that holds ciphertext is
 * a kind here: consumers' personal data and outbox payloads (found by their
 * key_version column) and debts' attributes (whose version is in the blob
 * only, so every debt is visited in id order).
 */
enum { RK_CONSUMERS, RK_DEBTS, RK_OUTBOX, RK_KINDS };

typedef struct rekey {
    tm_store *s;
    const tm_keys *keys;
    int kind;
    long done[RK_KINDS];
    struct tm_err *err;
} rekey;

static int rekey_one(void *ud, int64_t id, const char *bound_to, const uint8_t *blob, size_t len)
{
    rekey *r = ud;
    int cur = tm_keys_current(r->keys);
    /* A consumer's or an outbox row's version is also in its row, which the
     * scan goes by, so those are always rewritten (else a mismatch would come
     * back on every scan). */
    if (r->kind == RK_DEBTS && tm_keys_blob_version(blob, len) == cur)
        return TM_OK;
    char *plain = NULL;
    size_t plen = 0;
    uint8_t *nb = NULL;
    size_t nl = 0;
    int rc = tm_keys_decrypt(r->keys, blob, len, bound_to, &plain, &plen, r->err);
    if (rc == TM_OK)
        rc = tm_keys_encrypt(r->keys, plain, plen, bound_to, &nb, &nl, r->err);
    if (plain) {
        OPENSSL_cleanse(plain, plen);
        free(plain);
    }
    if (rc == TM_OK) {
        if (r->kind == RK_DEBTS)
            rc = tm_store_debt_set_attributes(r->s, id, nb, nl, r->err);
        else if (r->kind == RK_OUTBOX)
            rc = tm_store_outbox_set_payload(r->s, id, nb, nl, cur, r->err);
        else
            rc = tm_store_consumer_set_pii(r->s, id, nb, nl, NULL, cur, 0, r->err);
    } else if (r->err) {
        /* Say which record, so it can be looked at. */
        char why[sizeof r->err->msg];
        snprintf(why, sizeof why, "%s", r->err->msg);
        tm_err_set(r->err, rc, "re-encrypting %s: %.400s", bound_to, why);
    }
    free(nb);
    if (rc == TM_OK)
        r->done[r->kind]++;
    return rc;
}

int tm_portfolio_reencrypt(tm_store *s, const tm_keys *keys, int batch, tm_reencrypt_stats *st,
                           struct tm_err *err)
{
    rekey r = {.s = s, .keys = keys, .err = err};
    if (batch <= 0)
        batch = 1000;
    int cur = tm_keys_current(keys);
    int64_t after = 0;
    int rc = TM_OK;
    for (r.kind = 0; rc == TM_OK && r.kind < RK_KINDS; r.kind++) {
        for (;;) {
            int seen = 0;
            long before = r.done[r.kind];
            rc = tm_store_begin(s, err);
            if (rc == TM_OK) {
                if (r.kind == RK_CONSUMERS)
                    rc = tm_store_scan_stale_pii(s, cur, batch, rekey_one, &r, &seen, err);
                else if (r.kind == RK_DEBTS)
                    rc = tm_store_scan_attributes(s, &after, batch, rekey_one, &r, &seen, err);
                else
                    rc = tm_store_scan_stale_outbox(s, cur, batch, rekey_one, &r, &seen, err);
            }
            if (rc == TM_OK)
                rc = tm_store_commit(s, err);
            if (rc != TM_OK) {
                tm_store_rollback(s);
                r.done[r.kind] = before; /* that batch is undone */
                break;
            }
            if (seen < batch)
                break;
        }
    }
    st->consumers = r.done[RK_CONSUMERS];
    st->debts = r.done[RK_DEBTS];
    st->outbox = r.done[RK_OUTBOX];
    return rc;
}
