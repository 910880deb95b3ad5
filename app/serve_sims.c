/*
 * app/serve_sims.c: simulations as jobs. POST /v1/simulations starts what
 * `tallyman simulate` runs, as that command itself in a child process (the
 * same code, and a simulation's memory and CPU are never a request
 * worker's), watched by a thread of its own; GET /v1/simulations/{id} says
 * its status and progress and, once done, its summary (what the command
 * prints); GET /v1/simulations/{id}/report is the HTML report `simulate
 * --report` writes.
 *
 * At most SIM_RUNNING jobs run at once (a 429 beyond). Jobs live in this
 * process's memory only: a restart forgets them (their files are removed
 * when a job is forgotten, the oldest finished first past SIM_KEPT).
 */
#include "serve_http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/http.h>
#include <openssl/rand.h>

#include "calendar.h"
#include "validate.h"

#define SIM_RUNNING 2   /* jobs running at once */
#define SIM_KEPT 32     /* jobs remembered, running or finished */
#define SIM_SUMMARY_MAX (256 * 1024)

enum job_state { JOB_RUNNING, JOB_DONE, JOB_FAILED };
static const char *const state_names[] = {"running", "done", "failed"};

typedef struct sim_job {
    char id[33];
    enum job_state state;
    char arm[4];
    int day, days, arms;
    int exit_code;
    char dir[PATH_MAX];
    char *summary;      /* the command's standard output, once finished */
    char error[600];    /* why it failed: the end of its standard error */
    int64_t created, finished;
    char by[160];
    char *argv[40];     /* the command line, made before the fork */
    char argbuf[4096];
} sim_job;

static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static sim_job *jobs[SIM_KEPT];
static int running;

static void job_free(sim_job *j)
{
    if (!j)
        return;
    char p[PATH_MAX + 32];
    static const char *const files[] = {"report.html", "out.txt", "err.txt"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", j->dir, files[i]);
        unlink(p);
    }
    rmdir(j->dir);
    free(j->summary);
    free(j);
}

/* Reads up to `max` bytes of file `path` into a malloc'd string. */
static char *slurp(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = malloc(max + 1);
    size_t n = b ? fread(b, 1, max, f) : 0;
    fclose(f);
    if (b)
        b[n] = '\0';
    return b;
}

/* Adds an argument to j's command line. */
static void arg(sim_job *j, int *argc, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void arg(sim_job *j, int *argc, size_t *used, const char *fmt, ...)
{
    if (*argc >= (int)(sizeof j->argv / sizeof *j->argv) - 1 || *used >= sizeof j->argbuf)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->argbuf + *used, sizeof j->argbuf - *used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof j->argbuf - *used)
        return;
    j->argv[(*argc)++] = j->argbuf + *used;
    j->argv[*argc] = NULL;
    *used += (size_t)n + 1;
}

/* The job's thread: runs the command, follows its progress, keeps its
 * summary. The child dies with this thread (PR_SET_PDEATHSIG), so a
 * simulation never outlives the service. */
