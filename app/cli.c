/*
 * app/cli.c: what every command shares (cli.h): usage errors, the store and
 * key file a command opens (with the check that the key file is the
 * store's), number parsing and the default script tree.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "keycheck.h"

int tm_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tallyman: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "Try 'tallyman %s --help'.\n", cmd);
    else
        fputs("Try 'tallyman --help'.\n", stderr);
    return TM_EXIT_USAGE;
}

int tm_cli_store_exists(const tm_cli *cli, const char *first)
{
    struct stat st;
    if (strstr(cli->db, "://") != NULL || stat(cli->db, &st) == 0)
        return 1;
    fprintf(stderr,
            "tallyman: %s: no such store (%s first: `tallyman --db %s import accounts FILE` "
            "creates one with a portfolio, `tallyman --db %s users add %s --role admin` one with "
            "its first person)\n",
            cli->db, first, cli->db, cli->db, tm_cli_person() ? tm_cli_person() : "NAME");
    return 0;
}

const char *tm_cli_person(void)
{
    static char name[65];
    struct passwd *pw = getpwuid(geteuid());
    if (pw == NULL || pw->pw_name == NULL || !pw->pw_name[0] || strlen(pw->pw_name) >= sizeof name) {
        fprintf(stderr, "tallyman: user id %u has no user name: who is acting cannot be told\n",
                (unsigned)geteuid());
        return NULL;
    }
    snprintf(name, sizeof name, "%s", pw->pw_name);
    return name;
}

void tm_cli_key_path(const tm_cli *cli, char *buf, size_t cap)
{
    if (cli->key_file)
        snprintf(buf, cap, "%s", cli->key_file);
    else
        snprintf(buf, cap, "%s.key", cli->db);
}

int tm_cli_check_keys(const tm_cli *cli, tm_store *s, const tm_keys *keys, int mode)
{
    char path[4096];
    tm_cli_key_path(cli, path, sizeof path);
    struct tm_err e = {0};
    if (tm_keycheck(s, keys, path, cli->db, mode != TM_CLI_KEYS_READ, (int64_t)time(NULL), &e) !=
        TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    return TM_EXIT_OK;
}

int tm_cli_open_keys(const tm_cli *cli, tm_store *s, int mode, tm_keys **keys)
{
    *keys = NULL;
    char path[4096];
    tm_cli_key_path(cli, path, sizeof path);
    struct tm_err e = {0};
    struct stat st;
    int rc;
    /* A PostgreSQL store has no file beside which a key could lie, and its
     * key never goes into the database: it must be named. */
    if (tm_store_is_url(cli->db) && !cli->key_file) {
        fprintf(stderr,
                "tallyman: %s is a PostgreSQL store: give its key file with --key-file or "
                "$TALLYMAN_KEY_FILE (the key is never kept in the database)\n",
                cli->db);
        return TM_EXIT_FAIL;
    }
    if (stat(path, &st) != 0 && errno == ENOENT && (!cli->key_file || tm_store_is_url(cli->db))) {
        /* Only a store with nothing in it may get a new key: one that holds
         * data was written with a key a new file would not have, and using
         * a new one would leave that data unreadable and its chain broken. */
        int in_use = 1;
        if (tm_keycheck_store_in_use(s, &in_use, &e) != TM_OK) {
            fprintf(stderr, "tallyman: %s\n", e.msg);
            return TM_EXIT_FAIL;
        }
        /* (Unless another process, first to use the store, made it meanwhile.) */
        if (in_use && stat(path, &st) != 0) {
            fprintf(stderr,
                    "tallyman: key file %s is missing, and store %s already holds data: give its "
                    "key file with --key-file or $TALLYMAN_KEY_FILE (a new key could not read "
                    "it)\n",
                    path, cli->db);
            return TM_EXIT_FAIL;
        }
        if (!in_use && mode == TM_CLI_KEYS_CREATE) {
            rc = tm_keys_create(path, keys, &e);
            if (rc == TM_OK)
                fprintf(stderr,
                        "tallyman: created the key file %s (mode 0600). Keep it safe and apart "
                        "from the database: without it the personal data cannot be read.\n",
                        path);
            else if (rc == TM_EEXIST) /* made meanwhile by another process: use that one */
                rc = tm_keys_load(path, keys, &e);
            if (rc != TM_OK) {
                fprintf(stderr, "tallyman: %s\n", e.msg);
                return TM_EXIT_FAIL;
            }
        }
    }
    if (!*keys && tm_keys_load(path, keys, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    if (tm_cli_check_keys(cli, s, *keys, mode) != TM_EXIT_OK) {
        tm_keys_free(*keys);
        *keys = NULL;
        return TM_EXIT_FAIL;
    }
    return TM_EXIT_OK;
}

int tm_cli_open_store(const tm_cli *cli, int mode, tm_store **s, tm_keys **keys)
{
    *keys = NULL;
    struct tm_err e = {0};
    if (tm_store_open(cli->db, s, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        *s = NULL;
        return TM_EXIT_FAIL;
    }
    if (tm_cli_open_keys(cli, *s, mode, keys) != TM_EXIT_OK) {
        tm_store_close(*s);
        *s = NULL;
        return TM_EXIT_FAIL;
    }
    return TM_EXIT_OK;
}

int tm_cli_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

void tm_cli_warn_gate_problem(void *ud, const char *message, int fatal)
{
    (void)ud;
    if (fatal)
        fprintf(stderr, "tallyman: warning: %s (its rules fail closed)\n", message);
}

void tm_cli_warn_journey_problem(void *ud, const char *message)
{
    (void)ud;
    fprintf(stderr, "tallyman: journey left out: %s\n", message);
}

const char *tm_cli_default_scripts(void)
{
    static char found[PATH_MAX];
    if (found[0])
        return found;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        /* ./tallyman in the repo, build/<variant>/tallyman, or PREFIX/bin. */
        static const char *const rel[] = {"/scripts", "/../../scripts", "/../share/tallyman/scripts"};
        for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
            char cand[PATH_MAX + 64];
            snprintf(cand, sizeof cand, "%s%s", exe, rel[i]);
            char real[PATH_MAX];
            if (is_dir(cand) && realpath(cand, real)) {
                snprintf(found, sizeof found, "%s", real);
                return found;
            }
        }
    }
    snprintf(found, sizeof found, "scripts");
    return found;
}

