/*
 * core/hmac.h: HMAC-SHA256 with a key prepared once, for the hot paths (the
 * audit chain, lookup hashes): the inner and outer pad states are computed
 * when the key is set, so each MAC is two short hash runs and no allocation.
 */
#ifndef TM_HMAC_H
#define TM_HMAC_H

#include <stddef.h>
#include <stdint.h>

typedef struct tm_hmac {
    unsigned char state[2][128]; /* the SHA-256 states after the inner and outer pads */
    int ready;
} tm_hmac;

/* Prepares `h` for `key` (any length). */
void tm_hmac_init(tm_hmac *h, const void *key, size_t keylen);

/* out = HMAC-SHA256(key, data). */
void tm_hmac_mac(const tm_hmac *h, const void *data, size_t len, uint8_t out[32]);

/* Wipes the prepared key. */
void tm_hmac_wipe(tm_hmac *h);

#endif
