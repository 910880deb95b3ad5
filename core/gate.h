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
/* Facts a rule may turn on (CONTRACT.md, the optional request fields); a
 * request that does not give one holds TM_GATE_ABSENT. */
enum tm_owner { TM_OWNER_ORIGINAL_CREDITOR, TM_OWNER_DEBT_BUYER, TM_OWNER__COUNT };
enum tm_dialer { TM_DIALER_MANUAL, TM_DIALER_AUTODIALER, TM_DIALER_PRERECORDED, TM_DIALER__COUNT };
enum tm_line { TM_LINE_CELL, TM_LINE_LANDLINE, TM_LINE_VOIP, TM_LINE__COUNT };
enum tm_creq_type { TM_CREQ_NO_WORK_CONTACT, TM_CREQ_NO_CALLS_AT, TM_CREQ_CONTACT_ONLY_BY,
                    TM_CREQ__COUNT };
enum tm_form { TM_FORM_ORAL, TM_FORM_WRITTEN, TM_FORM__COUNT };
#define TM_GATE_ABSENT (-1)

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
extern const char *const tm_gate_direction_names[];
extern const char *const tm_gate_owner_names[];
extern const char *const tm_gate_dialer_names[];
extern const char *const tm_gate_line_names[];
extern const char *const tm_gate_creq_names[];
extern const char *const tm_gate_form_names[];

/* Index of `name` in a NULL-terminated table, or -1. */
int tm_gate_lookup(const char *const *table, const char *name);

/* A message field's state: absent (not yet known), known false, known true. */
enum { TM_TRI_ABSENT = 0, TM_TRI_FALSE = 1, TM_TRI_TRUE = 2 };

#define TM_GATE_MAX_ZONES 16
#define TM_GATE_MAX_MSGFIELDS 16
#define TM_GATE_MAX_RANGES 8
#define TM_GATE_MAX_NOTICES 8
#define TM_GATE_MAX_REQUESTS 16
#define TM_GATE_MAX_ASSUMED 16
#define TM_GATE_PATH_LEN 48

typedef struct tm_history {
    int channel, outcome, place, direction;
    int other_debt;   /* 1 when the entry is about another debt */
    int64_t at;       /* UTC seconds */
    int required_by_law; /* TM_TRI_*: the message was one the law required */
    int purpose;      /* TM_PU_*, or TM_GATE_ABSENT */
} tm_history;

/* A notice sent about the debt (debt.notices): its name ("validation",
 * "medical_60_day", ...) and the local date it was sent. */
typedef struct tm_notice {
    char name[32];
    int64_t day;      /* days since 1970-01-01 */
} tm_notice;

/* One of the consumer's own requests about contact (consumer.requests). */
typedef struct tm_consumer_request {
    int type;         /* TM_CREQ_* */
    int64_t at;       /* UTC seconds */
    int form;         /* TM_FORM_*, or TM_GATE_ABSENT */
    int from_s, to_s; /* no_calls_at: seconds of the local day */
    uint32_t channels; /* contact_only_by: 1 << TM_CH_* */
} tm_consumer_request;

/* The attorney exceptions of 15 U.S.C. 1692c(a)(2) (consumer.attorney). */
typedef struct tm_attorney {
    int present;      /* the request gave consumer.attorney */
    int64_t since_day; /* INT64_MIN when not given */
    int consented, responded; /* TM_TRI_* */
    int64_t asked_at; /* UTC seconds; INT64_MIN when not given */
} tm_attorney;

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
    /* The optional facts (TM_GATE_ABSENT / INT64_MIN / "" when not given). */
    int owner;           /* debt.owner: TM_OWNER_* */
    int dialer, line;    /* TM_DIALER_*, TM_LINE_* */
    char language[36];   /* consumer.language, a BCP 47 tag */
    int64_t default_day; /* debt.default_date: the first missed payment after the last one */
    tm_notice notices[TM_GATE_MAX_NOTICES];
    int nnotices;
    tm_attorney attorney;
    tm_consumer_request requests[TM_GATE_MAX_REQUESTS];
    int nrequests;
    int64_t more_calls_at; /* consumer.consent.more_calls_at, UTC seconds */
    char *warnings;      /* what the request says that the gate does not read (an unknown
                          * field, with a "did you mean"), one a line; NULL when none */
} tm_request;

