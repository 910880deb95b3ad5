/*
 * app/cmd_test.c: `tallyman test [PATH...]` (CONTRACT.md): runs the Lua spec
 * files (*_spec.lua) under the paths inside the sandbox, with the gate built
 * from the same script tree, and ends with "N passed, N failed".
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "engine.h"
#include "lb_spec.h"

static const char test_help[] =
    "usage: tallyman test [options] [PATH...]\n"
    "\n"
    "Runs the spec files (*_spec.lua) found under each PATH (default: the\n"
    "script tree) inside the sandbox. A directory PATH is also the script tree\n"
    "its specs test: its regulations are loaded for `decide`. A strategy folder\n"
    "(journeys laid out like scripts/strategies/, with no lib/ or regulations/\n"
    "of its own) is laid over the script tree, as `simulate --strategy` runs\n"
    "it, and its own specs run against its own journeys. Prints each\n"
    "failure as file:line: message and ends with \"N passed, N failed\".\n"
    "\n"
    "Options:\n"
    "  -v, --verbose       print every case that passes too\n"
    "  --require-specs     count every regulation or strategy script without a\n"
    "                      NAME_spec.lua beside it as a failure\n";

typedef struct run {
    int verbose;
    int passed, failed;
} run;

static void report(void *ud, const char *message, int ok)
{
    run *r = ud;
    if (!ok)
        printf("FAIL %s\n", message);
    else if (r->verbose)
        printf("ok   %s\n", message);
}

static void load_problem(void *ud, const char *message, int fatal)
{
    (void)fatal;
    run *r = ud;
    printf("FAIL %s\n", message);
    r->failed++;
}

static void set_problem(void *ud, const char *message)
{
    load_problem(ud, message, 1);
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Runs every spec of the engine's script set in its sandbox, where its gate
 * (when it has one) answers `decide`. */
static void run_set(run *r, const tm_engine *eng, int require_specs, const char *only)
{
    const tm_gen *gen = eng->gen;
    tm_sandbox *sb = eng->sb;
    const char *root = tm_gen_root(gen);
    for (size_t i = 0; i < tm_gen_count(gen); i++) {
        const tm_script *s = tm_gen_script(gen, i);
        char display[1200];
        if (tm_gen_count(gen) == 1 && ends_with(root, s->path))
            snprintf(display, sizeof display, "%s", root);
        else
            snprintf(display, sizeof display, "%s/%s", root, s->path);
        /* `only`: one file, or every file under a directory ("strategies/"). */
        size_t ol = only ? strlen(only) : 0;
        if (only && (ol && only[ol - 1] == '/' ? strncmp(only, s->path, ol) != 0
                                               : strcmp(only, s->path) != 0))
            continue;
        if (strcmp(s->display, display) != 0 && tm_gen_count(gen) > 1)
            snprintf(display, sizeof display, "%s", s->display); /* a strategy folder's own file */
        if (ends_with(s->path, "_spec.lua")) {
            tm_spec_run(sb, display, s->text, s->len, report, r, &r->passed, &r->failed);
        } else if (require_specs && (strncmp(s->path, "regulations/", 12) == 0 || strncmp(s->path, "policies/", 9) == 0 ||
                                     strncmp(s->path, "strategies/", 11) == 0)) {
            char spec[1200];
            snprintf(spec, sizeof spec, "%.*s_spec.lua", (int)(strlen(s->path) - 4), s->path);
            if (!tm_gen_find(gen, spec)) {
                printf("FAIL %s: no spec file (%s)\n", display, spec);
                r->failed++;
            }
        }
    }
}

int tm_cmd_test(tm_cli *cli)
{
    run r = {0};
    int require_specs = 0, npaths = 0;
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(test_help, stdout);
            return TM_EXIT_OK;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            r.verbose = 1;
        } else if (strcmp(a, "--require-specs") == 0) {
            require_specs = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            return tm_cli_usage_error("test", "unknown option '%s'", a);
        } else {
            npaths++;
        }
    }
    const char *defaults[] = {cli->scripts};
    int nargs = npaths ? npaths : 1;
    for (int i = 1, k = 0; k < nargs; i++) {
        const char *path;
        if (npaths) {
            if (i >= cli->argc)
                break;
            path = cli->argv[i];
            if (path[0] == '-' && path[1] != '\0')
                continue;
        } else {
            path = defaults[0];
        }
        k++;
        struct stat st;
        if (stat(path, &st) != 0) {
            printf("FAIL %s: %s\n", path, strerror(errno));
            r.failed++;
            continue;
        }
        tm_gen *gen = NULL;
        struct tm_err e = {0};
        if (S_ISDIR(st.st_mode)) {
            /* The directory is the script tree its specs test; a gate that
             * cannot be built fails the set, and the specs still run. */
            /* A strategy folder: laid over the script tree, its own specs
             * run against its own journeys. */
            int folder = tm_engine_is_strategy_folder(path);
            if (folder && tm_engine_strategy_set(cli, path, set_problem, &r, &gen, &e) != TM_OK) {
                printf("FAIL %s: %s\n", path, e.msg);
                r.failed++;
                continue;
            }
            tm_engine_opts eo = {.gen = gen, .scripts = folder ? NULL : path,
                                 .script_problem = set_problem, .gate_problem = load_problem,
                                 .ud = &r};
            tm_engine *eng = NULL;
            int failed_at = 0;
            if (tm_engine_open(&eo, TM_ENGINE_LENIENT | TM_ENGINE_GATE | TM_ENGINE_GATE_OPTIONAL, &eng,
                               &failed_at, &e) != TM_OK) {
                if (failed_at == TM_ENGINE_AT_SCRIPTS)
                    printf("FAIL %s\n", e.msg);
                else
                    printf("FAIL %s: %s\n", path, e.msg);
                r.failed++;
                continue;
            }
            if (!eng->gate) {
                printf("FAIL %s: %s\n", path, eng->gate_err.msg);
                r.failed++;
            }
            run_set(&r, eng, require_specs, folder ? "strategies/" : NULL);
            tm_engine_close(eng);
        } else {
            /* A single spec file: its regulations come from the script tree. */
            if (tm_gen_load_lenient(cli->scripts, &gen, set_problem, &r, &e) != TM_OK) {
                gen = NULL;
            }
            tm_gen *one = NULL;
            if (tm_gen_load(path, &one, &e) != TM_OK) {
                printf("FAIL %s\n", e.msg);
                r.failed++;
                tm_gen_release(gen);
                continue;
            }
            const tm_script *s = tm_gen_script(one, 0);
            tm_engine_opts eo = {.gen = gen, .gate_problem = load_problem, .ud = &r};
            tm_engine *eng = NULL;
            if (tm_engine_open(&eo, TM_ENGINE_GATE, &eng, NULL, &e) == TM_OK)
                tm_spec_run(eng->sb, path, s->text, s->len, report, &r, &r.passed, &r.failed);
            tm_engine_close(eng);
            tm_gen_release(one);
        }
        tm_gen_release(gen);
    }
    printf("%d passed, %d failed\n", r.passed, r.failed);
    return r.failed ? TM_EXIT_FAIL : TM_EXIT_OK;
}
