/*
 * app/cmd_decide.c: `tallyman decide` (CONTRACT.md): contact requests in,
 * one decision per request out, as JSON lines, in the same order.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "calendar.h"
#include "cli.h"
#include "jsonl.h"
#include "jw.h"
#include "keys.h"
#include "portfolio.h"
#include "store.h"
#include "engine.h"
#include "explain.h"
#include "gate.h"
#include "gate_log.h"
#include "gate_wire.h"
#include "jarchive.h"
#include "replay.h"

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
    "  --explain       instead of decision lines, explain each decision as text: every\n"
    "                  regulation that applies and why, each rule's verdict (allowed,\n"
    "                  blocked with its reason and next time, not applicable and why),\n"
    "                  what the message must carry, the regulations that do not apply\n"
    "  --json          with --explain: one JSON object a request, the decision's\n"
    "                  members plus \"generation\" and \"regulations\"\n"
    "  --threads N     judge with N worker threads (1 to 64, default 1), the decisions\n"
    "                  written in the requests' order all the same; not with --explain\n"
    "                  or --record\n"
    "  --record        also keep every decision in the store (--db) with the request\n"
    "                  fields it was judged on and the script set, bound into the\n"
    "                  audit chain\n"
    "\n"
    "tallyman decide --replay [--debt DEBT_ID] [--from N] [--to N] [--verbose]\n"
    "  judges again the decisions the store (--db) keeps, the cycle's and --record's,\n"
    "  each with the script set that made it (its texts kept in the store, never the\n"
    "  working tree), and names every one that comes out differently. Exit 1 when\n"
    "  any does or cannot be judged. --debt: one debt's; --from/--to: decision ids;\n"
    "  --verbose: a line for each decision, the same ones too.\n";

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
    long first;      /* the ordinal of the first line it failed for (the order told) */
} rule_failure;

#define MAX_FAILURES 64

typedef struct decider {
    tm_gate *gate;
    int64_t default_now;
    tm_buf out;               /* the line being written, kept from line to line */
    long errors, decisions, allowed, never;
    long failed;              /* decisions that involved a rule that failed */
    rule_failure failures[MAX_FAILURES];
    int nfailures;
    int summary;
    int explain;              /* 1: --explain as text; 2: --explain --json */
    const char *root;         /* the script tree, to name regulations' scripts by */
    tm_store *store;          /* --record: where decisions go */
    tm_audit_writer *audit;
    tm_gate_log *glog;
    long unflushed;
    int draft;                /* --draft: the set is a working tree, said in each decision */
    rule_count *counts;
    int ncounts, capcounts;
    tm_buf *sink;             /* --threads: where lines go (a batch's output), else stdout */
    long ordinal;             /* the line being judged, counted over every file */
} decider;

