/*
 * tests/unit/test_pool.c: worker threads (core/pool.h): each index runs exactly once,
 * on the thread the pool promises (the caller's for a pool of 0 threads, a worker's
 * otherwise, each worker number always on the same thread), and a job starts only
 * after the one before it has finished.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "harness.h"
#include "pool.h"

typedef struct job {
    atomic_int *hits;
    pthread_t *ran_on;        /* the thread that ran each index */
    int *worker_of;           /* the worker number each index was given */
    atomic_int bad_worker;
    atomic_int done;          /* indices finished */
    struct job *before;       /* a job that must have finished before this one starts */
    atomic_int overlapped;    /* indices that ran while `before` was unfinished */
    long sleep_ns;            /* how long each index takes */
    int nthreads;
    size_t n;
} job;

static void count(void *ctx, int worker, size_t i)
{
    job *j = ctx;
    int limit = j->nthreads ? j->nthreads : 1;
    if (worker < 0 || worker >= limit || i >= j->n) {
        atomic_fetch_add(&j->bad_worker, 1);
        return;
    }
    if (j->before && (size_t)atomic_load(&j->before->done) != j->before->n)
        atomic_fetch_add(&j->overlapped, 1);
    if (j->sleep_ns) {
        struct timespec ts = {0, j->sleep_ns};
        nanosleep(&ts, NULL);
    }
    j->ran_on[i] = pthread_self();
    j->worker_of[i] = worker;
    atomic_fetch_add(&j->hits[i], 1);
    atomic_fetch_add(&j->done, 1);
}

static void job_init(job *j, int nthreads, size_t n)
{
    memset(j, 0, sizeof *j);
    j->nthreads = nthreads;
    j->n = n;
    j->hits = calloc(n + 1, sizeof *j->hits);
    j->ran_on = calloc(n + 1, sizeof *j->ran_on);
    j->worker_of = calloc(n + 1, sizeof *j->worker_of);
    ASSERT(j->hits != NULL && j->ran_on != NULL && j->worker_of != NULL);
    atomic_init(&j->bad_worker, 0);
    atomic_init(&j->done, 0);
    atomic_init(&j->overlapped, 0);
}

static void job_free(job *j)
{
    free(j->hits);
    free(j->ran_on);
    free(j->worker_of);
}

/* Every index ran once; on the caller's thread exactly when the pool has no workers; and
 * each worker number on one thread of its own, the same from job to job (`seen`). */
static void check_threads(const job *j, pthread_t caller, pthread_t seen[64], int seen_set[64])
{
    for (size_t i = 0; i < j->n; i++) {
        ASSERT_EQ(atomic_load(&j->hits[i]), 1); /* each index exactly once */
        int on_caller = pthread_equal(j->ran_on[i], caller) != 0;
        if (j->nthreads == 0 && !on_caller)
            TM_FAIL_("index %zu of %zu ran on another thread, not the caller's", i, j->n);
        if (j->nthreads > 0 && on_caller)
            TM_FAIL_("index %zu of %zu ran on the caller's thread, not a worker's", i, j->n);
        int w = j->worker_of[i];
        if (!seen_set[w]) {
            for (int o = 0; o < 64; o++)
                if (seen_set[o] && pthread_equal(seen[o], j->ran_on[i]))
                    TM_FAIL_("workers %d and %d ran on one thread", o, w);
            seen[w] = j->ran_on[i];
            seen_set[w] = 1;
        } else if (!pthread_equal(seen[w], j->ran_on[i])) {
            TM_FAIL_("worker %d ran on two threads", w);
        }
    }
    ASSERT_EQ(atomic_load(&j->bad_worker), 0);
}

static void run_jobs(int nthreads)
{
    tm_pool *p = NULL;
    struct tm_err err = {0};
    ASSERT_OK(tm_pool_new(nthreads, &p, &err));
    ASSERT_EQ(tm_pool_threads(p), nthreads);
    pthread_t caller = pthread_self(), seen[64];
    int seen_set[64] = {0};
    for (size_t n = 0; n < 3000; n = n * 3 + 1) {
        job j;
        job_init(&j, nthreads, n);
        tm_pool_submit(p, count, &j, n);
        if (nthreads == 0) /* the inline pool has run the whole job inside submit */
            ASSERT_EQ(atomic_load(&j.done), n);
        tm_pool_wait(p);
        ASSERT_EQ(atomic_load(&j.done), n);
        tm_pool_wait(p); /* a second wait returns at once */
        check_threads(&j, caller, seen, seen_set);
        job_free(&j);
    }
    tm_pool_free(p);
}

TEST(inline_pool_runs_on_the_caller)
{
    run_jobs(0);
}

TEST(one_worker)
{
    run_jobs(1);
}

TEST(several_workers_each_index_once)
{
    run_jobs(4);
}

TEST(submit_waits_for_the_job_before)
{
    tm_pool *p = NULL;
    struct tm_err err = {0};
    ASSERT_OK(tm_pool_new(2, &p, &err));
    job a, b;
    job_init(&a, 2, 200);
    job_init(&b, 2, 700);
    a.sleep_ns = 200000; /* 200 us an index: a is still running when b is submitted */
    b.before = &a;
    tm_pool_submit(p, count, &a, a.n);
    ASSERT(atomic_load(&a.done) < (int)a.n);
    tm_pool_submit(p, count, &b, b.n); /* waits for a first */
    ASSERT_EQ(atomic_load(&a.done), a.n);
    tm_pool_free(p); /* waits for b */
    ASSERT_EQ(atomic_load(&b.done), b.n);
    ASSERT_EQ(atomic_load(&b.overlapped), 0);
    for (size_t i = 0; i < a.n; i++)
        ASSERT_EQ(atomic_load(&a.hits[i]), 1);
    for (size_t i = 0; i < b.n; i++)
        ASSERT_EQ(atomic_load(&b.hits[i]), 1);
    job_free(&a);
    job_free(&b);
}

TEST(bad_thread_count_is_refused)
{
    tm_pool *p = (tm_pool *)1;
    struct tm_err err = {0};
    ASSERT_EQ(tm_pool_new(-1, &p, &err), TM_EINVAL);
    ASSERT(p == NULL);
    ASSERT_EQ(tm_pool_new(65, &p, &err), TM_EINVAL);
    ASSERT_CONTAINS(err.msg, "0..64");
    tm_pool_free(NULL);
}
