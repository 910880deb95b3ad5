/*
 * app/cmd_store.c: the store commands (CONTRACT.md): `tallyman import
 * accounts FILE`, `tallyman event FILE`, `tallyman keys rotate`,
 * `tallyman audit verify` and `tallyman audit export`. (Script sets are
 * app/cmd_scripts.c's.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "calendar.h"
#include "cli.h"
#include "jw.h"
#include "keys.h"
#include "portfolio.h"
#include "store.h"

/* The progress bar's state: drawn on stderr only when it is a terminal. */
typedef struct bar {
    int tty;
    struct timespec t0;
    double last; /* seconds since t0 when the bar was last drawn */
} bar;

static double since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void print_reject(void *ud, const char *message)
{
    bar *b = ud;
    if (b->tty)
        fputs("\r\033[K", stderr); /* clear the progress bar first */
    fprintf(stderr, "%s\n", message);
}

/* A progress bar on a terminal: "[#####.....] 52% 5.2 MB 123456 rows
 * 41000 rows/s 0:12 left", redrawn at most four times a second. */
static void progress(void *ud, uint64_t done, uint64_t total, uint64_t rows)
{
    bar *b = ud;
    if (!b->tty)
        return;
    double t = since(&b->t0);
    if (t - b->last < 0.25 && done < total)
        return;
    b->last = t;
    char line[200];
    tm_cli_progress_line(line, sizeof line, done, total, rows, t);
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

static const char import_help[] =
    "usage: tallyman import accounts [options] FILE\n"
    "\n"
    "Imports a portfolio: CSV with a header row (any column order; extra columns\n"
    "are kept as attributes) or JSON lines with the same names. One row is one\n"
    "debt of one consumer; rows sharing external_id are the same consumer.\n"
    "Personal data is stored encrypted; importing the same file again changes\n"
    "nothing. Each rejected row is named on stderr as FILE:LINE: field: reason;\n"
    "accepted rows are committed all the same. Exit 1 when any row was rejected.\n"
    "\n"
    "Options:\n"
    "  --db PATH         the store (default tallyman.db)\n"
    "  --key-file PATH   encryption keys (default $TALLYMAN_KEY_FILE, or <db>.key)\n"
    "  --batch N         rows per transaction (default 50000)\n";

static int run_input(tm_cli *cli, int events)
{
    const char *file = NULL;
    int batch = 0;
    int first = events ? 1 : 2;
    if (!events && (cli->argc < 2 || strcmp(cli->argv[1], "accounts") != 0)) {
        if (cli->argc >= 2 && (strcmp(cli->argv[1], "--help") == 0 || strcmp(cli->argv[1], "-h") == 0)) {
            fputs(import_help, stdout);
            return TM_EXIT_OK;
        }
        return tm_cli_usage_error("import", "what to import? only 'tallyman import accounts FILE'");
    }
    for (int i = first; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            if (events)
                printf("usage: tallyman event [--db PATH] [--key-file PATH] FILE\n\n"
                       "Applies events given as JSON lines: {\"key\", \"type\", \"debt_id\", \"at\", ...}.\n"
                       "Types: payment (amount), promise (amount, due), dispute, dispute_verified,\n"
                       "cease, attorney, bankruptcy, deceased, contact (channel, outcome), optout\n"
                       "(channel), consent (channel, given), address_change (address1, city, zip),\n"
                       "phone_change (phone), email_change (email). An event whose key was applied\n"
                       "before is skipped as a duplicate; a key used before for another event is\n"
                       "refused as a conflicting reuse. Events for unknown debts or older than\n"
                       "the debt's last event are reported and kept, not applied. A card number\n"
                       "anywhere but in a payment's card_number is refused. Exit 1 if any\n"
                       "was rejected.\n");
            else
                fputs(import_help, stdout);
            return TM_EXIT_OK;
        } else if (strcmp(a, "--batch") == 0 && i + 1 < cli->argc) {
            uint64_t v;
            if (tm_cli_parse_u64(cli->argv[++i], 1000000, &v) != 0 || v == 0)
                return tm_cli_usage_error(events ? "event" : "import", "--batch needs a number from 1 to 1000000");
            batch = (int)v;
        } else if (a[0] == '-' && a[1]) {
            return tm_cli_usage_error(events ? "event" : "import", "unknown option '%s'", a);
        } else if (!file) {
            file = a;
        } else {
            return tm_cli_usage_error(events ? "event" : "import", "one FILE at a time (got '%s' too)", a);
        }
    }
    if (!file)
        return tm_cli_usage_error(events ? "event" : "import", "a FILE is needed");
    FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (!in) {
        fprintf(stderr, "%s: cannot open: %s\n", file, strerror(errno));
        return TM_EXIT_FAIL;
    }
    static char inbuf[1 << 20];
    setvbuf(in, inbuf, _IOFBF, sizeof inbuf);
    tm_keys *keys = NULL;
    tm_store *s = NULL;
    /* Events need the debts they are about: without a store there are none,
     * and an empty store (and key file) would only hide the mistake. */
    if (events && !tm_cli_store_exists(cli, "import accounts")) {
        if (in != stdin)
            fclose(in);
        return TM_EXIT_FAIL;
    }
    if (tm_cli_open_store(cli, TM_CLI_KEYS_CREATE, &s, &keys) != TM_EXIT_OK) {
        if (in != stdin)
            fclose(in);
        return TM_EXIT_FAIL;
    }
    bar pb = {.tty = isatty(2)};
    clock_gettime(CLOCK_MONOTONIC, &pb.t0);
    struct stat sst;
    tm_import_opts o = {.name = file, .now = (int64_t)time(NULL), .batch = batch,
                        .reject = print_reject, .progress = progress, .ud = &pb};
    if (fstat(fileno(in), &sst) == 0 && S_ISREG(sst.st_mode))
        o.size = (uint64_t)sst.st_size;
    struct tm_err e = {0};
    int rc, exit_code = TM_EXIT_OK;
    if (events) {
        tm_event_stats st;
        rc = tm_apply_events(s, keys, in, &o, &st, &e);
        if (pb.tty)
            fputs("\r\033[K", stderr);
        if (rc == TM_OK)
            fprintf(stderr, "%s: %ld events: %ld applied, %ld duplicates skipped, %ld rejected\n", file,
                    st.events, st.applied, st.duplicates, st.rejected);
        if (st.rejected)
            exit_code = TM_EXIT_FAIL;
    } else {
        tm_import_stats st;
        rc = tm_import_accounts(s, keys, in, &o, &st, &e);
        if (pb.tty)
            fputs("\r\033[K", stderr);
        if (rc == TM_OK)
            fprintf(stderr,
                    "%s: %ld rows: %ld accepted, %ld rejected (consumers: %ld new, %ld changed; "
                    "debts: %ld new, %ld changed, %ld unchanged)\n",
                    file, st.rows, st.accepted, st.rejected, st.consumers_created, st.consumers_updated,
                    st.debts_created, st.debts_updated, st.unchanged);
        if (st.rejected)
            exit_code = TM_EXIT_FAIL;
    }
    if (rc != TM_OK) {
        fprintf(stderr, "%s\n", e.msg);
        exit_code = TM_EXIT_FAIL;
    }
    tm_store_close(s);
    tm_keys_free(keys);
    if (in != stdin)
        fclose(in);
    return exit_code;
}

