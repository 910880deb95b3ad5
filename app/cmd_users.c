/*
 * app/cmd_users.c: `tallyman users`: the people of a store, their roles
 * (app/access.c's table, the person roles of it), their passwords and their
 * second factor for the service's login (app/serve_login.c).
 *
 * The person acting is the operating system's user (tm_cli_person). Only an
 * admin adds people, changes roles, disables and resets; a person may set
 * their own password and enroll their own second factor. On a store with no
 * people, the first is the one creating it, made admin. Every change and
 * every refusal is an audit record, in the same transaction as the change.
 */
#include <event2/http.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "audit.h"
#include "calendar.h"
#include "cli.h"
#include "crypto.h"
#include "keys.h"
#include "password.h"
#include "portfolio.h"
#include "store.h"
#include "totp.h"

static const char users_help[] =
    "usage: tallyman [--db PATH] users add NAME --role ROLE[,ROLE] [--role ROLE...] "
    "[--password-stdin]\n"
    "       tallyman [--db PATH] users roles NAME --set ROLE[,ROLE]\n"
    "       tallyman [--db PATH] users revoke NAME --role ROLE\n"
    "       tallyman [--db PATH] users disable NAME | enable NAME\n"
    "       tallyman [--db PATH] users reset-password NAME [--password-stdin]\n"
    "       tallyman [--db PATH] users totp-enroll NAME\n"
    "       tallyman [--db PATH] users list\n"
    "\n"
    "The people of a store, named by their operating system user name, and their\n"
    "roles: %s. Only an admin adds people, changes\n"
    "roles, disables and resets; on a store with no people yet the first person\n"
    "adds themselves and is made admin: `tallyman users add $(id -un) --role admin`.\n"
    "\n"
    "A person logs in to `tallyman serve` (POST /v1/login) with a password and a\n"
    "TOTP code. --password-stdin reads the password from the first line of standard\n"
    "input (at least 12 characters, not the name, not a common password);\n"
    "reset-password without it prints a new random password, shown once, and\n"
    "releases a lock. A person may set their own password and enroll their own\n"
    "second factor. totp-enroll prints an otpauth:// URI for an authenticator app,\n"
    "once; the secret is kept encrypted with the store's key. disable ends the\n"
    "person's sessions at once and refuses their logins and approvals.\n";

enum what { ADD, REVOKE, ROLES, LIST, DISABLE, ENABLE, RESET, TOTP };

static const struct {
    const char *name;
    enum what w;
} whats[] = {{"add", ADD},         {"revoke", REVOKE},          {"roles", ROLES},
             {"list", LIST},       {"disable", DISABLE},        {"enable", ENABLE},
             {"reset-password", RESET}, {"totp-enroll", TOTP}};

typedef struct users_cmd {
    tm_cli *cli;
    enum what w;
    const char *verb, *name, *me;
    unsigned roles;   /* --role / --set */
    int has_set, pw_stdin;
    tm_store *s;
    tm_keys *keys;
    uint8_t akey[32];
    int64_t now;
    char subject[80];
    char said[640];   /* what to print on success */
} users_cmd;

static void fmt_time(int64_t t, char *buf, size_t cap)
{
    if (t <= 0)
        snprintf(buf, cap, "-");
    else
        tm_calendar_format_rfc3339(t, 0, buf, cap, NULL);
}

/* The roles as "compliance, strategy" ("none" for none). */
static void roles_text(unsigned roles, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int r = 0; r < TM_ROLE_OTHER; r++)
        if (roles & TM_ROLE_BIT(r))
            n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", n ? ", " : "",
                                  tm_store_role_name((enum tm_role)r));
    if (n == 0)
        snprintf(buf, cap, "none");
}

/* Appends an audit record inside the caller's transaction: `action` on the
 * command's subject, by the person acting, with details `d` (stolen). */
static int record(users_cmd *c, const char *action, json_t *d, struct tm_err *e)
{
    char *t = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    if (!t)
        return tm_err_set(e, TM_ENOMEM, "out of memory");
    int rc = tm_audit_append(c->s, c->akey, c->now, c->me, action, c->subject, t, e);
    free(t);
    return rc;
}

