/*
 * app/access.c: the role table (access.h). Each role is one row naming the
 * permissions it grants; nothing else in the tree decides who may do what.
 */
#include "access.h"

#include <stdio.h>
#include <string.h>

#include "store.h"

#define P(x) (1u << TM_PERM_##x)

#define MACHINE 0
#define PERSON 1

static const struct {
    const char *name;
    int person; /* a role people hold (`tallyman users`); machine roles go to tokens only */
    unsigned perms;
} roles[] = {
    /* The dialer asks before every contact, and nothing else. */
    {"dialer", MACHINE, P(DECIDE)},
    /* A CRM or billing system: what happened to accounts, and reading them back. */
    {"integration", MACHINE, P(EVENTS) | P(ACCOUNTS) | P(PAYMENTS) | P(DEBTS_READ)},
    /* Whoever runs the service: its numbers and diagnostics. */
    {"engineer", PERSON, P(METRICS) | P(DIAGNOSTICS)},
    /* Writes and approves regulations and policies; reads decisions and audit. */
    {"compliance", PERSON, P(POLICY_PROPOSE) | P(POLICY_APPROVE) | P(POLICY_READ) | P(DEBTS_READ) |
                       P(DEBT_STORY) | P(AUDIT_READ)},
    /* Writes and approves journeys and templates; runs simulations. */
    {"strategy", PERSON, P(POLICY_PROPOSE) | P(POLICY_APPROVE) | P(POLICY_READ) | P(DEBTS_READ) |
                     P(DEBT_STORY) | P(SIMULATE)},
    /* Works a queue: the debts in it, their outcomes, payments. */
    {"agent", PERSON, P(QUEUE_WORK) | P(DEBTS_READ) | P(DEBT_STORY) | P(EVENTS) | P(PAYMENTS) |
                  P(PII_READ)},
    /* Reads audit and decisions and verifies the chain; never personal data in clear. */
    {"auditor", PERSON, P(AUDIT_READ) | P(POLICY_READ) | P(DEBTS_READ) | P(DEBT_STORY)},
    /* Runs the installation: people and tokens, the service's numbers, which
     * set runs (activating or rolling back what others approved); never
     * approving policy, never consumers' data, never the dialer's or a
     * system's work (least privilege: those are other roles). */
    {"admin", PERSON, P(USERS_ADMIN) | P(METRICS) | P(DIAGNOSTICS) | P(POLICY_PROPOSE) |
                          P(POLICY_READ)},
};

#define NROLES ((int)(sizeof roles / sizeof *roles))

const char *tm_access_role_name(int i) { return i >= 0 && i < NROLES ? roles[i].name : NULL; }

int tm_access_roles_parse(const char *text, tm_roles *out, char *bad, size_t cap)
{
    tm_roles r = 0;
    const char *p = text;
    if (!*p) {
        snprintf(bad, cap, "%s", "");
        return -1;
    }
    while (*p) {
        size_t n = strcspn(p, ",");
        int found = -1;
        for (int i = 0; i < NROLES; i++)
            if (strlen(roles[i].name) == n && strncmp(roles[i].name, p, n) == 0)
                found = i;
        if (found < 0) {
            snprintf(bad, cap, "%.*s", (int)n, p);
            return -1;
        }
        r |= 1u << found;
        p += n;
        if (*p == ',')
            p++;
    }
    *out = r;
    return 0;
}

void tm_access_roles_format(tm_roles r, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < NROLES && n < cap; i++)
        if (r & (1u << i))
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? "," : "", roles[i].name);
}

int tm_access_allows(tm_roles r, enum tm_perm perm)
{
    for (int i = 0; i < NROLES; i++)
        if ((r & (1u << i)) && (roles[i].perms & (1u << perm)))
            return 1;
    return 0;
}

int tm_access_role_is_person(int i) { return i >= 0 && i < NROLES && roles[i].person; }

tm_roles tm_access_of_person(unsigned held)
{
    tm_roles r = 0;
    for (int i = 0; i < NROLES; i++)
        if (roles[i].person && (held & TM_ROLE_BIT(tm_store_role_parse(roles[i].name))))
            r |= 1u << i;
    return r;
}

unsigned tm_access_to_person(tm_roles r)
{
    unsigned held = 0;
    for (int i = 0; i < NROLES; i++)
        if ((r & (1u << i)) && roles[i].person) {
            enum tm_role sr = tm_store_role_parse(roles[i].name);
            if (sr != TM_ROLE_OTHER)
                held |= TM_ROLE_BIT(sr);
        }
    return held;
}

int tm_access_person_roles_parse(const char *text, unsigned *out, char *bad, size_t cap)
{
    tm_roles r;
    if (tm_access_roles_parse(text, &r, bad, cap) != 0)
        return -1;
    for (int i = 0; i < NROLES; i++)
        if ((r & (1u << i)) && !roles[i].person) {
            snprintf(bad, cap, "%s", roles[i].name);
            return -2;
        }
    *out = tm_access_to_person(r);
    return 0;
}

void tm_access_roles_list(int person, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < NROLES && n < cap; i++)
        if (person < 0 || roles[i].person == person)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", roles[i].name);
}

const char *tm_access_perm_name(enum tm_perm perm)
{
    static const char *const names[TM_PERM_COUNT] = {
        [TM_PERM_DECIDE] = "decide",
        [TM_PERM_EVENTS] = "events",
        [TM_PERM_ACCOUNTS] = "accounts",
        [TM_PERM_PAYMENTS] = "payments",
        [TM_PERM_DEBTS_READ] = "debts_read",
        [TM_PERM_METRICS] = "metrics",
        [TM_PERM_POLICY_PROPOSE] = "policy_propose",
        [TM_PERM_POLICY_APPROVE] = "policy_approve",
        [TM_PERM_POLICY_READ] = "policy_read",
        [TM_PERM_DEBT_STORY] = "debt_story",
        [TM_PERM_SIMULATE] = "simulate",
        [TM_PERM_QUEUE_WORK] = "queue_work",
        [TM_PERM_AUDIT_READ] = "audit_read",
        [TM_PERM_PII_READ] = "pii_read",
        [TM_PERM_USERS_ADMIN] = "users_admin",
        [TM_PERM_DIAGNOSTICS] = "diagnostics",
    };
    return perm >= 0 && perm < TM_PERM_COUNT && names[perm] ? names[perm] : "other";
}

int tm_access_needs_person(enum tm_perm perm)
{
    return perm == TM_PERM_POLICY_PROPOSE || perm == TM_PERM_POLICY_APPROVE;
}
