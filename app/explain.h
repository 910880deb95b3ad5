/*
 * app/explain.h: a gate decision explained (`tallyman decide --explain`),
 * as text a compliance officer reads or as JSON: every regulation with
 * whether it applies and why, each rule's verdict, what the message must
 * carry, and the script generation. The reasoning is core/gate.h's
 * (tm_gate_explain); this file only words it.
 */
#ifndef TM_EXPLAIN_H
#define TM_EXPLAIN_H

#include <stdio.h>

#include <jansson.h>

#include "gate.h"

/* Writes the explanation `x` of request `req` by gate `g` as text to `out`:
 * the request in one line, the decision and the generation, then each
 * applicable regulation with why it applies and every rule's verdict, what
 * the message must carry (and which rule asks), and last the regulations
 * that do not apply, each with why. Scripts are named relative to `root`
 * (the script tree the gate was built from; NULL: as the gate has them). */
void tm_explain_text(FILE *out, const tm_gate *g, const char *root, const tm_request *req,
                     const tm_explain *x);

/* The explanation as a JSON object (caller owns the reference): the
 * decision's own members exactly as the decide line gives them, then
 * "generation" and "regulations" (each {id, name, script, applies, why,
 * rules: [{rule, cite, verdict: "allowed"|"blocked"|"not_applicable",
 * reason, next_allowed_at, requires, why, failed}]}). NULL when out of
 * memory. Scripts are named as for tm_explain_text. */
json_t *tm_explain_json(const tm_gate *g, const char *root, const tm_request *req,
                        const tm_explain *x);

#endif
