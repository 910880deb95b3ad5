/*
 * tests/unit/test_prepare_once.c: import, event and the daily cycle prepare
 * each SQL statement once, not once a row. Parsing and planning a statement
 * costs about as much as running it, so a statement prepared for every row
 * halves the speed of a large import or onboarding day without changing a
 * single result; no functional test would notice.
 *
 * Each command runs through the test binary build/<variant>/tests/tallyman-fault
 * with TM_STORE_COUNT=1 (tests/fault.c), which prints how many statements the
 * store prepared, on inputs of N and 10 N rows: the count must not grow with
 * the input.
 */
#include "harness.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[128];
static char fault_bin[PATH_MAX + 32];
static char root[PATH_MAX];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void setup(const char *name)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    ASSERT(n > 0);
    exe[n] = '\0';
    /* build/<variant>/tests/unit/test_prepare_once -> build/<variant>/tests/tallyman-fault */
    for (int k = 0; k < 2; k++)
        *strrchr(exe, '/') = '\0';
    snprintf(fault_bin, sizeof fault_bin, "%s/tallyman-fault", exe);
    ASSERT_EQ(access(fault_bin, X_OK), 0);
    ASSERT(getcwd(root, sizeof root) != NULL);
    snprintf(dir, sizeof dir, "%s/tm-prep-%s-%d", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", name,
             (int)getpid());
    ASSERT_EQ(sh("rm -rf %s && mkdir -p %s", dir, dir), 0);
}

/* A portfolio of n debts (n / 2 consumers, each with two debts), with every
 * kind of column an import writes: personal data, phone and email, consent,
 * the preferred channel and an extra attribute. */
static void write_accounts(const char *path, int n)
{
    char full[300];
    snprintf(full, sizeof full, "%s/%s", dir, path);
    FILE *f = fopen(full, "w");
    ASSERT(f != NULL);
    fputs("external_id,debt_id,first_name,last_name,address1,city,zip,state,timezone,balance,currency,"
          "days_past_due,phone,email,sms_consent,email_consent,consent_date,consent_source,"
          "preferred_channel,branch\n",
          f);
    for (int i = 0; i < n; i++)
        fprintf(f,
                "C%d,D%d,Ann%d,Lee,%d Elm St,Boston,02110,MA,America/New_York,%d.50,USD,%d,+1617555%04d,"
                "a%d@example.com,yes,%s,2026-01-0%d,online,email,north\n",
                i / 2, i, i, i, 100 + i, 30 + i % 90, i % 10000, i, i % 3 ? "yes" : "no", 1 + i % 9);
    fclose(f);
}

/* n events over the debts of write_accounts(n): payments, promises,
 * disputes, opt-outs, consents, contacts and address changes. */
static void write_events(const char *path, int n)
{
    char full[300];
    snprintf(full, sizeof full, "%s/%s", dir, path);
    FILE *f = fopen(full, "w");
    ASSERT(f != NULL);
    for (int i = 0; i < n; i++) {
        const char *at = "2026-11-20T10:00:00Z";
        switch (i % 7) {
        case 0:
            fprintf(f, "{\"key\":\"e%d\",\"type\":\"payment\",\"debt_id\":\"D%d\",\"at\":\"%s\",\"amount\":\"5.00\"}\n",
                    i, i, at);
            break;
        case 1:
            fprintf(f, "{\"key\":\"e%d\",\"type\":\"promise\",\"debt_id\":\"D%d\",\"at\":\"%s\",\"amount\":\"20.00\","
                       "\"due\":\"2026-11-30\"}\n", i, i, at);
            break;
        case 2:
            fprintf(f, "{\"key\":\"e%d\",\"type\":\"optout\",\"debt_id\":\"D%d\",\"at\":\"%s\",\"channel\":\"sms\"}\n",
                    i, i, at);
            break;
        case 3:
            fprintf(f, "{\"key\":\"e%d\",\"type\":\"consent\",\"debt_id\":\"D%d\",\"at\":\"%s\",\"channel\":\"email\","
                       "\"given\":true}\n", i, i, at);
            break;
        case 4:
            fprintf(f, "{\"key\":\"e%d\",\"type\":\"contact\",\"debt_id\":\"D%d\",\"at\":\"%s\",\"channel\":\"call\","
                       "\"outcome\":\"not_connected\"}\n", i, i, at);
            break;
        case 5:
            fprintf(f, "{\"key\":\"e%d\",\"type\":\"address_change\",\"debt_id\":\"D%d\",\"at\":\"%s\","
                       "\"address1\":\"%d Oak St\",\"city\":\"Erie\",\"state\":\"PA\",\"zip\":\"16501\"}\n",
                    i, i, at, i);
            break;
        default:
            fprintf(f, "{\"key\":\"e%d\",\"type\":\"dispute\",\"debt_id\":\"D%d\",\"at\":\"%s\"}\n", i, i, at);
            break;
        }
    }
    fclose(f);
}