void tm_cli_progress_line(char *out, size_t cap, uint64_t done, uint64_t total, uint64_t rows,
                          double elapsed)
{
    if (!out || cap == 0)
        return;
    tm_buf b = TM_BUF_INIT;
    if (total) {
        int pct = (int)(done >= total ? 100 : done * 100 / total);
        char bar[31];
        int fill = pct * 30 / 100;
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        tm_buf_printf(&b, "[%s] %3d%% %.1f MB", bar, pct, (double)done / 1e6);
    } else {
        tm_buf_printf(&b, "%.1f MB read", (double)done / 1e6);
    }
    tm_buf_printf(&b, " %llu rows", (unsigned long long)rows);
    if (elapsed > 0 && rows > 0) {
        tm_buf_printf(&b, " %.0f rows/s", (double)rows / elapsed);
        /* Time left from the bytes still to read at the rate read so far:
         * rows vary in length, bytes are what the size tells. */
        if (total && done > 0 && done < total) {
            double left = (double)(total - done) * elapsed / (double)done;
            long s = (long)(left + 0.5);
            if (s >= 3600)
                tm_buf_printf(&b, " %ld:%02ld:%02ld left", s / 3600, s / 60 % 60, s % 60);
            else
                tm_buf_printf(&b, " %ld:%02ld left", s / 60, s % 60);
        }
    }
    snprintf(out, cap, "%s", b.failed || !b.data ? "" : b.data);
    tm_buf_free(&b);
}