/* Adds `n` blocks to rule `qid`'s count. */
static void add_count(decider *dc, const char *qid, const char *cite, long n)
{
    for (int i = 0; i < dc->ncounts; i++) {
        /* By name: with --threads each worker's gate has its own rules. */
        if (dc->counts[i].qid == qid || strcmp(dc->counts[i].qid, qid) == 0) {
            dc->counts[i].n += n;
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
    dc->counts[dc->ncounts++] = (rule_count){qid, cite, n};
}

static void count_rule(decider *dc, const tm_rule *r)
{
    add_count(dc, r->qid, r->cite, 1);
}

/* Notes a rule that failed for this request; the same failure (rule and
 * reason) is told once, with how many requests it touched. */
static void note_failure(decider *dc, const tm_rule_result *r)
{
    for (int i = 0; i < dc->nfailures; i++) {
        if (strcmp(dc->failures[i].qid, r->rule->qid) == 0 && strcmp(dc->failures[i].reason, r->reason) == 0) {
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
    f->first = dc->ordinal;
}

/* --record: seals the decisions kept since the last commit into the audit
 * chain (stamped with the time they were recorded) and commits them. */
static int record_commit(decider *dc, struct tm_err *err)
{
    int rc = tm_gate_log_seal(dc->glog, dc->audit, (int64_t)time(NULL), "decide", "decide", err);
    if (rc == TM_OK)
        rc = tm_audit_writer_flush(dc->audit, err);
    if (rc == TM_OK)
        rc = tm_store_commit(dc->store, err);
    if (rc != TM_OK) {
        tm_store_rollback(dc->store);
        tm_audit_writer_reset(dc->audit);
        tm_gate_log_reset(dc->glog);
        return rc;
    }
    dc->unflushed = 0;
    return tm_store_begin(dc->store, err);
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

/* Writes the line in dc->out; when it could not be written whole for want of memory, a
 * short line saying so instead (from the buffer's memory, or a fixed array). */
static void put_line(decider *dc, long lineno, const char *id_json)
{
    if (!tm_buf_failed(&dc->out)) {
        if (dc->sink)
            tm_buf_put(dc->sink, dc->out.data, dc->out.len);
        else
            fwrite(dc->out.data, 1, dc->out.len, stdout);
        return;
    }
    char small[128];
    tm_buf *b = &dc->out;
    tm_buf fixed;
    for (int round = 0; round < 2; round++) {
        tm_buf_reset(b);
        tm_jw w;
        tm_jw_init(&w, b, 0);
        tm_jw_obj(&w);
        tm_jw_key(&w, "line");
        tm_jw_int(&w, lineno);
        tm_jw_key(&w, "id");
        tm_jw_raw(&w, id_json && round == 0 ? id_json : "null");
        tm_jw_key(&w, "error");
        tm_jw_str(&w, "out of memory");
        tm_jw_obj_end(&w);
        tm_buf_putc(b, '\n');
        if (!tm_buf_failed(b))
            break;
        tm_buf_fixed(&fixed, small, sizeof small);
        b = &fixed;
    }
    if (dc->sink)
        tm_buf_put(dc->sink, b->data, b->len);
    else
        fwrite(b->data, 1, b->len, stdout);
}

/* A line that yields no decision: {"line": N, ("file": F,) "id": ..., "error": why}. */
static void line_error(decider *dc, long lineno, const char *file, const char *id_json,
                       const char *why)
{
    if (dc->explain == 1) {
        /* Explanations are text: the error is told as text too, in its place. */
        printf("%s%sline %ld: request %s: %s\n\n", file ? file : "", file ? ": " : "", lineno,
               id_json ? id_json : "(no id)", why);
        dc->errors++;
        return;
    }
    tm_buf_reset(&dc->out);
    tm_jw w;
    tm_jw_init(&w, &dc->out, 0);
    tm_jw_obj(&w);
    tm_jw_key(&w, "line");
    tm_jw_int(&w, lineno);
    if (file) {
        tm_jw_key(&w, "file");
        tm_jw_str(&w, file);
    }
    tm_jw_key(&w, "id");
    tm_jw_raw(&w, id_json ? id_json : "null");
    tm_jw_key(&w, "error");
    tm_jw_str(&w, why);
    tm_jw_obj_end(&w);
    tm_buf_putc(&dc->out, '\n');
    put_line(dc, lineno, id_json);
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
    if (dc->explain) {
        tm_explain x;
        if (tm_gate_explain(dc->gate, &req, &x) != TM_OK) {
            line_error(dc, lineno, file, req.id_json, "out of memory explaining the decision");
            tm_gate_request_free(&req);
            return;
        }
        if (dc->explain == 1) {
            tm_explain_text(stdout, dc->gate, dc->root, &req, &x);
            fputc('\n', stdout);
        } else {
            json_t *j = tm_explain_json(dc->gate, dc->root, &req, &x);
            char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
            json_decref(j);
            if (text) {
                fputs(text, stdout);
                fputc('\n', stdout);
                free(text);
            } else {
                line_error(dc, lineno, file, req.id_json, "out of memory explaining the decision");
            }
        }
        d = x.d; /* the decision goes on to be recorded and counted */
        memset(&x.d, 0, sizeof x.d);
        tm_gate_explain_free(&x);
    } else {
        tm_gate_decide(dc->gate, &req, &d);
    }
    if (!dc->explain) {
        tm_buf_reset(&dc->out);
        tm_jw w;
        tm_jw_init(&w, &dc->out, 0);
        tm_gate_decision_write(dc->gate, &req, &d, &w);
        /* A draft's decisions say so, each one (CONTRACT.md, "Script sets"). */
        if (dc->draft && dc->out.len && dc->out.data[dc->out.len - 1] == '}') {
            dc->out.len--;
            tm_buf_puts(&dc->out, ",\"draft\":true}");
        }
        tm_buf_putc(&dc->out, '\n');
        if (tm_buf_failed(&dc->out))
            dc->errors++;
        put_line(dc, lineno, req.id_json);
    }
    if (dc->store) {
        /* The decision with what it was judged on (core/gate_log.h); each
         * batch is bound into the audit chain as it commits. */
        char rules[2048] = "";
        size_t n = 0;
        for (int i = 0; i < d.nblocked && n + 100 < sizeof rules; i++)
            n += (size_t)snprintf(rules + n, sizeof rules - n, "%s%s", i ? "," : "", d.blocked[i].rule->qid);
        struct tm_err e2 = {0};
        if (tm_gate_log_add(dc->glog, 0, &req, d.allow, rules, d.next_allowed,
                            tm_gate_scripts_hash(dc->gate), NULL, &e2) != TM_OK) {
            fprintf(stderr, "tallyman: recording decision %s: %s\n", req.id_json, e2.msg);
            dc->errors++;
        }
        if (++dc->unflushed >= 5000 && record_commit(dc, &e2) != TM_OK) {
            fprintf(stderr, "tallyman: %s\n", e2.msg);
            dc->errors++;
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
        dc->ordinal++;
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

/* ---------------------------------------------------------------------------
 * --threads: the reading thread cuts the input into batches of lines;
 * workers, each with its own engine (sandbox and gate), judge whole
 * batches into the batch's own output; the reading thread writes the
 * batches out in the order it read them. A ring of batches bounds the
 * memory whatever the input's size.
 */
#define BATCH_LINES 2048
#define BATCH_BYTES (1u << 20)

enum { B_FREE, B_READY, B_BUSY, B_DONE };

typedef struct batch {
    tm_buf text;           /* the lines, each NUL-terminated */
    size_t off[BATCH_LINES], len[BATCH_LINES];
    long lineno[BATCH_LINES];
    char *refused[BATCH_LINES]; /* the reader's reason for a line it could not give, or NULL */
    int n;
    const char *file;
    long first;            /* the ordinal of its first line */
    tm_buf out;
    int state;
} batch;

typedef struct worker {
    decider dc;
    tm_engine *eng;        /* NULL for the first worker, which uses the command's */
    pthread_t th;
    int started;
    struct pool *pool;
} worker;

typedef struct pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;     /* any batch's state changed, or stop */
    batch *b;
    int nb;
    long filled, written;  /* batches handed to the workers, and written out */
    long lost;             /* lines whose decision could not be kept for want of memory */
    int stop;
    worker *w;
    int nw;
} pool;

static void *worker_main(void *arg)
{
    worker *w = arg;
    pool *p = w->pool;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        batch *b = NULL;
        for (long k = p->written; k < p->filled && !b; k++)
            if (p->b[k % p->nb].state == B_READY)
                b = &p->b[k % p->nb];
        if (!b) {
            if (p->stop)
                break;
            pthread_cond_wait(&p->cv, &p->mu);
            continue;
        }
        b->state = B_BUSY;
        pthread_mutex_unlock(&p->mu);
        tm_buf_reset(&b->out);
        w->dc.sink = &b->out;
        for (int i = 0; i < b->n; i++) {
            w->dc.ordinal = b->first + i;
            if (b->refused[i])
                line_error(&w->dc, b->lineno[i], b->file, NULL, b->refused[i]);
            else
                decide_line(&w->dc, b->text.data + b->off[i], b->len[i], b->lineno[i], b->file);
        }
        pthread_mutex_lock(&p->mu);
        b->state = B_DONE;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Writes out every batch that is done, in order; with `wait`, waits for
 * the oldest one first. Called with the lock held. */
static void pool_write(pool *p, int wait)
{
    while (p->written < p->filled) {
        batch *b = &p->b[p->written % p->nb];
        if (b->state != B_DONE) {
            if (!wait)
                return;
            pthread_cond_wait(&p->cv, &p->mu);
            continue;
        }
        if (tm_buf_failed(&b->out)) {
            /* A batch's output that could not grow: each of its lines gets
             * an error line in its place, and counts as an error. */
            for (int i = 0; i < b->n; i++) {
                char small[600];
                tm_buf o;
                tm_buf_fixed(&o, small, sizeof small);
                tm_jw w;
                tm_jw_init(&w, &o, 0);
                tm_jw_obj(&w);
                tm_jw_key(&w, "line");
                tm_jw_int(&w, b->lineno[i]);
                if (b->file) {
                    tm_jw_key(&w, "file");
                    tm_jw_str(&w, b->file);
                }
                tm_jw_key(&w, "id");
                tm_jw_null(&w);
                tm_jw_key(&w, "error");
                tm_jw_str(&w, "out of memory writing the decision");
                tm_jw_obj_end(&w);
                if (tm_buf_failed(&o))
                    fprintf(stdout, "{\"line\":%ld,\"id\":null,\"error\":\"out of memory writing the decision\"}", b->lineno[i]);
                else
                    fwrite(o.data, 1, o.len, stdout);
                fputc('\n', stdout);
            }
            p->lost += b->n;
        } else {
            fwrite(b->out.data, 1, b->out.len, stdout);
        }
        for (int i = 0; i < b->n; i++)
            free(b->refused[i]);
        b->n = 0;
        b->state = B_FREE;
        p->written++;
        wait = 0;
    }
}

/* Hands the batch being filled to the workers. */
static void pool_submit(pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->b[p->filled % p->nb].state = B_READY;
    p->filled++;
    pthread_cond_broadcast(&p->cv);
    pool_write(p, 0);
    /* The next batch to fill must be free: write out the oldest until it is. */
    while (p->b[p->filled % p->nb].state != B_FREE)
        pool_write(p, 1);
    pthread_mutex_unlock(&p->mu);
}

/* Waits until every batch handed over is written out. */
static void pool_drain(pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->written < p->filled)
        pool_write(p, 1);
    pthread_mutex_unlock(&p->mu);
    fflush(stdout);
}

/* decide_stream with the pool. */
static int decide_stream_mt(pool *p, long *ordinal, FILE *in, const char *name, const char *file,
                            struct tm_err *err)
{
    tm_jsonl *rd;
    int rc = tm_jsonl_open(in, name, 0, &rd, err);
    char *line;
    size_t len;
    long lineno;
    int got;
    batch *b = &p->b[p->filled % p->nb];
    tm_buf_reset(&b->text);
    b->n = 0;
    b->file = file;
    b->first = *ordinal + 1;
    while (rc == TM_OK && (got = tm_jsonl_next(rd, &line, &len, &lineno, err)) != 0) {
        if (got < 0 && got != TM_EINVAL) {
            rc = got;
            break;
        }
        (*ordinal)++;
        b->lineno[b->n] = lineno;
        b->off[b->n] = b->text.len;
        b->len[b->n] = got == TM_EINVAL ? 0 : len;
        b->refused[b->n] = NULL;
        if (got == TM_EINVAL) {
            b->refused[b->n] = strdup(tm_jsonl_reason(rd));
            if (!b->refused[b->n]) {
                rc = tm_err_set(err, TM_ENOMEM, "%s: out of memory", name);
                break;
            }
        } else {
            tm_buf_put(&b->text, line, len);
        }
        tm_buf_putc(&b->text, '\0');
        if (tm_buf_failed(&b->text)) {
            rc = tm_err_set(err, TM_ENOMEM, "%s: out of memory", name);
            break;
        }
        b->n++;
        if (b->n == BATCH_LINES || b->text.len >= BATCH_BYTES) {
            pool_submit(p);
            b = &p->b[p->filled % p->nb];
            tm_buf_reset(&b->text);
            b->n = 0;
            b->file = file;
            b->first = *ordinal + 1;
        }
    }
    if (b->n)
        pool_submit(p);
    tm_jsonl_close(rd);
    pool_drain(p);
    return rc;
}

/* Starts `n` workers judging like `dc`, the first with the command's
 * engine, the others each with an engine of their own on the same script
 * set. TM_OK, or an error with `err` (the pool then holds nothing). */
static int pool_start(pool *p, int n, const decider *dc, tm_engine *eng, struct tm_err *err)
{
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->nb = 2 * n + 2;
    p->b = calloc((size_t)p->nb, sizeof *p->b);
    p->w = calloc((size_t)n, sizeof *p->w);
    if (!p->b || !p->w)
        return tm_err_set(err, TM_ENOMEM, "out of memory starting the workers");
    for (int i = 0; i < n; i++) {
        worker *w = &p->w[i];
        w->pool = p;
        w->dc = *dc;
        memset(&w->dc.out, 0, sizeof w->dc.out);
        w->dc.counts = NULL;
        w->dc.ncounts = w->dc.capcounts = 0;
        if (i > 0) {
            /* Its own sandbox and gate: a gate's check functions run in its sandbox. */
            tm_engine_opts eo = {.gen = eng->gen};
            int rc = tm_engine_open(&eo, TM_ENGINE_GATE | TM_ENGINE_WHOLE, &w->eng, NULL, err);
            if (rc != TM_OK)
                return rc;
            w->dc.gate = w->eng->gate;
        }
        p->nw = i + 1;
    }
    for (int i = 0; i < n; i++) {
        if (pthread_create(&p->w[i].th, NULL, worker_main, &p->w[i]) != 0)
            return tm_err_set(err, TM_EIO, "cannot start worker thread %d", i + 1);
        p->w[i].started = 1;
    }
    return TM_OK;
}

/* Stops the workers and adds what they counted to `dc` (failures in the
 * order of the lines they first failed for). The engines stay open: the
 * failures name their rules. */
static void pool_stop(pool *p, decider *dc)
{
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nw; i++) {
        worker *w = &p->w[i];
        if (w->started)
            pthread_join(w->th, NULL);
        w->started = 0;
        decider *x = &w->dc;
        if (i == 0)
            dc->errors += p->lost;
        dc->errors += x->errors;
        dc->decisions += x->decisions;
        dc->allowed += x->allowed;
        dc->never += x->never;
        dc->failed += x->failed;
        for (int k = 0; k < x->nfailures; k++) {
            rule_failure *f = &x->failures[k];
            int j = 0;
            while (j < dc->nfailures && (strcmp(dc->failures[j].qid, f->qid) != 0 ||
                                         strcmp(dc->failures[j].reason, f->reason) != 0))
                j++;
            if (j < dc->nfailures) {
                dc->failures[j].n += f->n;
                if (f->first < dc->failures[j].first)
                    dc->failures[j].first = f->first;
            } else if (dc->nfailures < MAX_FAILURES) {
                dc->failures[dc->nfailures++] = *f;
            }
        }
        for (int k = 0; k < x->ncounts; k++)
            add_count(dc, x->counts[k].qid, x->counts[k].cite, x->counts[k].n);
    }
    /* Told in the order they first happened, as one thread tells them. */
    for (int i = 1; i < dc->nfailures; i++)
        for (int j = i; j > 0 && dc->failures[j].first < dc->failures[j - 1].first; j--) {
            rule_failure t = dc->failures[j];
            dc->failures[j] = dc->failures[j - 1];
            dc->failures[j - 1] = t;
        }
}

static void pool_free(pool *p)
{
    for (int i = 0; i < p->nw; i++) {
        tm_buf_free(&p->w[i].dc.out);
        free(p->w[i].dc.counts);
        tm_engine_close(p->w[i].eng);
    }
    for (int i = 0; p->b && i < p->nb; i++) {
        tm_buf_free(&p->b[i].text);
        tm_buf_free(&p->b[i].out);
        for (int k = 0; k < p->b[i].n; k++)
            free(p->b[i].refused[k]);
    }
    free(p->b);
    free(p->w);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
}

/* `decide --replay`: the arguments after "--replay". */
static int replay_cmd(tm_cli *cli, int first)
{
    tm_replay_opts o = {0};
    for (int i = first; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        uint64_t v = 0;
        if (strcmp(a, "--verbose") == 0) {
            o.verbose = 1;
        } else if (strcmp(a, "--debt") == 0 || strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0) {
            if (i + 1 >= cli->argc)
                return tm_cli_usage_error("decide", "%s needs a value", a);
            const char *val = cli->argv[++i];
            if (a[2] == 'd') {
                o.debt_id = val;
            } else if (tm_cli_parse_u64(val, INT64_MAX, &v) != 0 || v == 0) {
                return tm_cli_usage_error("decide", "%s: not a decision id (a whole number from 1): '%s'", a, val);
            } else if (a[2] == 'f') {
                o.from = (int64_t)v;
            } else {
                o.to = (int64_t)v;
            }
        } else if (strcmp(a, "--replay") != 0) {
            return tm_cli_usage_error("decide", "--replay takes --debt, --from, --to and --verbose, not '%s'", a);
        }
    }
    if (!tm_cli_store_exists(cli, "tallyman run or decide --record"))
        return TM_EXIT_FAIL;
    tm_store *s = NULL;
    tm_keys *keys = NULL;
    if (tm_cli_open_store(cli, TM_CLI_KEYS_READ, &s, &keys) != TM_EXIT_OK)
        return TM_EXIT_FAIL;
    tm_replay_stats st;
    struct tm_err e = {0};
    int rc = tm_replay_run(s, &o, stdout, &st, &e);
    fflush(stdout);
    tm_store_close(s);
    tm_keys_free(keys);
    if (rc != TM_OK) {
        fprintf(stderr, "tallyman: decide --replay: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    return st.different || st.unreadable ? TM_EXIT_FAIL : TM_EXIT_OK;
}

int tm_cmd_decide(tm_cli *cli)
{
    for (int i = 1; i < cli->argc; i++)
        if (strcmp(cli->argv[i], "--replay") == 0)
            return replay_cmd(cli, 1);
    int nfiles = 0;
    char **files = calloc((size_t)cli->argc, sizeof *files);
    decider dc = {0};
    int json_out = 0;
    int threads = 1;
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
        } else if (strcmp(a, "--threads") == 0) {
            uint64_t v = 0;
            if (i + 1 >= cli->argc || tm_cli_parse_u64(cli->argv[i + 1], 64, &v) != 0 || v == 0) {
                free(files);
                return tm_cli_usage_error("decide", "--threads needs a number from 1 to 64%s%s%s",
                                          i + 1 < cli->argc ? ", not '" : "",
                                          i + 1 < cli->argc ? cli->argv[i + 1] : "",
                                          i + 1 < cli->argc ? "'" : "");
            }
            threads = (int)v;
            i++;
        } else if (strcmp(a, "--summary") == 0) {
            dc.summary = 1;
        } else if (strcmp(a, "--explain") == 0) {
            dc.explain = dc.explain ? dc.explain : 1;
        } else if (strcmp(a, "--json") == 0) {
            json_out = 1;
        } else if (strcmp(a, "--record") == 0) {
            dc.unflushed = -1; /* marks --record until the store is open */
        } else if (a[0] == '-' && a[1] != '\0') {
            free(files);
            return tm_cli_usage_error("decide", "unknown option '%s'", a);
        } else {
            files[nfiles++] = cli->argv[i];
        }
    }
    if (json_out && !dc.explain) {
        free(files);
        return tm_cli_usage_error("decide", "--json goes with --explain (decisions are JSON already)");
    }
    if (json_out)
        dc.explain = 2;
    if (threads > 1 && (dc.explain || dc.unflushed == -1)) {
        free(files);
        return tm_cli_usage_error("decide", "--threads goes without --explain and --record");
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
    dc.root = eng->gen ? tm_gen_root(eng->gen) : NULL;
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
        /* The generation's texts are kept with the decisions, so they can
         * be judged again by the very rules that made them (--replay). */
        if (tm_audit_writer_open(dc.store, akey, &dc.audit, &e) != TM_OK ||
            tm_gate_log_open(dc.store, &dc.glog, &e) != TM_OK || tm_store_begin(dc.store, &e) != TM_OK ||
            (eng->gen && tm_jarchive_keep_gen(dc.store, eng->gen, dc.audit, (int64_t)time(NULL), "decide", &e) != TM_OK)) {
            fprintf(stderr, "tallyman: --record: %s\n", e.msg);
            tm_gate_log_close(dc.glog);
            tm_audit_writer_close(dc.audit);
            tm_store_close(dc.store);
            tm_keys_free(keys);
            tm_engine_close(eng);
            free(files);
            return TM_EXIT_FAIL;
        }
        dc.unflushed = 0;
    }
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    int rc = TM_EXIT_OK;
    pool pl, *mt = NULL;
    long ordinal = 0;
    if (threads > 1) {
        memset(&e, 0, sizeof e);
        mt = &pl;
        if (pool_start(mt, threads, &dc, eng, &e) != TM_OK) {
            fprintf(stderr, "tallyman: --threads: %s\n", e.msg);
            pool_stop(mt, &dc);
            pool_free(mt);
            free(dc.counts);
            tm_buf_free(&dc.out);
            tm_engine_close(eng);
            free(files);
            return TM_EXIT_FAIL;
        }
    }
#define DECIDE_STREAM(f, name, file, err)                                                          \
    (mt ? decide_stream_mt(mt, &ordinal, f, name, file, err) : decide_stream(&dc, f, name, file, err))
    if (nfiles == 0) {
        memset(&e, 0, sizeof e);
        if (DECIDE_STREAM(stdin, "standard input", NULL, &e) != TM_OK) {
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
            if (DECIDE_STREAM(f, files[i], nfiles > 1 ? files[i] : NULL, &e) != TM_OK) {
                fflush(stdout);
                fprintf(stderr, "%s\n", e.msg);
                rc = TM_EXIT_FAIL;
            }
            if (f != stdin)
                fclose(f);
        }
    }
#undef DECIDE_STREAM
    fflush(stdout);
    if (mt)
        pool_stop(mt, &dc); /* its counts join the command's */
    if (dc.store) {
        if (record_commit(&dc, &e) != TM_OK) {
            fprintf(stderr, "tallyman: %s\n", e.msg);
            rc = TM_EXIT_FAIL;
        } else {
            tm_store_rollback(dc.store); /* the empty transaction record_commit began */
        }
        tm_gate_log_close(dc.glog);
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
    if (mt)
        pool_free(mt); /* after the failures were told: they name its rules */
    free(dc.counts);
    tm_buf_free(&dc.out);
    tm_engine_close(eng);
    free(files);
    return rc;
}
