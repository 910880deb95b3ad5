/*
 * tests/unit/test_store_fault.c: the store under failing SQLite calls.
 *
 * Each command that writes (import, event, pay, one day of run) is run on a
 * copy of the same store once per SQLite call it makes, with that call made
 * to fail (SQLITE_BUSY, SQLITE_IOERR, SQLITE_FULL in turn) through the test
 * binary build/<variant>/tests/tallyman-fault (tests/fault.c). Every failure
 * must end the command with exit 1 and the database's error on stderr, never
 * with a crash, a silent success or data half written: SQLite's integrity
 * check and `audit verify` pass, balances match the payments, no event or
 * message counts twice, a command that works in one transaction left the
 * store as it was or as a clean run leaves it, and the same command rerun
 * without faults (the product binary, $TM_BIN) brings the store, and the
 * run's spool, to exactly what a clean run gives. A read treated as "not
 * found" would show here as a second consumer, an event applied twice or a
 * balance of 0.
 */
#include "harness.h"

#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "keys.h"
#include "portfolio.h"
#include "store.h"

static char dir[128];
static char fault_bin[PATH_MAX + 32];
static const char *bin;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (WIFSIGNALED(rc))
        return 128 + WTERMSIG(rc);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return strdup("");
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    char tmp[4096];
    while ((got = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            buf = realloc(buf, cap);
            ASSERT(buf != NULL);
        }
        memcpy(buf + len, tmp, got);
        len += got;
    }
    fclose(f);
    if (!buf)
        return strdup("");
    buf[len] = '\0';
    return buf;
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* What the commands are meant to change, without times taken from the clock
 * or ciphertext (a fresh nonce each time): one text per table, rows in key
 * order. */
static const char *const fingerprint_sql[] = {
    "SELECT external_id, state, timezone, language, hex(pii_hash), hex(phone_hash), hex(email_hash), "
    "flags, consent, optout, key_version FROM consumers ORDER BY external_id",
    "SELECT d.debt_id, c.external_id, creditor, debt_type, balance_minor, placed_balance_minor, currency, "
    "days_past_due, charge_off_date, last_payment_date, dispute, status, journey, journey_state, "
    "journey_version, variant, timer_at, timer_go, journey_step, closed_reason, hex(attributes_hash), "
    "last_event_at, offer, journey_hash FROM debts d JOIN consumers c ON c.id = d.consumer_id "
    "ORDER BY d.debt_id",
    "SELECT key, type, (SELECT debt_id FROM debts WHERE id = e.debt_id), at, payload, status, worked "
    "FROM events e ORDER BY key",
    "SELECT (SELECT debt_id FROM debts WHERE id = p.debt_id), amount_minor, currency, at, instrument_token "
    "FROM payments p ORDER BY 1, 4, 2",
    "SELECT (SELECT debt_id FROM debts WHERE id = p.debt_id), amount_minor, due_date, status FROM promises p "
    "ORDER BY 1, 3, 2",
    "SELECT (SELECT debt_id FROM debts WHERE id = k.debt_id), channel, at, outcome FROM contacts k "
    "ORDER BY 1, 3, 2",
    "SELECT idempotency_key, (SELECT debt_id FROM debts WHERE id = o.debt_id), channel, template, status, "
    "send_at, purpose, journey_state, blocked_by, sent_at, attempts, key_version FROM outbox o "
    "ORDER BY idempotency_key",
    "SELECT debt_id, at, channel, allow, blocked_by, next_allowed_at, scripts_hash FROM gate_decisions "
    "ORDER BY 1, 2, 3",
    /* (not the gateway's reference: the test gateway numbers its charges
     * within a process) */
    "SELECT idempotency_key, (SELECT debt_id FROM debts WHERE id = a.debt_id), instrument_token, "
    "amount_minor, currency, at, outcome, reason FROM payment_attempts a ORDER BY 1",
    "SELECT idempotency_key, queue, status FROM agent_queue ORDER BY 1",
    /* (not the phases' times, which differ from run to run) */
    "SELECT name, value FROM cycle WHERE name NOT LIKE 'phase_us.%' ORDER BY name",
    "SELECT hash FROM journey_texts ORDER BY hash",
};