#define TM_CONSENT_AUTODIAL (1u << 16)

/* Sets every field of `req` to "not given": zero, TM_GATE_ABSENT for the
 * optional enums, INT64_MIN for dates, TM_DT_OTHER for the debt type. A
 * request built field by field (the daily cycle) starts here. */
void tm_gate_request_init(tm_request *req);

/* The date of notice `name` in debt.notices (days since 1970-01-01), or
 * INT64_MIN when the request does not give it. */
int64_t tm_gate_notice(const tm_request *req, const char *name);

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
    TM_RULE_MARGIN,       /* never blocks: a creditor policy treats debts as time-barred
                           * `margin_days` days before the law does */
    TM_RULE_REQUESTS,     /* the consumer's own requests about contact (consumer.requests):
                           * not at work, no calls at these local times, only by these media */
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
    /* Conditions on facts the request may not give: when the fact is absent
     * the rule applies (the consumer's side) and, if it then blocks or
     * requires content, the decision names the field in `assumed`. */
    char when_msg[TM_RULE_MAX_FIELDS][32]; /* one of these message fields is true (or absent) */
    int nwhen_msg;
    uint32_t owners;        /* debt.owner is one of these (1 << TM_OWNER_*) */
    uint32_t dialers;       /* dialer is one of these (1 << TM_DIALER_*) */
    uint32_t lines;         /* line is one of these (1 << TM_LINE_*) */
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
    int except_required;    /* CAP: entries that were required by law do not count (an entry
                             * that does not say counts, and is assumed) */
    int consent_days;       /* CAP, AFTER: calls placed within this many local dates of the
                             * consumer's direct consent to more calls (its date is day 1),
                             * the proposed one included, do not count; 0: no exception */
    char fields[TM_RULE_MAX_FIELDS][32]; /* REQUIRES, FORBID */
    int nfields;
    tm_check_fn check;      /* CHECK */
    void *check_ud;
    int check_ref;          /* for the caller's bookkeeping (a Lua registry ref) */
    int margin_days;        /* MARGIN */
    int line;               /* where the rule is in its script (0 if unknown) */
    /* What the rule's author says of the law behind it (for explain and the
     * table for counsel): whether its text was checked at the source
     * (TM_TRI_TRUE / FALSE, ABSENT when not stated), what could not be
     * checked, and the reading chosen. Owned; NULL when not given. */
    int verified;
    char *missing;
    char *interpretation;
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
    /* A statement, for a jurisdiction checked and found to add nothing the
     * rules could hold: the statute checked, what was found, whether its
     * text was seen (TM_TRI_*) and what could not be checked. Owned; NULL
     * when the regulation makes none. */
    char *checked;
    char *finding;
    int verified;
    char *missing;
    char *interpretation;   /* the regulation's own reading, when given */
} tm_regulation;

/* What starts a limitation period (sol.lua `accrual`, per state and type). */
enum tm_accrual {
    TM_ACCRUAL_DEFAULT,        /* the first missed payment after the last payment */
    TM_ACCRUAL_LAST_PAYMENT,   /* the last item, charge or payment on the account */
    TM_ACCRUAL_LAST_PAYMENT_30, /* 30 days after it (Ohio R.C. 2305.07(C)) */
    TM_ACCRUAL_CHARGE_OFF,     /* the charge-off */
    TM_ACCRUAL_EARLIEST,       /* an event before any date the request gives (NY medical:
                                * the treatment, CPLR 213-d): the earliest date given */
    TM_ACCRUAL__COUNT
};
extern const char *const tm_gate_accrual_names[];

/* A court holiday, for moving a last day that falls on one: a fixed date
 * (month, day) or the nth weekday of a month (nth 1..5, or -1 for the last)
 * plus `offset` days, in the years from..to (0: open). A fixed date that is
 * `observed` is also a holiday on the Friday before when it falls on a
 * Saturday and on the Monday after when it falls on a Sunday. */
typedef struct tm_sol_holiday {
    int month, day, nth, wday, offset;
    int from_year, to_year;
    int observed;
} tm_sol_holiday;

