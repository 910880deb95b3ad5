/*
 * app/access.h: who may do what. One table of roles and the permissions each
 * grants, consulted by every route of the service (app/serve_routes.c) and by
 * `tallyman tokens` to check the roles it is given. A role is granted to a
 * token (and, later, to a person); a route names the one permission it needs.
 */
#ifndef TM_ACCESS_H
#define TM_ACCESS_H

#include <stddef.h>

/* What a route needs. Each route of the service names one; the table in
 * access.c says which roles grant which. */
enum tm_perm {
    TM_PERM_DECIDE,          /* POST /v1/decide */
    TM_PERM_EVENTS,          /* POST /v1/events: what happened to accounts, outcomes */
    TM_PERM_ACCOUNTS,        /* POST /v1/accounts */
    TM_PERM_PAYMENTS,        /* POST /v1/payments */
    TM_PERM_DEBTS_READ,      /* GET /v1/debts/{id}: where a debt stands (no personal data) */
    TM_PERM_METRICS,         /* GET /metrics */
    TM_PERM_POLICY_PROPOSE,  /* script sets: propose, activate, roll back */
    TM_PERM_POLICY_APPROVE,  /* script sets: approve (never by an admin alone) */
    TM_PERM_POLICY_READ,     /* script sets: list, show, diff */
    TM_PERM_DEBT_STORY,      /* GET /v1/debts/{id}/story, POST /v1/debts/{id}/explain */
    TM_PERM_SIMULATE,        /* POST /v1/simulations and reading them back */
    TM_PERM_QUEUE_WORK,      /* GET /v1/queues/{name}, claim and close an item */
    TM_PERM_AUDIT_READ,      /* GET /v1/audit, GET /v1/audit/verify, decisions */
    TM_PERM_PII_READ,        /* a consumer's personal data in clear (else masked) */
    TM_PERM_USERS_ADMIN,     /* people and tokens: add, disable, reset, revoke */
    TM_PERM_DIAGNOSTICS,     /* read-only diagnostics of the running service */
    TM_PERM_COUNT
};

/* A set of roles: bit i is role i of the table (tm_access_role_name). */
typedef unsigned tm_roles;

/* Parses "dialer" or "integration,engineer" into *out. Returns 0, or -1 with
 * the unknown name copied into `bad` (cap bytes). */
int tm_access_roles_parse(const char *text, tm_roles *out, char *bad, size_t cap);

/* The role names in the set, comma-separated, into buf. */
void tm_access_roles_format(tm_roles r, char *buf, size_t cap);

/* The permission's name ("decide", "users_admin"), for listings. */
const char *tm_access_perm_name(enum tm_perm perm);

/* 1 when `perm` is exercised only by a person (a login session or a
 * personal token), never by a machine's token whatever its roles: changing
 * what runs is one person's act, approved by another (four-eyes). */
int tm_access_needs_person(enum tm_perm perm);

/* 1 when one of the roles grants `perm`. */
int tm_access_allows(tm_roles r, enum tm_perm perm);

/* The name of role i, or NULL past the last: for listing them in help. */
const char *tm_access_role_name(int i);

/* 1 when role i is one people hold (`tallyman users`); the others (dialer,
 * integration) are for machines' tokens only. */
int tm_access_role_is_person(int i);

/* The roles of this table that a person holding the store's roles `held`
 * (TM_ROLE_BIT of enum tm_role, core/store.h) has, and back: the store keeps
 * a person's roles by the same names this table gives them. */
tm_roles tm_access_of_person(unsigned held);
unsigned tm_access_to_person(tm_roles r);

/* Parses "compliance" or "strategy,auditor" as roles a person may hold into
 * *out (TM_ROLE_BIT of the store's roles). Returns 0; -1 for a name that is
 * no role, -2 for a machine role; either way the name is copied into bad. */
int tm_access_person_roles_parse(const char *text, unsigned *out, char *bad, size_t cap);

/* The role names, ", "-separated, into buf: person roles (person 1),
 * machine roles (0) or all (-1). For help and error messages. */
void tm_access_roles_list(int person, char *buf, size_t cap);

#endif
