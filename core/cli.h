/*
 * core/cli.h: what every `tallyman` command shares: global options, the
 * default script tree, usage errors, and the command table.
 */
#ifndef TM_CLI_H
#define TM_CLI_H

#include <stdint.h>

#define TM_VERSION "0.1.0"

/* Exit codes (CONTRACT.md): success, a failure in the work, wrong usage. */
enum { TM_EXIT_OK = 0, TM_EXIT_FAIL = 1, TM_EXIT_USAGE = 2 };

typedef struct tm_cli {
    const char *prog;       /* argv[0] */
    const char *scripts;    /* --scripts DIR, or the default tree */
    const char *db;         /* --db PATH|URL (default "tallyman.db") */
    const char *key_file;   /* --key-file PATH, or $TALLYMAN_KEY_FILE, or NULL */
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
int tm_cmd_run(tm_cli *cli);
int tm_cmd_simulate(tm_cli *cli);
int tm_cmd_queue(tm_cli *cli);
int tm_cmd_pay(tm_cli *cli);

#endif
