/*
 * bench/bench_contact.c: what j:best_slot costs. Prints figures; asserts
 * nothing.
 *
 * A contact model fitted on 200,000 synthetic contacts (seven channels, every
 * hour of the week), then best-slot searches over three days and two
 * channels, each candidate moment put to the real compliance gate (the
 * shipped regulations) with a parsed request whose time and channel are
 * changed, as the daily cycle's question does. Slots per second on one core.
 *
 * Usage: bench_contact [SCRIPTS_DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contact_model.h"
#include "gate.h"
#include "gate_wire.h"
#include "lb_gate.h"
#include "sandbox.h"
#include "scriptset.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

typedef struct ask {
    tm_gate *gate;
    tm_request *req;
    long decisions;
} ask;

static int check(void *ud, const char *channel, int64_t at, int64_t *next, char *why, size_t cap)
{
    ask *a = ud;
    a->req->channel = tm_gate_lookup(tm_gate_channel_names, channel);
    a->req->now = at;
    tm_decision d;
    tm_gate_decide(a->gate, a->req, &d);
    a->decisions++;
    int allow = d.allow;
    if (!allow) {
        *next = d.next_allowed == TM_GATE_NEVER ? INT64_MAX : d.next_allowed;
        snprintf(why, cap, "blocked");
    }
    tm_gate_decision_free(&d);
    return allow;
}

int main(int argc, char **argv)
{
    const char *scripts = argc > 1 ? argv[1] : "scripts";
    tm_lb_gate_register();
    struct tm_err e = {0};
    tm_gen *gen;
    if (tm_gen_load(scripts, &gen, &e) != TM_OK) {
        fprintf(stderr, "bench_contact: %s\n", e.msg);
        return 1;
    }
    tm_sandbox *sb = tm_sandbox_new(gen, NULL, &e);
    tm_gate *gate;
    if (sb == NULL || tm_lb_gate_load(sb, &gate, NULL, NULL, &e) != TM_OK) {
        fprintf(stderr, "bench_contact: %s\n", e.msg);
        return 1;
    }
    static const char *const chs[] = {"call", "sms", "email", "letter", "push", "whatsapp", "visit"};
    static const char *const segs[] = {"credit_card", "medical", "personal_loan", "auto_loan"};
    tm_cm_builder *b = tm_cm_builder_new();
    char id[32];
    double t0 = now_s();
    for (int i = 0; i < 200000; i++) {
        int c = i / 10; /* the store gives them debt by debt */
        snprintf(id, sizeof id, "D%05d", c);
        int how = (int)rnd(168);
        tm_cm_builder_add(b, id, c, segs[c % 4], chs[rnd(7)], how, (int)rnd(100) < 5 + how % 24, rnd(100) < 3,
                          NULL);
    }
    char *json = NULL;
    tm_cm_report rep;
    tm_contact_model *m = NULL;
    if (tm_cm_fit(b, "contact", "2026-11-20", 7, &json, &rep, &e) != TM_OK ||
        tm_cm_parse(json, strlen(json), &m, &e) != TM_OK) {
        fprintf(stderr, "bench_contact: %s\n", e.msg);
        return 1;
    }
    printf("contact model: fitted from %zu contacts of %zu consumers in %.2f s (%zu bytes of JSON)\n",
           rep.contacts, rep.consumers, now_s() - t0, strlen(json));
    const char *line =
        "{\"id\":\"b\",\"now\":\"2026-11-23T13:00:00Z\",\"channel\":\"call\",\"collector\":"
        "\"third_party\",\"consumer\":{\"state\":\"TX\",\"timezones\":[\"America/Chicago\"],"
        "\"consent\":{\"sms\":true,\"email\":true,\"autodial\":true}},\"debt\":{\"id\":\"D00001\","
        "\"type\":\"credit_card\"},\"history\":[{\"channel\":\"call\",\"at\":\"2026-11-20T16:00:00Z\","
        "\"outcome\":\"not_connected\"},{\"channel\":\"sms\",\"at\":\"2026-11-21T16:00:00Z\","
        "\"outcome\":\"delivered\"}]}";
    tm_request req;
    char *rid = NULL;
    if (tm_gate_request_parse(line, strlen(line), 1795438800LL, &req, &rid, &e) != TM_OK) {
        fprintf(stderr, "bench_contact: %s\n", e.msg);
        return 1;
    }
    free(rid);
    ask a = {gate, &req, 0};
    int pick[2] = {tm_cm_channel("call"), tm_cm_channel("sms")};
    long slots = 0, found = 0, n = getenv("TM_BENCH_SLOTS") ? atol(getenv("TM_BENCH_SLOTS")) : 20000;
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        snprintf(id, sizeof id, "D%05ld", i % 20000);
        int64_t from = 1795438800LL + (int64_t)rnd(86400);
        tm_cm_slot s;
        char why[200];
        found += tm_cm_best_slot(m, id, segs[i % 4], "America/Chicago", pick, 2, from,
                                 from + 3 * 86400, TM_CM_RPC, check, &a, &s, why, sizeof why) == TM_OK;
        slots++;
    }
    double dt = now_s() - t0;
    printf("best slot (2 channels, 3 days, every moment asked of the gate): %.0f slots/s on one "
           "core (%.1f gate decisions each, %.0f%% found)\n",
           slots / dt, (double)a.decisions / (double)slots, 100.0 * (double)found / (double)slots);
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        snprintf(id, sizeof id, "D%05ld", i % 20000);
        int64_t from = 1795438800LL + (int64_t)rnd(86400);
        tm_cm_slot s;
        tm_cm_best_slot(m, id, segs[i % 4], "America/Chicago", pick, 2, from, from + 3 * 86400,
                        TM_CM_RPC, NULL, NULL, &s, NULL, 0);
    }
    dt = now_s() - t0;
    printf("best slot, the model alone (no gate): %.0f slots/s on one core\n", (double)n / dt);
    tm_gate_request_free(&req);
    free(json);
    tm_cm_free(m);
    tm_cm_builder_free(b);
    tm_gate_free(gate);
    tm_sandbox_free(sb);
    tm_gen_release(gen);
    return 0;
}
