/*
 * core/password.h: people's passwords. A password is kept only as an
 * Argon2id hash in the encoded form ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"),
 * with a random 16-byte salt of its own; checking one recomputes the hash and
 * compares in constant time (libargon2). A new password must be long enough,
 * must not be the person's name and must not be on the list of common
 * passwords built into the binary (tools/gen_common_passwords.sh).
 */
#ifndef TM_PASSWORD_H
#define TM_PASSWORD_H

#include <stddef.h>

#include "tm_status.h"

/* The fewest characters (bytes) a password may have, and the most. */
#define TM_PASSWORD_MIN 12
#define TM_PASSWORD_MAX 256
/* Room for an encoded hash, NUL included. */
#define TM_PASSWORD_HASH_CAP 160

/* Whether `pw` may become `name`'s password: TM_OK, or TM_EINVAL with the
 * reason in err (too short, too long, the name itself, a common password,
 * or a control character). Never says more than that about the text. */
int tm_password_acceptable(const char *pw, const char *name, struct tm_err *err);

/* 1 when `pw` (any case) is on the built-in list of common passwords. */
int tm_password_is_common(const char *pw);

/* Hashes `pw` with Argon2id and a fresh random salt into `out` (cap bytes,
 * at least TM_PASSWORD_HASH_CAP), NUL-terminated. TM_OK; TM_EINVAL (a
 * password longer than TM_PASSWORD_MAX, or cap too small); TM_ECRYPTO (no
 * randomness, or libargon2 failed: out of memory). */
int tm_password_hash(const char *pw, char *out, size_t cap, struct tm_err *err);

/* 1 when `pw` is the password `encoded` (from tm_password_hash) was made
 * from, else 0 (a malformed or empty `encoded` included). The work done
 * does not depend on where a wrong password differs. */
int tm_password_verify(const char *encoded, const char *pw);

/* A new random password for a reset, shown once: `n` characters (12 to 64)
 * from an alphabet without look-alikes, into out (n + 1 bytes). TM_OK or
 * TM_ECRYPTO. */
int tm_password_generate(char *out, size_t n);

#endif