int tm_cmd_import(tm_cli *cli) { return run_input(cli, 0); }
int tm_cmd_event(tm_cli *cli) { return run_input(cli, 1); }

int tm_cmd_keys(tm_cli *cli)
{
    if (cli->argc < 2 || strcmp(cli->argv[1], "rotate") != 0) {
        if (cli->argc >= 2 && (strcmp(cli->argv[1], "--help") == 0 || strcmp(cli->argv[1], "-h") == 0)) {
            printf("usage: tallyman keys rotate [--db PATH] [--key-file PATH]\n\n"
                   "Adds a new key version to the key file and re-encrypts every encrypted value\n"
                   "with it (consumers' personal data, debts' attributes, outbox message payloads),\n"
                   "in batches, while the store stays usable; values not yet re-encrypted stay\n"
                   "readable with their old key version. Prints how many of each kind it moved.\n"
                   "The key file must be the store's own (checked first).\n");
            return TM_EXIT_OK;
        }
        return tm_cli_usage_error("keys", "only 'tallyman keys rotate'");
    }
    tm_keys *keys = NULL;
    tm_store *s = NULL;
    if (!tm_cli_store_exists(cli, "import accounts") ||
        tm_cli_open_store(cli, TM_CLI_KEYS_WRITE, &s, &keys) != TM_EXIT_OK)
        return TM_EXIT_FAIL;
    char path[4096];
    tm_cli_key_path(cli, path, sizeof path);
    struct tm_err e = {0};
    int version = 0;
    tm_reencrypt_stats done = {0};
    int rc = tm_keys_rotate(keys, path, &version, &e);
    /* The store learns the new version before anything is written under it. */
    if (rc == TM_OK && tm_cli_check_keys(cli, s, keys, TM_CLI_KEYS_WRITE) != TM_EXIT_OK) {
        tm_store_close(s);
        tm_keys_free(keys);
        return TM_EXIT_FAIL;
    }
    if (rc == TM_OK)
        rc = tm_portfolio_reencrypt(s, keys, 1000, &done, &e);
    long total = done.consumers + done.debts + done.outbox;
    if (rc == TM_OK) {
        uint8_t akey[32];
        tm_portfolio_audit_key(keys, akey);
        char details[256];
        tm_buf db;
        tm_buf_fixed(&db, details, sizeof details);
        tm_jw jw;
        tm_jw_init(&jw, &db, 0);
        tm_jw_obj(&jw);
        tm_jw_key(&jw, "key_version");
        tm_jw_int(&jw, version);
        tm_jw_key(&jw, "records_reencrypted");
        tm_jw_int(&jw, total);
        tm_jw_key(&jw, "consumers");
        tm_jw_int(&jw, done.consumers);
        tm_jw_key(&jw, "debts");
        tm_jw_int(&jw, done.debts);
        tm_jw_key(&jw, "outbox");
        tm_jw_int(&jw, done.outbox);
        tm_jw_obj_end(&jw); /* integers only: always fits */
        rc = tm_store_begin(s, &e);
        if (rc == TM_OK)
            rc = tm_audit_append(s, akey, (int64_t)time(NULL), "keys", "keys.rotated", "keys", details, &e);
        if (rc == TM_OK)
            rc = tm_store_commit(s, &e);
        else
            tm_store_rollback(s);
    }
    if (rc == TM_OK) {
        printf("key version %d is now current; %ld records re-encrypted\n", version, total);
        printf("  consumers (personal data): %ld\n  debts (attributes): %ld\n"
               "  outbox (message payloads): %ld\n",
               done.consumers, done.debts, done.outbox);
    } else {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        if (version)
            fprintf(stderr,
                    "tallyman: key version %d was added; %ld records were re-encrypted before "
                    "this (%ld consumers, %ld debts, %ld outbox); the rest stay readable under "
                    "their old version\n",
                    version, total, done.consumers, done.debts, done.outbox);
    }
    tm_store_close(s);
    tm_keys_free(keys);
    return rc == TM_OK ? TM_EXIT_OK : TM_EXIT_FAIL;
}