#define TM_SOL_MAX_HOLIDAYS 24

/* Statute of limitations for one state: years by debt type (0 = unknown),
 * what starts it, and the state's rule for a last day that is a holiday. */
typedef struct tm_sol {
    char state[3];
    int years[TM_DT__COUNT];
    int accrual[TM_DT__COUNT];   /* TM_ACCRUAL_* */
    int roll;                    /* a last day that is a holiday moves to the next day that is not */
    uint8_t roll_weekdays;       /* weekdays that are holidays (1 << wday) */
    int roll_federal;            /* federal legal public holidays (their legal dates) count */
    tm_sol_holiday holidays[TM_SOL_MAX_HOLIDAYS];
    int nholidays;
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
    char assumed[TM_RULE_MAX_FIELDS][TM_GATE_PATH_LEN]; /* request fields the rule assumed */
    int nassumed;
} tm_rule_result;

void tm_gate_result_require(struct tm_rule_result *res, const char *field);
/* Notes that the rule judged on the consumer's side because request field
 * `path` ("debt.owner", "history[].required_by_law") was absent. */
void tm_gate_result_assume(struct tm_rule_result *res, const char *path);

/* Why the debt is (or is not) treated as time-barred. */
enum tm_barred_by { TM_BARRED_UNKNOWN, TM_BARRED_REQUEST, TM_BARRED_LAW, TM_BARRED_POLICY };

/* A decision. */
typedef struct tm_decision {
    int allow;
    int64_t next_allowed;   /* TM_GATE_NEVER for null; `now` when allowed */
    tm_rule_result *blocked; /* the blocking rules, in evaluation order (owned) */
    int nblocked;
    char requires[16][32];
    int nrequires;
    char assumed[TM_GATE_MAX_ASSUMED][TM_GATE_PATH_LEN]; /* request fields assumed, in order */
    int nassumed;
    int error;              /* set when a rule failed and the gate failed closed (the rules
                             * are those in blocked[] with `failed` set) */
    /* The statute of limitations as the gate worked it out. */
    int barred_by;          /* TM_BARRED_*: what made req->time_barred */
    int64_t time_barred_on; /* the local date the debt is time-barred from by law (days since
                             * 1970-01-01), INT64_MIN when not worked out */
    const tm_rule *margin;  /* the creditor policy's margin rule that applies, or NULL */
    int64_t margin_on;      /* time_barred_on less the margin, when `margin` */
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

/* The last day on which suit could be filed on a debt whose claim accrued
 * on `accrual_day` (days since 1970-01-01), under `sol` for `debt_type`: the
 * period counted as the courts count it (the accrual day excluded, the last
 * day included; a period in years ends on the same-numbered day, or the last
 * day of a shorter month), then moved past the state's court holidays where
 * `sol` has a roll. INT64_MIN when the period is unknown (years 0). The debt
 * is time-barred from the day after. */
int64_t tm_gate_sol_last_day(const tm_sol *sol, int debt_type, int64_t accrual_day);

/* Whether local date `day` is a holiday under `sol`'s roll (its weekdays,
 * federal legal public holidays, its own holidays). */
int tm_gate_sol_is_holiday(const tm_sol *sol, int64_t day);

/* With `on`, every decision visits every rule of every regulation and
 * converts every local time afresh: the plain reading of the rules, kept
 * so that tests can compare the gate's index (the rules a request from a
 * state, on a channel, with or without flags can meet) and its per-decision
 * cache of local times against it, decision for decision. Off by default.
 * The answers are the same either way; only the time differs. */
void tm_gate_set_reference(tm_gate *g, int on);

/* Judges a request. Fills *d (caller frees with tm_gate_decision_free).
 * Works out debt.time_barred from the statutes when the request does not give
 * it: the claim's accrual as sol.lua says for the state and debt type (from
 * debt.default_date, debt.last_payment_date or debt.charge_off_date, naming
 * in `assumed` the date it had to stand in for), counted by
 * tm_gate_sol_last_day, against the consumer's local date (the first of the
 * consumer's zones); a creditor policy's margin rule that applies makes it
 * time-barred that many days sooner (d->margin). Returns TM_OK (even when a
 * rule failed: that fails closed into *d). */
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
