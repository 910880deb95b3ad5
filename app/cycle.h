/*
 * app/cycle.h: the daily cycle. One run works one day (UTC) of a portfolio:
 *
 *   0. promises past their due date and grace judged kept or broken (a
 *      broken one becomes a broken_promise event);
 *   1. events applied since the last run, in order, to each debt's journey;
 *   2. debts without a journey: segmentation, then the start state;
 *   3. journey timers that come due during the day;
 *   4. every contact planned for the day through the compliance gate at its
 *      planned time: allowed ones become ready (and count as contacts),
 *      blocked ones go back to the journey (reschedule, switch, skip);
 *   5. ready messages dispatched through the channel adapter.
 *
 * Each debt's step is written in one transaction with its audit record and
 * the cursor it consumed, and every outbox row has an idempotency key made
 * from the debt, its step counter and the action, so a crash at any point
 * followed by a rerun of the same day sends nothing twice and loses nothing.
 * The store is used from the caller's thread only. Journey steps, gate
 * decisions and renders run on worker threads when the caller gives engines
 * (one sandbox with its gate and journeys per worker, all loaded from the
 * same script generation): the caller's thread reads the next chunk of
 * debts and writes the last one while the workers work this one. Without
 * engines everything runs on the caller's thread.
 */
#ifndef TM_CYCLE_H
#define TM_CYCLE_H

#include <stdint.h>
#include <stdio.h>

#include "dispatch.h"
#include "gate.h"
#include "keys.h"
#include "lease.h"
#include "lb_journey.h"
#include "sandbox.h"
#include "scriptset.h"
#include "store.h"
#include "tm_status.h"

#define TM_CYCLE_MAX_RULES 64
#define TM_CYCLE_MAX_CHANNELS 8
#define TM_CYCLE_MAX_FAILURES 16
#define TM_CYCLE_MAX_STOPPED 8

typedef struct tm_cycle_stats {
    long events, events_ignored, started, unassigned, timers, step_errors;
    long unstarted;                      /* new debts a script error or limit kept from
                                          * starting: in no journey too, parked */
    long promises_broken, promises_kept; /* judged after their due date and grace */
    long handoffs;                       /* debts handed from one journey to be segmented again */
    long queued;                         /* debts handed to an agent queue */
    int receiver_refused;                /* the webhook's certificate did not verify */
    long planned, allowed, blocked, rescheduled, skipped;
    long rule_failures;                  /* contacts blocked because a rule's check failed
                                          * (not counted in `blocked`) */
    struct {
        char what[400];                  /* "US-XX/rule (cite): file:line: message" */
        long count;
    } failures[TM_CYCLE_MAX_FAILURES];   /* each distinct rule failure once */
    int nfailures;
    long limit_hits;                     /* script calls that ended on a limit */
    struct {
        char journey[64];
        char what[400];                  /* the limit, with the script's file and line */
        long hits;                       /* steps that ran into it */
        long parked;                     /* debts parked at once, without running it */
    } stopped[TM_CYCLE_MAX_STOPPED];     /* journeys stopped for the rest of the run */
    int nstopped;
    long no_contact;                     /* contacts with no usable contact point: not
                                          * sent, handed back to the journey as blocked */
    struct {
        char from[16], to[16];
        long count;
    } moved[TM_CYCLE_MAX_CHANNELS * 2];  /* sends a journey moved to another channel
                                          * after the first was refused */
    int nmoved;
    long sent, duplicates, retry, failed, render_failed;
    struct {
        char channel[16];
        long sent;
    } by_channel[TM_CYCLE_MAX_CHANNELS];
    int nchannels;
    struct {
        char rule[96];
        long count;
    } by_rule[TM_CYCLE_MAX_RULES];
    int nrules;
    double seconds[5]; /* wall time of each phase: events, starts, timers, gate, dispatch */
} tm_cycle_stats;

/* What one worker runs scripts with; all three belong to the caller and are
 * used by one thread at a time. */
typedef struct tm_cycle_engine {
    tm_sandbox *sb;
    tm_gate *gate;
    tm_journeys *js;
} tm_cycle_engine;

typedef struct tm_cycle_opts {
    int64_t day;        /* days since 1970-01-01 (UTC) */
    int batch;          /* debts per transaction; default 500 */
    const uint8_t *audit_key; /* TM_AUDIT_KEY_LEN bytes */
    void (*report)(void *ud, const char *message); /* per-debt problems; may be NULL */
    void *report_ud;
    void (*progress)(void *ud, const char *phase, long done, long total); /* may be NULL */
    void *progress_ud;
    const tm_cycle_engine *engines; /* one worker thread each; NULL: the caller's thread */
    int nengines;                   /* 0..64 */
    tm_lease_hold *lease; /* renewed in every transaction (lease.h); NULL: none (a copy) */
    const char *key_path; /* read again when a record names a key version newer than `keys`
                           * has (rotated during the run); NULL: never */
} tm_cycle_opts;

/* Runs the cycle for opts->day. `sb`, `gate` and `js` work the day's events
 * on the caller's thread (and everything else when opts->nengines is 0);
 * they may be engines[0], which is never in use at the same time. Allowed contacts are rendered with the
 * script tree's channel templates (lib/render.lua in `sb`, the sandbox the
 * gate and journeys live in) from the consumer's personal data, decrypted
 * with `keys` for the render only; the rendered message is stored encrypted
 * and decrypted again to dispatch. `out` may be NULL: ready messages then stay
 * ready. A problem with one debt (a script error, a limit) is reported and
 * the rest carry on; TM_OK unless the store failed (TM_ESTORE, TM_ENOMEM)
 * or opts->lease was taken over (TM_EBUSY), and then the current batch was
 * rolled back. A journey whose script hits a limit is stopped for the rest
 * of the run (lb_journey.h, tm_jbench): the debts that would run it are
 * parked at once with the same message, and stats->stopped says which
 * journeys and how many. */
int tm_cycle_run(tm_store *s, const tm_keys *keys, tm_sandbox *sb, tm_gate *gate, tm_journeys *js,
                 tm_adapter *out, const tm_cycle_opts *opts, tm_cycle_stats *stats,
                 struct tm_err *err);

/* Adds a day's figures to a running total (`unassigned` and `unstarted` are
 * the day's). */
void tm_cycle_stats_add(tm_cycle_stats *total, const tm_cycle_stats *day);

/* `n` engines for the workers: engines[0] is `first` (the caller's, still
 * owned by the caller), the others are new sandboxes with their gate and
 * journeys from `gen` (the generation `first` was made from; the caller
 * keeps its reference). *out (*nout engines) is freed with
 * tm_cycle_engines_free, which leaves engines[0] alone. n <= 0 gives none.
 * TM_ENOMEM, or the load error naming the worker (nothing is left). */
int tm_cycle_engines_load(tm_gen *gen, const tm_cycle_engine *first, int n, tm_cycle_engine **out,
                          int *nout, struct tm_err *err);
void tm_cycle_engines_free(tm_cycle_engine *engines, int n);

/* Prints the day's figures. */
void tm_cycle_print(FILE *f, const tm_cycle_stats *st);

/* The order to list st->by_rule in: the rule that blocked most first, ties
 * by rule id, so lists read the same from run to run. order[0..nrules). */
void tm_cycle_rules_order(const tm_cycle_stats *st, int order[TM_CYCLE_MAX_RULES]);

#endif
