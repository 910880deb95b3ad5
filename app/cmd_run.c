/*
 * app/cmd_run.c: `tallyman run [--date D] [--days N]`: the daily cycle
 * (app/cycle.h) on the store, for one day or N days in a row.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "calendar.h"
#include "cli.h"
#include "cycle.h"
#include "dispatch.h"
#include "engine.h"
#include "jw.h"
#include "keys.h"
#include "lease.h"
#include "portfolio.h"
#include "store.h"
#include "validate.h"

static const char run_help[] =
    "usage: tallyman [--db PATH] [--scripts DIR --draft] run [--date YYYY-MM-DD [--rewind]] [--days N]\n"
    "                [--events FILE] [--spool DIR | --webhook URL [--webhook-ca FILE]\n"
    "                [--webhook-cert FILE [--webhook-key FILE]] [--webhook-secret FILE]]\n"
    "                [--quiet]\n"
    "\n"
    "Runs the daily cycle: events since the last run go to each debt's journey,\n"
    "new debts are placed in a journey (segmentation), due timers fire, every\n"
    "planned contact passes the compliance gate at its planned time, and the\n"
    "allowed ones are dispatched. A rerun of the same day sends nothing twice.\n"
    "One run works a store at a time: a second is refused at once, naming the\n"
    "first's pid, host and start; a run that was killed leaves its lease to the\n"
    "next run, which takes it over and says so.\n"
    "\n"
    "What runs is the store's active script set (tallyman scripts list), whose\n"
    "hash is printed; a working tree runs only as a draft, named with\n"
    "--scripts DIR --draft, and the output then says DRAFT. A set that does not\n"
    "load whole (a regulation or a journey with an error) is refused.\n"
    "\n"
    "  --date D       the day to run (default: today, UTC); a day before the last\n"
    "                 day the store has worked is refused unless --rewind is given\n"
    "  --rewind       run a day before the last day worked, moving the cycle back\n"
    "                 (said on stderr and audited as cycle.rewind)\n"
    "  --days N       run N days in a row from --date (a simulation of the cycle)\n"
    "  --events FILE  events (JSON lines, as for `tallyman event`) fed in on the\n"
    "                 day they happen, before that day's cycle\n"
    "  --spool DIR    write one file per message under DIR (default: <db>.spool; needed\n"
    "                 with a postgresql:// store)\n"
    "  --webhook URL  POST each message as JSON to URL (http:// or https://), with\n"
    "                 retries; https always verifies the server's certificate and\n"
    "                 host name (against the system CA store unless --webhook-ca)\n"
    "  --webhook-ca FILE\n"
    "                 trust only the CA certificate(s) in FILE (PEM), e.g. a\n"
    "                 private CA, for the https webhook\n"
    "  --webhook-cert FILE\n"
    "                 client certificate (PEM) for mutual TLS; its key is in FILE\n"
    "                 too unless --webhook-key names it\n"
    "  --webhook-key FILE\n"
    "                 private key (PEM) of --webhook-cert\n"
    "  --webhook-secret FILE\n"
    "                 sign each POST with the secret in FILE (its first line):\n"
    "                 X-Tallyman-Timestamp and X-Tallyman-Signature: v1=<HMAC-SHA256\n"
    "                 of \"<timestamp>.<body>\">, so the receiver can check it\n"
    "  --workers N    worker threads running scripts, one sandbox each (default: one\n"
    "                 per core; 0 runs everything on one thread)\n"
    "  --quiet        print only the totals\n";

typedef struct ui {
    int tty;
    const char *day;
    long rejected; /* --events lines refused */
} ui;

static void report(void *ud, const char *message)
{
    ui *u = ud;
    if (u->tty)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "%s\n", message);
}

