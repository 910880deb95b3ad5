/*
 * app/cmd_lint.c: `tallyman lint [PATH...]` (CONTRACT.md): loads and checks
 * scripts without running their effects, one line per problem,
 * "file:line: message"; exit 1 if any.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "engine.h"
#include "gate.h"
#include "lb_gate.h"
#include "lb_journey.h"
#include "sandbox.h"
#include "scriptset.h"

static const char lint_help[] =
    "usage: tallyman lint [PATH...]\n"
    "\n"
    "Checks scripts (default: the script tree) without running their effects:\n"
    "syntax and encoding, known DSL fields, a citation on every rule, where\n"
    "each regulation applies, journey migrations. One line per problem,\n"
    "file:line: message; exit 1 if there is any. Notes (a journey version\n"
    "with no migration from an older one) are printed as \"file: note: ...\"\n"
    "and do not fail the lint.\n"
    "A strategy folder (journeys laid out like scripts/strategies/, with no\n"
    "lib/ or regulations/ of its own) is checked laid over the script tree,\n"
    "as `simulate --strategy` runs it: its own journeys, not the tree's.\n";

typedef struct linting {
    int problems;
    const char *only; /* report only problems of this file (NULL: all) */
} linting;

static void problem(void *ud, const char *message, int fatal)
{
    (void)fatal;
    linting *l = ud;
    if (l->only && strncmp(message, l->only, strlen(l->only)) != 0)
        return;
    printf("%s\n", message);
    l->problems++;
}

static void set_problem(void *ud, const char *message)
{
    problem(ud, message, 1);
}

/* A file inside a script tree (under regulations/, policies/, strategies/ or
 * channels/) is checked within its tree, so its `require`s resolve: returns
 * the tree's root in `root`, or 0 for a file on its own. */
static int tree_of(const char *path, char *root, size_t cap)
{
    static const char *const dirs[] = {"regulations/", "policies/", "strategies/", "channels/", NULL};
    for (int i = 0; dirs[i]; i++) {
        size_t n = strlen(dirs[i]);
        if (strncmp(path, dirs[i], n) == 0) {
            snprintf(root, cap, ".");
            return 1;
        }
        char pat[32];
        snprintf(pat, sizeof pat, "/%s", dirs[i]);
        const char *hit = strstr(path, pat);
        if (hit) {
            snprintf(root, cap, "%.*s", (int)(hit - path), path);
            return 1;
        }
    }
    return 0;
}

/* Journeys and channel templates check their definitions when they load
 * (an unknown state, event, placeholder or a missing language raises), so
 * loading each one is their lint. */
static void lint_loads(tm_sandbox *sb, tm_gen *gen, linting *l)
{
    /* A definition's problems come up again in every script that requires
     * it: each is told once. */
    char **told = NULL;
    size_t ntold = 0;
    for (size_t i = 0; i < tm_gen_count(gen); i++) {
        const tm_script *sc = tm_gen_script(gen, i);
        size_t n = strlen(sc->path);
        if ((strncmp(sc->path, "strategies/", 11) != 0 && strncmp(sc->path, "channels/", 9) != 0) ||
            (n > 9 && strcmp(sc->path + n - 9, "_spec.lua") == 0))
            continue;
        struct tm_err e = {0};
        if (tm_sandbox_script_check(sb, sc->path, &e) == TM_OK)
            continue;
        /* A definition with several problems: each at its own line. */
        if (tm_sandbox_problem_count(sb) > 0) {
            for (size_t k = 0; k < tm_sandbox_problem_count(sb); k++) {
                const char *m = tm_sandbox_problem(sb, k);
                int seen = 0;
                for (size_t t = 0; t < ntold && !seen; t++)
                    seen = strcmp(told[t], m) == 0;
                if (seen)
                    continue;
                problem(l, m, 1);
                char **more = realloc(told, (ntold + 1) * sizeof *told);
                if (more && (more[ntold] = strdup(m)) != NULL)
                    ntold++;
                if (more)
                    told = more;
            }
            continue;
        }
        char m[800];
        /* Errors raised at a line already name the file; others get it. */
        if (strstr(e.msg, ".lua:"))
            snprintf(m, sizeof m, "%s", e.msg);
        else
            snprintf(m, sizeof m, "%s/%s: %s", tm_gen_root(gen), sc->path, e.msg);
        problem(l, m, 1);
    }
    for (size_t t = 0; t < ntold; t++)
        free(told[t]);
    free(told);
}

/* Notes about journeys (lb_journey.h): a version past 1 that leaves older
 * versions without a migration. Printed, not counted: keeping debts on the
 * text they started on is often what the author wants. */
static void lint_notes(tm_sandbox *sb, tm_gen *gen, linting *l)
{
    tm_journeys *js = NULL;
    struct tm_err e = {0};
    if (tm_journeys_load(sb, &js, NULL, NULL, &e) != TM_OK)
        return; /* out of memory: the problems above are what matters */
    for (size_t i = 0; i < tm_journeys_count(js); i++) {
        const char *note = tm_journeys_note(js, i);
        tm_jsource src;
        if (!note || tm_journeys_source(js, i, &src) != TM_OK)
            continue;
        char m[800];
        snprintf(m, sizeof m, "%s/%s: note: %s", tm_gen_root(gen), src.path, note);
        if (!l->only || strncmp(m, l->only, strlen(l->only)) == 0)
            printf("%s\n", m);
    }
    tm_journeys_free(js);
}

int tm_cmd_lint(tm_cli *cli)
{
    linting l = {0};
    int npaths = 0;
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
            l.problems++;
            continue;
        }
        tm_gen *gen = NULL;
        struct tm_err e = {0};
        char root[4096], display[4200];
        const char *load = path;
        l.only = NULL;
        if (!S_ISDIR(st.st_mode) && tree_of(path, root, sizeof root)) {
            load = root;
            /* Problems are reported with the tree's display of the path. */
            if (strcmp(root, ".") == 0)
                snprintf(display, sizeof display, "./%s", path);
            else
                snprintf(display, sizeof display, "%s", path);
            l.only = display;
        }
        int loaded = S_ISDIR(st.st_mode) && tm_engine_is_strategy_folder(path)
                         ? tm_engine_strategy_set(cli, path, set_problem, &l, &gen, &e)
                         : tm_gen_load_lenient(load, &gen, set_problem, &l, &e);
        if (loaded != TM_OK) {
            printf("%s\n", e.msg);
            l.problems++;
            continue;
        }
        tm_sandbox *sb = tm_sandbox_new(gen, NULL, &e);
        tm_gate *gate = NULL;
        if (!sb || tm_lb_gate_load(sb, &gate, problem, &l, &e) != TM_OK) {
            printf("%s: %s\n", path, e.msg);
            l.problems++;
        }
        if (sb) {
            lint_loads(sb, gen, &l);
            lint_notes(sb, gen, &l);
        }
        tm_gate_free(gate);
        tm_sandbox_free(sb);
        tm_gen_release(gen);
    }
    return l.problems ? TM_EXIT_FAIL : TM_EXIT_OK;
}
