/*
 * core/gate.h: the compliance gate. Every contact a journey wants is judged
 * here against every rule that applies; the most restrictive answer wins.
 *
 * The gate works on compiled rules (tm_rule): the declarative kinds (time
 * windows, days, frequency caps, blocks on flags, required content, ...) are
 * evaluated natively; a rule whose law is not a number carries a `check`
 * callback (a Lua function, called through sandbox/lb_gate.c). Rules are
 * compiled from regulation scripts by sandbox/rulec.c; this module never
 * sees Lua. Reading requests from JSON and writing decisions as JSON (the
 * decide wire format) are gate_wire.h's.
 *
 * Time: a rule answers "is the contact allowed at instant t, and if not, what
 * is the earliest instant after t at which it might be?" (tm_gate_rule_next).
 * The decision's next_allowed_at is the fixpoint of all rules' answers: the
 * earliest instant every rule allows, or never. Local times and dates are
 * evaluated in every time zone the consumer may be in.
 */
#ifndef TM_GATE_H
#define TM_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "tm_status.h"
#include "tz.h"

#define TM_GATE_NEVER INT64_MAX

/* Channels, places, purposes, collectors, outcomes, flags: small enums used
 * as bit positions in masks. Names are the contract's (CONTRACT.md). */
enum tm_channel { TM_CH_CALL, TM_CH_SMS, TM_CH_EMAIL, TM_CH_LETTER, TM_CH_PUSH, TM_CH_WHATSAPP,
                  TM_CH_VISIT, TM_CH__COUNT };
enum tm_place { TM_PLACE_PERSONAL, TM_PLACE_WORK, TM_PLACE__COUNT };
enum tm_purpose { TM_PU_COLLECTION, TM_PU_VALIDATION_NOTICE, TM_PU_VERIFICATION, TM_PU_CEASE_NOTICE,
                  TM_PU__COUNT };
enum tm_collector { TM_CO_THIRD_PARTY, TM_CO_DEBT_BUYER, TM_CO_CREDITOR, TM_CO__COUNT };
enum tm_outcome { TM_OUT_ATTEMPT, TM_OUT_NOT_CONNECTED, TM_OUT_VOICEMAIL, TM_OUT_CONVERSATION,
                  TM_OUT_DELIVERED, TM_OUT_FAILED, TM_OUT__COUNT };
enum tm_flag { TM_FL_DECEASED, TM_FL_BANKRUPTCY, TM_FL_CEASE, TM_FL_ATTORNEY, TM_FL_SCRA,
               TM_FL_NO_WORK_CONTACT, TM_FL_INCARCERATED, TM_FL__COUNT };
enum tm_dispute { TM_DISPUTE_NONE, TM_DISPUTE_PENDING, TM_DISPUTE_VERIFIED, TM_DISPUTE__COUNT };
enum tm_debt_type { TM_DT_CREDIT_CARD, TM_DT_PERSONAL_LOAN, TM_DT_AUTO_LOAN, TM_DT_MEDICAL,
                    TM_DT_UTILITY, TM_DT_TELECOM, TM_DT_OTHER, TM_DT__COUNT };
enum tm_direction { TM_DIR_OUTBOUND, TM_DIR_INBOUND };

/* Name tables, indexed by the enums above (NULL-terminated). */
extern const char *const tm_gate_channel_names[];
extern const char *const tm_gate_place_names[];
extern const char *const tm_gate_purpose_names[];
extern const char *const tm_gate_collector_names[];
extern const char *const tm_gate_outcome_names[];
extern const char *const tm_gate_flag_names[];
extern const char *const tm_gate_dispute_names[];
extern const char *const tm_gate_debt_type_names[];
extern const char *const tm_gate_weekday_names[]; /* "sun" ... "sat" */

/* Index of `name` in a NULL-terminated table, or -1. */
int tm_gate_lookup(const char *const *table, const char *name);

