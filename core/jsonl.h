/*
 * core/jsonl.h: reading JSON lines (one JSON value per line) from a stream:
 * the one reader behind every command that takes them (import, event,
 * decide, pay), so each counts lines, skips blank ones, accepts CRLF and
 * names a line too long or a file that cannot be read the same way.
 *
 * The reader only splits lines; what a line holds is the caller's to parse.
 * It reads byte by byte through stdio, so it answers each line as soon as it
 * arrives (decide over a pipe) and the stream's position stays exact (import
 * progress). Lines are byte strings: a NUL inside one does not cut it short.
 */
#ifndef TM_JSONL_H
#define TM_JSONL_H

#include <stddef.h>
#include <stdio.h>

#include "tm_status.h"

typedef struct tm_jsonl tm_jsonl;

/* The longest line read (its end not counted): 1 MiB, far above any record
 * or request, and a bound on what one line can make the reader hold. */
#define TM_JSONL_LINE_MAX ((size_t)1 << 20)

/* Opens a reader on `in` (borrowed: the caller closes it, after
 * tm_jsonl_close) named `name` in messages (borrowed: it must outlive the
 * reader; "-" or "standard input" for stdin, as the caller shows it).
 * max_line 0 means TM_JSONL_LINE_MAX. TM_OK with *out; TM_ENOMEM (*out NULL). */
int tm_jsonl_open(FILE *in, const char *name, size_t max_line, tm_jsonl **out,
                  struct tm_err *err);

/* The next line that is not blank. Returns:
 *   1          a line: *line is its text without its end ("\n" and any CRs
 *              before it, so CRLF is accepted), NUL-terminated and writable
 *              (the caller may wipe it), owned by the reader and valid until
 *              the next call; *len its length in bytes (a NUL inside counts);
 *              *lineno its number, from 1, blank lines counted. A last line
 *              without "\n" is a line like any other.
 *   0          the end of the input (*line NULL).
 *   TM_EINVAL  line *lineno is longer than max_line bytes: it has been read
 *              to its end and dropped (its bytes wiped), *line is NULL, and
 *              err says "NAME:LINE: line too long (more than N bytes)". The
 *              next call reads on.
 *   TM_EIO     the input cannot be read (a directory, an I/O error): err says
 *              "NAME: cannot read: REASON"; a line read in part is dropped,
 *              and later calls return 0. A file that cannot be read is never
 *              taken for an empty one.
 *   TM_ENOMEM  out of memory: "NAME:LINE: out of memory"; later calls
 *              return 0.
 * A blank line holds nothing but spaces, tabs and CRs. */
int tm_jsonl_next(tm_jsonl *r, char **line, size_t *len, long *lineno, struct tm_err *err);

/* What the last TM_EINVAL, TM_EIO or TM_ENOMEM was, without its place
 * ("line too long (more than 1048576 bytes)"), for a caller that names the
 * place its own way; "" before any. Borrowed: valid until the next call. */
const char *tm_jsonl_reason(const tm_jsonl *r);

/* The number of the last line read, blank ones counted; 0 before the first. */
long tm_jsonl_lineno(const tm_jsonl *r);

/* Wipes the line buffer (a line may have held personal data or a card
 * number) and frees the reader; NULL is allowed. The stream stays open. */
void tm_jsonl_close(tm_jsonl *r);

#endif
