/*
 * app/cli.h: what every `tallyman` command shares: global options, the
 * default script tree, usage errors, and the command table.
 */
#ifndef TM_CLI_H
#define TM_CLI_H

#include <stdint.h>

#include "keys.h"
#include "store.h"

#define TM_VERSION "0.1.0"

/* Exit codes (CONTRACT.md): success, a failure in the work, wrong usage. */
enum { TM_EXIT_OK = 0, TM_EXIT_FAIL = 1, TM_EXIT_USAGE = 2 };

typedef struct tm_cli {
    const char *prog;       /* argv[0] */
    const char *scripts;    /* --scripts DIR, or the default tree */
    const char *db;         /* --db PATH|URL (default "tallyman.db") */
    const char *key_file;   /* --key-file PATH, or $TALLYMAN_KEY_FILE, or NULL */
    int scripts_given;      /* --scripts was on the command line */
    int db_given;           /* --db was on the command line */
    int draft;              /* --draft: run the working tree, not the store's active set */
    int argc;               /* the command's own arguments, global options removed */
    char **argv;            /* argv[0] is the command name */
} tm_cli;

/* Prints "tallyman: <message>" and a hint to stderr; returns TM_EXIT_USAGE. */
int tm_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a non-negative decimal integer option value into *out (at most
 * `max`). Returns 0 on success, -1 when `s` is not such a number. */
int tm_cli_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* The key file: --key-file (or $TALLYMAN_KEY_FILE, read into cli->key_file),
 * else <db>.key. */
void tm_cli_key_path(const tm_cli *cli, char *buf, size_t cap);

/* How a command uses the key file (tm_cli_open_keys). READ: audit verify
 * and export; the store is checked, nothing recorded. WRITE: the store's
 * check values for new key versions are recorded. CREATE: also makes the
 * default key file (<db>.key) when it is missing and the store holds no data
 * yet (CONTRACT.md: "created ... on first use"). */
enum { TM_CLI_KEYS_READ, TM_CLI_KEYS_WRITE, TM_CLI_KEYS_CREATE };

/* The one way a command gets its keys for the open store `s`: loads the key
 * file (tm_cli_key_path), or makes it as `mode` allows, and checks that it is
 * the store's (tm_keycheck: a foreign file, or one that lacks the store's
 * current version, is refused before anything is written). A missing key
 * file for a store that holds data is an error, never a new key. On success
 * *keys is the key set (caller frees with tm_keys_free) and TM_EXIT_OK is
 * returned; on failure the reason, naming the key file and the store, is on
 * stderr, *keys is NULL and TM_EXIT_FAIL is returned. */
int tm_cli_open_keys(const tm_cli *cli, tm_store *s, int mode, tm_keys **keys);

/* tm_cli_open_keys for keys already loaded from tm_cli_key_path (simulate
 * loads them before it has a store to check them against). */
int tm_cli_check_keys(const tm_cli *cli, tm_store *s, const tm_keys *keys, int mode);

/* Opens cli->db (creating it when missing, as tm_store_open does) and its
 * keys with tm_cli_open_keys. On failure says why on stderr, leaves both
 * NULL and returns TM_EXIT_FAIL; callers that must not create a store check
 * tm_cli_store_exists first. */
int tm_cli_open_store(const tm_cli *cli, int mode, tm_store **s, tm_keys **keys);

/* 1 when the store at cli->db exists (a URL is taken as existing); else
 * says "no such store (<first> first)" on stderr and returns 0, so a
 * command never leaves an empty store behind. */
int tm_cli_store_exists(const tm_cli *cli, const char *first);

/* The default script tree: scripts/ beside the binary's repo, else the
 * installed share directory. Returns a static string. */
const char *tm_cli_default_scripts(void);

/* Reports a regulation that failed to load while the gate was built
 * (a tm_gate_report_fn): its rules fail closed, the run goes on. */
void tm_cli_warn_gate_problem(void *ud, const char *message, int fatal);

/* Reports a journey that failed to load and was left out (its debts are
 * not worked by it); the run goes on. */
void tm_cli_warn_journey_problem(void *ud, const char *message);

/* Commands. Each returns an exit code. */
int tm_cmd_eval(tm_cli *cli);
int tm_cmd_decide(tm_cli *cli);
int tm_cmd_test(tm_cli *cli);
int tm_cmd_lint(tm_cli *cli);
int tm_cmd_import(tm_cli *cli);
int tm_cmd_event(tm_cli *cli);
int tm_cmd_keys(tm_cli *cli);
int tm_cmd_audit(tm_cli *cli);
int tm_cmd_scripts(tm_cli *cli);
int tm_cmd_score(tm_cli *cli);
int tm_cmd_graph(tm_cli *cli);
int tm_cmd_regulations(tm_cli *cli);
int tm_cmd_run(tm_cli *cli);
int tm_cmd_simulate(tm_cli *cli);
int tm_cmd_queue(tm_cli *cli);
int tm_cmd_why(tm_cli *cli);
int tm_cmd_pay(tm_cli *cli);
int tm_cmd_tokens(tm_cli *cli);
int tm_cmd_serve(tm_cli *cli);
int tm_cmd_users(tm_cli *cli);
/* `tallyman store copy --from STORE --to STORE` (app/cmd_store.c). */
int tm_cmd_store(tm_cli *cli);

/* The person running the command: the operating system's user name of the
 * effective user (getpwuid(geteuid())), never a name given as an option.
 * Returns a static string; NULL (said on stderr) when it has none. */
const char *tm_cli_person(void);

/* The text of an import's progress bar (without the leading carriage
 * return) into out[cap], always NUL-terminated, cut short when cap is too
 * small: "[###.......] 52% 5.2 MB 123456 rows 41000 rows/s 0:12 left" when
 * the input's size `total` is known, "5.2 MB read 123456 rows 41000 rows/s"
 * when it is 0. `done` is the bytes read, `rows` the rows read, `elapsed`
 * the seconds since the start; the rate and time left are left out until
 * elapsed is positive and something was read. */
void tm_cli_progress_line(char *out, size_t cap, uint64_t done, uint64_t total, uint64_t rows,
                          double elapsed);

#endif
