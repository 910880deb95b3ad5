/*
 * app/main.c: the `tallyman` command line: global options, the command
 * table, --help and --version. Each command lives in its own cmd_*.c file;
 * what they share is in cli.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lb_channel.h"
#include "lb_gate.h"
#include "lb_pay.h"
#include "lb_contact.h"
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
    {"store", tm_cmd_store, "copy a whole store: a SQLite file to PostgreSQL, or back"},
    {"scripts", tm_cmd_scripts, "script sets: propose, approve, activate, rollback, list, show"},
    {"users", tm_cmd_users, "the people who may change what runs, and their roles"},
    {"score", tm_cmd_score, "train a propensity scorecard from the outcomes in the store"},
    {"run", tm_cmd_run, "the daily cycle: journeys, timers, the gate, the outbox"},
    {"simulate", tm_cmd_simulate, "try strategies on a copy of the portfolio with simulated consumers"},
    {"pay", tm_cmd_pay, "take card payments through the gateway (tokenised, velocity-checked)"},
    {"queue", tm_cmd_queue, "debts journeys handed to agents; close one when worked"},
    {"serve", tm_cmd_serve, "the engine as an HTTPS API: decide, events, accounts, health, metrics"},
    {"tokens", tm_cmd_tokens, "create, revoke and list the service's machine credentials"},
    {"why", tm_cmd_why, "a debt's story in time order: journey steps, gate verdicts, messages, payments"},
    {"graph", tm_cmd_graph, "draw a journey as Graphviz DOT (Mermaid with --mermaid)"},
    {"regulations", tm_cmd_regulations, "the regulation library as a table for counsel (--csv)"},
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
            "  --db PATH|URL      the store (default: $TALLYMAN_DB, or tallyman.db): a SQLite\n"
            "                     file, or a postgresql:// URL (then --key-file is needed)\n"
            "  --key-file PATH    encryption keys (default: $TALLYMAN_KEY_FILE, or <db>.key)\n"
            "  --draft            run, decide, simulate: run the working tree (--scripts) as a\n"
            "                     draft instead of the store's active script set\n"
            "  -h, --help         this help; `tallyman COMMAND --help` for a command's own\n"
            "  --version          the version\n"
            "\n"
            "Exit codes: 0 success, 1 a failure in the work, 2 wrong usage.\n",
            tm_cli_default_scripts());
}

int main(int argc, char **argv)
{
    tm_cli cli = {.prog = argv[0], .db = "tallyman.db", .key_file = getenv("TALLYMAN_KEY_FILE")};
    /* The store may be named once for a shell (a PostgreSQL URL, typically). */
    const char *env_db = getenv("TALLYMAN_DB");
    if (env_db && *env_db) {
        cli.db = env_db;
        cli.db_given = 1;
    }
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
        if (strcmp(a, "--draft") == 0) {
            cli.draft = 1;
            continue;
        }
        if (slot) {
            cli.scripts_given |= slot == &cli.scripts;
            cli.db_given |= slot == &cli.db;
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
    tm_lb_contact_register();
    tm_lb_channel_register();
    tm_lb_util_register();
    cli.argc = nrest;
    cli.argv = rest;
    /* --draft means something only where a store's active set would run. */
    if (cli.draft && strcmp(rest[0], "run") != 0 && strcmp(rest[0], "decide") != 0 &&
        strcmp(rest[0], "simulate") != 0 && strcmp(rest[0], "serve") != 0) {
        free(rest);
        return tm_cli_usage_error(NULL, "--draft is for run, decide, simulate and serve");
    }
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
