/*
 * core/audit.c: the hash-chained audit log (see audit.h).
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "calendar.h"
#include "crypto.h"
#include "gate_log.h"
#include "hmac.h"
#include "jw.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* Writes `v` in decimal at `p` (as printf's %lld does); returns the end. snprintf is a
 * large part of a record's cost when a whole chain is verified. */
static char *put_dec(char *p, int64_t v)
{
    char tmp[20];
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    int n = 0;
    do
        tmp[n++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (v < 0)
        *p++ = '-';
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* HMAC over the length-prefixed fields of a record, as hex: "seq|at|" then "len:field|" for
 * each field (tests/unit/test_audit.c holds the layout to what earlier chains used). TM_OK, or TM_ENOMEM or TM_ECRYPTO
 * with `out` empty. */
static int record_hash(const tm_hmac *h, int64_t seq, int64_t at, const char *actor,
                        const char *action, const char *subject, const char *details,
                        const char *prev, char out[65])
{
    const char *fields[] = {actor, action, subject, details, prev};
    size_t lens[5], total = 64;
    for (int i = 0; i < 5; i++)
        total += (lens[i] = strlen(fields[i])) + 24;
    char stack[2048];
    char *buf = total <= sizeof stack ? stack : malloc(total);
    out[0] = '\0';
    if (!buf)
        return TM_ENOMEM;
    /* At most 21 characters for each number and its separator: 64 and 24 above leave room. */
    char *p = put_dec(buf, seq);
    *p++ = '|';
    p = put_dec(p, at);
    *p++ = '|';
    for (int i = 0; i < 5; i++) {
        p = put_dec(p, (int64_t)lens[i]);
        *p++ = ':';
        memcpy(p, fields[i], lens[i]);
        p += lens[i];
        *p++ = '|';
    }
    uint8_t mac[32];
    int rc = tm_hmac_mac(h, buf, (size_t)(p - buf), mac);
    if (rc == TM_OK)
        tm_hex(mac, sizeof mac, out);
    if (buf != stack)
        free(buf);
    return rc;
}

/* The MAC that seals the chain's head, as hex. TM_OK, or TM_ECRYPTO with `out` empty. */
static int head_mac(const tm_hmac *h, int64_t seq, const char *hash, char out[65])
{
    char buf[128];
    int n = snprintf(buf, sizeof buf, "head|%lld|%s", (long long)seq, hash);
    uint8_t mac[32];
    out[0] = '\0';
    int rc = tm_hmac_mac(h, buf, (size_t)n, mac);
    if (rc == TM_OK)
        tm_hex(mac, sizeof mac, out);
    return rc;
}

/* The chain's tail is read inside each write transaction, the first time
 * the writer appends in it, and kept only for that transaction: another
 * process (an event file applied while the run works) may append between
 * two of our transactions, and a tail remembered from before would fork the
 * chain. The transaction's write lock keeps the tail ours until commit. */
struct tm_audit_writer {
    tm_store *s;
    tm_hmac key;
    uint64_t tx;     /* the transaction the tail below was read in (0: none) */
    int64_t seq;     /* the last record's seq */
    char hash[65];   /* and its hash */
    int dirty;       /* records written in that transaction, head not yet stored */
};

static int load_head(tm_audit_writer *w, uint64_t tx, struct tm_err *err)
{
    w->tx = 0;
    w->dirty = 0;
    int rc = tm_store_audit_tail(w->s, &w->seq, w->hash, err);
    if (rc != TM_OK)
        return rc;
    if (w->seq == 0)
        snprintf(w->hash, sizeof w->hash, "%s", ZERO_HASH);
    w->tx = tx;
    return TM_OK;
}

int tm_audit_writer_open(tm_store *s, const uint8_t key[TM_AUDIT_KEY_LEN], tm_audit_writer **out,
                         struct tm_err *err)
{
    *out = NULL;
    tm_audit_writer *w = calloc(1, sizeof *w);
    if (!w)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    w->s = s;
    int rc = tm_hmac_init(&w->key, key, TM_AUDIT_KEY_LEN);
    if (rc != TM_OK) {
        free(w);
        return tm_err_set(err, rc, "audit: cannot prepare the chain key: %s", tm_strerror(rc));
    }
    *out = w;
    return TM_OK;
}

int tm_audit_write(tm_audit_writer *w, int64_t at, const char *actor, const char *action,
                   const char *subject, const char *details, struct tm_err *err)
{
    uint64_t tx = tm_store_tx_id(w->s);
    if (tx == 0)
        return tm_err_set(err, TM_EINVAL, "audit: a record is written only inside a transaction");
    if (w->tx != tx) {
        int rc = load_head(w, tx, err);
        if (rc != TM_OK)
            return rc;
    }
    int64_t seq = w->seq + 1;
    char hash[65];
    int rc = record_hash(&w->key, seq, at, actor, action, subject, details, w->hash, hash);
    if (rc != TM_OK)
        return tm_err_set(err, rc, "audit: cannot seal record %lld: %s", (long long)seq,
                          tm_strerror(rc));
    tm_audit_rec r = {.seq = seq, .at = at, .actor = actor, .action = action, .subject = subject,
                      .details = details, .prev_hash = w->hash, .hash = hash};
    rc = tm_store_audit_add(w->s, &r, err);
    if (rc != TM_OK)
        return rc;
    w->seq = seq;
    memcpy(w->hash, hash, sizeof hash);
    w->dirty = 1;
    return TM_OK;
}

int tm_audit_writer_flush(tm_audit_writer *w, struct tm_err *err)
{
    /* Records of a transaction that was rolled back are gone: no head. */
    if (!w->dirty || w->tx != tm_store_tx_id(w->s) || w->tx == 0)
        return TM_OK;
    char mac[65];
    int rc = head_mac(&w->key, w->seq, w->hash, mac);
    if (rc != TM_OK)
        return tm_err_set(err, rc, "audit: cannot seal the chain's head: %s", tm_strerror(rc));
    rc = tm_store_audit_set_head(w->s, w->seq, w->hash, mac, err);
    if (rc == TM_OK)
        w->dirty = 0;
    return rc;
}

void tm_audit_writer_reset(tm_audit_writer *w)
{
    w->tx = 0;
    w->dirty = 0;
}

void tm_audit_writer_close(tm_audit_writer *w)
{
    if (!w)
        return;
    tm_hmac_wipe(&w->key);
    free(w);
}

int tm_audit_append(tm_store *s, const uint8_t key[TM_AUDIT_KEY_LEN], int64_t at, const char *actor,
                    const char *action, const char *subject, const char *details,
                    struct tm_err *err)
{
    tm_audit_writer *w;
    int rc = tm_audit_writer_open(s, key, &w, err);
    if (rc != TM_OK)
        return rc;
    rc = tm_audit_write(w, at, actor, action, subject, details, err);
    if (rc == TM_OK)
        rc = tm_audit_writer_flush(w, err);
    tm_audit_writer_close(w);
    return rc;
}

typedef struct verifier {
    tm_hmac hk;
    tm_store *s;
    tm_audit_report *rep;
    int64_t expect;
    char prev[65];
    int broken;
    int64_t accounts; /* account.created records: one per debt ever created */
    int fault; /* a TM_E* code when a MAC could not be computed (not a broken chain) */
} verifier;

/* A "gate.decisions" record (core/gate_log.h): the kept decisions it names
 * must still digest to what it says, so a decision changed or removed
 * after it was made breaks the chain at the record that bound it. */
static int verify_decisions(verifier *v, const tm_audit_rec *r)
{
    json_t *d = json_loads(r->details, 0, NULL);
    json_int_t from = 0, to = 0, count = 0;
    const char *want = NULL;
    int ok = d && json_unpack(d, "{s:I, s:I, s:I, s:s}", "from", &from, "to", &to, "count", &count,
                              "sha256", &want) == 0;
    char hex[65] = "";
    int64_t n = 0;
    struct tm_err e = {0};
    int rc = ok ? tm_gate_log_digest(v->s, (int64_t)from, (int64_t)to, hex, &n, &e) : TM_OK;
    if (rc != TM_OK) {
        json_decref(d);
        return v->fault = rc, 1;
    }
    if (!ok || n != (int64_t)count || strcmp(hex, want) != 0) {
        v->rep->bad_seq = r->seq;
        snprintf(v->rep->problem, sizeof v->rep->problem,
                 "the gate decisions %lld-%lld that record %lld (gate.decisions) binds were changed or removed",
                 (long long)from, (long long)to, (long long)r->seq);
        json_decref(d);
        return v->broken = 1;
    }
    json_decref(d);
    return 0;
}

static int verify_one(void *ud, const tm_audit_rec *r)
{
    verifier *v = ud;
    tm_audit_report *rep = v->rep;
    rep->records++;
    /* The hash covers the fields as C strings, so bytes after a NUL, or a
     * time kept as 1796648976.9, would pass it: the stored form is checked
     * first, exactly. */
    if (r->malformed) {
        rep->bad_seq = r->seq;
        snprintf(rep->problem, sizeof rep->problem, "record %lld was changed (%s)",
                 (long long)r->seq, r->malformed);
        return v->broken = 1;
    }
    if (r->seq != v->expect) {
        rep->bad_seq = r->seq > v->expect ? v->expect : r->seq;
        snprintf(rep->problem, sizeof rep->problem,
                 r->seq > v->expect ? "record %lld was removed (the chain jumps to %lld)"
                                    : "record %lld was inserted or duplicated",
                 (long long)rep->bad_seq, (long long)r->seq);
        return v->broken = 1;
    }
    if (r->prev_hash_len != 64 || strcmp(r->prev_hash, v->prev) != 0) {
        rep->bad_seq = r->seq;
        snprintf(rep->problem, sizeof rep->problem,
                 "record %lld does not follow record %lld (inserted or reordered)", (long long)r->seq,
                 (long long)(r->seq - 1));
        return v->broken = 1;
    }
    char calc[65];
    int rc = record_hash(&v->hk, r->seq, r->at, r->actor, r->action, r->subject, r->details, v->prev,
                         calc);
    if (rc != TM_OK)
        return v->fault = rc, 1;
    if (r->hash_len != 64 || !tm_ct_equal(calc, r->hash, 64)) {
        rep->bad_seq = r->seq;
        snprintf(rep->problem, sizeof rep->problem, "record %lld was changed", (long long)r->seq);
        return v->broken = 1;
    }
    snprintf(v->prev, sizeof v->prev, "%s", r->hash);
    v->expect++;
    if (strcmp(r->action, "account.created") == 0)
        v->accounts++;
    if (strcmp(r->action, "gate.decisions") == 0)
        return verify_decisions(v, r);
    return 0;
}

int tm_audit_verify(tm_store *s, const uint8_t key[TM_AUDIT_KEY_LEN], tm_audit_report *rep,
                    struct tm_err *err)
{
    memset(rep, 0, sizeof *rep);
    verifier v = {.s = s, .rep = rep, .expect = 1};
    int rc = tm_hmac_init(&v.hk, key, TM_AUDIT_KEY_LEN);
    if (rc != TM_OK)
        return tm_err_set(err, TM_ENOMEM, "audit: cannot prepare the chain key: %s",
                          tm_strerror(rc));
    snprintf(v.prev, sizeof v.prev, "%s", ZERO_HASH);
    rc = tm_store_audit_scan(s, 0, 0, NULL, verify_one, &v, err);
    /* TM_ECRYPTO from here means a broken chain, so a MAC that could not be computed (OpenSSL
     * out of memory) is reported as TM_ENOMEM. */
    if (rc == TM_OK && v.fault)
        rc = tm_err_set(err, TM_ENOMEM, "audit: cannot compute record %lld's MAC: %s",
                        (long long)v.expect, tm_strerror(v.fault));
    if (rc != TM_OK) {
        tm_hmac_wipe(&v.hk);
        return rc;
    }
    if (!v.broken) {
        /* The head: records cut off at the end leave a chain that is whole
         * but shorter than the head says. */
        int present = 0;
        int64_t hseq = 0;
        char hhash[65], hmac[65], mac[65];
        struct tm_err he = {0};
        rc = tm_store_audit_head(s, &present, &hseq, hhash, hmac, &he);
        if (rc == TM_ECRYPTO) {
            rep->bad_seq = v.expect > 1 ? v.expect - 1 : 1;
            snprintf(rep->problem, sizeof rep->problem, "%.200s", he.msg);
            v.broken = 1;
        } else if (rc != TM_OK) {
            tm_hmac_wipe(&v.hk);
            return tm_err_set(err, rc, "%s", he.msg);
        } else if (present) {
            rc = head_mac(&v.hk, hseq, hhash, mac);
            if (rc != TM_OK) {
                tm_hmac_wipe(&v.hk);
                return tm_err_set(err, TM_ENOMEM, "audit: cannot compute the head's MAC");
            }
            if (!tm_ct_equal(mac, hmac, 64)) {
                rep->bad_seq = hseq;
                snprintf(rep->problem, sizeof rep->problem, "the chain's head record was changed");
                v.broken = 1;
            } else if (hseq != v.expect - 1 || strcmp(hhash, v.prev) != 0) {
                rep->bad_seq = v.expect;
                snprintf(rep->problem, sizeof rep->problem,
                         "records %lld to %lld were removed from the end", (long long)v.expect,
                         (long long)hseq);
                v.broken = 1;
            }
        } else if (rep->records > 0) {
            rep->bad_seq = 1;
            snprintf(rep->problem, sizeof rep->problem, "the chain's head record is missing");
            v.broken = 1;
        }
    }
    if (!v.broken) {
        /* What the store holds implies a chain at least so long: an emptied
         * log with its head gone, or a whole older chain put back, is
         * otherwise a chain that verifies. */
        tm_store_counts c;
        rc = tm_store_count_data(s, &c, err);
        if (rc != TM_OK) {
            tm_hmac_wipe(&v.hk);
            return rc;
        }
        int64_t data = c.consumers + c.debts + c.events + c.decisions + c.outbox + c.script_sets;
        if (rep->records == 0 && data > 0) {
            rep->bad_seq = 1;
            snprintf(rep->problem, sizeof rep->problem,
                     "the audit log is empty, but the store holds %lld consumers, %lld debts, "
                     "%lld events, %lld decisions, %lld messages and %lld script sets and users",
                     (long long)c.consumers, (long long)c.debts, (long long)c.events,
                     (long long)c.decisions, (long long)c.outbox, (long long)c.script_sets);
            v.broken = 1;
        } else if (v.accounts < c.debts) {
            rep->bad_seq = v.expect;
            snprintf(rep->problem, sizeof rep->problem,
                     "the chain ends too soon: it records %lld debts created, but the store holds "
                     "%lld (records were removed, or an older chain was put back)",
                     (long long)v.accounts, (long long)c.debts);
            v.broken = 1;
        }
    }
    tm_hmac_wipe(&v.hk);
    return v.broken ? TM_ECRYPTO : TM_OK;
}

typedef struct exporter {
    FILE *out;
    tm_buf line; /* the record being written: a record goes out whole or not at all */
    int64_t failed_at; /* the record that could not be written for want of memory */
    int64_t malformed; /* the first record stored in a form tallyman never writes (0: none) */
    char why[160];
} exporter;

/* Writes record r as one JSON object into b (appended), as the export
 * writes it. */
static void write_record(tm_buf *b, const tm_audit_rec *r)
{
    tm_jw w;
    tm_jw_init(&w, b, 0);
    /* Every text is written with its stored length, a NUL too (as \u0000), so nothing
     * stored is left out of an export. */
    tm_jw_obj(&w);
    tm_jw_key(&w, "seq");
    tm_jw_int(&w, r->seq);
    /* The time as people and tools read it (RFC 3339, UTC): the chain
     * hashes the integer, which is this exactly. */
    tm_jw_key(&w, "at");
    char at[TM_CALENDAR_RFC3339_LEN + 8];
    if (tm_calendar_format_rfc3339(r->at, 0, at, sizeof at, NULL) == TM_OK)
        tm_jw_str(&w, at);
    else /* a time out of the calendar's years: the number as stored */
        tm_jw_int(&w, r->at);
    tm_jw_key(&w, "actor");
    tm_jw_strn(&w, r->actor, r->actor_len);
    tm_jw_key(&w, "action");
    tm_jw_strn(&w, r->action, r->action_len);
    tm_jw_key(&w, "subject");
    tm_jw_strn(&w, r->subject, r->subject_len);
    tm_jw_key(&w, "details");
    if (r->malformed)
        tm_jw_strn(&w, r->details, r->details_len); /* not trusted to be JSON: quoted whole */
    else
        tm_jw_raw(&w, r->details[0] ? r->details : "{}"); /* already JSON */
    tm_jw_key(&w, "prev_hash");
    tm_jw_strn(&w, r->prev_hash, r->prev_hash_len);
    tm_jw_key(&w, "hash");
    tm_jw_strn(&w, r->hash, r->hash_len);
    if (r->malformed) {
        tm_jw_key(&w, "malformed");
        tm_jw_str(&w, r->malformed);
    }
    tm_jw_obj_end(&w);
}

static int export_one(void *ud, const tm_audit_rec *r)
{
    exporter *x = ud;
    tm_buf *b = &x->line;
    tm_buf_reset(b);
    write_record(b, r);
    tm_buf_putc(b, '\n');
    if (tm_buf_failed(b)) {
        x->failed_at = r->seq;
        return TM_ENOMEM;
    }
    if (r->malformed && !x->malformed) {
        x->malformed = r->seq;
        snprintf(x->why, sizeof x->why, "%s", r->malformed);
    }
    fwrite(b->data, 1, b->len, x->out);
    return 0;
}

int tm_audit_export(tm_store *s, FILE *out, int64_t from, int64_t to, const char *subject,
                    struct tm_err *err)
{
    return tm_audit_export_actor(s, out, from, to, subject, NULL, err);
}

int tm_audit_export_actor(tm_store *s, FILE *out, int64_t from, int64_t to, const char *subject,
                          const char *actor, struct tm_err *err)
{
    exporter x = {.out = out, .line = TM_BUF_INIT};
    int rc = tm_store_audit_scan_actor(s, from, to, subject, actor, export_one, &x, err);
    tm_buf_free(&x.line);
    /* The callback's nonzero return stopped the scan (which reports success for it, or
     * the code): the record that could not be written is the export's failure. */
    if ((rc == TM_OK || rc == TM_ENOMEM) && x.failed_at)
        return tm_err_set(err, TM_ENOMEM,
                          "out of memory writing audit record %lld: the export stops before it",
                          (long long)x.failed_at);
    if (rc == TM_OK && x.malformed)
        rc = tm_err_set(err, TM_ECRYPTO,
                        "audit record %lld is not as tallyman writes it (%s): it was changed; it is "
                        "exported as stored, with \"malformed\" saying so",
                        (long long)x.malformed, x.why);
    return rc;
}

typedef struct first_rec {
    const tm_hmac *hk;
    int seen, ok;
} first_rec;

static int confirm_first(void *ud, const tm_audit_rec *r)
{
    first_rec *f = ud;
    f->seen = 1;
    if (!r->malformed && r->hash_len == 64 && r->prev_hash_len == 64) {
        char calc[65];
        f->ok = record_hash(f->hk, r->seq, r->at, r->actor, r->action, r->subject, r->details,
                            r->prev_hash, calc) == TM_OK &&
                tm_ct_equal(calc, r->hash, 64);
    }
    return 1; /* the first record is enough */
}

int tm_audit_key_confirm(tm_store *s, const uint8_t key[TM_AUDIT_KEY_LEN], int *verdict,
                         struct tm_err *err)
{
    *verdict = -1;
    tm_hmac hk;
    int rc = tm_hmac_init(&hk, key, TM_AUDIT_KEY_LEN);
    if (rc != TM_OK)
        return tm_err_set(err, rc, "audit: cannot prepare the chain key: %s", tm_strerror(rc));
    int present = 0, head_ok = 0;
    int64_t hseq = 0;
    char hhash[65], hmac[65], mac[65];
    struct tm_err he = {0};
    rc = tm_store_audit_head(s, &present, &hseq, hhash, hmac, &he);
    if (rc == TM_OK && present) {
        head_ok = head_mac(&hk, hseq, hhash, mac) == TM_OK && tm_ct_equal(mac, hmac, 64);
    } else if (rc == TM_ECRYPTO) {
        present = 1; /* a malformed head: there, but it confirms nothing */
        rc = TM_OK;
    } else if (rc != TM_OK) {
        tm_err_set(err, rc, "%s", he.msg);
    }
    first_rec f = {.hk = &hk};
    if (rc == TM_OK && !head_ok)
        rc = tm_store_audit_scan(s, 0, 0, NULL, confirm_first, &f, err);
    tm_hmac_wipe(&hk);
    if (rc == TM_OK)
        *verdict = head_ok || f.ok ? 1 : present || f.seen ? 0 : -1;
    return rc;
}

typedef struct selector {
    const tm_audit_filter *f;
    tm_buf *out;
    long n;
    int64_t last;
    int more;
} selector;

/* 1 when the stored text (`len` bytes) is exactly `want`. */
static int text_is(const char *text, size_t len, const char *want)
{
    return strlen(want) == len && memcmp(text, want, len) == 0;
}

static int select_one(void *ud, const tm_audit_rec *r)
{
    selector *x = ud;
    const tm_audit_filter *f = x->f;
    if (r->seq <= f->after || (f->actor && !text_is(r->actor, r->actor_len, f->actor)) ||
        (f->action && !text_is(r->action, r->action_len, f->action)))
        return 0;
    if (x->n == f->limit) {
        x->more = 1; /* one more matches: there is a next page */
        return 1;
    }
    if (x->n)
        tm_buf_putc(x->out, ',');
    write_record(x->out, r);
    x->n++;
    x->last = r->seq;
    return tm_buf_failed(x->out) ? TM_ENOMEM : 0;
}

int tm_audit_select(tm_store *s, const tm_audit_filter *f, tm_buf *out, tm_audit_page *page,
                    struct tm_err *err)
{
    selector x = {.f = f, .out = out};
    memset(page, 0, sizeof *page);
    int rc = tm_store_audit_scan(s, f->from, f->to, f->subject, select_one, &x, err);
    if (rc == TM_OK && tm_buf_failed(out))
        rc = tm_err_set(err, TM_ENOMEM, "out of memory");
    page->records = x.n;
    page->last_seq = x.last;
    page->more = x.more;
    return rc;
}
