/*
 * tests/sandbox/test_hostile_inproc.c: the hostile corpus through the C API,
 * in ONE long-lived process and ONE sandbox: each hostile script, then a
 * normal call that must still give the right answer, with the process's
 * size checked after each. (run_hostile.sh runs the same corpus through
 * `tallyman eval`, one process per script.)
 *
 * Each corpus file starts with comment headers:
 *   -- expect: ok | error <substring> | limit memory|instructions|time|any
 *   -- output: <exact stdout, "\n" between lines>      (optional, with ok)
 *   -- args: --mem-limit N --instr-limit N --time-limit MS   (optional)
 */
#define _GNU_SOURCE 1 /* memmem */
#include "harness.h"

#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "lb_channel.h"
#include "lb_gate.h"
#include "lb_pay.h"
#include "lb_score.h"
#include "lb_util.h"
#include "sandbox.h"
#include "scriptset.h"

#define CORPUS "tests/sandbox/hostile"
/* The process may not grow past this, whatever the scripts do: a few
 * default-sized caps' worth, since freed memory is not always returned. */
#define MAX_RSS_BYTES ((size_t)512 << 20)

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) {
        p[n] = '\0';
        *len = (size_t)n;
    }
    return p;
}

/* Copies the value of header `key` ("-- key: value") into out; 0 if absent. */
static size_t src_len; /* length of the file being read (it may hold NUL bytes) */

static int header(const char *src, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "-- %s:", key);
    const char *p = memmem(src, src_len, pat, strlen(pat));
    if (!p)
        return 0;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\r\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    while (n > 0 && out[n - 1] == ' ')
        out[--n] = '\0';
    return 1;
}

static void parse_args(const char *args, tm_limits *lim)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", args);
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *val = strtok_r(NULL, " ", &save);
        if (!val)
            break;
        unsigned long long v = strtoull(val, NULL, 10);
        if (strcmp(tok, "--mem-limit") == 0)
            lim->mem_bytes = (size_t)v;
        else if (strcmp(tok, "--instr-limit") == 0)
            lim->instructions = v;
        else if (strcmp(tok, "--time-limit") == 0)
            lim->time_ms = (uint32_t)v;
    }
}

