/*
 * app/engine.h: the one way a command starts the scripts it runs. An engine
 * is a script generation, a sandbox made from it, what the command asks to
 * load into that sandbox (the gate built from the regulations, the
 * journeys), and for the daily cycle one more sandbox per worker thread with
 * its own gate and journeys, all from the same generation. `run`,
 * `simulate`, `decide` and `test` start theirs here; each still words its
 * own messages, so tm_engine_open says which step failed.
 */
#ifndef TM_ENGINE_H
#define TM_ENGINE_H

#include "cli.h"
#include "cycle.h"
#include "gate.h"
#include "lb_gate.h"
#include "lb_journey.h"
#include "sandbox.h"
#include "scriptset.h"
#include "tm_status.h"

/* What to load: tm_engine_open's `load`, an OR of these. */
enum {
    TM_ENGINE_GATE = 1 << 0,     /* the gate, from regulations/ and policies/ */
    TM_ENGINE_JOURNEYS = 1 << 1, /* the journeys, from strategies/ */
    /* Scripts that fail their check (syntax, encoding) are left out and told
     * to opts->script_problem, instead of failing the load (`test`). */
    TM_ENGINE_LENIENT = 1 << 2,
    /* A gate that cannot be built (out of memory) leaves engine->gate NULL
     * and says why in engine->gate_err instead of failing the open: specs
     * that need no gate still run (`test`). */
    TM_ENGINE_GATE_OPTIONAL = 1 << 3,
    /* The set must load whole: a regulation or a rule that fails to load
     * (told to gate_problem as fatal) or a journey left out (told to
     * journey_problem) fails the open, at the step it was found, after
     * every such problem has been told: what runs on a store is never a
     * set with a part missing (`run`, `decide`, `simulate`). */
    TM_ENGINE_WHOLE = 1 << 4,
};

/* The step tm_engine_open failed at (its *failed_at). */
enum {
    TM_ENGINE_AT_SCRIPTS = 1, /* the script set did not load (`err`: "path:line: message") */
    TM_ENGINE_AT_SANDBOX,     /* the sandbox could not be made (out of memory) */
    TM_ENGINE_AT_GATE,        /* the gate could not be built (out of memory) */
    TM_ENGINE_AT_JOURNEYS,    /* the journeys could not be loaded (out of memory) */
    TM_ENGINE_AT_WORKERS,     /* a worker's engine: `err` is "worker N: ..." */
};

typedef struct tm_engine_opts {
    /* The scripts: a generation already loaded (`gen`: the engine takes its
     * own reference, the caller keeps its), else the script tree at
     * `scripts`; both NULL gives a sandbox without scripts. */
    tm_gen *gen;
    const char *scripts;
    /* Engines for the cycle's worker threads (tm_cycle_opts.engines): 0 for
     * none, else up to 64; they need TM_ENGINE_GATE and TM_ENGINE_JOURNEYS,
     * and a gate that is not optional. Their scripts' problems are not told
     * again. */
    int workers;
    /* Problems found while loading, each told once; any may be NULL. A script
     * left out (TM_ENGINE_LENIENT only) as "path:line: message"; a regulation
     * that failed to load, its rules failing closed (lb_gate.h); a journey
     * left out as "path: message". All get `ud`. */
    void (*script_problem)(void *ud, const char *message);
    tm_gate_report_fn gate_problem;
    void (*journey_problem)(void *ud, const char *message);
    void *ud;
} tm_engine_opts;

typedef struct tm_engine {
    tm_gen *gen;              /* the script set (NULL: none); the engine's reference */
    tm_sandbox *sb;           /* for the caller's thread */
    tm_gate *gate;            /* NULL unless TM_ENGINE_GATE (or optional and not built) */
    tm_journeys *js;          /* NULL unless TM_ENGINE_JOURNEYS */
    tm_cycle_engine *workers; /* opts->workers engines, workers[0] being {sb, gate, js}; or NULL */
    int nworkers;
    struct tm_err gate_err;   /* TM_ENGINE_GATE_OPTIONAL: why `gate` is NULL */
} tm_engine;

/* Starts an engine: loads the scripts, makes the sandbox, loads what `load`
 * asks for in it, in that order, then the worker engines. On TM_OK *out is
 * the engine, which the caller frees with tm_engine_close; every field is
 * owned by it and valid until then. On failure nothing is left, *out is
 * NULL, `err` says why and *failed_at (when not NULL) names the step
 * (TM_ENGINE_AT_*); problems already told to the callbacks stay told.
 * Errors: those of tm_gen_load (TM_ENOENT, TM_EIO, TM_ESYNTAX,
 * TM_EENCODING), TM_ENOMEM, and TM_EINVAL for workers without the gate and
 * the journeys (or with an optional gate). */
int tm_engine_open(const tm_engine_opts *opts, unsigned load, tm_engine **out, int *failed_at,
                   struct tm_err *err);

/* Builds generation `g` of store `s` (named `db` in messages: scripts are
 * "db@hash12/path") from the texts the store keeps, checked against its
 * hash (tm_gen_from_files): a set whose texts changed since they were
 * kept is refused. On TM_OK *out has one reference. Errors: those of
 * tm_store_gen_files and tm_gen_from_files. */
int tm_engine_load_generation(tm_store *s, const char *db, const tm_generation *g, tm_gen **out,
                              struct tm_err *err);

/* The script set a command runs (CONTRACT.md, "Script sets"): with
 * --draft (cli->draft), the working tree cli->scripts, said on stderr to be
 * a draft; else, when `on_store`, the store cli->db's active generation,
 * loaded from the texts kept in the store and checked against its hash
 * (the store must exist and have an active set; --scripts without --draft
 * is refused there, since a working tree is not what was approved); else
 * the working tree as given. On TM_EXIT_OK *out is the set (caller
 * releases) and *draft (may be NULL) says whether it is a draft: the
 * command's own output then says which set ran (its hash) and whether it
 * was a draft. Otherwise the reason is on stderr and *out is NULL: TM_EXIT_FAIL, or
 * TM_EXIT_USAGE for --scripts without --draft on a store. */
int tm_engine_script_set(const tm_cli *cli, int on_store, tm_gen **out, int *draft);

/* Whether `dir` is a strategy folder (a strategy manager's challenger: a
 * directory of journeys and their specs laid out like scripts/strategies/)
 * rather than a script tree: it holds *.lua files and none of a tree's own
 * directories (lib/, regulations/, policies/, channels/, strategies/). */
int tm_engine_is_strategy_folder(const char *dir);

/* The strategy folder `dir` laid over the working tree cli->scripts, the
 * layering `simulate --strategy` uses: the tree with its strategies/
 * replaced by the folder's files (tm_gen_overlay; `report` as there: NULL
 * fails on the first file that does not load). On TM_OK *out has one
 * reference. Errors: those of tm_gen_load and tm_gen_overlay. */
int tm_engine_strategy_set(const tm_cli *cli, const char *dir,
                           void (*report)(void *ud, const char *message), void *ud, tm_gen **out,
                           struct tm_err *err);

/* Frees the workers' engines, the journeys, the gate, the sandbox and the
 * engine's reference to the generation. NULL is a no-op. */
void tm_engine_close(tm_engine *e);

#endif
