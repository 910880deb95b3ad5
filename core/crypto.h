/*
 * core/crypto.h: thin wrappers over OpenSSL for the hashes and random bytes the
 * engine needs (script-set identity, audit chain, keys). Depends on libcrypto.
 */
#ifndef TM_CRYPTO_H
#define TM_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define TM_SHA256_LEN 32
#define TM_SHA256_HEX_LEN 64

/* SHA-256 of `len` bytes at `data` into `out` (32 bytes). `data` may be NULL
 * when len is 0. Cannot fail for valid pointers. */
void tm_sha256(const void *data, size_t len, uint8_t out[TM_SHA256_LEN]);

/* Lower-case hex of `len` bytes into `out`, which must hold 2*len+1 chars;
 * NUL-terminated. */
void tm_hex(const uint8_t *bytes, size_t len, char *out);

/* SHA-256 as 64 lower-case hex chars plus NUL into `out` (65 bytes). */
void tm_sha256_hex(const void *data, size_t len, char out[TM_SHA256_HEX_LEN + 1]);

/* A number from 0 to 9999 fixed by the key: the first 8 bytes of SHA-256(key), read big-endian,
 * modulo 10000. The stable per-key split behind tm.bucket (champion/challenger variants): the
 * same on every run, machine and Lua build, and independent of other keys. `key` may be NULL
 * when len is 0. Cannot fail. */
uint32_t tm_sha256_bucket(const void *key, size_t len);

/* Fills `out` with `len` cryptographically secure random bytes.
 * Returns TM_OK, or TM_ECRYPTO when the generator fails. */
int tm_random_bytes(void *out, size_t len);

/* Fills `out` with `len` cryptographically secure random bytes for a nonce
 * or an IV: like tm_random_bytes, but served from a pool per thread filled
 * in large draws, so it costs a copy rather than a call into the generator.
 * No bytes are handed out twice, in this process or across a fork (the
 * child starts with an empty pool). Not for keys: the pool holds bytes
 * before they are used. Thread-safe. TM_OK, TM_EINVAL (NULL out with len
 * > 0) or TM_ECRYPTO when the generator fails. */
int tm_random_nonce(void *out, size_t len);

/* HMAC-SHA256 (RFC 2104) of `len` bytes at `data` under the `keylen`-byte `key`, into `out`
 * (32 bytes). `key` may be NULL when keylen is 0 and `data` may be NULL when len is 0; keys
 * longer than the 64-byte block are hashed first, as the RFC says. Nothing is retained.
 * Returns TM_OK; TM_EINVAL if `out` is NULL, or a pointer is NULL with a nonzero length, or
 * keylen exceeds INT32_MAX; TM_ECRYPTO if OpenSSL fails (out of memory, or a provider
 * refusing the call), in which case `out` is zeroed so a failure never looks like a digest. */
int tm_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                   uint8_t out[TM_SHA256_LEN]);

/* Compares `n` bytes of `a` and `b` in time that depends only on n, never on where they
 * differ, so comparing a secret (a MAC, a key) leaks nothing through timing. Returns 1 if
 * they are equal, 0 if not. Both may be NULL when n is 0 (then the result is 1). */
int tm_ct_equal(const void *a, const void *b, size_t n);

#endif
