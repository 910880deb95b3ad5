/*
 * tests/sandbox/test_gate_diff.c: the gate's fast path against its plain
 * reading. The whole shipped library judges 100,000 generated requests
 * (tests/gate_gen.h: every channel, state, flag, boundary) twice: once with
 * the index and the per-decision cache of local times, once in reference
 * mode (tm_gate_set_reference: every rule of every regulation visited,
 * every local time converted afresh). Every decision must be the same to
 * the byte (its decide line) and in what the line does not show (failed
 * rules, why the debt is time-barred, the margin rule); a sample is also
 * explained both ways. `make bench` runs the same comparison on 1,000,000.
 */
#include "harness.h"

#include <sys/stat.h>

#include "gate.h"
#include "gate_gen.h"
#include "gate_wire.h"
#include "lb_gate.h"
#include "sandbox.h"
#include "scriptset.h"

typedef struct lib {
    tm_gen *gen;
    tm_sandbox *sb;
    tm_gate *gate;
} lib;

static void lib_open(lib *l)
{
    struct tm_err e = {0};
    tm_lb_gate_register();
    if (tm_gen_load("scripts", &l->gen, &e) != TM_OK)
        TM_FAIL_("loading scripts: %s", e.msg);
    l->sb = tm_sandbox_new(l->gen, NULL, &e);
    if (!l->sb)
        TM_FAIL_("tm_sandbox_new: %s", e.msg);
    if (tm_lb_gate_load(l->sb, &l->gate, NULL, NULL, &e) != TM_OK)
        TM_FAIL_("loading the gate: %s", e.msg);
    tm_gate_set_scripts_hash(l->gate, "0123abcd");
}

static void lib_close(lib *l)
{
    tm_gate_free(l->gate);
    tm_sandbox_free(l->sb);
    tm_gen_release(l->gen);
}

/* Judges `req` one way; the decide line into buf. */
static void judge(tm_gate *g, int reference, tm_request *req, tm_decision *d, char *buf, size_t cap)
{
    tm_gate_set_reference(g, reference);
    ASSERT_OK(tm_gate_decide(g, req, d));
    if (tm_gate_decision_json(g, req, d, buf, cap) < 0)
        TM_FAIL_("decision %s does not fit %zu bytes", req->id_json, cap);
}

/* The explanation as comparable text: every regulation's and rule's verdict and words. */
static void explain_text(tm_gate *g, int reference, tm_request *req, char *buf, size_t cap)
{
    tm_explain x;
    tm_gate_set_reference(g, reference);
    ASSERT_OK(tm_gate_explain(g, req, &x));
    size_t n = (size_t)tm_gate_decision_json(g, req, &x.d, buf, cap);
    for (int i = 0; i < x.nregs && n < cap; i++) {
        const tm_reg_explain *re = &x.regs[i];
        n += (size_t)snprintf(buf + n, cap - n, "\n%s %d %s", re->reg->id, re->applies, re->why);
        for (int k = 0; k < re->nrules && n < cap; k++) {
            const tm_rule_explain *e = &re->rules[k];
            n += (size_t)snprintf(buf + n, cap - n, "\n  %s %d %s|%d %lld %s|%d %d", e->rule->qid,
                                  e->verdict, e->why, e->res.blocked, (long long)e->res.next,
                                  e->res.reason, e->res.nrequires, e->res.nassumed);
        }
    }
    tm_gate_explain_free(&x);
}

/* Compares `n` requests from `seed`; returns how many allowed (so a caller can
 * see the mix was not all one answer). */
static long compare(lib *l, uint64_t seed, long n)
{
    tm_ggen gen;
    tm_ggen_init(&gen, l->gate, seed);
    static char a[16384], b[16384];
    long allowed = 0;
    for (long i = 0; i < n; i++) {
        tm_request req;
        tm_ggen_request(&gen, &req, i);
        tm_decision ref, fast;
        judge(l->gate, 1, &req, &ref, a, sizeof a);
        judge(l->gate, 0, &req, &fast, b, sizeof b);
        if (strcmp(a, b) != 0)
            TM_FAIL_("request %ld (seed %llu) decided differently:\nreference: %s\nindexed:   %s", i,
                     (unsigned long long)seed, a, b);
        ASSERT_EQ(ref.error, fast.error);
        ASSERT_EQ(ref.barred_by, fast.barred_by);
        ASSERT(ref.margin == fast.margin);
        ASSERT_EQ(ref.nblocked, fast.nblocked);
        for (int k = 0; k < ref.nblocked; k++) {
            ASSERT(ref.blocked[k].rule == fast.blocked[k].rule);
            ASSERT_EQ(ref.blocked[k].failed, fast.blocked[k].failed);
        }
        allowed += ref.allow;
        tm_gate_decision_free(&ref);
        tm_gate_decision_free(&fast);
        if (i % 97 == 0) {
            explain_text(l->gate, 1, &req, a, sizeof a);
            explain_text(l->gate, 0, &req, b, sizeof b);
            if (strcmp(a, b) != 0)
                TM_FAIL_("request %ld (seed %llu) explained differently:\nreference: %s\nindexed:   %s",
                         i, (unsigned long long)seed, a, b);
        }
        tm_gate_request_free(&req);
    }
    return allowed;
}

