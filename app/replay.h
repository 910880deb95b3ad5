/*
 * app/replay.h: past gate decisions judged again (`tallyman decide
 * --replay`). Each decision the store keeps (core/gate_log.h) is decoded
 * into the request the gate saw and judged by a gate built from the very
 * generation that made it, loaded from the texts the store keeps under its
 * hash (app/jarchive.h), never from the working tree; a decision that comes
 * out differently (allowed or not, the blocking rules, the next allowed
 * time) is reported. It is the proof that a past decision can be
 * reproduced exactly, and a check that a stored decision was not changed.
 */
#ifndef TM_REPLAY_H
#define TM_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "store.h"
#include "tm_status.h"

typedef struct tm_replay_opts {
    const char *debt_id;  /* only this debt's decisions (NULL: all) */
    int64_t from, to;     /* decision ids, inclusive (0: no bound) */
    int verbose;          /* also a line for each decision that came out the same */
} tm_replay_opts;

typedef struct tm_replay_stats {
    long replayed, same, different;
    long unreadable;      /* the request could not be decoded, or its generation is not kept */
    int generations;      /* generations loaded */
} tm_replay_stats;

/* Judges again every kept decision `o` selects, in id order, and writes to
 * `out` one line for each that came out differently or could not be judged
 * ("decision N (debt D, call at T): recorded ...; now ..."), then the
 * totals. TM_OK when the decisions could be read (whatever they came out
 * as: see *st); TM_ENOENT when o->debt_id is not in the store; TM_ESTORE,
 * TM_ENOMEM. */
int tm_replay_run(tm_store *s, const tm_replay_opts *o, FILE *out, tm_replay_stats *st,
                  struct tm_err *err);

#endif