/* Invariants that hold after any failure: each query returns 0. */
static const char *const invariant_sql[] = {
    /* payments move balances, and nothing else does here */
    "SELECT count(*) FROM debts d WHERE balance_minor <> MAX(0, placed_balance_minor - "
    "(SELECT COALESCE(SUM(amount_minor), 0) FROM payments p WHERE p.debt_id = d.id))",
    /* a payment row for each applied payment event, and none without one */
    "SELECT (SELECT count(*) FROM payments) - (SELECT count(*) FROM events WHERE type = 'payment' AND "
    "status = 'applied')",
    /* one consumer per external id, personal data on each */
    "SELECT count(*) FROM consumers WHERE pii IS NULL",
    "SELECT count(*) FROM debts d WHERE NOT EXISTS (SELECT 1 FROM consumers c WHERE c.id = d.consumer_id)",
    /* a message is sent or failed at most once, and rendered when ready or sent */
    "SELECT count(*) FROM outbox WHERE status IN ('ready', 'sent') AND payload IS NULL",
};

static void query_text(sqlite3 *db, const char *sql, FILE *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        TM_FAIL_("%s: %s", sql, sqlite3_errmsg(db));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const unsigned char *t = sqlite3_column_text(st, i);
            fprintf(out, "%s%s", i ? "|" : "", t ? (const char *)t : "NULL");
        }
        fputc('\n', out);
    }
    if (rc != SQLITE_DONE)
        TM_FAIL_("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
}

static char *fingerprint(const char *db_name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, db_name);
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        TM_FAIL_("open %s: %s", path, sqlite3_errmsg(db));
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ASSERT(out != NULL);
    for (size_t i = 0; i < sizeof fingerprint_sql / sizeof *fingerprint_sql; i++) {
        fprintf(out, "-- %zu\n", i);
        query_text(db, fingerprint_sql[i], out);
    }
    fclose(out);
    sqlite3_close(db);
    return text;
}

static void check_invariants(const char *db_name, const char *label)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, db_name);
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        TM_FAIL_("open %s: %s", path, sqlite3_errmsg(db));
    for (size_t i = 0; i < sizeof invariant_sql / sizeof *invariant_sql; i++) {
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        query_text(db, invariant_sql[i], out);
        fclose(out);
        if (strcmp(text, "0\n") != 0)
            TM_FAIL_("%s: invariant broken (%s): %s", label, invariant_sql[i], text);
        free(text);
    }
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    query_text(db, "PRAGMA integrity_check", out);
    fclose(out);
    if (strcmp(text, "ok\n") != 0)
        TM_FAIL_("%s: integrity check: %s", label, text);
    free(text);
    sqlite3_close(db);
}

/* `audit verify` on store `db_name`, in this process (as the command does it). */
static void check_audit(const char *db_name, const char *label)
{
    char path[256], kpath[300];
    snprintf(path, sizeof path, "%s/%s", dir, db_name);
    snprintf(kpath, sizeof kpath, "%s.key", path);
    struct tm_err e = {0};
    tm_keys *keys;
    tm_store *s;
    if (tm_keys_load(kpath, &keys, &e) != TM_OK || tm_store_open(path, &s, &e) != TM_OK)
        TM_FAIL_("%s: %s", label, e.msg);
    uint8_t akey[32];
    tm_portfolio_audit_key(keys, akey);
    tm_audit_report rep;
    if (tm_audit_verify(s, akey, &rep, &e) != TM_OK)
        TM_FAIL_("%s: the audit chain does not verify: %s %s", label, rep.problem, e.msg);
    tm_store_close(s);
    tm_keys_free(keys);
}

/* The spool: file names with their contents, in name order. */
static char *spool_listing(const char *spool)
{
    char out[256];
    snprintf(out, sizeof out, "%s/spool.list", dir);
    sh("cd %s && if [ -d %s ]; then find %s -type f | sort | while read f; do echo \"== $f\"; cat \"$f\"; "
       "echo; done; fi >%s 2>&1",
       dir, spool, spool, out);
    return slurp(out);
}

