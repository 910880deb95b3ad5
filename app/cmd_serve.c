/*
 * app/cmd_serve.c: `tallyman serve` (CONTRACT.md, "The service"): its
 * options; the service itself is app/serve.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "serve.h"

static const char serve_help[] =
    "usage: tallyman serve --listen ADDR:PORT [--tls-cert FILE --tls-key FILE] [options]\n"
    "\n"
    "The engine as an HTTP API (JSON): POST /v1/decide (a request, or an array of them,\n"
    "as `tallyman decide` takes them; \"record\": true keeps the decision in the store),\n"
    "POST /v1/events, POST /v1/accounts (a JSON array or JSON lines, as `tallyman event`\n"
    "and `import accounts`), GET /v1/debts/{id}, GET /healthz, GET /readyz, GET /metrics.\n"
    "Every route but /healthz and /readyz needs Authorization: Bearer TOKEN (`tallyman\n"
    "tokens create`). Plain HTTP only on a loopback address, unless --insecure-http.\n"
    "One JSON line per request goes to the log (stderr, or --log FILE).\n"
    "What runs is the store's active script set (tallyman scripts); a set activated or\n"
    "rolled back is taken up within a second, without a signal, and no request fails.\n"
    "--scripts DIR --draft serves a working tree instead, each decision marked draft.\n"
    "GET/POST /v1/scripts... list, show, diff, approve, activate and roll back sets.\n"
    "SIGHUP reloads the active set and the TLS files; SIGTERM stops accepting, lets the\n"
    "requests in flight finish and exits 0.\n"
    "\n"
    "Options (with --db, and --scripts DIR --draft):\n"
    "  --listen ADDR:PORT      where to listen (port 0: any free port, told on stderr)\n"
    "  --tls-cert FILE         certificate chain (PEM); with --tls-key, serve HTTPS\n"
    "  --tls-key FILE          private key (PEM)\n"
    "  --insecure-http         allow plain HTTP on a non-loopback address\n"
    "  --workers N             worker threads (default: the number of CPUs)\n"
    "  --max-body BYTES        largest request body (default 8388608)\n"
    "  --max-headers BYTES     largest request line and headers (default 16384)\n"
    "  --idle-timeout SECONDS  a silent connection is closed after this (default 30)\n"
    "  --max-connections N     open connections at most (default 1024)\n"
    "  --drain SECONDS         SIGTERM: time the requests in flight get (default 10)\n"
    "  --log FILE              the request log (default: stderr)\n"
    "  --rate-limit N/s        requests a second each token or person may make, with a\n"
    "                          burst of N (429 with Retry-After beyond); a token's own\n"
    "                          limit (tokens create --rate-limit) comes first (default: none)\n";

int tm_cmd_serve(tm_cli *cli)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    tm_serve_opts o = {
        .workers = ncpu > 0 ? (int)(ncpu > 64 ? 64 : ncpu) : 2,
        .max_body = 8u << 20,
        .max_headers = 16384,
        .idle_timeout = 30,
        .max_conns = 1024,
        .drain_seconds = 10,
    };
    for (int i = 1; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(serve_help, stdout);
            return TM_EXIT_OK;
        }
        /* Not in the help: the route table, for the tests that walk it. */
        if (strcmp(a, "--routes") == 0) {
            tm_serve_routes_print(stdout);
            return TM_EXIT_OK;
        }
        if (strcmp(a, "--insecure-http") == 0) {
            o.insecure_http = 1;
            continue;
        }
        if (strcmp(a, "--rate-limit") == 0) {
            if (i + 1 >= cli->argc || tm_serve_parse_rate(cli->argv[++i], &o.rate_limit) != 0)
                return tm_cli_usage_error("serve", "--rate-limit: requests a second, e.g. 50/s "
                                                   "(1 to 100000)");
            continue;
        }
        const char **sslot = strcmp(a, "--listen") == 0     ? &o.listen
                             : strcmp(a, "--tls-cert") == 0 ? &o.tls_cert
                             : strcmp(a, "--tls-key") == 0  ? &o.tls_key
                             : strcmp(a, "--log") == 0      ? &o.log_path
                                                            : NULL;
        struct {
            const char *name;
            uint64_t min, max;
        } nums[] = {{"--workers", 1, 64},           {"--max-body", 1024, 1u << 30},
                    {"--max-headers", 1024, 1u << 20}, {"--idle-timeout", 1, 86400},
                    {"--max-connections", 1, 1000000}, {"--drain", 0, 3600}};
        int ni = -1;
        for (int k = 0; k < (int)(sizeof nums / sizeof *nums); k++)
            if (strcmp(a, nums[k].name) == 0)
                ni = k;
        if (!sslot && ni < 0)
            return tm_cli_usage_error("serve", "unknown option '%s'", a);
        if (i + 1 >= cli->argc)
            return tm_cli_usage_error("serve", "%s needs a value", a);
        const char *v = cli->argv[++i];
        if (sslot) {
            *sslot = v;
            continue;
        }
        uint64_t n;
        if (tm_cli_parse_u64(v, nums[ni].max, &n) != 0 || n < nums[ni].min)
            return tm_cli_usage_error("serve", "%s: a whole number from %llu to %llu: '%s'", a,
                                      (unsigned long long)nums[ni].min,
                                      (unsigned long long)nums[ni].max, v);
        switch (ni) {
        case 0: o.workers = (int)n; break;
        case 1: o.max_body = (size_t)n; break;
        case 2: o.max_headers = (size_t)n; break;
        case 3: o.idle_timeout = (int)n; break;
        case 4: o.max_conns = (int)n; break;
        default: o.drain_seconds = (int)n; break;
        }
    }
    if (!o.listen)
        return tm_cli_usage_error("serve", "--listen ADDR:PORT is required");
    if ((o.tls_cert == NULL) != (o.tls_key == NULL))
        return tm_cli_usage_error("serve", "--tls-cert and --tls-key go together");
    if (o.max_conns < o.workers)
        o.workers = o.max_conns;
    return tm_serve_run(cli, &o);
}