static void *job_main(void *arg_)
{
    sim_job *j = arg_;
    char out[PATH_MAX + 16], err[PATH_MAX + 16];
    snprintf(out, sizeof out, "%s/out.txt", j->dir);
    snprintf(err, sizeof err, "%s/err.txt", j->dir);
    int pfd[2] = {-1, -1};
    int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int efd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_t pid = -1;
    if (ofd >= 0 && efd >= 0 && pipe(pfd) == 0)
        pid = fork();
    if (pid == 0) {
        /* The child: only what is safe after fork, then exec. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(ofd, 1);
        dup2(efd, 2);
        dup2(pfd[1], 3);
        syscall(SYS_close_range, 4u, ~0u, 0u); /* the service's sockets and store stay its own */
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        execv("/proc/self/exe", j->argv);
        _exit(127);
    }
    if (pfd[1] >= 0)
        close(pfd[1]);
    if (ofd >= 0)
        close(ofd);
    if (efd >= 0)
        close(efd);
    int status = -1;
    if (pid > 0) {
        FILE *p = fdopen(pfd[0], "r");
        char line[128];
        while (p && fgets(line, sizeof line, p)) {
            char a[4];
            int day, days;
            if (sscanf(line, "%3s %d %d", a, &day, &days) == 3) {
                pthread_mutex_lock(&jobs_lock);
                snprintf(j->arm, sizeof j->arm, "%s", a);
                j->day = day;
                j->days = days;
                pthread_mutex_unlock(&jobs_lock);
            }
        }
        if (p)
            fclose(p);
        else
            close(pfd[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    } else if (pfd[0] >= 0) {
        close(pfd[0]);
    }
    char *summary = slurp(out, SIM_SUMMARY_MAX);
    char *why = slurp(err, 64 * 1024);
    pthread_mutex_lock(&jobs_lock);
    j->summary = summary;
    j->exit_code = pid < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    j->state = j->exit_code == 0 ? JOB_DONE : JOB_FAILED;
    if (j->state == JOB_FAILED) {
        /* The end of what it said: the reason is on its last lines. */
        const char *w = why ? why : "";
        size_t n = strlen(w);
        snprintf(j->error, sizeof j->error, "%s",
                 pid < 0 ? "the simulation could not be started" : w + (n > 500 ? n - 500 : 0));
    }
    j->finished = (int64_t)time(NULL);
    running--;
    pthread_mutex_unlock(&jobs_lock);
    free(why);
    return NULL;
}

/* The job `id`, or NULL; call with jobs_lock held. */
static sim_job *find(const char *id)
{
    for (int i = 0; i < SIM_KEPT; i++)
        if (jobs[i] && strcmp(jobs[i]->id, id) == 0)
            return jobs[i];
    return NULL;
}

/* A slot for a new job, forgetting the oldest finished one when all are
 * taken; -1 when every slot holds a running job. Call with jobs_lock held. */
static int free_slot(void)
{
    int oldest = -1;
    for (int i = 0; i < SIM_KEPT; i++) {
        if (!jobs[i])
            return i;
        if (jobs[i]->state != JOB_RUNNING &&
            (oldest < 0 || jobs[i]->finished < jobs[oldest]->finished))
            oldest = i;
    }
    if (oldest >= 0) {
        job_free(jobs[oldest]);
        jobs[oldest] = NULL;
    }
    return oldest;
}

/* The job as JSON; call with jobs_lock held. */
static json_t *job_value(const sim_job *j)
{
    char created[32], finished[32];
    tm_calendar_format_rfc3339(j->created, 0, created, sizeof created, NULL);
    tm_calendar_format_rfc3339(j->finished, 0, finished, sizeof finished, NULL);
    char report[64];
    snprintf(report, sizeof report, "/v1/simulations/%s/report", j->id);
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:{s:o,s:i,s:i,s:i},s:o,s:o,s:o}", "id", j->id, "status",
                     state_names[j->state], "by", j->by, "created", created, "finished",
                     j->state == JOB_RUNNING ? json_null() : json_string(finished), "progress", "arm",
                     j->arm[0] ? json_string(j->arm) : json_null(), "day", j->day, "days", j->days,
                     "arms", j->arms, "summary",
                     j->state == JOB_DONE && j->summary ? json_string(j->summary) : json_null(),
                     "error", j->state == JOB_FAILED ? json_string(j->error) : json_null(), "report",
                     j->state == JOB_DONE ? json_string(report) : json_null());
}

/* POST /v1/simulations, body {"days": N, "seed": S, "date": "YYYY-MM-DD"}:
 * 202 with the job, its progress to poll at /v1/simulations/{id}. */