/* A refusal: said on stderr, audited as users.refused with what was asked
 * and why, in its own transaction. Returns TM_EXIT_FAIL. */
static int refuse(users_cmd *c, const char *why)
{
    fprintf(stderr, "tallyman: %s\n", why);
    char asked[200];
    snprintf(asked, sizeof asked, "users %s %s", c->verb, c->name ? c->name : "");
    struct tm_err e = {0};
    int rc = tm_store_begin(c->s, &e);
    if (rc == TM_OK)
        rc = record(c, "users.refused", json_pack("{s:s, s:s}", "asked", asked, "why", why), &e);
    if (rc == TM_OK)
        rc = tm_store_commit(c->s, &e);
    else
        tm_store_rollback(c->s);
    if (rc != TM_OK)
        fprintf(stderr, "tallyman: the refusal could not be audited: %s\n", e.msg);
    return TM_EXIT_FAIL;
}

/* Reads the password from the first line of standard input, checked as a
 * new password for `name`. Returns 0, or -1 after saying why. */
static int read_password(const char *name, char *pw, size_t cap)
{
    if (!fgets(pw, (int)cap, stdin)) {
        fprintf(stderr, "tallyman: users: --password-stdin: no password on standard input\n");
        return -1;
    }
    size_t n = strlen(pw);
    if (n && pw[n - 1] != '\n' && !feof(stdin)) {
        fprintf(stderr, "tallyman: users: a password has at most %d characters\n",
                TM_PASSWORD_MAX);
        return -1;
    }
    while (n && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
        pw[--n] = '\0';
    struct tm_err e = {0};
    if (tm_password_acceptable(pw, name, &e) != TM_OK) {
        fprintf(stderr, "tallyman: users: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static int print_user(void *ud, const tm_user *u)
{
    (void)ud;
    char roles[200], at[40], off[40];
    roles_text(u->roles, roles, sizeof roles);
    fmt_time(u->created_at, at, sizeof at);
    fmt_time(u->disabled_at, off, sizeof off);
    printf("%-24s %-32s since %s%s%s%s%s\n", u->name, roles, at, u->has_password ? ", password" : "",
           u->has_totp ? ", totp" : "", u->disabled_at ? ", disabled " : "",
           u->disabled_at ? off : "");
    return TM_OK;
}

/* Grants the roles in `want` that user `id` lacks and, when `exact`, takes
 * those it holds beyond them; each change audited. Says what changed into
 * c->said. */
static int set_roles(users_cmd *c, int64_t id, unsigned held, unsigned want, int exact,
                     struct tm_err *e)
{
    char given[200] = "", taken[200] = "";
    size_t gn = 0, tn = 0;
    int rc = TM_OK;
    for (int r = 0; rc == TM_OK && r < TM_ROLE_OTHER; r++) {
        const char *rn = tm_store_role_name((enum tm_role)r);
        unsigned bit = TM_ROLE_BIT(r);
        if ((want & bit) && !(held & bit)) {
            int added = 0;
            rc = tm_store_user_grant(c->s, id, (enum tm_role)r, c->me, c->now, &added, e);
            if (rc == TM_OK && added) {
                gn += (size_t)snprintf(given + gn, sizeof given - gn, "%s%s", gn ? ", " : "", rn);
                rc = record(c, "users.granted", json_pack("{s:s, s:s}", "name", c->name, "role", rn),
                            e);
            }
        } else if (exact && !(want & bit) && (held & bit)) {
            int removed = 0;
            rc = tm_store_user_revoke(c->s, id, (enum tm_role)r, &removed, e);
            if (rc == TM_OK && removed) {
                tn += (size_t)snprintf(taken + tn, sizeof taken - tn, "%s%s", tn ? ", " : "", rn);
                rc = record(c, "users.revoked", json_pack("{s:s, s:s}", "name", c->name, "role", rn),
                            e);
            }
        }
    }
    if (gn && tn)
        snprintf(c->said, sizeof c->said, "%s: given %s; no longer holds %s", c->name, given, taken);
    else if (gn)
        snprintf(c->said, sizeof c->said, "%s: given %s", c->name, given);
    else if (tn)
        snprintf(c->said, sizeof c->said, "%s: no longer holds %s", c->name, taken);
    else
        snprintf(c->said, sizeof c->said, "%s: holds every role given already", c->name);
    return rc;
}

/* A new TOTP secret for user `id`, encrypted under the store's field key;
 * the URI to show into uri. */
static int enroll_totp(users_cmd *c, int64_t id, char *uri, size_t cap, struct tm_err *e)
{
    uint8_t secret[TM_TOTP_SECRET_LEN];
    char b32[64], aad[64];
    if (tm_random_bytes(secret, sizeof secret) != TM_OK)
        return tm_err_set(e, TM_ECRYPTO, "the random generator failed");
    tm_base32_encode(secret, sizeof secret, b32);
    snprintf(aad, sizeof aad, "user:%lld:totp", (long long)id);
    uint8_t *blob = NULL;
    size_t blen = 0;
    int rc = tm_keys_encrypt(c->keys, secret, sizeof secret, aad, &blob, &blen, e);
    OPENSSL_cleanse(secret, sizeof secret);
    if (rc == TM_OK)
        rc = tm_store_user_set_totp(c->s, id, blob, blen, e);
    free(blob);
    if (rc == TM_OK)
        rc = record(c, "users.totp_enrolled", json_pack("{s:s}", "name", c->name), e);
    char *enc = evhttp_encode_uri(c->name);
    if (rc == TM_OK && !enc)
        rc = tm_err_set(e, TM_ENOMEM, "out of memory");
    if (rc == TM_OK)
        snprintf(uri, cap, "otpauth://totp/tallyman:%s?secret=%s&issuer=tallyman", enc, b32);
    free(enc);
    OPENSSL_cleanse(b32, sizeof b32);
    return rc;
}

/* The change itself, inside the transaction. `u` is the person named (found
 * 0 when there is none); output to show after the commit goes into `out`. */
static int change(users_cmd *c, const tm_user *u, int found, const char *pw, char *out, size_t cap,
                  struct tm_err *e)
{
    int rc = TM_OK;
    int64_t id = found ? u->id : 0;
    unsigned held = found ? u->roles : 0;
    if (c->w != ADD && !found)
        return tm_err_set(e, TM_ENOENT, "%s: no such person in %s", c->name, c->cli->db);
    switch (c->w) {
    case ADD: {
        int added = 0;
        rc = tm_store_user_add(c->s, c->name, c->now, &id, &added, e);
        if (rc == TM_OK && added)
            rc = record(c, "users.added", json_pack("{s:s}", "name", c->name), e);
        if (rc == TM_OK)
            rc = set_roles(c, id, held, c->roles, 0, e);
        if (rc == TM_OK && pw) {
            char hash[TM_PASSWORD_HASH_CAP];
            rc = tm_password_hash(pw, hash, sizeof hash, e);
            if (rc == TM_OK)
                rc = tm_store_user_set_password(c->s, id, hash, c->now, e);
            if (rc == TM_OK)
                rc = record(c, "users.password_set",
                            json_pack("{s:s, s:s}", "name", c->name, "how", "stdin"), e);
        }
        return rc;
    }
    case REVOKE: {
        unsigned keep = held & ~c->roles;
        rc = set_roles(c, id, held, keep, 1, e);
        if (rc == TM_OK && keep == held)
            snprintf(c->said, sizeof c->said, "%s: held none of those roles", c->name);
        return rc;
    }
    case ROLES:
        return set_roles(c, id, held, c->roles, 1, e);
    case DISABLE:
    case ENABLE:
        rc = tm_store_user_set_disabled(c->s, id, c->w == DISABLE ? c->now : 0, e);
        if (rc == TM_OK)
            rc = record(c, c->w == DISABLE ? "users.disabled" : "users.enabled",
                        json_pack("{s:s}", "name", c->name), e);
        snprintf(c->said, sizeof c->said, "%s: %s", c->name,
                 c->w == DISABLE ? "disabled; their sessions are ended" : "enabled");
        return rc;
    case RESET: {
        char gen[21], hash[TM_PASSWORD_HASH_CAP];
        if (!pw) {
            if (tm_password_generate(gen, 20) != TM_OK)
                return tm_err_set(e, TM_ECRYPTO, "the random generator failed");
            pw = gen;
        }
        rc = tm_password_hash(pw, hash, sizeof hash, e);
        if (rc == TM_OK)
            rc = tm_store_user_set_password(c->s, id, hash, c->now, e);
        if (rc == TM_OK)
            rc = record(c, "users.password_set",
                        json_pack("{s:s, s:s}", "name", c->name, "how",
                                  pw == gen ? "generated" : "stdin"), e);
        if (pw == gen) {
            snprintf(out, cap, "%s", gen);
            snprintf(c->said, sizeof c->said,
                     "%s: a new password; it is shown only this once:", c->name);
        } else {
            snprintf(c->said, sizeof c->said, "%s: password set", c->name);
        }
        OPENSSL_cleanse(gen, sizeof gen);
        return rc;
    }
    case TOTP:
        rc = enroll_totp(c, id, out, cap, e);
        snprintf(c->said, sizeof c->said,
                 "%s: add this to an authenticator app; it is shown only this once:", c->name);
        return rc;
    case LIST:
        break;
    }
    return rc;
}

int tm_cmd_users(tm_cli *cli)
{
    const char *verb = cli->argc >= 2 ? cli->argv[1] : "";
    char rl[200];
    tm_access_roles_list(1, rl, sizeof rl);
    if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
        printf(users_help, rl);
        return TM_EXIT_OK;
    }
    users_cmd c = {.cli = cli, .verb = verb, .w = LIST};
    int known = 0;
    for (size_t i = 0; i < sizeof whats / sizeof *whats; i++)
        if (!strcmp(verb, whats[i].name)) {
            c.w = whats[i].w;
            known = 1;
        }
    if (!known)
        return tm_cli_usage_error("users", "add, roles, revoke, disable, enable, reset-password, "
                                           "totp-enroll or list");
    for (int i = 2; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        int role_opt = (!strcmp(a, "--role") && (c.w == ADD || c.w == REVOKE)) ||
                       (!strcmp(a, "--set") && c.w == ROLES);
        if (role_opt && i + 1 < cli->argc) {
            char bad[64];
            unsigned r = 0;
            int prc = tm_access_person_roles_parse(cli->argv[++i], &r, bad, sizeof bad);
            if (prc == -2)
                return tm_cli_usage_error("users", "%s %s: '%s' is a role for machines' tokens "
                                                   "(tallyman tokens create); people hold %s",
                                          a, cli->argv[i], bad, rl);
            if (prc != 0)
                return tm_cli_usage_error("users", "%s %s: not a role (%s)", a, cli->argv[i], rl);
            c.roles |= r;
            c.has_set = 1;
        } else if (!strcmp(a, "--password-stdin") && (c.w == ADD || c.w == RESET)) {
            c.pw_stdin = 1;
        } else if (a[0] != '-' && !c.name && c.w != LIST) {
            c.name = a;
        } else {
            return tm_cli_usage_error("users", "unknown option or argument '%s'", a);
        }
    }
    if (c.w != LIST && !c.name)
        return tm_cli_usage_error("users", "users %s needs a NAME", verb);
    if ((c.w == ADD || c.w == REVOKE) && !c.has_set)
        return tm_cli_usage_error("users", "users %s needs at least one --role", verb);
    if (c.w == ROLES && !c.has_set)
        return tm_cli_usage_error("users", "users roles needs --set ROLE[,ROLE]");
    if (c.name && (strlen(c.name) > 64 || !c.name[0]))
        return tm_cli_usage_error("users", "NAME: 1 to 64 bytes");
    c.me = tm_cli_person();
    if (!c.me)
        return TM_EXIT_FAIL;
    char pw[TM_PASSWORD_MAX + 2];
    if (c.pw_stdin && read_password(c.name, pw, sizeof pw) != 0)
        return TM_EXIT_FAIL;
    /* The first person may create the store, for themselves only;
     * everything else needs one. */
    struct stat st;
    int exists = strstr(cli->db, "://") != NULL || stat(cli->db, &st) == 0;
    if (!exists && c.w == ADD && strcmp(c.name, c.me) != 0) {
        fprintf(stderr,
                "tallyman: %s: no such store; the first person of a new store is the one "
                "creating it, who is made admin (tallyman --db %s users add %s --role admin)\n",
                cli->db, cli->db, c.me);
        return TM_EXIT_FAIL;
    }
    if (c.w != ADD && !tm_cli_store_exists(cli, "create one"))
        return TM_EXIT_FAIL;
    if (tm_cli_open_store(cli, exists ? TM_CLI_KEYS_WRITE : TM_CLI_KEYS_CREATE, &c.s, &c.keys) !=
        TM_EXIT_OK)
        return TM_EXIT_FAIL;
    struct tm_err e = {0};
    int code = TM_EXIT_FAIL;
    char out[300] = "";
    if (c.w == LIST) {
        if (tm_store_users_list(c.s, print_user, NULL, &e) == TM_OK)
            code = TM_EXIT_OK;
        else
            fprintf(stderr, "tallyman: %s\n", e.msg);
        goto done;
    }
    tm_portfolio_audit_key(c.keys, c.akey);
    c.now = (int64_t)time(NULL);
    snprintf(c.subject, sizeof c.subject, "user:%s", c.name);
    int64_t nusers = 0;
    tm_user meu, u;
    int mefound = 0, found = 0;
    if (tm_store_user_count(c.s, &nusers, &e) != TM_OK ||
        tm_store_user_get(c.s, c.me, &meu, &mefound, &e) != TM_OK ||
        tm_store_user_get(c.s, c.name, &u, &found, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        goto done;
    }
    char why[400];
    int first = nusers == 0;
    int admin = mefound && !meu.disabled_at && (meu.roles & TM_ROLE_BIT(TM_ROLE_ADMIN));
    int self = mefound && !meu.disabled_at && !strcmp(c.me, c.name);
    if (first && (c.w != ADD || strcmp(c.name, c.me) != 0)) {
        snprintf(why, sizeof why,
                 "%s has no people yet: the first is the one creating it, who is made admin "
                 "(tallyman users add %s --role admin)",
                 cli->db, c.me);
        code = refuse(&c, why);
        goto done;
    }
    /* A person may set their own password (never a generated one: that is
     * an admin's reset) and enroll their own second factor. */
    int own = self && ((c.w == RESET && c.pw_stdin) || c.w == TOTP);
    if (!first && !admin && !own) {
        snprintf(why, sizeof why, "%s: only an admin adds people, changes roles, disables and "
                                  "resets", c.me);
        code = refuse(&c, why);
        goto done;
    }
    if (c.w == DISABLE && !strcmp(c.name, c.me)) {
        code = refuse(&c, "an admin may not disable themselves (another admin can)");
        goto done;
    }
    if (first)
        c.roles |= TM_ROLE_BIT(TM_ROLE_ADMIN);
    int rc = tm_store_begin(c.s, &e);
    if (rc == TM_OK)
        rc = change(&c, &u, found, c.pw_stdin ? pw : NULL, out, sizeof out, &e);
    if (rc == TM_OK)
        rc = tm_store_commit(c.s, &e);
    else
        tm_store_rollback(c.s);
    if (rc != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        goto done;
    }
    code = TM_EXIT_OK;
    printf("%s\n", c.said[0] ? c.said : c.name);
    if (out[0])
        printf("%s\n", out);
done:
    OPENSSL_cleanse(pw, sizeof pw);
    OPENSSL_cleanse(out, sizeof out);
    OPENSSL_cleanse(c.akey, sizeof c.akey);
    tm_store_close(c.s);
    tm_keys_free(c.keys);
    return code;
}
