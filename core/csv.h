/*
 * core/csv.h: a streaming RFC 4180 reader for portfolio files.
 *
 * Reads a FILE* record by record through a fixed read buffer, so a file of any size is read
 * in constant memory (one record at a time, at most TM_CSV_MAX_RECORD bytes of it). Fields
 * come back unquoted and NUL-terminated. A malformed record is reported with its line number
 * and skipped; the reader then carries on with the next record, so one bad row does not cost
 * the rest of the file. Depends on core/text (UTF-8 validation).
 */
#ifndef TM_CSV_H
#define TM_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "tm_status.h"

/* Limits. A record that breaks one is reported and skipped; the file carries on. */
#define TM_CSV_MAX_FIELD (64 * 1024)    /* bytes in one field, after unquoting */
#define TM_CSV_MAX_FIELDS 1024          /* fields in one record */
#define TM_CSV_MAX_RECORD (1024 * 1024) /* bytes of field data in one record */

/* Bytes read from the FILE at a time. Public only so tests can put tokens across a refill. */
#define TM_CSV_READ_BUFFER (256 * 1024)

typedef struct tm_csv tm_csv;

/* The grammar, in one place:
 * - Fields are separated by ',' and records end at LF, CRLF or a lone CR (outside quotes).
 *   A final record without a line end is a record all the same.
 * - A UTF-8 byte order mark at the very start of the file is skipped. A UTF-16 one makes the
 *   first tm_csv_next() fail with TM_EENCODING, since nothing in such a file would parse.
 * - A field that starts with '"' is quoted: it runs to the next '"' not doubled, and may hold
 *   ',', '""' (one quote) and line breaks, which are kept as they are (CRLF stays CRLF).
 *   Only ',' or a line end may follow the closing quote: `"a" ,b` and `"a"x` are errors.
 *   A '"' inside an unquoted field is an error too, so `a "b"` is refused, not guessed at.
 * - Empty lines (no bytes at all between two line ends) are skipped: a blank line in a
 *   portfolio is never a row. A line holding only `""` or `,` is a record.
 * - Every field must be valid UTF-8 without NUL bytes.
 * - Physical lines are counted the same way: LF, CRLF and a lone CR each end one line, inside
 *   quotes too, so line numbers match what an editor shows. */

/* Starts reading `f` at its current position. The caller keeps ownership of `f`: it must stay
 * open while the reader is used and is closed by the caller after tm_csv_close().
 * Returns a reader to free with tm_csv_close(), or NULL with `err` (may be NULL) set:
 * TM_EINVAL when `f` is NULL, TM_ENOMEM when out of memory. */
tm_csv *tm_csv_open(FILE *f, struct tm_err *err);

/* Reads the next record. Returns:
 *   1  a record: tm_csv_nfields()/tm_csv_field() give its fields, tm_csv_line() its line.
 *   0  end of file (and on every later call).
 *   TM_ESYNTAX     a malformed record: a quote inside an unquoted field, text after a closing
 *                  quote, a quoted field still open at end of file ("line N: unterminated
 *                  quoted field ..." where N is the line of the opening quote).
 *   TM_EENCODING   a field with invalid UTF-8 or a NUL byte.
 *   TM_EINVAL      a field, record or field count over the limits above.
 *                  After these three, `err` (may be NULL) says why as "line N: ..." with the
 *                  physical line of the problem, tm_csv_nfields() is 0, tm_csv_line() is
 *                  the line where the bad record started, tm_csv_err_field() names the field
 *                  when there is one, and the caller may call again: the reader has already
 *                  skipped to the end of the bad record (following the quoting rules, so a
 *                  quoted field with line breaks further on is not taken for new rows).
 *   TM_EIO, TM_ENOMEM  a read error or out of memory. Fatal: every later call returns the
 *                  same code and message.
 *   TM_EINVAL      also for a NULL reader.
 * Messages never quote field contents: portfolio fields are personal data. */
int tm_csv_next(tm_csv *c, struct tm_err *err);

/* Number of fields of the current record: >= 1 after tm_csv_next() returned 1, else 0.
 * 0 for NULL. */
int tm_csv_nfields(const tm_csv *c);

/* Field i (0-based) of the current record: a NUL-terminated string holding no other NUL,
 * with its length in *len (len may be NULL). Borrowed: valid until the next tm_csv_next() or
 * tm_csv_close(). NULL (and *len = 0) when i is out of range or c is NULL. */
const char *tm_csv_field(const tm_csv *c, int i, size_t *len);

/* Index of the first field of the current record equal to `name` (byte for byte), or -1.
 * For header rows: map column names to indexes once, then read rows by index. */
int tm_csv_field_index(const tm_csv *c, const char *name);

/* Physical line (1-based) where the current or last bad record started; 0 before the first
 * record and for NULL. Line breaks inside quoted fields count, so a record after a field
 * with two line breaks starts two lines later than its predecessor would suggest. */
long tm_csv_line(const tm_csv *c);

/* After tm_csv_next() failed on a bad record: the 0-based index of the field at fault, or -1
 * when no single field is (too many fields, NULL reader). -1 after a good record. */
int tm_csv_err_field(const tm_csv *c);

/* After tm_csv_next() failed: the reason alone, without the "line N: field K: " prefix of the
 * message ("NUL byte"), so an importer can write the contract's "FILE:LINE: column: reason"
 * from tm_csv_line(), tm_csv_err_field() and this. After a fatal error, the whole message.
 * "" after a good record; "" for NULL. Borrowed until the next tm_csv_next(). */
const char *tm_csv_err_reason(const tm_csv *c);

/* Frees the reader (NULL is fine). Does not close the FILE. */
void tm_csv_close(tm_csv *c);

#endif
