/*
 * core/pay_intake.h: taking one card payment request, the one path `tallyman
 * pay` and the service's POST /v1/payments both use. A request is checked, its
 * card number replaced by a token at once (the number is wiped from the text
 * and never reaches the store, the audit log or a message), counted against
 * the fraud velocity limits (the attempts in the window before its own time,
 * read back from the store), charged once per idempotency key through the
 * gateway, recorded and audited; an approved charge is then applied as a
 * payment event (tm_apply_events), so the balance, promises and the debt's
 * journey follow as for any payment.
 *
 * A charge whose outcome is unknown (a gateway time-out) is kept pending and
 * retried with the same key by a later request, so the gateway never charges
 * twice. A request older than its debt's last event is refused before it is
 * charged; an approved charge is always applied, whatever its order. A key
 * used again for another request is refused.
 *
 * One tm_pay_intake is used by one thread at a time (it holds a velocity
 * counter and the gateway's state); the store connection is the caller's.
 */
#ifndef TM_PAY_INTAKE_H
#define TM_PAY_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "pay.h"
#include "store.h"
#include "tm_status.h"

typedef struct tm_pay_intake tm_pay_intake;

typedef struct tm_pay_intake_opts {
    int per_card, per_debt; /* attempts allowed in the window; 0: no limit */
    int64_t window;         /* seconds, >= 1 */
    const char *name;       /* what origins are named after: "NAME:LINE" */
    const char *actor;      /* who, in the audit log and on the payment events */
} tm_pay_intake_opts;

/* What became of one request. */
enum tm_pay_intake_status {
    TM_INTAKE_APPROVED,  /* charged and applied as a payment */
    TM_INTAKE_DECLINED,  /* the gateway declined; on file */
    TM_INTAKE_PENDING,   /* the gateway timed out; retried with the same key later */
    TM_INTAKE_DUPLICATE, /* the key was taken before for this same request: not charged again */
    TM_INTAKE_REFUSED,   /* the velocity limits: not charged (audited) */
    TM_INTAKE_REJECTED   /* bad input, an unknown debt, a conflicting key, ...: not charged */
};

typedef struct tm_pay_intake_result {
    enum tm_pay_intake_status status;
    char field[200];           /* REJECTED: the field at fault ("amount", "consumer.note") */
    char message[400];         /* REJECTED and REFUSED: why (never a card number) */
    char token[TM_PAY_TOKEN_LEN]; /* the card's token once known ("" before) */
    char reference[32];        /* the gateway's reference, "" when none */
} tm_pay_intake_result;

/* Makes an intake on store `s` with key file `k` (both borrowed, and must
 * outlive it) and the test gateway (the only one built in). TM_OK with *out
 * owned by the caller (tm_pay_intake_free); TM_EINVAL for bad limits;
 * TM_ENOMEM. */
int tm_pay_intake_new(tm_store *s, const tm_keys *k, const tm_pay_intake_opts *o,
                      tm_pay_intake **out, struct tm_err *err);

/* Frees `p` and wipes the audit key it holds; NULL is a no-op. */
void tm_pay_intake_free(tm_pay_intake *p);

/* Takes request `text` (`len` bytes of a JSON object: key, debt_id, amount,
 * card_number or token, at) numbered `line` (for its origin). A request
 * without "at" is taken at `now`. The text is wiped before returning,
 * whatever happened (it may hold a card number). TM_OK when the request was
 * dealt with, *res saying how (a request's problem is a result, never an
 * error); another code only when the store or memory failed (err says why;
 * nothing of the request is half-written). */
int tm_pay_intake_take(tm_pay_intake *p, char *text, size_t len, long line, int64_t now,
                       tm_pay_intake_result *res, struct tm_err *err);

/* Attempts the gateway really processed (replays excluded). */
long tm_pay_intake_gateway_attempts(const tm_pay_intake *p);

#endif
