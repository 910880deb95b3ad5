/*
 * core/hmac.h: HMAC-SHA256 with a key prepared once, for the hot paths (the
 * audit chain, lookup hashes): the key is set on an OpenSSL EVP_MAC context
 * once (its inner and outer pad states computed then), and each MAC restarts
 * a working copy of that context instead of deriving the pads again.
 */
#ifndef TM_HMAC_H
#define TM_HMAC_H

#include <stddef.h>
#include <stdint.h>

/* The prepared key lives in memory owned by `st` (NULL: not prepared), so a tm_hmac can sit
 * inside a const structure and still be used from several threads. */
typedef struct tm_hmac {
    struct tm_hmac_state *st;
} tm_hmac;

/* Prepares `h` (whose contents are ignored: a fresh or wiped struct) for `key`, any length,
 * NULL only when keylen is 0. Returns TM_OK; TM_EINVAL for a NULL key with a length; TM_ENOMEM
 * or TM_ECRYPTO when memory or OpenSSL fails. On failure `h` is left not prepared: tm_hmac_mac
 * then fails, and tm_hmac_wipe is still safe. */
int tm_hmac_init(tm_hmac *h, const void *key, size_t keylen);

/* out = HMAC-SHA256(key, data); `data` may be NULL when len is 0. Safe to call from any number
 * of threads at once on one `h`. Returns TM_OK; TM_EINVAL when `h` is not ready; TM_ECRYPTO
 * when OpenSSL fails (out of memory). On failure `out` is all zero bytes. */
int tm_hmac_mac(const tm_hmac *h, const void *data, size_t len, uint8_t out[32]);

/* Frees and wipes the prepared key. Safe on a struct that is all zero bytes (never prepared),
 * on one whose init failed, and twice. */
void tm_hmac_wipe(tm_hmac *h);

#endif
