/*
 * core/jw.h: the JSON writer. Every JSON text tallyman writes itself (decide
 * lines, audit records and their export, personal-data and attribute
 * records, event, cycle, lease and deploy details, standing offers and
 * message payloads, simulated events, script results) is written with it,
 * into a tm_buf (buf.h). jansson is for reading JSON, and for the texts that
 * are built as jansson trees and dumped by it (a model file, a rendered
 * message, a webhook's body, the audit details of queue items, payments,
 * parked debts, held sends and archived journeys):
 * their bytes are jansson's (sorted keys where asked, its own escapes), and
 * stored records and hashes depend on them, so they stay with it.
 *
 * The writer places the commas: a member name or a value written after a
 * complete value at the same level is preceded by one. It does not check the
 * nesting (a name outside an object is the caller's bug) and writes no white
 * space. Nothing here fails by itself: a failed growth of the buffer is
 * recorded there (sticky), and the caller checks tm_buf_failed() or
 * tm_buf_done() once the text is complete.
 *
 * Strings are written as the JSON texts of this program always were: '"' and
 * '\' escaped, a byte below 0x20 as \u00XX (lower-case hex), every other
 * byte as it is, so UTF-8 passes through and invalid UTF-8 is not the
 * writer's to judge (a caller that must refuse it checks first, as
 * sandbox/lb_json.c does). Flags add the readable escapes script results use.
 */
#ifndef TM_JW_H
#define TM_JW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Escaping flags (tm_jw_init, tm_jw_escape). */
enum {
    TM_JW_SHORT_ESCAPES = 1, /* \n \r \t \b \f as two characters instead of \u00XX */
    TM_JW_ESCAPE_DEL = 2     /* 0x7f as \u007f too */
};

typedef struct tm_jw {
    tm_buf *b;
    unsigned flags;
    int comma; /* a complete value stands before: the next name or value needs a comma */
} tm_jw;

/* Starts writing JSON at the end of `b` with escaping `flags` (0 or
 * TM_JW_* ORed). The writer borrows b. */
void tm_jw_init(tm_jw *w, tm_buf *b, unsigned flags);

/* '{' and '}', '[' and ']'. */
void tm_jw_obj(tm_jw *w);
void tm_jw_obj_end(tm_jw *w);
void tm_jw_arr(tm_jw *w);
void tm_jw_arr_end(tm_jw *w);

/* A member name (escaped like a string) and its ':'; the value follows.
 * tm_jw_keyn: the `n` bytes at `name` (NULs included, as \u0000). */
void tm_jw_key(tm_jw *w, const char *name);
void tm_jw_keyn(tm_jw *w, const char *name, size_t n);

/* A string value: the NUL-terminated `s`, or the `n` bytes at `s` (NULs
 * included, as \u0000). tm_jw_str with NULL writes null. */
void tm_jw_str(tm_jw *w, const char *s);
void tm_jw_strn(tm_jw *w, const char *s, size_t n);

/* An integer, in decimal. */
void tm_jw_int(tm_jw *w, int64_t v);

/* A number that may have a fraction: the shorter of %.14g (what Lua prints)
 * and %.17g that reads back as exactly `d`, with ".0" added when it would
 * otherwise read as an integer. JSON has no NaN or infinity: for those the
 * caller must refuse the value first (null is written). */
void tm_jw_real(tm_jw *w, double d);

/* true or false (v nonzero or zero), and null. */
void tm_jw_bool(tm_jw *w, int v);
void tm_jw_null(tm_jw *w);

/* A value that is JSON text already (an id echoed as it was read, a record
 * kept as JSON), written as it is: the NUL-terminated `json`, or `n` bytes. */
void tm_jw_raw(tm_jw *w, const char *json);
void tm_jw_rawn(tm_jw *w, const char *json, size_t n);

/* An amount of `minor` units as a string in major units with `exp` (0..18)
 * decimals, as JSON lines carry money: "1533.52", "-0.05", "1000" (exp 0).
 * No separators, no currency. */
void tm_jw_money(tm_jw *w, int64_t minor, int exp);

/* The same text as tm_jw_money writes, unquoted, into buf (cap bytes,
 * NUL-terminated; 22 bytes always suffice). Returns its length, or -1 when it
 * does not fit or exp is outside 0..18 (buf then holds ""; cap > 0). */
int tm_jw_money_text(char *buf, size_t cap, int64_t minor, int exp);

/* Appends the `n` bytes at `s` to `b` as a quoted JSON string escaped with
 * `flags`, outside any writer (no comma). */
void tm_jw_escape(tm_buf *b, const char *s, size_t n, unsigned flags);

#endif
