/*
 * core/gate_log.h: the gate's decision log. Every decision the daily cycle
 * (and `decide --record`) makes is kept with its debt, the instant judged,
 * the generation that judged it, the rules that blocked it and the request
 * fields it was judged on, compactly enough for a portfolio of a million
 * debts: names (rule ids, the generation's hash, zones, cities, creditors,
 * message fields, languages, notices) are kept once in the store and referred to by number,
 * and the request is a binary encoding of varints (below). A past decision
 * can so be decoded into the very tm_request the gate saw and judged again
 * (`decide --replay`), and read back as a debt's story (`why`).
 *
 * The request encoding, version 2: a version byte, then varints (7 bits a
 * byte, low first; signed values zigzagged): the request's small enums and
 * presence bits in one; the state's two letters; city, creditor and the
 * debt's own id (inline, when the log row has no debt); the zones; flags,
 * consents, opt-outs, inconvenient days and ranges; the debt's dates; the
 * message fields (name, value); and each history entry as its enums in one
 * varint (with required_by_law and the purpose plus one) and its age in
 * seconds before the request's time. Then the optional facts: one varint
 * holding debt.owner, dialer and line each plus one (0: not given) and a
 * presence bit for each of the rest, which follow in order: language (a
 * name), debt.default_date, debt.notices (count, then name and date each),
 * consumer.attorney (a varint of present, consented, responded and which
 * of since and asked_at follow), consumer.requests (count, then each as
 * type, form plus one and which of hours and channels follow; its age;
 * from and to; channels) and consumer.consent.more_calls_at (its age).
 * Dates are day numbers, instants ages before the request's time. The
 * instant judged and the channel are the row's own columns; the request's
 * id and warnings are not kept.
 *
 * Version 1 (rows kept before version 2) is version 2 without the optional
 * facts and without the two history fields: they decode as "not given"
 * (tm_gate_request_init), as when a request leaves them out. Decoding
 * checks every read against the end and every count, enum and date against
 * its bound: damaged bytes are TM_EINVAL, never a crash.
 *
 * Each batch of rows is bound into the audit chain: tm_gate_log_seal
 * appends one "gate.decisions" record naming the rows' ids and the SHA-256
 * of their stored bytes (tm_gate_log_digest), so a decision changed later
 * no longer matches its record.
 */
#ifndef TM_GATE_LOG_H
#define TM_GATE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "gate.h"
#include "store.h"
#include "tm_status.h"

#define TM_GATE_LOG_VERSION 2

/* Names to numbers and back, for the encoding. intern: the number of
 * `name` (kept when new); TM_OK or an error. name: the text of number `id`,
 * NULL when unknown. */
typedef int (*tm_gate_intern_fn)(void *ud, const char *name, int64_t *id, struct tm_err *err);
typedef const char *(*tm_gate_name_fn)(void *ud, int64_t id);

/* Encodes (in version TM_GATE_LOG_VERSION) the fields of `req` the gate
 * judges into *out (malloc'd, caller
 * frees; *len bytes). `inline_debt`: the debt's own id goes into the
 * encoding (the row has no debt to name it). TM_OK, TM_ENOMEM, or the
 * intern function's error. */
int tm_gate_log_encode(const tm_request *req, int inline_debt, tm_gate_intern_fn intern, void *ud,
                       uint8_t **out, size_t *len, struct tm_err *err);

/* Decodes `len` bytes (version 1 or 2) into *req (caller frees with
 * tm_gate_request_free); what the encoding does not carry is "not given",
 * as tm_gate_request_init sets it. `now` and `channel` are the row's,
 * `debt_ref` the row's debt's own id (used when the encoding holds none;
 * NULL or "": none). The id is
 * `id_json` (copied; NULL: null). TM_EINVAL (err saying what is wrong: a
 * version this build does not read, bytes cut short, a name or zone not
 * known) leaves nothing in *req to free; TM_ENOMEM. */
int tm_gate_log_decode(const uint8_t *buf, size_t len, int64_t now, int channel,
                       const char *debt_ref, const char *id_json, tm_gate_name_fn name, void *ud,
                       tm_request *req, struct tm_err *err);

/* ---- Writing ------------------------------------------------------------- */
typedef struct tm_gate_log tm_gate_log;

/* A writer on store `s` (borrowed; it must outlive the writer). It keeps
 * the numbers of the names it used, and checks once that a name added in a
 * transaction that was later rolled back is added again. Caller frees with
 * tm_gate_log_close. TM_ENOMEM. */
int tm_gate_log_open(tm_store *s, tm_gate_log **out, struct tm_err *err);
void tm_gate_log_close(tm_gate_log *l);

/* Keeps a decision on `req`: `allow`, the ids of the rules that blocked it
 * comma-separated in `blocked` (NULL or "": none) and its next allowed
 * instant (TM_GATE_NEVER: none), made by the generation whose hash is
 * `gen`, for debt row `debt` (0: looked up by req->debt_id, kept without a
 * debt when the store does not know it). Call inside the caller's
 * transaction. *id (may be NULL) gets the row's id. TM_OK, TM_ESTORE,
 * TM_ENOMEM, TM_EINVAL (a rule id over 127 characters, or more rules than
 * fit 1 KiB of numbers). */
int tm_gate_log_add(tm_gate_log *l, int64_t debt, const tm_request *req, int allow,
                    const char *blocked, int64_t next_allowed, const char *gen, int64_t *id,
                    struct tm_err *err);

/* Appends the "gate.decisions" audit record for the rows added since the
 * last seal (none: nothing), at `at`, by `actor`, with `subject` ("day:
 * 2026-11-23"), through `audit`, in the caller's transaction: {"from": id,
 * "to": id, "count": n, "allowed": n, "blocked": n, "sha256": digest}.
 * The digest is taken as the rows are added, so nothing is read back. Then
 * starts the next batch (also when the record could not be written: the
 * caller rolls the batch back). TM_OK, TM_ECRYPTO, or the audit's error. */
int tm_gate_log_seal(tm_gate_log *l, tm_audit_writer *audit, int64_t at, const char *actor,
                     const char *subject, struct tm_err *err);
/* Forgets the rows added since the last seal (their transaction was
 * rolled back). */
void tm_gate_log_reset(tm_gate_log *l);

/* The SHA-256 (hex) of the stored rows with from <= id <= to, over each
 * row's columns in a fixed form: what tm_gate_log_seal records and
 * `audit verify` checks again. *count gets the number of rows. */
int tm_gate_log_digest(tm_store *s, int64_t from, int64_t to, char hex[65], int64_t *count,
                       struct tm_err *err);

/* ---- Reading ------------------------------------------------------------- */
/* Every name the store keeps, by number, read once. */
typedef struct tm_gate_names tm_gate_names;
int tm_gate_names_load(tm_store *s, tm_gate_names **out, struct tm_err *err);
void tm_gate_names_free(tm_gate_names *n);
/* A tm_gate_name_fn over a loaded set (`ud`). */
const char *tm_gate_names_get(void *ud, int64_t id);

#endif
