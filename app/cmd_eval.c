/*
 * app/cmd_eval.c: `tallyman eval FILE` (CONTRACT.md): runs one Lua file in
 * the same sandbox policy scripts get, in a supervised worker process, and
 * prints each returned value as one JSON line.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "sandbox.h"
#include "scriptset.h"
#include "supervise.h"

/* Extra time the supervisor allows past the in-VM time limit before it kills
 * the worker: the in-VM limit should always come first. */
#define SUPERVISOR_GRACE_MS 1500

static const char eval_help[] =
    "usage: tallyman eval [options] FILE\n"
    "\n"
    "Runs FILE inside the sandbox that policy scripts get (same globals, same\n"
    "primitives, `require` from the script tree) and prints each value the\n"
    "chunk returns as one JSON line.\n"
    "\n"
    "Options:\n"
    "  --mem-limit BYTES    memory cap (default 67108864, 64 MiB)\n"
    "  --instr-limit N      VM instructions (default 100000000)\n"
    "  --time-limit MS      wall time in milliseconds (default 2000)\n"
    "  --scripts DIR        the script tree `require` reads\n"
    "  --raw                print string results as they are, not as JSON strings\n"
    "\n"
    "On a script error, a limit or a forbidden call: exit 1 and one line on\n"
    "stderr, FILE:LINE: message (FILE: message when no line is known).\n";

typedef struct eval_job {
    const char *file;
    const char *src;
    size_t len;
    tm_gen *gen;
    tm_limits limits;
    int raw;
} eval_job;

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void write_error(int fd, const char *file, const struct tm_err *e)
{
    char line[sizeof e->msg + 1024];
    size_t fl = strlen(file);
    int has_prefix = strncmp(e->msg, file, fl) == 0 && e->msg[fl] == ':';
    if (has_prefix)
        snprintf(line, sizeof line, "%s\n", e->msg);
    else
        snprintf(line, sizeof line, "%s: %s\n", file, e->msg);
    write_all(fd, line, strlen(line));
}

static int eval_child(void *ud, int out_fd, int err_fd)
{
    eval_job *job = ud;
    struct tm_err e = {0};
    tm_sandbox *sb = tm_sandbox_new(job->gen, &job->limits, &e);
    if (sb == NULL) {
        write_error(err_fd, job->file, &e);
        return TM_EXIT_FAIL;
    }
    char *out = NULL;
    size_t outlen = 0;
    int rc = job->raw ? tm_sandbox_eval_raw(sb, job->file, job->src, job->len, &out, &outlen, &e)
                      : tm_sandbox_eval_json(sb, job->file, job->src, job->len, &out, &outlen, &e);
    if (rc != TM_OK) {
        write_error(err_fd, job->file, &e);
        tm_sandbox_free(sb);
        return TM_EXIT_FAIL;
    }
    write_all(out_fd, out, outlen);
    free(out);
    tm_sandbox_free(sb);
    return TM_EXIT_OK;
}

static int read_whole(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    tm_buf b = TM_BUF_INIT;
    int rc = tm_buf_read(&b, f);
    fclose(f);
    if (rc == TM_OK && !(*text = tm_buf_take(&b, len)))
        rc = TM_ENOMEM;
    tm_buf_free(&b);
    if (rc != TM_OK) {
        errno = rc == TM_EIO ? EIO : ENOMEM;
        return -1;
    }
    return 0;
}

static void ignore_report(void *ud, const char *message)
{
    (void)ud;
    (void)message;
}

int tm_cmd_eval(tm_cli *cli)
{
    const char *file = NULL;
    int raw = 0;
    /* eval counts every instruction (TM_LIMIT_PRECISE): --instr-limit means
     * exactly what it says, whatever the cost per instruction. */
    tm_limits lim = {TM_LIMIT_DEFAULT_MEM, TM_LIMIT_DEFAULT_INSTR, TM_LIMIT_DEFAULT_TIME_MS,
                     TM_LIMIT_PRECISE};
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        uint64_t v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(eval_help, stdout);
            return TM_EXIT_OK;
        } else if (strcmp(a, "--raw") == 0) {
            raw = 1;
        } else if (strcmp(a, "--mem-limit") == 0 || strcmp(a, "--instr-limit") == 0 ||
                   strcmp(a, "--time-limit") == 0) {
            if (i + 1 >= cli->argc)
                return tm_cli_usage_error("eval", "option %s needs a value", a);
            uint64_t max = a[2] == 't' ? 86400000u : a[2] == 'm' ? (uint64_t)1 << 40 : UINT64_MAX / 2;
            if (tm_cli_parse_u64(cli->argv[++i], max, &v) != 0 || v == 0)
                return tm_cli_usage_error("eval", "%s needs a positive whole number, not '%s'", a,
                                          cli->argv[i]);
            if (a[2] == 'm')
                lim.mem_bytes = (size_t)v;
            else if (a[2] == 'i')
                lim.instructions = v;
            else
                lim.time_ms = (uint32_t)v;
        } else if (a[0] == '-' && a[1] != '\0') {
            return tm_cli_usage_error("eval", "unknown option '%s'", a);
        } else if (file == NULL) {
            file = a;
        } else {
            return tm_cli_usage_error("eval", "eval takes one FILE (got '%s' too)", a);
        }
    }
    if (file == NULL)
        return tm_cli_usage_error("eval", "eval needs a FILE");

    eval_job job = {.file = file, .limits = lim, .raw = raw};
    char *src;
    if (read_whole(file, &src, &job.len) != 0) {
        fprintf(stderr, "%s: cannot read the file: %s\n", file, strerror(errno));
        return TM_EXIT_FAIL;
    }
    job.src = src;
    /* `require` reads the script tree; scripts in it that fail their check are
     * simply not found, which is what the evaluated file would see anyway. */
    struct tm_err e = {0};
    if (tm_gen_load_lenient(cli->scripts, &job.gen, ignore_report, NULL, &e) != TM_OK)
        job.gen = NULL;

    tm_supervised res;
    int rc = tm_supervise(eval_child, &job, lim.time_ms + SUPERVISOR_GRACE_MS, &res, &e);
    free(src);
    tm_gen_release(job.gen);
    if (rc != TM_OK) {
        fprintf(stderr, "%s: %s\n", file, e.msg);
        return TM_EXIT_FAIL;
    }
    int exit_code;
    if (res.timed_out) {
        fprintf(stderr, "%s: time limit exceeded\n", file);
        exit_code = TM_EXIT_FAIL;
    } else if (res.signal) {
        fprintf(stderr, "%s: the script's worker process was stopped by signal %d (%s)\n", file,
                res.signal, strsignal(res.signal));
        exit_code = TM_EXIT_FAIL;
    } else {
        fwrite(res.out, 1, res.outlen, stdout);
        fwrite(res.errtext, 1, res.errlen, stderr);
        exit_code = res.exit_code == 0 ? TM_EXIT_OK : TM_EXIT_FAIL;
    }
    free(res.out);
    free(res.errtext);
    return exit_code;
}
