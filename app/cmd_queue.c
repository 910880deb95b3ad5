/*
 * app/cmd_queue.c: `tallyman queue`: the debts journeys handed to agents
 * (j:queue), and closing them once an agent has worked one. Closing is
 * audited with who closed it and the outcome (core/queue.h, which the
 * service's /v1/queues routes use too).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>

#include "calendar.h"
#include "cli.h"
#include "pay.h"
#include "keys.h"
#include "portfolio.h"
#include "queue.h"
#include "store.h"

static const char queue_help[] =
    "usage: tallyman [--db PATH] queue [list] [NAME] [--all] [--json]\n"
    "       tallyman [--db PATH] queue close ID [--outcome TEXT] [--by NAME]\n"
    "\n"
    "Debts the journeys handed to agent queues (j:queue in a journey), oldest\n"
    "first: the item's id, the queue, the debt, since when, the journey and\n"
    "state it came from, and why. `close` marks one worked, with its outcome\n"
    "and who closed it, in the audit log.\n"
    "\n"
    "  NAME           one queue only (default: every queue)\n"
    "  --all          closed items too\n"
    "  --json         one JSON object per line\n"
    "  --outcome TEXT what came of it (\"promise taken\", \"no answer\", ...)\n"
    "  --by NAME      who closed it (default: $USER)\n";

typedef struct list_ctx {
    int json;
    long n;
} list_ctx;

static int print_item(void *ud, const tm_queue_item *q)
{
    list_ctx *c = ud;
    char since[32];
    tm_calendar_format_rfc3339(q->at, 0, since, sizeof since, NULL);
    c->n++;
    if (c->json) {
        json_t *j = tm_queue_item_json(q);
        char *t = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (t)
            puts(t);
        free(t);
        json_decref(j);
    } else {
        if (c->n == 1)
            printf("%6s  %-20s %-16s %16s  %-20s  %-24s  %s\n", "ID", "QUEUE", "DEBT", "BALANCE", "SINCE",
                   "JOURNEY/STATE", "REASON");
        char bal[TM_MONEY_FMT_MAX], js[160];
        tm_money m = {.minor = q->balance};
        snprintf(m.currency, sizeof m.currency, "%s", q->currency);
        if (tm_money_format(m, bal, sizeof bal, NULL) != TM_OK)
            snprintf(bal, sizeof bal, "?");
        snprintf(js, sizeof js, "%s/%s", q->journey, q->journey_state);
        printf("%6lld  %-20s %-16s %16s  %-20s  %-24s  %s%s%s\n", (long long)q->id, q->queue, q->debt_ref, bal,
               since, js, q->reason, q->status != TM_QUEUE_OPEN ? "  [" : "",
               q->status != TM_QUEUE_OPEN ? tm_store_queue_status_name(q->status) : "");
        if (q->status != TM_QUEUE_OPEN)
            printf("        closed by %s: %s]\n", q->closed_by, q->outcome);
    }
    return TM_OK;
}

int tm_cmd_queue(tm_cli *cli)
{
    const char *name = NULL, *outcome = NULL, *by = getenv("USER");
    int all = 0, json = 0, closing = 0;
    uint64_t id = 0;
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        const char *v = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(queue_help, stdout);
            return TM_EXIT_OK;
        } else if (strcmp(a, "--all") == 0) {
            all = 1;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--outcome") == 0 && v) {
            outcome = v;
            i++;
        } else if (strcmp(a, "--by") == 0 && v) {
            by = v;
            i++;
        } else if (i == 1 && strcmp(a, "list") == 0) {
            continue;
        } else if (i == 1 && strcmp(a, "close") == 0) {
            closing = 1;
            if (!v || tm_cli_parse_u64(v, INT64_MAX, &id) != 0 || id == 0)
                return tm_cli_usage_error("queue", "close needs the item's id (a number; see `tallyman queue`)");
            i++;
        } else if (a[0] != '-' && !name && !closing) {
            name = a;
        } else {
            return tm_cli_usage_error("queue", "unknown option or missing value '%s'", a);
        }
    }
    if (!tm_cli_store_exists(cli, "import accounts"))
        return TM_EXIT_FAIL;
    struct tm_err e = {0};
    tm_store *s = NULL;
    if (tm_store_open(cli->db, &s, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    int code = TM_EXIT_OK;
    if (!closing) {
        list_ctx c = {.json = json};
        if (tm_store_queue_list(s, name, all, print_item, &c, &e) != TM_OK) {
            fprintf(stderr, "tallyman: %s\n", e.msg);
            code = TM_EXIT_FAIL;
        } else if (!json) {
            printf("%ld %s\n", c.n, c.n == 1 ? "item" : "items");
        }
        tm_store_close(s);
        return code;
    }
    /* Closing writes the audit log, so it needs the key file. */
    tm_keys *keys = NULL;
    if (tm_cli_open_keys(cli, s, TM_CLI_KEYS_WRITE, &keys) != TM_EXIT_OK) {
        tm_store_close(s);
        return TM_EXIT_FAIL;
    }
    uint8_t akey[32];
    tm_portfolio_audit_key(keys, akey);
    int closed = 0;
    int rc = tm_queue_close(s, akey, (int64_t)id, by && *by ? by : "unknown", outcome ? outcome : "",
                            (int64_t)time(NULL), &closed, &e);
    if (rc != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        code = TM_EXIT_FAIL;
    } else if (!closed) {
        fprintf(stderr, "tallyman: queue item %llu: no such open item\n", (unsigned long long)id);
        code = TM_EXIT_FAIL;
    } else {
        printf("queue item %llu closed\n", (unsigned long long)id);
    }
    OPENSSL_cleanse(akey, sizeof akey);
    tm_keys_free(keys);
    tm_store_close(s);
    return code;
}