int tm_cmd_audit(tm_cli *cli)
{
    const char *what = cli->argc >= 2 ? cli->argv[1] : "";
    if (strcmp(what, "--help") == 0 || strcmp(what, "-h") == 0 || !*what) {
        printf("usage: tallyman audit verify | export [--from WHEN] [--to WHEN] [--debt ID] "
               "[--actor NAME]\n\n"
               "verify  checks the whole chain (and the gate decisions each batch record\n"
               "        binds); exit 1 naming the first record that was changed, removed,\n"
               "        inserted or reordered\n"
               "export  writes the records as JSON lines, times in RFC 3339 (UTC), for a\n"
               "        period and/or a debt. WHEN is a date (YYYY-MM-DD: --from that day's\n"
               "        start, --to its end) or an RFC 3339 time (--to: up to, not including).\n"
               "        --actor NAME: what one person or token did, looked at (personal data\n"
               "        shown in clear: personal_data.read) and was refused\n");
        return *what ? TM_EXIT_OK : TM_EXIT_USAGE;
    }
    if (strcmp(what, "verify") != 0 && strcmp(what, "export") != 0)
        return tm_cli_usage_error("audit", "unknown audit command '%s'", what);
    int64_t from = 0, to = 0;
    const char *actor = NULL;
    char subject[300] = "";
    for (int i = 2; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if ((strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0) && i + 1 < cli->argc) {
            const char *v = cli->argv[++i];
            /* a plain date is that whole UTC day: --to includes it */
            if (tm_calendar_parse_bound(v, a[2] == 't', a[2] == 'f' ? &from : &to, NULL) != TM_OK)
                return tm_cli_usage_error("audit", "%s needs a date (YYYY-MM-DD) or an RFC 3339 time, not '%s'",
                                          a, v);
        } else if (strcmp(a, "--debt") == 0 && i + 1 < cli->argc) {
            snprintf(subject, sizeof subject, "debt:%s", cli->argv[++i]);
        } else if (strcmp(a, "--actor") == 0 && i + 1 < cli->argc) {
            actor = cli->argv[++i];
        } else {
            return tm_cli_usage_error("audit", "unknown option '%s'", a);
        }
    }
    tm_keys *keys = NULL;
    tm_store *s = NULL;
    if (!tm_cli_store_exists(cli, "import accounts") ||
        tm_cli_open_store(cli, TM_CLI_KEYS_READ, &s, &keys) != TM_EXIT_OK)
        return TM_EXIT_FAIL;
    struct tm_err e = {0};
    int exit_code = TM_EXIT_OK;
    if (strcmp(what, "verify") == 0) {
        uint8_t akey[32];
        tm_portfolio_audit_key(keys, akey);
        tm_audit_report rep;
        int rc = tm_audit_verify(s, akey, &rep, &e);
        if (rc == TM_OK) {
            printf("audit chain intact: %lld records\n", (long long)rep.records);
        } else if (rc == TM_ECRYPTO) {
            fprintf(stderr, "audit chain broken at record %lld: %s\n", (long long)rep.bad_seq, rep.problem);
            exit_code = TM_EXIT_FAIL;
        } else {
            fprintf(stderr, "tallyman: %s\n", e.msg);
            exit_code = TM_EXIT_FAIL;
        }
    } else if (tm_audit_export_actor(s, stdout, from, to, subject[0] ? subject : NULL, actor, &e) !=
               TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        exit_code = TM_EXIT_FAIL;
    }
    tm_store_close(s);
    tm_keys_free(keys);
    return exit_code;
}

