/*
 * core/keycheck.c: whether a key file belongs to a store (see keycheck.h).
 *
 * Design. Without this, any well-formed key file opened any store: another
 * store's file, or a file made afresh because the store's own was missing,
 * went on to encrypt personal data and chain audit records under keys the
 * store's other data was never written with, and the damage was found only
 * when something failed to decrypt or verify, for good. So the store keeps,
 * per key version, a check value: HMAC-SHA256 under the key of a label used
 * for nothing else. It identifies the key and reveals nothing usable (not
 * the key, not the audit key, not a lookup hash), so it can sit in the
 * database beside the data.
 *
 * The hmac lookup key is checked as version 0: it is in every key file and
 * never rotates, so once a store has recorded it, every foreign file fails on
 * it whatever versions the file holds. Versions the store has not seen are
 * recorded once the file is confirmed by the ones it has (a rotation that
 * crashed between writing the key file and recording its version is picked
 * up on the next open). A store from before check values is confirmed by its
 * data instead, and refused when nothing can be checked: adopting a key on
 * no evidence is exactly the failure this module exists to stop.
 */
#include "keycheck.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "crypto.h"
#include "portfolio.h"

typedef struct ctx {
    tm_store *s;
    const tm_keys *k;
    const char *path, *db;
    struct tm_err *err;
} ctx;

static int mismatch(const ctx *c, int version)
{
    if (version == 0)
        return tm_err_set(c->err, TM_ECRYPTO,
                          "key file %s does not belong to store %s: its hmac (lookup) key does "
                          "not match",
                          c->path, c->db);
    return tm_err_set(c->err, TM_ECRYPTO,
                      "key file %s does not belong to store %s: key version %d does not match",
                      c->path, c->db, version);
}

static int lacks(const ctx *c, int version)
{
    return tm_err_set(c->err, TM_ENOENT,
                      "key file %s lacks key version %d, which store %s uses (the file's current "
                      "version is %d: is it an older copy?)",
                      c->path, version, c->db, tm_keys_current(c->k));
}

int tm_keycheck_store_in_use(tm_store *s, int *in_use, struct tm_err *err)
{
    *in_use = 0;
    tm_store_counts n;
    int rc = tm_store_count_data(s, &n, err);
    if (rc == TM_OK)
        *in_use = n.consumers + n.debts + n.events + n.decisions + n.outbox + n.script_sets +
                      n.audit + n.key_checks >
                  0;
    return rc;
}

typedef struct sample {
    const tm_keys *k;
    int bad;
} sample;

static int try_decrypt(void *ud, int64_t id, const char *bound_to, const uint8_t *blob, size_t len)
{
    (void)id;
    sample *x = ud;
    char *plain = NULL;
    size_t n = 0;
    if (tm_keys_decrypt(x->k, blob, len, bound_to ? bound_to : "", &plain, &n, NULL) != TM_OK) {
        x->bad = 1;
    } else {
        OPENSSL_cleanse(plain, n);
        free(plain);
    }
    return TM_OK;
}

/* A store in use with no check value for any of the file's keys: judged by
 * what was written with them. */
static int confirm_by_data(const ctx *c)
{
    uint8_t akey[32];
    tm_portfolio_audit_key(c->k, akey);
    int verdict = -1;
    int rc = tm_audit_key_confirm(c->s, akey, &verdict, c->err);
    OPENSSL_cleanse(akey, sizeof akey);
    if (rc != TM_OK)
        return rc;
    if (verdict == 0)
        return mismatch(c, 0);
    if (verdict < 0)
        return tm_err_set(c->err, TM_EINVAL,
                          "cannot tell whether key file %s belongs to store %s: the store holds "
                          "data but no audit record to check the key against",
                          c->path, c->db);
    int used = 0;
    rc = tm_store_key_version_used_max(c->s, &used, c->err);
    if (rc != TM_OK)
        return rc;
    if (used > tm_keys_current(c->k))
        return lacks(c, used);
    for (size_t i = 0; tm_keys_version_at(c->k, i) > 0; i++) {
        int v = tm_keys_version_at(c->k, i), seen = 0;
        sample x = {.k = c->k};
        rc = tm_store_key_samples(c->s, v, try_decrypt, &x, &seen, c->err);
        if (rc != TM_OK)
            return rc;
        if (x.bad)
            return mismatch(c, v);
    }
    return TM_OK;
}

