/*
 * core/totp.c: RFC 6238 TOTP with HMAC-SHA-1 and RFC 4648 base32 (totp.h).
 */
#include "totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "crypto.h"

uint64_t tm_totp_step(int64_t t) { return t < 0 ? 0 : (uint64_t)t / TM_TOTP_STEP; }

int tm_totp_code(const uint8_t *key, size_t klen, uint64_t step, int digits, char *out)
{
    if (digits < 6 || digits > 8 || klen > 1024)
        return TM_EINVAL;
    uint8_t msg[8], mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    for (int i = 7; i >= 0; i--, step >>= 8)
        msg[i] = (uint8_t)(step & 0xff);
    if (!HMAC(EVP_sha1(), key, (int)klen, msg, sizeof msg, mac, &maclen) || maclen != 20)
        return TM_ECRYPTO;
    /* RFC 4226 section 5.3: dynamic truncation. */
    int off = mac[19] & 0x0f;
    uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                   ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
    uint32_t mod = 1;
    for (int i = 0; i < digits; i++)
        mod *= 10;
    uint32_t v = bin % mod;
    for (int i = digits - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
    out[digits] = '\0';
    return TM_OK;
}

int tm_totp_verify(const uint8_t *key, size_t klen, const char *code, int64_t now,
                   uint64_t last_step, uint64_t *step)
{
    if (!code || strlen(code) != TM_TOTP_DIGITS)
        return 0;
    for (int i = 0; i < TM_TOTP_DIGITS; i++)
        if (code[i] < '0' || code[i] > '9')
            return 0;
    uint64_t s0 = tm_totp_step(now);
    int hit = 0;
    uint64_t which = 0;
    for (int d = -1; d <= 1; d++) {
        if (d < 0 && s0 == 0)
            continue;
        uint64_t s = s0 + (uint64_t)(int64_t)d;
        char want[TM_TOTP_DIGITS + 1];
        if (tm_totp_code(key, klen, s, TM_TOTP_DIGITS, want) != TM_OK)
            return 0;
        int eq = tm_ct_equal(want, code, TM_TOTP_DIGITS) & (s > last_step);
        /* The earliest match wins, so a code is never accepted twice. */
        if (eq && !hit) {
            hit = 1;
            which = s;
        }
    }
    if (hit && step)
        *step = which;
    return hit;
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void tm_base32_encode(const uint8_t *in, size_t len, char *out)
{
    uint32_t buf = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        buf = (buf << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = b32[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = b32[(buf << (5 - bits)) & 31];
    out[o] = '\0';
}

long tm_base32_decode(const char *in, uint8_t *out, size_t cap)
{
    uint32_t buf = 0;
    int bits = 0;
    size_t o = 0;
    for (const char *p = in; *p; p++) {
        char c = *p;
        if (c == '=' || c == ' ')
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        const char *at = c ? strchr(b32, c) : NULL;
        if (!at)
            return -1;
        buf = (buf << 5) | (uint32_t)(at - b32);
        bits += 5;
        if (bits >= 8) {
            if (o >= cap)
                return -1;
            out[o++] = (uint8_t)(buf >> (bits - 8));
            bits -= 8;
        }
    }
    return (long)o;
}
