/*
 * app/engine.c: starting the scripts a command runs (engine.h): the
 * generation, the sandbox, the gate and journeys in it, and the cycle's
 * worker engines.
 */
#include "engine.h"

#include <dirent.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit.h"
#include "portfolio.h"

/* TM_ENGINE_WHOLE: counts the problems that leave a part of the set out,
 * telling each to the caller's callback as before. */
typedef struct whole_ctx {
    const tm_engine_opts *o;
    int gate, journeys;
} whole_ctx;

static void whole_gate(void *ud, const char *message, int fatal)
{
    whole_ctx *w = ud;
    if (fatal)
        w->gate++;
    if (w->o->gate_problem)
        w->o->gate_problem(w->o->ud, message, fatal);
}

static void whole_journey(void *ud, const char *message)
{
    whole_ctx *w = ud;
    w->journeys++;
    if (w->o->journey_problem)
        w->o->journey_problem(w->o->ud, message);
}

int tm_engine_open(const tm_engine_opts *o, unsigned load, tm_engine **out, int *failed_at,
                   struct tm_err *err)
{
    int at = 0;
    *out = NULL;
    const unsigned both = TM_ENGINE_GATE | TM_ENGINE_JOURNEYS;
    /* A worker without a gate could not judge a contact. */
    if (o->workers > 0 && ((load & both) != both || (load & TM_ENGINE_GATE_OPTIONAL))) {
        if (failed_at)
            *failed_at = TM_ENGINE_AT_WORKERS;
        return tm_err_set(err, TM_EINVAL, "worker engines need the gate and the journeys");
    }
    int whole = (load & TM_ENGINE_WHOLE) != 0;
    whole_ctx w = {.o = o};
    tm_gen *gen = o->gen;
    int rc = TM_OK;
    if (gen)
        tm_gen_retain(gen);
    else if (o->scripts)
        rc = load & TM_ENGINE_LENIENT
                 ? tm_gen_load_lenient(o->scripts, &gen, o->script_problem, o->ud, err)
                 : tm_gen_load(o->scripts, &gen, err);
    if (rc != TM_OK) {
        if (failed_at)
            *failed_at = TM_ENGINE_AT_SCRIPTS;
        return rc;
    }
    tm_engine *e = calloc(1, sizeof *e);
    if (!e) {
        tm_gen_release(gen);
        if (failed_at)
            *failed_at = TM_ENGINE_AT_SANDBOX;
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    e->gen = gen;
    e->sb = tm_sandbox_new(gen, NULL, err);
    if (!e->sb) {
        at = TM_ENGINE_AT_SANDBOX;
        rc = err && err->code ? err->code : TM_ENOMEM;
    }
    if (rc == TM_OK && (load & TM_ENGINE_GATE)) {
        /* An optional gate's failure is kept on the engine, not returned. */
        int optional = (load & TM_ENGINE_GATE_OPTIONAL) != 0;
        rc = whole ? tm_lb_gate_load(e->sb, &e->gate, whole_gate, &w, err)
                   : tm_lb_gate_load(e->sb, &e->gate, o->gate_problem, o->ud,
                                     optional ? &e->gate_err : err);
        if (rc != TM_OK && optional)
            rc = TM_OK;
        else if (rc != TM_OK)
            at = TM_ENGINE_AT_GATE;
        else if (w.gate) {
            at = TM_ENGINE_AT_GATE;
            rc = tm_err_set(err, TM_ESYNTAX,
                            "%d problem%s above: a regulation that does not load is not run",
                            w.gate, w.gate == 1 ? "" : "s");
        }
    }
    if (rc == TM_OK && (load & TM_ENGINE_JOURNEYS)) {
        rc = whole ? tm_journeys_load(e->sb, &e->js, whole_journey, &w, err)
                   : tm_journeys_load(e->sb, &e->js, o->journey_problem, o->ud, err);
        if (rc != TM_OK)
            at = TM_ENGINE_AT_JOURNEYS;
        else if (w.journeys) {
            at = TM_ENGINE_AT_JOURNEYS;
            rc = tm_err_set(err, TM_ESYNTAX,
                            "%d journey%s above do%s not load: a set with a journey left out is "
                            "not run",
                            w.journeys, w.journeys == 1 ? "" : "s", w.journeys == 1 ? "es" : "");
        }
    }
    if (rc == TM_OK && o->workers > 0) {
        tm_cycle_engine first = {.sb = e->sb, .gate = e->gate, .js = e->js};
        rc = tm_cycle_engines_load(gen, &first, o->workers, &e->workers, &e->nworkers, err);
        if (rc != TM_OK)
            at = TM_ENGINE_AT_WORKERS;
    }
    if (rc != TM_OK) {
        tm_engine_close(e);
        if (failed_at)
            *failed_at = at;
        return rc;
    }
    *out = e;
    return TM_OK;
}

void tm_engine_close(tm_engine *e)
{
    if (!e)
        return;
    tm_cycle_engines_free(e->workers, e->nworkers);
    tm_journeys_free(e->js);
    tm_gate_free(e->gate);
    tm_sandbox_free(e->sb);
    tm_gen_release(e->gen);
    free(e);
}

int tm_engine_load_generation(tm_store *s, const char *db, const tm_generation *g, tm_gen **out,
                              struct tm_err *err)
{
    tm_store_file *files = NULL;
    size_t n = 0;
    int rc = tm_store_gen_files(s, g->id, &files, &n, err);
    if (rc != TM_OK)
        return rc;
    tm_script *sc = calloc(n ? n : 1, sizeof *sc);
    if (!sc) {
        tm_store_files_free(files, n);
        return tm_err_set(err, TM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        sc[i].path = files[i].path;
        sc[i].text = files[i].text;
        sc[i].len = files[i].len;
    }
    char root[600];
    snprintf(root, sizeof root, "%s@%.12s", db, g->hash);
    rc = tm_gen_from_files(root, sc, n, g->hash, out, err);
    free(sc);
    tm_store_files_free(files, n);
    return rc;
}

/* Audits a refusal to run on the store (when there is one, and its key
 * file is its own): who asked, what and why. Said on stderr when it cannot
 * be audited; the refusal stands either way. */
static void audit_refusal(const tm_cli *cli, const char *why)
{
    struct stat st;
    if (strstr(cli->db, "://") == NULL && stat(cli->db, &st) != 0)
        return; /* no store: nothing to audit in, and none is made */
    const char *me = tm_cli_person();
    tm_store *s = NULL;
    tm_keys *keys = NULL;
    if (!me || tm_cli_open_store(cli, TM_CLI_KEYS_READ, &s, &keys) != TM_EXIT_OK)
        return;
    uint8_t akey[32];
    tm_portfolio_audit_key(keys, akey);
    struct tm_err e = {0};
    json_t *d = json_pack("{s:s, s:s, s:s}", "asked", cli->argv[0], "scripts", cli->scripts,
                          "why", why);
    char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
    int rc = text ? tm_store_begin(s, &e) : tm_err_set(&e, TM_ENOMEM, "out of memory");
    if (rc == TM_OK)
        rc = tm_audit_append(s, akey, (int64_t)time(NULL), me, "scripts.refused", "scripts", text,
                             &e);
    if (rc == TM_OK)
        rc = tm_store_commit(s, &e);
    else if (text)
        tm_store_rollback(s);
    if (rc != TM_OK)
        fprintf(stderr, "tallyman: the refusal could not be audited: %s\n", e.msg);
    OPENSSL_cleanse(akey, sizeof akey);
    free(text);
    json_decref(d);
    tm_store_close(s);
    tm_keys_free(keys);
}

int tm_engine_script_set(const tm_cli *cli, int on_store, tm_gen **out, int *draft)
{
    struct tm_err e = {0};
    *out = NULL;
    if (draft)
        *draft = cli->draft;
    if (cli->draft || !on_store) {
        if (tm_gen_load(cli->scripts, out, &e) != TM_OK) {
            fprintf(stderr, "tallyman: the script set does not load: %s\n", e.msg);
            return TM_EXIT_FAIL;
        }
        return TM_EXIT_OK;
    }
    if (cli->scripts_given) {
        fprintf(stderr,
                "tallyman: --scripts %s names a working tree: on a store what runs is its active "
                "script set (tallyman scripts list); add --draft to run the tree as a draft\n",
                cli->scripts);
        audit_refusal(cli, "a working tree named without --draft");
        return TM_EXIT_USAGE;
    }
    if (!tm_cli_store_exists(cli, "import accounts"))
        return TM_EXIT_FAIL;
    tm_store *s = NULL;
    if (tm_store_open(cli->db, &s, &e) != TM_OK) {
        fprintf(stderr, "tallyman: %s\n", e.msg);
        return TM_EXIT_FAIL;
    }
    tm_generation g;
    int found = 0;
    int rc = tm_store_gen_active(s, &g, &found, &e);
    if (rc == TM_OK && !found) {
        fprintf(stderr,
                "tallyman: %s has no active script set: propose one (tallyman scripts propose), "
                "have it approved (tallyman scripts approve) and activate it (tallyman scripts "
                "activate); or run a working tree as a draft with --scripts DIR --draft\n",
                cli->db);
        tm_store_close(s);
        return TM_EXIT_FAIL;
    }
    if (rc == TM_OK)
        rc = tm_engine_load_generation(s, cli->db, &g, out, &e);
    tm_store_close(s);
    if (rc != TM_OK) {
        fprintf(stderr, "tallyman: the active script set of %s does not load: %s\n", cli->db,
                e.msg);
        return TM_EXIT_FAIL;
    }
    return TM_EXIT_OK;
}

int tm_engine_is_strategy_folder(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    static const char *const tree[] = {"lib", "regulations", "policies", "channels", "strategies"};
    for (size_t i = 0; i < sizeof tree / sizeof *tree; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", dir, tree[i]);
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
    }
    DIR *d = opendir(dir);
    int lua = 0;
    struct dirent *e;
    while (d && !lua && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        lua = e->d_name[0] != '.' && n > 4 && strcmp(e->d_name + n - 4, ".lua") == 0;
    }
    if (d)
        closedir(d);
    return lua;
}

int tm_engine_strategy_set(const tm_cli *cli, const char *dir,
                           void (*report)(void *ud, const char *message), void *ud, tm_gen **out,
                           struct tm_err *err)
{
    tm_gen *base = NULL;
    *out = NULL;
    int rc = tm_gen_load(cli->scripts, &base, err);
    if (rc != TM_OK)
        return rc;
    rc = tm_gen_overlay(base, dir, "strategies", report, ud, out, err);
    tm_gen_release(base);
    return rc;
}
