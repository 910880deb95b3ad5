/*
 * app/cmd_pay.c: `tallyman pay FILE`: payments the engine takes itself, by
 * card, through the payment gateway. Each request (JSON lines) is checked,
 * its card number replaced by a token at once (the number is wiped from the
 * line and never reaches the store, the audit log or a message), counted
 * against the fraud velocity limits, charged once per idempotency key and
 * recorded; an approved charge is then applied as a payment event, so the
 * balance, promises and the debt's journey follow as for any payment.
 *
 * Velocity limits hold across runs: for each request, the attempts of the
 * window before its own time are read back from the store, whatever today's
 * date is. A charge whose outcome is unknown (a gateway time-out) is kept
 * pending and retried with the same key by a later run, so the gateway never
 * charges twice. A request older than its debt's last event is refused before
 * it is charged; an approved charge is always applied, whatever its order.
 * A key used again for another request is refused. A line's problem is named
 * (FILE:LINE: field: reason) and the rest of the file goes on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "jsonl.h"
#include "keys.h"
#include "pay_intake.h"
#include "store.h"

static const char pay_help[] =
    "usage: tallyman [--db PATH] pay FILE [--gateway test] [--per-card N] [--per-debt N]\n"
    "                [--window-minutes M]\n"
    "\n"
    "Takes card payments through the payment gateway. FILE holds one request per\n"
    "line (JSON): {\"key\": \"...\", \"debt_id\": \"...\", \"amount\": \"25.00\",\n"
    "\"card_number\": \"4111...\" or \"token\": \"tok_...\", \"at\": \"RFC 3339\"}.\n"
    "The card number becomes a token at once and is stored nowhere; a token must\n"
    "be one this engine issued. Each request is counted against the fraud velocity\n"
    "limits (the attempts in the window before its own time), charged once per key,\n"
    "recorded and audited; an approved charge is applied as a payment (balance,\n"
    "promises, the debt's journey), whatever its order. A request dated before its\n"
    "debt's last event, a key used before for another request, or a card number in\n"
    "another field is refused, not charged. A time-out is kept pending and retried,\n"
    "with the same key, by the next run.\n"
    "\n"
    "  --gateway NAME        test (approves; amounts ending in 01 decline, 02 time\n"
    "                        out): the only gateway built in\n"
    "  --per-card N          attempts allowed per card in the window (default 3)\n"
    "  --per-debt N          attempts allowed per debt in the window (default 5)\n"
    "  --window-minutes M    the rolling window (default 60)\n"
    "\n"
    "Exit 0 when every line was taken (approved, declined or pending), 1 when\n"
    "some were refused (bad input, velocity), 2 for bad usage.\n";

typedef struct pay_run {
    tm_store *s;
    tm_pay_intake *in;
    const char *name;
    long approved, declined, pending, refused, duplicates, rejected;
} pay_run;

/* One request line through the intake (core/pay_intake.h), its problem named
 * FILE:LINE: field: reason. TM_OK unless the store or memory failed. */
static int take(pay_run *p, char *text, size_t len, long line, struct tm_err *err)
{
    tm_pay_intake_result res;
    int rc = tm_pay_intake_take(p->in, text, len, line, (int64_t)time(NULL), &res, err);
    if (rc != TM_OK)
        return rc;
    switch (res.status) {
    case TM_INTAKE_APPROVED: p->approved++; break;
    case TM_INTAKE_DECLINED: p->declined++; break;
    case TM_INTAKE_PENDING: p->pending++; break;
    case TM_INTAKE_DUPLICATE: p->duplicates++; break;
    case TM_INTAKE_REFUSED:
        p->refused++;
        fprintf(stderr, "%s:%ld: refused: %s\n", p->name, line, res.message);
        break;
    case TM_INTAKE_REJECTED:
        p->rejected++;
        fprintf(stderr, "%s:%ld: %s: %s\n", p->name, line, res.field, res.message);
        break;
    }
    return TM_OK;
}

