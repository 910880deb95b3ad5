/*
 * app/cmd_decide.c: `tallyman decide` (CONTRACT.md): contact requests in,
 * one decision per request out, as JSON lines, in the same order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "calendar.h"
#include "cli.h"
#include "jsonl.h"
#include "keys.h"
#include "portfolio.h"
#include "store.h"
#include "engine.h"
#include "gate.h"
#include "gate_wire.h"

static const char decide_help[] =
    "usage: tallyman decide [options] [FILE...]\n"
    "\n"
    "Reads contact requests as JSON lines (from the files, or standard input)\n"
    "and writes one decision per request as a JSON line, in the same order:\n"
    "allow, blocked_by (each blocking rule with its citation and reason),\n"
    "next_allowed_at, requires, and the hash of the script set.\n"
    "A line that is not valid JSON or misses a required field gives\n"
    "{\"line\": N, \"id\": ..., \"error\": \"...\"} and the rest goes on (exit 1).\n"
    "A rule whose check fails (a script error or a limit) blocks the contact\n"
    "(\"failed\": true, the reason naming the script and line); each such failure\n"
    "is told once on stderr, and the exit code is 1.\n"
    "\n"
    "Options:\n"
    "  --scripts DIR   the script tree with regulations/ (default: the shipped one);\n"
    "                  with --db the store's active script set decides instead, and a\n"
    "                  tree only as a draft (--scripts DIR --draft: each decision then\n"
    "                  says \"draft\": true)\n"
    "  --now TIME      the default time for requests without \"now\" (RFC 3339)\n"
    "  --summary       print a summary on stderr: allowed, blocked, blocked by rule\n"
    "  --record        also record every decision in the store (--db), with an audit\n"
    "                  record naming the rules and the script set\n";

typedef struct rule_count {
    const char *qid;  /* borrowed from the gate */
    const char *cite;
    long n;
} rule_count;

/* A rule whose check failed (a script error or a limit), told once. */
typedef struct rule_failure {
    const char *qid; /* borrowed from the gate */
    const char *cite;
    char reason[256];
    long n;
} rule_failure;

#define MAX_FAILURES 64

typedef struct decider {
    tm_gate *gate;
    int64_t default_now;
    char *out;
    size_t outcap;
    long errors, decisions, allowed, never;
    long failed;              /* decisions that involved a rule that failed */
    rule_failure failures[MAX_FAILURES];
    int nfailures;
    int summary;
    tm_store *store;          /* --record: where decisions go */
    tm_audit_writer *audit;
    long unflushed;
    int draft;                /* --draft: the set is a working tree, said in each decision */
    rule_count *counts;
    int ncounts, capcounts;
} decider;

static void count_rule(decider *dc, const tm_rule *r)
{
    for (int i = 0; i < dc->ncounts; i++) {
        if (dc->counts[i].qid == r->qid) {
            dc->counts[i].n++;
            return;
        }
    }
    if (dc->ncounts == dc->capcounts) {
        int cap = dc->capcounts ? dc->capcounts * 2 : 32;
        rule_count *q = realloc(dc->counts, (size_t)cap * sizeof *q);
        if (!q)
            return;
        dc->counts = q;
        dc->capcounts = cap;
    }
    dc->counts[dc->ncounts++] = (rule_count){r->qid, r->cite, 1};
}

/* Notes a rule that failed for this request; the same failure (rule and
 * reason) is told once, with how many requests it touched. */
static void note_failure(decider *dc, const tm_rule_result *r)
{
    for (int i = 0; i < dc->nfailures; i++) {
        if (dc->failures[i].qid == r->rule->qid && strcmp(dc->failures[i].reason, r->reason) == 0) {
            dc->failures[i].n++;
            return;
        }
    }
    if (dc->nfailures == MAX_FAILURES)
        return;
    rule_failure *f = &dc->failures[dc->nfailures++];
    f->qid = r->rule->qid;
    f->cite = r->rule->cite ? r->rule->cite : "";
    snprintf(f->reason, sizeof f->reason, "%s", r->reason);
    f->n = 1;
}

static int count_cmp(const void *a, const void *b)
{
    const rule_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->qid, y->qid);
}

