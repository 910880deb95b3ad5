/*
 * core/cmd_lint.c: `tallyman lint [PATH...]` (CONTRACT.md): loads and checks
 * scripts without running their effects, one line per problem,
 * "file:line: message"; exit 1 if any.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "gate.h"
#include "lb_gate.h"
#include "sandbox.h"
#include "scriptset.h"

static const char lint_help[] =
    "usage: tallyman lint [PATH...]\n"
    "\n"
    "Checks scripts (default: the script tree) without running their effects:\n"
    "syntax and encoding, known DSL fields, a citation on every rule, where\n"
    "each regulation applies. One line per problem, file:line: message;\n"
    "exit 1 if there is any.\n";

static void problem(void *ud, const char *message, int fatal)
{
    (void)fatal;
    int *n = ud;
    printf("%s\n", message);
    (*n)++;
}

static void set_problem(void *ud, const char *message)
{
    problem(ud, message, 1);
}

int tm_cmd_lint(tm_cli *cli)
{
    int problems = 0, npaths = 0;
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(lint_help, stdout);
            return TM_EXIT_OK;
        }
        if (a[0] == '-' && a[1] != '\0')
            return tm_cli_usage_error("lint", "unknown option '%s'", a);
        npaths++;
    }
    for (int i = 0; i < (npaths ? cli->argc - 1 : 1); i++) {
        const char *path = npaths ? cli->argv[i + 1] : cli->scripts;
        struct stat st;
        if (stat(path, &st) != 0) {
            printf("%s: %s\n", path, strerror(errno));
            problems++;
            continue;
        }
        tm_gen *gen = NULL;
        struct tm_err e = {0};
        if (tm_gen_load_lenient(path, &gen, set_problem, &problems, &e) != TM_OK) {
            printf("%s\n", e.msg);
            problems++;
            continue;
        }
        tm_sandbox *sb = tm_sandbox_new(gen, NULL, &e);
        tm_gate *gate = NULL;
        if (!sb || tm_lb_gate_load(sb, &gate, problem, &problems, &e) != TM_OK) {
            printf("%s: %s\n", path, e.msg);
            problems++;
        }
        tm_gate_free(gate);
        tm_sandbox_free(sb);
        tm_gen_release(gen);
    }
    return problems ? TM_EXIT_FAIL : TM_EXIT_OK;
}
