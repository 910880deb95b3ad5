/*
 * tests/fuzz/fuzz_decide.c: libFuzzer over what POST /v1/decide does with a
 * body (tm_serve_decide_body: the JSON scanner, the request reader, the
 * gate, the decision writer, the array splitting and the item errors), on
 * the shipped regulations, at a fixed time. Any input must give a status
 * with a body or an error, never a crash, a leak or undefined behaviour.
 * `make fuzz` builds and runs it for FUZZ_SECONDS (not part of `make test`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "lb_channel.h"
#include "lb_gate.h"
#include "lb_pay.h"
#include "lb_score.h"
#include "lb_util.h"
#include "serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tm_engine *eng;

static int record_nothing(void *ud, const tm_request *req, const tm_decision *d)
{
    (void)ud;
    (void)req;
    (void)d;
    return TM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!eng) {
        tm_lb_gate_register();
        tm_lb_pay_register();
        tm_lb_score_register();
        tm_lb_channel_register();
        tm_lb_util_register();
        const char *scripts = getenv("TM_FUZZ_SCRIPTS");
        tm_engine_opts o = {.scripts = scripts ? scripts : "scripts"};
        struct tm_err e = {0};
        if (tm_engine_open(&o, TM_ENGINE_GATE, &eng, NULL, &e) != TM_OK) {
            fprintf(stderr, "fuzz_decide: %s\n", e.msg);
            abort();
        }
    }
    tm_serve_reply out;
    /* 2026-11-23T15:00:00Z: the fuzzer never reads the clock. */
    int st = tm_serve_decide_body(eng->gate, (const char *)data, size, 1795446000, NULL,
                                  record_nothing, NULL, &out);
    if (st == 200 && (!out.body || out.len == 0))
        abort();
    if (st != 200 && (!out.code || !out.message[0]))
        abort();
    free(out.body);
    return 0;
}
