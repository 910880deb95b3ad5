/*
 * app/jarchive.h: the journey archive between the store and the loaded
 * journeys (sandbox/lb_journey.h, "Versions"): keeps the text of every loaded
 * journey in the store before any debt runs on it, and reads the kept texts
 * back into memory so a debt still on an old one can run it.
 * The daily cycle (app/cycle.c) uses these three; nothing here runs Lua.
 */
#ifndef TM_JARCHIVE_H
#define TM_JARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "lb_journey.h"
#include "scriptset.h"
#include "store.h"
#include "tm_status.h"

/* Keeps the text of each journey in `js` under its SHA-256 (a text kept
 * before is left alone) and appends one "journey.archived" audit record, at
 * `now`, for each text seen for the first time. Call inside a transaction
 * that `audit` writes in. TM_OK, TM_ESTORE, TM_ENOMEM. */
int tm_jarchive_keep(tm_store *s, const tm_journeys *js, tm_audit_writer *audit, int64_t now,
                     struct tm_err *err);

/* Every kept text, read into memory on the caller's thread, so journeys
 * on worker threads can find an old text without touching the store (whose
 * connection belongs to one thread). *out is owned by the caller
 * (tm_jarchive_cache_free). TM_OK, TM_ESTORE, TM_ENOMEM. */
typedef struct tm_jarchive_cache tm_jarchive_cache;
int tm_jarchive_cache_load(tm_store *s, tm_jarchive_cache **out, struct tm_err *err);
void tm_jarchive_cache_free(tm_jarchive_cache *c);

/* A tm_jarchive_fn over a cache (`ud`); safe from several threads at once,
 * the cache being read-only. *text is a malloc'd copy (caller frees), NULL
 * when the cache does not hold the hash. */
int tm_jarchive_cache_lookup(void *ud, const char *sha256, char **text, size_t *len, char *path,
                             size_t path_cap, struct tm_err *err);

/* ---- Whole script generations, for judging a past decision again --------
 * tm_jarchive_keep_gen keeps every file of generation `g` (its scripts and
 * its models, these read again from its root) under the generation's hash,
 * each text once (a generation kept before is left alone) and appends one
 * "scripts.kept" audit record, at `now` by `actor`, the first time. Call inside a
 * transaction that `audit` writes in. TM_OK, TM_EIO (a model file that
 * cannot be read), TM_ESTORE, TM_ENOMEM.
 *
 * tm_jarchive_gen_dir writes the kept texts of generation `hash` into a new
 * directory under `tmpdir` (NULL: $TMPDIR or /tmp), its name into `dir`
 * (`cap` bytes), so the generation can be loaded as it was; the caller
 * removes it with tm_jarchive_gen_dir_remove. *found 0: the store does not
 * keep that generation (nothing is made). TM_OK, TM_EIO, TM_ESTORE,
 * TM_EINVAL (a kept path that would leave the directory). */
int tm_jarchive_keep_gen(tm_store *s, const tm_gen *g, tm_audit_writer *audit, int64_t now,
                         const char *actor, struct tm_err *err);
int tm_jarchive_gen_dir(tm_store *s, const char *hash, const char *tmpdir, char *dir, size_t cap,
                        int *found, struct tm_err *err);
void tm_jarchive_gen_dir_remove(const char *dir);

#endif
