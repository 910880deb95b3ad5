/*
 * sandbox/lb_render.h: renders an outbox message with the script tree's
 * channel templates (scripts/lib/render.lua), for the daily cycle.
 */
#ifndef TM_LB_RENDER_H
#define TM_LB_RENDER_H

#include <stdint.h>

#include "sandbox.h"
#include "tm_status.h"

typedef struct tm_render_in {
    const char *channel, *template_id, *language; /* language "en" or "es" */
    const char *state, *zone, *currency;
    const char *first_name, *last_name;           /* personal data; may be NULL */
    const char *debt_id, *creditor;
    int64_t balance, days_past_due;                /* minor units; -1 unknown */
    const char *today;                             /* "YYYY-MM-DD" */
    const char *const *requires;                   /* the gate's requires */
    int nrequires;
    int has_offer;                                 /* a settlement offer made with the send */
    int64_t offer_amount;                          /* minor units */
    const char *offer_due;                         /* "YYYY-MM-DD" */
    int has_plan;                                  /* an installment plan offered with it */
    int64_t plan_count, plan_amount;               /* installments; the first one's amount */
    const char *plan_first_due;
} tm_render_in;

typedef struct tm_rendered {
    char *subject, *text, *html; /* malloc'd; subject and html NULL unless email */
    int over_limit;              /* an SMS past its segment limit */
    int segments;
} tm_rendered;

/* Renders one message under the sandbox's limits. TM_ENOENT when the tree
 * has no lib/render.lua; TM_ESCRIPT (message naming the template) for an
 * unknown template, a missing disclosure text or a bad value. `out` is
 * zeroed on failure; free it with tm_rendered_free. */
int tm_render(tm_sandbox *sb, const tm_render_in *in, tm_rendered *out, struct tm_err *err);
void tm_rendered_free(tm_rendered *r);

/* The claims of template `template_id` on `channel` (lib/claims.lua): the
 * message fields its text carries that a rule may forbid. Up to `max` names
 * are copied into `names`; *found is 0 for an unknown template. TM_OK, or
 * the script's error. */
#define TM_RENDER_CLAIM_LEN 32
int tm_render_claims(tm_sandbox *sb, const char *channel, const char *template_id,
                     char names[][TM_RENDER_CLAIM_LEN], int max, int *n, int *found, struct tm_err *err);

#endif
