/*
 * core/audit.c: the hash-chained audit log (see audit.h).
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "hmac.h"

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

struct tm_audit_writer {
    tm_store *s;
    tm_hmac key;
    int64_t seq;     /* the last record's seq (-1: read it again) */
    char hash[65];   /* and its hash */
    int dirty;       /* records written since the head was stored */
};

static int load_head(tm_audit_writer *w, struct tm_err *err)
{
    int rc = tm_store_audit_tail(w->s, &w->seq, w->hash, err);
    if (rc == TM_OK && w->seq == 0)
        snprintf(w->hash, sizeof w->hash, "%s", ZERO_HASH);
    return rc;
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
    w->seq = -1;
    *out = w;
    return TM_OK;
}

int tm_audit_write(tm_audit_writer *w, int64_t at, const char *actor, const char *action,
                   const char *subject, const char *details, struct tm_err *err)
{
    if (w->seq < 0 && load_head(w, err) != TM_OK)
        return err ? err->code : TM_ESTORE;
    int64_t seq = w->seq + 1;
    char hash[65];
    int rc = record_hash(&w->key, seq, at, actor, action, subject, details, w->hash, hash);
    if (rc != TM_OK)
        return tm_err_set(err, rc, "audit: cannot seal record %lld: %s", (long long)seq,
                          tm_strerror(rc));
    tm_audit_rec r = {seq, at, actor, action, subject, details, w->hash, hash};
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
    if (!w->dirty)
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
    w->seq = -1;
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
    tm_audit_report *rep;
    int64_t expect;
    char prev[65];
    int broken;
    int fault; /* a TM_E* code when a MAC could not be computed (not a broken chain) */
} verifier;

static int verify_one(void *ud, const tm_audit_rec *r)
{
    verifier *v = ud;
    tm_audit_report *rep = v->rep;
    rep->records++;
    if (r->seq != v->expect) {
        rep->bad_seq = r->seq > v->expect ? v->expect : r->seq;
        snprintf(rep->problem, sizeof rep->problem,
                 r->seq > v->expect ? "record %lld was removed (the chain jumps to %lld)"
                                    : "record %lld was inserted or duplicated",
                 (long long)rep->bad_seq, (long long)r->seq);
        return v->broken = 1;
    }
    if (strcmp(r->prev_hash, v->prev) != 0) {
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
    if (strlen(r->hash) != 64 || !tm_ct_equal(calc, r->hash, 64)) {
        rep->bad_seq = r->seq;
        snprintf(rep->problem, sizeof rep->problem, "record %lld was changed", (long long)r->seq);
        return v->broken = 1;
    }
    snprintf(v->prev, sizeof v->prev, "%s", r->hash);
    v->expect++;
    return 0;
}

int tm_audit_verify(tm_store *s, const uint8_t key[TM_AUDIT_KEY_LEN], tm_audit_report *rep,
                    struct tm_err *err)
{
    memset(rep, 0, sizeof *rep);
    verifier v = {.rep = rep, .expect = 1};
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
        rc = tm_store_audit_head(s, &present, &hseq, hhash, hmac, err);
        if (rc == TM_OK && present)
            rc = head_mac(&v.hk, hseq, hhash, mac);
        if (rc != TM_OK) {
            tm_hmac_wipe(&v.hk);
            return rc == TM_ECRYPTO ? tm_err_set(err, TM_ENOMEM, "audit: cannot compute the head's MAC")
                                    : rc;
        }
        if (present) {
            if (strlen(hmac) != 64 || !tm_ct_equal(mac, hmac, 64)) {
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
    tm_hmac_wipe(&v.hk);
    return v.broken ? TM_ECRYPTO : TM_OK;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static int export_one(void *ud, const tm_audit_rec *r)
{
    FILE *out = ud;
    fprintf(out, "{\"seq\":%lld,\"at\":%lld,\"actor\":", (long long)r->seq, (long long)r->at);
    json_str(out, r->actor);
    fputs(",\"action\":", out);
    json_str(out, r->action);
    fputs(",\"subject\":", out);
    json_str(out, r->subject);
    fputs(",\"details\":", out);
    fputs(r->details[0] ? r->details : "{}", out); /* already JSON */
    fputs(",\"prev_hash\":", out);
    json_str(out, r->prev_hash);
    fputs(",\"hash\":", out);
    json_str(out, r->hash);
    fputs("}\n", out);
    return 0;
}

int tm_audit_export(tm_store *s, FILE *out, int64_t from, int64_t to, const char *subject,
                    struct tm_err *err)
{
    return tm_store_audit_scan(s, from, to, subject, export_one, out, err);
}
