/*
 * core/main.c: the `tallyman` command line: global options, the command
 * table, --help and --version. Each command lives in its own cmd_*.c file.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "keycheck.h"
#include "lb_channel.h"
#include "lb_gate.h"
#include "lb_pay.h"
#include "lb_score.h"
#include "lb_util.h"
#include "sandbox.h"

typedef struct command {
    const char *name;
    int (*run)(tm_cli *cli);
    const char *summary;
} command;

static const command commands[] = {
    {"eval", tm_cmd_eval, "run one Lua file in the sandbox and print its results as JSON"},
    {"decide", tm_cmd_decide, "judge contact requests (JSON lines) against the regulations"},
    {"test", tm_cmd_test, "run Lua spec files (*_spec.lua) and report N passed, N failed"},
    {"lint", tm_cmd_lint, "check scripts: syntax, DSL fields, citations, references"},
    {"import", tm_cmd_import, "import accounts (CSV or JSON lines) into the store"},
    {"event", tm_cmd_event, "apply events (payments, promises, disputes, ...) from JSON lines"},
    {"keys", tm_cmd_keys, "rotate the encryption key and re-encrypt the store"},
    {"audit", tm_cmd_audit, "verify the audit chain, or export it as JSON lines"},
    {"scripts", tm_cmd_scripts, "deploy the script tree (checked first; recorded and audited)"},
    {"score", tm_cmd_score, "train a propensity scorecard from the outcomes in the store"},
    {"run", tm_cmd_run, "the daily cycle: journeys, timers, the gate, the outbox"},
    {"simulate", tm_cmd_simulate, "try strategies on a copy of the portfolio with simulated consumers"},
    {"pay", tm_cmd_pay, "take card payments through the gateway (tokenised, velocity-checked)"},
    {"queue", tm_cmd_queue, "debts journeys handed to agents; close one when worked"},
    {"graph", tm_cmd_graph, "draw a journey as Graphviz DOT and Mermaid"},
};

static void print_help(FILE *f)
{
    fprintf(f,
            "usage: tallyman [options] COMMAND [ARGS...]\n"
            "\n"
            "tallyman runs sandboxed Lua scripts (regulations, journeys, templates)\n"
            "to drive consumer debt collection.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n"
            "Options (before or after the command):\n"
            "  --scripts DIR      the script tree (default: %s)\n"
            "  --db PATH|URL      the store (default: tallyman.db, a SQLite file; postgresql://\n"
            "                     URLs are not available in this build)\n"
            "  --key-file PATH    encryption keys (default: $TALLYMAN_KEY_FILE, or <db>.key)\n"
            "  -h, --help         this help; `tallyman COMMAND --help` for a command's own\n"
            "  --version          the version\n"
            "\n"
            "Exit codes: 0 success, 1 a failure in the work, 2 wrong usage.\n",
            tm_cli_default_scripts());
}

int tm_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tallyman: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "Try 'tallyman %s --help'.\n", cmd);
    else
        fputs("Try 'tallyman --help'.\n", stderr);
    return TM_EXIT_USAGE;
}

int tm_cli_store_exists(const tm_cli *cli, const char *first)
{
    struct stat st;
    if (strstr(cli->db, "://") != NULL || stat(cli->db, &st) == 0)
        return 1;
    fprintf(stderr, "tallyman: %s: no such store (%s first)\n", cli->db, first);
    return 0;
}

void tm_cli_key_path(const tm_cli *cli, char *buf, size_t cap)
{
    if (cli->key_file)
        snprintf(buf, cap, "%s", cli->key_file);
    else
        snprintf(buf, cap, "%s.key", cli->db);
}

int tm_cli_check_keys(const tm_cli *cli, tm_store *s, const tm_keys *keys, int mode)
{
    char path[4096];
    tm_cli_key_path(cli, path, sizeof path);
    struct tm_err e = {0};
    if (tm_keycheck(s, keys, path, cli->db, mode != TM_CLI_KEYS_READ, (int64_t)time(NULL), &e) !=
        TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    return TM_EXIT_OK;
}

int tm_cli_open_keys(const tm_cli *cli, tm_store *s, int mode, tm_keys **keys)
{
    *keys = NULL;
    char path[4096];
    tm_cli_key_path(cli, path, sizeof path);
    struct tm_err e = {0};
    struct stat st;
    int rc;
    if (stat(path, &st) != 0 && errno == ENOENT && !cli->key_file) {
        /* Only a store with nothing in it may get a new key: one that holds
         * data was written with a key a new file would not have, and using
         * a new one would leave that data unreadable and its chain broken. */
        int in_use = 1;
        if (tm_keycheck_store_in_use(s, &in_use, &e) != TM_OK) {
            fprintf(stderr, "tallyman: %s\n", e.msg);
            return TM_EXIT_FAIL;
        }
        /* (Unless another process, first to use the store, made it meanwhile.) */
        if (in_use && stat(path, &st) != 0) {
            fprintf(stderr,
                    "tallyman: key file %s is missing, and store %s already holds data: give its "
                    "key file with --key-file or $TALLYMAN_KEY_FILE (a new key could not read "
                    "it)\n",
                    path, cli->db);
            return TM_EXIT_FAIL;
        }
        if (!in_use && mode == TM_CLI_KEYS_CREATE) {
            rc = tm_keys_create(path, keys, &e);
            if (rc == TM_OK)
                fprintf(stderr,
                        "tallyman: created the key file %s (mode 0600). Keep it safe and apart "
                        "from the database: without it the personal data cannot be read.\n",
                        path);
            else if (rc == TM_EEXIST) /* made meanwhile by another process: use that one */
                rc = tm_keys_load(path, keys, &e);
            if (rc != TM_OK) {
                fprintf(stderr, "tallyman: %s\n", e.msg);
                return TM_EXIT_FAIL;
            }
        }
    }
    if (!*keys && tm_keys_load(path, keys, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    if (tm_cli_check_keys(cli, s, *keys, mode) != TM_EXIT_OK) {
        tm_keys_free(*keys);
        *keys = NULL;
        return TM_EXIT_FAIL;
    }
    return TM_EXIT_OK;
}

int tm_cli_open_store(const tm_cli *cli, int mode, tm_store **s, tm_keys **keys)
{
    *keys = NULL;
    struct tm_err e = {0};
    if (tm_store_open(cli->db, s, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        *s = NULL;
        return TM_EXIT_FAIL;
    }
    if (tm_cli_open_keys(cli, *s, mode, keys) != TM_EXIT_OK) {
        tm_store_close(*s);
        *s = NULL;
        return TM_EXIT_FAIL;
    }
    return TM_EXIT_OK;
}

int tm_cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

void tm_cli_warn_gate_problem(void *ud, const char *message, int fatal)
{
    (void)ud;
    if (fatal)
        fprintf(stderr, "tallyman: warning: %s (its rules fail closed)\n", message);
}

const char *tm_cli_default_scripts(void)
{
    static char found[PATH_MAX];
    if (found[0])
        return found;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        /* ./tallyman in the repo, build/<variant>/tallyman, or PREFIX/bin. */
        static const char *const rel[] = {"/scripts", "/../../scripts", "/../share/tallyman/scripts"};
        for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
            char cand[PATH_MAX + 64];
            snprintf(cand, sizeof cand, "%s%s", exe, rel[i]);
            char real[PATH_MAX];
            if (is_dir(cand) && realpath(cand, real)) {
                snprintf(found, sizeof found, "%s", real);
                return found;
            }
        }
    }
    snprintf(found, sizeof found, "scripts");
    return found;
}