/* A message field's state: absent (not yet known), known false, known true. */
enum { TM_TRI_ABSENT = 0, TM_TRI_FALSE = 1, TM_TRI_TRUE = 2 };

#define TM_GATE_MAX_ZONES 16
#define TM_GATE_MAX_MSGFIELDS 16
#define TM_GATE_MAX_RANGES 8

typedef struct tm_history {
    int channel, outcome, place, direction;
    int other_debt;   /* 1 when the entry is about another debt */
    int64_t at;       /* UTC seconds */
} tm_history;

typedef struct tm_msgfield {
    char name[32];
    int value;        /* TM_TRI_* */
} tm_msgfield;

/* One contact request, parsed and validated (from JSON by gate_wire.h, or
 * built from the store by the daily cycle). Strings are owned by the request
 * (freed by tm_gate_request_free). */
typedef struct tm_request {
    char *id_json;       /* the request's "id" as JSON text, echoed in the decision */
    int64_t now;         /* UTC seconds */
    int channel, place, purpose, collector;
    char state[3];
    char *city;          /* may be NULL */
    char *creditor;      /* may be NULL */
    const tm_zone *zones[TM_GATE_MAX_ZONES];
    int nzones;
    uint32_t flags;      /* 1 << TM_FL_* */
    uint32_t consent;    /* 1 << TM_CH_*, plus TM_CONSENT_AUTODIAL */
    uint32_t optout;     /* 1 << TM_CH_* */
    uint8_t inconvenient_days; /* 1 << weekday */
    int nranges;
    int range_from[TM_GATE_MAX_RANGES], range_to[TM_GATE_MAX_RANGES]; /* seconds of day */
    char *debt_id;       /* may be NULL */
    int debt_type;       /* TM_DT_*, TM_DT_OTHER when absent */
    int dispute;
    int64_t last_payment_day, charge_off_day; /* days since 1970-01-01, or INT64_MIN */
    int time_barred;     /* TM_TRI_*: as given, or as worked out by the gate */
    int time_barred_given;
    tm_msgfield msg[TM_GATE_MAX_MSGFIELDS];
    int nmsg;
    tm_history *history;
    int nhistory;
    char *warnings;      /* what the request says that the gate does not read (an unknown
                          * field, with a "did you mean"), one a line; NULL when none */
} tm_request;

#define TM_CONSENT_AUTODIAL (1u << 16)

/* Frees what the request owns (its strings and history), whether it was
 * read by tm_gate_request_parse() or built field by field, and zeroes it, so
 * freeing it again is harmless. */
void tm_gate_request_free(tm_request *req);

/* The message field `name` of the request (TM_TRI_*). */
int tm_gate_msg(const tm_request *req, const char *name);

/* ------------------------------------------------------------------------
 * Rules.
 */
enum tm_rule_kind {
    TM_RULE_WINDOW,       /* allowed only from..to local time, in every zone */
    TM_RULE_DAYS,         /* blocked on some weekdays and/or federal holidays (local date) */
    TM_RULE_CAP,          /* at most `count` matching contacts in a rolling window */
    TM_RULE_AFTER,        /* blocked for `days` dates after a matching contact (day 1 = its date) */
    TM_RULE_BLOCK,        /* blocked whenever the rule applies */
    TM_RULE_REQUIRES,     /* the message must carry these fields */
    TM_RULE_FORBID,       /* the message must not carry these fields */
    TM_RULE_CONSENT,      /* the consumer's consent for the channel must be on file */
    TM_RULE_OPTOUT,       /* a channel the consumer opted out of is blocked */
    TM_RULE_INCONVENIENT, /* times and days the consumer designated as inconvenient */
    TM_RULE_CHECK,        /* a script function decides */
};

#define TM_RULE_MAX_FIELDS 4

typedef struct tm_gate tm_gate;
struct tm_rule_result;
struct tm_rule;

