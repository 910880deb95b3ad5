/*
 * core/gate_wire.h: the decide wire format (CONTRACT.md, "tallyman decide"):
 * a contact request's JSON line into a tm_request, a decision into its JSON
 * line, and instants as the wire writes them. Judging requests is gate.h's.
 */
#ifndef TM_GATE_WIRE_H
#define TM_GATE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "gate.h"
#include "jw.h"
#include "tm_status.h"

/* Parses one request line (JSON text, `len` bytes). On success fills *req
 * (caller frees with tm_gate_request_free) and returns TM_OK. On failure
 * returns TM_EINVAL with `err` naming the field ("consumer.state: unknown
 * state 'ZZ'"), or TM_ENOMEM, leaves nothing in *req to free, and sets
 * *id_json (caller frees; may be NULL) to the request's id when one could be
 * read. `default_now` is used when the request has no "now". */
int tm_gate_request_parse(const char *json, size_t len, int64_t default_now, tm_request *req,
                          char **id_json, struct tm_err *err);

/* Writes the decision `d` on `req` by gate `g` as one JSON line (CONTRACT.md,
 * without the newline) with `w`, after what its buffer holds. A failed growth
 * is left in the buffer for the caller to check (buf.h). */
void tm_gate_decision_write(const tm_gate *g, const tm_request *req, const tm_decision *d,
                            tm_jw *w);

/* The same line into buf, NUL-terminated. Returns the length, or -1 when
 * `cap` is too small (buf then holds a cut-short text, not to be used). */
int tm_gate_decision_json(const tm_gate *g, const tm_request *req, const tm_decision *d, char *buf,
                          size_t cap);

/* Formats a UTC instant as RFC 3339 ("2026-11-23T14:05:00Z") into buf
 * (>= 21 bytes for years 0000 to 9999; other years are written as snprintf
 * fits them). */
void tm_gate_format_time(int64_t t, char *buf, size_t cap);

#endif
