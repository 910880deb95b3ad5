/*
 * app/engine.c: starting the scripts a command runs (engine.h): the
 * generation, the sandbox, the gate and journeys in it, and the cycle's
 * worker engines.
 */
#include "engine.h"

#include <stdlib.h>

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
        rc = tm_lb_gate_load(e->sb, &e->gate, o->gate_problem, o->ud, optional ? &e->gate_err : err);
        if (rc != TM_OK && optional)
            rc = TM_OK;
        else if (rc != TM_OK)
            at = TM_ENGINE_AT_GATE;
    }
    if (rc == TM_OK && (load & TM_ENGINE_JOURNEYS)) {
        rc = tm_journeys_load(e->sb, &e->js, o->journey_problem, o->ud, err);
        if (rc != TM_OK)
            at = TM_ENGINE_AT_JOURNEYS;
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
