/*
 * core/pool.c: worker threads for one job at a time (pool.h). A mutex and two
 * condition variables: `work` wakes the workers for a new job (or to stop),
 * `done` wakes the owner when the last index has finished. Indices are handed
 * out under the mutex: items are whole journey steps or renders (tens of
 * microseconds), so the lock is not what limits the rate.
 */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>

struct tm_pool {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    pthread_t *threads;
    int nthreads;
    int stop;
    tm_pool_fn fn;
    void *ctx;
    size_t n, next, finished;
    int busy;           /* a job is submitted and not yet waited for */
};

typedef struct worker_arg {
    tm_pool *p;
    int id;
} worker_arg;

static void *worker(void *arg)
{
    worker_arg *a = arg;
    tm_pool *p = a->p;
    int id = a->id;
    free(a);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && (!p->busy || p->next >= p->n))
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        size_t i = p->next++;
        tm_pool_fn fn = p->fn;
        void *ctx = p->ctx;
        pthread_mutex_unlock(&p->mu);
        fn(ctx, id, i);
        pthread_mutex_lock(&p->mu);
        if (++p->finished == p->n)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int tm_pool_new(int nthreads, tm_pool **out, struct tm_err *err)
{
    *out = NULL;
    if (nthreads < 0 || nthreads > 64)
        return tm_err_set(err, TM_EINVAL, "workers must be 0..64, not %d", nthreads);
    tm_pool *p = calloc(1, sizeof *p);
    if (!p || (nthreads && !(p->threads = calloc((size_t)nthreads, sizeof *p->threads)))) {
        free(p);
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    for (int i = 0; i < nthreads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (a) {
            a->p = p;
            a->id = i;
        }
        if (!a || pthread_create(&p->threads[i], NULL, worker, a) != 0) {
            free(a);
            tm_pool_free(p);
            return tm_err_set(err, TM_EINVAL, "cannot start worker thread %d", i + 1);
        }
        p->nthreads++;
    }
    *out = p;
    return TM_OK;
}

void tm_pool_wait(tm_pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->busy && p->finished < p->n)
        pthread_cond_wait(&p->done, &p->mu);
    p->busy = 0;
    pthread_mutex_unlock(&p->mu);
}

void tm_pool_submit(tm_pool *p, tm_pool_fn fn, void *ctx, size_t n)
{
    tm_pool_wait(p);
    if (p->nthreads == 0) {
        for (size_t i = 0; i < n; i++)
            fn(ctx, 0, i);
        return;
    }
    if (n == 0)
        return;
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->next = p->finished = 0;
    p->busy = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
}

int tm_pool_threads(const tm_pool *p)
{
    return p->nthreads;
}

void tm_pool_free(tm_pool *p)
{
    if (!p)
        return;
    tm_pool_wait(p);
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}
