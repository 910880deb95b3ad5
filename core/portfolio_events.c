/*
 * core/portfolio_events.c: events (portfolio.h, tm_apply_events): payments,
 * promises, disputes, cease requests, contacts, consent, changes of address,
 * phone or email, hardship, replies and broken promises, as JSON lines. Each
 * is checked field by field, applied to its debt and consumer (personal data
 * decrypted, edited and encrypted again), kept under its key with a keyed
 * hash of what it says, and audited; card numbers become tokens at once and
 * are wiped from the line.
 */
#include "portfolio_int.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "contact.h"
#include "jscan.h"
#include "jsonl.h"
#include "pay.h"
#include "stopat.h"
#include "validate.h"

static const char *const event_types[] = {
    "payment", "promise", "dispute", "dispute_verified", "cease", "attorney", "bankruptcy",
    "deceased", "contact", "optout", "consent", "address_change", "phone_change", "email_change",
    "hardship", "inbound_reply", "broken_promise", "delivered", "bounced", "failed", NULL};

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

typedef struct evctx {
    tm__pf_run run;
    tm_event_stats *st;
    int wipe; /* the line held a card number where none belongs: wipe all of it */
} evctx;

static void ev_reject(evctx *x, long line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void ev_reject(evctx *x, long line, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tm__pf_vreject(x->run.o, &x->st->rejected, line, field, fmt, ap);
    va_end(ap);
}

/* Replaces some personal fields of a consumer: decrypt, edit, re-encrypt.
 * With `kind` ("phone", "email", "address"; NULL: none) the point in use
 * before is kept as "<kind>_prev" and the change's time `at` as
 * "<kind>_since", so a message sent before that time goes to the point it
 * replaced; `state` is the consumer's residence state (an address's when
 * the data names none). */
static int edit_pii(evctx *x, int64_t consumer, const char *const *fields_in,
                    const char *const *values_in, int n_in, const char *kind, int64_t at,
                    const char *state, struct tm_err *err)
{
    const char *fields[12], *values[12];
    int n = 0;
    for (int i = 0; i < n_in && n < 10; i++, n++) {
        fields[n] = fields_in[i];
        values[n] = values_in[i];
    }
    char prev_name[32], since_name[32], since[24];
    tm_contact_points pts;
    memset(&pts, 0, sizeof pts);
    char block[600] = "";
    char ext[129], aad[220];
    uint8_t *old = NULL;
    size_t oldlen = 0;
    int rc = tm_store_consumer_pii(x->run.s, consumer, ext, &old, &oldlen, err);
    if (rc != TM_OK)
        return rc;
    snprintf(aad, sizeof aad, "consumer:%s", ext);
    char *plain = NULL;
    size_t plen = 0;
    if (old)
        rc = tm_keys_decrypt(x->run.keys, old, oldlen, aad, &plain, &plen, err);
    free(old);
    if (rc != TM_OK)
        return rc;
    if (kind && rc == TM_OK) {
        /* The point in use until now, kept for the messages sent before the
         * change's time. A consumer whose data does not read has none. */
        tm_contact_points_read(plain, plain ? plen : 0, state, &pts, NULL);
        const char *prev = strcmp(kind, "phone") == 0   ? pts.phone
                           : strcmp(kind, "email") == 0 ? pts.email
                                                        : (tm_contact_postal_block(&pts, block, sizeof block), block);
        snprintf(prev_name, sizeof prev_name, "%s_prev", kind);
        snprintf(since_name, sizeof since_name, "%s_since", kind);
        snprintf(since, sizeof since, "%lld", (long long)at);
        fields[n] = prev_name;
        values[n++] = prev; /* "" (none) leaves the field out */
        fields[n] = since_name;
        values[n++] = since;
    }
    /* Rebuild the object: the fields from before, replaced or added. */
    tm_jtok toks[64];
    tm_json j;
    struct tm_err e = {0};
    int have = plain && tm_json_scan(plain, plen, toks, 64, &j, &e) == TM_OK &&
               j.tok[0].type == TM_J_OBJECT;
    tm_buf out;
    tm_buf_init(&out, TM_BUF_SECRET);
    tm_jw w;
    tm_jw_init(&w, &out, 0);
    tm_jw_obj(&w);
    for (int i = 0; tm__pf_pii_cols[i]; i++) {
        const char *v = NULL;
        char buf[1024];
        for (int k = 0; k < n; k++)
            if (strcmp(fields[k], tm__pf_pii_cols[i]) == 0)
                v = values[k];
        if (!v && have) {
            int t = tm_json_get(&j, 0, tm__pf_pii_cols[i]);
            if (t >= 0 && tm_json_str(&j, t, buf, sizeof buf) >= 0)
                v = buf;
        }
        if (!v || !*v)
            continue;
        tm_jw_key(&w, tm__pf_pii_cols[i]);
        tm_jw_str(&w, v);
    }
    tm_jw_obj_end(&w);
    if (plain) {
        memset(plain, 0, plen);
        free(plain);
    }
    tm_contact_points_wipe(&pts);
    OPENSSL_cleanse(block, sizeof block);
    /* Personal data cut short would be encrypted and stored as the whole. */
    if ((rc = tm_buf_done(&out, "the consumer's personal data", err)) != TM_OK) {
        tm_buf_free(&out);
        return rc;
    }
    uint8_t *blob = NULL;
    size_t bloblen = 0;
    tm_hash16 h;
    tm__pf_hash16(x->run.keys, out.data, &h);
    rc = tm_keys_encrypt(x->run.keys, out.data, out.len, aad, &blob, &bloblen, err);
    tm_buf_free(&out);
    if (rc == TM_OK)
        rc = tm_store_consumer_set_pii(x->run.s, consumer, blob, bloblen, &h,
                                       tm_keys_current(x->run.keys), x->run.o->now, err);
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
    tm_buf b;
    tm_buf_init(&b, TM_BUF_SECRET); /* the decoded values: a card number among them */
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
        tm_buf_put(&b, m[i].name, strlen(m[i].name) + 1);
        size_t start = b.len;
        if (t->type == TM_J_STRING) {
            char *v = malloc((size_t)t->len + 1);
            int vl = v ? tm_json_str(j, m[i].value, v, (size_t)t->len + 1) : -1;
            if (vl >= 0)
                tm_buf_put(&b, v, (size_t)vl);
            if (v) {
                OPENSSL_cleanse(v, (size_t)t->len + 1);
                free(v);
            }
        } else {
            size_t rl;
            const char *raw = tm_json_raw(j, m[i].value, &rl);
            tm_buf_put(&b, raw, rl);
        }
        if (strcmp(m[i].name, "card_number") == 0 && !tm_buf_failed(&b)) {
            /* digits only: one card, one content */
            size_t w = start;
            for (size_t r = start; r < b.len; r++)
                if (b.data[r] != ' ' && b.data[r] != '-')
                    b.data[w++] = b.data[r];
            tm_buf_truncate(&b, w);
        }
        tm_buf_put(&b, "", 1);
    }
    /* A content cut short would hash as another event's. */
    if ((rc = tm_buf_done(&b, "the event's content", err)) != TM_OK)
        goto out;
    uint8_t md[32];
    if (tm_keys_lookup_raw(x->run.keys, b.data ? b.data : "", b.len, md) != TM_OK) {
        rc = tm_err_set(err, TM_ECRYPTO, "hashing the event failed");
        goto out;
    }
    memcpy(out->b, md, TM_STORE_HASH_LEN);
    out->set = 1;
out:
    tm_buf_free(&b);
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
        if (!ok || (!x->run.o->payments_taken && tm_pay_token_check(x->run.keys, token, &e) != TM_OK)) {
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
    int rc = n > 0 ? tm_pay_tokenize(x->run.keys, pan, token, &e) : TM_EINVAL;
    OPENSSL_cleanse(pan, sizeof pan);
    wipe_value(j, cv);
    if (rc != TM_OK) {
        ev_reject(x, line, "card_number", "%s",
                  n > 0 ? e.msg : "must be a card number as a string of digits");
        return TM_EINVAL;
    }
    return TM_OK;
}

/* Starts an event's details in `b` (emptied): {"type":TYPE and the members that follow. */
static void details_begin(tm_jw *w, tm_buf *b, const char *type)
{
    tm_buf_reset(b);
    tm_jw_init(w, b, 0);
    tm_jw_obj(w);
    tm_jw_key(w, "type");
    tm_jw_str(w, type);
}

/* A delivery receipt for sent message `mkey` on `channel`: the contact it
 * was gets its outcome (delivered; a call's message delivered is a
 * voicemail, an attempt; bounced and failed are failed), and a hard bounce
 * or a failure marks the point bad: the email for an email, the phone for a
 * call, SMS or WhatsApp, the postal address (none on file) for a letter, so
 * it is not used again until it changes. TM_EINVAL when rejected (reported). */
static int apply_receipt(evctx *x, const tm_json *j, long line, const tm_debt_rec *d, const char *type,
                         const char *mkey, const char *channel, int64_t sent, tm_jw *w, tm_buf *db,
                         struct tm_err *err)
{
    int delivered = strcmp(type, "delivered") == 0;
    int hard = !delivered;
    if (strcmp(type, "bounced") == 0) {
        char kind[16] = "hard";
        int kv = tm_json_get(j, 0, "kind");
        if (kv >= 0 && (tm_json_str(j, kv, kind, sizeof kind) < 0 ||
                        (strcmp(kind, "hard") != 0 && strcmp(kind, "soft") != 0))) {
            ev_reject(x, line, "kind", "must be hard or soft");
            return TM_EINVAL;
        }
        hard = kind[0] == 'h';
    }
    const char *outcome = !delivered ? "failed" : strcmp(channel, "call") == 0 ? "voicemail" : "delivered";
    int updated = 0;
    int rc = tm_store_contact_set_outcome(x->run.s, mkey, outcome, &updated, err);
    if (rc == TM_OK && !updated) /* sent before contacts named their message */
        rc = tm_store_contact_add_message(x->run.s, d->id, channel, sent, outcome, NULL, NULL, mkey, err);
    const char *bad = "";
    if (rc == TM_OK && hard) {
        if (strcmp(channel, "email") == 0) {
            bad = "email";
            rc = tm_store_consumer_mark_bad(x->run.s, d->consumer_id, TM_LOOKUP_EMAIL, err);
        } else if (strcmp(channel, "call") == 0 || strcmp(channel, "sms") == 0 ||
                   strcmp(channel, "whatsapp") == 0) {
            bad = "phone";
            rc = tm_store_consumer_mark_bad(x->run.s, d->consumer_id, TM_LOOKUP_PHONE, err);
        } else if (strcmp(channel, "letter") == 0) {
            bad = "address";
            tm_consumer_contact cc = {.has_address = 0};
            rc = tm_store_consumer_set_contact(x->run.s, d->consumer_id, &cc, err);
        }
    }
    details_begin(w, db, type);
    tm_jw_key(w, "message");
    tm_jw_str(w, mkey);
    tm_jw_key(w, "channel");
    tm_jw_str(w, channel);
    tm_jw_key(w, "outcome");
    tm_jw_str(w, outcome);
    if (bad[0]) {
        tm_jw_key(w, "marked_bad");
        tm_jw_str(w, bad);
    }
    tm_jw_obj_end(w);
    return rc;
}

/* A reply from the consumer, on `channel` or on the channel of message
 * `mkey` ("" none). It counts in the contact history as an inbound contact
 * (a call is a conversation); a reply asking to stop (tm_contact_is_stop)
 * opts the consumer out of that channel at once, with its own audit record
 * citing the law. The words are not kept. A reply for a closed debt is
 * refused. TM_EINVAL when rejected (reported). */
static int apply_reply(evctx *x, const tm_json *j, long line, const tm_debt_rec *d, const char *mkey,
                       const char *mchannel, int64_t at, tm_jw *w, tm_buf *db,
                       struct tm_err *err)
{
    char ch[32];
    int cv = tm_json_get(j, 0, "channel");
    if (cv < 0 && mchannel[0]) {
        snprintf(ch, sizeof ch, "%s", mchannel);
    } else if (tm_json_str(j, cv, ch, sizeof ch) < 0 || !in_list(ev_channels, ch)) {
        ev_reject(x, line, "channel", "is required: call, sms, email, letter, push, whatsapp or visit");
        return TM_EINVAL;
    }
    char text[1024] = "";
    int tv = tm_json_get(j, 0, "text");
    if (tv >= 0 && j->tok[tv].type != TM_J_NULL && tm_json_str(j, tv, text, sizeof text) < 0) {
        ev_reject(x, line, "text", "must be a string of at most %zu bytes", sizeof text - 1);
        return TM_EINVAL;
    }
    tm_work_debt wd;
    int found = 0;
    int rc = tm_store_work_debt(x->run.s, d->id, &wd, &found, err);
    if (rc != TM_OK)
        return rc;
    if (found && wd.status != TM_DEBT_OPEN) {
        ev_reject(x, line, "debt_id", "debt '%s' is closed (%s): a reply is not applied to it; "
                                      "handle it by hand", d->debt_id, tm_store_debt_status_name(wd.status));
        return TM_EINVAL;
    }
    int stop = tm_contact_is_stop(text);
    OPENSSL_cleanse(text, sizeof text);
    rc = tm_store_contact_add_message(x->run.s, d->id, ch, at,
                                      strcmp(ch, "call") == 0 ? "conversation" : "delivered", NULL,
                                      "inbound", mkey[0] ? mkey : NULL, err);
    if (rc == TM_OK && stop) {
        char cur[256], next[300];
        rc = tm_store_consumer_get_set(x->run.s, d->consumer_id, TM_CONSUMER_OPTOUT, cur, sizeof cur, err);
        tm__pf_set_edit(cur, ch, 1, next, sizeof next);
        if (rc == TM_OK)
            rc = tm_store_consumer_put_set(x->run.s, d->consumer_id, TM_CONSUMER_OPTOUT, next, err);
        /* Its own record: the opt-out is what a regulator asks to see. */
        char subject[200];
        snprintf(subject, sizeof subject, "debt:%s", d->debt_id);
        tm_buf ob = TM_BUF_INIT;
        tm_jw ow;
        tm_jw_init(&ow, &ob, 0);
        tm_jw_obj(&ow);
        tm_jw_key(&ow, "channel");
        tm_jw_str(&ow, ch);
        tm_jw_key(&ow, "reason");
        tm_jw_str(&ow, "the consumer replied asking to stop");
        if (mkey[0]) {
            tm_jw_key(&ow, "message");
            tm_jw_str(&ow, mkey);
        }
        tm_jw_key(&ow, "cites");
        tm_jw_arr(&ow);
        tm_jw_str(&ow, "12 CFR 1006.6(e)");
        tm_jw_str(&ow, strcmp(ch, "email") == 0 ? "15 U.S.C. 7704(a)(4)" : "47 CFR 64.1200(a)(10)");
        tm_jw_arr_end(&ow);
        tm_jw_obj_end(&ow);
        if (rc == TM_OK)
            rc = tm_buf_done(&ob, "the opt-out record", err);
        if (rc == TM_OK)
            rc = tm__pf_audit(&x->run, "consumer.optout", subject, ob.data, err);
        tm_buf_free(&ob);
    }
    /* The reply's words are the consumer's: not kept here. */
    details_begin(w, db, "inbound_reply");
    tm_jw_key(w, "channel");
    tm_jw_str(w, ch);
    if (mkey[0]) {
        tm_jw_key(w, "message");
        tm_jw_str(w, mkey);
    }
    if (stop) {
        tm_jw_key(w, "optout");
        tm_jw_bool(w, 1);
    }
    tm_jw_obj_end(w);
    return rc;
}

static int apply_event(evctx *x, const tm_json *j, long line, struct tm_err *err)
{
    char key[256], type[64], debt_id[129], at_s[64], buf[600];
    tm_store *s = x->run.s;
    /* A card number belongs only in a payment's card_number, where it becomes a token: one
     * anywhere else would be stored or echoed as it stands. The field is named, the number
     * never repeated. */
    char where[200], itoken[TM_PAY_TOKEN_LEN];
    /* A token this engine issued stands for a card; it is not one, whatever digits its hash
     * happens to show (tallyman pay's own charges carry the token they charged). */
    int tv = tm_json_get(j, 0, "instrument_token");
    int token_ok = tv >= 0 && tm_json_str(j, tv, itoken, sizeof itoken) > 0 &&
                   (x->run.o->payments_taken || tm_pay_token_check(x->run.keys, itoken, NULL) == TM_OK);
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
                                   "hardship, inbound_reply, broken_promise, delivered, bounced, "
                                   "failed");
        return TM_OK;
    }
    /* Receipts and replies name the message they are about by its
     * idempotency key; its debt is the event's. */
    int receipt = strcmp(type, "delivered") == 0 || strcmp(type, "bounced") == 0 ||
                  strcmp(type, "failed") == 0;
    int reply = strcmp(type, "inbound_reply") == 0;
    int mv = tm_json_get(j, 0, "message");
    char mkey[256] = "", mchannel[16] = "";
    int64_t msent = 0;
    int has_debt = tm_json_str(j, tm_json_get(j, 0, "debt_id"), debt_id, sizeof debt_id) > 0;
    if (receipt || (reply && mv >= 0)) {
        if (tm_json_str(j, mv, mkey, sizeof mkey) <= 0) {
            ev_reject(x, line, "message", "is required for %s: the idempotency key of the message "
                                          "it is about", type);
            return TM_OK;
        }
        tm_outbox_rec m;
        int mf = 0;
        int mrc = tm_store_outbox_find(s, mkey, &m, &mf, err);
        if (mrc != TM_OK)
            return mrc;
        if (mf)
            free(m.payload_owned);
        if (!mf) {
            ev_reject(x, line, "message", "unknown message key '%s' (no message was planned under it)",
                      mkey);
            return TM_OK;
        }
        if (m.status != TM_OUTBOX_SENT) {
            ev_reject(x, line, "message", "message '%s' was not sent (it is %s): no %s can come back "
                                          "for it", mkey, tm_store_outbox_status_name(m.status), type);
            return TM_OK;
        }
        if (has_debt && strcmp(debt_id, m.debt_ref) != 0) {
            ev_reject(x, line, "debt_id", "'%s' is not the debt of message '%s' (%s)", debt_id, mkey,
                      m.debt_ref);
            return TM_OK;
        }
        snprintf(debt_id, sizeof debt_id, "%s", m.debt_ref);
        snprintf(mchannel, sizeof mchannel, "%s", m.channel);
        msent = m.send_at;
        has_debt = 1;
    }
    if (!has_debt) {
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
    if (x->run.o->origin)
        snprintf(origin, sizeof origin, "%s", x->run.o->origin);
    else
        snprintf(origin, sizeof origin, "%s:%ld", x->run.o->name, line);
    tm_event_ref prev;
    int dup = 0, late = 0;
    if ((rc = tm_store_event_find(s, key, &prev, &dup, err)) != TM_OK)
        return rc;
    if (dup && prev.content.set && !tm__pf_same_hash(&prev.content, &content)) {
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
        if (!(x->run.o->payments_taken && prev.status == TM_EVENT_OUT_OF_ORDER)) {
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
    } else if (d.has_last_event && at < d.last_event_at && !x->run.o->payments_taken) {
        char lb[40];
        tm_calendar_format_rfc3339(d.last_event_at, 0, lb, sizeof lb, NULL);
        ev_reject(x, line, "at", "older than the last event applied to debt '%s' (%s): kept, not applied",
                  debt_id, lb);
        status = TM_EVENT_OUT_OF_ORDER;
    }
    /* The event's details, as stored with it and in its audit record: its type and what
     * it changed, no personal data. */
    char details[600];
    tm_buf db;
    tm_buf_fixed(&db, details, sizeof details);
    tm_jw w;
    details_begin(&w, &db, type);
    tm_jw_obj_end(&w);
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
                details_begin(&w, &db, "payment");
                tm_jw_key(&w, "amount_minor");
                tm_jw_int(&w, minor);
                tm_jw_key(&w, "balance_minor");
                tm_jw_int(&w, balance);
                if (token[0]) {
                    tm_jw_key(&w, "instrument");
                    tm_jw_str(&w, token);
                }
                tm_jw_obj_end(&w);
            } else {
                char due[32];
                tm_date dd;
                if (tm_json_str(j, tm_json_get(j, 0, "due"), due, sizeof due) < 0 ||
                    tm_calendar_parse_date(due, &dd, NULL) != TM_OK) {
                    ev_reject(x, line, "due", "is required (YYYY-MM-DD, a real date)");
                    return TM_OK;
                }
                rc = tm_store_promise_add(s, d.id, minor, d.currency, due, at, err);
                details_begin(&w, &db, "promise");
                tm_jw_key(&w, "amount_minor");
                tm_jw_int(&w, minor);
                tm_jw_key(&w, "due");
                tm_jw_str(&w, due);
                tm_jw_obj_end(&w);
            }
        } else if (strcmp(type, "dispute") == 0 || strcmp(type, "dispute_verified") == 0) {
            rc = tm_store_debt_set_dispute(
                s, d.id, type[7] ? TM_DEBT_DISPUTE_VERIFIED : TM_DEBT_DISPUTE_PENDING, err);
        } else if (strcmp(type, "cease") == 0 || strcmp(type, "attorney") == 0 ||
                   strcmp(type, "bankruptcy") == 0 || strcmp(type, "deceased") == 0) {
            char cur[256], next[300];
            rc = tm_store_consumer_get_set(s, d.consumer_id, TM_CONSUMER_FLAGS, cur, sizeof cur, err);
            tm__pf_set_edit(cur, type, 1, next, sizeof next);
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
                details_begin(&w, &db, "contact");
                tm_jw_key(&w, "channel");
                tm_jw_str(&w, ch);
                tm_jw_key(&w, "outcome");
                tm_jw_str(&w, outcome);
                tm_jw_obj_end(&w);
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
                tm__pf_set_edit(cur, ch, given, next, sizeof next);
                if (rc == TM_OK)
                    rc = tm_store_consumer_put_set(s, d.consumer_id, which, next, err);
                details_begin(&w, &db, type);
                tm_jw_key(&w, "channel");
                tm_jw_str(&w, ch);
                tm_jw_key(&w, "given");
                tm_jw_bool(&w, given);
                tm_jw_obj_end(&w);
            }
        } else if (strcmp(type, "hardship") == 0 || strcmp(type, "broken_promise") == 0) {
            /* Kept as the event itself: journeys see debt.hardship, the
             * journey's handler sees the broken promise, and training counts
             * broken promises. Nothing else changes. */
        } else if (receipt) {
            rc = apply_receipt(x, j, line, &d, type, mkey, mchannel, msent, &w, &db, err);
            if (rc == TM_EINVAL)
                return TM_OK; /* rejected and reported */
        } else if (reply) {
            rc = apply_reply(x, j, line, &d, mkey, mchannel, at, &w, &db, err);
            if (rc == TM_EINVAL)
                return TM_OK; /* rejected and reported */
        } else { /* address_change, phone_change, email_change */
            const char *fields[6], *values[6];
            char vals[6][256];
            int n = 0;
            /* A postal address is whole or it is refused: a letter must reach it. */
            static const char *const addr[] = {"address1", "address2", "city", "state", "zip", NULL};
            static const char *const phone[] = {"phone", NULL};
            static const char *const email[] = {"email", NULL};
            const char *const *want = type[0] == 'a' ? addr : type[0] == 'p' ? phone : email;
            for (int i = 0; want[i]; i++) {
                int fv = tm_json_get(j, 0, want[i]);
                int got = fv >= 0 && j->tok[fv].type != TM_J_NULL ? tm_json_str(j, fv, vals[n], sizeof vals[n]) : 0;
                if (fv >= 0 && j->tok[fv].type != TM_J_NULL && got < 0) {
                    ev_reject(x, line, want[i], "must be a string of at most %zu bytes", sizeof vals[n] - 1);
                    return TM_OK;
                }
                if (got <= 0) {
                    if (strcmp(want[i], "address2") == 0)
                        continue;
                    ev_reject(x, line, want[i], "is required for %s%s", type,
                              type[0] == 'a' ? " (address1, city, state and zip)" : "");
                    return TM_OK;
                }
                memset(&e, 0, sizeof e);
                int ok = strcmp(want[i], "phone") == 0   ? tm_valid_phone_e164(vals[n], &e)
                         : strcmp(want[i], "email") == 0 ? tm_valid_email(vals[n], &e)
                         : strcmp(want[i], "zip") == 0   ? tm_valid_zip(vals[n], &e)
                         : strcmp(want[i], "state") == 0 ? tm_valid_state(vals[n], &e)
                                                         : TM_OK;
                if (ok != TM_OK) {
                    ev_reject(x, line, want[i], "%s", e.msg);
                    return TM_OK;
                }
                /* The address's state is kept with it, apart from the
                 * residence state the law is looked up by. */
                fields[n] = strcmp(want[i], "state") == 0 ? "address_state" : want[i];
                values[n] = vals[n];
                n++;
            }
            tm_work_debt wd;
            int wf = 0;
            rc = tm_store_work_debt(s, d.id, &wd, &wf, err);
            if (rc == TM_OK)
                rc = edit_pii(x, d.consumer_id, fields, values, n,
                              type[0] == 'a' ? "address" : type[0] == 'p' ? "phone" : "email", at,
                              wf ? wd.state : NULL, err);
            if (rc == TM_OK && type[0] == 'a') {
                tm_consumer_contact cc = {.has_address = 1};
                rc = tm_store_consumer_set_contact(s, d.consumer_id, &cc, err);
            }
            if (rc == TM_OK && type[0] != 'a') {
                tm_hash16 h;
                if (type[0] == 'e') {
                    char norm[320];
                    if (tm_email_normalise(values[0], norm, sizeof norm, NULL) != TM_OK)
                        snprintf(norm, sizeof norm, "%s", values[0]);
                    tm__pf_hash16(x->run.keys, norm, &h);
                } else {
                    tm__pf_hash16(x->run.keys, values[0], &h);
                }
                rc = tm_store_consumer_set_lookup(
                    s, d.consumer_id, type[0] == 'e' ? TM_LOOKUP_EMAIL : TM_LOOKUP_PHONE, &h, err);
            }
            details_begin(&w, &db, type);
            tm_jw_key(&w, "personal_data");
            tm_jw_str(&w, "encrypted");
            tm_jw_obj_end(&w);
        }
        if (rc == TM_OK)
            rc = tm_store_debt_touch(s, d.id, at, x->run.o->now, err);
    }
    if (rc == TM_OK)
        rc = tm_buf_done(&db, "the event's details", err);
    if (rc != TM_OK)
        return rc;
    /* Every event is kept, applied or not, so a rerun skips it. */
    if (late)
        rc = tm_store_event_set_applied(s, key, details, x->run.o->now, err);
    else
        rc = tm_store_event_add(s, key, type, found ? d.id : 0, at, details, status, &content,
                                origin, x->run.o->now, err);
    if (rc != TM_OK)
        return rc;
    char subject[200], action[80];
    snprintf(subject, sizeof subject, "debt:%s", debt_id);
    snprintf(action, sizeof action, "event.%s%s", type, status != TM_EVENT_APPLIED ? ".kept" : "");
    snprintf(buf, sizeof buf, "%.500s", details);
    rc = tm__pf_audit(&x->run, action, subject, buf, err);
    if (rc == TM_OK && status == TM_EVENT_APPLIED)
        x->st->applied++;
    return rc;
}