/* Four runs of 25,000 (each within the harness's time limit on a busy machine). */
#define RUN 25000

TEST(indexed_gate_decides_as_the_reference_1)
{
    lib l;
    lib_open(&l);
    long allowed = compare(&l, 1, RUN);
    /* The generator gives both answers in earnest. */
    ASSERT(allowed > RUN / 20 && allowed < RUN - RUN / 20);
    lib_close(&l);
}

TEST(indexed_gate_decides_as_the_reference_2)
{
    lib l;
    lib_open(&l);
    compare(&l, 2, RUN);
    lib_close(&l);
}

TEST(indexed_gate_decides_as_the_reference_3)
{
    lib l;
    lib_open(&l);
    compare(&l, 3, RUN);
    lib_close(&l);
}

TEST(indexed_gate_decides_as_the_reference_4)
{
    lib l;
    lib_open(&l);
    compare(&l, 4, RUN);
    lib_close(&l);
}

/* The index is dropped when a regulation is added after decisions were
 * made: a request from the same state then meets the new rule. */
TEST(index_follows_a_regulation_added_later)
{
    lib l;
    lib_open(&l);
    tm_ggen gen;
    tm_ggen_init(&gen, l.gate, 9);
    tm_request req;
    tm_ggen_request(&gen, &req, 0);
    memcpy(req.state, "KS", 3);
    req.channel = TM_CH_LETTER;
    tm_decision d;
    ASSERT_OK(tm_gate_decide(l.gate, &req, &d));
    int before = d.nblocked;
    tm_gate_decision_free(&d);
    tm_regulation ks = {0};
    snprintf(ks.id, sizeof ks.id, "US-KS-TEST");
    memcpy(ks.states[0], "KS", 3);
    ks.nstates = 1;
    ks.rules = calloc(1, sizeof *ks.rules);
    tm_rule *r = &ks.rules[ks.nrules++];
    snprintf(r->qid, sizeof r->qid, "US-KS-TEST/letters");
    r->cite = strdup("Test 1");
    r->kind = TM_RULE_BLOCK;
    r->channels = 1u << TM_CH_LETTER;
    r->effective_day = INT64_MIN;
    r->expires_day = INT64_MAX;
    r->of_direction = -1;
    struct tm_err e = {0};
    ASSERT_OK(tm_gate_add(l.gate, &ks, &e));
    ASSERT_OK(tm_gate_decide(l.gate, &req, &d));
    ASSERT_EQ(d.nblocked, before + 1);
    ASSERT_STR_EQ(d.blocked[d.nblocked - 1].rule->qid, "US-KS-TEST/letters");
    tm_gate_decision_free(&d);
    tm_gate_request_free(&req);
    lib_close(&l);
}

/* ---------------------------------------------------------------------------
 * `requests = true` (the consumer's own requests about contact, evaluated
 * in C) against the Lua check function the federal regulation used before
 * it: the same decisions, reasons and next times on generated requests.
 */
static const char lua_check_rule[] =
    "local function consumer_requests(c)\n"
    "    local lt = c.local_times\n"
    "    for _, q in ipairs(c.requests) do\n"
    "        if q.at <= c.now then\n"
    "            if q.type == \"no_work_contact\" and c.place == \"work\" then\n"
    "                return block(\"the consumer asked not to be contacted at work (an inconvenient place)\")\n"
    "            elseif q.type == \"no_calls_at\" and c.channel == \"call\" then\n"
    "                for _, t in ipairs(lt) do\n"
    "                    local s = t.hour * 3600 + t.min * 60 + t.sec\n"
    "                    local inside = (q.from <= q.to) and (s >= q.from and s < q.to) or\n"
    "                                   (q.from > q.to and (s >= q.from or s < q.to))\n"
    "                    if inside then\n"
    "                        return block(\"the consumer asked not to be called at this time of day\")\n"
    "                    end\n"
    "                end\n"
    "            elseif q.type == \"contact_only_by\" and not q.channels[c.channel] then\n"
    "                return block(\"the consumer asked to be contacted only by other media\")\n"
    "            end\n"
    "        end\n"
    "    end\n"
    "    return nil\n"
    "end\n"
    "return regulation { id = \"US-T\", rules = {\n"
    "    { id = \"window\", cite = \"T 1\", window = { from = \"08:00\", to = \"21:00\" } },\n"
    "    { id = \"consumer-requests\", cite = \"T 2\", purposes = { \"collection\" },\n"
    "      EFFECT },\n"
    "} }\n";

