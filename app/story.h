/*
 * app/story.h: a debt's story in time order, from what the store keeps: the
 * journey's steps (audit log), the contacts planned, each gate verdict with
 * its rules and generation (the decision log), the messages sent or failed,
 * events, payments, promises and agent work. Each entry is a line a person
 * reads and a JSON object with the same facts. No personal data: ids, times,
 * rules and amounts. `tallyman why` prints it; the service's GET
 * /v1/debts/{id}/story answers it.
 */
#ifndef TM_STORY_H
#define TM_STORY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gate_log.h"
#include "store.h"

/* One entry of the story. */
typedef struct tm_story_entry {
    int64_t at;
    int order;   /* among entries at the same instant: the order things happen */
    long seq;    /* then the order read */
    json_t *obj; /* {"kind", ..., "at": RFC 3339} */
    char *text;  /* the line a person reads, without the time */
} tm_story_entry;

typedef struct tm_story {
    tm_debt_rec debt;    /* the debt told of */
    tm_story_entry *v;   /* in time order */
    size_t n, cap;
    int oom;
    tm_gate_names *names;
} tm_story;

/* Builds the story of debt `debt_id` from store `st` into *s. TM_OK with
 * *found 0 (nothing to free) when there is no such debt, or 1 with *s filled
 * (the caller frees with tm_story_free); TM_ENOMEM or a store error (err
 * says why; *s is then empty). */
int tm_story_build(tm_store *st, const char *debt_id, tm_story *s, int *found, struct tm_err *err);

/* The story's first line as JSON (a new reference, NULL when out of memory):
 * {"kind": "debt", "debt", "creditor", "balance_minor", "placed_minor",
 * "currency"}. */
json_t *tm_story_head(const tm_story *s);

/* Frees what *s holds and empties it. */
void tm_story_free(tm_story *s);

/* A time as the story writes it (tm_gate_format_time). */
void tm_story_when(int64_t t, char out[40]);

/* An amount as the story writes it ("1,234.56 USD"). */
void tm_story_money(int64_t minor, const char *cur, char out[40]);

#endif
