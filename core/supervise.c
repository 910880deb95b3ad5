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

#include "buf.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends what is readable on fd to s; returns 0 at end of file or error. Once s cannot
 * grow, the rest is read and dropped rather than block the child: the text kept is then
 * the output's beginning. */
static int drain(int fd, tm_buf *s)
{
    char spill[4096];
    char *p = tm_buf_room(s, 65536);
    size_t want = p ? 65536 : sizeof spill;
    ssize_t r = read(fd, p ? p : spill, want);
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return 1;
    if (r <= 0)
        return 0;
    if (p)
        tm_buf_advance(s, (size_t)r);
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
    tm_buf so = TM_BUF_INIT, se = TM_BUF_INIT;
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
    /* The text as held, cut short or not (see drain). */
    res->out = so.data ? so.data : calloc(1, 1);
    res->outlen = so.len;
    res->errtext = se.data ? se.data : calloc(1, 1);
    res->errlen = se.len;
    return TM_OK;
}
