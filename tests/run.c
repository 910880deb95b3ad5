/*
 * tests/run.c: runner for the C unit tests (libuv style).
 *
 * Each registered test runs in a forked child so that a crash, an abort or an
 * exit inside one test cannot take the others with it; a child that runs past
 * TM_TEST_TIMEOUT seconds (default 60) is killed and counted as failed.
 * Usage: test_binary [NAME-SUBSTRING]. Last line: "N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <libpq-fe.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TESTS 4096

static struct tm_test_case tests[MAX_TESTS];
static int ntests;

void tm_test_register(const char *name, tm_test_fn fn, const char *file)
{
    if (ntests < MAX_TESTS)
        tests[ntests++] = (struct tm_test_case){name, fn, file};
}

const char *tm_test_store(void)
{
    static char url[2048];
    static int n;
    const char *base = getenv("TM_TEST_DB_URL");
    if (!base || !*base)
        return ":memory:";
    /* A schema of its own per store, so tests share one database and never
     * see each other's rows; the cluster is thrown away after the run. */
    char schema[64];
    snprintf(schema, sizeof schema, "t_%ld_%d", (long)getpid(), ++n);
    PGconn *c = PQconnectdb(base);
    if (PQstatus(c) != CONNECTION_OK)
        TM_FAIL_("TM_TEST_DB_URL %s: %s", base, PQerrorMessage(c));
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        TM_FAIL_("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(url, sizeof url, "%s%coptions=-c%%20search_path%%3D%s", base,
             strchr(base, '?') ? '&' : '?', schema);
    return url;
}

static int run_one(const struct tm_test_case *t, int timeout_s)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 0;
    }
    if (pid == 0) {
        alarm((unsigned)timeout_s);
        t->fn();
        fflush(NULL);
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 1;
    if (WIFSIGNALED(status))
        fprintf(stderr, "%s: test %s killed by signal %d%s\n", t->file, t->name,
                WTERMSIG(status), WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
    return 0;
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    const char *to = getenv("TM_TEST_TIMEOUT");
    int timeout_s = to ? atoi(to) : 60;
    if (timeout_s <= 0)
        timeout_s = 60;
    int passed = 0, failed = 0;
    for (int i = 0; i < ntests; i++) {
        if (filter && !strstr(tests[i].name, filter))
            continue;
        if (run_one(&tests[i], timeout_s)) {
            passed++;
        } else {
            failed++;
            fprintf(stderr, "FAIL %s (%s)\n", tests[i].name, tests[i].file);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