void tm_sv_simulations(tm_sv_req *r)
{
    json_t *b = tm_sv_json_object(r, 0);
    if (!b)
        return;
    const char *bad = NULL, *why = NULL;
    json_t *days = json_object_get(b, "days"), *seed = json_object_get(b, "seed"),
           *date = json_object_get(b, "date");
    int64_t day0 = 0;
    if (!json_is_integer(days) || json_integer_value(days) < 1 || json_integer_value(days) > 3650) {
        bad = "days", why = "days: a number of days from 1 to 3650 (required)";
    } else if (seed && !(json_is_integer(seed) && json_integer_value(seed) >= 0)) {
        bad = "seed", why = "seed: a whole number from 0";
    } else if (date && !(json_is_string(date) && tm_valid_date(json_string_value(date), &day0, NULL) == TM_OK)) {
        bad = "date", why = "date: the first day, YYYY-MM-DD";
    } else {
        const char *k;
        json_t *v;
        json_object_foreach(b, k, v) if (strcmp(k, "days") && strcmp(k, "seed") && strcmp(k, "date"))
        {
            bad = "body", why = "a simulation takes days, seed and date only";
            break;
        }
    }
    if (why) {
        json_decref(b);
        tm_sv_error(r, 400, "invalid_request", why, bad);
        return;
    }
    sim_job *j = calloc(1, sizeof *j);
    unsigned char rnd[16];
    if (!j || RAND_bytes(rnd, sizeof rnd) != 1) {
        free(j);
        json_decref(b);
        tm_sv_error(r, 500, "internal", "out of memory", NULL);
        return;
    }
    for (int i = 0; i < 16; i++)
        snprintf(j->id + 2 * i, 3, "%02x", rnd[i]);
    snprintf(j->by, sizeof j->by, "serve:%s", r->token);
    j->created = (int64_t)time(NULL);
    j->arms = 1;
    j->days = (int)json_integer_value(days);
    const tm_cli *cli = r->w->sv->cli;
    int argc = 0;
    size_t used = 0;
    arg(j, &argc, &used, "tallyman");
    arg(j, &argc, &used, "--db");
    arg(j, &argc, &used, "%s", cli->db);
    if (cli->key_file) {
        arg(j, &argc, &used, "--key-file");
        arg(j, &argc, &used, "%s", cli->key_file);
    }
    /* The script set the service answers with: the store's active set,
     * which simulate runs by default, or the working tree the service was
     * started on as a draft (serve --scripts DIR --draft). */
    if (r->w->sv->draft) {
        arg(j, &argc, &used, "--scripts");
        arg(j, &argc, &used, "%s", cli->scripts);
        arg(j, &argc, &used, "--draft");
    }
    arg(j, &argc, &used, "simulate");
    arg(j, &argc, &used, "--days");
    arg(j, &argc, &used, "%d", j->days);
    if (seed) {
        arg(j, &argc, &used, "--seed");
        arg(j, &argc, &used, "%lld", (long long)json_integer_value(seed));
    }
    if (date) {
        arg(j, &argc, &used, "--date");
        arg(j, &argc, &used, "%s", json_string_value(date));
    }
    json_decref(b);
    const char *tdir = getenv("TMPDIR");
    snprintf(j->dir, sizeof j->dir, "%s/tallyman-job.XXXXXX", tdir && *tdir ? tdir : "/tmp");
    int made = mkdtemp(j->dir) != NULL;
    arg(j, &argc, &used, "--report");
    arg(j, &argc, &used, "%s/report.html", j->dir);
    arg(j, &argc, &used, "--progress-fd");
    arg(j, &argc, &used, "3");
    arg(j, &argc, &used, "--quiet");
    if (!made) {
        free(j);
        tm_sv_error(r, 503, "unavailable", "no room for the simulation's files now", NULL);
        return;
    }
    pthread_mutex_lock(&jobs_lock);
    int slot = running < SIM_RUNNING ? free_slot() : -1;
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int started = slot >= 0 && pthread_create(&t, &at, job_main, j) == 0;
    pthread_attr_destroy(&at);
    json_t *v = NULL;
    if (started) {
        jobs[slot] = j;
        running++;
        v = job_value(j);
    }
    pthread_mutex_unlock(&jobs_lock);
    if (!started) {
        rmdir(j->dir);
        free(j);
        evhttp_add_header(evhttp_request_get_output_headers(r->req), "Retry-After", "60");
        char msg[120];
        snprintf(msg, sizeof msg, "%d simulations are running already; try again once one is done",
                 SIM_RUNNING);
        tm_sv_error(r, 429, "too_many_jobs", msg, NULL);
        return;
    }
    char loc[80];
    snprintf(loc, sizeof loc, "/v1/simulations/%s", j->id);
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "Location", loc);
    tm_sv_reply_value(r, 202, v);
}

/* GET /v1/simulations/{id}: the job, its progress, and its summary once done. */
void tm_sv_simulation(tm_sv_req *r)
{
    pthread_mutex_lock(&jobs_lock);
    sim_job *j = find(r->arg[0]);
    json_t *v = j ? job_value(j) : NULL;
    pthread_mutex_unlock(&jobs_lock);
    if (!j) {
        tm_sv_error(r, 404, "not_found", "no such simulation (jobs last as long as the service)", "id");
        return;
    }
    tm_sv_reply_value(r, 200, v);
}

/* GET /v1/simulations/{id}/report: the HTML report, once the job is done
 * (409 before). */
void tm_sv_simulation_report(tm_sv_req *r)
{
    char path[PATH_MAX + 16] = "";
    pthread_mutex_lock(&jobs_lock);
    sim_job *j = find(r->arg[0]);
    enum job_state st = j ? j->state : JOB_FAILED;
    if (j)
        snprintf(path, sizeof path, "%s/report.html", j->dir);
    /* Read under the lock: the job cannot be forgotten (and its files
     * removed) meanwhile. */
    char *html = j && st == JOB_DONE ? slurp(path, 64u << 20) : NULL;
    pthread_mutex_unlock(&jobs_lock);
    if (!j) {
        tm_sv_error(r, 404, "not_found", "no such simulation (jobs last as long as the service)", "id");
        return;
    }
    if (st != JOB_DONE) {
        free(html);
        tm_sv_error(r, 409, "not_done",
                    st == JOB_RUNNING ? "the simulation is still running" : "the simulation failed: no report",
                    NULL);
        return;
    }
    if (!html) {
        tm_sv_error(r, 500, "internal", "the report cannot be read", NULL);
        return;
    }
    tm_sv_reply(r, 200, "text/html; charset=utf-8", html, strlen(html));
    free(html);
}
