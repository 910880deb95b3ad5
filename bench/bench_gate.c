/*
 * bench/bench_gate.c: what the compliance gate costs. Prints figures; asserts
 * nothing.
 *
 *  1. In-process decisions per second on one core, with the whole shipped
 *     regulation library, over already-parsed requests.
 *  2. The floor: a plain C function that hard-codes the federal rules plus
 *     Massachusetts and Washington, over the same requests.
 *  3. `tallyman decide` end to end on 1,000,000 generated request lines
 *     (parse, decide, write JSON), with its peak memory next to a 100,000-line
 *     run to show that memory stays flat; with TM_BENCH_THREADS set, again
 *     with --threads 1 and 2 (wall time).
 *  4. The differential comparison of tests/sandbox/test_gate_diff.c on
 *     1,000,000 generated requests (TM_BENCH_DIFF to change): the indexed
 *     gate against its reference path, every decision compared.
 *
 * In-process figures are CPU time of this process (the machine is shared);
 * end to end, the command's user + system time. TM_BENCH_REF=0 leaves out
 * the reference path, TM_BENCH_LINES sets the lines, TM_BENCH_KEEP keeps the
 * request file for a profile (perf record -g tallyman decide FILE).
 *
 * Before the index (commit 55b42c6, the federal consumer-requests rule then
 * a Lua check, wall time on this 2-core machine under load): 69,428
 * decisions/s in-process and 68,711 lines/s end to end; the figures after
 * are what this prints.
 *
 * Usage: bench_gate [TALLYMAN_BIN [SCRIPTS_DIR]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gate.h"
#include "../tests/gate_gen.h"
#include "gate_wire.h"
#include "lb_gate.h"
#include "sandbox.h"
#include "scriptset.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process: the in-process figures are per core, and a
 * machine shared with other work would otherwise lend them its waits. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void fmt_time(long long t, char *b, size_t cap) { tm_gate_format_time(t, b, cap); }

/* One realistic request line (the mix of examples/requests/generate.lua). */
static int gen_line(char *buf, size_t cap, int i)
{
    static const char *const states[] = {"CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI",
                                         "NJ", "VA", "WA", "AZ", "MA", "TN", "CO", "MN", "OR", "CT",
                                         "NV", "WI", "MO", "MD", "IN"};
    static const char *const zones[] = {"America/New_York", "America/Chicago", "America/Denver",
                                        "America/Los_Angeles"};
    static const char *const channels[] = {"call", "call", "call", "call", "sms", "sms", "email",
                                           "email", "letter", "push"};
    static const char *const outcomes[] = {"attempt", "attempt", "voicemail", "not_connected",
                                           "conversation"};
    static const char *const collectors[] = {"third_party", "third_party", "debt_buyer", "creditor"};
    static const char *const types[] = {"credit_card", "medical", "personal_loan", "auto_loan",
                                        "utility", "telecom"};
    long long base = 1795392000LL; /* 2026-11-23T00:00:00Z */
    long long now = base + rnd(7 * 86400);
    char nows[40];
    fmt_time(now, nows, sizeof nows);
    const char *st = states[rnd(sizeof states / sizeof *states)];
    int n = snprintf(buf, cap,
                 "{\"id\":\"b%d\",\"now\":\"%s\",\"channel\":\"%s\",\"collector\":\"%s\","
                 "\"consumer\":{\"state\":\"%s\"",
                 i, nows, channels[rnd(10)], collectors[rnd(4)], st);
    if (rnd(3))
        n += snprintf(buf + n, cap - (size_t)n, ",\"timezones\":[\"%s\"]", zones[rnd(4)]);
    n += snprintf(buf + n, cap - (size_t)n, ",\"consent\":{\"sms\":%s,\"email\":true}%s},",
                  rnd(2) ? "true" : "false", rnd(20) == 0 ? ",\"flags\":[\"cease\"]" : "");
    n += snprintf(buf + n, cap - (size_t)n,
                  "\"debt\":{\"id\":\"D%d\",\"type\":\"%s\",\"last_payment_date\":\"20%02u-0%u-1%u\"},"
                  "\"message\":{\"optout_notice\":true},\"history\":[",
                  i, types[rnd(6)], 17 + rnd(9), 1 + rnd(9), rnd(10));
    int nh = (int)rnd(7);
    for (int h = 0; h < nh; h++) {
        char at[40];
        fmt_time(now - 3600 - rnd(9 * 86400), at, sizeof at);
        n += snprintf(buf + n, cap - (size_t)n, "%s{\"channel\":\"%s\",\"at\":\"%s\",\"outcome\":\"%s\"}",
                      h ? "," : "", rnd(4) ? "call" : "sms", at, outcomes[rnd(5)]);
    }
    n += snprintf(buf + n, cap - (size_t)n, "]}\n");
    return n;
}

/* The floor: federal time window, 7-in-7 and conversation rule, stop flags,
 * MA 2 calls in 7 days, WA 3 communications a week, hard-coded. */
