/*
 * core/password.c: Argon2id password hashes and the checks a new password
 * passes (password.h). The cost is OWASP's floor for Argon2id (19 MiB, two
 * passes, one lane): a login costs a few tens of milliseconds, a guess on a
 * stolen store as much.
 */
#include "password.h"

#include <argon2.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"

#define T_COST 2
#define M_COST_KIB 19456
#define LANES 1
#define SALT_LEN 16
#define HASH_LEN 32

static const char *const common[] = {
#include "common_passwords.inc"
};

#define NCOMMON (sizeof common / sizeof *common)

static int cmp(const void *k, const void *e) { return strcmp(k, *(const char *const *)e); }

int tm_password_is_common(const char *pw)
{
    char low[TM_PASSWORD_MAX + 1];
    size_t n = strlen(pw);
    if (n > TM_PASSWORD_MAX)
        return 0;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)pw[i]);
    return bsearch(low, common, NCOMMON, sizeof *common, cmp) != NULL;
}

int tm_password_acceptable(const char *pw, const char *name, struct tm_err *err)
{
    size_t n = strlen(pw);
    if (n < TM_PASSWORD_MIN)
        return tm_err_set(err, TM_EINVAL, "a password needs at least %d characters",
                          TM_PASSWORD_MIN);
    if (n > TM_PASSWORD_MAX)
        return tm_err_set(err, TM_EINVAL, "a password has at most %d characters",
                          TM_PASSWORD_MAX);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
            return tm_err_set(err, TM_EINVAL, "a password may not hold control characters");
    if (name && strcasecmp(pw, name) == 0)
        return tm_err_set(err, TM_EINVAL, "a password may not be the person's name");
    if (tm_password_is_common(pw))
        return tm_err_set(err, TM_EINVAL,
                          "that password is on the list of common passwords; choose another");
    return TM_OK;
}

int tm_password_hash(const char *pw, char *out, size_t cap, struct tm_err *err)
{
    size_t n = strlen(pw);
    if (n > TM_PASSWORD_MAX || cap < TM_PASSWORD_HASH_CAP)
        return tm_err_set(err, TM_EINVAL, "password too long, or no room for its hash");
    uint8_t salt[SALT_LEN];
    if (tm_random_bytes(salt, sizeof salt) != TM_OK)
        return tm_err_set(err, TM_ECRYPTO, "the random generator failed");
    int rc = argon2id_hash_encoded(T_COST, M_COST_KIB, LANES, pw, n, salt, sizeof salt, HASH_LEN,
                                   out, cap);
    if (rc != ARGON2_OK) {
        out[0] = '\0';
        return tm_err_set(err, TM_ECRYPTO, "hashing the password: %s", argon2_error_message(rc));
    }
    return TM_OK;
}

int tm_password_verify(const char *encoded, const char *pw)
{
    if (!encoded || strncmp(encoded, "$argon2id$", 10) != 0 || !pw)
        return 0;
    size_t n = strlen(pw);
    if (n > TM_PASSWORD_MAX)
        return 0;
    /* argon2id_verify recomputes the hash with the encoded salt and cost and
     * compares the two in constant time. */
    return argon2id_verify(encoded, pw, n) == ARGON2_OK;
}

int tm_password_generate(char *out, size_t n)
{
    static const char alpha[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    if (n < 12 || n > 64)
        return TM_EINVAL;
    uint8_t raw[64];
    /* 55 characters: dropping the bytes from 220 (4 x 55) on keeps each
     * character equally likely. */
    size_t have = 0;
    while (have < n) {
        if (tm_random_bytes(raw, sizeof raw) != TM_OK)
            return TM_ECRYPTO;
        for (size_t i = 0; i < sizeof raw && have < n; i++)
            if (raw[i] < 220)
                out[have++] = alpha[raw[i] % 55];
    }
    out[n] = '\0';
    return TM_OK;
}