/* A check callback: judges `req` at instant `t` for `rule`. Sets *blocked,
 * and when blocked a reason (into `reason`, `cap` bytes) and *next (the
 * earliest instant worth re-checking, or TM_GATE_NEVER); may add required
 * fields through tm_gate_result_require(). Returns TM_OK, or an error code
 * (the gate then fails closed for this request: blocked, never). */
typedef int (*tm_check_fn)(void *ud, const struct tm_rule *rule, const tm_request *req, int64_t t,
                           int *blocked, char *reason, size_t cap, int64_t *next,
                           struct tm_rule_result *res);

typedef struct tm_rule {
    char qid[96];           /* "US-MA/call-frequency" */
    char *cite;             /* legal citation (owned) */
    char *reason;           /* optional fixed reason text (owned, may be NULL) */
    int kind;
    /* When the rule applies (0 masks mean "any"). */
    uint32_t channels, places, purposes, collectors, debt_types, disputes;
    uint32_t flags_any;     /* applies only if the consumer has one of these flags */
    uint32_t flags_none;    /* applies only if the consumer has none of these */
    int time_barred;        /* TM_TRI_ABSENT: any; TRUE/FALSE: only when the debt is/isn't */
    char when_msg[TM_RULE_MAX_FIELDS][32]; /* applies only if one of these message fields is true */
    int nwhen_msg;
    uint32_t consent_bit;   /* CONSENT: the consent needed (0: the request's channel) */
    int64_t effective_day, expires_day; /* INT64_MIN / INT64_MAX when open */
    /* Parameters by kind. */
    int from_s, to_s;       /* WINDOW: seconds of day; to_s may be 86400 */
    uint8_t days_mask;      /* DAYS: 1 << weekday */
    int holidays;           /* DAYS: 1 = federal holidays (observed), 2 = actual and observed */
    int count;              /* CAP */
    int window_days;        /* CAP, AFTER: calendar days (Regulation F counting) */
    int64_t window_secs;    /* CAP: rolling duration instead of dates, when > 0 */
    uint32_t of_channels, of_outcomes, of_places; /* CAP, AFTER: which history entries count */
    int of_direction;       /* -1 any, else TM_DIR_* */
    int per_debt;           /* CAP, AFTER: count only entries about this debt */
    char fields[TM_RULE_MAX_FIELDS][32]; /* REQUIRES, FORBID */
    int nfields;
    tm_check_fn check;      /* CHECK */
    void *check_ud;
    int check_ref;          /* for the caller's bookkeeping (a Lua registry ref) */
    int line;               /* where the rule is in its script (0 if unknown) */
} tm_rule;

/* Where a regulation applies. */
typedef struct tm_regulation {
    char id[48];            /* "US-FED", "US-MA", "US-NY-NYC", ... */
    char *name;
    char *script;           /* path of the script it came from */
    char states[64][3];     /* empty: every state */
    int nstates;
    char *cities[16];       /* empty: every city */
    int ncities;
    char *creditors[16];    /* empty: every creditor */
    int ncreditors;
    uint32_t collectors;    /* 0: all */
    tm_rule *rules;
    int nrules;
} tm_regulation;

/* Statute of limitations for one state: years by debt type (0 = unknown). */
typedef struct tm_sol {
    char state[3];
    int years[TM_DT__COUNT];
} tm_sol;

/* The outcome of one rule for a request. */
typedef struct tm_rule_result {
    const tm_rule *rule;
    int blocked;
    int64_t next;           /* when blocked: earliest instant worth re-checking */
    int failed;             /* the rule's check failed (a script error or limit): it blocks,
                             * failing closed, and the reason says where it failed */
    char reason[256];
    char requires[TM_RULE_MAX_FIELDS][32];
    int nrequires;
} tm_rule_result;

void tm_gate_result_require(struct tm_rule_result *res, const char *field);