int main(int argc, char **argv)
{
    tm_cli cli = {.prog = argv[0], .db = "tallyman.db", .key_file = getenv("TALLYMAN_KEY_FILE")};
    /* Pull the global options out wherever they stand; keep the rest in order. */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (rest == NULL)
        return TM_EXIT_FAIL;
    int nrest = 0, want_help = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--scripts") == 0)
            slot = &cli.scripts;
        else if (strcmp(a, "--db") == 0)
            slot = &cli.db;
        else if (strcmp(a, "--key-file") == 0)
            slot = &cli.key_file;
        if (slot) {
            if (i + 1 >= argc) {
                free(rest);
                return tm_cli_usage_error(NULL, "option %s needs a value", a);
            }
            *slot = argv[++i];
            continue;
        }
        if (strcmp(a, "--version") == 0 && nrest == 0) {
            printf("tallyman %s (%s)\n", TM_VERSION, tm_sandbox_lua_version());
            free(rest);
            return TM_EXIT_OK;
        }
        if ((strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) && nrest == 0) {
            want_help = 1;
            continue;
        }
        rest[nrest++] = argv[i];
    }
    if (want_help || nrest == 0) {
        print_help(want_help ? stdout : stderr);
        free(rest);
        return want_help ? TM_EXIT_OK : TM_EXIT_USAGE;
    }
    if (strcmp(rest[0], "help") == 0) {
        print_help(stdout);
        free(rest);
        return TM_EXIT_OK;
    }
    if (cli.scripts == NULL)
        cli.scripts = tm_cli_default_scripts();
    /* The DSL globals must exist before any sandbox is made. */
    tm_lb_gate_register();
    tm_lb_pay_register();
    tm_lb_score_register();
    tm_lb_channel_register();
    tm_lb_util_register();
    cli.argc = nrest;
    cli.argv = rest;
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(rest[0], commands[i].name) == 0) {
            int rc = commands[i].run(&cli);
            fflush(stdout);
            free(rest);
            return rc;
        }
    }
    int rc = tm_cli_usage_error(NULL, "unknown command '%s'", rest[0]);
    free(rest);
    return rc;
}