/* The summary a person reads after a batch (on stderr, so stdout stays the
 * decisions). */
static void print_summary(decider *dc)
{
    long blocked = dc->decisions - dc->allowed;
    fprintf(stderr, "\n%ld requests: %ld allowed, %ld blocked (%ld of them for good), %ld refused\n",
            dc->decisions + dc->errors, dc->allowed, blocked, dc->never, dc->errors);
    if (dc->failed)
        fprintf(stderr, "%ld blocked because a rule failed (the rule's script must be fixed)\n",
                dc->failed);
    if (dc->ncounts == 0)
        return;
    qsort(dc->counts, (size_t)dc->ncounts, sizeof *dc->counts, count_cmp);
    fprintf(stderr, "blocked by rule (a request can be blocked by several):\n");
    for (int i = 0; i < dc->ncounts; i++)
        fprintf(stderr, "  %6ld  %-45s %s\n", dc->counts[i].n, dc->counts[i].qid, dc->counts[i].cite);
}

static void json_escape_to(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* A line that yields no decision: {"line": N, ("file": F,) "id": ..., "error": why}. */
static void line_error(decider *dc, long lineno, const char *file, const char *id_json,
                       const char *why)
{
    printf("{\"line\":%ld,", lineno);
    if (file) {
        fputs("\"file\":", stdout);
        json_escape_to(stdout, file);
        fputc(',', stdout);
    }
    printf("\"id\":%s,\"error\":", id_json ? id_json : "null");
    json_escape_to(stdout, why);
    fputs("}\n", stdout);
    dc->errors++;
}

static void decide_line(decider *dc, const char *line, size_t len, long lineno, const char *file)
{
    tm_request req;
    char *id_json = NULL;
    struct tm_err e = {0};
    if (tm_gate_request_parse(line, len, dc->default_now, &req, &id_json, &e) != TM_OK) {
        line_error(dc, lineno, file, id_json, e.msg);
        free(id_json);
        return;
    }
    free(id_json);
    tm_decision d;
    tm_gate_decide(dc->gate, &req, &d);
    for (;;) {
        int n = tm_gate_decision_json(dc->gate, &req, &d, dc->out, dc->outcap);
        if (n >= 0) {
            /* A draft's decisions say so, each one (CONTRACT.md, "Script sets"). */
            if (dc->draft && n > 0 && dc->out[n - 1] == '}') {
                fwrite(dc->out, 1, (size_t)n - 1, stdout);
                fputs(",\"draft\":true}\n", stdout);
                break;
            }
            fwrite(dc->out, 1, (size_t)n, stdout);
            fputc('\n', stdout);
            break;
        }
        size_t cap = dc->outcap * 2;
        char *q = realloc(dc->out, cap);
        if (!q) {
            printf("{\"line\":%ld,\"id\":%s,\"error\":\"out of memory\"}\n", lineno, req.id_json);
            dc->errors++;
            break;
        }
        dc->out = q;
        dc->outcap = cap;
    }
    if (dc->store) {
        /* The decision and its audit record: rule ids and times only, no
         * personal data. */
        char rules[2048] = "", details[2600];
        size_t n = 0;
        for (int i = 0; i < d.nblocked && n + 100 < sizeof rules; i++)
            n += (size_t)snprintf(rules + n, sizeof rules - n, "%s%s", i ? "," : "", d.blocked[i].rule->qid);
        char when[40] = "null";
        if (d.next_allowed != TM_GATE_NEVER) {
            when[0] = '"';
            tm_gate_format_time(d.next_allowed, when + 1, sizeof when - 2);
            strcat(when, "\"");
        }
        snprintf(details, sizeof details,
                 "{\"request\":%s,\"channel\":\"%s\",\"allow\":%s,\"blocked_by\":\"%s\","
                 "\"next_allowed_at\":%s,\"scripts\":\"%s\"}",
                 req.id_json, tm_gate_channel_names[req.channel], d.allow ? "true" : "false", rules, when,
                 tm_gate_scripts_hash(dc->gate));
        char subject[200];
        snprintf(subject, sizeof subject, "debt:%s", req.debt_id ? req.debt_id : "(none)");
        struct tm_err e2 = {0};
        if (tm_store_decision_add(dc->store, req.debt_id, req.now, tm_gate_channel_names[req.channel],
                                  d.allow, rules, d.next_allowed == TM_GATE_NEVER ? 0 : d.next_allowed,
                                  tm_gate_scripts_hash(dc->gate), &e2) != TM_OK ||
            tm_audit_write(dc->audit, (int64_t)time(NULL), "decide", "decision", subject, details,
                           &e2) != TM_OK) {
            fprintf(stderr, "tallyman: recording decision %s: %s\n", req.id_json, e2.msg);
            dc->errors++;
        }
        if (++dc->unflushed >= 5000) {
            if (tm_audit_writer_flush(dc->audit, &e2) != TM_OK || tm_store_commit(dc->store, &e2) != TM_OK ||
                tm_store_begin(dc->store, &e2) != TM_OK) {
                fprintf(stderr, "tallyman: %s\n", e2.msg);
                dc->errors++;
            }
            dc->unflushed = 0;
        }
    }
    dc->decisions++;
    if (d.error) {
        dc->failed++;
        for (int i = 0; i < d.nblocked; i++)
            if (d.blocked[i].failed)
                note_failure(dc, &d.blocked[i]);
    }
    if (d.allow)
        dc->allowed++;
    else if (d.next_allowed == TM_GATE_NEVER)
        dc->never++;
    if (dc->summary)
        for (int i = 0; i < d.nblocked; i++)
            count_rule(dc, d.blocked[i].rule);
    tm_gate_decision_free(&d);
    tm_gate_request_free(&req);
}

/* Decides every line of `in` (named `name` in messages; `file`, when not NULL, is named in
 * each error line too). A line too long yields an error line and the rest goes on. Returns
 * TM_OK, or TM_EIO with err "NAME: cannot read: ..." when `in` cannot be read (a directory
 * given as the file, an I/O error): such a file is not an empty one; TM_ENOMEM. */
static int decide_stream(decider *dc, FILE *in, const char *name, const char *file,
                         struct tm_err *err)
{
    tm_jsonl *rd;
    int rc = tm_jsonl_open(in, name, 0, &rd, err);
    char *line;
    size_t len;
    long lineno;
    int got;
    while (rc == TM_OK && (got = tm_jsonl_next(rd, &line, &len, &lineno, err)) != 0) {
        if (got == TM_EINVAL)
            line_error(dc, lineno, file, NULL, tm_jsonl_reason(rd));
        else if (got < 0)
            rc = got;
        else
            decide_line(dc, line, len, lineno, file);
    }
    tm_jsonl_close(rd);
    return rc;
}

int tm_cmd_decide(tm_cli *cli)
{
    int nfiles = 0;
    char **files = calloc((size_t)cli->argc, sizeof *files);
    decider dc = {0};
    dc.default_now = (int64_t)time(NULL);
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(decide_help, stdout);
            free(files);
            return TM_EXIT_OK;
        } else if (strcmp(a, "--now") == 0) {
            if (i + 1 >= cli->argc) {
                free(files);
                return tm_cli_usage_error("decide", "--now needs a time");
            }
            int32_t ns;
            int off;
            if (tm_calendar_parse_rfc3339(cli->argv[++i], &dc.default_now, &ns, &off, NULL) != TM_OK) {
                free(files);
                return tm_cli_usage_error("decide", "--now: not an RFC 3339 time: '%s'", cli->argv[i]);
            }
        } else if (strcmp(a, "--summary") == 0) {
            dc.summary = 1;
        } else if (strcmp(a, "--record") == 0) {
            dc.unflushed = -1; /* marks --record until the store is open */
        } else if (a[0] == '-' && a[1] != '\0') {
            free(files);
            return tm_cli_usage_error("decide", "unknown option '%s'", a);
        } else {
            files[nfiles++] = cli->argv[i];
        }
    }
    struct tm_err e = {0};
    /* With a store (--db, --record) what decides is its active set; without
     * one, the script tree, so a fresh checkout decides with no store. */
    tm_gen *set = NULL;
    int src = tm_engine_script_set(cli, cli->db_given || dc.unflushed == -1, &set, &dc.draft);
    if (src != TM_EXIT_OK) {
        free(files);
        return src;
    }
    tm_engine_opts eo = {.gen = set, .gate_problem = tm_cli_warn_gate_problem};
    tm_engine *eng = NULL;
    int failed_at = 0;
    int orc = tm_engine_open(&eo, TM_ENGINE_GATE | TM_ENGINE_WHOLE, &eng, &failed_at, &e);
    tm_gen_release(set);
    if (orc != TM_OK) {
        fprintf(stderr, "tallyman: cannot load the %s: %s\n",
                failed_at == TM_ENGINE_AT_SCRIPTS ? "script set" : "regulations", e.msg);
        free(files);
        return TM_EXIT_FAIL;
    }
    dc.gate = eng->gate;
    tm_keys *keys = NULL;
    if (dc.unflushed == -1) {
        uint8_t akey[32];
        if (tm_cli_open_store(cli, TM_CLI_KEYS_WRITE, &dc.store, &keys) != TM_EXIT_OK) {
            fprintf(stderr, "tallyman: --record: the decisions were not recorded\n");
            tm_engine_close(eng);
            free(files);
            return TM_EXIT_FAIL;
        }
        tm_portfolio_audit_key(keys, akey);
        if (tm_audit_writer_open(dc.store, akey, &dc.audit, &e) != TM_OK ||
            tm_store_begin(dc.store, &e) != TM_OK) {
            fprintf(stderr, "tallyman: --record: %s\n", e.msg);
            return TM_EXIT_FAIL;
        }
        dc.unflushed = 0;
    }
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    dc.outcap = 8192;
    dc.out = malloc(dc.outcap);
    int rc = TM_EXIT_OK;
    if (nfiles == 0) {
        memset(&e, 0, sizeof e);
        if (decide_stream(&dc, stdin, "standard input", NULL, &e) != TM_OK) {
            fflush(stdout);
            fprintf(stderr, "tallyman: %s\n", e.msg);
            rc = TM_EXIT_FAIL;
        }
    } else {
        for (int i = 0; i < nfiles; i++) {
            FILE *f = strcmp(files[i], "-") == 0 ? stdin : fopen(files[i], "r");
            if (!f) {
                fflush(stdout);
                fprintf(stderr, "%s: cannot open: %s\n", files[i], strerror(errno));
                rc = TM_EXIT_FAIL;
                continue;
            }
            memset(&e, 0, sizeof e);
            if (decide_stream(&dc, f, files[i], nfiles > 1 ? files[i] : NULL, &e) != TM_OK) {
                fflush(stdout);
                fprintf(stderr, "%s\n", e.msg);
                rc = TM_EXIT_FAIL;
            }
            if (f != stdin)
                fclose(f);
        }
    }
    fflush(stdout);
    if (dc.store) {
        if (tm_audit_writer_flush(dc.audit, &e) != TM_OK || tm_store_commit(dc.store, &e) != TM_OK) {
            fprintf(stderr, "tallyman: %s\n", e.msg);
            rc = TM_EXIT_FAIL;
        }
        tm_audit_writer_close(dc.audit);
        tm_store_close(dc.store);
        tm_keys_free(keys);
    }
    if (dc.summary)
        print_summary(&dc);
    /* A rule that failed blocked its contacts (the gate fails closed), but the
     * answer was not the rule's: a failure in the work, told once per rule
     * and reason. */
    for (int i = 0; i < dc.nfailures; i++) {
        const char *why = dc.failures[i].reason;
        if (strncmp(why, "rule failed: ", 13) == 0)
            why += 13;
        fprintf(stderr, "tallyman: rule %s (%s) failed for %ld request%s: %s\n", dc.failures[i].qid,
                dc.failures[i].cite, dc.failures[i].n, dc.failures[i].n == 1 ? "" : "s", why);
    }
    if (dc.errors || dc.failed)
        rc = TM_EXIT_FAIL;
    free(dc.counts);
    free(dc.out);
    tm_engine_close(eng);
    free(files);
    return rc;
}
