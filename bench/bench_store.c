/*
 * bench/bench_store.c: what the store costs. Prints figures; asserts nothing.
 *
 *  1. `tallyman import accounts` of 1,000,000 generated rows (rows/s, peak memory).
 *  2. `tallyman event` of 200,000 payment events (events/s).
 *  3. `tallyman audit verify` over everything those wrote (records/s).
 *  4. Field encryption: AES-256-GCM encrypt + decrypt of a personal-data record.
 *
 * Usage: bench_store [TALLYMAN_BIN]  (TM_BENCH_ROWS changes the row count)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "keys.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs bin with args, stdout and stderr to /dev/null; returns seconds and peak KiB. */
static double run(char *const argv[], long *maxrss_kb)
{
    double t0 = now_s();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *a = freopen("/dev/null", "w", stdout);
        FILE *b = freopen("/dev/null", "w", stderr);
        (void)a;
        (void)b;
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    *maxrss_kb = ru.ru_maxrss;
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    static char default_bin[] = "./tallyman", a_db[] = "--db", a_import[] = "import",
                a_accounts[] = "accounts", a_event[] = "event", a_audit[] = "audit",
                a_verify[] = "verify";
    char *bin = argc > 1 ? argv[1] : default_bin;
    long rows = getenv("TM_BENCH_ROWS") ? atol(getenv("TM_BENCH_ROWS")) : 1000000;
    long events = rows / 5;
    char dir[] = "/tmp/tm-bench-store-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char csv[300], ev[300], db[300], key[300];
    snprintf(csv, sizeof csv, "%s/accounts.csv", dir);
    snprintf(ev, sizeof ev, "%s/events.jsonl", dir);
    snprintf(db, sizeof db, "%s/bench.db", dir);
    snprintf(key, sizeof key, "%s/bench.db.key", dir);
    static const char *const states[] = {"CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MA"};
    FILE *f = fopen(csv, "w");
    fputs("external_id,debt_id,first_name,last_name,address1,city,state,zip,phone,email,balance,"
          "currency,debt_type,days_past_due,last_payment_date\n",
          f);
    for (long i = 1; i <= rows; i++)
        fprintf(f,
                "C%ld,D%ld,First%ld,Last%ld,\"%ld Oak St, Apt %ld\",Springfield,%s,0%04ld,"
                "+1212555%04ld,user%ld@example.com,%ld.%02ld,USD,credit_card,%ld,2026-0%ld-1%ld\n",
                i - i % 13 / 12, i, i, i, i % 900, i % 20, states[i % 10], i % 10000, i % 10000, i,
                25 + i % 4000, i % 100, i % 400, 1 + i % 9, i % 10);
    fclose(f);
    f = fopen(ev, "w");
    for (long i = 1; i <= events; i++)
        fprintf(f,
                "{\"key\":\"e%ld\",\"type\":\"payment\",\"debt_id\":\"D%ld\",\"at\":\"2026-11-2%ldT10:00:00Z\","
                "\"amount\":\"1.00\"}\n",
                i, 1 + (i * 7919) % rows, 1 + i * 8 / (events + 1));
    fclose(f);

    long rss;
    char *imp[] = {bin, a_db, db, a_import, a_accounts, csv, NULL};
    double t = run(imp, &rss);
    printf("import: %ld rows in %.2f s = %.0f rows/s (target >= 150000/s), peak memory %ld KiB\n",
           rows, t, rows / t, rss);
    double t2 = run(imp, &rss);
    printf("re-import of the same file (nothing changes): %.0f rows/s\n", rows / t2);
    char *evs[] = {bin, a_db, db, a_event, ev, NULL};
    t = run(evs, &rss);
    printf("events: %ld payments applied in %.2f s = %.0f events/s (target >= 100000/s)\n", events, t, events / t);
    char *ver[] = {bin, a_db, db, a_audit, a_verify, NULL};
    t = run(ver, &rss);
    long records = rows + events + 2;
    printf("audit verify: about %ld records in %.2f s = %.0f records/s (target >= 500000/s)\n", records, t,
           records / t);

    /* Field encryption in-process. */
    tm_keys *k;
    struct tm_err e = {0};
    char kpath[320];
    snprintf(kpath, sizeof kpath, "%s/fresh.key", dir);
    if (tm_keys_create(kpath, &k, &e) == TM_OK) {
        const char *pii = "{\"first_name\":\"First123\",\"last_name\":\"Last123\",\"address1\":\"12 Oak St, "
                          "Apt 4\",\"city\":\"Springfield\",\"zip\":\"01234\",\"phone\":\"+12125550123\","
                          "\"email\":\"user123@example.com\"}";
        int n = 200000;
        double t0 = now_s();
        for (int i = 0; i < n; i++) {
            uint8_t *blob;
            size_t bl;
            char *plain;
            size_t pl;
            tm_keys_encrypt(k, pii, strlen(pii), "consumer:C123", &blob, &bl, &e);
            tm_keys_decrypt(k, blob, bl, "consumer:C123", &plain, &pl, &e);
            free(blob);
            free(plain);
        }
        double dt = now_s() - t0;
        printf("encryption: %.2f us to encrypt and decrypt one consumer's personal data (%zu bytes)\n",
               dt / n * 1e6, strlen(pii));
        tm_keys_free(k);
    }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 0;
    return 0;
}