/* Runs `args` in dir through the counting binary; the statements prepared. */
static long prepares(const char *db, const char *args)
{
    int rc = sh("cd %s && TM_STORE_COUNT=1 %s --db %s %s >out.txt 2>err.txt", dir, fault_bin, db, args);
    char path[300];
    snprintf(path, sizeof path, "%s/err.txt", dir);
    FILE *f = fopen(path, "r");
    ASSERT(f != NULL);
    char line[1024];
    long n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "tallyman-fault: calls: prepare %ld,", &n) == 1)
            break;
    fclose(f);
    if (rc != 0 || n < 0) {
        sh("cat %s/err.txt >&2", dir);
        TM_FAIL_("%s: exit %d, no count of the calls", args, rc);
    }
    return n;
}

TEST(import_prepares_each_statement_once)
{
    setup("import");
    write_accounts("small.csv", 40);
    write_accounts("large.csv", 400);
    long small = prepares("s.db", "import accounts small.csv");
    long large = prepares("l.db", "import accounts large.csv");
    if (large != small)
        TM_FAIL_("import: %ld statements prepared for 40 rows, %ld for 400", small, large);
    /* The same file again: every row found unchanged. */
    small = prepares("s.db", "import accounts small.csv");
    large = prepares("l.db", "import accounts large.csv");
    if (large != small)
        TM_FAIL_("re-import: %ld statements prepared for 40 rows, %ld for 400", small, large);
    sh("rm -rf %s", dir);
}

TEST(event_prepares_each_statement_once)
{
    setup("event");
    write_accounts("small.csv", 40);
    write_accounts("large.csv", 400);
    write_events("small.jsonl", 40);
    write_events("large.jsonl", 400);
    prepares("s.db", "import accounts small.csv");
    prepares("l.db", "import accounts large.csv");
    long small = prepares("s.db", "event small.jsonl");
    long large = prepares("l.db", "event large.jsonl");
    if (large != small)
        TM_FAIL_("event: %ld statements prepared for 40 events, %ld for 400", small, large);
    sh("rm -rf %s", dir);
}

TEST(first_day_prepares_each_statement_once)
{
    setup("run");
    write_accounts("small.csv", 30);
    write_accounts("large.csv", 300);
    prepares("s.db", "import accounts small.csv");
    prepares("l.db", "import accounts large.csv");
    char args[PATH_MAX + 200];
    snprintf(args, sizeof args, "--scripts %s/scripts --draft run --date 2026-11-23 --spool sp --quiet", root);
    long small = prepares("s.db", args);
    ASSERT_EQ(sh("rm -rf %s/sp", dir), 0);
    long large = prepares("l.db", args);
    if (large != small)
        TM_FAIL_("run: %ld statements prepared on the first day of 30 debts, %ld for 300", small, large);
    sh("rm -rf %s", dir);
}