static int baseline_decide(const tm_request *r)
{
    int blocked = 0;
    for (int z = 0; z < r->nzones; z++) {
        tm_civil c;
        tm_tz_to_local(r->zones[z], r->now, &c);
        if (r->channel != TM_CH_LETTER && (c.hour < 8 || c.hour >= 21))
            blocked = 1;
    }
    if (r->flags & ((1u << TM_FL_CEASE) | (1u << TM_FL_ATTORNEY) | (1u << TM_FL_BANKRUPTCY) |
                    (1u << TM_FL_DECEASED)))
        blocked = 1;
    int calls7 = 0, conv = 0, any7 = 0;
    for (int i = 0; i < r->nhistory; i++) {
        const tm_history *h = &r->history[i];
        int64_t age = r->now - h->at;
        if (age < 7 * 86400) {
            any7++;
            if (h->channel == TM_CH_CALL && h->outcome != TM_OUT_NOT_CONNECTED)
                calls7++;
            if (h->channel == TM_CH_CALL && h->outcome == TM_OUT_CONVERSATION)
                conv = 1;
        }
    }
    if (r->channel == TM_CH_CALL && (calls7 >= 7 || conv))
        blocked = 1;
    if (strcmp(r->state, "MA") == 0 && r->channel == TM_CH_CALL && calls7 >= 2)
        blocked = 1;
    if (strcmp(r->state, "WA") == 0 && any7 >= 3)
        blocked = 1;
    return blocked;
}

/* Runs `decide` over `file` (with `threads` workers when > 0); its wall
 * time into *secs, its CPU time (user and system) into *cpu. */