int tm_cmd_pay(tm_cli *cli)
{
    const char *file = NULL, *gateway = "test";
    uint64_t per_card = 3, per_debt = 5, window = 60;
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        const char *v = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(pay_help, stdout);
            return TM_EXIT_OK;
        } else if (strcmp(a, "--gateway") == 0 && v) {
            gateway = v;
            i++;
        } else if (strcmp(a, "--per-card") == 0 && v) {
            if (tm_cli_parse_u64(v, 1000, &per_card) != 0)
                return tm_cli_usage_error("pay", "--per-card needs a number from 0 (no limit) to 1000");
            i++;
        } else if (strcmp(a, "--per-debt") == 0 && v) {
            if (tm_cli_parse_u64(v, 1000, &per_debt) != 0)
                return tm_cli_usage_error("pay", "--per-debt needs a number from 0 (no limit) to 1000");
            i++;
        } else if (strcmp(a, "--window-minutes") == 0 && v) {
            if (tm_cli_parse_u64(v, 10080, &window) != 0 || window == 0)
                return tm_cli_usage_error("pay", "--window-minutes needs a number from 1 to 10080");
            i++;
        } else if ((a[0] != '-' || strcmp(a, "-") == 0) && !file) {
            file = a;
        } else {
            return tm_cli_usage_error("pay", "unknown option or missing value '%s'", a);
        }
    }
    if (!file)
        return tm_cli_usage_error("pay", "pay needs a FILE of payment requests");
    if (strcmp(gateway, "test") != 0)
        return tm_cli_usage_error("pay", "--gateway: '%s' is not built in (test is)", gateway);
    if (!tm_cli_store_exists(cli, "import accounts"))
        return TM_EXIT_FAIL;
    FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (!in) {
        fprintf(stderr, "tallyman: %s: cannot open: %s\n", file, strerror(errno));
        return TM_EXIT_FAIL;
    }
    struct tm_err e = {0};
    tm_keys *keys = NULL;
    pay_run p = {.name = file};
    int code = TM_EXIT_FAIL;
    if (tm_cli_open_store(cli, TM_CLI_KEYS_WRITE, &p.s, &keys) != TM_EXIT_OK)
        goto out;
    tm_pay_intake_opts po = {.per_card = (int)per_card, .per_debt = (int)per_debt,
                             .window = (int64_t)window * 60, .name = file, .actor = "pay"};
    if (tm_pay_intake_new(p.s, keys, &po, &p.in, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        goto out;
    }
    tm_jsonl *rd = NULL;
    if (tm_jsonl_open(in, file, 0, &rd, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        goto out;
    }
    char *lineb;
    size_t len;
    long line;
    int got, unread = 0;
    code = TM_EXIT_OK;
    while ((got = tm_jsonl_next(rd, &lineb, &len, &line, &e)) != 0) {
        if (got == TM_EINVAL) { /* a line too long: rejected, not charged; the rest goes on */
            fprintf(stderr, "%s\n", e.msg);
            p.rejected++;
            continue;
        }
        if (got < 0) { /* a file that cannot be read (a directory, ...) is not an empty one */
            fprintf(stderr, "tallyman: %s\n", e.msg);
            code = TM_EXIT_FAIL;
            unread = 1;
            break;
        }
        if (take(&p, lineb, len, line, &e) != TM_OK) {
            fprintf(stderr, "tallyman: %s:%ld: %s\n", file, line, e.msg);
            code = TM_EXIT_FAIL;
            break;
        }
    }
    line = tm_jsonl_lineno(rd);
    tm_jsonl_close(rd); /* wipes the line buffer: a line may have held a card number */
    if (!(unread && line == 0))
        printf("%s: %ld approved, %ld declined, %ld pending (gateway time-out: retried by the next run), "
               "%ld refused by velocity limits, %ld already taken, %ld rejected\n",
               file, p.approved, p.declined, p.pending, p.refused, p.duplicates, p.rejected);
    if (p.refused || p.rejected)
        code = TM_EXIT_FAIL;
out:
    if (in && in != stdin)
        fclose(in);
    tm_pay_intake_free(p.in);
    if (p.s)
        tm_store_close(p.s);
    tm_keys_free(keys);
    return code;
}