/* Decodes an output header: "\n" is a newline, "\\" a backslash. */
static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] == 'n') {
            *w++ = '\n';
            r++;
        } else if (r[0] == '\\' && r[1] == '\\') {
            *w++ = '\\';
            r++;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

static void ignore(void *ud, const char *m)
{
    (void)ud;
    (void)m;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Returns NULL when the outcome matches, else a static description. */
static const char *check(const char *expect, const char *want_out, int rc, const char *out,
                         const struct tm_err *e)
{
    static char why[700];
    if (strncmp(expect, "ok", 2) == 0) {
        if (rc != TM_OK) {
            snprintf(why, sizeof why, "wanted ok, got %d: %s", rc, e->msg);
            return why;
        }
        if (want_out) {
            size_t n = strlen(out);
            char trimmed[4096];
            snprintf(trimmed, sizeof trimmed, "%.*s", (int)(n && out[n - 1] == '\n' ? n - 1 : n), out);
            if (strcmp(trimmed, want_out) != 0) {
                snprintf(why, sizeof why, "output '%.200s', wanted '%.200s'", trimmed, want_out);
                return why;
            }
        }
        return NULL;
    }
    if (strncmp(expect, "error ", 6) == 0) {
        if (rc == TM_OK || !strstr(e->msg, expect + 6)) {
            snprintf(why, sizeof why, "wanted error '%s', got %d: %s", expect + 6, rc,
                     rc == TM_OK ? out : e->msg);
            return why;
        }
        return NULL;
    }
    if (strncmp(expect, "limit ", 6) == 0) {
        const char *k = expect + 6;
        int ok = (strcmp(k, "memory") == 0 && rc == TM_ELIMIT_MEM) ||
                 (strcmp(k, "instructions") == 0 && rc == TM_ELIMIT_INSTR) ||
                 (strcmp(k, "time") == 0 && rc == TM_ELIMIT_TIME) ||
                 (strcmp(k, "any") == 0 &&
                  (rc == TM_ELIMIT_MEM || rc == TM_ELIMIT_INSTR || rc == TM_ELIMIT_TIME));
        if (!ok) {
            snprintf(why, sizeof why, "wanted limit %s, got %d: %s", k, rc, rc == TM_OK ? out : e->msg);
            return why;
        }
        return NULL;
    }
    snprintf(why, sizeof why, "unknown expectation '%s'", expect);
    return why;
}

TEST(hostile_corpus_in_one_process)
{
    DIR *d = opendir(CORPUS);
    ASSERT(d != NULL);
    char *names[1024];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 1024) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".lua") == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, name_cmp);

    struct tm_err e = {0};
    /* The libraries and DSL globals `tallyman eval` gives every script. */
    tm_lb_gate_register();
    tm_lb_pay_register();
    tm_lb_score_register();
    tm_lb_channel_register();
    tm_lb_util_register();
    tm_gen *gen = NULL;
    tm_gen_load("scripts", &gen, &e); /* require looks here, as eval's default does */
    tm_sandbox *sb = tm_sandbox_new(gen, NULL, &e);
    tm_sandbox *corpus_sb = NULL;
    tm_gen_release(gen);
    ASSERT(sb != NULL);
    int failed = 0, ran = 0;
    for (int i = 0; i < n; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", CORPUS, names[i]);
        size_t len = 0;
        char *src = slurp(path, &len);
        if (!src)
            continue;
        src_len = len;
        char expect[128] = "", args[256] = "", want[2048] = "";
        if (!header(src, "expect", expect, sizeof expect)) {
            fprintf(stderr, "FAIL %s: no expect header\n", names[i]);
            failed++;
            free(src);
            continue;
        }
        int has_out = header(src, "output", want, sizeof want);
        if (has_out)
            unescape(want);
        tm_limits lim = {TM_LIMIT_DEFAULT_MEM, TM_LIMIT_DEFAULT_INSTR, TM_LIMIT_DEFAULT_TIME_MS, 0};
        if (header(src, "args", args, sizeof args))
            parse_args(args, &lim);
        /* Scripts that need other corpus files (--scripts $DIR) run in a
         * second long-lived sandbox whose script set is the corpus; a script
         * marked for Lua 5.4 is skipped on LuaJIT. */
        tm_sandbox *use = sb;
        if (strstr(args, "--scripts")) {
            if (!corpus_sb) {
                tm_gen *cg = NULL;
                tm_gen_load_lenient(CORPUS, &cg, ignore, NULL, &e);
                corpus_sb = tm_sandbox_new(cg, NULL, &e);
                tm_gen_release(cg);
            }
            use = corpus_sb;
        }
        char luaver[32];
        if (header(src, "lua", luaver, sizeof luaver) && strstr(tm_sandbox_lua_version(), "LuaJIT")) {
            free(src);
            continue;
        }
        tm_sandbox_set_limits(use, &lim);
        char *out = NULL;
        size_t outlen = 0;
        memset(&e, 0, sizeof e);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = tm_sandbox_eval_json(use, path, src, len, &out, &outlen, &e);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (getenv("TM_HOSTILE_VERBOSE"))
            fprintf(stderr, "%6.2fs %s\n", secs, names[i]);
        /* A stop must come within the time limit plus a margin. */
        if (secs > lim.time_ms / 1000.0 + 3.0) {
            fprintf(stderr, "FAIL %s: took %.1f s (time limit %u ms)\n", names[i], secs, lim.time_ms);
            failed++;
        }
        if (rc != TM_OK && strncmp(e.msg, path, strlen(path)) != 0) {
            /* Show the message as `tallyman eval` does: "FILE: message". */
            char m[sizeof e.msg + 700];
            snprintf(m, sizeof m, "%s: %s", path, e.msg);
            snprintf(e.msg, sizeof e.msg, "%.500s", m);
        }
        const char *why = check(expect, has_out ? want : NULL, rc, out ? out : "", &e);
        free(out);
        free(src);
        ran++;
        if (why) {
            fprintf(stderr, "FAIL %s: %s\n", names[i], why);
            failed++;
        }
        /* The same process and sandbox must still answer a normal call. */
        tm_sandbox_set_limits(sb, NULL);
        const char *normal = "local t = {} for i = 1, 10 do t[i] = i * i end return t[6] + 6";
        out = NULL;
        rc = tm_sandbox_eval_json(sb, "normal.lua", normal, strlen(normal), &out, &outlen, &e);
        if (rc != TM_OK || strcmp(out, "42\n") != 0) {
            fprintf(stderr, "FAIL %s: the normal call after it failed (%d: %s)\n", names[i], rc,
                    rc == TM_OK ? out : e.msg);
            failed++;
        }
        free(out);
        size_t rss = rss_bytes();
#ifdef __SANITIZE_ADDRESS__
        rss = 0; /* AddressSanitizer keeps freed memory in quarantine: RSS says nothing */
#endif
        if (rss > MAX_RSS_BYTES) {
            fprintf(stderr, "FAIL %s: process grew to %zu bytes\n", names[i], rss);
            failed++;
        }
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    tm_sandbox_free(sb);
    tm_sandbox_free(corpus_sb);
    fprintf(stderr, "hostile corpus in one process: %d scripts, %d failures\n", ran, failed);
    ASSERT(ran >= 60);
    ASSERT_EQ(failed, 0);
}