static const char store_help[] =
    "usage: tallyman store copy --from STORE --to STORE\n"
    "\n"
    "Copies a whole store to an empty one: a SQLite file to PostgreSQL\n"
    "(--to postgresql://...) or back, or file to file. Every row is copied as\n"
    "stored: ciphertexts stay under the same key file (keep using the source's:\n"
    "--key-file names it for a PostgreSQL store), and the audit chain verifies\n"
    "on the copy. The source is read as of one moment and not changed; the\n"
    "destination is written whole or not at all, and must hold no data.\n"
    "Prints each table and its rows. Exit 1 when the copy fails (nothing of it\n"
    "kept), 2 on wrong usage.\n";

static void copied(void *ud, const char *table, int64_t rows)
{
    (void)ud;
    printf("%-20s %lld rows\n", table, (long long)rows);
}

int tm_cmd_store(tm_cli *cli)
{
    if (cli->argc < 2 || strcmp(cli->argv[1], "--help") == 0 || strcmp(cli->argv[1], "-h") == 0) {
        if (cli->argc >= 2) {
            fputs(store_help, stdout);
            return TM_EXIT_OK;
        }
        return tm_cli_usage_error("store", "what to do? only 'tallyman store copy --from STORE --to STORE'");
    }
    if (strcmp(cli->argv[1], "copy") != 0)
        return tm_cli_usage_error("store", "unknown store command '%s' (copy)", cli->argv[1]);
    const char *from = NULL, *to = NULL;
    for (int i = 2; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(store_help, stdout);
            return TM_EXIT_OK;
        }
        if ((strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0) && i + 1 < cli->argc) {
            *(a[2] == 'f' ? &from : &to) = cli->argv[++i];
            continue;
        }
        return tm_cli_usage_error("store", "unexpected argument '%s'", a);
    }
    if (!from || !to)
        return tm_cli_usage_error("store", "give both --from STORE and --to STORE");
    if (strcmp(from, to) == 0)
        return tm_cli_usage_error("store", "--from and --to name the same store");
    struct stat st;
    if (!tm_store_is_url(from) && stat(from, &st) != 0) {
        fprintf(stderr, "tallyman: %s: no such store\n", from);
        return TM_EXIT_FAIL;
    }
    struct tm_err e = {0};
    if (tm_store_copy(from, to, copied, NULL, &e) != TM_OK) {
        fprintf(stderr, "tallyman: store copy: %s (nothing was copied)\n", e.msg);
        return TM_EXIT_FAIL;
    }
    return TM_EXIT_OK;
}