/* A one-regulation script tree in a fresh directory, `effect` in place of EFFECT. */
static void make_tree(char *dir, const char *effect)
{
    if (!mkdtemp(dir))
        TM_FAIL_("mkdtemp");
    char path[256];
    snprintf(path, sizeof path, "%s/regulations", dir);
    ASSERT(mkdir(path, 0700) == 0);
    snprintf(path, sizeof path, "%s/regulations/t.lua", dir);
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    const char *at = strstr(lua_check_rule, "EFFECT");
    if (strcmp(effect, "requests = true") == 0)
        fwrite(strstr(lua_check_rule, "return regulation"), 1,
               (size_t)(at - strstr(lua_check_rule, "return regulation")), f);
    else
        fwrite(lua_check_rule, 1, (size_t)(at - lua_check_rule), f);
    fputs(effect, f);
    fputs(at + 6, f);
    fclose(f);
}

static void open_tree(lib *l, const char *dir)
{
    struct tm_err e = {0};
    tm_lb_gate_register();
    if (tm_gen_load(dir, &l->gen, &e) != TM_OK)
        TM_FAIL_("loading %s: %s", dir, e.msg);
    l->sb = tm_sandbox_new(l->gen, NULL, &e);
    ASSERT(l->sb != NULL);
    if (tm_lb_gate_load(l->sb, &l->gate, NULL, NULL, &e) != TM_OK)
        TM_FAIL_("loading the gate: %s", e.msg);
    tm_gate_set_scripts_hash(l->gate, "0123abcd");
}

TEST(requests_effect_decides_as_the_lua_check_it_replaces)
{
    char da[] = "/tmp/tm-gate-diff-a-XXXXXX", db[] = "/tmp/tm-gate-diff-b-XXXXXX";
    make_tree(da, "check = consumer_requests");
    make_tree(db, "requests = true");
    lib a, b;
    open_tree(&a, da);
    open_tree(&b, db);
    ASSERT_EQ(tm_gate_regulation(a.gate, 0)->rules[1].kind, TM_RULE_CHECK);
    ASSERT_EQ(tm_gate_regulation(b.gate, 0)->rules[1].kind, TM_RULE_REQUESTS);
    tm_ggen gen;
    tm_ggen_init(&gen, a.gate, 77);
    static char ja[16384], jb[16384];
    long blocked_by_requests = 0;
    for (long i = 0; i < 50000; i++) {
        tm_request req;
        tm_ggen_request(&gen, &req, i);
        /* Most generated requests give no consumer.requests: three in four
         * here do, so each kind of request comes up thousands of times. */
        while (req.nrequests == 0 && i % 4) {
            tm_gate_request_free(&req);
            tm_ggen_request(&gen, &req, i);
        }
        tm_decision x, y;
        ASSERT_OK(tm_gate_decide(a.gate, &req, &x));
        ASSERT_OK(tm_gate_decide(b.gate, &req, &y));
        ASSERT(tm_gate_decision_json(a.gate, &req, &x, ja, sizeof ja) >= 0);
        ASSERT(tm_gate_decision_json(b.gate, &req, &y, jb, sizeof jb) >= 0);
        if (strcmp(ja, jb) != 0)
            TM_FAIL_("request %ld decided differently:\nlua check: %s\nrequests:  %s", i, ja, jb);
        ASSERT_EQ(x.error, 0);
        for (int k = 0; k < y.nblocked; k++)
            blocked_by_requests += y.blocked[k].rule->kind == TM_RULE_REQUESTS;
        tm_gate_decision_free(&x);
        tm_gate_decision_free(&y);
        tm_gate_request_free(&req);
    }
    ASSERT(blocked_by_requests > 1000); /* the comparison was not of allowed contacts only */
    lib_close(&a);
    lib_close(&b);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", da, db);
    ASSERT(system(cmd) == 0);
}