static long max_rss_kb_of(const char *bin, const char *scripts, const char *file, int threads,
                          double *secs, double *cpu)
{
    double t0 = now_s();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *n = freopen("/dev/null", "w", stdout);
        (void)n;
        char nt[16];
        snprintf(nt, sizeof nt, "%d", threads);
        if (threads > 0)
            execl(bin, bin, "decide", "--threads", nt, "--scripts", scripts, file, (char *)NULL);
        else
            execl(bin, bin, "decide", "--scripts", scripts, file, (char *)NULL);
        _exit(127);
    }
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    *secs = now_s() - t0;
    *cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
    const char *bin = argc > 1 ? argv[1] : "./tallyman";
    const char *scripts = argc > 2 ? argv[2] : "scripts";
    long nlines = getenv("TM_BENCH_LINES") ? atol(getenv("TM_BENCH_LINES")) : 1000000;
    tm_lb_gate_register();
    struct tm_err e = {0};
    tm_gen *gen;
    if (tm_gen_load(scripts, &gen, &e) != TM_OK) {
        fprintf(stderr, "bench_gate: %s\n", e.msg);
        return 1;
    }
    tm_sandbox *sb = tm_sandbox_new(gen, NULL, &e);
    tm_gate *gate;
    tm_lb_gate_load(sb, &gate, NULL, NULL, &e);
    int nregs = tm_gate_count(gate), nrules = 0;
    for (int i = 0; i < nregs; i++)
        nrules += tm_gate_regulation(gate, i)->nrules;

    printf("before the index (commit 55b42c6, measured the same way but in wall time): 69428 "
           "decisions/s in-process, 68711 lines/s end to end\n");
    /* Parsed requests for the in-process runs. */
    enum { NREQ = 20000 };
    tm_request *reqs = calloc(NREQ, sizeof *reqs);
    char line[8192];
    int nreq = 0;
    for (int i = 0; i < NREQ; i++) {
        int n = gen_line(line, sizeof line, i);
        char *id = NULL;
        if (tm_gate_request_parse(line, (size_t)n, 1795392000LL, &reqs[nreq], &id, &e) == TM_OK)
            nreq++;
        free(id);
    }
    long rounds = 1000000 / nreq + 1, decisions = 0, allowed = 0;
    /* The plain reading first (every rule visited, no cache: the gate as it
     * was before its index), then the gate as it runs. */
    double dt_ref = 0;
    int skip_ref = getenv("TM_BENCH_REF") && strcmp(getenv("TM_BENCH_REF"), "0") == 0;
    for (int pass = skip_ref; pass < 2; pass++) {
        tm_gate_set_reference(gate, pass == 0);
        long rr = pass == 0 ? rounds / 4 + 1 : rounds;
        decisions = allowed = 0;
        double t0 = cpu_s();
        for (long r = 0; r < rr; r++) {
            for (int i = 0; i < nreq; i++) {
                tm_decision d;
                tm_gate_decide(gate, &reqs[i], &d);
                allowed += d.allow;
                tm_gate_decision_free(&d);
                decisions++;
            }
        }
        double dt = cpu_s() - t0;
        if (pass == 0) {
            dt_ref = dt / decisions;
            printf("gate in-process, reference path (every rule, no cache) [%d regulations, %d "
                   "rules]: %.0f decisions/s on one core (%.2f us each)\n",
                   nregs, nrules, decisions / dt, dt / decisions * 1e6);
        } else {
            printf("gate in-process [%d regulations, %d rules]: %.0f decisions/s on one core "
                   "(%.2f us each; %.0f%% allowed; %.1fx the reference path) (target >= 1500000/s; "
                   "CPU time, %ld decisions over %d generated requests)\n",
                   nregs, nrules, decisions / dt, dt / decisions * 1e6, 100.0 * allowed / decisions,
                   dt_ref > 0 ? dt_ref / (dt / decisions) : 0.0, decisions, nreq);
        }
    }
    double dt = 0;
    {
        /* The floor's figure below is compared with the gate as it runs. */
        double t0 = cpu_s();
        for (int i = 0; i < nreq; i++) {
            tm_decision d;
            tm_gate_decide(gate, &reqs[i], &d);
            tm_gate_decision_free(&d);
        }
        dt = (cpu_s() - t0) * ((double)decisions / nreq);
    }
    long bl = 0;
    double t0 = cpu_s();
    for (long r = 0; r < rounds; r++)
        for (int i = 0; i < nreq; i++)
            bl += baseline_decide(&reqs[i]);
    double db = cpu_s() - t0;
    printf("hard-coded C floor (federal + MA + WA): %.0f decisions/s (%.3f us each); "
           "the gate costs %.1fx the floor\n",
           decisions / db, db / decisions * 1e6, dt / db);
    for (int i = 0; i < nreq; i++)
        tm_gate_request_free(&reqs[i]);
    free(reqs);

    /* End to end through the CLI. */
    char path[] = "/tmp/tm-bench-requests-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    long bytes = 0;
    for (long i = 0; i < nlines; i++)
        bytes += gen_line(line, sizeof line, (int)i), fputs(line, f);
    fclose(f);
    char small[] = "/tmp/tm-bench-requests-small-XXXXXX";
    fd = mkstemp(small);
    f = fdopen(fd, "w");
    for (long i = 0; i < nlines / 10; i++)
        gen_line(line, sizeof line, (int)i), fputs(line, f);
    fclose(f);
    double secs_small, secs, cpu_small, cpu;
    long rss_small = max_rss_kb_of(bin, scripts, small, 0, &secs_small, &cpu_small);
    long rss = max_rss_kb_of(bin, scripts, path, 0, &secs, &cpu);
    printf("tallyman decide end to end: %ld lines (%.0f MB) in %.2f s wall, %.2f s CPU = %.0f "
           "lines/s of one core's CPU time (target >= 300000/s)\n",
           nlines, bytes / 1e6, secs, cpu, nlines / cpu);
    printf("peak memory: %ld KiB for %ld lines, %ld KiB for %ld lines (flat: %s)\n", rss_small,
           nlines / 10, rss, nlines, rss < rss_small * 3 / 2 ? "yes" : "no");
    if (getenv("TM_BENCH_THREADS")) {
        /* Workers judging in parallel, the output in the input's order. */
        for (int th = 1; th <= 2; th++) {
            double s2, c2;
            long r2 = max_rss_kb_of(bin, scripts, path, th, &s2, &c2);
            printf("tallyman decide --threads %d: %ld lines in %.2f s wall (%.0f lines/s), %.2f s "
                   "CPU, peak %ld KiB\n", th, nlines, s2, nlines / s2, c2, r2);
        }
    }
    if (getenv("TM_BENCH_KEEP")) /* for a profile of decide over the same lines */
        printf("request lines kept in %s\n", path);
    else
        unlink(path);
    unlink(small);
    /* The differential test's comparison at scale (tests/sandbox/test_gate_diff.c
     * runs 100,000): the indexed gate against the reference path. */
    long ndiff = getenv("TM_BENCH_DIFF") ? atol(getenv("TM_BENCH_DIFF")) : 1000000, differ = 0;
    tm_ggen gg;
    tm_ggen_init(&gg, gate, 20261207);
    static char ja[16384], jb[16384];
    double td = now_s();
    for (long i = 0; i < ndiff; i++) {
        tm_request req;
        tm_ggen_request(&gg, &req, i);
        tm_decision da, db2;
        tm_gate_set_reference(gate, 1);
        tm_gate_decide(gate, &req, &da);
        tm_gate_set_reference(gate, 0);
        tm_gate_decide(gate, &req, &db2);
        int na = tm_gate_decision_json(gate, &req, &da, ja, sizeof ja);
        int nb = tm_gate_decision_json(gate, &req, &db2, jb, sizeof jb);
        if (na < 0 || nb < 0 || strcmp(ja, jb) != 0 || da.error != db2.error ||
            da.barred_by != db2.barred_by || da.margin != db2.margin) {
            if (differ++ < 3)
                printf("DIFFERENT: request %ld\n  reference: %s\n  indexed:   %s\n", i, ja, jb);
        }
        tm_gate_decision_free(&da);
        tm_gate_decision_free(&db2);
        tm_gate_request_free(&req);
    }
    printf("differential: %ld generated requests judged by the reference path and the indexed "
           "gate, %ld different (%.1f s)\n", ndiff, differ, now_s() - td);
    tm_gate_free(gate);
    tm_sandbox_free(sb);
    tm_gen_release(gen);
    return 0;
}
