/*
 * core/supervise.c: fork, collect, kill at the deadline (see supervise.h).
 */
#include "supervise.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct sink {
    char *p;
    size_t len, cap;
} sink;

/* Appends what is readable on fd; returns 0 at end of file or error. */
static int drain(int fd, sink *s)
{
    char buf[65536];
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return 1;
    if (r <= 0)
        return 0;
    if (s->len + (size_t)r + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + (size_t)r + 1)
            cap *= 2;
        char *q = realloc(s->p, cap);
        if (q == NULL)
            return 1; /* drop output rather than block the child */
        s->p = q;
        s->cap = cap;
    }
    memcpy(s->p + s->len, buf, (size_t)r);
    s->len += (size_t)r;
    s->p[s->len] = '\0';
    return 1;
}

int tm_supervise(tm_child_fn fn, void *ud, uint32_t deadline_ms, tm_supervised *res,
                 struct tm_err *err)
{
    memset(res, 0, sizeof *res);
    int po[2], pe[2];
    if (pipe(po) != 0)
        return tm_err_set(err, TM_EIO, "cannot create a pipe: %s", strerror(errno));
    if (pipe(pe) != 0) {
        close(po[0]), close(po[1]);
        return tm_err_set(err, TM_EIO, "cannot create a pipe: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
        return tm_err_set(err, TM_EIO, "cannot start a worker process: %s", strerror(errno));
    }
    if (pid == 0) {
        close(po[0]);
        close(pe[0]);
        int rc = fn(ud, po[1], pe[1]);
        _exit(rc < 0 ? 125 : rc > 125 ? 125 : rc);
    }
    close(po[1]);
    close(pe[1]);
    sink so = {0}, se = {0};
    int open_o = 1, open_e = 1;
    int64_t end = deadline_ms ? now_ms() + deadline_ms : 0;
    while (open_o || open_e) {
        struct pollfd fds[2];
        int n = 0;
        if (open_o)
            fds[n++] = (struct pollfd){.fd = po[0], .events = POLLIN};
        if (open_e)
            fds[n++] = (struct pollfd){.fd = pe[0], .events = POLLIN};
        int wait = -1;
        if (end) {
            int64_t left = end - now_ms();
            if (left <= 0) {
                kill(pid, SIGKILL);
                res->timed_out = 1;
                break;
            }
            wait = left > 1000 ? 1000 : (int)left;
        }
        int r = poll(fds, (nfds_t)n, wait);
        if (r < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n && r > 0; i++) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (fds[i].fd == po[0])
                open_o = drain(po[0], &so);
            else
                open_e = drain(pe[0], &se);
        }
    }
    close(po[0]);
    close(pe[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status))
        res->exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        res->signal = WTERMSIG(status);
    if (res->timed_out)
        res->signal = SIGKILL;
    res->out = so.p ? so.p : calloc(1, 1);
    res->outlen = so.len;
    res->errtext = se.p ? se.p : calloc(1, 1);
    res->errlen = se.len;
    return TM_OK;
}
