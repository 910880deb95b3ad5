/*
 * core/totp.h: time-based one-time passwords, RFC 6238 over HOTP (RFC 4226)
 * with HMAC-SHA-1 (OpenSSL), the form authenticator apps use: 30-second
 * steps counted from the Unix epoch, 6 digits, a code accepted one step
 * either side of now for clocks that drift. The secret travels as base32
 * (RFC 4648, no padding) in an otpauth:// URI.
 */
#ifndef TM_TOTP_H
#define TM_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

#define TM_TOTP_STEP 30
#define TM_TOTP_DIGITS 6
/* The secret's length: 160 bits, as RFC 4226 recommends. */
#define TM_TOTP_SECRET_LEN 20

/* The time step of Unix time `t` (seconds; negative times are step 0). */
uint64_t tm_totp_step(int64_t t);

/* The HOTP value of `key` (klen bytes) at counter `step`, `digits` long (6
 * to 8), written as decimal with leading zeros into out (digits + 1 bytes).
 * TM_OK, TM_EINVAL (digits out of range), TM_ECRYPTO (OpenSSL failed). */
int tm_totp_code(const uint8_t *key, size_t klen, uint64_t step, int digits, char *out);

/* Checks a 6-digit `code` for `key` at time `now`: the steps now-1, now and
 * now+1, each later than `last_step` (the step of the last code accepted:
 * a used code, or an earlier one, is refused). Returns 1 and the step that
 * matched in *step, or 0. Every candidate is computed and compared in
 * constant time, so the time taken says nothing of which step matched. */
int tm_totp_verify(const uint8_t *key, size_t klen, const char *code, int64_t now,
                   uint64_t last_step, uint64_t *step);

/* Base32 (RFC 4648 alphabet, upper case, no padding) of `len` bytes into
 * out, which holds (len * 8 + 4) / 5 + 1 bytes; NUL-terminated. */
void tm_base32_encode(const uint8_t *in, size_t len, char *out);

/* Decodes base32 (either case, '=' padding and spaces ignored) into out (cap
 * bytes). Returns the number of bytes, or -1 for a character outside the
 * alphabet or too little room. */
long tm_base32_decode(const char *in, uint8_t *out, size_t cap);

#endif
