/*
 * core/stopat.c: named stopping points for tests (see stopat.h).
 * The environment is read once; the count of hits is atomic so points in
 * worker threads count each hit once.
 */
#include "stopat.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t stop_once = PTHREAD_ONCE_INIT;
static char stop_name[96];
static long stop_nth = 1;
static atomic_long stop_hits;

static void stop_read_env(void)
{
    const char *v = getenv("TM_STOP_AT");
    if (v == NULL || *v == '\0' || strlen(v) >= sizeof stop_name)
        return;
    strcpy(stop_name, v);
    char *at = strchr(stop_name, '@');
    if (at != NULL) {
        *at = '\0';
        char *end;
        long n = strtol(at + 1, &end, 10);
        stop_nth = (*end == '\0' && n > 0) ? n : 1;
    }
}

void tm_stopat(const char *point)
{
    pthread_once(&stop_once, stop_read_env);
    if (stop_name[0] == '\0' || strcmp(stop_name, point) != 0)
        return;
    if (atomic_fetch_add(&stop_hits, 1) + 1 != stop_nth)
        return;
    fprintf(stderr, "tallyman: stopped at %s (pid %ld)\n", point, (long)getpid());
    fflush(stderr);
    raise(SIGSTOP);
}
