/*
 * core/audit.c: the hash-chained audit log (see audit.h).
 */
#include "audit.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "hmac.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* HMAC over the length-prefixed fields of a record, as hex. */
static void record_hash(const tm_hmac *h, int64_t seq, int64_t at, const char *actor,
                        const char *action, const char *subject, const char *details,
                        const char *prev, char out[65])
{
    const char *fields[] = {actor, action, subject, details, prev};
    size_t lens[5], total = 64;
    for (int i = 0; i < 5; i++)
        total += (lens[i] = strlen(fields[i])) + 24;
    char stack[2048];
    char *buf = total <= sizeof stack ? stack : malloc(total);
    if (!buf) {
        memset(out, 'x', 64);
        out[64] = '\0';
        return;
    }
    size_t n = (size_t)snprintf(buf, total, "%lld|%lld|", (long long)seq, (long long)at);
    for (int i = 0; i < 5; i++) {
        n += (size_t)snprintf(buf + n, total - n, "%zu:", lens[i]);
        memcpy(buf + n, fields[i], lens[i]);
        n += lens[i];
        buf[n++] = '|';
    }
    uint8_t mac[32];
    tm_hmac_mac(h, buf, n, mac);
    tm_hex(mac, sizeof mac, out);
    if (buf != stack)
        free(buf);
}

static void head_mac(const tm_hmac *h, int64_t seq, const char *hash, char out[65])
{
    char buf[128];
    int n = snprintf(buf, sizeof buf, "head|%lld|%s", (long long)seq, hash);
    uint8_t mac[32];
    tm_hmac_mac(h, buf, (size_t)n, mac);
    tm_hex(mac, sizeof mac, out);
}

struct tm_audit_writer {
    sqlite3 *db;
    tm_hmac key;
    sqlite3_stmt *insert, *head;
    int64_t seq;     /* the last record's seq (-1: read it again) */
    char hash[65];   /* and its hash */
    int dirty;       /* records written since the head was stored */
};