/* The file's key versions in ascending order, then the lookup key as 0;
 * -1 past the end. */
static int version_at(const tm_keys *k, size_t i)
{
    int v = tm_keys_version_at(k, i);
    if (v > 0)
        return v;
    /* One past the last version: the lookup key (a loaded set has a version). */
    return i > 0 && tm_keys_version_at(k, i - 1) > 0 ? 0 : -1;
}

/* One pass of the check; *missing counts the file's keys the store has no
 * check value for. `write`: the file is about to be written with, so a store
 * that knows none of its keys must confirm it by its data. */
static int check(const ctx *c, int write, int *missing)
{
    *missing = 0;
    int max = 0, count = 0;
    int rc = tm_store_key_check_max(c->s, &max, &count, c->err);
    if (rc != TM_OK)
        return rc;
    int confirmed = 0;
    for (size_t i = 0; version_at(c->k, i) >= 0; i++) {
        int v = version_at(c->k, i), found = 0;
        char want[TM_KEYS_HASH_HEX_LEN + 1], have[65];
        if ((rc = tm_keys_check_value(c->k, v, want)) != TM_OK)
            return tm_err_set(c->err, rc, "key file %s: cannot compute a key check value", c->path);
        if ((rc = tm_store_key_check_get(c->s, v, have, &found, c->err)) != TM_OK)
            return rc;
        if (!found) {
            (*missing)++;
            continue;
        }
        if (strlen(have) != TM_KEYS_HASH_HEX_LEN || !tm_ct_equal(have, want, TM_KEYS_HASH_HEX_LEN))
            return mismatch(c, v);
        confirmed = 1;
    }
    /* After the comparison, so that another store's file is called that.
     * Reading needs no current version (the audit key never rotates). */
    if (write && max > tm_keys_current(c->k))
        return lacks(c, max);
    if (!confirmed && write) {
        int in_use = 0;
        rc = tm_keycheck_store_in_use(c->s, &in_use, c->err);
        if (rc == TM_OK && in_use)
            rc = confirm_by_data(c);
    }
    return rc;
}

static int record_missing(const ctx *c, int64_t now)
{
    for (size_t i = 0; version_at(c->k, i) >= 0; i++) {
        int v = version_at(c->k, i), found = 0;
        char want[TM_KEYS_HASH_HEX_LEN + 1], have[65];
        int rc = tm_store_key_check_get(c->s, v, have, &found, c->err);
        if (rc == TM_OK && !found && (rc = tm_keys_check_value(c->k, v, want)) != TM_OK)
            tm_err_set(c->err, rc, "key file %s: cannot compute a key check value", c->path);
        if (rc == TM_OK && !found)
            rc = tm_store_key_check_put(c->s, v, want, now, c->err);
        if (rc != TM_OK)
            return rc;
    }
    return TM_OK;
}

int tm_keycheck(tm_store *s, const tm_keys *k, const char *key_path, const char *db, int record,
                int64_t now, struct tm_err *err)
{
    if (!s || !k || !key_path || !db)
        return tm_err_set(err, TM_EINVAL, "tm_keycheck: NULL argument");
    ctx c = {.s = s, .k = k, .path = key_path, .db = db, .err = err};
    int missing = 0;
    int rc = check(&c, record, &missing);
    if (rc != TM_OK || !missing || !record)
        return rc;
    /* Again under the write lock: another process may have recorded its own
     * file's values since the pass above. */
    if ((rc = tm_store_begin(s, err)) != TM_OK)
        return rc;
    rc = check(&c, 1, &missing);
    if (rc == TM_OK && missing)
        rc = record_missing(&c, now);
    if (rc == TM_OK)
        return tm_store_commit(s, err);
    tm_store_rollback(s);
    return rc;
}
