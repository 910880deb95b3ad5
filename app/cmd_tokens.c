/*
 * app/cmd_tokens.c: `tallyman tokens create|revoke|list`: the credentials
 * machines use with `tallyman serve` (CONTRACT.md, "The service"). A token is
 * 256 random bits, printed once; the store keeps only its SHA-256, so a copy
 * of the store gives no one a working token. Making and revoking a token are
 * recorded in the audit log.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "audit.h"
#include "calendar.h"
#include "cli.h"
#include "crypto.h"
#include "portfolio.h"
#include "serve.h"
#include "store.h"

static const char tokens_help[] =
    "usage: tallyman tokens create --role ROLE[,ROLE...] --name NAME [--expires N{d|h}]\n"
    "                              [--rate-limit N/s]\n"
    "       tallyman tokens create --user PERSON --name NAME [--expires N{d|h}]\n"
    "                              [--rate-limit N/s]\n"
    "       tallyman tokens revoke NAME\n"
    "       tallyman tokens list\n"
    "\n"
    "Credentials for machines that call `tallyman serve` (Authorization: Bearer TOKEN).\n"
    "create   makes a token and prints it alone on the last line: it is shown this once\n"
    "         (the store keeps only its SHA-256). Roles: dialer (decide), integration\n"
    "         (events, accounts, payments, reading debts), and the people's roles\n"
    "         (`tallyman users --help`; the table is in the README, \"Roles\"), a token\n"
    "         then acting for a system. --expires: lifetime, e.g. 90d or 12h\n"
    "         (default: no expiry). --now TIME (RFC 3339) dates it (default: now).\n"
    "         --rate-limit: the token's own requests a second (default: serve's).\n"
    "         --user PERSON instead of --role: a personal token, acting for that person\n"
    "         (`tallyman users`) with the roles they hold when it is used; made only by\n"
    "         the person themself (the operating system user), so that approving a\n"
    "         script set through the service stays one person's act.\n"
    "revoke   the token stops working at once, also in a running service\n"
    "list     every token: name, roles, created, expires, last used, revoked\n";

static void fmt_time(int64_t t, char *buf, size_t cap)
{
    if (!t || tm_calendar_format_rfc3339(t, 0, buf, cap, NULL) != TM_OK)
        snprintf(buf, cap, "-");
}

/* Writes the audit record of a token made or revoked, in its own transaction
 * with the change itself (done by `change`). */
static int audited(tm_store *s, const tm_keys *keys, int64_t now, const char *actor,
                   const char *action, const char *name, json_t *details,
                   int (*change)(tm_store *, void *, struct tm_err *), void *ud, struct tm_err *e)
{
    uint8_t akey[32];
    tm_portfolio_audit_key(keys, akey);
    char subject[160];
    snprintf(subject, sizeof subject, "token:%s", name);
    char *text = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return tm_err_set(e, TM_ENOMEM, "out of memory");
    int rc = tm_store_begin(s, e);
    if (rc == TM_OK)
        rc = change(s, ud, e);
    if (rc == TM_OK)
        rc = tm_audit_append(s, akey, now, actor, action, subject, text, e);
    if (rc == TM_OK)
        rc = tm_store_commit(s, e);
    else
        tm_store_rollback(s);
    free(text);
    return rc;
}

typedef struct create_args {
    const char *name, *hash, *roles, *person;
    int64_t now, expires;
    double rate;
} create_args;

static int do_create(tm_store *s, void *ud, struct tm_err *e)
{
    create_args *a = ud;
    int found = 0;
    int rc = a->person
                 ? tm_store_token_add_person(s, a->name, a->hash, a->person, a->now, a->expires, e)
                 : tm_store_token_add(s, a->name, a->hash, a->roles, a->now, a->expires, e);
    if (rc == TM_OK && a->rate > 0)
        rc = tm_store_token_set_rate(s, a->name, a->rate, &found, e);
    return rc;
}

typedef struct revoke_args {
    const char *name;
    int64_t now;
    int found;
} revoke_args;

static int do_revoke(tm_store *s, void *ud, struct tm_err *e)
{
    revoke_args *a = ud;
    int rc = tm_store_token_revoke(s, a->name, a->now, &a->found, e);
    if (rc == TM_OK && !a->found)
        return tm_err_set(e, TM_ENOENT, "no token named '%s'", a->name);
    return rc;
}