/* Prints the lines that differ between two fingerprints. */
static void show_diff(const char *want, const char *got)
{
    write_file("want.txt", want);
    write_file("got.txt", got);
    sh("diff %s/want.txt %s/got.txt >&2", dir, dir);
}

/* Copies store `from` (with its key file) to `to`. */
static void copy_store(const char *from, const char *to)
{
    ASSERT_EQ(sh("cd %s && rm -f %s %s-wal %s-shm && cp %s %s && cp %s.key %s.key", dir, to, to, to, from, to,
                 from, to),
              0);
}

static void setup(const char *name)
{
    signal(SIGPIPE, SIG_IGN);
    /* The commands run in the work directory: the binary by its full path. */
    static char bin_path[PATH_MAX];
    ASSERT(realpath(getenv("TM_BIN") ? getenv("TM_BIN") : "./tallyman", bin_path) != NULL);
    bin = bin_path;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    ASSERT(n > 0);
    exe[n] = '\0';
    /* build/<variant>/tests/unit/test_store_fault -> build/<variant>/tests/tallyman-fault */
    for (int k = 0; k < 2; k++)
        *strrchr(exe, '/') = '\0';
    snprintf(fault_bin, sizeof fault_bin, "%s/tallyman-fault", exe);
    ASSERT_EQ(access(fault_bin, X_OK), 0);
    char root[PATH_MAX];
    ASSERT(getcwd(root, sizeof root) != NULL);
    /* In memory where there is a tmpfs: hundreds of runs, each syncing its
     * store and spool to disk, would spend their time waiting for it. */
    snprintf(dir, sizeof dir, "%s/tm-fault-%s-%d", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
             name, (int)getpid());
    ASSERT_EQ(sh("rm -rf %s && mkdir -p %s/tree/strategies && cp -r %s/scripts/regulations %s/scripts/lib "
                 "%s/scripts/channels %s/tree/",
                 dir, dir, root, root, root, dir),
              0);
    write_file("tree/strategies/demo.lua",
               "local journey = require(\"lib.journey\")\n"
               "return journey {\n"
               "  id = \"demo\",\n"
               "  segment = function(d) return true end,\n"
               "  start = \"remind\",\n"
               "  send_window = { \"10:00\", \"18:00\" },\n"
               "  states = {\n"
               "    remind = { enter = function(j) j:send(\"email\", \"early_reminder\") end,\n"
               "               on = { payment = \"paid\", dispute = \"hold\" } },\n"
               "    hold = {},\n"
               "    paid = { final = \"paid\" },\n"
               "  },\n"
               "}\n");
    write_file("a.csv", "external_id,debt_id,first_name,last_name,state,timezone,balance,currency,"
                        "days_past_due,phone,branch\n"
                        "C1,D1,Ann,Lee,MA,America/New_York,100.00,USD,10,+16175550101,north\n"
                        "C2,D2,Bob,Ray,TX,America/Chicago,200.00,USD,20,+12145550102,south\n"
                        "C3,D3,Cy,Fox,PA,America/New_York,300.00,USD,30,+12155550103,east\n"
                        "C3,D4,Cy,Fox,PA,America/New_York,40.00,USD,40,+12155550103,east\n");
    ASSERT_EQ(sh("%s --db %s/base.db import accounts %s/a.csv >/dev/null 2>&1", bin, dir, dir), 0);
}

/* Runs `args` on copies of base.db, once per SQLite call, with that call
 * failing; `single_tx`: the command writes in one transaction, so a failure
 * leaves the store as it was or as a clean run leaves it. `spool` names the
 * run's spool directory (relative to the work directory), or NULL. */
