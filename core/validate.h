/*
 * core/validate.h: checks for the fields of imported portfolio rows (see CONTRACT.md,
 * "tallyman import accounts"), plus the two normalisers the importer needs before hashing
 * phone numbers and email addresses for lookup.
 *
 * Every function is pure and thread-safe (tm_valid_zone() reads the tz cache, itself
 * thread-safe). Inputs are NUL-terminated strings taken exactly as given: nothing is trimmed
 * except by the normalisers, so " MA" is refused. On refusal a function returns TM_EINVAL
 * and puts a short reason in `err` (which may be NULL), such as "not a date (YYYY-MM-DD)";
 * the caller adds the file, line and field. Reasons never quote the input, because several
 * of these fields (date of birth, phone, email, zip) are personal data that must not reach
 * logs. A NULL input is refused like a bad one ("missing"). Depends on core/calendar and
 * core/tz.
 */
#ifndef TM_VALIDATE_H
#define TM_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"

/* USPS code of one of the 50 states, DC or an inhabited territory (PR, GU, VI, AS, MP), in
 * upper case ("MA", not "ma": the reason then says so). Military (AA, AE, AP) and freely
 * associated states (FM, MH, PW) are refused: they are not where state collection law is
 * looked up. Every accepted code has zones in tm_tz_state_zones(). */
int tm_valid_state(const char *s, struct tm_err *err);

/* A real date written exactly YYYY-MM-DD (2026-02-30 is refused, 2024-02-29 accepted).
 * On success *days (may be NULL) is the day number since 1970-01-01, as
 * tm_calendar_date_to_days() gives. No range check beyond the calendar's years 0000-9999:
 * whether a date of birth or a charge-off date is plausible is the caller's rule. */
int tm_valid_date(const char *s, int64_t *days, struct tm_err *err);

/* An active ISO 4217 code (List One, 2026) with a minor unit, in upper case. On success
 * *exponent (may be NULL) is the number of decimals of its minor unit: USD 2, JPY 0,
 * KWD 3, CLF 4. Codes without a minor unit (XAU, XDR, XXX ...) and withdrawn codes (ANG,
 * BGN, HRK, SLL, ZWL ...) are refused: a debt cannot be counted in them. */
int tm_valid_currency(const char *code, int *exponent, struct tm_err *err);

/* Flags for tm_parse_money(). */
#define TM_MONEY_ALLOW_NEGATIVE 0x1u /* accept a leading '-' (adjustments, refunds) */

/* A decimal amount in major units, "1234.56", to integer minor units (*minor = 123456 for
 * exponent 2). Grammar: ['-'] digits ['.' digits], with at most `exponent` digits after the
 * point, as the contract says: "12.345" for a 2-decimal currency is refused, and so is
 * "12.340" (trailing zeros included) and "100.0" for JPY. Fewer decimals are scaled: "12.5"
 * is 1250. Refused: "", ".5", "5.", "+5", "1,234.56", "1e3", " 1", "0x10", a '-' without
 * TM_MONEY_ALLOW_NEGATIVE (balances are never negative), and values beyond INT64_MAX minor
 * units. `exponent` must be 0-18 (TM_EINVAL otherwise). *minor (must not be NULL) is
 * written only on success. */
int tm_parse_money(const char *s, int exponent, unsigned flags, int64_t *minor,
                   struct tm_err *err);

/* A decimal integer in [min, max]: ['-'] digits, nothing else ("+1", " 1", "1.0" refused).
 * *out (must not be NULL) is written only on success. The reason names the range. */
int tm_parse_int(const char *s, int64_t min, int64_t max, int64_t *out, struct tm_err *err);

/* E.164: '+' then 8 to 15 digits, the first not 0 ("+16175550100"). Nothing else. */
int tm_valid_phone_e164(const char *s, struct tm_err *err);

/* Buffer sizes for the normalisers, terminating NUL included. */
#define TM_PHONE_MAX 17  /* "+" and 15 digits */
#define TM_EMAIL_MAX 255 /* 254 bytes */

/* Flags for tm_phone_normalise(). */
#define TM_PHONE_ASSUME_NANP 0x1u /* a number without '+' is North American: 10 digits
                                   * (area code 2-9) get +1, 11 digits starting 1 get + */

/* Writes the E.164 form of a phone number written for people: surrounding white space is
 * dropped and so are the separators ' ', '-', '.', '(' and ')' between digits, so
 * "+1 (617) 555-0100" becomes "+16175550100". The number must start with '+' (or follow
 * TM_PHONE_ASSUME_NANP); letters, extensions and other characters are refused, and the
 * result must pass tm_valid_phone_e164(). `out` gets cap bytes at most (TM_PHONE_MAX is
 * always enough) and is "" on failure when cap > 0. TM_EINVAL when out is NULL or too small. */
int tm_phone_normalise(const char *in, unsigned flags, char *out, size_t cap,
                       struct tm_err *err);

/* A pragmatic email check, not full RFC 5322: exactly one '@'; a local part of 1-64 bytes
 * from the RFC 5322 atom characters (A-Z a-z 0-9 !#$%&'*+-/=?^_`{|}~) and dots, not
 * starting or ending with a dot nor holding two in a row (quoted local parts and non-ASCII
 * are refused); a domain of two or more labels, each 1-63 bytes of [A-Za-z0-9-] not
 * starting or ending with '-', the last not all digits; at most 254 bytes in all. */
int tm_valid_email(const char *s, struct tm_err *err);

/* Writes the canonical form of an email address for lookup: surrounding white space (space,
 * tab, CR, LF) dropped and the domain in lower case; the local part keeps its case, which
 * RFC 5321 leaves to the receiving server. The result must pass tm_valid_email(). `out`
 * gets cap bytes at most (TM_EMAIL_MAX is always enough) and is "" on failure when
 * cap > 0. TM_EINVAL when out is NULL or too small. */
int tm_email_normalise(const char *in, char *out, size_t cap, struct tm_err *err);

/* An IANA zone that tm_tz_get() can load ("America/New_York"). TM_EINVAL when the name is
 * malformed or unknown; TM_EIO or TM_ENOMEM (with tz's message) when the tz database could
 * not be read: that is not the row's fault and the caller should stop. */
int tm_valid_zone(const char *s, struct tm_err *err);

/* A BCP 47 tag of the shape language[-Script][-REGION]: 2-3 letters, then optionally 4
 * letters, then optionally 2 letters or 3 digits ("en", "es", "en-US", "zh-Hant-TW",
 * "es-419"). Case-insensitive, as BCP 47 is. Variants, extensions, private use and
 * extended language subtags are refused. */
int tm_valid_language(const char *s, struct tm_err *err);

/* One of credit_card, personal_loan, auto_loan, medical, utility, telecom, other (exact,
 * lower case). */
int tm_valid_debt_type(const char *s, struct tm_err *err);

/* A US ZIP code: 5 digits, or ZIP+4 as 5 digits, '-', 4 digits. */
int tm_valid_zip(const char *s, struct tm_err *err);

#endif