/* "90d", "12h": seconds, or -1. */
static int64_t parse_lifetime(const char *s)
{
    uint64_t n;
    size_t len = strlen(s);
    if (len < 2)
        return -1;
    char num[32];
    if (len - 1 >= sizeof num)
        return -1;
    memcpy(num, s, len - 1);
    num[len - 1] = '\0';
    if (tm_cli_parse_u64(num, 100000, &n) != 0 || n == 0)
        return -1;
    if (s[len - 1] == 'd')
        return (int64_t)n * 86400;
    if (s[len - 1] == 'h')
        return (int64_t)n * 3600;
    return -1;
}

static int valid_name(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 128)
        return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return 0;
    return 1;
}

static int tokens_create(tm_cli *cli)
{
    const char *role = NULL, *name = NULL, *expires = NULL, *user = NULL;
    double rate = 0;
    int64_t now = (int64_t)time(NULL);
    for (int i = 2; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        const char **slot = strcmp(a, "--role") == 0      ? &role
                            : strcmp(a, "--name") == 0    ? &name
                            : strcmp(a, "--expires") == 0 ? &expires
                            : strcmp(a, "--user") == 0    ? &user
                                                          : NULL;
        if (strcmp(a, "--rate-limit") == 0) {
            if (i + 1 >= cli->argc || tm_serve_parse_rate(cli->argv[++i], &rate) != 0)
                return tm_cli_usage_error("tokens", "--rate-limit: requests a second, e.g. 50/s "
                                                    "(1 to 100000)");
            continue;
        }
        if (strcmp(a, "--now") == 0) {
            int32_t ns;
            int off;
            if (i + 1 >= cli->argc ||
                tm_calendar_parse_rfc3339(cli->argv[++i], &now, &ns, &off, NULL) != TM_OK)
                return tm_cli_usage_error("tokens", "--now needs an RFC 3339 time");
            continue;
        }
        if (!slot)
            return tm_cli_usage_error("tokens", "unknown option '%s'", a);
        if (i + 1 >= cli->argc)
            return tm_cli_usage_error("tokens", "%s needs a value", a);
        *slot = cli->argv[++i];
    }
    if (role && user)
        return tm_cli_usage_error("tokens", "--role or --user, not both: a personal token has its "
                                            "person's roles");
    if ((!role && !user) || !name)
        return tm_cli_usage_error("tokens", "create needs --role and --name");
    if (!valid_name(name))
        return tm_cli_usage_error("tokens", "--name: 1 to 128 letters, digits, '-', '_' or '.': '%s'",
                                  name);
    tm_roles roles;
    char bad[64], rolebuf[129] = "";
    if (role && tm_access_roles_parse(role, &roles, bad, sizeof bad) != 0) {
        char all[300];
        tm_access_roles_list(-1, all, sizeof all);
        return tm_cli_usage_error("tokens", "--role: unknown role '%s' (%s)", bad, all);
    }
    if (role)
        tm_access_roles_format(roles, rolebuf, sizeof rolebuf);
    /* A personal token is made by its person alone: anyone else making one
     * could act (and approve) as them. */
    const char *me = user ? tm_cli_person() : "tokens";
    if (!me)
        return TM_EXIT_FAIL;
    if (user && strcmp(user, me) != 0) {
        fprintf(stderr, "tallyman: tokens: a token acting for %s is made by %s themself, not by "
                        "%s\n", user, user, me);
        return TM_EXIT_FAIL;
    }
    int64_t life = 0;
    if (expires && (life = parse_lifetime(expires)) < 0)
        return tm_cli_usage_error("tokens", "--expires: a number of days or hours, e.g. 90d or "
                                            "12h: '%s'", expires);
    uint8_t raw[32];
    char token[3 + 65], hash[65];
    if (tm_random_bytes(raw, sizeof raw) != TM_OK) {
        fprintf(stderr, "tallyman: tokens: the random generator failed\n");
        return TM_EXIT_FAIL;
    }
    memcpy(token, "tm_", 3);
    tm_hex(raw, sizeof raw, token + 3);
    tm_sha256_hex(token, strlen(token), hash);
    tm_store *s;
    tm_keys *keys;
    if (user && !tm_cli_store_exists(cli, "tallyman users add"))
        return TM_EXIT_FAIL;
    if (tm_cli_open_store(cli, TM_CLI_KEYS_CREATE, &s, &keys) != TM_EXIT_OK)
        return TM_EXIT_FAIL;
    struct tm_err e = {0};
    tm_user u;
    int ufound = 0;
    if (user && (tm_store_user_get(s, user, &u, &ufound, &e) != TM_OK || !ufound)) {
        if (!e.msg[0])
            snprintf(e.msg, sizeof e.msg, "%s is not one of the store's people (tallyman users "
                                          "add)", user);
        fprintf(stderr, "tallyman: tokens: %s\n", e.msg);
        tm_store_close(s);
        tm_keys_free(keys);
        return TM_EXIT_FAIL;
    }
    create_args ca = {name, hash, rolebuf, user, now, life ? now + life : 0, rate};
    json_t *d = user ? json_pack("{s:s, s:I, s:f}", "person", user, "expires",
                                 (json_int_t)ca.expires, "rate_limit", rate)
                     : json_pack("{s:s, s:I, s:f}", "roles", rolebuf, "expires",
                                 (json_int_t)ca.expires, "rate_limit", rate);
    int rc = d ? audited(s, keys, now, me, "token.created", name, d, do_create, &ca, &e)
               : tm_err_set(&e, TM_ENOMEM, "out of memory");
    json_decref(d);
    tm_store_close(s);
    tm_keys_free(keys);
    if (rc != TM_OK) {
        fprintf(stderr, "tallyman: tokens: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    char when[40];
    fmt_time(ca.expires, when, sizeof when);
    if (user)
        printf("token '%s' (acting for %s, with their roles; expires: %s); it is shown only this "
               "once:\n%s\n", name, user, ca.expires ? when : "never", token);
    else
        printf("token '%s' (roles: %s, expires: %s); it is shown only this once:\n%s\n", name,
               rolebuf, ca.expires ? when : "never", token);
    return TM_EXIT_OK;
}

static int tokens_revoke(tm_cli *cli)
{
    if (cli->argc != 3)
        return tm_cli_usage_error("tokens", "revoke takes one token name");
    if (!tm_cli_store_exists(cli, "tokens create"))
        return TM_EXIT_FAIL;
    tm_store *s;
    tm_keys *keys;
    if (tm_cli_open_store(cli, TM_CLI_KEYS_WRITE, &s, &keys) != TM_EXIT_OK)
        return TM_EXIT_FAIL;
    revoke_args ra = {cli->argv[2], (int64_t)time(NULL), 0};
    json_t *d = json_object();
    struct tm_err e = {0};
    int rc = d ? audited(s, keys, ra.now, "tokens", "token.revoked", ra.name, d, do_revoke, &ra, &e)
               : tm_err_set(&e, TM_ENOMEM, "out of memory");
    json_decref(d);
    tm_store_close(s);
    tm_keys_free(keys);
    if (rc != TM_OK) {
        fprintf(stderr, "tallyman: tokens: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    printf("token '%s' revoked\n", ra.name);
    return TM_EXIT_OK;
}

static int print_token(void *ud, const tm_token_rec *t)
{
    (void)ud;
    char c[40], x[40], u[40], r[40];
    fmt_time(t->created, c, sizeof c);
    fmt_time(t->expires, x, sizeof x);
    fmt_time(t->last_used, u, sizeof u);
    fmt_time(t->revoked, r, sizeof r);
    char roles[140];
    if (t->person[0])
        snprintf(roles, sizeof roles, "person:%s", t->person);
    else
        snprintf(roles, sizeof roles, "%s", t->roles);
    printf("%-24s %-20s %-21s %-21s %-21s %s\n", t->name, roles, c, x, u, r);
    return TM_OK;
}

static int tokens_list(tm_cli *cli)
{
    if (cli->argc != 2)
        return tm_cli_usage_error("tokens", "list takes no arguments");
    if (!tm_cli_store_exists(cli, "tokens create"))
        return TM_EXIT_FAIL;
    tm_store *s;
    tm_keys *keys;
    if (tm_cli_open_store(cli, TM_CLI_KEYS_READ, &s, &keys) != TM_EXIT_OK)
        return TM_EXIT_FAIL;
    printf("%-24s %-20s %-21s %-21s %-21s %s\n", "NAME", "ROLES", "CREATED", "EXPIRES", "LAST USED",
           "REVOKED");
    struct tm_err e = {0};
    int rc = tm_store_token_list(s, print_token, NULL, &e);
    tm_store_close(s);
    tm_keys_free(keys);
    if (rc != TM_OK) {
        fprintf(stderr, "tallyman: tokens: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    return TM_EXIT_OK;
}

int tm_cmd_tokens(tm_cli *cli)
{
    const char *what = cli->argc >= 2 ? cli->argv[1] : "";
    if (strcmp(what, "--help") == 0 || strcmp(what, "-h") == 0) {
        fputs(tokens_help, stdout);
        return TM_EXIT_OK;
    }
    if (strcmp(what, "create") == 0)
        return tokens_create(cli);
    if (strcmp(what, "revoke") == 0)
        return tokens_revoke(cli);
    if (strcmp(what, "list") == 0)
        return tokens_list(cli);
    return tm_cli_usage_error("tokens", "create, revoke or list");
}