static int load_head(tm_audit_writer *w, struct tm_err *err)
{
    sqlite3_stmt *st;
    w->seq = 0;
    snprintf(w->hash, sizeof w->hash, "%s", ZERO_HASH);
    if (sqlite3_prepare_v2(w->db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", -1, &st,
                           NULL) != SQLITE_OK)
        return tm_err_set(err, TM_ESTORE, "audit: %s", sqlite3_errmsg(w->db));
    if (sqlite3_step(st) == SQLITE_ROW) {
        w->seq = sqlite3_column_int64(st, 0);
        snprintf(w->hash, sizeof w->hash, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    return TM_OK;
}

int tm_audit_writer_open(tm_store *s, const uint8_t key[TM_AUDIT_KEY_LEN], tm_audit_writer **out,
                         struct tm_err *err)
{
    *out = NULL;
    tm_audit_writer *w = calloc(1, sizeof *w);
    if (!w)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    w->db = tm_store_sqlite(s);
    tm_hmac_init(&w->key, key, TM_AUDIT_KEY_LEN);
    w->seq = -1;
    if (sqlite3_prepare_v2(w->db,
                           "INSERT INTO audit (seq, at, actor, action, subject, details, prev_hash, hash)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &w->insert, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(w->db,
                           "INSERT OR REPLACE INTO audit_head (id, seq, hash, mac) VALUES (1, ?, ?, ?)",
                           -1, &w->head, NULL) != SQLITE_OK) {
        int rc = tm_err_set(err, TM_ESTORE, "audit: %s", sqlite3_errmsg(w->db));
        tm_audit_writer_close(w);
        return rc;
    }
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
    record_hash(&w->key, seq, at, actor, action, subject, details, w->hash, hash);
    sqlite3_stmt *st = w->insert;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, details, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, w->hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, hash, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        int rc = tm_err_set(err, TM_ESTORE, "audit: %s", sqlite3_errmsg(w->db));
        sqlite3_reset(st);
        return rc;
    }
    sqlite3_reset(st);
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
    head_mac(&w->key, w->seq, w->hash, mac);
    sqlite3_stmt *st = w->head;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, w->seq);
    sqlite3_bind_text(st, 2, w->hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, mac, -1, SQLITE_STATIC);
    int ok = sqlite3_step(st) == SQLITE_DONE;
    sqlite3_reset(st);
    if (!ok)
        return tm_err_set(err, TM_ESTORE, "audit: %s", sqlite3_errmsg(w->db));
    w->dirty = 0;
    return TM_OK;
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
    sqlite3_finalize(w->insert);
    sqlite3_finalize(w->head);
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

static const char *col(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? t : "";
}

int tm_audit_verify(tm_store *s, const uint8_t key[TM_AUDIT_KEY_LEN], tm_audit_report *rep,
                    struct tm_err *err)
{
    memset(rep, 0, sizeof *rep);
    tm_hmac hk;
    tm_hmac_init(&hk, key, TM_AUDIT_KEY_LEN);
    sqlite3 *db = tm_store_sqlite(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit "
                           "ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return tm_err_set(err, TM_ESTORE, "audit: %s", sqlite3_errmsg(db));
    int64_t expect = 1;
    char prev[65] = ZERO_HASH, calc[65];
    int broken = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        const char *stored_prev = col(st, 6), *stored = col(st, 7);
        rep->records++;
        if (seq != expect) {
            rep->bad_seq = seq > expect ? expect : seq;
            snprintf(rep->problem, sizeof rep->problem,
                     seq > expect ? "record %lld was removed (the chain jumps to %lld)"
                                  : "record %lld was inserted or duplicated",
                     (long long)rep->bad_seq, (long long)seq);
            broken = 1;
            break;
        }
        if (strcmp(stored_prev, prev) != 0) {
            rep->bad_seq = seq;
            snprintf(rep->problem, sizeof rep->problem,
                     "record %lld does not follow record %lld (inserted or reordered)", (long long)seq,
                     (long long)(seq - 1));
            broken = 1;
            break;
        }
        record_hash(&hk, seq, sqlite3_column_int64(st, 1), col(st, 2), col(st, 3), col(st, 4),
                    col(st, 5), prev, calc);
        if (!tm_ct_equal(calc, stored, 64) || strlen(stored) != 64) {
            rep->bad_seq = seq;
            snprintf(rep->problem, sizeof rep->problem, "record %lld was changed", (long long)seq);
            broken = 1;
            break;
        }
        snprintf(prev, sizeof prev, "%s", stored);
        expect++;
    }
    sqlite3_finalize(st);
    if (!broken && rc != SQLITE_DONE && rc != SQLITE_ROW)
        return tm_err_set(err, TM_ESTORE, "audit: %s", sqlite3_errmsg(db));
    if (broken)
        return TM_ECRYPTO;
    /* The head: records cut off at the end leave a chain that is whole
     * but shorter than the head says. */
    if (sqlite3_prepare_v2(db, "SELECT seq, hash, mac FROM audit_head WHERE id = 1", -1, &st, NULL) !=
        SQLITE_OK)
        return tm_err_set(err, TM_ESTORE, "audit: %s", sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW) {
        int64_t hseq = sqlite3_column_int64(st, 0);
        char mac[65];
        head_mac(&hk, hseq, col(st, 1), mac);
        if (!tm_ct_equal(mac, col(st, 2), 64)) {
            rep->bad_seq = hseq;
            snprintf(rep->problem, sizeof rep->problem, "the chain's head record was changed");
            broken = 1;
        } else if (hseq != expect - 1 || strcmp(col(st, 1), prev) != 0) {
            rep->bad_seq = expect;
            snprintf(rep->problem, sizeof rep->problem,
                     "records %lld to %lld were removed from the end", (long long)expect,
                     (long long)hseq);
            broken = 1;
        }
    } else if (rep->records > 0) {
        rep->bad_seq = 1;
        snprintf(rep->problem, sizeof rep->problem, "the chain's head record is missing");
        broken = 1;
    }
    sqlite3_finalize(st);
    return broken ? TM_ECRYPTO : TM_OK;
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

int tm_audit_export(tm_store *s, FILE *out, int64_t from, int64_t to, const char *subject,
                    struct tm_err *err)
{
    sqlite3 *db = tm_store_sqlite(s);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit "
                           "WHERE at >= ? AND (? = 0 OR at < ?) AND (? IS NULL OR subject = ?) ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return tm_err_set(err, TM_ESTORE, "audit: %s", sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    sqlite3_bind_int64(st, 3, to);
    if (subject) {
        sqlite3_bind_text(st, 4, subject, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, subject, -1, SQLITE_STATIC);
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fprintf(out, "{\"seq\":%lld,\"at\":%lld,\"actor\":", (long long)sqlite3_column_int64(st, 0),
                (long long)sqlite3_column_int64(st, 1));
        json_str(out, col(st, 2));
        fputs(",\"action\":", out);
        json_str(out, col(st, 3));
        fputs(",\"subject\":", out);
        json_str(out, col(st, 4));
        fputs(",\"details\":", out);
        fputs(col(st, 5)[0] ? col(st, 5) : "{}", out); /* already JSON */
        fputs(",\"prev_hash\":", out);
        json_str(out, col(st, 6));
        fputs(",\"hash\":", out);
        json_str(out, col(st, 7));
        fputs("}\n", out);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? TM_OK : tm_err_set(err, TM_ESTORE, "audit: %s", sqlite3_errmsg(db));
}