int tm_apply_events(tm_store *s, const tm_keys *keys, FILE *in, const tm_import_opts *opts,
                    tm_event_stats *stats, struct tm_err *err)
{
    memset(stats, 0, sizeof *stats);
    evctx x = {.run = {.s = s, .keys = keys, .o = opts}, .st = stats};
    uint8_t akey[32];
    tm_portfolio_audit_key(keys, akey);
    int rc = tm_audit_writer_open(s, akey, &x.run.audit, err);
    long in_batch = 0;
    static tm_jtok toks[256];
    tm_jsonl *rd = NULL;
    if (rc == TM_OK)
        rc = tm_jsonl_open(in, opts->name, 0, &rd, err);
    if (rc == TM_OK)
        rc = tm__pf_begin_batch(&x.run, err);
    while (rc == TM_OK) {
        char *line;
        size_t len;
        long lineno;
        struct tm_err e = {0};
        int got = tm_jsonl_next(rd, &line, &len, &lineno, &e);
        if (got == 0)
            break;
        if (got == TM_EINVAL) { /* a line too long: rejected, the rest goes on */
            stats->events++;
            ev_reject(&x, lineno, NULL, "%s", tm_jsonl_reason(rd));
            continue;
        }
        if (got < 0) { /* a file that cannot be read (a directory, ...) is not an empty one */
            rc = tm_err_set(err, got, "%s", e.msg);
            break;
        }
        stats->events++;
        tm_json j;
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
            rc = tm__pf_row_done(&x.run, in, &in_batch, err);
    }
    rc = tm__pf_finish_batches(&x.run, rc, err);
    tm_jsonl_close(rd);
    tm_audit_writer_close(x.run.audit);
    return rc;
}

