/*
 * app/cmd_why.c: `tallyman why DEBT_ID`: a debt's story in time order, from
 * what the store keeps: the journey's steps (audit log), the contacts
 * planned, each gate verdict with its rules and generation (the decision
 * log), the messages sent or failed, events, payments, promises and agent
 * work (app/story.h, which the service's GET /v1/debts/{id}/story answers
 * too). Text a person reads, or JSON lines (--json). It reads only, and
 * shows no personal data: ids, times, rules and amounts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "keys.h"
#include "pay.h"
#include "store.h"
#include "story.h"

static const char why_help[] =
    "usage: tallyman [--db PATH] why DEBT_ID [--json]\n"
    "\n"
    "The debt's story in time order: each journey step (trigger, states, what it\n"
    "sent), each contact planned, each gate verdict on it (allowed, or blocked with\n"
    "the rules and the next allowed time, and the script generation that judged),\n"
    "the messages sent or failed, events, payments, promises and agent work.\n"
    "`tallyman decide --replay --debt DEBT_ID` judges its decisions again.\n"
    "\n"
    "Options:\n"
    "  --json   one JSON object a line: {\"at\", \"kind\", ...} with the same facts\n";

int tm_cmd_why(tm_cli *cli)
{
    const char *debt_id = NULL;
    int json = 0;
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(why_help, stdout);
            return TM_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (a[0] == '-' && a[1]) {
            return tm_cli_usage_error("why", "unknown option '%s'", a);
        } else if (debt_id) {
            return tm_cli_usage_error("why", "one debt at a time ('%s' and '%s')", debt_id, a);
        } else {
            debt_id = a;
        }
    }
    if (!debt_id)
        return tm_cli_usage_error("why", "which debt? (tallyman why DEBT_ID)");
    if (!tm_cli_store_exists(cli, "tallyman import accounts"))
        return TM_EXIT_FAIL;
    tm_store *st = NULL;
    tm_keys *keys = NULL;
    if (tm_cli_open_store(cli, TM_CLI_KEYS_READ, &st, &keys) != TM_EXIT_OK)
        return TM_EXIT_FAIL;
    struct tm_err e = {0};
    int found = 0;
    tm_story s;
    int rc = tm_story_build(st, debt_id, &s, &found, &e);
    if (rc == TM_OK && !found) {
        fprintf(stderr, "tallyman: why: no debt '%s' in the store %s\n", debt_id, cli->db);
        tm_store_close(st);
        tm_keys_free(keys);
        return TM_EXIT_FAIL;
    }
    if (rc == TM_OK) {
        const tm_debt_rec *rec = &s.debt;
        char bal[TM_MONEY_FMT_MAX], placed[TM_MONEY_FMT_MAX];
        tm_story_money(rec->balance, rec->currency, bal);
        tm_story_money(rec->placed_balance, rec->currency, placed);
        if (json) {
            json_t *h = tm_story_head(&s);
            char *line = h ? json_dumps(h, JSON_COMPACT) : NULL;
            json_decref(h);
            if (line)
                puts(line);
            free(line);
        } else {
            printf("debt %s%s%s: balance %s (placed %s); %zu entries\n", debt_id, *rec->creditor ? ", creditor " : "",
                   rec->creditor, bal, placed, s.n);
        }
        for (size_t i = 0; i < s.n; i++) {
            if (json) {
                char *line = json_dumps(s.v[i].obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
                if (line)
                    puts(line);
                free(line);
            } else {
                char t[40];
                tm_story_when(s.v[i].at, t);
                printf("%s  %s\n", t, s.v[i].text);
            }
        }
        tm_story_free(&s);
    }
    tm_store_close(st);
    tm_keys_free(keys);
    if (rc != TM_OK) {
        fprintf(stderr, "tallyman: why %s: %s\n", debt_id, e.msg);
        return TM_EXIT_FAIL;
    }
    return fflush(stdout) == 0 ? TM_EXIT_OK : TM_EXIT_FAIL;
}
