/*
 * core/pool.h: a fixed set of worker threads that run one job at a time: a
 * function applied to the indices 0..n-1, each index exactly once, handed out
 * in order to whichever worker is free (so a slow item does not hold up the
 * others). The submitting thread may go on with other work and wait later:
 * the daily cycle reads and writes the store on its own thread while the
 * workers run scripts for the batch before.
 *
 * Each worker has a fixed number (0..nthreads-1), so the job can give each
 * worker its own Lua state. A pool of 0 threads runs every job on the
 * submitting thread, inside tm_pool_submit, as worker 0.
 * Only one thread (the owner) may call submit, wait and free.
 */
#ifndef TM_POOL_H
#define TM_POOL_H

#include <stddef.h>

#include "tm_status.h"

typedef struct tm_pool tm_pool;

typedef void (*tm_pool_fn)(void *ctx, int worker, size_t index);

/* Starts `nthreads` workers (0..64). *out is owned by the caller (tm_pool_free).
 * TM_ENOMEM, or TM_EINVAL when a thread cannot be started (none are left running). */
int tm_pool_new(int nthreads, tm_pool **out, struct tm_err *err);

/* Starts fn(ctx, worker, i) for i in 0..n-1 and returns; the job must not be
 * touched by the owner until tm_pool_wait returns. A job still running is
 * waited for first. */
void tm_pool_submit(tm_pool *p, tm_pool_fn fn, void *ctx, size_t n);

/* Blocks until the current job (if any) has run every index. Everything the
 * workers wrote is then visible to the owner. */
void tm_pool_wait(tm_pool *p);

/* Waits for the current job, stops the workers and frees the pool. NULL is a no-op. */
void tm_pool_free(tm_pool *p);

int tm_pool_threads(const tm_pool *p);

#endif
