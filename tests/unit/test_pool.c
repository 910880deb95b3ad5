/*
 * tests/unit/test_pool.c: worker threads (core/pool.h).
 */
#include <stdatomic.h>

#include "harness.h"
#include "pool.h"

typedef struct job {
    atomic_int *hits;
    atomic_int bad_worker;
    int nthreads;
    size_t n;
} job;

static void count(void *ctx, int worker, size_t i)
{
    job *j = ctx;
    int limit = j->nthreads ? j->nthreads : 1;
    if (worker < 0 || worker >= limit || i >= j->n)
        atomic_fetch_add(&j->bad_worker, 1);
    else
        atomic_fetch_add(&j->hits[i], 1);
}

static void run_jobs(int nthreads)
{
    tm_pool *p = NULL;
    struct tm_err err = {0};
    ASSERT_OK(tm_pool_new(nthreads, &p, &err));
    ASSERT_EQ(tm_pool_threads(p), nthreads);
    for (size_t n = 0; n < 3000; n = n * 3 + 1) {
        job j = {.nthreads = nthreads, .n = n};
        j.hits = calloc(n + 1, sizeof *j.hits);
        ASSERT(j.hits != NULL);
        atomic_init(&j.bad_worker, 0);
        tm_pool_submit(p, count, &j, n);
        tm_pool_wait(p);
        tm_pool_wait(p); /* a second wait returns at once */
        for (size_t i = 0; i < n; i++)
            ASSERT_EQ(atomic_load(&j.hits[i]), 1); /* each index exactly once */
        ASSERT_EQ(atomic_load(&j.bad_worker), 0);
        free(j.hits);
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
    job a = {.nthreads = 2, .n = 500}, b = {.nthreads = 2, .n = 700};
    a.hits = calloc(500, sizeof *a.hits);
    b.hits = calloc(700, sizeof *b.hits);
    atomic_init(&a.bad_worker, 0);
    atomic_init(&b.bad_worker, 0);
    tm_pool_submit(p, count, &a, a.n);
    tm_pool_submit(p, count, &b, b.n); /* waits for a first */
    tm_pool_free(p);                   /* waits for b */
    for (size_t i = 0; i < 500; i++)
        ASSERT_EQ(atomic_load(&a.hits[i]), 1);
    for (size_t i = 0; i < 700; i++)
        ASSERT_EQ(atomic_load(&b.hits[i]), 1);
    free(a.hits);
    free(b.hits);
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