static void fault_every_call(const char *label, const char *args, int single_tx, const char *spool)
{
    static const char *const codes[] = {"busy", "ioerr", "full"};
    /* The clean run, for reference. */
    copy_store("base.db", "ref.db");
    char sp[64] = "";
    if (spool)
        snprintf(sp, sizeof sp, "--spool %s", spool);
    if (spool)
        sh("rm -rf %s/%s", dir, spool);
    ASSERT_EQ(sh("cd %s && %s --db ref.db %s %s >ref.out 2>&1", dir, bin, args, sp), 0);
    char *ref = fingerprint("ref.db");
    char *base = fingerprint("base.db");
    char *ref_spool = spool ? spool_listing(spool) : strdup("");
    ASSERT(strcmp(ref, base) != 0); /* the command does something */
    long faults = 0;
    for (long n = 1;; n++) {
        const char *code = codes[n % 3];
        copy_store("base.db", "w.db");
        if (spool)
            sh("rm -rf %s/%s", dir, spool);
        int rc = sh("cd %s && TM_STORE_FAULT=%ld:%s %s --db w.db %s %s >w.out 2>w.err", dir, n, code, fault_bin,
                    args, sp);
        char errp[256];
        snprintf(errp, sizeof errp, "%s/w.err", dir);
        char *err = slurp(errp);
        char what[200];
        snprintf(what, sizeof what, "%s, call %ld failing with %s", label, n, code);
        if (!strstr(err, "tallyman-fault: injected")) {
            /* Past the last call: a clean run, as the reference. */
            ASSERT_EQ(rc, 0);
            char *fp = fingerprint("w.db");
            if (strcmp(fp, ref) != 0)
                TM_FAIL_("%s: no fault, yet not the reference store", label);
            free(fp);
            free(err);
            break;
        }
        faults++;
        if (rc != 1)
            TM_FAIL_("%s: exit %d, wanted 1; stderr:\n%s", what, rc, err);
        const char *said = strcmp(code, "busy") == 0    ? "database is locked"
                           : strcmp(code, "ioerr") == 0 ? "disk I/O error"
                                                        : "database or disk is full";
        if (!strstr(err, said))
            TM_FAIL_("%s: the error is not reported (wanted '%s'); stderr:\n%s", what, said, err);
        /* Under the sanitizers a memory error also exits 1: it must not be there. */
        if (strstr(err, "Sanitizer") || strstr(err, "runtime error:"))
            TM_FAIL_("%s: a memory error on the failure path:\n%s", what, err);
        free(err);
        check_invariants("w.db", what);
        check_audit("w.db", what);
        char *fp = fingerprint("w.db");
        if (single_tx && strcmp(fp, base) != 0 && strcmp(fp, ref) != 0)
            TM_FAIL_("%s: the store is half written:\n%s", what, fp);
        free(fp);
        /* The same command again, without faults, completes the work. */
        rc = sh("cd %s && %s --db w.db %s %s >w2.out 2>w2.err", dir, bin, args, sp);
        if (rc != 0)
            TM_FAIL_("%s: the rerun exits %d", what, rc);
        fp = fingerprint("w.db");
        if (strcmp(fp, ref) != 0) {
            show_diff(ref, fp);
            TM_FAIL_("%s: the rerun does not give the reference store (diff above: < wanted, > got)", what);
        }
        free(fp);
        check_invariants("w.db", what);
        check_audit("w.db", what);
        if (spool) {
            char *l = spool_listing(spool);
            if (strcmp(l, ref_spool) != 0)
                TM_FAIL_("%s: the spool after the rerun differs from a clean run's:\n%s", what, l);
            free(l);
        }
    }
    ASSERT(faults >= 10);
    fprintf(stderr, "%s: each of its %ld SQLite calls failed once, every failure clean\n", label, faults);
    free(ref);
    free(base);
    free(ref_spool);
    sh("rm -rf %s", dir);
}

TEST(import_fails_cleanly_at_every_call)
{
    setup("import");
    /* A new consumer and debt, a changed balance, personal data changed. */
    write_file("b.csv", "external_id,debt_id,first_name,last_name,state,timezone,balance,currency,"
                        "days_past_due,phone,branch\n"
                        "C1,D1,Ann,Lee,MA,America/New_York,120.00,USD,10,+16175550101,north\n"
                        "C2,D2,Bob,Rey,TX,America/Chicago,200.00,USD,20,+12145550199,south\n"
                        "C5,D5,Di,Moe,FL,America/New_York,50.00,USD,5,+13055550105,west\n");
    fault_every_call("import", "import accounts b.csv", 1, NULL);
}