/* A decision. */
typedef struct tm_decision {
    int allow;
    int64_t next_allowed;   /* TM_GATE_NEVER for null; `now` when allowed */
    tm_rule_result *blocked; /* the blocking rules, in evaluation order (owned) */
    int nblocked;
    char requires[16][32];
    int nrequires;
    int error;              /* set when a rule failed and the gate failed closed (the rules
                             * are those in blocked[] with `failed` set) */
} tm_decision;

/* A gate: regulations plus statutes of limitation. Not thread-safe: one per
 * worker (the check callbacks run in the worker's sandbox). */
tm_gate *tm_gate_new(void);
void tm_gate_free(tm_gate *g);

/* Adds a regulation; the gate takes ownership of its contents (rules, strings). */
int tm_gate_add(tm_gate *g, tm_regulation *reg, struct tm_err *err);
/* Sets the statutes of limitation (copied). */
void tm_gate_set_sol(tm_gate *g, const tm_sol *sol, int n);
/* Records the script set's hash, echoed in every decision. */
void tm_gate_set_scripts_hash(tm_gate *g, const char *hex);
const char *tm_gate_scripts_hash(const tm_gate *g);
int tm_gate_count(const tm_gate *g);
const tm_regulation *tm_gate_regulation(const tm_gate *g, int i);

/* Judges a request. Fills *d (caller frees with tm_gate_decision_free).
 * Works out debt.time_barred from the statutes when the request does not give
 * it. Returns TM_OK (even when a rule failed: that fails closed into *d). */
int tm_gate_decide(tm_gate *g, tm_request *req, tm_decision *d);
void tm_gate_decision_free(tm_decision *d);

/* ------------------------------------------------------------------------
 * Explaining a decision (`tallyman decide --explain`): every regulation
 * with whether it applies to the request and why, and for each one that
 * does, every rule's verdict. Apart from tm_gate_decide so the plain path
 * pays nothing for it.
 */
enum tm_verdict {
    TM_VERDICT_ALLOWED,        /* the rule applies and allows the contact */
    TM_VERDICT_BLOCKED,        /* the rule applies and blocks it (res: reason, next) */
    TM_VERDICT_NOT_APPLICABLE, /* a condition of the rule does not hold (why) */
};

typedef struct tm_rule_explain {
    const tm_rule *rule;       /* borrowed from the gate */
    int verdict;               /* enum tm_verdict */
    char why[200];             /* not applicable: the condition that does not hold */
    tm_rule_result res;        /* applicable: the rule's result at the request's time
                                * (reason and next when blocked, requires) */
} tm_rule_explain;

typedef struct tm_reg_explain {
    const tm_regulation *reg;  /* borrowed from the gate */
    int applies;
    char why[256];             /* where it applies and what of the request matched,
                                * or the condition that does not hold */
    tm_rule_explain *rules;    /* every rule of an applicable regulation (owned) */
    int nrules;
} tm_reg_explain;

typedef struct tm_explain {
    tm_reg_explain *regs;      /* every regulation of the gate, in the gate's order (owned) */
    int nregs;
    tm_decision d;             /* the decision, exactly as tm_gate_decide gives it */
} tm_explain;

/* Judges `req` as tm_gate_decide does (x->d is that decision) and says
 * why: every regulation, applicable or not, with the reason; every rule of
 * an applicable one with its verdict at req->now. Check functions are
 * called once more than tm_gate_decide calls them. Returns TM_OK, or
 * TM_ENOMEM (then *x holds nothing to free). The caller frees *x with
 * tm_gate_explain_free. */
int tm_gate_explain(tm_gate *g, tm_request *req, tm_explain *x);
void tm_gate_explain_free(tm_explain *x);

/* The names of the bits set in `mask` from `names` (a NULL-terminated
 * table), joined by `sep`, into buf; "" for an empty mask. */
void tm_gate_mask_names(uint32_t mask, const char *const *names, const char *sep, char *buf,
                        size_t cap);


#endif