static void progress(void *ud, const char *phase, long done, long total)
{
    ui *u = ud;
    if (!u->tty || total < 1000)
        return;
    int pct = (int)(done * 100 / (total ? total : 1));
    char bar[21];
    for (int i = 0; i < 20; i++)
        bar[i] = i < pct / 5 ? '#' : '.';
    bar[20] = '\0';
    fprintf(stderr, "\r\033[K%s %-10s [%s] %3d%% %ld/%ld", u->day, phase, bar, pct, done, total);
    if (done >= total)
        fputs("\r\033[K", stderr);
}

static void say(void *ud, const char *message)
{
    (void)ud;
    fprintf(stderr, "tallyman: %s\n", message);
}

static int print_count(void *ud, const char *journey, const char *state, int64_t n)
{
    (void)ud;
    printf("  %-20s %-24s %8lld\n", journey, state, (long long)n);
    return TM_OK;
}

/* Events from a file, by the UTC day they happen on. */
typedef struct day_events {
    char *text;     /* the whole file */
    struct line {
        int64_t day;
        size_t idx; /* position in the file: same-day events keep their order */
        const char *p;
        size_t len;
    } *lines;
    size_t n;
} day_events;

static int cmp_line(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Reads FILE; a line whose "at" cannot be read goes to day INT64_MIN, so
 * the first day's feed reports it like `tallyman event` would. */
static int load_events(const char *path, day_events *de, struct tm_err *err)
{
    memset(de, 0, sizeof *de);
    FILE *f = fopen(path, "rb");
    if (!f)
        return tm_err_set(err, TM_ENOENT, "%s: %s", path, strerror(errno));
    tm_buf text = TM_BUF_INIT;
    int rrc = tm_buf_read(&text, f);
    fclose(f);
    if (rrc == TM_EIO) {
        tm_buf_free(&text);
        return tm_err_set(err, TM_EIO, "%s: read error", path);
    }
    if (rrc != TM_OK) {
        tm_buf_free(&text);
        return tm_err_set(err, TM_ENOMEM, "out of memory reading %s", path);
    }
    if (text.len == 0) {
        tm_buf_free(&text);
        return TM_OK;
    }
    de->text = tm_buf_take(&text, NULL);
    if (!de->text)
        return tm_err_set(err, TM_ENOMEM, "out of memory reading %s", path);
    size_t lcap = 0;
    for (char *p = de->text; *p;) {
        char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (de->n == lcap) {
            lcap = lcap ? lcap * 2 : 1024;
            struct line *q = realloc(de->lines, lcap * sizeof *q);
            if (!q)
                return tm_err_set(err, TM_ENOMEM, "out of memory reading %s", path);
            de->lines = q;
        }
        int64_t day = INT64_MIN;
        const char *at = strstr(p, "\"at\"");
        if (at && at < p + l) {
            at = strchr(at + 4, '"');
            int64_t t;
            int32_t ns;
            int off;
            char ts[64];
            const char *q2 = at ? strchr(at + 1, '"') : NULL;
            if (at && q2 && q2 < p + l && (size_t)(q2 - at - 1) < sizeof ts) {
                memcpy(ts, at + 1, (size_t)(q2 - at - 1));
                ts[q2 - at - 1] = '\0';
                if (tm_calendar_parse_rfc3339(ts, &t, &ns, &off, NULL) == TM_OK)
                    day = t >= 0 ? t / 86400 : (t - 86399) / 86400;
            }
        }
        de->lines[de->n] = (struct line){day, de->n, p, l};
        de->n++;
        p += l + (e ? 1 : 0);
    }
    if (de->n)
        qsort(de->lines, de->n, sizeof *de->lines, cmp_line);
    return TM_OK;
}

/* Rejections name the line in the day's chunk; this puts back the line
 * number in the file ("FILE:N: ..." with N counted in the chunk). */
typedef struct feed_ctx {
    ui *u;
    const char *name;
    const day_events *de;
    size_t from;
} feed_ctx;

static void feed_reject(void *ud, const char *message)
{
    feed_ctx *f = ud;
    f->u->rejected++;
    size_t nl = strlen(f->name);
    char *end = NULL;
    if (strncmp(message, f->name, nl) == 0 && message[nl] == ':') {
        unsigned long k = strtoul(message + nl + 1, &end, 10);
        if (end && *end == ':' && k >= 1 && f->from + k - 1 < f->de->n) {
            char m[900];
            snprintf(m, sizeof m, "%s:%zu%s", f->name, f->de->lines[f->from + k - 1].idx + 1, end);
            report(f->u, m);
            return;
        }
    }
    report(f->u, message);
}

/* Applies the events of days up to `day` not yet fed (*next is the first
 * line not fed). */
static int feed_events(tm_store *s, const tm_keys *keys, day_events *de, size_t *next, int64_t day,
                       const char *name, ui *u, long *applied, struct tm_err *err)
{
    size_t from = *next, to = from;
    while (to < de->n && de->lines[to].day <= day)
        to++;
    if (to == from)
        return TM_OK;
    size_t total = 0;
    for (size_t i = from; i < to; i++)
        total += de->lines[i].len + 1;
    char *chunk = malloc(total + 1);
    if (!chunk)
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    size_t off = 0;
    for (size_t i = from; i < to; i++) {
        memcpy(chunk + off, de->lines[i].p, de->lines[i].len);
        off += de->lines[i].len;
        chunk[off++] = '\n';
    }
    FILE *in = fmemopen(chunk, off, "rb");
    if (!in) {
        free(chunk);
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    feed_ctx fc = {.u = u, .name = name, .de = de, .from = from};
    tm_import_opts o = {.name = name, .actor = "run", .now = (day + 1) * 86400 - 1,
                        .reject = feed_reject, .ud = &fc};
    tm_event_stats es;
    int rc = tm_apply_events(s, keys, in, &o, &es, err);
    fclose(in);
    free(chunk);
    *applied += es.applied;
    *next = to;
    return rc;
}

static void day_name(int64_t day, char *buf, size_t cap)
{
    tm_date d;
    tm_calendar_days_to_date(day, &d);
    tm_calendar_format_date(d, buf, cap, NULL);
}

/* A run for a day before the last day the store has worked moves the cycle
 * back (its last day, then the days after it, are worked again): refused
 * unless asked for with --rewind, and then said and audited. */
static int check_rewind(tm_store *s, const uint8_t akey[32], int64_t day, uint64_t days, int rewind,
                        struct tm_err *err)
{
    int64_t last = 0;
    int found = 0;
    int rc = tm_store_cycle_get(s, "last_day", &last, &found, err);
    if (rc != TM_OK || !found || day >= last)
        return rc;
    char from[16], to[16];
    day_name(last, from, sizeof from);
    day_name(day, to, sizeof to);
    if (!rewind)
        return tm_err_set(err, TM_EINVAL,
                          "--date %s is before %s, the last day this store has worked; running it "
                          "would move the cycle back: give --rewind to do so (it is audited)",
                          to, from);
    fprintf(stderr, "tallyman: rewinding the cycle from %s, the last day worked, to %s (audited)\n",
            from, to);
    char details[200];
    tm_buf db;
    tm_buf_fixed(&db, details, sizeof details);
    tm_jw jw;
    tm_jw_init(&jw, &db, 0);
    tm_jw_obj(&jw);
    tm_jw_key(&jw, "last_day");
    tm_jw_str(&jw, from);
    tm_jw_key(&jw, "to");
    tm_jw_str(&jw, to);
    tm_jw_key(&jw, "days");
    tm_jw_int(&jw, (int64_t)days);
    tm_jw_obj_end(&jw);
    if ((rc = tm_buf_done(&db, "the rewind's audit record", err)) != TM_OK)
        return rc;
    rc = tm_store_begin(s, err);
    if (rc == TM_OK)
        rc = tm_audit_append(s, akey, day * 86400, "run", "cycle.rewind", "cycle", details, err);
    if (rc == TM_OK)
        rc = tm_store_commit(s, err);
    else
        tm_store_rollback(s);
    return rc;
}

int tm_cmd_run(tm_cli *cli)
{
    int64_t day = (int64_t)time(NULL) / 86400;
    uint64_t days = 1;
    const char *spool = NULL, *webhook = NULL, *events = NULL;
    tm_webhook_opts wopts = {0};
    const char *secret_file = NULL;
    char secret[4096];
    int quiet = 0, rewind = 0;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t workers = ncpu < 1 ? 1 : ncpu > 16 ? 16 : (uint64_t)ncpu;
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        const char *v = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(run_help, stdout);
            return TM_EXIT_OK;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--rewind") == 0) {
            rewind = 1;
        } else if (strcmp(a, "--date") == 0 && v) {
            struct tm_err e = {0};
            if (tm_valid_date(v, &day, &e) != TM_OK)
                return tm_cli_usage_error("run", "--date: %s", e.msg);
            i++;
        } else if (strcmp(a, "--days") == 0 && v) {
            if (tm_cli_parse_u64(v, 3660, &days) != 0 || days == 0)
                return tm_cli_usage_error("run", "--days needs a number from 1 to 3660");
            i++;
        } else if (strcmp(a, "--events") == 0 && v) {
            events = v;
            i++;
        } else if (strcmp(a, "--spool") == 0 && v) {
            spool = v;
            i++;
        } else if (strcmp(a, "--webhook") == 0 && v) {
            webhook = v;
            i++;
        } else if (strcmp(a, "--workers") == 0 && v) {
            if (tm_cli_parse_u64(v, 64, &workers) != 0)
                return tm_cli_usage_error("run", "--workers needs a number from 0 to 64");
            i++;
        } else if (strcmp(a, "--webhook-ca") == 0 && v) {
            wopts.ca_file = v;
            i++;
        } else if (strcmp(a, "--webhook-cert") == 0 && v) {
            wopts.client_cert = v;
            i++;
        } else if (strcmp(a, "--webhook-key") == 0 && v) {
            wopts.client_key = v;
            i++;
        } else if (strcmp(a, "--webhook-secret") == 0 && v) {
            secret_file = v;
            i++;
        } else {
            return tm_cli_usage_error("run", "unknown option or missing value '%s'", a);
        }
    }
    if (spool && webhook)
        return tm_cli_usage_error("run", "give --spool or --webhook, not both");
    /* The default spool lies beside the store's file; a PostgreSQL store
     * has none. */
    if (!spool && !webhook && tm_store_is_url(cli->db))
        return tm_cli_usage_error("run", "a PostgreSQL store needs --spool DIR or --webhook URL");
    /* TLS options without a webhook would be ignored silently: say so instead. */
    if (!webhook && (wopts.ca_file || wopts.client_cert || wopts.client_key || secret_file))
        return tm_cli_usage_error("run", "--webhook-ca, --webhook-cert, --webhook-key and "
                                         "--webhook-secret need --webhook");
    if (wopts.client_key && !wopts.client_cert)
        return tm_cli_usage_error("run", "--webhook-key needs --webhook-cert");
    if (!tm_cli_store_exists(cli, "import accounts"))
        return TM_EXIT_FAIL;
    struct tm_err e = {0};
    tm_keys *keys = NULL;
    tm_store *s = NULL;
    tm_engine *eng = NULL;
    tm_adapter *out = NULL;
    tm_lease_hold *lease = NULL;
    int exit_code = TM_EXIT_FAIL;
    /* The cycle reads the key file again when `keys rotate` adds a version
     * while it runs. */
    char kpath[4096];
    tm_cli_key_path(cli, kpath, sizeof kpath);
    /* What runs is the store's active set, or a working tree named as a
     * draft (tm_engine_script_set). */
    tm_gen *set = NULL;
    int draft = 0;
    if ((exit_code = tm_engine_script_set(cli, 1, &set, &draft)) != TM_EXIT_OK)
        goto done;
    exit_code = TM_EXIT_FAIL;
    if (tm_cli_open_store(cli, TM_CLI_KEYS_WRITE, &s, &keys) != TM_EXIT_OK)
        goto done;
    /* A script set that does not load whole is not run: a missing journey
     * would silently leave debts unworked. One sandbox per worker, from the
     * same generation as the first (its problems are reported once). */
    tm_engine_opts eo = {.gen = set, .workers = (int)workers,
                         .gate_problem = tm_cli_warn_gate_problem,
                         .journey_problem = tm_cli_warn_journey_problem};
    int failed_at = 0;
    if (tm_engine_open(&eo, TM_ENGINE_GATE | TM_ENGINE_JOURNEYS | TM_ENGINE_WHOLE, &eng, &failed_at,
                       &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s%s\n",
                failed_at == TM_ENGINE_AT_SCRIPTS ? "the script set does not load: " : "", e.msg);
        goto done;
    }
    if (tm_journeys_count(eng->js) == 0) {
        fprintf(stderr, "tallyman: no journeys in the script set's strategies/: nothing would be "
                        "worked\n");
        goto done;
    }
    {
        uint8_t rkey[32];
        tm_portfolio_audit_key(keys, rkey);
        int rrc = check_rewind(s, rkey, day, days, rewind, &e);
        OPENSSL_cleanse(rkey, sizeof rkey);
        if (rrc != TM_OK) {
            fprintf(stderr, "tallyman: %s\n", e.msg);
            goto done;
        }
    }
    char spool_default[4200];
    if (webhook) {
        if (secret_file) {
            /* The secret is read from a file, never the command line (ps shows that). */
            FILE *sf = fopen(secret_file, "r");
            size_t sl = 0;
            if (sf && fgets(secret, sizeof secret, sf))
                sl = strcspn(secret, "\r\n");
            if (sf)
                fclose(sf);
            if (sl == 0) {
                fprintf(stderr, "tallyman: %s: %s\n", secret_file,
                        sf ? "no signing secret on its first line" : strerror(errno));
                goto done;
            }
            wopts.signing_secret = secret;
            wopts.signing_secret_len = sl;
        }
        int wrc = tm_webhook_open(webhook, &wopts, &out, &e);
        OPENSSL_cleanse(secret, sizeof secret);
        if (wrc != TM_OK) {
            fprintf(stderr, "tallyman: %s\n", e.msg);
            goto done;
        }
    } else {
        if (!spool) {
            snprintf(spool_default, sizeof spool_default, "%s.spool", cli->db);
            spool = spool_default;
        }
        if (tm_spool_open(spool, &out, &e) != TM_OK) {
            fprintf(stderr, "tallyman: %s\n", e.msg);
            goto done;
        }
    }
    uint8_t akey[32];
    tm_portfolio_audit_key(keys, akey);
    char dayname[16];
    ui u = {.tty = isatty(2), .day = dayname};
    /* One run at a time on a store, whatever its spool: two would send the
     * same ready messages. */
    if (tm_lease_acquire(s, "cycle", (int64_t)time(NULL), akey, say, NULL, &lease, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        goto done;
    }
    tm_cycle_opts opts = {.audit_key = akey, .report = report, .report_ud = &u,
                          .progress = progress, .progress_ud = &u, .engines = eng->workers,
                          .nengines = eng->nworkers, .lease = lease, .key_path = kpath};
    tm_cycle_stats total;
    memset(&total, 0, sizeof total);
    exit_code = TM_EXIT_OK;
    day_events de;
    memset(&de, 0, sizeof de);
    size_t next_event = 0;
    long fed = 0;
    if (events && load_events(events, &de, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        exit_code = TM_EXIT_FAIL;
        days = 0;
    }
    for (uint64_t k = 0; k < days; k++) {
        opts.day = day + (int64_t)k;
        tm_date dd;
        tm_calendar_days_to_date(opts.day, &dd);
        tm_calendar_format_date(dd, dayname, sizeof dayname, NULL);
        if (events && feed_events(s, keys, &de, &next_event, opts.day, events, &u, &fed, &e) != TM_OK) {
            fprintf(stderr, "tallyman: %s: %s\n", events, e.msg);
            exit_code = TM_EXIT_FAIL;
            break;
        }
        tm_cycle_stats st;
        if (tm_cycle_run(s, keys, eng->sb, eng->gate, eng->js, out, &opts, &st, &e) != TM_OK) {
            fprintf(stderr, "tallyman: %s: %s\n", dayname, e.msg);
            exit_code = TM_EXIT_FAIL;
            break;
        }
        if (!quiet && days > 1)
            printf("%s: %ld started, %ld events, %ld timers; %ld sent, %ld blocked\n", dayname,
                   st.started, st.events, st.timers, st.sent, st.blocked);
        else if (days == 1 && !quiet)
            printf("%s\n", dayname);
        tm_cycle_stats_add(&total, &st);
        if (st.step_errors || st.receiver_refused || st.rule_failures)
            exit_code = TM_EXIT_FAIL;
    }
    free(de.text);
    free(de.lines);
    if (days > 1 && !quiet)
        printf("\n%llu days:\n", (unsigned long long)days);
    if (events) {
        printf("events fed from %s: %ld applied, %ld rejected\n", events, fed, u.rejected);
        if (u.rejected)
            exit_code = TM_EXIT_FAIL; /* as `tallyman event` does */
    }
    tm_cycle_print(stdout, &total);
    /* What a new user asks next: where the messages are, why a quiet day
     * was quiet, and what the skipped contacts mean. */
    if (total.sent || total.retry || total.failed)
        printf("messages went to %s %s\n", webhook ? "the webhook" : "the spool", webhook ? webhook : spool);
    if (total.planned == 0 && total.started == 0 && total.events == 0 && total.timers == 0) {
        int64_t next_at = 0, next_n = 0;
        if (tm_store_timers_next(s, (day + (int64_t)days) * 86400, &next_at, &next_n, &e) != TM_OK) {
            fprintf(stderr, "tallyman: %s\n", e.msg);
            exit_code = TM_EXIT_FAIL;
        } else if (next_at) {
            char t[40];
            tm_calendar_format_rfc3339(next_at, 0, t, sizeof t, NULL);
            printf("nothing to do: no new debts, events or timers; the next timers fall due at %s (%lld that "
                   "day): run --date %.10s\n", t, (long long)next_n, t);
        } else {
            printf("nothing to do: no new debts, events or timers, and no timer is set\n");
        }
    }
    if (total.skipped)
        printf("%ld contacts were skipped (blocked by the gate with no retry that day, or the debt closed; "
               "the rules are under \"blocked by rule\"): `tallyman why DEBT_ID` shows a debt's verdicts and "
               "`tallyman decide --explain` why a rule applies\n",
               total.skipped);
    if (draft)
        printf("DRAFT: script set %s from the working tree %s (not the store's active set)\n",
               tm_gen_hash(eng->gen), cli->scripts);
    else
        printf("script set %s (active)\n", tm_gen_hash(eng->gen));
    {
        printf("debts by journey and state:\n");
        if (tm_store_journey_counts(s, print_count, NULL, &e) != TM_OK) {
            fprintf(stderr, "tallyman: %s\n", e.msg);
            exit_code = TM_EXIT_FAIL;
        }
    }
done:
    if (tm_lease_release(lease, &e) != TM_OK) {
        fprintf(stderr, "tallyman: releasing the run's lease: %s (the next run takes it over)\n", e.msg);
        exit_code = TM_EXIT_FAIL;
    }
    tm_adapter_free(out);
    tm_engine_close(eng);
    tm_gen_release(set);
    tm_store_close(s);
    tm_keys_free(keys);
    return exit_code;
}
