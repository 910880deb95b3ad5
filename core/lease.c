/*
 * core/lease.c: store-wide leases (lease.h). The rows live in the store
 * (tm_store_lease_*); this file decides whether a holder is still there.
 * Liveness is judged only on the holder's own host, where its pid can be
 * checked with kill(pid, 0) and its start time read from /proc; elsewhere
 * the renewal time is all there is.
 */
#include "lease.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "calendar.h"
#include "crypto.h"
#include "jw.h"

struct tm_lease_hold {
    tm_store *s;
    tm_lease l;
};

/* The start time of process `pid` in clock ticks since boot (field 22 of
 * /proc/PID/stat), or 0 when it cannot be read. */
static int64_t proc_start(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name (field 2) is in parentheses and may hold spaces:
     * count fields from the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p++;
    for (int field = 3; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoll(p + 1, NULL, 10) : 0;
}

static void host_name(char *out, size_t cap)
{
    if (gethostname(out, cap) != 0 || !out[0])
        snprintf(out, cap, "unknown");
    out[cap - 1] = '\0';
}

static void rfc3339(int64_t t, char out[40])
{
    if (tm_calendar_format_rfc3339(t, 0, out, 40, NULL) != TM_OK)
        snprintf(out, 40, "%lld", (long long)t);
}

enum verdict { HELD, GONE, EXPIRED };

/* Whether lease `l` (someone else's) still binds us, judged at `now`. */
static enum verdict judge(const tm_lease *l, const char *host, int64_t now)
{
    if (strcmp(l->host, host) == 0) {
        if (l->pid <= 0 || (kill((pid_t)l->pid, 0) != 0 && errno == ESRCH))
            return GONE;
        /* The pid runs, but a process started at another time holds it now. */
        int64_t started = proc_start((long)l->pid);
        if (l->pid_start && started && started != l->pid_start)
            return GONE;
        return HELD;
    }
    return now - l->renewed > TM_LEASE_EXPIRY ? EXPIRED : HELD;
}

static int refuse(const tm_lease *l, struct tm_err *err)
{
    char since[40], renewed[40];
    rfc3339(l->since, since);
    rfc3339(l->renewed, renewed);
    return tm_err_set(err, TM_EBUSY,
                      "the store is in use by another %s: pid %lld on host %s since %s (last renewed "
                      "%s); try again when it has finished",
                      strcmp(l->name, "cycle") == 0 ? "run" : l->name, (long long)l->pid, l->host,
                      since, renewed);
}

int tm_lease_acquire(tm_store *s, const char *name, int64_t now, const uint8_t *audit_key,
                     void (*say)(void *ud, const char *message), void *say_ud, tm_lease_hold **out,
                     struct tm_err *err)
{
    *out = NULL;
    tm_lease_hold *h = calloc(1, sizeof *h);
    if (!h)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    h->s = s;
    tm_lease *me = &h->l;
    snprintf(me->name, sizeof me->name, "%s", name);
    host_name(me->host, sizeof me->host);
    me->pid = (int64_t)getpid();
    me->pid_start = proc_start((long)getpid());
    me->since = me->renewed = now;
    uint8_t nonce[8];
    char hex[17];
    if (tm_random_bytes(nonce, sizeof nonce) != TM_OK) {
        free(h);
        return tm_err_set(err, TM_ECRYPTO, "no random bytes for the lease");
    }
    tm_hex(nonce, sizeof nonce, hex);
    snprintf(me->holder, sizeof me->holder, "%lld:%s", (long long)me->pid, hex);

    /* First without the write lock: a live holder is named at once, even
     * while it holds the lock for a batch. */
    tm_lease cur;
    int found = 0;
    int rc = tm_store_lease_get(s, name, &cur, &found, err);
    if (rc == TM_OK && found && judge(&cur, me->host, now) == HELD)
        rc = refuse(&cur, err);
    /* Then again inside the write transaction, where nobody can take it
     * between our reading and our writing. */
    enum verdict v = HELD;
    if (rc == TM_OK)
        rc = tm_store_begin(s, err);
    if (rc == TM_OK) {
        rc = tm_store_lease_get(s, name, &cur, &found, err);
        if (rc == TM_OK && found && (v = judge(&cur, me->host, now)) == HELD)
            rc = refuse(&cur, err);
        if (rc == TM_OK)
            rc = tm_store_lease_put(s, me, err);
        char said[700] = "";
        if (rc == TM_OK && found) {
            char since[40], renewed[40], details[600];
            rfc3339(cur.since, since);
            rfc3339(cur.renewed, renewed);
            snprintf(said, sizeof said,
                     "taking over the %s lease of pid %lld on host %s (held since %s, last renewed "
                     "%s): %s",
                     name, (long long)cur.pid, cur.host, since, renewed,
                     v == GONE ? "that process has ended" : "it was not renewed for over an hour");
            tm_buf db;
            tm_buf_fixed(&db, details, sizeof details);
            tm_jw w;
            tm_jw_init(&w, &db, 0);
            tm_jw_obj(&w);
            tm_jw_key(&w, "lease");
            tm_jw_str(&w, name);
            tm_jw_key(&w, "pid");
            tm_jw_int(&w, cur.pid);
            tm_jw_key(&w, "host");
            tm_jw_strn(&w, cur.host, strnlen(cur.host, 200)); /* its first 200 bytes */
            tm_jw_key(&w, "since");
            tm_jw_int(&w, cur.since);
            tm_jw_key(&w, "renewed");
            tm_jw_int(&w, cur.renewed);
            tm_jw_key(&w, "reason");
            tm_jw_str(&w, v == GONE ? "holder ended" : "expired");
            tm_jw_key(&w, "by_pid");
            tm_jw_int(&w, me->pid);
            tm_jw_obj_end(&w);
            rc = tm_buf_done(&db, "the lease's audit record", err);
            if (rc == TM_OK)
                rc = tm_audit_append(s, audit_key, now, "lease", "lease.taken_over", "store", details, err);
        }
        if (rc == TM_OK)
            rc = tm_store_commit(s, err);
        else
            tm_store_rollback(s);
        if (rc == TM_OK && said[0] && say)
            say(say_ud, said);
    }
    if (rc != TM_OK) {
        free(h);
        return rc;
    }
    *out = h;
    return TM_OK;
}

int tm_lease_renew(tm_lease_hold *h, int64_t now, struct tm_err *err)
{
    if (!h)
        return TM_OK;
    int held = 0;
    int rc = tm_store_lease_renew(h->s, h->l.name, h->l.holder, now, &held, err);
    if (rc != TM_OK)
        return rc;
    if (!held) {
        tm_lease cur;
        int found = 0;
        char who[400] = "";
        if (tm_store_lease_get(h->s, h->l.name, &cur, &found, NULL) == TM_OK && found)
            snprintf(who, sizeof who, " by pid %lld on host %s", (long long)cur.pid, cur.host);
        return tm_err_set(err, TM_EBUSY, "the %s lease was taken over%s: this process stops here",
                          h->l.name, who);
    }
    h->l.renewed = now;
    return TM_OK;
}

int tm_lease_release(tm_lease_hold *h, struct tm_err *err)
{
    if (!h)
        return TM_OK;
    int rc = tm_store_lease_release(h->s, h->l.name, h->l.holder, err);
    free(h);
    return rc;
}
