/*
 * app/cmd_graph.c: `tallyman graph JOURNEY [--mermaid|--dot]`: a journey's
 * states and transitions (events and timers) as Graphviz DOT (alone, so it
 * pipes into `dot -Tsvg`) or as Mermaid, so a strategy manager can see the
 * journey they wrote.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "lb_journey.h"
#include "sandbox.h"
#include "scriptset.h"

static void print_report(void *ud, const char *message)
{
    (void)ud;
    fprintf(stderr, "%s\n", message);
}

int tm_cmd_graph(tm_cli *cli)
{
    const char *id = NULL, *strategy = NULL;
    int dot = 1, mermaid = 0;
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: tallyman [--scripts DIR] graph JOURNEY [--strategy DIR] [--dot | --mermaid]\n\n"
                   "Writes the journey's states and transitions (events, timers) as\n"
                   "Graphviz DOT, alone, so it pipes into a renderer:\n"
                   "  tallyman graph early_stage | dot -Tsvg >early_stage.svg\n"
                   "--mermaid writes a Mermaid state diagram instead, fenced for Markdown.\n"
                   "--strategy DIR takes the journey from a strategy folder laid over the\n"
                   "tree, as simulate --strategy runs it.\n");
            return TM_EXIT_OK;
        } else if (strcmp(a, "--dot") == 0) {
            dot = 1, mermaid = 0;
        } else if (strcmp(a, "--mermaid") == 0) {
            dot = 0, mermaid = 1;
        } else if (strcmp(a, "--strategy") == 0 && i + 1 < cli->argc) {
            strategy = cli->argv[++i];
        } else if (a[0] == '-') {
            return tm_cli_usage_error("graph", "unknown option '%s'", a);
        } else if (!id) {
            id = a;
        } else {
            return tm_cli_usage_error("graph", "graph takes one JOURNEY");
        }
    }
    if (!id)
        return tm_cli_usage_error("graph", "graph needs a JOURNEY id (see scripts/strategies/)");
    struct tm_err e = {0};
    tm_gen *gen = NULL;
    /* A strategy folder is laid over the tree, as simulate --strategy does. */
    if (strategy && !tm_engine_is_strategy_folder(strategy)) {
        fprintf(stderr, "tallyman: --strategy %s: not a strategy folder (a directory of journeys "
                        "laid out like scripts/strategies/)\n", strategy);
        return TM_EXIT_FAIL;
    }
    if ((strategy ? tm_engine_strategy_set(cli, strategy, print_report, NULL, &gen, &e)
                  : tm_gen_load_lenient(cli->scripts, &gen, print_report, NULL, &e)) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    tm_sandbox *sb = tm_sandbox_new(gen, NULL, &e);
    tm_gen_release(gen);
    if (!sb) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    tm_journeys *js = NULL;
    int exit_code = TM_EXIT_FAIL;
    if (tm_journeys_load(sb, &js, print_report, NULL, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        goto done;
    }
    for (int pass = 0; pass < 2; pass++) {
        if ((pass == 0 && !dot) || (pass == 1 && !mermaid))
            continue;
        char *g = NULL;
        if (tm_journeys_graph(js, id, pass == 0, &g, &e) != TM_OK) {
            fprintf(stderr, "tallyman: %s", e.msg);
            if (e.code == TM_ENOENT) {
                fprintf(stderr, " (journeys:");
                for (size_t i = 0; i < tm_journeys_count(js); i++)
                    fprintf(stderr, " %s", tm_journeys_id(js, i, NULL));
                fprintf(stderr, ")");
            }
            fprintf(stderr, "\n");
            goto done;
        }
        if (pass == 1)
            printf("```mermaid\n%s```\n", g);
        else
            fputs(g, stdout);
        free(g);
    }
    exit_code = TM_EXIT_OK;
done:
    tm_journeys_free(js);
    tm_sandbox_free(sb);
    return exit_code;
}
