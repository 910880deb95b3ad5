/*
 * core/keycheck.h: does a key file belong to a store? Every command that
 * opens a store with a key asks here first, so a foreign key file (another
 * store's, or one made afresh for a store that already holds data) is
 * refused before it writes anything. Depends on core/keys, core/store and
 * core/audit.
 */
#ifndef TM_KEYCHECK_H
#define TM_KEYCHECK_H

#include <stdint.h>

#include "keys.h"
#include "store.h"
#include "tm_status.h"

/* Checks the key set `k` (loaded from `key_path`) against the store `s`
 * (named `db` in messages). The store keeps a check value per key version
 * (tm_keys_check_value: version 0 is the hmac lookup key, which never
 * changes and is in every key file):
 *   - every version both know must have the same check value;
 *   - to write with it (`record` set), the file must hold the store's highest
 *     known version (an older copy of the file would write new data under a
 *     retired key); lower versions may be missing (retired once nothing uses
 *     them);
 *   - when the file is to be written with (`record` set), a store that
 *     knows none of the file's keys but holds data (a store from before check
 *     values, or one whose checks were removed) is judged by that data: the audit chain's head or first record must verify under
 *     the file's audit key, no stored ciphertext may name a version above the
 *     file's current one, and one stored ciphertext of each kind under each
 *     of the file's versions must decrypt; when nothing can be checked the
 *     file is refused, not trusted;
 *   - a store with no data at all accepts any key file (its first use).
 * When `record` is set and the file is accepted, the check values of its
 * versions that the store does not know yet are added (with time `now`), in
 * one transaction in which the check is made again, so two processes
 * recording different files at once cannot both succeed. With `record` 0
 * (reading only: audit verify and export, which show for themselves whether
 * the key fits) nothing is written and only recorded values are compared.
 * Returns TM_OK; TM_ECRYPTO when the file is another store's ("key file X
 * does not belong to store Y: key version N does not match"); TM_ENOENT when
 * it lacks a version the store uses; TM_EINVAL when the store holds data but
 * nothing to check the file against; TM_ESTORE (and the codes of the store
 * or OpenSSL) otherwise. The message in `err` names the key file and the
 * store. */
int tm_keycheck(tm_store *s, const tm_keys *k, const char *key_path, const char *db, int record,
                int64_t now, struct tm_err *err);

/* *in_use 1 when the store holds anything a key was used for or that only
 * a key's owner could have written: consumers, debts, events, decisions,
 * outbox rows, script sets, audit records or key check values. A key file
 * may be made for a store only when it is not in use. TM_OK or TM_ESTORE. */
int tm_keycheck_store_in_use(tm_store *s, int *in_use, struct tm_err *err);

#endif