TEST(event_fails_cleanly_at_every_call)
{
    setup("event");
    write_file("e.jsonl",
               "{\"key\":\"p1\",\"type\":\"payment\",\"debt_id\":\"D1\",\"at\":\"2026-11-20T10:00:00Z\","
               "\"amount\":\"30.00\"}\n"
               "{\"key\":\"d2\",\"type\":\"dispute\",\"debt_id\":\"D2\",\"at\":\"2026-11-20T10:00:00Z\"}\n"
               "{\"key\":\"c3\",\"type\":\"cease\",\"debt_id\":\"D3\",\"at\":\"2026-11-20T10:00:00Z\"}\n"
               "{\"key\":\"a4\",\"type\":\"address_change\",\"debt_id\":\"D4\",\"at\":\"2026-11-20T10:00:00Z\","
               "\"address1\":\"1 Elm St\",\"city\":\"Erie\",\"state\":\"PA\",\"zip\":\"16501\"}\n"
               "{\"key\":\"q1\",\"type\":\"promise\",\"debt_id\":\"D1\",\"at\":\"2026-11-20T11:00:00Z\","
               "\"amount\":\"20.00\",\"due\":\"2026-11-30\"}\n"
               "{\"key\":\"p1\",\"type\":\"payment\",\"debt_id\":\"D1\",\"at\":\"2026-11-20T10:00:00Z\","
               "\"amount\":\"30.00\"}\n");
    fault_every_call("event", "event e.jsonl", 1, NULL);
}

TEST(pay_fails_cleanly_at_every_call)
{
    setup("pay");
    write_file("p.jsonl", "{\"key\":\"k1\",\"debt_id\":\"D1\",\"amount\":\"25.00\",\"card_number\":"
                          "\"4111111111111111\",\"at\":\"2026-11-23T15:00:00Z\"}\n"
                          "{\"key\":\"k2\",\"debt_id\":\"D3\",\"amount\":\"40.00\",\"card_number\":"
                          "\"5555555555554444\",\"at\":\"2026-11-23T15:05:00Z\"}\n");
    /* An approved charge is recorded, then applied as a payment: two
     * transactions, mended by the rerun when the second fails. */
    fault_every_call("pay", "pay p.jsonl", 0, NULL);
}

TEST(one_day_of_run_fails_cleanly_at_every_call)
{
    setup("run");
    /* Events the day works (a payment closes D1's journey, a dispute holds
     * D2's), then the day itself: journeys start, the gate judges, messages
     * go out. */
    write_file("e.jsonl",
               "{\"key\":\"p1\",\"type\":\"payment\",\"debt_id\":\"D1\",\"at\":\"2026-11-23T09:00:00Z\","
               "\"amount\":\"100.00\"}\n"
               "{\"key\":\"d2\",\"type\":\"dispute\",\"debt_id\":\"D2\",\"at\":\"2026-11-23T09:00:00Z\"}\n");
    /* Debts placed after the first day start on the day under test. */
    write_file("c.csv", "external_id,debt_id,first_name,last_name,state,timezone,balance,currency\n"
                        "C6,D6,Eve,Ng,NJ,America/New_York,60.00,USD\n"
                        "C7,D7,Flo,Ito,CA,America/Los_Angeles,70.00,USD\n");
    ASSERT_EQ(sh("%s --db %s/base.db --scripts %s/tree --draft run --date 2026-11-22 --spool %s/day0 --workers 0 "
                 ">/dev/null 2>&1 && %s --db %s/base.db event %s/e.jsonl >/dev/null 2>&1 && "
                 "%s --db %s/base.db import accounts %s/c.csv >/dev/null 2>&1",
                 bin, dir, dir, dir, bin, dir, dir, bin, dir, dir),
              0);
    char args[400];
    snprintf(args, sizeof args, "--scripts %s/tree --draft run --date 2026-11-23 --workers 0 --quiet", dir);
    fault_every_call("run", args, 0, "spool");
}
